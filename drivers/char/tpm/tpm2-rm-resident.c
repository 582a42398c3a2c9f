// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: residency.
 *
 * One per-chip table knows which TPM slot holds which space's entity and
 * picks eviction victims, never an entity the current command names: the
 * one expected to be needed last, judging by how many RM commands passed
 * between its last two uses. A context stays resident until its slot is
 * needed.
 * Objects are evicted with FlushContext alone once a valid blob exists
 * (objects never change); sequences are re-saved because they do change;
 * sessions are evicted with ContextSave alone. The thin transport at the top
 * of this file sends ContextSave, ContextLoad and FlushContext through
 * tpm_transmit_unmanaged(). Everything runs under the chip's tpm_mutex.
 */

#include <linux/error-injection.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/slab.h>
#include <linux/tpm.h>
#include <linux/unaligned.h>
#include <kunit/visibility.h>
#include "tpm.h"
#include "tpm2-rm.h"

/*
 * Send @buf; on success *len is the response length, *tpm_rc its code.
 * tpm_transmit_unmanaged() sends again on TPM_RC_RETRY and TPM_RC_TESTING;
 * TPM_RC_YIELDED too says the command did not complete and may be sent
 * again, so it is resent here, from a copy since the response overwrites
 * @buf. An RM that took it for a failure would drop the context it was
 * saving or believe a slot free that the TPM still holds. A command that
 * got no usable answer may have run: the RM is then unsure of its tables.
 */
static int tpm2_rm_send(struct tpm_chip *chip, struct tpm_buf *buf,
			size_t *len, u32 *tpm_rc)
{
	u32 cmd_len = tpm_buf_length(buf);
	unsigned int tries = 0;
	ssize_t ret;
	u8 *cmd;

	if (buf->flags & TPM_BUF_OVERFLOW)
		return -E2BIG;
	cmd = kmemdup(buf->data, cmd_len, GFP_KERNEL);
	if (!cmd)
		return -ENOMEM;
	for (;;) {
		ret = tpm_transmit_unmanaged(chip, buf->data, PAGE_SIZE);
		if (ret >= 0 && !tpm2_rm_rsp_valid(buf->data, ret))
			ret = -EIO;
		if (ret < 0) {
			chip->rm->sync = TPM2_RM_UNSURE;
			break;
		}
		*len = ret;
		*tpm_rc = tpm2_rm_rsp_rc(buf->data, ret);
		if (*tpm_rc != TPM2_RC_YIELDED ||
		    tries++ >= TPM2_RM_MAX_RETRIES)
			break;
		memcpy(buf->data, cmd, cmd_len);
	}
	kfree(cmd);
	return ret < 0 ? ret : 0;
}

/*
 * The RM's own round trips to the TPM, one function per command, so that
 * fault injection (CONFIG_FAIL_FUNCTION) can fail each on its own: each
 * sends the command the RM built in @buf with tpm2_rm_send() and returns
 * 0 (check *@tpm_rc) or a negative errno if nothing came back.
 */
#define TPM2_RM_DEFINE_SEND(name)					\
noinline int name(struct tpm_chip *chip, struct tpm_buf *buf,		\
		  size_t *len, u32 *tpm_rc)				\
{									\
	return tpm2_rm_send(chip, buf, len, tpm_rc);			\
}									\
ALLOW_ERROR_INJECTION(name, ERRNO)

TPM2_RM_DEFINE_SEND(tpm2_rm_send_context_save);
TPM2_RM_DEFINE_SEND(tpm2_rm_send_context_load);
TPM2_RM_DEFINE_SEND(tpm2_rm_send_flush);
TPM2_RM_DEFINE_SEND(tpm2_rm_send_get_handles);

/**
 * tpm2_rm_blob_dup() - copy a saved context into a new blob
 * @data:	the TPMS_CONTEXT
 * @len:	its length
 *
 * Every context blob the RM keeps is allocated here.
 *
 * Return: the kmalloc'ed copy, or NULL.
 */
noinline u8 *tpm2_rm_blob_dup(const u8 *data, size_t len)
{
	return kmemdup(data, len, GFP_KERNEL_ACCOUNT);
}

ALLOW_ERROR_INJECTION(tpm2_rm_blob_dup, NULL);

static int tpm2_rm_context_load(struct tpm_chip *chip, const u8 *blob,
				u16 blob_len, u32 *phandle, u32 *tpm_rc);

/*
 * The TPM saved a session whose blob the RM could not allocate: load it
 * back from the response, so that it keeps its slot and its owner keeps
 * it. Return: -ENOMEM if it is loaded again, 0 if it could not be (it has
 * then left its slot).
 */
static int tpm2_rm_unsave(struct tpm_chip *chip, const u8 *ctx, size_t len)
{
	u32 phandle, tpm_rc = 0;

	if (tpm2_rm_context_load(chip, ctx, len, &phandle, &tpm_rc) || tpm_rc)
		return 0;
	return -ENOMEM;
}

/*
 * ContextSave @handle into a new kmalloc'ed blob; *tpm_rc as the TPM says.
 * Once the TPM saved the context, 0 is returned even if the blob could not
 * be allocated: *blob is then NULL (a saved session has left its slot).
 * A session is loaded back from the response first (tpm2_rm_unsave()):
 * only if that fails too has it left.
 */
