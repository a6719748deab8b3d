# The qsock side: the driver interface over PyGObject (QSock-1.0 from the
# build tree, with the Python overrides).  read_ret()/read_line_ret() call
# the C forms through ctypes, because only they return -1 versus 0.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import ctypes
import os

import gi
gi.require_version('QSock', '1.0')
from gi.repository import GLib, Gio, QSock  # noqa: E402

import driver as base  # noqa: E402


def _find_lib():
    for d in os.environ.get('LD_LIBRARY_PATH', '').split(':'):
        if not d:
            continue
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else ():
            if name.startswith('libqsock-glib-1.0.so'):
                return os.path.join(d, name)
    return 'libqsock-glib-1.0.so.0'


_lib = ctypes.CDLL(_find_lib())
_lib.qsock_iodevice_read.restype = ctypes.c_int64
_lib.qsock_iodevice_read.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64]
_lib.qsock_iodevice_read_line.restype = ctypes.c_int64
_lib.qsock_iodevice_read_line.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64]
_capsule_ptr = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_ptr.restype = ctypes.c_void_p
_capsule_ptr.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _cptr(obj):
    return _capsule_ptr(obj.__gpointer__, None)


def _addr(a):
    if a is None:
        return None
    if a in base.SPECIAL_ADDRESSES:
        return QSock.host_address_new_special(QSock.SpecialAddress(base.SPECIAL_ADDRESSES[a]))
    return Gio.InetAddress.new_from_string(a)


def _addr_str(ga):
    return ga.to_string() if ga is not None else ''


def _byte_arg(fn, c):
    # put_char/unget_char take the byte as guint8 (0..255); older typelibs
    # described it as a signed gchar.
    try:
        return fn(c)
    except OverflowError:
        return fn(c - 256 if c > 127 else c)


class _Obj:
    signals = ()

    def __init__(self, obj):
        self.obj = obj

    def attach(self, d, tag):
        self.d = d
        self.tag = tag
        state = self.state if hasattr(self, 'state') else None
        for name in self.signals:
            def handler(_obj, *a, name=name):
                d._signal(tag, name, [int(x) for x in a], state)
            self.obj.connect(name, handler)


class QSockIODevice(_Obj):
    def is_open(self): return self.obj.is_open()
    def is_readable(self): return self.obj.is_readable()
    def is_writable(self): return self.obj.is_writable()
    def is_sequential(self): return self.obj.is_sequential()
    def open_mode(self): return int(self.obj.get_open_mode())
    def open(self, mode): return self.obj.open(QSock.OpenMode(mode))
    def close(self): return self.obj.close()
    def error_string(self): return self.obj.get_error_string()
    def bytes_available(self): return self.obj.bytes_available()
    def bytes_to_write(self): return self.obj.bytes_to_write()
    def can_read_line(self): return self.obj.can_read_line()
    def at_end(self): return self.obj.at_end()
    def read(self, n): return self.obj.read(n)

    def read_ret(self, n):
        buf = ctypes.create_string_buffer(max(n, 1))
        rc = _lib.qsock_iodevice_read(_cptr(self.obj), buf, n)
        return (rc, buf.raw[:rc] if rc > 0 else b'')

    def read_all(self): return self.obj.read_all()
    def read_line(self, n=0): return self.obj.read_line(n)

    def read_line_ret(self, n):
        buf = ctypes.create_string_buffer(max(n, 1))
        rc = _lib.qsock_iodevice_read_line(_cptr(self.obj), buf, n)
        return (rc, buf.raw[:rc] if rc > 0 else b'')

    def peek(self, n): return self.obj.peek(n)
    def skip(self, n): return self.obj.skip(n)

    def get_char(self):
        r = self.obj.get_char()
        # The Python overrides give bytes of length 1 or None; the plain
        # introspected call (ok, char).
        if r is None:
            return (False, None)
        if isinstance(r, (bytes, bytearray)):
            return (True, r[0])
        ok, c = r
        if not ok:
            return (False, None)
        if isinstance(c, str):
            c = ord(c) if c else 0
        return (True, c & 0xff)

    def put_char(self, c): return _byte_arg(self.obj.put_char, c)
    def unget_char(self, c): return _byte_arg(self.obj.unget_char, c)
    def write(self, data): return self.obj.write(bytes(data))
    def start_transaction(self): return self.obj.start_transaction()
    def commit_transaction(self): return self.obj.commit_transaction()
    def rollback_transaction(self): return self.obj.rollback_transaction()
    def is_transaction_started(self): return self.obj.is_transaction_started()
    def wait_for_ready_read(self, ms=30000): return self.obj.wait_for_ready_read(ms)
    def wait_for_bytes_written(self, ms=30000): return self.obj.wait_for_bytes_written(ms)


