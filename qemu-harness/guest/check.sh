# The test job, run in the guest as root.  Every unit's output goes to the
# results port (/dev/ttyS1) between "### BEGIN name kind" and
# "### END name exit-code" lines; the host (verdict.sh) judges them.
# Tests see TPMRM_CONFIG (minimal or debug) and TPMRM_EXTENDED (1 for make
# check-extended, else 0) in their environment, to size themselves.
export TPMRM_CONFIG TPMRM_EXTENDED
results=/dev/ttyS1
out=/tmp/unit.out

# ONLY='name ...' on the host runs just those selftests.
wanted() {
	[ -z "${TPMRM_ONLY:-}" ] && return 0
	case " $TPMRM_ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

unit() {
	name=$1 kind=$2 limit=$3
	shift 3
	echo "harness: running $name"
	printf '### BEGIN %s %s\n' "$name" "$kind" > "$results"
	timeout -k 5 "$limit" "$@" > "$out" 2>&1
	rc=$?
	cat "$out" > "$results"
	printf '### END %s %s\n' "$name" "$rc" > "$results"
	[ "$rc" = 0 ] || { echo "harness: $name exited with $rc"; tail -n 20 "$out"; }
}

# KUnit suites built into the kernel ran at boot; collect their KTAP.
for d in /sys/kernel/debug/kunit/*/; do
	[ -f "$d/results" ] || continue
	unit "kunit/$(basename "$d")" ktap 10 cat "$d/results"
done

# Our selftests, C programs and scripts.
for t in "$TPMRM_TESTS"/tpmrm_*_test "$TPMRM_SRC"/tools/testing/selftests/tpm2/tpmrm_*_test.sh; do
	[ -x "$t" ] || continue
	[ "${t##*/}" = tpmrm_suspend_test ] && continue	# last, see below
	wanted "${t##*/}" || continue
	(cd "$TPMRM_SRC/tools/testing/selftests/tpm2" &&
	 unit "selftest/$(basename "$t")" tap "${TPMRM_UNIT_TIMEOUT:-300}" "$t")
done

# The base tree's python tpm2 selftests.
export PYTHONDONTWRITEBYTECODE=1
for t in test_smoke.sh test_space.sh; do
	wanted "$t" || continue
	(cd "$TPMRM_SRC/tools/testing/selftests/tpm2" &&
	 unit "python/$t" pyunit 300 sh "./$t")
done

# Proof that the harness can fail: INJECT=fail|warn|hang on the host.
case "${TPMRM_INJECT:-}" in
fail) unit injected/fail tap 10 sh -c 'echo 1..1; echo "not ok 1 injected failure"; exit 1' ;;
warn) echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT ;;
hang) echo "harness: hanging on purpose"; sleep 100000 ;;
esac

# Last: suspend to RAM.  This guest's root filesystem is virtio-9p, which
# does not come back from S3 (its driver has no restore), so the test, its
# libraries and a static busybox are copied to tmpfs first, and the rest of
# the job runs from there: nothing after resume opens a file on 9p.
tail=/tmp/job-tail
suspend_test=$TPMRM_TESTS/tpmrm_suspend_test
mkdir -p $tail
cp /bin/busybox $tail/
if [ -x "$suspend_test" ] && wanted tpmrm_suspend_test; then
	cp "$suspend_test" $tail/
	for lib in $(ldd "$suspend_test" | awk '$2 == "=>" { print $3 } $2 != "=>" && $1 ~ /^\// { print $1 }'); do
		cp -L "$lib" $tail/
	done
fi
cat > $tail/job.sh <<'EOF'
bb=/tmp/job-tail/busybox
results=/dev/ttyS1
out=/tmp/unit.out
unit() {
	name=$1 kind=$2 limit=$3
	shift 3
	echo "harness: running $name"
	printf '### BEGIN %s %s\n' "$name" "$kind" > "$results"
	$bb timeout -k 5 "$limit" "$@" > "$out" 2>&1
	rc=$?
	$bb cat "$out" > "$results"
	printf '### END %s %s\n' "$name" "$rc" > "$results"
	[ "$rc" = 0 ] || { echo "harness: $name exited with $rc"; $bb tail -n 20 "$out"; }
}
if [ -x /tmp/job-tail/tpmrm_suspend_test ]; then
	unit selftest/tpmrm_suspend_test tap "${TPMRM_UNIT_TIMEOUT:-300}" \
		/tmp/job-tail/ld-linux-x86-64.so.2 --library-path /tmp/job-tail \
		/tmp/job-tail/tpmrm_suspend_test
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
EOF
export TPMRM_UNIT_TIMEOUT
exec $tail/busybox sh $tail/job.sh
