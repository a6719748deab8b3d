/* qsock-datagram.c: Qt's QNetworkDatagram
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * QSockDatagram:
 *
 * A UDP datagram with its addressing, as Qt's `QNetworkDatagram`: the data,
 * the sender and destination addresses and ports, the hop limit (TTL) and
 * the interface it arrived on or should leave by.
 *
 * qsock_udp_receive_datagram() fills every field of what arrived;
 * qsock_udp_send_datagram() honours the destination, hop limit and
 * interface index (and the sender address as source, where the system
 * allows). Unset ports and hop limit are -1, an unset interface is 0 and
 * unset addresses are %NULL, as in Qt.
 *
 * Since: 1.0
 */
#include "config.h"

#include <string.h>

#include "qsock-datagram.h"

struct _QSockDatagram
{
  GObject       parent_instance;

  GBytes       *data;
  GInetAddress *sender_address;
  GInetAddress *destination_address;
  int           sender_port;
  int           destination_port;
  int           hop_limit;
  guint         interface_index;
};

G_DEFINE_FINAL_TYPE (QSockDatagram, qsock_datagram, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_DATA,
  PROP_SENDER_ADDRESS,
  PROP_SENDER_PORT,
  PROP_DESTINATION_ADDRESS,
  PROP_DESTINATION_PORT,
  PROP_HOP_LIMIT,
  PROP_INTERFACE_INDEX,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
qsock_datagram_finalize (GObject *object)
{
  QSockDatagram *self = QSOCK_DATAGRAM (object);

  g_clear_pointer (&self->data, g_bytes_unref);
  g_clear_object (&self->sender_address);
  g_clear_object (&self->destination_address);

  G_OBJECT_CLASS (qsock_datagram_parent_class)->finalize (object);
}

static void
qsock_datagram_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  QSockDatagram *self = QSOCK_DATAGRAM (object);

  switch (prop_id)
    {
    case PROP_DATA:
      g_value_set_boxed (value, self->data);
      break;
    case PROP_SENDER_ADDRESS:
      g_value_set_object (value, self->sender_address);
      break;
    case PROP_SENDER_PORT:
      g_value_set_int (value, self->sender_port);
      break;
    case PROP_DESTINATION_ADDRESS:
      g_value_set_object (value, self->destination_address);
      break;
    case PROP_DESTINATION_PORT:
      g_value_set_int (value, self->destination_port);
      break;
    case PROP_HOP_LIMIT:
      g_value_set_int (value, self->hop_limit);
      break;
    case PROP_INTERFACE_INDEX:
      g_value_set_uint (value, self->interface_index);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_datagram_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  QSockDatagram *self = QSOCK_DATAGRAM (object);

  switch (prop_id)
    {
    case PROP_DATA:
      qsock_datagram_set_data (self, g_value_get_boxed (value));
      break;
    case PROP_SENDER_ADDRESS:
      qsock_datagram_set_sender (self, g_value_get_object (value), self->sender_port);
      break;
    case PROP_SENDER_PORT:
      qsock_datagram_set_sender (self, self->sender_address, g_value_get_int (value));
      break;
    case PROP_DESTINATION_ADDRESS:
      qsock_datagram_set_destination (self, g_value_get_object (value), self->destination_port);
      break;
    case PROP_DESTINATION_PORT:
      qsock_datagram_set_destination (self, self->destination_address, g_value_get_int (value));
      break;
    case PROP_HOP_LIMIT:
      qsock_datagram_set_hop_limit (self, g_value_get_int (value));
      break;
    case PROP_INTERFACE_INDEX:
      qsock_datagram_set_interface_index (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_datagram_class_init (QSockDatagramClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = qsock_datagram_finalize;
  object_class->get_property = qsock_datagram_get_property;
  object_class->set_property = qsock_datagram_set_property;

  /**
   * QSockDatagram:data:
   *
   * The payload (never %NULL; may be empty).
   *
   * Since: 1.0
   */
  properties[PROP_DATA] = g_param_spec_boxed ("data", NULL, NULL, G_TYPE_BYTES, flags);

  /**
   * QSockDatagram:sender-address:
   *
   * Where the datagram came from, or the source address to send from.
   *
   * Since: 1.0
   */
  properties[PROP_SENDER_ADDRESS] =
    g_param_spec_object ("sender-address", NULL, NULL, G_TYPE_INET_ADDRESS, flags);

  /**
   * QSockDatagram:sender-port:
   *
   * The sender's port, or -1.
   *
   * Since: 1.0
   */
  properties[PROP_SENDER_PORT] =
    g_param_spec_int ("sender-port", NULL, NULL, -1, G_MAXUINT16, -1, flags);

  /**
   * QSockDatagram:destination-address:
   *
   * Where the datagram goes, or the local address it arrived at.
   *
   * Since: 1.0
   */
  properties[PROP_DESTINATION_ADDRESS] =
    g_param_spec_object ("destination-address", NULL, NULL, G_TYPE_INET_ADDRESS, flags);

  /**
   * QSockDatagram:destination-port:
   *
   * The destination port, or -1.
   *
   * Since: 1.0
   */
  properties[PROP_DESTINATION_PORT] =
    g_param_spec_int ("destination-port", NULL, NULL, -1, G_MAXUINT16, -1, flags);

  /**
   * QSockDatagram:hop-limit:
   *
   * The IPv4 TTL or IPv6 hop limit, or -1 for the system's default.
   *
   * Since: 1.0
   */
  properties[PROP_HOP_LIMIT] =
    g_param_spec_int ("hop-limit", NULL, NULL, -1, 255, -1, flags);

  /**
   * QSockDatagram:interface-index:
   *
   * The network interface it arrived on or should leave by; 0 for any.
   *
   * Since: 1.0
   */
  properties[PROP_INTERFACE_INDEX] =
    g_param_spec_uint ("interface-index", NULL, NULL, 0, G_MAXUINT, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
qsock_datagram_init (QSockDatagram *self)
{
  self->data = g_bytes_new (NULL, 0);
  self->sender_port = -1;
  self->destination_port = -1;
  self->hop_limit = -1;
}

/**
 * qsock_datagram_new:
 *
 * Makes an empty, null datagram.
 *
 * Returns: (transfer full): a new datagram
 *
 * Since: 1.0
 */
QSockDatagram *
qsock_datagram_new (void)
{
  return g_object_new (QSOCK_TYPE_DATAGRAM, NULL);
}

/**
 * qsock_datagram_new_with_data:
 * @data: (array length=size) (element-type guint8): the payload
 * @size: the payload's length
 * @destination: (nullable): where to send it
 * @port: the destination port, or -1
 *
 * Makes a datagram to send, as Qt's
 * `QNetworkDatagram(data, destinationAddress, port)`.
 *
 * Returns: (transfer full): a new datagram
 *
 * Since: 1.0
 */
QSockDatagram *
qsock_datagram_new_with_data (const char   *data,
                              gsize         size,
                              GInetAddress *destination,
                              int           port)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);

  return qsock_datagram_new_with_bytes (bytes, destination, port);
}

/**
 * qsock_datagram_new_with_bytes:
 * @data: the payload
 * @destination: (nullable): where to send it
 * @port: the destination port, or -1
 *
 * Makes a datagram to send from a #GBytes.
 *
 * Returns: (transfer full): a new datagram
 *
 * Since: 1.0
 */
QSockDatagram *
qsock_datagram_new_with_bytes (GBytes       *data,
                               GInetAddress *destination,
                               int           port)
{
  QSockDatagram *self = qsock_datagram_new ();

  g_return_val_if_fail (data != NULL, self);

  qsock_datagram_set_data (self, data);
  qsock_datagram_set_destination (self, destination, port);
  return self;
}

/**
 * qsock_datagram_get_data:
 * @self: a #QSockDatagram
 *
 * Gets the payload.
 *
 * Returns: (transfer full): the payload, possibly empty
 *
 * Since: 1.0
 */
GBytes *
qsock_datagram_get_data (QSockDatagram *self)
{
  g_return_val_if_fail (QSOCK_IS_DATAGRAM (self), NULL);

  return g_bytes_ref (self->data);
}

/**
 * qsock_datagram_set_data:
 * @self: a #QSockDatagram
 * @data: (nullable): the payload; %NULL for none
 *
 * Sets the payload.
 *
 * Since: 1.0
 */
void
qsock_datagram_set_data (QSockDatagram *self,
                         GBytes        *data)
{
  g_return_if_fail (QSOCK_IS_DATAGRAM (self));

  if (data == self->data)
    return;
  g_bytes_unref (self->data);
  self->data = data != NULL ? g_bytes_ref (data) : g_bytes_new (NULL, 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DATA]);
}

/**
 * qsock_datagram_get_sender_address:
 * @self: a #QSockDatagram
 *
 * Gets the sender's address.
 *
 * Returns: (transfer full) (nullable): the address, or %NULL
 *
 * Since: 1.0
 */
GInetAddress *
qsock_datagram_get_sender_address (QSockDatagram *self)
{
  g_return_val_if_fail (QSOCK_IS_DATAGRAM (self), NULL);

  return self->sender_address != NULL ? g_object_ref (self->sender_address) : NULL;
}

/**
 * qsock_datagram_get_sender_port:
 * @self: a #QSockDatagram
 *
 * Gets the sender's port.
 *
 * Returns: the port, or -1
 *
 * Since: 1.0
 */
int
qsock_datagram_get_sender_port (QSockDatagram *self)
{
  g_return_val_if_fail (QSOCK_IS_DATAGRAM (self), -1);

  /* As Qt: no address, no port. */
  return self->sender_address != NULL ? self->sender_port : -1;
}

static void
set_endpoint (QSockDatagram *self,
              GInetAddress **slot_address,
              int           *slot_port,
              GInetAddress  *address,
              int            port,
              guint          prop_address,
              guint          prop_port)
{
  if (*slot_address != address)
    {
      g_clear_object (slot_address);
      if (address != NULL)
        *slot_address = g_object_ref (address);
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop_address]);
    }
  if (*slot_port != port)
    {
      *slot_port = port;
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop_port]);
    }
}

