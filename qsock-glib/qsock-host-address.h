/* qsock-host-address.h: Qt's special host addresses as GInetAddress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include "qsock-version.h"
#include "qsock-types.h"

G_BEGIN_DECLS

QSOCK_AVAILABLE_IN_1_0
GInetAddress *qsock_host_address_new_special (QSockSpecialAddress which);

G_END_DECLS
