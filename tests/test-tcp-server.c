/* test-tcp-server.c: QSockTcpServer against Qt 6's QTcpServer behaviour
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * QT-BEHAVIOUR.md §5.1. Clients are plain POSIX sockets (the kernel
 * completes their handshake whether or not the server accepts), so what
 * the server does is visible on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <qsock-glib/qsock.h>

#include "test-util.h"

#define AS(s) QSOCK_ABSTRACT (s)
#define DEV(s) QSOCK_IODEVICE (s)

/* ---- recording server signals ------------------------------------------ */

typedef struct
{
  QSockTcpServer  *server;
  GString         *log;
  gboolean         in_call;
  guint            n_new;
  guint            n_available;
  guint            n_accept_errors;
  QSockSocketError last_accept_error;
  GThread         *owner;
  guint            n_wrong_thread;
} ServerRec;

static void
server_log (ServerRec *rec, const char *what)
{
  if (g_thread_self () != rec->owner)
    rec->n_wrong_thread++;
  if (rec->log->len > 0)
    g_string_append_c (rec->log, ' ');
  g_string_append_printf (rec->log, "%s:%s", rec->in_call ? "s" : "l", what);
}

static void
on_new_connection (QSockTcpServer *server, ServerRec *rec)
{
  rec->n_new++;
  server_log (rec, "new-connection");
}

static void
on_pending_available (QSockTcpServer *server, ServerRec *rec)
{
  rec->n_available++;
  server_log (rec, "pending-connection-available");
}

static void
on_accept_error (QSockTcpServer *server, QSockSocketError error, ServerRec *rec)
{
  rec->n_accept_errors++;
  rec->last_accept_error = error;
  server_log (rec, "accept-error");
}

static ServerRec *
server_rec_new (QSockTcpServer *server)
{
  ServerRec *rec = g_new0 (ServerRec, 1);

  rec->server = g_object_ref (server);
  rec->log = g_string_new (NULL);
  rec->owner = g_thread_self ();
  g_signal_connect (server, "new-connection", G_CALLBACK (on_new_connection), rec);
  g_signal_connect (server, "pending-connection-available", G_CALLBACK (on_pending_available), rec);
  g_signal_connect (server, "accept-error", G_CALLBACK (on_accept_error), rec);
  return rec;
}

static void
server_rec_free (ServerRec *rec)
{
  g_signal_handlers_disconnect_by_data (rec->server, rec);
  g_object_unref (rec->server);
  g_string_free (rec->log, TRUE);
  g_free (rec);
}

static GInetAddress *
loopback4 (void)
{
  return g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
}

static QSockTcpServer *
listening_server (void)
{
  QSockTcpServer *server = qsock_tcp_server_new ();
  GInetAddress *lo = loopback4 ();

  g_assert_true (qsock_tcp_server_listen (server, lo, 0));
  g_object_unref (lo);
  return server;
}

/* The fixture of the accepting tests: a server listening on 127.0.0.1,
 * port 0, with its signals recorded. */
typedef struct
{
  QSockTcpServer *server;
  ServerRec      *rec;
} Listening;

static void
listening_setup (Listening *f, gconstpointer data)
{
  f->server = listening_server ();
  f->rec = server_rec_new (f->server);
}

static void
listening_teardown (Listening *f, gconstpointer data)
{
  g_assert_cmpuint (f->rec->n_wrong_thread, ==, 0);
  server_rec_free (f->rec);
  g_object_unref (f->server);
}

#define add_listening_test(path, func) \
  g_test_add (path, Listening, NULL, listening_setup, func, listening_teardown)

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

static int
connect_family (int family, guint16 port)
{
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  int fd = socket (family, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  if (family == AF_INET6)
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = in6addr_loopback;
      sin6->sin6_port = htons (port);
      len = sizeof *sin6;
    }
  else
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      sin->sin_port = htons (port);
      len = sizeof *sin;
    }
  g_assert_cmpint (connect (fd, (struct sockaddr *) &ss, len), ==, 0);
  return fd;
}

/* ======================================================================
 * Basics
 * ====================================================================== */

