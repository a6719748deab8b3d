#!/usr/bin/env python3
# Python through the GIR: UDP datagrams as bytes, QSock.Datagram fields,
# ready-read as Qt emits it, errors as enums.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import socket
import sys
import unittest

try:
    import gi
    gi.require_version('QSock', '1.0')
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


def spin(ms):
    ctx = GLib.MainContext.default()
    deadline = GLib.get_monotonic_time() + ms * 1000
    while GLib.get_monotonic_time() < deadline:
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

    def count(self, name):
        return sum(1 for entry in self.log if entry[0] == name)


def localhost():
    return QSock.host_address_new_special(QSock.SpecialAddress.LOCAL_HOST)


def bound_udp():
    sock = QSock.Udp()
    assert sock.bind(localhost(), 0)
    return sock


class UdpTest(unittest.TestCase):
    def setUp(self):
        # A plain Python peer on 127.0.0.1.
        self.peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.peer.bind(('127.0.0.1', 0))
        self.peer.settimeout(5)
        self.peer_port = self.peer.getsockname()[1]

    def tearDown(self):
        self.peer.close()

    def test_enums_have_qt_numbers(self):
        self.assertEqual(int(QSock.SocketType.UDP), 1)
        self.assertEqual(int(QSock.SocketState.BOUND), 4)
        self.assertEqual(int(QSock.SocketError.DATAGRAM_TOO_LARGE), 6)
        self.assertEqual(int(QSock.SocketError.TEMPORARY), 22)
        self.assertEqual(int(QSock.BindFlags.SHARE_ADDRESS), 1)
        self.assertEqual(int(QSock.BindFlags.REUSE_ADDRESS_HINT), 4)
        self.assertEqual(int(QSock.SocketOption.MULTICAST_TTL), 2)
        self.assertEqual(int(QSock.SpecialAddress.ANY_IPV4), 6)

    def test_bind(self):
        sock = QSock.Udp()
        rec = Recorder(sock)
        self.assertEqual(sock.get_socket_type(), QSock.SocketType.UDP)
        self.assertTrue(sock.bind(localhost(), 0))
        # Qt: stateChanged(Bound) inside the call; the device stays closed.
        self.assertEqual(rec.log, [('state-changed', 4)])
        self.assertEqual(sock.get_state(), QSock.SocketState.BOUND)
        self.assertFalse(sock.is_open())
        self.assertNotEqual(sock.get_local_port(), 0)
        self.assertEqual(sock.get_local_address().to_string(), '127.0.0.1')

        # The port is taken: AddressInUseError, as an enum.
        other = QSock.Udp()
        other_rec = Recorder(other)
        self.assertFalse(other.bind(localhost(), sock.get_local_port()))
        self.assertEqual(other_rec.log, [('error-occurred', 8)])
        self.assertEqual(other.get_error(), QSock.SocketError.ADDRESS_IN_USE)
        self.assertEqual(other.get_error_string(), 'The bound address is already in use')
        self.assertEqual(other.get_state(), QSock.SocketState.UNCONNECTED)

    def test_write_datagram_bytes_in(self):
        sock = QSock.Udp()
        rec = Recorder(sock)
        # Auto-binds; bytes-written inside the call. The override takes a
        # string address as well as a Gio.InetAddress.
        self.assertEqual(sock.write_datagram(b'ping\x00!', '127.0.0.1', self.peer_port), 6)
        self.assertEqual(rec.log, [('state-changed', 4), ('bytes-written', 6)])
        data, sender = self.peer.recvfrom(100)
        self.assertEqual(data, b'ping\x00!')
        self.assertEqual(sender[1], sock.get_local_port())

        address = Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4)
        self.assertEqual(sock.write_datagram(b'', address, self.peer_port), 0)
        self.assertEqual(rec.log[-1], ('bytes-written', 0))
        self.assertEqual(self.peer.recvfrom(100)[0], b'')

        self.assertEqual(sock.write_datagram_bytes(GLib.Bytes.new(b'gbytes'), address, self.peer_port), 6)
        self.assertEqual(self.peer.recvfrom(100)[0], b'gbytes')

    def test_read_datagram_bytes_out(self):
        sock = bound_udp()
        port = sock.get_local_port()
        self.peer.sendto(b'hello world', ('127.0.0.1', port))
        spin_until(lambda: sock.has_pending_datagrams())
        self.assertEqual(sock.pending_datagram_size(), 11)

        data, address, sender_port = sock.read_datagram()
        self.assertIsInstance(data, bytes)
        self.assertEqual(data, b'hello world')
        self.assertIsInstance(address, Gio.InetAddress)
        self.assertEqual(address.to_string(), '127.0.0.1')
        self.assertEqual(sender_port, self.peer_port)

        # Truncation: the rest of the datagram is lost, as in Qt.
        self.peer.sendto(b'hello world', ('127.0.0.1', port))
        spin_until(lambda: sock.has_pending_datagrams())
        self.assertEqual(sock.read_datagram(5)[0], b'hello')
        self.assertFalse(sock.has_pending_datagrams())
        self.assertEqual(sock.pending_datagram_size(), -1)

        # An empty datagram is b'', not None.
        self.peer.sendto(b'', ('127.0.0.1', port))
        spin_until(lambda: sock.has_pending_datagrams())
        self.assertEqual(sock.pending_datagram_size(), 0)
        self.assertEqual(sock.read_datagram()[0], b'')

    def test_errors_are_enums(self):
        sock = bound_udp()
        rec = Recorder(sock)
        data, address, port = sock.read_datagram(10)
        self.assertIsNone(data)
        self.assertIsNone(address)
        self.assertEqual(rec.log, [('error-occurred', 22)])
        self.assertEqual(sock.get_error(), QSock.SocketError.TEMPORARY)
        self.assertIsInstance(sock.get_error(), QSock.SocketError)
        self.assertEqual(sock.get_error_string(), 'No datagram available for reading')

        rec.log.clear()
        self.assertEqual(sock.write_datagram(b'x' * 70000, '127.0.0.1', self.peer_port), -1)
        self.assertEqual(rec.log, [('error-occurred', 6)])
        self.assertEqual(sock.get_error(), QSock.SocketError.DATAGRAM_TOO_LARGE)
        self.assertEqual(sock.get_error_string(), 'Datagram was too large to send')

    def test_receive_datagram(self):
        sock = bound_udp()
        self.peer.sendto(b'with fields', ('127.0.0.1', sock.get_local_port()))
        spin_until(lambda: sock.has_pending_datagrams())
        datagram = sock.receive_datagram()
        self.assertIsInstance(datagram, QSock.Datagram)
        self.assertTrue(datagram.is_valid())
        data = datagram.get_data()
        self.assertIsInstance(data, bytes)
        self.assertEqual(data, b'with fields')
        self.assertEqual(datagram.get_sender_address().to_string(), '127.0.0.1')
        self.assertEqual(datagram.get_sender_port(), self.peer_port)
        self.assertEqual(datagram.get_destination_address().to_string(), '127.0.0.1')
        self.assertEqual(datagram.get_destination_port(), sock.get_local_port())
        self.assertEqual(datagram.get_hop_limit(), 64)
        self.assertEqual(datagram.get_interface_index(), socket.if_nametoindex('lo'))
        # The same through the GObject properties.
        self.assertEqual(datagram.props.sender_port, self.peer_port)
        self.assertEqual(datagram.props.hop_limit, 64)

        # Truncated, then none pending: a null datagram.
        self.peer.sendto(b'truncated', ('127.0.0.1', sock.get_local_port()))
        spin_until(lambda: sock.has_pending_datagrams())
        self.assertEqual(sock.receive_datagram(5).get_data(), b'trunc')
        empty = sock.receive_datagram()
        self.assertTrue(empty.is_null())
        self.assertEqual(empty.get_data(), b'')
        self.assertEqual(empty.get_sender_port(), -1)

        # A reply goes back to the sender, from where the request arrived.
        self.peer.sendto(b'ping', ('127.0.0.1', sock.get_local_port()))
        spin_until(lambda: sock.has_pending_datagrams())
        request = sock.receive_datagram()
        reply = request.make_reply(b'pong')
        self.assertEqual(reply.get_data(), b'pong')
        self.assertEqual(reply.get_destination_port(), self.peer_port)
        self.assertEqual(reply.get_sender_port(), sock.get_local_port())
        self.assertEqual(reply.get_hop_limit(), -1)
        self.assertEqual(sock.send_datagram(reply), 4)
        self.assertEqual(self.peer.recvfrom(100), (b'pong', ('127.0.0.1', sock.get_local_port())))

    def test_datagram_fields(self):
        datagram = QSock.Datagram.new()
        self.assertTrue(datagram.is_null())
        self.assertFalse(datagram.is_valid())
        self.assertEqual(datagram.get_data(), b'')
        self.assertIsNone(datagram.get_sender_address())
        self.assertEqual(datagram.get_sender_port(), -1)
        self.assertEqual(datagram.get_destination_port(), -1)
        self.assertEqual(datagram.get_hop_limit(), -1)
        self.assertEqual(datagram.get_interface_index(), 0)

        lo = Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4)
        datagram = QSock.Datagram.new_with_data(b'a\x00b', lo, self.peer_port)
        self.assertTrue(datagram.is_valid())
        self.assertEqual(datagram.get_data(), b'a\x00b')
        self.assertEqual(datagram.get_destination_address().to_string(), '127.0.0.1')
        self.assertEqual(datagram.get_destination_port(), self.peer_port)

        datagram = QSock.Datagram.new_with_bytes(GLib.Bytes.new(b'bytes'), lo, 7)
        self.assertEqual(datagram.get_data(), b'bytes')
        datagram.set_data(GLib.Bytes.new(b'replaced'))
        self.assertEqual(datagram.get_data(), b'replaced')
        datagram.set_hop_limit(9)
        datagram.set_interface_index(socket.if_nametoindex('lo'))
        datagram.set_sender(lo, 4321)
        self.assertEqual(datagram.get_hop_limit(), 9)
        self.assertEqual(datagram.props.interface_index, socket.if_nametoindex('lo'))
        self.assertEqual(datagram.get_sender_port(), 4321)
        datagram.props.hop_limit = 3
        self.assertEqual(datagram.get_hop_limit(), 3)

        datagram.clear()
        self.assertTrue(datagram.is_null())
        self.assertEqual(datagram.get_data(), b'')
        self.assertEqual(datagram.get_hop_limit(), -1)
        self.assertEqual(datagram.get_interface_index(), 0)

        # Sent with its hop limit.
        sock = bound_udp()
        out = QSock.Datagram.new_with_data(b'ttl', lo, sock.get_local_port())
        out.set_hop_limit(7)
        self.assertEqual(sock.send_datagram(out), 3)
        spin_until(lambda: sock.has_pending_datagrams())
        self.assertEqual(sock.receive_datagram().get_hop_limit(), 7)

    def test_ready_read_once_per_read(self):
        sock = bound_udp()
        rec = Recorder(sock)
        for i in range(3):
            self.peer.sendto(b'd%d' % i, ('127.0.0.1', sock.get_local_port()))
        spin_until(lambda: rec.count('ready-read') == 1)
        spin(100)
        # Qt: one readyRead until a datagram is read, not one per datagram.
        self.assertEqual(rec.count('ready-read'), 1)
        self.assertEqual(sock.read_datagram()[0], b'd0')
        spin_until(lambda: rec.count('ready-read') == 2)
        while sock.has_pending_datagrams():
            sock.read_datagram()
        spin(100)
        self.assertEqual(rec.count('ready-read'), 2)

    def test_ready_read_handler_drains(self):
        sock = bound_udp()
        got = []

        def on_ready_read(s):
            while s.has_pending_datagrams():
                got.append(s.read_datagram()[0])

        sock.connect('ready-read', on_ready_read)
        for i in range(20):
            self.peer.sendto(b'%d' % i, ('127.0.0.1', sock.get_local_port()))
        spin_until(lambda: len(got) == 20)
        self.assertEqual(got, [b'%d' % i for i in range(20)])

    def test_connected_udp(self):
        sock = QSock.Udp()
        rec = Recorder(sock)
        sock.connect_to_host('127.0.0.1', self.peer_port)
        # All inside the call for UDP and an IP literal.
        self.assertEqual(rec.log, [('state-changed', 1), ('state-changed', 2), ('host-found',),
                                   ('state-changed', 3), ('connected',)])
        self.assertTrue(sock.is_open())
        self.assertEqual(sock.write(b'via write'), 9)
        self.assertEqual(rec.log[-1], ('bytes-written', 9))
        data, sender = self.peer.recvfrom(100)
        self.assertEqual(data, b'via write')
        self.peer.sendto(b'reply datagram', sender)
        spin_until(lambda: rec.count('ready-read') == 1)
        self.assertEqual(sock.read(5), b'reply')
        rec.log.clear()
        sock.disconnect_from_host()
        self.assertEqual(rec.log, [('state-changed', 6), ('state-changed', 0),
                                   ('read-channel-finished',), ('disconnected',)])

    def test_multicast_options(self):
        sock = QSock.Udp()
        self.assertTrue(sock.bind(QSock.host_address_new_special(QSock.SpecialAddress.ANY_IPV4), 0))
        self.assertEqual(sock.get_socket_option(QSock.SocketOption.MULTICAST_TTL), 1)
        sock.set_socket_option(QSock.SocketOption.MULTICAST_TTL, 128)
        self.assertEqual(sock.get_socket_option(QSock.SocketOption.MULTICAST_TTL), 128)
        sock.set_socket_option(QSock.SocketOption.MULTICAST_TTL, 1024)
        self.assertEqual(sock.get_socket_option(QSock.SocketOption.MULTICAST_TTL), 128)
        sock.set_multicast_interface(socket.if_nametoindex('lo'))
        self.assertEqual(sock.get_multicast_interface(), socket.if_nametoindex('lo'))
        self.assertEqual(sock.props.multicast_interface, socket.if_nametoindex('lo'))
        # Not a multicast address: False, and no error (as in Qt).
        self.assertFalse(sock.join_multicast_group(Gio.InetAddress.new_from_string('1.2.3.4')))
        self.assertEqual(sock.get_error(), QSock.SocketError.UNKNOWN_SOCKET)


if __name__ == '__main__':
    unittest.main(verbosity=2)
