/* local-fortune-server.c: Qt's Local Fortune Server example on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   local-fortune-server [--name NAME] [--fortune TEXT]... [--count N]
 *
 * A QSockLocalServer (QLocalServer) listens on a Unix socket; every client
 * gets one fortune and is disconnected. The wire format is Qt 6's local
 * fortune example's: a big-endian quint32 holding the fortune's length in
 * UTF-16 code units, then the fortune as one QDataStream QString (a
 * big-endian quint32 byte count, then UTF-16BE). Qt's local fortune client
 * and ours read it. Once listening it prints "listening on PATH" on stdout.
 *
 * The Qt original, for comparison:
 *
 *   QByteArray block;
 *   QDataStream out(&block, QIODevice::WriteOnly);
 *   out.setVersion(QDataStream::Qt_6_0);
 *   const QString &message = fortunes.at(fortuneIndex);
 *   out << quint32(message.size());
 *   out << message;
 *
 *   QLocalSocket *clientConnection = server->nextPendingConnection();
 *   connect(clientConnection, &QLocalSocket::disconnected,
 *           clientConnection, &QLocalSocket::deleteLater);
 *   clientConnection->write(block);
 *   clientConnection->flush();
 *   clientConnection->disconnectFromServer();
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

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
  QSockLocalServer    *server;
  GHashTable          *clients;     /* the QSockLocal sockets still open; owns them */
  const char * const  *fortunes;
  guint                n_fortunes;
  int                  count;       /* clients to serve before exiting; 0: no limit */
  int                  served;
} LocalFortuneServer;

typedef struct {
  LocalFortuneServer *fortune;
  QSockLocal         *socket;
} Reap;

/* Qt's deleteLater(): the socket is not freed inside its own signal. */
static gboolean
reap_client (gpointer data)
{
  Reap *reap = data;
  LocalFortuneServer *fortune = reap->fortune;

  g_hash_table_remove (fortune->clients, reap->socket);
  fortune->served++;
  if (fortune->count > 0 && fortune->served >= fortune->count)
    g_main_loop_quit (fortune->loop);
  return G_SOURCE_REMOVE;
}

static void
on_disconnected (QSockLocal *socket,
                 gpointer    user_data)
{
  Reap *reap = g_new (Reap, 1);
  g_autoptr(GSource) source = g_idle_source_new ();

  reap->fortune = user_data;
  reap->socket = socket;
  g_source_set_callback (source, reap_client, reap, g_free);
  g_source_set_static_name (source, "[local-fortune-server] reap client");
  g_source_attach (source, g_main_context_get_thread_default ());
}

