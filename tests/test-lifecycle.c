/* test-lifecycle.c: releasing, closing, aborting and waiting from inside
 * every handler of every class
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN.md §9 promises that g_object_unref() of any object from inside any
 * of its own signal handlers is safe. This suite checks that promise, and
 * the other things a handler may do to the object that emitted, as a
 * generated matrix:
 *
 *   /lifecycle/<class>/<signal>/<action>/<trigger>
 *
 *   class    tcp-client, tcp-accepted, udp-bound, udp-connected,
 *            local-client, local-accepted, tcp-server, local-server
 *   signal   every signal the trigger makes the object emit (state-changed
 *            split by the state it reports, notify split by property)
 *   action   what the handler does, once, to the emitting object: unref
 *            (drops the LAST reference: the test keeps none, only a weak
 *            pointer), abort, close, disconnect, wait-ready-read,
 *            wait-disconnected, wait-bytes-written (10 ms each; Qt's
 *            warnings for waits in UnconnectedState are expected, nothing
 *            else), for accepted sockets also unref-server; for servers
 *            unref, close and wait-new-connection (10 ms)
 *   trigger  what makes the object emit: a connect, a refused connect, the
 *            plain POSIX peer writing a line and then staying, closing
 *            cleanly, resetting (SO_LINGER 0; for Unix sockets: closing
 *            with unread data, which gives ECONNRESET) or shutting down its
 *            sending side, the object writing, closing, aborting, binding,
 *            half-closing, ...; a trigger the main loop carries out also
 *            runs "-in-wait" (the test drives it by the matching blocking
 *            wait_for_*(), so the signals come from inside that call; for
 *            the releasing actions), "-in-thread" (the whole case in a
 *            worker thread with its own main context; for unref) and
 *            "-gsource" (with the portable one-GSource-per-socket backend,
 *            QSOCK_DISPATCH=gsource, instead of epoll; for unref)
 *
 * The scenario table below lists, per class and trigger, the signals that
 * trigger emits; each of them gets every action. Every case asserts that
 * its handler really ran (for unref, also that a second handler on the
 * same signal still got a live object in that emission), and afterwards
 * that the object reached the state the action implies, that it is
 * finalized once the test lets go (weak pointer), and that a plain peer
 * sees its connection end (so the descriptor was closed, not leaked). A
 * short spin after finalization gives stale sources the chance to touch
 * freed memory.
 *
 * Beside the matrix: the Python pattern (a container holds the only
 * reference and the disconnected handler removes the socket from it),
 * every asynchronous call (read_line, read_exactly, flush,
 * wait_for_disconnected, connect, receive_datagram, accept) whose pending
 * task holds the only reference while the peer acts (the callback must run
 * on a live object, which must then go), handlers in the flush pass that release
 * OTHER sockets with queued writes, and ready-read handlers that release
 * OTHER sockets whose input is in the same dispatch batch (both with the
 * epoll backend and with QSOCK_DISPATCH=gsource).
 *
 * QIODevice's channel-ready-read / channel-bytes-written have no
 * counterpart in this library, so they are not in the matrix.
 *
 * Each case runs in a child process of its own, so one crash cannot hide
 * the others, and G_SLICE is always-malloc (main() re-executes itself to
 * make sure) so AddressSanitizer sees freed GObjects. A failing
 * case is reported with the first lines of the child's sanitizer or GLib
 * report. Warnings and criticals are fatal in the child (g_test_init).
 *
 * A whole run forks the children LIFECYCLE_JOBS (default 4 per CPU) at a time
 * before GTest walks the cases (LIFECYCLE_EXEC=1: re-execute this binary
 * for each instead); with -p each case re-executes this binary when it
 * comes. Most of a child's cost is LeakSanitizer's check at its exit.
 *
 * Environment:
 *   LIFECYCLE_RUN_SKIPPED=1   run the cases of known_failures too
 *   LIFECYCLE_FAILURES=<file> append "path: summary" of each failing case
 *   LIFECYCLE_INPROCESS=1     run cases in this process (for gdb; -p one)
 *   LIFECYCLE_TRACE=1         log every emission of the object under test
 *   LIFECYCLE_JOBS=<n>        children at a time in a whole run
 *   LIFECYCLE_SHOW_CHILD=1    print a failing child's whole output
 *   LIFECYCLE_EXEC=1          exec, not fork, the children of a whole run
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <qsock-glib/qsock.h>

#include "test-util.h"

/* ======================================================================
 * Known failures: skipped at run time until the library is fixed.
 * Patterns are g_pattern_match_simple() globs over the test path.
 * ====================================================================== */

typedef struct
{
  const char *pattern;
  const char *bug;
} KnownFailure;

static const KnownFailure known_failures[] = {
  /* { "<glob over test paths>", "<the bug, with its ASan summary>" }, */
  { NULL, NULL }
};

/* ======================================================================
 * The matrix's dimensions
 * ====================================================================== */

typedef enum
{
  K_TCP_CLIENT,
  K_TCP_ACCEPTED,
  K_UDP_BOUND,
  K_UDP_CONNECTED,
  K_LOCAL_CLIENT,
  K_LOCAL_ACCEPTED,
  K_TCP_SERVER,
  K_LOCAL_SERVER,
  N_KINDS
} Kind;

static const char * const kind_names[N_KINDS] = {
  "tcp-client", "tcp-accepted", "udp-bound", "udp-connected",
  "local-client", "local-accepted", "tcp-server", "local-server",
};

#define IS_SERVER(k) ((k) == K_TCP_SERVER || (k) == K_LOCAL_SERVER)
#define IS_LOCAL(k) ((k) == K_LOCAL_CLIENT || (k) == K_LOCAL_ACCEPTED)
#define IS_UDP(k) ((k) == K_UDP_BOUND || (k) == K_UDP_CONNECTED)
#define IS_STREAM(k) ((k) == K_TCP_CLIENT || (k) == K_TCP_ACCEPTED || IS_LOCAL (k))

typedef enum
{
  T_CONNECT,            /* client connects; the listener stays */
  T_CONNECT_BY_NAME,    /* "localhost": the lookup answers from the loop */
  T_CONNECT_PEER_CLOSE, /* the listener accepts and closes before the loop runs */
  T_CONNECT_PEER_RESET, /* ... and resets: the socket sees the reset as a
                         * failed attempt and, as Qt, tries the address
                         * again; that attempt connects (to the backlog) */
  T_REFUSED,            /* nobody listens */
  T_PEER_OPEN,          /* the peer writes a line and stays */
  T_PEER_CLOSE,         /* the peer writes a line and closes */
  T_PEER_RESET,         /* the peer writes a line and resets */
  T_PEER_SHUTDOWN,      /* the peer writes a line and shuts its sending down */
  T_WRITE,              /* the object writes 100 bytes */
  T_WRITE_DISCONNECT,   /* ... and disconnects at once */
  T_WRITE_CLOSE,        /* ... and is closed at once */
  T_DISCONNECT,         /* the object disconnects, nothing queued */
  T_CLOSE,              /* the object is closed */
  T_ABORT,              /* the object is aborted */
  T_BIND,               /* UDP bind() */
  T_BIND_IN_USE,        /* UDP bind() to a port in use */
  T_ICMP_REFUSED,       /* connected UDP writes to a closed port */
  T_ICMP_READ,          /* ... and reads once the refusal is there */
  T_ICMP_WRITE,         /* ... and writes again once the refusal is there */
  T_EMFILE,             /* a server cannot accept: out of descriptors */
  T_HALF_PEER_SHUTDOWN, /* half-close on; the peer writes a line and shuts down */
  T_HALF_WRITE_SHUTDOWN,/* half-close on; the object writes and shuts its side down */
  T_HALF_BOTH,          /* half-close on; the peer shut down, now the object does */
  N_TRIGGERS
} Trigger;

static const char * const trigger_names[N_TRIGGERS] = {
  "connect", "connect-by-name", "connect-peer-close", "connect-peer-reset",
  "refused", "peer-open", "peer-close", "peer-reset", "peer-shutdown", "write",
  "write-disconnect", "write-close", "disconnect", "close", "abort", "bind", "bind-in-use",
  "icmp-refused", "icmp-read", "icmp-write", "emfile",
  "half-close-peer-shutdown", "half-close-write-shutdown", "half-close-both",
};

typedef enum { SHAPE_PLAIN, SHAPE_INT, SHAPE_INT64, SHAPE_NOTIFY } Shape;

typedef struct
{
  const char *name;        /* path component */
  const char *signal;      /* detailed signal name */
  Shape       shape;
  int         state;       /* state-changed: the state acted on; else -1 */
} SignalInfo;

typedef enum
{
  S_STATE_HOST_LOOKUP,
  S_STATE_CONNECTING,
  S_STATE_CONNECTED,
  S_STATE_BOUND,
  S_STATE_CLOSING,
  S_STATE_UNCONNECTED,
  S_HOST_FOUND,
  S_CONNECTED,
  S_READY_READ,
  S_BYTES_WRITTEN,
  S_READ_CHANNEL_FINISHED,
  S_ABOUT_TO_CLOSE,
  S_DISCONNECTED,
  S_ERROR_OCCURRED,
  S_NOTIFY_STATE,
  S_NOTIFY_ERROR,
  S_NEW_CONNECTION,
  S_PENDING_CONNECTION_AVAILABLE,
  S_ACCEPT_ERROR,
  S_NOTIFY_SERVER_ERROR,
  N_SIGNALS
} Sig;

static const SignalInfo signal_infos[N_SIGNALS] = {
  { "state-changed-host-lookup", "state-changed", SHAPE_INT, QSOCK_SOCKET_STATE_HOST_LOOKUP },
  { "state-changed-connecting", "state-changed", SHAPE_INT, QSOCK_SOCKET_STATE_CONNECTING },
  { "state-changed-connected", "state-changed", SHAPE_INT, QSOCK_SOCKET_STATE_CONNECTED },
  { "state-changed-bound", "state-changed", SHAPE_INT, QSOCK_SOCKET_STATE_BOUND },
  { "state-changed-closing", "state-changed", SHAPE_INT, QSOCK_SOCKET_STATE_CLOSING },
  { "state-changed-unconnected", "state-changed", SHAPE_INT, QSOCK_SOCKET_STATE_UNCONNECTED },
  { "host-found", "host-found", SHAPE_PLAIN, -1 },
  { "connected", "connected", SHAPE_PLAIN, -1 },
  { "ready-read", "ready-read", SHAPE_PLAIN, -1 },
  { "bytes-written", "bytes-written", SHAPE_INT64, -1 },
  { "read-channel-finished", "read-channel-finished", SHAPE_PLAIN, -1 },
  { "about-to-close", "about-to-close", SHAPE_PLAIN, -1 },
  { "disconnected", "disconnected", SHAPE_PLAIN, -1 },
  { "error-occurred", "error-occurred", SHAPE_INT, -1 },
  { "notify-state", "notify::state", SHAPE_NOTIFY, -1 },
  { "notify-error", "notify::error", SHAPE_NOTIFY, -1 },
  { "new-connection", "new-connection", SHAPE_PLAIN, -1 },
  { "pending-connection-available", "pending-connection-available", SHAPE_PLAIN, -1 },
  { "accept-error", "accept-error", SHAPE_INT, -1 },
  { "notify-server-error", "notify::server-error", SHAPE_NOTIFY, -1 },
};

typedef enum
{
  A_UNREF,
  A_ABORT,
  A_CLOSE,
  A_DISCONNECT,
  A_WAIT_READY_READ,
  A_WAIT_DISCONNECTED,
  A_WAIT_BYTES_WRITTEN,
  A_WAIT_NEW_CONNECTION,
  A_UNREF_SERVER,
  N_ACTIONS
} Action;

static const char * const action_names[N_ACTIONS] = {
  "unref", "abort", "close", "disconnect", "wait-ready-read",
  "wait-disconnected", "wait-bytes-written", "wait-new-connection", "unref-server",
};

static const Action socket_actions[] = {
  A_UNREF, A_ABORT, A_CLOSE, A_DISCONNECT, A_WAIT_READY_READ, A_WAIT_DISCONNECTED,
  A_WAIT_BYTES_WRITTEN,
};
/* Accepted sockets also see their server dropped under them. */
static const Action accepted_actions[] = {
  A_UNREF, A_ABORT, A_CLOSE, A_DISCONNECT, A_WAIT_READY_READ, A_WAIT_DISCONNECTED,
  A_WAIT_BYTES_WRITTEN, A_UNREF_SERVER,
};
static const Action server_actions[] = { A_UNREF, A_CLOSE, A_WAIT_NEW_CONNECTION };

