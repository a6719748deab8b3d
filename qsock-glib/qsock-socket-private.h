/* qsock-socket-private.h: small GSocket helpers shared by sockets and servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* Wraps @fd if it is an open socket; NULL (and no warning) otherwise. On
 * success the GSocket owns @fd. */
GSocket *qsock_socket_new_from_fd (int fd);
/* The port of a native AF_INET/AF_INET6 sockaddr, without allocating. */
guint16       qsock_sockaddr_get_port  (const struct sockaddr   *sa,
                                        socklen_t                len);

G_END_DECLS

G_BEGIN_DECLS

/* @address:@port as a native sockaddr for a socket of @socket_family: an
 * IPv4 address becomes v4-mapped for an IPv6 (dual-stack) socket. Returns
 * the length, 0 if the families cannot meet. */
socklen_t     qsock_sockaddr_from_inet (GInetAddress            *address,
                                        guint16                  port,
                                        GSocketFamily            socket_family,
                                        struct sockaddr_storage *out);
/* The address of a native AF_INET/AF_INET6 sockaddr (NULL for others). */
GInetAddress *qsock_inet_from_sockaddr (const struct sockaddr   *sa,
                                        socklen_t                len,
                                        guint16                 *port);
/* The port of a native AF_INET/AF_INET6 sockaddr, without allocating. */
guint16       qsock_sockaddr_get_port  (const struct sockaddr   *sa,
                                        socklen_t                len);

G_END_DECLS
