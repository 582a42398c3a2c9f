/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TPM 2.0 resource manager: the command map (tpm2-rm-cmd.c).
 *
 * Pure functions over command and response buffers: the handle and
 * authorization areas of a command, header-only responses, RM-layer
 * response codes and which commands the resource manager knows how to
 * handle. They need no TPM, no chip and no handle table.
 */

#ifndef __TPM2_RM_CMD_H__
#define __TPM2_RM_CMD_H__

#include <linux/bits.h>
#include <linux/types.h>

/* The fields of a TPM_RC (TPM 2.0 Part 2, 6.6.3). */
#define TPM2_RM_RC_WARN_MASK		0x0980
#define TPM2_RM_RC_WARN			0x0900
#define TPM2_RM_RC_P			0x0040
#define TPM2_RM_RC_S			0x0800
#define TPM2_RM_RC_N_SHIFT		8

#define TPM2_RM_MAX_HANDLES		3
#define TPM2_RM_MAX_AUTHS		3

/**
 * enum tpm2_rm_class - command classes root can deny to /dev/tpmrm users
 * @TPM2_RM_CLASS_VENDOR:	vendor-specific commands (TPM_CC V bit); the RM
 *				cannot know what their handles mean, so this
 *				class is denied by default
 * @TPM2_RM_CLASS_HIERARCHY:	Clear, ClearControl, HierarchyControl,
 *				HierarchyChangeAuth, ChangePPS, ChangeEPS
 * @TPM2_RM_CLASS_DA:		DictionaryAttackParameters and
 *				DictionaryAttackLockReset
 * @TPM2_RM_CLASS_POWER:	Startup and Shutdown
 * @TPM2_RM_CLASS_FIRMWARE:	FieldUpgradeStart, FieldUpgradeData and
 *				FirmwareRead
 * @TPM2_RM_NR_CLASSES:		number of classes
 */
enum tpm2_rm_class {
	TPM2_RM_CLASS_VENDOR,
	TPM2_RM_CLASS_HIERARCHY,
	TPM2_RM_CLASS_DA,
	TPM2_RM_CLASS_POWER,
	TPM2_RM_CLASS_FIRMWARE,
	TPM2_RM_NR_CLASSES,
};

#define TPM2_RM_DENY_DEFAULT		BIT(TPM2_RM_CLASS_VENDOR)

/**
 * struct tpm2_rm_auth - one session of a command's authorization area
 * @handle:	session handle
 * @attrs:	TPMA_SESSION byte
 */
struct tpm2_rm_auth {
	u32 handle;
	u8 attrs;
};

/**
 * struct tpm2_rm_cmd - map of a command buffer
 * @cc:		command code
 * @tag:	TPM_ST_SESSIONS or TPM_ST_NO_SESSIONS
 * @size:	command size
 * @nr_handles:	entries in @handles (from TPMA_CC.cHandles)
 * @nr_auths:	entries in @auths
 * @rhandle:	the response carries a handle (TPMA_CC.rHandle)
 * @handles:	handle area as sent by the client
 * @auths:	authorization area
 * @param_off:	offset of the parameter area
 */
struct tpm2_rm_cmd {
	u32 cc;
	u16 tag;
	u32 size;
	u8 nr_handles;
	u8 nr_auths;
	bool rhandle;
	u32 handles[TPM2_RM_MAX_HANDLES];
	struct tpm2_rm_auth auths[TPM2_RM_MAX_AUTHS];
	u32 param_off;
};

/* command and response parsing */
u32 tpm2_rm_cmd_parse(const u8 *buf, size_t len, u32 attrs,
		      struct tpm2_rm_cmd *cmd);
size_t tpm2_rm_rsp_header(u8 *buf, u16 tag, u32 rc);
u32 tpm2_rm_rsp_rc(const u8 *buf, size_t len);
bool tpm2_rm_rsp_valid(const u8 *buf, size_t len);
u32 tpm2_rm_handle_error(unsigned int index);
u32 tpm2_rm_session_error(unsigned int index);
bool tpm2_rm_is_session(u32 handle);
bool tpm2_rm_is_transient(u32 handle);
bool tpm2_rm_cap_handles_range(const struct tpm2_rm_cmd *cmd, const u8 *buf,
			       u32 *property, u32 *count);
int tpm2_rm_cap_handles_parse(const u8 *buf, size_t len, u32 *handles,
			      unsigned int max);

/* command policy */
int tpm2_rm_cc_class(u32 cc);
bool tpm2_rm_cc_modeled(u32 cc, bool rhandle);
bool tpm2_rm_cc_flushes_objects(u32 cc);
u32 tpm2_rm_policy_check(unsigned long deny, u32 cc, bool rhandle);
const char *tpm2_rm_class_name(unsigned int class);
int tpm2_rm_deny_parse(const char *buf, unsigned long *deny);

#endif /* __TPM2_RM_CMD_H__ */