/* What each trigger makes each class emit (Qt's orders, QT-BEHAVIOUR.md
 * §2; the state the trigger leaves the object in is "end"). */
typedef struct
{
  Kind        kind;
  Trigger     trigger;
  int         end;        /* the state once the trigger has run its course */
  const char *signals;    /* space-separated SignalInfo names */
} Scenario;

#define UNC QSOCK_SOCKET_STATE_UNCONNECTED
#define CON QSOCK_SOCKET_STATE_CONNECTED
#define BND QSOCK_SOCKET_STATE_BOUND
#define LST QSOCK_SOCKET_STATE_LISTENING

#define PEER_ENDS \
  "ready-read error-occurred state-changed-closing state-changed-unconnected " \
  "read-channel-finished disconnected notify-state notify-error"
#define SELF_CLOSES \
  "about-to-close state-changed-closing state-changed-unconnected " \
  "read-channel-finished disconnected notify-state"
#define SELF_ABORTS \
  "about-to-close state-changed-unconnected read-channel-finished disconnected notify-state"
/* Half-close (1.2): the peer's end only ends reading; the connection
 * ends once both sides have shut down. */
#define HALF_PEER_SHUTS "ready-read read-channel-finished"
#define HALF_WRITE_SHUTS "bytes-written"
#define HALF_BOTH_SHUT \
  "state-changed-closing state-changed-unconnected disconnected notify-state"
#define WRITE_CLOSES \
  "about-to-close state-changed-closing bytes-written state-changed-unconnected " \
  "read-channel-finished disconnected notify-state"
#define WRITE_DISCONNECTS \
  "state-changed-closing bytes-written state-changed-unconnected " \
  "read-channel-finished disconnected notify-state"

static const Scenario scenarios[] = {
  /* TCP client against a plain listener */
  { K_TCP_CLIENT, T_CONNECT, CON,
    "state-changed-host-lookup state-changed-connecting host-found "
    "state-changed-connected connected notify-state" },
  { K_TCP_CLIENT, T_CONNECT_BY_NAME, CON,
    "state-changed-host-lookup state-changed-connecting host-found "
    "state-changed-connected connected" },
  { K_TCP_CLIENT, T_CONNECT_PEER_CLOSE, UNC, "state-changed-connected connected" },
  { K_TCP_CLIENT, T_CONNECT_PEER_RESET, CON, "state-changed-connected connected" },
  { K_TCP_CLIENT, T_REFUSED, UNC,
    "state-changed-unconnected error-occurred notify-error" },
  { K_TCP_CLIENT, T_PEER_OPEN, CON, "ready-read" },
  { K_TCP_CLIENT, T_PEER_CLOSE, UNC, PEER_ENDS },
  { K_TCP_CLIENT, T_PEER_RESET, UNC, PEER_ENDS },
  { K_TCP_CLIENT, T_PEER_SHUTDOWN, UNC, PEER_ENDS },
  { K_TCP_CLIENT, T_WRITE, CON, "bytes-written" },
  { K_TCP_CLIENT, T_WRITE_DISCONNECT, UNC, WRITE_DISCONNECTS },
  { K_TCP_CLIENT, T_WRITE_CLOSE, UNC, WRITE_CLOSES },
  { K_TCP_CLIENT, T_HALF_PEER_SHUTDOWN, CON, HALF_PEER_SHUTS },
  { K_TCP_CLIENT, T_HALF_WRITE_SHUTDOWN, CON, HALF_WRITE_SHUTS },
  { K_TCP_CLIENT, T_HALF_BOTH, UNC, HALF_BOTH_SHUT },
  { K_TCP_CLIENT, T_CLOSE, UNC, SELF_CLOSES },
  { K_TCP_CLIENT, T_ABORT, UNC, SELF_ABORTS },

  /* A socket from QSockTcpServer's queue; the peer is a plain client */
  { K_TCP_ACCEPTED, T_PEER_OPEN, CON, "ready-read" },
  { K_TCP_ACCEPTED, T_PEER_CLOSE, UNC, PEER_ENDS },
  { K_TCP_ACCEPTED, T_PEER_RESET, UNC, PEER_ENDS },
  { K_TCP_ACCEPTED, T_PEER_SHUTDOWN, UNC, PEER_ENDS },
  { K_TCP_ACCEPTED, T_WRITE, CON, "bytes-written" },
  { K_TCP_ACCEPTED, T_WRITE_DISCONNECT, UNC, WRITE_DISCONNECTS },
  { K_TCP_ACCEPTED, T_WRITE_CLOSE, UNC, WRITE_CLOSES },
  { K_TCP_ACCEPTED, T_HALF_PEER_SHUTDOWN, CON, HALF_PEER_SHUTS },
  { K_TCP_ACCEPTED, T_HALF_WRITE_SHUTDOWN, CON, HALF_WRITE_SHUTS },
  { K_TCP_ACCEPTED, T_HALF_BOTH, UNC, HALF_BOTH_SHUT },
  { K_TCP_ACCEPTED, T_CLOSE, UNC, SELF_CLOSES },
  { K_TCP_ACCEPTED, T_ABORT, UNC, SELF_ABORTS },

  /* UDP, bound to 127.0.0.1; the peer is a plain UDP socket */
  { K_UDP_BOUND, T_BIND, BND, "state-changed-bound notify-state" },
  { K_UDP_BOUND, T_BIND_IN_USE, UNC, "error-occurred notify-error" },
  { K_UDP_BOUND, T_PEER_OPEN, BND, "ready-read" },
  { K_UDP_BOUND, T_WRITE, BND, "bytes-written" },
  { K_UDP_BOUND, T_DISCONNECT, UNC,
    "state-changed-closing state-changed-unconnected read-channel-finished notify-state" },
  { K_UDP_BOUND, T_CLOSE, UNC,
    "state-changed-closing state-changed-unconnected read-channel-finished notify-state" },
  { K_UDP_BOUND, T_ABORT, UNC, "state-changed-unconnected read-channel-finished notify-state" },

  /* UDP, connected to the plain peer */
  { K_UDP_CONNECTED, T_CONNECT, CON,
    "state-changed-host-lookup state-changed-connecting host-found "
    "state-changed-connected connected notify-state" },
  { K_UDP_CONNECTED, T_CONNECT_BY_NAME, CON,
    "state-changed-host-lookup state-changed-connecting host-found "
    "state-changed-connected connected" },
  { K_UDP_CONNECTED, T_PEER_OPEN, CON, "ready-read" },
  { K_UDP_CONNECTED, T_WRITE, CON, "bytes-written" },
  /* The refusal is announced as ready-read; reading reports it. */
  { K_UDP_CONNECTED, T_ICMP_REFUSED, CON, "ready-read" },
  { K_UDP_CONNECTED, T_ICMP_READ, UNC, "notify-error state-changed-unconnected notify-state" },
  /* A send the kernel refuses: error-occurred; the socket stays. */
  { K_UDP_CONNECTED, T_ICMP_WRITE, CON, "error-occurred notify-error" },
  { K_UDP_CONNECTED, T_DISCONNECT, UNC,
    "state-changed-closing state-changed-unconnected read-channel-finished "
    "disconnected notify-state" },
  { K_UDP_CONNECTED, T_CLOSE, UNC, SELF_CLOSES },
  { K_UDP_CONNECTED, T_ABORT, UNC, SELF_ABORTS },

  /* QSockLocal to a QSockLocalServer in a temporary directory whose
   * accepted descriptors the test takes as plain peers */
  { K_LOCAL_CLIENT, T_CONNECT, CON,
    "state-changed-connecting state-changed-connected connected notify-state" },
  { K_LOCAL_CLIENT, T_REFUSED, UNC,
    "state-changed-connecting error-occurred state-changed-unconnected notify-error" },
  { K_LOCAL_CLIENT, T_PEER_OPEN, CON, "ready-read" },
  { K_LOCAL_CLIENT, T_PEER_CLOSE, UNC, PEER_ENDS },
  { K_LOCAL_CLIENT, T_PEER_RESET, UNC, PEER_ENDS },
  { K_LOCAL_CLIENT, T_PEER_SHUTDOWN, UNC, PEER_ENDS },
  { K_LOCAL_CLIENT, T_WRITE, CON, "bytes-written" },
  { K_LOCAL_CLIENT, T_WRITE_DISCONNECT, UNC, WRITE_DISCONNECTS },
  { K_LOCAL_CLIENT, T_WRITE_CLOSE, UNC, WRITE_CLOSES },
  { K_LOCAL_CLIENT, T_HALF_PEER_SHUTDOWN, CON, HALF_PEER_SHUTS },
  { K_LOCAL_CLIENT, T_HALF_WRITE_SHUTDOWN, CON, HALF_WRITE_SHUTS },
  { K_LOCAL_CLIENT, T_HALF_BOTH, UNC, HALF_BOTH_SHUT },
  { K_LOCAL_CLIENT, T_CLOSE, UNC, SELF_CLOSES },
  { K_LOCAL_CLIENT, T_ABORT, UNC, SELF_ABORTS },

  /* A socket from QSockLocalServer's queue; the peer is a plain client */
  { K_LOCAL_ACCEPTED, T_PEER_OPEN, CON, "ready-read" },
  { K_LOCAL_ACCEPTED, T_PEER_CLOSE, UNC, PEER_ENDS },
  { K_LOCAL_ACCEPTED, T_PEER_RESET, UNC, PEER_ENDS },
  { K_LOCAL_ACCEPTED, T_PEER_SHUTDOWN, UNC, PEER_ENDS },
  { K_LOCAL_ACCEPTED, T_WRITE, CON, "bytes-written" },
  { K_LOCAL_ACCEPTED, T_WRITE_DISCONNECT, UNC, WRITE_DISCONNECTS },
  { K_LOCAL_ACCEPTED, T_WRITE_CLOSE, UNC, WRITE_CLOSES },
  { K_LOCAL_ACCEPTED, T_HALF_PEER_SHUTDOWN, CON, HALF_PEER_SHUTS },
  { K_LOCAL_ACCEPTED, T_HALF_WRITE_SHUTDOWN, CON, HALF_WRITE_SHUTS },
  { K_LOCAL_ACCEPTED, T_HALF_BOTH, UNC, HALF_BOTH_SHUT },
  { K_LOCAL_ACCEPTED, T_CLOSE, UNC, SELF_CLOSES },
  { K_LOCAL_ACCEPTED, T_ABORT, UNC, SELF_ABORTS },

  /* Servers; the peer is a plain client that connects and then stays,
   * closes or resets before the server's loop runs */
  { K_TCP_SERVER, T_PEER_OPEN, LST, "pending-connection-available new-connection" },
  { K_TCP_SERVER, T_PEER_CLOSE, LST, "pending-connection-available new-connection" },
  { K_TCP_SERVER, T_PEER_RESET, LST, "pending-connection-available new-connection" },
  { K_TCP_SERVER, T_EMFILE, LST, "accept-error notify-server-error" },
  { K_LOCAL_SERVER, T_PEER_OPEN, LST, "new-connection" },
  { K_LOCAL_SERVER, T_PEER_CLOSE, LST, "new-connection" },
  { K_LOCAL_SERVER, T_PEER_RESET, LST, "new-connection" },
  { K_LOCAL_SERVER, T_EMFILE, LST, "notify-server-error" },
};

typedef struct
{
  Kind     kind;
  Trigger  trigger;
  Sig      sig;
  Action   action;
  int      end;
  gboolean in_wait;   /* the test drives the trigger by a blocking wait */
  gboolean in_thread; /* ... in a worker thread with its own main context */
  gboolean gsource;   /* ... with the portable backend (QSOCK_DISPATCH=gsource) */
} Case;

/* ======================================================================
 * Plain peers
 * ====================================================================== */

#define LINE "hello\n"
#define GUARD_MS 3000

static void
set_blocking (int fd)
{
  int flags = fcntl (fd, F_GETFL);

  g_assert_cmpint (fcntl (fd, F_SETFL, flags & ~O_NONBLOCK), ==, 0);
}

/* Accepts if a connection is waiting within @timeout_ms; -1 otherwise. */
static int
try_accept (int listen_fd, guint timeout_ms)
{
  struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
  int fd;

  if (poll (&pfd, 1, timeout_ms) <= 0)
    return -1;
  fd = accept (listen_fd, NULL, NULL);
  return fd;
}