static void
test_defaults (void)
{
  QSockTcpServer *server = qsock_tcp_server_new ();
  gboolean timed_out = TRUE;

  g_assert_cmpint (qsock_tcp_server_get_max_pending_connections (server), ==, 30);
  g_assert_cmpint (qsock_tcp_server_get_listen_backlog_size (server), ==, 50);
  g_assert_false (qsock_tcp_server_is_listening (server));
  g_assert_cmpuint (qsock_tcp_server_get_server_port (server), ==, 0);
  g_assert_null (qsock_tcp_server_get_server_address (server));
  g_assert_cmpint (qsock_tcp_server_get_server_error (server), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  /* Not a QIODevice: "" rather than "Unknown error". */
  g_assert_cmpstr (qsock_tcp_server_get_error_string (server), ==, "");
  g_assert_cmpint (qsock_tcp_server_get_socket_descriptor (server), ==, -1);
  g_assert_false (qsock_tcp_server_has_pending_connections (server));
  g_assert_null (qsock_tcp_server_next_pending_connection (server));

  /* Not listening: FALSE, and not a timeout. */
  g_assert_false (qsock_tcp_server_wait_for_new_connection (server, 10, &timed_out));
  g_assert_false (timed_out);

  /* The same through GObject properties. */
  {
    int max_pending = 0, backlog = 0, error = 0;
    guint port = 1;
    GInetAddress *address = (GInetAddress *) 1;

    g_object_get (server,
                  "max-pending-connections", &max_pending,
                  "listen-backlog-size", &backlog,
                  "server-port", &port,
                  "server-address", &address,
                  "server-error", &error,
                  NULL);
    g_assert_cmpint (max_pending, ==, 30);
    g_assert_cmpint (backlog, ==, 50);
    g_assert_cmpuint (port, ==, 0);
    g_assert_null (address);
    g_assert_cmpint (error, ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
    g_object_set (server, "max-pending-connections", 3, NULL);
    g_assert_cmpint (qsock_tcp_server_get_max_pending_connections (server), ==, 3);
  }

  qsock_tcp_server_set_max_pending_connections (server, 5);
  g_assert_cmpint (qsock_tcp_server_get_max_pending_connections (server), ==, 5);
  qsock_tcp_server_set_listen_backlog_size (server, 7);
  g_assert_cmpint (qsock_tcp_server_get_listen_backlog_size (server), ==, 7);

  /* Closing a server that never listened does nothing. */
  qsock_tcp_server_close (server);
  g_assert_false (qsock_tcp_server_is_listening (server));

  g_object_unref (server);
}

static void
test_listen_ipv4 (void)
{
  QSockTcpServer *server = qsock_tcp_server_new ();
  ServerRec *rec = server_rec_new (server);
  GInetAddress *lo = loopback4 ();
  char *address;
  guint16 port;
  int client;

  g_assert_true (qsock_tcp_server_listen (server, lo, 0));
  g_assert_true (qsock_tcp_server_is_listening (server));
  port = qsock_tcp_server_get_server_port (server);
  g_assert_cmpuint (port, !=, 0);
  address = address_string (qsock_tcp_server_get_server_address (server));
  g_assert_cmpstr (address, ==, "127.0.0.1");
  g_free (address);
  g_assert_cmpint (qsock_tcp_server_get_socket_descriptor (server), >=, 0);
  /* listen() emits nothing. */
  g_assert_cmpstr (rec->log->str, ==, "");

  client = tu_connect (port);
  TU_RUN_UNTIL (rec->n_new == 1, 5000);

  /* Listening twice is refused with a warning. */
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*called when already listening*");
  g_assert_false (qsock_tcp_server_listen (server, lo, 0));
  g_test_assert_expected_messages ();
  g_assert_true (qsock_tcp_server_is_listening (server));

  qsock_tcp_server_close (server);
  g_assert_false (qsock_tcp_server_is_listening (server));
  g_assert_cmpint (qsock_tcp_server_get_socket_descriptor (server), ==, -1);
  g_assert_cmpuint (qsock_tcp_server_get_server_port (server), ==, 0);
  g_assert_null (qsock_tcp_server_get_server_address (server));

  /* It can listen again. */
  g_assert_true (qsock_tcp_server_listen (server, lo, 0));
  g_assert_true (qsock_tcp_server_is_listening (server));
  g_assert_cmpuint (qsock_tcp_server_get_server_port (server), !=, 0);

  close (client);
  server_rec_free (rec);
  g_object_unref (server);
  g_object_unref (lo);
}

static void
test_listen_any_dual_stack (void)
{
  QSockTcpServer *server = qsock_tcp_server_new ();
  ServerRec *rec = server_rec_new (server);
  gboolean ipv6 = tu_ipv6_loopback_available ();
  guint16 port;
  int c4, c6 = -1;

  g_assert_true (qsock_tcp_server_listen (server, NULL, 0));
  port = qsock_tcp_server_get_server_port (server);
  g_assert_cmpuint (port, !=, 0);
  if (ipv6)
    {
      /* On an IPv6-capable host Any is reported as "::". */
      char *address = address_string (qsock_tcp_server_get_server_address (server));
      g_assert_cmpstr (address, ==, "::");
      g_free (address);
    }

  c4 = connect_family (AF_INET, port);
  TU_RUN_UNTIL (rec->n_new == 1, 5000);
  if (ipv6)
    {
      c6 = connect_family (AF_INET6, port);
      TU_RUN_UNTIL (rec->n_new == 2, 5000);
    }

  /* Both work end to end. */
  for (guint i = 0; i < rec->n_new; i++)
    {
      QSockTcp *conn = qsock_tcp_server_next_pending_connection (server);
      int client = i == 0 ? c4 : c6;
      char buf[2];

      g_assert_nonnull (conn);
      g_assert_cmpint (qsock_abstract_get_state (AS (conn)), ==, QSOCK_SOCKET_STATE_CONNECTED);
      g_assert_cmpint (qsock_iodevice_write (DEV (conn), "ok", 2), ==, 2);
      TU_RUN_UNTIL (qsock_iodevice_bytes_to_write (DEV (conn)) == 0, 5000);
      tu_read_exact (client, buf, 2, 5000);
      g_assert_cmpmem (buf, 2, "ok", 2);
      g_object_unref (conn);
    }

  if (!ipv6)
    g_test_skip ("IPv6 loopback (::1) is not available; only IPv4 was checked");

  close (c4);
  if (c6 >= 0)
    close (c6);
  server_rec_free (rec);
  g_object_unref (server);
}

static void
test_listen_ipv6 (void)
{
  QSockTcpServer *server;
  GInetAddress *lo6;
  int client;
  QSockTcp *conn;
  char *address;

  if (!tu_ipv6_loopback_available ())
    {
      g_test_skip ("IPv6 loopback (::1) is not available");
      return;
    }

  server = qsock_tcp_server_new ();
  lo6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_assert_true (qsock_tcp_server_listen (server, lo6, 0));
  address = address_string (qsock_tcp_server_get_server_address (server));
  g_assert_cmpstr (address, ==, "::1");
  g_free (address);

  client = connect_family (AF_INET6, qsock_tcp_server_get_server_port (server));
  TU_RUN_UNTIL (qsock_tcp_server_has_pending_connections (server), 5000);
  conn = qsock_tcp_server_next_pending_connection (server);
  address = address_string (qsock_abstract_get_peer_address (AS (conn)));
  g_assert_cmpstr (address, ==, "::1");
  g_free (address);

  g_object_unref (conn);
  close (client);
  g_object_unref (lo6);
  g_object_unref (server);
}

static void
test_address_in_use (void)
{
  QSockTcpServer *first = listening_server ();
  QSockTcpServer *second = qsock_tcp_server_new ();
  ServerRec *rec = server_rec_new (second);
  GInetAddress *lo = loopback4 ();

  g_assert_false (qsock_tcp_server_listen (second, lo, qsock_tcp_server_get_server_port (first)));
  g_assert_false (qsock_tcp_server_is_listening (second));
  g_assert_cmpint (qsock_tcp_server_get_server_error (second), ==, QSOCK_SOCKET_ERROR_ADDRESS_IN_USE);
  g_assert_cmpstr (qsock_tcp_server_get_error_string (second), ==, "The bound address is already in use");
  /* No signal for a failed listen. */
  g_assert_cmpstr (rec->log->str, ==, "");

  /* The first one is unaffected. */
  g_assert_true (qsock_tcp_server_is_listening (first));

  server_rec_free (rec);
  g_object_unref (lo);
  g_object_unref (second);
  g_object_unref (first);
}

/* ======================================================================
 * Accepting
 * ====================================================================== */

static void
test_signal_order_and_next_pending (Listening     *f,
                                    gconstpointer  data)
{
  QSockTcpServer *server = f->server;
  ServerRec *rec = f->rec;
  guint16 port = qsock_tcp_server_get_server_port (server);
  int client = tu_connect (port);
  QSockTcp *conn;
  char *address;
  char buf[2];

  TU_RUN_UNTIL (rec->n_new == 1, 5000);
  /* pendingConnectionAvailable comes from inside addPendingConnection,
   * before newConnection. */
  g_assert_cmpstr (rec->log->str, ==, "l:pending-connection-available l:new-connection");
  g_assert_cmpuint (rec->n_wrong_thread, ==, 0);
  g_assert_true (qsock_tcp_server_has_pending_connections (server));

  conn = qsock_tcp_server_next_pending_connection (server);
  g_assert_nonnull (conn);
  g_assert_true (QSOCK_IS_TCP (conn));
  g_assert_false (qsock_tcp_server_has_pending_connections (server));
  g_assert_null (qsock_tcp_server_next_pending_connection (server));

  g_assert_cmpint (qsock_abstract_get_state (AS (conn)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (conn)), ==, QSOCK_OPEN_MODE_READ_WRITE);
  address = address_string (qsock_abstract_get_peer_address (AS (conn)));
  g_assert_cmpstr (address, ==, "127.0.0.1");
  g_free (address);
  g_assert_cmpuint (qsock_abstract_get_peer_port (AS (conn)), ==, tu_local_port_of (client));
  g_assert_cmpuint (qsock_abstract_get_local_port (AS (conn)), ==, port);
  /* Accepted sockets have no peer name. */
  g_assert_true (qsock_abstract_get_peer_name (AS (conn)) == NULL ||
                 g_str_equal (qsock_abstract_get_peer_name (AS (conn)), ""));

  /* It works both ways. */
  g_assert_cmpint (qsock_iodevice_write (DEV (conn), "hi", 2), ==, 2);
  TU_RUN_UNTIL (qsock_iodevice_bytes_to_write (DEV (conn)) == 0, 5000);
  tu_read_exact (client, buf, 2, 5000);
  g_assert_cmpmem (buf, 2, "hi", 2);
  tu_write_all (client, "yo", 2);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (conn)) == 2, 5000);

  /* The caller owns it: dropping it closes the connection. */
  g_object_unref (conn);
  g_assert_true (tu_sees_eof (client, 5000));

  /* Queuing a socket by hand announces it at once, without
   * new-connection. */
  g_string_truncate (rec->log, 0);
  conn = qsock_tcp_new ();
  rec->in_call = TRUE;
  qsock_tcp_server_add_pending_connection (server, conn);
  rec->in_call = FALSE;
  g_assert_cmpstr (rec->log->str, ==, "s:pending-connection-available");
  g_assert_true (qsock_tcp_server_has_pending_connections (server));
  {
    QSockTcp *same = qsock_tcp_server_next_pending_connection (server);
    g_assert_true (same == conn);
    g_object_unref (same);
  }
  g_object_unref (conn);

  close (client);
}