/**
 * qsock_datagram_set_sender:
 * @self: a #QSockDatagram
 * @address: (nullable): the sender's address
 * @port: the sender's port, or -1
 *
 * Sets the sender, as Qt's `setSender()`. When sending, the address is used
 * as the source address where the system allows.
 *
 * Since: 1.0
 */
void
qsock_datagram_set_sender (QSockDatagram *self,
                           GInetAddress  *address,
                           int            port)
{
  g_return_if_fail (QSOCK_IS_DATAGRAM (self));
  g_return_if_fail (address == NULL || G_IS_INET_ADDRESS (address));

  set_endpoint (self, &self->sender_address, &self->sender_port, address, port,
                PROP_SENDER_ADDRESS, PROP_SENDER_PORT);
}

/**
 * qsock_datagram_get_destination_address:
 * @self: a #QSockDatagram
 *
 * Gets the destination address (for a received datagram, the local address
 * it was sent to).
 *
 * Returns: (transfer full) (nullable): the address, or %NULL
 *
 * Since: 1.0
 */
GInetAddress *
qsock_datagram_get_destination_address (QSockDatagram *self)
{
  g_return_val_if_fail (QSOCK_IS_DATAGRAM (self), NULL);

  return self->destination_address != NULL ? g_object_ref (self->destination_address) : NULL;
}

