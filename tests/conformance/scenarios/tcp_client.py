# TCP client scenarios: QTcpSocket / QSock.Tcp against plain Python peers.
# References are to /work/shared/QT-BEHAVIOUR.md (§) and Qt's auto tests
# (tst_QTcpSocket::<name>, §6.1).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from scenarios import scenario
from scenarios.util import (props, q, tcp_pair, drain_events,
                            UNCONNECTED, HOST_LOOKUP, CONNECTING, CONNECTED, CLOSING,
                            READ_ONLY, WRITE_ONLY)

FRESH = ('state', 'error', 'error_string', 'is_open', 'is_valid', 'open_mode',
         'socket_descriptor', 'local_address', 'local_port', 'peer_address', 'peer_port',
         'peer_name', 'read_buffer_size', 'bytes_available', 'bytes_to_write',
         'socket_type', 'is_sequential', 'at_end', 'can_read_line')


@scenario('tcp.fresh_defaults', ref='§3.1, §8.5; tst_QTcpSocket::constructing')
def _(d):
    c = d.tcp_socket('c')
    props(d, c, *FRESH)
    c.socket_option(0)
    c.flush()
    c.wait_for_connected(10)
    c.wait_for_ready_read(10)
    c.wait_for_disconnected(10)
    c.read_all()
    props(d, c, 'error', 'error_string')


@scenario('tcp.connect.ip_literal', ref='§2.2 A')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    props(d, c, 'state', 'is_open', 'open_mode', 'is_valid', 'peer_name', 'error')
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    peer.accept()
    props(d, c, 'state', 'peer_address', 'peer_port', 'peer_name', 'local_address',
          'is_valid', 'error', 'error_string', 'open_mode')
    d.note('local_port is the peer\'s remote port',
           q(d, lambda: c.local_port() == peer.conns[0].sock.getpeername()[1]))
    d.note('socket_descriptor >= 0', q(d, lambda: c.socket_descriptor() >= 0))
    drain_events(d)


@scenario('tcp.connect.ipv6_literal', ref='§2.2 A (IPv6 loopback)')
def _(d):
    peer = d.tcp_listener('::1')
    c = d.tcp_socket('c')
    c.connect_to_host('::1', peer.port)
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    peer.accept()
    props(d, c, 'state', 'peer_address', 'peer_port', 'peer_name', 'local_address')
    drain_events(d)


@scenario('tcp.connect.hostname', ref='§2.2 B')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('localhost', peer.port)
    props(d, c, 'state', 'is_open', 'peer_name')
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    peer.accept()
    props(d, c, 'state', 'peer_address', 'peer_port', 'peer_name')
    drain_events(d)


@scenario('tcp.connect.refused', ref='§2.2 C; tst_QTcpSocket::connectionRefused')
def _(d):
    port = d.closed_port()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', port)
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'error_string', 'is_open', 'is_valid', 'open_mode',
          'peer_name', 'peer_port', 'socket_descriptor')
    c.write(b'x')
    props(d, c, 'error', 'error_string')
    drain_events(d)


@scenario('tcp.connect.refused_hostname', ref='§2.2 C2, §2.4')
def _(d):
    port = d.closed_port()
    c = d.tcp_socket('c')
    c.connect_to_host('localhost', port)
    d.run_until(lambda: c.state() == UNCONNECTED and q(d, c.error) != -1, label='failed')
    props(d, c, 'state', 'error', 'error_string', 'is_open', 'peer_name')
    drain_events(d)


@scenario('tcp.connect.host_not_found', ref='§2.2 D; tst_QTcpSocket::hostNotFound', timeout=40)
def _(d):
    c = d.tcp_socket('c')
    c.connect_to_host('nosuchhost.invalid', 80)
    props(d, c, 'state', 'is_open')
    d.run_until(lambda: c.state() == UNCONNECTED, 20000, label='unconnected')
    props(d, c, 'state', 'error', 'error_string', 'is_open', 'open_mode', 'peer_name')
    drain_events(d)


@scenario('tcp.connect.while_connected', ref='§2.2 E')
def _(d):
    c, conn, peer = tcp_pair(d)
    c.connect_to_host('127.0.0.1', peer.port)
    props(d, c, 'state', 'error', 'error_string', 'peer_name')
    drain_events(d)


@scenario('tcp.connect.while_connecting', ref='§2.2 step 1')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    c.connect_to_host('127.0.0.1', peer.port)
    props(d, c, 'state', 'error', 'error_string')
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    props(d, c, 'state', 'error', 'error_string')
    drain_events(d)


@scenario('tcp.connect.while_looking_up', ref='§2.2 step 1')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('localhost', peer.port)
    c.connect_to_host('localhost', peer.port)
    props(d, c, 'state', 'error', 'error_string')
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    drain_events(d)


@scenario('tcp.remote_close.with_data', ref='§2.3 F; §3.2; tst_QTcpSocket::readAllAfterClose')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'hello')
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'error_string', 'bytes_available', 'is_open', 'at_end',
          'open_mode', 'peer_name', 'peer_port', 'peer_address')
    c.read_all()
    c.read_ret(10)
    c.get_char()
    c.read_line()
    c.at_end()
    c.skip(3)
    drain_events(d)


