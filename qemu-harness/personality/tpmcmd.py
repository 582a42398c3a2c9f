# SPDX-License-Identifier: GPL-2.0
"""Raw TPM 2.0 commands and a QEMU-like client of swtpm's control channel,
for the personality layer's tests (test_personality.py)."""

import json
import os
import socket
import struct
import subprocess
import tempfile
import time

from personality import CC, ST_SESSIONS, command, header, recv_tpm_sock

RH_OWNER = 0x40000001
RH_NULL = 0x40000007
RS_PW = 0x40000009
# A password session with an empty password.
PW_AUTH = struct.pack('>IHBH', RS_PW, 0, 0, 0)
CMD_INIT = 2
CMD_CANCEL_TPM_CMD = 9
CMD_SET_DATAFD = 16


def startup():
    return command(CC['Startup'], struct.pack('>H', 0))


def get_props(first=0x100, count=64):
    return command(CC['GetCapability'], struct.pack('>III', 6, first, count))


def get_handles(first):
    return command(CC['GetCapability'], struct.pack('>III', 1, first, 64))


def start_hmac_session():
    """StartAuthSession: unbound, unsalted HMAC session, SHA-256."""
    params = struct.pack('>H', 16) + b'\x01' * 16       # nonceCaller
    params += struct.pack('>H', 0)                      # encryptedSalt
    params += struct.pack('>BHH', 0, 0x10, 0x0B)        # HMAC, sym NULL
    return command(CC['StartAuthSession'], params,
                   struct.pack('>II', 0x40000007, 0x40000007))


def context_save(handle):
    return command(CC['ContextSave'], b'', struct.pack('>I', handle))


def context_load(ctx):
    return command(CC['ContextLoad'], ctx)


def flush(handle):
    return command(CC['FlushContext'], struct.pack('>I', handle))


def ecc_template():
    return struct.pack('>HHIH', 0x23, 0x0B, 0x00040072, 0) + \
        struct.pack('>HHHHHHH', 0x10, 0x18, 0x0B, 3, 0x10, 0, 0)


def rsa_template():
    return struct.pack('>HHIH', 0x01, 0x0B, 0x00040072, 0) + \
        struct.pack('>HHHHI', 0x10, 0x14, 0x0B, 2048, 0) + \
        struct.pack('>H', 0)


def create_primary(template):
    params = struct.pack('>HHH', 4, 0, 0)               # inSensitive
    params += struct.pack('>H', len(template)) + template
    params += struct.pack('>HI', 0, 0)                  # outsideInfo, PCRs
    return _sess(CC['CreatePrimary'], struct.pack('>I', RH_OWNER), params)


def _sess(cc, handles, params):
    body = handles + struct.pack('>I', len(PW_AUTH)) + PW_AUTH + params
    return struct.pack('>HII', ST_SESSIONS, 10 + len(body), cc) + body


def sign(key):
    params = struct.pack('>H', 32) + b'\x42' * 32
    params += struct.pack('>H', 0x10)                   # scheme: key's
    params += struct.pack('>HIH', 0x8024, RH_NULL, 0)   # validation
    return _sess(CC['Sign'], struct.pack('>I', key), params)


def rc(rsp):
    return header(rsp)[2]


def u32(buf, off):
    return struct.unpack('>I', buf[off:off + 4])[0]


class Swtpm:
    """A fresh swtpm, optionally behind the proxy, driven as QEMU does."""

    def __init__(self, personality=None, seed=0, proxy=None):
        self.dir = tempfile.mkdtemp(prefix='tpm-personality-')
        os.mkdir(os.path.join(self.dir, 'state'))
        ctrl = os.path.join(self.dir, 'swtpm.sock')
        self.procs = [subprocess.Popen(
            ['swtpm', 'socket', '--tpm2', '--tpmstate',
             'dir=' + os.path.join(self.dir, 'state'),
             '--ctrl', 'type=unixio,path=' + ctrl])]
        wait_socket(ctrl)
        self.stats = os.path.join(self.dir, 'stats.json')
        if personality is not None:
            listen = os.path.join(self.dir, 'proxy.sock')
            self.procs.append(subprocess.Popen(
                ['python3', proxy, '--listen', listen, '--swtpm', ctrl,
                 '--personality', personality, '--seed', str(seed),
                 '--stats', self.stats]))
            wait_socket(listen)
            ctrl = listen
        self.ctrl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ctrl.connect(ctrl)
        self.data, theirs = socket.socketpair()
        assert self.ctrl_cmd(CMD_INIT, struct.pack('>I', 0)) == 0
        self.ctrl.sendmsg([struct.pack('>I', CMD_SET_DATAFD)],
                          [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                            struct.pack('i', theirs.fileno()))])
        assert u32(self.ctrl.recv(4), 0) == 0
        theirs.close()

    def ctrl_cmd(self, code, payload):
        self.ctrl.sendall(struct.pack('>I', code) + payload)
        return u32(self.ctrl.recv(4), 0)

    def tx(self, cmd):
        self.data.sendall(cmd)
        return recv_tpm_sock(self.data)

    def close(self):
        self.data.close()
        self.ctrl.close()
        # every process is stopped, also when one does not end in time (a
        # proxy stuck in a held answer): a swtpm left behind keeps the
        # TAP pipe of make check open
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.stats_data = None
        if os.path.exists(self.stats):
            with open(self.stats) as f:
                self.stats_data = json.load(f)
        subprocess.call(['rm', '-rf', self.dir])


def wait_socket(path):
    for _ in range(200):
        if os.path.exists(path):
            return
        time.sleep(0.025)
    raise RuntimeError('no socket at %s' % path)
