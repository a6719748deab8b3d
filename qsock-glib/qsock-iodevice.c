/* qsock-iodevice.c: Qt's QIODevice, as sockets use it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * QSockIODevice:
 *
 * The reading and writing model of Qt's `QIODevice`, as sockets use it.
 *
 * A #QSockIODevice holds a read buffer that its subclass fills from the
 * kernel and a write buffer that the subclass drains into it. Reading calls
 * (qsock_iodevice_read(), qsock_iodevice_read_line(), qsock_iodevice_peek(),
 * transactions, …) work on the read buffer and never block; writing calls
 * queue bytes and return at once. #QSockIODevice::ready-read says new bytes
 * arrived and #QSockIODevice::bytes-written says queued bytes left.
 *
 * Misuse (reading a device that is not open, a negative size, …) prints
 * Qt's warning and returns -1, %FALSE or an empty result, as Qt does.
 *
 * Every byte-oriented call comes twice: a C form on a caller's buffer
 * (skipped by introspection) and a form that returns #GBytes, which
 * bindings see under the plain name, so Python's `sock.read(100)` returns
 * `bytes`.
 *
 * Since: 1.0
 */
#include "config.h"

#include <string.h>

#include "qsock-iodevice.h"
#include "qsock-iodevice-private.h"
#include "qsock-enum-types.h"
#include "qsock-error-private.h"
#include "qsock-async-private.h"
#include "qsock-error.h"

typedef struct
{
  QSockOpenMode open_mode;
  char         *error_string;
  /* The buffers in use: our own, or those of the device that wraps us
   * (qsock_iodevice_share_buffers()). */
  QSockBuffer  *read_buffer;
  QSockBuffer  *write_buffer;
  QSockBuffer   own_read_buffer;
  QSockBuffer   own_write_buffer;
  /* The device whose buffers these are, when shared (not a reference:
   * the owner unshares before it goes). */
  QSockIODevice *buffer_owner;
  gsize         transaction_pos;
  guint         transaction_started : 1;
  guint         emitting_ready_read : 1;
  guint         emitting_bytes_written : 1;
  guint         read_channel_done : 1;   /* no more data will arrive */
} QSockIODevicePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (QSockIODevice, qsock_iodevice, G_TYPE_OBJECT)

#define PRIV(self) ((QSockIODevicePrivate *) qsock_iodevice_get_instance_private (self))

enum {
  PROP_0,
  PROP_OPEN_MODE,
  PROP_ERROR_STRING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  READY_READ,
  BYTES_WRITTEN,
  ABOUT_TO_CLOSE,
  READ_CHANNEL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Internal API for subclasses */

QSockBuffer *
qsock_iodevice_get_read_buffer (QSockIODevice *self)
{
  return PRIV (self)->read_buffer;
}

QSockBuffer *
qsock_iodevice_get_write_buffer (QSockIODevice *self)
{
  return PRIV (self)->write_buffer;
}

void
qsock_iodevice_warn (QSockIODevice *self,
                     const char    *function,
                     const char    *what)
{
  g_warning ("QIODevice::%s (%s): %s", function, G_OBJECT_TYPE_NAME (self), what);
}

void
qsock_iodevice_set_error_string (QSockIODevice *self,
                                 const char    *message)
{
  QSockIODevicePrivate *priv = PRIV (self);

  if (g_strcmp0 (priv->error_string, message) == 0)
    return;

  g_free (priv->error_string);
  priv->error_string = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR_STRING]);
}

static void
set_open_mode (QSockIODevice *self,
               QSockOpenMode  mode)
{
  QSockIODevicePrivate *priv = PRIV (self);

  if (priv->open_mode == mode)
    return;

  priv->open_mode = mode;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN_MODE]);
}

/* Empties the read buffer and ends any transaction on it: this device's,
 * and its owner's when the buffer is shared (an inner socket that aborts
 * empties its QSockLocal's buffer under that object's transaction). */
static void
clear_read_buffer (QSockIODevice *self)
{
  QSockIODevicePrivate *priv = PRIV (self);

  qsock_buffer_clear (priv->read_buffer);
  priv->transaction_started = FALSE;
  priv->transaction_pos = 0;
  if (priv->buffer_owner != NULL)
    {
      PRIV (priv->buffer_owner)->transaction_started = FALSE;
      PRIV (priv->buffer_owner)->transaction_pos = 0;
    }
}

void
qsock_iodevice_open_device (QSockIODevice *self,
                            QSockOpenMode  mode)
{
  QSockIODevicePrivate *priv = PRIV (self);

  clear_read_buffer (self);
  qsock_buffer_clear (priv->write_buffer);
  priv->read_channel_done = FALSE;
  qsock_iodevice_set_error_string (self, NULL);
  set_open_mode (self, mode);
}

gboolean
qsock_iodevice_emit_ready_read (QSockIODevice *self)
{
  QSockIODevicePrivate *priv = PRIV (self);

  if (priv->emitting_ready_read)
    return FALSE;

  priv->emitting_ready_read = TRUE;
  qsock_iodevice_hold (self);
  g_signal_emit (self, signals[READY_READ], 0);
  PRIV (self)->emitting_ready_read = FALSE;
  qsock_iodevice_release (self);
  return TRUE;
}

gboolean
qsock_iodevice_emit_bytes_written (QSockIODevice *self,
                                   gint64         bytes)
{
  QSockIODevicePrivate *priv = PRIV (self);

  if (priv->emitting_bytes_written)
    return FALSE;

  /* Emitted after every write: skip the signal machinery when nobody
   * listens (no handler, no class handler). */
  if (QSOCK_IODEVICE_GET_CLASS (self)->bytes_written == NULL &&
      !g_signal_has_handler_pending (self, signals[BYTES_WRITTEN], 0, FALSE))
    return TRUE;

  priv->emitting_bytes_written = TRUE;
  qsock_iodevice_hold (self);
  g_signal_emit (self, signals[BYTES_WRITTEN], 0, bytes);
  PRIV (self)->emitting_bytes_written = FALSE;
  qsock_iodevice_release (self);
  return TRUE;
}

void
qsock_iodevice_emit_read_channel_finished (QSockIODevice *self)
{
  PRIV (self)->read_channel_done = TRUE;
  g_signal_emit (self, signals[READ_CHANNEL_FINISHED], 0);
}

/* Access checks, as QIODevice's CHECK_* macros */

