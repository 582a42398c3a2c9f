// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: one command through the RM.
 *
 * tpm2_rm_transmit() takes a client command of one space through three
 * steps under the chip's tpm_mutex: prepare (check the command code, map the
 * handle and authorization areas, load what the command names, check the
 * space's limits), transmit (with a bounded retry after the TPM ran out of
 * object or session memory) and commit (record new entities, forget flushed
 * ones, rewrite the response handle). This file also holds the hooks the rest
 * of the driver calls so that kernel-internal and raw /dev/tpmN users always
 * find room in the TPM, and the per-chip sysfs counters.
 */

#include <linux/error-injection.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/tpm.h>
#include <linux/unaligned.h>
#include <kunit/visibility.h>
#include <uapi/linux/tpmrm.h>
#include "tpm.h"
#include "tpm2-rm.h"

/*
 * Default quotas, see Documentation/security/tpm/tpm-rm.rst: a file holds
 * what a TSS context needs; a user holds what a few busy processes need;
 * the reserve keeps an eighth of the 64 session slots TCG PC Client TPMs
 * have for the kernel and /dev/tpmN.
 */
#define TPM2_RM_QUOTA_FILE_OBJECTS	16
#define TPM2_RM_QUOTA_FILE_SESSIONS	8
#define TPM2_RM_QUOTA_USER_OBJECTS	128
#define TPM2_RM_QUOTA_USER_SESSIONS	16
#define TPM2_RM_RESERVE_SESSIONS	8

#define TPM2_RM_MAX_ENTS	(TPM2_RM_MAX_HANDLES + TPM2_RM_MAX_AUTHS + 1)

/*
 * struct tpm2_rm_ctx - one command on its way through the RM
 * @ents:	entities the command names, pinned until the command is done
 * @forget:	per @ents: the TPM flushed it, drop it from the space
 * @hents:	per handle-area slot, the entity it names or NULL
 * @new_ent:	entity for the response handle, allocated before sending
 * @answer:	the RM answers with a header-only response, code @answer_rc
 * @sent:	the client's command went to the TPM (it may have run)
 */
struct tpm2_rm_ctx {
	struct tpm_chip *chip;
	struct tpm2_rm_space *space;
	u8 *buf;
	size_t bufsiz;
	size_t len;
	struct tpm2_rm_cmd cmd;
	struct tpm2_rm_entity *ents[TPM2_RM_MAX_ENTS];
	bool forget[TPM2_RM_MAX_ENTS];
	unsigned int nr_ents;
	struct tpm2_rm_entity *hents[TPM2_RM_MAX_HANDLES];
	struct tpm2_rm_entity *new_ent;
	bool answer;
	u32 answer_rc;
	bool sent;
};

/**
 * tpm2_rm_cmd_needs_no_slot() - can a kernel command run beside RM contexts
 * @cc:	command code
 *
 * These commands use no object or session slot, so kernel-internal callers
 * (IMA, hwrng, sysfs, drivers) send them without evicting anything.
 *
 * Locking invariant: the RM's state is protected by the chip's tpm_mutex,
 * and every hook asserts it with lockdep_assert_held() once it touches that
 * state. Two callers reach the hooks without the tpm_mutex:
 * tpm_del_char_device() sends TPM2_Shutdown under ops_sem held for writing,
 * and vtpm_proxy's request_locality() sends its vendor SetLocality command
 * from tpm_chip_start(), which tpm_del_char_device() calls too. Both are
 * commands of this list without an authorization area, and
 * tpm2_rm_before_kernel_cmd(), tpm2_rm_after_kernel_cmd() and
 * tpm2_rm_after_transmit() return for those before touching any RM state.
 * A command added here must keep that true: it may not touch the RM either.
 *
 * Return: true if no eviction is needed before @cc.
 */
bool tpm2_rm_cmd_needs_no_slot(u32 cc)
{
	switch (cc) {
	case TPM2_CC_GET_RANDOM:
	case TPM2_CC_PCR_READ:
	case TPM2_CC_PCR_EXTEND:
	case TPM2_CC_GET_CAPABILITY:
	case TPM2_CC_SELF_TEST:
	case TPM2_CC_STARTUP:
	case TPM2_CC_SHUTDOWN:
	case TPM2_RM_CC_SET_LOCALITY:
		return true;
	default:
		return false;
	}
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_cmd_needs_no_slot);

static void tpm2_rm_read_prop(struct tpm_chip *chip, u32 prop, u32 *val,
			      u32 dflt)
{
	u32 v = 0;

	if (tpm2_get_tpm_pt(chip, prop, &v, NULL) || !v)
		v = dflt;
	*val = v;
}

/* Learn the slot counts once per chip, at the first RM command. */
static void tpm2_rm_read_props(struct tpm_chip *chip)
{
	struct tpm2_rm_chip *rm = chip->rm;

	if (rm->props_known)
		return;
	tpm2_rm_read_prop(chip, TPM_PT_HR_TRANSIENT_MIN,
			  &rm->object_slots, 3);
	tpm2_rm_read_prop(chip, TPM_PT_HR_LOADED_MIN,
			  &rm->session_slots, 3);
	tpm2_rm_read_prop(chip, TPM_PT_ACTIVE_SESSIONS_MAX,
			  &rm->active_sessions, 64);
	tpm2_rm_read_prop(chip, TPM_PT_CONTEXT_GAP_MAX,
			  &rm->context_gap, 0xffff);
	tpm2_rm_read_prop(chip, TPM_PT_MAX_OBJECT_CONTEXT,
			  &rm->max_object_context, TPM_BUFSIZE);
	tpm2_rm_read_prop(chip, TPM_PT_MAX_SESSION_CONTEXT,
			  &rm->max_session_context, TPM_BUFSIZE);
	rm->props_known = true;
}

static void tpm2_rm_set_answer(struct tpm2_rm_ctx *ctx, u32 rc)
{
	ctx->answer = true;
	ctx->answer_rc = rc;
}

/* Pin @ent for this command; returns its index in ctx->ents. */
static unsigned int tpm2_rm_pin(struct tpm2_rm_ctx *ctx,
				struct tpm2_rm_entity *ent)
{
	unsigned int i;

	for (i = 0; i < ctx->nr_ents; i++)
		if (ctx->ents[i] == ent)
			return i;
	ent->pinned = true;
	ctx->ents[ctx->nr_ents] = ent;
	return ctx->nr_ents++;
}

/*
 * Pin and load an entity the command names. If it cannot be loaded the
 * command is answered with @err.
 */