class QSockAbstract(QSockIODevice):
    signals = base.SOCKET_SIGNALS

    def connect_to_host(self, host, port, mode=3, protocol=2):
        return self.obj.connect_to_host(host, port, QSock.OpenMode(mode),
                                        QSock.NetworkLayerProtocol(protocol))

    def connect_to_address(self, addr, port, mode=3):
        return self.obj.connect_to_address(_addr(addr), port, QSock.OpenMode(mode))

    def disconnect_from_host(self): return self.obj.disconnect_from_host()
    def abort(self): return self.obj.abort()
    def flush(self): return self.obj.flush()

    def bind(self, addr=None, port=0, mode=0):
        return self.obj.bind(_addr(addr), port, QSock.BindFlags(mode))

    def state(self): return int(self.obj.get_state())
    def error(self): return int(self.obj.get_error())
    def is_valid(self): return self.obj.is_valid()
    def socket_type(self): return int(self.obj.get_socket_type())
    def wait_for_connected(self, ms=30000): return self.obj.wait_for_connected(ms)
    def wait_for_disconnected(self, ms=30000): return self.obj.wait_for_disconnected(ms)
    def local_address(self): return _addr_str(self.obj.get_local_address())
    def local_port(self): return self.obj.get_local_port()
    def peer_address(self): return _addr_str(self.obj.get_peer_address())
    def peer_port(self): return self.obj.get_peer_port()
    def peer_name(self): return self.obj.get_peer_name() or ''
    def socket_descriptor(self): return self.obj.get_socket_descriptor()

    def set_socket_descriptor(self, fd, state=3, mode=3):
        return self.obj.set_socket_descriptor(fd, QSock.SocketState(state), QSock.OpenMode(mode))

    def read_buffer_size(self): return self.obj.get_read_buffer_size()
    def set_read_buffer_size(self, n): return self.obj.set_read_buffer_size(n)

    def socket_option(self, opt):
        r = self.obj.get_socket_option(QSock.SocketOption(opt))
        # the overrides give the value or None; the plain call (ok, value)
        if isinstance(r, tuple):
            ok, v = r
            return int(v) if ok else None
        return None if r is None else int(r)

    def set_socket_option(self, opt, value):
        return self.obj.set_socket_option(QSock.SocketOption(opt), int(value))


class QSockUdp(QSockAbstract):
    def write_datagram(self, data, host, port):
        return self.obj.write_datagram(bytes(data), _addr(host), port)

    def read_datagram(self, n):
        data, addr, port = self.obj.read_datagram(n)
        return (data, _addr_str(addr), port)

    def receive_datagram(self, n=-1):
        dg = self.obj.receive_datagram(n)
        return {'valid': dg.is_valid(), 'data': dg.get_data(),
                'sender': _addr_str(dg.get_sender_address()), 'sender_port': dg.get_sender_port(),
                'dest': _addr_str(dg.get_destination_address()),
                'dest_port': dg.get_destination_port(),
                'hop_limit': dg.get_hop_limit(), 'ifindex': dg.get_interface_index()}

    def has_pending_datagrams(self): return self.obj.has_pending_datagrams()
    def pending_datagram_size(self): return self.obj.pending_datagram_size()
    def join_multicast_group(self, group): return self.obj.join_multicast_group(_addr(group))
    def leave_multicast_group(self, group): return self.obj.leave_multicast_group(_addr(group))


class QSockLocal(QSockIODevice):
    signals = base.LOCAL_SIGNALS

    def connect_to_server(self, name=None, mode=3):
        return self.obj.connect_to_server(name, QSock.OpenMode(mode))

    def disconnect_from_server(self): return self.obj.disconnect_from_server()
    def abort(self): return self.obj.abort()
    def flush(self): return self.obj.flush()
    def state(self): return int(self.obj.get_state())
    def error(self): return int(self.obj.get_error())
    def is_valid(self): return self.obj.is_valid()
    def server_name(self): return self.obj.get_server_name() or ''
    def full_server_name(self): return self.obj.get_full_server_name() or ''
    def set_server_name(self, n): return self.obj.set_server_name(n)
    def socket_options(self): return int(self.obj.get_socket_options())

    def set_socket_options(self, o):
        return self.obj.set_socket_options(QSock.LocalSocketOptions(o))

    def wait_for_connected(self, ms=30000): return self.obj.wait_for_connected(ms)
    def wait_for_disconnected(self, ms=30000): return self.obj.wait_for_disconnected(ms)
    def socket_descriptor(self): return self.obj.get_socket_descriptor()

    def set_socket_descriptor(self, fd, state=3, mode=3):
        return self.obj.set_socket_descriptor(fd, QSock.LocalSocketState(state), QSock.OpenMode(mode))

    def read_buffer_size(self): return self.obj.get_read_buffer_size()
    def set_read_buffer_size(self, n): return self.obj.set_read_buffer_size(n)


