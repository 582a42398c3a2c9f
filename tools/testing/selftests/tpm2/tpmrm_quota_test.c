// SPDX-License-Identifier: GPL-2.0
/*
 * Denial of service through /dev/tpmrm0: an unprivileged user opens 1000
 * files and takes every session and object the RM gives it. In the same
 * boot, while it holds them all, a second user must still be able to start
 * a session, create a primary key and sign with it; the kernel must still
 * read random numbers (/dev/hwrng) and PCRs (sysfs) after root extended a
 * PCR on /dev/tpm0; root on /dev/tpm0 must still start a session (the
 * reserve); and the hostile user must get RM-layer quota errors only,
 * with every one of its files still usable.
 *
 * Runs as root and drops to unprivileged uids with setresuid(); the device
 * is opened after the drop, so the RM charges the files to those uids.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define HOSTILE_UID		60001
#define OTHER_UID		60002
#define NR_FILES		1000
#define MAX_PER_FILE		24	/* more than the default file quotas */
#define RC_OBJECT_MEMORY	(TPM2_RC_RESMGR_LAYER | 0x902)
#define RC_SESSION_MEMORY	(TPM2_RC_RESMGR_LAYER | 0x903)
#define TPM2_CC_HASH_SEQUENCE_START	0x00000186
#define TPM2_CC_PCR_EXTEND		0x00000182
#define EXT_PCR			16
#define PCR_SYSFS		"/sys/class/tpm/tpm0/pcr-sha256/16"

/* What the hostile user got; sent to the parent through a pipe. */
struct hostile_report {
	int open_errno;		/* errno of the first failed open, or 0 */
	unsigned int files;
	unsigned int sessions;
	unsigned int objects;
	unsigned int session_refusals;	/* RC_SESSION_MEMORY */
	unsigned int object_refusals;	/* RC_OBJECT_MEMORY */
	unsigned int other_errors;
	uint32_t other_rc;		/* first other code (or -errno) */
	/* second phase, after the other users ran */
	unsigned int usable;		/* files that answered GetRandom */
	uint32_t refused_again;		/* StartAuthSession on the last file */
	uint32_t after_flush;		/* StartAuthSession after a flush */
};

static int hash_sequence_start(int fd)
{
	struct tpm2_rsp *rsp = malloc(sizeof(*rsp));
	struct tpm2_buf b;
	int ret;

	if (!rsp)
		return -ENOMEM;
	tpm2_buf_init(&b);
	tpm2_put16(&b, 0);			/* auth */
	tpm2_put16(&b, TPM2_ALG_SHA256);
	ret = tpm2_exec(fd, TPM2_CC_HASH_SEQUENCE_START, NULL, NULL, 0, 1,
			NULL, 0, b.data, b.len, rsp);
	if (!ret)
		ret = rsp->rc;
	free(rsp);
	return ret;
}

static void count_refusal(struct hostile_report *r, int rc, uint32_t quota_rc,
			  unsigned int *refusals)
{
	if ((uint32_t)rc == quota_rc) {
		(*refusals)++;
		return;
	}
	if (!r->other_errors++)
		r->other_rc = rc;
}

/* Take sessions, then objects, in one file until the RM refuses. */
static void hostile_fill(int fd, struct hostile_report *r, uint32_t *sess)
{
	struct tpm2_session s;
	int i, rc;

	for (i = 0; i < MAX_PER_FILE; i++) {
		rc = tpm2_start_session(fd, TPM2_SE_HMAC, &s);
		if (rc) {
			count_refusal(r, rc, RC_SESSION_MEMORY,
				      &r->session_refusals);
			break;
		}
		r->sessions++;
		if (sess)
			*sess = s.handle;
	}
	for (i = 0; i < MAX_PER_FILE; i++) {
		rc = hash_sequence_start(fd);
		if (rc) {
			count_refusal(r, rc, RC_OBJECT_MEMORY,
				      &r->object_refusals);
			break;
		}
		r->objects++;
	}
}

static void hostile_check(int *fds, struct hostile_report *r, uint32_t sess)
{
	struct tpm2_session s;
	uint8_t rnd[8];
	unsigned int i;

	for (i = 0; i < r->files; i++)
		if (!tpm2_get_random(fds[i], sizeof(rnd), rnd))
			r->usable++;
	if (!r->files)
		return;
	r->refused_again = tpm2_start_session(fds[r->files - 1],
					      TPM2_SE_HMAC, &s);
	if (sess && !tpm2_flush(fds[0], sess))
		r->after_flush = tpm2_start_session(fds[0], TPM2_SE_HMAC, &s);
	else
		r->after_flush = ~0u;
}

static void drop_to(uid_t uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
	    setresuid(uid, uid, uid))
		_exit(100);
}

