/* qsock-local-server.c: Qt's QLocalServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * QSockLocalServer:
 *
 * A Unix domain socket server, as Qt's `QLocalServer` on Unix.
 *
 * qsock_local_server_listen() places a relative name in the temporary
 * directory (g_get_tmp_dir()), uses an absolute path as it is, and with
 * %QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE listens in Linux's abstract
 * namespace, where no file is made. If anything already exists at the path
 * listening fails with %QSOCK_SOCKET_ERROR_ADDRESS_IN_USE and the file is
 * left alone; qsock_local_server_remove_server() removes a stale one.
 * qsock_local_server_close() removes the file the server made.
 *
 * # Access
 *
 * With any of %QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS, `GROUP_ACCESS` and
 * `OTHER_ACCESS` set, the socket file gets exactly those permissions (0700,
 * 0070, 0007 or a mix). It is made in a fresh private directory beside the
 * target, given its mode there and only then linked into place, so at no
 * moment can anyone connect who should not. Without them the process umask
 * decides, as with any new file. For services that authorise callers, see
 * also qsock_local_get_peer_credentials().
 *
 * # Socket activation
 *
 * A server started by systemd with a `.socket` unit inherits its listening
 * socket; hand it over with qsock_local_server_listen_descriptor():
 *
 * |[<!-- language="C" -->
 * // LISTEN_FDS=1: the socket is descriptor 3 (SD_LISTEN_FDS_START)
 * if (g_strcmp0 (g_getenv ("LISTEN_FDS"), "1") == 0)
 *   qsock_local_server_listen_descriptor (server, 3);
 * else
 *   qsock_local_server_listen (server, "/run/myservice.sock");
 * ]|
 *
 * Where this differs from Qt 6.4: the server stops accepting at exactly
 * #QSockLocalServer:max-pending-connections queued sockets (Qt accepts two
 * more, an off-by-two in its notifier logic, while #QSockTcpServer stops at
 * the limit in both), and a failing accept() (out of descriptors) pauses
 * and retries after a short back-off instead of closing the server.
 *
 * Since: 1.0
 */
#include "config.h"

#include "qsock-async-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>

#include "qsock-local-server.h"
#include "qsock-local-private.h"
#include "qsock-enum-types.h"
#include "qsock-error.h"
#include "qsock-error-private.h"
#include "qsock-socket-private.h"
#include "qsock-acceptor-private.h"

typedef struct
{
  GMainContext           *context;
  QSockAcceptor           acceptor;
  GQueue                  pending;
  int                     max_pending;
  int                     backlog;
  QSockLocalServerOptions options;
  char                   *server_name;
  char                   *full_server_name;
  char                   *created_path;   /* the file to remove on close */
  QSockSocketError        error;
  char                   *error_string;
} QSockLocalServerPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (QSockLocalServer, qsock_local_server, G_TYPE_OBJECT)

#define PRIV(self) ((QSockLocalServerPrivate *) qsock_local_server_get_instance_private (self))

enum {
  PROP_0,
  PROP_MAX_PENDING_CONNECTIONS,
  PROP_LISTEN_BACKLOG_SIZE,
  PROP_SOCKET_OPTIONS,
  PROP_SERVER_NAME,
  PROP_FULL_SERVER_NAME,
  PROP_SERVER_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  NEW_CONNECTION,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_error (QSockLocalServer *self,
           QSockSocketError  code,
           const char       *function,
           const char       *text)
{
  QSockLocalServerPrivate *priv = PRIV (self);

  g_free (priv->error_string);
  priv->error_string = g_strdup_printf ("%s: %s", function, text);
  if (priv->error == code)
    return;
  priv->error = code;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_ERROR]);
}

static gboolean
fail_with_errno (QSockLocalServer *self,
                 int               errsv,
                 const char       *function)
{
  const char *text;
  QSockSocketError code = qsock_local_server_error_from_errno (errsv, &text);

  set_error (self, code, function, text);
  return FALSE;
}

static void
set_names (QSockLocalServer *self,
           const char       *name,
           const char       *full_name)
{
  QSockLocalServerPrivate *priv = PRIV (self);

  g_free (priv->server_name);
  priv->server_name = g_strdup (name);
  g_free (priv->full_server_name);
  priv->full_server_name = g_strdup (full_name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FULL_SERVER_NAME]);
}

