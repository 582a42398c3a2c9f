#!/bin/sh
# Second stage in the guest, PID 1 on the overlay root: set up the few
# writable mounts, run the job that the host wrote (harness_job=), then power
# off.  The host reads results from the second serial port (/dev/ttyS1).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-linux} LANG=C.UTF-8
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm 2>/dev/null || { mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm; }
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t debugfs debugfs /sys/kernel/debug
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
hostname tpmrm-guest
stty -F /dev/ttyS1 raw -echo 2>/dev/null
echo 1 > /proc/sys/kernel/printk_ratelimit 2>/dev/null
cd "${harness_dir:?}"
/bin/sh "${harness_job:?}"
echo "harness: job exited with $?"
sync
exec busybox poweroff -f
