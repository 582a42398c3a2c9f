// SPDX-License-Identifier: GPL-2.0
/*
 * Structured fuzzer for the TPM resource manager (/dev/tpmrm0).
 *
 * A seeded PRNG drives mutations of TPM 2.0 commands through a few open
 * files: valid headers with random handle areas, authorization areas with
 * wrong sizes and bogus session handles, truncated and oversized commands,
 * command codes from the TPM's own list (TPM_CAP_COMMANDS) and a few it does
 * not implement, bad tags, non-blocking I/O (write, poll, read), writes
 * while a response is pending, partial reads, open and close, and close
 * with a command in flight. Some files hold a real primary key and an HMAC
 * session, so that mutated handles also hit real entities.
 *
 * Every response must be well formed (size field equal to the bytes read,
 * a valid tag), every errno must be the documented one for what was
 * written, no I/O may hang, and at the end the RM must still sign and
 * verify, its resident counters must be zero with no file open, and no
 * object the RM forgot may be left in the TPM.
 *
 * The seed is printed; pass it as the first argument or in
 * TPMRM_FUZZ_SEED to replay a run. TPMRM_FUZZ_COUNT overrides the number of
 * commands (default 100000, 1000000 with TPMRM_EXTENDED=1).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define FZ_SLOTS		4
#define FZ_POOL			32
#define FZ_MAX_CMD		8192
#define FZ_POLL_MS		30000
#define FZ_ALARM_S		60
/*
 * Commands per run. make check boots the minimal kernel twice (tpm-tis and
 * tpm-crb), each run with its own seed: 2 x 50000 >= 10^5 commands in all.
 * Measured in QEMU TCG: about 400 commands/s on tis, 700 on crb, 280 on
 * the debug kernel, so 10^5 in one boot would not fit the harness's 300 s
 * per test on tis or on the debug kernel.
 */
#define FZ_COUNT		50000UL
#define FZ_COUNT_DEBUG		20000UL
#define FZ_COUNT_EXTENDED	1000000UL

#define FZ_RC_BAD_TAG		(TPM2_RC_RESMGR_LAYER | TPM2_RC_BAD_TAG)
#define FZ_RC_COMMAND_CODE	(TPM2_RC_RESMGR_LAYER | TPM2_RC_COMMAND_CODE)
#define FZ_RC_COMMAND_SIZE	(TPM2_RC_RESMGR_LAYER | 0x142)

static unsigned long long fz_seed;

/*
 * Commands that change the TPM's persistent state or its hierarchies
 * (authorization values, enables, NV, clock, algorithm set, startup
 * state). With empty hierarchy authorizations a lucky mutation could
 * succeed and break the tests that run after this one, so they are never
 * sent; the RM treats them like any other command code.
 */
static const uint32_t fz_denied[] = {
	0x11F, 0x120, 0x121, 0x122, 0x124, 0x125, 0x126, 0x127, 0x128, 0x129,
	0x12A, 0x12B, 0x12C, 0x12D, 0x12E, 0x12F, 0x130, 0x132, 0x134, 0x135,
	0x136, 0x137, 0x138, 0x13A, 0x13B, 0x13F, 0x140, 0x141, 0x144, 0x145,
	0x183, 0x196,
};

enum fz_op {
	FZ_OP_CMD,		/* valid header, random handles and auths */
	FZ_OP_BAD_AUTH,		/* authorization area with a wrong size */
	FZ_OP_TRUNC,		/* cut anywhere, size field matching */
	FZ_OP_MISMATCH,		/* size field disagrees with the write */
	FZ_OP_SHORT,		/* fewer bytes than a header */
	FZ_OP_BIG,		/* more than 4096 bytes */
	FZ_OP_BAD_TAG,
	FZ_OP_NONBLOCK,		/* O_NONBLOCK write, poll, read */
	FZ_OP_BUSY,		/* second write while one is pending */
	FZ_OP_PARTIAL,		/* response read in pieces */
	FZ_OP_CLOSE_BUSY,	/* close with a command in flight */
	FZ_OP_REOPEN,
	FZ_OP_NR
};

static const char *const fz_op_name[FZ_OP_NR] = {
	"cmd", "bad_auth", "trunc", "mismatch", "short", "big", "bad_tag",
	"nonblock", "busy", "partial", "close_busy", "reopen",
};

