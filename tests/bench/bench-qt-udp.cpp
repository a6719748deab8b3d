/* bench-qt-udp.cpp: 512-byte UDP bursts on Qt 6 (qsock-bench-udp)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A QUdpSocket on each side, each thread with its own QEventLoop. The
 * sender calls writeDatagram() per datagram while the window allows and
 * sleeps on the run's eventfd (a QSocketNotifier) when it is full; the
 * receiver, on readyRead, reads every pending datagram with
 * while (hasPendingDatagrams ()) readDatagram () into one buffer. Pacing,
 * progress and the checks are bench-udp.c's (bench-udp.h), the same for
 * all four implementations.
 */
#include "bench-qt.h"
#include "bench-udp.h"

#include <QtCore/QEventLoop>
#include <QtCore/QSocketNotifier>
#include <QtCore/QTimer>
#include <QtCore/QVariant>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QUdpSocket>

extern "C" gpointer
bench_qt_udp_receiver (gpointer data)
{
  Run *run = (Run *) data;
  QEventLoop loop;
  QUdpSocket udp;
  static thread_local char buf[RECV_BUFFER];

  if (!udp.bind (QHostAddress (QHostAddress::LocalHost), 0))
    {
      run_fail (run, "QUdpSocket::bind: %s", udp.errorString ().toUtf8 ().constData ());
      gate_arrive (run);
      return nullptr;
    }
  udp.setSocketOption (QAbstractSocket::ReceiveBufferSizeSocketOption, QVariant (RCVBUF));
  run->rcvbuf = udp.socketOption (QAbstractSocket::ReceiveBufferSizeSocketOption).toInt ();
  run->port = udp.localPort ();

  QSocketNotifier wake_notifier (run->receiver_wake, QSocketNotifier::Read);
  QObject::connect (&wake_notifier, &QSocketNotifier::activated, [&] {
    drain_wake (run->receiver_wake);
    if (run_is_done (run))
      loop.quit ();
  });
  /* As the others: readyRead comes once until a datagram is read, so all
   * pending datagrams are read here. */
  QObject::connect (&udp, &QIODevice::readyRead, [&] {
    while (!run->receiver_stop && udp.hasPendingDatagrams ())
      {
        qint64 n = udp.readDatagram (buf, sizeof buf);

        if (n < 0)
          {
            run_fail (run, "QUdpSocket::readDatagram: %s", udp.errorString ().toUtf8 ().constData ());
            run->receiver_stop = TRUE;
            break;
          }
        if (!receiver_take (run, (const guint8 *) buf, n))
          break;
      }
    receiver_drained (run);
    if (run->receiver_stop)
      loop.quit ();
  });

  gate_arrive (run);
  if (!run_is_done (run))
    loop.exec ();
  udp.disconnect ();
  return nullptr;
}

extern "C" gpointer
bench_qt_udp_sender (gpointer data)
{
  Run *run = (Run *) data;
  QEventLoop loop;
  QUdpSocket udp;
  QTimer retry, tick;
  const QHostAddress to (QHostAddress::LocalHost);
  static thread_local guint8 buf[DATAGRAM_SIZE];
  guint failures = 0;

  /* Bound now, not by the first write, so the set-up is not timed. */
  if (!udp.bind (QHostAddress (QHostAddress::LocalHost), 0))
    {
      run_fail (run, "QUdpSocket::bind: %s", udp.errorString ().toUtf8 ().constData ());
      gate_arrive (run);
      return nullptr;
    }

  /* Sends while the window allows. */
  auto send_some = [&] {
    while (!run_is_done (run) && run->sent < run->count)
      {
        guint32 credit = sender_credit (run);

        if (credit == 0 && (credit = sender_wait_credit (run)) == 0)
          return;   /* the receiver wakes us */

        for (; credit > 0; credit--)
          {
            datagram_fill (buf, run->sent);
            if (udp.writeDatagram ((const char *) buf, DATAGRAM_SIZE, to, run->port) != DATAGRAM_SIZE)
              {
                /* A full send buffer (EAGAIN/ENOBUFS): try again soon; a
                 * socket that keeps failing is an error. */
                if (++failures < 10000)
                  {
                    retry.start ();
                    return;
                  }
                run_fail (run, "QUdpSocket::writeDatagram: %s", udp.errorString ().toUtf8 ().constData ());
                return;
              }
            failures = 0;
            run->sent++;
          }
      }
  };

  retry.setSingleShot (true);
  retry.setInterval (1);
  QObject::connect (&retry, &QTimer::timeout, send_some);

  QSocketNotifier wake_notifier (run->sender_wake, QSocketNotifier::Read);
  QObject::connect (&wake_notifier, &QSocketNotifier::activated, [&] {
    drain_wake (run->sender_wake);
    if (run_is_done (run))
      loop.quit ();
    else if (!retry.isActive ())
      send_some ();
  });

  /* Every millisecond: the end marker once all is sent; the stall check. */
  tick.setInterval (1);
  QObject::connect (&tick, &QTimer::timeout, [&] {
    if (run_is_done (run))
      {
        loop.quit ();
        return;
      }
    if (run->sent == run->count)
      {
        udp.writeDatagram ((const char *) end_marker, sizeof end_marker, to, run->port);
        run->ends_sent++;
        return;
      }
    sender_check_stall (run);
    if (!retry.isActive ())
      send_some ();
  });
  tick.start ();

  gate_arrive (run);
  if (!run_is_done (run))
    {
      send_some ();
      loop.exec ();
    }
  return nullptr;
}
