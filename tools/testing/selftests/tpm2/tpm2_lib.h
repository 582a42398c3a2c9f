/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small TPM 2.0 command builder and response parser for the TPM resource
 * manager selftests. It marshals the handful of commands the tests need
 * (CreatePrimary, Create, Load, Sign, VerifySignature, StartAuthSession,
 * PolicyPCR, PolicyCommandCode, PolicyGetDigest, FlushContext, ContextSave,
 * ContextLoad, GetCapability, GetRandom, ReadPublic, PCR_Read, PCR_Extend,
 * PCR_Reset), checks that responses are well formed, computes and
 * checks HMAC session authorizations with a built-in SHA-256, and talks to
 * the TPM through a plain file descriptor (a TPM character device, or a TCP
 * socket to a software TPM for host-side checks of the library itself).
 */
#ifndef __TPM2_LIB_H
#define __TPM2_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TPM2_BUF_SIZE			4096

#define TPM2_ST_NO_SESSIONS		0x8001
#define TPM2_ST_SESSIONS		0x8002
#define TPM2_ST_HASHCHECK		0x8024

#define TPM2_CC_PCR_RESET		0x0000013D
#define TPM2_CC_POLICY_COMMAND_CODE	0x0000016C
#define TPM2_CC_CREATE_PRIMARY		0x00000131
#define TPM2_CC_CREATE			0x00000153
#define TPM2_CC_LOAD			0x00000157
#define TPM2_CC_SIGN			0x0000015D
#define TPM2_CC_CONTEXT_LOAD		0x00000161
#define TPM2_CC_CONTEXT_SAVE		0x00000162
#define TPM2_CC_FLUSH_CONTEXT		0x00000165
#define TPM2_CC_READ_PUBLIC		0x00000173
#define TPM2_CC_START_AUTH_SESSION	0x00000176
#define TPM2_CC_VERIFY_SIGNATURE	0x00000177
#define TPM2_CC_GET_CAPABILITY		0x0000017A
#define TPM2_CC_GET_RANDOM		0x0000017B
#define TPM2_CC_PCR_READ		0x0000017E
#define TPM2_CC_POLICY_PCR		0x0000017F
#define TPM2_CC_PCR_EXTEND		0x00000182
#define TPM2_CC_POLICY_GET_DIGEST	0x00000189

#define TPM2_RH_OWNER			0x40000001
#define TPM2_RH_NULL			0x40000007
#define TPM2_RS_PW			0x40000009

#define TPM2_HT_HMAC_SESSION		0x02000000
#define TPM2_HT_POLICY_SESSION		0x03000000
#define TPM2_HT_LOADED_SESSION		0x02000000
#define TPM2_HT_SAVED_SESSION		0x03000000
#define TPM2_HT_TRANSIENT		0x80000000

#define TPM2_CAP_HANDLES		0x00000001
#define TPM2_CAP_COMMANDS		0x00000002
#define TPM2_CAP_TPM_PROPERTIES		0x00000006
#define TPM2_CC_FIRST			0x0000011F

/* TPMA_CC: command index, V (vendor) and cHandles fields. */
#define TPM2_CCA_INDEX_MASK		0x0000FFFF
#define TPM2_CCA_V			0x20000000
#define TPM2_CCA_CHANDLES_SHIFT		25
#define TPM2_CCA_CHANDLES_MASK		0x0E000000
#define TPM2_MAX_COMMANDS		256

#define TPM2_ST_RSP_COMMAND		0x00C4
#define TPM2_RC_BAD_TAG			0x01E

#define TPM2_SE_HMAC			0x00
#define TPM2_SE_POLICY			0x01

#define TPM2_SA_CONTINUE_SESSION	0x01

#define TPM2_ALG_SHA256			0x000B
#define TPM2_ALG_NULL			0x0010
#define TPM2_ALG_ECDSA			0x0018
#define TPM2_ALG_ECC			0x0023

/* Response codes */
#define TPM2_RC_SUCCESS			0x000
#define TPM2_RC_FMT1			0x080
#define TPM2_RC_VALUE			0x084
#define TPM2_RC_HANDLE			0x08B
#define TPM2_RC_SIGNATURE		0x09B
#define TPM2_RC_COMMAND_CODE		0x143
#define TPM2_RC_WARN			0x900
#define TPM2_RC_RESMGR_LAYER		0x000B0000
#define TPM2_RC_LAYER_MASK		0x00FF0000