/* tst_qtcpserver::maxPendingConnections */
static void
test_max_pending (void)
{
  QSockTcpServer *server = qsock_tcp_server_new ();
  ServerRec *rec = server_rec_new (server);
  GInetAddress *lo = loopback4 ();
  int clients[4];
  QSockTcp *taken[2];
  guint16 port;

  qsock_tcp_server_set_max_pending_connections (server, 2);
  g_assert_true (qsock_tcp_server_listen (server, lo, 0));
  port = qsock_tcp_server_get_server_port (server);
  for (guint i = 0; i < 4; i++)
    clients[i] = tu_connect (port);

  TU_RUN_UNTIL (rec->n_new >= 2, 5000);
  tu_spin (200);
  g_assert_cmpuint (rec->n_new, ==, 2);

  taken[0] = qsock_tcp_server_next_pending_connection (server);
  g_assert_nonnull (taken[0]);
  TU_RUN_UNTIL (rec->n_new >= 3, 5000);
  tu_spin (200);
  g_assert_cmpuint (rec->n_new, ==, 3);

  taken[1] = qsock_tcp_server_next_pending_connection (server);
  g_assert_nonnull (taken[1]);
  TU_RUN_UNTIL (rec->n_new >= 4, 5000);
  tu_spin (100);
  g_assert_cmpuint (rec->n_new, ==, 4);

  for (guint i = 0; i < 2; i++)
    g_object_unref (taken[i]);
  for (guint i = 0; i < 4; i++)
    close (clients[i]);
  server_rec_free (rec);
  g_object_unref (server);
  g_object_unref (lo);
}

