/* qsock-host-address.c: Qt's QHostAddress::SpecialAddress as GInetAddress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "qsock-host-address.h"

/**
 * qsock_host_address_new_special:
 * @which: the special address
 *
 * Makes the #GInetAddress for one of Qt's special addresses.
 * %QSOCK_SPECIAL_ADDRESS_ANY is the IPv6 any address "::", which the
 * library binds dual stack (IPv4 too), as Qt's `QHostAddress::Any`.
 *
 * Returns: (transfer full) (nullable): the address; %NULL for
 *   %QSOCK_SPECIAL_ADDRESS_NULL
 *
 * Since: 1.0
 */
GInetAddress *
qsock_host_address_new_special (QSockSpecialAddress which)
{
  switch (which)
    {
    case QSOCK_SPECIAL_ADDRESS_BROADCAST:
      return g_inet_address_new_from_string ("255.255.255.255");
    case QSOCK_SPECIAL_ADDRESS_LOCAL_HOST:
      return g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    case QSOCK_SPECIAL_ADDRESS_LOCAL_HOST_IPV6:
      return g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
    case QSOCK_SPECIAL_ADDRESS_ANY:
    case QSOCK_SPECIAL_ADDRESS_ANY_IPV6:
      return g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
    case QSOCK_SPECIAL_ADDRESS_ANY_IPV4:
      return g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
    case QSOCK_SPECIAL_ADDRESS_NULL:
    default:
      return NULL;
    }
}
