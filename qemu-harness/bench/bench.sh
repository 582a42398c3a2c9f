#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: boot each flavour in $FLAVOURS on a fresh swtpm (tpm-tis) with
# swtpm's command log on, run the same workloads (guest.sh) in each, then
# print the report and write CSV and PNG to the results folder ($1).
# BENCH_CONFIGS (default "minimal hmac") names the kernel configs booted:
# minimal runs the minimal set of workloads, hmac (TCG_TPM2_HMAC, IMA,
# trusted keys, TPM hwrng) the kernel-mix workloads; an hmac boot's rows
# name the kernel FLAVOUR-hmac.
# A benchmark, not a test: it fails only when it could not measure.
set -eu
OUT=$1
: "${BUILD:?}" "${REPO:?}" "${INITRAMFS:?}" "${FLAVOURS:=base rm}"
: "${BENCH_CONFIGS:=minimal hmac}"
: "${BENCH_N:=500}" "${BENCH_CLIENTS_N:=496}" "${BENCH_IDLE:=1000}"
: "${BENCH_TOOLS:=50}" "${BENCH_TIMEOUT:=3600}"
bench=$REPO/qemu-harness/bench
bin=$BUILD/bench/tpmbench
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT" "$BUILD/bench"
[ -z "${TPMRM_SETUP_ONLY:-}" ] || { echo "setup-only: stop before the benchmark"; exit 0; }
# --- personality: PERSONALITY=name boots both flavours behind the proxy
# (qemu-harness/personality), with the latency model on unless it says
# latency=off|i2c: times are then wall time of that chip (modeled).
if [ -n "${PERSONALITY:-}" ]; then
	case "$PERSONALITY" in *latency=*) ;; *) PERSONALITY=$PERSONALITY,latency=spi ;; esac
	export PERSONALITY PERSONALITY_SEED="${PERSONALITY_SEED:-0}"
	echo "bench: personality $PERSONALITY seed $PERSONALITY_SEED"
fi
# --- end personality ---
lib=$REPO/tools/testing/selftests/tpm2
gcc -O2 -Wall -I"$lib" -o "$bin" "$bench/tpmbench.c" "$bench/tcti.c" "$lib/tpm2_lib.c" \
	-ltss2-tctildr

start=$(date +%s)
tags=
# The raw path (device:/dev/tpm0, path=raw, the floor) runs on one boot:
# the rm kernel's minimal one, beside abrmd, or the base kernel's when
# there is no rm kernel to boot (BENCH_RAW=0 leaves it out).
rawon=base-minimal
case " $FLAVOURS " in *" rm "*)
	[ -f "$BUILD/obj-${BASE:-6.12}-rm-minimal/arch/x86/boot/bzImage" ] && rawon=rm-minimal ;;
esac
for c in $BENCH_CONFIGS; do
	case $c in minimal|hmac) ;; *) echo "bench: BENCH_CONFIGS: no config $c" >&2; exit 1 ;; esac
	for f in $FLAVOURS; do
		t=$f
		[ "$c" = minimal ] || t=$f-$c
		kernel=$BUILD/obj-${BASE:-6.12}-$f-$c/arch/x86/boot/bzImage
		# tpm2-abrmd runs on the rm kernel's minimal boot (guest.sh)
		abrmd=0
		[ "$f-$c" = rm-minimal ] && [ "${BENCH_ABRMD:-1}" = 1 ] && abrmd=1
		raw=0
		[ "$f-$c" = "$rawon" ] && [ "${BENCH_RAW:-1}" = 1 ] && raw=1
		# The hmac kernels' own ContextLoad of the null key is upstream
		# code that does not resend TPM_RC_YIELDED and disables the chip
		# on it (as pick.sh says for make check): no YIELDED there.
		pers=${PERSONALITY:-}
		[ -z "$pers" ] || [ "$c" != hmac ] || pers=$pers,yielded=0
		[ -f "$kernel" ] || { echo "bench: $t: no kernel at $kernel; skipped" >&2; continue; }
		rm -f "$OUT/$t.results" "$OUT/$t.trace" "$OUT/$t.console"
		# One retry when the kernel did not come up (TCG on a loaded host).
		for try in 1 2; do
			echo "bench: $t: booting (guest console: $OUT/$t.console)"
			PERSONALITY=$pers SWTPM_LOG_LEVEL=20 SWTPM_LOG_COPY="$tmp/$t.log" \
			RESULTS_COPY="$OUT/$t.results" RUN_TIMEOUT="$BENCH_TIMEOUT" \
			BUILD="$BUILD" REPO="$REPO" INITRAMFS="$INITRAMFS" \
			KERNEL="$kernel" TPM=tis CONFIG="$c" SRC_RM="$BUILD/src-rm-${BASE:-6.12}" \
			TESTS="$BUILD/selftests-${BASE:-6.12}" QUIET=quiet APPEND=no_timer_check \
				"$REPO/qemu-harness/scripts/boot.sh" cmd \
				"$(printf '%q ' env BENCH_ABRMD=$abrmd BENCH_RAW=$raw sh "$bench/guest.sh" "$bin" "$BENCH_N" "$BENCH_CLIENTS_N" "$BENCH_IDLE" "$BENCH_TOOLS" "$c")" \
				</dev/null >"$OUT/$t.console" 2>&1 ||
				echo "bench: $t: boot exited with $?" >&2
			grep -q '^I kernel' "$OUT/$t.results" 2>/dev/null && break
		done
		grep -q '^E done' "$OUT/$t.results" 2>/dev/null ||
			echo "bench: $t: the guest job did not finish; see $OUT/$t.console" >&2
		[ -f "$tmp/$t.log" ] || { echo "bench: $t: no swtpm log" >&2; exit 1; }
		awk -f "$bench/trace.awk" "$tmp/$t.log" > "$OUT/$t.trace"
		rm -f "$tmp/$t.log"
		tags="$tags $t"
	done
done

files= fls=
for t in base rm abrmd raw base-hmac rm-hmac; do
	case $t in
	# abrmd's and the raw path's rows (path=abrmd, path=raw) ride in a
	# minimal boot's results: columns after rm, in report.awk's order
	abrmd|raw)
		for b in base rm; do
			case " $tags " in *" $b "*) ;; *) continue ;; esac
			grep -qs "^W .* path=$t " "$OUT/$b.results" && fls="$fls $t" && break
		done
		continue ;;
	esac
	case " $tags " in *" $t "*) ;; *) continue ;; esac
	files="$files $OUT/$t.results $OUT/$t.trace"
	fls="$fls $t"
done
[ -n "$files" ] || { echo "bench: nothing was measured" >&2; exit 1; }
# shellcheck disable=SC2086
awk -f "$bench/belady.awk" -f "$bench/report.awk" -v csv="$OUT/bench.csv" \
	-v dat="$tmp/plot.dat" -v personality="${PERSONALITY:-}" $files > "$OUT/bench.md"
gnuplot -e "dat='$tmp/plot.dat'; png='$OUT/bench.png'; fls='$fls'" \
	"$bench/plot.gp" || echo "bench: no plot" >&2
commit=$(git -C "$REPO" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
sed -i "1i Measured at commit $commit on $(date -u +%F) (make bench).\\n" "$OUT/bench.md"
cat "$OUT/bench.md"
echo
echo "bench: $OUT/bench.md, bench.csv, bench.png; $(( $(date +%s) - start )) s of boots and report"