static int tpm2_rm_context_save(struct tpm_chip *chip, u32 handle,
				u8 **blob, u16 *blob_len, u32 *tpm_rc)
{
	struct tpm_buf buf;
	size_t len;
	int rc;

	rc = tpm_buf_init(&buf, TPM2_ST_NO_SESSIONS, TPM2_CC_CONTEXT_SAVE);
	if (rc)
		return rc;
	tpm_buf_append_u32(&buf, handle);
	rc = tpm2_rm_send_context_save(chip, &buf, &len, tpm_rc);
	if (rc || *tpm_rc)
		goto out_destroy;
	chip->rm->stats.context_saves++;
	if (len < TPM_HEADER_SIZE + TPM2_RM_CONTEXT_MIN_SIZE) {
		rc = -EIO;
		goto out_destroy;
	}
	*blob = tpm2_rm_blob_dup(&buf.data[TPM_HEADER_SIZE],
				 len - TPM_HEADER_SIZE);
	*blob_len = *blob ? len - TPM_HEADER_SIZE : 0;
	if (!*blob && tpm2_rm_is_session(handle))
		rc = tpm2_rm_unsave(chip, &buf.data[TPM_HEADER_SIZE],
				    len - TPM_HEADER_SIZE);
out_destroy:
	tpm_buf_destroy(&buf);
	return rc;
}

/* ContextLoad @blob; on TPM success *phandle is the loaded handle. */
static int tpm2_rm_context_load(struct tpm_chip *chip, const u8 *blob,
				u16 blob_len, u32 *phandle, u32 *tpm_rc)
{
	struct tpm_buf buf;
	size_t len;
	int rc;

	rc = tpm_buf_init(&buf, TPM2_ST_NO_SESSIONS, TPM2_CC_CONTEXT_LOAD);
	if (rc)
		return rc;
	tpm_buf_append(&buf, blob, blob_len);
	rc = tpm2_rm_send_context_load(chip, &buf, &len, tpm_rc);
	if (rc || *tpm_rc)
		goto out_destroy;
	chip->rm->stats.context_loads++;
	if (len < TPM_HEADER_SIZE + 4)
		rc = -EIO;
	else
		*phandle = get_unaligned_be32(&buf.data[TPM_HEADER_SIZE]);
out_destroy:
	tpm_buf_destroy(&buf);
	return rc;
}

/*
 * FlushContext @handle. Return: 0 once the TPM answered (*tpm_rc says how),
 * or a negative errno if the command did not complete: the handle may then
 * still be loaded.
 */
static int tpm2_rm_flush_cmd(struct tpm_chip *chip, u32 handle, u32 *tpm_rc)
{
	struct tpm_buf buf;
	size_t len;
	int rc;

	rc = tpm_buf_init(&buf, TPM2_ST_NO_SESSIONS, TPM2_CC_FLUSH_CONTEXT);
	if (rc)
		return rc;
	tpm_buf_append_u32(&buf, handle);
	rc = tpm2_rm_send_flush(chip, &buf, &len, tpm_rc);
	tpm_buf_destroy(&buf);
	if (rc)
		return rc;
	chip->rm->stats.flushes++;
	return 0;
}

/* Remember a handle the RM dropped but could not flush. */
static void tpm2_rm_stale_add(struct tpm2_rm_chip *rm, u32 handle)
{
	if (rm->nr_stale >= TPM2_RM_MAX_STALE) {
		pr_warn_ratelimited("tpm: resource manager forgets handle 0x%08x it could not flush\n",
				    handle);
		return;
	}
	rm->stale[rm->nr_stale++] = handle;
}

/**
 * tpm2_rm_flush() - FlushContext a TPM handle the RM drops
 * @chip:	the chip, ops held
 * @handle:	real TPM handle
 *
 * If the command does not complete, the handle is kept for
 * tpm2_rm_flush_stale() to flush later, so that no slot leaks.
 *
 * Return: 0, a negative errno, or -EIO if the TPM refused.
 */
int tpm2_rm_flush(struct tpm_chip *chip, u32 handle)
{
	u32 tpm_rc;
	int rc;

	lockdep_assert_held(&chip->tpm_mutex);
	rc = tpm2_rm_flush_cmd(chip, handle, &tpm_rc);
	if (rc) {
		tpm2_rm_stale_add(chip->rm, handle);
		return rc;
	}
	return tpm_rc ? -EIO : 0;
}

/**
 * tpm2_rm_flush_stale() - flush the handles earlier flushes failed to drop
 * @chip:	the chip, ops held
 *
 * Called before anything else may use the TPM's slots (an RM command, a raw
 * or kernel-internal command), so a handle is flushed before the TPM can
 * hand it out again. The contexts of spaces closed while the TPM could not
 * be used (tpm2_rm_space_park()) are flushed first. A handle the TPM
 * answers for, even with an error, is gone; one whose FlushContext fails
 * again stays for the next call.
 */
void tpm2_rm_flush_stale(struct tpm_chip *chip)
{
	struct tpm2_rm_chip *rm = chip->rm;
	unsigned int i, kept = 0;
	u32 tpm_rc;

	lockdep_assert_held(&chip->tpm_mutex);
	if (!list_empty(&rm->parked.entities))
		tpm2_rm_space_del(chip, &rm->parked, true);
	for (i = 0; i < rm->nr_stale; i++)
		if (tpm2_rm_flush_cmd(chip, rm->stale[i], &tpm_rc))
			rm->stale[kept++] = rm->stale[i];
	rm->nr_stale = kept;
}

/**
 * tpm2_rm_resident_add() - record that @ent now occupies a TPM slot
 * @rm:		residency table
 * @ent:	the entity
 * @phandle:	its TPM handle
 */
