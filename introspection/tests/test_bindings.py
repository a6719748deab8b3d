#!/usr/bin/env python3
# The traps a Python user falls into without the overrides, each against
# real loopback sockets: GLib.Bytes where bytes were expected, a str that
# write() cannot take, addresses that must be Gio.InetAddress, tuples that
# are always true, and the rules docs/scripting.md states (write() only
# queues, the close order, read-buffer-size against transactions,
# cancellation once the data is there). Each test fails against the
# overrides of 1.0 or against a library that breaks the documented rule.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import socket
import sys
import tempfile
import time
import unittest

try:
    import gi
    gi.require_version('QSock', '1.0')
    gi.require_version('Gio', '2.0')
    from gi.repository import Gio, GLib, QSock
except (ImportError, ValueError) as e:
    # Only a missing Python runtime is a skip; a missing typelib of ours is
    # a failure (ValueError comes from require_version).
    if isinstance(e, ImportError):
        print('1..0 # SKIP PyGObject is not installed: %s' % e)
        sys.exit(77)
    raise


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(('::1', 0))
        return True
    except OSError:
        return False


HAVE_IPV6 = have_ipv6()
needs_ipv6 = unittest.skipUnless(HAVE_IPV6, 'IPv6 loopback (::1) is not available')


def spin_until(cond, timeout_ms=5000, what='condition'):
    ctx = GLib.MainContext.default()
    deadline = GLib.get_monotonic_time() + timeout_ms * 1000
    while not cond():
        if GLib.get_monotonic_time() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        ctx.iteration(False)


def spin(ms):
    ctx = GLib.MainContext.default()
    end = GLib.get_monotonic_time() + ms * 1000
    while GLib.get_monotonic_time() < end:
        ctx.iteration(False)


class Call:
    """An _async call's callback that records its _finish result."""

    def __init__(self, finish):
        self.finish = finish
        self.done = False
        self.result = None
        self.error = None

    def __call__(self, source, res, *unused):
        try:
            self.result = self.finish(source, res)
        except GLib.Error as e:
            self.error = e
        self.done = True

    def wait(self):
        spin_until(lambda: self.done, what='the async call')
        return self


class Loopback(unittest.TestCase):
    """A QSock.TcpServer on 127.0.0.1 (or ::1) and connected pairs."""

    host = '127.0.0.1'

    def setUp(self):
        self.server = QSock.TcpServer()
        self.assertTrue(self.server.listen(Gio.InetAddress.new_from_string(self.host), 0),
                        self.server.get_error_string())
        self.port = self.server.get_server_port()

    def tearDown(self):
        self.server.close()

    def pair(self):
        client = QSock.Tcp()
        client.connect_to_host(self.host, self.port)
        spin_until(lambda: client.get_state() == QSock.SocketState.CONNECTED
                   and self.server.has_pending_connections(), what='the connection')
        return client, self.server.next_pending_connection()


