/* qsock-tcp-server.c: Qt's QTcpServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * QSockTcpServer:
 *
 * A TCP server, as Qt's `QTcpServer`.
 *
 * After qsock_tcp_server_listen(), each accepted connection becomes a
 * #QSockTcp in the %QSOCK_SOCKET_STATE_CONNECTED state, queued until
 * qsock_tcp_server_next_pending_connection() takes it;
 * #QSockTcpServer::pending-connection-available and then
 * #QSockTcpServer::new-connection announce it. With
 * #QSockTcpServer:max-pending-connections sockets queued the server stops
 * accepting (the kernel still completes handshakes) until one is taken.
 *
 * Subclasses may override #QSockTcpServerClass.incoming_connection to wrap
 * accepted descriptors themselves, and pass the result to
 * qsock_tcp_server_add_pending_connection().
 *
 * Running out of descriptors does not stop the server for good: it emits
 * #QSockTcpServer::accept-error with %QSOCK_SOCKET_ERROR_SOCKET_RESOURCE,
 * pauses for a short back-off (so a full backlog cannot spin the main
 * loop) and then accepts again on its own. Qt stays paused until
 * qsock_tcp_server_resume_accepting(); a server that must not stop serving
 * needs the retry, and it is the one place where this class differs.
 *
 * Since: 1.0
 */
#include "config.h"

#include "qsock-async-private.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qsock-tcp-server.h"
#include "qsock-abstract-private.h"
#include "qsock-enum-types.h"
#include "qsock-error.h"
#include "qsock-error-private.h"
#include "qsock-host-address.h"
#include "qsock-socket-private.h"
#include "qsock-acceptor-private.h"

typedef struct
{
  GMainContext    *context;
  QSockAcceptor    acceptor;
  GQueue           pending;
  int              max_pending;
  int              backlog;
  GInetAddress    *address;
  guint16          port;
  QSockSocketError error;
  char            *error_string;
  guint            paused : 1;        /* pause_accepting() */
} QSockTcpServerPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (QSockTcpServer, qsock_tcp_server, G_TYPE_OBJECT)

#define PRIV(self) ((QSockTcpServerPrivate *) qsock_tcp_server_get_instance_private (self))

enum {
  PROP_0,
  PROP_MAX_PENDING_CONNECTIONS,
  PROP_LISTEN_BACKLOG_SIZE,
  PROP_SERVER_ADDRESS,
  PROP_SERVER_PORT,
  PROP_SERVER_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  NEW_CONNECTION,
  PENDING_CONNECTION_AVAILABLE,
  ACCEPT_ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_error (QSockTcpServer  *self,
           QSockSocketError code,
           const char      *message)
{
  QSockTcpServerPrivate *priv = PRIV (self);

  g_free (priv->error_string);
  priv->error_string = g_strdup (message);
  if (priv->error == code)
    return;
  priv->error = code;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_ERROR]);
}

/* The shared accept loop's questions and answers */

static gboolean
wants_connections (gpointer owner)
{
  QSockTcpServerPrivate *priv = PRIV (QSOCK_TCP_SERVER (owner));

  return !priv->paused && (int) priv->pending.length < priv->max_pending;
}

static void
connection_accepted (gpointer owner,
                     int      fd)
{
  QSockTcpServer *self = owner;

  QSOCK_TCP_SERVER_GET_CLASS (self)->incoming_connection (self, fd);
  g_signal_emit (self, signals[NEW_CONNECTION], 0);
}

static void
accept_failed (gpointer owner,
               int      errsv)
{
  QSockTcpServer *self = owner;
  const char *message;
  QSockSocketError code = qsock_error_from_errno (errsv, QSOCK_OP_ACCEPT, &message);

  set_error (self, code, message);
  g_signal_emit (self, signals[ACCEPT_ERROR], 0, code);
}

static void
update_interest (QSockTcpServer *self)
{
  qsock_acceptor_update (&PRIV (self)->acceptor);
}

