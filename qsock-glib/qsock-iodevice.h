/* qsock-iodevice.h: Qt's QIODevice, as sockets use it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(QSOCK_INSIDE) && !defined(QSOCK_COMPILATION)
#error "Only <qsock-glib/qsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include "qsock-version.h"
#include "qsock-types.h"

G_BEGIN_DECLS

#define QSOCK_TYPE_IODEVICE (qsock_iodevice_get_type ())

QSOCK_AVAILABLE_IN_1_0
G_DECLARE_DERIVABLE_TYPE (QSockIODevice, qsock_iodevice, QSOCK, IODEVICE, GObject)

/**
 * QSockIODeviceClass:
 * @parent_class: the parent class
 * @open: opens the device in a mode; returns whether it is open
 * @close: closes the device; chain up to emit #QSockIODevice::about-to-close
 *   and reset the open mode
 * @read_data: called when the caller asks for more than is buffered, or when
 *   the buffer has just been emptied (@max_size 0): return bytes read into
 *   @data, 0 for "nothing now", -1 for end of stream or error
 * @write_data: queue or send @size bytes; return the count accepted or -1
 * @bytes_available: bytes ready for reading
 * @bytes_to_write: bytes queued and not yet written
 * @can_read_line: whether a whole line can be read
 * @at_end: whether there is nothing more to read now
 * @is_sequential: whether the device is sequential (sockets are)
 * @wait_for_ready_read: blocks until new data can be read
 * @wait_for_bytes_written: blocks until a chunk of queued data was written
 * @ready_read: class handler of #QSockIODevice::ready-read
 * @bytes_written: class handler of #QSockIODevice::bytes-written
 * @about_to_close: class handler of #QSockIODevice::about-to-close
 * @read_channel_finished: class handler of #QSockIODevice::read-channel-finished
 *
 * The virtual functions of #QSockIODevice, after Qt's QIODevice.
 *
 * Since: 1.0
 */
struct _QSockIODeviceClass
{
  GObjectClass parent_class;

  gboolean (*open)                   (QSockIODevice *self,
                                      QSockOpenMode  mode);
  void     (*close)                  (QSockIODevice *self);
  gint64   (*read_data)              (QSockIODevice *self,
                                      char          *data,
                                      gint64         max_size);
  gint64   (*write_data)             (QSockIODevice *self,
                                      const char    *data,
                                      gint64         size);
  gint64   (*bytes_available)        (QSockIODevice *self);
  gint64   (*bytes_to_write)         (QSockIODevice *self);
  gboolean (*can_read_line)          (QSockIODevice *self);
  gboolean (*at_end)                 (QSockIODevice *self);
  gboolean (*is_sequential)          (QSockIODevice *self);
  gboolean (*wait_for_ready_read)    (QSockIODevice *self,
                                      int            msecs);
  gboolean (*wait_for_bytes_written) (QSockIODevice *self,
                                      int            msecs);

  /* signals */
  void (*ready_read)            (QSockIODevice *self);
  void (*bytes_written)         (QSockIODevice *self,
                                 gint64         bytes);
  void (*about_to_close)        (QSockIODevice *self);
  void (*read_channel_finished) (QSockIODevice *self);

  /*< private >*/
  gpointer padding[8];
};

/**
 * QSockIODeviceClass::read_data:
 * @self: the device
 * @data: (out caller-allocates) (array length=max_size) (element-type guint8):
 *   where to store bytes
 * @max_size: the room in @data; 0 to only let the device know its buffer
 *   was emptied
 *
 * Supplies more bytes than were buffered, or says none will come.
 *
 * Returns: the bytes stored, 0 for none now, -1 at the end of the stream
 *
 * Since: 1.0
 */

/**
 * QSockIODeviceClass::write_data:
 * @self: the device
 * @data: (array length=size) (element-type guint8): the bytes
 * @size: their number
 *
 * Queues or sends bytes.
 *
 * Returns: the bytes accepted, or -1
 *
 * Since: 1.0
 */

QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_open                   (QSockIODevice *self,
                                                     QSockOpenMode  mode);
QSOCK_AVAILABLE_IN_1_0
void          qsock_iodevice_close                  (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
QSockOpenMode qsock_iodevice_get_open_mode          (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_is_open                (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_is_readable            (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_is_writable            (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_is_sequential          (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_is_text_mode_enabled   (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
void          qsock_iodevice_set_text_mode_enabled  (QSockIODevice *self,
                                                     gboolean       enabled);

QSOCK_AVAILABLE_IN_1_0
gint64        qsock_iodevice_read                   (QSockIODevice *self,
                                                     char          *data,
                                                     gint64         max_size);
QSOCK_AVAILABLE_IN_1_0
GBytes       *qsock_iodevice_read_bytes             (QSockIODevice *self,
                                                     gint64         max_size);
QSOCK_AVAILABLE_IN_1_0
GBytes       *qsock_iodevice_read_all               (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
gint64        qsock_iodevice_read_line              (QSockIODevice *self,
                                                     char          *data,
                                                     gint64         max_size);
QSOCK_AVAILABLE_IN_1_0
GBytes       *qsock_iodevice_read_line_bytes        (QSockIODevice *self,
                                                     gint64         max_size);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_can_read_line          (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
gint64        qsock_iodevice_peek                   (QSockIODevice *self,
                                                     char          *data,
                                                     gint64         max_size);
QSOCK_AVAILABLE_IN_1_0
GBytes       *qsock_iodevice_peek_bytes             (QSockIODevice *self,
                                                     gint64         max_size);
QSOCK_AVAILABLE_IN_1_0
gint64        qsock_iodevice_skip                   (QSockIODevice *self,
                                                     gint64         max_size);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_get_char               (QSockIODevice *self,
                                                     char          *c);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_put_char               (QSockIODevice *self,
                                                     char           c);
QSOCK_AVAILABLE_IN_1_0
void          qsock_iodevice_unget_char             (QSockIODevice *self,
                                                     char           c);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_at_end                 (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
gint64        qsock_iodevice_bytes_available        (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
gint64        qsock_iodevice_bytes_to_write         (QSockIODevice *self);

QSOCK_AVAILABLE_IN_1_0
gint64        qsock_iodevice_write                  (QSockIODevice *self,
                                                     const char    *data,
                                                     gint64         size);
QSOCK_AVAILABLE_IN_1_0
gint64        qsock_iodevice_write_bytes            (QSockIODevice *self,
                                                     GBytes        *bytes);

QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_wait_for_ready_read    (QSockIODevice *self,
                                                     int            msecs);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_wait_for_bytes_written (QSockIODevice *self,
                                                     int            msecs);

QSOCK_AVAILABLE_IN_1_0
const char   *qsock_iodevice_get_error_string       (QSockIODevice *self);

QSOCK_AVAILABLE_IN_1_0
void          qsock_iodevice_start_transaction      (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
void          qsock_iodevice_commit_transaction     (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
void          qsock_iodevice_rollback_transaction   (QSockIODevice *self);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_is_transaction_started (QSockIODevice *self);

QSOCK_AVAILABLE_IN_1_0
void          qsock_iodevice_read_line_async        (QSockIODevice       *self,
                                                     gint64               max_size,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
QSOCK_AVAILABLE_IN_1_0
GBytes       *qsock_iodevice_read_line_finish       (QSockIODevice       *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);
QSOCK_AVAILABLE_IN_1_0
void          qsock_iodevice_read_exactly_async     (QSockIODevice       *self,
                                                     gint64               size,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
QSOCK_AVAILABLE_IN_1_0
GBytes       *qsock_iodevice_read_exactly_finish    (QSockIODevice       *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);
QSOCK_AVAILABLE_IN_1_0
void          qsock_iodevice_flush_async            (QSockIODevice       *self,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
QSOCK_AVAILABLE_IN_1_0
gboolean      qsock_iodevice_flush_finish           (QSockIODevice       *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

G_END_DECLS
