#!/bin/bash
# The patch series a maintainer would review, and their checks.
#
#   series.sh write REPO BUILD [BASE]  git format-patch every series, each
#                                with its cover letter, against the
#                                pristine base
#   series.sh check REPO BUILD [BASE]  git am them on a fresh copy of the
#                                base, build every commit and run its KUnit
#                                suites, checkpatch --strict every patch,
#                                sparse, kernel-doc, get_maintainer; TAP
#
# The core series: each commit is one patch of patches/BASE/ (its hunks to
# upstream files and its message) plus the files of ours that
# qemu-harness/series/series.map assigns to it.  A map entry PATH@REV takes
# the file as it was at REV in this repository; an entry -PATH deletes an
# upstream file in that commit (the old resource manager's files: the repo
# keeps no copy of them).
#
# Follow-up series: patches/BASE/followups names them in order; each is a
# folder patches/BASE/NAME/ of git patches (hunks to upstream files and to
# our files) and a cover-letter.txt, applied on top of the core and the
# follow-ups before it.  The repository keeps our files whole, as they are
# at the end of the last follow-up: the core's copy of a file is derived by
# applying the follow-ups' hunks to our files in reverse (git apply -R).
# The series must end at this tree, byte for byte.
#
# Output: BUILD/series/core/ and BUILD/series/NAME/ for the primary base
# (6.12), BUILD/series-BASE/... for another base.  From: and Signed-off-by:
# are the git identity of whoever runs this (git var GIT_AUTHOR_IDENT); with
# none, no series is written.
set -eu
MODE=$1
REPO=$(realpath "$2")
BUILD=$(realpath -m "$3")
BASE=${4:-6.12}
PATCHES=$REPO/patches/$BASE
HARNESS=$REPO/qemu-harness
MAP=$HARNESS/series/series.map
# 6.1's backport is one series with its own slugs
[ ! -f "$HARNESS/series/series-$BASE.map" ] || MAP=$HARNESS/series/series-$BASE.map
COVER=$HARNESS/series/cover-letter.txt
# a backport names what it changes, not the follow-ups it folds in
[ ! -f "$HARNESS/series/cover-letter-$BASE.txt" ] || COVER=$HARNESS/series/cover-letter-$BASE.txt
ALLOW=$HARNESS/series/checkpatch-allow.txt
FOLLOWUPS=$PATCHES/followups
if [ "$BASE" = 6.12 ]; then
	OUT_ROOT=$BUILD/series
else
	OUT_ROOT=$BUILD/series-$BASE
fi
# Our files as the core series ends with them.
CORE=$BUILD/series-core-files-$BASE
git_base=$BUILD/linux-$BASE
own_roots="Documentation drivers include tools"

[ -z "${TPMRM_SETUP_ONLY:-}" ] || { echo "setup-only: stop before writing or checking the series"; exit 0; }
die() {
	echo "series: $*" >&2
	exit 1
}

own_files() {
	(cd "$REPO" && for d in $own_roots; do
		[ -d "$d" ] && find "$d" -type f
	done) | sort
}

# The follow-up series' names, in the order they apply.
followups() {
	[ -f "$FOLLOWUPS" ] || return 0
	awk '!/^#/ && NF { print $1 }' "$FOLLOWUPS"
}

followup_patches() {
	ls "$PATCHES/$1"/[0-9]*.patch 2>/dev/null ||
		die "follow-up $1: no patches in $PATCHES/$1"
}

# Derive the core's copy of our files in $CORE: the whole files with every
# follow-up's hunks to them applied in reverse, last patch first.
derive_core_files() {
	local s p incl
	rm -rf "$CORE"
	mkdir -p "$CORE"
	git -C "$CORE" init -q
	own_files | (cd "$REPO" && xargs cp --parents -t "$CORE")
	incl=$(own_files | sed 's/^/--include=/')
	for s in $(followups | tac); do
		while IFS= read -r p; do
			# shellcheck disable=SC2086
			git -C "$CORE" apply -R $incl "$p" ||
				die "follow-up $s: $(basename "$p") does not come off our files; fix it in the series tree (README: Changing the series)"
		done < <(followup_patches "$s" | tac)
	done
}

