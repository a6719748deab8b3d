/* test-wait.c: the blocking wait_for_* calls, with no main loop at all
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each case runs in a thread that pushes its own GMainContext and never
 * iterates it; the socket is made there. Qt's waitFor* functions work
 * without an event loop and emit their signals synchronously inside the
 * call (QT-BEHAVIOUR.md §3.6), so the recorder must see "s:" entries only,
 * from the thread that owns the socket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <qsock-glib/qsock.h>

#include "test-util.h"

#define AS(s) QSOCK_ABSTRACT (s)
#define DEV(s) QSOCK_IODEVICE (s)
#define RW QSOCK_OPEN_MODE_READ_WRITE
#define ANY_IP QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP

#define CLOSE_SEQUENCE                                                        \
  "s:error-occurred(RemoteHostClosed)@Connected "                             \
  "s:state-changed(Closing)@Closing "                                         \
  "s:state-changed(Unconnected)@Unconnected "                                 \
  "s:read-channel-finished@Unconnected "                                      \
  "s:disconnected@Unconnected"

/* ---- running a case in a thread without a loop ------------------------- */

typedef struct
{
  GTestFunc func;
} NoLoopCase;

static gpointer
no_loop_thread (gpointer data)
{
  NoLoopCase *c = data;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  c->func ();
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  return NULL;
}

static void
run_without_loop (gconstpointer data)
{
  NoLoopCase c = { .func = (GTestFunc) data };

  g_thread_join (g_thread_new ("test-no-loop", no_loop_thread, &c));
}

#define add_no_loop_test(path, func) \
  g_test_add_data_func (path, (gconstpointer) (func), run_without_loop)

/* ---- peers ------------------------------------------------------------- */

typedef struct
{
  int         fd;
  guint       delay_ms;
  const char *data;       /* written after the delay; NULL: close instead */
} DelayedPeer;

/* The delay only makes the wait really block for a while; the result does
 * not depend on it. */
static gpointer
delayed_peer_thread (gpointer data)
{
  DelayedPeer *p = data;

  g_usleep (p->delay_ms * 1000);
  if (p->data != NULL)
    tu_write_all (p->fd, p->data, strlen (p->data));
  else
    close (p->fd);
  return NULL;
}

/* A client connected through wait_for_connected; *peer_fd is the accepted
 * end. */
static QSockTcp *
connected_without_loop (int *peer_fd)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  g_assert_true (qsock_abstract_wait_for_connected (AS (sock), 5000));
  *peer_fd = tu_accept (lfd, 5000);
  close (lfd);
  return sock;
}

/* After the waits are done: running the socket's context now must not
 * produce anything more; the waits already emitted all there was. */
static void
assert_nothing_left_for_the_loop (TuRecorder *rec)
{
  guint before = rec->events->len;

  tu_spin (100);
  g_assert_cmpuint (rec->events->len, ==, before);
}

static gint64
elapsed_ms (gint64 since)
{
  return (g_get_monotonic_time () - since) / 1000;
}

/* ======================================================================
 * wait_for_connected
 * ====================================================================== */

static void
test_connected (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = FALSE;
  int pfd;

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTING);
  tu_recorder_reset (rec);

  TU_REC_CALL (rec, ok = qsock_abstract_wait_for_connected (AS (sock), 5000));
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:state-changed(Connected)@Connected s:connected@Connected");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  pfd = tu_accept (lfd, 5000);
  g_assert_cmpuint (qsock_abstract_get_local_port (AS (sock)), ==, tu_peer_port_of (pfd));

  /* Already connected: TRUE at once, nothing emitted. */
  TU_REC_CALL (rec, ok = qsock_abstract_wait_for_connected (AS (sock), 5000));
  g_assert_true (ok);
  g_assert_cmpuint (rec->events->len, ==, 2);
  assert_nothing_left_for_the_loop (rec);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
}

