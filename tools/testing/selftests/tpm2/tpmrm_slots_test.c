// SPDX-License-Identifier: GPL-2.0
/*
 * Slot accounting: the RM never forgets a context the TPM still holds, and
 * an entity someone else destroyed is gone for its owner alone.
 *
 * raw_flush_reuse: space A holds a session, space B three resident keys.
 * A raw /dev/tpm0 user makes the RM save A's session and flushes every
 * saved session, as "tpm2_flushcontext -s" does; then space C starts
 * sessions until the TPM hands out A's old handle again. B's keys must
 * keep signing, A's next use of its session must fail with an RM-layer
 * code, new keys must still fit, and once every file is closed the TPM
 * must hold no transient object and no loaded session.
 *
 * lost_response (debug kernel, fail_function): the response of a client's
 * FlushContext, or of a command that ends its session (continueSession=0),
 * is lost after the TPM executed it (tpm2_rm_rsp_check() fails). Then
 * another space gets the freed handle; B's keys must keep signing and the
 * RM's resident counts must match the TPM's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define FF_DIR		TPM2_FF_DIR
#define NR_KEYS		3
#define EIO_RETVAL	"0xfffffffffffffffb"
#define RSP_FN		"tpm2_rm_rsp_check"

struct holder {
	int fd;
	struct tpm2_key parent;
	struct tpm2_key key[NR_KEYS - 1];
};

/* A primary and two loaded children: three transient objects. */
static int holder_setup(struct holder *b)
{
	int i, rc;

	b->fd = tpm2_open(TPM2_RM_DEV, 0);
	if (b->fd < 0)
		return b->fd;
	rc = tpm2_create_primary(b->fd, TPM2_KEY_STORAGE, NULL, 0, &b->parent);
	for (i = 0; !rc && i < NR_KEYS - 1; i++) {
		rc = tpm2_create(b->fd, &b->parent, NULL, TPM2_KEY_SIGN, NULL,
				 0, &b->key[i]);
		if (!rc)
			rc = tpm2_load(b->fd, &b->parent, NULL, &b->key[i]);
	}
	return rc;
}

static int holder_sign(struct holder *b)
{
	int i, rc = 0;

	for (i = 0; !rc && i < NR_KEYS - 1; i++)
		rc = tpm2_sign_check(b->fd, &b->key[i], NULL);
	return rc;
}

#define TPM2_SA_AUDIT	0x80

/* GetRandom audited by @s: 0 or the TPM_RC / -errno. */
static int use_session(int fd, struct tpm2_session *s)
{
	struct tpm2_auth a = { s, TPM2_SA_CONTINUE_SESSION | TPM2_SA_AUDIT };
	static struct tpm2_rsp rsp;
	uint8_t count[2] = { 0, 8 };
	int rc;

	rc = tpm2_exec(fd, TPM2_CC_GET_RANDOM, NULL, NULL, 0, 0, &a, 1, count,
		       sizeof(count), &rsp);
	return rc < 0 ? rc : (int)rsp.rc;
}

/* Flush every saved session through the raw device; how many, or -errno. */
static int raw_flush_saved(void)
{
	uint32_t h[64];
	int raw, n, i;

	raw = tpm2_open(TPM2_RAW_DEV, 0);
	if (raw < 0)
		return raw;
	n = tpm2_handles_by_type(raw, TPM2_HT_SAVED_SESSION, h, 64);
	for (i = 0; i < n; i++)
		tpm2_flush(raw, h[i]);
	close(raw);
	return n;
}

/* What the raw device sees: transient objects and loaded sessions. */
static void raw_counts(struct __test_metadata *_metadata, int *objs,
		       int *sess)
{
	uint32_t h[64];
	int raw;

	raw = tpm2_open(TPM2_RAW_DEV, 0);
	ASSERT_LE(0, raw);
	*objs = tpm2_handles_by_type(raw, TPM2_HT_TRANSIENT, h, 64);
	*sess = tpm2_handles_by_type(raw, TPM2_HT_LOADED_SESSION, h, 64);
	close(raw);
	ASSERT_LE(0, *objs);
	ASSERT_LE(0, *sess);
}