static void
on_error_occurred (QSockLocal            *socket,
                   QSockLocalSocketError  error,
                   gpointer               user_data)
{
  /* A client that hangs up first changes nothing: it is closed anyway. */
  if (error == QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED)
    return;

  g_printerr ("local-fortune-server: client: %s\n",
              qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
}

static void
client_free (gpointer data)
{
  QSockLocal *socket = data;

  /* Disconnect first: disposing of a connected socket aborts it. */
  g_signal_handlers_disconnect_matched (socket, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, on_disconnected, NULL);
  g_signal_handlers_disconnect_matched (socket, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, on_error_occurred, NULL);
  g_object_unref (socket);
}

/* `out << quint32(message.size()); out << message;` */
static GBytes *
local_fortune_block (const char *text)
{
  g_autoptr(GBytes) qstring = fortune_datastream_write_string (text);
  /* QString::size(): UTF-16 code units, after the QString's own count. */
  guint32 units_be = GUINT32_TO_BE ((guint32) ((g_bytes_get_size (qstring) - sizeof (guint32)) / 2));
  GByteArray *block = g_byte_array_sized_new (sizeof units_be + g_bytes_get_size (qstring));

  g_byte_array_append (block, (const guint8 *) &units_be, sizeof units_be);
  g_byte_array_append (block, g_bytes_get_data (qstring, NULL), g_bytes_get_size (qstring));
  return g_byte_array_free_to_bytes (block);
}

static void
send_fortune (LocalFortuneServer *fortune,
              QSockLocal         *socket)
{
  const char *text = fortune->fortunes[g_random_int_range (0, (gint32) fortune->n_fortunes)];
  g_autoptr(GBytes) block = local_fortune_block (text);

  g_hash_table_add (fortune->clients, socket);
  g_signal_connect (socket, "disconnected", G_CALLBACK (on_disconnected), fortune);
  g_signal_connect (socket, "error-occurred", G_CALLBACK (on_error_occurred), fortune);

  qsock_iodevice_write_bytes (QSOCK_IODEVICE (socket), block);
  qsock_local_flush (socket);
  /* Closes once the block is written, then emits disconnected. */
  qsock_local_disconnect_from_server (socket);
}

static void
on_new_connection (QSockLocalServer *server,
                   gpointer          user_data)
{
  QSockLocal *socket;

  while ((socket = qsock_local_server_next_pending_connection (server)) != NULL)
    send_fortune (user_data, socket);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  LocalFortuneServer *fortune = user_data;

  g_main_loop_quit (fortune->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *name = NULL;
  g_auto(GStrv) fortunes = NULL;
  int count = 0;
  const GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_FILENAME, &name,
      "Listen on NAME: a path, or a name in the runtime directory as Qt resolves it "
      "(default “fortune”, as Qt's)", "NAME" },
    { "fortune", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &fortunes,
      "Hand out TEXT (repeat for more; default: Qt's seven fortunes)", "TEXT" },
    { "count", 'c', 0, G_OPTION_ARG_INT, &count,
      "Exit after serving N clients (default 0: serve until interrupted)", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  LocalFortuneServer fortune = { 0 };
  int exit_status = EXIT_SUCCESS;

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Qt's Local Fortune Server on qsock-glib: each client of the Unix socket\n"
    "gets one fortune in Qt's local fortune wire format, then is disconnected.\n"
    "Prints “listening on PATH” on stdout once it listens.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("local-fortune-server: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("local-fortune-server: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (count < 0)
    {
      g_printerr ("local-fortune-server: --count must not be negative\n");
      return EXIT_USAGE;
    }
  for (guint i = 0; fortunes != NULL && fortunes[i] != NULL; i++)
    if (!g_utf8_validate (fortunes[i], -1, NULL))
      {
        g_printerr ("local-fortune-server: fortune %u is not valid UTF-8\n", i + 1);
        return EXIT_USAGE;
      }

  /* A client that vanishes must show up as a socket error, not kill us. */
  signal (SIGPIPE, SIG_IGN);

  fortune.fortunes = fortunes != NULL ? (const char * const *) fortunes : default_fortunes;
  fortune.n_fortunes = g_strv_length ((char **) fortune.fortunes);
  fortune.count = count;
  fortune.loop = g_main_loop_new (NULL, FALSE);
  fortune.clients = g_hash_table_new_full (NULL, NULL, client_free, NULL);
  fortune.server = qsock_local_server_new ();
  g_signal_connect (fortune.server, "new-connection", G_CALLBACK (on_new_connection), &fortune);

  if (qsock_local_server_listen (fortune.server, name != NULL ? name : "fortune"))
    {
      g_print ("listening on %s\n", qsock_local_server_get_full_server_name (fortune.server));
      fflush (stdout);

      g_unix_signal_add (SIGINT, on_quit_signal, &fortune);
      g_unix_signal_add (SIGTERM, on_quit_signal, &fortune);
      g_main_loop_run (fortune.loop);
    }
  else
    {
      g_printerr ("local-fortune-server: Unable to start the server: %s.\n",
                  qsock_local_server_get_error_string (fortune.server));
      exit_status = EXIT_FAILURE;
    }

  g_hash_table_destroy (fortune.clients);
  g_signal_handlers_disconnect_by_data (fortune.server, &fortune);
  /* close() removes the socket file, as QLocalServer::close() does. */
  qsock_local_server_close (fortune.server);
  g_object_unref (fortune.server);
  g_main_loop_unref (fortune.loop);
  return exit_status;
}
