/* qsock-cat.c: a small netcat built on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   qsock-cat tcp://HOST:PORT            connect stdin and stdout to a TCP peer
 *   qsock-cat --listen tcp://ADDR:PORT   wait for one client, serve it, exit
 *   qsock-cat udp://HOST:PORT            each stdin line is one datagram to
 *                                        HOST:PORT; datagrams back go to stdout
 *   qsock-cat --listen udp://ADDR:PORT   print each datagram received; stdin
 *                                        lines are replies to the last sender
 *   qsock-cat local:NAME                 connect stdin and stdout to a local
 *                                        (Unix domain) server; local:@NAME is
 *                                        in Linux's abstract namespace
 *   qsock-cat --listen local:NAME        wait for one local client, serve it,
 *                                        exit (--user-only: mode 0700)
 *
 * It shows the Qt-style flow of the library: a QSockTcp (QTcpSocket) or a
 * QSockTcpServer (QTcpServer), the ready-read / bytes-written / connected /
 * disconnected / error-occurred signals, and Qt's write model, where
 * qsock_iodevice_write() only queues bytes and
 * qsock_abstract_disconnect_from_host() still sends everything queued
 * before it closes. For UDP, a QSockUdp (QUdpSocket): connected to the peer
 * and written with qsock_iodevice_write(), one datagram per call, or bound
 * and read with qsock_udp_receive_datagram(), answering with
 * qsock_datagram_make_reply() (QNetworkDatagram::makeReply()). As in Qt,
 * ready-read comes once until a datagram is read, so every handler reads
 * all pending datagrams. For local:, a QSockLocal (QLocalSocket), whose
 * connect is synchronous as in Qt, or a QSockLocalServer (QLocalServer).
 *
 * Exit status: 0 when the connection ended normally (for udp://, at the end
 * of stdin), 1 on a socket error, 2 on a usage error, 128 + N when killed by
 * SIGINT or SIGTERM (the usual end of --listen udp://).
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <qsock-glib/qsock.h>

#define EXIT_USAGE 2

/* Bytes taken from stdin per wakeup. */
#define STDIN_CHUNK (64 * 1024)

/* A stdin line becomes one datagram. A longer "line" than this is not
 * held in memory: it is sent as it is and fails, as any line above the
 * 65507 bytes (65527 over IPv6) UDP can carry does, with Qt's
 * DatagramTooLargeError. */
#define MAX_LINE (1024 * 1024)

/* The largest datagram payload there is (IPv6, 65535 - 8), plus room. */
#define DATAGRAM_BUFFER 65536

/* Stop reading stdin while this much waits in the socket's write buffer
 * (Qt's write buffer has no limit), and start again below half of it, so a
 * fast producer and a slow peer do not fill memory. */
#define MAX_QUEUED (1024 * 1024)

typedef struct {
  GMainLoop      *loop;
  QSockTcpServer *server;         /* --listen only */
  QSockTcp       *socket;
  guint           stdin_source;
  gboolean        stdin_paused;   /* by MAX_QUEUED, not by EOF */
  int             stdin_flags;    /* restored on exit */
  gboolean        verbose;
  int             exit_status;
  gboolean        finished;

  /* udp:// */
  QSockUdp       *udp;
  gboolean        udp_listening;  /* --listen: bound, replies to `last` */
  QSockDatagram  *last;           /* --listen: the last datagram received */
  GByteArray     *line;           /* stdin not yet sent: at most a partial line */
  gboolean        stdin_eof;
  guint           retry_source;   /* sending again after TemporaryError */
  char           *datagram;       /* DATAGRAM_BUFFER bytes, reused */
} Cat;

static void
finish (Cat *cat,
        int  status)
{
  if (cat->finished)
    return;

  cat->finished = TRUE;
  cat->exit_status = status;
  g_main_loop_quit (cat->loop);
}

/* The enum classes are referenced once and kept for the life of the
 * process, so the names they hand out stay valid. */
static GEnumValue *
enum_value (GType type,
            int   value)
{
  GEnumClass *klass = g_type_class_peek (type);

  if (klass == NULL)
    klass = g_type_class_ref (type);
  return g_enum_get_value (klass, value);
}

static const char *
enum_value_name (GType type,
                 int   value)
{
  GEnumValue *ev = enum_value (type, value);

  return ev != NULL ? ev->value_name : "?";
}

static const char *
enum_value_nick (GType type,
                 int   value)
{
  GEnumValue *ev = enum_value (type, value);

  return ev != NULL ? ev->value_nick : "?";
}

static void
print_socket_error (QSockSocketError  code,
                    const char       *text)
{
  g_printerr ("qsock-cat: %s (QSockSocketError %s = %d)\n",
              text, enum_value_name (QSOCK_TYPE_SOCKET_ERROR, code), (int) code);
}

static void
print_note (Cat        *cat,
            const char *format,
            ...) G_GNUC_PRINTF (2, 3);

static void
print_note (Cat        *cat,
            const char *format,
            ...)
{
  g_autofree char *text = NULL;
  va_list args;

  if (!cat->verbose)
    return;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("qsock-cat: %s\n", text);
}

/* "127.0.0.1:80" or "[::1]:80", the form the URI takes. */
static char *
format_endpoint (GInetAddress *address,
                 guint16       port)
{
  g_autofree char *text = NULL;

  if (address == NULL)
    return g_strdup_printf ("?:%u", port);

  text = g_inet_address_to_string (address);
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", text, port);
  return g_strdup_printf ("%s:%u", text, port);
}

static char *
format_peer (QSockAbstract *socket)
{
  g_autoptr(GInetAddress) address = qsock_abstract_get_peer_address (socket);

  return format_endpoint (address, qsock_abstract_get_peer_port (socket));
}