static gboolean
check_readable (QSockIODevice *self,
                const char    *function)
{
  QSockOpenMode mode = PRIV (self)->open_mode;

  if (mode == QSOCK_OPEN_MODE_NOT_OPEN)
    {
      qsock_iodevice_warn (self, function, "device not open");
      return FALSE;
    }
  if (!(mode & QSOCK_OPEN_MODE_READ_ONLY))
    {
      qsock_iodevice_warn (self, function, "WriteOnly device");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_writable (QSockIODevice *self,
                const char    *function)
{
  QSockOpenMode mode = PRIV (self)->open_mode;

  if (mode == QSOCK_OPEN_MODE_NOT_OPEN)
    {
      qsock_iodevice_warn (self, function, "device not open");
      return FALSE;
    }
  if (!(mode & QSOCK_OPEN_MODE_WRITE_ONLY))
    {
      qsock_iodevice_warn (self, function, "ReadOnly device");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_max_size (QSockIODevice *self,
                const char    *function,
                gint64         max_size)
{
  if (max_size < 0)
    {
      qsock_iodevice_warn (self, function, "Called with maxSize < 0");
      return FALSE;
    }
  return TRUE;
}

/* Default virtual functions */

static gboolean
qsock_iodevice_real_open (QSockIODevice *self,
                          QSockOpenMode  mode)
{
  qsock_iodevice_open_device (self, mode);
  return TRUE;
}

static void
qsock_iodevice_real_close (QSockIODevice *self)
{
  QSockIODevicePrivate *priv = PRIV (self);

  if (priv->open_mode == QSOCK_OPEN_MODE_NOT_OPEN)
    return;

  g_signal_emit (self, signals[ABOUT_TO_CLOSE], 0);
  set_open_mode (self, QSOCK_OPEN_MODE_NOT_OPEN);
  /* The read side goes; queued writes stay, so a socket still flushes them. */
  clear_read_buffer (self);
}

static gint64
qsock_iodevice_real_read_data (QSockIODevice *self,
                               char          *data,
                               gint64         max_size)
{
  return max_size > 0 ? -1 : 0;
}

static gint64
qsock_iodevice_real_write_data (QSockIODevice *self,
                                const char    *data,
                                gint64         size)
{
  qsock_buffer_append (PRIV (self)->write_buffer, data, size);
  return size;
}

static gint64
qsock_iodevice_real_bytes_available (QSockIODevice *self)
{
  QSockIODevicePrivate *priv = PRIV (self);

  return (gint64) (qsock_buffer_get_size (priv->read_buffer) - priv->transaction_pos);
}

static gint64
qsock_iodevice_real_bytes_to_write (QSockIODevice *self)
{
  return (gint64) qsock_buffer_get_size (PRIV (self)->write_buffer);
}

static gboolean
qsock_iodevice_real_can_read_line (QSockIODevice *self)
{
  QSockIODevicePrivate *priv = PRIV (self);

  return qsock_buffer_find_newline (priv->read_buffer, priv->transaction_pos, G_MAXSIZE) >= 0;
}

static gboolean
qsock_iodevice_real_at_end (QSockIODevice *self)
{
  return PRIV (self)->open_mode == QSOCK_OPEN_MODE_NOT_OPEN ||
         qsock_iodevice_bytes_available (self) == 0;
}

static gboolean
qsock_iodevice_real_is_sequential (QSockIODevice *self)
{
  return TRUE;
}

static gboolean
qsock_iodevice_real_wait (QSockIODevice *self,
                          int            msecs)
{
  return FALSE;
}

/* GObject */

static void
qsock_iodevice_finalize (GObject *object)
{
  QSockIODevicePrivate *priv = PRIV (QSOCK_IODEVICE (object));

  qsock_buffer_clear (&priv->own_read_buffer);
  qsock_buffer_clear (&priv->own_write_buffer);
  g_free (priv->error_string);

  G_OBJECT_CLASS (qsock_iodevice_parent_class)->finalize (object);
}

static void
qsock_iodevice_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  QSockIODevice *self = QSOCK_IODEVICE (object);

  switch (prop_id)
    {
    case PROP_OPEN_MODE:
      g_value_set_flags (value, qsock_iodevice_get_open_mode (self));
      break;
    case PROP_ERROR_STRING:
      g_value_set_string (value, qsock_iodevice_get_error_string (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
qsock_iodevice_class_init (QSockIODeviceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  qsock_ensure_i18n ();

  object_class->finalize = qsock_iodevice_finalize;
  object_class->get_property = qsock_iodevice_get_property;

  klass->open = qsock_iodevice_real_open;
  klass->close = qsock_iodevice_real_close;
  klass->read_data = qsock_iodevice_real_read_data;
  klass->write_data = qsock_iodevice_real_write_data;
  klass->bytes_available = qsock_iodevice_real_bytes_available;
  klass->bytes_to_write = qsock_iodevice_real_bytes_to_write;
  klass->can_read_line = qsock_iodevice_real_can_read_line;
  klass->at_end = qsock_iodevice_real_at_end;
  klass->is_sequential = qsock_iodevice_real_is_sequential;
  klass->wait_for_ready_read = qsock_iodevice_real_wait;
  klass->wait_for_bytes_written = qsock_iodevice_real_wait;

  /**
   * QSockIODevice:open-mode:
   *
   * How the device is open; %QSOCK_OPEN_MODE_NOT_OPEN when it is closed.
   *
   * Since: 1.0
   */
  properties[PROP_OPEN_MODE] =
    g_param_spec_flags ("open-mode", NULL, NULL,
                        QSOCK_TYPE_OPEN_MODE, QSOCK_OPEN_MODE_NOT_OPEN,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * QSockIODevice:error-string:
   *
   * A human-readable, translated description of the last error.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR_STRING] =
    g_param_spec_string ("error-string", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * QSockIODevice::ready-read:
   * @self: the device
   *
   * Emitted from the main loop (or inside a `wait_for_*` call) each time new
   * data has been added to the read buffer, as Qt's `readyRead()`. It is
   * never emitted from inside its own handler: data that arrives while a
   * handler runs is buffered without a second emission.
   *
   * Since: 1.0
   */
  signals[READY_READ] =
    g_signal_new ("ready-read", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockIODeviceClass, ready_read),
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * QSockIODevice::bytes-written:
   * @self: the device
   * @bytes: how many queued bytes were just written to the system
   *
   * Emitted after queued data was written to the kernel, as Qt's
   * `bytesWritten(qint64)`; inside qsock_abstract_flush() when that writes.
   * The sum of @bytes over emissions equals the bytes written; how they are
   * split is not specified. Never emitted from inside its own handler.
   *
   * Since: 1.0
   */
  signals[BYTES_WRITTEN] =
    g_signal_new ("bytes-written", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockIODeviceClass, bytes_written),
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);

  /**
   * QSockIODevice::about-to-close:
   * @self: the device
   *
   * Emitted when the device is about to close, before the open mode
   * becomes %QSOCK_OPEN_MODE_NOT_OPEN, as Qt's `aboutToClose()`.
   *
   * Since: 1.0
   */
  signals[ABOUT_TO_CLOSE] =
    g_signal_new ("about-to-close", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockIODeviceClass, about_to_close),
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * QSockIODevice::read-channel-finished:
   * @self: the device
   *
   * Emitted when no more data will arrive (the connection closed), after
   * the state became unconnected and before `disconnected`, as Qt's
   * `readChannelFinished()`. Buffered data can still be read.
   *
   * Since: 1.0
   */
  signals[READ_CHANNEL_FINISHED] =
    g_signal_new ("read-channel-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (QSockIODeviceClass, read_channel_finished),
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
qsock_iodevice_init (QSockIODevice *self)
{
  QSockIODevicePrivate *priv = PRIV (self);

  priv->read_buffer = &priv->own_read_buffer;
  priv->write_buffer = &priv->own_write_buffer;
}

void
qsock_iodevice_share_buffers (QSockIODevice *self,
                              QSockIODevice *owner)
{
  QSockIODevicePrivate *priv = PRIV (self);

  qsock_buffer_clear (&priv->own_read_buffer);
  qsock_buffer_clear (&priv->own_write_buffer);
  priv->buffer_owner = owner;
  if (owner == NULL)
    {
      priv->read_buffer = &priv->own_read_buffer;
      priv->write_buffer = &priv->own_write_buffer;
      return;
    }
  priv->read_buffer = PRIV (owner)->read_buffer;
  priv->write_buffer = PRIV (owner)->write_buffer;
}

QSockIODevice *
qsock_iodevice_hold (gpointer device)
{
  QSockIODevice *self = device;
  QSockIODevice *owner = PRIV (self)->buffer_owner;

  g_object_ref (self);
  if (owner != NULL)
    g_object_ref (owner);
  return self;
}

void
qsock_iodevice_release (gpointer device)
{
  QSockIODevice *self = device;
  QSockIODevice *owner = PRIV (self)->buffer_owner;

  /* The owner first: its last reference unshares and drops @self's, so
   * @self goes last, after everything that works on the shared buffers. */
  if (owner != NULL)
    g_object_unref (owner);
  g_object_unref (self);
}

/* Public API */

/**
 * qsock_iodevice_open:
 * @self: a #QSockIODevice
 * @mode: how to open it
 *
 * Opens the device in @mode, as Qt's `QIODevice::open()`. For sockets,
 * connecting opens the device; this is rarely called directly.
 *
 * Returns: whether the device is open
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_open (QSockIODevice *self,
                     QSockOpenMode  mode)
{
  g_autoptr(QSockHold) keep = NULL;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  /* Opening a local socket connects it, with its signals. */
  keep = qsock_iodevice_hold (self);
  return QSOCK_IODEVICE_GET_CLASS (self)->open (self, mode);
}

/**
 * qsock_iodevice_close:
 * @self: a #QSockIODevice
 *
 * Closes the device, as Qt's `QIODevice::close()`: emits
 * #QSockIODevice::about-to-close, sets the open mode to
 * %QSOCK_OPEN_MODE_NOT_OPEN and drops unread data. A socket then
 * disconnects, still writing what was queued.
 *
 * Since: 1.0
 */
void
qsock_iodevice_close (QSockIODevice *self)
{
  g_return_if_fail (QSOCK_IS_IODEVICE (self));

  QSOCK_IODEVICE_GET_CLASS (self)->close (self);
}

/**
 * qsock_iodevice_get_open_mode:
 * @self: a #QSockIODevice
 *
 * Gets how the device is open.
 *
 * Returns: the open mode
 *
 * Since: 1.0
 */
QSockOpenMode
qsock_iodevice_get_open_mode (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), QSOCK_OPEN_MODE_NOT_OPEN);

  return PRIV (self)->open_mode;
}

/**
 * qsock_iodevice_is_open:
 * @self: a #QSockIODevice
 *
 * Whether the device is open for reading or writing.
 *
 * Returns: %TRUE if open
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_is_open (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  return PRIV (self)->open_mode != QSOCK_OPEN_MODE_NOT_OPEN;
}

/**
 * qsock_iodevice_is_readable:
 * @self: a #QSockIODevice
 *
 * Whether the device is open for reading.
 *
 * Returns: %TRUE if data can be read
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_is_readable (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  return (PRIV (self)->open_mode & QSOCK_OPEN_MODE_READ_ONLY) != 0;
}

/**
 * qsock_iodevice_is_writable:
 * @self: a #QSockIODevice
 *
 * Whether the device is open for writing.
 *
 * Returns: %TRUE if data can be written
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_is_writable (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  return (PRIV (self)->open_mode & QSOCK_OPEN_MODE_WRITE_ONLY) != 0;
}

/**
 * qsock_iodevice_is_sequential:
 * @self: a #QSockIODevice
 *
 * Whether the device is sequential (a stream with no positions); sockets
 * are.
 *
 * Returns: %TRUE for sockets
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_is_sequential (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), TRUE);

  return QSOCK_IODEVICE_GET_CLASS (self)->is_sequential (self);
}

/**
 * qsock_iodevice_is_text_mode_enabled:
 * @self: a #QSockIODevice
 *
 * Whether %QSOCK_OPEN_MODE_TEXT is set.
 *
 * Returns: %TRUE in text mode
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_is_text_mode_enabled (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  return (PRIV (self)->open_mode & QSOCK_OPEN_MODE_TEXT) != 0;
}

/**
 * qsock_iodevice_set_text_mode_enabled:
 * @self: a #QSockIODevice
 * @enabled: whether to set %QSOCK_OPEN_MODE_TEXT
 *
 * Sets or clears %QSOCK_OPEN_MODE_TEXT on an open device.
 *
 * Since: 1.0
 */
void
qsock_iodevice_set_text_mode_enabled (QSockIODevice *self,
                                      gboolean       enabled)
{
  QSockOpenMode mode;

  g_return_if_fail (QSOCK_IS_IODEVICE (self));

  if (!qsock_iodevice_is_open (self))
    {
      qsock_iodevice_warn (self, "setTextModeEnabled", "The device is not open");
      return;
    }

  mode = PRIV (self)->open_mode;
  set_open_mode (self, enabled ? mode | QSOCK_OPEN_MODE_TEXT : mode & ~QSOCK_OPEN_MODE_TEXT);
}

/* Takes up to @max_size buffered bytes (or peeks them during a transaction). */
static gsize
take_buffered (QSockIODevice *self,
               char          *data,
               gsize          max_size)
{
  QSockIODevicePrivate *priv = PRIV (self);
  gsize n;

  if (priv->transaction_started)
    {
      n = qsock_buffer_peek (priv->read_buffer, priv->transaction_pos, data, max_size);
      priv->transaction_pos += n;
      return n;
    }

  return qsock_buffer_read (priv->read_buffer, data, max_size);
}

/* Text mode, as QIODevice: read() drops every '\r'. */
static gsize
strip_carriage_returns (char  *data,
                        gsize  n)
{
  char *out = memchr (data, '\r', n);

  if (out == NULL)
    return n;
  for (const char *in = out; in < data + n; in++)
    if (*in != '\r')
      *out++ = *in;
  return (gsize) (out - data);
}

/* Text mode, as QIODevice: readLine() turns a final "\r\n" into "\n". */
static gsize
text_mode_line_end (QSockIODevice *self,
                    char          *data,
                    gsize          n)
{
  if ((PRIV (self)->open_mode & QSOCK_OPEN_MODE_TEXT) && n >= 2 &&
      data[n - 2] == '\r' && data[n - 1] == '\n')
    {
      data[n - 2] = '\n';
      return n - 1;
    }
  return n;
}

/* After taking @taken of @wanted bytes: lets the subclass add more (or
 * resume reading once the buffer is empty), as QIODevicePrivate::read. */
static gint64
finish_read (QSockIODevice *self,
             char          *data,
             gint64         taken,
             gint64         wanted)
{
  QSockIODeviceClass *klass = QSOCK_IODEVICE_GET_CLASS (self);
  gint64 more;

  if (taken < wanted)
    {
      more = klass->read_data (self, data + taken, wanted - taken);
      if (more < 0)
        return taken > 0 ? taken : -1;
      if (more > 0 && PRIV (self)->transaction_started)
        {
          QSockIODevicePrivate *priv = PRIV (self);

          /* Bytes handed out directly (a connected UDP socket's datagram)
           * bypass the buffer; inside a transaction they are kept in it,
           * as QIODevice does, so that a rollback gives them back. */
          qsock_buffer_append (priv->read_buffer, data + taken, (gsize) more);
          priv->transaction_pos += (gsize) more;
        }
      return taken + more;
    }

  if (qsock_buffer_is_empty (PRIV (self)->read_buffer))
    klass->read_data (self, data, 0);

  return taken;
}

/**
 * qsock_iodevice_read: (skip)
 * @self: a #QSockIODevice
 * @data: (out caller-allocates) (array length=max_size) (element-type guint8):
 *   where to store the bytes
 * @max_size: at most this many bytes
 *
 * Reads at most @max_size bytes into @data, as Qt's
 * `QIODevice::read(char *, qint64)`. It never blocks.
 *
 * Returns: the number of bytes read; 0 when nothing is buffered but more may
 *   come, -1 when nothing is buffered and the socket is not connected (or
 *   on misuse)
 *
 * Since: 1.0
 */
gint64
qsock_iodevice_read (QSockIODevice *self,
                     char          *data,
                     gint64         max_size)
{
  gsize taken;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), -1);

  if (!check_max_size (self, "read", max_size) || !check_readable (self, "read"))
    return -1;
  if (max_size == 0)
    return 0;

  g_return_val_if_fail (data != NULL, -1);

  taken = take_buffered (self, data, (gsize) max_size);
  if (PRIV (self)->open_mode & QSOCK_OPEN_MODE_TEXT)
    {
      gsize kept = strip_carriage_returns (data, taken);

      /* Fill the room the dropped '\r's left, as Qt does. */
      while (kept < taken && qsock_iodevice_bytes_available (self) > 0)
        {
          gsize more = take_buffered (self, data + kept, (gsize) max_size - kept);

          taken = kept + more;
          kept += strip_carriage_returns (data + kept, more);
        }
      taken = kept;
    }
  return finish_read (self, data, (gint64) taken, max_size);
}

static GBytes *
empty_bytes (void)
{
  return g_bytes_new (NULL, 0);
}

/**
 * qsock_iodevice_read_bytes: (rename-to qsock_iodevice_read)
 * @self: a #QSockIODevice
 * @max_size: at most this many bytes
 *
 * Reads at most @max_size bytes, as Qt's `QIODevice::read(qint64)`.
 *
 * Returns: (transfer full): the bytes read, empty if none (or on misuse)
 *
 * Since: 1.0
 */
GBytes *
qsock_iodevice_read_bytes (QSockIODevice *self,
                           gint64         max_size)
{
  gint64 available;
  char *data;
  gint64 n;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), NULL);

  if (!check_max_size (self, "read", max_size) || !check_readable (self, "read"))
    return empty_bytes ();

  if (max_size == 0)
    return empty_bytes ();

  /* Size the buffer by what is there; with nothing counted the device may
   * still have something to say (an unbuffered datagram socket's pending
   * error, say), so ask it with room for one datagram. */
  available = qsock_iodevice_bytes_available (self);
  max_size = MIN (max_size, available > 0 ? available : G_MAXUINT16 + 1);

  data = g_malloc (max_size);
  n = qsock_iodevice_read (self, data, max_size);
  if (n <= 0)
    {
      g_free (data);
      return empty_bytes ();
    }
  return g_bytes_new_take (data, n);
}

/**
 * qsock_iodevice_read_all:
 * @self: a #QSockIODevice
 *
 * Reads everything buffered, as Qt's `QIODevice::readAll()`.
 *
 * Returns: (transfer full): the bytes, empty if none
 *
 * Since: 1.0
 */
GBytes *
qsock_iodevice_read_all (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), NULL);

  if (!check_readable (self, "read"))
    return empty_bytes ();

  return qsock_iodevice_read_bytes (self, MAX (qsock_iodevice_bytes_available (self), 0));
}