/* tst_qtcpserver::pauseAccepting */
static void
test_pause_resume (Listening     *f,
                   gconstpointer  data)
{
  QSockTcpServer *server = f->server;
  ServerRec *rec = f->rec;
  guint16 port = qsock_tcp_server_get_server_port (server);
  int clients[4];

  clients[0] = tu_connect (port);
  TU_RUN_UNTIL (rec->n_new == 1, 5000);

  qsock_tcp_server_pause_accepting (server);
  for (guint i = 1; i < 4; i++)
    clients[i] = tu_connect (port);
  tu_spin (200);
  g_assert_cmpuint (rec->n_new, ==, 1);
  g_assert_true (qsock_tcp_server_is_listening (server));

  qsock_tcp_server_resume_accepting (server);
  TU_RUN_UNTIL (rec->n_new == 4, 5000);

  for (guint i = 0; i < 4; i++)
    close (clients[i]);
}

static void
test_close_drops_pending (Listening     *f,
                          gconstpointer  data)
{
  QSockTcpServer *server = f->server;
  ServerRec *rec = f->rec;
  guint16 port = qsock_tcp_server_get_server_port (server);
  int a = tu_connect (port);
  int b = tu_connect (port);
  int refused;
  struct sockaddr_in sin = { .sin_family = AF_INET };

  TU_RUN_UNTIL (rec->n_new == 2, 5000);
  qsock_tcp_server_close (server);
  g_assert_false (qsock_tcp_server_is_listening (server));
  g_assert_false (qsock_tcp_server_has_pending_connections (server));
  g_assert_null (qsock_tcp_server_next_pending_connection (server));

  /* The queued sockets are gone: their peers see the connection end. */
  g_assert_true (tu_sees_eof (a, 5000));
  g_assert_true (tu_sees_eof (b, 5000));

  /* Nobody listens any more. */
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  sin.sin_port = htons (port);
  refused = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (connect (refused, (struct sockaddr *) &sin, sizeof sin), ==, -1);
  g_assert_cmpint (errno, ==, ECONNREFUSED);

  close (refused);
  close (a);
  close (b);
}

