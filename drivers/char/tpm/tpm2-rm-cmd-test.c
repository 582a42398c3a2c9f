// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the TPM 2.0 resource manager's command map
 * (tpm2-rm-cmd.c), table-driven: command header and authorization area
 * parsing (truncated and overlong areas, too many sessions), FlushContext
 * with sessions, RM-layer response codes, the check of a TPM's response
 * and the parse of its GetCapability(TPM_CAP_HANDLES) answer. No TPM is
 * needed.
 */

#include <kunit/test.h>
#include <linux/tpm.h>
#include <linux/unaligned.h>
#include "tpm2-rm-cmd.h"
#include "tpm2-rm-test.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

struct parse_case {
	const char *name;
	u16 tag;
	u8 nh_attr;		/* cHandles in TPMA_CC */
	u8 nh_buf;		/* handles actually present */
	u8 ns;			/* sessions present */
	s8 auth_delta;		/* added to the correct authorizationSize */
	s8 size_delta;		/* added to the header size field */
	u8 cut;			/* bytes cut off the end of the buffer */
	u8 nparams;
	u32 rc;
	u8 nr_auths;
};

static const struct parse_case parse_cases[] = {
	{ "no sessions, no handles", TPM2_ST_NO_SESSIONS, 0, 0, 0, 0, 0, 0,
	  2, 0, 0 },
	{ "two handles, one session", TPM2_ST_SESSIONS, 2, 2, 1, 0, 0, 0, 4,
	  0, 1 },
	{ "three sessions", TPM2_ST_SESSIONS, 1, 1, 3, 0, 0, 0, 0, 0, 3 },
	{ "four sessions", TPM2_ST_SESSIONS, 1, 1, 4, 0, 0, 0, 0,
	  RM(TPM2_RC_AUTHSIZE), 0 },
	{ "shorter than a header", TPM2_ST_NO_SESSIONS, 0, 0, 0, 0, 0, 1, 0,
	  RM(TPM2_RC_COMMAND_SIZE), 0 },
	{ "size field disagrees", TPM2_ST_NO_SESSIONS, 0, 0, 0, 0, 1, 0, 2,
	  RM(TPM2_RC_COMMAND_SIZE), 0 },
	{ "handle area truncated", TPM2_ST_NO_SESSIONS, 2, 1, 0, 0, 0, 0, 0,
	  RM(TPM2_RC_COMMAND_SIZE), 0 },
	{ "bad tag", 0x00C1, 0, 0, 0, 0, 0, 0, 0,
	  RM(TPM2_RC_BAD_TAG), 0 },
	{ "auth size past the end", TPM2_ST_SESSIONS, 0, 0, 1, 4, 0, 0, 0,
	  RM(TPM2_RC_AUTHSIZE), 0 },
	{ "auth size short of a session", TPM2_ST_SESSIONS, 0, 0, 1, -1, 0, 0,
	  4, RM(TPM2_RC_AUTHSIZE), 0 },
	{ "auth size overlong inside params", TPM2_ST_SESSIONS, 0, 0, 1, 3,
	  0, 0, 4, RM(TPM2_RC_AUTHSIZE), 0 },
	{ "auth size missing", TPM2_ST_SESSIONS, 1, 1, 0, 0, 0, 0, 0,
	  RM(TPM2_RC_AUTHSIZE), 0 },
	{ "session count past the end", TPM2_ST_SESSIONS, 0, 0, 2, 8, 0, 0, 8,
	  RM(TPM2_RC_AUTHSIZE), 0 },
};

