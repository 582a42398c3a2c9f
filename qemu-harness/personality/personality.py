# SPDX-License-Identifier: GPL-2.0
"""TPM personalities: what a shipping chip reports and enforces, on swtpm.

This module is the pure part of the personality layer: the presets and the
parser of free parameters (Personality), and the command filter (Filter)
that sits between the guest and swtpm.  proxy.py moves the bytes; the
filter decides what the guest sees.  Nothing here does I/O except through
the transmit callable it is given, so unit tests drive it with a fake TPM.

A personality string is a comma-separated list: an optional preset name
first, then key=value overrides, e.g. 'slb9670', 'npct75x,retry=0.02',
'transient=2,loaded=2,gap=0x80'.  Keys: see KEYS below.
"""

import random
import struct
import time

# TPM 2.0 constants (Part 2).
ST_NO_SESSIONS = 0x8001
ST_SESSIONS = 0x8002
CC = {
    'CreatePrimary': 0x131, 'Create': 0x153, 'Load': 0x157,
    'Sign': 0x15D, 'HMAC_Start': 0x15B, 'ContextLoad': 0x161,
    'ContextSave': 0x162, 'FlushContext': 0x165, 'LoadExternal': 0x167,
    'StartAuthSession': 0x176, 'GetCapability': 0x17A,
    'HashSequenceStart': 0x186, 'CreateLoaded': 0x191, 'GetRandom': 0x17B,
    'Startup': 0x144, 'Shutdown': 0x145, 'SelfTest': 0x143,
    'IncrementalSelfTest': 0x142, 'GetTestResult': 0x17C,
    'SequenceComplete': 0x13E, 'EventSequenceComplete': 0x185,
}
RC_COMMAND_SIZE = 0x142
RC_CONTEXT_GAP = 0x901
RC_OBJECT_MEMORY = 0x902
RC_SESSION_MEMORY = 0x903
RC_SESSION_HANDLES = 0x905
RC_YIELDED = 0x908
RC_TESTING = 0x90A
RC_RETRY = 0x922
CAP_HANDLES = 1
CAP_TPM_PROPERTIES = 6
SU_CLEAR = 0

# TPM_PT_* of the properties a personality sets, by key.
PT = {
    'transient': 0x10E,        # TPM_PT_HR_TRANSIENT_MIN
    'loaded': 0x110,           # TPM_PT_HR_LOADED_MIN
    'active': 0x111,           # TPM_PT_ACTIVE_SESSIONS_MAX
    'gap': 0x114,              # TPM_PT_CONTEXT_GAP_MAX
    'max_command': 0x11E,      # TPM_PT_MAX_COMMAND_SIZE
    'max_response': 0x11F,     # TPM_PT_MAX_RESPONSE_SIZE
    'max_object_ctx': 0x121,   # TPM_PT_MAX_OBJECT_CONTEXT
    'max_session_ctx': 0x122,  # TPM_PT_MAX_SESSION_CONTEXT
}
# What swtpm (libtpms) itself has: the limits the proxy cannot go beyond.
SWTPM_SLOTS = {'transient': 3, 'loaded': 3, 'active': 64}

# Keys of a personality string.  Integer keys take decimal or 0x..; rates
# take a fraction (0.05) or a percentage (5%).
INT_KEYS = tuple(PT) + ('seed',)
RATE_KEYS = ('retry', 'yielded', 'testing')
KEYS = INT_KEYS + RATE_KEYS + ('latency', 'warn_cc')

PRESETS = {
    # swtpm's own values: the proxy changes nothing.
    'swtpm': {},
    'slb9670': dict(transient=3, loaded=3, active=64, gap=0xFFFF,
                    max_object_ctx=952, max_session_ctx=235,
                    max_command=1280, max_response=1280,
                    retry=0.01, testing=0.002, yielded=0.01, warn_cc='ctx'),
    'npct75x': dict(transient=5, loaded=5, active=64, gap=0xFF,
                    max_object_ctx=1812, max_session_ctx=328,
                    max_command=2048, max_response=2048,
                    retry=0.01, testing=0.002, yielded=0.01, warn_cc='ctx'),
    'ptt': dict(transient=3, loaded=3, active=64, gap=0xFFFF,
                max_object_ctx=924, max_session_ctx=244,
                max_command=3968, max_response=3968,
                retry=0.01, testing=0.002, yielded=0.01, warn_cc='ctx'),
    'tight': dict(transient=3, loaded=3, gap=0x40, max_command=1024,
                  max_response=1024, retry=0.05),
}
# Commands never given an injected warning: the power-on sequence.
NO_INJECT = {CC['Startup'], CC['Shutdown'], CC['SelfTest'],
             CC['IncrementalSelfTest'], CC['GetTestResult']}
