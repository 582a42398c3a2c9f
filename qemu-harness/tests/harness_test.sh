#!/bin/bash
# The harness's own test (make check-harness, part of make check); prints TAP.
#
#  1. Every target that "make help" names works as the first command of a
#     fresh clone, with BUILD= a folder that does not exist yet, once with
#     the default variables and once with every variable of the README's
#     table at a documented non-default value.  SETUP_ONLY=1 stops each one
#     after its set-up (packages, folders, inputs), before the long steps.
#  2. make run exits with the guest job's status: CMD=true exits 0,
#     CMD=false does not and says why.
#  3. A real first "make run" from a clone under /tmp whose path holds a
#     space (the demo), and one reached through a symlink (CMD=, run in the
#     caller's folder).  Their builds reuse the compiler cache and the base
#     cache, and are removed with make distclean afterwards.
#  4. A commit made in build/src-rm-6.12 (the README's way to change an upstream
#     file) survives make assemble and lands in patches/ with make refresh.
#  5. make series refuses to write a series without a git identity.
#  6. verdict.sh on a guest that stopped inside a unit, after a unit that
#     skipped (exit 4): the boot fails, the reason is not the skip, the
#     console's last lines are shown, and the skip counts once.
#
# usage: harness_test.sh REPO BUILD
set -u
REPO=$1
BUILD=$2
[ -z "${TPMRM_SETUP_ONLY:-}" ] || { echo "setup-only: stop before the harness test"; exit 0; }
# Nested makes start clean: nothing of the calling make's command line.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES TPMRM_SETUP_ONLY
n=0 failed=0
work=$(mktemp -d /tmp/tpmrm-harness.XXXXXX)
trap 'rm -rf "$work"' EXIT
exec 3>&1

result() {
	local rc=$1 what=$2 log=$3
	n=$((n + 1))
	if [ "$rc" = 0 ]; then
		echo "ok $n - $what"
	else
		failed=$((failed + 1))
		echo "not ok $n - $what"
		tail -n 8 "$log" | sed 's/^/#   /'
	fi
}

# A clone of REPO with the working tree's uncommitted changes on top, as
# the tree under test really is.
clone_tree() {
	local dst=$1
	mkdir -p "$(dirname "$dst")"
	git clone -q "$REPO" "$dst" || return 1
	(cd "$REPO" && git ls-files -z -m -o --exclude-standard |
		tar --null -T - -cf -) | tar -C "$dst" -xf - || return 1
	(cd "$REPO" && git ls-files -z -d | (cd "$dst" && xargs -0 -r rm -f)) || :
}

# 1. Every target as the first command.
targets=$(make -s -C "$REPO" help | sed -n 's/^make \([a-z][a-z-]*\).*/\1/p' | sort -u)
nondefault=(BASE=6.1 FLAVOUR=base CONFIG=debug TPM=crb CMD=true INJECT=fail TIMEOUT=60
	ONLY=tpmrm_space_test EXTENDED=1 ACCEL=kvm)
for t in $targets; do
	for vars in default nondefault; do
		d=$work/first/$t-$vars
		log=$work/first-$t-$vars.log
		args=()
		[ "$vars" = nondefault ] && args=("${nondefault[@]}")
		clone_tree "$d/tpmrm" > "$log" 2>&1
		rc=0
		make -C "$d/tpmrm" "$t" SETUP_ONLY=1 BUILD="$d/no/such/build" \
			"${args[@]}" </dev/null >> "$log" 2>&1 || rc=$?
		if [ "$rc" = 0 ] && grep -Eq 'No such file|No rule to make|not found' "$log"; then
			rc=1
		fi
		result "$rc" "first command: make $t ($vars variables) in a fresh clone" "$log"
		rm -rf "$d"
	done
done

# 2. make run's exit status.
log=$work/run-true.log
rc=0
make -s -C "$REPO" run BUILD="$BUILD" CMD='true' </dev/null > "$log" 2>&1 || rc=$?
result "$rc" "make run CMD=true exits 0" "$log"

log=$work/run-false.log
rc=0
make -s -C "$REPO" run BUILD="$BUILD" CMD='false' </dev/null > "$log" 2>&1 || rc=$?
if [ "$rc" != 0 ] && grep -q '^boot: the job failed with exit status 1' "$log"; then
	rc=0
else
	echo "make exited $rc" >> "$log"
	rc=1
fi
result "$rc" "make run CMD=false exits non-zero and says why" "$log"

