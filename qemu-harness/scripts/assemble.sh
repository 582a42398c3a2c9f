#!/bin/bash
# Assemble the "rm" source tree in $BUILD/src-rm-$BASE: the base commit plus
# the numbered patch series of that base, patches/$BASE/ (as git commits,
# built without touching files), then
# our own files overlaid as symlinks to this repository.  Moving between two
# series commits rewrites only the files that differ, and symlinks keep their
# targets' timestamps, so kbuild rebuilds only what really changed.
set -eu
REPO=$1
BUILD=$2
BASE=${3:-6.12}
git_base=$BUILD/linux-$BASE
src=$BUILD/src-rm-$BASE
index=$BUILD/series-$BASE.index
# The commit the last assembly checked out in src-rm.
assembled=$BUILD/src-rm-$BASE.assembled
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$index"' EXIT

# Top-level folders of the kernel tree that our files may live in.
overlay_roots="Documentation drivers include tools"
[ -z "${TPMRM_SETUP_ONLY:-}" ] || { echo "setup-only: stop before assembling the tree"; exit 0; }

# The patches of patches/$BASE/: the core series, then each follow-up
# series that patches/$BASE/followups names, in order.
series_patches() {
	local s
	ls "$REPO"/patches/"$BASE"/[0-9]*.patch 2>/dev/null || true
	[ -f "$REPO/patches/$BASE/followups" ] || return 0
	for s in $(awk '!/^#/ && NF { print $1 }' "$REPO/patches/$BASE/followups"); do
		ls "$REPO/patches/$BASE/$s"/[0-9]*.patch
	done
}

# Follow-up patches carry hunks to our files too; those are overlaid whole.
own_excludes() {
	(cd "$REPO" && for d in $overlay_roots; do
		[ -d "$d" ] && find "$d" -type f
	done) | sed 's/^/--exclude=/'
}

apply_series() {
	local head p tree subject excl
	head=$(git -C "$git_base" rev-parse base)
	excl=$(own_excludes)
	while IFS= read -r p; do
		GIT_INDEX_FILE=$index git -C "$git_base" read-tree "$head"
		# shellcheck disable=SC2086
		if ! GIT_INDEX_FILE=$index git -C "$git_base" apply --cached $excl "$p"; then
			echo "assemble: $(basename "$p") does not apply" >&2
			exit 1
		fi
		tree=$(GIT_INDEX_FILE=$index git -C "$git_base" write-tree)
		git mailinfo -b "$tmp/msg" "$tmp/diff" < "$p" > "$tmp/info"
		subject=$(sed -n 's/^Subject: //p' "$tmp/info")
		head=$({ echo "$subject"; echo; cat "$tmp/msg"; } |
			GIT_AUTHOR_NAME=$(sed -n 's/^Author: //p' "$tmp/info") \
			GIT_AUTHOR_EMAIL=$(sed -n 's/^Email: //p' "$tmp/info") \
			GIT_AUTHOR_DATE=$(sed -n 's/^Date: //p' "$tmp/info") \
			GIT_COMMITTER_NAME="tpmrm harness" \
			GIT_COMMITTER_EMAIL=tpmrm@example.org \
			GIT_COMMITTER_DATE="$(sed -n 's/^Date: //p' "$tmp/info")" \
			git -C "$git_base" commit-tree "$tree" -p "$head")
	done < <(series_patches)
	echo "$head"
}

checkout_series() {
	local head=$1 cur
	if [ ! -d "$src" ]; then
		git -C "$git_base" worktree prune
		git -C "$git_base" worktree add -q --detach "$src" "$head"
		echo "$head" > "$assembled"
		return
	fi
	if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
		echo "assemble: $src has uncommitted edits to upstream files." >&2
		echo "assemble: commit them there and run 'make refresh', or discard them." >&2
		exit 1
	fi
	cur=$(git -C "$src" rev-parse HEAD)
	if [ "$cur" = "$head" ]; then
		echo "$head" > "$assembled"
		return
	fi
	# Commits made in src-rm since the last assembly are edits to upstream
	# files that patches/ does not hold yet: never move away from them.
	if [ -f "$assembled" ] && [ "$cur" != "$(cat "$assembled")" ]; then
		if [ -n "${TPMRM_KEEP_COMMITS:-}" ]; then
			echo "assemble: keeping the commits in $src for refresh"
			return
		fi
		echo "assemble: $src has commits that patches/ does not hold (HEAD $(git -C "$src" log -1 --format=%h "$cur"))." >&2
		echo "assemble: run 'make refresh' to write them to patches/, or check out the assembled commit to drop them." >&2
		exit 1
	fi
	git -C "$src" checkout -q --detach "$head"
	echo "$head" > "$assembled"
}

overlay_files() {
	local f old=$BUILD/overlay-$BASE.list new=$tmp/overlay.list
	(cd "$REPO" && for d in $overlay_roots; do
		[ -d "$d" ] && find "$d" -type f
	done) | sort > "$new"
	touch "$old"
	# Drop links whose file left the repository.
	comm -23 "$old" "$new" | while read -r f; do
		[ -L "$src/$f" ] && rm -f "$src/$f"
	done
	while read -r f; do
		if [ -e "$src/$f" ] && [ ! -L "$src/$f" ]; then
			echo "assemble: $f exists upstream; change it with a patch" >&2
			exit 1
		fi
		[ "$(readlink "$src/$f" 2>/dev/null)" = "$REPO/$f" ] && continue
		mkdir -p "$(dirname "$src/$f")"
		ln -sfn "$REPO/$f" "$src/$f"
	done < "$new"
	cp "$new" "$old"
}

checkout_series "$(apply_series)"
overlay_files
echo "assemble: $src at $(git -C "$src" log -1 --format='%h %s')"
