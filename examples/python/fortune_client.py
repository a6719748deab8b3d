#!/usr/bin/env python3
# fortune_client.py: Qt's Fortune Client in Python, on qsock-glib through
# PyGObject.
#
#   fortune_client.py --port PORT [--host HOST] [--timeout MS]
#
# Fetches one fortune from a fortune server (ours or Qt's) and prints it.
# Callback style with the GIO-style async pairs (PyGObject 3.42 has no
# await): connect_to_host_async(), then read_exactly_async() for the
# QDataStream byte count and again for the UTF-16BE text; the overrides
# make read_exactly_finish() return bytes. Each read
# completes only once all its bytes have arrived, so no transaction is
# needed, and a connection that ends early fails the read with
# REMOTE_HOST_CLOSED.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import struct
import sys

import gi
gi.require_version('QSock', '1.0')
from gi.repository import GLib, QSock  # noqa: E402

NULL_QSTRING = 0xffffffff


class FortuneClient:
    def __init__(self, loop):
        self.loop = loop
        self.socket = QSock.Tcp()
        self.exit_status = 1

    def fetch(self, host, port):
        # Qt's default open mode and protocol; no cancellable.
        self.socket.connect_to_host_async(host, port, callback=self.on_connected)

    def on_connected(self, socket, result):
        try:
            socket.connect_to_host_finish(result)
        except GLib.Error as e:
            return self.fail(e)
        socket.read_exactly_async(4, None, self.on_length)

    def on_length(self, socket, result):
        try:
            data = socket.read_exactly_finish(result)
        except GLib.Error as e:
            return self.fail(e)
        (length,) = struct.unpack('>I', data)
        if length == NULL_QSTRING:
            return self.done('')
        if length % 2:
            return self.fail('the server sent something that is not a QString')
        socket.read_exactly_async(length, None, self.on_text)

    def on_text(self, socket, result):
        try:
            data = socket.read_exactly_finish(result)
        except GLib.Error as e:
            return self.fail(e)
        self.done(data.decode('utf-16-be'))

    def done(self, fortune):
        print(fortune, flush=True)
        self.exit_status = 0
        self.loop.quit()

    def fail(self, error):
        if isinstance(error, GLib.Error):
            if error.matches(QSock.socket_error_quark(), QSock.SocketError.REMOTE_HOST_CLOSED):
                error = 'the server closed the connection before a whole fortune arrived'
            else:
                error = 'The following error occurred: %s.' % error.message
        print('fortune_client: %s' % error, file=sys.stderr)
        self.loop.quit()


def main():
    parser = argparse.ArgumentParser(
        description="Qt's Fortune Client on qsock-glib: fetches and prints one fortune.")
    parser.add_argument('--host', default='localhost')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--timeout', type=int, default=30000, metavar='MS',
                        help='give up after MS milliseconds (default 30000)')
    args = parser.parse_args()

    sys.stdout.reconfigure(encoding='utf-8')
    loop = GLib.MainLoop()
    client = FortuneClient(loop)

    def timed_out():
        client.fail('timed out waiting for a fortune')
        return GLib.SOURCE_REMOVE
    GLib.timeout_add(args.timeout, timed_out)

    client.fetch(args.host, args.port)
    loop.run()
    return client.exit_status


if __name__ == '__main__':
    sys.exit(main())
