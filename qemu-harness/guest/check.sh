# The test job, run in the guest as root; unit.sh frames each unit's
# output for the host.  Tests see TPMRM_CONFIG (minimal or debug) and
# TPMRM_EXTENDED (1 for make check-extended, else 0) in their environment,
# to size themselves.
export TPMRM_CONFIG TPMRM_EXTENDED
guest=$TPMRM_REPO/qemu-harness/guest
. "$guest/unit.sh"

# ONLY='name ...' on the host runs just those selftests; SKIP='name ...'
# leaves those out.
wanted() {
	case " ${TPMRM_SKIP:-} " in *" $1 "*) return 1 ;; esac
	[ -z "${TPMRM_ONLY:-}" ] && return 0
	case " $TPMRM_ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# KUnit suites built into the kernel ran at boot; collect their KTAP.
for d in /sys/kernel/debug/kunit/*/; do
	[ -f "$d/results" ] || continue
	unit "kunit/$(basename "$d")" ktap 10 cat "$d/results"
done

# Our selftests, C programs and scripts.
for t in "$TPMRM_TESTS"/tpmrm_*_test "$TPMRM_SRC"/tools/testing/selftests/tpm2/tpmrm_*_test.sh; do
	[ -x "$t" ] || continue
	case "${t##*/}" in tpmrm_suspend_test|tpmrm_leak_test) continue ;; esac	# last, see below
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

# The bench smoke run: every make bench workload at a tiny size.
if [ -x "$TPMRM_TESTS/tpmbench" ] && wanted bench-smoke; then
	unit bench-smoke tap "${TPMRM_UNIT_TIMEOUT:-300}" sh "$TPMRM_REPO/qemu-harness/bench/smoke.sh" \
		"$TPMRM_TESTS/tpmbench"
fi

# Proof that the harness can fail: INJECT=fail|warn|hang on the host.
case "${TPMRM_INJECT:-}" in
fail) unit injected/fail tap 10 sh -c 'echo 1..1; echo "not ok 1 injected failure"; exit 1' ;;
warn) echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT ;;
hang) echo "harness: hanging on purpose"; sleep 100000 ;;
esac

# Without TPMRM_SUSPEND=1 the suspend test must skip, not put this machine
# to sleep (which would take the 9p root and the rest of the job with it).
suspend_test=$TPMRM_TESTS/tpmrm_suspend_test
if [ -x "$suspend_test" ] && wanted tpmrm_suspend_test; then
	unit selftest/tpmrm_suspend_test.unasked tap 60 \
		env -u TPMRM_SUSPEND "$suspend_test"
fi

# The leak audit, with every /dev/tpmrm0 file closed; in every boot, ONLY
# or not.  finish.sh runs it again after the suspend test.
leak_test=$TPMRM_TESTS/tpmrm_leak_test
[ -x "$leak_test" ] && unit selftest/tpmrm_leak_test tap 60 "$leak_test"

# Last: suspend to RAM, then kmemleak and dmesg (finish.sh).  This guest's
# root filesystem is virtio-9p, which does not come back from S3, so the
# suspend test, its libraries, busybox and finish.sh are copied to tmpfs and
# the job ends there.
tail=/tmp/job-tail
mkdir -p $tail
cp /bin/busybox "$guest/unit.sh" "$guest/finish.sh" $tail/
if [ -x "$suspend_test" ] && wanted tpmrm_suspend_test; then
	cp "$suspend_test" $tail/
	[ -x "$leak_test" ] && cp "$leak_test" $tail/
	for lib in $(ldd "$suspend_test" | awk '$2 == "=>" { print $3 } $2 != "=>" && $1 ~ /^\// { print $1 }'); do
		cp -L "$lib" $tail/
	done
fi
export TPMRM_UNIT_TIMEOUT
exec $tail/busybox sh $tail/finish.sh
