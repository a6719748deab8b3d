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

typedef enum {
  RESULT_NONE,
  RESULT_POINTER,
  RESULT_BOOLEAN,
  RESULT_ERROR,
} ResultKind;

typedef struct
{
  GObject        *object;    /* not owned: the task's source object */
  GTask          *task;      /* not owned: the task owns the operation */
  GQuark          kind;
  QSockAsyncStep  step;
  void          (*on_cancel) (gpointer self);
  GArray         *handlers;  /* gulong */
  gulong          cancel_id;
  gboolean        finished;
  /* The result, held until the operation has let go of the object */
  ResultKind      result_kind;
  gpointer        result;
  GDestroyNotify  result_destroy;
  gboolean        result_boolean;
  GError         *result_error;
} Operation;

#define OPERATION_KEY "qsock-async-operation"

static Operation *
operation_of (GTask *task)
{
  return g_object_get_data (G_OBJECT (task), OPERATION_KEY);
}

/* Lets go of the object: no more signals, no pending marker (unless a new
 * operation of the same kind has taken it already). */
static void
operation_finish (Operation *op)
{
  if (op->finished)
    return;
  op->finished = TRUE;

  for (guint i = 0; i < op->handlers->len; i++)
    g_signal_handler_disconnect (op->object, g_array_index (op->handlers, gulong, i));
  g_array_set_size (op->handlers, 0);

  if (op->cancel_id != 0)
    g_cancellable_disconnect (g_task_get_cancellable (op->task), op->cancel_id);
  op->cancel_id = 0;

  /* The object's reference to the task goes with the marker. */
  if (g_object_get_qdata (op->object, op->kind) == op->task)
    g_object_set_qdata (op->object, op->kind, NULL), g_object_unref (op->task);
}

static void
operation_deliver (Operation *op)
{
  switch (op->result_kind)
    {
    case RESULT_POINTER:
      g_task_return_pointer (op->task, g_steal_pointer (&op->result), op->result_destroy);
      break;
    case RESULT_BOOLEAN:
      g_task_return_boolean (op->task, op->result_boolean);
      break;
    case RESULT_ERROR:
      g_task_return_error (op->task, g_steal_pointer (&op->result_error));
      break;
    case RESULT_NONE:
    default:
      g_assert_not_reached ();
    }
}

static void operation_cancel (Operation *op);

static void
operation_run (Operation *op)
{
  GTask *task = op->task;

  if (op->finished)
    return;
  g_object_ref (task);
  /* GIO's rule: an operation cancelled before it completes reports
   * G_IO_ERROR_CANCELLED, even when what it waited for is there now (a
   * connect that finished, a line that arrived); the bytes stay in the
   * buffer for the next read. Cancelled after its result was taken, the
   * result stands. */
  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      operation_cancel (op);
      g_object_unref (task);
      return;
    }
  if (op->step (op->object, task))
    {
      operation_finish (op);
      operation_deliver (op);
    }
  g_object_unref (task);
}

void
qsock_async_return_pointer (GTask          *task,
                            gpointer        result,
                            GDestroyNotify  result_destroy)
{
  Operation *op = operation_of (task);

  op->result_kind = RESULT_POINTER;
  op->result = result;
  op->result_destroy = result_destroy;
}

void
qsock_async_return_boolean (GTask    *task,
                            gboolean  result)
{
  Operation *op = operation_of (task);

  op->result_kind = RESULT_BOOLEAN;
  op->result_boolean = result;
}

void
qsock_async_return_error (GTask  *task,
                          GError *error)
{
  Operation *op = operation_of (task);

  op->result_kind = RESULT_ERROR;
  op->result_error = error;
}

void
qsock_async_return_new_error (GTask      *task,
                              GQuark      domain,
                              int         code,
                              const char *message)
{
  qsock_async_return_error (task, g_error_new_literal (domain, code, message));
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

/* Ends @op as cancelled, in the task's context: G_IO_ERROR_CANCELLED, and
 * the object's on_cancel (a connect gives up); nothing is consumed. */
static void
operation_cancel (Operation *op)
{
  GObject *object = op->object;

  g_object_ref (object);
  operation_finish (op);
  g_task_return_error_if_cancelled (op->task);
  if (op->on_cancel != NULL)
    op->on_cancel (object);
  g_object_unref (object);
}

static gboolean
on_cancelled_idle (gpointer data)
{
  GTask *task = data;
  Operation *op = operation_of (task);

  /* Completed meanwhile: the result stands. */
  if (!op->finished)
    operation_cancel (op);
  return G_SOURCE_REMOVE;
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      data)
{
  Operation *op = data;
  GTask *task = op->task;
  GSource *source;

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
  if (op->result != NULL && op->result_destroy != NULL)
    op->result_destroy (op->result);
  g_clear_error (&op->result_error);
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
  /* Cancellation is checked in the object's context before each step (see
   * operation_run()); a result taken before it stands. */
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
  op->task = task;
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

  /* begin() emits (a connect's state-changed); a handler may run a nested
   * main loop in which the operation completes and the object lets go of
   * the task: hold it until the first step is done. */
  g_object_ref (task);
  if (begin != NULL)
    begin (self, task);
  operation_run (op);
  g_object_unref (task);
}

GError *
qsock_async_error_new (int         code,
                       const char *message)
{
  return g_error_new_literal (QSOCK_SOCKET_ERROR, code, message);
}