# 3. A first make run from a checkout whose path holds a space, under /tmp,
# and the same checkout through a symlink.
dir="$work/try me/tpmrm"
link="$work/a link to tpmrm"
log=$work/space.log
clone_tree "$dir" > "$log" 2>&1
ln -s "$dir" "$link"
rc=0
(cd "$dir" && make -s run </dev/null) >> "$log" 2>&1 || rc=$?
grep -q 'two users on /dev/tpmrm0' "$log" || rc=1
result "$rc" "first make run (demo) from a clone at a path with a space under /tmp" "$log"

log=$work/link.log
rc=0
(cd "$link" && make -s run CMD="test \"\$(pwd)\" = '$link' && test -r README.md && build/selftests-6.12/tpmrm_space_test" \
	</dev/null) > "$log" 2>&1 || rc=$?
result "$rc" "make run CMD=... in a checkout reached through a symlink, in the caller's folder" "$log"

# 4. The README's way to change an upstream file: commit in build/src-rm-6.12,
# make refresh.  No other target may move it away from that commit.
log=$work/refresh.log
rc=0
{
	git -C "$dir/build/src-rm-6.12" config user.name tpmrm &&
	git -C "$dir/build/src-rm-6.12" config user.email tpmrm@example.org &&
	echo '# harness test edit' >> "$dir/build/src-rm-6.12/tools/testing/selftests/tpm2/tpm2.py" &&
	git -C "$dir/build/src-rm-6.12" commit -qam 'harness test edit' &&
	! (cd "$dir" && make -s assemble) &&
	(cd "$dir" && make -s refresh) &&
	grep -q 'harness test edit' "$dir"/patches/6.12/*.patch &&
	(cd "$dir" && make -s assemble) &&
	grep -q 'harness test edit' "$dir/build/src-rm-6.12/tools/testing/selftests/tpm2/tpm2.py"
} </dev/null >> "$log" 2>&1 || rc=1
result "$rc" "a commit in build/src-rm-6.12 survives make assemble and lands in patches/ with make refresh" "$log"
(cd "$dir" && make -s distclean) > /dev/null 2>&1

# 5. make series signs with the git identity of whoever runs it, and
# writes nothing without one.
log=$work/identity.log
clone_tree "$work/ident/tpmrm" > "$log" 2>&1
rc=0
if (cd "$work/ident/tpmrm" &&
	env -u GIT_AUTHOR_NAME -u GIT_AUTHOR_EMAIL -u GIT_COMMITTER_NAME \
		-u GIT_COMMITTER_EMAIL -u EMAIL HOME="$work/nohome" \
		GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null \
		make -s series BUILD="$BUILD") </dev/null >> "$log" 2>&1; then
	rc=1
fi
grep -q 'no git identity' "$log" || rc=1
result "$rc" "make series without a git identity refuses and says how to set one" "$log"

# 6. A guest that stopped inside the last unit (QEMU ended: a reset after a
# panic the console did not show), after a unit that skipped.
log=$work/verdict.log
dir=$work/results-stopped
mkdir -p "$dir"
printf '%s\n' '### HARNESS stage2' '### BEGIN python/test_smoke.sh pyunit' \
	'test_a (x.T) ... skipped' '### END python/test_smoke.sh 4' \
	'### BEGIN selftest/tpmrm_suspend_test tap' 'TAP version 13' '1..1' > "$dir/results"
printf '%s\n' 'harness: running python/test_smoke.sh at 10.00s' \
	'harness: python/test_smoke.sh exited with 4' \
	'harness: running selftest/tpmrm_suspend_test at 20.00s' \
	'[   21.000000] PM: suspend entry (deep)' > "$dir/console.log"
echo 'exit 0' > "$dir/status"
rc=0
"$REPO/qemu-harness/scripts/verdict.sh" "$dir" > "$log" 2>&1 && rc=1
grep -q '^not ok - stopped: the test job did not finish' "$log" || rc=1
grep 'did not finish' "$log" | grep -q 'exited with 4' && rc=1
grep -q '^#   \[   21.000000\] PM: suspend entry' "$log" || rc=1
grep -q '^ok - stopped/python/test_smoke.sh: 0 passed, 0 failed, 1 skipped$' "$log" || rc=1
result "$rc" "verdict.sh: a guest that stopped in a unit fails, with the console's last lines, not a skip's exit 4" "$log"

echo "1..$n"
[ "$failed" = 0 ]
