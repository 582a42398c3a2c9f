// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: per-space handle table.
 *
 * Each /dev/tpmrm open file owns one space, a small list of entities
 * (objects, sequences, sessions). Objects are known to the client by virtual
 * handles drawn from a monotonically increasing 24-bit counter, so a stale
 * handle never names a newer object; sessions are known by their real TPM
 * handle. GetCapability(TPM_CAP_HANDLES) for the virtualized handle ranges
 * is answered from the table. The table never talks to the TPM; the caller
 * holds the chip's tpm_mutex.
 */

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/tpm.h>
#include <linux/unaligned.h>
#include <kunit/visibility.h>
#include "tpm2-rm-cmd.h"
#include "tpm2-rm-table.h"

/**
 * tpm2_rm_space_init() - set up an empty handle table
 * @space:	the space
 */
void tpm2_rm_space_init(struct tpm2_rm_space *space)
{
	INIT_LIST_HEAD(&space->entities);
	space->next_vhandle = 0;
	space->nr_objects = 0;
	space->nr_sessions = 0;
	space->user = NULL;
	space->total = NULL;
	space->locality = 0;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_space_init);

/**
 * tpm2_rm_table_find() - find the entity a client handle names
 * @space:	the space
 * @vhandle:	virtual object handle or session handle
 *
 * Return: the entity, or NULL if the space does not own @vhandle.
 */
struct tpm2_rm_entity *tpm2_rm_table_find(const struct tpm2_rm_space *space,
					  u32 vhandle)
{
	struct tpm2_rm_entity *ent;

	list_for_each_entry(ent, &space->entities, space_node)
		if (ent->vhandle == vhandle)
			return ent;
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_table_find);

/**
 * tpm2_rm_table_alloc_vhandle() - next free virtual object handle
 * @space:	the space
 *
 * The counter wraps at 24 bits and skips handles still in use. The table
 * holds far fewer than 2^24 entries, so a free handle always exists.
 *
 * Return: a transient handle (0x80xxxxxx) not used by @space.
 */
u32 tpm2_rm_table_alloc_vhandle(struct tpm2_rm_space *space)
{
	u32 vhandle;

	do {
		vhandle = (TPM2_MSO_VOLATILE << 24) |
			  (space->next_vhandle & TPM2_RM_VHANDLE_MASK);
		space->next_vhandle = (space->next_vhandle + 1) &
				      TPM2_RM_VHANDLE_MASK;
	} while (tpm2_rm_table_find(space, vhandle));

	return vhandle;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_table_alloc_vhandle);

/**
 * tpm2_rm_entity_alloc() - allocate an entity that is not in any table
 * @kind:	&enum tpm2_rm_kind
 *
 * Return: the entity, or NULL when out of memory.
 */
struct tpm2_rm_entity *tpm2_rm_entity_alloc(enum tpm2_rm_kind kind)
{
	struct tpm2_rm_entity *ent = kzalloc(sizeof(*ent), GFP_KERNEL_ACCOUNT);

	if (!ent)
		return NULL;
	INIT_LIST_HEAD(&ent->space_node);
	INIT_LIST_HEAD(&ent->lru_node);
	INIT_LIST_HEAD(&ent->saved_node);
	ent->kind = kind;
	return ent;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_entity_alloc);

/**
 * tpm2_rm_entity_free() - free an entity that is in no table and not resident
 * @ent:	the entity, may be NULL
 */
void tpm2_rm_entity_free(struct tpm2_rm_entity *ent)
{
	if (!ent)
		return;
	WARN_ON(ent->state == TPM2_RM_ENT_RESIDENT);
	list_del(&ent->saved_node);
	kfree(ent->blob);
	kfree(ent);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_entity_free);

static void tpm2_rm_usage_add(struct tpm2_rm_usage *usage,
			      const struct tpm2_rm_entity *ent, int delta)
{
	if (!usage)
		return;
	if (ent->kind == TPM2_RM_SESSION)
		usage->sessions += delta;
	else
		usage->objects += delta;
}