/* Length of the next line (through its '\n'), capped at @max bytes. */
static gsize
next_line_length (QSockIODevice *self,
                  gsize          max)
{
  QSockIODevicePrivate *priv = PRIV (self);
  gsize available = qsock_buffer_get_size (priv->read_buffer) - priv->transaction_pos;
  gssize nl = qsock_buffer_find_newline (priv->read_buffer, priv->transaction_pos, max);

  if (nl >= 0)
    return (gsize) nl - priv->transaction_pos + 1;
  return MIN (available, max);
}

/**
 * qsock_iodevice_read_line: (skip)
 * @self: a #QSockIODevice
 * @data: (out caller-allocates) (array length=max_size) (element-type guint8):
 *   where to store the line and a terminating NUL
 * @max_size: the size of @data; at most @max_size - 1 bytes are read
 *
 * Reads a line (through its '\n', if one is buffered) of at most
 * @max_size - 1 bytes and terminates it with a NUL, as Qt's
 * `QIODevice::readLine(char *, qint64)`.
 *
 * Returns: the number of bytes read (without the NUL); 0 if nothing is
 *   buffered but more may come; -1 if nothing is buffered and the socket is
 *   not connected, or if @max_size < 2
 *
 * Since: 1.0
 */
gint64
qsock_iodevice_read_line (QSockIODevice *self,
                          char          *data,
                          gint64         max_size)
{
  gsize len;
  gsize taken;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), -1);

  if (max_size < 2)
    {
      qsock_iodevice_warn (self, "readLine", "Called with maxSize < 2");
      return -1;
    }
  if (!check_readable (self, "readLine"))
    return -1;

  g_return_val_if_fail (data != NULL, -1);

  len = next_line_length (self, (gsize) max_size - 1);
  taken = take_buffered (self, data, len);
  data[taken] = '\0';

  if (taken == 0)
    {
      /* Nothing buffered: the device says whether more may come. */
      gint64 r = QSOCK_IODEVICE_GET_CLASS (self)->read_data (self, data, 1);
      data[0] = '\0';
      return r < 0 ? -1 : 0;
    }

  if (qsock_buffer_is_empty (PRIV (self)->read_buffer))
    QSOCK_IODEVICE_GET_CLASS (self)->read_data (self, data, 0);

  taken = text_mode_line_end (self, data, taken);
  data[taken] = '\0';
  return (gint64) taken;
}