/* With every /dev/tpmrm0 file of the test closed, nothing is left. */
static void expect_empty(struct __test_metadata *_metadata)
{
	int objs, sess;

	raw_counts(_metadata, &objs, &sess);
	EXPECT_EQ(0, objs);
	EXPECT_EQ(0, sess);
}

/* The RM's resident counts match the TPM (after a raw command: both 0). */
static void expect_in_sync(struct __test_metadata *_metadata)
{
	uint64_t ro, rs;
	int objs, sess;

	if (tpm2_rm_counter("resident_objects", &ro) ||
	    tpm2_rm_counter("resident_sessions", &rs))
		return;		/* old RM: nothing to compare */
	raw_counts(_metadata, &objs, &sess);
	ASSERT_EQ(0, tpm2_rm_counter("resident_objects", &ro));
	ASSERT_EQ(0, tpm2_rm_counter("resident_sessions", &rs));
	EXPECT_EQ(objs, (int)ro);
	EXPECT_EQ(sess, (int)rs);
}

/* Start sessions in @fd until one gets @want; 0 if it did. */
static int session_with_handle(int fd, uint32_t want,
			       struct tpm2_session *s)
{
	int i, rc;

	for (i = 0; i < 8; i++) {
		rc = tpm2_start_session(fd, TPM2_SE_HMAC, s);
		if (rc)
			return rc;
		if (s->handle == want)
			return 0;
	}
	return -ENOENT;
}

TEST(raw_flush_reuse)
{
	struct tpm2_session sa, sc;
	struct holder b = { .fd = -1 }, more = { .fd = -1 };
	int a, c, rc, n;

	a = tpm2_open(TPM2_RM_DEV, 0);
	c = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, a);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, tpm2_start_session(a, TPM2_SE_HMAC, &sa));
	ASSERT_EQ(0, holder_setup(&b));
	ASSERT_EQ(0, holder_sign(&b));

	n = raw_flush_saved();
	TH_LOG("raw user flushed %d saved sessions", n);
	ASSERT_LE(1, n);
	ASSERT_EQ(0, holder_sign(&b));		/* B's keys resident again */

	rc = session_with_handle(c, sa.handle, &sc);
	ASSERT_EQ(0, rc) {
		TH_LOG("the TPM did not hand out 0x%08x again: %d", sa.handle,
		       rc);
	}

	rc = holder_sign(&b);
	EXPECT_EQ(0, rc) {
		TH_LOG("B's keys after the reuse: 0x%x", rc);
	}
	rc = use_session(a, &sa);
	EXPECT_TRUE(rc > 0 && tpm2_rc_is_rm_layer(rc)) {
		TH_LOG("A's flushed session: 0x%x, want an RM-layer code", rc);
	}
	EXPECT_EQ(0, use_session(c, &sc));
	expect_in_sync(_metadata);

	/* No slot leaked: three more keys fit beside B's. */
	rc = holder_setup(&more);
	EXPECT_EQ(0, rc) {
		TH_LOG("new keys after the reuse: 0x%x", rc);
	}
	EXPECT_EQ(0, holder_sign(&more));
	EXPECT_EQ(0, holder_sign(&b));

	close(more.fd);
	close(b.fd);
	close(a);
	close(c);
	expect_empty(_metadata);
}