# From: and Signed-off-by: of every patch: the identity of who runs this.
identity() {
	local ident
	ident=$(git -C "$REPO" var GIT_AUTHOR_IDENT 2>/dev/null) ||
		die "no git identity: set git config user.name and user.email (they sign the series)"
	AUTHOR_NAME=$(echo "$ident" | sed 's/ <.*//')
	AUTHOR_EMAIL=$(echo "$ident" | sed 's/.*<\(.*\)>.*/\1/')
	export GIT_COMMITTER_NAME=$AUTHOR_NAME GIT_COMMITTER_EMAIL=$AUTHOR_EMAIL
}

# Make the last commit of $1 the runner's, signed off by the runner.
sign_commit() {
	local tree=$1 msg
	msg=$(git -C "$tree" log -1 --format=%B | sed '/^Signed-off-by: /d' |
		git interpret-trailers --trailer \
			"Signed-off-by: $AUTHOR_NAME <$AUTHOR_EMAIL>")
	git -C "$tree" commit -q --amend --allow-empty \
		--author="$AUTHOR_NAME <$AUTHOR_EMAIL>" -m "$msg"
}

# Map entries (PATH or PATH@REV) for one patch, by its slug.
map_entries() {
	awk -v s="$1" '!/^#/ && $1 == s { for (i = 2; i <= NF; i++) print $i }' "$MAP"
}

slug_of() {
	basename "$1" .patch | sed 's/^[0-9]*-//'
}

# A fresh detached worktree of the base at $1.
fresh_tree() {
	git -C "$git_base" worktree remove --force "$1" 2>/dev/null || rm -rf "$1"
	git -C "$git_base" worktree prune
	git -C "$git_base" worktree add -q --detach "$1" base
}

# Put our file (entry PATH or PATH@REV) into worktree $1 and stage it.
place_file() {
	local tree=$1 entry=$2 path=${2%@*}
	mkdir -p "$tree/$(dirname "$path")"
	if [ "$entry" != "$path" ]; then
		git -C "$REPO" show "${entry#*@}:$path" > "$tree/$path" ||
			die "$entry: no such file at that revision"
	else
		[ -f "$CORE/$path" ] || die "$path: not in the repository"
		cp "$CORE/$path" "$tree/$path"
	fi
	git -C "$tree" add -f "$path"
}

check_map() {
	local f
	(cd "$CORE" && git ls-files -o --exclude-standard | sort) | while read -r f; do
		awk -v f="$f" '!/^#/ { for (i = 2; i <= NF; i++) if ($i == f) n++ }
			END { exit !n }' "$MAP" || die "$f is in no series commit (series.map)"
	done
	awk '!/^#/ && NF { print $1 }' "$MAP" | sort -u | while read -r s; do
		ls "$PATCHES"/[0-9]*-"$s".patch >/dev/null 2>&1 ||
			die "series.map names $s, which is not in patches/"
	done
}

# Fill the cover letter of the series in $1 from the text $2 (subject,
# blank line, body).
write_cover() {
	local cover=$1/0000-cover-letter.patch body=$2 subject
	subject=$(head -n 1 "$body")
	awk -v subj="$subject" -v body="$body" '
		/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subj) }
		/^\*\*\* BLURB HERE \*\*\*$/ {
			n = 0
			while ((getline l < body) > 0)
				if (n++ >= 2)
					print l
			next
		}
		{ print }' "$cover" > "$cover.new"
	mv "$cover.new" "$cover"
}

# git format-patch the commits $2..$3 of $1 as the series $4.
emit_series() {
	local tree=$1 from=$2 to=$3 name=$4 cover=$5
	git -C "$tree" format-patch -q --cover-letter --zero-commit \
		--no-signature -o "$OUT_ROOT/$name" "$from..$to"
	write_cover "$OUT_ROOT/$name" "$cover"
	echo "series: $name: $(ls "$OUT_ROOT/$name" | wc -l) files in $OUT_ROOT/$name, $(git -C "$tree" diff --shortstat "$from" "$to")"
}

