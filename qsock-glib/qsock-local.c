/* qsock-local.c: Qt's QLocalSocket (Unix domain sockets)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * QSockLocal:
 *
 * A Unix domain stream socket, as Qt's `QLocalSocket` on Unix.
 *
 * As in Qt, connecting is synchronous: qsock_local_connect_to_server()
 * emits #QSockLocal::state-changed (%QSOCK_LOCAL_SOCKET_STATE_CONNECTING,
 * then %QSOCK_LOCAL_SOCKET_STATE_CONNECTED) and #QSockLocal::connected, or
 * #QSockLocal::error-occurred and the change back to
 * %QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED, before it returns. Only a server
 * whose backlog is full keeps the socket connecting; it then retries
 * every 10 ms (the kernel gives no wakeup when room appears), for up to 30
 * seconds.
 *
 * A relative name is looked up in the temporary directory
 * (g_get_tmp_dir(), so `$TMPDIR` or `/tmp`), an absolute one is used as it
 * is, and with %QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE the name lives
 * in Linux's abstract namespace.
 *
 * Reading, writing, back-pressure, closing and the blocking waits are the
 * same engine as #QSockTcp's: a #QSockLocal drives an inner stream socket
 * that reads into and writes from this device's own buffers, and maps its
 * states and errors to Qt's local ones (a remote close is
 * %QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED, "QLocalSocket: Remote closed").
 *
 * Beyond Qt, qsock_local_get_peer_credentials() tells who is at the other
 * end, and qsock_local_send_fds() / qsock_local_take_received_fds() pass
 * open file descriptors:
 *
 * |[<!-- language="C" -->
 * // sender: pass the read end of a pipe with one byte of data
 * g_autoptr(GUnixFDList) fds = g_unix_fd_list_new_from_array (&pipe_fds[0], 1);
 * qsock_local_send_fds (sock, fds, "p", 1, &error);
 *
 * // receiver, after ready-read brought the "p"
 * g_autoptr(GUnixFDList) got = qsock_local_take_received_fds (peer);
 * int fd = g_unix_fd_list_get (got, 0, &error);   // a dup, yours to close
 * ]|
 *
 * Where Qt 6.4 has plain bugs this class does the sensible thing:
 * qsock_local_get_error() does report %QSOCK_LOCAL_SOCKET_ERROR_OPERATION
 * (Qt's `error()` cannot), its text reads "connectToServer" (Qt's has a
 * typo), and qsock_local_set_socket_descriptor() with a bad descriptor
 * changes nothing (Qt leaves the state and open mode set).
 *
 * Since: 1.0
 */
#include "config.h"

#include "qsock-async-private.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qsock-local.h"
#include "qsock-local-private.h"
#include "qsock-abstract-private.h"
#include "qsock-enum-types.h"
#include "qsock-error.h"
#include "qsock-error-private.h"
#include "qsock-iodevice-private.h"
#include "qsock-tcp.h"
#include "qsock-watch-private.h"

#define CONNECT_TIMEOUT_MS 30000
/* A full backlog sends no wakeup when room appears (an unconnected Unix
 * socket always polls writable), so connecting retries on a timer. */
#define CONNECT_RETRY_MS   10

struct _QSockLocal
{
  QSockIODevice           parent_instance;

  GMainContext           *context;
  QSockAbstract          *inner;   /* the engine; shares our buffers */
  QSockLocalSocketState   state;
  QSockLocalSocketError   error;
  QSockLocalSocketOptions options;
  char                   *server_name;
  char                   *full_server_name;

  /* Connecting to a server whose backlog is full (EAGAIN) */
  int                     connecting_fd;
  guint                   connect_generation; /* one per connect_to_server() */
  GSource                *connecting_retry;
  GSource                *connecting_timer;
  QSockOpenMode           connecting_mode;
  struct sockaddr_un      connecting_addr;
  socklen_t               connecting_addr_len;
};

G_DEFINE_FINAL_TYPE (QSockLocal, qsock_local, QSOCK_TYPE_IODEVICE)

enum {
  PROP_0,
  PROP_STATE,
  PROP_ERROR,
  PROP_SERVER_NAME,
  PROP_FULL_SERVER_NAME,
  PROP_SOCKET_OPTIONS,
  PROP_READ_BUFFER_SIZE,
  PROP_SOCKET_DESCRIPTOR,
  PROP_HALF_CLOSE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  CONNECTED,
  DISCONNECTED,
  STATE_CHANGED,
  ERROR_OCCURRED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* State, errors and names: one place each */

static void
set_state (QSockLocal           *self,
           QSockLocalSocketState state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_signal_emit (self, signals[STATE_CHANGED], 0, state);
}

static void
set_error (QSockLocal           *self,
           QSockLocalSocketError code,
           const char           *function,
           const char           *text)
{
  g_autofree char *message = g_strdup_printf ("%s: %s", function, text);

  qsock_iodevice_set_error_string (QSOCK_IODEVICE (self), message);
  if (self->error == code)
    return;
  self->error = code;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
set_error_and_emit (QSockLocal           *self,
                    QSockLocalSocketError code,
                    const char           *function)
{
  set_error (self, code, function, qsock_local_message (code));
  g_signal_emit (self, signals[ERROR_OCCURRED], 0, code);
}

static void
set_names (QSockLocal *self,
           const char *name,
           const char *full_name)
{
  if (g_strcmp0 (self->server_name, name) != 0)
    {
      g_free (self->server_name);
      self->server_name = g_strdup (name);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_NAME]);
    }
  if (g_strcmp0 (self->full_server_name, full_name) != 0)
    {
      g_free (self->full_server_name);
      self->full_server_name = g_strdup (full_name);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FULL_SERVER_NAME]);
    }
}

void
qsock_local_set_names_internal (QSockLocal *self,
                                const char *name,
                                const char *full_name)
{
  set_names (self, name, full_name);
}

