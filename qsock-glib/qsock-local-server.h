/* qsock-local-server.h: Qt's QLocalServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include "qsock-local.h"

G_BEGIN_DECLS

#define QSOCK_TYPE_LOCAL_SERVER (qsock_local_server_get_type ())

QSOCK_AVAILABLE_IN_1_0
G_DECLARE_DERIVABLE_TYPE (QSockLocalServer, qsock_local_server, QSOCK, LOCAL_SERVER, GObject)

/**
 * QSockLocalServerClass:
 * @parent_class: the parent class
 * @incoming_connection: called with each accepted descriptor; the default
 *   wraps it in a #QSockLocal, queues it and emits
 *   #QSockLocalServer::new-connection. An override takes ownership of @fd.
 * @new_connection: class handler of #QSockLocalServer::new-connection
 *
 * The class of #QSockLocalServer; derivable because Qt's
 * `incomingConnection()` is meant to be overridden.
 *
 * Since: 1.0
 */
struct _QSockLocalServerClass
{
  GObjectClass parent_class;

  void (*incoming_connection) (QSockLocalServer *self,
                               int               fd);
  void (*new_connection)      (QSockLocalServer *self);

  /*< private >*/
  gpointer padding[8];
};

QSOCK_AVAILABLE_IN_1_0
QSockLocalServer       *qsock_local_server_new                      (void);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_server_listen                   (QSockLocalServer       *self,
                                                                     const char             *name);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_server_listen_descriptor        (QSockLocalServer       *self,
                                                                     int                     fd);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_server_close                    (QSockLocalServer       *self);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_server_is_listening             (QSockLocalServer       *self);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_server_remove_server            (const char             *name);

QSOCK_AVAILABLE_IN_1_0
QSockLocal             *qsock_local_server_next_pending_connection  (QSockLocalServer       *self);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_server_has_pending_connections  (QSockLocalServer       *self);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_server_add_pending_connection   (QSockLocalServer       *self,
                                                                     QSockLocal             *socket);
QSOCK_AVAILABLE_IN_1_0
int                     qsock_local_server_get_max_pending_connections (QSockLocalServer    *self);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_server_set_max_pending_connections (QSockLocalServer    *self,
                                                                        int                  max);
QSOCK_AVAILABLE_IN_1_0
int                     qsock_local_server_get_listen_backlog_size  (QSockLocalServer       *self);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_server_set_listen_backlog_size  (QSockLocalServer       *self,
                                                                     int                     size);
QSOCK_AVAILABLE_IN_1_0
QSockLocalServerOptions qsock_local_server_get_socket_options       (QSockLocalServer       *self);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_server_set_socket_options       (QSockLocalServer       *self,
                                                                     QSockLocalServerOptions options);

QSOCK_AVAILABLE_IN_1_0
const char             *qsock_local_server_get_server_name          (QSockLocalServer       *self);
QSOCK_AVAILABLE_IN_1_0
const char             *qsock_local_server_get_full_server_name     (QSockLocalServer       *self);
QSOCK_AVAILABLE_IN_1_0
int                     qsock_local_server_get_socket_descriptor    (QSockLocalServer       *self);
QSOCK_AVAILABLE_IN_1_0
QSockSocketError        qsock_local_server_get_server_error         (QSockLocalServer       *self);
QSOCK_AVAILABLE_IN_1_0
const char             *qsock_local_server_get_error_string         (QSockLocalServer       *self);

QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_server_wait_for_new_connection  (QSockLocalServer       *self,
                                                                     int                     msecs,
                                                                     gboolean               *timed_out);

QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_server_accept_async             (QSockLocalServer       *self,
                                                                     GCancellable           *cancellable,
                                                                     GAsyncReadyCallback     callback,
                                                                     gpointer                user_data);
QSOCK_AVAILABLE_IN_1_0
QSockLocal             *qsock_local_server_accept_finish            (QSockLocalServer       *self,
                                                                     GAsyncResult           *result,
                                                                     GError                **error);

G_END_DECLS