static const unsigned int fz_weight[FZ_OP_NR] = {
	40, 10, 8, 4, 3, 3, 3, 10, 4, 6, 3, 1,
};

struct fz_cmd {
	uint8_t b[FZ_MAX_CMD];
	size_t len;
	uint32_t cc;
	int known;		/* cc is in the TPM's list */
};

struct fz {
	unsigned long long rng;
	int fd[FZ_SLOTS];
	uint32_t pool[FZ_POOL];
	unsigned int nr_pool;
	uint32_t cca[TPM2_MAX_COMMANDS];
	unsigned int nr_cca;
	uint8_t rsp[FZ_MAX_CMD];
	unsigned long cmds;		/* write() calls */
	unsigned long op_count[FZ_OP_NR];
	unsigned long rm_rc, tpm_rc, ok_rc, einval;
	unsigned long entities;
	char what[160];			/* the operation in progress */
};

static struct fz *fz_current;

/* splitmix64 */
static unsigned long long fz_rand(struct fz *f)
{
	unsigned long long z = (f->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int fz_below(struct fz *f, unsigned int n)
{
	return n ? fz_rand(f) % n : 0;
}

static int fz_chance(struct fz *f, unsigned int percent)
{
	return fz_below(f, 100) < percent;
}

static void fz_bytes(struct fz *f, uint8_t *p, size_t n)
{
	while (n--)
		*p++ = fz_rand(f);
}

static void fz_alarm(int sig)
{
	static const char msg[] = "# fuzz: I/O hung for 60 s: ";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0 ||
	    write(2, fz_current->what, strlen(fz_current->what)) < 0)
		_exit(2);
	_exit(1);
}

static void fz_pool_add(struct fz *f, uint32_t h)
{
	f->pool[f->nr_pool++ % FZ_POOL] = h;
}

static int fz_denied_cc(uint32_t cc)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fz_denied); i++)
		if (fz_denied[i] == cc)
			return 1;
	return 0;
}

static int fz_find_cc(const struct fz *f, uint32_t cc, uint32_t *attrs)
{
	unsigned int i;

	for (i = 0; i < f->nr_cca; i++) {
		if (tpm2_cca_code(f->cca[i]) == cc) {
			*attrs = f->cca[i];
			return 1;
		}
	}
	return 0;
}

static uint32_t fz_handle(struct fz *f)
{
	static const uint32_t perm[] = {
		0x40000001, 0x40000007, 0x4000000A, 0x4000000B, 0x4000000C,
		TPM2_RS_PW, 0x40000000,
	};
	unsigned int r = fz_below(f, 100);

	if (r < 35 && f->nr_pool)
		return f->pool[fz_below(f, f->nr_pool < FZ_POOL ?
					 f->nr_pool : FZ_POOL)];
	if (r < 50)
		return perm[fz_below(f, ARRAY_SIZE(perm))];
	if (r < 58)
		return fz_below(f, 24);				/* PCR */
	if (r < 70)
		return TPM2_HT_TRANSIENT | fz_below(f, 8);
	if (r < 75)
		return TPM2_HT_TRANSIENT | (fz_rand(f) & 0xFFFFFF);
	if (r < 85)
		return (fz_chance(f, 50) ? TPM2_HT_HMAC_SESSION :
			TPM2_HT_POLICY_SESSION) | fz_below(f, 8);
	if (r < 90)
		return (fz_chance(f, 50) ? 0x01000000 : 0x81000000) |
		       fz_below(f, 0x10000);
	return fz_rand(f);
}

static uint32_t fz_session_handle(struct fz *f)
{
	if (fz_chance(f, 40))
		return TPM2_RS_PW;
	return fz_handle(f);
}

/* Appends one TPMS_AUTH_COMMAND with random sizes and contents. */
static void fz_put_auth(struct fz *f, struct tpm2_buf *b)
{
	uint8_t tmp[64];
	unsigned int n;

	tpm2_put32(b, fz_session_handle(f));
	n = fz_chance(f, 50) ? 0 : fz_below(f, 49);
	fz_bytes(f, tmp, n);
	tpm2_put_tpm2b(b, tmp, n);
	tpm2_put8(b, fz_chance(f, 70) ? TPM2_SA_CONTINUE_SESSION :
		  fz_rand(f));
	n = fz_chance(f, 50) ? 0 : fz_below(f, 49);
	fz_bytes(f, tmp, n);
	tpm2_put_tpm2b(b, tmp, n);
}

