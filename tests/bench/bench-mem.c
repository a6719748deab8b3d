/* bench-mem.c: (f) user-space memory per connected pair
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The driver every implementation shares (bench_memory_run(), see bench.h)
 * and the qsock-glib, plain GIO and raw epoll implementations of it. What
 * is measured is the heap in use (glibc's mallinfo2(), all arenas, mmap()ed
 * blocks included) before and after, so it is what the program and its
 * libraries hold in user space for the connections, not kernel socket
 * buffers. Each connected pair is both ends, as a program that talks to
 * itself has them: a client socket and the server's accepted socket, each
 * watched for input the way its API is normally used.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <qsock-glib/qsock.h>

#include "bench.h"

/* The answer a server end sends: a different message from the hello. */
#define REPLY_SEQ(seq) ((seq) ^ 0x40000000u)

void
bench_memory_fail (BenchMemRun *run,
                   GError      *error)
{
  if (run->error == NULL)
    run->error = error;
  else
    g_error_free (error);
}

void
bench_memory_received (BenchMemEnd *end,
                       const void  *data,
                       gsize        n)
{
  BenchMemRun *run = end->run;
  GError *error = NULL;

  if (end->got || end->have + n > sizeof end->msg)
    {
      bench_memory_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                           "too many bytes on the %s end of pair %u",
                                           end->is_server ? "server" : "client", end->seq));
      return;
    }
  memcpy (end->msg + end->have, data, n);
  end->have += n;
  if (end->have < sizeof end->msg)
    return;

  if (!bench_ping_check (end->msg, end->is_server ? end->seq : REPLY_SEQ (end->seq)))
    {
      bench_memory_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "wrong %s on pair %u",
                                           end->is_server ? "hello" : "reply", end->seq));
      return;
    }
  end->got = TRUE;
  run->waiting--;

  if (end->is_server)
    {
      guint8 reply[BENCH_PING_SIZE];

      bench_ping_fill (reply, REPLY_SEQ (end->seq));
      run->waiting++;
      if (!run->ops->send (run, end, reply, &error))
        bench_memory_fail (run, error);
    }
}

/* Pairs [first, last): made, then (with @hello) a hello each way. */
static gboolean
mem_pairs (BenchMemRun *run,
           guint        first,
           guint        last,
           gboolean     hello,
           GError     **error)
{
  for (guint i = first; i < last && !hello; i++)
    {
      BenchMemEnd *client = &run->ends[2 * i], *server = &run->ends[2 * i + 1];

      client->run = server->run = run;
      client->seq = server->seq = i;
      server->is_server = TRUE;
      client->fd = server->fd = -1;
      run->n_ends = 2 * (i + 1);   /* torn down even if half made */
      if (!run->ops->add_pair (run, client, server, error))
        return FALSE;
    }
  run->ops->settle (run);

  if (!hello)
    return run->error == NULL || (g_propagate_error (error, g_steal_pointer (&run->error)), FALSE);

  for (guint i = first; i < last; i++)
    {
      guint8 msg[BENCH_PING_SIZE];

      bench_ping_fill (msg, i);
      run->waiting++;
      if (!run->ops->send (run, &run->ends[2 * i], msg, error))
        return FALSE;
    }
  while (run->waiting > 0 && run->error == NULL)
    run->ops->wait (run);
  run->ops->settle (run);

  if (run->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&run->error));
      return FALSE;
    }
  for (guint i = 2 * first; i < 2 * last; i++)
    if (!run->ends[i].got)
      {
        g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA, "no hello on end %u", i);
        return FALSE;
      }
  return TRUE;
}

gboolean
bench_memory_run (const BenchMemOps *ops,
                  gpointer           data,
                  const BenchParams *p,
                  BenchResult       *res,
                  GError           **error)
{
  guint total = p->pairs + BENCH_MEM_WARM;
  BenchMemRun run = { .ops = ops, .data = data };
  gsize before, idle, hello;
  gboolean ok = FALSE;

  /* The benchmark's own records, before the first note. */
  run.ends = g_new0 (BenchMemEnd, 2 * (gsize) total);
  if (!ops->setup (&run, error))
    {
      g_free (run.ends);
      return FALSE;
    }

  if (!mem_pairs (&run, 0, BENCH_MEM_WARM, FALSE, error) ||
      !mem_pairs (&run, 0, BENCH_MEM_WARM, TRUE, error))
    goto out;

  before = bench_heap_in_use ();
  if (!mem_pairs (&run, BENCH_MEM_WARM, total, FALSE, error))
    goto out;
  idle = bench_heap_in_use ();
  if (!mem_pairs (&run, BENCH_MEM_WARM, total, TRUE, error))
    goto out;
  hello = bench_heap_in_use ();

  res->idle_bytes = ((double) idle - (double) before) / p->pairs;
  res->hello_bytes = ((double) hello - (double) before) / p->pairs;
  ok = TRUE;

out:
  ops->teardown (&run);
  g_clear_error (&run.error);
  g_free (run.ends);
  return ok;
}

