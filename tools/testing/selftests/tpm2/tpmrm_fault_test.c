// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection into the TPM resource manager's own round trips.
 *
 * The RM sends ContextSave, ContextLoad and FlushContext through helpers
 * marked ALLOW_ERROR_INJECTION, and allocates every context blob in one
 * (tpm2_rm_blob_dup()). With CONFIG_FAIL_FUNCTION (the debug kernel) this
 * test makes each of them fail, once or several times, while four spaces
 * sign round-robin with a key and two HMAC sessions each (more than the
 * three object and three session slots of swtpm), then checks:
 *  - every command gets a correct result (the signature verifies, the
 *    response HMAC checks) or a clean error: an errno, an RM-layer code or
 *    the TPM's own TPM_RC_OBJECT_MEMORY/SESSION_MEMORY;
 *  - the RM's resident_objects and resident_sessions agree with the
 *    transient objects and loaded sessions a raw /dev/tpm0 user sees;
 *  - every key, and every session that was not lost, works afterwards.
 * The harness scans kmemleak at the end of the debug boot.
 * TPMRM_EXTENDED=1 runs more rounds with more faults.
 * Without fail_function (the minimal kernel) or without the helpers (the
 * old RM) every test is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define FF_DIR		TPM2_FF_DIR
#define NR_SPACES	4	/* 4 keys for 3 object slots */
#define NR_SESSIONS	2	/* per space: 6 sessions for 3 slots */
#define TPM2_RC_OBJECT_MEMORY	0x902
#define TPM2_RC_SESSION_MEMORY	0x903
/* RM-layer TPM_RC_HANDLE for FlushContext's parameter 1 */
#define FLUSH_UNKNOWN		(TPM2_RC_RESMGR_LAYER | 0x1cb)

struct space {
	int fd;
	struct tpm2_key parent;
	struct tpm2_key key;
	struct tpm2_session sess[NR_SESSIONS];
};

/* What one phase of the workload saw. */
struct tally {
	unsigned int ok;	/* correct results */
	unsigned int errors;	/* clean errors */
	unsigned int refused;	/* RM-layer refusals (lost sessions) */
};

static long ff_read(const char *file)
{
	char path[256];
	uint64_t val;
	int rc;

	snprintf(path, sizeof(path), FF_DIR "/%s", file);
	rc = tpm2_read_u64(path, &val);
	return rc ? rc : (long)val;
}

/* Remove every injection point; 0 or a negative errno. */
static int fault_disarm(void)
{
	return tpm2_ff_write("inject", " ");
}

/*
 * Make the next @times calls of @fn return @retval (a 64-bit two's
 * complement number, as fail_function/<fn>/retval takes it).
 */
static int fault_arm(const char *fn, const char *retval, int times)
{
	char file[128], n[16];
	int rc;

	rc = tpm2_ff_write("inject", fn);
	if (rc)
		return rc;
	snprintf(file, sizeof(file), "%s/retval", fn);
	snprintf(n, sizeof(n), "%d", times);
	if (tpm2_ff_write(file, retval) || tpm2_ff_write("probability", "100") ||
	    tpm2_ff_write("interval", "1") || tpm2_ff_write("verbose", "0") ||
	    tpm2_ff_write("space", "0") || tpm2_ff_write("task-filter", "N") ||
	    tpm2_ff_write("times", n))
		return -EIO;
	return 0;
}

static int extended(void)
{
	const char *e = getenv("TPMRM_EXTENDED");

	return e && !strcmp(e, "1");
}

/* A refusal the RM or the TPM may give when a round trip failed. */
static int clean_error(int rc)
{
	if (rc == -EIO || rc == -ENOMEM)
		return 1;
	if (rc > 0 && tpm2_rc_is_rm_layer(rc))
		return 1;
	return rc == TPM2_RC_OBJECT_MEMORY || rc == TPM2_RC_SESSION_MEMORY;
}