#define TPM2_DIGEST_SIZE		32

enum tpm2_key_kind {
	TPM2_KEY_STORAGE,	/* restricted decrypt ECC P-256 parent */
	TPM2_KEY_SIGN,		/* unrestricted ECDSA SHA-256 signing key */
};

struct tpm2_name {
	uint16_t size;
	uint8_t buf[2 + TPM2_DIGEST_SIZE + 2];
};

struct tpm2_key {
	uint32_t handle;
	struct tpm2_name name;
	uint16_t pub_size;		/* size of TPMT_PUBLIC in pub[] */
	uint8_t pub[512];
	uint16_t priv_size;		/* TPM2B_PRIVATE buffer from Create */
	uint8_t priv[512];
};

struct tpm2_session {
	uint32_t handle;
	uint8_t type;
	uint16_t nonce_tpm_size;
	uint8_t nonce_tpm[64];
	uint8_t nonce_caller[TPM2_DIGEST_SIZE];
};

/* One entry in the command authorization area. */
struct tpm2_auth {
	struct tpm2_session *sess;	/* NULL: password session, empty auth */
	uint8_t attrs;
};

struct tpm2_rsp {
	uint8_t buf[TPM2_BUF_SIZE];
	size_t len;
	uint16_t tag;
	uint32_t rc;
	uint32_t handle;		/* first response handle, if any */
	size_t params;			/* offset of the parameter area */
	size_t params_len;
	int hmac_ok;			/* 1 checked ok, 0 mismatch, -1 none */
};

struct tpm2_sig {
	uint16_t alg;
	uint16_t hash;
	uint16_t r_size;
	uint8_t r[66];
	uint16_t s_size;
	uint8_t s[66];
};

struct tpm2_context {
	uint16_t size;			/* marshalled TPMS_CONTEXT */
	uint8_t buf[TPM2_BUF_SIZE];
};

/* SHA-256 */
struct tpm2_sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t blk[64];
	size_t n;
};

void tpm2_sha256_init(struct tpm2_sha256 *c);
void tpm2_sha256_update(struct tpm2_sha256 *c, const void *data, size_t len);
void tpm2_sha256_final(struct tpm2_sha256 *c, uint8_t *out);
void tpm2_sha256(const void *data, size_t len, uint8_t *out);
void tpm2_hmac_sha256(const void *key, size_t klen, const void *data,
		      size_t len, uint8_t *out);

/* Marshalling */
struct tpm2_buf {
	uint8_t data[TPM2_BUF_SIZE];
	size_t len;
	int err;
};

void tpm2_buf_init(struct tpm2_buf *b);
void tpm2_put8(struct tpm2_buf *b, uint8_t v);
void tpm2_put16(struct tpm2_buf *b, uint16_t v);
void tpm2_put32(struct tpm2_buf *b, uint32_t v);
void tpm2_put_bytes(struct tpm2_buf *b, const void *p, size_t n);
void tpm2_put_tpm2b(struct tpm2_buf *b, const void *p, uint16_t n);
uint16_t tpm2_get16(const uint8_t *p);
uint32_t tpm2_get32(const uint8_t *p);

/* Transport */
int tpm2_open(const char *path, int flags);
int tpm2_open_env(const char *fallback);
int tpm2_send(int fd, const void *cmd, size_t len);
int tpm2_recv(int fd, void *rsp, size_t size);
int tpm2_xfer(int fd, const void *cmd, size_t len, void *rsp, size_t size);
/* A transport of the program's own; -ENOTSUP: not its descriptor. */
extern int (*tpm2_send_hook)(int fd, const void *cmd, size_t len);
extern int (*tpm2_recv_hook)(int fd, void *rsp, size_t size);
/* How often tpm2_xfer() resends a command answered with a warning (5). */
extern unsigned int tpm2_warn_retries;
/*
 * Open @path as user @name (its uid, gid and groups) or, if there is no
 * such user, as uid @uid with the group of @path: an fd or -errno.
 */
int tpm2_open_as(const char *name, unsigned int uid, const char *path);

/* Generic command execution with optional sessions. */
int tpm2_exec(int fd, uint32_t cc, const uint32_t *handles,
	      const struct tpm2_name *names, unsigned int nr_handles,
	      unsigned int nr_rsp_handles, struct tpm2_auth *auths,
	      unsigned int nr_auths, const void *params, size_t params_len,
	      struct tpm2_rsp *rsp);

