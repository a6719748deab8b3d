/* blocking-fortune-client.c: Qt's Blocking Fortune Client example on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   blocking-fortune-client [--host HOST] --port PORT [--count N] [--timeout MS]
 *
 * The network work happens in a worker thread that only ever blocks in
 * the wait_for_* calls: it runs no main loop. The main thread runs one,
 * asks the worker for fortunes and prints what comes back, as the Qt
 * example's dialog does with its FortuneThread.
 *
 * The worker pushes a main context of its own before making its socket.
 * It never iterates that context, but the socket must not belong to the
 * main thread's: there the main loop would handle the socket's events
 * concurrently with the worker's waits.
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <qsock-glib/qsock.h>

#include "fortune-datastream.h"

#define EXIT_USAGE 2

/* Qt's FortuneThread: the main thread queues requests, the worker
 * answers each with a fortune or an error. */
typedef struct {
  GThread      *thread;
  GMutex        mutex;
  GCond         cond;
  char         *host;
  guint16       port;
  int           timeout_ms;
  int           requests;       /* under mutex */
  gboolean      quit;           /* under mutex */
  GMainContext *reply_context;  /* where the answers are delivered */
  GSourceFunc   deliver;
  gpointer      deliver_data;
} FortuneThread;

typedef struct {
  gpointer  deliver_data;
  char     *fortune;            /* or */
  char     *error;
} FortuneReply;

static void
fortune_reply_free (gpointer data)
{
  FortuneReply *reply = data;

  g_free (reply->fortune);
  g_free (reply->error);
  g_free (reply);
}

/* Qt's `emit newFortune (fortune)` / `emit error (…)`: a queued call into
 * the thread that owns the dialog. */
static void
fortune_thread_reply (FortuneThread *thread,
                      char          *fortune,
                      char          *error)
{
  FortuneReply *reply = g_new0 (FortuneReply, 1);

  reply->deliver_data = thread->deliver_data;
  reply->fortune = fortune;
  reply->error = error;
  g_main_context_invoke_full (thread->reply_context, G_PRIORITY_DEFAULT,
                              thread->deliver, reply, fortune_reply_free);
}