/* ---- qsock-glib ---------------------------------------------------------- */

typedef struct
{
  GMainContext   *context;
  QSockTcpServer *server;
  guint16         port;
} QsockMem;

static void
qsock_mem_ready_read (QSockIODevice *device,
                      BenchMemEnd   *end)
{
  char buf[BENCH_PING_SIZE + 1];
  gint64 n;

  while (!end->got && (n = qsock_iodevice_read (device, buf, sizeof buf)) > 0)
    bench_memory_received (end, buf, (gsize) n);
}

static void
qsock_mem_disconnected (QSockAbstract *socket,
                        BenchMemEnd   *end)
{
  bench_memory_fail (end->run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "pair %u closed", end->seq));
}

static gboolean
qsock_mem_setup (BenchMemRun *run,
                 GError     **error)
{
  QsockMem *m = run->data;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  m->context = g_main_context_new ();
  g_main_context_push_thread_default (m->context);
  m->server = qsock_tcp_server_new ();
  /* Qt's default is 30 pending; they are taken one by one here anyway. */
  if (!qsock_tcp_server_listen (m->server, loopback, 0))
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_SOCKET, "listen: %s",
                   qsock_tcp_server_get_error_string (m->server));
      return FALSE;
    }
  m->port = qsock_tcp_server_get_server_port (m->server);
  return TRUE;
}

static void
qsock_mem_watch (BenchMemEnd *end,
                 QSockTcp    *socket)
{
  end->object = socket;
  g_signal_connect (socket, "ready-read", G_CALLBACK (qsock_mem_ready_read), end);
  g_signal_connect (socket, "disconnected", G_CALLBACK (qsock_mem_disconnected), end);
}

static gboolean
qsock_mem_add_pair (BenchMemRun *run,
                    BenchMemEnd *client,
                    BenchMemEnd *server,
                    GError     **error)
{
  QsockMem *m = run->data;
  QSockTcp *socket = qsock_tcp_new ();
  QSockAbstract *abstract = QSOCK_ABSTRACT (socket);
  QSockTcp *accepted = NULL;

  qsock_mem_watch (client, socket);
  qsock_abstract_connect_to_host (abstract, "127.0.0.1", m->port, QSOCK_OPEN_MODE_READ_WRITE,
                                  QSOCK_NETWORK_LAYER_PROTOCOL_IPV4);
  while (accepted == NULL || qsock_abstract_get_state (abstract) != QSOCK_SOCKET_STATE_CONNECTED)
    {
      if (qsock_abstract_get_state (abstract) == QSOCK_SOCKET_STATE_UNCONNECTED)
        {
          g_set_error (error, BENCH_ERROR, BENCH_ERROR_SOCKET, "connect: %s",
                       qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
          if (accepted != NULL)
            qsock_mem_watch (server, accepted);
          return FALSE;
        }
      g_main_context_iteration (m->context, TRUE);
      if (accepted == NULL)
        accepted = qsock_tcp_server_next_pending_connection (m->server);
    }
  qsock_mem_watch (server, accepted);
  return TRUE;
}

static gboolean
qsock_mem_send (BenchMemRun  *run,
                BenchMemEnd  *end,
                const guint8 *msg,
                GError      **error)
{
  QSockIODevice *device = QSOCK_IODEVICE (end->object);

  if (qsock_iodevice_write (device, (const char *) msg, BENCH_PING_SIZE) != BENCH_PING_SIZE)
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_SOCKET, "write: %s", qsock_iodevice_get_error_string (device));
      return FALSE;
    }
  return TRUE;
}

static void
qsock_mem_wait (BenchMemRun *run)
{
  g_main_context_iteration (((QsockMem *) run->data)->context, TRUE);
}

static void
context_settle (GMainContext *context)
{
  while (g_main_context_iteration (context, FALSE))
    ;
}

static void
qsock_mem_settle (BenchMemRun *run)
{
  context_settle (((QsockMem *) run->data)->context);
}

