# The Qt side: the driver interface over PyQt6 (QtNetwork 6.4).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import sys

from PyQt6.QtCore import QCoreApplication, QEventLoop, QTimer, QIODeviceBase
from PyQt6.QtNetwork import (QAbstractSocket, QHostAddress, QLocalServer, QLocalSocket,
                             QNetworkProxy, QTcpServer, QTcpSocket, QUdpSocket)

import driver as base

SIGNAL_NAMES = {
    'host-found': 'hostFound', 'connected': 'connected', 'disconnected': 'disconnected',
    'state-changed': 'stateChanged', 'error-occurred': 'errorOccurred',
    'ready-read': 'readyRead', 'bytes-written': 'bytesWritten',
    'read-channel-finished': 'readChannelFinished', 'about-to-close': 'aboutToClose',
    'new-connection': 'newConnection',
    'pending-connection-available': 'pendingConnectionAvailable',
    'accept-error': 'acceptError',
}

OM = QIODeviceBase.OpenModeFlag
SO = QAbstractSocket.SocketOption


def _int(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    val = getattr(v, 'value', None)
    if val is not None:
        return int(val)
    return int(v)


def _open_mode(m):
    return OM(m)


def _addr(a):
    if a is None:
        return QHostAddress(QHostAddress.SpecialAddress.Any)
    if a in base.SPECIAL_ADDRESSES:
        return QHostAddress(QHostAddress.SpecialAddress(base.SPECIAL_ADDRESSES[a]))
    return QHostAddress(a)


def _addr_str(qa):
    return qa.toString() if qa is not None else ''


def _fd(v):
    n = int(v)
    if n >= 2 ** 63:
        n -= 2 ** 64
    return n


def _bytes_or_empty(v):
    return b'' if v is None else bytes(v)


class _Obj:
    signals = ()

    def __init__(self, obj):
        self.obj = obj

    def attach(self, d, tag):
        self.d = d

        def state():
            return self.state() if hasattr(self, 'state') else None
        for name in self.signals:
            sig = getattr(self.obj, SIGNAL_NAMES[name])

            def slot(*a, name=name):
                d._signal(tag, name, [_int(x) for x in a], state if hasattr(self, 'state') else None)
            sig.connect(slot)


class QtIODevice(_Obj):
    # QIODevice
    def is_open(self): return self.obj.isOpen()
    def is_readable(self): return self.obj.isReadable()
    def is_writable(self): return self.obj.isWritable()
    def is_sequential(self): return self.obj.isSequential()
    def open_mode(self): return _int(self.obj.openMode())
    def open(self, mode): return self.obj.open(_open_mode(mode))
    def close(self): return self.obj.close()
    def error_string(self): return self.obj.errorString()
    def bytes_available(self): return self.obj.bytesAvailable()
    def bytes_to_write(self): return self.obj.bytesToWrite()
    def can_read_line(self): return self.obj.canReadLine()
    def at_end(self): return self.obj.atEnd()

    def read(self, n): return _bytes_or_empty(self.obj.read(n))

    def read_ret(self, n):
        r = self.obj.read(n)
        return (-1, b'') if r is None else (len(r), bytes(r))

    def read_all(self): return bytes(self.obj.readAll())

    def read_line(self, n=0):
        return bytes(self.obj.readLine()) if n == 0 else _bytes_or_empty(self.obj.readLine(n))

    def read_line_ret(self, n):
        r = self.obj.readLine(n)
        return (-1, b'') if r is None else (len(r), bytes(r))

    def peek(self, n): return _bytes_or_empty(self.obj.peek(n))
    def skip(self, n): return self.obj.skip(n)

    def get_char(self):
        ok, c = self.obj.getChar()
        return (ok, c[0] if ok and c else None)

    def put_char(self, c): return self.obj.putChar(bytes([c]))
    def unget_char(self, c): return self.obj.ungetChar(bytes([c]))
    def write(self, data): return self.obj.write(bytes(data))
    def start_transaction(self): return self.obj.startTransaction()
    def commit_transaction(self): return self.obj.commitTransaction()
    def rollback_transaction(self): return self.obj.rollbackTransaction()
    def is_transaction_started(self): return self.obj.isTransactionStarted()
    def wait_for_ready_read(self, ms=30000): return self.obj.waitForReadyRead(ms)
    def wait_for_bytes_written(self, ms=30000): return self.obj.waitForBytesWritten(ms)


class QtAbstract(QtIODevice):
    signals = base.SOCKET_SIGNALS

    def connect_to_host(self, host, port, mode=3, protocol=2):
        return self.obj.connectToHost(host, port, _open_mode(mode),
                                      QAbstractSocket.NetworkLayerProtocol(protocol))

    def connect_to_address(self, addr, port, mode=3):
        return self.obj.connectToHost(_addr(addr), port, _open_mode(mode))

    def disconnect_from_host(self): return self.obj.disconnectFromHost()
    def abort(self): return self.obj.abort()
    def flush(self): return self.obj.flush()

    def bind(self, addr=None, port=0, mode=0):
        return self.obj.bind(_addr(addr), port, QAbstractSocket.BindFlag(mode))

    def state(self): return _int(self.obj.state())
    def error(self): return _int(self.obj.error())
    def is_valid(self): return self.obj.isValid()
    def socket_type(self): return _int(self.obj.socketType())
    def wait_for_connected(self, ms=30000): return self.obj.waitForConnected(ms)
    def wait_for_disconnected(self, ms=30000): return self.obj.waitForDisconnected(ms)
    def local_address(self): return _addr_str(self.obj.localAddress())
    def local_port(self): return self.obj.localPort()
    def peer_address(self): return _addr_str(self.obj.peerAddress())
    def peer_port(self): return self.obj.peerPort()
    def peer_name(self): return self.obj.peerName()
    def socket_descriptor(self): return _fd(self.obj.socketDescriptor())

    def set_socket_descriptor(self, fd, state=3, mode=3):
        return self.obj.setSocketDescriptor(fd, QAbstractSocket.SocketState(state), _open_mode(mode))

    def read_buffer_size(self): return self.obj.readBufferSize()
    def set_read_buffer_size(self, n): return self.obj.setReadBufferSize(n)

    def socket_option(self, opt):
        v = self.obj.socketOption(SO(opt))
        return None if v is None else int(v)

    def set_socket_option(self, opt, value):
        return self.obj.setSocketOption(SO(opt), value)


class QtUdp(QtAbstract):
    def write_datagram(self, data, host, port):
        return self.obj.writeDatagram(bytes(data), _addr(host), port)

    def read_datagram(self, n):
        data, addr, port = self.obj.readDatagram(n)
        return (None if data is None else bytes(data), _addr_str(addr), port)

    def receive_datagram(self, n=-1):
        dg = self.obj.receiveDatagram(n)
        return {'valid': dg.isValid(), 'data': bytes(dg.data()),
                'sender': _addr_str(dg.senderAddress()), 'sender_port': dg.senderPort(),
                'dest': _addr_str(dg.destinationAddress()), 'dest_port': dg.destinationPort(),
                'hop_limit': dg.hopLimit(), 'ifindex': dg.interfaceIndex()}

    def has_pending_datagrams(self): return self.obj.hasPendingDatagrams()
    def pending_datagram_size(self): return self.obj.pendingDatagramSize()
    def join_multicast_group(self, group): return self.obj.joinMulticastGroup(_addr(group))
    def leave_multicast_group(self, group): return self.obj.leaveMulticastGroup(_addr(group))


class QtLocal(QtIODevice):
    signals = base.LOCAL_SIGNALS

    def connect_to_server(self, name=None, mode=3):
        if name is None:
            return self.obj.connectToServer(_open_mode(mode))
        return self.obj.connectToServer(name, _open_mode(mode))

    def disconnect_from_server(self): return self.obj.disconnectFromServer()
    def abort(self): return self.obj.abort()
    def flush(self): return self.obj.flush()
    def state(self): return _int(self.obj.state())
    def error(self): return _int(self.obj.error())
    def is_valid(self): return self.obj.isValid()
    def server_name(self): return self.obj.serverName()
    def full_server_name(self): return self.obj.fullServerName()
    def set_server_name(self, n): return self.obj.setServerName(n)
    def socket_options(self): return _int(self.obj.socketOptions())

    def set_socket_options(self, o):
        return self.obj.setSocketOptions(QLocalSocket.SocketOption(o))

    def wait_for_connected(self, ms=30000): return self.obj.waitForConnected(ms)
    def wait_for_disconnected(self, ms=30000): return self.obj.waitForDisconnected(ms)
    def socket_descriptor(self): return _fd(self.obj.socketDescriptor())

    def set_socket_descriptor(self, fd, state=3, mode=3):
        return self.obj.setSocketDescriptor(fd, QLocalSocket.LocalSocketState(state), _open_mode(mode))

    def read_buffer_size(self): return self.obj.readBufferSize()
    def set_read_buffer_size(self, n): return self.obj.setReadBufferSize(n)


class QtTcpServer(_Obj):
    signals = base.TCP_SERVER_SIGNALS

    def listen(self, addr=None, port=0): return self.obj.listen(_addr(addr), port)
    def close(self): return self.obj.close()
    def is_listening(self): return self.obj.isListening()
    def server_port(self): return self.obj.serverPort()
    def server_address(self): return _addr_str(self.obj.serverAddress())
    def server_error(self): return _int(self.obj.serverError())
    def error_string(self): return self.obj.errorString()
    def max_pending_connections(self): return self.obj.maxPendingConnections()
    def set_max_pending_connections(self, n): return self.obj.setMaxPendingConnections(n)
    def has_pending_connections(self): return self.obj.hasPendingConnections()
    def listen_backlog_size(self): return self.obj.listenBacklogSize()
    def set_listen_backlog_size(self, n): return self.obj.setListenBacklogSize(n)

    def next_pending_connection(self):
        s = self.obj.nextPendingConnection()
        if s is None:
            return None
        return self.d._wrap(QtAbstract(s), self.d.child_tag(self.tag))

    def wait_for_new_connection(self, ms=0):
        return tuple(self.obj.waitForNewConnection(ms))

    def pause_accepting(self): return self.obj.pauseAccepting()
    def resume_accepting(self): return self.obj.resumeAccepting()
    def socket_descriptor(self): return _fd(self.obj.socketDescriptor())
    def set_socket_descriptor(self, fd): return self.obj.setSocketDescriptor(fd)

    def attach(self, d, tag):
        self.tag = tag
        super().attach(d, tag)


class QtLocalServer(QtTcpServer):
    signals = base.LOCAL_SERVER_SIGNALS

    def listen(self, name): return self.obj.listen(name)

    def listen_descriptor(self, fd):
        from PyQt6 import sip
        return self.obj.listen(sip.voidptr(fd))

    def server_name(self): return self.obj.serverName()
    def full_server_name(self): return self.obj.fullServerName()
    def socket_options(self): return _int(self.obj.socketOptions())

    def set_socket_options(self, o):
        return self.obj.setSocketOptions(QLocalServer.SocketOption(o))

    def next_pending_connection(self):
        s = self.obj.nextPendingConnection()
        if s is None:
            return None
        return self.d._wrap(QtLocal(s), self.d.child_tag(self.tag))


class QtDriver(base.Driver):
    impl = 'qt'

    def __init__(self, rec, tmpdir):
        super().__init__(rec, tmpdir)
        self.app = QCoreApplication.instance() or QCoreApplication([sys.argv[0]])
        QNetworkProxy.setApplicationProxy(QNetworkProxy(QNetworkProxy.ProxyType.NoProxy))

    def _iterate_for(self, ms):
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def tcp_socket(self, tag=None): return self._wrap(QtAbstract(QTcpSocket()), tag)
    def udp_socket(self, tag=None): return self._wrap(QtUdp(QUdpSocket()), tag)
    def local_socket(self, tag=None): return self._wrap(QtLocal(QLocalSocket()), tag)
    def tcp_server(self, tag=None): return self._wrap(QtTcpServer(QTcpServer()), tag)
    def local_server(self, tag=None): return self._wrap(QtLocalServer(QLocalServer()), tag)

    def remove_server(self, name):
        return self._call('LocalServer', 'remove_server', QLocalServer.removeServer, (name,), {})
