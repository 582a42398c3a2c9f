// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation tests for the TPM resource manager (/dev/tpmrm0): two open
 * files (spaces) must not see, use, flush or save each other's objects
 * and sessions, on every path that takes a handle: an object in the
 * handle area, a session in the authorization area, a policy session in
 * the handle area (PolicyPCR), FlushContext and ContextSave. Also checks
 * GetCapability of transient and session handles (own handles only, in
 * ascending order, moreData when the count is limited) and client-side
 * ContextSave/ContextLoad of objects and sessions.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

/* Signs a fresh digest and checks the signature (and a negative case). */
static int sign_and_verify(int fd, const struct tpm2_key *k,
			   struct tpm2_auth *auth, int *hmac_ok)
{
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	int ret;

	tpm2_random(digest, sizeof(digest));
	ret = tpm2_sign(fd, k, auth, digest, &sig, hmac_ok);
	if (ret)
		return ret;
	ret = tpm2_verify(fd, k->handle, digest, &sig);
	if (ret)
		return ret;
	digest[5] ^= 0x40;
	return tpm2_verify(fd, k->handle, digest, &sig) ? 0 : -EBADMSG;
}

/*
 * A foreign object handle may be refused before the TPM is reached (the
 * old RM fails the write with EINVAL) or with a handle error response.
 */
static int object_refused(int ret)
{
	return ret == -EINVAL || (ret > 0 && tpm2_rc_is_handle_refusal(ret));
}

static int session_refused(int ret)
{
	return ret > 0 && tpm2_rc_is_handle_refusal(ret);
}

static int ascending(const uint32_t *h, unsigned int n)
{
	unsigned int i;

	for (i = 1; i < n; i++)
		if (h[i] <= h[i - 1])
			return 0;
	return 1;
}

FIXTURE(spaces) {
	int a, b, c;		/* c stays empty */
	struct tpm2_key ka, kb;
	struct tpm2_session sa, pa, sb;
};

FIXTURE_SETUP(spaces)
{
	self->a = -1;
	self->b = -1;
	self->c = -1;
	self->a = tpm2_open(TPM2_RM_DEV, 0);
	self->b = tpm2_open(TPM2_RM_DEV, 0);
	self->c = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, tpm2_create_primary(self->a, TPM2_KEY_SIGN, NULL, 0,
					 &self->ka));
	ASSERT_EQ(0, tpm2_create_primary(self->b, TPM2_KEY_SIGN, NULL, 0,
					 &self->kb));
	ASSERT_EQ(0, tpm2_start_session(self->a, TPM2_SE_HMAC, &self->sa));
	ASSERT_EQ(0, tpm2_start_session(self->a, TPM2_SE_POLICY, &self->pa));
	ASSERT_EQ(0, tpm2_start_session(self->b, TPM2_SE_HMAC, &self->sb));
	TH_LOG("A: key 0x%08x hmac 0x%08x policy 0x%08x; B: key 0x%08x hmac 0x%08x",
	       self->ka.handle, self->sa.handle, self->pa.handle,
	       self->kb.handle, self->sb.handle);
}

FIXTURE_TEARDOWN(spaces)
{
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
	if (self->c >= 0)
		close(self->c);
}

/* An object handle of A in the handle area of a command sent by C and B. */
TEST_F(spaces, object_handle_area)
{
	struct tpm2_auth ha = { &self->sa, TPM2_SA_CONTINUE_SESSION };
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	int ret;

	tpm2_random(digest, sizeof(digest));
	ret = tpm2_sign(self->c, &self->ka, NULL, digest, &sig, NULL);
	TH_LOG("empty space signs with A's handle: %d (0x%x)", ret, ret);
	ASSERT_TRUE(object_refused(ret));
	ret = tpm2_read_public(self->c, self->ka.handle,
			       &(struct tpm2_name){ 0 });
	TH_LOG("empty space ReadPublic of A's handle: %d (0x%x)", ret, ret);
	ASSERT_TRUE(object_refused(ret));

	ret = tpm2_sign(self->b, &self->ka, NULL, digest, &sig, NULL);
	if (self->kb.handle == self->ka.handle) {
		/* Same virtual value: it must name B's own key, not A's. */
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, tpm2_verify(self->b, self->kb.handle, digest,
					 &sig));
		ASSERT_NE(0, tpm2_verify(self->a, self->ka.handle, digest,
					 &sig));
	} else {
		TH_LOG("B signs with A's handle: %d (0x%x)", ret, ret);
		ASSERT_TRUE(object_refused(ret));
	}
	/* A's key is intact and still A's. */
	ASSERT_EQ(0, sign_and_verify(self->a, &self->ka, &ha, NULL));
}

