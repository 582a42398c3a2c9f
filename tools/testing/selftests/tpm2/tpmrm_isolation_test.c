// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation matrix for the TPM resource manager (/dev/tpmrm0).
 *
 * For every command code the TPM lists in TPM_CAP_COMMANDS, an attacker
 * space puts a victim space's object handle, HMAC session handle and policy
 * session handle in each position of the handle area (TPMA_CC.cHandles),
 * and the victim's sessions in its authorization area. FlushContext,
 * ContextSave and ContextLoad of the victim's entities are tried as well.
 *
 * Every attempt must be refused by the RM itself: an RM-layer handle or
 * session error naming the position, EINVAL for FlushContext of a foreign
 * object, or TPM_RC_AUTH_CONTEXT for a FlushContext with sessions
 * (Documentation/security/tpm/tpm-rm.rst). The rm_answered
 * counter must grow by the number of RM-layer refusals, so none of them
 * reached the TPM, and after each command code the victim's key, HMAC
 * session and policy session must still work and be unchanged.
 *
 * The table (command code, position, entity, outcome) is printed as TAP
 * diagnostics. On the old resource manager the test fails and the summary
 * counts the attempts that were passed to the TPM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define ISO_CC_FLUSH	0x00000165
#define ISO_RC_AUTH_CONTEXT	(TPM2_RC_RESMGR_LAYER | 0x145)

enum iso_entity { ISO_OBJECT, ISO_HMAC, ISO_POLICY, ISO_NR_ENTITIES };

static const char *const iso_entity_name[ISO_NR_ENTITIES] = {
	"object", "hmac-session", "policy-session",
};

enum iso_outcome {
	ISO_RM,		/* RM-layer handle or session error: refused */
	ISO_EINVAL,	/* write failed with EINVAL: refused */
	ISO_RM_OTHER,	/* another RM-layer error */
	ISO_TPM_ERROR,	/* reached the TPM, which failed it */
	ISO_TPM_OK,	/* reached the TPM, which ran it */
	ISO_ERRNO,	/* another errno */
	ISO_NR_OUTCOMES
};

static const char *const iso_outcome_name[ISO_NR_OUTCOMES] = {
	"refused-rm", "refused-einval", "rm-other", "reached-tpm-error",
	"reached-tpm-success", "errno",
};

struct iso_victim {
	int fd;
	struct tpm2_key key;
	struct tpm2_session hmac, policy;
	uint8_t policy_digest[TPM2_DIGEST_SIZE];
};

struct iso_stats {
	unsigned long n[ISO_NR_OUTCOMES];
	unsigned long exact;		/* refusal with the expected code */
	unsigned long attempts;
};

/*
 * Sends @cc with TPM_RH_NULL in every handle position except @pos, which
 * holds @handle (pos < 0: none), and one session in the authorization area,
 * @auth_handle (TPM_RS_PW for a password session), or none if it is zero.
 */
static int iso_send(int fd, uint32_t cc, unsigned int nr_handles, int pos,
		    uint32_t handle, uint32_t auth_handle, uint8_t *rsp,
		    size_t size)
{
	struct tpm2_buf b;
	unsigned int i;

	tpm2_buf_init(&b);
	tpm2_put16(&b, auth_handle ? TPM2_ST_SESSIONS : TPM2_ST_NO_SESSIONS);
	tpm2_put32(&b, 0);
	tpm2_put32(&b, cc);
	for (i = 0; i < nr_handles; i++)
		tpm2_put32(&b, (int)i == pos ? handle : TPM2_RH_NULL);
	if (auth_handle) {
		tpm2_put32(&b, 9);
		tpm2_put32(&b, auth_handle);
		tpm2_put16(&b, 0);
		tpm2_put8(&b, TPM2_SA_CONTINUE_SESSION);
		tpm2_put16(&b, 0);
	}
	b.data[2] = b.len >> 24;
	b.data[3] = b.len >> 16;
	b.data[4] = b.len >> 8;
	b.data[5] = b.len;
	return tpm2_xfer(fd, b.data, b.len, rsp, size);
}

