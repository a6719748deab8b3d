/* bench-udp.c: qsock-bench-udp, loopback UDP datagram throughput
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One sender thread sends N datagrams of 512 bytes (1000000 by default,
 * --count; --quick: 100000) over 127.0.0.1 to one receiver thread, three
 * ways, interleaved in one process (qsock, gio, raw, qsock, gio, raw, …,
 * 5 rounds) so that drift in the machine hits all three alike:
 *
 *   qsock  qsock-glib as a Qt program uses it: QSockUdp on each side, each
 *          thread with its own GMainContext; the sender calls
 *          qsock_udp_write_datagram() per datagram; the receiver, on
 *          ready-read, reads every pending datagram with
 *          while (qsock_udp_has_pending_datagrams ())
 *            qsock_udp_read_datagram () into one reused buffer.
 *   gio    plain GIO: non-blocking GSockets, each thread with its own
 *          GMainContext; g_socket_send_to() per datagram;
 *          g_socket_create_source (G_IO_IN) and g_socket_receive() until
 *          G_IO_ERROR_WOULD_BLOCK.
 *   raw    the practical limit: each thread with its own epoll;
 *          sendmmsg() and recvmmsg() in batches of 64.
 *   qt     Qt 6 (built only when Qt6Network is found): QUdpSocket on each
 *          side, each thread with its own QEventLoop; writeDatagram() per
 *          datagram; on readyRead, while (hasPendingDatagrams ())
 *          readDatagram () (bench-qt-udp.cpp).
 *
 * The receiving socket of all three has SO_RCVBUF set to 4 MiB. UDP drops
 * what does not fit, so the sender paces itself: it keeps at most a window
 * of datagrams beyond the highest sequence number the receiver has
 * reported (the window fits the receive buffer with room to spare), and
 * sleeps on an eventfd in its loop when the window is full. Whatever is
 * lost anyway is counted and printed, never hidden.
 *
 * Every datagram carries its sequence number and a payload derived from
 * it; the receiver checks each one (length, range, payload, no duplicate).
 * Wrong data fails the run (exit status 1); speed never does. A run that
 * makes no progress for --timeout seconds fails too.
 *
 * Timed: from the moment both threads are set up until the receiver has
 * the last datagram (or, after losses, the end marker the sender repeats
 * every millisecond once it has sent everything).
 *
 *   qsock-bench-udp                    1000000 datagrams, 5 rounds
 *   qsock-bench-udp --quick            100000 (CI: meson test --benchmark)
 *   qsock-bench-udp --impl qsock --count 200000 --rounds 1   for a profiler
 *
 * Numbers mean something only from a release build
 * (meson setup <builddir> -Dbuildtype=release).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <glib-unix.h>
#include <qsock-glib/qsock.h>

#include "bench.h"
#include "bench-udp.h"

#define BATCH           64                      /* raw: per sendmmsg/recvmmsg */
#define PUBLISH_EVERY   64                      /* progress reports to the sender */
#define STALL_US        (1 * G_USEC_PER_SEC)    /* window full this long: count as lost */

/* The kernel charges a 512-byte loopback datagram about 1.3 to 2.3 KiB of
 * receive buffer; the window assumes 4 KiB each, so it never fills the
 * buffer even if another process's traffic shares the CPU. */
#define CHARGE_PER_DATAGRAM 4096
#define MAX_WINDOW      2048
#define MIN_WINDOW      64

typedef enum { IMPL_QSOCK, IMPL_GIO, IMPL_RAW, IMPL_QT, N_IMPLS } Impl;

static const char *impl_names[N_IMPLS] = { "qsock", "gio", "raw", "qt" };

/* ---- options ------------------------------------------------------------- */

static gboolean opt_quick;
static int opt_count = -1;
static int opt_rounds = 5;
static char **opt_impls;
static int opt_timeout = 300;
static int opt_window = -1;
static int opt_corrupt = -1;
static char *opt_results;

