/* bench-unix.c: qsock-bench-unix, bulk throughput over a Unix stream socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * 256 MiB (--bytes; --quick: 32 MiB) one way over a connected AF_UNIX
 * stream socket in 64 KiB writes, sender and receiver in two threads, three
 * ways, interleaved in one process (qsock, gio, epoll, qsock, gio, epoll,
 * …, 5 rounds) so that drift in the machine hits all three alike:
 *
 *   qsock  qsock-glib as a Qt program uses it: a QSockLocalServer in the
 *          receiver's GMainContext accepts, a QSockLocal in the sender's
 *          connects (synchronously, as QLocalSocket does). The sender keeps
 *          at most 4 MiB queued and writes more on bytes-written, then
 *          disconnects (which flushes); the receiver reads what the library
 *          buffered on ready-read, until qsock_iodevice_read() returns 0.
 *   gio    plain GIO: non-blocking AF_UNIX GSockets (GUnixSocketAddress,
 *          listen, connect, accept), each thread with its own GMainContext
 *          and one g_socket_create_source(); sends straight from the
 *          reference data, reads until a short read.
 *   epoll  raw level-triggered epoll on non-blocking descriptors, one epoll
 *          per thread: the practical limit.
 *   qt     Qt 6 (built only when Qt6Network is found): QLocalServer in the
 *          receiver's thread, QLocalSocket in the sender's, each on a
 *          QEventLoop, the same 4 MiB cap and bytesWritten top-up as qsock
 *          (bench-qt-unix.cpp).
 *
 * The socket is bound to a path in a fresh private directory under
 * g_get_tmp_dir() for all three; making and connecting it is never timed.
 * Timed: from the moment both threads are set up until the receiver has
 * the last byte.
 *
 * Every received block is compared with the reference stream of the TCP
 * benchmark (bench_pattern_check(): a pseudo-random table with an odd
 * period, so lost, repeated or reordered blocks show), the byte count must
 * be exact and followed by the end of stream, and for qsock the
 * bytes-written sum must equal the bytes sent. Wrong data fails the run
 * (exit status 1); speed never does. A run that does not finish within
 * --timeout seconds fails too.
 *
 *   qsock-bench-unix                   256 MiB, 5 rounds
 *   qsock-bench-unix --quick           32 MiB (CI: meson test --benchmark)
 *   qsock-bench-unix --impl qsock --bytes 64M --rounds 1   for a profiler
 *
 * Numbers mean something only from a release build
 * (meson setup <builddir> -Dbuildtype=release).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <gio/gunixsocketaddress.h>
#include <qsock-glib/qsock.h>

#include "bench.h"

typedef enum { IMPL_QSOCK, IMPL_GIO, IMPL_EPOLL, IMPL_QT, N_IMPLS } Impl;

static const char *impl_names[N_IMPLS] = { "qsock", "gio", "epoll", "qt" };

/* Where the three bind: "<tmp>/qsock-bench-unix-XXXXXX/s", made once. */
static char *socket_dir;
static char *socket_path;

/* ---- qsock --------------------------------------------------------------- */

typedef struct
{
  GMainContext     *context;
  GMainLoop        *loop;
  QSockLocalServer *server;     /* receiver: made by the main thread in context */
  QSockLocal       *socket;
  guint64           total;
  guint64           done;       /* sender: queued; receiver: received */
  gint64            written;    /* sender: sum of bytes-written */
  gboolean          closing;
  guint8           *buf;
  BenchGate        *gate;
  gint64            end_us;
  GError           *error;
} QsockSide;

static void
qsock_fail (QsockSide *side,
            GError    *error)
{
  if (side->error == NULL)
    side->error = error;
  else
    g_error_free (error);
  g_main_loop_quit (side->loop);
}