void tpm2_rm_resident_add(struct tpm2_rm_chip *rm, struct tpm2_rm_entity *ent,
			  u32 phandle)
{
	if (WARN_ON(ent->state == TPM2_RM_ENT_RESIDENT))
		return;
	ent->phandle = phandle;
	ent->state = TPM2_RM_ENT_RESIDENT;
	if (!ent->last_use)
		ent->last_use = rm->clock;
	list_add_tail(&ent->lru_node, &rm->lru);
	if (ent->kind == TPM2_RM_SESSION)
		rm->nr_sessions++;
	else
		rm->nr_objects++;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_resident_add);

/**
 * tpm2_rm_resident_del() - record that @ent left its TPM slot
 * @rm:		residency table
 * @ent:	the entity
 */
void tpm2_rm_resident_del(struct tpm2_rm_chip *rm, struct tpm2_rm_entity *ent)
{
	if (ent->state != TPM2_RM_ENT_RESIDENT)
		return;
	list_del_init(&ent->lru_node);
	ent->state = TPM2_RM_ENT_SAVED;
	if (ent->kind == TPM2_RM_SESSION)
		rm->nr_sessions--;
	else
		rm->nr_objects--;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_resident_del);

/**
 * tpm2_rm_resident_touch() - record that the current command used @ent
 * @rm:		residency table
 * @ent:	a resident entity
 *
 * Moves @ent to the recent end of the LRU list and remembers the distance
 * to its previous use, which predicts its next one.
 */
void tpm2_rm_resident_touch(struct tpm2_rm_chip *rm,
			    struct tpm2_rm_entity *ent)
{
	if (ent->state != TPM2_RM_ENT_RESIDENT)
		return;
	if (ent->last_use && rm->clock > ent->last_use)
		ent->gap = rm->clock - ent->last_use;
	ent->last_use = rm->clock;
	list_move_tail(&ent->lru_node, &rm->lru);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_resident_touch);

/* Are fewer than @n slots of the class free? */
static bool tpm2_rm_resident_short(const struct tpm2_rm_chip *rm,
				   bool session, unsigned int n)
{
	if (session)
		return rm->nr_sessions + rm->kernel.nr_sessions + n >
		       rm->session_slots;
	return rm->nr_objects + rm->kernel.nr_objects + n > rm->object_slots;
}

/**
 * tpm2_rm_resident_full() - are all slots of one class taken by the RM
 * @rm:		residency table
 * @session:	session slots if true, object slots otherwise
 *
 * Return: true if a new entity of that class needs an eviction first.
 */
bool tpm2_rm_resident_full(const struct tpm2_rm_chip *rm, bool session)
{
	/* the kernel's own contexts hold slots too (tpm2-rm-kernel.c) */
	return tpm2_rm_resident_short(rm, session, 1);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_resident_full);

/*
 * When @ent should be needed next, in RM commands. An entity that keeps to
 * its last reuse distance is expected after that distance; one never reused,
 * or idle for longer than its distance, is expected no sooner than it has
 * been idle already.
 */
static u64 tpm2_rm_next_use(const struct tpm2_rm_chip *rm,
			    const struct tpm2_rm_entity *ent)
{
	u64 idle = rm->clock - min(rm->clock, ent->last_use);

	if (ent->gap && idle <= ent->gap)
		return ent->last_use + ent->gap;
	return rm->clock + idle;
}

/**
 * tpm2_rm_resident_victim() - choose what to evict
 * @rm:		residency table
 * @session:	choose a session if true, an object or sequence otherwise
 *
 * Approximates Belady's choice: the unpinned entity of the class whose next
 * use is expected last, the least recently used among equals. Clients that
 * take turns (each reused after the same distance) thus evict the one just
 * served, which plain LRU would reload first; an entity nobody reuses goes
 * before any that is reused.
 *
 * Return: the victim, or NULL if every resident entity is pinned.
 */
struct tpm2_rm_entity *tpm2_rm_resident_victim(const struct tpm2_rm_chip *rm,
					       bool session)
{
	struct tpm2_rm_entity *ent, *victim = NULL;
	u64 next, latest = 0;

	list_for_each_entry(ent, &rm->lru, lru_node) {
		bool is_session = ent->kind == TPM2_RM_SESSION;

		if (ent->pinned || is_session != session)
			continue;
		next = tpm2_rm_next_use(rm, ent);
		if (!victim || next > latest) {
			victim = ent;
			latest = next;
		}
	}
	return victim;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_resident_victim);

/*
 * ContextSave a resident entity into its blob, replacing any older blob.
 * *@left is set if the entity left its slot although the blob could not be
 * kept: a session the TPM saved, whose blob the RM failed to allocate.
 */
static int tpm2_rm_save(struct tpm_chip *chip, struct tpm2_rm_entity *ent,
			bool *left)
{
	unsigned int tries = 0;
	u8 *blob = NULL;
	u16 blob_len = 0;
	u32 tpm_rc = 0;
	int rc;

	do {
		rc = tpm2_rm_context_save(chip, ent->phandle, &blob, &blob_len,
					  &tpm_rc);
	} while (!rc && tries++ < TPM2_RM_MAX_REGAPS &&
		 tpm2_rm_regap_for_retry(chip, tpm_rc));
	if (!rc && tpm_rc)
		rc = -EIO;
	if (!rc && !blob) {
		*left = ent->kind == TPM2_RM_SESSION;
		rc = -ENOMEM;
	}
	if (rc) {
		kfree(blob);
		return rc;
	}
	kfree(ent->blob);
	ent->blob = blob;
	ent->blob_len = blob_len;
	if (ent->kind == TPM2_RM_SESSION)
		tpm2_rm_saved_add(chip->rm, ent, get_unaligned_be64(blob));
	return 0;
}

