// SPDX-License-Identifier: GPL-2.0
/*
 * Command path tests for the TPM resource manager (/dev/tpmrm0): an
 * unknown command code is answered by the RM itself (TSS2_RESMGR layer |
 * TPM_RC_COMMAND_CODE) without reaching the TPM, malformed commands are
 * refused (short header, size field mismatch, handle area cut short,
 * authorization size past the end) and leave the file usable, nonblocking
 * write plus poll, close with entities loaded or a command in flight, and
 * a raw /dev/tpm0 user interleaved with RM users.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

FIXTURE(cmd) {
	int fd;
};

FIXTURE_SETUP(cmd)
{
	self->fd = -1;
	self->fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(cmd)
{
	if (self->fd >= 0)
		close(self->fd);
}

static size_t put_header(uint8_t *b, uint16_t tag, uint32_t len, uint32_t cc)
{
	b[0] = tag >> 8;
	b[1] = tag;
	b[2] = len >> 24;
	b[3] = len >> 16;
	b[4] = len >> 8;
	b[5] = len;
	b[6] = cc >> 24;
	b[7] = cc >> 16;
	b[8] = cc >> 8;
	b[9] = cc;
	return 10;
}

/* The file still works: GetRandom returns the requested bytes. */
static int still_works(int fd)
{
	uint8_t r[16];

	return tpm2_get_random(fd, sizeof(r), r);
}

static int write_errno(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	return n < 0 ? errno : 0;
}

TEST_F(cmd, unknown_command_code)
{
	static const uint32_t codes[] = { 0x0000FFFF, 0x000001FF };
	uint8_t c[10], r[64];
	uint64_t a0 = 0, a1 = 0, l0 = 0, l1 = 0;
	int have, i, n;

	for (i = 0; i < 2; i++) {
		have = !tpm2_rm_counter("rm_answered", &a0) &&
		       !tpm2_rm_counter("context_loads", &l0);
		put_header(c, TPM2_ST_NO_SESSIONS, 10, codes[i]);
		n = tpm2_xfer(self->fd, c, 10, r, sizeof(r));
		ASSERT_EQ(10, n);
		ASSERT_EQ(TPM2_ST_NO_SESSIONS, tpm2_get16(r));
		ASSERT_EQ(10, tpm2_get32(r + 2));
		ASSERT_EQ(TPM2_RC_RESMGR_LAYER | TPM2_RC_COMMAND_CODE,
			  tpm2_get32(r + 6));
		if (have) {
			/* Answered by the RM, the TPM was not reached. */
			ASSERT_EQ(0, tpm2_rm_counter("rm_answered", &a1));
			ASSERT_EQ(0, tpm2_rm_counter("context_loads", &l1));
			ASSERT_EQ(a0 + 1, a1);
			ASSERT_EQ(l0, l1);
		} else {
			TH_LOG("no RM counters: TPM not reached not checked");
		}
	}
	ASSERT_EQ(0, still_works(self->fd));
}

TEST_F(cmd, short_header)
{
	uint8_t c[10];

	put_header(c, TPM2_ST_NO_SESSIONS, 5, TPM2_CC_GET_RANDOM);
	ASSERT_EQ(EINVAL, write_errno(self->fd, c, 5));
	ASSERT_EQ(0, still_works(self->fd));
}

/* Eight bytes: a size field but no complete command code. */
TEST_F(cmd, header_without_command_code)
{
	uint8_t c[10];

	put_header(c, TPM2_ST_NO_SESSIONS, 8, TPM2_CC_GET_RANDOM);
	ASSERT_EQ(EINVAL, write_errno(self->fd, c, 8));
	ASSERT_EQ(0, still_works(self->fd));
}

TEST_F(cmd, size_field_larger_than_write)
{
	uint8_t c[12];

	put_header(c, TPM2_ST_NO_SESSIONS, 20, TPM2_CC_GET_RANDOM);
	c[10] = 0;
	c[11] = 8;
	ASSERT_EQ(EINVAL, write_errno(self->fd, c, 12));
	ASSERT_EQ(0, still_works(self->fd));
}