static void fz_pick_cc(struct fz *f, struct fz_cmd *c, uint32_t *attrs)
{
	unsigned int i;

	c->known = 0;
	if (fz_chance(f, 4)) {
		c->cc = fz_chance(f, 50) ? fz_rand(f) :
			TPM2_CC_FIRST + fz_below(f, 0x90);
		c->known = fz_find_cc(f, c->cc, attrs);
		if (!c->known || !fz_denied_cc(c->cc))
			return;
	}
	do {
		i = fz_below(f, f->nr_cca);
		c->cc = tpm2_cca_code(f->cca[i]);
	} while (fz_denied_cc(c->cc));
	*attrs = f->cca[i];
	c->known = 1;
}

static void fz_set_size(struct fz_cmd *c, uint32_t size)
{
	c->b[2] = size >> 24;
	c->b[3] = size >> 16;
	c->b[4] = size >> 8;
	c->b[5] = size;
}

/*
 * Builds a command with a valid header: a code from the TPM's list (or not),
 * a handle area of cHandles random handles (sometimes one more or less), an
 * optional authorization area of 1-3 random sessions whose size is wrong
 * if @bad_auth, and random parameters.
 */
static void fz_build(struct fz *f, struct fz_cmd *c, int bad_auth)
{
	struct tpm2_buf *b = calloc(1, sizeof(*b)), a;
	unsigned int i, nh, ns;
	uint32_t attrs = 0, asize;
	int with_auth;
	uint8_t params[96];
	size_t np;

	fz_pick_cc(f, c, &attrs);
	nh = c->known ? tpm2_cca_handles(attrs) : fz_below(f, 3);
	if (fz_chance(f, 10))
		nh = fz_below(f, 4);
	with_auth = bad_auth || fz_chance(f, 50);
	ns = with_auth ? 1 + fz_below(f, 3) : 0;
	if (with_auth && fz_chance(f, 5))
		ns = fz_chance(f, 50) ? 0 : 4;	/* empty, or one too many */

	tpm2_buf_init(b);
	tpm2_put16(b, with_auth ? TPM2_ST_SESSIONS : TPM2_ST_NO_SESSIONS);
	tpm2_put32(b, 0);
	tpm2_put32(b, c->cc);
	for (i = 0; i < nh; i++)
		tpm2_put32(b, fz_handle(f));
	if (with_auth) {
		tpm2_buf_init(&a);
		for (i = 0; i < ns; i++)
			fz_put_auth(f, &a);
		asize = a.len;
		if (bad_auth) {
			switch (fz_below(f, 5)) {
			case 0:
				asize = 0;
				break;
			case 1:
				asize = 0xFFFFFFFF;
				break;
			case 2:
				asize += 1 + fz_below(f, 8);
				break;
			case 3:
				asize -= asize ? 1 + fz_below(f, asize) : 0;
				break;
			default:
				asize = fz_rand(f);
			}
		}
		tpm2_put32(b, asize);
		tpm2_put_bytes(b, a.data, a.len);
	}
	np = fz_below(f, sizeof(params) + 1);
	fz_bytes(f, params, np);
	if (c->cc == 0x165 && fz_chance(f, 70)) {	/* FlushContext */
		uint32_t h = fz_handle(f);

		np = 4;
		params[0] = h >> 24;
		params[1] = h >> 16;
		params[2] = h >> 8;
		params[3] = h;
	}
	tpm2_put_bytes(b, params, np);
	memcpy(c->b, b->data, b->len);
	c->len = b->len;
	fz_set_size(c, c->len);
	free(b);
}

/* Opens slot @i; sometimes gives it a primary key and an HMAC session. */
static int fz_open(struct fz *f, unsigned int i, int entities)
{
	struct tpm2_session s;
	struct tpm2_key k;
	int ret;

	f->fd[i] = tpm2_open(TPM2_RM_DEV, 0);
	if (f->fd[i] < 0)
		return f->fd[i];
	if (!entities)
		return 0;
	ret = tpm2_create_primary(f->fd[i], TPM2_KEY_SIGN, NULL, 0, &k);
	if (ret)
		return ret < 0 ? ret : -EPROTO;
	fz_pool_add(f, k.handle);
	ret = tpm2_start_session(f->fd[i], TPM2_SE_HMAC, &s);
	if (ret)
		return ret < 0 ? ret : -EPROTO;
	fz_pool_add(f, s.handle);
	f->entities += 2;
	return 0;
}

