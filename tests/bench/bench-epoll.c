/* bench-epoll.c: the workloads on raw epoll, the practical limit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Level-triggered epoll on non-blocking descriptors, reading and writing
 * straight between the kernel and the caller's memory: no event-loop
 * library, no buffering layer. Reads loop until a short read, so one
 * wake-up drains the socket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

static int
epoll_with (int       fd,
            guint32   events,
            GError  **error)
{
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = events, .data.fd = fd };

  if (ep < 0 || epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev) != 0)
    {
      bench_set_errno_error (error, errno, "epoll");
      if (ep >= 0)
        close (ep);
      return -1;
    }
  return ep;
}

static int
wait_one (int                 ep,
          struct epoll_event *ev)
{
  int n;

  do
    n = epoll_wait (ep, ev, 1, -1);
  while (n < 0 && errno == EINTR);
  return n;
}

/* ---- (a) bulk ------------------------------------------------------------ */

typedef struct
{
  int        fd;
  guint64    total;
  BenchGate *gate;
  gint64     end_us;
  GError    *error;
} BulkSide;

static gpointer
bulk_sender (gpointer data)
{
  BulkSide *side = data;
  struct epoll_event ev;
  guint64 sent = 0;
  int ep = epoll_with (side->fd, EPOLLOUT, &side->error);

  bench_gate_arrive (side->gate);

  while (ep >= 0 && sent < side->total)
    {
      gssize r = send (side->fd, bench_pattern_at (sent), MIN (BENCH_CHUNK, side->total - sent), MSG_NOSIGNAL);

      if (r > 0)
        sent += (guint64) r;
      else if (r < 0 && errno == EAGAIN)
        wait_one (ep, &ev);
      else if (r < 0 && errno != EINTR)
        {
          bench_set_errno_error (&side->error, errno, "send");
          break;
        }
    }

  if (ep >= 0)
    close (ep);
  close (side->fd);
  return NULL;
}

static gpointer
bulk_receiver (gpointer data)
{
  BulkSide *side = data;
  g_autofree guint8 *buf = g_malloc (BENCH_RECV_SIZE);
  struct epoll_event ev;
  guint64 received = 0;
  gboolean eof = FALSE;
  int ep = epoll_with (side->fd, EPOLLIN, &side->error);

  bench_gate_arrive (side->gate);

  while (ep >= 0 && !eof && side->error == NULL && wait_one (ep, &ev) > 0)
    {
      for (;;)
        {
          gssize r = recv (side->fd, buf, BENCH_RECV_SIZE, 0);

          if (r == 0)
            eof = TRUE;
          else if (r < 0 && errno == EINTR)
            continue;
          else if (r < 0 && errno != EAGAIN)
            bench_set_errno_error (&side->error, errno, "recv");
          else if (r > 0)
            {
              if (received + (guint64) r > side->total || !bench_pattern_check (received, buf, (gsize) r))
                {
                  g_set_error (&side->error, BENCH_ERROR, BENCH_ERROR_DATA,
                               "wrong data at stream offset %" G_GUINT64_FORMAT, received);
                  break;
                }
              received += (guint64) r;
              if (received == side->total)
                side->end_us = g_get_monotonic_time ();
              if ((gsize) r == BENCH_RECV_SIZE)
                continue;
            }
          break;
        }
    }

  if (side->error == NULL && received != side->total)
    g_set_error (&side->error, BENCH_ERROR, BENCH_ERROR_DATA,
                 "received %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes", received, side->total);
  if (ep >= 0)
    close (ep);
  close (side->fd);
  return NULL;
}

gboolean
bench_epoll_bulk (const BenchParams *p,
                  BenchResult       *res,
                  GError           **error)
{
  BenchGate gate;
  BulkSide sender = { 0 }, receiver = { 0 };
  GThread *threads[2];

  if (!bench_socket_pair (&sender.fd, &receiver.fd, error))
    return FALSE;
  bench_set_nonblocking (sender.fd);
  bench_set_nonblocking (receiver.fd);

  bench_gate_init (&gate);
  sender.total = receiver.total = p->bulk_bytes;
  sender.gate = receiver.gate = &gate;
  threads[0] = g_thread_new ("epoll-bulk-recv", bulk_receiver, &receiver);
  threads[1] = g_thread_new ("epoll-bulk-send", bulk_sender, &sender);
  bench_gate_open (&gate, 2);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
  res->elapsed_us = receiver.end_us - gate.start_us;
  bench_gate_clear (&gate);

  return bench_bulk_result (sender.error, receiver.error, error);
}

