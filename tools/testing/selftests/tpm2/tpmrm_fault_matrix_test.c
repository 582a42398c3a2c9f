// SPDX-License-Identifier: GPL-2.0
/*
 * Fault isolation matrix: one client's trouble never reaches another.
 *
 * Four /dev/tpmrm0 files, A and C opened as alice, B and D as bob, hold a
 * signing key and an HMAC session each: four keys and four sessions for
 * the three object and three session slots of swtpm, so the RM evicts and
 * reloads. Each cell of the matrix is a fault at a place:
 *
 *  before  A's context is reloaded for A's command (ContextLoad);
 *  own     A's own command (Sign; GetCapability for a late answer, whose
 *          kernel timeout is 750 ms where Sign's is 120 s);
 *  evict   B's command makes the RM evict A's session (ContextSave);
 *          the evict_flush cells fault the FlushContext with which the
 *          RM frees the slot of the key it evicts for B;
 *  reload  B's context, evicted for A's command, is reloaded for B's.
 *
 * The faults come from the personality proxy between QEMU and swtpm
 * (qemu-harness/personality: a response code instead of executing, an
 * answer lost after execution, a late answer), armed in-band through a
 * file of root's with tpm2_fault_ctl(), or from fail_function on the RM's
 * helpers and its blob allocation (debug kernel). For each cell the test
 * prints the runner's answer, whether every other client's commands all
 * succeeded with the same handles and key names, the runner's next
 * command, and the leak audit, and fails if:
 *  - the runner's answer is not a clean one: its own TPM_RC, an RM-layer
 *    code or an errno (never a malformed response or EFAULT); on this RM
 *    (and 3+3 slots, see table_applies()), if it is not the answer
 *    tpm-rm.rst's table of faults gives;
 *  - any other client, the owner of an evicted context included, sees
 *    anything;
 *  - the runner's file is not usable afterwards (a handle refusal is
 *    allowed only where the fault destroyed the runner's context, once);
 *  - the leak audit finds anything after all files are closed.
 * A late answer to the RM's own ContextLoad or ContextSave makes the kernel
 * wait their 120 s duration: those three cells run with TPMRM_EXTENDED=1
 * only, and raise the hung-task timeout while they run (see late_rm()).
 * Cells without a proxy or fail_function skip with the reason.
 *
 * On the previous resource manager (FLAVOUR=base: no RM counters in
 * sysfs) the proxy cells run and are judged by the same rule, so that
 * what the old RM does is on record; it never evicts one client's context
 * for another, so there the evict cell's ContextSave is B's own after its
 * command, and the reload cell's ContextLoad is B's own before it (the
 * old RM loads and saves every context around every command); the log
 * says so. The fail_function cells need this RM's helpers: they skip.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define NR_CLIENTS	4
#define RUNNER_A	0
#define CLIENT_B	1
#define EIO_RETVAL	"0xfffffffffffffffb"
/*
 * A late answer is held by the proxy until QEMU cancels the command, which
 * tpm_tis and tpm_crb do when the kernel's wait ends (750 ms for
 * GetCapability, 120 s for ContextLoad/Save), however slow the guest's
 * clock runs; at most this long (a fixed delay came too early under load).
 */
#define LATE_OWN_MS	60000
#define LATE_RM_MS	600000
#define PT_HR_TRANSIENT_MIN	0x10E	/* TPM_PT_HR_TRANSIENT_MIN */
#define PT_HR_LOADED_MIN	0x110	/* TPM_PT_HR_LOADED_MIN */
#define HUNG_TASK	"/proc/sys/kernel/hung_task_timeout_secs"
#define LATE_HUNG_SECS	"300"	/* > the 120 s wait, < the cell's timeout */

enum place { BEFORE, OWN, EVICT, RELOAD };

static const char *const place_name[] = { "before", "own", "evict",
					  "reload" };
static const char *const client_name[NR_CLIENTS] = { "A", "B", "C", "D" };
static const char *const client_user[NR_CLIENTS] = { "alice", "bob",
						     "alice", "bob" };
