# Neutral peers: Python's plain socket module, non-blocking, polled from the
# scenario (inside run_until conditions or poll_until), never Qt or qsock.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import errno
import os
import socket
import struct
import time


class _Conn:
    """An accepted or connected stream socket, non-blocking."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.setblocking(False)
        self.buf = bytearray()
        self.eof = False
        self.reset = False

    def fileno(self):
        return self.sock.fileno()

    def send(self, data):
        """Send everything (waits for room; the other side must be reading
        from the kernel, which both libraries do without an event loop only
        up to their buffers, so keep this under the socket buffer sizes)."""
        view = memoryview(bytes(data))
        deadline = time.monotonic() + 5
        while view:
            try:
                n = self.sock.send(view)
                view = view[n:]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError('peer send stuck')
                time.sleep(0.002)
        return len(data)

    def poll(self):
        """Read whatever is there; True once EOF or reset was seen."""
        while not self.eof:
            try:
                chunk = self.sock.recv(65536)
            except BlockingIOError:
                break
            except ConnectionResetError:
                self.eof = self.reset = True
                break
            except OSError:
                self.eof = True
                break
            if not chunk:
                self.eof = True
                break
            self.buf += chunk
        return self.eof

    def got(self, n):
        """Condition: at least n bytes received."""
        self.poll()
        return len(self.buf) >= n

    def closed(self):
        """Condition: EOF (or reset) seen."""
        return self.poll()

    def take(self):
        self.poll()
        data = bytes(self.buf)
        self.buf.clear()
        return data

    def queue(self, data):
        """Send data bit by bit from pump() (for more than fits in the
        socket buffers)."""
        self.out = getattr(self, 'out', bytearray()) + bytes(data)

    def pump(self):
        """Send what the kernel takes of the queued data; True when all of it
        is sent.  Also reads, so the other side never blocks on us."""
        out = getattr(self, 'out', bytearray())
        while out:
            try:
                n = self.sock.send(out[:65536])
            except BlockingIOError:
                break
            del out[:n]
        self.poll()
        return not out

    def echo_in_thread(self, count, delay=0.0):
        """A thread that sends back the first `count` bytes it receives (for
        blocking calls that need the peer to answer meanwhile)."""
        import threading

        def run():
            got = bytearray()
            deadline = time.monotonic() + 5
            while len(got) < count and time.monotonic() < deadline:
                try:
                    chunk = self.sock.recv(count - len(got))
                except BlockingIOError:
                    time.sleep(0.002)
                    continue
                if not chunk:
                    break
                got += chunk
            time.sleep(delay)
            self.sock.send(bytes(got))
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def send_later(self, data, delay):
        """Send data from a thread after delay seconds."""
        import threading

        def run():
            time.sleep(delay)
            self.send(data)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def close_later(self, delay):
        import threading

        def run():
            time.sleep(delay)
            self.sock.close()
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def close(self):
        self.sock.close()

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def reset_close(self):
        """Close with SO_LINGER 0: the other side gets a RST."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.sock.close()

    def teardown(self):
        try:
            self.sock.close()
        except OSError:
            pass


class TcpListener:
    def __init__(self, host='127.0.0.1', backlog=16):
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(backlog)
        self.sock.setblocking(False)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.conns = []

    def try_accept(self):
        try:
            s, _ = self.sock.accept()
        except BlockingIOError:
            return None
        c = _Conn(s)
        self.conns.append(c)
        return c

    def accept(self, timeout=3.0):
        """Accept one connection; the kernel completes the handshake, so this
        needs no event loop on the client side."""
        deadline = time.monotonic() + timeout
        while True:
            c = self.try_accept()
            if c is not None:
                return c
            if time.monotonic() > deadline:
                raise TimeoutError('no connection to accept')
            time.sleep(0.002)

    def close(self):
        self.sock.close()

    def teardown(self):
        for c in self.conns:
            c.teardown()
        try:
            self.sock.close()
        except OSError:
            pass


class UnixListener(TcpListener):
    def __init__(self, path, backlog=16, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.path = path
        self.sock.bind(('\0' + path) if abstract else path)
        self.sock.listen(backlog)
        self.sock.setblocking(False)
        self.conns = []


class TcpClient(_Conn):
    """A client connecting to a server under test (blocking connect)."""

    def __init__(self, host, port):
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect((host, port))
        super().__init__(s)


class UnixClient(_Conn):
    def __init__(self, path, abstract=False):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(('\0' + path) if abstract else path)
        super().__init__(s)


class FullBacklogListener:
    """A TCP listener whose backlog is full, so further SYNs are dropped and
    a connect to it hangs in ConnectingState."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(4):
            f = socket.socket()
            f.setblocking(False)
            try:
                f.connect(('127.0.0.1', self.port))
            except BlockingIOError:
                pass
            self.fillers.append(f)
        time.sleep(0.2)

    def teardown(self):
        for f in self.fillers:
            f.close()
        self.sock.close()


class UdpPeer:
    def __init__(self, host='127.0.0.1'):
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.received = []

    def sendto(self, data, port, host=None):
        return self.sock.sendto(data, (host or self.host, port))

    def poll(self):
        while True:
            try:
                data, addr = self.sock.recvfrom(70000)
            except BlockingIOError:
                break
            except OSError:
                break
            self.received.append((data, addr[1]))
        return len(self.received)

    def got(self, n):
        return self.poll() >= n

    def take(self):
        self.poll()
        r = self.received[:]
        self.received.clear()
        return r

    def teardown(self):
        self.sock.close()


def closed_port(host='127.0.0.1'):
    """A port nobody listens on (bound and released)."""
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def connected_pair():
    """A connected TCP pair over loopback: (fd to hand over, peer _Conn)."""
    ls = socket.socket()
    ls.bind(('127.0.0.1', 0))
    ls.listen(1)
    a = socket.create_connection(ls.getsockname())
    b, _ = ls.accept()
    ls.close()
    return a, _Conn(b)


def is_errno(e, *codes):
    return isinstance(e, OSError) and e.errno in codes


__all__ = ['TcpListener', 'UnixListener', 'TcpClient', 'UnixClient', 'FullBacklogListener',
           'UdpPeer', 'closed_port', 'connected_pair', 'errno', 'os']
