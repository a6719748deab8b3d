/* test-tcp.c: QSockTcp against Qt 6's QTcpSocket behaviour
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The expected signal sequences are the ones QT-BEHAVIOUR.md records from
 * Qt 6.4.2 on Linux loopback (§2.2 A–E, §2.3 F–N and E1). A recorder logs
 * every emission as "s:" (inside the call under test) or "l:" (later, from
 * the main loop), with its argument and the state at that moment. Peers are
 * plain POSIX sockets, so a failure points at the library, not at the peer.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <qsock-glib/qsock.h>

#include "test-util.h"

#define AS(s) QSOCK_ABSTRACT (s)
#define DEV(s) QSOCK_IODEVICE (s)
#define RW QSOCK_OPEN_MODE_READ_WRITE
#define ANY_IP QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP

#define MIB (1024 * 1024)

static char *
address_string (GInetAddress *address)
{
  char *s;

  if (address == NULL)
    return NULL;
  s = g_inet_address_to_string (address);
  g_object_unref (address);
  return s;
}

#define assert_peer_address(sock, expected)                                   \
  G_STMT_START {                                                              \
    char *a_ = address_string (qsock_abstract_get_peer_address (AS (sock))); \
    g_assert_cmpstr (a_, ==, (expected));                                     \
    g_free (a_);                                                              \
  } G_STMT_END

#define assert_local_address(sock, expected)                                   \
  G_STMT_START {                                                               \
    char *a_ = address_string (qsock_abstract_get_local_address (AS (sock))); \
    g_assert_cmpstr (a_, ==, (expected));                                      \
    g_free (a_);                                                               \
  } G_STMT_END

#define assert_bytes(bytes, expected)                                         \
  G_STMT_START {                                                              \
    GBytes *b_ = (bytes);                                                     \
    gsize n_ = 0;                                                             \
    const char *d_ = b_ ? g_bytes_get_data (b_, &n_) : NULL;                  \
    g_assert_nonnull (b_);                                                    \
    g_assert_cmpmem (d_, n_, (expected), strlen (expected));                  \
    g_bytes_unref (b_);                                                       \
  } G_STMT_END

/* Qt returns an empty QByteArray; NULL or an empty GBytes both say that. */
#define assert_bytes_empty(bytes)                                             \
  G_STMT_START {                                                              \
    GBytes *b_ = (bytes);                                                     \
    if (b_ != NULL)                                                           \
      {                                                                       \
        g_assert_cmpuint (g_bytes_get_size (b_), ==, 0);                      \
        g_bytes_unref (b_);                                                   \
      }                                                                       \
  } G_STMT_END

static void
write_pattern (QSockIODevice *dev, guint64 total)
{
  guint64 off = 0;

  while (off < total)
    {
      gsize len;
      const guint8 *p = tu_pattern_at (off, total - off, &len);

      g_assert_cmpint (qsock_iodevice_write (dev, (const char *) p, len), ==, len);
      off += len;
    }
}

/* The fixture of most tests: a client connected (through the loop) to a
 * plain accepted peer, with a recorder attached once connected. */
typedef struct
{
  QSockTcp   *sock;
  int         peer;
  TuRecorder *rec;
} Pair;

static void
pair_setup (Pair *f, gconstpointer data)
{
  f->sock = tu_connected_pair (&f->peer);
  f->rec = tu_recorder_new (f->sock);
}

static void
pair_close_peer (Pair *f)
{
  if (f->peer >= 0)
    close (f->peer);
  f->peer = -1;
}

static void
pair_teardown (Pair *f, gconstpointer data)
{
  /* Every signal came from this thread's context. */
  g_assert_cmpuint (f->rec->n_wrong_thread, ==, 0);
  tu_recorder_free (f->rec);
  g_object_unref (f->sock);
  pair_close_peer (f);
}

#define add_pair_test(path, func) \
  g_test_add (path, Pair, NULL, pair_setup, func, pair_teardown)

/* ======================================================================
 * Defaults
 * ====================================================================== */

static void
test_defaults (void)
{
  QSockTcp *sock = qsock_tcp_new ();
  int state = -7;

  g_assert_true (QSOCK_IS_ABSTRACT (sock));
  g_assert_true (QSOCK_IS_IODEVICE (sock));
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Unknown error");
  g_assert_cmpint (qsock_abstract_get_socket_type (AS (sock)), ==, QSOCK_SOCKET_TYPE_TCP);
  g_assert_cmpint (qsock_abstract_get_read_buffer_size (AS (sock)), ==, 0);
  g_assert_cmpint (qsock_abstract_get_socket_descriptor (AS (sock)), ==, -1);
  g_assert_cmpint (qsock_abstract_get_pause_mode (AS (sock)), ==, QSOCK_PAUSE_MODES_NEVER);
  g_assert_false (qsock_abstract_is_valid (AS (sock)));
  g_assert_null (qsock_abstract_get_peer_address (AS (sock)));
  g_assert_null (qsock_abstract_get_local_address (AS (sock)));
  g_assert_cmpuint (qsock_abstract_get_peer_port (AS (sock)), ==, 0);
  g_assert_cmpuint (qsock_abstract_get_local_port (AS (sock)), ==, 0);
  g_assert_false (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, QSOCK_OPEN_MODE_NOT_OPEN);
  g_assert_true (qsock_iodevice_is_sequential (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 0);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);
  g_assert_true (qsock_iodevice_at_end (DEV (sock)));

  /* The same through GObject properties. */
  g_object_get (sock, "state", &state, NULL);
  g_assert_cmpint (state, ==, QSOCK_SOCKET_STATE_UNCONNECTED);

  /* A negative read buffer size is stored unchanged (getSetCheck). */
  qsock_abstract_set_read_buffer_size (AS (sock), -1);
  g_assert_cmpint (qsock_abstract_get_read_buffer_size (AS (sock)), ==, -1);
  qsock_abstract_set_read_buffer_size (AS (sock), G_GINT64_CONSTANT (1) << 40);
  g_assert_cmpint (qsock_abstract_get_read_buffer_size (AS (sock)), ==, G_GINT64_CONSTANT (1) << 40);

  g_object_unref (sock);
}

/* ======================================================================
 * Connecting (§2.2 A–E)
 * ====================================================================== */

static void
connect_literal (int family, const char *literal)
{
  guint16 port;
  int lfd = tu_listen (family, 8, &port);
  QSockTcp *sock;
  TuRecorder *rec;
  int pfd;

  if (lfd < 0)
    {
      g_test_skip ("IPv6 loopback (::1) is not available");
      return;
    }

  sock = qsock_tcp_new ();
  rec = tu_recorder_new (sock);

  TU_REC_CALL (rec, qsock_abstract_connect_to_host (AS (sock), literal, port, RW, ANY_IP));

  /* A: up to ConnectingState and hostFound inside the call, even for an
   * IP literal; the device is open before any connection exists. */
  tu_recorder_assert (rec,
                      "s:state-changed(HostLookup)@HostLookup "
                      "s:state-changed(Connecting)@Connecting "
                      "s:host-found@Connecting");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTING);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, RW);

  TU_RUN_UNTIL (rec->n_connected > 0, 5000);
  tu_recorder_assert (rec,
                      "s:state-changed(HostLookup)@HostLookup "
                      "s:state-changed(Connecting)@Connecting "
                      "s:host-found@Connecting "
                      "l:state-changed(Connected)@Connected "
                      "l:connected@Connected");

  pfd = tu_accept (lfd, 5000);
  assert_peer_address (sock, literal);
  assert_local_address (sock, literal);
  g_assert_cmpuint (qsock_abstract_get_peer_port (AS (sock)), ==, port);
  g_assert_cmpuint (qsock_abstract_get_local_port (AS (sock)), ==, tu_peer_port_of (pfd));
  g_assert_cmpstr (qsock_abstract_get_peer_name (AS (sock)), ==, literal);
  g_assert_cmpint (qsock_abstract_get_socket_descriptor (AS (sock)), >=, 0);
  g_assert_true (qsock_abstract_is_valid (AS (sock)));
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);

  {
    guint peer_port = 0;
    g_object_get (sock, "peer-port", &peer_port, NULL);
    g_assert_cmpuint (peer_port, ==, port);
  }

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
}

static void
test_connect_ipv4_literal (void)
{
  connect_literal (AF_INET, "127.0.0.1");
}

static void
test_connect_ipv6_literal (void)
{
  connect_literal (AF_INET6, "::1");
}

static void
test_connect_localhost (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  int pfd;

  TU_REC_CALL (rec, qsock_abstract_connect_to_host (AS (sock), "localhost", port, RW, ANY_IP));

  /* B: a name is looked up from the loop. */
  tu_recorder_assert (rec, "s:state-changed(HostLookup)@HostLookup");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_HOST_LOOKUP);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));

  TU_RUN_UNTIL (rec->n_connected > 0 || rec->n_errors > 0, 10000);
  tu_recorder_assert (rec,
                      "s:state-changed(HostLookup)@HostLookup "
                      "l:state-changed(Connecting)@Connecting "
                      "l:host-found@Connecting "
                      "l:state-changed(Connected)@Connected "
                      "l:connected@Connected");
  g_assert_cmpstr (qsock_abstract_get_peer_name (AS (sock)), ==, "localhost");
  assert_peer_address (sock, "127.0.0.1");
  g_assert_cmpuint (qsock_abstract_get_peer_port (AS (sock)), ==, port);

  pfd = tu_accept (lfd, 5000);
  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
}

static void
test_connect_refused (void)
{
  guint16 port;
  int rfd = tu_refusing_socket (&port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);

  TU_REC_CALL (rec, qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP));
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTING);

  TU_RUN_UNTIL (rec->n_errors > 0, 5000);
  /* C: Unconnected before errorOccurred, once, though the address is
   * tried twice. */
  tu_recorder_assert (rec,
                      "s:state-changed(HostLookup)@HostLookup "
                      "s:state-changed(Connecting)@Connecting "
                      "s:host-found@Connecting "
                      "l:state-changed(Unconnected)@Unconnected "
                      "l:error-occurred(ConnectionRefused)@Unconnected");
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_CONNECTION_REFUSED);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Connection refused");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, RW);
  /* isValid() falls back to isOpen() without an engine (§8.5). */
  g_assert_true (qsock_abstract_is_valid (AS (sock)));

  tu_spin (200);
  g_assert_cmpuint (rec->n_errors, ==, 1);
  g_assert_cmpuint (rec->n_state_changes, ==, 3);

  /* Writing now fails, with an error but without errorOccurred. */
  tu_recorder_reset (rec);
  TU_REC_CALL (rec, g_assert_cmpint (qsock_iodevice_write (DEV (sock), "x", 1), ==, -1));
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Socket is not connected");
  tu_recorder_assert (rec, "");

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (rfd);
}

static void
test_connect_host_not_found (void)
{
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);

  TU_REC_CALL (rec, qsock_abstract_connect_to_host (AS (sock), "nosuchhost.invalid", 80, RW, ANY_IP));
  tu_recorder_assert (rec, "s:state-changed(HostLookup)@HostLookup");

  TU_RUN_UNTIL (rec->n_errors > 0, 20000);
  /* D: no hostFound, never Connecting. */
  tu_recorder_assert (rec,
                      "s:state-changed(HostLookup)@HostLookup "
                      "l:state-changed(Unconnected)@Unconnected "
                      "l:error-occurred(HostNotFound)@Unconnected");
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_HOST_NOT_FOUND);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Host not found");
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));

  tu_spin (100);
  g_assert_cmpuint (rec->n_errors, ==, 1);

  tu_recorder_free (rec);
  g_object_unref (sock);
}