static const GOptionEntry entries[] = {
  { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick,
    "100000 datagrams instead of 1000000 (for CI)", NULL },
  { "count", 'n', 0, G_OPTION_ARG_INT, &opt_count,
    "Datagrams per run (default 1000000)", "N" },
  { "rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds, "Interleaved rounds (default 5)", "N" },
  { "impl", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &opt_impls,
    "Run only these implementations: qsock, gio, raw, qt (repeat or comma-separate)", "NAME" },
  { "results", 0, 0, G_OPTION_ARG_FILENAME, &opt_results,
    "Append one tab-separated line per run to FILE (for run-benchmarks)", "FILE" },
  { "timeout", 't', 0, G_OPTION_ARG_INT, &opt_timeout,
    "Fail a single run that takes longer than this (default 300 s)", "SECONDS" },
  { "window", 'w', 0, G_OPTION_ARG_INT, &opt_window,
    "Datagrams the sender keeps in flight (default: what fits SO_RCVBUF; 0: no pacing, expect loss)", "N" },
  /* Checks the checker: the sender damages one datagram; exit status 1. */
  { "corrupt", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_corrupt,
    "Damage the payload of datagram N", "N" },
  G_OPTION_ENTRY_NULL
};

/* ---- the data ------------------------------------------------------------ */

/* Datagram s is s (4 bytes, host order) followed by 508 bytes of a fixed
 * pseudo-random table from offset (s * 37 + 4) % 1021: 1021 is prime, so a
 * datagram whose number was changed shows as a wrong payload too. */
#define TABLE_PERIOD 1021
static guint8 table[TABLE_PERIOD + DATAGRAM_SIZE];

/* The end marker: shorter than any datagram of data. */
const guint8 end_marker[8] = { 'q', 's', 'o', 'c', 'k', 'E', 'N', 'D' };

static void
table_init (void)
{
  guint32 x = 0x9e3779b9;

  for (gsize i = 0; i < sizeof table; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      table[i] = (guint8) (x >> 24);
    }
}

static const guint8 *
payload_of (guint32 seq)
{
  return table + ((guint64) seq * 37 + HEADER_SIZE) % TABLE_PERIOD;
}

void
datagram_fill (guint8  *buf,
               guint32  seq)
{
  memcpy (buf, &seq, HEADER_SIZE);
  memcpy (buf + HEADER_SIZE, payload_of (seq), DATAGRAM_SIZE - HEADER_SIZE);
  if (G_UNLIKELY ((gint64) seq == opt_corrupt))
    buf[DATAGRAM_SIZE / 2] ^= 0x20;
}

/* ---- one run: what sender and receiver share ----------------------------- */

/* Run: bench-udp.h */

void
wake (int fd)
{
  guint64 one = 1;

  while (write (fd, &one, sizeof one) < 0 && errno == EINTR)
    ;
}

void
drain_wake (int fd)
{
  guint64 value;

  while (read (fd, &value, sizeof value) < 0 && errno == EINTR)
    ;
}

static void
run_stop (Run *run)
{
  g_atomic_int_set (&run->done, 1);
  wake (run->sender_wake);
  wake (run->receiver_wake);
}


void
run_fail (Run        *run,
          const char *format,
          ...)
{
  va_list args;
  char *text;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_mutex_lock (&run->lock);
  if (run->error == NULL)
    run->error = text;
  else
    g_free (text);
  g_mutex_unlock (&run->lock);
  run_stop (run);
}

gboolean
run_is_done (Run *run)
{
  return g_atomic_int_get (&run->done) != 0;
}

/* Worker side: set up, then wait for the start. */
void
gate_arrive (Run *run)
{
  g_mutex_lock (&run->lock);
  run->ready++;
  g_cond_broadcast (&run->cond);
  while (!run->go)
    g_cond_wait (&run->cond, &run->lock);
  g_mutex_unlock (&run->lock);
}

/* Worker side, when set-up failed: let the main thread go on. */
void
gate_give_up (Run        *run,
              const char *what,
              GError     *error)
{
  run_fail (run, "%s: %s", what, error != NULL ? error->message : g_strerror (errno));
  gate_arrive (run);
}

static void
gate_wait_ready (Run  *run,
                 guint n)
{
  g_mutex_lock (&run->lock);
  while (run->ready < n)
    g_cond_wait (&run->cond, &run->lock);
  g_mutex_unlock (&run->lock);
}

static void
gate_open (Run *run)
{
  g_mutex_lock (&run->lock);
  run->start_us = g_get_monotonic_time ();
  run->go = TRUE;
  g_cond_broadcast (&run->cond);
  g_mutex_unlock (&run->lock);
}

/* ---- the receiver's side, shared by the three ---------------------------- */

/* Tells the sender how far the receiver got, and wakes it if it waits. */
static void
receiver_publish (Run *run)
{
  run->since_publish = 0;
  g_atomic_int_set (&run->acked, (gint) run->next);
  if (g_atomic_int_get (&run->sender_waiting) &&
      g_atomic_int_compare_and_exchange (&run->sender_waiting, 1, 0))
    wake (run->sender_wake);
}

static void
receiver_complete (Run *run)
{
  run->end_us = g_get_monotonic_time ();
  run->receiver_stop = TRUE;
  run_stop (run);
}

/* Checks one datagram. Returns FALSE when the receiver is to stop: all
 * data is in, or the data is wrong. */
gboolean
receiver_take (Run          *run,
               const guint8 *data,
               gssize        n)
{
  guint32 seq;

  if (run->receiver_stop)
    return FALSE;

  if (n == sizeof end_marker && memcmp (data, end_marker, sizeof end_marker) == 0)
    {
      /* What came before it is read or lost: finish once drained. */
      run->got_end = TRUE;
      return TRUE;
    }

  if (n != DATAGRAM_SIZE)
    {
      run_fail (run, "a datagram of %" G_GSSIZE_FORMAT " bytes arrived (expected %d)", n, DATAGRAM_SIZE);
      run->receiver_stop = TRUE;
      return FALSE;
    }

  memcpy (&seq, data, HEADER_SIZE);
  if (seq >= run->count)
    {
      run_fail (run, "datagram number %u is out of range (0 to %u)", seq, run->count - 1);
      run->receiver_stop = TRUE;
      return FALSE;
    }
  if (run->seen[seq / 8] & (1u << (seq % 8)))
    {
      run_fail (run, "datagram %u arrived twice", seq);
      run->receiver_stop = TRUE;
      return FALSE;
    }
  if (memcmp (data + HEADER_SIZE, payload_of (seq), DATAGRAM_SIZE - HEADER_SIZE) != 0)
    {
      run_fail (run, "datagram %u has the wrong payload", seq);
      run->receiver_stop = TRUE;
      return FALSE;
    }

  run->seen[seq / 8] |= 1u << (seq % 8);
  run->unique++;
  if (seq >= run->next)
    run->next = seq + 1;
  else
    run->reordered++;

  if (run->unique == run->count)
    {
      receiver_publish (run);
      receiver_complete (run);
      return FALSE;
    }
  if (++run->since_publish >= PUBLISH_EVERY)
    receiver_publish (run);
  return TRUE;
}

/* Nothing more to read for now. */
void
receiver_drained (Run *run)
{
  if (run->receiver_stop)
    return;
  receiver_publish (run);
  if (run->got_end)
    receiver_complete (run);
}

void
set_rcvbuf (Run *run,
            int  fd)
{
  int size = RCVBUF;
  socklen_t len = sizeof size;

  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (getsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, &len) == 0)
    run->rcvbuf = size;
}

