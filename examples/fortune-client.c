/* fortune-client.c: Qt's Fortune Client example on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   fortune-client [--host HOST] --port PORT [--count N] [--timeout MS]
 *
 * Connects to a fortune server (ours or Qt's), reads the one QDataStream
 * QString it sends and prints it on stdout; with --count, fetches N
 * fortunes, one connection each, reusing the socket as Qt's client does
 * (abort(), then connect_to_host() again).
 *
 * The fortune may arrive in pieces, so each ready-read reads inside a
 * transaction, as Qt's client does with QDataStream:
 *
 *   in.startTransaction();
 *   QString nextFortune;
 *   in >> nextFortune;
 *   if (!in.commitTransaction())
 *       return;     // not all there yet: rolled back, wait for more
 *
 * QDataStream::commitTransaction() rolls the device back when the read ran
 * past the end; here the same steps are spelled out on the socket.
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <qsock-glib/qsock.h>

#include "fortune-datastream.h"

#define EXIT_USAGE 2

typedef struct {
  GMainLoop *loop;
  QSockTcp  *socket;
  char      *host;
  guint16    port;
  int        wanted;        /* fortunes to fetch */
  int        fetched;
  gboolean   waiting;       /* a fortune is on its way on this connection */
  guint      timeout_id;
  int        exit_status;
} FortuneClient;

static void
finish (FortuneClient *client,
        int            exit_status)
{
  client->waiting = FALSE;
  client->exit_status = exit_status;
  g_main_loop_quit (client->loop);
}

/* Qt's requestNewFortune(). */
static void
request_new_fortune (FortuneClient *client)
{
  qsock_abstract_abort (QSOCK_ABSTRACT (client->socket));
  client->waiting = TRUE;
  qsock_abstract_connect_to_host (QSOCK_ABSTRACT (client->socket), client->host, client->port,
                                  QSOCK_OPEN_MODE_READ_WRITE,
                                  QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP);
}

static gboolean
request_next (gpointer user_data)
{
  request_new_fortune (user_data);
  return G_SOURCE_REMOVE;
}

/* Qt's readFortune(), on every ready-read. */
static void
on_ready_read (QSockIODevice *device,
               gpointer       user_data)
{
  FortuneClient *client = user_data;
  g_autofree char *fortune = NULL;
  FortuneReadStatus status;

  if (!client->waiting)
    return;

  qsock_iodevice_start_transaction (device);
  status = fortune_datastream_read_string (device, &fortune);
  if (status == FORTUNE_READ_SHORT)
    {
      qsock_iodevice_rollback_transaction (device);
      return;
    }
  qsock_iodevice_commit_transaction (device);

  if (status == FORTUNE_READ_CORRUPT)
    {
      g_printerr ("fortune-client: the server sent something that is not a QString\n");
      finish (client, EXIT_FAILURE);
      return;
    }

  g_print ("%s\n", fortune);
  fflush (stdout);
  client->waiting = FALSE;

  if (++client->fetched < client->wanted)
    {
      /* Qt's QTimer::singleShot(0, …): not from inside the socket's signal. */
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_callback (source, request_next, client, NULL);
      g_source_set_static_name (source, "[fortune-client] next fortune");
      g_source_attach (source, g_main_context_get_thread_default ());
      return;
    }
  finish (client, EXIT_SUCCESS);
}

/* Qt's displayError(). */
static void
on_error_occurred (QSockAbstract    *socket,
                   QSockSocketError  error,
                   gpointer          user_data)
{
  FortuneClient *client = user_data;

  switch (error)
    {
    case QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED:
      /* The server always closes after the fortune; on-disconnected
       * decides whether the fortune was whole. */
      return;
    case QSOCK_SOCKET_ERROR_HOST_NOT_FOUND:
      g_printerr ("fortune-client: The host was not found. Please check the "
                  "host name and port settings.\n");
      break;
    case QSOCK_SOCKET_ERROR_CONNECTION_REFUSED:
      g_printerr ("fortune-client: The connection was refused by the peer. "
                  "Make sure the fortune server is running, "
                  "and check that the host name and port settings are correct.\n");
      break;
    default:
      g_printerr ("fortune-client: The following error occurred: %s.\n",
                  qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
      break;
    }
  finish (client, EXIT_FAILURE);
}

static void
on_disconnected (QSockAbstract *socket,
                 gpointer       user_data)
{
  FortuneClient *client = user_data;

  if (!client->waiting)
    return;

  g_printerr ("fortune-client: the server closed the connection before a whole fortune arrived\n");
  finish (client, EXIT_FAILURE);
}

static gboolean
on_timeout (gpointer user_data)
{
  FortuneClient *client = user_data;

  client->timeout_id = 0;
  g_printerr ("fortune-client: timed out waiting for a fortune\n");
  finish (client, EXIT_FAILURE);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *host = NULL;
  int port = 0;
  int count = 1;
  int timeout_ms = 30000;
  const GOptionEntry entries[] = {
    { "host", 'H', 0, G_OPTION_ARG_STRING, &host,
      "The server's host name or address (default localhost)", "HOST" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "The server's port (required)", "PORT" },
    { "count", 'c', 0, G_OPTION_ARG_INT, &count,
      "Fetch N fortunes, one connection each (default 1)", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_ms,
      "Give up after MS milliseconds in all (default 30000; -1: never)", "MS" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  FortuneClient client = { 0 };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Qt's Fortune Client on qsock-glib: fetches a fortune from a fortune\n"
    "server (qsock-glib's or Qt's) and prints it.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("fortune-client: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("fortune-client: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (port < 1 || port > G_MAXUINT16)
    {
      g_printerr ("fortune-client: --port must be between 1 and 65535\n");
      return EXIT_USAGE;
    }
  if (count < 1)
    {
      g_printerr ("fortune-client: --count must be at least 1\n");
      return EXIT_USAGE;
    }

  signal (SIGPIPE, SIG_IGN);

  client.loop = g_main_loop_new (NULL, FALSE);
  client.host = host != NULL ? host : (char *) "localhost";
  client.port = (guint16) port;
  client.wanted = count;
  client.socket = qsock_tcp_new ();
  g_signal_connect (client.socket, "ready-read", G_CALLBACK (on_ready_read), &client);
  g_signal_connect (client.socket, "error-occurred", G_CALLBACK (on_error_occurred), &client);
  g_signal_connect (client.socket, "disconnected", G_CALLBACK (on_disconnected), &client);

  if (timeout_ms >= 0)
    client.timeout_id = g_timeout_add (timeout_ms, on_timeout, &client);

  request_new_fortune (&client);
  g_main_loop_run (client.loop);

  g_clear_handle_id (&client.timeout_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (client.socket, &client);
  g_object_unref (client.socket);
  g_main_loop_unref (client.loop);
  return client.exit_status;
}
