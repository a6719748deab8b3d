/* test-util.c: what the socket test suites share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test-util.h"

/* ---- driving the main context ------------------------------------------ */

struct _TuDeadline
{
  GMainContext *context;
  GSource      *timeout;
  GSource      *tick;
  gboolean      expired;
};

static gboolean
deadline_expire_cb (gpointer user_data)
{
  TuDeadline *deadline = user_data;

  deadline->expired = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
deadline_tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Valgrind and sanitizers slow everything down; TU_TIMEOUT_SCALE stretches
 * every guard without touching the tests. */
guint
tu_timeout_scale (void)
{
  const char *scale = g_getenv ("TU_TIMEOUT_SCALE");
  guint64 factor = scale != NULL ? g_ascii_strtoull (scale, NULL, 10) : 1;

  return (guint) CLAMP (factor, 1, 1000);
}

static guint
scaled (guint ms)
{
  return (guint) MIN ((guint64) ms * tu_timeout_scale (), G_MAXUINT);
}

TuDeadline *
tu_deadline_new (guint timeout_ms)
{
  TuDeadline *deadline = g_new0 (TuDeadline, 1);

  deadline->context = g_main_context_ref_thread_default ();

  deadline->timeout = g_timeout_source_new (scaled (timeout_ms));
  g_source_set_callback (deadline->timeout, deadline_expire_cb, deadline, NULL);
  g_source_set_name (deadline->timeout, "[test] deadline");
  g_source_attach (deadline->timeout, deadline->context);

  deadline->tick = g_timeout_source_new (5);
  g_source_set_callback (deadline->tick, deadline_tick_cb, NULL, NULL);
  g_source_set_name (deadline->tick, "[test] tick");
  g_source_attach (deadline->tick, deadline->context);

  return deadline;
}

gboolean
tu_deadline_expired (TuDeadline *deadline)
{
  return deadline->expired;
}

void
tu_deadline_iterate (TuDeadline *deadline)
{
  g_main_context_iteration (deadline->context, TRUE);
}

void
tu_deadline_free (TuDeadline *deadline)
{
  g_source_destroy (deadline->timeout);
  g_source_unref (deadline->timeout);
  g_source_destroy (deadline->tick);
  g_source_unref (deadline->tick);
  g_main_context_unref (deadline->context);
  g_free (deadline);
}

void
tu_spin (guint ms)
{
  TuDeadline *deadline = tu_deadline_new (ms);

  while (!tu_deadline_expired (deadline))
    tu_deadline_iterate (deadline);
  tu_deadline_free (deadline);
}

/* ---- names ------------------------------------------------------------- */

const char *
tu_state_name (QSockSocketState state)
{
  switch (state)
    {
    case QSOCK_SOCKET_STATE_UNCONNECTED: return "Unconnected";
    case QSOCK_SOCKET_STATE_HOST_LOOKUP: return "HostLookup";
    case QSOCK_SOCKET_STATE_CONNECTING: return "Connecting";
    case QSOCK_SOCKET_STATE_CONNECTED: return "Connected";
    case QSOCK_SOCKET_STATE_BOUND: return "Bound";
    case QSOCK_SOCKET_STATE_LISTENING: return "Listening";
    case QSOCK_SOCKET_STATE_CLOSING: return "Closing";
    default: return "BadState";
    }
}

const char *
tu_error_name (QSockSocketError error)
{
  switch (error)
    {
    case QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET: return "UnknownSocket";
    case QSOCK_SOCKET_ERROR_CONNECTION_REFUSED: return "ConnectionRefused";
    case QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED: return "RemoteHostClosed";
    case QSOCK_SOCKET_ERROR_HOST_NOT_FOUND: return "HostNotFound";
    case QSOCK_SOCKET_ERROR_SOCKET_ACCESS: return "SocketAccess";
    case QSOCK_SOCKET_ERROR_SOCKET_RESOURCE: return "SocketResource";
    case QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT: return "SocketTimeout";
    case QSOCK_SOCKET_ERROR_DATAGRAM_TOO_LARGE: return "DatagramTooLarge";
    case QSOCK_SOCKET_ERROR_NETWORK: return "Network";
    case QSOCK_SOCKET_ERROR_ADDRESS_IN_USE: return "AddressInUse";
    case QSOCK_SOCKET_ERROR_SOCKET_ADDRESS_NOT_AVAILABLE: return "SocketAddressNotAvailable";
    case QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION: return "UnsupportedSocketOperation";
    case QSOCK_SOCKET_ERROR_UNFINISHED_SOCKET_OPERATION: return "UnfinishedSocketOperation";
    case QSOCK_SOCKET_ERROR_OPERATION: return "Operation";
    case QSOCK_SOCKET_ERROR_TEMPORARY: return "Temporary";
    default: return "OtherError";
    }
}

/* ---- signal recorder --------------------------------------------------- */

typedef struct
{
  gboolean    sync;
  const char *name;
  gboolean    has_arg;
  gint64      arg;
  gboolean    arg_is_state;
  QSockSocketState state;
} TuEvent;

static void
record (TuRecorder *rec,
        const char *name,
        gboolean    has_arg,
        gint64      arg,
        gboolean    arg_is_state)
{
  TuEvent ev = {
    .sync = rec->in_call,
    .name = name,
    .has_arg = has_arg,
    .arg = arg,
    .arg_is_state = arg_is_state,
    .state = qsock_abstract_get_state (rec->sock),
  };

  if (g_thread_self () != rec->owner)
    rec->n_wrong_thread++;

  g_array_append_val (rec->events, ev);
}

static void
on_state_changed (QSockAbstract *sock, QSockSocketState state, TuRecorder *rec)
{
  rec->n_state_changes++;
  record (rec, "state-changed", TRUE, state, TRUE);
}

static void
on_error_occurred (QSockAbstract *sock, QSockSocketError error, TuRecorder *rec)
{
  rec->n_errors++;
  rec->last_error = error;
  record (rec, "error-occurred", TRUE, error, FALSE);
}

static void
on_host_found (QSockAbstract *sock, TuRecorder *rec)
{
  rec->n_host_found++;
  record (rec, "host-found", FALSE, 0, FALSE);
}

static void
on_connected (QSockAbstract *sock, TuRecorder *rec)
{
  rec->n_connected++;
  record (rec, "connected", FALSE, 0, FALSE);
}

static void
on_disconnected (QSockAbstract *sock, TuRecorder *rec)
{
  rec->n_disconnected++;
  record (rec, "disconnected", FALSE, 0, FALSE);
}

static void
on_ready_read (QSockIODevice *dev, TuRecorder *rec)
{
  rec->n_ready_read++;
  record (rec, "ready-read", FALSE, 0, FALSE);
}

static void
on_bytes_written (QSockIODevice *dev, gint64 bytes, TuRecorder *rec)
{
  TuEvent *last;
  QSockSocketState state = qsock_abstract_get_state (rec->sock);

  rec->bytes_written += bytes;

  /* Qt leaves the split into chunks open; only the sum is compared. */
  if (rec->events->len > 0)
    {
      last = &g_array_index (rec->events, TuEvent, rec->events->len - 1);
      if (g_str_equal (last->name, "bytes-written") &&
          last->sync == rec->in_call && last->state == state &&
          g_thread_self () == rec->owner)
        {
          last->arg += bytes;
          return;
        }
    }
  record (rec, "bytes-written", TRUE, bytes, FALSE);
}

static void
on_about_to_close (QSockIODevice *dev, TuRecorder *rec)
{
  rec->n_about_to_close++;
  record (rec, "about-to-close", FALSE, 0, FALSE);
}

static void
on_read_channel_finished (QSockIODevice *dev, TuRecorder *rec)
{
  rec->n_read_channel_finished++;
  record (rec, "read-channel-finished", FALSE, 0, FALSE);
}

TuRecorder *
tu_recorder_new (gpointer sock)
{
  TuRecorder *rec = g_new0 (TuRecorder, 1);
  guint i = 0;

  g_assert_true (QSOCK_IS_ABSTRACT (sock));
  rec->sock = g_object_ref (sock);
  rec->owner = g_thread_self ();
  rec->events = g_array_new (FALSE, TRUE, sizeof (TuEvent));
  rec->last_error = QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET;

#define CONNECT(sig, cb) \
  rec->handlers[i++] = g_signal_connect (sock, sig, G_CALLBACK (cb), rec)
  CONNECT ("state-changed", on_state_changed);
  CONNECT ("error-occurred", on_error_occurred);
  CONNECT ("host-found", on_host_found);
  CONNECT ("connected", on_connected);
  CONNECT ("disconnected", on_disconnected);
  CONNECT ("ready-read", on_ready_read);
  CONNECT ("bytes-written", on_bytes_written);
  CONNECT ("about-to-close", on_about_to_close);
  CONNECT ("read-channel-finished", on_read_channel_finished);
#undef CONNECT
  g_assert_cmpuint (i, ==, G_N_ELEMENTS (rec->handlers));

  return rec;
}

void
tu_recorder_reset (TuRecorder *rec)
{
  g_array_set_size (rec->events, 0);
  rec->n_ready_read = rec->n_connected = rec->n_disconnected = 0;
  rec->n_errors = rec->n_state_changes = rec->n_host_found = 0;
  rec->n_about_to_close = rec->n_read_channel_finished = 0;
  rec->bytes_written = 0;
  rec->last_error = QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET;
}

void
tu_recorder_free (TuRecorder *rec)
{
  for (guint i = 0; i < G_N_ELEMENTS (rec->handlers); i++)
    g_signal_handler_disconnect (rec->sock, rec->handlers[i]);
  g_object_unref (rec->sock);
  g_array_unref (rec->events);
  g_free (rec);
}

char *
tu_recorder_dump (TuRecorder *rec)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < rec->events->len; i++)
    {
      const TuEvent *ev = &g_array_index (rec->events, TuEvent, i);

      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append_printf (out, "%s:%s", ev->sync ? "s" : "l", ev->name);
      if (ev->has_arg && ev->arg_is_state)
        g_string_append_printf (out, "(%s)", tu_state_name (ev->arg));
      else if (ev->has_arg && g_str_equal (ev->name, "error-occurred"))
        g_string_append_printf (out, "(%s)", tu_error_name (ev->arg));
      else if (ev->has_arg)
        g_string_append_printf (out, "(%" G_GINT64_FORMAT ")", ev->arg);
      g_string_append_printf (out, "@%s", tu_state_name (ev->state));
    }

  return g_string_free (out, FALSE);
}