static void
test_connect_while_connected (Pair          *f,
                              gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING,
                         "*called when already looking up or connecting/connected*");
  TU_REC_CALL (rec, qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", 1, RW, ANY_IP));
  g_test_assert_expected_messages ();

  /* E: errorOccurred(OperationError) inside the call, state unchanged. */
  tu_recorder_assert (rec, "s:error-occurred(Operation)@Connected");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_OPERATION);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==,
                   "Trying to connect while connection is in progress");

  /* The connection is untouched. */
  tu_write_all (pfd, "x", 1);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 1, 5000);
}

static void
test_bind_then_connect (void)
{
  guint16 port, bound_port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  gboolean ok = FALSE;
  int pfd;

  TU_REC_CALL (rec, ok = qsock_abstract_bind (AS (sock), lo, 0, QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM));
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:state-changed(Bound)@Bound");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_BOUND);
  /* TCP bind does not open the device. */
  g_assert_false (qsock_iodevice_is_open (DEV (sock)));
  bound_port = qsock_abstract_get_local_port (AS (sock));
  g_assert_cmpuint (bound_port, !=, 0);

  TU_REC_CALL (rec, qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP));
  TU_RUN_UNTIL (rec->n_connected > 0 || rec->n_errors > 0, 5000);
  tu_recorder_assert (rec,
                      "s:state-changed(Bound)@Bound "
                      "s:state-changed(HostLookup)@HostLookup "
                      "s:state-changed(Connecting)@Connecting "
                      "s:host-found@Connecting "
                      "l:state-changed(Connected)@Connected "
                      "l:connected@Connected");

  /* The bound port is kept through connectToHost. */
  pfd = tu_accept (lfd, 5000);
  g_assert_cmpuint (qsock_abstract_get_local_port (AS (sock)), ==, bound_port);
  g_assert_cmpuint (tu_peer_port_of (pfd), ==, bound_port);
  assert_local_address (sock, "127.0.0.1");

  tu_recorder_free (rec);
  g_object_unref (sock);
  g_object_unref (lo);
  close (pfd);
  close (lfd);
}

static void
test_connect_to_address (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  int pfd;

  /* Qt's connectToHost(QHostAddress) is connectToHost(address.toString()). */
  TU_REC_CALL (rec, qsock_abstract_connect_to_address (AS (sock), lo, port, RW));
  tu_recorder_assert (rec,
                      "s:state-changed(HostLookup)@HostLookup "
                      "s:state-changed(Connecting)@Connecting "
                      "s:host-found@Connecting");
  TU_RUN_UNTIL (rec->n_connected > 0 || rec->n_errors > 0, 5000);
  g_assert_cmpuint (rec->n_connected, ==, 1);
  g_assert_cmpstr (qsock_abstract_get_peer_name (AS (sock)), ==, "127.0.0.1");
  pfd = tu_accept (lfd, 5000);

  tu_recorder_free (rec);
  g_object_unref (sock);
  g_object_unref (lo);
  close (pfd);
  close (lfd);
}

/* The protocol filter leaves no address: HostNotFound, and for a literal
 * all inside the call (_q_startConnecting runs synchronously). */
static void
test_connect_protocol_filter (void)
{
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);

  TU_REC_CALL (rec, qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", 9, RW,
                                                    QSOCK_NETWORK_LAYER_PROTOCOL_IPV6));
  tu_recorder_assert (rec,
                      "s:state-changed(HostLookup)@HostLookup "
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:error-occurred(HostNotFound)@Unconnected");
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_HOST_NOT_FOUND);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Host not found");

  tu_spin (100);
  g_assert_cmpuint (rec->events->len, ==, 3);

  tu_recorder_free (rec);
  g_object_unref (sock);
}

/* Writing during the lookup is buffered; a disconnect asked for then waits
 * for the connection, writes, and closes (tst disconnectWhileLookingUp). */
static void
test_write_and_disconnect_while_looking_up (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  GBytes *got;
  int pfd;

  TU_REC_CALL (rec, {
    qsock_abstract_connect_to_host (AS (sock), "localhost", port, RW, ANY_IP);
    g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_HOST_LOOKUP);
    /* peerName is set at once. */
    g_assert_cmpstr (qsock_abstract_get_peer_name (AS (sock)), ==, "localhost");
    g_assert_true (qsock_iodevice_put_char (DEV (sock), 'x'));
    qsock_abstract_disconnect_from_host (AS (sock));
  });
  tu_recorder_assert (rec, "s:state-changed(HostLookup)@HostLookup");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_HOST_LOOKUP);

  TU_RUN_UNTIL (rec->n_disconnected > 0 || rec->n_errors > 0, 10000);
  tu_recorder_assert (rec,
                      "s:state-changed(HostLookup)@HostLookup "
                      "l:state-changed(Connecting)@Connecting "
                      "l:host-found@Connecting "
                      "l:state-changed(Connected)@Connected "
                      "l:connected@Connected "
                      "l:state-changed(Closing)@Closing "
                      "l:bytes-written(1)@Closing "
                      "l:state-changed(Unconnected)@Unconnected "
                      "l:read-channel-finished@Unconnected "
                      "l:disconnected@Unconnected");
  pfd = tu_accept (lfd, 5000);
  got = tu_read_to_eof (pfd, 5000);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "x", 1);
  g_bytes_unref (got);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
}

static void
test_abort_looking_up (void)
{
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);

  qsock_abstract_connect_to_host (AS (sock), "localhost", port, RW, ANY_IP);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_HOST_LOOKUP);
  tu_recorder_reset (rec);

  TU_REC_CALL (rec, qsock_abstract_abort (AS (sock)));
  tu_recorder_assert (rec,
                      "s:about-to-close@HostLookup "
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:read-channel-finished@Unconnected");

  /* The lookup is abandoned: its answer changes nothing. */
  tu_spin (500);
  g_assert_cmpuint (rec->events->len, ==, 3);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (lfd);
}

/* connectToHost resets the error and the error string; the same object
 * connects again (connectDisconnectConnectDisconnect). */
static void
test_reconnect (void)
{
  guint16 refused_port, port;
  int rfd = tu_refusing_socket (&refused_port);
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  int pfd;

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", refused_port, RW, ANY_IP);
  TU_RUN_UNTIL (rec->n_errors > 0, 5000);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_CONNECTION_REFUSED);

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Unknown error");
  g_assert_cmpuint (qsock_abstract_get_peer_port (AS (sock)), ==, 0);
  TU_RUN_UNTIL (rec->n_connected == 1, 5000);
  pfd = tu_accept (lfd, 5000);

  for (int round = 0; round < 3; round++)
    {
      char c;

      qsock_abstract_disconnect_from_host (AS (sock));
      g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
      g_assert_true (tu_sees_eof (pfd, 5000));
      close (pfd);

      qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
      TU_RUN_UNTIL (rec->n_connected == (guint) round + 2, 5000);
      pfd = tu_accept (lfd, 5000);
      g_assert_true (qsock_iodevice_put_char (DEV (sock), 'a' + round));
      TU_RUN_UNTIL (qsock_iodevice_bytes_to_write (DEV (sock)) == 0, 5000);
      tu_read_exact (pfd, &c, 1, 5000);
      g_assert_cmpint (c, ==, 'a' + round);
    }
  g_assert_cmpuint (rec->n_disconnected, ==, 3);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
  close (rfd);
}

static void
test_bind_errors (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  gboolean ok = TRUE;

  /* The port is taken. */
  TU_REC_CALL (rec, ok = qsock_abstract_bind (AS (sock), lo, port, QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM));
  g_assert_false (ok);
  tu_recorder_assert (rec, "s:error-occurred(AddressInUse)@Unconnected");
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_ADDRESS_IN_USE);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "The bound address is already in use");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);

  /* Binding twice: a warning, and errorOccurred(UnknownSocketError). */
  g_assert_true (qsock_abstract_bind (AS (sock), lo, 0, QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM));
  tu_recorder_reset (rec);
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*bind()*UnconnectedState*");
  TU_REC_CALL (rec, ok = qsock_abstract_bind (AS (sock), lo, 0, QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM));
  g_test_assert_expected_messages ();
  g_assert_false (ok);
  tu_recorder_assert (rec, "s:error-occurred(UnknownSocket)@Bound");
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Unknown error");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_BOUND);

  tu_recorder_free (rec);
  g_object_unref (sock);
  g_object_unref (lo);
  close (lfd);
}

/* A socket made in another thread belongs to that thread's context: its
 * signals come there, and nothing leaks onto the global default context
 * (which this thread keeps iterating meanwhile). */
typedef struct
{
  guint16 port;
  guint   wrong_thread;
  guint   ready_reads;
  gint    done;
} ThreadCase;

static gpointer
own_context_thread (gpointer data)
{
  ThreadCase *tc = data;
  GMainContext *context = g_main_context_new ();
  QSockTcp *sock;
  TuRecorder *rec;

  g_main_context_push_thread_default (context);
  sock = qsock_tcp_new ();
  rec = tu_recorder_new (sock);
  qsock_abstract_connect_to_host (AS (sock), "localhost", tc->port, RW, ANY_IP);
  TU_RUN_UNTIL (rec->n_ready_read > 0 && rec->n_disconnected > 0, 10000);
  tc->wrong_thread = rec->n_wrong_thread;
  tc->ready_reads = rec->n_ready_read;
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "from the peer");

  tu_recorder_free (rec);
  g_object_unref (sock);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_atomic_int_set (&tc->done, 1);
  return NULL;
}

static void
test_thread_own_context (void)
{
  ThreadCase tc = { 0 };
  int lfd = tu_listen (AF_INET, 8, &tc.port);
  GThread *thread = g_thread_new ("test-own-context", own_context_thread, &tc);
  int pfd = tu_accept (lfd, 10000);

  tu_write_all (pfd, "from the peer", 13);
  close (pfd);
  TU_RUN_UNTIL (g_atomic_int_get (&tc.done), 20000);
  g_thread_join (thread);
  g_assert_cmpuint (tc.wrong_thread, ==, 0);
  g_assert_cmpuint (tc.ready_reads, >=, 1);

  close (lfd);
}

/* ======================================================================
 * Closing (§2.3 F–N, E1)
 * ====================================================================== */

#define CLOSE_TAIL                                                            \
  "l:state-changed(Closing)@Closing "                                         \
  "l:state-changed(Unconnected)@Unconnected "                                 \
  "l:read-channel-finished@Unconnected "                                      \
  "l:disconnected@Unconnected"

