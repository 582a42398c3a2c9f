#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""matrix_table.py RESULTS [RESULTS...]: the fault matrix's cells, side by side.

Reads the results port of check boots (build/results-*/results, or the
folder) and prints one markdown row per cell of tpmrm_fault_matrix_test:
per boot, the runner's answer, whether the other clients were unaffected,
the runner's next command, the leak audit, and the cell's TAP verdict.
Column heads are the folders' names.  Nothing here judges: the verdicts
are the test's own.
"""
import os
import re
import sys

CELL = re.compile(r'cell (\w+)(?: \([^)]*\))? \S+: runner (\w) answer (-?\d+) '
                  r'\((0x[0-9a-f]+)\)( UNCLEAN)?; fault (hit|NOT REACHED)')
AFTER = re.compile(r'cell (\w+): others (unaffected|SAW THE FAULT); runner next '
                   r'(.*); leak audit (\w+)')
OWNER = re.compile(r'owner (\w): (.*)')
SAW = re.compile(r'client (\w) \((\w+)\) saw the fault: (.*)')
TAP = re.compile(r'^(ok|not ok) \d+ matrix\.(\w+)\.cell(?: # (SKIP|XFAIL) ?(.*))?')
ERRNO = {-5: '-EIO', -62: '-ETIME', -14: '-EFAULT', -12: '-ENOMEM',
         -16: '-EBUSY', -125: '-ECANCELED', -74: '-EBADMSG', -71: '-EPROTO'}


def answer(rc):
    rc = int(rc)
    if rc < 0:
        return ERRNO.get(rc, str(rc))
    return '0' if rc == 0 else '0x%x' % rc


def cells(path):
    if os.path.isdir(path):
        path = os.path.join(path, 'results')
    out, cur, inside = {}, {}, False
    with open(path, errors='replace') as f:
        for line in f:
            line = line.rstrip('\r\n')
            if line.startswith('### BEGIN selftest/tpmrm_fault_matrix_test'):
                inside = True
                continue
            if not inside:
                continue
            if line.startswith('### END'):
                break
            m = CELL.search(line)
            if m:
                cur['answer'] = answer(m.group(3)) + (' unclean' if m.group(5) else '')
                if m.group(6) != 'hit':
                    cur['answer'] += ' (fault not reached)'
                continue
            m = OWNER.search(line) or SAW.search(line)
            if m:
                cur.setdefault('who', []).append(
                    '%s: %s' % (m.group(1), m.group(m.lastindex)))
                continue
            m = AFTER.search(line)
            if m:
                cur['others'] = 'ok' if m.group(2) == 'unaffected' else 'NO'
                if cur.get('who'):
                    cur['others'] += ' (%s)' % '; '.join(cur['who'])
                cur['next'] = m.group(3)
                cur['leak'] = m.group(4)
                continue
            m = TAP.match(line)
            if m:
                verdict = 'skip: ' + m.group(4) if m.group(3) == 'SKIP' else \
                    ('pass' if m.group(1) == 'ok' else 'FAIL')
                cur['verdict'] = verdict
                out[m.group(2)] = cur
                cur = {}
    return out


def main(argv):
    runs = [(os.path.basename(os.path.normpath(p)), cells(p)) for p in argv[1:]]
    names = []
    for _, c in runs:
        for n in c:
            if n not in names:
                names.append(n)
    head = '| cell |'
    for r, _ in runs:
        head += ' %s: answer | others ok | next command | leak | verdict |' % r
    print(head)
    print('|---|' + '---|---|---|---|---|' * len(runs))
    for n in names:
        row = '| %s |' % n
        for _, c in runs:
            x = c.get(n, {})
            if x.get('verdict', '').startswith('skip'):
                row += ' | | | | %s |' % x['verdict']
                continue
            row += ' %s | %s | %s | %s | %s |' % (
                x.get('answer', '-'), x.get('others', '-'),
                x.get('next', '-'), x.get('leak', '-'),
                x.get('verdict', 'not run'))
        print(row)


if __name__ == '__main__':
    main(sys.argv)
