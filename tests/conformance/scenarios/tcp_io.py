# TCP reading and writing: the QIODevice API on a connected socket,
# readyRead/bytesWritten emission, readBufferSize backpressure, write errors.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from scenarios import scenario
from scenarios.util import (props, q, tcp_pair, drain_events,
                            UNCONNECTED, CONNECTED, READ_ONLY, WRITE_ONLY)

EXACT_READY_READ = {'ready_read': 'exact'}


@scenario('tcp.io.read_apis', ref='§3.2; probe_io R2; tst_QIODevice::peek/readLine/unget')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'line1\nline2\npartial')
    d.run_until(lambda: c.bytes_available() == 19, label='19 bytes')
    c.can_read_line()
    c.peek(3)
    c.bytes_available()
    c.read_line()
    c.read_line(4)
    c.get_char()
    c.unget_char(ord('Z'))
    c.bytes_available()
    c.peek(3)
    c.can_read_line()
    c.read_line()
    c.at_end()
    c.can_read_line()
    c.read_ret(100)
    c.read_all()
    c.read_line()
    c.skip(5)
    conn.send(b'0123456789')
    d.run_until(lambda: c.bytes_available() == 10, label='10 bytes')
    c.skip(3)
    c.read(2)
    c.read_line_ret(1)
    c.read_line_ret(2)
    c.peek(100)
    c.put_char(ord('x'))
    c.bytes_to_write()
    c.is_sequential()
    drain_events(d)


@scenario('tcp.io.read_line_limits', ref='§3.1 (maxSize < 2), §3.2 readLine; §8.16')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'abcdef\nxy\n')
    d.run_until(lambda: c.bytes_available() == 10, label='10 bytes')
    c.read_line_ret(1)
    c.read_line_ret(0)
    c.read_line_ret(3)
    c.read_line(3)
    c.read_line(1)
    c.read_line_ret(100)
    c.read_line_ret(3)
    c.read_line(0)
    c.read_line_ret(5)
    c.read(0)
    c.peek(0)
    c.skip(0)
    c.bytes_available()


@scenario('tcp.io.zero_and_minus_one', ref='§3.2, §8.7; tst_QTcpSocket::zeroAndMinusOneReturns')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.read_ret(10)
    c.read_line_ret(10)
    c.get_char()
    c.skip(4)
    c.read_all()
    c.peek(4)
    conn.send(b'z')
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    c.read_ret(10)
    c.read_ret(10)
    c.read_line_ret(10)
    c.get_char()
    c.skip(4)
    c.peek(4)
    c.read_all()


@scenario('tcp.io.ready_read_per_arrival', ref='§3.3 (observed R1)', rules=EXACT_READY_READ)
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'one')
    d.run_until(lambda: c.bytes_available() == 3, label='3 bytes')
    conn.send(b'two')
    d.run_until(lambda: c.bytes_available() == 6, label='6 bytes')
    drain_events(d)
    c.read_all()
    drain_events(d)


@scenario('tcp.io.ready_read_not_recursive',
          ref='§3.3, §8.8 (probe_io R5); tst_QTcpSocket::recursiveReadyRead', rules=EXACT_READY_READ)
def _(d):
    c, conn, _ = tcp_pair(d)
    state = {'n': 0}

    def on_ready_read():
        state['n'] += 1
        if state['n'] == 1:
            conn.send(b'more')
            d.run_until(lambda: c.bytes_available() == 9, 2000, label='more inside slot')
            d.spin(50)
    c.on('ready-read', on_ready_read)
    conn.send(b'first')
    d.run_until(lambda: state['n'] >= 1 and c.bytes_available() == 9, label='slot ran')
    drain_events(d, 200)
    props(d, c, 'bytes_available')
    c.read_all()


@scenario('tcp.io.wait_for_ready_read_in_slot', ref='§3.3; tst_QTcpSocket::waitForReadyReadInASlot',
          rules=EXACT_READY_READ)
def _(d):
    c, conn, _ = tcp_pair(d)
    state = {'n': 0}

    def on_ready_read():
        state['n'] += 1
        if state['n'] == 1:
            conn.send(b'second')
            c.wait_for_ready_read(2000)
            props(d, c, 'bytes_available', 'error')
    c.on('ready-read', on_ready_read)
    conn.send(b'first')
    d.run_until(lambda: state['n'] >= 1, label='slot ran')
    drain_events(d, 200)
    c.read_all()