static void
test_remote_close_with_data (Pair          *f,
                             gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  char buf[16];
  char c = 0;

  tu_write_all (pfd, "hello", 5);
  pair_close_peer (f);
  TU_RUN_UNTIL (rec->n_disconnected > 0, 5000);

  /* F: errorOccurred first, while still Connected. */
  tu_recorder_assert (rec,
                      "l:ready-read@Connected "
                      "l:error-occurred(RemoteHostClosed)@Connected "
                      CLOSE_TAIL);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==,
                   "The remote host closed the connection");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);

  /* The data survives the close. */
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 5);
  g_assert_false (qsock_iodevice_at_end (DEV (sock)));
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "hello");

  /* Once drained: -1, no char, no line. */
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, sizeof buf), ==, -1);
  g_assert_false (qsock_iodevice_get_char (DEV (sock), &c));
  assert_bytes_empty (qsock_iodevice_read_line_bytes (DEV (sock), 0));
  g_assert_true (qsock_iodevice_at_end (DEV (sock)));

  /* disconnectFromHost clears the addresses; peerName falls back to the
   * name given to connectToHost. */
  g_assert_cmpuint (qsock_abstract_get_peer_port (AS (sock)), ==, 0);
  g_assert_cmpuint (qsock_abstract_get_local_port (AS (sock)), ==, 0);
  g_assert_null (qsock_abstract_get_peer_address (AS (sock)));
  g_assert_cmpstr (qsock_abstract_get_peer_name (AS (sock)), ==, "127.0.0.1");

  tu_spin (100);
  g_assert_cmpuint (rec->n_disconnected, ==, 1);
  g_assert_cmpuint (rec->n_errors, ==, 1);
}

static void
test_remote_close_no_data (Pair          *f,
                           gconstpointer  data)
{
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  char buf[4];

  pair_close_peer (f);
  TU_RUN_UNTIL (rec->n_disconnected > 0, 5000);
  tu_recorder_assert (rec, "l:error-occurred(RemoteHostClosed)@Connected " CLOSE_TAIL);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 0);
  g_assert_true (qsock_iodevice_at_end (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, sizeof buf), ==, -1);
}

static void
test_peer_reset (Pair          *f,
                 gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;

  tu_close_with_reset (pfd);
  f->peer = -1;
  TU_RUN_UNTIL (rec->n_disconnected > 0, 5000);

  /* N: the sequence of F without readyRead. */
  tu_recorder_assert (rec, "l:error-occurred(RemoteHostClosed)@Connected " CLOSE_TAIL);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==,
                   "The remote host closed the connection");
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));
}

static void
test_disconnect_empty (Pair          *f,
                       gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;

  TU_REC_CALL (rec, qsock_abstract_disconnect_from_host (AS (sock)));

  /* G: everything inside the call; the device stays open. */
  tu_recorder_assert (rec,
                      "s:state-changed(Closing)@Closing "
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:read-channel-finished@Unconnected "
                      "s:disconnected@Unconnected");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, RW);
  g_assert_true (tu_sees_eof (pfd, 5000));
  g_assert_cmpuint (qsock_abstract_get_peer_port (AS (sock)), ==, 0);
  g_assert_cmpuint (qsock_abstract_get_local_port (AS (sock)), ==, 0);
  g_assert_null (qsock_abstract_get_local_address (AS (sock)));
  g_assert_cmpint (qsock_abstract_get_socket_descriptor (AS (sock)), ==, -1);

  /* Disconnecting an unconnected socket does nothing. */
  TU_REC_CALL (rec, qsock_abstract_disconnect_from_host (AS (sock)));
  tu_spin (50);
  g_assert_cmpuint (rec->events->len, ==, 4);
}

static void
test_disconnect_4mib (Pair          *f,
                      gconstpointer  data)
{
  const guint64 total = 4 * MIB;
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  TuPeerJob job = { .fd = pfd };
  g_autofree char *expected_sum = tu_pattern_checksum (total);
  g_autofree char *expected = g_strdup_printf (
      "s:state-changed(Closing)@Closing "
      "l:bytes-written(%" G_GUINT64_FORMAT ")@Closing "
      "l:state-changed(Unconnected)@Unconnected "
      "l:read-channel-finished@Unconnected "
      "l:disconnected@Unconnected", total);
  GThread *sink;

  write_pattern (DEV (sock), total);
  /* write() only queues. */
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, total);

  sink = tu_sink_start (&job);
  TU_REC_CALL (rec, qsock_abstract_disconnect_from_host (AS (sock)));

  /* H: Closing inside the call, the rest once everything is written. */
  tu_recorder_assert (rec, "s:state-changed(Closing)@Closing");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CLOSING);

  TU_RUN_UNTIL (rec->n_disconnected > 0, 30000);
  tu_recorder_assert (rec, expected);
  g_assert_cmpint (rec->bytes_written, ==, total);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);

  g_thread_join (sink);
  g_assert_cmpint (job.error, ==, 0);
  g_assert_cmpuint (job.transferred, ==, total);
  g_assert_cmpstr (job.checksum, ==, expected_sum);

  g_free (job.checksum);
}

static void
test_abort (Pair          *f,
            gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  GBytes *got;

  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "abc", 3), ==, 3);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 3);
  TU_REC_CALL (rec, qsock_abstract_abort (AS (sock)));

  /* I: aboutToClose first, no Closing, the write buffer discarded. */
  tu_recorder_assert (rec,
                      "s:about-to-close@Connected "
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:read-channel-finished@Unconnected "
                      "s:disconnected@Unconnected");
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, QSOCK_OPEN_MODE_NOT_OPEN);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);

  /* Nothing more arrives here, and the peer sees a clean EOF. */
  tu_spin (150);
  g_assert_cmpuint (rec->events->len, ==, 4);
  got = tu_read_to_eof (pfd, 5000);
  g_assert_cmpuint (g_bytes_get_size (got), ==, 0);
  g_bytes_unref (got);
}

static void
test_close_pending (Pair          *f,
                    gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  GBytes *got;

  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "abc", 3), ==, 3);
  TU_REC_CALL (rec, qsock_iodevice_close (DEV (sock)));

  /* J: the device closes at once, the write buffer is kept and flushed. */
  tu_recorder_assert (rec, "s:about-to-close@Connected s:state-changed(Closing)@Closing");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CLOSING);
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, QSOCK_OPEN_MODE_NOT_OPEN);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 3);

  TU_RUN_UNTIL (rec->n_disconnected > 0, 5000);
  tu_recorder_assert (rec,
                      "s:about-to-close@Connected "
                      "s:state-changed(Closing)@Closing "
                      "l:bytes-written(3)@Closing "
                      "l:state-changed(Unconnected)@Unconnected "
                      "l:read-channel-finished@Unconnected "
                      "l:disconnected@Unconnected");

  got = tu_read_to_eof (pfd, 5000);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "abc", 3);
  g_bytes_unref (got);
}

static void
test_close_empty (Pair          *f,
                  gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;

  /* Some unread data in the read buffer: close() drops it. */
  tu_write_all (pfd, "zz", 2);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 2, 5000);
  tu_recorder_reset (rec);

  TU_REC_CALL (rec, qsock_iodevice_close (DEV (sock)));

  /* K: all inside the call. */
  tu_recorder_assert (rec,
                      "s:about-to-close@Connected "
                      "s:state-changed(Closing)@Closing "
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:read-channel-finished@Unconnected "
                      "s:disconnected@Unconnected");
  g_assert_false (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 0);
  g_assert_true (tu_sees_eof (pfd, 5000));
}

static void
test_abort_connecting (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTING);
  tu_recorder_reset (rec);

  TU_REC_CALL (rec, qsock_abstract_abort (AS (sock)));

  /* L: readChannelFinished, but no disconnected. */
  tu_recorder_assert (rec,
                      "s:about-to-close@Connecting "
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:read-channel-finished@Unconnected");
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, QSOCK_OPEN_MODE_NOT_OPEN);

  tu_spin (200);
  g_assert_cmpuint (rec->events->len, ==, 3);
  g_assert_cmpuint (rec->n_connected, ==, 0);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (lfd);
}

static void
test_disconnect_connecting (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  GBytes *got;
  int pfd;

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTING);
  tu_recorder_reset (rec);

  /* Writing while connecting is allowed; the close waits for the
   * connection. */
  TU_REC_CALL (rec, {
    g_assert_cmpint (qsock_iodevice_write (DEV (sock), "early", 5), ==, 5);
    qsock_abstract_disconnect_from_host (AS (sock));
  });
  tu_recorder_assert (rec, "");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTING);

  TU_RUN_UNTIL (rec->n_disconnected > 0 || rec->n_errors > 0, 5000);
  /* M */
  tu_recorder_assert (rec,
                      "l:state-changed(Connected)@Connected "
                      "l:connected@Connected "
                      "l:state-changed(Closing)@Closing "
                      "l:bytes-written(5)@Closing "
                      "l:state-changed(Unconnected)@Unconnected "
                      "l:read-channel-finished@Unconnected "
                      "l:disconnected@Unconnected");

  pfd = tu_accept (lfd, 5000);
  got = tu_read_to_eof (pfd, 5000);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "early", 5);
  g_bytes_unref (got);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
}

static gboolean
fd_readable (int fd, int timeout_ms)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };

  return poll (&pfd, 1, timeout_ms) > 0;
}

static void
test_write_after_reset (Pair          *f,
                        gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  gboolean flushed = TRUE;

  tu_close_with_reset (pfd);
  f->peer = -1;
  /* Let the RST arrive without running the loop, so the socket learns of
   * it only by writing. */
  g_assert_true (fd_readable (qsock_abstract_get_socket_descriptor (AS (sock)), 5000));

  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "x", 1), ==, 1);
  TU_REC_CALL (rec, flushed = qsock_abstract_flush (AS (sock)));

  /* E1: errorOccurred while Connected, then abort(). */
  tu_recorder_assert (rec,
                      "s:error-occurred(RemoteHostClosed)@Connected "
                      "s:about-to-close@Connected "
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:read-channel-finished@Unconnected "
                      "s:disconnected@Unconnected");
  g_assert_false (flushed);
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, QSOCK_OPEN_MODE_NOT_OPEN);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED);

  tu_spin (100);
  g_assert_cmpuint (rec->events->len, ==, 5);
}

/* The peer goes away while a lot is queued: the process must not die of
 * SIGPIPE, and the socket ends Unconnected with RemoteHostClosedError. */
static void
test_no_sigpipe (Pair          *f,
                 gconstpointer  data)
{
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;

  write_pattern (DEV (sock), 8 * MIB);
  TU_RUN_UNTIL (qsock_iodevice_bytes_to_write (DEV (sock)) < 8 * MIB, 5000);
  /* Unread data makes close() send a RST. */
  pair_close_peer (f);

  TU_RUN_UNTIL (rec->n_disconnected > 0, 10000);
  g_assert_cmpuint (rec->n_errors, ==, 1);
  g_assert_cmpint (rec->last_error, ==, QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
}

/* Dropping the last reference to a connected socket closes it. */
static void
test_unref_closes (void)
{
  int pfd;
  QSockTcp *sock = tu_connected_pair (&pfd);

  g_object_unref (sock);
  g_assert_true (tu_sees_eof (pfd, 5000));
  close (pfd);
}

/* abort() while Closing with data still queued: it is dropped, and as the
 * state was Closing, disconnected follows. */
static void
test_abort_while_closing (Pair          *f,
                          gconstpointer  data)
{
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;

  /* The peer reads nothing, so most of this stays queued. */
  write_pattern (DEV (sock), 16 * MIB);
  qsock_abstract_disconnect_from_host (AS (sock));
  TU_RUN_UNTIL (rec->bytes_written > 0, 5000);
  tu_spin (50);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CLOSING);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), >, 0);
  tu_recorder_reset (rec);

  TU_REC_CALL (rec, qsock_abstract_abort (AS (sock)));
  tu_recorder_assert (rec,
                      "s:about-to-close@Closing "
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:read-channel-finished@Unconnected "
                      "s:disconnected@Unconnected");
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, QSOCK_OPEN_MODE_NOT_OPEN);
  tu_spin (100);
  g_assert_cmpuint (rec->events->len, ==, 4);
}

