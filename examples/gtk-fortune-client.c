/* gtk-fortune-client.c: Qt's Fortune Client example as a GTK 4 window
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   gtk-fortune-client [--host HOST] [--port PORT] [--fetch-on-start]
 *                      [--quit-after-fetch] [--verbose]
 *
 * A window with the server's host and port, a "Get Fortune" button and a
 * label, like Qt's Fortune Client dialog. The fetch never blocks the main
 * loop: qsock_abstract_connect_to_host_async() connects, then
 * qsock_iodevice_read_exactly_async() reads the QDataStream QString (a
 * big-endian 32-bit byte count, then UTF-16BE) that Qt's fortune server —
 * or ours — sends; a spinner turns meanwhile. Closing the window cancels a
 * fetch in flight. As in Qt's client, a fortune equal to the one shown is
 * fetched again.
 *
 * Each fortune is also printed on stdout. --fetch-on-start presses the
 * button once the window is shown; --quit-after-fetch closes the window when
 * the first fetch ends (exit status 0 with a fortune, 1 without);
 * --verbose tells on stderr how many frames the window drew during each
 * fetch.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include <gtk/gtk.h>
#include <qsock-glib/qsock.h>

#define EXIT_USAGE 2
#define NULL_QSTRING 0xffffffffu
#define MAX_FORTUNE_BYTES (1024 * 1024)

typedef struct {
  GtkApplication *app;
  GtkWidget      *window;
  GtkWidget      *host_entry;
  GtkWidget      *port_spin;
  GtkWidget      *button;
  GtkWidget      *spinner;
  GtkWidget      *status_label;

  QSockTcp       *socket;         /* the fetch in flight, or NULL */
  GCancellable   *cancellable;
  char           *current_fortune;
  guint           frames;         /* drawn during the fetch in flight */
  guint           tick_id;

  const char     *host;
  int             port;
  gboolean        fetch_on_start;
  gboolean        quit_after_fetch;
  gboolean        verbose;
  int             exit_status;
} FortuneClient;

static void get_fortune (FortuneClient *client);

/* The window may be gone while a cancelled fetch winds down. */
static void
set_status (FortuneClient *client,
            const char    *text)
{
  if (client->window != NULL)
    gtk_label_set_text (GTK_LABEL (client->status_label), text);
}

static gboolean
count_frame (GtkWidget     *widget,
             GdkFrameClock *frame_clock,
             gpointer       user_data)
{
  FortuneClient *client = user_data;

  client->frames++;
  return G_SOURCE_CONTINUE;
}

static void
set_busy (FortuneClient *client,
          gboolean       busy)
{
  if (client->window == NULL)
    return;
  gtk_widget_set_sensitive (client->button, !busy);
  gtk_widget_set_sensitive (client->host_entry, !busy);
  gtk_widget_set_sensitive (client->port_spin, !busy);
  gtk_spinner_set_spinning (GTK_SPINNER (client->spinner), busy);

  if (busy)
    {
      client->frames = 0;
      client->tick_id = gtk_widget_add_tick_callback (client->spinner, count_frame, client, NULL);
    }
  else if (client->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (client->spinner, client->tick_id);
      client->tick_id = 0;
    }
}

/* Ends the fetch in flight: with a fortune, or with a message for a
 * failure (@fortune NULL). */
static void
end_fetch (FortuneClient *client,
           const char    *fortune,
           const char    *message)
{
  if (client->verbose)
    g_printerr ("gtk-fortune-client: %u frames drawn during the fetch\n", client->frames);

  set_busy (client, FALSE);
  if (client->socket != NULL)
    qsock_abstract_abort (QSOCK_ABSTRACT (client->socket));
  g_clear_object (&client->socket);
  g_clear_object (&client->cancellable);
  if (client->window == NULL)
    return;

  if (fortune != NULL)
    {
      g_free (client->current_fortune);
      client->current_fortune = g_strdup (fortune);
      set_status (client, fortune);
      g_print ("%s\n", fortune);
      fflush (stdout);
    }
  else
    {
      set_status (client, message);
      g_printerr ("gtk-fortune-client: %s\n", message);
    }

  if (client->quit_after_fetch)
    {
      client->exit_status = fortune != NULL ? EXIT_SUCCESS : EXIT_FAILURE;
      gtk_window_destroy (GTK_WINDOW (client->window));
    }
}

/* Qt's displayError(), for the GError form of the same codes. */
static void
end_fetch_with_error (FortuneClient *client,
                      const GError  *error)
{
  g_autofree char *message = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    message = g_strdup ("The fetch was cancelled.");
  else if (g_error_matches (error, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_HOST_NOT_FOUND))
    message = g_strdup ("The host was not found. Please check the host name and port settings.");
  else if (g_error_matches (error, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_CONNECTION_REFUSED))
    message = g_strdup ("The connection was refused by the peer. Make sure the fortune server "
                        "is running, and check that the host name and port settings are correct.");
  else if (g_error_matches (error, QSOCK_SOCKET_ERROR, QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED))
    message = g_strdup ("The server closed the connection before a whole fortune arrived.");
  else
    message = g_strdup_printf ("The following error occurred: %s.", error->message);
  end_fetch (client, NULL, message);
}