/* @ent left its slot; @lost if its context is gone with it. */
static void tpm2_rm_evicted(struct tpm_chip *chip, struct tpm2_rm_entity *ent,
			    bool lost)
{
	tpm2_rm_resident_del(chip->rm, ent);
	if (lost)
		ent->state = TPM2_RM_ENT_LOST;
	chip->rm->stats.evictions++;
}

/**
 * tpm2_rm_evict() - move a resident entity out of its TPM slot
 * @chip:	the chip, ops held
 * @ent:	resident entity
 * @force:	free the slot even if the context cannot be saved; the entity
 *		is then marked lost
 *
 * A session the TPM saved but whose blob could not be kept is flushed and
 * marked lost even without @force: it has left its slot either way. A
 * FlushContext that does not complete leaves @ent resident, since the TPM
 * may still hold it.
 *
 * Return: 0 if the slot is free, a negative errno otherwise (@ent is then
 * still resident).
 */
int tpm2_rm_evict(struct tpm_chip *chip, struct tpm2_rm_entity *ent,
		  bool force)
{
	bool left = false;
	u32 tpm_rc;
	int rc = 0;

	lockdep_assert_held(&chip->tpm_mutex);
	if (ent->kind == TPM2_RM_SESSION || !ent->blob)
		rc = tpm2_rm_save(chip, ent, &left);
	if (left) {
		tpm2_rm_flush(chip, ent->vhandle);
		tpm2_rm_evicted(chip, ent, true);
		return 0;
	}
	if (rc && !force)
		return rc;
	if (ent->kind != TPM2_RM_SESSION || rc) {
		/* A TPM error means the handle is not loaded: the slot is free. */
		int flush_rc = tpm2_rm_flush_cmd(chip, ent->phandle, &tpm_rc);

		if (flush_rc)
			return flush_rc;
	}
	tpm2_rm_evicted(chip, ent, rc != 0);
	return 0;
}

/**
 * tpm2_rm_make_room_n() - free RM-held slots of a class until @n are free
 * @chip:	the chip, ops held
 * @session:	session slots if true, object slots otherwise
 * @n:		slots the next command needs
 *
 * Return: 0, -ENOSPC if every resident entity is pinned, or the eviction
 * error. Callers may still try the TPM: the slot counts are minimums.
 */
int tpm2_rm_make_room_n(struct tpm_chip *chip, bool session, unsigned int n)
{
	struct tpm2_rm_entity *victim;
	int rc;

	while (tpm2_rm_resident_short(chip->rm, session, n)) {
		victim = tpm2_rm_resident_victim(chip->rm, session);
		if (!victim && session && tpm2_rm_kernel_yield(chip))
			continue;
		if (!victim)
			return -ENOSPC;
		rc = tpm2_rm_evict(chip, victim, false);
		if (rc)
			return rc;
	}
	return 0;
}

/**
 * tpm2_rm_make_room() - free one RM-held slot of a class if all are taken
 * @chip:	the chip, ops held
 * @session:	session slot if true, object slot otherwise
 *
 * Return: as tpm2_rm_make_room_n().
 */
int tpm2_rm_make_room(struct tpm_chip *chip, bool session)
{
	return tpm2_rm_make_room_n(chip, session, 1);
}

static bool tpm2_rm_is_memory_rc(u32 tpm_rc)
{
	return tpm_rc == TPM2_RC_OBJECT_MEMORY ||
	       tpm_rc == TPM2_RC_SESSION_MEMORY;
}

/**
 * tpm2_rm_evict_for_retry() - evict one unpinned entity after a memory error
 * @chip:	the chip, ops held
 * @tpm_rc:	TPM_RC_OBJECT_MEMORY or TPM_RC_SESSION_MEMORY
 *
 * Return: true if a slot was freed and the command is worth re-sending.
 */
bool tpm2_rm_evict_for_retry(struct tpm_chip *chip, u32 tpm_rc)
{
	bool session = tpm_rc == TPM2_RC_SESSION_MEMORY;
	struct tpm2_rm_entity *victim;

	if (!tpm2_rm_is_memory_rc(tpm_rc))
		return false;
	victim = tpm2_rm_resident_victim(chip->rm, session);
	if (victim) {
		if (tpm2_rm_evict(chip, victim, false))
			return false;
	} else if (!session || !tpm2_rm_kernel_yield(chip)) {
		/* the kernel's session is the last one an RM client can take */
		return false;
	}
	chip->rm->stats.retries++;
	return true;
}

/**
 * tpm2_rm_load() - make @ent resident, ContextLoading it if needed
 * @chip:	the chip, ops held
 * @ent:	entity of the current command (already pinned)
 * @tpm_rc:	receives the TPM's answer to ContextLoad, 0 if none was sent
 *
 * A session blob can be loaded only once, so it is dropped after loading;
 * a sequence blob goes stale as soon as the command runs, so it is dropped
 * too. An object blob stays valid and makes the next eviction cheap. A blob
 * the TPM rejects for good (tpm2_rm_load_rc_is_fatal()) marks @ent lost.
 *
 * Return: 0 (check @tpm_rc), -ENOENT if the entity has no context to load,
 * or another negative errno.
 */
