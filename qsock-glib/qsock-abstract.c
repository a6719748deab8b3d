/* qsock-abstract.c: Qt's QAbstractSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * QSockAbstract:
 *
 * The state machine of Qt's `QAbstractSocket`: lookup, connect, buffered
 * reading and writing, disconnect, and the blocking `wait_for_*` calls.
 *
 * Everything Qt emits synchronously inside a call is emitted inside the
 * same call here, and everything Qt emits later from its event loop is
 * emitted later from the thread-default #GMainContext that was current
 * when the socket was made. With an IP literal, qsock_abstract_connect_to_host()
 * emits #QSockAbstract::state-changed (%QSOCK_SOCKET_STATE_HOST_LOOKUP,
 * then %QSOCK_SOCKET_STATE_CONNECTING) and #QSockAbstract::host-found
 * before it returns; #QSockAbstract::connected comes from the main loop.
 *
 * The data path: the kernel is read straight into the read buffer when
 * the socket is readable (at most the free room under
 * #QSockAbstract:read-buffer-size; a full buffer stops reading, so the
 * kernel and TCP flow control hold the rest), then #QSockIODevice::ready-read
 * is emitted. Writes are queued and leave when the socket is writable,
 * followed by #QSockIODevice::bytes-written.
 *
 * Errors are reported as in Qt: a %FALSE or -1 return, then
 * qsock_abstract_get_error() and qsock_iodevice_get_error_string(), and
 * #QSockAbstract::error-occurred where Qt emits `errorOccurred()`.
 * Connect-phase failures change the state to
 * %QSOCK_SOCKET_STATE_UNCONNECTED before the error is emitted; failures of
 * an established connection emit the error first, while still connected.
 *
 * The `wait_for_*` calls need no main loop: they wait on the socket itself
 * (so they work in a worker thread) and emit the signals from inside the
 * call.
 *
 * Since: 1.0
 */
#include "config.h"

#include "qsock-async-private.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>

#include "qsock-abstract.h"
#include "qsock-abstract-private.h"
#include "qsock-iodevice-private.h"
#include "qsock-enum-types.h"
#include "qsock-error-private.h"
#include "qsock-host-address.h"
#include "qsock-resolve-private.h"
#include "qsock-socket-private.h"
#include "qsock-watch-private.h"

#define CONNECT_TIMEOUT_MS 30000
#define READ_HINT_MIN      (4 * 1024)
#define READ_HINT_MAX      (64 * 1024)
#define READ_BURST_MAX     (1024 * 1024)
#define MAX_WRITE_IOVECS   64
#define MAX_KEPT_FDS       256

typedef struct
{
  GMainContext     *context;
  QSockSocketType   type;
  QSockSocketState  state;
  QSockSocketError  error;

  int               fd;
  GSocketFamily     family;
  QSockWatch       *watch;

  char             *peer_name;
  GInetAddress     *peer_address;
  guint16           peer_port;
  GInetAddress     *local_address;
  guint16           local_port;

  gint64            read_buffer_size;
  gsize             read_hint;
  QSockPauseModes   pause_mode;

  /* Connecting */
  QSockNetworkLayerProtocol protocol;
  GPtrArray        *candidates;        /* GInetAddress, the list twice as Qt */
  guint             next_candidate;
  guint16           connect_port;
  GCancellable     *lookup_cancellable;
  GSource          *lookup_start;     /* the lookup, not begun yet */
  QSockSocketError  emitted_error;    /* the last error-occurred since connecting */
  struct sockaddr_storage attempt;    /* the address being connected to */
  socklen_t         attempt_len;
  GSource          *connect_timer;
  QSockSocketError  candidate_error;
  const char       *candidate_message;

  guint             read_paused : 1;   /* read buffer full */
  guint             half_close : 1;    /* the property */
  guint             attempt_connected : 1; /* this connect_to_host() got there */
  guint             read_eof : 1;      /* half-closed: the peer's FIN came */
  guint             write_shut : 1;    /* shutdown (SHUT_WR) done */
  guint             shutdown_pending : 1; /* ... once the write buffer is empty */
  guint             datagram_pending : 1; /* UDP: ready-read told, not yet read */
  guint             collect_fds : 1;   /* Unix: keep SCM_RIGHTS descriptors */
  guint             write_blocked : 1; /* the kernel's send buffer was full */
  GArray           *received_fds;
  guint             pending_close : 1; /* disconnect once connected */
  guint             aborting : 1;
} QSockAbstractPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (QSockAbstract, qsock_abstract, QSOCK_TYPE_IODEVICE)

#define PRIV(self) ((QSockAbstractPrivate *) qsock_abstract_get_instance_private (self))

enum {
  PROP_0,
  PROP_SOCKET_TYPE,
  PROP_STATE,
  PROP_ERROR,
  PROP_PEER_ADDRESS,
  PROP_PEER_NAME,
  PROP_PEER_PORT,
  PROP_LOCAL_ADDRESS,
  PROP_LOCAL_PORT,
  PROP_READ_BUFFER_SIZE,
  PROP_SOCKET_DESCRIPTOR,
  PROP_PAUSE_MODE,
  PROP_HALF_CLOSE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  HOST_FOUND,
  CONNECTED,
  DISCONNECTED,
  STATE_CHANGED,
  ERROR_OCCURRED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void connect_to_next_candidate (QSockAbstract *self);
static void disconnect_internal       (QSockAbstract *self);
static void update_interest           (QSockAbstract *self);

/* State and errors: the one place each changes */

static void
set_state (QSockAbstract   *self,
           QSockSocketState state)
{
  QSockAbstractPrivate *priv = PRIV (self);

  if (priv->state == state)
    return;

  priv->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_signal_emit (self, signals[STATE_CHANGED], 0, state);
}

void
qsock_abstract_set_error (QSockAbstract   *self,
                          QSockSocketError code,
                          const char      *message)
{
  QSockAbstractPrivate *priv = PRIV (self);

  qsock_iodevice_set_error_string (QSOCK_IODEVICE (self), message);
  if (priv->error == code)
    return;

  priv->error = code;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

void
qsock_abstract_set_error_and_emit (QSockAbstract   *self,
                                   QSockSocketError code,
                                   const char      *message)
{
  /* notify::error may drop the last reference before error-occurred. */
  qsock_iodevice_hold (self);
  PRIV (self)->emitted_error = code;
  qsock_abstract_set_error (self, code, message);
  g_signal_emit (self, signals[ERROR_OCCURRED], 0, code);
  qsock_iodevice_release (self);
}

static void
set_errno_error_and_emit (QSockAbstract *self,
                          int            errsv,
                          QSockOperation op)
{
  const char *message;
  QSockSocketError code = qsock_error_from_errno (errsv, op, &message);

  qsock_abstract_set_error_and_emit (self, code, message);
}

void
qsock_abstract_set_socket_type_internal (QSockAbstract  *self,
                                         QSockSocketType type)
{
  PRIV (self)->type = type;
}

/* Addresses */

static void
clear_endpoints (QSockAbstract *self,
                 gboolean       keep_local)
{
  QSockAbstractPrivate *priv = PRIV (self);
  GObject *object = G_OBJECT (self);

  g_object_freeze_notify (object);
  if (priv->peer_address != NULL || priv->peer_port != 0)
    {
      g_clear_object (&priv->peer_address);
      priv->peer_port = 0;
      g_object_notify_by_pspec (object, properties[PROP_PEER_ADDRESS]);
      g_object_notify_by_pspec (object, properties[PROP_PEER_PORT]);
    }
  if (!keep_local && (priv->local_address != NULL || priv->local_port != 0))
    {
      g_clear_object (&priv->local_address);
      priv->local_port = 0;
      g_object_notify_by_pspec (object, properties[PROP_LOCAL_ADDRESS]);
      g_object_notify_by_pspec (object, properties[PROP_LOCAL_PORT]);
    }
  g_object_thaw_notify (object);
}

/* Reads getsockname()/getpeername() into the cached endpoints. */
static void
fetch_endpoint (int            fd,
                gboolean       peer,
                GInetAddress **address,
                guint16       *port)
{
  struct sockaddr_storage storage;
  socklen_t len = sizeof storage;

  g_clear_object (address);
  *port = 0;

  if ((peer ? getpeername (fd, (struct sockaddr *) &storage, &len)
            : getsockname (fd, (struct sockaddr *) &storage, &len)) != 0)
    return;
  *address = qsock_inet_from_sockaddr ((struct sockaddr *) &storage, len, port);
}

static void
fetch_connection_parameters (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);
  GObject *object = G_OBJECT (self);

  g_object_freeze_notify (object);
  fetch_endpoint (priv->fd, FALSE, &priv->local_address, &priv->local_port);
  fetch_endpoint (priv->fd, TRUE, &priv->peer_address, &priv->peer_port);
  g_object_notify_by_pspec (object, properties[PROP_LOCAL_ADDRESS]);
  g_object_notify_by_pspec (object, properties[PROP_LOCAL_PORT]);
  g_object_notify_by_pspec (object, properties[PROP_PEER_ADDRESS]);
  g_object_notify_by_pspec (object, properties[PROP_PEER_PORT]);
  g_object_thaw_notify (object);
}

/* The socket layer */

static void
on_socket_ready (gpointer     user_data,
                 GIOCondition ready);

static void
stop_connect_timer (QSockAbstractPrivate *priv)
{
  if (priv->connect_timer == NULL)
    return;
  g_source_destroy (priv->connect_timer);
  g_clear_pointer (&priv->connect_timer, g_source_unref);
}

static void
cancel_lookup (QSockAbstractPrivate *priv)
{
  if (priv->lookup_start != NULL)
    {
      g_source_destroy (priv->lookup_start);
      g_clear_pointer (&priv->lookup_start, g_source_unref);
    }
  if (priv->lookup_cancellable == NULL)
    return;
  g_cancellable_cancel (priv->lookup_cancellable);
  g_clear_object (&priv->lookup_cancellable);
}

static void
reset_socket_layer (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);
  gboolean had_fd = priv->fd >= 0;

  stop_connect_timer (priv);
  g_clear_pointer (&priv->watch, qsock_watch_free);
  if (priv->fd >= 0)
    close (priv->fd);
  priv->fd = -1;
  priv->family = G_SOCKET_FAMILY_INVALID;
  priv->read_paused = FALSE;
  priv->datagram_pending = FALSE;
  priv->write_blocked = FALSE;
  priv->read_eof = FALSE;
  priv->write_shut = FALSE;
  priv->shutdown_pending = FALSE;
  if (had_fd)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOCKET_DESCRIPTOR]);
}

static void
adopt_socket (QSockAbstract *self,
              int            fd,
              GSocketFamily  family)
{
  QSockAbstractPrivate *priv = PRIV (self);

  reset_socket_layer (self);
  priv->fd = fd;
  priv->family = family;
  priv->watch = qsock_watch_new (priv->context, priv->fd, "[qsock] socket",
                                 on_socket_ready, self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOCKET_DESCRIPTOR]);
}

/* As Qt: UDP sockets may broadcast, and report where each datagram was
 * sent to (address, interface) and its hop limit. An IPv6 socket is dual
 * stack, so it asks for the IPv4 forms too. */
