#!/usr/bin/env python3
# fortune_server.py: Qt's Fortune Server in Python, on qsock-glib through
# PyGObject.
#
#   fortune_server.py [--address ADDR] [--port PORT] [--fortune TEXT]... [--count N]
#
# Each client gets one fortune as Qt 6's QDataStream writes a QString (a
# big-endian 32-bit byte count, then UTF-16BE) and is disconnected, so Qt's
# fortune clients read it. Prints "listening on ADDR:PORT" once listening.
# Signal style, as the Qt original: new-connection, then write and
# disconnect_from_host(); the socket is dropped on disconnected.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import random
import signal
import struct
import sys

import gi
gi.require_version('QSock', '1.0')
from gi.repository import Gio, GLib, QSock  # noqa: E402

QT_FORTUNES = [
    "You've been leading a dog's life. Stay off the furniture.",
    "You've got to think about tomorrow.",
    "You will be surprised by a loud noise.",
    "You will feel hungry again in another hour.",
    "You might have mail.",
    "You cannot kill time without injuring eternity.",
    "Computers are not intelligent. They only think they are.",
]


def qdatastream_qstring(text):
    """`QDataStream out; out << QString(text);` as bytes."""
    utf16 = text.encode('utf-16-be')
    return struct.pack('>I', len(utf16)) + utf16


class FortuneServer:
    def __init__(self, loop, fortunes, count):
        self.loop = loop
        self.fortunes = fortunes
        self.count = count
        self.served = 0
        # A socket dropped by Python is disposed of, which aborts it, so
        # each one is kept until it has disconnected.
        self.clients = set()
        self.server = QSock.TcpServer()
        self.server.connect('new-connection', self.on_new_connection)

    def on_new_connection(self, server):
        while True:
            socket = server.next_pending_connection()
            if socket is None:
                return
            self.clients.add(socket)
            socket.connect('disconnected', self.on_disconnected)
            socket.write(qdatastream_qstring(random.choice(self.fortunes)))
            # Closes once the fortune is written, then emits disconnected.
            socket.disconnect_from_host()

    def on_disconnected(self, socket):
        # Qt's deleteLater(): let go of it after its own signal.
        GLib.idle_add(self.reap, socket)

    def reap(self, socket):
        self.clients.discard(socket)
        self.served += 1
        if self.count and self.served >= self.count:
            self.loop.quit()
        return GLib.SOURCE_REMOVE


def parse_address(text):
    if text.lower() == 'any':
        return QSock.host_address_new_special(QSock.SpecialAddress.ANY)
    if text.lower() == 'localhost':
        return QSock.host_address_new_special(QSock.SpecialAddress.LOCAL_HOST)
    address = Gio.InetAddress.new_from_string(text.strip('[]'))
    if address is None:
        raise argparse.ArgumentTypeError('"%s" is not an IP address' % text)
    return address


def main():
    parser = argparse.ArgumentParser(
        description="Qt's Fortune Server on qsock-glib: one QDataStream QString per client.")
    parser.add_argument('--address', type=parse_address, default='any',
                        help='an IP address, "localhost" or "any" (default, as Qt\'s)')
    parser.add_argument('--port', type=int, default=0,
                        help='default 0: any free port, printed on stdout')
    parser.add_argument('--fortune', action='append', dest='fortunes', metavar='TEXT',
                        help="hand out TEXT (repeat for more; default: Qt's seven)")
    parser.add_argument('--count', type=int, default=0,
                        help='exit after serving N clients (default 0: never)')
    args = parser.parse_args()

    loop = GLib.MainLoop()
    fortune = FortuneServer(loop, args.fortunes or QT_FORTUNES, args.count)
    if not fortune.server.listen(args.address, args.port):
        print('fortune_server: Unable to start the server: %s.'
              % fortune.server.get_error_string(), file=sys.stderr)
        return 1

    address = fortune.server.get_server_address()
    host = address.to_string()
    if address.get_family() == Gio.SocketFamily.IPV6:
        host = '[%s]' % host
    print('listening on %s:%d' % (host, fortune.server.get_server_port()), flush=True)

    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    loop.run()
    fortune.server.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