class FinishReturnsBytes(Loopback):
    def test_read_line_finish(self):
        client, peer = self.pair()
        client.write(b'a line\n')
        call = Call(QSock.IODevice.read_line_finish)
        peer.read_line_async(0, None, call)
        self.assertIs(type(call.wait().result), bytes)
        self.assertEqual(call.result, b'a line\n')

    def test_read_exactly_finish(self):
        client, peer = self.pair()
        client.write(b'\x00\x01\x02\xff rest')
        call = Call(lambda s, r: s.read_exactly_finish(r))
        peer.read_exactly_async(4, None, call)
        self.assertIs(type(call.wait().result), bytes)
        self.assertEqual(call.result, b'\x00\x01\x02\xff')
        self.assertEqual(peer.read_all(), b' rest')

    def test_receive_datagram_finish(self):
        receiver = QSock.Udp()
        self.assertTrue(receiver.bind('127.0.0.1', 0))
        call = Call(QSock.Udp.receive_datagram_finish)
        receiver.receive_datagram_async(None, call)
        sender = QSock.Udp()
        self.assertEqual(sender.write_datagram(b'dgram', '127.0.0.1', receiver.get_local_port()), 5)
        data = call.wait().result.get_data()
        self.assertIs(type(data), bytes)
        self.assertEqual(data, b'dgram')

    def test_async_defaults_are_qts(self):
        # connect_to_host_async(host, port, callback=...) as connect_to_host,
        # read_line_async(callback=...) with no line limit.
        client = QSock.Tcp()
        connected = Call(QSock.Abstract.connect_to_host_finish)
        client.connect_to_host_async(self.host, self.port, callback=connected)
        self.assertIsNone(connected.wait().error)
        self.assertEqual(client.get_open_mode(), QSock.OpenMode.READ_WRITE)
        spin_until(self.server.has_pending_connections)
        peer = self.server.next_pending_connection()
        peer.write(b'x' * 70000 + b'\n')
        line = Call(QSock.IODevice.read_line_finish)
        client.read_line_async(callback=line)
        self.assertEqual(len(line.wait().result), 70001)

    def test_async_host_name_with_nul(self):
        with self.assertRaisesRegex(ValueError, 'NUL'):
            QSock.Tcp().connect_to_host_async('127.0.0.1\0evil', self.port,
                                              callback=lambda *a: None)


class BytesIn(Loopback):
    def test_write_str_is_a_clear_type_error(self):
        client, peer = self.pair()
        with self.assertRaises(TypeError) as caught:
            client.write('text')
        self.assertIn('encode', str(caught.exception))
        self.assertIn('str', str(caught.exception))
        self.assertEqual(client.bytes_to_write(), 0)
        with self.assertRaisesRegex(TypeError, 'encode'):
            client.write_bytes('text')

    def test_write_takes_bytes_like(self):
        client, peer = self.pair()
        for data in (b'by', bytearray(b'ba'), memoryview(b'xmvx')[1:3]):
            self.assertEqual(client.write(data), 2)
        self.assertEqual(client.write_bytes(b'Bb'), 2)
        self.assertEqual(client.write_bytes(bytearray(b'Ba')), 2)
        self.assertEqual(client.write_bytes(memoryview(b'Bm')), 2)
        self.assertEqual(client.write_bytes(GLib.Bytes.new(b'Bg')), 2)
        self.assertTrue(client.flush())
        spin_until(lambda: peer.bytes_available() == 14, what='14 bytes')
        self.assertEqual(peer.read_all(), b'bybamvBbBaBmBg')

    def test_datagram_takes_bytes_like(self):
        receiver = QSock.Udp()
        self.assertTrue(receiver.bind('127.0.0.1', 0))
        port = receiver.get_local_port()
        sender = QSock.Udp()
        for data in (b'one', bytearray(b'two'), memoryview(b'three')):
            datagram = QSock.Datagram.new_with_bytes(data, '127.0.0.1', port)
            self.assertEqual(datagram.get_destination_address().to_string(), '127.0.0.1')
            self.assertEqual(sender.send_datagram(datagram), len(data))
        self.assertEqual(sender.write_datagram_bytes(bytearray(b'four'), '127.0.0.1', port), 4)
        datagram = QSock.Datagram.new_with_bytes(b'x')
        self.assertIsNone(datagram.get_destination_address())
        datagram.set_data(bytearray(b'five'))
        datagram.set_destination('127.0.0.1', port)
        self.assertEqual(sender.send_datagram(datagram), 4)
        self.assertEqual(sender.send_datagram(QSock.Datagram.new_with_data(bytearray(b'six'),
                                                                           '127.0.0.1', port)), 3)
        received = []

        def receive():
            while receiver.has_pending_datagrams():
                received.append(receiver.receive_datagram())
            return len(received) >= 6
        spin_until(receive, what='six datagrams')
        self.assertEqual([d.get_data() for d in received],
                         [b'one', b'two', b'three', b'four', b'five', b'six'])
        reply = received[0].make_reply(memoryview(b'back'))
        self.assertEqual(reply.get_data(), b'back')
        self.assertEqual(reply.get_destination_port(), sender.get_local_port())
        with self.assertRaisesRegex(TypeError, 'encode'):
            QSock.Datagram.new_with_bytes('text')
        with self.assertRaisesRegex(TypeError, 'encode'):
            received[0].make_reply('text')