int tpm2_rm_load(struct tpm_chip *chip, struct tpm2_rm_entity *ent,
		 u32 *tpm_rc)
{
	bool session = ent->kind == TPM2_RM_SESSION;
	unsigned int tries = 0;
	u32 phandle = 0;
	int rc;

	lockdep_assert_held(&chip->tpm_mutex);
	*tpm_rc = 0;
	if (ent->state == TPM2_RM_ENT_RESIDENT)
		return 0;
	if (ent->state != TPM2_RM_ENT_SAVED || !ent->blob)
		return -ENOENT;
	do {
		tpm2_rm_make_room(chip, session);
		rc = tpm2_rm_context_load(chip, ent->blob, ent->blob_len,
					  &phandle, tpm_rc);
		if (rc)
			return rc;
	} while (*tpm_rc && tpm2_rm_retry(chip, *tpm_rc, &tries));
	if (tpm2_rm_load_rc_is_fatal(*tpm_rc)) {
		tpm2_rm_saved_del(ent);
		ent->state = TPM2_RM_ENT_LOST;
	}
	if (*tpm_rc)
		return 0;

	tpm2_rm_saved_del(ent);
	tpm2_rm_resident_add(chip->rm, ent, phandle);
	if (ent->kind != TPM2_RM_OBJECT) {
		kfree(ent->blob);
		ent->blob = NULL;
		ent->blob_len = 0;
	}
	return 0;
}

/**
 * tpm2_rm_seq_before() - is context sequence @a older than @b
 * @a:		TPMS_CONTEXT.sequence of one saved session
 * @b:		that of another
 *
 * Serial-number order: correct across a wrap of the counter as long as the
 * two are less than 2^63 apart, which the TPM's context gap guarantees.
 *
 * Return: true if @a was assigned before @b.
 */
bool tpm2_rm_seq_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_seq_before);

/**
 * tpm2_rm_saved_add() - record that the TPM holds @ent as a saved session
 * @rm:		residency table
 * @ent:	a session, just context-saved by the RM or by its client
 * @seq:	the sequence of the saved context
 */
void tpm2_rm_saved_add(struct tpm2_rm_chip *rm, struct tpm2_rm_entity *ent,
		       u64 seq)
{
	ent->saved_seq = seq;
	list_move_tail(&ent->saved_node, &rm->saved);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_saved_add);

/**
 * tpm2_rm_saved_del() - record that @ent is no longer a saved session
 * @ent:	the session (loaded again, flushed or lost)
 */
void tpm2_rm_saved_del(struct tpm2_rm_entity *ent)
{
	list_del_init(&ent->saved_node);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_saved_del);

/**
 * tpm2_rm_saved_oldest() - the saved session the TPM numbered first
 * @rm:		residency table
 *
 * This is the session that keeps the TPM's context counter from moving on
 * (TPM_RC_CONTEXT_GAP) once the counter is TPM_PT_CONTEXT_GAP_MAX ahead.
 *
 * Return: the entity, or NULL if the RM knows of no saved session.
 */
struct tpm2_rm_entity *tpm2_rm_saved_oldest(const struct tpm2_rm_chip *rm)
{
	struct tpm2_rm_entity *ent, *oldest = NULL;

	list_for_each_entry(ent, &rm->saved, saved_node)
		if (!oldest || tpm2_rm_seq_before(ent->saved_seq,
						  oldest->saved_seq))
			oldest = ent;
	return oldest;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_saved_oldest);

/**
 * tpm2_rm_load_rc_is_fatal() - does a ContextLoad error mean the blob is dead
 * @tpm_rc:	the TPM's answer to ContextLoad of an RM-held blob
 *
 * Warnings (memory, context gap, retry, ...) and TPM_RC_INITIALIZE say
 * nothing about the blob; every other error means the TPM will never accept
 * it again (a TPM Reset changed the keys that protect it, a TPM2_Startup
 * dropped the saved session, ...).
 *
 * Return: true if the entity's context is lost.
 */
bool tpm2_rm_load_rc_is_fatal(u32 tpm_rc)
{
	if (!tpm_rc || tpm_rc == TPM2_RC_INITIALIZE)
		return false;
	return (tpm_rc & TPM2_RM_RC_WARN_MASK) != TPM2_RM_RC_WARN;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_load_rc_is_fatal);

/* Forget a saved session's context: the TPM no longer holds it. */
static void tpm2_rm_saved_lose(struct tpm2_rm_chip *rm,
			       struct tpm2_rm_entity *ent)
{
	tpm2_rm_saved_del(ent);
	kfree(ent->blob);
	ent->blob = NULL;
	ent->blob_len = 0;
	ent->state = TPM2_RM_ENT_LOST;
	if (ent->space == &rm->orphans && !ent->pinned) {
		tpm2_rm_table_remove(ent);
		tpm2_rm_entity_free(ent);
	}
}

/*
 * Load the RM-held saved session @ent and save it again, so that it gets a
 * fresh sequence. The TPM always accepts the oldest saved session into its
 * last free session slot, so no eviction comes first. If the new save
 * fails the session simply stays resident.
 */
