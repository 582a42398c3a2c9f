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
git -C "$src" format-patch -q --zero-commit --no-signature -o "$out" base..HEAD
rm -f "$REPO"/patches/"$BASE"/*.patch
cp "$out"/*.patch "$REPO/patches/$BASE/" 2>/dev/null || true
# patches/ now holds src-rm's commits: the next assembly may move past them.
git -C "$src" rev-parse HEAD > "$BUILD/src-rm-$BASE.assembled"
ls "$REPO/patches/$BASE"
