#!/bin/bash
# Unpack Debian's linux-source-$BASE (6.12 or 6.1) once into $BUILD/linux-$BASE
# as the pristine git commit tagged "base", and record its exact version in
# $BUILD/linux-$BASE.version.
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

rm -rf "$tmp" "$src"
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
git -C "$src" config user.name "tpmrm harness"
git -C "$src" config user.email "tpmrm@example.org"
git -C "$src" add -A -f
git -C "$src" commit -q -m "Debian linux-source-$BASE $ver (pristine base)"
git -C "$src" tag base
echo "$ver" > "$version"
echo "base: Linux $ver committed as 'base'"
