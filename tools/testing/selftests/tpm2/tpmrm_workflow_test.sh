#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Common tpm2-tools (5.x) workflows end to end through the resource manager,
# run as unprivileged users in group tss on /dev/tpmrm0.  Every tool is a
# separate process, so keys and sessions travel between them as context
# files: primaries and child keys, RSA and ECC signatures (checked with
# openssl), HMAC and hash (also the sequence commands for large input),
# RSA and AES encryption, policy sessions (PCR, password, secret) with a
# sealed object, a salted and bound HMAC session with parameter encryption,
# NV indices, persistent keys, and flushes.  Each step checks what the tool
# produced, not only its exit code.
#
# A second user runs its own tools loop and holds objects and a session
# open in a long-lived process meanwhile: neither user may see or flush
# the other's handles.  As root the script creates the two users; as any
# other user it runs the first user's part as itself and skips the rest.
# Prints TAP; exit 4 skips.

ksft_skip=4
TCTI=device:/dev/tpmrm0
NV_INDEX=0x1500a5e
PERSISTENT=0x81010a5e
USER1=tpmrm_wf1
USER2=tpmrm_wf2
PLAN=56

skip() {
	echo "1..0 # SKIP $1"
	exit $ksft_skip
}
[ -e /dev/tpmrm0 ] || skip "/dev/tpmrm0 not present"
for t in tpm2_createprimary tpm2_create tpm2_load tpm2_readpublic \
	 tpm2_sign tpm2_verifysignature tpm2_hash tpm2_hmac tpm2_import \
	 tpm2_rsaencrypt tpm2_rsadecrypt tpm2_encryptdecrypt \
	 tpm2_startauthsession tpm2_sessionconfig tpm2_policypcr \
	 tpm2_policypassword tpm2_policysecret tpm2_unseal tpm2_nvdefine \
	 tpm2_nvwrite tpm2_nvread tpm2_nvundefine tpm2_evictcontrol \
	 tpm2_getcap tpm2_flushcontext openssl sha256sum cmp od; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done

if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null && command -v useradd >/dev/null ||
		skip "setpriv or useradd missing"
	getent group tss >/dev/null || groupadd -r tss || skip "no group tss"
	for u in $USER1 $USER2; do
		id "$u" >/dev/null 2>&1 || useradd -M -G tss "$u" ||
			skip "cannot create user $u"
	done
	# The device as Debian's tpm-udev rules leave it (tss:tss 0660).
	chgrp tss /dev/tpmrm0 && chmod g+rw /dev/tpmrm0 ||
		skip "cannot give group tss access to /dev/tpmrm0"
	U1=$USER1
	U2=$USER2
else
	U1=self
	U2=
fi

L=$(mktemp -d) || exit 1
chmod 755 "$L"
d1=$L/u1
d2=$L/u2
mkdir "$d1" "$d2"
if [ "$U1" != self ]; then
	chown "$U1:$U1" "$d1" && chown "$U2:$U2" "$d2" && chmod 700 "$d1" "$d2"
fi
pids=
cleanup() {
	touch "$L/stop"
	for p in $pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	t1 cleanup-evict tpm2_evictcontrol -C o -c $PERSISTENT
	t1 cleanup-nv tpm2_nvundefine -C o $NV_INDEX
	rm -rf "$L"
}
trap cleanup EXIT
cd "$d1" || exit 1

