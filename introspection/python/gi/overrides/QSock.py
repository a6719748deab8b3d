# PyGObject overrides for qsock-glib, so that Python code reads like PyQt:
#
# - bytes out: every read, peek, read_line, read_all, the read_line and
#   read_exactly _finish calls and Datagram.get_data() return `bytes`;
# - bytes in: write() and friends take bytes, bytearray or memoryview
#   (a `str` is a TypeError: encode it), and the GBytes forms
#   (write_bytes, Datagram.new_with_bytes, ...) wrap them for you;
# - addresses: wherever the C API takes a GInetAddress, an IP address
#   string such as '127.0.0.1' or '::1' works too; a host name is a
#   ValueError (resolve it first, or use connect_to_host());
# - no tuple traps: the calls whose C form returns a gboolean beside an out
#   parameter return one value that cannot be misread in an `if`
#   (wait_for_new_connection() a bool, get_char() bytes or None,
#   get_socket_option() the value or None);
# - Qt's default arguments: sock.connect_to_host('example.org', 80).
#
# docs/scripting.md describes all of it.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from gi.repository import GLib, Gio

from ..module import get_introspection_module
from ..overrides import override

QSock = get_introspection_module('QSock')

__all__ = []

_READ_WRITE = QSock.OpenMode.READ_WRITE
_ANY_IP = QSock.NetworkLayerProtocol.ANY_IP
_DEFAULT_FOR_PLATFORM = QSock.BindFlags.DEFAULT_FOR_PLATFORM


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


def _refuse_str(data, call):
    if isinstance(data, str):
        raise TypeError('%s() takes bytes, not str: encode the text first, '
                        'e.g. %s(text.encode("utf-8"))' % (call, call))


def _byte_array(data, call):
    """For the (array length=…) guint8 parameters: PyGObject takes any
    buffer, but would turn a str into 'Item 0: Must be number'."""
    _refuse_str(data, call)
    return data


def _to_gbytes(data, call):
    """For the GBytes parameters: bytes-like values are wrapped."""
    if isinstance(data, GLib.Bytes):
        return data
    _refuse_str(data, call)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return GLib.Bytes.new(bytes(data))
    raise TypeError('%s() takes bytes, bytearray, memoryview or GLib.Bytes, not %s'
                    % (call, type(data).__name__))


def _to_address(address, call, hint=''):
    """A Gio.InetAddress from an IP address string, or the value as it is
    (a Gio.InetAddress or None) for PyGObject to check."""
    if not isinstance(address, str):
        return address
    if '\0' not in address:
        try:
            parsed = Gio.InetAddress.new_from_string(address)
        except TypeError:
            # PyGObject 3.42 reports a NULL from a constructor this way.
            parsed = None
        if parsed is not None:
            return parsed
    raise ValueError('%s(): %r is not an IP address such as \'127.0.0.1\' or \'::1\'; '
                     'resolve host names first (Gio.Resolver)%s' % (call, address, hint))


def _to_byte(c, call):
    """A byte for put_char()/unget_char(): an int 0-255 or bytes of length 1,
    so that put_char(get_char()) gives the byte back."""
    if isinstance(c, (bytes, bytearray)):
        if len(c) != 1:
            raise ValueError('%s() takes one byte, got %d' % (call, len(c)))
        return c[0]
    if isinstance(c, str):
        raise TypeError('%s() takes a byte (an int or bytes of length 1), not str' % call)
    return c


