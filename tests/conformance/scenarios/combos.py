# Combinations: closing calls in the middle of other states, transactions
# under arriving data, buffer limits with closes, Text mode across arrivals.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from scenarios import scenario
from scenarios.util import (props, q, tcp_pair, local_pair, drain_events,
                            UNCONNECTED, CONNECTED, CLOSING, READ_ONLY)


@scenario('combo.tcp.close_while_looking_up_with_data', ref='§2.3 close(); tst_QTcpSocket::bindThenResolveHost (putChar + close during the lookup)')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('localhost', peer.port)
    c.put_char(ord('!'))
    c.close()
    props(d, c, 'state', 'is_open', 'open_mode', 'bytes_to_write')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    conn = peer.try_accept()
    d.note('peer connected', conn is not None)
    if conn is not None:
        d.poll_until(conn.closed, label='peer sees close')
        d.note('peer got', conn.take())


@scenario('combo.tcp.close_while_connecting_with_data', ref='§2.3 close() + disconnectFromHost in ConnectingState')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    c.write(b'queued')
    c.close()
    props(d, c, 'state', 'is_open', 'bytes_to_write')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    conn = peer.accept()
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())


@scenario('combo.tcp.abort_while_closing', ref='§2.3 abort() in ClosingState')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.set_socket_option(5, 16384)
    c.write(b'p' * (4 << 20))
    c.disconnect_from_host()
    props(d, c, 'state')
    c.abort()
    props(d, c, 'state', 'bytes_to_write', 'is_open')
    drain_events(d)


@scenario('combo.tcp.disconnect_twice_while_closing', ref='§2.3 disconnectFromHost (state already Closing)')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.write(b'x' * 5000)
    c.disconnect_from_host()
    c.disconnect_from_host()
    props(d, c, 'state', 'bytes_to_write')
    c.wait_for_bytes_written(2000)
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', len(conn.take()))


@scenario('combo.tcp.transaction_in_ready_read', ref='§3.2 transactions (fortune client: startTransaction in readyRead)')
def _(d):
    c, conn, _ = tcp_pair(d)
    frames = []

    def on_ready_read():
        c.start_transaction()
        head = c.read(2)
        if len(head) < 2:
            c.rollback_transaction()
            return
        n = head[0] * 256 + head[1]
        body = c.read(n)
        if len(body) < n:
            c.rollback_transaction()
            return
        c.commit_transaction()
        frames.append(body)
    c.on('ready-read', on_ready_read)
    conn.send(b'\x00\x05he')
    d.run_until(lambda: c.bytes_available() == 4, label='partial frame')
    conn.send(b'llo')
    d.run_until(lambda: len(frames) == 1, label='one frame')
    props(d, c, 'bytes_available', 'is_transaction_started')


@scenario('combo.tcp.transaction_with_buffer_limit', ref='§3.2 transactions + §3.4 readBufferSize')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.set_read_buffer_size(4)
    conn.send(b'0123456789')
    d.run_until(lambda: c.bytes_available() == 4, label='4 buffered')
    c.start_transaction()
    c.read(4)
    drain_events(d, 100)
    props(d, c, 'bytes_available')
    c.read(4)
    c.rollback_transaction()
    props(d, c, 'bytes_available')
    c.set_read_buffer_size(0)
    d.run_until(lambda: c.bytes_available() == 10, label='all 10')
    c.read_all()


@scenario('combo.tcp.buffer_limit_raised_after_close', ref='§3.4 (setReadBufferSize resumes "only in ConnectedState")')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.set_read_buffer_size(4)
    conn.send(b'abcdefgh')
    d.run_until(lambda: c.bytes_available() == 4, label='4 buffered')
    conn.close()
    drain_events(d, 100)
    props(d, c, 'state', 'bytes_available')
    c.set_read_buffer_size(0)
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'bytes_available', 'error')
    c.read_all()


@scenario('combo.tcp.text_mode_split_crlf', ref='§3.2 Text mode (a "\\r\\n" split across arrivals)')
def _(d):
    c, conn, _ = tcp_pair(d, mode=3 | 16)
    conn.send(b'abc\r')
    d.run_until(lambda: c.bytes_available() >= 4, label='first part')
    c.can_read_line()
    c.bytes_available()
    conn.send(b'\ndef\n')
    d.run_until(lambda: c.bytes_available() >= 8, label='second part')
    c.can_read_line()
    c.read_line()
    c.read_line()
    c.read_all()


@scenario('combo.tcp.read_only_then_remote_close', ref='§2.3 F with a ReadOnly socket')
def _(d):
    c, conn, _ = tcp_pair(d, mode=READ_ONLY)
    conn.send(b'ro')
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'open_mode', 'bytes_available')
    c.read_all()


@scenario('combo.tcp.wait_for_bytes_written_while_closing', ref='§3.6 waitForBytesWritten in ClosingState')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.write(b'c' * 3000)
    c.disconnect_from_host()
    c.wait_for_bytes_written(2000)
    props(d, c, 'state', 'bytes_to_write')
    c.wait_for_disconnected(2000)
    props(d, c, 'state')
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', len(conn.take()))


@scenario('combo.local.backpressure_hides_close', ref='§3.4 on a local socket (tst_QLocalSocket::readBufferOverflow + remote close)')
def _(d):
    c, conn, _ = local_pair(d)
    c.set_read_buffer_size(8)
    conn.send(b'L' * 20)
    conn.close()
    d.run_until(lambda: c.bytes_available() == 8, label='8 buffered')
    drain_events(d, 100)
    props(d, c, 'state', 'bytes_available')
    c.read_all()
    d.run_until(lambda: c.bytes_available() == 8, label='8 more')
    c.read_all()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'error_string', 'bytes_available')
    c.read_all()


@scenario('combo.local.read_only_mode', ref='§2.5 connectToServer(name, mode)')
def _(d):
    c, conn, _ = local_pair(d, mode=READ_ONLY)
    props(d, c, 'open_mode', 'is_writable')
    c.write(b'nope')
    props(d, c, 'error', 'error_string', 'bytes_to_write')
    conn.send(b'yes')
    d.run_until(lambda: c.bytes_available() == 3, label='3 bytes')
    c.read_all()


@scenario('combo.local.transaction', ref='§3.2 transactions on a local socket')
def _(d):
    c, conn, _ = local_pair(d)
    conn.send(b'abcdef')
    d.run_until(lambda: c.bytes_available() == 6, label='6 bytes')
    c.start_transaction()
    c.read(4)
    c.rollback_transaction()
    c.start_transaction()
    c.read(2)
    c.commit_transaction()
    c.read_all()


@scenario('combo.udp.connected_bytes_available', ref='§3.2 bytesAvailable on connected UDP')
def _(d):
    peer = d.udp_peer()
    c = d.udp_socket('c')
    with d.setup():
        c.connect_to_host('127.0.0.1', peer.port)
    port = d.alias(q(d, c.local_port), 'CPORT')
    c.bytes_available()
    peer.sendto(b'12345', port)
    d.sleep(50)
    c.bytes_available()
    c.can_read_line()
    c.at_end()
    c.read_all()
    c.bytes_available()
    c.at_end()
