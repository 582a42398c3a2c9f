# Sourced by the guest jobs: unit NAME KIND LIMIT CMD... runs one test unit
# and sends its output to the results port (/dev/ttyS1) between
# "### BEGIN name kind" and "### END name exit-code" lines; the host
# (verdict.sh) judges them.  With $bb set to a busybox, the helpers run as
# its applets (after S3, see finish.sh).
results=/dev/ttyS1
out=/tmp/unit.out

unit() {
	name=$1 kind=$2 limit=$3
	shift 3
	read -r up _ < /proc/uptime
	echo "harness: running $name at ${up}s"
	printf '### BEGIN %s %s\n' "$name" "$kind" > "$results"
	${bb:+$bb }timeout -k 5 "$limit" "$@" > "$out" 2>&1
	rc=$?
	${bb:+$bb }cat "$out" > "$results"
	printf '### END %s %s\n' "$name" "$rc" > "$results"
	[ "$rc" = 0 ] || { echo "harness: $name exited with $rc"; ${bb:+$bb }tail -n 20 "$out"; }
}
