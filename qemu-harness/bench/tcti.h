/* SPDX-License-Identifier: GPL-2.0 */
/* tpmbench's TCTI calls (tcti.c); return the TSS's TSS2_RC, 0 on success. */
#ifndef BENCH_TCTI_H
#define BENCH_TCTI_H
#include <stddef.h>
#include <stdint.h>

uint32_t bench_tcti_init(const char *conf, void **ctx);
void bench_tcti_fini(void *ctx);
uint32_t bench_tcti_transmit(void *ctx, const void *cmd, size_t len);
uint32_t bench_tcti_receive(void *ctx, void *rsp, size_t *len);
#endif