/* close() while connecting: the device closes at once, the disconnect waits
 * for the connection (pendingClose). */
static void
test_close_connecting (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  int pfd;

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTING);
  tu_recorder_reset (rec);

  TU_REC_CALL (rec, qsock_iodevice_close (DEV (sock)));
  tu_recorder_assert (rec, "s:about-to-close@Connecting");
  g_assert_false (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTING);

  TU_RUN_UNTIL (rec->n_disconnected > 0 || rec->n_errors > 0, 5000);
  tu_recorder_assert (rec,
                      "s:about-to-close@Connecting "
                      "l:state-changed(Connected)@Connected "
                      "l:connected@Connected "
                      "l:state-changed(Closing)@Closing "
                      "l:state-changed(Unconnected)@Unconnected "
                      "l:read-channel-finished@Unconnected "
                      "l:disconnected@Unconnected");
  pfd = tu_accept (lfd, 5000);
  g_assert_true (tu_sees_eof (pfd, 5000));

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
}

/* tst_qtcpsocket::remoteCloseError: close() inside the error-occurred
 * handler is legal and ends the sequence once. */
static void
close_in_error_cb (QSockAbstract *sock, QSockSocketError error, gpointer user_data)
{
  g_assert_cmpint (qsock_abstract_get_state (sock), ==, QSOCK_SOCKET_STATE_CONNECTED);
  qsock_iodevice_close (QSOCK_IODEVICE (sock));
}

static void
test_close_in_error_handler (Pair          *f,
                             gconstpointer  data)
{
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  gulong id = g_signal_connect (sock, "error-occurred", G_CALLBACK (close_in_error_cb), NULL);

  pair_close_peer (f);
  TU_RUN_UNTIL (rec->n_disconnected > 0, 5000);
  tu_spin (100);
  tu_recorder_assert (rec,
                      "l:error-occurred(RemoteHostClosed)@Connected "
                      "l:about-to-close@Connected "
                      "l:state-changed(Closing)@Closing "
                      "l:state-changed(Unconnected)@Unconnected "
                      "l:read-channel-finished@Unconnected "
                      "l:disconnected@Unconnected");
  g_assert_false (qsock_iodevice_is_open (DEV (sock)));

  g_signal_handler_disconnect (sock, id);
}

/* Dropping the last reference from inside a handler, the GObject way of
 * Qt's deleteLater(), must be safe. */
static void
unref_in_disconnected_cb (QSockAbstract *sock, gboolean *called)
{
  *called = TRUE;
  g_object_unref (sock);
}

static void
test_unref_in_handler (void)
{
  int pfd;
  QSockTcp *sock = tu_connected_pair (&pfd);
  gboolean called = FALSE;

  g_signal_connect (sock, "disconnected", G_CALLBACK (unref_in_disconnected_cb), &called);
  tu_write_all (pfd, "data", 4);
  close (pfd);
  TU_RUN_UNTIL (called, 5000);
  tu_spin (100);
}

/* Dropping the socket while its lookup or connect is under way: what
 * comes back later must not touch it (ASan/valgrind watch this one). */
static void
test_unref_while_connecting (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *looking = qsock_tcp_new ();
  QSockTcp *connecting = qsock_tcp_new ();
  QSockTcp *refused = qsock_tcp_new ();
  guint16 refused_port;
  int rfd = tu_refusing_socket (&refused_port);

  qsock_abstract_connect_to_host (AS (looking), "localhost", port, RW, ANY_IP);
  qsock_abstract_connect_to_host (AS (connecting), "127.0.0.1", port, RW, ANY_IP);
  qsock_abstract_connect_to_host (AS (refused), "127.0.0.1", refused_port, RW, ANY_IP);
  g_assert_cmpint (qsock_abstract_get_state (AS (looking)), ==, QSOCK_SOCKET_STATE_HOST_LOOKUP);
  g_assert_cmpint (qsock_abstract_get_state (AS (connecting)), ==, QSOCK_SOCKET_STATE_CONNECTING);
  g_object_unref (looking);
  g_object_unref (connecting);
  g_object_unref (refused);

  tu_spin (500);

  close (rfd);
  close (lfd);
}

/* Reconnecting from the disconnected handler, a common pattern. */
typedef struct
{
  guint16 port;
  guint   reconnects;
} ReconnectCtx;

static void
reconnect_cb (QSockAbstract *sock, ReconnectCtx *ctx)
{
  if (ctx->reconnects++ == 0)
    qsock_abstract_connect_to_host (sock, "127.0.0.1", ctx->port, RW, ANY_IP);
}

static void
test_reconnect_from_handler (void)
{
  ReconnectCtx ctx = { 0 };
  int lfd = tu_listen (AF_INET, 8, &ctx.port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  int first, second;
  char c;

  g_signal_connect (sock, "disconnected", G_CALLBACK (reconnect_cb), &ctx);
  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", ctx.port, RW, ANY_IP);
  TU_RUN_UNTIL (rec->n_connected == 1, 5000);
  first = tu_accept (lfd, 5000);
  close (first);

  TU_RUN_UNTIL (rec->n_connected == 2 || rec->n_errors > 1, 5000);
  g_assert_cmpuint (rec->n_connected, ==, 2);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  second = tu_accept (lfd, 5000);

  /* The new connection is fully usable. */
  g_assert_cmpuint (qsock_abstract_get_peer_port (AS (sock)), ==, ctx.port);
  g_assert_true (qsock_iodevice_put_char (DEV (sock), 'r'));
  TU_RUN_UNTIL (qsock_iodevice_bytes_to_write (DEV (sock)) == 0, 5000);
  tu_read_exact (second, &c, 1, 5000);
  g_assert_cmpint (c, ==, 'r');
  tu_write_all (second, "s", 1);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 1, 5000);

  g_signal_handlers_disconnect_by_data (sock, &ctx);
  tu_recorder_free (rec);
  g_object_unref (sock);
  close (second);
  close (lfd);
}

/* Writing in ClosingState is still allowed; it goes out before the close. */
static void
test_write_while_closing (Pair          *f,
                          gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  GBytes *got;
  char buf[4];

  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "abc", 3), ==, 3);
  TU_REC_CALL (rec, qsock_abstract_disconnect_from_host (AS (sock)));
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CLOSING);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "def", 3), ==, 3);

  TU_RUN_UNTIL (rec->n_disconnected > 0, 5000);
  tu_recorder_assert (rec,
                      "s:state-changed(Closing)@Closing "
                      "l:bytes-written(6)@Closing "
                      "l:state-changed(Unconnected)@Unconnected "
                      "l:read-channel-finished@Unconnected "
                      "l:disconnected@Unconnected");
  got = tu_read_to_eof (pfd, 5000);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "abcdef", 6);
  g_bytes_unref (got);

  /* Now Unconnected (but open): writing fails without a signal, and there
   * is nothing to flush. */
  tu_recorder_reset (rec);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "x", 1), ==, -1);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Socket is not connected");
  g_assert_false (qsock_abstract_flush (AS (sock)));
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, sizeof buf), ==, -1);
  tu_recorder_assert (rec, "");
}

/* ======================================================================
 * Misuse
 * ====================================================================== */

static void
test_not_open (void)
{
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  char buf[8];
  char c;

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*device not open*");
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "x", 1), ==, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*device not open*");
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, sizeof buf), ==, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*device not open*");
  g_assert_false (qsock_iodevice_get_char (DEV (sock), &c));
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*device not open*");
  g_assert_cmpint (qsock_iodevice_peek (DEV (sock), buf, sizeof buf), ==, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*device not open*");
  g_assert_false (qsock_iodevice_put_char (DEV (sock), 'x'));
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*device not open*");
  g_assert_cmpint (qsock_iodevice_read_line (DEV (sock), buf, sizeof buf), ==, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*device not open*");
  g_assert_cmpint (qsock_iodevice_skip (DEV (sock), 3), ==, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*device not open*");
  qsock_iodevice_unget_char (DEV (sock), 'x');
  g_test_assert_expected_messages ();
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 0);

  /* QIODevice refuses these before the socket sees them: no error. */
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Unknown error");
  tu_recorder_assert (rec, "");

  tu_recorder_free (rec);
  g_object_unref (sock);
}

static void
test_bad_sizes (Pair          *f,
                gconstpointer  data)
{
  QSockTcp *sock = f->sock;
  char buf[8];

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*maxSize < 0*");
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, -1), ==, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*maxSize < 2*");
  g_assert_cmpint (qsock_iodevice_read_line (DEV (sock), buf, 1), ==, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*maxSize < 0*");
  g_assert_cmpint (qsock_iodevice_peek (DEV (sock), buf, -1), ==, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*maxSize < 0*");
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), buf, -1), ==, -1);
  g_test_assert_expected_messages ();

  /* Zero is fine. */
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, 0), ==, 0);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), buf, 0), ==, 0);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);
}

static QSockTcp *
connected_pair_mode (QSockOpenMode mode, int *peer_fd)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();

  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, mode, ANY_IP);
  TU_RUN_UNTIL (qsock_abstract_get_state (AS (sock)) == QSOCK_SOCKET_STATE_CONNECTED, 5000);
  *peer_fd = tu_accept (lfd, 5000);
  close (lfd);
  return sock;
}

/* QSOCK_OPEN_MODE_TEXT: "\r\n" reads as "\n" (QIODevice strips the '\r'
 * in Text mode); set_text_mode_enabled() switches it on an open socket. */
static void
test_text_mode (void)
{
  int pfd;
  QSockTcp *sock = connected_pair_mode (QSOCK_OPEN_MODE_READ_WRITE | QSOCK_OPEN_MODE_TEXT, &pfd);
  char buf[16];

  g_assert_true (qsock_iodevice_is_text_mode_enabled (DEV (sock)));
  tu_write_all (pfd, "one\r\ntwo\r\nthree\r\n", 17);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) >= 14, 5000);
  TU_RUN_UNTIL (qsock_iodevice_can_read_line (DEV (sock)), 5000);

  assert_bytes (qsock_iodevice_read_line_bytes (DEV (sock), 0), "one\n");
  g_assert_cmpint (qsock_iodevice_read_line (DEV (sock), buf, sizeof buf), ==, 4);
  g_assert_cmpstr (buf, ==, "two\n");
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 7, 5000);
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, sizeof buf), ==, 6);
  g_assert_cmpmem (buf, 6, "three\n", 6);

  /* Switched off, bytes come as they are. */
  qsock_iodevice_set_text_mode_enabled (DEV (sock), FALSE);
  g_assert_false (qsock_iodevice_is_text_mode_enabled (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, RW);
  tu_write_all (pfd, "raw\r\n", 5);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 5, 5000);
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "raw\r\n");

  g_object_unref (sock);
  close (pfd);
}

/* tst socketDiscardDataInWriteMode: a WriteOnly socket reads and drops
 * what arrives, without ready-read. */
