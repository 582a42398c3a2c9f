#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of the personality layer (make check runs them, on the host).

FilterTest drives personality.Filter with a fake TPM; SwtpmTest runs
proxy.py between a QEMU-like client and a real swtpm.
"""

import os
import select
import shutil
import struct
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import personality as P  # noqa: E402
import tpmcmd as T       # noqa: E402

PROXY = os.path.join(HERE, 'proxy.py')


class FakeTpm:
    """Just enough of a TPM: sessions with a context counter, handles,
    swtpm's properties.  Records every command it gets."""

    PROPS = {0x10E: 3, 0x110: 3, 0x111: 64, 0x114: 0xFFFF, 0x11E: 4096,
             0x11F: 4096, 0x121: 2692, 0x122: 404}

    def __init__(self):
        self.log = []
        self.counter = 100
        self.loaded = set()
        self.saved = set()
        self.objects = []

    def ok(self, body=b'', tag=P.ST_NO_SESSIONS):
        return struct.pack('>HII', tag, 10 + len(body), 0) + body

    def __call__(self, cmd):
        self.log.append(cmd)
        if not P.header(cmd):
            return P.rc_response(0x95)
        cc = P.header(cmd)[2]
        if cc == P.CC['ContextSave']:
            h = T.u32(cmd, 10)
            self.loaded.discard(h)
            self.saved.add(h)
            self.counter += 1
            return self.ok(struct.pack('>QIIH', self.counter - 1, h,
                                       0x40000007, 4) + b'blob')
        if cc == P.CC['ContextLoad']:
            h = T.u32(cmd, 18)
            self.saved.discard(h)
            self.loaded.add(h)
            return self.ok(struct.pack('>I', h))
        if cc == P.CC['GetCapability'] and T.u32(cmd, 10) == 6:
            items = sorted(self.PROPS.items())
            body = struct.pack('>BII', 0, 6, len(items))
            for k, v in items:
                body += struct.pack('>II', k, v)
            return self.ok(body)
        if cc == P.CC['GetCapability'] and T.u32(cmd, 10) == 1:
            first = T.u32(cmd, 14)
            hs = {0x80: self.objects, 0x02: sorted(self.loaded),
                  0x03: sorted(self.saved)}[first >> 24]
            return self.ok(struct.pack('>BII', 0, 1, len(hs)) +
                           b''.join(struct.pack('>I', h) for h in hs))
        return self.ok()


def make(spec, seed=0):
    tpm = FakeTpm()
    return P.Filter(P.parse(spec), tpm, seed=seed), tpm


def getrandom(n=8):
    return P.command(0x17B, struct.pack('>H', n))


class ParseTest(unittest.TestCase):
    def test_presets(self):
        for name, want in (('slb9670', (3, 3, 0xFFFF, 1280)),
                           ('npct75x', (5, 5, 0xFF, 2048)),
                           ('ptt', (3, 3, 0xFFFF, 3968)),
                           ('tight', (3, 3, 0x40, 1024))):
            v = P.parse(name)
            self.assertEqual((v['transient'], v['loaded'], v['gap'],
                              v['max_command']), want, name)
        self.assertEqual(P.parse('tight')['retry'], 0.05)
        self.assertEqual(P.parse('swtpm'), {'name': 'swtpm'})

    def test_free_parameters(self):
        v = P.parse('npct75x,gap=0x80,retry=2%,latency=spi')
        self.assertEqual((v['gap'], v['retry'], v['latency'],
                          v['max_command']), (0x80, 0.02, 'spi', 2048))
        v = P.parse('transient=2,max_command=512')
        self.assertEqual((v['name'], v['transient'], v['max_command']),
                         ('custom', 2, 512))

    def test_bad_input(self):
        for bad in ('nochip', 'slb9670,gap', 'slb9670,colour=1',
                    'retry=1.5', 'retry=60%,yielded=60%', 'latency=usb',
                    'gap=zz'):
            with self.assertRaises(ValueError, msg=bad):
                P.parse(bad)

    def test_slots_capped_at_swtpm(self):
        v = P.parse('npct75x')
        self.assertEqual(P.reported(v, 'transient'), 3)
        self.assertEqual(P.reported(v, 'gap'), 0xFF)
        self.assertEqual(P.reported(P.parse('transient=2'), 'transient'), 2)
        self.assertIsNone(P.reported(P.parse('swtpm'), 'gap'))