static void
qsock_fill (QsockSide *side)
{
  QSockIODevice *device = QSOCK_IODEVICE (side->socket);

  while (side->done < side->total &&
         qsock_iodevice_bytes_to_write (device) + (gint64) BENCH_CHUNK <= BENCH_MAX_QUEUED)
    {
      gsize n = MIN (BENCH_CHUNK, side->total - side->done);

      if (qsock_iodevice_write (device, (const char *) bench_pattern_at (side->done), n) != (gint64) n)
        {
          qsock_fail (side, g_error_new (BENCH_ERROR, BENCH_ERROR_SOCKET, "write: %s",
                                         qsock_iodevice_get_error_string (device)));
          return;
        }
      side->done += n;
    }

  /* Everything is queued: disconnecting flushes the queue, then closes. */
  if (side->done == side->total && !side->closing)
    {
      side->closing = TRUE;
      qsock_local_disconnect_from_server (side->socket);
    }
}

static void
qsock_bytes_written (QSockIODevice *device,
                     gint64         bytes,
                     QsockSide     *side)
{
  side->written += bytes;
  qsock_fill (side);
}

static void
qsock_disconnected (QSockLocal *socket,
                    QsockSide  *side)
{
  g_main_loop_quit (side->loop);
}

static void
qsock_error_occurred (QSockLocal            *socket,
                      QSockLocalSocketError  code,
                      QsockSide             *side)
{
  /* The peer's close is how the receiver's run ends; disconnected follows. */
  if (code == QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED)
    return;
  qsock_fail (side, g_error_new (BENCH_ERROR, BENCH_ERROR_SOCKET, "%s",
                                 qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket))));
}

static void
qsock_ready_read (QSockIODevice *device,
                  QsockSide     *side)
{
  gint64 n;

  while ((n = qsock_iodevice_read (device, (char *) side->buf, BENCH_RECV_SIZE)) > 0)
    {
      if (side->done + (guint64) n > side->total || !bench_pattern_check (side->done, side->buf, (gsize) n))
        {
          qsock_fail (side, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                         "wrong data at stream offset %" G_GUINT64_FORMAT, side->done));
          return;
        }
      side->done += (guint64) n;
      if (side->done == side->total)
        side->end_us = g_get_monotonic_time ();
    }
}

/* Takes off our handlers first, so the abort reports nothing to them. */
static void
qsock_drop (QsockSide *side)
{
  if (side->socket == NULL)
    return;
  g_signal_handlers_disconnect_by_data (side->socket, side);
  qsock_local_abort (side->socket);
  g_clear_object (&side->socket);
}

static gpointer
qsock_receiver (gpointer data)
{
  QsockSide *side = data;

  g_main_context_push_thread_default (side->context);
  while (side->socket == NULL)
    {
      g_main_context_iteration (side->context, TRUE);
      side->socket = qsock_local_server_next_pending_connection (side->server);
    }
  /* Closing the server removes its socket file; the accepted socket stays. */
  qsock_local_server_close (side->server);
  g_signal_connect (side->socket, "ready-read", G_CALLBACK (qsock_ready_read), side);
  g_signal_connect (side->socket, "disconnected", G_CALLBACK (qsock_disconnected), side);
  g_signal_connect (side->socket, "error-occurred", G_CALLBACK (qsock_error_occurred), side);

  bench_gate_arrive (side->gate);
  g_main_loop_run (side->loop);

  /* Every byte must have come through ready-read before the end. */
  if (side->error == NULL &&
      (side->done != side->total || qsock_iodevice_bytes_available (QSOCK_IODEVICE (side->socket)) != 0))
    side->error = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                               "received %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes",
                               side->done, side->total);
  qsock_drop (side);
  g_main_context_pop_thread_default (side->context);
  return NULL;
}

