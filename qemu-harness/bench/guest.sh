#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The benchmark's guest job: run every workload once on this kernel and write
# one "W ..." result line per workload to the results port (/dev/ttyS1).
#   guest.sh TPMBENCH N CLIENTS_N IDLE_FILES TOOLS_ITERS [SET]
# SET: minimal (default; the workloads of the minimal kernel), hmac (the
# kernel-mix workloads, for the hmac kernel) or all.  BENCH_KMIX_N sets the
# kernel-mix size (default N, at least 10).  BENCH_ABRMD=1 (bench.sh sets
# it for the rm kernel) adds the minimal workloads through tpm2-abrmd on
# /dev/tpm0 (abrmd_set below), ids 100 + the workload's, path=abrmd.
# BENCH_RAW=1 (the default; bench.sh sets it on one boot, the rm kernel's
# when it boots one) adds them on the raw device /dev/tpm0 (raw_set
# below), ids 200 + the workload's, path=raw: the floor.
set -eu
bin=$1 n=$2 cn=$3 idle=$4 iters=$5 set=${6:-minimal}
kn=${BENCH_KMIX_N:-$n}
[ "$kn" -ge 10 ] || kn=10
results=${BENCH_RESULTS:-/dev/ttyS1}
work=$(mktemp -d /tmp/bench.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

run() {
	name=$1
	shift
	echo "bench: $name"
	BENCH_NAME=$name timeout -k 5 300 "$bin" "$@" \
		> "$work/out" 2> "$work/err" ||
		echo "W id=$2 name=$name${BENCH_PATH:+ path=$BENCH_PATH} status=fail error=exit_$?" > "$work/out"
	cat "$work/out" >> "$results"
	[ -s "$work/err" ] && sed 's/^/bench: /' "$work/err"
	# what a path's client was told (abrmd's refusals, the raw device's
	# one opener), "C path name count line"
	[ -n "${BENCH_PATH:-}" ] && [ -s "$work/err" ] &&
		grep -v '^ *$' "$work/err" | sort | uniq -c |
		sed "s/^ */C $BENCH_PATH $name /" >> "$results"
	return 0
}

# The RM's counters as "name value" lines (nothing on the old RM).
counters() {
	for c in context_loads context_saves flushes evictions retries rm_answered; do
		[ -r "/sys/class/tpm/tpm0/rm/$c" ] &&
			echo "$c $(cat "/sys/class/tpm/tpm0/rm/$c")"
	done
	return 0
}

# A tools command; on failure, a result line saying which one.
tool() {
	"$@" -T "$tcti" -Q && return 0
	echo "W id=$id name=$name${BENCH_PATH:+ path=$BENCH_PATH} status=fail error=$1" >> "$results"
	return 1
}

# The tools leave their objects loaded on the raw device, where nobody
# flushes them; flush them between the markers of phase 3 (not counted).
flush_raw() {
	"$bin" mark "$1" 3
	tpm2_flushcontext -T device:/dev/tpm0 -t
	tpm2_flushcontext -T device:/dev/tpm0 -s
	"$bin" mark "$1" "$2"
}

# tools ID DEVICE NAME: a primary saved as a context file, then ITERS times
# tpm2_load and tpm2_sign, each invocation opening and closing the device;
# through BENCH_TCTI (abrmd) instead of /dev/tpmrm0 when that is set.
tools() {
	id=$1 dev=$2 name=$3
	tcti=device:$dev
	[ "$dev" = /dev/tpmrm0 ] && [ -n "${BENCH_TCTI:-}" ] && tcti=$BENCH_TCTI
	echo "bench: $name"
	cd "$work"
	"$bin" mark "$id" 0
	tool tpm2_createprimary -C o -g sha256 -G ecc256:aes128cfb \
		-c prim.ctx || return 0
	tool tpm2_create -C prim.ctx -G ecc256:ecdsa-sha256 -u key.pub \
		-r key.priv || return 0
	[ "$dev" = /dev/tpm0 ] && flush_raw "$id" 0
	echo data > msg
	: > lat
	"$bin" mark "$id" 1
	counters > c0
	s=$(date +%s%N)
	i=0
	while [ "$i" -lt "$iters" ]; do
		a=$(date +%s%N)
		tool tpm2_load -C prim.ctx -u key.pub -r key.priv -c key.ctx ||
			return 0
		tool tpm2_sign -c key.ctx -g sha256 -o sig msg || return 0
		echo $(( ($(date +%s%N) - a) / 1000 )) >> lat
		[ "$dev" = /dev/tpm0 ] && flush_raw "$id" 1
		i=$((i + 1))
	done
	e=$(date +%s%N)
	counters > c1
	"$bin" mark "$id" 2
	[ "$dev" = /dev/tpm0 ] && flush_raw "$id" 2
	sort -n lat > lat.s
	awk -v id="$id" -v name="$name${BENCH_PATH:+ path=$BENCH_PATH}" -v w=$(( (e - s) / 1000 )) '
		FILENAME == "c0" { c[$1] = -$2; next }
		FILENAME == "c1" { c[$1] += $2; next }
		{ v[++n] = $1 }
		END {
			m = v[int(n / 2) + 1]; p = v[int((n * 95 + 99) / 100)]
			printf "W id=%d name=%s status=ok ops=%d cmds=0 med_us=%s p95_us=%s wall_ms=%.1f",
			       id, name, n, m, p, w / 1000
			for (k in c)
				printf " rm_%s=%d", k, c[k]
			printf "\n"
		}' c0 c1 lat.s >> "$results"
	cd /
}

# kmix-ima: a rule that measures the files kmix reads (owner 4243, as in
# tpmbench.c), on /tmp (the guest's tmpfs, not the 9p root).
kmix_ima() {
	ima=/sys/kernel/security/ima
	if [ ! -e "$ima/policy" ]; then
		echo "bench: kmix-ima: no IMA policy file; skipped"
		echo "W id=30 name=kmix-ima status=skip error=no_ima" >> "$results"
		return 0
	fi
	grep -qs 'fowner=4243' "$ima/policy" ||
		echo 'measure func=FILE_CHECK mask=MAY_READ fowner=4243' > "$ima/policy"
	mkdir -p "$work/ima"
	export BENCH_IMA_DIR="$work/ima"
	run kmix-ima kmix 30 "$kn" ima
	rm -rf "$work/ima"
}

# kmix-hwrng: /dev/hwrng reads go to the TPM while it is the current hwrng
# (the kernel's hwrng thread then reads it too, about once a minute; the
# report leaves those reads out).
kmix_hwrng() {
	tpmrng=$(tr ' ' '\n' < "$rng/rng_available" 2>/dev/null | grep '^tpm' | head -n1)
	if [ -z "$tpmrng" ]; then
		echo "bench: kmix-hwrng: no TPM hwrng; skipped"
		echo "W id=32 name=kmix-hwrng status=skip error=no_tpm_hwrng" >> "$results"
		return 0
	fi
	old=$(cat "$rng/rng_current")
	echo "$tpmrng" > "$rng/rng_current"
	run kmix-hwrng kmix 32 "$kn" hwrng
	echo "$old" > "$rng/rng_current"
}

# Keep the kernel's hwrng thread off the TPM: its GetRandom would land in
# the trace (and, on the new RM, count as kernel use of the TPM).
rng=/sys/class/misc/hw_random
for r in $(cat "$rng/rng_available" 2>/dev/null); do
	case $r in virtio*) echo "$r" > "$rng/rng_current" ;; esac