/**
 * qsock_iodevice_read_line_bytes: (rename-to qsock_iodevice_read_line)
 * @self: a #QSockIODevice
 * @max_size: 0 for no limit; otherwise at most @max_size - 1 bytes are read
 *
 * Reads a line, through its '\n' if one is buffered, as Qt's
 * `QIODevice::readLine(qint64)`. A partial line is returned as it is; check
 * qsock_iodevice_can_read_line() first.
 *
 * Returns: (transfer full): the line, empty if nothing was read
 *
 * Since: 1.0
 */
GBytes *
qsock_iodevice_read_line_bytes (QSockIODevice *self,
                                gint64         max_size)
{
  gsize len;
  char *data;
  gsize taken;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), NULL);

  if (max_size < 0)
    {
      qsock_iodevice_warn (self, "readLine", "Called with maxSize < 0");
      return empty_bytes ();
    }
  if (max_size == 1)
    {
      qsock_iodevice_warn (self, "readLine", "Called with maxSize < 2");
      return empty_bytes ();
    }
  if (!check_readable (self, "readLine"))
    return empty_bytes ();

  len = next_line_length (self, max_size == 0 ? G_MAXSIZE : (gsize) max_size - 1);
  if (len == 0)
    {
      char dummy;
      finish_read (self, &dummy, 0, 0);
      return empty_bytes ();
    }

  data = g_malloc (len);
  taken = take_buffered (self, data, len);
  finish_read (self, data, (gint64) taken, (gint64) taken);
  return g_bytes_new_take (data, text_mode_line_end (self, data, taken));
}

