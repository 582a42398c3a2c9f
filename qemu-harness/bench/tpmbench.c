// SPDX-License-Identifier: GPL-2.0
/*
 * Workload program of the TPM resource manager benchmark; runs in the guest.
 * Every workload marks its phases with a TPM2_GetRandom whose size is
 * 0xB000 | id << 2 | phase, sent on a separate, empty /dev/tpmrm0 file, so
 * the host can split the swtpm command log into setup, loop and teardown.
 * One result line per workload goes to stdout:
 *   W id=.. name=.. status=.. ops=.. cmds=.. cl=.. cs=.. fc=.. med_us=..
 *   p95_us=.. wall_ms=.. rm_context_loads=.. ...
 * "cmds" counts the commands this program sent in the loop phase, and
 * cl/cs/fc those of them that were ContextLoad, ContextSave, FlushContext.
 *
 * Every workload's commands go through the TSS TCTI API
 * (Tss2_TctiLdr_Initialize, Tss2_Tcti_Transmit, Tss2_Tcti_Receive), so the
 * same code serves every path: "device:/dev/tpmrm0" (the kernel's RM),
 * "device:/dev/tpm0" (raw), or BENCH_TCTI (e.g. "tabrmd:bus_type=session",
 * tpm2-abrmd, or "device:/dev/tpm0", the raw path) in place of the RM
 * device; BENCH_PATH names that path in the result line (path=..). The
 * markers stay on /dev/tpmrm0, without the TSS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "tcti.h"

#include "tpm2_lib.h"

#define BENCH_MARK_BASE		0xB000
#define BENCH_SETUP		0
#define BENCH_LOOP		1
#define BENCH_TEARDOWN		2
#define BENCH_MAX_CLIENTS	64
/* kmix: one kernel operation after every BENCH_KOP_EVERY client commands */
#define BENCH_KOP_EVERY		10
/* kmix-ima: files of this owner are measured (guest.sh writes the rule) */
#define BENCH_IMA_OWNER		4243

static const char * const bench_counters[] = {
	"context_loads", "context_saves", "flushes", "evictions", "retries",
	"rm_answered",
};
#define BENCH_NR_COUNTERS	(sizeof(bench_counters) / sizeof(bench_counters[0]))

struct bench_result {
	const char *name;
	int id;
	const char *status;
	long ops;
	long cmds;
	long cl, cs, fc;
	double *lat_us;		/* ops entries, may live in shared memory */
	double wall_ms;
	uint64_t rm0[BENCH_NR_COUNTERS], rm1[BENCH_NR_COUNTERS];
	int has_rm;
	char extra[256];
};

struct bench_signer {
	struct tpm2_key primary;
	struct tpm2_key key;
	struct tpm2_session sess;
};

static int bench_marker_fd = -1;
static int bench_fail_fd = -1;	/* a client tells its parent it failed */
static const char *bench_dev = TPM2_RM_DEV;
static const char *bench_path;	/* BENCH_PATH: the row's path, if not the kernel's */

/*
 * TCTI contexts by descriptor: bench_open() returns a descriptor of
 * /dev/null that stands for its context in tpm2_lib's calls.
 */
#define BENCH_MAX_FDS		4096
static void *bench_tcti[BENCH_MAX_FDS];
static uint32_t bench_tcti_rc;	/* the last TCTI error */

static void *bench_tcti_of(int fd)
{
	return fd >= 0 && fd < BENCH_MAX_FDS ? bench_tcti[fd] : NULL;
}

static int bench_tcti_send(int fd, const void *cmd, size_t len)
{
	void *ctx = bench_tcti_of(fd);
	uint32_t rc;

	if (!ctx)
		return -ENOTSUP;
	rc = bench_tcti_transmit(ctx, cmd, len);
	if (rc) {
		bench_tcti_rc = rc;
		return -EIO;
	}
	return 0;
}

static int bench_tcti_recv(int fd, void *rsp, size_t size)
{
	void *ctx = bench_tcti_of(fd);
	size_t len = size;
	uint32_t rc;

	if (!ctx)
		return -ENOTSUP;
	rc = bench_tcti_receive(ctx, rsp, &len);
	if (rc) {
		bench_tcti_rc = rc;
		return -EIO;
	}
	return len;
}

/* The TCTI configuration of device @dev on this run's path. */
static const char *bench_tcti_conf(const char *dev, char *buf, size_t len)
{
	const char *conf = getenv("BENCH_TCTI");

	if (conf && *conf && !strcmp(dev, TPM2_RM_DEV))
		return conf;
	snprintf(buf, len, "device:%s", dev);
	return buf;
}