/* ---- (b, c) ping-pong, optionally beside idle pairs ---------------------- */

enum { TAG_CLIENT, TAG_SERVER, TAG_IDLE, TAG_LISTENER };

static gboolean
add_fd (int      ep,
        int      fd,
        guint32  events,
        guint32  tag,
        GError **error)
{
  struct epoll_event ev = { .events = events, .data.u64 = ((guint64) tag << 32) | (guint32) fd };

  if (epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev) != 0)
    return bench_set_errno_error (error, errno, "epoll_ctl");
  return TRUE;
}

#define EV_TAG(ev) ((guint32) ((ev)->data.u64 >> 32))
#define EV_FD(ev)  ((int) (guint32) (ev)->data.u64)

/* The echo end: sends back whatever arrives. */
static gboolean
pingpong_echo (int      fd,
               GError **error)
{
  char buf[4096];
  gssize r = recv (fd, buf, sizeof buf, 0);

  if (r > 0)
    return bench_send_all (fd, buf, (gsize) r, error);
  if (r == 0)
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA, "the echo end saw end of stream");
      return FALSE;
    }
  if (errno == EAGAIN || errno == EINTR)
    return TRUE;
  return bench_set_errno_error (error, errno, "recv");
}

gboolean
bench_epoll_pingpong (const BenchParams *p,
                      BenchResult       *res,
                      GError           **error)
{
  g_autoptr(GArray) idle = g_array_new (FALSE, FALSE, sizeof (int));
  guint8 msg[BENCH_PING_SIZE];
  gsize have = 0;
  guint done = 0;
  guint round_trips = p->round_trips;
  gint64 start, deadline;
  int client = -1, server = -1, ep = -1;
  gboolean ok = FALSE;

  if (!bench_socket_pair (&client, &server, error))
    return FALSE;
  ep = epoll_create1 (EPOLL_CLOEXEC);
  bench_set_nonblocking (client);
  bench_set_nonblocking (server);
  if (!add_fd (ep, client, EPOLLIN, TAG_CLIENT, error) || !add_fd (ep, server, EPOLLIN, TAG_SERVER, error))
    goto out;

  for (guint i = 0; i < p->idle; i++)
    {
      int pair[2];

      if (!bench_socket_pair (&pair[0], &pair[1], error))
        goto out;
      g_array_append_vals (idle, pair, 2);
      for (int k = 0; k < 2; k++)
        {
          bench_set_nonblocking (pair[k]);
          if (!add_fd (ep, pair[k], EPOLLIN, TAG_IDLE, error))
            goto out;
        }
    }

  start = g_get_monotonic_time ();
  deadline = p->max_us > 0 ? start + p->max_us : 0;
  bench_ping_fill (msg, 0);
  if (!bench_send_all (client, msg, sizeof msg, error))
    goto out;

  while (done < round_trips)
    {
      struct epoll_event events[8];
      int n = epoll_wait (ep, events, G_N_ELEMENTS (events), -1);

      if (n < 0 && errno != EINTR)
        {
          bench_set_errno_error (error, errno, "epoll_wait");
          goto out;
        }

      for (int i = 0; i < n && done < round_trips; i++)
        {
          gssize r;

          switch (EV_TAG (&events[i]))
            {
            case TAG_SERVER:
              if (!pingpong_echo (server, error))
                goto out;
              break;

            case TAG_CLIENT:
              r = recv (client, msg + have, sizeof msg - have, 0);
              if (r <= 0)
                {
                  if (r < 0 && (errno == EAGAIN || errno == EINTR))
                    break;
                  g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA, "the client lost the connection");
                  goto out;
                }
              have += (gsize) r;
              if (have < sizeof msg)
                break;
              if (!bench_ping_check (msg, done))
                {
                  g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA, "reply %u is wrong", done);
                  goto out;
                }
              have = 0;
              if (bench_pingpong_over (++done, round_trips, deadline))
                {
                  round_trips = done;
                  break;
                }
              bench_ping_fill (msg, done);
              if (!bench_send_all (client, msg, sizeof msg, error))
                goto out;
              break;

            default:
              g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA, "an idle socket became readable");
              goto out;
            }
        }
    }

  res->elapsed_us = g_get_monotonic_time () - start;
  res->done = done;
  ok = TRUE;

