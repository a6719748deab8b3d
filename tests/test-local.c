/* test-local.c: QSockLocal and QSockLocalServer against Qt 6's
 * QLocalSocket and QLocalServer on Unix
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The expected behaviour is QT-BEHAVIOUR.md §2.5 (signal orders L1–L6),
 * §5.2 (QLocalServer), §7.2/§7.3 (error texts) and §8 items 12–14, minus
 * the differences the classes document: qsock_local_get_error() reports
 * OPERATION and its text says "connectToServer"; a bad descriptor changes
 * nothing; the server stops at exactly max-pending-connections.
 *
 * Every socket lives in a private directory made for the test (or, for
 * relative and abstract names, under a name unique to this process), so
 * runs never see each other. A recorder logs each emission as "s:" (inside
 * the call under test) or "l:" (later, from the main loop), with its
 * argument and the state at that moment. Peers are plain POSIX sockets
 * where the test is about one end, so a failure points at the library.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gunixfdlist.h>
#include <qsock-glib/qsock.h>

#include "test-util.h"

#define DEV(s) QSOCK_IODEVICE (s)
#define RW QSOCK_OPEN_MODE_READ_WRITE
#define MIB (1024 * 1024)

#define CONNECTED QSOCK_LOCAL_SOCKET_STATE_CONNECTED
#define UNCONNECTED QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED

/* The uid and gid a root test drops to for the permission checks. */
#define NOBODY 65534

/* ======================================================================
 * A recorder for QSockLocal (test-util's is for QSockAbstract)
 * ====================================================================== */

typedef enum { ARG_NONE, ARG_STATE, ARG_ERROR, ARG_COUNT } ArgKind;

typedef struct
{
  gboolean              sync;
  const char           *name;
  ArgKind               kind;
  gint64                arg;
  QSockLocalSocketState state;
} LocalEvent;

typedef struct
{
  QSockLocal *sock;
  GThread    *owner;
  GArray     *events;          /* LocalEvent */
  gboolean    in_call;         /* set by TU_REC_CALL */
  guint       n_ready_read;
  guint       n_connected;
  guint       n_disconnected;
  guint       n_errors;
  guint       n_state_changes;
  guint       n_about_to_close;
  guint       n_read_channel_finished;
  guint       n_wrong_thread;
  gint64      bytes_written;
  gulong      handlers[8];
} LocalRec;

static const char *
local_state_name (QSockLocalSocketState state)
{
  switch (state)
    {
    case QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED: return "Unconnected";
    case QSOCK_LOCAL_SOCKET_STATE_CONNECTING: return "Connecting";
    case QSOCK_LOCAL_SOCKET_STATE_CONNECTED: return "Connected";
    case QSOCK_LOCAL_SOCKET_STATE_CLOSING: return "Closing";
    default: return "BadState";
    }
}

static const char *
local_error_name (QSockLocalSocketError error)
{
  switch (error)
    {
    case QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET: return "UnknownSocket";
    case QSOCK_LOCAL_SOCKET_ERROR_CONNECTION_REFUSED: return "ConnectionRefused";
    case QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED: return "PeerClosed";
    case QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND: return "ServerNotFound";
    case QSOCK_LOCAL_SOCKET_ERROR_SOCKET_ACCESS: return "SocketAccess";
    case QSOCK_LOCAL_SOCKET_ERROR_SOCKET_RESOURCE: return "SocketResource";
    case QSOCK_LOCAL_SOCKET_ERROR_SOCKET_TIMEOUT: return "SocketTimeout";
    case QSOCK_LOCAL_SOCKET_ERROR_DATAGRAM_TOO_LARGE: return "DatagramTooLarge";
    case QSOCK_LOCAL_SOCKET_ERROR_CONNECTION: return "Connection";
    case QSOCK_LOCAL_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION: return "UnsupportedSocketOperation";
    case QSOCK_LOCAL_SOCKET_ERROR_OPERATION: return "Operation";
    default: return "OtherError";
    }
}

static void
rec_add (LocalRec   *rec,
         const char *name,
         ArgKind     kind,
         gint64      arg)
{
  LocalEvent ev = {
    .sync = rec->in_call,
    .name = name,
    .kind = kind,
    .arg = arg,
    .state = qsock_local_get_state (rec->sock),
  };

  if (g_thread_self () != rec->owner)
    rec->n_wrong_thread++;
  g_array_append_val (rec->events, ev);
}

static void
rec_state_changed (QSockLocal *sock, QSockLocalSocketState state, LocalRec *rec)
{
  rec->n_state_changes++;
  rec_add (rec, "state-changed", ARG_STATE, state);
}

static void
rec_error_occurred (QSockLocal *sock, QSockLocalSocketError error, LocalRec *rec)
{
  rec->n_errors++;
  rec_add (rec, "error-occurred", ARG_ERROR, error);
}

static void
rec_connected (QSockLocal *sock, LocalRec *rec)
{
  rec->n_connected++;
  rec_add (rec, "connected", ARG_NONE, 0);
}

static void
rec_disconnected (QSockLocal *sock, LocalRec *rec)
{
  rec->n_disconnected++;
  rec_add (rec, "disconnected", ARG_NONE, 0);
}

static void
rec_ready_read (QSockIODevice *dev, LocalRec *rec)
{
  rec->n_ready_read++;
  rec_add (rec, "ready-read", ARG_NONE, 0);
}

static void
rec_bytes_written (QSockIODevice *dev, gint64 bytes, LocalRec *rec)
{
  QSockLocalSocketState state = qsock_local_get_state (rec->sock);

  rec->bytes_written += bytes;
  /* Qt leaves the split into chunks open; consecutive ones are summed. */
  if (rec->events->len > 0)
    {
      LocalEvent *last = &g_array_index (rec->events, LocalEvent, rec->events->len - 1);

      if (g_str_equal (last->name, "bytes-written") && last->sync == rec->in_call &&
          last->state == state && g_thread_self () == rec->owner)
        {
          last->arg += bytes;
          return;
        }
    }
  rec_add (rec, "bytes-written", ARG_COUNT, bytes);
}

static void
rec_about_to_close (QSockIODevice *dev, LocalRec *rec)
{
  rec->n_about_to_close++;
  rec_add (rec, "about-to-close", ARG_NONE, 0);
}

static void
rec_read_channel_finished (QSockIODevice *dev, LocalRec *rec)
{
  rec->n_read_channel_finished++;
  rec_add (rec, "read-channel-finished", ARG_NONE, 0);
}

static LocalRec *
rec_new (QSockLocal *sock)
{
  LocalRec *rec = g_new0 (LocalRec, 1);
  guint i = 0;

  rec->sock = g_object_ref (sock);
  rec->owner = g_thread_self ();
  rec->events = g_array_new (FALSE, TRUE, sizeof (LocalEvent));

#define CONNECT(sig, cb) \
  rec->handlers[i++] = g_signal_connect (sock, sig, G_CALLBACK (cb), rec)
  CONNECT ("state-changed", rec_state_changed);
  CONNECT ("error-occurred", rec_error_occurred);
  CONNECT ("connected", rec_connected);
  CONNECT ("disconnected", rec_disconnected);
  CONNECT ("ready-read", rec_ready_read);
  CONNECT ("bytes-written", rec_bytes_written);
  CONNECT ("about-to-close", rec_about_to_close);
  CONNECT ("read-channel-finished", rec_read_channel_finished);
#undef CONNECT
  g_assert_cmpuint (i, ==, G_N_ELEMENTS (rec->handlers));

  return rec;
}

static void
rec_reset (LocalRec *rec)
{
  g_array_set_size (rec->events, 0);
  rec->n_ready_read = rec->n_connected = rec->n_disconnected = 0;
  rec->n_errors = rec->n_state_changes = 0;
  rec->n_about_to_close = rec->n_read_channel_finished = 0;
  rec->bytes_written = 0;
}

static void
rec_free (LocalRec *rec)
{
  for (guint i = 0; i < G_N_ELEMENTS (rec->handlers); i++)
    g_signal_handler_disconnect (rec->sock, rec->handlers[i]);
  g_object_unref (rec->sock);
  g_array_unref (rec->events);
  g_free (rec);
}

/* Same format as tu_recorder_dump(): "s:" or "l:", the signal, its
 * argument in brackets, "@" and the state at emission. */
static char *
rec_dump (LocalRec *rec)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < rec->events->len; i++)
    {
      const LocalEvent *ev = &g_array_index (rec->events, LocalEvent, i);

      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append_printf (out, "%s:%s", ev->sync ? "s" : "l", ev->name);
      if (ev->kind == ARG_STATE)
        g_string_append_printf (out, "(%s)", local_state_name (ev->arg));
      else if (ev->kind == ARG_ERROR)
        g_string_append_printf (out, "(%s)", local_error_name (ev->arg));
      else if (ev->kind == ARG_COUNT)
        g_string_append_printf (out, "(%" G_GINT64_FORMAT ")", ev->arg);
      g_string_append_printf (out, "@%s", local_state_name (ev->state));
    }

  return g_string_free (out, FALSE);
}

#define rec_assert(rec, expected)                                             \
  G_STMT_START {                                                              \
    char *dump_ = rec_dump (rec);                                             \
    g_assert_cmpstr (dump_, ==, (expected));                                  \
    g_free (dump_);                                                           \
    g_assert_cmpuint ((rec)->n_wrong_thread, ==, 0);                          \
  } G_STMT_END

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LocalRec, rec_free)

/* ======================================================================
 * Paths, plain POSIX peers and servers
 * ====================================================================== */

/* A private directory for one test, removed (with anything in it) by
 * remove_tree(). */
static char *
make_private_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("qsock-local-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *entry;

  if (dir == NULL)
    {
      g_unlink (path);
      return;
    }
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, entry, NULL);
      remove_tree (child);
    }
  g_dir_close (dir);
  g_rmdir (path);
}

/* A relative name nothing else uses: this process's id and a counter. */
static char *
unique_name (const char *tag)
{
  static guint counter = 0;

  return g_strdup_printf ("qsock-test-%s-%d-%u", tag, (int) getpid (), counter++);
}

/* Where a relative name lives: as QLocalServer's fullServerName. */
static char *
tmp_path_of (const char *name)
{
  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static socklen_t
unix_address (const char *path, gboolean abstract, struct sockaddr_un *addr)
{
  gsize len = strlen (path);

  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  g_assert_cmpuint (len + 1, <=, sizeof addr->sun_path);
  if (abstract)
    {
      memcpy (addr->sun_path + 1, path, len);
      return offsetof (struct sockaddr_un, sun_path) + 1 + len;
    }
  memcpy (addr->sun_path, path, len);
  return offsetof (struct sockaddr_un, sun_path) + len + 1;
}

/* A plain AF_UNIX socket bound to @path (or the abstract name @path). */
static int
bound_socket (const char *path, gboolean abstract)
{
  struct sockaddr_un addr;
  socklen_t len = unix_address (path, abstract, &addr);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  if (bind (fd, (struct sockaddr *) &addr, len) != 0)
    g_error ("bind %s: %s", path, g_strerror (errno));
  return fd;
}

static int
posix_listen (const char *path, gboolean abstract)
{
  int fd = bound_socket (path, abstract);

  g_assert_cmpint (listen (fd, 64), ==, 0);
  return fd;
}

/* A socket file nobody listens on: bound, then closed without unlink. */
static void
make_stale_socket (const char *path)
{
  close (bound_socket (path, FALSE));
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
}

/* A blocking client socket connected to @path. */
static int
posix_connect (const char *path)
{
  struct sockaddr_un addr;
  socklen_t len = unix_address (path, FALSE, &addr);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  if (connect (fd, (struct sockaddr *) &addr, len) != 0)
    g_error ("connect %s: %s", path, g_strerror (errno));
  return fd;
}

static gboolean
is_socket_file (const char *path)
{
  struct stat st;

  return g_lstat (path, (GStatBuf *) &st) == 0 && S_ISSOCK (st.st_mode);
}

static guint
permission_bits (const char *path)
{
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  return st.st_mode & 07777;
}

/* How many entries of @dir start with @prefix. */
static guint
count_entries (const char *dir, const char *prefix)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *entry;
  guint n = 0;

  g_assert_nonnull (d);
  while ((entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (entry, prefix))
      n++;
  g_dir_close (d);
  return n;
}

static void
write_pattern (QSockIODevice *dev, guint64 total)
{
  guint64 off = 0;

  while (off < total)
    {
      gsize len;
      const guint8 *p = tu_pattern_at (off, total - off, &len);

      g_assert_cmpint (qsock_iodevice_write (dev, (const char *) p, len), ==, len);
      off += len;
    }
}

#define assert_bytes(bytes, expected)                                         \
  G_STMT_START {                                                              \
    GBytes *b_ = (bytes);                                                     \
    gsize n_ = 0;                                                             \
    const char *d_ = b_ ? g_bytes_get_data (b_, &n_) : NULL;                  \
    g_assert_nonnull (b_);                                                    \
    g_assert_cmpmem (d_, n_, (expected), strlen (expected));                  \
    g_bytes_unref (b_);                                                       \
  } G_STMT_END

/* Reads @n bytes from a socket the library owns, through the loop. */
static GBytes *
read_exactly (QSockLocal *sock, gint64 n)
{
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) >= n, 10000);
  return qsock_iodevice_read_bytes (DEV (sock), n);
}

