// qt-probe.cpp: what Qt 6 itself reports for the error faults
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The expectations in test-fault-errors.c are Qt's; this program checks
// them against Qt 6 running under the same libqsock-fault.so, with the
// same one-shot rules, so they are observed facts rather than readings of
// qtbase's source. Each case prints what Qt did and fails if it differs
// from the expectation. Built only when Qt6Network is found.
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtNetwork/QUdpSocket>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool (*fault_arm) (const char *rule);
static unsigned long (*fault_injected) (void);
static int failures;

static void
arm (const QString &rule)
{
  if (!fault_arm (rule.toUtf8 ().constData ()))
    {
      fprintf (stderr, "qt-probe: rule refused: %s\n", qPrintable (rule));
      exit (2);
    }
}

static void
spin_until (const std::function<bool ()> &done, int ms)
{
  QElapsedTimer t;
  t.start ();
  while (!done () && t.elapsed () < ms)
    QCoreApplication::processEvents (QEventLoop::AllEvents, 10);
}

static void
expect (const char *name, int got, int want, const QString &text)
{
  printf ("qt-probe: %-34s error %d (want %d) \"%s\"%s\n", name, got, want, qPrintable (text),
          got == want ? "" : "  <-- DIFFERS");
  if (got != want)
    failures++;
}

struct Pair
{
  QTcpServer server;
  QTcpSocket client;
  QTcpSocket *peer = nullptr;

  Pair ()
  {
    server.listen (QHostAddress::LocalHost, 0);
    client.connectToHost (QHostAddress::LocalHost, server.serverPort ());
    client.waitForConnected (5000);
    server.waitForNewConnection (5000);
    peer = server.nextPendingConnection ();
  }
};

// A write error on an established connection: errorOccurred, then abort.
static void
tcp_send (const char *name, int errsv, QAbstractSocket::SocketError want)
{
  Pair p;
  int errors = 0;
  QAbstractSocket::SocketError code = QAbstractSocket::UnknownSocketError;
  unsigned long before = fault_injected ();

  QObject::connect (&p.client, &QAbstractSocket::errorOccurred,
                    [&] (QAbstractSocket::SocketError e) { errors++; code = e; });
  arm (QString ("anysend:%1:1:%2").arg (errsv).arg (p.client.socketDescriptor ()));
  p.client.write ("hello", 5);
  spin_until ([&] { return p.client.state () == QAbstractSocket::UnconnectedState; }, 3000);
  if (fault_injected () != before + 1 || errors != 1)
    {
      printf ("qt-probe: %s: injected %lu, %d errors\n", name, fault_injected () - before, errors);
      failures++;
    }
  expect (name, code, want, p.client.errorString ());
}

// A read error: errorOccurred while connected, then the close.
static void
tcp_recv (const char *name, int errsv, QAbstractSocket::SocketError want)
{
  Pair p;
  QAbstractSocket::SocketError code = QAbstractSocket::UnknownSocketError;
  unsigned long before = fault_injected ();

  QObject::connect (&p.client, &QAbstractSocket::errorOccurred,
                    [&] (QAbstractSocket::SocketError e) { code = e; });
  arm (QString ("anyrecv:%1:1:%2").arg (errsv).arg (p.client.socketDescriptor ()));
  p.peer->write ("x", 1);
  p.peer->flush ();
  spin_until ([&] { return p.client.state () == QAbstractSocket::UnconnectedState; }, 3000);
  if (fault_injected () != before + 1)
    failures++;
  expect (name, code, want, p.client.errorString ());
}