/**
 * qsock_datagram_get_destination_port:
 * @self: a #QSockDatagram
 *
 * Gets the destination port.
 *
 * Returns: the port, or -1
 *
 * Since: 1.0
 */
int
qsock_datagram_get_destination_port (QSockDatagram *self)
{
  g_return_val_if_fail (QSOCK_IS_DATAGRAM (self), -1);

  return self->destination_address != NULL ? self->destination_port : -1;
}

/**
 * qsock_datagram_set_destination:
 * @self: a #QSockDatagram
 * @address: (nullable): the destination address
 * @port: the destination port, or -1
 *
 * Sets where the datagram goes, as Qt's `setDestination()`.
 *
 * Since: 1.0
 */
void
qsock_datagram_set_destination (QSockDatagram *self,
                                GInetAddress  *address,
                                int            port)
{
  g_return_if_fail (QSOCK_IS_DATAGRAM (self));
  g_return_if_fail (address == NULL || G_IS_INET_ADDRESS (address));

  set_endpoint (self, &self->destination_address, &self->destination_port, address, port,
                PROP_DESTINATION_ADDRESS, PROP_DESTINATION_PORT);
}

/**
 * qsock_datagram_get_hop_limit:
 * @self: a #QSockDatagram
 *
 * Gets the hop limit (TTL).
 *
 * Returns: the hop limit, or -1
 *
 * Since: 1.0
 */
int
qsock_datagram_get_hop_limit (QSockDatagram *self)
{
  g_return_val_if_fail (QSOCK_IS_DATAGRAM (self), -1);

  return self->hop_limit;
}

