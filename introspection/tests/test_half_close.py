#!/usr/bin/env python3
# Half-close from Python: a plain Python peer (the socket module) sends its
# request and shuts down its sending side, as netcat and shell pipelines
# do; with half-close on, the library's socket still sends the reply.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import socket
import threading
import unittest

import gi
gi.require_version('QSock', '1.0')
from gi.repository import GLib, QSock  # noqa: E402


def spin_until(cond, timeout_ms=5000, what='condition'):
    ctx = GLib.MainContext.default()
    deadline = GLib.get_monotonic_time() + timeout_ms * 1000
    while not cond():
        if GLib.get_monotonic_time() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        ctx.iteration(False)


class HalfClose(unittest.TestCase):
    def serve(self, half_close):
        server = QSock.TcpServer()
        self.assertTrue(server.listen('127.0.0.1', 0))
        got = {'reply': b'', 'done': False}

        def peer():
            with socket.create_connection(('127.0.0.1', server.get_server_port())) as s:
                s.sendall(b'request\n')
                s.shutdown(socket.SHUT_WR)
                while chunk := s.recv(65536):
                    got['reply'] += chunk
            got['done'] = True

        thread = threading.Thread(target=peer)
        thread.start()
        spin_until(server.has_pending_connections, what='the connection')
        sock = server.next_pending_connection()
        sock.set_half_close(half_close)
        self.assertEqual(sock.get_half_close(), half_close)
        events = []
        received = bytearray()

        def on_ready_read(s):
            received.extend(s.read_all())

        def on_finished(s):
            events.append(('read-channel-finished', s.get_state()))
            if s.get_state() == QSock.SocketState.CONNECTED:
                s.write(b'reply to ' + bytes(received) * 10000)
                s.shutdown_write()

        sock.connect('ready-read', on_ready_read)
        sock.connect('read-channel-finished', on_finished)
        sock.connect('disconnected', lambda s: events.append(('disconnected', None)))
        spin_until(lambda: got['done'] or ('disconnected', None) in events, what='the end')
        spin_until(lambda: got['done'], what='the peer')
        thread.join()
        spin_until(lambda: ('disconnected', None) in events, what='disconnected')
        server.close()
        return bytes(received), got['reply'], events

    def test_reply_after_peer_shutdown(self):
        received, reply, events = self.serve(True)
        self.assertEqual(received, b'request\n')
        self.assertEqual(reply, b'reply to ' + b'request\n' * 10000)
        # The end of input came alone, while still connected; the close after.
        self.assertEqual(events[0], ('read-channel-finished', QSock.SocketState.CONNECTED))
        self.assertEqual(events[-1], ('disconnected', None))
        self.assertEqual([e for e in events if e[0] == 'read-channel-finished'], [events[0]])

    def test_default_is_remote_close(self):
        received, reply, events = self.serve(False)
        self.assertEqual(received, b'request\n')
        # As Qt: the FIN is the remote host closing; nothing goes back.
        self.assertEqual(reply, b'')
        self.assertEqual(events[0], ('read-channel-finished', QSock.SocketState.UNCONNECTED))


if __name__ == '__main__':
    unittest.main(verbosity=2)
