/* qsock-watch.c: socket readiness for every class, two ways
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GLib's main loop polls every descriptor it watches on every iteration, so
 * one GSource per socket makes each wakeup cost O(sockets). On Linux the
 * default is instead ONE GSource per GMainContext owning an epoll set: only
 * the epoll descriptor is in the context's poll, sockets are registered in
 * the set with level-triggered interest that follows need (writable only
 * while data is queued, readable paused while the read buffer is full), and
 * the ready ones are dispatched in one pass of at most EPOLL_BATCH, so one
 * busy socket cannot starve the others (epoll hands out ready descriptors
 * round robin). Changing interest is an epoll_ctl(), which does not wake the
 * context the way g_source_modify_unix_fd() does.
 *
 * The portable backend, one GSource per descriptor, stays for other
 * systems and for programs that ask for it with QSOCK_DISPATCH=gsource.
 * Blocking waits never use either: they poll() the socket itself.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#define HAVE_EPOLL 1
#endif

#include "qsock-watch-private.h"

#define EPOLL_BATCH 64

typedef struct _EpollSource EpollSource;

typedef struct
{
  GSource        source;
  gpointer       tag;
  QSockWatch    *watch;
} FdSource;

struct _QSockWatch
{
  QSockWatchFunc func;
  gpointer       user_data;
  int            fd;
  GIOCondition   interest;
  /* One of the two backends */
  FdSource      *fd_source;
  EpollSource   *epoll;
  gboolean       registered;   /* in the epoll set */
  gboolean       dead;         /* freed while its source was dispatching */
  gboolean       flush_wanted; /* qsock_watch_want_flush() pending */
  GList          flush_link;   /* in *flush_queue, no allocation */
  GQueue        *flush_queue;  /* EpollSource.flushes, or a pass being run */
};

/* The portable backend: one GSource per descriptor */

static void fd_source_set_interest (QSockWatch *watch, GIOCondition interest);

static gboolean
fd_source_dispatch (GSource     *source,
                    GSourceFunc  callback,
                    gpointer     user_data)
{
  FdSource *fs = (FdSource *) source;
  QSockWatch *watch = fs->watch;
  GIOCondition ready = fs->tag != NULL ? g_source_query_unix_fd (source, fs->tag) : 0;

  /* Here a wanted flush is simply G_IO_OUT interest, for one report. */
  if (watch->flush_wanted && (ready & G_IO_OUT))
    {
      watch->flush_wanted = FALSE;
      fd_source_set_interest (watch, watch->interest);
    }
  if (ready != 0)
    watch->func (watch->user_data, ready);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs fd_source_funcs = {
  .dispatch = fd_source_dispatch,
};

static FdSource *
fd_source_new (QSockWatch   *watch,
               GMainContext *context,
               const char   *name)
{
  GSource *source = g_source_new (&fd_source_funcs, sizeof (FdSource));

  ((FdSource *) source)->watch = watch;
  g_source_set_name (source, name);
  g_source_set_can_recurse (source, TRUE);
  g_source_attach (source, context);
  return (FdSource *) source;
}

static void
fd_source_set_interest (QSockWatch  *watch,
                        GIOCondition interest)
{
  GSource *source = (GSource *) watch->fd_source;

  if (watch->flush_wanted)
    interest |= G_IO_OUT;

  /* With no interest the descriptor leaves the poll set entirely: poll()
   * reports hang-ups and errors unasked, which would spin the loop while a
   * full read buffer has reading paused. */
  if (interest == 0)
    {
      g_source_remove_unix_fd (source, watch->fd_source->tag);
      watch->fd_source->tag = NULL;
    }
  else if (watch->fd_source->tag == NULL)
    watch->fd_source->tag = g_source_add_unix_fd (source, watch->fd, interest);
  else
    g_source_modify_unix_fd (source, watch->fd_source->tag, interest);
}

#ifdef HAVE_EPOLL

/* The Linux backend: one epoll set per GMainContext */

struct _EpollSource
{
  GSource       source;
  GMainContext *context;
  int           epfd;
  guint         n_watches;
  guint         dispatch_depth;
  GPtrArray    *dead;          /* watches freed during dispatch */
  GQueue        flushes;       /* watches that want a G_IO_OUT callback */
};

G_LOCK_DEFINE_STATIC (epoll_sources);
static GHashTable *epoll_sources;   /* GMainContext → EpollSource */

static void
free_dead_watches (EpollSource *es)
{
  if (es->dispatch_depth > 0 || es->dead == NULL || es->dead->len == 0)
    return;
  g_ptr_array_set_size (es->dead, 0);
}

/* Writes queued during this pass leave now, still from the main loop. A
 * flush asked for while flushing waits for the next pass, so a handler
 * that writes on every bytes-written cannot starve the others: the pass
 * takes the whole queue first. A handler may free any watch of the pass
 * (qsock_watch_free() unlinks it from whichever queue holds it), so the
 * pass runs until its own queue is empty, never by a count taken before. */
static void
run_flushes (EpollSource *es)
{
  GQueue pass = es->flushes;
  GList *link;

  g_queue_init (&es->flushes);
  for (link = pass.head; link != NULL; link = link->next)
    ((QSockWatch *) link->data)->flush_queue = &pass;

  g_source_set_ready_time ((GSource *) es, -1);
  while ((link = g_queue_pop_head_link (&pass)) != NULL)
    {
      QSockWatch *watch = link->data;

      watch->flush_wanted = FALSE;
      watch->flush_queue = NULL;
      if (!watch->dead)
        watch->func (watch->user_data, G_IO_OUT);
    }
  if (es->flushes.length > 0)
    g_source_set_ready_time ((GSource *) es, 0);
}

static gboolean
epoll_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  EpollSource *es = (EpollSource *) source;
  struct epoll_event events[EPOLL_BATCH];
  int n;

  do
    n = epoll_wait (es->epfd, events, EPOLL_BATCH, 0);
  while (n < 0 && errno == EINTR);

  es->dispatch_depth++;
  g_source_ref (source);
  for (int i = 0; i < n; i++)
    {
      QSockWatch *watch = events[i].data.ptr;
      GIOCondition ready = 0;

      /* A handler earlier in this batch may have freed the watch or
       * changed its interest. */
      if (watch->dead || !watch->registered)
        continue;
      if (events[i].events & EPOLLIN)
        ready |= G_IO_IN;
      if (events[i].events & EPOLLOUT)
        ready |= G_IO_OUT;
      if (events[i].events & EPOLLHUP)
        ready |= G_IO_HUP;
      if (events[i].events & EPOLLERR)
        ready |= G_IO_ERR;
      ready &= watch->interest | G_IO_HUP | G_IO_ERR;
      if (ready != 0)
        watch->func (watch->user_data, ready);
    }
  run_flushes (es);
  es->dispatch_depth--;
  free_dead_watches (es);
  g_source_unref (source);

  return G_SOURCE_CONTINUE;
}

