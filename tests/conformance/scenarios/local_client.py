# Local socket scenarios: QLocalSocket / QSock.Local with plain Python
# AF_UNIX peers in $TMPDIR (§2.5, §7.2; tst_QLocalSocket).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import socket

import peers
from scenarios import scenario
from scenarios.util import (props, q, local_pair, drain_events, replacing,
                            UNCONNECTED, CONNECTING, CONNECTED, READ_ONLY, WRITE_ONLY, READ_WRITE)

LOCAL_PROPS = ('state', 'error', 'error_string', 'is_open', 'open_mode', 'server_name',
               'full_server_name')


@scenario('local.fresh_defaults', ref='§2.5 Other facts (Defaults); tst_QLocalSocket::socket_basic')
def _(d):
    c = d.local_socket('c')
    props(d, c, 'state', 'error', 'error_string', 'is_open', 'is_valid', 'open_mode',
          'server_name', 'full_server_name', 'socket_descriptor', 'read_buffer_size',
          'socket_options', 'bytes_available', 'bytes_to_write', 'is_sequential', 'can_read_line',
          'at_end')
    c.wait_for_connected(10)
    c.wait_for_ready_read(10)
    c.wait_for_bytes_written(10)
    c.wait_for_disconnected(10)
    c.flush()
    c.write(b'x')
    props(d, c, 'error', 'error_string')
    c.abort()
    c.close()
    c.disconnect_from_server()
    drain_events(d)


@scenario('local.connect.not_found', ref='§2.5 L1')
def _(d):
    c = d.local_socket('c')
    c.connect_to_server('does_not_exist')
    props(d, c, *LOCAL_PROPS)
    drain_events(d)


@scenario('local.connect.empty_name', ref='§2.5 L1b')
def _(d):
    c = d.local_socket('c')
    c.connect_to_server('')
    props(d, c, *LOCAL_PROPS)
    c.connect_to_server()
    props(d, c, 'state', 'error', 'error_string')
    drain_events(d)


@scenario('local.connect.refused_stale_file', ref='§2.5 L1c')
def _(d):
    st = socket.socket(socket.AF_UNIX)
    st.bind(d.path('stale'))
    st.close()
    c = d.local_socket('c')
    c.connect_to_server('stale')
    props(d, c, *LOCAL_PROPS)
    drain_events(d)


@scenario('local.connect.not_a_socket', ref='§2.5 connect errors (ECONNREFUSED for a regular file)')
def _(d):
    with open(d.path('plainfile'), 'w') as f:
        f.write('x')
    c = d.local_socket('c')
    c.connect_to_server('plainfile')
    props(d, c, 'state', 'error', 'error_string')


@scenario('local.connect.long_path', ref='§2.5 ("A path that is too long also gives ServerNotFoundError")')
def _(d):
    c = d.local_socket('c')
    c.connect_to_server('x' * 200)
    props(d, c, 'state', 'error', 'error_string', 'server_name')


@scenario('local.connect', ref='§2.5 L2; tst_QLocalSocket::listenAndConnect')
def _(d):
    lst = d.unix_listener('srv')
    c = d.local_socket('c')
    c.connect_to_server('srv')
    props(d, c, *LOCAL_PROPS)
    props(d, c, 'is_valid', 'is_readable', 'is_writable', 'bytes_available', 'socket_options')
    d.note('socket descriptor >= 0', q(d, c.socket_descriptor) >= 0)
    conn = lst.accept()
    conn.send(b'hello')
    d.run_until(lambda: c.bytes_available() == 5, label='5 bytes')
    c.read_all()
    c.write(b'world')
    d.run_until(lambda: conn.got(5), label='peer got 5')
    d.note('peer got', conn.take())
    drain_events(d)


@scenario('local.connect.absolute_path', ref='§2.5 fullServerName ("if it starts with /")')
def _(d):
    lst = d.unix_listener('abs')
    c = d.local_socket('c')
    c.connect_to_server(lst.path)
    props(d, c, *LOCAL_PROPS)


@scenario('local.connect.open', ref='§2.5 ("open(mode) = connectToServer(mode)"); tst_QLocalSocket::connectWithOpen')
def _(d):
    d.unix_listener('srv')
    c = d.local_socket('c')
    c.open(READ_WRITE)
    props(d, c, 'state', 'error')
    c.set_server_name('srv')
    c.server_name()
    c.full_server_name()
    c.open(READ_WRITE)
    props(d, c, *LOCAL_PROPS)


