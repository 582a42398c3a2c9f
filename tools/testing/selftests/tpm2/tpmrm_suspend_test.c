// SPDX-License-Identifier: GPL-2.0
/*
 * Suspend and resume with /dev/tpmrm0 files holding contexts.
 *
 * Before suspend the kernel sends TPM2_Shutdown(STATE); objects and
 * sessions loaded in the TPM do not survive the following power loss, saved
 * contexts do. The RM must therefore evict everything it keeps resident
 * before that Shutdown, and after resume every space must carry on: its
 * keys sign, its sessions authorize, and a session its client saved loads
 * again. The machine suspends itself with rtcwake: "freeze"
 * (suspend-to-idle) always, "mem" (S3; in QEMU the firmware then sends
 * TPM2_Startup(STATE)) when the machine offers it and TPMRM_EXTENDED=1,
 * since not every guest device comes back from S3.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

FIXTURE(suspend) {
	int ready;		/* setup done; 6.1's harness runs the test
				 * body even after SKIP in setup
				 */
	int a, b, c;
	struct tpm2_key ka, kb;
	struct tpm2_session sa, sb, sp;
	struct tpm2_context sp_ctx;
};

FIXTURE_VARIANT(suspend) {
	const char *mode;
	int extended;
};

FIXTURE_VARIANT_ADD(suspend, freeze) {
	.mode = "freeze",
};

FIXTURE_VARIANT_ADD(suspend, mem) {
	.mode = "mem",
	.extended = 1,
};

static int power_state_has(const char *mode)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/power/state", "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !!strstr(buf, mode);
}

static int raw_command(void)
{
	uint8_t r[8];
	int fd, ret;

	fd = tpm2_open(TPM2_RAW_DEV, 0);
	if (fd < 0)
		return fd;
	ret = tpm2_get_random(fd, sizeof(r), r);
	close(fd);
	return ret;
}

static int sign_ok(int fd, const struct tpm2_key *k, struct tpm2_auth *auth)
{
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	int ret;

	tpm2_random(digest, sizeof(digest));
	ret = tpm2_sign(fd, k, auth, digest, &sig, NULL);
	if (ret)
		return ret;
	return tpm2_verify(fd, k->handle, digest, &sig);
}

FIXTURE_SETUP(suspend)
{
	const char *ext = getenv("TPMRM_EXTENDED");

	self->ready = 0;
	self->a = -1;
	self->b = -1;
	self->c = -1;
	if (getuid())
		SKIP(return, "needs root");
	if (!power_state_has(variant->mode))
		SKIP(return, "/sys/power/state offers no '%s'", variant->mode);
	if (access("/dev/rtc0", F_OK) || system("command -v rtcwake >/dev/null"))
		SKIP(return, "no /dev/rtc0 or no rtcwake");
	if (variant->extended && !(ext && !strcmp(ext, "1")))
		SKIP(return, "suspend to '%s' runs with TPMRM_EXTENDED=1",
		     variant->mode);
	self->a = tpm2_open(TPM2_RM_DEV, 0);
	self->b = tpm2_open(TPM2_RM_DEV, 0);
	self->c = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_LE(0, self->c);

	/* b: a key and a session the RM has saved (a raw command evicts) */
	ASSERT_EQ(0, tpm2_create_primary(self->b, TPM2_KEY_SIGN, NULL, 0,
					 &self->kb));
	ASSERT_EQ(0, tpm2_start_session(self->b, TPM2_SE_HMAC, &self->sb));
	ASSERT_EQ(0, raw_command());
	/* a: a key and a session resident in the TPM */
	ASSERT_EQ(0, tpm2_create_primary(self->a, TPM2_KEY_SIGN, NULL, 0,
					 &self->ka));
	ASSERT_EQ(0, tpm2_start_session(self->a, TPM2_SE_HMAC, &self->sa));
	/* c: a policy session its client saved */
	ASSERT_EQ(0, tpm2_start_session(self->c, TPM2_SE_POLICY, &self->sp));
	ASSERT_EQ(0, tpm2_context_save(self->c, self->sp.handle,
				       &self->sp_ctx));
	self->ready = 1;
}

FIXTURE_TEARDOWN(suspend)
{
	close(self->a);
	close(self->b);
	close(self->c);
}

TEST_F(suspend, spaces_carry_on)
{
	uint64_t ev0 = 0, ev1 = 0, objs = 1, sess = 1;
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_auth auth;
	char cmd[64];
	int counters;
	uint32_t h;

	if (!self->ready)
		return;
	counters = !tpm2_rm_counter("evictions", &ev0);
	snprintf(cmd, sizeof(cmd), "rtcwake -m %s -s 2 >/dev/null",
		 variant->mode);
	ASSERT_EQ(0, system(cmd));
	if (counters) {
		/* ka and sa were resident: both left the TPM before Shutdown */
		ASSERT_EQ(0, tpm2_rm_counter("evictions", &ev1));
		ASSERT_EQ(0, tpm2_rm_counter("resident_objects", &objs));
		ASSERT_EQ(0, tpm2_rm_counter("resident_sessions", &sess));
		EXPECT_LE(ev0 + 2, ev1);
		EXPECT_EQ(0, objs);
		EXPECT_EQ(0, sess);
	}

	auth.attrs = TPM2_SA_CONTINUE_SESSION;
	auth.sess = &self->sa;
	EXPECT_EQ(0, sign_ok(self->a, &self->ka, &auth));
	auth.sess = &self->sb;
	EXPECT_EQ(0, sign_ok(self->b, &self->kb, &auth));
	EXPECT_EQ(0, tpm2_context_load(self->c, &self->sp_ctx, &h));
	EXPECT_EQ(self->sp.handle, h);
	EXPECT_EQ(0, tpm2_policy_get_digest(self->c, self->sp.handle, digest));
}

TPMRM_TEST_MAIN()
