/* test-half-close.c: the half-close property and shutdown_write (not in Qt)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * socat, ncat and shell pipelines shut down their sending side at the end
 * of their input and wait for the reply. With half-close on, that end of
 * input only ends reading; qsock_abstract_shutdown_write() is the other
 * direction. Peers: plain POSIX sockets, socat, a Unix socketpair.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "test-util.h"

#define AS(s)  QSOCK_ABSTRACT (s)
#define DEV(s) QSOCK_IODEVICE (s)

typedef struct
{
  GByteArray *got;
  guint       n_read_channel_finished;
  guint       n_disconnected;
  guint       n_errors;
} Sink;

static void
on_sink_ready_read (QSockIODevice *sock, gpointer data)
{
  Sink *s = data;
  g_autoptr(GBytes) bytes = qsock_iodevice_read_all (sock);

  g_byte_array_append (s->got, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
on_sink_rcf (QSockIODevice *sock, gpointer data)
{
  ((Sink *) data)->n_read_channel_finished++;
}

static void
on_sink_disconnected (gpointer sock, gpointer data)
{
  ((Sink *) data)->n_disconnected++;
}

static void
on_sink_error (gpointer sock, guint code, gpointer data)
{
  ((Sink *) data)->n_errors++;
}

static void
sink_attach (Sink *s, gpointer sock)
{
  s->got = g_byte_array_new ();
  g_signal_connect (sock, "ready-read", G_CALLBACK (on_sink_ready_read), s);
  g_signal_connect (sock, "read-channel-finished", G_CALLBACK (on_sink_rcf), s);
  g_signal_connect (sock, "disconnected", G_CALLBACK (on_sink_disconnected), s);
  g_signal_connect (sock, "error-occurred", G_CALLBACK (on_sink_error), s);
}

/* Runs the loop while a thread reads @fd to its end: the bytes the socket
 * queued leave from the loop. Takes @expected (SHA-1). */
static void
assert_peer_gets (int fd, char *expected, gsize n)
{
  TuPeerJob job = { .fd = fd };
  GThread *reader = tu_sink_start (&job);

  TU_RUN_UNTIL (g_atomic_int_get (&job.done), 20000);
  g_thread_join (reader);
  g_assert_cmpint (job.error, ==, 0);
  g_assert_cmpuint (job.transferred, ==, n);
  g_assert_cmpstr (job.checksum, ==, expected);
  g_free (job.checksum);
  g_free (expected);
}

/* The peer sends a request and shuts down its writing; the reply still
 * goes back, then our disconnect closes. */
static void
test_peer_shutdown_reply_goes_back (void)
{
  int peer;
  g_autoptr(QSockTcp) sock = tu_connected_pair (&peer);
  g_autofree char *reply = g_malloc (1024 * 1024);
  Sink s = { 0 };

  g_assert_false (qsock_abstract_get_half_close (AS (sock)));
  qsock_abstract_set_half_close (AS (sock), TRUE);
  g_assert_true (qsock_abstract_get_half_close (AS (sock)));
  sink_attach (&s, sock);

  tu_write_all (peer, "request", 7);
  g_assert_cmpint (shutdown (peer, SHUT_WR), ==, 0);
  TU_RUN_UNTIL (s.n_read_channel_finished == 1, 5000);
  g_assert_cmpmem (s.got->data, s.got->len, "request", 7);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTED);
  g_assert_cmpuint (s.n_errors, ==, 0);
  g_assert_cmpuint (s.n_disconnected, ==, 0);

  /* A megabyte, written after the peer's FIN, all arrives. */
  memcpy (reply, tu_pattern (), 1024 * 1024);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), reply, 1024 * 1024), ==, 1024 * 1024);
  qsock_abstract_disconnect_from_host (AS (sock));
  assert_peer_gets (peer, tu_pattern_checksum (1024 * 1024), 1024 * 1024);
  TU_RUN_UNTIL (s.n_disconnected == 1, 5000);
  g_assert_cmpuint (s.n_read_channel_finished, ==, 1);
  g_assert_cmpuint (s.n_errors, ==, 0);
  g_byte_array_unref (s.got);
  close (peer);
}