// waitForReadyRead(0) with data waiting, when the read finds nothing:
// false, and (the loop's time being up) no timeout error.
static void
zero_wait_spurious_eagain (const char *name)
{
  Pair p;
  int errors = 0;
  unsigned long before = fault_injected ();

  QObject::connect (&p.client, &QAbstractSocket::errorOccurred,
                    [&] (QAbstractSocket::SocketError) { errors++; });
  p.peer->write ("now", 3);
  p.peer->flush ();
  QThread::msleep (50);
  arm (QString ("anyrecv:EAGAIN:1:%1").arg (p.client.socketDescriptor ()));
  bool got = p.client.waitForReadyRead (0);
  printf ("qt-probe: %-34s waitForReadyRead(0) %s, %d errors, %lld bytes (want false, 0, 0)\n",
          name, got ? "true" : "false", errors, (long long) p.client.bytesAvailable ());
  if (got || errors != 0 || p.client.bytesAvailable () != 0 || fault_injected () != before + 1)
    failures++;
  spin_until ([&] { return p.client.bytesAvailable () == 3; }, 3000);
  if (p.client.bytesAvailable () != 3 || p.client.state () != QAbstractSocket::ConnectedState)
    {
      printf ("qt-probe: %s: the bytes did not come later\n", name);
      failures++;
    }
}

static void
udp_send (const char *name, int errsv, QAbstractSocket::SocketError want)
{
  QUdpSocket sock;
  QUdpSocket receiver;
  QAbstractSocket::SocketError code = QAbstractSocket::UnknownSocketError;

  sock.bind (QHostAddress::LocalHost, 0);
  receiver.bind (QHostAddress::LocalHost, 0);
  QObject::connect (&sock, &QAbstractSocket::errorOccurred,
                    [&] (QAbstractSocket::SocketError e) { code = e; });
  arm (QString ("anysend:%1:1:%2").arg (errsv).arg (sock.socketDescriptor ()));
  qint64 r = sock.writeDatagram ("lost", 4, QHostAddress::LocalHost, receiver.localPort ());
  if (r != -1)
    failures++;
  expect (name, code, want, sock.errorString ());
  if (sock.writeDatagram ("next", 4, QHostAddress::LocalHost, receiver.localPort ()) != 4)
    {
      printf ("qt-probe: %s: the next datagram failed\n", name);
      failures++;
    }
}

// An accept error: acceptError(code); whether Qt keeps accepting alone.
static void
accept_error (const char *name, int errsv, QAbstractSocket::SocketError want, bool want_serves)
{
  QTcpServer server;
  QTcpSocket client;
  int errors = 0, connections = 0;
  QAbstractSocket::SocketError code = QAbstractSocket::UnknownSocketError;

  server.listen (QHostAddress::LocalHost, 0);
  QObject::connect (&server, &QTcpServer::acceptError,
                    [&] (QAbstractSocket::SocketError e) { errors++; code = e; });
  QObject::connect (&server, &QTcpServer::newConnection, [&] { connections++; });
  arm (QString ("accept4:%1:1:%2").arg (errsv).arg (server.socketDescriptor ()));
  client.connectToHost (QHostAddress::LocalHost, server.serverPort ());
  spin_until ([&] { return errors > 0 || connections > 0; }, 3000);
  spin_until ([&] { return connections > 0; }, 500);
  printf ("qt-probe: %-34s %d acceptError, %d newConnection within 0.5 s (want %s)\n", name,
          errors, connections, want_serves ? "served" : "paused");
  if ((connections > 0) != want_serves)
    failures++;
  if (want != QAbstractSocket::UnknownSocketError || errors > 0)
    expect (name, code, want, server.errorString ());
}

// connect() refusing with EAGAIN on a TCP socket ("insufficient entries
// in the routing cache"). Qt takes it for "try again": it waits for
// writability and calls connect() again (its connection test), which
// this time connects for real: connected(), the real peer, no error.
static void
tcp_connect_eagain (const char *name)
{
  QTcpServer server;
  QTcpSocket client;
  int errors = 0, connected = 0;
  unsigned long before = fault_injected ();

  server.listen (QHostAddress::LocalHost, 0);
  QObject::connect (&client, &QAbstractSocket::errorOccurred,
                    [&] (QAbstractSocket::SocketError) { errors++; });
  QObject::connect (&client, &QAbstractSocket::connected, [&] { connected++; });
  arm ("connect:EAGAIN:1");
  client.connectToHost (QHostAddress::LocalHost, server.serverPort ());
  spin_until ([&] { return errors > 0 || connected > 0; }, 3000);
  spin_until ([&] { return errors > 0; }, 300);
  printf ("qt-probe: %-34s %d connected, peer port %s, %d errors, state %d (want 1, right, 0, 3)\n",
          name, connected, client.peerPort () == server.serverPort () ? "right" : "WRONG",
          errors, (int) client.state ());
  if (connected != 1 || errors != 0 || client.state () != QAbstractSocket::ConnectedState ||
      client.peerPort () != server.serverPort () || fault_injected () != before + 1)
    failures++;
}