/* True when the RM device's workloads go through BENCH_TCTI (abrmd). */
static int bench_on_peer(void)
{
	const char *conf = getenv("BENCH_TCTI");

	return conf && *conf && strncmp(conf, "device:", 7);
}

/*
 * True when the RM device's workloads go through BENCH_TCTI, a peer or the
 * raw device: not the kernel's RM, whose per-user quota does not apply, and
 * whose refusal of an open is a limit a user meets (abrmd's connections,
 * the raw device's one opener).
 */
static int bench_off_kernel_rm(void)
{
	const char *conf = getenv("BENCH_TCTI");

	return conf && *conf;
}

/*
 * Opens @dev on this run's path through Tss2_TctiLdr_Initialize; returns
 * a descriptor for tpm2_lib, or -EIO with the TSS's code in bench_tcti_rc.
 */
static int bench_open(const char *dev)
{
	void *ctx = NULL;
	char buf[128];
	uint32_t rc;
	int fd;

	if (getenv("TPM2_LIB_TCP") && !bench_on_peer())
		return tpm2_open_env(dev);	/* host-side check */
	rc = bench_tcti_init(bench_tcti_conf(dev, buf, sizeof(buf)), &ctx);
	if (rc) {
		bench_tcti_rc = rc;
		return -EIO;
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || fd >= BENCH_MAX_FDS) {
		bench_tcti_fini(ctx);
		if (fd >= 0)
			close(fd);
		return -EMFILE;
	}
	bench_tcti[fd] = ctx;
	return fd;
}

static void bench_close(int fd)
{
	void *ctx = bench_tcti_of(fd);

	if (ctx) {
		bench_tcti_fini(ctx);
		bench_tcti[fd] = NULL;
	}
	close(fd);
}

