/* bench-qt-tcp.cpp: the TCP workloads and the memory workload on Qt 6
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same shapes as bench-qsock.c, written the Qt way: QTcpServer
 * accepts, QTcpSocket connects, the work runs from readyRead, bytesWritten,
 * newConnection and disconnected on a QEventLoop. The bulk sender keeps at
 * most BENCH_MAX_QUEUED bytes in Qt's write buffer and tops up on
 * bytesWritten, as the qsock one does.
 */
#include "bench-qt.h"

#include <climits>
#include <cstring>
#include <functional>
#include <unistd.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QEventLoop>
#include <QtCore/QMutex>
#include <QtCore/QThread>
#include <QtCore/QWaitCondition>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

/* Set-up, not timed: a client connected to @server and the server's end of
 * it (reparented away from the server unless @keep_parent). */
static gboolean
connect_pair (QTcpServer  *server,
              QTcpSocket **client_out,
              QTcpSocket **server_out,
              bool         keep_parent,
              GError     **error)
{
  QTcpSocket *client = new QTcpSocket;
  QTcpSocket *accepted;

  client->connectToHost (QHostAddress (QHostAddress::LocalHost), server->serverPort ());
  if (!client->waitForConnected (30000))
    {
      bench_qt_fail (error, BENCH_ERROR_SOCKET, "connect", client->errorString ());
      delete client;
      return FALSE;
    }
  if (!server->hasPendingConnections () && !server->waitForNewConnection (30000))
    {
      bench_qt_fail (error, BENCH_ERROR_SOCKET, "accept", server->errorString ());
      delete client;
      return FALSE;
    }
  accepted = server->nextPendingConnection ();
  if (!keep_parent)
    accepted->setParent (nullptr);
  *client_out = client;
  *server_out = accepted;
  return TRUE;
}

static gboolean
listen_loopback (QTcpServer *server,
                 GError    **error)
{
  if (!server->listen (QHostAddress (QHostAddress::LocalHost), 0))
    return bench_qt_fail (error, BENCH_ERROR_SOCKET, "listen", server->errorString ());
  return TRUE;
}

/* ---- (a) bulk ------------------------------------------------------------ */

namespace {
struct Bulk
{
  BenchGate      gate;
  guint64        total = 0;
  QMutex         lock;
  QWaitCondition cond;
  bool           listening = false;
  quint16        port = 0;
  gint64         end_us = 0;
  GError        *sender_error = nullptr;
  GError        *receiver_error = nullptr;
};
}

static void
bulk_receiver (Bulk *b)
{
  QTcpServer server;
  QTcpSocket *socket = nullptr;
  bool ok = listen_loopback (&server, &b->receiver_error);

  {
    QMutexLocker locker (&b->lock);
    b->port = ok ? server.serverPort () : 0;
    b->listening = true;
    b->cond.wakeAll ();
  }
  if (ok && !server.waitForNewConnection (30000))
    ok = bench_qt_fail (&b->receiver_error, BENCH_ERROR_SOCKET, "accept", server.errorString ());
  if (!ok)
    {
      bench_gate_arrive (&b->gate);
      return;
    }
  socket = server.nextPendingConnection ();
  socket->setParent (nullptr);
  server.close ();

  QEventLoop loop;
  QByteArray buf (BENCH_RECV_SIZE, Qt::Uninitialized);
  guint64 done = 0;

  QObject::connect (socket, &QIODevice::readyRead, [&] {
    qint64 n;

    while ((n = socket->read (buf.data (), buf.size ())) > 0)
      {
        if (done + (guint64) n > b->total || !bench_pattern_check (done, buf.constData (), (gsize) n))
          {
            bench_qt_keep (&b->receiver_error,
                           g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                        "wrong data at stream offset %" G_GUINT64_FORMAT, done));
            loop.quit ();
            return;
          }
        done += (guint64) n;
        if (done == b->total)
          b->end_us = g_get_monotonic_time ();
      }
  });
  QObject::connect (socket, &QAbstractSocket::disconnected, &loop, &QEventLoop::quit);

  bench_gate_arrive (&b->gate);
  if (socket->state () == QAbstractSocket::ConnectedState)
    loop.exec ();

  if (b->receiver_error == nullptr && (done != b->total || socket->bytesAvailable () != 0))
    b->receiver_error = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                     "received %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes",
                                     done, b->total);
  socket->disconnect ();
  socket->abort ();
  delete socket;
}

