/* threaded-echo-server.c: a TCP echo server whose clients live in worker
 * threads, after Qt's Threaded Fortune Server example
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   threaded-echo-server [--address ADDR] [--port PORT] [--workers N] [--count N]
 *
 * ThreadedEchoServer derives from QSockTcpServer and overrides
 * incoming_connection(), as Qt's FortuneServer overrides
 * incomingConnection(): the accepting thread never makes a socket object;
 * it hands each accepted descriptor to one of N worker threads in turn.
 * Every worker runs its own GMainContext (pushed as its thread-default), so
 * the QSockTcp it makes with qsock_abstract_set_socket_descriptor() belongs
 * to that thread: its signals are emitted there and nothing is shared.
 *
 * Once listening it prints "listening on ADDR:PORT"; for every client that
 * leaves, "client N served by worker K: B bytes echoed" (stdout).
 *
 * The Qt original, for comparison:
 *
 *   void FortuneServer::incomingConnection(qintptr socketDescriptor)
 *   {
 *       FortuneThread *thread = new FortuneThread(socketDescriptor, fortune, this);
 *       connect(thread, &FortuneThread::finished, thread, &FortuneThread::deleteLater);
 *       thread->start();
 *   }
 *   …
 *   void FortuneThread::run()
 *   {
 *       QTcpSocket tcpSocket;
 *       if (!tcpSocket.setSocketDescriptor(socketDescriptor)) { … }
 *       …
 *   }
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib-unix.h>
#include <qsock-glib/qsock.h>

#define EXIT_USAGE 2

/* ---- the workers ------------------------------------------------------ */

typedef struct {
  guint         index;
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  GHashTable   *clients;         /* EchoClient *, owned; used in the worker thread only */
  GMainContext *server_context;  /* where client_done() reports */
  gpointer      server;          /* ThreadedEchoServer *, for client_done() */
} Worker;

typedef struct {
  Worker   *worker;
  QSockTcp *socket;
  guint     serial;
  guint64   echoed;
} EchoClient;

typedef struct {
  Worker *worker;
  int     fd;
  guint   serial;
} Handoff;

typedef struct {
  gpointer server;
  guint    worker;
  guint    serial;
  guint64  echoed;
} Report;

static void client_done (Report *report);

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;

  g_main_context_push_thread_default (worker->context);
  g_main_loop_run (worker->loop);
  g_main_context_pop_thread_default (worker->context);
  return NULL;
}

static gboolean
report_in_server (gpointer data)
{
  client_done (data);
  return G_SOURCE_REMOVE;
}

static void
echo_client_free (gpointer data)
{
  EchoClient *client = data;

  /* Disposing of a socket that is still connected aborts it. */
  g_signal_handlers_disconnect_by_data (client->socket, client);
  g_object_unref (client->socket);
  g_free (client);
}

/* Qt's deleteLater(), in the worker: not inside the socket's own signal. */
static gboolean
finish_client (gpointer data)
{
  EchoClient *client = data;
  Report *report = g_new (Report, 1);
  g_autoptr(GSource) source = g_idle_source_new ();

  *report = (Report) { client->worker->server, client->worker->index, client->serial, client->echoed };
  g_source_set_callback (source, report_in_server, report, g_free);
  g_source_set_static_name (source, "[threaded-echo-server] report");
  g_source_attach (source, client->worker->server_context);

  g_hash_table_remove (client->worker->clients, client);
  return G_SOURCE_REMOVE;
}

static void
on_ready_read (QSockTcp *socket,
               gpointer  user_data)
{
  EchoClient *client = user_data;
  g_autoptr(GBytes) data = qsock_iodevice_read_all (QSOCK_IODEVICE (socket));

  client->echoed += g_bytes_get_size (data);
  qsock_iodevice_write_bytes (QSOCK_IODEVICE (socket), data);
}

static void
on_disconnected (QSockTcp *socket,
                 gpointer  user_data)
{
  EchoClient *client = user_data;
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_callback (source, finish_client, client, NULL);
  g_source_set_static_name (source, "[threaded-echo-server] finish client");
  /* The worker's context: this handler runs in the worker thread. */
  g_source_attach (source, g_main_context_get_thread_default ());
}

