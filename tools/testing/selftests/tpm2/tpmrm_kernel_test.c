// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's own TPM users next to /dev/tpmrm0 clients, on a kernel with
 * TCG_TPM2_HMAC (the test skips without /sys/class/tpm/tpm0/null_name).
 *
 * With every object and session slot that RM clients may take in use:
 * hwrng reads succeed, IMA measurements land in PCR 10 and match the
 * measurement log, a TPM trusted key can be created and loaded again,
 * null_name does not change (the kernel never failed to load its null key,
 * which would disable the chip), and every client context still works.
 * A raw /dev/tpm0 user never sees a loaded kernel session.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define NULL_NAME	"/sys/class/tpm/tpm0/null_name"
#define NR_FILES	4
#define PER_FILE	8
#define KEY_SPEC_PROCESS_KEYRING	-2
#define KEYCTL_READ	11
#define TPM2_CC_CERTIFY	0x00000148
#define TPM2_CC_EVICT_CONTROL	0x00000120
/* the trusted keys' parent, made persistent for the test only */
#define PARENT		0x8100F0A1
#define PARENT_STR	"0x8100f0a1"
#define TPMA_SESSION_AUDIT	0x80

struct holder {
	int fd;
	unsigned int nr_keys, nr_sessions;
	struct tpm2_key keys[PER_FILE];
	struct tpm2_session sessions[PER_FILE];
};

/* Open files that take every object and session the RM gives them. */
static unsigned int hold_all(struct holder *h, unsigned int nr)
{
	unsigned int i, j, held = 0;

	for (i = 0; i < nr; i++) {
		h[i].fd = tpm2_open(TPM2_RM_DEV, O_RDWR);
		if (h[i].fd < 0)
			continue;
		for (j = 0; j < PER_FILE; j++, h[i].nr_keys++)
			if (tpm2_create_primary(h[i].fd, TPM2_KEY_SIGN, NULL, 0,
						&h[i].keys[j]))
				break;
		for (j = 0; j < PER_FILE; j++, h[i].nr_sessions++)
			if (tpm2_start_session(h[i].fd, TPM2_SE_HMAC,
					       &h[i].sessions[j]))
				break;
		held += h[i].nr_keys + h[i].nr_sessions;
	}
	return held;
}

/* Every context of every holder still answers; then flush them. */
static int check_and_release(struct holder *h, unsigned int nr)
{
	struct tpm2_name name;
	unsigned int i, j;
	int bad = 0;

	for (i = 0; i < nr; i++) {
		if (h[i].fd < 0)
			continue;
		for (j = 0; j < h[i].nr_keys; j++)
			bad |= !!tpm2_read_public(h[i].fd, h[i].keys[j].handle,
						  &name);
		for (j = 0; j < h[i].nr_sessions; j++)
			bad |= !!tpm2_flush(h[i].fd, h[i].sessions[j].handle);
		close(h[i].fd);
	}
	return bad;
}

/*
 * TPM2_EvictControl by the owner on the raw device: @obj becomes the
 * persistent @persistent, or with @obj == @persistent that one goes.
 * Return: the TPM's response code or a negative errno.
 */
static int evict_control(int raw, uint32_t obj, uint32_t persistent)
{
	uint32_t handles[2] = { TPM2_RH_OWNER, obj };
	struct tpm2_auth auth = { NULL, 0 };
	uint8_t params[4] = { persistent >> 24, persistent >> 16,
			      persistent >> 8, persistent };
	struct tpm2_rsp *rsp = malloc(sizeof(*rsp));
	int ret;

	if (!rsp)
		return -ENOMEM;
	ret = tpm2_exec(raw, TPM2_CC_EVICT_CONTROL, handles, NULL, 2, 0,
			&auth, 1, params, sizeof(params), rsp);
	if (!ret)
		ret = rsp->rc;
	free(rsp);
	return ret;
}

