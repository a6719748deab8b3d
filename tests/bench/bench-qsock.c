/* bench-qsock.c: the workloads through qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Written as a Qt program would be: QSockTcpServer accepts, QSockTcp
 * connects, everything is driven by signals on a GMainLoop. Writes are
 * queued and leave from the loop, as in Qt; the bulk sender keeps at most
 * BENCH_MAX_QUEUED bytes queued and tops up on bytes-written.
 */
#include <string.h>

#include <qsock-glib/qsock.h>

#include "bench.h"

#define QS_OPEN_RW QSOCK_OPEN_MODE_READ_WRITE
#define QS_IPV4    QSOCK_NETWORK_LAYER_PROTOCOL_IPV4

static QSockTcpServer *
listen_loopback (guint16 *port,
                 GError **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  QSockTcpServer *server = qsock_tcp_server_new ();

  if (!qsock_tcp_server_listen (server, loopback, 0))
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_SOCKET, "listen: %s",
                   qsock_tcp_server_get_error_string (server));
      g_object_unref (server);
      return NULL;
    }
  *port = qsock_tcp_server_get_server_port (server);
  return server;
}

static gboolean
connect_failed (QSockTcp *socket,
                GError  **error)
{
  g_set_error (error, BENCH_ERROR, BENCH_ERROR_SOCKET, "connect: %s",
               qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
  return FALSE;
}

/* Set-up: a client connected to @server (both in the thread-default
 * context), and the server's end of it. */
static gboolean
connect_pair (QSockTcpServer *server,
              guint16         port,
              QSockTcp      **client_out,
              QSockTcp      **server_end_out,
              GError        **error)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  g_autoptr(QSockTcp) client = qsock_tcp_new ();
  QSockAbstract *abstract = QSOCK_ABSTRACT (client);
  QSockTcp *server_end = NULL;

  qsock_abstract_connect_to_host (abstract, "127.0.0.1", port, QS_OPEN_RW, QS_IPV4);
  while (server_end == NULL || qsock_abstract_get_state (abstract) != QSOCK_SOCKET_STATE_CONNECTED)
    {
      if (qsock_abstract_get_state (abstract) == QSOCK_SOCKET_STATE_UNCONNECTED)
        {
          g_clear_object (&server_end);
          g_main_context_unref (context);
          return connect_failed (client, error);
        }
      g_main_context_iteration (context, TRUE);
      if (server_end == NULL)
        server_end = qsock_tcp_server_next_pending_connection (server);
    }
  g_main_context_unref (context);

  qsock_abstract_set_socket_option (abstract, QSOCK_SOCKET_OPTION_LOW_DELAY, 1);
  qsock_abstract_set_socket_option (QSOCK_ABSTRACT (server_end), QSOCK_SOCKET_OPTION_LOW_DELAY, 1);
  *client_out = g_steal_pointer (&client);
  *server_end_out = server_end;
  return TRUE;
}

/* Tears a socket down after the run: takes off the handlers that were
 * connected with @data first, so the abort reports nothing to them. */
static void
drop_socket (QSockTcp **socket,
             gpointer   data)
{
  if (*socket == NULL)
    return;
  g_signal_handlers_disconnect_by_data (*socket, data);
  bench_set_linger_zero (qsock_abstract_get_socket_descriptor (QSOCK_ABSTRACT (*socket)));
  qsock_abstract_abort (QSOCK_ABSTRACT (*socket));
  g_clear_object (socket);
}

/* ---- (a) bulk ------------------------------------------------------------ */

typedef struct
{
  GMainContext   *context;
  GMainLoop      *loop;
  QSockTcpServer *server;     /* receiver: made by the main thread in context */
  guint16         port;
  QSockTcp       *socket;
  guint64         total;
  guint64         done;       /* sender: queued; receiver: received */
  gint64          written;    /* sender: sum of bytes-written */
  gboolean        closing;
  guint8         *buf;
  BenchGate      *gate;
  gint64          end_us;
  GError         *error;
} BulkSide;

static void
bulk_fail (BulkSide *side,
           GError   *error)
{
  if (side->error == NULL)
    side->error = error;
  else
    g_error_free (error);
  g_main_loop_quit (side->loop);
}

