// SPDX-License-Identifier: GPL-2.0
/*
 * Stress test for the TPM resource manager: many processes at once.
 *
 * Process 0 is a raw /dev/tpm0 user (root): it creates, uses and flushes
 * its own transient keys while the RM serves everyone else, and it is the
 * single writer of PCR 23, extended with a known digest chain (the kernel
 * in the test configuration has no in-kernel PCR_Extend user such as IMA,
 * so the extends go through the raw device). Process 1 reads /dev/hwrng,
 * which the kernel serves with tpm_get_random(). Every other process is a
 * /dev/tpmrm0 client doing a random mix of: sign and verify with its key,
 * a fresh primary key, an HMAC session, a policy session, ContextSave and
 * ContextLoad of its key and of a session, flushes (and use after flush),
 * GetRandom, a read of PCR 23, and close with a command in flight.
 *
 * Every result is checked: each signature with TPM2_VerifySignature (and
 * a tampered digest must fail), every response HMAC, the policy digest
 * against one computed in software, random lengths, PCR 23 against the
 * chain (readers must see chain values in order), and handles after a
 * flush must be refused. Sizes: TPMRM_STRESS_PROCS and TPMRM_STRESS_OPS
 * override the defaults below.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

/*
 * 64 processes x 1000 operations with TPMRM_EXTENDED=1. In make check the
 * operations per process are fewer: measured in QEMU TCG, the clients
 * together manage about 28 operations/s on the minimal kernel (crb) and 8
 * on the debug kernel, so 64 x 1000 would take over half an hour a boot.
 */
#define ST_PROCS		64
#define ST_OPS			1000
#define ST_OPS_CHECK		25
#define ST_OPS_DEBUG		5
#define ST_PCR			23
/* RM-layer TPM_RC_SESSION_MEMORY: a quota or the chip's session pool. */
#define ST_SESSION_QUOTA	0x000B0903
#define ST_RETRY		-2
#define ST_MAX_RETRIES		2000
#define ST_MAX_CHAIN		(ST_OPS * 4 + 1)
#define ST_HWRNG		"/dev/hwrng"
#define ST_RNG_CURRENT		"/sys/class/misc/hw_random/rng_current"

enum st_op {
	ST_SIGN, ST_PRIMARY, ST_HMAC, ST_POLICY, ST_SAVE_KEY, ST_SAVE_SESSION,
	ST_FLUSH, ST_RANDOM, ST_PCR_READ, ST_CLOSE_BUSY, ST_NR_OPS
};

static const char *const st_op_name[ST_NR_OPS] = {
	"sign", "primary", "hmac", "policy", "save_key", "save_session",
	"flush", "random", "pcr_read", "close_busy",
};

/* Shared between the processes (MAP_SHARED). */
struct st_shared {
	unsigned long ops[ST_NR_OPS];		/* summed by the parent */
	unsigned long raw_ops, pcr_extends, hwrng_reads, hwrng_bytes;
	unsigned long quota_retries;		/* 0x000B0903, tried again */
	unsigned int chain_len;			/* written by process 0 */
	uint8_t chain[ST_MAX_CHAIN][TPM2_DIGEST_SIZE];
};

struct st_worker {
	unsigned int id;
	unsigned long long rng;
	int fd;
	struct tpm2_key key;
	struct tpm2_auth pw;
	struct st_shared *sh;
	unsigned int last_chain;
	unsigned long ops[ST_NR_OPS];
};

static unsigned int st_rand(struct st_worker *w, unsigned int n)
{
	unsigned long long z = (w->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31)) % n;
}