done
echo "bench: kernel $(uname -r), hwrng $(cat "$rng/rng_current" 2>/dev/null)"

echo "I kernel=$(uname -r) hwrng=$(cat "$rng/rng_current" 2>/dev/null) set=$set" >> "$results"

# clients-k, lockstep (id BASE + 10 + i) and free-running (BASE + 20 + i),
# for k = 1, 2, 4, 8, 16: clients_set BASE [RUNNER] (default run).
clients_set() {
	i=0
	for k in 1 2 4 8 16; do
		${2:-run} "clients-$k-lock" clients $(($1 + 10 + i)) "$cn" "$k" 1
		${2:-run} "clients-$k-free" clients $(($1 + 20 + i)) "$cn" "$k" 0
		i=$((i + 1))
	done
}

minimal_set() {
	run sign-1 sign1 1 "$n"
	run mixed-1 mixed1 2 "$n"
	clients_set 0
	# Idle files are opened under several uids (tpmbench.c): let them.
	chmod 0666 /dev/tpmrm0
	run idle idle 6 "$idle"
	tools 4 /dev/tpmrm0 tools
	run limits limits 7 40
	[ "${BENCH_RAW:-1}" = 0 ] || raw_set
	case ${BENCH_ABRMD:-0} in 1|smoke) abrmd_set ;; esac
	return 0
}

# --- raw: the minimal workloads through TCTI device:/dev/tpm0, the same
# client code, ids 200 + the workload's, path=raw: the floor.  The raw
# device admits one opener: clients-k for k > 1 and idle meet that limit
# as a user would (the second open refused, EBUSY), and the rows say so;
# mixed-1 needs 4 objects loaded at once, one more than swtpm's slots.
# Nobody flushes on the raw device when a file closes: what a workload
# left loaded (a refused client's peers, killed; mixed-1's keys; idle's
# key) is flushed after it (tpmbench flush), behind a marker of phase 3
# (counted nowhere).
raw_run() {
	run "$@"
	"$bin" flush "$3" 3 2>&1 | sed 's/^/bench: /'
}

raw_set() {
	export BENCH_TCTI=device:/dev/tpm0 BENCH_PATH=raw
	raw_run sign-1 sign1 201 "$n"
	raw_run mixed-1 mixed1 202 "$n"
	clients_set 200 raw_run
	raw_run idle idle 206 "$idle"
	tools 204 /dev/tpm0 tools
	raw_run limits limits 207 40
	unset BENCH_TCTI BENCH_PATH
}