/* Make the next client response check fail, once; NULL or why not. */
static const char *lose_next_response(void)
{
	if (access(FF_DIR "/inject", W_OK))
		return "no " FF_DIR ": kernel without CONFIG_FAIL_FUNCTION";
	if (tpm2_ff_write("inject", RSP_FN))
		return RSP_FN " is not injectable: not this RM";
	if (tpm2_ff_write(RSP_FN "/retval", EIO_RETVAL) ||
	    tpm2_ff_write("probability", "100") || tpm2_ff_write("interval", "1") ||
	    tpm2_ff_write("verbose", "0") || tpm2_ff_write("space", "0") ||
	    tpm2_ff_write("task-filter", "N") || tpm2_ff_write("times", "1"))
		return "cannot arm fail_function";
	return NULL;
}

FIXTURE(lost) {
	int a, c;
	struct holder b;
	struct tpm2_key ka;
	struct tpm2_session sa;
};

FIXTURE_VARIANT(lost) {
	int flush;		/* FlushContext, else continueSession=0 */
};

FIXTURE_VARIANT_ADD(lost, flush_context) {
	.flush = 1,
};

FIXTURE_VARIANT_ADD(lost, continue_session_0) {
	.flush = 0,
};

FIXTURE_SETUP(lost)
{
	self->a = -1;
	self->c = -1;
	self->b.fd = -1;
}

FIXTURE_TEARDOWN(lost)
{
	tpm2_ff_write("inject", " ");
	if (self->a >= 0)
		close(self->a);
	if (self->c >= 0)
		close(self->c);
	if (self->b.fd >= 0)
		close(self->b.fd);
}

TEST_F_TIMEOUT(lost, response, 300)
{
	struct tpm2_auth end = { &self->sa, 0 };
	uint8_t digest[TPM2_DIGEST_SIZE] = { 1 };
	struct tpm2_session sc;
	struct tpm2_key kc;
	struct tpm2_sig sig;
	const char *why;
	int rc, ok;

	self->a = tpm2_open(TPM2_RM_DEV, 0);
	self->c = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, tpm2_create_primary(self->a, TPM2_KEY_SIGN, NULL, 0,
					 &self->ka));
	ASSERT_EQ(0, tpm2_start_session(self->a, TPM2_SE_HMAC, &self->sa));
	ASSERT_EQ(0, holder_setup(&self->b));
	ASSERT_EQ(0, holder_sign(&self->b));
	/* A's key and session resident, at the handles C will get next */
	ASSERT_EQ(0, tpm2_sign_check(self->a, &self->ka, NULL));
	ASSERT_EQ(0, use_session(self->a, &self->sa));

	why = lose_next_response();
	if (why)
		SKIP(return, "%s", why);
	if (variant->flush)
		rc = tpm2_flush(self->a, self->ka.handle);
	else
		rc = tpm2_sign(self->a, &self->ka, &end, digest, &sig, &ok);
	tpm2_ff_write("inject", " ");
	TH_LOG("command with its response lost: %d", rc);
	ASSERT_EQ(-EIO, rc);

	/* The freed slot goes to C. */
	if (variant->flush) {
		EXPECT_EQ(0, tpm2_create_primary(self->c, TPM2_KEY_SIGN, NULL,
						 0, &kc));
	} else {
		EXPECT_EQ(0, tpm2_start_session(self->c, TPM2_SE_HMAC, &sc));
	}

	rc = holder_sign(&self->b);
	EXPECT_EQ(0, rc) {
		TH_LOG("B's keys after the lost response: 0x%x", rc);
	}
	expect_in_sync(_metadata);
	if (variant->flush) {
		EXPECT_EQ(0, tpm2_sign_check(self->c, &kc, NULL));
	} else {
		EXPECT_EQ(0, use_session(self->c, &sc));
		rc = use_session(self->a, &self->sa);
		EXPECT_TRUE(rc > 0 && tpm2_rc_is_rm_layer(rc)) {
			TH_LOG("A's ended session: 0x%x", rc);
		}
	}
	close(self->a);
	close(self->b.fd);
	close(self->c);
	self->a = -1;
	self->b.fd = -1;
	self->c = -1;
	expect_empty(_metadata);
}

TPMRM_TEST_MAIN()