static int tpm2_rm_use(struct tpm2_rm_ctx *ctx, struct tpm2_rm_entity *ent,
		       u32 err, unsigned int *index)
{
	u32 tpm_rc;
	int rc;

	*index = tpm2_rm_pin(ctx, ent);
	rc = tpm2_rm_load(ctx->chip, ent, &tpm_rc);
	if (!rc && tpm_rc && ent->state != TPM2_RM_ENT_LOST) {
		/* still no room after the retries: "retry later", not "gone" */
		tpm2_rm_set_answer(ctx, TSS2_RESMGR_TPM_RC_LAYER | tpm_rc);
		return 0;
	}
	if (rc == -ENOENT || (!rc && tpm_rc)) {
		/* a lost context is reported once, then forgotten */
		ctx->forget[*index] = ent->state == TPM2_RM_ENT_LOST;
		tpm2_rm_set_answer(ctx, err);
		return 0;
	}
	if (rc)
		return rc;
	if (ent->kind == TPM2_RM_SEQUENCE) {
		kfree(ent->blob);
		ent->blob = NULL;
		ent->blob_len = 0;
	}
	return 0;
}

/* Map the handle area: own transient objects and sessions only. */
static int tpm2_rm_map_handles(struct tpm2_rm_ctx *ctx)
{
	struct tpm2_rm_entity *ent;
	unsigned int i, index;
	u32 h;
	int rc;

	for (i = 0; i < ctx->cmd.nr_handles && !ctx->answer; i++) {
		h = ctx->cmd.handles[i];
		if (!tpm2_rm_is_transient(h) && !tpm2_rm_is_session(h))
			continue;
		ent = tpm2_rm_table_find(ctx->space, h);
		if (!ent || ent->state == TPM2_RM_ENT_HANDED_OUT) {
			tpm2_rm_set_answer(ctx, tpm2_rm_handle_error(i));
			return 0;
		}
		ctx->hents[i] = ent;
		rc = tpm2_rm_use(ctx, ent, tpm2_rm_handle_error(i), &index);
		if (rc)
			return rc;
		if (ent->state == TPM2_RM_ENT_RESIDENT &&
		    tpm2_rm_is_transient(h))
			put_unaligned_be32(ent->phandle,
					   &ctx->buf[TPM_HEADER_SIZE + 4 * i]);
	}
	return 0;
}

/*
 * Map the authorization area: TPM_RS_PW or sessions of this space. A session
 * without continueSession is forgotten once the command succeeds.
 */
