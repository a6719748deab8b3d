# The driver interface the scenarios are written against, and what both
# implementations share: recording of calls and signals, sync/loop marks,
# handles, peers' aliases.
#
# A scenario gets a driver `d` and makes objects with d.tcp_socket(tag),
# d.tcp_server(tag), d.udp_socket(tag), d.local_socket(tag),
# d.local_server(tag).  Every method called on such a handle is recorded with
# its arguments and return value (enums as integers), unless it is called
# inside `with d.quiet():` or inside a run_until() condition.  Every signal is
# recorded with its arguments and the object's state at emission, marked
# "sync" when it was emitted inside a driver call and "loop" when it came from
# the event loop.
#
# Handle methods (snake_case, qsock's names without get_; both drivers):
#   sockets (tcp, udp):  connect_to_host(host, port, mode=3, protocol=2),
#     connect_to_address(addr, port, mode=3), disconnect_from_host(), close(), abort(), flush(), open(mode),
#     bind(addr=None, port=0, mode=0), state(), error(), error_string(),
#     is_open(), is_valid(), is_readable(), is_writable(), is_sequential(),
#     open_mode(), socket_type(), bytes_available(), bytes_to_write(),
#     can_read_line(), at_end(), read(n), read_ret(n) -> (rc, data),
#     read_all(), read_line(n=0), read_line_ret(n) -> (rc, data), peek(n),
#     skip(n), get_char() -> (ok, byte), put_char(byte), unget_char(byte),
#     write(data), start_transaction(), commit_transaction(),
#     rollback_transaction(), is_transaction_started(),
#     wait_for_connected(ms), wait_for_ready_read(ms),
#     wait_for_bytes_written(ms), wait_for_disconnected(ms),
#     local_address(), local_port(), peer_address(), peer_port(), peer_name(),
#     socket_descriptor(), set_socket_descriptor(fd, state=3, mode=3),
#     read_buffer_size(), set_read_buffer_size(n), socket_option(opt),
#     set_socket_option(opt, value)
#   udp only: write_datagram(data, host, port), read_datagram(n) ->
#     (data|None, addr, port), receive_datagram(n=-1) -> dict,
#     has_pending_datagrams(), pending_datagram_size(),
#     join_multicast_group(group), leave_multicast_group(group)
#   local sockets: the IODevice calls above plus connect_to_server(name=None,
#     mode=3), disconnect_from_server(), server_name(), full_server_name(),
#     set_server_name(n), socket_options(), set_socket_options(o),
#     wait_for_connected(ms), wait_for_disconnected(ms), state(), error(),
#     socket_descriptor(), set_socket_descriptor(fd, state=3, mode=3),
#     read_buffer_size(), set_read_buffer_size(n), abort(), flush()
#   tcp servers: listen(addr=None, port=0), close(), is_listening(),
#     server_port(), server_address(), server_error(), error_string(),
#     max_pending_connections(), set_max_pending_connections(n),
#     has_pending_connections(), next_pending_connection(),
#     wait_for_new_connection(ms=0) -> (ok, timed_out), pause_accepting(),
#     resume_accepting(), socket_descriptor(), set_socket_descriptor(fd),
#     listen_backlog_size(), set_listen_backlog_size(n)
#   local servers: listen(name), listen_descriptor(fd), close(),
#     is_listening(), server_name(), full_server_name(), server_error(),
#     error_string(), max_pending_connections(), set_max_pending_connections(n),
#     has_pending_connections(), next_pending_connection(),
#     wait_for_new_connection(ms=0) -> (ok, timed_out), socket_options(),
#     set_socket_options(o), socket_descriptor(), listen_backlog_size(),
#     set_listen_backlog_size(n)
# Driver: spin(ms), run_until(cond, ms, label), poll_until(cond, ms, label)
#   (no event loop), sleep(ms), note(label, value), alias(value, name),
#   quiet() and setup() contexts, remove_server(name), and neutral peers:
#   tcp_listener(), closed_port(), full_backlog_listener(), udp_peer(),
#   unix_listener(name), tcp_client(port), unix_client(path), path(name).
# Addresses go in as strings ("127.0.0.1", "::1") or the special names
# "Any", "AnyIPv4", "AnyIPv6", "LocalHost", "LocalHostIPv6", "Broadcast",
# "Null", and come out as strings ("" for a null address).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import contextlib
import os
import time
import traceback

