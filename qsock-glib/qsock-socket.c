/* qsock-socket.c: descriptor and address helpers shared by sockets and servers
 *
 * The sockets own plain descriptors: creating a GSocket per connection
 * cost several system calls and a few hundred bytes for nothing the
 * library used.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "qsock-socket-private.h"

int
qsock_socket_create (GSocketFamily family,
                     int           type)
{
  int fd = socket (family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int off = 0;

  if (fd >= 0 && family == G_SOCKET_FAMILY_IPV6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  return fd;
}

gboolean
qsock_socket_adopt (int            fd,
                    GSocketFamily *family,
                    int           *type)
{
  struct sockaddr_storage storage;
  socklen_t len = sizeof storage;
  socklen_t type_len = sizeof *type;
  int flags;

  if (fd < 0)
    {
      errno = EBADF;
      return FALSE;
    }
  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, type, &type_len) != 0 ||
      getsockname (fd, (struct sockaddr *) &storage, &len) != 0)
    return FALSE;

  *family = (GSocketFamily) storage.ss_family;
  flags = fcntl (fd, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK))
    fcntl (fd, F_SETFL, flags | O_NONBLOCK);
  fcntl (fd, F_SETFD, FD_CLOEXEC);
  return TRUE;
}

static gboolean
is_ipv4_mapped (GInetAddress *address)
{
  static const guint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  return memcmp (g_inet_address_to_bytes (address), prefix, sizeof prefix) == 0;
}

socklen_t
qsock_sockaddr_from_inet (GInetAddress            *address,
                          guint16                  port,
                          GSocketFamily            socket_family,
                          struct sockaddr_storage *out)
{
  GSocketFamily family = g_inet_address_get_family (address);

  memset (out, 0, sizeof *out);
  if (family == G_SOCKET_FAMILY_IPV4 && socket_family == G_SOCKET_FAMILY_IPV6)
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) out;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = g_htons (port);
      sin6->sin6_addr.s6_addr[10] = 0xff;
      sin6->sin6_addr.s6_addr[11] = 0xff;
      memcpy (&sin6->sin6_addr.s6_addr[12], g_inet_address_to_bytes (address), 4);
      return sizeof *sin6;
    }
  if (family == G_SOCKET_FAMILY_IPV6 && socket_family == G_SOCKET_FAMILY_IPV4 &&
      is_ipv4_mapped (address))
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) out;

      /* A v4-mapped address (what a dual-stack socket reports for IPv4
       * peers) reaches an IPv4 socket as plain IPv4. */
      sin->sin_family = AF_INET;
      sin->sin_port = g_htons (port);
      memcpy (&sin->sin_addr, g_inet_address_to_bytes (address) + 12, 4);
      return sizeof *sin;
    }
  if (family != socket_family)
    return 0;

  if (family == G_SOCKET_FAMILY_IPV4)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) out;

      sin->sin_family = AF_INET;
      sin->sin_port = g_htons (port);
      memcpy (&sin->sin_addr, g_inet_address_to_bytes (address), 4);
      return sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) out;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = g_htons (port);
      memcpy (&sin6->sin6_addr, g_inet_address_to_bytes (address), 16);
      return sizeof *sin6;
    }
}

GInetAddress *
qsock_inet_from_sockaddr (const struct sockaddr *sa,
                          socklen_t              len,
                          guint16               *port)
{
  if (sa->sa_family == AF_INET && len >= sizeof (struct sockaddr_in))
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) sa;

      if (port != NULL)
        *port = g_ntohs (sin->sin_port);
      return g_inet_address_new_from_bytes ((const guint8 *) &sin->sin_addr, G_SOCKET_FAMILY_IPV4);
    }
  if (sa->sa_family == AF_INET6 && len >= sizeof (struct sockaddr_in6))
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) sa;

      if (port != NULL)
        *port = g_ntohs (sin6->sin6_port);
      return g_inet_address_new_from_bytes ((const guint8 *) &sin6->sin6_addr, G_SOCKET_FAMILY_IPV6);
    }
  if (port != NULL)
    *port = 0;
  return NULL;
}

guint16
qsock_sockaddr_get_port (const struct sockaddr *sa,
                         socklen_t              len)
{
  if (sa->sa_family == AF_INET && len >= sizeof (struct sockaddr_in))
    return g_ntohs (((const struct sockaddr_in *) sa)->sin_port);
  if (sa->sa_family == AF_INET6 && len >= sizeof (struct sockaddr_in6))
    return g_ntohs (((const struct sockaddr_in6 *) sa)->sin6_port);
  return 0;
}
