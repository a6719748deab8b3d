/* qsock-watch.c: readiness through one GSource per descriptor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The portable backend of QSockWatch: a GSource with the descriptor added
 * by g_source_add_unix_fd(). Changing interest is g_source_modify_unix_fd(),
 * so following need (writable only while data is queued, readable paused
 * while the read buffer is full) costs no source churn.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>

#include "qsock-watch-private.h"

typedef struct
{
  GSource        source;
  gpointer       tag;
  QSockWatchFunc func;
  gpointer       user_data;
} QSockWatchSource;

struct _QSockWatch
{
  QSockWatchSource *source;
  int               fd;
  GIOCondition      interest;
};

static gboolean
watch_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  QSockWatchSource *ws = (QSockWatchSource *) source;
  GIOCondition ready = ws->tag != NULL ? g_source_query_unix_fd (source, ws->tag) : 0;

  if (ready != 0)
    ws->func (ws->user_data, ready);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs watch_source_funcs = {
  .dispatch = watch_source_dispatch,
};

QSockWatch *
qsock_watch_new (GMainContext  *context,
                 int            fd,
                 const char    *name,
                 QSockWatchFunc func,
                 gpointer       user_data)
{
  QSockWatch *watch = g_new0 (QSockWatch, 1);
  GSource *source = g_source_new (&watch_source_funcs, sizeof (QSockWatchSource));

  watch->source = (QSockWatchSource *) source;
  watch->source->func = func;
  watch->source->user_data = user_data;
  watch->fd = fd;
  g_source_set_name (source, name);
  g_source_set_can_recurse (source, TRUE);
  g_source_attach (source, context);

  return watch;
}

void
qsock_watch_set_interest (QSockWatch  *watch,
                          GIOCondition interest)
{
  if (watch->interest == interest)
    return;

  watch->interest = interest;

  /* With no interest the descriptor leaves the poll set entirely: poll()
   * reports hang-ups and errors unasked, which would spin the loop while a
   * full read buffer has reading paused. */
  if (interest == 0)
    {
      g_source_remove_unix_fd ((GSource *) watch->source, watch->source->tag);
      watch->source->tag = NULL;
    }
  else if (watch->source->tag == NULL)
    watch->source->tag = g_source_add_unix_fd ((GSource *) watch->source, watch->fd, interest);
  else
    g_source_modify_unix_fd ((GSource *) watch->source, watch->source->tag, interest);
}

GIOCondition
qsock_watch_get_interest (QSockWatch *watch)
{
  return watch->interest;
}

void
qsock_watch_free (QSockWatch *watch)
{
  if (watch == NULL)
    return;

  g_source_destroy ((GSource *) watch->source);
  g_source_unref ((GSource *) watch->source);
  g_free (watch);
}

GIOCondition
qsock_fd_wait (int fd, GIOCondition interest, gint64 timeout_us)
{
  gint64 deadline = timeout_us < 0 ? -1 : g_get_monotonic_time () + timeout_us;

  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = interest, .revents = 0 };
      int timeout_ms = -1;
      int r;

      if (deadline >= 0)
        {
          gint64 left = deadline - g_get_monotonic_time ();
          if (left <= 0)
            return 0;
          timeout_ms = (int) MIN ((left + 999) / 1000, G_MAXINT);
        }

      r = poll (&pfd, 1, timeout_ms);
      if (r > 0)
        return pfd.revents;
      if (r == 0 && deadline >= 0 && g_get_monotonic_time () >= deadline)
        return 0;
      if (r < 0 && errno != EINTR)
        return G_IO_ERR;
    }
}