out:
  for (guint i = 0; i < idle->len; i++)
    {
      bench_set_linger_zero (g_array_index (idle, int, i));
      close (g_array_index (idle, int, i));
    }
  bench_set_linger_zero (client);
  bench_set_linger_zero (server);
  close (client);
  close (server);
  if (ep >= 0)
    close (ep);
  return ok;
}

/* ---- (d) connect / accept / close ---------------------------------------- */

/* What each cycle's client sends before closing; the server checks it. */
static guint32
cycle_token (guint32 cycle)
{
  return cycle * 2654435761u ^ 0x5bd1e995u;
}

typedef struct
{
  int                ep;
  struct sockaddr_in address;
  int                client;
  int                server;
  guint32            token;
  gsize              have;
  guint              done;
} ConnectRun;

/* Starts the client of cycle run->done; it sends its token and closes
 * once connected. */
static gboolean
connect_start_cycle (ConnectRun *run,
                     GError    **error)
{
  guint32 token = cycle_token (run->done);
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return bench_set_errno_error (error, errno, "socket");

  if (connect (fd, (struct sockaddr *) &run->address, sizeof run->address) == 0)
    {
      gboolean ok = bench_send_all (fd, &token, sizeof token, error);
      close (fd);
      return ok;
    }
  if (errno != EINPROGRESS)
    {
      close (fd);
      return bench_set_errno_error (error, errno, "connect");
    }

  run->client = fd;
  return add_fd (run->ep, fd, EPOLLOUT, TAG_CLIENT, error);
}

static gboolean
connect_client_ready (ConnectRun *run,
                      GError    **error)
{
  guint32 token = cycle_token (run->done);
  int so_error = 0;
  socklen_t len = sizeof so_error;
  gboolean ok;

  getsockopt (run->client, SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0)
    return bench_set_errno_error (error, so_error, "connect");

  ok = bench_send_all (run->client, &token, sizeof token, error);
  close (run->client);
  run->client = -1;
  return ok;
}

static gboolean
connect_accept (ConnectRun *run,
                int         listener,
                GError    **error)
{
  int fd = accept4 (listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

  if (fd < 0)
    return errno == EAGAIN || errno == EINTR ? TRUE : bench_set_errno_error (error, errno, "accept");
  if (run->server >= 0)
    {
      close (fd);
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA, "a second connection in cycle %u", run->done);
      return FALSE;
    }

  run->server = fd;
  run->have = 0;
  return add_fd (run->ep, fd, EPOLLIN, TAG_SERVER, error);
}

/* Returns TRUE when the cycle is over (token checked, both ends closed). */
static gboolean
connect_server_ready (ConnectRun *run,
                      gboolean   *cycle_done,
                      GError    **error)
{
  char buf[16];
  gssize r = recv (run->server, buf, sizeof buf, 0);

  *cycle_done = FALSE;
  if (r < 0)
    return errno == EAGAIN || errno == EINTR ? TRUE : bench_set_errno_error (error, errno, "recv");
  if (r > 0)
    {
      if (run->have + (gsize) r > sizeof run->token)
        {
          g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA, "too many bytes in cycle %u", run->done);
          return FALSE;
        }
      memcpy ((char *) &run->token + run->have, buf, (gsize) r);
      run->have += (gsize) r;
      return TRUE;
    }

  close (run->server);
  run->server = -1;
  if (run->have != sizeof run->token || run->token != cycle_token (run->done))
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA, "wrong token in cycle %u", run->done);
      return FALSE;
    }
  *cycle_done = TRUE;
  return TRUE;
}

