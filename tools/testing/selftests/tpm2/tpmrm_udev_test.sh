#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Checks the separation of raw and resource-managed TPM users that the RM
# design relies on, as a distribution sets it up: a real systemd-udevd
# applies Debian's tpm-udev rules, then /dev/tpm0 must belong to tss with
# mode 0660, /dev/tpmrm0 to tss:tss with mode 0660, a member of group tss
# must be able to use /dev/tpmrm0 but not /dev/tpm0, and a user outside
# tss must get EACCES on both.  Needs root; prints TAP; exit 4 skips.

ksft_skip=4
udevd=/lib/systemd/systemd-udevd
rules=/lib/udev/rules.d/60-tpm-udev.rules

skip() {
	echo "1..0 # SKIP $1"
	exit $ksft_skip
}
[ "$(id -u)" = 0 ] || skip "needs root"
[ -e /dev/tpm0 ] && [ -e /dev/tpmrm0 ] || skip "no TPM 2.0 devices"
[ -x "$udevd" ] && [ -f "$rules" ] || skip "systemd-udevd or tpm-udev missing"
command -v setpriv >/dev/null && command -v useradd >/dev/null ||
	skip "setpriv or useradd missing"

n=0
failed=0
check() {
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1: expected '$2', got '$3'"
		failed=$((failed + 1))
	fi
}

# Start udevd unless one runs already, and replay the add events.
pgrep -x systemd-udevd >/dev/null || "$udevd" --daemon >/dev/null 2>&1
udevadm trigger --action=add --subsystem-match=tpm --subsystem-match=tpmrm
udevadm settle --timeout=30

getent group tss >/dev/null || groupadd -r tss
id tpmrm_in >/dev/null 2>&1 || useradd -M -G tss tpmrm_in
id tpmrm_out >/dev/null 2>&1 || useradd -M tpmrm_out

echo "1..8"
check "/dev/tpm0 owner, group, mode" "tss root 660" "$(stat -c '%U %G %a' /dev/tpm0)"
check "/dev/tpmrm0 owner, group, mode" "tss tss 660" "$(stat -c '%U %G %a' /dev/tpmrm0)"

# as USER, open DEV read-write and send TPM2_GetRandom(8); print the outcome
try() {
	setpriv --reuid="$1" --regid="$1" --init-groups python3 - "$2" <<'PY' 2>&1
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_RDWR)
except OSError as e:
    print(errno.errorcode[e.errno]); sys.exit()
os.write(fd, bytes.fromhex('80010000000c0000017b0008'))
rsp = os.read(fd, 4096)
print('rc=%08x len=%d' % (int.from_bytes(rsp[6:10], 'big'), len(rsp)))
PY
}
check "tss member uses /dev/tpmrm0" "rc=00000000 len=20" "$(try tpmrm_in /dev/tpmrm0)"
check "tss member refused /dev/tpm0" "EACCES" "$(try tpmrm_in /dev/tpm0)"
check "non-member refused /dev/tpmrm0" "EACCES" "$(try tpmrm_out /dev/tpmrm0)"
check "non-member refused /dev/tpm0" "EACCES" "$(try tpmrm_out /dev/tpm0)"
check "raw owner tss uses /dev/tpm0" "rc=00000000 len=20" "$(try tss /dev/tpm0)"
check "tss member sees tss group on /dev/tpmrm0" "yes" \
	"$(setpriv --reuid=tpmrm_in --regid=tpmrm_in --init-groups sh -c \
	   'test -r /dev/tpmrm0 && test -w /dev/tpmrm0 && echo yes || echo no')"
[ "$failed" = 0 ]
