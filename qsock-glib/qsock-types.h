/* qsock-types.h: enumerations with Qt 6's numeric values
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * QSockSocketError:
 * @QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET: an unidentified error occurred
 * @QSOCK_SOCKET_ERROR_CONNECTION_REFUSED: the peer refused the connection or it timed out
 * @QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED: the remote host closed the connection
 * @QSOCK_SOCKET_ERROR_HOST_NOT_FOUND: the host address was not found
 * @QSOCK_SOCKET_ERROR_SOCKET_ACCESS: the operation lacked the required privileges
 * @QSOCK_SOCKET_ERROR_SOCKET_RESOURCE: the system ran out of resources such as descriptors
 * @QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT: the operation timed out
 * @QSOCK_SOCKET_ERROR_DATAGRAM_TOO_LARGE: the datagram was larger than the system's limit
 * @QSOCK_SOCKET_ERROR_NETWORK: an error occurred with the network
 * @QSOCK_SOCKET_ERROR_ADDRESS_IN_USE: the address given to bind() is already in exclusive use
 * @QSOCK_SOCKET_ERROR_SOCKET_ADDRESS_NOT_AVAILABLE: the address does not belong to this host
 * @QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION: the operation is not supported here
 * @QSOCK_SOCKET_ERROR_UNFINISHED_SOCKET_OPERATION: the last operation has not finished yet
 * @QSOCK_SOCKET_ERROR_PROXY_AUTHENTICATION_REQUIRED: the proxy requires authentication
 * @QSOCK_SOCKET_ERROR_SSL_HANDSHAKE_FAILED: the TLS handshake failed
 * @QSOCK_SOCKET_ERROR_PROXY_CONNECTION_REFUSED: the proxy refused the connection
 * @QSOCK_SOCKET_ERROR_PROXY_CONNECTION_CLOSED: the proxy closed the connection unexpectedly
 * @QSOCK_SOCKET_ERROR_PROXY_CONNECTION_TIMEOUT: the connection to the proxy timed out
 * @QSOCK_SOCKET_ERROR_PROXY_NOT_FOUND: the proxy address was not found
 * @QSOCK_SOCKET_ERROR_PROXY_PROTOCOL: the proxy's response could not be understood
 * @QSOCK_SOCKET_ERROR_OPERATION: the operation is not allowed in the socket's current state
 * @QSOCK_SOCKET_ERROR_SSL_INTERNAL: the TLS library reported an internal error
 * @QSOCK_SOCKET_ERROR_SSL_INVALID_USER_DATA: invalid data was given to the TLS library
 * @QSOCK_SOCKET_ERROR_TEMPORARY: a temporary error occurred; try again later
 *
 * What went wrong with a socket: the values of Qt's
 * `QAbstractSocket::SocketError`, with the same numbers. It is also the
 * #GError domain %QSOCK_SOCKET_ERROR.
 *
 * Since: 1.0
 */
typedef enum /*< underscore_name=qsock_socket_error >*/ {
  QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET = -1,
  QSOCK_SOCKET_ERROR_CONNECTION_REFUSED = 0,
  QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED = 1,
  QSOCK_SOCKET_ERROR_HOST_NOT_FOUND = 2,
  QSOCK_SOCKET_ERROR_SOCKET_ACCESS = 3,
  QSOCK_SOCKET_ERROR_SOCKET_RESOURCE = 4,
  QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT = 5,
  QSOCK_SOCKET_ERROR_DATAGRAM_TOO_LARGE = 6,
  QSOCK_SOCKET_ERROR_NETWORK = 7,
  QSOCK_SOCKET_ERROR_ADDRESS_IN_USE = 8,
  QSOCK_SOCKET_ERROR_SOCKET_ADDRESS_NOT_AVAILABLE = 9,
  QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION = 10,
  QSOCK_SOCKET_ERROR_UNFINISHED_SOCKET_OPERATION = 11,
  QSOCK_SOCKET_ERROR_PROXY_AUTHENTICATION_REQUIRED = 12,
  QSOCK_SOCKET_ERROR_SSL_HANDSHAKE_FAILED = 13,
  QSOCK_SOCKET_ERROR_PROXY_CONNECTION_REFUSED = 14,
  QSOCK_SOCKET_ERROR_PROXY_CONNECTION_CLOSED = 15,
  QSOCK_SOCKET_ERROR_PROXY_CONNECTION_TIMEOUT = 16,
  QSOCK_SOCKET_ERROR_PROXY_NOT_FOUND = 17,
  QSOCK_SOCKET_ERROR_PROXY_PROTOCOL = 18,
  QSOCK_SOCKET_ERROR_OPERATION = 19,
  QSOCK_SOCKET_ERROR_SSL_INTERNAL = 20,
  QSOCK_SOCKET_ERROR_SSL_INVALID_USER_DATA = 21,
  QSOCK_SOCKET_ERROR_TEMPORARY = 22,
} QSockSocketError;