/**
 * qsock_datagram_set_hop_limit:
 * @self: a #QSockDatagram
 * @count: the hop limit (1 to 255), or -1 for the default
 *
 * Sets the hop limit to send with.
 *
 * Since: 1.0
 */
void
qsock_datagram_set_hop_limit (QSockDatagram *self,
                              int            count)
{
  g_return_if_fail (QSOCK_IS_DATAGRAM (self));

  if (self->hop_limit == count)
    return;
  self->hop_limit = count;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOP_LIMIT]);
}

/**
 * qsock_datagram_get_interface_index:
 * @self: a #QSockDatagram
 *
 * Gets the interface index.
 *
 * Returns: the index, or 0
 *
 * Since: 1.0
 */
guint
qsock_datagram_get_interface_index (QSockDatagram *self)
{
  g_return_val_if_fail (QSOCK_IS_DATAGRAM (self), 0);

  return self->interface_index;
}

/**
 * qsock_datagram_set_interface_index:
 * @self: a #QSockDatagram
 * @index: the interface index, or 0 for any
 *
 * Sets the interface to send by.
 *
 * Since: 1.0
 */
void
qsock_datagram_set_interface_index (QSockDatagram *self,
                                    guint          index)
{
  g_return_if_fail (QSOCK_IS_DATAGRAM (self));

  if (self->interface_index == index)
    return;
  self->interface_index = index;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INTERFACE_INDEX]);
}

/**
 * qsock_datagram_is_valid:
 * @self: a #QSockDatagram
 *
 * Whether the datagram has a sender or a destination address, as Qt's
 * `isValid()`. A valid datagram may have an empty payload.
 *
 * Returns: %TRUE if valid
 *
 * Since: 1.0
 */
gboolean
qsock_datagram_is_valid (QSockDatagram *self)
{
  g_return_val_if_fail (QSOCK_IS_DATAGRAM (self), FALSE);

  return self->sender_address != NULL || self->destination_address != NULL;
}

/**
 * qsock_datagram_is_null:
 * @self: a #QSockDatagram
 *
 * The opposite of qsock_datagram_is_valid().
 *
 * Returns: %TRUE if null
 *
 * Since: 1.0
 */
gboolean
qsock_datagram_is_null (QSockDatagram *self)
{
  return !qsock_datagram_is_valid (self);
}

/**
 * qsock_datagram_clear:
 * @self: a #QSockDatagram
 *
 * Resets every field, as Qt's `clear()`.
 *
 * Since: 1.0
 */
void
qsock_datagram_clear (QSockDatagram *self)
{
  g_return_if_fail (QSOCK_IS_DATAGRAM (self));

  g_object_freeze_notify (G_OBJECT (self));
  qsock_datagram_set_data (self, NULL);
  qsock_datagram_set_sender (self, NULL, -1);
  qsock_datagram_set_destination (self, NULL, -1);
  qsock_datagram_set_hop_limit (self, -1);
  qsock_datagram_set_interface_index (self, 0);
  g_object_thaw_notify (G_OBJECT (self));
}

static gboolean
is_limited_broadcast (GInetAddress *address)
{
  static const guint8 all_ones[4] = { 255, 255, 255, 255 };

  return g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4 &&
         memcmp (g_inet_address_to_bytes (address), all_ones, 4) == 0;
}

/**
 * qsock_datagram_make_reply:
 * @self: a received #QSockDatagram
 * @data: the reply's payload
 *
 * Makes a reply, as Qt's `makeReply()`: its destination is this datagram's
 * sender and it leaves by the same interface. Unless this datagram was
 * sent to a multicast or broadcast address, the reply's source is the
 * address this one arrived at, so a multi-homed host answers from the
 * address it was asked on.
 *
 * Returns: (transfer full): the reply
 *
 * Since: 1.0
 */
QSockDatagram *
qsock_datagram_make_reply (QSockDatagram *self,
                           GBytes        *data)
{
  QSockDatagram *reply;
  GInetAddress *dest;

  g_return_val_if_fail (QSOCK_IS_DATAGRAM (self), NULL);
  g_return_val_if_fail (data != NULL, NULL);

  reply = qsock_datagram_new_with_bytes (data, self->sender_address, self->sender_port);
  reply->interface_index = self->interface_index;

  dest = self->destination_address;
  if (dest != NULL && !g_inet_address_get_is_multicast (dest) && !is_limited_broadcast (dest))
    qsock_datagram_set_sender (reply, dest, self->destination_port);

  return reply;
}