class AddressStrings(Loopback):
    def test_bind_and_listen_take_strings(self):
        udp = QSock.Udp()
        self.assertTrue(udp.bind('127.0.0.1', 0))
        self.assertEqual(udp.get_local_address().to_string(), '127.0.0.1')
        server = QSock.TcpServer()
        self.assertTrue(server.listen('127.0.0.1'))
        self.assertEqual(server.get_server_address().to_string(), '127.0.0.1')
        self.assertGreater(server.get_server_port(), 0)
        server.close()

    @needs_ipv6
    def test_ipv6_strings(self):
        udp = QSock.Udp()
        self.assertTrue(udp.bind('::1', 0))
        self.assertEqual(udp.get_local_address().to_string(), '::1')
        server = QSock.TcpServer()
        self.assertTrue(server.listen('::1', 0))
        client = QSock.Tcp()
        client.connect_to_address('::1', server.get_server_port())
        self.assertTrue(client.wait_for_connected(5000), client.get_error_string())
        self.assertEqual(client.get_peer_address().to_string(), '::1')
        self.assertTrue(server.wait_for_new_connection(5000))
        server.close()

    def test_bind_port_overload(self):
        # Qt's bind(port, mode): an int first is the port, the address Any.
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
        probe.close()
        udp = QSock.Udp()
        self.assertTrue(udp.bind(port, QSock.BindFlags.SHARE_ADDRESS), udp.get_error_string())
        self.assertEqual(udp.get_local_port(), port)

    def test_connect_to_address_takes_a_string(self):
        client = QSock.Tcp()
        client.connect_to_address('127.0.0.1', self.port)
        self.assertTrue(client.wait_for_connected(5000), client.get_error_string())
        self.assertEqual(client.get_peer_address().to_string(), '127.0.0.1')

    def test_host_names_are_value_errors(self):
        udp = QSock.Udp()
        with self.assertRaises(ValueError) as caught:
            udp.write_datagram(b'x', 'localhost', 9)
        message = str(caught.exception)
        self.assertIn("'localhost' is not an IP address", message)
        self.assertIn('connect_to_host', message)
        self.assertNotIn('constructor returned NULL', message)
        with self.assertRaisesRegex(ValueError, "'localhost' is not an IP address"):
            QSock.Tcp().connect_to_address('localhost', self.port)
        with self.assertRaisesRegex(ValueError, "'example.org' is not an IP address"):
            QSock.Udp().bind('example.org', 0)
        with self.assertRaisesRegex(ValueError, "'256.1.1.1' is not an IP address"):
            QSock.TcpServer().listen('256.1.1.1', 0)
        with self.assertRaisesRegex(ValueError, 'is not an IP address'):
            QSock.Udp().bind('127.0.0.1\0', 0)
        with self.assertRaisesRegex(ValueError, 'is not an IP address'):
            QSock.Datagram.new_with_bytes(b'x', 'localhost', 9)