/* Their uids where the guest has no such users. */
static const unsigned int client_uid[NR_CLIENTS] = { 60101, 60102, 60101,
						     60102 };

struct client {
	int fd;
	struct tpm2_key key;
	struct tpm2_session sess;
	struct tpm2_name name;
};

FIXTURE(matrix) {
	struct client c[NR_CLIENTS];
	mode_t mode;		/* the device's mode, if the test widened it */
	int ctl;		/* root's file for the proxy's control */
	int armed_proxy;
	int armed_ff;
	char hung[32];		/* the hung-task timeout, if the cell raised it */
};

FIXTURE_VARIANT(matrix) {
	enum place place;
	int kind;		/* TPM2_FAULT_*, or 0 for fail_function */
	uint32_t arg;		/* response code, or delay in ms */
	const char *fn;		/* fail_function: helper to fail */
	const char *retval;
	int may_lose;		/* the context hit may be really gone */
	int want, want2;	/* the runner's answer (tpm-rm.rst) */
	int two;		/* want2 is an answer too */
	uint32_t cc;		/* the command faulted, if not the place's */
};

/*
 * @w (or @w2): this RM's answer to the runner, as tpm-rm.rst's table of
 * faults and answers gives it: 0, the TPM's code, RM(the RM-layer code's
 * low bits) or a negative errno. The previous RM is held to the rule only.
 */
#define RM(rc)		(0x000B0000 | (rc))
#define PROXY_CELL2(pl, k, a, lose, w, w2)				\
	{ .place = pl, .kind = k, .arg = a, .may_lose = lose,		\
	  .want = w, .want2 = w2, .two = 1 }
#define PROXY_CELL(pl, k, a, lose, w)					\
	{ .place = pl, .kind = k, .arg = a, .may_lose = lose, .want = w }
#define FF_CELL(pl, f, r, lose, w)					\
	{ .place = pl, .fn = f, .retval = r, .may_lose = lose, .want = w }

/*
 * Per place: a response code a TPM gives instead of executing (RETRY,
 * YIELDED, TESTING, CONTEXT_GAP, FAILURE, OBJECT_MEMORY), an answer lost
 * after execution, a late answer (arg: its upper bound, see cell_arm()).
 */
FIXTURE_VARIANT_ADD(matrix, before_retry)
	PROXY_CELL(BEFORE, TPM2_FAULT_RC, 0x922, 0, 0);
FIXTURE_VARIANT_ADD(matrix, before_yielded)
	PROXY_CELL(BEFORE, TPM2_FAULT_RC, 0x908, 0, 0);
FIXTURE_VARIANT_ADD(matrix, before_testing)
	PROXY_CELL(BEFORE, TPM2_FAULT_RC, 0x90A, 0, 0);
FIXTURE_VARIANT_ADD(matrix, before_gap_901)
	PROXY_CELL(BEFORE, TPM2_FAULT_RC, 0x901, 0, 0);
FIXTURE_VARIANT_ADD(matrix, before_failure_101)
	PROXY_CELL(BEFORE, TPM2_FAULT_RC, 0x101, 1, RM(0x18B));
FIXTURE_VARIANT_ADD(matrix, before_memory_902)
	PROXY_CELL(BEFORE, TPM2_FAULT_RC, 0x902, 0, RM(0x902));
FIXTURE_VARIANT_ADD(matrix, before_lost)
	PROXY_CELL(BEFORE, TPM2_FAULT_LOST, 0, 1, -EIO);
FIXTURE_VARIANT_ADD(matrix, before_late)
	PROXY_CELL(BEFORE, TPM2_FAULT_LATE, 0, 1, -ETIME);
FIXTURE_VARIANT_ADD(matrix, own_retry)
	PROXY_CELL(OWN, TPM2_FAULT_RC, 0x922, 0, 0);
FIXTURE_VARIANT_ADD(matrix, own_yielded)
	PROXY_CELL(OWN, TPM2_FAULT_RC, 0x908, 0, 0x908);