char *
qsock_local_full_name (const char *name,
                       gboolean    abstract)
{
  if (abstract || name[0] == '/')
    return g_strdup (name);
  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

socklen_t
qsock_local_sockaddr (const char         *full_name,
                      gboolean            abstract,
                      struct sockaddr_un *addr)
{
  gsize len = strlen (full_name);

  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (abstract)
    {
      /* sun_path[0] is NUL; the length, not a terminator, ends the name. */
      if (len + 1 > sizeof addr->sun_path)
        return 0;
      memcpy (addr->sun_path + 1, full_name, len);
      return offsetof (struct sockaddr_un, sun_path) + 1 + len;
    }
  if (len + 1 > sizeof addr->sun_path)
    return 0;
  memcpy (addr->sun_path, full_name, len);
  return offsetof (struct sockaddr_un, sun_path) + len + 1;
}

/* The inner engine's events, in Qt's local terms */

static QSockLocalSocketError
local_error_from (QSockSocketError code)
{
  switch (code)
    {
    case QSOCK_SOCKET_ERROR_CONNECTION_REFUSED:
      return QSOCK_LOCAL_SOCKET_ERROR_CONNECTION_REFUSED;
    case QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED:
      return QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED;
    case QSOCK_SOCKET_ERROR_HOST_NOT_FOUND:
      return QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND;
    case QSOCK_SOCKET_ERROR_SOCKET_ACCESS:
      return QSOCK_LOCAL_SOCKET_ERROR_SOCKET_ACCESS;
    case QSOCK_SOCKET_ERROR_SOCKET_RESOURCE:
      return QSOCK_LOCAL_SOCKET_ERROR_SOCKET_RESOURCE;
    case QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT:
      return QSOCK_LOCAL_SOCKET_ERROR_SOCKET_TIMEOUT;
    case QSOCK_SOCKET_ERROR_DATAGRAM_TOO_LARGE:
      return QSOCK_LOCAL_SOCKET_ERROR_DATAGRAM_TOO_LARGE;
    case QSOCK_SOCKET_ERROR_NETWORK:
      return QSOCK_LOCAL_SOCKET_ERROR_CONNECTION;
    case QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION:
      return QSOCK_LOCAL_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION;
    case QSOCK_SOCKET_ERROR_OPERATION:
      return QSOCK_LOCAL_SOCKET_ERROR_OPERATION;
    default:
      return QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET;
    }
}

static void
on_inner_error (QSockAbstract   *inner,
                QSockSocketError code,
                QSockLocal      *self)
{
  set_error_and_emit (self, local_error_from (code), "QLocalSocket");
}

static void
on_inner_state (QSockAbstract   *inner,
                QSockSocketState state,
                QSockLocal      *self)
{
  switch (state)
    {
    case QSOCK_SOCKET_STATE_CONNECTED:
      set_state (self, QSOCK_LOCAL_SOCKET_STATE_CONNECTED);
      break;
    case QSOCK_SOCKET_STATE_CLOSING:
      set_state (self, QSOCK_LOCAL_SOCKET_STATE_CLOSING);
      break;
    case QSOCK_SOCKET_STATE_UNCONNECTED:
      /* Qt forgets the server's name when the connection ends. */
      set_names (self, NULL, NULL);
      set_state (self, QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED);
      break;
    default:
      break;
    }
}

static void
on_inner_ready_read (QSockAbstract *inner,
                     QSockLocal    *self)
{
  qsock_iodevice_emit_ready_read (QSOCK_IODEVICE (self));
}

static void
on_inner_bytes_written (QSockAbstract *inner,
                        gint64         bytes,
                        QSockLocal    *self)
{
  qsock_iodevice_emit_bytes_written (QSOCK_IODEVICE (self), bytes);
}

static void
on_inner_read_channel_finished (QSockAbstract *inner,
                                QSockLocal    *self)
{
  qsock_iodevice_emit_read_channel_finished (QSOCK_IODEVICE (self));
}

static void
on_inner_disconnected (QSockAbstract *inner,
                       QSockLocal    *self)
{
  g_signal_emit (self, signals[DISCONNECTED], 0);
}

/* Connecting: Qt's _q_connectToSocket */

static void
stop_connecting (QSockLocal *self)
{
  if (self->connecting_retry != NULL)
    {
      g_source_destroy (self->connecting_retry);
      g_clear_pointer (&self->connecting_retry, g_source_unref);
    }
  if (self->connecting_timer != NULL)
    {
      g_source_destroy (self->connecting_timer);
      g_clear_pointer (&self->connecting_timer, g_source_unref);
    }
  if (self->connecting_fd >= 0)
    {
      close (self->connecting_fd);
      self->connecting_fd = -1;
    }
}

static QSockLocalSocketError
connect_error_from_errno (int errsv)
{
  switch (errsv)
    {
    case ENOENT:
    case ENAMETOOLONG:
    case ENOTDIR:
      return QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND;
    case ECONNREFUSED:
    case EINVAL:
      return QSOCK_LOCAL_SOCKET_ERROR_CONNECTION_REFUSED;
    case EACCES:
    case EPERM:
      return QSOCK_LOCAL_SOCKET_ERROR_SOCKET_ACCESS;
    case ETIMEDOUT:
      return QSOCK_LOCAL_SOCKET_ERROR_SOCKET_TIMEOUT;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      return QSOCK_LOCAL_SOCKET_ERROR_SOCKET_RESOURCE;
    default:
      return QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET;
    }
}

/* Qt's order for a failed connect: the error while still connecting, then
 * the change back to unconnected. */
static void
connect_failed (QSockLocal           *self,
                QSockLocalSocketError code)
{
  stop_connecting (self);
  set_error_and_emit (self, code, "QLocalSocket::connectToServer");
  set_names (self, NULL, NULL);
  set_state (self, QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED);
}

static void
connect_succeeded (QSockLocal *self)
{
  int fd = self->connecting_fd;

  self->connecting_fd = -1;
  stop_connecting (self);

  qsock_iodevice_open_device (QSOCK_IODEVICE (self), self->connecting_mode);
  if (!qsock_abstract_set_socket_descriptor (self->inner, fd, QSOCK_SOCKET_STATE_CONNECTED,
                                             self->connecting_mode))
    {
      close (fd);
      connect_failed (self, QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET);
      return;
    }
  if (self->state == QSOCK_LOCAL_SOCKET_STATE_CONNECTED)
    g_signal_emit (self, signals[CONNECTED], 0);
}

/* One connect() attempt. Returns FALSE while the backlog is full. */
static gboolean
try_connect (QSockLocal *self)
{
  int r;

  do
    r = connect (self->connecting_fd, (struct sockaddr *) &self->connecting_addr,
                 self->connecting_addr_len);
  while (r < 0 && errno == EINTR);

  if (r == 0 || errno == EISCONN)
    {
      connect_succeeded (self);
      return TRUE;
    }
  if (errno == EAGAIN || errno == EINPROGRESS)
    return FALSE;

  connect_failed (self, connect_error_from_errno (errno));
  return TRUE;
}

static gboolean
on_connecting_retry (gpointer user_data)
{
  QSockLocal *self = g_object_ref (user_data);

  /* try_connect() ends the retries itself on success or failure. */
  try_connect (self);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_connecting_timeout (gpointer user_data)
{
  QSockLocal *self = user_data;

  g_clear_pointer (&self->connecting_timer, g_source_unref);
  g_object_ref (self);
  connect_failed (self, QSOCK_LOCAL_SOCKET_ERROR_SOCKET_TIMEOUT);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
wait_for_backlog (QSockLocal *self)
{
  g_return_if_fail (self->connecting_retry == NULL && self->connecting_timer == NULL);

  self->connecting_retry = g_timeout_source_new (CONNECT_RETRY_MS);
  g_source_set_name (self->connecting_retry, "[qsock] local connect retry");
  g_source_set_callback (self->connecting_retry, on_connecting_retry, self, NULL);
  g_source_attach (self->connecting_retry, self->context);
  self->connecting_timer = g_timeout_source_new (CONNECT_TIMEOUT_MS);
  g_source_set_name (self->connecting_timer, "[qsock] local connect timeout");
  g_source_set_callback (self->connecting_timer, on_connecting_timeout, self, NULL);
  g_source_attach (self->connecting_timer, self->context);
}

/* QSockIODevice virtual functions: the inner engine does the work */

static gint64
qsock_local_read_data (QSockIODevice *device,
                       char          *data,
                       gint64         max_size)
{
  QSockLocal *self = QSOCK_LOCAL (device);

  return QSOCK_IODEVICE_GET_CLASS (self->inner)->read_data (QSOCK_IODEVICE (self->inner), data, max_size);
}

static gint64
qsock_local_write_data (QSockIODevice *device,
                        const char    *data,
                        gint64         size)
{
  QSockLocal *self = QSOCK_LOCAL (device);
  gint64 n = QSOCK_IODEVICE_GET_CLASS (self->inner)->write_data (QSOCK_IODEVICE (self->inner), data, size);

  if (n < 0)
    set_error (self, QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET, "QLocalSocket",
               qsock_iodevice_get_error_string (QSOCK_IODEVICE (self->inner)));
  return n;
}

static gboolean
qsock_local_open (QSockIODevice *device,
                  QSockOpenMode  mode)
{
  QSockLocal *self = QSOCK_LOCAL (device);

  qsock_local_connect_to_server (self, NULL, mode);
  return qsock_iodevice_is_open (device);
}

static void
qsock_local_close (QSockIODevice *device)
{
  QSockLocal *self = QSOCK_LOCAL (device);

  g_object_ref (self);
  QSOCK_IODEVICE_CLASS (qsock_local_parent_class)->close (device);
  /* Also from a state-changed (CONNECTING) handler, before the socket is
   * made: the attempt is given up either way. */
  if (self->state == QSOCK_LOCAL_SOCKET_STATE_CONNECTING)
    connect_failed (self, QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET);
  else
    qsock_iodevice_close (QSOCK_IODEVICE (self->inner));
  g_object_unref (self);
}

static gboolean
qsock_local_wait_for_ready_read (QSockIODevice *device,
                                 int            msecs)
{
  QSockLocal *self = QSOCK_LOCAL (device);

  if (self->state == QSOCK_LOCAL_SOCKET_STATE_CONNECTING &&
      !qsock_local_wait_for_connected (self, msecs))
    return FALSE;
  return qsock_iodevice_wait_for_ready_read (QSOCK_IODEVICE (self->inner), msecs);
}

static gboolean
qsock_local_wait_for_bytes_written (QSockIODevice *device,
                                    int            msecs)
{
  QSockLocal *self = QSOCK_LOCAL (device);

  if (self->state == QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED)
    {
      g_warning ("QLocalSocket::waitForBytesWritten() is not allowed in UnconnectedState");
      return FALSE;
    }
  return qsock_iodevice_wait_for_bytes_written (QSOCK_IODEVICE (self->inner), msecs);
}

/* GObject */

static void
qsock_local_dispose (GObject *object)
{
  QSockLocal *self = QSOCK_LOCAL (object);

  stop_connecting (self);
  if (self->inner != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->inner, self);
      qsock_iodevice_share_buffers (QSOCK_IODEVICE (self->inner), NULL);
      g_clear_object (&self->inner);
    }

  G_OBJECT_CLASS (qsock_local_parent_class)->dispose (object);
}

static void
qsock_local_finalize (GObject *object)
{
  QSockLocal *self = QSOCK_LOCAL (object);

  g_free (self->server_name);
  g_free (self->full_server_name);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (qsock_local_parent_class)->finalize (object);
}

static void
qsock_local_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  QSockLocal *self = QSOCK_LOCAL (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_enum (value, self->error);
      break;
    case PROP_SERVER_NAME:
      g_value_set_string (value, self->server_name);
      break;
    case PROP_FULL_SERVER_NAME:
      g_value_set_string (value, self->full_server_name);
      break;
    case PROP_SOCKET_OPTIONS:
      g_value_set_flags (value, self->options);
      break;
    case PROP_READ_BUFFER_SIZE:
      g_value_set_int64 (value, qsock_local_get_read_buffer_size (self));
      break;
    case PROP_SOCKET_DESCRIPTOR:
      g_value_set_int (value, qsock_local_get_socket_descriptor (self));
      break;
    case PROP_HALF_CLOSE:
      g_value_set_boolean (value, qsock_local_get_half_close (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_local_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  QSockLocal *self = QSOCK_LOCAL (object);

  switch (prop_id)
    {
    case PROP_SERVER_NAME:
      qsock_local_set_server_name (self, g_value_get_string (value));
      break;
    case PROP_SOCKET_OPTIONS:
      qsock_local_set_socket_options (self, g_value_get_flags (value));
      break;
    case PROP_READ_BUFFER_SIZE:
      qsock_local_set_read_buffer_size (self, g_value_get_int64 (value));
      break;
    case PROP_HALF_CLOSE:
      qsock_local_set_half_close (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_local_class_init (QSockLocalClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  QSockIODeviceClass *device_class = QSOCK_IODEVICE_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = qsock_local_dispose;
  object_class->finalize = qsock_local_finalize;
  object_class->get_property = qsock_local_get_property;
  object_class->set_property = qsock_local_set_property;

  device_class->open = qsock_local_open;
  device_class->close = qsock_local_close;
  device_class->read_data = qsock_local_read_data;
  device_class->write_data = qsock_local_write_data;
  device_class->wait_for_ready_read = qsock_local_wait_for_ready_read;
  device_class->wait_for_bytes_written = qsock_local_wait_for_bytes_written;

  /**
   * QSockLocal:state:
   *
   * The socket's state.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, QSOCK_TYPE_LOCAL_SOCKET_STATE,
                       QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED, ro);

  /**
   * QSockLocal:error:
   *
   * The last error.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR] =
    g_param_spec_enum ("error", NULL, NULL, QSOCK_TYPE_LOCAL_SOCKET_ERROR,
                       QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET, ro);

  /**
   * QSockLocal:server-name:
   *
   * The name given to connect to; %NULL when unconnected.
   *
   * Since: 1.0
   */
  properties[PROP_SERVER_NAME] = g_param_spec_string ("server-name", NULL, NULL, NULL, rw);

  /**
   * QSockLocal:full-server-name:
   *
   * The path (or abstract name) connected to; %NULL when unconnected.
   *
   * Since: 1.0
   */
  properties[PROP_FULL_SERVER_NAME] = g_param_spec_string ("full-server-name", NULL, NULL, NULL, ro);

  /**
   * QSockLocal:socket-options:
   *
   * How the name is resolved; set while unconnected.
   *
   * Since: 1.0
   */
  properties[PROP_SOCKET_OPTIONS] =
    g_param_spec_flags ("socket-options", NULL, NULL, QSOCK_TYPE_LOCAL_SOCKET_OPTIONS,
                        QSOCK_LOCAL_SOCKET_OPTIONS_NONE, rw);

  /**
   * QSockLocal:read-buffer-size:
   *
   * The most bytes the read buffer holds; 0 is unlimited. As
   * #QSockAbstract:read-buffer-size.
   *
   * Since: 1.0
   */
  properties[PROP_READ_BUFFER_SIZE] =
    g_param_spec_int64 ("read-buffer-size", NULL, NULL, G_MININT64, G_MAXINT64, 0, rw);

  /**
   * QSockLocal:socket-descriptor:
   *
   * The native descriptor, or -1.
   *
   * Since: 1.0
   */
  properties[PROP_SOCKET_DESCRIPTOR] =
    g_param_spec_int ("socket-descriptor", NULL, NULL, -1, G_MAXINT, -1, ro);

  /**
   * QSockLocal:half-close:
   *
   * Whether the peer's end of input (its shutdown of writing, as `socat`
   * does) only ends reading: #QSockIODevice::read-channel-finished is
   * emitted and the socket stays connected and writable, as with
   * #QSockAbstract:half-close. Off by default, as in Qt.
   *
   * Since: 1.2
   */
  properties[PROP_HALF_CLOSE] =
    g_param_spec_boolean ("half-close", NULL, NULL, FALSE, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * QSockLocal::connected:
   * @self: the socket
   *
   * Emitted when the connection is made (usually inside
   * qsock_local_connect_to_server()), after the state became
   * %QSOCK_LOCAL_SOCKET_STATE_CONNECTED.
   *
   * Since: 1.0
   */
  signals[CONNECTED] =
    g_signal_new ("connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * QSockLocal::disconnected:
   * @self: the socket
   *
   * Emitted when the connection has closed, after the state became
   * %QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED and after
   * #QSockIODevice::read-channel-finished.
   *
   * Since: 1.0
   */
  signals[DISCONNECTED] =
    g_signal_new ("disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * QSockLocal::state-changed:
   * @self: the socket
   * @state: the new state
   *
   * Emitted on every change of #QSockLocal:state.
   *
   * Since: 1.0
   */
  signals[STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, QSOCK_TYPE_LOCAL_SOCKET_STATE);

  /**
   * QSockLocal::error-occurred:
   * @self: the socket
   * @error: what went wrong
   *
   * Emitted when an error occurs. While connecting it comes before the state
   * changes back to %QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED; a peer's close is
   * reported while still connected, as in Qt.
   *
   * Since: 1.0
   */
  signals[ERROR_OCCURRED] =
    g_signal_new ("error-occurred", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, QSOCK_TYPE_LOCAL_SOCKET_ERROR);
}

static void
qsock_local_init (QSockLocal *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->state = QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED;
  self->error = QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET;
  self->connecting_fd = -1;

  self->inner = QSOCK_ABSTRACT (qsock_tcp_new ());
  qsock_iodevice_share_buffers (QSOCK_IODEVICE (self->inner), QSOCK_IODEVICE (self));
  qsock_abstract_set_collect_fds (self->inner, TRUE);
  g_signal_connect (self->inner, "error-occurred", G_CALLBACK (on_inner_error), self);
  g_signal_connect (self->inner, "state-changed", G_CALLBACK (on_inner_state), self);
  g_signal_connect (self->inner, "ready-read", G_CALLBACK (on_inner_ready_read), self);
  g_signal_connect (self->inner, "bytes-written", G_CALLBACK (on_inner_bytes_written), self);
  g_signal_connect (self->inner, "read-channel-finished", G_CALLBACK (on_inner_read_channel_finished), self);
  g_signal_connect (self->inner, "disconnected", G_CALLBACK (on_inner_disconnected), self);
}

/* Public API */

/**
 * qsock_local_new:
 *
 * Makes an unconnected local socket, bound to the thread-default main
 * context.
 *
 * Returns: (transfer full): a new socket
 *
 * Since: 1.0
 */
QSockLocal *
qsock_local_new (void)
{
  return g_object_new (QSOCK_TYPE_LOCAL, NULL);
}

/**
 * qsock_local_connect_to_server:
 * @self: a #QSockLocal
 * @name: (nullable): the server's name; %NULL uses #QSockLocal:server-name
 * @mode: how to open the device
 *
 * Connects to a local server, as Qt's `connectToServer()`: synchronously,
 * with every signal emitted inside the call (see the class overview). An
 * empty or unknown name fails with
 * %QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND, a socket file nobody listens
 * on with %QSOCK_LOCAL_SOCKET_ERROR_CONNECTION_REFUSED. Calling it while
 * connecting or connected emits %QSOCK_LOCAL_SOCKET_ERROR_OPERATION.
 *
 * Since: 1.0
 */
void
qsock_local_connect_to_server (QSockLocal   *self,
                               const char   *name,
                               QSockOpenMode mode)
{
  g_autoptr(QSockLocal) keep = NULL;
  g_autofree char *full = NULL;
  gboolean abstract;
  guint generation;

  g_return_if_fail (QSOCK_IS_LOCAL (self));

  if (self->state == QSOCK_LOCAL_SOCKET_STATE_CONNECTED ||
      self->state == QSOCK_LOCAL_SOCKET_STATE_CONNECTING)
    {
      set_error_and_emit (self, QSOCK_LOCAL_SOCKET_ERROR_OPERATION, "QLocalSocket::connectToServer");
      return;
    }

  keep = g_object_ref (self);
  if (name != NULL)
    qsock_local_set_server_name (self, name);

  /* A new attempt forgets the last one's error, as Qt. */
  if (self->error != QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET)
    {
      self->error = QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
    }

  generation = ++self->connect_generation;
  set_state (self, QSOCK_LOCAL_SOCKET_STATE_CONNECTING);
  /* A state-changed handler may have ended this attempt, or ended it and
   * started another (which then owns the connecting descriptor). */
  if (self->state != QSOCK_LOCAL_SOCKET_STATE_CONNECTING || generation != self->connect_generation)
    return;

  if (self->server_name == NULL || self->server_name[0] == '\0')
    {
      connect_failed (self, QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND);
      return;
    }

  abstract = (self->options & QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE) != 0;
  full = qsock_local_full_name (self->server_name, abstract);
  set_names (self, self->server_name, full);

  self->connecting_addr_len = qsock_local_sockaddr (full, abstract, &self->connecting_addr);
  if (self->connecting_addr_len == 0)
    {
      connect_failed (self, QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND);
      return;
    }

  self->connecting_mode = mode;
  self->connecting_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (self->connecting_fd < 0)
    {
      connect_failed (self, connect_error_from_errno (errno));
      return;
    }

  if (!try_connect (self))
    wait_for_backlog (self);
}

/**
 * qsock_local_disconnect_from_server:
 * @self: a #QSockLocal
 *
 * Closes the connection once queued data is written, as Qt's
 * `disconnectFromServer()`; see qsock_abstract_disconnect_from_host().
 *
 * Since: 1.0
 */
void
qsock_local_disconnect_from_server (QSockLocal *self)
{
  g_return_if_fail (QSOCK_IS_LOCAL (self));

  /* Still connecting (a backlog wait, or a state-changed handler before
   * the socket is made): nothing is queued yet, so the attempt just ends.
   * Qt carries on connecting here; honouring the call is what callers
   * mean by it. */
  if (self->state == QSOCK_LOCAL_SOCKET_STATE_CONNECTING)
    {
      g_autoptr(QSockHold) keep = qsock_iodevice_hold (self);

      stop_connecting (self);
      set_names (self, NULL, NULL);
      set_state (self, QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED);
      return;
    }
  qsock_abstract_disconnect_from_host (self->inner);
}

/**
 * qsock_local_abort:
 * @self: a #QSockLocal
 *
 * Closes at once, dropping queued data, as Qt's `QLocalSocket::abort()`.
 * As in Qt, #QSockIODevice::about-to-close comes last, after the state
 * change and #QSockLocal::disconnected.
 *
 * Since: 1.0
 */
void
qsock_local_abort (QSockLocal *self)
{
  g_autoptr(QSockLocal) keep = NULL;

  g_return_if_fail (QSOCK_IS_LOCAL (self));

  keep = g_object_ref (self);
  if (self->state == QSOCK_LOCAL_SOCKET_STATE_CONNECTING)
    connect_failed (self, QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET);
  qsock_abstract_abort (self->inner);
  QSOCK_IODEVICE_CLASS (qsock_local_parent_class)->close (QSOCK_IODEVICE (self));
}

/**
 * qsock_local_flush:
 * @self: a #QSockLocal
 *
 * Writes as much queued data as the kernel takes now, as Qt's `flush()`.
 *
 * Returns: %TRUE if any data was written
 *
 * Since: 1.0
 */
gboolean
qsock_local_flush (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), FALSE);

  return qsock_abstract_flush (self->inner);
}

/**
 * qsock_local_is_valid:
 * @self: a #QSockLocal
 *
 * Whether the socket is connected or connecting, as Qt's `isValid()`.
 *
 * Returns: %TRUE if usable
 *
 * Since: 1.0
 */
gboolean
qsock_local_is_valid (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), FALSE);

  return self->connecting_fd >= 0 || qsock_abstract_get_socket_descriptor (self->inner) >= 0;
}

/**
 * qsock_local_get_server_name:
 * @self: a #QSockLocal
 *
 * Gets #QSockLocal:server-name.
 *
 * Returns: (nullable): the name
 *
 * Since: 1.0
 */
const char *
qsock_local_get_server_name (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), NULL);

  return self->server_name;
}

/**
 * qsock_local_set_server_name:
 * @self: an unconnected #QSockLocal
 * @name: (nullable): the server's name
 *
 * Sets the name qsock_local_connect_to_server() uses when given none.
 * Ignored (with a warning) unless unconnected, as in Qt.
 *
 * Since: 1.0
 */
void
qsock_local_set_server_name (QSockLocal *self,
                             const char *name)
{
  g_return_if_fail (QSOCK_IS_LOCAL (self));

  if (self->state != QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED)
    {
      g_warning ("QLocalSocket::setServerName() called while not in unconnected state");
      return;
    }
  set_names (self, name, self->full_server_name);
}

/**
 * qsock_local_get_full_server_name:
 * @self: a #QSockLocal
 *
 * Gets #QSockLocal:full-server-name.
 *
 * Returns: (nullable): the path or abstract name
 *
 * Since: 1.0
 */
const char *
qsock_local_get_full_server_name (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), NULL);

  return self->full_server_name;
}

/**
 * qsock_local_get_socket_options:
 * @self: a #QSockLocal
 *
 * Gets #QSockLocal:socket-options.
 *
 * Returns: the options
 *
 * Since: 1.0
 */
QSockLocalSocketOptions
qsock_local_get_socket_options (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), QSOCK_LOCAL_SOCKET_OPTIONS_NONE);

  return self->options;
}

