/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TPM 2.0 resource manager (RM), shared definitions.
 *
 * The RM lets every opener of /dev/tpmrmN use the TPM as if it were alone:
 * transient objects get per-open-file virtual handles, sessions are owned by
 * the file that started them, and the few TPM slots are shared by keeping a
 * context resident until somebody else needs its slot (lazy residency). The
 * code is split by owner: the command map (tpm2-rm-cmd.c) parses command
 * buffers, the handle table (tpm2-rm-table.c) maps virtual handles of one
 * space to entities, the residency layer (tpm2-rm-resident.c) knows which TPM
 * slot holds what and chooses victims, tpm2-rm.c drives one command through
 * prepare, transmit and commit, and tpm2-rm-dev.c is the character device.
 */

#ifndef __TPM2_RM_H__
#define __TPM2_RM_H__

#include <linux/types.h>
#include <linux/list.h>
#include <linux/device.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>

#include "tpm2-rm-cmd.h"
#include "tpm2-rm-table.h"

struct tpm_chip;
struct tpm_buf;

/* TPM_CC_SetLocality of the reference TPM and swtpm (vendor range). */
#define TPM2_RM_CC_SET_LOCALITY		0x20001000

/* A TPMS_CONTEXT starts with sequence (u64) and then savedHandle (u32). */
#define TPM2_RM_CONTEXT_SAVED_HANDLE	8
#define TPM2_RM_CONTEXT_MIN_SIZE	18
#define TPM2_RM_SAVED_SEQUENCE		0x80000002

#define TPM2_RM_MAX_RETRIES		3
/* regaps for one command: as many saved sessions as TPMs keep (64) */
#define TPM2_RM_MAX_REGAPS		64
#define TPM2_RM_MAX_ORPHANS		16
#define TPM2_RM_MAX_STALE		8

/**
 * enum tpm2_rm_sync - whether the RM's tables are what the TPM holds
 * @TPM2_RM_IN_SYNC:	they are
 * @TPM2_RM_UNSURE:	a command of the RM's own reached the TPM and no usable
 *			answer came back (a timeout, a transport error, a
 *			malformed answer): the TPM may have run it, so the
 *			tables are checked against the TPM before their next
 *			use (tpm2_rm_check_sync())
 */
enum tpm2_rm_sync {
	TPM2_RM_IN_SYNC,
	TPM2_RM_UNSURE,
};

/**
 * struct tpm2_rm_stats - counters shown in /sys/class/tpm/tpmN/rm/
 * @context_loads:	ContextLoad commands sent by the RM itself
 * @context_saves:	ContextSave commands sent by the RM itself
 * @flushes:		FlushContext commands sent by the RM itself
 * @evictions:		entities moved out of a TPM slot
 * @retries:		commands re-sent after TPM_RC_{OBJECT,SESSION}_MEMORY
 * @rm_answered:	client commands answered without the TPM
 * @regaps:	saved sessions loaded and saved again after TPM_RC_CONTEXT_GAP
 *
 * Written under the chip's tpm_mutex, read locklessly by sysfs.
 */
struct tpm2_rm_stats {
	unsigned long context_loads;
	unsigned long context_saves;
	unsigned long flushes;
	unsigned long evictions;
	unsigned long retries;
	unsigned long rm_answered;
	unsigned long regaps;
};

/**
 * enum tpm2_rm_kslot - the TPM slot a kernel command takes while it runs
 * @TPM2_RM_KSLOT_NONE:		none (it names loaded handles or none)
 * @TPM2_RM_KSLOT_OBJECT:	an object slot (ContextLoad of an object,
 *				CreatePrimary, Load, sequence starts)
 * @TPM2_RM_KSLOT_SESSION:	a session slot (StartAuthSession,
 *				ContextLoad of a session)
 */
enum tpm2_rm_kslot {
	TPM2_RM_KSLOT_NONE,
	TPM2_RM_KSLOT_OBJECT,
	TPM2_RM_KSLOT_SESSION,
};

#define TPM2_RM_KERNEL_MAX		4

/**
 * struct tpm2_rm_kcmd - what a kernel command does to the kernel's contexts
 * @slot:	the slot it needs, &enum tpm2_rm_kslot
 * @objects:	object slots it needs while it runs: one for an object it
 *		loads, one for each persistent object it names (the TPM loads
 *		a persistent object into an object slot to use it)
 * @loads:	on success its response handle is a new kernel context
 * @foreign:	it names a transient object or a session that is not the
 *		kernel's (a trusted key's keyhandle= or policyhandle=), or it
 *		cannot be parsed
 * @flushed:	the handle FlushContext removes, or 0
 * @ended:	sessions it ends on success (continueSession clear)
 * @nr_ended:	entries in @ended
 * @active:	set by tpm2_rm_before_kernel_cmd() for the command being
 *		sent, cleared when tpm2_rm_after_kernel_cmd() accounted for it
 */
struct tpm2_rm_kcmd {
	u8 slot;
	u8 objects;
	bool loads;
	bool foreign;
	bool active;
	u32 flushed;
	u32 ended[TPM2_RM_MAX_AUTHS];
	u8 nr_ended;
};

