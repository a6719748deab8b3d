# TCP client odds and ends: bind, setSocketDescriptor, socket options, open
# modes, reuse of one socket for several connections, errors set and reset.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import socket

import peers
from scenarios import scenario
from scenarios.util import (props, q, tcp_pair, drain_events, replacing,
                            UNCONNECTED, CONNECTED, BOUND,
                            READ_ONLY, WRITE_ONLY, READ_WRITE, IPV4, IPV6, LOW_DELAY, KEEP_ALIVE)


@scenario('tcp.bind.then_connect', ref='§2.2 "bind() before connectToHost"; tst_QTcpSocket::bind, bindThenResolveHost')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.bind('127.0.0.1', 0)
    props(d, c, 'state', 'is_open', 'open_mode', 'is_valid', 'local_address', 'error')
    bound = q(d, c.local_port)
    d.note('bound port > 0', bound > 0)
    c.connect_to_host('127.0.0.1', peer.port)
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    d.note('local port kept', q(d, c.local_port) == bound)
    props(d, c, 'local_address', 'is_open', 'open_mode')


@scenario('tcp.bind.then_resolve_host', ref='tst_QTcpSocket::bindThenResolveHost')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.bind('127.0.0.1', 0)
    bound = q(d, c.local_port)
    c.connect_to_host('localhost', peer.port)
    props(d, c, 'state', 'local_address')
    d.note('local port kept during lookup', q(d, c.local_port) == bound)
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    d.note('local port kept', q(d, c.local_port) == bound)


@scenario('tcp.bind.no_read_notifications', ref='§2.2; tst_QTcpSocket::readNotificationsAfterBind')
def _(d):
    c = d.tcp_socket('c')
    c.bind('127.0.0.1', 0)
    drain_events(d, 200)
    props(d, c, 'state', 'bytes_available', 'error')


@scenario('tcp.bind.twice', ref='§2.6 (bind on a bound socket)')
def _(d):
    c = d.tcp_socket('c')
    c.bind('127.0.0.1', 0)
    c.bind('127.0.0.1', 0)
    props(d, c, 'state', 'error', 'error_string')


@scenario('tcp.bind.address_in_use', ref='§2.6 (failed bind); §7.1 AddressInUseError',
          differs='Qt keeps the socket of a failed bind open (isValid() true, a descriptor); '
                  'qsock closes it, as it does for a failed listen (porting guide)',
          expect_qsock=replacing(('is_valid: True', 'is_valid: False'),
                                 ('descriptor >= 0 = True', 'descriptor >= 0 = False')))
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.bind('127.0.0.1', peer.port)
    props(d, c, 'state', 'error', 'error_string', 'is_valid')
    d.note('socket descriptor >= 0', q(d, c.socket_descriptor) >= 0)
    c.bind('127.0.0.1', 0)
    props(d, c, 'state', 'error', 'error_string')


@scenario('tcp.bind.not_available', ref='§2.6, §7.1 SocketAddressNotAvailableError')
def _(d):
    c = d.tcp_socket('c')
    c.bind('1.2.3.4', 0)
    props(d, c, 'state', 'error', 'error_string')


@scenario('tcp.bind.close_unbinds', ref='§2.6; probe_props')
def _(d):
    c = d.tcp_socket('c')
    c.bind('127.0.0.1', 0)
    c.close()
    props(d, c, 'state', 'local_port', 'local_address', 'is_valid', 'socket_descriptor')
    c.bind('127.0.0.1', 0)
    c.abort()
    props(d, c, 'state', 'local_port')


@scenario('tcp.set_socket_descriptor.connected', ref='§2.7; tst_QTcpSocket::setSocketDescriptor')
def _(d):
    a, conn = peers.connected_pair()
    d.keep.append(conn)
    d.alias(a.getsockname()[1], 'LOCALPORT')
    d.alias(a.getpeername()[1], 'PEERPORT')
    c = d.tcp_socket('c')
    c.set_socket_descriptor(a.detach())
    props(d, c, 'state', 'is_open', 'open_mode', 'peer_address', 'peer_port', 'local_address',
          'local_port', 'peer_name', 'error', 'error_string')
    d.note('socket_descriptor >= 0', q(d, c.socket_descriptor) >= 0)
    conn.send(b'hi')
    d.run_until(lambda: c.bytes_available() == 2, label='2 bytes')
    c.read_all()
    c.write(b'yo')
    d.run_until(lambda: conn.got(2), label='peer got 2')
    d.note('peer got', conn.take())
    c.disconnect_from_host()


