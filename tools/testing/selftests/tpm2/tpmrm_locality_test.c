// SPDX-License-Identifier: GPL-2.0
/*
 * Locality tests for the TPM resource manager (/dev/tpmrm0): the
 * TPMRM_IOC_SET_LOCALITY and TPMRM_IOC_GET_LOCALITY ioctls of
 * <linux/tpmrm.h>.
 *
 * Locality 0 is always allowed; 1-3 need CAP_SYS_ADMIN at the ioctl (EPERM
 * without), 4 and above are EINVAL, and a driver that cannot select
 * localities (tpm_crb) answers EOPNOTSUPP. That a
 * command really runs at the chosen locality is shown with PCR 20 of the
 * PC Client profile, which can be extended at localities 1-3 and reset at
 * locality 2 (and 4), never at 0: TPM2_PCR_Reset and TPM2_PCR_Extend fail
 * with TPM_RC_LOCALITY at locality 0 and work at locality 2, and PCR_Read
 * shows the zeros of the reset. Other open files, raw /dev/tpm0 and the
 * RM's own context loads stay at locality 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/tpmrm.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define TPM2_CC_PCR_EXTEND		0x00000182
#define TPM2_CC_PCR_RESET		0x0000013D
#define TPM2_CC_SET_LOCALITY_VENDOR	0x20001000
#define TPM2_RC_LOCALITY		0x00000907
#define PCR_DRTM			20	/* reset at 2 (4), extend at 1-3 */
static int ioctl_errno(int fd, unsigned long req, uint32_t *val)
{
	return ioctl(fd, req, val) ? errno : 0;
}

static int set_loc(int fd, uint32_t locality)
{
	return ioctl_errno(fd, TPMRM_IOC_SET_LOCALITY, &locality);
}

/* Returns the locality of @fd, or -errno. */
static long get_loc(int fd)
{
	uint32_t locality = ~0u;
	int err = ioctl_errno(fd, TPMRM_IOC_GET_LOCALITY, &locality);

	return err ? -err : (long)locality;
}

/* PCR_Reset or PCR_Extend with a password session; TPM rc or -errno. */
static long pcr_cmd(int fd, uint32_t cc, unsigned int pcr, uint8_t fill)
{
	struct tpm2_auth pw = { NULL, 0 };
	struct tpm2_rsp *rsp = malloc(sizeof(*rsp));
	uint32_t handle = pcr;
	struct tpm2_buf p;
	uint8_t digest[TPM2_DIGEST_SIZE];
	long ret;

	if (!rsp)
		return -ENOMEM;
	tpm2_buf_init(&p);
	if (cc == TPM2_CC_PCR_EXTEND) {
		memset(digest, fill, sizeof(digest));
		tpm2_put32(&p, 1);
		tpm2_put16(&p, TPM2_ALG_SHA256);
		tpm2_put_bytes(&p, digest, sizeof(digest));
	}
	ret = tpm2_exec(fd, cc, &handle, NULL, 1, 0, &pw, 1, p.data, p.len,
			rsp);
	if (!ret)
		ret = rsp->rc;
	free(rsp);
	return ret;
}

static int is_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

/* Does this kernel's /dev/tpmrm0 have the locality ioctls? */
static int have_ioctls(void)
{
	int fd = tpm2_open(TPM2_RM_DEV, 0);
	int ok;

	if (fd < 0)
		return 0;
	ok = get_loc(fd) >= 0;
	close(fd);
	return ok;
}

/* The old RM has no localities: ioctl_present records its errno. */
#define NEED_IOCTLS() do {						\
	if (!have_ioctls())						\
		SKIP(return, "this RM has no locality ioctls");		\
} while (0)

/* In a child without privileges, run @expr and exit 0 if it is true. */
#define AS_NOBODY(expr) ({						\
	pid_t pid = fork();						\
	int status = -1;						\
	if (!pid) {							\
		if (setresgid(65534, 65534, 65534) ||			\
		    setresuid(65534, 65534, 65534))			\
			_exit(2);					\
		_exit((expr) ? 0 : 1);					\
	}								\
	pid > 0 && waitpid(pid, &status, 0) == pid &&			\
		WIFEXITED(status) ? WEXITSTATUS(status) : -1;		\
})

FIXTURE(loc) {
	int fd;
	int other;
};

FIXTURE_SETUP(loc)
{
	self->fd = -1;
	self->other = -1;
	self->fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->fd);
	self->other = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->other);
}

FIXTURE_TEARDOWN(loc)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->other >= 0)
		close(self->other);
}

/*
 * Without locality ioctls (the old RM) record the errno it gives; with
 * them, a new file is at locality 0.
 */