static void
test_connected_refused (void)
{
  guint16 port;
  int rfd = tu_refusing_socket (&port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = TRUE;
  gint64 start;

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  tu_recorder_reset (rec);

  TU_REC_CALL (rec, ok = qsock_abstract_wait_for_connected (AS (sock), 5000));
  g_assert_false (ok);
  tu_recorder_assert (rec,
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:error-occurred(ConnectionRefused)@Unconnected");
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_CONNECTION_REFUSED);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Connection refused");
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));

  /* Unconnected on entry: FALSE at once. */
  start = g_get_monotonic_time ();
  TU_REC_CALL (rec, ok = qsock_abstract_wait_for_connected (AS (sock), 5000));
  g_assert_false (ok);
  g_assert_cmpint (elapsed_ms (start), <, 2000 * tu_timeout_scale ());
  g_assert_cmpuint (rec->events->len, ==, 2);
  assert_nothing_left_for_the_loop (rec);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (rfd);
}

static void
test_connected_host_lookup (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = FALSE;
  int pfd;

  qsock_abstract_connect_to_host (AS (sock), "localhost", port, RW, ANY_IP);
  /* Without a loop the lookup cannot finish by itself. */
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_HOST_LOOKUP);
  tu_recorder_reset (rec);

  TU_REC_CALL (rec, ok = qsock_abstract_wait_for_connected (AS (sock), 10000));
  g_assert_true (ok);
  tu_recorder_assert (rec,
                      "s:state-changed(Connecting)@Connecting "
                      "s:host-found@Connecting "
                      "s:state-changed(Connected)@Connected "
                      "s:connected@Connected");
  g_assert_cmpstr (qsock_abstract_get_peer_name (AS (sock)), ==, "localhost");
  pfd = tu_accept (lfd, 5000);
  assert_nothing_left_for_the_loop (rec);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
}

static void
test_connected_host_not_found (void)
{
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = TRUE;

  qsock_abstract_connect_to_host (AS (sock), "nosuchhost.invalid", 80, RW, ANY_IP);
  tu_recorder_reset (rec);

  TU_REC_CALL (rec, ok = qsock_abstract_wait_for_connected (AS (sock), 20000));
  g_assert_false (ok);
  tu_recorder_assert (rec,
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:error-occurred(HostNotFound)@Unconnected");
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_HOST_NOT_FOUND);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Host not found");

  tu_recorder_free (rec);
  g_object_unref (sock);
}

/* A connect that hangs on loopback: a listener with backlog 0 whose queue
 * is full drops further SYNs (Linux), so the next connect stays in
 * SYN_SENT. Returns the listener, or -1 if this kernel completes the
 * connect anyway. */
static int
hanging_listener (guint16 *port, GArray *fillers)
{
  int lfd = tu_listen (AF_INET, 0, port);

  g_assert_cmpint (lfd, >=, 0);
  for (guint i = 0; i < 8; i++)
    {
      struct sockaddr_in sin = { .sin_family = AF_INET };
      struct pollfd pfd;
      int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

      sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      sin.sin_port = htons (*port);
      g_assert_cmpint (fd, >=, 0);
      g_array_append_val (fillers, fd);
      if (connect (fd, (struct sockaddr *) &sin, sizeof sin) == 0)
        continue;
      g_assert_cmpint (errno, ==, EINPROGRESS);

      pfd = (struct pollfd) { .fd = fd, .events = POLLOUT };
      if (poll (&pfd, 1, 300) == 0)
        return lfd;             /* this one hangs: the queue is full */
    }

  close (lfd);
  return -1;
}

static void
test_connected_timeout (void)
{
  GArray *fillers = g_array_new (FALSE, FALSE, sizeof (int));
  QSockTcp *sock;
  TuRecorder *rec;
  gboolean ok = TRUE;
  guint16 port;
  gint64 start, took;
  int lfd = hanging_listener (&port, fillers);

  if (lfd < 0)
    {
      g_test_skip ("cannot make a loopback connect hang here (full listen queue does not drop SYNs)");
      goto out;
    }

  sock = qsock_tcp_new ();
  rec = tu_recorder_new (sock);
  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  tu_recorder_reset (rec);

  start = g_get_monotonic_time ();
  TU_REC_CALL (rec, ok = qsock_abstract_wait_for_connected (AS (sock), 300));
  took = elapsed_ms (start);
  g_assert_false (ok);
  g_assert_cmpint (took, >=, 250);
  g_assert_cmpint (took, <, 5000 * tu_timeout_scale ());

  /* §8.4: stateChanged(Unconnected) but no errorOccurred; the device stays
   * open. */
  tu_recorder_assert (rec, "s:state-changed(Unconnected)@Unconnected");
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Socket operation timed out");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (lfd);
out:
  for (guint i = 0; i < fillers->len; i++)
    close (g_array_index (fillers, int, i));
  g_array_unref (fillers);
}