/**
 * qsock_local_set_socket_options:
 * @self: an unconnected #QSockLocal
 * @options: the options
 *
 * Sets #QSockLocal:socket-options; ignored (with a warning) unless
 * unconnected, as in Qt.
 *
 * Since: 1.0
 */
void
qsock_local_set_socket_options (QSockLocal             *self,
                                QSockLocalSocketOptions options)
{
  g_return_if_fail (QSOCK_IS_LOCAL (self));

  if (self->state != QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED)
    {
      g_warning ("QLocalSocket::setSocketOptions() called while not in unconnected state");
      return;
    }
  if (self->options == options)
    return;
  self->options = options;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOCKET_OPTIONS]);
}

/**
 * qsock_local_get_state:
 * @self: a #QSockLocal
 *
 * Gets the state.
 *
 * Returns: the state
 *
 * Since: 1.0
 */
QSockLocalSocketState
qsock_local_get_state (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED);

  return self->state;
}

/**
 * qsock_local_get_error:
 * @self: a #QSockLocal
 *
 * Gets the last error, as Qt's `QLocalSocket::error()`.
 *
 * Returns: the last error
 *
 * Since: 1.0
 */
QSockLocalSocketError
qsock_local_get_error (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET);

  return self->error;
}

/**
 * qsock_local_get_read_buffer_size:
 * @self: a #QSockLocal
 *
 * Gets #QSockLocal:read-buffer-size.
 *
 * Returns: the limit; 0 is unlimited
 *
 * Since: 1.0
 */
