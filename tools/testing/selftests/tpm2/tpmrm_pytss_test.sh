#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# An unmodified TSS client on the resource manager: a short tpm2-pytss
# (ESAPI) script through the device TCTI on /dev/tpmrm0 creates an ECC
# signing key, signs a digest under an HMAC session, verifies the
# signature, and checks that a changed digest does not verify.  Prints
# TAP; exit 4 skips.

ksft_skip=4
[ -e /dev/tpmrm0 ] || { echo "1..0 # SKIP /dev/tpmrm0 not present"; exit $ksft_skip; }
/usr/bin/python3 -c 'import tpm2_pytss' 2>/dev/null ||
	{ echo "1..0 # SKIP python3-tpm2-pytss not installed"; exit $ksft_skip; }

exec /usr/bin/python3 - <<'PY'
import sys
from tpm2_pytss import (ESAPI, TCTILdr, TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE,
                        TPM2B_DIGEST, TPMT_SIG_SCHEME, TPMT_TK_HASHCHECK,
                        TPMT_SYM_DEF, TPMA_OBJECT, TPMA_SESSION, TPM2_ALG,
                        TPM2_SE, TPM2_ST, TPM2_RH, ESYS_TR, TSS2_Exception)

n = 0
failed = 0


def check(name, cond, info=''):
    global n, failed
    n += 1
    print(('ok %d - %s' if cond else 'not ok %d - %s # %s') %
          ((n, name) if cond else (n, name, info)), flush=True)
    failed += not cond


print('1..5', flush=True)
ectx = ESAPI(TCTILdr('device', '/dev/tpmrm0'))
attrs = (TPMA_OBJECT.USERWITHAUTH | TPMA_OBJECT.SIGN_ENCRYPT |
         TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT |
         TPMA_OBJECT.SENSITIVEDATAORIGIN)
public = TPM2B_PUBLIC.parse('ecc256:ecdsa-sha256', objectAttributes=attrs)
key, out_public, _, _, _ = ectx.create_primary(TPM2B_SENSITIVE_CREATE(),
                                               public, ESYS_TR.OWNER)
check('ESAPI CreatePrimary of an ECC signing key',
      out_public.publicArea.type == TPM2_ALG.ECC)

session = ectx.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.HMAC,
                                  TPMT_SYM_DEF(algorithm=TPM2_ALG.NULL),
                                  TPM2_ALG.SHA256)
ectx.trsess_set_attributes(session, TPMA_SESSION.CONTINUESESSION)
check('HMAC session started', session != ESYS_TR.NONE)

digest = TPM2B_DIGEST(bytes(range(32)))
validation = TPMT_TK_HASHCHECK(tag=TPM2_ST.HASHCHECK,
                               hierarchy=TPM2_RH.NULL)
sigs = [ectx.sign(key, digest, TPMT_SIG_SCHEME(scheme=TPM2_ALG.NULL),
                  validation, session1=session) for _ in range(3)]
check('three signs under the HMAC session',
      all(s.sigAlg == TPM2_ALG.ECDSA for s in sigs))

try:
    ectx.verify_signature(key, digest, sigs[2])
    check('signature verifies', True)
except TSS2_Exception as e:
    check('signature verifies', False, str(e))

try:
    ectx.verify_signature(key, TPM2B_DIGEST(bytes(32)), sigs[2])
    check('a changed digest does not verify', False, 'it verified')
except TSS2_Exception:
    check('a changed digest does not verify', True)

ectx.flush_context(session)
ectx.flush_context(key)
ectx.close()
sys.exit(1 if failed else 0)
PY