/* The shared accept loop's questions and answers */

static gboolean
wants_connections (gpointer owner)
{
  QSockLocalServerPrivate *priv = PRIV (QSOCK_LOCAL_SERVER (owner));

  return (int) priv->pending.length < priv->max_pending;
}

static void
connection_accepted (gpointer owner,
                     int      fd)
{
  QSockLocalServer *self = owner;

  QSOCK_LOCAL_SERVER_GET_CLASS (self)->incoming_connection (self, fd);
}

static void
accept_failed (gpointer owner,
               int      errsv)
{
  fail_with_errno (owner, errsv, "QLocalSocket::activated");
}

static void
update_interest (QSockLocalServer *self)
{
  qsock_acceptor_update (&PRIV (self)->acceptor);
}

static void
qsock_local_server_real_incoming_connection (QSockLocalServer *self,
                                             int               fd)
{
  QSockLocalServerPrivate *priv = PRIV (self);
  g_autoptr(QSockLocal) socket = NULL;

  g_main_context_push_thread_default (priv->context);
  socket = qsock_local_new ();
  g_main_context_pop_thread_default (priv->context);

  if (!qsock_local_set_socket_descriptor (socket, fd, QSOCK_LOCAL_SOCKET_STATE_CONNECTED,
                                          QSOCK_OPEN_MODE_READ_WRITE))
    {
      close (fd);
      return;
    }
  qsock_local_set_names_internal (socket, priv->server_name, priv->full_server_name);
  qsock_local_server_add_pending_connection (self, socket);
  /* Qt's QLocalServer emits newConnection() from incomingConnection(). */
  g_signal_emit (self, signals[NEW_CONNECTION], 0);
}

static void
close_listener (QSockLocalServer *self)
{
  QSockLocalServerPrivate *priv = PRIV (self);

  qsock_acceptor_stop (&priv->acceptor);
  if (priv->created_path != NULL)
    {
      unlink (priv->created_path);
      g_clear_pointer (&priv->created_path, g_free);
    }
}

static void
start_accepting (QSockLocalServer *self,
                 int               fd)
{
  qsock_acceptor_start (&PRIV (self)->acceptor, fd, "[qsock] local server");
}

/* GObject */

static void
qsock_local_server_dispose (GObject *object)
{
  qsock_local_server_close (QSOCK_LOCAL_SERVER (object));

  G_OBJECT_CLASS (qsock_local_server_parent_class)->dispose (object);
}

static void
qsock_local_server_finalize (GObject *object)
{
  QSockLocalServerPrivate *priv = PRIV (QSOCK_LOCAL_SERVER (object));

  g_free (priv->server_name);
  g_free (priv->full_server_name);
  g_free (priv->error_string);
  g_main_context_unref (priv->context);

  G_OBJECT_CLASS (qsock_local_server_parent_class)->finalize (object);
}