static void
test_write_only (void)
{
  int pfd;
  QSockTcp *sock = connected_pair_mode (QSOCK_OPEN_MODE_WRITE_ONLY, &pfd);
  TuRecorder *rec = tu_recorder_new (sock);
  char buf[8];

  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, QSOCK_OPEN_MODE_WRITE_ONLY);
  tu_write_all (pfd, "ignored", 7);
  tu_spin (200);
  g_assert_cmpuint (rec->n_ready_read, ==, 0);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 0);

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*WriteOnly device*");
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, sizeof buf), ==, -1);
  g_test_assert_expected_messages ();

  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "out", 3), ==, 3);
  TU_RUN_UNTIL (qsock_iodevice_bytes_to_write (DEV (sock)) == 0, 5000);
  tu_read_exact (pfd, buf, 3, 5000);
  g_assert_cmpmem (buf, 3, "out", 3);

  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
}

static void
test_read_only (void)
{
  int pfd;
  QSockTcp *sock = connected_pair_mode (QSOCK_OPEN_MODE_READ_ONLY, &pfd);

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*ReadOnly device*");
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "x", 1), ==, -1);
  g_test_assert_expected_messages ();

  tu_write_all (pfd, "in", 2);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 2, 5000);

  g_object_unref (sock);
  close (pfd);
}

/* ======================================================================
 * Buffered reading and writing (§3)
 * ====================================================================== */

static void
test_read_line (Pair          *f,
                gconstpointer  data)
{
  static const char lines[] = "line1\nline2\nlongerline\npartial";
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  char buf[64];

  tu_write_all (pfd, lines, strlen (lines));
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == (gint64) strlen (lines), 5000);

  g_assert_true (qsock_iodevice_can_read_line (DEV (sock)));
  /* 0 means no limit. */
  assert_bytes (qsock_iodevice_read_line_bytes (DEV (sock), 0), "line1\n");
  /* At most maxSize - 1 bytes, NUL-terminated. */
  memset (buf, 'X', sizeof buf);
  g_assert_cmpint (qsock_iodevice_read_line (DEV (sock), buf, 4), ==, 3);
  g_assert_cmpmem (buf, 4, "lin\0", 4);
  /* A limit beyond the newline stops at the newline. */
  assert_bytes (qsock_iodevice_read_line_bytes (DEV (sock), 4), "e2\n");
  assert_bytes (qsock_iodevice_read_line_bytes (DEV (sock), 5), "long");
  g_assert_cmpint (qsock_iodevice_read_line (DEV (sock), buf, sizeof buf), ==, 7);
  g_assert_cmpstr (buf, ==, "erline\n");
  /* A partial line is no line, but readLine returns it as it is. */
  g_assert_false (qsock_iodevice_can_read_line (DEV (sock)));
  assert_bytes (qsock_iodevice_read_line_bytes (DEV (sock), 0), "partial");

  /* Empty and connected: 0. */
  g_assert_cmpint (qsock_iodevice_read_line (DEV (sock), buf, sizeof buf), ==, 0);
  g_assert_false (qsock_iodevice_can_read_line (DEV (sock)));

  /* A line completed by a later arrival. */
  tu_write_all (pfd, "ab", 2);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 2, 5000);
  g_assert_false (qsock_iodevice_can_read_line (DEV (sock)));
  tu_write_all (pfd, "c\nd", 3);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 5, 5000);
  g_assert_true (qsock_iodevice_can_read_line (DEV (sock)));
  assert_bytes (qsock_iodevice_read_line_bytes (DEV (sock), 0), "abc\n");

  /* A line far longer than any chunk, arriving in pieces. */
  {
    const gsize len = 200 * 1024;
    char *line = g_malloc (len + 1);
    GBytes *got;

    memset (line, 'L', len);
    line[len] = '\n';
    tu_write_all (pfd, line, len / 2);
    TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == (gint64) (len / 2 + 1), 5000);
    g_assert_false (qsock_iodevice_can_read_line (DEV (sock)));
    tu_write_all (pfd, line + len / 2, len / 2 + 1);
    TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == (gint64) (len + 2), 5000);
    g_assert_true (qsock_iodevice_can_read_line (DEV (sock)));
    /* "d" is still in front from before. */
    g_assert_true (qsock_iodevice_get_char (DEV (sock), buf));
    g_assert_cmpint (buf[0], ==, 'd');
    /* A limit shorter than the line: maxSize - 1 bytes, the rest stays. */
    g_assert_cmpint (qsock_iodevice_read_line (DEV (sock), buf, sizeof buf), ==, sizeof buf - 1);
    g_assert_cmpint (buf[sizeof buf - 2], ==, 'L');
    g_assert_cmpint (buf[sizeof buf - 1], ==, '\0');
    got = qsock_iodevice_read_line_bytes (DEV (sock), 0);
    g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got),
                     line + sizeof buf - 1, len + 1 - (sizeof buf - 1));
    g_bytes_unref (got);
    g_free (line);
  }

  /* After the peer closed: the rest, then -1. */
  tu_write_all (pfd, "tail\n", 5);
  pair_close_peer (f);
  TU_RUN_UNTIL (rec->n_disconnected > 0, 5000);
  assert_bytes (qsock_iodevice_read_line_bytes (DEV (sock), 0), "tail\n");
  g_assert_cmpint (qsock_iodevice_read_line (DEV (sock), buf, sizeof buf), ==, -1);
}

static void
test_peek_unget_skip (Pair          *f,
                      gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  char buf[64];
  char c = 0;

  tu_write_all (pfd, "abcdefgh", 8);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 8, 5000);

  /* peek copies without consuming. */
  assert_bytes (qsock_iodevice_peek_bytes (DEV (sock), 3), "abc");
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 8);
  g_assert_cmpint (qsock_iodevice_peek (DEV (sock), buf, sizeof buf), ==, 8);
  g_assert_cmpmem (buf, 8, "abcdefgh", 8);

  /* ungetChar puts a byte back in front, any byte. */
  g_assert_true (qsock_iodevice_get_char (DEV (sock), &c));
  g_assert_cmpint (c, ==, 'a');
  qsock_iodevice_unget_char (DEV (sock), 'a');
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 8);
  assert_bytes (qsock_iodevice_read_bytes (DEV (sock), 2), "ab");
  qsock_iodevice_unget_char (DEV (sock), 'Z');
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 7);
  assert_bytes (qsock_iodevice_peek_bytes (DEV (sock), 2), "Zc");
  g_assert_true (qsock_iodevice_get_char (DEV (sock), &c));
  g_assert_cmpint (c, ==, 'Z');

  /* skip discards and counts. */
  g_assert_cmpint (qsock_iodevice_skip (DEV (sock), 3), ==, 3);
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "fgh");
  g_assert_cmpint (qsock_iodevice_skip (DEV (sock), 3), ==, 0);

  /* An unget newline after a failed line search makes a line. */
  tu_write_all (pfd, "xyz", 3);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 3, 5000);
  g_assert_false (qsock_iodevice_can_read_line (DEV (sock)));
  qsock_iodevice_unget_char (DEV (sock), '\n');
  g_assert_true (qsock_iodevice_can_read_line (DEV (sock)));
  assert_bytes (qsock_iodevice_read_line_bytes (DEV (sock), 0), "\n");
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "xyz");

  /* unget on an empty buffer. */
  qsock_iodevice_unget_char (DEV (sock), 'Q');
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 1);
  g_assert_false (qsock_iodevice_at_end (DEV (sock)));
  g_assert_true (qsock_iodevice_get_char (DEV (sock), &c));
  g_assert_cmpint (c, ==, 'Q');
  g_assert_true (qsock_iodevice_at_end (DEV (sock)));

  /* Peek sees the accumulated buffer across several arrivals
   * (qtbug14268_peek). */
  tu_write_all (pfd, "abc\n", 4);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 4, 5000);
  tu_write_all (pfd, "def\n", 4);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 8, 5000);
  assert_bytes (qsock_iodevice_peek_bytes (DEV (sock), 128 * 1024), "abc\ndef\n");
  g_assert_cmpint (qsock_iodevice_skip (DEV (sock), 100), ==, 8);

  /* At EOF skip says -1. */
  pair_close_peer (f);
  TU_RUN_UNTIL (rec->n_disconnected > 0, 5000);
  g_assert_cmpint (qsock_iodevice_skip (DEV (sock), 3), ==, -1);
}

static void
test_get_put_char (Pair          *f,
                   gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  char c = 0;

  g_assert_true (qsock_iodevice_put_char (DEV (sock), 'x'));
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 1);
  TU_RUN_UNTIL (qsock_iodevice_bytes_to_write (DEV (sock)) == 0, 5000);
  tu_read_exact (pfd, &c, 1, 5000);
  g_assert_cmpint (c, ==, 'x');

  g_assert_false (qsock_iodevice_get_char (DEV (sock), &c));
  tu_write_all (pfd, "y", 1);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 1, 5000);
  g_assert_true (qsock_iodevice_get_char (DEV (sock), &c));
  g_assert_cmpint (c, ==, 'y');
  /* The out argument is optional. */
  tu_write_all (pfd, "z", 1);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 1, 5000);
  g_assert_true (qsock_iodevice_get_char (DEV (sock), NULL));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 0);
}

/* tst_qtcpsocket::zeroAndMinusOneReturns */
static void
test_zero_and_minus_one (Pair          *f,
                         gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  char buf[16];

  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, sizeof buf), ==, 0);
  g_assert_true (qsock_iodevice_at_end (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 0);
  assert_bytes_empty (qsock_iodevice_read_all (DEV (sock)));
  assert_bytes_empty (qsock_iodevice_read_bytes (DEV (sock), 10));

  tu_write_all (pfd, "xy", 2);
  pair_close_peer (f);
  TU_RUN_UNTIL (rec->n_disconnected > 0, 5000);

  g_assert_false (qsock_iodevice_at_end (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, sizeof buf), ==, 2);
  g_assert_cmpmem (buf, 2, "xy", 2);
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, sizeof buf), ==, -1);
  g_assert_true (qsock_iodevice_at_end (DEV (sock)));
}

static void
test_transactions (Pair          *f,
                   gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  char buf[32];

  tu_write_all (pfd, "Hel", 3);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 3, 5000);

  qsock_iodevice_start_transaction (DEV (sock));
  g_assert_true (qsock_iodevice_is_transaction_started (DEV (sock)));
  /* A message is 7 bytes; only 3 are here: give them back. */
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, 7), ==, 3);
  g_assert_cmpmem (buf, 3, "Hel", 3);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 0);
  qsock_iodevice_rollback_transaction (DEV (sock));
  g_assert_false (qsock_iodevice_is_transaction_started (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 3);

  /* More arrives while a transaction is open. */
  qsock_iodevice_start_transaction (DEV (sock));
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, 2), ==, 2);
  tu_write_all (pfd, "lo", 2);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 3, 5000);
  tu_write_all (pfd, ", ", 2);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 5, 5000);
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "llo, ");
  qsock_iodevice_rollback_transaction (DEV (sock));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 7);

  /* The same bytes again; commit consumes them. */
  qsock_iodevice_start_transaction (DEV (sock));
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, 7), ==, 7);
  g_assert_cmpmem (buf, 7, "Hello, ", 7);
  qsock_iodevice_commit_transaction (DEV (sock));
  g_assert_false (qsock_iodevice_is_transaction_started (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 0);

  /* readLine, peek and getChar inside a transaction roll back too. */
  tu_write_all (pfd, "world\nrest", 10);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 10, 5000);
  qsock_iodevice_start_transaction (DEV (sock));
  assert_bytes (qsock_iodevice_read_line_bytes (DEV (sock), 0), "world\n");
  assert_bytes (qsock_iodevice_peek_bytes (DEV (sock), 2), "re");
  g_assert_true (qsock_iodevice_get_char (DEV (sock), buf));
  g_assert_cmpint (buf[0], ==, 'r');
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 3);

  /* ungetChar is refused during a transaction (Qt warns and ignores it). */
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*transaction is in progress*");
  qsock_iodevice_unget_char (DEV (sock), 'r');
  g_test_assert_expected_messages ();
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 3);

  /* Transactions do not nest. */
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*transaction*");
  qsock_iodevice_start_transaction (DEV (sock));
  g_test_assert_expected_messages ();

  qsock_iodevice_rollback_transaction (DEV (sock));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 10);
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "world\nrest");
}