@scenario('tcp.io.write_only_discards', ref='§3.3 (probe_io R4); tst_QTcpSocket::socketDiscardDataInWriteMode')
def _(d):
    c, conn, _ = tcp_pair(d, mode=WRITE_ONLY)
    props(d, c, 'open_mode', 'is_readable', 'is_writable')
    conn.send(b'ignored')
    drain_events(d, 200)
    props(d, c, 'bytes_available', 'state')
    c.read_ret(5)
    c.read_all()
    c.write(b'out')
    d.run_until(lambda: conn.got(3), label='peer got 3')
    d.note('peer got', conn.take())


@scenario('tcp.io.read_only_write_fails', ref='§3.1 (ReadOnly device)')
def _(d):
    c, conn, _ = tcp_pair(d, mode=READ_ONLY)
    props(d, c, 'open_mode', 'is_readable', 'is_writable')
    c.write(b'nope')
    c.put_char(ord('x'))
    props(d, c, 'bytes_to_write', 'error', 'error_string')
    conn.send(b'in')
    d.run_until(lambda: c.bytes_available() == 2, label='2 bytes')
    c.read_all()


@scenario('tcp.io.bytes_written_sum', ref='§3.5 (probe_io B1)')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.write(b'a')
    c.write(b'b')
    c.write(b'c')
    props(d, c, 'bytes_to_write')
    d.run_until(lambda: conn.got(3) and c.bytes_to_write() == 0, label='sent 3')
    for part in (b'x', b'y', b'z'):
        c.write(part * 5000)
    d.run_until(lambda: conn.got(15003) and c.bytes_to_write() == 0, label='sent 15000')
    c.write(b'q' * 40000)
    d.run_until(lambda: conn.got(55003) and c.bytes_to_write() == 0, label='sent 40000')
    c.flush()
    c.write(b'abc')
    c.flush()
    props(d, c, 'bytes_to_write')
    d.run_until(lambda: conn.got(55006), label='peer got all')
    d.note('peer got', conn.take())
    drain_events(d)


@scenario('tcp.io.write_while_connecting', ref='§2.2 "Writing while connecting"; probe_tcp2 M')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.connect_to_host('127.0.0.1', peer.port)
    c.write(b'early')
    props(d, c, 'state', 'bytes_to_write')
    d.run_until(lambda: c.state() == CONNECTED and c.bytes_to_write() == 0, label='connected, sent')
    conn = peer.accept()
    d.run_until(lambda: conn.got(5), label='peer got 5')
    d.note('peer got', conn.take())


@scenario('tcp.io.write_unconnected', ref='§3.1, §3.5 (write in Unconnected)')
def _(d):
    c = d.tcp_socket('c')
    c.write(b'x')
    c.put_char(ord('x'))
    props(d, c, 'error', 'error_string', 'bytes_to_write')
    c.open(3)
    props(d, c, 'state', 'is_open', 'open_mode')
    c.write(b'x')
    props(d, c, 'error', 'error_string', 'bytes_to_write')
    drain_events(d)


@scenario('tcp.io.write_after_close', ref='§2.3 close(); §3.1')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.close()
    c.write(b'late')
    c.read_ret(3)
    c.read_all()
    props(d, c, 'error', 'error_string', 'bytes_to_write', 'is_open')
    drain_events(d)


@scenario('tcp.io.flush', ref='§3.5 flush(); tst_QTcpSocket::flush')
def _(d):
    c = d.tcp_socket('c')
    c.flush()
    port = d.closed_port()
    with d.setup():
        c.connect_to_host('127.0.0.1', port)
        d.run_until(lambda: c.state() == UNCONNECTED)
    c.flush()
    c2, conn, _ = tcp_pair(d, tag='c2')
    c2.flush()
    c2.write(b'12345')
    c2.flush()
    props(d, c2, 'bytes_to_write')
    c2.flush()
    d.poll_until(lambda: conn.got(5), label='peer got 5')
    drain_events(d)


@scenario('tcp.io.backpressure', ref='§3.4 (observed R3); §8.9')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.set_read_buffer_size(10)
    c.read_buffer_size()
    conn.send(b'A' * 100)
    d.run_until(lambda: c.bytes_available() == 10, label='10 buffered')
    drain_events(d, 100)
    props(d, c, 'bytes_available')
    c.read(5)
    drain_events(d, 100)
    props(d, c, 'bytes_available')
    c.read(5)
    d.run_until(lambda: c.bytes_available() == 10, label='refilled to 10')
    drain_events(d, 100)
    props(d, c, 'bytes_available')
    c.set_read_buffer_size(50)
    d.run_until(lambda: c.bytes_available() == 50, label='50 buffered')
    drain_events(d, 100)
    props(d, c, 'bytes_available')
    c.set_read_buffer_size(0)
    d.run_until(lambda: c.bytes_available() == 90, label='90 buffered')
    c.read_all()