static void
count_cb (gpointer instance, guint *count)
{
  (*count)++;
}

/* The next connection of @server, waiting for it through the loop. */
static QSockLocal *
accept_one (QSockLocalServer *server)
{
  TU_RUN_UNTIL (qsock_local_server_has_pending_connections (server), 10000);
  return qsock_local_server_next_pending_connection (server);
}

static QSockLocal *
connected_client (const char *name, QSockLocalSocketOptions options)
{
  QSockLocal *sock = qsock_local_new ();

  qsock_local_set_socket_options (sock, options);
  qsock_local_connect_to_server (sock, name, RW);
  g_assert_cmpint (qsock_local_get_state (sock), ==, CONNECTED);
  return sock;
}

/* ======================================================================
 * The fixture of most tests: a client connected to a plain POSIX peer
 * ====================================================================== */

typedef struct
{
  char       *dir;
  char       *path;
  int         listener;
  QSockLocal *sock;
  int         peer;
  LocalRec   *rec;
} Pair;

static void
pair_setup (Pair *f, gconstpointer data)
{
  f->dir = make_private_dir ();
  f->path = g_build_filename (f->dir, "pair.sock", NULL);
  f->listener = posix_listen (f->path, FALSE);
  f->sock = connected_client (f->path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  f->peer = tu_accept (f->listener, 5000);
  f->rec = rec_new (f->sock);
}

static void
pair_close_peer (Pair *f)
{
  if (f->peer >= 0)
    close (f->peer);
  f->peer = -1;
}

static void
pair_teardown (Pair *f, gconstpointer data)
{
  /* Every signal came from this thread. */
  g_assert_cmpuint (f->rec->n_wrong_thread, ==, 0);
  rec_free (f->rec);
  g_object_unref (f->sock);
  pair_close_peer (f);
  close (f->listener);
  remove_tree (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

#define add_pair_test(path, func) \
  g_test_add (path, Pair, NULL, pair_setup, func, pair_teardown)

/* ======================================================================
 * Defaults (§2.5 "Defaults", §5.2 first line)
 * ====================================================================== */

static void
test_defaults (void)
{
  g_autoptr(QSockLocal) sock = qsock_local_new ();
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();

  g_assert_true (QSOCK_IS_IODEVICE (sock));
  g_assert_cmpint (qsock_local_get_state (sock), ==, UNCONNECTED);
  g_assert_cmpint (qsock_local_get_error (sock), ==, QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "Unknown error");
  g_assert_null (qsock_local_get_server_name (sock));
  g_assert_null (qsock_local_get_full_server_name (sock));
  g_assert_cmpint (qsock_local_get_socket_options (sock), ==, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  g_assert_cmpint (qsock_local_get_read_buffer_size (sock), ==, 0);
  g_assert_cmpint (qsock_local_get_socket_descriptor (sock), ==, -1);
  g_assert_false (qsock_local_is_valid (sock));
  g_assert_false (qsock_iodevice_is_open (DEV (sock)));
  g_assert_true (qsock_iodevice_is_sequential (DEV (sock)));

  g_assert_cmpint (qsock_local_server_get_max_pending_connections (server), ==, 30);
  g_assert_cmpint (qsock_local_server_get_listen_backlog_size (server), ==, 50);
  g_assert_cmpint (qsock_local_server_get_socket_options (server), ==, QSOCK_LOCAL_SERVER_OPTIONS_NONE);
  g_assert_cmpint (qsock_local_server_get_server_error (server), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
  g_assert_cmpstr (qsock_local_server_get_error_string (server), ==, "");
  g_assert_false (qsock_local_server_is_listening (server));
  g_assert_null (qsock_local_server_get_server_name (server));
  g_assert_null (qsock_local_server_get_full_server_name (server));
  g_assert_cmpint (qsock_local_server_get_socket_descriptor (server), ==, -1);
  g_assert_false (qsock_local_server_has_pending_connections (server));
  g_assert_null (qsock_local_server_next_pending_connection (server));
}

/* ======================================================================
 * Connecting: failures (§2.5 L1, L1b, L1c; §7.2)
 * ====================================================================== */

/* L1's shape: everything inside the call, the error while still
 * connecting; the device is never opened and the names are cleared. */
static void
assert_connect_fails (const char            *name,
                      QSockLocalSocketError  error,
                      const char            *error_string)
{
  g_autoptr(QSockLocal) sock = qsock_local_new ();
  g_autoptr(LocalRec) rec = rec_new (sock);
  g_autofree char *expected = g_strdup_printf ("s:state-changed(Connecting)@Connecting "
                                               "s:error-occurred(%s)@Connecting "
                                               "s:state-changed(Unconnected)@Unconnected",
                                               local_error_name (error));

  TU_REC_CALL (rec, qsock_local_connect_to_server (sock, name, RW));
  rec_assert (rec, expected);
  g_assert_cmpint (qsock_local_get_state (sock), ==, UNCONNECTED);
  g_assert_cmpint (qsock_local_get_error (sock), ==, error);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, error_string);
  g_assert_null (qsock_local_get_server_name (sock));
  g_assert_null (qsock_local_get_full_server_name (sock));
  g_assert_false (qsock_iodevice_is_open (DEV (sock)));
  g_assert_false (qsock_local_is_valid (sock));
  g_assert_cmpint (qsock_local_get_socket_descriptor (sock), ==, -1);

  /* Nothing more comes from the loop. */
  tu_spin (50);
  g_assert_cmpuint (rec->n_errors, ==, 1);
  g_assert_cmpuint (rec->n_state_changes, ==, 2);
}

static void
test_connect_missing_name (void)
{
  g_autofree char *name = unique_name ("missing");
  g_autofree char *full = tmp_path_of (name);
  g_autofree char *dir = make_private_dir ();
  g_autofree char *absent = g_build_filename (dir, "absent.sock", NULL);
  g_autofree char *no_dir = g_build_filename (dir, "no-such-dir", "x.sock", NULL);

  g_assert_false (g_file_test (full, G_FILE_TEST_EXISTS));
  assert_connect_fails (name, QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND,
                        "QLocalSocket::connectToServer: Invalid name");
  assert_connect_fails (absent, QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND,
                        "QLocalSocket::connectToServer: Invalid name");
  assert_connect_fails (no_dir, QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND,
                        "QLocalSocket::connectToServer: Invalid name");
  remove_tree (dir);
}

static void
test_connect_empty_name (void)
{
  g_autoptr(QSockLocal) sock = qsock_local_new ();
  g_autoptr(LocalRec) rec = rec_new (sock);

  assert_connect_fails ("", QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND,
                        "QLocalSocket::connectToServer: Invalid name");

  /* No name at all, and no server-name set: the same. */
  TU_REC_CALL (rec, qsock_local_connect_to_server (sock, NULL, RW));
  rec_assert (rec,
              "s:state-changed(Connecting)@Connecting "
              "s:error-occurred(ServerNotFound)@Connecting "
              "s:state-changed(Unconnected)@Unconnected");
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==,
                   "QLocalSocket::connectToServer: Invalid name");
}

static void
test_connect_too_long_name (void)
{
  /* More than sun_path holds: Qt checks the length, ServerNotFound. */
  g_autofree char *name = g_strnfill (200, 'n');
  g_autofree char *path = g_strconcat ("/", name, NULL);

  assert_connect_fails (path, QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND,
                        "QLocalSocket::connectToServer: Invalid name");
}

static void
test_connect_refused (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "stale.sock", NULL);
  g_autofree char *name = unique_name ("stale");
  g_autofree char *full = tmp_path_of (name);

  /* L1c: the file exists, nobody listens. */
  make_stale_socket (path);
  assert_connect_fails (path, QSOCK_LOCAL_SOCKET_ERROR_CONNECTION_REFUSED,
                        "QLocalSocket::connectToServer: Connection refused");
  /* The client leaves the file alone. */
  g_assert_true (is_socket_file (path));

  /* The same through a relative name. */
  make_stale_socket (full);
  assert_connect_fails (name, QSOCK_LOCAL_SOCKET_ERROR_CONNECTION_REFUSED,
                        "QLocalSocket::connectToServer: Connection refused");
  g_unlink (full);

  remove_tree (dir);
}

/* EACCES on connect() → SocketAccessError (§2.5). As root the test drops
 * to nobody in a child process; the USER_ACCESS socket must refuse it
 * while a WORLD_ACCESS socket beside it (same directory) lets it in, so
 * the refusal is the socket's mode, not the directory's. */
static void
access_denied_child (void)
{
  const char *dir = g_getenv ("QSOCK_TEST_ACCESS_DIR");
  g_autofree char *user_path = g_build_filename (dir, "user.sock", NULL);
  g_autofree char *world_path = g_build_filename (dir, "world.sock", NULL);
  g_autofree char *new_path = g_build_filename (dir, "new.sock", NULL);
  g_autoptr(QSockLocal) sock = qsock_local_new ();
  g_autoptr(QSockLocal) world = NULL;
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  g_autoptr(LocalRec) rec = rec_new (sock);

  g_assert_cmpint (setgroups (0, NULL), ==, 0);
  g_assert_cmpint (setgid (NOBODY), ==, 0);
  g_assert_cmpint (setuid (NOBODY), ==, 0);
  g_assert_cmpint (getuid (), ==, NOBODY);
  g_assert_cmpint (geteuid (), ==, NOBODY);

  TU_REC_CALL (rec, qsock_local_connect_to_server (sock, user_path, RW));
  rec_assert (rec,
              "s:state-changed(Connecting)@Connecting "
              "s:error-occurred(SocketAccess)@Connecting "
              "s:state-changed(Unconnected)@Unconnected");
  g_assert_cmpint (qsock_local_get_error (sock), ==, QSOCK_LOCAL_SOCKET_ERROR_SOCKET_ACCESS);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==,
                   "QLocalSocket::connectToServer: Socket access error");
  g_assert_null (qsock_local_get_server_name (sock));

  world = connected_client (world_path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);

  /* Listening where nobody may create files: EACCES → SocketAccessError
   * "Permission denied" (§5.2), with and without access options. */
  g_assert_false (qsock_local_server_listen (server, new_path));
  g_assert_cmpint (qsock_local_server_get_server_error (server), ==, QSOCK_SOCKET_ERROR_SOCKET_ACCESS);
  g_assert_cmpstr (qsock_local_server_get_error_string (server), ==,
                   "QLocalServer::listen: Permission denied");
  g_assert_false (qsock_local_server_is_listening (server));
  qsock_local_server_set_socket_options (server, QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS);
  g_assert_false (qsock_local_server_listen (server, new_path));
  g_assert_cmpint (qsock_local_server_get_server_error (server), ==, QSOCK_SOCKET_ERROR_SOCKET_ACCESS);
  g_assert_cmpstr (qsock_local_server_get_error_string (server), ==,
                   "QLocalServer::listen: Permission denied");
}

static void
test_connect_access_denied (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *user_path = NULL;
  g_autofree char *world_path = NULL;
  g_autoptr(QSockLocalServer) user_server = NULL;
  g_autoptr(QSockLocalServer) world_server = NULL;

  if (g_test_subprocess ())
    {
      access_denied_child ();
      return;
    }

  dir = make_private_dir ();
  user_path = g_build_filename (dir, "user.sock", NULL);
  world_path = g_build_filename (dir, "world.sock", NULL);

  if (getuid () != 0)
    {
      /* Without root, the owner of a 0070 socket is refused: the owner's
       * bits apply to the owner, whatever the group's are. */
      g_autoptr(QSockLocalServer) server = qsock_local_server_new ();

      qsock_local_server_set_socket_options (server, QSOCK_LOCAL_SERVER_OPTIONS_GROUP_ACCESS);
      g_assert_true (qsock_local_server_listen (server, user_path));
      assert_connect_fails (user_path, QSOCK_LOCAL_SOCKET_ERROR_SOCKET_ACCESS,
                            "QLocalSocket::connectToServer: Socket access error");
      g_test_message ("not root: checked with a 0070 socket instead of another user");
      qsock_local_server_close (server);
      remove_tree (dir);
      return;
    }

  /* Others may look up names in the directory, not create files there. */
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  user_server = qsock_local_server_new ();
  qsock_local_server_set_socket_options (user_server, QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS);
  g_assert_true (qsock_local_server_listen (user_server, user_path));
  world_server = qsock_local_server_new ();
  qsock_local_server_set_socket_options (world_server, QSOCK_LOCAL_SERVER_OPTIONS_WORLD_ACCESS);
  g_assert_true (qsock_local_server_listen (world_server, world_path));

  g_setenv ("QSOCK_TEST_ACCESS_DIR", dir, TRUE);
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC * tu_timeout_scale (),
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("QSOCK_TEST_ACCESS_DIR");
  g_test_trap_assert_passed ();

  /* The child got through to the world-accessible server only. */
  TU_RUN_UNTIL (qsock_local_server_has_pending_connections (world_server), 5000);
  tu_spin (50);
  g_assert_false (qsock_local_server_has_pending_connections (user_server));

  qsock_local_server_close (user_server);
  qsock_local_server_close (world_server);
  remove_tree (dir);
}

/* ======================================================================
 * Connecting: success and the name property (§2.5 L2)
 * ====================================================================== */

static void
test_signals_connect (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "l2.sock", NULL);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  g_autoptr(QSockLocal) sock = qsock_local_new ();
  g_autoptr(LocalRec) rec = rec_new (sock);
  g_autoptr(QSockLocal) accepted = NULL;
  guint new_connections = 0;

  g_signal_connect (server, "new-connection", G_CALLBACK (count_cb), &new_connections);
  g_assert_true (qsock_local_server_listen (server, path));

  /* L2: connected inside the call; the server hears of it from the loop. */
  TU_REC_CALL (rec, qsock_local_connect_to_server (sock, path, RW));
  rec_assert (rec,
              "s:state-changed(Connecting)@Connecting "
              "s:state-changed(Connected)@Connected "
              "s:connected@Connected");
  g_assert_cmpuint (new_connections, ==, 0);
  g_assert_cmpint (qsock_local_get_state (sock), ==, CONNECTED);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, RW);
  g_assert_true (qsock_local_is_valid (sock));
  g_assert_cmpint (qsock_local_get_socket_descriptor (sock), >=, 0);
  g_assert_cmpstr (qsock_local_get_server_name (sock), ==, path);
  g_assert_cmpstr (qsock_local_get_full_server_name (sock), ==, path);
  g_assert_cmpint (qsock_local_get_error (sock), ==, QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET);

  TU_RUN_UNTIL (new_connections == 1, 5000);
  accepted = qsock_local_server_next_pending_connection (server);
  g_assert_nonnull (accepted);
  g_assert_cmpint (qsock_local_get_state (accepted), ==, CONNECTED);

  /* Bytes go both ways. */
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "ping", 4), ==, 4);
  assert_bytes (read_exactly (accepted, 4), "ping");
  g_assert_cmpint (qsock_iodevice_write (DEV (accepted), "pong!", 5), ==, 5);
  assert_bytes (read_exactly (sock, 5), "pong!");

  tu_spin (50);
  rec_assert (rec,
              "s:state-changed(Connecting)@Connecting "
              "s:state-changed(Connected)@Connected "
              "s:connected@Connected "
              "l:bytes-written(4)@Connected "
              "l:ready-read@Connected");

  qsock_local_server_close (server);
  remove_tree (dir);
}