/* Off (Qt's behaviour): the same FIN is the remote host closing. */
static void
test_default_is_remote_close (void)
{
  int peer;
  g_autoptr(QSockTcp) sock = tu_connected_pair (&peer);
  Sink s = { 0 };

  sink_attach (&s, sock);
  tu_write_all (peer, "request", 7);
  g_assert_cmpint (shutdown (peer, SHUT_WR), ==, 0);
  TU_RUN_UNTIL (s.n_disconnected == 1, 5000);
  g_assert_cmpuint (s.n_errors, ==, 1);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED);
  g_assert_cmpmem (s.got->data, s.got->len, "request", 7);
  g_byte_array_unref (s.got);
  close (peer);
}

/* shutdown_write: the FIN follows the queued bytes; reading goes on; once
 * both directions have ended the socket closes by itself. */
static void
test_shutdown_write (void)
{
  int peer;
  g_autoptr(QSockTcp) sock = tu_connected_pair (&peer);
  g_autoptr(GBytes) got = NULL;
  const gsize n = 1024 * 1024;   /* within TU_PATTERN_SIZE */
  Sink s = { 0 };

  qsock_abstract_set_half_close (AS (sock), TRUE);
  sink_attach (&s, sock);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), (const char *) tu_pattern (), n), ==, (gint64) n);
  qsock_abstract_shutdown_write (AS (sock));
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_CONNECTED);

  /* Writing after it fails, with Qt's OperationError. */
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "late", 4), ==, -1);
  g_assert_cmpint (qsock_abstract_get_error (AS (sock)), ==, QSOCK_SOCKET_ERROR_OPERATION);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "The socket's sending side is shut down");

  /* The peer reads everything, then the end. */
  assert_peer_gets (peer, tu_pattern_checksum (n), n);

  /* Still reading. */
  tu_write_all (peer, "after", 5);
  TU_RUN_UNTIL (s.got->len == 5, 5000);
  g_assert_cmpmem (s.got->data, s.got->len, "after", 5);
  g_assert_cmpuint (s.n_disconnected, ==, 0);

  /* The peer's end closes the connection: both sides are done. */
  close (peer);
  TU_RUN_UNTIL (s.n_disconnected == 1, 5000);
  g_assert_cmpuint (s.n_read_channel_finished, ==, 1);
  g_assert_cmpuint (s.n_errors, ==, 0);
  g_assert_cmpint (qsock_abstract_get_state (AS (sock)), ==, QSOCK_SOCKET_STATE_UNCONNECTED);
  g_byte_array_unref (s.got);
}

/* A server whose accepted sockets half-close echoes all of socat's input,
 * as netcat would: `socat - TCP:…` sends, shuts down, waits for the rest. */
typedef struct
{
  QSockTcpServer *server;
  GPtrArray      *clients;
} Echo;

static void
on_echo_ready_read (QSockIODevice *sock, gpointer data)
{
  g_autoptr(GBytes) bytes = qsock_iodevice_read_all (sock);

  qsock_iodevice_write_bytes (sock, bytes);
}

static void
on_echo_rcf (QSockIODevice *sock, gpointer data)
{
  qsock_abstract_disconnect_from_host (QSOCK_ABSTRACT (sock));
}

static void
on_echo_new_connection (QSockTcpServer *server, gpointer data)
{
  Echo *e = data;
  QSockTcp *sock;

  while ((sock = qsock_tcp_server_next_pending_connection (server)) != NULL)
    {
      qsock_abstract_set_half_close (AS (sock), TRUE);
      g_signal_connect (sock, "ready-read", G_CALLBACK (on_echo_ready_read), NULL);
      g_signal_connect (sock, "read-channel-finished", G_CALLBACK (on_echo_rcf), NULL);
      g_ptr_array_add (e->clients, sock);
    }
}

static void
on_child_exit (GPid pid, int status, gpointer data)
{
  *(int *) data = status;
  g_spawn_close_pid (pid);
}

