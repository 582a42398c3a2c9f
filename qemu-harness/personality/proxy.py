#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""tpm-personality proxy: QEMU's -tpmdev emulator <-> swtpm, with a chip's
personality on the data path.

  proxy.py --listen SOCK --swtpm SWTPM_CTRL_SOCK --personality SPEC
           [--seed N] [--stats FILE] [--log FILE]

QEMU connects to SOCK as it would to swtpm's control channel (unixio).
Control messages are relayed to swtpm unchanged, except that the data
channel QEMU hands over with CMD_SET_DATAFD (an fd in SCM_RIGHTS) is kept
here and swtpm gets one end of a socketpair of ours instead.  Every TPM
command then passes through personality.Filter.  CMD_INIT (a TPM reset)
resets the filter.  A late answer (fault control) is held until QEMU sends
CMD_CANCEL_TPM_CMD, which tpm_tis and tpm_crb do when the guest's driver
gives up on the command, or its next command, or the fault's upper bound
has passed; the cancel is relayed to swtpm as well.  The proxy ends when QEMU closes the control channel;
its counters go to --stats (JSON) then and every second while they change.
"""

import argparse
import array
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import personality  # noqa: E402

CMD_INIT = 2
CMD_CANCEL_TPM_CMD = 9


class Proxy:
    """One QEMU control connection and the data channel it sets up."""

    def __init__(self, args, values):
        self.args = args
        self.lock = threading.Lock()
        self.tpm = None             # our end toward swtpm's data fd
        self.qemu = None            # QEMU's data fd
        # one byte per CMD_CANCEL_TPM_CMD from QEMU, to end a held answer
        self.cancel_r, self.cancel_w = socket.socketpair()
        self.cancel_r.setblocking(False)
        self.filter = personality.Filter(values, self.backend,
                                         seed=args.seed, quiet_selftests=2,
                                         hold=self.hold)
        self.reset_pending = False
        self.dirty = True

    def backend(self, cmd):
        """Send @cmd to swtpm's data channel; its answer."""
        self.tpm.sendall(cmd)
        rsp = personality.recv_tpm_sock(self.tpm)
        if rsp is None:
            raise EOFError('swtpm closed the data channel')
        return rsp

    def hold(self, seconds):
        """Hold a late answer (Filter.hold) until QEMU cancels the command
        or sends the next one, at most @seconds; what ended the hold.

        Called from transmit() with the lock held: it lets go of it
        meanwhile, so that the control channel (CMD_INIT, the stats) goes on.
        """
        end = time.monotonic() + seconds
        self.lock.release()
        try:
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    return 'time'
                r, _, _ = select.select([self.cancel_r, self.qemu], [], [],
                                        left)
                if self.cancel_r in r:
                    return 'cancel'
                if self.qemu in r:
                    return 'command'
        finally:
            self.lock.acquire()

    def drain_cancels(self):
        """Forget cancels that came before this command: not for it."""
        try:
            while self.cancel_r.recv(64):
                pass
        except BlockingIOError:
            pass

    def serve_data(self, qemu):
        """Commands from QEMU's data fd, one at a time, until it closes."""
        self.qemu = qemu
        try:
            while True:
                cmd = personality.recv_tpm_sock(qemu)
                if cmd is None:
                    return
                with self.lock:
                    self.drain_cancels()
                    if self.reset_pending:
                        self.filter.reset()
                        self.reset_pending = False
                    rsp = self.filter.transmit(cmd)
                    self.dirty = True
                qemu.sendall(rsp)
        except (OSError, EOFError) as e:
            log('data channel: %s' % e)

    def set_datafd(self, fds):
        """Keep QEMU's data fd; give swtpm a socketpair end of ours."""
        qemu = socket.socket(fileno=fds[0])
        for fd in fds[1:]:
            os.close(fd)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.tpm = ours
        threading.Thread(target=self.serve_data, args=(qemu,),
                         daemon=True).start()
        return theirs

    def relay(self, qemu_ctrl, swtpm_ctrl):
        """Relay control messages until QEMU closes its connection."""
        at_start = True
        while True:
            r, _, _ = select.select([qemu_ctrl, swtpm_ctrl], [], [], 1.0)
            self.write_stats()
            if qemu_ctrl in r:
                if not self.from_qemu(qemu_ctrl, swtpm_ctrl, at_start):
                    return
                at_start = False
            if swtpm_ctrl in r:
                data = swtpm_ctrl.recv(65536)
                if not data:
                    return
                qemu_ctrl.sendall(data)
                at_start = True

    def from_qemu(self, qemu_ctrl, swtpm_ctrl, at_start):
        """One chunk from QEMU to swtpm; False at end of file."""
        fds = array.array('i')
        data, anc, _, _ = qemu_ctrl.recvmsg(
            65536, socket.CMSG_SPACE(16 * fds.itemsize))
        if not data:
            return False
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[:len(payload) -
                                      len(payload) % fds.itemsize])
        if at_start and data[:4] == struct.pack('>I', CMD_INIT):
            with self.lock:
                self.reset_pending = True
        if at_start and data[:4] == struct.pack('>I', CMD_CANCEL_TPM_CMD):
            self.cancel_w.send(b'c')
        if fds:
            theirs = self.set_datafd(list(fds))
            swtpm_ctrl.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                         array.array('i', [theirs.fileno()]))])
            theirs.close()
        else:
            swtpm_ctrl.sendall(data)
        return True

    def write_stats(self, force=False):
        """The filter's counters as JSON, when they changed."""
        if not self.args.stats or not (self.dirty or force):
            return
        with self.lock:
            stats = dict(self.filter.stats)
            self.dirty = False
        stats['personality'] = self.args.personality
        stats['seed'] = self.args.seed
        tmp = self.args.stats + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(stats, f, indent=1, sort_keys=True)
        os.replace(tmp, self.args.stats)


LOG = None


def log(msg):
    if LOG:
        LOG.write('proxy: %s\n' % msg)
        LOG.flush()


def main():
    global LOG
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--listen', required=True)
    ap.add_argument('--swtpm', required=True)
    ap.add_argument('--personality', default='swtpm')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--stats')
    ap.add_argument('--log')
    args = ap.parse_args()
    try:
        values = personality.parse(args.personality)
    except ValueError as e:
        sys.exit('proxy: %s' % e)
    LOG = open(args.log, 'a') if args.log else sys.stderr
    log('personality %s seed %d: %s' % (args.personality, args.seed,
                                        json.dumps(values, sort_keys=True)))
    proxy = Proxy(args, values)
    # PERSONALITY_TRACE=1 logs every command, =ctx the context commands
    # (ContextLoad with the saved sequence, ContextSave with the new one,
    # FlushContext); emulated 0x901s and regaps are logged always
    trace = os.environ.get('PERSONALITY_TRACE')
    if trace:
        proxy.filter.trace = log
        if trace == 'ctx':
            proxy.filter.trace_ccs = personality.CTX_CCS
    proxy.filter.note = log
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args.listen)
    srv.listen(1)
    try:
        qemu_ctrl, _ = srv.accept()
        swtpm_ctrl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        swtpm_ctrl.connect(args.swtpm)
        proxy.relay(qemu_ctrl, swtpm_ctrl)
    finally:
        proxy.write_stats(force=True)
        log('stats: %s' % json.dumps(proxy.filter.stats, sort_keys=True))


if __name__ == '__main__':
    main()
