#!/bin/bash
# Boot one kernel in QEMU (TCG) on a fresh swtpm and run one job in the guest:
#   boot.sh demo ''      the RM demonstration (a shell after it on a terminal)
#   boot.sh cmd 'CMD'    run CMD in the guest, in the caller's folder
#   boot.sh check ''     the test job; results land in $BUILD/results-$TPM
# SWTPM_LOG_COPY=file and RESULTS_COPY=file keep swtpm's log and the results
# port's output (/dev/ttyS1) after the run folder is removed; APPEND adds to
# the kernel command line; ONLY='name ...' limits the check job to those
# selftests (KUnit, kmemleak and dmesg are always collected).  RESULTS names the results folder (default
# $BUILD/results-$TPM); EXTENDED=1 runs the long tests (TPMRM_EXTENDED=1 in
# the guest), each unit then limited to UNIT_TIMEOUT seconds (default
# TIMEOUT - 300, else 300).
# Everything started here is stopped by PID on exit, failure or Ctrl-C.
set -eu
MODE=$1
CMD=$2
: "${BUILD:?}" "${KERNEL:?}" "${INITRAMFS:?}" "${TPM:?}" "${CONFIG:?}"
: "${TIMEOUT:=600}" "${REPO:?}" "${SRC_RM:?}" "${TESTS:?}"
: "${RESULTS:=$BUILD/results-$TPM}" "${EXTENDED:=0}"
if [ "$EXTENDED" = 1 ]; then
	: "${UNIT_TIMEOUT:=$((TIMEOUT > 600 ? TIMEOUT - 300 : 300))}"
else
	: "${UNIT_TIMEOUT:=300}"
fi
HARNESS=$REPO/qemu-harness

mkdir -p "$BUILD/runs"
run=$(mktemp -d "$BUILD/runs/$TPM.XXXXXX")
swtpm_pid=
proxy_pid=
timeout_pid=