static int tpm2_rm_resave(struct tpm_chip *chip, struct tpm2_rm_entity *ent)
{
	u8 *blob = NULL;
	u16 blob_len = 0;
	u32 phandle = 0, tpm_rc = 0;
	int rc;

	rc = tpm2_rm_context_load(chip, ent->blob, ent->blob_len, &phandle,
				  &tpm_rc);
	if (rc)
		return rc;
	if (tpm2_rm_load_rc_is_fatal(tpm_rc)) {
		tpm2_rm_saved_lose(chip->rm, ent);
		return 0;
	}
	if (tpm_rc)
		return -EIO;
	tpm2_rm_saved_del(ent);
	kfree(ent->blob);
	ent->blob = NULL;
	ent->blob_len = 0;
	rc = tpm2_rm_context_save(chip, phandle, &blob, &blob_len, &tpm_rc);
	if (rc || tpm_rc) {
		kfree(blob);
		tpm2_rm_resident_add(chip->rm, ent, phandle);
		return 0;
	}
	ent->blob = blob;
	ent->blob_len = blob_len;
	tpm2_rm_saved_add(chip->rm, ent, get_unaligned_be64(blob));
	chip->rm->stats.regaps++;
	return 0;
}

/**
 * tpm2_rm_regap_for_retry() - let the TPM's context counter move on
 * @chip:	the chip, ops held
 * @tpm_rc:	the TPM's answer to the command that failed
 *
 * After TPM_RC_CONTEXT_GAP the oldest saved session the RM knows of is
 * loaded and saved again with a new sequence. If that session was saved by
 * its client (handed out), the RM holds no blob and may not touch the
 * client's: it flushes the session instead and marks it lost, so that one
 * client's forgotten context cannot block every other client; the owner's
 * ContextLoad of it then fails with an RM-layer error.
 *
 * Return: true if the oldest saved session moved and the command is worth
 * re-sending.
 */
bool tpm2_rm_regap_for_retry(struct tpm_chip *chip, u32 tpm_rc)
{
	struct tpm2_rm_entity *oldest;

	if (tpm_rc != TPM2_RC_CONTEXT_GAP)
		return false;
	oldest = tpm2_rm_saved_oldest(chip->rm);
	if (!oldest)
		return false;
	if (oldest->state == TPM2_RM_ENT_HANDED_OUT || !oldest->blob) {
		tpm2_rm_flush(chip, oldest->vhandle);
		tpm2_rm_saved_lose(chip->rm, oldest);
		return true;
	}
	return !tpm2_rm_resave(chip, oldest);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_regap_for_retry);

/**
 * tpm2_rm_retry() - make a refused command worth sending again
 * @chip:	the chip, ops held
 * @tpm_rc:	the TPM's answer to the command
 * @tries:	the command's retries so far; counted up here
 *
 * A memory error evicts one entity, up to TPM2_RM_MAX_RETRIES times. A
 * context gap regaps the oldest saved session; the sessions saved next to
 * it may all stand in the way (four holders saved in a row need four
 * regaps), so up to TPM2_RM_MAX_REGAPS tries.
 *
 * Return: true if the command is worth re-sending.
 */
bool tpm2_rm_retry(struct tpm_chip *chip, u32 tpm_rc, unsigned int *tries)
{
	if (tpm_rc == TPM2_RC_CONTEXT_GAP)
		return (*tries)++ < TPM2_RM_MAX_REGAPS &&
		       tpm2_rm_regap_for_retry(chip, tpm_rc);
	return (*tries)++ < TPM2_RM_MAX_RETRIES &&
	       tpm2_rm_evict_for_retry(chip, tpm_rc);
}

/*
 * @ent left its TPM slot without the RM's doing. An object with a blob is
 * only out of its slot (a ContextLoad tells whether the blob still works);
 * anything else is lost and fails once, in the RM layer, at its next use.
 */
static void tpm2_rm_gone(struct tpm2_rm_chip *rm, struct tpm2_rm_entity *ent)
{
	tpm2_rm_resident_del(rm, ent);
	if (ent->kind != TPM2_RM_OBJECT || !ent->blob)
		ent->state = TPM2_RM_ENT_LOST;
}

/**
 * tpm2_rm_drop_state() - forget what a TPM2_Startup took from the TPM
 * @chip:	the chip, ops held
 * @clear:	TPM_SU_CLEAR: saved sessions are gone as well
 *
 * A successful TPM2_Startup is proof that the TPM was reset: it empties the
 * TPM's object and session slots, and after TPM_SU_CLEAR no saved session
 * can be loaded again. The TPM may then give the same handles to new
 * objects and sessions, so no resident may be believed loaded any more;
 * see tpm2_rm_gone() for what each one becomes. This is the only place
 * where the RM forgets residents without asking the TPM.
 */
void tpm2_rm_drop_state(struct tpm_chip *chip, bool clear)
{
	struct tpm2_rm_chip *rm = chip->rm;
	struct tpm2_rm_entity *ent, *tmp;

	lockdep_assert_held(&chip->tpm_mutex);
	list_for_each_entry_safe(ent, tmp, &rm->lru, lru_node)
		tpm2_rm_gone(rm, ent);
	if (!clear)
		return;
	list_for_each_entry_safe(ent, tmp, &rm->saved, saved_node)
		tpm2_rm_saved_lose(rm, ent);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_drop_state);

/*
 * The handles of range @first that the TPM holds; count or -errno. An
 * answer that is not that list may be the late answer to a command that
 * timed out, which tpm_crb hands to the next command: ask once more.
 */
static int tpm2_rm_get_handles(struct tpm_chip *chip, u32 first, u32 *handles)
{
	unsigned int tries = 0;
	struct tpm_buf buf;
	size_t len = 0;
	u32 tpm_rc;
	int rc;

	do {
		rc = tpm_buf_init(&buf, TPM2_ST_NO_SESSIONS,
				  TPM2_CC_GET_CAPABILITY);
		if (rc)
			return rc;
		tpm_buf_append_u32(&buf, TPM2_CAP_HANDLES);
		tpm_buf_append_u32(&buf, first);
		tpm_buf_append_u32(&buf, TPM2_RM_MAX_CAP_HANDLES);
		rc = tpm2_rm_send_get_handles(chip, &buf, &len, &tpm_rc);
		if (!rc)
			rc = tpm2_rm_cap_handles_parse(buf.data, len, handles,
						       TPM2_RM_MAX_CAP_HANDLES);
		tpm_buf_destroy(&buf);
	} while (rc == -EIO && !tries++);
	return rc;
}