/**
 * qsock_iodevice_can_read_line:
 * @self: a #QSockIODevice
 *
 * Whether a complete line ('\n'-terminated) is buffered, as Qt's
 * `QIODevice::canReadLine()`. Repeated calls never rescan bytes already
 * searched.
 *
 * Returns: %TRUE if qsock_iodevice_read_line() would return a whole line
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_can_read_line (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  return QSOCK_IODEVICE_GET_CLASS (self)->can_read_line (self);
}

/**
 * qsock_iodevice_peek: (skip)
 * @self: a #QSockIODevice
 * @data: (out caller-allocates) (array length=max_size) (element-type guint8):
 *   where to copy the bytes
 * @max_size: at most this many bytes
 *
 * Copies at most @max_size buffered bytes without consuming them, as Qt's
 * `QIODevice::peek(char *, qint64)`.
 *
 * Returns: the number of bytes copied, or -1 on misuse
 *
 * Since: 1.0
 */
gint64
qsock_iodevice_peek (QSockIODevice *self,
                     char          *data,
                     gint64         max_size)
{
  QSockIODevicePrivate *priv;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), -1);

  if (!check_max_size (self, "peek", max_size) || !check_readable (self, "peek"))
    return -1;

  priv = PRIV (self);
  if (!(priv->open_mode & QSOCK_OPEN_MODE_TEXT))
    return (gint64) qsock_buffer_peek (priv->read_buffer, priv->transaction_pos, data, (gsize) max_size);

  /* Text mode: what read() would give, so without the '\r's. */
  {
    gsize offset = priv->transaction_pos;
    gsize kept = 0;

    while (kept < (gsize) max_size)
      {
        gsize n = qsock_buffer_peek (priv->read_buffer, offset, data + kept, (gsize) max_size - kept);

        if (n == 0)
          break;
        offset += n;
        kept += strip_carriage_returns (data + kept, n);
      }
    return (gint64) kept;
  }
}

/**
 * qsock_iodevice_peek_bytes: (rename-to qsock_iodevice_peek)
 * @self: a #QSockIODevice
 * @max_size: at most this many bytes
 *
 * Returns at most @max_size buffered bytes without consuming them, as Qt's
 * `QIODevice::peek(qint64)`.
 *
 * Returns: (transfer full): the bytes, empty if none
 *
 * Since: 1.0
 */
GBytes *
qsock_iodevice_peek_bytes (QSockIODevice *self,
                           gint64         max_size)
{
  gint64 len;
  char *data;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), NULL);

  if (!check_max_size (self, "peek", max_size) || !check_readable (self, "peek"))
    return empty_bytes ();

  len = MIN (max_size, qsock_iodevice_bytes_available (self));
  if (len <= 0)
    return empty_bytes ();

  data = g_malloc (len);
  len = qsock_iodevice_peek (self, data, len);
  return g_bytes_new_take (data, len);
}

/**
 * qsock_iodevice_skip:
 * @self: a #QSockIODevice
 * @max_size: at most this many bytes
 *
 * Discards at most @max_size buffered bytes, as Qt's `QIODevice::skip()`.
 *
 * Returns: the number of bytes skipped; 0 if nothing is buffered but more
 *   may come, -1 at the end of the stream or on misuse
 *
 * Since: 1.0
 */
