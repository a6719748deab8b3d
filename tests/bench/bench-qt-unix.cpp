/* bench-qt-unix.cpp: Unix-socket bulk on Qt 6 (qsock-bench-unix)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A QLocalServer in the receiver's thread accepts, a QLocalSocket in the
 * sender's connects; the sender keeps at most BENCH_MAX_QUEUED bytes in
 * Qt's write buffer and tops up on bytesWritten, then disconnects (which
 * flushes); the receiver reads on readyRead until read() returns 0.
 */
#include "bench-qt.h"

#include <QtCore/QEventLoop>
#include <QtCore/QMutex>
#include <QtCore/QThread>
#include <QtCore/QWaitCondition>
#include <QtNetwork/QLocalServer>
#include <QtNetwork/QLocalSocket>

namespace {
struct UnixBulk
{
  BenchGate      gate;
  QString        path;
  guint64        total = 0;
  QMutex         lock;
  QWaitCondition cond;
  bool           listening = false;
  bool           listen_ok = false;
  gint64         end_us = 0;
  GError        *sender_error = nullptr;
  GError        *receiver_error = nullptr;
};
}

static void
unix_receiver (UnixBulk *b)
{
  QLocalServer server;
  QLocalSocket *socket;
  bool ok;

  QLocalServer::removeServer (b->path);
  ok = server.listen (b->path);
  if (!ok)
    bench_qt_fail (&b->receiver_error, BENCH_ERROR_SOCKET, "listen", server.errorString ());
  {
    QMutexLocker locker (&b->lock);
    b->listen_ok = ok;
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
  server.close ();   /* removes the socket file; the accepted socket stays */

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
  QObject::connect (socket, &QLocalSocket::disconnected, &loop, &QEventLoop::quit);

  bench_gate_arrive (&b->gate);
  if (socket->state () == QLocalSocket::ConnectedState)
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
unix_sender (UnixBulk *b)
{
  QLocalSocket socket;

  {
    QMutexLocker locker (&b->lock);
    while (!b->listening)
      b->cond.wait (&b->lock);
    if (!b->listen_ok)
      {
        locker.unlock ();
        bench_gate_arrive (&b->gate);
        return;
      }
  }
  socket.connectToServer (b->path);
  if (!socket.waitForConnected (30000))
    {
      bench_qt_fail (&b->sender_error, BENCH_ERROR_SOCKET, "connect", socket.errorString ());
      bench_gate_arrive (&b->gate);
      return;
    }

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
    if (queued == b->total && !closing)
      {
        closing = true;
        socket.disconnectFromServer ();
      }
  };
  QObject::connect (&socket, &QIODevice::bytesWritten, [&] (qint64 bytes) {
    written += bytes;
    fill ();
  });
  QObject::connect (&socket, &QLocalSocket::disconnected, [&] {
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
bench_qt_unix (const char *path,
               guint64     total,
               gint64     *elapsed_us,
               GError    **error)
{
  UnixBulk b;
  QThread *receiver, *sender;

  bench_gate_init (&b.gate);
  b.path = QString::fromLocal8Bit (path);
  b.total = total;
  receiver = QThread::create (unix_receiver, &b);
  sender = QThread::create (unix_sender, &b);
  receiver->start ();
  sender->start ();
  bench_gate_open (&b.gate, 2);
  receiver->wait ();
  sender->wait ();
  delete receiver;
  delete sender;
  *elapsed_us = b.end_us - b.gate.start_us;
  bench_gate_clear (&b.gate);

  return bench_bulk_result (b.sender_error, b.receiver_error, error);
}
