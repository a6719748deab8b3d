/* qsock-tcp-server.h: Qt's QTcpServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include "qsock-tcp.h"

G_BEGIN_DECLS

#define QSOCK_TYPE_TCP_SERVER (qsock_tcp_server_get_type ())

QSOCK_AVAILABLE_IN_1_0
G_DECLARE_DERIVABLE_TYPE (QSockTcpServer, qsock_tcp_server, QSOCK, TCP_SERVER, GObject)

/**
 * QSockTcpServerClass:
 * @parent_class: the parent class
 * @incoming_connection: called with each accepted descriptor; the default
 *   wraps it in a #QSockTcp and passes that to
 *   qsock_tcp_server_add_pending_connection(). An override takes ownership
 *   of @fd.
 * @new_connection: class handler of #QSockTcpServer::new-connection
 * @pending_connection_available: class handler of
 *   #QSockTcpServer::pending-connection-available
 * @accept_error: class handler of #QSockTcpServer::accept-error
 *
 * The class of #QSockTcpServer. Unlike most qsock-glib leaves it can be
 * derived, because Qt's `incomingConnection()` is meant to be overridden.
 *
 * Since: 1.0
 */
struct _QSockTcpServerClass
{
  GObjectClass parent_class;

  void (*incoming_connection)          (QSockTcpServer  *self,
                                        int              fd);
  void (*new_connection)               (QSockTcpServer  *self);
  void (*pending_connection_available) (QSockTcpServer  *self);
  void (*accept_error)                 (QSockTcpServer  *self,
                                        QSockSocketError error);

  /*< private >*/
  gpointer padding[8];
};

QSOCK_AVAILABLE_IN_1_0
QSockTcpServer  *qsock_tcp_server_new                     (void);
QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_tcp_server_listen                  (QSockTcpServer *self,
                                                           GInetAddress   *address,
                                                           guint16         port);
QSOCK_AVAILABLE_IN_1_0
void             qsock_tcp_server_close                   (QSockTcpServer *self);
QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_tcp_server_is_listening            (QSockTcpServer *self);

QSOCK_AVAILABLE_IN_1_0
QSockTcp        *qsock_tcp_server_next_pending_connection (QSockTcpServer *self);
QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_tcp_server_has_pending_connections (QSockTcpServer *self);
QSOCK_AVAILABLE_IN_1_0
void             qsock_tcp_server_add_pending_connection  (QSockTcpServer *self,
                                                           QSockTcp       *socket);
QSOCK_AVAILABLE_IN_1_0
int              qsock_tcp_server_get_max_pending_connections (QSockTcpServer *self);
QSOCK_AVAILABLE_IN_1_0
void             qsock_tcp_server_set_max_pending_connections (QSockTcpServer *self,
                                                               int             max);
QSOCK_AVAILABLE_IN_1_0
int              qsock_tcp_server_get_listen_backlog_size (QSockTcpServer *self);
QSOCK_AVAILABLE_IN_1_0
void             qsock_tcp_server_set_listen_backlog_size (QSockTcpServer *self,
                                                           int             size);
QSOCK_AVAILABLE_IN_1_0
void             qsock_tcp_server_pause_accepting         (QSockTcpServer *self);
QSOCK_AVAILABLE_IN_1_0
void             qsock_tcp_server_resume_accepting        (QSockTcpServer *self);

QSOCK_AVAILABLE_IN_1_0
GInetAddress    *qsock_tcp_server_get_server_address      (QSockTcpServer *self);
QSOCK_AVAILABLE_IN_1_0
guint16          qsock_tcp_server_get_server_port         (QSockTcpServer *self);
QSOCK_AVAILABLE_IN_1_0
QSockSocketError qsock_tcp_server_get_server_error        (QSockTcpServer *self);
QSOCK_AVAILABLE_IN_1_0
const char      *qsock_tcp_server_get_error_string        (QSockTcpServer *self);

QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_tcp_server_set_socket_descriptor   (QSockTcpServer *self,
                                                           int             fd);
QSOCK_AVAILABLE_IN_1_0
int              qsock_tcp_server_get_socket_descriptor   (QSockTcpServer *self);

QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_tcp_server_wait_for_new_connection (QSockTcpServer *self,
                                                           int             msecs,
                                                           gboolean       *timed_out);

QSOCK_AVAILABLE_IN_1_0
void             qsock_tcp_server_accept_async            (QSockTcpServer      *self,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
QSOCK_AVAILABLE_IN_1_0
QSockTcp        *qsock_tcp_server_accept_finish           (QSockTcpServer      *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);

G_END_DECLS