static void
bulk_sender (Bulk *b)
{
  QTcpSocket socket;
  quint16 port;

  {
    QMutexLocker locker (&b->lock);
    while (!b->listening)
      b->cond.wait (&b->lock);
    port = b->port;
  }
  if (port == 0)
    {
      bench_gate_arrive (&b->gate);
      return;
    }
  socket.connectToHost (QHostAddress (QHostAddress::LocalHost), port);
  if (!socket.waitForConnected (30000))
    {
      bench_qt_fail (&b->sender_error, BENCH_ERROR_SOCKET, "connect", socket.errorString ());
      bench_gate_arrive (&b->gate);
      return;
    }
  socket.setSocketOption (QAbstractSocket::LowDelayOption, 1);

  QEventLoop loop;
  guint64 queued = 0;
  qint64 written = 0;
  bool closing = false, finished = false;

  auto fill = [&] {
    while (queued < b->total && socket.bytesToWrite () + (qint64) BENCH_CHUNK <= BENCH_MAX_QUEUED)
      {
        qint64 n = (qint64) MIN (BENCH_CHUNK, b->total - queued);

        if (socket.write ((const char *) bench_pattern_at (queued), n) != n)
          {
            bench_qt_fail (&b->sender_error, BENCH_ERROR_SOCKET, "write", socket.errorString ());
            finished = true;
            loop.quit ();
            return;
          }
        queued += (guint64) n;
      }
    /* Everything is queued: disconnecting flushes the buffer, then closes. */
    if (queued == b->total && !closing)
      {
        closing = true;
        socket.disconnectFromHost ();
      }
  };
  QObject::connect (&socket, &QIODevice::bytesWritten, [&] (qint64 bytes) {
    written += bytes;
    fill ();
  });
  QObject::connect (&socket, &QAbstractSocket::disconnected, [&] {
    finished = true;
    loop.quit ();
  });

  bench_gate_arrive (&b->gate);
  fill ();
  if (!finished)
    loop.exec ();

  if (b->sender_error == nullptr && written != (qint64) b->total)
    b->sender_error = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                   "bytesWritten added up to %" G_GINT64_FORMAT " of %" G_GUINT64_FORMAT,
                                   (gint64) written, b->total);
  socket.disconnect ();
}

extern "C" gboolean
bench_qt_bulk (const BenchParams *p,
               BenchResult       *res,
               GError           **error)
{
  Bulk b;
  QThread *receiver, *sender;

  bench_gate_init (&b.gate);
  b.total = p->bulk_bytes;
  receiver = QThread::create (bulk_receiver, &b);
  sender = QThread::create (bulk_sender, &b);
  receiver->start ();
  sender->start ();
  bench_gate_open (&b.gate, 2);
  receiver->wait ();
  sender->wait ();
  delete receiver;
  delete sender;
  res->elapsed_us = b.end_us - b.gate.start_us;
  bench_gate_clear (&b.gate);

  return bench_bulk_result (b.sender_error, b.receiver_error, error);
}

/* ---- (b, c) ping-pong, optionally beside idle pairs ---------------------- */