/**
 * QSockSocketState:
 * @QSOCK_SOCKET_STATE_UNCONNECTED: not connected
 * @QSOCK_SOCKET_STATE_HOST_LOOKUP: looking up the host name
 * @QSOCK_SOCKET_STATE_CONNECTING: establishing a connection
 * @QSOCK_SOCKET_STATE_CONNECTED: connected
 * @QSOCK_SOCKET_STATE_BOUND: bound to an address and port
 * @QSOCK_SOCKET_STATE_LISTENING: listening ; internal use
 * @QSOCK_SOCKET_STATE_CLOSING: about to close; queued data is still being written
 *
 * The states of a socket, numbered as Qt's `QAbstractSocket::SocketState`.
 *
 * Since: 1.0
 */
typedef enum /*< underscore_name=qsock_socket_state >*/ {
  QSOCK_SOCKET_STATE_UNCONNECTED = 0,
  QSOCK_SOCKET_STATE_HOST_LOOKUP = 1,
  QSOCK_SOCKET_STATE_CONNECTING = 2,
  QSOCK_SOCKET_STATE_CONNECTED = 3,
  QSOCK_SOCKET_STATE_BOUND = 4,
  QSOCK_SOCKET_STATE_LISTENING = 5,
  QSOCK_SOCKET_STATE_CLOSING = 6,
} QSockSocketState;

/**
 * QSockSocketType:
 * @QSOCK_SOCKET_TYPE_TCP: a TCP stream socket
 * @QSOCK_SOCKET_TYPE_UDP: a UDP datagram socket
 * @QSOCK_SOCKET_TYPE_SCTP: an SCTP socket; not supported
 * @QSOCK_SOCKET_TYPE_UNKNOWN: anything else
 *
 * The transport of a #QSockAbstract, numbered as Qt's
 * `QAbstractSocket::SocketType`.
 *
 * Since: 1.0
 */
typedef enum /*< underscore_name=qsock_socket_type >*/ {
  QSOCK_SOCKET_TYPE_UNKNOWN = -1,
  QSOCK_SOCKET_TYPE_TCP = 0,
  QSOCK_SOCKET_TYPE_UDP = 1,
  QSOCK_SOCKET_TYPE_SCTP = 2,
} QSockSocketType;

/**
 * QSockNetworkLayerProtocol:
 * @QSOCK_NETWORK_LAYER_PROTOCOL_IPV4: IPv4
 * @QSOCK_NETWORK_LAYER_PROTOCOL_IPV6: IPv6
 * @QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP: either IPv4 or IPv6
 * @QSOCK_NETWORK_LAYER_PROTOCOL_UNKNOWN: none of the above
 *
 * Network layer protocols, numbered as Qt's
 * `QAbstractSocket::NetworkLayerProtocol`.
 *
 * Since: 1.0
 */
typedef enum /*< underscore_name=qsock_network_layer_protocol >*/ {
  QSOCK_NETWORK_LAYER_PROTOCOL_UNKNOWN = -1,
  QSOCK_NETWORK_LAYER_PROTOCOL_IPV4 = 0,
  QSOCK_NETWORK_LAYER_PROTOCOL_IPV6 = 1,
  QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP = 2,
} QSockNetworkLayerProtocol;