static void fz_close(struct fz *f, unsigned int i)
{
	if (f->fd[i] >= 0)
		close(f->fd[i]);
	f->fd[i] = -1;
}

static int fz_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) ? -errno : 0;
}

/* Checks a complete response to @c; records handles it returns. */
static int fz_check_rsp(struct fz *f, const struct fz_cmd *c, size_t n)
{
	uint32_t rc, h;

	if (tpm2_rsp_check(f->rsp, n)) {
		fprintf(stderr, "# malformed response (%zu bytes, size %u, tag 0x%x) to %s\n",
			n, n >= 6 ? tpm2_get32(f->rsp + 2) : 0,
			n >= 2 ? tpm2_get16(f->rsp) : 0, f->what);
		return -EBADMSG;
	}
	rc = tpm2_get32(f->rsp + 6);
	if (!c->known && rc != FZ_RC_COMMAND_CODE) {
		fprintf(stderr, "# unknown command code answered 0x%x: %s\n",
			rc, f->what);
		return -EPROTO;
	}
	if (tpm2_rc_is_rm_layer(rc))
		f->rm_rc++;
	else if (rc)
		f->tpm_rc++;
	else
		f->ok_rc++;
	if (!rc && n >= 14) {
		h = tpm2_get32(f->rsp + 10);
		if ((h >> 24) == 0x80 || (h >> 24) == 0x02 || (h >> 24) == 0x03)
			fz_pool_add(f, h);
	}
	return 0;
}

/* The errno a write of a command with a valid size may fail with. */
static int fz_write_errno_ok(const struct fz_cmd *c, int err)
{
	/* FlushContext of an object the space does not own (tpm-rm.rst). */
	return err == EINVAL && c->cc == 0x165;
}

static void fz_describe(struct fz *f, enum fz_op op, const struct fz_cmd *c,
			unsigned int slot)
{
	snprintf(f->what, sizeof(f->what),
		 "op %s slot %u cc 0x%x len %zu tag 0x%04x (command %lu)",
		 fz_op_name[op], slot, c->cc, c->len, tpm2_get16(c->b),
		 f->cmds);
}

/* Blocking write and read of a command whose size field is right. */
static int fz_xfer(struct fz *f, int fd, const struct fz_cmd *c)
{
	ssize_t n;

	f->cmds++;
	n = write(fd, c->b, c->len);
	if (n < 0) {
		if (!fz_write_errno_ok(c, errno)) {
			fprintf(stderr, "# write: %s: %s\n", strerror(errno),
				f->what);
			return -EPROTO;
		}
		f->einval++;
		return 0;
	}
	if ((size_t)n != c->len) {
		fprintf(stderr, "# short write %zd: %s\n", n, f->what);
		return -EPROTO;
	}
	n = read(fd, f->rsp, sizeof(f->rsp));
	if (n < 0) {
		fprintf(stderr, "# read: %s: %s\n", strerror(errno), f->what);
		return -EPROTO;
	}
	return fz_check_rsp(f, c, n);
}

/* A write that must fail with @err and leave the file usable. */
static int fz_expect_errno(struct fz *f, int fd, const void *p, size_t len,
			   int err)
{
	ssize_t n;

	f->cmds++;
	n = write(fd, p, len);
	if (n >= 0 || errno != err) {
		fprintf(stderr, "# expected %s, got %zd (%s): %s\n",
			strerror(err), n, n < 0 ? strerror(errno) : "-",
			f->what);
		return -EPROTO;
	}
	return 0;
}

static int fz_poll(struct fz *f, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&p, 1, FZ_POLL_MS);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		fprintf(stderr, "# poll %s: %s\n",
			n ? strerror(errno) : "timed out", f->what);
		return -ETIMEDOUT;
	}
	return p.revents;
}