static void space_setup(struct __test_metadata *_metadata, struct space *sp)
{
	int j;

	sp->fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, sp->fd);
	ASSERT_EQ(0, tpm2_create_primary(sp->fd, TPM2_KEY_STORAGE, NULL, 0,
					 &sp->parent));
	ASSERT_EQ(0, tpm2_create(sp->fd, &sp->parent, NULL, TPM2_KEY_SIGN,
				 NULL, 0, &sp->key));
	ASSERT_EQ(0, tpm2_load(sp->fd, &sp->parent, NULL, &sp->key));
	for (j = 0; j < NR_SESSIONS; j++)
		ASSERT_EQ(0, tpm2_start_session(sp->fd, TPM2_SE_HMAC,
						&sp->sess[j]));
}

/*
 * Sign with the space's key under session @j and verify the signature.
 * Returns 0 for a correct result, else the first error (checked clean).
 */
static int sign_once(struct __test_metadata *_metadata, struct space *sp,
		     int j)
{
	struct tpm2_auth a = { &sp->sess[j], TPM2_SA_CONTINUE_SESSION };
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	int rc, ok = -1;

	tpm2_random(digest, sizeof(digest));
	rc = tpm2_sign(sp->fd, &sp->key, &a, digest, &sig, &ok);
	if (!rc) {
		/* The response HMAC proves the session's nonces were kept. */
		EXPECT_EQ(1, ok);
		rc = tpm2_verify(sp->fd, sp->key.handle, digest, &sig);
	}
	if (rc) {
		EXPECT_TRUE(clean_error(rc)) {
			TH_LOG("space fd %d session %d: unclean error %d (0x%x)",
			       sp->fd, j, rc, rc);
		}
	}
	return rc;
}

/* One round: every space signs once with each of its sessions. */
static void round_robin(struct __test_metadata *_metadata, struct space *sp,
			struct tally *t)
{
	int i, j, rc;

	for (i = 0; i < NR_SPACES; i++)
		for (j = 0; j < NR_SESSIONS; j++) {
			rc = sign_once(_metadata, &sp[i], j);
			if (!rc)
				t->ok++;
			else
				t->errors++;
		}
}

/*
 * The RM's residency counters must match what the TPM holds. A raw
 * command first makes the RM evict everything it can, so both sides are
 * read after it: a slot the RM forgot, or one it counts but the TPM does
 * not hold, shows as a difference.
 */
static void check_residency(struct __test_metadata *_metadata)
{
	uint32_t h[64];
	uint64_t objs, sess;
	int raw, n_objs, n_sess;

	ASSERT_EQ(0, tpm2_rm_counter("resident_objects", &objs));
	ASSERT_EQ(0, tpm2_rm_counter("resident_sessions", &sess));
	EXPECT_GE(3, objs);
	EXPECT_GE(3, sess);
	raw = tpm2_open(TPM2_RAW_DEV, 0);
	ASSERT_LE(0, raw);
	n_objs = tpm2_handles_by_type(raw, TPM2_HT_TRANSIENT, h, 64);
	n_sess = tpm2_handles_by_type(raw, TPM2_HT_LOADED_SESSION, h, 64);
	close(raw);
	ASSERT_LE(0, n_objs);
	ASSERT_LE(0, n_sess);
	ASSERT_EQ(0, tpm2_rm_counter("resident_objects", &objs));
	ASSERT_EQ(0, tpm2_rm_counter("resident_sessions", &sess));
	TH_LOG("TPM holds %d objects, %d sessions; RM counts %llu, %llu",
	       n_objs, n_sess, (unsigned long long)objs,
	       (unsigned long long)sess);
	EXPECT_EQ(n_objs, (int)objs);
	EXPECT_EQ(n_sess, (int)sess);
}

/*
 * After the faults every key must sign. A session may have been lost only
 * where the fault allows it (a session the TPM saved whose blob the RM
 * could not allocate): it is then refused in the RM layer, and it can be
 * flushed and replaced.
 */
static void check_working(struct __test_metadata *_metadata,
			  struct space *sp, int may_lose, struct tally *t)
{
	int i, j, rc;

