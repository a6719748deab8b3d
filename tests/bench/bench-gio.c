/* bench-gio.c: the workloads on plain GIO
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a GLib program does without qsock-glib: non-blocking GSockets, one
 * g_socket_create_source() per socket on a GMainLoop, its own buffers, and
 * sends straight from the caller's memory (blocking in
 * g_socket_condition_wait() only if the kernel is full, which a ping-pong
 * never hits). Reads loop until a short read, as the epoll version does.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "bench.h"

static GSocket *
socket_from_fd (int      fd,
                GError **error)
{
  GSocket *socket = g_socket_new_from_fd (fd, error);

  if (socket == NULL)
    {
      close (fd);
      return NULL;
    }
  g_socket_set_blocking (socket, FALSE);
  return socket;
}

static GSource *
watch (GSocket      *socket,
       GIOCondition  condition,
       GSocketSourceFunc func,
       gpointer      data,
       GMainContext *context)
{
  GSource *source = g_socket_create_source (socket, condition, NULL);

  g_source_set_callback (source, (GSourceFunc) (GCallback) func, data, NULL);
  g_source_attach (source, context);
  return source;
}

static void
unwatch (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static gboolean
is_would_block (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

/* Sends all of @data, waiting for room only if the kernel is full. */
static gboolean
send_all (GSocket    *socket,
          const void *data,
          gsize       n,
          GError    **error)
{
  const char *p = data;

  while (n > 0)
    {
      GError *local = NULL;
      gssize r = g_socket_send (socket, p, n, NULL, &local);

      if (r < 0 && is_would_block (local))
        {
          g_error_free (local);
          if (!g_socket_condition_wait (socket, G_IO_OUT, NULL, error))
            return FALSE;
          continue;
        }
      if (r < 0)
        {
          g_propagate_error (error, local);
          return FALSE;
        }
      p += r;
      n -= (gsize) r;
    }
  return TRUE;
}

/* ---- (a) bulk ------------------------------------------------------------ */

typedef struct
{
  GSocket   *socket;
  GMainLoop *loop;
  guint64    total;
  guint64    done;
  guint8    *buf;
  BenchGate *gate;
  gint64     end_us;
  GError    *error;
} BulkSide;

