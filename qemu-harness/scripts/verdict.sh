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
	if [ "$(cat "$dir/status" 2>/dev/null)" = timeout ]; then
		echo "not ok - $tag: guest hung (timeout)"
		fail=$((fail + 1))
	fi
	if ! grep -q '^### END dmesg' "$dir/results"; then
		echo "not ok - $tag: test job did not finish"
		fail=$((fail + 1))
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
		local suite
		while read -r suite; do
			[ -n "$suite" ] || continue
			grep -q "^### END kunit/$suite " "$dir/results" && continue
			echo "not ok - $tag: kunit suite $suite missing"
			fail=$((fail + 1))
		done < "$expected_kunit"
	fi
}

# A plain TAP file (make series-check): count its ok / not ok lines.
judge_tap() {
	local file=$1 p f
	if [ ! -s "$file" ]; then
		echo "not ok - $file: no results"
		fail=$((fail + 1))
		return
	fi
	grep -E '^(not )?ok ' "$file" | sed -E 's/^(not )?ok [0-9]+ - /\1ok - series: /'
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