static gboolean
write_all_stdout (const char *data,
                  gsize       size)
{
  while (size > 0)
    {
      ssize_t n = write (STDOUT_FILENO, data, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;

          g_printerr ("qsock-cat: cannot write to stdout: %s\n", g_strerror (errsv));
          return FALSE;
        }
      data += n;
      size -= (gsize) n;
    }

  return TRUE;
}

/* Moves everything the socket has buffered to stdout. Unread data stays
 * readable after `disconnected`, as in Qt, so this also runs at the end. */
static void
drain_socket (Cat *cat)
{
  char buffer[STDIN_CHUNK];
  gint64 n;

  if (cat->socket == NULL)
    return;

  while ((n = qsock_iodevice_read (QSOCK_IODEVICE (cat->socket), buffer, sizeof buffer)) > 0)
    {
      if (!write_all_stdout (buffer, (gsize) n))
        {
          qsock_abstract_abort (QSOCK_ABSTRACT (cat->socket));
          finish (cat, EXIT_FAILURE);
          return;
        }
    }
}

static gboolean on_stdin_readable (int fd, GIOCondition condition, gpointer user_data);

static void
watch_stdin (Cat *cat)
{
  if (cat->stdin_source != 0)
    return;

  cat->stdin_paused = FALSE;
  cat->stdin_source = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                     on_stdin_readable, cat);
}

static gboolean
on_stdin_readable (int          fd,
                   GIOCondition condition,
                   gpointer     user_data)
{
  Cat *cat = user_data;
  QSockIODevice *device = QSOCK_IODEVICE (cat->socket);
  char buffer[STDIN_CHUNK];
  ssize_t n;

  n = read (fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;

  if (n < 0)
    {
      int errsv = errno;

      g_printerr ("qsock-cat: cannot read stdin: %s\n", g_strerror (errsv));
      cat->stdin_source = 0;
      qsock_abstract_abort (QSOCK_ABSTRACT (cat->socket));
      finish (cat, EXIT_FAILURE);
      return G_SOURCE_REMOVE;
    }

  if (n == 0)
    {
      /* As netcat: end of input shuts our sending side down after what is
       * queued (half-close), and the peer's reply still comes back; the
       * connection closes once the peer has ended too, and the exit comes
       * with `disconnected`. */
      print_note (cat, "end of input, shutting down sending (%" G_GINT64_FORMAT " bytes still queued)",
                  qsock_iodevice_bytes_to_write (device));
      cat->stdin_source = 0;
      cat->stdin_eof = TRUE;
      qsock_abstract_shutdown_write (QSOCK_ABSTRACT (cat->socket));
      return G_SOURCE_REMOVE;
    }

  if (qsock_iodevice_write (device, buffer, n) != n)
    {
      print_socket_error (qsock_abstract_get_error (QSOCK_ABSTRACT (cat->socket)),
                          qsock_iodevice_get_error_string (device));
      cat->stdin_source = 0;
      finish (cat, EXIT_FAILURE);
      return G_SOURCE_REMOVE;
    }

  if (qsock_iodevice_bytes_to_write (device) > MAX_QUEUED)
    {
      cat->stdin_source = 0;
      cat->stdin_paused = TRUE;
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
on_bytes_written (QSockIODevice *device,
                  gint64         bytes,
                  gpointer       user_data)
{
  Cat *cat = user_data;

  if (cat->stdin_paused && qsock_iodevice_bytes_to_write (device) <= MAX_QUEUED / 2)
    watch_stdin (cat);
}

static void
on_ready_read (QSockIODevice *device,
               gpointer       user_data)
{
  drain_socket (user_data);
}

static void
on_state_changed (QSockAbstract    *socket,
                  QSockSocketState  state,
                  gpointer          user_data)
{
  print_note (user_data, "state: %s", enum_value_nick (QSOCK_TYPE_SOCKET_STATE, state));
}

static void
on_connected (QSockAbstract *socket,
              gpointer       user_data)
{
  Cat *cat = user_data;
  g_autofree char *peer = format_peer (socket);

  print_note (cat, "connected to %s (%s)", qsock_abstract_get_peer_name (socket), peer);
  watch_stdin (cat);
}

/* With half-close on, the peer's end of input arrives alone. If ours has
 * ended too the socket is closing by itself; otherwise the peer is done
 * talking: send what is queued and close, as netcat does when the remote
 * side finishes first. */
static void
on_read_channel_finished (QSockIODevice *device,
                          gpointer       user_data)
{
  Cat *cat = user_data;

  drain_socket (cat);
  if (cat->stdin_eof)
    return;
  print_note (cat, "end of the peer's input, disconnecting");
  if (cat->stdin_source != 0)
    {
      g_source_remove (cat->stdin_source);
      cat->stdin_source = 0;
    }
  qsock_abstract_disconnect_from_host (QSOCK_ABSTRACT (cat->socket));
}

static void
on_disconnected (QSockAbstract *socket,
                 gpointer       user_data)
{
  Cat *cat = user_data;

  print_note (cat, "disconnected");
  drain_socket (cat);
  finish (cat, EXIT_SUCCESS);
}

static void
on_error_occurred (QSockAbstract    *socket,
                   QSockSocketError  error,
                   gpointer          user_data)
{
  Cat *cat = user_data;

  /* The peer closing its end is how a conversation normally ends: Qt
   * reports it as an error, but `disconnected` follows and we exit 0. */
  if (error == QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED)
    {
      print_note (cat, "%s", qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
      return;
    }

  drain_socket (cat);
  print_socket_error (error, qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
  finish (cat, EXIT_FAILURE);
}

static void
adopt_socket (Cat      *cat,
              QSockTcp *socket)
{
  cat->socket = socket;
  qsock_abstract_set_half_close (QSOCK_ABSTRACT (socket), TRUE);
  g_signal_connect (socket, "ready-read", G_CALLBACK (on_ready_read), cat);
  g_signal_connect (socket, "read-channel-finished", G_CALLBACK (on_read_channel_finished), cat);
  g_signal_connect (socket, "bytes-written", G_CALLBACK (on_bytes_written), cat);
  g_signal_connect (socket, "state-changed", G_CALLBACK (on_state_changed), cat);
  g_signal_connect (socket, "connected", G_CALLBACK (on_connected), cat);
  g_signal_connect (socket, "disconnected", G_CALLBACK (on_disconnected), cat);
  g_signal_connect (socket, "error-occurred", G_CALLBACK (on_error_occurred), cat);
}

static void
on_new_connection (QSockTcpServer *server,
                   gpointer        user_data)
{
  Cat *cat = user_data;
  g_autoptr(QSockTcp) socket = qsock_tcp_server_next_pending_connection (server);
  g_autofree char *peer = NULL;

  if (socket == NULL || cat->socket != NULL)
    return;

  peer = format_peer (QSOCK_ABSTRACT (socket));
  print_note (cat, "connection from %s", peer);
  adopt_socket (cat, g_steal_pointer (&socket));

  /* One client only: stop listening. The accepted socket is not affected,
   * as with QTcpServer::close(). */
  qsock_tcp_server_close (server);

  watch_stdin (cat);
  drain_socket (cat);
}

static void
on_accept_error (QSockTcpServer   *server,
                 QSockSocketError  error,
                 gpointer          user_data)
{
  print_socket_error (error, qsock_tcp_server_get_error_string (server));
  finish (user_data, EXIT_FAILURE);
}

static gboolean
on_sigint (gpointer user_data)
{
  finish (user_data, 128 + SIGINT);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm (gpointer user_data)
{
  finish (user_data, 128 + SIGTERM);
  return G_SOURCE_CONTINUE;
}

/* Splits tcp://HOST:PORT or udp://HOST:PORT (HOST may be an [IPv6]
 * literal, or empty with --listen for "any address"). */
static gboolean
parse_target (const char  *target,
              gboolean     listening,
              gboolean    *udp,
              char       **host,
              guint16     *port,
              GError     **error)
{
  const char *scheme = g_uri_peek_scheme (target);
  g_autoptr(GUri) uri = NULL;
  int uri_port;

  /* "localhost:80" peeks as scheme "localhost": no "//", not a URI. */
  if (scheme == NULL || strstr (target, "://") == NULL)
    {
      if (strchr (target, ':') != NULL && strchr (target, '/') == NULL)
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     "“%s” is not an address; expected tcp://HOST:PORT or udp://HOST:PORT "
                     "(did you mean tcp://%s?)", target, target);
      else
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     "“%s” is not an address; expected tcp://HOST:PORT or udp://HOST:PORT", target);
      return FALSE;
    }

  if (g_strcmp0 (scheme, "tcp") != 0 && g_strcmp0 (scheme, "udp") != 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "unsupported scheme “%s” in “%s”: this version speaks tcp://, udp:// "
                   "and local:", scheme, target);
      return FALSE;
    }
  *udp = strcmp (scheme, "udp") == 0;

  uri = g_uri_parse (target, G_URI_FLAGS_NONE, error);
  if (uri == NULL)
    return FALSE;

  uri_port = g_uri_get_port (uri);
  if (uri_port < 0 || uri_port > G_MAXUINT16 || (uri_port == 0 && !listening))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "“%s” needs a port%s: %s://HOST:PORT", target,
                   listening ? " (0 picks a free one)" : "", scheme);
      return FALSE;
    }

  if ((g_uri_get_path (uri)[0] != '\0' && strcmp (g_uri_get_path (uri), "/") != 0) ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL ||
      g_uri_get_userinfo (uri) != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "“%s” has more than a host and a port", target);
      return FALSE;
    }

  if (g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    {
      if (!listening)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "“%s” needs a host: %s://HOST:PORT", target, scheme);
          return FALSE;
        }
      *host = NULL;
    }
  else
    {
      *host = g_strdup (g_uri_get_host (uri));
    }

  *port = (guint16) uri_port;
  return TRUE;
}