static void
bulk_fill (BulkSide *side)
{
  QSockIODevice *device = QSOCK_IODEVICE (side->socket);

  while (side->done < side->total &&
         qsock_iodevice_bytes_to_write (device) + (gint64) BENCH_CHUNK <= BENCH_MAX_QUEUED)
    {
      gsize n = MIN (BENCH_CHUNK, side->total - side->done);

      if (qsock_iodevice_write (device, (const char *) bench_pattern_at (side->done), n) != (gint64) n)
        {
          bulk_fail (side, g_error_new (BENCH_ERROR, BENCH_ERROR_SOCKET, "write: %s",
                                        qsock_iodevice_get_error_string (device)));
          return;
        }
      side->done += n;
    }

  /* Everything is queued: disconnecting flushes the queue, then closes. */
  if (side->done == side->total && !side->closing)
    {
      side->closing = TRUE;
      qsock_abstract_disconnect_from_host (QSOCK_ABSTRACT (side->socket));
    }
}

static void
bulk_bytes_written (QSockIODevice *device,
                    gint64         bytes,
                    BulkSide      *side)
{
  side->written += bytes;
  bulk_fill (side);
}

static void
bulk_disconnected (QSockAbstract *socket,
                   BulkSide      *side)
{
  g_main_loop_quit (side->loop);
}

static void
bulk_ready_read (QSockIODevice *device,
                 BulkSide      *side)
{
  gint64 n;

  while ((n = qsock_iodevice_read (device, (char *) side->buf, BENCH_RECV_SIZE)) > 0)
    {
      if (side->done + (guint64) n > side->total || !bench_pattern_check (side->done, side->buf, (gsize) n))
        {
          bulk_fail (side, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                        "wrong data at stream offset %" G_GUINT64_FORMAT, side->done));
          return;
        }
      side->done += (guint64) n;
      if (side->done == side->total)
        side->end_us = g_get_monotonic_time ();
    }
}

static gpointer
bulk_receiver (gpointer data)
{
  BulkSide *side = data;

  g_main_context_push_thread_default (side->context);
  while (side->socket == NULL)
    {
      g_main_context_iteration (side->context, TRUE);
      side->socket = qsock_tcp_server_next_pending_connection (side->server);
    }
  g_clear_object (&side->server);
  g_signal_connect (side->socket, "ready-read", G_CALLBACK (bulk_ready_read), side);
  g_signal_connect (side->socket, "disconnected", G_CALLBACK (bulk_disconnected), side);

  bench_gate_arrive (side->gate);
  g_main_loop_run (side->loop);

  if (side->error == NULL &&
      (side->done != side->total || qsock_iodevice_bytes_available (QSOCK_IODEVICE (side->socket)) != 0))
    side->error = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                               "received %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes",
                               side->done, side->total);
  drop_socket (&side->socket, side);
  g_main_context_pop_thread_default (side->context);
  return NULL;
}

static gpointer
bulk_sender (gpointer data)
{
  BulkSide *side = data;
  QSockAbstract *abstract;

  g_main_context_push_thread_default (side->context);
  side->socket = qsock_tcp_new ();
  abstract = QSOCK_ABSTRACT (side->socket);
  qsock_abstract_connect_to_host (abstract, "127.0.0.1", side->port, QS_OPEN_RW, QS_IPV4);
  while (qsock_abstract_get_state (abstract) == QSOCK_SOCKET_STATE_CONNECTING)
    g_main_context_iteration (side->context, TRUE);
  if (qsock_abstract_get_state (abstract) != QSOCK_SOCKET_STATE_CONNECTED)
    connect_failed (side->socket, &side->error);
  qsock_abstract_set_socket_option (abstract, QSOCK_SOCKET_OPTION_LOW_DELAY, 1);
  g_signal_connect (side->socket, "bytes-written", G_CALLBACK (bulk_bytes_written), side);
  g_signal_connect (side->socket, "disconnected", G_CALLBACK (bulk_disconnected), side);

  bench_gate_arrive (side->gate);
  if (side->error == NULL)
    {
      bulk_fill (side);
      g_main_loop_run (side->loop);
    }

  if (side->error == NULL && side->written != (gint64) side->total)
    side->error = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                               "bytes-written added up to %" G_GINT64_FORMAT " of %" G_GUINT64_FORMAT,
                               side->written, side->total);
  drop_socket (&side->socket, side);
  g_main_context_pop_thread_default (side->context);
  return NULL;
}

static void
bulk_side_init (BulkSide  *side,
                guint64    total,
                BenchGate *gate)
{
  side->context = g_main_context_new ();
  side->loop = g_main_loop_new (side->context, FALSE);
  side->total = total;
  side->gate = gate;
}