/* ---- the sender's side, shared by the three ------------------------------ */

/* How many datagrams may leave now. */
guint32
sender_credit (Run *run)
{
  guint32 acked = MAX ((guint32) g_atomic_int_get (&run->acked), run->credit_base);
  guint32 in_flight = run->sent - MIN (acked, run->sent);

  if (run->window == 0)
    return run->count - run->sent;   /* no pacing */
  if (in_flight >= run->window)
    return 0;
  return MIN (run->window - in_flight, run->count - run->sent);
}

/* With no credit: asks to be woken, then looks once more, so a report that
 * came in between is not missed. */
guint32
sender_wait_credit (Run *run)
{
  guint32 credit;

  g_atomic_int_set (&run->sender_waiting, 1);
  credit = sender_credit (run);
  if (credit > 0)
    g_atomic_int_compare_and_exchange (&run->sender_waiting, 1, 0);
  return credit;
}

/* Called now and then while the window is full: if nothing moved for
 * STALL_US, what is in flight is taken as lost (counted by the receiver),
 * so a loss never stops the run. */
void
sender_check_stall (Run *run)
{
  gint64 now = g_get_monotonic_time ();

  if (run->sent != run->stall_sent || sender_credit (run) > 0 || run->sent == run->count)
    {
      run->stall_sent = run->sent;
      run->stall_since = now;
      return;
    }
  if (now - run->stall_since >= STALL_US)
    {
      run->credit_base = run->sent;
      run->stall_since = now;
    }
}

/* ---- qsock-glib ---------------------------------------------------------- */

typedef struct
{
  Run          *run;
  GMainLoop    *loop;
  QSockUdp     *udp;
  GInetAddress *to;
  guint8        buf[RECV_BUFFER];
  guint         retry;
} QSockSide;

static GSource *
add_fd_source (GMainContext     *context,
               int               fd,
               GUnixFDSourceFunc func,
               gpointer          data)
{
  GSource *source = g_unix_fd_source_new (fd, G_IO_IN);

  g_source_set_callback (source, (GSourceFunc) (GCallback) func, data, NULL);
  g_source_attach (source, context);
  return source;
}

static GSource *
add_timeout (GMainContext *context,
             guint         ms,
             GSourceFunc   func,
             gpointer      data)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, context);
  return source;
}

/* As Qt: ready-read comes once until a datagram is read, so all pending
 * datagrams are read here, into the same buffer. */
static void
qsock_on_ready_read (QSockIODevice *device,
                     gpointer       data)
{
  QSockSide *side = data;
  Run *run = side->run;

  while (!run->receiver_stop && qsock_udp_has_pending_datagrams (side->udp))
    {
      gint64 n = qsock_udp_read_datagram (side->udp, (char *) side->buf, sizeof side->buf, NULL, NULL);

      if (n < 0)
        {
          run_fail (run, "qsock_udp_read_datagram: %s", qsock_iodevice_get_error_string (device));
          run->receiver_stop = TRUE;
          break;
        }
      if (!receiver_take (run, side->buf, n))
        break;
    }

  receiver_drained (run);
  if (run->receiver_stop)
    g_main_loop_quit (side->loop);
}

static gboolean
qsock_receiver_wake (int          fd,
                     GIOCondition condition,
                     gpointer     data)
{
  QSockSide *side = data;

  drain_wake (fd);
  if (run_is_done (side->run))
    g_main_loop_quit (side->loop);
  return G_SOURCE_CONTINUE;
}