extern "C" gboolean
bench_qt_pingpong (const BenchParams *p,
                   BenchResult       *res,
                   GError           **error)
{
  QTcpServer server;
  QList<QTcpSocket *> sockets;
  QTcpSocket *client = nullptr, *server_end = nullptr;
  QEventLoop loop;
  GError *run_error = nullptr;
  guint8 msg[BENCH_PING_SIZE];
  guint done = 0, round_trips = p->round_trips;
  gint64 start, deadline = 0;
  gboolean ok = FALSE;

  if (!listen_loopback (&server, error))
    return FALSE;
  server.setMaxPendingConnections (INT_MAX);

  auto fail = [&] (GError *e) {
    bench_qt_keep (&run_error, e);
    loop.quit ();
  };

  if (!connect_pair (&server, &client, &server_end, false, error))
    goto out;
  sockets << client << server_end;
  client->setSocketOption (QAbstractSocket::LowDelayOption, 1);
  server_end->setSocketOption (QAbstractSocket::LowDelayOption, 1);

  QObject::connect (server_end, &QIODevice::readyRead, [&] {
    char buf[4096];
    qint64 n;

    while ((n = server_end->read (buf, sizeof buf)) > 0)
      server_end->write (buf, n);
  });
  QObject::connect (client, &QIODevice::readyRead, [&] {
    while (done < round_trips && client->bytesAvailable () >= BENCH_PING_SIZE)
      {
        client->read ((char *) msg, BENCH_PING_SIZE);
        if (!bench_ping_check (msg, done))
          {
            fail (g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "reply %u is wrong", done));
            return;
          }
        if (bench_pingpong_over (++done, round_trips, deadline))
          {
            round_trips = done;
            loop.quit ();
            return;
          }
        bench_ping_fill (msg, done);
        client->write ((const char *) msg, BENCH_PING_SIZE);
      }
  });

  for (guint i = 0; i < p->idle; i++)
    {
      QTcpSocket *idle[2];

      if (!connect_pair (&server, &idle[0], &idle[1], false, error))
        goto out;
      for (QTcpSocket *s : idle)
        {
          sockets << s;
          QObject::connect (s, &QIODevice::readyRead, [&] {
            fail (g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "an idle socket became readable"));
          });
        }
    }
  for (QTcpSocket *s : sockets)
    QObject::connect (s, &QAbstractSocket::disconnected, [&] {
      fail (g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "a connection closed"));
    });

  start = g_get_monotonic_time ();
  deadline = p->max_us > 0 ? start + p->max_us : 0;
  bench_ping_fill (msg, 0);
  client->write ((const char *) msg, BENCH_PING_SIZE);
  loop.exec ();
  res->elapsed_us = g_get_monotonic_time () - start;
  res->done = done;

  if (run_error != nullptr)
    g_propagate_error (error, run_error);
  else
    ok = TRUE;

out:
  for (QTcpSocket *s : sockets)
    {
      s->disconnect ();
      bench_set_linger_zero ((int) s->socketDescriptor ());
      s->abort ();
      delete s;
    }
  return ok;
}

/* ---- (d) connect / accept / close ---------------------------------------- */

static guint32
cycle_token (guint32 cycle)
{
  return cycle * 2654435761u ^ 0x5bd1e995u;
}

