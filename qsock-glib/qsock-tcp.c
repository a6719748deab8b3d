/* qsock-tcp.c: Qt's QTcpSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * QSockTcp:
 *
 * A TCP socket, as Qt's `QTcpSocket`: a #QSockAbstract of type
 * %QSOCK_SOCKET_TYPE_TCP.
 *
 * |[<!-- language="C" -->
 * QSockTcp *sock = qsock_tcp_new ();
 * qsock_abstract_connect_to_host (QSOCK_ABSTRACT (sock), "example.org", 80,
 *                                 QSOCK_OPEN_MODE_READ_WRITE,
 *                                 QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP);
 * if (qsock_abstract_wait_for_connected (QSOCK_ABSTRACT (sock), 5000))
 *   qsock_iodevice_write (QSOCK_IODEVICE (sock), "HEAD / HTTP/1.0\r\n\r\n", -1 + sizeof "HEAD / HTTP/1.0\r\n\r\n");
 * ]|
 *
 * Since: 1.0
 */
#include "config.h"

#include "qsock-tcp.h"
#include "qsock-abstract-private.h"

struct _QSockTcp
{
  QSockAbstract parent_instance;
};

G_DEFINE_FINAL_TYPE (QSockTcp, qsock_tcp, QSOCK_TYPE_ABSTRACT)

static void
qsock_tcp_class_init (QSockTcpClass *klass)
{
}

static void
qsock_tcp_init (QSockTcp *self)
{
  qsock_abstract_set_socket_type_internal (QSOCK_ABSTRACT (self), QSOCK_SOCKET_TYPE_TCP);
}

/**
 * qsock_tcp_new:
 *
 * Makes an unconnected TCP socket, bound to the thread-default main
 * context, as Qt's `QTcpSocket` constructor.
 *
 * Returns: (transfer full): a new socket
 *
 * Since: 1.0
 */
QSockTcp *
qsock_tcp_new (void)
{
  return g_object_new (QSOCK_TYPE_TCP, NULL);
}