# Every file of ours in $1 must equal $2's copy, and no other may be there.
same_files() {
	local tree=$1 src=$2 what=$3 f
	(cd "$src" && git ls-files -o --exclude-standard) | while read -r f; do
		cmp -s "$src/$f" "$tree/$f" ||
			die "$f: $what does not end with this tree's copy"
	done
}

write_series() {
	local tree=$BUILD/series-src-$BASE p e s core prev
	local -A heads
	[ -d "$git_base" ] || die "no base tree in $git_base (run make base)"
	identity
	derive_core_files
	check_map
	fresh_tree "$tree"
	for p in "$PATCHES"/[0-9]*.patch; do
		git -C "$tree" am -q --committer-date-is-author-date "$p" ||
			die "$(basename "$p") does not apply"
		for e in $(map_entries "$(slug_of "$p")"); do
			case $e in
			-*) git -C "$tree" rm -q "${e#-}" ;;
			*) place_file "$tree" "$e" ;;
			esac
		done
		git -C "$tree" diff --cached --quiet ||
			git -C "$tree" commit -q --amend --no-edit
		sign_commit "$tree"
	done
	same_files "$tree" "$CORE" "the core series"
	core=$(git -C "$tree" rev-parse HEAD)
	for s in $(followups); do
		while IFS= read -r p; do
			git -C "$tree" am -q --committer-date-is-author-date "$p" ||
				die "follow-up $s: $(basename "$p") does not apply"
			sign_commit "$tree"
		done < <(followup_patches "$s")
		heads[$s]=$(git -C "$tree" rev-parse HEAD)
	done
	own_files | while read -r e; do
		cmp -s "$REPO/$e" "$tree/$e" ||
			die "$e: the series ends with another copy than this tree's"
	done
	rm -rf "$OUT_ROOT"
	emit_series "$tree" base "$core" core "$COVER"
	prev=$core
	for s in $(followups); do
		emit_series "$tree" "$prev" "${heads[$s]}" "$s" "$PATCHES/$s/cover-letter.txt"
		prev=${heads[$s]}
	done
	# SERIES_KEEP_TREE=1 keeps the series as commits, to change a step.
	[ -n "${SERIES_KEEP_TREE:-}" ] || git -C "$tree" worktree remove --force "$tree"
}

# --- check ---------------------------------------------------------------

n=0
failed=0
tap() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

kconfig() {
	local tree=$1 obj=$2
	make -s -C "$tree" O="$obj" ARCH=x86_64 tinyconfig >/dev/null 2>&1
	KCONFIG_CONFIG=$obj/.config "$tree/scripts/kconfig/merge_config.sh" \
		-m -O "$obj" "$obj/.config" "$HARNESS/config/minimal.config" \
		"$HARNESS/config/rm.config" >/dev/null 2>&1
	make -s -C "$tree" O="$obj" ARCH=x86_64 olddefconfig >/dev/null 2>&1
}

# Boot bzImage $1 without a root file system: the built-in KUnit suites run
# before the kernel looks for one.  Their totals, any WARN, oops or KASAN
# report fails it; a kernel without our suites skips.
check_kunit() {
	local obj=$1 what=$2 log=$1/kunit.log rc=0 totals
	if ! grep -q '^CONFIG_TCG_TPM2_RM_KUNIT_TEST=y' "$obj/.config"; then
		echo "ok $((n + 1)) - KUnit $what # SKIP no KUnit suite at this commit"
		n=$((n + 1))
		return
	fi
	timeout 600 qemu-system-x86_64 -machine q35 -accel tcg -m 512 \
		-nographic -no-reboot -kernel "$obj/arch/x86/boot/bzImage" \
		-append "console=ttyS0 panic=-1 kunit.filter_glob=tpm2_*" \
		> "$log" 2>&1 < /dev/null || true
	# one "# Totals:" line per suite; a suite that did not end has none
	totals=$(awk '/# Totals: / {
			for (i = 1; i <= NF; i++) {
				split($i, kv, ":")
				if (kv[1] in n)
					n[kv[1]] += kv[2]
			}
			suites++
		}
		BEGIN { n["pass"] = n["fail"] = n["skip"] = 0 }
		END {
			if (suites)
				printf "%d suites, pass:%d fail:%d skip:%d", suites,
				       n["pass"], n["fail"], n["skip"]
		}' "$log")
	case $totals in
	*" fail:0 "*) ;;
	*) rc=1 ;;
	esac
	if grep -qE '\] not ok [0-9]+ tpm2_' "$log" ||
	   grep -qE 'WARNING:|BUG:|Oops|KASAN|kmemleak' "$log"; then
		rc=1
	fi
	[ "$rc" = 0 ] || grep -E 'not ok|WARNING:|BUG:|Oops|KASAN' "$log" |
		head -n 20 | sed 's/^/#   /'
	tap "$rc" "KUnit $what: ${totals:-no totals}"
}