static enum iso_outcome iso_classify(int ret, const uint8_t *rsp,
				     uint32_t expect, uint32_t *rc)
{
	*rc = 0;
	if (ret == -EINVAL)
		return ISO_EINVAL;
	if (ret < 0)
		return ISO_ERRNO;
	*rc = tpm2_get32(rsp + 6);
	if (tpm2_rc_is_rm_layer(*rc))
		return *rc == expect ||
		       ((*rc & TPM2_RC_FMT1) && (*rc & 0x3F) == 0x0B) ?
		       ISO_RM : ISO_RM_OTHER;
	return *rc ? ISO_TPM_ERROR : ISO_TPM_OK;
}

static void iso_record(struct iso_stats *st, uint32_t cc, const char *where,
		       enum iso_entity e, int ret, const uint8_t *rsp,
		       uint32_t expect)
{
	enum iso_outcome o;
	uint32_t rc;

	o = iso_classify(ret, rsp, expect, &rc);
	st->attempts++;
	st->n[o]++;
	if ((o == ISO_RM && rc == expect) || (o == ISO_EINVAL && !expect))
		st->exact++;
	fprintf(stderr, "# 0x%08x %-10s %-14s %-19s rc 0x%08x%s\n", cc, where,
		iso_entity_name[e], iso_outcome_name[o],
		o == ISO_EINVAL || o == ISO_ERRNO ? (uint32_t)-ret : rc,
		(o == ISO_RM && rc != expect) ? " (unexpected code)" : "");
}

static uint32_t iso_handle_error(unsigned int pos)
{
	return TPM2_RC_RESMGR_LAYER | TPM2_RC_HANDLE | (pos + 1) << 8;
}

/* FlushContext's flushHandle is parameter 1. */
static uint32_t iso_flush_error(void)
{
	return TPM2_RC_RESMGR_LAYER | TPM2_RC_HANDLE | 0x040 | 1 << 8;
}

static uint32_t iso_session_error(unsigned int slot)
{
	return TPM2_RC_RESMGR_LAYER | TPM2_RC_HANDLE | 0x800 | (slot + 1) << 8;
}

static uint32_t iso_victim_handle(const struct iso_victim *v,
				  enum iso_entity e)
{
	if (e == ISO_OBJECT)
		return v->key.handle;
	return e == ISO_HMAC ? v->hmac.handle : v->policy.handle;
}