static char *
describe_error (QSockTcp *socket)
{
  return g_strdup (qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
}

/* One connection, one fortune, nothing but blocking calls: Qt's
 * FortuneThread::run() loop body. Returns the fortune, or NULL with
 * @error set to a message. */
static char *
fetch_fortune (const char  *host,
               guint16      port,
               int          timeout_ms,
               char       **error)
{
  g_autoptr(QSockTcp) socket = qsock_tcp_new ();
  QSockIODevice *device = QSOCK_IODEVICE (socket);
  char *fortune = NULL;
  FortuneReadStatus status;

  qsock_abstract_connect_to_host (QSOCK_ABSTRACT (socket), host, port,
                                  QSOCK_OPEN_MODE_READ_WRITE,
                                  QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP);
  if (!qsock_abstract_wait_for_connected (QSOCK_ABSTRACT (socket), timeout_ms))
    {
      *error = describe_error (socket);
      return NULL;
    }

  do
    {
      if (!qsock_iodevice_wait_for_ready_read (device, timeout_ms))
        {
          *error = describe_error (socket);
          return NULL;
        }

      qsock_iodevice_start_transaction (device);
      status = fortune_datastream_read_string (device, &fortune);
      if (status == FORTUNE_READ_SHORT)
        qsock_iodevice_rollback_transaction (device);
      else
        qsock_iodevice_commit_transaction (device);
    }
  while (status == FORTUNE_READ_SHORT);

  if (status == FORTUNE_READ_CORRUPT)
    {
      *error = g_strdup ("the server sent something that is not a QString");
      return NULL;
    }
  return fortune;
}

static gpointer
fortune_thread_run (gpointer data)
{
  FortuneThread *thread = data;
  GMainContext *context = g_main_context_new ();

  /* Never iterated: the waits below poll the socket themselves. */
  g_main_context_push_thread_default (context);

  for (;;)
    {
      char *fortune;
      char *error = NULL;

      g_mutex_lock (&thread->mutex);
      while (thread->requests == 0 && !thread->quit)
        g_cond_wait (&thread->cond, &thread->mutex);
      if (thread->quit)
        {
          g_mutex_unlock (&thread->mutex);
          break;
        }
      thread->requests--;
      g_mutex_unlock (&thread->mutex);

      fortune = fetch_fortune (thread->host, thread->port, thread->timeout_ms, &error);
      fortune_thread_reply (thread, fortune, error);
    }

  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
fortune_thread_start (FortuneThread *thread)
{
  thread->thread = g_thread_new ("fortune", fortune_thread_run, thread);
}

/* Qt's FortuneThread::requestNewFortune(). */
static void
fortune_thread_request (FortuneThread *thread)
{
  g_mutex_lock (&thread->mutex);
  thread->requests++;
  g_cond_signal (&thread->cond);
  g_mutex_unlock (&thread->mutex);
}

static void
fortune_thread_stop (FortuneThread *thread)
{
  g_mutex_lock (&thread->mutex);
  thread->quit = TRUE;
  g_cond_signal (&thread->cond);
  g_mutex_unlock (&thread->mutex);
  g_thread_join (thread->thread);
}

/* The main thread's side, Qt's BlockingClient dialog. */
typedef struct {
  GMainLoop     *loop;
  FortuneThread *thread;
  int            wanted;
  int            fetched;
  int            exit_status;
} BlockingClient;

static gboolean
on_reply (gpointer data)
{
  FortuneReply *reply = data;
  BlockingClient *client = reply->deliver_data;

  if (reply->error != NULL)
    {
      g_printerr ("blocking-fortune-client: The following error occurred: %s.\n", reply->error);
      client->exit_status = EXIT_FAILURE;
      g_main_loop_quit (client->loop);
      return G_SOURCE_REMOVE;
    }

  g_print ("%s\n", reply->fortune);
  fflush (stdout);
  if (++client->fetched < client->wanted)
    fortune_thread_request (client->thread);
  else
    g_main_loop_quit (client->loop);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *host = NULL;
  int port = 0;
  int count = 1;
  int timeout_ms = 5000;
  const GOptionEntry entries[] = {
    { "host", 'H', 0, G_OPTION_ARG_STRING, &host,
      "The server's host name or address (default localhost)", "HOST" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "The server's port (required)", "PORT" },
    { "count", 'c', 0, G_OPTION_ARG_INT, &count,
      "Fetch N fortunes, one connection each (default 1)", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_ms,
      "Timeout of each wait in milliseconds (default 5000, as Qt's; -1: none)", "MS" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  FortuneThread thread = { 0 };
  BlockingClient client = { 0 };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Qt's Blocking Fortune Client on qsock-glib: a worker thread fetches\n"
    "fortunes with blocking wait_for_* calls only; the main thread prints them.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("blocking-fortune-client: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("blocking-fortune-client: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (port < 1 || port > G_MAXUINT16)
    {
      g_printerr ("blocking-fortune-client: --port must be between 1 and 65535\n");
      return EXIT_USAGE;
    }
  if (count < 1)
    {
      g_printerr ("blocking-fortune-client: --count must be at least 1\n");
      return EXIT_USAGE;
    }

  signal (SIGPIPE, SIG_IGN);

  client.loop = g_main_loop_new (NULL, FALSE);
  client.thread = &thread;
  client.wanted = count;

  g_mutex_init (&thread.mutex);
  g_cond_init (&thread.cond);
  thread.host = host != NULL ? host : (char *) "localhost";
  thread.port = (guint16) port;
  thread.timeout_ms = timeout_ms;
  thread.reply_context = g_main_context_default ();
  thread.deliver = on_reply;
  thread.deliver_data = &client;

  fortune_thread_start (&thread);
  fortune_thread_request (&thread);
  g_main_loop_run (client.loop);
  fortune_thread_stop (&thread);

  g_mutex_clear (&thread.mutex);
  g_cond_clear (&thread.cond);
  g_main_loop_unref (client.loop);
  return client.exit_status;
}