typedef struct
{
  QSockTcp *sock;
  int       peer;
  guint     emissions;
  gint64    available_on_return;
} RecursionCtx;

static void
recursive_ready_read_cb (QSockIODevice *dev, RecursionCtx *ctx)
{
  ctx->emissions++;
  if (ctx->emissions > 1)
    return;

  /* More data arrives while this handler runs a nested loop. */
  tu_write_all (ctx->peer, "more", 4);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (dev) >= 9, 5000);
  ctx->available_on_return = qsock_iodevice_bytes_available (dev);
}

/* tst_qtcpsocket::recursiveReadyRead; probe_io R5 */
static void
test_ready_read_not_recursive (void)
{
  RecursionCtx ctx = { 0 };
  gulong id;

  ctx.sock = tu_connected_pair (&ctx.peer);
  id = g_signal_connect (ctx.sock, "ready-read", G_CALLBACK (recursive_ready_read_cb), &ctx);

  tu_write_all (ctx.peer, "hello", 5);
  TU_RUN_UNTIL (ctx.emissions > 0, 5000);
  g_assert_cmpint (ctx.available_on_return, ==, 9);

  /* Neither then nor later is the data that came during the handler
   * announced again. */
  tu_spin (200);
  g_assert_cmpuint (ctx.emissions, ==, 1);
  assert_bytes (qsock_iodevice_read_all (DEV (ctx.sock)), "hellomore");

  g_signal_handler_disconnect (ctx.sock, id);
  g_object_unref (ctx.sock);
  close (ctx.peer);
}

/* tst_qtcpsocket::waitForReadyReadInASlot: waiting inside ready-read
 * reads the new data, without a nested ready-read. */
static void
wait_in_ready_read_cb (QSockIODevice *dev, RecursionCtx *ctx)
{
  ctx->emissions++;
  if (ctx->emissions > 1)
    return;

  tu_write_all (ctx->peer, "more", 4);
  g_assert_true (qsock_iodevice_wait_for_ready_read (dev, 5000));
  ctx->available_on_return = qsock_iodevice_bytes_available (dev);
}

static void
test_wait_in_ready_read (void)
{
  RecursionCtx ctx = { 0 };
  gulong id;

  ctx.sock = tu_connected_pair (&ctx.peer);
  id = g_signal_connect (ctx.sock, "ready-read", G_CALLBACK (wait_in_ready_read_cb), &ctx);

  tu_write_all (ctx.peer, "hello", 5);
  TU_RUN_UNTIL (ctx.emissions > 0, 5000);
  g_assert_cmpint (ctx.available_on_return, ==, 9);
  tu_spin (200);
  g_assert_cmpuint (ctx.emissions, ==, 1);
  g_assert_cmpint (qsock_abstract_get_error (AS (ctx.sock)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);

  g_signal_handler_disconnect (ctx.sock, id);
  g_object_unref (ctx.sock);
  close (ctx.peer);
}

/* Every arrival is announced, read or not (§3.3, probe_io). */
static void
test_ready_read_per_arrival (Pair          *f,
                             gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;

  tu_write_all (pfd, "abc", 3);
  TU_RUN_UNTIL (rec->n_ready_read == 1, 5000);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 3);
  tu_write_all (pfd, "def", 3);
  TU_RUN_UNTIL (rec->n_ready_read == 2, 5000);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 6);
  tu_spin (100);
  g_assert_cmpuint (rec->n_ready_read, ==, 2);
  tu_recorder_assert (rec, "l:ready-read@Connected l:ready-read@Connected");
}

static void
test_write_and_flush (Pair          *f,
                      gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  gboolean flushed = FALSE;
  TuPeerJob job = { 0 };
  GThread *sink;
  char buf[4];

  /* Small writes queue and coalesce; flush() writes and signals inside. */
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "a", 1), ==, 1);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "b", 1), ==, 1);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "c", 1), ==, 1);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 3);
  TU_REC_CALL (rec, flushed = qsock_abstract_flush (AS (sock)));
  g_assert_true (flushed);
  tu_recorder_assert (rec, "s:bytes-written(3)@Connected");
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);
  tu_read_exact (pfd, buf, 3, 5000);
  g_assert_cmpmem (buf, 3, "abc", 3);

  /* Nothing to flush. */
  TU_REC_CALL (rec, flushed = qsock_abstract_flush (AS (sock)));
  g_assert_false (flushed);
  tu_recorder_assert (rec, "s:bytes-written(3)@Connected");

  /* A big write returns at once with everything queued; the loop writes
   * it, and the bytes-written sum adds up. */
  tu_recorder_reset (rec);
  job.fd = pfd;
  sink = tu_sink_start (&job);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), (const char *) tu_pattern (), 100000), ==, 100000);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 100000);
  tu_recorder_assert (rec, "");
  for (int i = 0; i < 10; i++)
    {
      gsize len;
      const guint8 *p = tu_pattern_at (100000 + i * 1000, 1000, &len);
      g_assert_cmpint (qsock_iodevice_write (DEV (sock), (const char *) p, len), ==, len);
    }
  TU_RUN_UNTIL (rec->bytes_written == 110000, 10000);
  tu_recorder_assert (rec, "l:bytes-written(110000)@Connected");
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);

  /* GBytes form. */
  {
    GBytes *bytes = g_bytes_new_static (tu_pattern () + 110000, 5000);
    g_assert_cmpint (qsock_iodevice_write_bytes (DEV (sock), bytes), ==, 5000);
    g_bytes_unref (bytes);
  }
  qsock_abstract_disconnect_from_host (AS (sock));
  TU_RUN_UNTIL (rec->n_disconnected > 0, 10000);
  g_thread_join (sink);
  g_assert_cmpuint (job.transferred, ==, 115000);
  {
    g_autofree char *sum = tu_pattern_checksum (115000);
    g_assert_cmpstr (job.checksum, ==, sum);
  }

  g_free (job.checksum);
}

/* bytesWritten is never emitted from inside a bytesWritten handler, even
 * if the handler writes and flushes (§3.5, emitBytesWritten's guard). */
typedef struct
{
  guint depth;
  guint max_depth;
  guint emissions;
} WrittenCtx;

static void
nested_bytes_written_cb (QSockIODevice *dev, gint64 n, WrittenCtx *ctx)
{
  ctx->depth++;
  ctx->emissions++;
  ctx->max_depth = MAX (ctx->max_depth, ctx->depth);
  if (ctx->emissions < 5)
    {
      g_assert_cmpint (qsock_iodevice_write (dev, "more", 4), ==, 4);
      qsock_abstract_flush (QSOCK_ABSTRACT (dev));
    }
  ctx->depth--;
}

static void
test_bytes_written_not_recursive (Pair          *f,
                                  gconstpointer  data)
{
  QSockTcp *sock = f->sock;
  WrittenCtx ctx = { 0 };
  gulong id = g_signal_connect (sock, "bytes-written", G_CALLBACK (nested_bytes_written_cb), &ctx);

  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "start", 5), ==, 5);
  TU_RUN_UNTIL (ctx.emissions > 0 && qsock_iodevice_bytes_to_write (DEV (sock)) == 0, 5000);
  tu_spin (100);
  g_assert_cmpuint (ctx.max_depth, ==, 1);

  g_signal_handler_disconnect (sock, id);
}

/* ======================================================================
 * readBufferSize backpressure (§3.4)
 * ====================================================================== */

typedef struct
{
  QSockTcp  *sock;
  GChecksum *sum;
  guint64    received;
  gint64     max_available;
  guint      over_limit;
  guint      ready_reads;
  guint8    *buf;
} FloodReader;

static void
flood_drain (QSockIODevice *dev, FloodReader *fr)
{
  gint64 n;

  while ((n = qsock_iodevice_read (dev, (char *) fr->buf, 256 * 1024)) > 0)
    {
      g_checksum_update (fr->sum, fr->buf, n);
      fr->received += n;
    }
}

static void
flood_ready_read_cb (QSockIODevice *dev, FloodReader *fr)
{
  gint64 avail = qsock_iodevice_bytes_available (dev);

  fr->ready_reads++;
  fr->max_available = MAX (fr->max_available, avail);
  if (avail > 65536)
    fr->over_limit++;

  /* Let the buffer fill up to the limit, then drain it completely: only a
   * full drain lets reading resume. */
  if (avail >= 65536)
    flood_drain (dev, fr);
}

static void
test_backpressure_flood (Pair          *f,
                         gconstpointer  data)
{
  const guint64 total = 64 * MIB;
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  FloodReader fr = { .sock = sock };
  TuPeerJob job = { .total = total, .shutdown_at_end = TRUE };
  GThread *flood;
  gulong id;

  fr.sum = g_checksum_new (G_CHECKSUM_SHA1);
  fr.buf = g_malloc (256 * 1024);
  qsock_abstract_set_read_buffer_size (AS (sock), 65536);
  g_assert_cmpint (qsock_abstract_get_read_buffer_size (AS (sock)), ==, 65536);
  id = g_signal_connect (sock, "ready-read", G_CALLBACK (flood_ready_read_cb), &fr);

  job.fd = pfd;
  flood = tu_flood_start (&job);
  TU_RUN_UNTIL (rec->n_disconnected > 0, 120000);
  g_thread_join (flood);
  /* The tail (less than the limit) is still buffered after the close. */
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), <=, 65536);
  flood_drain (DEV (sock), &fr);

  g_assert_cmpint (job.error, ==, 0);
  g_assert_cmpuint (job.transferred, ==, total);
  g_assert_cmpuint (fr.received, ==, total);
  g_assert_cmpstr (g_checksum_get_string (fr.sum), ==, job.checksum);
  g_assert_cmpuint (fr.over_limit, ==, 0);
  g_assert_cmpint (fr.max_available, ==, 65536);
  g_assert_cmpuint (fr.ready_reads, >=, total / 65536);
  g_test_message ("%u ready-read, at most %" G_GINT64_FORMAT " bytes buffered",
                  fr.ready_reads, fr.max_available);

  g_signal_handler_disconnect (sock, id);
  g_checksum_free (fr.sum);
  g_free (fr.buf);
  g_free (job.checksum);
}