/* The hostile user: fill, report, wait for the go, check, report. */
static void hostile_main(int to_parent, int from_parent)
{
	static int fds[NR_FILES];
	struct hostile_report r = { 0 };
	uint32_t sess = 0;
	char go;
	int fd;

	drop_to(HOSTILE_UID);
	while (r.files < NR_FILES) {
		fd = tpm2_open(TPM2_RM_DEV, 0);
		if (fd < 0) {
			r.open_errno = -fd;
			break;
		}
		fds[r.files++] = fd;
		hostile_fill(fd, &r, r.files == 1 ? &sess : NULL);
	}
	if (write(to_parent, &r, sizeof(r)) != sizeof(r))
		_exit(101);
	if (read(from_parent, &go, 1) != 1)
		_exit(102);
	hostile_check(fds, &r, sess);
	if (write(to_parent, &r, sizeof(r)) != sizeof(r))
		_exit(103);
	_exit(0);
}

/* The second user: session, primary key, sign and verify. */
static int other_user_main(void)
{
	struct tpm2_auth auth = { .attrs = TPM2_SA_CONTINUE_SESSION };
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_session s;
	struct tpm2_key key;
	struct tpm2_sig sig;
	int fd, rc, hmac_ok = -1;

	drop_to(OTHER_UID);
	fd = tpm2_open(TPM2_RM_DEV, 0);
	if (fd < 0)
		return 10;
	rc = tpm2_start_session(fd, TPM2_SE_HMAC, &s);
	if (rc) {
		fprintf(stderr, "# other user: StartAuthSession 0x%x\n", rc);
		return 11;
	}
	rc = tpm2_create_primary(fd, TPM2_KEY_SIGN, NULL, 0, &key);
	if (rc) {
		fprintf(stderr, "# other user: CreatePrimary 0x%x\n", rc);
		return 12;
	}
	tpm2_random(digest, sizeof(digest));
	auth.sess = &s;
	rc = tpm2_sign(fd, &key, &auth, digest, &sig, &hmac_ok);
	if (rc || hmac_ok != 1) {
		fprintf(stderr, "# other user: Sign 0x%x hmac %d\n", rc,
			hmac_ok);
		return 13;
	}
	rc = tpm2_verify(fd, key.handle, digest, &sig);
	if (rc) {
		fprintf(stderr, "# other user: VerifySignature 0x%x\n", rc);
		return 14;
	}
	close(fd);
	return 0;
}

static int run_other_user(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid)
		_exit(other_user_main());
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status);
}

/* PCR_Extend on the raw device; returns 0 or the TPM code. */
static int raw_pcr_extend(int fd, const uint8_t *digest)
{
	struct tpm2_auth auth = { .attrs = 0 };
	uint32_t pcr = EXT_PCR;
	struct tpm2_rsp *rsp = malloc(sizeof(*rsp));
	struct tpm2_buf b;
	int ret;

	if (!rsp)
		return -ENOMEM;
	tpm2_buf_init(&b);
	tpm2_put32(&b, 1);			/* TPML_DIGEST_VALUES.count */
	tpm2_put16(&b, TPM2_ALG_SHA256);
	tpm2_put_bytes(&b, digest, TPM2_DIGEST_SIZE);
	ret = tpm2_exec(fd, TPM2_CC_PCR_EXTEND, &pcr, NULL, 1, 0, &auth, 1,
			b.data, b.len, rsp);
	if (!ret)
		ret = rsp->rc;
	free(rsp);
	return ret;
}

/* Read a PCR through the kernel's own path (sysfs, tpm2_pcr_read()). */
static int sysfs_pcr(uint8_t *value)
{
	char hex[2 * TPM2_DIGEST_SIZE + 2];
	unsigned int i, byte;
	ssize_t n;
	int fd = open(PCR_SYSFS, O_RDONLY);

	if (fd < 0)
		return -errno;
	n = read(fd, hex, sizeof(hex));
	close(fd);
	if (n < 2 * TPM2_DIGEST_SIZE)
		return -EIO;
	for (i = 0; i < TPM2_DIGEST_SIZE; i++) {
		if (sscanf(&hex[2 * i], "%2x", &byte) != 1)
			return -EIO;
		value[i] = byte;
	}
	return 0;
}

FIXTURE(quota) {
	pid_t hostile;
	int to_child;
	int from_child;
	mode_t mode;
	int chmoded;
};