static void
enable_datagram_options (int           fd,
                         GSocketFamily family)
{
  int on = 1;

  setsockopt (fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  setsockopt (fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  setsockopt (fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
  if (family == G_SOCKET_FAMILY_IPV6)
    {
      setsockopt (fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
      setsockopt (fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
    }
}

/* On failure, *message is a static (translated) text. */
static gboolean
create_socket (QSockAbstract   *self,
               GSocketFamily    family,
               QSockSocketError *code,
               const char      **message)
{
  QSockAbstractPrivate *priv = PRIV (self);
  int fd = qsock_socket_create (family, priv->type == QSOCK_SOCKET_TYPE_UDP ? SOCK_DGRAM : SOCK_STREAM);

  if (fd < 0)
    {
      *code = qsock_error_from_errno (errno, QSOCK_OP_CREATE, message);
      return FALSE;
    }

  if (priv->type == QSOCK_SOCKET_TYPE_UDP)
    enable_datagram_options (fd, family);
  adopt_socket (self, fd, family);
  return TRUE;
}

/* Which readiness the socket needs now: writable while connecting or while
 * data is queued, readable while connected and the buffer has room. */
static void
update_interest (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);
  GIOCondition interest = 0;

  if (priv->watch == NULL)
    return;

  if (priv->type == QSOCK_SOCKET_TYPE_UDP)
    {
      /* Unbuffered: one ready-read until a datagram is read, as Qt. */
      if ((priv->state == QSOCK_SOCKET_STATE_BOUND || priv->state == QSOCK_SOCKET_STATE_CONNECTED) &&
          !priv->datagram_pending)
        interest = G_IO_IN;
      qsock_watch_set_interest (priv->watch, interest);
      return;
    }

  switch (priv->state)
    {
    case QSOCK_SOCKET_STATE_CONNECTING:
      interest = G_IO_OUT;
      break;
    case QSOCK_SOCKET_STATE_CONNECTED:
      if (!priv->read_paused && !priv->read_eof)
        interest |= G_IO_IN;
      G_GNUC_FALLTHROUGH;
    case QSOCK_SOCKET_STATE_CLOSING:
      /* Queued data leaves from the loop (as in Qt), by a flush at the end
       * of the dispatch pass; only a full kernel buffer needs writability
       * watched. */
      if (!qsock_buffer_is_empty (qsock_iodevice_get_write_buffer (QSOCK_IODEVICE (self))))
        {
          if (priv->write_blocked)
            interest |= G_IO_OUT;
          else
            qsock_watch_want_flush (priv->watch);
        }
      break;
    default:
      break;
    }

  qsock_watch_set_interest (priv->watch, interest);
}

/* Reading: Qt's canReadNotification() + readFromSocket() */

static void
handle_read_failure (QSockAbstract *self,
                     int            errsv)
{
  /* Remote close (EOF or reset) is reported while still connected, then
   * the connection winds down, as Qt does. */
  if (errsv == 0)
    qsock_abstract_set_error_and_emit (self, QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED,
                                       qsock_message (QSOCK_MSG_REMOTE_CLOSED));
  else
    set_errno_error_and_emit (self, errsv, QSOCK_OP_READ);

  reset_socket_layer (self);
  disconnect_internal (self);
}

/* Half-close: the peer's FIN ends our input only. The socket stays
 * connected and writable; once our side is shut down too, it closes. */
static void
end_of_input (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);

  priv->read_eof = TRUE;
  update_interest (self);
  qsock_iodevice_emit_read_channel_finished (QSOCK_IODEVICE (self));
  if (priv->write_shut && priv->state == QSOCK_SOCKET_STATE_CONNECTED)
    disconnect_internal (self);
}

static void
shut_down_writing (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);

  priv->shutdown_pending = FALSE;
  priv->write_shut = TRUE;
  shutdown (priv->fd, SHUT_WR);
  if (priv->read_eof && priv->state == QSOCK_SOCKET_STATE_CONNECTED)
    disconnect_internal (self);
}

/* recv() for Unix sockets: descriptors that come with the bytes are kept
 * for qsock_abstract_take_received_fds() instead of being dropped. */
static gssize
recv_with_fds (QSockAbstract *self,
               char          *dst,
               gsize          space)
{
  QSockAbstractPrivate *priv = PRIV (self);
  union { char buf[CMSG_SPACE (sizeof (int) * 64)]; struct cmsghdr align; } control;
  struct iovec iov = { dst, space };
  struct msghdr msg = { 0 };
  gssize n;

  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;

  do
    n = recvmsg (priv->fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return n;

  if (msg.msg_flags & MSG_CTRUNC)
    g_debug ("More descriptors arrived than fit one message; the kernel closed the rest");

  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
    {
      guint count;
      int fds[64];

      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        continue;
      count = MIN ((c->cmsg_len - CMSG_LEN (0)) / sizeof (int), G_N_ELEMENTS (fds));
      memcpy (fds, CMSG_DATA (c), count * sizeof (int));
      if (priv->received_fds == NULL)
        priv->received_fds = g_array_new (FALSE, FALSE, sizeof (int));

      /* A peer must not fill our descriptor table: keep a bounded number
       * until they are taken, and close the rest. */
      for (guint i = 0; i < count; i++)
        {
          if (priv->received_fds->len < MAX_KEPT_FDS)
            g_array_append_val (priv->received_fds, fds[i]);
          else
            close (fds[i]);
        }
    }
  return n;
}

static void
close_received_fds (QSockAbstractPrivate *priv)
{
  if (priv->received_fds == NULL)
    return;
  for (guint i = 0; i < priv->received_fds->len; i++)
    close (g_array_index (priv->received_fds, int, i));
  g_clear_pointer (&priv->received_fds, g_array_unref);
}

void
qsock_abstract_set_collect_fds (QSockAbstract *self,
                                gboolean       collect)
{
  PRIV (self)->collect_fds = collect;
}

GUnixFDList *
qsock_abstract_take_received_fds (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);
  GUnixFDList *list;

  if (priv->received_fds == NULL)
    return g_unix_fd_list_new ();

  list = g_unix_fd_list_new_from_array ((int *) (gpointer) priv->received_fds->data,
                                        priv->received_fds->len);
  g_clear_pointer (&priv->received_fds, g_array_unref);
  return list;
}

/* Returns TRUE if new bytes were buffered. */
static gboolean
has_read_room (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);

  return priv->read_buffer_size <= 0 ||
         (gint64) qsock_buffer_get_size (qsock_iodevice_get_read_buffer (QSOCK_IODEVICE (self))) < priv->read_buffer_size;
}

static gboolean
read_notification (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);
  QSockIODevice *device = QSOCK_IODEVICE (self);
  QSockBuffer *buffer = qsock_iodevice_get_read_buffer (device);
  gsize wanted = priv->read_hint;
  gsize total = 0;
  gsize space;
  char *dst;
  gssize n;

  if (!qsock_iodevice_is_readable (device))
    {
      /* A write-only socket reads and drops what arrives (Qt does too). */
      char scratch[4096];

      n = recv (priv->fd, scratch, sizeof scratch, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        handle_read_failure (self, n == 0 ? 0 : errno);
      return FALSE;
    }

  if (priv->read_buffer_size > 0)
    {
      gint64 room = priv->read_buffer_size - (gint64) qsock_buffer_get_size (buffer);

      if (room <= 0)
        {
          priv->read_paused = TRUE;
          update_interest (self);
          return FALSE;
        }
      wanted = MIN (wanted, (gsize) room);
    }

  /* Read until the kernel is drained (a short read) or a burst is done,
   * then tell the user once; a failure after some data waits for the next
   * wakeup, so ready-read comes before the close, as in Qt. */
  for (;;)
    {
      dst = qsock_buffer_reserve (buffer, wanted, &space);
      if (G_UNLIKELY (priv->collect_fds))
        n = recv_with_fds (self, dst, space);
      else
        do
          n = recv (priv->fd, dst, space, 0);
        while (n < 0 && errno == EINTR);

      if (n <= 0)
        {
          int errsv = errno;

          qsock_buffer_commit (buffer, 0);
          if (total > 0 || (n < 0 && errsv == EAGAIN))
            break;
          if (n == 0 && priv->half_close)
            {
              end_of_input (self);
              return FALSE;
            }
          handle_read_failure (self, n == 0 || errsv == ECONNRESET ? 0 : errsv);
          return FALSE;
        }

      qsock_buffer_commit (buffer, n);
      total += n;

      /* Grow reads for bulk traffic, stay small for chatty traffic. */
      if ((gsize) n == space && space == wanted)
        priv->read_hint = MIN (priv->read_hint * 2, READ_HINT_MAX);
      else if ((gsize) n < priv->read_hint / 4)
        priv->read_hint = MAX (priv->read_hint / 2, READ_HINT_MIN);

      if ((gsize) n < space || total >= READ_BURST_MAX)
        break;
      if (priv->read_buffer_size > 0)
        {
          gint64 room = priv->read_buffer_size - (gint64) qsock_buffer_get_size (buffer);
          if (room <= 0)
            break;
          wanted = MIN (priv->read_hint, (gsize) room);
        }
      else
        wanted = priv->read_hint;
    }

  if (total == 0)
    return FALSE;

  /* A full buffer pauses reading until the user takes from it; the pause
   * is looked at again after ready-read, so a handler that leaves some of
   * the bytes (a parser waiting for a whole message) still gets the rest,
   * as Qt re-enables its read notifier after readyRead. */
  if (!has_read_room (self))
    {
      priv->read_paused = TRUE;
      update_interest (self);
    }

  qsock_iodevice_emit_ready_read (device);
  if (priv->read_paused && priv->fd >= 0 && priv->state == QSOCK_SOCKET_STATE_CONNECTED &&
      has_read_room (self))
    {
      priv->read_paused = FALSE;
      update_interest (self);
    }
  return TRUE;
}

/* Writing: Qt's canWriteNotification() + writeToSocket(). Returns the
 * bytes written, 0 if none could be, -1 on error (the socket aborted). */
static gssize
write_notification (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);
  QSockBuffer *buffer = qsock_iodevice_get_write_buffer (QSOCK_IODEVICE (self));
  struct iovec iov[MAX_WRITE_IOVECS];
  struct msghdr msg = { 0 };
  gssize n;

  if (priv->fd < 0)
    return 0;

  if (qsock_buffer_is_empty (buffer))
    {
      update_interest (self);
      if (priv->state == QSOCK_SOCKET_STATE_CLOSING)
        disconnect_internal (self);
      else if (priv->shutdown_pending)
        shut_down_writing (self);
      return 0;
    }

  msg.msg_iov = iov;
  msg.msg_iovlen = qsock_buffer_get_iovecs (buffer, iov, MAX_WRITE_IOVECS);
  do
    n = sendmsg (priv->fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      int errsv = errno;

      if (errsv == EAGAIN)
        {
          priv->write_blocked = TRUE;
          update_interest (self);
          return 0;
        }
      set_errno_error_and_emit (self, errsv, QSOCK_OP_WRITE);
      qsock_abstract_abort (self);
      return -1;
    }

  /* A short write means the kernel's buffer is full: watch writability. */
  priv->write_blocked = (gsize) n < qsock_buffer_get_size (buffer) &&
                        msg.msg_iovlen < MAX_WRITE_IOVECS;
  qsock_buffer_skip (buffer, n);
  update_interest (self);

  qsock_iodevice_emit_bytes_written (QSOCK_IODEVICE (self), n);

  if (priv->state == QSOCK_SOCKET_STATE_CLOSING && qsock_buffer_is_empty (buffer))
    disconnect_internal (self);
  else if (priv->shutdown_pending && priv->fd >= 0 && qsock_buffer_is_empty (buffer))
    shut_down_writing (self);

  return n;
}

/* Connecting: Qt's _q_startConnecting, _q_connectToNextAddress,
 * _q_testConnection */

static void
connection_established (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);

  stop_connect_timer (priv);
  g_clear_pointer (&priv->candidates, g_ptr_array_unref);
  fetch_connection_parameters (self);

  priv->attempt_connected = TRUE;
  set_state (self, QSOCK_SOCKET_STATE_CONNECTED);
  update_interest (self);
  if (priv->state != QSOCK_SOCKET_STATE_CONNECTED)
    return;
  g_signal_emit (self, signals[CONNECTED], 0);

  if (priv->pending_close && priv->state == QSOCK_SOCKET_STATE_CONNECTED)
    {
      priv->pending_close = FALSE;
      disconnect_internal (self);
    }
}

static void
connect_failed (QSockAbstract   *self,
                QSockSocketError code,
                const char      *message)
{
  QSockAbstractPrivate *priv = PRIV (self);

  g_clear_pointer (&priv->candidates, g_ptr_array_unref);
  reset_socket_layer (self);
  set_state (self, QSOCK_SOCKET_STATE_UNCONNECTED);
  qsock_abstract_set_error_and_emit (self, code, message);
}