/* Reports a failed check of process @w; returns -1. */
static int __attribute__((format(printf, 2, 3)))
st_fail(const struct st_worker *w, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "# proc %u: ", w->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Sign a random digest; verify it, and a tampered digest must fail. */
static int st_sign_verify(struct st_worker *w, int fd,
			  const struct tpm2_key *k, struct tpm2_auth *auth)
{
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	int ret, hmac_ok = -1;

	tpm2_random(digest, sizeof(digest));
	ret = tpm2_sign(fd, k, auth, digest, &sig, &hmac_ok);
	if (ret)
		return st_fail(w, "sign with 0x%08x: %d (0x%x)", k->handle, ret, ret);
	if (auth && auth->sess && auth->sess->type == TPM2_SE_HMAC &&
	    hmac_ok != 1)
		return st_fail(w, "sign: response HMAC %d", hmac_ok);
	ret = tpm2_verify(fd, k->handle, digest, &sig);
	if (ret)
		return st_fail(w, "verify: %d (0x%x)", ret, ret);
	if (st_rand(w, 4))
		return 0;
	digest[st_rand(w, sizeof(digest))] ^= 1 << st_rand(w, 8);
	if (!tpm2_verify(fd, k->handle, digest, &sig))
		return st_fail(w, "tampered digest verified");
	return 0;
}

static int st_op_primary(struct st_worker *w)
{
	struct tpm2_key k;
	int ret;

	ret = tpm2_create_primary(w->fd, TPM2_KEY_SIGN, NULL, 0, &k);
	if (ret)
		return st_fail(w, "create primary: %d (0x%x)", ret, ret);
	if (st_sign_verify(w, w->fd, &k, NULL))
		return -1;
	ret = tpm2_flush(w->fd, k.handle);
	if (ret)
		return st_fail(w, "flush primary: 0x%x", ret);
	return 0;
}

static int st_op_hmac(struct st_worker *w)
{
	struct tpm2_session s;
	struct tpm2_auth auth = { &s, TPM2_SA_CONTINUE_SESSION };
	int ret, i, n = 1 + st_rand(w, 3);

	ret = tpm2_start_session(w->fd, TPM2_SE_HMAC, &s);
	if (ret == ST_SESSION_QUOTA)
		return ST_RETRY;
	if (ret)
		return st_fail(w, "start HMAC session: %d (0x%x)", ret, ret);
	for (i = 0; i < n; i++)
		if (st_sign_verify(w, w->fd, &w->key, &auth))
			return -1;
	/* Without continueSession the session ends with the command. */
	if (st_rand(w, 2)) {
		auth.attrs = 0;
		if (st_sign_verify(w, w->fd, &w->key, &auth))
			return -1;
		ret = tpm2_flush(w->fd, s.handle);
		if (!tpm2_rc_is_handle_refusal(ret))
			return st_fail(w, "flush of an ended session: 0x%x", ret);
		return 0;
	}
	ret = tpm2_flush(w->fd, s.handle);
	if (ret)
		return st_fail(w, "flush HMAC session: 0x%x", ret);
	return 0;
}

/* PolicyCommandCode(Sign): the TPM's digest equals the one computed here. */
static int st_op_policy(struct st_worker *w)
{
	uint8_t expect[TPM2_DIGEST_SIZE] = { 0 }, got[TPM2_DIGEST_SIZE];
	struct tpm2_session s;
	int ret;

	ret = tpm2_start_session(w->fd, TPM2_SE_POLICY, &s);
	if (ret == ST_SESSION_QUOTA)
		return ST_RETRY;
	if (ret)
		return st_fail(w, "start policy session: %d (0x%x)", ret, ret);
	ret = tpm2_policy_command_code(w->fd, s.handle, TPM2_CC_SIGN);
	if (ret)
		return st_fail(w, "PolicyCommandCode: 0x%x", ret);
	tpm2_policy_extend_cc(expect, TPM2_CC_SIGN);
	ret = tpm2_policy_get_digest(w->fd, s.handle, got);
	if (ret)
		return st_fail(w, "PolicyGetDigest: 0x%x", ret);
	if (memcmp(expect, got, sizeof(got)))
		return st_fail(w, "policy digest differs from the computed one");
	ret = tpm2_flush(w->fd, s.handle);
	if (ret)
		return st_fail(w, "flush policy session: 0x%x", ret);
	return 0;
}

/* ContextSave the key, flush it, load it back: same name, still signs. */
static int st_op_save_key(struct st_worker *w)
{
	struct tpm2_context *ctx = malloc(sizeof(*ctx));
	struct tpm2_name name;
	uint32_t old = w->key.handle, h;
	int ret;

	if (!ctx)
		return -1;
	ret = tpm2_context_save(w->fd, old, ctx);
	if (!ret)
		ret = tpm2_flush(w->fd, old);
	if (!ret)
		ret = tpm2_context_load(w->fd, ctx, &h);
	free(ctx);
	if (ret)
		return st_fail(w, "save/flush/load key: %d (0x%x)", ret, ret);
	w->key.handle = h;
	ret = tpm2_read_public(w->fd, h, &name);
	if (ret || name.size != w->key.name.size ||
	    memcmp(name.buf, w->key.name.buf, name.size))
		return st_fail(w, "reloaded key has another name (%d)", ret);
	return st_sign_verify(w, w->fd, &w->key, &w->pw);
}

/* ContextSave an HMAC session, load it back, its HMACs still check. */
static int st_op_save_session(struct st_worker *w)
{
	struct tpm2_context *ctx = malloc(sizeof(*ctx));
	struct tpm2_session s;
	struct tpm2_auth auth = { &s, TPM2_SA_CONTINUE_SESSION };
	uint32_t h;
	int ret;

	if (!ctx)
		return -1;
	ret = tpm2_start_session(w->fd, TPM2_SE_HMAC, &s);
	if (!ret)
		ret = tpm2_context_save(w->fd, s.handle, ctx);
	if (!ret)
		ret = tpm2_context_load(w->fd, ctx, &h);
	free(ctx);
	if (ret == ST_SESSION_QUOTA)
		return ST_RETRY;
	if (ret)
		return st_fail(w, "session save/load: %d (0x%x)", ret, ret);
	if (h != s.handle)
		return st_fail(w, "session 0x%08x came back as 0x%08x", s.handle, h);
	if (st_sign_verify(w, w->fd, &w->key, &auth))
		return -1;
	ret = tpm2_flush(w->fd, s.handle);
	if (ret)
		return st_fail(w, "flush reloaded session: 0x%x", ret);
	return 0;
}

/* A flushed key's handle is refused afterwards. */
static int st_op_flush(struct st_worker *w)
{
	struct tpm2_name name;
	struct tpm2_key k;
	int ret;

	ret = tpm2_create_primary(w->fd, TPM2_KEY_SIGN, NULL, 0, &k);
	if (ret)
		return st_fail(w, "create primary: %d (0x%x)", ret, ret);
	ret = tpm2_flush(w->fd, k.handle);
	if (ret)
		return st_fail(w, "flush: 0x%x", ret);
	ret = tpm2_read_public(w->fd, k.handle, &name);
	if (!tpm2_rc_is_handle_refusal(ret))
		return st_fail(w, "ReadPublic after flush: %d (0x%x)", ret, ret);
	return 0;
}

static int st_op_random(struct st_worker *w)
{
	uint8_t buf[64];
	uint16_t n = 1 + st_rand(w, sizeof(buf));
	int ret;

	ret = tpm2_get_random(w->fd, n, buf);
	if (ret)
		return st_fail(w, "GetRandom(%u): %d (0x%x)", n, ret, ret);
	return 0;
}

/* PCR 23 must hold a value of the writer's chain, never going back. */
static int st_op_pcr_read(struct st_worker *w)
{
	uint8_t v[TPM2_DIGEST_SIZE];
	unsigned int i, len;
	int ret;

	ret = tpm2_pcr_read(w->fd, ST_PCR, v);
	if (ret)
		return st_fail(w, "PCR_Read: %d (0x%x)", ret, ret);
	len = __atomic_load_n(&w->sh->chain_len, __ATOMIC_ACQUIRE);
	for (i = w->last_chain; i < len; i++) {
		if (!memcmp(v, w->sh->chain[i], sizeof(v))) {
			w->last_chain = i;
			return 0;
		}
	}
	return st_fail(w, "PCR %u is not in the chain after entry %u of %u", ST_PCR,
		w->last_chain, len);
}

/* Close a second file with a command still queued or running. */
static int st_op_close_busy(struct st_worker *w)
{
	uint8_t cmd[12] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 32 };
	int fd = tpm2_open(TPM2_RM_DEV, O_NONBLOCK);

	if (fd < 0)
		return st_fail(w, "open: %d", fd);
	if (write(fd, cmd, sizeof(cmd)) != sizeof(cmd))
		return st_fail(w, "non-blocking GetRandom write: %s", strerror(errno));
	close(fd);
	return 0;
}

