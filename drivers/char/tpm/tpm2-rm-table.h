/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TPM 2.0 resource manager: the per-space handle table (tpm2-rm-table.c).
 *
 * The objects, sequences and sessions one /dev/tpmrm open file owns, the
 * virtual handles its client knows them by, the quota arithmetic, and the
 * answer to GetCapability(TPM_CAP_HANDLES) built from a table. Nothing
 * here talks to a TPM.
 */

#ifndef __TPM2_RM_TABLE_H__
#define __TPM2_RM_TABLE_H__

#include <linux/bits.h>
#include <linux/list.h>
#include <linux/types.h>
#include <linux/uidgid.h>

#define TPM2_RM_VHANDLE_MASK		GENMASK(23, 0)
#define TPM2_RM_MAX_CAP_HANDLES		254

/**
 * enum tpm2_rm_kind - what a handle table entry stands for
 * @TPM2_RM_OBJECT:	a transient object; its saved blob stays valid forever
 * @TPM2_RM_SEQUENCE:	a hash or HMAC sequence object; it changes with use,
 *			so its blob is stale as soon as a command names it
 * @TPM2_RM_SESSION:	an HMAC or policy session; keeps its real handle
 */
enum tpm2_rm_kind {
	TPM2_RM_OBJECT,
	TPM2_RM_SEQUENCE,
	TPM2_RM_SESSION,
};

struct tpm2_rm_space;

/**
 * struct tpm2_rm_usage - objects and sessions held by one holder
 * @objects:	objects and sequences, saved ones included
 * @sessions:	sessions, saved ones included (each takes one of the TPM's
 *		TPM_PT_ACTIVE_SESSIONS_MAX slots until it is flushed)
 *
 * Protected by the chip's tpm_mutex.
 */
struct tpm2_rm_usage {
	unsigned int objects;
	unsigned int sessions;
};

/**
 * struct tpm2_rm_user - what the /dev/tpmrm files of one user hold
 * @node:	link in &tpm2_rm_chip.users
 * @uid:	effective uid of the opener, from the file's credentials
 * @refs:	open files of this user on the chip; the entry is freed with
 *		the last one
 * @usage:	sum of the usage of those files' spaces
 *
 * @node and @refs are protected by &tpm2_rm_chip.users_lock, @usage by the
 * chip's tpm_mutex (like the spaces whose entities it counts).
 */
struct tpm2_rm_user {
	struct list_head node;
	kuid_t uid;
	unsigned int refs;
	struct tpm2_rm_usage usage;
};

/**
 * struct tpm2_rm_quota - limits on what /dev/tpmrm users may hold
 * @file_objects:	objects one open file may hold
 * @file_sessions:	sessions one open file may hold
 * @user_objects:	objects the open files of one user may hold together
 * @user_sessions:	sessions the open files of one user may hold together
 * @reserve_sessions:	of the TPM's TPM_PT_ACTIVE_SESSIONS_MAX session slots,
 *			the last ones that /dev/tpmrm users may never take;
 *			they are left to the kernel and to /dev/tpmN
 *
 * Written by root through sysfs, read with READ_ONCE() per command.
 */
struct tpm2_rm_quota {
	unsigned int file_objects;
	unsigned int file_sessions;
	unsigned int user_objects;
	unsigned int user_sessions;
	unsigned int reserve_sessions;
};

/**
 * enum tpm2_rm_state - where the context of an entity is
 * @TPM2_RM_ENT_SAVED:		out of the TPM's slots; the RM holds its saved
 *				context in @blob (a new entity: none yet)
 * @TPM2_RM_ENT_RESIDENT:	loaded in a TPM slot at @phandle
 * @TPM2_RM_ENT_HANDED_OUT:	a session the client context-saved itself:
 *				the TPM keeps it as saved, the client has the
 *				blob
 * @TPM2_RM_ENT_LOST:		gone: it could not be saved when the TPM had
 *				to be emptied, the TPM rejected its context,
 *				or a TPM2_Startup discarded it; its next use
 *				fails once, then it is forgotten
 *
 * RESIDENT <-> SAVED as the RM evicts and loads, RESIDENT <-> HANDED_OUT
 * as the client saves and loads a session, any -> LOST.
 */