/* The victim's key signs with its HMAC session; its policy is unchanged. */
static int iso_victim_ok(struct iso_victim *v)
{
	struct tpm2_auth auth = { &v->hmac, TPM2_SA_CONTINUE_SESSION };
	uint8_t digest[TPM2_DIGEST_SIZE], pd[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	int ret, hmac_ok = 0;

	tpm2_random(digest, sizeof(digest));
	ret = tpm2_sign(v->fd, &v->key, &auth, digest, &sig, &hmac_ok);
	if (ret)
		return ret;
	if (hmac_ok != 1)
		return -EBADMSG;
	ret = tpm2_verify(v->fd, v->key.handle, digest, &sig);
	if (ret)
		return ret;
	ret = tpm2_policy_get_digest(v->fd, v->policy.handle, pd);
	if (ret)
		return ret;
	return memcmp(pd, v->policy_digest, sizeof(pd)) ? -EBADMSG : 0;
}

/* All attempts for one command code. */
static void iso_command(int fd, struct iso_victim *v, uint32_t attrs,
			struct iso_stats *st)
{
	uint32_t cc = tpm2_cca_code(attrs);
	unsigned int nh = tpm2_cca_handles(attrs), pos;
	uint8_t rsp[TPM2_BUF_SIZE];
	char where[24];
	uint32_t expect;
	int e, ret;

	/* flushHandle is a parameter, but comes first, like a handle. */
	if (cc == ISO_CC_FLUSH && !nh)
		nh = 1;
	for (pos = 0; pos < nh; pos++) {
		snprintf(where, sizeof(where), "handle[%u]", pos);
		for (e = 0; e < ISO_NR_ENTITIES; e++) {
			/* FlushContext takes no session. */
			ret = iso_send(fd, cc, nh, pos, iso_victim_handle(v, e),
				       cc == ISO_CC_FLUSH ? 0 : TPM2_RS_PW,
				       rsp, sizeof(rsp));
			expect = cc == ISO_CC_FLUSH ? iso_flush_error() :
						      iso_handle_error(pos);
			if (cc == ISO_CC_FLUSH && e == ISO_OBJECT)
				expect = 0;
			iso_record(st, cc, where, e, ret, rsp, expect);
		}
	}
	for (e = ISO_HMAC; e < ISO_NR_ENTITIES; e++) {
		ret = iso_send(fd, cc, nh, -1, 0, iso_victim_handle(v, e),
			       rsp, sizeof(rsp));
		/* FlushContext takes no session at all (TPM_RC_AUTH_CONTEXT) */
		iso_record(st, cc, "auth[0]", e, ret, rsp,
			   cc == ISO_CC_FLUSH ? ISO_RC_AUTH_CONTEXT :
			   iso_session_error(0));
	}
}

FIXTURE(matrix) {
	int a;
	struct iso_victim v;
	struct tpm2_key ka;
	uint32_t cca[TPM2_MAX_COMMANDS];
	int nr_cca;
};

FIXTURE_SETUP(matrix)
{
	struct iso_victim *v = &self->v;
	struct tpm2_key spare;
	uint32_t own[16];
	int n;

	self->a = tpm2_open(TPM2_RM_DEV, 0);
	v->fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, v->fd);
	self->nr_cca = tpm2_get_commands(self->a, self->cca,
					 TPM2_MAX_COMMANDS);
	ASSERT_LT(10, self->nr_cca);
	/*
	 * Virtual handles are per space and start alike: the victim's key is
	 * its second object and the attacker holds one, so that the victim's
	 * handle names nothing of the attacker's.
	 */
	ASSERT_EQ(0, tpm2_create_primary(v->fd, TPM2_KEY_SIGN, NULL, 0,
					 &spare));
	ASSERT_EQ(0, tpm2_create_primary(v->fd, TPM2_KEY_SIGN, NULL, 0,
					 &v->key));
	ASSERT_EQ(0, tpm2_create_primary(self->a, TPM2_KEY_SIGN, NULL, 0,
					 &self->ka));
	n = tpm2_handles_by_type(self->a, TPM2_HT_TRANSIENT, own, 16);
	ASSERT_LE(0, n);
	ASSERT_FALSE(tpm2_list_contains(own, n, v->key.handle));
	ASSERT_EQ(0, tpm2_start_session(v->fd, TPM2_SE_HMAC, &v->hmac));
	ASSERT_EQ(0, tpm2_start_session(v->fd, TPM2_SE_POLICY, &v->policy));
	ASSERT_EQ(0, tpm2_policy_command_code(v->fd, v->policy.handle,
					      TPM2_CC_SIGN));
	ASSERT_EQ(0, tpm2_policy_get_digest(v->fd, v->policy.handle,
					    v->policy_digest));
	ASSERT_EQ(0, iso_victim_ok(v));
	TH_LOG("victim: key 0x%08x hmac 0x%08x policy 0x%08x; attacker key 0x%08x",
	       v->key.handle, v->hmac.handle, v->policy.handle,
	       self->ka.handle);
}

FIXTURE_TEARDOWN(matrix)
{
	if (self->a >= 0)
		close(self->a);
	if (self->v.fd >= 0)
		close(self->v.fd);
}