static int
unix_socket_at (const char *path,
                gboolean    do_connect)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int r;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpuint (strlen (path), <, sizeof addr.sun_path);
  strcpy (addr.sun_path, path);
  if (do_connect)
    r = connect (fd, (struct sockaddr *) &addr, sizeof addr);
  else
    r = bind (fd, (struct sockaddr *) &addr, sizeof addr);
  g_assert_cmpint (r, ==, 0);
  return fd;
}

/* Whether the peer's connection ends (EOF or reset) within @timeout_ms,
 * whatever data comes first. */
static gboolean
peer_sees_end (int fd, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000 * tu_timeout_scale ();
  char buf[4096];

  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      ssize_t r;

      if (left <= 0 || poll (&pfd, 1, (int) left) <= 0)
        return FALSE;
      r = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r == 0)
        return TRUE;
      if (r < 0 && errno != EINTR && errno != EAGAIN)
        return TRUE;
    }
}

/* A Unix peer "resets" by closing with data it has not read: the kernel
 * then gives the other end ECONNRESET. */
static void
peer_close_with_reset (int      fd,
                       gboolean local)
{
  if (local)
    close (fd);
  else
    tu_close_with_reset (fd);
}

/* ======================================================================
 * A local server that hands its accepted descriptors to the test
 * ====================================================================== */

#define LC_TYPE_PEER_SERVER (lc_peer_server_get_type ())
G_DECLARE_FINAL_TYPE (LcPeerServer, lc_peer_server, LC, PEER_SERVER, QSockLocalServer)

struct _LcPeerServer
{
  QSockLocalServer parent_instance;
  int              fd;
};

G_DEFINE_TYPE (LcPeerServer, lc_peer_server, QSOCK_TYPE_LOCAL_SERVER)

static void
lc_peer_server_incoming_connection (QSockLocalServer *server,
                                    int               fd)
{
  LcPeerServer *self = LC_PEER_SERVER (server);

  if (self->fd >= 0)
    {
      close (fd);
      return;
    }
  set_blocking (fd);
  self->fd = fd;
}

static void
lc_peer_server_finalize (GObject *object)
{
  LcPeerServer *self = LC_PEER_SERVER (object);

  if (self->fd >= 0)
    close (self->fd);
  G_OBJECT_CLASS (lc_peer_server_parent_class)->finalize (object);
}

static void
lc_peer_server_class_init (LcPeerServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = lc_peer_server_finalize;
  QSOCK_LOCAL_SERVER_CLASS (klass)->incoming_connection = lc_peer_server_incoming_connection;
}

static void
lc_peer_server_init (LcPeerServer *self)
{
  self->fd = -1;
}

/* ======================================================================
 * The world a case runs in
 * ====================================================================== */

typedef struct
{
  const Case       *c;
  GObject          *obj;          /* borrowed; valid while weak != NULL */
  gpointer          weak;         /* NULL once obj is finalized */
  GObject          *owned;        /* the test's reference; NULL for unref */
  int               peer_fd;      /* the plain peer's end, -1 if none */
  int               listen_fd;    /* tcp-client: the plain listener */
  int               refusing_fd;  /* refused: keeps the port or name refused */
  guint16           port;         /* where to connect */
  int               udp_peer;     /* UDP: the plain peer */
  guint16           udp_peer_port;
  QSockTcpServer   *tcp_server;   /* tcp-accepted */
  QSockLocalServer *local_server; /* local-accepted, local-client */
  int               client_fd;    /* servers: the plain client */
  char             *dir;
  char             *path;         /* the local server's socket */
  char             *refused_path;
  struct rlimit     saved_nofile;
  gboolean          nofile_lowered;
  /* the handler */
  gulong            handler_id;
  guint             runs;         /* times it acted (at most once) */
  int               state_at_run;
  /* unref: a second handler on the same signal, after ours, must still
   * get a live object in the same emission */
  gboolean          unref_pending;
  guint             next_runs;
} World;

static World *the_world;   /* for the trace handlers */

static int
world_state (World *w)
{
  GObject *obj = w->weak;

  if (obj == NULL)
    return -1;
  if (QSOCK_IS_LOCAL (obj))
    return qsock_local_get_state (QSOCK_LOCAL (obj));
  if (QSOCK_IS_ABSTRACT (obj))
    return qsock_abstract_get_state (QSOCK_ABSTRACT (obj));
  if (QSOCK_IS_TCP_SERVER (obj))
    return qsock_tcp_server_is_listening (QSOCK_TCP_SERVER (obj)) ? LST : UNC;
  return qsock_local_server_is_listening (QSOCK_LOCAL_SERVER (obj)) ? LST : UNC;
}

static void
lower_nofile (World *w)
{
  struct rlimit lim;
  int lowest = dup (0);

  g_assert_cmpint (lowest, >=, 0);
  close (lowest);
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &w->saved_nofile), ==, 0);
  lim = w->saved_nofile;
  lim.rlim_cur = lowest;
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &lim), ==, 0);
  w->nofile_lowered = TRUE;
}

static void
restore_nofile (World *w)
{
  if (!w->nofile_lowered)
    return;
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &w->saved_nofile), ==, 0);
  w->nofile_lowered = FALSE;
}

/* ---- the action --------------------------------------------------------- */

static void
expect_unconnected_wait_warning (World      *w,
                                 const char *pattern)
{
  int state = world_state (w);

  /* Qt warns about waitForDisconnected() and waitForBytesWritten() in
   * UnconnectedState; that is behaviour, not a lifecycle fault. A
   * connecting QLocalSocket asks its inner socket, which is still
   * unconnected, so Qt warns there too. */
  if (state != UNC && !(IS_LOCAL (w->c->kind) && state == QSOCK_LOCAL_SOCKET_STATE_CONNECTING))
    return;
  g_test_expect_message ("QSock", G_LOG_LEVEL_WARNING, pattern);
}