/**
 * QSockSocketOption:
 * @QSOCK_SOCKET_OPTION_LOW_DELAY: TCP_NODELAY ; 1 disables Nagle's algorithm
 * @QSOCK_SOCKET_OPTION_KEEP_ALIVE: SO_KEEPALIVE
 * @QSOCK_SOCKET_OPTION_MULTICAST_TTL: IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS
 * @QSOCK_SOCKET_OPTION_MULTICAST_LOOPBACK: IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP
 * @QSOCK_SOCKET_OPTION_TYPE_OF_SERVICE: IP_TOS
 * @QSOCK_SOCKET_OPTION_SEND_BUFFER_SIZE: SO_SNDBUF
 * @QSOCK_SOCKET_OPTION_RECEIVE_BUFFER_SIZE: SO_RCVBUF
 * @QSOCK_SOCKET_OPTION_PATH_MTU: IP_MTU; read only
 *
 * Socket options, numbered as Qt's `QAbstractSocket::SocketOption`.
 *
 * Since: 1.0
 */
typedef enum /*< underscore_name=qsock_socket_option >*/ {
  QSOCK_SOCKET_OPTION_LOW_DELAY = 0,
  QSOCK_SOCKET_OPTION_KEEP_ALIVE = 1,
  QSOCK_SOCKET_OPTION_MULTICAST_TTL = 2,
  QSOCK_SOCKET_OPTION_MULTICAST_LOOPBACK = 3,
  QSOCK_SOCKET_OPTION_TYPE_OF_SERVICE = 4,
  QSOCK_SOCKET_OPTION_SEND_BUFFER_SIZE = 5,
  QSOCK_SOCKET_OPTION_RECEIVE_BUFFER_SIZE = 6,
  QSOCK_SOCKET_OPTION_PATH_MTU = 7,
} QSockSocketOption;

/**
 * QSockBindFlags:
 * @QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM: the platform's default (no option set)
 * @QSOCK_BIND_FLAGS_SHARE_ADDRESS: allow other sockets to bind the same address and port with SO_REUSEADDR
 * @QSOCK_BIND_FLAGS_DONT_SHARE_ADDRESS: bind exclusively
 * @QSOCK_BIND_FLAGS_REUSE_ADDRESS_HINT: rebind even if the address is still in use with SO_REUSEADDR
 *
 * How qsock_abstract_bind() binds, as Qt's `QAbstractSocket::BindFlag`.
 *
 * Since: 1.0
 */
typedef enum /*< flags, underscore_name=qsock_bind_flags >*/ {
  QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM = 0,
  QSOCK_BIND_FLAGS_SHARE_ADDRESS = 1 << 0,
  QSOCK_BIND_FLAGS_DONT_SHARE_ADDRESS = 1 << 1,
  QSOCK_BIND_FLAGS_REUSE_ADDRESS_HINT = 1 << 2,
} QSockBindFlags;

/**
 * QSockPauseModes:
 * @QSOCK_PAUSE_MODES_NEVER: never pause data transfer
 * @QSOCK_PAUSE_MODES_ON_SSL_ERRORS: pause on TLS errors, until qsock_abstract_resume()
 *
 * When a socket pauses data transfer, as Qt's `QAbstractSocket::PauseMode`.
 *
 * Since: 1.0
 */
typedef enum /*< flags, underscore_name=qsock_pause_modes >*/ {
  QSOCK_PAUSE_MODES_NEVER = 0,
  QSOCK_PAUSE_MODES_ON_SSL_ERRORS = 1 << 0,
} QSockPauseModes;

