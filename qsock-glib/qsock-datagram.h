/* qsock-datagram.h: Qt's QNetworkDatagram
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include "qsock-version.h"

G_BEGIN_DECLS

#define QSOCK_TYPE_DATAGRAM (qsock_datagram_get_type ())

QSOCK_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (QSockDatagram, qsock_datagram, QSOCK, DATAGRAM, GObject)

QSOCK_AVAILABLE_IN_1_0
QSockDatagram *qsock_datagram_new                     (void);
QSOCK_AVAILABLE_IN_1_0
QSockDatagram *qsock_datagram_new_with_data           (const char    *data,
                                                       gsize          size,
                                                       GInetAddress  *destination,
                                                       int            port);
QSOCK_AVAILABLE_IN_1_0
QSockDatagram *qsock_datagram_new_with_bytes          (GBytes        *data,
                                                       GInetAddress  *destination,
                                                       int            port);

QSOCK_AVAILABLE_IN_1_0
GBytes        *qsock_datagram_get_data                (QSockDatagram *self);
QSOCK_AVAILABLE_IN_1_0
void           qsock_datagram_set_data                (QSockDatagram *self,
                                                       GBytes        *data);
QSOCK_AVAILABLE_IN_1_0
GInetAddress  *qsock_datagram_get_sender_address      (QSockDatagram *self);
QSOCK_AVAILABLE_IN_1_0
int            qsock_datagram_get_sender_port         (QSockDatagram *self);
QSOCK_AVAILABLE_IN_1_0
void           qsock_datagram_set_sender              (QSockDatagram *self,
                                                       GInetAddress  *address,
                                                       int            port);
QSOCK_AVAILABLE_IN_1_0
GInetAddress  *qsock_datagram_get_destination_address (QSockDatagram *self);
QSOCK_AVAILABLE_IN_1_0
int            qsock_datagram_get_destination_port    (QSockDatagram *self);
QSOCK_AVAILABLE_IN_1_0
void           qsock_datagram_set_destination         (QSockDatagram *self,
                                                       GInetAddress  *address,
                                                       int            port);
QSOCK_AVAILABLE_IN_1_0
int            qsock_datagram_get_hop_limit           (QSockDatagram *self);
QSOCK_AVAILABLE_IN_1_0
void           qsock_datagram_set_hop_limit           (QSockDatagram *self,
                                                       int            count);
QSOCK_AVAILABLE_IN_1_0
guint          qsock_datagram_get_interface_index     (QSockDatagram *self);
QSOCK_AVAILABLE_IN_1_0
void           qsock_datagram_set_interface_index     (QSockDatagram *self,
                                                       guint          index);
QSOCK_AVAILABLE_IN_1_0
gboolean       qsock_datagram_is_valid                (QSockDatagram *self);
QSOCK_AVAILABLE_IN_1_0
gboolean       qsock_datagram_is_null                 (QSockDatagram *self);
QSOCK_AVAILABLE_IN_1_0
void           qsock_datagram_clear                   (QSockDatagram *self);
QSOCK_AVAILABLE_IN_1_0
QSockDatagram *qsock_datagram_make_reply              (QSockDatagram *self,
                                                       GBytes        *data);

G_END_DECLS
