/* test-udp.c: QSockUdp and QSockDatagram against Qt 6's QUdpSocket and
 * QNetworkDatagram
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The expectations are QT-BEHAVIOUR.md §2.6 (bind, auto-bind, connected
 * UDP), §4 (the datagram API, ready-read, multicast, options) and §7.1
 * (error texts), observed with Qt 6.4.2 on Linux loopback, plus Qt's own
 * tst_qnetworkdatagram for QSockDatagram. A recorder logs every emission
 * as "s:" (inside the call under test) or "l:" (later, from the main
 * loop). Everything runs on 127.0.0.1 and ::1 (multicast and broadcast on
 * "lo"). What the kernel here cannot do is skipped with the reason; it is
 * asked first with plain sockets, so a skip never hides a library bug.
 * Deliberate differences from Qt are asserted as the library documents
 * them, with a comment naming what Qt does.
 */
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <qsock-glib/qsock.h>

#include "test-util.h"

#define AS(s) QSOCK_ABSTRACT (s)
#define DEV(s) QSOCK_IODEVICE (s)
#define RW QSOCK_OPEN_MODE_READ_WRITE
#define ANY_IP QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP
#define DEFAULT_BIND QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM

/* Guards for things that happen at once on loopback. */
#define WAIT_MS 5000

/* ---- helpers ----------------------------------------------------------- */

/* Takes @address. */
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

/* @expr gives a new reference (or NULL); @expected a string or NULL. */
#define assert_address(expr, expected)                                        \
  G_STMT_START {                                                              \
    char *a_ = address_string (expr);                                         \
    g_assert_cmpstr (a_, ==, (expected));                                     \
    g_free (a_);                                                              \
  } G_STMT_END

/* Takes @bytes. */
#define assert_bytes(bytes, expected)                                         \
  G_STMT_START {                                                              \
    GBytes *b_ = (bytes);                                                     \
    gsize n_ = 0;                                                             \
    const char *d_;                                                           \
    g_assert_nonnull (b_);                                                    \
    d_ = g_bytes_get_data (b_, &n_);                                          \
    g_assert_cmpmem (d_, n_, (expected), strlen (expected));                  \
    g_bytes_unref (b_);                                                       \
  } G_STMT_END

#define assert_datagram_data(datagram, expected) \
  assert_bytes (qsock_datagram_get_data (datagram), expected)

static GInetAddress *
special (QSockSpecialAddress which)
{
  return qsock_host_address_new_special (which);
}

static GInetAddress *
inet (const char *text)
{
  GInetAddress *address = g_inet_address_new_from_string (text);

  g_assert_nonnull (address);
  return address;
}

/* A socket bound to @which (port 0); fails the test if it cannot be. */
static QSockUdp *
bound_to (QSockSpecialAddress which)
{
  GInetAddress *address = special (which);
  QSockUdp *udp = qsock_udp_new ();

  g_assert_true (qsock_abstract_bind (AS (udp), address, 0, DEFAULT_BIND));
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_BOUND);
  g_object_unref (address);
  return udp;
}

static guint16
port_of (QSockUdp *udp)
{
  return qsock_abstract_get_local_port (AS (udp));
}

static int
fd_of (QSockUdp *udp)
{
  return qsock_abstract_get_socket_descriptor (AS (udp));
}

static guint
loopback_index (void)
{
  guint index = if_nametoindex ("lo");

  g_assert_cmpuint (index, !=, 0);
  return index;
}

/* Waits (without the main loop) until a datagram waits in @udp's socket. */
static void
wait_datagram (QSockUdp *udp)
{
  if (!tu_wait_readable (fd_of (udp), WAIT_MS))
    g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                         "timed out waiting for a datagram");
}

/* Sends @text from @from to @address:@port and checks it all went. */
static void
send_text (QSockUdp     *from,
           const char   *text,
           GInetAddress *address,
           guint16       port)
{
  g_assert_cmpint (qsock_udp_write_datagram (from, text, strlen (text), address, port), ==,
                   (gint64) strlen (text));
}

/* Sends @text from @from to @to's loopback address and port. */
static void
send_to (QSockUdp   *from,
         const char *text,
         QSockUdp   *to)
{
  GInetAddress *address = qsock_abstract_get_local_address (AS (to));

  send_text (from, text, address, port_of (to));
  g_object_unref (address);
}

/* A port on 127.0.0.1 where nobody listens (for ICMP refusals). */
static guint16
closed_udp_port (void)
{
  guint16 port;
  int fd = tu_udp_socket (AF_INET, &port);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  return port;
}

static void G_GNUC_PRINTF (1, 2)
skip_printf (const char *format,
             ...)
{
  va_list args;
  char *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_test_skip (message);
  g_free (message);
}

/* Qt: senderPort() and destinationPort() are -1 whenever the address is
 * null, whatever port was stored with it. */
static void
check_ports_of_null_addresses (QSockDatagram *datagram)
{
  GInetAddress *sender = qsock_datagram_get_sender_address (datagram);
  GInetAddress *destination = qsock_datagram_get_destination_address (datagram);

  if (sender == NULL)
    g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, -1);
  if (destination == NULL)
    g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, -1);
  g_clear_object (&sender);
  g_clear_object (&destination);
}

/* A group unlikely to be shared with another run of this test. */
static char *
multicast_group_v4 (void)
{
  guint pid = (guint) getpid ();

  return g_strdup_printf ("239.255.%u.%u", (pid >> 8) & 0xff, pid & 0xff);
}

static char *
multicast_group_v6 (void)
{
  return g_strdup_printf ("ff02::5157:%x", (guint) getpid () & 0xffff);
}

static int
option (QSockUdp         *udp,
        QSockSocketOption which)
{
  int value = -12345;

  g_assert_true (qsock_abstract_get_socket_option (AS (udp), which, &value));
  return value;
}

/* ---- what the kernel here can do, asked with plain sockets ------------ */

/* So a skip never hides a library bug: the tests that depend on the
 * kernel ask it first, without the library, and then hold the library
 * to what the kernel did. Each returns NULL if it works, else why not. */

typedef enum {
  PROBE_JOIN,     /* joining a group on lo */
  PROBE_DELIVER,  /* joining, and a datagram sent by lo coming back */
} ProbeDepth;

static char *
probe_result (int         fds[2],
              char       *problem)
{
  for (guint i = 0; i < 2; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  return problem;
}

static char *
kernel_multicast_problem (const char *group_text,
                          ProbeDepth  depth)
{
  GInetAddress *group = inet (group_text);
  gboolean v6 = g_inet_address_get_family (group) == G_SOCKET_FAMILY_IPV6;
  int family = v6 ? AF_INET6 : AF_INET;
  int fds[2] = { socket (family, SOCK_DGRAM | SOCK_CLOEXEC, 0), socket (family, SOCK_DGRAM | SOCK_CLOEXEC, 0) };
  int index = (int) loopback_index ();
  int on = 1;
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  guint16 port;
  int r;

  if (fds[0] < 0 || fds[1] < 0)
    {
      g_object_unref (group);
      return probe_result (fds, g_strdup_printf ("no %s UDP sockets: %s", v6 ? "IPv6" : "IPv4",
                                                 g_strerror (errno)));
    }

  /* The receiver: any address, port 0, joined on lo. */
  ss.ss_family = family;
  len = v6 ? sizeof (struct sockaddr_in6) : sizeof (struct sockaddr_in);
  g_assert_cmpint (bind (fds[0], (struct sockaddr *) &ss, len), ==, 0);
  g_assert_cmpint (bind (fds[1], (struct sockaddr *) &ss, len), ==, 0);
  port = tu_local_port_of (fds[0]);
  if (v6)
    {
      struct ipv6_mreq mreq = { .ipv6mr_interface = index };

      memcpy (&mreq.ipv6mr_multiaddr, g_inet_address_to_bytes (group), 16);
      r = setsockopt (fds[0], IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq);
    }
  else
    {
      struct ip_mreqn mreq = { .imr_ifindex = index };

      memcpy (&mreq.imr_multiaddr, g_inet_address_to_bytes (group), 4);
      r = setsockopt (fds[0], IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq);
    }
  g_object_unref (group);
  if (r != 0)
    return probe_result (fds, g_strdup_printf ("the kernel refuses to join %s on lo: %s",
                                               group_text, g_strerror (errno)));
  if (depth == PROBE_JOIN)
    return probe_result (fds, NULL);

  /* The sender: out by lo, looped back. */
  if (v6)
    {
      struct sockaddr_in6 *to = (struct sockaddr_in6 *) &ss;

      setsockopt (fds[1], IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index);
      setsockopt (fds[1], IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &on, sizeof on);
      to->sin6_port = g_htons (port);
      inet_pton (AF_INET6, group_text, &to->sin6_addr);
    }
  else
    {
      struct ip_mreqn mreq = { .imr_ifindex = index };
      struct sockaddr_in *to = (struct sockaddr_in *) &ss;

      setsockopt (fds[1], IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
      setsockopt (fds[1], IPPROTO_IP, IP_MULTICAST_LOOP, &on, sizeof on);
      to->sin_port = g_htons (port);
      inet_pton (AF_INET, group_text, &to->sin_addr);
    }
  if (sendto (fds[1], "probe", 5, 0, (struct sockaddr *) &ss, len) != 5)
    return probe_result (fds, g_strdup_printf ("the kernel refuses to send to %s by lo: %s",
                                               group_text, g_strerror (errno)));
  if (!tu_wait_readable (fds[0], 2000))
    return probe_result (fds, g_strdup_printf ("the kernel does not loop a datagram sent to %s "
                                               "by lo back", group_text));
  return probe_result (fds, NULL);
}

static char *
kernel_broadcast_problem (const char *destination)
{
  int fds[2] = { socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) };
  struct sockaddr_in any = { .sin_family = AF_INET };
  struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = g_htonl (INADDR_LOOPBACK) };
  struct sockaddr_in to = { .sin_family = AF_INET };
  int on = 1;

  g_assert_cmpint (fds[0], >=, 0);
  g_assert_cmpint (fds[1], >=, 0);
  g_assert_cmpint (bind (fds[0], (struct sockaddr *) &any, sizeof any), ==, 0);
  g_assert_cmpint (bind (fds[1], (struct sockaddr *) &lo, sizeof lo), ==, 0);
  setsockopt (fds[1], SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  to.sin_port = g_htons (tu_local_port_of (fds[0]));
  inet_pton (AF_INET, destination, &to.sin_addr);
  if (sendto (fds[1], "probe", 5, 0, (struct sockaddr *) &to, sizeof to) != 5)
    return probe_result (fds, g_strdup_printf ("the kernel refuses to broadcast to %s from "
                                               "127.0.0.1: %s", destination, g_strerror (errno)));
  if (!tu_wait_readable (fds[0], 2000))
    return probe_result (fds, g_strdup_printf ("a broadcast to %s from 127.0.0.1 does not "
                                               "arrive", destination));
  return probe_result (fds, NULL);
}

/* Skips the test with @problem (taken) if there is one. */
static gboolean
skip_if (char *problem)
{
  if (problem == NULL)
    return FALSE;
  g_test_skip (problem);
  g_free (problem);
  return TRUE;
}

/* ======================================================================
 * Defaults
 * ====================================================================== */

static void
test_defaults (void)
{
  QSockUdp *udp = qsock_udp_new ();
  guint mcif = 7;

  g_assert_true (QSOCK_IS_ABSTRACT (udp));
  g_assert_cmpint (qsock_abstract_get_socket_type (AS (udp)), ==, QSOCK_SOCKET_TYPE_UDP);
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_assert_cmpint (qsock_abstract_get_error (AS (udp)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (udp)), ==, "Unknown error");
  g_assert_cmpint (qsock_abstract_get_socket_descriptor (AS (udp)), ==, -1);
  g_assert_false (qsock_abstract_is_valid (AS (udp)));
  g_assert_false (qsock_iodevice_is_open (DEV (udp)));
  g_assert_cmpuint (qsock_udp_get_multicast_interface (udp), ==, 0);
  g_object_get (udp, "multicast-interface", &mcif, NULL);
  g_assert_cmpuint (mcif, ==, 0);

  /* qsock_abstract_new (UDP) makes the same kind of socket. */
  {
    QSockAbstract *plain = qsock_abstract_new (QSOCK_SOCKET_TYPE_UDP);

    g_assert_cmpint (qsock_abstract_get_socket_type (plain), ==, QSOCK_SOCKET_TYPE_UDP);
    g_object_unref (plain);
  }

  g_object_unref (udp);
}

/* ======================================================================
 * bind (§2.6)
 * ====================================================================== */

static void
test_bind_bound_state (void)
{
  QSockUdp *udp = qsock_udp_new ();
  TuRecorder *rec = tu_recorder_new (udp);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  gboolean ok = FALSE;
  char c;

  TU_REC_CALL (rec, ok = qsock_abstract_bind (AS (udp), lo, 0, DEFAULT_BIND));
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:state-changed(Bound)@Bound");
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_BOUND);
  g_assert_cmpuint (port_of (udp), !=, 0);
  assert_address (qsock_abstract_get_local_address (AS (udp)), "127.0.0.1");
  g_assert_cmpint (fd_of (udp), >=, 0);

  /* bind() does not open the device; the socket is valid all the same. */
  g_assert_false (qsock_iodevice_is_open (DEV (udp)));
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (udp)), ==, QSOCK_OPEN_MODE_NOT_OPEN);
  g_assert_true (qsock_abstract_is_valid (AS (udp)));

  /* So the stream calls refuse it, as QIODevice does. */
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*device not open*");
  g_assert_cmpint (qsock_iodevice_write (DEV (udp), "x", 1), ==, -1);
  g_test_assert_expected_messages ();
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*device not open*");
  g_assert_cmpint (qsock_iodevice_read (DEV (udp), &c, 1), ==, -1);
  g_test_assert_expected_messages ();

  /* Nothing more comes from the loop. */
  tu_spin (50);
  tu_recorder_assert (rec, "s:state-changed(Bound)@Bound");

  tu_recorder_free (rec);
  g_object_unref (lo);
  g_object_unref (udp);
}

