/* qsock-udp.c: Qt's QUdpSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * QSockUdp:
 *
 * A UDP socket, as Qt's `QUdpSocket`.
 *
 * Bind with qsock_abstract_bind() (the device stays closed, as in Qt: use
 * the datagram calls), then read datagrams when #QSockIODevice::ready-read
 * is emitted. As in Qt, ready-read is emitted once and not again until a
 * datagram has been read, so read every pending datagram in the handler:
 *
 * |[<!-- language="C" -->
 * static void
 * on_ready_read (QSockUdp *udp, gpointer user_data)
 * {
 *   while (qsock_udp_has_pending_datagrams (udp))
 *     {
 *       g_autoptr(QSockDatagram) d = qsock_udp_receive_datagram (udp, -1);
 *       // …
 *     }
 * }
 * ]|
 *
 * qsock_udp_write_datagram() sends one datagram at once, binding the socket
 * first if needed, and emits #QSockIODevice::bytes-written inside the call.
 * After qsock_abstract_connect_to_host() the plain qsock_iodevice_read()
 * and qsock_iodevice_write() calls work on whole datagrams from and to the
 * connected peer.
 *
 * Reading into a caller's buffer allocates nothing per datagram.
 *
 * Since: 1.0
 */
#include "config.h"

#include "qsock-async-private.h"

#include <errno.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "qsock-udp.h"
#include "qsock-abstract-private.h"
#include "qsock-iodevice-private.h"
#include "qsock-error.h"
#include "qsock-error-private.h"
#include "qsock-socket-private.h"

struct _QSockUdp
{
  QSockAbstract parent_instance;
  guint         multicast_interface;
};

G_DEFINE_FINAL_TYPE (QSockUdp, qsock_udp, QSOCK_TYPE_ABSTRACT)