/**
 * struct tpm2_rm_kernel - the kernel's own contexts loaded in the TPM
 * @objects:	handles of kernel objects (its null key, a trusted key's
 *		blob) between their load and their FlushContext
 * @nr_objects:	entries in @objects
 * @sessions:	handles of kernel sessions (chip->auth) the TPM holds loaded
 * @nr_sessions: entries in @sessions
 * @pending:	the kernel command being sent, between the two hooks
 *
 * The RM counts these as taken slots: tpm2_rm_resident_full() adds them to
 * its own. Updated only by the kernel-command hooks of tpm_transmit(), with
 * the chip's tpm_mutex held.
 */
struct tpm2_rm_kernel {
	u32 objects[TPM2_RM_KERNEL_MAX];
	unsigned int nr_objects;
	u32 sessions[TPM2_RM_KERNEL_MAX];
	unsigned int nr_sessions;
	struct tpm2_rm_kcmd pending;
};

/**
 * struct tpm2_rm_chip - per-chip residency state
 * @lru:		resident entities of all spaces, least recently used
 *			first
 * @nr_objects:		resident objects and sequences
 * @nr_sessions:	resident sessions
 * @object_slots:	TPM_PT_HR_TRANSIENT_MIN
 * @session_slots:	TPM_PT_HR_LOADED_MIN
 * @active_sessions:	TPM_PT_ACTIVE_SESSIONS_MAX
 * @context_gap:	TPM_PT_CONTEXT_GAP_MAX
 * @max_object_context:	TPM_PT_MAX_OBJECT_CONTEXT
 * @max_session_context: TPM_PT_MAX_SESSION_CONTEXT
 * @props_known:	the properties above were read from the TPM
 * @saved:		sessions the TPM holds as saved contexts, for finding
 *			the oldest one on TPM_RC_CONTEXT_GAP
 * @orphans:		sessions saved by clients whose files are closed; any
 *			file may load them back
 * @parked:		contexts of files closed while the TPM could not be
 *			used; flushed by tpm2_rm_flush_stale()
 * @clock:		RM commands run on this chip; entities' use times
 * @stale:		handles the RM dropped but could not flush yet
 * @nr_stale:		entries in @stale
 * @stats:		counters
 * @sync:		&enum tpm2_rm_sync
 * @total:		objects and sessions held by all spaces, orphans included
 * @quota:		limits, see &struct tpm2_rm_quota
 * @deny:		bitmap of &enum tpm2_rm_class denied to /dev/tpmrm users
 * @users:		list of &struct tpm2_rm_user, one per uid with open files
 * @users_lock:		protects @users and each entry's refs; taken without
 *			the tpm_mutex, at open and release
 * @kernel:		the kernel's own loaded contexts, see tpm2-rm-kernel.c
 *
 * Locking: everything else here is protected by the chip's tpm_mutex; the
 * prepare-transmit-commit sequence of a command runs entirely under it.
 * @quota and @deny are written by sysfs without it and read once per
 * command with READ_ONCE().
 */
struct tpm2_rm_chip {
	struct list_head lru;
	unsigned int nr_objects;
	unsigned int nr_sessions;
	u32 object_slots;
	u32 session_slots;
	u32 active_sessions;
	u32 context_gap;
	u32 max_object_context;
	u32 max_session_context;
	bool props_known;
	struct list_head saved;
	struct tpm2_rm_space orphans;
	struct tpm2_rm_space parked;
	u64 clock;
	u32 stale[TPM2_RM_MAX_STALE];
	unsigned int nr_stale;
	struct tpm2_rm_stats stats;
	enum tpm2_rm_sync sync;
	struct tpm2_rm_usage total;
	struct tpm2_rm_quota quota;
	unsigned long deny;
	struct list_head users;
	spinlock_t users_lock; /* see @users_lock above */
	struct tpm2_rm_kernel kernel;
};

/* tpm2-rm-resident.c: which TPM slot holds what */
void tpm2_rm_resident_add(struct tpm2_rm_chip *rm, struct tpm2_rm_entity *ent,
			  u32 phandle);
void tpm2_rm_resident_del(struct tpm2_rm_chip *rm, struct tpm2_rm_entity *ent);
void tpm2_rm_resident_touch(struct tpm2_rm_chip *rm,
			    struct tpm2_rm_entity *ent);
bool tpm2_rm_resident_full(const struct tpm2_rm_chip *rm, bool session);
struct tpm2_rm_entity *tpm2_rm_resident_victim(const struct tpm2_rm_chip *rm,
					       bool session);
int tpm2_rm_evict(struct tpm_chip *chip, struct tpm2_rm_entity *ent,
		  bool force);
int tpm2_rm_make_room(struct tpm_chip *chip, bool session);
int tpm2_rm_make_room_n(struct tpm_chip *chip, bool session, unsigned int n);
bool tpm2_rm_evict_for_retry(struct tpm_chip *chip, u32 tpm_rc);
int tpm2_rm_load(struct tpm_chip *chip, struct tpm2_rm_entity *ent,
		 u32 *tpm_rc);
