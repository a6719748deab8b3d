/* qsock-error.h: the QSOCK_SOCKET_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include <glib.h>
#include "qsock-version.h"

G_BEGIN_DECLS

/**
 * QSOCK_SOCKET_ERROR:
 *
 * The #GError domain of qsock-glib. Its codes are #QSockSocketError values.
 *
 * Since: 1.0
 */
#define QSOCK_SOCKET_ERROR (qsock_socket_error_quark ())

QSOCK_AVAILABLE_IN_1_0
GQuark qsock_socket_error_quark (void);

G_END_DECLS