static void
bulk_side_clear (BulkSide *side)
{
  g_clear_object (&side->server);
  g_main_loop_unref (side->loop);
  g_main_context_unref (side->context);
}

gboolean
bench_qsock_bulk (const BenchParams *p,
                  BenchResult       *res,
                  GError           **error)
{
  BenchGate gate;
  BulkSide sender = { 0 }, receiver = { 0 };
  g_autofree guint8 *buf = g_malloc (BENCH_RECV_SIZE);
  GThread *threads[2];

  bench_gate_init (&gate);
  bulk_side_init (&sender, p->bulk_bytes, &gate);
  bulk_side_init (&receiver, p->bulk_bytes, &gate);
  receiver.buf = buf;

  /* The server (and so the socket it accepts) lives in the receiver's context. */
  g_main_context_push_thread_default (receiver.context);
  receiver.server = listen_loopback (&sender.port, error);
  g_main_context_pop_thread_default (receiver.context);
  if (receiver.server == NULL)
    {
      bulk_side_clear (&sender);
      bulk_side_clear (&receiver);
      bench_gate_clear (&gate);
      return FALSE;
    }

  threads[0] = g_thread_new ("qsock-bulk-recv", bulk_receiver, &receiver);
  threads[1] = g_thread_new ("qsock-bulk-send", bulk_sender, &sender);
  bench_gate_open (&gate, 2);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
  res->elapsed_us = receiver.end_us - gate.start_us;
  bulk_side_clear (&sender);
  bulk_side_clear (&receiver);
  bench_gate_clear (&gate);

  return bench_bulk_result (sender.error, receiver.error, error);
}

/* ---- (b, c) ping-pong, optionally beside idle pairs ---------------------- */

typedef struct
{
  GMainLoop *loop;
  guint8     msg[BENCH_PING_SIZE];
  guint      done;
  guint      round_trips;
  gint64     deadline;
  GError    *error;
} PingPong;

static void
pingpong_fail (PingPong *pp,
               GError   *error)
{
  if (pp->error == NULL)
    pp->error = error;
  else
    g_error_free (error);
  g_main_loop_quit (pp->loop);
}

static void
pingpong_echo (QSockIODevice *device,
               PingPong      *pp)
{
  char buf[4096];
  gint64 n;

  while ((n = qsock_iodevice_read (device, buf, sizeof buf)) > 0)
    qsock_iodevice_write (device, buf, n);
}

static void
pingpong_client_ready_read (QSockIODevice *device,
                            PingPong      *pp)
{
  while (pp->done < pp->round_trips && qsock_iodevice_bytes_available (device) >= BENCH_PING_SIZE)
    {
      qsock_iodevice_read (device, (char *) pp->msg, BENCH_PING_SIZE);
      if (!bench_ping_check (pp->msg, pp->done))
        {
          pingpong_fail (pp, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "reply %u is wrong", pp->done));
          return;
        }
      if (bench_pingpong_over (++pp->done, pp->round_trips, pp->deadline))
        {
          pp->round_trips = pp->done;
          g_main_loop_quit (pp->loop);
          return;
        }
      bench_ping_fill (pp->msg, pp->done);
      qsock_iodevice_write (device, (const char *) pp->msg, BENCH_PING_SIZE);
    }
}

static void
pingpong_idle_ready_read (QSockIODevice *device,
                          PingPong      *pp)
{
  pingpong_fail (pp, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "an idle socket became readable"));
}

static void
pingpong_disconnected (QSockAbstract *socket,
                       PingPong      *pp)
{
  pingpong_fail (pp, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "a connection closed"));
}

