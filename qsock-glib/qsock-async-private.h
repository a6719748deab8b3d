/* qsock-async-private.h: the one mechanism behind every _async/_finish pair
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Tries to finish @task from the object's current state. Returns TRUE once
 * it has set the result with one of the qsock_async_return_*() calls below
 * (never g_task_return_*() directly: the result is delivered only after
 * the operation has let go of the object, so a callback can start the
 * next operation of the same kind). */
typedef gboolean (*QSockAsyncStep) (gpointer self,
                                    GTask   *task);

/* Starts an operation of @kind on @self: @begin (may be NULL) starts the
 * work once the call is known not to collide with a pending one, then @step runs now (from the next
 * main-loop iteration for the callback, as GTask guarantees) and again on
 * each of @signals until it returns TRUE. A second operation of the same
 * kind while one is pending fails with G_IO_ERROR_PENDING. Cancelling
 * returns G_IO_ERROR_CANCELLED and then calls @on_cancel (may be NULL) to
 * leave the object in a defined state. @task_data (owned) is set on the
 * task for @step. */
void qsock_async_start (gpointer             self,
                        const char          *kind,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data,
                        gpointer             source_tag,
                        gpointer             task_data,
                        GDestroyNotify       task_data_free,
                        void               (*begin) (gpointer self,
                                                     GTask   *task),
                        QSockAsyncStep       step,
                        void               (*on_cancel) (gpointer self),
                        const char * const  *signals);

void qsock_async_return_pointer   (GTask          *task,
                                   gpointer        result,
                                   GDestroyNotify  result_destroy);
void qsock_async_return_boolean   (GTask          *task,
                                   gboolean        result);
void qsock_async_return_error     (GTask          *task,
                                   GError         *error);
void qsock_async_return_new_error (GTask          *task,
                                   GQuark          domain,
                                   int             code,
                                   const char     *message);

/* Returns the error that ends an operation because the object failed: the
 * socket's error code and text in the QSOCK_SOCKET_ERROR domain. */
GError *qsock_async_error_new (int         code,
                               const char *message);

G_END_DECLS