@scenario('tcp.io.backpressure_read_more_than_buffered', ref='§3.4 (asking for more than is buffered resumes)')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.set_read_buffer_size(8)
    conn.send(b'B' * 20)
    d.run_until(lambda: c.bytes_available() == 8, label='8 buffered')
    c.read(3)
    drain_events(d, 100)
    props(d, c, 'bytes_available')
    c.read(100)
    d.run_until(lambda: c.bytes_available() == 8, label='refilled')
    c.read_all()
    d.run_until(lambda: c.bytes_available() == 4, label='the rest')
    c.read_all()


@scenario('tcp.io.backpressure_raise_in_slot', ref='§3.4; tst_QTcpSocket::increaseReadBufferSizeFromSlot')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.set_read_buffer_size(16)

    def on_ready_read():
        if q(d, c.bytes_available) >= 16 and q(d, c.read_buffer_size) == 16:
            c.set_read_buffer_size(64)
    c.on('ready-read', on_ready_read)
    conn.send(b'C' * 64)
    d.run_until(lambda: c.bytes_available() == 64, label='64 buffered')
    props(d, c, 'bytes_available', 'read_buffer_size')


@scenario('tcp.io.backpressure_hides_close', ref='§3.4; tst_QTcpSocket::serverDisconnectWithBuffered')
def _(d):
    # With the buffer full Qt stops reading, so it does not see the peer's
    # close until the buffer is drained.
    c, conn, _ = tcp_pair(d)
    c.set_read_buffer_size(16)
    conn.send(b'D' * 40)
    conn.close()
    d.run_until(lambda: c.bytes_available() == 16, label='16 buffered')
    drain_events(d, 100)
    props(d, c, 'state', 'bytes_available')
    c.read_all()
    d.run_until(lambda: c.bytes_available() == 16, label='16 more')
    c.read_all()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'bytes_available', 'error')
    c.read_all()


@scenario('tcp.io.write_on_read_buffer_overflow', ref='§3.4; tst_QTcpSocket::writeOnReadBufferOverflow')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.set_read_buffer_size(4)
    conn.send(b'E' * 10)
    d.run_until(lambda: c.bytes_available() == 4, label='4 buffered')
    c.write(b'reply')
    d.run_until(lambda: conn.got(5) and c.bytes_to_write() == 0, label='peer got reply')
    d.note('peer got', conn.take())
    props(d, c, 'bytes_available', 'state')


@scenario('tcp.io.peek_accumulates', ref='§3.2 peek; tst_QTcpSocket::qtbug14268_peek')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'abc\n')
    d.run_until(lambda: c.bytes_available() == 4, label='4 bytes')
    c.peek(128)
    conn.send(b'def\n')
    d.run_until(lambda: c.bytes_available() == 8, label='8 bytes')
    c.peek(128 * 1024)
    c.peek(2)
    c.bytes_available()
    c.read_all()


@scenario('tcp.io.transactions', ref='§3.2 transactions; tst_QIODevice::transaction')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'hello world')
    d.run_until(lambda: c.bytes_available() == 11, label='11 bytes')
    c.is_transaction_started()
    c.start_transaction()
    c.is_transaction_started()
    c.read(5)
    c.bytes_available()
    c.get_char()
    c.can_read_line()
    c.rollback_transaction()
    c.is_transaction_started()
    c.bytes_available()
    c.start_transaction()
    c.start_transaction()
    c.read(6)
    c.peek(3)
    c.commit_transaction()
    c.bytes_available()
    c.read_all()
    c.commit_transaction()
    c.rollback_transaction()


@scenario('tcp.io.transaction_across_arrivals', ref='§3.2 transactions (the fortune client pattern)')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'\x00\x06ab')
    d.run_until(lambda: c.bytes_available() == 4, label='4 bytes')
    c.start_transaction()
    c.read(2)
    c.read(6)
    c.rollback_transaction()
    c.bytes_available()
    conn.send(b'cdef')
    d.run_until(lambda: c.bytes_available() == 8, label='8 bytes')
    c.start_transaction()
    c.read(2)
    c.read(6)
    c.commit_transaction()
    c.bytes_available()
    c.at_end()


@scenario('tcp.io.transaction_remote_close', ref='§3.2 transactions; §2.3 F')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'partial')
    d.run_until(lambda: c.bytes_available() == 7, label='7 bytes')
    c.start_transaction()
    c.read(4)
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    c.bytes_available()
    c.rollback_transaction()
    c.bytes_available()
    c.read_all()