/*
 * The command helpers return a negative errno on transport failure, zero
 * on success, and the (positive) TPM response code otherwise.
 */
int tpm2_create_primary(int fd, enum tpm2_key_kind kind,
			const uint8_t *policy, size_t policy_len,
			struct tpm2_key *key);
int tpm2_create(int fd, const struct tpm2_key *parent, struct tpm2_auth *auth,
		enum tpm2_key_kind kind, const uint8_t *policy,
		size_t policy_len, struct tpm2_key *key);
int tpm2_load(int fd, const struct tpm2_key *parent, struct tpm2_auth *auth,
	      struct tpm2_key *key);
int tpm2_sign(int fd, const struct tpm2_key *key, struct tpm2_auth *auth,
	      const uint8_t *digest, struct tpm2_sig *sig, int *hmac_ok);
int tpm2_verify(int fd, uint32_t handle, const uint8_t *digest,
		const struct tpm2_sig *sig);
/* Sign a random digest with @key and verify it: 0, or the first failure. */
int tpm2_sign_check(int fd, const struct tpm2_key *key,
		    struct tpm2_auth *auth);
/*
 * One command (GetRandom) on the raw device: the RM first saves or flushes
 * every context it keeps loaded. 0, a TPM_RC or a negative errno.
 */
int tpm2_raw_command(void);
int tpm2_start_session(int fd, uint8_t type, struct tpm2_session *s);
int tpm2_policy_pcr(int fd, uint32_t session, unsigned int pcr);
int tpm2_policy_command_code(int fd, uint32_t session, uint32_t cc);
int tpm2_policy_get_digest(int fd, uint32_t session, uint8_t *digest);
int tpm2_pcr_read(int fd, unsigned int pcr, uint8_t *value);
int tpm2_flush(int fd, uint32_t handle);
int tpm2_context_save(int fd, uint32_t handle, struct tpm2_context *ctx);
int tpm2_context_load(int fd, const struct tpm2_context *ctx,
		      uint32_t *handle);
int tpm2_get_handles(int fd, uint32_t first, uint32_t count,
		     uint32_t *handles, unsigned int *nr, int *more);
int tpm2_get_random(int fd, uint16_t count, uint8_t *out);
int tpm2_get_commands(int fd, uint32_t *attrs, unsigned int max);
int tpm2_pcr_extend(int fd, unsigned int pcr, const uint8_t *digest);
int tpm2_pcr_reset(int fd, unsigned int pcr);
int tpm2_read_public(int fd, uint32_t handle, struct tpm2_name *name);

/* Helpers */
void tpm2_compute_name(const uint8_t *pub, size_t len, struct tpm2_name *n);
void tpm2_policy_extend_cc(uint8_t *policy, uint32_t cc);
void tpm2_policy_extend_pcr(uint8_t *policy, unsigned int pcr,
			    const uint8_t *pcr_value);
void tpm2_random(void *buf, size_t len);
int tpm2_handles_by_type(int fd, uint32_t type, uint32_t *handles,
			 unsigned int max);
int tpm2_list_contains(const uint32_t *list, unsigned int n, uint32_t h);

/* TPMA_CC fields */
uint32_t tpm2_cca_code(uint32_t attrs);
unsigned int tpm2_cca_handles(uint32_t attrs);

/* 0 if @buf (@len bytes read) is a well-formed response, else -EBADMSG. */
int tpm2_rsp_check(const uint8_t *buf, size_t len);

/* Run size parameters from the harness environment (see tpm2_lib.c). */
int tpm2_env_extended(void);
int tpm2_env_debug(void);
unsigned long tpm2_env_ulong(const char *name, unsigned long def);

/* True if @rc is a refusal on a handle or session (see tpm2_lib.c). */
int tpm2_rc_is_handle_refusal(uint32_t rc);
int tpm2_rc_is_rm_layer(uint32_t rc);

/* A number (decimal, 0x hex) read from a sysfs or debugfs file. */
int tpm2_read_u64(const char *path, uint64_t *val);

/* One fixed TPM property; 0, a TPM_RC or a negative errno. */
int tpm2_get_property(int fd, uint32_t prop, uint32_t *val);