class FilterTest(unittest.TestCase):
    def props(self, f):
        rsp = f.transmit(T.get_props())
        n = T.u32(rsp, 15)
        return {T.u32(rsp, 19 + 8 * i): T.u32(rsp, 23 + 8 * i)
                for i in range(n)}

    def test_props_reported(self):
        f, _ = make('slb9670,retry=0,testing=0,yielded=0')
        self.assertEqual(self.props(f), {
            0x10E: 3, 0x110: 3, 0x111: 64, 0x114: 0xFFFF, 0x11E: 1280,
            0x11F: 1280, 0x121: 952, 0x122: 235})
        f, _ = make('npct75x,retry=0,testing=0,yielded=0')
        self.assertEqual(self.props(f)[0x114], 0xFF)
        self.assertEqual(self.props(f)[0x10E], 3)

    def test_swtpm_changes_nothing(self):
        f, tpm = make('swtpm')
        plain = FakeTpm()
        for cmd in (T.get_props(), getrandom(), T.start_hmac_session(),
                    T.context_save(0x02000000), T.flush(0x02000000),
                    b'\x80\x01\x00\x00\x00\x0c', b'\x80'):
            self.assertEqual(f.transmit(cmd), plain(cmd))
        self.assertEqual(tpm.log, plain.log)

    def test_command_size(self):
        f, tpm = make('slb9670,retry=0,testing=0,yielded=0')
        big = P.command(0x17B, b'\0' * (1280 - 10))
        self.assertEqual(P.header(f.transmit(big))[2], 0)
        rsp = f.transmit(P.command(0x17B, b'\0' * (1281 - 10)))
        self.assertEqual(P.header(rsp)[2], P.RC_COMMAND_SIZE)
        self.assertEqual(len(tpm.log), 1)
        self.assertEqual(f.stats['command_size'], 1)
        ctx = struct.pack('>QIIH', 1, 0x80000000, 0x40000001, 1400)
        rsp = f.transmit(T.context_load(ctx + b'\0' * 1400))
        self.assertEqual(P.header(rsp)[2], 0)

    def test_gap(self):
        f, tpm = make('gap=8')
        old, churn = 0x02000000, 0x02000001
        s = f.transmit(T.context_save(old))
        first = struct.unpack('>Q', s[10:18])[0]
        seen = []
        for _ in range(12):
            rsp = f.transmit(T.context_save(churn))
            code = P.header(rsp)[2]
            if code:
                seen.append(code)
                break
            seq = struct.unpack('>Q', rsp[10:18])[0]
            self.assertLessEqual(seq - first, 8)
            f.transmit(T.context_load(rsp[10:]))
        # the save whose sequence is 9 past the oldest is refused...
        self.assertEqual(seen, [P.RC_CONTEXT_GAP])
        self.assertEqual(tpm.counter - 1 - first, 9)
        # ...and undone: the session is loaded again, not saved
        self.assertIn(churn, tpm.loaded)
        self.assertEqual(P.header(tpm.log[-1])[2], P.CC['ContextLoad'])
        self.assertEqual(f.stats['gap_errors'], 1)
        # regap: load the oldest and save it again; churn goes on
        f.transmit(T.context_load(s[10:]))
        self.assertEqual(P.header(f.transmit(T.context_save(old)))[2], 0)
        self.assertEqual(P.header(f.transmit(T.context_save(churn)))[2], 0)

    def test_regaps_counted(self):
        f, tpm = make('gap=4')
        old, x = 0x02000000, 0x02000001
        octx = f.transmit(T.context_save(old))[10:]
        xctx = f.transmit(T.context_save(x))[10:]
        # x loaded for a command, then saved: no resave
        f.transmit(T.context_load(xctx))
        f.transmit(getrandom())
        xctx = f.transmit(T.context_save(x))[10:]
        self.assertEqual(f.stats['resaves'], 0)
        # the oldest loaded and saved straight back, no 0x901 before: a
        # resave (a client's own ContextSave looks the same), no regap
        f.transmit(T.context_load(octx))
        octx = f.transmit(T.context_save(old))[10:]
        self.assertEqual((f.stats['resaves'], f.stats['regaps']), (1, 0))
        # x churns until its save is refused (0x901), then the oldest is
        # loaded and saved back, its save warned and resent: one regap
        for _ in range(10):
            f.transmit(T.context_load(xctx))
            f.transmit(getrandom())
            rsp = f.transmit(T.context_save(x))
            if P.header(rsp)[2]:
                break
            xctx = rsp[10:]
        self.assertEqual(P.header(rsp)[2], P.RC_CONTEXT_GAP)
        notes = []
        f.note = notes.append
        f.transmit(T.context_load(octx))
        f.v['retry'] = 1
        self.assertEqual(P.header(f.transmit(T.context_save(old)))[2],
                         P.RC_RETRY)
        f.v['retry'] = 0
        octx = f.transmit(T.context_save(old))[10:]
        self.assertEqual((f.stats['resaves'], f.stats['regaps']), (2, 1))
        self.assertEqual(len(notes), 1)
        self.assertTrue(notes[0].startswith('regap 02000000'), notes)
        # a command the chip refused (too big) between: no resave
        f.v['max_command'] = 64
        f.transmit(T.context_load(octx))
        self.assertEqual(P.header(f.transmit(P.command(
            0x17B, struct.pack('>H', 8) + b'\0' * 64)))[2],
            P.RC_COMMAND_SIZE)
        f.transmit(T.context_save(old))
        del f.v['max_command']
        self.assertEqual(f.stats['resaves'], 2)
        # an object's load and save, or a load and a flush: none
        f.transmit(T.context_load(struct.pack('>QIIH', 7, 0x80000001,
                                              0x40000007, 4) + b'blob'))
        f.transmit(T.context_save(0x80000001))
        f.transmit(T.flush(x))
        self.assertEqual((f.stats['resaves'], f.stats['regaps']), (2, 1))

    def test_gap_keeps_last_slot_for_oldest(self):
        f, tpm = make('gap=4')
        old, x, y = 0x02000000, 0x02000001, 0x02000002
        octx = f.transmit(T.context_save(old))[10:]
        yctx = f.transmit(T.context_save(y))[10:]
        for _ in range(2):              # x saved 2, 3 past old
            f.transmit(T.context_load(f.transmit(T.context_save(x))[10:]))
        self.assertFalse(f.gap_maxed())
        xctx = f.transmit(T.context_save(x))[10:]
        self.assertTrue(f.gap_maxed())
        tpm.loaded = {0x02000010, 0x02000011}       # one slot free
        self.assertEqual(P.header(f.transmit(T.context_load(yctx)))[2],
                         P.RC_CONTEXT_GAP)
        self.assertEqual(P.header(f.transmit(T.start_hmac_session()))[2],
                         P.RC_CONTEXT_GAP)
        tpm.loaded = {0x02000010}                   # two free
        self.assertEqual(P.header(f.transmit(T.context_load(xctx)))[2], 0)
        tpm.loaded = {0x02000010, 0x02000011}
        self.assertEqual(P.header(f.transmit(T.context_load(octx)))[2], 0)
        self.assertFalse(f.gap_maxed())
        self.assertEqual(f.stats['gap_errors'], 2)

    def test_gap_flush_and_reset(self):
        for forget in ('flush', 'reset', 'startup'):
            f, _ = make('gap=2')
            f.transmit(T.context_save(0x02000000))
            if forget == 'flush':
                f.transmit(T.flush(0x02000000))
            elif forget == 'reset':
                f.reset()
            else:
                f.transmit(T.startup())
            for _ in range(6):
                rsp = f.transmit(T.context_save(0x02000001))
                self.assertEqual(P.header(rsp)[2], 0, forget)
                f.transmit(T.context_load(rsp[10:]))

    def test_gap_objects_ignored(self):
        f, _ = make('gap=1')
        f.transmit(T.context_save(0x02000000))
        for _ in range(4):
            self.assertEqual(P.header(
                f.transmit(T.context_save(0x80000001)))[2], 0)

    def injections(self, spec, seed, cmds):
        f, _ = make(spec, seed)
        return [P.header(f.transmit(c))[2] for c in cmds], f

    def test_injection_reproducible(self):
        cmds = [getrandom()] * 2000
        a, _ = self.injections('retry=0.05,testing=0.02', 7, cmds)
        b, _ = self.injections('retry=0.05,testing=0.02', 7, cmds)
        c, _ = self.injections('retry=0.05,testing=0.02', 8, cmds)
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)
        # 2000 draws at 5% and 2%: binomial, far beyond 6 sigma otherwise
        self.assertTrue(60 <= a.count(P.RC_RETRY) <= 140, a.count(0x922))
        self.assertTrue(15 <= a.count(P.RC_TESTING) <= 65)
        self.assertEqual(set(a), {0, P.RC_RETRY, P.RC_TESTING})

    def test_injection_scope(self):
        rcs, _ = self.injections('yielded=0.5', 1, [getrandom()] * 200)
        self.assertEqual(set(rcs), {0})
        rcs, _ = self.injections('yielded=0.5', 1,
                                 [T.flush(0x80000000)] * 200)
        self.assertIn(P.RC_YIELDED, rcs)
        rcs, _ = self.injections('yielded=0.5,warn_cc=all', 1,
                                 [getrandom()] * 200)
        self.assertIn(P.RC_YIELDED, rcs)
        rcs, _ = self.injections('retry=1', 1, [T.startup()] * 20)
        self.assertEqual(set(rcs), {0})

    def test_quiet_until_kernel(self):
        tpm = FakeTpm()
        f = P.Filter(P.parse('retry=1'), tpm, quiet_selftests=2)
        selftest = P.command(P.CC['SelfTest'], b'\x01')
        rcs = [P.header(f.transmit(c))[2] for c in
               (getrandom(), selftest, getrandom(), selftest, getrandom())]
        self.assertEqual(rcs, [0, 0, 0, 0, P.RC_RETRY])
        f.reset()
        self.assertEqual(P.header(f.transmit(getrandom()))[2], 0)

    def test_retried_counted(self):
        f, tpm = make('retry=1')
        f.v['retry'] = 1
        self.assertEqual(P.header(f.transmit(getrandom()))[2], P.RC_RETRY)
        f.v['retry'] = 0
        self.assertEqual(P.header(f.transmit(getrandom()))[2], 0)
        self.assertEqual(f.stats['injected'], {'0x17b:0x922': 1})
        self.assertEqual(f.stats['retried'], {'0x17b:0x922': 1})
        self.assertEqual(len(tpm.log), 1)

    def test_slots(self):
        f, tpm = make('transient=2,loaded=1,active=2')
        tpm.objects = [0x80000000]
        self.assertEqual(P.header(f.transmit(
            T.create_primary(T.ecc_template())))[2], 0)
        tpm.objects = [0x80000000, 0x80000001]
        self.assertEqual(P.header(f.transmit(
            T.create_primary(T.ecc_template())))[2], P.RC_OBJECT_MEMORY)
        ctx = struct.pack('>QIIH', 1, 0x80000002, 0x40000001, 0)
        self.assertEqual(P.header(f.transmit(T.context_load(ctx)))[2],
                         P.RC_OBJECT_MEMORY)
        self.assertEqual(P.header(f.transmit(T.start_hmac_session()))[2], 0)
        tpm.loaded = {0x02000000}
        self.assertEqual(P.header(f.transmit(T.start_hmac_session()))[2],
                         P.RC_SESSION_MEMORY)
        tpm.loaded, tpm.saved = set(), {0x02000000, 0x02000001}
        self.assertEqual(P.header(f.transmit(T.start_hmac_session()))[2],
                         P.RC_SESSION_HANDLES)
        self.assertEqual((f.stats['object_memory'],
                          f.stats['session_memory'],
                          f.stats['session_handles']), (2, 1, 1))

    def test_slots_at_swtpm_ask_nothing(self):
        f, tpm = make('slb9670,retry=0,testing=0,yielded=0')
        f.transmit(T.create_primary(T.ecc_template()))
        f.transmit(T.start_hmac_session())
        self.assertEqual(len(tpm.log), 2)

    def test_latency(self):
        slept = []
        for spec, cmd, rsp_body, want in (
                ('latency=spi', T.sign(0x80000000), struct.pack(
                    '>IH', 0, 0x18), 0.060),
                ('latency=spi', T.sign(0x80000000), struct.pack(
                    '>IH', 0, 0x14), 0.150),
                ('latency=i2c', T.context_save(0x80000000), b'', 0.040),
                ('latency=spi', T.flush(0x80000000), b'', 0.002),
                ('latency=spi', getrandom(), b'', 0.003),
                ('latency=spi', T.create_primary(T.rsa_template()),
                 struct.pack('>IIHH', 0x80000000, 0, 10, 1), 2.0),
                ('latency=spi', T.create_primary(T.ecc_template()),
                 struct.pack('>IIHH', 0x80000000, 0, 10, 0x23), 0.2)):
            rsp = struct.pack('>HII', P.ST_SESSIONS, 10 + len(rsp_body),
                              0) + rsp_body
            now = [0.0]

            def backend(_cmd, rsp=rsp):
                now[0] += 0.001
                return rsp
            f = P.Filter(P.parse(spec), backend, sleep=slept.append,
                         clock=lambda: now[0])
            slept.clear()
            f.transmit(cmd)
            self.assertAlmostEqual(sum(slept), want - 0.001, places=6,
                                   msg=spec)
        f, _ = make('slb9670')
        self.assertEqual(f.latency_ms(P.CC['Sign'], b''), 0)


