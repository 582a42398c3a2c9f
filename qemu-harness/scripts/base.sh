#!/bin/bash
# Unpack Debian's linux-source-6.1 once into $BUILD/linux as the pristine git
# commit tagged "base", and record its exact version in $BUILD/base-version.
set -eu
BUILD=$1
TARBALL=/usr/src/linux-source-6.1.tar.xz
WANT=6.1
src=$BUILD/linux
tmp=$BUILD/linux.unpacking
trap 'rm -rf "$tmp"' EXIT

if [ -f "$BUILD/base-version" ] && git -C "$src" rev-parse -q --verify base >/dev/null; then
	exit 0
fi
[ -f "$TARBALL" ] || { echo "base: $TARBALL missing (apt-get install linux-source-6.1)" >&2; exit 1; }

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
git -C "$src" commit -q -m "Debian linux-source-6.1 $ver (pristine base)"
git -C "$src" tag base
echo "$ver" > "$BUILD/base-version"
echo "base: Linux $ver committed as 'base'"