static void
test_bind_twice (void)
{
  QSockUdp *udp = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  TuRecorder *rec = tu_recorder_new (udp);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  guint16 port = port_of (udp);
  gboolean ok = TRUE;

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*bind()*UnconnectedState*");
  TU_REC_CALL (rec, ok = qsock_abstract_bind (AS (udp), lo, 0, DEFAULT_BIND));
  g_test_assert_expected_messages ();
  g_assert_false (ok);
  tu_recorder_assert (rec, "s:error-occurred(UnknownSocket)@Bound");
  g_assert_cmpint (qsock_abstract_get_error (AS (udp)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (udp)), ==, "Unknown error");

  /* The first binding is untouched. */
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_BOUND);
  g_assert_cmpuint (port_of (udp), ==, port);

  tu_recorder_free (rec);
  g_object_unref (lo);
  g_object_unref (udp);
}

/* Binding a port @first_mode holds with @second_mode. */
static void
assert_bind_in_use (QSockBindFlags first_mode,
                    QSockBindFlags second_mode)
{
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  QSockUdp *first = qsock_udp_new ();
  QSockUdp *second = qsock_udp_new ();
  TuRecorder *rec = tu_recorder_new (second);
  gboolean ok = TRUE;

  g_assert_true (qsock_abstract_bind (AS (first), lo, 0, first_mode));

  TU_REC_CALL (rec, ok = qsock_abstract_bind (AS (second), lo, port_of (first), second_mode));
  g_assert_false (ok);
  tu_recorder_assert (rec, "s:error-occurred(AddressInUse)@Unconnected");
  g_assert_cmpint (qsock_abstract_get_error (AS (second)), ==, QSOCK_SOCKET_ERROR_ADDRESS_IN_USE);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (second)), ==,
                   "The bound address is already in use");
  g_assert_cmpint (qsock_abstract_get_state (AS (second)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_assert_cmpint (fd_of (second), ==, -1);

  /* A failed bind leaves the socket usable: binding elsewhere works. */
  g_assert_true (qsock_abstract_bind (AS (second), lo, 0, DEFAULT_BIND));

  tu_recorder_free (rec);
  g_object_unref (second);
  g_object_unref (first);
  g_object_unref (lo);
}

static void
test_bind_address_in_use (void)
{
  assert_bind_in_use (QSOCK_BIND_FLAGS_DONT_SHARE_ADDRESS, DEFAULT_BIND);
  assert_bind_in_use (DEFAULT_BIND, DEFAULT_BIND);
  assert_bind_in_use (DEFAULT_BIND, QSOCK_BIND_FLAGS_DONT_SHARE_ADDRESS);
  /* Sharing needs both sides to agree. */
  assert_bind_in_use (QSOCK_BIND_FLAGS_DONT_SHARE_ADDRESS,
                      QSOCK_BIND_FLAGS_SHARE_ADDRESS | QSOCK_BIND_FLAGS_REUSE_ADDRESS_HINT);
}

static void
test_bind_share_address (void)
{
  const QSockBindFlags share = QSOCK_BIND_FLAGS_SHARE_ADDRESS | QSOCK_BIND_FLAGS_REUSE_ADDRESS_HINT;
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  QSockUdp *first = qsock_udp_new ();
  QSockUdp *second = qsock_udp_new ();
  TuRecorder *rec = tu_recorder_new (second);
  gboolean ok = FALSE;

  g_assert_true (qsock_abstract_bind (AS (first), lo, 0, share));
  TU_REC_CALL (rec, ok = qsock_abstract_bind (AS (second), lo, port_of (first), share));
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:state-changed(Bound)@Bound");
  g_assert_cmpuint (port_of (second), ==, port_of (first));

  /* Each of the two alone (with the other flag) shares as well. */
  g_clear_object (&second);
  second = qsock_udp_new ();
  g_assert_true (qsock_abstract_bind (AS (second), lo, port_of (first), QSOCK_BIND_FLAGS_REUSE_ADDRESS_HINT));

  tu_recorder_free (rec);
  g_object_unref (second);
  g_object_unref (first);
  g_object_unref (lo);
}

static void
test_bind_address_not_available (void)
{
  GInetAddress *foreign = inet ("1.2.3.4");
  QSockUdp *udp = qsock_udp_new ();
  TuRecorder *rec = tu_recorder_new (udp);
  gboolean ok = TRUE;

  TU_REC_CALL (rec, ok = qsock_abstract_bind (AS (udp), foreign, 0, DEFAULT_BIND));
  g_assert_false (ok);
  tu_recorder_assert (rec, "s:error-occurred(SocketAddressNotAvailable)@Unconnected");
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (udp)), ==, "The address is not available");

  tu_recorder_free (rec);
  g_object_unref (udp);
  g_object_unref (foreign);
}

/* ======================================================================
 * writeDatagram (§2.6, §4)
 * ====================================================================== */

static void
test_write_auto_binds (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *sender = qsock_udp_new ();
  TuRecorder *rec = tu_recorder_new (sender);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GInetAddress *local;
  GInetAddress *from = NULL;
  guint16 from_port = 0;
  gint64 n = 0;
  char buf[32];

  TU_REC_CALL (rec, n = qsock_udp_write_datagram (sender, "hello world", 11, lo, port_of (receiver)));
  g_assert_cmpint (n, ==, 11);
  tu_recorder_assert (rec, "s:state-changed(Bound)@Bound s:bytes-written(11)@Bound");
  g_assert_cmpint (qsock_abstract_get_state (AS (sender)), ==, QSOCK_SOCKET_STATE_BOUND);
  g_assert_cmpuint (port_of (sender), !=, 0);
  local = qsock_abstract_get_local_address (AS (sender));
  g_assert_nonnull (local);
  g_assert_true (g_inet_address_get_is_any (local));
  g_object_unref (local);
  /* Still not open: the implicit bind is a bind. */
  g_assert_false (qsock_iodevice_is_open (DEV (sender)));

  wait_datagram (receiver);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, sizeof buf, &from, &from_port), ==, 11);
  g_assert_cmpmem (buf, 11, "hello world", 11);
  g_assert_cmpuint (from_port, ==, port_of (sender));
  assert_address (from, "127.0.0.1");

  /* The second datagram needs no binding. */
  tu_recorder_reset (rec);
  TU_REC_CALL (rec, n = qsock_udp_write_datagram (sender, "again", 5, lo, port_of (receiver)));
  g_assert_cmpint (n, ==, 5);
  tu_recorder_assert (rec, "s:bytes-written(5)@Bound");

  /* No more signals from the loop. */
  tu_spin (50);
  tu_recorder_assert (rec, "s:bytes-written(5)@Bound");

  /* Qt binds QHostAddress::Any, dual stack: IPv6 destinations work from
   * the same socket. */
  if (tu_ipv6_loopback_available ())
    {
      QSockUdp *receiver6 = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST_IPV6);
      GInetAddress *lo6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);

      send_text (sender, "over IPv6", lo6, port_of (receiver6));
      wait_datagram (receiver6);
      g_assert_cmpint (qsock_udp_read_datagram (receiver6, buf, sizeof buf, &from, &from_port), ==, 9);
      g_assert_cmpmem (buf, 9, "over IPv6", 9);
      assert_address (from, "::1");
      g_assert_cmpuint (from_port, ==, port_of (sender));
      g_object_unref (lo6);
      g_object_unref (receiver6);
    }

  tu_recorder_free (rec);
  g_object_unref (lo);
  g_object_unref (sender);
  g_object_unref (receiver);
}

static void
test_write_empty_datagram (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  TuRecorder *srec = tu_recorder_new (sender);
  TuRecorder *rrec = tu_recorder_new (receiver);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GInetAddress *from = NULL;
  guint16 from_port = 0;
  QSockDatagram *datagram;
  gint64 n = -1;
  char buf[8];

  /* Sending: 0 bytes is a datagram, and bytes-written(0) says so. */
  TU_REC_CALL (srec, n = qsock_udp_write_datagram (sender, "", 0, lo, port_of (receiver)));
  g_assert_cmpint (n, ==, 0);
  tu_recorder_assert (srec, "s:bytes-written(0)@Bound");

  /* Receiving: it is pending, its size is 0, and ready-read comes. */
  TU_RUN_UNTIL (rrec->n_ready_read == 1, WAIT_MS);
  tu_recorder_assert (rrec, "l:ready-read@Bound");
  g_assert_true (qsock_udp_has_pending_datagrams (receiver));
  g_assert_cmpint (qsock_udp_pending_datagram_size (receiver), ==, 0);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, sizeof buf, &from, &from_port), ==, 0);
  g_assert_cmpuint (from_port, ==, port_of (sender));
  assert_address (from, "127.0.0.1");
  g_assert_false (qsock_udp_has_pending_datagrams (receiver));
  g_assert_cmpint (qsock_udp_pending_datagram_size (receiver), ==, -1);

  /* The other way (the binding form), and through receive_datagram. */
  {
    GBytes *empty = g_bytes_new (NULL, 0);
    GInetAddress *lo2 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

    tu_recorder_reset (rrec);
    TU_REC_CALL (rrec, n = qsock_udp_write_datagram_bytes (receiver, empty, lo2, port_of (sender)));
    g_assert_cmpint (n, ==, 0);
    tu_recorder_assert (rrec, "s:bytes-written(0)@Bound");
    g_bytes_unref (empty);
    g_object_unref (lo2);
  }
  TU_RUN_UNTIL (srec->n_ready_read == 1, WAIT_MS);
  g_assert_true (qsock_udp_has_pending_datagrams (sender));
  g_assert_cmpint (qsock_udp_pending_datagram_size (sender), ==, 0);
  datagram = qsock_udp_receive_datagram (sender, -1);
  g_assert_true (qsock_datagram_is_valid (datagram));
  assert_datagram_data (datagram, "");
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, port_of (receiver));
  g_object_unref (datagram);
  g_assert_false (qsock_udp_has_pending_datagrams (sender));

  tu_recorder_free (rrec);
  tu_recorder_free (srec);
  g_object_unref (lo);
  g_object_unref (sender);
  g_object_unref (receiver);
}