static void
qsock_mem_teardown (BenchMemRun *run)
{
  QsockMem *m = run->data;

  for (guint i = 0; i < run->n_ends; i++)
    {
      QSockTcp *socket = run->ends[i].object;

      if (socket == NULL)
        continue;
      g_signal_handlers_disconnect_by_data (socket, &run->ends[i]);
      bench_set_linger_zero (qsock_abstract_get_socket_descriptor (QSOCK_ABSTRACT (socket)));
      qsock_abstract_abort (QSOCK_ABSTRACT (socket));
      g_object_unref (socket);
    }
  g_clear_object (&m->server);
  if (m->context != NULL)
    {
      context_settle (m->context);
      g_main_context_pop_thread_default (m->context);
      g_main_context_unref (m->context);
    }
}

static const BenchMemOps qsock_mem_ops = {
  qsock_mem_setup, qsock_mem_add_pair, qsock_mem_send, qsock_mem_wait, qsock_mem_settle, qsock_mem_teardown,
};

gboolean
bench_qsock_memory (const BenchParams *p,
                    BenchResult       *res,
                    GError           **error)
{
  QsockMem m = { 0 };

  return bench_memory_run (&qsock_mem_ops, &m, p, res, error);
}

/* ---- plain GIO ----------------------------------------------------------- */

typedef struct
{
  GMainContext *context;
  int           listener;
  guint16       port;
} GioMem;

static gboolean
gio_mem_ready (GSocket      *socket,
               GIOCondition  condition,
               gpointer      data)
{
  BenchMemEnd *end = data;
  char buf[BENCH_PING_SIZE + 1];
  GError *local = NULL;
  gssize r = g_socket_receive (socket, buf, sizeof buf, NULL, &local);

  if (r < 0 && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    g_error_free (local);
  else if (r < 0)
    bench_memory_fail (end->run, local);
  else if (r == 0)
    bench_memory_fail (end->run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "pair %u closed", end->seq));
  else
    bench_memory_received (end, buf, (gsize) r);
  return G_SOURCE_CONTINUE;
}

static gboolean
gio_mem_setup (BenchMemRun *run,
               GError     **error)
{
  GioMem *m = run->data;

  m->context = g_main_context_new ();
  g_main_context_push_thread_default (m->context);
  m->listener = bench_listen (&m->port, error);
  return m->listener >= 0;
}

static gboolean
gio_mem_watch (GioMem      *m,
               BenchMemEnd *end,
               int          fd,
               GError     **error)
{
  GSocket *socket = g_socket_new_from_fd (fd, error);
  GSource *source;

  if (socket == NULL)
    {
      close (fd);
      return FALSE;
    }
  g_socket_set_blocking (socket, FALSE);
  source = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (source, (GSourceFunc) (GCallback) gio_mem_ready, end, NULL);
  g_source_attach (source, m->context);
  end->object = socket;
  end->source = source;
  return TRUE;
}

static gboolean
gio_mem_add_pair (BenchMemRun *run,
                  BenchMemEnd *client,
                  BenchMemEnd *server,
                  GError     **error)
{
  GioMem *m = run->data;
  int c = bench_connect (m->port, error);
  int s;

  if (c < 0)
    return FALSE;
  s = accept4 (m->listener, NULL, NULL, SOCK_CLOEXEC);
  if (s < 0)
    {
      close (c);
      return bench_set_errno_error (error, errno, "accept");
    }
  if (!gio_mem_watch (m, client, c, error))
    {
      close (s);
      return FALSE;
    }
  return gio_mem_watch (m, server, s, error);
}

static gboolean
gio_mem_send (BenchMemRun  *run,
              BenchMemEnd  *end,
              const guint8 *msg,
              GError      **error)
{
  gssize r = g_socket_send (end->object, (const char *) msg, BENCH_PING_SIZE, NULL, error);

  if (r >= 0 && r != BENCH_PING_SIZE)
    g_set_error (error, BENCH_ERROR, BENCH_ERROR_SOCKET, "short send");
  return r == BENCH_PING_SIZE;
}

static void
gio_mem_wait (BenchMemRun *run)
{
  g_main_context_iteration (((GioMem *) run->data)->context, TRUE);
}

static void
gio_mem_settle (BenchMemRun *run)
{
  context_settle (((GioMem *) run->data)->context);
}