/* ---- plain POSIX peers on loopback ------------------------------------- */

static socklen_t
loopback_address (int family, guint16 port, struct sockaddr_storage *ss)
{
  memset (ss, 0, sizeof *ss);
  if (family == AF_INET6)
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = in6addr_loopback;
      sin6->sin6_port = htons (port);
      return sizeof *sin6;
    }
  else
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) ss;
      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      sin->sin_port = htons (port);
      return sizeof *sin;
    }
}

gboolean
tu_ipv6_loopback_available (void)
{
  guint16 port;
  int fd = tu_listen (AF_INET6, 1, &port);

  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

static guint16
port_of (const struct sockaddr_storage *ss)
{
  if (ss->ss_family == AF_INET6)
    return ntohs (((const struct sockaddr_in6 *) ss)->sin6_port);
  return ntohs (((const struct sockaddr_in *) ss)->sin_port);
}

guint16
tu_local_port_of (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;

  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &ss, &len), ==, 0);
  return port_of (&ss);
}

guint16
tu_peer_port_of (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;

  g_assert_cmpint (getpeername (fd, (struct sockaddr *) &ss, &len), ==, 0);
  return port_of (&ss);
}

int
tu_listen (int family, int backlog, guint16 *port)
{
  struct sockaddr_storage ss;
  socklen_t len = loopback_address (family, 0, &ss);
  int fd = socket (family, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  if (bind (fd, (struct sockaddr *) &ss, len) < 0 || listen (fd, backlog) < 0)
    {
      close (fd);
      return -1;
    }
  *port = tu_local_port_of (fd);
  return fd;
}

int
tu_refusing_socket (guint16 *port)
{
  struct sockaddr_storage ss;
  socklen_t len = loopback_address (AF_INET, 0, &ss);
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &ss, len), ==, 0);
  *port = tu_local_port_of (fd);
  return fd;
}