# as_user USER CMD...: run CMD as USER (or as ourselves for "self").
as_user() {
	u=$1
	shift
	if [ "$u" = self ]; then
		"$@"
	else
		setpriv --reuid="$u" --regid="$u" --init-groups "$@"
	fi
}
# t1 NAME TOOL ARGS...: one tool process of user 1 in its folder; its
# stdout and stderr go to $L/NAME.out and $L/NAME.err.
t1() {
	last=$1
	shift
	(cd "$d1" && as_user "$U1" env HOME="$d1" TPM2TOOLS_TCTI="$TCTI" "$@") \
		> "$L/$last.out" 2> "$L/$last.err"
}
t2() {
	last=$1
	shift
	(cd "$d2" && as_user "$U2" env HOME="$d2" TPM2TOOLS_TCTI="$TCTI" "$@") \
		> "$L/$last.out" 2> "$L/$last.err"
}
out() {
	cat "$L/$1.out"
}

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
	for f in "$L/$last.err" "$L/$last.out"; do
		[ -s "$f" ] && head -n 20 "$f" | sed 's/^/# /'
	done
}
skip_one() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
# check DESC CMD...: one test, passing if CMD succeeds.
check() {
	desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
	fi
}
# refused DESC: one test, passing if the last tool failed.
refused() {
	if [ "$1" -ne 0 ]; then
		ok "$2"
	else
		not_ok "$2"
	fi
}
hexof() {
	od -An -v -tx1 "$1" | tr -d ' \n'
}
# The TPM2B_PUBLIC in $1 hashed into a sha256 Name.
name_of_pub() {
	echo "000b$(tail -c +3 "$1" | sha256sum | cut -c1-64)"
}
# The ESYS calls a tool made, from its TSS2_LOG=esys+trace log.
esys_calls() {
	grep -o 'Esys_[A-Za-z_]*' "$L/$1.err" | grep -v '_Async$\|_Finish$' |
		sort -u | tr '\n' ' '
}
has_calls() {
	calls=$(esys_calls "$1")
	shift
	for c in "$@"; do
		case " $calls" in
		*" Esys_$c "*) ;;
		*) echo "# missing Esys_$c in: $calls"; return 1 ;;
		esac
	done
}
# No handle at all in a getcap listing.
empty_list() {
	! grep -q '0x' "$L/$1.out"
}
rm_counters() {
	for c in /sys/class/tpm/tpm0/rm/*; do
		[ -r "$c" ] && printf ' %s=%s' "${c##*/}" "$(cat "$c")"
	done
}

echo "TAP version 13"
echo "1..$PLAN"
echo "# RM counters before:$(rm_counters)"

# ---- who we are --------------------------------------------------------
t1 id sh -c 'echo "$(id -u) $(id -nG)"'
check "user 1 ($U1) is unprivileged and in group tss" \
	sh -c "! grep -q '^0 ' $L/id.out && grep -qw tss $L/id.out"
t1 raw sh -c 'exec 3<>/dev/tpm0'
refused $? "user 1 cannot open the raw /dev/tpm0"

# ---- the second user, concurrently ------------------------------------
# A long-lived process of user 2 holds two sequence objects and a policy
# session on one open file, checks that GetCapability lists exactly them,
# then waits for "$L/go" and checks again that they are listed and work.
cat > "$L/holder.py" <<'PY'
import os, struct, sys, time
fd = os.open('/dev/tpmrm0', os.O_RDWR)
status = open(sys.argv[1], 'w', buffering=1)
def tpm(tag, cc, body):
    os.write(fd, struct.pack('>HII', tag, 10 + len(body), cc) + body)
    r = os.read(fd, 4096)
    return struct.unpack('>I', r[6:10])[0], r
def handle(r):
    return struct.unpack('>I', r[10:14])[0]
def getcap(prop):
    rc, r = tpm(0x8001, 0x17a, struct.pack('>III', 1, prop, 64))
    n = struct.unpack('>I', r[15:19])[0]
    return rc, sorted(struct.unpack('>%dI' % n, r[19:19 + 4 * n]))
def update(h):
    auth = struct.pack('>IHBH', 0x40000009, 0, 1, 0)
    body = struct.pack('>II', h, len(auth)) + auth + b'\x00\x04data'
    return tpm(0x8002, 0x15c, body)[0]
def digest(s):
    return tpm(0x8001, 0x189, struct.pack('>I', s))
def expect(tag, seqs, sess):
    caps = [getcap(p) for p in (0x80000000, 0x02000000, 0x03000000)]
    ok = caps == [(0, sorted(seqs)), (0, [sess]), (0, [])]
    status.write('%s own: objects %s session %s; listed: %s\n' % (
        tag, [hex(h) for h in seqs], hex(sess),
        ' '.join('%x:%s' % (rc, [hex(h) for h in l]) for rc, l in caps)))
    status.write('%s %s\n' % (tag, 'listed' if ok else 'WRONG'))
