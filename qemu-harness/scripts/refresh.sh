#!/bin/bash
# Rewrite patches/$BASE/ from the commits on top of "base" in $BUILD/src-rm-$BASE, so that
# edits to upstream files made (and committed) in the assembled tree land in
# the repository.  Our own files are symlinks there and need no refresh.
set -eu
REPO=$1
BUILD=$2
BASE=${3:-6.12}
src=$BUILD/src-rm-$BASE
[ -z "${TPMRM_SETUP_ONLY:-}" ] || { echo "setup-only: stop before refreshing patches/"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
	echo "refresh: commit your edits in $src first (git commit --fixup, rebase)" >&2
	exit 1
fi
# Commits of src-rm: the core patches, then each follow-up's (their hunks
# to upstream files only; assemble.sh overlays our files whole), then any
# new commit.  A follow-up's patch also holds hunks to our files, so it is
# changed in the series tree (README: Changing the series), not here.
core=$(ls "$REPO"/patches/"$BASE"/[0-9]*.patch 2>/dev/null | wc -l)
fu=0
if [ -f "$REPO/patches/$BASE/followups" ]; then
	for s in $(awk '!/^#/ && NF { print $1 }' "$REPO/patches/$BASE/followups"); do
		fu=$((fu + $(ls "$REPO/patches/$BASE/$s"/[0-9]*.patch | wc -l)))
	done
fi
mapfile -t now < <(git -C "$src" rev-list --reverse base..HEAD)
mapfile -t was < <(git -C "$src" rev-list --reverse "base..$(cat "$BUILD/src-rm-$BASE.assembled")")
patch_id() {
	git -C "$src" diff-tree -p "$1^" "$1" | git -C "$src" patch-id --stable | cut -d' ' -f1
}
for ((i = core; i < core + fu; i++)); do
	if [ -z "${now[i]:-}" ] || [ "$(patch_id "${now[i]}")" != "$(patch_id "${was[i]}")" ]; then
		echo "refresh: commit $((i + 1)) of $src belongs to a follow-up series; change it in the series tree (README: Changing the series)" >&2
		exit 1
	fi
done
k=0
for ((i = 0; i < ${#now[@]}; i++)); do
	((i < core || i >= core + fu)) || continue
	k=$((k + 1))
	git -C "$src" format-patch -q --zero-commit --no-signature \
		--start-number "$k" -o "$out" -1 "${now[i]}"
done
rm -f "$REPO"/patches/"$BASE"/[0-9]*.patch
cp "$out"/*.patch "$REPO/patches/$BASE/" 2>/dev/null || true
# patches/ now holds src-rm's commits: the next assembly may move past them.
git -C "$src" rev-parse HEAD > "$BUILD/src-rm-$BASE.assembled"
ls "$REPO/patches/$BASE"