gint64
qsock_local_get_read_buffer_size (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), 0);

  return qsock_abstract_get_read_buffer_size (self->inner);
}

/**
 * qsock_local_set_read_buffer_size:
 * @self: a #QSockLocal
 * @size: the limit; 0 for unlimited
 *
 * Limits the read buffer, with the back-pressure of
 * qsock_abstract_set_read_buffer_size().
 *
 * Since: 1.0
 */
void
qsock_local_set_read_buffer_size (QSockLocal *self,
                                  gint64      size)
{
  g_return_if_fail (QSOCK_IS_LOCAL (self));

  if (qsock_abstract_get_read_buffer_size (self->inner) == size)
    return;
  qsock_abstract_set_read_buffer_size (self->inner, size);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READ_BUFFER_SIZE]);
}

/* The name a descriptor is bound or connected to (getsockname, then
 * getpeername), as Qt's describeSocket(). */
static void
describe_socket (QSockLocal *self,
                 int         fd)
{
  struct sockaddr_un addr;
  socklen_t len = sizeof addr;
  gsize path_len;

  memset (&addr, 0, sizeof addr);
  if (getsockname (fd, (struct sockaddr *) &addr, &len) != 0 || len <= offsetof (struct sockaddr_un, sun_path))
    {
      len = sizeof addr;
      if (getpeername (fd, (struct sockaddr *) &addr, &len) != 0 || len <= offsetof (struct sockaddr_un, sun_path))
        return;
    }

  path_len = len - offsetof (struct sockaddr_un, sun_path);
  if (addr.sun_path[0] == '\0')
    {
      g_autofree char *name = g_strndup (addr.sun_path + 1, path_len - 1);

      self->options |= QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE;
      set_names (self, name, name);
    }
  else
    {
      g_autofree char *path = g_strndup (addr.sun_path, path_len);
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *base = g_path_get_basename (path);

      set_names (self, g_strcmp0 (dir, g_get_tmp_dir ()) == 0 ? base : path, path);
    }
}

