#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""report.py RESULTS-DIR...: a markdown table of personality boots.

One row per results folder (boot.sh check under a personality): the
flavour, the personality and seed, the tests passed/failed/skipped (as
verdict.sh counts them, from the folder's TAP) and the failed units, the
warnings the proxy injected and how many were resent unchanged (by
ContextLoad/ContextSave/FlushContext and other commands), the emulated
TPM_RC_CONTEXT_GAP answers, the regaps the proxy saw (a saved session
loaded and saved straight back), the context saves, what tpmrm_regap_test
logged (signs, the RM's context saves and regaps, or its failure), and the
boot's time.  Counts come from the run only; a folder without a boot says
so.
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TAP_AWK = os.path.join(HERE, '..', 'scripts', 'tap.awk')
CTX = {'0x161': 'Load', '0x162': 'Save', '0x165': 'Flush'}


def verdict(d):
    """(passed, failed, skipped, [failed unit: names]) of folder @d."""
    with open(os.path.join(d, 'results'), 'rb') as f:
        text = f.read().replace(b'\r', b'')
    tag = os.path.basename(d).replace('results-', '')
    out = subprocess.run(['awk', '-v', 'tag=' + tag, '-f', TAP_AWK],
                         input=text, capture_output=True).stdout.decode(
                             errors='replace')
    m = re.search(r'^#counts (\d+) (\d+) (\d+)', out, re.M)
    p, f, s = (int(x) for x in m.groups()) if m else (0, 0, 0)
    failed = []
    for line in out.splitlines():
        u = re.match(r'not ok - [^/]*/(\S+): (\d+) passed, (\d+) failed', line)
        if u:
            failed.append('%s (%s)' % (u.group(1), u.group(3)))
    finished = b'### END dmesg' in text
    return p, f, s, failed, finished


def warnings(st):
    """'injected/resent' by context command and for the rest."""
    out = {}
    for what in ('injected', 'retried'):
        for k, n in st.get(what, {}).items():
            cc, _ = k.split(':')
            key = CTX.get(cc, 'other')
            out.setdefault(key, [0, 0])[what == 'retried'] += n
    return ' '.join('%s %d/%d' % (k, v[0], v[1])
                    for k, v in sorted(out.items())) or '0'


def regap_log(d):
    """What tpmrm_regap_test logged: its summary line, or its failure."""
    with open(os.path.join(d, 'results'), errors='replace') as f:
        text = f.read()
    m = re.search(r'### BEGIN selftest/tpmrm_regap_test.*?### END[^\n]*',
                  text, re.S)
    if not m:
        return 'not run'
    body = m.group(0)
    line = re.search(r'(\d+) signs, (\d+) context saves, (\d+) regaps', body)
    head = ('%s signs, %s RM saves, %s RM regaps' % line.groups()
            if line else '')
    fail = re.search(r'sign (\d+) failed with (0x[0-9a-f]+)', body)
    skip = re.search(r'SKIP\s+(.*)', body)
    if fail:
        head += '; sign %s failed %s' % fail.groups()
    elif re.search(r'^not ok', body, re.M):
        head += '; failed'
    elif skip:
        head = 'skip: ' + skip.group(1).strip()
    return head.strip('; ') or 'no summary'


def main():
    if os.environ.get('TPMRM_SETUP_ONLY'):
        print('setup-only: stop before the report')
        return
    print('| boot | flavour | personality (seed) | passed | failed | skipped '
          '| failed units (failed tests) | warnings injected/resent '
          '| emulated 0x901 | regaps at the TPM | context saves '
          '| tpmrm_regap_test | s |')
    print('|---|---|---|---:|---:|---:|---|---|---:|---:|---:|---|---:|')
    for d in sys.argv[1:]:
        name = os.path.basename(d)
        if not os.path.exists(os.path.join(d, 'results')):
            print('| %s | | | | | | no results: the boot did not run '
                  '| | | | | | |' % name)
            continue
        p, f, s, failed, finished = verdict(d)
        fl = open(os.path.join(d, 'flavour')).read().strip() \
            if os.path.exists(os.path.join(d, 'flavour')) else '?'
        st = {}
        if os.path.exists(os.path.join(d, 'personality.json')):
            with open(os.path.join(d, 'personality.json')) as fh:
                st = json.load(fh)
        secs = open(os.path.join(d, 'seconds')).read().strip() \
            if os.path.exists(os.path.join(d, 'seconds')) else ''
        if not finished:
            failed.append('job did not finish')
        print('| %s | %s | %s (%s) | %d | %d | %d | %s | %s | %d | %d | %d '
              '| %s | %s |' % (
                  name, fl, st.get('personality', '-'), st.get('seed', '-'),
                  p, f, s, ', '.join(failed) or '-', warnings(st),
                  st.get('gap_errors', 0), st.get('regaps', 0),
                  st.get('context_saves', 0), regap_log(d), secs))


if __name__ == '__main__':
    main()