static void
act (World   *w,
     GObject *obj)
{
  switch (w->c->action)
    {
    case A_UNREF:
      /* The handler owns the only reference; this is the last one. */
      g_assert_null (w->owned);
      g_object_unref (obj);
      break;
    case A_ABORT:
      if (QSOCK_IS_LOCAL (obj))
        qsock_local_abort (QSOCK_LOCAL (obj));
      else
        qsock_abstract_abort (QSOCK_ABSTRACT (obj));
      break;
    case A_CLOSE:
      if (QSOCK_IS_TCP_SERVER (obj))
        qsock_tcp_server_close (QSOCK_TCP_SERVER (obj));
      else if (QSOCK_IS_LOCAL_SERVER (obj))
        qsock_local_server_close (QSOCK_LOCAL_SERVER (obj));
      else
        qsock_iodevice_close (QSOCK_IODEVICE (obj));
      break;
    case A_DISCONNECT:
      if (QSOCK_IS_LOCAL (obj))
        qsock_local_disconnect_from_server (QSOCK_LOCAL (obj));
      else
        qsock_abstract_disconnect_from_host (QSOCK_ABSTRACT (obj));
      break;
    case A_WAIT_READY_READ:
      qsock_iodevice_wait_for_ready_read (QSOCK_IODEVICE (obj), 10);
      break;
    case A_WAIT_DISCONNECTED:
      expect_unconnected_wait_warning (w, "*waitForDisconnected() is not allowed in UnconnectedState*");
      if (QSOCK_IS_LOCAL (obj))
        qsock_local_wait_for_disconnected (QSOCK_LOCAL (obj), 10);
      else
        qsock_abstract_wait_for_disconnected (QSOCK_ABSTRACT (obj), 10);
      g_test_assert_expected_messages ();
      break;
    case A_WAIT_BYTES_WRITTEN:
      expect_unconnected_wait_warning (w, "*waitForBytesWritten() is not allowed in UnconnectedState*");
      qsock_iodevice_wait_for_bytes_written (QSOCK_IODEVICE (obj), 10);
      g_test_assert_expected_messages ();
      break;
    case A_UNREF_SERVER:
      /* The server that accepted this socket goes; the socket stays. */
      g_assert_true (w->tcp_server != NULL || w->local_server != NULL);
      g_clear_object (&w->tcp_server);
      g_clear_object (&w->local_server);
      break;
    case A_WAIT_NEW_CONNECTION:
      if (QSOCK_IS_TCP_SERVER (obj))
        qsock_tcp_server_wait_for_new_connection (QSOCK_TCP_SERVER (obj), 10, NULL);
      else
        qsock_local_server_wait_for_new_connection (QSOCK_LOCAL_SERVER (obj), 10, NULL);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
on_signal (World   *w,
           GObject *obj,
           gint64   arg)
{
  const SignalInfo *info = &signal_infos[w->c->sig];

  g_assert_true (obj == w->weak);
  if (w->runs > 0)
    return;
  if (info->state >= 0 && arg != info->state)
    return;
  w->runs++;
  w->state_at_run = world_state (w);
  if (info->state >= 0)
    g_assert_cmpint (w->state_at_run, ==, info->state);
  w->unref_pending = w->c->action == A_UNREF;
  act (w, obj);
}

/* The next handler of the same emission. */
static void
on_next (World   *w,
         GObject *obj)
{
  if (!w->unref_pending)
    return;
  w->unref_pending = FALSE;
  w->next_runs++;
  /* Reads the instance: freed memory here is ASan's to report. */
  g_assert_true (G_IS_OBJECT (obj));
  g_assert_true (obj == w->weak);
}

static void
on_plain_next (GObject *obj, gpointer data)
{
  on_next (data, obj);
}

static void
on_int_next (GObject *obj, gint value, gpointer data)
{
  on_next (data, obj);
}

static void
on_int64_next (GObject *obj, gint64 value, gpointer data)
{
  on_next (data, obj);
}

static void
on_notify_next (GObject *obj, GParamSpec *pspec, gpointer data)
{
  on_next (data, obj);
}

static void
on_plain (GObject *obj, gpointer data)
{
  on_signal (data, obj, 0);
}

static void
on_int (GObject *obj, gint value, gpointer data)
{
  on_signal (data, obj, value);
}

static void
on_int64 (GObject *obj, gint64 value, gpointer data)
{
  on_signal (data, obj, value);
}

static void
on_notify (GObject *obj, GParamSpec *pspec, gpointer data)
{
  on_signal (data, obj, 0);
}

static void
attach_handler (World *w)
{
  const SignalInfo *info = &signal_infos[w->c->sig];
  GCallback cb = NULL, next = NULL;

  switch (info->shape)
    {
    case SHAPE_PLAIN: cb = G_CALLBACK (on_plain); next = G_CALLBACK (on_plain_next); break;
    case SHAPE_INT: cb = G_CALLBACK (on_int); next = G_CALLBACK (on_int_next); break;
    case SHAPE_INT64: cb = G_CALLBACK (on_int64); next = G_CALLBACK (on_int64_next); break;
    case SHAPE_NOTIFY: cb = G_CALLBACK (on_notify); next = G_CALLBACK (on_notify_next); break;
    }
  w->handler_id = g_signal_connect (w->obj, info->signal, cb, w);
  g_assert_cmpuint (w->handler_id, !=, 0);
  if (w->c->action == A_UNREF)
    g_signal_connect (w->obj, info->signal, next, w);
}

/* ---- tracing (LIFECYCLE_TRACE=1) ---------------------------------------- */

static void
trace_emission (GObject *obj, const char *name, gint64 arg)
{
  g_printerr ("  [trace] %s(%" G_GINT64_FORMAT ") state=%d\n", name, arg,
              the_world != NULL ? world_state (the_world) : -9);
}

#define TRACE_PLAIN(id, name) \
  static void trace_##id (GObject *o, gpointer d) { trace_emission (o, name, 0); }
#define TRACE_INT(id, name) \
  static void trace_##id (GObject *o, gint v, gpointer d) { trace_emission (o, name, v); }
TRACE_PLAIN (host_found, "host-found")
TRACE_PLAIN (connected, "connected")
TRACE_PLAIN (ready_read, "ready-read")
TRACE_PLAIN (rcf, "read-channel-finished")
TRACE_PLAIN (atc, "about-to-close")
TRACE_PLAIN (disconnected, "disconnected")
TRACE_PLAIN (new_connection, "new-connection")
TRACE_PLAIN (pca, "pending-connection-available")
TRACE_INT (state, "state-changed")
TRACE_INT (error, "error-occurred")
TRACE_INT (accept_error, "accept-error")

static void
trace_bytes_written (GObject *o, gint64 v, gpointer d)
{
  trace_emission (o, "bytes-written", v);
}

static void
trace_notify (GObject *o, GParamSpec *pspec, gpointer d)
{
  trace_emission (o, g_intern_string (pspec->name), -1);
}

static void
attach_trace (GObject *obj)
{
  static const struct { const char *signal; GCallback cb; } traces[] = {
    { "host-found", G_CALLBACK (trace_host_found) },
    { "connected", G_CALLBACK (trace_connected) },
    { "ready-read", G_CALLBACK (trace_ready_read) },
    { "read-channel-finished", G_CALLBACK (trace_rcf) },
    { "about-to-close", G_CALLBACK (trace_atc) },
    { "disconnected", G_CALLBACK (trace_disconnected) },
    { "new-connection", G_CALLBACK (trace_new_connection) },
    { "pending-connection-available", G_CALLBACK (trace_pca) },
    { "state-changed", G_CALLBACK (trace_state) },
    { "error-occurred", G_CALLBACK (trace_error) },
    { "accept-error", G_CALLBACK (trace_accept_error) },
    { "bytes-written", G_CALLBACK (trace_bytes_written) },
    { "notify", G_CALLBACK (trace_notify) },
  };

  if (g_getenv ("LIFECYCLE_TRACE") == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (traces); i++)
    if (g_signal_lookup (traces[i].signal, G_OBJECT_TYPE (obj)) != 0)
      g_signal_connect (obj, traces[i].signal, traces[i].cb, NULL);
}

/* ---- setting the world up ------------------------------------------------ */

static gboolean
is_connect_trigger (Trigger t)
{
  return t == T_CONNECT || t == T_CONNECT_BY_NAME || t == T_CONNECT_PEER_CLOSE ||
         t == T_CONNECT_PEER_RESET || t == T_REFUSED;
}

static void
make_dir (World *w)
{
  g_autoptr(GError) error = NULL;

  w->dir = g_dir_make_tmp ("qsock-lifecycle-XXXXXX", &error);
  g_assert_no_error (error);
  w->path = g_build_filename (w->dir, "server", NULL);
  w->refused_path = g_build_filename (w->dir, "refused", NULL);
}

static void
setup_tcp_client (World *w)
{
  QSockTcp *sock = qsock_tcp_new ();

  w->obj = G_OBJECT (sock);
  if (w->c->trigger == T_REFUSED)
    {
      w->refusing_fd = tu_refusing_socket (&w->port);
      return;
    }
  w->listen_fd = tu_listen (AF_INET, 8, &w->port);
  g_assert_cmpint (w->listen_fd, >=, 0);
  if (is_connect_trigger (w->c->trigger))
    return;
  qsock_abstract_connect_to_host (QSOCK_ABSTRACT (sock), "127.0.0.1", w->port,
                                  QSOCK_OPEN_MODE_READ_WRITE,
                                  QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP);
  TU_RUN_UNTIL (qsock_abstract_get_state (QSOCK_ABSTRACT (sock)) == CON, GUARD_MS);
  w->peer_fd = tu_accept (w->listen_fd, GUARD_MS);
}

static void
setup_tcp_accepted (World *w)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  w->tcp_server = qsock_tcp_server_new ();
  g_assert_true (qsock_tcp_server_listen (w->tcp_server, loopback, 0));
  w->peer_fd = tu_connect (qsock_tcp_server_get_server_port (w->tcp_server));
  TU_RUN_UNTIL (qsock_tcp_server_has_pending_connections (w->tcp_server), GUARD_MS);
  w->obj = G_OBJECT (qsock_tcp_server_next_pending_connection (w->tcp_server));
  g_assert_nonnull (w->obj);
}

static void
setup_udp (World *w)
{
  QSockUdp *sock = qsock_udp_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  Trigger t = w->c->trigger;

  w->obj = G_OBJECT (sock);
  w->udp_peer = tu_udp_socket (AF_INET, &w->udp_peer_port);
  g_assert_cmpint (w->udp_peer, >=, 0);
  w->port = w->udp_peer_port;

  if (t == T_ICMP_REFUSED || t == T_ICMP_READ || t == T_ICMP_WRITE)
    {
      /* A port nobody has: bound a moment ago, free now. */
      guint16 port;
      int fd = tu_udp_socket (AF_INET, &port);

      close (fd);
      w->port = port;
    }

  if (w->c->kind == K_UDP_BOUND)
    {
      if (t == T_BIND || t == T_BIND_IN_USE)
        return;
      g_assert_true (qsock_abstract_bind (QSOCK_ABSTRACT (sock), loopback, 0,
                                          QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM));
      return;
    }

  if (t == T_CONNECT || t == T_CONNECT_BY_NAME)
    return;
  qsock_abstract_connect_to_host (QSOCK_ABSTRACT (sock), "127.0.0.1", w->port,
                                  QSOCK_OPEN_MODE_READ_WRITE,
                                  QSOCK_NETWORK_LAYER_PROTOCOL_IPV4);
  TU_RUN_UNTIL (qsock_abstract_get_state (QSOCK_ABSTRACT (sock)) == CON, GUARD_MS);
}

static void
setup_local_client (World *w)
{
  QSockLocal *sock = qsock_local_new ();

  make_dir (w);
  w->obj = G_OBJECT (sock);
  if (w->c->trigger == T_REFUSED)
    {
      /* A socket file nobody listens on: ECONNREFUSED. */
      w->refusing_fd = unix_socket_at (w->refused_path, FALSE);
      return;
    }
  w->local_server = g_object_new (LC_TYPE_PEER_SERVER, NULL);
  g_assert_true (qsock_local_server_listen (w->local_server, w->path));
  if (is_connect_trigger (w->c->trigger))
    return;
  qsock_local_connect_to_server (sock, w->path, QSOCK_OPEN_MODE_READ_WRITE);
  g_assert_cmpint (qsock_local_get_state (sock), ==, CON);
  TU_RUN_UNTIL (LC_PEER_SERVER (w->local_server)->fd >= 0, GUARD_MS);
  w->peer_fd = LC_PEER_SERVER (w->local_server)->fd;
  LC_PEER_SERVER (w->local_server)->fd = -1;
}

static void
setup_local_accepted (World *w)
{
  make_dir (w);
  w->local_server = qsock_local_server_new ();
  g_assert_true (qsock_local_server_listen (w->local_server, w->path));
  w->peer_fd = unix_socket_at (w->path, TRUE);
  TU_RUN_UNTIL (qsock_local_server_has_pending_connections (w->local_server), GUARD_MS);
  w->obj = G_OBJECT (qsock_local_server_next_pending_connection (w->local_server));
  g_assert_nonnull (w->obj);
}

static void
setup_server (World *w)
{
  if (w->c->kind == K_TCP_SERVER)
    {
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      QSockTcpServer *server = qsock_tcp_server_new ();

      w->obj = G_OBJECT (server);
      g_assert_true (qsock_tcp_server_listen (server, loopback, 0));
      w->port = qsock_tcp_server_get_server_port (server);
    }
  else
    {
      QSockLocalServer *server = qsock_local_server_new ();

      make_dir (w);
      w->obj = G_OBJECT (server);
      g_assert_true (qsock_local_server_listen (server, w->path));
    }
}

static void
world_init (World      *w,
            const Case *c)
{
  memset (w, 0, sizeof *w);
  w->c = c;
  w->peer_fd = w->listen_fd = w->refusing_fd = w->udp_peer = w->client_fd = -1;
  w->state_at_run = -9;
  the_world = w;

  switch (c->kind)
    {
    case K_TCP_CLIENT: setup_tcp_client (w); break;
    case K_TCP_ACCEPTED: setup_tcp_accepted (w); break;
    case K_UDP_BOUND:
    case K_UDP_CONNECTED: setup_udp (w); break;
    case K_LOCAL_CLIENT: setup_local_client (w); break;
    case K_LOCAL_ACCEPTED: setup_local_accepted (w); break;
    case K_TCP_SERVER:
    case K_LOCAL_SERVER: setup_server (w); break;
    default: g_assert_not_reached ();
    }

  if (c->trigger == T_HALF_PEER_SHUTDOWN || c->trigger == T_HALF_WRITE_SHUTDOWN ||
      c->trigger == T_HALF_BOTH)
    {
      if (QSOCK_IS_LOCAL (w->obj))
        qsock_local_set_half_close (QSOCK_LOCAL (w->obj), TRUE);
      else
        qsock_abstract_set_half_close (QSOCK_ABSTRACT (w->obj), TRUE);
    }

  w->weak = w->obj;
  g_object_add_weak_pointer (w->obj, &w->weak);
  /* For unref the handler owns the reference the test had. */
  w->owned = c->action == A_UNREF ? NULL : w->obj;
  attach_trace (w->obj);
}

static void
world_clear (World *w)
{
  restore_nofile (w);
  if (w->weak != NULL)
    {
      /* Only after a failed assertion; the object is leaked on purpose. */
      g_object_remove_weak_pointer (w->weak, &w->weak);
    }
  g_clear_object (&w->tcp_server);
  g_clear_object (&w->local_server);
  if (w->peer_fd >= 0)
    close (w->peer_fd);
  if (w->listen_fd >= 0)
    close (w->listen_fd);
  if (w->refusing_fd >= 0)
    close (w->refusing_fd);
  if (w->udp_peer >= 0)
    close (w->udp_peer);
  if (w->client_fd >= 0)
    close (w->client_fd);
  if (w->path != NULL)
    g_unlink (w->path);
  if (w->refused_path != NULL)
    g_unlink (w->refused_path);
  if (w->dir != NULL)
    g_rmdir (w->dir);
  g_free (w->dir);
  g_free (w->path);
  g_free (w->refused_path);
  the_world = NULL;
}

/* ---- the trigger ------------------------------------------------------- */

static void
peer_write_line (World *w)
{
  if (IS_UDP (w->c->kind))
    {
      struct sockaddr_in to = { .sin_family = AF_INET };
      guint16 port = qsock_abstract_get_local_port (QSOCK_ABSTRACT (w->obj));

      to.sin_port = g_htons (port);
      to.sin_addr.s_addr = g_htonl (INADDR_LOOPBACK);
      g_assert_cmpint (sendto (w->udp_peer, LINE, strlen (LINE), 0,
                               (struct sockaddr *) &to, sizeof to), ==, strlen (LINE));
      return;
    }
  tu_write_all (w->peer_fd, LINE, strlen (LINE));
}

static void
peer_end (World   *w,
          gboolean reset)
{
  if (reset && IS_LOCAL (w->c->kind))
    {
      /* Leave a byte unread at the peer, so its close is a reset. */
      int fd = qsock_local_get_socket_descriptor (QSOCK_LOCAL (w->obj));

      g_assert_cmpint (write (fd, "x", 1), ==, 1);
      g_assert_true (tu_wait_readable (w->peer_fd, GUARD_MS));
    }
  if (reset)
    peer_close_with_reset (w->peer_fd, IS_LOCAL (w->c->kind));
  else
    close (w->peer_fd);
  w->peer_fd = -1;
}

static void
trigger_connect (World *w)
{
  const char *host = w->c->trigger == T_CONNECT_BY_NAME ? "localhost" : "127.0.0.1";

  if (w->c->kind == K_LOCAL_CLIENT)
    {
      const char *name = w->c->trigger == T_REFUSED ? w->refused_path : w->path;

      qsock_local_connect_to_server (QSOCK_LOCAL (w->obj), name, QSOCK_OPEN_MODE_READ_WRITE);
      return;
    }
  qsock_abstract_connect_to_host (QSOCK_ABSTRACT (w->obj), host, w->port,
                                  QSOCK_OPEN_MODE_READ_WRITE,
                                  QSOCK_NETWORK_LAYER_PROTOCOL_IPV4);
}

static void
self_write (World *w)
{
  char data[100];

  memset (data, 'w', sizeof data);
  if (w->c->kind == K_UDP_BOUND)
    {
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

      qsock_udp_write_datagram (QSOCK_UDP (w->obj), data, sizeof data, loopback, w->udp_peer_port);
      return;
    }
  qsock_iodevice_write (QSOCK_IODEVICE (w->obj), data, sizeof data);
}

static void
self_disconnect (World *w)
{
  if (QSOCK_IS_LOCAL (w->obj))
    qsock_local_disconnect_from_server (QSOCK_LOCAL (w->obj));
  else
    qsock_abstract_disconnect_from_host (QSOCK_ABSTRACT (w->obj));
}

static void
self_shutdown_write (World *w)
{
  if (QSOCK_IS_LOCAL (w->obj))
    qsock_local_shutdown_write (QSOCK_LOCAL (w->obj));
  else
    qsock_abstract_shutdown_write (QSOCK_ABSTRACT (w->obj));
}

static void
client_connects (World *w)
{
  if (w->c->kind == K_TCP_SERVER)
    w->client_fd = tu_connect (w->port);
  else
    w->client_fd = unix_socket_at (w->path, TRUE);
}

static void
run_trigger (World *w)
{
  gboolean server = IS_SERVER (w->c->kind);

  /* Every call below may drop the last reference (inside its
   * synchronous emissions): none touches w->obj afterwards. */
  switch (w->c->trigger)
    {
    case T_CONNECT:
    case T_CONNECT_BY_NAME:
    case T_REFUSED:
      trigger_connect (w);
      break;
    case T_CONNECT_PEER_CLOSE:
    case T_CONNECT_PEER_RESET:
      trigger_connect (w);
      /* Loopback completes the handshake in the kernel: the listener
       * accepts and ends the connection before the client's loop runs. */
      w->peer_fd = tu_accept (w->listen_fd, GUARD_MS);
      peer_end (w, w->c->trigger == T_CONNECT_PEER_RESET);
      break;
    case T_PEER_OPEN:
    case T_PEER_CLOSE:
    case T_PEER_RESET:
      if (server)
        {
          client_connects (w);
          if (w->c->trigger == T_PEER_CLOSE || (w->c->trigger == T_PEER_RESET &&
                                                w->c->kind == K_LOCAL_SERVER))
            {
              close (w->client_fd);
              w->client_fd = -1;
            }
          else if (w->c->trigger == T_PEER_RESET)
            {
              tu_close_with_reset (w->client_fd);
              w->client_fd = -1;
            }
          break;
        }
      peer_write_line (w);
      if (w->c->trigger != T_PEER_OPEN)
        peer_end (w, w->c->trigger == T_PEER_RESET);
      break;
    case T_WRITE:
      self_write (w);
      break;
    case T_WRITE_DISCONNECT:
      self_write (w);
      self_disconnect (w);
      break;
    case T_WRITE_CLOSE:
      self_write (w);
      qsock_iodevice_close (QSOCK_IODEVICE (w->obj));
      break;
    case T_PEER_SHUTDOWN:
    case T_HALF_PEER_SHUTDOWN:
      peer_write_line (w);
      g_assert_cmpint (shutdown (w->peer_fd, SHUT_WR), ==, 0);
      break;
    case T_HALF_WRITE_SHUTDOWN:
      self_write (w);
      self_shutdown_write (w);
      break;
    case T_HALF_BOTH:
      {
        gint64 want = strlen (LINE);

        /* The peer's line and end arrive first (the handler ignores
         * them: its signal comes later). */
        peer_write_line (w);
        g_assert_cmpint (shutdown (w->peer_fd, SHUT_WR), ==, 0);
        TU_RUN_UNTIL (qsock_iodevice_bytes_available (QSOCK_IODEVICE (w->obj)) == want, GUARD_MS);
        tu_spin (5);
        g_assert_cmpint (world_state (w), ==, CON);
        self_shutdown_write (w);
      }
      break;
    case T_DISCONNECT:
      self_disconnect (w);
      break;
    case T_CLOSE:
      qsock_iodevice_close (QSOCK_IODEVICE (w->obj));
      break;
    case T_ABORT:
      if (QSOCK_IS_LOCAL (w->obj))
        qsock_local_abort (QSOCK_LOCAL (w->obj));
      else
        qsock_abstract_abort (QSOCK_ABSTRACT (w->obj));
      break;
    case T_BIND:
    case T_BIND_IN_USE:
      {
        g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
        guint16 port = w->c->trigger == T_BIND_IN_USE ? w->udp_peer_port : 0;

        qsock_abstract_bind (QSOCK_ABSTRACT (w->obj), loopback, port,
                             QSOCK_BIND_FLAGS_DONT_SHARE_ADDRESS);
      }
      break;
    case T_ICMP_REFUSED:
      self_write (w);
      break;
    case T_ICMP_READ:
      {
        char buf[100];
        int fd = qsock_abstract_get_socket_descriptor (QSOCK_ABSTRACT (w->obj));

        self_write (w);
        g_assert_true (tu_wait_readable (fd, GUARD_MS));
        qsock_iodevice_read (QSOCK_IODEVICE (w->obj), buf, sizeof buf);
      }
      break;
    case T_ICMP_WRITE:
      {
        int fd = qsock_abstract_get_socket_descriptor (QSOCK_ABSTRACT (w->obj));

        self_write (w);
        g_assert_true (tu_wait_readable (fd, GUARD_MS));
        self_write (w);
      }
      break;
    case T_EMFILE:
      client_connects (w);
      lower_nofile (w);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* ---- the checks afterwards ---------------------------------------------- */

static int
expected_end (World *w)
{
  switch (w->c->action)
    {
    case A_ABORT:
    case A_CLOSE:
    case A_DISCONNECT:
      return UNC;
    default:
      return w->c->end;
    }
}

static void
check_peer_sees_end (World *w)
{
  if (IS_UDP (w->c->kind))
    return;

  if (IS_SERVER (w->c->kind))
    {
      /* A queued or backlogged connection ends with its server. */
      if (w->client_fd >= 0)
        g_assert_true (peer_sees_end (w->client_fd, GUARD_MS));
      return;
    }

  /* A connection the listener never took (after connect-peer-reset, the
   * second attempt's) must end too. */
  if (w->peer_fd < 0 && w->listen_fd >= 0)
    w->peer_fd = try_accept (w->listen_fd, 0);
  if (w->peer_fd < 0 && w->local_server != NULL && LC_IS_PEER_SERVER (w->local_server))
    {
      tu_spin (5);
      w->peer_fd = LC_PEER_SERVER (w->local_server)->fd;
      LC_PEER_SERVER (w->local_server)->fd = -1;
    }
  if (w->peer_fd >= 0)
    g_assert_true (peer_sees_end (w->peer_fd, GUARD_MS));
}

/* The blocking wait that sees a trigger through without a main loop (the
 * signals are then emitted inside it), or FALSE if it has none. */
static gboolean
drive_by_wait (World *w,
               gboolean check_only)
{
  GObject *obj = w->weak;
  int state = world_state (w);
  int ms = GUARD_MS;
  gint64 start;

  switch (w->c->trigger)
    {
    case T_CONNECT:
    case T_CONNECT_BY_NAME:
    case T_CONNECT_PEER_CLOSE:
    case T_CONNECT_PEER_RESET:
    case T_REFUSED:
    case T_PEER_OPEN:
    case T_PEER_CLOSE:
    case T_PEER_RESET:
    case T_PEER_SHUTDOWN:
    case T_WRITE:
    case T_WRITE_DISCONNECT:
    case T_WRITE_CLOSE:
    case T_ICMP_REFUSED:
    case T_EMFILE:
      break;
    default:
      return FALSE;
    }
  if (check_only)
    return TRUE;
  /* Released or finished inside the trigger's own call already. */
  if (obj == NULL || w->runs > 0)
    return TRUE;

  start = g_get_monotonic_time ();
  switch (w->c->trigger)
    {
    case T_CONNECT:
    case T_CONNECT_BY_NAME:
    case T_CONNECT_PEER_CLOSE:
    case T_CONNECT_PEER_RESET:
    case T_REFUSED:
      if (QSOCK_IS_LOCAL (obj))
        qsock_local_wait_for_connected (QSOCK_LOCAL (obj), ms);
      else
        qsock_abstract_wait_for_connected (QSOCK_ABSTRACT (obj), ms);
      break;
    case T_PEER_OPEN:
    case T_PEER_CLOSE:
    case T_PEER_RESET:
    case T_PEER_SHUTDOWN:
      if (IS_SERVER (w->c->kind))
        {
          if (QSOCK_IS_TCP_SERVER (obj))
            qsock_tcp_server_wait_for_new_connection (QSOCK_TCP_SERVER (obj), ms, NULL);
          else
            qsock_local_server_wait_for_new_connection (QSOCK_LOCAL_SERVER (obj), ms, NULL);
        }
      else if (w->c->trigger == T_PEER_OPEN)
        qsock_iodevice_wait_for_ready_read (QSOCK_IODEVICE (obj), ms);
      else if (state != UNC && QSOCK_IS_LOCAL (obj))
        qsock_local_wait_for_disconnected (QSOCK_LOCAL (obj), ms);
      else if (state != UNC)
        qsock_abstract_wait_for_disconnected (QSOCK_ABSTRACT (obj), ms);
      break;
    case T_WRITE:
      if (state != UNC)
        qsock_iodevice_wait_for_bytes_written (QSOCK_IODEVICE (obj), ms);
      break;
    case T_WRITE_DISCONNECT:
    case T_WRITE_CLOSE:
      if (state != UNC && QSOCK_IS_LOCAL (obj))
        qsock_local_wait_for_disconnected (QSOCK_LOCAL (obj), ms);
      else if (state != UNC)
        qsock_abstract_wait_for_disconnected (QSOCK_ABSTRACT (obj), ms);
      break;
    case T_ICMP_REFUSED:
      qsock_iodevice_wait_for_ready_read (QSOCK_IODEVICE (obj), ms);
      break;
    case T_EMFILE:
      if (QSOCK_IS_TCP_SERVER (obj))
        qsock_tcp_server_wait_for_new_connection (QSOCK_TCP_SERVER (obj), ms, NULL);
      else
        qsock_local_server_wait_for_new_connection (QSOCK_LOCAL_SERVER (obj), ms, NULL);
      break;
    default:
      g_assert_not_reached ();
    }
  /* The handler ran inside the wait; whatever it did (release, abort,
   * close) must end the wait at once, not at its deadline. */
  g_assert_cmpuint (w->runs, ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - start, <, (gint64) 2000 * 1000 * tu_timeout_scale ());
  return TRUE;
}

static void run_case_here (const Case *c);

static gpointer
case_thread (gpointer data)
{
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  run_case_here (data);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
run_case (gconstpointer data)
{
  const Case *c = data;

  /* A child makes the library's first watch in this case, so the backend
   * is this case's choice. */
  if (c->gsource)
    g_setenv ("QSOCK_DISPATCH", "gsource", TRUE);
  if (c->in_thread)
    g_thread_join (g_thread_new ("lifecycle", case_thread, (gpointer) c));
  else
    run_case_here (c);
}

static void
run_case_here (const Case *c)
{
  World w;

  world_init (&w, c);
  attach_handler (&w);

  run_trigger (&w);
  if (c->in_wait)
    drive_by_wait (&w, FALSE);
  TU_RUN_UNTIL (w.runs > 0, GUARD_MS);
  restore_nofile (&w);
  g_assert_cmpuint (w.runs, ==, 1);

  if (c->action == A_UNREF)
    {
      /* The emission went on to the next handler with the object alive. */
      g_assert_cmpuint (w.next_runs, ==, 1);
      TU_RUN_UNTIL (w.weak == NULL, GUARD_MS);
    }
  else
    {
      int end = expected_end (&w);

      TU_RUN_UNTIL (world_state (&w) == end, GUARD_MS);
      /* ... and stays there: an abort must not come back to life. */
      tu_spin (5);
      g_assert_cmpint (world_state (&w), ==, end);
      if (c->action == A_ABORT || c->action == A_CLOSE)
        if (!IS_SERVER (c->kind))
          g_assert_false (qsock_iodevice_is_open (QSOCK_IODEVICE (w.weak)));
      if (IS_SERVER (c->kind) && c->action == A_CLOSE)
        g_assert_cmpint (world_state (&w), ==, UNC);
      g_clear_object (&w.owned);
      TU_RUN_UNTIL (w.weak == NULL, GUARD_MS);
    }

  check_peer_sees_end (&w);
  /* Late sources that still point at the object would fire now. */
  tu_spin (10);
  world_clear (&w);
}

/* ======================================================================
 * The Python pattern: a container holds the only reference, the
 * disconnected handler removes the socket from it
 * ====================================================================== */

typedef struct
{
  Kind    kind;
  Trigger trigger;
} PatternCase;

static void
on_disconnected_drop (GObject *obj,
                      gpointer data)
{
  GHashTable *clients = data;

  g_assert_true (g_hash_table_remove (clients, obj));
}

static void
run_pattern (gconstpointer data)
{
  const PatternCase *pc = data;
  Case c = { pc->kind, pc->trigger, S_DISCONNECTED, A_UNREF, UNC };
  g_autoptr(GHashTable) clients = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  World w;

  world_init (&w, &c);
  g_hash_table_add (clients, w.obj);     /* the test's reference */
  g_signal_connect (w.obj, "disconnected", G_CALLBACK (on_disconnected_drop), clients);

  run_trigger (&w);
  TU_RUN_UNTIL (g_hash_table_size (clients) == 0, GUARD_MS);
  TU_RUN_UNTIL (w.weak == NULL, GUARD_MS);
  tu_spin (10);
  world_clear (&w);
}

/* ======================================================================
 * A pending asynchronous operation holding the only reference while the
 * world moves: the callback must run, with the object still alive, and the
 * object must go once the callback has returned
 * ====================================================================== */

typedef enum
{
  OP_READ_LINE,
  OP_READ_EXACTLY,
  OP_FLUSH,
  OP_WAIT_DISCONNECTED,
  OP_CONNECT,
  OP_RECEIVE_DATAGRAM,
  OP_ACCEPT,
  N_OPS
} AsyncOp;

static const char * const op_names[N_OPS] = {
  "read-line", "read-exactly", "flush", "wait-disconnected", "connect",
  "receive-datagram", "accept",
};

typedef struct
{
  Kind    kind;
  AsyncOp op;
  Trigger trigger;   /* what the peer does once the test has let go */
} AsyncCase;

typedef struct
{
  World         *w;
  const AsyncCase *ac;
  guint          calls;
  gboolean       source_alive;
  gboolean       ok;
  GBytes        *bytes;
  GObject       *result_object;   /* a datagram or an accepted socket */
  GError        *error;
} AsyncResult;

#define FLUSH_SIZE 100

static void
on_async_done (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  AsyncResult *ar = data;

  ar->calls++;
  ar->source_alive = source == ar->w->weak;
  switch (ar->ac->op)
    {
    case OP_READ_LINE:
      ar->bytes = qsock_iodevice_read_line_finish (QSOCK_IODEVICE (source), result, &ar->error);
      ar->ok = ar->bytes != NULL;
      break;
    case OP_READ_EXACTLY:
      ar->bytes = qsock_iodevice_read_exactly_finish (QSOCK_IODEVICE (source), result, &ar->error);
      ar->ok = ar->bytes != NULL;
      break;
    case OP_FLUSH:
      ar->ok = qsock_iodevice_flush_finish (QSOCK_IODEVICE (source), result, &ar->error);
      break;
    case OP_WAIT_DISCONNECTED:
      if (QSOCK_IS_LOCAL (source))
        ar->ok = qsock_local_wait_for_disconnected_finish (QSOCK_LOCAL (source), result, &ar->error);
      else
        ar->ok = qsock_abstract_wait_for_disconnected_finish (QSOCK_ABSTRACT (source), result,
                                                              &ar->error);
      break;
    case OP_CONNECT:
      if (QSOCK_IS_LOCAL (source))
        ar->ok = qsock_local_connect_to_server_finish (QSOCK_LOCAL (source), result, &ar->error);
      else
        ar->ok = qsock_abstract_connect_to_host_finish (QSOCK_ABSTRACT (source), result,
                                                        &ar->error);
      break;
    case OP_RECEIVE_DATAGRAM:
      ar->result_object = G_OBJECT (qsock_udp_receive_datagram_finish (QSOCK_UDP (source), result,
                                                                       &ar->error));
      ar->ok = ar->result_object != NULL;
      break;
    case OP_ACCEPT:
      if (QSOCK_IS_TCP_SERVER (source))
        ar->result_object = G_OBJECT (qsock_tcp_server_accept_finish (QSOCK_TCP_SERVER (source),
                                                                      result, &ar->error));
      else
        ar->result_object = G_OBJECT (qsock_local_server_accept_finish (QSOCK_LOCAL_SERVER (source),
                                                                        result, &ar->error));
      ar->ok = ar->result_object != NULL;
      break;
    default:
      g_assert_not_reached ();
    }
  g_assert_true (ar->ok == (ar->error == NULL));
}

static void
start_async (AsyncResult *ar)
{
  World *w = ar->w;
  GObject *obj = w->obj;

  switch (ar->ac->op)
    {
    case OP_READ_LINE:
      qsock_iodevice_read_line_async (QSOCK_IODEVICE (obj), 0, NULL, on_async_done, ar);
      break;
    case OP_READ_EXACTLY:
      qsock_iodevice_read_exactly_async (QSOCK_IODEVICE (obj), strlen (LINE) + 10, NULL,
                                         on_async_done, ar);
      break;
    case OP_FLUSH:
      {
        char data[FLUSH_SIZE];

        memset (data, 'f', sizeof data);
        qsock_iodevice_write (QSOCK_IODEVICE (obj), data, sizeof data);
        qsock_iodevice_flush_async (QSOCK_IODEVICE (obj), NULL, on_async_done, ar);
      }
      break;
    case OP_WAIT_DISCONNECTED:
      if (QSOCK_IS_LOCAL (obj))
        qsock_local_wait_for_disconnected_async (QSOCK_LOCAL (obj), NULL, on_async_done, ar);
      else
        qsock_abstract_wait_for_disconnected_async (QSOCK_ABSTRACT (obj), NULL, on_async_done, ar);
      break;
    case OP_CONNECT:
      if (QSOCK_IS_LOCAL (obj))
        qsock_local_connect_to_server_async (QSOCK_LOCAL (obj),
                                             ar->ac->trigger == T_REFUSED ? w->refused_path : w->path,
                                             QSOCK_OPEN_MODE_READ_WRITE, NULL, on_async_done, ar);
      else
        qsock_abstract_connect_to_host_async (QSOCK_ABSTRACT (obj), "127.0.0.1", w->port,
                                              QSOCK_OPEN_MODE_READ_WRITE,
                                              QSOCK_NETWORK_LAYER_PROTOCOL_IPV4,
                                              NULL, on_async_done, ar);
      break;
    case OP_RECEIVE_DATAGRAM:
      qsock_udp_receive_datagram_async (QSOCK_UDP (obj), NULL, on_async_done, ar);
      break;
    case OP_ACCEPT:
      if (QSOCK_IS_TCP_SERVER (obj))
        qsock_tcp_server_accept_async (QSOCK_TCP_SERVER (obj), NULL, on_async_done, ar);
      else
        qsock_local_server_accept_async (QSOCK_LOCAL_SERVER (obj), NULL, on_async_done, ar);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* What the world does once the pending operation holds the only
 * reference. */
static void
move_world (AsyncResult *ar)
{
  World *w = ar->w;
  const AsyncCase *ac = ar->ac;

  switch (ac->op)
    {
    case OP_CONNECT:
      /* The connect itself is the event. */
      return;
    case OP_ACCEPT:
      client_connects (w);
      if (ac->trigger == T_PEER_CLOSE)
        {
          close (w->client_fd);
          w->client_fd = -1;
        }
      else if (ac->trigger == T_PEER_RESET)
        {
          tu_close_with_reset (w->client_fd);
          w->client_fd = -1;
        }
      return;
    case OP_RECEIVE_DATAGRAM:
      peer_write_line (w);
      return;
    case OP_FLUSH:
      if (ac->trigger != T_PEER_OPEN)
        peer_end (w, ac->trigger == T_PEER_RESET);
      return;
    default:
      break;
    }

  if (ac->trigger == T_PEER_OPEN)
    {
      char more[10];

      memset (more, 'm', sizeof more);
      tu_write_all (w->peer_fd, LINE, strlen (LINE));
      if (ac->op == OP_READ_EXACTLY)
        tu_write_all (w->peer_fd, more, sizeof more);
      return;
    }
  /* Half a line, then the end. */
  tu_write_all (w->peer_fd, "hel", 3);
  peer_end (w, ac->trigger == T_PEER_RESET);
}

static void
check_async_result (AsyncResult *ar)
{
  const AsyncCase *ac = ar->ac;

  switch (ac->op)
    {
    case OP_READ_LINE:
    case OP_READ_EXACTLY:
      if (ac->trigger == T_PEER_OPEN)
        {
          g_assert_no_error (ar->error);
          g_assert_cmpuint (g_bytes_get_size (ar->bytes), ==,
                            ac->op == OP_READ_LINE ? strlen (LINE) : strlen (LINE) + 10);
        }
      break;
    case OP_FLUSH:
      if (ac->trigger == T_PEER_OPEN)
        {
          char got[FLUSH_SIZE];

          g_assert_no_error (ar->error);
          tu_read_exact (ar->w->peer_fd, got, sizeof got, GUARD_MS);
        }
      break;
    case OP_WAIT_DISCONNECTED:
      g_assert_no_error (ar->error);
      break;
    case OP_CONNECT:
      if (ac->trigger == T_REFUSED)
        g_assert_nonnull (ar->error);
      else
        g_assert_no_error (ar->error);
      break;
    case OP_RECEIVE_DATAGRAM:
      {
        g_autoptr(GBytes) got = NULL;

        g_assert_no_error (ar->error);
        got = qsock_datagram_get_data (QSOCK_DATAGRAM (ar->result_object));
        g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), LINE, strlen (LINE));
      }
      break;
    case OP_ACCEPT:
      g_assert_no_error (ar->error);
      g_assert_true (QSOCK_IS_IODEVICE (ar->result_object));
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
run_async (gconstpointer data)
{
  const AsyncCase *ac = data;
  Case c = { ac->kind, ac->trigger, S_READY_READ, A_UNREF, UNC };
  AsyncResult ar = { 0 };
  gpointer accepted = NULL;
  World w;

  world_init (&w, &c);
  ar.w = &w;
  ar.ac = ac;
  start_async (&ar);
  /* The pending operation now holds the only reference. */
  g_object_unref (w.obj);
  g_assert_nonnull (w.weak);
  move_world (&ar);

  TU_RUN_UNTIL (ar.calls > 0, GUARD_MS);
  g_assert_cmpuint (ar.calls, ==, 1);
  g_assert_true (ar.source_alive);
  check_async_result (&ar);
  g_clear_pointer (&ar.bytes, g_bytes_unref);
  g_clear_error (&ar.error);

  /* The callback has returned: nothing holds the object any more. An
   * accepted socket outlives its server. */
  if (ar.result_object != NULL && ac->op == OP_ACCEPT)
    {
      accepted = ar.result_object;
      g_object_add_weak_pointer (accepted, &accepted);
    }
  else
    g_clear_object (&ar.result_object);
  TU_RUN_UNTIL (w.weak == NULL, GUARD_MS);
  if (accepted != NULL)
    {
      g_assert_true (qsock_iodevice_is_open (accepted));
      tu_spin (5);
      g_object_unref (accepted);
      g_assert_null (accepted);
    }
  check_peer_sees_end (&w);
  tu_spin (10);
  world_clear (&w);
}

/* ======================================================================
 * One dispatch pass, several sockets: the flush pass (a bytes-written
 * handler releases OTHER sockets that still have writes queued) and the
 * readiness batch (a ready-read handler releases OTHER sockets whose input
 * is in the same batch); with the epoll backend and with
 * QSOCK_DISPATCH=gsource
 * ====================================================================== */

#define N_FLUSH 4

typedef enum { FLUSH_UNREF_OTHERS, FLUSH_UNREF_ALL, FLUSH_ABORT_OTHERS, FLUSH_CLOSE_OTHERS } FlushMode;

static const char * const flush_mode_names[] = {
  "unref-others", "unref-all", "abort-others", "close-others",
};

typedef struct
{
  Kind      kind;       /* K_TCP_CLIENT, K_LOCAL_CLIENT or K_TCP_ACCEPTED */
  FlushMode mode;
  gboolean  reading;    /* ready-read after the peers wrote, not bytes-written */
  gboolean  gsource;    /* the portable backend */
} FlushCase;

typedef struct
{
  const FlushCase *fc;
  World            worlds[N_FLUSH];
  Case             cases[N_FLUSH];
  guint            runs;
  int              first;    /* the socket whose handler acted */
} Flush;

static void
on_batch_signal (GObject *obj,
                 gpointer data)
{
  Flush *f = data;
  int self = -1;

  for (int i = 0; i < N_FLUSH; i++)
    if (f->worlds[i].weak == obj)
      self = i;
  g_assert_cmpint (self, >=, 0);
  if (f->runs++ > 0)
    return;
  f->first = self;

  for (int i = 0; i < N_FLUSH; i++)
    {
      World *w = &f->worlds[i];

      if (i == self && f->fc->mode != FLUSH_UNREF_ALL)
        continue;
      switch (f->fc->mode)
        {
        case FLUSH_UNREF_OTHERS:
        case FLUSH_UNREF_ALL:
          g_object_unref (w->weak);
          break;
        case FLUSH_ABORT_OTHERS:
          if (QSOCK_IS_LOCAL (w->weak))
            qsock_local_abort (QSOCK_LOCAL (w->weak));
          else
            qsock_abstract_abort (QSOCK_ABSTRACT (w->weak));
          break;
        case FLUSH_CLOSE_OTHERS:
          qsock_iodevice_close (QSOCK_IODEVICE (w->weak));
          break;
        }
    }
}

static void
on_flush_bytes_written (GObject *obj,
                        gint64   bytes,
                        gpointer data)
{
  on_batch_signal (obj, data);
}

static void
run_flush (gconstpointer data)
{
  const FlushCase *fc = data;
  Flush f = { .fc = fc, .first = -1 };
  char payload[100];

  /* This child's first watch is made below, so the backend is ours. */
  if (fc->gsource)
    g_setenv ("QSOCK_DISPATCH", "gsource", TRUE);

  memset (payload, 'f', sizeof payload);
  for (int i = 0; i < N_FLUSH; i++)
    {
      f.cases[i] = (Case) { fc->kind, T_WRITE, S_BYTES_WRITTEN, A_UNREF, CON };
      world_init (&f.worlds[i], &f.cases[i]);
      /* Unref modes hand every reference to the handler. */
      f.worlds[i].owned = fc->mode == FLUSH_UNREF_OTHERS || fc->mode == FLUSH_UNREF_ALL
                          ? NULL : f.worlds[i].obj;
      if (fc->reading)
        g_signal_connect (f.worlds[i].obj, "ready-read", G_CALLBACK (on_batch_signal), &f);
      else
        g_signal_connect (f.worlds[i].obj, "bytes-written",
                          G_CALLBACK (on_flush_bytes_written), &f);
    }
  the_world = NULL;

  /* All before the loop runs: one pass finds them all. */
  for (int i = 0; i < N_FLUSH; i++)
    if (fc->reading)
      tu_write_all (f.worlds[i].peer_fd, payload, sizeof payload);
    else
      qsock_iodevice_write (QSOCK_IODEVICE (f.worlds[i].obj), payload, sizeof payload);

  TU_RUN_UNTIL (f.runs > 0, GUARD_MS);
  g_assert_cmpint (f.first, >=, 0);

  for (int i = 0; i < N_FLUSH; i++)
    {
      World *w = &f.worlds[i];
      gboolean released = i != f.first || fc->mode == FLUSH_UNREF_ALL;

      if (!released && fc->reading)
        {
          /* The survivor has its bytes. */
          g_autoptr(GBytes) got = NULL;

          TU_RUN_UNTIL (qsock_iodevice_bytes_available (QSOCK_IODEVICE (w->weak)) ==
                        (gint64) sizeof payload, GUARD_MS);
          got = qsock_iodevice_read_all (QSOCK_IODEVICE (w->weak));
          g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got),
                           payload, sizeof payload);
          g_assert_cmpint (world_state (w), ==, CON);
        }
      else if (!released)
        {
          /* The survivor's bytes arrive in full. */
          char got[sizeof payload];

          tu_read_exact (w->peer_fd, got, sizeof got, GUARD_MS);
          g_assert_cmpmem (got, sizeof got, payload, sizeof payload);
          g_assert_nonnull (w->weak);
          g_assert_cmpint (world_state (w), ==, CON);
        }
      else if (fc->mode == FLUSH_ABORT_OTHERS || fc->mode == FLUSH_CLOSE_OTHERS)
        {
          TU_RUN_UNTIL (world_state (w) == UNC, GUARD_MS);
          g_assert_false (qsock_iodevice_is_open (QSOCK_IODEVICE (w->weak)));
        }
      else
        TU_RUN_UNTIL (w->weak == NULL, GUARD_MS);
    }

  for (int i = 0; i < N_FLUSH; i++)
    {
      World *w = &f.worlds[i];
      gboolean released = i != f.first || fc->mode == FLUSH_UNREF_ALL;

      if (!released || fc->mode == FLUSH_ABORT_OTHERS || fc->mode == FLUSH_CLOSE_OTHERS)
        g_object_unref (w->weak);
      TU_RUN_UNTIL (w->weak == NULL, GUARD_MS);
      g_assert_true (peer_sees_end (w->peer_fd, GUARD_MS));
    }
  tu_spin (10);
  for (int i = 0; i < N_FLUSH; i++)
    world_clear (&f.worlds[i]);
}

/* ======================================================================
 * Running every case in a child of its own
 * ====================================================================== */

typedef struct
{
  char          *path;
  GTestDataFunc  func;
  gconstpointer  data;
  /* filled in by prerun_all() */
  gboolean       ran;
  int            status;
  char          *output;
} Entry;

static const char *self_exe;

static const char *
known_failure (const char *path)
{
  for (gsize i = 0; known_failures[i].pattern != NULL; i++)
    if (g_pattern_match_simple (known_failures[i].pattern, path))
      return known_failures[i].bug;
  return NULL;
}

/* The first lines of a child's report worth a one-line summary: the
 * sanitizer's kind, its first frame and the first frame in the library. */
static char *
summarize (const char *out,
           int         status)
{
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  GString *s = g_string_new (NULL);
  const char *kind = NULL, *frame0 = NULL, *lib_frame = NULL, *summary = NULL, *glib = NULL;
  gboolean in_stack = FALSE, stack_done = FALSE;

  for (int i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];

      if (kind == NULL && (strstr (l, "ERROR: AddressSanitizer") || strstr (l, "runtime error:") ||
                           strstr (l, "ERROR: LeakSanitizer")))
        {
          kind = l;
          in_stack = TRUE;
          continue;
        }
      if (in_stack && !stack_done)
        {
          const char *in = strstr (l, " in ");

          if (g_str_has_prefix (g_strchug ((char *) l), "#") && in != NULL)
            {
              if (frame0 == NULL)
                frame0 = in + 4;
              if (lib_frame == NULL && strstr (l, "qsock-glib/"))
                lib_frame = in + 4;
            }
          else if (frame0 != NULL && *l == '\0')
            stack_done = TRUE;
        }
      if (summary == NULL && g_str_has_prefix (l, "SUMMARY:"))
        summary = l;
      if (glib == NULL && (strstr (l, "CRITICAL **") || strstr (l, "WARNING **") ||
                           strstr (l, "ERROR:") || strstr (l, "Bail out!")) &&
          !strstr (l, "Sanitizer"))
        glib = l;
    }

  if (summary != NULL)
    g_string_append (s, summary);
  else if (kind != NULL)
    g_string_append (s, kind);
  if (lib_frame != NULL && lib_frame != frame0)
    g_string_append_printf (s, " [first library frame: %s]", lib_frame);
  if (glib != NULL && kind == NULL)
    g_string_append (s, glib);
  if (s->len == 0 && WIFSIGNALED (status) && WTERMSIG (status) == SIGALRM)
    g_string_append (s, "hung: the child was killed after 30 s");
  else if (s->len == 0 && WIFSIGNALED (status))
    g_string_append_printf (s, "child killed by signal %d (%s) without a report",
                            WTERMSIG (status), g_strsignal (WTERMSIG (status)));
  else if (s->len == 0)
    g_string_append_printf (s, "child failed without a report (exit status %d)",
                            WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  return g_string_free (s, FALSE);
}

static void
record_failure (const char *path,
                const char *summary)
{
  const char *file = g_getenv ("LIFECYCLE_FAILURES");
  FILE *fp;

  if (file == NULL)
    return;
  fp = fopen (file, "a");
  if (fp == NULL)
    return;
  fprintf (fp, "%s: %s\n", path, summary);
  fclose (fp);
}

static char **
child_environ (const char *path)
{
  char **envp = g_get_environ ();

  /* The child registers this one case only. */
  envp = g_environ_setenv (envp, "LIFECYCLE_CHILD", path, TRUE);
  /* Without it GLib's slice allocator hides freed GObjects from ASan. */
  envp = g_environ_setenv (envp, "G_SLICE", "always-malloc", TRUE);
  return envp;
}

static void
run_entry (gconstpointer data)
{
  const Entry *e = data;
  const char *bug;
  g_auto(GStrv) envp = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  const char *argv[] = { self_exe, "-q", "-p", e->path, NULL };

  if (g_getenv ("LIFECYCLE_CHILD") != NULL || g_getenv ("LIFECYCLE_INPROCESS") != NULL)
    {
      alarm (30);
      e->func (e->data);
      return;
    }

  bug = known_failure (e->path);
  if (bug != NULL && g_getenv ("LIFECYCLE_RUN_SKIPPED") == NULL)
    {
      g_test_skip (bug);
      return;
    }

  if (e->ran)
    {
      status = e->status;
      err = g_steal_pointer (&((Entry *) e)->output);
      out = g_strdup ("");
    }
  else
    {
      envp = child_environ (e->path);
      /* Inheriting stdin: a shared machine's /dev/null is sometimes gone. */
      if (!g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                         &out, &err, &status, &error))
        g_error ("cannot run %s: %s", self_exe, error->message);
    }

  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_autofree char *both = g_strconcat (err, "\n", out, NULL);
      g_autofree char *summary = summarize (both, status);

      if (g_test_verbose () || g_getenv ("LIFECYCLE_SHOW_CHILD") != NULL)
        g_printerr ("%s", both);
      record_failure (e->path, summary);
      g_test_fail_printf ("%s", summary);
    }
}

static GPtrArray *entries;
static gboolean defer_registration;

static void
register_entries (void)
{
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = g_ptr_array_index (entries, i);

      g_test_add_data_func (e->path, e, run_entry);
    }
}

static void
add_entry (char          *path,
           GTestDataFunc  func,
           gconstpointer  data)
{
  const char *child = g_getenv ("LIFECYCLE_CHILD");
  Entry *e = g_new0 (Entry, 1);

  e->path = path;
  e->func = func;
  e->data = data;
  g_ptr_array_add (entries, e);
  /* A child needs its own case only; "1" (by hand) registers them all.
   * A whole run registers after its children ran (register_entries()),
   * so that they inherit less heap for LeakSanitizer to scan. */
  if (child != NULL && g_strcmp0 (child, "1") != 0 && g_strcmp0 (child, path) != 0)
    return;
  if (defer_registration)
    return;
  g_test_add_data_func (e->path, e, run_entry);
}

/* A child that is a plain fork of this process: nothing of the library
 * has run here yet (the parent only registers cases), so the child starts
 * as fresh as an exec'd one, without paying for the exec and the
 * sanitizer's start-up again. G_SLICE=always-malloc is already in force
 * (main() made sure before GLib allocated anything). */
static pid_t
fork_case (Entry      *e,
           const char *log)
{
  pid_t pid;

  fflush (NULL);
  pid = fork ();
  if (pid < 0)
    g_error ("fork: %s", g_strerror (errno));
  if (pid == 0)
    {
      int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

      if (fd < 0)
        _exit (126);
      dup2 (fd, 1);
      dup2 (fd, 2);
      close (fd);
      g_setenv ("LIFECYCLE_CHILD", e->path, TRUE);
      alarm (30);
      e->func (e->data);
      fflush (NULL);
      exit (0);
    }
  return pid;
}

/* The whole matrix runs its children a few at a time before GTest walks
 * the cases, which then only report; a run of one case (-p) spawns it
 * when it comes. */
static void
prerun_all (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("qsock-lifecycle-run-XXXXXX", &error);
  const char *jobs_env = g_getenv ("LIFECYCLE_JOBS");
  /* Children mostly wait on loopback or sleep in short spins. */
  guint jobs = jobs_env != NULL ? (guint) CLAMP (g_ascii_strtoull (jobs_env, NULL, 10), 1, 64)
                                : CLAMP (4 * g_get_num_processors (), 4, 16);
  GHashTable *running = g_hash_table_new (NULL, NULL);   /* pid → Entry */
  gboolean use_exec = g_getenv ("LIFECYCLE_EXEC") != NULL;
  guint next = 0;

  g_assert_no_error (error);
  while (next < entries->len || g_hash_table_size (running) > 0)
    {
      if (next < entries->len && g_hash_table_size (running) < jobs)
        {
          Entry *e = g_ptr_array_index (entries, next);
          g_autofree char *log = g_strdup_printf ("%s/%u.log", dir, next);
          const char *argv[] = { self_exe, "-q", "-p", e->path, NULL };
          g_auto(GStrv) envp = NULL;
          posix_spawn_file_actions_t fa;
          pid_t pid;

          next++;
          if (known_failure (e->path) != NULL && g_getenv ("LIFECYCLE_RUN_SKIPPED") == NULL)
            continue;
          if (use_exec)
            {
              envp = child_environ (e->path);
              posix_spawn_file_actions_init (&fa);
              posix_spawn_file_actions_addopen (&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
              posix_spawn_file_actions_adddup2 (&fa, 1, 2);
              if (posix_spawn (&pid, self_exe, &fa, NULL, (char **) argv, envp) != 0)
                g_error ("cannot run %s: %s", self_exe, g_strerror (errno));
              posix_spawn_file_actions_destroy (&fa);
            }
          else
            pid = fork_case (e, log);
          e->output = g_steal_pointer (&log);   /* the log's name until it is read */
          g_hash_table_insert (running, GINT_TO_POINTER (pid), e);
          continue;
        }
      else
        {
          int status;
          pid_t pid = waitpid (-1, &status, 0);
          Entry *e;
          char *text = NULL;

          if (pid < 0 && errno == EINTR)
            continue;
          g_assert_cmpint (pid, >, 0);
          e = g_hash_table_lookup (running, GINT_TO_POINTER (pid));
          if (e == NULL)
            continue;
          g_hash_table_remove (running, GINT_TO_POINTER (pid));
          if (!g_file_get_contents (e->output, &text, NULL, NULL))
            text = g_strdup ("");
          g_unlink (e->output);
          g_free (e->output);
          e->output = text;
          e->status = status;
          e->ran = TRUE;
        }
    }
  g_hash_table_unref (running);
  g_rmdir (dir);
}

/* Whether the trigger's own call emits the signal (then a wait has nothing
 * left to drive). */
static gboolean
emitted_inside_trigger (const Case *c)
{
  const char *name = signal_infos[c->sig].name;

  switch (c->trigger)
    {
    case T_CONNECT:
    case T_REFUSED:
    case T_CONNECT_PEER_CLOSE:
    case T_CONNECT_PEER_RESET:
      if (c->kind == K_LOCAL_CLIENT || c->kind == K_UDP_CONNECTED)
        return TRUE;
      return g_str_equal (name, "state-changed-host-lookup") ||
             g_str_equal (name, "state-changed-connecting") ||
             g_str_equal (name, "host-found") || g_str_equal (name, "notify-state");
    case T_CONNECT_BY_NAME:
      return g_str_equal (name, "state-changed-host-lookup");
    case T_WRITE:
      return IS_UDP (c->kind);
    case T_HALF_BOTH:
      return TRUE;
    case T_WRITE_CLOSE:
      return g_str_equal (name, "about-to-close") || g_str_equal (name, "state-changed-closing") ||
             g_str_equal (name, "notify-state");
    case T_WRITE_DISCONNECT:
      return g_str_equal (name, "state-changed-closing") || g_str_equal (name, "notify-state");
    default:
      return FALSE;
    }
}

static gboolean
drive_by_wait_applies (const Case *c)
{
  World probe = { .c = c };

  return drive_by_wait (&probe, TRUE) && !emitted_inside_trigger (c);
}

static int
signal_by_name (const char *name)
{
  for (int s = 0; s < N_SIGNALS; s++)
    if (g_str_equal (signal_infos[s].name, name))
      return s;
  g_error ("no signal %s in signal_infos", name);
  return -1;
}

static guint
add_matrix (void)
{
  guint n = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (scenarios); i++)
    {
      const Scenario *sc = &scenarios[i];
      g_auto(GStrv) names = g_strsplit (sc->signals, " ", -1);
      gboolean accepted = sc->kind == K_TCP_ACCEPTED || sc->kind == K_LOCAL_ACCEPTED;
      const Action *actions = IS_SERVER (sc->kind) ? server_actions
                              : accepted ? accepted_actions : socket_actions;
      gsize n_actions = IS_SERVER (sc->kind) ? G_N_ELEMENTS (server_actions)
                        : accepted ? G_N_ELEMENTS (accepted_actions)
                        : G_N_ELEMENTS (socket_actions);

      for (int j = 0; names[j] != NULL; j++)
        {
          if (*names[j] == '\0')
            continue;
          for (gsize a = 0; a < n_actions; a++)
            {
              for (int variant = 0; variant <= 3; variant++)
                {
                  gboolean in_wait = variant == 1, in_thread = variant == 2, gsource = variant == 3;
                  Case *c = g_new0 (Case, 1);

                  c->kind = sc->kind;
                  c->trigger = sc->trigger;
                  c->sig = signal_by_name (names[j]);
                  c->action = actions[a];
                  c->end = sc->end;
                  c->in_wait = in_wait;
                  c->in_thread = in_thread;
                  c->gsource = gsource;
                  /* In a thread of its own, or with the other backend:
                   * the last reference only. */
                  if ((in_thread || gsource) && c->action != A_UNREF)
                    {
                      g_free (c);
                      continue;
                    }
                  /* Driven by a blocking wait: the releasing actions. */
                  if (in_wait && (!drive_by_wait_applies (c) ||
                                  (c->action != A_UNREF && c->action != A_ABORT &&
                                   c->action != A_CLOSE && c->action != A_DISCONNECT)))
                    {
                      g_free (c);
                      continue;
                    }
                  add_entry (g_strdup_printf ("/lifecycle/%s/%s/%s/%s%s", kind_names[c->kind],
                                              signal_infos[c->sig].name, action_names[c->action],
                                              trigger_names[c->trigger],
                                              in_wait ? "-in-wait" : in_thread ? "-in-thread"
                                              : gsource ? "-gsource" : ""),
                             run_case, c);
                  n++;
                }
            }
        }
    }
  return n;
}

static void
add_extras (void)
{
  static const PatternCase patterns[] = {
    { K_TCP_CLIENT, T_PEER_CLOSE }, { K_TCP_CLIENT, T_PEER_RESET },
    { K_TCP_ACCEPTED, T_PEER_CLOSE }, { K_TCP_ACCEPTED, T_PEER_RESET },
    { K_LOCAL_CLIENT, T_PEER_CLOSE }, { K_LOCAL_CLIENT, T_PEER_RESET },
    { K_LOCAL_ACCEPTED, T_PEER_CLOSE }, { K_LOCAL_ACCEPTED, T_PEER_RESET },
    { K_UDP_CONNECTED, T_DISCONNECT },
  };
#define STREAMS { K_TCP_CLIENT, K_TCP_ACCEPTED, K_LOCAL_CLIENT, K_LOCAL_ACCEPTED, N_KINDS }
  static const struct { AsyncOp op; Kind kinds[5]; Trigger triggers[4]; } async_plan[] = {
    { OP_READ_LINE, STREAMS, { T_PEER_OPEN, T_PEER_CLOSE, T_PEER_RESET, N_TRIGGERS } },
    { OP_READ_EXACTLY, STREAMS, { T_PEER_OPEN, T_PEER_CLOSE, T_PEER_RESET, N_TRIGGERS } },
    { OP_FLUSH, STREAMS, { T_PEER_OPEN, T_PEER_CLOSE, T_PEER_RESET, N_TRIGGERS } },
    { OP_WAIT_DISCONNECTED, STREAMS, { T_PEER_CLOSE, T_PEER_RESET, N_TRIGGERS } },
    { OP_CONNECT, { K_TCP_CLIENT, K_LOCAL_CLIENT, N_KINDS }, { T_CONNECT, T_REFUSED, N_TRIGGERS } },
    { OP_RECEIVE_DATAGRAM, { K_UDP_BOUND, K_UDP_CONNECTED, N_KINDS }, { T_PEER_OPEN, N_TRIGGERS } },
    { OP_ACCEPT, { K_TCP_SERVER, N_KINDS }, { T_PEER_OPEN, T_PEER_CLOSE, T_PEER_RESET, N_TRIGGERS } },
    { OP_ACCEPT, { K_LOCAL_SERVER, N_KINDS }, { T_PEER_OPEN, T_PEER_CLOSE, N_TRIGGERS } },
  };
#undef STREAMS
  static AsyncCase asyncs[64];
  static FlushCase flushes[3 * 4 * 2 * 2];
  static const Kind flush_kinds[] = { K_TCP_CLIENT, K_TCP_ACCEPTED, K_LOCAL_CLIENT };
  int n = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (patterns); i++)
    add_entry (g_strdup_printf ("/lifecycle/pattern/drop-from-set-in-disconnected/%s/%s",
                                kind_names[patterns[i].kind], trigger_names[patterns[i].trigger]),
               run_pattern, &patterns[i]);

  for (gsize i = 0; i < G_N_ELEMENTS (async_plan); i++)
    for (gsize k = 0; async_plan[i].kinds[k] != N_KINDS; k++)
      for (gsize t = 0; async_plan[i].triggers[t] != N_TRIGGERS; t++)
        {
          AsyncCase *ac = &asyncs[n++];

          g_assert_cmpint (n, <=, G_N_ELEMENTS (asyncs));
          ac->kind = async_plan[i].kinds[k];
          ac->op = async_plan[i].op;
          ac->trigger = async_plan[i].triggers[t];
          add_entry (g_strdup_printf ("/lifecycle/async-only-ref/%s/%s/%s", op_names[ac->op],
                                      kind_names[ac->kind], trigger_names[ac->trigger]),
                     run_async, ac);
        }

  n = 0;
  for (int reading = 0; reading <= 1; reading++)
    for (int gsource = 0; gsource <= 1; gsource++)
      for (gsize k = 0; k < G_N_ELEMENTS (flush_kinds); k++)
        for (int m = FLUSH_UNREF_OTHERS; m <= FLUSH_CLOSE_OTHERS; m++)
          {
            FlushCase *fc = &flushes[n++];

            fc->kind = flush_kinds[k];
            fc->mode = m;
            fc->reading = reading;
            fc->gsource = gsource;
            add_entry (g_strdup_printf ("/lifecycle/%s/%s/%s/%s",
                                        reading ? "read-batch" : "flush-pass",
                                        gsource ? "gsource" : "epoll",
                                        kind_names[fc->kind], flush_mode_names[m]),
                       run_flush, fc);
          }
}