class IODevice(QSock.IODevice):
    def read(self, max_size):
        return _to_bytes(QSock.IODevice.read(self, max_size))

    def read_all(self):
        return _to_bytes(QSock.IODevice.read_all(self))

    def read_line(self, max_size=0):
        return _to_bytes(QSock.IODevice.read_line(self, max_size))

    def peek(self, max_size):
        return _to_bytes(QSock.IODevice.peek(self, max_size))

    def write(self, data):
        return QSock.IODevice.write(self, _byte_array(data, 'write'))

    def write_bytes(self, data):
        return QSock.IODevice.write_bytes(self, _to_gbytes(data, 'write_bytes'))

    def get_char(self):
        """The next byte as bytes of length 1, or None when there is none
        (the C form's FALSE)."""
        ok, c = QSock.IODevice.get_char(self)
        return bytes((c,)) if ok else None

    def put_char(self, c):
        return QSock.IODevice.put_char(self, _to_byte(c, 'put_char'))

    def unget_char(self, c):
        return QSock.IODevice.unget_char(self, _to_byte(c, 'unget_char'))

    def read_line_async(self, max_size=0, cancellable=None, callback=None, *user_data):
        return QSock.IODevice.read_line_async(self, max_size, cancellable, callback, *user_data)

    def read_line_finish(self, result):
        return _to_bytes(QSock.IODevice.read_line_finish(self, result))

    def read_exactly_finish(self, result):
        return _to_bytes(QSock.IODevice.read_exactly_finish(self, result))

    def wait_for_ready_read(self, msecs=30000):
        return QSock.IODevice.wait_for_ready_read(self, msecs)

    def wait_for_bytes_written(self, msecs=30000):
        return QSock.IODevice.wait_for_bytes_written(self, msecs)


IODevice = override(IODevice)
__all__.append('IODevice')

_RESOLVE_HINT = ', or use connect_to_host()'


class Abstract(QSock.Abstract):
    def connect_to_host(self, host_name, port, mode=_READ_WRITE, protocol=_ANY_IP):
        _check_name(host_name, 'host name')
        return QSock.Abstract.connect_to_host(self, host_name, port, mode, protocol)

    def connect_to_host_async(self, host_name, port, mode=_READ_WRITE, protocol=_ANY_IP,
                              cancellable=None, callback=None, *user_data):
        _check_name(host_name, 'host name')
        return QSock.Abstract.connect_to_host_async(self, host_name, port, mode, protocol,
                                                    cancellable, callback, *user_data)

    def connect_to_address(self, address, port, mode=_READ_WRITE):
        address = _to_address(address, 'connect_to_address', _RESOLVE_HINT)
        return QSock.Abstract.connect_to_address(self, address, port, mode)

    def bind(self, address=None, port=0, mode=_DEFAULT_FOR_PLATFORM):
        # Qt's other overload, bind(port, mode): an int first is the port.
        if isinstance(address, int) and not isinstance(address, bool):
            return QSock.Abstract.bind(self, None, address, port or mode)
        address = _to_address(address, 'bind')
        return QSock.Abstract.bind(self, address, port, mode)

    def get_socket_option(self, option):
        """The option's value, or None when it cannot be read (the C
        form's FALSE). 0 is a value: compare with None."""
        ok, value = QSock.Abstract.get_socket_option(self, option)
        return value if ok else None

    def wait_for_connected(self, msecs=30000):
        return QSock.Abstract.wait_for_connected(self, msecs)

    def wait_for_disconnected(self, msecs=30000):
        return QSock.Abstract.wait_for_disconnected(self, msecs)


Abstract = override(Abstract)
__all__.append('Abstract')


def _wait_for_new_connection(cls, server, msecs, return_timed_out):
    ok, timed_out = cls.wait_for_new_connection(server, msecs)
    return (ok, timed_out) if return_timed_out else ok


class TcpServer(QSock.TcpServer):
    def listen(self, address=None, port=0):
        return QSock.TcpServer.listen(self, _to_address(address, 'listen'), port)

    def wait_for_new_connection(self, msecs=0, return_timed_out=False):
        """True when a connection is there to take. With
        return_timed_out=True, the pair (ok, timed_out) as Qt's
        waitForNewConnection(msec, &timedOut) gives both."""
        return _wait_for_new_connection(QSock.TcpServer, self, msecs, return_timed_out)


TcpServer = override(TcpServer)
__all__.append('TcpServer')


