// SPDX-License-Identifier: GPL-2.0
/*
 * Leak audit, run last in every boot of the test job, once every
 * /dev/tpmrm0 file is closed (qemu-harness/guest/check.sh and finish.sh).
 *
 * A raw /dev/tpm0 command makes the RM save or flush what it keeps loaded,
 * so the raw device then sees what nobody can use: any transient object or
 * loaded session is a leak. A saved session is a leak unless the RM holds
 * it (a session a client saved and left behind, kept for another file to
 * load: held_sessions counts those). The RM's own counts must agree: no
 * object held, nothing resident.
 *
 * The kernel's own contexts (CONFIG_TCG_TPM2_HMAC: its HMAC session, its
 * null key, a trusted key's blob) are not leaks, but the RM counts them as
 * taken slots (kernel_objects, kernel_sessions), so a count it forgot to
 * drop is one: a slot lost for good. The raw command ended the kernel's
 * session, and 6.12's kernel flushes its null key and blobs and ends its
 * session within each operation, so once no kernel operation (hwrng, IMA)
 * runs, both counts are 0. A kernel operation may run meanwhile: the
 * counts are read until both are 0, at most 20 times.
 */
#include <stdio.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define MAX_HANDLES	256
#define KERNEL_READS	20

static int list(int fd, uint32_t type, const char *what)
{
	uint32_t h[MAX_HANDLES];
	int n, i;

	n = tpm2_handles_by_type(fd, type, h, MAX_HANDLES);
	for (i = 0; i < n; i++)
		fprintf(stderr, "# %s 0x%08x\n", what, h[i]);
	return n;
}

/* The RM's counts of the kernel's contexts, once both are 0 if ever. */
static int kernel_counts(uint64_t *objs, uint64_t *sess)
{
	int i;

	for (i = 0; i < KERNEL_READS; i++) {
		if (tpm2_rm_counter("kernel_objects", objs) ||
		    tpm2_rm_counter("kernel_sessions", sess))
			return -1;
		if (!*objs && !*sess)
			break;
		usleep(50000);
	}
	return 0;
}

TEST(nothing_left)
{
	uint64_t held_objs = 0, held_sess = 0, res_objs, res_sess;
	uint64_t k_objs, k_sess;
	int raw, objs, loaded, saved, counters;

	raw = tpm2_open(TPM2_RAW_DEV, 0);
	ASSERT_LE(0, raw);
	objs = list(raw, TPM2_HT_TRANSIENT, "transient object");
	loaded = list(raw, TPM2_HT_LOADED_SESSION, "loaded session");
	saved = list(raw, TPM2_HT_SAVED_SESSION, "saved session");
	close(raw);
	ASSERT_LE(0, objs);
	ASSERT_LE(0, loaded);
	ASSERT_LE(0, saved);

	counters = !tpm2_rm_counter("held_objects", &held_objs) &&
		   !tpm2_rm_counter("held_sessions", &held_sess);
	TH_LOG("TPM: %d objects, %d/%d loaded/saved sessions; RM: %llu/%llu%s",
	       objs, loaded, saved, (unsigned long long)held_objs,
	       (unsigned long long)held_sess,
	       counters ? "" : " (no RM counters: old RM)");
	EXPECT_EQ(0, objs);
	EXPECT_EQ(0, loaded);
	EXPECT_GE((int)held_sess, saved);
	if (!counters)
		return;
	EXPECT_EQ(0, held_objs);
	ASSERT_EQ(0, tpm2_rm_counter("resident_objects", &res_objs));
	ASSERT_EQ(0, tpm2_rm_counter("resident_sessions", &res_sess));
	EXPECT_EQ(0, res_objs);
	EXPECT_EQ(0, res_sess);
	ASSERT_EQ(0, kernel_counts(&k_objs, &k_sess));
	TH_LOG("RM's count of kernel contexts: %llu objects, %llu sessions",
	       (unsigned long long)k_objs, (unsigned long long)k_sess);
	EXPECT_EQ(0, k_objs);
	EXPECT_EQ(0, k_sess);
}

TPMRM_TEST_MAIN()