/* The observed rule: limit 10, 100 bytes sent (§3.4). */
static void
test_backpressure_resume_rule (Pair          *f,
                               gconstpointer  data)
{
  int pfd = f->peer;
  QSockTcp *sock = f->sock;
  TuRecorder *rec = f->rec;
  GBytes *rest;
  char buf[10];
  guint before;

  qsock_abstract_set_read_buffer_size (AS (sock), 10);
  tu_write_all (pfd, tu_pattern (), 100);

  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) >= 10, 5000);
  tu_spin (100);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 10);
  g_assert_cmpuint (rec->n_ready_read, >=, 1);

  /* A partial read does not resume reading. */
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, 5), ==, 5);
  g_assert_cmpmem (buf, 5, tu_pattern (), 5);
  before = rec->n_ready_read;
  tu_spin (200);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 5);
  g_assert_cmpuint (rec->n_ready_read, ==, before);

  /* Draining it does. */
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, 5), ==, 5);
  g_assert_cmpmem (buf, 5, tu_pattern () + 5, 5);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 10 && rec->n_ready_read > before, 5000);
  tu_spin (100);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 10);

  /* So does raising the limit ... */
  before = rec->n_ready_read;
  qsock_abstract_set_read_buffer_size (AS (sock), 50);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 50 && rec->n_ready_read > before, 5000);
  tu_spin (100);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 50);

  /* ... or lifting it. */
  before = rec->n_ready_read;
  qsock_abstract_set_read_buffer_size (AS (sock), 0);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 90 && rec->n_ready_read > before, 5000);

  rest = qsock_iodevice_read_all (DEV (sock));
  g_assert_cmpmem (g_bytes_get_data (rest, NULL), g_bytes_get_size (rest), tu_pattern () + 10, 90);
  g_bytes_unref (rest);
}

/* ======================================================================
 * Integrity: 256 MiB each way at once, client and server side
 * ====================================================================== */

typedef struct
{
  QSockIODevice *dev;
  guint64        total;
  guint64        sent;
  guint64        received;
  GChecksum     *rx_sum;
  guint8        *buf;
} Pump;

#define PUMP_QUEUE (4 * MIB)
#define PUMP_CHUNK (1 * MIB)

static void
pump_fill (Pump *p)
{
  while (p->sent < p->total && qsock_iodevice_bytes_to_write (p->dev) < PUMP_QUEUE)
    {
      gsize len;
      const guint8 *d = tu_pattern_at (p->sent, MIN (p->total - p->sent, PUMP_CHUNK), &len);

      g_assert_cmpint (qsock_iodevice_write (p->dev, (const char *) d, len), ==, len);
      p->sent += len;
    }
}

static void
pump_bytes_written_cb (QSockIODevice *dev, gint64 n, Pump *p)
{
  pump_fill (p);
}

static void
pump_ready_read_cb (QSockIODevice *dev, Pump *p)
{
  gint64 n;

  while ((n = qsock_iodevice_read (dev, (char *) p->buf, PUMP_CHUNK)) > 0)
    {
      g_checksum_update (p->rx_sum, p->buf, n);
      p->received += n;
    }
}

static void
pump_init (Pump *p, gpointer sock, guint64 total)
{
  p->dev = QSOCK_IODEVICE (sock);
  p->total = total;
  p->rx_sum = g_checksum_new (G_CHECKSUM_SHA1);
  p->buf = g_malloc (PUMP_CHUNK);
  g_signal_connect (sock, "bytes-written", G_CALLBACK (pump_bytes_written_cb), p);
  g_signal_connect (sock, "ready-read", G_CALLBACK (pump_ready_read_cb), p);
}

static void
pump_clear (Pump *p)
{
  g_signal_handlers_disconnect_by_data (p->dev, p);
  g_checksum_free (p->rx_sum);
  g_free (p->buf);
}

static void
new_connection_take_cb (QSockTcpServer *server, QSockTcp **out)
{
  if (*out == NULL)
    *out = qsock_tcp_server_next_pending_connection (server);
}

static void
test_integrity_both_ways (void)
{
  const guint64 total = 256 * MIB;
  QSockTcpServer *server = qsock_tcp_server_new ();
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  QSockTcp *client = qsock_tcp_new ();
  QSockTcp *accepted = NULL;
  g_autofree char *expected = NULL;
  Pump a = { 0 }, b = { 0 };
  gint64 start;

  g_assert_true (qsock_tcp_server_listen (server, lo, 0));
  g_signal_connect (server, "new-connection", G_CALLBACK (new_connection_take_cb), &accepted);
  qsock_abstract_connect_to_host (AS (client), "127.0.0.1",
                                  qsock_tcp_server_get_server_port (server), RW, ANY_IP);
  TU_RUN_UNTIL (accepted != NULL &&
                qsock_abstract_get_state (AS (client)) == QSOCK_SOCKET_STATE_CONNECTED, 5000);
  g_assert_cmpint (qsock_abstract_get_state (AS (accepted)), ==, QSOCK_SOCKET_STATE_CONNECTED);

  expected = tu_pattern_checksum (total);
  pump_init (&a, client, total);
  pump_init (&b, accepted, total);

  start = g_get_monotonic_time ();
  pump_fill (&a);
  pump_fill (&b);
  TU_RUN_UNTIL (a.received == total && b.received == total, 120000);
  g_test_message ("2 x 256 MiB in %.2f s", (g_get_monotonic_time () - start) / 1e6);

  g_assert_cmpuint (a.sent, ==, total);
  g_assert_cmpuint (b.sent, ==, total);
  g_assert_cmpstr (g_checksum_get_string (a.rx_sum), ==, expected);
  g_assert_cmpstr (g_checksum_get_string (b.rx_sum), ==, expected);
  g_assert_cmpint (qsock_abstract_get_state (AS (client)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_cmpint (qsock_abstract_get_state (AS (accepted)), ==, QSOCK_SOCKET_STATE_CONNECTED);

  pump_clear (&a);
  pump_clear (&b);
  g_object_unref (accepted);
  g_object_unref (client);
  g_object_unref (server);
  g_object_unref (lo);
}

/* ======================================================================
 * Socket options, descriptors
 * ====================================================================== */

static int
fd_option (int fd, int level, int name)
{
  int value = -1;
  socklen_t len = sizeof value;

  g_assert_cmpint (getsockopt (fd, level, name, &value, &len), ==, 0);
  return value;
}

static void
test_socket_options (Pair          *f,
                     gconstpointer  data)
{
  int fd;
  QSockTcp *sock = f->sock;
  int value = -1;

  fd = qsock_abstract_get_socket_descriptor (AS (sock));
  g_assert_cmpint (fd, >=, 0);

  qsock_abstract_set_socket_option (AS (sock), QSOCK_SOCKET_OPTION_LOW_DELAY, 1);
  g_assert_true (qsock_abstract_get_socket_option (AS (sock), QSOCK_SOCKET_OPTION_LOW_DELAY, &value));
  g_assert_cmpint (value, ==, 1);
  g_assert_cmpint (fd_option (fd, IPPROTO_TCP, TCP_NODELAY), !=, 0);

  qsock_abstract_set_socket_option (AS (sock), QSOCK_SOCKET_OPTION_LOW_DELAY, 0);
  g_assert_true (qsock_abstract_get_socket_option (AS (sock), QSOCK_SOCKET_OPTION_LOW_DELAY, &value));
  g_assert_cmpint (value, ==, 0);
  g_assert_cmpint (fd_option (fd, IPPROTO_TCP, TCP_NODELAY), ==, 0);

  qsock_abstract_set_socket_option (AS (sock), QSOCK_SOCKET_OPTION_KEEP_ALIVE, 1);
  g_assert_true (qsock_abstract_get_socket_option (AS (sock), QSOCK_SOCKET_OPTION_KEEP_ALIVE, &value));
  g_assert_cmpint (value, ==, 1);
  g_assert_cmpint (fd_option (fd, SOL_SOCKET, SO_KEEPALIVE), !=, 0);

  qsock_abstract_set_socket_option (AS (sock), QSOCK_SOCKET_OPTION_KEEP_ALIVE, 0);
  g_assert_true (qsock_abstract_get_socket_option (AS (sock), QSOCK_SOCKET_OPTION_KEEP_ALIVE, &value));
  g_assert_cmpint (value, ==, 0);
  g_assert_cmpint (fd_option (fd, SOL_SOCKET, SO_KEEPALIVE), ==, 0);

  /* Buffer sizes read back what the kernel reports. */
  qsock_abstract_set_socket_option (AS (sock), QSOCK_SOCKET_OPTION_SEND_BUFFER_SIZE, 65536);
  g_assert_true (qsock_abstract_get_socket_option (AS (sock), QSOCK_SOCKET_OPTION_SEND_BUFFER_SIZE, &value));
  g_assert_cmpint (value, ==, fd_option (fd, SOL_SOCKET, SO_SNDBUF));
  g_assert_cmpint (value, >=, 65536);
  qsock_abstract_set_socket_option (AS (sock), QSOCK_SOCKET_OPTION_RECEIVE_BUFFER_SIZE, 65536);
  g_assert_true (qsock_abstract_get_socket_option (AS (sock), QSOCK_SOCKET_OPTION_RECEIVE_BUFFER_SIZE, &value));
  g_assert_cmpint (value, ==, fd_option (fd, SOL_SOCKET, SO_RCVBUF));
  g_assert_cmpint (value, >=, 65536);
}

static void
test_socket_options_unconnected (void)
{
  QSockTcp *sock = qsock_tcp_new ();
  int value = 42;

  /* No engine: get fails, set is ignored. */
  g_assert_false (qsock_abstract_get_socket_option (AS (sock), QSOCK_SOCKET_OPTION_LOW_DELAY, &value));
  g_assert_false (qsock_abstract_get_socket_option (AS (sock), QSOCK_SOCKET_OPTION_KEEP_ALIVE, &value));
  qsock_abstract_set_socket_option (AS (sock), QSOCK_SOCKET_OPTION_LOW_DELAY, 1);
  g_assert_false (qsock_abstract_get_socket_option (AS (sock), QSOCK_SOCKET_OPTION_LOW_DELAY, &value));
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);

  g_object_unref (sock);
}

static void
test_descriptor_adopt (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  int fd = tu_connect (port);
  int pfd = tu_accept (lfd, 5000);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = FALSE;
  char buf[4];

  TU_REC_CALL (rec, ok = qsock_abstract_set_socket_descriptor (AS (sock), fd,
                                                               QSOCK_SOCKET_STATE_CONNECTED, RW));
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:state-changed(Connected)@Connected");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, RW);
  g_assert_cmpint (qsock_abstract_get_socket_descriptor (AS (sock)), ==, fd);
  g_assert_cmpuint (qsock_abstract_get_peer_port (AS (sock)), ==, port);
  g_assert_cmpuint (qsock_abstract_get_local_port (AS (sock)), ==, tu_peer_port_of (pfd));
  assert_peer_address (sock, "127.0.0.1");

  /* I/O works both ways. */
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "ping", 4), ==, 4);
  TU_RUN_UNTIL (qsock_iodevice_bytes_to_write (DEV (sock)) == 0, 5000);
  tu_read_exact (pfd, buf, 4, 5000);
  g_assert_cmpmem (buf, 4, "ping", 4);
  tu_write_all (pfd, "pong", 4);
  TU_RUN_UNTIL (rec->n_ready_read > 0, 5000);
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "pong");

  /* The socket owns the descriptor now. */
  tu_recorder_free (rec);
  g_object_unref (sock);
  g_assert_true (tu_sees_eof (pfd, 5000));
  g_assert_cmpint (fcntl (fd, F_GETFD), ==, -1);

  close (pfd);
  close (lfd);
}

static void
test_descriptor_socketpair (void)
{
  int sv[2];
  QSockTcp *sock = qsock_tcp_new ();
  char buf[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  g_assert_true (qsock_abstract_set_socket_descriptor (AS (sock), sv[0],
                                                       QSOCK_SOCKET_STATE_CONNECTED, RW));
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTED);

  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "hi", 2), ==, 2);
  TU_RUN_UNTIL (qsock_iodevice_bytes_to_write (DEV (sock)) == 0, 5000);
  tu_read_exact (sv[1], buf, 2, 5000);
  g_assert_cmpmem (buf, 2, "hi", 2);

  tu_write_all (sv[1], "yo", 2);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 2, 5000);
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "yo");

  g_object_unref (sock);
  close (sv[1]);
}

