#!/bin/bash
# Boot one kernel in QEMU (TCG) on a fresh swtpm and run one job in the guest:
#   boot.sh demo ''      the RM demonstration (a shell after it on a terminal)
#   boot.sh cmd 'CMD'    run CMD in the guest, in the caller's folder
#   boot.sh check ''     the test job; results land in $BUILD/results-$TPM
# SWTPM_LOG_COPY=file and RESULTS_COPY=file keep swtpm's log and the results
# port's output (/dev/ttyS1) after the run folder is removed; APPEND adds to
# the kernel command line; ONLY='name ...' limits the check job to those
# selftests (KUnit, kmemleak and dmesg are always collected) and SKIP='name
# ...' leaves those out.  RESULTS names the results folder (default
# $BUILD/results-$TPM); EXTENDED=1 runs the long tests (TPMRM_EXTENDED=1 in
# the guest), each unit then limited to UNIT_TIMEOUT seconds (default
# TIMEOUT - 300, else 300).
# In run modes (demo, cmd) the exit status is the job's; a boot that fails
# before or around the job exits non-zero with one line that says why.
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
for tool in swtpm qemu-system-x86_64 timeout; do
	command -v "$tool" >/dev/null || { echo "boot: $tool is missing (make deps)" >&2; exit 1; }
done
[ -z "${TPMRM_SETUP_ONLY:-}" ] || { echo "setup-only: stop before booting"; exit 0; }
[ -f "$KERNEL" ] || { echo "boot: no kernel at $KERNEL" >&2; exit 1; }

mkdir -p "$run/state"
swtpm socket --tpm2 --tpmstate dir="$run/state" \
	--ctrl type=unixio,path="$run/swtpm.sock" \
	--log file="$run/swtpm.log",level="${SWTPM_LOG_LEVEL:-1}" &
swtpm_pid=$!
# wait_socket PATH WHAT: give a server 5 s to create its socket.
wait_socket() {
	for _ in $(seq 100); do
		[ -S "$1" ] && return
		sleep 0.05
	done
	echo "boot: $2 did not start" >&2
	exit 1
}
wait_socket "$run/swtpm.sock" swtpm

# --- personality (qemu-harness/personality/README.md) ---
# PERSONALITY=name[,key=value...] puts the proxy between QEMU and swtpm;
# PERSONALITY_SEED seeds its injected warnings.
tpm_sock=$run/swtpm.sock
[ "${PERSONALITY:-}" = none ] && PERSONALITY=
if [ -n "${PERSONALITY:-}" ]; then
	: "${PERSONALITY_SEED:=0}"
	echo "boot: personality $PERSONALITY seed $PERSONALITY_SEED"
	PERSONALITY_TRACE=${PERSONALITY_TRACE:-} python3 "$HARNESS/personality/proxy.py" --listen "$run/proxy.sock" \
		--swtpm "$run/swtpm.sock" --personality "$PERSONALITY" \
		--seed "$PERSONALITY_SEED" --stats "$run/personality.json" \
		--log "$run/proxy.log" &
	proxy_pid=$!
	wait_socket "$run/proxy.sock" proxy
	tpm_sock=$run/proxy.sock
fi
# --- end personality ---