	for (i = 0; i < NR_SPACES; i++)
		for (j = 0; j < NR_SESSIONS; j++) {
			rc = sign_once(_metadata, &sp[i], j);
			if (!rc) {
				t->ok++;
				continue;
			}
			ASSERT_TRUE(may_lose && rc > 0 &&
				    tpm2_rc_is_rm_layer(rc)) {
				TH_LOG("space %d session %d fails after the faults: 0x%x",
				       i, j, rc);
			}
			t->refused++;
			/*
			 * The refusal was the lost session's one failure: the
			 * RM has forgotten it, and flushing it gets the
			 * TPM_RC_HANDLE a flushed session gets.
			 */
			rc = tpm2_flush(sp[i].fd, sp[i].sess[j].handle);
			EXPECT_TRUE(rc == 0 || rc == FLUSH_UNKNOWN) {
				TH_LOG("flush of a lost session: 0x%x", rc);
			}
			ASSERT_EQ(0, tpm2_start_session(sp[i].fd, TPM2_SE_HMAC,
							&sp[i].sess[j]));
			ASSERT_EQ(0, sign_once(_metadata, &sp[i], j));
		}
}

FIXTURE(fault) {
	struct space sp[NR_SPACES];
	int armed;
};

FIXTURE_VARIANT(fault) {
	const char *fn;
	const char *retval;	/* -EIO, or NULL for the allocator */
	int times;
	int may_lose;		/* a lost session is a correct outcome */
};

#define EIO_RETVAL	"0xfffffffffffffffb"

FIXTURE_VARIANT_ADD(fault, context_load_once) {
	.fn = "tpm2_rm_send_context_load", .retval = EIO_RETVAL, .times = 1,
};

FIXTURE_VARIANT_ADD(fault, context_load_many) {
	.fn = "tpm2_rm_send_context_load", .retval = EIO_RETVAL, .times = 8,
};

FIXTURE_VARIANT_ADD(fault, context_save_once) {
	.fn = "tpm2_rm_send_context_save", .retval = EIO_RETVAL, .times = 1,
};

FIXTURE_VARIANT_ADD(fault, context_save_many) {
	.fn = "tpm2_rm_send_context_save", .retval = EIO_RETVAL, .times = 8,
};

FIXTURE_VARIANT_ADD(fault, flush_once) {
	.fn = "tpm2_rm_send_flush", .retval = EIO_RETVAL, .times = 1,
};

FIXTURE_VARIANT_ADD(fault, flush_many) {
	.fn = "tpm2_rm_send_flush", .retval = EIO_RETVAL, .times = 8,
};

FIXTURE_VARIANT_ADD(fault, blob_alloc_once) {
	.fn = "tpm2_rm_blob_dup", .retval = "0", .times = 1, .may_lose = 1,
};

FIXTURE_VARIANT_ADD(fault, blob_alloc_many) {
	.fn = "tpm2_rm_blob_dup", .retval = "0", .times = 8, .may_lose = 1,
};

static void spaces_init(struct space *sp)
{
	int i;

	for (i = 0; i < NR_SPACES; i++)
		sp[i].fd = -1;
}

static void spaces_close(struct space *sp, int armed)
{
	int i;

	if (armed)
		fault_disarm();
	for (i = 0; i < NR_SPACES; i++)
		if (sp[i].fd >= 0)
			close(sp[i].fd);
}

/*
 * Whether the kprobe fail_function put on @fn fires from ftrace. As an int3
 * probe, 6.1's should_fail() calls get_random_u32() from the NMI-like int3
 * handler, which lockdep reports on crngs.lock; the debug kernel has
 * KPROBES_ON_FTRACE so that the probe runs in the caller's context.
 */
static int probe_on_ftrace(const char *fn)
{
	char line[256];
	int found = 0;
	FILE *f;

	f = fopen("/sys/kernel/debug/kprobes/list", "r");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, fn) && strstr(line, "[FTRACE]");
	fclose(f);
	return found;
}

/* Why @fn cannot be made to fail in this kernel, or NULL if it can. */
static const char *not_injectable(const char *fn)
{
	static char why[160];
	int rc, ftrace;

	if (access(FF_DIR "/inject", W_OK))
		return "no " FF_DIR ": kernel without CONFIG_FAIL_FUNCTION";
	rc = tpm2_ff_write("inject", fn);
	if (rc) {
		snprintf(why, sizeof(why),
			 "%s is not injectable here (%d): not this RM", fn, rc);
		return why;
	}
	ftrace = probe_on_ftrace(fn);
	if (fault_disarm())
		return "cannot remove the injection point again";
	if (!ftrace && !extended())
		return "int3 kprobe, no KPROBES_ON_FTRACE (lockdep report in 6.1)";
	return NULL;
}