TEST_F(cmd, size_field_smaller_than_write)
{
	uint8_t c[16] = { 0 };

	put_header(c, TPM2_ST_NO_SESSIONS, 12, TPM2_CC_GET_RANDOM);
	c[11] = 8;
	ASSERT_EQ(EINVAL, write_errno(self->fd, c, 16));
	ASSERT_EQ(0, still_works(self->fd));
}

/* Sign needs one handle; ContextSave too; send the header alone. */
TEST_F(cmd, handle_area_cut_short)
{
	static const uint32_t codes[] = { TPM2_CC_SIGN, TPM2_CC_CONTEXT_SAVE,
					  TPM2_CC_POLICY_PCR };
	uint8_t c[16], r[64];
	int i, n;

	for (i = 0; i < 3; i++) {
		put_header(c, TPM2_ST_NO_SESSIONS, 12, codes[i]);
		c[10] = 0x80;
		c[11] = 0xff;
		n = tpm2_xfer(self->fd, c, 12, r, sizeof(r));
		TH_LOG("cc 0x%x with 2 handle bytes: %d rc 0x%x", codes[i], n,
		       n >= 10 ? tpm2_get32(r + 6) : 0);
		/* Either refused at write, or an error response. */
		if (n < 0) {
			ASSERT_EQ(-EINVAL, n);
		} else {
			ASSERT_NE(0, tpm2_get32(r + 6));
		}
	}
	ASSERT_EQ(0, still_works(self->fd));
}

TEST_F(cmd, auth_size_past_end)
{
	uint8_t c[64], r[64];
	struct tpm2_key k;
	size_t len;
	int n;

	ASSERT_EQ(0, tpm2_create_primary(self->fd, TPM2_KEY_SIGN, NULL, 0,
					 &k));
	len = put_header(c, TPM2_ST_SESSIONS, 27, TPM2_CC_SIGN);
	c[len++] = k.handle >> 24;
	c[len++] = k.handle >> 16;
	c[len++] = k.handle >> 8;
	c[len++] = k.handle;
	/* authorizationSize 0x100, but only 9 bytes follow */
	c[len++] = 0;
	c[len++] = 0;
	c[len++] = 1;
	c[len++] = 0;
	c[len++] = 0x40;		/* TPM_RS_PW */
	c[len++] = 0x00;
	c[len++] = 0x00;
	c[len++] = 0x09;
	c[len++] = 0;
	c[len++] = 0;
	c[len++] = 0;
	c[len++] = 0;
	c[len++] = 0;
	ASSERT_EQ(27, len);
	n = tpm2_xfer(self->fd, c, len, r, sizeof(r));
	TH_LOG("auth size past end: %d rc 0x%x", n,
	       n >= 10 ? tpm2_get32(r + 6) : 0);
	ASSERT_EQ(10, n);
	ASSERT_NE(0, tpm2_get32(r + 6));
	ASSERT_EQ(0, still_works(self->fd));
	ASSERT_EQ(0, tpm2_flush(self->fd, k.handle));
}

TEST_F(cmd, nonblocking_poll)
{
	struct pollfd p;
	uint8_t c[12], r[64];
	int fd, n;

	fd = tpm2_open(TPM2_RM_DEV, O_NONBLOCK);
	ASSERT_LE(0, fd);
	p.fd = fd;
	p.events = POLLIN | POLLOUT;
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_EQ(0, p.revents & POLLIN);
	ASSERT_NE(0, p.revents & POLLOUT);

	put_header(c, TPM2_ST_NO_SESSIONS, 12, TPM2_CC_GET_RANDOM);
	c[10] = 0;
	c[11] = 16;
	ASSERT_EQ(12, write(fd, c, 12));
	/* A second command before the answer is read is refused. */
	n = write(fd, c, 12);
	ASSERT_EQ(-1, n);
	ASSERT_EQ(EBUSY, errno);
	p.events = POLLIN;
	ASSERT_EQ(1, poll(&p, 1, 30000));
	ASSERT_NE(0, p.revents & POLLIN);
	n = read(fd, r, sizeof(r));
	ASSERT_EQ(28, n);
	ASSERT_EQ(0, tpm2_get32(r + 6));
	ASSERT_EQ(16, tpm2_get16(r + 10));
	/* Drained: no more input. */
	p.events = POLLIN | POLLOUT;
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_EQ(0, p.revents & POLLIN);
	close(fd);
}

