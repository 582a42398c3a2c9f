// SPDX-License-Identifier: GPL-2.0
/*
 * Leak audit, run last in every boot of the test job, once every
 * /dev/tpmrm0 file is closed (qemu-harness/guest/check.sh and finish.sh).
 * The check itself is tpm2_leak_audit() in tpm2_lib.c: nothing the raw
 * device lists may be left that nobody can use, and the RM's counters must
 * show nothing held or resident. The kernel's own contexts (its HMAC
 * session, null key, a trusted key's blob) are not leaks, but the RM counts
 * them as taken slots, so a count it forgot to drop is one.
 */
#include <stdio.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

TEST(nothing_left)
{
	struct tpm2_leak l;
	int rc = tpm2_leak_audit(&l);

	ASSERT_LE(0, rc);
	TH_LOG("TPM: %d objects, %d/%d loaded/saved sessions; RM: %llu/%llu%s",
	       l.objects, l.loaded, l.saved,
	       (unsigned long long)l.held_objects,
	       (unsigned long long)l.held_sessions,
	       l.counters ? "" : " (no RM counters: old RM)");
	EXPECT_EQ(0, l.objects);
	EXPECT_EQ(0, l.loaded);
	EXPECT_GE((int)l.held_sessions, l.saved);
	if (l.counters) {
		EXPECT_EQ(0, l.held_objects);
		EXPECT_EQ(0, l.resident_objects);
		EXPECT_EQ(0, l.resident_sessions);
	}
	if (l.kernel_counters) {
		TH_LOG("RM's count of kernel contexts: %llu objects, %llu sessions",
		       (unsigned long long)l.kernel_objects,
		       (unsigned long long)l.kernel_sessions);
		EXPECT_EQ(0, l.kernel_objects);
		EXPECT_EQ(0, l.kernel_sessions);
	}
	EXPECT_EQ(0, rc);
}

TPMRM_TEST_MAIN()
