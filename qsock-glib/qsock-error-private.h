/* qsock-error-private.h: the one mapping from errno/GIO to QSockSocketError
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include "qsock-types.h"

G_BEGIN_DECLS

/* What was being done when errno was set: Qt words the same errno
 * differently for bind, listen, connect, … (QT-BEHAVIOUR.md §7.1). */
typedef enum {
  QSOCK_OP_CREATE,
  QSOCK_OP_BIND,
  QSOCK_OP_LISTEN,
  QSOCK_OP_CONNECT,
  QSOCK_OP_ACCEPT,
  QSOCK_OP_READ,
  QSOCK_OP_WRITE,
  QSOCK_OP_SEND_DATAGRAM,
  QSOCK_OP_RECEIVE_DATAGRAM,
  QSOCK_OP_OPTION,
} QSockOperation;

/* Fixed messages, so that every class says the same thing the same way. */
typedef enum {
  QSOCK_MSG_UNKNOWN,
  QSOCK_MSG_NOT_CONNECTED,
  QSOCK_MSG_HOST_NOT_FOUND,
  QSOCK_MSG_CONNECTION_REFUSED,
  QSOCK_MSG_REMOTE_CLOSED,
  QSOCK_MSG_SOCKET_TIMEOUT,
  QSOCK_MSG_NETWORK_TIMEOUT,
  QSOCK_MSG_CONNECTION_TIMEOUT,
  QSOCK_MSG_CONNECT_IN_PROGRESS,
  QSOCK_MSG_INVALID_DESCRIPTOR,
  QSOCK_MSG_UNSUPPORTED,
  QSOCK_MSG_PROTOCOL_UNSUPPORTED,
  QSOCK_MSG_OUT_OF_RESOURCES,
  QSOCK_MSG_NO_DATAGRAM,
  QSOCK_MSG_NO_DESTINATION,
  QSOCK_MSG_INVALID_SIZE,
  QSOCK_MSG_WRITE_SHUT_DOWN,
} QSockMessage;

void             qsock_ensure_i18n      (void);
/* QLocalSocket's texts, after "<function>: " (QT-BEHAVIOUR.md §7.2). */
const char      *qsock_local_message    (QSockLocalSocketError code);
/* QLocalServer's texts (§7.3) for a failed listen/accept errno. */
QSockSocketError qsock_local_server_error_from_errno (int          errsv,
                                                      const char **message);
const char      *qsock_message          (QSockMessage    id);
QSockSocketError qsock_error_from_errno (int             errsv,
                                         QSockOperation  op,
                                         const char    **message);

G_END_DECLS
