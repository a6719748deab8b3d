/* QSock-1.0-custom.vala: merged into qsock-glib-1.0.vapi by vapigen.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * QSockSocketError is both a value (state getters, properties and the
 * error-occurred/accept-error signals carry it, as in Qt) and the codes of
 * the QSOCK_SOCKET_ERROR GError domain. A Vala errordomain is a GError, so
 * QSock-1.0.metadata keeps QSock.SocketError as the plain enum, and the
 * GError side lives here, under its own name, for typed catch clauses:
 *
 *   try {
 *     yield sock.connect_to_host_async ("example.org", 17);
 *   } catch (QSock.SocketErrorDomain.CONNECTION_REFUSED e) {
 *     …
 *   }
 *
 * QSockLocal reports its QSockLocalSocketError codes in the same domain (the
 * numbers are the same: PEER_CLOSED is REMOTE_HOST_CLOSED, SERVER_NOT_FOUND
 * is HOST_NOT_FOUND).
 */
namespace QSock {
	[CCode (cheader_filename = "qsock-glib/qsock.h", cname = "QSockSocketError", cprefix = "QSOCK_SOCKET_ERROR_", lower_case_csuffix = "socket_error")]
	[Version (since = "1.0")]
	public errordomain SocketErrorDomain {
		UNKNOWN_SOCKET,
		CONNECTION_REFUSED,
		REMOTE_HOST_CLOSED,
		HOST_NOT_FOUND,
		SOCKET_ACCESS,
		SOCKET_RESOURCE,
		SOCKET_TIMEOUT,
		DATAGRAM_TOO_LARGE,
		NETWORK,
		ADDRESS_IN_USE,
		SOCKET_ADDRESS_NOT_AVAILABLE,
		UNSUPPORTED_SOCKET_OPERATION,
		UNFINISHED_SOCKET_OPERATION,
		PROXY_AUTHENTICATION_REQUIRED,
		SSL_HANDSHAKE_FAILED,
		PROXY_CONNECTION_REFUSED,
		PROXY_CONNECTION_CLOSED,
		PROXY_CONNECTION_TIMEOUT,
		PROXY_NOT_FOUND,
		PROXY_PROTOCOL,
		OPERATION,
		SSL_INTERNAL,
		SSL_INVALID_USER_DATA,
		TEMPORARY;
		public static GLib.Quark quark ();
	}
}