int tpm2_rm_flush(struct tpm_chip *chip, u32 handle);
bool tpm2_rm_seq_before(u64 a, u64 b);
void tpm2_rm_saved_add(struct tpm2_rm_chip *rm, struct tpm2_rm_entity *ent,
		       u64 seq);
void tpm2_rm_saved_del(struct tpm2_rm_entity *ent);
struct tpm2_rm_entity *tpm2_rm_saved_oldest(const struct tpm2_rm_chip *rm);
bool tpm2_rm_regap_for_retry(struct tpm_chip *chip, u32 tpm_rc);
bool tpm2_rm_retry(struct tpm_chip *chip, u32 tpm_rc, unsigned int *tries);
bool tpm2_rm_load_rc_is_fatal(u32 tpm_rc);
void tpm2_rm_drop_state(struct tpm_chip *chip, bool clear);
void tpm2_rm_check_handle_reuse(struct tpm_chip *chip, u32 handle);
void tpm2_rm_resync(struct tpm_chip *chip, u32 fresh);
void tpm2_rm_flush_strays(struct tpm_chip *chip);
void tpm2_rm_check_sync(struct tpm_chip *chip);
int tpm2_rm_send_get_handles(struct tpm_chip *chip, struct tpm_buf *buf,
			     size_t *len, u32 *tpm_rc);

/* tpm2-rm-resident.c: the RM's own context commands */
void tpm2_rm_flush_stale(struct tpm_chip *chip);
int tpm2_rm_send_context_save(struct tpm_chip *chip, struct tpm_buf *buf,
			      size_t *len, u32 *tpm_rc);
int tpm2_rm_send_context_load(struct tpm_chip *chip, struct tpm_buf *buf,
			      size_t *len, u32 *tpm_rc);
int tpm2_rm_send_flush(struct tpm_chip *chip, struct tpm_buf *buf,
		       size_t *len, u32 *tpm_rc);
u8 *tpm2_rm_blob_dup(const u8 *data, size_t len);

/* tpm2-rm.c: one command through the RM, hooks for the rest of the driver */
ssize_t tpm2_rm_transmit(struct tpm_chip *chip, struct tpm2_rm_space *space,
			 u8 *buf, size_t bufsiz, size_t len);
void tpm2_rm_space_del(struct tpm_chip *chip, struct tpm2_rm_space *space,
		       bool tpm_usable);
void tpm2_rm_space_park(struct tpm_chip *chip, struct tpm2_rm_space *space);
ssize_t tpm2_rm_rsp_check(const u8 *buf, ssize_t ret);
int tpm2_rm_user_get(struct tpm_chip *chip, struct tpm2_rm_space *space,
		     kuid_t uid);
void tpm2_rm_user_put(struct tpm_chip *chip, struct tpm2_rm_space *space);
int tpm2_rm_chip_init(struct tpm_chip *chip);
void tpm2_rm_chip_free(struct tpm_chip *chip);
void tpm2_rm_evict_all(struct tpm_chip *chip);
void tpm2_rm_before_kernel_cmd(struct tpm_chip *chip, const u8 *buf,
			       size_t len);
bool tpm2_rm_cmd_needs_no_slot(u32 cc);
void tpm2_rm_after_transmit(struct tpm_chip *chip, const u8 *cmd,
			    size_t cmd_len, u32 tpm_rc);
int tpm2_rm_locality_check(bool privileged, u32 locality, bool selectable);
int tpm2_rm_set_locality(struct tpm_chip *chip, struct tpm2_rm_space *space,
			 u32 locality, bool privileged);
extern const struct attribute_group tpm2_rm_attr_group;

/* tpm2-rm-kernel.c: the kernel's own contexts (TCG_TPM2_HMAC) */
int tpm2_load_context(struct tpm_chip *chip, u8 *buf,
		      unsigned int *offset, u32 *handle);
int tpm2_save_context(struct tpm_chip *chip, u32 handle, u8 *buf,
		      unsigned int buf_size, unsigned int *offset);
void tpm2_rm_kernel_classify(const u8 *buf, size_t len, u32 attrs,
			     const struct tpm2_rm_kernel *k,
			     struct tpm2_rm_kcmd *kc);
void tpm2_rm_kernel_commit(struct tpm2_rm_kernel *k,
			   const struct tpm2_rm_kcmd *kc, u32 tpm_rc,
			   u32 rhandle);
void tpm2_rm_after_kernel_cmd(struct tpm_chip *chip, const u8 *buf,
			      ssize_t len);
bool tpm2_rm_kernel_yield(struct tpm_chip *chip);
bool tpm2_rm_kernel_holds(const struct tpm2_rm_kernel *k, u32 handle);
void tpm2_rm_kernel_forget(struct tpm2_rm_kernel *k, u32 handle);

/* tpm2-rm-dev.c: /dev/tpmrmN */
int tpm2_rm_dev_init(void);
void tpm2_rm_dev_exit(void);

#endif /* __TPM2_RM_H__ */
