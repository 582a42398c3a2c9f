// SPDX-License-Identifier: GPL-2.0
/*
 * TPM reset behind the resource manager's back.
 *
 * swtpm serves a vtpm_proxy chip with its control channel on a unix
 * socket. Three open files of the chip's tpmrm device hold objects and
 * sessions in every state the RM knows (resident without a saved context,
 * resident with one, saved by the RM, saved by the client), then swtpm is
 * re-initialised (swtpm_ioctl --init): everything in the TPM is gone, and
 * TPM2_Startup(CLEAR) is sent through the raw /dev/tpmN. (A reset the
 * kernel does not see at all is covered by KUnit: swtpm does not start
 * itself after --init, whatever its --flags.)
 *
 * Another file first creates a key and a session, which the TPM may give
 * the very handles of the lost ones. Then every lost entity must fail
 * once, with an RM-layer error, on its next use (never reach the other
 * file's key), the files must stay usable for new entities, and once all
 * are closed nothing may be left in the TPM or in the RM's counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

FIXTURE(reset) {
	char dir[64];
	char ctrl[96];
	char rm[32];
	char raw[32];
	char sysfs[64];
	pid_t swtpm;
};

static int have_prog(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

static pid_t start_swtpm(const char *dir, const char *ctrl)
{
	char state[96], ctrlarg[128], out[96];
	pid_t pid;
	int fd;

	snprintf(state, sizeof(state), "dir=%s", dir);
	snprintf(ctrlarg, sizeof(ctrlarg), "type=unixio,path=%s", ctrl);
	snprintf(out, sizeof(out), "%s/out", dir);
	pid = fork();
	if (pid)
		return pid;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execlp("swtpm", "swtpm", "chardev", "--vtpm-proxy", "--tpm2",
	       "--tpmstate", state, "--ctrl", ctrlarg, "--seccomp",
	       "action=none", (char *)NULL);
	_exit(127);
}

/* The number N of the chip swtpm created, from its "New TPM device" line. */
static int wait_chip(const char *dir)
{
	char path[96], line[256];
	int i, n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/out", dir);
	for (i = 0; i < 100 && n < 0; i++) {
		usleep(100000);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "New TPM device: /dev/tpm%d", &n) == 1)
				break;
		fclose(f);
	}
	if (n < 0)
		return -1;
	snprintf(path, sizeof(path), "/dev/tpmrm%d", n);
	for (i = 0; i < 100 && access(path, F_OK); i++)
		usleep(100000);
	return access(path, F_OK) ? -1 : n;
}