FIXTURE_VARIANT_ADD(matrix, own_testing)
	PROXY_CELL(OWN, TPM2_FAULT_RC, 0x90A, 0, 0);
FIXTURE_VARIANT_ADD(matrix, own_gap_901)
	PROXY_CELL(OWN, TPM2_FAULT_RC, 0x901, 0, 0x901);
FIXTURE_VARIANT_ADD(matrix, own_failure_101)
	PROXY_CELL(OWN, TPM2_FAULT_RC, 0x101, 1, 0x101);
FIXTURE_VARIANT_ADD(matrix, own_memory_902)
	PROXY_CELL(OWN, TPM2_FAULT_RC, 0x902, 0, 0);
FIXTURE_VARIANT_ADD(matrix, own_lost)
	PROXY_CELL(OWN, TPM2_FAULT_LOST, 0, 1, -EIO);
FIXTURE_VARIANT_ADD(matrix, own_late)
	PROXY_CELL(OWN, TPM2_FAULT_LATE, 0, 1, -ETIME);
FIXTURE_VARIANT_ADD(matrix, evict_retry)
	PROXY_CELL(EVICT, TPM2_FAULT_RC, 0x922, 0, 0);
FIXTURE_VARIANT_ADD(matrix, evict_yielded)
	PROXY_CELL(EVICT, TPM2_FAULT_RC, 0x908, 0, 0);
FIXTURE_VARIANT_ADD(matrix, evict_testing)
	PROXY_CELL(EVICT, TPM2_FAULT_RC, 0x90A, 0, 0);
FIXTURE_VARIANT_ADD(matrix, evict_flush_retry)
	{ .place = EVICT, .kind = TPM2_FAULT_RC, .arg = 0x922,
	  .cc = TPM2_CC_FLUSH_CONTEXT };
FIXTURE_VARIANT_ADD(matrix, evict_flush_yielded)
	{ .place = EVICT, .kind = TPM2_FAULT_RC, .arg = 0x908,
	  .cc = TPM2_CC_FLUSH_CONTEXT };
FIXTURE_VARIANT_ADD(matrix, evict_flush_testing)
	{ .place = EVICT, .kind = TPM2_FAULT_RC, .arg = 0x90A,
	  .cc = TPM2_CC_FLUSH_CONTEXT };
FIXTURE_VARIANT_ADD(matrix, evict_gap_901)
	PROXY_CELL(EVICT, TPM2_FAULT_RC, 0x901, 0, 0);
FIXTURE_VARIANT_ADD(matrix, evict_failure_101)
	PROXY_CELL(EVICT, TPM2_FAULT_RC, 0x101, 1, 0);
FIXTURE_VARIANT_ADD(matrix, evict_memory_902)
	PROXY_CELL(EVICT, TPM2_FAULT_RC, 0x902, 0, 0);
FIXTURE_VARIANT_ADD(matrix, evict_lost)
	PROXY_CELL(EVICT, TPM2_FAULT_LOST, 0, 1, 0);
FIXTURE_VARIANT_ADD(matrix, evict_late)
	PROXY_CELL(EVICT, TPM2_FAULT_LATE, 0, 1, 0);
FIXTURE_VARIANT_ADD(matrix, reload_retry)
	PROXY_CELL(RELOAD, TPM2_FAULT_RC, 0x922, 0, 0);
FIXTURE_VARIANT_ADD(matrix, reload_yielded)
	PROXY_CELL(RELOAD, TPM2_FAULT_RC, 0x908, 0, 0);
FIXTURE_VARIANT_ADD(matrix, reload_testing)
	PROXY_CELL(RELOAD, TPM2_FAULT_RC, 0x90A, 0, 0);
FIXTURE_VARIANT_ADD(matrix, reload_gap_901)
	PROXY_CELL2(RELOAD, TPM2_FAULT_RC, 0x901, 0, 0, RM(0x901));