@scenario('local.connect.by_server_name', ref='§2.5 connectToServer(mode) with setServerName')
def _(d):
    d.unix_listener('srv')
    c = d.local_socket('c')
    c.set_server_name('srv')
    c.connect_to_server(None, READ_ONLY)
    props(d, c, *LOCAL_PROPS)
    c.write(b'x')
    props(d, c, 'error', 'error_string', 'bytes_to_write')


@scenario('local.set_server_name_while_connected', ref='§2.5 ("setServerName() and setSocketOptions() are ignored ... unless Unconnected")')
def _(d):
    c, conn, _ = local_pair(d)
    c.set_server_name('other')
    c.set_socket_options(1)
    props(d, c, 'server_name', 'full_server_name', 'socket_options', 'state')
    c.disconnect_from_server()
    props(d, c, 'server_name', 'full_server_name')
    c.set_server_name('other')
    props(d, c, 'server_name', 'full_server_name')


@scenario('local.connect.while_connected', ref='§2.5 connectToServer (OperationError), §8.12',
          differs='porting guide: qsock_local_get_error() reports OPERATION (Qt\'s error() '
                  'cannot), and the text reads "connectToServer" (Qt\'s has a typo)',
          expect_qsock=replacing(('connectToserver', 'connectToServer'),
                                 ('error: -1, error_string: \'QLocalSocket::connectToServer: Operation',
                                  'error: 19, error_string: \'QLocalSocket::connectToServer: Operation')))
def _(d):
    c, conn, _ = local_pair(d)
    c.connect_to_server('srv')
    props(d, c, *LOCAL_PROPS)
    drain_events(d)


@scenario('local.remote_close', ref='§2.5 L3; tst_QLocalSocket::waitForDisconnectByServer (event loop)')
def _(d):
    c, conn, _ = local_pair(d)
    conn.send(b'hello\n')
    d.run_until(lambda: c.bytes_available() == 6, label='6 bytes')
    c.can_read_line()
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, *LOCAL_PROPS)
    props(d, c, 'bytes_available', 'at_end')
    c.read_all()
    c.read_ret(4)
    c.at_end()
    drain_events(d)


@scenario('local.remote_close_with_unread_input', ref='§2.5 (errors forwarded from the inner socket)')
def _(d):
    # The peer closes without reading what we sent: AF_UNIX gives the
    # reader ECONNRESET rather than EOF.
    c, conn, _ = local_pair(d)
    c.write(b'never read')
    d.run_until(lambda: c.bytes_to_write() == 0, label='sent')
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'error_string')


@scenario('local.disconnect.pending', ref='§2.5 L4; tst_QLocalSocket::delayedDisconnect')
def _(d):
    c, conn, _ = local_pair(d)
    c.write(b'x')
    c.disconnect_from_server()
    props(d, c, 'state', 'bytes_to_write', 'is_open')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())
    props(d, c, *LOCAL_PROPS)


@scenario('local.disconnect.empty', ref='§2.5 (§2.3 G through the inner socket); tst_QLocalSocket::syncDisconnectNotify')
def _(d):
    c, conn, _ = local_pair(d)
    c.disconnect_from_server()
    props(d, c, *LOCAL_PROPS)
    d.poll_until(conn.closed, label='peer sees close')
    drain_events(d)


@scenario('local.abort', ref='§2.5 L5 (aboutToClose comes last)')
def _(d):
    c, conn, _ = local_pair(d)
    c.write(b'dropped')
    c.abort()
    props(d, c, *LOCAL_PROPS)
    props(d, c, 'bytes_to_write')
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())
    drain_events(d)


@scenario('local.close', ref='§2.5 L6')
def _(d):
    c, conn, _ = local_pair(d)
    c.close()
    props(d, c, *LOCAL_PROPS)
    d.poll_until(conn.closed, label='peer sees close')
    c.connect_to_server('srv')
    props(d, c, 'state', 'is_open', 'server_name')
    drain_events(d)


@scenario('local.close_pending', ref='§2.5 (close() with queued data, §2.3 J)')
def _(d):
    c, conn, _ = local_pair(d)
    c.write(b'abc')
    c.close()
    props(d, c, 'state', 'is_open', 'bytes_to_write')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())


@scenario('local.wait_for_ready_read_timeout', ref='§3.6 QLocalSocket (probe_local L7)')
def _(d):
    c, conn, _ = local_pair(d)
    c.wait_for_ready_read(100)
    props(d, c, 'state', 'error', 'error_string', 'is_open')
    conn.send(b'now')
    c.wait_for_ready_read(2000)
    props(d, c, 'bytes_available', 'error', 'error_string')