static int st_client(struct st_worker *w, unsigned int ops)
{
	static int (*const fn[ST_NR_OPS])(struct st_worker *) = {
		NULL, st_op_primary, st_op_hmac, st_op_policy, st_op_save_key,
		st_op_save_session, st_op_flush, st_op_random, st_op_pcr_read,
		st_op_close_busy,
	};
	static const unsigned int weight[ST_NR_OPS] = {
		25, 5, 12, 10, 10, 8, 5, 10, 10, 5,
	};
	unsigned int i, r, op, retries = 0;
	int ret;

	w->fd = tpm2_open(TPM2_RM_DEV, 0);
	if (w->fd < 0)
		return st_fail(w, "open %s: %d", TPM2_RM_DEV, w->fd);
	ret = tpm2_create_primary(w->fd, TPM2_KEY_SIGN, NULL, 0, &w->key);
	if (ret)
		return st_fail(w, "create primary: %d (0x%x)", ret, ret);
	for (i = 0; i < ops; i++) {
		r = st_rand(w, 100);
		for (op = 0; r >= weight[op]; op++)
			r -= weight[op];
		w->ops[op]++;
		if (op == ST_SIGN)
			ret = st_sign_verify(w, w->fd, &w->key, &w->pw);
		else
			ret = fn[op](w);
		/*
		 * 62 processes of one user share its session quota and the
		 * chip's pool: a refusal is a correct answer, so wait and
		 * try the operation again.
		 */
		if (ret == ST_RETRY && retries++ < ST_MAX_RETRIES) {
			__atomic_add_fetch(&w->sh->quota_retries, 1,
					   __ATOMIC_RELAXED);
			w->ops[op]--;
			i--;
			usleep(1000 + st_rand(w, 10000));
			continue;
		}
		if (ret) {
			fprintf(stderr, "# proc %u: operation %u (%s) failed\n",
				w->id, i, st_op_name[op]);
			return -1;
		}
	}
	close(w->fd);
	for (op = 0; op < ST_NR_OPS; op++)
		__atomic_add_fetch(&w->sh->ops[op], w->ops[op],
				   __ATOMIC_RELAXED);
	return 0;
}