@scenario('tcp.io.unget', ref='§3.2 ungetChar; tst_QTcpSocket::unget, tst_QIODevice::unget')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.unget_char(ord('A'))
    c.bytes_available()
    c.read_all()
    conn.send(b'xyz')
    d.run_until(lambda: c.bytes_available() == 3, label='3 bytes')
    c.get_char()
    c.get_char()
    c.unget_char(ord('y'))
    c.unget_char(ord('x'))
    c.unget_char(0xff)
    c.bytes_available()
    c.peek(10)
    c.start_transaction()
    c.get_char()
    c.unget_char(ord('Q'))
    c.rollback_transaction()
    c.read_all()
    c.can_read_line()
    c.unget_char(ord('\n'))
    c.can_read_line()
    c.read_line()


@scenario('tcp.io.at_end', ref='§3.2 atEnd; tst_QTcpSocket::atEnd')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.at_end()
    conn.send(b'12')
    d.run_until(lambda: c.bytes_available() == 2, label='2 bytes')
    c.at_end()
    c.read(1)
    c.at_end()
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    c.at_end()
    c.read(1)
    c.at_end()
    c.close()
    c.at_end()


@scenario('tcp.io.partial_read', ref='§3.2; tst_QTcpSocket::partialRead')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'0123456789')
    d.run_until(lambda: c.bytes_available() == 10, label='10 bytes')
    for _ in range(4):
        c.read(3)
    c.read(3)
    c.bytes_available()


@scenario('tcp.io.skip', ref='§3.2 skip; tst_QIODevice::skip')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'abcdefghij')
    d.run_until(lambda: c.bytes_available() == 10, label='10 bytes')
    c.peek(2)
    c.skip(3)
    c.skip(0)
    c.read(2)
    c.skip(100)
    c.skip(1)
    c.bytes_available()


@scenario('tcp.io.read_chunks', ref='tst_QTcpSocket::readChunks, downloadBigFile (adapted)', timeout=60)
def _(d):
    c, conn, _ = tcp_pair(d)
    data = bytes(range(256)) * 2048          # 512 KiB
    conn.queue(data)
    got = bytearray()

    def step():
        conn.pump()
        got.extend(c.read(4096))
        return len(got) >= len(data)
    d.run_until(step, 20000, label='read 512 KiB in chunks')
    d.note('read everything intact', bytes(got) == data)
    props(d, c, 'bytes_available', 'state')


@scenario('tcp.io.write_big', ref='§3.5 bytesWritten sums; tst_QTcpSocket::waitForBytesWritten', timeout=60)
def _(d):
    c, conn, _ = tcp_pair(d)
    data = bytes(range(251)) * 4000          # ~1 MB
    c.write(data)
    props(d, c, 'bytes_to_write')
    d.run_until(lambda: conn.got(len(data)) and c.bytes_to_write() == 0, 20000, label='peer got all')
    d.note('peer got everything intact', conn.take() == data)
    drain_events(d)


@scenario('tcp.io.write_after_peer_reset_flush', ref='§2.3 E1 (probe_epipe); §3.5')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.reset_close()
    d.sleep(100)
    c.write(b'zz')
    c.flush()
    props(d, c, 'state', 'open_mode', 'error', 'error_string', 'bytes_to_write')
    drain_events(d, 100)


@scenario('tcp.io.write_after_peer_closed_loop', ref='§2.3 (probe_tcp2 P)')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.close()
    c.write(b'zz')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'error_string', 'is_open', 'bytes_to_write')
    drain_events(d)


@scenario('tcp.io.close_in_error_slot', ref='§2.3; tst_QTcpSocket::remoteCloseError')
def _(d):
    c, conn, _ = tcp_pair(d)

    def on_error(err):
        props(d, c, 'state', label='state in slot')
        c.close()
    c.on('error-occurred', on_error)
    conn.send(b'bye')
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    drain_events(d)
    props(d, c, 'state', 'is_open', 'bytes_available', 'error')


@scenario('tcp.io.nested_loop_in_error_slot', ref='tst_QTcpSocket::nestedEventLoopInErrorSlot')
def _(d):
    port = d.closed_port()
    c = d.tcp_socket('c')

    def on_error(err):
        d.spin(50)
    c.on('error-occurred', on_error)
    c.connect_to_host('127.0.0.1', port)
    d.run_until(lambda: c.state() == UNCONNECTED and c.error() != -1, label='failed')
    drain_events(d)