seqs = []
for i in range(2):
    rc, r = tpm(0x8001, 0x186, struct.pack('>HH', 0, 0x000b))
    seqs.append(handle(r) if rc == 0 else 0)
nonce = os.urandom(16)
body = (struct.pack('>IIH', 0x40000007, 0x40000007, 16) + nonce +
        struct.pack('>HBHH', 0, 1, 0x0010, 0x000b))
rc, r = tpm(0x8001, 0x176, body)
sess = handle(r) if rc == 0 else 0
expect('before', seqs, sess)
for i in range(600):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.5)
expect('after', seqs, sess)
rcs = [update(h) for h in seqs]
rc, r = digest(sess)
ok = rcs == [0, 0] and rc == 0 and r[10:44] == b'\x00\x20' + bytes(32)
status.write('used %s\n' % ('ok' if ok else 'WRONG %s %x' % (rcs, rc)))
status.write('done\n')
PY
# User 2's own tools workflow, in a loop until "$L/stop" appears; it
# pauses between rounds so that it spreads over user 1's steps without
# slowing them down much (the harness gives a test 300 s under TCG).
cat > "$L/loop.sh" <<'SH'
i=0 bad=0
echo "loop of user 2" > msg
while [ ! -e "$1/stop" ] && [ $i -lt 10 ]; do
	i=$((i + 1))
	{ tpm2_createprimary -C o -G ecc256 -c p.ctx &&
	  tpm2_create -C p.ctx -G ecc256:ecdsa-sha256 -u k.pub -r k.priv &&
	  tpm2_load -C p.ctx -u k.pub -r k.priv -c k.ctx &&
	  tpm2_startauthsession -S s.ctx --policy-session &&
	  tpm2_sign -c k.ctx -g sha256 -o sig msg &&
	  tpm2_policypcr -S s.ctx -l sha256:0 &&
	  tpm2_verifysignature -c k.ctx -g sha256 -m msg -s sig &&
	  tpm2_flushcontext s.ctx; } > /dev/null 2>> err || bad=$((bad + 1))
	echo "$i $bad" > status
	sleep 3
done
SH
have_python=
[ -n "$U2" ] && [ -x /usr/bin/python3 ] && have_python=1
if [ -n "$U2" ]; then
	(cd "$d2" && as_user "$U2" env TPM2TOOLS_TCTI="$TCTI" \
		sh "$L/loop.sh" "$L" > /dev/null 2>&1) &
	pids="$pids $!"
fi
if [ -n "$have_python" ]; then
	(cd "$d2" && as_user "$U2" /usr/bin/python3 "$L/holder.py" \
		"$d2/holder.status" "$L/go" > "$L/holder.err" 2>&1) &
	pids="$pids $!"
fi

# ---- primaries and keys, handed from process to process ---------------
t1 prim-rsa tpm2_createprimary -C o -G rsa2048 -c prim_rsa.ctx
check "createprimary: RSA storage primary saved as a context file" \
	sh -c "test -s prim_rsa.ctx && grep -q restricted.decrypt $L/prim-rsa.out"
t1 prim-ecc tpm2_createprimary -C o -G ecc256 -c prim_ecc.ctx
check "createprimary: ECC storage primary saved as a context file" \
	sh -c "test -s prim_ecc.ctx && grep -q 'NIST p256' $L/prim-ecc.out"
t1 pub-rsa tpm2_readpublic -c prim_rsa.ctx
t1 pub-ecc tpm2_readpublic -c prim_ecc.ctx
check "readpublic: later processes reload both primaries (same public keys)" \
	sh -c "test \"\$(grep '^rsa:' $L/prim-rsa.out)\" = \"\$(grep '^rsa:' $L/pub-rsa.out)\" &&
	       test \"\$(grep '^[xy]:' $L/prim-ecc.out)\" = \"\$(grep '^[xy]:' $L/pub-ecc.out)\" &&
	       grep -q '^rsa: ' $L/pub-rsa.out && grep -q '^x: ' $L/pub-ecc.out"

t1 create-rsa tpm2_create -C prim_rsa.ctx -G rsa2048:rsassa-sha256 \
	-u rsa.pub -r rsa.priv
t1 load-rsa tpm2_load -C prim_rsa.ctx -u rsa.pub -r rsa.priv -c rsa.ctx \
	-n rsa.name
