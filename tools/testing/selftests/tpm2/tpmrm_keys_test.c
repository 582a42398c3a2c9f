// SPDX-License-Identifier: GPL-2.0
/*
 * Load tests for the TPM resource manager (/dev/tpmrm0): more keys in one
 * space than the TPM has object slots, eight open files each with a key
 * and an HMAC session used round-robin, a policy session used across
 * several commands of its space while other spaces run, automatic flush
 * of a session sent with continueSession clear, and the RM counters in
 * sysfs (a second Sign with a resident key loads no context). Every
 * signature is checked with TPM2_VerifySignature, against the right key
 * and a wrong one.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define NR_KEYS		8
#define NR_FILES	8
#define NR_ROUNDS	3

FIXTURE(keys) {
	int fd;
};

FIXTURE_SETUP(keys)
{
	self->fd = -1;
	self->fd = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(keys)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(keys, eight_keys_one_space, 180)
{
	struct tpm2_key parent, k[NR_KEYS];
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_name name;
	struct tpm2_sig sig;
	uint64_t ev0 = 0, ev1 = 0;
	int i, round, have_ev;

	ASSERT_EQ(0, tpm2_create_primary(self->fd, TPM2_KEY_STORAGE, NULL, 0,
					 &parent));
	for (i = 0; i < NR_KEYS; i++)
		ASSERT_EQ(0, tpm2_create(self->fd, &parent, NULL,
					 TPM2_KEY_SIGN, NULL, 0, &k[i]));
	for (i = 0; i < NR_KEYS; i++) {
		ASSERT_EQ(0, tpm2_load(self->fd, &parent, NULL, &k[i]));
		TH_LOG("key %d: handle 0x%08x", i, k[i].handle);
	}
	have_ev = !tpm2_rm_counter("evictions", &ev0);

	for (round = 0; round < 2; round++) {
		for (i = 0; i < NR_KEYS; i++) {
			int j = (i + 1) % NR_KEYS;

			/* Each handle still names its own key. */
			ASSERT_EQ(0, tpm2_read_public(self->fd, k[i].handle,
						      &name));
			ASSERT_EQ(k[i].name.size, name.size);
			ASSERT_EQ(0, memcmp(k[i].name.buf, name.buf,
					    name.size));

			tpm2_random(digest, sizeof(digest));
			ASSERT_EQ(0, tpm2_sign(self->fd, &k[i], NULL, digest,
					       &sig, NULL));
			ASSERT_EQ(0, tpm2_verify(self->fd, k[i].handle, digest,
						 &sig));
			/* ... and not with the next key. */
			ASSERT_NE(0, tpm2_verify(self->fd, k[j].handle, digest,
						 &sig));
		}
	}
	if (have_ev) {
		ASSERT_EQ(0, tpm2_rm_counter("evictions", &ev1));
		TH_LOG("evictions: %llu -> %llu", (unsigned long long)ev0,
		       (unsigned long long)ev1);
		/* 9 objects round-robin do not fit in the TPM. */
		ASSERT_LT(ev0, ev1);
	}
	for (i = 0; i < NR_KEYS; i++)
		ASSERT_EQ(0, tpm2_flush(self->fd, k[i].handle));
	ASSERT_EQ(0, tpm2_flush(self->fd, parent.handle));
}

/*
 * TPM2_Create needs a free object slot inside the TPM but names only its
 * parent and returns no handle. With three primaries resident (the TPM's
 * three slots), the RM must evict an unnamed one on TPM_RC_OBJECT_MEMORY
 * and re-send, and the new key must then load and sign.
 */
TEST_F_TIMEOUT(keys, create_with_all_slots_taken, 120)
{
	struct tpm2_key primary[3], child;
	uint8_t digest[TPM2_DIGEST_SIZE];
	uint64_t r0 = 0, r1 = 0;
	struct tpm2_sig sig;
	int i, have_retries;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, tpm2_create_primary(self->fd, TPM2_KEY_STORAGE,
						 NULL, 0, &primary[i]));
	have_retries = !tpm2_rm_counter("retries", &r0);
	ASSERT_EQ(0, tpm2_create(self->fd, &primary[0], NULL, TPM2_KEY_SIGN,
				 NULL, 0, &child));
	if (have_retries) {
		ASSERT_EQ(0, tpm2_rm_counter("retries", &r1));
		TH_LOG("retries: %llu -> %llu", (unsigned long long)r0,
		       (unsigned long long)r1);
		ASSERT_LT(r0, r1);
	}
	ASSERT_EQ(0, tpm2_load(self->fd, &primary[0], NULL, &child));
	tpm2_random(digest, sizeof(digest));
	ASSERT_EQ(0, tpm2_sign(self->fd, &child, NULL, digest, &sig, NULL));
	ASSERT_EQ(0, tpm2_verify(self->fd, child.handle, digest, &sig));
}

