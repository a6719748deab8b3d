# Calls made from inside signal handlers (Qt's slots): re-entrancy and the
# order of what follows.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from scenarios import scenario
from scenarios.util import (props, q, tcp_pair, local_pair, drain_events,
                            UNCONNECTED, CONNECTED)


@scenario('slot.tcp.disconnect_in_connected', ref='§2.3 G called from connected()')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.on('connected', lambda: c.disconnect_from_host())
    c.connect_to_host('127.0.0.1', peer.port)
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    props(d, c, 'state', 'error', 'is_open')
    conn = peer.accept()
    d.poll_until(conn.closed, label='peer sees close')


@scenario('slot.tcp.write_in_connected', ref='§3.5 (write from connected())')
def _(d):
    peer = d.tcp_listener()
    c = d.tcp_socket('c')
    c.on('connected', lambda: c.write(b'hello from slot'))
    c.connect_to_host('127.0.0.1', peer.port)
    d.run_until(lambda: c.state() == CONNECTED and c.bytes_to_write() == 0, label='sent')
    conn = peer.accept()
    d.run_until(lambda: conn.got(15), label='peer got 15')
    d.note('peer got', conn.take())


@scenario('slot.tcp.abort_in_ready_read', ref='§2.3 I called from readyRead()')
def _(d):
    c, conn, _ = tcp_pair(d)

    def on_ready_read():
        c.read_all()
        c.abort()
    c.on('ready-read', on_ready_read)
    conn.send(b'data')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    drain_events(d)
    props(d, c, 'state', 'is_open', 'bytes_available', 'error')
    d.poll_until(conn.closed, label='peer sees close')


@scenario('slot.tcp.close_in_ready_read_remote_close', ref='§2.3 F, K from readyRead()')
def _(d):
    c, conn, _ = tcp_pair(d)

    def on_ready_read():
        c.read_all()
        c.close()
    c.on('ready-read', on_ready_read)
    conn.send(b'last')
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    drain_events(d)
    props(d, c, 'state', 'is_open', 'error', 'error_string')


@scenario('slot.tcp.write_in_bytes_written', ref='§3.5 ("bytesWritten is never re-emitted recursively")')
def _(d):
    c, conn, _ = tcp_pair(d)
    left = {'n': 5}

    def on_written(n):
        if left['n'] > 0:
            left['n'] -= 1
            c.write(b'%d' % left['n'] * 1000)
    c.on('bytes-written', on_written)
    c.write(b'start')
    d.run_until(lambda: left['n'] == 0 and c.bytes_to_write() == 0, label='chain done')
    d.run_until(lambda: conn.got(5005), label='peer got all')
    d.note('peer got', conn.take())
    drain_events(d)


@scenario('slot.tcp.reconnect_in_disconnected', ref='§2.3 (connectToHost from disconnected())')
def _(d):
    peer = d.tcp_listener()
    c, conn, _ = tcp_pair(d)
    done = {'n': 0}

    def on_disconnected():
        if done['n'] == 0:
            done['n'] = 1
            c.connect_to_host('127.0.0.1', peer.port)
    c.on('disconnected', on_disconnected)
    conn.close()
    d.run_until(lambda: done['n'] == 1 and c.state() == CONNECTED, label='reconnected')
    props(d, c, 'state', 'error', 'error_string', 'is_open')


@scenario('slot.tcp.abort_in_error_refused', ref='§2.2 C; abort() from errorOccurred()')
def _(d):
    port = d.closed_port()
    c = d.tcp_socket('c')
    c.on('error-occurred', lambda e: c.abort())
    c.connect_to_host('127.0.0.1', port)
    d.run_until(lambda: c.error() != -1, label='failed')
    drain_events(d)
    props(d, c, 'state', 'is_open', 'error', 'error_string')


@scenario('slot.tcp.read_in_disconnected', ref='§2.3 F ("Data buffered before a remote close can still be read after disconnected()")')
def _(d):
    c, conn, _ = tcp_pair(d)
    c.on('disconnected', lambda: c.read_all())
    conn.send(b'payload')
    conn.close()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    drain_events(d)


@scenario('slot.tcp.disconnect_in_state_changed_closing', ref='§2.3 (disconnectFromHost re-entered from stateChanged(Closing))')
def _(d):
    c, conn, _ = tcp_pair(d)

    def on_state(st):
        if st == 6:
            c.disconnect_from_host()
    c.on('state-changed', on_state)
    c.write(b'x' * 1000)
    c.disconnect_from_host()
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    d.poll_until(conn.closed, label='peer sees close')
    d.note('peer got', len(conn.take()))


@scenario('slot.local.abort_in_ready_read', ref='§2.5 L5 from readyRead()')
def _(d):
    c, conn, _ = local_pair(d)

    def on_ready_read():
        c.read_all()
        c.abort()
    c.on('ready-read', on_ready_read)
    conn.send(b'data')
    d.run_until(lambda: c.state() == UNCONNECTED, label='unconnected')
    drain_events(d)
    props(d, c, 'state', 'is_open', 'error', 'server_name')


@scenario('slot.local.connect_in_disconnected', ref='§2.5 (connectToServer from disconnected())')
def _(d):
    c, conn, lst = local_pair(d)
    done = {'n': 0}

    def on_disconnected():
        if done['n'] == 0:
            done['n'] = 1
            c.connect_to_server('srv')
    c.on('disconnected', on_disconnected)
    conn.close()
    d.run_until(lambda: done['n'] == 1, label='reconnected')
    drain_events(d)
    props(d, c, 'state', 'error', 'server_name', 'is_open')


@scenario('slot.udp.drain_in_ready_read', ref='§4 readyRead for UDP (read everything in the slot)',
          rules={'ready_read': 'exact'})
def _(d):
    u = d.udp_socket('u')
    with d.setup():
        u.bind('127.0.0.1', 0)
    port = d.alias(q(d, u.local_port), 'UPORT')
    got = []

    def on_ready_read():
        while q(d, u.has_pending_datagrams):
            got.append(q(d, lambda: u.read_datagram(100)[0]))
    u.on('ready-read', on_ready_read)
    peer = d.udp_peer()
    for i in range(3):
        peer.sendto(b'd%d' % i, port)
    d.run_until(lambda: len(got) >= 3, label='3 read')
    drain_events(d, 100)
    peer.sendto(b'later', port)
    d.run_until(lambda: len(got) >= 4, label='4 read')
    drain_events(d, 100)
    d.note('got', got)