/* UTF-16BE to UTF-8; NULL if it is not valid UTF-16. */
static char *
decode_utf16be (GBytes *bytes)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_autofree gunichar2 *units = g_new (gunichar2, size / 2 + 1);

  for (gsize i = 0; i < size / 2; i++)
    units[i] = (gunichar2) (data[2 * i] << 8 | data[2 * i + 1]);
  return g_utf16_to_utf8 (units, (glong) (size / 2), NULL, NULL, NULL);
}

static void
show_fortune (FortuneClient *client,
              const char    *fortune)
{
  /* Qt's client asks again rather than show the same fortune twice. */
  if (client->window != NULL && g_strcmp0 (fortune, client->current_fortune) == 0)
    {
      set_busy (client, FALSE);
      g_clear_object (&client->socket);
      g_clear_object (&client->cancellable);
      get_fortune (client);
      return;
    }
  end_fetch (client, fortune, NULL);
}

static void
on_text_read (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  FortuneClient *client = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) text = qsock_iodevice_read_exactly_finish (QSOCK_IODEVICE (source), result, &error);
  g_autofree char *fortune = NULL;

  if (text == NULL)
    {
      end_fetch_with_error (client, error);
      return;
    }
  fortune = decode_utf16be (text);
  if (fortune == NULL)
    {
      end_fetch (client, NULL, "The server sent something that is not a fortune.");
      return;
    }
  show_fortune (client, fortune);
}

static void
on_length_read (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  FortuneClient *client = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) header = qsock_iodevice_read_exactly_finish (QSOCK_IODEVICE (source), result, &error);
  const guint8 *bytes;
  guint32 length;

  if (header == NULL)
    {
      end_fetch_with_error (client, error);
      return;
    }
  bytes = g_bytes_get_data (header, NULL);
  length = (guint32) bytes[0] << 24 | (guint32) bytes[1] << 16 | (guint32) bytes[2] << 8 | bytes[3];

  if (length == NULL_QSTRING || length == 0)
    {
      show_fortune (client, "");
      return;
    }
  if (length % 2 != 0 || length > MAX_FORTUNE_BYTES)
    {
      end_fetch (client, NULL, "The server sent something that is not a fortune.");
      return;
    }
  set_status (client, "Reading the fortune…");
  qsock_iodevice_read_exactly_async (QSOCK_IODEVICE (source), length, client->cancellable,
                                     on_text_read, client);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  FortuneClient *client = user_data;
  g_autoptr(GError) error = NULL;

  if (!qsock_abstract_connect_to_host_finish (QSOCK_ABSTRACT (source), result, &error))
    {
      end_fetch_with_error (client, error);
      return;
    }
  set_status (client, "Waiting for the fortune…");
  qsock_iodevice_read_exactly_async (QSOCK_IODEVICE (source), 4, client->cancellable,
                                     on_length_read, client);
}

/* Qt's requestNewFortune(). */
static void
get_fortune (FortuneClient *client)
{
  const char *host = gtk_editable_get_text (GTK_EDITABLE (client->host_entry));
  guint16 port = (guint16) gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (client->port_spin));
  g_autofree char *status = g_strdup_printf ("Connecting to %s port %u…", host, port);

  if (client->socket != NULL)
    return;

  set_busy (client, TRUE);
  set_status (client, status);
  client->cancellable = g_cancellable_new ();
  client->socket = qsock_tcp_new ();
  qsock_abstract_connect_to_host_async (QSOCK_ABSTRACT (client->socket), host, port,
                                        QSOCK_OPEN_MODE_READ_ONLY, QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP,
                                        client->cancellable, on_connected, client);
}

static void
on_button_clicked (GtkButton *button,
                   gpointer   user_data)
{
  get_fortune (user_data);
}

static void
on_host_changed (GtkEditable *editable,
                 gpointer     user_data)
{
  FortuneClient *client = user_data;

  gtk_widget_set_sensitive (client->button, client->socket == NULL &&
                            *gtk_editable_get_text (editable) != '\0');
}

/* Closing the window cancels a fetch in flight; its callback may still
 * run, and then only releases the socket. */
static void
on_window_destroy (GtkWidget *window,
                   gpointer   user_data)
{
  FortuneClient *client = user_data;

  client->window = NULL;
  if (client->quit_after_fetch && client->socket != NULL)
    client->exit_status = EXIT_FAILURE;
  if (client->tick_id != 0)
    gtk_widget_remove_tick_callback (client->spinner, client->tick_id);
  client->tick_id = 0;
  if (client->cancellable != NULL)
    g_cancellable_cancel (client->cancellable);
}

static gboolean
fetch_on_start (gpointer user_data)
{
  get_fortune (user_data);
  return G_SOURCE_REMOVE;
}

static GtkWidget *
labelled (const char *text,
          GtkWidget  *mnemonic_widget)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (text);

  gtk_label_set_mnemonic_widget (GTK_LABEL (label), mnemonic_widget);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  return label;
}