/* fail_function (debugfs): write @val to the control file @file. */
#define TPM2_FF_DIR	"/sys/kernel/debug/fail_function"
int tpm2_ff_write(const char *file, const char *val);
/* RM counters in sysfs: 0 on success, -ENOENT when not provided. */
int tpm2_rm_counter(const char *name, uint64_t *val);
int tpm2_rm_has_counters(void);

/* A text file (sysfs) read whole into @buf, NUL-terminated; 0 or -errno. */
int tpm2_read_text(const char *path, char *buf, size_t size);
/* One read of /dev/hwrng: the bytes read or a negative errno. */
ssize_t tpm2_hwrng_read(void *buf, size_t len);

/*
 * IMA (CONFIG_IMA_WRITE_POLICY): tpm2_ima_policy_once() adds a rule that
 * measures files of owner TPM2_IMA_OWNER when read;
 * tpm2_ima_measure_files() creates and reads @nr such files in @dir (a
 * tmpfs: IMA does not measure 9p); tpm2_ima_replay_pcr10() computes PCR 10's
 * sha256 bank from the binary measurement log.  0 or a negative errno.
 */
#define TPM2_IMA_DIR	"/sys/kernel/security/ima/"
#define TPM2_IMA_OWNER	4242
int tpm2_ima_policy_once(void);
int tpm2_ima_measure_files(const char *dir, unsigned int nr);
int tpm2_ima_replay_pcr10(uint8_t *pcr);

/*
 * Leak audit (tpmrm_leak_test, tpmrm_fault_matrix_test): with every
 * /dev/tpmrm0 file closed, what the raw device lists and the RM's counters.
 */
struct tpm2_leak {
	int objects;		/* transient objects the TPM holds */
	int loaded;		/* loaded sessions */
	int saved;		/* saved sessions */
	int counters;		/* the RM's counters are in sysfs */
	uint64_t held_objects, held_sessions;
	uint64_t resident_objects, resident_sessions;
	int kernel_counters;	/* kernel_objects, kernel_sessions exist */
	uint64_t kernel_objects, kernel_sessions;
};

/*
 * 0 if nothing leaked, 1 if something did, or a negative errno. The RM's
 * counts of the kernel's own contexts (CONFIG_TCG_TPM2_HMAC) must drop to
 * 0 too once no kernel operation runs: a count never dropped is a slot lost.
 */
int tpm2_leak_audit(struct tpm2_leak *l);

/*
 * The personality proxy's fault control (qemu-harness/personality): arm
 * one fault on the @nth next command with code @cc. Sent in a GetRandom
 * on @fd (a /dev/tpmrm0 file: arming evicts nothing). 0 and @st filled,
 * a TPM_RC (no proxy: swtpm refuses the size), or a negative errno.
 */
#define TPM2_FAULT_TUNNEL		0xFA17
#define TPM2_FAULT_ARM			1
#define TPM2_FAULT_STATUS		2
#define TPM2_FAULT_DISARM		3
#define TPM2_FAULT_RC			1	/* answer @arg, not executed */
#define TPM2_FAULT_LOST			2	/* executed, garbage answer */
#define TPM2_FAULT_LATE			3	/* executed, held till cancel, <= @arg ms */

struct tpm2_fault_status {
	uint32_t armed, fired, seen, cc, handle;
};

int tpm2_fault_ctl(int fd, uint32_t op, uint32_t cc, uint32_t nth,
		   uint32_t kind, uint32_t arg, struct tpm2_fault_status *st);

#define TPM2_RM_DEV			"/dev/tpmrm0"
#define TPM2_RAW_DEV			"/dev/tpm0"

#ifdef __KSELFTEST_HARNESS_H
/* main() for the tests: exit with KSFT_SKIP when there is no RM device. */
#define TPMRM_TEST_MAIN()						\
int main(int argc, char **argv)						\
{									\
	if (access(TPM2_RM_DEV, F_OK)) {				\
		ksft_print_header();					\
		ksft_exit_skip(TPM2_RM_DEV " not present\n");		\
	}								\
	return test_harness_run(argc, argv);				\
}

/* Skips the rest of a test when the RM counters are not in sysfs. */
#define TPMRM_COUNTER(name, val) do {					\
	if (tpm2_rm_counter(name, val))					\
		SKIP(return, "RM counter %s not in sysfs (old RM)",	\
		     name);						\
} while (0)
#endif
#endif /* __TPM2_LIB_H */
