/* qsock-iodevice-private.h: what subclasses of QSockIODevice use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "qsock-iodevice.h"
#include "qsock-buffer-private.h"

G_BEGIN_DECLS

QSockBuffer *qsock_iodevice_get_read_buffer   (QSockIODevice *self);
QSockBuffer *qsock_iodevice_get_write_buffer  (QSockIODevice *self);

/* Makes @self read into and write from @owner's buffers: a device that
 * wraps an inner socket (QSockLocal) shares one buffer with it instead of
 * copying between two. @owner must call this again with %NULL before it
 * goes; while @self dispatches, qsock_iodevice_hold() keeps @owner too. */
void         qsock_iodevice_share_buffers     (QSockIODevice *self,
                                               QSockIODevice *owner);

/* The reference every entry point and dispatch takes on the object it works
 * on, so that a handler may drop the caller's last one: holds @device and,
 * while it shares an owner's buffers, the owner as well (whose handlers the
 * inner device's emissions reach). Returns @device. */
QSockIODevice *qsock_iodevice_hold            (gpointer       device);
void           qsock_iodevice_release         (gpointer       device);

/* g_autoptr(QSockHold) keep = qsock_iodevice_hold (self); */
typedef QSockIODevice QSockHold;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QSockHold, qsock_iodevice_release)

/* QIODevice::open() itself: sets the mode, clears the error string, both
 * buffers and any transaction. */
void         qsock_iodevice_open_device       (QSockIODevice *self,
                                               QSockOpenMode  mode);
void         qsock_iodevice_set_error_string  (QSockIODevice *self,
                                               const char    *message);

/* Emitters with Qt's recursion guards: ready-read and bytes-written are
 * never emitted from inside their own handlers. Return whether emitted. */
gboolean     qsock_iodevice_emit_ready_read   (QSockIODevice *self);
gboolean     qsock_iodevice_emit_bytes_written (QSockIODevice *self,
                                                gint64         bytes);
void         qsock_iodevice_emit_read_channel_finished (QSockIODevice *self);

/* Prints Qt's misuse warning, "QIODevice::read (QSockTcp): device not open". */
void         qsock_iodevice_warn              (QSockIODevice *self,
                                               const char    *function,
                                               const char    *what);

G_END_DECLS
