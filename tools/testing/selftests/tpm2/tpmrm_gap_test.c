// SPDX-License-Identifier: GPL-2.0
/*
 * Context gap (TPM_RC_CONTEXT_GAP, 0x901) through /dev/tpmrm0.
 *
 * The TPM numbers saved sessions with a counter it keeps only the low bits
 * of; once the oldest saved session is TPM_PT_CONTEXT_GAP_MAX saves behind,
 * ContextSave, StartAuthSession and ContextLoad fail with 0x901 until that
 * session is loaded (and saved again) or flushed. One file keeps a policy
 * session that the RM holds saved, another has saved a session itself
 * (handed out), and a third saves and loads its own session until the
 * counter has gone past the gap. No command may fail with 0x901, the RM
 * must count its regaps, the long-lived session must still work, and the
 * handed-out one, which the RM had to drop, fails once with an RM-layer
 * error while its file stays usable.
 *
 * The full run needs about TPM_PT_CONTEXT_GAP_MAX save/load pairs (65535
 * with libtpms): it runs when TPMRM_EXTENDED=1 or the gap is small. The
 * short run churns a few hundred times and checks the same invariants.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define TPM2_PT_CONTEXT_GAP_MAX		0x00000114
#define TPM2_RC_CONTEXT_GAP		0x00000901
#define SHORT_CHURN			300
#define SMALL_GAP			4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(gap) {
	int keeper, saver, churn;
	uint32_t gap_max;
	struct tpm2_session old, handed, x;
	struct tpm2_context handed_ctx;
};

FIXTURE_SETUP(gap)
{
	self->keeper = tpm2_open(TPM2_RM_DEV, 0);
	self->saver = tpm2_open(TPM2_RM_DEV, 0);
	self->churn = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->keeper);
	ASSERT_LE(0, self->saver);
	ASSERT_LE(0, self->churn);
	ASSERT_EQ(0, tpm2_get_property(self->keeper,
				       TPM2_PT_CONTEXT_GAP_MAX,
				       &self->gap_max));
	TH_LOG("TPM_PT_CONTEXT_GAP_MAX = %u", self->gap_max);
	ASSERT_LT(0, self->gap_max);

	/* the long-lived session, then saved by the RM (raw command) */
	ASSERT_EQ(0, tpm2_start_session(self->keeper, TPM2_SE_POLICY,
					&self->old));
	/* a session its client saved itself, younger than the one above */
	ASSERT_EQ(0, tpm2_start_session(self->saver, TPM2_SE_HMAC,
					&self->handed));
	ASSERT_EQ(0, tpm2_raw_command());
	ASSERT_EQ(0, tpm2_context_save(self->saver, self->handed.handle,
				       &self->handed_ctx));
	ASSERT_EQ(0, tpm2_start_session(self->churn, TPM2_SE_HMAC, &self->x));
}

FIXTURE_TEARDOWN(gap)
{
	close(self->keeper);
	close(self->saver);
	close(self->churn);
}

/*
 * Save and load the churn session @n times; every ContextSave moves the
 * TPM's context counter on by one. Returns the first failing response code
 * (or negative errno) and the iteration it happened in.
 */
static int churn(struct __test_metadata *_metadata, int fd, uint32_t handle,
		 unsigned int n, unsigned int *done)
{
	struct tpm2_context ctx;
	uint32_t h;
	int ret;

	for (*done = 0; *done < n; (*done)++) {
		if (*done && !(*done % 16384))
			TH_LOG("%u save/load pairs", *done);
		ret = tpm2_context_save(fd, handle, &ctx);
		if (ret)
			return ret;
		ret = tpm2_context_load(fd, &ctx, &h);
		if (ret)
			return ret;
		if (h != handle)
			return -EBADSLT;
	}
	return 0;
}

/* The keeper's session must still be usable: PolicyGetDigest names it. */
static void check_keeper(struct __test_metadata *_metadata, int fd,
			 uint32_t handle)
{
	uint8_t digest[TPM2_DIGEST_SIZE];

	EXPECT_EQ(0, tpm2_policy_get_digest(fd, handle, digest));
	EXPECT_EQ(0, tpm2_flush(fd, handle));
}

TEST_F(gap, short_churn)
{
	uint64_t before = 0, after = 0;
	unsigned int done;
	int has_counter;
	double t0;
	int ret;

	has_counter = !tpm2_rm_counter("regaps", &before);
	t0 = now();
	ret = churn(_metadata, self->churn, self->x.handle, SHORT_CHURN, &done);
	TH_LOG("%u save/load pairs in %.2f s", done, now() - t0);
	EXPECT_EQ(0, ret) {
		TH_LOG("iteration %u failed with %#x%s", done, ret,
		       ret == TPM2_RC_CONTEXT_GAP ? " (TPM_RC_CONTEXT_GAP)" : "");
	}
	check_keeper(_metadata, self->keeper, self->old.handle);
	if (!has_counter)
		SKIP(return, "no rm/regaps counter (old RM)");
	ASSERT_EQ(0, tpm2_rm_counter("regaps", &after));
	/* at most one regap per gap's worth of saves, plus the orphans */
	EXPECT_LE(after - before, SHORT_CHURN / self->gap_max + 1 + 16);
	EXPECT_LE(before, after);
}

/* About 2 ms per save/load pair under QEMU TCG: 65535 pairs take minutes. */
TEST_F_TIMEOUT(gap, past_the_gap, 3600)
{
	uint64_t before = 0, after = 0;
	struct tpm2_session fresh;
	unsigned int done, n;
	const char *ext = getenv("TPMRM_EXTENDED");
	double t0;
	uint32_t h;
	int has_counter;
	int ret;

	if (self->gap_max > SMALL_GAP && !(ext && !strcmp(ext, "1")))
		SKIP(return,
		     "gap %u needs ~%u save/load pairs; run with TPMRM_EXTENDED=1",
		     self->gap_max, self->gap_max);

	has_counter = !tpm2_rm_counter("regaps", &before);
	n = self->gap_max + self->gap_max / 8 + 64;
	t0 = now();
	ret = churn(_metadata, self->churn, self->x.handle, n, &done);
	TH_LOG("%u of %u save/load pairs in %.1f s", done, n, now() - t0);
	EXPECT_EQ(0, ret) {
		TH_LOG("iteration %u failed with %#x%s", done, ret,
		       ret == TPM2_RC_CONTEXT_GAP ? " (TPM_RC_CONTEXT_GAP)" : "");
	}

	/* the RM regapped the keeper's session: it still works */
	check_keeper(_metadata, self->keeper, self->old.handle);

	/* the RM had to drop the handed-out session: one RM-layer error */
	ret = tpm2_context_load(self->saver, &self->handed_ctx, &h);
	EXPECT_TRUE(ret > 0 && tpm2_rc_is_rm_layer(ret)) {
		TH_LOG("ContextLoad of the dropped session: %#x", ret);
	}
	/* ... and its file still starts and flushes sessions */
	EXPECT_EQ(0, tpm2_start_session(self->saver, TPM2_SE_HMAC, &fresh));
	EXPECT_EQ(0, tpm2_flush(self->saver, fresh.handle));

	if (!has_counter)
		return;
	ASSERT_EQ(0, tpm2_rm_counter("regaps", &after));
	TH_LOG("regaps: %llu", (unsigned long long)(after - before));
	EXPECT_LT(before, after);
}

TPMRM_TEST_MAIN()