static void
test_connect_server_name_property (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "prop.sock", NULL);
  int lfd = posix_listen (path, FALSE);
  g_autoptr(QSockLocal) sock = qsock_local_new ();
  g_autoptr(QSockLocal) opened = qsock_local_new ();
  g_autofree char *name = NULL;
  int pfd;

  /* connectToServer() without a name uses serverName. */
  qsock_local_set_server_name (sock, path);
  g_assert_cmpstr (qsock_local_get_server_name (sock), ==, path);
  qsock_local_connect_to_server (sock, NULL, RW);
  g_assert_cmpint (qsock_local_get_state (sock), ==, CONNECTED);
  g_object_get (sock, "server-name", &name, NULL);
  g_assert_cmpstr (name, ==, path);
  pfd = tu_accept (lfd, 5000);
  close (pfd);

  /* setServerName() is ignored, with a warning, unless unconnected. */
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*setServerName*");
  qsock_local_set_server_name (sock, "other");
  g_test_assert_expected_messages ();
  g_assert_cmpstr (qsock_local_get_server_name (sock), ==, path);

  /* open(mode) is connectToServer(mode) and returns isOpen(). */
  qsock_local_set_server_name (opened, path);
  g_assert_true (qsock_iodevice_open (DEV (opened), QSOCK_OPEN_MODE_READ_ONLY));
  g_assert_cmpint (qsock_local_get_state (opened), ==, CONNECTED);
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (opened)), ==, QSOCK_OPEN_MODE_READ_ONLY);
  pfd = tu_accept (lfd, 5000);
  close (pfd);

  close (lfd);
  remove_tree (dir);
}

/* §2.5 first bullet, with the class's documented fixes: get_error() does
 * say OPERATION, and the text reads "connectToServer". */
static void
test_connect_while_connected (Pair          *f,
                              gconstpointer  data)
{
  QSockLocal *sock = f->sock;
  LocalRec *rec = f->rec;
  g_autofree char *other = g_build_filename (f->dir, "other.sock", NULL);

  TU_REC_CALL (rec, qsock_local_connect_to_server (sock, other, RW));
  rec_assert (rec, "s:error-occurred(Operation)@Connected");
  g_assert_cmpint (qsock_local_get_state (sock), ==, CONNECTED);
  g_assert_cmpint (qsock_local_get_error (sock), ==, QSOCK_LOCAL_SOCKET_ERROR_OPERATION);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==,
                   "QLocalSocket::connectToServer: Operation not permitted when socket is in this state");
  /* The connection and its names are untouched. */
  g_assert_cmpstr (qsock_local_get_server_name (sock), ==, f->path);
  g_assert_cmpstr (qsock_local_get_full_server_name (sock), ==, f->path);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));

  tu_write_all (f->peer, "still here", 10);
  assert_bytes (read_exactly (sock, 10), "still here");
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "ok", 2), ==, 2);
  g_assert_true (qsock_local_flush (sock));
  {
    char buf[2];
    tu_read_exact (f->peer, buf, 2, 5000);
    g_assert_cmpmem (buf, 2, "ok", 2);
  }
}

/* A server with a full backlog: the client stays connecting (§2.5 EAGAIN,
 * observed LB) and connects from the loop once the server accepts. */
static void
test_connect_backlog_full (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "backlog.sock", NULL);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  g_autoptr(QSockLocal) first = NULL;
  g_autoptr(QSockLocal) waiting = qsock_local_new ();
  g_autoptr(LocalRec) rec = rec_new (waiting);
  g_autoptr(QSockLocal) a = NULL;
  g_autoptr(QSockLocal) b = NULL;

  qsock_local_server_set_max_pending_connections (server, 0);
  qsock_local_server_set_listen_backlog_size (server, 0);
  g_assert_true (qsock_local_server_listen (server, path));

  /* Linux queues one connection beyond a backlog of 0. */
  first = connected_client (path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);

  TU_REC_CALL (rec, qsock_local_connect_to_server (waiting, path, RW));
  rec_assert (rec, "s:state-changed(Connecting)@Connecting");
  g_assert_cmpint (qsock_local_get_state (waiting), ==, QSOCK_LOCAL_SOCKET_STATE_CONNECTING);
  g_assert_false (qsock_iodevice_is_open (DEV (waiting)));
  g_assert_true (qsock_local_is_valid (waiting));

  /* waitForConnected() times out without an error. */
  g_assert_false (qsock_local_wait_for_connected (waiting, 200));
  g_assert_cmpint (qsock_local_get_state (waiting), ==, QSOCK_LOCAL_SOCKET_STATE_CONNECTING);
  g_assert_cmpint (qsock_local_get_error (waiting), ==, QSOCK_LOCAL_SOCKET_ERROR_UNKNOWN_SOCKET);
  tu_spin (100);
  rec_assert (rec, "s:state-changed(Connecting)@Connecting");

  /* Let the server accept: the waiting client gets in from the loop. */
  qsock_local_server_set_max_pending_connections (server, 5);
  TU_RUN_UNTIL (rec->n_connected == 1, 10000);
  rec_assert (rec,
              "s:state-changed(Connecting)@Connecting "
              "l:state-changed(Connected)@Connected "
              "l:connected@Connected");
  g_assert_true (qsock_iodevice_is_open (DEV (waiting)));
  g_assert_cmpstr (qsock_local_get_full_server_name (waiting), ==, path);

  a = accept_one (server);
  b = accept_one (server);
  g_assert_cmpint (qsock_iodevice_write (DEV (waiting), "late", 4), ==, 4);
  g_assert_cmpint (qsock_iodevice_write (DEV (first), "early", 5), ==, 5);
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (a)) == 5 &&
                qsock_iodevice_bytes_available (DEV (b)) == 4, 5000);
  assert_bytes (qsock_iodevice_read_all (DEV (a)), "early");
  assert_bytes (qsock_iodevice_read_all (DEV (b)), "late");

  remove_tree (dir);
}

/* ======================================================================
 * Names (§2.5 fullServerName, §5.2 listen)
 * ====================================================================== */