@scenario('tcp.set_socket_descriptor.unix_socketpair', ref='§2.7 (AF_UNIX is accepted); probe_server S7',
          differs='Qt bug: it reports 0.0.0.0 as the peer address of an AF_UNIX socket; '
                  'qsock reports a null address ("")',
          expect_qsock=replacing(("peer_address: '0.0.0.0'", "peer_address: ''")))
def _(d):
    a, b = socket.socketpair()
    d.keep.append(peers._Conn(b))
    c = d.tcp_socket('c')
    c.set_socket_descriptor(a.detach())
    props(d, c, 'state', 'open_mode', 'peer_port', 'local_port', 'peer_address')
    b.send(b'hi')
    d.run_until(lambda: c.bytes_available() == 2, label='2 bytes')
    c.read_all()


@scenario('tcp.set_socket_descriptor.modes', ref='§2.7 (opens the device in openMode, sets the state)')
def _(d):
    a, conn = peers.connected_pair()
    d.keep.append(conn)
    c = d.tcp_socket('c')
    c.set_socket_descriptor(a.detach(), CONNECTED, READ_ONLY)
    props(d, c, 'state', 'open_mode', 'is_readable', 'is_writable')
    c.write(b'no')
    conn.send(b'ok')
    d.run_until(lambda: c.bytes_available() == 2, label='2 bytes')
    c.read_all()


@scenario('tcp.set_socket_descriptor.invalid', ref='§2.7 (invalid fd); tst_QTcpSocket::setInvalidSocketDescriptor')
def _(d):
    c = d.tcp_socket('c')
    c.set_socket_descriptor(-5)
    props(d, c, 'state', 'error', 'error_string', 'is_open', 'open_mode', 'socket_descriptor')
    c2 = d.tcp_socket('c2')
    c2.set_socket_descriptor(987)
    props(d, c2, 'state', 'error', 'error_string', 'is_open')


@scenario('tcp.socket_options', ref='§1 SocketOption; probe_server S8; tst_QTcpSocket::setSocketOption')
def _(d):
    c = d.tcp_socket('c')
    c.set_socket_option(LOW_DELAY, 1)
    c.socket_option(LOW_DELAY)
    c2, conn, _ = tcp_pair(d, tag='c2')
    c2.socket_option(LOW_DELAY)
    c2.socket_option(KEEP_ALIVE)
    c2.set_socket_option(LOW_DELAY, 1)
    c2.socket_option(LOW_DELAY)
    c2.set_socket_option(KEEP_ALIVE, 1)
    c2.socket_option(KEEP_ALIVE)
    c2.set_socket_option(KEEP_ALIVE, 0)
    c2.socket_option(KEEP_ALIVE)
    c2.set_socket_option(4, 0x10)       # TypeOfServiceOption
    c2.socket_option(4)
    c2.socket_option(2)                 # MulticastTtlOption on TCP


@scenario('tcp.socket_buffer_options', ref='§1 SocketOption (Send/ReceiveBufferSize)')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.set_socket_option(5, 65536)
    d.note('send buffer >= 65536', q(d, lambda: c.socket_option(5)) >= 65536)
    c.set_socket_option(6, 65536)
    d.note('receive buffer >= 65536', q(d, lambda: c.socket_option(6)) >= 65536)


@scenario('tcp.reconnect.connect_disconnect_twice', ref='tst_QTcpSocket::connectDisconnectConnectDisconnect')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    for _ in range(2):
        props(d, c, 'state', 'error', 'is_open', 'open_mode', 'peer_port', 'peer_name')
        c.connect_to_host('127.0.0.1', peer.port)
        d.run_until(lambda: c.state() == CONNECTED, label='connected')
        conn = peer.accept()
        conn.send(b'hello')
        d.run_until(lambda: c.bytes_available() == 5, label='5 bytes')
        c.read_all()
        c.disconnect_from_host()
        props(d, c, 'state', 'error', 'is_open', 'open_mode', 'peer_port', 'peer_name')
        d.poll_until(conn.closed, label='peer sees close')


@scenario('tcp.reconnect.after_close', ref='tst_QTcpSocket::openCloseOpenClose')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    for _ in range(2):
        props(d, c, 'state', 'is_open', 'open_mode', 'is_valid', 'socket_type', 'error')
        c.close()
        props(d, c, 'state', 'is_open', 'error')
        c.connect_to_host('127.0.0.1', peer.port)
        d.run_until(lambda: c.state() == CONNECTED, label='connected')
        peer.accept()
        c.close()
        props(d, c, 'state', 'is_open', 'open_mode', 'error', 'error_string')