/* What the TPM holds, as GetCapability(TPM_CAP_HANDLES) lists it. */
struct tpm2_rm_view {
	u32 objects[TPM2_RM_MAX_CAP_HANDLES];
	u32 loaded[TPM2_RM_MAX_CAP_HANDLES];
	u32 saved[TPM2_RM_MAX_CAP_HANDLES];
	int nr_objects;
	int nr_loaded;
	int nr_saved;
};

/* Ask the TPM; NULL if it cannot tell (no memory, no complete answer). */
static struct tpm2_rm_view *tpm2_rm_view_get(struct tpm_chip *chip)
{
	struct tpm2_rm_view *v = kmalloc(sizeof(*v), GFP_KERNEL);

	if (!v)
		return NULL;
	v->nr_objects = tpm2_rm_get_handles(chip, TPM2_MSO_VOLATILE << 24,
					    v->objects);
	v->nr_loaded = tpm2_rm_get_handles(chip,
					   TPM2_MSO_SESSION << 24,
					   v->loaded);
	v->nr_saved = tpm2_rm_get_handles(chip,
					  TPM2_MSO_POLICY << 24,
					  v->saved);
	if (v->nr_objects < 0 || v->nr_loaded < 0 || v->nr_saved < 0) {
		kfree(v);
		return NULL;
	}
	return v;
}

/*
 * Is @handle in @list? Sessions are compared by their index: the TPM lists
 * a saved policy session under the HMAC session range.
 */
static bool tpm2_rm_listed(const u32 *list, int nr, u32 handle)
{
	u32 mask = tpm2_rm_is_session(handle) ? TPM2_RM_VHANDLE_MASK : ~0U;
	int i;

	for (i = 0; i < nr; i++)
		if ((list[i] & mask) == (handle & mask))
			return true;
	return false;
}

/* Does the TPM hold the context of @ent, loaded or (a session) saved? */
static bool tpm2_rm_view_has(const struct tpm2_rm_view *v,
			     const struct tpm2_rm_entity *ent)
{
	if (ent->kind != TPM2_RM_SESSION)
		return ent->state == TPM2_RM_ENT_RESIDENT &&
		       tpm2_rm_listed(v->objects, v->nr_objects, ent->phandle);
	if (ent->state == TPM2_RM_ENT_RESIDENT)
		return tpm2_rm_listed(v->loaded, v->nr_loaded, ent->vhandle);
	return tpm2_rm_listed(v->loaded, v->nr_loaded, ent->vhandle) ||
	       tpm2_rm_listed(v->saved, v->nr_saved, ent->vhandle);
}

/*
 * A session the RM believes loaded that the TPM holds saved: its
 * ContextSave ran but the answer, the blob, never arrived. Nobody can load
 * it again, so it is flushed before it is forgotten.
 */
static void tpm2_rm_flush_unsaved(struct tpm_chip *chip,
				  const struct tpm2_rm_view *v,
				  const struct tpm2_rm_entity *ent)
{
	if (ent->kind == TPM2_RM_SESSION &&
	    tpm2_rm_listed(v->saved, v->nr_saved, ent->vhandle))
		tpm2_rm_flush(chip, ent->vhandle);
}

static bool tpm2_rm_same_handle(u32 a, u32 b)
{
	if (tpm2_rm_is_session(a) && tpm2_rm_is_session(b))
		return !((a ^ b) & TPM2_RM_VHANDLE_MASK);
	return a == b;
}

/* Without a view: flush every unpinned resident, then forget it. */
static void tpm2_rm_flush_residents(struct tpm_chip *chip, u32 fresh)
{
	struct tpm2_rm_entity *ent, *tmp;

	list_for_each_entry_safe(ent, tmp, &chip->rm->lru, lru_node) {
		if (ent->pinned)
			continue;
		if (!tpm2_rm_same_handle(ent->phandle, fresh))
			tpm2_rm_flush(chip, ent->phandle);
		tpm2_rm_gone(chip->rm, ent);
	}
}

/**
 * tpm2_rm_resync() - make the RM's tables agree with the TPM's slots
 * @chip:	the chip, ops held
 * @fresh:	a handle the TPM just gave to a new entity that is not
 *		recorded yet, or 0
 *
 * The TPM gives out only free handles, so an entity of the RM known by
 * @fresh is gone: a raw /dev/tpmN user flushed a session the RM had saved,
 * or the TPM was reset without a TPM2_Startup the RM saw. Neither is proof
 * of the other, so the RM asks the TPM which objects and sessions it holds,
 * and only what the TPM no longer holds changes (tpm2_rm_gone(), or
 * tpm2_rm_saved_lose() for a saved session): that entity fails once for its
 * owner, and every other space keeps what it has. A session believed
 * loaded must be listed loaded; one the TPM lists saved instead lost its
 * blob on the way and is flushed. Pinned entities were used
 * by the command that just ran, so they are loaded. If the TPM cannot tell,
 * every other resident is flushed before it is forgotten, so that nothing
 * is left in a slot that nobody will flush.
 */
