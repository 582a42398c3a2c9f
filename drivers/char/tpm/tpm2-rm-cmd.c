// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: command map.
 *
 * Pure functions over command and response buffers: find a command's
 * attributes in the TPM's TPM_CAP_COMMANDS table, walk the handle area and
 * the authorization area of a command, build header-only responses and
 * RM-layer response codes, and tell which commands the RM knows how to
 * handle. Nothing here talks to a TPM, so all of it is covered by KUnit.
 */

#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/tpm.h>
#include <linux/unaligned.h>
#include <kunit/visibility.h>
#include "tpm2-rm-cmd.h"

/**
 * tpm2_rm_handle_error() - RM-layer TPM_RC_HANDLE for a handle-area entry
 * @index:	zero-based position in the handle area
 *
 * Return: RM-layer format-1 response code naming handle @index + 1.
 */
u32 tpm2_rm_handle_error(unsigned int index)
{
	return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_HANDLE |
	       ((index + 1) << TPM2_RM_RC_N_SHIFT);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_handle_error);

/**
 * tpm2_rm_session_error() - RM-layer TPM_RC_HANDLE for a session entry
 * @index:	zero-based position in the authorization area
 *
 * Return: RM-layer format-1 response code naming session @index + 1.
 */
u32 tpm2_rm_session_error(unsigned int index)
{
	return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_HANDLE | TPM2_RM_RC_S |
	       ((index + 1) << TPM2_RM_RC_N_SHIFT);
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_session_error);

/**
 * tpm2_rm_is_session() - is @handle an HMAC or policy session handle
 * @handle:	TPM handle
 *
 * Return: true for 0x02xxxxxx and 0x03xxxxxx.
 */
bool tpm2_rm_is_session(u32 handle)
{
	u32 type = tpm2_handle_mso(handle);

	return type == TPM2_MSO_SESSION ||
	       type == TPM2_MSO_POLICY;
}

/**
 * tpm2_rm_is_transient() - is @handle a transient object handle
 * @handle:	TPM handle
 *
 * Return: true for 0x80xxxxxx.
 */
bool tpm2_rm_is_transient(u32 handle)
{
	return tpm2_handle_mso(handle) == TPM2_MSO_VOLATILE;
}

/*
 * Read a TPM2B size at @off and step over the TPM2B. Returns false if the
 * TPM2B does not fit before @end.
 */
static bool tpm2_rm_skip_tpm2b(const u8 *buf, u32 end, u32 *off)
{
	u16 size;

	if (*off + 2 > end)
		return false;
	size = get_unaligned_be16(&buf[*off]);
	*off += 2;
	if (size > end - *off)
		return false;
	*off += size;
	return true;
}

/* Parse one TPMS_AUTH_COMMAND at *off; false if it overruns @end. */
static bool tpm2_rm_parse_auth(const u8 *buf, u32 end, u32 *off,
			       struct tpm2_rm_auth *auth)
{
	if (*off + 4 > end)
		return false;
	auth->handle = get_unaligned_be32(&buf[*off]);
	*off += 4;
	if (!tpm2_rm_skip_tpm2b(buf, end, off))
		return false;
	if (*off + 1 > end)
		return false;
	auth->attrs = buf[*off];
	*off += 1;
	return tpm2_rm_skip_tpm2b(buf, end, off);
}

/*
 * Walk the authorization area that starts at @off. The area must be used up
 * exactly by at most TPM2_RM_MAX_AUTHS sessions.
 */
static u32 tpm2_rm_parse_auth_area(const u8 *buf, size_t len, u32 off,
				   struct tpm2_rm_cmd *cmd)
{
	u32 auth_size, end;

	if (off + 4 > len)
		return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_AUTHSIZE;
	auth_size = get_unaligned_be32(&buf[off]);
	off += 4;
	if (auth_size < 9 || auth_size > len - off)
		return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_AUTHSIZE;
	end = off + auth_size;

	while (off < end) {
		if (cmd->nr_auths == TPM2_RM_MAX_AUTHS)
			return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_AUTHSIZE;
		if (!tpm2_rm_parse_auth(buf, end, &off,
					&cmd->auths[cmd->nr_auths]))
			return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_AUTHSIZE;
		cmd->nr_auths++;
	}
	cmd->param_off = end;
	return 0;
}

/**
 * tpm2_rm_cmd_parse() - map the handle and authorization areas of a command
 * @buf:	command buffer
 * @len:	number of valid bytes in @buf
 * @attrs:	TPMA_CC of the command
 * @cmd:	receives the map
 *
 * Return: 0, or an RM-layer TPM_RC (never a negative errno).
 */