/**
 * qsock_local_get_half_close:
 * @self: a #QSockLocal
 *
 * Gets #QSockLocal:half-close.
 *
 * Returns: whether the peer's end of input only ends reading
 *
 * Since: 1.2
 */
gboolean
qsock_local_get_half_close (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), FALSE);

  return qsock_abstract_get_half_close (self->inner);
}

/**
 * qsock_local_set_half_close:
 * @self: a #QSockLocal
 * @half_close: whether the peer's end of input only ends reading
 *
 * Sets #QSockLocal:half-close.
 *
 * Since: 1.2
 */
void
qsock_local_set_half_close (QSockLocal *self,
                            gboolean    half_close)
{
  g_return_if_fail (QSOCK_IS_LOCAL (self));

  if (qsock_abstract_get_half_close (self->inner) == !!half_close)
    return;
  qsock_abstract_set_half_close (self->inner, half_close);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HALF_CLOSE]);
}

/**
 * qsock_local_shutdown_write:
 * @self: a #QSockLocal
 *
 * Shuts the sending side down once every queued byte is written, as
 * qsock_abstract_shutdown_write(). Not in Qt.
 *
 * Since: 1.2
 */
void
qsock_local_shutdown_write (QSockLocal *self)
{
  g_return_if_fail (QSOCK_IS_LOCAL (self));

  qsock_abstract_shutdown_write (self->inner);
}