TEST_F_TIMEOUT(keys, eight_files_round_robin, 180)
{
	struct tpm2_session s[NR_FILES];
	struct tpm2_key k[NR_FILES];
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	int fd[NR_FILES];
	int i, round, ok;

	for (i = 0; i < NR_FILES; i++) {
		fd[i] = tpm2_open(TPM2_RM_DEV, 0);
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, tpm2_create_primary(fd[i], TPM2_KEY_SIGN, NULL, 0,
						 &k[i]));
		ASSERT_EQ(0, tpm2_start_session(fd[i], TPM2_SE_HMAC, &s[i]));
	}
	for (round = 0; round < NR_ROUNDS; round++) {
		for (i = 0; i < NR_FILES; i++) {
			struct tpm2_auth a = { &s[i],
					       TPM2_SA_CONTINUE_SESSION };
			int j = (i + 1) % NR_FILES;

			tpm2_random(digest, sizeof(digest));
			ok = -1;
			ASSERT_EQ(0, tpm2_sign(fd[i], &k[i], &a, digest, &sig,
					       &ok));
			/* The response HMAC proves the nonces were kept. */
			ASSERT_EQ(1, ok);
			ASSERT_EQ(0, tpm2_verify(fd[i], k[i].handle, digest,
						 &sig));
			ASSERT_NE(0, tpm2_verify(fd[j], k[j].handle, digest,
						 &sig));
		}
	}
	for (i = 0; i < NR_FILES; i++)
		close(fd[i]);
}

/*
 * A policy session built up over several commands while another space
 * keeps the TPM busy, then consumed by Sign with continueSession clear.
 */
TEST_F(keys, policy_session)
{
	uint8_t pcr[TPM2_DIGEST_SIZE], expect[TPM2_DIGEST_SIZE];
	uint8_t got[TPM2_DIGEST_SIZE], digest[TPM2_DIGEST_SIZE];
	struct tpm2_session ps, other;
	struct tpm2_key pk, ok_key;
	struct tpm2_auth a;
	struct tpm2_sig sig;
	uint32_t h[64];
	int n, fd2;

	fd2 = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tpm2_create_primary(fd2, TPM2_KEY_SIGN, NULL, 0,
					 &ok_key));

	ASSERT_EQ(0, tpm2_pcr_read(self->fd, 0, pcr));
	memset(expect, 0, sizeof(expect));
	tpm2_policy_extend_pcr(expect, 0, pcr);
	tpm2_policy_extend_cc(expect, TPM2_CC_SIGN);
	ASSERT_EQ(0, tpm2_create_primary(self->fd, TPM2_KEY_SIGN, expect,
					 sizeof(expect), &pk));
	tpm2_random(digest, sizeof(digest));
	/* The key takes no password. */
	ASSERT_NE(0, tpm2_sign(self->fd, &pk, NULL, digest, &sig, NULL));

	ASSERT_EQ(0, tpm2_start_session(self->fd, TPM2_SE_POLICY, &ps));
	ASSERT_EQ(0, tpm2_start_session(fd2, TPM2_SE_POLICY, &other));
	ASSERT_EQ(0, tpm2_policy_pcr(self->fd, ps.handle, 0));
	ASSERT_EQ(0, tpm2_sign(fd2, &ok_key, NULL, digest, &sig, NULL));
	ASSERT_EQ(0, tpm2_policy_command_code(fd2, other.handle,
					      TPM2_CC_GET_RANDOM));
	ASSERT_EQ(0, tpm2_policy_command_code(self->fd, ps.handle,
					      TPM2_CC_SIGN));
	ASSERT_EQ(0, tpm2_sign(fd2, &ok_key, NULL, digest, &sig, NULL));
	ASSERT_EQ(0, tpm2_policy_get_digest(self->fd, ps.handle, got));
	ASSERT_EQ(0, memcmp(expect, got, sizeof(got)));

	/* Consume the session: continueSession clear. */
	a.sess = &ps;
	a.attrs = 0;
	ASSERT_EQ(0, tpm2_sign(self->fd, &pk, &a, digest, &sig, NULL));
	ASSERT_EQ(0, tpm2_verify(self->fd, pk.handle, digest, &sig));

	/* It is gone from the list and can no longer be used. */
	n = tpm2_handles_by_type(self->fd, TPM2_HT_LOADED_SESSION, h, 64);
	ASSERT_LE(0, n);
	ASSERT_FALSE(tpm2_list_contains(h, n, ps.handle));
	n = tpm2_handles_by_type(self->fd, TPM2_HT_SAVED_SESSION, h, 64);
	ASSERT_LE(0, n);
	ASSERT_FALSE(tpm2_list_contains(h, n, ps.handle));
	ASSERT_NE(0, tpm2_policy_command_code(self->fd, ps.handle,
					      TPM2_CC_SIGN));
	ASSERT_NE(0, tpm2_sign(self->fd, &pk, &a, digest, &sig, NULL));

	/* The other space's session is untouched. */
	ASSERT_EQ(0, tpm2_policy_get_digest(fd2, other.handle, got));
	close(fd2);
}