static void
test_write_too_large (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  TuRecorder *srec = tu_recorder_new (sender);
  TuRecorder *rrec = tu_recorder_new (receiver);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  char *big = g_malloc0 (70000);
  gint64 n = 0;

  TU_REC_CALL (srec, n = qsock_udp_write_datagram (sender, big, 70000, lo, port_of (receiver)));
  g_assert_cmpint (n, ==, -1);
  /* No bytes-written on failure (tst writeDatagram). */
  tu_recorder_assert (srec, "s:error-occurred(DatagramTooLarge)@Bound");
  g_assert_cmpint (qsock_abstract_get_error (AS (sender)), ==, QSOCK_SOCKET_ERROR_DATAGRAM_TOO_LARGE);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sender)), ==, "Datagram was too large to send");
  g_assert_cmpint (qsock_abstract_get_state (AS (sender)), ==, QSOCK_SOCKET_STATE_BOUND);

  /* Nothing arrives. */
  tu_spin (100);
  g_assert_cmpuint (rrec->n_ready_read, ==, 0);
  g_assert_false (qsock_udp_has_pending_datagrams (receiver));

  /* The auto-binding path fails the same way, after binding. */
  {
    QSockUdp *fresh = qsock_udp_new ();
    TuRecorder *frec = tu_recorder_new (fresh);

    TU_REC_CALL (frec, n = qsock_udp_write_datagram (fresh, big, 70000, lo, port_of (receiver)));
    g_assert_cmpint (n, ==, -1);
    tu_recorder_assert (frec, "s:state-changed(Bound)@Bound s:error-occurred(DatagramTooLarge)@Bound");
    tu_recorder_free (frec);
    g_object_unref (fresh);
  }

  tu_recorder_free (rrec);
  tu_recorder_free (srec);
  g_free (big);
  g_object_unref (lo);
  g_object_unref (sender);
  g_object_unref (receiver);
}

/* 65535 - 20 (IPv4 header) - 8 (UDP header): the largest IPv4 datagram. */
static void
test_write_largest_ipv4 (void)
{
  const gsize size = 65507;
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  TuRecorder *srec = tu_recorder_new (sender);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  const guint8 *pattern = tu_pattern ();
  char *got = g_malloc (size + 1);
  gint64 n = 0;

  TU_REC_CALL (srec, n = qsock_udp_write_datagram (sender, (const char *) pattern, size, lo,
                                                   port_of (receiver)));
  g_assert_cmpint (n, ==, (gint64) size);
  tu_recorder_assert (srec, "s:bytes-written(65507)@Bound");

  wait_datagram (receiver);
  g_assert_cmpint (qsock_udp_pending_datagram_size (receiver), ==, (gint64) size);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, got, size + 1, NULL, NULL), ==, (gint64) size);
  g_assert_cmpmem (got, size, pattern, size);

  tu_recorder_free (srec);
  g_free (got);
  g_object_unref (lo);
  g_object_unref (sender);
  g_object_unref (receiver);
}

/* ======================================================================
 * readDatagram (§4)
 * ====================================================================== */

static void
assert_read_sender (QSockSpecialAddress which,
                    const char         *expected)
{
  QSockUdp *receiver = bound_to (which);
  QSockUdp *sender = bound_to (which);
  GInetAddress *from = NULL;
  guint16 from_port = 0;
  char buf[64];

  send_to (sender, "hello world", receiver);
  wait_datagram (receiver);
  g_assert_true (qsock_udp_has_pending_datagrams (receiver));
  g_assert_cmpint (qsock_udp_pending_datagram_size (receiver), ==, 11);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, sizeof buf, &from, &from_port), ==, 11);
  g_assert_cmpmem (buf, 11, "hello world", 11);
  assert_address (from, expected);
  g_assert_cmpuint (from_port, ==, port_of (sender));

  /* Address and port are optional. */
  send_to (sender, "again", receiver);
  wait_datagram (receiver);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, sizeof buf, NULL, NULL), ==, 5);
  g_assert_cmpmem (buf, 5, "again", 5);

  g_object_unref (sender);
  g_object_unref (receiver);
}

static void
test_read_sender_ipv4 (void)
{
  assert_read_sender (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST, "127.0.0.1");
}

static void
test_read_sender_ipv6 (void)
{
  if (!tu_ipv6_loopback_available ())
    {
      g_test_skip ("IPv6 loopback (::1) is not available");
      return;
    }
  assert_read_sender (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST_IPV6, "::1");
}

static void
test_read_truncates (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  char buf[16] = { 0 };

  /* "hello world" read with 5 gives "hello", and the rest is gone. */
  send_to (sender, "hello world", receiver);
  wait_datagram (receiver);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, 5, NULL, NULL), ==, 5);
  g_assert_cmpmem (buf, 5, "hello", 5);
  g_assert_cmpint (buf[5], ==, 0);
  g_assert_false (qsock_udp_has_pending_datagrams (receiver));
  g_assert_cmpint (qsock_udp_pending_datagram_size (receiver), ==, -1);

  /* The next datagram is the next one, not the rest of this one. */
  send_to (sender, "second", receiver);
  wait_datagram (receiver);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, sizeof buf, NULL, NULL), ==, 6);
  g_assert_cmpmem (buf, 6, "second", 6);

  g_object_unref (sender);
  g_object_unref (receiver);
}

static void
test_read_zero_discards (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  GInetAddress *from = NULL;
  guint16 from_port = 0;
  char buf[16];

  send_to (sender, "dropped", receiver);
  send_to (sender, "kept", receiver);
  wait_datagram (receiver);
  g_assert_cmpint (qsock_udp_pending_datagram_size (receiver), ==, 7);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, 0, &from, &from_port), ==, 0);
  /* The sender of the discarded datagram is still reported. */
  assert_address (from, "127.0.0.1");
  g_assert_cmpuint (from_port, ==, port_of (sender));

  wait_datagram (receiver);
  g_assert_cmpint (qsock_udp_pending_datagram_size (receiver), ==, 4);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, sizeof buf, NULL, NULL), ==, 4);
  g_assert_cmpmem (buf, 4, "kept", 4);

  /* With nothing but a size of 0, a NULL buffer is fine too. */
  send_to (sender, "gone", receiver);
  wait_datagram (receiver);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, NULL, 0, NULL, NULL), ==, 0);
  g_assert_false (qsock_udp_has_pending_datagrams (receiver));

  g_object_unref (sender);
  g_object_unref (receiver);
}

static void
test_read_none_pending (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  TuRecorder *rec = tu_recorder_new (receiver);
  GInetAddress *from = (GInetAddress *) 0x1;
  guint16 from_port = 7;
  gint64 n = 0;
  char buf[8];

  g_assert_false (qsock_udp_has_pending_datagrams (receiver));
  g_assert_cmpint (qsock_udp_pending_datagram_size (receiver), ==, -1);

  TU_REC_CALL (rec, n = qsock_udp_read_datagram (receiver, buf, sizeof buf, &from, &from_port));
  g_assert_cmpint (n, ==, -1);
  tu_recorder_assert (rec, "s:error-occurred(Temporary)@Bound");
  g_assert_cmpint (qsock_abstract_get_error (AS (receiver)), ==, QSOCK_SOCKET_ERROR_TEMPORARY);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (receiver)), ==,
                   "No datagram available for reading");
  g_assert_null (from);
  g_assert_cmpint (qsock_abstract_get_state (AS (receiver)), ==, QSOCK_SOCKET_STATE_BOUND);

  /* The binding form says the same with NULL. */
  tu_recorder_reset (rec);
  TU_REC_CALL (rec, g_assert_null (qsock_udp_read_datagram_bytes (receiver, 8, NULL, NULL)));
  tu_recorder_assert (rec, "s:error-occurred(Temporary)@Bound");

  tu_recorder_free (rec);
  g_object_unref (receiver);
}

static void
test_read_bytes (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  GInetAddress *from = NULL;
  guint16 from_port = 0;

  /* -1: the whole datagram. */
  send_to (sender, "whole datagram", receiver);
  wait_datagram (receiver);
  assert_bytes (qsock_udp_read_datagram_bytes (receiver, -1, &from, &from_port), "whole datagram");
  assert_address (from, "127.0.0.1");
  g_assert_cmpuint (from_port, ==, port_of (sender));

  /* A limit truncates, as readDatagram does. */
  send_to (sender, "truncated", receiver);
  wait_datagram (receiver);
  assert_bytes (qsock_udp_read_datagram_bytes (receiver, 5, NULL, NULL), "trunc");
  g_assert_false (qsock_udp_has_pending_datagrams (receiver));

  /* An empty datagram is empty bytes, not NULL. */
  send_to (sender, "", receiver);
  wait_datagram (receiver);
  assert_bytes (qsock_udp_read_datagram_bytes (receiver, -1, NULL, NULL), "");

  g_object_unref (sender);
  g_object_unref (receiver);
}

/* ======================================================================
 * receiveDatagram and QNetworkDatagram on the wire (§4)
 * ====================================================================== */

static void
assert_receive_fields (QSockSpecialAddress which,
                       const char         *expected)
{
  QSockUdp *receiver = bound_to (which);
  QSockUdp *sender = bound_to (which);
  QSockDatagram *datagram;

  send_to (sender, "with fields", receiver);
  wait_datagram (receiver);
  datagram = qsock_udp_receive_datagram (receiver, -1);
  g_assert_nonnull (datagram);
  g_assert_true (qsock_datagram_is_valid (datagram));
  g_assert_false (qsock_datagram_is_null (datagram));
  assert_datagram_data (datagram, "with fields");
  assert_address (qsock_datagram_get_sender_address (datagram), expected);
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, port_of (sender));
  /* Where it arrived: the bound address and the local port. */
  assert_address (qsock_datagram_get_destination_address (datagram), expected);
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, port_of (receiver));
  /* Loopback does not route: the default TTL / hop limit, 64, arrives. */
  g_assert_cmpint (qsock_datagram_get_hop_limit (datagram), ==, 64);
  g_assert_cmpuint (qsock_datagram_get_interface_index (datagram), ==, loopback_index ());
  g_object_unref (datagram);
  g_assert_false (qsock_udp_has_pending_datagrams (receiver));

  g_object_unref (sender);
  g_object_unref (receiver);
}

static void
test_receive_fields_ipv4 (void)
{
  assert_receive_fields (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST, "127.0.0.1");
}