static gboolean
on_connect_timeout (gpointer user_data)
{
  QSockAbstract *self = user_data;
  QSockAbstractPrivate *priv = PRIV (self);
  g_autoptr(QSockHold) keep = qsock_iodevice_hold (self);

  g_clear_pointer (&priv->connect_timer, g_source_unref);
  priv->candidate_error = QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT;
  priv->candidate_message = qsock_message (QSOCK_MSG_CONNECTION_TIMEOUT);
  reset_socket_layer (self);
  connect_to_next_candidate (self);
  return G_SOURCE_REMOVE;
}

static void
start_connect_timer (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);

  stop_connect_timer (priv);
  priv->connect_timer = g_timeout_source_new (CONNECT_TIMEOUT_MS);
  g_source_set_name (priv->connect_timer, "[qsock] connect timeout");
  g_source_set_callback (priv->connect_timer, on_connect_timeout, self, NULL);
  g_source_attach (priv->connect_timer, priv->context);
}

typedef enum {
  CONNECT_FAILED,       /* the reason is in candidate_error */
  CONNECT_IN_PROGRESS,  /* wait for writability */
  CONNECT_DONE,         /* connected at once (always so for UDP) */
} ConnectStart;

static ConnectStart
start_connect (QSockAbstract *self,
               GInetAddress  *address)
{
  QSockAbstractPrivate *priv = PRIV (self);
  GSocketFamily family = g_inet_address_get_family (address);
  struct sockaddr_storage storage;
  socklen_t len;
  int r;

  /* A socket bound beforehand is kept if the family matches. */
  if (priv->fd < 0 || priv->family != family)
    {
      if (!create_socket (self, family, &priv->candidate_error, &priv->candidate_message))
        return CONNECT_FAILED;
    }

  len = qsock_sockaddr_from_inet (address, priv->connect_port, family, &storage);
  priv->attempt = storage;
  priv->attempt_len = len;
  do
    r = connect (priv->fd, (struct sockaddr *) &storage, len);
  while (r < 0 && errno == EINTR);

  if (r == 0)
    return CONNECT_DONE;

  /* EAGAIN (Linux: no routing cache entry) means not started: the socket
   * reports writable at once, and test_connection() tries again, as Qt
   * calls connect() again on its write notification. */
  if (errno == EINPROGRESS || errno == EAGAIN)
    {
      update_interest (self);
      start_connect_timer (self);
      return CONNECT_IN_PROGRESS;
    }

  priv->candidate_error = qsock_error_from_errno (errno, QSOCK_OP_CONNECT, &priv->candidate_message);
  reset_socket_layer (self);
  return CONNECT_FAILED;
}

static void
connect_to_next_candidate (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);

  while (priv->state == QSOCK_SOCKET_STATE_CONNECTING)
    {
      GInetAddress *address;

      if (priv->candidates == NULL || priv->next_candidate >= priv->candidates->len)
        {
          QSockSocketError code = priv->candidate_error;
          const char *message = priv->candidate_message;

          /* Qt reports "refused" when the engine had nothing better. */
          if (code == QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET || message == NULL)
            {
              code = QSOCK_SOCKET_ERROR_CONNECTION_REFUSED;
              message = qsock_message (QSOCK_MSG_CONNECTION_REFUSED);
            }
          connect_failed (self, code, message);
          return;
        }

      address = g_ptr_array_index (priv->candidates, priv->next_candidate++);
      switch (start_connect (self, address))
        {
        case CONNECT_FAILED:
          continue;
        case CONNECT_DONE:
          connection_established (self);
          return;
        case CONNECT_IN_PROGRESS:
        default:
          return;
        }
    }
}

/* The socket became writable while connecting. */
static void
test_connection (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);
  int so_error = 0;
  socklen_t len = sizeof so_error;

  if (getsockopt (priv->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
    so_error = errno;

  if (so_error == 0 && priv->type == QSOCK_SOCKET_TYPE_TCP)
    {
      struct sockaddr_storage peer;
      socklen_t peer_len = sizeof peer;

      /* Writable without an error is not yet connected when connect()
       * never started (EAGAIN): ask again. */
      if (getpeername (priv->fd, (struct sockaddr *) &peer, &peer_len) != 0 && errno == ENOTCONN)
        {
          int r;

          do
            r = connect (priv->fd, (struct sockaddr *) &priv->attempt, priv->attempt_len);
          while (r < 0 && errno == EINTR);
          if (r != 0 && errno != EISCONN)
            {
              if (errno == EINPROGRESS || errno == EALREADY || errno == EAGAIN)
                return;
              so_error = errno;
            }
        }
    }

  if (so_error == 0)
    {
      connection_established (self);
      return;
    }

  priv->candidate_error = qsock_error_from_errno (so_error, QSOCK_OP_CONNECT, &priv->candidate_message);
  reset_socket_layer (self);
  connect_to_next_candidate (self);
}

static void
start_connecting (QSockAbstract *self,
                  GList         *addresses)
{
  QSockAbstractPrivate *priv = PRIV (self);
  GPtrArray *candidates = g_ptr_array_new_with_free_func (g_object_unref);

  for (GList *l = addresses; l != NULL; l = l->next)
    {
      GSocketFamily family = g_inet_address_get_family (l->data);

      if ((priv->protocol == QSOCK_NETWORK_LAYER_PROTOCOL_IPV4 && family != G_SOCKET_FAMILY_IPV4) ||
          (priv->protocol == QSOCK_NETWORK_LAYER_PROTOCOL_IPV6 && family != G_SOCKET_FAMILY_IPV6))
        continue;
      g_ptr_array_add (candidates, g_object_ref (l->data));
    }

  if (candidates->len == 0)
    {
      g_ptr_array_unref (candidates);
      connect_failed (self, QSOCK_SOCKET_ERROR_HOST_NOT_FOUND, qsock_message (QSOCK_MSG_HOST_NOT_FOUND));
      return;
    }

  /* Qt tries the whole list twice. */
  for (guint i = 0, n = candidates->len; i < n; i++)
    g_ptr_array_add (candidates, g_object_ref (g_ptr_array_index (candidates, i)));

  g_clear_pointer (&priv->candidates, g_ptr_array_unref);
  priv->candidates = candidates;
  priv->next_candidate = 0;
  priv->candidate_error = QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET;
  priv->candidate_message = NULL;

  set_state (self, QSOCK_SOCKET_STATE_CONNECTING);
  if (priv->state != QSOCK_SOCKET_STATE_CONNECTING)
    return;
  g_signal_emit (self, signals[HOST_FOUND], 0);

  /* A host-found handler may have started (or finished) connecting
   * already, by waiting for the connection. */
  if (priv->state == QSOCK_SOCKET_STATE_CONNECTING && priv->next_candidate == 0)
    connect_to_next_candidate (self);
}

static void
on_lookup_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GList *addresses = qsock_resolve_finish (result, &error);
  QSockAbstract *self;

  /* Cancelled means the socket moved on (or is gone): touch nothing. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;
  g_clear_object (&PRIV (self)->lookup_cancellable);
  qsock_iodevice_hold (self);
  start_connecting (self, addresses);
  qsock_iodevice_release (self);
  g_resolver_free_addresses (addresses);
}

static gboolean
begin_lookup (gpointer user_data)
{
  QSockAbstract *self = user_data;
  QSockAbstractPrivate *priv = PRIV (self);

  g_clear_pointer (&priv->lookup_start, g_source_unref);
  priv->lookup_cancellable = g_cancellable_new ();
  g_main_context_push_thread_default (priv->context);
  qsock_resolve_async (priv->peer_name, priv->lookup_cancellable, on_lookup_done, self);
  g_main_context_pop_thread_default (priv->context);
  return G_SOURCE_REMOVE;
}

static void
start_lookup (QSockAbstract *self,
              const char    *host_name)
{
  QSockAbstractPrivate *priv = PRIV (self);
  GList *cached = qsock_resolve_cached (host_name);

  /* Qt answers a name it looked up in the last minute at once. */
  if (cached != NULL)
    {
      start_connecting (self, cached);
      g_resolver_free_addresses (cached);
      return;
    }

  /* The lookup begins from the socket's main context, not here: a thread
   * that only blocks (wait_for_connected() resolves in place) never runs
   * that context, and a lookup begun now would be done twice and leave its
   * cancelled result queued there for good. */
  priv->lookup_start = g_idle_source_new ();
  g_source_set_name (priv->lookup_start, "[qsock] host lookup");
  g_source_set_priority (priv->lookup_start, G_PRIORITY_DEFAULT);
  g_source_set_callback (priv->lookup_start, begin_lookup, self, NULL);
  g_source_attach (priv->lookup_start, priv->context);
}

/* Disconnecting: Qt's disconnectFromHost() */

static void
disconnect_internal (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);
  QSockSocketState previous;
  gboolean input_reported;

  if (priv->state == QSOCK_SOCKET_STATE_UNCONNECTED)
    return;

  if (!priv->aborting && (priv->state == QSOCK_SOCKET_STATE_HOST_LOOKUP ||
                          priv->state == QSOCK_SOCKET_STATE_CONNECTING))
    {
      priv->pending_close = TRUE;
      return;
    }

  if (priv->aborting)
    cancel_lookup (priv);
  else
    {
      if (priv->state != QSOCK_SOCKET_STATE_CLOSING)
        {
          set_state (self, QSOCK_SOCKET_STATE_CLOSING);
          update_interest (self);
        }

      /* Stay closing until every queued byte is written. */
      if (priv->fd >= 0 &&
          !qsock_buffer_is_empty (qsock_iodevice_get_write_buffer (QSOCK_IODEVICE (self))))
        {
          update_interest (self);
          return;
        }
    }

  previous = priv->state;
  /* A half-closed socket reported the end of its input when it came. */
  input_reported = priv->read_eof;
  g_clear_pointer (&priv->candidates, g_ptr_array_unref);
  reset_socket_layer (self);
  set_state (self, QSOCK_SOCKET_STATE_UNCONNECTED);
  if (!input_reported)
    qsock_iodevice_emit_read_channel_finished (QSOCK_IODEVICE (self));
  if (previous == QSOCK_SOCKET_STATE_CONNECTED || previous == QSOCK_SOCKET_STATE_CLOSING)
    g_signal_emit (self, signals[DISCONNECTED], 0);

  /* The peer name stays: Qt's peerName() falls back to the host name. */
  clear_endpoints (self, FALSE);
  qsock_buffer_clear (qsock_iodevice_get_write_buffer (QSOCK_IODEVICE (self)));
}

/* UDP: Qt emits ready-read once, then waits until a datagram is read
 * (qsock_abstract_datagram_consumed()) before it looks again. */
static gboolean
datagram_notification (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);

  if (priv->datagram_pending)
    return TRUE;

  priv->datagram_pending = TRUE;
  update_interest (self);
  qsock_iodevice_emit_ready_read (QSOCK_IODEVICE (self));
  return TRUE;
}

void
qsock_abstract_datagram_consumed (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);

  if (!priv->datagram_pending)
    return;
  priv->datagram_pending = FALSE;
  update_interest (self);
}

/* Dispatch: the main loop and the blocking waits run the same handlers */