static void
qsock_local_server_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  QSockLocalServerPrivate *priv = PRIV (QSOCK_LOCAL_SERVER (object));

  switch (prop_id)
    {
    case PROP_MAX_PENDING_CONNECTIONS:
      g_value_set_int (value, priv->max_pending);
      break;
    case PROP_LISTEN_BACKLOG_SIZE:
      g_value_set_int (value, priv->backlog);
      break;
    case PROP_SOCKET_OPTIONS:
      g_value_set_flags (value, priv->options);
      break;
    case PROP_SERVER_NAME:
      g_value_set_string (value, priv->server_name);
      break;
    case PROP_FULL_SERVER_NAME:
      g_value_set_string (value, priv->full_server_name);
      break;
    case PROP_SERVER_ERROR:
      g_value_set_enum (value, priv->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_local_server_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  QSockLocalServer *self = QSOCK_LOCAL_SERVER (object);

  switch (prop_id)
    {
    case PROP_MAX_PENDING_CONNECTIONS:
      qsock_local_server_set_max_pending_connections (self, g_value_get_int (value));
      break;
    case PROP_LISTEN_BACKLOG_SIZE:
      qsock_local_server_set_listen_backlog_size (self, g_value_get_int (value));
      break;
    case PROP_SOCKET_OPTIONS:
      qsock_local_server_set_socket_options (self, g_value_get_flags (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_local_server_class_init (QSockLocalServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = qsock_local_server_dispose;
  object_class->finalize = qsock_local_server_finalize;
  object_class->get_property = qsock_local_server_get_property;
  object_class->set_property = qsock_local_server_set_property;

  klass->incoming_connection = qsock_local_server_real_incoming_connection;

  /**
   * QSockLocalServer:max-pending-connections:
   *
   * How many accepted connections may wait before the server stops
   * accepting (default 30).
   *
   * Since: 1.0
   */
  properties[PROP_MAX_PENDING_CONNECTIONS] =
    g_param_spec_int ("max-pending-connections", NULL, NULL, 0, G_MAXINT, 30, rw);

  /**
   * QSockLocalServer:listen-backlog-size:
   *
   * The backlog passed to listen() (default 50).
   *
   * Since: 1.0
   */
  properties[PROP_LISTEN_BACKLOG_SIZE] =
    g_param_spec_int ("listen-backlog-size", NULL, NULL, 0, G_MAXINT, 50, rw);

  /**
   * QSockLocalServer:socket-options:
   *
   * Access permissions and namespace; set before listening.
   *
   * Since: 1.0
   */
  properties[PROP_SOCKET_OPTIONS] =
    g_param_spec_flags ("socket-options", NULL, NULL, QSOCK_TYPE_LOCAL_SERVER_OPTIONS,
                        QSOCK_LOCAL_SERVER_OPTIONS_NONE, rw);

  /**
   * QSockLocalServer:server-name:
   *
   * The name given to qsock_local_server_listen(), or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_SERVER_NAME] = g_param_spec_string ("server-name", NULL, NULL, NULL, ro);

  /**
   * QSockLocalServer:full-server-name:
   *
   * The socket's path (or abstract name), or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_FULL_SERVER_NAME] = g_param_spec_string ("full-server-name", NULL, NULL, NULL, ro);

  /**
   * QSockLocalServer:server-error:
   *
   * The last error.
   *
   * Since: 1.0
   */
  properties[PROP_SERVER_ERROR] =
    g_param_spec_enum ("server-error", NULL, NULL, QSOCK_TYPE_SOCKET_ERROR,
                       QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * QSockLocalServer::new-connection:
   * @self: the server
   *
   * Emitted each time a connection was accepted and queued for
   * qsock_local_server_next_pending_connection(), as Qt's `newConnection()`.
   *
   * Since: 1.0
   */
  signals[NEW_CONNECTION] =
    g_signal_new ("new-connection", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockLocalServerClass, new_connection),
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
qsock_local_server_init (QSockLocalServer *self)
{
  QSockLocalServerPrivate *priv = PRIV (self);

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
 * qsock_local_server_new:
 *
 * Makes a local server, bound to the thread-default main context.
 *
 * Returns: (transfer full): a new server
 *
 * Since: 1.0
 */
QSockLocalServer *
qsock_local_server_new (void)
{
  return g_object_new (QSOCK_TYPE_LOCAL_SERVER, NULL);
}

static mode_t
access_mode (QSockLocalServerOptions options)
{
  mode_t mode = 0;

  if (options & QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS)
    mode |= S_IRWXU;
  if (options & QSOCK_LOCAL_SERVER_OPTIONS_GROUP_ACCESS)
    mode |= S_IRWXG;
  if (options & QSOCK_LOCAL_SERVER_OPTIONS_OTHER_ACCESS)
    mode |= S_IRWXO;
  return mode;
}

/* Binds @fd at @full with exactly @mode: made in a private directory,
 * chmod-ed there, then hard-linked into place (link(), unlike rename(),
 * refuses to replace an existing file). When the staging path would not fit
 * in sun_path though @full does (a long directory), the socket is bound
 * through /proc/self/fd/N/s, N being the private directory: the kernel
 * resolves that short path to the same place. Returns 0 or an errno. */
static int
bind_with_mode (int         fd,
                const char *full,
                mode_t      mode)
{
  g_autofree char *dir = g_path_get_dirname (full);
  g_autofree char *private_dir = g_build_filename (dir, ".qsock-XXXXXX", NULL);
  g_autofree char *staging = NULL;
  g_autofree char *via_proc = NULL;
  struct sockaddr_un addr;
  socklen_t len;
  int dirfd = -1;
  int errsv = 0;

  if (g_mkdtemp_full (private_dir, 0700) == NULL)
    return errno;

  staging = g_build_filename (private_dir, "s", NULL);
  len = qsock_local_sockaddr (staging, FALSE, &addr);
  if (len == 0)
    {
      dirfd = open (private_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dirfd >= 0)
        {
          via_proc = g_strdup_printf ("/proc/self/fd/%d/s", dirfd);
          len = qsock_local_sockaddr (via_proc, FALSE, &addr);
        }
    }

  if (len == 0)
    errsv = ENAMETOOLONG;
  else if (bind (fd, (struct sockaddr *) &addr, len) != 0 ||
           chmod (staging, mode) != 0 ||
           link (staging, full) != 0)
    errsv = errno;

  unlink (staging);
  rmdir (private_dir);
  if (dirfd >= 0)
    close (dirfd);
  return errsv;
}

/**
 * qsock_local_server_listen:
 * @self: a #QSockLocalServer
 * @name: the name: relative (placed in the temporary directory), an
 *   absolute path, or an abstract name with
 *   %QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE
 *
 * Starts listening, as Qt's `QLocalServer::listen()`. No signal is emitted.
 *
 * Returns: %TRUE on success; otherwise qsock_local_server_get_server_error()
 *   says why: %QSOCK_SOCKET_ERROR_HOST_NOT_FOUND ("Name error") for an
 *   empty or unusable name, %QSOCK_SOCKET_ERROR_ADDRESS_IN_USE if anything
 *   exists at the path, %QSOCK_SOCKET_ERROR_SOCKET_ACCESS without permission
 *
 * Since: 1.0
 */
gboolean
qsock_local_server_listen (QSockLocalServer *self,
                           const char       *name)
{
  QSockLocalServerPrivate *priv;
  g_autofree char *full = NULL;
  struct sockaddr_un addr;
  socklen_t len;
  gboolean abstract;
  mode_t mode;
  int fd;
  int errsv = 0;

  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), FALSE);

  priv = PRIV (self);
  if (priv->acceptor.fd >= 0)
    {
      g_warning ("QLocalServer::listen() called when already listening");
      return FALSE;
    }
  if (name == NULL || name[0] == '\0')
    return fail_with_errno (self, ENOENT, "QLocalServer::listen");

  abstract = (priv->options & QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE) != 0;
  full = qsock_local_full_name (name, abstract);
  len = qsock_local_sockaddr (full, abstract, &addr);
  if (len == 0)
    return fail_with_errno (self, ENAMETOOLONG, "QLocalServer::listen");

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return fail_with_errno (self, errno, "QLocalServer::listen");

  mode = access_mode (priv->options);
  if (!abstract && mode != 0)
    errsv = bind_with_mode (fd, full, mode);
  else if (bind (fd, (struct sockaddr *) &addr, len) != 0)
    errsv = errno;

  if (errsv == 0 && listen (fd, priv->backlog) != 0)
    {
      errsv = errno;
      if (!abstract)
        unlink (full);
    }
  if (errsv != 0)
    {
      close (fd);
      return fail_with_errno (self, errsv, "QLocalServer::listen");
    }

  if (!abstract)
    priv->created_path = g_strdup (full);
  set_names (self, name, full);
  start_accepting (self, fd);
  return TRUE;
}

/**
 * qsock_local_server_listen_descriptor:
 * @self: a #QSockLocalServer
 * @fd: a listening Unix socket, for example one inherited through systemd
 *   socket activation; the server takes ownership
 *
 * Serves on an existing listening socket, as Qt's `listen(qintptr)`. The
 * names come from the socket's address (empty for an unnamed socket). The
 * server never removes a file it did not make.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
qsock_local_server_listen_descriptor (QSockLocalServer *self,
                                      int               fd)
{
  QSockLocalServerPrivate *priv;
  struct sockaddr_un addr;
  socklen_t len = sizeof addr;
  gsize path_len;

  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), FALSE);

  priv = PRIV (self);
  if (priv->acceptor.fd >= 0)
    {
      g_warning ("QLocalServer::listen() called when already listening");
      return FALSE;
    }

  memset (&addr, 0, sizeof addr);
  if (fcntl (fd, F_GETFD) < 0 || getsockname (fd, (struct sockaddr *) &addr, &len) != 0 ||
      addr.sun_family != AF_UNIX)
    {
      set_error (self, QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION, "QLocalServer::listen",
                 qsock_message (QSOCK_MSG_INVALID_DESCRIPTOR));
      return FALSE;
    }

  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  fcntl (fd, F_SETFD, FD_CLOEXEC);

  path_len = len > offsetof (struct sockaddr_un, sun_path) ? len - offsetof (struct sockaddr_un, sun_path) : 0;
  if (path_len > 1 && addr.sun_path[0] == '\0')
    {
      g_autofree char *name = g_strndup (addr.sun_path + 1, path_len - 1);

      priv->options |= QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE;
      set_names (self, name, name);
    }
  else if (path_len > 0 && addr.sun_path[0] != '\0')
    {
      g_autofree char *path = g_strndup (addr.sun_path, path_len);
      g_autofree char *base = g_path_get_basename (path);

      /* As Qt: the name is the file name, the full name the path. */
      set_names (self, base, path);
    }
  else
    set_names (self, NULL, NULL);

  start_accepting (self, fd);
  return TRUE;
}

/**
 * qsock_local_server_close:
 * @self: a #QSockLocalServer
 *
 * Stops listening, drops pending connections and removes the socket file
 * the server made, as Qt's `close()`.
 *
 * Since: 1.0
 */
void
qsock_local_server_close (QSockLocalServer *self)
{
  QSockLocalServerPrivate *priv;
  QSockLocal *socket;
  /* Aborting a pending socket emits; its handlers may drop our last
   * reference. */
  g_autoptr(GObject) keep = NULL;

  g_return_if_fail (QSOCK_IS_LOCAL_SERVER (self));

  keep = g_object_ref (G_OBJECT (self));
  priv = PRIV (self);
  while ((socket = g_queue_pop_head (&priv->pending)) != NULL)
    {
      qsock_local_abort (socket);
      g_object_unref (socket);
    }
  if (priv->acceptor.fd < 0)
    return;

  close_listener (self);
  set_names (self, NULL, NULL);
  g_clear_pointer (&priv->error_string, g_free);
  priv->error = QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET;
}

/**
 * qsock_local_server_is_listening:
 * @self: a #QSockLocalServer
 *
 * Whether the server is listening.
 *
 * Returns: %TRUE while listening
 *
 * Since: 1.0
 */
gboolean
qsock_local_server_is_listening (QSockLocalServer *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), FALSE);

  return PRIV (self)->acceptor.fd >= 0;
}

/**
 * qsock_local_server_remove_server:
 * @name: a server name, as given to qsock_local_server_listen()
 *
 * Removes the file at the name's path, as Qt's static `removeServer()`,
 * typically a stale socket left by a crashed server. Like Qt it does not
 * check what the file is.
 *
 * Returns: %TRUE if nothing is there any more
 *
 * Since: 1.0
 */
gboolean
qsock_local_server_remove_server (const char *name)
{
  g_autofree char *full = NULL;

  g_return_val_if_fail (name != NULL, FALSE);

  full = qsock_local_full_name (name, FALSE);
  return unlink (full) == 0 || errno == ENOENT;
}

/**
 * qsock_local_server_next_pending_connection:
 * @self: a #QSockLocalServer
 *
 * Takes the next accepted connection; the server accepts again if its
 * queue was full.
 *
 * Returns: (transfer full) (nullable): a connected socket, or %NULL
 *
 * Since: 1.0
 */
QSockLocal *
qsock_local_server_next_pending_connection (QSockLocalServer *self)
{
  QSockLocal *socket;

  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), NULL);

  socket = g_queue_pop_head (&PRIV (self)->pending);
  update_interest (self);
  return socket;
}