static void
epoll_source_finalize (GSource *source)
{
  EpollSource *es = (EpollSource *) source;

  if (es->epfd >= 0)
    close (es->epfd);
  g_clear_pointer (&es->dead, g_ptr_array_unref);
  /* The links belong to the watches. */
  g_queue_init (&es->flushes);
}

static GSourceFuncs epoll_source_funcs = {
  .dispatch = epoll_source_dispatch,
  .finalize = epoll_source_finalize,
};

static EpollSource *
epoll_source_get (GMainContext *context)
{
  EpollSource *es;

  G_LOCK (epoll_sources);
  if (epoll_sources == NULL)
    epoll_sources = g_hash_table_new (NULL, NULL);

  es = g_hash_table_lookup (epoll_sources, context);
  if (es == NULL)
    {
      int epfd = epoll_create1 (EPOLL_CLOEXEC);

      if (epfd >= 0)
        {
          es = (EpollSource *) g_source_new (&epoll_source_funcs, sizeof (EpollSource));
          es->context = context;
          es->epfd = epfd;
          es->dead = g_ptr_array_new_with_free_func (g_free);
          g_queue_init (&es->flushes);
          g_source_set_name ((GSource *) es, "[qsock] epoll dispatch");
          g_source_set_can_recurse ((GSource *) es, TRUE);
          g_source_add_unix_fd ((GSource *) es, epfd, G_IO_IN);
          g_source_attach ((GSource *) es, context);
          g_hash_table_insert (epoll_sources, context, es);
        }
    }
  if (es != NULL)
    es->n_watches++;
  G_UNLOCK (epoll_sources);

  return es;
}

static void
epoll_source_release (EpollSource *es)
{
  gboolean last;

  G_LOCK (epoll_sources);
  last = --es->n_watches == 0;
  if (last)
    g_hash_table_remove (epoll_sources, es->context);
  G_UNLOCK (epoll_sources);

  if (last)
    {
      g_source_destroy ((GSource *) es);
      g_source_unref ((GSource *) es);
    }
}

static FdSource *fd_source_new (QSockWatch *watch, GMainContext *context, const char *name);