static void
handle_ready (QSockAbstract *self,
              GIOCondition   ready,
              gboolean      *did_read,
              gssize        *written)
{
  QSockAbstractPrivate *priv = PRIV (self);

  *did_read = FALSE;
  *written = 0;

  if (priv->state == QSOCK_SOCKET_STATE_CONNECTING)
    {
      test_connection (self);
      return;
    }

  if (priv->type == QSOCK_SOCKET_TYPE_UDP)
    {
      if (ready & (G_IO_IN | G_IO_HUP | G_IO_ERR))
        *did_read = datagram_notification (self);
      return;
    }

  if ((ready & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && priv->state == QSOCK_SOCKET_STATE_CONNECTED &&
      !priv->read_paused && !priv->read_eof)
    *did_read = read_notification (self);
  else if ((ready & G_IO_ERR) && priv->state == QSOCK_SOCKET_STATE_CONNECTED && priv->read_paused)
    {
      /* A reset while a full buffer pauses reading: the kernel has dropped
       * what it held, so nothing is lost by reporting it now (the buffer
       * stays readable, as on any remote close). */
      int errsv = 0;
      socklen_t len = sizeof errsv;

      if (getsockopt (priv->fd, SOL_SOCKET, SO_ERROR, &errsv, &len) == 0 && errsv != 0)
        {
          handle_read_failure (self, errsv == ECONNRESET ? 0 : errsv);
          return;
        }
    }
  if ((ready & (G_IO_OUT | G_IO_HUP | G_IO_ERR)) && priv->fd >= 0 &&
      (priv->state == QSOCK_SOCKET_STATE_CONNECTED || priv->state == QSOCK_SOCKET_STATE_CLOSING))
    *written = write_notification (self);
}

static void
on_socket_ready (gpointer     user_data,
                 GIOCondition ready)
{
  QSockAbstract *self = user_data;
  gboolean did_read;
  gssize written;

  qsock_iodevice_hold (self);
  handle_ready (self, ready, &did_read, &written);
  qsock_iodevice_release (self);
}

/* QSockIODevice virtual functions */

/* read() on a connected UDP socket: one datagram, truncated to @max_size. */
static gint64
read_connected_datagram (QSockAbstract *self,
                         char          *data,
                         gint64         max_size)
{
  QSockAbstractPrivate *priv = PRIV (self);
  gssize n;

  if (max_size == 0)
    return 0;

  do
    n = recv (priv->fd, data, max_size, 0);
  while (n < 0 && errno == EINTR);

  if (n < 0 && errno == EAGAIN)
    return 0;
  if (n < 0)
    {
      const char *message;
      QSockSocketError code = qsock_error_from_errno (errno, QSOCK_OP_READ, &message);

      /* Qt records the error (an ICMP refusal, say) and drops the socket;
       * it assigns the state without stateChanged(), which we do not copy:
       * the state property and its signal never disagree here. Inside a
       * read() that the caller holds no reference across: the callers in
       * qsock-iodevice.c return at once on -1. */
      qsock_iodevice_hold (self);
      qsock_abstract_set_error (self, code, message);
      reset_socket_layer (self);
      set_state (self, QSOCK_SOCKET_STATE_UNCONNECTED);
      qsock_iodevice_release (self);
      return -1;
    }

  qsock_abstract_datagram_consumed (self);
  return n;
}

static gint64
qsock_abstract_read_data (QSockIODevice *device,
                          char          *data,
                          gint64         max_size)
{
  QSockAbstract *self = QSOCK_ABSTRACT (device);
  QSockAbstractPrivate *priv = PRIV (self);

  if (priv->fd < 0 || priv->state != QSOCK_SOCKET_STATE_CONNECTED)
    return max_size > 0 ? -1 : 0;

  if (priv->type == QSOCK_SOCKET_TYPE_UDP)
    return read_connected_datagram (self, data, max_size);

  /* Bytes were taken from the buffer, or more was asked than it held: read
   * again once there is room. */
  if (priv->read_paused && has_read_room (self))
    {
      priv->read_paused = FALSE;
      update_interest (self);
    }
  return 0;
}

/* write() on a connected UDP socket: one datagram, sent now, as Qt. */
static gint64
write_connected_datagram (QSockAbstract *self,
                          const char    *data,
                          gint64         size)
{
  QSockAbstractPrivate *priv = PRIV (self);
  gssize n;

  if (priv->state != QSOCK_SOCKET_STATE_CONNECTED || priv->fd < 0)
    {
      qsock_abstract_set_error (self, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET,
                                qsock_message (QSOCK_MSG_NOT_CONNECTED));
      return -1;
    }

  do
    n = send (priv->fd, data, size, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      set_errno_error_and_emit (self, errno, QSOCK_OP_SEND_DATAGRAM);
      return -1;
    }

  qsock_iodevice_emit_bytes_written (QSOCK_IODEVICE (self), n);
  return n;
}

static gint64
qsock_abstract_write_data (QSockIODevice *device,
                           const char    *data,
                           gint64         size)
{
  QSockAbstract *self = QSOCK_ABSTRACT (device);
  QSockAbstractPrivate *priv = PRIV (self);

  if (priv->state == QSOCK_SOCKET_STATE_UNCONNECTED ||
      priv->state == QSOCK_SOCKET_STATE_BOUND ||
      priv->state == QSOCK_SOCKET_STATE_LISTENING)
    {
      qsock_abstract_set_error (self, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET,
                                qsock_message (QSOCK_MSG_NOT_CONNECTED));
      return -1;
    }

  if (priv->type == QSOCK_SOCKET_TYPE_UDP)
    return write_connected_datagram (self, data, size);

  if (priv->write_shut || priv->shutdown_pending)
    {
      qsock_abstract_set_error (self, QSOCK_SOCKET_ERROR_OPERATION,
                                qsock_message (QSOCK_MSG_WRITE_SHUT_DOWN));
      return -1;
    }

  qsock_buffer_append (qsock_iodevice_get_write_buffer (device), data, size);
  update_interest (self);
  return size;
}

static gint64
qsock_abstract_bytes_available (QSockIODevice *device)
{
  QSockAbstractPrivate *priv = PRIV (QSOCK_ABSTRACT (device));
  gint64 available = QSOCK_IODEVICE_CLASS (qsock_abstract_parent_class)->bytes_available (device);
  int pending = 0;

  /* Unbuffered UDP: what the kernel holds counts, as in Qt. */
  if (priv->type == QSOCK_SOCKET_TYPE_UDP && priv->fd >= 0 &&
      ioctl (priv->fd, FIONREAD, &pending) == 0)
    available += pending;
  return available;
}

static void
qsock_abstract_close (QSockIODevice *device)
{
  QSockAbstract *self = QSOCK_ABSTRACT (device);
  QSockAbstractPrivate *priv = PRIV (self);

  qsock_iodevice_hold (self);
  QSOCK_IODEVICE_CLASS (qsock_abstract_parent_class)->close (device);
  if (priv->state != QSOCK_SOCKET_STATE_UNCONNECTED)
    disconnect_internal (self);
  else
    clear_endpoints (self, FALSE);
  qsock_iodevice_release (self);
}

/* Blocking waits: the same handlers, driven by poll() on the socket */

/* How long a wait rests when poll() reports what it cannot act on. */
#define WAIT_IDLE_US (5 * 1000)

static gint64
deadline_from_msecs (int msecs)
{
  return msecs < 0 ? -1 : g_get_monotonic_time () + (gint64) msecs * 1000;
}

static gint64
time_left_us (gint64 deadline)
{
  if (deadline < 0)
    return -1;
  return MAX (deadline - g_get_monotonic_time (), 0);
}

static gboolean
deadline_passed (gint64 deadline)
{
  return deadline >= 0 && g_get_monotonic_time () >= deadline;
}

static GIOCondition
wait_interest (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);
  GIOCondition interest = 0;

  /* As update_interest(): an announced datagram is not asked about again
   * until it is read. */
  if (priv->type == QSOCK_SOCKET_TYPE_UDP)
    return priv->datagram_pending ? 0 : G_IO_IN;

  /* Qt's waits read whenever the buffer has room, also after a partial
   * read outside any handler left reading paused in the loop. */
  if (priv->read_paused && priv->state == QSOCK_SOCKET_STATE_CONNECTED && has_read_room (self))
    {
      priv->read_paused = FALSE;
      update_interest (self);
    }
  if (priv->state == QSOCK_SOCKET_STATE_CONNECTED && !priv->read_paused && !priv->read_eof)
    interest |= G_IO_IN;
  if (!qsock_buffer_is_empty (qsock_iodevice_get_write_buffer (QSOCK_IODEVICE (self))))
    interest |= G_IO_OUT;
  return interest;
}

/* One round of poll() and handlers; FALSE on timeout. Every wait loops on
 * this and returns by its deadline: a round that passes it is a timeout
 * unless it moved the wait on (the caller's test comes first). */
static gboolean
wait_round (QSockAbstract *self,
            gint64         deadline,
            gboolean      *did_read,
            gssize        *written)
{
  QSockAbstractPrivate *priv = PRIV (self);
  QSockSocketState state = priv->state;
  GIOCondition ready = qsock_fd_wait (priv->fd, wait_interest (self), time_left_us (deadline));
  gint64 left;

  *did_read = FALSE;
  *written = 0;
  if (ready == 0)
    return FALSE;

  handle_ready (self, ready, did_read, written);
  if (*did_read || *written != 0 || priv->state != state || priv->fd < 0)
    return TRUE;

  /* poll() reported something no handler could act on: a hang-up while a
   * full buffer pauses reading, a datagram already announced, a spurious
   * wakeup. Polling again at once would spin; look again a little later,
   * and give up at the deadline. */
  left = time_left_us (deadline);
  if (left == 0)
    return FALSE;
  g_usleep (left < 0 ? WAIT_IDLE_US : MIN (left, WAIT_IDLE_US));
  return deadline < 0 || time_left_us (deadline) > 0;
}

static void
timed_out (QSockAbstract *self)
{
  qsock_abstract_set_error_and_emit (self, QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT,
                                     qsock_message (QSOCK_MSG_NETWORK_TIMEOUT));
}

static gboolean
wait_connected_until (QSockAbstract *self,
                      gint64         deadline)
{
  QSockAbstractPrivate *priv = PRIV (self);

  if (priv->state == QSOCK_SOCKET_STATE_CONNECTED || priv->state == QSOCK_SOCKET_STATE_CLOSING)
    return TRUE;
  if (priv->state != QSOCK_SOCKET_STATE_HOST_LOOKUP && priv->state != QSOCK_SOCKET_STATE_CONNECTING)
    return FALSE;

  if (priv->state == QSOCK_SOCKET_STATE_HOST_LOOKUP)
    {
      GList *addresses;

      /* Qt drops the asynchronous lookup and resolves in place. */
      cancel_lookup (priv);
      addresses = qsock_resolve (priv->peer_name);
      start_connecting (self, addresses);
      g_resolver_free_addresses (addresses);
    }

  /* Waiting from a host-found handler: the first connect() is not yet made. */
  if (priv->state == QSOCK_SOCKET_STATE_CONNECTING && priv->candidates != NULL &&
      priv->next_candidate == 0)
    connect_to_next_candidate (self);

  while (priv->state == QSOCK_SOCKET_STATE_CONNECTING)
    {
      gint64 left = time_left_us (deadline);
      gint64 slice = left < 0 ? (gint64) CONNECT_TIMEOUT_MS * 1000 : MIN (left, (gint64) CONNECT_TIMEOUT_MS * 1000);
      GIOCondition ready = qsock_fd_wait (priv->fd, G_IO_OUT, slice);

      if (ready != 0)
        {
          test_connection (self);
          continue;
        }

      if (deadline >= 0 && time_left_us (deadline) == 0)
        {
          /* Qt: the error is set, then the state goes back; no
           * error-occurred. A pending connect_to_host_async() sees the
           * error with the state. */
          g_clear_pointer (&priv->candidates, g_ptr_array_unref);
          reset_socket_layer (self);
          qsock_abstract_set_error (self, QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT,
                                    qsock_message (QSOCK_MSG_SOCKET_TIMEOUT));
          set_state (self, QSOCK_SOCKET_STATE_UNCONNECTED);
          return FALSE;
        }

      /* This candidate's 30 s are up: on to the next one. */
      priv->candidate_error = QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT;
      priv->candidate_message = qsock_message (QSOCK_MSG_CONNECTION_TIMEOUT);
      reset_socket_layer (self);
      connect_to_next_candidate (self);
    }

  /* A close asked for while connecting may already be under way. */
  return priv->state == QSOCK_SOCKET_STATE_CONNECTED || priv->state == QSOCK_SOCKET_STATE_CLOSING;
}