static void
qsock_tcp_server_real_incoming_connection (QSockTcpServer *self,
                                           int             fd)
{
  QSockTcpServerPrivate *priv = PRIV (self);
  g_autoptr(QSockTcp) socket = NULL;

  /* The socket belongs to the server's main context, wherever it is used. */
  g_main_context_push_thread_default (priv->context);
  socket = qsock_tcp_new ();
  g_main_context_pop_thread_default (priv->context);

  if (!qsock_abstract_set_socket_descriptor (QSOCK_ABSTRACT (socket), fd,
                                             QSOCK_SOCKET_STATE_CONNECTED,
                                             QSOCK_OPEN_MODE_READ_WRITE))
    {
      close (fd);
      return;
    }
  qsock_tcp_server_add_pending_connection (self, socket);
}

static void
close_listener (QSockTcpServer *self)
{
  qsock_acceptor_stop (&PRIV (self)->acceptor);
}

static void
adopt_listener (QSockTcpServer *self,
                int             fd)
{
  QSockTcpServerPrivate *priv = PRIV (self);
  struct sockaddr_storage storage;
  socklen_t len = sizeof storage;

  g_clear_object (&priv->address);
  priv->port = 0;
  if (getsockname (fd, (struct sockaddr *) &storage, &len) == 0)
    priv->address = qsock_inet_from_sockaddr ((struct sockaddr *) &storage, len, &priv->port);
  qsock_acceptor_start (&priv->acceptor, fd, "[qsock] tcp server");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_ADDRESS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_PORT]);
}

/* GObject */

static void
qsock_tcp_server_dispose (GObject *object)
{
  qsock_tcp_server_close (QSOCK_TCP_SERVER (object));

  G_OBJECT_CLASS (qsock_tcp_server_parent_class)->dispose (object);
}

static void
qsock_tcp_server_finalize (GObject *object)
{
  QSockTcpServerPrivate *priv = PRIV (QSOCK_TCP_SERVER (object));

  g_clear_object (&priv->address);
  g_free (priv->error_string);
  g_main_context_unref (priv->context);

  G_OBJECT_CLASS (qsock_tcp_server_parent_class)->finalize (object);
}