static void
test_names_relative (void)
{
  g_autofree char *name = unique_name ("rel");
  g_autofree char *full = tmp_path_of (name);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  g_autoptr(QSockLocal) client = NULL;
  g_autoptr(QSockLocal) accepted = NULL;

  g_assert_false (g_file_test (full, G_FILE_TEST_EXISTS));
  g_assert_true (qsock_local_server_listen (server, name));
  g_assert_true (qsock_local_server_is_listening (server));
  g_assert_cmpstr (qsock_local_server_get_server_name (server), ==, name);
  g_assert_cmpstr (qsock_local_server_get_full_server_name (server), ==, full);
  g_assert_true (is_socket_file (full));

  client = connected_client (name, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  g_assert_cmpstr (qsock_local_get_server_name (client), ==, name);
  g_assert_cmpstr (qsock_local_get_full_server_name (client), ==, full);

  /* The server's end reports the server's names. */
  accepted = accept_one (server);
  g_assert_cmpstr (qsock_local_get_server_name (accepted), ==, name);
  g_assert_cmpstr (qsock_local_get_full_server_name (accepted), ==, full);

  /* Unconnected sockets forget the names (L3: serverName()==""). */
  qsock_local_abort (client);
  g_assert_null (qsock_local_get_server_name (client));
  g_assert_null (qsock_local_get_full_server_name (client));

  qsock_local_server_close (server);
  g_assert_false (g_file_test (full, G_FILE_TEST_EXISTS));
}

static void
test_names_absolute (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "abs.sock", NULL);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  g_autoptr(QSockLocal) client = NULL;
  g_autoptr(QSockLocal) accepted = NULL;

  g_assert_true (qsock_local_server_listen (server, path));
  g_assert_cmpstr (qsock_local_server_get_server_name (server), ==, path);
  g_assert_cmpstr (qsock_local_server_get_full_server_name (server), ==, path);
  g_assert_true (is_socket_file (path));

  client = connected_client (path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  g_assert_cmpstr (qsock_local_get_server_name (client), ==, path);
  g_assert_cmpstr (qsock_local_get_full_server_name (client), ==, path);

  accepted = accept_one (server);
  g_assert_cmpstr (qsock_local_get_full_server_name (accepted), ==, path);
  g_assert_nonnull (qsock_local_get_server_name (accepted));
  g_assert_true (g_str_has_suffix (path, qsock_local_get_server_name (accepted)));

  g_object_unref (g_steal_pointer (&server));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  remove_tree (dir);
}

static void
test_names_abstract (void)
{
  g_autofree char *name = unique_name ("abstract");
  g_autofree char *in_tmp = tmp_path_of (name);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  g_autoptr(QSockLocalServer) again = qsock_local_server_new ();
  g_autoptr(QSockLocal) client = NULL;
  g_autoptr(QSockLocal) accepted = NULL;

  qsock_local_server_set_socket_options (server, QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE);
  g_assert_true (qsock_local_server_listen (server, name));
  g_assert_cmpstr (qsock_local_server_get_server_name (server), ==, name);
  g_assert_cmpstr (qsock_local_server_get_full_server_name (server), ==, name);
  /* No file anywhere. */
  g_assert_false (g_file_test (in_tmp, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (name, G_FILE_TEST_EXISTS));

  client = connected_client (name, QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE);
  g_assert_cmpstr (qsock_local_get_server_name (client), ==, name);
  g_assert_cmpstr (qsock_local_get_full_server_name (client), ==, name);

  accepted = accept_one (server);
  g_assert_cmpstr (qsock_local_get_server_name (accepted), ==, name);
  g_assert_cmpstr (qsock_local_get_full_server_name (accepted), ==, name);
  g_assert_true (qsock_local_get_socket_options (accepted) & QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE);

  /* A client without the option looks for a file and finds none. */
  assert_connect_fails (name, QSOCK_LOCAL_SOCKET_ERROR_SERVER_NOT_FOUND,
                        "QLocalSocket::connectToServer: Invalid name");

  /* Two servers cannot share an abstract name either. */
  qsock_local_server_set_socket_options (again, QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE);
  g_assert_false (qsock_local_server_listen (again, name));
  g_assert_cmpint (qsock_local_server_get_server_error (again), ==, QSOCK_SOCKET_ERROR_ADDRESS_IN_USE);
  g_assert_cmpstr (qsock_local_server_get_error_string (again), ==, "QLocalServer::listen: Address in use");

  /* Closing frees the name. */
  qsock_local_server_close (server);
  g_assert_true (qsock_local_server_listen (again, name));
  qsock_local_server_close (again);
  g_assert_false (g_file_test (in_tmp, G_FILE_TEST_EXISTS));
}

/* With access options the socket is bound in a private staging directory
 * and then linked into place; the server's end must still report where the
 * server is (§2.5), not the staging path, which no longer exists. */
static void
test_names_access_options (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "perm.sock", NULL);
  g_autofree char *name = unique_name ("perm");
  g_autofree char *full = tmp_path_of (name);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  g_autoptr(QSockLocalServer) relative = qsock_local_server_new ();
  g_autoptr(QSockLocal) client = NULL;
  g_autoptr(QSockLocal) accepted = NULL;
  g_autoptr(QSockLocal) rel_client = NULL;
  g_autoptr(QSockLocal) rel_accepted = NULL;

  qsock_local_server_set_socket_options (server, QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS);
  g_assert_true (qsock_local_server_listen (server, path));
  client = connected_client (path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  accepted = accept_one (server);
  g_assert_cmpstr (qsock_local_get_full_server_name (accepted), ==, path);
  g_assert_true (g_str_has_suffix (path, qsock_local_get_server_name (accepted)));

  qsock_local_server_set_socket_options (relative, QSOCK_LOCAL_SERVER_OPTIONS_WORLD_ACCESS);
  g_assert_true (qsock_local_server_listen (relative, name));
  rel_client = connected_client (name, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  rel_accepted = accept_one (relative);
  g_assert_cmpstr (qsock_local_get_server_name (rel_accepted), ==, name);
  g_assert_cmpstr (qsock_local_get_full_server_name (rel_accepted), ==, full);

  qsock_local_server_close (relative);
  g_assert_false (g_file_test (full, G_FILE_TEST_EXISTS));
  qsock_local_server_close (server);
  remove_tree (dir);
}

/* ======================================================================
 * listen() errors, removeServer, close (§5.2, §7.3, §8.14)
 * ====================================================================== */

static void
assert_listen_fails (QSockLocalServer *server,
                     const char       *name,
                     QSockSocketError  error,
                     const char       *error_string)
{
  g_assert_false (qsock_local_server_listen (server, name));
  g_assert_cmpint (qsock_local_server_get_server_error (server), ==, error);
  g_assert_cmpstr (qsock_local_server_get_error_string (server), ==, error_string);
  g_assert_false (qsock_local_server_is_listening (server));
  g_assert_null (qsock_local_server_get_server_name (server));
  g_assert_null (qsock_local_server_get_full_server_name (server));
  g_assert_cmpint (qsock_local_server_get_socket_descriptor (server), ==, -1);
}

static void
test_listen_address_in_use (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "busy.sock", NULL);
  g_autofree char *plain = g_build_filename (dir, "plain-file", NULL);
  g_autoptr(QSockLocalServer) first = qsock_local_server_new ();
  g_autoptr(QSockLocalServer) second = qsock_local_server_new ();
  g_autoptr(QSockLocal) client = NULL;
  g_autoptr(QSockLocal) accepted = NULL;
  g_autofree char *contents = NULL;

  g_assert_true (qsock_local_server_listen (first, path));
  assert_listen_fails (second, path, QSOCK_SOCKET_ERROR_ADDRESS_IN_USE,
                       "QLocalServer::listen: Address in use");

  /* The file stays and the first server still works. */
  g_assert_true (is_socket_file (path));
  client = connected_client (path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  accepted = accept_one (first);
  g_assert_cmpint (qsock_iodevice_write (DEV (client), "first", 5), ==, 5);
  assert_bytes (read_exactly (accepted, 5), "first");

  /* With access options the socket is linked into place: same answer,
   * and nothing is left of the private staging directory. */
  qsock_local_server_set_socket_options (second, QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS);
  assert_listen_fails (second, path, QSOCK_SOCKET_ERROR_ADDRESS_IN_USE,
                       "QLocalServer::listen: Address in use");
  g_assert_cmpuint (count_entries (dir, ".qsock-"), ==, 0);

  /* Any file at the path counts, and is left as it was. */
  g_assert_true (g_file_set_contents (plain, "keep me", -1, NULL));
  qsock_local_server_set_socket_options (second, QSOCK_LOCAL_SERVER_OPTIONS_NONE);
  assert_listen_fails (second, plain, QSOCK_SOCKET_ERROR_ADDRESS_IN_USE,
                       "QLocalServer::listen: Address in use");
  g_assert_true (g_file_get_contents (plain, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "keep me");

  /* The failed server's close() leaves the other server's file alone. */
  qsock_local_server_close (second);
  g_object_unref (g_steal_pointer (&second));
  g_assert_true (is_socket_file (path));

  qsock_local_server_close (first);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  remove_tree (dir);
}

static void
test_listen_name_error (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *no_dir = g_build_filename (dir, "no-such-dir", "x.sock", NULL);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();

  /* ENOENT → HostNotFoundError "Name error", observed for
   * "/nonexistent_dir/x". */
  assert_listen_fails (server, no_dir, QSOCK_SOCKET_ERROR_HOST_NOT_FOUND,
                       "QLocalServer::listen: Name error");
  qsock_local_server_set_socket_options (server, QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS);
  assert_listen_fails (server, no_dir, QSOCK_SOCKET_ERROR_HOST_NOT_FOUND,
                       "QLocalServer::listen: Name error");
  qsock_local_server_set_socket_options (server, QSOCK_LOCAL_SERVER_OPTIONS_NONE);

  /* The empty name: the same error, from the same function. */
  assert_listen_fails (server, "", QSOCK_SOCKET_ERROR_HOST_NOT_FOUND,
                       "QLocalServer::listen: Name error");

  /* After a failure the server can still listen. */
  {
    g_autofree char *path = g_build_filename (dir, "fine.sock", NULL);

    g_assert_true (qsock_local_server_listen (server, path));
    /* close() resets the error and its text. */
    qsock_local_server_close (server);
    g_assert_cmpint (qsock_local_server_get_server_error (server), ==, QSOCK_SOCKET_ERROR_UNKNOWN_SOCKET);
    g_assert_cmpstr (qsock_local_server_get_error_string (server), ==, "");
  }

  remove_tree (dir);
}

static void
test_listen_already_listening (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "once.sock", NULL);
  g_autofree char *other = g_build_filename (dir, "twice.sock", NULL);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();

  g_assert_true (qsock_local_server_listen (server, path));
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, "*called when already listening*");
  g_assert_false (qsock_local_server_listen (server, other));
  g_test_assert_expected_messages ();
  g_assert_cmpstr (qsock_local_server_get_server_name (server), ==, path);
  g_assert_false (g_file_test (other, G_FILE_TEST_EXISTS));
  g_assert_true (qsock_local_server_is_listening (server));

  qsock_local_server_close (server);
  remove_tree (dir);
}

static void
test_listen_remove_server (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "stale.sock", NULL);
  g_autofree char *name = unique_name ("remove");
  g_autofree char *full = tmp_path_of (name);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  g_autoptr(QSockLocal) client = NULL;

  /* A crashed server's file blocks listen (§8.14)... */
  make_stale_socket (path);
  assert_listen_fails (server, path, QSOCK_SOCKET_ERROR_ADDRESS_IN_USE,
                       "QLocalServer::listen: Address in use");
  g_assert_true (is_socket_file (path));

  /* ...until removeServer() deletes it. */
  g_assert_true (qsock_local_server_remove_server (path));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (qsock_local_server_listen (server, path));
  client = connected_client (path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  qsock_local_server_close (server);

  /* Nothing there is success too. */
  g_assert_true (qsock_local_server_remove_server (path));

  /* A relative name is looked up in the temporary directory. */
  make_stale_socket (full);
  g_assert_true (qsock_local_server_remove_server (name));
  g_assert_false (g_file_test (full, G_FILE_TEST_EXISTS));

  /* It does not check what the file is. */
  g_assert_true (g_file_set_contents (path, "not a socket", -1, NULL));
  g_assert_true (qsock_local_server_remove_server (path));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  remove_tree (dir);
}

static void
test_listen_close_removes_file (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "closing.sock", NULL);
  g_autofree char *path2 = g_build_filename (dir, "disposed.sock", NULL);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  QSockLocalServer *disposed = qsock_local_server_new ();
  g_autoptr(QSockLocal) client = NULL;
  g_autoptr(LocalRec) rec = NULL;

  g_assert_true (qsock_local_server_listen (server, path));
  g_assert_true (is_socket_file (path));

  /* A queued connection is dropped with the server. */
  client = connected_client (path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  rec = rec_new (client);
  TU_RUN_UNTIL (qsock_local_server_has_pending_connections (server), 5000);

  qsock_local_server_close (server);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (qsock_local_server_is_listening (server));
  g_assert_null (qsock_local_server_get_server_name (server));
  g_assert_null (qsock_local_server_get_full_server_name (server));
  g_assert_cmpint (qsock_local_server_get_socket_descriptor (server), ==, -1);
  g_assert_false (qsock_local_server_has_pending_connections (server));
  TU_RUN_UNTIL (rec->n_disconnected == 1, 5000);

  /* Closing again does nothing; listening again works. */
  qsock_local_server_close (server);
  g_assert_true (qsock_local_server_listen (server, path));
  qsock_local_server_close (server);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Dropping the last reference closes too. */
  g_assert_true (qsock_local_server_listen (disposed, path2));
  g_assert_true (is_socket_file (path2));
  g_object_unref (disposed);
  g_assert_false (g_file_test (path2, G_FILE_TEST_EXISTS));

  remove_tree (dir);
}

/* ======================================================================
 * Access options (§5.2 Permissions)
 * ====================================================================== */

static void
test_access_modes (void)
{
  static const struct { QSockLocalServerOptions options; guint mode; const char *label; } cases[] = {
    { QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS, 0700, "user" },
    { QSOCK_LOCAL_SERVER_OPTIONS_GROUP_ACCESS, 0070, "group" },
    { QSOCK_LOCAL_SERVER_OPTIONS_OTHER_ACCESS, 0007, "other" },
    { QSOCK_LOCAL_SERVER_OPTIONS_WORLD_ACCESS, 0777, "world" },
    { QSOCK_LOCAL_SERVER_OPTIONS_USER_ACCESS | QSOCK_LOCAL_SERVER_OPTIONS_GROUP_ACCESS, 0770, "user-group" },
  };
  g_autofree char *dir = make_private_dir ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s.sock", dir, cases[i].label);
      g_autoptr(QSockLocalServer) server = qsock_local_server_new ();

      g_test_message ("access option %s", cases[i].label);
      qsock_local_server_set_socket_options (server, cases[i].options);
      g_assert_cmpint (qsock_local_server_get_socket_options (server), ==, cases[i].options);
      g_assert_true (qsock_local_server_listen (server, path));
      g_assert_cmpstr (qsock_local_server_get_full_server_name (server), ==, path);
      g_assert_cmpuint (permission_bits (path), ==, cases[i].mode);
      /* The private staging directory is gone. */
      g_assert_cmpuint (count_entries (dir, ".qsock-"), ==, 0);

      /* The socket serves (root may connect whatever the mode; the owner
       * only through the owner's bits). */
      if (getuid () == 0 || (cases[i].mode & 0700) != 0)
        {
          g_autoptr(QSockLocal) client = connected_client (path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
          g_autoptr(QSockLocal) accepted = accept_one (server);

          g_assert_cmpint (qsock_iodevice_write (DEV (client), "m", 1), ==, 1);
          assert_bytes (read_exactly (accepted, 1), "m");
          g_assert_cmpstr (qsock_local_get_full_server_name (client), ==, path);
        }

      qsock_local_server_close (server);
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
    }

  /* Only the directory itself is left. */
  g_assert_cmpuint (count_entries (dir, ""), ==, 0);
  remove_tree (dir);
}

static void
test_access_umask (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = make_private_dir ();
      g_autofree char *p022 = g_build_filename (dir, "umask022.sock", NULL);
      g_autofree char *p077 = g_build_filename (dir, "umask077.sock", NULL);
      g_autoptr(QSockLocalServer) s022 = qsock_local_server_new ();
      g_autoptr(QSockLocalServer) s077 = qsock_local_server_new ();
      g_autoptr(QSockLocalServer) user = qsock_local_server_new ();
      g_autofree char *puser = g_build_filename (dir, "user.sock", NULL);

      /* NoOptions: bind() under the umask, observed 0755 with 022. */
      umask (022);
      g_assert_true (qsock_local_server_listen (s022, p022));
      g_assert_cmpuint (permission_bits (p022), ==, 0755);

      umask (077);
      g_assert_true (qsock_local_server_listen (s077, p077));
      g_assert_cmpuint (permission_bits (p077), ==, 0700);

      /* Access options do not depend on the umask. */
      umask (0777);
      qsock_local_server_set_socket_options (user, QSOCK_LOCAL_SERVER_OPTIONS_WORLD_ACCESS);
      g_assert_true (qsock_local_server_listen (user, puser));
      g_assert_cmpuint (permission_bits (puser), ==, 0777);
      umask (022);

      qsock_local_server_close (s022);
      qsock_local_server_close (s077);
      qsock_local_server_close (user);
      g_assert_cmpuint (count_entries (dir, ""), ==, 0);
      remove_tree (dir);
      return;
    }

  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC * tu_timeout_scale (),
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* ======================================================================
 * Closing (§2.5 L3–L6)
 * ====================================================================== */

static void
test_signals_peer_closes (Pair          *f,
                          gconstpointer  data)
{
  QSockLocal *sock = f->sock;
  LocalRec *rec = f->rec;
  char buf[8];

  tu_write_all (f->peer, "hello\n", 6);
  pair_close_peer (f);
  TU_RUN_UNTIL (rec->n_disconnected > 0, 5000);

  /* L3: the error first, while still connected. */
  rec_assert (rec,
              "l:ready-read@Connected "
              "l:error-occurred(PeerClosed)@Connected "
              "l:state-changed(Closing)@Closing "
              "l:state-changed(Unconnected)@Unconnected "
              "l:read-channel-finished@Unconnected "
              "l:disconnected@Unconnected");
  g_assert_cmpint (qsock_local_get_error (sock), ==, QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==, "QLocalSocket: Remote closed");
  g_assert_cmpint (qsock_local_get_state (sock), ==, UNCONNECTED);
  g_assert_null (qsock_local_get_server_name (sock));
  g_assert_null (qsock_local_get_full_server_name (sock));

  /* The data is still there, and the device still open. */
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 6);
  g_assert_true (qsock_iodevice_can_read_line (DEV (sock)));
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "hello\n");
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), buf, sizeof buf), ==, -1);

  tu_spin (50);
  g_assert_cmpuint (rec->n_disconnected, ==, 1);
  g_assert_cmpuint (rec->n_errors, ==, 1);
}