/**
 * qsock_local_set_socket_descriptor:
 * @self: a #QSockLocal
 * @fd: a Unix stream socket; the socket takes ownership
 * @state: the state to take (usually %QSOCK_LOCAL_SOCKET_STATE_CONNECTED)
 * @mode: how to open the device
 *
 * Wraps an existing Unix socket, as Qt's `setSocketDescriptor()`: the
 * device opens and the state is taken without #QSockLocal::state-changed,
 * as in Qt. The server name comes from the address the descriptor is bound
 * or connected to.
 *
 * Returns: %TRUE on success; %FALSE (changing nothing) if @fd is not a socket
 *
 * Since: 1.0
 */
gboolean
qsock_local_set_socket_descriptor (QSockLocal           *self,
                                   int                   fd,
                                   QSockLocalSocketState state,
                                   QSockOpenMode         mode)
{
  QSockLocalSocketState previous;
  g_autoptr(QSockHold) keep = NULL;

  g_return_val_if_fail (QSOCK_IS_LOCAL (self), FALSE);

  /* The inner socket's state-changed reaches our handlers inside the call. */
  keep = qsock_iodevice_hold (self);
  stop_connecting (self);

  /* Qt takes the state without stateChanged(), then hands the descriptor
   * to its inner socket, whose own change is then no change. */
  previous = self->state;
  self->state = state;
  if (!qsock_abstract_set_socket_descriptor (self->inner, fd, (QSockSocketState) state, mode))
    {
      /* Qt reports UnsupportedSocketOperationError with "Unknown error" and
       * keeps the state it took; we say what was wrong and keep ours. */
      self->state = previous;
      /* -1 is "no descriptor", and Qt sets no error for it either. */
      if (fd != -1)
        set_error (self, QSOCK_LOCAL_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION,
                   "QLocalSocket::setSocketDescriptor",
                   qsock_iodevice_get_error_string (QSOCK_IODEVICE (self->inner)));
      return FALSE;
    }
  if (previous != state)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);

  qsock_iodevice_open_device (QSOCK_IODEVICE (self), mode);
  describe_socket (self, fd);
  return TRUE;
}