check "create + load: RSA signing key under the RSA primary, Name matches its public area" \
	test "$(name_of_pub rsa.pub)" = "$(hexof rsa.name)"
t1 create-ecc tpm2_create -C prim_ecc.ctx -G ecc256:ecdsa-sha256 \
	-u ecc.pub -r ecc.priv
t1 load-ecc tpm2_load -C prim_ecc.ctx -u ecc.pub -r ecc.priv -c ecc.ctx \
	-n ecc.name
check "create + load: ECC signing key under the ECC primary, Name matches its public area" \
	test "$(name_of_pub ecc.pub)" = "$(hexof ecc.name)"

# ---- sign and verify ---------------------------------------------------
echo "a message signed through the resource manager" > msg
echo "a different message" > msg2
for k in rsa ecc; do
	t1 pem-$k tpm2_readpublic -c $k.ctx -f pem -o $k.pem
	t1 sign-$k tpm2_sign -c $k.ctx -g sha256 -o $k.sig msg
	t1 verify-$k tpm2_verifysignature -c $k.ctx -g sha256 -m msg \
		-s $k.sig -t $k.ticket
	check "sign + verifysignature ($k): verified, TK_VERIFIED ticket" \
		test "$(od -An -tx1 -N2 $k.ticket | tr -d ' ')" = 8022
	t1 verify2-$k tpm2_verifysignature -c $k.ctx -g sha256 -m msg2 -s $k.sig
	refused $? "verifysignature ($k): the signature does not verify another message"
	t1 plain-$k tpm2_sign -c $k.ctx -g sha256 -f plain -o $k.plain msg
	t1 ossl-$k openssl dgst -sha256 -verify $k.pem -signature $k.plain msg
	check "sign -f plain ($k): openssl verifies it with the key's PEM" \
		grep -q '^Verified OK' "$L/ossl-$k.out"
done