static gboolean
bulk_send_ready (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      data)
{
  BulkSide *side = data;

  while (side->done < side->total)
    {
      GError *local = NULL;
      gssize r = g_socket_send (socket, (const char *) bench_pattern_at (side->done),
                                MIN (BENCH_CHUNK, side->total - side->done), NULL, &local);

      if (r < 0 && is_would_block (local))
        {
          g_error_free (local);
          return G_SOURCE_CONTINUE;
        }
      if (r < 0)
        {
          g_propagate_error (&side->error, local);
          break;
        }
      side->done += (guint64) r;
    }

  g_socket_close (socket, NULL);
  g_main_loop_quit (side->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
bulk_receive_ready (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      data)
{
  BulkSide *side = data;

  for (;;)
    {
      GError *local = NULL;
      gssize r = g_socket_receive (socket, (char *) side->buf, BENCH_RECV_SIZE, NULL, &local);

      if (r < 0 && is_would_block (local))
        {
          g_error_free (local);
          return G_SOURCE_CONTINUE;
        }
      if (r < 0)
        {
          g_propagate_error (&side->error, local);
          break;
        }
      if (r == 0)
        break;

      if (side->done + (guint64) r > side->total || !bench_pattern_check (side->done, side->buf, (gsize) r))
        {
          g_set_error (&side->error, BENCH_ERROR, BENCH_ERROR_DATA,
                       "wrong data at stream offset %" G_GUINT64_FORMAT, side->done);
          break;
        }
      side->done += (guint64) r;
      if (side->done == side->total)
        side->end_us = g_get_monotonic_time ();
      if ((gsize) r < BENCH_RECV_SIZE)
        return G_SOURCE_CONTINUE;
    }

  g_main_loop_quit (side->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
bulk_thread (gpointer data,
             GIOCondition condition,
             GSocketSourceFunc func)
{
  BulkSide *side = data;
  GMainContext *context = g_main_context_new ();
  GSource *source;

  g_main_context_push_thread_default (context);
  side->loop = g_main_loop_new (context, FALSE);
  source = watch (side->socket, condition, func, side, context);

  bench_gate_arrive (side->gate);
  g_main_loop_run (side->loop);

  unwatch (source);
  g_socket_close (side->socket, NULL);
  g_clear_object (&side->socket);
  g_main_loop_unref (side->loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static gpointer
bulk_sender (gpointer data)
{
  return bulk_thread (data, G_IO_OUT, bulk_send_ready);
}

static gpointer
bulk_receiver (gpointer data)
{
  return bulk_thread (data, G_IO_IN, bulk_receive_ready);
}

gboolean
bench_gio_bulk (const BenchParams *p,
                BenchResult       *res,
                GError           **error)
{
  BenchGate gate;
  BulkSide sender = { 0 }, receiver = { 0 };
  g_autofree guint8 *buf = g_malloc (BENCH_RECV_SIZE);
  GThread *threads[2];
  int sfd, rfd;

  if (!bench_socket_pair (&sfd, &rfd, error))
    return FALSE;
  sender.socket = socket_from_fd (sfd, error);
  receiver.socket = socket_from_fd (rfd, error);
  if (sender.socket == NULL || receiver.socket == NULL)
    {
      g_clear_object (&sender.socket);
      g_clear_object (&receiver.socket);
      return FALSE;
    }

  bench_gate_init (&gate);
  sender.total = receiver.total = p->bulk_bytes;
  sender.gate = receiver.gate = &gate;
  receiver.buf = buf;
  threads[0] = g_thread_new ("gio-bulk-recv", bulk_receiver, &receiver);
  threads[1] = g_thread_new ("gio-bulk-send", bulk_sender, &sender);
  bench_gate_open (&gate, 2);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
  res->elapsed_us = receiver.end_us - gate.start_us;
  bench_gate_clear (&gate);

  if (receiver.error == NULL && receiver.done != receiver.total)
    g_set_error (&receiver.error, BENCH_ERROR, BENCH_ERROR_DATA,
                 "received %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes",
                 receiver.done, receiver.total);
  return bench_bulk_result (sender.error, receiver.error, error);
}

/* ---- (b, c) ping-pong, optionally beside idle pairs ---------------------- */

typedef struct
{
  GMainLoop *loop;
  GSocket   *client;
  GSocket   *server;
  guint8     msg[BENCH_PING_SIZE];
  gsize      have;
  guint      done;
  guint      round_trips;
  gint64     deadline;
  GError    *error;
} PingPong;

static gboolean
pingpong_fail (PingPong   *pp,
               GError     *error)
{
  if (pp->error == NULL)
    pp->error = error;
  else
    g_error_free (error);
  g_main_loop_quit (pp->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
pingpong_server_ready (GSocket      *socket,
                       GIOCondition  condition,
                       gpointer      data)
{
  PingPong *pp = data;
  GError *local = NULL;
  char buf[4096];
  gssize r = g_socket_receive (socket, buf, sizeof buf, NULL, &local);

  if (r < 0 && is_would_block (local))
    {
      g_error_free (local);
      return G_SOURCE_CONTINUE;
    }
  if (r == 0)
    local = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "the echo end saw end of stream");
  if (r <= 0 || !send_all (socket, buf, (gsize) r, &local))
    return pingpong_fail (pp, local);
  return G_SOURCE_CONTINUE;
}

static gboolean
pingpong_client_ready (GSocket      *socket,
                       GIOCondition  condition,
                       gpointer      data)
{
  PingPong *pp = data;
  GError *local = NULL;
  gssize r = g_socket_receive (socket, (char *) pp->msg + pp->have, sizeof pp->msg - pp->have, NULL, &local);

  if (r < 0 && is_would_block (local))
    {
      g_error_free (local);
      return G_SOURCE_CONTINUE;
    }
  if (r == 0)
    local = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "the client lost the connection");
  if (r <= 0)
    return pingpong_fail (pp, local);

  pp->have += (gsize) r;
  if (pp->have < sizeof pp->msg)
    return G_SOURCE_CONTINUE;
  if (!bench_ping_check (pp->msg, pp->done))
    return pingpong_fail (pp, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "reply %u is wrong", pp->done));

  pp->have = 0;
  if (bench_pingpong_over (++pp->done, pp->round_trips, pp->deadline))
    {
      pp->round_trips = pp->done;
      g_main_loop_quit (pp->loop);
      return G_SOURCE_CONTINUE;
    }
  bench_ping_fill (pp->msg, pp->done);
  if (!send_all (socket, pp->msg, sizeof pp->msg, &local))
    return pingpong_fail (pp, local);
  return G_SOURCE_CONTINUE;
}

static gboolean
pingpong_idle_ready (GSocket      *socket,
                     GIOCondition  condition,
                     gpointer      data)
{
  return pingpong_fail (data, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "an idle socket became readable"));
}

/* A connected pair of non-blocking GSockets, each watched for input. */
static gboolean
add_pair (GPtrArray         *sockets,
          GPtrArray         *sources,
          GSocketSourceFunc  client_func,
          GSocketSourceFunc  server_func,
          gpointer           data,
          GMainContext      *context,
          GError           **error)
{
  int fds[2];
  GSocketSourceFunc funcs[2] = { client_func, server_func };

  if (!bench_socket_pair (&fds[0], &fds[1], error))
    return FALSE;

  for (int k = 0; k < 2; k++)
    {
      GSocket *socket = socket_from_fd (fds[k], error);

      if (socket == NULL)
        {
          if (k == 0)
            close (fds[1]);
          return FALSE;
        }
      g_ptr_array_add (sockets, socket);
      g_ptr_array_add (sources, watch (socket, G_IO_IN, funcs[k], data, context));
    }
  return TRUE;
}

gboolean
bench_gio_pingpong (const BenchParams *p,
                    BenchResult       *res,
                    GError           **error)
{
  GMainContext *context = g_main_context_new ();
  g_autoptr(GPtrArray) sockets = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) unwatch);
  PingPong pp = { 0 };
  gboolean ok = FALSE;
  gint64 start;

  g_main_context_push_thread_default (context);
  pp.loop = g_main_loop_new (context, FALSE);
  pp.round_trips = p->round_trips;

  if (!add_pair (sockets, sources, pingpong_client_ready, pingpong_server_ready, &pp, context, error))
    goto out;
  pp.client = sockets->pdata[0];
  pp.server = sockets->pdata[1];
  for (guint i = 0; i < p->idle; i++)
    if (!add_pair (sockets, sources, pingpong_idle_ready, pingpong_idle_ready, &pp, context, error))
      goto out;

  start = g_get_monotonic_time ();
  pp.deadline = p->max_us > 0 ? start + p->max_us : 0;
  bench_ping_fill (pp.msg, 0);
  if (!send_all (pp.client, pp.msg, sizeof pp.msg, error))
    goto out;
  g_main_loop_run (pp.loop);
  res->elapsed_us = g_get_monotonic_time () - start;
  res->done = pp.done;

  if (pp.error != NULL)
    g_propagate_error (error, g_steal_pointer (&pp.error));
  else
    ok = TRUE;

out:
  g_ptr_array_set_size (sources, 0);
  for (guint i = 0; i < sockets->len; i++)
    {
      bench_set_linger_zero (g_socket_get_fd (sockets->pdata[i]));
      g_socket_close (sockets->pdata[i], NULL);
    }
  g_ptr_array_set_size (sockets, 0);
  g_main_loop_unref (pp.loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return ok;
}

/* ---- (d) connect / accept / close ---------------------------------------- */

typedef struct
{
  GMainContext   *context;
  GMainLoop      *loop;
  GSocketAddress *address;
  GSocket        *client;
  GSource        *client_source;
  GSocket        *server;
  GSource        *server_source;
  guint32         token;
  gsize           have;
  guint           done;
  guint           cycles;
  GError         *error;
} ConnectRun;

static guint32
cycle_token (guint32 cycle)
{
  return cycle * 2654435761u ^ 0x5bd1e995u;
}

static void
connect_fail (ConnectRun *run,
              GError     *error)
{
  if (run->error == NULL)
    run->error = error;
  else
    g_error_free (error);
  g_main_loop_quit (run->loop);
}

static void
close_client (ConnectRun *run)
{
  g_clear_pointer (&run->client_source, unwatch);
  if (run->client != NULL)
    g_socket_close (run->client, NULL);
  g_clear_object (&run->client);
}

static gboolean
client_connected (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      data)
{
  ConnectRun *run = data;
  guint32 token = cycle_token (run->done);
  GError *local = NULL;

  if (!g_socket_check_connect_result (socket, &local) ||
      !send_all (socket, &token, sizeof token, &local))
    connect_fail (run, local);
  close_client (run);
  return G_SOURCE_REMOVE;
}

static void
start_cycle (ConnectRun *run)
{
  GError *local = NULL;

  run->client = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &local);
  if (run->client == NULL)
    {
      connect_fail (run, local);
      return;
    }
  g_socket_set_blocking (run->client, FALSE);

  if (g_socket_connect (run->client, run->address, NULL, &local))
    {
      client_connected (run->client, G_IO_OUT, run);
      return;
    }
  if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PENDING))
    {
      close_client (run);
      connect_fail (run, local);
      return;
    }
  g_error_free (local);
  run->client_source = watch (run->client, G_IO_OUT, client_connected, run, run->context);
}

