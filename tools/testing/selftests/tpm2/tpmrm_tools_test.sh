#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Drives tpm2-tools (5.x) through the TPM resource manager: each tool is a
# separate open of /dev/tpmrm0 and hands its objects and sessions on to
# the next tool as saved contexts. Creates an ECC primary, a signing key
# under it, loads it, signs and verifies (and checks that a wrong message
# fails), builds a PCR policy in a policy session and compares the digest
# with a trial session and with one computed here, and checks that a new
# open sees no transient handles. Prints TAP; exit 4 skips.
#
# TPMRM_TOOLS_TCTI overrides the TCTI (e.g. swtpm:port=2321 on a host).

ksft_skip=4
TCTI=${TPMRM_TOOLS_TCTI:-device:/dev/tpmrm0}

if [ -z "$TPMRM_TOOLS_TCTI" ] && [ ! -e /dev/tpmrm0 ]; then
	echo "1..0 # SKIP /dev/tpmrm0 not present"
	exit $ksft_skip
fi
for t in tpm2_createprimary tpm2_create tpm2_load tpm2_sign \
	 tpm2_verifysignature tpm2_startauthsession tpm2_policypcr \
	 tpm2_flushcontext tpm2_getcap tpm2_pcrread sha256sum od; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "1..0 # SKIP $t not installed"
		exit $ksft_skip
	fi
done

dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	if [ -s err ]; then
		sed 's/^/# /' err
	fi
}
check() {
	desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
	fi
}
size() {
	wc -c < "$1" | tr -d ' '
}
# Writes the bytes of a hex string to stdout.
unhex() {
	echo "$1" | sed 's/../& /g' | tr ' ' '\n' | while read -r b; do
		[ -n "$b" ] && printf "\\$(printf '%03o' "0x$b")"
	done
}
# A bare TPM on a host has no RM to flush what each tool leaves loaded.
host_flush() {
	if [ -n "$TPMRM_TOOLS_TCTI" ]; then
		tpm2_flushcontext -T "$TCTI" -t 2> /dev/null
	fi
}
hexof() {
	od -An -v -tx1 "$1" | tr -d ' \n'
}

echo "TAP version 13"
echo "1..13"

tpm2_createprimary -T "$TCTI" -C o -G ecc256:null:aes128cfb \
	-c primary.ctx > primary.out 2> err
check "createprimary: ECC P-256 restricted decrypt primary saved" \
	sh -c 'test -s primary.ctx && grep -q "NIST p256" primary.out &&
	       grep -q "restricted|decrypt" primary.out'
host_flush

tpm2_create -T "$TCTI" -C primary.ctx -G ecc256:ecdsa-sha256 \
	-u key.pub -r key.priv > create.out 2> err
check "create: ECDSA signing key under the primary" \
	sh -c 'test -s key.pub && test -s key.priv &&
	       grep -q "|sign" create.out'
host_flush

tpm2_load -T "$TCTI" -C primary.ctx -u key.pub -r key.priv \
	-c key.ctx -n key.name > load.out 2> err
check "load: key loaded, Name is sha256 (34 bytes, 000b...)" \
	sh -c 'test -s key.ctx && test "$(wc -c < key.name)" -eq 34 &&
	       test "$(od -An -tx1 -N2 key.name | tr -d " ")" = 000b'
host_flush

echo "tpm resource manager selftest message" > msg
echo "a different message" > msg2
tpm2_sign -T "$TCTI" -c key.ctx -g sha256 -o sig.bin msg > /dev/null 2> err
host_flush
# TPMT_SIGNATURE: sigAlg ECDSA (0018), hash SHA256 (000b), r, s.
check "sign: ECDSA SHA-256 signature" \
	sh -c 'test "$(od -An -tx1 -N4 sig.bin | tr -d " ")" = 0018000b &&
	       test "$(wc -c < sig.bin)" -ge 70'

tpm2_verifysignature -T "$TCTI" -c key.ctx -g sha256 -m msg -s sig.bin \
	-t ticket.bin > /dev/null 2> err
rc=$?
host_flush
check "verifysignature: signature verifies, ticket written" \
	sh -c 'test '$rc' -eq 0 && test -s ticket.bin &&
	       test "$(od -An -tx1 -N2 ticket.bin | tr -d " ")" = 8022'

if tpm2_verifysignature -T "$TCTI" -c key.ctx -g sha256 -m msg2 \
	-s sig.bin > /dev/null 2> err; then
	host_flush
	not_ok "verifysignature: wrong message is rejected"
else
	host_flush
	ok "verifysignature: wrong message is rejected"
fi

tpm2_startauthsession -T "$TCTI" --policy-session -S session.ctx 2> err
check "startauthsession: policy session saved" test -s session.ctx

tpm2_policypcr -T "$TCTI" -S session.ctx -l sha256:0 -L policy.dat \
	> /dev/null 2> err
check "policypcr: 32-byte policy digest" \
	sh -c 'test "$(wc -c < policy.dat)" -eq 32'

tpm2_flushcontext -T "$TCTI" session.ctx 2> err
check "flushcontext: policy session flushed" test $? -eq 0
if tpm2_policypcr -T "$TCTI" -S session.ctx -l sha256:0 > /dev/null \
	2> err; then
	not_ok "policypcr: flushed session can no longer be used"
else
	ok "policypcr: flushed session can no longer be used"
fi

tpm2_startauthsession -T "$TCTI" -S trial.ctx 2> err &&
tpm2_policypcr -T "$TCTI" -S trial.ctx -l sha256:0 -L trial.dat \
	> /dev/null 2>> err
tpm2_flushcontext -T "$TCTI" trial.ctx 2>> err
check "policypcr: policy session and trial session agree" \
	cmp -s policy.dat trial.dat

# policyDigest = H(0^32 || TPM_CC_PolicyPCR || pcrs || H(PCR0))
tpm2_pcrread -T "$TCTI" sha256:0 -o pcr0.bin > /dev/null 2> err
pcrdigest=$(sha256sum pcr0.bin | cut -d' ' -f1)
{
	unhex 0000000000000000000000000000000000000000000000000000000000000000
	unhex 0000017f00000001000b03010000
	unhex "$pcrdigest"
} > policy.in
expect=$(sha256sum policy.in | cut -d' ' -f1)
check "policypcr: digest matches the one computed from PCR0" \
	test "$expect" = "$(hexof policy.dat)"

tpm2_getcap -T "$TCTI" handles-transient > getcap.out 2> err
if [ $? -eq 0 ] && ! grep -q 0x8 getcap.out; then
	ok "getcap handles-transient: a new open sees no objects"
else
	not_ok "getcap handles-transient: a new open sees no objects"
	sed 's/^/# /' getcap.out
fi

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