static int
run_client (Cat        *cat,
            const char *host,
            guint16     port)
{
  adopt_socket (cat, qsock_tcp_new ());

  /* Qt emits the first state changes synchronously inside this call,
   * which is why the handlers are connected first. */
  qsock_abstract_connect_to_host (QSOCK_ABSTRACT (cat->socket), host, port,
                                  QSOCK_OPEN_MODE_READ_WRITE,
                                  QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP);
  if (!cat->finished)
    g_main_loop_run (cat->loop);

  return cat->exit_status;
}

static GInetAddress *
resolve_listen_address (const char  *host,
                        GError     **error)
{
  g_autoptr(GResolver) resolver = NULL;
  GList *addresses;
  GInetAddress *first;

  if (host == NULL)
    return NULL;

  first = g_inet_address_new_from_string (host);
  if (first != NULL)
    return first;

  resolver = g_resolver_get_default ();
  addresses = g_resolver_lookup_by_name (resolver, host, NULL, error);
  if (addresses == NULL)
    return NULL;

  first = g_object_ref (addresses->data);
  g_resolver_free_addresses (addresses);
  return first;
}

static int
run_server (Cat        *cat,
            const char *host,
            guint16     port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = resolve_listen_address (host, &error);
  g_autoptr(GInetAddress) bound = NULL;
  g_autofree char *endpoint = NULL;

  if (error != NULL)
    {
      g_printerr ("qsock-cat: cannot listen on “%s”: %s\n", host, error->message);
      return EXIT_FAILURE;
    }

  cat->server = qsock_tcp_server_new ();
  g_signal_connect (cat->server, "new-connection", G_CALLBACK (on_new_connection), cat);
  g_signal_connect (cat->server, "accept-error", G_CALLBACK (on_accept_error), cat);

  if (!qsock_tcp_server_listen (cat->server, address, port))
    {
      print_socket_error (qsock_tcp_server_get_server_error (cat->server),
                          qsock_tcp_server_get_error_string (cat->server));
      return EXIT_FAILURE;
    }

  /* With port 0 the caller cannot know the port otherwise. */
  bound = qsock_tcp_server_get_server_address (cat->server);
  endpoint = format_endpoint (bound, qsock_tcp_server_get_server_port (cat->server));
  if (cat->verbose || port == 0)
    g_printerr ("qsock-cat: listening on %s\n", endpoint);

  g_main_loop_run (cat->loop);
  return cat->exit_status;
}