# ---- hash and HMAC, short and as sequences ------------------------------
# tpm2-tools sends 1024-byte buffers (SequenceUpdate, EncryptDecrypt): with
# a header, a handle and a password authorization that is more than a TPM
# with TPM_PT_MAX_COMMAND_SIZE under 1100 takes (TPM_RC_COMMAND_SIZE, as
# the "tight" chip personality answers).  Such a chip cannot run them.
t1 maxcmd tpm2_getcap properties-fixed
maxcmd=$(awk '/TPM2_PT_MAX_COMMAND_SIZE/ { f = 1; next }
	f && /raw:/ { print $2; exit }' "$L/maxcmd.out")
big_ok=1
[ -n "$maxcmd" ] && maxcmd=$((maxcmd)) && [ "$maxcmd" -lt 1100 ] && big_ok=0
big_skip="TPM_PT_MAX_COMMAND_SIZE $maxcmd: no room for a 1024-byte buffer"
# check_big DESC CMD...: check, or skip on a chip too small for it.
check_big() {
	if [ "$big_ok" = 1 ]; then
		check "$@"
	else
		skip_one "$1" "$big_skip"
	fi
}
head -c 5000 /dev/urandom > big
chmod 644 big
t1 hash tpm2_hash -g sha256 -C o --hex msg
check "hash: TPM2_Hash equals sha256sum" \
	test "$(out hash)" = "$(sha256sum < msg | cut -c1-64)"
t1 hash-seq env TSS2_LOG=esys+trace tpm2_hash -g sha256 -C o -o big.hash big
hash_seq_ok() {
	test "$(hexof big.hash)" = "$(sha256sum < big | cut -c1-64)" &&
		has_calls hash-seq HashSequenceStart SequenceUpdate \
			  SequenceComplete
}
check_big "hash of 5000 bytes: HashSequenceStart/Update/Complete, equals sha256sum" \
	hash_seq_ok
head -c 32 /dev/urandom > hmac.key
chmod 644 hmac.key
t1 import-hmac tpm2_import -C prim_rsa.ctx -G hmac -i hmac.key \
	-u hmac.pub -r hmac.priv
t1 load-hmac tpm2_load -C prim_rsa.ctx -u hmac.pub -r hmac.priv -c hmac.ctx
# openssl's HMAC-SHA256 of file $1 with the imported key
ossl_hmac() {
	openssl dgst -sha256 -mac HMAC -macopt hexkey:"$(hexof hmac.key)" \
		< "$1" | sed 's/.*= //'
}
t1 hmac tpm2_hmac -c hmac.ctx --hex msg
check "import + hmac: TPM2_HMAC with an imported key equals openssl's HMAC" \
	test "$(out hmac)" = "$(ossl_hmac msg)"
t1 hmac-seq env TSS2_LOG=esys+trace tpm2_hmac -c hmac.ctx --hex big
hmac_seq_ok() {
	test "$(out hmac-seq)" = "$(ossl_hmac big)" &&
		has_calls hmac-seq HMAC_Start SequenceUpdate SequenceComplete
}
check_big "hmac of 5000 bytes: HMAC_Start/SequenceUpdate/SequenceComplete, equals openssl" \
	hmac_seq_ok

# ---- encryption ------------------------------------------------------
t1 create-dec tpm2_create -C prim_rsa.ctx -G rsa2048 -u dec.pub -r dec.priv
t1 load-dec tpm2_load -C prim_rsa.ctx -u dec.pub -r dec.priv -c dec.ctx
t1 rsaenc tpm2_rsaencrypt -c dec.ctx -s oaep -o dec.ct msg
t1 rsadec tpm2_rsadecrypt -c dec.ctx -s oaep -o dec.pt dec.ct
check "rsaencrypt + rsadecrypt (OAEP): 256-byte ciphertext decrypts to the plaintext" \
	sh -c "test \$(wc -c < dec.ct) -eq 256 && cmp -s dec.pt msg"
t1 pem-dec tpm2_readpublic -c dec.ctx -f pem -o dec.pem
openssl pkeyutl -encrypt -pubin -inkey dec.pem -pkeyopt \
	rsa_padding_mode:pkcs1 -in msg -out dec.ct2 2> /dev/null
chmod 644 dec.ct2 2> /dev/null
t1 rsadec2 tpm2_rsadecrypt -c dec.ctx -s rsaes -o dec.pt2 dec.ct2
check "rsadecrypt (RSAES): decrypts what openssl encrypted to the key" \
	cmp -s dec.pt2 msg
head -c 16 /dev/urandom > aes.key
chmod 644 aes.key
t1 import-aes tpm2_import -C prim_rsa.ctx -G aes -i aes.key \
	-u aes.pub -r aes.priv
t1 load-aes tpm2_load -C prim_rsa.ctx -u aes.pub -r aes.priv -c aes.ctx
t1 aes-enc tpm2_encryptdecrypt -c aes.ctx -o big.enc big
openssl enc -aes-128-cfb -K "$(hexof aes.key)" \
	-iv 00000000000000000000000000000000 -in big -out big.ossl
check_big "encryptdecrypt: AES-128-CFB of 5000 bytes equals openssl's ciphertext" \
	cmp -s big.enc big.ossl
t1 aes-dec tpm2_encryptdecrypt -d -c aes.ctx -o big.dec big.enc
check_big "encryptdecrypt -d: a later process decrypts it to the plaintext" \
	cmp -s big.dec big

# ---- policy sessions and sealing -----------------------------------------
printf 'sealed under a PCR and password policy' > secret1
chmod 644 secret1
t1 trial tpm2_startauthsession -S trial.ctx
t1 trial-pcr tpm2_policypcr -S trial.ctx -l sha256:0,1
t1 trial-pw tpm2_policypassword -S trial.ctx -L pcrpw.policy
t1 trial-flush tpm2_flushcontext trial.ctx
check "trial session: policypcr + policypassword digest built across processes" \
	sh -c "test \$(wc -c < pcrpw.policy) -eq 32"
t1 seal1 tpm2_create -C prim_ecc.ctx -i secret1 -L pcrpw.policy \
	-p sealpw -a 'fixedtpm|fixedparent' -u seal1.pub -r seal1.priv
t1 load-seal1 tpm2_load -C prim_ecc.ctx -u seal1.pub -r seal1.priv \
	-c seal1.ctx
check "create + load: sealed object bound to the policy" \
	sh -c "test -s seal1.ctx && grep -q '^name:' $L/load-seal1.out"
t1 ps tpm2_startauthsession --policy-session -S ps.ctx
t1 ps-pcr tpm2_policypcr -S ps.ctx -l sha256:0,1 -L ps-pcr.policy
t1 ps-pw tpm2_policypassword -S ps.ctx -L ps.policy
check "policy session: policypcr + policypassword in two later processes give the trial digest" \
	cmp -s ps.policy pcrpw.policy
t1 unseal1 tpm2_unseal -c seal1.ctx -p session:ps.ctx+sealpw -o secret1.out
check "unseal under the policy session returns the sealed secret" \
	cmp -s secret1.out secret1
t1 ps-flush tpm2_flushcontext ps.ctx
check "flushcontext FILE: the saved policy session is flushed" test $? -eq 0
t1 unseal-flushed tpm2_unseal -c seal1.ctx -p session:ps.ctx+sealpw
refused $? "unseal with the flushed session fails"
t1 ps2 tpm2_startauthsession --policy-session -S ps2.ctx
t1 ps2-pw tpm2_policypassword -S ps2.ctx -L pw.policy
t1 unseal-nopcr tpm2_unseal -c seal1.ctx -p session:ps2.ctx+sealpw
refused $? "unseal with a policy session missing policypcr fails"
t1 ps2-flush tpm2_flushcontext ps2.ctx

printf 'sealed under a PolicySecret of the RSA primary' > secret2
chmod 644 secret2
t1 trial2 tpm2_startauthsession -S trial2.ctx
t1 trial2-secret tpm2_policysecret -S trial2.ctx -c prim_rsa.ctx \
	-L secret.policy
t1 trial2-flush tpm2_flushcontext trial2.ctx
t1 seal2 tpm2_create -C prim_ecc.ctx -i secret2 -L secret.policy \
	-a 'fixedtpm|fixedparent' -u seal2.pub -r seal2.priv
t1 load-seal2 tpm2_load -C prim_ecc.ctx -u seal2.pub -r seal2.priv \
	-c seal2.ctx
t1 ps3 tpm2_startauthsession --policy-session -S ps3.ctx
t1 ps3-secret tpm2_policysecret -S ps3.ctx -c prim_rsa.ctx -L ps3.policy
check "policysecret on a reloaded primary: policy session digest equals the trial one" \
	cmp -s ps3.policy secret.policy
t1 unseal2 tpm2_unseal -c seal2.ctx -p session:ps3.ctx -o secret2.out
check "unseal under the PolicySecret session returns the sealed secret" \
	cmp -s secret2.out secret2

# ---- HMAC session: salted, bound, parameter encryption ----------------
printf 'travels encrypted both ways' > secret3
chmod 644 secret3
t1 hs tpm2_startauthsession --hmac-session -S hs.ctx \
	--tpmkey-context prim_rsa.ctx --bind-context prim_ecc.ctx
t1 hs-show tpm2_sessionconfig hs.ctx
check "startauthsession --hmac-session salted (RSA primary) and bound (ECC primary)" \
	sh -c "grep -q '^Session-Handle: 0x02' $L/hs-show.out &&
	       ! grep -q crypt $L/hs-show.out"
t1 hs-config tpm2_sessionconfig hs.ctx --enable-encrypt --enable-decrypt
t1 hs-show2 tpm2_sessionconfig hs.ctx
check "sessionconfig: encrypt and decrypt set on the saved session" \
	grep -q 'Session-Attributes: .*decrypt|encrypt' "$L/hs-show2.out"
t1 seal3 env TSS2_LOG=esys+debug tpm2_create -C prim_ecc.ctx \
	-P session:hs.ctx -i secret3 -p pw3 -u seal3.pub -r seal3.priv
check "create with the HMAC session: the sensitive data goes encrypted" \
	sh -c "test -s seal3.priv && grep -q iesys_encrypt_param $L/seal3.err"
t1 load-seal3 tpm2_load -C prim_ecc.ctx -u seal3.pub -r seal3.priv \
	-c seal3.ctx
t1 unseal3 env TSS2_LOG=esys+debug tpm2_unseal -c seal3.ctx \
	-p session:hs.ctx+pw3 -o secret3.out
check "unseal with the HMAC session: encrypted response decrypts to the secret" \
	sh -c "cmp -s secret3.out secret3 &&
	       grep -q iesys_decrypt_param $L/unseal3.err"
t1 unseal3-bad tpm2_unseal -c seal3.ctx -p session:hs.ctx+wrong
refused $? "unseal with the HMAC session and a wrong password fails"

# ---- NV ------------------------------------------------------------------
head -c 32 /dev/urandom > nv.data
chmod 644 nv.data
t1 nv-precheck tpm2_nvundefine -C o $NV_INDEX
t1 nvdefine tpm2_nvdefine $NV_INDEX -C o -s 32 -a 'authread|authwrite' \
	-p nvpw
t1 nvcap tpm2_getcap handles-nv-index
check "nvdefine: the index is listed" \
	grep -qi "$NV_INDEX" "$L/nvcap.out"
t1 nvwrite tpm2_nvwrite $NV_INDEX -P nvpw -i nv.data
t1 nvread tpm2_nvread $NV_INDEX -P nvpw -s 32 -o nv.out
check "nvwrite + nvread: a later process reads back what was written" \
	cmp -s nv.out nv.data
t1 nvundefine tpm2_nvundefine -C o $NV_INDEX
rc=$?
t1 nvcap2 tpm2_getcap handles-nv-index
check "nvundefine: the index is gone" \
	sh -c "test $rc -eq 0 && ! grep -qi $NV_INDEX $L/nvcap2.out"

# ---- persistence -------------------------------------------------------
t1 persist-precheck tpm2_evictcontrol -C o -c $PERSISTENT
t1 persist tpm2_evictcontrol -C o -c rsa.ctx $PERSISTENT
t1 persistcap tpm2_getcap handles-persistent
check "evictcontrol: the RSA key is persistent and listed" \
	sh -c "grep -q 'action: persisted' $L/persist.out &&
	       grep -qi $PERSISTENT $L/persistcap.out"
t1 persist-sign tpm2_sign -c $PERSISTENT -g sha256 -f plain \
	-o persist.sig msg
t1 persist-ossl openssl dgst -sha256 -verify rsa.pem -signature persist.sig msg
check "sign by persistent handle in a later process: openssl verifies it" \
	grep -q '^Verified OK' "$L/persist-ossl.out"
t1 evict tpm2_evictcontrol -C o -c $PERSISTENT
t1 persistcap2 tpm2_getcap handles-persistent
check "evictcontrol again: the persistent key is gone" \
	sh -c "grep -q 'action: evicted' $L/evict.out &&
	       ! grep -qi $PERSISTENT $L/persistcap2.out"

# ---- what a new process sees -------------------------------------------
# User 1 has sessions saved in files (hs.ctx, ps3.ctx) and user 2 holds two
# objects and a session in its long-lived process: a new open of user 1
# must list nothing of either.
if [ -n "$have_python" ]; then
	for i in $(seq 100); do
		grep -q '^before ' "$d2/holder.status" 2>/dev/null && break
		sleep 0.2
	done
	last=holder
	check "user 2's open file lists exactly its own 2 objects and 1 session" \
		grep -q '^before listed' "$d2/holder.status"
	grep '^before own' "$d2/holder.status" | sed 's/^/# user 2: /'
else
	skip_one "user 2's open file lists exactly its own handles" \
		"needs root and /usr/bin/python3"
fi
t1 cap-t tpm2_getcap handles-transient
check "getcap handles-transient: empty for a new process of user 1" \
	empty_list cap-t
t1 cap-l tpm2_getcap handles-loaded-session
check "getcap handles-loaded-session: empty for a new process of user 1" \
	empty_list cap-l
t1 cap-s tpm2_getcap handles-saved-session
check "getcap handles-saved-session: none of user 1's saved or user 2's loaded sessions" \
	empty_list cap-s

# ---- flushes -------------------------------------------------------------
t1 flush-t tpm2_flushcontext -t
rc=$?
t1 flush-l tpm2_flushcontext -l
rc=$((rc + $?))
t1 flush-s tpm2_flushcontext -s
rc=$((rc + $?))
check "flushcontext -t / -l / -s: succeed (nothing of this process to flush)" \
	test $rc -eq 0
t1 after-flush tpm2_unseal -c seal3.ctx -p session:hs.ctx+pw3 -o secret3.out2
check "flushcontext -s of a new process leaves sessions saved in files (no open file owns them)" \
	cmp -s secret3.out2 secret3
t1 flush-file tpm2_flushcontext ecc.ctx
t1 after-flush-file tpm2_sign -c ecc.ctx -g sha256 -f plain -o ecc.plain2 msg
t1 ossl-flush-file openssl dgst -sha256 -verify ecc.pem -signature ecc.plain2 msg
check "flushcontext of an object context file: the file stays loadable" \
	grep -q '^Verified OK' "$L/ossl-flush-file.out"
t1 hs-flush tpm2_flushcontext hs.ctx
t1 after-hs-flush tpm2_unseal -c seal3.ctx -p session:hs.ctx+pw3
refused $? "flushcontext of the HMAC session file: the session is gone"
t1 ps3-flush tpm2_flushcontext ps3.ctx
check "flushcontext of the PolicySecret session file" test $? -eq 0

# ---- user 2 ----------------------------------------------------------------
if [ -n "$U2" ]; then
	t1 keep tpm2_startauthsession --policy-session -S keep.ctx
	t2 u2-flush-t tpm2_flushcontext -t
	t2 u2-flush-s tpm2_flushcontext -s
	t2 u2-cap tpm2_getcap handles-transient
	t2 u2-cap-l tpm2_getcap handles-loaded-session
	t2 u2-cap-s tpm2_getcap handles-saved-session
	check "user 2 (new process) lists none of user 1's handles" \
		sh -c "! grep -q 0x $L/u2-cap.out $L/u2-cap-l.out $L/u2-cap-s.out"
	t1 after-u2 tpm2_sign -c rsa.ctx -g sha256 -f plain -o rsa.plain2 msg
	t1 ossl-after-u2 openssl dgst -sha256 -verify rsa.pem \
		-signature rsa.plain2 msg
	check "user 1's keys still work after user 2's flushcontext -t/-s" \
		grep -q '^Verified OK' "$L/ossl-after-u2.out"
	t1 keep-use tpm2_policypassword -S keep.ctx -L keep.policy
	check "user 1's saved policy session still works after user 2's flushcontext -s" \
		cmp -s keep.policy pw.policy
	t1 keep-flush tpm2_flushcontext keep.ctx
else
	skip_one "user 2 lists none of user 1's handles" "needs root"
	skip_one "user 1's keys survive user 2's flushes" "needs root"
	skip_one "user 1's session survives user 2's flushes" "needs root"
fi
if [ -n "$have_python" ]; then
	touch "$L/go"
	for i in $(seq 150); do
		grep -q '^done' "$d2/holder.status" 2>/dev/null && break
		sleep 0.2
	done
	last=holder
	check "user 2's long-lived file still lists exactly its handles after user 1's flushes" \
		grep -q '^after listed' "$d2/holder.status"
	check "user 2's sequences and policy session still work" \
		grep -q '^used ok' "$d2/holder.status"
	sed 's/^/# user 2: /' "$d2/holder.status" "$L/holder.err"
else
	skip_one "user 2's long-lived file keeps its handles" "needs python3"
	skip_one "user 2's entities still work" "needs python3"
fi
if [ -n "$U2" ]; then
	touch "$L/stop"
	for p in $pids; do
		wait "$p"
	done
	pids=
	read -r iters bad < "$d2/status" 2>/dev/null
	echo "# user 2 ran its tools loop $iters times, $bad failed"
	last=loop
	cp "$d2/err" "$L/loop.err" 2>/dev/null
	check "user 2's concurrent tools loop (create, load, sign, policy, verify) never failed" \
		test "${iters:-0}" -ge 1 -a "${bad:-1}" -eq 0
else
	skip_one "user 2's concurrent tools loop" "needs root"
fi

echo "# RM counters after:$(rm_counters)"
[ "$n" -eq "$PLAN" ] || echo "# ran $n tests, planned $PLAN"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$n" -eq "$PLAN" ]