static void
close_server (ConnectRun *run)
{
  g_clear_pointer (&run->server_source, unwatch);
  if (run->server != NULL)
    g_socket_close (run->server, NULL);
  g_clear_object (&run->server);
}

static gboolean
server_ready (GSocket      *socket,
              GIOCondition  condition,
              gpointer      data)
{
  ConnectRun *run = data;
  GError *local = NULL;
  char buf[16];
  gssize r = g_socket_receive (socket, buf, sizeof buf, NULL, &local);

  if (r < 0 && is_would_block (local))
    {
      g_error_free (local);
      return G_SOURCE_CONTINUE;
    }
  if (r < 0)
    {
      connect_fail (run, local);
      return G_SOURCE_CONTINUE;
    }
  if (r > 0)
    {
      if (run->have + (gsize) r > sizeof run->token)
        connect_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "too many bytes in cycle %u", run->done));
      else
        {
          memcpy ((char *) &run->token + run->have, buf, (gsize) r);
          run->have += (gsize) r;
        }
      return G_SOURCE_CONTINUE;
    }

  /* End of stream: the cycle is over. */
  close_server (run);
  if (run->have != sizeof run->token || run->token != cycle_token (run->done))
    connect_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "wrong token in cycle %u", run->done));
  else if (++run->done == run->cycles)
    g_main_loop_quit (run->loop);
  else
    start_cycle (run);
  return G_SOURCE_REMOVE;
}