/* Extends PCR 23 with the next chain digest and reads it back. */
static int st_raw_extend(struct st_worker *w, int fd)
{
	struct st_shared *sh = w->sh;
	uint8_t d[TPM2_DIGEST_SIZE], buf[2 * TPM2_DIGEST_SIZE], v[32];
	unsigned int n = sh->chain_len;
	int ret;

	if (n >= ST_MAX_CHAIN)
		return 0;
	tpm2_random(d, sizeof(d));
	memcpy(buf, sh->chain[n - 1], TPM2_DIGEST_SIZE);
	memcpy(buf + TPM2_DIGEST_SIZE, d, TPM2_DIGEST_SIZE);
	tpm2_sha256(buf, sizeof(buf), sh->chain[n]);
	/* Publish the value before the TPM can hold it. */
	__atomic_store_n(&sh->chain_len, n + 1, __ATOMIC_RELEASE);
	ret = tpm2_pcr_extend(fd, ST_PCR, d);
	if (ret)
		return st_fail(w, "raw PCR_Extend: %d (0x%x)", ret, ret);
	ret = tpm2_pcr_read(fd, ST_PCR, v);
	if (ret || memcmp(v, sh->chain[n], sizeof(v)))
		return st_fail(w, "raw PCR_Read after extend %u: %d", n, ret);
	sh->pcr_extends++;
	return 0;
}

/* Transient work on the raw device: its handles are real and its own. */
static int st_raw(struct st_worker *w, unsigned int ops)
{
	unsigned int i;
	struct tpm2_key k;
	int fd, ret;

	fd = tpm2_open(TPM2_RAW_DEV, 0);
	if (fd < 0)
		return st_fail(w, "open %s: %d", TPM2_RAW_DEV, fd);
	for (i = 0; i < ops; i++) {
		if (st_rand(w, 2)) {
			if (st_raw_extend(w, fd))
				return -1;
			continue;
		}
		ret = tpm2_create_primary(fd, TPM2_KEY_SIGN, NULL, 0, &k);
		if (ret)
			return st_fail(w, "raw create primary: %d (0x%x)", ret, ret);
		if (st_sign_verify(w, fd, &k, NULL))
			return -1;
		ret = tpm2_flush(fd, k.handle);
		if (ret)
			return st_fail(w, "raw flush: 0x%x", ret);
		w->sh->raw_ops++;
	}
	close(fd);
	return 0;
}

