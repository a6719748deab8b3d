/* qsock-abstract-private.h: what the library's own classes use of QSockAbstract
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gunixfdlist.h>

#include "qsock-abstract.h"

G_BEGIN_DECLS

void qsock_abstract_set_socket_type_internal (QSockAbstract   *self,
                                              QSockSocketType  type);

/* The one place errors are recorded: sets the code and the translated
 * text, and with _emit also emits error-occurred. */
void qsock_abstract_set_error                (QSockAbstract   *self,
                                              QSockSocketError code,
                                              const char      *message);
void qsock_abstract_set_error_and_emit       (QSockAbstract   *self,
                                              QSockSocketError code,
                                              const char      *message);

/* UDP: a datagram was read; look for the next one (and emit ready-read). */
void qsock_abstract_datagram_consumed        (QSockAbstract   *self);

/* Unix sockets: read with recvmsg() and keep descriptors passed with
 * SCM_RIGHTS until taken. */
void         qsock_abstract_set_collect_fds      (QSockAbstract *self,
                                                  gboolean       collect);
GUnixFDList *qsock_abstract_take_received_fds    (QSockAbstract *self);

G_END_DECLS