void tpm2_rm_resync(struct tpm_chip *chip, u32 fresh)
{
	struct tpm2_rm_chip *rm = chip->rm;
	struct tpm2_rm_entity *ent, *tmp;
	struct tpm2_rm_view *v;

	lockdep_assert_held(&chip->tpm_mutex);
	list_for_each_entry_safe(ent, tmp, &rm->saved, saved_node)
		if (tpm2_rm_same_handle(ent->vhandle, fresh))
			tpm2_rm_saved_lose(rm, ent);
	list_for_each_entry_safe(ent, tmp, &rm->lru, lru_node)
		if (!ent->pinned && tpm2_rm_same_handle(ent->phandle, fresh))
			tpm2_rm_gone(rm, ent);
	v = tpm2_rm_view_get(chip);
	if (!v) {
		tpm2_rm_flush_residents(chip, fresh);
		return;
	}
	list_for_each_entry_safe(ent, tmp, &rm->lru, lru_node) {
		if (ent->pinned || tpm2_rm_view_has(v, ent))
			continue;
		tpm2_rm_flush_unsaved(chip, v, ent);
		tpm2_rm_gone(rm, ent);
	}
	list_for_each_entry_safe(ent, tmp, &rm->saved, saved_node)
		if (!ent->pinned && !tpm2_rm_view_has(v, ent))
			tpm2_rm_saved_lose(rm, ent);
	kfree(v);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_resync);

/*
 * Is @handle, which the TPM holds, one of the RM's residents, the kernel's
 * own, or one that tpm2_rm_flush_stale() will flush? A stale handle flushed
 * here as well could be given to a new entity before that second flush.
 */
static bool tpm2_rm_holds(const struct tpm2_rm_chip *rm, u32 handle)
{
	struct tpm2_rm_entity *ent;
	unsigned int i;

	if (tpm2_rm_kernel_holds(&rm->kernel, handle))
		return true;
	for (i = 0; i < rm->nr_stale; i++)
		if (rm->stale[i] == handle)
			return true;
	list_for_each_entry(ent, &rm->lru, lru_node)
		if (tpm2_rm_same_handle(ent->phandle, handle))
			return true;
	return false;
}

static void tpm2_rm_flush_unheld(struct tpm_chip *chip, const u32 *list,
				 int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (!tpm2_rm_holds(chip->rm, list[i]))
			tpm2_rm_flush(chip, list[i]);
}

/**
 * tpm2_rm_flush_strays() - flush what a lost response left in the TPM
 * @chip:	the chip, ops held
 *
 * After a command that may have created an object or a session whose
 * response never arrived, the new handle is in the TPM and nobody knows
 * it. Every transient object and loaded session that neither the RM nor
 * the kernel holds (the kernel's own contexts are counted in
 * &tpm2_rm_chip.kernel, see tpm2-rm-kernel.c) is flushed, unless a raw
 * /dev/tpmN user has the device open: the RM cannot tell its contexts from
 * the stray.
 */
void tpm2_rm_flush_strays(struct tpm_chip *chip)
{
	struct tpm2_rm_view *v;

	lockdep_assert_held(&chip->tpm_mutex);
	if (test_bit(0, &chip->is_open))
		return;
	v = tpm2_rm_view_get(chip);
	if (!v)
		return;
	tpm2_rm_flush_unheld(chip, v->objects, v->nr_objects);
	tpm2_rm_flush_unheld(chip, v->loaded, v->nr_loaded);
	kfree(v);
}

/**
 * tpm2_rm_check_handle_reuse() - check a new handle against the RM's view
 * @chip:	the chip, ops held
 * @handle:	handle the TPM just gave to a new object or session
 *
 * A handle the RM believes taken (a resident's TPM handle, or a saved
 * session's) shows that the RM's view is stale; see tpm2_rm_resync(). A
 * kernel context recorded under it is gone too (tpm2_rm_kernel_forget()).
 */
void tpm2_rm_check_handle_reuse(struct tpm_chip *chip, u32 handle)
{
	struct tpm2_rm_entity *ent;

	tpm2_rm_kernel_forget(&chip->rm->kernel, handle);
	list_for_each_entry(ent, &chip->rm->saved, saved_node) {
		if (tpm2_rm_same_handle(ent->vhandle, handle)) {
			tpm2_rm_resync(chip, handle);
			return;
		}
	}
	list_for_each_entry(ent, &chip->rm->lru, lru_node) {
		if (tpm2_rm_same_handle(ent->phandle, handle)) {
			tpm2_rm_resync(chip, handle);
			return;
		}
	}
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_check_handle_reuse);

/**
 * tpm2_rm_check_sync() - check the RM's tables against the TPM if unsure
 * @chip:	the chip, ops held
 *
 * After a command of the RM's own got no usable answer (&enum
 * tpm2_rm_sync), the TPM may hold what the RM believes gone (a ContextLoad
 * that ran) or have moved what it believes loaded (a ContextSave that ran:
 * the session left its slot and its blob was lost). Before anything relies
 * on the tables again, the RM asks the TPM (tpm2_rm_resync()) and flushes
 * what nobody holds (tpm2_rm_flush_strays()). Only the entities the TPM
 * really lost change.
 */
void tpm2_rm_check_sync(struct tpm_chip *chip)
{
	lockdep_assert_held(&chip->tpm_mutex);
	if (chip->rm->sync != TPM2_RM_UNSURE)
		return;
	chip->rm->sync = TPM2_RM_IN_SYNC;
	tpm2_rm_resync(chip, 0);
	tpm2_rm_flush_strays(chip);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_check_sync);