static void
test_socat_pipeline (void)
{
  g_autofree char *dir = g_dir_make_tmp ("qsock-half-XXXXXX", NULL);
  g_autofree char *in = g_build_filename (dir, "in", NULL);
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autoptr(GString) lines = g_string_new (NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autofree char *cmd = NULL;
  g_autofree char *echoed = NULL;
  gsize echoed_len = 0;
  Echo e = { qsock_tcp_server_new (), g_ptr_array_new_with_free_func (g_object_unref) };
  char *argv[] = { "/bin/sh", "-c", NULL, NULL };
  int status = -1;
  GPid pid;

  if (!g_file_test ("/usr/bin/socat", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("socat is not installed (.ci/install-deps installs it)");
      return;
    }

  /* 4 MB of lines: through ncat, without half-close, 1.2–1.5 MB came back. */
  for (guint i = 0; lines->len < 4 * 1000 * 1000; i++)
    g_string_append_printf (lines, "line %u of the pipeline test\n", i);
  g_assert_true (g_file_set_contents (in, lines->str, lines->len, NULL));

  g_signal_connect (e.server, "new-connection", G_CALLBACK (on_echo_new_connection), &e);
  g_assert_true (qsock_tcp_server_listen (e.server, lo, 0));
  cmd = g_strdup_printf ("exec socat -t 30 - TCP:127.0.0.1:%u < '%s' > '%s'",
                         qsock_tcp_server_get_server_port (e.server), in, out);
  argv[2] = cmd;
  g_assert_true (g_spawn_async (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL));
  g_child_watch_add (pid, on_child_exit, &status);
  TU_RUN_UNTIL (status != -1, 60000);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  g_assert_true (g_file_get_contents (out, &echoed, &echoed_len, NULL));
  g_assert_cmpuint (echoed_len, ==, lines->len);
  g_assert_true (memcmp (echoed, lines->str, lines->len) == 0);

  /* Each echoing socket closed after its reply. */
  g_assert_cmpuint (e.clients->len, ==, 1);
  TU_RUN_UNTIL (qsock_abstract_get_state (AS (g_ptr_array_index (e.clients, 0))) ==
                QSOCK_SOCKET_STATE_UNCONNECTED, 5000);
  g_ptr_array_unref (e.clients);
  g_object_unref (e.server);
  g_unlink (in);
  g_unlink (out);
  g_rmdir (dir);
}

/* The same through a local socket. */
static void
test_local_half_close (void)
{
  g_autoptr(QSockLocal) sock = qsock_local_new ();
  int sv[2];
  Sink s = { 0 };

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  g_assert_true (qsock_local_set_socket_descriptor (sock, sv[0], QSOCK_LOCAL_SOCKET_STATE_CONNECTED,
                                                    QSOCK_OPEN_MODE_READ_WRITE));
  qsock_local_set_half_close (sock, TRUE);
  g_assert_true (qsock_local_get_half_close (sock));
  sink_attach (&s, sock);

  tu_write_all (sv[1], "question", 8);
  g_assert_cmpint (shutdown (sv[1], SHUT_WR), ==, 0);
  TU_RUN_UNTIL (s.n_read_channel_finished == 1, 5000);
  g_assert_cmpint (qsock_local_get_state (sock), ==, QSOCK_LOCAL_SOCKET_STATE_CONNECTED);
  g_assert_cmpmem (s.got->data, s.got->len, "question", 8);

  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "answer", 6), ==, 6);
  qsock_local_shutdown_write (sock);
  assert_peer_gets (sv[1], g_compute_checksum_for_data (G_CHECKSUM_SHA1, (const guchar *) "answer", 6), 6);
  TU_RUN_UNTIL (s.n_disconnected == 1, 5000);
  g_assert_cmpuint (s.n_errors, ==, 0);
  g_byte_array_unref (s.got);
  close (sv[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/half-close/peer-shutdown-reply-goes-back", test_peer_shutdown_reply_goes_back);
  g_test_add_func ("/half-close/default-is-remote-close", test_default_is_remote_close);
  g_test_add_func ("/half-close/shutdown-write", test_shutdown_write);
  g_test_add_func ("/half-close/socat-pipeline", test_socat_pipeline);
  g_test_add_func ("/half-close/local", test_local_half_close);

  return g_test_run ();
}