static gpointer
qsock_sender (gpointer data)
{
  QsockSide *side = data;

  g_main_context_push_thread_default (side->context);
  side->socket = qsock_local_new ();
  g_signal_connect (side->socket, "error-occurred", G_CALLBACK (qsock_error_occurred), side);

  /* Synchronous, as QLocalSocket::connectToServer(); only a full backlog
   * leaves it connecting. */
  qsock_local_connect_to_server (side->socket, socket_path, QSOCK_OPEN_MODE_READ_WRITE);
  while (qsock_local_get_state (side->socket) == QSOCK_LOCAL_SOCKET_STATE_CONNECTING)
    g_main_context_iteration (side->context, TRUE);
  if (side->error == NULL && qsock_local_get_state (side->socket) != QSOCK_LOCAL_SOCKET_STATE_CONNECTED)
    side->error = g_error_new (BENCH_ERROR, BENCH_ERROR_SOCKET, "connect: %s",
                               qsock_iodevice_get_error_string (QSOCK_IODEVICE (side->socket)));
  g_signal_connect (side->socket, "bytes-written", G_CALLBACK (qsock_bytes_written), side);
  g_signal_connect (side->socket, "disconnected", G_CALLBACK (qsock_disconnected), side);

  bench_gate_arrive (side->gate);
  if (side->error == NULL)
    {
      qsock_fill (side);
      g_main_loop_run (side->loop);
    }

  if (side->error == NULL && side->written != (gint64) side->total)
    side->error = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                               "bytes-written added up to %" G_GINT64_FORMAT " of %" G_GUINT64_FORMAT,
                               side->written, side->total);
  qsock_drop (side);
  g_main_context_pop_thread_default (side->context);
  return NULL;
}

static void
qsock_side_init (QsockSide *side,
                 guint64    total,
                 BenchGate *gate)
{
  side->context = g_main_context_new ();
  side->loop = g_main_loop_new (side->context, FALSE);
  side->total = total;
  side->gate = gate;
}

static void
qsock_side_clear (QsockSide *side)
{
  g_clear_object (&side->server);
  g_main_loop_unref (side->loop);
  g_main_context_unref (side->context);
}

static gboolean
bench_qsock_unix (guint64   total,
                  gint64   *elapsed_us,
                  GError  **error)
{
  BenchGate gate;
  QsockSide sender = { 0 }, receiver = { 0 };
  g_autofree guint8 *buf = g_malloc (BENCH_RECV_SIZE);
  GThread *threads[2];

  bench_gate_init (&gate);
  qsock_side_init (&sender, total, &gate);
  qsock_side_init (&receiver, total, &gate);
  receiver.buf = buf;

  /* The server (and so the socket it accepts) lives in the receiver's context. */
  g_main_context_push_thread_default (receiver.context);
  receiver.server = qsock_local_server_new ();
  g_main_context_pop_thread_default (receiver.context);
  if (!qsock_local_server_listen (receiver.server, socket_path))
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_SOCKET, "listen: %s",
                   qsock_local_server_get_error_string (receiver.server));
      qsock_side_clear (&sender);
      qsock_side_clear (&receiver);
      bench_gate_clear (&gate);
      return FALSE;
    }

  threads[0] = g_thread_new ("qsock-unix-recv", qsock_receiver, &receiver);
  threads[1] = g_thread_new ("qsock-unix-send", qsock_sender, &sender);
  bench_gate_open (&gate, 2);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
  *elapsed_us = receiver.end_us - gate.start_us;
  qsock_side_clear (&sender);
  qsock_side_clear (&receiver);
  bench_gate_clear (&gate);

  return bench_bulk_result (sender.error, receiver.error, error);
}

/* ---- plain GIO ----------------------------------------------------------- */

typedef struct
{
  GSocket   *socket;
  GMainLoop *loop;
  guint64    total;
  guint64    done;
  guint8    *buf;
  BenchGate *gate;
  gint64     end_us;
  GError    *error;
} GioSide;