static int tpm2_rm_map_auths(struct tpm2_rm_ctx *ctx)
{
	struct tpm2_rm_auth *auth;
	struct tpm2_rm_entity *ent;
	unsigned int i, index;
	int rc;

	for (i = 0; i < ctx->cmd.nr_auths && !ctx->answer; i++) {
		auth = &ctx->cmd.auths[i];
		if (auth->handle == TPM2_RS_PW)
			continue;
		ent = NULL;
		if (tpm2_rm_is_session(auth->handle))
			ent = tpm2_rm_table_find(ctx->space, auth->handle);
		if (!ent || ent->state == TPM2_RM_ENT_HANDED_OUT) {
			tpm2_rm_set_answer(ctx, tpm2_rm_session_error(i));
			return 0;
		}
		rc = tpm2_rm_use(ctx, ent, tpm2_rm_session_error(i), &index);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Refuse a new entity the space, its user or the chip has no room for.
 * @new_slot: the entity takes a new TPM session slot (not an orphan that
 * changes hands).
 */
static bool tpm2_rm_over_limit(struct tpm2_rm_ctx *ctx, bool session,
			       bool new_slot)
{
	struct tpm2_rm_chip *rm = ctx->chip->rm;
	struct tpm2_rm_space *space = ctx->space;
	struct tpm2_rm_usage file = {
		.objects = space->nr_objects,
		.sessions = space->nr_sessions,
	};
	struct tpm2_rm_quota q = {
		.file_objects = READ_ONCE(rm->quota.file_objects),
		.file_sessions = READ_ONCE(rm->quota.file_sessions),
		.user_objects = READ_ONCE(rm->quota.user_objects),
		.user_sessions = READ_ONCE(rm->quota.user_sessions),
		.reserve_sessions = READ_ONCE(rm->quota.reserve_sessions),
	};
	u32 rc;

	rc = tpm2_rm_quota_check(&q, &file,
				 space->user ? &space->user->usage : NULL,
				 new_slot ? &rm->total : NULL,
				 rm->active_sessions, session);
	if (rc)
		tpm2_rm_set_answer(ctx, rc);
	return rc != 0;
}

/* The effective uid of a space's opener; INVALID_UID without one (KUnit). */
static kuid_t tpm2_rm_space_uid(const struct tpm2_rm_space *space)
{
	return space->user ? space->user->uid : INVALID_UID;
}

/*
 * Take over an orphaned session: one a client saved with ContextSave in a
 * file that has since been closed (tpm2-tools hands sessions from process to
 * process this way). Only a file of the same user may: a session carries
 * its owner's authorization, and another user holding a copy of the saved
 * blob must not be able to use it. Returns the entity, now in @space, or
 * NULL.
 */
static struct tpm2_rm_entity *tpm2_rm_adopt(struct tpm_chip *chip,
					    struct tpm2_rm_space *space,
					    u32 handle)
{
	struct tpm2_rm_entity *ent;

	ent = tpm2_rm_table_find(&chip->rm->orphans, handle);
	if (!ent || !uid_eq(ent->owner, tpm2_rm_space_uid(space)))
		return NULL;
	tpm2_rm_table_remove(ent);
	tpm2_rm_table_insert(space, ent);
	return ent;
}

/*
 * ContextLoad by the client: a session comes back only to the space that
 * saved it, or, once that space is closed, to the first space that loads
 * it; an object blob becomes a new entity whose blob is the one loaded.
 */
static int tpm2_rm_prepare_context_load(struct tpm2_rm_ctx *ctx)
{
	u32 off = ctx->cmd.param_off, saved;
	const u32 bad_param = TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_VALUE |
			      TPM2_RM_RC_P | BIT(TPM2_RM_RC_N_SHIFT);
	struct tpm2_rm_entity *ent;

	if (off + TPM2_RM_CONTEXT_MIN_SIZE > ctx->len) {
		tpm2_rm_set_answer(ctx, bad_param);
		return 0;
	}
	saved = get_unaligned_be32(&ctx->buf[off + TPM2_RM_CONTEXT_SAVED_HANDLE]);
	if (tpm2_rm_is_session(saved)) {
		ent = tpm2_rm_table_find(ctx->space, saved);
		if (!ent && !tpm2_rm_over_limit(ctx, true, false))
			ent = tpm2_rm_adopt(ctx->chip, ctx->space, saved);
		if (ctx->answer)
			return 0;
		if (!ent || (ent->state != TPM2_RM_ENT_HANDED_OUT &&
			     ent->state != TPM2_RM_ENT_LOST)) {
			tpm2_rm_set_answer(ctx, bad_param ^ TPM2_RC_VALUE ^
						TPM2_RC_HANDLE);
			return 0;
		}
		ctx->hents[0] = ent;
		if (ent->state == TPM2_RM_ENT_LOST) {
			ctx->forget[tpm2_rm_pin(ctx, ent)] = true;
			tpm2_rm_set_answer(ctx, bad_param ^ TPM2_RC_VALUE ^
						TPM2_RC_HANDLE);
			return 0;
		}
		tpm2_rm_pin(ctx, ent);
		tpm2_rm_make_room(ctx->chip, true);
		return 0;
	}
	if (!tpm2_rm_is_transient(saved)) {
		tpm2_rm_set_answer(ctx, bad_param);
		return 0;
	}
	if (tpm2_rm_over_limit(ctx, false, true))
		return 0;
	ent = tpm2_rm_entity_alloc(saved == TPM2_RM_SAVED_SEQUENCE ?
				   TPM2_RM_SEQUENCE : TPM2_RM_OBJECT);
	if (!ent)
		return -ENOMEM;
	ctx->new_ent = ent;
	ent->blob = tpm2_rm_blob_dup(&ctx->buf[off], ctx->len - off);
	if (!ent->blob)
		return -ENOMEM;
	ent->blob_len = ctx->len - off;
	tpm2_rm_make_room(ctx->chip, false);
	return 0;
}

/* A command with a response handle: make sure the new entity has a home. */
static int tpm2_rm_prepare_new(struct tpm2_rm_ctx *ctx)
{
	bool session = ctx->cmd.cc == TPM2_CC_START_AUTH_SESS;
	enum tpm2_rm_kind kind = TPM2_RM_OBJECT;

	if (ctx->cmd.cc == TPM2_CC_CONTEXT_LOAD)
		return tpm2_rm_prepare_context_load(ctx);
	if (tpm2_rm_over_limit(ctx, session, true))
		return 0;
	if (session)
		kind = TPM2_RM_SESSION;
	else if (ctx->cmd.cc == TPM2_CC_HASH_SEQUENCE_START ||
		 ctx->cmd.cc == TPM2_CC_HMAC_START)
		kind = TPM2_RM_SEQUENCE;
	ctx->new_ent = tpm2_rm_entity_alloc(kind);
	if (!ctx->new_ent)
		return -ENOMEM;
	tpm2_rm_make_room(ctx->chip, session);
	return 0;
}

/*
 * FlushContext by the client. Sessions are flushed by their real handle
 * whether loaded or not; an object that is not resident, or a session the RM
 * already had to flush, is dropped by the RM without asking the TPM. A
 * session the space does not own gets an RM-layer TPM_RC_HANDLE for
 * parameter 1 (0x000B01CB); an object
 * handle it does not own is -EINVAL, as with the old resource manager.
 */
static int tpm2_rm_prepare_flush(struct tpm2_rm_ctx *ctx)
{
	u32 h = ctx->cmd.handles[0];
	struct tpm2_rm_entity *ent;
	unsigned int index;

	if (!tpm2_rm_is_transient(h) && !tpm2_rm_is_session(h))
		return 0;
	ent = tpm2_rm_table_find(ctx->space, h);
	if (!ent && tpm2_rm_is_session(h)) {
		/* flushHandle is parameter 1, as in the TPM's own answer */
		tpm2_rm_set_answer(ctx, TSS2_RESMGR_TPM_RC_LAYER |
				   TPM2_RC_HANDLE | TPM2_RM_RC_P |
				   BIT(TPM2_RM_RC_N_SHIFT));
		return 0;
	}
	if (!ent)
		return -EINVAL;
	ctx->hents[0] = ent;
	index = tpm2_rm_pin(ctx, ent);
	if (tpm2_rm_is_session(h) && ent->state != TPM2_RM_ENT_LOST)
		return 0;
	if (ent->state != TPM2_RM_ENT_RESIDENT) {
		ctx->forget[index] = true;
		tpm2_rm_set_answer(ctx, TPM2_RC_SUCCESS);
		return 0;
	}
	put_unaligned_be32(ent->phandle, &ctx->buf[TPM_HEADER_SIZE]);
	return 0;
}

static int tpm2_rm_prepare(struct tpm2_rm_ctx *ctx)
{
	int rc;

	if (ctx->cmd.cc == TPM2_CC_FLUSH_CONTEXT && ctx->cmd.nr_handles == 1)
		return tpm2_rm_prepare_flush(ctx);
	rc = tpm2_rm_map_handles(ctx);
	if (!rc && !ctx->answer)
		rc = tpm2_rm_map_auths(ctx);
	if (!rc && !ctx->answer && ctx->cmd.rhandle)
		rc = tpm2_rm_prepare_new(ctx);
	return rc;
}

/*
 * Transmit the client's command at the locality of its space. Only this
 * command runs there: what the RM sends for it (ContextLoad before,
 * ContextSave and FlushContext to make room on a retry) runs at locality 0,
 * where the chip goes back afterwards, because contexts are not bound to a
 * locality and kernel and raw users expect locality 0.
 */
static ssize_t tpm2_rm_transmit_at(struct tpm2_rm_ctx *ctx)
{
	struct tpm_chip *chip = ctx->chip;
	u8 locality = ctx->space->locality;
	ssize_t ret;
	int rc;

	if (!locality) {
		ctx->sent = true;
		return tpm_transmit_unmanaged(chip, ctx->buf, ctx->bufsiz);
	}
	if (tpm_chip_set_locality(chip, locality))
		return -EOPNOTSUPP;
	ctx->sent = true;
	ret = tpm_transmit_unmanaged(chip, ctx->buf, ctx->bufsiz);
	rc = tpm_chip_set_locality(chip, 0);
	if (rc)
		dev_warn_ratelimited(&chip->dev,
				     "tpmrm: locality 0 not granted again: %d\n",
				     rc);
	return ret;
}

/*
 * Send the mapped command; re-send after freeing a slot on memory errors.
 * Any command may need a slot inside the TPM (TPM2_Create does, and has no
 * response handle). After TPM_RC_CONTEXT_GAP (StartAuthSession, ContextSave,
 * ContextLoad) the oldest saved session is regapped first. A memory or gap
 * error is a bare header, and the drivers write only the response's bytes,
 * so restoring the header restores the command.
 */
static ssize_t tpm2_rm_send(struct tpm2_rm_ctx *ctx)
{
	u8 header[TPM_HEADER_SIZE];
	unsigned int tries = 0;
	ssize_t ret;
	u32 rc;

	memcpy(header, ctx->buf, TPM_HEADER_SIZE);
	for (;;) {
		ret = tpm2_rm_transmit_at(ctx);
		if (ret != TPM_HEADER_SIZE)
			return ret;
		rc = tpm2_rm_rsp_rc(ctx->buf, ret);
		if (!tpm2_rm_retry(ctx->chip, rc, &tries))
			return ret;
		memcpy(ctx->buf, header, TPM_HEADER_SIZE);
	}
}

/*
 * Record the entity named by the response handle. A success without a
 * handle, or with a handle of another type than the command creates, is
 * -EIO: the handle never reaches the client, and tpm2_rm_unsure() flushes
 * whatever the command left in the TPM.
 */
static int tpm2_rm_commit_new(struct tpm2_rm_ctx *ctx, size_t len)
{
	struct tpm2_rm_entity *ent = ctx->new_ent;
	struct tpm2_rm_entity *loaded = ctx->hents[0];
	u32 h;

	if (len < TPM_HEADER_SIZE + 4)
		return -EIO;
	h = get_unaligned_be32(&ctx->buf[TPM_HEADER_SIZE]);
	if (loaded && ctx->cmd.cc == TPM2_CC_CONTEXT_LOAD) {
		if (!tpm2_rm_is_session(h) ||
		    (h ^ loaded->vhandle) & TPM2_RM_VHANDLE_MASK)
			return -EIO;
		tpm2_rm_saved_del(loaded);
		tpm2_rm_check_handle_reuse(ctx->chip, h);
		tpm2_rm_resident_add(ctx->chip->rm, loaded, h);
		return 0;
	}
	if (!ent)
		return -EIO;
	if (ent->kind == TPM2_RM_SESSION && tpm2_rm_is_session(h))
		ent->vhandle = h;
	else if (ent->kind != TPM2_RM_SESSION && tpm2_rm_is_transient(h))
		ent->vhandle = tpm2_rm_table_alloc_vhandle(ctx->space);
	else
		return -EIO;
	tpm2_rm_check_handle_reuse(ctx->chip, h);
	tpm2_rm_table_insert(ctx->space, ent);
	tpm2_rm_resident_add(ctx->chip->rm, ent, h);
	put_unaligned_be32(ent->vhandle, &ctx->buf[TPM_HEADER_SIZE]);
	ctx->new_ent = NULL;
	return 0;
}

/* ContextSave by the client succeeded. */
static void tpm2_rm_commit_save(struct tpm2_rm_ctx *ctx, size_t len)
{
	struct tpm2_rm_entity *ent = ctx->hents[0];
	const u8 *blob_seq = &ctx->buf[TPM_HEADER_SIZE];
	u8 *blob;

	if (!ent)
		return;
	if (ent->kind == TPM2_RM_SESSION) {
		tpm2_rm_resident_del(ctx->chip->rm, ent);
		ent->state = TPM2_RM_ENT_HANDED_OUT;
		if (len >= TPM_HEADER_SIZE + TPM2_RM_CONTEXT_MIN_SIZE)
			tpm2_rm_saved_add(ctx->chip->rm, ent,
					  get_unaligned_be64(blob_seq));
		return;
	}
	if (ent->blob || len <= TPM_HEADER_SIZE)
		return;
	blob = tpm2_rm_blob_dup(&ctx->buf[TPM_HEADER_SIZE],
				len - TPM_HEADER_SIZE);
	if (!blob)
		return;
	ent->blob = blob;
	ent->blob_len = len - TPM_HEADER_SIZE;
}

static void tpm2_rm_forget(struct tpm2_rm_ctx *ctx, struct tpm2_rm_entity *ent)
{
	unsigned int i;

	for (i = 0; i < ctx->nr_ents; i++)
		if (ctx->ents[i] == ent)
			ctx->forget[i] = true;
}

/* Mark what a successful run of the command takes out of the TPM. */
static void tpm2_rm_consumed(struct tpm2_rm_ctx *ctx)
{
	const struct tpm2_rm_auth *auth;
	unsigned int i;

	for (i = 0; i < ctx->cmd.nr_auths; i++) {
		auth = &ctx->cmd.auths[i];
		if (auth->handle == TPM2_RS_PW ||
		    (auth->attrs & TPM2_SA_CONTINUE_SESSION))
			continue;
		tpm2_rm_forget(ctx, tpm2_rm_table_find(ctx->space,
						       auth->handle));
	}
	switch (ctx->cmd.cc) {
	case TPM2_CC_FLUSH_CONTEXT:
	case TPM2_CC_SEQUENCE_COMPLETE:
		tpm2_rm_forget(ctx, ctx->hents[0]);
		break;
	case TPM2_CC_EVENT_SEQUENCE_COMPLETE:
		tpm2_rm_forget(ctx, ctx->hents[1]);
		break;
	}
}

/*
 * The TPM executed the command. Return: @len, or -EIO if the response
 * cannot be what the TPM did (see tpm2_rm_commit_new()).
 */
static ssize_t tpm2_rm_commit(struct tpm2_rm_ctx *ctx, size_t len)
{
	if (tpm2_rm_rsp_rc(ctx->buf, len) != TPM2_RC_SUCCESS)
		return len;
	tpm2_rm_consumed(ctx);
	if (ctx->cmd.cc == TPM2_CC_CONTEXT_SAVE)
		tpm2_rm_commit_save(ctx, len);
	if (ctx->cmd.rhandle && tpm2_rm_commit_new(ctx, len))
		return -EIO;
	return len;
}

/*
 * The client's command went to the TPM but no usable response came back,
 * so the RM cannot tell whether the TPM ran it. What the command would
 * have taken out of the TPM is flushed now and forgotten (its owner asked
 * for it to go); a session it might have context-saved or loaded is
 * flushed too, since the blob is lost; and what it might have created is
 * found with GetCapability and flushed (tpm2_rm_flush_strays()). The
 * sessions of its authorization area go too: if the TPM ran the command
 * it rolled their nonces, which the client never got, so its next use of
 * them could only fail authorization (and count against the dictionary
 * attack protection); it gets the RM's handle error instead.
 */
static void tpm2_rm_unsure(struct tpm2_rm_ctx *ctx)
{
	struct tpm2_rm_entity *ent;
	unsigned int i;

	tpm2_rm_consumed(ctx);
	for (i = 0; i < ctx->cmd.nr_auths; i++)
		tpm2_rm_forget(ctx, tpm2_rm_table_find(ctx->space,
						       ctx->cmd.auths[i].handle));
	if (ctx->cmd.cc == TPM2_CC_CONTEXT_SAVE ||
	    ctx->cmd.cc == TPM2_CC_CONTEXT_LOAD)
		if (ctx->hents[0] && ctx->hents[0]->kind == TPM2_RM_SESSION)
			tpm2_rm_forget(ctx, ctx->hents[0]);
	for (i = 0; i < ctx->nr_ents; i++) {
		ent = ctx->ents[i];
		if (!ctx->forget[i])
			continue;
		if (ent->state == TPM2_RM_ENT_RESIDENT)
			tpm2_rm_flush(ctx->chip, ent->phandle);
		else if (ent->kind == TPM2_RM_SESSION &&
			 ent->state != TPM2_RM_ENT_LOST)
			tpm2_rm_flush(ctx->chip, ent->vhandle);
		tpm2_rm_saved_del(ent);
	}
	if (ctx->cmd.rhandle)
		tpm2_rm_flush_strays(ctx->chip);
	/* a TPM that did not answer may have lost more: check before use */
	ctx->chip->rm->sync = TPM2_RM_UNSURE;
}

/**
 * tpm2_rm_rsp_check() - check what came back for a client's command
 * @buf:	the response
 * @ret:	what the transport returned: the response length, or -errno
 *
 * The transport reports a response shorter than its header, or of another
 * length than the header says, as -EFAULT; for the client that is a TPM
 * that answered badly, -EIO, and so is a response that is not well formed
 * (tpm2_rm_rsp_valid()), such as one whose tag no TPM 2.0 sends. Fault
 * injection (CONFIG_FAIL_FUNCTION) makes this fail after the TPM executed
 * the command, as a transport failure after execution would.
 *
 * Return: @ret, or -EIO.
 */
noinline ssize_t tpm2_rm_rsp_check(const u8 *buf, ssize_t ret)
{
	if (ret == -EFAULT)
		return -EIO;
	if (ret >= 0 && !tpm2_rm_rsp_valid(buf, ret))
		return -EIO;
	return ret;
}

ALLOW_ERROR_INJECTION(tpm2_rm_rsp_check, ERRNO);

/* Unpin, drop what the TPM flushed, refresh the LRU order, free leftovers. */
static void tpm2_rm_finish(struct tpm2_rm_ctx *ctx)
{
	struct tpm2_rm_chip *rm = ctx->chip->rm;
	struct tpm2_rm_entity *ent;
	unsigned int i;

	for (i = 0; i < ctx->nr_ents; i++) {
		ent = ctx->ents[i];
		ent->pinned = false;
		if (!ctx->forget[i]) {
			tpm2_rm_resident_touch(rm, ent);
			continue;
		}
		tpm2_rm_resident_del(rm, ent);
		tpm2_rm_table_remove(ent);
		tpm2_rm_entity_free(ent);
	}
	tpm2_rm_entity_free(ctx->new_ent);
}

static ssize_t tpm2_rm_answer(struct tpm_chip *chip, u8 *buf, u32 rc)
{
	chip->rm->stats.rm_answered++;
	return tpm2_rm_rsp_header(buf, TPM2_ST_NO_SESSIONS, rc);
}

static void tpm2_rm_evict_unpinned(struct tpm_chip *chip, bool sessions);

static ssize_t tpm2_rm_run(struct tpm2_rm_ctx *ctx)
{
	ssize_t ret;

	if (tpm2_rm_cc_flushes_objects(ctx->cmd.cc))
		tpm2_rm_evict_unpinned(ctx->chip, false);
	ret = tpm2_rm_prepare(ctx);
	if (ret)
		return ret;
	if (ctx->answer)
		return tpm2_rm_answer(ctx->chip, ctx->buf, ctx->answer_rc);
	/* preparing it may have left the RM unsure of what the TPM holds */
	tpm2_rm_check_sync(ctx->chip);
	ret = tpm2_rm_rsp_check(ctx->buf, tpm2_rm_send(ctx));
	if (ret > 0)
		ret = tpm2_rm_commit(ctx, ret);
	if (ret < 0 && ctx->sent)
		tpm2_rm_unsure(ctx);
	return ret;
}

/* The TPMA_CC of @cc, or 0 if the TPM does not implement @cc. */
static u32 tpm2_rm_cc_attrs(struct tpm_chip *chip, u32 cc)
{
	int i = tpm2_find_cc(chip, cc);

	return i < 0 ? 0 : chip->cc_attrs_tbl[i];
}

/**
 * tpm2_rm_transmit() - run one client command of a space
 * @chip:	the chip, ops held (so the chip's tpm_mutex is held)
 * @space:	the client's handle table
 * @buf:	command in, response out
 * @bufsiz:	size of @buf
 * @len:	command length, already checked against the header
 *
 * Return: the response length, or a negative errno (then no response).
 */
ssize_t tpm2_rm_transmit(struct tpm_chip *chip, struct tpm2_rm_space *space,
			 u8 *buf, size_t bufsiz, size_t len)
{
	struct tpm2_rm_ctx ctx = {
		.chip = chip, .space = space, .buf = buf, .bufsiz = bufsiz,
		.len = len,
	};
	u32 attrs, cc, rc, property, count;
	ssize_t ret;

	lockdep_assert_held(&chip->tpm_mutex);
	if (len < TPM_HEADER_SIZE || bufsiz < TPM_HEADER_SIZE + 9)
		return -EINVAL;
	tpm2_rm_read_props(chip);
	tpm2_rm_flush_stale(chip);
	tpm2_rm_check_sync(chip);
	chip->rm->clock++;
	cc = get_unaligned_be32(&buf[6]);
	attrs = tpm2_rm_cc_attrs(chip, cc);
	if (cc == TPM2_RM_CC_SET_LOCALITY || !attrs)
		return tpm2_rm_answer(chip, buf, TSS2_RESMGR_TPM_RC_LAYER |
					       TPM2_RC_COMMAND_CODE);
	rc = tpm2_rm_policy_check(READ_ONCE(chip->rm->deny), cc,
				  attrs & BIT(TPM2_CC_ATTR_RHANDLE));
	if (rc)
		return tpm2_rm_answer(chip, buf, rc);
	rc = tpm2_rm_cmd_parse(buf, len, attrs, &ctx.cmd);
	if (rc)
		return tpm2_rm_answer(chip, buf, rc);
	if (tpm2_rm_cap_handles_range(&ctx.cmd, buf, &property, &count)) {
		chip->rm->stats.rm_answered++;
		return tpm2_rm_cap_build(space, property, count, buf, bufsiz);
	}
	ret = tpm2_rm_run(&ctx);
	tpm2_rm_finish(&ctx);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_transmit);

/*
 * Keep a session the client saved after its file is closed, so that another
 * file of the same user may load it; beyond TPM2_RM_MAX_ORPHANS the oldest
 * one is flushed.
 */
static void tpm2_rm_orphan(struct tpm_chip *chip, struct tpm2_rm_entity *ent)
{
	struct tpm2_rm_space *orphans = &chip->rm->orphans;
	struct tpm2_rm_entity *old;

	ent->owner = tpm2_rm_space_uid(ent->space);
	tpm2_rm_table_remove(ent);
	tpm2_rm_table_insert(orphans, ent);
	if (orphans->nr_sessions <= TPM2_RM_MAX_ORPHANS)
		return;
	old = list_first_entry(&orphans->entities, struct tpm2_rm_entity,
			       space_node);
	tpm2_rm_flush(chip, old->vhandle);
	tpm2_rm_table_remove(old);
	tpm2_rm_entity_free(old);
}

/**
 * tpm2_rm_space_del() - flush and free everything a space holds
 * @chip:	the chip; its tpm_mutex is held
 * @space:	the space
 * @tpm_usable:	ops are held and FlushContext can be sent; if false the
 *		TPM is gone and only memory is freed
 *
 * Sessions the client saved itself are the exception: they are kept as
 * orphans (see tpm2_rm_orphan()) while the TPM is usable.
 */
void tpm2_rm_space_del(struct tpm_chip *chip, struct tpm2_rm_space *space,
		       bool tpm_usable)
{
	struct tpm2_rm_entity *ent, *tmp;

	lockdep_assert_held(&chip->tpm_mutex);
	list_for_each_entry_safe(ent, tmp, &space->entities, space_node) {
		if (tpm_usable && ent->state == TPM2_RM_ENT_HANDED_OUT) {
			tpm2_rm_orphan(chip, ent);
			continue;
		}
		if (tpm_usable && ent->state == TPM2_RM_ENT_RESIDENT)
			tpm2_rm_flush(chip, ent->phandle);
		else if (tpm_usable && ent->kind == TPM2_RM_SESSION &&
			 ent->state != TPM2_RM_ENT_LOST)
			tpm2_rm_flush(chip, ent->vhandle);
		tpm2_rm_resident_del(chip->rm, ent);
		tpm2_rm_table_remove(ent);
		tpm2_rm_entity_free(ent);
	}
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_space_del);

/**
 * tpm2_rm_space_park() - hand a closing space's contexts to the chip
 * @chip:	the chip; its tpm_mutex is held, its ops are not
 * @space:	the space of a file being closed
 *
 * When a file is closed while the chip's ops cannot be taken although the
 * chip is still there (tpm_chip_start() failed), nothing can be flushed
 * now. The entities move to &tpm2_rm_chip.parked, still counted and still
 * on the residency list, and tpm2_rm_flush_stale() flushes them before the
 * TPM is next used.
 */
void tpm2_rm_space_park(struct tpm_chip *chip, struct tpm2_rm_space *space)
{
	struct tpm2_rm_entity *ent, *tmp;

	lockdep_assert_held(&chip->tpm_mutex);
	list_for_each_entry_safe(ent, tmp, &space->entities, space_node) {
		tpm2_rm_table_remove(ent);
		tpm2_rm_table_insert(&chip->rm->parked, ent);
	}
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_space_park);

/*
 * Evict every resident object, and every session too if @sessions, that is
 * not pinned. A context that cannot be saved is flushed and marked lost, so
 * the slot is free in any case.
 */
static void tpm2_rm_evict_unpinned(struct tpm_chip *chip, bool sessions)
{
	struct tpm2_rm_entity *ent, *tmp;

	list_for_each_entry_safe(ent, tmp, &chip->rm->lru, lru_node) {
		if (ent->pinned)
			continue;
		if (ent->kind == TPM2_RM_SESSION && !sessions)
			continue;
		tpm2_rm_evict(chip, ent, true);
	}
}

/**
 * tpm2_rm_evict_all() - empty the TPM of RM contexts
 * @chip:	the chip, ops held
 *
 * Called before a raw /dev/tpmN command and before suspend: the raw user
 * sees an empty transient area, and nothing resident is lost when the TPM
 * loses power.
 */
void tpm2_rm_evict_all(struct tpm_chip *chip)
{
	if (!chip->rm)
		return;
	lockdep_assert_held(&chip->tpm_mutex);
	tpm2_rm_flush_stale(chip);
	tpm2_rm_check_sync(chip);
	tpm2_rm_evict_unpinned(chip, true);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_evict_all);

/**
 * tpm2_rm_before_kernel_cmd() - make room for a kernel-internal command
 * @chip:	the chip, ops held
 * @buf:	the command
 * @len:	size of @buf (at least the command length)
 *
 * The kernel's own contexts (its HMAC session, its null key, a trusted
 * key's blob) hold slots like an RM client's: tpm2_rm_kernel_classify()
 * says which slots the command takes (a persistent object it names takes
 * an object slot while it runs), and only as many RM contexts of that kind
 * are evicted as the free slots fall short. Commands of
 * tpm2_rm_cmd_needs_no_slot() without an authorization area touch nothing.
 *
 * The rule for kernel commands and RM contexts: a kernel command never
 * uses a context of a /dev/tpmrm space. A space's objects and sessions are
 * reached only through the space's own commands; no interface lets an
 * owner lend one to the kernel, so the kernel may not use one. A kernel
 * command that names a transient object or a session that is not the
 * kernel's own (trusted keys' keyhandle= or policyhandle=) is foreign:
 * every resident RM context is evicted first, so the command finds a
 * client's context saved, not loaded, and the TPM refuses it, as with the
 * old resource manager.
 */
void tpm2_rm_before_kernel_cmd(struct tpm_chip *chip, const u8 *buf,
			       size_t len)
{
	struct tpm2_rm_kcmd kc;
	u32 attrs, size;

	if (!chip->rm || len < TPM_HEADER_SIZE)
		return;
	if (tpm2_rm_cmd_needs_no_slot(get_unaligned_be32(&buf[6])) &&
	    get_unaligned_be16(&buf[0]) == TPM2_ST_NO_SESSIONS)
		return;
	lockdep_assert_held(&chip->tpm_mutex);
	tpm2_rm_check_sync(chip);
	size = min_t(size_t, get_unaligned_be32(&buf[2]), len);
	attrs = tpm2_rm_cc_attrs(chip, get_unaligned_be32(&buf[6]));
	tpm2_rm_kernel_classify(buf, size, attrs, &chip->rm->kernel, &kc);
	if (kc.slot != TPM2_RM_KSLOT_NONE || kc.objects || kc.foreign)
		tpm2_rm_flush_stale(chip);
	if (kc.foreign)
		tpm2_rm_evict_unpinned(chip, true);
	if (kc.slot == TPM2_RM_KSLOT_SESSION)
		tpm2_rm_make_room(chip, true);
	if (kc.objects)
		tpm2_rm_make_room_n(chip, false, kc.objects);
	kc.active = true;
	chip->rm->kernel.pending = kc;
}

/**
 * tpm2_rm_after_transmit() - watch commands for a TPM2_Startup
 * @chip:	the chip, ops held
 * @cmd:	the command as sent (at least its header)
 * @cmd_len:	bytes at @cmd
 * @tpm_rc:	the TPM's response code
 *
 * Called by tpm_transmit_unmanaged() for every command, whoever sent it
 * (the kernel, a raw /dev/tpmN user, the RM). A successful TPM2_Startup
 * means the TPM was reset or restarted behind the RM's back (swtpm's
 * control channel, a firmware resume path, a raw user after
 * TPM2_Shutdown): see tpm2_rm_drop_state().
 */
void tpm2_rm_after_transmit(struct tpm_chip *chip, const u8 *cmd,
			    size_t cmd_len, u32 tpm_rc)
{
	if (!chip->rm || tpm_rc != TPM2_RC_SUCCESS ||
	    cmd_len < TPM_HEADER_SIZE + 2 ||
	    get_unaligned_be32(&cmd[6]) != TPM2_CC_STARTUP)
		return;
	/* the kernel's own contexts are gone from the TPM as well */
	chip->rm->kernel.nr_objects = 0;
	chip->rm->kernel.nr_sessions = 0;
	tpm2_rm_drop_state(chip, get_unaligned_be16(&cmd[TPM_HEADER_SIZE]) ==
				 TPM2_SU_CLEAR);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_after_transmit);

/**
 * tpm2_rm_locality_check() - may a space's commands run at a locality
 * @privileged:	the caller has CAP_SYS_ADMIN
 * @locality:	the locality asked for
 * @selectable:	the driver can select localities other than 0
 *
 * Locality 0 is always allowed; 1 to TPMRM_LOCALITY_MAX need a privileged
 * caller and a driver that can select them. Locality 4 is the dynamic root
 * of trust's and is never allowed.
 *
 * Return: 0, -EINVAL above TPMRM_LOCALITY_MAX, -EPERM for an unprivileged
 * caller, -EOPNOTSUPP if the driver cannot select @locality.
 */
int tpm2_rm_locality_check(bool privileged, u32 locality, bool selectable)
{
	if (locality > TPMRM_LOCALITY_MAX)
		return -EINVAL;
	if (!locality)
		return 0;
	if (!privileged)
		return -EPERM;
	if (!selectable)
		return -EOPNOTSUPP;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_locality_check);

/**
 * tpm2_rm_set_locality() - choose the locality of a space's later commands
 * @chip:	the chip, ops held
 * @space:	the space; none of its commands may be running
 * @locality:	0 to TPMRM_LOCALITY_MAX
 * @privileged:	the caller has CAP_SYS_ADMIN in the initial user namespace
 *
 * After tpm2_rm_locality_check() the driver is asked for @locality once,
 * and the chip goes back to locality 0, so a locality the TPM does not
 * grant is refused now and not at the next command.
 *
 * Return: 0 or a negative errno of tpm2_rm_locality_check(); -EOPNOTSUPP
 * also if the TPM did not grant @locality, -EIO if it did not grant
 * locality 0 again.
 */
int tpm2_rm_set_locality(struct tpm_chip *chip, struct tpm2_rm_space *space,
			 u32 locality, bool privileged)
{
	bool selectable = chip->flags & TPM_CHIP_FLAG_LOCALITIES;
	int rc;

	lockdep_assert_held(&chip->tpm_mutex);
	rc = tpm2_rm_locality_check(privileged, locality, selectable);
	if (rc)
		return rc;
	if (locality) {
		rc = tpm_chip_set_locality(chip, locality);
		if (tpm_chip_set_locality(chip, 0))
			return -EIO;
		if (rc)
			return -EOPNOTSUPP;
	}
	space->locality = locality;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_set_locality);

/**
 * tpm2_rm_chip_init() - allocate the residency state of a TPM 2.0 chip
 * @chip:	the chip
 *
 * Return: 0 or -ENOMEM.
 */
int tpm2_rm_chip_init(struct tpm_chip *chip)
{
	struct tpm2_rm_chip *rm;

	rm = kzalloc(sizeof(*rm), GFP_KERNEL);
	if (!rm)
		return -ENOMEM;
	INIT_LIST_HEAD(&rm->lru);
	INIT_LIST_HEAD(&rm->saved);
	tpm2_rm_space_init(&rm->orphans);
	rm->orphans.total = &rm->total;
	tpm2_rm_space_init(&rm->parked);
	rm->parked.total = &rm->total;
	rm->object_slots = 3;
	rm->session_slots = 3;
	rm->active_sessions = 64;
	rm->quota.file_objects = TPM2_RM_QUOTA_FILE_OBJECTS;
	rm->quota.file_sessions = TPM2_RM_QUOTA_FILE_SESSIONS;
	rm->quota.user_objects = TPM2_RM_QUOTA_USER_OBJECTS;
	rm->quota.user_sessions = TPM2_RM_QUOTA_USER_SESSIONS;
	rm->quota.reserve_sessions = TPM2_RM_RESERVE_SESSIONS;
	rm->deny = TPM2_RM_DENY_DEFAULT;
	INIT_LIST_HEAD(&rm->users);
	spin_lock_init(&rm->users_lock);
	chip->rm = rm;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_chip_init);

/**
 * tpm2_rm_chip_free() - free the residency state when the chip is released
 * @chip:	the chip; no space refers to it any more
 *
 * The TPM is gone by now; orphaned and parked entities are only forgotten.
 */
void tpm2_rm_chip_free(struct tpm_chip *chip)
{
	struct tpm2_rm_entity *ent, *tmp;

	if (!chip->rm)
		return;
	list_for_each_entry_safe(ent, tmp, &chip->rm->parked.entities,
				 space_node) {
		tpm2_rm_resident_del(chip->rm, ent);
		tpm2_rm_table_remove(ent);
		tpm2_rm_entity_free(ent);
	}
	WARN_ON(!list_empty(&chip->rm->lru));
	list_for_each_entry_safe(ent, tmp, &chip->rm->orphans.entities,
				 space_node) {
		tpm2_rm_table_remove(ent);
		tpm2_rm_entity_free(ent);
	}
	kfree(chip->rm);
	chip->rm = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_chip_free);

static struct tpm2_rm_user *tpm2_rm_user_find(struct tpm2_rm_chip *rm,
					      kuid_t uid)
{
	struct tpm2_rm_user *user;

	list_for_each_entry(user, &rm->users, node)
		if (uid_eq(user->uid, uid))
			return user;
	return NULL;
}

/**
 * tpm2_rm_user_get() - charge a space to the quota of its opener
 * @chip:	the chip
 * @space:	a new space that holds nothing yet
 * @uid:	effective uid of the opener
 *
 * Finds or creates the chip's entry for @uid and takes a reference on it
 * for @space. Called at open; takes &tpm2_rm_chip.users_lock, not the
 * tpm_mutex.
 *
 * Return: 0 or -ENOMEM.
 */
int tpm2_rm_user_get(struct tpm_chip *chip, struct tpm2_rm_space *space,
		     kuid_t uid)
{
	struct tpm2_rm_chip *rm = chip->rm;
	struct tpm2_rm_user *user, *spare;

	spare = kzalloc(sizeof(*spare), GFP_KERNEL);
	if (!spare)
		return -ENOMEM;
	spin_lock(&rm->users_lock);
	user = tpm2_rm_user_find(rm, uid);
	if (!user) {
		user = spare;
		spare = NULL;
		user->uid = uid;
		list_add(&user->node, &rm->users);
	}
	user->refs++;
	spin_unlock(&rm->users_lock);
	kfree(spare);
	space->user = user;
	space->total = &rm->total;
	return 0;
}

/**
 * tpm2_rm_user_put() - drop a space's reference on its user entry
 * @chip:	the chip
 * @space:	a space emptied by tpm2_rm_space_del()
 *
 * The entry is freed with its last space.
 */
void tpm2_rm_user_put(struct tpm_chip *chip, struct tpm2_rm_space *space)
{
	struct tpm2_rm_chip *rm = chip->rm;
	struct tpm2_rm_user *user = space->user;
	bool last;

	if (!user)
		return;
	spin_lock(&rm->users_lock);
	last = !--user->refs;
	if (last)
		list_del(&user->node);
	spin_unlock(&rm->users_lock);
	space->user = NULL;
	if (last) {
		WARN_ON(user->usage.objects || user->usage.sessions);
		kfree(user);
	}
}

/* A counter file of the "rm" group: @offset locates it in tpm2_rm_stats. */
struct tpm2_rm_stat_attr {
	struct device_attribute attr;
	size_t offset;
};

static ssize_t tpm2_rm_stat_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	const struct tpm2_rm_stat_attr *sa =
		container_of(attr, struct tpm2_rm_stat_attr, attr);
	const u8 *stats = (const u8 *)&to_tpm_chip(dev)->rm->stats;

	return sysfs_emit(buf, "%lu\n",
			  READ_ONCE(*(const unsigned long *)(stats +
							     sa->offset)));
}

static struct tpm2_rm_stat_attr tpm2_rm_stat_attrs[] = {
	{ __ATTR(context_loads, 0444, tpm2_rm_stat_show, NULL),
	  offsetof(struct tpm2_rm_stats, context_loads) },
	{ __ATTR(context_saves, 0444, tpm2_rm_stat_show, NULL),
	  offsetof(struct tpm2_rm_stats, context_saves) },
	{ __ATTR(flushes, 0444, tpm2_rm_stat_show, NULL),
	  offsetof(struct tpm2_rm_stats, flushes) },
	{ __ATTR(evictions, 0444, tpm2_rm_stat_show, NULL),
	  offsetof(struct tpm2_rm_stats, evictions) },
	{ __ATTR(retries, 0444, tpm2_rm_stat_show, NULL),
	  offsetof(struct tpm2_rm_stats, retries) },
	{ __ATTR(rm_answered, 0444, tpm2_rm_stat_show, NULL),
	  offsetof(struct tpm2_rm_stats, rm_answered) },
	{ __ATTR(regaps, 0444, tpm2_rm_stat_show, NULL),
	  offsetof(struct tpm2_rm_stats, regaps) },
};

static ssize_t resident_objects_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct tpm_chip *chip = to_tpm_chip(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(chip->rm->nr_objects));
}
static DEVICE_ATTR_RO(resident_objects);