/* ---- udp:// -------------------------------------------------------------- */

static gboolean on_udp_stdin_readable (int fd, GIOCondition condition, gpointer user_data);

/* Bound or connected: the datagram calls may be used (Qt warns otherwise). */
static gboolean
udp_is_usable (Cat *cat)
{
  QSockSocketState state = qsock_abstract_get_state (QSOCK_ABSTRACT (cat->udp));

  return state == QSOCK_SOCKET_STATE_BOUND || state == QSOCK_SOCKET_STATE_CONNECTED;
}

static void
report_udp_error (Cat *cat)
{
  if (cat->finished)
    return;
  print_socket_error (qsock_abstract_get_error (QSOCK_ABSTRACT (cat->udp)),
                      qsock_iodevice_get_error_string (QSOCK_IODEVICE (cat->udp)));
  finish (cat, EXIT_FAILURE);
}

static void
watch_udp_stdin (Cat *cat)
{
  if (cat->stdin_source != 0 || cat->retry_source != 0 || cat->stdin_eof || cat->finished)
    return;

  cat->stdin_source = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                     on_udp_stdin_readable, cat);
}

/* The listener: writes the payload of every datagram already received to
 * stdout and keeps the last one to answer. As in Qt, ready-read is not
 * emitted again until a datagram is read, so all of them are read here,
 * not one per signal. */
static void
drain_udp_listener (Cat *cat)
{
  while (!cat->finished && udp_is_usable (cat) && qsock_udp_has_pending_datagrams (cat->udp))
    {
      g_autoptr(QSockDatagram) datagram = qsock_udp_receive_datagram (cat->udp, -1);
      g_autoptr(GBytes) payload = NULL;
      g_autoptr(GInetAddress) sender = NULL;
      g_autofree char *from = NULL;
      gsize size;
      const char *data;

      /* Not valid: an error was emitted (and reported). */
      if (qsock_datagram_is_null (datagram))
        break;

      payload = qsock_datagram_get_data (datagram);
      data = g_bytes_get_data (payload, &size);
      sender = qsock_datagram_get_sender_address (datagram);
      from = format_endpoint (sender, (guint16) qsock_datagram_get_sender_port (datagram));
      print_note (cat, "datagram of %" G_GSIZE_FORMAT " bytes from %s", size, from);

      if (!write_all_stdout (data, size))
        {
          finish (cat, EXIT_FAILURE);
          return;
        }

      /* Replies go to whoever spoke last; stdin is read from the first
       * datagram on, when there is someone to answer. */
      g_set_object (&cat->last, datagram);
      watch_udp_stdin (cat);
    }
}

/* Reads one datagram from the connected peer to stdout. FALSE when there
 * was none, or on an error (reported). */
static gboolean
read_one_from_peer (Cat *cat)
{
  gint64 n = qsock_udp_read_datagram (cat->udp, cat->datagram, DATAGRAM_BUFFER, NULL, NULL);

  if (n < 0)
    {
      /* TemporaryError: nothing was pending. */
      if (qsock_abstract_get_error (QSOCK_ABSTRACT (cat->udp)) != QSOCK_SOCKET_ERROR_TEMPORARY)
        report_udp_error (cat);
      return FALSE;
    }
  if (!write_all_stdout (cat->datagram, (gsize) n))
    {
      finish (cat, EXIT_FAILURE);
      return FALSE;
    }
  return TRUE;
}

/* The client: every datagram already received goes to stdout. The first
 * one is read before asking for more: when nobody listens at HOST:PORT the
 * system answers with an ICMP refusal, which a connected socket keeps as a
 * pending error for the next call, and the 1-byte peek behind
 * qsock_udp_has_pending_datagrams() would take it without reporting it.
 * Reading first gets ConnectionRefusedError. */
static void
drain_udp_client (Cat *cat,
                  gboolean notified)
{
  if (notified && (cat->finished || !udp_is_usable (cat) || !read_one_from_peer (cat)))
    return;

  while (!cat->finished && udp_is_usable (cat) && qsock_udp_has_pending_datagrams (cat->udp))
    if (!read_one_from_peer (cat))
      return;
}

/* One datagram: to the connected peer (one qsock_iodevice_write() is one
 * datagram on a connected QUdpSocket), or with --listen a reply to the last
 * sender. Returns the bytes sent or -1 (error-occurred was emitted). */
static gint64
send_one_datagram (Cat        *cat,
                   const char *data,
                   gsize       size)
{
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(QSockDatagram) reply = NULL;

  if (!cat->udp_listening)
    return qsock_iodevice_write (QSOCK_IODEVICE (cat->udp), data, (gint64) size);

  payload = g_bytes_new (data, size);
  reply = qsock_datagram_make_reply (cat->last, payload);
  return qsock_udp_send_datagram (cat->udp, reply);
}

static gboolean on_udp_retry (gpointer user_data);

/* Sends each whole line of stdin waiting in cat->line as one datagram, and
 * at the end of stdin the rest too. Returns FALSE when it stopped: on an
 * error (reported, the loop quits) or on Qt's TemporaryError, a full send
 * buffer, when it tries again shortly. */