u32 tpm2_rm_cmd_parse(const u8 *buf, size_t len, u32 attrs,
		      struct tpm2_rm_cmd *cmd)
{
	u32 off = TPM_HEADER_SIZE;
	unsigned int i;

	memset(cmd, 0, sizeof(*cmd));
	if (len < TPM_HEADER_SIZE)
		return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_COMMAND_SIZE;
	cmd->tag = get_unaligned_be16(&buf[0]);
	cmd->size = get_unaligned_be32(&buf[2]);
	cmd->cc = get_unaligned_be32(&buf[6]);
	if (cmd->size != len)
		return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_COMMAND_SIZE;

	cmd->nr_handles = (attrs >> TPM2_CC_ATTR_CHANDLES) & GENMASK(2, 0);
	cmd->rhandle = attrs & BIT(TPM2_CC_ATTR_RHANDLE);
	if (cmd->nr_handles > TPM2_RM_MAX_HANDLES)
		return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_COMMAND_SIZE;
	if (off + 4 * cmd->nr_handles > len)
		return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_COMMAND_SIZE;
	for (i = 0; i < cmd->nr_handles; i++, off += 4)
		cmd->handles[i] = get_unaligned_be32(&buf[off]);

	switch (cmd->tag) {
	case TPM2_ST_NO_SESSIONS:
		cmd->param_off = off;
		return 0;
	case TPM2_ST_SESSIONS:
		/*
		 * A context command takes no session. flushHandle is read as
		 * a handle here, but on the wire it would follow the sessions.
		 */
		if (cmd->cc == TPM2_CC_FLUSH_CONTEXT)
			return TSS2_RESMGR_TPM_RC_LAYER |
			       TPM2_RC_AUTH_CONTEXT;
		return tpm2_rm_parse_auth_area(buf, len, off, cmd);
	default:
		return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_BAD_TAG;
	}
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_cmd_parse);

/**
 * tpm2_rm_rsp_header() - write a header-only response
 * @buf:	buffer of at least TPM_HEADER_SIZE bytes
 * @tag:	response tag
 * @rc:		response code
 *
 * Return: the response length, TPM_HEADER_SIZE.
 */
size_t tpm2_rm_rsp_header(u8 *buf, u16 tag, u32 rc)
{
	put_unaligned_be16(tag, &buf[0]);
	put_unaligned_be32(TPM_HEADER_SIZE, &buf[2]);
	put_unaligned_be32(rc, &buf[6]);
	return TPM_HEADER_SIZE;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_rsp_header);

/**
 * tpm2_rm_rsp_rc() - response code of a response buffer
 * @buf:	response
 * @len:	response length
 *
 * Return: the response code, or TPM2_RC_FAILURE for a truncated response.
 */
u32 tpm2_rm_rsp_rc(const u8 *buf, size_t len)
{
	if (len < TPM_HEADER_SIZE)
		return TPM2_RC_FAILURE;
	return get_unaligned_be32(&buf[6]);
}

/**
 * tpm2_rm_rsp_valid() - is a response one a TPM 2.0 sends
 * @buf:	response
 * @len:	bytes received
 *
 * A TPM's response holds a header whose size field is @len and whose tag
 * is TPM_ST_NO_SESSIONS or TPM_ST_SESSIONS, or TPM_ST_RSP_COMMAND on the
 * bare TPM_RC_BAD_TAG answer to a TPM 1.2 tag. Anything else is not what
 * the TPM sent: the answer was lost on the way.
 *
 * Return: true if @buf is a well-formed response.
 */
bool tpm2_rm_rsp_valid(const u8 *buf, size_t len)
{
	u16 tag;

	if (len < TPM_HEADER_SIZE || get_unaligned_be32(&buf[2]) != len)
		return false;
	tag = get_unaligned_be16(buf);
	if (tag == TPM2_ST_NO_SESSIONS || tag == TPM2_ST_SESSIONS)
		return true;
	return tag == TPM2_ST_RSP_COMMAND && len == TPM_HEADER_SIZE &&
	       get_unaligned_be32(&buf[6]) == TPM2_RC_BAD_TAG;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_rsp_valid);

/**
 * tpm2_rm_cap_handles_parse() - read the TPM's answer to
 *				 GetCapability(TPM_CAP_HANDLES)
 * @buf:	response
 * @len:	response length
 * @handles:	receives the handles
 * @max:	room in @handles
 *
 * Return: the number of handles, or -EIO for a response that is not a
 * complete, successful list of at most @max handles with moreData clear:
 * the caller then does not know what the TPM holds.
 */