/* VmRSS of process @pid in kB, -1 if unknown. */
static long bench_rss_kib(const char *pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

static double bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void bench_die(const char *what, int ret)
{
	fprintf(stderr, "tpmbench: %s failed: %d (0x%x)%s%x\n", what, ret,
		ret < 0 ? -ret : ret, bench_tcti_rc ? ", TSS rc 0x" : "",
		bench_tcti_rc);
	if (bench_fail_fd >= 0 && write(bench_fail_fd, "!", 1) != 1)
		exit(2);
	exit(1);
}

/*
 * A marker command on the empty marker file: costs no context traffic. The
 * TPM caps the size it returns, so the answer is not checked beyond rc.
 */
static void bench_mark(int id, int phase)
{
	uint16_t count = BENCH_MARK_BASE | id << 2 | phase;
	uint8_t cmd[12] = {
		TPM2_ST_NO_SESSIONS >> 8, TPM2_ST_NO_SESSIONS & 0xff,
		0, 0, 0, sizeof(cmd),				/* size */
		0, 0, TPM2_CC_GET_RANDOM >> 8, TPM2_CC_GET_RANDOM & 0xff,
		count >> 8, count & 0xff,			/* bytesRequested */
	};
	uint8_t rsp[TPM2_BUF_SIZE];
	int ret;

	if (getenv("TPM2_LIB_TCP"))	/* host-side check of the program */
		return;
	if (bench_marker_fd < 0) {
		bench_marker_fd = tpm2_open(TPM2_RM_DEV, 0);
		if (bench_marker_fd < 0)
			bench_die("open marker device", bench_marker_fd);
	}
	ret = tpm2_xfer(bench_marker_fd, cmd, sizeof(cmd), rsp, sizeof(rsp));
	if (ret >= 10 && tpm2_get32(rsp + 6))
		ret = -EPROTO;
	if (ret < 10)
		bench_die("marker", ret);
}

static void bench_counters_read(uint64_t *v, int *has)
{
	unsigned int i;

	*has = tpm2_rm_has_counters();
	for (i = 0; i < BENCH_NR_COUNTERS; i++)
		if (!*has || tpm2_rm_counter(bench_counters[i], &v[i]))
			v[i] = 0;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void bench_print(struct bench_result *r)
{
	double med = 0, p95 = 0;
	unsigned int i;

	if (r->ops > 0 && r->lat_us) {
		qsort(r->lat_us, r->ops, sizeof(double), bench_cmp);
		med = r->lat_us[r->ops / 2];
		p95 = r->lat_us[(r->ops * 95 + 99) / 100 - 1];
	}
	printf("W id=%d name=%s%s%s status=%s ops=%ld cmds=%ld cl=%ld cs=%ld fc=%ld med_us=%.1f p95_us=%.1f wall_ms=%.1f",
	       r->id, r->name, bench_path ? " path=" : "",
	       bench_path ? bench_path : "", r->status ? r->status : "ok", r->ops, r->cmds,
	       r->cl, r->cs, r->fc, med, p95, r->wall_ms);
	for (i = 0; i < BENCH_NR_COUNTERS; i++)
		if (r->has_rm)
			printf(" rm_%s=%llu", bench_counters[i],
			       (unsigned long long)(r->rm1[i] - r->rm0[i]));
	printf("%s%s\n", r->extra[0] ? " " : "", r->extra);
	fflush(stdout);
}

static void bench_loop_begin(struct bench_result *r)
{
	bench_mark(r->id, BENCH_LOOP);
	bench_counters_read(r->rm0, &r->has_rm);
	r->wall_ms = bench_now_us();
}

static void bench_loop_end(struct bench_result *r)
{
	r->wall_ms = (bench_now_us() - r->wall_ms) / 1e3;
	bench_counters_read(r->rm1, &r->has_rm);
	bench_mark(r->id, BENCH_TEARDOWN);
}

/* CreatePrimary, Create and Load a signing child, StartAuthSession (HMAC). */
static int bench_signer_setup(int fd, struct bench_signer *s, int keep_primary)
{
	struct tpm2_auth pw = { NULL, 0 };
	int ret;

	ret = tpm2_create_primary(fd, TPM2_KEY_STORAGE, NULL, 0, &s->primary);
	if (ret)
		return ret;
	ret = tpm2_create(fd, &s->primary, &pw, TPM2_KEY_SIGN, NULL, 0,
			  &s->key);
	if (ret)
		return ret;
	ret = tpm2_load(fd, &s->primary, &pw, &s->key);
	if (ret)
		return ret;
	if (!keep_primary) {
		ret = tpm2_flush(fd, s->primary.handle);
		if (ret)
			return ret;
		s->primary.handle = 0;
	}
	return tpm2_start_session(fd, TPM2_SE_HMAC, &s->sess);
}

static void bench_signer_teardown(int fd, struct bench_signer *s)
{
	tpm2_flush(fd, s->sess.handle);
	tpm2_flush(fd, s->key.handle);
	if (s->primary.handle)
		tpm2_flush(fd, s->primary.handle);
}

static int bench_sign(int fd, struct bench_signer *s)
{
	struct tpm2_auth auth = { &s->sess, TPM2_SA_CONTINUE_SESSION };
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	int ok;

	tpm2_random(digest, sizeof(digest));
	return tpm2_sign(fd, &s->key, &auth, digest, &sig, &ok);
}

/* sign-1 and raw: one client, N signs under one HMAC session. */
static void bench_sign1(struct bench_result *r, const char *dev, long n)
{
	struct bench_signer s;
	double t;
	long i;
	int fd, ret;

	bench_mark(r->id, BENCH_SETUP);
	fd = bench_open(dev);
	if (fd < 0)
		bench_die(dev, fd);
	ret = bench_signer_setup(fd, &s, 1);
	if (ret)
		bench_die("sign-1 setup", ret);
	r->lat_us = calloc(n, sizeof(double));
	bench_loop_begin(r);
	for (i = 0; i < n; i++) {
		t = bench_now_us();
		ret = bench_sign(fd, &s);
		if (ret)
			bench_die("sign", ret);
		r->lat_us[i] = bench_now_us() - t;
	}
	bench_loop_end(r);
	r->ops = r->cmds = n;
	bench_signer_teardown(fd, &s);
	bench_close(fd);
}

/*
 * mixed-1: a primary, three signing keys whose policy is
 * PolicyCommandCode(Sign), and one policy session; each op is
 * PolicyCommandCode + Sign with the keys in rotation.
 */
static void bench_mixed1(struct bench_result *r, long n)
{
	struct tpm2_auth pw = { NULL, 0 }, pa;
	uint8_t policy[TPM2_DIGEST_SIZE] = { 0 };
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_key primary, keys[3];
	struct tpm2_session sess;
	struct tpm2_sig sig;
	double t;
	long i;
	int fd, ret, ok, k;

	bench_mark(r->id, BENCH_SETUP);
	fd = bench_open(bench_dev);
	if (fd < 0)
		bench_die(bench_dev, fd);
	tpm2_policy_extend_cc(policy, TPM2_CC_SIGN);
	ret = tpm2_create_primary(fd, TPM2_KEY_STORAGE, NULL, 0, &primary);
	for (k = 0; !ret && k < 3; k++)
		ret = tpm2_create(fd, &primary, &pw, TPM2_KEY_SIGN, policy,
				  sizeof(policy), &keys[k]);
	for (k = 0; !ret && k < 3; k++) {
		ret = tpm2_load(fd, &primary, &pw, &keys[k]);
		if (ret)
			snprintf(r->extra, sizeof(r->extra),
				 "error=load_of_key_%d_rc_0x%x", k + 1, ret);
	}
	if (!ret)
		ret = tpm2_start_session(fd, TPM2_SE_POLICY, &sess);
	if (ret) {
		/* The old RM holds at most three objects per space. */
		if (!r->extra[0])
			snprintf(r->extra, sizeof(r->extra),
				 "error=setup_rc_0x%x", ret);
		r->status = "fail";
		bench_close(fd);
		bench_mark(r->id, BENCH_LOOP);
		bench_mark(r->id, BENCH_TEARDOWN);
		return;
	}
	r->lat_us = calloc(n, sizeof(double));
	pa.sess = &sess;
	pa.attrs = TPM2_SA_CONTINUE_SESSION;
	bench_loop_begin(r);
	for (i = 0; i < n; i++) {
		t = bench_now_us();
		ret = tpm2_policy_command_code(fd, sess.handle, TPM2_CC_SIGN);
		if (ret)
			bench_die("PolicyCommandCode", ret);
		tpm2_random(digest, sizeof(digest));
		ret = tpm2_sign(fd, &keys[i % 3], &pa, digest, &sig, &ok);
		if (ret)
			bench_die("policy sign", ret);
		r->lat_us[i] = bench_now_us() - t;
	}
	bench_loop_end(r);
	r->ops = n;
	r->cmds = 2 * n;
	tpm2_flush(fd, sess.handle);
	for (k = 0; k < 3; k++)
		tpm2_flush(fd, keys[k].handle);
	tpm2_flush(fd, primary.handle);
	bench_close(fd);
}

/*
 * The kernel operation of kmix-ima: read a new file that IMA's policy
 * measures, so the kernel extends PCR 10. The file is made and handed to
 * BENCH_IMA_OWNER before the caller's marker (no TPM command in that).
 */
static int bench_ima_prepare(const char *dir, long i, char *path, size_t len)
{
	uint8_t data[64];
	int fd, ok;

	snprintf(path, len, "%s/m%ld", dir, i);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		return -errno;
	tpm2_random(data, sizeof(data));
	ok = write(fd, data, sizeof(data)) == sizeof(data);
	close(fd);
	if (!ok)
		return -EIO;
	return chown(path, BENCH_IMA_OWNER, BENCH_IMA_OWNER) ? -errno : 0;
}

/* Read @len (<= 64) bytes of @path: a new file or /dev/hwrng. */
static int bench_kernel_op(const char *path, size_t len)
{
	uint8_t buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len);
	close(fd);
	return n > 0 ? 0 : (n < 0 ? -errno : -EIO);
}

/*
 * kmix-ima and kmix-hwrng: sign-1 (key and HMAC session on /dev/tpmrm0)
 * with one kernel operation after every BENCH_KOP_EVERY signs. The signs
 * run in the loop phase of workload ID, each kernel operation in the loop
 * phase of ID + 1: marker ID + 1, the operation, marker ID. The kernel
 * op's time includes that closing marker, a user command, in front of
 * which upstream ends the kernel's session.
 */
static void bench_kmix(struct bench_result *r, long n, const char *kop)
{
	const char *dir = getenv("BENCH_IMA_DIR");
	long i, k = 0, nk = n / BENCH_KOP_EVERY;
	struct bench_signer s;
	char path[256];
	double t, *klat;
	int fd, ret, ima = !strcmp(kop, "ima");

	if (!ima && strcmp(kop, "hwrng"))
		bench_die("kmix: kernel op must be ima or hwrng", -EINVAL);
	if (ima && !dir)
		bench_die("kmix-ima: BENCH_IMA_DIR unset", -EINVAL);
	bench_mark(r->id, BENCH_SETUP);
	fd = bench_open(TPM2_RM_DEV);
	if (fd < 0)
		bench_die(TPM2_RM_DEV, fd);
	ret = bench_signer_setup(fd, &s, 1);
	if (ret)
		bench_die("kmix setup", ret);
	r->lat_us = calloc(n, sizeof(double));
	klat = calloc(nk ? nk : 1, sizeof(double));
	if (!r->lat_us || !klat)
		bench_die("kmix: calloc", -ENOMEM);
	bench_loop_begin(r);
	for (i = 0; i < n; i++) {
		t = bench_now_us();
		ret = bench_sign(fd, &s);
		if (ret)
			bench_die("kmix sign", ret);
		r->lat_us[i] = bench_now_us() - t;
		if ((i + 1) % BENCH_KOP_EVERY)
			continue;
		snprintf(path, sizeof(path), "/dev/hwrng");
		if (ima) {
			ret = bench_ima_prepare(dir, k, path, sizeof(path));
			if (ret)
				bench_die("kmix-ima: new file", ret);
		}
		bench_mark(r->id + 1, BENCH_LOOP);
		t = bench_now_us();
		ret = bench_kernel_op(path, ima ? 64 : 32);
		if (ret)
			bench_die(ima ? "kmix-ima: read" : "kmix-hwrng: read", ret);
		bench_mark(r->id, BENCH_LOOP);
		klat[k++] = bench_now_us() - t;
	}
	bench_loop_end(r);
	r->ops = r->cmds = n;
	bench_signer_teardown(fd, &s);
	bench_close(fd);
	qsort(klat, k, sizeof(double), bench_cmp);
	snprintf(r->extra, sizeof(r->extra),
		 "kid=%d kops=%ld kmed_us=%.1f kp95_us=%.1f every=%d",
		 r->id + 1, k, k ? klat[k / 2] : 0,
		 k ? klat[(k * 95 + 99) / 100 - 1] : 0, BENCH_KOP_EVERY);
	free(klat);
}

/*
 * Returns 0, -1 when a client sent "!" (it failed), or -2 when it sent "o"
 * (its open was refused: a path's limit on open files or connections).
 */
static int bench_wait_byte(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		bench_die("pipe read", -errno);
	return c == '!' ? -1 : c == 'o' ? -2 : 0;
}

static void bench_put_byte(int fd)
{
	if (write(fd, "x", 1) != 1)
		bench_die("pipe write", -errno);
}

/*
 * One client of clients-k: its own file, key (primary flushed) and HMAC
 * session; per strict round robin (token passed through pipes) or free.
 */
static void bench_client(int c, int k, long per, int lockstep, int *tok,
			 int ready, int go, int quit, double *lat,
			 uint32_t *open_rc)
{
	struct bench_signer s;
	double t;
	long i;
	int fd, ret;

	bench_fail_fd = ready;
	fd = bench_open(bench_dev);
	if (fd < 0 && bench_off_kernel_rm()) {
		/* the path refused the open: say so, with the TSS's code */
		*open_rc = bench_tcti_rc;
		fprintf(stderr, "tpmbench: a client's open of %s refused: TSS rc 0x%x\n",
			getenv("BENCH_TCTI"), bench_tcti_rc);
		if (write(ready, "o", 1) != 1)
			_exit(2);
		_exit(1);
	}
	if (fd < 0)
		bench_die(bench_dev, fd);
	ret = bench_signer_setup(fd, &s, 0);
	if (ret)
		bench_die("client setup", ret);
	bench_put_byte(ready);
	if (!lockstep)
		bench_wait_byte(go);
	for (i = 0; i < per; i++) {
		if (lockstep)
			bench_wait_byte(tok[2 * c]);
		t = bench_now_us();
		ret = bench_sign(fd, &s);
		if (ret)
			bench_die("client sign", ret);
		lat[i] = bench_now_us() - t;
		if (lockstep)
			bench_put_byte(tok[2 * ((c + 1) % k) + 1]);
	}
	bench_put_byte(ready);
	bench_wait_byte(quit);
	bench_signer_teardown(fd, &s);
	bench_close(fd);
	_exit(0);
}

/* A client failed: stop the others, the workload reports the failure. */
static void bench_clients_abort(struct bench_result *r, pid_t *pids, int k,
				const char *when)
{
	int c;

	for (c = 0; c < k; c++)
		kill(pids[c], SIGKILL);
	while (wait(NULL) > 0)
		;
	r->status = "fail";
	snprintf(r->extra, sizeof(r->extra), "error=client_failed_in_%s",
		 when);
}

static void bench_clients(struct bench_result *r, int k, long n, int lockstep)
{
	int tok[2 * BENCH_MAX_CLIENTS], ready[2], go[2], quit[2];
	pid_t pids[BENCH_MAX_CLIENTS];
	long per = n / k;
	int c, ret, opened = 0, failed = 0, refused = 0;
	uint32_t *open_rc, rc = 0;
	double *lat;

	bench_mark(r->id, BENCH_SETUP);
	lat = mmap(NULL, per * k * sizeof(double), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	open_rc = mmap(NULL, k * sizeof(*open_rc), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (lat == MAP_FAILED || open_rc == MAP_FAILED || pipe(ready) || pipe(go) || pipe(quit))
		bench_die("clients setup", -errno);
	for (c = 0; c < k; c++)
		if (pipe(&tok[2 * c]))
			bench_die("pipe", -errno);
	fflush(stdout);
	for (c = 0; c < k; c++) {
		pid_t pid = fork();

		if (pid < 0)
			bench_die("fork", -errno);
		if (!pid)
			bench_client(c, k, per, lockstep, tok, ready[1],
				     go[0], quit[0], lat + c * per, open_rc + c);
		pids[c] = pid;
	}
	/*
	 * One answer per client: set up, failed, or its open refused.  A
	 * refusal is the path's limit as a user meets it (the raw device
	 * admits one opener): status=limit, with the opens that succeeded.
	 */
	for (c = 0; c < k; c++) {
		ret = bench_wait_byte(ready[0]);
		opened += !ret;
		failed += ret == -1;
		refused += ret == -2;
	}
	if (failed || refused) {
		for (c = 0; c < k && !rc; c++)
			rc = open_rc[c];
		bench_clients_abort(r, pids, k, "setup");
		if (!failed)
			snprintf(r->extra, sizeof(r->extra),
				 "error=open_%d_tss_rc_0x%x opened=%d refused=%d",
				 opened, rc, opened, refused);
		r->status = failed ? "fail" : "limit";
		bench_mark(r->id, BENCH_LOOP);
		bench_mark(r->id, BENCH_TEARDOWN);
		return;
	}
	bench_loop_begin(r);
	if (lockstep)
		bench_put_byte(tok[1]);
	else
		for (c = 0; c < k; c++)
			bench_put_byte(go[1]);
	for (c = 0; c < k; c++) {
		if (bench_wait_byte(ready[0])) {
			bench_loop_end(r);
			bench_clients_abort(r, pids, k, "loop");
			return;
		}
	}
	bench_loop_end(r);
	for (c = 0; c < k; c++)
		bench_put_byte(quit[1]);
	while (wait(NULL) > 0)
		;
	r->ops = r->cmds = per * k;
	r->lat_us = lat;
	snprintf(r->extra, sizeof(r->extra), "k=%d per=%ld lockstep=%d",
		 k, per, lockstep);
}

static long bench_meminfo(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

/*
 * The RM charges a file's objects to its opener's uid (128 objects per
 * uid): idle files are opened by BENCH_IDLE_PER_UID (default 100) files
 * per uid, from uid 60000 up, so a workload of many idle files stays
 * within the quota, as many users' idle files would.  A peer over D-Bus
 * (abrmd on a session bus) admits its bus owner alone: one uid there; the
 * raw device (0600 root) admits root alone.
 */
static int bench_idle_open(long i)
{
	const char *e = getenv("BENCH_IDLE_PER_UID");
	long per_uid = e ? atol(e) : 100;
	int fd;

	if (per_uid <= 0)
		per_uid = 100;
	if (bench_off_kernel_rm())
		return bench_open(bench_dev);
	if (seteuid(60000 + i / per_uid))
		return -errno;
	fd = bench_open(bench_dev);
	if (seteuid(0))
		bench_die("seteuid", -errno);
	return fd;
}

/*
 * idle: nr open files of the RM device, each holding one loaded key
 * (ContextLoad of one saved key context); kernel memory before and after,
 * and the RSS of process BENCH_RSS_PID (abrmd) if set.  Off the kernel's
 * RM (abrmd, the raw device), an open that fails (abrmd's connection
 * limit, the raw device's one opener) ends the loop: status=limit, with
 * the memory of the files opened before.
 */
static void bench_idle(struct bench_result *r, long nr)
{
	struct rlimit rl = { 2 * nr + 64, 2 * nr + 64 };
	const char *rss_pid = getenv("BENCH_RSS_PID");
	long rss0 = -1, rss1 = -1, slab0, free0, slab1, free1, i;
	struct bench_signer s;
	struct tpm2_context ctx;
	char rss[128] = "";
	uint32_t h;
	int *fds, fd, ret;

	bench_mark(r->id, BENCH_SETUP);
	if (setrlimit(RLIMIT_NOFILE, &rl))
		bench_die("setrlimit", -errno);
	fds = calloc(nr, sizeof(int));
	r->lat_us = calloc(nr, sizeof(double));
	fd = bench_open(bench_dev);
	if (fd < 0)
		bench_die(bench_dev, fd);
	ret = bench_signer_setup(fd, &s, 0);
	if (!ret)
		ret = tpm2_context_save(fd, s.key.handle, &ctx);
	if (ret)
		bench_die("idle setup", ret);
	bench_signer_teardown(fd, &s);
	bench_close(fd);
	sync();
	sleep(1);
	bench_loop_begin(r);
	slab0 = bench_meminfo("Slab");
	free0 = bench_meminfo("MemFree");
	if (rss_pid)
		rss0 = bench_rss_kib(rss_pid);
	for (i = 0; i < nr; i++) {
		double t = bench_now_us();

		bench_tcti_rc = 0;
		fds[i] = bench_idle_open(i);
		if (fds[i] < 0 && bench_off_kernel_rm() && i > 0) {
			snprintf(r->extra, sizeof(r->extra),
				 "error=open_%ld_tss_rc_0x%x ", i,
				 bench_tcti_rc);
			r->status = "limit";
			break;
		}
		if (fds[i] < 0) {
			snprintf(r->extra, sizeof(r->extra),
				 "error=open_%ld_%d", i, fds[i]);
			r->status = "fail";
			break;
		}
		ret = tpm2_context_load(fds[i], &ctx, &h);
		r->cmds++;
		r->cl++;
		if (ret) {
			snprintf(r->extra, sizeof(r->extra),
				 "error=context_load_%ld_rc_0x%x", i, ret);
			r->status = "fail";
			i++;
			break;
		}
		r->lat_us[i] = bench_now_us() - t;
	}
	sleep(1);
	slab1 = bench_meminfo("Slab");
	free1 = bench_meminfo("MemFree");
	if (rss_pid)
		rss1 = bench_rss_kib(rss_pid);
	bench_loop_end(r);
	r->ops = i;
	if (rss0 >= 0 && rss1 >= 0)
		snprintf(rss, sizeof(rss), " rss_kib=%ld rss_b_per_file=%ld",
			 rss1 - rss0, (rss1 - rss0) * 1024 / (i ? i : 1));
	if (!r->status || !strcmp(r->status, "limit"))
		snprintf(r->extra + strlen(r->extra),
			 sizeof(r->extra) - strlen(r->extra),
			 "files=%ld slab_kib=%ld memfree_kib=%ld slab_b_per_file=%ld memfree_b_per_file=%ld%s",
			 i, slab1 - slab0, free0 - free1,
			 (slab1 - slab0) * 1024 / (i ? i : 1),
			 (free0 - free1) * 1024 / (i ? i : 1), rss);
	while (i-- > 0)
		bench_close(fds[i]);
	free(fds);
}

/*
 * limits: on one open file (connection), start sessions until one is
 * refused (at most n), flush them, then load one signing key again and
 * again until a load is refused (at most n): what a user meets at a
 * path's limits (abrmd: 4 sessions, 27 transients per connection).
 */
static void bench_limits(struct bench_result *r, long n)
{
	struct tpm2_session *sess = calloc(n, sizeof(*sess));
	uint32_t *objs = calloc(n, sizeof(*objs));
	struct tpm2_auth pw = { NULL, 0 };
	struct tpm2_key primary, key;
	long ns = 0, no = 0, i;
	int fd, ret, src = 0, orc = 0;

	bench_mark(r->id, BENCH_SETUP);
	fd = bench_open(bench_dev);
	if (fd < 0 || !sess || !objs)
		bench_die(bench_dev, fd);
	ret = tpm2_create_primary(fd, TPM2_KEY_STORAGE, NULL, 0, &primary);
	if (!ret)
		ret = tpm2_create(fd, &primary, &pw, TPM2_KEY_SIGN, NULL, 0, &key);
	if (ret)
		bench_die("limits setup", ret);
	bench_loop_begin(r);
	while (ns < n) {
		ret = tpm2_start_session(fd, TPM2_SE_HMAC, &sess[ns]);
		if (ret) {
			src = ret;
			break;
		}
		ns++;
	}
	for (i = 0; i < ns; i++)
		tpm2_flush(fd, sess[i].handle);
	while (no < n) {
		ret = tpm2_load(fd, &primary, &pw, &key);
		if (ret) {
			orc = ret;
			break;
		}
		objs[no++] = key.handle;
	}
	bench_loop_end(r);
	for (i = 0; i < no; i++)
		tpm2_flush(fd, objs[i]);
	tpm2_flush(fd, primary.handle);
	bench_close(fd);
	r->ops = ns + no;
	r->fc = ns;	/* the sessions' FlushContext, in the loop */
	r->cmds = ns + no + !!src + !!orc + ns;
	snprintf(r->extra, sizeof(r->extra),
		 "sessions=%ld session_rc=0x%x objects=%ld object_rc=0x%x tried=%ld",
		 ns, src, no, orc, n);
	free(sess);
	free(objs);
}

/*
 * flush: after workload ID on the raw device, where closing a file
 * flushes nothing, flush every transient object and session left in the
 * TPM (a refused client's peers, killed; idle's loaded keys), behind the
 * marker of phase 3 (counted nowhere).  Returns the number flushed.
 */
static int bench_flush_all(int id)
{
	static const uint32_t types[] = { 0x80000000, 0x02000000, 0x03000000 };
	uint32_t h[64];
	unsigned int t;
	int fd, n, i, done = 0;

	bench_mark(id, 3);
	fd = bench_open(bench_dev);
	if (fd < 0)
		bench_die(bench_dev, fd);
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		n = tpm2_handles_by_type(fd, types[t], h, 64);
		if (n < 0)
			bench_die("flush: GetCapability", n);
		for (i = 0; i < n; i++)
			done += !tpm2_flush(fd, h[i]);
	}
	bench_close(fd);
	return done;
}

static void bench_usage(void)
{
	fprintf(stderr,
		"usage: tpmbench sign1|raw|mixed1|idle|clients|kmix|mark ID [args]\n"
		"  tpmbench sign1 ID N          N signs on /dev/tpmrm0\n"
		"  tpmbench raw ID N            N signs on /dev/tpm0\n"
		"  tpmbench mixed1 ID N         N policy signs, 3 keys\n"
		"  tpmbench clients ID N K L    K clients, N/K signs each, L=1 lockstep\n"
		"  tpmbench idle ID FILES       FILES open files with one key each\n"
		"  tpmbench limits ID N         sessions, then loaded keys, on one\n"
		"                               file until refused (at most N each)\n"
		"  tpmbench kmix ID N KOP       N signs, a kernel op (ima|hwrng)\n"
		"                               every 10 in workload ID + 1\n"
		"  tpmbench mark ID PHASE       send one marker\n"
		"  tpmbench flush ID 3          flush what the raw device holds\n"
		"                               (after marker ID 3)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench_result r = { 0 };
	long n;

	if (argc < 4)
		bench_usage();
	r.name = getenv("BENCH_NAME") ? getenv("BENCH_NAME") : argv[1];
	bench_path = getenv("BENCH_PATH");
	if (bench_path && !*bench_path)
		bench_path = NULL;
	tpm2_send_hook = bench_tcti_send;
	tpm2_recv_hook = bench_tcti_recv;
	r.id = atoi(argv[2]);
	n = atol(argv[3]);
	if (r.id <= 0 || r.id >= 0x400)
		bench_usage();
	if (!strcmp(argv[1], "mark")) {
		bench_mark(r.id, n & 3);
		return 0;
	}
	if (!strcmp(argv[1], "flush")) {
		n = bench_flush_all(r.id);
		if (n)
			fprintf(stderr, "tpmbench: flushed %ld handles left on %s\n",
				n, getenv("BENCH_TCTI") ? getenv("BENCH_TCTI") : bench_dev);
		return 0;
	}
	if (n <= 0)
		bench_usage();
	if (!strcmp(argv[1], "sign1")) {
		bench_sign1(&r, TPM2_RM_DEV, n);
	} else if (!strcmp(argv[1], "raw")) {
		bench_sign1(&r, TPM2_RAW_DEV, n);
	} else if (!strcmp(argv[1], "mixed1")) {
		bench_mixed1(&r, n);
	} else if (!strcmp(argv[1], "idle")) {
		bench_idle(&r, n);
	} else if (!strcmp(argv[1], "limits")) {
		bench_limits(&r, n);
	} else if (!strcmp(argv[1], "kmix") && argc == 5 && r.id < 0x3ff) {
		bench_kmix(&r, n, argv[4]);
	} else if (!strcmp(argv[1], "clients") && argc == 6) {
		int k = atoi(argv[4]);

		if (k < 1 || k > BENCH_MAX_CLIENTS)
			bench_usage();
		bench_clients(&r, k, n, atoi(argv[5]));
	} else {
		bench_usage();
	}
	bench_print(&r);
	return 0;
}
