/* qsock-async.c: the one mechanism behind every _async/_finish pair
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Qt-style objects already say everything through signals (ready-read,
 * bytes-written, state-changed, new-connection, …); an asynchronous call is
 * a GTask that re-checks the object's state on the signals it cares about
 * until it can return. No threads, no extra I/O: GTask delivers the
 * callback in the caller's thread-default main context.
 */
#include "config.h"

#include "qsock-async-private.h"
#include "qsock-error.h"

typedef struct
{
  GObject        *object;    /* not owned: the task's source object */
  GQuark          kind;
  QSockAsyncStep  step;
  void          (*on_cancel) (gpointer self);
  GArray         *handlers;  /* gulong */
  gulong          cancel_id;
  gboolean        finished;
} Operation;

#define OPERATION_KEY "qsock-async-operation"

static void
operation_finish (Operation *op)
{
  GTask *task;

  if (op->finished)
    return;
  op->finished = TRUE;

  for (guint i = 0; i < op->handlers->len; i++)
    g_signal_handler_disconnect (op->object, g_array_index (op->handlers, gulong, i));
  g_array_set_size (op->handlers, 0);

  /* Steals the object's reference to the task. */
  task = g_object_steal_qdata (op->object, op->kind);
  if (op->cancel_id != 0)
    g_cancellable_disconnect (g_task_get_cancellable (task), op->cancel_id);
  op->cancel_id = 0;
  g_object_unref (task);
}

static void
operation_run (Operation *op)
{
  GTask *task = g_object_get_qdata (op->object, op->kind);

  if (op->finished || task == NULL)
    return;
  g_object_ref (task);
  if (op->step (op->object, task))
    operation_finish (op);
  g_object_unref (task);
}

static void
on_signal_marshal (GClosure     *closure,
                   GValue       *return_value,
                   guint         n_param_values,
                   const GValue *param_values,
                   gpointer      invocation_hint,
                   gpointer      marshal_data)
{
  operation_run (closure->data);
}

static gboolean
on_cancelled_idle (gpointer data)
{
  GTask *task = data;
  Operation *op = g_object_get_data (G_OBJECT (task), OPERATION_KEY);
  GObject *object = g_task_get_source_object (task);

  /* Completed meanwhile: the result stands. */
  if (op->finished)
    return G_SOURCE_REMOVE;

  g_object_ref (object);
  g_task_return_error_if_cancelled (task);
  operation_finish (op);
  if (op->on_cancel != NULL)
    op->on_cancel (object);
  g_object_unref (object);
  return G_SOURCE_REMOVE;
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      data)
{
  Operation *op = data;
  GTask *task = g_object_get_qdata (op->object, op->kind);
  GSource *source;

  if (task == NULL)
    return;
  /* "cancelled" may come from any thread: finish in the task's context.
   * The idle holds the task (and with it the operation). */
  source = g_idle_source_new ();
  g_source_set_name (source, "[qsock] async cancel");
  g_source_set_callback (source, on_cancelled_idle, g_object_ref (task), g_object_unref);
  g_source_attach (source, g_task_get_context (task));
  g_source_unref (source);
}

static void
operation_free (gpointer data)
{
  Operation *op = data;

  g_array_unref (op->handlers);
  g_free (op);
}

void
qsock_async_start (gpointer             self,
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
                   const char * const  *signals)
{
  GQuark quark = g_quark_from_string (kind);
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Operation *op;

  g_task_set_source_tag (task, source_tag);
  g_task_set_name (task, kind);
  /* The result says what happened: an operation that completed before the
   * cancellation was seen in its context succeeded, and the object shows it. */
  g_task_set_check_cancellable (task, FALSE);
  if (task_data != NULL)
    g_task_set_task_data (task, task_data, task_data_free);

  if (g_object_get_qdata (self, quark) != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "%s is already in progress", kind);
      g_object_unref (task);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  op = g_new0 (Operation, 1);
  op->object = self;
  op->kind = quark;
  op->step = step;
  op->on_cancel = on_cancel;
  op->handlers = g_array_new (FALSE, FALSE, sizeof (gulong));
  g_object_set_data_full (G_OBJECT (task), OPERATION_KEY, op, operation_free);

  /* The object holds the pending task; the task holds the object. */
  g_object_set_qdata (self, quark, task);

  for (guint i = 0; signals[i] != NULL; i++)
    {
      GClosure *closure = g_closure_new_simple (sizeof (GClosure), op);
      gulong id;

      g_closure_set_marshal (closure, on_signal_marshal);
      id = g_signal_connect_closure (self, signals[i], closure, TRUE);
      g_array_append_val (op->handlers, id);
    }
  if (cancellable != NULL)
    op->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), op, NULL);

  if (begin != NULL)
    {
      g_object_ref (task);
      begin (self, task);
      g_object_unref (task);
    }
  operation_run (op);
}

GError *
qsock_async_error_new (int         code,
                       const char *message)
{
  return g_error_new_literal (QSOCK_SOCKET_ERROR, code, message);
}