# warn_cc=ctx limits YIELDED to the commands a resource manager sends on
# its own; warn_cc=all gives it to every command.
CTX_CCS = {CC['ContextLoad'], CC['ContextSave'], CC['FlushContext']}

# Commands that put a new object in a transient slot.
OBJECT_CCS = {CC['CreatePrimary'], CC['Load'], CC['LoadExternal'],
              CC['CreateLoaded'], CC['HashSequenceStart'],
              CC['HMAC_Start']}

# In-band fault control: a vendor command (TPM_CC V bit) that the proxy
# answers itself, never sent to swtpm.  Root sends it on the guest's raw
# /dev/tpm0 to arm one deterministic fault: "the nth next command with code
# cc gets this".  Parameters, all u32: op, cc, nth, kind, arg.
CC_FAULT_CTL = 0x20000FA1
# The same control also travels as a GetRandom whose bytesRequested is
# FAULT_TUNNEL followed by the five u32: through /dev/tpmrm0, which passes
# GetRandom without touching the TPM's slots (a raw /dev/tpm0 command makes
# the RM evict everything first), and from any user.  Its answer is
# GetRandom's: the five u32 of the status as randomBytes.
FAULT_TUNNEL = 0xFA17
FAULT_OP_ARM = 1          # arm (replaces an armed fault)
FAULT_OP_STATUS = 2       # report only
FAULT_OP_DISARM = 3
FAULT_RC = 1              # answer arg as the response code, do not execute
FAULT_LOST = 2            # execute, then answer garbage (the answer is lost)
FAULT_LATE = 3            # execute, then hold the answer until QEMU
                          # cancels the command (the guest's timeout) or
                          # sends the next one, at most arg milliseconds
FAULT_KINDS = (FAULT_RC, FAULT_LOST, FAULT_LATE)
# The garbage a lost answer becomes: a frame of the right length whose tag
# is no response tag and whose code says success.
FAULT_GARBAGE_TAG = 0x0000
RC_VALUE = 0x084

# ../shared/tpm-latency-model.md: ms per command, SPI and I2C columns.
LATENCY = {
    'spi': {'flush': 2, 'ctx': 10, 'load': 15, 'small': 3, 'sign_ecc': 60,
            'sign_rsa': 150, 'keygen_ecc': 200, 'keygen_rsa': 2000},
    'i2c': {'flush': 10, 'ctx': 40, 'load': 50, 'small': 12, 'sign_ecc': 70,
            'sign_rsa': 165, 'keygen_ecc': 300, 'keygen_rsa': 2000},
}
ALG_RSA = 0x0001
SIG_RSA = {0x0014, 0x0016}     # TPM_ALG_RSASSA, TPM_ALG_RSAPSS


def parse_int(text):
    """An integer in decimal or 0x hexadecimal."""
    return int(text, 0)


def parse_rate(text):
    """A rate as a fraction (0.05) or a percentage (5%)."""
    rate = float(text[:-1]) / 100 if text.endswith('%') else float(text)
    if not 0 <= rate <= 1:
        raise ValueError('rate %s is not in [0, 1]' % text)
    return rate


def parse(spec):
    """Parse a personality string into a dict; ValueError on bad input."""
    items = [i.strip() for i in (spec or 'swtpm').split(',') if i.strip()]
    values = {}
    name = 'custom'
    if items and '=' not in items[0]:
        name = items.pop(0)
        if name not in PRESETS:
            raise ValueError('unknown personality %r (presets: %s)' %
                             (name, ', '.join(sorted(PRESETS))))
        values.update(PRESETS[name])
    for item in items:
        key, sep, val = item.partition('=')
        if not sep or key not in KEYS:
            raise ValueError('bad personality item %r (keys: %s)' %
                             (item, ', '.join(KEYS)))
        if key in INT_KEYS:
            values[key] = parse_int(val)
        elif key in RATE_KEYS:
            values[key] = parse_rate(val)
        elif key == 'latency' and val not in ('off', 'spi', 'i2c'):
            raise ValueError('latency must be off, spi or i2c')
        elif key == 'warn_cc' and val not in ('ctx', 'all'):
            raise ValueError('warn_cc must be ctx or all')
        else:
            values[key] = val
    if sum(values.get(k, 0) for k in RATE_KEYS) > 1:
        raise ValueError('warning rates add up to more than 1')
    values['name'] = name
    return values