/**
 * qsock_local_server_has_pending_connections:
 * @self: a #QSockLocalServer
 *
 * Whether accepted connections are waiting.
 *
 * Returns: %TRUE if one is queued
 *
 * Since: 1.0
 */
gboolean
qsock_local_server_has_pending_connections (QSockLocalServer *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), FALSE);

  return PRIV (self)->pending.length > 0;
}

/**
 * qsock_local_server_add_pending_connection:
 * @self: a #QSockLocalServer
 * @socket: a connected socket
 *
 * Queues @socket for qsock_local_server_next_pending_connection(); for
 * overrides of #QSockLocalServerClass.incoming_connection (which then
 * emit #QSockLocalServer::new-connection themselves).
 *
 * Since: 1.0
 */
void
qsock_local_server_add_pending_connection (QSockLocalServer *self,
                                           QSockLocal       *socket)
{
  g_return_if_fail (QSOCK_IS_LOCAL_SERVER (self));
  g_return_if_fail (QSOCK_IS_LOCAL (socket));

  g_queue_push_tail (&PRIV (self)->pending, g_object_ref (socket));
  update_interest (self);
}

/**
 * qsock_local_server_get_max_pending_connections:
 * @self: a #QSockLocalServer
 *
 * Gets #QSockLocalServer:max-pending-connections.
 *
 * Returns: the limit
 *
 * Since: 1.0
 */
