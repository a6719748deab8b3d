/* multicast-receiver.c: Qt's Multicast Receiver example on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   multicast-receiver [--group ADDR] [--port PORT] [--interface NAME]
 *                      [--count N] [--timeout MS]
 *
 * Binds a QSockUdp to AnyIPv4, port 45454, sharing the port
 * (QUdpSocket::ShareAddress), joins the IPv4 group 239.255.43.21 — on the
 * interface --interface names, or the one the kernel picks — and prints
 * every datagram as Qt's example shows it:
 *   Received IPv4 datagram from [ADDR:PORT]: "…"
 * Once it has joined it prints "listening on GROUP:PORT", so --port 0 tells
 * a script which port it got.
 *
 * Exit status: 0, 1 if the group cannot be joined (the message says
 * "cannot join"), a socket error or a timeout, 2 on bad usage.
 *
 * The Qt original, for comparison:
 *
 *   udpSocket4.bind(QHostAddress::AnyIPv4, 45454, QUdpSocket::ShareAddress);
 *   udpSocket4.joinMulticastGroup(groupAddress4);
 *   …
 *   while (udpSocket4.hasPendingDatagrams()) {
 *       QNetworkDatagram dgram = udpSocket4.receiveDatagram();
 *       statusLabel->setText(statusLabel->text() +
 *               tr("\nReceived IPv4 datagram from [%2]:%3: \"%1\"")
 *               .arg(dgram.data(), dgram.senderAddress().toString())
 *               .arg(dgram.senderPort()));
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
} MulticastReceiver;

static void
on_ready_read (QSockUdp *socket,
               gpointer  user_data)
{
  MulticastReceiver *receiver = user_data;

  while (qsock_udp_has_pending_datagrams (socket))
    {
      g_autoptr(QSockDatagram) datagram = qsock_udp_receive_datagram (socket, -1);
      g_autoptr(GBytes) data = qsock_datagram_get_data (datagram);
      g_autoptr(GInetAddress) sender = qsock_datagram_get_sender_address (datagram);
      g_autofree char *sender_text = sender != NULL ? g_inet_address_to_string (sender) : g_strdup ("?");
      gsize size = 0;
      const char *bytes = g_bytes_get_data (data, &size);

      g_print ("Received IPv4 datagram from [%s:%d]: \"%.*s\"\n", sender_text,
               qsock_datagram_get_sender_port (datagram),
               (int) strnlen (bytes != NULL ? bytes : "", size), bytes != NULL ? bytes : "");
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
  MulticastReceiver *receiver = user_data;

  g_printerr ("multicast-receiver: timed out after %d datagrams\n", receiver->received);
  receiver->exit_status = EXIT_FAILURE;
  g_main_loop_quit (receiver->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  MulticastReceiver *receiver = user_data;

  g_main_loop_quit (receiver->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *group_text = NULL;
  g_autofree char *interface_name = NULL;
  int port = 45454;
  int count = 0;
  int timeout_ms = 0;
  const GOptionEntry entries[] = {
    { "group", 'g', 0, G_OPTION_ARG_STRING, &group_text,
      "Join the IPv4 multicast group ADDR (default 239.255.43.21)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "Listen on PORT (default 45454; 0: any free port, printed on stdout)", "PORT" },
    { "interface", 'I', 0, G_OPTION_ARG_STRING, &interface_name,
      "Join on the interface NAME (default: the one the kernel picks)", "NAME" },
    { "count", 'c', 0, G_OPTION_ARG_INT, &count,
      "Exit after N datagrams (default 0: until interrupted)", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_ms,
      "Fail after MS milliseconds without all N datagrams (default 0: wait forever)", "MS" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) group = NULL;
  g_autofree char *group_string = NULL;
  g_autoptr(GInetAddress) any = NULL;
  g_autoptr(QSockUdp) socket = NULL;
  MulticastReceiver receiver = { 0 };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Qt's Multicast Receiver on qsock-glib: joins an IPv4 multicast group and\n"
    "prints the datagrams sent to it.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("multicast-receiver: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("multicast-receiver: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (port < 0 || port > G_MAXUINT16 || count < 0 || timeout_ms < 0)
    {
      g_printerr ("multicast-receiver: --port must be 0–65535, --count and --timeout not negative\n");
      return EXIT_USAGE;
    }

  group = g_inet_address_new_from_string (group_text != NULL ? group_text : "239.255.43.21");
  if (group == NULL || g_inet_address_get_family (group) != G_SOCKET_FAMILY_IPV4 ||
      !g_inet_address_get_is_multicast (group))
    {
      g_printerr ("multicast-receiver: “%s” is not an IPv4 multicast address\n", group_text);
      return EXIT_USAGE;
    }

  group_string = g_inet_address_to_string (group);

  any = qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
  socket = qsock_udp_new ();
  if (!qsock_abstract_bind (QSOCK_ABSTRACT (socket), any, (guint16) port, QSOCK_BIND_FLAGS_SHARE_ADDRESS))
    {
      g_printerr ("multicast-receiver: cannot bind to port %d: %s\n", port,
                  qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
      return EXIT_FAILURE;
    }
  if (!qsock_udp_join_multicast_group (socket, group, interface_name))
    {
      g_printerr ("multicast-receiver: cannot join %s on %s: %s\n",
                  group_string,
                  interface_name != NULL ? interface_name : "the default interface",
                  qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
      return EXIT_FAILURE;
    }
  g_print ("listening on %s:%u\n", group_string, qsock_abstract_get_local_port (QSOCK_ABSTRACT (socket)));
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