int tpm2_rm_cap_handles_parse(const u8 *buf, size_t len, u32 *handles,
			      unsigned int max)
{
	const size_t off = TPM_HEADER_SIZE + 9;
	u32 i, count;

	if (len < off || tpm2_rm_rsp_rc(buf, len) != TPM2_RC_SUCCESS ||
	    get_unaligned_be32(&buf[2]) != len || buf[TPM_HEADER_SIZE] ||
	    get_unaligned_be32(&buf[TPM_HEADER_SIZE + 1]) != TPM2_CAP_HANDLES)
		return -EIO;
	count = get_unaligned_be32(&buf[TPM_HEADER_SIZE + 5]);
	if (count > max || len != off + 4 * (size_t)count)
		return -EIO;
	for (i = 0; i < count; i++)
		handles[i] = get_unaligned_be32(&buf[off + 4 * i]);
	return count;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_cap_handles_parse);

/**
 * tpm2_rm_cap_handles_range() - is this GetCapability for a virtual range
 * @cmd:	map of the command
 * @buf:	command buffer
 * @property:	receives the first handle asked for
 * @count:	receives the number of handles asked for
 *
 * Transient objects and sessions are answered from the space's handle table;
 * every other capability goes to the TPM.
 *
 * Return: true if the RM must answer the command itself.
 */
bool tpm2_rm_cap_handles_range(const struct tpm2_rm_cmd *cmd, const u8 *buf,
			       u32 *property, u32 *count)
{
	const u8 *p = &buf[cmd->param_off];
	u32 type;

	if (cmd->cc != TPM2_CC_GET_CAPABILITY || cmd->param_off + 12 > cmd->size)
		return false;
	if (get_unaligned_be32(p) != TPM2_CAP_HANDLES)
		return false;
	*property = get_unaligned_be32(p + 4);
	*count = get_unaligned_be32(p + 8);
	type = tpm2_handle_mso(*property);
	return type == TPM2_MSO_VOLATILE || type == TPM2_MSO_SESSION ||
	       type == TPM2_MSO_POLICY;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_cap_handles_range);

/* Command codes of each &enum tpm2_rm_class but the vendor one. */
static const u32 tpm2_rm_class_hierarchy[] = {
	TPM2_CC_CLEAR, TPM2_CC_CLEAR_CONTROL, TPM2_CC_HIERARCHY_CONTROL,
	TPM2_CC_HIERARCHY_CHANGE_AUTH, TPM2_CC_CHANGE_PPS,
	TPM2_CC_CHANGE_EPS, 0,
};

static const u32 tpm2_rm_class_da[] = {
	TPM2_CC_DA_PARAMETERS, TPM2_CC_DA_LOCK_RESET, 0,
};

static const u32 tpm2_rm_class_power[] = {
	TPM2_CC_STARTUP, TPM2_CC_SHUTDOWN, 0,
};

static const u32 tpm2_rm_class_firmware[] = {
	TPM2_CC_FIELD_UPGRADE_START, TPM2_CC_FIELD_UPGRADE_DATA,
	TPM2_CC_FIRMWARE_READ, 0,
};

static const struct {
	const char *name;
	const u32 *codes;
} tpm2_rm_classes[TPM2_RM_NR_CLASSES] = {
	[TPM2_RM_CLASS_VENDOR] = { "vendor", NULL },
	[TPM2_RM_CLASS_HIERARCHY] = { "hierarchy", tpm2_rm_class_hierarchy },
	[TPM2_RM_CLASS_DA] = { "da", tpm2_rm_class_da },
	[TPM2_RM_CLASS_POWER] = { "power", tpm2_rm_class_power },
	[TPM2_RM_CLASS_FIRMWARE] = { "firmware", tpm2_rm_class_firmware },
};

/**
 * tpm2_rm_class_name() - name of a command class, as sysfs shows it
 * @class:	&enum tpm2_rm_class
 *
 * Return: the name, or NULL for an unknown class.
 */
const char *tpm2_rm_class_name(unsigned int class)
{
	return class < TPM2_RM_NR_CLASSES ? tpm2_rm_classes[class].name : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_class_name);

/**
 * tpm2_rm_cc_class() - the deniable class a command code belongs to
 * @cc:		command code
 *
 * Return: &enum tpm2_rm_class, or -1 if @cc is in no class.
 */
int tpm2_rm_cc_class(u32 cc)
{
	const u32 *code;
	unsigned int i;

	if (cc & BIT(TPM2_CC_ATTR_VENDOR))
		return TPM2_RM_CLASS_VENDOR;
	for (i = 0; i < TPM2_RM_NR_CLASSES; i++)
		for (code = tpm2_rm_classes[i].codes; code && *code; code++)
			if (*code == cc)
				return i;
	return -1;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_cc_class);

