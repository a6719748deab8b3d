/* local-fortune-client.c: Qt's Local Fortune Client example on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   local-fortune-client [--name NAME] [--timeout MS]
 *
 * Connects a QSockLocal (QLocalSocket) to a local fortune server, reads one
 * fortune in Qt 6's local fortune wire format (a big-endian quint32 holding
 * the length in UTF-16 code units, then a QDataStream QString) and prints
 * it on stdout. Signal-driven, as Qt's client is: connected, ready-read
 * (with a transaction, so a fortune split over several reads is rolled back
 * until it is whole) and error-occurred with Qt's messages. Works against
 * Qt's local fortune server as well as ours.
 *
 * Exit status: 0 with the fortune printed, 1 on a socket or protocol error
 * or a timeout, 2 on bad usage.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include <qsock-glib/qsock.h>

#include "fortune-datastream.h"

#define EXIT_USAGE 2

typedef struct {
  GMainLoop  *loop;
  QSockLocal *socket;
  gboolean    done;
  int         exit_status;
} LocalFortuneClient;

static void
finish (LocalFortuneClient *client,
        int                 exit_status,
        const char         *message)
{
  if (client->done)
    return;
  client->done = TRUE;
  client->exit_status = exit_status;
  if (message != NULL)
    g_printerr ("local-fortune-client: %s\n", message);
  g_main_loop_quit (client->loop);
}

/* `in >> blockSize; in >> nextFortune;` inside a transaction. */
static void
on_ready_read (QSockLocal *socket,
               gpointer    user_data)
{
  LocalFortuneClient *client = user_data;
  QSockIODevice *device = QSOCK_IODEVICE (socket);
  guint32 units_be;
  g_autofree char *fortune = NULL;
  FortuneReadStatus status = FORTUNE_READ_SHORT;

  if (client->done)
    return;

  qsock_iodevice_start_transaction (device);
  if (qsock_iodevice_read (device, (char *) &units_be, sizeof units_be) == sizeof units_be)
    status = fortune_datastream_read_string (device, &fortune);

  if (status == FORTUNE_READ_SHORT)
    {
      qsock_iodevice_rollback_transaction (device);
      return;
    }
  qsock_iodevice_commit_transaction (device);

  if (status == FORTUNE_READ_OK)
    {
      /* Qt's server sends QString::size() first: the UTF-16 code units. */
      glong units = 0;
      g_autofree gunichar2 *utf16 = g_utf8_to_utf16 (fortune, -1, NULL, &units, NULL);

      if (utf16 == NULL || (guint32) units != GUINT32_FROM_BE (units_be))
        status = FORTUNE_READ_CORRUPT;
    }
  if (status == FORTUNE_READ_CORRUPT)
    {
      finish (client, EXIT_FAILURE, "the server sent something that is not a fortune");
      return;
    }

  g_print ("%s\n", fortune);
  fflush (stdout);
  finish (client, EXIT_SUCCESS, NULL);
}

/* Qt's displayError(). */
static void
on_error_occurred (QSockLocal            *socket,
                   QSockLocalSocketError  error,
                   gpointer               user_data)
{
  LocalFortuneClient *client = user_data;
  g_autofree char *message = NULL;

  switch (error)
    {
    case QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND:
      finish (client, EXIT_FAILURE,
              "The host was not found. Please make sure that the server is running and "
              "that the server name is correct.");
      break;
    case QSOCK_LOCAL_SOCKET_ERROR_CONNECTION_REFUSED:
      finish (client, EXIT_FAILURE,
              "The connection was refused by the peer. Make sure the fortune server is "
              "running, and check that the server name is correct.");
      break;
    case QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED:
      /* The server closes after the fortune; disconnected says if it was early. */
      break;
    default:
      message = g_strdup_printf ("The following error occurred: %s.",
                                 qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
      finish (client, EXIT_FAILURE, message);
      break;
    }
}

static void
on_disconnected (QSockLocal *socket,
                 gpointer    user_data)
{
  finish (user_data, EXIT_FAILURE, "the server closed the connection before a whole fortune arrived");
}

static gboolean
on_timeout (gpointer user_data)
{
  finish (user_data, EXIT_FAILURE, "timed out waiting for a fortune");
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *name = NULL;
  int timeout_ms = 30000;
  const GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_FILENAME, &name,
      "Connect to NAME: a path, or a name as the server was given it (default “fortune”)", "NAME" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_ms,
      "Give up after MS milliseconds (default 30000)", "MS" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  LocalFortuneClient client = { 0 };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Qt's Local Fortune Client on qsock-glib: reads one fortune from a local\n"
    "fortune server (ours or Qt's) and prints it.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("local-fortune-client: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("local-fortune-client: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (timeout_ms <= 0)
    {
      g_printerr ("local-fortune-client: --timeout must be positive\n");
      return EXIT_USAGE;
    }

  client.loop = g_main_loop_new (NULL, FALSE);
  client.socket = qsock_local_new ();
  g_signal_connect (client.socket, "ready-read", G_CALLBACK (on_ready_read), &client);
  g_signal_connect (client.socket, "error-occurred", G_CALLBACK (on_error_occurred), &client);
  g_signal_connect (client.socket, "disconnected", G_CALLBACK (on_disconnected), &client);
  g_timeout_add (timeout_ms, on_timeout, &client);

  qsock_local_connect_to_server (client.socket, name != NULL ? name : "fortune",
                                 QSOCK_OPEN_MODE_READ_ONLY);
  /* A failure may already have been reported inside the call. */
  if (!client.done)
    g_main_loop_run (client.loop);

  g_signal_handlers_disconnect_by_data (client.socket, &client);
  qsock_local_abort (client.socket);
  g_object_unref (client.socket);
  g_main_loop_unref (client.loop);
  return client.exit_status;
}
