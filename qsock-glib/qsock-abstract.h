/* qsock-abstract.h: Qt's QAbstractSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include "qsock-iodevice.h"

G_BEGIN_DECLS

#define QSOCK_TYPE_ABSTRACT (qsock_abstract_get_type ())

QSOCK_AVAILABLE_IN_1_0
G_DECLARE_DERIVABLE_TYPE (QSockAbstract, qsock_abstract, QSOCK, ABSTRACT, QSockIODevice)

/**
 * QSockAbstractClass:
 * @parent_class: the parent class
 * @host_found: class handler of #QSockAbstract::host-found
 * @connected: class handler of #QSockAbstract::connected
 * @disconnected: class handler of #QSockAbstract::disconnected
 * @state_changed: class handler of #QSockAbstract::state-changed
 * @error_occurred: class handler of #QSockAbstract::error-occurred
 *
 * The class of #QSockAbstract.
 *
 * Since: 1.0
 */
struct _QSockAbstractClass
{
  QSockIODeviceClass parent_class;

  void (*host_found)     (QSockAbstract   *self);
  void (*connected)      (QSockAbstract   *self);
  void (*disconnected)   (QSockAbstract   *self);
  void (*state_changed)  (QSockAbstract   *self,
                          QSockSocketState state);
  void (*error_occurred) (QSockAbstract   *self,
                          QSockSocketError error);

  /*< private >*/
  gpointer padding[8];
};

QSOCK_AVAILABLE_IN_1_0
QSockAbstract   *qsock_abstract_new                    (QSockSocketType           type);

QSOCK_AVAILABLE_IN_1_0
void             qsock_abstract_connect_to_host        (QSockAbstract            *self,
                                                        const char               *host_name,
                                                        guint16                   port,
                                                        QSockOpenMode             mode,
                                                        QSockNetworkLayerProtocol protocol);
QSOCK_AVAILABLE_IN_1_0
void             qsock_abstract_connect_to_address     (QSockAbstract            *self,
                                                        GInetAddress             *address,
                                                        guint16                   port,
                                                        QSockOpenMode             mode);
QSOCK_AVAILABLE_IN_1_0
void             qsock_abstract_disconnect_from_host   (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
void             qsock_abstract_abort                  (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_abstract_flush                  (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_abstract_bind                   (QSockAbstract            *self,
                                                        GInetAddress             *address,
                                                        guint16                   port,
                                                        QSockBindFlags            mode);

QSOCK_AVAILABLE_IN_1_0
QSockSocketType  qsock_abstract_get_socket_type        (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
QSockSocketState qsock_abstract_get_state              (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
QSockSocketError qsock_abstract_get_error              (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_abstract_is_valid               (QSockAbstract            *self);

QSOCK_AVAILABLE_IN_1_0
GInetAddress    *qsock_abstract_get_local_address      (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
guint16          qsock_abstract_get_local_port         (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
GInetAddress    *qsock_abstract_get_peer_address       (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
guint16          qsock_abstract_get_peer_port          (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
const char      *qsock_abstract_get_peer_name          (QSockAbstract            *self);

QSOCK_AVAILABLE_IN_1_0
gint64           qsock_abstract_get_read_buffer_size   (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
void             qsock_abstract_set_read_buffer_size   (QSockAbstract            *self,
                                                        gint64                    size);

QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_abstract_set_socket_descriptor  (QSockAbstract            *self,
                                                        int                       fd,
                                                        QSockSocketState          state,
                                                        QSockOpenMode             mode);
QSOCK_AVAILABLE_IN_1_0
int              qsock_abstract_get_socket_descriptor  (QSockAbstract            *self);

QSOCK_AVAILABLE_IN_1_0
void             qsock_abstract_set_socket_option      (QSockAbstract            *self,
                                                        QSockSocketOption         option,
                                                        int                       value);
QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_abstract_get_socket_option      (QSockAbstract            *self,
                                                        QSockSocketOption         option,
                                                        int                      *value);

QSOCK_AVAILABLE_IN_1_0
QSockPauseModes  qsock_abstract_get_pause_mode         (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
void             qsock_abstract_set_pause_mode         (QSockAbstract            *self,
                                                        QSockPauseModes           mode);
QSOCK_AVAILABLE_IN_1_0
void             qsock_abstract_resume                 (QSockAbstract            *self);

QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_abstract_wait_for_connected     (QSockAbstract            *self,
                                                        int                       msecs);
QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_abstract_wait_for_disconnected  (QSockAbstract            *self,
                                                        int                       msecs);

QSOCK_AVAILABLE_IN_1_2
gboolean         qsock_abstract_get_half_close             (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_2
void             qsock_abstract_set_half_close             (QSockAbstract            *self,
                                                            gboolean                  half_close);
QSOCK_AVAILABLE_IN_1_2
void             qsock_abstract_shutdown_write             (QSockAbstract            *self);
QSOCK_AVAILABLE_IN_1_0
void             qsock_abstract_connect_to_host_async      (QSockAbstract            *self,
                                                            const char               *host_name,
                                                            guint16                   port,
                                                            QSockOpenMode             mode,
                                                            QSockNetworkLayerProtocol protocol,
                                                            GCancellable             *cancellable,
                                                            GAsyncReadyCallback       callback,
                                                            gpointer                  user_data);
QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_abstract_connect_to_host_finish     (QSockAbstract            *self,
                                                            GAsyncResult             *result,
                                                            GError                  **error);
QSOCK_AVAILABLE_IN_1_0
void             qsock_abstract_wait_for_disconnected_async  (QSockAbstract          *self,
                                                              GCancellable           *cancellable,
                                                              GAsyncReadyCallback     callback,
                                                              gpointer                user_data);
QSOCK_AVAILABLE_IN_1_0
gboolean         qsock_abstract_wait_for_disconnected_finish (QSockAbstract          *self,
                                                              GAsyncResult           *result,
                                                              GError                **error);

G_END_DECLS