extern "C" gboolean
bench_qt_connect (const BenchParams *p,
                  BenchResult       *res,
                  GError           **error)
{
  QTcpServer server;
  QEventLoop loop;
  QTcpSocket *client = nullptr, *server_end = nullptr;
  GError *run_error = nullptr;
  guint32 token = 0;
  gsize have = 0;
  guint done = 0;
  gint64 start;

  if (!listen_loopback (&server, error))
    return FALSE;
  const quint16 port = server.serverPort ();

  auto fail = [&] (GError *e) {
    bench_qt_keep (&run_error, e);
    loop.quit ();
  };

  /* Connects, queues the token and asks to disconnect at once: the socket
   * sends the token once connected, then closes (Qt's pending close). */
  std::function<void ()> start_cycle = [&] {
    QTcpSocket *c = new QTcpSocket;
    guint32 t = cycle_token (done);

    client = c;
    QObject::connect (c, &QAbstractSocket::disconnected, [&, c] {
      if (client == c)
        client = nullptr;
      c->deleteLater ();
    });
    QObject::connect (c, &QAbstractSocket::errorOccurred, [&, c] (QAbstractSocket::SocketError) {
      fail (g_error_new (BENCH_ERROR, BENCH_ERROR_SOCKET, "client, cycle %u: %s", done,
                         c->errorString ().toUtf8 ().constData ()));
    });
    c->connectToHost (QHostAddress (QHostAddress::LocalHost), port);
    c->write ((const char *) &t, sizeof t);
    c->disconnectFromHost ();
  };

  QObject::connect (&server, &QTcpServer::newConnection, [&] {
    QTcpSocket *s;

    while ((s = server.nextPendingConnection ()) != nullptr)
      {
        if (server_end != nullptr)
          {
            s->abort ();
            s->deleteLater ();
            fail (g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "a second connection in cycle %u", done));
            return;
          }
        server_end = s;
        have = 0;
        QObject::connect (s, &QIODevice::readyRead, [&, s] {
          qint64 n = s->read ((char *) &token + have, (qint64) (sizeof token - have));

          if (n > 0)
            have += (gsize) n;
        });
        /* The client closed after sending its token: the cycle is over. */
        QObject::connect (s, &QAbstractSocket::disconnected, [&, s] {
          bool extra = s->bytesAvailable () != 0;

          server_end = nullptr;
          s->deleteLater ();
          if (extra || have != sizeof token || token != cycle_token (done))
            fail (g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "wrong token in cycle %u", done));
          else if (client != nullptr)
            fail (g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                               "the server saw the end of cycle %u before the client closed", done));
          else if (++done == p->cycles)
            loop.quit ();
          else
            start_cycle ();
        });
      }
  });

  start = g_get_monotonic_time ();
  start_cycle ();
  loop.exec ();
  res->elapsed_us = g_get_monotonic_time () - start;

  for (QTcpSocket *s : { client, server_end })
    if (s != nullptr)
      {
        s->disconnect ();
        s->abort ();
        delete s;
      }
  server.disconnect ();
  QCoreApplication::sendPostedEvents (nullptr, QEvent::DeferredDelete);

  if (run_error != nullptr)
    {
      g_propagate_error (error, run_error);
      return FALSE;
    }
  return done == p->cycles;
}

/* ---- (e) lines ----------------------------------------------------------- */

extern "C" gboolean
bench_qt_lines (const BenchParams *p,
                BenchResult       *res,
                GError           **error)
{
  const BenchLines *lines = bench_lines_get (p->lines);
  QTcpServer server;
  QTcpSocket *reader = nullptr;
  QEventLoop loop;
  BenchLineCheck check;
  GError *run_error = nullptr;
  GThread *writer;
  char *writer_error;
  gint64 start, end_us = 0, leftover;
  gboolean ok;
  int wfd;

  if (!listen_loopback (&server, error))
    return FALSE;
  wfd = bench_connect (server.serverPort (), error);
  if (wfd < 0)
    return FALSE;
  bench_set_nodelay (wfd);
  if (!server.waitForNewConnection (30000))
    {
      close (wfd);
      return bench_qt_fail (error, BENCH_ERROR_SOCKET, "accept", server.errorString ());
    }
  reader = server.nextPendingConnection ();
  reader->setParent (nullptr);
  bench_line_check_init (&check, lines);

  QObject::connect (reader, &QIODevice::readyRead, [&] {
    char line[BENCH_LINE_MAX + 2];

    while (reader->canReadLine ())
      {
        qint64 n = reader->readLine (line, sizeof line);

        if (n <= 0 || !bench_line_check (&check, line, (gsize) n, &run_error))
          {
            if (run_error == nullptr)
              run_error = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                       "readLine after canReadLine returned %" G_GINT64_FORMAT, (gint64) n);
            loop.quit ();
            return;
          }
      }
    if (end_us == 0 && check.index == lines->n_lines)
      end_us = g_get_monotonic_time ();
    if (reader->bytesAvailable () >= BENCH_LINE_MAX)
      {
        run_error = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                 "line %u is longer than %d bytes", check.index, BENCH_LINE_MAX);
        loop.quit ();
      }
  });
  QObject::connect (reader, &QAbstractSocket::disconnected, &loop, &QEventLoop::quit);

  start = g_get_monotonic_time ();
  writer = bench_line_writer_start (wfd, lines);
  loop.exec ();

  leftover = reader->bytesAvailable ();
  reader->disconnect ();
  reader->abort ();
  delete reader;
  writer_error = (char *) g_thread_join (writer);

  if (run_error != nullptr)
    {
      g_propagate_error (error, run_error);
      ok = FALSE;
    }
  else
    ok = bench_lines_finish (&check, (gsize) leftover, writer_error, error);
  g_free (writer_error);
  if (ok)
    res->elapsed_us = end_us - start;
  return ok;
}