# Build every commit of $3..HEAD in turn, as git bisect would; with $4,
# boot each one's KUnit suites too.
check_builds() {
	local tree=$1 obj=$2 from=$3 kunit=${4:-} c log rc what tip
	tip=$(git -C "$tree" rev-parse HEAD)
	for c in $(git -C "$tree" rev-list --reverse "$from..$tip"); do
		what=$(git -C "$tree" log -1 --format='%h %s' "$c")
		# a selftest or documentation commit leaves the kernel as it was
		if git -C "$tree" diff --quiet "$c^" "$c" -- . ':!tools' \
			':!Documentation' ':!MAINTAINERS'; then
			echo "ok $((n + 1)) - build $what # SKIP no kernel source changed"
			n=$((n + 1))
			continue
		fi
		git -C "$tree" checkout -q --detach "$c"
		kconfig "$tree" "$obj"
		log=$obj/build-$c.log
		rc=0
		make -s -C "$tree" O="$obj" ARCH=x86_64 CC="ccache gcc" \
			-j"${JOBS:-$(nproc)}" bzImage > "$log" 2>&1 || rc=1
		if grep -q 'warning:' "$log"; then
			rc=1
		fi
		[ "$rc" = 0 ] || sed 's/^/#   /' "$log" | tail -n 20
		tap "$rc" "build $what"
		if [ -n "$kunit" ] && [ "$rc" = 0 ]; then
			check_kunit "$obj" "${what%% *}"
		fi
	done
	git -C "$tree" checkout -q --detach "$tip"
}

# Known checkpatch messages and why they stay: "SLUG TYPE # why"; a "*"
# in SLUG matches any text (selftests-tpm2-add-* is every test file's patch).
allowed() {
	awk -v s="$1" -v t="$2" '!/^#/ && $2 == t {
			re = $1
			gsub(/[.]/, "[.]", re)
			gsub(/[*]/, ".*", re)
			if (s ~ ("^" re "$"))
				f = 1
		}
		END { exit !f }' "$ALLOW"
}

check_checkpatch() {
	local tree=$1 dir=$2 p out rc type msgs
	for p in "$dir"/[0-9]*.patch; do
		case $p in *0000-cover-letter.patch) continue ;; esac
		# Debian's python3 has ply, for checkpatch's SPDX check.
		out=$( (cd "$tree" && PATH=/usr/bin:$PATH \
			scripts/checkpatch.pl --strict --show-types \
			--terse "$p") 2>&1 || true)
		rc=0
		msgs=$(echo "$out" | grep -E ': (ERROR|WARNING|CHECK):' || true)
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			type=$(echo "$line" | sed -n 's/.*: \(ERROR\|WARNING\|CHECK\):\([A-Z_]*\):.*/\2/p')
			if allowed "$(slug_of "$p")" "$type"; then
				echo "#   allowed (checkpatch-allow.txt): $line"
			else
				echo "#   $line"
				rc=1
			fi
		done <<< "$msgs"
		tap "$rc" "checkpatch --strict $(basename "$dir")/$(basename "$p")"
	done
}

