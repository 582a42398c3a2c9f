// SPDX-License-Identifier: GPL-2.0
/*
 * Command policy of the TPM resource manager: a vendor-specific command
 * code is answered by the RM (RM-layer TPM_RC_COMMAND_CODE, 0x000B0143)
 * without reaching the TPM, and root can deny command classes to
 * /dev/tpmrm users through /sys/class/tpm/tpm0/rm/deny: a denied
 * DictionaryAttackLockReset or HierarchyChangeAuth gets the same code from
 * the RM, and works again once root allows the class back. The file stays
 * usable throughout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define DENY_FILE		"/sys/class/tpm/tpm0/rm/deny"
#define RC_DENIED		(TPM2_RC_RESMGR_LAYER | TPM2_RC_COMMAND_CODE)
#define TPM2_RH_LOCKOUT		0x4000000A
#define CC_DA_LOCK_RESET	0x00000139
#define CC_HIERARCHY_CHANGE_AUTH 0x00000129
#define CC_VENDOR_TCG_TEST	0x20000000

static int deny_read(char *buf, size_t size)
{
	int ret = tpm2_read_text(DENY_FILE, buf, size);

	if (!ret)
		buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

static int deny_write(const char *words)
{
	int fd = open(DENY_FILE, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, words, strlen(words));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Does the space-separated list @list contain @word? */
static int has_word(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\0'))
			return 1;
		p += len;
	}
	return 0;
}

/* A command with one handle and a password session, no parameters. */
static int run_admin(int fd, uint32_t cc, uint32_t handle,
		     const void *params, size_t len)
{
	struct tpm2_auth auth = { .attrs = 0 };
	struct tpm2_rsp *rsp = malloc(sizeof(*rsp));
	int ret;

	if (!rsp)
		return -ENOMEM;
	ret = tpm2_exec(fd, cc, &handle, NULL, 1, 0, &auth, 1, params, len,
			rsp);
	if (!ret)
		ret = rsp->rc;
	free(rsp);
	return ret;
}

static int da_lock_reset(int fd)
{
	return run_admin(fd, CC_DA_LOCK_RESET, TPM2_RH_LOCKOUT, NULL, 0);
}

/*
 * The TPM's own answer to DictionaryAttackLockReset: success, or
 * TPM_RC_LOCKOUT (0x921) when earlier tests (the fuzzer sends bad lockout
 * authorizations) left the lockout hierarchy locked. Either way the
 * command reached the TPM, which is what an allowed class means here.
 */
static int da_reached_tpm(int rc)
{
	return rc == 0 || rc == 0x921;
}

/* HierarchyChangeAuth(owner) to the empty auth it already has. */
static int owner_auth_unchanged(int fd)
{
	const uint8_t empty[2] = { 0, 0 };

	return run_admin(fd, CC_HIERARCHY_CHANGE_AUTH, TPM2_RH_OWNER, empty,
			 sizeof(empty));
}

FIXTURE(policy) {
	int fd;
	char saved[256];
	int restore;
	const char *skip;
};

FIXTURE_SETUP(policy)
{
	uint64_t v;

	self->restore = 0;
	self->skip = NULL;
	self->fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->fd);
	if (tpm2_rm_counter("rm_answered", &v))
		self->skip = "no RM counters in sysfs (old RM)";
	else if (geteuid())
		self->skip = "needs root to write " DENY_FILE;
	if (self->skip)
		return;
	/* The new RM has counters; it must have the deny file too. */
	ASSERT_EQ(0, deny_read(self->saved, sizeof(self->saved)));
	self->restore = 1;
}

FIXTURE_TEARDOWN(policy)
{
	if (self->restore)
		deny_write(self->saved);
	if (self->fd >= 0)
		close(self->fd);
}

/* rm_answered, or ~0 if it cannot be read (fails the comparisons). */
static uint64_t rm_answered(void)
{
	uint64_t v;

	return tpm2_rm_counter("rm_answered", &v) ? ~0ull : v;
}

TEST_F(policy, vendor_code_refused)
{
	uint8_t cmd[10] = { 0x80, 0x01, 0, 0, 0, 10, 0x20, 0, 0, 0 };
	uint8_t rsp[64], rnd[8];
	uint64_t before;
	char state[256];
	int n;

	if (self->skip)	/* the harness runs tests whose setup skipped */
		SKIP(return, "%s", self->skip);

	ASSERT_EQ(0, deny_read(state, sizeof(state)));
	TH_LOG("deny at boot: \"%s\"", state);
	EXPECT_TRUE(has_word(state, "vendor"));
	before = rm_answered();
	n = tpm2_xfer(self->fd, cmd, sizeof(cmd), rsp, sizeof(rsp));
	ASSERT_EQ(10, n);
	EXPECT_EQ(RC_DENIED, tpm2_get32(rsp + 6));
	EXPECT_EQ(before + 1, rm_answered());
	EXPECT_EQ(0, tpm2_get_random(self->fd, sizeof(rnd), rnd));
}

TEST_F(policy, deny_da_and_allow_again)
{
	uint64_t before;
	char state[256];

	if (self->skip)	/* the harness runs tests whose setup skipped */
		SKIP(return, "%s", self->skip);

	ASSERT_TRUE(da_reached_tpm(da_lock_reset(self->fd)));
	ASSERT_EQ(0, deny_write("+da"));
	ASSERT_EQ(0, deny_read(state, sizeof(state)));
	TH_LOG("deny after +da: \"%s\"", state);
	EXPECT_TRUE(has_word(state, "da"));

	before = rm_answered();
	EXPECT_EQ(RC_DENIED, da_lock_reset(self->fd));
	EXPECT_EQ(before + 1, rm_answered());
	/* other commands of the same file still work */
	EXPECT_EQ(0, owner_auth_unchanged(self->fd));

	ASSERT_EQ(0, deny_write("-da"));
	ASSERT_EQ(0, deny_read(state, sizeof(state)));
	EXPECT_FALSE(has_word(state, "da"));
	EXPECT_TRUE(da_reached_tpm(da_lock_reset(self->fd)));
}

TEST_F(policy, deny_hierarchy_and_reset)
{
	uint64_t before;
	char state[256];

	if (self->skip)	/* the harness runs tests whose setup skipped */
		SKIP(return, "%s", self->skip);

	ASSERT_EQ(0, deny_write("hierarchy"));
	ASSERT_EQ(0, deny_read(state, sizeof(state)));
	EXPECT_STREQ("hierarchy", state);
	before = rm_answered();
	EXPECT_EQ(RC_DENIED, owner_auth_unchanged(self->fd));
	EXPECT_EQ(before + 1, rm_answered());
	EXPECT_TRUE(da_reached_tpm(da_lock_reset(self->fd)));

	ASSERT_EQ(0, deny_write("default"));
	ASSERT_EQ(0, deny_read(state, sizeof(state)));
	EXPECT_STREQ("vendor", state);
	EXPECT_EQ(0, owner_auth_unchanged(self->fd));
}

TEST_F(policy, bad_words_rejected)
{
	char state[256], again[256];

	if (self->skip)	/* the harness runs tests whose setup skipped */
		SKIP(return, "%s", self->skip);

	ASSERT_EQ(0, deny_read(state, sizeof(state)));
	EXPECT_EQ(-EINVAL, deny_write("+nosuchclass"));
	EXPECT_EQ(-EINVAL, deny_write("+da +nosuchclass"));
	ASSERT_EQ(0, deny_read(again, sizeof(again)));
	EXPECT_STREQ(state, again);
}

TPMRM_TEST_MAIN()