/* ---- (f) memory per connected pair --------------------------------------- */

/* As a Qt server usually has them: accepted sockets stay children of the
 * QTcpServer; every socket has a readyRead and a disconnected handler. */
namespace {
struct QtMem
{
  QTcpServer *server = nullptr;
};
}

static void
qt_mem_watch (BenchMemEnd *end,
              QTcpSocket  *socket)
{
  end->object = socket;
  QObject::connect (socket, &QIODevice::readyRead, [socket, end] {
    char buf[BENCH_PING_SIZE + 1];
    qint64 n;

    while (!end->got && (n = socket->read (buf, sizeof buf)) > 0)
      bench_memory_received (end, buf, (gsize) n);
  });
  QObject::connect (socket, &QAbstractSocket::disconnected, [end] {
    bench_memory_fail (end->run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "pair %u closed", end->seq));
  });
}

static gboolean
qt_mem_setup (BenchMemRun *run,
              GError     **error)
{
  QtMem *m = (QtMem *) run->data;

  m->server = new QTcpServer;
  return listen_loopback (m->server, error);
}

static gboolean
qt_mem_add_pair (BenchMemRun *run,
                 BenchMemEnd *client,
                 BenchMemEnd *server,
                 GError     **error)
{
  QtMem *m = (QtMem *) run->data;
  QTcpSocket *c, *s;

  if (!connect_pair (m->server, &c, &s, true, error))
    return FALSE;
  qt_mem_watch (client, c);
  qt_mem_watch (server, s);
  return TRUE;
}

static gboolean
qt_mem_send (BenchMemRun  *run,
             BenchMemEnd  *end,
             const guint8 *msg,
             GError      **error)
{
  QTcpSocket *socket = (QTcpSocket *) end->object;

  if (socket->write ((const char *) msg, BENCH_PING_SIZE) != BENCH_PING_SIZE)
    return bench_qt_fail (error, BENCH_ERROR_SOCKET, "write", socket->errorString ());
  return TRUE;
}

static void
qt_mem_wait (BenchMemRun *run)
{
  QCoreApplication::processEvents (QEventLoop::WaitForMoreEvents);
}

static void
qt_mem_settle (BenchMemRun *run)
{
  for (int i = 0; i < 4; i++)
    QCoreApplication::processEvents ();
  QCoreApplication::sendPostedEvents (nullptr, QEvent::DeferredDelete);
}

static void
qt_mem_teardown (BenchMemRun *run)
{
  QtMem *m = (QtMem *) run->data;

  for (guint i = 0; i < run->n_ends; i++)
    {
      QTcpSocket *socket = (QTcpSocket *) run->ends[i].object;

      if (socket == nullptr)
        continue;
      socket->disconnect ();
      bench_set_linger_zero ((int) socket->socketDescriptor ());
      socket->abort ();
      if (socket->parent () == nullptr)
        delete socket;
    }
  delete m->server;   /* and the accepted sockets, its children */
  QCoreApplication::sendPostedEvents (nullptr, QEvent::DeferredDelete);
}

static const BenchMemOps qt_mem_ops = {
  qt_mem_setup, qt_mem_add_pair, qt_mem_send, qt_mem_wait, qt_mem_settle, qt_mem_teardown,
};

extern "C" gboolean
bench_qt_memory (const BenchParams *p,
                 BenchResult       *res,
                 GError           **error)
{
  QtMem m;

  return bench_memory_run (&qt_mem_ops, &m, p, res, error);
}