static gboolean
send_lines (Cat *cat)
{
  gsize start = 0;
  gboolean ok = TRUE;

  while (start < cat->line->len && !cat->finished)
    {
      const char *begin = (const char *) cat->line->data + start;
      gsize left = cat->line->len - start;
      const char *newline = memchr (begin, '\n', left);
      gsize size;

      if (newline != NULL)
        size = (gsize) (newline - begin) + 1;
      else if (cat->stdin_eof || left >= MAX_LINE)
        size = left;
      else
        break;

      if (send_one_datagram (cat, begin, size) < 0)
        {
          ok = FALSE;
          if (qsock_abstract_get_error (QSOCK_ABSTRACT (cat->udp)) == QSOCK_SOCKET_ERROR_TEMPORARY &&
              !cat->finished)
            {
              print_note (cat, "%s; trying again",
                          qsock_iodevice_get_error_string (QSOCK_IODEVICE (cat->udp)));
              cat->retry_source = g_timeout_add (1, on_udp_retry, cat);
            }
          else
            report_udp_error (cat);
          break;
        }
      start += size;
    }

  g_byte_array_remove_range (cat->line, 0, start);
  return ok && !cat->finished;
}

/* All of stdin was sent. */
static void
udp_input_done (Cat *cat)
{
  if (cat->udp_listening)
    {
      /* A listener is ended by a signal, as netcat's. */
      print_note (cat, "end of input; still listening");
      return;
    }

  /* What has already arrived is printed; nothing is waited for. */
  print_note (cat, "end of input, closing");
  drain_udp_client (cat, FALSE);
  if (cat->finished)
    return;
  qsock_abstract_disconnect_from_host (QSOCK_ABSTRACT (cat->udp));
  finish (cat, EXIT_SUCCESS);
}

static gboolean
on_udp_retry (gpointer user_data)
{
  Cat *cat = user_data;

  cat->retry_source = 0;
  if (!send_lines (cat))
    return G_SOURCE_REMOVE;
  if (cat->stdin_eof)
    udp_input_done (cat);
  else
    watch_udp_stdin (cat);
  return G_SOURCE_REMOVE;
}

static gboolean
on_udp_stdin_readable (int          fd,
                       GIOCondition condition,
                       gpointer     user_data)
{
  Cat *cat = user_data;
  char buffer[STDIN_CHUNK];
  ssize_t n;

  n = read (fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;

  if (n < 0)
    {
      int errsv = errno;

      g_printerr ("qsock-cat: cannot read stdin: %s\n", g_strerror (errsv));
      cat->stdin_source = 0;
      finish (cat, EXIT_FAILURE);
      return G_SOURCE_REMOVE;
    }

  if (n == 0)
    cat->stdin_eof = TRUE;
  else
    g_byte_array_append (cat->line, (const guint8 *) buffer, (guint) n);

  if (!send_lines (cat))
    {
      cat->stdin_source = 0;
      return G_SOURCE_REMOVE;
    }

  if (cat->stdin_eof)
    {
      cat->stdin_source = 0;
      udp_input_done (cat);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
on_udp_ready_read (QSockIODevice *device,
                   gpointer       user_data)
{
  Cat *cat = user_data;

  if (cat->udp_listening)
    drain_udp_listener (cat);
  else
    drain_udp_client (cat, TRUE);
}

static void
on_udp_connected (QSockAbstract *socket,
                  gpointer       user_data)
{
  Cat *cat = user_data;
  g_autofree char *peer = format_peer (socket);

  print_note (cat, "sending datagrams to %s (%s)", qsock_abstract_get_peer_name (socket), peer);
  watch_udp_stdin (cat);
}

static void
on_udp_error_occurred (QSockAbstract    *socket,
                       QSockSocketError  error,
                       gpointer          user_data)
{
  /* A full send buffer (Qt's TemporaryError): send_lines() tries again. */
  if (error == QSOCK_SOCKET_ERROR_TEMPORARY)
    return;

  report_udp_error (user_data);
}

static void
adopt_udp (Cat *cat)
{
  cat->udp = qsock_udp_new ();
  cat->line = g_byte_array_new ();
  cat->datagram = g_malloc (DATAGRAM_BUFFER);
  g_signal_connect (cat->udp, "ready-read", G_CALLBACK (on_udp_ready_read), cat);
  g_signal_connect (cat->udp, "state-changed", G_CALLBACK (on_state_changed), cat);
  g_signal_connect (cat->udp, "connected", G_CALLBACK (on_udp_connected), cat);
  g_signal_connect (cat->udp, "error-occurred", G_CALLBACK (on_udp_error_occurred), cat);
}

static int
run_udp_client (Cat        *cat,
                const char *host,
                guint16     port)
{
  adopt_udp (cat);

  /* For UDP, Qt connects at once: for an IP literal, every state change
   * and `connected` are emitted inside this call. */
  qsock_abstract_connect_to_host (QSOCK_ABSTRACT (cat->udp), host, port,
                                  QSOCK_OPEN_MODE_READ_WRITE,
                                  QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP);
  if (!cat->finished)
    g_main_loop_run (cat->loop);

  return cat->exit_status;
}

static int
run_udp_server (Cat        *cat,
                const char *host,
                guint16     port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = resolve_listen_address (host, &error);
  g_autoptr(GInetAddress) bound = NULL;
  g_autofree char *endpoint = NULL;

  if (error != NULL)
    {
      g_printerr ("qsock-cat: cannot listen on “%s”: %s\n", host, error->message);
      return EXIT_FAILURE;
    }

  adopt_udp (cat);
  cat->udp_listening = TRUE;

  /* A failure is reported by error-occurred, emitted inside the call. */
  if (!qsock_abstract_bind (QSOCK_ABSTRACT (cat->udp), address, port,
                            QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM))
    {
      report_udp_error (cat);
      return EXIT_FAILURE;
    }

  bound = qsock_abstract_get_local_address (QSOCK_ABSTRACT (cat->udp));
  endpoint = format_endpoint (bound, qsock_abstract_get_local_port (QSOCK_ABSTRACT (cat->udp)));
  if (cat->verbose || port == 0)
    g_printerr ("qsock-cat: listening on %s\n", endpoint);

  g_main_loop_run (cat->loop);
  return cat->exit_status;
}

/* ---- local: -------------------------------------------------------------- */

/* local:NAME and local:@NAME: a QSockLocal (QLocalSocket) or a
 * QSockLocalServer (QLocalServer), carrying bytes both ways as for tcp://.
 * Connecting is synchronous, as in Qt: connected, or error-occurred and the
 * change back to unconnected, are emitted inside
 * qsock_local_connect_to_server(). */
typedef struct {
  Cat              *cat;
  QSockLocalServer *server;       /* --listen only */
  QSockLocal       *socket;
  guint             stdin_source;
  gboolean          stdin_paused; /* by MAX_QUEUED, not by EOF */
  gboolean          stdin_eof;
} Local;

static void
print_local_error (QSockLocalSocketError  code,
                   const char            *text)
{
  g_printerr ("qsock-cat: %s (QSockLocalSocketError %s = %d)\n",
              text, enum_value_name (QSOCK_TYPE_LOCAL_SOCKET_ERROR, code), (int) code);
}

/* Splits local:NAME (a path, or a name in the temporary directory) and
 * local:@NAME (Linux's abstract namespace). */
static gboolean
parse_local_target (const char  *target,
                    gboolean     listening,
                    gboolean     user_only,
                    char       **name,
                    gboolean    *abstract,
                    GError     **error)
{
  const char *rest = target + strlen ("local:");

  *abstract = rest[0] == '@';
  if (*abstract)
    rest++;

  if (rest[0] == '\0')
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "“%s” needs a name: local:NAME, local:/PATH or local:@NAME", target);
      return FALSE;
    }
  if (user_only && !listening)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--user-only applies to --listen local:NAME");
      return FALSE;
    }
  if (user_only && *abstract)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--user-only needs a socket file: “%s” is in the abstract namespace, "
                   "which has no permissions", target);
      return FALSE;
    }

  *name = g_strdup (rest);
  return TRUE;
}

