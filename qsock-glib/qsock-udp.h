/* qsock-udp.h: Qt's QUdpSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include "qsock-abstract.h"
#include "qsock-datagram.h"

G_BEGIN_DECLS

#define QSOCK_TYPE_UDP (qsock_udp_get_type ())

QSOCK_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (QSockUdp, qsock_udp, QSOCK, UDP, QSockAbstract)

QSOCK_AVAILABLE_IN_1_0
QSockUdp      *qsock_udp_new                      (void);

QSOCK_AVAILABLE_IN_1_0
gboolean       qsock_udp_has_pending_datagrams    (QSockUdp      *self);
QSOCK_AVAILABLE_IN_1_0
gint64         qsock_udp_pending_datagram_size    (QSockUdp      *self);

QSOCK_AVAILABLE_IN_1_0
gint64         qsock_udp_read_datagram            (QSockUdp      *self,
                                                   char          *data,
                                                   gint64         max_size,
                                                   GInetAddress **address,
                                                   guint16       *port);
QSOCK_AVAILABLE_IN_1_0
GBytes        *qsock_udp_read_datagram_bytes      (QSockUdp      *self,
                                                   gint64         max_size,
                                                   GInetAddress **address,
                                                   guint16       *port);
QSOCK_AVAILABLE_IN_1_0
QSockDatagram *qsock_udp_receive_datagram         (QSockUdp      *self,
                                                   gint64         max_size);

QSOCK_AVAILABLE_IN_1_0
gint64         qsock_udp_write_datagram           (QSockUdp      *self,
                                                   const char    *data,
                                                   gint64         size,
                                                   GInetAddress  *address,
                                                   guint16        port);
QSOCK_AVAILABLE_IN_1_0
gint64         qsock_udp_write_datagram_bytes     (QSockUdp      *self,
                                                   GBytes        *data,
                                                   GInetAddress  *address,
                                                   guint16        port);
QSOCK_AVAILABLE_IN_1_0
gint64         qsock_udp_send_datagram            (QSockUdp      *self,
                                                   QSockDatagram *datagram);

QSOCK_AVAILABLE_IN_1_0
gboolean       qsock_udp_join_multicast_group     (QSockUdp      *self,
                                                   GInetAddress  *group,
                                                   const char    *interface_name);
QSOCK_AVAILABLE_IN_1_0
gboolean       qsock_udp_join_multicast_group_on_index  (QSockUdp     *self,
                                                         GInetAddress *group,
                                                         guint         interface_index);
QSOCK_AVAILABLE_IN_1_0
gboolean       qsock_udp_leave_multicast_group    (QSockUdp      *self,
                                                   GInetAddress  *group,
                                                   const char    *interface_name);
QSOCK_AVAILABLE_IN_1_0
gboolean       qsock_udp_leave_multicast_group_on_index (QSockUdp     *self,
                                                         GInetAddress *group,
                                                         guint         interface_index);
QSOCK_AVAILABLE_IN_1_0
guint          qsock_udp_get_multicast_interface  (QSockUdp      *self);
QSOCK_AVAILABLE_IN_1_0
void           qsock_udp_set_multicast_interface  (QSockUdp      *self,
                                                   guint          interface_index);

QSOCK_AVAILABLE_IN_1_0
void           qsock_udp_receive_datagram_async   (QSockUdp            *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
QSOCK_AVAILABLE_IN_1_0
QSockDatagram *qsock_udp_receive_datagram_finish  (QSockUdp            *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

G_END_DECLS