FIXTURE_VARIANT_ADD(matrix, reload_failure_101)
	PROXY_CELL(RELOAD, TPM2_FAULT_RC, 0x101, 1, RM(0x18B));
FIXTURE_VARIANT_ADD(matrix, reload_memory_902)
	PROXY_CELL(RELOAD, TPM2_FAULT_RC, 0x902, 0, 0);
FIXTURE_VARIANT_ADD(matrix, reload_lost)
	PROXY_CELL(RELOAD, TPM2_FAULT_LOST, 0, 1, -EIO);
FIXTURE_VARIANT_ADD(matrix, reload_late)
	PROXY_CELL(RELOAD, TPM2_FAULT_LATE, 0, 1, -ETIME);

FIXTURE_VARIANT_ADD(matrix, before_ff_load_eio)
	FF_CELL(BEFORE, "tpm2_rm_send_context_load", EIO_RETVAL, 0, -EIO);
FIXTURE_VARIANT_ADD(matrix, own_ff_answer_lost)
	FF_CELL(OWN, "tpm2_rm_rsp_check", EIO_RETVAL, 1, -EIO);
FIXTURE_VARIANT_ADD(matrix, evict_ff_save_eio)
	FF_CELL(EVICT, "tpm2_rm_send_context_save", EIO_RETVAL, 0, 0);
FIXTURE_VARIANT_ADD(matrix, evict_ff_blob_alloc)
	FF_CELL(EVICT, "tpm2_rm_blob_dup", "0", 0, 0);
FIXTURE_VARIANT_ADD(matrix, reload_ff_load_eio)
	FF_CELL(RELOAD, "tpm2_rm_send_context_load", EIO_RETVAL, 0, -EIO);

/* The command code the fault falls on at @v's place. */
static uint32_t place_cc(const FIXTURE_VARIANT(matrix) *v)
{
	if (v->cc)
		return v->cc;
	switch (v->place) {
	case BEFORE:
	case RELOAD:
		return TPM2_CC_CONTEXT_LOAD;
	case EVICT:
		return TPM2_CC_CONTEXT_SAVE;
	default:
		return v->kind == TPM2_FAULT_LATE ? TPM2_CC_GET_CAPABILITY :
						    TPM2_CC_SIGN;
	}
}

/*
 * The kernel waits TPM2_DURATION_DEFAULT (120 s) for the RM's ContextLoad
 * and ContextSave, holding tpm_mutex; hwrng, blocked on the mutex, trips
 * the harness's hung-task panic (30 s, hung_task_panic=1) first. Such a
 * cell raises the hung-task timeout to LATE_HUNG_SECS while it runs and
 * puts the old one back in the teardown: a real hang still panics.
 */
static int late_rm(const FIXTURE_VARIANT(matrix) *v)
{
	return v->kind == TPM2_FAULT_LATE && v->place != OWN;
}

/* What the place is on the previous RM (FLAVOUR=base), "" on this one. */
static const char *old_rm_place(enum place p)
{
	if (tpm2_rm_has_counters())
		return "";
	switch (p) {
	case EVICT:
		return " (old RM: B's own ContextSave after its command)";
	case RELOAD:
		return " (old RM: B's own ContextLoad before its command)";
	default:
		return " (old RM)";
	}
}

/*
 * The table's answers hold where the places are staged as meant: this RM,
 * on a TPM that reports the three object and three session slots it has.
 * A personality that reports more (npct75x: 5 and 5, on swtpm's 3 and 3)
 * makes the RM meet TPM_RC_OBJECT_MEMORY instead of evicting first.
 */
static int table_applies(int fd)
{
	uint32_t objects = 0, sessions = 0;

	if (!tpm2_rm_has_counters())
		return 0;
	if (tpm2_get_property(fd, PT_HR_TRANSIENT_MIN, &objects) ||
	    tpm2_get_property(fd, PT_HR_LOADED_MIN, &sessions))
		return 0;
	return objects == 3 && sessions == 3;
}