/* The same with the library on both ends, as the probe did it: the
 * server-side socket writes and calls disconnectFromServer(). */
static void
test_signals_peer_disconnects (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "l3.sock", NULL);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  g_autoptr(QSockLocal) client = NULL;
  g_autoptr(QSockLocal) accepted = NULL;
  g_autoptr(LocalRec) rec = NULL;
  g_autoptr(LocalRec) peer_rec = NULL;

  g_assert_true (qsock_local_server_listen (server, path));
  client = connected_client (path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  rec = rec_new (client);
  accepted = accept_one (server);
  peer_rec = rec_new (accepted);

  g_assert_cmpint (qsock_iodevice_write (DEV (accepted), "hello\n", 6), ==, 6);
  TU_REC_CALL (peer_rec, qsock_local_disconnect_from_server (accepted));
  rec_assert (peer_rec, "s:state-changed(Closing)@Closing");
  TU_RUN_UNTIL (rec->n_disconnected > 0 && peer_rec->n_disconnected > 0, 5000);

  rec_assert (rec,
              "l:ready-read@Connected "
              "l:error-occurred(PeerClosed)@Connected "
              "l:state-changed(Closing)@Closing "
              "l:state-changed(Unconnected)@Unconnected "
              "l:read-channel-finished@Unconnected "
              "l:disconnected@Unconnected");
  assert_bytes (qsock_iodevice_read_all (DEV (client)), "hello\n");
  /* L4 on the other end. */
  rec_assert (peer_rec,
              "s:state-changed(Closing)@Closing "
              "l:bytes-written(6)@Closing "
              "l:state-changed(Unconnected)@Unconnected "
              "l:read-channel-finished@Unconnected "
              "l:disconnected@Unconnected");

  remove_tree (dir);
}

static void
test_signals_disconnect_1mib (Pair          *f,
                              gconstpointer  data)
{
  const guint64 total = MIB;
  QSockLocal *sock = f->sock;
  LocalRec *rec = f->rec;
  TuPeerJob job = { .fd = f->peer };
  g_autofree char *expected_sum = tu_pattern_checksum (total);
  g_autofree char *expected = g_strdup_printf (
      "s:state-changed(Closing)@Closing "
      "l:bytes-written(%" G_GUINT64_FORMAT ")@Closing "
      "l:state-changed(Unconnected)@Unconnected "
      "l:read-channel-finished@Unconnected "
      "l:disconnected@Unconnected", total);
  GThread *sink;

  write_pattern (DEV (sock), total);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, total);

  sink = tu_sink_start (&job);
  TU_REC_CALL (rec, qsock_local_disconnect_from_server (sock));

  /* L4: Closing inside the call, the rest once everything is written. */
  rec_assert (rec, "s:state-changed(Closing)@Closing");
  g_assert_cmpint (qsock_local_get_state (sock), ==, QSOCK_LOCAL_SOCKET_STATE_CLOSING);

  TU_RUN_UNTIL (rec->n_disconnected > 0, 30000);
  rec_assert (rec, expected);
  g_assert_cmpint (rec->bytes_written, ==, total);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);
  /* disconnectFromServer() never closes the device. */
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));

  g_thread_join (sink);
  g_assert_cmpint (job.error, ==, 0);
  g_assert_cmpuint (job.transferred, ==, total);
  g_assert_cmpstr (job.checksum, ==, expected_sum);
  g_free (job.checksum);
}

static void
test_signals_abort (Pair          *f,
                    gconstpointer  data)
{
  QSockLocal *sock = f->sock;
  LocalRec *rec = f->rec;

  /* Queued data is dropped. */
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "dropped", 7), ==, 7);
  TU_REC_CALL (rec, qsock_local_abort (sock));

  /* L5: aboutToClose LAST for QLocalSocket. */
  rec_assert (rec,
              "s:state-changed(Unconnected)@Unconnected "
              "s:read-channel-finished@Unconnected "
              "s:disconnected@Unconnected "
              "s:about-to-close@Unconnected");
  g_assert_false (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);
  g_assert_cmpint (qsock_local_get_socket_descriptor (sock), ==, -1);
  g_assert_null (qsock_local_get_server_name (sock));

  g_assert_true (tu_sees_eof (f->peer, 5000));
  tu_spin (50);
  g_assert_cmpuint (rec->events->len, ==, 4);
}

static void
test_signals_close (Pair          *f,
                    gconstpointer  data)
{
  QSockLocal *sock = f->sock;
  LocalRec *rec = f->rec;

  TU_REC_CALL (rec, qsock_iodevice_close (DEV (sock)));

  /* L6: aboutToClose first, everything inside the call. */
  rec_assert (rec,
              "s:about-to-close@Connected "
              "s:state-changed(Closing)@Closing "
              "s:state-changed(Unconnected)@Unconnected "
              "s:read-channel-finished@Unconnected "
              "s:disconnected@Unconnected");
  g_assert_false (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_local_get_state (sock), ==, UNCONNECTED);
  g_assert_null (qsock_local_get_server_name (sock));
  g_assert_true (tu_sees_eof (f->peer, 5000));

  /* The socket connects again after close(). */
  rec_reset (rec);
  TU_REC_CALL (rec, qsock_local_connect_to_server (sock, f->path, RW));
  rec_assert (rec,
              "s:state-changed(Connecting)@Connecting "
              "s:state-changed(Connected)@Connected "
              "s:connected@Connected");
  close (tu_accept (f->listener, 5000));
}

/* ======================================================================
 * readBufferSize backpressure (§3.4)
 * ====================================================================== */

typedef struct
{
  GChecksum *sum;
  guint64    received;
  gint64     max_available;
  guint      over_limit;
  guint8    *buf;
} FloodReader;

static void
flood_drain (QSockIODevice *dev, FloodReader *fr)
{
  gint64 n;

  while ((n = qsock_iodevice_read (dev, (char *) fr->buf, 256 * 1024)) > 0)
    {
      g_checksum_update (fr->sum, fr->buf, n);
      fr->received += n;
    }
}

static void
flood_ready_read_cb (QSockIODevice *dev, FloodReader *fr)
{
  gint64 avail = qsock_iodevice_bytes_available (dev);

  fr->max_available = MAX (fr->max_available, avail);
  if (avail > 65536)
    fr->over_limit++;
  /* Only a full drain lets reading resume. */
  if (avail >= 65536)
    flood_drain (dev, fr);
}

static void
test_backpressure_flood (Pair          *f,
                         gconstpointer  data)
{
  const guint64 total = 16 * MIB;
  QSockLocal *sock = f->sock;
  LocalRec *rec = f->rec;
  FloodReader fr = { 0 };
  TuPeerJob job = { .fd = f->peer, .total = total, .shutdown_at_end = TRUE };
  GThread *flood;
  gulong id;

  fr.sum = g_checksum_new (G_CHECKSUM_SHA1);
  fr.buf = g_malloc (256 * 1024);
  qsock_local_set_read_buffer_size (sock, 65536);
  g_assert_cmpint (qsock_local_get_read_buffer_size (sock), ==, 65536);

  flood = tu_flood_start (&job);

  /* Unread, the buffer fills to the limit and stays there: the kernel
   * holds the rest and the flooding peer blocks. */
  TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) >= 65536, 10000);
  tu_spin (200);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 65536);
  g_assert_false (g_atomic_int_get (&job.done));

  /* A partial read does not resume reading. */
  g_assert_cmpint (qsock_iodevice_read (DEV (sock), (char *) fr.buf, 5), ==, 5);
  g_checksum_update (fr.sum, fr.buf, 5);
  fr.received += 5;
  tu_spin (100);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), ==, 65536 - 5);

  /* Draining it does; from now on the reader drains at the limit. */
  id = g_signal_connect (sock, "ready-read", G_CALLBACK (flood_ready_read_cb), &fr);
  flood_drain (DEV (sock), &fr);
  TU_RUN_UNTIL (rec->n_disconnected > 0, 120000);
  g_thread_join (flood);
  g_assert_cmpint (qsock_iodevice_bytes_available (DEV (sock)), <=, 65536);
  flood_drain (DEV (sock), &fr);

  g_assert_cmpint (job.error, ==, 0);
  g_assert_cmpuint (job.transferred, ==, total);
  g_assert_cmpuint (fr.received, ==, total);
  g_assert_cmpstr (g_checksum_get_string (fr.sum), ==, job.checksum);
  g_assert_cmpuint (fr.over_limit, ==, 0);
  g_assert_cmpint (fr.max_available, <=, 65536);

  g_signal_handler_disconnect (sock, id);
  g_checksum_free (fr.sum);
  g_free (fr.buf);
  g_free (job.checksum);
}

/* ======================================================================
 * Blocking waits in a thread with no main loop (§3.6)
 * ====================================================================== */

typedef struct
{
  char        *path;
  GAsyncQueue *steps;     /* the thread says how far it got */
  gint         done;
} WaitCase;

static gint64
elapsed_ms (gint64 since)
{
  return (g_get_monotonic_time () - since) / 1000;
}