/**
 * qsock_local_get_socket_descriptor:
 * @self: a #QSockLocal
 *
 * Gets the native descriptor; it stays owned by the socket.
 *
 * Returns: the descriptor, or -1
 *
 * Since: 1.0
 */
int
qsock_local_get_socket_descriptor (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), -1);

  if (self->connecting_fd >= 0)
    return self->connecting_fd;
  return qsock_abstract_get_socket_descriptor (self->inner);
}

/**
 * qsock_local_wait_for_connected:
 * @self: a #QSockLocal
 * @msecs: how long to wait in milliseconds; -1 waits forever
 *
 * Waits while the socket is still connecting to a server with a full
 * backlog, as Qt's `waitForConnected()`. Connecting is otherwise
 * synchronous, so this returns at once. A timeout sets no error, as in Qt.
 *
 * Returns: %TRUE if connected
 *
 * Since: 1.0
 */
gboolean
qsock_local_wait_for_connected (QSockLocal *self,
                                int         msecs)
{
  gint64 deadline;
  g_autoptr(QSockLocal) keep = NULL;

  g_return_val_if_fail (QSOCK_IS_LOCAL (self), FALSE);

  keep = g_object_ref (self);
  deadline = msecs < 0 ? -1 : g_get_monotonic_time () + (gint64) msecs * 1000;
  while (self->state == QSOCK_LOCAL_SOCKET_STATE_CONNECTING && self->connecting_fd >= 0)
    {
      gint64 left = deadline < 0 ? G_MAXINT64 : deadline - g_get_monotonic_time ();

      if (try_connect (self))
        break;
      if (left <= 0)
        return FALSE;
      g_usleep (MIN (left, CONNECT_RETRY_MS * 1000));
    }
  return self->state == QSOCK_LOCAL_SOCKET_STATE_CONNECTED;
}

/**
 * qsock_local_wait_for_disconnected:
 * @self: a #QSockLocal
 * @msecs: how long to wait in milliseconds; -1 waits forever
 *
 * Blocks until the connection has closed, as Qt's
 * `waitForDisconnected()`; see qsock_abstract_wait_for_disconnected().
 *
 * Returns: %TRUE if disconnected
 *
 * Since: 1.0
 */
gboolean
qsock_local_wait_for_disconnected (QSockLocal *self,
                                   int         msecs)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), FALSE);

  if (self->state == QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED)
    {
      g_warning ("QLocalSocket::waitForDisconnected() is not allowed in UnconnectedState");
      return FALSE;
    }
  return qsock_abstract_wait_for_disconnected (self->inner, msecs);
}

/**
 * qsock_local_get_peer_credentials:
 * @self: a connected #QSockLocal
 * @error: return location for a #GError
 *
 * Who is at the other end: the peer's process, user and group IDs as the
 * kernel recorded them when the connection was made (SO_PEERCRED). Use it
 * to authorise callers of a local service. Not in Qt.
 *
 * Returns: (transfer full): the peer's credentials, or %NULL with @error set
 *
 * Since: 1.0
 */
GCredentials *
qsock_local_get_peer_credentials (QSockLocal *self,
                                  GError    **error)
{
  GCredentials *credentials;
  struct ucred native;
  socklen_t len = sizeof native;
  int fd;

  g_return_val_if_fail (QSOCK_IS_LOCAL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  fd = qsock_abstract_get_socket_descriptor (self->inner);
  if (fd < 0)
    {
      g_set_error_literal (error, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET,
                           qsock_message (QSOCK_MSG_NOT_CONNECTED));
      return NULL;
    }
  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &native, &len) != 0)
    {
      const char *message;
      QSockSocketError code = qsock_error_from_errno (errno, QSOCK_OP_OPTION, &message);

      g_set_error_literal (error, QSOCK_SOCKET_ERROR, code, message);
      return NULL;
    }

  credentials = g_credentials_new ();
  g_credentials_set_native (credentials, G_CREDENTIALS_TYPE_LINUX_UCRED, &native);
  return credentials;
}

/**
 * qsock_local_send_fds:
 * @self: a connected #QSockLocal
 * @fds: the descriptors to pass (they stay open here)
 * @data: (array length=size) (element-type guint8): the bytes that carry
 *   them; at least one
 * @size: the length of @data
 * @error: return location for a #GError
 *
 * Passes open file descriptors to the peer with @data (SCM_RIGHTS). Queued
 * data is written first, blocking for up to 30 seconds, so the bytes keep
 * their order; the descriptors travel with the first byte of @data. The
 * peer takes them with qsock_local_take_received_fds() once that byte has
 * arrived. Not in Qt.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
qsock_local_send_fds (QSockLocal   *self,
                      GUnixFDList  *fds,
                      const char   *data,
                      gsize         size,
                      GError      **error)
{
  union { char buf[CMSG_SPACE (sizeof (int) * 64)]; struct cmsghdr align; } control;
  struct iovec iov = { (void *) data, size };
  struct msghdr msg = { 0 };
  struct cmsghdr *c;
  const int *fd_array;
  int n_fds;
  int fd;
  gssize n;

  g_return_val_if_fail (QSOCK_IS_LOCAL (self), FALSE);
  g_return_val_if_fail (G_IS_UNIX_FD_LIST (fds), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  fd = qsock_abstract_get_socket_descriptor (self->inner);
  if (self->state != QSOCK_LOCAL_SOCKET_STATE_CONNECTED || fd < 0)
    {
      g_set_error_literal (error, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET,
                           qsock_message (QSOCK_MSG_NOT_CONNECTED));
      return FALSE;
    }
  fd_array = g_unix_fd_list_peek_fds (fds, &n_fds);
  if (size == 0 || n_fds < 1 || n_fds > 64)
    {
      g_set_error_literal (error, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION,
                           qsock_message (QSOCK_MSG_UNSUPPORTED));
      return FALSE;
    }

  while (qsock_iodevice_bytes_to_write (QSOCK_IODEVICE (self)) > 0)
    if (!qsock_iodevice_wait_for_bytes_written (QSOCK_IODEVICE (self->inner), 30000))
      {
        g_set_error_literal (error, QSOCK_SOCKET_ERROR, qsock_abstract_get_error (self->inner),
                             qsock_iodevice_get_error_string (QSOCK_IODEVICE (self->inner)));
        return FALSE;
      }

  memset (&control, 0, sizeof control);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = CMSG_SPACE (sizeof (int) * n_fds);
  c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int) * n_fds);
  memcpy (CMSG_DATA (c), fd_array, sizeof (int) * n_fds);

  for (;;)
    {
      n = sendmsg (fd, &msg, MSG_NOSIGNAL);
      if (n >= 0)
        break;
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN && qsock_fd_wait (fd, G_IO_OUT, (gint64) 30000 * 1000) != 0)
        continue;

      {
        const char *message;
        QSockSocketError code = qsock_error_from_errno (errno, QSOCK_OP_WRITE, &message);
        g_set_error_literal (error, QSOCK_SOCKET_ERROR, code, message);
      }
      return FALSE;
    }

  /* What the kernel did not take goes out with the rest of the stream. */
  if ((gsize) n < size)
    qsock_iodevice_write (QSOCK_IODEVICE (self), data + n, size - n);
  if (n > 0)
    qsock_iodevice_emit_bytes_written (QSOCK_IODEVICE (self), n);
  return TRUE;
}