TEST_F(keys, hmac_session_auto_flush)
{
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_session s;
	struct tpm2_auth a = { &s, 0 };
	struct tpm2_sig sig;
	struct tpm2_key k;
	uint32_t h[64];
	int n, ok = -1;

	ASSERT_EQ(0, tpm2_create_primary(self->fd, TPM2_KEY_SIGN, NULL, 0,
					 &k));
	ASSERT_EQ(0, tpm2_start_session(self->fd, TPM2_SE_HMAC, &s));
	tpm2_random(digest, sizeof(digest));
	ASSERT_EQ(0, tpm2_sign(self->fd, &k, &a, digest, &sig, &ok));
	ASSERT_EQ(1, ok);
	n = tpm2_handles_by_type(self->fd, TPM2_HT_LOADED_SESSION, h, 64);
	ASSERT_LE(0, n);
	ASSERT_FALSE(tpm2_list_contains(h, n, s.handle));
	n = tpm2_handles_by_type(self->fd, TPM2_HT_SAVED_SESSION, h, 64);
	ASSERT_LE(0, n);
	ASSERT_FALSE(tpm2_list_contains(h, n, s.handle));
	ASSERT_NE(0, tpm2_sign(self->fd, &k, &a, digest, &sig, NULL));
}

/* The second Sign with a key that is still resident loads nothing. */
TEST_F(keys, counters_resident_key)
{
	struct tpm2_key k;
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	uint64_t l0, l1, s0, s1;

	TPMRM_COUNTER("context_loads", &l0);
	ASSERT_EQ(0, tpm2_create_primary(self->fd, TPM2_KEY_SIGN, NULL, 0,
					 &k));
	tpm2_random(digest, sizeof(digest));
	ASSERT_EQ(0, tpm2_sign(self->fd, &k, NULL, digest, &sig, NULL));
	ASSERT_EQ(0, tpm2_rm_counter("context_loads", &l0));
	ASSERT_EQ(0, tpm2_rm_counter("context_saves", &s0));
	ASSERT_EQ(0, tpm2_sign(self->fd, &k, NULL, digest, &sig, NULL));
	ASSERT_EQ(0, tpm2_rm_counter("context_loads", &l1));
	ASSERT_EQ(0, tpm2_rm_counter("context_saves", &s1));
	TH_LOG("context_loads %llu -> %llu, saves %llu -> %llu",
	       (unsigned long long)l0, (unsigned long long)l1,
	       (unsigned long long)s0, (unsigned long long)s1);
	ASSERT_EQ(l0, l1);
	ASSERT_EQ(0, tpm2_verify(self->fd, k.handle, digest, &sig));
}

/* Using a key that another space pushed out must load it back. */
TEST_F(keys, counters_evicted_key)
{
	struct tpm2_key k, other[4];
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	uint64_t l0, l1;
	int fd2, i;

	TPMRM_COUNTER("context_loads", &l0);
	ASSERT_EQ(0, tpm2_create_primary(self->fd, TPM2_KEY_SIGN, NULL, 0,
					 &k));
	fd2 = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, fd2);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, tpm2_create_primary(fd2, TPM2_KEY_SIGN, NULL, 0,
						 &other[i]));
	ASSERT_EQ(0, tpm2_rm_counter("context_loads", &l0));
	tpm2_random(digest, sizeof(digest));
	ASSERT_EQ(0, tpm2_sign(self->fd, &k, NULL, digest, &sig, NULL));
	ASSERT_EQ(0, tpm2_rm_counter("context_loads", &l1));
	TH_LOG("context_loads %llu -> %llu", (unsigned long long)l0,
	       (unsigned long long)l1);
	ASSERT_LT(l0, l1);
	ASSERT_EQ(0, tpm2_verify(self->fd, k.handle, digest, &sig));

	close(fd2);
}

TPMRM_TEST_MAIN()