static void
qsock_tcp_server_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  QSockTcpServer *self = QSOCK_TCP_SERVER (object);
  QSockTcpServerPrivate *priv = PRIV (self);

  switch (prop_id)
    {
    case PROP_MAX_PENDING_CONNECTIONS:
      g_value_set_int (value, priv->max_pending);
      break;
    case PROP_LISTEN_BACKLOG_SIZE:
      g_value_set_int (value, priv->backlog);
      break;
    case PROP_SERVER_ADDRESS:
      g_value_set_object (value, priv->acceptor.fd >= 0 ? priv->address : NULL);
      break;
    case PROP_SERVER_PORT:
      g_value_set_uint (value, qsock_tcp_server_get_server_port (self));
      break;
    case PROP_SERVER_ERROR:
      g_value_set_enum (value, priv->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_tcp_server_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  QSockTcpServer *self = QSOCK_TCP_SERVER (object);

  switch (prop_id)
    {
    case PROP_MAX_PENDING_CONNECTIONS:
      qsock_tcp_server_set_max_pending_connections (self, g_value_get_int (value));
      break;
    case PROP_LISTEN_BACKLOG_SIZE:
      qsock_tcp_server_set_listen_backlog_size (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_tcp_server_class_init (QSockTcpServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = qsock_tcp_server_dispose;
  object_class->finalize = qsock_tcp_server_finalize;
  object_class->get_property = qsock_tcp_server_get_property;
  object_class->set_property = qsock_tcp_server_set_property;

  klass->incoming_connection = qsock_tcp_server_real_incoming_connection;

  /**
   * QSockTcpServer:max-pending-connections:
   *
   * How many accepted connections may wait for
   * qsock_tcp_server_next_pending_connection() before the server stops
   * accepting (default 30).
   *
   * Since: 1.0
   */
  properties[PROP_MAX_PENDING_CONNECTIONS] =
    g_param_spec_int ("max-pending-connections", NULL, NULL, 0, G_MAXINT, 30,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockTcpServer:listen-backlog-size:
   *
   * The backlog passed to listen() (default 50); set it before listening.
   *
   * Since: 1.0
   */
  properties[PROP_LISTEN_BACKLOG_SIZE] =
    g_param_spec_int ("listen-backlog-size", NULL, NULL, 0, G_MAXINT, 50,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockTcpServer:server-address:
   *
   * The address the server listens on, or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_SERVER_ADDRESS] =
    g_param_spec_object ("server-address", NULL, NULL, G_TYPE_INET_ADDRESS,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockTcpServer:server-port:
   *
   * The port the server listens on (the real one after listening on port
   * 0), or 0.
   *
   * Since: 1.0
   */
  properties[PROP_SERVER_PORT] =
    g_param_spec_uint ("server-port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockTcpServer:server-error:
   *
   * The last error.
   *
   * Since: 1.0
   */
  properties[PROP_SERVER_ERROR] =
    g_param_spec_enum ("server-error", NULL, NULL,
                       QSOCK_TYPE_SOCKET_ERROR, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * QSockTcpServer::new-connection:
   * @self: the server
   *
   * Emitted after each accepted connection was handed to
   * #QSockTcpServerClass.incoming_connection (and so after
   * #QSockTcpServer::pending-connection-available), as Qt's
   * `newConnection()`.
   *
   * Since: 1.0
   */
  signals[NEW_CONNECTION] =
    g_signal_new ("new-connection", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockTcpServerClass, new_connection),
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * QSockTcpServer::pending-connection-available:
   * @self: the server
   *
   * Emitted from qsock_tcp_server_add_pending_connection() when a socket
   * was queued, as Qt's `pendingConnectionAvailable()`.
   *
   * Since: 1.0
   */
  signals[PENDING_CONNECTION_AVAILABLE] =
    g_signal_new ("pending-connection-available", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockTcpServerClass, pending_connection_available),
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * QSockTcpServer::accept-error:
   * @self: the server
   * @error: what went wrong
   *
   * Emitted when accepting a connection failed, as Qt's `acceptError()`.
   * The server pauses accepting; for %QSOCK_SOCKET_ERROR_SOCKET_RESOURCE
   * (out of descriptors) it resumes by itself after a short back-off.
   *
   * Since: 1.0
   */
  signals[ACCEPT_ERROR] =
    g_signal_new ("accept-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockTcpServerClass, accept_error),
                  NULL, NULL, NULL, G_TYPE_NONE, 1, QSOCK_TYPE_SOCKET_ERROR);
}

static void
qsock_tcp_server_init (QSockTcpServer *self)
{
  QSockTcpServerPrivate *priv = PRIV (self);

  priv->context = g_main_context_ref_thread_default ();
  qsock_acceptor_init (&priv->acceptor, priv->context, self,
                       wants_connections, connection_accepted, accept_failed);
  priv->max_pending = 30;
  priv->backlog = 50;
  priv->error = QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET;
  g_queue_init (&priv->pending);
}

/* Public API */

/**
 * qsock_tcp_server_new:
 *
 * Makes a TCP server, bound to the thread-default main context.
 *
 * Returns: (transfer full): a new server, not listening
 *
 * Since: 1.0
 */
QSockTcpServer *
qsock_tcp_server_new (void)
{
  return g_object_new (QSOCK_TYPE_TCP_SERVER, NULL);
}

static gboolean
listen_failed (QSockTcpServer *self,
               int             fd,
               int             errsv,
               QSockOperation  op)
{
  const char *message;
  QSockSocketError code = qsock_error_from_errno (errsv, op, &message);

  if (fd >= 0)
    close (fd);
  set_error (self, code, message);
  return FALSE;
}

/**
 * qsock_tcp_server_listen:
 * @self: a #QSockTcpServer
 * @address: (nullable): the address; %NULL for any (IPv6 and IPv4)
 * @port: the port; 0 picks a free one (see qsock_tcp_server_get_server_port())
 *
 * Starts listening, as Qt's `QTcpServer::listen()`. SO_REUSEADDR is set, as
 * Qt does on Unix. No signal is emitted.
 *
 * Returns: %TRUE on success; otherwise qsock_tcp_server_get_server_error()
 *   says why (for example %QSOCK_SOCKET_ERROR_ADDRESS_IN_USE)
 *
 * Since: 1.0
 */
gboolean
qsock_tcp_server_listen (QSockTcpServer *self,
                         GInetAddress   *address,
                         guint16         port)
{
  QSockTcpServerPrivate *priv;
  g_autoptr(GInetAddress) any = NULL;
  struct sockaddr_storage storage;
  socklen_t len;
  int reuse = 1;
  int fd;

  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), FALSE);
  g_return_val_if_fail (address == NULL || G_IS_INET_ADDRESS (address), FALSE);

  priv = PRIV (self);
  if (priv->acceptor.fd >= 0)
    {
      g_warning ("QTcpServer::listen() called when already listening");
      return FALSE;
    }

  if (address == NULL)
    address = any = qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_ANY);

  fd = qsock_socket_create (g_inet_address_get_family (address), SOCK_STREAM);
  if (fd < 0 && any != NULL)
    {
      /* No IPv6 here: Any falls back to IPv4, as in Qt. */
      g_clear_object (&any);
      address = any = qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
      fd = qsock_socket_create (G_SOCKET_FAMILY_IPV4, SOCK_STREAM);
    }
  if (fd < 0)
    return listen_failed (self, -1, errno, QSOCK_OP_CREATE);

  /* As Qt on Unix. */
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);

  len = qsock_sockaddr_from_inet (address, port, g_inet_address_get_family (address), &storage);
  if (bind (fd, (struct sockaddr *) &storage, len) != 0)
    return listen_failed (self, fd, errno, QSOCK_OP_BIND);
  if (listen (fd, priv->backlog) != 0)
    return listen_failed (self, fd, errno, QSOCK_OP_LISTEN);

  adopt_listener (self, fd);
  return TRUE;
}

/**
 * qsock_tcp_server_close:
 * @self: a #QSockTcpServer
 *
 * Stops listening and drops every pending connection (their peers see the
 * connection close), as Qt's `QTcpServer::close()`.
 *
 * Since: 1.0
 */
void
qsock_tcp_server_close (QSockTcpServer *self)
{
  QSockTcpServerPrivate *priv;
  QSockTcp *socket;
  /* Aborting a pending socket emits; its handlers may drop our last
   * reference. */
  g_autoptr(GObject) keep = NULL;

  g_return_if_fail (QSOCK_IS_TCP_SERVER (self));

  keep = g_object_ref (G_OBJECT (self));
  priv = PRIV (self);
  while ((socket = g_queue_pop_head (&priv->pending)) != NULL)
    {
      qsock_abstract_abort (QSOCK_ABSTRACT (socket));
      g_object_unref (socket);
    }

  if (priv->acceptor.fd < 0)
    return;
  close_listener (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_ADDRESS]);
  /* Also ends pending accept_async() calls. */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_PORT]);
}

/**
 * qsock_tcp_server_is_listening:
 * @self: a #QSockTcpServer
 *
 * Whether the server is listening.
 *
 * Returns: %TRUE while listening
 *
 * Since: 1.0
 */
gboolean
qsock_tcp_server_is_listening (QSockTcpServer *self)
{
  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), FALSE);

  return PRIV (self)->acceptor.fd >= 0;
}