static void
test_descriptor_adopt (void)
{
  QSockTcpServer *server = qsock_tcp_server_new ();
  ServerRec *rec = server_rec_new (server);
  guint16 port;
  int lfd = tu_listen (AF_INET, 8, &port);
  int client;

  g_assert_true (qsock_tcp_server_set_socket_descriptor (server, lfd));
  g_assert_true (qsock_tcp_server_is_listening (server));
  g_assert_cmpuint (qsock_tcp_server_get_server_port (server), ==, port);
  g_assert_cmpint (qsock_tcp_server_get_socket_descriptor (server), ==, lfd);

  client = tu_connect (port);
  TU_RUN_UNTIL (rec->n_new == 1, 5000);

  /* Already listening: a warning and FALSE. */
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*called when already listening*");
  g_assert_false (qsock_tcp_server_set_socket_descriptor (server, lfd));
  g_test_assert_expected_messages ();

  close (client);
  server_rec_free (rec);
  g_object_unref (server);
}

static void
test_descriptor_invalid (void)
{
  QSockTcpServer *server = qsock_tcp_server_new ();
  int unused = 987;

  g_assert_false (qsock_tcp_server_set_socket_descriptor (server, -5));
  g_assert_false (qsock_tcp_server_is_listening (server));
  g_assert_cmpint (qsock_tcp_server_get_server_error (server), ==,
                   QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION);
  g_assert_cmpstr (qsock_tcp_server_get_error_string (server), ==, "Invalid socket descriptor");

  /* A number that is no open descriptor (tst setSocketDescriptor; 987
   * observed with Qt). */
  while (fcntl (unused, F_GETFD) != -1)
    unused++;
  g_assert_false (qsock_tcp_server_set_socket_descriptor (server, unused));
  g_assert_false (qsock_tcp_server_is_listening (server));
  g_assert_cmpint (qsock_tcp_server_get_server_error (server), ==,
                   QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION);
  g_assert_cmpstr (qsock_tcp_server_get_error_string (server), ==, "Invalid socket descriptor");

  g_object_unref (server);
}

/* Dropping the server drops what it still queues, like close(). */
static void
test_unref_drops_pending (void)
{
  QSockTcpServer *server = listening_server ();
  ServerRec *rec = server_rec_new (server);
  guint16 port = qsock_tcp_server_get_server_port (server);
  int a = tu_connect (port);

  TU_RUN_UNTIL (rec->n_new == 1, 5000);
  server_rec_free (rec);
  g_object_unref (server);
  g_assert_true (tu_sees_eof (a, 5000));
  close (a);
}

/* Dropping the server from inside its new-connection handler is safe. */
static void
unref_server_cb (QSockTcpServer *server, gboolean *called)
{
  if (*called)
    return;
  *called = TRUE;
  g_object_unref (server);
}

static void
test_unref_in_handler (void)
{
  QSockTcpServer *server = listening_server ();
  gboolean called = FALSE;
  int a, b;

  g_signal_connect (server, "new-connection", G_CALLBACK (unref_server_cb), &called);
  /* Two at once, so the accept loop has more to do after the handler. */
  a = tu_connect (qsock_tcp_server_get_server_port (server));
  b = tu_connect (qsock_tcp_server_get_server_port (server));
  TU_RUN_UNTIL (called, 5000);
  tu_spin (100);
  close (a);
  close (b);
}