static void
test_receive_fields_ipv6 (void)
{
  if (!tu_ipv6_loopback_available ())
    {
      g_test_skip ("IPv6 loopback (::1) is not available");
      return;
    }
  assert_receive_fields (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST_IPV6, "::1");
}

static void
test_receive_truncates (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockDatagram *datagram;

  send_to (sender, "hello world", receiver);
  send_to (sender, "next", receiver);
  wait_datagram (receiver);
  datagram = qsock_udp_receive_datagram (receiver, 3);
  g_assert_true (qsock_datagram_is_valid (datagram));
  assert_datagram_data (datagram, "hel");
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, port_of (sender));
  g_object_unref (datagram);

  /* The rest of "hello world" is lost; "next" is next. */
  wait_datagram (receiver);
  datagram = qsock_udp_receive_datagram (receiver, -1);
  assert_datagram_data (datagram, "next");
  g_object_unref (datagram);

  /* 0 discards, and still says who sent it. */
  send_to (sender, "discarded", receiver);
  wait_datagram (receiver);
  datagram = qsock_udp_receive_datagram (receiver, 0);
  g_assert_true (qsock_datagram_is_valid (datagram));
  assert_datagram_data (datagram, "");
  g_object_unref (datagram);
  g_assert_false (qsock_udp_has_pending_datagrams (receiver));

  g_object_unref (sender);
  g_object_unref (receiver);
}

static void
assert_null_datagram (QSockDatagram *datagram)
{
  g_assert_nonnull (datagram);
  g_assert_true (qsock_datagram_is_null (datagram));
  g_assert_false (qsock_datagram_is_valid (datagram));
  assert_datagram_data (datagram, "");
  g_assert_null (qsock_datagram_get_sender_address (datagram));
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, -1);
  g_assert_null (qsock_datagram_get_destination_address (datagram));
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, -1);
  g_assert_cmpint (qsock_datagram_get_hop_limit (datagram), ==, -1);
  g_assert_cmpuint (qsock_datagram_get_interface_index (datagram), ==, 0);
  g_object_unref (datagram);
}

static void
test_receive_none_pending (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  TuRecorder *rec = tu_recorder_new (receiver);
  QSockDatagram *datagram = NULL;

  /* -1 asks pendingDatagramSize() first: none, so a null datagram and no
   * error. */
  TU_REC_CALL (rec, datagram = qsock_udp_receive_datagram (receiver, -1));
  assert_null_datagram (datagram);
  tu_recorder_assert (rec, "");

  /* With a size, the engine is asked and says TemporaryError (observed). */
  TU_REC_CALL (rec, datagram = qsock_udp_receive_datagram (receiver, 10));
  assert_null_datagram (datagram);
  tu_recorder_assert (rec, "s:error-occurred(Temporary)@Bound");
  g_assert_cmpint (qsock_abstract_get_error (AS (receiver)), ==, QSOCK_SOCKET_ERROR_TEMPORARY);

  tu_recorder_free (rec);
  g_object_unref (receiver);
}

static void
assert_hop_limit_sent (QSockSpecialAddress which,
                       int                 hops)
{
  QSockUdp *receiver = bound_to (which);
  QSockUdp *sender = bound_to (which);
  TuRecorder *rec = tu_recorder_new (sender);
  GInetAddress *to = qsock_abstract_get_local_address (AS (receiver));
  QSockDatagram *out = qsock_datagram_new_with_data ("ttl", 3, to, port_of (receiver));
  QSockDatagram *in;
  gint64 n = 0;

  qsock_datagram_set_hop_limit (out, hops);
  TU_REC_CALL (rec, n = qsock_udp_send_datagram (sender, out));
  g_assert_cmpint (n, ==, 3);
  tu_recorder_assert (rec, "s:bytes-written(3)@Bound");

  wait_datagram (receiver);
  in = qsock_udp_receive_datagram (receiver, -1);
  assert_datagram_data (in, "ttl");
  g_assert_cmpint (qsock_datagram_get_hop_limit (in), ==, hops);
  g_assert_cmpint (qsock_datagram_get_sender_port (in), ==, port_of (sender));
  g_object_unref (in);

  /* -1 leaves the system's default. */
  qsock_datagram_set_hop_limit (out, -1);
  g_assert_cmpint (qsock_udp_send_datagram (sender, out), ==, 3);
  wait_datagram (receiver);
  in = qsock_udp_receive_datagram (receiver, -1);
  g_assert_cmpint (qsock_datagram_get_hop_limit (in), ==, 64);
  g_object_unref (in);

  tu_recorder_free (rec);
  g_object_unref (out);
  g_object_unref (to);
  g_object_unref (sender);
  g_object_unref (receiver);
}

static void
test_send_hop_limit (void)
{
  assert_hop_limit_sent (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST, 7);
  if (!tu_ipv6_loopback_available ())
    {
      g_test_skip ("IPv6 loopback (::1) is not available (IPv4 was checked)");
      return;
    }
  assert_hop_limit_sent (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST_IPV6, 9);
}

static void
test_send_without_destination (void)
{
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockDatagram *out = qsock_datagram_new_with_data ("x", 1, NULL, 0);
  TuRecorder *rec = tu_recorder_new (sender);
  gint64 n = 0;

  /* Not connected and no destination: nothing to send to, and no
   * bytes-written. */
  TU_REC_CALL (rec, n = qsock_udp_send_datagram (sender, out));
  g_assert_cmpint (n, ==, -1);
  g_assert_cmpuint (rec->n_errors, ==, 1);
  g_assert_cmpint (rec->bytes_written, ==, 0);

  tu_recorder_free (rec);
  g_object_unref (out);
  g_object_unref (sender);
}

static void
test_make_reply_on_the_wire (void)
{
  QSockUdp *server = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *client = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  TuRecorder *rec = tu_recorder_new (server);
  QSockDatagram *request;
  QSockDatagram *reply;
  GBytes *pong = g_bytes_new_static ("pong", 4);
  GInetAddress *from = NULL;
  guint16 from_port = 0;
  gint64 n = 0;
  char buf[16];

  send_to (client, "ping", server);
  wait_datagram (server);
  request = qsock_udp_receive_datagram (server, -1);
  assert_datagram_data (request, "ping");

  reply = qsock_datagram_make_reply (request, pong);
  assert_datagram_data (reply, "pong");
  /* To the sender, from where the request arrived, by the same interface. */
  assert_address (qsock_datagram_get_destination_address (reply), "127.0.0.1");
  g_assert_cmpint (qsock_datagram_get_destination_port (reply), ==, port_of (client));
  assert_address (qsock_datagram_get_sender_address (reply), "127.0.0.1");
  g_assert_cmpint (qsock_datagram_get_sender_port (reply), ==, port_of (server));
  g_assert_cmpuint (qsock_datagram_get_interface_index (reply), ==, loopback_index ());
  g_assert_cmpuint (qsock_datagram_get_interface_index (reply), ==,
                    qsock_datagram_get_interface_index (request));
  g_assert_cmpint (qsock_datagram_get_hop_limit (reply), ==, -1);

  TU_REC_CALL (rec, n = qsock_udp_send_datagram (server, reply));
  g_assert_cmpint (n, ==, 4);
  tu_recorder_assert (rec, "s:bytes-written(4)@Bound");

  wait_datagram (client);
  g_assert_cmpint (qsock_udp_read_datagram (client, buf, sizeof buf, &from, &from_port), ==, 4);
  g_assert_cmpmem (buf, 4, "pong", 4);
  assert_address (from, "127.0.0.1");
  g_assert_cmpuint (from_port, ==, port_of (server));

  tu_recorder_free (rec);
  g_bytes_unref (pong);
  g_object_unref (reply);
  g_object_unref (request);
  g_object_unref (client);
  g_object_unref (server);
}

/* ======================================================================
 * ready-read for UDP (§4): once per read, not per datagram
 * ====================================================================== */

static void
test_ready_read_once_per_read (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  TuRecorder *rec = tu_recorder_new (receiver);
  char buf[16];

  /* Three datagrams, none read: one ready-read. */
  send_to (sender, "d0", receiver);
  send_to (sender, "d1", receiver);
  send_to (sender, "d2", receiver);
  TU_RUN_UNTIL (rec->n_ready_read >= 1, WAIT_MS);
  tu_spin (150);
  g_assert_cmpuint (rec->n_ready_read, ==, 1);

  /* Reading one: a second one, since more are pending. */
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, sizeof buf, NULL, NULL), ==, 2);
  g_assert_cmpmem (buf, 2, "d0", 2);
  TU_RUN_UNTIL (rec->n_ready_read >= 2, WAIT_MS);
  tu_spin (150);
  g_assert_cmpuint (rec->n_ready_read, ==, 2);

  /* Reading the rest: nothing new is pending, so nothing comes. */
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, sizeof buf, NULL, NULL), ==, 2);
  g_assert_cmpmem (buf, 2, "d1", 2);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, sizeof buf, NULL, NULL), ==, 2);
  g_assert_cmpmem (buf, 2, "d2", 2);
  g_assert_false (qsock_udp_has_pending_datagrams (receiver));
  tu_spin (150);
  g_assert_cmpuint (rec->n_ready_read, ==, 2);

  /* A new datagram: the third. */
  send_to (sender, "d3", receiver);
  TU_RUN_UNTIL (rec->n_ready_read >= 3, WAIT_MS);
  tu_spin (150);
  g_assert_cmpuint (rec->n_ready_read, ==, 3);
  tu_recorder_assert (rec, "l:ready-read@Bound l:ready-read@Bound l:ready-read@Bound");

  /* receive_datagram re-arms it too. */
  send_to (sender, "d4", receiver);
  g_assert_cmpint (qsock_udp_read_datagram (receiver, buf, sizeof buf, NULL, NULL), ==, 2);
  g_assert_cmpmem (buf, 2, "d3", 2);
  TU_RUN_UNTIL (rec->n_ready_read >= 4, WAIT_MS);
  g_object_unref (qsock_udp_receive_datagram (receiver, -1));
  send_to (sender, "d5", receiver);
  TU_RUN_UNTIL (rec->n_ready_read >= 5, WAIT_MS);
  tu_spin (100);
  g_assert_cmpuint (rec->n_ready_read, ==, 5);

  tu_recorder_free (rec);
  g_object_unref (sender);
  g_object_unref (receiver);
}

/* The burst: a plain sender thread sends as fast as it can, but never
 * more datagrams ahead of the reader than the receive buffer holds (UDP
 * drops the rest, by design); with a large enough buffer that is all
 * 1000 at once. The reader drains every pending datagram in each
 * ready-read, as the QUdpSocket docs ask. */
#define BURST_COUNT 1000
#define BURST_SIZE 100
/* A generous guess at what one small datagram costs the receive buffer. */
#define BURST_TRUESIZE 2048

typedef struct
{
  int     fd;
  guint16 port;
  gint    window;     /* datagrams the receive buffer surely holds */
  gint    received;   /* atomic: read by the reader so far */
  gint    out_of_order;
  int     error;
} Burst;

static gpointer
burst_sender_thread (gpointer data)
{
  Burst *b = data;
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = g_htons (b->port),
                            .sin_addr.s_addr = g_htonl (INADDR_LOOPBACK) };
  gint64 give_up = g_get_monotonic_time () + (gint64) 30 * G_USEC_PER_SEC * tu_timeout_scale ();

  for (guint32 seq = 0; seq < BURST_COUNT; seq++)
    {
      guint8 payload[BURST_SIZE];

      while ((gint) seq - g_atomic_int_get (&b->received) >= b->window)
        {
          if (g_get_monotonic_time () > give_up)
            return NULL;
          g_usleep (200);
        }
      memset (payload, (int) (seq & 0xff), sizeof payload);
      memcpy (payload, &seq, sizeof seq);
      if (sendto (b->fd, payload, sizeof payload, 0, (struct sockaddr *) &to, sizeof to) != sizeof payload)
        {
          b->error = errno;
          return NULL;
        }
    }
  return NULL;
}

