#!/bin/bash
# Install the Debian packages the harness needs, only where one is missing.
set -eu
trap 'echo "deps: failed" >&2' ERR

pkgs="linux-source-6.12 linux-source-6.1 swtpm swtpm-tools qemu-system-x86 busybox-static sparse
ccache cpio bc flex bison libelf-dev libssl-dev dwarves gcc make git
python3 python3-ply python3-git python3-tpm2-pytss tpm2-tools tpm-udev passwd util-linux kmod gnuplot-nox
tpm2-abrmd libtss2-tcti-tabrmd0 libtss2-tctildr0 libtss2-tcti-device0 libtss2-dev dbus-daemon"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
