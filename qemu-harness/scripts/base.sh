#!/bin/bash
# Unpack Debian's linux-source-$BASE (6.12 or 6.1) once into $BUILD/linux-$BASE
# as the pristine git commit tagged "base", and record its exact version in
# $BUILD/linux-$BASE.version.
# The first unpack also keeps a bare copy in ~/.cache/tpmrm (TPMRM_CACHE),
# keyed by the package's version: a new build folder clones it, which is
# several times faster than unpacking and committing the tarball again.
set -eu
BUILD=$1
BASE=${2:-6.12}
TARBALL=/usr/src/linux-source-$BASE.tar.xz
WANT=$BASE
src=$BUILD/linux-$BASE
version=$src.version
tmp=$BUILD/linux-$BASE.unpacking
trap 'rm -rf "$tmp"' EXIT

if [ -f "$version" ] && git -C "$src" rev-parse -q --verify base >/dev/null; then
	exit 0
fi
[ -f "$TARBALL" ] || { echo "base: $TARBALL missing (apt-get install linux-source-$BASE)" >&2; exit 1; }
[ -z "${TPMRM_SETUP_ONLY:-}" ] || { echo "setup-only: stop before unpacking the base"; exit 0; }

cache=${TPMRM_CACHE:-$HOME/.cache/tpmrm}/base-$(dpkg-query -W -f='${Version}' linux-source-$WANT).git
rm -rf "$tmp" "$src"
if git -C "$cache" rev-parse -q --verify base >/dev/null 2>&1; then
	echo "base: cloning $cache"
	git clone -q -c gc.auto=0 "$cache" "$tmp"
	git -C "$tmp" config user.name "tpmrm harness"
	git -C "$tmp" config user.email "tpmrm@example.org"
	mv "$tmp" "$src"
	make -s --no-print-directory -C "$src" kernelversion > "$version"
	echo "base: Linux $(cat "$version") from the cache as 'base'"
	exit 0
fi
mkdir -p "$tmp"
echo "base: unpacking $TARBALL"
tar -xJf "$TARBALL" -C "$tmp"
mv "$tmp"/linux-source-* "$src"

ver=$(make -s --no-print-directory -C "$src" kernelversion)
case "$ver" in
$WANT.*) ;;
*) echo "base: found Linux $ver, but this project is pinned to $WANT.y" >&2
   rm -rf "$src"; exit 1 ;;
esac

git -C "$src" init -q
# No automatic repack of the 80,000 new objects: minutes of CPU for nothing.
git -C "$src" config gc.auto 0
git -C "$src" config user.name "tpmrm harness"
git -C "$src" config user.email "tpmrm@example.org"
git -C "$src" add -A -f
git -C "$src" commit -q -m "Debian linux-source-$BASE $ver (pristine base)"
git -C "$src" tag base
echo "$ver" > "$version"
mkdir -p "${cache%/*}"
rm -rf "$cache.tmp"
git clone -q --bare "$src" "$cache.tmp" && mv "$cache.tmp" "$cache" ||
	echo "base: could not keep a copy in $cache" >&2
echo "base: Linux $ver committed as 'base'"
