/* broadcast-sender.c: Qt's Broadcast Sender example on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   broadcast-sender [--address ADDR] [--port PORT] [--interval MS] [--count N]
 *
 * Sends "Broadcast message N" as a UDP datagram every second to the IPv4
 * broadcast address 255.255.255.255, port 45454, as Qt's example does, and
 * says so on stdout. --address picks another destination, for example a
 * subnet's directed broadcast address, or 127.255.255.255 to stay on the
 * loopback interface.
 *
 * The Qt original, for comparison:
 *
 *   QByteArray datagram = "Broadcast message " + QByteArray::number(messageNo);
 *   udpSocket->writeDatagram(datagram, QHostAddress::Broadcast, 45454);
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
  GMainLoop    *loop;
  QSockUdp     *socket;
  GInetAddress *address;
  guint16       port;
  int           count;         /* datagrams to send; 0: until interrupted */
  int           message_no;
  int           exit_status;
} BroadcastSender;

static gboolean
send_datagram (gpointer user_data)
{
  BroadcastSender *sender = user_data;
  g_autofree char *datagram = g_strdup_printf ("Broadcast message %d", sender->message_no);

  g_print ("Now broadcasting datagram %d\n", sender->message_no);
  fflush (stdout);
  if (qsock_udp_write_datagram (sender->socket, datagram, (gint64) strlen (datagram),
                                sender->address, sender->port) < 0)
    {
      g_printerr ("broadcast-sender: %s\n",
                  qsock_iodevice_get_error_string (QSOCK_IODEVICE (sender->socket)));
      sender->exit_status = EXIT_FAILURE;
      g_main_loop_quit (sender->loop);
      return G_SOURCE_REMOVE;
    }

  sender->message_no++;
  if (sender->count > 0 && sender->message_no > sender->count)
    {
      g_main_loop_quit (sender->loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  BroadcastSender *sender = user_data;

  g_main_loop_quit (sender->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *address_text = NULL;
  int port = 45454;
  int interval_ms = 1000;
  int count = 0;
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address_text,
      "Send to ADDR (default 255.255.255.255, QHostAddress::Broadcast)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Send to PORT (default 45454)", "PORT" },
    { "interval", 'i', 0, G_OPTION_ARG_INT, &interval_ms,
      "Wait MS milliseconds between datagrams (default 1000)", "MS" },
    { "count", 'c', 0, G_OPTION_ARG_INT, &count,
      "Send N datagrams, then exit (default 0: until interrupted)", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  BroadcastSender sender = { 0 };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Qt's Broadcast Sender on qsock-glib: sends “Broadcast message N” as a UDP\n"
    "datagram to the broadcast address every interval.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("broadcast-sender: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("broadcast-sender: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (port <= 0 || port > G_MAXUINT16 || interval_ms <= 0 || count < 0)
    {
      g_printerr ("broadcast-sender: --port must be 1–65535, --interval positive, "
                  "--count not negative\n");
      return EXIT_USAGE;
    }

  if (address_text != NULL)
    sender.address = g_inet_address_new_from_string (address_text);
  else
    sender.address = qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_BROADCAST);
  if (sender.address == NULL)
    {
      g_printerr ("broadcast-sender: “%s” is not an IP address\n", address_text);
      return EXIT_USAGE;
    }

  sender.loop = g_main_loop_new (NULL, FALSE);
  sender.socket = qsock_udp_new ();
  sender.port = (guint16) port;
  sender.count = count;
  sender.message_no = 1;

  g_unix_signal_add (SIGINT, on_quit_signal, &sender);
  g_unix_signal_add (SIGTERM, on_quit_signal, &sender);
  /* The first one at once; Qt's example starts its timer on a button. */
  if (send_datagram (&sender) == G_SOURCE_CONTINUE)
    {
      g_timeout_add (interval_ms, send_datagram, &sender);
      g_main_loop_run (sender.loop);
    }

  g_object_unref (sender.socket);
  g_object_unref (sender.address);
  g_main_loop_unref (sender.loop);
  return sender.exit_status;
}
