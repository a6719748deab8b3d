/* qsock-local-private.h: naming shared by QSockLocal and QSockLocalServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <sys/socket.h>
#include <sys/un.h>

G_BEGIN_DECLS

/* Qt's fullServerName: absolute names and abstract names as they are,
 * others in the temporary directory. */
char     *qsock_local_full_name (const char         *name,
                                 gboolean            abstract);
/* The sockaddr for @full_name; 0 if the name is too long. */
socklen_t qsock_local_sockaddr  (const char         *full_name,
                                 gboolean            abstract,
                                 struct sockaddr_un *addr);

/* A server hands its own names to the sockets it accepts: getsockname()
 * on them may show where the socket was bound before it was linked into
 * place. */
struct _QSockLocal;
void      qsock_local_set_names_internal (struct _QSockLocal *self,
                                          const char         *name,
                                          const char         *full_name);

G_END_DECLS
