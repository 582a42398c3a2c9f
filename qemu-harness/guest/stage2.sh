#!/bin/sh
# Second stage in the guest, PID 1 on the overlay root: set up the few
# writable mounts, mount the host folders the job needs at their own paths
# (the host lists them in /.harness/mounts), run the job that the host wrote
# (/.harness/job.sh), then power off.  Progress marks go to the results port
# (/dev/ttyS1) as "### HARNESS ..." lines: stage2, nostart REASON, exit RC.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-linux} LANG=C.UTF-8
h=/.harness
stty -F /dev/ttyS1 raw -echo 2>/dev/null
echo "### HARNESS stage2" > /dev/ttyS1

nostart() {
	echo "harness: the job could not start: $*"
	echo "### HARNESS nostart $*" > /dev/ttyS1
	sync
	exec busybox poweroff -f
}

mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm 2>/dev/null || { mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm; }
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t debugfs debugfs /sys/kernel/debug
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
hostname tpmrm-guest
echo 1 > /proc/sys/kernel/printk_ratelimit 2>/dev/null

# Each shared folder: read-only 9p below, a tmpfs overlay on top, as for /.
n=0
while IFS='	' read -r kind a b; do
	case "$kind" in
	share)
		n=$((n + 1))
		mkdir -p "/run/harness/$n/lower" "/run/harness/$n/upper" \
			"/run/harness/$n/work" "$b" ||
			nostart "cannot create the mount point $b"
		mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro \
			"$a" "/run/harness/$n/lower" || nostart "cannot mount the host's $b"
		mount -t overlay overlay -o "lowerdir=/run/harness/$n/lower,upperdir=/run/harness/$n/upper,workdir=/run/harness/$n/work" "$b" ||
			nostart "cannot mount an overlay on $b"
		;;
	link)
		[ -e "$b" ] && continue
		mkdir -p "${b%/*}" && ln -s "$a" "$b" || nostart "cannot link $b to $a"
		;;
	esac
done < "$h/mounts"

# The tests run some steps as unprivileged users (alice, bob): let them
# reach the shared folders when an ancestor is private (/root is 0700).
# This changes the guest's overlay only.
while IFS='	' read -r kind a b; do
	d=$b
	while [ -n "$d" ] && [ "$d" != / ]; do
		chmod o+x "$d" 2>/dev/null
		d=${d%/*}
	done
done < "$h/mounts"

cwd=$(cat "$h/cwd")
cd "$cwd" 2>/dev/null || nostart "cannot cd to $cwd"
[ -r "$h/job.sh" ] || nostart "no job at $h/job.sh"
echo "### HARNESS start" > /dev/ttyS1
/bin/sh "$h/job.sh"
rc=$?
echo "harness: job exited with $rc"
echo "### HARNESS exit $rc" > /dev/ttyS1
if [ -e "$h/interactive" ]; then
	echo 'harness: guest shell; exit or Ctrl-D powers off'
	setsid -c /bin/bash -l </dev/ttyS0 >/dev/ttyS0 2>&1
fi
sync
exec busybox poweroff -f