static gpointer
socket_wait_thread (gpointer data)
{
  WaitCase *wc = data;
  GMainContext *context = g_main_context_new ();
  QSockLocal *sock;
  LocalRec *rec;
  char block[1000];
  gint64 start;
  gboolean ok;

  /* A context of its own that nobody ever iterates. */
  g_main_context_push_thread_default (context);
  sock = qsock_local_new ();
  rec = rec_new (sock);

  /* waitForConnected: false while unconnected, true at once when
   * connected (connecting is synchronous). */
  g_assert_false (qsock_local_wait_for_connected (sock, 100));
  qsock_local_connect_to_server (sock, wc->path, RW);
  g_assert_cmpint (qsock_local_get_state (sock), ==, CONNECTED);
  start = g_get_monotonic_time ();
  g_assert_true (qsock_local_wait_for_connected (sock, 10000));
  g_assert_cmpint (elapsed_ms (start), <, 1000 * (gint64) tu_timeout_scale ());

  /* waitForReadyRead times out: errorOccurred(SocketTimeout) inside the
   * call, and the socket stays connected (tst dontCloseOnTimeout). */
  rec_reset (rec);
  start = g_get_monotonic_time ();
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), 100));
  g_assert_false (ok);
  g_assert_cmpint (elapsed_ms (start), >=, 90);
  rec_assert (rec, "s:error-occurred(SocketTimeout)@Connected");
  g_assert_cmpint (qsock_local_get_error (sock), ==, QSOCK_LOCAL_SOCKET_ERROR_SOCKET_TIMEOUT);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (sock)), ==,
                   "QLocalSocket: Socket operation timed out");
  g_assert_cmpint (qsock_local_get_state (sock), ==, CONNECTED);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));
  g_async_queue_push (wc->steps, GINT_TO_POINTER (1));

  /* The peer writes: waitForReadyRead returns with readyRead inside. */
  rec_reset (rec);
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_ready_read (DEV (sock), 10000));
  g_assert_true (ok);
  rec_assert (rec, "s:ready-read@Connected");
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "ping");

  /* waitForBytesWritten: false at once with nothing queued, true once a
   * chunk went out, with bytesWritten inside. */
  g_assert_false (qsock_iodevice_wait_for_bytes_written (DEV (sock), 10000));
  memset (block, 'w', sizeof block);
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), block, sizeof block), ==, sizeof block);
  rec_reset (rec);
  TU_REC_CALL (rec, ok = qsock_iodevice_wait_for_bytes_written (DEV (sock), 10000));
  g_assert_true (ok);
  rec_assert (rec, "s:bytes-written(1000)@Connected");
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (sock)), ==, 0);

  /* waitForDisconnected times out and leaves the socket connected. */
  rec_reset (rec);
  TU_REC_CALL (rec, ok = qsock_local_wait_for_disconnected (sock, 100));
  g_assert_false (ok);
  rec_assert (rec, "s:error-occurred(SocketTimeout)@Connected");
  g_assert_cmpint (qsock_local_get_state (sock), ==, CONNECTED);
  g_async_queue_push (wc->steps, GINT_TO_POINTER (2));

  /* The peer closes: waitForDisconnected sees it through. */
  rec_reset (rec);
  TU_REC_CALL (rec, ok = qsock_local_wait_for_disconnected (sock, 10000));
  g_assert_true (ok);
  rec_assert (rec,
              "s:error-occurred(PeerClosed)@Connected "
              "s:state-changed(Closing)@Closing "
              "s:state-changed(Unconnected)@Unconnected "
              "s:read-channel-finished@Unconnected "
              "s:disconnected@Unconnected");
  g_assert_cmpint (qsock_local_get_state (sock), ==, UNCONNECTED);
  g_assert_false (qsock_local_wait_for_connected (sock, 100));
  g_assert_false (qsock_iodevice_wait_for_ready_read (DEV (sock), 100));

  rec_free (rec);
  g_object_unref (sock);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_atomic_int_set (&wc->done, 1);
  return NULL;
}

static void
await_step (GAsyncQueue *queue, int expected)
{
  gpointer step = g_async_queue_timeout_pop (queue, 20 * G_USEC_PER_SEC * tu_timeout_scale ());

  g_assert_cmpint (GPOINTER_TO_INT (step), ==, expected);
}

static void
test_wait_socket_in_thread (void)
{
  g_autofree char *dir = make_private_dir ();
  WaitCase wc = { .path = g_build_filename (dir, "wait.sock", NULL) };
  int lfd = posix_listen (wc.path, FALSE);
  GThread *thread;
  char got[1000];
  int pfd;

  wc.steps = g_async_queue_new ();
  thread = g_thread_new ("test-local-wait", socket_wait_thread, &wc);

  await_step (wc.steps, 1);
  pfd = tu_accept (lfd, 5000);
  tu_write_all (pfd, "ping", 4);

  await_step (wc.steps, 2);
  tu_read_exact (pfd, got, sizeof got, 5000);
  g_assert_cmpint (got[0], ==, 'w');
  g_assert_cmpint (got[sizeof got - 1], ==, 'w');
  close (pfd);

  g_thread_join (thread);
  g_assert_true (g_atomic_int_get (&wc.done));

  g_async_queue_unref (wc.steps);
  close (lfd);
  g_free (wc.path);
  remove_tree (dir);
}

static gpointer
server_wait_thread (gpointer data)
{
  WaitCase *wc = data;
  GMainContext *context = g_main_context_new ();
  QSockLocalServer *server;
  QSockLocal *sock;
  guint new_connections = 0;
  gboolean timed_out = FALSE;
  gint64 start;

  g_main_context_push_thread_default (context);
  server = qsock_local_server_new ();
  g_signal_connect (server, "new-connection", G_CALLBACK (count_cb), &new_connections);
  g_assert_true (qsock_local_server_listen (server, wc->path));

  /* Nobody connects: timed out. */
  start = g_get_monotonic_time ();
  g_assert_false (qsock_local_server_wait_for_new_connection (server, 100, &timed_out));
  g_assert_true (timed_out);
  g_assert_cmpint (elapsed_ms (start), >=, 90);
  g_assert_false (qsock_local_server_wait_for_new_connection (server, 10, NULL));
  g_assert_cmpuint (new_connections, ==, 0);
  g_async_queue_push (wc->steps, GINT_TO_POINTER (1));

  /* A client connects: accepted inside the call, newConnection too. */
  g_assert_true (qsock_local_server_wait_for_new_connection (server, 10000, &timed_out));
  g_assert_false (timed_out);
  g_assert_cmpuint (new_connections, ==, 1);
  sock = qsock_local_server_next_pending_connection (server);
  g_assert_nonnull (sock);
  g_assert_true (qsock_iodevice_wait_for_ready_read (DEV (sock), 10000));
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "hi");
  g_object_unref (sock);

  /* Not listening: false at once, not timed out. */
  qsock_local_server_close (server);
  timed_out = TRUE;
  g_assert_false (qsock_local_server_wait_for_new_connection (server, 10000, &timed_out));
  g_assert_false (timed_out);

  g_object_unref (server);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_atomic_int_set (&wc->done, 1);
  return NULL;
}

static void
test_wait_server_in_thread (void)
{
  g_autofree char *dir = make_private_dir ();
  WaitCase wc = { .path = g_build_filename (dir, "wait-server.sock", NULL) };
  GThread *thread;
  int cfd;

  wc.steps = g_async_queue_new ();
  thread = g_thread_new ("test-local-wait-server", server_wait_thread, &wc);

  await_step (wc.steps, 1);
  cfd = posix_connect (wc.path);
  tu_write_all (cfd, "hi", 2);

  g_thread_join (thread);
  g_assert_true (g_atomic_int_get (&wc.done));

  close (cfd);
  g_async_queue_unref (wc.steps);
  g_free (wc.path);
  remove_tree (dir);
}

/* A zero timeout polls once, as Qt's poll(0) does: what is already in
 * the kernel is found. waitForNewConnection's default is 0, so "is anyone
 * there?" is a common call. */
static void
test_wait_zero_timeout (Pair          *f,
                        gconstpointer  data)
{
  QSockLocal *sock = f->sock;
  g_autofree char *path = g_build_filename (f->dir, "zero.sock", NULL);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  gboolean timed_out = TRUE;
  int cfd;

  /* Nobody yet: timed out at once. */
  g_assert_true (qsock_local_server_listen (server, path));
  g_assert_false (qsock_local_server_wait_for_new_connection (server, 0, &timed_out));
  g_assert_true (timed_out);

  cfd = posix_connect (path);
  g_assert_true (qsock_local_server_wait_for_new_connection (server, 0, &timed_out));
  g_assert_false (timed_out);
  g_assert_true (qsock_local_server_has_pending_connections (server));
  close (cfd);

  tu_write_all (f->peer, "now", 3);
  g_usleep (50 * 1000);
  g_assert_true (qsock_iodevice_wait_for_ready_read (DEV (sock), 0));
  assert_bytes (qsock_iodevice_read_all (DEV (sock)), "now");
}

static void
test_wait_disconnected_unconnected (void)
{
  g_autoptr(QSockLocal) sock = qsock_local_new ();

  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING,
                         "QLocalSocket::waitForDisconnected() is not allowed in UnconnectedState");
  g_assert_false (qsock_local_wait_for_disconnected (sock, 100));
  g_test_assert_expected_messages ();
  /* waitForReadyRead on an unconnected socket: false, no warning. */
  g_assert_false (qsock_iodevice_wait_for_ready_read (DEV (sock), 100));
}

/* ======================================================================
 * The server (§5.2)
 * ====================================================================== */

static void
test_server_new_connection (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "server.sock", NULL);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  guint new_connections = 0;
  int clients[3];

  g_signal_connect (server, "new-connection", G_CALLBACK (count_cb), &new_connections);
  g_assert_true (qsock_local_server_listen (server, path));
  g_assert_cmpint (qsock_local_server_get_socket_descriptor (server), >=, 0);

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      char tag = 'a' + i;

      clients[i] = posix_connect (path);
      tu_write_all (clients[i], &tag, 1);
    }

  /* One newConnection per client, each queued. */
  TU_RUN_UNTIL (new_connections == G_N_ELEMENTS (clients), 5000);
  tu_spin (50);
  g_assert_cmpuint (new_connections, ==, G_N_ELEMENTS (clients));
  g_assert_true (qsock_local_server_has_pending_connections (server));

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      QSockLocal *sock = qsock_local_server_next_pending_connection (server);
      GWeakRef weak;
      char tag;

      /* transfer full: ours is the only reference. */
      g_assert_nonnull (sock);
      g_weak_ref_init (&weak, sock);
      g_assert_cmpint (qsock_local_get_state (sock), ==, CONNECTED);
      g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, RW);

      /* In accept order; each one talks to its own client. */
      TU_RUN_UNTIL (qsock_iodevice_bytes_available (DEV (sock)) == 1, 5000);
      g_assert_true (qsock_iodevice_get_char (DEV (sock), &tag));
      g_assert_cmpint (tag, ==, 'a' + i);
      g_assert_cmpint (qsock_iodevice_write (DEV (sock), "ok", 2), ==, 2);
      g_assert_true (qsock_local_flush (sock));
      {
        char buf[2];
        tu_read_exact (clients[i], buf, 2, 5000);
        g_assert_cmpmem (buf, 2, "ok", 2);
      }

      g_object_unref (sock);
      g_assert_null (g_weak_ref_get (&weak));
      g_weak_ref_clear (&weak);
      /* Dropping it closed the connection. */
      g_assert_true (tu_sees_eof (clients[i], 5000));
      close (clients[i]);
    }

  g_assert_false (qsock_local_server_has_pending_connections (server));
  g_assert_null (qsock_local_server_next_pending_connection (server));

  qsock_local_server_close (server);
  remove_tree (dir);
}

/* The documented difference from Qt (§8.13): exactly max pending, not
 * max + 2. */
static void
test_server_max_pending (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "max.sock", NULL);
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  guint new_connections = 0;
  int clients[4];

  qsock_local_server_set_max_pending_connections (server, 2);
  g_assert_cmpint (qsock_local_server_get_max_pending_connections (server), ==, 2);
  g_signal_connect (server, "new-connection", G_CALLBACK (count_cb), &new_connections);
  g_assert_true (qsock_local_server_listen (server, path));

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    clients[i] = posix_connect (path);

  TU_RUN_UNTIL (new_connections == 2, 5000);
  tu_spin (300);
  g_assert_cmpuint (new_connections, ==, 2);

  /* Taking one makes room for exactly one more. */
  g_object_unref (qsock_local_server_next_pending_connection (server));
  TU_RUN_UNTIL (new_connections == 3, 5000);
  tu_spin (200);
  g_assert_cmpuint (new_connections, ==, 3);

  g_object_unref (qsock_local_server_next_pending_connection (server));
  TU_RUN_UNTIL (new_connections == 4, 5000);
  g_object_unref (qsock_local_server_next_pending_connection (server));
  g_object_unref (qsock_local_server_next_pending_connection (server));
  g_assert_false (qsock_local_server_has_pending_connections (server));

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    close (clients[i]);
  qsock_local_server_close (server);
  remove_tree (dir);
}