static gboolean
listener_ready (GSocket      *listener,
                GIOCondition  condition,
                gpointer      data)
{
  ConnectRun *run = data;
  GError *local = NULL;
  GSocket *socket = g_socket_accept (listener, NULL, &local);

  if (socket == NULL)
    {
      if (is_would_block (local))
        g_error_free (local);
      else
        connect_fail (run, local);
      return G_SOURCE_CONTINUE;
    }
  if (run->server != NULL)
    {
      g_object_unref (socket);
      connect_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "a second connection in cycle %u", run->done));
      return G_SOURCE_CONTINUE;
    }

  g_socket_set_blocking (socket, FALSE);
  run->server = socket;
  run->have = 0;
  run->server_source = watch (socket, G_IO_IN, server_ready, run, run->context);
  return G_SOURCE_CONTINUE;
}

gboolean
bench_gio_connect (const BenchParams *p,
                   BenchResult       *res,
                   GError           **error)
{
  ConnectRun run = { 0 };
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocket) listener = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  GSource *listener_source;
  gint64 start;

  listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (listener == NULL)
    return FALSE;
  g_socket_set_blocking (listener, FALSE);
  g_socket_set_listen_backlog (listener, 1024);
  if (!g_socket_bind (listener, any_port, TRUE, error) || !g_socket_listen (listener, error))
    return FALSE;
  bound = g_socket_get_local_address (listener, error);
  if (bound == NULL)
    return FALSE;

  run.context = g_main_context_new ();
  g_main_context_push_thread_default (run.context);
  run.loop = g_main_loop_new (run.context, FALSE);
  run.address = bound;
  run.cycles = p->cycles;
  listener_source = watch (listener, G_IO_IN, listener_ready, &run, run.context);

  start = g_get_monotonic_time ();
  start_cycle (&run);
  if (run.error == NULL)
    g_main_loop_run (run.loop);
  res->elapsed_us = g_get_monotonic_time () - start;

  close_client (&run);
  close_server (&run);
  unwatch (listener_source);
  g_socket_close (listener, NULL);
  g_main_loop_unref (run.loop);
  g_main_context_pop_thread_default (run.context);
  g_main_context_unref (run.context);

  if (run.error != NULL)
    {
      g_propagate_error (error, run.error);
      return FALSE;
    }
  return TRUE;
}