// A failed lookup: HostNotFoundError "Host not found", whatever EAI_*.
static void
lookup_fails (const char *name, const char *gai_error)
{
  QTcpServer server;
  QTcpSocket client;
  QAbstractSocket::SocketError code = QAbstractSocket::UnknownSocketError;
  int errors = 0;
  unsigned long before = fault_injected ();

  server.listen (QHostAddress::LocalHost, 0);
  QObject::connect (&client, &QAbstractSocket::errorOccurred,
                    [&] (QAbstractSocket::SocketError e) { errors++; code = e; });
  arm (QString ("getaddrinfo:%1:1").arg (gai_error));
  client.connectToHost ("localhost", server.serverPort ());
  spin_until ([&] { return errors > 0 || client.state () == QAbstractSocket::ConnectedState; }, 5000);
  if (fault_injected () != before + 1)
    {
      printf ("qt-probe: %s: the lookup did not go through getaddrinfo()\n", name);
      failures++;
    }
  expect (name, code, QAbstractSocket::HostNotFoundError, client.errorString ());
}

int
main (int argc, char **argv)
{
  QCoreApplication app (argc, argv);

  *(void **) (&fault_arm) = dlsym (RTLD_DEFAULT, "qsock_fault_arm");
  *(void **) (&fault_injected) = dlsym (RTLD_DEFAULT, "qsock_fault_injected");
  if (fault_arm == nullptr || fault_injected == nullptr)
    {
      fprintf (stderr, "qt-probe: libqsock-fault.so is not loaded (run-under-fault.sh)\n");
      return 1;
    }

  tcp_send ("tcp send EPIPE", EPIPE, QAbstractSocket::RemoteHostClosedError);
  tcp_send ("tcp send ECONNRESET", ECONNRESET, QAbstractSocket::RemoteHostClosedError);
  // nativeWrite sets no error for these, so writeToSocket emits whatever
  // the engine last recorded: for a client, the EINPROGRESS of its
  // non-blocking connect (UnfinishedSocketOperationError, "Invalid socket
  // descriptor"). A stale code, but Qt's.
  tcp_send ("tcp send ENOBUFS", ENOBUFS, QAbstractSocket::UnfinishedSocketOperationError);
  tcp_send ("tcp send ENOMEM", ENOMEM, QAbstractSocket::UnfinishedSocketOperationError);
  tcp_recv ("tcp recv ECONNRESET", ECONNRESET, QAbstractSocket::RemoteHostClosedError);
  tcp_recv ("tcp recv ENOMEM", ENOMEM, QAbstractSocket::NetworkError);
  tcp_connect_eagain ("tcp connect EAGAIN");
  lookup_fails ("lookup EAI_NONAME", "EAI_NONAME");
  lookup_fails ("lookup EAI_AGAIN", "EAI_AGAIN");
  lookup_fails ("lookup EAI_MEMORY", "EAI_MEMORY");
  zero_wait_spurious_eagain ("tcp zero wait, spurious EAGAIN");
  udp_send ("udp send ENOBUFS", ENOBUFS, QAbstractSocket::NetworkError);
  accept_error ("accept EMFILE", EMFILE, QAbstractSocket::SocketResourceError, false);
  accept_error ("accept ECONNABORTED", ECONNABORTED, QAbstractSocket::NetworkError, false);

  printf ("qt-probe: %s\n", failures == 0 ? "Qt behaves as test-fault-errors expects" : "DIFFERENCES");
  return failures == 0 ? 0 : 1;
}
