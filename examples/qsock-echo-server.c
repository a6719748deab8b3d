/* qsock-echo-server.c: a TCP echo server built on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   qsock-echo-server [--address ADDR] [--port PORT] [--once]
 *
 * A QSockTcpServer (QTcpServer) accepts clients; every accepted QSockTcp
 * sends back what it reads. Once it listens it prints
 * "listening on ADDR:PORT" on stdout, so a script can start it with
 * --port 0 and read the port it got. Notes about clients go to stderr.
 *
 * Flow control the Qt way: each client's read buffer is capped with
 * qsock_abstract_set_read_buffer_size(), and the server stops moving bytes
 * while too much waits in the client's write buffer, so a client that
 * sends without reading is slowed down by TCP instead of filling memory.
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <qsock-glib/qsock.h>

#define EXIT_USAGE 2

#define READ_BUFFER_SIZE (64 * 1024)
#define MAX_QUEUED (1024 * 1024)

typedef struct {
  GMainLoop      *loop;
  QSockTcpServer *server;
  GHashTable     *clients;   /* QSockTcp * → Client *, owns both */
  gboolean        once;
  int             exit_status;
} EchoServer;

typedef struct {
  EchoServer *echo;
  QSockTcp   *socket;
  char       *peer;
  guint64     echoed;
} Client;

static void
client_free (Client *client)
{
  /* Disconnect first: disposing of a connected socket aborts it. */
  g_signal_handlers_disconnect_by_data (client->socket, client);
  g_object_unref (client->socket);
  g_free (client->peer);
  g_free (client);
}

static void
print_socket_error (const char       *who,
                    QSockSocketError  code,
                    const char       *text)
{
  GEnumClass *klass = g_type_class_peek (QSOCK_TYPE_SOCKET_ERROR);
  GEnumValue *value;

  /* Referenced once, kept for the life of the process. */
  if (klass == NULL)
    klass = g_type_class_ref (QSOCK_TYPE_SOCKET_ERROR);
  value = g_enum_get_value (klass, code);

  g_printerr ("qsock-echo-server: %s: %s (QSockSocketError %s = %d)\n",
              who, text, value != NULL ? value->value_name : "?", (int) code);
}

/* "127.0.0.1:80" or "[::1]:80", as in a tcp:// URI. */
static char *
format_endpoint (GInetAddress *address,
                 guint16       port)
{
  g_autofree char *text = NULL;

  if (address == NULL)
    return g_strdup_printf ("?:%u", port);

  text = g_inet_address_to_string (address);
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", text, port);
  return g_strdup_printf ("%s:%u", text, port);
}

static void
echo_pending (Client *client)
{
  QSockIODevice *device = QSOCK_IODEVICE (client->socket);
  char buffer[16 * 1024];

  while (qsock_iodevice_bytes_to_write (device) < MAX_QUEUED)
    {
      gint64 n = qsock_iodevice_read (device, buffer, sizeof buffer);

      if (n <= 0)
        return;

      /* Fails only once the connection is gone; error-occurred says why. */
      if (qsock_iodevice_write (device, buffer, n) != n)
        return;

      client->echoed += (guint64) n;
    }
}

static void
on_ready_read (QSockIODevice *device,
               gpointer       user_data)
{
  echo_pending (user_data);
}

static void
on_bytes_written (QSockIODevice *device,
                  gint64         bytes,
                  gpointer       user_data)
{
  echo_pending (user_data);
}