gboolean
bench_qsock_pingpong (const BenchParams *p,
                      BenchResult       *res,
                      GError           **error)
{
  GMainContext *context = g_main_context_new ();
  g_autoptr(GPtrArray) sockets = g_ptr_array_new ();
  QSockTcpServer *server;
  QSockTcp *client, *server_end;
  PingPong pp = { 0 };
  gboolean ok = FALSE;
  guint16 port;
  gint64 start;

  g_main_context_push_thread_default (context);
  pp.loop = g_main_loop_new (context, FALSE);
  pp.round_trips = p->round_trips;

  server = listen_loopback (&port, error);
  if (server == NULL)
    goto out;

  if (!connect_pair (server, port, &client, &server_end, error))
    goto out;
  g_ptr_array_add (sockets, client);
  g_ptr_array_add (sockets, server_end);
  g_signal_connect (client, "ready-read", G_CALLBACK (pingpong_client_ready_read), &pp);
  g_signal_connect (server_end, "ready-read", G_CALLBACK (pingpong_echo), &pp);

  for (guint i = 0; i < p->idle; i++)
    {
      QSockTcp *idle[2];

      if (!connect_pair (server, port, &idle[0], &idle[1], error))
        goto out;
      g_ptr_array_add (sockets, idle[0]);
      g_ptr_array_add (sockets, idle[1]);
      for (int k = 0; k < 2; k++)
        g_signal_connect (idle[k], "ready-read", G_CALLBACK (pingpong_idle_ready_read), &pp);
    }
  for (guint i = 0; i < sockets->len; i++)
    g_signal_connect (sockets->pdata[i], "disconnected", G_CALLBACK (pingpong_disconnected), &pp);

  start = g_get_monotonic_time ();
  pp.deadline = p->max_us > 0 ? start + p->max_us : 0;
  bench_ping_fill (pp.msg, 0);
  qsock_iodevice_write (QSOCK_IODEVICE (client), (const char *) pp.msg, BENCH_PING_SIZE);
  g_main_loop_run (pp.loop);
  res->elapsed_us = g_get_monotonic_time () - start;
  res->done = pp.done;

  if (pp.error != NULL)
    g_propagate_error (error, g_steal_pointer (&pp.error));
  else
    ok = TRUE;

out:
  for (guint i = 0; i < sockets->len; i++)
    drop_socket ((QSockTcp **) &sockets->pdata[i], &pp);
  g_clear_object (&server);
  g_main_loop_unref (pp.loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return ok;
}

/* ---- (d) connect / accept / close ---------------------------------------- */

typedef struct
{
  GMainLoop      *loop;
  QSockTcpServer *server;
  guint16         port;
  QSockTcp       *client;
  QSockTcp       *server_end;
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

static void start_cycle (ConnectRun *run);

static void
client_disconnected (QSockAbstract *socket,
                     ConnectRun    *run)
{
  g_clear_object (&run->client);
}

static void
client_error (QSockAbstract   *socket,
              QSockSocketError code,
              ConnectRun      *run)
{
  connect_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_SOCKET, "client, cycle %u: %s", run->done,
                                  qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket))));
}

static void
server_end_ready_read (QSockIODevice *device,
                       ConnectRun    *run)
{
  gint64 n = qsock_iodevice_read (device, (char *) &run->token + run->have, sizeof run->token - run->have);

  if (n > 0)
    run->have += (gsize) n;
}

/* The client closed after sending its token: the cycle is over. */
static void
server_end_disconnected (QSockAbstract *socket,
                         ConnectRun    *run)
{
  gboolean extra = qsock_iodevice_bytes_available (QSOCK_IODEVICE (socket)) != 0;

  g_clear_object (&run->server_end);
  if (extra || run->have != sizeof run->token || run->token != cycle_token (run->done))
    connect_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA, "wrong token in cycle %u", run->done));
  else if (run->client != NULL)
    connect_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                    "the server saw the end of cycle %u before the client closed", run->done));
  else if (++run->done == run->cycles)
    g_main_loop_quit (run->loop);
  else
    start_cycle (run);
}

static void
server_new_connection (QSockTcpServer *server,
                       ConnectRun     *run)
{
  QSockTcp *socket;

  while ((socket = qsock_tcp_server_next_pending_connection (server)) != NULL)
    {
      if (run->server_end != NULL)
        {
          drop_socket (&socket, run);
          connect_fail (run, g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                          "a second connection in cycle %u", run->done));
          return;
        }
      run->server_end = socket;
      run->have = 0;
      g_signal_connect (socket, "ready-read", G_CALLBACK (server_end_ready_read), run);
      g_signal_connect (socket, "disconnected", G_CALLBACK (server_end_disconnected), run);
    }
}

/* Connects, queues the token and asks to disconnect at once: the socket
 * sends the token once connected, then closes (Qt's pending close). */
static void
start_cycle (ConnectRun *run)
{
  guint32 token = cycle_token (run->done);

  run->client = qsock_tcp_new ();
  g_signal_connect (run->client, "disconnected", G_CALLBACK (client_disconnected), run);
  g_signal_connect (run->client, "error-occurred", G_CALLBACK (client_error), run);
  qsock_abstract_connect_to_host (QSOCK_ABSTRACT (run->client), "127.0.0.1", run->port, QS_OPEN_RW, QS_IPV4);
  qsock_iodevice_write (QSOCK_IODEVICE (run->client), (const char *) &token, sizeof token);
  qsock_abstract_disconnect_from_host (QSOCK_ABSTRACT (run->client));
}