class QSockTcpServer(_Obj):
    signals = base.TCP_SERVER_SIGNALS

    def listen(self, addr=None, port=0): return self.obj.listen(_addr(addr), port)
    def close(self): return self.obj.close()
    def is_listening(self): return self.obj.is_listening()
    def server_port(self): return self.obj.get_server_port()
    def server_address(self): return _addr_str(self.obj.get_server_address())
    def server_error(self): return int(self.obj.get_server_error())
    def error_string(self): return self.obj.get_error_string() or ''
    def max_pending_connections(self): return self.obj.get_max_pending_connections()
    def set_max_pending_connections(self, n): return self.obj.set_max_pending_connections(n)
    def has_pending_connections(self): return self.obj.has_pending_connections()
    def listen_backlog_size(self): return self.obj.get_listen_backlog_size()
    def set_listen_backlog_size(self, n): return self.obj.set_listen_backlog_size(n)

    def _wrap_child(self, s):
        return self.d._wrap(QSockAbstract(s), self.d.child_tag(self.tag))

    def next_pending_connection(self):
        s = self.obj.next_pending_connection()
        if s is None:
            return None
        return self._wrap_child(s)

    def wait_for_new_connection(self, ms=0):
        # (ok, timed_out) as Qt's waitForNewConnection(ms, &timedOut); the
        # overrides give it with return_timed_out=True, the plain call always
        try:
            r = self.obj.wait_for_new_connection(ms, return_timed_out=True)
        except TypeError:
            r = self.obj.wait_for_new_connection(ms)
        return tuple(r)

    def pause_accepting(self): return self.obj.pause_accepting()
    def resume_accepting(self): return self.obj.resume_accepting()
    def socket_descriptor(self): return self.obj.get_socket_descriptor()
    def set_socket_descriptor(self, fd): return self.obj.set_socket_descriptor(fd)


class QSockLocalServer(QSockTcpServer):
    signals = base.LOCAL_SERVER_SIGNALS

    def listen(self, name): return self.obj.listen(name)
    def listen_descriptor(self, fd): return self.obj.listen_descriptor(fd)
    def server_name(self): return self.obj.get_server_name() or ''
    def full_server_name(self): return self.obj.get_full_server_name() or ''
    def socket_options(self): return int(self.obj.get_socket_options())

    def set_socket_options(self, o):
        return self.obj.set_socket_options(QSock.LocalServerOptions(o))

    def _wrap_child(self, s):
        return self.d._wrap(QSockLocal(s), self.d.child_tag(self.tag))


class QSockDriver(base.Driver):
    impl = 'qsock'

    def __init__(self, rec, tmpdir):
        super().__init__(rec, tmpdir)
        self.ctx = GLib.MainContext.default()

    def _iterate_for(self, ms):
        fired = []
        src = GLib.timeout_source_new(ms)
        src.set_callback(lambda *a: fired.append(1) or False)
        src.attach(self.ctx)
        try:
            while not fired:
                self.ctx.iteration(True)
        finally:
            if not src.is_destroyed():
                src.destroy()

    def tcp_socket(self, tag=None): return self._wrap(QSockAbstract(QSock.Tcp()), tag)
    def udp_socket(self, tag=None): return self._wrap(QSockUdp(QSock.Udp()), tag)
    def local_socket(self, tag=None): return self._wrap(QSockLocal(QSock.Local()), tag)
    def tcp_server(self, tag=None): return self._wrap(QSockTcpServer(QSock.TcpServer()), tag)
    def local_server(self, tag=None): return self._wrap(QSockLocalServer(QSock.LocalServer()), tag)

    def remove_server(self, name):
        return self._call('LocalServer', 'remove_server', QSock.LocalServer.remove_server, (name,), {})

    def teardown(self):
        super().teardown()
        # let deferred finalisation run
        for _ in range(20):
            if not self.ctx.iteration(False):
                break