/* ======================================================================
 * wait_for_ready_read
 * ====================================================================== */

static void
test_ready_read (void)
{
  int pfd;
  QSockTcp *sock = connected_without_loop (&pfd);
  TuRecorder *rec = tu_recorder_new (sock);
  DelayedPeer later = { 0 };
  GThread *peer;
  gboolean ok = FALSE;

  /* Data already there. */
  tu_write_all (pfd, "hello", 5);
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), 5000));
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:ready-read@Connected");
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 5);

  /* -1 waits forever; more data is coming. */
  tu_write_all (pfd, "!", 1);
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), -1));
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:ready-read@Connected s:ready-read@Connected");
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 6);

  /* Data that arrives during the wait. */
  later = (DelayedPeer) { .fd = pfd, .delay_ms = 100, .data = "world" };
  peer = g_thread_new ("test-delayed-peer", delayed_peer_thread, &later);
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), 5000));
  g_thread_join (peer);
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:ready-read@Connected s:ready-read@Connected s:ready-read@Connected");
  TU_REC_CALL (rec, {
    GBytes *all = qsock_iodevice_read_all (DEV (sock));
    g_assert_cmpmem (g_bytes_get_data (all, NULL), g_bytes_get_size (all), "hello!world", 11);
    g_bytes_unref (all);
  });
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  assert_nothing_left_for_the_loop (rec);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
}

static void
test_ready_read_timeout (void)
{
  int pfd;
  QSockTcp *sock = connected_without_loop (&pfd);
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = TRUE;
  gint64 start, took;

  start = g_get_monotonic_time ();
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), 200));
  took = elapsed_ms (start);
  g_assert_false (ok);
  g_assert_cmpint (took, >=, 150);
  g_assert_cmpint (took, <, 5000 * tu_timeout_scale ());

  /* §8.4: errorOccurred is emitted; the connection stays. */
  tu_recorder_assert (rec, "s:error-occurred(SocketTimeout)@Connected");
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Network operation timed out");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));

  /* Sticky: a later success does not reset the error. */
  tu_recorder_reset (rec);
  tu_write_all (pfd, "x", 1);
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), 5000));
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:ready-read@Connected");
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "y", 1), ==, 1);
  g_assert_true (qsock_iodevice_wait_for_bytes_written (DEV (sock), 5000));
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT);

  /* taskQtBug7054TimeoutErrorResetting: a remote close seen by a later
   * wait reports RemoteHostClosedError, not the stale timeout. */
  tu_recorder_reset (rec);
  close (pfd);
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), 5000));
  g_assert_false (ok);
  tu_recorder_assert (rec, CLOSE_SEQUENCE);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED);

  /* Unconnected: FALSE at once, without a warning. */
  start = g_get_monotonic_time ();
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), 5000));
  g_assert_false (ok);
  g_assert_cmpint (elapsed_ms (start), <, 2000 * tu_timeout_scale ());
  g_assert_cmpuint (rec->events->len, ==, 5);

  tu_recorder_free (rec);
  g_object_unref (sock);
}

/* In Connecting state both waits connect first (Qt calls
 * waitForConnected). */
static void
test_ready_read_while_connecting (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = FALSE;
  int pfd;

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTING);
  tu_recorder_reset (rec);
  /* The kernel completes the handshake; the socket has not looked yet. */
  pfd = tu_accept (lfd, 5000);
  tu_write_all (pfd, "hi", 2);

  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), 5000));
  g_assert_true (ok);
  tu_recorder_assert (rec,
                      "s:state-changed(Connected)@Connected "
                      "s:connected@Connected "
                      "s:ready-read@Connected");
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 2);
  assert_nothing_left_for_the_loop (rec);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
}