/* Count @ent, entering or leaving @space, for the space's user and chip. */
static void tpm2_rm_account(struct tpm2_rm_space *space,
			    const struct tpm2_rm_entity *ent, int delta)
{
	tpm2_rm_usage_add(space->user ? &space->user->usage : NULL, ent,
			  delta);
	tpm2_rm_usage_add(space->total, ent, delta);
}

/**
 * tpm2_rm_table_insert() - add an entity to a space
 * @space:	the space
 * @ent:	entity with @ent->vhandle set
 */
void tpm2_rm_table_insert(struct tpm2_rm_space *space,
			  struct tpm2_rm_entity *ent)
{
	ent->space = space;
	list_add_tail(&ent->space_node, &space->entities);
	if (ent->kind == TPM2_RM_SESSION)
		space->nr_sessions++;
	else
		space->nr_objects++;
	tpm2_rm_account(space, ent, 1);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_table_insert);

/**
 * tpm2_rm_table_remove() - take an entity out of its space
 * @ent:	the entity; the caller frees it
 */
void tpm2_rm_table_remove(struct tpm2_rm_entity *ent)
{
	struct tpm2_rm_space *space = ent->space;

	list_del_init(&ent->space_node);
	if (ent->kind == TPM2_RM_SESSION)
		space->nr_sessions--;
	else
		space->nr_objects--;
	tpm2_rm_account(space, ent, -1);
	ent->space = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_table_remove);

/*
 * Does @ent show up when the client lists the handle range of @property?
 * Transient: the space's objects. 0x02 (loaded sessions): sessions the
 * client did not save. 0x03 (saved sessions): sessions the client saved.
 */
static bool tpm2_rm_in_range(const struct tpm2_rm_entity *ent, u8 range)
{
	switch (range) {
	case TPM2_MSO_VOLATILE:
		return ent->kind != TPM2_RM_SESSION;
	case TPM2_MSO_SESSION:
		return ent->kind == TPM2_RM_SESSION &&
		       ent->state != TPM2_RM_ENT_HANDED_OUT &&
		       ent->state != TPM2_RM_ENT_LOST;
	case TPM2_MSO_POLICY:
		return ent->kind == TPM2_RM_SESSION &&
		       ent->state == TPM2_RM_ENT_HANDED_OUT;
	default:
		return false;
	}
}

/*
 * Listing order: objects by virtual handle; sessions by their low 24 bits,
 * the TPM's session index, which HMAC (0x02) and policy (0x03) sessions
 * share.
 */
static u32 tpm2_rm_list_key(u32 handle, u8 range)
{
	return range == TPM2_MSO_VOLATILE ? handle :
	       handle & TPM2_RM_VHANDLE_MASK;
}

/**
 * tpm2_rm_table_next() - first listed handle at or above @min
 * @space:	the space
 * @range:	handle type asked for: 0x80, 0x02 or 0x03
 * @min:	lower bound; for session ranges only its low 24 bits count
 *
 * Return: the handle, or 0 if there is none.
 */
u32 tpm2_rm_table_next(const struct tpm2_rm_space *space, u8 range, u32 min)
{
	const struct tpm2_rm_entity *ent;
	u32 key, best = 0, best_key = 0;

	min = tpm2_rm_list_key(min, range);
	list_for_each_entry(ent, &space->entities, space_node) {
		if (!tpm2_rm_in_range(ent, range))
			continue;
		key = tpm2_rm_list_key(ent->vhandle, range);
		if (key < min || (best && key >= best_key))
			continue;
		best = ent->vhandle;
		best_key = key;
	}
	return best;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_table_next);

/**
 * tpm2_rm_cap_build() - answer GetCapability(TPM_CAP_HANDLES) from a table
 * @space:	the handle table
 * @property:	first handle asked for; its top byte selects the range
 * @count:	maximum number of handles to return
 * @buf:	receives the response
 * @bufsiz:	size of @buf
 *
 * Handles are listed ascending (sessions by their TPM session index),
 * starting at @property and staying in its range; moreData is set when more
 * handles follow the returned ones.
 *
 * Return: length of the response written to @buf.
 */
