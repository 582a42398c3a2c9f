// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's own TPM 2.0 contexts next to the resource manager's.
 *
 * With TCG_TPM2_HMAC the kernel keeps the context of a null-seed primary
 * (chip->null_key_context) and an HMAC session (chip->auth) of its own.
 * tpm2-sessions.c saves and loads that primary with tpm2_save_context()
 * and tpm2_load_context(), which live here now that the old resource
 * manager's tpm2-space.c is gone. Both send through tpm_transmit_cmd(), so
 * tpm2_rm_before_kernel_cmd() sees every ContextLoad first and makes room
 * for it; should the TPM still answer with an out-of-memory code, one RM
 * context is evicted and the load is sent again, so RM clients can never
 * make the kernel fail to load its null key.
 */

#include <linux/kernel.h>
#include <linux/tpm.h>
#include <linux/unaligned.h>
#include <kunit/visibility.h>
#include "tpm.h"
#include "tpm2-rm.h"

/* Size of the TPMS_CONTEXT at @ctx: the header plus its TPM2B blob. */
static unsigned int tpm2_rm_context_size(const u8 *ctx)
{
	return TPM2_RM_CONTEXT_MIN_SIZE +
	       get_unaligned_be16(&ctx[TPM2_RM_CONTEXT_MIN_SIZE - 2]);
}

/* Send ContextLoad of @ctx; the TPM's answer stays in @tb. */
static int tpm2_rm_kernel_context_load(struct tpm_chip *chip,
				       struct tpm_buf *tb, const u8 *ctx,
				       unsigned int size)
{
	int rc;

	rc = tpm_buf_init(tb, TPM2_ST_NO_SESSIONS, TPM2_CC_CONTEXT_LOAD);
	if (rc)
		return rc;
	tpm_buf_append(tb, ctx, size);
	rc = tpm_transmit_cmd(chip, tb, 4, NULL);
	if (rc < 0)
		tpm_buf_destroy(tb);
	return rc;
}

/* Map the TPM's answer to ContextLoad to what tpm2-sessions.c expects. */
static int tpm2_rm_load_context_err(struct tpm_chip *chip, u32 tpm_rc)
{
	if (tpm2_rc_value(tpm_rc) == TPM2_RC_INTEGRITY)
		return -EINVAL;
	if (tpm2_rc_value(tpm_rc) == TPM2_RC_HANDLE ||
	    tpm_rc == TPM2_RC_REFERENCE_H0)
		return -ENOENT;
	dev_warn(&chip->dev, "ContextLoad failed: TPM error 0x%04X\n", tpm_rc);
	return -EFAULT;
}

/**
 * tpm2_load_context() - load a saved context for the kernel
 * @chip:	the chip, ops held
 * @buf:	buffer holding TPMS_CONTEXT structures
 * @offset:	offset of the context in @buf; advanced past it on success
 * @handle:	receives the handle the TPM gave the loaded context
 *
 * A TPM_RC_OBJECT_MEMORY or TPM_RC_SESSION_MEMORY answer evicts one
 * resource manager context and sends the command again, up to
 * TPM2_RM_MAX_RETRIES times.
 *
 * Return: 0; -EINVAL if the TPM found the context's integrity broken (the
 * TPM was reset or its null seed changed); -ENOENT if the handle is no
 * longer valid; -EFAULT for any other TPM error or a system error.
 */
int tpm2_load_context(struct tpm_chip *chip, u8 *buf,
		      unsigned int *offset, u32 *handle)
{
	const u8 *ctx = &buf[*offset];
	unsigned int size = tpm2_rm_context_size(ctx);
	unsigned int tries = 0;
	struct tpm_buf tb;
	int rc;

	for (;;) {
		rc = tpm2_rm_kernel_context_load(chip, &tb, ctx, size);
		if (rc < 0) {
			dev_warn(&chip->dev, "ContextLoad failed: %d\n", rc);
			return -EFAULT;
		}
		if (!rc || !chip->rm || tries++ >= TPM2_RM_MAX_RETRIES ||
		    !tpm2_rm_evict_for_retry(chip, rc))
			break;
		tpm_buf_destroy(&tb);
	}
	if (rc) {
		tpm_buf_destroy(&tb);
		return tpm2_rm_load_context_err(chip, rc);
	}
	*handle = get_unaligned_be32(&tb.data[TPM_HEADER_SIZE]);
	*offset += size;
	tpm_buf_destroy(&tb);
	return 0;
}