enum tpm2_rm_state {
	TPM2_RM_ENT_SAVED,
	TPM2_RM_ENT_RESIDENT,
	TPM2_RM_ENT_HANDED_OUT,
	TPM2_RM_ENT_LOST,
};

/**
 * struct tpm2_rm_entity - one object or session owned by a space
 * @space_node:	link in &tpm2_rm_space.entities
 * @lru_node:	link in &tpm2_rm_chip.lru while resident
 * @saved_node:	link in &tpm2_rm_chip.saved while the TPM holds this session
 *		as a saved context (blob here, or handed out)
 * @space:	owning space
 * @vhandle:	handle the client sees (for sessions the real handle)
 * @phandle:	TPM handle while resident
 * @owner:	while an orphan (&tpm2_rm_chip.orphans), the effective uid of
 *		the file that saved it; only that uid's files may adopt it
 * @blob:	saved TPMS_CONTEXT, or NULL
 * @blob_len:	length of @blob
 * @kind:	&enum tpm2_rm_kind
 * @state:	&enum tpm2_rm_state
 * @pinned:	named by the command being processed; must not be evicted
 * @last_use:	&tpm2_rm_chip.clock when a command last named it
 * @gap:	RM commands between its last two uses; 0 until it is reused
 * @saved_seq:	TPMS_CONTEXT.sequence of the saved session, on @saved_node
 *
 * All fields are protected by the chip's tpm_mutex.
 */
struct tpm2_rm_entity {
	struct list_head space_node;
	struct list_head lru_node;
	struct list_head saved_node;
	struct tpm2_rm_space *space;
	u32 vhandle;
	u32 phandle;
	kuid_t owner;
	u8 *blob;
	u16 blob_len;
	u8 kind;
	u8 state;
	bool pinned;
	u64 last_use;
	u64 gap;
	u64 saved_seq;
};

/**
 * struct tpm2_rm_space - the handle table of one /dev/tpmrm open file
 * @entities:		list of &struct tpm2_rm_entity
 * @next_vhandle:	24-bit counter for the next virtual object handle
 * @nr_objects:		objects and sequences in @entities
 * @nr_sessions:	sessions in @entities, handed-out ones included
 * @user:		the opener's quota entry, or NULL (orphans, KUnit)
 * @total:		chip-wide usage of all spaces, or NULL (KUnit)
 * @locality:		TPM locality the client's commands are sent at
 *
 * Locking: every field, and every entity on @entities, is protected by the
 * chip's tpm_mutex (held by tpm_try_get_ops() for the whole command).
 * @user and @total are set before the first command and never change.
 * @locality is set by tpm2_rm_set_locality() under tpm_mutex too, and
 * /dev/tpmrmN also holds its file's lock then, so either lock is enough
 * to read it.
 */
struct tpm2_rm_space {
	struct list_head entities;
	u32 next_vhandle;
	unsigned int nr_objects;
	unsigned int nr_sessions;
	struct tpm2_rm_user *user;
	struct tpm2_rm_usage *total;
	u8 locality;
};

/* the handle table */
void tpm2_rm_space_init(struct tpm2_rm_space *space);
struct tpm2_rm_entity *tpm2_rm_table_find(const struct tpm2_rm_space *space,
					  u32 vhandle);
u32 tpm2_rm_table_alloc_vhandle(struct tpm2_rm_space *space);
void tpm2_rm_table_insert(struct tpm2_rm_space *space,
			  struct tpm2_rm_entity *ent);
void tpm2_rm_table_remove(struct tpm2_rm_entity *ent);
u32 tpm2_rm_table_next(const struct tpm2_rm_space *space, u8 range, u32 min);
struct tpm2_rm_entity *tpm2_rm_entity_alloc(enum tpm2_rm_kind kind);
void tpm2_rm_entity_free(struct tpm2_rm_entity *ent);
size_t tpm2_rm_cap_build(const struct tpm2_rm_space *space, u32 property,
			 u32 count, u8 *buf, size_t bufsiz);

/* quota arithmetic */
u32 tpm2_rm_quota_check(const struct tpm2_rm_quota *q,
			const struct tpm2_rm_usage *file,
			const struct tpm2_rm_usage *user,
			const struct tpm2_rm_usage *total, u32 capacity,
			bool session);

#endif /* __TPM2_RM_TABLE_H__ */