static gboolean
qsock_abstract_wait_for_ready_read (QSockIODevice *device,
                                    int            msecs)
{
  QSockAbstract *self = QSOCK_ABSTRACT (device);
  QSockAbstractPrivate *priv = PRIV (self);
  gint64 deadline = deadline_from_msecs (msecs);
  g_autoptr(QSockHold) keep = qsock_iodevice_hold (self);

  if (priv->state == QSOCK_SOCKET_STATE_UNCONNECTED)
    return FALSE;
  if (!(priv->type == QSOCK_SOCKET_TYPE_UDP && priv->state == QSOCK_SOCKET_STATE_BOUND) &&
      !wait_connected_until (self, deadline))
    return FALSE;
  /* A datagram announced and not yet read is there to read now. */
  if (priv->type == QSOCK_SOCKET_TYPE_UDP && priv->datagram_pending)
    return TRUE;

  while (priv->fd >= 0)
    {
      gboolean did_read;
      gssize written;

      if (!wait_round (self, deadline, &did_read, &written))
        {
          /* Qt: with reading paused by a full buffer the wait ends
           * without an error. */
          if (!priv->read_paused)
            timed_out (self);
          return FALSE;
        }
      if (did_read)
        return TRUE;
      if (written < 0 || (priv->state != QSOCK_SOCKET_STATE_CONNECTED &&
                          priv->state != QSOCK_SOCKET_STATE_BOUND))
        return FALSE;
      if (deadline_passed (deadline))
        {
          timed_out (self);
          return FALSE;
        }
    }
  return FALSE;
}

static gboolean
qsock_abstract_wait_for_bytes_written (QSockIODevice *device,
                                       int            msecs)
{
  QSockAbstract *self = QSOCK_ABSTRACT (device);
  QSockAbstractPrivate *priv = PRIV (self);
  gint64 deadline = deadline_from_msecs (msecs);
  g_autoptr(QSockHold) keep = qsock_iodevice_hold (self);

  if (priv->state == QSOCK_SOCKET_STATE_UNCONNECTED)
    {
      g_warning ("QAbstractSocket::waitForBytesWritten() is not allowed in UnconnectedState");
      return FALSE;
    }
  if (qsock_buffer_is_empty (qsock_iodevice_get_write_buffer (device)))
    return FALSE;
  if (!wait_connected_until (self, deadline))
    return FALSE;

  while (priv->fd >= 0)
    {
      gboolean did_read;
      gssize written;

      if (!wait_round (self, deadline, &did_read, &written))
        {
          timed_out (self);
          return FALSE;
        }
      if (written > 0)
        return TRUE;
      if (written < 0 || priv->state == QSOCK_SOCKET_STATE_UNCONNECTED)
        return FALSE;
      if (deadline_passed (deadline))
        {
          timed_out (self);
          return FALSE;
        }
    }
  return FALSE;
}

/* GObject */

static void
qsock_abstract_dispose (GObject *object)
{
  QSockAbstract *self = QSOCK_ABSTRACT (object);
  QSockAbstractPrivate *priv = PRIV (self);

  cancel_lookup (priv);
  reset_socket_layer (self);
  g_clear_pointer (&priv->candidates, g_ptr_array_unref);
  close_received_fds (priv);

  G_OBJECT_CLASS (qsock_abstract_parent_class)->dispose (object);
}

static void
qsock_abstract_finalize (GObject *object)
{
  QSockAbstractPrivate *priv = PRIV (QSOCK_ABSTRACT (object));

  g_clear_object (&priv->peer_address);
  g_clear_object (&priv->local_address);
  g_free (priv->peer_name);
  g_main_context_unref (priv->context);

  G_OBJECT_CLASS (qsock_abstract_parent_class)->finalize (object);
}