import peers

SPECIAL_ADDRESSES = {'Null': 0, 'Broadcast': 1, 'LocalHost': 2, 'LocalHostIPv6': 3,
                     'Any': 4, 'AnyIPv6': 5, 'AnyIPv4': 6}

# qsock signal names; the Qt driver maps them to Qt's.
SOCKET_SIGNALS = ['host-found', 'connected', 'disconnected', 'state-changed',
                  'error-occurred', 'ready-read', 'bytes-written',
                  'read-channel-finished', 'about-to-close']
LOCAL_SIGNALS = ['connected', 'disconnected', 'state-changed', 'error-occurred',
                 'ready-read', 'bytes-written', 'read-channel-finished',
                 'about-to-close']
TCP_SERVER_SIGNALS = ['new-connection', 'pending-connection-available', 'accept-error']
LOCAL_SERVER_SIGNALS = ['new-connection']


class Handle:
    """What a scenario holds: records every call made through it."""

    def __init__(self, driver, tag, impl):
        self.__dict__['_d'] = driver
        self.__dict__['_trace_tag'] = tag
        self.__dict__['_impl'] = impl
        self.__dict__['_handlers'] = {}

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        fn = getattr(self._impl, name)
        d = self._d

        def call(*args, **kw):
            return d._call(self._trace_tag, name, fn, args, kw)
        return call

    def on(self, signal, fn):
        """Run fn(*args) after the signal is recorded (a scenario's slot)."""
        self._handlers.setdefault(signal, []).append(fn)

    @property
    def raw(self):
        return self._impl.obj

    def __repr__(self):
        return self._trace_tag


