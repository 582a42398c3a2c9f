// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the TPM 2.0 resource manager's handle table
 * (tpm2-rm-table.c): virtual handle allocation and its wrap, lookup, and
 * the GetCapability(TPM_CAP_HANDLES) answer built from a table, for each
 * virtualized handle range, with count and moreData. No TPM is needed.
 */

#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/tpm.h>
#include <linux/unaligned.h>
#include "tpm.h"
#include "tpm2-rm-table.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

struct ent_desc {
	u32 vhandle;
	u8 kind;
	bool handed_out;
};

static const struct ent_desc cap_table[] = {
	{ 0x80000003, TPM2_RM_OBJECT },
	{ 0x80000001, TPM2_RM_OBJECT },
	{ 0x80000002, TPM2_RM_SEQUENCE },
	{ 0x02000005, TPM2_RM_SESSION },
	{ 0x03000001, TPM2_RM_SESSION },
	{ 0x02000007, TPM2_RM_SESSION, true },
};

struct cap_case {
	const char *name;
	u32 property;
	u32 count;
	u8 more;
	u32 nr;
	u32 handles[4];
};

static const struct cap_case cap_cases[] = {
	{ "all transient", 0x80000000, 10, 0, 3,
	  { 0x80000001, 0x80000002, 0x80000003 } },
	{ "transient count 1", 0x80000000, 1, 1, 1, { 0x80000001 } },
	{ "transient from the middle", 0x80000002, 1, 1, 1, { 0x80000002 } },
	{ "transient last", 0x80000003, 1, 0, 1, { 0x80000003 } },
	{ "transient past the end", 0x80000004, 5, 0, 0, {} },
	{ "transient count 0", 0x80000000, 0, 1, 0, {} },
	{ "loaded sessions", 0x02000000, 8, 0, 2, { 0x03000001, 0x02000005 } },
	{ "loaded sessions count 1", 0x02000000, 1, 1, 1, { 0x03000001 } },
	{ "loaded sessions from index 2", 0x02000002, 8, 0, 1, { 0x02000005 } },
	{ "saved sessions", 0x03000000, 8, 0, 1, { 0x02000007 } },
};

static void cap_case_desc(const struct cap_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(cap, cap_cases, cap_case_desc);

static void fill_space(struct kunit *test, struct tpm2_rm_space *space,
		       const struct ent_desc *d, unsigned int n)
{
	struct tpm2_rm_entity *ent;
	unsigned int i;

	tpm2_rm_space_init(space);
	for (i = 0; i < n; i++) {
		ent = kunit_kzalloc(test, sizeof(*ent), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, ent);
		INIT_LIST_HEAD(&ent->lru_node);
		ent->vhandle = d[i].vhandle;
		ent->kind = d[i].kind;
		if (d[i].handed_out)
			ent->state = TPM2_RM_ENT_HANDED_OUT;
		tpm2_rm_table_insert(space, ent);
	}
}

static void tpm2_rm_test_cap(struct kunit *test)
{
	const struct cap_case *c = test->param_value;
	struct tpm2_rm_space space;
	u32 i, len;
	u8 *buf;

	buf = kunit_kzalloc(test, TPM_BUFSIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	fill_space(test, &space, cap_table, ARRAY_SIZE(cap_table));
	len = tpm2_rm_cap_build(&space, c->property, c->count, buf,
				TPM_BUFSIZE);
	KUNIT_EXPECT_EQ(test, len, TPM_HEADER_SIZE + 9 + 4 * c->nr);
	KUNIT_EXPECT_EQ(test, get_unaligned_be32(&buf[2]), len);
	KUNIT_EXPECT_EQ(test, get_unaligned_be32(&buf[6]), 0u);
	KUNIT_EXPECT_EQ(test, buf[TPM_HEADER_SIZE], c->more);
	KUNIT_EXPECT_EQ(test, get_unaligned_be32(&buf[TPM_HEADER_SIZE + 1]),
			(u32)TPM2_CAP_HANDLES);
	KUNIT_ASSERT_EQ(test, get_unaligned_be32(&buf[TPM_HEADER_SIZE + 5]),
			c->nr);
	for (i = 0; i < c->nr; i++)
		KUNIT_EXPECT_EQ(test,
				get_unaligned_be32(&buf[TPM_HEADER_SIZE + 9 +
							4 * i]),
				c->handles[i]);
}

static void tpm2_rm_test_vhandles(struct kunit *test)
{
	static const struct ent_desc used[] = {
		{ 0x80000001, TPM2_RM_OBJECT },
		{ 0x80FFFFFF, TPM2_RM_OBJECT },
	};
	struct tpm2_rm_space space;

	fill_space(test, &space, used, ARRAY_SIZE(used));
	KUNIT_EXPECT_EQ(test, tpm2_rm_table_alloc_vhandle(&space), 0x80000000u);
	KUNIT_EXPECT_EQ(test, tpm2_rm_table_alloc_vhandle(&space), 0x80000002u);
	space.next_vhandle = 0xFFFFFE;
	KUNIT_EXPECT_EQ(test, tpm2_rm_table_alloc_vhandle(&space), 0x80FFFFFEu);
	/* 0x80FFFFFF is in use, the counter wraps to 0, 1 is in use */
	KUNIT_EXPECT_EQ(test, tpm2_rm_table_alloc_vhandle(&space), 0x80000000u);
	KUNIT_EXPECT_EQ(test, tpm2_rm_table_alloc_vhandle(&space), 0x80000002u);
	KUNIT_EXPECT_PTR_EQ(test, tpm2_rm_table_find(&space, 0x80FFFFFF),
			    list_last_entry(&space.entities,
					    struct tpm2_rm_entity, space_node));
	KUNIT_EXPECT_NULL(test, tpm2_rm_table_find(&space, 0x80000002));
}

static struct kunit_case tpm2_rm_table_cases[] = {
	KUNIT_CASE_PARAM(tpm2_rm_test_cap, cap_gen_params),
	KUNIT_CASE(tpm2_rm_test_vhandles),
	{}
};

static struct kunit_suite tpm2_rm_table_suite = {
	.name = "tpm2_rm_table_test",
	.test_cases = tpm2_rm_table_cases,
};

kunit_test_suite(tpm2_rm_table_suite);

MODULE_DESCRIPTION("KUnit tests for the TPM 2.0 resource manager's handle table");
MODULE_LICENSE("GPL");