@scenario('local.write_to_disconnected', ref='§3.6 (probe_local L7); tst_QLocalSocket::writeToDisconnected')
def _(d):
    c, conn, _ = local_pair(d)
    conn.close()
    d.sleep(50)
    c.put_char(ord('a'))
    c.bytes_to_write()
    c.wait_for_bytes_written(500)
    props(d, c, 'state', 'error', 'error_string', 'bytes_to_write', 'is_open')
    drain_events(d)


@scenario('local.wait_for_disconnected', ref='§3.6 QLocalSocket; tst_QLocalSocket::waitForDisconnect, waitForDisconnectByServer')
def _(d):
    c, conn, _ = local_pair(d)
    c.wait_for_disconnected(100)
    props(d, c, 'state', 'error', 'error_string')
    conn.close()
    c.wait_for_disconnected(2000)
    props(d, c, 'state', 'error', 'error_string')
    c.wait_for_disconnected(100)
    c.wait_for_connected(100)


@scenario('local.wait_for_disconnected_own', ref='tst_QLocalSocket::waitForDisconnect')
def _(d):
    c, conn, _ = local_pair(d)
    c.write(b'bye')
    c.disconnect_from_server()
    c.wait_for_disconnected(2000)
    props(d, c, 'state', 'bytes_to_write')
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', conn.take())


@scenario('local.wait_for_ready_read_on_disconnected', ref='tst_QLocalSocket::waitForReadyReadOnDisconnected')
def _(d):
    c, conn, _ = local_pair(d)
    conn.send(b'abc')
    conn.close()
    d.sleep(50)
    c.wait_for_ready_read(1000)
    props(d, c, 'state', 'bytes_available')
    c.wait_for_ready_read(1000)
    props(d, c, 'state', 'error', 'error_string', 'bytes_available')
    c.read_all()


@scenario('local.wait_for_connected', ref='§3.6 QLocalSocket waitForConnected')
def _(d):
    d.unix_listener('srv')
    c = d.local_socket('c')
    c.wait_for_connected(100)
    c.connect_to_server('srv')
    c.wait_for_connected(100)
    props(d, c, 'state', 'error')


@scenario('local.backlog_full', ref='§2.5 LB (EAGAIN: stays Connecting)')
def _(d):
    lst = d.unix_listener('full', backlog=0)
    fillers = []
    for _ in range(3):
        f = socket.socket(socket.AF_UNIX)
        f.setblocking(False)
        try:
            f.connect(lst.path)
        except BlockingIOError:
            pass
        fillers.append(f)
    d.keep.append(type('K', (), {'teardown': staticmethod(lambda: [f.close() for f in fillers])})())
    c = d.local_socket('c')
    c.connect_to_server('full')
    props(d, c, 'state', 'is_open', 'error')
    c.wait_for_connected(300)
    props(d, c, 'state', 'is_open', 'error', 'error_string')
    lst.try_accept()
    lst.try_accept()
    lst.try_accept()
    d.run_until(lambda: c.state() != CONNECTING, 2000, label='left Connecting')
    props(d, c, 'state', 'is_open', 'error')


@scenario('local.backpressure', ref='§3.4; tst_QLocalSocket::readBufferOverflow')
def _(d):
    c, conn, _ = local_pair(d)
    c.set_read_buffer_size(128)
    c.read_buffer_size()
    conn.send(b'R' * 256)
    d.run_until(lambda: c.bytes_available() == 128, label='128 buffered')
    drain_events(d, 100)
    props(d, c, 'bytes_available')
    c.read(128)
    d.run_until(lambda: c.bytes_available() == 128, label='128 more')
    c.read_all()
    drain_events(d)


@scenario('local.read_apis', ref='§3.2; tst_QLocalSocket::readLine, skip, sendData')
def _(d):
    c, conn, _ = local_pair(d)
    conn.send(b'one\ntwo\nthree')
    d.run_until(lambda: c.bytes_available() == 13, label='13 bytes')
    c.can_read_line()
    c.read_line()
    c.read_line(3)
    c.skip(2)
    c.peek(3)
    c.read_line()
    c.read_ret(5)
    c.read_ret(5)
    c.read_line_ret(5)
    c.at_end()