@scenario('tcp.reconnect.after_refused', ref='§8.17 (connectToHost resets the error); §8.5')
def _(d):
    port = d.closed_port()
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', port)
    d.run_until(lambda: c.state() == UNCONNECTED, label='refused')
    props(d, c, 'error', 'error_string', 'is_open')
    c.connect_to_host('127.0.0.1', peer.port)
    props(d, c, 'state', 'error', 'error_string')
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    props(d, c, 'state', 'error', 'error_string')


@scenario('tcp.close.after_refused', ref='§8.5 (the device stays open after a refusal)',
          differs='Qt keeps the socket of the failed attempt, so isValid() stays true after '
                  'close() (with socketDescriptor() -1); qsock reports false once closed',
          expect_qsock=replacing(('is_valid: True', 'is_valid: False'), only='is_open: False'))
def _(d):
    port = d.closed_port()
    c = d.tcp_socket('c')
    with d.setup():
        c.connect_to_host('127.0.0.1', port)
        d.run_until(lambda: c.state() == UNCONNECTED)
    props(d, c, 'is_open', 'is_valid', 'open_mode')
    c.close()
    props(d, c, 'state', 'is_open', 'is_valid', 'open_mode', 'error', 'error_string')


@scenario('tcp.close.unconnected', ref='§2.3 (close/abort/disconnect on a fresh socket)')
def _(d):
    c = d.tcp_socket('c')
    c.close()
    c.abort()
    c.disconnect_from_host()
    props(d, c, 'state', 'error', 'error_string', 'is_open')
    drain_events(d)


@scenario('tcp.open.without_connection', ref='§3.1; QIODevice::open on a QTcpSocket')
def _(d):
    c = d.tcp_socket('c')
    c.open(READ_WRITE)
    props(d, c, 'state', 'is_open', 'open_mode', 'is_valid')
    c.read_ret(4)
    c.write(b'x')
    props(d, c, 'error', 'error_string')
    c.close()
    props(d, c, 'state', 'is_open')
    drain_events(d)


@scenario('tcp.connect.read_only_mode', ref='§2.2 step 3 (QIODevice::open(openMode))')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port, READ_ONLY)
    props(d, c, 'open_mode', 'is_readable', 'is_writable')
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    c.write(b'x')
    props(d, c, 'bytes_to_write', 'error')


@scenario('tcp.connect.protocol_filter_v6', ref='§2.2 _q_startConnecting (addresses of the preferred protocol only)')
def _(d):
    # /etc/hosts gives localhost as 127.0.0.1 only
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('localhost', peer.port, READ_WRITE, IPV6)
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'error_string')


@scenario('tcp.connect.protocol_filter_v4', ref='§2.2 _q_startConnecting (addresses of the preferred protocol only)')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('localhost', peer.port, READ_WRITE, IPV4)
    d.run_until(lambda: c.state() == CONNECTED, label='connected over IPv4')
    props(d, c, 'peer_address')


@scenario('tcp.connect.cached_lookup', ref='§2.2 step 6 ("A cached result is used immediately, so ConnectingState and hostFound come [sync]")')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('localhost', peer.port)
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    c2 = d.tcp_socket('c2')
    c2.connect_to_host('localhost', peer.port)
    d.run_until(lambda: c2.state() == CONNECTED, label='connected')


@scenario('tcp.connect.literal_protocol_mismatch', ref='§2.2 _q_startConnecting (empty list → HostNotFoundError)')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port, READ_WRITE, IPV6)
    props(d, c, 'state')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'error_string')


@scenario('tcp.connect.address', ref='§2.2 (connectToHost(QHostAddress))')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_address('127.0.0.1', peer.port)
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    props(d, c, 'peer_name', 'peer_address')


@scenario('tcp.connect.localhost_special', ref='§2.2; QHostAddress::LocalHostIPv6')
def _(d):
    peer = d.tcp_listener('::1')
    c = d.tcp_socket('c')
    c.connect_to_address('LocalHostIPv6', peer.port)
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    props(d, c, 'peer_name', 'peer_address', 'local_address')


@scenario('tcp.peer_name_after_remote_close', ref='§2.3 step 5 ("peerName() falls back to the name given to connectToHost")')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    with d.setup():
        c.connect_to_host('localhost', peer.port)
        d.run_until(lambda: c.state() == CONNECTED)
        conn = peer.accept()
    props(d, c, 'peer_name', 'peer_address')
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'peer_name', 'peer_address', 'peer_port', 'local_port', 'local_address')