gint64
qsock_iodevice_skip (QSockIODevice *self,
                     gint64         max_size)
{
  QSockIODevicePrivate *priv;
  gsize skipped;
  char dummy;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), -1);

  if (!check_max_size (self, "skip", max_size) || !check_readable (self, "skip"))
    return -1;
  if (max_size == 0)
    return 0;

  priv = PRIV (self);
  if (priv->transaction_started)
    {
      skipped = MIN ((gsize) max_size, qsock_buffer_get_size (priv->read_buffer) - priv->transaction_pos);
      priv->transaction_pos += skipped;
    }
  else
    skipped = qsock_buffer_skip (priv->read_buffer, (gsize) max_size);

  if (skipped == 0)
    return QSOCK_IODEVICE_GET_CLASS (self)->read_data (self, &dummy, 1) < 0 ? -1 : 0;

  if (qsock_buffer_is_empty (priv->read_buffer))
    QSOCK_IODEVICE_GET_CLASS (self)->read_data (self, &dummy, 0);

  return (gint64) skipped;
}

/**
 * qsock_iodevice_get_char:
 * @self: a #QSockIODevice
 * @c: (out) (optional) (type guint8): where to store the byte
 *
 * Reads one byte, as Qt's `QIODevice::getChar()`.
 *
 * Returns: %TRUE if a byte was read
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_get_char (QSockIODevice *self,
                         char          *c)
{
  char byte;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  if (qsock_iodevice_read (self, &byte, 1) != 1)
    return FALSE;
  if (c != NULL)
    *c = byte;
  return TRUE;
}

/**
 * qsock_iodevice_put_char:
 * @self: a #QSockIODevice
 * @c: (type guint8): the byte to write
 *
 * Writes one byte, as Qt's `QIODevice::putChar()`.
 *
 * Returns: %TRUE if the byte was accepted
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_put_char (QSockIODevice *self,
                         char           c)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  return qsock_iodevice_write (self, &c, 1) == 1;
}

/**
 * qsock_iodevice_unget_char:
 * @self: a #QSockIODevice
 * @c: (type guint8): the byte to push back
 *
 * Pushes @c back to the front of the read buffer, so that the next read
 * returns it first, as Qt's `QIODevice::ungetChar()`. Not allowed during a
 * transaction.
 *
 * Since: 1.0
 */
void
qsock_iodevice_unget_char (QSockIODevice *self,
                           char           c)
{
  QSockIODevicePrivate *priv;

  g_return_if_fail (QSOCK_IS_IODEVICE (self));

  if (!check_readable (self, "read"))
    return;

  priv = PRIV (self);
  if (priv->transaction_started)
    {
      qsock_iodevice_warn (self, "ungetChar", "Called while transaction is in progress");
      return;
    }

  qsock_buffer_prepend_byte (priv->read_buffer, c);
}

/**
 * qsock_iodevice_at_end:
 * @self: a #QSockIODevice
 *
 * Whether there is nothing to read now, as Qt's `QIODevice::atEnd()`: the
 * device is closed, or nothing is buffered. A connected socket with an
 * empty buffer is at its end until more data arrives.
 *
 * Returns: %TRUE if nothing can be read now
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_at_end (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), TRUE);

  return QSOCK_IODEVICE_GET_CLASS (self)->at_end (self);
}

/**
 * qsock_iodevice_bytes_available:
 * @self: a #QSockIODevice
 *
 * How many bytes can be read now, as Qt's `QIODevice::bytesAvailable()`.
 *
 * Returns: the number of buffered bytes
 *
 * Since: 1.0
 */
gint64
qsock_iodevice_bytes_available (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), 0);

  return QSOCK_IODEVICE_GET_CLASS (self)->bytes_available (self);
}

/**
 * qsock_iodevice_bytes_to_write:
 * @self: a #QSockIODevice
 *
 * How many written bytes wait in the write buffer, as Qt's
 * `QIODevice::bytesToWrite()` (the kernel's buffer is not counted).
 *
 * Returns: the number of queued bytes
 *
 * Since: 1.0
 */
gint64
qsock_iodevice_bytes_to_write (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), 0);

  return QSOCK_IODEVICE_GET_CLASS (self)->bytes_to_write (self);
}

/**
 * qsock_iodevice_write:
 * @self: a #QSockIODevice
 * @data: (array length=size) (element-type guint8): the bytes to write
 * @size: how many bytes
 *
 * Writes @size bytes, as Qt's `QIODevice::write(const char *, qint64)`. A
 * TCP socket queues them and returns at once; they leave from the main
 * loop (see #QSockIODevice::bytes-written) or in a `wait_for_*` call.
 *
 * Returns: the number of bytes accepted, or -1 on error (see
 *   qsock_iodevice_get_error_string())
 *
 * Since: 1.0
 */
gint64
qsock_iodevice_write (QSockIODevice *self,
                      const char    *data,
                      gint64         size)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), -1);
  g_return_val_if_fail (data != NULL || size == 0, -1);

  if (!check_writable (self, "write"))
    return -1;
  if (size < 0)
    {
      qsock_iodevice_warn (self, "write", "Called with maxSize < 0");
      return -1;
    }

  return QSOCK_IODEVICE_GET_CLASS (self)->write_data (self, data, size);
}

/**
 * qsock_iodevice_write_bytes:
 * @self: a #QSockIODevice
 * @bytes: the bytes to write
 *
 * Writes the contents of @bytes, as qsock_iodevice_write().
 *
 * Returns: the number of bytes accepted, or -1 on error
 *
 * Since: 1.0
 */
gint64
qsock_iodevice_write_bytes (QSockIODevice *self,
                            GBytes        *bytes)
{
  gsize size;
  const char *data;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), -1);
  g_return_val_if_fail (bytes != NULL, -1);

  data = g_bytes_get_data (bytes, &size);
  return qsock_iodevice_write (self, data, (gint64) size);
}

