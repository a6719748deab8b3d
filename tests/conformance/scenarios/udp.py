# UDP scenarios: QUdpSocket / QSock.Udp with plain Python UDP peers
# (§2.6, §4; tst_QUdpSocket).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import socket

from scenarios import scenario
from scenarios.util import (props, q, drain_events, replacing, UNCONNECTED, CONNECTED, BOUND,
                            SHARE_ADDRESS, DONT_SHARE_ADDRESS, REUSE_ADDRESS_HINT,
                            MULTICAST_TTL, MULTICAST_LOOPBACK, LOW_DELAY)

EXACT_READY_READ = {'ready_read': 'exact'}
ANY_IS_V6 = ('porting guide: after listen/bind with no address (dual stack, Qt\'s Any) the '
             'address is "::", the address the socket is bound to: a GInetAddress has no '
             'dual-stack "any", and Qt prints its Any as "0.0.0.0"')
ANY_AS_V6 = replacing(("local_address: '0.0.0.0'", "local_address: '::'"))


def bound(d, tag='u', addr='127.0.0.1'):
    u = d.udp_socket(tag)
    with d.setup():
        if not u.bind(addr, 0):
            raise RuntimeError('setup: bind failed')
    d.alias(q(d, u.local_port), 'UPORT')
    return u


@scenario('udp.fresh_defaults', ref='§4 Guard (QT_CHECK_BOUND); tst_QUdpSocket::constructing')
def _(d):
    u = d.udp_socket('u')
    props(d, u, 'state', 'error', 'error_string', 'is_open', 'is_valid', 'open_mode', 'socket_type',
          'local_port', 'local_address', 'peer_port', 'socket_descriptor', 'bytes_available',
          'is_sequential')
    u.has_pending_datagrams()
    u.pending_datagram_size()
    u.read_datagram(10)
    u.receive_datagram()
    u.join_multicast_group('239.255.43.21')
    u.socket_option(LOW_DELAY)
    props(d, u, 'error', 'error_string')


@scenario('udp.bind', ref='§2.6 bind (probe_udp U1)')
def _(d):
    u = d.udp_socket('u')
    u.bind('127.0.0.1', 0)
    d.alias(q(d, u.local_port), 'UPORT')
    props(d, u, 'state', 'is_open', 'is_valid', 'open_mode', 'local_address', 'local_port',
          'error', 'error_string', 'peer_address', 'peer_port')
    d.note('socket descriptor >= 0', q(d, u.socket_descriptor) >= 0)
    u.has_pending_datagrams()
    u.pending_datagram_size()
    drain_events(d)


@scenario('udp.bind_default', ref='§2.6 ("bind() with no arguments binds QHostAddress::Any")',
          differs=ANY_IS_V6, expect_qsock=ANY_AS_V6)