TEST_F(spaces, object_flush)
{
	int ret;

	ret = tpm2_flush(self->c, self->ka.handle);
	TH_LOG("empty space flushes A's object: %d (0x%x)", ret, ret);
	ASSERT_TRUE(object_refused(ret));
	if (self->kb.handle != self->ka.handle) {
		ret = tpm2_flush(self->b, self->ka.handle);
		TH_LOG("B flushes A's object: %d (0x%x)", ret, ret);
		ASSERT_TRUE(object_refused(ret));
	}
	ASSERT_EQ(0, sign_and_verify(self->a, &self->ka, NULL, NULL));
	ASSERT_EQ(0, sign_and_verify(self->b, &self->kb, NULL, NULL));
}

TEST_F(spaces, object_context_save)
{
	struct tpm2_context ctx;
	int ret;

	ret = tpm2_context_save(self->c, self->ka.handle, &ctx);
	TH_LOG("empty space saves A's object: %d (0x%x)", ret, ret);
	ASSERT_TRUE(object_refused(ret));
	ASSERT_EQ(0, sign_and_verify(self->a, &self->ka, NULL, NULL));
}

/* A's HMAC session in the authorization area of B's command. */
TEST_F(spaces, session_auth_area)
{
	struct tpm2_auth ha = { &self->sa, TPM2_SA_CONTINUE_SESSION };
	struct tpm2_session stolen = self->sa;
	struct tpm2_auth hb = { &stolen, TPM2_SA_CONTINUE_SESSION };
	int ret, ok = -1;

	ret = sign_and_verify(self->b, &self->kb, &hb, NULL);
	TH_LOG("B uses A's session 0x%08x: %d (0x%x)", self->sa.handle, ret,
	       ret);
	ASSERT_TRUE(session_refused(ret));
	/* A's session still works, with its own nonces. */
	ASSERT_EQ(0, sign_and_verify(self->a, &self->ka, &ha, &ok));
	ASSERT_EQ(1, ok);
}