/* 100 clients at once: more than the backlog (50), so about half of them
 * wait in ConnectingState until the server has accepted. Every one is
 * accepted and gets its own message echoed. */
#define N_CLIENTS 100

typedef struct
{
  QSockLocalServer *server;
  GPtrArray        *served;     /* server-side sockets */
  guint             echoed;     /* clients that got their echo */
  guint             connected_later;
} EchoCase;

typedef struct
{
  EchoCase   *ec;
  QSockLocal *sock;
  char       *message;
  GString    *got;
  gboolean    in_connect;
} EchoClient;

static void
echo_ready_read (QSockLocal *sock, EchoCase *ec)
{
  g_autoptr(GBytes) data = qsock_iodevice_read_all (DEV (sock));

  if (data != NULL && g_bytes_get_size (data) > 0)
    g_assert_cmpint (qsock_iodevice_write_bytes (DEV (sock), data), ==, g_bytes_get_size (data));
}

static void
echo_new_connection (QSockLocalServer *server, EchoCase *ec)
{
  QSockLocal *sock;

  while ((sock = qsock_local_server_next_pending_connection (server)) != NULL)
    {
      g_signal_connect (sock, "ready-read", G_CALLBACK (echo_ready_read), ec);
      g_ptr_array_add (ec->served, sock);
      /* Data may have come with the connection. */
      if (qsock_iodevice_bytes_available (DEV (sock)) > 0)
        echo_ready_read (sock, ec);
    }
}

static void
echo_client_connected (QSockLocal *sock, EchoClient *c)
{
  if (!c->in_connect)
    c->ec->connected_later++;
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), c->message, strlen (c->message)), ==,
                   strlen (c->message));
}

static void
echo_client_ready_read (QSockLocal *sock, EchoClient *c)
{
  g_autoptr(GBytes) data = qsock_iodevice_read_all (DEV (sock));
  gsize n = 0;
  const char *p = data != NULL ? g_bytes_get_data (data, &n) : NULL;

  g_string_append_len (c->got, p, n);
  if (c->got->len == strlen (c->message))
    {
      g_assert_cmpstr (c->got->str, ==, c->message);
      c->ec->echoed++;
    }
}

static void
test_server_hundred_clients (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "echo.sock", NULL);
  EchoCase ec = { 0 };
  EchoClient clients[N_CLIENTS];

  ec.server = qsock_local_server_new ();
  ec.served = g_ptr_array_new_with_free_func (g_object_unref);
  g_signal_connect (ec.server, "new-connection", G_CALLBACK (echo_new_connection), &ec);
  g_assert_true (qsock_local_server_listen (ec.server, path));

  for (guint i = 0; i < N_CLIENTS; i++)
    {
      EchoClient *c = &clients[i];

      c->ec = &ec;
      c->sock = qsock_local_new ();
      c->message = g_strdup_printf ("message from client %u\n", i);
      c->got = g_string_new (NULL);
      g_signal_connect (c->sock, "connected", G_CALLBACK (echo_client_connected), c);
      g_signal_connect (c->sock, "ready-read", G_CALLBACK (echo_client_ready_read), c);
      c->in_connect = TRUE;
      qsock_local_connect_to_server (c->sock, path, RW);
      c->in_connect = FALSE;
      g_assert_cmpint (qsock_local_get_state (c->sock), !=, UNCONNECTED);
    }

  TU_RUN_UNTIL (ec.echoed == N_CLIENTS, 30000);
  g_assert_cmpuint (ec.served->len, ==, N_CLIENTS);
  g_test_message ("%u of %u clients connected from the loop after a full backlog",
                  ec.connected_later, N_CLIENTS);
  g_assert_cmpuint (ec.connected_later, >, 0);

  for (guint i = 0; i < N_CLIENTS; i++)
    {
      g_assert_cmpint (qsock_local_get_state (clients[i].sock), ==, CONNECTED);
      g_object_unref (clients[i].sock);
      g_free (clients[i].message);
      g_string_free (clients[i].got, TRUE);
    }
  g_ptr_array_unref (ec.served);
  g_object_unref (ec.server);
  remove_tree (dir);
}

/* incomingConnection() overridden by a subclass, as Qt intends. */
typedef struct
{
  QSockLocalServer parent_instance;
  guint            n_incoming;
  QSockLocal      *last;        /* weak */
} TestGreeterServer;

typedef struct
{
  QSockLocalServerClass parent_class;
} TestGreeterServerClass;

static GType test_greeter_server_get_type (void);
G_DEFINE_TYPE (TestGreeterServer, test_greeter_server, QSOCK_TYPE_LOCAL_SERVER)

static void
test_greeter_server_incoming_connection (QSockLocalServer *server,
                                         int               fd)
{
  TestGreeterServer *self = (TestGreeterServer *) server;
  g_autoptr(QSockLocal) sock = qsock_local_new ();

  self->n_incoming++;
  g_assert_cmpint (fd, >=, 0);
  g_assert_true (qsock_local_set_socket_descriptor (sock, fd, CONNECTED, RW));
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "welcome\n", 8), ==, 8);
  qsock_local_server_add_pending_connection (server, sock);
  self->last = sock;
}

static void
test_greeter_server_class_init (TestGreeterServerClass *klass)
{
  QSOCK_LOCAL_SERVER_CLASS (klass)->incoming_connection = test_greeter_server_incoming_connection;
}

static void
test_greeter_server_init (TestGreeterServer *self)
{
}

static void
test_server_incoming_connection_override (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "greeter.sock", NULL);
  TestGreeterServer *greeter = g_object_new (test_greeter_server_get_type (), NULL);
  QSockLocalServer *server = QSOCK_LOCAL_SERVER (greeter);
  g_autoptr(QSockLocal) client = NULL;
  g_autoptr(QSockLocal) taken = NULL;
  guint new_connections = 0;

  g_signal_connect (server, "new-connection", G_CALLBACK (count_cb), &new_connections);
  g_assert_true (qsock_local_server_listen (server, path));
  client = connected_client (path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);

  TU_RUN_UNTIL (greeter->n_incoming == 1, 5000);
  /* The override queued the socket and did not emit newConnection. */
  g_assert_cmpuint (new_connections, ==, 0);
  g_assert_true (qsock_local_server_has_pending_connections (server));
  taken = qsock_local_server_next_pending_connection (server);
  g_assert_true (taken == greeter->last);
  g_assert_cmpint (qsock_local_get_state (taken), ==, CONNECTED);

  /* What the override wrote reaches the client. */
  assert_bytes (read_exactly (client, 8), "welcome\n");
  g_assert_cmpint (qsock_iodevice_write (DEV (client), "thanks", 6), ==, 6);
  assert_bytes (read_exactly (taken, 6), "thanks");

  tu_spin (50);
  g_assert_cmpuint (greeter->n_incoming, ==, 1);
  g_assert_cmpuint (new_connections, ==, 0);

  g_object_unref (greeter);
  remove_tree (dir);
}

static void
test_server_listen_descriptor (void)
{
  g_autofree char *dir = make_private_dir ();
  g_autofree char *path = g_build_filename (dir, "handmade.sock", NULL);
  g_autofree char *abstract = unique_name ("fd-abstract");
  g_autoptr(QSockLocalServer) server = qsock_local_server_new ();
  g_autoptr(QSockLocalServer) abs_server = qsock_local_server_new ();
  g_autoptr(QSockLocalServer) unnamed = qsock_local_server_new ();
  g_autoptr(QSockLocalServer) bad = qsock_local_server_new ();
  g_autoptr(QSockLocal) client = NULL;
  g_autoptr(QSockLocal) accepted = NULL;
  int lfd = posix_listen (path, FALSE);
  int afd = posix_listen (abstract, TRUE);
  int pair[2];
  int pipe_fds[2];

  /* A listening socket made by hand: the names come from getsockname;
   * as Qt, the name is the file name and the full name the path. */
  g_assert_true (qsock_local_server_listen_descriptor (server, lfd));
  g_assert_true (qsock_local_server_is_listening (server));
  g_assert_cmpint (qsock_local_server_get_socket_descriptor (server), ==, lfd);
  g_assert_cmpstr (qsock_local_server_get_server_name (server), ==, "handmade.sock");
  g_assert_cmpstr (qsock_local_server_get_full_server_name (server), ==, path);
  /* Made non-blocking and close-on-exec. */
  g_assert_true (fcntl (lfd, F_GETFL) & O_NONBLOCK);
  g_assert_true (fcntl (lfd, F_GETFD) & FD_CLOEXEC);

  client = connected_client (path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  accepted = accept_one (server);
  g_assert_cmpint (qsock_iodevice_write (DEV (client), "fd", 2), ==, 2);
  assert_bytes (read_exactly (accepted, 2), "fd");

  /* The server did not make this file, so close() leaves it (documented
   * in qsock_local_server_listen_descriptor()). */
  qsock_local_server_close (server);
  g_assert_true (is_socket_file (path));

  /* An abstract name, with the namespace option set from the address. */
  g_assert_true (qsock_local_server_listen_descriptor (abs_server, afd));
  g_assert_cmpstr (qsock_local_server_get_server_name (abs_server), ==, abstract);
  g_assert_cmpstr (qsock_local_server_get_full_server_name (abs_server), ==, abstract);
  g_assert_true (qsock_local_server_get_socket_options (abs_server) &
                 QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE);
  {
    g_autoptr(QSockLocal) abs_client = connected_client (abstract, QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE);
    g_autoptr(QSockLocal) abs_accepted = accept_one (abs_server);

    g_assert_cmpstr (qsock_local_get_server_name (abs_accepted), ==, abstract);
  }
  qsock_local_server_close (abs_server);

  /* An unnamed socket: no names (tst verifyListenWithDescriptor). */
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ==, 0);
  g_assert_true (qsock_local_server_listen_descriptor (unnamed, pair[0]));
  g_assert_null (qsock_local_server_get_server_name (unnamed));
  g_assert_null (qsock_local_server_get_full_server_name (unnamed));
  qsock_local_server_close (unnamed);
  close (pair[1]);

  /* Not a socket. */
  g_assert_cmpint (pipe (pipe_fds), ==, 0);
  g_assert_false (qsock_local_server_listen_descriptor (bad, pipe_fds[0]));
  g_assert_cmpint (qsock_local_server_get_server_error (bad), ==,
                   QSOCK_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION);
  g_assert_false (qsock_local_server_is_listening (bad));
  g_assert_false (qsock_local_server_listen_descriptor (bad, -1));
  g_assert_false (qsock_local_server_is_listening (bad));
  close (pipe_fds[0]);
  close (pipe_fds[1]);

  remove_tree (dir);
}

/* ======================================================================
 * setSocketDescriptor (§2.5, §2.7)
 * ====================================================================== */

static void
test_descriptor_socketpair (void)
{
  g_autoptr(QSockLocal) sock = qsock_local_new ();
  g_autoptr(LocalRec) rec = rec_new (sock);
  int pair[2];
  char buf[8];
  gboolean ok;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ==, 0);
  TU_REC_CALL (rec, ok = qsock_local_set_socket_descriptor (sock, pair[0], CONNECTED, RW));
  g_assert_true (ok);
  /* Qt sets the state before handing the descriptor to the inner socket,
   * whose change to Connected is then no change: no stateChanged. */
  rec_assert (rec, "");
  g_assert_cmpint (qsock_local_get_state (sock), ==, CONNECTED);
  g_assert_true (qsock_iodevice_is_open (DEV (sock)));
  g_assert_cmpint (qsock_iodevice_get_open_mode (DEV (sock)), ==, RW);
  g_assert_cmpint (qsock_local_get_socket_descriptor (sock), ==, pair[0]);
  g_assert_true (qsock_local_is_valid (sock));
  /* An unnamed socket has no names. */
  g_assert_null (qsock_local_get_server_name (sock));
  g_assert_null (qsock_local_get_full_server_name (sock));

  /* Both ways. */
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "to-peer", 7), ==, 7);
  g_assert_true (qsock_local_flush (sock));
  tu_read_exact (pair[1], buf, 7, 5000);
  g_assert_cmpmem (buf, 7, "to-peer", 7);
  tu_write_all (pair[1], "to-sock", 7);
  assert_bytes (read_exactly (sock, 7), "to-sock");

  /* The peer's close is seen as a local peer close. */
  close (pair[1]);
  TU_RUN_UNTIL (rec->n_disconnected == 1, 5000);
  g_assert_cmpint (qsock_local_get_error (sock), ==, QSOCK_LOCAL_SOCKET_ERROR_PEER_CLOSED);
}