static void
qsock_abstract_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  QSockAbstract *self = QSOCK_ABSTRACT (object);
  QSockAbstractPrivate *priv = PRIV (self);

  switch (prop_id)
    {
    case PROP_SOCKET_TYPE:
      g_value_set_enum (value, priv->type);
      break;
    case PROP_STATE:
      g_value_set_enum (value, priv->state);
      break;
    case PROP_ERROR:
      g_value_set_enum (value, priv->error);
      break;
    case PROP_PEER_ADDRESS:
      g_value_set_object (value, priv->peer_address);
      break;
    case PROP_PEER_NAME:
      g_value_set_string (value, qsock_abstract_get_peer_name (self));
      break;
    case PROP_PEER_PORT:
      g_value_set_uint (value, priv->peer_port);
      break;
    case PROP_LOCAL_ADDRESS:
      g_value_set_object (value, priv->local_address);
      break;
    case PROP_LOCAL_PORT:
      g_value_set_uint (value, priv->local_port);
      break;
    case PROP_READ_BUFFER_SIZE:
      g_value_set_int64 (value, priv->read_buffer_size);
      break;
    case PROP_SOCKET_DESCRIPTOR:
      g_value_set_int (value, priv->fd);
      break;
    case PROP_PAUSE_MODE:
      g_value_set_flags (value, priv->pause_mode);
      break;
    case PROP_HALF_CLOSE:
      g_value_set_boolean (value, priv->half_close);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_abstract_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  QSockAbstract *self = QSOCK_ABSTRACT (object);

  switch (prop_id)
    {
    case PROP_SOCKET_TYPE:
      if (g_value_get_enum (value) != QSOCK_SOCKET_TYPE_UNKNOWN)
        qsock_abstract_set_socket_type_internal (self, g_value_get_enum (value));
      break;
    case PROP_READ_BUFFER_SIZE:
      qsock_abstract_set_read_buffer_size (self, g_value_get_int64 (value));
      break;
    case PROP_PAUSE_MODE:
      qsock_abstract_set_pause_mode (self, g_value_get_flags (value));
      break;
    case PROP_HALF_CLOSE:
      qsock_abstract_set_half_close (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_abstract_class_init (QSockAbstractClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  QSockIODeviceClass *device_class = QSOCK_IODEVICE_CLASS (klass);

  object_class->dispose = qsock_abstract_dispose;
  object_class->finalize = qsock_abstract_finalize;
  object_class->get_property = qsock_abstract_get_property;
  object_class->set_property = qsock_abstract_set_property;

  device_class->read_data = qsock_abstract_read_data;
  device_class->write_data = qsock_abstract_write_data;
  device_class->bytes_available = qsock_abstract_bytes_available;
  device_class->close = qsock_abstract_close;
  device_class->wait_for_ready_read = qsock_abstract_wait_for_ready_read;
  device_class->wait_for_bytes_written = qsock_abstract_wait_for_bytes_written;

  /**
   * QSockAbstract:socket-type:
   *
   * The transport: TCP or UDP. Set once, at construction.
   *
   * Since: 1.0
   */
  properties[PROP_SOCKET_TYPE] =
    g_param_spec_enum ("socket-type", NULL, NULL,
                       QSOCK_TYPE_SOCKET_TYPE, QSOCK_SOCKET_TYPE_UNKNOWN,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:state:
   *
   * The socket's state; #QSockAbstract::state-changed tells each change.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       QSOCK_TYPE_SOCKET_STATE, QSOCK_SOCKET_STATE_UNCONNECTED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:error:
   *
   * The last error. As in Qt it stays set after later successful calls;
   * qsock_abstract_connect_to_host() resets it.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR] =
    g_param_spec_enum ("error", NULL, NULL,
                       QSOCK_TYPE_SOCKET_ERROR, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:peer-address:
   *
   * The connected peer's address, or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_PEER_ADDRESS] =
    g_param_spec_object ("peer-address", NULL, NULL, G_TYPE_INET_ADDRESS,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:peer-name:
   *
   * The host name given to qsock_abstract_connect_to_host(), or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_PEER_NAME] =
    g_param_spec_string ("peer-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:peer-port:
   *
   * The connected peer's port, or 0.
   *
   * Since: 1.0
   */
  properties[PROP_PEER_PORT] =
    g_param_spec_uint ("peer-port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:local-address:
   *
   * The local address of a bound or connected socket, or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_LOCAL_ADDRESS] =
    g_param_spec_object ("local-address", NULL, NULL, G_TYPE_INET_ADDRESS,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:local-port:
   *
   * The local port of a bound or connected socket, or 0.
   *
   * Since: 1.0
   */
  properties[PROP_LOCAL_PORT] =
    g_param_spec_uint ("local-port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:read-buffer-size:
   *
   * The most bytes the read buffer holds; 0 (the default) is unlimited.
   * When the buffer is full the socket stops reading from the kernel, so
   * TCP flow control slows the peer; reading resumes when the buffer has
   * been emptied, when a read asks for more than is buffered, or when the
   * limit is raised, as in Qt.
   *
   * Since: 1.0
   */
  properties[PROP_READ_BUFFER_SIZE] =
    g_param_spec_int64 ("read-buffer-size", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:socket-descriptor:
   *
   * The native descriptor, or -1 when there is none.
   *
   * Since: 1.0
   */
  properties[PROP_SOCKET_DESCRIPTOR] =
    g_param_spec_int ("socket-descriptor", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:pause-mode:
   *
   * When the socket pauses transfer and waits for qsock_abstract_resume().
   *
   * Since: 1.0
   */
  properties[PROP_PAUSE_MODE] =
    g_param_spec_flags ("pause-mode", NULL, NULL,
                        QSOCK_TYPE_PAUSE_MODES, QSOCK_PAUSE_MODES_NEVER,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockAbstract:half-close:
   *
   * Whether the peer's end of input (a TCP FIN: `socat`, `ncat` and shell
   * pipelines send one at the end of their input, then wait for the reply)
   * only ends reading. With it, #QSockIODevice::read-channel-finished is
   * emitted, the socket stays %QSOCK_SOCKET_STATE_CONNECTED and writable,
   * queued bytes still leave, and the connection closes when the
   * application disconnects or shuts its own side down
   * (qsock_abstract_shutdown_write()). Off by default: Qt, like qsock,
   * otherwise treats the FIN as the remote host closing
   * (%QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED) and drops what is queued.
   * TCP only; a #QSockLocal has its own #QSockLocal:half-close.
   *
   * Since: 1.2
   */
  properties[PROP_HALF_CLOSE] =
    g_param_spec_boolean ("half-close", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * QSockAbstract::host-found:
   * @self: the socket
   *
   * Emitted once per connect, after the lookup succeeded and right after
   * the state became %QSOCK_SOCKET_STATE_CONNECTING (inside the call for
   * an IP literal), as Qt's `hostFound()`.
   *
   * Since: 1.0
   */
  signals[HOST_FOUND] =
    g_signal_new ("host-found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockAbstractClass, host_found),
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * QSockAbstract::connected:
   * @self: the socket
   *
   * Emitted when the connection is established, right after the state
   * became %QSOCK_SOCKET_STATE_CONNECTED, as Qt's `connected()`.
   *
   * Since: 1.0
   */
  signals[CONNECTED] =
    g_signal_new ("connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockAbstractClass, connected),
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * QSockAbstract::disconnected:
   * @self: the socket
   *
   * Emitted when an established connection has closed, after the state
   * became %QSOCK_SOCKET_STATE_UNCONNECTED and after
   * #QSockIODevice::read-channel-finished, as Qt's `disconnected()`. Not
   * emitted when a connection attempt is aborted. Unread data stays
   * readable.
   *
   * Since: 1.0
   */
  signals[DISCONNECTED] =
    g_signal_new ("disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockAbstractClass, disconnected),
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * QSockAbstract::state-changed:
   * @self: the socket
   * @state: the new state
   *
   * Emitted on every change of #QSockAbstract:state, as Qt's
   * `stateChanged()`.
   *
   * Since: 1.0
   */
  signals[STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockAbstractClass, state_changed),
                  NULL, NULL, NULL, G_TYPE_NONE, 1, QSOCK_TYPE_SOCKET_STATE);

  /**
   * QSockAbstract::error-occurred:
   * @self: the socket
   * @error: what went wrong
   *
   * Emitted when an error occurs, as Qt's `errorOccurred()`. For failures
   * while connecting it comes after the state changed to
   * %QSOCK_SOCKET_STATE_UNCONNECTED; for failures of an established
   * connection it comes first, while the state is still
   * %QSOCK_SOCKET_STATE_CONNECTED. qsock_iodevice_get_error_string() has
   * the text.
   *
   * Since: 1.0
   */
  signals[ERROR_OCCURRED] =
    g_signal_new ("error-occurred", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockAbstractClass, error_occurred),
                  NULL, NULL, NULL, G_TYPE_NONE, 1, QSOCK_TYPE_SOCKET_ERROR);
}

static void
qsock_abstract_init (QSockAbstract *self)
{
  QSockAbstractPrivate *priv = PRIV (self);

  priv->context = g_main_context_ref_thread_default ();
  priv->type = QSOCK_SOCKET_TYPE_UNKNOWN;
  priv->state = QSOCK_SOCKET_STATE_UNCONNECTED;
  priv->error = QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET;
  priv->emitted_error = QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET;
  priv->fd = -1;
  priv->family = G_SOCKET_FAMILY_INVALID;
  priv->read_hint = READ_HINT_MIN;
  priv->protocol = QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP;
}

/* Public API */

/**
 * qsock_abstract_new:
 * @type: the transport
 *
 * Makes a socket of @type, as Qt's `QAbstractSocket` constructor. Most
 * programs use qsock_tcp_new() instead.
 *
 * Returns: (transfer full): a new socket, unconnected
 *
 * Since: 1.0
 */
QSockAbstract *
qsock_abstract_new (QSockSocketType type)
{
  return g_object_new (QSOCK_TYPE_ABSTRACT, "socket-type", type, NULL);
}

/**
 * qsock_abstract_connect_to_host:
 * @self: a #QSockAbstract
 * @host_name: a host name or an IP literal
 * @port: the port
 * @mode: how to open the device (usually %QSOCK_OPEN_MODE_READ_WRITE)
 * @protocol: which addresses to use (%QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP for all)
 *
 * Starts connecting, as Qt's `connectToHost()`. The device is open from
 * here on, even before a connection exists. The state changes to
 * %QSOCK_SOCKET_STATE_HOST_LOOKUP inside the call; for an IP literal also to
 * %QSOCK_SOCKET_STATE_CONNECTING, with #QSockAbstract::host-found. A host
 * name is looked up asynchronously with #GResolver. Every address found is
 * tried in turn (the list twice, as in Qt); #QSockAbstract::connected or
 * #QSockAbstract::error-occurred tells the outcome, from the main loop or
 * from qsock_abstract_wait_for_connected().
 *
 * Calling it while connecting or connected emits
 * %QSOCK_SOCKET_ERROR_OPERATION and changes nothing.
 *
 * Since: 1.0
 */
void
qsock_abstract_connect_to_host (QSockAbstract            *self,
                                const char               *host_name,
                                guint16                   port,
                                QSockOpenMode             mode,
                                QSockNetworkLayerProtocol protocol)
{
  QSockAbstractPrivate *priv;
  g_autoptr(GInetAddress) literal = NULL;
  g_autoptr(QSockHold) keep = NULL;

  g_return_if_fail (QSOCK_IS_ABSTRACT (self));
  g_return_if_fail (host_name != NULL);

  priv = PRIV (self);
  if (priv->state == QSOCK_SOCKET_STATE_CONNECTED || priv->state == QSOCK_SOCKET_STATE_CONNECTING ||
      priv->state == QSOCK_SOCKET_STATE_CLOSING || priv->state == QSOCK_SOCKET_STATE_HOST_LOOKUP)
    {
      g_warning ("QAbstractSocket::connectToHost() called when already looking up or connecting/connected to \"%s\"",
                 host_name);
      qsock_abstract_set_error_and_emit (self, QSOCK_SOCKET_ERROR_OPERATION,
                                         qsock_message (QSOCK_MSG_CONNECT_IN_PROGRESS));
      return;
    }

  keep = qsock_iodevice_hold (self);
  cancel_lookup (priv);
  g_free (priv->peer_name);
  priv->peer_name = g_strdup (host_name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PEER_NAME]);
  clear_endpoints (self, priv->state == QSOCK_SOCKET_STATE_BOUND);
  priv->pending_close = FALSE;
  priv->protocol = protocol;
  priv->connect_port = port;

  qsock_abstract_set_error (self, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET, NULL);
  priv->emitted_error = QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET;
  priv->attempt_connected = FALSE;
  /* As Qt: a UDP socket is an unbuffered device. */
  if (priv->type == QSOCK_SOCKET_TYPE_UDP)
    mode |= QSOCK_OPEN_MODE_UNBUFFERED;
  qsock_iodevice_open_device (QSOCK_IODEVICE (self), mode);

  set_state (self, QSOCK_SOCKET_STATE_HOST_LOOKUP);
  if (priv->state != QSOCK_SOCKET_STATE_HOST_LOOKUP)
    return;

  literal = g_inet_address_new_from_string (host_name);
  if (literal != NULL)
    {
      GList one = { literal, NULL, NULL };
      start_connecting (self, &one);
      return;
    }

  start_lookup (self, host_name);
}

/**
 * qsock_abstract_connect_to_address:
 * @self: a #QSockAbstract
 * @address: the address to connect to
 * @port: the port
 * @mode: how to open the device
 *
 * Connects to @address, as Qt's `connectToHost(const QHostAddress &, …)`:
 * the same as qsock_abstract_connect_to_host() with the address as a
 * literal.
 *
 * Since: 1.0
 */
void
qsock_abstract_connect_to_address (QSockAbstract *self,
                                   GInetAddress  *address,
                                   guint16        port,
                                   QSockOpenMode  mode)
{
  g_autofree char *text = NULL;

  g_return_if_fail (QSOCK_IS_ABSTRACT (self));
  g_return_if_fail (G_IS_INET_ADDRESS (address));

  text = g_inet_address_to_string (address);
  qsock_abstract_connect_to_host (self, text, port, mode, QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP);
}

/**
 * qsock_abstract_disconnect_from_host:
 * @self: a #QSockAbstract
 *
 * Closes the connection once every queued byte is written, as Qt's
 * `disconnectFromHost()`: the state becomes %QSOCK_SOCKET_STATE_CLOSING
 * inside the call; when the write buffer is empty the socket closes and
 * emits #QSockAbstract::state-changed (%QSOCK_SOCKET_STATE_UNCONNECTED),
 * #QSockIODevice::read-channel-finished and #QSockAbstract::disconnected
 * (inside the call if nothing was queued). While still looking up or
 * connecting, it waits for the connection and then closes. The device
 * stays open and unread data stays readable.
 *
 * Since: 1.0
 */
void
qsock_abstract_disconnect_from_host (QSockAbstract *self)
{
  g_autoptr(QSockHold) keep = NULL;

  g_return_if_fail (QSOCK_IS_ABSTRACT (self));

  keep = qsock_iodevice_hold (self);
  disconnect_internal (self);
}

/**
 * qsock_abstract_abort:
 * @self: a #QSockAbstract
 *
 * Closes the socket at once, dropping queued data, as Qt's `abort()`:
 * #QSockIODevice::about-to-close, then (if connected or connecting) the
 * state changes to %QSOCK_SOCKET_STATE_UNCONNECTED,
 * #QSockIODevice::read-channel-finished and, if it was connected,
 * #QSockAbstract::disconnected, all inside the call.
 *
 * Since: 1.0
 */
void
qsock_abstract_abort (QSockAbstract *self)
{
  QSockAbstractPrivate *priv;
  g_autoptr(QSockHold) keep = NULL;

  g_return_if_fail (QSOCK_IS_ABSTRACT (self));

  keep = qsock_iodevice_hold (self);
  priv = PRIV (self);
  qsock_buffer_clear (qsock_iodevice_get_write_buffer (QSOCK_IODEVICE (self)));
  priv->pending_close = FALSE;
  priv->aborting = TRUE;
  qsock_iodevice_close (QSOCK_IODEVICE (self));
  priv->aborting = FALSE;
}

/**
 * qsock_abstract_flush:
 * @self: a #QSockAbstract
 *
 * Writes as much queued data as the kernel takes now, without blocking, as
 * Qt's `flush()`. #QSockIODevice::bytes-written is emitted inside the call.
 *
 * Returns: %TRUE if any data was written
 *
 * Since: 1.0
 */
gboolean
qsock_abstract_flush (QSockAbstract *self)
{
  QSockAbstractPrivate *priv;
  g_autoptr(QSockHold) keep = NULL;
  gboolean wrote = FALSE;

  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), FALSE);

  keep = qsock_iodevice_hold (self);
  priv = PRIV (self);
  while (priv->fd >= 0 &&
         (priv->state == QSOCK_SOCKET_STATE_CONNECTED || priv->state == QSOCK_SOCKET_STATE_CLOSING) &&
         !qsock_buffer_is_empty (qsock_iodevice_get_write_buffer (QSOCK_IODEVICE (self))))
    {
      if (write_notification (self) <= 0)
        break;
      wrote = TRUE;
    }
  return wrote;
}

/**
 * qsock_abstract_bind:
 * @self: a #QSockAbstract
 * @address: (nullable): the local address; %NULL for any (dual stack)
 * @port: the local port; 0 picks one
 * @mode: address sharing, as Qt's `BindMode`
 *
 * Binds the socket, as Qt's `bind()`: the state becomes
 * %QSOCK_SOCKET_STATE_BOUND inside the call. A later
 * qsock_abstract_connect_to_host() keeps the local address and port.
 * Binding does not open the device.
 *
 * Returns: %TRUE on success; on failure #QSockAbstract::error-occurred was
 *   emitted (for example %QSOCK_SOCKET_ERROR_ADDRESS_IN_USE)
 *
 * Since: 1.0
 */
gboolean
qsock_abstract_bind (QSockAbstract *self,
                     GInetAddress  *address,
                     guint16        port,
                     QSockBindFlags mode)
{
  QSockAbstractPrivate *priv;
  g_autoptr(QSockHold) keep = NULL;
  g_autoptr(GInetAddress) any = NULL;
  struct sockaddr_storage storage;
  socklen_t len;
  gboolean dual_stack = address == NULL;
  QSockSocketError code;
  const char *message;

  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), FALSE);
  g_return_val_if_fail (address == NULL || G_IS_INET_ADDRESS (address), FALSE);

  /* Every signal below is emitted inside the call; a handler may drop the
   * caller's last reference. */
  keep = qsock_iodevice_hold (self);
  priv = PRIV (self);
  if (priv->state != QSOCK_SOCKET_STATE_UNCONNECTED)
    {
      g_warning ("QNativeSocketEngine::bind() was not called in QAbstractSocket::UnconnectedState");
      qsock_abstract_set_error_and_emit (self, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET,
                                         qsock_message (QSOCK_MSG_UNKNOWN));
      return FALSE;
    }

  if (address == NULL)
    address = any = qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_ANY);

  if (!create_socket (self, g_inet_address_get_family (address), &code, &message) && dual_stack)
    {
      /* No IPv6 here: Any falls back to IPv4, as in Qt. */
      g_clear_object (&any);
      address = any = qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_ANY_IPV4);
      create_socket (self, G_SOCKET_FAMILY_IPV4, &code, &message);
    }
  if (priv->fd < 0)
    {
      qsock_abstract_set_error_and_emit (self, code, message);
      return FALSE;
    }

  if (mode != QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM)
    {
      int reuse = (mode & (QSOCK_BIND_FLAGS_SHARE_ADDRESS | QSOCK_BIND_FLAGS_REUSE_ADDRESS_HINT)) != 0;
      setsockopt (priv->fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    }

  len = qsock_sockaddr_from_inet (address, port, g_inet_address_get_family (address), &storage);
  if (bind (priv->fd, (struct sockaddr *) &storage, len) != 0)
    {
      int errsv = errno;

      reset_socket_layer (self);
      set_errno_error_and_emit (self, errsv, QSOCK_OP_BIND);
      return FALSE;
    }

  fetch_endpoint (priv->fd, FALSE, &priv->local_address, &priv->local_port);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOCAL_ADDRESS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOCAL_PORT]);
  set_state (self, QSOCK_SOCKET_STATE_BOUND);
  update_interest (self);
  return TRUE;
}

/**
 * qsock_abstract_get_socket_type:
 * @self: a #QSockAbstract
 *
 * Gets the transport.
 *
 * Returns: the socket type
 *
 * Since: 1.0
 */
QSockSocketType
qsock_abstract_get_socket_type (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), QSOCK_SOCKET_TYPE_UNKNOWN);

  return PRIV (self)->type;
}

/**
 * qsock_abstract_get_state:
 * @self: a #QSockAbstract
 *
 * Gets the state.
 *
 * Returns: the socket's state
 *
 * Since: 1.0
 */
QSockSocketState
qsock_abstract_get_state (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), QSOCK_SOCKET_STATE_UNCONNECTED);

  return PRIV (self)->state;
}