size_t tpm2_rm_cap_build(const struct tpm2_rm_space *space, u32 property,
			 u32 count, u8 *buf, size_t bufsiz)
{
	size_t max = (bufsiz - TPM_HEADER_SIZE - 9) / 4;
	u8 range = tpm2_handle_mso(property);
	u32 h = tpm2_rm_table_next(space, range, property);
	u32 n = 0;

	count = min3(count, (u32)TPM2_RM_MAX_CAP_HANDLES, (u32)max);
	while (h && n < count) {
		put_unaligned_be32(h, &buf[TPM_HEADER_SIZE + 9 + 4 * n]);
		n++;
		if ((h & TPM2_RM_VHANDLE_MASK) == TPM2_RM_VHANDLE_MASK)
			h = 0;
		else
			h = tpm2_rm_table_next(space, range, h + 1);
	}

	tpm2_rm_rsp_header(buf, TPM2_ST_NO_SESSIONS, TPM2_RC_SUCCESS);
	buf[TPM_HEADER_SIZE] = h ? 1 : 0;
	put_unaligned_be32(TPM2_CAP_HANDLES, &buf[TPM_HEADER_SIZE + 1]);
	put_unaligned_be32(n, &buf[TPM_HEADER_SIZE + 5]);
	put_unaligned_be32(TPM_HEADER_SIZE + 9 + 4 * n, &buf[2]);
	return TPM_HEADER_SIZE + 9 + 4 * n;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_cap_build);

/* May @used + 1 stay within @limit? */
static bool tpm2_rm_quota_room(unsigned int used, unsigned int limit)
{
	return used < limit;
}

/**
 * tpm2_rm_quota_check() - may a space take one more object or session
 * @q:		the limits
 * @file:	what the space holds now
 * @user:	what all spaces of the opener's uid hold now, or NULL
 * @total:	what all spaces of the chip hold now, or NULL when the new
 *		entity takes no new TPM slot (an orphan changing hands)
 * @capacity:	TPM_PT_ACTIVE_SESSIONS_MAX; used for sessions only
 * @session:	a session if true, an object or sequence otherwise
 *
 * Sessions are limited chip-wide as well: saved or not, each holds one of
 * the TPM's @capacity session slots, and /dev/tpmrm users never take the
 * last @q->reserve_sessions of them. Objects need no such limit: every RM
 * object can be evicted to kernel memory, which the file and user quotas
 * bound.
 *
 * Return: 0, or the RM-layer TPM_RC_OBJECT_MEMORY or TPM_RC_SESSION_MEMORY
 * to answer the command with.
 */
u32 tpm2_rm_quota_check(const struct tpm2_rm_quota *q,
			const struct tpm2_rm_usage *file,
			const struct tpm2_rm_usage *user,
			const struct tpm2_rm_usage *total, u32 capacity,
			bool session)
{
	const u32 obj_rc = TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_OBJECT_MEMORY;
	const u32 ses_rc = TSS2_RESMGR_TPM_RC_LAYER |
			   TPM2_RC_SESSION_MEMORY;

	if (!session) {
		if (!tpm2_rm_quota_room(file->objects, q->file_objects))
			return obj_rc;
		if (user && !tpm2_rm_quota_room(user->objects, q->user_objects))
			return obj_rc;
		return 0;
	}
	if (!tpm2_rm_quota_room(file->sessions, q->file_sessions))
		return ses_rc;
	if (user && !tpm2_rm_quota_room(user->sessions, q->user_sessions))
		return ses_rc;
	if (total && (q->reserve_sessions >= capacity ||
		      !tpm2_rm_quota_room(total->sessions,
					  capacity - q->reserve_sessions)))
		return ses_rc;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_quota_check);