/**
 * tpm2_rm_cc_modeled() - does the RM know what a command's handles mean
 * @cc:		command code
 * @rhandle:	the TPM says the response carries a handle (TPMA_CC.rHandle)
 *
 * Handles in the handle and authorization areas are mapped the same way for
 * every command. A response handle is a new entity, and the RM must know of
 * which kind (object, sequence or session) to keep it correctly, so only
 * the commands below may return one.
 *
 * Return: true if the RM handles @cc correctly.
 */
bool tpm2_rm_cc_modeled(u32 cc, bool rhandle)
{
	if (!rhandle)
		return true;
	switch (cc) {
	case TPM2_CC_CREATE_PRIMARY:
	case TPM2_CC_LOAD:
	case TPM2_CC_LOAD_EXTERNAL:
	case TPM2_CC_CREATE_LOADED:
	case TPM2_CC_HASH_SEQUENCE_START:
	case TPM2_CC_HMAC_START:
	case TPM2_CC_START_AUTH_SESS:
	case TPM2_CC_CONTEXT_LOAD:
		return true;
	default:
		return false;
	}
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_cc_modeled);

/**
 * tpm2_rm_cc_flushes_objects() - may the TPM flush transient objects itself
 * @cc:		command code
 *
 * Clear, HierarchyControl, ChangePPS and ChangeEPS flush the transient
 * objects of the hierarchies they reset or disable. The RM evicts its
 * objects before such a command, so that no space keeps a TPM handle the
 * TPM may give to another space's next object.
 *
 * Return: true if the RM must empty the object slots before @cc.
 */
bool tpm2_rm_cc_flushes_objects(u32 cc)
{
	return cc == TPM2_CC_CLEAR || cc == TPM2_CC_HIERARCHY_CONTROL ||
	       cc == TPM2_CC_CHANGE_PPS || cc == TPM2_CC_CHANGE_EPS;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_cc_flushes_objects);

/**
 * tpm2_rm_policy_check() - may a /dev/tpmrm user send a command
 * @deny:	bitmap of denied &enum tpm2_rm_class
 * @cc:		command code, implemented by the TPM
 * @rhandle:	TPMA_CC.rHandle of @cc
 *
 * Return: 0, or the RM-layer TPM_RC_COMMAND_CODE to answer with.
 */
u32 tpm2_rm_policy_check(unsigned long deny, u32 cc, bool rhandle)
{
	int class = tpm2_rm_cc_class(cc);

	if ((class >= 0 && (deny & BIT(class))) ||
	    !tpm2_rm_cc_modeled(cc, rhandle))
		return TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_COMMAND_CODE;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_policy_check);

static int tpm2_rm_class_find(const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < TPM2_RM_NR_CLASSES; i++)
		if (strlen(tpm2_rm_classes[i].name) == len &&
		    !strncmp(tpm2_rm_classes[i].name, name, len))
			return i;
	return -1;
}

/* Apply one word of tpm2_rm_deny_parse(); *first tells if it is the first. */
static int tpm2_rm_deny_word(const char *word, size_t len, bool *first,
			     unsigned long *deny)
{
	char op = *word;
	int class;

	if (op == '+' || op == '-') {
		word++;
		len--;
	} else if (*first) {
		*deny = 0;
	}
	*first = false;
	if (len == 4 && !strncmp(word, "none", 4) && op != '+' && op != '-')
		return 0;
	if (len == 7 && !strncmp(word, "default", 7) && op != '+' &&
	    op != '-') {
		*deny = TPM2_RM_DENY_DEFAULT;
		return 0;
	}
	class = tpm2_rm_class_find(word, len);
	if (class < 0)
		return -EINVAL;
	if (op == '-')
		*deny &= ~BIT(class);
	else
		*deny |= BIT(class);
	return 0;
}

/**
 * tpm2_rm_deny_parse() - apply what root wrote to the rm/deny sysfs file
 * @buf:	NUL-terminated words separated by blanks: "name" or "+name"
 *		denies a class, "-name" allows it; if the first word has no
 *		sign the set starts empty, so "da hierarchy" denies exactly
 *		those two; "none" is the empty set, "default" the default one
 * @deny:	the current set, replaced only if all of @buf is valid
 *
 * Return: 0, or -EINVAL for an unknown class or an empty @buf.
 */
int tpm2_rm_deny_parse(const char *buf, unsigned long *deny)
{
	unsigned long set = *deny;
	bool first = true;
	size_t len;
	int rc;

	for (;;) {
		buf = skip_spaces(buf);
		if (!*buf)
			break;
		len = strcspn(buf, " \t\n");
		rc = tpm2_rm_deny_word(buf, len, &first, &set);
		if (rc)
			return rc;
		buf += len;
	}
	if (first)
		return -EINVAL;
	*deny = set;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tpm2_rm_deny_parse);