/**
 * qsock_abstract_get_error:
 * @self: a #QSockAbstract
 *
 * Gets the last error, as Qt's `error()`. It is
 * %QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET until something fails, and is not reset
 * by later successful calls.
 *
 * Returns: the last error
 *
 * Since: 1.0
 */
QSockSocketError
qsock_abstract_get_error (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);

  return PRIV (self)->error;
}

/**
 * qsock_abstract_is_valid:
 * @self: a #QSockAbstract
 *
 * Whether the socket has a descriptor, or (without one) whether the device
 * is open, as Qt's `isValid()`.
 *
 * Returns: %TRUE if the socket is usable
 *
 * Since: 1.0
 */
gboolean
qsock_abstract_is_valid (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), FALSE);

  return PRIV (self)->fd >= 0 || qsock_iodevice_is_open (QSOCK_IODEVICE (self));
}

/**
 * qsock_abstract_get_local_address:
 * @self: a #QSockAbstract
 *
 * Gets the local address of a bound or connected socket.
 *
 * Returns: (transfer full) (nullable): the address, or %NULL
 *
 * Since: 1.0
 */
GInetAddress *
qsock_abstract_get_local_address (QSockAbstract *self)
{
  GInetAddress *address;

  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), NULL);

  address = PRIV (self)->local_address;
  return address != NULL ? g_object_ref (address) : NULL;
}

/**
 * qsock_abstract_get_local_port:
 * @self: a #QSockAbstract
 *
 * Gets the local port of a bound or connected socket.
 *
 * Returns: the port, or 0
 *
 * Since: 1.0
 */
guint16
qsock_abstract_get_local_port (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), 0);

  return PRIV (self)->local_port;
}

/**
 * qsock_abstract_get_peer_address:
 * @self: a #QSockAbstract
 *
 * Gets the address of the connected peer.
 *
 * Returns: (transfer full) (nullable): the address, or %NULL
 *
 * Since: 1.0
 */
GInetAddress *
qsock_abstract_get_peer_address (QSockAbstract *self)
{
  GInetAddress *address;

  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), NULL);

  address = PRIV (self)->peer_address;
  return address != NULL ? g_object_ref (address) : NULL;
}

/**
 * qsock_abstract_get_peer_port:
 * @self: a #QSockAbstract
 *
 * Gets the port of the connected peer.
 *
 * Returns: the port, or 0
 *
 * Since: 1.0
 */
guint16
qsock_abstract_get_peer_port (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), 0);

  return PRIV (self)->peer_port;
}

/**
 * qsock_abstract_get_peer_name:
 * @self: a #QSockAbstract
 *
 * Gets the host name given to qsock_abstract_connect_to_host().
 *
 * Returns: (nullable): the name, or %NULL
 *
 * Since: 1.0
 */
const char *
qsock_abstract_get_peer_name (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), NULL);

  return PRIV (self)->peer_name;
}

/**
 * qsock_abstract_get_read_buffer_size:
 * @self: a #QSockAbstract
 *
 * Gets #QSockAbstract:read-buffer-size.
 *
 * Returns: the limit in bytes; 0 means unlimited
 *
 * Since: 1.0
 */
gint64
qsock_abstract_get_read_buffer_size (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), 0);

  return PRIV (self)->read_buffer_size;
}

/**
 * qsock_abstract_set_read_buffer_size:
 * @self: a #QSockAbstract
 * @size: the limit in bytes; 0 for unlimited
 *
 * Limits the read buffer, as Qt's `setReadBufferSize()`; see
 * #QSockAbstract:read-buffer-size. Raising the limit above what is
 * buffered, or removing it, resumes reading.
 *
 * Since: 1.0
 */
void
qsock_abstract_set_read_buffer_size (QSockAbstract *self,
                                     gint64         size)
{
  QSockAbstractPrivate *priv;

  g_return_if_fail (QSOCK_IS_ABSTRACT (self));

  priv = PRIV (self);
  if (priv->read_buffer_size == size)
    return;

  priv->read_buffer_size = size;
  if (priv->read_paused && priv->state == QSOCK_SOCKET_STATE_CONNECTED &&
      (size <= 0 || size > (gint64) qsock_buffer_get_size (qsock_iodevice_get_read_buffer (QSOCK_IODEVICE (self)))))
    {
      priv->read_paused = FALSE;
      update_interest (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READ_BUFFER_SIZE]);
}

/**
 * qsock_abstract_set_socket_descriptor:
 * @self: a #QSockAbstract
 * @fd: a native socket descriptor; the socket takes ownership
 * @state: the state to take (usually %QSOCK_SOCKET_STATE_CONNECTED)
 * @mode: how to open the device
 *
 * Wraps an existing socket, connected or not, as Qt's
 * `setSocketDescriptor()`. #QSockAbstract::state-changed is emitted inside
 * the call if the state changes.
 *
 * Returns: %TRUE on success; %FALSE with
 *   %QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION if @fd is not a socket
 *
 * Since: 1.0
 */
gboolean
qsock_abstract_set_socket_descriptor (QSockAbstract   *self,
                                      int              fd,
                                      QSockSocketState state,
                                      QSockOpenMode    mode)
{
  QSockAbstractPrivate *priv;
  g_autoptr(QSockHold) keep = NULL;
  GSocketFamily family;
  int type;

  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), FALSE);

  keep = qsock_iodevice_hold (self);
  priv = PRIV (self);
  if (!qsock_socket_adopt (fd, &family, &type))
    {
      qsock_abstract_set_error (self, QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION,
                                qsock_message (QSOCK_MSG_INVALID_DESCRIPTOR));
      return FALSE;
    }

  cancel_lookup (priv);
  g_clear_pointer (&priv->candidates, g_ptr_array_unref);
  adopt_socket (self, fd, family);
  if (priv->type == QSOCK_SOCKET_TYPE_UNKNOWN)
    priv->type = type == SOCK_DGRAM ? QSOCK_SOCKET_TYPE_UDP : QSOCK_SOCKET_TYPE_TCP;

  qsock_iodevice_open_device (QSOCK_IODEVICE (self), mode);
  fetch_connection_parameters (self);
  set_state (self, state);
  update_interest (self);
  return TRUE;
}

/**
 * qsock_abstract_get_socket_descriptor:
 * @self: a #QSockAbstract
 *
 * Gets the native descriptor; it stays owned by the socket.
 *
 * Returns: the descriptor, or -1
 *
 * Since: 1.0
 */
int
qsock_abstract_get_socket_descriptor (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), -1);

  return PRIV (self)->fd;
}

/* Maps a Qt option to a sockopt level and name for this socket's family. */
static gboolean
option_to_native (QSockAbstract    *self,
                  QSockSocketOption option,
                  int              *level,
                  int              *name)
{
  QSockAbstractPrivate *priv = PRIV (self);
  gboolean v6 = priv->family == G_SOCKET_FAMILY_IPV6;

  switch (option)
    {
    case QSOCK_SOCKET_OPTION_LOW_DELAY:
      *level = IPPROTO_TCP, *name = TCP_NODELAY;
      return priv->type == QSOCK_SOCKET_TYPE_TCP;
    case QSOCK_SOCKET_OPTION_KEEP_ALIVE:
      *level = SOL_SOCKET, *name = SO_KEEPALIVE;
      return TRUE;
    case QSOCK_SOCKET_OPTION_MULTICAST_TTL:
      *level = v6 ? IPPROTO_IPV6 : IPPROTO_IP, *name = v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL;
      return TRUE;
    case QSOCK_SOCKET_OPTION_MULTICAST_LOOPBACK:
      *level = v6 ? IPPROTO_IPV6 : IPPROTO_IP, *name = v6 ? IPV6_MULTICAST_LOOP : IP_MULTICAST_LOOP;
      return TRUE;
    case QSOCK_SOCKET_OPTION_TYPE_OF_SERVICE:
      *level = v6 ? IPPROTO_IPV6 : IPPROTO_IP, *name = v6 ? IPV6_TCLASS : IP_TOS;
      return TRUE;
    case QSOCK_SOCKET_OPTION_SEND_BUFFER_SIZE:
      *level = SOL_SOCKET, *name = SO_SNDBUF;
      return TRUE;
    case QSOCK_SOCKET_OPTION_RECEIVE_BUFFER_SIZE:
      *level = SOL_SOCKET, *name = SO_RCVBUF;
      return TRUE;
    case QSOCK_SOCKET_OPTION_PATH_MTU:
      *level = v6 ? IPPROTO_IPV6 : IPPROTO_IP, *name = v6 ? IPV6_MTU : IP_MTU;
      return TRUE;
    default:
      return FALSE;
    }
}

/**
 * qsock_abstract_set_socket_option:
 * @self: a #QSockAbstract
 * @option: the option
 * @value: its value
 *
 * Sets a socket option, as Qt's `setSocketOption()`. Ignored when the
 * socket has no descriptor yet, as in Qt.
 *
 * Since: 1.0
 */
void
qsock_abstract_set_socket_option (QSockAbstract    *self,
                                  QSockSocketOption option,
                                  int               value)
{
  int level, name;

  g_return_if_fail (QSOCK_IS_ABSTRACT (self));

  if (PRIV (self)->fd < 0 || !option_to_native (self, option, &level, &name))
    return;
  setsockopt (PRIV (self)->fd, level, name, &value, sizeof value);
}

/**
 * qsock_abstract_get_socket_option:
 * @self: a #QSockAbstract
 * @option: the option
 * @value: (out): its value
 *
 * Reads a socket option, as Qt's `socketOption()`.
 *
 * Returns: %FALSE where Qt returns an invalid value: no descriptor, or the
 *   system refused
 *
 * Since: 1.0
 */
gboolean
qsock_abstract_get_socket_option (QSockAbstract    *self,
                                  QSockSocketOption option,
                                  int              *value)
{
  int level, name;
  int v = 0;
  socklen_t len = sizeof v;

  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  *value = 0;
  if (PRIV (self)->fd < 0 || !option_to_native (self, option, &level, &name))
    return FALSE;
  if (getsockopt (PRIV (self)->fd, level, name, &v, &len) != 0)
    return FALSE;

  /* Qt reports boolean options as 0 or 1. */
  if (option == QSOCK_SOCKET_OPTION_LOW_DELAY || option == QSOCK_SOCKET_OPTION_KEEP_ALIVE ||
      option == QSOCK_SOCKET_OPTION_MULTICAST_LOOPBACK)
    v = v != 0;
  *value = v;
  return TRUE;
}

/**
 * qsock_abstract_get_pause_mode:
 * @self: a #QSockAbstract
 *
 * Gets #QSockAbstract:pause-mode.
 *
 * Returns: the pause mode
 *
 * Since: 1.0
 */
QSockPauseModes
qsock_abstract_get_pause_mode (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), QSOCK_PAUSE_MODES_NEVER);

  return PRIV (self)->pause_mode;
}

/**
 * qsock_abstract_set_pause_mode:
 * @self: a #QSockAbstract
 * @mode: when to pause
 *
 * Sets #QSockAbstract:pause-mode, as Qt's `setPauseMode()`. Pausing only
 * happens on TLS errors, which plain TCP sockets never have.
 *
 * Since: 1.0
 */