/* Moves everything the socket has buffered to stdout; unread data stays
 * readable after `disconnected`, as in Qt, so this also runs at the end. */
static void
local_drain (Local *local)
{
  char buffer[STDIN_CHUNK];
  gint64 n;

  /* A failed connect never opened the device. */
  if (local->socket == NULL || !qsock_iodevice_is_open (QSOCK_IODEVICE (local->socket)))
    return;

  while ((n = qsock_iodevice_read (QSOCK_IODEVICE (local->socket), buffer, sizeof buffer)) > 0)
    {
      if (!write_all_stdout (buffer, (gsize) n))
        {
          qsock_local_abort (local->socket);
          finish (local->cat, EXIT_FAILURE);
          return;
        }
    }
}

static gboolean on_local_stdin_readable (int fd, GIOCondition condition, gpointer user_data);

static void
local_watch_stdin (Local *local)
{
  if (local->stdin_source != 0 || local->cat->finished)
    return;

  local->stdin_paused = FALSE;
  local->stdin_source = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                       on_local_stdin_readable, local);
}

static gboolean
on_local_stdin_readable (int          fd,
                         GIOCondition condition,
                         gpointer     user_data)
{
  Local *local = user_data;
  QSockIODevice *device = QSOCK_IODEVICE (local->socket);
  char buffer[STDIN_CHUNK];
  ssize_t n;

  /* The connection ended in this same main loop iteration. */
  if (local->cat->finished)
    {
      local->stdin_source = 0;
      return G_SOURCE_REMOVE;
    }

  n = read (fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;

  if (n < 0)
    {
      int errsv = errno;

      g_printerr ("qsock-cat: cannot read stdin: %s\n", g_strerror (errsv));
      local->stdin_source = 0;
      qsock_local_abort (local->socket);
      finish (local->cat, EXIT_FAILURE);
      return G_SOURCE_REMOVE;
    }

  if (n == 0)
    {
      /* As for tcp://: our sending side is shut down after what is queued,
       * the peer's reply still comes back, and the exit comes with
       * `disconnected` once the peer has ended too. */
      print_note (local->cat, "end of input, shutting down sending (%" G_GINT64_FORMAT " bytes still queued)",
                  qsock_iodevice_bytes_to_write (device));
      local->stdin_source = 0;
      local->stdin_eof = TRUE;
      qsock_local_shutdown_write (local->socket);
      return G_SOURCE_REMOVE;
    }

  if (qsock_iodevice_write (device, buffer, n) != n)
    {
      print_local_error (qsock_local_get_error (local->socket),
                         qsock_iodevice_get_error_string (device));
      local->stdin_source = 0;
      finish (local->cat, EXIT_FAILURE);
      return G_SOURCE_REMOVE;
    }

  if (qsock_iodevice_bytes_to_write (device) > MAX_QUEUED)
    {
      local->stdin_source = 0;
      local->stdin_paused = TRUE;
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
on_local_bytes_written (QSockIODevice *device,
                        gint64         bytes,
                        gpointer       user_data)
{
  Local *local = user_data;

  if (local->stdin_paused && qsock_iodevice_bytes_to_write (device) <= MAX_QUEUED / 2)
    local_watch_stdin (local);
}

static void
on_local_ready_read (QSockIODevice *device,
                     gpointer       user_data)
{
  local_drain (user_data);
}

static void
on_local_state_changed (QSockLocal            *socket,
                        QSockLocalSocketState  state,
                        gpointer               user_data)
{
  Local *local = user_data;

  print_note (local->cat, "state: %s", enum_value_nick (QSOCK_TYPE_LOCAL_SOCKET_STATE, state));
}

/* Who is at the other end: beyond Qt, from SO_PEERCRED. */
static void
note_peer (Local *local)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCredentials) credentials = NULL;

  if (!local->cat->verbose)
    return;

  credentials = qsock_local_get_peer_credentials (local->socket, &error);
  if (credentials == NULL)
    print_note (local->cat, "peer credentials unknown: %s", error->message);
  else
    print_note (local->cat, "peer is pid %ld, uid %ld",
                (long) g_credentials_get_unix_pid (credentials, NULL),
                (long) g_credentials_get_unix_user (credentials, NULL));
}

/* As on_read_channel_finished() for tcp://. */
static void
on_local_read_channel_finished (QSockIODevice *device,
                                gpointer       user_data)
{
  Local *local = user_data;

  local_drain (local);
  if (local->stdin_eof)
    return;
  print_note (local->cat, "end of the peer's input, disconnecting");
  if (local->stdin_source != 0)
    {
      g_source_remove (local->stdin_source);
      local->stdin_source = 0;
    }
  qsock_local_disconnect_from_server (local->socket);
}

static void
on_local_connected (QSockLocal *socket,
                    gpointer    user_data)
{
  Local *local = user_data;

  print_note (local->cat, "connected to local:%s%s",
              (qsock_local_get_socket_options (socket) & QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE) ? "@" : "",
              qsock_local_get_full_server_name (socket));
  note_peer (local);
  local_watch_stdin (local);
}

static void
on_local_disconnected (QSockLocal *socket,
                       gpointer    user_data)
{
  Local *local = user_data;

  print_note (local->cat, "disconnected");
  local_drain (local);
  finish (local->cat, EXIT_SUCCESS);
}

static void
on_local_error_occurred (QSockLocal            *socket,
                         QSockLocalSocketError  error,
                         gpointer               user_data)
{
  Local *local = user_data;

  /* The peer closing its end is the normal end: Qt calls it an error, but
   * `disconnected` follows and we exit 0. */
  if (error == QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED)
    {
      print_note (local->cat, "%s", qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
      return;
    }

  local_drain (local);
  if (local->cat->finished)
    return;
  print_local_error (error, qsock_iodevice_get_error_string (QSOCK_IODEVICE (socket)));
  finish (local->cat, EXIT_FAILURE);
}

static void
local_adopt (Local      *local,
             QSockLocal *socket)
{
  local->socket = socket;
  qsock_local_set_half_close (socket, TRUE);
  g_signal_connect (socket, "ready-read", G_CALLBACK (on_local_ready_read), local);
  g_signal_connect (socket, "read-channel-finished", G_CALLBACK (on_local_read_channel_finished), local);
  g_signal_connect (socket, "bytes-written", G_CALLBACK (on_local_bytes_written), local);
  g_signal_connect (socket, "state-changed", G_CALLBACK (on_local_state_changed), local);
  g_signal_connect (socket, "connected", G_CALLBACK (on_local_connected), local);
  g_signal_connect (socket, "disconnected", G_CALLBACK (on_local_disconnected), local);
  g_signal_connect (socket, "error-occurred", G_CALLBACK (on_local_error_occurred), local);
}

static void
on_local_new_connection (QSockLocalServer *server,
                         gpointer          user_data)
{
  Local *local = user_data;
  g_autoptr(QSockLocal) socket = qsock_local_server_next_pending_connection (server);

  if (socket == NULL || local->socket != NULL)
    return;

  print_note (local->cat, "connection on local:%s%s",
              (qsock_local_server_get_socket_options (server) & QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE) ? "@" : "",
              qsock_local_server_get_full_server_name (server));
  local_adopt (local, g_steal_pointer (&socket));
  note_peer (local);

  /* One client only: stop listening, which also removes the socket file.
   * The accepted socket is not affected, as with QLocalServer::close(). */
  qsock_local_server_close (server);

  local_watch_stdin (local);
  local_drain (local);
}

static int
run_local (Cat        *cat,
           const char *name,
           gboolean    abstract,
           gboolean    listening,
           gboolean    user_only)
{
  Local local = { .cat = cat };

  if (listening)
    {
      QSockLocalServerOptions options = QSOCK_LOCAL_SERVER_OPTIONS_NONE;

      if (abstract)
        options |= QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE;
      if (user_only)
        options |= QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS;

      local.server = qsock_local_server_new ();
      qsock_local_server_set_socket_options (local.server, options);
      g_signal_connect (local.server, "new-connection", G_CALLBACK (on_local_new_connection), &local);

      /* No signal on failure: the server keeps its error. */
      if (!qsock_local_server_listen (local.server, name))
        {
          print_socket_error (qsock_local_server_get_server_error (local.server),
                              qsock_local_server_get_error_string (local.server));
          finish (cat, EXIT_FAILURE);
        }
      else if (cat->verbose || (!abstract && !g_path_is_absolute (name)))
        /* A relative name is placed in the temporary directory: say where. */
        g_printerr ("qsock-cat: listening on local:%s%s\n", abstract ? "@" : "",
                    qsock_local_server_get_full_server_name (local.server));
    }
  else
    {
      QSockLocal *socket = qsock_local_new ();

      if (abstract)
        qsock_local_set_socket_options (socket, QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE);
      local_adopt (&local, socket);

      /* Synchronous, as in Qt: every handler above may run inside. */
      qsock_local_connect_to_server (socket, name, QSOCK_OPEN_MODE_READ_WRITE);
    }

  if (!cat->finished)
    g_main_loop_run (cat->loop);

  g_clear_handle_id (&local.stdin_source, g_source_remove);
  /* Disconnect first: disposing of a connected socket aborts it, and the
   * signals that come with that must not reach the gone `local`. */
  if (local.socket != NULL)
    g_signal_handlers_disconnect_by_data (local.socket, &local);
  if (local.server != NULL)
    g_signal_handlers_disconnect_by_data (local.server, &local);
  g_clear_object (&local.socket);
  g_clear_object (&local.server);
  return cat->exit_status;
}

static void
cat_clear (Cat *cat)
{
  g_clear_handle_id (&cat->stdin_source, g_source_remove);
  g_clear_handle_id (&cat->retry_source, g_source_remove);
  if (cat->stdin_flags != -1)
    fcntl (STDIN_FILENO, F_SETFL, cat->stdin_flags);

  /* Disconnect first: disposing of a connected socket aborts it, and the
   * signals that come with that must not reach a half-freed Cat. */
  if (cat->socket != NULL)
    g_signal_handlers_disconnect_by_data (cat->socket, cat);
  if (cat->server != NULL)
    g_signal_handlers_disconnect_by_data (cat->server, cat);
  if (cat->udp != NULL)
    g_signal_handlers_disconnect_by_data (cat->udp, cat);
  g_clear_object (&cat->socket);
  g_clear_object (&cat->server);
  g_clear_object (&cat->udp);
  g_clear_object (&cat->last);
  g_clear_pointer (&cat->line, g_byte_array_unref);
  g_clear_pointer (&cat->datagram, g_free);
  g_clear_pointer (&cat->loop, g_main_loop_unref);
}

int
main (int   argc,
      char *argv[])
{
  gboolean listen_mode = FALSE;
  gboolean verbose = FALSE;
  gboolean user_only = FALSE;
  const GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_NONE, &listen_mode,
      "Listen on ADDR:PORT or local:NAME: serve one TCP or local client, then exit; or receive datagrams", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      "Print connection and state changes on stderr", NULL },
    { "user-only", 0, 0, G_OPTION_ARG_NONE, &user_only,
      "With --listen local:NAME, only this user may connect (socket file mode 0700)", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;
  gboolean udp = FALSE;
  g_autofree char *local_name = NULL;
  gboolean abstract = FALSE;
  gboolean parsed = FALSE;
  Cat cat = { .exit_status = EXIT_SUCCESS, .stdin_flags = -1 };
  int status;

  /* The library's messages are translated (domain qsock-glib-1.0). */
  setlocale (LC_ALL, "");

  context = g_option_context_new ("tcp://HOST:PORT | udp://HOST:PORT | local:NAME");
  g_option_context_set_summary (context,
    "Connects stdin and stdout to a TCP peer, like netcat, through qsock-glib.\n"
    "With --listen, waits for one client on ADDR:PORT, serves it and exits when it\n"
    "disconnects. The end of stdin closes the connection after all input was sent.\n"
    "\n"
    "With udp://, each line of stdin is sent as one datagram to HOST:PORT and the\n"
    "datagrams that come back are written to stdout; the end of stdin exits.\n"
    "With --listen udp://ADDR:PORT, the payload of each datagram received is\n"
    "written to stdout, and each line of stdin is sent as a reply to the last\n"
    "sender (stdin is read from the first datagram on); it runs until stopped.\n"
    "\n"
    "With local:NAME, the same as tcp:// over a local (Unix domain) socket: a\n"
    "relative NAME is in the temporary directory ($TMPDIR or /tmp), an absolute\n"
    "one is a path, and local:@NAME is in Linux's abstract namespace (no file).");
  g_option_context_set_description (context,
    "Addresses:\n"
    "  tcp://127.0.0.1:7777   tcp://localhost:7777   tcp://[::1]:7777\n"
    "  udp://127.0.0.1:7777   udp://[::1]:7777\n"
    "  --listen tcp://:7777 (or udp://:7777) listens on every address; port 0\n"
    "  picks a free port (printed on stderr).\n"
    "  local:/run/user/1000/app.sock   local:app.sock   local:@app\n"
    "  --listen local:NAME fails if anything exists at the path (Qt's\n"
    "  AddressInUseError); --user-only makes the socket file mode 0700.\n"
    "\n"
    "A line longer than a datagram can carry (65507 bytes over IPv4) fails with\n"
    "Qt's DatagramTooLargeError.\n"
    "\n"
    "Exit status: 0 after a normal end of the connection (for udp://, the end\n"
    "of stdin), 1 on a socket error, 2 on a usage error, 128 + N on signal N\n"
    "(how --listen udp:// ends).");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("qsock-cat: %s\nTry “%s --help”.\n", error->message, g_get_prgname ());
      return EXIT_USAGE;
    }

  if (argc != 2)
    {
      g_printerr ("qsock-cat: expected one address, such as tcp://127.0.0.1:7777 or udp://127.0.0.1:7777\n"
                  "Try “%s --help”.\n", g_get_prgname ());
      return EXIT_USAGE;
    }

  if (g_str_has_prefix (argv[1], "local:"))
    parsed = parse_local_target (argv[1], listen_mode, user_only, &local_name, &abstract, &error);
  else if (user_only)
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         "--user-only applies to --listen local:NAME");
  else
    parsed = parse_target (argv[1], listen_mode, &udp, &host, &port, &error);
  if (!parsed)
    {
      g_printerr ("qsock-cat: %s\n", error->message);
      return EXIT_USAGE;
    }

  /* A vanished peer must show up as an error from the library, not kill us. */
  signal (SIGPIPE, SIG_IGN);

  cat.loop = g_main_loop_new (NULL, FALSE);
  cat.verbose = verbose;
  cat.stdin_flags = fcntl (STDIN_FILENO, F_GETFL);
  if (cat.stdin_flags != -1)
    fcntl (STDIN_FILENO, F_SETFL, cat.stdin_flags | O_NONBLOCK);
  g_unix_signal_add (SIGINT, on_sigint, &cat);
  g_unix_signal_add (SIGTERM, on_sigterm, &cat);

  if (local_name != NULL)
    status = run_local (&cat, local_name, abstract, listen_mode, user_only);
  else if (udp && listen_mode)
    status = run_udp_server (&cat, host, port);
  else if (udp)
    status = run_udp_client (&cat, host, port);
  else if (listen_mode)
    status = run_server (&cat, host, port);
  else
    status = run_client (&cat, host, port);

  cat_clear (&cat);
  return status;
}
