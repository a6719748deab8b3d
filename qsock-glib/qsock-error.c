/* qsock-error.c: the error domain and the one errno → QSockSocketError map
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every failure in the library goes through qsock_error_from_errno(),
 * which gives Qt's code and Qt's English text
 * (QT-BEHAVIOUR.md §7.1), translated through the qsock-glib-1.0 domain.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "qsock-error.h"
#include "qsock-error-private.h"

/**
 * qsock_socket_error_quark:
 *
 * The quark of the %QSOCK_SOCKET_ERROR domain.
 *
 * Returns: the error domain's quark
 *
 * Since: 1.0
 */
G_DEFINE_QUARK (qsock-socket-error-quark, qsock_socket_error)

void
qsock_ensure_i18n (void)
{
#ifdef ENABLE_NLS
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      bindtextdomain (GETTEXT_PACKAGE, QSOCK_LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&initialised, 1);
    }
#endif
}

const char *
qsock_message (QSockMessage id)
{
  qsock_ensure_i18n ();

  switch (id)
    {
    case QSOCK_MSG_NOT_CONNECTED:
      return _("Socket is not connected");
    case QSOCK_MSG_HOST_NOT_FOUND:
      return _("Host not found");
    case QSOCK_MSG_CONNECTION_REFUSED:
      return _("Connection refused");
    case QSOCK_MSG_REMOTE_CLOSED:
      return _("The remote host closed the connection");
    case QSOCK_MSG_SOCKET_TIMEOUT:
      return _("Socket operation timed out");
    case QSOCK_MSG_NETWORK_TIMEOUT:
      return _("Network operation timed out");
    case QSOCK_MSG_CONNECTION_TIMEOUT:
      return _("Connection timed out");
    case QSOCK_MSG_CONNECT_IN_PROGRESS:
      return _("Trying to connect while connection is in progress");
    case QSOCK_MSG_INVALID_DESCRIPTOR:
      return _("Invalid socket descriptor");
    case QSOCK_MSG_UNSUPPORTED:
      return _("Operation on socket is not supported");
    case QSOCK_MSG_PROTOCOL_UNSUPPORTED:
      return _("Protocol type not supported");
    case QSOCK_MSG_OUT_OF_RESOURCES:
      return _("Out of resources");
    case QSOCK_MSG_NO_DATAGRAM:
      return _("No datagram available for reading");
    case QSOCK_MSG_NO_DESTINATION:
      return _("The datagram has no destination and the socket is not connected");
    case QSOCK_MSG_INVALID_SIZE:
      return _("The requested size is not valid");
    case QSOCK_MSG_WRITE_SHUT_DOWN:
      return _("The socket's sending side is shut down");
    case QSOCK_MSG_UNKNOWN:
    default:
      return _("Unknown error");
    }
}

const char *
qsock_local_message (QSockLocalSocketError code)
{
  qsock_ensure_i18n ();

  switch (code)
    {
    case QSOCK_LOCAL_SOCKET_ERROR_CONNECTION_REFUSED:
      return _("Connection refused");
    case QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED:
      return _("Remote closed");
    case QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND:
      return _("Invalid name");
    case QSOCK_LOCAL_SOCKET_ERROR_SOCKET_ACCESS:
      return _("Socket access error");
    case QSOCK_LOCAL_SOCKET_ERROR_SOCKET_RESOURCE:
      return _("Socket resource error");
    case QSOCK_LOCAL_SOCKET_ERROR_SOCKET_TIMEOUT:
      return _("Socket operation timed out");
    case QSOCK_LOCAL_SOCKET_ERROR_DATAGRAM_TOO_LARGE:
      return _("Datagram too large");
    case QSOCK_LOCAL_SOCKET_ERROR_CONNECTION:
      return _("Connection error");
    case QSOCK_LOCAL_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION:
      return _("The socket operation is not supported");
    case QSOCK_LOCAL_SOCKET_ERROR_OPERATION:
      return _("Operation not permitted when socket is in this state");
    case QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET:
    default:
      return _("Unknown error");
    }
}

#define RETURN_ERROR(code, text) \
  G_STMT_START { *message = (text); return (code); } G_STMT_END