TEST_F_TIMEOUT(matrix, every_command, 280)
{
	struct iso_stats st = { 0 };
	uint64_t before = 0, after = 0;
	unsigned long let_through, broken = 0;
	int i, counters = tpm2_rm_has_counters(), ret;

	if (counters)
		ASSERT_EQ(0, tpm2_rm_counter("rm_answered", &before));
	fprintf(stderr, "# command    position   entity         outcome\n");
	for (i = 0; i < self->nr_cca; i++) {
		iso_command(self->a, &self->v, self->cca[i], &st);
		ret = iso_victim_ok(&self->v);
		if (ret) {
			fprintf(stderr, "# 0x%08x: victim broken: %d (0x%x)\n",
				tpm2_cca_code(self->cca[i]), ret, ret);
			broken++;
		}
	}
	if (counters)
		ASSERT_EQ(0, tpm2_rm_counter("rm_answered", &after));
	let_through = st.n[ISO_TPM_ERROR] + st.n[ISO_TPM_OK];
	TH_LOG("%d codes, %lu attempts: %lu RM refusals, %lu EINVAL, %lu exact",
	       self->nr_cca, st.attempts, st.n[ISO_RM], st.n[ISO_EINVAL],
	       st.exact);
	TH_LOG("%lu other RM errors, %lu to the TPM (%lu ran), %lu errno, broken after %lu",
	       st.n[ISO_RM_OTHER], let_through, st.n[ISO_TPM_OK],
	       st.n[ISO_ERRNO], broken);
	EXPECT_EQ(0, broken);
	EXPECT_EQ(st.attempts, st.n[ISO_RM] + st.n[ISO_EINVAL]);
	EXPECT_EQ(st.attempts, st.exact);
	if (counters) {
		TH_LOG("rm_answered grew by %llu",
		       (unsigned long long)(after - before));
		/* Each refusal was answered by the RM, not by the TPM. */
		EXPECT_EQ(st.n[ISO_RM], after - before);
	}
}

/* Flush, save and load of the victim's entities by the attacker. */
TEST_F(matrix, context_commands)
{
	struct tpm2_context ctx;
	struct tpm2_session s2;
	uint32_t h;
	int ret;

	ret = tpm2_flush(self->a, self->v.key.handle);
	TH_LOG("FlushContext of the victim's object: %d", ret);
	EXPECT_EQ(-EINVAL, ret);
	ret = tpm2_flush(self->a, self->v.hmac.handle);
	TH_LOG("FlushContext of the victim's session: 0x%x", ret);
	EXPECT_EQ(iso_flush_error(), ret);
	ret = tpm2_context_save(self->a, self->v.key.handle, &ctx);
	TH_LOG("ContextSave of the victim's object: 0x%x", ret);
	EXPECT_EQ(iso_handle_error(0), ret);
	ret = tpm2_context_save(self->a, self->v.policy.handle, &ctx);
	TH_LOG("ContextSave of the victim's session: 0x%x", ret);
	EXPECT_EQ(iso_handle_error(0), ret);

	/* A session the victim saved does not load into another space. */
	ASSERT_EQ(0, tpm2_start_session(self->v.fd, TPM2_SE_HMAC, &s2));
	ASSERT_EQ(0, tpm2_context_save(self->v.fd, s2.handle, &ctx));
	ret = tpm2_context_load(self->a, &ctx, &h);
	TH_LOG("ContextLoad of the victim's saved session: 0x%x", ret);
	EXPECT_EQ(TPM2_RC_RESMGR_LAYER | 0x1CB, ret);
	ASSERT_EQ(0, tpm2_context_load(self->v.fd, &ctx, &h));
	EXPECT_EQ(s2.handle, h);
	EXPECT_EQ(0, tpm2_flush(self->v.fd, h));
	EXPECT_EQ(0, iso_victim_ok(&self->v));
}

TPMRM_TEST_MAIN()
