# The blocking waitFor* calls on TCP sockets, with no event loop running
# (§3.6, §6 of DESIGN.md): signals come synchronously inside the wait.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from scenarios import scenario
from scenarios.util import (props, q, tcp_pair, drain_events,
                            UNCONNECTED, HOST_LOOKUP, CONNECTING, CONNECTED)

EXACT_READY_READ = {'ready_read': 'exact'}


@scenario('tcp.wait.timeouts_connected', ref='§3.6 (probe_wait W1); §8.4; tst_QTcpSocket::dontCloseOnTimeout')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.wait_for_ready_read(200)
    props(d, c, 'state', 'error', 'error_string', 'is_open')
    c.wait_for_bytes_written(200)
    c.wait_for_disconnected(200)
    props(d, c, 'state', 'error', 'error_string', 'is_open')
    c.wait_for_connected(10)


@scenario('tcp.wait.sticky_error', ref='§3.6 "The error code is not reset"; §8.17')
def _(d):
    c, conn, peer = tcp_pair(d)
    c.wait_for_ready_read(100)
    conn.send(b'data1')
    c.wait_for_ready_read(2000)
    props(d, c, 'bytes_available', 'error', 'error_string')
    c.write(b'q')
    c.wait_for_bytes_written(2000)
    props(d, c, 'bytes_to_write', 'error', 'error_string')
    c.read_all()
    props(d, c, 'error', 'error_string')
    c.disconnect_from_host()
    props(d, c, 'error', 'error_string')
    c.connect_to_host('127.0.0.1', peer.port)
    props(d, c, 'error', 'error_string')
    c.wait_for_connected(2000)
    props(d, c, 'error', 'error_string')


@scenario('tcp.wait.ready_read_remote_close', ref='§3.6 waitForReadyRead (remote close during the wait)')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.close()
    c.wait_for_ready_read(2000)
    props(d, c, 'state', 'error', 'error_string', 'is_open')
    c.wait_for_disconnected(100)
    c.wait_for_ready_read(100)
    props(d, c, 'error', 'error_string')


@scenario('tcp.wait.ready_read_data_then_close', ref='§3.6; §2.3 F')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'last words')
    conn.close()
    c.wait_for_ready_read(2000)
    props(d, c, 'state', 'bytes_available')
    c.wait_for_ready_read(2000)
    props(d, c, 'state', 'error', 'bytes_available')
    c.read_all()


@scenario('tcp.wait.timeout_error_resetting', ref='§3.6; tst_QTcpSocket::taskQtBug7054TimeoutErrorResetting')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.wait_for_ready_read(100)
    props(d, c, 'error', 'error_string')
    conn.close()
    c.wait_for_ready_read(2000)
    props(d, c, 'state', 'error', 'error_string')


@scenario('tcp.wait.disconnected_remote_close', ref='§3.6 waitForDisconnected')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'xy')
    conn.close()
    c.wait_for_disconnected(2000)
    props(d, c, 'state', 'error', 'bytes_available', 'is_open')
    c.wait_for_disconnected(100)


@scenario('tcp.wait.disconnected_pending_writes', ref='§3.6 waitForDisconnected; §2.3 H')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.write(b'w' * 50000)
    c.disconnect_from_host()
    c.wait_for_disconnected(3000)
    props(d, c, 'state', 'bytes_to_write')
    d.poll_until(lambda: conn.closed(), label='peer sees close')
    d.note('peer got', conn.take())


@scenario('tcp.wait.connected_timeout', ref='§3.6 waitForConnected (probe_wait W2); §8.4')
def _(d):
    peer = d.full_backlog_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    c.wait_for_connected(300)
    props(d, c, 'state', 'error', 'error_string', 'is_open', 'socket_descriptor')
    drain_events(d, 100)


@scenario('tcp.wait.connected_refused', ref='§3.6 (probe_wait W3); tst_QTcpSocket::taskQtBug5799ConnectionErrorWaitForConnected')
def _(d):
    port = d.closed_port()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', port)
    c.wait_for_connected(2000)
    props(d, c, 'state', 'error', 'error_string', 'is_open')
    drain_events(d)


@scenario('tcp.wait.connected_event_loop_refused', ref='tst_QTcpSocket::taskQtBug5799ConnectionErrorEventLoop')
def _(d):
    port = d.closed_port()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', port)
    d.run_until(lambda: c.error() != -1, label='error')
    props(d, c, 'state', 'error', 'error_string')
    c.wait_for_connected(100)


@scenario('tcp.wait.connected_hostname', ref='§3.6 (probe_wait W4, probe_noloop)')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('localhost', peer.port)
    c.wait_for_connected(3000)
    props(d, c, 'state', 'peer_name', 'peer_address')
    drain_events(d)


@scenario('tcp.wait.connected_host_not_found', ref='§3.6 (probe_wait W5)', timeout=40)
def _(d):
    c = d.tcp_socket('c')
    c.connect_to_host('nosuchhost.invalid', 80)
    c.wait_for_connected(20000)
    props(d, c, 'state', 'error', 'error_string', 'is_open')
    drain_events(d)


@scenario('tcp.wait.unconnected', ref='§3.6 (Unconnected on entry)')
def _(d):
    c = d.tcp_socket('c')
    c.wait_for_connected(100)
    c.wait_for_ready_read(100)
    c.wait_for_bytes_written(100)
    c.wait_for_disconnected(100)
    props(d, c, 'state', 'error', 'error_string')