static void
fall_back_to_gsource (QSockWatch  *watch,
                      GIOCondition interest)
{
  EpollSource *es = watch->epoll;

  if (watch->registered)
    epoll_ctl (es->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
  watch->registered = FALSE;
  if (watch->flush_wanted)
    {
      /* Kept wanted: the GSource asks for G_IO_OUT instead. */
      g_queue_unlink (watch->flush_queue, &watch->flush_link);
      watch->flush_queue = NULL;
    }
  watch->epoll = NULL;
  watch->fd_source = fd_source_new (watch, es->context, "[qsock] socket (epoll refused)");
  epoll_source_release (es);
  fd_source_set_interest (watch, interest);
}

static void
epoll_set_interest (QSockWatch  *watch,
                    GIOCondition interest)
{
  struct epoll_event ev = { 0 };

  /* With no interest the descriptor leaves the set: epoll, like poll(),
   * reports hang-ups and errors unasked. */
  if (interest == 0)
    {
      if (watch->registered)
        epoll_ctl (watch->epoll->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
      watch->registered = FALSE;
      return;
    }

  ev.data.ptr = watch;
  if (interest & G_IO_IN)
    ev.events |= EPOLLIN;
  if (interest & G_IO_OUT)
    ev.events |= EPOLLOUT;
  if (epoll_ctl (watch->epoll->epfd, watch->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, watch->fd, &ev) != 0)
    {
      /* The kernel refused (ENOMEM; ENOSPC past max_user_watches): this
       * descriptor gets a GSource of its own rather than stall unnoticed. */
      fall_back_to_gsource (watch, interest);
      return;
    }
  watch->registered = TRUE;
}

static gboolean
use_epoll (void)
{
  static gsize decided = 0;
  static gboolean epoll_wanted;

  if (g_once_init_enter (&decided))
    {
      epoll_wanted = g_strcmp0 (g_getenv ("QSOCK_DISPATCH"), "gsource") != 0;
      g_once_init_leave (&decided, 1);
    }
  return epoll_wanted;
}

#endif /* HAVE_EPOLL */

QSockWatch *
qsock_watch_new (GMainContext  *context,
                 int            fd,
                 const char    *name,
                 QSockWatchFunc func,
                 gpointer       user_data)
{
  QSockWatch *watch = g_new0 (QSockWatch, 1);

  watch->func = func;
  watch->user_data = user_data;
  watch->fd = fd;

#ifdef HAVE_EPOLL
  if (use_epoll ())
    {
      watch->epoll = epoll_source_get (context != NULL ? context : g_main_context_default ());
      if (watch->epoll != NULL)
        return watch;
    }
#endif

  watch->fd_source = fd_source_new (watch, context, name);
  return watch;
}

void
qsock_watch_set_interest (QSockWatch  *watch,
                          GIOCondition interest)
{
  if (watch->interest == interest)
    return;

  watch->interest = interest;
#ifdef HAVE_EPOLL
  if (watch->epoll != NULL)
    {
      epoll_set_interest (watch, interest);
      return;
    }
#endif
  fd_source_set_interest (watch, interest);
}

void
qsock_watch_want_flush (QSockWatch *watch)
{
  if (watch->flush_wanted)
    return;
  watch->flush_wanted = TRUE;

#ifdef HAVE_EPOLL
  if (watch->epoll != NULL)
    {
      EpollSource *es = watch->epoll;

      watch->flush_link.data = watch;
      watch->flush_queue = &es->flushes;
      g_queue_push_tail_link (&es->flushes, &watch->flush_link);
      /* Inside a dispatch pass the flush runs at its end; otherwise make
       * the source dispatch on the next iteration. */
      if (es->dispatch_depth == 0 && es->flushes.length == 1)
        g_source_set_ready_time ((GSource *) es, 0);
      return;
    }
#endif
  fd_source_set_interest (watch, watch->interest);
}

void
qsock_watch_free (QSockWatch *watch)
{
  if (watch == NULL)
    return;

#ifdef HAVE_EPOLL
  if (watch->epoll != NULL)
    {
      EpollSource *es = watch->epoll;

      qsock_watch_set_interest (watch, 0);
      if (watch->flush_wanted)
        {
          g_queue_unlink (watch->flush_queue, &watch->flush_link);
          watch->flush_wanted = FALSE;
          watch->flush_queue = NULL;
        }
      if (es->dispatch_depth > 0)
        {
          /* The batch being dispatched may still point at it. */
          watch->dead = TRUE;
          g_ptr_array_add (es->dead, watch);
        }
      else
        g_free (watch);
      epoll_source_release (es);
      return;
    }
#endif

  g_source_destroy ((GSource *) watch->fd_source);
  g_source_unref ((GSource *) watch->fd_source);
  g_free (watch);
}

GIOCondition
qsock_fd_wait (int fd, GIOCondition interest, gint64 timeout_us)
{
  gint64 deadline = timeout_us < 0 ? -1 : g_get_monotonic_time () + timeout_us;

  /* A zero timeout still looks once, as Qt's waits do. */
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = interest, .revents = 0 };
      int timeout_ms = -1;
      int r;

      if (deadline >= 0)
        timeout_ms = (int) MIN ((MAX (deadline - g_get_monotonic_time (), 0) + 999) / 1000, G_MAXINT);

      r = poll (&pfd, 1, timeout_ms);
      if (r > 0)
        return pfd.revents;
      if (r == 0)
        return 0;
      if (errno != EINTR)
        return G_IO_ERR;
    }
}