int
qsock_local_server_get_max_pending_connections (QSockLocalServer *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), 0);

  return PRIV (self)->max_pending;
}

/**
 * qsock_local_server_set_max_pending_connections:
 * @self: a #QSockLocalServer
 * @max: the limit
 *
 * Sets #QSockLocalServer:max-pending-connections.
 *
 * Since: 1.0
 */
void
qsock_local_server_set_max_pending_connections (QSockLocalServer *self,
                                                int               max)
{
  QSockLocalServerPrivate *priv;

  g_return_if_fail (QSOCK_IS_LOCAL_SERVER (self));

  priv = PRIV (self);
  if (priv->max_pending == max)
    return;
  priv->max_pending = max;
  update_interest (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_PENDING_CONNECTIONS]);
}

/**
 * qsock_local_server_get_listen_backlog_size:
 * @self: a #QSockLocalServer
 *
 * Gets #QSockLocalServer:listen-backlog-size.
 *
 * Returns: the backlog
 *
 * Since: 1.0
 */
int
qsock_local_server_get_listen_backlog_size (QSockLocalServer *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), 0);

  return PRIV (self)->backlog;
}

/**
 * qsock_local_server_set_listen_backlog_size:
 * @self: a #QSockLocalServer
 * @size: the backlog
 *
 * Sets #QSockLocalServer:listen-backlog-size for the next listen.
 *
 * Since: 1.0
 */