static gpointer
qsock_receiver (gpointer data)
{
  Run *run = data;
  GMainContext *context = g_main_context_new ();
  QSockSide side = { .run = run };
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSource *wake_source;

  g_main_context_push_thread_default (context);
  side.loop = g_main_loop_new (context, FALSE);
  side.udp = qsock_udp_new ();
  if (!qsock_abstract_bind (QSOCK_ABSTRACT (side.udp), loopback, 0, QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM))
    {
      run_fail (run, "qsock_abstract_bind: %s", qsock_iodevice_get_error_string (QSOCK_IODEVICE (side.udp)));
      gate_arrive (run);
      goto out;
    }
  qsock_abstract_set_socket_option (QSOCK_ABSTRACT (side.udp), QSOCK_SOCKET_OPTION_RECEIVE_BUFFER_SIZE, RCVBUF);
  {
    int size = 0;

    if (qsock_abstract_get_socket_option (QSOCK_ABSTRACT (side.udp), QSOCK_SOCKET_OPTION_RECEIVE_BUFFER_SIZE, &size))
      run->rcvbuf = size;
  }
  run->port = qsock_abstract_get_local_port (QSOCK_ABSTRACT (side.udp));
  g_signal_connect (side.udp, "ready-read", G_CALLBACK (qsock_on_ready_read), &side);
  wake_source = add_fd_source (context, run->receiver_wake, qsock_receiver_wake, &side);

  gate_arrive (run);
  if (!run_is_done (run))
    g_main_loop_run (side.loop);

  g_source_destroy (wake_source);
  g_source_unref (wake_source);
out:
  g_signal_handlers_disconnect_by_data (side.udp, &side);
  g_clear_object (&side.udp);
  g_main_loop_unref (side.loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void qsock_send_some (QSockSide *side);

static gboolean
qsock_retry (gpointer data)
{
  QSockSide *side = data;

  side->retry = 0;
  qsock_send_some (side);
  return G_SOURCE_REMOVE;
}

/* Sends while the window allows. */
static void
qsock_send_some (QSockSide *side)
{
  Run *run = side->run;

  while (!run_is_done (run) && run->sent < run->count)
    {
      guint32 credit = sender_credit (run);

      if (credit == 0 && (credit = sender_wait_credit (run)) == 0)
        return;   /* the receiver wakes us */

      for (; credit > 0; credit--)
        {
          datagram_fill (side->buf, run->sent);
          if (qsock_udp_write_datagram (side->udp, (const char *) side->buf, DATAGRAM_SIZE,
                                        side->to, run->port) != DATAGRAM_SIZE)
            {
              QSockSocketError code = qsock_abstract_get_error (QSOCK_ABSTRACT (side->udp));

              /* TemporaryError: the send buffer is full; try again soon. */
              if (code == QSOCK_SOCKET_ERROR_TEMPORARY)
                {
                  GSource *source = g_timeout_source_new (1);

                  g_source_set_callback (source, qsock_retry, side, NULL);
                  side->retry = g_source_attach (source, g_main_loop_get_context (side->loop));
                  g_source_unref (source);
                  return;
                }
              run_fail (run, "qsock_udp_write_datagram: %s",
                        qsock_iodevice_get_error_string (QSOCK_IODEVICE (side->udp)));
              return;
            }
          run->sent++;
        }
    }
}

static gboolean
qsock_sender_wake (int          fd,
                   GIOCondition condition,
                   gpointer     data)
{
  QSockSide *side = data;

  drain_wake (fd);
  if (run_is_done (side->run))
    g_main_loop_quit (side->loop);
  else if (side->retry == 0)
    qsock_send_some (side);
  return G_SOURCE_CONTINUE;
}

/* Every millisecond: the end marker once all is sent; the stall check. */
static gboolean
qsock_sender_tick (gpointer data)
{
  QSockSide *side = data;
  Run *run = side->run;

  if (run_is_done (run))
    {
      g_main_loop_quit (side->loop);
      return G_SOURCE_CONTINUE;
    }
  if (run->sent == run->count)
    {
      qsock_udp_write_datagram (side->udp, (const char *) end_marker, sizeof end_marker, side->to, run->port);
      run->ends_sent++;
      return G_SOURCE_CONTINUE;
    }
  sender_check_stall (run);
  if (side->retry == 0)
    qsock_send_some (side);
  return G_SOURCE_CONTINUE;
}

static gpointer
qsock_sender (gpointer data)
{
  Run *run = data;
  GMainContext *context = g_main_context_new ();
  QSockSide side = { .run = run };
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSource *wake_source, *tick;

  g_main_context_push_thread_default (context);
  side.loop = g_main_loop_new (context, FALSE);
  side.udp = qsock_udp_new ();
  side.to = loopback;
  /* Bound now, not by the first write (which Qt would do), so the set-up
   * is not timed. */
  if (!qsock_abstract_bind (QSOCK_ABSTRACT (side.udp), loopback, 0, QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM))
    {
      run_fail (run, "qsock_abstract_bind: %s", qsock_iodevice_get_error_string (QSOCK_IODEVICE (side.udp)));
      gate_arrive (run);
      goto out;
    }
  wake_source = add_fd_source (context, run->sender_wake, qsock_sender_wake, &side);
  tick = add_timeout (context, 1, qsock_sender_tick, &side);

  gate_arrive (run);
  if (!run_is_done (run))
    {
      qsock_send_some (&side);
      g_main_loop_run (side.loop);
    }

  if (side.retry != 0)
    g_source_remove (side.retry);
  g_source_destroy (tick);
  g_source_unref (tick);
  g_source_destroy (wake_source);
  g_source_unref (wake_source);
out:
  g_clear_object (&side.udp);
  g_main_loop_unref (side.loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

/* ---- plain GIO ----------------------------------------------------------- */

typedef struct
{
  Run            *run;
  GMainLoop      *loop;
  GSocket        *socket;
  GSocketAddress *to;
  guint8          buf[RECV_BUFFER];
  GSource        *retry;
} GioSide;

static GSocket *
gio_socket_bound (Run     *run,
                  GError **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);

  if (socket == NULL)
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_bind (socket, address, FALSE, error))
    {
      g_object_unref (socket);
      return NULL;
    }
  return socket;
}

static gboolean
gio_receive_ready (GSocket      *socket,
                   GIOCondition  condition,
                   gpointer      data)
{
  GioSide *side = data;
  Run *run = side->run;

  while (!run->receiver_stop)
    {
      GError *error = NULL;
      gssize n = g_socket_receive (socket, (char *) side->buf, sizeof side->buf, NULL, &error);

      if (n < 0)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              run_fail (run, "g_socket_receive: %s", error->message);
              run->receiver_stop = TRUE;
            }
          g_error_free (error);
          break;
        }
      if (!receiver_take (run, side->buf, n))
        break;
    }

  receiver_drained (run);
  if (run->receiver_stop)
    g_main_loop_quit (side->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
gio_receiver_wake (int          fd,
                   GIOCondition condition,
                   gpointer     data)
{
  GioSide *side = data;

  drain_wake (fd);
  if (run_is_done (side->run))
    g_main_loop_quit (side->loop);
  return G_SOURCE_CONTINUE;
}

static gpointer
gio_receiver (gpointer data)
{
  Run *run = data;
  GMainContext *context = g_main_context_new ();
  GioSide side = { .run = run };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  GSource *source, *wake_source;

  g_main_context_push_thread_default (context);
  side.loop = g_main_loop_new (context, FALSE);
  side.socket = gio_socket_bound (run, &error);
  if (side.socket == NULL)
    {
      gate_give_up (run, "g_socket_bind", error);
      goto out;
    }
  g_socket_set_option (side.socket, SOL_SOCKET, SO_RCVBUF, RCVBUF, NULL);
  g_socket_get_option (side.socket, SOL_SOCKET, SO_RCVBUF, &run->rcvbuf, NULL);
  local = g_socket_get_local_address (side.socket, NULL);
  run->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  source = g_socket_create_source (side.socket, G_IO_IN, NULL);
  g_source_set_callback (source, (GSourceFunc) (GCallback) gio_receive_ready, &side, NULL);
  g_source_attach (source, context);
  wake_source = add_fd_source (context, run->receiver_wake, gio_receiver_wake, &side);

  gate_arrive (run);
  if (!run_is_done (run))
    g_main_loop_run (side.loop);

  g_source_destroy (wake_source);
  g_source_unref (wake_source);
  g_source_destroy (source);
  g_source_unref (source);
out:
  if (side.socket != NULL)
    g_socket_close (side.socket, NULL);
  g_clear_object (&side.socket);
  g_main_loop_unref (side.loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void gio_send_some (GioSide *side);

static gboolean
gio_send_ready (GSocket      *socket,
                GIOCondition  condition,
                gpointer      data)
{
  GioSide *side = data;

  g_clear_pointer (&side->retry, g_source_unref);
  gio_send_some (side);
  return G_SOURCE_REMOVE;
}

static void
gio_send_some (GioSide *side)
{
  Run *run = side->run;

  while (!run_is_done (run) && run->sent < run->count)
    {
      guint32 credit = sender_credit (run);

      if (credit == 0 && (credit = sender_wait_credit (run)) == 0)
        return;

      for (; credit > 0; credit--)
        {
          GError *error = NULL;

          datagram_fill (side->buf, run->sent);
          if (g_socket_send_to (side->socket, side->to, (const char *) side->buf, DATAGRAM_SIZE,
                                NULL, &error) != DATAGRAM_SIZE)
            {
              if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                {
                  /* The send buffer is full: go on when there is room. */
                  side->retry = g_socket_create_source (side->socket, G_IO_OUT, NULL);
                  g_source_set_callback (side->retry, (GSourceFunc) (GCallback) gio_send_ready, side, NULL);
                  g_source_attach (side->retry, g_main_loop_get_context (side->loop));
                }
              else
                {
                  run_fail (run, "g_socket_send_to: %s", error != NULL ? error->message : "short send");
                }
              g_clear_error (&error);
              return;
            }
          run->sent++;
        }
    }
}

static gboolean
gio_sender_wake (int          fd,
                 GIOCondition condition,
                 gpointer     data)
{
  GioSide *side = data;

  drain_wake (fd);
  if (run_is_done (side->run))
    g_main_loop_quit (side->loop);
  else if (side->retry == NULL)
    gio_send_some (side);
  return G_SOURCE_CONTINUE;
}

static gboolean
gio_sender_tick (gpointer data)
{
  GioSide *side = data;
  Run *run = side->run;

  if (run_is_done (run))
    {
      g_main_loop_quit (side->loop);
      return G_SOURCE_CONTINUE;
    }
  if (run->sent == run->count)
    {
      g_socket_send_to (side->socket, side->to, (const char *) end_marker, sizeof end_marker, NULL, NULL);
      run->ends_sent++;
      return G_SOURCE_CONTINUE;
    }
  sender_check_stall (run);
  if (side->retry == NULL)
    gio_send_some (side);
  return G_SOURCE_CONTINUE;
}

static gpointer
gio_sender (gpointer data)
{
  Run *run = data;
  GMainContext *context = g_main_context_new ();
  GioSide side = { .run = run };
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSource *wake_source, *tick;

  g_main_context_push_thread_default (context);
  side.loop = g_main_loop_new (context, FALSE);
  side.socket = gio_socket_bound (run, &error);
  if (side.socket == NULL)
    {
      gate_give_up (run, "g_socket_bind", error);
      goto out;
    }
  side.to = g_inet_socket_address_new (loopback, run->port);
  wake_source = add_fd_source (context, run->sender_wake, gio_sender_wake, &side);
  tick = add_timeout (context, 1, gio_sender_tick, &side);

  gate_arrive (run);
  if (!run_is_done (run))
    {
      gio_send_some (&side);
      g_main_loop_run (side.loop);
    }

  if (side.retry != NULL)
    {
      g_source_destroy (side.retry);
      g_source_unref (side.retry);
    }
  g_source_destroy (tick);
  g_source_unref (tick);
  g_source_destroy (wake_source);
  g_source_unref (wake_source);
out:
  if (side.socket != NULL)
    g_socket_close (side.socket, NULL);
  g_clear_object (&side.socket);
  g_clear_object (&side.to);
  g_main_loop_unref (side.loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

/* ---- raw recvmmsg / sendmmsg and epoll ----------------------------------- */

static int
raw_socket_bound (struct sockaddr_in *address)
{
  socklen_t len = sizeof *address;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  memset (address, 0, sizeof *address);
  address->sin_family = AF_INET;
  address->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (bind (fd, (struct sockaddr *) address, sizeof *address) != 0 ||
      getsockname (fd, (struct sockaddr *) address, &len) != 0)
    {
      int errsv = errno;

      close (fd);
      errno = errsv;
      return -1;
    }
  return fd;
}

static int
raw_epoll (int fd_a,
           int fd_b)
{
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = EPOLLIN };

  if (ep < 0)
    return -1;
  ev.data.fd = fd_a;
  epoll_ctl (ep, EPOLL_CTL_ADD, fd_a, &ev);
  if (fd_b >= 0)
    {
      ev.data.fd = fd_b;
      epoll_ctl (ep, EPOLL_CTL_ADD, fd_b, &ev);
    }
  return ep;
}

static gpointer
raw_receiver (gpointer data)
{
  Run *run = data;
  struct sockaddr_in address;
  static __thread guint8 bufs[BATCH][RECV_BUFFER];
  struct mmsghdr msgs[BATCH];
  struct iovec iovs[BATCH];
  int fd, ep;

  fd = raw_socket_bound (&address);
  if (fd < 0)
    {
      gate_give_up (run, "socket/bind", NULL);
      return NULL;
    }
  set_rcvbuf (run, fd);
  run->port = ntohs (address.sin_port);
  ep = raw_epoll (fd, run->receiver_wake);

  for (int i = 0; i < BATCH; i++)
    {
      iovs[i].iov_base = bufs[i];
      iovs[i].iov_len = RECV_BUFFER;
      memset (&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }

  gate_arrive (run);
  while (!run->receiver_stop && !run_is_done (run))
    {
      struct epoll_event events[2];
      int n = epoll_wait (ep, events, 2, -1);
      gboolean readable = FALSE;

      if (n < 0 && errno == EINTR)
        continue;
      for (int i = 0; i < n; i++)
        {
          if (events[i].data.fd == run->receiver_wake)
            drain_wake (run->receiver_wake);
          else
            readable = TRUE;
        }
      if (!readable)
        continue;

      while (!run->receiver_stop)
        {
          int got = recvmmsg (fd, msgs, BATCH, MSG_DONTWAIT, NULL);

          if (got < 0 && errno == EINTR)
            continue;
          if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
          if (got < 0)
            {
              run_fail (run, "recvmmsg: %s", g_strerror (errno));
              run->receiver_stop = TRUE;
              break;
            }
          for (int i = 0; i < got; i++)
            {
              gssize len = msgs[i].msg_len;

              /* recvmmsg does not report truncation: a longer datagram
               * than the buffer shows by MSG_TRUNC. */
              if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
                len = RECV_BUFFER + 1;
              if (!receiver_take (run, bufs[i], len))
                break;
            }
          if (got < BATCH)
            break;   /* the queue was empty a moment ago */
        }
      receiver_drained (run);
    }

  close (ep);
  close (fd);
  return NULL;
}

static gpointer
raw_sender (gpointer data)
{
  Run *run = data;
  struct sockaddr_in self, to;
  static __thread guint8 bufs[BATCH][DATAGRAM_SIZE];
  struct mmsghdr msgs[BATCH];
  struct iovec iovs[BATCH];
  int fd, ep;

  fd = raw_socket_bound (&self);
  if (fd < 0)
    {
      gate_give_up (run, "socket/bind", NULL);
      return NULL;
    }
  memset (&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to.sin_port = htons (run->port);
  ep = raw_epoll (run->sender_wake, -1);

  for (int i = 0; i < BATCH; i++)
    {
      iovs[i].iov_base = bufs[i];
      iovs[i].iov_len = DATAGRAM_SIZE;
      memset (&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_name = &to;
      msgs[i].msg_hdr.msg_namelen = sizeof to;
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }

  gate_arrive (run);
  while (!run_is_done (run))
    {
      struct epoll_event event;
      guint32 credit = 0;
      int timeout_ms = 1;

      if (run->sent < run->count)
        {
          credit = sender_credit (run);
          if (credit == 0)
            credit = sender_wait_credit (run);
        }

      if (credit > 0)
        {
          int batch = (int) MIN (credit, BATCH);
          int n;

          for (int i = 0; i < batch; i++)
            datagram_fill (bufs[i], run->sent + i);
          n = sendmmsg (fd, msgs, batch, 0);
          if (n > 0)
            {
              run->sent += n;
              continue;
            }
          if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            {
              run_fail (run, "sendmmsg: %s", g_strerror (errno));
              break;
            }
          /* EAGAIN: try again in a millisecond */
        }
      else if (run->sent == run->count)
        {
          sendto (fd, end_marker, sizeof end_marker, 0, (struct sockaddr *) &to, sizeof to);
          run->ends_sent++;
        }
      else
        {
          sender_check_stall (run);
          timeout_ms = 10;
        }

      if (epoll_wait (ep, &event, 1, timeout_ms) > 0)
        drain_wake (run->sender_wake);
    }

  close (ep);
  close (fd);
  return NULL;
}

/* ---- the runner ---------------------------------------------------------- */

#ifdef BENCH_HAVE_QT
static const GThreadFunc receivers[N_IMPLS] = { qsock_receiver, gio_receiver, raw_receiver, bench_qt_udp_receiver };
static const GThreadFunc senders[N_IMPLS] = { qsock_sender, gio_sender, raw_sender, bench_qt_udp_sender };
#else
static const GThreadFunc receivers[N_IMPLS] = { qsock_receiver, gio_receiver, raw_receiver, NULL };
static const GThreadFunc senders[N_IMPLS] = { qsock_sender, gio_sender, raw_sender, NULL };
#endif

/* A run that never finishes is as wrong as one with bad data. */
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
      gint64 now = g_get_monotonic_time ();

      if (watchdog.deadline != 0 && now >= watchdog.deadline)
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

typedef struct
{
  GArray *rate;      /* datagrams received per second */
  GArray *loss;      /* percent */
  guint64 reordered;
  int     rcvbuf;
} Results;

static gboolean
run_one (Impl      impl,
         guint32   count,
         guint32   window,
         guint     round,
         Results  *results)
{
  g_autofree char *what = g_strdup_printf ("udp %u x %d B [%s, round %u]", count, DATAGRAM_SIZE,
                                           impl_names[impl], round + 1);
  Run run = { .impl = impl, .count = count, .window = window };
  GThread *receiver, *sender;
  gboolean ok;
  double seconds, rate, loss;

  run.sender_wake = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  run.receiver_wake = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (run.sender_wake < 0 || run.receiver_wake < 0)
    {
      fprintf (stderr, "\nFAIL: %s: eventfd: %s\n", what, g_strerror (errno));
      return FALSE;
    }
  run.seen = g_malloc0 (count / 8 + 1);
  g_mutex_init (&run.lock);
  g_cond_init (&run.cond);

  watchdog_arm (what);
  receiver = g_thread_new ("udp-receiver", receivers[impl], &run);
  gate_wait_ready (&run, 1);
  sender = g_thread_new ("udp-sender", senders[impl], &run);
  gate_wait_ready (&run, 2);
  gate_open (&run);
  g_thread_join (receiver);
  g_thread_join (sender);
  watchdog_disarm ();

  ok = run.error == NULL;
  if (!ok)
    fprintf (stderr, "\nFAIL: %s: %s\n", what, run.error);
  else if (run.unique == 0)
    {
      fprintf (stderr, "\nFAIL: %s: no datagram arrived\n", what);
      ok = FALSE;
    }

  if (ok)
    {
      seconds = (double) MAX (run.end_us - run.start_us, 1) / G_USEC_PER_SEC;
      rate = run.unique / seconds;
      loss = 100.0 * (count - run.unique) / count;
      g_array_append_val (results->rate, rate);
      bench_results_add ("udp", impl_names[impl], round + 1, rate, "datagrams/s");
      g_array_append_val (results->loss, loss);
      results->reordered += run.reordered;
      results->rcvbuf = run.rcvbuf;
      fprintf (stderr, "  %-5s round %u: %12.0f datagrams/s  %8.1f MiB/s  loss %6.3f %%  (%u of %u in %.3f s%s)\n",
               impl_names[impl], round + 1, rate, rate * DATAGRAM_SIZE / (1 << 20), loss,
               run.unique, count, seconds, run.reordered > 0 ? ", some reordered" : "");
    }

  close (run.sender_wake);
  close (run.receiver_wake);
  g_free (run.seen);
  g_free (run.error);
  g_mutex_clear (&run.lock);
  g_cond_clear (&run.cond);
  return ok;
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

static double
maximum (GArray *values)
{
  double m = 0;

  for (guint i = 0; i < values->len; i++)
    m = MAX (m, g_array_index (values, double, i));
  return m;
}

static void
print_ratio (double value,
             double raw)
{
  if (value > 0 && raw > 0)
    printf ("  %9.2f", value / raw);
  else
    printf ("  %9s", "-");
}

/* The effective SO_RCVBUF a receiver gets, and so the window. */
static guint32
choose_window (int *rcvbuf)
{
  struct sockaddr_in address;
  int fd = raw_socket_bound (&address);
  int size = RCVBUF;
  socklen_t len = sizeof size;

  *rcvbuf = 0;
  if (fd < 0)
    return MIN_WINDOW;
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (getsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, &len) == 0)
    *rcvbuf = size;
  close (fd);
  return CLAMP ((guint32) (*rcvbuf / CHARGE_PER_DATAGRAM), MIN_WINDOW, MAX_WINDOW);
}

static GStrv
split_list (char **values)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (char **v = values; v != NULL && *v != NULL; v++)
    {
      g_auto(GStrv) parts = g_strsplit (*v, ",", -1);

      for (char **part = parts; *part != NULL; part++)
        if (**part != '\0')
          g_strv_builder_add (builder, g_strstrip (*part));
    }
  return g_strv_builder_end (builder);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context =
    g_option_context_new ("— loopback UDP: qsock-glib vs plain GIO vs recvmmsg/epoll");
  g_autoptr(GError) error = NULL;
  g_autofree char *command = g_strjoinv (" ", argv);
  g_auto(GStrv) impls = NULL;
  gboolean run_impl[N_IMPLS];
  Results results[N_IMPLS];
  double rates[N_IMPLS];
  guint32 count, window;
  int rcvbuf;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }

  count = opt_quick ? 100000 : 1000000;
  if (opt_count > 0)
    count = (guint32) opt_count;
  opt_rounds = MAX (opt_rounds, 1);
  opt_timeout = MAX (opt_timeout, 1);

  impls = split_list (opt_impls);
  for (char **n = impls; *n != NULL; n++)
    if (!g_strv_contains ((const char * const[]) { "qsock", "gio", "raw", "qt", NULL }, *n))
      {
        fprintf (stderr, "--impl: unknown implementation %s\n", *n);
        return 2;
      }
  for (int k = 0; k < N_IMPLS; k++)
    {
      run_impl[k] = receivers[k] != NULL &&
                    (impls[0] == NULL || g_strv_contains ((const char * const *) impls, impl_names[k]));
      results[k].rate = g_array_new (FALSE, FALSE, sizeof (double));
      results[k].loss = g_array_new (FALSE, FALSE, sizeof (double));
      results[k].reordered = 0;
      results[k].rcvbuf = 0;
    }

  signal (SIGPIPE, SIG_IGN);
  table_init ();
  bench_results_open (opt_results);
#ifdef BENCH_HAVE_QT
  if (run_impl[IMPL_QT])
    bench_qt_init (&argc, argv);
#endif
  g_mutex_init (&watchdog.lock);
  g_cond_init (&watchdog.cond);
  g_thread_unref (g_thread_new ("bench-watchdog", watchdog_thread, NULL));
  window = choose_window (&rcvbuf);
  if (opt_window >= 0)
    window = (guint32) opt_window;

  printf ("qsock-bench-udp: qsock-glib %s, GLib %u.%u.%u, %s%s, %u CPUs\n", QSOCK_VERSION_S,
          glib_major_version, glib_minor_version, glib_micro_version,
#ifdef BENCH_HAVE_QT
          "Qt ", bench_qt_version (),
#else
          "no Qt", "",
#endif
          g_get_num_processors ());
  printf ("command: %s\n", command);
  printf ("%u datagrams of %d B over 127.0.0.1 per run; SO_RCVBUF %d asked, %d granted (the kernel doubles it); ",
          count, DATAGRAM_SIZE, RCVBUF, rcvbuf);
  if (window > 0)
    printf ("sender window %u datagrams\n", window);
  else
    printf ("no pacing\n");
  fflush (stdout);

  for (guint round = 0; round < (guint) opt_rounds; round++)
    for (int k = 0; k < N_IMPLS; k++)
      if (run_impl[k] && !run_one (k, count, window, round, &results[k]))
        return 1;

  for (int k = 0; k < N_IMPLS; k++)
    rates[k] = median (results[k].rate);

  /* Padded by hand: "÷" is one column but two bytes. */
  printf ("\n%-5s  %14s  %9s  %12s  %10s  %s  %s  %s  %s\n",
          "impl", "datagrams/s", "MiB/s", "loss % (med)", "loss % max", "qsock÷raw", "  gio÷raw", "   qt÷raw",
          " qsock÷qt");
  printf ("%-5s  %14s  %9s  %12s  %10s  %s  %s  %s  %s\n",
          "-----", "--------------", "---------", "------------", "----------",
          "---------", "---------", "---------", "---------");
  for (int k = 0; k < N_IMPLS; k++)
    {
      if (!run_impl[k])
        continue;
      printf ("%-5s  %14.0f  %9.1f  %12.3f  %10.3f", impl_names[k], rates[k],
              rates[k] * DATAGRAM_SIZE / (1 << 20), median (results[k].loss), maximum (results[k].loss));
      if (k == IMPL_QSOCK)
        {
          print_ratio (rates[IMPL_QSOCK], rates[IMPL_RAW]);
          print_ratio (rates[IMPL_GIO], rates[IMPL_RAW]);
          print_ratio (rates[IMPL_QT], rates[IMPL_RAW]);
          print_ratio (rates[IMPL_QSOCK], rates[IMPL_QT]);
        }
      printf ("\n");
    }
  printf ("\nMedians of %u interleaved rounds of %u datagrams of %d B; higher is faster.\n",
          (guint) opt_rounds, count, DATAGRAM_SIZE);
  for (int k = 0; k < N_IMPLS; k++)
    if (run_impl[k] && results[k].reordered > 0)
      printf ("%s: %" G_GUINT64_FORMAT " datagrams arrived after a later one (not an error on UDP).\n",
              impl_names[k], results[k].reordered);

  for (int k = 0; k < N_IMPLS; k++)
    {
      g_array_unref (results[k].rate);
      g_array_unref (results[k].loss);
    }
  return 0;
}