void
qsock_abstract_set_pause_mode (QSockAbstract  *self,
                               QSockPauseModes mode)
{
  QSockAbstractPrivate *priv;

  g_return_if_fail (QSOCK_IS_ABSTRACT (self));

  priv = PRIV (self);
  if (priv->pause_mode == mode)
    return;
  priv->pause_mode = mode;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSE_MODE]);
}

/**
 * qsock_abstract_get_half_close:
 * @self: a #QSockAbstract
 *
 * Gets #QSockAbstract:half-close.
 *
 * Returns: whether the peer's end of input only ends reading
 *
 * Since: 1.2
 */
gboolean
qsock_abstract_get_half_close (QSockAbstract *self)
{
  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), FALSE);

  return PRIV (self)->half_close;
}

/**
 * qsock_abstract_set_half_close:
 * @self: a #QSockAbstract
 * @half_close: whether the peer's end of input only ends reading
 *
 * Sets #QSockAbstract:half-close; it applies to the next end of input.
 *
 * Since: 1.2
 */
void
qsock_abstract_set_half_close (QSockAbstract *self,
                               gboolean       half_close)
{
  QSockAbstractPrivate *priv;

  g_return_if_fail (QSOCK_IS_ABSTRACT (self));

  priv = PRIV (self);
  half_close = !!half_close;
  if (priv->half_close == (guint) half_close)
    return;
  priv->half_close = half_close;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HALF_CLOSE]);
}

/**
 * qsock_abstract_shutdown_write:
 * @self: a #QSockAbstract
 *
 * Shuts the sending side down once every queued byte is written (a TCP
 * FIN, `shutdown (fd, SHUT_WR)`), as netcat does at the end of its input;
 * reading goes on, and the peer sees the end of its input. Later writes
 * fail with %QSOCK_SOCKET_ERROR_OPERATION. When the peer's input has ended
 * too (see #QSockAbstract:half-close), the connection then closes as
 * qsock_abstract_disconnect_from_host() would. Not in Qt. Does nothing
 * unless connected over TCP.
 *
 * Since: 1.2
 */
void
qsock_abstract_shutdown_write (QSockAbstract *self)
{
  QSockAbstractPrivate *priv;
  g_autoptr(QSockHold) keep = NULL;

  g_return_if_fail (QSOCK_IS_ABSTRACT (self));

  priv = PRIV (self);
  if (priv->state != QSOCK_SOCKET_STATE_CONNECTED || priv->type == QSOCK_SOCKET_TYPE_UDP ||
      priv->fd < 0 || priv->write_shut || priv->shutdown_pending)
    return;

  keep = qsock_iodevice_hold (self);
  if (qsock_buffer_is_empty (qsock_iodevice_get_write_buffer (QSOCK_IODEVICE (self))))
    shut_down_writing (self);
  else
    priv->shutdown_pending = TRUE;
}

/**
 * qsock_abstract_resume:
 * @self: a #QSockAbstract
 *
 * Resumes a transfer paused by #QSockAbstract:pause-mode, as Qt's
 * `resume()`; does nothing when not paused.
 *
 * Since: 1.0
 */
void
qsock_abstract_resume (QSockAbstract *self)
{
  g_return_if_fail (QSOCK_IS_ABSTRACT (self));

  update_interest (self);
}

/**
 * qsock_abstract_wait_for_connected:
 * @self: a #QSockAbstract
 * @msecs: how long to wait in milliseconds; -1 waits forever (Qt's default
 *   is 30000)
 *
 * Blocks until connected, as Qt's `waitForConnected()`, with no main loop
 * needed; signals are emitted inside the call. A pending host lookup is
 * done in place. On timeout the state returns to
 * %QSOCK_SOCKET_STATE_UNCONNECTED and the error is
 * %QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT, without #QSockAbstract::error-occurred
 * (as in Qt).
 *
 * Returns: %TRUE if connected
 *
 * Since: 1.0
 */
gboolean
qsock_abstract_wait_for_connected (QSockAbstract *self,
                                   int            msecs)
{
  g_autoptr(QSockHold) keep = NULL;

  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), FALSE);

  keep = qsock_iodevice_hold (self);
  return wait_connected_until (self, deadline_from_msecs (msecs)) &&
         PRIV (self)->state == QSOCK_SOCKET_STATE_CONNECTED;
}

/**
 * qsock_abstract_wait_for_disconnected:
 * @self: a #QSockAbstract
 * @msecs: how long to wait in milliseconds; -1 waits forever
 *
 * Blocks until the state is %QSOCK_SOCKET_STATE_UNCONNECTED, as Qt's
 * `waitForDisconnected()`: queued data is written and incoming data read
 * meanwhile, with their signals. On timeout it emits
 * %QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT and leaves the connection intact.
 *
 * Returns: %TRUE if disconnected
 *
 * Since: 1.0
 */
gboolean
qsock_abstract_wait_for_disconnected (QSockAbstract *self,
                                      int            msecs)
{
  QSockAbstractPrivate *priv;
  gint64 deadline = deadline_from_msecs (msecs);
  g_autoptr(QSockHold) keep = NULL;

  g_return_val_if_fail (QSOCK_IS_ABSTRACT (self), FALSE);

  keep = qsock_iodevice_hold (self);
  priv = PRIV (self);
  if (priv->state == QSOCK_SOCKET_STATE_UNCONNECTED)
    {
      g_warning ("QAbstractSocket::waitForDisconnected() is not allowed in UnconnectedState");
      return FALSE;
    }
  if (!wait_connected_until (self, deadline))
    return FALSE;

  while (priv->state != QSOCK_SOCKET_STATE_UNCONNECTED && priv->fd >= 0)
    {
      gboolean did_read;
      gssize written;

      /* A full read buffer cannot tell us about the close: read on anyway
       * would break the limit, so only writes and hang-ups are watched. */
      if (!wait_round (self, deadline, &did_read, &written) ||
          (priv->state != QSOCK_SOCKET_STATE_UNCONNECTED && deadline_passed (deadline)))
        {
          timed_out (self);
          return FALSE;
        }
    }
  return priv->state == QSOCK_SOCKET_STATE_UNCONNECTED;
}

/* Asynchronous connecting and waiting, for scripts and GIO-style code */

static const char * const state_signals[] = { "state-changed", NULL };
static const char * const connect_signals[] = { "state-changed", "error-occurred", NULL };

typedef struct
{
  char                     *host_name;
  guint16                   port;
  QSockOpenMode             mode;
  QSockNetworkLayerProtocol protocol;
} ConnectArgs;

static void
connect_args_free (gpointer data)
{
  ConnectArgs *args = data;

  g_free (args->host_name);
  g_free (args);
}

static void
connect_begin (gpointer self,
               GTask   *task)
{
  ConnectArgs *args = g_task_get_task_data (task);

  qsock_abstract_connect_to_host (self, args->host_name, args->port, args->mode, args->protocol);
}

static gboolean
connect_step (gpointer self,
              GTask   *task)
{
  QSockAbstractPrivate *priv = PRIV (QSOCK_ABSTRACT (self));

  /* Connected, also when a handler of state-changed (CONNECTED) has
   * already disconnected it again: the connect itself succeeded. */
  if (priv->state == QSOCK_SOCKET_STATE_CONNECTED ||
      (priv->attempt_connected && priv->state != QSOCK_SOCKET_STATE_HOST_LOOKUP &&
       priv->state != QSOCK_SOCKET_STATE_CONNECTING))
    {
      qsock_async_return_boolean (task, TRUE);
      return TRUE;
    }
  /* Qt changes the state before it emits the error: wait for the error,
   * unless the attempt ended without one (aborted, the device closed). */
  if (priv->state == QSOCK_SOCKET_STATE_UNCONNECTED &&
      (priv->error != QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET || !qsock_iodevice_is_open (self)))
    {
      qsock_async_return_error (task, qsock_async_error_new (priv->error,
                                                        qsock_iodevice_get_error_string (self)));
      return TRUE;
    }
  /* The attempt failed with error-occurred, and a handler of it changed the
   * error since (a write() in UNCONNECTED sets "not connected"): the
   * emitted error is the attempt's. */
  if (priv->state == QSOCK_SOCKET_STATE_UNCONNECTED &&
      priv->emitted_error != QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET)
    {
      qsock_async_return_error (task, qsock_async_error_new (priv->emitted_error,
                                                        qsock_iodevice_get_error_string (self)));
      return TRUE;
    }
  return FALSE;
}

static void
connect_cancelled (gpointer self)
{
  qsock_abstract_abort (self);
}

/**
 * qsock_abstract_connect_to_host_async:
 * @self: a #QSockAbstract
 * @host_name: a host name or an IP literal
 * @port: the port
 * @mode: how to open the device
 * @protocol: which addresses to use
 * @cancellable: (nullable): a #GCancellable; cancelling aborts the attempt
 * @callback: (scope async): called once connected or failed
 * @user_data: (closure): data for @callback
 *
 * Starts qsock_abstract_connect_to_host() (with all its signals) and
 * completes when the socket is connected or the attempt failed; the
 * failure is the socket's error in the %QSOCK_SOCKET_ERROR domain.
 * Cancelling aborts the attempt (the socket ends unconnected).
 *
 * Since: 1.0
 */
void
qsock_abstract_connect_to_host_async (QSockAbstract            *self,
                                      const char               *host_name,
                                      guint16                   port,
                                      QSockOpenMode             mode,
                                      QSockNetworkLayerProtocol protocol,
                                      GCancellable             *cancellable,
                                      GAsyncReadyCallback       callback,
                                      gpointer                  user_data)
{
  ConnectArgs *args;

  g_return_if_fail (QSOCK_IS_ABSTRACT (self));
  g_return_if_fail (host_name != NULL);

  args = g_new0 (ConnectArgs, 1);
  args->host_name = g_strdup (host_name);
  args->port = port;
  args->mode = mode;
  args->protocol = protocol;
  qsock_async_start (self, "qsock_abstract_connect_async", cancellable, callback, user_data,
                     qsock_abstract_connect_to_host_async, args, connect_args_free,
                     connect_begin, connect_step, connect_cancelled, connect_signals);
}

/**
 * qsock_abstract_connect_to_host_finish:
 * @self: a #QSockAbstract
 * @result: the result
 * @error: return location for a #GError
 *
 * Finishes qsock_abstract_connect_to_host_async().
 *
 * Returns: %TRUE if connected
 *
 * Since: 1.0
 */
gboolean
qsock_abstract_connect_to_host_finish (QSockAbstract *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
disconnected_step (gpointer self,
                   GTask   *task)
{
  if (PRIV (QSOCK_ABSTRACT (self))->state != QSOCK_SOCKET_STATE_UNCONNECTED)
    return FALSE;
  qsock_async_return_boolean (task, TRUE);
  return TRUE;
}

/**
 * qsock_abstract_wait_for_disconnected_async:
 * @self: a #QSockAbstract
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called once the socket is unconnected
 * @user_data: (closure): data for @callback
 *
 * Completes when the state becomes %QSOCK_SOCKET_STATE_UNCONNECTED (the
 * peer closed, or a disconnect finished writing), the asynchronous form of
 * qsock_abstract_wait_for_disconnected(). Cancelling changes nothing.
 *
 * Since: 1.0
 */
void
qsock_abstract_wait_for_disconnected_async (QSockAbstract       *self,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_return_if_fail (QSOCK_IS_ABSTRACT (self));

  qsock_async_start (self, "qsock_abstract_disconnected_async", cancellable, callback, user_data,
                     qsock_abstract_wait_for_disconnected_async, NULL, NULL,
                     NULL, disconnected_step, NULL, state_signals);
}

/**
 * qsock_abstract_wait_for_disconnected_finish:
 * @self: a #QSockAbstract
 * @result: the result
 * @error: return location for a #GError
 *
 * Finishes qsock_abstract_wait_for_disconnected_async().
 *
 * Returns: %TRUE once disconnected; %FALSE with @error if cancelled
 *
 * Since: 1.0
 */
gboolean
qsock_abstract_wait_for_disconnected_finish (QSockAbstract *self,
                                             GAsyncResult  *result,
                                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