static gboolean
poll_one (int fd, short events, guint timeout_ms)
{
  struct pollfd pfd = { .fd = fd, .events = events };
  gint64 deadline = g_get_monotonic_time () + (gint64) scaled (timeout_ms) * 1000;

  for (;;)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      int r;

      if (left < 0)
        left = 0;
      r = poll (&pfd, 1, (int) ((left + 999) / 1000));
      if (r > 0)
        return TRUE;
      if (r == 0 && left == 0)
        return FALSE;
      if (r < 0 && errno != EINTR)
        g_error ("poll: %s", g_strerror (errno));
    }
}

int
tu_accept (int listen_fd, guint timeout_ms)
{
  int fd;

  if (!poll_one (listen_fd, POLLIN, timeout_ms))
    g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                         "timed out waiting for a connection");
  fd = accept (listen_fd, NULL, NULL);
  g_assert_cmpint (fd, >=, 0);
  return fd;
}

int
tu_connect (guint16 port)
{
  struct sockaddr_storage ss;
  socklen_t len = loopback_address (AF_INET, port, &ss);
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  if (connect (fd, (struct sockaddr *) &ss, len) < 0)
    g_error ("connect to 127.0.0.1:%u: %s", port, g_strerror (errno));
  return fd;
}

void
tu_write_all (int fd, const void *data, gsize n)
{
  const char *p = data;

  while (n > 0)
    {
      ssize_t r = send (fd, p, n, MSG_NOSIGNAL);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        g_error ("send: %s", g_strerror (errno));
      p += r;
      n -= r;
    }
}

