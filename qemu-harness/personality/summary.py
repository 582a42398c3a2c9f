#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""summary.py RESULTS-DIR...: one line per boot run behind the proxy: the
personality and seed, the proxy's counters (warnings injected and retried,
emulated 0x901s, the largest session gap seen) and the RM's regaps as the
tests logged them."""
import json
import os
import re
import sys

for d in sys.argv[1:]:
    path = os.path.join(d, 'personality.json')
    if not os.path.exists(path):
        print('%s: no personality.json (no proxy)' % d)
        continue
    with open(path) as f:
        s = json.load(f)
    names = {'0x922': 'RETRY', '0x908': 'YIELDED', '0x90a': 'TESTING'}

    def by_rc(d):
        out = {}
        for k, n in d.items():
            cc, rc = k.split(':')
            name = names.get(rc, rc)
            if cc in ('0x161', '0x162', '0x165'):
                name += '@' + {'0x161': 'Load', '0x162': 'Save',
                               '0x165': 'Flush'}[cc]
            out[name] = out.get(name, 0) + n
        return out
    inj = sum(s['injected'].values())
    ret = sum(s['retried'].values())
    s['injected'] = by_rc(s['injected'])
    s['retried'] = by_rc(s['retried'])
    regaps = []
    res = os.path.join(d, 'results')
    if os.path.exists(res):
        with open(res, errors='replace') as f:
            regaps = re.findall(r'(\d+) regaps', f.read())
    print('%s: %s seed %s: %d commands, %d warnings injected (%s), '
          '%d resent unchanged (%s), %d emulated 0x901, largest session gap '
          '%#x, %d session saves (%d context saves), %d regaps seen by the '
          'proxy, %d COMMAND_SIZE, RM regaps logged %s'
          % (d, s['personality'], s['seed'], s['commands'], inj,
             ' '.join('%s=%d' % kv for kv in sorted(s['injected'].items())),
             ret, ' '.join('%s=%d' % kv for kv in sorted(s['retried'].items())),
             s['gap_errors'], s['gap_max_seen'], s['saves'],
             s.get('context_saves', 0), s.get('regaps', 0),
             s['command_size'], '+'.join(regaps) or '-'))
