// SPDX-License-Identifier: GPL-2.0
/*
 * Small TPM 2.0 command library for the TPM resource manager selftests.
 * It marshals commands, parses responses, keeps the nonces of HMAC and
 * policy sessions up to date, computes command HMACs and checks response
 * HMACs with its own SHA-256, and reads the resource manager counters in
 * sysfs. The transport is a file descriptor: a TPM character device, or a
 * TCP socket to a software TPM when TPM2_LIB_TCP=host:port is set (used by
 * the host-side library check program only).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tpm2_lib.h"

/* SHA-256 (FIPS 180-4) */

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(struct tpm2_sha256 *c, const uint8_t *p)
{
	uint32_t w[64], a, b, d, e, f, g, h, cc, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = tpm2_get32(p + 4 * i);
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^
			      (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^
			      (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3];
	e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
	for (i = 0; i < 64; i++) {
		t1 = h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) +
		     ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) +
		     ((a & b) ^ (a & cc) ^ (b & cc));
		h = g; g = f; f = e; e = d + t1;
		d = cc; cc = b; b = a; a = t1 + t2;
	}
	c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
	c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

void tpm2_sha256_init(struct tpm2_sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->n = 0;
}

void tpm2_sha256_update(struct tpm2_sha256 *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	c->len += len;
	while (len) {
		size_t k = 64 - c->n;

		if (k > len)
			k = len;
		memcpy(c->blk + c->n, p, k);
		c->n += k;
		p += k;
		len -= k;
		if (c->n == 64) {
			sha256_block(c, c->blk);
			c->n = 0;
		}
	}
}

void tpm2_sha256_final(struct tpm2_sha256 *c, uint8_t *out)
{
	uint64_t bits = c->len * 8;
	uint8_t pad = 0x80, zero = 0, lenbuf[8];
	int i;

	tpm2_sha256_update(c, &pad, 1);
	while (c->n != 56)
		tpm2_sha256_update(c, &zero, 1);
	for (i = 0; i < 8; i++)
		lenbuf[i] = bits >> (56 - 8 * i);
	tpm2_sha256_update(c, lenbuf, 8);
	for (i = 0; i < 8; i++) {
		out[4 * i] = c->h[i] >> 24;
		out[4 * i + 1] = c->h[i] >> 16;
		out[4 * i + 2] = c->h[i] >> 8;
		out[4 * i + 3] = c->h[i];
	}
}

void tpm2_sha256(const void *data, size_t len, uint8_t *out)
{
	struct tpm2_sha256 c;

	tpm2_sha256_init(&c);
	tpm2_sha256_update(&c, data, len);
	tpm2_sha256_final(&c, out);
}

void tpm2_hmac_sha256(const void *key, size_t klen, const void *data,
		      size_t len, uint8_t *out)
{
	uint8_t k[64], pad[64], inner[TPM2_DIGEST_SIZE];
	struct tpm2_sha256 c;
	int i;

	memset(k, 0, sizeof(k));
	if (klen > 64)
		tpm2_sha256(key, klen, k);
	else if (klen)
		memcpy(k, key, klen);

	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	tpm2_sha256_init(&c);
	tpm2_sha256_update(&c, pad, 64);
	tpm2_sha256_update(&c, data, len);
	tpm2_sha256_final(&c, inner);

	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	tpm2_sha256_init(&c);
	tpm2_sha256_update(&c, pad, 64);
	tpm2_sha256_update(&c, inner, sizeof(inner));
	tpm2_sha256_final(&c, out);
}

/* Marshalling */

void tpm2_buf_init(struct tpm2_buf *b)
{
	b->len = 0;
	b->err = 0;
}