/* As /dev/tpmX: no file position, so pread, pwrite and lseek fail. */
TEST_F(cmd, not_seekable)
{
	uint8_t c[12], r[64];

	put_header(c, TPM2_ST_NO_SESSIONS, 12, TPM2_CC_GET_RANDOM);
	c[10] = 0;
	c[11] = 16;
	ASSERT_EQ(-1, pwrite(self->fd, c, 12, 0));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(12, write(self->fd, c, 12));
	ASSERT_EQ(-1, pread(self->fd, r, sizeof(r), 0));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	ASSERT_EQ(ESPIPE, errno);
	/* The response is still there for read(). */
	ASSERT_EQ(28, read(self->fd, r, sizeof(r)));
	ASSERT_EQ(0, tpm2_get32(r + 6));
}

static int count_handles(int fd, uint32_t type)
{
	uint32_t h[64];

	return tpm2_handles_by_type(fd, type, h, 64);
}

/* Raw view of the TPM: objects and sessions (loaded and saved). */
static int raw_counts(int *objects, int *sessions)
{
	int fd, a, b;

	fd = tpm2_open(TPM2_RAW_DEV, 0);
	if (fd < 0)
		return fd;
	*objects = count_handles(fd, TPM2_HT_TRANSIENT);
	a = count_handles(fd, TPM2_HT_LOADED_SESSION);
	b = count_handles(fd, TPM2_HT_SAVED_SESSION);
	close(fd);
	*sessions = a + b;
	return (*objects < 0 || a < 0 || b < 0) ? -EIO : 0;
}

TEST_F(cmd, close_with_entities_loaded)
{
	struct tpm2_session s1, s2;
	struct tpm2_key k1, k2;
	int fd, have_raw, o0, s0, o1, s1n;

	have_raw = !raw_counts(&o0, &s0);
	fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tpm2_create_primary(fd, TPM2_KEY_SIGN, NULL, 0, &k1));
	ASSERT_EQ(0, tpm2_create_primary(fd, TPM2_KEY_STORAGE, NULL, 0, &k2));
	ASSERT_EQ(0, tpm2_start_session(fd, TPM2_SE_HMAC, &s1));
	ASSERT_EQ(0, tpm2_start_session(fd, TPM2_SE_POLICY, &s2));
	ASSERT_EQ(2, count_handles(fd, TPM2_HT_TRANSIENT));
	close(fd);

	fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, still_works(fd));
	ASSERT_EQ(0, count_handles(fd, TPM2_HT_TRANSIENT));
	ASSERT_EQ(0, count_handles(fd, TPM2_HT_LOADED_SESSION));
	ASSERT_EQ(0, count_handles(fd, TPM2_HT_SAVED_SESSION));
	close(fd);
	if (have_raw) {
		ASSERT_EQ(0, raw_counts(&o1, &s1n));
		TH_LOG("raw: objects %d -> %d, sessions %d -> %d", o0, o1, s0,
		       s1n);
		ASSERT_EQ(0, o1);
		ASSERT_EQ(s0, s1n);
	}
}