static void
burst_on_ready_read (QSockUdp *udp,
                     Burst    *b)
{
  while (qsock_udp_has_pending_datagrams (udp))
    {
      guint8 payload[BURST_SIZE + 1];
      guint32 seq;
      gint64 n = qsock_udp_read_datagram (udp, (char *) payload, sizeof payload, NULL, NULL);

      g_assert_cmpint (n, ==, BURST_SIZE);
      memcpy (&seq, payload, sizeof seq);
      if (seq != (guint32) g_atomic_int_get (&b->received) || payload[BURST_SIZE - 1] != (seq & 0xff))
        b->out_of_order++;
      g_atomic_int_inc (&b->received);
    }
}

static void
test_ready_read_burst (void)
{
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  TuRecorder *rec = tu_recorder_new (receiver);
  Burst b = { .port = port_of (receiver) };
  guint16 sender_port;
  GThread *sender;
  int rcvbuf = 0;

  /* As large a receive buffer as the system allows (Linux reports twice
   * what was asked, capped by net.core.rmem_max). */
  qsock_abstract_set_socket_option (AS (receiver), QSOCK_SOCKET_OPTION_RECEIVE_BUFFER_SIZE, 4 * 1024 * 1024);
  rcvbuf = option (receiver, QSOCK_SOCKET_OPTION_RECEIVE_BUFFER_SIZE);
  g_assert_cmpint (rcvbuf, >, 0);
  b.window = CLAMP (rcvbuf / BURST_TRUESIZE, 32, BURST_COUNT);
  g_test_message ("receive buffer %d bytes: at most %d datagrams in flight", rcvbuf, b.window);

  b.fd = tu_udp_socket (AF_INET, &sender_port);
  g_assert_cmpint (b.fd, >=, 0);
  g_signal_connect (receiver, "ready-read", G_CALLBACK (burst_on_ready_read), &b);

  sender = g_thread_new ("test-burst", burst_sender_thread, &b);
  TU_RUN_UNTIL (g_atomic_int_get (&b.received) == BURST_COUNT || b.error != 0, 30000);
  g_thread_join (sender);

  g_assert_cmpint (b.error, ==, 0);
  g_assert_cmpint (g_atomic_int_get (&b.received), ==, BURST_COUNT);
  g_assert_cmpint (b.out_of_order, ==, 0);
  /* Never more ready-reads than datagrams, and nothing left behind. */
  g_test_message ("%u ready-reads for %d datagrams", rec->n_ready_read, BURST_COUNT);
  g_assert_cmpuint (rec->n_ready_read, >=, 1);
  g_assert_cmpuint (rec->n_ready_read, <=, BURST_COUNT);
  g_assert_cmpuint (rec->n_wrong_thread, ==, 0);
  tu_spin (50);
  g_assert_false (qsock_udp_has_pending_datagrams (receiver));

  close (b.fd);
  tu_recorder_free (rec);
  g_object_unref (receiver);
}

/* ======================================================================
 * The BoundState guard (§4, QT_CHECK_BOUND)
 * ====================================================================== */

#define GUARD_WARNING(fn) "*QUdpSocket::" fn "() called on a QUdpSocket when not in QUdpSocket::BoundState*"

static void
assert_guarded (QSockUdp *udp)
{
  TuRecorder *rec = tu_recorder_new (udp);
  GInetAddress *group = inet ("239.255.0.1");
  GInetAddress *from = (GInetAddress *) 0x1;
  guint16 from_port = 7;
  char buf[8];

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, GUARD_WARNING ("hasPendingDatagrams"));
  g_assert_false (qsock_udp_has_pending_datagrams (udp));
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, GUARD_WARNING ("pendingDatagramSize"));
  g_assert_cmpint (qsock_udp_pending_datagram_size (udp), ==, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, GUARD_WARNING ("readDatagram"));
  g_assert_cmpint (qsock_udp_read_datagram (udp, buf, sizeof buf, &from, &from_port), ==, -1);
  g_test_assert_expected_messages ();
  g_assert_null (from);

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, GUARD_WARNING ("receiveDatagram"));
  assert_null_datagram (qsock_udp_receive_datagram (udp, -1));
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, GUARD_WARNING ("joinMulticastGroup"));
  g_assert_false (qsock_udp_join_multicast_group (udp, group, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, GUARD_WARNING ("leaveMulticastGroup"));
  g_assert_false (qsock_udp_leave_multicast_group (udp, group, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, GUARD_WARNING ("setMulticastInterface"));
  qsock_udp_set_multicast_interface (udp, loopback_index ());
  g_test_assert_expected_messages ();
  g_assert_cmpuint (qsock_udp_get_multicast_interface (udp), ==, 0);

  /* A warning only: no error is set or emitted. */
  tu_recorder_assert (rec, "");
  g_assert_cmpint (qsock_abstract_get_error (AS (udp)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);

  g_object_unref (group);
  tu_recorder_free (rec);
}

static void
test_guard_unbound (void)
{
  QSockUdp *udp = qsock_udp_new ();

  assert_guarded (udp);
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_object_unref (udp);
}

/* tst multicastLeaveAfterClose: after close() the guard applies again. */
static void
test_guard_after_close (void)
{
  QSockUdp *udp = bound_to (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);

  qsock_iodevice_close (DEV (udp));
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_assert_cmpint (fd_of (udp), ==, -1);
  assert_guarded (udp);
  g_object_unref (udp);
}

/* ======================================================================
 * Connected UDP (§2.6, probe U4)
 * ====================================================================== */

static void
test_connected_signals_and_io (void)
{
  QSockUdp *peer = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *udp = qsock_udp_new ();
  TuRecorder *rec = tu_recorder_new (udp);
  GInetAddress *from = NULL;
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  guint16 from_port = 0;
  gint64 n = 0;
  char buf[32];

  /* Everything inside the call: connect() on UDP succeeds at once. */
  TU_REC_CALL (rec, qsock_abstract_connect_to_host (AS (udp), "127.0.0.1", port_of (peer), RW, ANY_IP));
  tu_recorder_assert (rec,
                      "s:state-changed(HostLookup)@HostLookup "
                      "s:state-changed(Connecting)@Connecting "
                      "s:host-found@Connecting "
                      "s:state-changed(Connected)@Connected "
                      "s:connected@Connected");
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_true (qsock_iodevice_is_open (DEV (udp)));
  g_assert_true (qsock_iodevice_is_readable (DEV (udp)));
  g_assert_true (qsock_iodevice_is_writable (DEV (udp)));
  assert_address (qsock_abstract_get_peer_address (AS (udp)), "127.0.0.1");
  g_assert_cmpuint (qsock_abstract_get_peer_port (AS (udp)), ==, port_of (peer));
  g_assert_cmpuint (port_of (udp), !=, 0);

  /* write(): one datagram per call, sent at once. */
  tu_recorder_reset (rec);
  TU_REC_CALL (rec, n = qsock_iodevice_write (DEV (udp), "via write", 9));
  g_assert_cmpint (n, ==, 9);
  tu_recorder_assert (rec, "s:bytes-written(9)@Connected");
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (udp)), ==, 0);
  tu_recorder_reset (rec);
  TU_REC_CALL (rec, n = qsock_iodevice_write (DEV (udp), "second", 6));
  g_assert_cmpint (n, ==, 6);
  tu_recorder_assert (rec, "s:bytes-written(6)@Connected");

  wait_datagram (peer);
  g_assert_cmpint (qsock_udp_read_datagram (peer, buf, sizeof buf, &from, &from_port), ==, 9);
  g_assert_cmpmem (buf, 9, "via write", 9);
  assert_address (from, "127.0.0.1");
  g_assert_cmpuint (from_port, ==, port_of (udp));
  wait_datagram (peer);
  g_assert_cmpint (qsock_udp_read_datagram (peer, buf, sizeof buf, NULL, NULL), ==, 6);
  g_assert_cmpmem (buf, 6, "second", 6);

  /* read(): one datagram, truncated to the size asked for. */
  tu_recorder_reset (rec);
  send_text (peer, "reply datagram", lo, port_of (udp));
  send_text (peer, "other", lo, port_of (udp));
  TU_RUN_UNTIL (rec->n_ready_read == 1, WAIT_MS);
  TU_REC_CALL (rec, n = qsock_iodevice_read (DEV (udp), buf, 5));
  g_assert_cmpint (n, ==, 5);
  g_assert_cmpmem (buf, 5, "reply", 5);
  TU_RUN_UNTIL (rec->n_ready_read == 2, WAIT_MS);
  g_assert_cmpint (qsock_iodevice_read (DEV (udp), buf, sizeof buf), ==, 5);
  g_assert_cmpmem (buf, 5, "other", 5);
  /* Nothing left: 0 on a connected socket. */
  g_assert_cmpint (qsock_iodevice_read (DEV (udp), buf, sizeof buf), ==, 0);
  tu_recorder_assert (rec, "l:ready-read@Connected l:ready-read@Connected");

  /* The datagram calls work on a connected socket too. */
  send_text (peer, "as datagram", lo, port_of (udp));
  wait_datagram (udp);
  g_assert_cmpint (qsock_udp_read_datagram (udp, buf, sizeof buf, &from, &from_port), ==, 11);
  g_assert_cmpmem (buf, 11, "as datagram", 11);
  assert_address (from, "127.0.0.1");
  g_assert_cmpuint (from_port, ==, port_of (peer));

  /* disconnectFromHost: all inside the call. */
  tu_recorder_reset (rec);
  TU_REC_CALL (rec, qsock_abstract_disconnect_from_host (AS (udp)));
  tu_recorder_assert (rec,
                      "s:state-changed(Closing)@Closing "
                      "s:state-changed(Unconnected)@Unconnected "
                      "s:read-channel-finished@Unconnected "
                      "s:disconnected@Unconnected");
  g_assert_cmpint (fd_of (udp), ==, -1);
  tu_spin (50);
  g_assert_cmpuint (rec->events->len, ==, 4);

  tu_recorder_free (rec);
  g_object_unref (lo);
  g_object_unref (udp);
  g_object_unref (peer);
}

/* A send_datagram without a destination goes to the connected peer. */
static void
test_connected_send_datagram (void)
{
  QSockUdp *peer = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockUdp *udp = qsock_udp_new ();
  QSockDatagram *out = qsock_datagram_new_with_data ("to peer", 7, NULL, 0);
  char buf[16];

  qsock_abstract_connect_to_host (AS (udp), "127.0.0.1", port_of (peer), RW, ANY_IP);
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_cmpint (qsock_udp_send_datagram (udp, out), ==, 7);
  wait_datagram (peer);
  g_assert_cmpint (qsock_udp_read_datagram (peer, buf, sizeof buf, NULL, NULL), ==, 7);
  g_assert_cmpmem (buf, 7, "to peer", 7);

  g_object_unref (out);
  g_object_unref (udp);
  g_object_unref (peer);
}

static QSockUdp *
connected_to_closed_port (TuRecorder **rec)
{
  QSockUdp *udp = qsock_udp_new ();

  *rec = tu_recorder_new (udp);
  qsock_abstract_connect_to_host (AS (udp), "127.0.0.1", closed_udp_port (), RW, ANY_IP);
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_cmpint (qsock_iodevice_write (DEV (udp), "anyone?", 7), ==, 7);
  /* The ICMP port-unreachable makes the socket readable. */
  TU_RUN_UNTIL ((*rec)->n_ready_read == 1, WAIT_MS);
  tu_recorder_reset (*rec);
  return udp;
}