@scenario('tcp.wait.synchronous_api', ref='§3.6; tst_QTcpSocket::synchronousApi, blockingIMAP (adapted); probe_noloop')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    c.wait_for_connected(3000)
    conn = peer.accept()
    c.write(b'ping\n')
    c.bytes_to_write()
    c.wait_for_bytes_written(2000)
    c.bytes_to_write()
    d.poll_until(lambda: conn.got(5), label='peer got ping')
    conn.send(b'pong\n')
    c.wait_for_ready_read(2000)
    c.can_read_line()
    c.read_line()
    conn.close()
    c.wait_for_disconnected(2000)
    props(d, c, 'state', 'error', 'error_string')


@scenario('tcp.wait.ready_read_drives_writes', ref='§3.6 waitForReadyRead "Also drives pending writes"')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.echo_in_thread(4)
    c.write(b'echo')
    c.wait_for_ready_read(3000)
    props(d, c, 'bytes_to_write')
    c.read_all()


@scenario('tcp.wait.ready_read_minus_one', ref='tst_QTcpSocket::waitForReadyReadMinusOne')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send_later(b'late', 0.2)
    c.wait_for_ready_read(-1)
    c.read_all()


@scenario('tcp.wait.bytes_written_minus_one', ref='tst_QTcpSocket::waitForBytesWrittenMinusOne')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.write(b'x' * 1000)
    c.wait_for_bytes_written(-1)
    c.bytes_to_write()
    d.poll_until(lambda: conn.got(1000), label='peer got 1000')


@scenario('tcp.wait.no_ready_read_after_wait', ref='§3.3; tst_QTcpSocket::readyReadSignalsAfterWaitForReadyRead',
          rules=EXACT_READY_READ)
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'0123456789')
    d.sleep(50)
    c.wait_for_ready_read(2000)
    c.bytes_available()
    drain_events(d, 200)
    c.read_all()
    drain_events(d, 100)


@scenario('tcp.wait.ready_read_while_connecting', ref='§3.6 waitForReadyRead (HostLookup/Connecting → waitForConnected first)')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    conn = peer.accept()
    conn.send(b'hi')
    d.sleep(50)
    c.wait_for_ready_read(3000)
    props(d, c, 'state', 'bytes_available')
    c.read_all()


@scenario('tcp.wait.connected_in_host_found_slot', ref='tst_QTcpSocket::waitForConnectedInHostLookupSlot')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')

    def on_host_found():
        c.wait_for_connected(3000)
        props(d, c, 'state', 'error', 'error_string', label='in slot')
    c.on('host-found', on_host_found)
    c.connect_to_host('localhost', peer.port)
    d.run_until(lambda: c.state() == CONNECTED, label='connected')
    drain_events(d)
    props(d, c, 'state', 'error')


@scenario('tcp.wait.bytes_written_reads_meanwhile', ref='§3.6 waitForBytesWritten "Reads in the meantime"')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'incoming')
    d.sleep(50)
    c.write(b'out')
    c.wait_for_bytes_written(2000)
    props(d, c, 'bytes_available', 'bytes_to_write')
    d.poll_until(lambda: conn.got(3), label='peer got 3')


@scenario('tcp.wait.bytes_written_timeout', ref='§3.6 waitForBytesWritten (timeout → errorOccurred(SocketTimeoutError))', timeout=60)
def _(d):
    c, conn, _ = tcp_pair(d)
    c.set_socket_option(5, 16384)                    # small send buffer
    with d.setup():
        c.write(b'f' * (8 << 20))
        last = [q(d, c.bytes_to_write), 0]

        def stalled():
            now = c.bytes_to_write()
            if now == last[0]:
                last[1] += 1
            else:
                last[0], last[1] = now, 0
            return last[1] >= 20
        d.run_until(stalled, 10000)
    d.note('still queued', q(d, c.bytes_to_write) > 0)
    c.wait_for_bytes_written(200)
    props(d, c, 'state', 'error', 'error_string', 'is_open')


@scenario('tcp.wait.ready_read_with_full_buffer', ref='§3.4 + §3.6 (waitForReadyRead while the read buffer is full)')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.set_read_buffer_size(4)
    conn.send(b'abcdefgh')
    d.run_until(lambda: c.bytes_available() == 4, label='4 buffered')
    c.wait_for_ready_read(200)
    props(d, c, 'state', 'bytes_available', 'error', 'error_string')
    c.read_all()
    c.wait_for_ready_read(1000)
    props(d, c, 'bytes_available', 'error')


@scenario('tcp.wait.in_a_thread', ref='§3.6 (no event loop needed); DESIGN.md §6; tst_QTcpSocket::socketInAThread (adapted)')
def _(d):
    import threading
    peer = d.tcp_listener()
    result = {}

    def worker():
        c = d.tcp_socket('c')
        c.connect_to_host('127.0.0.1', peer.port)
        c.wait_for_connected(3000)
        conn = peer.accept()
        conn.echo_in_thread(4)
        c.write(b'ping')
        c.wait_for_bytes_written(3000)
        c.wait_for_ready_read(3000)
        c.read_all()
        c.disconnect_from_host()
        props(d, c, 'state', 'error')
        result['c'] = c      # keep it alive until teardown, in this thread's hands
    t = threading.Thread(target=worker)
    t.start()
    t.join(10)
    d.note('worker finished', not t.is_alive())
