# Helpers shared by the scenarios (no scenarios here).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

# Enum values (Qt's numbers) used by the scenarios.
UNCONNECTED, HOST_LOOKUP, CONNECTING, CONNECTED, BOUND, LISTENING, CLOSING = 0, 1, 2, 3, 4, 5, 6
NOT_OPEN, READ_ONLY, WRITE_ONLY, READ_WRITE = 0, 1, 2, 3
IPV4, IPV6, ANY_IP = 0, 1, 2
LOW_DELAY, KEEP_ALIVE, MULTICAST_TTL, MULTICAST_LOOPBACK = 0, 1, 2, 3
SHARE_ADDRESS, DONT_SHARE_ADDRESS, REUSE_ADDRESS_HINT = 1, 2, 4

STD_PROPS = ('state', 'error', 'error_string', 'is_open', 'open_mode',
             'bytes_available', 'bytes_to_write')


def props(d, s, *names, label=None):
    """Record some getters of s as one note (the getters are not recorded as
    calls)."""
    names = names or STD_PROPS
    with d.quiet():
        vals = {n: getattr(s, n)() for n in names}
    return d.note(label or ('%s props' % s), vals)


def q(d, fn):
    """Evaluate fn() without recording the calls it makes."""
    with d.quiet():
        return fn()


def tcp_pair(d, tag='c', host='127.0.0.1', mode=READ_WRITE):
    """A qsock/Qt TCP socket connected to a Python peer; nothing recorded.
    Returns (socket handle, peer connection, listener)."""
    listener = d.tcp_listener(host)
    s = d.tcp_socket(tag)
    with d.setup():
        s.connect_to_host(host, listener.port, mode)
        if not d.run_until(lambda: s.state() == CONNECTED, 3000):
            raise RuntimeError('setup: could not connect')
        conn = listener.accept()
    return s, conn, listener


def local_pair(d, tag='c', name='srv', mode=READ_WRITE):
    """A local socket connected to a Python AF_UNIX listener at $TMPDIR/name."""
    listener = d.unix_listener(name)
    s = d.local_socket(tag)
    with d.setup():
        s.connect_to_server(name, mode)
        if not d.run_until(lambda: s.state() == CONNECTED, 3000):
            raise RuntimeError('setup: could not connect')
        conn = listener.accept()
    return s, conn, listener


def drain_events(d, ms=50):
    """Give late signals a chance to show up (recorded as 'spin ms')."""
    d.spin(ms)


def replacing(*pairs, only=None):
    """An expect_qsock function: Qt's lines with text replaced (in lines
    containing `only`, if given)."""
    def f(lines):
        out = []
        for l in lines:
            if only is None or only in l:
                for old, new in pairs:
                    l = l.replace(old, new)
            out.append(l)
        return out
    return f
