#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# pick.sh PERSONALITY SEED BOOT: the environment of one check boot.
# An explicit PERSONALITY wins ('none': no proxy); else the chip presets
# rotate by SEED, each boot of make check (BOOT = config-tpm) one further.
# The proxy's warnings are seeded with SEED plus the boot's offset.
pers=$1 seed=$2 boot=$3
case "$boot" in
minimal-tis) off=0 ;; minimal-crb) off=1 ;; debug-tis) off=2 ;; debug-crb) off=4 ;; *) off=3 ;;
esac
# make check rotates the chips on its two minimal boots; the debug boot,
# many times slower under TCG, gets swtpm's own values (the proxy changes
# nothing there but gives tpmrm_fault_matrix_test its fault control).  "tight" runs in
# check-extended only: 4 tpm2-tools steps send more than its 1024-byte
# maximum command (TPM_RC_COMMAND_SIZE, as such a chip answers).
case "$pers" in
none) pers= ;;
'') set -- slb9670 npct75x ptt
    shift $(( (seed + off) % $# ))
    pers=$1
    # every debug boot (make check's on tis, check-extended's matrix boot
    # on crb) gets swtpm's own values and the fault control
    case "$boot" in debug-*) pers=swtpm ;; esac
    # The hmac kernel's own ContextLoad of its null key is upstream code
    # that does not resend TPM_RC_YIELDED (tpm_transmit() resends RETRY and
    # TESTING only), and 6.12 disables the chip on that failure: the hmac
    # boot's chip gives the other warnings but not YIELDED.
    case "$boot" in hmac-*) pers=$pers,yielded=0 ;; esac ;;
esac
echo "PERSONALITY='$pers' PERSONALITY_SEED=$((seed + off))"
