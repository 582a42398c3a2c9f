/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the KUnit tests of the TPM 2.0 resource manager
 * (tpm2-rm-cmd-test.c, tpm2-rm-test.c): RM-layer response codes, a
 * command's TPMA_CC and a command builder.
 */

#ifndef __TPM2_RM_TEST_H__
#define __TPM2_RM_TEST_H__

#include <linux/string.h>
#include <linux/tpm.h>
#include <linux/unaligned.h>

#define RM(rc)		(TSS2_RESMGR_TPM_RC_LAYER | (rc))
#define CC_SIGN		0x015D
#define ATTR(cc, nh, rh) ((cc) | ((nh) << TPM2_CC_ATTR_CHANDLES) | \
			  ((rh) << TPM2_CC_ATTR_RHANDLE))

/* Build a command: header, handles, sessions (empty nonce and hmac). */
static inline size_t build_cmd(u8 *buf, u16 tag, u32 cc, const u32 *handles,
			       unsigned int nh, const u32 *sess,
			       const u8 *sattrs, unsigned int ns,
			       unsigned int nparams)
{
	size_t off = TPM_HEADER_SIZE;
	unsigned int i;

	put_unaligned_be16(tag, &buf[0]);
	put_unaligned_be32(cc, &buf[6]);
	for (i = 0; i < nh; i++, off += 4)
		put_unaligned_be32(handles[i], &buf[off]);
	if (tag == TPM2_ST_SESSIONS) {
		put_unaligned_be32(9 * ns, &buf[off]);
		off += 4;
		for (i = 0; i < ns; i++, off += 9) {
			put_unaligned_be32(sess[i], &buf[off]);
			put_unaligned_be16(0, &buf[off + 4]);
			buf[off + 6] = sattrs ? sattrs[i] : 1;
			put_unaligned_be16(0, &buf[off + 7]);
		}
	}
	memset(&buf[off], 0, nparams);
	off += nparams;
	put_unaligned_be32(off, &buf[2]);
	return off;
}

#endif /* __TPM2_RM_TEST_H__ */
