#!/bin/bash
# Build the guest's tiny initramfs: static busybox and our first-stage init,
# which mounts the host's root over 9p and switches into it.
set -eu
INIT=$1
OUT=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

[ -f "$OUT" ] && [ "$OUT" -nt "$INIT" ] && [ "$OUT" -nt /bin/busybox ] && [ "$OUT" -nt "$0" ] && exit 0
mkdir -p "$(dirname "$OUT")" "$stage"/{bin,dev,proc,sys,lower,upper,newroot}
cp /bin/busybox "$stage/bin/busybox"
cp "$INIT" "$stage/init"
chmod 755 "$stage/init"
(cd "$stage" && find . | cpio -o -H newc --quiet) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "initramfs: $OUT"