static void
test_descriptor_invalid (void)
{
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  gboolean ok = TRUE;
  int unused = 987;

  TU_REC_CALL (rec, ok = qsock_abstract_set_socket_descriptor (AS (sock), -5,
                                                               QSOCK_SOCKET_STATE_CONNECTED, RW));
  g_assert_false (ok);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Invalid socket descriptor");
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  tu_recorder_assert (rec, "");

  /* A number that is no open descriptor. */
  while (fcntl (unused, F_GETFD) != -1)
    unused++;
  TU_REC_CALL (rec, ok = qsock_abstract_set_socket_descriptor (AS (sock), unused,
                                                               QSOCK_SOCKET_STATE_CONNECTED, RW));
  g_assert_false (ok);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Invalid socket descriptor");
  tu_recorder_assert (rec, "");

  tu_recorder_free (rec);
  g_object_unref (sock);
}

/* ======================================================================
 * GObject properties (what bindings see)
 * ====================================================================== */

static void
count_notify_cb (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

static void
test_properties (void)
{
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  QSockTcp *sock = qsock_tcp_new ();
  TuRecorder *rec = tu_recorder_new (sock);
  guint state_notifies = 0;
  GInetAddress *peer = NULL, *local = NULL;
  char *peer_name = NULL, *error_string = NULL, *peer_str;
  guint peer_port = 0, local_port = 0;
  int fd = -2, state = -1, type = -2, error = -2;
  guint open_mode = 0;
  gint64 rbs = -1;
  int pfd;

  g_signal_connect (sock, "notify::state", G_CALLBACK (count_notify_cb), &state_notifies);
  qsock_abstract_connect_to_host (AS (sock), "127.0.0.1", port, RW, ANY_IP);
  TU_RUN_UNTIL (rec->n_connected == 1, 5000);
  pfd = tu_accept (lfd, 5000);
  /* One notification per change of state. */
  g_assert_cmpuint (state_notifies, ==, rec->n_state_changes);

  qsock_abstract_set_read_buffer_size (AS (sock), 4096);
  g_object_get (sock,
                "state", &state,
                "socket-type", &type,
                "error", &error,
                "error-string", &error_string,
                "peer-address", &peer,
                "peer-name", &peer_name,
                "peer-port", &peer_port,
                "local-address", &local,
                "local-port", &local_port,
                "socket-descriptor", &fd,
                "open-mode", &open_mode,
                "read-buffer-size", &rbs,
                NULL);
  g_assert_cmpint (state, ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_cmpint (type, ==, QSOCK_SOCKET_TYPE_TCP);
  g_assert_cmpint (error, ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (error_string, ==, "Unknown error");
  peer_str = g_inet_address_to_string (peer);
  g_assert_cmpstr (peer_str, ==, "127.0.0.1");
  g_assert_cmpstr (peer_name, ==, "127.0.0.1");
  g_assert_cmpuint (peer_port, ==, port);
  g_assert_true (G_IS_INET_ADDRESS (local));
  g_assert_cmpuint (local_port, ==, tu_peer_port_of (pfd));
  g_assert_cmpint (fd, ==, qsock_abstract_get_socket_descriptor (AS (sock)));
  g_assert_cmpuint (open_mode, ==, RW);
  g_assert_cmpint (rbs, ==, 4096);

  /* Writable ones go through the setters. */
  g_object_set (sock, "read-buffer-size", (gint64) 0, NULL);
  g_assert_cmpint (qsock_abstract_get_read_buffer_size (AS (sock)), ==, 0);

  g_free (peer_str);
  g_free (peer_name);
  g_free (error_string);
  g_object_unref (peer);
  g_object_unref (local);
  g_signal_handlers_disconnect_by_data (sock, &state_notifies);
  tu_recorder_free (rec);
  g_object_unref (sock);
  close (pfd);
  close (lfd);
}

/* ======================================================================
 * Descriptors do not leak
 * ====================================================================== */

static guint
count_open_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_dir_close (dir);
  return n;
}

static void
test_no_fd_leak (void)
{
  guint16 port, refused_port;
  int lfd = tu_listen (AF_INET, 64, &port);
  int rfd = tu_refusing_socket (&refused_port);
  guint before = 0;

  /* Two rounds first (a literal and a name): GLib sets up its own
   * descriptors lazily. */
  for (int round = 0; round < 32; round++)
    {
      QSockTcp *sock = qsock_tcp_new ();
      QSockTcp *failing = qsock_tcp_new ();
      TuRecorder *rec = tu_recorder_new (failing);
      int pfd;

      if (round == 2)
        before = count_open_fds ();

      qsock_abstract_connect_to_host (AS (sock), round % 2 ? "localhost" : "127.0.0.1",
                                      port, RW, ANY_IP);
      qsock_abstract_connect_to_host (AS (failing), "127.0.0.1", refused_port, RW, ANY_IP);
      TU_RUN_UNTIL (qsock_abstract_get_state (AS (sock)) == QSOCK_SOCKET_STATE_CONNECTED &&
                    rec->n_errors > 0, 10000);
      pfd = tu_accept (lfd, 5000);
      switch (round % 3)
        {
        case 0: qsock_abstract_disconnect_from_host (AS (sock)); break;
        case 1: qsock_abstract_abort (AS (sock)); break;
        default: close (pfd); pfd = -1;
                 TU_RUN_UNTIL (qsock_abstract_get_state (AS (sock)) == QSOCK_SOCKET_STATE_UNCONNECTED,
                               5000);
        }
      tu_recorder_free (rec);
      g_object_unref (failing);
      g_object_unref (sock);
      if (pfd >= 0)
        close (pfd);
      tu_spin (10);
    }

  g_assert_cmpuint (count_open_fds (), ==, before);

  close (rfd);
  close (lfd);
}

int
main (int argc, char **argv)
{
  /* A write to a dead peer must come back as an error, not kill us. */
  signal (SIGPIPE, SIG_DFL);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tcp/defaults", test_defaults);

  g_test_add_func ("/tcp/connect/ipv4-literal", test_connect_ipv4_literal);
  g_test_add_func ("/tcp/connect/ipv6-literal", test_connect_ipv6_literal);
  g_test_add_func ("/tcp/connect/localhost", test_connect_localhost);
  g_test_add_func ("/tcp/connect/refused", test_connect_refused);
  g_test_add_func ("/tcp/connect/host-not-found", test_connect_host_not_found);
  add_pair_test ("/tcp/connect/while-connected", test_connect_while_connected);
  g_test_add_func ("/tcp/connect/bind-then-connect", test_bind_then_connect);
  g_test_add_func ("/tcp/connect/bind-errors", test_bind_errors);
  g_test_add_func ("/tcp/connect/to-address", test_connect_to_address);
  g_test_add_func ("/tcp/connect/protocol-filter", test_connect_protocol_filter);
  g_test_add_func ("/tcp/connect/write-and-disconnect-while-looking-up",
                   test_write_and_disconnect_while_looking_up);
  g_test_add_func ("/tcp/connect/abort-looking-up", test_abort_looking_up);
  g_test_add_func ("/tcp/connect/reconnect", test_reconnect);
  g_test_add_func ("/tcp/connect/thread-own-context", test_thread_own_context);

  add_pair_test ("/tcp/close/remote-close-with-data", test_remote_close_with_data);
  add_pair_test ("/tcp/close/remote-close-no-data", test_remote_close_no_data);
  add_pair_test ("/tcp/close/peer-reset", test_peer_reset);
  add_pair_test ("/tcp/close/disconnect-empty", test_disconnect_empty);
  add_pair_test ("/tcp/close/disconnect-4mib", test_disconnect_4mib);
  add_pair_test ("/tcp/close/abort", test_abort);
  add_pair_test ("/tcp/close/close-pending", test_close_pending);
  add_pair_test ("/tcp/close/close-empty", test_close_empty);
  g_test_add_func ("/tcp/close/abort-connecting", test_abort_connecting);
  g_test_add_func ("/tcp/close/disconnect-connecting", test_disconnect_connecting);
  add_pair_test ("/tcp/close/write-after-reset", test_write_after_reset);
  add_pair_test ("/tcp/close/no-sigpipe", test_no_sigpipe);
  g_test_add_func ("/tcp/close/unref-closes", test_unref_closes);
  add_pair_test ("/tcp/close/close-in-error-handler", test_close_in_error_handler);
  add_pair_test ("/tcp/close/abort-while-closing", test_abort_while_closing);
  g_test_add_func ("/tcp/close/close-connecting", test_close_connecting);
  g_test_add_func ("/tcp/close/unref-in-handler", test_unref_in_handler);
  g_test_add_func ("/tcp/close/unref-while-connecting", test_unref_while_connecting);
  g_test_add_func ("/tcp/close/reconnect-from-handler", test_reconnect_from_handler);
  add_pair_test ("/tcp/close/write-while-closing", test_write_while_closing);

  g_test_add_func ("/tcp/misuse/not-open", test_not_open);
  add_pair_test ("/tcp/misuse/bad-sizes", test_bad_sizes);
  g_test_add_func ("/tcp/misuse/write-only", test_write_only);
  g_test_add_func ("/tcp/misuse/read-only", test_read_only);

  add_pair_test ("/tcp/io/read-line", test_read_line);
  add_pair_test ("/tcp/io/peek-unget-skip", test_peek_unget_skip);
  add_pair_test ("/tcp/io/get-put-char", test_get_put_char);
  add_pair_test ("/tcp/io/zero-and-minus-one", test_zero_and_minus_one);
  add_pair_test ("/tcp/io/transactions", test_transactions);
  g_test_add_func ("/tcp/io/ready-read-not-recursive", test_ready_read_not_recursive);
  g_test_add_func ("/tcp/io/wait-in-ready-read", test_wait_in_ready_read);
  add_pair_test ("/tcp/io/ready-read-per-arrival", test_ready_read_per_arrival);
  add_pair_test ("/tcp/io/write-and-flush", test_write_and_flush);
  add_pair_test ("/tcp/io/bytes-written-not-recursive", test_bytes_written_not_recursive);

  add_pair_test ("/tcp/backpressure/flood-64mib", test_backpressure_flood);
  add_pair_test ("/tcp/backpressure/resume-rule", test_backpressure_resume_rule);

  g_test_add_func ("/tcp/integrity/256mib-both-ways", test_integrity_both_ways);

  add_pair_test ("/tcp/options/low-delay-keep-alive", test_socket_options);
  g_test_add_func ("/tcp/options/unconnected", test_socket_options_unconnected);

  g_test_add_func ("/tcp/descriptor/adopt-connected", test_descriptor_adopt);
  g_test_add_func ("/tcp/descriptor/adopt-socketpair", test_descriptor_socketpair);
  g_test_add_func ("/tcp/descriptor/invalid", test_descriptor_invalid);
  g_test_add_func ("/tcp/descriptor/no-leak", test_no_fd_leak);

  g_test_add_func ("/tcp/properties/connected", test_properties);

  g_test_add_func ("/tcp/text-mode/crlf", test_text_mode);

  return g_test_run ();
}