/* tst canAccessPendingConnectionsWhileNotListening: a warning, but the
 * queued socket is handed out. */
static void
test_pending_while_not_listening (void)
{
  QSockTcpServer *server = qsock_tcp_server_new ();
  QSockTcp *sock = qsock_tcp_new ();
  QSockTcp *got;

  qsock_tcp_server_add_pending_connection (server, sock);
  g_assert_true (qsock_tcp_server_has_pending_connections (server));
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*called while not listening*");
  got = qsock_tcp_server_next_pending_connection (server);
  g_test_assert_expected_messages ();
  g_assert_true (got == sock);

  g_object_unref (got);
  g_object_unref (sock);
  g_object_unref (server);
}

/* ---- wait_for_new_connection, in a thread without a loop ---------------- */

static gpointer
wait_thread (gpointer data)
{
  GMainContext *context = g_main_context_new ();
  QSockTcpServer *server;
  ServerRec *rec;
  QSockTcp *conn;
  gboolean timed_out = TRUE, ok = FALSE;
  gint64 start;
  int client;

  g_main_context_push_thread_default (context);
  server = listening_server ();
  rec = server_rec_new (server);

  client = tu_connect (qsock_tcp_server_get_server_port (server));
  rec->in_call = TRUE;
  ok = qsock_tcp_server_wait_for_new_connection (server, 5000, &timed_out);
  rec->in_call = FALSE;
  g_assert_true (ok);
  g_assert_false (timed_out);
  g_assert_cmpstr (rec->log->str, ==, "s:pending-connection-available s:new-connection");
  g_assert_cmpuint (rec->n_wrong_thread, ==, 0);
  conn = qsock_tcp_server_next_pending_connection (server);
  g_assert_nonnull (conn);
  g_assert_cmpint (qsock_abstract_get_state (AS (conn)), ==, QSOCK_SOCKET_STATE_CONNECTED);

  /* The accepted socket works without a loop too. */
  tu_write_all (client, "ping", 4);
  g_assert_true (qsock_iodevice_wait_for_ready_read (DEV (conn), 5000));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (conn)), ==, 4);

  /* Timeout. */
  start = g_get_monotonic_time ();
  ok = qsock_tcp_server_wait_for_new_connection (server, 150, &timed_out);
  g_assert_false (ok);
  g_assert_true (timed_out);
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, >=, 100);
  g_assert_cmpint (qsock_tcp_server_get_server_error (server), ==, QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT);
  g_assert_cmpstr (qsock_tcp_server_get_error_string (server), ==, "Network operation timed out");
  g_assert_true (qsock_tcp_server_is_listening (server));
  /* timed_out is optional. */
  g_assert_false (qsock_tcp_server_wait_for_new_connection (server, 10, NULL));

  g_object_unref (conn);
  close (client);
  server_rec_free (rec);
  g_object_unref (server);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_wait_for_new_connection (void)
{
  g_thread_join (g_thread_new ("test-no-loop", wait_thread, NULL));
}

/* ---- running out of descriptors ---------------------------------------- */

static void
emfile_in_subprocess (void)
{
  QSockTcpServer *server = listening_server ();
  ServerRec *rec = server_rec_new (server);
  GArray *fillers = g_array_new (FALSE, FALSE, sizeof (int));
  struct rlimit limit;
  guint errors_before;
  int client, fd;

  /* The client exists before the descriptors run out; the kernel completes
   * its handshake, so only accept() fails. */
  client = tu_connect (qsock_tcp_server_get_server_port (server));

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  limit.rlim_cur = MIN (limit.rlim_cur, 256);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  while ((fd = dup (client)) >= 0)
    g_array_append_val (fillers, fd);
  g_assert_cmpint (errno, ==, EMFILE);
  g_assert_cmpuint (fillers->len, >, 5);

  TU_RUN_UNTIL (rec->n_accept_errors > 0, 5000);
  g_assert_cmpint (rec->last_accept_error, ==, QSOCK_SOCKET_ERROR_SOCKET_RESOURCE);
  g_assert_cmpint (qsock_tcp_server_get_server_error (server), ==, QSOCK_SOCKET_ERROR_SOCKET_RESOURCE);
  g_assert_true (qsock_tcp_server_is_listening (server));
  g_assert_cmpuint (rec->n_new, ==, 0);

  /* It backs off rather than spinning. */
  errors_before = rec->n_accept_errors;
  tu_spin (300);
  g_assert_cmpuint (rec->n_accept_errors - errors_before, <, 30);

  /* With descriptors to spare it accepts again, without being told to. */
  for (guint i = 0; i < 5; i++)
    close (g_array_index (fillers, int, fillers->len - 1 - i));
  g_array_set_size (fillers, fillers->len - 5);
  TU_RUN_UNTIL (rec->n_new == 1, 5000);
  {
    QSockTcp *conn = qsock_tcp_server_next_pending_connection (server);
    g_assert_nonnull (conn);
    g_assert_cmpint (qsock_abstract_get_state (AS (conn)), ==, QSOCK_SOCKET_STATE_CONNECTED);
    g_object_unref (conn);
  }

  for (guint i = 0; i < fillers->len; i++)
    close (g_array_index (fillers, int, i));
  g_array_unref (fillers);
  close (client);
  server_rec_free (rec);
  g_object_unref (server);
}

