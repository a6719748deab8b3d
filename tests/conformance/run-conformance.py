#!/usr/bin/env python3
# The differential conformance suite: every scenario runs once under Qt
# (PyQt6) and once under qsock-glib (PyGObject), each in its own process, and
# the two traces are compared after the scenario's normalisation rules.  Qt is
# the expected result; a scenario that declares `differs` passes only if
# qsock's trace is exactly the one it expects.
#
#   run-conformance.py [-k PATTERN]... [-j JOBS] [--list] [--show] [-v]
#
# Exit status: 0 all passed, 1 failures, 77 PyQt6 is missing (skip).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import concurrent.futures
import fnmatch
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import tracing  # noqa: E402
import scenarios  # noqa: E402


def check_runtimes():
    try:
        import PyQt6.QtNetwork  # noqa: F401
    except ImportError as e:
        print('SKIP: PyQt6 cannot be imported (%s); the Qt side of the differential '
              'suite needs python3-pyqt6' % e)
        sys.exit(77)


def run_child(impl, sc, workdir):
    tmp = tempfile.mkdtemp(prefix='%s-' % impl, dir=workdir)
    out = os.path.join(workdir, '%s.trace' % impl)
    env = dict(os.environ)
    env['TMPDIR'] = tmp
    env.setdefault('LC_ALL', 'C.UTF-8')
    env.setdefault('QT_QPA_PLATFORM', 'offscreen')
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, os.path.join(HERE, 'harness.py'), impl, sc.name, out],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        output, _ = p.communicate(timeout=sc.timeout)
        status = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        output, _ = p.communicate()
        status = 'timeout'
    return out, status, output.decode('utf-8', 'replace'), time.monotonic() - t0


def status_lines(events, status, timeout):
    kinds = [e['k'] for e in events]
    if status == 'timeout':
        return ['crashed: timed out after %ds' % timeout]
    if isinstance(status, int) and status < 0:
        how = 'killed by %s' % signal.Signals(-status).name
    elif status:
        how = 'exit status %d' % status
    else:
        how = 'exited before the end'
    if 'end' not in kinds:
        return ['crashed: ' + how]
    if 'teardown' not in kinds:
        return ['teardown crashed: ' + how]
    if status:
        return ['exit: ' + how]
    return []


def run_scenario(sc, keep):
    workdir = tempfile.mkdtemp(prefix='conformance-%s-' % sc.name.replace('/', '_'))
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        fq = ex.submit(run_child, 'qt', sc, workdir)
        fs = ex.submit(run_child, 'qsock', sc, workdir)
        res = {'qt': fq.result(), 'qsock': fs.result()}
    lines = {}
    logs = {}
    for impl, (out, status, output, _elapsed) in res.items():
        ev = tracing.load(out)
        lines[impl] = tracing.normalise(ev, sc.rules) + status_lines(ev, status, sc.timeout)
        logs[impl] = output
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    if sc.differs:
        exp = sc.expect_qsock
        expected = exp(list(lines['qt'])) if callable(exp) else list(exp)
        ok = lines['qsock'] == expected
    else:
        expected = lines['qt']
        ok = lines['qsock'] == expected
    # An exception in the scenario's own code on the Qt side is a bug of the
    # scenario, never a pass.
    if any(l.startswith('exception ') for l in lines['qt']):
        ok = False
        logs['note'] = 'the scenario raised an exception under Qt'
    return ok, lines, expected, logs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('-k', action='append', default=[],
                    help='run only scenarios whose name matches (glob or substring)')
    ap.add_argument('-j', type=int, default=max(1, min(4, os.cpu_count() or 1)),
                    help='scenarios run at once (each runs two processes)')
    ap.add_argument('--list', action='store_true', help='list the scenarios and exit')
    ap.add_argument('--show', action='store_true', help='print both traces for passing scenarios too')
    ap.add_argument('-v', action='store_true', help='print the children\'s output of failures')
    ap.add_argument('--keep', action='store_true', help='keep the trace files')
    args = ap.parse_args()

    allsc = scenarios.load_all()
    names = sorted(allsc)
    if args.k:
        names = [n for n in names
                 if any(fnmatch.fnmatch(n, k) or k in n for k in args.k)]
    if args.list:
        for n in names:
            sc = allsc[n]
            print('%-50s %s%s' % (n, sc.ref, ('  [differs: %s]' % sc.differs) if sc.differs else ''))
        print('%d scenarios' % len(names))
        return 0
    check_runtimes()

    passed = failed = 0
    failures = []
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max(1, args.j)) as ex:
        futs = [(n, ex.submit(run_scenario, allsc[n], args.keep)) for n in names]
        for n, f in futs:
            sc = allsc[n]
            ok, lines, expected, logs = f.result()
            extra = ' (differs: %s)' % sc.differs if sc.differs else ''
            print('%s %s%s' % ('PASS' if ok else 'FAIL', n, extra), flush=True)
            if ok:
                passed += 1
                if args.show:
                    print(tracing.side_by_side(lines['qt'], lines['qsock']))
            else:
                failed += 1
                failures.append(n)
                if logs.get('note'):
                    print('     ' + logs['note'])
                if sc.ref:
                    print('     reference: QT-BEHAVIOUR.md %s' % sc.ref)
                if sc.differs:
                    print('     declared difference: %s' % sc.differs)
                    print(tracing.side_by_side(expected, lines['qsock'],
                                               'expected qsock trace', 'qsock'))
                    print('     (Qt\'s own trace:)')
                    print('\n'.join('       ' + l for l in lines['qt']))
                else:
                    print(tracing.side_by_side(lines['qt'], lines['qsock']))
                for impl in ('qt', 'qsock'):
                    broke = any(l.startswith(('crashed', 'teardown crashed', 'exception'))
                                for l in lines[impl])
                    if (args.v or broke) and logs[impl].strip():
                        print('     --- %s output ---' % impl)
                        print('\n'.join('     ' + l for l in logs[impl].rstrip().splitlines()))
                print(flush=True)
    print('%d passed, %d failed' % (passed, failed))
    print('(%d scenarios in %.0f s)' % (passed + failed, time.monotonic() - t0))
    if failures:
        print('failed: ' + ' '.join(failures))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