FIXTURE_SETUP(quota)
{
	struct rlimit rl = { NR_FILES + 64, NR_FILES + 64 };
	int up[2], down[2];
	struct stat st;

	self->hostile = -1;
	self->chmoded = 0;
	if (geteuid())
		SKIP(return, "needs root to switch users");
	ASSERT_EQ(0, stat(TPM2_RM_DEV, &st));
	self->mode = st.st_mode & 07777;
	if ((self->mode & 0006) != 0006) {
		ASSERT_EQ(0, chmod(TPM2_RM_DEV, 0666));
		self->chmoded = 1;
	}
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	self->hostile = fork();
	ASSERT_LE(0, self->hostile);
	if (!self->hostile) {
		close(up[0]);
		close(down[1]);
		hostile_main(up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	self->from_child = up[0];
	self->to_child = down[1];
}

FIXTURE_TEARDOWN(quota)
{
	if (self->hostile > 0) {
		kill(self->hostile, SIGKILL);
		waitpid(self->hostile, NULL, 0);
		close(self->from_child);
		close(self->to_child);
	}
	if (self->chmoded)
		chmod(TPM2_RM_DEV, self->mode);
}

static void log_quotas(struct __test_metadata *_metadata)
{
	static const char * const names[] = {
		"quota_file_sessions", "quota_file_objects",
		"quota_user_sessions", "quota_user_objects",
		"reserve_sessions", "held_sessions", "held_objects",
	};
	uint64_t v;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!tpm2_rm_counter(names[i], &v))
			TH_LOG("%s = %llu", names[i], (unsigned long long)v);
}

TEST_F_TIMEOUT(quota, hostile_user, 280)
{
	uint8_t before[TPM2_DIGEST_SIZE], after[TPM2_DIGEST_SIZE];
	uint8_t digest[TPM2_DIGEST_SIZE], expect[TPM2_DIGEST_SIZE];
	uint8_t cat[2 * TPM2_DIGEST_SIZE], rnd[16];
	struct hostile_report r;
	struct tpm2_session s;
	uint64_t quota;
	int fd, rc, status;

	/* 1. The hostile user takes what it can. */
	ASSERT_EQ(sizeof(r), read(self->from_child, &r, sizeof(r)));
	TH_LOG("hostile uid %d: %u files (open errno %d), %u sessions, %u objects",
	       HOSTILE_UID, r.files, r.open_errno, r.sessions, r.objects);
	TH_LOG("refusals: %u x 0x%x, %u x 0x%x, %u other (first 0x%x)",
	       r.session_refusals, RC_SESSION_MEMORY, r.object_refusals,
	       RC_OBJECT_MEMORY, r.other_errors, r.other_rc);
	log_quotas(_metadata);
	EXPECT_EQ(NR_FILES, r.files);
	EXPECT_LT(0, r.sessions);
	EXPECT_LT(0, r.objects);
	EXPECT_LT(0, r.session_refusals);
	EXPECT_LT(0, r.object_refusals);
	EXPECT_EQ(0, r.other_errors);
	if (!tpm2_rm_counter("quota_user_sessions", &quota))
		EXPECT_GE(quota, r.sessions);
	if (!tpm2_rm_counter("quota_user_objects", &quota))
		EXPECT_GE(quota, r.objects);

	/* 2. A second user still works. */
	rc = run_other_user();
	TH_LOG("second uid %d: exit %d (0: session, primary, sign, verify)",
	       OTHER_UID, rc);
	EXPECT_EQ(0, rc);

	/* 3. The kernel: hwrng (tpm_get_random) and a PCR it reads. */
	fd = open("/dev/hwrng", O_RDONLY);
	if (fd >= 0) {
		EXPECT_EQ(sizeof(rnd), read(fd, rnd, sizeof(rnd)));
		close(fd);
	} else {
		TH_LOG("no /dev/hwrng: %s", strerror(errno));
	}
	ASSERT_EQ(0, sysfs_pcr(before));

	/* 4. Root on the raw device: PCR_Extend and a session (reserve). */
	fd = tpm2_open(TPM2_RAW_DEV, 0);
	ASSERT_LE(0, fd);
	tpm2_random(digest, sizeof(digest));
	EXPECT_EQ(0, raw_pcr_extend(fd, digest));
	rc = tpm2_start_session(fd, TPM2_SE_HMAC, &s);
	TH_LOG("root StartAuthSession on %s: 0x%x", TPM2_RAW_DEV, rc);
	EXPECT_EQ(0, rc);
	if (!rc)
		EXPECT_EQ(0, tpm2_flush(fd, s.handle));
	close(fd);
	ASSERT_EQ(0, sysfs_pcr(after));
	memcpy(cat, before, TPM2_DIGEST_SIZE);
	memcpy(cat + TPM2_DIGEST_SIZE, digest, TPM2_DIGEST_SIZE);
	tpm2_sha256(cat, sizeof(cat), expect);
	EXPECT_EQ(0, memcmp(after, expect, TPM2_DIGEST_SIZE));

	/* 5. The hostile user's files still work; the quota still holds. */
	ASSERT_EQ(1, write(self->to_child, "g", 1));
	ASSERT_EQ(sizeof(r), read(self->from_child, &r, sizeof(r)));
	TH_LOG("hostile again: %u of %u files usable, 0x%x on the last, 0x%x after a flush",
	       r.usable, r.files, r.refused_again, r.after_flush);
	EXPECT_EQ(r.files, r.usable);
	EXPECT_EQ(RC_SESSION_MEMORY, r.refused_again);
	EXPECT_EQ(0, r.after_flush);
	ASSERT_EQ(self->hostile, waitpid(self->hostile, &status, 0));
	self->hostile = -1;
	close(self->from_child);
	close(self->to_child);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
}

TPMRM_TEST_MAIN()