/**
 * qsock_tcp_server_next_pending_connection:
 * @self: a #QSockTcpServer
 *
 * Takes the next accepted connection, as Qt's `nextPendingConnection()`.
 * If the server had stopped accepting because the queue was full, it
 * accepts again.
 *
 * Returns: (transfer full) (nullable): a connected socket, or %NULL if none
 *   is pending
 *
 * Since: 1.0
 */
QSockTcp *
qsock_tcp_server_next_pending_connection (QSockTcpServer *self)
{
  QSockTcpServerPrivate *priv;
  QSockTcp *socket;

  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), NULL);

  priv = PRIV (self);
  socket = g_queue_pop_head (&priv->pending);
  if (socket == NULL)
    return NULL;

  if (priv->acceptor.fd < 0)
    g_warning ("QTcpServer::nextPendingConnection() called while not listening");
  update_interest (self);
  return socket;
}

/**
 * qsock_tcp_server_has_pending_connections:
 * @self: a #QSockTcpServer
 *
 * Whether accepted connections are waiting.
 *
 * Returns: %TRUE if qsock_tcp_server_next_pending_connection() would return one
 *
 * Since: 1.0
 */
gboolean
qsock_tcp_server_has_pending_connections (QSockTcpServer *self)
{
  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), FALSE);

  return PRIV (self)->pending.length > 0;
}