static void
on_activate (GtkApplication *app,
             gpointer        user_data)
{
  FortuneClient *client = user_data;
  GtkWidget *grid = gtk_grid_new ();

  client->window = gtk_application_window_new (app);
  gtk_window_set_title (GTK_WINDOW (client->window), "Fortune Client");
  gtk_window_set_default_size (GTK_WINDOW (client->window), 420, -1);
  g_signal_connect (client->window, "destroy", G_CALLBACK (on_window_destroy), client);

  client->host_entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (client->host_entry), client->host);
  gtk_widget_set_hexpand (client->host_entry, TRUE);
  client->port_spin = gtk_spin_button_new_with_range (1, G_MAXUINT16, 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (client->port_spin), client->port);
  client->button = gtk_button_new_with_mnemonic ("_Get Fortune");
  gtk_widget_set_sensitive (client->button, *client->host != '\0');
  client->spinner = gtk_spinner_new ();
  client->status_label = gtk_label_new ("This example requires that you run the Fortune Server example as well.");
  gtk_label_set_wrap (GTK_LABEL (client->status_label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (client->status_label), TRUE);
  gtk_label_set_width_chars (GTK_LABEL (client->status_label), 40);

  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_widget_set_margin_top (grid, 12);
  gtk_widget_set_margin_bottom (grid, 12);
  gtk_widget_set_margin_start (grid, 12);
  gtk_widget_set_margin_end (grid, 12);
  gtk_grid_attach (GTK_GRID (grid), labelled ("Server _name:", client->host_entry), 0, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), client->host_entry, 1, 0, 2, 1);
  gtk_grid_attach (GTK_GRID (grid), labelled ("S_erver port:", client->port_spin), 0, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), client->port_spin, 1, 1, 2, 1);
  gtk_grid_attach (GTK_GRID (grid), client->status_label, 0, 2, 3, 1);
  gtk_grid_attach (GTK_GRID (grid), client->spinner, 1, 3, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), client->button, 2, 3, 1, 1);
  gtk_window_set_child (GTK_WINDOW (client->window), grid);

  g_signal_connect (client->button, "clicked", G_CALLBACK (on_button_clicked), client);
  g_signal_connect (client->host_entry, "changed", G_CALLBACK (on_host_changed), client);
  gtk_window_set_default_widget (GTK_WINDOW (client->window), client->button);
  gtk_window_present (GTK_WINDOW (client->window));

  if (client->fetch_on_start)
    g_idle_add (fetch_on_start, client);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *host = NULL;
  int port = 0;
  gboolean fetch = FALSE;
  gboolean quit = FALSE;
  gboolean verbose = FALSE;
  const GOptionEntry entries[] = {
    { "host", 'H', 0, G_OPTION_ARG_STRING, &host,
      "Fill in the server's host name (default “localhost”)", "HOST" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Fill in the server's port", "PORT" },
    { "fetch-on-start", 0, 0, G_OPTION_ARG_NONE, &fetch,
      "Get a fortune as soon as the window is shown", NULL },
    { "quit-after-fetch", 0, 0, G_OPTION_ARG_NONE, &quit,
      "Close the window when the first fetch ends (exit 0 with a fortune, 1 without)", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      "Tell on stderr how many frames were drawn during each fetch", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  FortuneClient client = { 0 };
  char *app_argv[] = { argv[0], NULL };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Qt's Fortune Client as a GTK 4 window on qsock-glib: gets a fortune from a\n"
    "fortune server (ours or Qt's) without ever blocking the window.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("gtk-fortune-client: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }
  if (argc != 1)
    {
      g_printerr ("gtk-fortune-client: unexpected argument “%s”\n", argv[1]);
      return EXIT_USAGE;
    }
  if (port < 0 || port > G_MAXUINT16)
    {
      g_printerr ("gtk-fortune-client: port %d is not between 1 and 65535\n", port);
      return EXIT_USAGE;
    }
  if ((fetch || quit) && port == 0)
    {
      g_printerr ("gtk-fortune-client: --fetch-on-start and --quit-after-fetch need --port\n");
      return EXIT_USAGE;
    }

  client.host = host != NULL ? host : "localhost";
  client.port = port;
  client.fetch_on_start = fetch;
  client.quit_after_fetch = quit;
  client.verbose = verbose;
  client.exit_status = EXIT_SUCCESS;
  client.app = gtk_application_new ("org.gnome.QSock.GtkFortuneClient", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (client.app, "activate", G_CALLBACK (on_activate), &client);

  /* The options are parsed above; GApplication gets none of them. */
  if (g_application_run (G_APPLICATION (client.app), 1, app_argv) != 0)
    client.exit_status = EXIT_FAILURE;

  /* A fetch cancelled by closing the window may not have wound down. */
  if (client.socket != NULL)
    qsock_abstract_abort (QSOCK_ABSTRACT (client.socket));
  g_clear_object (&client.socket);
  g_clear_object (&client.cancellable);
  g_object_unref (client.app);
  g_free (client.current_fortune);
  return client.exit_status;
}