static void
test_bytes_written_while_connecting (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = FALSE;
  char buf[5];
  int pfd;

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "early", 5), ==, 5);
  tu_recorder_reset (rec);

  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_bytes_written (DEV (sock), 5000));
  g_assert_true (ok);
  tu_recorder_assert (rec,
                      "s:state-changed(Connected)@Connected "
                      "s:connected@Connected "
                      "s:bytes-written(5)@Connected");
  pfd = tu_accept (lfd, 5000);
  tu_read_exact (pfd, buf, 5, 5000);
  g_assert_cmpmem (buf, 5, "early", 5);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
}

/* A peer that answers "pong" to "ping". */
static gpointer
pong_thread (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);
  char buf[4];

  tu_read_exact (fd, buf, 4, 10000);
  g_assert_cmpmem (buf, 4, "ping", 4);
  tu_write_all (fd, "pong", 4);
  return NULL;
}

/* waitForReadyRead also writes what is queued: the answer cannot come
 * before the question went out. */
static void
test_ready_read_drives_writes (void)
{
  int pfd;
  QSockTcp *sock = connected_without_loop (&pfd);
  TuRecorder *rec = tu_recorder_new (sock);
  GThread *peer = g_thread_new ("test-pong", pong_thread, GINT_TO_POINTER (pfd));
  gboolean ok = FALSE;

  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "ping", 4), ==, 4);
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), 5000));
  g_thread_join (peer);
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:bytes-written(4)@Connected s:ready-read@Connected");
  assert_nothing_left_for_the_loop (rec);
  TU_REC_CALL (rec, {
    GBytes *all = qsock_iodevice_read_all (DEV (sock));
    g_assert_cmpmem (g_bytes_get_data (all, NULL), g_bytes_get_size (all), "pong", 4);
    g_bytes_unref (all);
  });

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
}

/* Timeouts are milliseconds, not whole seconds (GSocket's own timeout is
 * in seconds). */
static void
test_timeout_precision (void)
{
  int pfd;
  QSockTcp *sock = connected_without_loop (&pfd);
  gint64 start, took;

  start = g_get_monotonic_time ();
  g_assert_false (qsock_iodevice_wait_for_ready_read (DEV (sock), 1300));
  took = elapsed_ms (start);
  g_assert_cmpint (took, >=, 1250);
  g_assert_cmpint (took, <, 1300 + 600 * tu_timeout_scale ());

  start = g_get_monotonic_time ();
  g_assert_false (qsock_abstract_wait_for_disconnected (AS (sock), 700));
  took = elapsed_ms (start);
  g_assert_cmpint (took, >=, 650);
  g_assert_cmpint (took, <, 700 + 600 * tu_timeout_scale ());

  g_object_unref (sock);
  close (pfd);
}

/* ======================================================================
 * wait_for_bytes_written
 * ====================================================================== */

static void
test_bytes_written (void)
{
  int pfd;
  QSockTcp *sock = connected_without_loop (&pfd);
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = FALSE;
  gint64 start;
  char buf[10];

  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "0123456789", 10), ==, 10);
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_bytes_written (DEV (sock), 5000));
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:bytes-written(10)@Connected");
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);
  tu_read_exact (pfd, buf, 10, 5000);
  g_assert_cmpmem (buf, 10, "0123456789", 10);

  /* Nothing queued: FALSE at once. */
  start = g_get_monotonic_time ();
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_bytes_written (DEV (sock), 5000));
  g_assert_false (ok);
  g_assert_cmpint (elapsed_ms (start), <, 2000 * tu_timeout_scale ());
  g_assert_cmpuint (rec->events->len, ==, 1);
  assert_nothing_left_for_the_loop (rec);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
}