def fault_ctl(op, cc=0, nth=1, kind=P.FAULT_RC, arg=0):
    return P.command(P.CC_FAULT_CTL, struct.pack('>5I', op, cc, nth, kind,
                                                 arg))


def fault_status(rsp):
    """(armed, fired, seen, fired cc, fired handle) of a control answer."""
    return struct.unpack('>5I', rsp[10:30])


class FaultControlTest(unittest.TestCase):
    """The in-band control: one chosen fault on the nth next command."""

    def test_rc_on_nth(self):
        f, tpm = make('swtpm')
        sign = P.CC['Sign']
        rsp = f.transmit(fault_ctl(P.FAULT_OP_ARM, sign, 2, P.FAULT_RC,
                                   P.RC_RETRY))
        self.assertEqual(T.rc(rsp), 0)
        self.assertEqual(fault_status(rsp), (1, 0, 0, 0, 0))
        self.assertEqual(len(tpm.log), 0)       # never sent to the TPM
        f.transmit(getrandom())                 # another code: not counted
        self.assertEqual(T.rc(f.transmit(T.sign(0x80000001))), 0)
        self.assertEqual(T.rc(f.transmit(T.sign(0x80000002))), P.RC_RETRY)
        self.assertEqual(len(tpm.log), 2)       # the faulted one not run
        self.assertEqual(T.rc(f.transmit(T.sign(0x80000003))), 0)
        st = fault_status(f.transmit(fault_ctl(P.FAULT_OP_STATUS)))
        self.assertEqual(st, (0, 1, 2, sign, 0x80000002))
        self.assertEqual(f.stats['faults'], {'0x15d:1:0x922': 1})

    def test_context_load_names_saved_handle(self):
        f, tpm = make('swtpm')
        ctx = tpm(T.context_save(0x02000005))[10:]
        f.transmit(fault_ctl(P.FAULT_OP_ARM, P.CC['ContextLoad'], 1,
                             P.FAULT_RC, 0x101))
        self.assertEqual(T.rc(f.transmit(T.context_load(ctx))), 0x101)
        st = fault_status(f.transmit(fault_ctl(P.FAULT_OP_STATUS)))
        self.assertEqual(st[3:], (P.CC['ContextLoad'], 0x02000005))
        self.assertIn(0x02000005, tpm.saved)    # the load never ran

    def test_lost_answer_executed(self):
        f, tpm = make('swtpm')
        f.transmit(fault_ctl(P.FAULT_OP_ARM, P.CC['FlushContext'], 1,
                             P.FAULT_LOST))
        rsp = f.transmit(T.flush(0x80000001))
        self.assertEqual(len(tpm.log), 1)       # the TPM ran it
        self.assertEqual(len(rsp), 10)
        self.assertEqual(P.header(rsp), (P.FAULT_GARBAGE_TAG, 10, 0))

    def test_late_answer(self):
        slept = []
        tpm = FakeTpm()
        f = P.Filter(P.parse('swtpm'), tpm, sleep=slept.append)
        f.transmit(fault_ctl(P.FAULT_OP_ARM, P.CC['ContextSave'], 1,
                             P.FAULT_LATE, 2500))
        rsp = f.transmit(T.context_save(0x02000001))
        self.assertEqual(slept, [2.5])
        self.assertEqual(T.rc(rsp), 0)          # the real answer, late
        self.assertIn(0x02000001, tpm.saved)
        self.assertEqual(f.stats['late'], {'time': 1})

    def test_late_answer_held(self):
        """With a hold (the proxy's), the answer waits for it, not for a
        fixed time: arg is only the upper bound."""
        held, slept = [], []
        tpm = FakeTpm()

        def hold(seconds):
            held.append((seconds, len(tpm.log)))
            return 'cancel'
        f = P.Filter(P.parse('swtpm'), tpm, sleep=slept.append, hold=hold)
        f.transmit(fault_ctl(P.FAULT_OP_ARM, P.CC['ContextSave'], 1,
                             P.FAULT_LATE, 600000))
        rsp = f.transmit(T.context_save(0x02000001))
        self.assertEqual(held, [(600.0, 1)])    # executed, then held
        self.assertEqual(slept, [])
        self.assertEqual(T.rc(rsp), 0)
        self.assertIn(0x02000001, tpm.saved)
        self.assertEqual(f.stats['late'], {'cancel': 1})

    def test_disarm_and_bad_input(self):
        f, tpm = make('swtpm')
        f.transmit(fault_ctl(P.FAULT_OP_ARM, P.CC['Sign'], 1, P.FAULT_RC,
                             0x902))
        st = fault_status(f.transmit(fault_ctl(P.FAULT_OP_DISARM)))
        self.assertEqual(st[:2], (0, 0))
        self.assertEqual(T.rc(f.transmit(T.sign(0x80000001))), 0)
        for bad in (fault_ctl(9), fault_ctl(P.FAULT_OP_ARM, 0x15D, 0),
                    fault_ctl(P.FAULT_OP_ARM, 0x15D, 1, 7),
                    fault_ctl(P.FAULT_OP_ARM, 0x15D, 1, P.FAULT_RC, 0),
                    P.command(P.CC_FAULT_CTL, b'')):
            self.assertEqual(T.rc(f.transmit(bad)), P.RC_VALUE, bad.hex())
        self.assertEqual(len(tpm.log), 1)

    def test_tunnel_in_get_random(self):
        f, tpm = make('swtpm')
        ctl = fault_ctl(P.FAULT_OP_ARM, P.CC['ContextSave'], 1, P.FAULT_RC,
                        0x101)
        tun = P.command(0x17B, struct.pack('>H', P.FAULT_TUNNEL) + ctl[10:])
        rsp = f.transmit(tun)
        self.assertEqual(P.header(rsp), (P.ST_NO_SESSIONS, 32, 0))
        self.assertEqual(struct.unpack('>H', rsp[10:12])[0], 20)
        self.assertEqual(fault_status(rsp[2:]), (1, 0, 0, 0, 0))
        self.assertEqual(T.rc(f.transmit(T.context_save(0x02000001))), 0x101)
        self.assertEqual(len(tpm.log), 0)
        # an ordinary GetRandom of that size still goes to the TPM
        f.transmit(getrandom(P.FAULT_TUNNEL))
        self.assertEqual(len(tpm.log), 1)
        bad = P.command(0x17B, struct.pack('>H', P.FAULT_TUNNEL) +
                        fault_ctl(7)[10:])
        self.assertEqual(T.rc(f.transmit(bad)), P.RC_VALUE)

    def test_reset_disarms(self):
        f, _ = make('swtpm')
        f.transmit(fault_ctl(P.FAULT_OP_ARM, P.CC['Sign'], 1, P.FAULT_RC,
                             0x902))
        f.reset()
        self.assertEqual(T.rc(f.transmit(T.sign(0x80000001))), 0)


