#!/usr/bin/env python3
# Python through the GIR: connect, write bytes, read bytes, signals, errors.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import socket
import sys
import threading
import unittest

try:
    import gi
    gi.require_version('QSock', '1.0')
    from gi.repository import GLib, QSock
except (ImportError, ValueError) as e:
    # Only a missing Python runtime is a skip; a missing typelib of ours is
    # a failure (ValueError comes from require_version).
    if isinstance(e, ImportError):
        print('1..0 # SKIP PyGObject is not installed: %s' % e)
        sys.exit(77)
    raise


def spin_until(cond, timeout_ms=5000):
    ctx = GLib.MainContext.default()
    deadline = GLib.get_monotonic_time() + timeout_ms * 1000
    while not cond():
        if GLib.get_monotonic_time() > deadline:
            raise AssertionError('timed out waiting')
        ctx.iteration(False)


class Recorder:
    SIGNALS = ['host-found', 'connected', 'disconnected', 'state-changed',
               'error-occurred', 'ready-read', 'bytes-written',
               'read-channel-finished', 'about-to-close']

    def __init__(self, sock):
        self.log = []
        for name in self.SIGNALS:
            sock.connect(name, self._make(name))

    def _make(self, name):
        def handler(_sock, *args):
            self.log.append((name,) + tuple(int(a) for a in args))
        return handler


class TcpTest(unittest.TestCase):
    def setUp(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(5)
        self.port = self.listener.getsockname()[1]

    def tearDown(self):
        self.listener.close()

    def test_enums_have_qt_numbers(self):
        self.assertEqual(int(QSock.SocketState.CONNECTED), 3)
        self.assertEqual(int(QSock.SocketState.CLOSING), 6)
        self.assertEqual(int(QSock.SocketError.UNKNOWN_SOCKET), -1)
        self.assertEqual(int(QSock.SocketError.REMOTE_HOST_CLOSED), 1)
        self.assertEqual(int(QSock.SocketError.TEMPORARY), 22)
        self.assertEqual(int(QSock.OpenMode.READ_WRITE), 3)

    def test_connect_write_read_close(self):
        sock = QSock.Tcp()
        rec = Recorder(sock)
        sock.connect_to_host('127.0.0.1', self.port)
        # Qt: lookup, connecting and host-found inside the call for a literal.
        self.assertEqual(rec.log, [('state-changed', 1), ('state-changed', 2), ('host-found',)])
        spin_until(lambda: sock.get_state() == QSock.SocketState.CONNECTED)
        self.assertEqual(rec.log[-2:], [('state-changed', 3), ('connected',)])
        peer, _ = self.listener.accept()

        self.assertEqual(sock.write(b'ping\n'), 5)
        self.assertEqual(sock.bytes_to_write(), 5)
        spin_until(lambda: sock.bytes_to_write() == 0)
        self.assertIn(('bytes-written', 5), rec.log)
        self.assertEqual(peer.recv(100), b'ping\n')

        peer.sendall(b'line one\nrest')
        spin_until(lambda: sock.bytes_available() == 13)
        self.assertTrue(sock.can_read_line())
        self.assertEqual(sock.peek(4), b'line')
        line = sock.read_line()
        self.assertIsInstance(line, bytes)
        self.assertEqual(line, b'line one\n')
        self.assertEqual(sock.read(2), b're')

        rec.log.clear()
        peer.close()
        spin_until(lambda: sock.get_state() == QSock.SocketState.UNCONNECTED)
        self.assertEqual(rec.log, [('error-occurred', 1), ('state-changed', 6),
                                   ('state-changed', 0), ('read-channel-finished',),
                                   ('disconnected',)])
        # Unread data survives the close, as in Qt.
        self.assertEqual(sock.read_all(), b'st')
        self.assertEqual(sock.get_error(), QSock.SocketError.REMOTE_HOST_CLOSED)
        self.assertEqual(sock.get_error_string(), 'The remote host closed the connection')

    def test_nul_in_names_is_refused(self):
        # Through the GIR a C string would end at the NUL and the socket
        # would connect to "127.0.0.1" instead of failing.
        sock = QSock.Tcp.new()
        with self.assertRaises(ValueError):
            sock.connect_to_host('127.0.0.1\0evil', 1)
        self.assertEqual(sock.get_state(), QSock.SocketState.UNCONNECTED)
        local = QSock.Local.new()
        with self.assertRaises(ValueError):
            local.connect_to_server('a\0b')
        with self.assertRaises(ValueError):
            QSock.LocalServer.new().listen('a\0b')

    def test_refused(self):
        self.listener.close()
        sock = QSock.Tcp()
        rec = Recorder(sock)
        sock.connect_to_host('127.0.0.1', self.port)
        spin_until(lambda: ('error-occurred', 0) in rec.log)
        self.assertEqual(rec.log, [('state-changed', 1), ('state-changed', 2), ('host-found',),
                                   ('state-changed', 0), ('error-occurred', 0)])
        self.assertEqual(sock.get_error(), QSock.SocketError.CONNECTION_REFUSED)

    def test_blocking_waits_in_a_thread(self):
        result = {}

        def worker():
            ctx = GLib.MainContext.new()
            ctx.push_thread_default()
            try:
                sock = QSock.Tcp()
                sock.connect_to_host('127.0.0.1', self.port)
                result['connected'] = sock.wait_for_connected(5000)
                result['ready'] = sock.wait_for_ready_read(5000)
                result['data'] = sock.read_all()
                result['timeout'] = sock.wait_for_ready_read(50)
                result['error'] = sock.get_error()
            finally:
                ctx.pop_thread_default()

        t = threading.Thread(target=worker)
        t.start()
        peer, _ = self.listener.accept()
        peer.sendall(b'hello')
        t.join(10)
        peer.close()
        self.assertEqual(result['connected'], True)
        self.assertEqual(result['ready'], True)
        self.assertEqual(result['data'], b'hello')
        self.assertEqual(result['timeout'], False)
        self.assertEqual(result['error'], QSock.SocketError.SOCKET_TIMEOUT)

    def test_server(self):
        server = QSock.TcpServer()
        order = []
        server.connect('pending-connection-available', lambda s: order.append('pending'))
        server.connect('new-connection', lambda s: order.append('new'))
        self.assertTrue(server.listen(QSock.host_address_new_special(QSock.SpecialAddress.LOCAL_HOST), 0))
        port = server.get_server_port()
        self.assertNotEqual(port, 0)
        client = socket.create_connection(('127.0.0.1', port))
        spin_until(lambda: server.has_pending_connections())
        self.assertEqual(order, ['pending', 'new'])
        conn = server.next_pending_connection()
        self.assertIsInstance(conn, QSock.Tcp)
        self.assertEqual(conn.get_state(), QSock.SocketState.CONNECTED)
        client.sendall(b'abc')
        spin_until(lambda: conn.bytes_available() == 3)
        self.assertEqual(conn.read_all(), b'abc')
        client.close()
        server.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)