static void
test_connected_refused (void)
{
  TuRecorder *rec;
  QSockUdp *udp = connected_to_closed_port (&rec);
  gint64 n = 0;
  char buf[16];

  /* QAbstractSocket::readData: the engine's error is set (not emitted)
   * and the socket layer dropped. Qt assigns the state without
   * stateChanged(); qsock-glib deliberately emits it (see the comment in
   * read_connected_datagram), and nothing else. */
  TU_REC_CALL (rec, n = qsock_iodevice_read (DEV (udp), buf, sizeof buf));
  g_assert_cmpint (n, ==, -1);
  /* Qt's read() path reports the refusal as NetworkError with the system's
   * text (seen in the conformance suite against Qt 6.4); readDatagram()
   * reports ConnectionRefusedError (below). */
  g_assert_cmpint (qsock_abstract_get_error (AS (udp)), ==, QSOCK_SOCKET_ERROR_NETWORK);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (udp)), ==, "Connection refused");
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_assert_cmpint (fd_of (udp), ==, -1);
  tu_recorder_assert (rec, "s:state-changed(Unconnected)@Unconnected");

  tu_recorder_free (rec);
  g_object_unref (udp);
}

/* readDatagram on a connected socket reports the refusal with
 * errorOccurred (qudpsocket.cpp readDatagram, §4). */
static void
test_connected_refused_read_datagram (void)
{
  TuRecorder *rec;
  QSockUdp *udp = connected_to_closed_port (&rec);
  gint64 n = 0;
  char buf[16];

  TU_REC_CALL (rec, n = qsock_udp_read_datagram (udp, buf, sizeof buf, NULL, NULL));
  g_assert_cmpint (n, ==, -1);
  tu_recorder_assert (rec, "s:error-occurred(ConnectionRefused)@Connected");
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (udp)), ==, "Connection refused");

  tu_recorder_free (rec);
  g_object_unref (udp);
}

/* hasPendingDatagrams() peeks one byte; the refusal is an error, not a
 * datagram, so Qt answers false (nativeHasPendingDatagrams). */
static void
test_connected_refused_has_pending (void)
{
  TuRecorder *rec;
  QSockUdp *udp = connected_to_closed_port (&rec);
  gboolean pending = qsock_udp_has_pending_datagrams (udp);

  g_assert_false (pending);
  g_assert_cmpint (qsock_udp_pending_datagram_size (udp), ==, -1);

  tu_recorder_free (rec);
  g_object_unref (udp);
}

/* ======================================================================
 * waitForReadyRead without a main loop (§3.6, DESIGN §6)
 * ====================================================================== */

typedef struct
{
  guint16 port;
  guint   delay_ms;
} DelayedDatagram;

static gpointer
delayed_datagram_thread (gpointer data)
{
  DelayedDatagram *d = data;
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = g_htons (d->port),
                            .sin_addr.s_addr = g_htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  g_usleep (d->delay_ms * 1000);
  g_assert_cmpint (sendto (fd, "late", 4, 0, (struct sockaddr *) &to, sizeof to), ==, 4);
  close (fd);
  return NULL;
}

static gpointer
wait_for_ready_read_thread (gpointer data)
{
  GMainContext *context = g_main_context_new ();
  QSockUdp *udp;
  TuRecorder *rec;
  DelayedDatagram later = { .delay_ms = 100 };
  GThread *peer;
  gboolean ok = FALSE;
  gint64 start;
  char buf[8];

  g_main_context_push_thread_default (context);
  udp = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  rec = tu_recorder_new (udp);
  later.port = port_of (udp);

  /* A datagram arrives while waiting: TRUE, ready-read inside the call. */
  peer = g_thread_new ("test-late-datagram", delayed_datagram_thread, &later);
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (udp), 5000 * tu_timeout_scale ()));
  g_thread_join (peer);
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:ready-read@Bound");

  /* Waiting again before reading: TRUE at once, but no second ready-read
   * (canReadNotification: hasPendingData is still set). */
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (udp), 1000));
  g_assert_true (ok);
  tu_recorder_assert (rec, "s:ready-read@Bound");

  g_assert_cmpint (qsock_udp_read_datagram (udp, buf, sizeof buf, NULL, NULL), ==, 4);
  g_assert_cmpmem (buf, 4, "late", 4);

  /* Nothing comes: FALSE after the timeout, SocketTimeoutError emitted,
   * and the socket stays bound. */
  tu_recorder_reset (rec);
  start = g_get_monotonic_time ();
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (udp), 100));
  g_assert_false (ok);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 90 * 1000);
  tu_recorder_assert (rec, "s:error-occurred(SocketTimeout)@Bound");
  g_assert_cmpint (qsock_abstract_get_error (AS (udp)), ==, QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (udp)), ==, "Network operation timed out");
  g_assert_cmpint (qsock_abstract_get_state (AS (udp)), ==, QSOCK_SOCKET_STATE_BOUND);

  /* And it still works afterwards. */
  later.delay_ms = 10;
  peer = g_thread_new ("test-late-datagram", delayed_datagram_thread, &later);
  g_assert_true (qsock_iodevice_wait_for_ready_read (DEV (udp), 5000 * tu_timeout_scale ()));
  g_thread_join (peer);
  g_assert_cmpint (qsock_udp_pending_datagram_size (udp), ==, 4);

  /* Unbound: FALSE at once. */
  {
    QSockUdp *unbound = qsock_udp_new ();

    g_assert_false (qsock_iodevice_wait_for_ready_read (DEV (unbound), 50));
    g_object_unref (unbound);
  }

  g_assert_cmpuint (rec->n_wrong_thread, ==, 0);
  tu_recorder_free (rec);
  g_object_unref (udp);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_wait_for_ready_read_no_loop (void)
{
  g_thread_join (g_thread_new ("test-no-loop", wait_for_ready_read_thread, NULL));
}

/* ======================================================================
 * Multicast (§4)
 * ====================================================================== */

static void
test_multicast_loopback_ipv4 (void)
{
  char *group_text = multicast_group_v4 ();
  GInetAddress *group = inet (group_text);
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
  TuRecorder *rrec = tu_recorder_new (receiver);
  QSockDatagram *datagram;

  if (skip_if (kernel_multicast_problem (group_text, PROBE_DELIVER)))
    goto out;

  g_assert_true (qsock_udp_join_multicast_group (receiver, group, "lo"));
  /* Joining is not an error and emits nothing. */
  tu_recorder_assert (rrec, "");

  /* Out by lo (not the default route), looped back to us. */
  qsock_udp_set_multicast_interface (sender, loopback_index ());
  qsock_abstract_set_socket_option (AS (sender), QSOCK_SOCKET_OPTION_MULTICAST_LOOPBACK, 1);
  g_assert_cmpint (qsock_udp_write_datagram (sender, "to the group", 12, group, port_of (receiver)), ==, 12);

  TU_RUN_UNTIL (rrec->n_ready_read == 1, WAIT_MS);
  datagram = qsock_udp_receive_datagram (receiver, -1);
  assert_datagram_data (datagram, "to the group");
  assert_address (qsock_datagram_get_destination_address (datagram), group_text);
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, port_of (receiver));
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, port_of (sender));
  g_assert_cmpuint (qsock_datagram_get_interface_index (datagram), ==, loopback_index ());
  /* A reply to a multicast datagram does not come from the group. */
  {
    GBytes *data = g_bytes_new_static ("r", 1);
    QSockDatagram *reply = qsock_datagram_make_reply (datagram, data);

    g_assert_null (qsock_datagram_get_sender_address (reply));
    g_assert_cmpint (qsock_datagram_get_sender_port (reply), ==, -1);
    g_assert_cmpint (qsock_datagram_get_destination_port (reply), ==, port_of (sender));
    g_object_unref (reply);
    g_bytes_unref (data);
  }
  g_object_unref (datagram);

  /* Once left, the group's datagrams no longer arrive. */
  g_assert_true (qsock_udp_leave_multicast_group (receiver, group, "lo"));
  g_assert_cmpint (qsock_udp_write_datagram (sender, "after leaving", 13, group, port_of (receiver)), ==, 13);
  tu_spin (150);
  g_assert_false (qsock_udp_has_pending_datagrams (receiver));

out:
  tu_recorder_free (rrec);
  g_object_unref (sender);
  g_object_unref (receiver);
  g_object_unref (group);
  g_free (group_text);
}

static void
test_multicast_join_leave (void)
{
  char *group_text = multicast_group_v4 ();
  GInetAddress *group = inet (group_text);
  GInetAddress *unicast = inet ("1.2.3.4");
  QSockUdp *udp = bound_to (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
  TuRecorder *rec = tu_recorder_new (udp);

  if (skip_if (kernel_multicast_problem (group_text, PROBE_JOIN)))
    goto out;

  g_assert_true (qsock_udp_join_multicast_group_on_index (udp, group, loopback_index ()));
  /* Joined by index, left by name: the same interface. */
  g_assert_true (qsock_udp_leave_multicast_group (udp, group, "lo"));
  /* Left already: FALSE, and (as in Qt) no error is set or emitted. */
  g_assert_false (qsock_udp_leave_multicast_group (udp, group, "lo"));
  g_assert_false (qsock_udp_leave_multicast_group_on_index (udp, group, loopback_index ()));
  /* Not a multicast address: FALSE, no error either (probe U7). */
  g_assert_false (qsock_udp_join_multicast_group (udp, unicast, NULL));
  /* An interface that does not exist. */
  g_assert_false (qsock_udp_join_multicast_group (udp, group, "no-such-if0"));

  tu_recorder_assert (rec, "");
  g_assert_cmpint (qsock_abstract_get_error (AS (udp)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (udp)), ==, "Unknown error");

out:
  tu_recorder_free (rec);
  g_object_unref (udp);
  g_object_unref (unicast);
  g_object_unref (group);
  g_free (group_text);
}

static void
test_multicast_dual_stack_ipv4_group (void)
{
  char *group_text = multicast_group_v4 ();
  GInetAddress *group = inet (group_text);
  QSockUdp *udp = qsock_udp_new ();
  TuRecorder *rec;
  GInetAddress *local;

  if (!tu_ipv6_loopback_available ())
    {
      g_test_skip ("no IPv6 here: Any binds IPv4 only, so the join would be allowed");
      g_object_unref (udp);
      g_object_unref (group);
      g_free (group_text);
      return;
    }

  /* NULL is QHostAddress::Any: dual stack where IPv6 exists. */
  g_assert_true (qsock_abstract_bind (AS (udp), NULL, 0, DEFAULT_BIND));
  local = qsock_abstract_get_local_address (AS (udp));
  g_assert_cmpint (g_inet_address_get_family (local), ==, G_SOCKET_FAMILY_IPV6);
  g_assert_true (g_inet_address_get_is_any (local));
  g_object_unref (local);

  rec = tu_recorder_new (udp);
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING,
                         "*cannot bind to QHostAddress::Any (or an IPv6 address) and join an IPv4 "
                         "multicast group*AnyIPv4*");
  g_assert_false (qsock_udp_join_multicast_group (udp, group, "lo"));
  g_test_assert_expected_messages ();
  tu_recorder_assert (rec, "");
  g_assert_cmpint (qsock_abstract_get_error (AS (udp)), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);

  tu_recorder_free (rec);
  g_object_unref (udp);
  g_object_unref (group);
  g_free (group_text);
}