static void
on_error_occurred (QSockAbstract    *socket,
                   QSockSocketError  error,
                   gpointer          user_data)
{
  Client *client = user_data;

  /* A client hanging up is the normal end, not worth a message. */
  if (error == QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED)
    return;

  print_socket_error (client->peer, error,
                      qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
}

static void
reap_client (gpointer user_data)
{
  Client *client = user_data;
  EchoServer *echo = client->echo;

  g_hash_table_remove (echo->clients, client->socket);
  if (echo->once)
    g_main_loop_quit (echo->loop);
}

static void
on_disconnected (QSockAbstract *socket,
                 gpointer       user_data)
{
  Client *client = user_data;

  g_printerr ("qsock-echo-server: %s disconnected after %" G_GUINT64_FORMAT " bytes\n",
              client->peer, client->echoed);

  /* Not freed here: we are inside the socket's own signal emission. */
  g_idle_add_once (reap_client, client);
}

static void
on_new_connection (QSockTcpServer *server,
                   gpointer        user_data)
{
  EchoServer *echo = user_data;
  QSockTcp *socket;

  while ((socket = qsock_tcp_server_next_pending_connection (server)) != NULL)
    {
      QSockAbstract *abstract = QSOCK_ABSTRACT (socket);
      g_autoptr(GInetAddress) address = qsock_abstract_get_peer_address (abstract);
      Client *client = g_new0 (Client, 1);

      client->echo = echo;
      client->socket = socket;
      client->peer = format_endpoint (address, qsock_abstract_get_peer_port (abstract));
      g_hash_table_insert (echo->clients, socket, client);
      g_printerr ("qsock-echo-server: connection from %s\n", client->peer);

      qsock_abstract_set_read_buffer_size (abstract, READ_BUFFER_SIZE);
      g_signal_connect (socket, "ready-read", G_CALLBACK (on_ready_read), client);
      g_signal_connect (socket, "bytes-written", G_CALLBACK (on_bytes_written), client);
      g_signal_connect (socket, "error-occurred", G_CALLBACK (on_error_occurred), client);
      g_signal_connect (socket, "disconnected", G_CALLBACK (on_disconnected), client);

      /* Bytes may have arrived before the handlers were there. */
      echo_pending (client);
    }
}

static void
on_accept_error (QSockTcpServer   *server,
                 QSockSocketError  error,
                 gpointer          user_data)
{
  EchoServer *echo = user_data;

  /* Qt pauses accepting on such an error; carry on once reported. */
  print_socket_error ("accept", error, qsock_tcp_server_get_error_string (server));
  if (qsock_tcp_server_is_listening (server))
    qsock_tcp_server_resume_accepting (echo->server);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  EchoServer *echo = user_data;

  g_main_loop_quit (echo->loop);
  return G_SOURCE_CONTINUE;
}

static GInetAddress *
parse_address (const char  *text,
               GError     **error)
{
  GInetAddress *address;
  g_autofree char *bare = NULL;
  gsize len = strlen (text);

  /* Accept "[::1]" as well as "::1", as in a URI. */
  if (len >= 2 && text[0] == '[' && text[len - 1] == ']')
    text = bare = g_strndup (text + 1, len - 2);

  if (g_ascii_strcasecmp (text, "localhost") == 0)
    return qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
  if (g_ascii_strcasecmp (text, "any") == 0)
    return qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_ANY);

  address = g_inet_address_new_from_string (text);
  if (address == NULL)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "“%s” is not an IP address (nor “localhost” or “any”)", text);
  return address;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *address_text = NULL;
  int port = 0;
  gboolean once = FALSE;
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address_text,
      "Listen on ADDR: an IP address, “localhost” or “any” (default 127.0.0.1)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "Listen on PORT (default 0: any free port, printed on stdout)", "PORT" },
    { "once", '1', 0, G_OPTION_ARG_NONE, &once,
      "Exit after the first client disconnects", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GInetAddress) bound = NULL;
  g_autofree char *endpoint = NULL;
  EchoServer echo = { .exit_status = EXIT_SUCCESS };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "A TCP echo server on qsock-glib: every client gets back what it sends.\n"
    "Prints “listening on ADDR:PORT” on stdout once it listens.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("qsock-echo-server: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("qsock-echo-server: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (port < 0 || port > G_MAXUINT16)
    {
      g_printerr ("qsock-echo-server: port %d is not between 0 and 65535\n", port);
      return EXIT_USAGE;
    }

  address = parse_address (address_text != NULL ? address_text : "127.0.0.1", &error);
  if (address == NULL)
    {
      g_printerr ("qsock-echo-server: %s\n", error->message);
      return EXIT_USAGE;
    }

  /* A client that vanishes must show up as a socket error, not kill us. */
  signal (SIGPIPE, SIG_IGN);

  echo.loop = g_main_loop_new (NULL, FALSE);
  echo.once = once;
  echo.clients = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) client_free);
  echo.server = qsock_tcp_server_new ();
  g_signal_connect (echo.server, "new-connection", G_CALLBACK (on_new_connection), &echo);
  g_signal_connect (echo.server, "accept-error", G_CALLBACK (on_accept_error), &echo);

  if (qsock_tcp_server_listen (echo.server, address, (guint16) port))
    {
      bound = qsock_tcp_server_get_server_address (echo.server);
      endpoint = format_endpoint (bound, qsock_tcp_server_get_server_port (echo.server));
      g_print ("listening on %s\n", endpoint);
      fflush (stdout);

      g_unix_signal_add (SIGINT, on_quit_signal, &echo);
      g_unix_signal_add (SIGTERM, on_quit_signal, &echo);
      g_main_loop_run (echo.loop);
    }
  else
    {
      print_socket_error ("listen", qsock_tcp_server_get_server_error (echo.server),
                          qsock_tcp_server_get_error_string (echo.server));
      echo.exit_status = EXIT_FAILURE;
    }

  g_hash_table_destroy (echo.clients);
  g_signal_handlers_disconnect_by_data (echo.server, &echo);
  g_object_unref (echo.server);
  g_main_loop_unref (echo.loop);
  return echo.exit_status;
}