/**
 * QSockOpenMode:
 * @QSOCK_OPEN_MODE_NOT_OPEN: the device is not open
 * @QSOCK_OPEN_MODE_READ_ONLY: open for reading
 * @QSOCK_OPEN_MODE_WRITE_ONLY: open for writing
 * @QSOCK_OPEN_MODE_READ_WRITE: open for reading and writing
 * @QSOCK_OPEN_MODE_APPEND: not used by sockets
 * @QSOCK_OPEN_MODE_TRUNCATE: not used by sockets
 * @QSOCK_OPEN_MODE_TEXT: text mode: reading drops '\r', so "\r\n" reads as "\n"
 * @QSOCK_OPEN_MODE_UNBUFFERED: accepted; not used by sockets
 * @QSOCK_OPEN_MODE_NEW_ONLY: not used by sockets
 * @QSOCK_OPEN_MODE_EXISTING_ONLY: not used by sockets
 *
 * How a device is opened, as Qt's `QIODeviceBase::OpenModeFlag`.
 *
 * Since: 1.0
 */
typedef enum /*< flags, underscore_name=qsock_open_mode >*/ {
  QSOCK_OPEN_MODE_NOT_OPEN = 0,
  QSOCK_OPEN_MODE_READ_ONLY = 1 << 0,
  QSOCK_OPEN_MODE_WRITE_ONLY = 1 << 1,
  QSOCK_OPEN_MODE_READ_WRITE = 0x3,
  QSOCK_OPEN_MODE_APPEND = 1 << 2,
  QSOCK_OPEN_MODE_TRUNCATE = 1 << 3,
  QSOCK_OPEN_MODE_TEXT = 1 << 4,
  QSOCK_OPEN_MODE_UNBUFFERED = 1 << 5,
  QSOCK_OPEN_MODE_NEW_ONLY = 1 << 6,
  QSOCK_OPEN_MODE_EXISTING_ONLY = 1 << 7,
} QSockOpenMode;

/**
 * QSockLocalSocketError:
 * @QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET: an unidentified error occurred
 * @QSOCK_LOCAL_SOCKET_ERROR_CONNECTION_REFUSED: the server refused the connection
 * @QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED: the peer closed the connection
 * @QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND: no server has that name
 * @QSOCK_LOCAL_SOCKET_ERROR_SOCKET_ACCESS: permission denied
 * @QSOCK_LOCAL_SOCKET_ERROR_SOCKET_RESOURCE: out of resources
 * @QSOCK_LOCAL_SOCKET_ERROR_SOCKET_TIMEOUT: the operation timed out
 * @QSOCK_LOCAL_SOCKET_ERROR_DATAGRAM_TOO_LARGE: the message was too large
 * @QSOCK_LOCAL_SOCKET_ERROR_CONNECTION: an error occurred with the connection
 * @QSOCK_LOCAL_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION: the operation is not supported
 * @QSOCK_LOCAL_SOCKET_ERROR_OPERATION: the operation is not allowed in this state
 *
 * Errors of local (Unix domain) sockets, numbered as Qt's
 * `QLocalSocket::LocalSocketError`.
 *
 * Since: 1.0
 */
typedef enum /*< underscore_name=qsock_local_socket_error >*/ {
  QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET = -1,
  QSOCK_LOCAL_SOCKET_ERROR_CONNECTION_REFUSED = 0,
  QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED = 1,
  QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND = 2,
  QSOCK_LOCAL_SOCKET_ERROR_SOCKET_ACCESS = 3,
  QSOCK_LOCAL_SOCKET_ERROR_SOCKET_RESOURCE = 4,
  QSOCK_LOCAL_SOCKET_ERROR_SOCKET_TIMEOUT = 5,
  QSOCK_LOCAL_SOCKET_ERROR_DATAGRAM_TOO_LARGE = 6,
  QSOCK_LOCAL_SOCKET_ERROR_CONNECTION = 7,
  QSOCK_LOCAL_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION = 10,
  QSOCK_LOCAL_SOCKET_ERROR_OPERATION = 19,
} QSockLocalSocketError;

/**
 * QSockLocalSocketState:
 * @QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED: not connected
 * @QSOCK_LOCAL_SOCKET_STATE_CONNECTING: connecting
 * @QSOCK_LOCAL_SOCKET_STATE_CONNECTED: connected
 * @QSOCK_LOCAL_SOCKET_STATE_CLOSING: about to close
 *
 * States of a local socket, numbered as Qt's
 * `QLocalSocket::LocalSocketState`.
 *
 * Since: 1.0
 */
