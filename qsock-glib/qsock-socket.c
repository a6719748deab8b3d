/* qsock-socket.c: small GSocket helpers shared by sockets and servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <fcntl.h>
#include <sys/socket.h>

#include "qsock-socket-private.h"

GSocket *
qsock_socket_new_from_fd (int fd)
{
  int type;
  socklen_t len = sizeof type;

  /* g_socket_new_from_fd() warns on a bad descriptor; Qt reports an error
   * instead, so check first. */
  if (fd < 0 || fcntl (fd, F_GETFD) < 0)
    return NULL;
  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return NULL;

  return g_socket_new_from_fd (fd, NULL);
}
