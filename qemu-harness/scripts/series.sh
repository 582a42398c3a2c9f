#!/bin/bash
# The patch series a maintainer would review, and its checks.
#
#   series.sh write REPO BUILD [BASE]  git format-patch series + cover letter in
#                                BUILD/series/, against the pristine base
#   series.sh check REPO BUILD   git am it on a fresh copy of the base, build
#                                every commit, checkpatch --strict every
#                                patch, sparse, kernel-doc, get_maintainer;
#                                prints TAP
#
# Each series commit is one patch of patches/BASE/ (its hunks to upstream files
# and its message) plus the files of ours that qemu-harness/series/series.map
# assigns to it.  A map entry PATH@REV takes the file as it was at REV in
# this repository (a feature added to a file later in the series); the last
# entry of a file must be the current one, and every file of ours must be in
# the map, so the series always ends at this tree.  An entry -PATH deletes an
# upstream file in that commit (the old resource manager's files: the repo
# keeps no copy of them, the series in BUILD/series shows the deletion).
set -eu
MODE=$1
REPO=$(realpath "$2")
BUILD=$(realpath -m "$3")
BASE=${4:-6.12}
PATCHES=$REPO/patches/$BASE
HARNESS=$REPO/qemu-harness
MAP=$HARNESS/series/series.map
COVER=$HARNESS/series/cover-letter.txt
ALLOW=$HARNESS/series/checkpatch-allow.txt
OUT=$BUILD/series-$BASE
git_base=$BUILD/linux-$BASE
own_roots="Documentation drivers include tools"
export GIT_COMMITTER_NAME="tpmrm developers"
export GIT_COMMITTER_EMAIL=tpmrm@example.org

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
		[ -f "$REPO/$path" ] || die "$path: not in the repository"
		cp "$REPO/$path" "$tree/$path"
	fi
	git -C "$tree" add -f "$path"
}

check_map() {
	local f
	own_files | while read -r f; do
		awk -v f="$f" '!/^#/ { for (i = 2; i <= NF; i++) if ($i == f) n++ }
			END { exit !n }' "$MAP" || die "$f is in no series commit (series.map)"
	done
	awk '!/^#/ && NF { print $1 }' "$MAP" | sort -u | while read -r s; do
		ls "$PATCHES"/[0-9]*-"$s".patch >/dev/null 2>&1 ||
			die "series.map names $s, which is not in patches/"
	done
}

write_cover() {
	local cover=$OUT/0000-cover-letter.patch subject
	subject=$(head -n 1 "$COVER")
	awk -v subj="$subject" -v body="$COVER" '
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

write_series() {
	local tree=$BUILD/series-src-$BASE p e
	[ -d "$git_base" ] || die "no base tree in $git_base (run make base)"
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
	done
	own_files | while read -r e; do
		cmp -s "$REPO/$e" "$tree/$e" ||
			die "$e: the series ends with an older copy (series.map)"
	done
	rm -rf "$OUT"
	git -C "$tree" format-patch -q --cover-letter --zero-commit \
		--no-signature -o "$OUT" base..HEAD
	write_cover
	echo "series: $(ls "$OUT" | wc -l) files in $OUT"
	git -C "$tree" diff --stat=72 base..HEAD | tail -n 1
	git -C "$tree" worktree remove --force "$tree"
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

# Build every commit of the series in turn, as git bisect would.
check_builds() {
	local tree=$1 obj=$2 c log rc
	for c in $(git -C "$tree" rev-list --reverse base..HEAD); do
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
		tap "$rc" "build $(git -C "$tree" log -1 --format='%h %s' "$c")"
	done
}

# Known checkpatch messages and why they stay: "SLUG TYPE # why".
allowed() {
	awk -v s="$1" -v t="$2" '!/^#/ && $1 == s && $2 == t { f = 1 }
		END { exit !f }' "$ALLOW"
}

check_checkpatch() {
	local tree=$1 p out rc type msgs
	for p in "$OUT"/[0-9]*.patch; do
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
		tap "$rc" "checkpatch --strict $(basename "$p")"
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

check_series() {
	local tree=$BUILD/series-check-$BASE obj=$BUILD/obj-$BASE-series-check rc=0 head
	[ -d "$OUT" ] || die "no series in $OUT (make series)"
	fresh_tree "$tree"
	git -C "$tree" am -q $(ls "$OUT"/[0-9]*.patch | grep -v 0000-cover) || rc=1
	tap "$rc" "git am of $(ls "$OUT"/[0-9]*.patch | grep -vc 0000-cover) patches on a fresh base"
	[ "$rc" = 0 ] || return
	head=$(git -C "$tree" rev-parse HEAD)
	check_checkpatch "$tree"
	check_builds "$tree" "$obj"
	git -C "$tree" checkout -q --detach "$head"
	check_sparse "$tree" "$obj"
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