/* Whose command runs into the fault: A, or B at evict and reload. */
static int runner_of(enum place p)
{
	return p == EVICT || p == RELOAD ? CLIENT_B : RUNNER_A;
}

/*
 * One client operation: Sign under the client's session (the response
 * HMAC proves its nonces were kept), verify the signature, and read the
 * key's name back: the handle must still name the same key. 0 or the
 * first failure.
 */
static int client_op(struct client *c)
{
	struct tpm2_auth a = { &c->sess, TPM2_SA_CONTINUE_SESSION };
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_name name;
	struct tpm2_sig sig;
	int rc, ok = -1;

	tpm2_random(digest, sizeof(digest));
	rc = tpm2_sign(c->fd, &c->key, &a, digest, &sig, &ok);
	if (rc)
		return rc;
	if (ok != 1)
		return -EBADMSG;
	rc = tpm2_verify(c->fd, c->key.handle, digest, &sig);
	if (rc)
		return rc;
	rc = tpm2_read_public(c->fd, c->key.handle, &name);
	if (rc)
		return rc;
	if (name.size != c->name.size ||
	    memcmp(name.buf, c->name.buf, name.size))
		return -EBADMSG;
	return 0;
}

/* The runner's command, with no resend of a warning: its first answer. */
static int runner_cmd(struct client *c, const FIXTURE_VARIANT(matrix) *v)
{
	unsigned int saved = tpm2_warn_retries;
	uint32_t val;
	int rc;

	tpm2_warn_retries = 0;
	if (place_cc(v) == TPM2_CC_GET_CAPABILITY)
		rc = tpm2_get_property(c->fd, PT_HR_TRANSIENT_MIN, &val);
	else
		rc = client_op(c);
	tpm2_warn_retries = saved;
	return rc;
}

/*
 * A clean answer: success, a TPM_RC (the TPM's own for the command, or an
 * RM-layer code) or an errno that says the TPM failed; never a malformed
 * response (-EBADMSG, -EPROTO) or EFAULT.
 */
static int clean_answer(int rc)
{
	if (rc >= 0)
		return 1;
	return rc == -EIO || rc == -ETIME || rc == -ENOMEM ||
	       rc == -ECANCELED || rc == -EBUSY;
}

/* A new signing key and HMAC session on @c's file, and the key's name. */
static int client_keys(struct client *c)
{
	int rc;

	rc = tpm2_create_primary(c->fd, TPM2_KEY_SIGN, NULL, 0, &c->key);
	if (!rc)
		rc = tpm2_start_session(c->fd, TPM2_SE_HMAC, &c->sess);
	if (!rc)
		rc = tpm2_read_public(c->fd, c->key.handle, &c->name);
	return rc;
}

static int client_setup(struct client *c, const char *user, unsigned int uid)
{
	c->fd = tpm2_open_as(user, uid, TPM2_RM_DEV);
	if (c->fd < 0)
		return c->fd;
	return client_keys(c);
}

/* Replace the runner's key and session after its context was destroyed. */
static int client_renew(struct client *c)
{
	tpm2_flush(c->fd, c->key.handle);
	tpm2_flush(c->fd, c->sess.handle);
	return client_keys(c);
}

/* Why a cell cannot run here, or NULL. */
static const char *cell_unavailable(FIXTURE_DATA(matrix) *self,
				    const FIXTURE_VARIANT(matrix) *v)
{
	struct tpm2_fault_status st;

	if (v->fn) {
		if (access(TPM2_FF_DIR "/inject", W_OK))
			return "no fail_function: kernel without CONFIG_FAIL_FUNCTION";
		if (!tpm2_rm_has_counters())
			return "old RM: no tpm2_rm_* helpers to inject into";
		if (tpm2_ff_write("inject", v->fn))
			return "helper not injectable: not this RM";
		tpm2_ff_write("inject", " ");
		return NULL;
	}
	if (tpm2_fault_ctl(self->ctl, TPM2_FAULT_STATUS, 0, 0, 0, 0, &st))
		return "no personality proxy (PERSONALITY=swtpm gives one)";
	if (late_rm(v) && !tpm2_env_extended())
		return "late RM command waits 120 s: TPMRM_EXTENDED=1";
	return NULL;
}

