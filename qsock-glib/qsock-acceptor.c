/* qsock-acceptor.c: the accept loop both servers share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Accepts until the kernel has nothing more or the owner wants no more
 * (its pending queue is full, or it paused), handing each descriptor to
 * the owner. A failure pauses accepting; running out of descriptors or
 * memory resumes after a short back-off, so a full backlog can neither
 * spin the main loop nor stop the server for good.
 */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qsock-acceptor-private.h"

#define ACCEPT_RETRY_MS 100

static void
stop_retry_timer (QSockAcceptor *acceptor)
{
  if (acceptor->retry_timer == NULL)
    return;
  g_source_destroy (acceptor->retry_timer);
  g_clear_pointer (&acceptor->retry_timer, g_source_unref);
}

static gboolean
accepting (QSockAcceptor *acceptor)
{
  return acceptor->fd >= 0 && !acceptor->error_paused && acceptor->wants (acceptor->owner);
}

void
qsock_acceptor_update (QSockAcceptor *acceptor)
{
  if (acceptor->watch != NULL)
    qsock_watch_set_interest (acceptor->watch, accepting (acceptor) ? G_IO_IN : 0);
}

static gboolean
on_retry (gpointer data)
{
  QSockAcceptor *acceptor = data;

  g_clear_pointer (&acceptor->retry_timer, g_source_unref);
  acceptor->error_paused = FALSE;
  qsock_acceptor_update (acceptor);
  return G_SOURCE_REMOVE;
}

static void
accept_failed (QSockAcceptor *acceptor,
               int            errsv)
{
  acceptor->error_paused = TRUE;
  qsock_acceptor_update (acceptor);

  if (errsv == EMFILE || errsv == ENFILE || errsv == ENOBUFS || errsv == ENOMEM)
    {
      stop_retry_timer (acceptor);
      acceptor->retry_timer = g_timeout_source_new (ACCEPT_RETRY_MS);
      g_source_set_name (acceptor->retry_timer, "[qsock] accept retry");
      g_source_set_callback (acceptor->retry_timer, on_retry, acceptor, NULL);
      g_source_attach (acceptor->retry_timer, acceptor->context);
    }

  acceptor->failed (acceptor->owner, errsv);
}

static void
accept_pending (QSockAcceptor *acceptor)
{
  while (accepting (acceptor))
    {
      int fd = accept4 (acceptor->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
          if (errno != EAGAIN)
            accept_failed (acceptor, errno);
          break;
        }
      acceptor->accepted (acceptor->owner, fd);
    }

  qsock_acceptor_update (acceptor);
}

static void
on_ready (gpointer     data,
          GIOCondition ready)
{
  QSockAcceptor *acceptor = data;
  GObject *owner = g_object_ref (acceptor->owner);

  accept_pending (acceptor);
  g_object_unref (owner);
}

void
qsock_acceptor_init (QSockAcceptor         *acceptor,
                     GMainContext          *context,
                     gpointer               owner,
                     QSockAcceptorWants     wants,
                     QSockAcceptorAccepted  accepted,
                     QSockAcceptorFailed    failed)
{
  acceptor->context = context;
  acceptor->fd = -1;
  acceptor->watch = NULL;
  acceptor->retry_timer = NULL;
  acceptor->error_paused = FALSE;
  acceptor->owner = owner;
  acceptor->wants = wants;
  acceptor->accepted = accepted;
  acceptor->failed = failed;
}

void
qsock_acceptor_start (QSockAcceptor *acceptor,
                      int            fd,
                      const char    *name)
{
  acceptor->fd = fd;
  acceptor->watch = qsock_watch_new (acceptor->context, fd, name, on_ready, acceptor);
  qsock_acceptor_update (acceptor);
}

void
qsock_acceptor_stop (QSockAcceptor *acceptor)
{
  stop_retry_timer (acceptor);
  g_clear_pointer (&acceptor->watch, qsock_watch_free);
  if (acceptor->fd >= 0)
    close (acceptor->fd);
  acceptor->fd = -1;
  acceptor->error_paused = FALSE;
}

void
qsock_acceptor_resume (QSockAcceptor *acceptor)
{
  stop_retry_timer (acceptor);
  acceptor->error_paused = FALSE;
  qsock_acceptor_update (acceptor);
}

gboolean
qsock_acceptor_wait (QSockAcceptor *acceptor,
                     int            msecs)
{
  if (qsock_fd_wait (acceptor->fd, G_IO_IN, msecs < 0 ? -1 : (gint64) msecs * 1000) == 0)
    return FALSE;
  accept_pending (acceptor);
  return TRUE;
}