def _(d):
    u = d.udp_socket('u')
    u.bind()
    props(d, u, 'state', 'local_address')
    peer = d.udp_peer()
    peer.sendto(b'v4', q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending')
    u.read_datagram(10)


@scenario('udp.read_datagram_none_pending', ref='§4 readDatagram (observed TemporaryError)',
          differs='Qt bug: receiveDatagram(n) with nothing pending emits '
                  'errorOccurred(UnknownSocketError) "Unknown error" (readDatagram() says '
                  'TemporaryError "No datagram available for reading"); qsock reports '
                  'TemporaryError for both, as QT-BEHAVIOUR.md §4 describes',
          expect_qsock=lambda lines: [
              l.replace('error-occurred(-1)', 'error-occurred(22)').replace(
                  "error: -1, error_string: 'Unknown error'",
                  "error: 22, error_string: 'No datagram available for reading'")
              for l in lines])
def _(d):
    u = bound(d)
    u.read_datagram(10)
    props(d, u, 'state', 'error', 'error_string')
    u.has_pending_datagrams()
    u.pending_datagram_size()
    u.receive_datagram()
    u.receive_datagram(10)
    props(d, u, 'error', 'error_string')


@scenario('udp.write_datagram_autobind', ref='§2.6 writeDatagram binds implicitly (probe_udp U1)',
          differs=ANY_IS_V6, expect_qsock=ANY_AS_V6)
def _(d):
    peer = d.udp_peer()
    s = d.udp_socket('s')
    s.write_datagram(b'hello world', '127.0.0.1', peer.port)
    props(d, s, 'state', 'local_address', 'is_open', 'open_mode', 'error')
    d.poll_until(lambda: peer.got(1), label='peer got 1')
    (data, port), = peer.take()
    d.note('peer got', data)
    d.note('sender port is local_port', port == q(d, s.local_port))
    s.write_datagram(b'', '127.0.0.1', peer.port)
    d.poll_until(lambda: peer.got(1), label='peer got empty')
    d.note('peer got', [x for x, _ in peer.take()])


@scenario('udp.read_datagram_truncates', ref='§4 readDatagram ("the rest is discarded")')
def _(d):
    u = bound(d)
    peer = d.udp_peer()
    peer.sendto(b'hello world', q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending')
    u.pending_datagram_size()
    u.bytes_available()
    u.read_datagram(5)
    u.has_pending_datagrams()
    u.pending_datagram_size()
    drain_events(d)


@scenario('udp.empty_datagram', ref='§4; tst_QUdpSocket::zeroLengthDatagram, readyReadForEmptyDatagram')
def _(d):
    u = bound(d)
    peer = d.udp_peer()
    peer.sendto(b'', q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending')
    drain_events(d)
    u.pending_datagram_size()
    u.read_datagram(10)
    u.has_pending_datagrams()
    peer.sendto(b'', q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending')
    u.receive_datagram()


@scenario('udp.receive_datagram_fields', ref='§4 receiveDatagram fields (probe_udp U1)')
def _(d):
    u = bound(d)
    peer = d.udp_peer()
    peer.sendto(b'second', q(d, u.local_port))
    peer.sendto(b'third', q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending')
    u.receive_datagram()
    u.receive_datagram(3)
    u.has_pending_datagrams()
    u.receive_datagram()
    props(d, u, 'error', 'error_string')


@scenario('udp.datagram_too_large', ref='§4 writeDatagram EMSGSIZE (probe_udp U2)')
def _(d):
    u = bound(d)
    s = d.udp_socket('s')
    s.write_datagram(b'x' * 70000, '127.0.0.1', q(d, u.local_port))
    props(d, s, 'state', 'error', 'error_string')
    s.write_datagram(b'x' * 65507, '127.0.0.1', q(d, u.local_port))
    d.alias(q(d, s.local_port), 'SPORT')
    d.run_until(lambda: u.has_pending_datagrams(), label='pending')
    u.pending_datagram_size()
    u.read_datagram(0)
    u.has_pending_datagrams()
    props(d, s, 'error', 'error_string')


@scenario('udp.ready_read_once_per_read', ref='§4 readyRead for UDP (probe_udp U3); §8.11; tst_QUdpSocket::readyRead, asyncReadDatagram',
          rules=EXACT_READY_READ)
def _(d):
    u = bound(d)
    peer = d.udp_peer()
    for i in range(3):
        peer.sendto(b'd%d' % i, q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending')
    drain_events(d, 150)
    u.read_datagram(100)
    drain_events(d, 150)
    u.read_datagram(100)
    u.read_datagram(100)
    drain_events(d, 150)
    u.has_pending_datagrams()
    peer.sendto(b'new', q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending again')
    drain_events(d, 100)
    u.read_datagram(100)
    drain_events(d, 100)


@scenario('udp.connect_to_host', ref='§2.6 connectToHost on UDP (probe_udp U4); tst_QUdpSocket::connectToHost')
def _(d):
    peer = d.udp_peer()
    c = d.udp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    d.alias(q(d, c.local_port), 'CPORT')
    props(d, c, 'state', 'is_open', 'open_mode', 'peer_address', 'peer_port', 'peer_name',
          'local_address', 'is_valid')
    c.write(b'via write')
    d.poll_until(lambda: peer.got(1), label='peer got 1')
    d.note('peer got', [x for x, _ in peer.take()])
    peer.sendto(b'reply', q(d, c.local_port))
    d.run_until(lambda: c.bytes_available() > 0, label='reply pending')
    c.bytes_available()
    c.read(100)
    peer.sendto(b'second reply', q(d, c.local_port))
    d.run_until(lambda: c.has_pending_datagrams(), label='pending')
    c.read(6)
    c.has_pending_datagrams()
    c.disconnect_from_host()
    props(d, c, 'state', 'is_open', 'open_mode', 'peer_port', 'local_port')


@scenario('udp.connect_hostname', ref='§2.6 (probe_udp U5)')
def _(d):
    peer = d.udp_peer()
    c = d.udp_socket('c')
    c.connect_to_host('localhost', peer.port)
    props(d, c, 'state')
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    props(d, c, 'peer_address', 'peer_name')


@scenario('udp.write_in_host_lookup', ref='§2.2 "On UDP, write() in HostLookupState fails"; tst_QUdpSocket::writeInHostLookupState')
def _(d):
    peer = d.udp_peer()
    c = d.udp_socket('c')
    c.connect_to_host('localhost', peer.port)
    c.write(b'too early')
    props(d, c, 'state', 'error', 'error_string')
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    c.write(b'now')
    d.poll_until(lambda: peer.got(1), label='peer got 1')
    d.note('peer got', [x for x, _ in peer.take()])


@scenario('udp.connected_read_datagram', ref='§4 readDatagram/receiveDatagram on a connected socket')
def _(d):
    peer = d.udp_peer()
    c = d.udp_socket('c')
    with d.setup():
        c.connect_to_host('127.0.0.1', peer.port)
    d.alias(q(d, c.local_port), 'CPORT')
    peer.sendto(b'one', q(d, c.local_port))
    peer.sendto(b'two', q(d, c.local_port))
    d.run_until(lambda: c.has_pending_datagrams(), label='pending')
    c.read_datagram(10)
    c.receive_datagram()
    c.write_datagram(b'dg', '127.0.0.1', peer.port)
    d.poll_until(lambda: peer.got(1), label='peer got 1')
    d.note('peer got', [x for x, _ in peer.take()])


def _refused_udp(d):
    port = d.closed_port()
    c = d.udp_socket('c')
    c.connect_to_host('127.0.0.1', port)
    c.write(b'anyone?')
    drain_events(d, 200)
    return c


def _insert_after(prefix, line):
    def f(lines):
        out = []
        for l in lines:
            out.append(l)
            if l.startswith(prefix):
                out.append(line)
        return out
    return f


@scenario('udp.connected_refused.read', ref='§4 ("An ICMP port-unreachable on a connected socket")',
          differs='porting guide: read() on a connected UDP socket after an ICMP refusal emits '
                  'state-changed (UNCONNECTED); Qt changes the state without telling',
          expect_qsock=_insert_after('call c.read_ret(10)', 'sync c.state-changed(0) [state=0]'))
def _(d):
    c = _refused_udp(d)
    c.read_ret(10)
    props(d, c, 'state', 'error', 'error_string', 'is_open')
    drain_events(d)


@scenario('udp.connected_refused.read_datagram', ref='§4 readDatagram ("An ICMP port-unreachable on a connected socket → ConnectionRefusedError")')
def _(d):
    c = _refused_udp(d)
    c.read_datagram(10)
    props(d, c, 'state', 'error', 'error_string', 'is_open')
    c.read_datagram(10)
    props(d, c, 'state', 'error', 'error_string')
    drain_events(d)


@scenario('udp.connected_refused.receive_datagram', ref='§4 receiveDatagram ("A read error → errorOccurred")')
def _(d):
    c = _refused_udp(d)
    c.receive_datagram(10)
    props(d, c, 'state', 'error', 'error_string', 'is_open')
    drain_events(d)


@scenario('udp.connected_refused.pending', ref='§4 hasPendingDatagrams (1-byte MSG_PEEK)')
def _(d):
    c = _refused_udp(d)
    c.has_pending_datagrams()
    c.pending_datagram_size()
    c.read_datagram(10)
    props(d, c, 'state', 'error', 'error_string')
    drain_events(d)


@scenario('udp.connected_refused.wait', ref='§3.6 waitForReadyRead on UDP')
def _(d):
    c = _refused_udp(d)
    c.wait_for_ready_read(100)
    props(d, c, 'state', 'error', 'error_string')
    drain_events(d)


@scenario('udp.bind_errors', ref='§2.6 failed bind, bind twice (probe_udp U6)')
def _(d):
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(('127.0.0.1', 0))
    d.keep.append(type('K', (), {'teardown': staticmethod(other.close)})())
    port = d.alias(other.getsockname()[1], 'TAKEN')
    u = d.udp_socket('u')
    u.bind('127.0.0.1', port)
    props(d, u, 'state', 'error', 'error_string')
    u2 = d.udp_socket('u2')
    u2.bind('1.2.3.4', 0)
    props(d, u2, 'state', 'error', 'error_string')
    u3 = d.udp_socket('u3')
    u3.bind('127.0.0.1', 0)
    u3.bind('127.0.0.1', 0)
    props(d, u3, 'state', 'error', 'error_string')


@scenario('udp.bind_after_failed_bind', ref='§2.6 failed bind',
          differs='Qt keeps the socket of a failed bind and then reports its stale error '
                  '(AddressInUse) for the later binds; qsock reports each bind\'s own error, '
                  'the ones Qt gives on a fresh socket (udp.bind_errors)',
          expect_qsock=[
              "call u.bind('127.0.0.1', <TAKEN>) -> False",
              'sync u.error-occurred(8) [state=0]',
              "note after in use = {error: 8, error_string: 'The bound address is already in use', state: 0}",
              "call u.bind('1.2.3.4', 0) -> False",
              'sync u.error-occurred(9) [state=0]',
              "note after 1.2.3.4 = {error: 9, error_string: 'The address is not available', state: 0}",
              "call u.bind('127.0.0.1', 0) -> True",
              'sync u.state-changed(4) [state=4]',
              "call u.bind('127.0.0.1', 0) -> False",
              'sync u.error-occurred(-1) [state=4]',
              "note after bind twice = {error: -1, error_string: 'Unknown error', state: 4}",
              'end', 'teardown'])
def _(d):
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(('127.0.0.1', 0))
    d.keep.append(type('K', (), {'teardown': staticmethod(other.close)})())
    port = d.alias(other.getsockname()[1], 'TAKEN')
    u = d.udp_socket('u')
    u.bind('127.0.0.1', port)
    props(d, u, 'state', 'error', 'error_string', label='after in use')
    u.bind('1.2.3.4', 0)
    props(d, u, 'state', 'error', 'error_string', label='after 1.2.3.4')
    u.bind('127.0.0.1', 0)
    u.bind('127.0.0.1', 0)
    props(d, u, 'state', 'error', 'error_string', label='after bind twice')


@scenario('udp.bind_modes', ref='§2.6 Bind modes; tst_QUdpSocket::bindMode')
def _(d):
    u1 = d.udp_socket('u1')
    u1.bind('127.0.0.1', 0, SHARE_ADDRESS | REUSE_ADDRESS_HINT)
    port = d.alias(q(d, u1.local_port), 'UPORT')
    u2 = d.udp_socket('u2')
    u2.bind('127.0.0.1', port, SHARE_ADDRESS | REUSE_ADDRESS_HINT)
    props(d, u2, 'state', 'error')
    u3 = d.udp_socket('u3')
    u3.bind('127.0.0.1', port, DONT_SHARE_ADDRESS)
    props(d, u3, 'state', 'error', 'error_string')
    u4 = d.udp_socket('u4')
    u4.bind('127.0.0.1', port)
    props(d, u4, 'state', 'error', 'error_string')


@scenario('udp.io_when_only_bound', ref='§2.6 ("bind does not open the QIODevice")')
def _(d):
    u = bound(d)
    u.write(b'x')
    u.read(10)
    u.read_ret(10)
    props(d, u, 'error', 'error_string', 'is_open')
    u.wait_for_bytes_written(10)
    u.wait_for_ready_read(50)
    props(d, u, 'error', 'error_string', 'state')


@scenario('udp.wait_for_ready_read_bound', ref='§3.6 waitForReadyRead on a bound UDP socket')
def _(d):
    u = bound(d)
    peer = d.udp_peer()
    peer.sendto(b'ping', q(d, u.local_port))
    d.sleep(50)
    u.wait_for_ready_read(1000)
    u.read_datagram(10)
    u.wait_for_ready_read(100)
    props(d, u, 'error', 'error_string', 'state')


@scenario('udp.close_bound', ref='§2.3 close() on a bound UDP socket; probe_props')
def _(d):
    u = bound(d)
    u.close()
    props(d, u, 'state', 'local_port', 'is_valid', 'error')
    u2 = bound(d, 'u2')
    u2.abort()
    props(d, u2, 'state', 'local_port')
    u3 = bound(d, 'u3')
    u3.disconnect_from_host()
    props(d, u3, 'state', 'local_port')
    drain_events(d)


@scenario('udp.ipv6', ref='tst_QUdpSocket::ipv6Loop',
          differs='Qt bug: the destination address of a datagram to ::1 carries the interface '
                  'as a scope id ("::1%1"), which only link-local addresses have; qsock '
                  'reports "::1" (GInetAddress has no scope id)',
          expect_qsock=replacing(("dest: '::1%1'", "dest: '::1'")))
def _(d):
    u = bound(d, addr='::1')
    peer = d.udp_peer('::1')
    props(d, u, 'local_address')
    peer.sendto(b'six', q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending')
    u.receive_datagram()
    u.write_datagram(b'back', '::1', peer.port)
    d.poll_until(lambda: peer.got(1), label='peer got 1')


@scenario('udp.dual_stack', ref='tst_QUdpSocket::dualStack',
          differs=ANY_IS_V6, expect_qsock=ANY_AS_V6)
def _(d):
    u = d.udp_socket('u')
    u.bind('Any', 0)
    d.alias(q(d, u.local_port), 'UPORT')
    props(d, u, 'local_address')
    p4 = d.udp_peer('127.0.0.1', 'P4')
    p6 = d.udp_peer('::1', 'P6')
    p4.sendto(b'four', q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending v4')
    u.read_datagram(10)
    p6.sendto(b'six', q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending v6')
    u.read_datagram(10)
    u.write_datagram(b'to4', '127.0.0.1', p4.port)
    u.write_datagram(b'to6', '::1', p6.port)
    d.poll_until(lambda: p4.got(1) and p6.got(1), label='both peers got theirs')


@scenario('udp.multicast', ref='§4 Multicast (probe_udp U7); tst_QUdpSocket::multicast*')
def _(d):
    m = d.udp_socket('m')
    with d.setup():
        m.bind('AnyIPv4', 0)
    m.join_multicast_group('239.255.43.21')
    props(d, m, 'error', 'error_string')
    m.join_multicast_group('1.2.3.4')
    props(d, m, 'error', 'error_string')
    m.leave_multicast_group('239.255.43.21')
    m.leave_multicast_group('239.255.43.22')
    props(d, m, 'error', 'error_string')
    a = d.udp_socket('a')
    with d.setup():
        a.bind('Any', 0)
    a.join_multicast_group('239.255.43.21')
    props(d, a, 'error', 'error_string')
    m.close()
    m.leave_multicast_group('239.255.43.21')


@scenario('udp.multicast_loop', ref='tst_QUdpSocket::multicast (receiving own group traffic)')
def _(d):
    m = d.udp_socket('m')
    with d.setup():
        m.bind('AnyIPv4', 0, SHARE_ADDRESS | REUSE_ADDRESS_HINT)
    port = d.alias(q(d, m.local_port), 'MPORT')
    m.join_multicast_group('239.255.43.21')
    s = d.udp_socket('s')
    s.write_datagram(b'group', '239.255.43.21', port)
    d.alias(q(d, s.local_port), 'SPORT')
    ok = d.run_until(lambda: m.has_pending_datagrams(), 1000, label='pending')
    if ok:
        m.read_datagram(10)


@scenario('udp.socket_options', ref='§4 Socket options on UDP (probe_udp U8); tst_QUdpSocket::multicastTtlOption, multicastLoopbackOption')
def _(d):
    m = d.udp_socket('m')
    m.set_socket_option(MULTICAST_TTL, 5)
    m.socket_option(MULTICAST_TTL)
    with d.setup():
        m.bind('AnyIPv4', 0)
    m.socket_option(MULTICAST_TTL)
    m.socket_option(MULTICAST_LOOPBACK)
    for v in (0, 1, 2, 128, 255, 1024):
        m.set_socket_option(MULTICAST_TTL, v)
        m.socket_option(MULTICAST_TTL)
    for v in (0, 1, 5):
        m.set_socket_option(MULTICAST_LOOPBACK, v)
        m.socket_option(MULTICAST_LOOPBACK)
    m.socket_option(LOW_DELAY)
    m.socket_option(7)       # PathMtuSocketOption, unconnected


@scenario('udp.write_datagram_to_closed_port', ref='tst_QUdpSocket::writeDatagramToNonExistingPeer')
def _(d):
    port = d.closed_port()
    u = bound(d)
    u.write_datagram(b'void', '127.0.0.1', port)
    drain_events(d, 200)
    props(d, u, 'state', 'error', 'error_string')
    u.has_pending_datagrams()
    u.write_datagram(b'void', '127.0.0.1', port)
    props(d, u, 'state', 'error')


@scenario('udp.bytes_available', ref='§3.2 bytesAvailable (FIONREAD added for UDP)')
def _(d):
    u = bound(d)
    peer = d.udp_peer()
    peer.sendto(b'12345', q(d, u.local_port))
    peer.sendto(b'123', q(d, u.local_port))
    d.run_until(lambda: u.has_pending_datagrams(), label='pending')
    d.sleep(20)
    u.bytes_available()
    u.read_datagram(10)
    u.bytes_available()
    u.read_datagram(10)
    u.bytes_available()


@scenario('udp.echo', ref='tst_QUdpSocket::echo, loop (adapted)')
def _(d):
    a = bound(d, 'a')
    b = d.udp_socket('b')
    with d.setup():
        b.bind('127.0.0.1', 0)
    d.alias(q(d, b.local_port), 'BPORT')
    for i in range(3):
        a.write_datagram(b'ping %d' % i, '127.0.0.1', q(d, b.local_port))
        d.run_until(lambda: b.has_pending_datagrams(), label='b pending')
        data, addr, port = b.read_datagram(100)
        b.write_datagram(data.replace(b'ping', b'pong'), addr, port)
        d.run_until(lambda: a.has_pending_datagrams(), label='a pending')
        a.read_datagram(100)


@scenario('udp.bind_then_connect', ref='tst_QUdpSocket::bindAndConnectToHost')
def _(d):
    peer = d.udp_peer()
    c = d.udp_socket('c')
    c.bind('127.0.0.1', 0)
    port = d.alias(q(d, c.local_port), 'CPORT')
    c.connect_to_host('127.0.0.1', peer.port)
    props(d, c, 'state', 'local_port', 'local_address', 'peer_port', 'open_mode')
    c.write(b'from bound')
    d.poll_until(lambda: peer.got(1), label='peer got 1')
    (data, sport), = peer.take()
    d.note('peer got', data)
    d.note('from the bound port', sport == port)


@scenario('udp.unconnected_exchange', ref='tst_QUdpSocket::unconnectedServerAndClientTest, loop')
def _(d):
    a = bound(d, 'a')
    b = d.udp_socket('b')
    with d.setup():
        b.bind('127.0.0.1', 0)
    d.alias(q(d, b.local_port), 'BPORT')
    for i in range(3):
        a.write_datagram(b'a%d' % i, '127.0.0.1', q(d, b.local_port))
    d.run_until(lambda: b.has_pending_datagrams(), label='b pending')
    got = []
    d.run_until(lambda: (b.has_pending_datagrams() and got.append(b.read_datagram(100))) or len(got) >= 3,
                label='b read 3')
    d.note('b got', got)
    b.write_datagram(b'reply', '127.0.0.1', q(d, a.local_port))
    d.run_until(lambda: a.has_pending_datagrams(), label='a pending')
    a.receive_datagram()


@scenario('udp.broadcast', ref='tst_QUdpSocket::broadcasting (loopback only)')
def _(d):
    r = d.udp_socket('r')
    with d.setup():
        r.bind('AnyIPv4', 0, SHARE_ADDRESS | REUSE_ADDRESS_HINT)
    port = d.alias(q(d, r.local_port), 'RPORT')
    s = d.udp_socket('s')
    s.write_datagram(b'all', 'Broadcast', port)
    props(d, s, 'state', 'error', 'error_string')
    with d.setup():
        ok = d.run_until(lambda: r.has_pending_datagrams(), 1000)
    d.note('received', ok)


@scenario('udp.write_datagram_port_zero', ref='§4 writeDatagram ("Other → NetworkError "Unable to send a message"")')
def _(d):
    u = bound(d)
    u.write_datagram(b'x', '127.0.0.1', 0)
    props(d, u, 'state', 'error', 'error_string')
    fresh = d.udp_socket('fresh')
    fresh.write_datagram(b'x', '127.0.0.1', 0)
    props(d, fresh, 'state', 'error', 'error_string')


@scenario('udp.connected_write_datagram_elsewhere', ref='§4 writeDatagram on a connected socket')
def _(d):
    peer = d.udp_peer()
    other = d.udp_peer('127.0.0.1', 'OTHER')
    c = d.udp_socket('c')
    with d.setup():
        c.connect_to_host('127.0.0.1', peer.port)
    c.write_datagram(b'to other', '127.0.0.1', other.port)
    props(d, c, 'state', 'error', 'error_string')
    d.spin(50)
    d.note('peer got', [x for x, _ in peer.take()])
    d.note('other got', [x for x, _ in other.take()])
