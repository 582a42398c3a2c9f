// SPDX-License-Identifier: GPL-2.0
/*
 * tpmbench's transport: the TSS TCTI API.  A file of its own because the
 * TSS headers and tpm2_lib.h define the same TPM2_* names differently.
 */
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tctildr.h>

#include "tcti.h"

uint32_t bench_tcti_init(const char *conf, void **ctx)
{
	TSS2_TCTI_CONTEXT *c = NULL;
	TSS2_RC rc = Tss2_TctiLdr_Initialize(conf, &c);

	*ctx = c;
	return rc;
}

void bench_tcti_fini(void *ctx)
{
	TSS2_TCTI_CONTEXT *c = ctx;

	Tss2_TctiLdr_Finalize(&c);
}

uint32_t bench_tcti_transmit(void *ctx, const void *cmd, size_t len)
{
	return Tss2_Tcti_Transmit((TSS2_TCTI_CONTEXT *)ctx, len, cmd);
}

uint32_t bench_tcti_receive(void *ctx, void *rsp, size_t *len)
{
	return Tss2_Tcti_Receive((TSS2_TCTI_CONTEXT *)ctx, len, rsp,
				 TSS2_TCTI_TIMEOUT_BLOCK);
}
