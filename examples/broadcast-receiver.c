/* broadcast-receiver.c: Qt's Broadcast Receiver example on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   broadcast-receiver [--port PORT] [--count N] [--timeout MS]
 *
 * Binds a QSockUdp to AnyIPv4, port 45454, sharing the port with other
 * receivers (QUdpSocket::ShareAddress), and prints every datagram as
 * Qt's example shows it: Received datagram: "…". Once bound it prints
 * "listening on 0.0.0.0:PORT", so --port 0 tells a script which port it got.
 *
 * The Qt original, for comparison:
 *
 *   udpSocket->bind(45454, QUdpSocket::ShareAddress);
 *   connect(udpSocket, &QUdpSocket::readyRead,
 *           this, &Receiver::processPendingDatagrams);
 *   …
 *   while (udpSocket->hasPendingDatagrams()) {
 *       datagram.resize(int(udpSocket->pendingDatagramSize()));
 *       udpSocket->readDatagram(datagram.data(), datagram.size());
 *       statusLabel->setText(tr("Received datagram: \"%1\"")
 *                            .arg(datagram.constData()));
 *   }
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <qsock-glib/qsock.h>

#define EXIT_USAGE 2

typedef struct {
  GMainLoop *loop;
  int        count;      /* datagrams to receive; 0: until interrupted */
  int        received;
  int        exit_status;
} BroadcastReceiver;

static void
on_ready_read (QSockUdp *socket,
               gpointer  user_data)
{
  BroadcastReceiver *receiver = user_data;

  while (qsock_udp_has_pending_datagrams (socket))
    {
      g_autoptr(GBytes) datagram = qsock_udp_read_datagram_bytes (socket, -1, NULL, NULL);
      gsize size = 0;
      const char *data = datagram != NULL ? g_bytes_get_data (datagram, &size) : NULL;

      /* %.*s: a datagram is bytes, not a C string; Qt prints up to a NUL too. */
      g_print ("Received datagram: \"%.*s\"\n", (int) strnlen (data != NULL ? data : "", size),
               data != NULL ? data : "");
      fflush (stdout);

      receiver->received++;
      if (receiver->count > 0 && receiver->received >= receiver->count)
        {
          g_main_loop_quit (receiver->loop);
          return;
        }
    }
}

static gboolean
on_timeout (gpointer user_data)
{
  BroadcastReceiver *receiver = user_data;

  g_printerr ("broadcast-receiver: timed out after %d datagrams\n", receiver->received);
  receiver->exit_status = EXIT_FAILURE;
  g_main_loop_quit (receiver->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  BroadcastReceiver *receiver = user_data;

  g_main_loop_quit (receiver->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  int port = 45454;
  int count = 0;
  int timeout_ms = 0;
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "Listen on PORT (default 45454; 0: any free port, printed on stdout)", "PORT" },
    { "count", 'c', 0, G_OPTION_ARG_INT, &count,
      "Exit after N datagrams (default 0: until interrupted)", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_ms,
      "Fail after MS milliseconds without all N datagrams (default 0: wait forever)", "MS" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) any = NULL;
  g_autoptr(QSockUdp) socket = NULL;
  BroadcastReceiver receiver = { 0 };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Qt's Broadcast Receiver on qsock-glib: prints the UDP datagrams that\n"
    "arrive on a port of every IPv4 address, broadcasts included.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("broadcast-receiver: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("broadcast-receiver: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (port < 0 || port > G_MAXUINT16 || count < 0 || timeout_ms < 0)
    {
      g_printerr ("broadcast-receiver: --port must be 0–65535, --count and --timeout not negative\n");
      return EXIT_USAGE;
    }

  any = qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
  socket = qsock_udp_new ();
  if (!qsock_abstract_bind (QSOCK_ABSTRACT (socket), any, (guint16) port, QSOCK_BIND_FLAGS_SHARE_ADDRESS))
    {
      g_printerr ("broadcast-receiver: cannot bind to port %d: %s\n", port,
                  qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
      return EXIT_FAILURE;
    }
  g_print ("listening on 0.0.0.0:%u\n", qsock_abstract_get_local_port (QSOCK_ABSTRACT (socket)));
  fflush (stdout);

  receiver.loop = g_main_loop_new (NULL, FALSE);
  receiver.count = count;
  g_signal_connect (socket, "ready-read", G_CALLBACK (on_ready_read), &receiver);
  g_unix_signal_add (SIGINT, on_quit_signal, &receiver);
  g_unix_signal_add (SIGTERM, on_quit_signal, &receiver);
  if (timeout_ms > 0)
    g_timeout_add (timeout_ms, on_timeout, &receiver);

  g_main_loop_run (receiver.loop);

  g_signal_handlers_disconnect_by_data (socket, &receiver);
  g_main_loop_unref (receiver.loop);
  return receiver.exit_status;
}