/* Valgrind does not follow an exec unless told to, so a re-executed test
 * would silently run without it. */
static gboolean
under_valgrind (void)
{
  const char *preload = getenv ("LD_PRELOAD");

  return preload != NULL && strstr (preload, "vgpreload") != NULL;
}

int
main (int argc, char **argv)
{
  guint n;

  gboolean parent = g_getenv ("LIFECYCLE_CHILD") == NULL && g_getenv ("LIFECYCLE_INPROCESS") == NULL;
  gboolean whole_run = TRUE;
  g_autofree char **args = g_new0 (char *, argc + 2);
  int n_args = 0;

  self_exe = argv[0];
  /* Without it GLib's slice allocator hides freed GObjects from ASan; it
   * must be set before GLib's first allocation, and forked children
   * inherit this process's allocator. */
  if (g_strcmp0 (getenv ("G_SLICE"), "always-malloc") != 0 && !under_valgrind ())
    {
      setenv ("G_SLICE", "always-malloc", 1);
      execv ("/proc/self/exe", argv);
      g_error ("cannot re-execute %s: %s", argv[0], g_strerror (errno));
    }
  /* As the suite's environment has it: lookups answer from the loop. */
  g_setenv ("QSOCK_HOST_CACHE", "0", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);

  /* The parent lists every failing case, not only the first. */
  for (int i = 0; i < argc; i++)
    {
      if (g_str_has_prefix (argv[i], "-p") || g_str_has_prefix (argv[i], "-s") ||
          g_str_has_prefix (argv[i], "-l") || g_str_has_prefix (argv[i], "-r"))
        whole_run = FALSE;
      args[n_args++] = argv[i];
    }
  if (parent)
    args[n_args++] = (char *) "--keep-going";
  args[n_args] = NULL;
  g_test_init (&n_args, &args, NULL);

  entries = g_ptr_array_new ();
  defer_registration = parent && whole_run;
  n = add_matrix ();
  add_extras ();
  if (parent)
    g_test_message ("lifecycle matrix: %u cases, %u in all", n, entries->len);
  if (defer_registration)
    {
      prerun_all ();
      register_entries ();
    }

  return g_test_run ();
}