QSockSocketError
qsock_error_from_errno (int             errsv,
                        QSockOperation  op,
                        const char    **message)
{
  qsock_ensure_i18n ();

  switch (errsv)
    {
    case EADDRINUSE:
      if (op == QSOCK_OP_LISTEN)
        RETURN_ERROR (QSOCK_SOCKET_ERROR_ADDRESS_IN_USE,
                      _("Another socket is already listening on the same port"));
      RETURN_ERROR (QSOCK_SOCKET_ERROR_ADDRESS_IN_USE, _("The bound address is already in use"));
    case EADDRNOTAVAIL:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_SOCKET_ADDRESS_NOT_AVAILABLE, _("The address is not available"));
    case EACCES:
    case EPERM:
      if (op == QSOCK_OP_BIND)
        RETURN_ERROR (QSOCK_SOCKET_ERROR_SOCKET_ACCESS, _("The address is protected"));
      RETURN_ERROR (QSOCK_SOCKET_ERROR_SOCKET_ACCESS, _("Permission denied"));
    case ECONNREFUSED:
      /* Qt's read() path reports a refusal as a network error. */
      if (op == QSOCK_OP_READ)
        RETURN_ERROR (QSOCK_SOCKET_ERROR_NETWORK, qsock_message (QSOCK_MSG_CONNECTION_REFUSED));
      RETURN_ERROR (QSOCK_SOCKET_ERROR_CONNECTION_REFUSED, qsock_message (QSOCK_MSG_CONNECTION_REFUSED));
    case ETIMEDOUT:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_NETWORK, qsock_message (QSOCK_MSG_CONNECTION_TIMEOUT));
    case EHOSTUNREACH:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_NETWORK, _("Host unreachable"));
    case ENETUNREACH:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_NETWORK, _("Network unreachable"));
    case EPIPE:
    case ECONNRESET:
    case ECONNABORTED:
      if (op == QSOCK_OP_ACCEPT)
        RETURN_ERROR (QSOCK_SOCKET_ERROR_TEMPORARY, _("Temporary error"));
      RETURN_ERROR (QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED, qsock_message (QSOCK_MSG_REMOTE_CLOSED));
    case EMSGSIZE:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_DATAGRAM_TOO_LARGE, _("Datagram was too large to send"));
    case EAGAIN:
      if (op == QSOCK_OP_SEND_DATAGRAM)
        RETURN_ERROR (QSOCK_SOCKET_ERROR_TEMPORARY, _("Unable to send a datagram"));
      RETURN_ERROR (QSOCK_SOCKET_ERROR_TEMPORARY, _("Temporary error"));
    case ENFILE:
    case EMFILE:
    case ENOBUFS:
    case ENOMEM:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_SOCKET_RESOURCE, qsock_message (QSOCK_MSG_OUT_OF_RESOURCES));
    case ENOTSOCK:
    case EFAULT:
      if (op == QSOCK_OP_ACCEPT)
        RETURN_ERROR (QSOCK_SOCKET_ERROR_SOCKET_RESOURCE, _("Operation on non-socket"));
      RETURN_ERROR (QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION, qsock_message (QSOCK_MSG_INVALID_DESCRIPTOR));
    case EBADF:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION, qsock_message (QSOCK_MSG_INVALID_DESCRIPTOR));
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION, qsock_message (QSOCK_MSG_PROTOCOL_UNSUPPORTED));
    case EINVAL:
      /* Qt words a refused send or receive as a failed send or receive. */
      if (op == QSOCK_OP_SEND_DATAGRAM || op == QSOCK_OP_RECEIVE_DATAGRAM)
        break;
      if (op == QSOCK_OP_CREATE)
        RETURN_ERROR (QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION, qsock_message (QSOCK_MSG_PROTOCOL_UNSUPPORTED));
      RETURN_ERROR (QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION, _("Unsupported socket operation"));
    default:
      break;
    }

  switch (op)
    {
    case QSOCK_OP_SEND_DATAGRAM:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_NETWORK, _("Unable to send a message"));
    case QSOCK_OP_RECEIVE_DATAGRAM:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_NETWORK, _("Unable to receive a message"));
    case QSOCK_OP_READ:
    case QSOCK_OP_WRITE:
      /* Qt shows the system's text for other stream errors. */
      RETURN_ERROR (QSOCK_SOCKET_ERROR_NETWORK, g_strerror (errsv));
    default:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET, qsock_message (QSOCK_MSG_UNKNOWN));
    }
}

QSockSocketError
qsock_local_server_error_from_errno (int          errsv,
                                     const char **message)
{
  qsock_ensure_i18n ();

  switch (errsv)
    {
    case EACCES:
    case EPERM:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_SOCKET_ACCESS, _("Permission denied"));
    case ENOENT:
    case ELOOP:
    case ENAMETOOLONG:
    case EROFS:
    case ENOTDIR:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_HOST_NOT_FOUND, _("Name error"));
    case EADDRINUSE:
    case EEXIST:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_ADDRESS_IN_USE, _("Address in use"));
    case ENFILE:
    case EMFILE:
    case ENOBUFS:
    case ENOMEM:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_SOCKET_RESOURCE, qsock_message (QSOCK_MSG_OUT_OF_RESOURCES));
    default:
      RETURN_ERROR (QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET, qsock_message (QSOCK_MSG_UNKNOWN));
    }
}
