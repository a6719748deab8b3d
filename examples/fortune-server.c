/* fortune-server.c: Qt's Fortune Server example on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   fortune-server [--address ADDR] [--port PORT] [--fortune TEXT]... [--count N]
 *
 * Every client that connects gets one fortune, serialised as Qt 6's
 * QDataStream serialises a QString (a big-endian 32-bit byte count, then
 * UTF-16BE), and is then disconnected. Qt's fortune client and blocking
 * fortune client, and ours, read it. Once listening it prints
 * "listening on ADDR:PORT" on stdout, so a script can start it with
 * --port 0 and read the port it got.
 *
 * The Qt original, for comparison:
 *
 *   QByteArray block;
 *   QDataStream out(&block, QIODevice::WriteOnly);
 *   out.setVersion(QDataStream::Qt_6_5);
 *   out << fortunes[QRandomGenerator::global()->bounded(fortunes.size())];
 *
 *   QTcpSocket *clientConnection = tcpServer->nextPendingConnection();
 *   connect(clientConnection, &QAbstractSocket::disconnected,
 *           clientConnection, &QObject::deleteLater);
 *   clientConnection->write(block);
 *   clientConnection->disconnectFromHost();
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <qsock-glib/qsock.h>

#include "fortune-datastream.h"

#define EXIT_USAGE 2

/* Qt's seven. */
static const char * const default_fortunes[] = {
  "You've been leading a dog's life. Stay off the furniture.",
  "You've got to think about tomorrow.",
  "You will be surprised by a loud noise.",
  "You will feel hungry again in another hour.",
  "You might have mail.",
  "You cannot kill time without injuring eternity.",
  "Computers are not intelligent. They only think they are.",
  NULL
};

typedef struct {
  GMainLoop           *loop;
  QSockTcpServer      *server;
  GHashTable          *clients;     /* the QSockTcp sockets still open; owns them */
  const char * const  *fortunes;
  guint                n_fortunes;
  int                  count;       /* clients to serve before exiting; 0: no limit */
  int                  served;
} FortuneServer;

typedef struct {
  FortuneServer *fortune;
  QSockTcp      *socket;
} Reap;

/* Qt's deleteLater(): the socket is not freed inside its own signal. */
static gboolean
reap_client (gpointer data)
{
  Reap *reap = data;
  FortuneServer *fortune = reap->fortune;

  g_hash_table_remove (fortune->clients, reap->socket);
  fortune->served++;
  if (fortune->count > 0 && fortune->served >= fortune->count)
    g_main_loop_quit (fortune->loop);
  return G_SOURCE_REMOVE;
}

static void
on_disconnected (QSockAbstract *socket,
                 gpointer       user_data)
{
  Reap *reap = g_new (Reap, 1);
  g_autoptr(GSource) source = g_idle_source_new ();

  reap->fortune = user_data;
  reap->socket = QSOCK_TCP (socket);
  g_source_set_callback (source, reap_client, reap, g_free);
  g_source_set_static_name (source, "[fortune-server] reap client");
  g_source_attach (source, g_main_context_get_thread_default ());
}

static void
on_error_occurred (QSockAbstract    *socket,
                   QSockSocketError  error,
                   gpointer          user_data)
{
  /* A client that hangs up first changes nothing: it is closed anyway. */
  if (error == QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED)
    return;

  g_printerr ("fortune-server: client: %s\n",
              qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
}

static void
client_free (gpointer data)
{
  QSockTcp *socket = data;

  /* Disconnect first: disposing of a connected socket aborts it. */
  g_signal_handlers_disconnect_matched (socket, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, on_disconnected, NULL);
  g_signal_handlers_disconnect_matched (socket, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, on_error_occurred, NULL);
  g_object_unref (socket);
}

static void
send_fortune (FortuneServer *fortune,
              QSockTcp      *socket)
{
  const char *text = fortune->fortunes[g_random_int_range (0, (gint32) fortune->n_fortunes)];
  g_autoptr(GBytes) block = fortune_datastream_write_string (text);

  g_hash_table_add (fortune->clients, socket);
  g_signal_connect (socket, "disconnected", G_CALLBACK (on_disconnected), fortune);
  g_signal_connect (socket, "error-occurred", G_CALLBACK (on_error_occurred), fortune);

  qsock_iodevice_write_bytes (QSOCK_IODEVICE (socket), block);
  /* Closes once the block is written, then emits disconnected. */
  qsock_abstract_disconnect_from_host (QSOCK_ABSTRACT (socket));
}

static void
on_new_connection (QSockTcpServer *server,
                   gpointer        user_data)
{
  QSockTcp *socket;

  while ((socket = qsock_tcp_server_next_pending_connection (server)) != NULL)
    send_fortune (user_data, socket);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  FortuneServer *fortune = user_data;

  g_main_loop_quit (fortune->loop);
  return G_SOURCE_CONTINUE;
}

static GInetAddress *
parse_address (const char  *text,
               GError     **error)
{
  GInetAddress *address;

  if (g_ascii_strcasecmp (text, "any") == 0)
    return qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_ANY);
  if (g_ascii_strcasecmp (text, "localhost") == 0)
    return qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);

  address = g_inet_address_new_from_string (text);
  if (address == NULL)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "“%s” is not an IP address (nor “localhost” or “any”)", text);
  return address;
}