@scenario('tcp.remote_close.reset', ref='§2.3 N')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.reset_close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'error_string', 'bytes_available', 'is_open')
    drain_events(d)


@scenario('tcp.remote_close.half_close', ref='§2.3 (read returns 0 = remote close)')
def _(d):
    # The peer shuts down its sending side only: Qt sees end of stream and
    # closes the whole socket.
    c, conn, _ = tcp_pair(d)
    conn.send(b'bye')
    conn.shutdown_write()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'bytes_available')
    c.read_all()
    d.poll_until(conn.closed, label='peer sees close')
    drain_events(d)


@scenario('tcp.disconnect.empty', ref='§2.3 G')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.disconnect_from_host()
    props(d, c, 'state', 'is_open', 'open_mode', 'peer_name', 'peer_port', 'local_port',
          'error', 'error_string')
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())
    drain_events(d)


@scenario('tcp.disconnect.pending_data', ref='§2.3 H; tst_QTcpSocket::clientSendDataOnDelayedDisconnect')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.write(b'x' * 100000)
    c.disconnect_from_host()
    props(d, c, 'state', 'bytes_to_write', 'is_open')
    c.write(b'y' * 10)          # still writable in ClosingState
    d.run_until(lambda: conn.closed() or False, label='peer sees close')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    d.note('peer got', conn.take())
    props(d, c, 'state', 'bytes_to_write', 'is_open', 'open_mode')
    drain_events(d)


@scenario('tcp.disconnect.keeps_unread_data', ref='§2.3 step 6')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'unread')
    d.run_until(lambda: c.bytes_available() == 6, label='data arrived')
    c.disconnect_from_host()
    props(d, c, 'state', 'is_open', 'bytes_available', 'at_end')
    c.read_all()
    c.read_ret(4)
    drain_events(d)


@scenario('tcp.abort.connected_pending', ref='§2.3 I')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.write(b'abc')
    c.abort()
    props(d, c, 'state', 'is_open', 'open_mode', 'bytes_to_write', 'error', 'error_string')
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())
    d.note('peer saw reset', conn.reset)
    drain_events(d)


@scenario('tcp.close.connected_pending', ref='§2.3 J')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.write(b'abc')
    c.close()
    props(d, c, 'state', 'is_open', 'open_mode', 'bytes_to_write')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())
    drain_events(d)


@scenario('tcp.close.connected_empty', ref='§2.3 K')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'dropped')
    d.run_until(lambda: c.bytes_available() == 7, label='data arrived')
    c.close()
    props(d, c, 'state', 'is_open', 'open_mode', 'bytes_available', 'peer_port')
    c.read_all()
    drain_events(d)


@scenario('tcp.abort.connecting', ref='§2.3 L')
def _(d):
    peer = d.full_backlog_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    c.abort()
    props(d, c, 'state', 'is_open', 'open_mode', 'error')
    drain_events(d, 200)


@scenario('tcp.abort.looking_up', ref='§2.3 abort(): "From HostLookupState it also aborts the DNS lookup"')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('localhost', peer.port)
    c.abort()
    props(d, c, 'state', 'is_open', 'error')
    drain_events(d, 300)
    props(d, c, 'state')


@scenario('tcp.disconnect.while_connecting', ref='§2.3 M; tst_QTcpSocket::disconnectWhileConnecting')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    c.write(b'early')
    props(d, c, 'bytes_to_write')
    c.disconnect_from_host()
    props(d, c, 'state', 'bytes_to_write')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    conn = peer.accept()
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())
    drain_events(d)


@scenario('tcp.disconnect.while_looking_up', ref='§2.3 step 2; tst_QTcpSocket::disconnectWhileLookingUp')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('localhost', peer.port)
    c.write(b'lookup')
    c.disconnect_from_host()
    props(d, c, 'state', 'bytes_to_write')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    conn = peer.accept()
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())
    drain_events(d)


@scenario('tcp.disconnect.while_connecting_no_loop',
          ref='§2.3 M; tst_QTcpSocket::disconnectWhileConnectingNoEventLoop')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    c.write(b'noloop')
    c.disconnect_from_host()
    c.wait_for_disconnected(3000)
    props(d, c, 'state', 'bytes_to_write', 'error', 'error_string')
    conn = peer.accept()
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())


@scenario('tcp.connect.timeout_event_loop', ref='§2.2 (30 s connect timer, every address tried twice: ~60 s); §8.3 (probe_timeout T1)',
          timeout=120)
def _(d):
    import time
    peer = d.full_backlog_listener()
    c = d.tcp_socket('c')
    t0 = time.monotonic()
    c.connect_to_host('127.0.0.1', peer.port)
    d.run_until(lambda: c.state() == UNCONNECTED, 90000, label='gave up')
    took = time.monotonic() - t0
    d.note('took 55..70 s', 55 <= took <= 70)
    props(d, c, 'state', 'error', 'error_string', 'is_open')