/* Non-blocking: write, maybe an early read (EAGAIN), poll, read. */
static int fz_nonblock(struct fz *f, int fd, const struct fz_cmd *c)
{
	ssize_t n;
	int ret;

	ret = fz_set_nonblock(fd, 1);
	if (ret)
		return ret;
	f->cmds++;
	n = write(fd, c->b, c->len);
	if (n != (ssize_t)c->len) {
		fprintf(stderr, "# non-blocking write %zd (%s): %s\n", n,
			n < 0 ? strerror(errno) : "-", f->what);
		return -EPROTO;
	}
	if (fz_chance(f, 30)) {
		n = read(fd, f->rsp, sizeof(f->rsp));
		if (n >= 0)
			return fz_check_rsp(f, c, n) ?: fz_set_nonblock(fd, 0);
		if (fz_write_errno_ok(c, errno))
			return fz_set_nonblock(fd, 0);
		if (errno != EAGAIN) {
			fprintf(stderr, "# early read: %s: %s\n",
				strerror(errno), f->what);
			return -EPROTO;
		}
	}
	ret = fz_poll(f, fd, POLLIN);
	if (ret < 0)
		return ret;
	n = read(fd, f->rsp, sizeof(f->rsp));
	if (n < 0) {
		if (!fz_write_errno_ok(c, errno)) {
			fprintf(stderr, "# read after poll: %s: %s\n",
				strerror(errno), f->what);
			return -EPROTO;
		}
		f->einval++;
		return fz_set_nonblock(fd, 0);
	}
	return fz_check_rsp(f, c, n) ?: fz_set_nonblock(fd, 0);
}

/* A write while a response is pending fails with EBUSY. */
static int fz_busy(struct fz *f, int fd, const struct fz_cmd *c)
{
	int nonblock = fz_chance(f, 50), ret;
	ssize_t n;

	if (nonblock && fz_set_nonblock(fd, 1))
		return -EPROTO;
	f->cmds++;
	n = write(fd, c->b, c->len);
	if (n < 0) {
		if (!fz_write_errno_ok(c, errno)) {
			fprintf(stderr, "# write: %s: %s\n", strerror(errno),
				f->what);
			return -EPROTO;
		}
		f->einval++;
		return fz_set_nonblock(fd, 0);
	}
	ret = fz_expect_errno(f, fd, c->b, c->len, EBUSY);
	if (ret)
		return ret;
	if (nonblock && fz_poll(f, fd, POLLIN) < 0)
		return -ETIMEDOUT;
	n = read(fd, f->rsp, sizeof(f->rsp));
	if (n < 0) {
		if (!fz_write_errno_ok(c, errno)) {
			fprintf(stderr, "# read: %s: %s\n", strerror(errno),
				f->what);
			return -EPROTO;
		}
		return fz_set_nonblock(fd, 0);
	}
	return fz_check_rsp(f, c, n) ?: fz_set_nonblock(fd, 0);
}

/* Reads the response in random pieces; a new write may cut it short. */
static int fz_partial(struct fz *f, int fd, const struct fz_cmd *c)
{
	size_t got = 0, want = 10, chunk;
	ssize_t n;

	f->cmds++;
	n = write(fd, c->b, c->len);
	if (n < 0) {
		if (fz_write_errno_ok(c, errno))
			return 0;
		fprintf(stderr, "# write: %s: %s\n", strerror(errno), f->what);
		return -EPROTO;
	}
	while (got < want) {
		chunk = 1 + fz_below(f, 16);
		n = read(fd, f->rsp + got, chunk);
		if (n <= 0 || (size_t)n > chunk) {
			fprintf(stderr, "# partial read %zd after %zu: %s\n",
				n, got, f->what);
			return -EPROTO;
		}
		got += n;
		if (got >= 6)
			want = tpm2_get32(f->rsp + 2);
		if (want > sizeof(f->rsp))
			return fz_check_rsp(f, c, got);
		/* Abandon the rest: the next write must be accepted. */
		if (got >= 10 && got < want && fz_chance(f, 20))
			return 0;
	}
	return fz_check_rsp(f, c, got);
}

/* Close with a command queued on the workqueue or just done. */
static int fz_close_busy(struct fz *f, unsigned int slot,
			 const struct fz_cmd *c)
{
	int fd = f->fd[slot];
	ssize_t n;

	if (fz_set_nonblock(fd, 1))
		return -EPROTO;
	f->cmds++;
	n = write(fd, c->b, c->len);
	if (n != (ssize_t)c->len) {
		fprintf(stderr, "# non-blocking write %zd: %s\n", n, f->what);
		return -EPROTO;
	}
	if (fz_chance(f, 30))
		usleep(fz_below(f, 2000));
	fz_close(f, slot);
	return fz_open(f, slot, 0);
}