/**
 * qsock_iodevice_wait_for_ready_read:
 * @self: a #QSockIODevice
 * @msecs: how long to wait in milliseconds; -1 waits forever (Qt's default
 *   is 30000)
 *
 * Blocks until new data is buffered and #QSockIODevice::ready-read has
 * been emitted, as Qt's `waitForReadyRead()`. Needs no main loop: it waits
 * on the socket itself and emits the signals from inside the call.
 *
 * Returns: %TRUE if new data arrived; %FALSE on timeout (error
 *   %QSOCK_SOCKET_ERROR_SOCKET_TIMEOUT) or if the connection closed
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_wait_for_ready_read (QSockIODevice *self,
                                    int            msecs)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  return QSOCK_IODEVICE_GET_CLASS (self)->wait_for_ready_read (self, msecs);
}

/**
 * qsock_iodevice_wait_for_bytes_written:
 * @self: a #QSockIODevice
 * @msecs: how long to wait in milliseconds; -1 waits forever
 *
 * Blocks until queued data has been written and
 * #QSockIODevice::bytes-written emitted, as Qt's `waitForBytesWritten()`.
 * Returns %FALSE at once if nothing is queued.
 *
 * Returns: %TRUE if data was written
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_wait_for_bytes_written (QSockIODevice *self,
                                       int            msecs)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  return QSOCK_IODEVICE_GET_CLASS (self)->wait_for_bytes_written (self, msecs);
}

/**
 * qsock_iodevice_get_error_string:
 * @self: a #QSockIODevice
 *
 * The translated text of the last error, as Qt's `errorString()`; "Unknown
 * error" when none was set.
 *
 * Returns: (transfer none): the error text
 *
 * Since: 1.0
 */
const char *
qsock_iodevice_get_error_string (QSockIODevice *self)
{
  QSockIODevicePrivate *priv;

  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), NULL);

  priv = PRIV (self);
  return priv->error_string != NULL ? priv->error_string : qsock_message (QSOCK_MSG_UNKNOWN);
}

/**
 * qsock_iodevice_start_transaction:
 * @self: a #QSockIODevice
 *
 * Starts a read transaction, as Qt's `startTransaction()`: reads from now
 * on are recorded, and qsock_iodevice_rollback_transaction() makes them
 * readable again. Use it to read a message that may not have fully arrived.
 * Transactions do not nest.
 *
 * Since: 1.0
 */
void
qsock_iodevice_start_transaction (QSockIODevice *self)
{
  QSockIODevicePrivate *priv;

  g_return_if_fail (QSOCK_IS_IODEVICE (self));

  priv = PRIV (self);
  if (priv->transaction_started)
    {
      qsock_iodevice_warn (self, "startTransaction", "Called while transaction already in progress");
      return;
    }
  priv->transaction_started = TRUE;
  priv->transaction_pos = 0;
}

/**
 * qsock_iodevice_commit_transaction:
 * @self: a #QSockIODevice
 *
 * Ends the transaction, consuming what was read in it.
 *
 * Since: 1.0
 */
void
qsock_iodevice_commit_transaction (QSockIODevice *self)
{
  QSockIODevicePrivate *priv;

  g_return_if_fail (QSOCK_IS_IODEVICE (self));

  priv = PRIV (self);
  if (!priv->transaction_started)
    {
      qsock_iodevice_warn (self, "commitTransaction", "Called while no transaction in progress");
      return;
    }
  priv->transaction_started = FALSE;
  qsock_buffer_skip (priv->read_buffer, priv->transaction_pos);
  priv->transaction_pos = 0;
  if (qsock_buffer_is_empty (priv->read_buffer))
    {
      char dummy;
      QSOCK_IODEVICE_GET_CLASS (self)->read_data (self, &dummy, 0);
    }
}

/**
 * qsock_iodevice_rollback_transaction:
 * @self: a #QSockIODevice
 *
 * Ends the transaction, making everything read in it readable again.
 *
 * Since: 1.0
 */
void
qsock_iodevice_rollback_transaction (QSockIODevice *self)
{
  QSockIODevicePrivate *priv;

  g_return_if_fail (QSOCK_IS_IODEVICE (self));

  priv = PRIV (self);
  if (!priv->transaction_started)
    {
      qsock_iodevice_warn (self, "rollbackTransaction", "Called while no transaction in progress");
      return;
    }
  priv->transaction_started = FALSE;
  priv->transaction_pos = 0;
}

/**
 * qsock_iodevice_is_transaction_started:
 * @self: a #QSockIODevice
 *
 * Whether a read transaction is in progress.
 *
 * Returns: %TRUE during a transaction
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_is_transaction_started (QSockIODevice *self)
{
  g_return_val_if_fail (QSOCK_IS_IODEVICE (self), FALSE);

  return PRIV (self)->transaction_started;
}

/* Asynchronous reading and flushing, for scripts and GIO-style code */

/* notify::open-mode: about-to-close comes while the device is still open;
 * the mode changes after it. */
static const char * const read_signals[] = { "ready-read", "read-channel-finished", "about-to-close", "notify::open-mode", NULL };
static const char * const write_signals[] = { "bytes-written", "read-channel-finished", "about-to-close", "notify::open-mode", NULL };

/* Data cannot come any more: the connection ended or the device closed. */
static gboolean
input_ended (QSockIODevice *self)
{
  return PRIV (self)->read_channel_done || PRIV (self)->open_mode == QSOCK_OPEN_MODE_NOT_OPEN;
}

/* Whether a socket class's "state" (QSockSocketState or
 * QSockLocalSocketState: UNCONNECTED is 0 in both) says it is unconnected. */
static gboolean
device_unconnected (gpointer self)
{
  int state = 1;

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (self), "state") != NULL)
    g_object_get (self, "state", &state, NULL);
  return state == 0;
}

/* The read-buffer-size of a socket class that has one, else 0. */
static gint64
read_buffer_limit (gpointer self)
{
  gint64 limit = 0;

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (self), "read-buffer-size") != NULL)
    g_object_get (self, "read-buffer-size", &limit, NULL);
  return limit;
}

static gboolean
read_line_step (gpointer self,
                GTask   *task)
{
  gint64 max_size = *(gint64 *) g_task_get_task_data (task);
  gint64 available = qsock_iodevice_bytes_available (self);

  if (qsock_iodevice_can_read_line (self) || (max_size > 0 && available >= max_size - 1) ||
      (input_ended (self) && qsock_iodevice_is_readable (self)))
    {
      qsock_async_return_pointer (task, qsock_iodevice_read_line_bytes (self, max_size),
                             (GDestroyNotify) g_bytes_unref);
      return TRUE;
    }
  if (input_ended (self))
    {
      qsock_async_return_new_error (task, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_OPERATION, qsock_iodevice_get_error_string (self));
      return TRUE;
    }
  /* A full read buffer without a newline pauses reading: the line can
   * never come. Fail as read_exactly_async() does for a size above the
   * limit, rather than wait for good. */
  {
    gint64 limit = read_buffer_limit (self);

    if (limit > 0 && available >= limit)
      {
        qsock_async_return_new_error (task, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_OPERATION,
                                      qsock_message (QSOCK_MSG_UNSUPPORTED));
        return TRUE;
      }
  }
  return FALSE;
}