@scenario('tcp.io.text_mode', ref='§3.2 (QIODevice Text mode); tst_QIODevice::writeInTextMode, readLine2')
def _(d):
    c, conn, _ = tcp_pair(d, mode=3 | 16)
    props(d, c, 'open_mode')
    conn.send(b'one\r\ntwo\r\nthree\rfour\r\n')
    d.run_until(lambda: c.bytes_available() >= 20, label='data')
    c.bytes_available()
    c.can_read_line()
    c.read_line()
    c.peek(4)
    c.read(4)
    c.read_line()
    c.read_all()
    c.write(b'w1\nw2\r\n')
    d.run_until(lambda: conn.got(7), label='peer got 7')
    d.note('peer got', conn.take())


@scenario('tcp.io.unbuffered_mode', ref='§3.2 (bytesAvailable adds FIONREAD when unbuffered), §3.3/§4 (one readyRead per read when unbuffered)',
          rules={'ready_read': 'exact', 'bytes_written': 'exact'},
          differs='porting guide: QSOCK_OPEN_MODE_UNBUFFERED is accepted for TCP but the socket '
                  'stays buffered (reads from its buffer, writes queued and sent from the loop); '
                  'Qt 6 reads and writes an unbuffered QTcpSocket directly',
          expect_qsock=[
              'note c props = {open_mode: 35, read_buffer_size: 0}',
              'call c.bytes_available() -> 0',          # buffered: nothing read yet
              'loop c.ready-read() [state=3]',
              'spin 100',
              'call c.bytes_available() -> 10',
              'loop c.ready-read() [state=3]',          # one per arrival, as buffered TCP
              'spin 100',
              'call c.bytes_available() -> 14',
              "call c.read(3) -> b'unb'",
              'call c.bytes_available() -> 11',
              'spin 100',
              "call c.peek(3) -> b'uff'",
              "call c.read_all() -> b'ufferedmore'",
              'spin 100',
              "call c.write(b'out') -> 3",
              'call c.bytes_to_write() -> 3',           # queued, sent from the loop
              'loop c.bytes-written(3) [state=3]',
              'spin 100',
              'run_until peer got 3 -> True',
              "note peer got = b'out'",
              'end', 'teardown'])
def _(d):
    c, conn, _ = tcp_pair(d, mode=3 | 32)
    props(d, c, 'open_mode', 'read_buffer_size')
    conn.send(b'unbuffered')
    d.sleep(50)
    c.bytes_available()
    drain_events(d, 100)
    c.bytes_available()
    conn.send(b'more')
    drain_events(d, 100)
    c.bytes_available()
    c.read(3)
    c.bytes_available()
    drain_events(d, 100)
    c.peek(3)
    c.read_all()
    drain_events(d, 100)
    c.write(b'out')
    c.bytes_to_write()
    drain_events(d, 100)
    d.run_until(lambda: conn.got(3), label='peer got 3')
    d.note('peer got', conn.take())


@scenario('tcp.io.peek_and_read', ref='tst_QIODevice::peekAndRead, skipAfterPeek, readAllKeepPosition')
def _(d):
    c, conn, _ = tcp_pair(d)
    conn.send(b'0123456789abcdef')
    d.run_until(lambda: c.bytes_available() == 16, label='16 bytes')
    for _ in range(3):
        c.peek(4)
        c.read(2)
    c.peek(100)
    c.skip(2)
    c.peek(2)
    c.read_all()
    c.peek(2)


@scenario('tcp.io.line_protocol', ref='tst_QLocalSocket::simpleCommandProtocol1/2 (over TCP); tst_QTcpSocket::readLine, readLineString')
def _(d):
    c, conn, _ = tcp_pair(d)
    seen = []

    def on_ready_read():
        while q(d, c.can_read_line):
            line = c.read_line()
            seen.append(line)
            c.write(b'ack ' + line)
    c.on('ready-read', on_ready_read)
    conn.send(b'cmd1\ncmd')
    d.run_until(lambda: len(seen) >= 1, label='first command')
    conn.send(b'2\ncmd3\n')
    d.run_until(lambda: len(seen) >= 3, label='all commands')
    d.run_until(lambda: conn.got(len(b'ack cmd1\nack cmd2\nack cmd3\n')), label='acks')
    d.note('peer got', conn.take())


@scenario('tcp.io.empty_write_and_read', ref='§3.5 write; §3.2 read')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.write(b'')
    c.bytes_to_write()
    c.read(0)
    c.read_ret(0)
    c.peek(0)
    drain_events(d)
    c.flush()
