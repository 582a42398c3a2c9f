# The end of the test job, run by a busybox copied to tmpfs (check.sh):
# the suspend test, then the kmemleak scan and the kernel log.  After S3
# this guest's virtio-9p root does not answer any more (its driver has no
# restore), so nothing here opens a file outside this folder, /dev, /proc
# and /sys.
dir=${0%/*}
bb=$dir/busybox
. "$dir/unit.sh"

# TPMRM_SUSPEND=1: the test may suspend this machine (it refuses to
# otherwise, so that it never puts a workstation to sleep).
export TPMRM_SUSPEND=1
if [ -x "$dir/tpmrm_suspend_test" ]; then
	unit selftest/tpmrm_suspend_test tap "${TPMRM_UNIT_TIMEOUT:-300}" \
		"$dir/ld-linux-x86-64.so.2" --library-path "$dir" \
		"$dir/tpmrm_suspend_test"
fi
# The leak audit again, after the suspend test closed its files.
if [ -x "$dir/tpmrm_leak_test" ]; then
	unit selftest/tpmrm_leak_test.s3 tap 60 \
		"$dir/ld-linux-x86-64.so.2" --library-path "$dir" \
		"$dir/tpmrm_leak_test"
fi

# Leaks, then everything the kernel said, for the host to scan.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak
	$bb sleep 5
	echo scan > /sys/kernel/debug/kmemleak
	unit kmemleak kmemleak 10 $bb cat /sys/kernel/debug/kmemleak
fi
unit dmesg dmesg 10 $bb dmesg
echo "harness: job exited with 0"
# Not busybox poweroff: it syncs and looks for /var/log/wtmp, on 9p; and
# after S3, QEMU ignores ACPI S5.  A reboot ends QEMU (-no-reboot).
echo b > /proc/sysrq-trigger
$bb sleep 60
