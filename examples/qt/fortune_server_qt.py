#!/usr/bin/env python3
# fortune_server_qt.py: Qt's Fortune Server, in PyQt6, as the Qt peer the
# qsock-glib fortune clients are tested against.
#
#   fortune_server_qt.py [--port PORT] [--fortune TEXT]... [--count N]
#
# Listens on 127.0.0.1, prints "listening on 127.0.0.1:PORT", and gives each
# client one fortune exactly as Qt's example does: a QDataStream QString
# written into a QByteArray, the block written, then disconnectFromHost().
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import random
import signal
import sys

from PyQt6.QtCore import QByteArray, QCoreApplication, QDataStream, QIODevice
from PyQt6.QtNetwork import QHostAddress, QTcpServer

QT_FORTUNES = [
    "You've been leading a dog's life. Stay off the furniture.",
    "You've got to think about tomorrow.",
    "You will be surprised by a loud noise.",
    "You will feel hungry again in another hour.",
    "You might have mail.",
    "You cannot kill time without injuring eternity.",
    "Computers are not intelligent. They only think they are.",
]


class Server:
    def __init__(self, app, fortunes, count):
        self.app = app
        self.fortunes = fortunes
        self.count = count
        self.served = 0
        self.server = QTcpServer()
        self.server.newConnection.connect(self.send_fortune)

    def send_fortune(self):
        while self.server.hasPendingConnections():
            block = QByteArray()
            out = QDataStream(block, QIODevice.OpenModeFlag.WriteOnly)
            # Qt 6's QString framing is the same in every Qt_6_x version
            # for strings under 4 GiB; PyQt6 6.4 names only Qt_6_0.
            out.setVersion(QDataStream.Version.Qt_6_0)
            out.writeQString(random.choice(self.fortunes))

            connection = self.server.nextPendingConnection()
            connection.disconnected.connect(connection.deleteLater)
            connection.disconnected.connect(self.client_done)
            connection.write(block)
            connection.disconnectFromHost()

    def client_done(self):
        self.served += 1
        if self.count and self.served >= self.count:
            self.app.quit()


def main():
    parser = argparse.ArgumentParser(description="Qt's Fortune Server in PyQt6")
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--fortune', action='append', dest='fortunes')
    parser.add_argument('--count', type=int, default=0,
                        help='exit after serving N clients (default: never)')
    args = parser.parse_args()

    app = QCoreApplication(sys.argv[:1])
    signal.signal(signal.SIGTERM, lambda *unused: app.quit())
    server = Server(app, args.fortunes or QT_FORTUNES, args.count)
    if not server.server.listen(QHostAddress(QHostAddress.SpecialAddress.LocalHost), args.port):
        print('fortune_server_qt: Unable to start the server: %s.'
              % server.server.errorString(), file=sys.stderr)
        return 1
    print('listening on 127.0.0.1:%d' % server.server.serverPort(), flush=True)
    return app.exec()


if __name__ == '__main__':
    sys.exit(main())