def reported(values, key):
    """The value the guest is told for @key, or None to pass swtpm's on.

    Slot counts above swtpm's cannot be honoured (the guest would get
    TPM_RC_OBJECT_MEMORY below the minimum it was promised), so they are
    capped at swtpm's: a 5/5 chip is reported and run as 3/3.
    """
    if key not in values:
        return None
    if key in SWTPM_SLOTS:
        return min(values[key], SWTPM_SLOTS[key])
    return values[key]


def header(buf):
    """(tag, size, code) of a command or response, or None if short."""
    if len(buf) < 10:
        return None
    return struct.unpack('>HII', buf[:10])


def rc_response(rc):
    """A bare response carrying @rc."""
    return struct.pack('>HII', ST_NO_SESSIONS, 10, rc)


def command(cc, params, handles=b'', tag=ST_NO_SESSIONS):
    """A command without sessions."""
    body = handles + params
    return struct.pack('>HII', tag, 10 + len(body), cc) + body


def recv_exact(sock, n):
    """@n bytes from @sock, or None at end of file."""
    buf = b''
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def recv_tpm_sock(sock):
    """One TPM command or response from @sock, framed by its size."""
    head = recv_exact(sock, 10)
    if head is None:
        return None
    size = struct.unpack('>I', head[2:6])[0]
    if size <= 10:
        return head
    rest = recv_exact(sock, size - 10)
    return None if rest is None else head + rest