/* ---- (e) lines ----------------------------------------------------------- */

typedef struct
{
  GMainLoop      *loop;
  BenchLineBuf   *buf;
  BenchLineCheck  check;
  gint64          end_us;
  GError         *error;
} LineRun;

static gboolean
lines_ready (GSocket      *socket,
             GIOCondition  condition,
             gpointer      data)
{
  LineRun *run = data;

  for (;;)
    {
      GError *local = NULL;
      gsize space;
      char *dst = bench_line_buf_space (run->buf, &space);
      gssize r = g_socket_receive (socket, dst, space, NULL, &local);

      if (r < 0 && is_would_block (local))
        {
          g_error_free (local);
          return G_SOURCE_CONTINUE;
        }
      if (r < 0)
        {
          g_propagate_error (&run->error, local);
          break;
        }
      if (r == 0)
        break;
      if (!bench_line_buf_feed (run->buf, (gsize) r, &run->check, &run->error))
        break;
      if (run->end_us == 0 && run->check.index == run->check.lines->n_lines)
        run->end_us = g_get_monotonic_time ();
      if ((gsize) r < space)
        return G_SOURCE_CONTINUE;
    }

  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

gboolean
bench_gio_lines (const BenchParams *p,
                 BenchResult       *res,
                 GError           **error)
{
  const BenchLines *lines = bench_lines_get (p->lines);
  g_autofree BenchLineBuf *buf = g_new0 (BenchLineBuf, 1);
  GMainContext *context;
  GSocket *reader;
  GSource *source;
  GThread *writer;
  char *writer_error;
  LineRun run = { 0 };
  gboolean ok;
  gint64 start;
  int wfd, rfd;

  if (!bench_socket_pair (&wfd, &rfd, error))
    return FALSE;
  reader = socket_from_fd (rfd, error);
  if (reader == NULL)
    {
      close (wfd);
      return FALSE;
    }

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  run.loop = g_main_loop_new (context, FALSE);
  run.buf = buf;
  bench_line_check_init (&run.check, lines);
  source = watch (reader, G_IO_IN, lines_ready, &run, context);

  start = g_get_monotonic_time ();
  writer = bench_line_writer_start (wfd, lines);
  g_main_loop_run (run.loop);

  unwatch (source);
  g_socket_close (reader, NULL);
  g_object_unref (reader);
  writer_error = g_thread_join (writer);
  g_main_loop_unref (run.loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  if (run.error != NULL)
    {
      g_propagate_error (error, run.error);
      ok = FALSE;
    }
  else
    ok = bench_lines_finish (&run.check, buf->end - buf->start, writer_error, error);
  g_free (writer_error);
  if (ok)
    res->elapsed_us = run.end_us - start;
  return ok;
}
