#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The `make run` demonstration, run in the guest.

As root it starts two unprivileged clients (alice, bob) through setpriv.
Each opens /dev/tpmrm0, creates primary keys, and lists the transient handles
it can see; then a raw /dev/tpm0 user lists the TPM's transient area.  It
uses the base tree's tools/testing/selftests/tpm2/tpm2.py for the commands.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ['TPMRM_SRC'],
                                'tools/testing/selftests/tpm2'))
import tpm2  # noqa: E402

TRANSIENT = 0x80000000


def handles(client):
    return [hex(h) for h in client.get_cap(tpm2.TPM2_CAP_HANDLES, TRANSIENT)]


def client_main(name, nkeys):
    c = tpm2.Client(tpm2.Client.FLAG_SPACE)
    made = [hex(c.create_root_key()) for _ in range(nkeys)]
    print(f'{name}: created {made}, sees {handles(c)}', flush=True)
    sys.stdin.readline()
    print(f'{name}: still sees {handles(c)}', flush=True)
    try:
        c.flush_context(int(sys.stdin.readline(), 16))
        print(f'{name}: flushed the other user\'s handle?! BUG', flush=True)
    except tpm2.ProtocolError as e:
        print(f'{name}: flushing a handle it does not own: refused ({e})',
              flush=True)


def spawn(user, nkeys):
    return subprocess.Popen(['setpriv', f'--reuid={user}', f'--regid={user}',
                             '--init-groups', sys.executable, __file__,
                             'client', user, str(nkeys)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def main():
    alice = spawn('alice', 2)
    print(alice.stdout.readline(), end='')
    bob = spawn('bob', 1)
    print(bob.stdout.readline(), end='')
    raw = tpm2.Client()
    print(f'root on raw /dev/tpm0: the TPM\'s transient area holds '
          f'{handles(raw)}')
    raw.close()
    for p in (alice, bob):
        p.stdin.write('\n')
        p.stdin.flush()
        print(p.stdout.readline(), end='')
    for p, victim in ((alice, '0x80000000'), (bob, '0x80000001')):
        p.stdin.write(victim + '\n')
        p.stdin.flush()
        print(p.stdout.readline(), end='')
        p.wait()
    rm = '/sys/class/tpm/tpm0/rm'
    if os.path.isdir(rm):
        for f in sorted(os.listdir(rm)):
            with open(os.path.join(rm, f)) as fh:
                print(f'counter {f}: {fh.read().strip()}')


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == 'client':
        client_main(sys.argv[2], int(sys.argv[3]))
    else:
        main()
