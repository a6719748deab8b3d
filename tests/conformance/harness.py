#!/usr/bin/env python3
# One scenario under one implementation, in its own process:
#   harness.py qt|qsock SCENARIO TRACEFILE
# The trace goes to TRACEFILE as JSON lines (trace.py), written as it happens.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tracing as tr  # noqa: E402
import scenarios  # noqa: E402


def main():
    impl, name, out = sys.argv[1:4]
    rec = tr.Recorder(out)
    tmpdir = os.environ.get('TMPDIR', '/tmp')
    if impl == 'qt':
        from qt_driver import QtDriver as D
    else:
        from qsock_driver import QSockDriver as D
    sc = scenarios.load_all()[name]
    d = D(rec, tmpdir)
    try:
        sc.fn(d)
    except Exception as e:
        rec.exc('%s: %s' % (type(e).__name__, e))
        traceback.print_exc()
    rec.end()
    try:
        d.teardown()
    except Exception:
        traceback.print_exc()
    rec.enabled = True
    rec.end('teardown')
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == '__main__':
    main()