class NoTupleTraps(Loopback):
    def test_wait_for_new_connection_nothing_pending_is_false(self):
        taken = False
        if self.server.wait_for_new_connection(100):
            taken = True
        self.assertFalse(taken, 'nothing was pending, yet the if was taken')
        self.assertIs(self.server.wait_for_new_connection(0), False)
        self.assertEqual(self.server.wait_for_new_connection(50, return_timed_out=True),
                         (False, True))

    def test_wait_for_new_connection_pending_is_true(self):
        first = socket.create_connection(('127.0.0.1', self.port))
        self.addCleanup(first.close)
        self.assertIs(self.server.wait_for_new_connection(5000), True)
        # As Qt's, a wait is for a new connection, not for one already pending.
        self.assertTrue(self.server.has_pending_connections())
        self.assertIs(self.server.wait_for_new_connection(0), False)
        second = socket.create_connection(('127.0.0.1', self.port))
        self.addCleanup(second.close)
        self.assertEqual(self.server.wait_for_new_connection(5000, return_timed_out=True),
                         (True, False))
        self.assertIsInstance(self.server.next_pending_connection(), QSock.Tcp)
        self.assertIsInstance(self.server.next_pending_connection(), QSock.Tcp)

    def test_local_server_wait_for_new_connection(self):
        tmp = tempfile.mkdtemp(prefix='qsock-py-bind-')
        self.addCleanup(shutil.rmtree, tmp)
        path = os.path.join(tmp, 's')
        server = QSock.LocalServer()
        self.assertTrue(server.listen(path))
        self.assertIs(server.wait_for_new_connection(100), False)
        self.assertEqual(server.wait_for_new_connection(10, return_timed_out=True), (False, True))
        client = QSock.Local()
        client.connect_to_server(path)
        self.assertIs(server.wait_for_new_connection(5000), True)
        server.close()

    def test_get_char(self):
        client, peer = self.pair()
        self.assertIsNone(peer.get_char(), 'nothing to read: None')
        client.write(b'\x00z')
        self.assertTrue(client.flush())
        spin_until(lambda: peer.bytes_available() == 2)
        first = peer.get_char()
        self.assertEqual(first, b'\x00')
        self.assertTrue(first, 'a NUL byte is a byte, and true')
        peer.unget_char(first)
        self.assertEqual(peer.get_char(), b'\x00')
        self.assertEqual(peer.get_char(), b'z')
        self.assertIsNone(peer.get_char())
        peer.unget_char(ord('q'))
        self.assertEqual(peer.read_all(), b'q')
        self.assertTrue(client.put_char(b'!'))
        self.assertTrue(client.put_char(0x3f))
        with self.assertRaises(ValueError):
            client.put_char(b'ab')
        self.assertTrue(client.flush())
        spin_until(lambda: peer.bytes_available() == 2)
        self.assertEqual(peer.read_all(), b'!?')

    def test_get_socket_option(self):
        client, peer = self.pair()
        client.set_socket_option(QSock.SocketOption.LOW_DELAY, 1)
        self.assertEqual(client.get_socket_option(QSock.SocketOption.LOW_DELAY), 1)
        client.set_socket_option(QSock.SocketOption.LOW_DELAY, 0)
        self.assertEqual(client.get_socket_option(QSock.SocketOption.LOW_DELAY), 0)
        self.assertIsInstance(client.get_socket_option(QSock.SocketOption.RECEIVE_BUFFER_SIZE), int)
        # No socket: the C form's FALSE is None, not a true tuple.
        self.assertIsNone(QSock.Tcp().get_socket_option(QSock.SocketOption.LOW_DELAY))


