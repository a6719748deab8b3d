/* qsock-socket-private.h: small GSocket helpers shared by sockets and servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Wraps @fd if it is an open socket; NULL (and no warning) otherwise. On
 * success the GSocket owns @fd. */
GSocket *qsock_socket_new_from_fd (int fd);

G_END_DECLS