void
qsock_local_server_set_listen_backlog_size (QSockLocalServer *self,
                                            int               size)
{
  QSockLocalServerPrivate *priv;

  g_return_if_fail (QSOCK_IS_LOCAL_SERVER (self));

  priv = PRIV (self);
  if (priv->backlog == size)
    return;
  priv->backlog = size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LISTEN_BACKLOG_SIZE]);
}

/**
 * qsock_local_server_get_socket_options:
 * @self: a #QSockLocalServer
 *
 * Gets #QSockLocalServer:socket-options.
 *
 * Returns: the options
 *
 * Since: 1.0
 */
QSockLocalServerOptions
qsock_local_server_get_socket_options (QSockLocalServer *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), QSOCK_LOCAL_SERVER_OPTIONS_NONE);

  return PRIV (self)->options;
}

/**
 * qsock_local_server_set_socket_options:
 * @self: a #QSockLocalServer
 * @options: access permissions and namespace
 *
 * Sets #QSockLocalServer:socket-options, used by the next listen.
 *
 * Since: 1.0
 */
void
qsock_local_server_set_socket_options (QSockLocalServer       *self,
                                       QSockLocalServerOptions options)
{
  QSockLocalServerPrivate *priv;

  g_return_if_fail (QSOCK_IS_LOCAL_SERVER (self));

  priv = PRIV (self);
  if (priv->options == options)
    return;
  priv->options = options;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOCKET_OPTIONS]);
}

/**
 * qsock_local_server_get_server_name:
 * @self: a #QSockLocalServer
 *
 * Gets #QSockLocalServer:server-name.
 *
 * Returns: (nullable): the name
 *
 * Since: 1.0
 */
const char *
qsock_local_server_get_server_name (QSockLocalServer *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), NULL);

  return PRIV (self)->server_name;
}

/**
 * qsock_local_server_get_full_server_name:
 * @self: a #QSockLocalServer
 *
 * Gets #QSockLocalServer:full-server-name.
 *
 * Returns: (nullable): the path or abstract name
 *
 * Since: 1.0
 */
const char *
qsock_local_server_get_full_server_name (QSockLocalServer *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), NULL);

  return PRIV (self)->full_server_name;
}