static void
gio_mem_teardown (BenchMemRun *run)
{
  GioMem *m = run->data;

  for (guint i = 0; i < run->n_ends; i++)
    {
      BenchMemEnd *end = &run->ends[i];

      if (end->source != NULL)
        {
          g_source_destroy (end->source);
          g_source_unref (end->source);
        }
      if (end->object != NULL)
        {
          bench_set_linger_zero (g_socket_get_fd (end->object));
          g_socket_close (end->object, NULL);
          g_object_unref (end->object);
        }
    }
  if (m->listener >= 0)
    close (m->listener);
  if (m->context != NULL)
    {
      g_main_context_pop_thread_default (m->context);
      g_main_context_unref (m->context);
    }
}

static const BenchMemOps gio_mem_ops = {
  gio_mem_setup, gio_mem_add_pair, gio_mem_send, gio_mem_wait, gio_mem_settle, gio_mem_teardown,
};

gboolean
bench_gio_memory (const BenchParams *p,
                  BenchResult       *res,
                  GError           **error)
{
  GioMem m = { .listener = -1 };

  return bench_memory_run (&gio_mem_ops, &m, p, res, error);
}

/* ---- raw epoll ----------------------------------------------------------- */

/* The descriptor and the per-end record (BenchMemEnd, allocated before the
 * first note) are all an epoll program needs: its per-pair heap is ~0, the
 * floor the others are measured against. */
typedef struct
{
  int     ep;
  int     listener;
  guint16 port;
} EpollMem;

static gboolean
epoll_mem_setup (BenchMemRun *run,
                 GError     **error)
{
  EpollMem *m = run->data;

  m->ep = epoll_create1 (EPOLL_CLOEXEC);
  if (m->ep < 0)
    return bench_set_errno_error (error, errno, "epoll_create1");
  m->listener = bench_listen (&m->port, error);
  return m->listener >= 0;
}

static gboolean
epoll_mem_watch (EpollMem    *m,
                 BenchMemEnd *end,
                 int          fd,
                 GError     **error)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = end };

  end->fd = fd;
  bench_set_nonblocking (fd);
  if (epoll_ctl (m->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
    return bench_set_errno_error (error, errno, "epoll_ctl");
  return TRUE;
}

static gboolean
epoll_mem_add_pair (BenchMemRun *run,
                    BenchMemEnd *client,
                    BenchMemEnd *server,
                    GError     **error)
{
  EpollMem *m = run->data;
  int c = bench_connect (m->port, error);
  int s;

  if (c < 0)
    return FALSE;
  s = accept4 (m->listener, NULL, NULL, SOCK_CLOEXEC);
  if (s < 0)
    {
      close (c);
      return bench_set_errno_error (error, errno, "accept");
    }
  if (!epoll_mem_watch (m, client, c, error))
    {
      close (s);
      return FALSE;
    }
  return epoll_mem_watch (m, server, s, error);
}

static gboolean
epoll_mem_send (BenchMemRun  *run,
                BenchMemEnd  *end,
                const guint8 *msg,
                GError      **error)
{
  return bench_send_all (end->fd, msg, BENCH_PING_SIZE, error);
}

static void
epoll_mem_wait (BenchMemRun *run)
{
  EpollMem *m = run->data;
  struct epoll_event events[64];
  int n = epoll_wait (m->ep, events, G_N_ELEMENTS (events), -1);

  for (int i = 0; i < n; i++)
    {
      BenchMemEnd *end = events[i].data.ptr;
      char buf[BENCH_PING_SIZE + 1];
      gssize r = recv (end->fd, buf, sizeof buf, 0);

      if (r > 0)
        bench_memory_received (end, buf, (gsize) r);
      else if (r == 0)
        bench_memory_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "pair %u closed", end->seq));
      else if (errno != EAGAIN && errno != EINTR)
        bench_memory_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_SOCKET, "recv: %s", g_strerror (errno)));
    }
}

static void
epoll_mem_settle (BenchMemRun *run)
{
}

static void
epoll_mem_teardown (BenchMemRun *run)
{
  EpollMem *m = run->data;

  for (guint i = 0; i < run->n_ends; i++)
    if (run->ends[i].fd >= 0)
      {
        bench_set_linger_zero (run->ends[i].fd);
        close (run->ends[i].fd);
      }
  if (m->listener >= 0)
    close (m->listener);
  if (m->ep >= 0)
    close (m->ep);
}

static const BenchMemOps epoll_mem_ops = {
  epoll_mem_setup, epoll_mem_add_pair, epoll_mem_send, epoll_mem_wait, epoll_mem_settle, epoll_mem_teardown,
};

gboolean
bench_epoll_memory (const BenchParams *p,
                    BenchResult       *res,
                    GError           **error)
{
  EpollMem m = { .ep = -1, .listener = -1 };

  return bench_memory_run (&epoll_mem_ops, &m, p, res, error);
}