static void
test_bytes_written_large (void)
{
  const guint64 total = 4 * 1024 * 1024;
  int pfd;
  QSockTcp *sock = connected_without_loop (&pfd);
  TuRecorder *rec = tu_recorder_new (sock);
  TuPeerJob job = { 0 };
  g_autofree char *expected = tu_pattern_checksum (total);
  GThread *sink;
  guint64 off = 0;
  guint waits = 0;

  while (off < total)
    {
      gsize len;
      const guint8 *p = tu_pattern_at (off, total - off, &len);
      g_assert_cmpint (qsock_iodevice_write (DEV (sock), (const char *) p, len), ==, len);
      off += len;
    }

  job.fd = pfd;
  sink = tu_sink_start (&job);
  /* Each successful wait writes at least one chunk. */
  while (qsock_iodevice_bytes_to_write (DEV (sock)) > 0)
    {
      gint64 before = rec->bytes_written;

      TU_REC_CALL (rec, g_assert_true (qsock_iodevice_wait_for_bytes_written (DEV (sock), 10000)));
      g_assert_cmpint (rec->bytes_written, >, before);
      g_assert_cmpuint (++waits, <, 100000);
    }
  g_assert_cmpint (rec->bytes_written, ==, total);
  g_assert_cmpuint (rec->n_wrong_thread, ==, 0);

  qsock_abstract_disconnect_from_host (AS (sock));
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_thread_join (sink);
  g_assert_cmpuint (job.transferred, ==, total);
  g_assert_cmpstr (job.checksum, ==, expected);

  g_free (job.checksum);
  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
}

static void
test_bytes_written_unconnected (void)
{
  QSockTcp *sock = qsock_tcp_new ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*not allowed in UnconnectedState*");
  g_assert_false (qsock_iodevice_wait_for_bytes_written (DEV (sock), 1000));
  g_test_assert_expected_messages ();

  g_object_unref (sock);
}

/* ======================================================================
 * wait_for_disconnected
 * ====================================================================== */

static void
test_disconnected (void)
{
  int pfd;
  QSockTcp *sock = connected_without_loop (&pfd);
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = FALSE;

  close (pfd);
  TU_REC_CALL (rec, ok = qsock_abstract_wait_for_disconnected (AS (sock), 5000));
  g_assert_true (ok);
  tu_recorder_assert (rec, CLOSE_SEQUENCE);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  assert_nothing_left_for_the_loop (rec);

  /* Unconnected on entry: a warning and FALSE. */
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*not allowed in UnconnectedState*");
  g_assert_false (qsock_abstract_wait_for_disconnected (AS (sock), 1000));
  g_test_assert_expected_messages ();

  tu_recorder_free (rec);
  g_object_unref (sock);
}

static void
test_disconnected_during_wait (void)
{
  int pfd;
  QSockTcp *sock = connected_without_loop (&pfd);
  TuRecorder *rec = tu_recorder_new (sock);
  DelayedPeer later;
  GThread *peer;
  gboolean ok = FALSE;

  /* Unread data stays readable after the wait. */
  tu_write_all (pfd, "bye", 3);
  later = (DelayedPeer) { .fd = pfd, .delay_ms = 100, .data = NULL };
  peer = g_thread_new ("test-delayed-peer", delayed_peer_thread, &later);
  TU_REC_CALL (rec, ok = qsock_abstract_wait_for_disconnected (AS (sock), 5000));
  g_thread_join (peer);
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:ready-read@Connected " CLOSE_SEQUENCE);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 3);

  tu_recorder_free (rec);
  g_object_unref (sock);
}

static void
test_disconnected_timeout (void)
{
  int pfd;
  QSockTcp *sock = connected_without_loop (&pfd);
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = TRUE;
  gint64 start, took;

  start = g_get_monotonic_time ();
  TU_REC_CALL (rec, ok = qsock_abstract_wait_for_disconnected (AS (sock), 200));
  took = elapsed_ms (start);
  g_assert_false (ok);
  g_assert_cmpint (took, >=, 150);
  g_assert_cmpint (took, <, 5000 * tu_timeout_scale ());
  tu_recorder_assert (rec, "s:error-occurred(SocketTimeout)@Connected");
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Network operation timed out");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));

  /* Still usable. */
  tu_write_all (pfd, "ok", 2);
  g_assert_true (qsock_iodevice_wait_for_ready_read (DEV (sock), 5000));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 2);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
}