TEST(ioctl_present)
{
	int fd = tpm2_open(TPM2_RM_DEV, 0);
	uint32_t l = 0;

	ASSERT_LE(0, fd);
	if (!have_ioctls()) {
		EXPECT_EQ(ENOTTY, ioctl_errno(fd, TPMRM_IOC_SET_LOCALITY, &l));
		EXPECT_EQ(ENOTTY, ioctl_errno(fd, TPMRM_IOC_GET_LOCALITY, &l));
		TH_LOG("no locality ioctls on this kernel: ENOTTY");
	} else {
		EXPECT_EQ(0, get_loc(fd));
		unsigned long unknown = _IOW(TPMRM_IOC_MAGIC, 0x1f, __u32);

		EXPECT_EQ(ENOTTY, ioctl_errno(fd, unknown, &l));
	}
	close(fd);
}

/*
 * Without CAP_SYS_ADMIN only locality 0 is allowed, even on a file root
 * opened: the check is on the caller of the ioctl.
 */
TEST_F(loc, refused_without_privilege)
{
	int fd = self->fd;

	NEED_IOCTLS();
	EXPECT_EQ(0, AS_NOBODY(set_loc(fd, 1) == EPERM &&
			       set_loc(fd, 2) == EPERM &&
			       set_loc(fd, 3) == EPERM &&
			       set_loc(fd, 4) == EINVAL &&
			       set_loc(fd, 0) == 0 && get_loc(fd) == 0));
	EXPECT_EQ(0, get_loc(fd));
	EXPECT_EQ(TPM2_RC_LOCALITY,
		  pcr_cmd(fd, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
}

TEST_F(loc, invalid_locality)
{
	static const uint32_t bad[] = { 4, 5, 6, 255, 256, 0xffffffff };
	unsigned int i;

	NEED_IOCTLS();
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(EINVAL, set_loc(self->fd, bad[i]));
	EXPECT_EQ(0, get_loc(self->fd));
	EXPECT_EQ(EFAULT, ioctl(self->fd, TPMRM_IOC_SET_LOCALITY, NULL) ?
			  errno : 0);
}

/*
 * Allowed for root but not by the driver: tpm_crb cannot select a
 * locality. Returns 1 if the test should stop (skip) here.
 */
static int driver_refuses(struct __test_metadata *_metadata, int fd)
{
	int err = set_loc(fd, 2);

	if (err == EOPNOTSUPP) {
		EXPECT_EQ(0, get_loc(fd));
		return 1;
	}
	EXPECT_EQ(0, err);
	return err != 0;
}

TEST_F(loc, pcr_reset_at_locality_2)
{
	uint8_t before[TPM2_DIGEST_SIZE], v[TPM2_DIGEST_SIZE];

	NEED_IOCTLS();
	if (driver_refuses(_metadata, self->fd))
		SKIP(return, "driver cannot select localities: EOPNOTSUPP");
	ASSERT_EQ(2, get_loc(self->fd));
	ASSERT_EQ(0, get_loc(self->other));

	/* locality 0, the other file: no reset, no extend */
	EXPECT_EQ(TPM2_RC_LOCALITY,
		  pcr_cmd(self->other, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
	EXPECT_EQ(TPM2_RC_LOCALITY,
		  pcr_cmd(self->other, TPM2_CC_PCR_EXTEND, PCR_DRTM, 0x5a));

	/* locality 2: extend changes the PCR, reset zeroes it */
	ASSERT_EQ(0, tpm2_pcr_read(self->fd, PCR_DRTM, before));
	EXPECT_EQ(0, pcr_cmd(self->fd, TPM2_CC_PCR_EXTEND, PCR_DRTM, 0x5a));
	ASSERT_EQ(0, tpm2_pcr_read(self->other, PCR_DRTM, v));
	EXPECT_NE(0, memcmp(before, v, sizeof(v)));
	EXPECT_FALSE(is_zero(v, sizeof(v)));
	/* the other file is still at locality 0 in between */
	EXPECT_EQ(TPM2_RC_LOCALITY,
		  pcr_cmd(self->other, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
	EXPECT_EQ(0, pcr_cmd(self->fd, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
	ASSERT_EQ(0, tpm2_pcr_read(self->other, PCR_DRTM, v));
	EXPECT_TRUE(is_zero(v, sizeof(v)));

	/* back to locality 0: refused again */
	EXPECT_EQ(0, set_loc(self->fd, 0));
	EXPECT_EQ(TPM2_RC_LOCALITY,
		  pcr_cmd(self->fd, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
}

/* Locality 1 may extend PCR 20 but not reset it: 1 is not 2. */
TEST_F(loc, locality_1_extends_only)
{
	uint8_t v[TPM2_DIGEST_SIZE];

	NEED_IOCTLS();
	if (driver_refuses(_metadata, self->fd))
		SKIP(return, "driver cannot select localities: EOPNOTSUPP");
	ASSERT_EQ(0, set_loc(self->fd, 1));
	EXPECT_EQ(0, pcr_cmd(self->fd, TPM2_CC_PCR_EXTEND, PCR_DRTM, 0x11));
	EXPECT_EQ(TPM2_RC_LOCALITY,
		  pcr_cmd(self->fd, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
	ASSERT_EQ(0, tpm2_pcr_read(self->fd, PCR_DRTM, v));
	EXPECT_FALSE(is_zero(v, sizeof(v)));
	ASSERT_EQ(0, set_loc(self->fd, 2));
	EXPECT_EQ(0, pcr_cmd(self->fd, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
}

/*
 * Root sets locality 2 and hands the file to an unprivileged process: its
 * commands run at locality 2, and it cannot move the file elsewhere.
 */
TEST_F(loc, handed_to_unprivileged)
{
	int fd = self->fd;

	NEED_IOCTLS();
	if (driver_refuses(_metadata, fd))
		SKIP(return, "driver cannot select localities: EOPNOTSUPP");
	EXPECT_EQ(0, AS_NOBODY(pcr_cmd(fd, TPM2_CC_PCR_RESET, PCR_DRTM, 0) == 0 &&
			       set_loc(fd, 3) == EPERM && get_loc(fd) == 2));
	EXPECT_EQ(2, get_loc(fd));
}

/* Raw /dev/tpm0 (and so the kernel) is back at locality 0 afterwards. */
TEST_F(loc, raw_device_stays_at_0)
{
	int raw;

	NEED_IOCTLS();
	if (driver_refuses(_metadata, self->fd))
		SKIP(return, "driver cannot select localities: EOPNOTSUPP");
	EXPECT_EQ(0, pcr_cmd(self->fd, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
	raw = tpm2_open(TPM2_RAW_DEV, 0);
	ASSERT_LE(0, raw);
	EXPECT_EQ(TPM2_RC_LOCALITY,
		  pcr_cmd(raw, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
	close(raw);
	EXPECT_EQ(0, pcr_cmd(self->fd, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
}

/*
 * Four keys at locality 2 overflow the TPM's three object slots: the RM
 * saves and loads contexts (at locality 0) between commands sent at
 * locality 2, and every key still signs.
 */
TEST_F(loc, contexts_move_under_locality_2)
{
	struct tpm2_key k[4];
	struct tpm2_sig sig;
	uint8_t digest[TPM2_DIGEST_SIZE] = { 1 };
	uint64_t loads0, loads1;
	int i, hmac_ok;

	NEED_IOCTLS();
	if (driver_refuses(_metadata, self->fd))
		SKIP(return, "driver cannot select localities: EOPNOTSUPP");
	TPMRM_COUNTER("context_loads", &loads0);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, tpm2_create_primary(self->fd, TPM2_KEY_SIGN, NULL,
						 0, &k[i]));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, tpm2_sign(self->fd, &k[i], NULL, digest, &sig,
				       &hmac_ok));
		EXPECT_EQ(0, tpm2_verify(self->fd, k[i].handle, digest, &sig));
	}
	TPMRM_COUNTER("context_loads", &loads1);
	EXPECT_LT(loads0, loads1);
	EXPECT_EQ(0, pcr_cmd(self->fd, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, tpm2_flush(self->fd, k[i].handle));
}

/* The vtpm_proxy SetLocality vendor command never passes the RM. */
TEST(vendor_set_locality_refused)
{
	uint8_t c[11] = { 0x80, 0x01, 0, 0, 0, 11, 0x20, 0x00, 0x10, 0x00, 2 };
	uint8_t r[64];
	int fd = tpm2_open(TPM2_RM_DEV, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(10, tpm2_xfer(fd, c, sizeof(c), r, sizeof(r)));
	EXPECT_EQ(TPM2_RC_RESMGR_LAYER | TPM2_RC_COMMAND_CODE,
		  tpm2_get32(r + 6));
	if (have_ioctls())
		EXPECT_EQ(0, get_loc(fd));
	EXPECT_EQ(TPM2_RC_LOCALITY,
		  pcr_cmd(fd, TPM2_CC_PCR_RESET, PCR_DRTM, 0));
	close(fd);
}

TPMRM_TEST_MAIN()