void
tu_read_exact (int fd, void *data, gsize n, guint timeout_ms)
{
  char *p = data;

  while (n > 0)
    {
      ssize_t r;

      if (!poll_one (fd, POLLIN, timeout_ms))
        g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                             "timed out reading from the peer");
      r = recv (fd, p, n, 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        g_error ("recv: %s", g_strerror (errno));
      if (r == 0)
        g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                             "unexpected EOF from the peer");
      p += r;
      n -= r;
    }
}

GBytes *
tu_read_to_eof (int fd, guint timeout_ms)
{
  GByteArray *got = g_byte_array_new ();
  char buf[65536];

  for (;;)
    {
      ssize_t r;

      if (!poll_one (fd, POLLIN, timeout_ms))
        g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                             "timed out waiting for EOF from the peer");
      r = recv (fd, buf, sizeof buf, 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        g_error ("recv: %s", g_strerror (errno));
      if (r == 0)
        break;
      g_byte_array_append (got, (const guint8 *) buf, r);
    }

  return g_byte_array_free_to_bytes (got);
}

gboolean
tu_sees_eof (int fd, guint timeout_ms)
{
  char c;
  ssize_t r;

  if (!poll_one (fd, POLLIN, timeout_ms))
    return FALSE;
  do
    r = recv (fd, &c, 1, MSG_DONTWAIT);
  while (r < 0 && errno == EINTR);

  return r == 0;
}

void
tu_close_with_reset (int fd)
{
  struct linger lg = { .l_onoff = 1, .l_linger = 0 };

  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), ==, 0);
  close (fd);
}