TEST_F(cmd, close_with_command_in_flight)
{
	uint8_t nonce[32];
	struct tpm2_buf b;
	int fd, have_raw, o0, s0, o1, s1, i;
	size_t len;

	have_raw = !raw_counts(&o0, &s0);
	for (i = 0; i < 2; i++) {
		fd = tpm2_open(TPM2_RM_DEV, O_NONBLOCK);
		ASSERT_LE(0, fd);
		tpm2_buf_init(&b);
		tpm2_put16(&b, TPM2_ST_NO_SESSIONS);
		tpm2_put32(&b, 0);
		tpm2_put32(&b, TPM2_CC_START_AUTH_SESSION);
		tpm2_put32(&b, TPM2_RH_NULL);
		tpm2_put32(&b, TPM2_RH_NULL);
		tpm2_random(nonce, sizeof(nonce));
		tpm2_put_tpm2b(&b, nonce, sizeof(nonce));
		tpm2_put16(&b, 0);
		tpm2_put8(&b, i ? TPM2_SE_POLICY : TPM2_SE_HMAC);
		tpm2_put16(&b, TPM2_ALG_NULL);
		tpm2_put16(&b, TPM2_ALG_SHA256);
		len = b.len;
		b.data[4] = len >> 8;
		b.data[5] = len;
		ASSERT_EQ((ssize_t)len, write(fd, b.data, len));
		close(fd);
	}

	fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, still_works(fd));
	ASSERT_EQ(0, count_handles(fd, TPM2_HT_TRANSIENT));
	ASSERT_EQ(0, count_handles(fd, TPM2_HT_LOADED_SESSION));
	ASSERT_EQ(0, count_handles(fd, TPM2_HT_SAVED_SESSION));
	close(fd);
	if (have_raw) {
		ASSERT_EQ(0, raw_counts(&o1, &s1));
		TH_LOG("raw: objects %d -> %d, sessions %d -> %d", o0, o1, s0,
		       s1);
		ASSERT_EQ(0, o1);
		ASSERT_EQ(s0, s1);
	}
}

TEST_F(cmd, raw_user_interleaved)
{
	struct tpm2_key ka, kr;
	struct tpm2_session sa;
	struct tpm2_auth a = { &sa, TPM2_SA_CONTINUE_SESSION };
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	uint32_t h[64];
	int raw, n, ok;

	if (access(TPM2_RAW_DEV, F_OK))
		SKIP(return, TPM2_RAW_DEV " not present");
	ASSERT_EQ(0, tpm2_create_primary(self->fd, TPM2_KEY_SIGN, NULL, 0,
					 &ka));
	ASSERT_EQ(0, tpm2_start_session(self->fd, TPM2_SE_HMAC, &sa));
	tpm2_random(digest, sizeof(digest));
	ASSERT_EQ(0, tpm2_sign(self->fd, &ka, &a, digest, &sig, &ok));

	raw = tpm2_open(TPM2_RAW_DEV, 0);
	ASSERT_LE(0, raw);
	n = tpm2_handles_by_type(raw, TPM2_HT_TRANSIENT, h, 64);
	TH_LOG("raw sees %d objects", n);
	ASSERT_EQ(0, n);

	ASSERT_EQ(0, tpm2_create_primary(raw, TPM2_KEY_SIGN, NULL, 0, &kr));
	/* The RM user keeps working while the raw object is loaded. */
	ok = -1;
	ASSERT_EQ(0, tpm2_sign(self->fd, &ka, &a, digest, &sig, &ok));
	ASSERT_EQ(1, ok);
	ASSERT_EQ(0, tpm2_verify(self->fd, ka.handle, digest, &sig));
	/* The raw user still finds exactly its own object, working. */
	n = tpm2_handles_by_type(raw, TPM2_HT_TRANSIENT, h, 64);
	ASSERT_EQ(1, n);
	ASSERT_EQ(kr.handle, h[0]);
	ASSERT_EQ(0, tpm2_sign(raw, &kr, NULL, digest, &sig, NULL));
	ASSERT_EQ(0, tpm2_verify(raw, kr.handle, digest, &sig));
	ASSERT_NE(0, tpm2_verify(self->fd, ka.handle, digest, &sig));
	ASSERT_EQ(0, tpm2_flush(raw, kr.handle));
	close(raw);

	/* And after the raw user is gone. */
	tpm2_random(digest, sizeof(digest));
	ok = -1;
	ASSERT_EQ(0, tpm2_sign(self->fd, &ka, &a, digest, &sig, &ok));
	ASSERT_EQ(1, ok);
	ASSERT_EQ(0, tpm2_verify(self->fd, ka.handle, digest, &sig));
}

TPMRM_TEST_MAIN()