FIXTURE_SETUP(fault)
{
	spaces_init(self->sp);
}

FIXTURE_TEARDOWN(fault)
{
	spaces_close(self->sp, self->armed);
}

/* Arm @fn, run rounds until the faults are used up, return how many hit. */
static int inject(struct __test_metadata *_metadata, struct space *sp,
		  int *armed, const char *fn, const char *retval, int times,
		  struct tally *t)
{
	int round, rounds = extended() ? 200 : 20;
	long left;

	ASSERT_EQ(0, fault_arm(fn, retval, times));
	*armed = 1;
	for (round = 0; round < rounds; round++) {
		round_robin(_metadata, sp, t);
		if (ff_read("times") == 0)
			break;
	}
	left = ff_read("times");
	ASSERT_EQ(0, fault_disarm());
	*armed = 0;
	ASSERT_LE(0, left);
	return times - left;
}

TEST_F_TIMEOUT(fault, round_trip_fails, 600)
{
	int times = variant->times * (extended() ? 8 : 1);
	struct tally before = {}, during = {}, after = {};
	const char *why = not_injectable(variant->fn);
	int i, hits;

	if (why)
		SKIP(return, "%s", why);
	TH_LOG("TPMRM_CONFIG=%s TPMRM_EXTENDED=%s: %d faults",
	       getenv("TPMRM_CONFIG") ?: "-", getenv("TPMRM_EXTENDED") ?: "-",
	       times);
	for (i = 0; i < NR_SPACES; i++)
		space_setup(_metadata, &self->sp[i]);
	round_robin(_metadata, self->sp, &before);
	ASSERT_EQ(NR_SPACES * NR_SESSIONS, before.ok);
	check_residency(_metadata);

	hits = inject(_metadata, self->sp, &self->armed, variant->fn,
		      variant->retval, times, &during);
	TH_LOG("%s: %d of %d faults injected; %u correct results, %u clean errors",
	       variant->fn, hits, times, during.ok, during.errors);
	/* The workload must reach the helper, or this tests nothing. */
	EXPECT_LT(0, hits);
	check_residency(_metadata);
	check_working(_metadata, self->sp, variant->may_lose, &after);
	check_residency(_metadata);
	TH_LOG("afterwards %u correct, %u lost sessions replaced", after.ok,
	       after.refused);
}

/*
 * Closing a space flushes what it holds. If those flushes fail the slots
 * must not leak: the RM flushes them before the TPM is used again.
 */
FIXTURE(close) {
	struct space sp[NR_SPACES];
	int armed;
};

FIXTURE_SETUP(close)
{
	spaces_init(self->sp);
}

FIXTURE_TEARDOWN(close)
{
	spaces_close(self->sp, self->armed);
}

/*
 * Closing a space flushes what it holds. If those flushes fail the slots
 * must not leak: the RM flushes them before the TPM is used again.
 */
TEST_F_TIMEOUT(close, failed_flushes, 300)
{
	const char *fn = "tpm2_rm_send_flush";
	const char *why = not_injectable(fn);
	const int times = 8;
	struct tally t = {};
	long left;
	int i;

	if (why)
		SKIP(return, "%s", why);
	for (i = 0; i < NR_SPACES; i++)
		space_setup(_metadata, &self->sp[i]);
	round_robin(_metadata, self->sp, &t);
	ASSERT_EQ(NR_SPACES * NR_SESSIONS, t.ok);

	/* The last space used is resident; close it with flushes failing. */
	ASSERT_EQ(0, fault_arm(fn, EIO_RETVAL, times));
	self->armed = 1;
	close(self->sp[NR_SPACES - 1].fd);
	self->sp[NR_SPACES - 1].fd = -1;
	left = ff_read("times");
	ASSERT_EQ(0, fault_disarm());
	self->armed = 0;
	TH_LOG("%ld FlushContext faults on close", times - left);
	EXPECT_LT(0, times - left);

	check_residency(_metadata);
	space_setup(_metadata, &self->sp[NR_SPACES - 1]);
	round_robin(_metadata, self->sp, &t);
	EXPECT_EQ(2 * NR_SPACES * NR_SESSIONS, t.ok);
	check_residency(_metadata);
}

TPMRM_TEST_MAIN()