gboolean
bench_epoll_connect (const BenchParams *p,
                     BenchResult       *res,
                     GError           **error)
{
  ConnectRun run = { .client = -1, .server = -1 };
  gboolean ok = FALSE;
  guint16 port;
  gint64 start;
  int listener = bench_listen (&port, error);

  if (listener < 0)
    return FALSE;
  bench_set_nonblocking (listener);
  run.ep = epoll_create1 (EPOLL_CLOEXEC);
  run.address.sin_family = AF_INET;
  run.address.sin_port = htons (port);
  run.address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (!add_fd (run.ep, listener, EPOLLIN, TAG_LISTENER, error))
    goto out;

  start = g_get_monotonic_time ();
  if (!connect_start_cycle (&run, error))
    goto out;

  while (run.done < p->cycles)
    {
      struct epoll_event events[4];
      int n = epoll_wait (run.ep, events, G_N_ELEMENTS (events), -1);

      if (n < 0 && errno != EINTR)
        {
          bench_set_errno_error (error, errno, "epoll_wait");
          goto out;
        }

      for (int i = 0; i < n; i++)
        {
          gboolean cycle_done = FALSE;
          gboolean step_ok;

          switch (EV_TAG (&events[i]))
            {
            case TAG_LISTENER:
              step_ok = connect_accept (&run, listener, error);
              break;
            case TAG_CLIENT:
              step_ok = EV_FD (&events[i]) != run.client || connect_client_ready (&run, error);
              break;
            default:
              step_ok = EV_FD (&events[i]) != run.server || connect_server_ready (&run, &cycle_done, error);
              break;
            }
          if (!step_ok)
            goto out;
          if (cycle_done && ++run.done < p->cycles && !connect_start_cycle (&run, error))
            goto out;
        }
    }

  res->elapsed_us = g_get_monotonic_time () - start;
  ok = TRUE;

out:
  if (run.client >= 0)
    close (run.client);
  if (run.server >= 0)
    close (run.server);
  close (run.ep);
  close (listener);
  return ok;
}

/* ---- (e) lines ----------------------------------------------------------- */

gboolean
bench_epoll_lines (const BenchParams *p,
                   BenchResult       *res,
                   GError           **error)
{
  const BenchLines *lines = bench_lines_get (p->lines);
  g_autofree BenchLineBuf *buf = g_new0 (BenchLineBuf, 1);
  BenchLineCheck check;
  struct epoll_event ev;
  GThread *writer;
  char *writer_error;
  gboolean eof = FALSE;
  gboolean ok = TRUE;
  gint64 start, end = 0;
  int wfd, rfd, ep;

  if (!bench_socket_pair (&wfd, &rfd, error))
    return FALSE;
  bench_set_nonblocking (rfd);
  ep = epoll_with (rfd, EPOLLIN, error);
  if (ep < 0)
    {
      close (wfd);
      close (rfd);
      return FALSE;
    }
  bench_line_check_init (&check, lines);

  start = g_get_monotonic_time ();
  writer = bench_line_writer_start (wfd, lines);

  while (ok && !eof && wait_one (ep, &ev) > 0)
    {
      for (;;)
        {
          gsize space;
          char *dst = bench_line_buf_space (buf, &space);
          gssize r = recv (rfd, dst, space, 0);

          if (r == 0)
            eof = TRUE;
          else if (r < 0 && errno == EINTR)
            continue;
          else if (r < 0 && errno != EAGAIN)
            ok = bench_set_errno_error (error, errno, "recv");
          else if (r > 0)
            {
              ok = bench_line_buf_feed (buf, (gsize) r, &check, error);
              if (ok && end == 0 && check.index == lines->n_lines)
                end = g_get_monotonic_time ();
              if (ok && (gsize) r == space)
                continue;
            }
          break;
        }
    }

  /* The writer finishes (or fails on the closed socket) either way. */
  close (rfd);
  close (ep);
  writer_error = g_thread_join (writer);

  if (ok)
    ok = bench_lines_finish (&check, buf->end - buf->start, writer_error, error);
  g_free (writer_error);
  if (ok)
    res->elapsed_us = end - start;
  return ok;
}