/**
 * tpm2_save_context() - save a loaded context for the kernel
 * @chip:	the chip, ops held
 * @handle:	the loaded object or session
 * @buf:	buffer that receives the TPMS_CONTEXT
 * @buf_size:	size of @buf
 * @offset:	where in @buf the context goes; advanced past it on success
 *
 * Return: 0; -ENOENT if @handle is not loaded; -ENOMEM if the context
 * does not fit in @buf; -EFAULT for any other TPM error or a system error.
 */
int tpm2_save_context(struct tpm_chip *chip, u32 handle, u8 *buf,
		      unsigned int buf_size, unsigned int *offset)
{
	unsigned int size;
	struct tpm_buf tb;
	int rc;

	rc = tpm_buf_init(&tb, TPM2_ST_NO_SESSIONS, TPM2_CC_CONTEXT_SAVE);
	if (rc)
		return rc;
	tpm_buf_append_u32(&tb, handle);
	rc = tpm_transmit_cmd(chip, &tb, 0, NULL);
	if (rc) {
		if (rc > 0 && tpm2_rc_value(rc) != TPM2_RC_REFERENCE_H0)
			dev_warn(&chip->dev, "ContextSave failed: 0x%04X\n", rc);
		rc = rc > 0 && tpm2_rc_value(rc) == TPM2_RC_REFERENCE_H0 ?
		     -ENOENT : -EFAULT;
		goto out_destroy;
	}
	size = tpm_buf_length(&tb) - TPM_HEADER_SIZE;
	if (size > buf_size - *offset) {
		rc = -ENOMEM;
		goto out_destroy;
	}
	memcpy(&buf[*offset], &tb.data[TPM_HEADER_SIZE], size);
	*offset += size;
out_destroy:
	tpm_buf_destroy(&tb);
	return rc;
}

/* The slot a kernel command with code @cc takes, ContextLoad aside. */
static enum tpm2_rm_kslot tpm2_rm_kernel_cc_slot(u32 cc)
{
	switch (cc) {
	case TPM2_CC_CREATE_PRIMARY:
	case TPM2_CC_LOAD:
	case TPM2_CC_HASH_SEQUENCE_START:
	case TPM2_CC_LOAD_EXTERNAL:
	case TPM2_CC_HMAC_START:
		return TPM2_RM_KSLOT_OBJECT;
	case TPM2_CC_START_AUTH_SESS:
		return TPM2_RM_KSLOT_SESSION;
	default:
		return TPM2_RM_KSLOT_NONE;
	}
}

static bool tpm2_rm_kernel_has(const u32 *tbl, unsigned int nr, u32 handle)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (tbl[i] == handle)
			return true;
	return false;
}

/* Is @h a transient object or a session that is not one of @k's? */
static bool tpm2_rm_kernel_foreign(const struct tpm2_rm_kernel *k, u32 h)
{
	if (tpm2_rm_is_session(h))
		return !tpm2_rm_kernel_has(k->sessions, k->nr_sessions, h);
	if (tpm2_rm_is_transient(h))
		return !tpm2_rm_kernel_has(k->objects, k->nr_objects, h);
	return false;
}

/* ContextLoad: the saved handle inside the blob says which slot it takes. */
static void tpm2_rm_kernel_classify_load(const u8 *buf, size_t len,
					 struct tpm2_rm_kcmd *kc)
{
	u32 saved;

	kc->loads = true;
	kc->slot = TPM2_RM_KSLOT_OBJECT;
	kc->objects = 1;
	if (len < TPM_HEADER_SIZE + TPM2_RM_CONTEXT_SAVED_HANDLE + 4)
		return;
	saved = get_unaligned_be32(&buf[TPM_HEADER_SIZE +
					TPM2_RM_CONTEXT_SAVED_HANDLE]);
	if (tpm2_rm_is_session(saved)) {
		kc->slot = TPM2_RM_KSLOT_SESSION;
		kc->objects = 0;
	}
}