/**
 * qsock_tcp_server_add_pending_connection:
 * @self: a #QSockTcpServer
 * @socket: a connected socket
 *
 * Queues @socket for qsock_tcp_server_next_pending_connection() and emits
 * #QSockTcpServer::pending-connection-available, as Qt's
 * `addPendingConnection()`. For overrides of
 * #QSockTcpServerClass.incoming_connection.
 *
 * Since: 1.0
 */
void
qsock_tcp_server_add_pending_connection (QSockTcpServer *self,
                                         QSockTcp       *socket)
{
  g_return_if_fail (QSOCK_IS_TCP_SERVER (self));
  g_return_if_fail (QSOCK_IS_TCP (socket));

  g_queue_push_tail (&PRIV (self)->pending, g_object_ref (socket));
  g_signal_emit (self, signals[PENDING_CONNECTION_AVAILABLE], 0);
}

/**
 * qsock_tcp_server_get_max_pending_connections:
 * @self: a #QSockTcpServer
 *
 * Gets #QSockTcpServer:max-pending-connections.
 *
 * Returns: the limit
 *
 * Since: 1.0
 */
int
qsock_tcp_server_get_max_pending_connections (QSockTcpServer *self)
{
  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), 0);

  return PRIV (self)->max_pending;
}

/**
 * qsock_tcp_server_set_max_pending_connections:
 * @self: a #QSockTcpServer
 * @max: the limit
 *
 * Sets #QSockTcpServer:max-pending-connections.
 *
 * Since: 1.0
 */
void
qsock_tcp_server_set_max_pending_connections (QSockTcpServer *self,
                                              int             max)
{
  QSockTcpServerPrivate *priv;

  g_return_if_fail (QSOCK_IS_TCP_SERVER (self));

  priv = PRIV (self);
  if (priv->max_pending == max)
    return;
  priv->max_pending = max;
  update_interest (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_PENDING_CONNECTIONS]);
}

/**
 * qsock_tcp_server_get_listen_backlog_size:
 * @self: a #QSockTcpServer
 *
 * Gets #QSockTcpServer:listen-backlog-size.
 *
 * Returns: the backlog
 *
 * Since: 1.0
 */
int
qsock_tcp_server_get_listen_backlog_size (QSockTcpServer *self)
{
  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), 0);

  return PRIV (self)->backlog;
}

/**
 * qsock_tcp_server_set_listen_backlog_size:
 * @self: a #QSockTcpServer
 * @size: the backlog
 *
 * Sets #QSockTcpServer:listen-backlog-size, used by the next
 * qsock_tcp_server_listen().
 *
 * Since: 1.0
 */
void
qsock_tcp_server_set_listen_backlog_size (QSockTcpServer *self,
                                          int             size)
{
  QSockTcpServerPrivate *priv;

  g_return_if_fail (QSOCK_IS_TCP_SERVER (self));

  priv = PRIV (self);
  if (priv->backlog == size)
    return;
  priv->backlog = size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LISTEN_BACKLOG_SIZE]);
}

/**
 * qsock_tcp_server_pause_accepting:
 * @self: a #QSockTcpServer
 *
 * Stops accepting; the kernel keeps queueing connections (their clients
 * see them connected) until qsock_tcp_server_resume_accepting(). Unlike
 * Qt 6.4 this is safe before listening.
 *
 * Since: 1.0
 */
void
qsock_tcp_server_pause_accepting (QSockTcpServer *self)
{
  g_return_if_fail (QSOCK_IS_TCP_SERVER (self));

  PRIV (self)->paused = TRUE;
  update_interest (self);
}