gboolean
tu_wait_readable (int fd, guint timeout_ms)
{
  return poll_one (fd, POLLIN, timeout_ms);
}

int
tu_udp_socket (int family, guint16 *port)
{
  struct sockaddr_storage ss;
  socklen_t len = loopback_address (family, 0, &ss);
  int fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  if (bind (fd, (struct sockaddr *) &ss, len) < 0)
    {
      close (fd);
      return -1;
    }
  *port = tu_local_port_of (fd);
  return fd;
}

QSockTcp *
tu_connected_pair (int *peer_fd)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();

  g_assert_cmpint (lfd, >=, 0);
  qsock_abstract_connect_to_host (QSOCK_ABSTRACT (sock), "127.0.0.1", port,
                                  QSOCK_OPEN_MODE_READ_WRITE,
                                  QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP);
  TU_RUN_UNTIL (qsock_abstract_get_state (QSOCK_ABSTRACT (sock)) == QSOCK_SOCKET_STATE_CONNECTED,
                5000);
  *peer_fd = tu_accept (lfd, 5000);
  close (lfd);

  return sock;
}

/* ---- bulk data --------------------------------------------------------- */

const guint8 *
tu_pattern (void)
{
  static gsize pattern = 0;

  if (g_once_init_enter (&pattern))
    {
      guint8 *p = g_malloc (TU_PATTERN_SIZE);
      guint32 x = 0x9e3779b9u;

      for (gsize i = 0; i < TU_PATTERN_SIZE; i++)
        {
          /* xorshift32: cheap, fixed, and no byte value is favoured */
          x ^= x << 13;
          x ^= x >> 17;
          x ^= x << 5;
          p[i] = (guint8) (x >> 24);
        }
      g_once_init_leave (&pattern, (gsize) p);
    }

  return (const guint8 *) pattern;
}

const guint8 *
tu_pattern_at (guint64 offset, gsize max, gsize *len)
{
  gsize pos = offset % TU_PATTERN_SIZE;

  *len = MIN (max, TU_PATTERN_SIZE - pos);
  return tu_pattern () + pos;
}

char *
tu_pattern_checksum (guint64 n)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA1);
  guint64 off = 0;
  char *result;

  while (off < n)
    {
      gsize len;
      const guint8 *p = tu_pattern_at (off, MIN (n - off, G_MAXSIZE), &len);

      g_checksum_update (sum, p, len);
      off += len;
    }
  result = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  return result;
}

static gpointer
flood_thread (gpointer data)
{
  TuPeerJob *job = data;
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA1);

  while (job->transferred < job->total)
    {
      gsize len;
      const guint8 *p = tu_pattern_at (job->transferred,
                                       MIN (job->total - job->transferred, 256 * 1024),
                                       &len);
      ssize_t r = send (job->fd, p, len, MSG_NOSIGNAL);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          job->error = errno;
          break;
        }
      g_checksum_update (sum, p, r);
      job->transferred += r;
    }
  if (job->shutdown_at_end)
    shutdown (job->fd, SHUT_WR);

  job->checksum = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  g_atomic_int_set (&job->done, 1);
  return NULL;
}

static gpointer
sink_thread (gpointer data)
{
  TuPeerJob *job = data;
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA1);
  gsize size = 256 * 1024;
  guint8 *buf = g_malloc (size);

  for (;;)
    {
      ssize_t r = recv (job->fd, buf, size, 0);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          job->error = errno;
          break;
        }
      if (r == 0)
        break;
      g_checksum_update (sum, buf, r);
      job->transferred += r;
    }

  g_free (buf);
  job->checksum = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  g_atomic_int_set (&job->done, 1);
  return NULL;
}

GThread *
tu_flood_start (TuPeerJob *job)
{
  (void) tu_pattern ();
  return g_thread_new ("test-flood", flood_thread, job);
}

GThread *
tu_sink_start (TuPeerJob *job)
{
  return g_thread_new ("test-sink", sink_thread, job);
}