/**
 * qsock_local_server_get_socket_descriptor:
 * @self: a #QSockLocalServer
 *
 * Gets the listening descriptor.
 *
 * Returns: the descriptor, or -1
 *
 * Since: 1.0
 */
int
qsock_local_server_get_socket_descriptor (QSockLocalServer *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), -1);

  return PRIV (self)->acceptor.fd;
}

/**
 * qsock_local_server_get_server_error:
 * @self: a #QSockLocalServer
 *
 * Gets the last error (a #QSockSocketError, as Qt's `serverError()`).
 *
 * Returns: the last error
 *
 * Since: 1.0
 */
QSockSocketError
qsock_local_server_get_server_error (QSockLocalServer *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);

  return PRIV (self)->error;
}

/**
 * qsock_local_server_get_error_string:
 * @self: a #QSockLocalServer
 *
 * The translated text of the last error, "QLocalServer::listen: Name
 * error" for example; empty before any error.
 *
 * Returns: (transfer none): the text
 *
 * Since: 1.0
 */
const char *
qsock_local_server_get_error_string (QSockLocalServer *self)
{
  QSockLocalServerPrivate *priv;

  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), "");

  priv = PRIV (self);
  return priv->error_string != NULL ? priv->error_string : "";
}

/**
 * qsock_local_server_wait_for_new_connection:
 * @self: a #QSockLocalServer
 * @msecs: how long to wait in milliseconds; -1 waits forever
 * @timed_out: (out) (optional): set to whether the wait timed out
 *
 * Blocks until a connection arrives and accepts it (signals are emitted
 * inside the call), as Qt's `waitForNewConnection()`. Needs no main loop.
 *
 * Returns: %TRUE if a connection is pending afterwards
 *
 * Since: 1.0
 */
gboolean
qsock_local_server_wait_for_new_connection (QSockLocalServer *self,
                                            int               msecs,
                                            gboolean         *timed_out)
{
  QSockLocalServerPrivate *priv;
  g_autoptr(QSockLocalServer) keep = NULL;

  g_return_val_if_fail (QSOCK_IS_LOCAL_SERVER (self), FALSE);

  if (timed_out != NULL)
    *timed_out = FALSE;

  priv = PRIV (self);
  if (priv->acceptor.fd < 0)
    return FALSE;

  keep = g_object_ref (self);
  if (priv->pending.length == 0 && !qsock_acceptor_wait (&priv->acceptor, msecs))
    {
      if (timed_out != NULL)
        *timed_out = TRUE;
      return FALSE;
    }
  return priv->pending.length > 0;
}

static const char * const local_accept_signals[] = { "new-connection", "notify::server-name", NULL };

static gboolean
local_accept_step (gpointer self,
                   GTask   *task)
{
  if (qsock_local_server_has_pending_connections (self))
    {
      qsock_async_return_pointer (task, qsock_local_server_next_pending_connection (self), g_object_unref);
      return TRUE;
    }
  if (!qsock_local_server_is_listening (self))
    {
      qsock_async_return_new_error (task, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_OPERATION, qsock_message (QSOCK_MSG_UNSUPPORTED));
      return TRUE;
    }
  return FALSE;
}

/**
 * qsock_local_server_accept_async:
 * @self: a listening #QSockLocalServer
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the next connection
 * @user_data: (closure): data for @callback
 *
 * Takes the next pending connection, waiting for one if none is queued.
 * Fails if the server stops listening. Cancelling takes nothing.
 *
 * Since: 1.0
 */
void
qsock_local_server_accept_async (QSockLocalServer    *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (QSOCK_IS_LOCAL_SERVER (self));

  qsock_async_start (self, "qsock_local_server_accept_async", cancellable, callback, user_data,
                     qsock_local_server_accept_async, NULL, NULL, NULL, local_accept_step, NULL,
                     local_accept_signals);
}

/**
 * qsock_local_server_accept_finish:
 * @self: a #QSockLocalServer
 * @result: the result
 * @error: return location for a #GError
 *
 * Finishes qsock_local_server_accept_async().
 *
 * Returns: (transfer full): a connected socket, or %NULL with @error set
 *
 * Since: 1.0
 */
QSockLocal *
qsock_local_server_accept_finish (QSockLocalServer *self,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