/* A's policy session in the authorization area of B's command. */
TEST_F(spaces, policy_session_auth_area)
{
	struct tpm2_session stolen = self->pa;
	struct tpm2_auth pb = { &stolen, TPM2_SA_CONTINUE_SESSION };
	uint8_t digest[TPM2_DIGEST_SIZE], got[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	int ret;

	tpm2_random(digest, sizeof(digest));
	ret = tpm2_sign(self->b, &self->kb, &pb, digest, &sig, NULL);
	TH_LOG("B uses A's policy session 0x%08x: %d (0x%x)",
	       self->pa.handle, ret, ret);
	ASSERT_TRUE(session_refused(ret));
	ASSERT_EQ(0, tpm2_policy_get_digest(self->a, self->pa.handle, got));
}

/* A's policy session in the handle area of B's PolicyPCR. */
TEST_F(spaces, session_handle_area)
{
	uint8_t zero[TPM2_DIGEST_SIZE] = { 0 }, got[TPM2_DIGEST_SIZE];
	int ret;

	ret = tpm2_policy_pcr(self->b, self->pa.handle, 0);
	TH_LOG("B PolicyPCR on A's session 0x%08x: %d (0x%x)",
	       self->pa.handle, ret, ret);
	ASSERT_TRUE(session_refused(ret));
	ret = tpm2_policy_get_digest(self->b, self->pa.handle, got);
	TH_LOG("B PolicyGetDigest on A's session: %d (0x%x)", ret, ret);
	ASSERT_TRUE(session_refused(ret));
	/* A's policy digest was not touched. */
	ASSERT_EQ(0, tpm2_policy_get_digest(self->a, self->pa.handle, got));
	ASSERT_EQ(0, memcmp(zero, got, sizeof(got)));
}

TEST_F(spaces, session_flush)
{
	struct tpm2_auth ha = { &self->sa, TPM2_SA_CONTINUE_SESSION };
	uint8_t got[TPM2_DIGEST_SIZE];
	int ret, ok = -1;

	ret = tpm2_flush(self->b, self->sa.handle);
	TH_LOG("B flushes A's HMAC session: %d (0x%x)", ret, ret);
	EXPECT_TRUE(session_refused(ret));
	ret = tpm2_flush(self->c, self->pa.handle);
	TH_LOG("C flushes A's policy session: %d (0x%x)", ret, ret);
	EXPECT_TRUE(session_refused(ret));
	ASSERT_EQ(0, sign_and_verify(self->a, &self->ka, &ha, &ok));
	ASSERT_EQ(1, ok);
	ASSERT_EQ(0, tpm2_policy_get_digest(self->a, self->pa.handle, got));
}

TEST_F(spaces, session_context_save)
{
	struct tpm2_auth ha = { &self->sa, TPM2_SA_CONTINUE_SESSION };
	struct tpm2_context ctx;
	int ret, ok = -1;

	ret = tpm2_context_save(self->b, self->sa.handle, &ctx);
	TH_LOG("B saves A's HMAC session: %d (0x%x)", ret, ret);
	EXPECT_TRUE(session_refused(ret));
	ret = tpm2_context_save(self->c, self->pa.handle, &ctx);
	TH_LOG("C saves A's policy session: %d (0x%x)", ret, ret);
	EXPECT_TRUE(session_refused(ret));
	ASSERT_EQ(0, sign_and_verify(self->a, &self->ka, &ha, &ok));
	ASSERT_EQ(1, ok);
}

TEST_F(spaces, getcap_transient)
{
	struct tpm2_key k2;
	uint32_t h[16], h2[16];
	unsigned int n, n2;
	int more, ret;

	ASSERT_EQ(0, tpm2_create_primary(self->a, TPM2_KEY_STORAGE, NULL, 0,
					 &k2));

	ret = tpm2_get_handles(self->a, TPM2_HT_TRANSIENT, 16, h, &n, &more);
	ASSERT_EQ(0, ret);
	TH_LOG("A sees %u objects: 0x%08x 0x%08x", n, h[0], h[1]);
	ASSERT_EQ(2, n);
	ASSERT_EQ(0, more);
	ASSERT_TRUE(tpm2_list_contains(h, n, self->ka.handle));
	ASSERT_TRUE(tpm2_list_contains(h, n, k2.handle));
	ASSERT_TRUE(ascending(h, n));

	/* Limited count: moreData set, the rest from the next handle. */
	ASSERT_EQ(0, tpm2_get_handles(self->a, TPM2_HT_TRANSIENT, 1, h2, &n2,
				      &more));
	ASSERT_EQ(1, n2);
	ASSERT_EQ(1, more);
	ASSERT_EQ(h[0], h2[0]);
	ASSERT_EQ(0, tpm2_get_handles(self->a, h2[0] + 1, 1, h2, &n2, &more));
	ASSERT_EQ(1, n2);
	ASSERT_EQ(0, more);
	ASSERT_EQ(h[1], h2[0]);

	/* B sees only its own key, C nothing. */
	ASSERT_EQ(0, tpm2_get_handles(self->b, TPM2_HT_TRANSIENT, 16, h, &n,
				      &more));
	ASSERT_EQ(1, n);
	ASSERT_EQ(self->kb.handle, h[0]);
	ASSERT_EQ(0, tpm2_get_handles(self->c, TPM2_HT_TRANSIENT, 16, h, &n,
				      &more));
	ASSERT_EQ(0, n);
	ASSERT_EQ(0, more);
}

/* Sessions listed as loaded (0x02) or saved (0x03), in one list. */
static int all_sessions(int fd, uint32_t *h, unsigned int max, int *sorted)
{
	int n1, n2;

	n1 = tpm2_handles_by_type(fd, TPM2_HT_LOADED_SESSION, h, max);
	if (n1 < 0)
		return n1;
	*sorted = ascending(h, n1);
	n2 = tpm2_handles_by_type(fd, TPM2_HT_SAVED_SESSION, h + n1, max - n1);
	if (n2 < 0)
		return n2;
	*sorted &= ascending(h + n1, n2);
	return n1 + n2;
}

TEST_F(spaces, getcap_sessions)
{
	uint32_t h[64];
	int n, i, sorted;

	n = all_sessions(self->a, h, 64, &sorted);
	for (i = 0; i < n; i++)
		TH_LOG("A sees session 0x%08x", h[i]);
	ASSERT_EQ(2, n);
	ASSERT_TRUE(sorted);
	ASSERT_TRUE(tpm2_list_contains(h, n, self->sa.handle));
	ASSERT_TRUE(tpm2_list_contains(h, n, self->pa.handle));
	ASSERT_NE(h[0], h[1]);

	/* moreData with a count of one, for each of the two lists. */
	for (i = 0; i < 2; i++) {
		uint32_t type = i ? TPM2_HT_SAVED_SESSION :
				    TPM2_HT_LOADED_SESSION;
		uint32_t one[4];
		unsigned int got;
		int all, more;

		all = tpm2_handles_by_type(self->a, type, h, 64);
		ASSERT_LE(0, all);
		ASSERT_EQ(0, tpm2_get_handles(self->a, type, 1, one, &got,
					      &more));
		ASSERT_EQ(all ? 1 : 0, got);
		ASSERT_EQ(all > 1, more);
		if (all)
			ASSERT_EQ(h[0], one[0]);
	}

	n = all_sessions(self->b, h, 64, &sorted);
	ASSERT_EQ(1, n);
	ASSERT_EQ(self->sb.handle, h[0]);
	n = all_sessions(self->c, h, 64, &sorted);
	ASSERT_EQ(0, n);
}

TEST_F(spaces, context_save_load_object)
{
	struct tpm2_context ctx;
	struct tpm2_key copy;
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	uint32_t h;

	ASSERT_EQ(0, tpm2_context_save(self->a, self->ka.handle, &ctx));
	/* Reload in the same space: a new, working handle. */
	ASSERT_EQ(0, tpm2_context_load(self->a, &ctx, &h));
	TH_LOG("reloaded 0x%08x as 0x%08x", self->ka.handle, h);
	ASSERT_NE(self->ka.handle, h);
	copy = self->ka;
	copy.handle = h;
	ASSERT_EQ(0, sign_and_verify(self->a, &copy, NULL, NULL));
	tpm2_random(digest, sizeof(digest));
	ASSERT_EQ(0, tpm2_sign(self->a, &copy, NULL, digest, &sig, NULL));
	ASSERT_EQ(0, tpm2_verify(self->a, self->ka.handle, digest, &sig));
	ASSERT_EQ(0, tpm2_flush(self->a, h));
	ASSERT_EQ(0, sign_and_verify(self->a, &self->ka, NULL, NULL));

	/* Load in another space: same key, signature checks in A. */
	ASSERT_EQ(0, tpm2_context_load(self->c, &ctx, &h));
	copy.handle = h;
	ASSERT_EQ(0, tpm2_sign(self->c, &copy, NULL, digest, &sig, NULL));
	ASSERT_EQ(0, tpm2_verify(self->c, h, digest, &sig));
	ASSERT_EQ(0, tpm2_verify(self->a, self->ka.handle, digest, &sig));
	ASSERT_NE(0, tpm2_verify(self->b, self->kb.handle, digest, &sig));
}

TEST_F(spaces, context_save_load_session)
{
	struct tpm2_auth ha = { &self->sa, TPM2_SA_CONTINUE_SESSION };
	struct tpm2_context ctx;
	uint32_t h;
	int ok = -1;

	ASSERT_EQ(0, sign_and_verify(self->a, &self->ka, &ha, &ok));
	ASSERT_EQ(0, tpm2_context_save(self->a, self->sa.handle, &ctx));
	ASSERT_EQ(0, tpm2_context_load(self->a, &ctx, &h));
	ASSERT_EQ(self->sa.handle, h);
	ok = -1;
	ASSERT_EQ(0, sign_and_verify(self->a, &self->ka, &ha, &ok));
	ASSERT_EQ(1, ok);

	/* The policy session too, with its digest intact. */
	ASSERT_EQ(0, tpm2_policy_command_code(self->a, self->pa.handle,
					      TPM2_CC_SIGN));
	{
		uint8_t before[TPM2_DIGEST_SIZE], after[TPM2_DIGEST_SIZE];

		ASSERT_EQ(0, tpm2_policy_get_digest(self->a, self->pa.handle,
						    before));
		ASSERT_EQ(0, tpm2_context_save(self->a, self->pa.handle,
					       &ctx));
		ASSERT_EQ(0, tpm2_context_load(self->a, &ctx, &h));
		ASSERT_EQ(self->pa.handle, h);
		ASSERT_EQ(0, tpm2_policy_get_digest(self->a, h, after));
		ASSERT_EQ(0, memcmp(before, after, sizeof(after)));
	}
}

TPMRM_TEST_MAIN()