class Driver:
    impl = None

    def __init__(self, rec, tmpdir):
        self.rec = rec
        self.tmpdir = tmpdir
        rec.alias(tmpdir, 'TMP')
        self.uniq = 'qsc%d' % os.getpid()
        rec.alias(self.uniq, 'U')
        self.depth = 0          # >0 while inside a driver call: signals are "sync"
        self.quiet_depth = 0    # >0: calls are not recorded
        self.setup_depth = 0    # >0: neither calls nor signals are recorded
        self.handles = {}
        self.keep = []          # keeps objects (and peers) alive until teardown
        self.counters = {}

    # -- recording ---------------------------------------------------------
    def _call(self, tag, name, fn, args, kw):
        rec = None
        if self.quiet_depth == 0:
            parts = [self.rec.fmt(a) for a in args]
            parts += ['%s=%s' % (k, self.rec.fmt(v)) for k, v in sorted(kw.items())]
            rec = self.rec.call('%s.%s(%s)' % (tag, name, ', '.join(parts)))
        self.depth += 1
        try:
            result = fn(*args, **kw)
        except Exception as e:
            if rec is not None:
                self.rec.ret(rec, 'raised %s: %s' % (type(e).__name__, e))
            raise
        finally:
            self.depth -= 1
        if rec is not None:
            self.rec.ret(rec, self.rec.fmt(result))
        return result

    def _signal(self, tag, name, args, state_fn):
        if self.setup_depth == 0:
            try:
                state = state_fn() if state_fn else None
            except Exception:
                state = '?'
            self.rec.sig(tag, name, args, state, 'sync' if self.depth > 0 else 'loop')
        h = self.handles.get(tag)
        if h is None:
            return
        for fn in h._handlers.get(name, ()):
            try:
                fn(*args)
            except Exception as e:
                self.rec.exc('in %s handler of %s: %s: %s' % (name, tag, type(e).__name__, e))
                traceback.print_exc()

    def _wrap(self, impl, tag):
        if tag is None:
            prefix = 'obj'
            n = self.counters.get(prefix, 0) + 1
            self.counters[prefix] = n
            tag = '%s%d' % (prefix, n)
        h = Handle(self, tag, impl)
        self.handles[tag] = h
        self.keep.append(impl)
        impl.attach(self, tag)
        return h

    def child_tag(self, parent):
        n = self.counters.get(parent, 0) + 1
        self.counters[parent] = n
        return '%s.%d' % (parent, n)

    @contextlib.contextmanager
    def quiet(self):
        self.quiet_depth += 1
        try:
            yield
        finally:
            self.quiet_depth -= 1

    @contextlib.contextmanager
    def setup(self):
        """Setting up (connecting a pair, say): record nothing, neither calls
        nor signals.  Other scenarios check what happens here."""
        self.quiet_depth += 1
        self.setup_depth += 1
        try:
            yield
        finally:
            self.quiet_depth -= 1
            self.setup_depth -= 1

    def note(self, label, value):
        """Record a value the scenario computed (peer data, a comparison)."""
        self.rec.note('%s = %s' % (label, self.rec.fmt(value)))
        return value

    def alias(self, value, name):
        return self.rec.alias(value, name)

    # -- the event loop ----------------------------------------------------
    def spin(self, ms):
        """Run the event loop for ms milliseconds."""
        self._iterate_for(ms)
        if self.setup_depth == 0:
            self.rec.run('spin %d' % ms)

    def run_until(self, cond, ms=5000, label='cond'):
        """Run the event loop until cond() is true or ms pass; record which."""
        deadline = time.monotonic() + ms / 1000.0
        ok = False
        while True:
            with self.quiet():
                ok = bool(cond())
            if ok or time.monotonic() >= deadline:
                break
            self._iterate_for(5)
        if self.setup_depth == 0:
            self.rec.run('run_until %s -> %s' % (label, ok))
        return ok

    def poll_until(self, cond, ms=5000, label='cond'):
        """Wait for cond() WITHOUT running the event loop (peers only)."""
        deadline = time.monotonic() + ms / 1000.0
        ok = False
        while True:
            with self.quiet():
                ok = bool(cond())
            if ok or time.monotonic() >= deadline:
                break
            time.sleep(0.005)
        self.rec.run('poll_until %s -> %s' % (label, ok))
        return ok

    def sleep(self, ms):
        """Let time pass without running the event loop."""
        time.sleep(ms / 1000.0)

    def _iterate_for(self, ms):
        raise NotImplementedError

    # -- neutral peers (plain Python sockets) ------------------------------
    def tcp_listener(self, host='127.0.0.1', backlog=16, name='PORT'):
        p = peers.TcpListener(host, backlog)
        self.alias(p.port, name)
        self.keep.append(p)
        return p

    def closed_port(self, host='127.0.0.1', name='CLOSED'):
        port = peers.closed_port(host)
        self.alias(port, name)
        return port

    def full_backlog_listener(self, name='FULLPORT'):
        p = peers.FullBacklogListener()
        self.alias(p.port, name)
        self.keep.append(p)
        return p

    def udp_peer(self, host='127.0.0.1', name='UDPPEER'):
        p = peers.UdpPeer(host)
        self.alias(p.port, name)
        self.keep.append(p)
        return p

    def unix_listener(self, name, backlog=16):
        """A Python AF_UNIX listener at $TMPDIR/name."""
        p = peers.UnixListener(os.path.join(self.tmpdir, name), backlog)
        self.keep.append(p)
        return p

    def tcp_client(self, port, host='127.0.0.1'):
        p = peers.TcpClient(host, port)
        self.keep.append(p)
        return p

    def unix_client(self, path, abstract=False):
        p = peers.UnixClient(path, abstract)
        self.keep.append(p)
        return p

    def path(self, name):
        return os.path.join(self.tmpdir, name)

    # -- teardown ----------------------------------------------------------
    def teardown(self):
        self.rec.enabled = False
        for o in reversed(self.keep):
            try:
                if hasattr(o, 'teardown'):
                    o.teardown()
            except Exception:
                pass
        self.handles.clear()
        self.keep.clear()
        import gc
        gc.collect()
