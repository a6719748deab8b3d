/* qsock-local.h: Qt's QLocalSocket (Unix domain sockets)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include "qsock-iodevice.h"

G_BEGIN_DECLS

#define QSOCK_TYPE_LOCAL (qsock_local_get_type ())

QSOCK_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (QSockLocal, qsock_local, QSOCK, LOCAL, QSockIODevice)

QSOCK_AVAILABLE_IN_1_0
QSockLocal             *qsock_local_new                      (void);

QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_connect_to_server        (QSockLocal             *self,
                                                              const char             *name,
                                                              QSockOpenMode           mode);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_disconnect_from_server   (QSockLocal             *self);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_abort                    (QSockLocal             *self);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_flush                    (QSockLocal             *self);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_is_valid                 (QSockLocal             *self);

QSOCK_AVAILABLE_IN_1_0
const char             *qsock_local_get_server_name          (QSockLocal             *self);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_set_server_name          (QSockLocal             *self,
                                                              const char             *name);
QSOCK_AVAILABLE_IN_1_0
const char             *qsock_local_get_full_server_name     (QSockLocal             *self);
QSOCK_AVAILABLE_IN_1_0
QSockLocalSocketOptions qsock_local_get_socket_options       (QSockLocal             *self);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_set_socket_options       (QSockLocal             *self,
                                                              QSockLocalSocketOptions options);

QSOCK_AVAILABLE_IN_1_0
QSockLocalSocketState   qsock_local_get_state                (QSockLocal             *self);
QSOCK_AVAILABLE_IN_1_0
QSockLocalSocketError   qsock_local_get_error                (QSockLocal             *self);

QSOCK_AVAILABLE_IN_1_0
gint64                  qsock_local_get_read_buffer_size     (QSockLocal             *self);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_set_read_buffer_size     (QSockLocal             *self,
                                                              gint64                  size);
QSOCK_AVAILABLE_IN_1_2
gboolean                qsock_local_get_half_close           (QSockLocal             *self);
QSOCK_AVAILABLE_IN_1_2
void                    qsock_local_set_half_close           (QSockLocal             *self,
                                                              gboolean                half_close);
QSOCK_AVAILABLE_IN_1_2
void                    qsock_local_shutdown_write           (QSockLocal             *self);

QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_set_socket_descriptor    (QSockLocal             *self,
                                                              int                     fd,
                                                              QSockLocalSocketState   state,
                                                              QSockOpenMode           mode);
QSOCK_AVAILABLE_IN_1_0
int                     qsock_local_get_socket_descriptor    (QSockLocal             *self);

QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_wait_for_connected       (QSockLocal             *self,
                                                              int                     msecs);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_wait_for_disconnected    (QSockLocal             *self,
                                                              int                     msecs);

QSOCK_AVAILABLE_IN_1_0
GCredentials           *qsock_local_get_peer_credentials     (QSockLocal             *self,
                                                              GError                **error);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_send_fds                 (QSockLocal             *self,
                                                              GUnixFDList            *fds,
                                                              const char             *data,
                                                              gsize                   size,
                                                              GError                **error);
QSOCK_AVAILABLE_IN_1_0
GUnixFDList            *qsock_local_take_received_fds        (QSockLocal             *self);

QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_connect_to_server_async  (QSockLocal             *self,
                                                              const char             *name,
                                                              QSockOpenMode           mode,
                                                              GCancellable           *cancellable,
                                                              GAsyncReadyCallback     callback,
                                                              gpointer                user_data);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_connect_to_server_finish (QSockLocal             *self,
                                                              GAsyncResult           *result,
                                                              GError                **error);
QSOCK_AVAILABLE_IN_1_0
void                    qsock_local_wait_for_disconnected_async  (QSockLocal          *self,
                                                                  GCancellable        *cancellable,
                                                                  GAsyncReadyCallback  callback,
                                                                  gpointer             user_data);
QSOCK_AVAILABLE_IN_1_0
gboolean                qsock_local_wait_for_disconnected_finish (QSockLocal          *self,
                                                                  GAsyncResult        *result,
                                                                  GError             **error);

G_END_DECLS
