/* qsock-socket-private.h: descriptor and address helpers shared by sockets and servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* A new non-blocking, close-on-exec socket of @family (IPv6 sockets are
 * dual stack, as GLib makes them). Returns the descriptor, or -1 with
 * errno set. */
int       qsock_socket_create      (GSocketFamily family,
                                    int           type);
/* Checks that @fd is an open socket and makes it non-blocking and
 * close-on-exec. Returns FALSE with errno set otherwise. */
gboolean  qsock_socket_adopt       (int            fd,
                                    GSocketFamily *family,
                                    int           *type);
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