static void
test_descriptor_invalid (Pair          *f,
                         gconstpointer  data)
{
  g_autoptr(QSockLocal) fresh = qsock_local_new ();
  g_autoptr(LocalRec) fresh_rec = rec_new (fresh);
  QSockLocal *sock = f->sock;
  LocalRec *rec = f->rec;
  gboolean ok;

  /* A bad descriptor changes nothing (the class's documented fix; Qt
   * leaves the state and open mode set). */
  TU_REC_CALL (fresh_rec, ok = qsock_local_set_socket_descriptor (fresh, -5, CONNECTED, RW));
  g_assert_false (ok);
  rec_assert (fresh_rec, "");
  g_assert_cmpint (qsock_local_get_state (fresh), ==, UNCONNECTED);
  g_assert_false (qsock_iodevice_is_open (DEV (fresh)));
  g_assert_cmpint (qsock_local_get_socket_descriptor (fresh), ==, -1);
  /* But the error says why, with Qt's code (Qt's text is "Unknown error"). */
  g_assert_cmpint (qsock_local_get_error (fresh), ==, QSOCK_LOCAL_SOCKET_ERROR_UNSUPPORTED_SOCKET_OPERATION);
  g_assert_cmpstr (qsock_iodevice_get_error_string (DEV (fresh)), ==,
                   "QLocalSocket::setSocketDescriptor: Invalid socket descriptor");

  /* Not even to a connected socket. */
  TU_REC_CALL (rec, ok = qsock_local_set_socket_descriptor (sock, -5, CONNECTED, RW));
  g_assert_false (ok);
  rec_assert (rec, "");
  g_assert_cmpint (qsock_local_get_state (sock), ==, CONNECTED);
  g_assert_cmpstr (qsock_local_get_server_name (sock), ==, f->path);
  tu_write_all (f->peer, "alive", 5);
  assert_bytes (read_exactly (sock, 5), "alive");
  g_assert_cmpint (qsock_iodevice_write (DEV (sock), "yes", 3), ==, 3);
  g_assert_true (qsock_local_flush (sock));
  {
    char buf[3];
    tu_read_exact (f->peer, buf, 3, 5000);
    g_assert_cmpmem (buf, 3, "yes", 3);
  }
}

/* ======================================================================
 * Peer credentials and descriptor passing (not in Qt)
 * ====================================================================== */

typedef struct
{
  char             *dir;
  char             *path;
  QSockLocalServer *server;
  QSockLocal       *client;
  QSockLocal       *accepted;
} Link;

static void
link_setup (Link *l, gconstpointer data)
{
  l->dir = make_private_dir ();
  l->path = g_build_filename (l->dir, "link.sock", NULL);
  l->server = qsock_local_server_new ();
  g_assert_true (qsock_local_server_listen (l->server, l->path));
  l->client = connected_client (l->path, QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
  l->accepted = accept_one (l->server);
}

static void
link_teardown (Link *l, gconstpointer data)
{
  g_object_unref (l->client);
  g_object_unref (l->accepted);
  g_object_unref (l->server);
  remove_tree (l->dir);
  g_free (l->path);
  g_free (l->dir);
}

#define add_link_test(path, func) \
  g_test_add (path, Link, NULL, link_setup, func, link_teardown)

static void
assert_credentials_are_ours (QSockLocal *sock)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCredentials) creds = qsock_local_get_peer_credentials (sock, &error);
  const struct ucred *native;

  g_assert_no_error (error);
  g_assert_nonnull (creds);
  g_assert_cmpint (g_credentials_get_unix_pid (creds, &error), ==, getpid ());
  g_assert_no_error (error);
  g_assert_cmpuint (g_credentials_get_unix_user (creds, &error), ==, getuid ());
  g_assert_no_error (error);
  native = g_credentials_get_native (creds, G_CREDENTIALS_TYPE_LINUX_UCRED);
  g_assert_nonnull (native);
  g_assert_cmpuint (native->gid, ==, getgid ());
}

static void
test_peer_credentials (Link          *l,
                       gconstpointer  data)
{
  g_autoptr(QSockLocal) fresh = qsock_local_new ();
  g_autoptr(GError) error = NULL;
  GCredentials *none;

  assert_credentials_are_ours (l->client);
  assert_credentials_are_ours (l->accepted);

  /* Unconnected: no credentials, and an error saying why. */
  none = qsock_local_get_peer_credentials (fresh, &error);
  g_assert_null (none);
  g_assert_nonnull (error);
  g_assert_true (error->domain == QSOCK_SOCKET_ERROR);
  g_clear_error (&error);

  qsock_local_abort (l->client);
  none = qsock_local_get_peer_credentials (l->client, &error);
  g_assert_null (none);
  g_assert_nonnull (error);
}

static void
test_fd_passing_pipe (Link          *l,
                      gconstpointer  data)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GUnixFDList) nothing = NULL;
  g_autoptr(GUnixFDList) got = NULL;
  g_autoptr(GUnixFDList) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LocalRec) rec = rec_new (l->client);
  int pipe_fds[2];
  char buf[32];
  ssize_t n;
  int fd;
  gboolean ok;

  /* Nothing passed yet: an empty list. */
  nothing = qsock_local_take_received_fds (l->accepted);
  g_assert_nonnull (nothing);
  g_assert_cmpint (g_unix_fd_list_get_length (nothing), ==, 0);

  g_assert_cmpint (pipe (pipe_fds), ==, 0);
  g_assert_cmpint (g_unix_fd_list_append (fds, pipe_fds[0], &error), >=, 0);
  g_assert_no_error (error);

  ok = qsock_local_send_fds (l->client, fds, "p", 1, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  /* The byte that carried them counts as written. */
  TU_RUN_UNTIL (rec->bytes_written == 1, 5000);

  /* Only the passed copy keeps the read end open now. */
  close (pipe_fds[0]);
  g_clear_object (&fds);
  g_assert_cmpint (write (pipe_fds[1], "through the pipe", 16), ==, 16);
  close (pipe_fds[1]);

  assert_bytes (read_exactly (l->accepted, 1), "p");
  got = qsock_local_take_received_fds (l->accepted);
  g_assert_cmpint (g_unix_fd_list_get_length (got), ==, 1);
  fd = g_unix_fd_list_get (got, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);

  n = read (fd, buf, sizeof buf);
  g_assert_cmpint (n, ==, 16);
  g_assert_cmpmem (buf, n, "through the pipe", 16);
  /* Every write end is closed: it really is that pipe. */
  g_assert_cmpint (read (fd, buf, sizeof buf), ==, 0);
  close (fd);

  /* Taken means taken. */
  again = qsock_local_take_received_fds (l->accepted);
  g_assert_cmpint (g_unix_fd_list_get_length (again), ==, 0);

  /* Unconnected: an error, nothing sent. */
  {
    g_autoptr(QSockLocal) fresh = qsock_local_new ();
    g_autoptr(GUnixFDList) one = g_unix_fd_list_new ();
    g_autoptr(GError) send_error = NULL;

    g_assert_cmpint (pipe (pipe_fds), ==, 0);
    g_assert_cmpint (g_unix_fd_list_append (one, pipe_fds[0], NULL), >=, 0);
    g_assert_false (qsock_local_send_fds (fresh, one, "x", 1, &send_error));
    g_assert_nonnull (send_error);
    close (pipe_fds[0]);
    close (pipe_fds[1]);
  }
}

static void
test_fd_passing_order (Link          *l,
                       gconstpointer  data)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GUnixFDList) got = NULL;
  g_autoptr(GError) error = NULL;
  int pipe_fds[2];
  char c;
  int fd;

  g_assert_cmpint (pipe (pipe_fds), ==, 0);
  g_assert_cmpint (g_unix_fd_list_append (fds, pipe_fds[0], &error), >=, 0);
  close (pipe_fds[0]);

  /* Queued data goes first, whatever is written after goes after. */
  g_assert_cmpint (qsock_iodevice_write (DEV (l->client), "before", 6), ==, 6);
  g_assert_cmpint (qsock_iodevice_bytes_to_write (DEV (l->client)), ==, 6);
  g_assert_true (qsock_local_send_fds (l->client, fds, "p", 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (qsock_iodevice_write (DEV (l->client), "after", 5), ==, 5);

  assert_bytes (read_exactly (l->accepted, 12), "beforepafter");
  got = qsock_local_take_received_fds (l->accepted);
  g_assert_cmpint (g_unix_fd_list_get_length (got), ==, 1);

  fd = g_unix_fd_list_get (got, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (write (pipe_fds[1], "!", 1), ==, 1);
  g_assert_cmpint (read (fd, &c, 1), ==, 1);
  g_assert_cmpint (c, ==, '!');
  close (fd);
  close (pipe_fds[1]);
}

int
main (int argc, char **argv)
{
  /* A write to a dead peer must come back as an error, not kill us. */
  signal (SIGPIPE, SIG_DFL);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/local/defaults", test_defaults);

  g_test_add_func ("/local/connect/missing-name", test_connect_missing_name);
  g_test_add_func ("/local/connect/empty-name", test_connect_empty_name);
  g_test_add_func ("/local/connect/too-long-name", test_connect_too_long_name);
  g_test_add_func ("/local/connect/refused", test_connect_refused);
  g_test_add_func ("/local/connect/access-denied", test_connect_access_denied);
  g_test_add_func ("/local/connect/server-name-property", test_connect_server_name_property);
  add_pair_test ("/local/connect/while-connected", test_connect_while_connected);
  g_test_add_func ("/local/connect/backlog-full", test_connect_backlog_full);

  g_test_add_func ("/local/names/relative", test_names_relative);
  g_test_add_func ("/local/names/absolute", test_names_absolute);
  g_test_add_func ("/local/names/abstract", test_names_abstract);
  g_test_add_func ("/local/names/access-options", test_names_access_options);

  g_test_add_func ("/local/listen/address-in-use", test_listen_address_in_use);
  g_test_add_func ("/local/listen/name-error", test_listen_name_error);
  g_test_add_func ("/local/listen/already-listening", test_listen_already_listening);
  g_test_add_func ("/local/listen/remove-server", test_listen_remove_server);
  g_test_add_func ("/local/listen/close-removes-file", test_listen_close_removes_file);

  g_test_add_func ("/local/access/modes", test_access_modes);
  g_test_add_func ("/local/access/umask", test_access_umask);

  g_test_add_func ("/local/signals/connect", test_signals_connect);
  add_pair_test ("/local/signals/peer-closes", test_signals_peer_closes);
  g_test_add_func ("/local/signals/peer-disconnects", test_signals_peer_disconnects);
  add_pair_test ("/local/signals/disconnect-1mib", test_signals_disconnect_1mib);
  add_pair_test ("/local/signals/abort", test_signals_abort);
  add_pair_test ("/local/signals/close", test_signals_close);

  add_pair_test ("/local/backpressure/flood-16mib", test_backpressure_flood);

  g_test_add_func ("/local/wait/socket-in-thread", test_wait_socket_in_thread);
  g_test_add_func ("/local/wait/server-in-thread", test_wait_server_in_thread);
  add_pair_test ("/local/wait/zero-timeout", test_wait_zero_timeout);
  g_test_add_func ("/local/wait/disconnected-unconnected", test_wait_disconnected_unconnected);

  g_test_add_func ("/local/server/new-connection", test_server_new_connection);
  g_test_add_func ("/local/server/max-pending", test_server_max_pending);
  g_test_add_func ("/local/server/hundred-clients", test_server_hundred_clients);
  g_test_add_func ("/local/server/incoming-connection-override", test_server_incoming_connection_override);
  g_test_add_func ("/local/server/listen-descriptor", test_server_listen_descriptor);

  g_test_add_func ("/local/descriptor/socketpair", test_descriptor_socketpair);
  add_pair_test ("/local/descriptor/invalid", test_descriptor_invalid);

  add_link_test ("/local/peer/credentials", test_peer_credentials);
  add_link_test ("/local/fd-passing/pipe", test_fd_passing_pipe);
  add_link_test ("/local/fd-passing/order", test_fd_passing_order);

  return g_test_run ();
}
