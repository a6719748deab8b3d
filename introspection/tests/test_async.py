#!/usr/bin/env python3
# The GIO-style _async/_finish pairs through the GIR, callback form (PyGObject
# 3.42 has no native await): results, errors in the QSOCK_SOCKET_ERROR
# domain, G_IO_ERROR_PENDING for a second call, cancellation.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import socket
import sys
import tempfile
import unittest

try:
    import gi
    gi.require_version('QSock', '1.0')
    from gi.repository import Gio, GLib, QSock
except ImportError as e:
    print('1..0 # SKIP PyGObject is not installed: %s' % e)
    sys.exit(77)

LO = Gio.InetAddress.new_from_string('127.0.0.1')


class Call:
    """Runs an _async call to completion on the default main context."""

    def __init__(self, timeout_ms=5000):
        self.done = False
        self.result = None
        self.error = None
        self.timeout_ms = timeout_ms

    def callback(self, finish):
        def cb(source, res, *unused):
            try:
                self.result = finish(source, res)
            except GLib.Error as e:
                self.error = e
            self.done = True
        return cb

    def wait(self):
        ctx = GLib.MainContext.default()
        deadline = GLib.get_monotonic_time() + self.timeout_ms * 1000
        while not self.done:
            if GLib.get_monotonic_time() > deadline:
                raise AssertionError('async call did not complete')
            ctx.iteration(True) if ctx.pending() else ctx.iteration(False)
        return self


def spin(ms):
    ctx = GLib.MainContext.default()
    end = GLib.get_monotonic_time() + ms * 1000
    while GLib.get_monotonic_time() < end:
        ctx.iteration(False)