static ssize_t resident_sessions_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	struct tpm_chip *chip = to_tpm_chip(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(chip->rm->nr_sessions));
}
static DEVICE_ATTR_RO(resident_sessions);

static ssize_t kernel_objects_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct tpm_chip *chip = to_tpm_chip(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(chip->rm->kernel.nr_objects));
}
static DEVICE_ATTR_RO(kernel_objects);

static ssize_t kernel_sessions_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct tpm_chip *chip = to_tpm_chip(dev);

	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(chip->rm->kernel.nr_sessions));
}
static DEVICE_ATTR_RO(kernel_sessions);

/* A quota file of the "rm" group: @offset locates it in tpm2_rm_quota. */
struct tpm2_rm_quota_attr {
	struct device_attribute attr;
	size_t offset;
};

static unsigned int *tpm2_rm_quota_field(struct device *dev,
					 struct device_attribute *attr)
{
	const struct tpm2_rm_quota_attr *qa =
		container_of(attr, struct tpm2_rm_quota_attr, attr);
	u8 *quota = (u8 *)&to_tpm_chip(dev)->rm->quota;

	return (unsigned int *)(quota + qa->offset);
}

static ssize_t tpm2_rm_quota_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(*tpm2_rm_quota_field(dev, attr)));
}

static ssize_t tpm2_rm_quota_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	unsigned int val;
	int rc;

	rc = kstrtouint(buf, 0, &val);
	if (rc)
		return rc;
	WRITE_ONCE(*tpm2_rm_quota_field(dev, attr), val);
	return count;
}