enum {
  PROP_0,
  PROP_MULTICAST_INTERFACE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Room for IP_PKTINFO/IPV6_PKTINFO and the hop limit. */
#define CONTROL_SIZE 256

static void
qsock_udp_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_MULTICAST_INTERFACE:
      g_value_set_uint (value, qsock_udp_get_multicast_interface (QSOCK_UDP (object)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_udp_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_MULTICAST_INTERFACE:
      qsock_udp_set_multicast_interface (QSOCK_UDP (object), g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_udp_class_init (QSockUdpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = qsock_udp_get_property;
  object_class->set_property = qsock_udp_set_property;

  /**
   * QSockUdp:multicast-interface:
   *
   * The index of the interface outgoing multicast datagrams leave by; 0
   * when none was set (the system chooses).
   *
   * Since: 1.0
   */
  properties[PROP_MULTICAST_INTERFACE] =
    g_param_spec_uint ("multicast-interface", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
qsock_udp_init (QSockUdp *self)
{
  qsock_abstract_set_socket_type_internal (QSOCK_ABSTRACT (self), QSOCK_SOCKET_TYPE_UDP);
}

/**
 * qsock_udp_new:
 *
 * Makes an unbound UDP socket, bound to the thread-default main context,
 * as Qt's `QUdpSocket` constructor.
 *
 * Returns: (transfer full): a new socket
 *
 * Since: 1.0
 */
QSockUdp *
qsock_udp_new (void)
{
  return g_object_new (QSOCK_TYPE_UDP, NULL);
}

/* Qt's QT_CHECK_BOUND: the datagram calls need a bound or connected socket. */
static gboolean
check_bound (QSockUdp   *self,
             const char *function)
{
  QSockSocketState state = qsock_abstract_get_state (QSOCK_ABSTRACT (self));

  if (qsock_abstract_get_socket_descriptor (QSOCK_ABSTRACT (self)) >= 0 &&
      (state == QSOCK_SOCKET_STATE_BOUND || state == QSOCK_SOCKET_STATE_CONNECTED))
    return TRUE;

  g_warning ("QUdpSocket::%s() called on a QUdpSocket when not in QUdpSocket::BoundState", function);
  return FALSE;
}

static int
fd_of (QSockUdp *self)
{
  return qsock_abstract_get_socket_descriptor (QSOCK_ABSTRACT (self));
}

static GSocketFamily
family_of (QSockUdp *self)
{
  g_autoptr(GInetAddress) local = qsock_abstract_get_local_address (QSOCK_ABSTRACT (self));

  return local != NULL ? g_inet_address_get_family (local) : G_SOCKET_FAMILY_INVALID;
}

static void
emit_errno (QSockUdp      *self,
            int            errsv,
            QSockOperation op)
{
  const char *message;
  QSockSocketError code = qsock_error_from_errno (errsv, op, &message);

  qsock_abstract_set_error_and_emit (QSOCK_ABSTRACT (self), code, message);
}

/**
 * qsock_udp_has_pending_datagrams:
 * @self: a #QSockUdp
 *
 * Whether at least one datagram (perhaps an empty one) waits, as Qt's
 * `hasPendingDatagrams()`.
 *
 * Returns: %TRUE if a datagram can be read
 *
 * Since: 1.0
 */
gboolean
qsock_udp_has_pending_datagrams (QSockUdp *self)
{
  char c;
  gssize n;

  g_return_val_if_fail (QSOCK_IS_UDP (self), FALSE);

  if (!check_bound (self, "hasPendingDatagrams"))
    return FALSE;

  do
    n = recv (fd_of (self), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);

  /* As Qt: a datagram (too big for the byte counts too); a pending error
   * such as an ICMP refusal is not a datagram. */
  if (n >= 0 || errno == EMSGSIZE)
    return TRUE;

  /* Nothing to read: the next datagram must get its ready-read even though
   * none was read (Qt would wait for a read, and a handler that loops on
   * this call alone would never hear from the socket again). */
  qsock_abstract_datagram_consumed (QSOCK_ABSTRACT (self));
  return FALSE;
}

/**
 * qsock_udp_pending_datagram_size:
 * @self: a #QSockUdp
 *
 * The size of the next datagram, as Qt's `pendingDatagramSize()`; the
 * exact size whatever it is.
 *
 * Returns: the size in bytes (0 for an empty datagram), or -1 if none is
 *   pending
 *
 * Since: 1.0
 */
gint64
qsock_udp_pending_datagram_size (QSockUdp *self)
{
  gssize n;

  g_return_val_if_fail (QSOCK_IS_UDP (self), -1);

  if (!check_bound (self, "pendingDatagramSize"))
    return -1;

  do
    n = recv (fd_of (self), NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);

  return n >= 0 ? n : -1;
}

/* The bytes to allocate for the next datagram when the caller takes at most
 * @max_size (-1: all of it): never more than the datagram holds, however
 * large @max_size is (2^40 must not reach g_malloc()). Only this object
 * reads its descriptor, so the datagram measured is the one received. The
 * measuring recv() takes a pending socket error (an ICMP refusal) with it:
 * that is then reported here, as the read itself would have. Returns -1
 * after emitting it. */
static gint64
room_for_next (QSockUdp *self,
               gint64    max_size)
{
  gssize pending;

  do
    pending = recv (fd_of (self), NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
  while (pending < 0 && errno == EINTR);

  if (pending < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    {
      qsock_abstract_datagram_consumed (QSOCK_ABSTRACT (self));
      emit_errno (self, errno, QSOCK_OP_RECEIVE_DATAGRAM);
      return -1;
    }
  if (pending < 0)
    return MAX (max_size, 0) > 0 ? 1 : 0;
  if (max_size < 0)
    return pending;
  return MIN (max_size, (gint64) pending);
}

/* Reads one datagram into @data (truncating), with the sender and, when
 * @datagram is given, the control data. Returns the bytes stored or -1
 * (the error emitted). */
static gssize
receive_one (QSockUdp      *self,
             char          *data,
             gsize          max_size,
             GInetAddress **address,
             guint16       *port,
             QSockDatagram *datagram)
{
  struct sockaddr_storage from;
  union { char buf[CONTROL_SIZE]; struct cmsghdr align; } control;
  struct iovec iov = { data, max_size };
  struct msghdr msg = { 0 };
  gssize n;

  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (datagram != NULL)
    {
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;
    }

  do
    n = recvmsg (fd_of (self), &msg, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);

  /* Whatever happened, look for the next datagram (and ready-read). */
  qsock_abstract_datagram_consumed (QSOCK_ABSTRACT (self));

  if (n < 0)
    {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        qsock_abstract_set_error_and_emit (QSOCK_ABSTRACT (self), QSOCK_SOCKET_ERROR_TEMPORARY,
                                           qsock_message (QSOCK_MSG_NO_DATAGRAM));
      else
        emit_errno (self, errno, QSOCK_OP_RECEIVE_DATAGRAM);
      return -1;
    }

  if (address != NULL || datagram != NULL)
    {
      guint16 from_port = 0;
      g_autoptr(GInetAddress) sender = qsock_inet_from_sockaddr ((struct sockaddr *) &from, msg.msg_namelen,
                                                                 &from_port);

      if (datagram != NULL)
        qsock_datagram_set_sender (datagram, sender, sender != NULL ? from_port : -1);
      if (address != NULL)
        *address = g_steal_pointer (&sender);
    }
  if (port != NULL)
    *port = qsock_sockaddr_get_port ((struct sockaddr *) &from, msg.msg_namelen);

  if (datagram != NULL)
    {
      gboolean v6_socket = family_of (self) == G_SOCKET_FAMILY_IPV6;

      for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
        {
          g_autoptr(GInetAddress) dest = NULL;

          /* A dual-stack socket gets both forms for IPv4 traffic; the IPv6
           * one (a v4-mapped address) matches how it reports the sender. */
          if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && !v6_socket)
            {
              struct in_pktinfo info;

              memcpy (&info, CMSG_DATA (c), sizeof info);
              dest = g_inet_address_new_from_bytes ((const guint8 *) &info.ipi_addr, G_SOCKET_FAMILY_IPV4);
              qsock_datagram_set_interface_index (datagram, info.ipi_ifindex);
            }
          else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
            {
              struct in6_pktinfo info;

              memcpy (&info, CMSG_DATA (c), sizeof info);
              dest = g_inet_address_new_from_bytes ((const guint8 *) &info.ipi6_addr, G_SOCKET_FAMILY_IPV6);
              qsock_datagram_set_interface_index (datagram, info.ipi6_ifindex);
            }
          else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
                   (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
            {
              int hops;

              memcpy (&hops, CMSG_DATA (c), sizeof hops);
              qsock_datagram_set_hop_limit (datagram, hops);
            }

          if (dest != NULL)
            qsock_datagram_set_destination (datagram, dest,
                                            qsock_abstract_get_local_port (QSOCK_ABSTRACT (self)));
        }
    }

  return MIN ((gsize) n, max_size);
}

/**
 * qsock_udp_read_datagram: (skip)
 * @self: a #QSockUdp
 * @data: (out caller-allocates) (array length=max_size) (element-type guint8):
 *   where to store the datagram
 * @max_size: the size of @data
 * @address: (out) (optional) (nullable) (transfer full): the sender's address
 * @port: (out) (optional): the sender's port
 *
 * Reads one datagram, as Qt's `readDatagram()`. If it is longer than
 * @max_size the rest is lost; a @max_size of 0 discards it. Allocates
 * nothing unless @address is asked for.
 *
 * Returns: the number of bytes stored, or -1 (with
 *   %QSOCK_SOCKET_ERROR_TEMPORARY when no datagram is pending)
 *
 * Since: 1.0
 */
gint64
qsock_udp_read_datagram (QSockUdp      *self,
                         char          *data,
                         gint64         max_size,
                         GInetAddress **address,
                         guint16       *port)
{
  g_return_val_if_fail (QSOCK_IS_UDP (self), -1);
  g_return_val_if_fail (max_size >= 0, -1);
  g_return_val_if_fail (data != NULL || max_size == 0, -1);

  if (address != NULL)
    *address = NULL;
  if (port != NULL)
    *port = 0;
  if (!check_bound (self, "readDatagram"))
    return -1;

  return receive_one (self, data, (gsize) max_size, address, port, NULL);
}

/**
 * qsock_udp_read_datagram_bytes: (rename-to qsock_udp_read_datagram)
 * @self: a #QSockUdp
 * @max_size: at most this many bytes; -1 for the whole datagram
 * @address: (out) (optional) (nullable) (transfer full): the sender's address
 * @port: (out) (optional): the sender's port
 *
 * Reads one datagram, as qsock_udp_read_datagram().
 *
 * Returns: (transfer full) (nullable): the datagram's data, or %NULL on
 *   error
 *
 * Since: 1.0
 */
GBytes *
qsock_udp_read_datagram_bytes (QSockUdp      *self,
                               gint64         max_size,
                               GInetAddress **address,
                               guint16       *port)
{
  char *data;
  gssize n;

  g_return_val_if_fail (QSOCK_IS_UDP (self), NULL);

  if (address != NULL)
    *address = NULL;
  if (port != NULL)
    *port = 0;
  if (!check_bound (self, "readDatagram"))
    return NULL;

  max_size = room_for_next (self, max_size);
  if (max_size < 0)
    return NULL;
  data = g_malloc (MAX (max_size, 1));
  n = receive_one (self, data, (gsize) max_size, address, port, NULL);
  if (n < 0)
    {
      g_free (data);
      return NULL;
    }
  return g_bytes_new_take (data, n);
}

/**
 * qsock_udp_receive_datagram:
 * @self: a #QSockUdp
 * @max_size: at most this many bytes; -1 for the whole datagram
 *
 * Reads one datagram with its sender, destination (the local address and
 * port it arrived at), hop limit and interface, as Qt's
 * `receiveDatagram()`.
 *
 * Returns: (transfer full): the datagram; a null one (see
 *   qsock_datagram_is_null()) when none was pending or on error
 *
 * Since: 1.0
 */
QSockDatagram *
qsock_udp_receive_datagram (QSockUdp *self,
                            gint64    max_size)
{
  g_autoptr(QSockDatagram) datagram = NULL;
  g_autoptr(GBytes) bytes = NULL;
  char *data;
  gssize n;

  g_return_val_if_fail (QSOCK_IS_UDP (self), NULL);

  datagram = qsock_datagram_new ();
  if (!check_bound (self, "receiveDatagram"))
    return g_steal_pointer (&datagram);

  if (max_size < 0 && qsock_udp_pending_datagram_size (self) < 0)
    return g_steal_pointer (&datagram);

  max_size = room_for_next (self, max_size);
  if (max_size < 0)
    return g_steal_pointer (&datagram);
  data = g_malloc (MAX (max_size, 1));
  n = receive_one (self, data, (gsize) max_size, NULL, NULL, datagram);
  if (n < 0)
    {
      g_free (data);
      qsock_datagram_clear (datagram);
      return g_steal_pointer (&datagram);
    }

  bytes = g_bytes_new_take (data, n);
  qsock_datagram_set_data (datagram, bytes);
  return g_steal_pointer (&datagram);
}

/* Binds on first send, as Qt's writeDatagram() does. */
static gboolean
ensure_bound (QSockUdp *self)
{
  QSockSocketState state = qsock_abstract_get_state (QSOCK_ABSTRACT (self));

  if (state == QSOCK_SOCKET_STATE_BOUND || state == QSOCK_SOCKET_STATE_CONNECTED)
    return TRUE;
  if (state != QSOCK_SOCKET_STATE_UNCONNECTED)
    return FALSE;
  return qsock_abstract_bind (QSOCK_ABSTRACT (self), NULL, 0, QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM);
}

static gboolean
is_v4_mapped_sockaddr (const struct sockaddr_storage *ss)
{
  const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;

  return ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED (&sin6->sin6_addr);
}

/* Sends one datagram; the control data carries the hop limit, interface
 * and source address of @datagram when given. */
static gint64
send_one (QSockUdp      *self,
          const char    *data,
          gsize          size,
          GInetAddress  *address,
          guint16        port,
          QSockDatagram *datagram)
{
  struct sockaddr_storage to;
  union { char buf[CONTROL_SIZE]; struct cmsghdr align; } control;
  struct iovec iov = { (void *) data, size };
  struct msghdr msg = { 0 };
  g_autoptr(QSockHold) keep = NULL;
  GSocketFamily family;
  gssize n;

  /* Binding on first send emits state-changed inside the call, and so may
   * a failed send: a handler may drop the caller's last reference. */
  keep = qsock_iodevice_hold (self);
  if (!ensure_bound (self))
    return -1;
  if (fd_of (self) < 0)
    return -1;

  family = family_of (self);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (address != NULL)
    {
      msg.msg_name = &to;
      msg.msg_namelen = qsock_sockaddr_from_inet (address, port, family, &to);
      if (msg.msg_namelen == 0)
        {
          /* An IPv6 destination from an IPv4 socket. */
          emit_errno (self, EAFNOSUPPORT, QSOCK_OP_SEND_DATAGRAM);
          return -1;
        }
    }

  if (datagram != NULL)
    {
      int hops = qsock_datagram_get_hop_limit (datagram);
      guint ifindex = qsock_datagram_get_interface_index (datagram);
      g_autoptr(GInetAddress) source = qsock_datagram_get_sender_address (datagram);
      /* The kernel takes the packet info in the socket's family (IPv4
       * traffic on a dual-stack socket as v4-mapped), but the hop limit in
       * the family the packet goes out in. */
      gboolean v6 = family == G_SOCKET_FAMILY_IPV6;
      gboolean v4_packet = !v6 || (msg.msg_name != NULL && is_v4_mapped_sockaddr (&to));
      struct cmsghdr *c;
      gsize used = 0;

      memset (&control, 0, sizeof control);
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;
      c = CMSG_FIRSTHDR (&msg);

      if (hops >= 0)
        {
          c->cmsg_level = v4_packet ? IPPROTO_IP : IPPROTO_IPV6;
          c->cmsg_type = v4_packet ? IP_TTL : IPV6_HOPLIMIT;
          c->cmsg_len = CMSG_LEN (sizeof (int));
          memcpy (CMSG_DATA (c), &hops, sizeof hops);
          used += CMSG_SPACE (sizeof (int));
          c = CMSG_NXTHDR (&msg, c);
        }
      if (ifindex != 0 || (source != NULL && !g_inet_address_get_is_any (source)))
        {
          if (v6)
            {
              struct in6_pktinfo info = { 0 };

              info.ipi6_ifindex = ifindex;
              if (source != NULL && g_inet_address_get_family (source) == G_SOCKET_FAMILY_IPV6)
                memcpy (&info.ipi6_addr, g_inet_address_to_bytes (source), 16);
              else if (v4_packet)
                {
                  /* IPv4 traffic needs a v4-mapped source (::ffff:0.0.0.0 for any). */
                  info.ipi6_addr.s6_addr[10] = 0xff;
                  info.ipi6_addr.s6_addr[11] = 0xff;
                  if (source != NULL)
                    memcpy (&info.ipi6_addr.s6_addr[12], g_inet_address_to_bytes (source), 4);
                }
              c->cmsg_level = IPPROTO_IPV6;
              c->cmsg_type = IPV6_PKTINFO;
              c->cmsg_len = CMSG_LEN (sizeof info);
              memcpy (CMSG_DATA (c), &info, sizeof info);
              used += CMSG_SPACE (sizeof info);
            }
          else
            {
              struct in_pktinfo info = { 0 };

              info.ipi_ifindex = ifindex;
              if (source != NULL && g_inet_address_get_family (source) == G_SOCKET_FAMILY_IPV4)
                memcpy (&info.ipi_spec_dst, g_inet_address_to_bytes (source), 4);
              c->cmsg_level = IPPROTO_IP;
              c->cmsg_type = IP_PKTINFO;
              c->cmsg_len = CMSG_LEN (sizeof info);
              memcpy (CMSG_DATA (c), &info, sizeof info);
              used += CMSG_SPACE (sizeof info);
            }
        }
      msg.msg_controllen = used;
      if (used == 0)
        msg.msg_control = NULL;
    }

  do
    n = sendmsg (fd_of (self), &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      emit_errno (self, errno, QSOCK_OP_SEND_DATAGRAM);
      return -1;
    }

  qsock_iodevice_emit_bytes_written (QSOCK_IODEVICE (self), n);
  return n;
}

/**
 * qsock_udp_write_datagram:
 * @self: a #QSockUdp
 * @data: (array length=size) (element-type guint8): the datagram
 * @size: its length; 0 sends an empty datagram
 * @address: the destination
 * @port: the destination port
 *
 * Sends one datagram now, as Qt's `writeDatagram()`. An unbound socket is
 * bound first (to any address, port 0; #QSockAbstract::state-changed is
 * emitted). #QSockIODevice::bytes-written is emitted inside the call.
 *
 * Returns: the bytes sent, or -1 with #QSockAbstract::error-occurred (for
 *   example %QSOCK_SOCKET_ERROR_DATAGRAM_TOO_LARGE; nothing was sent)
 *
 * Since: 1.0
 */
gint64
qsock_udp_write_datagram (QSockUdp     *self,
                          const char   *data,
                          gint64        size,
                          GInetAddress *address,
                          guint16       port)
{
  g_return_val_if_fail (QSOCK_IS_UDP (self), -1);
  g_return_val_if_fail (G_IS_INET_ADDRESS (address), -1);
  g_return_val_if_fail (size >= 0 && (data != NULL || size == 0), -1);

  return send_one (self, data, (gsize) size, address, port, NULL);
}

/**
 * qsock_udp_write_datagram_bytes:
 * @self: a #QSockUdp
 * @data: the datagram
 * @address: the destination
 * @port: the destination port
 *
 * Sends @data as one datagram, as qsock_udp_write_datagram().
 *
 * Returns: the bytes sent, or -1
 *
 * Since: 1.0
 */
gint64
qsock_udp_write_datagram_bytes (QSockUdp     *self,
                                GBytes       *data,
                                GInetAddress *address,
                                guint16       port)
{
  gsize size;
  const char *bytes;

  g_return_val_if_fail (QSOCK_IS_UDP (self), -1);
  g_return_val_if_fail (data != NULL, -1);

  bytes = g_bytes_get_data (data, &size);
  return qsock_udp_write_datagram (self, bytes, (gint64) size, address, port);
}

/**
 * qsock_udp_send_datagram:
 * @self: a #QSockUdp
 * @datagram: the datagram
 *
 * Sends @datagram to its destination, as Qt's
 * `writeDatagram(const QNetworkDatagram &)`: its hop limit, interface
 * index and sender address (as the source) are honoured. Without a
 * destination a connected socket sends to its peer.
 *
 * Returns: the bytes sent, or -1
 *
 * Since: 1.0
 */
gint64
qsock_udp_send_datagram (QSockUdp      *self,
                         QSockDatagram *datagram)
{
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GInetAddress) destination = NULL;
  gsize size;
  const char *bytes;
  int port;

  g_return_val_if_fail (QSOCK_IS_UDP (self), -1);
  g_return_val_if_fail (QSOCK_IS_DATAGRAM (datagram), -1);

  data = qsock_datagram_get_data (datagram);
  bytes = g_bytes_get_data (data, &size);
  destination = qsock_datagram_get_destination_address (datagram);
  port = qsock_datagram_get_destination_port (datagram);

  if (destination == NULL && qsock_abstract_get_state (QSOCK_ABSTRACT (self)) != QSOCK_SOCKET_STATE_CONNECTED)
    {
      qsock_abstract_set_error_and_emit (QSOCK_ABSTRACT (self), QSOCK_SOCKET_ERROR_SOCKET_ADDRESS_NOT_AVAILABLE,
                                         qsock_message (QSOCK_MSG_NO_DESTINATION));
      return -1;
    }

  return send_one (self, bytes, size, destination, port < 0 ? 0 : (guint16) port, datagram);
}

/* IP_ADD_MEMBERSHIP and friends. Qt neither sets the error nor emits it
 * when these fail; the reason goes to the debug log. */
static gboolean
change_membership (QSockUdp     *self,
                   GInetAddress *group,
                   guint         ifindex,
                   gboolean      join,
                   const char   *function)
{
  int fd;
  int r;

  if (!check_bound (self, function))
    return FALSE;

  fd = fd_of (self);
  if (g_inet_address_get_family (group) == G_SOCKET_FAMILY_IPV4)
    {
      struct ip_mreqn mreq = { 0 };

      if (family_of (self) != G_SOCKET_FAMILY_IPV4)
        {
          g_warning ("QAbstractSocket: cannot bind to QHostAddress::Any (or an IPv6 address) and join an IPv4 multicast group;"
                     " bind to QHostAddress::AnyIPv4 instead if you want to do this");
          return FALSE;
        }
      memcpy (&mreq.imr_multiaddr, g_inet_address_to_bytes (group), 4);
      mreq.imr_ifindex = ifindex;
      r = setsockopt (fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mreq, sizeof mreq);
    }
  else
    {
      struct ipv6_mreq mreq = { 0 };

      memcpy (&mreq.ipv6mr_multiaddr, g_inet_address_to_bytes (group), 16);
      mreq.ipv6mr_interface = ifindex;
      r = setsockopt (fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &mreq, sizeof mreq);
    }

  if (r != 0)
    {
      g_debug ("QUdpSocket::%s: %s", function, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
interface_index_from_name (const char *name,
                           guint      *index)
{
  *index = 0;
  if (name == NULL)
    return TRUE;
  *index = if_nametoindex (name);
  return *index != 0;
}

/**
 * qsock_udp_join_multicast_group:
 * @self: a bound #QSockUdp
 * @group: the multicast group
 * @interface_name: (nullable): the interface to join on ("lo", "eth0");
 *   %NULL lets the system choose
 *
 * Joins a multicast group, as Qt's `joinMulticastGroup()`. An IPv4 group
 * needs a socket bound to an IPv4 address (for example
 * %QSOCK_SPECIAL_ADDRESS_ANY_IPV4). As in Qt, failure does not set the
 * socket's error.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
qsock_udp_join_multicast_group (QSockUdp     *self,
                                GInetAddress *group,
                                const char   *interface_name)
{
  guint index;

  g_return_val_if_fail (QSOCK_IS_UDP (self), FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (group), FALSE);

  if (!interface_index_from_name (interface_name, &index))
    return FALSE;
  return change_membership (self, group, index, TRUE, "joinMulticastGroup");
}

/**
 * qsock_udp_join_multicast_group_on_index:
 * @self: a bound #QSockUdp
 * @group: the multicast group
 * @interface_index: the interface's index; 0 lets the system choose
 *
 * Joins a multicast group on an interface given by index.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
qsock_udp_join_multicast_group_on_index (QSockUdp     *self,
                                         GInetAddress *group,
                                         guint         interface_index)
{
  g_return_val_if_fail (QSOCK_IS_UDP (self), FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (group), FALSE);

  return change_membership (self, group, interface_index, TRUE, "joinMulticastGroup");
}

/**
 * qsock_udp_leave_multicast_group:
 * @self: a bound #QSockUdp
 * @group: the multicast group
 * @interface_name: (nullable): the interface it was joined on, or %NULL
 *
 * Leaves a multicast group, as Qt's `leaveMulticastGroup()`.
 *
 * Returns: %TRUE on success; %FALSE for a group not joined
 *
 * Since: 1.0
 */
gboolean
qsock_udp_leave_multicast_group (QSockUdp     *self,
                                 GInetAddress *group,
                                 const char   *interface_name)
{
  guint index;

  g_return_val_if_fail (QSOCK_IS_UDP (self), FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (group), FALSE);

  if (!interface_index_from_name (interface_name, &index))
    return FALSE;
  return change_membership (self, group, index, FALSE, "leaveMulticastGroup");
}

/**
 * qsock_udp_leave_multicast_group_on_index:
 * @self: a bound #QSockUdp
 * @group: the multicast group
 * @interface_index: the interface's index, or 0
 *
 * Leaves a multicast group joined on an interface given by index.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
qsock_udp_leave_multicast_group_on_index (QSockUdp     *self,
                                          GInetAddress *group,
                                          guint         interface_index)
{
  g_return_val_if_fail (QSOCK_IS_UDP (self), FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (group), FALSE);

  return change_membership (self, group, interface_index, FALSE, "leaveMulticastGroup");
}

/**
 * qsock_udp_get_multicast_interface:
 * @self: a #QSockUdp
 *
 * Gets #QSockUdp:multicast-interface.
 *
 * Returns: the interface index, or 0 if none was set
 *
 * Since: 1.0
 */
guint
qsock_udp_get_multicast_interface (QSockUdp *self)
{
  g_return_val_if_fail (QSOCK_IS_UDP (self), 0);

  return self->multicast_interface;
}

/**
 * qsock_udp_set_multicast_interface:
 * @self: a bound #QSockUdp
 * @interface_index: the interface's index (see if_nametoindex())
 *
 * Sets the interface outgoing multicast datagrams leave by, as Qt's
 * `setMulticastInterface()` (IP_MULTICAST_IF / IPV6_MULTICAST_IF).
 *
 * Since: 1.0
 */
void
qsock_udp_set_multicast_interface (QSockUdp *self,
                                   guint     interface_index)
{
  int r;

  g_return_if_fail (QSOCK_IS_UDP (self));

  if (!check_bound (self, "setMulticastInterface"))
    return;

  if (family_of (self) == G_SOCKET_FAMILY_IPV6)
    {
      int index = (int) interface_index;
      r = setsockopt (fd_of (self), IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index);
    }
  else
    {
      struct ip_mreqn mreq = { 0 };
      mreq.imr_ifindex = interface_index;
      r = setsockopt (fd_of (self), IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
    }

  if (r != 0)
    {
      g_debug ("QUdpSocket::setMulticastInterface: %s", g_strerror (errno));
      return;
    }
  if (self->multicast_interface == interface_index)
    return;
  self->multicast_interface = interface_index;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MULTICAST_INTERFACE]);
}

static const char * const receive_signals[] = { "ready-read", "state-changed", NULL };

static gboolean
receive_step (gpointer self,
              GTask   *task)
{
  QSockSocketState state = qsock_abstract_get_state (self);

  if (state != QSOCK_SOCKET_STATE_BOUND && state != QSOCK_SOCKET_STATE_CONNECTED)
    {
      qsock_async_return_new_error (task, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_OPERATION, qsock_message (QSOCK_MSG_NOT_CONNECTED));
      return TRUE;
    }
  if (!qsock_udp_has_pending_datagrams (self))
    return FALSE;
  qsock_async_return_pointer (task, qsock_udp_receive_datagram (self, -1), g_object_unref);
  return TRUE;
}

/**
 * qsock_udp_receive_datagram_async:
 * @self: a bound or connected #QSockUdp
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the next datagram
 * @user_data: (closure): data for @callback
 *
 * Receives the next datagram, waiting for one if none is pending, as
 * qsock_udp_receive_datagram() with a whole-datagram size. Fails if the
 * socket is not bound or stops being so. Cancelling receives nothing.
 *
 * Since: 1.0
 */
void
qsock_udp_receive_datagram_async (QSockUdp            *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (QSOCK_IS_UDP (self));

  qsock_async_start (self, "qsock_udp_receive_async", cancellable, callback, user_data,
                     qsock_udp_receive_datagram_async, NULL, NULL, NULL, receive_step, NULL,
                     receive_signals);
}

/**
 * qsock_udp_receive_datagram_finish:
 * @self: a #QSockUdp
 * @result: the result
 * @error: return location for a #GError
 *
 * Finishes qsock_udp_receive_datagram_async().
 *
 * Returns: (transfer full): the datagram, or %NULL with @error set
 *
 * Since: 1.0
 */
QSockDatagram *
qsock_udp_receive_datagram_finish (QSockUdp      *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