class AsyncTest(unittest.TestCase):
    def setUp(self):
        self.server = QSock.TcpServer()
        self.assertTrue(self.server.listen(LO, 0))
        self.port = self.server.get_server_port()

    def tearDown(self):
        self.server.close()

    def connected_pair(self):
        client = QSock.Tcp()
        c = Call()
        client.connect_to_host_async('127.0.0.1', self.port, QSock.OpenMode.READ_WRITE,
                                     QSock.NetworkLayerProtocol.ANY_IP, None,
                                     c.callback(QSock.Abstract.connect_to_host_finish))
        a = Call()
        self.server.accept_async(None, a.callback(QSock.TcpServer.accept_finish))
        c.wait()
        a.wait()
        self.assertIsNone(c.error)
        self.assertTrue(c.result)
        self.assertIsInstance(a.result, QSock.Tcp)
        return client, a.result

    def test_connect_accept_read_line_flush(self):
        client, peer = self.connected_pair()
        self.assertEqual(client.get_state(), QSock.SocketState.CONNECTED)
        client.write(b'first line\nsecond')
        f = Call()
        client.flush_async(None, f.callback(QSock.IODevice.flush_finish))
        self.assertEqual(f.wait().result, True)
        self.assertEqual(client.bytes_to_write(), 0)

        r = Call()
        peer.read_line_async(0, None, r.callback(QSock.IODevice.read_line_finish))
        self.assertEqual(r.wait().result, b'first line\n')

        # The rest is a partial line: it waits until the line completes.
        r = Call()
        peer.read_line_async(0, None, r.callback(QSock.IODevice.read_line_finish))
        spin(50)
        self.assertFalse(r.done)
        client.write(b' part\n')
        self.assertEqual(r.wait().result, b'second part\n')

    def test_read_exactly_and_end_of_stream(self):
        client, peer = self.connected_pair()
        r = Call()
        peer.read_exactly_async(6, None, r.callback(QSock.IODevice.read_exactly_finish))
        client.write(b'abc')
        spin(50)
        self.assertFalse(r.done)
        client.write(b'defgh')
        self.assertEqual(r.wait().result, b'abcdef')

        r = Call()
        peer.read_exactly_async(10, None, r.callback(QSock.IODevice.read_exactly_finish))
        client.disconnect_from_host()
        r.wait()
        self.assertIsNotNone(r.error)
        self.assertEqual(r.error.domain, 'qsock-socket-error-quark')
        self.assertEqual(r.error.code, int(QSock.SocketError.REMOTE_HOST_CLOSED))
        # Nothing was consumed.
        self.assertEqual(peer.read_all(), b'gh')

        d = Call()
        peer.wait_for_disconnected_async(None, d.callback(QSock.Abstract.wait_for_disconnected_finish))
        self.assertEqual(d.wait().result, True)

    def test_second_call_is_pending_and_cancel(self):
        client, peer = self.connected_pair()
        cancel = Gio.Cancellable()
        first = Call()
        peer.read_line_async(0, cancel, first.callback(QSock.IODevice.read_line_finish))
        second = Call()
        peer.read_line_async(0, None, second.callback(QSock.IODevice.read_line_finish))
        second.wait()
        self.assertTrue(second.error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.PENDING))
        cancel.cancel()
        first.wait()
        self.assertTrue(first.error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        # After cancelling, a new read works and nothing was lost.
        client.write(b'x\n')
        third = Call()
        peer.read_line_async(0, None, third.callback(QSock.IODevice.read_line_finish))
        self.assertEqual(third.wait().result, b'x\n')

    def test_connect_refused_and_cancelled(self):
        probe = socket.socket()
        probe.bind(('127.0.0.1', 0))
        closed_port = probe.getsockname()[1]
        probe.close()
        s = QSock.Tcp()
        c = Call()
        s.connect_to_host_async('127.0.0.1', closed_port, QSock.OpenMode.READ_WRITE,
                                QSock.NetworkLayerProtocol.ANY_IP, None,
                                c.callback(QSock.Abstract.connect_to_host_finish))
        c.wait()
        self.assertEqual(c.error.code, int(QSock.SocketError.CONNECTION_REFUSED))
        self.assertEqual(c.error.message, 'Connection refused')

        cancel = Gio.Cancellable()
        s2 = QSock.Tcp()
        c2 = Call()
        s2.connect_to_host_async('localhost', self.port, QSock.OpenMode.READ_WRITE,
                                 QSock.NetworkLayerProtocol.ANY_IP, cancel,
                                 c2.callback(QSock.Abstract.connect_to_host_finish))
        cancel.cancel()
        c2.wait()
        # Cancelled before the lookup finished: aborted and unconnected. If the
        # connection won the race, the result says so and the socket agrees.
        if c2.error is not None:
            self.assertTrue(c2.error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
            self.assertEqual(s2.get_state(), QSock.SocketState.UNCONNECTED)
        else:
            self.assertEqual(s2.get_state(), QSock.SocketState.CONNECTED)

        # Cancelled before the call: nothing starts.
        s3 = QSock.Tcp()
        c3 = Call()
        s3.connect_to_host_async('127.0.0.1', self.port, QSock.OpenMode.READ_WRITE,
                                 QSock.NetworkLayerProtocol.ANY_IP, cancel,
                                 c3.callback(QSock.Abstract.connect_to_host_finish))
        c3.wait()
        self.assertTrue(c3.error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(s3.get_state(), QSock.SocketState.UNCONNECTED)

    def test_udp_receive(self):
        r = QSock.Udp()
        self.assertTrue(r.bind(LO, 0))
        c = Call()
        r.receive_datagram_async(None, c.callback(QSock.Udp.receive_datagram_finish))
        spin(20)
        self.assertFalse(c.done)
        s = QSock.Udp()
        s.write_datagram(b'ping', LO, r.get_local_port())
        d = c.wait().result
        self.assertEqual(d.get_data(), b'ping')
        self.assertEqual(d.get_sender_port(), s.get_local_port())

        unbound = QSock.Udp()
        e = Call()
        unbound.receive_datagram_async(None, e.callback(QSock.Udp.receive_datagram_finish))
        self.assertEqual(e.wait().error.code, int(QSock.SocketError.OPERATION))

    def test_local(self):
        path = os.path.join(tempfile.mkdtemp(), 'async.sock')
        server = QSock.LocalServer()
        self.assertTrue(server.listen(path))
        a = Call()
        server.accept_async(None, a.callback(QSock.LocalServer.accept_finish))
        client = QSock.Local()
        c = Call()
        client.connect_to_server_async(path, QSock.OpenMode.READ_WRITE, None,
                                       c.callback(QSock.Local.connect_to_server_finish))
        self.assertTrue(c.wait().result)
        peer = a.wait().result
        self.assertIsInstance(peer, QSock.Local)
        peer.write(b'hi\n')
        r = Call()
        client.read_line_async(0, None, r.callback(QSock.IODevice.read_line_finish))
        self.assertEqual(r.wait().result, b'hi\n')
        d = Call()
        client.wait_for_disconnected_async(None, d.callback(QSock.Local.wait_for_disconnected_finish))
        peer.disconnect_from_server()
        self.assertTrue(d.wait().result)

        missing = QSock.Local()
        m = Call()
        missing.connect_to_server_async(path + '.missing', QSock.OpenMode.READ_WRITE, None,
                                        m.callback(QSock.Local.connect_to_server_finish))
        self.assertEqual(m.wait().error.code, int(QSock.LocalSocketError.SERVER_NOT_FOUND))
        server.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)
