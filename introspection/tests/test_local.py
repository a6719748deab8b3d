#!/usr/bin/env python3
# Python through the GIR: local sockets. Connect, bytes in and out, signal
# order (enums as ints), errors, peer credentials and descriptor passing.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import socket
import sys
import tempfile
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


def spin_until(cond, timeout_ms=5000):
    ctx = GLib.MainContext.default()
    deadline = GLib.get_monotonic_time() + timeout_ms * 1000
    while not cond():
        if GLib.get_monotonic_time() > deadline:
            raise AssertionError('timed out waiting')
        ctx.iteration(False)


class Recorder:
    SIGNALS = ['connected', 'disconnected', 'state-changed', 'error-occurred',
               'ready-read', 'bytes-written', 'read-channel-finished',
               'about-to-close']

    def __init__(self, sock):
        self.log = []
        for name in self.SIGNALS:
            sock.connect(name, self._make(name))

    def _make(self, name):
        def handler(_sock, *args):
            self.log.append((name,) + tuple(int(a) for a in args))
        return handler


class LocalTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='qsock-py-local-')
        self.path = os.path.join(self.dir, 'py.sock')
        self.server = QSock.LocalServer()
        self.assertTrue(self.server.listen(self.path))

    def tearDown(self):
        self.server.close()
        shutil.rmtree(self.dir)

    def connect_pair(self):
        sock = QSock.Local()
        sock.connect_to_server(self.path)
        self.assertEqual(sock.get_state(), QSock.LocalSocketState.CONNECTED)
        spin_until(self.server.has_pending_connections)
        conn = self.server.next_pending_connection()
        self.assertIsInstance(conn, QSock.Local)
        return sock, conn

    def test_enums_have_qt_numbers(self):
        self.assertEqual(int(QSock.LocalSocketState.CONNECTING), 2)
        self.assertEqual(int(QSock.LocalSocketState.CONNECTED), 3)
        self.assertEqual(int(QSock.LocalSocketState.CLOSING), 6)
        self.assertEqual(int(QSock.LocalSocketError.UNKNOWN_SOCKET), -1)
        self.assertEqual(int(QSock.LocalSocketError.PEER_CLOSED), 1)
        self.assertEqual(int(QSock.LocalSocketError.SERVER_NOT_FOUND), 2)
        self.assertEqual(int(QSock.LocalSocketError.OPERATION), 19)
        self.assertEqual(int(QSock.LocalServerOptions.WORLD_ACCESS), 7)
        self.assertEqual(int(QSock.LocalServerOptions.ABSTRACT_NAMESPACE), 8)

    def test_connect_write_read_close(self):
        sock = QSock.Local()
        rec = Recorder(sock)
        sock.connect_to_server(self.path)
        # Qt: connected inside connectToServer().
        self.assertEqual(rec.log, [('state-changed', 2), ('state-changed', 3), ('connected',)])
        self.assertEqual(sock.get_server_name(), self.path)
        self.assertEqual(sock.get_full_server_name(), self.path)
        spin_until(self.server.has_pending_connections)
        conn = self.server.next_pending_connection()
        self.assertEqual(conn.get_state(), QSock.LocalSocketState.CONNECTED)

        self.assertEqual(sock.write(b'ping\n'), 5)
        spin_until(lambda: conn.bytes_available() == 5)
        data = conn.read_all()
        self.assertIsInstance(data, bytes)
        self.assertEqual(data, b'ping\n')
        self.assertIn(('bytes-written', 5), rec.log)

        self.assertEqual(conn.write(b'line one\nrest'), 13)
        spin_until(lambda: sock.bytes_available() == 13)
        self.assertTrue(sock.can_read_line())
        self.assertEqual(sock.read_line(), b'line one\n')
        self.assertEqual(sock.peek(2), b're')
        self.assertEqual(sock.read(2), b're')

        rec.log.clear()
        conn.disconnect_from_server()
        spin_until(lambda: sock.get_state() == QSock.LocalSocketState.UNCONNECTED)
        # L3: the error while still connected, then the close.
        self.assertEqual(rec.log, [('error-occurred', 1), ('state-changed', 6),
                                   ('state-changed', 0), ('read-channel-finished',),
                                   ('disconnected',)])
        self.assertEqual(sock.get_error(), QSock.LocalSocketError.PEER_CLOSED)
        self.assertEqual(sock.get_error_string(), 'QLocalSocket: Remote closed')
        # Unread data survives the close.
        self.assertEqual(sock.read_all(), b'st')
        self.assertIsNone(sock.get_server_name())

    def test_abort_about_to_close_last(self):
        sock, conn = self.connect_pair()
        rec = Recorder(sock)
        sock.abort()
        self.assertEqual(rec.log, [('state-changed', 0), ('read-channel-finished',),
                                   ('disconnected',), ('about-to-close',)])
        self.assertFalse(sock.is_open())

    def test_server_not_found(self):
        sock = QSock.Local()
        rec = Recorder(sock)
        sock.connect_to_server('qsock-py-missing-%d' % os.getpid())
        self.assertEqual(rec.log, [('state-changed', 2), ('error-occurred', 2), ('state-changed', 0)])
        self.assertEqual(sock.get_error(), QSock.LocalSocketError.SERVER_NOT_FOUND)
        self.assertEqual(sock.get_error_string(), 'QLocalSocket::connectToServer: Invalid name')
        self.assertEqual(sock.get_state(), QSock.LocalSocketState.UNCONNECTED)

    def test_listen_errors(self):
        other = QSock.LocalServer()
        self.assertFalse(other.listen(self.path))
        self.assertEqual(other.get_server_error(), QSock.SocketError.ADDRESS_IN_USE)
        self.assertEqual(other.get_error_string(), 'QLocalServer::listen: Address in use')
        self.assertTrue(QSock.LocalServer.remove_server(os.path.join(self.dir, 'nothing-here')))

    def test_wait_for_new_connection(self):
        self.assertIs(self.server.wait_for_new_connection(50), False)
        ok, timed_out = self.server.wait_for_new_connection(50, return_timed_out=True)
        self.assertEqual((ok, timed_out), (False, True))
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(self.path)
        ok, timed_out = self.server.wait_for_new_connection(5000, return_timed_out=True)
        self.assertEqual((ok, timed_out), (True, False))
        conn = self.server.next_pending_connection()
        client.sendall(b'abc')
        self.assertTrue(conn.wait_for_ready_read(5000))
        self.assertEqual(conn.read_all(), b'abc')
        client.close()

    def test_peer_credentials(self):
        sock, conn = self.connect_pair()
        for end in (sock, conn):
            creds = end.get_peer_credentials()
            self.assertIsInstance(creds, Gio.Credentials)
            self.assertEqual(creds.get_unix_pid(), os.getpid())
            self.assertEqual(creds.get_unix_user(), os.getuid())
        with self.assertRaises(GLib.Error):
            QSock.Local().get_peer_credentials()

    def test_fd_passing(self):
        sock, conn = self.connect_pair()
        r, w = os.pipe()
        fds = Gio.UnixFDList.new()
        fds.append(r)
        os.close(r)
        # Written before the descriptor: arrives before its byte.
        self.assertEqual(sock.write(b'first'), 5)
        self.assertTrue(sock.send_fds(fds, b'p'))
        os.write(w, b'via the pipe')
        os.close(w)

        spin_until(lambda: conn.bytes_available() == 6)
        self.assertEqual(conn.read_all(), b'firstp')
        got = conn.take_received_fds()
        self.assertIsInstance(got, Gio.UnixFDList)
        self.assertEqual(got.get_length(), 1)
        fd = got.get(0)
        try:
            self.assertEqual(os.read(fd, 100), b'via the pipe')
            self.assertEqual(os.read(fd, 100), b'')
        finally:
            os.close(fd)
        self.assertEqual(conn.take_received_fds().get_length(), 0)


if __name__ == '__main__':
    unittest.main(verbosity=2)