/**
 * qsock_local_take_received_fds:
 * @self: a #QSockLocal
 *
 * Takes the descriptors the peer passed with qsock_local_send_fds() (or
 * any SCM_RIGHTS message) that have arrived so far. They arrive with the
 * bytes that carried them: read those, then take the descriptors. At most
 * 256 are kept until taken; more are closed on arrival, so a peer cannot
 * fill the process's descriptor table. Not in Qt.
 *
 * Returns: (transfer full): the descriptors (possibly none); the list owns
 *   them
 *
 * Since: 1.0
 */
GUnixFDList *
qsock_local_take_received_fds (QSockLocal *self)
{
  g_return_val_if_fail (QSOCK_IS_LOCAL (self), NULL);

  return qsock_abstract_take_received_fds (self->inner);
}

/* Asynchronous connecting and waiting */

static const char * const local_state_signals[] = { "state-changed", NULL };

typedef struct
{
  char          *name;
  QSockOpenMode  mode;
} LocalConnectArgs;

static void
local_connect_args_free (gpointer data)
{
  LocalConnectArgs *args = data;

  g_free (args->name);
  g_free (args);
}

static void
local_connect_begin (gpointer self,
                     GTask   *task)
{
  LocalConnectArgs *args = g_task_get_task_data (task);

  qsock_local_connect_to_server (self, args->name, args->mode);
}

static gboolean
local_connect_step (gpointer self,
                    GTask   *task)
{
  QSockLocal *local = self;

  if (local->state == QSOCK_LOCAL_SOCKET_STATE_CONNECTED)
    {
      qsock_async_return_boolean (task, TRUE);
      return TRUE;
    }
  if (local->state == QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED)
    {
      qsock_async_return_error (task, qsock_async_error_new (local->error,
                                                        qsock_iodevice_get_error_string (self)));
      return TRUE;
    }
  return FALSE;
}

static void
local_connect_cancelled (gpointer self)
{
  qsock_local_abort (self);
}

/**
 * qsock_local_connect_to_server_async:
 * @self: a #QSockLocal
 * @name: (nullable): the server's name; %NULL uses #QSockLocal:server-name
 * @mode: how to open the device
 * @cancellable: (nullable): a #GCancellable; cancelling aborts the attempt
 * @callback: (scope async): called once connected or failed
 * @user_data: (closure): data for @callback
 *
 * Runs qsock_local_connect_to_server() and completes when connected or
 * failed (a full backlog keeps it connecting); the failure is the socket's
 * #QSockLocalSocketError code in the %QSOCK_SOCKET_ERROR domain (the
 * numbers are the same).
 *
 * Since: 1.0
 */
void
qsock_local_connect_to_server_async (QSockLocal          *self,
                                     const char          *name,
                                     QSockOpenMode        mode,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  LocalConnectArgs *args;

  g_return_if_fail (QSOCK_IS_LOCAL (self));

  args = g_new0 (LocalConnectArgs, 1);
  args->name = g_strdup (name);
  args->mode = mode;
  qsock_async_start (self, "qsock_local_connect_async", cancellable, callback, user_data,
                     qsock_local_connect_to_server_async, args, local_connect_args_free,
                     local_connect_begin, local_connect_step, local_connect_cancelled,
                     local_state_signals);
}

/**
 * qsock_local_connect_to_server_finish:
 * @self: a #QSockLocal
 * @result: the result
 * @error: return location for a #GError
 *
 * Finishes qsock_local_connect_to_server_async().
 *
 * Returns: %TRUE if connected
 *
 * Since: 1.0
 */
gboolean
qsock_local_connect_to_server_finish (QSockLocal   *self,
                                      GAsyncResult *result,
                                      GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
local_disconnected_step (gpointer self,
                         GTask   *task)
{
  if (QSOCK_LOCAL (self)->state != QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED)
    return FALSE;
  qsock_async_return_boolean (task, TRUE);
  return TRUE;
}

/**
 * qsock_local_wait_for_disconnected_async:
 * @self: a #QSockLocal
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called once the socket is unconnected
 * @user_data: (closure): data for @callback
 *
 * Completes when the state becomes %QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED,
 * the asynchronous form of qsock_local_wait_for_disconnected().
 *
 * Since: 1.0
 */
void
qsock_local_wait_for_disconnected_async (QSockLocal          *self,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (QSOCK_IS_LOCAL (self));

  qsock_async_start (self, "qsock_local_disconnected_async", cancellable, callback, user_data,
                     qsock_local_wait_for_disconnected_async, NULL, NULL,
                     NULL, local_disconnected_step, NULL, local_state_signals);
}

/**
 * qsock_local_wait_for_disconnected_finish:
 * @self: a #QSockLocal
 * @result: the result
 * @error: return location for a #GError
 *
 * Finishes qsock_local_wait_for_disconnected_async().
 *
 * Returns: %TRUE once disconnected
 *
 * Since: 1.0
 */
gboolean
qsock_local_wait_for_disconnected_finish (QSockLocal   *self,
                                          GAsyncResult *result,
                                          GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