/* The kernel's own TPM user: hwrng reads come from tpm_get_random(). */
static int st_hwrng(struct st_worker *w, unsigned int ops)
{
	uint8_t buf[64], zero[64] = { 0 };
	unsigned int i;
	size_t want;
	ssize_t n;
	int fd;

	fd = open(ST_HWRNG, O_RDONLY);
	if (fd < 0)
		return st_fail(w, "open %s: %s", ST_HWRNG, strerror(errno));
	for (i = 0; i < ops; i++) {
		want = 1 + st_rand(w, sizeof(buf));
		n = read(fd, buf, want);
		if (n <= 0 || (size_t)n > want)
			return st_fail(w, "hwrng read of %zu: %zd (%s)", want, n,
				n < 0 ? strerror(errno) : "-");
		if (n >= 16 && !memcmp(buf, zero, n))
			return st_fail(w, "hwrng returned %zd zero bytes", n);
		w->sh->hwrng_reads++;
		w->sh->hwrng_bytes += n;
	}
	close(fd);
	return 0;
}

static int st_rng_is_tpm(void)
{
	char buf[64] = "";
	ssize_t n;
	int fd;

	fd = open(ST_RNG_CURRENT, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && !strncmp(buf, "tpm-rng", 7);
}

static int st_run(struct st_shared *sh, unsigned int id, unsigned int ops,
		  unsigned long long seed)
{
	struct st_worker w = {
		.id = id, .rng = seed + id * 0x1000193ULL, .sh = sh,
		.pw = { NULL, 0 },
	};

	if (id == 0)
		return st_raw(&w, ops);
	if (id == 1)
		return st_hwrng(&w, ops);
	return st_client(&w, ops);
}

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, many_processes, 3600)
{
	unsigned int procs = tpm2_env_ulong("TPMRM_STRESS_PROCS", ST_PROCS);
	unsigned int ops = tpm2_env_extended() ? ST_OPS :
			   tpm2_env_debug() ? ST_OPS_DEBUG : ST_OPS_CHECK;
	unsigned long long seed = time(NULL);
	struct timespec t0, t1;
	struct st_shared *sh;
	unsigned int i, failed = 0, op;
	unsigned long total = 0;
	uint8_t v[TPM2_DIGEST_SIZE];
	uint64_t objs, sess;
	pid_t pid;
	int status, fd;

	ops = tpm2_env_ulong("TPMRM_STRESS_OPS", ops);
	ASSERT_LE(3, procs);
	ASSERT_GE(ST_MAX_CHAIN - 1, ops);
	ASSERT_EQ(1, st_rng_is_tpm()) TH_LOG("hwrng is not the TPM");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	/* PCR 23 starts from zero; process 0 is its only writer. */
	fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tpm2_pcr_reset(fd, ST_PCR));
	close(fd);
	memset(sh->chain[0], 0, TPM2_DIGEST_SIZE);
	sh->chain_len = 1;
	TH_LOG("%u processes x %u operations, seed %llu", procs, ops, seed);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < procs; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(st_run(sh, i, ops, seed) ? 1 : 0);
	}
	for (i = 0; i < procs; i++) {
		pid = wait(&status);
		ASSERT_LT(0, pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (op = 0; op < ST_NR_OPS; op++) {
		TH_LOG("  %-12s %lu", st_op_name[op], sh->ops[op]);
		total += sh->ops[op];
	}
	TH_LOG("%lu client operations in %.1f s, %u processes failed",
	       total, (t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9, failed);
	TH_LOG("session quota refusals tried again: %lu", sh->quota_retries);
	TH_LOG("raw: %lu key operations, %lu PCR extends; hwrng: %lu reads, %lu bytes",
	       sh->raw_ops, sh->pcr_extends, sh->hwrng_reads,
	       sh->hwrng_bytes);
	EXPECT_EQ(0, failed);
	EXPECT_EQ((unsigned long)(procs - 2) * ops, total);
	EXPECT_EQ(ops, sh->raw_ops + sh->pcr_extends);
	EXPECT_EQ(ops, sh->hwrng_reads);

	/* The final PCR value is the end of the chain. */
	fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tpm2_pcr_read(fd, ST_PCR, v));
	close(fd);
	EXPECT_EQ(0, memcmp(v, sh->chain[sh->chain_len - 1], sizeof(v)));
	if (tpm2_rm_has_counters()) {
		ASSERT_EQ(0, tpm2_rm_counter("resident_objects", &objs));
		ASSERT_EQ(0, tpm2_rm_counter("resident_sessions", &sess));
		EXPECT_EQ(0, objs);
		EXPECT_EQ(0, sess);
	}
	munmap(sh, sizeof(*sh));
}

TPMRM_TEST_MAIN()