@scenario('local.write_only', ref='§3.3 WriteOnly; tst_QLocalSocket::writeOnlySocket')
def _(d):
    c, conn, _ = local_pair(d, mode=WRITE_ONLY)
    props(d, c, 'open_mode', 'is_readable', 'is_writable')
    c.write(b'out')
    d.run_until(lambda: conn.got(3), label='peer got 3')
    conn.send(b'ignored')
    drain_events(d, 150)
    props(d, c, 'bytes_available', 'state')


@scenario('local.bytes_written', ref='§3.5; tst_QLocalSocket::bytesWrittenSignal')
def _(d):
    c, conn, _ = local_pair(d)
    c.write(b'a' * 10)
    c.write(b'b' * 20000)
    d.run_until(lambda: conn.got(20010) and c.bytes_to_write() == 0, label='peer got all')
    c.flush()
    c.write(b'z')
    c.flush()
    c.wait_for_bytes_written(100)
    drain_events(d)


@scenario('local.set_socket_descriptor', ref='§2.5 setSocketDescriptor; tst_QLocalSocket::setSocketDescriptor')
def _(d):
    a, b = socket.socketpair()
    peer = peers._Conn(b)
    d.keep.append(peer)
    c = d.local_socket('c')
    c.set_socket_descriptor(a.detach())
    props(d, c, *LOCAL_PROPS)
    peer.send(b'hi')
    d.run_until(lambda: c.bytes_available() == 2, label='2 bytes')
    c.read_all()
    c.write(b'yo')
    d.run_until(lambda: peer.got(2), label='peer got 2')
    peer.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'error_string')


@scenario('local.set_socket_descriptor_states', ref='§2.5 setSocketDescriptor (state and mode as given)')
def _(d):
    a, b = socket.socketpair()
    d.keep.append(peers._Conn(b))
    c = d.local_socket('c')
    c.set_socket_descriptor(a.detach(), CONNECTING, READ_ONLY)
    props(d, c, 'state', 'open_mode', 'is_valid')


@scenario('local.set_socket_descriptor_invalid', ref='§2.5 ("fd=-1 still leaves state and openMode set")',
          differs='porting guide: qsock_local_set_socket_descriptor() with a bad descriptor '
                  'changes nothing (Qt leaves the state and open mode set)',
          expect_qsock=['call c.set_socket_descriptor(-1) -> False',
                        "note c props = {error: -1, error_string: 'Unknown error', is_open: False, "
                        "open_mode: 0, state: 0}",
                        'end', 'teardown'])
def _(d):
    c = d.local_socket('c')
    c.set_socket_descriptor(-1)
    props(d, c, 'state', 'is_open', 'open_mode', 'error', 'error_string')


@scenario('local.abstract_namespace', ref='§2.5 (AbstractNamespaceOption); tst_QLocalSocket::listenAndConnectAbstractNamespace')
def _(d):
    name = d.uniq + '_abs'
    lst = peers.UnixListener(name, abstract=True)
    d.keep.append(lst)
    c = d.local_socket('c')
    c.set_socket_options(1)
    c.socket_options()
    c.connect_to_server(name)
    props(d, c, *LOCAL_PROPS)
    lst.accept()
    plain = d.local_socket('plain')
    plain.connect_to_server(name)
    props(d, plain, 'state', 'error', 'error_string')


@scenario('local.sequential_connects', ref='tst_QLocalSocket::recycleClientSocket')
def _(d):
    lst = d.unix_listener('srv')
    c = d.local_socket('c')
    for i in range(2):
        c.connect_to_server('srv')
        conn = lst.accept()
        conn.send(b'%d' % i)
        d.run_until(lambda: c.bytes_available() == 1, label='1 byte')
        c.read_all()
        c.disconnect_from_server()
        props(d, c, 'state', 'error', 'is_open', 'server_name')


@scenario('local.connect.subdirectory_name', ref='§2.5 fullServerName (tempPath + "/" + name)')
def _(d):
    os.mkdir(d.path('sub'))
    lst = peers.UnixListener(d.path('sub/srv'))
    d.keep.append(lst)
    c = d.local_socket('c')
    c.connect_to_server('sub/srv')
    props(d, c, *LOCAL_PROPS)


@scenario('local.wait_for_bytes_written', ref='§3.6 QLocalSocket waitForBytesWritten')
def _(d):
    c, conn, _ = local_pair(d)
    c.wait_for_bytes_written(100)
    props(d, c, 'error', 'error_string')
    c.write(b'abc')
    c.wait_for_bytes_written(1000)
    props(d, c, 'bytes_to_write', 'error')
    d.poll_until(lambda: conn.got(3), label='peer got 3')
