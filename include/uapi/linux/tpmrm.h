/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * ioctl interface of the TPM 2.0 resource manager devices, /dev/tpmrmN.
 *
 * Commands and responses are exchanged with write(2) and read(2) as TPM 2.0
 * byte streams; the ioctls below change how the commands of one open file
 * are sent. See Documentation/security/tpm/tpm-rm.rst.
 */

#ifndef _UAPI_LINUX_TPMRM_H
#define _UAPI_LINUX_TPMRM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * TPMRM_LOCALITY_MAX - highest TPM locality an open file may choose
 *
 * A TPM 2.0 tells its callers apart by locality, 0 to 4 (TCG PC Client
 * Platform TPM Profile). Commands of a /dev/tpmrmN open file run at
 * locality 0 unless %TPMRM_IOC_SET_LOCALITY chose another one. Locality 4
 * belongs to the dynamic root of trust (the CPU's measured launch): user
 * space never gets it.
 */
#define TPMRM_LOCALITY_MAX	3

/**
 * TPMRM_IOC_MAGIC - ioctl type of /dev/tpmrmN
 *
 * Shared with the TPM proxy driver (<linux/vtpm_proxy.h>), which uses
 * number 0x00; /dev/tpmrmN uses the numbers 0x10 to 0x1f.
 */
#define TPMRM_IOC_MAGIC		0xa1

/**
 * TPMRM_IOC_SET_LOCALITY - run the later commands of this open file at a
 * locality
 *
 * The argument points to a __u32 locality, 0 to %TPMRM_LOCALITY_MAX. Every
 * command written to this open file after a successful call is sent to the
 * TPM at that locality; other open files, the raw /dev/tpmN and the kernel
 * keep locality 0. Locality 0 is always allowed. A higher locality needs
 * CAP_SYS_ADMIN in the initial user namespace at the time of the call: the
 * PCRs of localities 1-3 record a platform's trusted components, which
 * the members of a tss group must not be able to reset or extend. A
 * privileged process may set the locality and hand the open file to
 * another one. If the TPM stops granting the locality, the next write(2)
 * fails with %EOPNOTSUPP.
 *
 * The driver is asked for the locality once during the call, so a locality
 * it cannot provide is refused here rather than at the next write.
 *
 * Return:
 * * 0 - the locality is set
 * * -1 with errno %EINVAL - the locality is above %TPMRM_LOCALITY_MAX
 * * -1 with errno %EPERM - the caller lacks CAP_SYS_ADMIN
 * * -1 with errno %EOPNOTSUPP - the TPM driver cannot select localities
 *   (tpm_crb), or the TPM did not grant this one
 * * -1 with errno %EBUSY - an O_NONBLOCK command of this open file is
 *   still running
 * * -1 with errno %EPIPE - the TPM is gone
 * * -1 with errno %EFAULT - the argument is not readable
 */
#define TPMRM_IOC_SET_LOCALITY	_IOW(TPMRM_IOC_MAGIC, 0x10, __u32)

/**
 * TPMRM_IOC_GET_LOCALITY - read the locality of this open file
 *
 * The argument points to a __u32 that receives the locality the commands
 * of this open file run at: 0 after open(2), else the last one set with
 * %TPMRM_IOC_SET_LOCALITY.
 *
 * Return:
 * * 0 - the locality was stored
 * * -1 with errno %EFAULT - the argument is not writable
 */
#define TPMRM_IOC_GET_LOCALITY	_IOR(TPMRM_IOC_MAGIC, 0x11, __u32)

#endif /* _UAPI_LINUX_TPMRM_H */
