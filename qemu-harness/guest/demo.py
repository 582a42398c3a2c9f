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
TPM2_SE_HMAC = 0x00
LOADED_SESSION = 0x02000000


def handles(client, first=TRANSIENT):
    return [hex(h) for h in client.get_cap(tpm2.TPM2_CAP_HANDLES, first)]


def view(client):
    return (f'keys {handles(client)}, '
            f'sessions {handles(client, LOADED_SESSION)}')


def client_main(name, nkeys):
    c = tpm2.Client(tpm2.Client.FLAG_SPACE)
    made = [hex(c.create_root_key()) for _ in range(nkeys)]
    session = c.start_auth_session(TPM2_SE_HMAC)
    print(f'{name}: created keys {made} and session {hex(session)}; '
          f'sees {view(c)}', flush=True)
    while True:
        line = sys.stdin.readline().split()
        if not line:
            return
        if line[0] == 'list':
            print(f'{name}: sees {view(c)}', flush=True)
            continue
        try:
            c.flush_context(int(line[1], 16))
            print(f'{name}: flushed {line[1]}, which it does not own: '
                  f'ISOLATION BROKEN', flush=True)
        except (tpm2.ProtocolError, OSError) as e:
            print(f'{name}: flushing {line[1]}, which it does not own: '
                  f'refused ({e})', flush=True)


def spawn(user, nkeys):
    return subprocess.Popen(['setpriv', f'--reuid={user}', f'--regid={user}',
                             '--init-groups', sys.executable, __file__,
                             'client', user, str(nkeys)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def ask(p, line):
    p.stdin.write(line + '\n')
    p.stdin.flush()
    out = p.stdout.readline()
    print(out, end='')
    return out


def main():
    alice = spawn('alice', 2)
    a = alice.stdout.readline()
    print(a, end='')
    bob = spawn('bob', 1)
    print(bob.stdout.readline(), end='')
    raw = tpm2.Client()
    print(f'root on raw /dev/tpm0: the TPM\'s transient area holds '
          f'{handles(raw)}')
    raw.close()
    ask(alice, 'list')
    ask(bob, 'list')
    alice_keys = a.split('keys ')[1].split(']')[0]
    alice_session = a.split('session ')[1].split(';')[0]
    ask(bob, 'flush ' + alice_keys.split(', ')[-1].strip("'[]"))
    ask(bob, 'flush ' + alice_session)
    ask(alice, 'list')
    for p in (alice, bob):
        p.stdin.close()
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
