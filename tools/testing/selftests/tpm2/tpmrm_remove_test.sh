#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Removes a TPM chip while /dev/tpmrm files of it are open and hold
# objects and sessions: swtpm serves a vtpm_proxy chip, the test opens its
# tpmrm device, creates a key and a session, then stops swtpm so that the
# chip is unregistered.  The open file must then fail with EPIPE, close
# cleanly, and leave the kernel quiet (the harness checks the console for
# KASAN, WARN and friends).  Needs root; prints TAP; exit 4 skips.

ksft_skip=4
skip() {
	echo "1..0 # SKIP $1"
	exit $ksft_skip
}
[ "$(id -u)" = 0 ] || skip "needs root"
[ -c /dev/vtpmx ] || skip "no /dev/vtpmx (CONFIG_TCG_VTPM_PROXY)"
command -v swtpm >/dev/null || skip "swtpm not installed"

dir=$(mktemp -d) || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

swtpm chardev --vtpm-proxy --tpm2 --tpmstate dir="$dir" \
	--flags startup-clear --seccomp action=none > "$dir/swtpm.out" 2>&1 &
pid=$!
dev=
for _ in $(seq 100); do
	dev=$(sed -n 's|^New TPM device: /dev/tpm\([0-9]*\).*|\1|p' "$dir/swtpm.out")
	[ -n "$dev" ] && [ -c "/dev/tpmrm$dev" ] && break
	sleep 0.1
done
[ -n "$dev" ] && [ -c "/dev/tpmrm$dev" ] ||
	skip "vtpm_proxy chip did not appear: $(tr "\n" " " < "$dir/swtpm.out")"

export TPMRM_SELFTEST_DEV=/dev/tpmrm$dev TPMRM_SWTPM_PID=$pid
python3 - <<'PY'
import errno, os, signal, sys, time
sys.path.insert(0, os.getcwd())
import tpm2

n = 0
failed = 0
def check(name, cond, info=''):
    global n, failed
    n += 1
    print(('ok %d - %s' if cond else 'not ok %d - %s') % (n, name) +
          ('' if cond else ' (%s)' % info), flush=True)
    failed += not cond

def client():
    c = object.__new__(tpm2.Client)
    c.flags = tpm2.Client.FLAG_SPACE
    c.tpm = open(os.environ['TPMRM_SELFTEST_DEV'], 'r+b', buffering=0)
    return c

print('1..6', flush=True)
a, b = client(), client()
key = a.create_root_key()
check('key created on the proxy chip', key >> 24 == 0x80, hex(key))
session = b.start_auth_session(tpm2.TPM2_SE_POLICY)
check('session started on the proxy chip', session >> 24 == 0x03, hex(session))

os.kill(int(os.environ['TPMRM_SWTPM_PID']), signal.SIGTERM)
dev = os.environ['TPMRM_SELFTEST_DEV']
for _ in range(100):
    if not os.path.exists(dev):
        break
    time.sleep(0.1)
check('tpmrm node removed with the chip', not os.path.exists(dev))

def errno_of(f):
    try:
        f()
    except OSError as e:
        return e.errno
    return 0

rc = errno_of(lambda: a.flush_context(key))
check('command after removal fails with EPIPE', rc == errno.EPIPE,
      errno.errorcode.get(rc, rc))
rc = errno_of(lambda: b.get_cap(tpm2.TPM2_CAP_HANDLES, 0x80000000))
check('second open file also gets EPIPE', rc == errno.EPIPE,
      errno.errorcode.get(rc, rc))
a.close()
b.close()
check('both files closed after removal', True)
sys.exit(1 if failed else 0)
PY