static gboolean
is_would_block (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

static gboolean
gio_send_ready (GSocket      *socket,
                GIOCondition  condition,
                gpointer      data)
{
  GioSide *side = data;

  while (side->done < side->total)
    {
      GError *local = NULL;
      gssize r = g_socket_send (socket, (const char *) bench_pattern_at (side->done),
                                MIN (BENCH_CHUNK, side->total - side->done), NULL, &local);

      if (r < 0 && is_would_block (local))
        {
          g_error_free (local);
          return G_SOURCE_CONTINUE;
        }
      if (r < 0)
        {
          g_propagate_error (&side->error, local);
          break;
        }
      side->done += (guint64) r;
    }

  g_socket_close (socket, NULL);
  g_main_loop_quit (side->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
gio_receive_ready (GSocket      *socket,
                   GIOCondition  condition,
                   gpointer      data)
{
  GioSide *side = data;

  for (;;)
    {
      GError *local = NULL;
      gssize r = g_socket_receive (socket, (char *) side->buf, BENCH_RECV_SIZE, NULL, &local);

      if (r < 0 && is_would_block (local))
        {
          g_error_free (local);
          return G_SOURCE_CONTINUE;
        }
      if (r < 0)
        {
          g_propagate_error (&side->error, local);
          break;
        }
      if (r == 0)
        break;

      if (side->done + (guint64) r > side->total || !bench_pattern_check (side->done, side->buf, (gsize) r))
        {
          g_set_error (&side->error, BENCH_ERROR, BENCH_ERROR_DATA,
                       "wrong data at stream offset %" G_GUINT64_FORMAT, side->done);
          break;
        }
      side->done += (guint64) r;
      if (side->done == side->total)
        side->end_us = g_get_monotonic_time ();
      if ((gsize) r < BENCH_RECV_SIZE)
        return G_SOURCE_CONTINUE;
    }

  g_main_loop_quit (side->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
gio_thread (GioSide           *side,
            GIOCondition       condition,
            GSocketSourceFunc  func)
{
  GMainContext *context = g_main_context_new ();
  GSource *source;

  g_main_context_push_thread_default (context);
  side->loop = g_main_loop_new (context, FALSE);
  source = g_socket_create_source (side->socket, condition, NULL);
  g_source_set_callback (source, (GSourceFunc) (GCallback) func, side, NULL);
  g_source_attach (source, context);

  bench_gate_arrive (side->gate);
  g_main_loop_run (side->loop);

  g_source_destroy (source);
  g_source_unref (source);
  g_socket_close (side->socket, NULL);
  g_clear_object (&side->socket);
  g_main_loop_unref (side->loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static gpointer
gio_sender (gpointer data)
{
  return gio_thread (data, G_IO_OUT, gio_send_ready);
}

static gpointer
gio_receiver (gpointer data)
{
  return gio_thread (data, G_IO_IN, gio_receive_ready);
}

/* Set-up, not timed: a connected pair made the GIO way. */
static gboolean
gio_pair (GSocket **client_out,
          GSocket **server_out,
          GError  **error)
{
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (socket_path);
  g_autoptr(GSocket) listener = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_DEFAULT, error);
  g_autoptr(GSocket) client = NULL;
  GSocket *server;

  if (listener == NULL ||
      !g_socket_bind (listener, address, FALSE, error) ||
      !g_socket_listen (listener, error))
    {
      unlink (socket_path);
      return FALSE;
    }

  client = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (client == NULL || !g_socket_connect (client, address, NULL, error))
    {
      unlink (socket_path);
      return FALSE;
    }
  server = g_socket_accept (listener, NULL, error);
  g_socket_close (listener, NULL);
  unlink (socket_path);
  if (server == NULL)
    return FALSE;

  g_socket_set_blocking (client, FALSE);
  g_socket_set_blocking (server, FALSE);
  *client_out = g_steal_pointer (&client);
  *server_out = server;
  return TRUE;
}

static gboolean
bench_gio_unix (guint64   total,
                gint64   *elapsed_us,
                GError  **error)
{
  BenchGate gate;
  GioSide sender = { 0 }, receiver = { 0 };
  g_autofree guint8 *buf = g_malloc (BENCH_RECV_SIZE);
  GThread *threads[2];

  if (!gio_pair (&sender.socket, &receiver.socket, error))
    return FALSE;

  bench_gate_init (&gate);
  sender.total = receiver.total = total;
  sender.gate = receiver.gate = &gate;
  receiver.buf = buf;
  threads[0] = g_thread_new ("gio-unix-recv", gio_receiver, &receiver);
  threads[1] = g_thread_new ("gio-unix-send", gio_sender, &sender);
  bench_gate_open (&gate, 2);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
  *elapsed_us = receiver.end_us - gate.start_us;
  bench_gate_clear (&gate);

  if (receiver.error == NULL && receiver.done != receiver.total)
    g_set_error (&receiver.error, BENCH_ERROR, BENCH_ERROR_DATA,
                 "received %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes",
                 receiver.done, receiver.total);
  return bench_bulk_result (sender.error, receiver.error, error);
}

/* ---- raw epoll ----------------------------------------------------------- */

typedef struct
{
  int        fd;
  guint64    total;
  BenchGate *gate;
  gint64     end_us;
  GError    *error;
} EpollSide;

static int
epoll_with (int       fd,
            guint32   events,
            GError  **error)
{
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = events, .data.fd = fd };

  if (ep < 0 || epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev) != 0)
    {
      bench_set_errno_error (error, errno, "epoll");
      if (ep >= 0)
        close (ep);
      return -1;
    }
  return ep;
}

static int
wait_one (int                 ep,
          struct epoll_event *ev)
{
  int n;

  do
    n = epoll_wait (ep, ev, 1, -1);
  while (n < 0 && errno == EINTR);
  return n;
}

static gpointer
epoll_sender (gpointer data)
{
  EpollSide *side = data;
  struct epoll_event ev;
  guint64 sent = 0;
  int ep = epoll_with (side->fd, EPOLLOUT, &side->error);

  bench_gate_arrive (side->gate);

  while (ep >= 0 && sent < side->total)
    {
      gssize r = send (side->fd, bench_pattern_at (sent), MIN (BENCH_CHUNK, side->total - sent), MSG_NOSIGNAL);

      if (r > 0)
        sent += (guint64) r;
      else if (r < 0 && errno == EAGAIN)
        wait_one (ep, &ev);
      else if (r < 0 && errno != EINTR)
        {
          bench_set_errno_error (&side->error, errno, "send");
          break;
        }
    }

  if (ep >= 0)
    close (ep);
  close (side->fd);
  return NULL;
}

static gpointer
epoll_receiver (gpointer data)
{
  EpollSide *side = data;
  g_autofree guint8 *buf = g_malloc (BENCH_RECV_SIZE);
  struct epoll_event ev;
  guint64 received = 0;
  gboolean eof = FALSE;
  int ep = epoll_with (side->fd, EPOLLIN, &side->error);

  bench_gate_arrive (side->gate);

  while (ep >= 0 && !eof && side->error == NULL && wait_one (ep, &ev) > 0)
    {
      for (;;)
        {
          gssize r = recv (side->fd, buf, BENCH_RECV_SIZE, 0);

          if (r == 0)
            eof = TRUE;
          else if (r < 0 && errno == EINTR)
            continue;
          else if (r < 0 && errno != EAGAIN)
            bench_set_errno_error (&side->error, errno, "recv");
          else if (r > 0)
            {
              if (received + (guint64) r > side->total || !bench_pattern_check (received, buf, (gsize) r))
                {
                  g_set_error (&side->error, BENCH_ERROR, BENCH_ERROR_DATA,
                               "wrong data at stream offset %" G_GUINT64_FORMAT, received);
                  break;
                }
              received += (guint64) r;
              if (received == side->total)
                side->end_us = g_get_monotonic_time ();
              if ((gsize) r == BENCH_RECV_SIZE)
                continue;
            }
          break;
        }
    }

  if (side->error == NULL && received != side->total)
    g_set_error (&side->error, BENCH_ERROR, BENCH_ERROR_DATA,
                 "received %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes", received, side->total);
  if (ep >= 0)
    close (ep);
  close (side->fd);
  return NULL;
}

/* Set-up, not timed: a connected pair of non-blocking descriptors. */
static gboolean
epoll_pair (int     *client_out,
            int     *server_out,
            GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int listener = -1, client = -1, server = -1;

  g_strlcpy (addr.sun_path, socket_path, sizeof addr.sun_path);
  listener = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0 ||
      bind (listener, (struct sockaddr *) &addr, sizeof addr) != 0 ||
      listen (listener, 16) != 0)
    {
      bench_set_errno_error (error, errno, "listen");
      goto out;
    }
  client = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (client < 0 || connect (client, (struct sockaddr *) &addr, sizeof addr) != 0)
    {
      bench_set_errno_error (error, errno, "connect");
      goto out;
    }
  server = accept4 (listener, NULL, NULL, SOCK_CLOEXEC);
  if (server < 0)
    bench_set_errno_error (error, errno, "accept");

out:
  if (listener >= 0)
    close (listener);
  unlink (socket_path);
  if (server < 0)
    {
      if (client >= 0)
        close (client);
      return FALSE;
    }
  bench_set_nonblocking (client);
  bench_set_nonblocking (server);
  *client_out = client;
  *server_out = server;
  return TRUE;
}

static gboolean
bench_epoll_unix (guint64   total,
                  gint64   *elapsed_us,
                  GError  **error)
{
  BenchGate gate;
  EpollSide sender = { 0 }, receiver = { 0 };
  GThread *threads[2];

  if (!epoll_pair (&sender.fd, &receiver.fd, error))
    return FALSE;

  bench_gate_init (&gate);
  sender.total = receiver.total = total;
  sender.gate = receiver.gate = &gate;
  threads[0] = g_thread_new ("epoll-unix-recv", epoll_receiver, &receiver);
  threads[1] = g_thread_new ("epoll-unix-send", epoll_sender, &sender);
  bench_gate_open (&gate, 2);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
  *elapsed_us = receiver.end_us - gate.start_us;
  bench_gate_clear (&gate);

  return bench_bulk_result (sender.error, receiver.error, error);
}

/* ---- the runner ---------------------------------------------------------- */

typedef gboolean (*UnixFunc) (guint64 total, gint64 *elapsed_us, GError **error);

#ifdef BENCH_HAVE_QT
static gboolean
bench_qt_unix_at_path (guint64   total,
                       gint64   *elapsed_us,
                       GError  **error)
{
  return bench_qt_unix (socket_path, total, elapsed_us, error);
}
#define QT_UNIX bench_qt_unix_at_path
#else
#define QT_UNIX NULL
#endif

static const UnixFunc funcs[N_IMPLS] = { bench_qsock_unix, bench_gio_unix, bench_epoll_unix, QT_UNIX };

static gboolean opt_quick;
static char **opt_impls;
static int opt_rounds = 5;
static char *opt_bytes;
static int opt_timeout = 600;
static char *opt_results;

static const GOptionEntry entries[] = {
  { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick, "32 MiB instead of 256 MiB (for CI)", NULL },
  { "bytes", 'b', 0, G_OPTION_ARG_STRING, &opt_bytes,
    "Bytes to move, with an optional K, M or G suffix (default 256M)", "SIZE" },
  { "impl", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &opt_impls,
    "Run only these implementations: qsock, gio, epoll, qt (repeat or comma-separate)", "NAME" },
  { "results", 0, 0, G_OPTION_ARG_FILENAME, &opt_results,
    "Append one tab-separated line per run to FILE (for run-benchmarks)", "FILE" },
  { "rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds, "Interleaved rounds (default 5)", "N" },
  { "timeout", 't', 0, G_OPTION_ARG_INT, &opt_timeout,
    "Fail a single run that takes longer than this (default 600 s)", "SECONDS" },
  { NULL }
};

static gboolean
parse_size (const char *text,
            guint64    *size)
{
  char *end;
  guint64 value = g_ascii_strtoull (text, &end, 10);

  switch (g_ascii_toupper (*end))
    {
    case 'G': value <<= 10; G_GNUC_FALLTHROUGH;
    case 'M': value <<= 10; G_GNUC_FALLTHROUGH;
    case 'K': value <<= 10; end++; break;
    default: break;
    }
  if (end == text || *end != '\0' || value == 0)
    return FALSE;
  *size = value;
  return TRUE;
}

/* A run that never finishes is as wrong as one with bad data: a lost
 * signal or byte leaves a loop waiting forever. */
static struct
{
  GMutex      lock;
  GCond       cond;
  gint64      deadline;   /* 0: disarmed */
  const char *what;
} watchdog;

static gpointer
watchdog_thread (gpointer data)
{
  g_mutex_lock (&watchdog.lock);
  for (;;)
    {
      if (watchdog.deadline != 0 && g_get_monotonic_time () >= watchdog.deadline)
        {
          fprintf (stderr, "\nFAIL: %s did not finish within %d s\n", watchdog.what, opt_timeout);
          fflush (stderr);
          _exit (1);
        }
      if (watchdog.deadline == 0)
        g_cond_wait (&watchdog.cond, &watchdog.lock);
      else
        g_cond_wait_until (&watchdog.cond, &watchdog.lock, watchdog.deadline);
    }
  return NULL;
}

static void
watchdog_arm (const char *what)
{
  g_mutex_lock (&watchdog.lock);
  watchdog.what = what;
  watchdog.deadline = g_get_monotonic_time () + (gint64) opt_timeout * G_USEC_PER_SEC;
  g_cond_signal (&watchdog.cond);
  g_mutex_unlock (&watchdog.lock);
}

static void
watchdog_disarm (void)
{
  g_mutex_lock (&watchdog.lock);
  watchdog.deadline = 0;
  g_mutex_unlock (&watchdog.lock);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_autoptr(GArray) sorted = NULL;
  guint n = values->len;

  if (n == 0)
    return 0;
  sorted = g_array_copy (values);
  g_array_sort (sorted, compare_doubles);
  if (n % 2 == 1)
    return g_array_index (sorted, double, n / 2);
  return (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2;
}

static void
print_ratio (double value,
             double epoll)
{
  if (value > 0 && epoll > 0)
    printf ("  %11.2f", value / epoll);
  else
    printf ("  %11s", "-");
}

static char *
format_bytes (guint64 bytes)
{
  if (bytes % (1 << 30) == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " GiB", bytes >> 30);
  if (bytes % (1 << 20) == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", bytes >> 20);
  return g_strdup_printf ("%" G_GUINT64_FORMAT " B", bytes);
}

static void
remove_socket_dir (void)
{
  if (socket_path != NULL)
    unlink (socket_path);
  if (socket_dir != NULL)
    rmdir (socket_dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context =
    g_option_context_new ("— qsock-glib vs plain GIO vs epoll, bulk over a Unix stream socket");
  g_autoptr(GError) error = NULL;
  g_autofree char *command = g_strjoinv (" ", argv);
  g_autofree char *size_text = NULL;
  g_autofree char *label = NULL;
  g_auto(GStrv) impls = NULL;
  GArray *values[N_IMPLS];
  gboolean run_impl[N_IMPLS];
  guint64 total;
  gboolean first = TRUE;
  double m[N_IMPLS];

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }

  total = opt_quick ? (guint64) 32 << 20 : (guint64) 256 << 20;
  if (opt_bytes != NULL && !parse_size (opt_bytes, &total))
    {
      fprintf (stderr, "--bytes: not a size: %s\n", opt_bytes);
      return 2;
    }
  opt_rounds = MAX (opt_rounds, 1);
  opt_timeout = MAX (opt_timeout, 1);

  {
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

    for (char **v = opt_impls; v != NULL && *v != NULL; v++)
      {
        g_auto(GStrv) parts = g_strsplit (*v, ",", -1);

        for (char **part = parts; *part != NULL; part++)
          if (**part != '\0')
            g_strv_builder_add (builder, g_strstrip (*part));
      }
    impls = g_strv_builder_end (builder);
  }
  for (char **n = impls; *n != NULL; n++)
    if (!g_str_equal (*n, "qsock") && !g_str_equal (*n, "gio") && !g_str_equal (*n, "epoll") &&
        !g_str_equal (*n, "qt"))
      {
        fprintf (stderr, "--impl: unknown implementation %s\n", *n);
        return 2;
      }
  for (int k = 0; k < N_IMPLS; k++)
    {
      run_impl[k] = funcs[k] != NULL &&
                    (impls[0] == NULL || g_strv_contains ((const char * const *) impls, impl_names[k]));
      values[k] = g_array_new (FALSE, FALSE, sizeof (double));
    }

  socket_dir = g_dir_make_tmp ("qsock-bench-unix-XXXXXX", &error);
  if (socket_dir == NULL)
    {
      fprintf (stderr, "FAIL: %s\n", error->message);
      return 1;
    }
  socket_path = g_build_filename (socket_dir, "s", NULL);
  atexit (remove_socket_dir);

  signal (SIGPIPE, SIG_IGN);
  bench_results_open (opt_results);
#ifdef BENCH_HAVE_QT
  if (run_impl[IMPL_QT])
    bench_qt_init (&argc, argv);
#endif
  g_mutex_init (&watchdog.lock);
  g_cond_init (&watchdog.cond);
  g_thread_unref (g_thread_new ("bench-watchdog", watchdog_thread, NULL));

  printf ("qsock-bench-unix: qsock-glib %s, GLib %u.%u.%u, %s%s, %u CPUs\n", QSOCK_VERSION_S,
          glib_major_version, glib_minor_version, glib_micro_version,
#ifdef BENCH_HAVE_QT
          "Qt ", bench_qt_version (),
#else
          "no Qt", "",
#endif
          g_get_num_processors ());
  printf ("command: %s\n", command);
  printf ("socket: %s\n", socket_path);
  fflush (stdout);

  /* Made before the clock starts, so no run pays for it. */
  bench_pattern_at (0);

  size_text = format_bytes (total);
  label = g_strdup_printf ("unix bulk %s", size_text);
  for (guint round = 0; round < (guint) opt_rounds; round++)
    for (int k = 0; k < N_IMPLS; k++)
      {
        g_autofree char *what = NULL;
        g_autoptr(GError) run_error = NULL;
        gint64 elapsed_us = 0;
        double value;
        gboolean ok;

        if (!run_impl[k])
          continue;
        what = g_strdup_printf ("%s [%s, round %u]", label, impl_names[k], round + 1);
        watchdog_arm (what);
        ok = funcs[k] (total, &elapsed_us, &run_error);
        watchdog_disarm ();
        if (!ok)
          {
            fprintf (stderr, "\nFAIL: %s: %s\n", what, run_error != NULL ? run_error->message : "failed");
            return 1;
          }
        value = ((double) total / (1 << 20)) / ((double) MAX (elapsed_us, 1) / G_USEC_PER_SEC);
        g_array_append_val (values[k], value);
        bench_results_add ("unix", impl_names[k], round + 1, value, "MiB/s");
        fprintf (stderr, "  %-20s %-5s round %u: %10.1f MiB/s\n", label, impl_names[k], round + 1, value);
      }

  /* Padded by hand: "÷" is one column but two bytes. */
  printf ("\n%-20s  %-5s  %12s  %-6s  %s  %s  %s  %s\n",
          "workload", "impl", "median", "unit", "qsock÷epoll", "  gio÷epoll", "   qt÷epoll", "   qsock÷qt");
  printf ("%-20s  %-5s  %12s  %-6s  %s  %s  %s  %s\n",
          "--------------------", "-----", "------------", "------",
          "-----------", "-----------", "-----------", "-----------");
  for (int k = 0; k < N_IMPLS; k++)
    m[k] = median (values[k]);
  for (int k = 0; k < N_IMPLS; k++)
    {
      if (!run_impl[k])
        continue;
      printf ("%-20s  %-5s  %12.1f  ", first ? label : "", impl_names[k], m[k]);
      if (first)
        {
          printf ("%-6s", "MiB/s");
          print_ratio (m[IMPL_QSOCK], m[IMPL_EPOLL]);
          print_ratio (m[IMPL_GIO], m[IMPL_EPOLL]);
          print_ratio (m[IMPL_QT], m[IMPL_EPOLL]);
          print_ratio (m[IMPL_QSOCK], m[IMPL_QT]);
        }
      else
        printf ("MiB/s");
      printf ("\n");
      first = FALSE;
    }
  printf ("\nMedians of %u interleaved rounds; higher is faster.\n", (guint) opt_rounds);

  for (int k = 0; k < N_IMPLS; k++)
    g_array_unref (values[k]);
  return 0;
}