#define TPM2_RM_QUOTA_ATTR(name, field)					\
	{ __ATTR(name, 0644, tpm2_rm_quota_show, tpm2_rm_quota_store),	\
	  offsetof(struct tpm2_rm_quota, field) }

static struct tpm2_rm_quota_attr tpm2_rm_quota_attrs[] = {
	TPM2_RM_QUOTA_ATTR(quota_file_objects, file_objects),
	TPM2_RM_QUOTA_ATTR(quota_file_sessions, file_sessions),
	TPM2_RM_QUOTA_ATTR(quota_user_objects, user_objects),
	TPM2_RM_QUOTA_ATTR(quota_user_sessions, user_sessions),
	TPM2_RM_QUOTA_ATTR(reserve_sessions, reserve_sessions),
};

static ssize_t held_objects_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct tpm_chip *chip = to_tpm_chip(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(chip->rm->total.objects));
}
static DEVICE_ATTR_RO(held_objects);

static ssize_t held_sessions_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct tpm_chip *chip = to_tpm_chip(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(chip->rm->total.sessions));
}
static DEVICE_ATTR_RO(held_sessions);

static ssize_t deny_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	unsigned long deny = READ_ONCE(to_tpm_chip(dev)->rm->deny);
	unsigned int class;
	int len = 0;

	for (class = 0; class < TPM2_RM_NR_CLASSES; class++)
		if (deny & BIT(class))
			len += sysfs_emit_at(buf, len, "%s%s", len ? " " : "",
					     tpm2_rm_class_name(class));
	if (!len)
		len = sysfs_emit(buf, "none");
	return len + sysfs_emit_at(buf, len, "\n");
}