/*
 * Trusted keys need a persistent parent (keyhandle=). With @make, a
 * storage primary becomes PARENT; without, PARENT is removed. A leftover
 * of an earlier run is removed first. Return: 0, a TPM code or -errno.
 */
static int persistent_parent(int make)
{
	struct tpm2_key key;
	int raw, ret;

	raw = tpm2_open(TPM2_RAW_DEV, O_RDWR);
	if (raw < 0)
		return raw;
	ret = evict_control(raw, PARENT, PARENT);
	if (make) {
		ret = tpm2_create_primary(raw, TPM2_KEY_STORAGE, NULL, 0, &key);
		if (!ret) {
			ret = evict_control(raw, key.handle, PARENT);
			tpm2_flush(raw, key.handle);
		}
	}
	close(raw);
	return ret;
}

/* A trusted key sealed by the TPM, then unsealed again from its blob. */
static int trusted_key_roundtrip(void)
{
	const char *spec = "new 32 keyhandle=" PARENT_STR;
	char *blob, *cmd;
	long id, n;

	id = syscall(__NR_add_key, "trusted", "tpmrm_kernel_test", spec,
		     strlen(spec), KEY_SPEC_PROCESS_KEYRING);
	if (id < 0)
		return -errno;
	blob = calloc(1, 8192);
	cmd = calloc(1, 8300);
	if (!blob || !cmd)
		return -ENOMEM;
	n = syscall(__NR_keyctl, KEYCTL_READ, id, blob, 8191);
	if (n <= 0 || n > 8191) {
		n = -EIO;
		goto out;
	}
	blob[n] = 0;
	snprintf(cmd, 8300, "load %s keyhandle=" PARENT_STR, blob);
	id = syscall(__NR_add_key, "trusted", "tpmrm_kernel_test2", cmd,
		     strlen(cmd), KEY_SPEC_PROCESS_KEYRING);
	n = id < 0 ? -errno : 0;
out:
	free(blob);
	free(cmd);
	return n;
}

FIXTURE(kernel) {
	int hmac;		/* the kernel has HMAC sessions: test it */
	char null_name[256];
	char dir[64];
	struct holder h[NR_FILES];
};