# The guest sees the host's root through 9p, but mounts tmpfs on /tmp, /run
# and /dev/shm; the folders the job needs get shares of their own, mounted
# at their real paths over the guest's mounts (stage2.sh reads "mounts").
# A logical path that differs (a symlink) is recreated in the guest.
shares=()
share_dirs() {
	local p r s
	for p in "$@"; do
		r=$(realpath -e "$p") || continue
		[ "$r" = / ] && continue
		for s in "${shares[@]}"; do
			case "$r/" in "$s"/*) continue 2 ;; esac
		done
		shares+=("$r")
	done
}
for p in "$REPO" "$BUILD"; do
	[ -d "$p" ] || { echo "boot: $p does not exist" >&2; exit 1; }
done
need=("$REPO" "$BUILD" "$TESTS" "$SRC_RM")
[ "$MODE" = cmd ] && need+=("$PWD")
share_dirs "${need[@]}"
: > "$run/mounts"
i=0
virtfs=()
for s in "${shares[@]}"; do
	printf 'share\thost%d\t%s\n' "$i" "$s" >> "$run/mounts"
	virtfs+=(-virtfs "local,path=${s//,/,,},mount_tag=host$i,security_model=none,readonly=on,multidevs=remap")
	i=$((i + 1))
done
for p in "${need[@]}"; do
	[ -e "$p" ] || continue
	[ "$p" = "$(realpath -e "$p")" ] ||
		printf 'link\t%s\t%s\n' "$(realpath -e "$p")" "$p" >> "$run/mounts"
done
cp "$HARNESS/guest/stage2.sh" "$run/stage2.sh"

{
	printf 'export TPMRM_REPO=%q TPMRM_SRC=%q TPMRM_TESTS=%q\n' "$REPO" "$SRC_RM" "$TESTS"
	printf 'export TPMRM_TPM=%q TPMRM_CONFIG=%q TPMRM_RUN=/.harness\n' "$TPM" "$CONFIG"
	printf 'export TPMRM_INJECT=%q TPMRM_ONLY=%q TPMRM_SKIP=%q\n' "${INJECT:-}" "${ONLY:-}" "${SKIP:-}"
	printf 'export TPMRM_EXTENDED=%q TPMRM_UNIT_TIMEOUT=%q\n' "$EXTENDED" "$UNIT_TIMEOUT"
	printf 'export TPMRM_PERSONALITY=%q TPMRM_REGAP_SAVES=%q\n' "${PERSONALITY:-}" "${REGAP_SAVES:-}"
	case "$MODE" in
	demo)  printf '. %q\n' "$HARNESS/guest/demo.sh" ;;
	check) printf '. %q\n' "$HARNESS/guest/check.sh" ;;
	cmd)   printf '%s\n' "$CMD" ;;
	*)     echo "boot: unknown mode $MODE" >&2; exit 1 ;;
	esac
} > "$run/job.sh"
# The folder the job starts in: the caller's for cmd.
if [ "$MODE" = cmd ]; then printf '%s\n' "$PWD"; else echo /.harness; fi > "$run/cwd"
[ -t 0 ] && [ "$MODE" != check ] && touch "$run/interactive"

# no_timer_check: a loaded host can make TCG fail the IO-APIC timer test.
# no_console_suspend: a panic while suspending or resuming (panic_on_warn
# in the debug kernel) reaches the console before QEMU ends.
# watchdog_thresh=60: a soft lockup is reported after 120 s, not 20 s; a
# vCPU thread of TCG on a loaded 2-core host can stall 20 s.
append="console=ttyS0 no_console_suspend ${QUIET-} no_timer_check panic=-1 oops=panic softlockup_panic=1 hung_task_panic=1 watchdog_thresh=60"
append="$append ${APPEND-}"
[ "$CONFIG" = debug ] && append="$append panic_on_warn=1 kmemleak=on"

# After a run-mode boot: exit with the job's status, or say in one line why
# there is none.  stage2.sh marks its progress on the results port.
job_status() {
	local qrc=$1 why rc
	why=$(grep -a -m1 -E 'Kernel panic|harness-init:' "$run/console.log" 2>/dev/null | tr -d '\r' | sed 's/^\[ *[0-9.]*\] //') || :
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		echo "boot: $TPM $CONFIG: timeout after ${limit}s${why:+ ($why)}" >&2
		exit 124
	fi
	if ! grep -aq '^### HARNESS stage2' "$run/results"; then
		echo "boot: the kernel did not boot: ${why:-QEMU exited with $qrc before the second stage of the guest}" >&2
		exit 1
	fi
	why=$(sed -n 's/^### HARNESS nostart //p' "$run/results" | head -n1)
	if [ -n "$why" ]; then
		echo "boot: the job could not start: $why" >&2
		exit 1
	fi
	rc=$(sed -n 's/^### HARNESS exit //p' "$run/results" | tail -n1 | tr -d '\r')
	if [ -z "$rc" ]; then
		echo "boot: the job did not finish: ${why:-the guest stopped first}" >&2
		exit 1
	fi
	[ "$rc" = 0 ] || echo "boot: the job failed with exit status $rc" >&2
	exit "$rc"
}

qemu=(qemu-system-x86_64 -machine q35 -accel "${ACCEL:-tcg}"
	-cpu qemu64,vendor=GenuineIntel -smp 2 -m "${MEM:-1024}"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$KERNEL" -initrd "$INITRAMFS" -append "$append"
	-chardev socket,id=chrtpm,path="$tpm_sock"
	-tpmdev emulator,id=tpm0,chardev=chrtpm -device "tpm-$TPM,tpmdev=tpm0"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=${run//,/,,},mount_tag=harness,security_model=none,readonly=on"
	"${virtfs[@]}"
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
	if [ -e "$run/interactive" ]; then limit=${RUN_TIMEOUT:-0}; else limit=${RUN_TIMEOUT:-$TIMEOUT}; fi
	rc=0
	timeout --foreground --kill-after=10 "$limit" "${qemu[@]}" \
		-chardev stdio,id=con,logfile="$run/console.log" -serial chardev:con \
		-serial file:"$run/results" || rc=$?
	job_status "$rc"
fi