FIXTURE_SETUP(reset)
{
	int n;

	self->swtpm = 0;
	if (getuid())
		SKIP(return, "needs root");
	if (access("/dev/vtpmx", F_OK))
		SKIP(return, "no /dev/vtpmx (CONFIG_TCG_VTPM_PROXY)");
	if (!have_prog("swtpm") || !have_prog("swtpm_ioctl"))
		SKIP(return, "swtpm or swtpm_ioctl not installed");
	snprintf(self->dir, sizeof(self->dir), "/tmp/tpmrm-reset.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->ctrl, sizeof(self->ctrl), "%s/ctrl", self->dir);
	self->swtpm = start_swtpm(self->dir, self->ctrl);
	ASSERT_LT(0, self->swtpm);
	n = wait_chip(self->dir);
	ASSERT_LE(0, n) TH_LOG("vtpm_proxy chip did not appear");
	snprintf(self->rm, sizeof(self->rm), "/dev/tpmrm%d", n);
	snprintf(self->raw, sizeof(self->raw), "/dev/tpm%d", n);
	snprintf(self->sysfs, sizeof(self->sysfs), "/sys/class/tpm/tpm%d/rm",
		 n);
	setenv("TPM2_RM_SYSFS", self->sysfs, 1);
}

FIXTURE_TEARDOWN(reset)
{
	char cmd[96];

	if (self->swtpm <= 0)
		return;
	kill(self->swtpm, SIGTERM);
	waitpid(self->swtpm, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	system(cmd);
}

static int raw_xfer(const char *raw, const uint8_t *cmd, size_t len)
{
	uint8_t rsp[TPM2_BUF_SIZE];
	int fd, ret;

	fd = tpm2_open(raw, 0);
	if (fd < 0)
		return fd;
	ret = tpm2_xfer(fd, cmd, len, rsp, sizeof(rsp));
	close(fd);
	if (ret < 0)
		return ret;
	return ret < 10 ? -EPROTO : (int)tpm2_get32(rsp + 6);
}

/* Re-initialise swtpm, as a power cycle would, and start it again. */
static int tpm_reset(const char *ctrl, const char *raw)
{
	static const uint8_t startup_clear[] = {
		0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0,
	};
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "swtpm_ioctl --unix %s -i", ctrl);
	if (system(cmd))
		return -EIO;
	return raw_xfer(raw, startup_clear, sizeof(startup_clear));
}

/* Handles of one type in the TPM itself, seen through the raw device. */
static int raw_count(const char *raw, uint32_t type)
{
	uint32_t h[64];
	int fd, n;

	fd = tpm2_open(raw, 0);
	if (fd < 0)
		return fd;
	n = tpm2_handles_by_type(fd, type, h, 64);
	close(fd);
	return n;
}

static int rm_error(int ret)
{
	return ret > 0 && tpm2_rc_is_rm_layer(ret);
}

TEST_F(reset, lost_entities_fail_once)
{
	struct tpm2_key ka, ka2, kb, kn;
	struct tpm2_session sa, sb, sc, sn;
	struct tpm2_context sc_ctx;
	struct tpm2_auth auth;
	uint32_t handles[8];
	unsigned int nr;
	uint64_t val;
	int a, b, c, more, ret;
	uint8_t rnd[8];

	if (self->swtpm <= 0)	/* setup skipped; 6.1 still runs the body */
		return;
	a = tpm2_open(self->rm, 0);
	b = tpm2_open(self->rm, 0);
	c = tpm2_open(self->rm, 0);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);

	/* ka: a saved blob and resident; sa: saved by the RM */
	ASSERT_EQ(0, tpm2_create_primary(a, TPM2_KEY_SIGN, NULL, 0, &ka));
	ASSERT_EQ(0, tpm2_start_session(a, TPM2_SE_HMAC, &sa));
	/* sc: saved by its client */
	ASSERT_EQ(0, tpm2_start_session(c, TPM2_SE_HMAC, &sc));
	ASSERT_EQ(0, tpm2_context_save(c, sc.handle, &sc_ctx));
	ASSERT_EQ(0, raw_count(self->raw, TPM2_HT_TRANSIENT));
	ASSERT_EQ(0, tpm2_sign_check(a, &ka, NULL));
	/* ka2: resident only, never saved */
	ASSERT_EQ(0, tpm2_create_primary(a, TPM2_KEY_SIGN, NULL, 0, &ka2));
	ASSERT_EQ(0, tpm2_sign_check(a, &ka2, NULL));

	ASSERT_EQ(0, tpm_reset(self->ctrl, self->raw));

	/* another file gets a key and a session, maybe at the same handles */
	ASSERT_EQ(0, tpm2_create_primary(b, TPM2_KEY_SIGN, NULL, 0, &kb));
	EXPECT_EQ(0, tpm2_sign_check(b, &kb, NULL));
	ASSERT_EQ(0, tpm2_start_session(b, TPM2_SE_HMAC, &sb));

	/* each lost entity fails once, with an RM-layer error */
	ret = tpm2_sign_check(a, &ka, NULL);
	EXPECT_TRUE(rm_error(ret)) TH_LOG("sign with ka after reset: %#x", ret);
	ret = tpm2_sign_check(a, &ka2, NULL);
	EXPECT_TRUE(rm_error(ret)) TH_LOG("sign with ka2 after reset: %#x", ret);
	ret = tpm2_context_load(c, &sc_ctx, &sn.handle);
	EXPECT_TRUE(rm_error(ret)) TH_LOG("ContextLoad of sc: %#x", ret);

	/* a new key in a works, and the lost session fails in its auth area */
	ASSERT_EQ(0, tpm2_create_primary(a, TPM2_KEY_SIGN, NULL, 0, &kn));
	auth.sess = &sa;
	auth.attrs = TPM2_SA_CONTINUE_SESSION;
	ret = tpm2_sign_check(a, &kn, &auth);
	EXPECT_TRUE(rm_error(ret)) TH_LOG("sign with lost session: %#x", ret);
	EXPECT_EQ(0, tpm2_sign_check(a, &kn, NULL));

	/* afterwards the lost handles are simply unknown */
	ret = tpm2_sign_check(a, &ka, NULL);
	EXPECT_TRUE(rm_error(ret)) TH_LOG("second use of ka: %#x", ret);
	ASSERT_EQ(0, tpm2_get_handles(a, TPM2_HT_TRANSIENT, 8, handles, &nr,
				      &more));
	EXPECT_EQ(1, nr);
	EXPECT_EQ(kn.handle, handles[0]);

	/* every file still creates and uses new entities */
	EXPECT_EQ(0, tpm2_sign_check(b, &kb, NULL));
	EXPECT_EQ(0, tpm2_start_session(c, TPM2_SE_HMAC, &sn));
	EXPECT_EQ(0, tpm2_flush(c, sn.handle));
	EXPECT_EQ(0, tpm2_get_random(a, sizeof(rnd), rnd));

	close(a);
	close(b);
	close(c);

	/* nothing left behind in the TPM or in the RM */
	EXPECT_EQ(0, raw_count(self->raw, TPM2_HT_TRANSIENT));
	EXPECT_EQ(0, raw_count(self->raw, TPM2_HT_LOADED_SESSION));
	EXPECT_EQ(0, raw_count(self->raw, TPM2_HT_SAVED_SESSION));
	if (tpm2_rm_counter("resident_objects", &val))
		SKIP(return, "no RM counters (old RM)");
	EXPECT_EQ(0, val);
	ASSERT_EQ(0, tpm2_rm_counter("resident_sessions", &val));
	EXPECT_EQ(0, val);
}

TPMRM_TEST_MAIN()