FIXTURE_SETUP(kernel)
{
	if (tpm2_read_text(NULL_NAME, self->null_name, sizeof(self->null_name)))
		SKIP(return, "no kernel HMAC sessions (%s missing)", NULL_NAME);
	self->hmac = 1;
	snprintf(self->dir, sizeof(self->dir), "/tmp/tpmrm_kernel_XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	/* a tmpfs of our own: IMA measures files on it, not the 9p root */
	ASSERT_EQ(0, mount("tmpfs", self->dir, "tmpfs", 0, "size=1m"));
	memset(self->h, 0, sizeof(self->h));
}

FIXTURE_TEARDOWN(kernel)
{
	if (self->dir[0]) {
		umount(self->dir);
		rmdir(self->dir);
	}
}

TEST_F(kernel, kernel_users_beside_full_rm)
{
	uint8_t rnd[64], pcr[32], replay[32];
	char after[256];
	unsigned int i;
	int fd;

	/* an older kselftest harness runs the test after a SKIP in setup */
	if (!self->hmac)
		SKIP(return, "no kernel HMAC sessions");
	ASSERT_EQ(0, tpm2_ima_policy_once());
	/* made before the holders: the raw device evicts every RM context */
	ASSERT_EQ(0, persistent_parent(1));
	ASSERT_LT(0, hold_all(self->h, NR_FILES));

	for (i = 0; i < 4; i++)
		EXPECT_EQ((ssize_t)sizeof(rnd), tpm2_hwrng_read(rnd, sizeof(rnd)));
	EXPECT_EQ(0, tpm2_ima_measure_files(self->dir, 4));
	EXPECT_EQ(0, trusted_key_roundtrip());
	/* tpm_chip disabled by a failed null key load: hwrng reads fail */
	EXPECT_EQ((ssize_t)sizeof(rnd), tpm2_hwrng_read(rnd, sizeof(rnd)));

	ASSERT_EQ(0, tpm2_read_text(NULL_NAME, after, sizeof(after)));
	EXPECT_STREQ(self->null_name, after);

	fd = tpm2_open(TPM2_RM_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, tpm2_pcr_read(fd, 10, pcr));
	close(fd);
	ASSERT_EQ(0, tpm2_ima_replay_pcr10(replay));
	EXPECT_EQ(0, memcmp(pcr, replay, sizeof(pcr)));

	EXPECT_EQ(0, check_and_release(self->h, NR_FILES));
	EXPECT_EQ(0, persistent_parent(0));
}

/*
 * TPM2_Certify of a key by itself: two authorizations (ADMIN and USER role
 * of the key) and an audit session, three loaded sessions at once.
 */
static int certify_three_sessions(int fd, const struct tpm2_key *key,
				  struct tpm2_session *s)
{
	uint32_t handles[2] = { key->handle, key->handle };
	struct tpm2_name names[2] = { key->name, key->name };
	struct tpm2_auth auths[3] = {
		{ &s[0], TPM2_SA_CONTINUE_SESSION },
		{ &s[1], TPM2_SA_CONTINUE_SESSION },
		{ &s[2], TPM2_SA_CONTINUE_SESSION | TPMA_SESSION_AUDIT },
	};
	/* qualifyingData: empty; inScheme: TPM_ALG_NULL (the key's own) */
	uint8_t params[4] = { 0, 0, TPM2_ALG_NULL >> 8, TPM2_ALG_NULL & 0xff };
	struct tpm2_rsp *rsp = malloc(sizeof(*rsp));
	int ret;

	if (!rsp)
		return -ENOMEM;
	ret = tpm2_exec(fd, TPM2_CC_CERTIFY, handles, names, 2, 0, auths, 3,
			params, sizeof(params), rsp);
	if (!ret)
		ret = rsp->rc;
	free(rsp);
	return ret;
}

TEST_F(kernel, three_sessions_right_after_ima_extend)
{
	struct tpm2_session s[3];
	uint8_t pcr[32], replay[32];
	struct tpm2_key key;
	unsigned int i;
	int fd;

	/* an older kselftest harness runs the test after a SKIP in setup */
	if (!self->hmac)
		SKIP(return, "no kernel HMAC sessions");
	ASSERT_EQ(0, tpm2_ima_policy_once());
	fd = tpm2_open(TPM2_RM_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tpm2_create_primary(fd, TPM2_KEY_SIGN, NULL, 0, &key));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, tpm2_start_session(fd, TPM2_SE_HMAC, &s[i]));
	/* the kernel's session takes a slot for the extend, and keeps it */
	ASSERT_EQ(0, tpm2_ima_measure_files(self->dir, 1));
	EXPECT_EQ(0, certify_three_sessions(fd, &key, s));
	/* and the kernel measures again afterwards, in a new session */
	ASSERT_EQ(0, tpm2_ima_measure_files(self->dir, 1));
	EXPECT_EQ(0, tpm2_pcr_read(fd, 10, pcr));
	ASSERT_EQ(0, tpm2_ima_replay_pcr10(replay));
	EXPECT_EQ(0, memcmp(pcr, replay, sizeof(pcr)));
	close(fd);
}

/* After a kernel operation the raw device still sees no loaded session. */
TEST_F(kernel, raw_sees_no_kernel_session)
{
	uint32_t handles[16];
	uint8_t rnd[16];
	int fd, n;

	/* an older kselftest harness runs the test after a SKIP in setup */
	if (!self->hmac)
		SKIP(return, "no kernel HMAC sessions");
	ASSERT_EQ((ssize_t)sizeof(rnd), tpm2_hwrng_read(rnd, sizeof(rnd)));
	fd = tpm2_open(TPM2_RAW_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	n = tpm2_handles_by_type(fd, TPM2_HT_LOADED_SESSION, handles, 16);
	close(fd);
	EXPECT_EQ(0, n);
}

TPMRM_TEST_MAIN()
