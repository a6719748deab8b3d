/* qsock-tcp.h: Qt's QTcpSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include "qsock-abstract.h"

G_BEGIN_DECLS

#define QSOCK_TYPE_TCP (qsock_tcp_get_type ())

QSOCK_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (QSockTcp, qsock_tcp, QSOCK, TCP, QSockAbstract)

QSOCK_AVAILABLE_IN_1_0
QSockTcp *qsock_tcp_new (void);

G_END_DECLS