static void parse_case_desc(const struct parse_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(parse, parse_cases, parse_case_desc);

static void tpm2_rm_test_parse(struct kunit *test)
{
	const struct parse_case *c = test->param_value;
	u32 handles[3] = { 0x80000000, 0x80000001, 0x80000002 };
	u32 sess[4] = { TPM2_RS_PW, TPM2_RS_PW, TPM2_RS_PW, TPM2_RS_PW };
	struct tpm2_rm_cmd cmd;
	size_t len, auth_off;
	u8 *buf;

	buf = kunit_kzalloc(test, 256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	len = build_cmd(buf, c->tag, CC_SIGN, handles, c->nh_buf, sess, NULL,
			c->tag == TPM2_ST_SESSIONS ? c->ns : 0, c->nparams);
	if (c->tag == TPM2_ST_SESSIONS && c->ns == 0) {
		/* drop the authorizationSize field itself */
		len -= 4;
		put_unaligned_be32(len, &buf[2]);
	}
	auth_off = TPM_HEADER_SIZE + 4 * c->nh_buf;
	if (c->auth_delta)
		put_unaligned_be32(9 * c->ns + c->auth_delta, &buf[auth_off]);
	if (c->size_delta)
		put_unaligned_be32(len + c->size_delta, &buf[2]);
	if (c->cut)
		len = TPM_HEADER_SIZE - c->cut;

	KUNIT_EXPECT_EQ(test, tpm2_rm_cmd_parse(buf, len,
						ATTR(CC_SIGN, c->nh_attr, 0),
						&cmd), c->rc);
	if (!c->rc) {
		KUNIT_EXPECT_EQ(test, cmd.nr_auths, c->nr_auths);
		KUNIT_EXPECT_EQ(test, cmd.nr_handles, c->nh_attr);
		KUNIT_EXPECT_EQ(test, cmd.param_off, (u32)(len - c->nparams));
	}
}

static void tpm2_rm_test_rc_errors(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, tpm2_rm_handle_error(0), 0xB018Bu);
	KUNIT_EXPECT_EQ(test, tpm2_rm_session_error(1), 0xB0A8Bu);
}

/*
 * FlushContext: the kernel's command table gives it one handle, which is
 * right only without sessions (on the wire flushHandle follows them).
 */
struct flush_case {
	const char *name;
	u16 tag;
	u32 sess;
	u32 rc;
};

static const struct flush_case flush_cases[] = {
	{ "flush without sessions", TPM2_ST_NO_SESSIONS, 0, 0 },
	{ "flush with a password session", TPM2_ST_SESSIONS, TPM2_RS_PW,
	  RM(TPM2_RC_AUTH_CONTEXT) },
	{ "flush with an HMAC session", TPM2_ST_SESSIONS, 0x02000000,
	  RM(TPM2_RC_AUTH_CONTEXT) },
};

static void flush_case_desc(const struct flush_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(flush, flush_cases, flush_case_desc);

static void tpm2_rm_test_parse_flush(struct kunit *test)
{
	const struct flush_case *c = test->param_value;
	u32 handle = 0x80000000;
	struct tpm2_rm_cmd cmd;
	size_t len;
	u8 *buf;

	buf = kunit_kzalloc(test, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	len = build_cmd(buf, c->tag, TPM2_CC_FLUSH_CONTEXT, &handle, 1,
			&c->sess, NULL, c->tag == TPM2_ST_SESSIONS, 0);
	KUNIT_EXPECT_EQ(test, tpm2_rm_cmd_parse(buf, len,
						ATTR(TPM2_CC_FLUSH_CONTEXT,
						     1, 0), &cmd), c->rc);
	if (!c->rc)
		KUNIT_EXPECT_EQ(test, cmd.handles[0], handle);
}

/*
 * GetCapability(TPM_CAP_HANDLES) answers the RM relies on to know what the
 * TPM holds: anything but a complete list it can hold is "unknown".
 */
struct cap_parse_case {
	const char *name;
	u32 rc;
	u8 more;
	u32 cap;
	u32 count;		/* handles claimed */
	unsigned int nr;	/* handles present */
	unsigned int max;
	int ret;
};

static const struct cap_parse_case cap_parse_cases[] = {
	{ "two handles", 0, 0, TPM2_CAP_HANDLES, 2, 2, 8, 2 },
	{ "no handle", 0, 0, TPM2_CAP_HANDLES, 0, 0, 8, 0 },
	{ "exactly max", 0, 0, TPM2_CAP_HANDLES, 3, 3, 3, 3 },
	{ "more than max", 0, 0, TPM2_CAP_HANDLES, 4, 4, 3, -EIO },
	{ "moreData set", 0, 1, TPM2_CAP_HANDLES, 2, 2, 8, -EIO },
	{ "TPM error", TPM2_RC_FAILURE, 0, TPM2_CAP_HANDLES, 0, 0, 8, -EIO },
	{ "other capability", 0, 0, TPM2_CAP_COMMANDS, 2, 2, 8, -EIO },
	{ "count beyond the response", 0, 0, TPM2_CAP_HANDLES, 3, 2, 8,
	  -EIO },
	{ "bytes beyond the count", 0, 0, TPM2_CAP_HANDLES, 1, 2, 8, -EIO },
};

static void cap_parse_case_desc(const struct cap_parse_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(cap_parse, cap_parse_cases, cap_parse_case_desc);

static void tpm2_rm_test_cap_parse(struct kunit *test)
{
	const struct cap_parse_case *c = test->param_value;
	size_t len = TPM_HEADER_SIZE + 9 + 4 * c->nr;
	u32 handles[8] = {};
	unsigned int i;
	u8 *buf;
	int ret;

	buf = kunit_kzalloc(test, 128, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	tpm2_rm_rsp_header(buf, TPM2_ST_NO_SESSIONS, c->rc);
	put_unaligned_be32(len, &buf[2]);
	buf[TPM_HEADER_SIZE] = c->more;
	put_unaligned_be32(c->cap, &buf[TPM_HEADER_SIZE + 1]);
	put_unaligned_be32(c->count, &buf[TPM_HEADER_SIZE + 5]);
	for (i = 0; i < c->nr; i++)
		put_unaligned_be32(0x80000000 + i,
				   &buf[TPM_HEADER_SIZE + 9 + 4 * i]);
	ret = tpm2_rm_cap_handles_parse(buf, len, handles, c->max);
	KUNIT_EXPECT_EQ(test, ret, c->ret);
	for (i = 0; ret > 0 && i < ret; i++)
		KUNIT_EXPECT_EQ(test, handles[i], 0x80000000 + i);
}

struct rsp_valid_case {
	const char *name;
	u16 tag;
	u32 size;		/* the header's size field */
	u32 rc;
	size_t len;		/* bytes received */
	bool valid;
};

static const struct rsp_valid_case rsp_valid_cases[] = {
	{ "bare header", TPM2_ST_NO_SESSIONS, 10, 0, 10, true },
	{ "with sessions", TPM2_ST_SESSIONS, 20, 0, 20, true },
	{ "error", TPM2_ST_NO_SESSIONS, 10, TPM2_RC_FAILURE, 10, true },
	{ "bad tag answer", TPM2_ST_RSP_COMMAND, 10, TPM2_RC_BAD_TAG, 10,
	  true },
	{ "1.2 tag, success", TPM2_ST_RSP_COMMAND, 10, 0, 10, false },
	{ "tag 0 (garbage)", 0, 10, 0, 10, false },
	{ "command tag", 0x00C1, 10, 0, 10, false },
	{ "shorter than a header", TPM2_ST_NO_SESSIONS, 6, 0, 6, false },
	{ "size field too large", TPM2_ST_NO_SESSIONS, 30, 0, 20, false },
	{ "size field too small", TPM2_ST_NO_SESSIONS, 10, 0, 20, false },
};

static void rsp_valid_case_desc(const struct rsp_valid_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rsp_valid, rsp_valid_cases, rsp_valid_case_desc);

static void tpm2_rm_test_rsp_valid(struct kunit *test)
{
	const struct rsp_valid_case *c = test->param_value;
	u8 buf[32] = {};

	put_unaligned_be16(c->tag, &buf[0]);
	put_unaligned_be32(c->size, &buf[2]);
	put_unaligned_be32(c->rc, &buf[6]);
	KUNIT_EXPECT_EQ(test, tpm2_rm_rsp_valid(buf, c->len), c->valid);
}

static struct kunit_case tpm2_rm_cmd_cases[] = {
	KUNIT_CASE_PARAM(tpm2_rm_test_cap_parse, cap_parse_gen_params),
	KUNIT_CASE_PARAM(tpm2_rm_test_rsp_valid, rsp_valid_gen_params),
	KUNIT_CASE_PARAM(tpm2_rm_test_parse, parse_gen_params),
	KUNIT_CASE_PARAM(tpm2_rm_test_parse_flush, flush_gen_params),
	KUNIT_CASE(tpm2_rm_test_rc_errors),
	{}
};

static struct kunit_suite tpm2_rm_cmd_suite = {
	.name = "tpm2_rm_cmd_test",
	.test_cases = tpm2_rm_cmd_cases,
};

kunit_test_suite(tpm2_rm_cmd_suite);

MODULE_DESCRIPTION("KUnit tests for the TPM 2.0 resource manager's command map");
MODULE_LICENSE("GPL");