# --- abrmd: tpm2-abrmd (Debian's package) on the raw device, with defaults
# but for --session (its own bus, below) and --allow-root (the guest job is
# root); the workloads through TCTI tabrmd:bus_type=session.  abrmd holds
# /dev/tpm0 open while it runs (the raw device admits one opener), so it
# runs after the raw workloads and is stopped at the end.
abrmd_pid='' dbus_pid=''
abrmd_start() {
	if ! command -v tpm2-abrmd >/dev/null || ! command -v dbus-daemon >/dev/null; then
		echo "bench: abrmd: tpm2-abrmd or dbus-daemon not installed (qemu-harness/scripts/deps.sh installs them)"
		echo "W id=101 name=sign-1 path=abrmd status=fail error=no_abrmd" >> "$results"
		return 1
	fi
	mkdir -p "$work/dbus"
	cat > "$work/dbus/bus.conf" <<-EOF
	<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <type>session</type>
	  <listen>unix:path=$work/dbus/bus</listen>
	  <auth>EXTERNAL</auth>
	  <policy context="default">
	    <allow send_destination="*" eavesdrop="true"/>
	    <allow eavesdrop="true"/>
	    <allow own="*"/>
	  </policy>
	</busconfig>
	EOF
	dbus-daemon --config-file="$work/dbus/bus.conf" --fork --print-pid=1 \
		> "$work/dbus/pid" || {
		echo "W id=101 name=sign-1 path=abrmd status=fail error=dbus_daemon" >> "$results"
		return 1
	}
	dbus_pid=$(cat "$work/dbus/pid")
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$work/dbus/bus"
	# abrmd's own start-up commands (Startup, GetCapability) in phase 3
	# of workload 99: counted nowhere.
	"$bin" mark 99 3
	tpm2-abrmd --session --allow-root --tcti=device:/dev/tpm0 \
		> "$work/abrmd.log" 2>&1 &
	abrmd_pid=$!
	i=0
	until dbus-send --session --print-reply --dest=org.freedesktop.DBus \
		/org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
		string:com.intel.tss2.Tabrmd 2>/dev/null | grep -q 'boolean true'; do
		i=$((i + 1))
		if [ "$i" -gt 300 ] || ! kill -0 "$abrmd_pid" 2>/dev/null; then
			sed 's/^/bench: abrmd: /' "$work/abrmd.log"
			echo "W id=101 name=sign-1 path=abrmd status=fail error=abrmd_did_not_start" >> "$results"
			abrmd_stop
			return 1
		fi
		sleep 0.1
	done
	echo "bench: abrmd $(tpm2-abrmd --version 2>&1 | head -n1) pid $abrmd_pid on /dev/tpm0"
	echo "I abrmd=$(dpkg-query -W -f='${Version}' tpm2-abrmd 2>/dev/null) options=--session,--allow-root,--tcti=device:/dev/tpm0 max_connections=default max_sessions=default max_transients=default" >> "$results"
	"$bin" mark 99 2
}

abrmd_stop() {
	[ -n "$abrmd_pid" ] && kill "$abrmd_pid" 2>/dev/null && wait "$abrmd_pid" 2>/dev/null
	[ -n "$dbus_pid" ] && kill "$dbus_pid" 2>/dev/null
	# What abrmd said (limits met, errors), one "A" line each.
	[ -s "$work/abrmd.log" ] && grep -v '^ *$' "$work/abrmd.log" | sort | uniq -c |
		sed 's/^ */A /' >> "$results"
	abrmd_pid='' dbus_pid=''
	unset DBUS_SESSION_BUS_ADDRESS
	return 0
}

# The minimal workloads but raw through abrmd (ids 100 + the workload's).
# BENCH_ABRMD=smoke: sign-1, clients-4-free, idle and limits only.
abrmd_set() {
	abrmd_start || return 0
	export BENCH_TCTI=tabrmd:bus_type=session BENCH_PATH=abrmd BENCH_RSS_PID=$abrmd_pid
	run sign-1 sign1 101 "$n"
	if [ "$BENCH_ABRMD" = smoke ]; then
		run clients-4-free clients 122 "$cn" 4 0
	else
		run mixed-1 mixed1 102 "$n"
		clients_set 100
	fi
	run idle idle 106 "$idle"
	[ "$BENCH_ABRMD" = smoke ] || tools 104 /dev/tpmrm0 tools
	run limits limits 107 40
	unset BENCH_TCTI BENCH_PATH BENCH_RSS_PID
	abrmd_stop
}

case $set in
minimal) minimal_set ;;
hmac) kmix_ima; kmix_hwrng ;;
all) minimal_set; kmix_ima; kmix_hwrng ;;
*) echo "bench: unknown set $set" >&2; exit 2 ;;
esac
echo "E done" >> "$results"