@unittest.skipUnless(shutil.which('swtpm'), 'no swtpm')
class SwtpmTest(unittest.TestCase):
    """The proxy between a QEMU-like client and a real swtpm."""

    SCRIPT = None

    def run_script(self, personality):
        t = T.Swtpm(personality, proxy=PROXY)
        try:
            out = [t.tx(T.startup()), t.tx(T.get_props())]
            out.append(t.tx(T.get_props(0x200, 64)))
            key = t.tx(T.create_primary(T.ecc_template()))
            out.append(key)
            for _ in range(3):
                out.append(t.tx(T.sign(T.u32(key, 10))))
            sess = [t.tx(T.start_hmac_session()) for _ in range(4)]
            out += sess
            ctx = t.tx(T.context_save(T.u32(sess[0], 10)))
            out.append(ctx)
            out.append(t.tx(T.context_load(ctx[10:])))
            out.append(t.tx(T.flush(T.u32(sess[1], 10))))
            out.append(t.tx(T.get_handles(0x02000000)))
            out.append(t.tx(T.get_handles(0x80000000)))
            return out, t
        finally:
            t.close()

    def test_swtpm_personality_changes_nothing(self):
        plain, _ = self.run_script(None)
        proxied, t = self.run_script('swtpm')
        self.assertEqual([P.header(r) for r in proxied],
                         [P.header(r) for r in plain])
        for i in (1, 2, 14, 15):        # properties, handles: byte for byte
            self.assertEqual(proxied[i], plain[i], i)
        stats = t.stats_data
        self.assertEqual((stats['commands'], stats['props_rewritten'],
                          stats['injected']), (len(plain), 0, {}))

    def test_gap_on_swtpm(self):
        t = T.Swtpm('gap=0x20', proxy=PROXY)
        try:
            self.assertEqual(T.rc(t.tx(T.startup())), 0)
            old = T.u32(t.tx(T.start_hmac_session()), 10)
            x = T.u32(t.tx(T.start_hmac_session()), 10)
            octx = t.tx(T.context_save(old))
            first = struct.unpack('>Q', octx[10:18])[0]
            n = 0
            while True:
                rsp = t.tx(T.context_save(x))
                if T.rc(rsp):
                    break
                last = struct.unpack('>Q', rsp[10:18])[0]
                self.assertEqual(T.rc(t.tx(T.context_load(rsp[10:]))), 0)
                n += 1
            self.assertEqual(T.rc(rsp), P.RC_CONTEXT_GAP)
            self.assertEqual(last - first, 0x20)
            # x was put back: it is loaded and can be flushed by handle
            hs = t.tx(T.get_handles(0x02000000))
            self.assertIn(struct.pack('>I', x), hs[19:])
            # regap the oldest, then x saves again
            self.assertEqual(T.rc(t.tx(T.context_load(octx[10:]))), 0)
            self.assertEqual(T.rc(t.tx(T.context_save(old))), 0)
            self.assertEqual(T.rc(t.tx(T.context_save(x))), 0)
        finally:
            t.close()

    def test_fault_control_through_proxy(self):
        t = T.Swtpm('swtpm', proxy=PROXY)
        try:
            t.tx(T.startup())
            key = T.u32(t.tx(T.create_primary(T.ecc_template())), 10)
            rsp = t.tx(fault_ctl(P.FAULT_OP_ARM, P.CC['Sign'], 1,
                                 P.FAULT_RC, P.RC_YIELDED))
            self.assertEqual(T.rc(rsp), 0)
            self.assertEqual(T.rc(t.tx(T.sign(key))), P.RC_YIELDED)
            rc = P.RC_RETRY     # swtpm's first Sign after boot retries
            for _ in range(3):
                rc = T.rc(t.tx(T.sign(key)))
                if rc != P.RC_RETRY:
                    break
            self.assertEqual(rc, 0)
        finally:
            t.close()
        # plain swtpm refuses the code: how a guest test sees no proxy
        t = T.Swtpm(None)
        try:
            t.tx(T.startup())
            self.assertNotEqual(T.rc(t.tx(fault_ctl(P.FAULT_OP_STATUS))), 0)
        finally:
            t.close()

    def late_get_random(self, t, ms):
        """Arm a late answer of at most @ms on GetRandom and send one;
        the time it was sent."""
        t.tx(T.startup())
        rsp = t.tx(fault_ctl(P.FAULT_OP_ARM, P.CC['GetRandom'], 1,
                             P.FAULT_LATE, ms))
        self.assertEqual(T.rc(rsp), 0)
        t.ctrl.settimeout(20)   # a blocked control channel fails, not hangs
        t.data.sendall(getrandom(8))
        return time.monotonic()

    def answer_within(self, t, seconds):
        """The next answer on the data channel if it comes in @seconds."""
        r, _, _ = select.select([t.data], [], [], seconds)
        return T.recv_tpm_sock(t.data) if r else None

    def test_late_answer_held_until_cancel(self):
        """A late answer waits for QEMU's CMD_CANCEL_TPM_CMD (the guest's
        driver timed out), however long the guest took; then it comes."""
        t = T.Swtpm('swtpm', proxy=PROXY)
        try:
            self.late_get_random(t, 60000)
            self.assertIsNone(self.answer_within(t, 1.5))   # held
            t0 = time.monotonic()
            self.assertEqual(t.ctrl_cmd(T.CMD_CANCEL_TPM_CMD, b''), 0)
            rsp = self.answer_within(t, 10)
            self.assertIsNotNone(rsp, 'no answer 10 s after the cancel')
            self.assertLess(time.monotonic() - t0, 5)
            self.assertEqual((T.rc(rsp), len(rsp)), (0, 20))  # the real one
            st = fault_status(t.tx(fault_ctl(P.FAULT_OP_STATUS)))
            self.assertEqual(st[1:4], (1, 1, P.CC['GetRandom']))
        finally:
            t.close()
        self.assertEqual(t.stats_data['late'], {'cancel': 1})

    def test_late_answer_held_until_next_command(self):
        """Or until the next command: the late answer, then the next's."""
        t = T.Swtpm('swtpm', proxy=PROXY)
        try:
            self.late_get_random(t, 60000)
            self.assertIsNone(self.answer_within(t, 1))
            t.data.sendall(getrandom(4))
            first = self.answer_within(t, 10)
            self.assertIsNotNone(first, 'held past the next command')
            second = self.answer_within(t, 10)
            self.assertEqual((T.rc(first), len(first)), (0, 20))
            self.assertEqual((T.rc(second), len(second)), (0, 16))
        finally:
            t.close()
        self.assertEqual(t.stats_data['late'], {'command': 1})

    def test_late_answer_upper_bound(self):
        """Without either, the answer comes at the fault's upper bound."""
        t = T.Swtpm('swtpm', proxy=PROXY)
        try:
            t0 = self.late_get_random(t, 2000)
            self.assertIsNone(self.answer_within(t, 1))
            rsp = self.answer_within(t, 10)
            self.assertIsNotNone(rsp)
            self.assertGreaterEqual(time.monotonic() - t0, 1.9)
            self.assertEqual(T.rc(rsp), 0)
        finally:
            t.close()
        self.assertEqual(t.stats_data['late'], {'time': 1})

    def test_chip_values_through_qemu_path(self):
        t = T.Swtpm('tight,retry=0', proxy=PROXY)
        try:
            t.tx(T.startup())
            rsp = t.tx(T.get_props(0x114, 1))
            self.assertEqual((T.u32(rsp, 19), T.u32(rsp, 23)), (0x114, 0x40))
            rsp = t.tx(P.command(0x17B, struct.pack('>H', 8) +
                                 b'\0' * 1020))
            self.assertEqual(T.rc(rsp), P.RC_COMMAND_SIZE)
        finally:
            t.close()


class Tap(unittest.TextTestResult):
    """TAP lines on stdout, one per test, for verdict.sh."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.n = 0

    def tap(self, ok, test, note=''):
        self.n += 1
        print('%s %d - personality: %s%s' % ('ok' if ok else 'not ok',
                                             self.n, test.id().split('.', 1)[1],
                                             note), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.tap(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.tap(False, test)

    def addError(self, test, err):
        super().addError(test, err)
        self.tap(False, test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.tap(True, test, ' # SKIP %s' % reason)


if __name__ == '__main__':
    if '--tap' in sys.argv:
        sys.argv.remove('--tap')
        suite = unittest.defaultTestLoader.loadTestsFromModule(
            sys.modules[__name__])
        print('1..%d' % suite.countTestCases())
        runner = unittest.TextTestRunner(stream=sys.stderr, resultclass=Tap)
        sys.exit(0 if runner.run(suite).wasSuccessful() else 1)
    unittest.main()