class Filter:
    """The personality's view of one TPM.

    transmit(cmd) gives the guest's command to the TPM as the personality
    would answer it; backend(cmd) is swtpm.  The filter keeps the
    sequence numbers of the sessions saved (the TPM's own, read from
    ContextSave's answer) to emulate TPM_PT_CONTEXT_GAP_MAX.
    """

    def __init__(self, values, backend, seed=0, sleep=time.sleep,
                 clock=time.monotonic, quiet_selftests=0, hold=None):
        self.v = values
        self.backend = backend
        self.rng = random.Random(values.get('seed', seed))
        self.sleep = sleep
        self.clock = clock
        # hold(seconds) holds a late answer until the guest gave up on it
        # (the proxy: QEMU's CMD_CANCEL_TPM_CMD or its next command), at
        # most @seconds; it says what ended the hold: 'cancel', 'command'
        # or 'time'.  Without one (no QEMU) the answer waits @seconds.
        self.hold = hold
        self.trace = None        # a callable taking one line, or None
        self.trace_ccs = None    # trace only these command codes (None: all)
        self.note = None         # a callable for gap events (0x901, regap)
                                 # and late answers
        self.gap_pending = 0     # emulated 0x901s not yet followed by a
                                 # regap
        self.last_load = None    # session handle of the last command, if
                                 # it was a ContextLoad of a saved session
        # no warnings before this many TPM2_SelfTest since power-on: the
        # proxy waits for the kernel's, after the firmware's (SeaBIOS
        # does not resend; a warning makes it disable the hierarchies)
        self.quiet_selftests = quiet_selftests
        self.selftests = 0
        self.saved = {}          # session handle -> context sequence
        self.next_seq = None     # the next session save's sequence
        self.last_warned = None  # the command last answered with a warning
        self.fault = None        # the armed fault (fault_ctl), or None
        self.fault_seen = 0      # commands with the fault's code since armed
        self.fault_fired = None  # (cc, handle) of the command it hit
        self.stats = {'commands': 0, 'injected': {}, 'retried': {},
                      'gap_errors': 0, 'gap_max_seen': 0, 'saves': 0,
                      'object_memory': 0, 'session_memory': 0,
                      'session_handles': 0, 'command_size': 0,
                      'props_rewritten': 0, 'latency_ms': 0,
                      'faults': {}, 'context_saves': 0, 'regaps': 0,
                      'resaves': 0, 'session_loads': 0, 'late': {}}

    def reset(self):
        """The TPM was power-cycled (CMD_INIT): no session survives."""
        self.saved.clear()
        self.next_seq = None
        self.selftests = 0
        self.fault = None
        self.last_load = None
        self.gap_pending = 0

    def count(self, what, key):
        """Count @what (injected, retried) for command code @key."""
        d = self.stats[what]
        d[key] = d.get(key, 0) + 1

    def transmit(self, cmd):
        """Answer @cmd as the personality's chip would."""
        h = header(cmd)
        if not h or h[1] != len(cmd):
            return self.backend(cmd)
        cc = h[2]
        if cc == CC_FAULT_CTL:
            return self.fault_ctl(cmd)
        if cc == CC['GetRandom'] and len(cmd) == 32 and \
                struct.unpack('>H', cmd[10:12])[0] == FAULT_TUNNEL:
            rsp = self.fault_ctl(cmd[:10] + cmd[12:])
            if header(rsp)[2]:
                return rsp
            return struct.pack('>HIIH', ST_NO_SESSIONS, 32, 0, 20) + \
                rsp[10:]
        self.stats['commands'] += 1
        fault = self.fault_due(cc)
        if fault:
            return self.fault_fire(cmd, cc, fault)
        if self.last_warned is not None:
            if cmd == self.last_warned[0]:
                self.count('retried', '%#x:%#x' % (cc, self.last_warned[1]))
            self.last_warned = None
        load, self.last_load = self.last_load, None
        rc = self.early_rc(cmd, cc)
        if rc:
            # a warning: not executed, a regap's save may follow (resent);
            # after any other refusal (COMMAND_SIZE, ...) a save is none
            if self.last_warned is not None and self.last_warned[0] is cmd:
                self.last_load = load
            if self.tracing(cc):
                self.trace('%#x %s -> %#x (proxy)' % (cc, trace_args(cc, cmd),
                                                      rc))
            return rc_response(rc)
        t0 = self.clock()
        rsp = self.forward(cmd, cc, load)
        self.latency(cc, rsp, self.clock() - t0)
        if self.tracing(cc):
            self.trace('%#x %s -> %#x%s' % (cc, trace_args(cc, cmd),
                                            header(rsp)[2] if header(rsp)
                                            else -1, trace_seq(cc, rsp)))
        return rsp

    def tracing(self, cc):
        """Is @cc traced?"""
        return self.trace and (self.trace_ccs is None or cc in self.trace_ccs)

    def fault_ctl(self, cmd):
        """Answer the in-band control command (CC_FAULT_CTL) itself.

        The response carries, as u32: armed (0/1), fired (0/1), commands
        with the fault's code seen since it was armed, the code and the
        first handle of the command it hit (for ContextLoad the saved
        context's handle).
        """
        if len(cmd) != 30:
            return rc_response(RC_VALUE)
        op, cc, nth, kind, arg = struct.unpack('>5I', cmd[10:30])
        if op == FAULT_OP_ARM:
            if nth < 1 or kind not in FAULT_KINDS or \
                    (kind == FAULT_RC and not arg):
                return rc_response(RC_VALUE)
            self.fault = (cc, nth, kind, arg)
            self.fault_seen = 0
            self.fault_fired = None
        elif op == FAULT_OP_DISARM:
            self.fault = None
        elif op != FAULT_OP_STATUS:
            return rc_response(RC_VALUE)
        fired = self.fault_fired or (0, 0)
        body = struct.pack('>5I', self.fault is not None,
                           self.fault_fired is not None, self.fault_seen,
                           fired[0], fired[1])
        return struct.pack('>HII', ST_NO_SESSIONS, 10 + len(body), 0) + body

    def fault_due(self, cc):
        """The armed fault if it falls on this command (it is used up)."""
        if not self.fault or self.fault[0] != cc:
            return None
        self.fault_seen += 1
        if self.fault_seen < self.fault[1]:
            return None
        fault, self.fault = self.fault, None
        return fault

    def fault_fire(self, cmd, cc, fault):
        """Give @cmd the armed @fault."""
        _, _, kind, arg = fault
        if cc == CC['ContextLoad'] and len(cmd) >= 22:
            handle = struct.unpack('>I', cmd[18:22])[0]
        else:
            handle = struct.unpack('>I', cmd[10:14])[0] \
                if len(cmd) >= 14 else 0
        self.fault_fired = (cc, handle)
        self.count('faults', '%#x:%d:%#x' % (cc, kind, arg))
        if self.trace:
            self.trace('%#x %08x -> fault %d %#x' % (cc, handle, kind, arg))
        if kind == FAULT_RC:
            return rc_response(arg)
        rsp = self.forward(cmd, cc)
        if kind == FAULT_LOST:
            return struct.pack('>HII', FAULT_GARBAGE_TAG, 10, 0)
        # late: the answer the TPM gave, once the guest stopped waiting
        # for it (QEMU's emulator backend waits for every answer, so it
        # is delivered; the device model drops or hands it on)
        t0 = self.clock()
        if self.hold:
            why = self.hold(arg / 1000.0)
        else:
            self.sleep(arg / 1000.0)
            why = 'time'
        self.count('late', why)
        if self.note:
            self.note('late answer to %#x %08x held %.1f s, ended by %s' %
                      (cc, handle, self.clock() - t0, why))
        return rsp

    def early_rc(self, cmd, cc):
        """A response code the chip gives before executing @cmd, or 0."""
        max_cmd = self.v.get('max_command')
        draw = self.rng.random()
        # swtpm's contexts are larger than a chip's (an RSA-2048 key's is
        # 1.2 KB): ContextLoad of one must not fail for a size a chip's
        # own context would not have
        if max_cmd and len(cmd) > max_cmd and cc != CC['ContextLoad']:
            self.stats['command_size'] += 1
            return RC_COMMAND_SIZE
        rc = self.injected(cc, draw)
        if rc:
            self.count('injected', '%#x:%#x' % (cc, rc))
            self.last_warned = (cmd, rc)
            return rc
        return self.slot_rc(cmd, cc) or self.gap_rc(cmd, cc)

    def injected(self, cc, draw):
        """The warning drawn for @cc (one draw per command), or 0."""
        if cc == CC['SelfTest']:
            self.selftests += 1
        if cc in NO_INJECT or self.selftests < self.quiet_selftests:
            return 0
        edge = 0.0
        for key, rc in (('retry', RC_RETRY), ('testing', RC_TESTING),
                        ('yielded', RC_YIELDED)):
            rate = self.v.get(key, 0)
            if key == 'yielded' and self.v.get('warn_cc', 'ctx') == 'ctx' \
                    and cc not in CTX_CCS:
                rate = 0
            if edge <= draw < edge + rate:
                return rc
            edge += rate
        return 0

    def handles(self, first):
        """The handles swtpm lists from @first (GetCapability)."""
        rsp = self.backend(command(CC['GetCapability'], struct.pack(
            '>III', CAP_HANDLES, first, 64)))
        if header(rsp)[2] != 0 or len(rsp) < 19:
            return []
        n = struct.unpack('>I', rsp[15:19])[0]
        # loaded (0x02..) and saved (0x03..) sessions list handles of
        # both session types
        return list(struct.unpack('>%dI' % n, rsp[19:19 + 4 * n]))

    def slot_rc(self, cmd, cc):
        """TPM_RC_*_MEMORY when @cmd needs a slot beyond the limits.

        Only limits below swtpm's own need the proxy: it asks swtpm for
        its loaded handles then (extra GetCapability commands).
        """
        kind = None
        if cc in OBJECT_CCS:
            kind = 'object'
        elif cc == CC['StartAuthSession']:
            kind = 'session'
        elif cc == CC['ContextLoad'] and len(cmd) >= 22:
            hi = struct.unpack('>I', cmd[18:22])[0] >> 24
            kind = 'object' if hi == 0x80 else 'session'
        if kind == 'object':
            lim = self.v.get('transient', 3)
            if lim < 3 and len(self.handles(0x80000000)) >= lim:
                self.stats['object_memory'] += 1
                return RC_OBJECT_MEMORY
        elif kind == 'session':
            lim = self.v.get('loaded', 3)
            if lim < 3 and len(self.handles(0x02000000)) >= lim:
                self.stats['session_memory'] += 1
                return RC_SESSION_MEMORY
            act = self.v.get('active', 64)
            if cc == CC['StartAuthSession'] and act < 64 and \
                    len(self.handles(0x02000000)) + \
                    len(self.handles(0x03000000)) >= act:
                self.stats['session_handles'] += 1
                return RC_SESSION_HANDLES
        return 0

    def gap_maxed(self):
        """Would the next session save be refused (TPM_RC_CONTEXT_GAP)?"""
        gap = self.v.get('gap')
        if gap is None or self.next_seq is None or not self.saved:
            return False
        return self.next_seq - min(self.saved.values()) > gap

    def gap_rc(self, cmd, cc):
        """TPM_RC_CONTEXT_GAP for a session that would take the last slot.

        At the maximum gap the reference TPM keeps its last free session
        slot for the oldest saved session, the only one whose load (and
        save again) lets the counter move on: StartAuthSession and the
        ContextLoad of any other session are refused.
        """
        if cc == CC['StartAuthSession']:
            handle = None
        elif cc == CC['ContextLoad'] and len(cmd) >= 22 and \
                cmd[18] in (0x02, 0x03):
            handle = struct.unpack('>I', cmd[18:22])[0]
        else:
            return 0
        if not self.gap_maxed():
            return 0
        oldest = min(self.saved, key=self.saved.get)
        if handle == oldest:
            return 0
        free = min(self.v.get('loaded', 3), 3) - \
            len(self.handles(0x02000000))
        if free > 1:
            return 0
        self.stats['gap_errors'] += 1
        self.gap_pending += 1
        if self.note:
            self.note('0x901 to %#x %s: gap maxed, last slot kept for %08x'
                      % (cc, '%08x' % handle if handle else '-', oldest))
        return RC_CONTEXT_GAP

    def forward(self, cmd, cc, load=None):
        """Send @cmd to swtpm and bring its answer into the personality.

        @load is the session handle the previous command loaded from a
        saved context, if it did: a ContextSave of that handle right after
        moved the session to a new sequence without using it
        (stats['resaves']: also a client's own ContextSave of a session
        its resource manager had saved).  One that follows an emulated
        TPM_RC_CONTEXT_GAP is a regap (stats['regaps']).
        """
        rsp = self.backend(cmd)
        h = header(rsp)
        if not h or h[2] != 0:
            return rsp
        if cc == CC['ContextSave']:
            self.stats['context_saves'] += 1
            rsp = self.saved_session(cmd, rsp)
            if load is not None and header(rsp)[2] == 0 and \
                    len(cmd) >= 14 and \
                    struct.unpack('>I', cmd[10:14])[0] == load:
                self.stats['resaves'] += 1
                if self.gap_pending:
                    self.gap_pending -= 1
                    self.stats['regaps'] += 1
                    if self.note:
                        self.note('regap %08x -> seq %d' % (
                            load, struct.unpack('>Q', rsp[10:18])[0]))
            return rsp
        if cc == CC['ContextLoad'] and len(cmd) >= 22:
            handle = struct.unpack('>I', cmd[18:22])[0]
            if self.saved.pop(handle, None) is not None and len(rsp) >= 14:
                self.stats['session_loads'] += 1
                self.last_load = struct.unpack('>I', rsp[10:14])[0]
        elif cc == CC['FlushContext'] and len(cmd) >= 14:
            self.saved.pop(struct.unpack('>I', cmd[10:14])[0], None)
        elif cc == CC['Startup'] and len(cmd) >= 12 and \
                struct.unpack('>H', cmd[10:12])[0] == SU_CLEAR:
            self.saved.clear()
        elif cc == CC['GetCapability']:
            return self.rewrite_props(cmd, rsp)
        return rsp

    def saved_session(self, cmd, rsp):
        """ContextSave went through: apply the personality's gap.

        The chip refuses a save whose sequence would be more than
        CONTEXT_GAP_MAX past the oldest saved session's.  swtpm has
        already saved it, so load it back (it gets its slot again, as if
        never saved) and answer TPM_RC_CONTEXT_GAP.
        """
        handle = struct.unpack('>I', cmd[10:14])[0]
        if handle >> 24 not in (0x02, 0x03) or len(rsp) < 18:
            return rsp
        seq = struct.unpack('>Q', rsp[10:18])[0]
        self.stats['saves'] += 1
        others = [s for h, s in self.saved.items() if h != handle]
        gap = self.v.get('gap')
        if others:
            dist = seq - min(others)
            self.stats['gap_max_seen'] = max(self.stats['gap_max_seen'],
                                             dist)
            if gap is not None and dist > gap:
                back = self.backend(command(CC['ContextLoad'], rsp[10:]))
                if header(back)[2] == 0:
                    self.stats['gap_errors'] += 1
                    self.gap_pending += 1
                    if self.note:
                        self.note('0x901 to ContextSave %08x seq %d: gap %d,'
                                  ' loaded back' % (handle, seq, dist))
                    return rc_response(RC_CONTEXT_GAP)
                # Could not undo: let the save stand, as swtpm did it.
        self.saved[handle] = seq
        self.next_seq = seq + 1
        return rsp

    def rewrite_props(self, cmd, rsp):
        """GetCapability(TPM_PROPERTIES): the personality's values."""
        if len(cmd) < 14 or struct.unpack('>I', cmd[10:14])[0] != \
                CAP_TPM_PROPERTIES or len(rsp) < 19:
            return rsp
        byval = {}
        for key, pt in PT.items():
            val = reported(self.v, key)
            if val is not None:
                byval[pt] = val
        out = bytearray(rsp)
        n = struct.unpack('>I', rsp[15:19])[0]
        for i in range(min(n, (len(rsp) - 19) // 8)):
            off = 19 + 8 * i
            prop = struct.unpack('>I', rsp[off:off + 4])[0]
            if prop in byval:
                struct.pack_into('>I', out, off + 4, byval[prop])
                self.stats['props_rewritten'] += 1
        return bytes(out)

    def latency_ms(self, cc, rsp):
        """The latency model's time for @cc, given its answer @rsp."""
        col = LATENCY.get(self.v.get('latency', 'off'))
        if not col:
            return 0
        if cc == CC['FlushContext']:
            return col['flush']
        if cc in (CC['ContextSave'], CC['ContextLoad']):
            return col['ctx']
        if cc in (CC['Load'], CC['StartAuthSession']):
            return col['load']
        ok = header(rsp) and header(rsp)[2] == 0
        if cc == CC['Sign'] and ok and len(rsp) >= 16:
            alg = struct.unpack('>H', rsp[14:16])[0]
            return col['sign_rsa'] if alg in SIG_RSA else col['sign_ecc']
        if cc in (CC['CreatePrimary'], CC['Create'], CC['CreateLoaded']) \
                and ok:
            return col['keygen_rsa'] if key_type(cc, rsp) == ALG_RSA \
                else col['keygen_ecc']
        return col['small']

    def latency(self, cc, rsp, spent):
        """Sleep so that @cc takes the model's wall time in all."""
        ms = self.latency_ms(cc, rsp)
        if ms:
            self.stats['latency_ms'] += ms
            left = ms / 1000.0 - spent
            if left > 0:
                self.sleep(left)


def trace_args(cc, cmd):
    """The first handle of @cmd for the trace; a saved context's for
    ContextLoad, with its sequence."""
    if cc == CC['ContextLoad'] and len(cmd) >= 22:
        return '%s seq %d' % (cmd[18:22].hex(),
                              struct.unpack('>Q', cmd[10:18])[0])
    return cmd[10:14].hex()


def trace_seq(cc, rsp):
    """The sequence a successful ContextSave gave, for the trace."""
    if cc != CC['ContextSave'] or len(rsp) < 18 or header(rsp)[2]:
        return ''
    return ' seq %d' % struct.unpack('>Q', rsp[10:18])[0]


def key_type(cc, rsp):
    """The public area's type in a key-creating command's answer."""
    off = 10 + (4 if cc in (CC['CreatePrimary'], CC['CreateLoaded']) else 0)
    off += 4                                    # parameterSize
    if cc == CC['Create']:
        off += 2 + struct.unpack('>H', rsp[off:off + 2])[0]
    if cc == CC['CreateLoaded']:
        off += 2 + struct.unpack('>H', rsp[off:off + 2])[0]
    if len(rsp) < off + 4:
        return None
    return struct.unpack('>H', rsp[off + 2:off + 4])[0]
