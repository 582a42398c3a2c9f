// SPDX-License-Identifier: GPL-2.0
/*
 * A response is never lost once the TPM has executed the command.
 *
 * The previous resource manager saved every context of a space into one
 * page after every command; when the saved contexts did not fit (three
 * RSA-2048 keys do not), it failed the write with ENOMEM after the TPM had
 * created the key, and the client never learnt the key's handle. Here one
 * file creates three RSA-2048 primary keys: each CreatePrimary must answer
 * with a handle, and each key must then be usable (ReadPublic).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define TPM2_ALG_RSA		0x0001
#define NR_KEYS			3

/* CreatePrimary of an unrestricted RSA-2048 sign/decrypt key. */
static int create_rsa_primary(int fd, uint32_t *handle)
{
	uint32_t owner = TPM2_RH_OWNER;
	struct tpm2_auth auth = { NULL, 0 };
	struct tpm2_buf pub, p;
	struct tpm2_rsp rsp;
	int ret;

	tpm2_buf_init(&pub);
	tpm2_put16(&pub, TPM2_ALG_RSA);
	tpm2_put16(&pub, TPM2_ALG_SHA256);
	tpm2_put32(&pub, 0x00060072);	/* fixedTPM|fixedParent|sensitive-
					 * DataOrigin|userWithAuth|decrypt|sign
					 */
	tpm2_put16(&pub, 0);		/* authPolicy */
	tpm2_put16(&pub, TPM2_ALG_NULL);	/* symmetric */
	tpm2_put16(&pub, TPM2_ALG_NULL);	/* scheme */
	tpm2_put16(&pub, 2048);		/* keyBits */
	tpm2_put32(&pub, 0);		/* exponent */
	tpm2_put16(&pub, 0);		/* unique */

	tpm2_buf_init(&p);
	tpm2_put16(&p, 4);		/* inSensitive: empty auth and data */
	tpm2_put16(&p, 0);
	tpm2_put16(&p, 0);
	tpm2_put_tpm2b(&p, pub.data, pub.len);
	tpm2_put16(&p, 0);		/* outsideInfo */
	tpm2_put32(&p, 0);		/* creationPCR */
	if (pub.err || p.err)
		return -E2BIG;
	ret = tpm2_exec(fd, TPM2_CC_CREATE_PRIMARY, &owner, NULL, 1, 1, &auth,
			1, p.data, p.len, &rsp);
	if (ret)
		return ret;
	if (rsp.rc)
		return rsp.rc;
	*handle = rsp.handle;
	return 0;
}

TEST(rsa_keys_all_answered)
{
	struct tpm2_name name;
	uint32_t h[NR_KEYS];
	int fd, i, ret;

	fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, fd);
	for (i = 0; i < NR_KEYS; i++) {
		ret = create_rsa_primary(fd, &h[i]);
		ASSERT_EQ(0, ret) {
			TH_LOG("CreatePrimary %d: %d (%s)", i + 1, ret,
			       ret < 0 ? strerror(-ret) : "TPM_RC");
		}
		EXPECT_EQ(TPM2_HT_TRANSIENT, h[i] & 0xff000000);
	}
	for (i = 0; i < NR_KEYS; i++)
		EXPECT_EQ(0, tpm2_read_public(fd, h[i], &name));
	for (i = 0; i < NR_KEYS; i++)
		EXPECT_EQ(0, tpm2_flush(fd, h[i]));
	close(fd);
}

TPMRM_TEST_MAIN()