cleanup() {
	local pid
	# personality proxy: its exit status must not stop the cleanup
	[ -z "$proxy_pid" ] || { kill "$proxy_pid" && wait "$proxy_pid"; } 2>/dev/null || :
	for pid in $timeout_pid $swtpm_pid; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	if [ "$MODE" = check ]; then
		rm -rf "$RESULTS"
		mkdir -p "$RESULTS"
		cp "$run"/results "$run"/console.log "$run"/status "$RESULTS/" 2>/dev/null
		echo "${FLAVOUR:-rm}" > "$RESULTS/flavour"
		# personality (qemu-harness/personality): what the proxy did
		[ -z "${PERSONALITY:-}" ] ||
			cp "$run/personality.json" "$run/proxy.log" "$RESULTS/" 2>/dev/null || :
	fi
	[ -z "${SWTPM_LOG_COPY:-}" ] || cp "$run/swtpm.log" "$SWTPM_LOG_COPY" || :
	[ -z "${RESULTS_COPY:-}" ] || cp "$run/results" "$RESULTS_COPY" || :
	[ -n "${KEEP:-}" ] && echo "boot: kept $run" || rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$TPM" in tis|crb) ;; *) echo "boot: TPM must be tis or crb" >&2; exit 1 ;; esac
[ -f "$KERNEL" ] || { echo "boot: no kernel at $KERNEL" >&2; exit 1; }

mkdir -p "$run/state"
swtpm socket --tpm2 --tpmstate dir="$run/state" \
	--ctrl type=unixio,path="$run/swtpm.sock" \
	--log file="$run/swtpm.log",level="${SWTPM_LOG_LEVEL:-1}" &
swtpm_pid=$!
for _ in $(seq 100); do
	[ -S "$run/swtpm.sock" ] && break
	sleep 0.05
done
[ -S "$run/swtpm.sock" ] || { echo "boot: swtpm did not start" >&2; exit 1; }

# --- personality (qemu-harness/personality/README.md) ---
# PERSONALITY=name[,key=value...] puts the proxy between QEMU and swtpm;
# PERSONALITY_SEED seeds its injected warnings.
tpm_sock=$run/swtpm.sock
if [ -n "${PERSONALITY:-}" ]; then
	: "${PERSONALITY_SEED:=0}"
	echo "boot: personality $PERSONALITY seed $PERSONALITY_SEED"
	PERSONALITY_TRACE=${PERSONALITY_TRACE:-} python3 "$HARNESS/personality/proxy.py" --listen "$run/proxy.sock" \
		--swtpm "$run/swtpm.sock" --personality "$PERSONALITY" \
		--seed "$PERSONALITY_SEED" --stats "$run/personality.json" \
		--log "$run/proxy.log" &
	proxy_pid=$!
	for _ in $(seq 100); do
		[ -S "$run/proxy.sock" ] && break
		sleep 0.05
	done
	[ -S "$run/proxy.sock" ] || { echo "boot: proxy did not start" >&2; exit 1; }
	tpm_sock=$run/proxy.sock
fi
# --- end personality ---

{
	echo "export TPMRM_REPO='$REPO' TPMRM_SRC='$SRC_RM' TPMRM_TESTS='$TESTS'"
	echo "export TPMRM_TPM='$TPM' TPMRM_CONFIG='$CONFIG' TPMRM_RUN='$run'"
	echo "export TPMRM_INJECT='${INJECT:-}' TPMRM_ONLY='${ONLY:-}'"
	echo "export TPMRM_EXTENDED='$EXTENDED' TPMRM_UNIT_TIMEOUT='$UNIT_TIMEOUT'"
	echo "export TPMRM_PERSONALITY='${PERSONALITY:-}' TPMRM_REGAP_SAVES='${REGAP_SAVES:-}'"
	case "$MODE" in
	demo)  echo ". '$HARNESS/guest/demo.sh'" ;;
	check) echo ". '$HARNESS/guest/check.sh'" ;;
	cmd)   printf 'cd %q || exit 1\n%s\n' "$PWD" "$CMD" ;;
	*)     echo "boot: unknown mode $MODE" >&2; exit 1 ;;
	esac
	if [ -t 0 ] && [ "$MODE" != check ]; then
		echo "echo 'harness: guest shell; exit or Ctrl-D powers off'"
		echo "setsid -c /bin/bash -l </dev/ttyS0 >/dev/ttyS0 2>&1"
	fi
} > "$run/job.sh"

# no_timer_check: a loaded host can make TCG fail the IO-APIC timer test.
append="console=ttyS0 ${QUIET-} no_timer_check panic=-1 oops=panic softlockup_panic=1 hung_task_panic=1"
append="$append harness_stage2=$HARNESS/guest/stage2.sh harness_dir=$run"
append="$append harness_job=$run/job.sh ${APPEND-}"
[ "$CONFIG" = debug ] && append="$append panic_on_warn=1 kmemleak=on"

qemu=(qemu-system-x86_64 -machine q35 -accel "${ACCEL:-tcg}"
	-cpu qemu64,vendor=GenuineIntel -smp 2 -m "${MEM:-1024}"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$KERNEL" -initrd "$INITRAMFS" -append "$append"
	-chardev socket,id=chrtpm,path="$tpm_sock"
	-tpmdev emulator,id=tpm0,chardev=chrtpm -device "tpm-$TPM,tpmdev=tpm0"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-device virtio-rng-pci)

if [ "$MODE" = check ]; then
	echo "boot: $TPM $CONFIG: running the test job (console: $RESULTS/console.log)"
	timeout --kill-after=10 "$TIMEOUT" "${qemu[@]}" \
		-serial file:"$run/console.log" -serial file:"$run/results" </dev/null &
	timeout_pid=$!
	rc=0
	wait "$timeout_pid" || rc=$?
	timeout_pid=
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "boot: $TPM $CONFIG: timeout after ${TIMEOUT}s" >&2
		echo timeout > "$run/status"
	else
		echo "exit $rc" > "$run/status"
	fi
else
	timeout --foreground --kill-after=10 "${RUN_TIMEOUT:-0}" "${qemu[@]}" \
		-serial stdio -serial file:"$run/results"
fi