void tpm2_put_bytes(struct tpm2_buf *b, const void *p, size_t n)
{
	if (b->len + n > sizeof(b->data)) {
		b->err = -E2BIG;
		return;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void tpm2_put8(struct tpm2_buf *b, uint8_t v)
{
	tpm2_put_bytes(b, &v, 1);
}

void tpm2_put16(struct tpm2_buf *b, uint16_t v)
{
	uint8_t p[2] = { v >> 8, v };

	tpm2_put_bytes(b, p, 2);
}

void tpm2_put32(struct tpm2_buf *b, uint32_t v)
{
	uint8_t p[4] = { v >> 24, v >> 16, v >> 8, v };

	tpm2_put_bytes(b, p, 4);
}

void tpm2_put_tpm2b(struct tpm2_buf *b, const void *p, uint16_t n)
{
	tpm2_put16(b, n);
	tpm2_put_bytes(b, p, n);
}

uint16_t tpm2_get16(const uint8_t *p)
{
	return (uint16_t)p[0] << 8 | p[1];
}

uint32_t tpm2_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Bounded reader over a response buffer. */
struct tpm2_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
};

static void rd_init(struct tpm2_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

static const uint8_t *rd_take(struct tpm2_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->err || r->off + n > r->len) {
		r->err = -EBADMSG;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint8_t rd8(struct tpm2_rd *r)
{
	const uint8_t *p = rd_take(r, 1);

	return p ? p[0] : 0;
}

static uint16_t rd16(struct tpm2_rd *r)
{
	const uint8_t *p = rd_take(r, 2);

	return p ? tpm2_get16(p) : 0;
}

static uint32_t rd32(struct tpm2_rd *r)
{
	const uint8_t *p = rd_take(r, 4);

	return p ? tpm2_get32(p) : 0;
}

/* Reads a TPM2B, copies at most @max bytes into @out; returns its size. */
static uint16_t rd_tpm2b(struct tpm2_rd *r, void *out, size_t max)
{
	uint16_t n = rd16(r);
	const uint8_t *p = rd_take(r, n);

	if (!p)
		return 0;
	if (out) {
		if (n > max) {
			r->err = -EOVERFLOW;
			return 0;
		}
		memcpy(out, p, n);
	}
	return n;
}

/* Transport */

static int tpm2_open_tcp(const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char host[128], *port;
	int fd = -1, ret;

	snprintf(host, sizeof(host), "%s", spec);
	port = strrchr(host, ':');
	if (!port)
		return -EINVAL;
	*port++ = '\0';
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret)
		return -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd < 0 ? -ECONNREFUSED : fd;
}

int tpm2_open(const char *path, int flags)
{
	int fd = open(path, O_RDWR | flags);

	return fd < 0 ? -errno : fd;
}

/* Opens TPM2_LIB_TCP=host:port if set, else the device @fallback. */
int tpm2_open_env(const char *fallback)
{
	const char *tcp = getenv("TPM2_LIB_TCP");

	if (tcp && *tcp)
		return tpm2_open_tcp(tcp);
	return tpm2_open(fallback, 0);
}

/*
 * A program may send commands through a transport of its own (the bench's
 * tpmbench: the TSS TCTI API) by setting these hooks; a hook answers
 * -ENOTSUP for a descriptor it does not own, which then gets write() and
 * read().
 */
int (*tpm2_send_hook)(int fd, const void *cmd, size_t len);
int (*tpm2_recv_hook)(int fd, void *rsp, size_t size);

int tpm2_send(int fd, const void *cmd, size_t len)
{
	ssize_t n;
	int ret;

	if (tpm2_send_hook) {
		ret = tpm2_send_hook(fd, cmd, len);
		if (ret != -ENOTSUP)
			return ret;
	}
	n = write(fd, cmd, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

/* Reads one complete response; returns its length or a negative errno. */
int tpm2_recv(int fd, void *rsp, size_t size)
{
	uint8_t *p = rsp;
	size_t got = 0, want = 10;
	ssize_t n;
	int ret;

	if (tpm2_recv_hook) {
		ret = tpm2_recv_hook(fd, rsp, size);
		if (ret != -ENOTSUP)
			return ret;
	}
	while (got < want) {
		n = read(fd, p + got, size - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		got += n;
		if (got >= 6) {
			want = tpm2_get32(p + 2);
			if (want < 10 || want > size)
				return -EBADMSG;
		}
	}
	return got;
}

/*
 * A TPM may answer TPM_RC_RETRY, TPM_RC_YIELDED or TPM_RC_TESTING instead of
 * running a command; a TSS sends it again, and so does this (a few times).
 */
unsigned int tpm2_warn_retries = 5;

int tpm2_xfer(int fd, const void *cmd, size_t len, void *rsp, size_t size)
{
	unsigned int tries = 0;
	uint32_t rc;
	int ret;

	for (;;) {
		ret = tpm2_send(fd, cmd, len);
		if (ret)
			return ret;
		ret = tpm2_recv(fd, rsp, size);
		if (ret < 10 || tries++ >= tpm2_warn_retries)
			return ret;
		rc = tpm2_get32((const uint8_t *)rsp + 6);
		if (rc != 0x922 && rc != 0x908 && rc != 0x90A)
			return ret;
		usleep(1000 << tries);
	}
}

void tpm2_random(void *buf, size_t len)
{
	static unsigned int seed;
	uint8_t *p = buf;
	size_t i;
	int fd;

	fd = open("/dev/urandom", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, len);

		close(fd);
		if (n == (ssize_t)len)
			return;
	}
	if (!seed)
		seed = getpid() ^ 0x5a5a5a5a;
	for (i = 0; i < len; i++)
		p[i] = rand_r(&seed);
}

/* Sessions */

static void session_hmac(const struct tpm2_session *s, const uint8_t *phash,
			 const uint8_t *newer, size_t newer_len,
			 const uint8_t *older, size_t older_len,
			 uint8_t attrs, uint8_t *out)
{
	uint8_t data[TPM2_DIGEST_SIZE + 64 + 64 + 1];
	size_t n = 0;

	(void)s;
	memcpy(data, phash, TPM2_DIGEST_SIZE);
	n += TPM2_DIGEST_SIZE;
	memcpy(data + n, newer, newer_len);
	n += newer_len;
	memcpy(data + n, older, older_len);
	n += older_len;
	data[n++] = attrs;
	/* Unbound, unsalted session and empty authValue: the key is empty. */
	tpm2_hmac_sha256(NULL, 0, data, n, out);
}

int tpm2_exec(int fd, uint32_t cc, const uint32_t *handles,
	      const struct tpm2_name *names, unsigned int nr_handles,
	      unsigned int nr_rsp_handles, struct tpm2_auth *auths,
	      unsigned int nr_auths, const void *params, size_t params_len,
	      struct tpm2_rsp *rsp)
{
	uint8_t cphash[TPM2_DIGEST_SIZE], rphash[TPM2_DIGEST_SIZE];
	uint8_t hmac[TPM2_DIGEST_SIZE];
	struct tpm2_sha256 c;
	struct tpm2_buf b, a;
	struct tpm2_rd r;
	unsigned int i;
	uint8_t ccb[4] = { cc >> 24, cc >> 16, cc >> 8, cc };
	int ret;

	if (nr_auths) {
		tpm2_sha256_init(&c);
		tpm2_sha256_update(&c, ccb, 4);
		for (i = 0; i < nr_handles; i++) {
			if (names && names[i].size) {
				tpm2_sha256_update(&c, names[i].buf,
						   names[i].size);
			} else {
				uint8_t hb[4] = { handles[i] >> 24,
						  handles[i] >> 16,
						  handles[i] >> 8,
						  handles[i] };

				tpm2_sha256_update(&c, hb, 4);
			}
		}
		tpm2_sha256_update(&c, params, params_len);
		tpm2_sha256_final(&c, cphash);
	}

	tpm2_buf_init(&a);
	for (i = 0; i < nr_auths; i++) {
		struct tpm2_session *s = auths[i].sess;

		if (!s) {
			tpm2_put32(&a, TPM2_RS_PW);
			tpm2_put16(&a, 0);
			tpm2_put8(&a, auths[i].attrs);
			tpm2_put16(&a, 0);
			continue;
		}
		tpm2_random(s->nonce_caller, sizeof(s->nonce_caller));
		tpm2_put32(&a, s->handle);
		tpm2_put_tpm2b(&a, s->nonce_caller, sizeof(s->nonce_caller));
		tpm2_put8(&a, auths[i].attrs);
		if (s->type == TPM2_SE_HMAC) {
			session_hmac(s, cphash, s->nonce_caller,
				     sizeof(s->nonce_caller), s->nonce_tpm,
				     s->nonce_tpm_size, auths[i].attrs, hmac);
			tpm2_put_tpm2b(&a, hmac, sizeof(hmac));
		} else {
			/* Policy session without PolicyAuthValue: empty. */
			tpm2_put16(&a, 0);
		}
	}

	tpm2_buf_init(&b);
	tpm2_put16(&b, nr_auths ? TPM2_ST_SESSIONS : TPM2_ST_NO_SESSIONS);
	tpm2_put32(&b, 0);
	tpm2_put32(&b, cc);
	for (i = 0; i < nr_handles; i++)
		tpm2_put32(&b, handles[i]);
	if (nr_auths) {
		tpm2_put32(&b, a.len);
		tpm2_put_bytes(&b, a.data, a.len);
	}
	tpm2_put_bytes(&b, params, params_len);
	if (b.err || a.err)
		return -E2BIG;
	b.data[2] = b.len >> 24;
	b.data[3] = b.len >> 16;
	b.data[4] = b.len >> 8;
	b.data[5] = b.len;

	memset(rsp, 0, offsetof(struct tpm2_rsp, buf));
	rsp->hmac_ok = -1;
	ret = tpm2_xfer(fd, b.data, b.len, rsp->buf, sizeof(rsp->buf));
	if (ret < 0)
		return ret;
	rsp->len = ret;
	rsp->tag = tpm2_get16(rsp->buf);
	rsp->rc = tpm2_get32(rsp->buf + 6);
	if (rsp->rc != TPM2_RC_SUCCESS)
		return 0;

	rd_init(&r, rsp->buf, rsp->len);
	rd_take(&r, 10);
	for (i = 0; i < nr_rsp_handles; i++) {
		uint32_t h = rd32(&r);

		if (!i)
			rsp->handle = h;
	}
	if (rsp->tag == TPM2_ST_SESSIONS) {
		rsp->params_len = rd32(&r);
		rsp->params = r.off;
		rd_take(&r, rsp->params_len);
	} else {
		rsp->params = r.off;
		rsp->params_len = rsp->len - r.off;
		r.off = rsp->len;
	}
	if (r.err)
		return -EBADMSG;
	if (rsp->tag != (nr_auths ? TPM2_ST_SESSIONS : TPM2_ST_NO_SESSIONS))
		return -EBADMSG;
	if (!nr_auths)
		return 0;

	/* rpHash = H(responseCode || commandCode || parameters) */
	tpm2_sha256_init(&c);
	tpm2_sha256_update(&c, "\0\0\0\0", 4);
	tpm2_sha256_update(&c, ccb, 4);
	tpm2_sha256_update(&c, rsp->buf + rsp->params, rsp->params_len);
	tpm2_sha256_final(&c, rphash);

	for (i = 0; i < nr_auths; i++) {
		struct tpm2_session *s = auths[i].sess;
		uint8_t nonce[64], rhmac[64], attrs;
		uint16_t nlen, hlen;

		nlen = rd_tpm2b(&r, nonce, sizeof(nonce));
		attrs = rd8(&r);
		hlen = rd_tpm2b(&r, rhmac, sizeof(rhmac));
		if (r.err)
			return -EBADMSG;
		if (!s)
			continue;
		memcpy(s->nonce_tpm, nonce, nlen);
		s->nonce_tpm_size = nlen;
		if (s->type != TPM2_SE_HMAC)
			continue;
		session_hmac(s, rphash, nonce, nlen, s->nonce_caller,
			     sizeof(s->nonce_caller), attrs, hmac);
		if (hlen == sizeof(hmac) && !memcmp(hmac, rhmac, hlen)) {
			if (rsp->hmac_ok != 0)
				rsp->hmac_ok = 1;
		} else {
			rsp->hmac_ok = 0;
		}
	}
	return 0;
}

static int rsp_ret(int ret, struct tpm2_rsp *rsp)
{
	if (ret < 0)
		return ret;
	return rsp->rc;
}

/* Object templates */

#define OA_FIXED_TPM		0x00000002
#define OA_FIXED_PARENT		0x00000010
#define OA_SENSITIVE_ORIGIN	0x00000020
#define OA_USER_WITH_AUTH	0x00000040
#define OA_NO_DA		0x00000400
#define OA_RESTRICTED		0x00010000
#define OA_DECRYPT		0x00020000
#define OA_SIGN			0x00040000

static void put_template(struct tpm2_buf *b, enum tpm2_key_kind kind,
			 const uint8_t *policy, size_t policy_len, int primary)
{
	uint8_t unique[TPM2_DIGEST_SIZE];
	struct tpm2_buf t;
	uint32_t attrs = OA_FIXED_TPM | OA_FIXED_PARENT | OA_SENSITIVE_ORIGIN |
			 OA_NO_DA;

	if (!policy_len)
		attrs |= OA_USER_WITH_AUTH;
	if (kind == TPM2_KEY_STORAGE)
		attrs |= OA_RESTRICTED | OA_DECRYPT;
	else
		attrs |= OA_SIGN;

	tpm2_buf_init(&t);
	tpm2_put16(&t, TPM2_ALG_ECC);
	tpm2_put16(&t, TPM2_ALG_SHA256);
	tpm2_put32(&t, attrs);
	tpm2_put_tpm2b(&t, policy, policy_len);
	if (kind == TPM2_KEY_STORAGE) {
		tpm2_put16(&t, 0x0006);		/* AES */
		tpm2_put16(&t, 128);
		tpm2_put16(&t, 0x0043);		/* CFB */
		tpm2_put16(&t, TPM2_ALG_NULL);	/* scheme */
	} else {
		tpm2_put16(&t, TPM2_ALG_NULL);	/* symmetric */
		tpm2_put16(&t, TPM2_ALG_ECDSA);
		tpm2_put16(&t, TPM2_ALG_SHA256);
	}
	tpm2_put16(&t, 0x0003);			/* NIST P-256 */
	tpm2_put16(&t, TPM2_ALG_NULL);		/* kdf */
	/*
	 * A primary key is derived from the hierarchy seed and the template:
	 * a random unique.x gives every CreatePrimary a key of its own.
	 */
	tpm2_random(unique, sizeof(unique));
	tpm2_put_tpm2b(&t, unique, primary ? sizeof(unique) : 0);
	tpm2_put16(&t, 0);			/* unique.y */
	tpm2_put_tpm2b(b, t.data, t.len);
}

static void put_create_common(struct tpm2_buf *b, enum tpm2_key_kind kind,
			      const uint8_t *policy, size_t policy_len,
			      int primary)
{
	/* inSensitive: empty userAuth and data */
	tpm2_put16(b, 4);
	tpm2_put16(b, 0);
	tpm2_put16(b, 0);
	put_template(b, kind, policy, policy_len, primary);
	tpm2_put16(b, 0);		/* outsideInfo */
	tpm2_put32(b, 0);		/* creationPCR */
}

void tpm2_compute_name(const uint8_t *pub, size_t len, struct tpm2_name *n)
{
	n->buf[0] = TPM2_ALG_SHA256 >> 8;
	n->buf[1] = TPM2_ALG_SHA256 & 0xff;
	tpm2_sha256(pub, len, n->buf + 2);
	n->size = 2 + TPM2_DIGEST_SIZE;
}

static struct tpm2_rsp *rsp_alloc(void)
{
	return calloc(1, sizeof(struct tpm2_rsp));
}

int tpm2_create_primary(int fd, enum tpm2_key_kind kind,
			const uint8_t *policy, size_t policy_len,
			struct tpm2_key *key)
{
	uint32_t h = TPM2_RH_OWNER;
	struct tpm2_auth auth = { NULL, 0 };
	struct tpm2_rsp *rsp = rsp_alloc();
	struct tpm2_name name;
	struct tpm2_buf b;
	struct tpm2_rd r;
	int ret;

	if (!rsp)
		return -ENOMEM;
	tpm2_buf_init(&b);
	put_create_common(&b, kind, policy, policy_len, 1);
	ret = tpm2_exec(fd, TPM2_CC_CREATE_PRIMARY, &h, NULL, 1, 1, &auth, 1,
			b.data, b.len, rsp);
	ret = rsp_ret(ret, rsp);
	if (ret)
		goto out;
	memset(key, 0, sizeof(*key));
	key->handle = rsp->handle;
	rd_init(&r, rsp->buf + rsp->params, rsp->params_len);
	key->pub_size = rd_tpm2b(&r, key->pub, sizeof(key->pub));
	rd_tpm2b(&r, NULL, 0);			/* creationData */
	rd_tpm2b(&r, NULL, 0);			/* creationHash */
	rd16(&r);				/* creationTicket */
	rd32(&r);
	rd_tpm2b(&r, NULL, 0);
	name.size = rd_tpm2b(&r, name.buf, sizeof(name.buf));
	if (r.err) {
		ret = r.err;
		goto out;
	}
	tpm2_compute_name(key->pub, key->pub_size, &key->name);
	if (name.size != key->name.size ||
	    memcmp(name.buf, key->name.buf, name.size))
		ret = -EBADMSG;
out:
	free(rsp);
	return ret;
}

int tpm2_create(int fd, const struct tpm2_key *parent, struct tpm2_auth *auth,
		enum tpm2_key_kind kind, const uint8_t *policy,
		size_t policy_len, struct tpm2_key *key)
{
	struct tpm2_auth pw = { NULL, 0 };
	struct tpm2_rsp *rsp = rsp_alloc();
	struct tpm2_buf b;
	struct tpm2_rd r;
	int ret;

	if (!rsp)
		return -ENOMEM;
	tpm2_buf_init(&b);
	put_create_common(&b, kind, policy, policy_len, 0);
	ret = tpm2_exec(fd, TPM2_CC_CREATE, &parent->handle, &parent->name, 1,
			0, auth ? auth : &pw, 1, b.data, b.len, rsp);
	ret = rsp_ret(ret, rsp);
	if (ret)
		goto out;
	if (rsp->hmac_ok == 0) {
		ret = -EBADMSG;
		goto out;
	}
	memset(key, 0, sizeof(*key));
	rd_init(&r, rsp->buf + rsp->params, rsp->params_len);
	key->priv_size = rd_tpm2b(&r, key->priv, sizeof(key->priv));
	key->pub_size = rd_tpm2b(&r, key->pub, sizeof(key->pub));
	if (r.err)
		ret = r.err;
	tpm2_compute_name(key->pub, key->pub_size, &key->name);
out:
	free(rsp);
	return ret;
}

int tpm2_load(int fd, const struct tpm2_key *parent, struct tpm2_auth *auth,
	      struct tpm2_key *key)
{
	struct tpm2_auth pw = { NULL, 0 };
	struct tpm2_rsp *rsp = rsp_alloc();
	struct tpm2_name name;
	struct tpm2_buf b;
	struct tpm2_rd r;
	int ret;

	if (!rsp)
		return -ENOMEM;
	tpm2_buf_init(&b);
	tpm2_put_tpm2b(&b, key->priv, key->priv_size);
	tpm2_put_tpm2b(&b, key->pub, key->pub_size);
	ret = tpm2_exec(fd, TPM2_CC_LOAD, &parent->handle, &parent->name, 1, 1,
			auth ? auth : &pw, 1, b.data, b.len, rsp);
	ret = rsp_ret(ret, rsp);
	if (ret)
		goto out;
	if (rsp->hmac_ok == 0) {
		ret = -EBADMSG;
		goto out;
	}
	key->handle = rsp->handle;
	rd_init(&r, rsp->buf + rsp->params, rsp->params_len);
	name.size = rd_tpm2b(&r, name.buf, sizeof(name.buf));
	if (r.err)
		ret = r.err;
	else if (name.size != key->name.size ||
		 memcmp(name.buf, key->name.buf, name.size))
		ret = -EBADMSG;
out:
	free(rsp);
	return ret;
}

static void put_sig(struct tpm2_buf *b, const struct tpm2_sig *sig)
{
	tpm2_put16(b, sig->alg);
	tpm2_put16(b, sig->hash);
	tpm2_put_tpm2b(b, sig->r, sig->r_size);
	tpm2_put_tpm2b(b, sig->s, sig->s_size);
}

int tpm2_sign(int fd, const struct tpm2_key *key, struct tpm2_auth *auth,
	      const uint8_t *digest, struct tpm2_sig *sig, int *hmac_ok)
{
	struct tpm2_auth pw = { NULL, 0 };
	struct tpm2_rsp *rsp = rsp_alloc();
	struct tpm2_buf b;
	struct tpm2_rd r;
	int ret;

	if (!rsp)
		return -ENOMEM;
	tpm2_buf_init(&b);
	tpm2_put_tpm2b(&b, digest, TPM2_DIGEST_SIZE);
	tpm2_put16(&b, TPM2_ALG_ECDSA);
	tpm2_put16(&b, TPM2_ALG_SHA256);
	tpm2_put16(&b, TPM2_ST_HASHCHECK);
	tpm2_put32(&b, TPM2_RH_NULL);
	tpm2_put16(&b, 0);
	ret = tpm2_exec(fd, TPM2_CC_SIGN, &key->handle, &key->name, 1, 0,
			auth ? auth : &pw, 1, b.data, b.len, rsp);
	if (hmac_ok)
		*hmac_ok = rsp->hmac_ok;
	ret = rsp_ret(ret, rsp);
	if (ret)
		goto out;
	rd_init(&r, rsp->buf + rsp->params, rsp->params_len);
	sig->alg = rd16(&r);
	sig->hash = rd16(&r);
	sig->r_size = rd_tpm2b(&r, sig->r, sizeof(sig->r));
	sig->s_size = rd_tpm2b(&r, sig->s, sizeof(sig->s));
	if (r.err)
		ret = r.err;
	else if (sig->alg != TPM2_ALG_ECDSA || sig->hash != TPM2_ALG_SHA256)
		ret = -EBADMSG;
out:
	free(rsp);
	return ret;
}

int tpm2_verify(int fd, uint32_t handle, const uint8_t *digest,
		const struct tpm2_sig *sig)
{
	struct tpm2_rsp *rsp = rsp_alloc();
	struct tpm2_buf b;
	struct tpm2_rd r;
	int ret;

	if (!rsp)
		return -ENOMEM;
	tpm2_buf_init(&b);
	tpm2_put_tpm2b(&b, digest, TPM2_DIGEST_SIZE);
	put_sig(&b, sig);
	ret = tpm2_exec(fd, TPM2_CC_VERIFY_SIGNATURE, &handle, NULL, 1, 0,
			NULL, 0, b.data, b.len, rsp);
	ret = rsp_ret(ret, rsp);
	if (!ret) {
		/* TPMT_TK_VERIFIED */
		rd_init(&r, rsp->buf + rsp->params, rsp->params_len);
		if (rd16(&r) != 0x8022 || r.err)
			ret = -EBADMSG;
	}
	free(rsp);
	return ret;
}

int tpm2_sign_check(int fd, const struct tpm2_key *key,
		    struct tpm2_auth *auth)
{
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_sig sig;
	int ret;

	tpm2_random(digest, sizeof(digest));
	ret = tpm2_sign(fd, key, auth, digest, &sig, NULL);
	if (ret)
		return ret;
	return tpm2_verify(fd, key->handle, digest, &sig);
}

int tpm2_raw_command(void)
{
	uint8_t r[8];
	int fd, ret;

	fd = tpm2_open(TPM2_RAW_DEV, 0);
	if (fd < 0)
		return fd;
	ret = tpm2_get_random(fd, sizeof(r), r);
	close(fd);
	return ret;
}

int tpm2_start_session(int fd, uint8_t type, struct tpm2_session *s)
{
	uint32_t h[2] = { TPM2_RH_NULL, TPM2_RH_NULL };
	struct tpm2_rsp *rsp = rsp_alloc();
	struct tpm2_buf b;
	struct tpm2_rd r;
	int ret;

	if (!rsp)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->type = type;
	tpm2_random(s->nonce_caller, sizeof(s->nonce_caller));
	tpm2_buf_init(&b);
	tpm2_put_tpm2b(&b, s->nonce_caller, sizeof(s->nonce_caller));
	tpm2_put16(&b, 0);			/* encryptedSalt */
	tpm2_put8(&b, type);
	tpm2_put16(&b, TPM2_ALG_NULL);		/* symmetric */
	tpm2_put16(&b, TPM2_ALG_SHA256);
	ret = tpm2_exec(fd, TPM2_CC_START_AUTH_SESSION, h, NULL, 2, 1, NULL, 0,
			b.data, b.len, rsp);
	ret = rsp_ret(ret, rsp);
	if (!ret) {
		s->handle = rsp->handle;
		rd_init(&r, rsp->buf + rsp->params, rsp->params_len);
		s->nonce_tpm_size = rd_tpm2b(&r, s->nonce_tpm,
					     sizeof(s->nonce_tpm));
		if (r.err)
			ret = r.err;
	}
	free(rsp);
	return ret;
}

static void put_pcr_select(struct tpm2_buf *b, unsigned int pcr)
{
	uint8_t sel[3] = { 0, 0, 0 };

	sel[pcr / 8] = 1 << (pcr % 8);
	tpm2_put32(b, 1);
	tpm2_put16(b, TPM2_ALG_SHA256);
	tpm2_put8(b, 3);
	tpm2_put_bytes(b, sel, 3);
}

static int simple_cmd(int fd, uint32_t cc, uint32_t handle, const void *p,
		      size_t len, uint8_t *out, size_t *out_len)
{
	struct tpm2_rsp *rsp = rsp_alloc();
	int ret;

	if (!rsp)
		return -ENOMEM;
	ret = tpm2_exec(fd, cc, &handle, NULL, handle ? 1 : 0,
			cc == TPM2_CC_CONTEXT_LOAD ? 1 : 0, NULL, 0, p, len,
			rsp);
	ret = rsp_ret(ret, rsp);
	if (!ret && out) {
		if (cc == TPM2_CC_CONTEXT_LOAD) {
			memcpy(out, rsp->buf + 10, 4);
			*out_len = 4;
		} else if (rsp->params_len <= *out_len) {
			memcpy(out, rsp->buf + rsp->params, rsp->params_len);
			*out_len = rsp->params_len;
		} else {
			ret = -EOVERFLOW;
		}
	}
	free(rsp);
	return ret;
}

int tpm2_policy_pcr(int fd, uint32_t session, unsigned int pcr)
{
	struct tpm2_buf b;

	tpm2_buf_init(&b);
	tpm2_put16(&b, 0);		/* pcrDigest: use the current values */
	put_pcr_select(&b, pcr);
	return simple_cmd(fd, TPM2_CC_POLICY_PCR, session, b.data, b.len,
			  NULL, NULL);
}

int tpm2_policy_command_code(int fd, uint32_t session, uint32_t cc)
{
	uint8_t p[4] = { cc >> 24, cc >> 16, cc >> 8, cc };

	return simple_cmd(fd, TPM2_CC_POLICY_COMMAND_CODE, session, p, 4,
			  NULL, NULL);
}

int tpm2_policy_get_digest(int fd, uint32_t session, uint8_t *digest)
{
	uint8_t out[64];
	size_t len = sizeof(out);
	int ret;

	ret = simple_cmd(fd, TPM2_CC_POLICY_GET_DIGEST, session, NULL, 0,
			 out, &len);
	if (ret)
		return ret;
	if (len != 2 + TPM2_DIGEST_SIZE || tpm2_get16(out) != TPM2_DIGEST_SIZE)
		return -EBADMSG;
	memcpy(digest, out + 2, TPM2_DIGEST_SIZE);
	return 0;
}

int tpm2_pcr_read(int fd, unsigned int pcr, uint8_t *value)
{
	uint8_t out[256];
	size_t len = sizeof(out);
	struct tpm2_buf b;
	struct tpm2_rd r;
	int ret;

	tpm2_buf_init(&b);
	put_pcr_select(&b, pcr);
	ret = simple_cmd(fd, TPM2_CC_PCR_READ, 0, b.data, b.len, out, &len);
	if (ret)
		return ret;
	rd_init(&r, out, len);
	rd32(&r);			/* pcrUpdateCounter */
	if (rd32(&r) != 1)		/* pcrSelectionOut */
		return -EBADMSG;
	rd16(&r);
	rd_take(&r, rd8(&r));
	if (rd32(&r) != 1)		/* pcrValues */
		return -EBADMSG;
	if (rd_tpm2b(&r, value, TPM2_DIGEST_SIZE) != TPM2_DIGEST_SIZE)
		return -EBADMSG;
	return r.err;
}

int tpm2_flush(int fd, uint32_t handle)
{
	uint8_t p[4] = { handle >> 24, handle >> 16, handle >> 8, handle };

	return simple_cmd(fd, TPM2_CC_FLUSH_CONTEXT, 0, p, 4, NULL, NULL);
}

int tpm2_context_save(int fd, uint32_t handle, struct tpm2_context *ctx)
{
	size_t len = sizeof(ctx->buf);
	int ret;

	ret = simple_cmd(fd, TPM2_CC_CONTEXT_SAVE, handle, NULL, 0, ctx->buf,
			 &len);
	ctx->size = ret ? 0 : len;
	return ret;
}

int tpm2_context_load(int fd, const struct tpm2_context *ctx,
		      uint32_t *handle)
{
	uint8_t out[4];
	size_t len = 4;
	int ret;

	ret = simple_cmd(fd, TPM2_CC_CONTEXT_LOAD, 0, ctx->buf, ctx->size,
			 out, &len);
	if (!ret)
		*handle = tpm2_get32(out);
	return ret;
}

int tpm2_get_handles(int fd, uint32_t first, uint32_t count,
		     uint32_t *handles, unsigned int *nr, int *more)
{
	uint8_t out[TPM2_BUF_SIZE];
	size_t len = sizeof(out);
	struct tpm2_buf b;
	struct tpm2_rd r;
	unsigned int i, n;
	int ret;

	tpm2_buf_init(&b);
	tpm2_put32(&b, TPM2_CAP_HANDLES);
	tpm2_put32(&b, first);
	tpm2_put32(&b, count);
	ret = simple_cmd(fd, TPM2_CC_GET_CAPABILITY, 0, b.data, b.len, out,
			 &len);
	if (ret)
		return ret;
	rd_init(&r, out, len);
	*more = rd8(&r);
	if (rd32(&r) != TPM2_CAP_HANDLES)
		return -EBADMSG;
	n = rd32(&r);
	if (n > count)
		return -EBADMSG;
	for (i = 0; i < n; i++)
		handles[i] = rd32(&r);
	*nr = n;
	if (r.err)
		return r.err;
	return r.off == len ? 0 : -EBADMSG;
}

/*
 * Lists all handles of one type (the top byte of @type), following
 * moreData. Returns the number of handles or a negative value.
 */
int tpm2_handles_by_type(int fd, uint32_t type, uint32_t *handles,
			 unsigned int max)
{
	uint32_t first = type;
	unsigned int total = 0, n;
	int more, ret;

	do {
		ret = tpm2_get_handles(fd, first, max - total,
				       handles + total, &n, &more);
		if (ret)
			return ret > 0 ? -EPROTO : ret;
		total += n;
		if (!n || total >= max)
			break;
		first = handles[total - 1] + 1;
	} while (more);
	return total;
}

int tpm2_list_contains(const uint32_t *list, unsigned int n, uint32_t h)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (list[i] == h)
			return 1;
	return 0;
}

int tpm2_get_random(int fd, uint16_t count, uint8_t *out)
{
	uint8_t buf[TPM2_BUF_SIZE];
	size_t len = sizeof(buf);
	uint8_t p[2] = { count >> 8, count };
	int ret;

	ret = simple_cmd(fd, TPM2_CC_GET_RANDOM, 0, p, 2, buf, &len);
	if (ret)
		return ret;
	if (len != 2u + count || tpm2_get16(buf) != count)
		return -EBADMSG;
	memcpy(out, buf + 2, count);
	return 0;
}

/*
 * Reads the TPMA_CC of every command the TPM implements (TPM_CAP_COMMANDS),
 * following moreData. Returns the number of entries or a negative value.
 */
int tpm2_get_commands(int fd, uint32_t *attrs, unsigned int max)
{
	uint8_t out[TPM2_BUF_SIZE];
	uint32_t first = TPM2_CC_FIRST;
	unsigned int total = 0, i, n;
	struct tpm2_buf b;
	struct tpm2_rd r;
	size_t len;
	int more, ret;

	do {
		tpm2_buf_init(&b);
		tpm2_put32(&b, TPM2_CAP_COMMANDS);
		tpm2_put32(&b, first);
		tpm2_put32(&b, max - total);
		len = sizeof(out);
		ret = simple_cmd(fd, TPM2_CC_GET_CAPABILITY, 0, b.data, b.len,
				 out, &len);
		if (ret)
			return ret > 0 ? -EPROTO : ret;
		rd_init(&r, out, len);
		more = rd8(&r);
		if (rd32(&r) != TPM2_CAP_COMMANDS)
			return -EBADMSG;
		n = rd32(&r);
		if (n > max - total)
			return -EBADMSG;
		for (i = 0; i < n; i++)
			attrs[total + i] = rd32(&r);
		if (r.err)
			return r.err;
		total += n;
		if (!n || total >= max)
			break;
		first = tpm2_cca_code(attrs[total - 1]) + 1;
	} while (more);
	return total;
}

uint32_t tpm2_cca_code(uint32_t attrs)
{
	uint32_t cc = attrs & TPM2_CCA_INDEX_MASK;

	return attrs & TPM2_CCA_V ? cc | TPM2_CCA_V : cc;
}

unsigned int tpm2_cca_handles(uint32_t attrs)
{
	return (attrs & TPM2_CCA_CHANDLES_MASK) >> TPM2_CCA_CHANDLES_SHIFT;
}

/* PCR_Extend of the SHA-256 bank with a password session. */
int tpm2_pcr_extend(int fd, unsigned int pcr, const uint8_t *digest)
{
	struct tpm2_auth pw = { NULL, 0 };
	struct tpm2_rsp *rsp = rsp_alloc();
	uint32_t h = pcr;
	struct tpm2_buf b;
	int ret;

	if (!rsp)
		return -ENOMEM;
	tpm2_buf_init(&b);
	tpm2_put32(&b, 1);
	tpm2_put16(&b, TPM2_ALG_SHA256);
	tpm2_put_bytes(&b, digest, TPM2_DIGEST_SIZE);
	ret = tpm2_exec(fd, TPM2_CC_PCR_EXTEND, &h, NULL, 1, 0, &pw, 1,
			b.data, b.len, rsp);
	ret = rsp_ret(ret, rsp);
	free(rsp);
	return ret;
}

int tpm2_pcr_reset(int fd, unsigned int pcr)
{
	struct tpm2_auth pw = { NULL, 0 };
	struct tpm2_rsp *rsp = rsp_alloc();
	uint32_t h = pcr;
	int ret;

	if (!rsp)
		return -ENOMEM;
	ret = tpm2_exec(fd, TPM2_CC_PCR_RESET, &h, NULL, 1, 0, &pw, 1, NULL,
			0, rsp);
	ret = rsp_ret(ret, rsp);
	free(rsp);
	return ret;
}

/*
 * A response is well formed if it holds a header, its size field equals
 * the bytes read, its tag is one a TPM 2.0 sends (TPM_ST_RSP_COMMAND only
 * with TPM_RC_BAD_TAG), and an error response is a bare header.
 */
int tpm2_rsp_check(const uint8_t *buf, size_t len)
{
	uint16_t tag;
	uint32_t rc;

	if (len < 10 || tpm2_get32(buf + 2) != len)
		return -EBADMSG;
	tag = tpm2_get16(buf);
	rc = tpm2_get32(buf + 6);
	if (tag == TPM2_ST_RSP_COMMAND)
		return rc == TPM2_RC_BAD_TAG && len == 10 ? 0 : -EBADMSG;
	if (tag != TPM2_ST_NO_SESSIONS && tag != TPM2_ST_SESSIONS)
		return -EBADMSG;
	if (rc && (len != 10 || tag != TPM2_ST_NO_SESSIONS))
		return -EBADMSG;
	return 0;
}

/*
 * The harness sets TPMRM_EXTENDED=1 for the long run (make check-extended)
 * and TPMRM_CONFIG=minimal|debug for the kernel configuration; unset means
 * the sizes of make check on the minimal kernel.
 */
int tpm2_env_extended(void)
{
	const char *v = getenv("TPMRM_EXTENDED");

	return v && *v && strcmp(v, "0");
}

int tpm2_env_debug(void)
{
	const char *v = getenv("TPMRM_CONFIG");

	return v && !strcmp(v, "debug");
}

unsigned long tpm2_env_ulong(const char *name, unsigned long def)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return def;
	n = strtoul(v, &end, 0);
	return *end ? def : n;
}

int tpm2_read_public(int fd, uint32_t handle, struct tpm2_name *name)
{
	uint8_t out[TPM2_BUF_SIZE];
	size_t len = sizeof(out);
	struct tpm2_rd r;
	int ret;

	ret = simple_cmd(fd, TPM2_CC_READ_PUBLIC, handle, NULL, 0, out, &len);
	if (ret)
		return ret;
	rd_init(&r, out, len);
	rd_tpm2b(&r, NULL, 0);
	name->size = rd_tpm2b(&r, name->buf, sizeof(name->buf));
	return r.err;
}

/* policyDigest' = H(policyDigest || TPM_CC_PolicyCommandCode || code) */
void tpm2_policy_extend_cc(uint8_t *policy, uint32_t cc)
{
	struct tpm2_buf b;

	tpm2_buf_init(&b);
	tpm2_put_bytes(&b, policy, TPM2_DIGEST_SIZE);
	tpm2_put32(&b, TPM2_CC_POLICY_COMMAND_CODE);
	tpm2_put32(&b, cc);
	tpm2_sha256(b.data, b.len, policy);
}

/* policyDigest' = H(policyDigest || TPM_CC_PolicyPCR || pcrs || H(pcr)) */
void tpm2_policy_extend_pcr(uint8_t *policy, unsigned int pcr,
			    const uint8_t *pcr_value)
{
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_buf b;

	tpm2_sha256(pcr_value, TPM2_DIGEST_SIZE, digest);
	tpm2_buf_init(&b);
	tpm2_put_bytes(&b, policy, TPM2_DIGEST_SIZE);
	tpm2_put32(&b, TPM2_CC_POLICY_PCR);
	put_pcr_select(&b, pcr);
	tpm2_put_bytes(&b, digest, TPM2_DIGEST_SIZE);
	tpm2_sha256(b.data, b.len, policy);
}

int tpm2_rc_is_rm_layer(uint32_t rc)
{
	return (rc & TPM2_RC_LAYER_MASK) == TPM2_RC_RESMGR_LAYER;
}

/*
 * A refusal to act on a handle or session that is not the caller's: any
 * error in the resource manager layer, or a TPM-layer format-one
 * TPM_RC_HANDLE or TPM_RC_VALUE error (for any handle, parameter or
 * session index).
 */
int tpm2_rc_is_handle_refusal(uint32_t rc)
{
	uint32_t base = rc & 0xFFFF;

	if (!rc)
		return 0;
	if (tpm2_rc_is_rm_layer(rc))
		return base != 0;
	if (rc & TPM2_RC_LAYER_MASK)
		return 0;
	if (!(base & TPM2_RC_FMT1))
		return 0;
	base &= 0x3F;
	return base == (TPM2_RC_HANDLE & 0x3F) || base == (TPM2_RC_VALUE & 0x3F);
}

static const char *rm_dir(void)
{
	const char *dir = getenv("TPM2_RM_SYSFS");

	return dir ? dir : "/sys/class/tpm/tpm0/rm";
}

int tpm2_rm_has_counters(void)
{
	return access(rm_dir(), F_OK) == 0;
}

int tpm2_read_u64(const char *path, uint64_t *val)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*val = strtoull(buf, NULL, 0);
	return 0;
}

int tpm2_rm_counter(const char *name, uint64_t *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", rm_dir(), name);
	return tpm2_read_u64(path, val);
}

int tpm2_read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

ssize_t tpm2_hwrng_read(void *buf, size_t len)
{
	int fd = open("/dev/hwrng", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len);
	close(fd);
	return n;
}

int tpm2_ima_replay_pcr10(uint8_t *pcr)
{
	uint8_t *log = malloc(1 << 20), sha1[20], zero[20] = { 0 }, pair[64];
	size_t len = 0, off = 0;
	int fd, n;

	if (!log)
		return -ENOMEM;
	fd = open(TPM2_IMA_DIR "binary_runtime_measurements", O_RDONLY);
	if (fd < 0) {
		free(log);
		return -errno;
	}
	while ((n = read(fd, log + len, (1 << 20) - len)) > 0)
		len += n;
	close(fd);
	memset(pcr, 0, 32);
	while (off + 32 <= len) {
		uint32_t idx, nlen, dlen;

		memcpy(&idx, log + off, 4);
		memcpy(sha1, log + off + 4, 20);
		memcpy(&nlen, log + off + 24, 4);
		off += 28 + nlen;
		memcpy(&dlen, log + off, 4);
		off += 4;
		if (off + dlen > len)
			break;
		if (idx == 10) {
			memcpy(pair, pcr, 32);
			if (!memcmp(sha1, zero, 20))
				memset(pair + 32, 0xff, 32);	/* violation */
			else
				tpm2_sha256(log + off, dlen, pair + 32);
			tpm2_sha256(pair, 64, pcr);
		}
		off += dlen;
	}
	free(log);
	return off == len ? 0 : -EINVAL;
}

int tpm2_ima_policy_once(void)
{
	static int done;
	char rule[128];
	int fd, n;

	if (done)
		return 0;
	fd = open(TPM2_IMA_DIR "policy", O_WRONLY);
	if (fd < 0)
		return -errno;
	n = snprintf(rule, sizeof(rule),
		     "measure func=FILE_CHECK mask=MAY_READ fowner=%d\n",
		     TPM2_IMA_OWNER);
	n = write(fd, rule, n) == n ? 0 : -errno;
	close(fd);
	done = !n;
	return n;
}

int tpm2_ima_measure_files(const char *dir, unsigned int nr)
{
	static unsigned int seq;
	char path[256], data[64], buf[64];
	unsigned int i;
	int fd;

	for (i = 0; i < nr; i++) {
		snprintf(path, sizeof(path), "%s/m%u-%d", dir, seq++, getpid());
		fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		if (fd < 0)
			return -errno;
		tpm2_random(data, sizeof(data));
		if (write(fd, data, sizeof(data)) != sizeof(data)) {
			close(fd);
			return -EIO;
		}
		close(fd);
		if (chown(path, TPM2_IMA_OWNER, TPM2_IMA_OWNER))
			return -errno;
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return -errno;
		if (read(fd, buf, sizeof(buf)) < 0) {
			close(fd);
			return -errno;
		}
		close(fd);
	}
	return 0;
}

int tpm2_get_property(int fd, uint32_t prop, uint32_t *val)
{
	struct tpm2_rsp rsp;
	struct tpm2_buf p;
	const uint8_t *d;
	int ret;

	tpm2_buf_init(&p);
	tpm2_put32(&p, TPM2_CAP_TPM_PROPERTIES);
	tpm2_put32(&p, prop);
	tpm2_put32(&p, 1);
	ret = tpm2_exec(fd, TPM2_CC_GET_CAPABILITY, NULL, NULL, 0, 0, NULL, 0,
			p.data, p.len, &rsp);
	if (ret)
		return ret;
	/* moreData, capability, count, then (property, value) pairs */
	if (rsp.params_len < 1 + 4 + 4 + 8)
		return -EPROTO;
	d = &rsp.buf[rsp.params];
	if (tpm2_get32(d + 5) < 1 || tpm2_get32(d + 9) != prop)
		return -ENOENT;
	*val = tpm2_get32(d + 13);
	return 0;
}

int tpm2_ff_write(const char *file, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TPM2_FF_DIR "/%s", file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* The child of tpm2_open_as(): drop to @uid, open @path, send the fd. */
static void open_as_child(int sock, const char *name, uid_t uid, gid_t gid,
			  const char *path)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct msghdr msg = { 0 };
	struct cmsghdr *cmsg;
	struct iovec iov;
	int fd, err = 0;

	iov.iov_base = &err;
	iov.iov_len = sizeof(err);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if ((name ? initgroups(name, gid) : setgroups(1, &gid)) ||
	    setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
		err = errno ? errno : EPERM;
	fd = err ? -1 : open(path, O_RDWR);
	if (!err && fd < 0)
		err = errno;
	if (fd >= 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	_exit(sendmsg(sock, &msg, 0) < 0);
}

/* One fd (or the child's errno) from @sock: fd or -errno. */
static int open_as_recv(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr msg = { 0 };
	struct cmsghdr *cmsg;
	struct iovec iov;
	int err = EIO, fd = -1;

	iov.iov_base = &err;
	iov.iov_len = sizeof(err);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	if (recvmsg(sock, &msg, 0) < 0)
		return -errno;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg && cmsg->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd >= 0 ? fd : -(err ? err : EIO);
}

int tpm2_open_as(const char *name, unsigned int uid, const char *path)
{
	struct passwd *pw = getpwnam(name);
	int sv[2], fd, status;
	struct stat st;
	gid_t gid;
	pid_t pid;

	if (pw) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else {
		if (stat(path, &st))
			return -errno;
		gid = st.st_gid;
		name = NULL;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		fd = -errno;
		goto out_close;
	}
	if (!pid) {
		close(sv[0]);
		open_as_child(sv[1], name, uid, gid, path);
	}
	fd = open_as_recv(sv[0]);
	waitpid(pid, &status, 0);
out_close:
	close(sv[0]);
	close(sv[1]);
	return fd;
}

static int leak_list(int fd, uint32_t type, const char *what)
{
	uint32_t h[256];
	int n, i;

	n = tpm2_handles_by_type(fd, type, h, 256);
	for (i = 0; i < n; i++)
		fprintf(stderr, "# %s 0x%08x\n", what, h[i]);
	return n;
}

/*
 * A raw /dev/tpm0 command makes the RM save or flush what it keeps loaded,
 * so the raw device then sees what nobody can use: any transient object or
 * loaded session is a leak. A saved session is a leak unless the RM holds
 * it (held_sessions: a session a client saved and left behind). The RM's
 * own counts must agree: no object held, nothing resident.
 */
/*
 * The RM's counts of the kernel's contexts. 6.12's kernel flushes its null
 * key within each operation and keeps its HMAC session after PCR_Extend and
 * GetRandom until a raw /dev/tpm0 command ends it; hwrng's thread may start
 * a new one at any time.  So each try sends a raw command first, then reads
 * the counts, until both are 0, at most 20 times, 50 ms apart: a count that
 * never drops is a slot lost.
 */
static int leak_kernel_counts(struct tpm2_leak *l)
{
	uint32_t h[8];
	int i, raw;

	for (i = 0; i < 20; i++) {
		raw = tpm2_open(TPM2_RAW_DEV, 0);
		if (raw >= 0) {
			tpm2_handles_by_type(raw, TPM2_HT_LOADED_SESSION, h, 8);
			close(raw);
		}
		if (tpm2_rm_counter("kernel_objects", &l->kernel_objects) ||
		    tpm2_rm_counter("kernel_sessions", &l->kernel_sessions))
			return 0;
		if (!l->kernel_objects && !l->kernel_sessions)
			break;
		usleep(50000);
	}
	return 1;
}

int tpm2_leak_audit(struct tpm2_leak *l)
{
	int raw;

	memset(l, 0, sizeof(*l));
	raw = tpm2_open(TPM2_RAW_DEV, 0);
	if (raw < 0)
		return raw;
	l->objects = leak_list(raw, TPM2_HT_TRANSIENT, "transient object");
	l->loaded = leak_list(raw, TPM2_HT_LOADED_SESSION, "loaded session");
	l->saved = leak_list(raw, TPM2_HT_SAVED_SESSION, "saved session");
	close(raw);
	if (l->objects < 0 || l->loaded < 0 || l->saved < 0)
		return -EIO;
	l->counters = !tpm2_rm_counter("held_objects", &l->held_objects) &&
		      !tpm2_rm_counter("held_sessions", &l->held_sessions) &&
		      !tpm2_rm_counter("resident_objects",
				       &l->resident_objects) &&
		      !tpm2_rm_counter("resident_sessions",
				       &l->resident_sessions);
	if (l->objects || l->loaded || (int)l->held_sessions < l->saved)
		return 1;
	l->kernel_counters = leak_kernel_counts(l);
	if (l->counters && (l->held_objects || l->resident_objects ||
			    l->resident_sessions))
		return 1;
	if (l->kernel_counters && (l->kernel_objects || l->kernel_sessions))
		return 1;
	return 0;
}

int tpm2_fault_ctl(int fd, uint32_t op, uint32_t cc, uint32_t nth,
		   uint32_t kind, uint32_t arg, struct tpm2_fault_status *st)
{
	uint8_t rsp[64];
	struct tpm2_buf b;
	int ret;

	tpm2_buf_init(&b);
	tpm2_put16(&b, TPM2_ST_NO_SESSIONS);
	tpm2_put32(&b, 32);
	tpm2_put32(&b, TPM2_CC_GET_RANDOM);
	tpm2_put16(&b, TPM2_FAULT_TUNNEL);
	tpm2_put32(&b, op);
	tpm2_put32(&b, cc);
	tpm2_put32(&b, nth);
	tpm2_put32(&b, kind);
	tpm2_put32(&b, arg);
	ret = tpm2_send(fd, b.data, b.len);
	if (!ret)
		ret = tpm2_recv(fd, rsp, sizeof(rsp));
	if (ret < 0)
		return ret;
	if (tpm2_get32(rsp + 6))
		return tpm2_get32(rsp + 6);
	if (ret != 32 || tpm2_get16(rsp + 10) != 20)
		return -EPROTO;
	if (st) {
		st->armed = tpm2_get32(rsp + 12);
		st->fired = tpm2_get32(rsp + 16);
		st->seen = tpm2_get32(rsp + 20);
		st->cc = tpm2_get32(rsp + 24);
		st->handle = tpm2_get32(rsp + 28);
	}
	return 0;
}