gboolean
bench_qsock_connect (const BenchParams *p,
                     BenchResult       *res,
                     GError           **error)
{
  GMainContext *context = g_main_context_new ();
  ConnectRun run = { 0 };
  gint64 start;

  g_main_context_push_thread_default (context);
  run.loop = g_main_loop_new (context, FALSE);
  run.cycles = p->cycles;
  run.server = listen_loopback (&run.port, error);
  if (run.server != NULL)
    {
      g_signal_connect (run.server, "new-connection", G_CALLBACK (server_new_connection), &run);

      start = g_get_monotonic_time ();
      start_cycle (&run);
      if (run.error == NULL)
        g_main_loop_run (run.loop);
      res->elapsed_us = g_get_monotonic_time () - start;

      drop_socket (&run.client, &run);
      drop_socket (&run.server_end, &run);
      g_signal_handlers_disconnect_by_data (run.server, &run);
      g_clear_object (&run.server);
    }
  g_main_loop_unref (run.loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  if (run.error != NULL)
    {
      g_propagate_error (error, run.error);
      return FALSE;
    }
  return run.done == run.cycles;
}

/* ---- (e) lines ----------------------------------------------------------- */

typedef struct
{
  GMainLoop      *loop;
  BenchLineCheck  check;
  gint64          end_us;
  GError         *error;
} LineRun;

static void
lines_ready_read (QSockIODevice *device,
                  LineRun       *run)
{
  char line[BENCH_LINE_MAX + 2];

  while (qsock_iodevice_can_read_line (device))
    {
      gint64 n = qsock_iodevice_read_line (device, line, sizeof line);

      if (n <= 0 || !bench_line_check (&run->check, line, (gsize) n, &run->error))
        {
          if (run->error == NULL)
            run->error = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                      "read_line after can_read_line returned %" G_GINT64_FORMAT, n);
          g_main_loop_quit (run->loop);
          return;
        }
    }
  if (run->end_us == 0 && run->check.index == run->check.lines->n_lines)
    run->end_us = g_get_monotonic_time ();
  if (qsock_iodevice_bytes_available (device) >= BENCH_LINE_MAX)
    {
      run->error = g_error_new (BENCH_ERROR, BENCH_ERROR_DATA,
                                "line %u is longer than %d bytes", run->check.index, BENCH_LINE_MAX);
      g_main_loop_quit (run->loop);
    }
}

static void
lines_disconnected (QSockAbstract *socket,
                    LineRun       *run)
{
  g_main_loop_quit (run->loop);
}

gboolean
bench_qsock_lines (const BenchParams *p,
                   BenchResult       *res,
                   GError           **error)
{
  const BenchLines *lines = bench_lines_get (p->lines);
  GMainContext *context = g_main_context_new ();
  g_autoptr(QSockTcpServer) server = NULL;
  QSockTcp *reader = NULL;
  GThread *writer;
  char *writer_error;
  LineRun run = { 0 };
  gboolean ok = FALSE;
  guint16 port;
  gint64 start, leftover;
  int wfd;

  g_main_context_push_thread_default (context);
  run.loop = g_main_loop_new (context, FALSE);
  bench_line_check_init (&run.check, lines);

  server = listen_loopback (&port, error);
  if (server == NULL)
    goto out;
  wfd = bench_connect (port, error);
  if (wfd < 0)
    goto out;
  bench_set_nodelay (wfd);
  while ((reader = qsock_tcp_server_next_pending_connection (server)) == NULL)
    g_main_context_iteration (context, TRUE);
  g_signal_connect (reader, "ready-read", G_CALLBACK (lines_ready_read), &run);
  g_signal_connect (reader, "disconnected", G_CALLBACK (lines_disconnected), &run);

  start = g_get_monotonic_time ();
  writer = bench_line_writer_start (wfd, lines);
  g_main_loop_run (run.loop);

  leftover = qsock_iodevice_bytes_available (QSOCK_IODEVICE (reader));
  drop_socket (&reader, &run);
  writer_error = g_thread_join (writer);

  if (run.error != NULL)
    g_propagate_error (error, g_steal_pointer (&run.error));
  else
    ok = bench_lines_finish (&run.check, (gsize) leftover, writer_error, error);
  g_free (writer_error);
  if (ok)
    res->elapsed_us = run.end_us - start;

out:
  g_clear_object (&server);
  g_main_loop_unref (run.loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return ok;
}