static void
on_error_occurred (QSockTcp         *socket,
                   QSockSocketError  error,
                   gpointer          user_data)
{
  /* The client leaving first is how an echo session ends. */
  if (error != QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED)
    g_printerr ("threaded-echo-server: client: %s\n",
                qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
}

/* Runs in the worker thread: the socket is made under its context. */
static gboolean
start_client (gpointer data)
{
  Handoff *handoff = data;
  EchoClient *client = g_new0 (EchoClient, 1);

  client->worker = handoff->worker;
  client->serial = handoff->serial;
  client->socket = qsock_tcp_new ();
  g_hash_table_add (client->worker->clients, client);
  g_signal_connect (client->socket, "ready-read", G_CALLBACK (on_ready_read), client);
  g_signal_connect (client->socket, "disconnected", G_CALLBACK (on_disconnected), client);
  g_signal_connect (client->socket, "error-occurred", G_CALLBACK (on_error_occurred), client);

  if (!qsock_abstract_set_socket_descriptor (QSOCK_ABSTRACT (client->socket), handoff->fd,
                                             QSOCK_SOCKET_STATE_CONNECTED, QSOCK_OPEN_MODE_READ_WRITE))
    {
      g_printerr ("threaded-echo-server: worker %u: %s\n", client->worker->index,
                  qsock_iodevice_get_error_string (QSOCK_IODEVICE (client->socket)));
      g_hash_table_remove (client->worker->clients, client);
      return G_SOURCE_REMOVE;
    }
  /* The socket owns it now; bytes already waiting make it emit ready-read. */
  handoff->fd = -1;
  return G_SOURCE_REMOVE;
}

static void
handoff_free (gpointer data)
{
  Handoff *handoff = data;

  /* No socket adopted it (the worker was stopping, or adopting failed). */
  if (handoff->fd >= 0)
    close (handoff->fd);
  g_free (handoff);
}

/* ---- the server --------------------------------------------------------- */

#define THREADED_TYPE_ECHO_SERVER (threaded_echo_server_get_type ())
G_DECLARE_FINAL_TYPE (ThreadedEchoServer, threaded_echo_server, THREADED, ECHO_SERVER, QSockTcpServer)

struct _ThreadedEchoServer
{
  QSockTcpServer  parent_instance;

  Worker         *workers;
  guint           n_workers;
  guint           accepted;
  guint           finished;
  guint           count;     /* clients to serve before exiting; 0: no limit */
  GMainLoop      *loop;
};

G_DEFINE_FINAL_TYPE (ThreadedEchoServer, threaded_echo_server, QSOCK_TYPE_TCP_SERVER)

/* Qt's incomingConnection(): the descriptor goes to the next worker. */
static void
threaded_echo_server_incoming_connection (QSockTcpServer *server,
                                          int             fd)
{
  ThreadedEchoServer *self = THREADED_ECHO_SERVER (server);
  Handoff *handoff = g_new (Handoff, 1);
  g_autoptr(GSource) source = g_idle_source_new ();

  handoff->worker = &self->workers[self->accepted % self->n_workers];
  handoff->fd = fd;
  handoff->serial = ++self->accepted;
  g_source_set_callback (source, start_client, handoff, handoff_free);
  g_source_set_static_name (source, "[threaded-echo-server] hand off");
  g_source_attach (source, handoff->worker->context);
}

static void
client_done (Report *report)
{
  ThreadedEchoServer *self = report->server;

  g_print ("client %u served by worker %u: %" G_GUINT64_FORMAT " bytes echoed\n",
           report->serial, report->worker, report->echoed);
  fflush (stdout);
  self->finished++;
  if (self->count > 0 && self->finished >= self->count)
    g_main_loop_quit (self->loop);
}

static void
threaded_echo_server_start_workers (ThreadedEchoServer *self,
                                    guint               n_workers)
{
  self->n_workers = n_workers;
  self->workers = g_new0 (Worker, n_workers);
  for (guint i = 0; i < n_workers; i++)
    {
      Worker *worker = &self->workers[i];
      g_autofree char *name = g_strdup_printf ("echo-worker-%u", i + 1);

      worker->index = i + 1;
      worker->context = g_main_context_new ();
      worker->loop = g_main_loop_new (worker->context, FALSE);
      worker->clients = g_hash_table_new_full (NULL, NULL, echo_client_free, NULL);
      worker->server_context = g_main_context_ref_thread_default ();
      worker->server = self;
      worker->thread = g_thread_new (name, worker_main, worker);
    }
}

/* In the worker: clients still connected are aborted, in their thread. */
static gboolean
quit_worker (gpointer data)
{
  Worker *worker = data;

  g_hash_table_remove_all (worker->clients);
  g_main_loop_quit (worker->loop);
  return G_SOURCE_REMOVE;
}

static void
threaded_echo_server_stop_workers (ThreadedEchoServer *self)
{
  for (guint i = 0; i < self->n_workers; i++)
    {
      Worker *worker = &self->workers[i];
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_callback (source, quit_worker, worker, NULL);
      g_source_attach (source, worker->context);
      g_thread_join (worker->thread);
      g_hash_table_unref (worker->clients);
      g_main_loop_unref (worker->loop);
      g_main_context_unref (worker->context);
      g_main_context_unref (worker->server_context);
    }
  g_clear_pointer (&self->workers, g_free);
  self->n_workers = 0;
}

static void
threaded_echo_server_class_init (ThreadedEchoServerClass *klass)
{
  QSockTcpServerClass *server_class = QSOCK_TCP_SERVER_CLASS (klass);

  server_class->incoming_connection = threaded_echo_server_incoming_connection;
}

static void
threaded_echo_server_init (ThreadedEchoServer *self)
{
}

/* ---- main --------------------------------------------------------------- */

static gboolean
on_quit_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static char *
format_endpoint (GInetAddress *address,
                 guint16       port)
{
  g_autofree char *text = g_inet_address_to_string (address);

  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", text, port);
  return g_strdup_printf ("%s:%u", text, port);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *address_text = NULL;
  int port = 0;
  int n_workers = 4;
  int count = 0;
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address_text,
      "Listen on ADDR (an IP address; default: any)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "Listen on PORT (default 0: any free port, printed on stdout)", "PORT" },
    { "workers", 'w', 0, G_OPTION_ARG_INT, &n_workers,
      "Run N worker threads (default 4)", "N" },
    { "count", 'c', 0, G_OPTION_ARG_INT, &count,
      "Exit after N clients have left (default 0: serve until interrupted)", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GInetAddress) bound = NULL;
  g_autoptr(ThreadedEchoServer) server = NULL;
  g_autofree char *endpoint = NULL;
  int exit_status = EXIT_SUCCESS;

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "A TCP echo server on qsock-glib whose clients are served by worker threads,\n"
    "each running its own GMainContext. Prints “listening on ADDR:PORT” once it\n"
    "listens, and a line for every client that leaves.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("threaded-echo-server: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("threaded-echo-server: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (port < 0 || port > G_MAXUINT16 || n_workers < 1 || n_workers > 256 || count < 0)
    {
      g_printerr ("threaded-echo-server: --port must be 0–65535, --workers 1–256, "
                  "--count not negative\n");
      return EXIT_USAGE;
    }

  if (address_text != NULL)
    address = g_inet_address_new_from_string (address_text);
  else
    address = qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_ANY);
  if (address == NULL)
    {
      g_printerr ("threaded-echo-server: “%s” is not an IP address\n", address_text);
      return EXIT_USAGE;
    }

  /* A client that vanishes must show up as a socket error, not kill us. */
  signal (SIGPIPE, SIG_IGN);

  server = g_object_new (THREADED_TYPE_ECHO_SERVER, NULL);
  server->count = (guint) count;
  server->loop = g_main_loop_new (NULL, FALSE);

  if (qsock_tcp_server_listen (QSOCK_TCP_SERVER (server), address, (guint16) port))
    {
      threaded_echo_server_start_workers (server, (guint) n_workers);

      bound = qsock_tcp_server_get_server_address (QSOCK_TCP_SERVER (server));
      endpoint = format_endpoint (bound, qsock_tcp_server_get_server_port (QSOCK_TCP_SERVER (server)));
      g_print ("listening on %s\n", endpoint);
      fflush (stdout);

      g_unix_signal_add (SIGINT, on_quit_signal, server->loop);
      g_unix_signal_add (SIGTERM, on_quit_signal, server->loop);
      g_main_loop_run (server->loop);

      qsock_tcp_server_close (QSOCK_TCP_SERVER (server));
      threaded_echo_server_stop_workers (server);
    }
  else
    {
      g_printerr ("threaded-echo-server: Unable to start the server: %s.\n",
                  qsock_tcp_server_get_error_string (QSOCK_TCP_SERVER (server)));
      exit_status = EXIT_FAILURE;
    }

  g_main_loop_unref (server->loop);
  return exit_status;
}