static int fz_one(struct fz *f)
{
	unsigned int slot = fz_below(f, FZ_SLOTS), r, total = 0, i;
	struct fz_cmd *c = calloc(1, sizeof(*c));
	enum fz_op op = FZ_OP_CMD;
	size_t len;
	int fd, ret = 0;

	if (!c)
		return -ENOMEM;
	for (i = 0; i < FZ_OP_NR; i++)
		total += fz_weight[i];
	r = fz_below(f, total);
	for (i = 0; i < FZ_OP_NR; i++) {
		if (r < fz_weight[i]) {
			op = i;
			break;
		}
		r -= fz_weight[i];
	}
	f->op_count[op]++;
	fz_build(f, c, op == FZ_OP_BAD_AUTH);
	fz_describe(f, op, c, slot);
	fd = f->fd[slot];
	alarm(FZ_ALARM_S);

	switch (op) {
	case FZ_OP_CMD:
	case FZ_OP_BAD_AUTH:
		ret = fz_xfer(f, fd, c);
		break;
	case FZ_OP_TRUNC:
		c->len = 10 + fz_below(f, c->len - 9);
		fz_set_size(c, c->len);
		ret = fz_xfer(f, fd, c);
		break;
	case FZ_OP_MISMATCH:
		len = c->len;
		while (len == c->len)
			len = fz_chance(f, 50) ? fz_rand(f) :
			      c->len + fz_below(f, 9) - 4;
		fz_set_size(c, len);
		ret = fz_expect_errno(f, fd, c->b, c->len, EINVAL);
		break;
	case FZ_OP_SHORT:
		ret = fz_expect_errno(f, fd, c->b, fz_below(f, 10), EINVAL);
		break;
	case FZ_OP_BIG:
		len = TPM2_BUF_SIZE + 1 + fz_below(f, FZ_MAX_CMD -
						    TPM2_BUF_SIZE - 1);
		fz_bytes(f, c->b + c->len, len - c->len);
		c->len = len;
		fz_set_size(c, len);
		ret = fz_expect_errno(f, fd, c->b, len, E2BIG);
		break;
	case FZ_OP_BAD_TAG:
		do {
			c->b[0] = fz_rand(f);
			c->b[1] = fz_rand(f);
		} while (tpm2_get16(c->b) == TPM2_ST_SESSIONS ||
			 tpm2_get16(c->b) == TPM2_ST_NO_SESSIONS);
		fz_describe(f, op, c, slot);
		ret = fz_xfer(f, fd, c);
		/* The handle area is checked first (tpm2_rm_cmd_parse()). */
		if (!ret && c->known && tpm2_get32(f->rsp + 6) != FZ_RC_BAD_TAG &&
		    tpm2_get32(f->rsp + 6) != FZ_RC_COMMAND_SIZE) {
			fprintf(stderr, "# bad tag answered 0x%x: %s\n",
				tpm2_get32(f->rsp + 6), f->what);
			ret = -EPROTO;
		}
		break;
	case FZ_OP_NONBLOCK:
		ret = fz_nonblock(f, fd, c);
		break;
	case FZ_OP_BUSY:
		ret = fz_busy(f, fd, c);
		break;
	case FZ_OP_PARTIAL:
		ret = fz_partial(f, fd, c);
		break;
	case FZ_OP_CLOSE_BUSY:
		ret = fz_close_busy(f, slot, c);
		break;
	default:
		fz_close(f, slot);
		ret = fz_open(f, slot, fz_chance(f, 50));
		break;
	}
	alarm(0);
	free(c);
	return ret;
}

/* After the run: a fresh space signs, verifies and sees no stale handle. */
static int fz_sign_round_trip(void)
{
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_session s;
	struct tpm2_auth auth = { &s, TPM2_SA_CONTINUE_SESSION };
	struct tpm2_sig sig;
	struct tpm2_key k;
	int fd, ret, hmac_ok = 0;

	fd = tpm2_open(TPM2_RM_DEV, 0);
	if (fd < 0)
		return fd;
	ret = tpm2_create_primary(fd, TPM2_KEY_SIGN, NULL, 0, &k);
	if (!ret)
		ret = tpm2_start_session(fd, TPM2_SE_HMAC, &s);
	tpm2_random(digest, sizeof(digest));
	if (!ret)
		ret = tpm2_sign(fd, &k, &auth, digest, &sig, &hmac_ok);
	if (!ret && hmac_ok != 1)
		ret = -EBADMSG;
	if (!ret)
		ret = tpm2_verify(fd, k.handle, digest, &sig);
	digest[0] ^= 1;
	if (!ret && !tpm2_verify(fd, k.handle, digest, &sig))
		ret = -EBADMSG;
	close(fd);
	return ret;
}