class DocumentedRules(Loopback):
    def test_write_only_queues(self):
        client, peer = self.pair()
        self.assertEqual(client.write(b'queued'), 6)
        self.assertEqual(client.bytes_to_write(), 6)
        # Nothing left without the main loop or flush().
        self.assertEqual(peer.bytes_available(), 0)
        self.assertFalse(peer.wait_for_ready_read(100))
        self.assertTrue(client.flush())
        self.assertEqual(client.bytes_to_write(), 0)
        self.assertTrue(peer.wait_for_ready_read(5000))
        self.assertEqual(peer.read_all(), b'queued')
        client.write(b'again')
        self.assertTrue(client.wait_for_bytes_written(5000))
        self.assertEqual(client.bytes_to_write(), 0)

    def check_close_order(self, reader, writer, close):
        log = []

        def record(name):
            return lambda sock, *args: log.append((name, sock.bytes_available()))
        for name in ('ready-read', 'read-channel-finished', 'disconnected'):
            reader.connect(name, record(name))
        writer.write(b'last words')
        self.assertTrue(writer.flush())
        close()
        spin_until(lambda: any(entry[0] == 'disconnected' for entry in log), what='disconnected')
        self.assertEqual(log, [('ready-read', 10), ('read-channel-finished', 10), ('disconnected', 10)])
        self.assertEqual(reader.read_all(), b'last words')

    def test_close_order_tcp(self):
        client, peer = self.pair()
        self.check_close_order(client, peer, peer.disconnect_from_host)

    def test_close_order_local(self):
        tmp = tempfile.mkdtemp(prefix='qsock-py-bind-')
        self.addCleanup(shutil.rmtree, tmp)
        server = QSock.LocalServer()
        self.assertTrue(server.listen(os.path.join(tmp, 's')))
        client = QSock.Local()
        client.connect_to_server(os.path.join(tmp, 's'))
        self.assertTrue(server.wait_for_new_connection(5000))
        peer = server.next_pending_connection()
        self.check_close_order(client, peer, peer.disconnect_from_server)

    def test_read_buffer_size_and_transactions(self):
        client, peer = self.pair()
        client.set_read_buffer_size(8)
        peer.write(b'0123456789abcdef')
        self.assertTrue(peer.flush())
        spin_until(lambda: client.bytes_available() == 8)
        spin(50)
        # Reading pauses at the limit, also inside a transaction.
        self.assertEqual(client.bytes_available(), 8)
        client.start_transaction()
        self.assertEqual(client.read(12), b'01234567')
        spin(50)
        self.assertEqual(client.read(4), b'')
        client.rollback_transaction()
        self.assertEqual(client.bytes_available(), 8)
        # More than the limit can never arrive: it fails at once.
        too_big = Call(QSock.IODevice.read_exactly_finish)
        client.read_exactly_async(9, None, too_big)
        too_big.wait()
        self.assertTrue(too_big.error.matches(QSock.socket_error_quark(), QSock.SocketError.OPERATION),
                        too_big.error)
        self.assertEqual(client.bytes_available(), 8)
        # Up to the limit is fine, and reading resumes after it.
        fits = Call(QSock.IODevice.read_exactly_finish)
        client.read_exactly_async(8, None, fits)
        self.assertEqual(fits.wait().result, b'01234567')
        spin_until(lambda: client.bytes_available() == 8)
        self.assertEqual(client.read_all(), b'89abcdef')

    def test_cancel_in_the_iteration_the_data_arrives(self):
        client, peer = self.pair()
        cancellable = Gio.Cancellable()
        call = Call(QSock.IODevice.read_exactly_finish)
        client.read_exactly_async(4, cancellable, call)
        peer.write(b'wxyz')
        self.assertTrue(peer.flush())
        # The bytes reach the client's kernel buffer with no main loop
        # running; the next iteration sees them and the cancellation at once.
        time.sleep(0.05)
        cancellable.cancel()
        call.wait()
        self.assertIsNotNone(call.error, 'a call cancelled before it completed must fail')
        self.assertTrue(call.error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        spin_until(lambda: client.bytes_available() == 4)
        self.assertEqual(client.read_all(), b'wxyz')

    def test_cancel_after_the_result_stands(self):
        client, peer = self.pair()
        cancellable = Gio.Cancellable()
        call = Call(QSock.IODevice.read_exactly_finish)
        client.read_exactly_async(4, cancellable, call)
        peer.write(b'abcd')
        call.wait()
        cancellable.cancel()
        spin(10)
        self.assertIsNone(call.error)
        self.assertEqual(call.result, b'abcd')
        self.assertEqual(client.bytes_available(), 0)


if __name__ == '__main__':
    unittest.main(verbosity=2)
