# PyGObject overrides for qsock-glib: bytes in and out, and Qt's default
# arguments, so `sock.read_all()` returns bytes and
# `sock.connect_to_host("example.org", 80)` works as in PyQt.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from ..module import get_introspection_module
from ..overrides import override

QSock = get_introspection_module('QSock')

__all__ = []


def _check_name(name, what):
    # A C string ends at the first NUL: "127.0.0.1\0evil" would silently
    # become "127.0.0.1". Refuse it instead of connecting somewhere else.
    if isinstance(name, str) and '\0' in name:
        raise ValueError('%s contains a NUL character' % what)
    return name


def _to_bytes(value):
    if value is None:
        return b''
    return bytes(value.get_data() or b'')


class IODevice(QSock.IODevice):
    def read(self, max_size):
        return _to_bytes(QSock.IODevice.read(self, max_size))

    def read_all(self):
        return _to_bytes(QSock.IODevice.read_all(self))

    def read_line(self, max_size=0):
        return _to_bytes(QSock.IODevice.read_line(self, max_size))

    def peek(self, max_size):
        return _to_bytes(QSock.IODevice.peek(self, max_size))

    def wait_for_ready_read(self, msecs=30000):
        return QSock.IODevice.wait_for_ready_read(self, msecs)

    def wait_for_bytes_written(self, msecs=30000):
        return QSock.IODevice.wait_for_bytes_written(self, msecs)


IODevice = override(IODevice)
__all__.append('IODevice')


class Abstract(QSock.Abstract):
    def connect_to_host(self, host_name, port,
                        mode=QSock.OpenMode.READ_WRITE,
                        protocol=QSock.NetworkLayerProtocol.ANY_IP):
        _check_name(host_name, 'host name')
        return QSock.Abstract.connect_to_host(self, host_name, port, mode, protocol)

    def connect_to_address(self, address, port, mode=QSock.OpenMode.READ_WRITE):
        return QSock.Abstract.connect_to_address(self, address, port, mode)

    def bind(self, address=None, port=0, mode=QSock.BindFlags.DEFAULT_FOR_PLATFORM):
        return QSock.Abstract.bind(self, address, port, mode)

    def wait_for_connected(self, msecs=30000):
        return QSock.Abstract.wait_for_connected(self, msecs)

    def wait_for_disconnected(self, msecs=30000):
        return QSock.Abstract.wait_for_disconnected(self, msecs)


Abstract = override(Abstract)
__all__.append('Abstract')


class TcpServer(QSock.TcpServer):
    def listen(self, address=None, port=0):
        return QSock.TcpServer.listen(self, address, port)

    def wait_for_new_connection(self, msecs=0):
        return QSock.TcpServer.wait_for_new_connection(self, msecs)


TcpServer = override(TcpServer)
__all__.append('TcpServer')


class Udp(QSock.Udp):
    def read_datagram(self, max_size=-1):
        data, address, port = QSock.Udp.read_datagram(self, max_size)
        return (None if data is None else _to_bytes(data)), address, port

    def receive_datagram(self, max_size=-1):
        return QSock.Udp.receive_datagram(self, max_size)

    def write_datagram(self, data, address, port):
        if isinstance(address, str):
            from gi.repository import Gio
            address = Gio.InetAddress.new_from_string(address)
        return QSock.Udp.write_datagram(self, data, address, port)

    def join_multicast_group(self, group, interface_name=None):
        return QSock.Udp.join_multicast_group(self, group, interface_name)

    def leave_multicast_group(self, group, interface_name=None):
        return QSock.Udp.leave_multicast_group(self, group, interface_name)


Udp = override(Udp)
__all__.append('Udp')


class Datagram(QSock.Datagram):
    def get_data(self):
        return _to_bytes(QSock.Datagram.get_data(self))

    def make_reply(self, data):
        if isinstance(data, (bytes, bytearray)):
            from gi.repository import GLib
            data = GLib.Bytes.new(bytes(data))
        return QSock.Datagram.make_reply(self, data)


Datagram = override(Datagram)
__all__.append('Datagram')


class Local(QSock.Local):
    def connect_to_server(self, name=None, mode=QSock.OpenMode.READ_WRITE):
        _check_name(name, 'server name')
        return QSock.Local.connect_to_server(self, name, mode)

    def set_server_name(self, name):
        _check_name(name, 'server name')
        return QSock.Local.set_server_name(self, name)

    def wait_for_connected(self, msecs=30000):
        return QSock.Local.wait_for_connected(self, msecs)

    def wait_for_disconnected(self, msecs=30000):
        return QSock.Local.wait_for_disconnected(self, msecs)

    def send_fds(self, fds, data=b'\0'):
        return QSock.Local.send_fds(self, fds, data)


Local = override(Local)
__all__.append('Local')


class LocalServer(QSock.LocalServer):
    def listen(self, name):
        _check_name(name, 'server name')
        return QSock.LocalServer.listen(self, name)

    def wait_for_new_connection(self, msecs=0):
        return QSock.LocalServer.wait_for_new_connection(self, msecs)


LocalServer = override(LocalServer)
__all__.append('LocalServer')