/**
 * tpm2_rm_kernel_classify() - what a kernel command needs and changes
 * @buf:	the command
 * @len:	its length
 * @attrs:	its TPMA_CC from the chip's table, 0 if unknown
 * @k:		the kernel's loaded contexts
 * @kc:		receives the answer
 *
 * ContextLoad takes an object or a session slot by the handle saved in
 * the blob, StartAuthSession a session slot, CreatePrimary, Load and the
 * sequence starts an object slot; everything else none. Create takes an
 * object slot while it runs, and so does each persistent object in the
 * handle area (@kc->objects counts them with the loaded object). FlushContext
 * removes its handle. A session in the authorization area without
 * continueSession ends with the command. A transient object or a session
 * that is not among @k's, named in the handle area, the authorization
 * area or by FlushContext, marks the command @foreign, and so does a
 * command that cannot be parsed.
 */
void tpm2_rm_kernel_classify(const u8 *buf, size_t len, u32 attrs,
			     const struct tpm2_rm_kernel *k,
			     struct tpm2_rm_kcmd *kc)
{
	struct tpm2_rm_cmd cmd;
	unsigned int i;
	u32 cc;

	memset(kc, 0, sizeof(*kc));
	if (len < TPM_HEADER_SIZE)
		return;
	cc = get_unaligned_be32(&buf[6]);
	if (cc == TPM2_CC_CONTEXT_LOAD) {
		tpm2_rm_kernel_classify_load(buf, len, kc);
		return;
	}
	kc->slot = tpm2_rm_kernel_cc_slot(cc);
	kc->loads = kc->slot != TPM2_RM_KSLOT_NONE;
	kc->objects = kc->slot == TPM2_RM_KSLOT_OBJECT;
	/* TPM2_Create builds the new object in a slot, then returns it */
	if (cc == TPM2_CC_CREATE)
		kc->objects = 1;
	if (cc == TPM2_CC_FLUSH_CONTEXT && len >= TPM_HEADER_SIZE + 4) {
		kc->flushed = get_unaligned_be32(&buf[TPM_HEADER_SIZE]);
		kc->foreign = tpm2_rm_kernel_foreign(k, kc->flushed);
		return;
	}
	if (tpm2_rm_cmd_parse(buf, len, attrs, &cmd)) {
		kc->foreign = true;
		return;
	}
	for (i = 0; i < cmd.nr_handles; i++) {
		if (tpm2_rm_kernel_foreign(k, cmd.handles[i]))
			kc->foreign = true;
		if (tpm2_handle_mso(cmd.handles[i]) ==
		    TPM2_MSO_PERSISTENT)
			kc->objects++;
	}
	for (i = 0; i < cmd.nr_auths; i++) {
		u32 h = cmd.auths[i].handle;

		if (!tpm2_rm_is_session(h))
			continue;
		if (tpm2_rm_kernel_foreign(k, h))
			kc->foreign = true;
		if (!(cmd.auths[i].attrs & TPM2_SA_CONTINUE_SESSION))
			kc->ended[kc->nr_ended++] = h;
	}
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_kernel_classify);

static void tpm2_rm_kernel_drop(u32 *tbl, unsigned int *nr, u32 handle)
{
	unsigned int i;

	for (i = 0; i < *nr; i++) {
		if (tbl[i] != handle)
			continue;
		tbl[i] = tbl[--*nr];
		return;
	}
}

/**
 * tpm2_rm_kernel_commit() - account for a kernel command the TPM answered
 * @k:		the kernel's loaded contexts
 * @kc:		the command, from tpm2_rm_kernel_classify()
 * @tpm_rc:	the TPM's response code
 * @rhandle:	the response's first handle, if any
 *
 * FlushContext drops its handle whatever the answer: afterwards the TPM
 * holds nothing under it. Loads and ended sessions count on success only.
 */