check_sparse() {
	local tree=$1 obj=$2 ours log rc=0
	log=$obj/sparse.log
	touch "$tree"/drivers/char/tpm/*.c
	make -s -C "$tree" O="$obj" ARCH=x86_64 C=2 drivers/char/tpm/ \
		> "$log" 2>&1 || rc=1
	ours=$(git -C "$tree" diff --name-only base..HEAD -- drivers/char/tpm |
		sed 's|.*/||' | paste -sd'|')
	if grep -E "($ours):[0-9]+:[0-9]+: (warning|error)" "$log"; then
		rc=1
	fi
	tap "$rc" "sparse (make C=2 drivers/char/tpm/): no warning in the series' files"
}

check_kernel_doc() {
	local tree=$1 files out
	files=$(own_files | grep -E '^(drivers|include)/.*\.[ch]$')
	out=$( (cd "$tree" && scripts/kernel-doc -none $files) 2>&1)
	[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
	tap "$([ -z "$out" ] && echo 0 || echo 1)" "kernel-doc -none over $(echo $files | wc -w) files"
}

check_maintainers() {
	local tree=$1 f out rc=0
	for f in $(own_files | grep -E '^(drivers|include|Documentation)/'); do
		out=$( (cd "$tree" && scripts/get_maintainer.pl --no-git \
			--no-git-fallback --no-rolestats -f "$f") 2>/dev/null)
		if ! echo "$out" | grep -q 'tpmrm@example.org'; then
			echo "#   $f: get_maintainer.pl does not name the RM entry"
			rc=1
		fi
	done
	tap "$rc" "get_maintainer.pl names the TPM RESOURCE MANAGER entry for our files"
}

# git am the series in $2 on top of $1's HEAD, checkpatch it, build every
# commit (with KUnit when $3 is set).
check_one_series() {
	local tree=$1 dir=$2 kunit=${3:-} obj=$BUILD/obj-$BASE-series-check
	local rc=0 from patches
	[ -d "$dir" ] || die "no series in $dir (make series)"
	from=$(git -C "$tree" rev-parse HEAD)
	patches=$(ls "$dir"/[0-9]*.patch | grep -v 0000-cover)
	# shellcheck disable=SC2086
	git -C "$tree" am -q $patches || rc=1
	tap "$rc" "$(basename "$dir"): git am of $(echo "$patches" | wc -l) patches"
	[ "$rc" = 0 ] || return 1
	check_checkpatch "$tree" "$dir"
	check_builds "$tree" "$obj" "$from" "$kunit"
}

# Every patch is from, and signed off by, whoever ran make series.
check_identity() {
	local p rc=0
	identity
	for p in "$OUT_ROOT"/*/[0-9]*.patch; do
		case $p in *0000-cover-letter.patch) continue ;; esac
		grep -q "^Signed-off-by: $AUTHOR_NAME <$AUTHOR_EMAIL>\$" "$p" &&
			[ "$(git mailinfo /dev/null /dev/null < "$p" |
			     sed -n 's/^Email: //p')" = "$AUTHOR_EMAIL" ] || {
			echo "#   $p: not from $AUTHOR_NAME <$AUTHOR_EMAIL>"
			rc=1
		}
	done
	tap "$rc" "every patch is from and signed off by $AUTHOR_NAME <$AUTHOR_EMAIL>"
}

check_series() {
	local tree=$BUILD/series-check-$BASE s
	check_identity
	fresh_tree "$tree"
	check_one_series "$tree" "$OUT_ROOT/core" kunit || return 0
	# the follow-ups' KUnit suites run in make check's boots, on the
	# whole tree; here each follow-up commit is built
	for s in $(followups); do
		check_one_series "$tree" "$OUT_ROOT/$s" || return 0
	done
	check_sparse "$tree" "$BUILD/obj-$BASE-series-check"
	check_kernel_doc "$tree"
	check_maintainers "$tree"
}

case $MODE in
write)
	write_series
	;;
check)
	echo "TAP version 13"
	check_series
	echo "1..$n"
	echo "# series-check: $((n - failed)) passed, $failed failed"
	[ "$failed" = 0 ]
	;;
*)
	die "usage: series.sh write|check REPO BUILD [BASE]"
	;;
esac