static int file_read(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = !!fgets(buf, size, f);
	fclose(f);
	return ok ? 0 : -EIO;
}

static int file_write(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fputs(val, f) < 0 ? -EIO : 0;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}

/* 0, or a negative errno; no hung-task detector counts as done. */
static int hung_task_raise(FIXTURE_DATA(matrix) *self)
{
	char old[sizeof(self->hung)];

	if (access(HUNG_TASK, F_OK))
		return 0;
	if (file_read(HUNG_TASK, old, sizeof(old)))
		return -EIO;
	if (file_write(HUNG_TASK, LATE_HUNG_SECS))
		return -EIO;
	snprintf(self->hung, sizeof(self->hung), "%s", old);
	return 0;
}

static int ff_arm(const char *fn, const char *retval)
{
	char file[128];

	snprintf(file, sizeof(file), "%s/retval", fn);
	if (tpm2_ff_write("inject", fn) || tpm2_ff_write(file, retval) ||
	    tpm2_ff_write("probability", "100") ||
	    tpm2_ff_write("interval", "1") || tpm2_ff_write("verbose", "0") ||
	    tpm2_ff_write("space", "0") || tpm2_ff_write("task-filter", "N") ||
	    tpm2_ff_write("times", "1"))
		return -EIO;
	return 0;
}

/* Arm the cell's fault on the next command at its place. */
static int cell_arm(FIXTURE_DATA(matrix) *self,
		    const FIXTURE_VARIANT(matrix) *v)
{
	uint32_t arg = v->arg;
	int rc;

	if (v->fn) {
		rc = ff_arm(v->fn, v->retval);
		self->armed_ff = !rc;
		return rc;
	}
	if (v->kind == TPM2_FAULT_LATE)
		arg = late_rm(v) ? LATE_RM_MS : LATE_OWN_MS;
	rc = tpm2_fault_ctl(self->ctl, TPM2_FAULT_ARM, place_cc(v), 1,
			    v->kind, arg, NULL);
	self->armed_proxy = !rc;
	return rc;
}

/* Disarm; 1 if the fault was used, 0 if not; *handle what it hit. */
static int cell_disarm(FIXTURE_DATA(matrix) *self,
		       const FIXTURE_VARIANT(matrix) *v, uint32_t *handle)
{
	struct tpm2_fault_status st = { 0 };
	uint64_t left = 1;

	*handle = 0;
	if (v->fn) {
		tpm2_read_u64(TPM2_FF_DIR "/times", &left);
		tpm2_ff_write("inject", " ");
		self->armed_ff = 0;
		return left == 0;
	}
	tpm2_fault_ctl(self->ctl, TPM2_FAULT_STATUS, 0, 0, 0, 0, &st);
	tpm2_fault_ctl(self->ctl, TPM2_FAULT_DISARM, 0, 0, 0, 0, NULL);
	self->armed_proxy = 0;
	*handle = st.handle;
	return st.fired;
}

/*
 * Bring the RM to the cell's place: the raw device empties the TPM, then
 * clients use their contexts so that the next command of the runner hits
 * the place. A client used twice in a row and then left idle is the one
 * the RM evicts next (its use distance is short).
 */
static int cell_prepare(struct client *c, enum place p)
{
	static const int evict_order[] = { 0, 0, 2, 3 };	/* A A C D */
	static const int reload_order[] = { 1, 1, 2, 3, 0 };	/* B B C D A */
	const int *order = NULL;
	int i, n = 0, rc;

	if (p == OWN)
		return 0;
	rc = tpm2_raw_command();
	if (rc)
		return rc;
	if (p == EVICT) {
		order = evict_order;
		n = 4;
	} else if (p == RELOAD) {
		order = reload_order;
		n = 5;
	}
	for (i = 0; i < n; i++) {
		rc = client_op(&c[order[i]]);
		if (rc)
			return rc;
	}
	return 0;
}