/* What the kernel holds: IP_MULTICAST_TTL, or IPV6_MULTICAST_HOPS on an
 * IPv6 socket, as Qt's engine sets them. */
static int
kernel_multicast_ttl (QSockUdp *udp)
{
  GInetAddress *local = qsock_abstract_get_local_address (AS (udp));
  gboolean v6 = g_inet_address_get_family (local) == G_SOCKET_FAMILY_IPV6;
  int value = -12345;
  socklen_t len = sizeof value;

  g_object_unref (local);
  g_assert_cmpint (getsockopt (fd_of (udp), v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                               v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL, &value, &len), ==, 0);
  return len == 1 ? (int) *(guint8 *) &value : value;
}

static void
assert_multicast_ttl (QSockSpecialAddress which)
{
  static const int sticking[] = { 0, 1, 2, 128, 255 };
  QSockUdp *udp = bound_to (which);
  QSockUdp *fresh;

  g_assert_cmpint (option (udp, QSOCK_SOCKET_OPTION_MULTICAST_TTL), ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS (sticking); i++)
    {
      qsock_abstract_set_socket_option (AS (udp), QSOCK_SOCKET_OPTION_MULTICAST_TTL, sticking[i]);
      g_assert_cmpint (option (udp, QSOCK_SOCKET_OPTION_MULTICAST_TTL), ==, sticking[i]);
      g_assert_cmpint (kernel_multicast_ttl (udp), ==, sticking[i]);
    }
  /* The kernel rejects 1024; the value stays. */
  qsock_abstract_set_socket_option (AS (udp), QSOCK_SOCKET_OPTION_MULTICAST_TTL, 1024);
  g_assert_cmpint (option (udp, QSOCK_SOCKET_OPTION_MULTICAST_TTL), ==, 255);

  /* tst multicastTtlOption's row "1024": a fresh socket keeps 1. */
  fresh = bound_to (which);
  qsock_abstract_set_socket_option (AS (fresh), QSOCK_SOCKET_OPTION_MULTICAST_TTL, 1024);
  g_assert_cmpint (option (fresh, QSOCK_SOCKET_OPTION_MULTICAST_TTL), ==, 1);

  g_object_unref (fresh);
  g_object_unref (udp);
}

static void
test_multicast_ttl_option (void)
{
  QSockUdp *unbound = qsock_udp_new ();
  int value = -1;

  /* No socket yet: ignored, and reading it fails (an invalid QVariant). */
  qsock_abstract_set_socket_option (AS (unbound), QSOCK_SOCKET_OPTION_MULTICAST_TTL, 5);
  g_assert_false (qsock_abstract_get_socket_option (AS (unbound), QSOCK_SOCKET_OPTION_MULTICAST_TTL,
                                                    &value));
  g_object_unref (unbound);

  assert_multicast_ttl (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
  if (!tu_ipv6_loopback_available ())
    {
      g_test_skip ("IPv6 is not available (IPv4 was checked)");
      return;
    }
  assert_multicast_ttl (QSOCK_SPECIAL_ADDRESS_ANY_IPV6);
}

static void
test_multicast_loopback_option (void)
{
  static const int values[] = { 0, 1, 2, 255, -1, 0, 7 };
  QSockUdp *udp = bound_to (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);

  g_assert_cmpint (option (udp, QSOCK_SOCKET_OPTION_MULTICAST_LOOPBACK), ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      qsock_abstract_set_socket_option (AS (udp), QSOCK_SOCKET_OPTION_MULTICAST_LOOPBACK, values[i]);
      g_assert_cmpint (option (udp, QSOCK_SOCKET_OPTION_MULTICAST_LOOPBACK), ==, values[i] != 0);
    }
  g_object_unref (udp);
}

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           guint      *count)
{
  (*count)++;
}

static void
assert_multicast_interface (QSockSpecialAddress which)
{
  QSockUdp *udp = bound_to (which);
  guint notified = 0;
  guint value = 0;

  g_signal_connect (udp, "notify::multicast-interface", G_CALLBACK (on_notify), &notified);
  g_assert_cmpuint (qsock_udp_get_multicast_interface (udp), ==, 0);
  qsock_udp_set_multicast_interface (udp, loopback_index ());
  g_assert_cmpuint (qsock_udp_get_multicast_interface (udp), ==, loopback_index ());
  g_object_get (udp, "multicast-interface", &value, NULL);
  g_assert_cmpuint (value, ==, loopback_index ());
  g_assert_cmpuint (notified, ==, 1);
  /* The same again: no notification. */
  qsock_udp_set_multicast_interface (udp, loopback_index ());
  g_assert_cmpuint (notified, ==, 1);
  /* Through the property. */
  g_object_set (udp, "multicast-interface", 0u, NULL);
  g_assert_cmpuint (qsock_udp_get_multicast_interface (udp), ==, 0);
  g_assert_cmpuint (notified, ==, 2);

  g_object_unref (udp);
}

static void
test_multicast_interface (void)
{
  assert_multicast_interface (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
  if (!tu_ipv6_loopback_available ())
    {
      g_test_skip ("IPv6 is not available (IPv4 was checked)");
      return;
    }
  assert_multicast_interface (QSOCK_SPECIAL_ADDRESS_ANY_IPV6);
}

static void
test_multicast_ipv6 (void)
{
  char *group_text = multicast_group_v6 ();
  GInetAddress *group;
  QSockUdp *receiver;
  QSockUdp *sender;
  QSockDatagram *datagram;
  char *problem;

  if (!tu_ipv6_loopback_available ())
    {
      g_test_skip ("IPv6 is not available");
      g_free (group_text);
      return;
    }
  if (skip_if (kernel_multicast_problem (group_text, PROBE_JOIN)))
    {
      g_free (group_text);
      return;
    }

  group = inet (group_text);
  receiver = bound_to (QSOCK_SPECIAL_ADDRESS_ANY_IPV6);
  sender = bound_to (QSOCK_SPECIAL_ADDRESS_ANY_IPV6);
  g_assert_true (qsock_udp_join_multicast_group (receiver, group, "lo"));

  /* lo has no MULTICAST flag and often no ff00::/8 route: then only
   * joining and leaving can be checked. */
  problem = kernel_multicast_problem (group_text, PROBE_DELIVER);
  if (problem != NULL)
    {
      g_assert_true (qsock_udp_leave_multicast_group (receiver, group, "lo"));
      g_assert_false (qsock_udp_leave_multicast_group (receiver, group, "lo"));
      skip_printf ("%s (joining and leaving were checked)", problem);
      g_free (problem);
      goto out;
    }

  qsock_udp_set_multicast_interface (sender, loopback_index ());
  qsock_abstract_set_socket_option (AS (sender), QSOCK_SOCKET_OPTION_MULTICAST_LOOPBACK, 1);
  g_assert_cmpint (qsock_udp_write_datagram (sender, "v6 group", 8, group, port_of (receiver)), ==, 8);
  wait_datagram (receiver);
  datagram = qsock_udp_receive_datagram (receiver, -1);
  assert_datagram_data (datagram, "v6 group");
  assert_address (qsock_datagram_get_destination_address (datagram), group_text);
  g_object_unref (datagram);
  g_assert_true (qsock_udp_leave_multicast_group (receiver, group, "lo"));
  g_assert_false (qsock_udp_leave_multicast_group (receiver, group, "lo"));

out:
  g_object_unref (sender);
  g_object_unref (receiver);
  g_object_unref (group);
  g_free (group_text);
}

/* ======================================================================
 * Broadcast (Qt turns SO_BROADCAST on for every UDP socket)
 * ====================================================================== */

static void
assert_broadcast_received (const char *destination)
{
  GInetAddress *to = inet (destination);
  QSockUdp *receiver = bound_to (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
  /* Bound to 127.0.0.1, so the broadcast leaves by lo and nowhere else. */
  QSockUdp *sender = bound_to (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  QSockDatagram *datagram;

  if (skip_if (kernel_broadcast_problem (destination)))
    goto out;

  /* Qt turns SO_BROADCAST on for every UDP socket: no EACCES. */
  g_assert_cmpint (qsock_udp_write_datagram (sender, "to everyone", 11, to, port_of (receiver)), ==, 11);
  wait_datagram (receiver);
  datagram = qsock_udp_receive_datagram (receiver, -1);
  assert_datagram_data (datagram, "to everyone");
  assert_address (qsock_datagram_get_sender_address (datagram), "127.0.0.1");
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, port_of (sender));
  assert_address (qsock_datagram_get_destination_address (datagram), destination);
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, port_of (receiver));
  g_object_unref (datagram);

out:
  g_object_unref (sender);
  g_object_unref (receiver);
  g_object_unref (to);
}

static void
test_broadcast_limited (void)
{
  GInetAddress *broadcast = special (QSOCK_SPECIAL_ADDRESS_BROADCAST);

  assert_address (g_object_ref (broadcast), "255.255.255.255");
  g_object_unref (broadcast);
  assert_broadcast_received ("255.255.255.255");
}

static void
test_broadcast_subnet (void)
{
  assert_broadcast_received ("127.255.255.255");
}

/* ======================================================================
 * QSockDatagram (tst_qnetworkdatagram)
 * ====================================================================== */

static void
test_datagram_defaults (void)
{
  QSockDatagram *datagram = qsock_datagram_new ();
  GBytes *data = NULL;
  int sender_port = 0, destination_port = 0, hops = 0;
  guint ifindex = 7;

  g_assert_true (qsock_datagram_is_null (datagram));
  g_assert_false (qsock_datagram_is_valid (datagram));
  g_assert_null (qsock_datagram_get_sender_address (datagram));
  g_assert_null (qsock_datagram_get_destination_address (datagram));
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, -1);
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, -1);
  g_assert_cmpint (qsock_datagram_get_hop_limit (datagram), ==, -1);
  g_assert_cmpuint (qsock_datagram_get_interface_index (datagram), ==, 0);
  /* The payload is empty, never NULL. */
  assert_datagram_data (datagram, "");

  g_object_get (datagram, "data", &data, "sender-port", &sender_port,
                "destination-port", &destination_port, "hop-limit", &hops,
                "interface-index", &ifindex, NULL);
  g_assert_nonnull (data);
  g_assert_cmpuint (g_bytes_get_size (data), ==, 0);
  g_assert_cmpint (sender_port, ==, -1);
  g_assert_cmpint (destination_port, ==, -1);
  g_assert_cmpint (hops, ==, -1);
  g_assert_cmpuint (ifindex, ==, 0);
  g_bytes_unref (data);

  g_object_unref (datagram);
}

static void
test_datagram_constructors (void)
{
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GBytes *bytes = g_bytes_new ("from bytes", 10);
  QSockDatagram *datagram;

  datagram = qsock_datagram_new_with_data ("abc\0def", 7, lo, 1234);
  g_assert_true (qsock_datagram_is_valid (datagram));
  {
    GBytes *data = qsock_datagram_get_data (datagram);

    /* Binary data, the NUL included. */
    g_assert_cmpmem (g_bytes_get_data (data, NULL), g_bytes_get_size (data), "abc\0def", 7);
    g_bytes_unref (data);
  }
  assert_address (qsock_datagram_get_destination_address (datagram), "127.0.0.1");
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, 1234);
  g_assert_null (qsock_datagram_get_sender_address (datagram));
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, -1);
  g_assert_cmpint (qsock_datagram_get_hop_limit (datagram), ==, -1);
  g_assert_cmpuint (qsock_datagram_get_interface_index (datagram), ==, 0);
  g_object_unref (datagram);

  datagram = qsock_datagram_new_with_bytes (bytes, lo, 99);
  assert_datagram_data (datagram, "from bytes");
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, 99);
  {
    /* The same bytes, shared, not copied. */
    GBytes *data = qsock_datagram_get_data (datagram);

    g_assert_true (data == bytes);
    g_bytes_unref (data);
  }
  g_object_unref (datagram);

  /* QNetworkDatagram(data): no destination, so null (and the port of a
   * null address is -1). */
  datagram = qsock_datagram_new_with_data ("x", 1, NULL, 0);
  g_assert_true (qsock_datagram_is_null (datagram));
  assert_datagram_data (datagram, "x");
  g_assert_null (qsock_datagram_get_destination_address (datagram));
  check_ports_of_null_addresses (datagram);
  g_object_unref (datagram);

  g_bytes_unref (bytes);
  g_object_unref (lo);
}