class Udp(QSock.Udp):
    def read_datagram(self, max_size=-1):
        data, address, port = QSock.Udp.read_datagram(self, max_size)
        return (None if data is None else _to_bytes(data)), address, port

    def receive_datagram(self, max_size=-1):
        return QSock.Udp.receive_datagram(self, max_size)

    def write_datagram(self, data, address, port):
        address = _to_address(address, 'write_datagram', _RESOLVE_HINT)
        return QSock.Udp.write_datagram(self, _byte_array(data, 'write_datagram'), address, port)

    def write_datagram_bytes(self, data, address, port):
        address = _to_address(address, 'write_datagram_bytes', _RESOLVE_HINT)
        return QSock.Udp.write_datagram_bytes(self, _to_gbytes(data, 'write_datagram_bytes'),
                                              address, port)

    def join_multicast_group(self, group, interface_name=None):
        group = _to_address(group, 'join_multicast_group')
        return QSock.Udp.join_multicast_group(self, group, interface_name)

    def leave_multicast_group(self, group, interface_name=None):
        group = _to_address(group, 'leave_multicast_group')
        return QSock.Udp.leave_multicast_group(self, group, interface_name)

    def join_multicast_group_on_index(self, group, interface_index):
        group = _to_address(group, 'join_multicast_group_on_index')
        return QSock.Udp.join_multicast_group_on_index(self, group, interface_index)

    def leave_multicast_group_on_index(self, group, interface_index):
        group = _to_address(group, 'leave_multicast_group_on_index')
        return QSock.Udp.leave_multicast_group_on_index(self, group, interface_index)


Udp = override(Udp)
__all__.append('Udp')


class Datagram(QSock.Datagram):
    @classmethod
    def new_with_bytes(cls, data, destination=None, port=0):
        destination = _to_address(destination, 'new_with_bytes')
        return QSock.Datagram.new_with_bytes(_to_gbytes(data, 'new_with_bytes'), destination, port)

    @classmethod
    def new_with_data(cls, data, destination=None, port=0):
        destination = _to_address(destination, 'new_with_data')
        return QSock.Datagram.new_with_data(_byte_array(data, 'new_with_data'), destination, port)

    def get_data(self):
        return _to_bytes(QSock.Datagram.get_data(self))

    def set_data(self, data):
        if data is not None:
            data = _to_gbytes(data, 'set_data')
        return QSock.Datagram.set_data(self, data)

    def make_reply(self, data):
        return QSock.Datagram.make_reply(self, _to_gbytes(data, 'make_reply'))

    def set_destination(self, address, port):
        return QSock.Datagram.set_destination(self, _to_address(address, 'set_destination'), port)

    def set_sender(self, address, port):
        return QSock.Datagram.set_sender(self, _to_address(address, 'set_sender'), port)


Datagram = override(Datagram)
__all__.append('Datagram')


class Local(QSock.Local):
    def connect_to_server(self, name=None, mode=_READ_WRITE):
        _check_name(name, 'server name')
        return QSock.Local.connect_to_server(self, name, mode)

    def connect_to_server_async(self, name=None, mode=_READ_WRITE, cancellable=None,
                                callback=None, *user_data):
        _check_name(name, 'server name')
        return QSock.Local.connect_to_server_async(self, name, mode, cancellable,
                                                   callback, *user_data)

    def set_server_name(self, name):
        _check_name(name, 'server name')
        return QSock.Local.set_server_name(self, name)

    def wait_for_connected(self, msecs=30000):
        return QSock.Local.wait_for_connected(self, msecs)

    def wait_for_disconnected(self, msecs=30000):
        return QSock.Local.wait_for_disconnected(self, msecs)

    def send_fds(self, fds, data=b'\0'):
        return QSock.Local.send_fds(self, fds, _byte_array(data, 'send_fds'))


Local = override(Local)
__all__.append('Local')


class LocalServer(QSock.LocalServer):
    def listen(self, name):
        _check_name(name, 'server name')
        return QSock.LocalServer.listen(self, name)

    @staticmethod
    def remove_server(name):
        _check_name(name, 'server name')
        return QSock.LocalServer.remove_server(name)

    def wait_for_new_connection(self, msecs=0, return_timed_out=False):
        """As TcpServer.wait_for_new_connection()."""
        return _wait_for_new_connection(QSock.LocalServer, self, msecs, return_timed_out)


LocalServer = override(LocalServer)
__all__.append('LocalServer')