/**
 * qsock_tcp_server_resume_accepting:
 * @self: a #QSockTcpServer
 *
 * Accepts again after qsock_tcp_server_pause_accepting() or an accept
 * error.
 *
 * Since: 1.0
 */
void
qsock_tcp_server_resume_accepting (QSockTcpServer *self)
{
  QSockTcpServerPrivate *priv;

  g_return_if_fail (QSOCK_IS_TCP_SERVER (self));

  priv = PRIV (self);
  priv->paused = FALSE;
  qsock_acceptor_resume (&priv->acceptor);
}

/**
 * qsock_tcp_server_get_server_address:
 * @self: a #QSockTcpServer
 *
 * Gets the address the server listens on.
 *
 * Returns: (transfer full) (nullable): the address, or %NULL when not
 *   listening
 *
 * Since: 1.0
 */
GInetAddress *
qsock_tcp_server_get_server_address (QSockTcpServer *self)
{
  QSockTcpServerPrivate *priv;

  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), NULL);

  priv = PRIV (self);
  return priv->acceptor.fd >= 0 && priv->address != NULL ? g_object_ref (priv->address) : NULL;
}

/**
 * qsock_tcp_server_get_server_port:
 * @self: a #QSockTcpServer
 *
 * Gets the port the server listens on.
 *
 * Returns: the port, or 0 when not listening
 *
 * Since: 1.0
 */
guint16
qsock_tcp_server_get_server_port (QSockTcpServer *self)
{
  QSockTcpServerPrivate *priv;

  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), 0);

  priv = PRIV (self);
  return priv->acceptor.fd >= 0 ? priv->port : 0;
}

/**
 * qsock_tcp_server_get_server_error:
 * @self: a #QSockTcpServer
 *
 * Gets the last error, as Qt's `serverError()`.
 *
 * Returns: the last error
 *
 * Since: 1.0
 */
QSockSocketError
qsock_tcp_server_get_server_error (QSockTcpServer *self)
{
  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);

  return PRIV (self)->error;
}

/**
 * qsock_tcp_server_get_error_string:
 * @self: a #QSockTcpServer
 *
 * The translated text of the last error; empty until an error occurs, as
 * Qt's `QTcpServer::errorString()`.
 *
 * Returns: (transfer none): the text
 *
 * Since: 1.0
 */
const char *
qsock_tcp_server_get_error_string (QSockTcpServer *self)
{
  QSockTcpServerPrivate *priv;

  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), "");

  priv = PRIV (self);
  return priv->error_string != NULL ? priv->error_string : "";
}

static gboolean
is_tcp_listener (int           fd,
                 GSocketFamily family,
                 int           type)
{
  int listening = 0;
  socklen_t len = sizeof listening;

  return type == SOCK_STREAM &&
         (family == G_SOCKET_FAMILY_IPV4 || family == G_SOCKET_FAMILY_IPV6) &&
         getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening;
}

/**
 * qsock_tcp_server_set_socket_descriptor:
 * @self: a #QSockTcpServer
 * @fd: a listening socket descriptor; the server takes ownership
 *
 * Serves on an existing listening socket (for example one inherited from
 * systemd), as Qt's `QTcpServer::setSocketDescriptor()`.
 *
 * Returns: %TRUE on success; %FALSE with
 *   %QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION if @fd is not a
 *   listening TCP socket (Qt takes UDP, Unix and unlistening sockets too,
 *   then never accepts); @fd then stays the caller's
 *
 * Since: 1.0
 */
gboolean
qsock_tcp_server_set_socket_descriptor (QSockTcpServer *self,
                                        int             fd)
{
  GSocketFamily family;
  int type;

  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), FALSE);

  if (PRIV (self)->acceptor.fd >= 0)
    {
      g_warning ("QTcpServer::setSocketDescriptor() called when already listening");
      return FALSE;
    }

  if (!qsock_socket_adopt (fd, &family, &type))
    {
      set_error (self, QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION,
                 qsock_message (QSOCK_MSG_INVALID_DESCRIPTOR));
      return FALSE;
    }

  /* Qt takes any socket and reports it listening; a UDP, Unix or
   * unlistening one would then never accept, so it is refused here. */
  if (!is_tcp_listener (fd, family, type))
    {
      set_error (self, QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION,
                 qsock_message (QSOCK_MSG_UNSUPPORTED));
      return FALSE;
    }

  adopt_listener (self, fd);
  return TRUE;
}