static char *
format_endpoint (GInetAddress *address,
                 guint16       port)
{
  g_autofree char *text = g_inet_address_to_string (address);

  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", text, port);
  return g_strdup_printf ("%s:%u", text, port);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *address_text = NULL;
  g_auto(GStrv) fortunes = NULL;
  int port = 0;
  int count = 0;
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address_text,
      "Listen on ADDR: an IP address, “localhost” or “any” (the default, as Qt's)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "Listen on PORT (default 0: any free port, printed on stdout)", "PORT" },
    { "fortune", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &fortunes,
      "Hand out TEXT (repeat for more; default: Qt's seven fortunes)", "TEXT" },
    { "count", 'c', 0, G_OPTION_ARG_INT, &count,
      "Exit after serving N clients (default 0: serve until interrupted)", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GInetAddress) bound = NULL;
  g_autofree char *endpoint = NULL;
  FortuneServer fortune = { 0 };
  int exit_status = EXIT_SUCCESS;

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Qt's Fortune Server on qsock-glib: each client gets one fortune as a\n"
    "QDataStream QString, then the server disconnects it.\n"
    "Prints “listening on ADDR:PORT” on stdout once it listens.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("fortune-server: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("fortune-server: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (port < 0 || port > G_MAXUINT16)
    {
      g_printerr ("fortune-server: port %d is not between 0 and 65535\n", port);
      return EXIT_USAGE;
    }
  if (count < 0)
    {
      g_printerr ("fortune-server: --count must not be negative\n");
      return EXIT_USAGE;
    }
  for (guint i = 0; fortunes != NULL && fortunes[i] != NULL; i++)
    if (!g_utf8_validate (fortunes[i], -1, NULL))
      {
        g_printerr ("fortune-server: fortune %u is not valid UTF-8\n", i + 1);
        return EXIT_USAGE;
      }

  address = parse_address (address_text != NULL ? address_text : "any", &error);
  if (address == NULL)
    {
      g_printerr ("fortune-server: %s\n", error->message);
      return EXIT_USAGE;
    }

  /* A client that vanishes must show up as a socket error, not kill us. */
  signal (SIGPIPE, SIG_IGN);

  fortune.fortunes = fortunes != NULL ? (const char * const *) fortunes : default_fortunes;
  fortune.n_fortunes = g_strv_length ((char **) fortune.fortunes);
  fortune.count = count;
  fortune.loop = g_main_loop_new (NULL, FALSE);
  fortune.clients = g_hash_table_new_full (NULL, NULL, client_free, NULL);
  fortune.server = qsock_tcp_server_new ();
  g_signal_connect (fortune.server, "new-connection", G_CALLBACK (on_new_connection), &fortune);

  if (qsock_tcp_server_listen (fortune.server, address, (guint16) port))
    {
      bound = qsock_tcp_server_get_server_address (fortune.server);
      endpoint = format_endpoint (bound, qsock_tcp_server_get_server_port (fortune.server));
      g_print ("listening on %s\n", endpoint);
      fflush (stdout);

      g_unix_signal_add (SIGINT, on_quit_signal, &fortune);
      g_unix_signal_add (SIGTERM, on_quit_signal, &fortune);
      g_main_loop_run (fortune.loop);
    }
  else
    {
      g_printerr ("fortune-server: Unable to start the server: %s.\n",
                  qsock_tcp_server_get_error_string (fortune.server));
      exit_status = EXIT_FAILURE;
    }

  g_hash_table_destroy (fortune.clients);
  g_signal_handlers_disconnect_by_data (fortune.server, &fortune);
  g_object_unref (fortune.server);
  g_main_loop_unref (fortune.loop);
  return exit_status;
}
