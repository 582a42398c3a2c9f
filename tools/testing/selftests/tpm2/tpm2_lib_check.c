// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side check of tpm2_lib against a raw TPM 2.0 (no resource manager):
 * known-answer tests for SHA-256 and HMAC-SHA256, then every command
 * helper of the library against the TPM opened by tpm2_open_env(), which
 * is a software TPM socket when TPM2_LIB_TCP=host:port is set (for example
 * swtpm socket --server type=tcp,port=2321). Not a kselftest by itself;
 * it keeps at most three objects loaded so that a bare TPM copes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tpm2_lib.h"

static int failures, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("not ok %d - ", checks);				\
		printf(__VA_ARGS__);					\
		printf(" (%s:%d)\n", __FILE__, __LINE__);		\
	} else {							\
		printf("ok %d - ", checks);				\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

static int hex_eq(const uint8_t *d, const char *hex)
{
	char s[3];
	size_t i;

	for (i = 0; i < strlen(hex) / 2; i++) {
		snprintf(s, sizeof(s), "%02x", d[i]);
		if (memcmp(s, hex + 2 * i, 2))
			return 0;
	}
	return 1;
}

static void kat(void)
{
	uint8_t d[32], key[20];
	char big[1000];

	tpm2_sha256("abc", 3, d);
	CHECK(hex_eq(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	      "sha256(abc)");
	memset(big, 'a', sizeof(big));
	tpm2_sha256("", 0, d);
	CHECK(hex_eq(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	      "sha256(empty)");
	tpm2_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    56, d);
	CHECK(hex_eq(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
	      "sha256(two blocks)");
	tpm2_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
	CHECK(hex_eq(d, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
	      "hmac-sha256 RFC 4231 case 2");
	memset(key, 0x0b, sizeof(key));
	tpm2_hmac_sha256(key, 20, "Hi There", 8, d);
	CHECK(hex_eq(d, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
	      "hmac-sha256 RFC 4231 case 1");
}

int main(void)
{
	uint8_t digest[32], pcr[32], expect[32], got[32], rnd[16];
	struct tpm2_key parent, k1, k2, pk;
	struct tpm2_session hs, ps;
	struct tpm2_auth auth;
	struct tpm2_context ctx;
	struct tpm2_name name;
	struct tpm2_sig sig;
	uint32_t hl[64], h;
	unsigned int n;
	int fd, ret, ok, more;

	printf("TAP version 13\n");
	kat();

	fd = tpm2_open_env("/dev/tpm0");
	if (fd < 0) {
		printf("# cannot open TPM: %s\n", strerror(-fd));
		return 4;
	}

	ret = tpm2_get_random(fd, sizeof(rnd), rnd);
	CHECK(ret == 0, "GetRandom rc=0x%x", ret);

	ret = tpm2_create_primary(fd, TPM2_KEY_STORAGE, NULL, 0, &parent);
	CHECK(ret == 0, "CreatePrimary storage rc=0x%x handle 0x%08x", ret,
	      parent.handle);
	ret = tpm2_read_public(fd, parent.handle, &name);
	CHECK(ret == 0 && name.size == parent.name.size &&
	      !memcmp(name.buf, parent.name.buf, name.size),
	      "ReadPublic name matches computed name (rc=0x%x)", ret);

	ret = tpm2_start_session(fd, TPM2_SE_HMAC, &hs);
	CHECK(ret == 0 && (hs.handle >> 24) == 0x02,
	      "StartAuthSession HMAC rc=0x%x handle 0x%08x", ret, hs.handle);
	auth.sess = &hs;
	auth.attrs = TPM2_SA_CONTINUE_SESSION;

	ret = tpm2_create(fd, &parent, &auth, TPM2_KEY_SIGN, NULL, 0, &k1);
	CHECK(ret == 0, "Create with HMAC session rc=0x%x", ret);
	ret = tpm2_create(fd, &parent, NULL, TPM2_KEY_SIGN, NULL, 0, &k2);
	CHECK(ret == 0, "Create with password rc=0x%x", ret);
	ret = tpm2_load(fd, &parent, &auth, &k1);
	CHECK(ret == 0, "Load k1 with HMAC session rc=0x%x", ret);
	ret = tpm2_load(fd, &parent, NULL, &k2);
	CHECK(ret == 0, "Load k2 rc=0x%x", ret);

	tpm2_sha256("message", 7, digest);
	ret = tpm2_sign(fd, &k1, &auth, digest, &sig, &ok);
	CHECK(ret == 0 && ok == 1, "Sign with HMAC session rc=0x%x hmac_ok=%d",
	      ret, ok);
	ret = tpm2_verify(fd, k1.handle, digest, &sig);
	CHECK(ret == 0, "VerifySignature k1 rc=0x%x", ret);
	ret = tpm2_verify(fd, k2.handle, digest, &sig);
	CHECK(ret > 0 && (ret & 0x3F) == (TPM2_RC_SIGNATURE & 0x3F),
	      "VerifySignature with other key fails rc=0x%x", ret);
	digest[0] ^= 1;
	ret = tpm2_verify(fd, k1.handle, digest, &sig);
	CHECK(ret > 0, "VerifySignature of other digest fails rc=0x%x", ret);
	digest[0] ^= 1;

	/* Tamper: a wrong HMAC must be refused by the TPM. */
	hs.nonce_tpm[0] ^= 1;
	ret = tpm2_sign(fd, &k1, &auth, digest, &sig, &ok);
	CHECK(ret > 0, "Sign with bad HMAC refused rc=0x%x", ret);
	/* The failed command did not change nonceTPM: restore it. */
	hs.nonce_tpm[0] ^= 1;
	ret = tpm2_sign(fd, &k1, &auth, digest, &sig, &ok);
	CHECK(ret == 0 && ok == 1, "Sign after failure rc=0x%x hmac_ok=%d",
	      ret, ok);

	ret = tpm2_context_save(fd, k1.handle, &ctx);
	CHECK(ret == 0 && ctx.size > 16, "ContextSave object rc=0x%x size %u",
	      ret, ctx.size);
	ret = tpm2_flush(fd, k1.handle);
	CHECK(ret == 0, "FlushContext object rc=0x%x", ret);
	ret = tpm2_context_load(fd, &ctx, &h);
	CHECK(ret == 0 && (h >> 24) == 0x80, "ContextLoad rc=0x%x handle 0x%08x",
	      ret, h);
	k1.handle = h;
	ret = tpm2_sign(fd, &k1, NULL, digest, &sig, NULL);
	CHECK(ret == 0 && tpm2_verify(fd, h, digest, &sig) == 0,
	      "Sign and verify with reloaded object rc=0x%x", ret);

	ret = tpm2_context_save(fd, hs.handle, &ctx);
	CHECK(ret == 0, "ContextSave session rc=0x%x", ret);
	ret = tpm2_context_load(fd, &ctx, &h);
	CHECK(ret == 0 && h == hs.handle, "ContextLoad session rc=0x%x 0x%08x",
	      ret, h);
	ret = tpm2_sign(fd, &k1, &auth, digest, &sig, &ok);
	CHECK(ret == 0 && ok == 1, "Sign with reloaded session rc=0x%x", ret);

	ret = tpm2_handles_by_type(fd, TPM2_HT_TRANSIENT, hl, 64);
	CHECK(ret == 3 && tpm2_list_contains(hl, ret, parent.handle) &&
	      tpm2_list_contains(hl, ret, k2.handle) &&
	      tpm2_list_contains(hl, ret, k1.handle),
	      "GetCapability transient lists 3 objects (%d)", ret);
	ret = tpm2_get_handles(fd, TPM2_HT_TRANSIENT, 2, hl, &n, &more);
	CHECK(ret == 0 && n == 2 && more == 1 && hl[0] < hl[1],
	      "GetCapability count 2: n=%u more=%d", n, more);
	ret = tpm2_handles_by_type(fd, TPM2_HT_LOADED_SESSION, hl, 64);
	CHECK(ret >= 1 && tpm2_list_contains(hl, ret, hs.handle),
	      "GetCapability loaded sessions lists HMAC session (%d)", ret);

	ret = tpm2_flush(fd, k1.handle);
	ret |= tpm2_flush(fd, k2.handle);
	CHECK(ret == 0, "flush k1, k2");

	/* Two primaries from the same template are still different keys. */
	ret = tpm2_create_primary(fd, TPM2_KEY_SIGN, NULL, 0, &k1);
	ret |= tpm2_create_primary(fd, TPM2_KEY_SIGN, NULL, 0, &k2);
	CHECK(ret == 0 && memcmp(k1.name.buf, k2.name.buf, k1.name.size),
	      "two signing primaries have different names");
	ret = tpm2_sign(fd, &k1, NULL, digest, &sig, NULL);
	CHECK(ret == 0 && tpm2_verify(fd, k1.handle, digest, &sig) == 0 &&
	      tpm2_verify(fd, k2.handle, digest, &sig) > 0,
	      "signature of one primary does not verify with the other");
	tpm2_flush(fd, k1.handle);
	tpm2_flush(fd, k2.handle);

	/* Policy session */
	ret = tpm2_pcr_read(fd, 0, pcr);
	CHECK(ret == 0, "PCR_Read rc=0x%x", ret);
	memset(expect, 0, sizeof(expect));
	tpm2_policy_extend_pcr(expect, 0, pcr);
	tpm2_policy_extend_cc(expect, TPM2_CC_SIGN);
	ret = tpm2_create_primary(fd, TPM2_KEY_SIGN, expect, 32, &pk);
	CHECK(ret == 0, "CreatePrimary signing key with policy rc=0x%x", ret);
	ret = tpm2_start_session(fd, TPM2_SE_POLICY, &ps);
	CHECK(ret == 0 && (ps.handle >> 24) == 0x03,
	      "StartAuthSession policy rc=0x%x 0x%08x", ret, ps.handle);
	ret = tpm2_policy_pcr(fd, ps.handle, 0);
	CHECK(ret == 0, "PolicyPCR rc=0x%x", ret);
	ret = tpm2_policy_command_code(fd, ps.handle, TPM2_CC_SIGN);
	CHECK(ret == 0, "PolicyCommandCode rc=0x%x", ret);
	ret = tpm2_policy_get_digest(fd, ps.handle, got);
	CHECK(ret == 0 && !memcmp(got, expect, 32),
	      "PolicyGetDigest matches computed policy rc=0x%x", ret);
	ret = tpm2_sign(fd, &pk, NULL, digest, &sig, NULL);
	CHECK(ret > 0, "Sign with password refused on policy-only key 0x%x",
	      ret);
	auth.sess = &ps;
	auth.attrs = 0;
	ret = tpm2_sign(fd, &pk, &auth, digest, &sig, NULL);
	CHECK(ret == 0, "Sign with policy session rc=0x%x", ret);
	ret = tpm2_verify(fd, pk.handle, digest, &sig);
	CHECK(ret == 0, "verify policy-signed rc=0x%x", ret);
	ret = tpm2_handles_by_type(fd, TPM2_HT_LOADED_SESSION, hl, 64);
	CHECK(ret >= 0 && !tpm2_list_contains(hl, ret, ps.handle),
	      "continueSession=0 flushed the policy session");
	ret = tpm2_policy_command_code(fd, ps.handle, TPM2_CC_SIGN);
	CHECK(ret > 0, "flushed session unusable rc=0x%x", ret);

	tpm2_flush(fd, pk.handle);
	tpm2_flush(fd, hs.handle);
	tpm2_flush(fd, parent.handle);
	ret = tpm2_handles_by_type(fd, TPM2_HT_TRANSIENT, hl, 64);
	CHECK(ret == 0, "no transient objects left (%d)", ret);
	close(fd);

	printf("1..%d\n", checks);
	printf("# %d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