/**
 * qsock_tcp_server_get_socket_descriptor:
 * @self: a #QSockTcpServer
 *
 * Gets the listening descriptor; it stays owned by the server.
 *
 * Returns: the descriptor, or -1
 *
 * Since: 1.0
 */
int
qsock_tcp_server_get_socket_descriptor (QSockTcpServer *self)
{
  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), -1);

  return PRIV (self)->acceptor.fd;
}

/**
 * qsock_tcp_server_wait_for_new_connection:
 * @self: a #QSockTcpServer
 * @msecs: how long to wait in milliseconds; -1 waits forever (Qt's default
 *   is 0)
 * @timed_out: (out) (optional): set to whether the wait timed out
 *
 * Blocks until a connection can be accepted and accepts it (signals are
 * emitted inside the call), as Qt's `waitForNewConnection()`. Needs no main
 * loop.
 *
 * Returns: %TRUE if a connection was accepted; %FALSE when not listening or
 *   on timeout (with %QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT)
 *
 * Since: 1.0
 */
gboolean
qsock_tcp_server_wait_for_new_connection (QSockTcpServer *self,
                                          int             msecs,
                                          gboolean       *timed_out)
{
  QSockTcpServerPrivate *priv;
  g_autoptr(QSockTcpServer) keep = NULL;

  g_return_val_if_fail (QSOCK_IS_TCP_SERVER (self), FALSE);

  if (timed_out != NULL)
    *timed_out = FALSE;

  priv = PRIV (self);
  if (priv->acceptor.fd < 0)
    return FALSE;

  keep = g_object_ref (self);
  if (!qsock_acceptor_wait (&priv->acceptor, msecs))
    {
      if (timed_out != NULL)
        *timed_out = TRUE;
      set_error (self, QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT, qsock_message (QSOCK_MSG_NETWORK_TIMEOUT));
      return FALSE;
    }
  return TRUE;
}

static const char * const accept_signals[] = { "pending-connection-available", "notify::server-port", NULL };

static gboolean
accept_step (gpointer self,
             GTask   *task)
{
  if (qsock_tcp_server_has_pending_connections (self))
    {
      qsock_async_return_pointer (task, qsock_tcp_server_next_pending_connection (self), g_object_unref);
      return TRUE;
    }
  if (!qsock_tcp_server_is_listening (self))
    {
      qsock_async_return_new_error (task, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_OPERATION, qsock_message (QSOCK_MSG_UNSUPPORTED));
      return TRUE;
    }
  return FALSE;
}

/**
 * qsock_tcp_server_accept_async:
 * @self: a listening #QSockTcpServer
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the next connection
 * @user_data: (closure): data for @callback
 *
 * Takes the next pending connection, waiting for one if none is queued:
 * the asynchronous form of qsock_tcp_server_wait_for_new_connection() and
 * qsock_tcp_server_next_pending_connection(). Fails if the server stops
 * listening. Cancelling takes nothing.
 *
 * Since: 1.0
 */
void
qsock_tcp_server_accept_async (QSockTcpServer      *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (QSOCK_IS_TCP_SERVER (self));

  qsock_async_start (self, "qsock_tcp_server_accept_async", cancellable, callback, user_data,
                     qsock_tcp_server_accept_async, NULL, NULL, NULL, accept_step, NULL, accept_signals);
}

/**
 * qsock_tcp_server_accept_finish:
 * @self: a #QSockTcpServer
 * @result: the result
 * @error: return location for a #GError
 *
 * Finishes qsock_tcp_server_accept_async().
 *
 * Returns: (transfer full): a connected socket, or %NULL with @error set
 *
 * Since: 1.0
 */
QSockTcp *
qsock_tcp_server_accept_finish (QSockTcpServer *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