/*
 * Concurrent writers could lose an update between the read and the write
 * of the set; writes are root's and rare, so a mutex makes them atomic.
 */
static DEFINE_MUTEX(tpm2_rm_deny_lock);

static ssize_t deny_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct tpm2_rm_chip *rm = to_tpm_chip(dev)->rm;
	unsigned long deny;
	int rc;

	mutex_lock(&tpm2_rm_deny_lock);
	deny = READ_ONCE(rm->deny);
	rc = tpm2_rm_deny_parse(buf, &deny);
	if (!rc)
		WRITE_ONCE(rm->deny, deny);
	mutex_unlock(&tpm2_rm_deny_lock);
	return rc ? rc : count;
}
static DEVICE_ATTR_RW(deny);

static struct attribute *tpm2_rm_attrs[] = {
	&tpm2_rm_quota_attrs[0].attr.attr,
	&tpm2_rm_quota_attrs[1].attr.attr,
	&tpm2_rm_quota_attrs[2].attr.attr,
	&tpm2_rm_quota_attrs[3].attr.attr,
	&tpm2_rm_quota_attrs[4].attr.attr,
	&dev_attr_held_objects.attr,
	&dev_attr_held_sessions.attr,
	&dev_attr_deny.attr,
	&tpm2_rm_stat_attrs[0].attr.attr,
	&tpm2_rm_stat_attrs[1].attr.attr,
	&tpm2_rm_stat_attrs[2].attr.attr,
	&tpm2_rm_stat_attrs[3].attr.attr,
	&tpm2_rm_stat_attrs[4].attr.attr,
	&tpm2_rm_stat_attrs[5].attr.attr,
	&tpm2_rm_stat_attrs[6].attr.attr,
	&dev_attr_resident_objects.attr,
	&dev_attr_resident_sessions.attr,
	&dev_attr_kernel_objects.attr,
	&dev_attr_kernel_sessions.attr,
	NULL,
};

const struct attribute_group tpm2_rm_attr_group = {
	.name = "rm",
	.attrs = tpm2_rm_attrs,
};
