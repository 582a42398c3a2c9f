#!/bin/bash
# Judge one or more result folders written by boot.sh (check mode): count the
# tests in each unit's TAP/KTAP/unittest output, and fail on a failed or
# missing test, a unit that did not finish, a timeout, or any kernel report
# (WARN, BUG, oops, KASAN, UBSAN, lockdep, kmemleak, hung task) in the console.
set -eu
HARNESS=$(cd "$(dirname "$0")/.." && pwd)
# The KUnit suites the rm flavour must report.
expected_kunit=$HARNESS/kunit-suites.txt
pass=0 fail=0 skip=0
[ -z "${TPMRM_SETUP_ONLY:-}" ] || { echo "setup-only: stop before judging results"; exit 0; }

bad_kernel='WARNING:|BUG:|Oops|general protection|KASAN:|UBSAN:|kmemleak: [0-9]+ new suspected|possible circular|possible recursive|inconsistent lock|INFO: task .* blocked|soft lockup|detected stalls|Kernel panic|Call Trace'

judge_dir() {
	local dir=$1 tag
	tag=$(basename "$dir" | sed 's/^results-//')
	if [ ! -f "$dir/results" ]; then
		echo "not ok - $tag: no results (the boot did not run)"
		fail=$((fail + 1))
		return
	fi
	tr -d '\r' < "$dir/results" | awk -v tag="$tag" -f "$HARNESS/scripts/tap.awk" > "$dir/verdict"
	cat "$dir/verdict"
	local p f s
	read -r p f s < <(awk '/^#counts/ { print $2, $3, $4 }' "$dir/verdict")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	local why finished=1
	why=$(stopped_why "$dir")
	if ! grep -aq '^### HARNESS stage2' "$dir/results"; then
		echo "not ok - $tag: the kernel did not boot: ${why:-no second stage}"
		fail=$((fail + 1)) finished=0
	elif grep -aq '^### HARNESS nostart' "$dir/results"; then
		echo "not ok - $tag: the test job did not start: $(sed -n 's/^### HARNESS nostart //p' "$dir/results" | head -n1)"
		fail=$((fail + 1)) finished=0
	elif ! grep -q '^### END dmesg' "$dir/results"; then
		echo "not ok - $tag: the test job did not finish: ${why:-the guest stopped}"
		echo "#   $(cat "$dir/status" 2>/dev/null); the console's last lines:"
		tr -d '\r' < "$dir/console.log" 2>/dev/null | tail -n 8 | sed 's/^/#   /'
		fail=$((fail + 1)) finished=0
	fi
	if grep -Eq "$bad_kernel" "$dir/console.log" 2>/dev/null; then
		echo "not ok - $tag: kernel report in the console:"
		grep -E -m 20 "$bad_kernel" "$dir/console.log" | sed 's/^/#   /'
		fail=$((fail + 1))
	else
		echo "ok - $tag: console clean of kernel reports"
		pass=$((pass + 1))
	fi
	if [ "$(cat "$dir/flavour" 2>/dev/null)" = rm ] && [ -s "$expected_kunit" ]; then
		local suite line
		while read -r suite; do
			[ -n "$suite" ] || continue
			grep -q "^### END kunit/$suite " "$dir/results" && continue
			# KUnit runs at boot: its KTAP in the console counts too.
			line=$(sed 's/^\[[ 0-9.]*\] //' "$dir/console.log" 2>/dev/null |
				grep -a -m1 -E "^(not )?ok [0-9]+ $suite\b") || :
			case "$line" in
			ok*)	echo "ok - $tag/kunit/$suite: passed (from the console)"
				pass=$((pass + 1)) ;;
			not*)	echo "not ok - $tag/kunit/$suite: failed (from the console)"
				fail=$((fail + 1)) ;;
			*)	# After a job that did not finish, the cause is above.
				[ "$finished" = 1 ] || continue
				echo "not ok - $tag: kunit suite $suite missing"
				fail=$((fail + 1)) ;;
			esac
		done < "$expected_kunit"
	fi
}

# Why a boot stopped, in one line: the timeout, a panic, or the guest's
# own last word (a unit's exit 4 is a skip, not a reason).
stopped_why() {
	local dir=$1 line
	if [ "$(cat "$dir/status" 2>/dev/null)" = timeout ]; then
		echo "guest hung (timeout)"
		return
	fi
	line=$(tr -d '\r' < "$dir/console.log" 2>/dev/null | sed 's/^\[[ 0-9.]*\] //' |
		grep -a -E 'Kernel panic|harness-init:|harness: .*(could not|exited with ([1-35-9]|[1-9][0-9]+)$)' |
		tail -n1) || :
	echo "$line"
}

# A plain TAP file (make series-check): count its ok / not ok lines.
judge_tap() {
	local file=$1 p f tag
	tag=$(basename "$(dirname "$file")" | sed 's/^results-//')
	if [ ! -s "$file" ]; then
		echo "not ok - $file: no results"
		fail=$((fail + 1))
		return
	fi
	grep -E '^(not )?ok ' "$file" | sed -E "s/^(not )?ok [0-9]+ - /\\1ok - $tag: /"
	p=$(grep -c '^ok ' "$file" || true)
	f=$(grep -c '^not ok ' "$file" || true)
	grep -A 20 '^not ok ' "$file" | grep '^#' | head -n 40 || true
	pass=$((pass + p)) fail=$((fail + f))
}

for d in "$@"; do
	if [ -f "$d" ]; then
		judge_tap "$d"
	else
		judge_dir "$d"
	fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