/* The client whose context the fault hit (a session's handle), or -1. */
static int owner_of(struct client *c, uint32_t handle)
{
	int i;

	for (i = 0; i < NR_CLIENTS; i++)
		if (handle && c[i].sess.handle == handle)
			return i;
	return -1;
}

FIXTURE_SETUP(matrix)
{
	int i;

	self->ctl = -1;
	for (i = 0; i < NR_CLIENTS; i++)
		self->c[i].fd = -1;
	self->armed_proxy = 0;
	self->armed_ff = 0;
	self->mode = 0;
	self->hung[0] = 0;
}

FIXTURE_TEARDOWN(matrix)
{
	int i;

	if (self->armed_ff)
		tpm2_ff_write("inject", " ");
	if (self->armed_proxy)
		tpm2_fault_ctl(self->ctl, TPM2_FAULT_DISARM, 0, 0, 0, 0, NULL);
	for (i = 0; i < NR_CLIENTS; i++)
		if (self->c[i].fd >= 0)
			close(self->c[i].fd);
	if (self->ctl >= 0)
		close(self->ctl);
	if (self->mode)
		chmod(TPM2_RM_DEV, self->mode);
	if (self->hung[0])
		file_write(HUNG_TASK, self->hung);
}

/* Let the device's group in (devtmpfs without udev makes it 0600). */
static int group_access(FIXTURE_DATA(matrix) *self)
{
	struct stat st;

	if (stat(TPM2_RM_DEV, &st))
		return -errno;
	if ((st.st_mode & 0060) == 0060)
		return 0;
	self->mode = st.st_mode & 07777;
	return chmod(TPM2_RM_DEV, self->mode | 0060) ? -errno : 0;
}

/*
 * The next command of a client whose context the fault hit: it works, or,
 * where the fault destroyed that context (@may_lose), it fails once with a
 * handle refusal and the file goes on with a new key and session.
 * 0, or -1 with what happened in @out.
 */
static int after_fault(struct client *c, int may_lose, char *out,
		       size_t size)
{
	int rc = client_op(c), rc2;

	if (!rc) {
		snprintf(out, size, "ok");
		return 0;
	}
	if (!may_lose || rc < 0 || !tpm2_rc_is_handle_refusal(rc)) {
		snprintf(out, size, "FAILS %d (0x%x)", rc, rc);
		return -1;
	}
	rc2 = client_renew(c);
	if (!rc2)
		rc2 = client_op(c);
	snprintf(out, size, "0x%x (context gone), renewed: %s", rc,
		 rc2 ? "FAILS" : "ok");
	return rc2 ? -1 : 0;
}

/*
 * Every client but @runner: its commands succeed with the same handles
 * and key names. Only @owner, whose context the fault hit while the RM
 * worked for the runner, may have lost that context if @may_lose.
 */
static int others_check(struct __test_metadata *_metadata, struct client *c,
			int runner, int owner, int may_lose)
{
	char what[96];
	int i, bad = 0;

	for (i = 0; i < NR_CLIENTS; i++) {
		if (i == runner)
			continue;
		if (!after_fault(&c[i], i == owner && may_lose, what,
				 sizeof(what)) &&
		    !client_op(&c[i])) {
			if (strcmp(what, "ok"))
				TH_LOG("owner %s: %s", client_name[i], what);
			continue;
		}
		TH_LOG("client %s (%s) saw the fault: %s", client_name[i],
		       client_user[i], what);
		bad++;
	}
	return bad;
}

/*
 * After a leak, flush what the raw device lists, so that the next cell
 * starts from an empty TPM and fails only for its own leaks.
 */
