#!/usr/bin/env python3
# fortune_client_qt.py: Qt's Fortune Client, in PyQt6, as the Qt peer the
# qsock-glib fortune servers are tested against.
#
#   fortune_client_qt.py --port PORT [--host HOST] [--timeout MS]
#
# Reads the fortune as Qt's example does, in a QDataStream transaction on
# each readyRead, and prints it (UTF-8) on stdout. Exit 0 on a fortune,
# 1 on an error or a timeout.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import sys

from PyQt6.QtCore import QCoreApplication, QDataStream, QTimer
from PyQt6.QtNetwork import QAbstractSocket, QTcpSocket


class Client:
    def __init__(self, app):
        self.app = app
        self.socket = QTcpSocket()
        self.stream = QDataStream()
        self.stream.setDevice(self.socket)
        self.stream.setVersion(QDataStream.Version.Qt_6_0)
        self.socket.readyRead.connect(self.read_fortune)
        self.socket.errorOccurred.connect(self.display_error)
        self.socket.disconnected.connect(self.on_disconnected)
        self.fortune = None

    def read_fortune(self):
        self.stream.startTransaction()
        next_fortune = self.stream.readQString()
        if not self.stream.commitTransaction():
            return
        self.fortune = next_fortune
        print(next_fortune, flush=True)
        self.app.exit(0)

    def display_error(self, error):
        if error == QAbstractSocket.SocketError.RemoteHostClosedError:
            return
        print('fortune_client_qt: The following error occurred: %s.'
              % self.socket.errorString(), file=sys.stderr)
        self.app.exit(1)

    def on_disconnected(self):
        if self.fortune is None:
            print('fortune_client_qt: disconnected before a whole fortune arrived',
                  file=sys.stderr)
            self.app.exit(1)


def main():
    parser = argparse.ArgumentParser(description="Qt's Fortune Client in PyQt6")
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--timeout', type=int, default=30000)
    args = parser.parse_args()

    sys.stdout.reconfigure(encoding='utf-8')
    app = QCoreApplication(sys.argv[:1])
    client = Client(app)

    def timed_out():
        print('fortune_client_qt: timed out', file=sys.stderr)
        app.exit(1)
    QTimer.singleShot(args.timeout, timed_out)

    client.socket.connectToHost(args.host, args.port)
    return app.exec()


if __name__ == '__main__':
    sys.exit(main())