/* Lowering RLIMIT_NOFILE is for good, so it happens in a subprocess. */
static void
test_emfile (void)
{
  if (g_test_subprocess ())
    {
      emfile_in_subprocess ();
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* ---- 200 clients at once ------------------------------------------------ */

#define N_CLIENTS 200

typedef struct
{
  guint16 port;
  gint    done;       /* atomic */
  guint   echoed;
} ManyClients;

static gpointer
many_clients_thread (gpointer data)
{
  ManyClients *mc = data;
  int fds[N_CLIENTS];

  for (guint i = 0; i < N_CLIENTS; i++)
    fds[i] = tu_connect (mc->port);
  for (guint i = 0; i < N_CLIENTS; i++)
    {
      char *msg = g_strdup_printf ("client %u says hello\n", i);
      tu_write_all (fds[i], msg, strlen (msg));
      g_free (msg);
    }
  for (guint i = 0; i < N_CLIENTS; i++)
    {
      char *msg = g_strdup_printf ("client %u says hello\n", i);
      gsize n = strlen (msg);
      char *got = g_malloc (n);

      tu_read_exact (fds[i], got, n, 20000);
      g_assert_cmpmem (got, n, msg, n);
      mc->echoed++;
      g_free (got);
      g_free (msg);
      close (fds[i]);
    }

  g_atomic_int_set (&mc->done, 1);
  return NULL;
}

static void
echo_ready_read_cb (QSockIODevice *dev, gpointer user_data)
{
  while (qsock_iodevice_can_read_line (dev))
    {
      GBytes *line = qsock_iodevice_read_line_bytes (dev, 0);
      g_assert_cmpint (qsock_iodevice_write_bytes (dev, line), ==, g_bytes_get_size (line));
      g_bytes_unref (line);
    }
}

static void
take_and_echo_cb (QSockTcpServer *server, GPtrArray *conns)
{
  QSockTcp *conn;

  while ((conn = qsock_tcp_server_next_pending_connection (server)) != NULL)
    {
      g_signal_connect (conn, "ready-read", G_CALLBACK (echo_ready_read_cb), NULL);
      g_ptr_array_add (conns, conn);
    }
}

static void
test_many_clients (void)
{
  QSockTcpServer *server = listening_server ();
  GPtrArray *conns = g_ptr_array_new_with_free_func (g_object_unref);
  ManyClients mc = { .port = qsock_tcp_server_get_server_port (server) };
  GThread *thread;

  g_signal_connect (server, "new-connection", G_CALLBACK (take_and_echo_cb), conns);
  thread = g_thread_new ("test-clients", many_clients_thread, &mc);
  TU_RUN_UNTIL (g_atomic_int_get (&mc.done), 60000);
  g_thread_join (thread);

  g_assert_cmpuint (mc.echoed, ==, N_CLIENTS);
  g_assert_cmpuint (conns->len, ==, N_CLIENTS);

  g_ptr_array_unref (conns);
  g_object_unref (server);
}

/* ---- overriding incoming_connection ------------------------------------- */

#define TEST_TYPE_SERVER (test_server_get_type ())
G_DECLARE_FINAL_TYPE (TestServer, test_server, TEST, SERVER, QSockTcpServer)

struct _TestServer
{
  QSockTcpServer parent_instance;
  ServerRec     *rec;
  gboolean       add_nothing;
  guint          n_incoming;
};

G_DEFINE_TYPE (TestServer, test_server, QSOCK_TYPE_TCP_SERVER)

static void
test_server_incoming_connection (QSockTcpServer *server, int fd)
{
  TestServer *self = (TestServer *) server;
  QSockTcp *sock;

  self->n_incoming++;
  if (self->rec != NULL)
    server_log (self->rec, "incoming-connection");

  if (self->add_nothing)
    {
      close (fd);
      return;
    }

  sock = qsock_tcp_new ();
  g_assert_true (qsock_abstract_set_socket_descriptor (AS (sock), fd,
                                                       QSOCK_SOCKET_STATE_CONNECTED,
                                                       QSOCK_OPEN_MODE_READ_WRITE));
  qsock_tcp_server_add_pending_connection (server, sock);
  g_object_unref (sock);
}

static void
test_server_class_init (TestServerClass *klass)
{
  QSOCK_TCP_SERVER_CLASS (klass)->incoming_connection = test_server_incoming_connection;
}

static void
test_server_init (TestServer *self)
{
}

static void
test_incoming_connection_override (void)
{
  TestServer *server = g_object_new (TEST_TYPE_SERVER, NULL);
  GInetAddress *lo = loopback4 ();
  QSockTcp *conn;
  guint16 port;
  int client;
  char buf[3];

  server->rec = server_rec_new (QSOCK_TCP_SERVER (server));
  g_assert_true (qsock_tcp_server_listen (QSOCK_TCP_SERVER (server), lo, 0));
  port = qsock_tcp_server_get_server_port (QSOCK_TCP_SERVER (server));

  client = tu_connect (port);
  TU_RUN_UNTIL (server->rec->n_new == 1, 5000);
  g_assert_cmpstr (server->rec->log->str, ==,
                   "l:incoming-connection l:pending-connection-available l:new-connection");
  conn = qsock_tcp_server_next_pending_connection (QSOCK_TCP_SERVER (server));
  g_assert_nonnull (conn);
  g_assert_cmpint (qsock_iodevice_write (DEV (conn), "abc", 3), ==, 3);
  TU_RUN_UNTIL (qsock_iodevice_bytes_to_write (DEV (conn)) == 0, 5000);
  tu_read_exact (client, buf, 3, 5000);
  g_assert_cmpmem (buf, 3, "abc", 3);
  g_object_unref (conn);
  close (client);

  /* newConnection follows incomingConnection even when nothing was added. */
  server->add_nothing = TRUE;
  g_string_truncate (server->rec->log, 0);
  client = tu_connect (port);
  TU_RUN_UNTIL (server->rec->n_new == 2, 5000);
  g_assert_cmpstr (server->rec->log->str, ==, "l:incoming-connection l:new-connection");
  g_assert_false (qsock_tcp_server_has_pending_connections (QSOCK_TCP_SERVER (server)));
  g_assert_null (qsock_tcp_server_next_pending_connection (QSOCK_TCP_SERVER (server)));
  g_assert_true (tu_sees_eof (client, 5000));
  close (client);

  server_rec_free (server->rec);
  g_object_unref (server);
  g_object_unref (lo);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tcp-server/defaults", test_defaults);
  g_test_add_func ("/tcp-server/listen/ipv4", test_listen_ipv4);
  g_test_add_func ("/tcp-server/listen/ipv6", test_listen_ipv6);
  g_test_add_func ("/tcp-server/listen/any-dual-stack", test_listen_any_dual_stack);
  g_test_add_func ("/tcp-server/listen/address-in-use", test_address_in_use);
  add_listening_test ("/tcp-server/accept/signal-order", test_signal_order_and_next_pending);
  g_test_add_func ("/tcp-server/accept/max-pending", test_max_pending);
  add_listening_test ("/tcp-server/accept/pause-resume", test_pause_resume);
  g_test_add_func ("/tcp-server/accept/incoming-connection-override", test_incoming_connection_override);
  add_listening_test ("/tcp-server/close-drops-pending", test_close_drops_pending);
  g_test_add_func ("/tcp-server/pending-while-not-listening", test_pending_while_not_listening);
  g_test_add_func ("/tcp-server/unref-drops-pending", test_unref_drops_pending);
  g_test_add_func ("/tcp-server/unref-in-handler", test_unref_in_handler);
  g_test_add_func ("/tcp-server/wait-for-new-connection", test_wait_for_new_connection);
  g_test_add_func ("/tcp-server/emfile", test_emfile);
  g_test_add_func ("/tcp-server/many-clients", test_many_clients);
  g_test_add_func ("/tcp-server/descriptor/adopt", test_descriptor_adopt);
  g_test_add_func ("/tcp-server/descriptor/invalid", test_descriptor_invalid);

  return g_test_run ();
}
