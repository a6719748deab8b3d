#!/usr/bin/env python3
# blocking_fortune_client.py: Qt's Blocking Fortune Client in Python, on
# qsock-glib through PyGObject.
#
#   blocking_fortune_client.py --port PORT [--host HOST] [--timeout MS]
#
# Fetches one fortune from a fortune server (ours or Qt's) and prints it.
# As in Qt's example, the network work happens in a worker thread that
# only ever blocks in the wait_for_* calls: connect_to_host() then
# wait_for_connected(), and wait_for_ready_read() until bytes_available()
# covers the QDataStream byte count, then the UTF-16BE text. The main
# thread runs a main loop and prints what the worker hands back, as Qt's
# dialog does with its FortuneThread's signals.
#
# The worker pushes a main context of its own before making its socket. It
# never iterates that context (the waits poll the socket themselves), but
# the socket must not belong to the main thread's: there the main loop
# would handle the socket's events concurrently with the worker's waits.
# PyGObject lets go of the GIL during each call, so a wait blocks only the
# worker.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import struct
import sys
import threading

import gi
gi.require_version('QSock', '1.0')
from gi.repository import GLib, QSock  # noqa: E402

NULL_QSTRING = 0xffffffff


class FortuneError(Exception):
    pass


def wait_for_bytes(socket, count, timeout_ms):
    """Blocks until at least count bytes can be read from socket."""
    while socket.bytes_available() < count:
        if not socket.wait_for_ready_read(timeout_ms):
            raise FortuneError('The following error occurred: %s.' % socket.get_error_string())


def fetch_fortune(host, port, timeout_ms):
    """One connection, one fortune, nothing but blocking calls: Qt's
    FortuneThread::run() loop body. Returns the fortune or raises
    FortuneError."""
    socket = QSock.Tcp()
    try:
        socket.connect_to_host(host, port)
        if not socket.wait_for_connected(timeout_ms):
            raise FortuneError('The following error occurred: %s.' % socket.get_error_string())

        wait_for_bytes(socket, 4, timeout_ms)
        (length,) = struct.unpack('>I', socket.read(4))
        if length == NULL_QSTRING or length == 0:
            return ''
        if length % 2:
            raise FortuneError('the server sent something that is not a QString')

        wait_for_bytes(socket, length, timeout_ms)
        return socket.read(length).decode('utf-16-be')
    except UnicodeDecodeError:
        raise FortuneError('the server sent something that is not a QString') from None
    finally:
        socket.abort()


class FortuneThread(threading.Thread):
    """Qt's FortuneThread, for one fortune: fetches it with blocking calls
    and hands the result to deliver(fortune, error) in the main thread."""

    def __init__(self, host, port, timeout_ms, deliver):
        super().__init__(name='fortune', daemon=True)
        self.host = host
        self.port = port
        self.timeout_ms = timeout_ms
        self.deliver = deliver

    def run(self):
        context = GLib.MainContext.new()
        # Never iterated: the waits poll the socket themselves.
        context.push_thread_default()
        try:
            fortune, error = fetch_fortune(self.host, self.port, self.timeout_ms), None
        except FortuneError as e:
            fortune, error = None, str(e)
        finally:
            context.pop_thread_default()
        # Qt's `emit newFortune (fortune)`: a queued call into the main
        # thread, whose loop runs the global default context.
        GLib.idle_add(self.deliver, fortune, error)


def main():
    parser = argparse.ArgumentParser(
        description="Qt's Blocking Fortune Client on qsock-glib: a worker thread "
                    "fetches a fortune with blocking wait_for_* calls only; "
                    "the main thread prints it.")
    parser.add_argument('--host', default='localhost')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--timeout', type=int, default=5000, metavar='MS',
                        help="timeout of each wait in milliseconds "
                             "(default 5000, as Qt's; -1: none)")
    args = parser.parse_args()
    if not 1 <= args.port <= 65535:
        parser.error('--port must be between 1 and 65535')

    sys.stdout.reconfigure(encoding='utf-8')
    loop = GLib.MainLoop()
    exit_status = 1

    def on_reply(fortune, error):
        nonlocal exit_status
        if error is not None:
            print('blocking_fortune_client: %s' % error, file=sys.stderr)
        else:
            print(fortune, flush=True)
            exit_status = 0
        loop.quit()
        return GLib.SOURCE_REMOVE

    thread = FortuneThread(args.host, args.port, args.timeout, on_reply)
    thread.start()
    loop.run()
    thread.join()
    return exit_status


if __name__ == '__main__':
    sys.exit(main())