/* tst_qnetworkdatagram::getSetCheck */
static void
test_datagram_setters (void)
{
  QSockDatagram *datagram = qsock_datagram_new ();
  GInetAddress *any = special (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
  GInetAddress *lo = special (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  GInetAddress *lo6 = special (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST_IPV6);
  GInetAddress *broadcast = special (QSOCK_SPECIAL_ADDRESS_BROADCAST);
  GInetAddress *got = NULL;
  GBytes *payload = g_bytes_new ("payload", 7);
  guint notified = 0;
  int port = 0;

  qsock_datagram_set_hop_limit (datagram, 1);
  g_assert_cmpint (qsock_datagram_get_hop_limit (datagram), ==, 1);
  qsock_datagram_set_hop_limit (datagram, 255);
  g_assert_cmpint (qsock_datagram_get_hop_limit (datagram), ==, 255);

  qsock_datagram_set_interface_index (datagram, 1);
  g_assert_cmpuint (qsock_datagram_get_interface_index (datagram), ==, 1);
  qsock_datagram_set_interface_index (datagram, 1234567);
  g_assert_cmpuint (qsock_datagram_get_interface_index (datagram), ==, 1234567);

  /* Only hop limit and interface: still null. */
  g_assert_true (qsock_datagram_is_null (datagram));

  qsock_datagram_set_sender (datagram, any, 12345);
  assert_address (qsock_datagram_get_sender_address (datagram), "0.0.0.0");
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, 12345);
  g_assert_true (qsock_datagram_is_valid (datagram));
  qsock_datagram_set_sender (datagram, lo, 0);
  assert_address (qsock_datagram_get_sender_address (datagram), "127.0.0.1");
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, 0);

  qsock_datagram_set_destination (datagram, lo6, 12345);
  assert_address (qsock_datagram_get_destination_address (datagram), "::1");
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, 12345);
  qsock_datagram_set_destination (datagram, broadcast, 137);
  assert_address (qsock_datagram_get_destination_address (datagram), "255.255.255.255");
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, 137);

  /* The payload: the same GBytes comes back; NULL means empty. */
  g_signal_connect (datagram, "notify::data", G_CALLBACK (on_notify), &notified);
  qsock_datagram_set_data (datagram, payload);
  g_assert_cmpuint (notified, ==, 1);
  {
    GBytes *data = qsock_datagram_get_data (datagram);

    g_assert_true (data == payload);
    g_bytes_unref (data);
  }
  qsock_datagram_set_data (datagram, payload);
  g_assert_cmpuint (notified, ==, 1);
  qsock_datagram_set_data (datagram, NULL);
  assert_datagram_data (datagram, "");

  /* The properties say the same as the getters. */
  g_object_get (datagram, "sender-address", &got, "destination-port", &port, NULL);
  assert_address (got, "127.0.0.1");
  g_assert_cmpint (port, ==, 137);
  g_object_set (datagram, "hop-limit", 3, "destination-port", 53, NULL);
  g_assert_cmpint (qsock_datagram_get_hop_limit (datagram), ==, 3);
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, 53);
  assert_address (qsock_datagram_get_destination_address (datagram), "255.255.255.255");

  /* clear(): null again, every field at its default. */
  qsock_datagram_set_data (datagram, payload);
  qsock_datagram_clear (datagram);
  g_assert_true (qsock_datagram_is_null (datagram));
  assert_datagram_data (datagram, "");
  g_assert_null (qsock_datagram_get_sender_address (datagram));
  g_assert_null (qsock_datagram_get_destination_address (datagram));
  g_assert_cmpint (qsock_datagram_get_sender_port (datagram), ==, -1);
  g_assert_cmpint (qsock_datagram_get_destination_port (datagram), ==, -1);
  g_assert_cmpint (qsock_datagram_get_hop_limit (datagram), ==, -1);
  g_assert_cmpuint (qsock_datagram_get_interface_index (datagram), ==, 0);

  /* Qt: senderPort()/destinationPort() are -1 whenever the address is
   * null, whatever port was given with it. */
  qsock_datagram_set_sender (datagram, NULL, 1234);
  qsock_datagram_set_destination (datagram, NULL, 4321);
  g_assert_true (qsock_datagram_is_null (datagram));
  check_ports_of_null_addresses (datagram);

  g_bytes_unref (payload);
  g_object_unref (broadcast);
  g_object_unref (lo6);
  g_object_unref (lo);
  g_object_unref (any);
  g_object_unref (datagram);
}

/* tst_qnetworkdatagram::makeReply's rows: the reply goes to the sender,
 * from the destination unless that is a multicast group, by the same
 * interface, with the default hop limit. */
static void
assert_make_reply (const char *sender,
                   int         sender_port,
                   const char *destination,
                   int         destination_port,
                   guint       ifindex,
                   const char *reply_sender)
{
  GInetAddress *from = inet (sender);
  GInetAddress *to = inet (destination);
  QSockDatagram *datagram = qsock_datagram_new_with_data ("some data", 9, to, destination_port);
  GBytes *world = g_bytes_new_static ("World", 5);
  QSockDatagram *reply;

  qsock_datagram_set_hop_limit (datagram, 64);
  qsock_datagram_set_sender (datagram, from, sender_port);
  qsock_datagram_set_interface_index (datagram, ifindex);

  reply = qsock_datagram_make_reply (datagram, world);
  assert_datagram_data (reply, "World");
  assert_address (qsock_datagram_get_sender_address (reply), reply_sender);
  g_assert_cmpint (qsock_datagram_get_sender_port (reply), ==, reply_sender ? destination_port : -1);
  assert_address (qsock_datagram_get_destination_address (reply), sender);
  g_assert_cmpint (qsock_datagram_get_destination_port (reply), ==, sender_port);
  g_assert_cmpuint (qsock_datagram_get_interface_index (reply), ==, ifindex);
  g_assert_cmpint (qsock_datagram_get_hop_limit (reply), ==, -1);
  /* The original is untouched. */
  assert_datagram_data (datagram, "some data");
  g_assert_cmpint (qsock_datagram_get_hop_limit (datagram), ==, 64);

  g_object_unref (reply);
  g_bytes_unref (world);
  g_object_unref (datagram);
  g_object_unref (to);
  g_object_unref (from);
}

static void
test_datagram_make_reply (void)
{
  assert_make_reply ("127.0.0.1", 12345, "192.0.2.1", 10001, 0, "192.0.2.1");
  assert_make_reply ("127.0.0.1", 12345, "224.0.0.1", 10002, 0, NULL);
  assert_make_reply ("::1", 12346, "2001:db8::1", 12347, 0, "2001:db8::1");
  assert_make_reply ("fe80::1", 10003, "fe80::2", 10004, 1, "fe80::2");
  assert_make_reply ("fe80::1", 10003, "ff02::1", 10005, 1, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/udp/defaults", test_defaults);

  g_test_add_func ("/udp/bind/bound-state", test_bind_bound_state);
  g_test_add_func ("/udp/bind/twice", test_bind_twice);
  g_test_add_func ("/udp/bind/address-in-use", test_bind_address_in_use);
  g_test_add_func ("/udp/bind/share-address", test_bind_share_address);
  g_test_add_func ("/udp/bind/address-not-available", test_bind_address_not_available);

  g_test_add_func ("/udp/write/auto-binds", test_write_auto_binds);
  g_test_add_func ("/udp/write/empty-datagram", test_write_empty_datagram);
  g_test_add_func ("/udp/write/too-large", test_write_too_large);
  g_test_add_func ("/udp/write/largest-ipv4", test_write_largest_ipv4);

  g_test_add_func ("/udp/read/sender-ipv4", test_read_sender_ipv4);
  g_test_add_func ("/udp/read/sender-ipv6", test_read_sender_ipv6);
  g_test_add_func ("/udp/read/truncates", test_read_truncates);
  g_test_add_func ("/udp/read/zero-discards", test_read_zero_discards);
  g_test_add_func ("/udp/read/none-pending", test_read_none_pending);
  g_test_add_func ("/udp/read/bytes", test_read_bytes);

  g_test_add_func ("/udp/receive/fields-ipv4", test_receive_fields_ipv4);
  g_test_add_func ("/udp/receive/fields-ipv6", test_receive_fields_ipv6);
  g_test_add_func ("/udp/receive/truncates", test_receive_truncates);
  g_test_add_func ("/udp/receive/none-pending", test_receive_none_pending);
  g_test_add_func ("/udp/send/hop-limit", test_send_hop_limit);
  g_test_add_func ("/udp/send/without-destination", test_send_without_destination);
  g_test_add_func ("/udp/send/make-reply", test_make_reply_on_the_wire);

  g_test_add_func ("/udp/ready-read/once-per-read", test_ready_read_once_per_read);
  g_test_add_func ("/udp/ready-read/burst-1000", test_ready_read_burst);

  g_test_add_func ("/udp/guard/unbound", test_guard_unbound);
  g_test_add_func ("/udp/guard/after-close", test_guard_after_close);

  g_test_add_func ("/udp/connected/signals-and-io", test_connected_signals_and_io);
  g_test_add_func ("/udp/connected/send-datagram", test_connected_send_datagram);
  g_test_add_func ("/udp/connected/refused", test_connected_refused);
  g_test_add_func ("/udp/connected/refused-read-datagram", test_connected_refused_read_datagram);
  g_test_add_func ("/udp/connected/refused-has-pending", test_connected_refused_has_pending);

  g_test_add_func ("/udp/wait/ready-read-no-loop", test_wait_for_ready_read_no_loop);

  g_test_add_func ("/udp/multicast/loopback-ipv4", test_multicast_loopback_ipv4);
  g_test_add_func ("/udp/multicast/join-leave", test_multicast_join_leave);
  g_test_add_func ("/udp/multicast/dual-stack-ipv4-group", test_multicast_dual_stack_ipv4_group);
  g_test_add_func ("/udp/multicast/ttl-option", test_multicast_ttl_option);
  g_test_add_func ("/udp/multicast/loopback-option", test_multicast_loopback_option);
  g_test_add_func ("/udp/multicast/interface", test_multicast_interface);
  g_test_add_func ("/udp/multicast/ipv6", test_multicast_ipv6);

  g_test_add_func ("/udp/broadcast/limited", test_broadcast_limited);
  g_test_add_func ("/udp/broadcast/subnet", test_broadcast_subnet);

  g_test_add_func ("/udp/datagram/defaults", test_datagram_defaults);
  g_test_add_func ("/udp/datagram/constructors", test_datagram_constructors);
  g_test_add_func ("/udp/datagram/setters", test_datagram_setters);
  g_test_add_func ("/udp/datagram/make-reply", test_datagram_make_reply);

  return g_test_run ();
}
