/* qsock-watch-private.h: socket readiness, behind one small interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every class asks for readiness through these four calls and nothing
 * else, so the dispatch behind them (today one GSource per descriptor,
 * later one epoll-backed source per GMainContext) can change without
 * touching the classes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _QSockWatch QSockWatch;

/* Called from the watch's main context with the conditions that are ready
 * (G_IO_IN, G_IO_OUT, and G_IO_HUP/G_IO_ERR, which arrive unasked). The
 * callback may free the watch. */
typedef void (*QSockWatchFunc) (gpointer user_data, GIOCondition ready);

QSockWatch *qsock_watch_new          (GMainContext  *context,
                                      int            fd,
                                      const char    *name,
                                      QSockWatchFunc func,
                                      gpointer       user_data);
void        qsock_watch_set_interest (QSockWatch    *watch,
                                      GIOCondition   interest);
/* Asks for one G_IO_OUT callback from the main loop soon, without waiting
 * for poll to report writability: queued writes leave at the end of the
 * current dispatch pass (or the next iteration) instead of costing a
 * poll round trip. Writability proper is still watched with G_IO_OUT
 * interest once the kernel's buffer is full. */
void        qsock_watch_want_flush   (QSockWatch    *watch);
void        qsock_watch_free         (QSockWatch    *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QSockWatch, qsock_watch_free)

/* Blocks on @fd alone (no main loop) until one of @interest is ready or
 * @timeout_us passes (-1: forever). Returns the ready conditions, 0 on
 * timeout. EINTR is retried with the time left. */
GIOCondition qsock_fd_wait (int fd, GIOCondition interest, gint64 timeout_us);

G_END_DECLS