FIXTURE(fuzz) {
	struct fz *f;
};

FIXTURE_SETUP(fuzz)
{
	unsigned int i;
	int fd, n;

	self->f = calloc(1, sizeof(*self->f));
	ASSERT_NE(NULL, self->f);
	fz_current = self->f;
	self->f->rng = fz_seed;
	for (i = 0; i < FZ_SLOTS; i++)
		self->f->fd[i] = -1;
	fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, fd);
	n = tpm2_get_commands(fd, self->f->cca, TPM2_MAX_COMMANDS);
	close(fd);
	ASSERT_LT(10, n);
	self->f->nr_cca = n;
	for (i = 0; i < FZ_SLOTS; i++)
		ASSERT_EQ(0, fz_open(self->f, i, i < 2));
	signal(SIGALRM, fz_alarm);
}

FIXTURE_TEARDOWN(fuzz)
{
	unsigned int i;

	for (i = 0; i < FZ_SLOTS; i++)
		fz_close(self->f, i);
	free(self->f);
}

TEST_F_TIMEOUT(fuzz, mutations, 3600)
{
	unsigned long count = tpm2_env_extended() ? FZ_COUNT_EXTENDED :
			      tpm2_env_debug() ? FZ_COUNT_DEBUG : FZ_COUNT;
	struct fz *f = self->f;
	struct timespec t0, t1;
	uint32_t handles[64];
	uint64_t objs, sess;
	double secs;
	unsigned int i;
	int fd, n;

	count = tpm2_env_ulong("TPMRM_FUZZ_COUNT", count);
	TH_LOG("seed %llu (replay: TPMRM_FUZZ_SEED=%llu), %lu commands, %u command codes",
	       fz_seed, fz_seed, count, f->nr_cca);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (f->cmds < count)
		ASSERT_EQ(0, fz_one(f)) TH_LOG("seed %llu", fz_seed);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	TH_LOG("%lu commands in %.1f s: %.0f commands/s",
	       f->cmds, secs, f->cmds / secs);
	TH_LOG("responses: %lu TPM success, %lu TPM error, %lu RM error; %lu EINVAL; %lu entities",
	       f->ok_rc, f->tpm_rc, f->rm_rc, f->einval, f->entities);
	for (i = 0; i < FZ_OP_NR; i++)
		TH_LOG("  %-10s %lu", fz_op_name[i], f->op_count[i]);

	for (i = 0; i < FZ_SLOTS; i++)
		fz_close(f, i);
	ASSERT_EQ(0, fz_sign_round_trip());
	if (tpm2_rm_has_counters()) {
		ASSERT_EQ(0, tpm2_rm_counter("resident_objects", &objs));
		ASSERT_EQ(0, tpm2_rm_counter("resident_sessions", &sess));
		TH_LOG("resident with no file open: %llu objects, %llu sessions",
		       (unsigned long long)objs, (unsigned long long)sess);
		ASSERT_EQ(0, objs);
		ASSERT_EQ(0, sess);
	}
	/* The raw device sees what the RM left: no object it forgot. */
	fd = tpm2_open(TPM2_RAW_DEV, 0);
	if (fd >= 0) {
		n = tpm2_handles_by_type(fd, TPM2_HT_TRANSIENT, handles, 64);
		close(fd);
		TH_LOG("transient objects left in the TPM: %d", n);
		ASSERT_EQ(0, n);
	}
}

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : getenv("TPMRM_FUZZ_SEED");

	if (s && *s) {
		fz_seed = strtoull(s, NULL, 0);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		fz_seed = (unsigned long long)ts.tv_sec * 1000003ULL ^
			  ts.tv_nsec ^ getpid();
	}
	if (access(TPM2_RM_DEV, F_OK)) {
		ksft_print_header();
		ksft_exit_skip(TPM2_RM_DEV " not present\n");
	}
	printf("# tpmrm_fuzz_test seed %llu\n", fz_seed);
	return test_harness_run(argc, argv);
}