typedef enum /*< underscore_name=qsock_local_socket_state >*/ {
  QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED = 0,
  QSOCK_LOCAL_SOCKET_STATE_CONNECTING = 2,
  QSOCK_LOCAL_SOCKET_STATE_CONNECTED = 3,
  QSOCK_LOCAL_SOCKET_STATE_CLOSING = 6,
} QSockLocalSocketState;

/**
 * QSockLocalSocketOptions:
 * @QSOCK_LOCAL_SOCKET_OPTIONS_NONE: no options
 * @QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE: connect in Linux's abstract namespace
 *
 * Options of a local socket, as Qt's `QLocalSocket::SocketOption`.
 *
 * Since: 1.0
 */
typedef enum /*< flags, underscore_name=qsock_local_socket_options >*/ {
  QSOCK_LOCAL_SOCKET_OPTIONS_NONE = 0,
  QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE = 1 << 0,
} QSockLocalSocketOptions;

/**
 * QSockLocalServerOptions:
 * @QSOCK_LOCAL_SERVER_OPTIONS_NONE: no options ; the umask decides the mode
 * @QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS: only the owner may connect
 * @QSOCK_LOCAL_SERVER_OPTIONS_GROUP_ACCESS: the group may connect
 * @QSOCK_LOCAL_SERVER_OPTIONS_OTHER_ACCESS: others may connect
 * @QSOCK_LOCAL_SERVER_OPTIONS_WORLD_ACCESS: anyone may connect
 * @QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE: listen in Linux's abstract namespace
 *
 * Options of a local server, as Qt's `QLocalServer::SocketOption`.
 *
 * Since: 1.0
 */
typedef enum /*< flags, underscore_name=qsock_local_server_options >*/ {
  QSOCK_LOCAL_SERVER_OPTIONS_NONE = 0,
  QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS = 1 << 0,
  QSOCK_LOCAL_SERVER_OPTIONS_GROUP_ACCESS = 1 << 1,
  QSOCK_LOCAL_SERVER_OPTIONS_OTHER_ACCESS = 1 << 2,
  QSOCK_LOCAL_SERVER_OPTIONS_WORLD_ACCESS = 0x7,
  QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE = 1 << 3,
} QSockLocalServerOptions;

/**
 * QSockSpecialAddress:
 * @QSOCK_SPECIAL_ADDRESS_NULL: no address; qsock_host_address_new_special() returns %NULL
 * @QSOCK_SPECIAL_ADDRESS_BROADCAST: 255.255.255.255
 * @QSOCK_SPECIAL_ADDRESS_LOCAL_HOST: 127.0.0.1
 * @QSOCK_SPECIAL_ADDRESS_LOCAL_HOST_IPV6: ::1
 * @QSOCK_SPECIAL_ADDRESS_ANY: any address, IPv4 and IPv6 (dual stack); shown as ::
 * @QSOCK_SPECIAL_ADDRESS_ANY_IPV6: ::
 * @QSOCK_SPECIAL_ADDRESS_ANY_IPV4: 0.0.0.0
 *
 * Well-known addresses, numbered as Qt's `QHostAddress::SpecialAddress`.
 *
 * Since: 1.0
 */
typedef enum /*< underscore_name=qsock_special_address >*/ {
  QSOCK_SPECIAL_ADDRESS_NULL = 0,
  QSOCK_SPECIAL_ADDRESS_BROADCAST = 1,
  QSOCK_SPECIAL_ADDRESS_LOCAL_HOST = 2,
  QSOCK_SPECIAL_ADDRESS_LOCAL_HOST_IPV6 = 3,
  QSOCK_SPECIAL_ADDRESS_ANY = 4,
  QSOCK_SPECIAL_ADDRESS_ANY_IPV6 = 5,
  QSOCK_SPECIAL_ADDRESS_ANY_IPV4 = 6,
} QSockSpecialAddress;

G_END_DECLS