static void
test_disconnected_closing (void)
{
  const guint64 total = 4 * 1024 * 1024;
  int pfd;
  QSockTcp *sock = connected_without_loop (&pfd);
  TuRecorder *rec = tu_recorder_new (sock);
  TuPeerJob job = { 0 };
  g_autofree char *expected = tu_pattern_checksum (total);
  g_autofree char *sequence = g_strdup_printf (
      "s:state-changed(Closing)@Closing "
      "s:bytes-written(%" G_GUINT64_FORMAT ")@Closing "
      "s:state-changed(Unconnected)@Unconnected "
      "s:read-channel-finished@Unconnected "
      "s:disconnected@Unconnected", total);
  GThread *sink;
  guint64 off = 0;
  gboolean ok = FALSE;

  while (off < total)
    {
      gsize len;
      const guint8 *p = tu_pattern_at (off, total - off, &len);
      g_assert_cmpint (qsock_iodevice_write (DEV (sock), (const char *) p, len), ==, len);
      off += len;
    }
  job.fd = pfd;
  sink = tu_sink_start (&job);

  TU_REC_CALL (rec, {
    qsock_abstract_disconnect_from_host (AS (sock));
    g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CLOSING);
    ok = qsock_abstract_wait_for_disconnected (AS (sock), 20000);
  });
  g_assert_true (ok);
  tu_recorder_assert (rec, sequence);
  assert_nothing_left_for_the_loop (rec);

  g_thread_join (sink);
  g_assert_cmpuint (job.transferred, ==, total);
  g_assert_cmpstr (job.checksum, ==, expected);

  g_free (job.checksum);
  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
}

/* ======================================================================
 * With a loop: waiting leaves nothing behind for the loop
 * ====================================================================== */

/* tst_qtcpsocket::readyReadSignalsAfterWaitForReadyRead */
static void
test_no_extra_ready_read_after_wait (void)
{
  int pfd;
  QSockTcp *sock = tu_connected_pair (&pfd);
  TuRecorder *rec = tu_recorder_new (sock);

  tu_write_all (pfd, "data", 4);
  TU_REC_CALL (rec, g_assert_true (qsock_iodevice_wait_for_ready_read (DEV (sock), 5000)));
  tu_recorder_assert (rec, "s:ready-read@Connected");
  g_bytes_unref (qsock_iodevice_read_all (DEV (sock)));

  tu_spin (200);
  tu_recorder_assert (rec, "s:ready-read@Connected");

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  add_no_loop_test ("/wait/connected/success", test_connected);
  add_no_loop_test ("/wait/connected/refused", test_connected_refused);
  add_no_loop_test ("/wait/connected/host-lookup", test_connected_host_lookup);
  add_no_loop_test ("/wait/connected/host-not-found", test_connected_host_not_found);
  add_no_loop_test ("/wait/connected/timeout", test_connected_timeout);
  add_no_loop_test ("/wait/ready-read/data", test_ready_read);
  add_no_loop_test ("/wait/ready-read/timeout-and-sticky-error", test_ready_read_timeout);
  add_no_loop_test ("/wait/ready-read/while-connecting", test_ready_read_while_connecting);
  add_no_loop_test ("/wait/ready-read/drives-writes", test_ready_read_drives_writes);
  add_no_loop_test ("/wait/timeout-precision", test_timeout_precision);
  add_no_loop_test ("/wait/bytes-written/small", test_bytes_written);
  add_no_loop_test ("/wait/bytes-written/while-connecting", test_bytes_written_while_connecting);
  add_no_loop_test ("/wait/bytes-written/large", test_bytes_written_large);
  add_no_loop_test ("/wait/bytes-written/unconnected", test_bytes_written_unconnected);
  add_no_loop_test ("/wait/disconnected/peer-closed", test_disconnected);
  add_no_loop_test ("/wait/disconnected/during-wait", test_disconnected_during_wait);
  add_no_loop_test ("/wait/disconnected/timeout", test_disconnected_timeout);
  add_no_loop_test ("/wait/disconnected/closing", test_disconnected_closing);
  g_test_add_func ("/wait/with-loop/no-extra-ready-read", test_no_extra_ready_read_after_wait);

  return g_test_run ();
}
