/* multicast-sender.c: Qt's Multicast Sender example on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   multicast-sender [--group ADDR] [--port PORT] [--ttl N] [--interface NAME]
 *                    [--interval MS] [--count N]
 *
 * Sends "Multicast message N" every second to the IPv4 group 239.255.43.21,
 * port 45454, as Qt's example does, with the multicast TTL Qt's spin box
 * sets (QAbstractSocket::MulticastTtlOption, default 1: this link only).
 * --interface picks the interface the datagrams leave by
 * (QUdpSocket::setMulticastInterface()); without it the kernel's routing
 * decides.
 *
 * The Qt original, for comparison:
 *
 *   udpSocket4.bind(QHostAddress(QHostAddress::AnyIPv4), 0);
 *   udpSocket4.setSocketOption(QAbstractSocket::MulticastTtlOption, ttl);
 *   …
 *   QByteArray datagram = "Multicast message " + QByteArray::number(messageNo);
 *   udpSocket4.writeDatagram(datagram, groupAddress4, 45454);
 */
#include <locale.h>
#include <net/if.h>
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
  GInetAddress *group;
  guint16       port;
  int           count;         /* datagrams to send; 0: until interrupted */
  int           message_no;
  int           exit_status;
} MulticastSender;

static gboolean
send_datagram (gpointer user_data)
{
  MulticastSender *sender = user_data;
  g_autofree char *datagram = g_strdup_printf ("Multicast message %d", sender->message_no);

  g_print ("Now sending datagram %d\n", sender->message_no);
  fflush (stdout);
  if (qsock_udp_write_datagram (sender->socket, datagram, (gint64) strlen (datagram),
                                sender->group, sender->port) < 0)
    {
      g_printerr ("multicast-sender: %s\n",
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
  MulticastSender *sender = user_data;

  g_main_loop_quit (sender->loop);
  return G_SOURCE_CONTINUE;
}

/* Binds to the group's family and applies the TTL and the interface. */
static gboolean
set_up_socket (MulticastSender *sender,
               int              ttl,
               const char      *interface_name)
{
  QSockAbstract *socket = QSOCK_ABSTRACT (sender->socket);
  gboolean v6 = g_inet_address_get_family (sender->group) == G_SOCKET_FAMILY_IPV6;
  g_autoptr(GInetAddress) any =
    qsock_host_address_new_special (v6 ? QSOCK_SPECIAL_ADDRESS_ANY_IPV6 : QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
  int value = -1;

  if (!qsock_abstract_bind (socket, any, 0, QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM))
    {
      g_printerr ("multicast-sender: cannot bind: %s\n",
                  qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
      return FALSE;
    }

  qsock_abstract_set_socket_option (socket, QSOCK_SOCKET_OPTION_MULTICAST_TTL, ttl);
  if (!qsock_abstract_get_socket_option (socket, QSOCK_SOCKET_OPTION_MULTICAST_TTL, &value) || value != ttl)
    {
      g_printerr ("multicast-sender: the system refused multicast TTL %d\n", ttl);
      return FALSE;
    }

  if (interface_name != NULL)
    {
      guint index = if_nametoindex (interface_name);

      if (index == 0)
        {
          g_printerr ("multicast-sender: no interface “%s”\n", interface_name);
          return FALSE;
        }
      qsock_udp_set_multicast_interface (sender->socket, index);
      if (qsock_udp_get_multicast_interface (sender->socket) != index)
        {
          g_printerr ("multicast-sender: the system refused to send multicast on “%s”\n",
                      interface_name);
          return FALSE;
        }
    }
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *group_text = NULL;
  g_autofree char *interface_name = NULL;
  int port = 45454;
  int ttl = 1;
  int interval_ms = 1000;
  int count = 0;
  const GOptionEntry entries[] = {
    { "group", 'g', 0, G_OPTION_ARG_STRING, &group_text,
      "Send to the multicast group ADDR (default 239.255.43.21)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Send to PORT (default 45454)", "PORT" },
    { "ttl", 't', 0, G_OPTION_ARG_INT, &ttl,
      "Multicast TTL: how many routers the datagrams may cross (0–255, default 1)", "N" },
    { "interface", 'I', 0, G_OPTION_ARG_STRING, &interface_name,
      "Send through the interface NAME (default: as the routing table says)", "NAME" },
    { "interval", 'i', 0, G_OPTION_ARG_INT, &interval_ms,
      "Wait MS milliseconds between datagrams (default 1000)", "MS" },
    { "count", 'c', 0, G_OPTION_ARG_INT, &count,
      "Send N datagrams, then exit (default 0: until interrupted)", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  MulticastSender sender = { 0 };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Qt's Multicast Sender on qsock-glib: sends “Multicast message N” to a\n"
    "multicast group every interval.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("multicast-sender: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("multicast-sender: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (port <= 0 || port > G_MAXUINT16 || ttl < 0 || ttl > 255 || interval_ms <= 0 || count < 0)
    {
      g_printerr ("multicast-sender: --port must be 1–65535, --ttl 0–255, --interval positive, "
                  "--count not negative\n");
      return EXIT_USAGE;
    }

  sender.group = g_inet_address_new_from_string (group_text != NULL ? group_text : "239.255.43.21");
  if (sender.group == NULL || !g_inet_address_get_is_multicast (sender.group))
    {
      g_printerr ("multicast-sender: “%s” is not a multicast address\n", group_text);
      g_clear_object (&sender.group);
      return EXIT_USAGE;
    }

  sender.loop = g_main_loop_new (NULL, FALSE);
  sender.socket = qsock_udp_new ();
  sender.port = (guint16) port;
  sender.count = count;
  sender.message_no = 1;

  if (!set_up_socket (&sender, ttl, interface_name))
    sender.exit_status = EXIT_FAILURE;
  else if (send_datagram (&sender) == G_SOURCE_CONTINUE)
    {
      g_unix_signal_add (SIGINT, on_quit_signal, &sender);
      g_unix_signal_add (SIGTERM, on_quit_signal, &sender);
      g_timeout_add (interval_ms, send_datagram, &sender);
      g_main_loop_run (sender.loop);
    }

  g_object_unref (sender.socket);
  g_object_unref (sender.group);
  g_main_loop_unref (sender.loop);
  return sender.exit_status;
}