/**
 * qsock_iodevice_read_line_async:
 * @self: a #QSockIODevice
 * @max_size: 0 for no limit; otherwise at most @max_size - 1 bytes
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when a line is ready
 * @user_data: (closure): data for @callback
 *
 * Waits until a whole line can be read (or @max_size - 1 bytes), without
 * blocking, then reads it as qsock_iodevice_read_line_bytes(). When the
 * connection ends first, the rest of the data is the result (empty at the
 * end of the stream). Cancelling consumes nothing. One read at a time: a
 * second call while one is pending fails with %G_IO_ERROR_PENDING. A
 * @max_size of 1 or below 0 fails with %G_IO_ERROR_INVALID_ARGUMENT. When
 * the read buffer is full at its limit without a newline, the line can
 * never come: that fails with %QSOCK_SOCKET_ERROR_OPERATION.
 *
 * Since: 1.0
 */
void
qsock_iodevice_read_line_async (QSockIODevice       *self,
                                gint64               max_size,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (QSOCK_IS_IODEVICE (self));

  /* A script's bad number is its data, not a programming error: report it
   * through the callback, as GIO does, rather than never calling back. */
  if (max_size != 0 && max_size < 2)
    {
      g_task_report_new_error (self, callback, user_data, qsock_iodevice_read_line_async,
                               G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s",
                               qsock_message (QSOCK_MSG_INVALID_SIZE));
      return;
    }

  qsock_async_start (self, "qsock_iodevice_read_async", cancellable, callback, user_data,
                     qsock_iodevice_read_line_async, g_memdup2 (&max_size, sizeof max_size), g_free,
                     NULL, read_line_step, NULL, read_signals);
}

/**
 * qsock_iodevice_read_line_finish:
 * @self: a #QSockIODevice
 * @result: the result
 * @error: return location for a #GError
 *
 * Finishes qsock_iodevice_read_line_async().
 *
 * Returns: (transfer full): the line, empty at the end of the stream; %NULL
 *   with @error set on failure
 *
 * Since: 1.0
 */
GBytes *
qsock_iodevice_read_line_finish (QSockIODevice *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == qsock_iodevice_read_line_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
read_exactly_step (gpointer self,
                   GTask   *task)
{
  gint64 size = *(gint64 *) g_task_get_task_data (task);

  if (qsock_iodevice_bytes_available (self) >= size)
    {
      qsock_async_return_pointer (task, qsock_iodevice_read_bytes (self, size), (GDestroyNotify) g_bytes_unref);
      return TRUE;
    }
  if (input_ended (self))
    {
      qsock_async_return_new_error (task, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED, qsock_message (QSOCK_MSG_REMOTE_CLOSED));
      return TRUE;
    }
  return FALSE;
}

/**
 * qsock_iodevice_read_exactly_async:
 * @self: a #QSockIODevice
 * @size: how many bytes to read
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when @size bytes are there
 * @user_data: (closure): data for @callback
 *
 * Waits until @size bytes can be read, then reads them. If the connection
 * ends first it fails with %QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED and
 * consumes nothing; so does cancelling. A read buffer limit smaller than
 * @size can never be met: that fails at once with
 * %QSOCK_SOCKET_ERROR_OPERATION; a negative @size with
 * %G_IO_ERROR_INVALID_ARGUMENT.
 *
 * Since: 1.0
 */
void
qsock_iodevice_read_exactly_async (QSockIODevice       *self,
                                   gint64               size,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  gint64 limit;

  g_return_if_fail (QSOCK_IS_IODEVICE (self));

  if (size < 0)
    {
      g_task_report_new_error (self, callback, user_data, qsock_iodevice_read_exactly_async,
                               G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s",
                               qsock_message (QSOCK_MSG_INVALID_SIZE));
      return;
    }

  limit = read_buffer_limit (self);
  if (limit > 0 && size > limit)
    {
      g_task_report_new_error (self, callback, user_data, qsock_iodevice_read_exactly_async,
                               QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_OPERATION, "%s",
                               qsock_message (QSOCK_MSG_UNSUPPORTED));
      return;
    }

  qsock_async_start (self, "qsock_iodevice_read_async", cancellable, callback, user_data,
                     qsock_iodevice_read_exactly_async, g_memdup2 (&size, sizeof size), g_free,
                     NULL, read_exactly_step, NULL, read_signals);
}

/**
 * qsock_iodevice_read_exactly_finish:
 * @self: a #QSockIODevice
 * @result: the result
 * @error: return location for a #GError
 *
 * Finishes qsock_iodevice_read_exactly_async().
 *
 * Returns: (transfer full): exactly the bytes asked for, or %NULL with
 *   @error set
 *
 * Since: 1.0
 */
GBytes *
qsock_iodevice_read_exactly_finish (QSockIODevice *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
flush_step (gpointer self,
            GTask   *task)
{
  if (qsock_iodevice_bytes_to_write (self) == 0)
    {
      qsock_async_return_boolean (task, TRUE);
      return TRUE;
    }
  /* Closed, or the connection ended (by the peer, or a reset) with bytes
   * still queued: they will never leave. */
  if ((input_ended (self) && !qsock_iodevice_is_open (self)) || device_unconnected (self))
    {
      qsock_async_return_new_error (task, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_OPERATION, qsock_iodevice_get_error_string (self));
      return TRUE;
    }
  return FALSE;
}

/**
 * qsock_iodevice_flush_async:
 * @self: a #QSockIODevice
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when everything queued was written
 * @user_data: (closure): data for @callback
 *
 * Waits until every queued byte has been written to the system (the
 * asynchronous form of looping on qsock_iodevice_wait_for_bytes_written()).
 * Cancelling leaves the queue as it is.
 *
 * Since: 1.0
 */
void
qsock_iodevice_flush_async (QSockIODevice       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (QSOCK_IS_IODEVICE (self));

  qsock_async_start (self, "qsock_iodevice_flush_async", cancellable, callback, user_data,
                     qsock_iodevice_flush_async, NULL, NULL, NULL, flush_step, NULL, write_signals);
}

/**
 * qsock_iodevice_flush_finish:
 * @self: a #QSockIODevice
 * @result: the result
 * @error: return location for a #GError
 *
 * Finishes qsock_iodevice_flush_async().
 *
 * Returns: %TRUE when all was written; %FALSE with @error set if the
 *   device closed with data still queued
 *
 * Since: 1.0
 */
gboolean
qsock_iodevice_flush_finish (QSockIODevice *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