void tpm2_rm_kernel_commit(struct tpm2_rm_kernel *k,
			   const struct tpm2_rm_kcmd *kc, u32 tpm_rc,
			   u32 rhandle)
{
	unsigned int i;

	if (kc->flushed) {
		tpm2_rm_kernel_drop(k->objects, &k->nr_objects, kc->flushed);
		tpm2_rm_kernel_drop(k->sessions, &k->nr_sessions, kc->flushed);
	}
	if (tpm_rc != TPM2_RC_SUCCESS)
		return;
	for (i = 0; i < kc->nr_ended; i++)
		tpm2_rm_kernel_drop(k->sessions, &k->nr_sessions, kc->ended[i]);
	if (!kc->loads)
		return;
	if (tpm2_rm_is_session(rhandle)) {
		if (k->nr_sessions < TPM2_RM_KERNEL_MAX)
			k->sessions[k->nr_sessions++] = rhandle;
	} else if (tpm2_rm_is_transient(rhandle)) {
		if (k->nr_objects < TPM2_RM_KERNEL_MAX)
			k->objects[k->nr_objects++] = rhandle;
	}
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_kernel_commit);

/**
 * tpm2_rm_kernel_holds() - is a handle one of the kernel's own contexts
 * @k:		the kernel's loaded contexts
 * @handle:	a transient object or a loaded session
 *
 * Return: true if the kernel loaded @handle and has not flushed it.
 */
bool tpm2_rm_kernel_holds(const struct tpm2_rm_kernel *k, u32 handle)
{
	return tpm2_rm_kernel_has(k->objects, k->nr_objects, handle) ||
	       tpm2_rm_kernel_has(k->sessions, k->nr_sessions, handle);
}

/**
 * tpm2_rm_kernel_forget() - drop a handle the TPM gave to someone else
 * @k:		the kernel's loaded contexts
 * @handle:	a handle the TPM just gave to a new RM context
 *
 * The TPM gives out only free handles: a kernel context recorded under
 * @handle is gone (a raw /dev/tpmN user flushed it, or the TPM was reset).
 */
void tpm2_rm_kernel_forget(struct tpm2_rm_kernel *k, u32 handle)
{
	tpm2_rm_kernel_drop(k->objects, &k->nr_objects, handle);
	tpm2_rm_kernel_drop(k->sessions, &k->nr_sessions, handle);
}

/**
 * tpm2_rm_after_kernel_cmd() - account for the kernel command just sent
 * @chip:	the chip, ops held
 * @buf:	the response
 * @len:	its length, or the negative errno of the transmit
 */
void tpm2_rm_after_kernel_cmd(struct tpm_chip *chip, const u8 *buf,
			      ssize_t len)
{
	struct tpm2_rm_kernel *k;
	u32 rhandle = 0;

	/* not active: the hook let the command pass untouched (no lock) */
	if (!chip->rm || !chip->rm->kernel.pending.active)
		return;
	lockdep_assert_held(&chip->tpm_mutex);
	k = &chip->rm->kernel;
	k->pending.active = false;
	if (len < TPM_HEADER_SIZE) {
		/* unknown outcome: a flushed handle is gone all the same */
		tpm2_rm_kernel_commit(k, &k->pending, TPM2_RC_INITIALIZE, 0);
		return;
	}
	if (len >= TPM_HEADER_SIZE + 4)
		rhandle = get_unaligned_be32(&buf[TPM_HEADER_SIZE]);
	tpm2_rm_kernel_commit(k, &k->pending, tpm2_rm_rsp_rc(buf, len),
			      rhandle);
}

/**
 * tpm2_rm_kernel_yield() - end the kernel's session for an RM client
 * @chip:	the chip, ops held
 *
 * Called when an RM client's command needs every session slot (a command
 * with three sessions on a TPM with three slots) and no RM session can be
 * evicted. The kernel starts a new session at its next command.
 *
 * Return: true if a session slot was freed.
 */
bool tpm2_rm_kernel_yield(struct tpm_chip *chip)
{
	struct tpm2_rm_kernel *k = &chip->rm->kernel;
	unsigned int before = k->nr_sessions;

	if (!before)
		return false;
	tpm2_end_auth_session(chip);
	/* not chip->auth after all: flush what the RM counted */
	if (k->nr_sessions == before)
		tpm2_flush_context(chip, k->sessions[0]);
	return k->nr_sessions < before;
}