static void leak_flush(void)
{
	static const uint32_t types[] = { TPM2_HT_TRANSIENT,
					  TPM2_HT_LOADED_SESSION };
	uint32_t h[64];
	int raw, i, j, n;

	raw = tpm2_open(TPM2_RAW_DEV, 0);
	if (raw < 0)
		return;
	for (i = 0; i < 2; i++) {
		n = tpm2_handles_by_type(raw, types[i], h, 64);
		for (j = 0; j < n; j++)
			tpm2_flush(raw, h[j]);
	}
	close(raw);
}

TEST_F_TIMEOUT(matrix, cell, 600)
{
	int runner = runner_of(variant->place), owner, others, next, leak;
	int table, as_table;
	const char *why;
	struct tpm2_leak l;
	uint32_t handle;
	char next_s[96];
	int i, rc, fired;

	if (getuid())
		SKIP(return, "needs root (switches to alice and bob)");
	self->ctl = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->ctl);
	why = cell_unavailable(self, variant);
	if (why)
		SKIP(return, "%s", why);
	table = table_applies(self->ctl);
	ASSERT_EQ(0, group_access(self));
	for (i = 0; i < NR_CLIENTS; i++) {
		rc = client_setup(&self->c[i], client_user[i], client_uid[i]);
		ASSERT_EQ(0, rc) {
			TH_LOG("setup of %s: %d", client_name[i], rc);
		}
	}
	for (i = 0; i < NR_CLIENTS; i++)
		ASSERT_EQ(0, client_op(&self->c[i]));
	ASSERT_EQ(0, cell_prepare(self->c, variant->place));
	if (late_rm(variant))
		ASSERT_EQ(0, hung_task_raise(self));

	ASSERT_EQ(0, cell_arm(self, variant));
	rc = runner_cmd(&self->c[runner], variant);
	fired = cell_disarm(self, variant, &handle);
	owner = owner_of(self->c, handle);
	others = others_check(_metadata, self->c, runner, owner,
			      variant->may_lose);
	next = after_fault(&self->c[runner],
			   variant->may_lose && (owner < 0 || owner == runner),
			   next_s, sizeof(next_s));
	for (i = 0; i < NR_CLIENTS; i++) {
		close(self->c[i].fd);
		self->c[i].fd = -1;
	}
	close(self->ctl);
	self->ctl = -1;
	leak = tpm2_leak_audit(&l);
	if (leak)
		leak_flush();
	as_table = rc == variant->want ||
		   (variant->two && rc == variant->want2);

	TH_LOG("cell %s%s %s: runner %s answer %d (0x%x)%s; fault %s%s%s",
	       place_name[variant->place], old_rm_place(variant->place),
	       variant->fn ?: "proxy",
	       client_name[runner], rc, rc, clean_answer(rc) ? "" : " UNCLEAN",
	       fired ? "hit" : "NOT REACHED",
	       owner >= 0 ? " the session of " : "",
	       owner >= 0 ? client_name[owner] : "");
	if (!table && tpm2_rm_has_counters())
		TH_LOG("cell %s: answer not checked: over 3+3 slots",
		       place_name[variant->place]);
	if (late_rm(variant) && variant->want == -ETIME && rc == 0)
		TH_LOG("cell %s: answered before the 120 s wait ended: no timeout",
		       place_name[variant->place]);
	if (table && !as_table)
		TH_LOG("cell %s: tpm-rm.rst gives the runner %d (0x%x)%s",
		       place_name[variant->place], variant->want,
		       variant->want, variant->two ? " or the alternative" : "");
	TH_LOG("cell %s: others %s; runner next %s; leak audit %s (TPM %d/%d/%d)",
	       place_name[variant->place],
	       others ? "SAW THE FAULT" : "unaffected", next_s,
	       leak ? "LEAK" : "clean", l.objects, l.loaded, l.saved);
	EXPECT_TRUE(fired);
	EXPECT_TRUE(clean_answer(rc));
	if (table)
		EXPECT_TRUE(as_table);
	EXPECT_EQ(0, others);
	EXPECT_EQ(0, next);
	EXPECT_EQ(0, leak);
}

TPMRM_TEST_MAIN()
