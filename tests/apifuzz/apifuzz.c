/* apifuzz.c: seeded random sequences of every public call, on real peers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One PRNG, seeded from the command line, picks every step: which object
 * (QSockTcp, QSockUdp, a plain QSockAbstract of either type, QSockLocal,
 * QSockTcpServer, QSockLocalServer, and the sockets the servers accept),
 * which public call, and which arguments, including the silly ones
 * (negative and huge sizes, bad descriptors, wrong states, NOT_OPEN
 * modes). The peers are real: the library's own servers, and a thread of
 * plain POSIX sockets on 127.0.0.1, ::1 and Unix paths in a temporary
 * directory that echo, sink, flood, send lines, close or reset at random,
 * plus UDP sockets that echo, drop, duplicate or answer from elsewhere.
 * Signal handlers release, abort or close their emitter or another object
 * now and then, and iterate the context from inside the emission.
 *
 * After every step the invariants of every live object are checked (see
 * check_object()); a g_critical, a warning that is not one of Qt's
 * documented misuse warnings, a failed invariant, a step that hangs, or a
 * sanitizer report prints
 *
 *   apifuzz: FAILED seed=N step=K: <what>
 *
 * and the last operations, then aborts. The same --seed and --steps replay
 * the run, as far as real sockets allow (see README.md).
 */
#include <qsock-glib/qsock.h>
#include <gio/gunixfdlist.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- known bugs ---------------------------------------------------------
 *
 * Each switch at 1 keeps the fuzzer away from an operation that provokes a
 * bug known and being fixed, so the committed seeds pass. Set it to 0 (here,
 * or -DAPIFUZZ_KNOWN_BUG_x=0, or at run time with --provoke NAME or
 * --provoke all) once the fix is in.
 */

/* read_datagram_bytes()/receive_datagram() with a huge max_size aborted
 * allocating it (fixed by 6ed2d09). The cap on max_size arguments;
 * G_MAXINT64 lifts it, ((gint64) 1 << 20) puts it back. */
#ifndef APIFUZZ_DATAGRAM_MAX_SIZE_CAP
#define APIFUZZ_DATAGRAM_MAX_SIZE_CAP G_MAXINT64
#endif
/* Use after free when a QSockLocal is released inside its own handlers. */
#ifndef APIFUZZ_KNOWN_BUG_LOCAL_UNREF_IN_HANDLER
#define APIFUZZ_KNOWN_BUG_LOCAL_UNREF_IN_HANDLER 0
#endif
/* UDP bind() (or the implicit bind of write_datagram/send_datagram) with
 * the socket released inside its handlers (state-changed, or
 * read-channel-finished after an abort there): send_one() goes on with the
 * freed socket (family_of, qsock-udp.c:175). */
#ifndef APIFUZZ_KNOWN_BUG_UDP_BIND_UNREF
#define APIFUZZ_KNOWN_BUG_UDP_BIND_UNREF 0
#endif
/* Segfault in the watch's flush pass when a handler dispatched from the
 * main loop releases another socket (fixed by 9b8f26d). */
#ifndef APIFUZZ_KNOWN_BUG_FLUSH_PASS_RELEASE_OTHER
#define APIFUZZ_KNOWN_BUG_FLUSH_PASS_RELEASE_OTHER 0
#endif
/* wait_for_*() spins past its deadline on a UDP socket with an unread
 * datagram (fixed by c1fd2a8). */
#ifndef APIFUZZ_KNOWN_BUG_WAIT_SPIN_UDP
#define APIFUZZ_KNOWN_BUG_WAIT_SPIN_UDP 0
#endif
/* wait_for_*() spins past its deadline on TCP with a full read buffer and
 * a reset peer (fixed by c1fd2a8). */
#ifndef APIFUZZ_KNOWN_BUG_WAIT_SPIN_TCP_FULL
#define APIFUZZ_KNOWN_BUG_WAIT_SPIN_TCP_FULL 0
#endif
/* read() inside a transaction on a connected UDP socket loses the
 * datagram (fixed by c1fd2a8). */
#ifndef APIFUZZ_KNOWN_BUG_UDP_TRANSACTION_READ
#define APIFUZZ_KNOWN_BUG_UDP_TRANSACTION_READ 0
#endif
/* read_line_async(1) and read_exactly_async(-1) are g_critical()s (fixed
 * by ead8fe5: they fail through the callback). */
#ifndef APIFUZZ_KNOWN_BUG_ASYNC_BAD_SIZE
#define APIFUZZ_KNOWN_BUG_ASYNC_BAD_SIZE 0
#endif

/* Use after free in qsock_async_start() (operation_run, qsock-async.c:94)
 * when a handler iterates the main context inside an _async call and the
 * task completes there. */
#ifndef APIFUZZ_KNOWN_BUG_ASYNC_START_NESTED_ITERATE
#define APIFUZZ_KNOWN_BUG_ASYNC_START_NESTED_ITERATE 0
#endif
/* read_line_async()/read_exactly_async() on an open, unconnected device
 * never complete when it is then closed (about-to-close comes before the
 * open mode is reset). Avoided by starting them on connected sockets only. */
#ifndef APIFUZZ_KNOWN_BUG_READ_ASYNC_CLOSE_HANG
#define APIFUZZ_KNOWN_BUG_READ_ASYNC_CLOSE_HANG 0
#endif

/* connect_to_host_async() never completes when the attempt ends in
 * UNCONNECTED without an error-occurred (wait_for_connected() timing out,
 * also inside the other waits in CONNECTING, sets the error after
 * state-changed), even after abort(). Avoided by no wait_for_*() while a
 * connect_to_host_async() is pending. */
#ifndef APIFUZZ_KNOWN_BUG_CONNECT_ASYNC_WAIT_TIMEOUT
#define APIFUZZ_KNOWN_BUG_CONNECT_ASYNC_WAIT_TIMEOUT 0
#endif

/* connect_to_host_async() never completes when a user's handler runs
 * before connect_step() and changes what it looks at: write() (or read())
 * in the failed attempt's error-occurred resets error() to UNKNOWN, and
 * disconnect_from_host() in state-changed(CONNECTED) leaves UNCONNECTED
 * with the device open. Avoided by no reads, writes or disconnects from
 * handlers while a connect_to_host_async() is pending. */
#ifndef APIFUZZ_KNOWN_BUG_CONNECT_ASYNC_HANDLER_IO
#define APIFUZZ_KNOWN_BUG_CONNECT_ASYNC_HANDLER_IO 0
#endif

/* bytes_available() < 0 on a QSockLocal whose inner socket aborts (a
 * write error) during a transaction that consumed bytes: the shared read
 * buffer is cleared, the QSockLocal's transaction position is not.
 * Avoided by no transactions on QSockLocal. */
#ifndef APIFUZZ_KNOWN_BUG_LOCAL_TRANSACTION_ABORT
#define APIFUZZ_KNOWN_BUG_LOCAL_TRANSACTION_ABORT 0
#endif

/* Use after free in qsock_tcp_server_close() (qsock-tcp-server.c:513):
 * it aborts the pending connections without holding the server, and a
 * handler of one of them (about-to-close) drops the server's last
 * reference. Avoided by no releasing, from handlers, of the server a call
 * is running on. */
#ifndef APIFUZZ_KNOWN_BUG_SERVER_CLOSE_RELEASE
#define APIFUZZ_KNOWN_BUG_SERVER_CLOSE_RELEASE 0
#endif

/* An async call pending on a socket (wait_for_disconnected_async on a
 * QSockLocal, say) never completes after set_socket_descriptor() changes
 * the state without state-changed (Qt's QLocalSocket does so). Avoided by
 * no set_socket_descriptor() on sockets with a pending async call. */
#ifndef APIFUZZ_KNOWN_BUG_SET_DESCRIPTOR_PENDING_ASYNC
#define APIFUZZ_KNOWN_BUG_SET_DESCRIPTOR_PENDING_ASYNC 0
#endif

/* flush_async() never completes when the connection attempt fails while
 * bytes are queued (Qt keeps them; no read-channel-finished, and it
 * does not listen to state-changed/error-occurred). Avoided by flush_async
 * on connected sockets only. */
#ifndef APIFUZZ_KNOWN_BUG_FLUSH_ASYNC_FAILED_CONNECT
#define APIFUZZ_KNOWN_BUG_FLUSH_ASYNC_FAILED_CONNECT 0
#endif

/* How often the step's call holds its own reference on the object it
 * calls, in percent. Without one, a handler that drops the last reference
 * inside the call tests the library's own holds. */
#ifndef APIFUZZ_CALLER_REF_PERCENT
#define APIFUZZ_CALLER_REF_PERCENT 50
#endif

typedef enum
{
  KB_LOCAL_UNREF_IN_HANDLER,
  KB_UDP_BIND_UNREF,
  KB_FLUSH_PASS_RELEASE_OTHER,
  KB_WAIT_SPIN_UDP,
  KB_WAIT_SPIN_TCP_FULL,
  KB_UDP_TRANSACTION_READ,
  KB_ASYNC_BAD_SIZE,
  KB_DATAGRAM_HUGE,
  KB_ASYNC_START_NESTED_ITERATE,
  KB_READ_ASYNC_CLOSE_HANG,
  KB_CONNECT_ASYNC_WAIT_TIMEOUT,
  KB_CONNECT_ASYNC_HANDLER_IO,
  KB_LOCAL_TRANSACTION_ABORT,
  KB_SERVER_CLOSE_RELEASE,
  KB_SET_DESCRIPTOR_PENDING_ASYNC,
  KB_FLUSH_ASYNC_FAILED_CONNECT,
  N_KNOWN_BUGS
} KnownBug;

static struct
{
  const char *name;
  gboolean    avoid;
} known_bugs[N_KNOWN_BUGS] = {
  [KB_LOCAL_UNREF_IN_HANDLER] = { "local-unref-in-handler", APIFUZZ_KNOWN_BUG_LOCAL_UNREF_IN_HANDLER },
  [KB_UDP_BIND_UNREF] = { "udp-bind-unref", APIFUZZ_KNOWN_BUG_UDP_BIND_UNREF },
  [KB_FLUSH_PASS_RELEASE_OTHER] = { "flush-pass-release-other", APIFUZZ_KNOWN_BUG_FLUSH_PASS_RELEASE_OTHER },
  [KB_WAIT_SPIN_UDP] = { "wait-spin-udp", APIFUZZ_KNOWN_BUG_WAIT_SPIN_UDP },
  [KB_WAIT_SPIN_TCP_FULL] = { "wait-spin-tcp-full", APIFUZZ_KNOWN_BUG_WAIT_SPIN_TCP_FULL },
  [KB_UDP_TRANSACTION_READ] = { "udp-transaction-read", APIFUZZ_KNOWN_BUG_UDP_TRANSACTION_READ },
  [KB_ASYNC_BAD_SIZE] = { "async-bad-size", APIFUZZ_KNOWN_BUG_ASYNC_BAD_SIZE },
  [KB_DATAGRAM_HUGE] = { "datagram-huge", APIFUZZ_DATAGRAM_MAX_SIZE_CAP != G_MAXINT64 },
  [KB_ASYNC_START_NESTED_ITERATE] = { "async-start-nested-iterate", APIFUZZ_KNOWN_BUG_ASYNC_START_NESTED_ITERATE },
  [KB_READ_ASYNC_CLOSE_HANG] = { "read-async-close-hang", APIFUZZ_KNOWN_BUG_READ_ASYNC_CLOSE_HANG },
  [KB_CONNECT_ASYNC_WAIT_TIMEOUT] = { "connect-async-wait-timeout", APIFUZZ_KNOWN_BUG_CONNECT_ASYNC_WAIT_TIMEOUT },
  [KB_CONNECT_ASYNC_HANDLER_IO] = { "connect-async-handler-io", APIFUZZ_KNOWN_BUG_CONNECT_ASYNC_HANDLER_IO },
  [KB_LOCAL_TRANSACTION_ABORT] = { "local-transaction-abort", APIFUZZ_KNOWN_BUG_LOCAL_TRANSACTION_ABORT },
  [KB_SERVER_CLOSE_RELEASE] = { "server-close-release", APIFUZZ_KNOWN_BUG_SERVER_CLOSE_RELEASE },
  [KB_SET_DESCRIPTOR_PENDING_ASYNC] = { "set-descriptor-pending-async", APIFUZZ_KNOWN_BUG_SET_DESCRIPTOR_PENDING_ASYNC },
  [KB_FLUSH_ASYNC_FAILED_CONNECT] = { "flush-async-failed-connect", APIFUZZ_KNOWN_BUG_FLUSH_ASYNC_FAILED_CONNECT },
};

#define AVOID(kb) (known_bugs[kb].avoid)
#define DATAGRAM_MAX_SIZE_CAP (AVOID (KB_DATAGRAM_HUGE) ? APIFUZZ_DATAGRAM_MAX_SIZE_CAP : G_MAXINT64)

/* ---- run parameters ---------------------------------------------------- */

static guint64 opt_seed = 1;
static guint64 opt_steps = 5000;
static double opt_budget = 15;
static gboolean opt_verbose;
static char *opt_dispatch;
static char **opt_provoke;
static double time_scale = 1;

static guint64 cur_step;
static gint64 run_start_us;
static gint64 step_start_us;    /* atomic, read by the watchdog */
static gint in_teardown;

/* ---- the PRNG (splitmix64: the same sequence everywhere) --------------- */

static guint64 rng_state;

static guint64
split_mix (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static guint
rnd (guint n)
{
  return n == 0 ? 0 : (guint) (split_mix (&rng_state) % n);
}

static gboolean
chance (guint percent)
{
  return rnd (100) < percent;
}

#define PICK(array) ((array)[rnd (G_N_ELEMENTS (array))])

/* ---- the trace and failing ------------------------------------------- */

#define TRACE_LEN 24
#define TRACE_WIDTH 240

static char trace_ring[TRACE_LEN][TRACE_WIDTH];
static guint trace_count;
static GMutex fail_lock;
static gint death_reported;

static void
trace (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
trace (const char *format, ...)
{
  char *line = trace_ring[trace_count % TRACE_LEN];
  int n;
  va_list args;

  n = g_snprintf (line, TRACE_WIDTH, "%6" G_GUINT64_FORMAT " ", cur_step);
  va_start (args, format);
  g_vsnprintf (line + n, TRACE_WIDTH - n, format, args);
  va_end (args);
  trace_count++;
  if (opt_verbose)
    fprintf (stderr, "apifuzz: %s\n", line);
}

static void
dump_trace (void)
{
  guint first = trace_count > TRACE_LEN ? trace_count - TRACE_LEN : 0;

  fprintf (stderr, "apifuzz: last operations (step, object, call, result):\n");
  for (guint i = first; i < trace_count; i++)
    fprintf (stderr, "  %s\n", trace_ring[i % TRACE_LEN]);
  fprintf (stderr, "apifuzz: replay: apifuzz --seed %" G_GUINT64_FORMAT " --steps %" G_GUINT64_FORMAT
           " --budget-seconds 0 --verbose\n", opt_seed, cur_step);
  fflush (stderr);
}

static void
fail_header (const char *what)
{
  fprintf (stderr, "\napifuzz: FAILED seed=%" G_GUINT64_FORMAT " step=%" G_GUINT64_FORMAT ": %s\n",
           opt_seed, cur_step, what);
}

void __sanitizer_print_stack_trace (void) __attribute__ ((weak));

static void dump_histories (const char *what);

static G_NORETURN void
fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

static G_NORETURN void
fail (const char *format, ...)
{
  char what[1024];
  va_list args;

  va_start (args, format);
  g_vsnprintf (what, sizeof what, format, args);
  va_end (args);
  g_mutex_lock (&fail_lock);
  g_atomic_int_set (&death_reported, 1);
  fail_header (what);
  if (__sanitizer_print_stack_trace != NULL)
    __sanitizer_print_stack_trace ();
  dump_trace ();
  dump_histories (what);
  abort ();
}

/* Sanitizer reports and crashes: say which run it was before dying. */
void __sanitizer_set_death_callback (void (*callback) (void)) __attribute__ ((weak));

static void
report_death (void)
{
  if (!g_atomic_int_compare_and_exchange (&death_reported, 0, 1))
    return;
  fail_header ("sanitizer report or crash (see above)");
  dump_trace ();
}

static void
on_fatal_signal (int sig)
{
  char what[64];

  if (g_atomic_int_compare_and_exchange (&death_reported, 0, 1))
    {
      g_snprintf (what, sizeof what, "signal %d (%s)", sig, strsignal (sig));
      fail_header (what);
      dump_trace ();
    }
  signal (sig, SIG_DFL);
  raise (sig);
}

/* Qt's own misuse warnings ("QIODevice::read (QTcpSocket): device not
 * open", "QUdpSocket::...") are part of the behaviour: calling in the wrong
 * state is what the fuzzer does. Anything else is a failure. */
static guint n_qt_warnings;

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    fail ("%s %s: %s", level & G_LOG_LEVEL_ERROR ? "error" : "critical",
          domain ? domain : "(no domain)", message ? message : "");
  if (level & G_LOG_LEVEL_WARNING)
    {
      if (g_strcmp0 (domain, "QSock") == 0 && message != NULL && message[0] == 'Q')
        {
          n_qt_warnings++;
          if (opt_verbose)
            fprintf (stderr, "apifuzz:        (Qt warning) %s\n", message);
          return G_LOG_WRITER_HANDLED;
        }
      fail ("warning %s: %s", domain ? domain : "(no domain)", message ? message : "");
    }
  if (opt_verbose)
    return g_log_writer_default (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

/* ---- environment ------------------------------------------------------- */

static char *tmp_dir;
static gboolean have_ipv6;

static double
elapsed_s (void)
{
  return (g_get_monotonic_time () - run_start_us) / 1e6;
}

static int
set_nonblocking (int fd)
{
  int flags = fcntl (fd, F_GETFL);
  fcntl (fd, F_SETFL, flags | O_NONBLOCK);
  fcntl (fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

static socklen_t
make_inet (int family, guint16 port, struct sockaddr_storage *ss)
{
  memset (ss, 0, sizeof *ss);
  if (family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) ss;
      sin->sin_family = AF_INET;
      sin->sin_port = htons (port);
      sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      return sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons (port);
      sin6->sin6_addr = in6addr_loopback;
      return sizeof *sin6;
    }
}

static guint16
port_of (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;

  if (getsockname (fd, (struct sockaddr *) &ss, &len) != 0)
    return 0;
  if (ss.ss_family == AF_INET)
    return ntohs (((struct sockaddr_in *) &ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs (((struct sockaddr_in6 *) &ss)->sin6_port);
  return 0;
}

/* A socket of @type bound to the loopback of @family, port 0; listening if
 * @backlog >= 0. -1 if the family is not available. */
static int
inet_socket (int family, int type, int backlog)
{
  struct sockaddr_storage ss;
  socklen_t len = make_inet (family, 0, &ss);
  int fd = socket (family, type | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  if (family == AF_INET6)
    {
      int one = 1;
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
  if (bind (fd, (struct sockaddr *) &ss, len) != 0 || (backlog >= 0 && listen (fd, backlog) != 0))
    {
      close (fd);
      return -1;
    }
  return fd;
}

static int
unix_socket_at (const char *path, int backlog)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  unlink (path);
  if (bind (fd, (struct sockaddr *) &sun, sizeof sun) != 0 || (backlog >= 0 && listen (fd, backlog) != 0))
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* ---- the POSIX peers (their own thread) -------------------------------- */

typedef enum
{
  PB_ECHO,
  PB_SINK,
  PB_FLOOD,
  PB_SILENT,
  PB_CLOSE,
  PB_RESET,
  PB_LINES,
  PB_HALF_CLOSE,
  N_PEER_BEHAVIOURS
} PeerBehaviour;

typedef struct
{
  int           fd;
  PeerBehaviour behaviour;
  gboolean      connecting;
  guint64       in, out, limit;
  gint64        end_time;
  GByteArray   *backlog;        /* echo: received, not yet sent back */
  guint         lines;
} PeerConn;

typedef enum
{
  PEER_CMD_CONNECT_TCP,
  PEER_CMD_CONNECT_UNIX,
  PEER_CMD_UDP_SPRAY,
} PeerCmdType;

typedef struct
{
  PeerCmdType type;
  int         family;
  guint16     port;
  guint       count;
  char        path[108];
} PeerCmd;

static struct
{
  int          tcp4, tcp6, unix_listener, udp4, udp6, udp4_other, udp6_other;
  guint16      tcp4_port, tcp6_port, udp4_port, udp6_port;
  char        *unix_path;
  GPtrArray   *conns;
  GAsyncQueue *cmds;
  int          wake[2];
  guint64      rng;
  gint         stop;
  GThread     *thread;
} peer = { -1, -1, -1, -1, -1, -1, -1 };

static guint
peer_rnd (guint n)
{
  return n == 0 ? 0 : (guint) (split_mix (&peer.rng) % n);
}

static void
peer_conn_close (PeerConn *c, gboolean reset)
{
  if (reset)
    {
      struct linger lg = { 1, 0 };
      setsockopt (c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
  close (c->fd);
  c->fd = -1;
}

static void
peer_conn_free (PeerConn *c)
{
  if (c->fd >= 0)
    close (c->fd);
  g_byte_array_unref (c->backlog);
  g_free (c);
}

static void
peer_add (int fd, gboolean connecting)
{
  PeerConn *c = g_new0 (PeerConn, 1);

  c->fd = set_nonblocking (fd);
  c->connecting = connecting;
  c->behaviour = peer_rnd (N_PEER_BEHAVIOURS);
  c->backlog = g_byte_array_new ();
  switch (c->behaviour)
    {
    case PB_FLOOD:
      c->limit = peer_rnd (4) == 0 ? 8 << 20 : peer_rnd (300000);
      break;
    case PB_CLOSE:
    case PB_RESET:
      c->limit = peer_rnd (3) == 0 ? 0 : peer_rnd (100000);
      break;
    case PB_LINES:
      c->limit = 1 + peer_rnd (200);
      break;
    default:
      break;
    }
  c->end_time = g_get_monotonic_time () + (gint64) (5 + peer_rnd (3000)) * 1000;
  if (peer_rnd (5) == 0)
    {
      int size = 1024 + peer_rnd (8192);
      setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
  if (c->behaviour == PB_HALF_CLOSE && !connecting)
    shutdown (fd, SHUT_WR);
  /* Too many: the oldest goes, with a reset. */
  if (peer.conns->len >= 200)
    {
      PeerConn *old = g_ptr_array_index (peer.conns, 0);
      peer_conn_close (old, TRUE);
      g_ptr_array_remove_index (peer.conns, 0);
      peer_conn_free (old);
    }
  g_ptr_array_add (peer.conns, c);
}

static void
peer_accept (int listener)
{
  for (;;)
    {
      int fd = accept4 (listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        return;
      peer_add (fd, FALSE);
    }
}

static void
peer_udp (int fd, int other)
{
  static char buf[65536];
  struct sockaddr_storage from;

  for (int i = 0; i < 16; i++)
    {
      socklen_t len = sizeof from;
      ssize_t n = recvfrom (fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *) &from, &len);
      guint what = peer_rnd (20);

      if (n < 0)
        return;
      if (what < 3)
        continue;                                   /* drop */
      if (what < 13)
        sendto (fd, buf, n, MSG_DONTWAIT, (struct sockaddr *) &from, len);
      else if (what < 15)
        {
          sendto (fd, buf, n, MSG_DONTWAIT, (struct sockaddr *) &from, len);
          sendto (fd, buf, n, MSG_DONTWAIT, (struct sockaddr *) &from, len);
        }
      else if (what < 17)
        sendto (fd, buf, 0, MSG_DONTWAIT, (struct sockaddr *) &from, len);
      else if (what < 18)
        sendto (fd, buf, 60000, MSG_DONTWAIT, (struct sockaddr *) &from, len);
      else if (other >= 0)
        sendto (other, buf, n, MSG_DONTWAIT, (struct sockaddr *) &from, len);
    }
}

static void
peer_command (PeerCmd *cmd)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int fd;

  switch (cmd->type)
    {
    case PEER_CMD_CONNECT_TCP:
      len = make_inet (cmd->family, cmd->port, &ss);
      fd = socket (cmd->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0)
        break;
      if (connect (fd, (struct sockaddr *) &ss, len) != 0 && errno != EINPROGRESS)
        {
          close (fd);
          break;
        }
      peer_add (fd, TRUE);
      break;
    case PEER_CMD_CONNECT_UNIX:
      {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        gsize n = strlen (cmd->path);

        if (cmd->path[0] == '@')        /* abstract namespace */
          {
            memcpy (sun.sun_path + 1, cmd->path + 1, MIN (n - 1, sizeof sun.sun_path - 1));
            len = offsetof (struct sockaddr_un, sun_path) + n;
          }
        else
          {
            g_strlcpy (sun.sun_path, cmd->path, sizeof sun.sun_path);
            len = sizeof sun;
          }
        fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (connect (fd, (struct sockaddr *) &sun, len) != 0 && errno != EINPROGRESS && errno != EAGAIN)
          {
            close (fd);
            break;
          }
        peer_add (fd, TRUE);
      }
      break;
    case PEER_CMD_UDP_SPRAY:
      {
        static char buf[65507];
        int from = cmd->family == AF_INET ? peer.udp4 : peer.udp6;

        if (from < 0)
          break;
        len = make_inet (cmd->family, cmd->port, &ss);
        for (guint i = 0; i < cmd->count; i++)
          {
            gsize size = PICK (((gsize[]) { 0, 1, 5, 100, 1400, 9000, 65507 }));
            memset (buf, 'a' + (i % 26), size);
            sendto (from, buf, size, MSG_DONTWAIT, (struct sockaddr *) &ss, len);
          }
      }
      break;
    }
}

/* What one connection does when poll() reports @revents; FALSE: it ended. */
static gboolean
peer_conn_run (PeerConn *c, short revents)
{
  static char buf[65536];
  gint64 now = g_get_monotonic_time ();

  if (c->connecting)
    {
      int err = 0;
      socklen_t len = sizeof err;

      if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
        return now < c->end_time + G_USEC_PER_SEC;
      getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (revents & POLLERR))
        return FALSE;
      c->connecting = FALSE;
      if (c->behaviour == PB_HALF_CLOSE)
        shutdown (c->fd, SHUT_WR);
    }

  if (now >= c->end_time)
    {
      peer_conn_close (c, peer_rnd (2) == 0);
      return FALSE;
    }

  if (revents & POLLIN)
    {
      ssize_t n = read (c->fd, buf, sizeof buf);

      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        {
          peer_conn_close (c, peer_rnd (4) == 0);
          return FALSE;
        }
      if (n > 0)
        {
          c->in += n;
          if (c->behaviour == PB_ECHO)
            g_byte_array_append (c->backlog, (guint8 *) buf, n);
          if ((c->behaviour == PB_CLOSE || c->behaviour == PB_RESET) && c->in >= c->limit)
            {
              peer_conn_close (c, c->behaviour == PB_RESET);
              return FALSE;
            }
        }
    }
  else if (revents & (POLLERR | POLLHUP))
    {
      peer_conn_close (c, FALSE);
      return FALSE;
    }

  if (revents & POLLOUT)
    {
      ssize_t n = 0;

      switch (c->behaviour)
        {
        case PB_ECHO:
          n = write (c->fd, c->backlog->data, c->backlog->len);
          if (n > 0)
            g_byte_array_remove_range (c->backlog, 0, n);
          break;
        case PB_FLOOD:
          memset (buf, 'f', sizeof buf);
          n = write (c->fd, buf, MIN (sizeof buf, c->limit - c->out));
          break;
        case PB_LINES:
          {
            int len = g_snprintf (buf, sizeof buf, "line %u%s", c->lines,
                                  peer_rnd (4) == 0 ? "\r\n" : "\n");
            if (peer_rnd (8) == 0)      /* a long one, past most read_line limits */
              {
                memset (buf, 'L', 5000);
                buf[5000] = '\n';
                len = 5001;
              }
            n = write (c->fd, buf, len);
            if (n > 0)
              c->lines++;
          }
          break;
        default:
          break;
        }
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        {
          peer_conn_close (c, FALSE);
          return FALSE;
        }
      if (n > 0)
        c->out += n;
      if (c->behaviour == PB_LINES && c->lines >= c->limit && peer_rnd (2) == 0)
        {
          peer_conn_close (c, FALSE);
          return FALSE;
        }
    }
  return TRUE;
}

static short
peer_conn_events (PeerConn *c)
{
  if (c->connecting)
    return POLLOUT;
  switch (c->behaviour)
    {
    case PB_ECHO:
      return (c->backlog->len < 256 * 1024 ? POLLIN : 0) | (c->backlog->len > 0 ? POLLOUT : 0);
    case PB_FLOOD:
      return POLLIN | (c->out < c->limit ? POLLOUT : 0);
    case PB_LINES:
      return POLLIN | (c->lines < c->limit ? POLLOUT : 0);
    case PB_SILENT:
      return 0;
    default:
      return POLLIN;
    }
}

static gpointer
peer_thread (gpointer data)
{
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  int fixed[] = { peer.wake[0], peer.tcp4, peer.tcp6, peer.unix_listener, peer.udp4, peer.udp6,
                  peer.udp4_other, peer.udp6_other };

  while (!g_atomic_int_get (&peer.stop))
    {
      PeerCmd *cmd;
      guint n_fixed = G_N_ELEMENTS (fixed);

      g_array_set_size (fds, 0);
      for (guint i = 0; i < n_fixed; i++)
        {
          struct pollfd p = { fixed[i], POLLIN, 0 };
          g_array_append_val (fds, p);
        }
      for (guint i = 0; i < peer.conns->len; i++)
        {
          PeerConn *c = g_ptr_array_index (peer.conns, i);
          struct pollfd p = { c->fd, peer_conn_events (c), 0 };
          g_array_append_val (fds, p);
        }
      poll ((struct pollfd *) fds->data, fds->len, 5);

      while ((cmd = g_async_queue_try_pop (peer.cmds)) != NULL)
        {
          peer_command (cmd);
          g_free (cmd);
        }
      if (g_array_index (fds, struct pollfd, 0).revents)
        {
          char drain[64];
          while (read (peer.wake[0], drain, sizeof drain) > 0)
            ;
        }
      for (guint i = 1; i <= 3; i++)
        if (g_array_index (fds, struct pollfd, i).revents & POLLIN)
          peer_accept (fixed[i]);
      if (g_array_index (fds, struct pollfd, 4).revents & POLLIN)
        peer_udp (peer.udp4, peer.udp4_other);
      if (g_array_index (fds, struct pollfd, 5).revents & POLLIN)
        peer_udp (peer.udp6, peer.udp6_other);
      for (guint i = 6; i <= 7; i++)
        if (g_array_index (fds, struct pollfd, i).revents & POLLIN)
          {
            char buf[2048];
            while (recv (fixed[i], buf, sizeof buf, MSG_DONTWAIT) >= 0)
              ;
          }

      /* Connections: the ones polled, in the order polled (new ones added
       * by commands or accepts wait for the next round). */
      for (guint i = n_fixed, k = 0; i < fds->len; i++)
        {
          PeerConn *c = g_ptr_array_index (peer.conns, k);
          short revents = g_array_index (fds, struct pollfd, i).revents;

          if (c->fd != g_array_index (fds, struct pollfd, i).fd || peer_conn_run (c, revents))
            {
              k++;
              continue;
            }
          g_ptr_array_remove_index (peer.conns, k);
          peer_conn_free (c);
        }
    }
  g_array_unref (fds);
  return NULL;
}

static void
peer_send (PeerCmd *cmd)
{
  char one = 1;

  g_async_queue_push (peer.cmds, g_memdup2 (cmd, sizeof *cmd));
  if (write (peer.wake[1], &one, 1) < 0)
    {
      /* full: the peer is awake anyway */
    }
}

static void
peer_start (void)
{
  peer.rng = opt_seed ^ G_GUINT64_CONSTANT (0x5045455250454552);
  peer.conns = g_ptr_array_new ();
  peer.cmds = g_async_queue_new ();
  if (pipe2 (peer.wake, O_CLOEXEC | O_NONBLOCK) != 0)
    fail ("pipe: %s", g_strerror (errno));

  peer.tcp4 = inet_socket (AF_INET, SOCK_STREAM, 64);
  peer.tcp6 = inet_socket (AF_INET6, SOCK_STREAM, 64);
  peer.udp4 = inet_socket (AF_INET, SOCK_DGRAM, -1);
  peer.udp6 = inet_socket (AF_INET6, SOCK_DGRAM, -1);
  peer.udp4_other = inet_socket (AF_INET, SOCK_DGRAM, -1);
  peer.udp6_other = inet_socket (AF_INET6, SOCK_DGRAM, -1);
  if (peer.tcp4 < 0 || peer.udp4 < 0)
    fail ("cannot bind 127.0.0.1");
  have_ipv6 = peer.tcp6 >= 0 && peer.udp6 >= 0;
  peer.tcp4_port = port_of (peer.tcp4);
  peer.tcp6_port = peer.tcp6 >= 0 ? port_of (peer.tcp6) : 0;
  peer.udp4_port = port_of (peer.udp4);
  peer.udp6_port = peer.udp6 >= 0 ? port_of (peer.udp6) : 0;
  peer.unix_path = g_build_filename (tmp_dir, "peer.sock", NULL);
  peer.unix_listener = unix_socket_at (peer.unix_path, 64);
  if (peer.unix_listener < 0)
    fail ("cannot listen on %s", peer.unix_path);
  set_nonblocking (peer.tcp4);
  if (peer.tcp6 >= 0)
    set_nonblocking (peer.tcp6);
  set_nonblocking (peer.unix_listener);
  peer.thread = g_thread_new ("apifuzz-peer", peer_thread, NULL);
}

static void
peer_stop (void)
{
  int *fds[] = { &peer.tcp4, &peer.tcp6, &peer.unix_listener, &peer.udp4, &peer.udp6,
                 &peer.udp4_other, &peer.udp6_other, &peer.wake[0], &peer.wake[1] };
  PeerCmd *cmd;

  g_atomic_int_set (&peer.stop, 1);
  g_thread_join (peer.thread);
  for (guint i = 0; i < peer.conns->len; i++)
    peer_conn_free (g_ptr_array_index (peer.conns, i));
  g_ptr_array_unref (peer.conns);
  while ((cmd = g_async_queue_try_pop (peer.cmds)) != NULL)
    g_free (cmd);
  g_async_queue_unref (peer.cmds);
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    if (*fds[i] >= 0)
      close (*fds[i]);
  g_free (peer.unix_path);
}

/* ---- fixed targets ----------------------------------------------------- */

static GInetAddress *addr_lo4, *addr_lo6, *addr_any4, *addr_any6, *addr_lo4_other,
                    *addr_unavailable, *addr_broadcast, *addr_mcast4, *addr_mcast6;
static int refusing_fd = -1;
static guint16 refusing_port, udp_dead_port;
static char *stale_path, *plain_path, *missing_path;
static guint name_serial;

static void
targets_init (void)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd;

  addr_lo4 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  addr_lo6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  addr_any4 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  addr_any6 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
  addr_lo4_other = g_inet_address_new_from_string ("127.0.0.2");
  addr_unavailable = g_inet_address_new_from_string ("192.0.2.1");
  addr_broadcast = g_inet_address_new_from_string ("255.255.255.255");
  addr_mcast4 = g_inet_address_new_from_string ("239.255.12.34");
  addr_mcast6 = g_inet_address_new_from_string ("ff12::1234");

  refusing_fd = inet_socket (AF_INET, SOCK_STREAM, -1);
  refusing_port = port_of (refusing_fd);
  fd = inet_socket (AF_INET, SOCK_DGRAM, -1);
  udp_dead_port = port_of (fd);
  close (fd);

  /* A socket file nobody listens on, a plain file, a missing path. */
  stale_path = g_build_filename (tmp_dir, "stale.sock", NULL);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_strlcpy (sun.sun_path, stale_path, sizeof sun.sun_path);
  if (bind (fd, (struct sockaddr *) &sun, sizeof sun) != 0)
    fail ("bind %s: %s", stale_path, g_strerror (errno));
  close (fd);
  plain_path = g_build_filename (tmp_dir, "plain.file", NULL);
  g_file_set_contents (plain_path, "x", 1, NULL);
  missing_path = g_build_filename (tmp_dir, "missing.sock", NULL);
}

static void
targets_free (void)
{
  GInetAddress **addrs[] = { &addr_lo4, &addr_lo6, &addr_any4, &addr_any6, &addr_lo4_other,
                             &addr_unavailable, &addr_broadcast, &addr_mcast4, &addr_mcast6 };

  for (guint i = 0; i < G_N_ELEMENTS (addrs); i++)
    g_clear_object (addrs[i]);
  close (refusing_fd);
  g_free (stale_path);
  g_free (plain_path);
  g_free (missing_path);
}

/* ---- objects ----------------------------------------------------------- */

typedef enum
{
  K_TCP,
  K_UDP,
  K_LOCAL,
  K_TCP_SERVER,
  K_LOCAL_SERVER,
  N_KINDS
} Kind;

#define M_TCP (1u << K_TCP)
#define M_UDP (1u << K_UDP)
#define M_LOCAL (1u << K_LOCAL)
#define M_TCP_SERVER (1u << K_TCP_SERVER)
#define M_LOCAL_SERVER (1u << K_LOCAL_SERVER)
#define M_ABSTRACT (M_TCP | M_UDP)
#define M_IO (M_TCP | M_UDP | M_LOCAL)
#define M_SERVER (M_TCP_SERVER | M_LOCAL_SERVER)
#define M_ANY (M_IO | M_SERVER)

static const char *kind_names[] = { "tcp", "udp", "local", "tcpsrv", "localsrv" };

typedef struct
{
  guint     id;
  Kind      kind;
  gpointer  obj;
  guint     owned;          /* references this program holds */
  gboolean  finalized;
  gboolean  plain;          /* a QSockAbstract, not a QSockTcp/QSockUdp */
  gboolean  odd_open;       /* opened NOT_OPEN or closed early: no open/state check */
  int       in_ready_read;
  int       in_bytes_written;
  int       last_state;     /* from state-changed */
  char      hist[24][100];  /* its own last calls and signals */
  guint     n_hist;
  gboolean  failed_connect; /* UNCONNECTED from HOST_LOOKUP/CONNECTING */
  guint     connects_pending; /* connect_to_host_async() not completed */
  guint     reads_pending;    /* read_line_async()/read_exactly_async() */
  guint     ops_pending;      /* any async call */
  int       in_call;          /* calls on it in progress */
  gboolean  foreign_fd;       /* adopted a descriptor of another kind */
  char     *listen_name;    /* local server: the name it listens on */
} Obj;

static GPtrArray *objects;      /* every Obj ever made, by id */
static guint n_live;

#define MAX_LIVE 22
#define OBJ_FMT "%s#%u"
#define OBJ_ARGS(o) kind_names[(o)->kind], (o)->id

static void
obj_note (Obj *o, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
obj_note (Obj *o, const char *format, ...)
{
  char *line = o->hist[o->n_hist++ % G_N_ELEMENTS (o->hist)];
  int n = g_snprintf (line, sizeof o->hist[0], "%6" G_GUINT64_FORMAT " ", cur_step);
  va_list args;

  va_start (args, format);
  g_vsnprintf (line + n, sizeof o->hist[0] - n, format, args);
  va_end (args);
}

/* The histories of the objects a failure names ("tcp#12"). */
static void
dump_histories (const char *what)
{
  for (const char *p = strchr (what, '#'); p != NULL; p = strchr (p + 1, '#'))
    {
      guint64 id;
      Obj *o;
      guint first;

      if (!g_ascii_isdigit (p[1]))
        continue;
      id = g_ascii_strtoull (p + 1, NULL, 10);
      if (objects == NULL || id >= objects->len)
        continue;
      o = g_ptr_array_index (objects, id);
      fprintf (stderr, "apifuzz: history of " OBJ_FMT " (%u refs held%s):\n", OBJ_ARGS (o), o->owned,
               o->finalized ? ", finalized" : "");
      first = o->n_hist > G_N_ELEMENTS (o->hist) ? o->n_hist - G_N_ELEMENTS (o->hist) : 0;
      for (guint i = first; i < o->n_hist; i++)
        fprintf (stderr, "  %s\n", o->hist[i % G_N_ELEMENTS (o->hist)]);
    }
  fflush (stderr);
}

static gboolean
obj_live (Obj *o)
{
  return o != NULL && o->owned > 0 && !o->finalized;
}

static Obj *
pick_obj (guint mask)
{
  Obj *found[MAX_LIVE * 4 + 8];
  guint n = 0;

  for (guint i = 0; i < objects->len && n < G_N_ELEMENTS (found); i++)
    {
      Obj *o = g_ptr_array_index (objects, i);
      if (obj_live (o) && (mask & (1u << o->kind)))
        found[n++] = o;
    }
  return n > 0 ? found[rnd (n)] : NULL;
}

static Obj *
pick_other (Obj *self, guint mask)
{
  Obj *o = pick_obj (mask);
  return o == self ? NULL : o;
}

static void
on_finalized (gpointer data, GObject *where)
{
  Obj *o = data;

  o->finalized = TRUE;
  if (opt_verbose)
    fprintf (stderr, "apifuzz:        " OBJ_FMT " finalized\n", OBJ_ARGS (o));
}

/* Drops one of this program's references. */
static void
obj_release (Obj *o, const char *why)
{
  if (!obj_live (o))
    return;
  trace ("%s release " OBJ_FMT " (%u left)", why, OBJ_ARGS (o), o->owned - 1);
  obj_note (o, "%s release (%u left)", why, o->owned - 1);
  if (--o->owned == 0)
    n_live--;
  g_object_unref (o->obj);
}

/* The current call on the library, so handlers know what they interrupt. */
static Obj *call_obj;
static const char *call_op;
static int call_depth;
static int handler_depth;
static int nested_iterations;   /* > 0 while a handler iterates the context */
static int async_starting;      /* > 0 inside an _async call */

typedef struct
{
  Obj        *prev_obj;
  const char *prev_op;
  gpointer    keep;
} CallCtx;

static void
call_begin (CallCtx *ctx, Obj *o, const char *op)
{
  ctx->prev_obj = call_obj;
  ctx->prev_op = call_op;
  call_obj = o;
  call_op = op;
  call_depth++;
  o->in_call++;
  obj_note (o, "%s", op);
  ctx->keep = chance (APIFUZZ_CALLER_REF_PERCENT) ? g_object_ref (o->obj) : NULL;
}

static void
call_end (CallCtx *ctx)
{
  Obj *o = call_obj;

  o->in_call--;
  if (!o->finalized && (o->kind == K_TCP || o->kind == K_UDP))
    obj_note (o, "  -> state %d, open 0x%x, available %" G_GINT64_FORMAT ", to write %" G_GINT64_FORMAT,
              qsock_abstract_get_state (o->obj), qsock_iodevice_get_open_mode (o->obj),
              qsock_iodevice_bytes_available (o->obj), qsock_iodevice_bytes_to_write (o->obj));
  else if (!o->finalized && o->kind == K_LOCAL)
    obj_note (o, "  -> state %d, open 0x%x, available %" G_GINT64_FORMAT ", to write %" G_GINT64_FORMAT,
              qsock_local_get_state (o->obj), qsock_iodevice_get_open_mode (o->obj),
              qsock_iodevice_bytes_available (o->obj), qsock_iodevice_bytes_to_write (o->obj));
  call_depth--;
  call_obj = ctx->prev_obj;
  call_op = ctx->prev_op;
  if (ctx->keep != NULL)
    g_object_unref (ctx->keep);
}

#define CALL(o, op, ...)                                                      \
  G_STMT_START {                                                              \
    CallCtx cc_;                                                              \
    call_begin (&cc_, (o), (op));                                             \
    __VA_ARGS__;                                                              \
    call_end (&cc_);                                                          \
  } G_STMT_END

static Obj *obj_adopt (gpointer obj, Kind kind, const char *how);

/* A step that takes far longer than any call may (waits are 0-50 ms) is a
 * hang: report it while the trace still says where. */
static gint watchdog_stop;

static gpointer
watchdog_thread (gpointer data)
{
  gint64 limit_us = (gint64) (20 * G_USEC_PER_SEC * time_scale);

  while (!g_atomic_int_get (&watchdog_stop))
    {
      gint64 started;

      g_usleep (100 * 1000);
      started = step_start_us;
      if (started != 0 && g_get_monotonic_time () - started > limit_us)
        {
          char *argv[] = { "gdb", "-p", NULL, "-batch", "-ex", "thread apply all bt", NULL };
          char *pid = g_strdup_printf ("%d", (int) getpid ());
          argv[2] = pid;
          fprintf (stderr, "apifuzz: hang; the threads' stacks (gdb):\n");
          /* gdb writes to our stderr; without gdb this is a no-op */
          g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL,
                        NULL, NULL, NULL, NULL, NULL, NULL);
          g_free (pid);
          fail ("hang: step %s for more than %.0f s, in %s on %s#%u",
                g_atomic_int_get (&in_teardown) ? "(teardown)" : "in progress", limit_us / 1e6,
                call_op ? call_op : "no call", call_obj ? kind_names[call_obj->kind] : "-",
                call_obj ? call_obj->id : 0);
        }
    }
  return NULL;
}

/* ---- signal handlers --------------------------------------------------- */

static void
check_state_arg (Obj *o, GObject *emitter, int state, const char *signal)
{
  if (o->kind == K_LOCAL)
    {
      if (state != 0 && state != 2 && state != 3 && state != 6)
        fail (OBJ_FMT " %s with invalid QSockLocalSocketState %d", OBJ_ARGS (o), signal, state);
      if ((int) qsock_local_get_state (QSOCK_LOCAL (emitter)) != state)
        fail (OBJ_FMT " %s(%d) while get_state() is %d", OBJ_ARGS (o), signal, state,
              qsock_local_get_state (QSOCK_LOCAL (emitter)));
    }
  else
    {
      if (state < 0 || state > 6)
        fail (OBJ_FMT " %s with invalid QSockSocketState %d", OBJ_ARGS (o), signal, state);
      if ((int) qsock_abstract_get_state (QSOCK_ABSTRACT (emitter)) != state)
        fail (OBJ_FMT " %s(%d) while get_state() is %d", OBJ_ARGS (o), signal, state,
              qsock_abstract_get_state (QSOCK_ABSTRACT (emitter)));
    }
}

static gboolean
valid_socket_error (int error)
{
  return error >= -1 && error <= 22;
}

static gboolean
valid_local_error (int error)
{
  return (error >= -1 && error <= 7) || error == 10 || error == 19;
}

static void io_do_random_read (Obj *o, gpointer emitter, const char *why);

/* Now and then a handler does something rude to its emitter or another
 * object: release it (possibly the last reference), abort or close it,
 * read or write, or iterate the context from inside the emission. */
static void
handler_mischief (Obj *o, gpointer emitter, const char *signal)
{
  Obj *other;
  char why[96];
  gboolean from_loop = call_depth == 0;

  if (handler_depth > 2 || g_atomic_int_get (&in_teardown) || !chance (6))
    return;
  handler_depth++;
  g_snprintf (why, sizeof why, "  [in " OBJ_FMT " %s%s]", OBJ_ARGS (o), signal,
              from_loop ? " from loop" : "");

  switch (rnd (11))
    {
    case 0:
    case 1:
      if (o->kind == K_LOCAL && AVOID (KB_LOCAL_UNREF_IN_HANDLER))
        break;
      /* Any handler of a UDP socket inside a call on it: the implicit
       * bind of write_datagram emits state-changed, whose handler may
       * abort, and read-channel-finished follows. */
      if (o->kind == K_UDP && call_obj == o && AVOID (KB_UDP_BIND_UNREF))
        break;
      if ((o->kind == K_TCP_SERVER || o->kind == K_LOCAL_SERVER) && o->in_call > 0 &&
          AVOID (KB_SERVER_CLOSE_RELEASE))
        break;
      obj_release (o, why);
      break;
    case 2:
      if (!obj_live (o) && o->owned == 0 && o->finalized)
        break;
      trace ("%s abort self", why);
      CALL (o, "abort",
            if (o->kind == K_LOCAL) qsock_local_abort (emitter);
            else if (o->kind == K_TCP || o->kind == K_UDP) qsock_abstract_abort (emitter);
            else if (o->kind == K_TCP_SERVER) qsock_tcp_server_close (emitter);
            else qsock_local_server_close (emitter));
      break;
    case 3:
      trace ("%s close self", why);
      if (o->kind == K_TCP || o->kind == K_UDP || o->kind == K_LOCAL)
        {
          o->odd_open = TRUE;
          CALL (o, "close", qsock_iodevice_close (emitter));
        }
      break;
    case 4:
    case 5:
      other = pick_other (o, M_ANY);
      if (other == NULL || (from_loop && AVOID (KB_FLUSH_PASS_RELEASE_OTHER)))
        break;
      if (other->in_call > 0 && (other->kind == K_TCP_SERVER || other->kind == K_LOCAL_SERVER) &&
          AVOID (KB_SERVER_CLOSE_RELEASE))
        break;
      obj_release (other, why);
      break;
    case 6:
      other = pick_other (o, M_ABSTRACT | M_LOCAL);
      if (other == NULL)
        break;
      trace ("%s abort " OBJ_FMT, why, OBJ_ARGS (other));
      CALL (other, "abort",
            if (other->kind == K_LOCAL) qsock_local_abort (other->obj);
            else qsock_abstract_abort (other->obj));
      break;
    case 7:
      if (o->connects_pending > 0 && AVOID (KB_CONNECT_ASYNC_HANDLER_IO))
        break;
      if (o->kind == K_TCP || o->kind == K_UDP || o->kind == K_LOCAL)
        io_do_random_read (o, emitter, why);
      break;
    case 8:
      if (o->connects_pending > 0 && AVOID (KB_CONNECT_ASYNC_HANDLER_IO))
        break;
      if (o->kind == K_TCP || o->kind == K_UDP || o->kind == K_LOCAL)
        {
          gint64 r;
          CALL (o, "write", r = qsock_iodevice_write (emitter, "mischief\n", 9));
          trace ("%s write(9) -> %" G_GINT64_FORMAT, why, r);
        }
      break;
    case 9:
      if (async_starting > 0 && AVOID (KB_ASYNC_START_NESTED_ITERATE))
        break;
      trace ("%s iterate", why);
      nested_iterations++;
      g_main_context_iteration (NULL, FALSE);
      nested_iterations--;
      break;
    case 10:
      if (o->connects_pending > 0 && AVOID (KB_CONNECT_ASYNC_HANDLER_IO))
        break;
      trace ("%s disconnect self", why);
      CALL (o, "disconnect",
            if (o->kind == K_LOCAL) qsock_local_disconnect_from_server (emitter);
            else if (o->kind == K_TCP || o->kind == K_UDP) qsock_abstract_disconnect_from_host (emitter));
      break;
    }
  handler_depth--;
}

static void
on_ready_read (QSockIODevice *dev, Obj *o)
{
  if (o->in_ready_read > 0)
    fail (OBJ_FMT " ready-read emitted recursively", OBJ_ARGS (o));
  o->in_ready_read++;
  obj_note (o, "  ready-read");
  if (opt_verbose)
    fprintf (stderr, "apifuzz:        " OBJ_FMT " ready-read\n", OBJ_ARGS (o));
  /* What real programs do: read, most of the time. */
  if (handler_depth == 0 && chance (60) && !g_atomic_int_get (&in_teardown) &&
      !(o->connects_pending > 0 && AVOID (KB_CONNECT_ASYNC_HANDLER_IO)))
    {
      handler_depth++;
      io_do_random_read (o, dev, "  [ready-read]");
      handler_depth--;
    }
  handler_mischief (o, dev, "ready-read");
  o->in_ready_read--;
}

static void
on_bytes_written (QSockIODevice *dev, gint64 bytes, Obj *o)
{
  /* Qt reports an empty datagram as bytesWritten(0). */
  if (bytes < 0 || (bytes == 0 && o->kind != K_UDP))
    fail (OBJ_FMT " bytes-written(%" G_GINT64_FORMAT ")", OBJ_ARGS (o), bytes);
  if (o->in_bytes_written > 0)
    fail (OBJ_FMT " bytes-written emitted recursively", OBJ_ARGS (o));
  o->in_bytes_written++;
  obj_note (o, "  bytes-written(%" G_GINT64_FORMAT ")", bytes);
  if (opt_verbose)
    fprintf (stderr, "apifuzz:        " OBJ_FMT " bytes-written(%" G_GINT64_FORMAT ")\n", OBJ_ARGS (o), bytes);
  handler_mischief (o, dev, "bytes-written");
  o->in_bytes_written--;
}

static void
on_state_changed (GObject *emitter, int state, Obj *o)
{
  obj_note (o, "  state-changed(%d)", state);
  if (opt_verbose)
    fprintf (stderr, "apifuzz:        " OBJ_FMT " state-changed(%d)\n", OBJ_ARGS (o), state);
  check_state_arg (o, emitter, state, "state-changed");
  /* Qt keeps what was written while connecting when the connection
   * fails (the buffer is cleared by the next open), so UNCONNECTED may
   * then have bytes to write. */
  if (state == QSOCK_SOCKET_STATE_UNCONNECTED &&
      (o->last_state == QSOCK_SOCKET_STATE_HOST_LOOKUP || o->last_state == QSOCK_SOCKET_STATE_CONNECTING))
    o->failed_connect = TRUE;
  else if (state != QSOCK_SOCKET_STATE_UNCONNECTED)
    o->failed_connect = FALSE;
  o->last_state = state;
  handler_mischief (o, emitter, "state-changed");
}

static void
on_error_occurred (GObject *emitter, int error, Obj *o)
{
  obj_note (o, "  error-occurred(%d)", error);
  if (opt_verbose)
    fprintf (stderr, "apifuzz:        " OBJ_FMT " error-occurred(%d)\n", OBJ_ARGS (o), error);
  if (o->kind == K_LOCAL ? !valid_local_error (error) : !valid_socket_error (error))
    fail (OBJ_FMT " error-occurred with invalid code %d", OBJ_ARGS (o), error);
  handler_mischief (o, emitter, "error-occurred");
}

static void
on_plain_signal (GObject *emitter, Obj *o)
{
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (emitter);
  const char *name = hint ? g_signal_name (hint->signal_id) : "?";

  obj_note (o, "  %s", name);
  if (opt_verbose)
    fprintf (stderr, "apifuzz:        " OBJ_FMT " %s\n", OBJ_ARGS (o), name);
  handler_mischief (o, emitter, name);
}

static void
on_accept_error (GObject *emitter, int error, Obj *o)
{
  if (!valid_socket_error (error))
    fail (OBJ_FMT " accept-error with invalid code %d", OBJ_ARGS (o), error);
  handler_mischief (o, emitter, "accept-error");
}

static void
on_new_connection (GObject *emitter, Obj *o)
{
  obj_note (o, "  new-connection");
  if (opt_verbose)
    fprintf (stderr, "apifuzz:        " OBJ_FMT " new-connection\n", OBJ_ARGS (o));
  /* Take it now and then, as servers do. */
  if (handler_depth == 0 && chance (40) && !g_atomic_int_get (&in_teardown) && n_live < MAX_LIVE)
    {
      gpointer sock;
      handler_depth++;
      CALL (o, "next_pending_connection",
            sock = o->kind == K_TCP_SERVER
              ? (gpointer) qsock_tcp_server_next_pending_connection ((QSockTcpServer *) emitter)
              : (gpointer) qsock_local_server_next_pending_connection ((QSockLocalServer *) emitter));
      if (sock != NULL)
        obj_adopt (sock, o->kind == K_TCP_SERVER ? K_TCP : K_LOCAL, "  [new-connection] accepted");
      handler_depth--;
    }
  handler_mischief (o, emitter, "new-connection");
}

static Obj *
obj_find (gpointer obj)
{
  return g_object_get_data (obj, "apifuzz-obj");
}

/* Takes ownership of one reference to @obj. */
static Obj *
obj_adopt (gpointer obj, Kind kind, const char *how)
{
  Obj *o = obj_find (obj);

  if (o != NULL)
    {
      if (o->owned++ == 0)
        n_live++;
      trace ("%s " OBJ_FMT " again (%u refs)", how, OBJ_ARGS (o), o->owned);
      return o;
    }

  o = g_new0 (Obj, 1);
  o->id = objects->len;
  o->kind = kind;
  o->obj = obj;
  o->owned = 1;
  g_ptr_array_add (objects, o);
  n_live++;
  g_object_set_data (obj, "apifuzz-obj", o);
  g_object_weak_ref (obj, on_finalized, o);

  if (kind == K_TCP || kind == K_UDP || kind == K_LOCAL)
    {
      g_signal_connect (obj, "ready-read", G_CALLBACK (on_ready_read), o);
      g_signal_connect (obj, "bytes-written", G_CALLBACK (on_bytes_written), o);
      g_signal_connect (obj, "about-to-close", G_CALLBACK (on_plain_signal), o);
      g_signal_connect (obj, "read-channel-finished", G_CALLBACK (on_plain_signal), o);
      g_signal_connect (obj, "connected", G_CALLBACK (on_plain_signal), o);
      g_signal_connect (obj, "disconnected", G_CALLBACK (on_plain_signal), o);
      g_signal_connect (obj, "state-changed", G_CALLBACK (on_state_changed), o);
      g_signal_connect (obj, "error-occurred", G_CALLBACK (on_error_occurred), o);
      if (kind != K_LOCAL)
        g_signal_connect (obj, "host-found", G_CALLBACK (on_plain_signal), o);
    }
  else
    {
      g_signal_connect (obj, "new-connection", G_CALLBACK (on_new_connection), o);
      if (kind == K_TCP_SERVER)
        {
          g_signal_connect (obj, "pending-connection-available", G_CALLBACK (on_plain_signal), o);
          g_signal_connect (obj, "accept-error", G_CALLBACK (on_accept_error), o);
        }
    }
  trace ("%s " OBJ_FMT, how, OBJ_ARGS (o));
  return o;
}

static Obj *
obj_new (Kind kind)
{
  gpointer obj = NULL;
  gboolean plain = FALSE;

  switch (kind)
    {
    case K_TCP:
      plain = chance (20);
      obj = plain ? (gpointer) qsock_abstract_new (QSOCK_SOCKET_TYPE_TCP) : (gpointer) qsock_tcp_new ();
      break;
    case K_UDP:
      plain = chance (20);
      obj = plain ? (gpointer) qsock_abstract_new (QSOCK_SOCKET_TYPE_UDP) : (gpointer) qsock_udp_new ();
      break;
    case K_LOCAL:
      obj = qsock_local_new ();
      break;
    case K_TCP_SERVER:
      obj = qsock_tcp_server_new ();
      break;
    case K_LOCAL_SERVER:
      obj = qsock_local_server_new ();
      break;
    default:
      g_assert_not_reached ();
    }
  {
    Obj *o = obj_adopt (obj, kind, plain ? "new (plain QSockAbstract)" : "new");
    o->plain = plain;
    return o;
  }
}

/* ---- invariants -------------------------------------------------------- */

static void
check_iodevice (Obj *o)
{
  QSockIODevice *d = o->obj;
  gint64 available = qsock_iodevice_bytes_available (d);
  gint64 to_write = qsock_iodevice_bytes_to_write (d);
  QSockOpenMode mode = qsock_iodevice_get_open_mode (d);
  gboolean open = qsock_iodevice_is_open (d);

  if (available < 0)
    fail (OBJ_FMT " bytes_available() = %" G_GINT64_FORMAT, OBJ_ARGS (o), available);
  if (to_write < 0)
    fail (OBJ_FMT " bytes_to_write() = %" G_GINT64_FORMAT, OBJ_ARGS (o), to_write);
  if (mode & ~0xffu)
    fail (OBJ_FMT " open mode 0x%x", OBJ_ARGS (o), mode);
  if (open != (mode != QSOCK_OPEN_MODE_NOT_OPEN))
    fail (OBJ_FMT " is_open() %d with open mode 0x%x", OBJ_ARGS (o), open, mode);
  if (qsock_iodevice_is_readable (d) != !!(mode & QSOCK_OPEN_MODE_READ_ONLY))
    fail (OBJ_FMT " is_readable() disagrees with open mode 0x%x", OBJ_ARGS (o), mode);
  if (qsock_iodevice_is_writable (d) != !!(mode & QSOCK_OPEN_MODE_WRITE_ONLY))
    fail (OBJ_FMT " is_writable() disagrees with open mode 0x%x", OBJ_ARGS (o), mode);
  if (!qsock_iodevice_is_sequential (d))
    fail (OBJ_FMT " is not sequential", OBJ_ARGS (o));
  if (!open && !qsock_iodevice_at_end (d))
    fail (OBJ_FMT " at_end() is FALSE on a device that is not open", OBJ_ARGS (o));
  if (qsock_iodevice_get_error_string (d) == NULL)
    fail (OBJ_FMT " get_error_string() is NULL", OBJ_ARGS (o));
}

static void
check_abstract (Obj *o)
{
  QSockAbstract *s = o->obj;
  QSockSocketState state = qsock_abstract_get_state (s);
  QSockSocketError error = qsock_abstract_get_error (s);
  QSockSocketType type = qsock_abstract_get_socket_type (s);
  gint64 to_write = qsock_iodevice_bytes_to_write (o->obj);
  GInetAddress *address;

  if ((int) state < 0 || state > QSOCK_SOCKET_STATE_CLOSING)
    fail (OBJ_FMT " invalid state %d", OBJ_ARGS (o), state);
  if (!valid_socket_error (error))
    fail (OBJ_FMT " invalid error %d", OBJ_ARGS (o), error);
  if (type != (o->kind == K_TCP ? QSOCK_SOCKET_TYPE_TCP : QSOCK_SOCKET_TYPE_UDP))
    fail (OBJ_FMT " socket type %d", OBJ_ARGS (o), type);
  if (state == QSOCK_SOCKET_STATE_UNCONNECTED && to_write != 0 && !o->failed_connect)
    fail (OBJ_FMT " UNCONNECTED with %" G_GINT64_FORMAT " bytes to write", OBJ_ARGS (o), to_write);
  if (state == QSOCK_SOCKET_STATE_CONNECTED && !o->odd_open && !qsock_iodevice_is_open (o->obj))
    fail (OBJ_FMT " CONNECTED but not open", OBJ_ARGS (o));
  if ((state == QSOCK_SOCKET_STATE_CONNECTED || state == QSOCK_SOCKET_STATE_BOUND) &&
      qsock_abstract_get_socket_descriptor (s) < 0)
    fail (OBJ_FMT " state %d without a descriptor", OBJ_ARGS (o), state);
  address = qsock_abstract_get_local_address (s);
  g_clear_object (&address);
  address = qsock_abstract_get_peer_address (s);
  g_clear_object (&address);
  (void) qsock_abstract_get_peer_name (s);
  (void) qsock_abstract_get_peer_port (s);
  (void) qsock_abstract_get_local_port (s);
  (void) qsock_abstract_is_valid (s);
  (void) qsock_abstract_get_pause_mode (s);
}

static void
check_local (Obj *o)
{
  QSockLocal *s = o->obj;
  QSockLocalSocketState state = qsock_local_get_state (s);
  QSockLocalSocketError error = qsock_local_get_error (s);
  gint64 to_write = qsock_iodevice_bytes_to_write (o->obj);

  if (state != 0 && state != 2 && state != 3 && state != 6)
    fail (OBJ_FMT " invalid local state %d", OBJ_ARGS (o), state);
  if (!valid_local_error (error))
    fail (OBJ_FMT " invalid local error %d", OBJ_ARGS (o), error);
  if (state == QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED && to_write != 0 && !o->failed_connect)
    fail (OBJ_FMT " UNCONNECTED with %" G_GINT64_FORMAT " bytes to write", OBJ_ARGS (o), to_write);
  if (state == QSOCK_LOCAL_SOCKET_STATE_CONNECTED && qsock_local_get_socket_descriptor (s) < 0)
    fail (OBJ_FMT " CONNECTED without a descriptor", OBJ_ARGS (o));
  (void) qsock_local_get_server_name (s);
  (void) qsock_local_get_full_server_name (s);
  (void) qsock_local_is_valid (s);
  (void) qsock_local_get_read_buffer_size (s);
  (void) qsock_local_get_socket_options (s);
}

static void
check_tcp_server (Obj *o)
{
  QSockTcpServer *s = o->obj;
  QSockSocketError error = qsock_tcp_server_get_server_error (s);

  if (!valid_socket_error (error))
    fail (OBJ_FMT " invalid server error %d", OBJ_ARGS (o), error);
  if (qsock_tcp_server_get_error_string (s) == NULL)
    fail (OBJ_FMT " error string NULL", OBJ_ARGS (o));
  if (qsock_tcp_server_is_listening (s))
    {
      GInetAddress *address = qsock_tcp_server_get_server_address (s);

      if (qsock_tcp_server_get_socket_descriptor (s) < 0)
        fail (OBJ_FMT " listening without a descriptor", OBJ_ARGS (o));
      if (qsock_tcp_server_get_server_port (s) == 0)
        fail (OBJ_FMT " listening on port 0", OBJ_ARGS (o));
      if (address == NULL)
        fail (OBJ_FMT " listening without an address", OBJ_ARGS (o));
      g_object_unref (address);
    }
  (void) qsock_tcp_server_has_pending_connections (s);
  (void) qsock_tcp_server_get_max_pending_connections (s);
  (void) qsock_tcp_server_get_listen_backlog_size (s);
}

static void
check_local_server (Obj *o)
{
  QSockLocalServer *s = o->obj;
  QSockSocketError error = qsock_local_server_get_server_error (s);

  if (!valid_socket_error (error))
    fail (OBJ_FMT " invalid server error %d", OBJ_ARGS (o), error);
  if (qsock_local_server_get_error_string (s) == NULL)
    fail (OBJ_FMT " error string NULL", OBJ_ARGS (o));
  if (qsock_local_server_is_listening (s))
    {
      if (qsock_local_server_get_socket_descriptor (s) < 0)
        fail (OBJ_FMT " listening without a descriptor", OBJ_ARGS (o));
      if (o->listen_name != NULL && qsock_local_server_get_full_server_name (s) == NULL)
        fail (OBJ_FMT " listening without a full server name", OBJ_ARGS (o));
    }
  (void) qsock_local_server_get_server_name (s);
  (void) qsock_local_server_has_pending_connections (s);
  (void) qsock_local_server_get_max_pending_connections (s);
  (void) qsock_local_server_get_socket_options (s);
}

static void
check_object (Obj *o)
{
  switch (o->kind)
    {
    case K_TCP:
    case K_UDP:
      check_iodevice (o);
      check_abstract (o);
      break;
    case K_LOCAL:
      check_iodevice (o);
      check_local (o);
      break;
    case K_TCP_SERVER:
      check_tcp_server (o);
      break;
    case K_LOCAL_SERVER:
      check_local_server (o);
      break;
    default:
      break;
    }
}

static void
check_all (void)
{
  for (guint i = 0; i < objects->len; i++)
    {
      Obj *o = g_ptr_array_index (objects, i);
      if (!obj_live (o))
        continue;
      check_object (o);
      /* states reached without state-changed (set_socket_descriptor) too */
      if (o->kind == K_TCP || o->kind == K_UDP)
        o->last_state = qsock_abstract_get_state (o->obj);
      else if (o->kind == K_LOCAL)
        o->last_state = qsock_local_get_state (o->obj);
    }
}

/* ---- arguments --------------------------------------------------------- */

#define BUF_SIZE (1 << 20)
static char *buf;               /* BUF_SIZE + 1, for the C forms */
static char *out_data;          /* BUF_SIZE of pattern, for writes */

static gint64
pick_size (void)
{
  static const gint64 sizes[] = { -1, 0, 1, 2, 3, 7, 100, 512, 4096, 65536, BUF_SIZE };
  return PICK (sizes);
}

/* For the calls returning GBytes: anything goes, huge included. */
static gint64
pick_size_any (void)
{
  static const gint64 sizes[] = { -5, -1, 0, 1, 2, 3, 100, 4096, 65536, BUF_SIZE,
                                  (gint64) 1 << 40, G_MAXINT64 };
  return PICK (sizes);
}

static gint64
pick_write_size (void)
{
  static const gint64 sizes[] = { -1, 0, 1, 5, 100, 1400, 4096, 40000, 65536, 300000, BUF_SIZE };
  return PICK (sizes);
}

static int
pick_wait_ms (void)
{
  static const int ms[] = { 0, 0, 1, 5, 10, 20, 50 };
  return PICK (ms);
}

static QSockOpenMode
pick_mode (Obj *o)
{
  static const QSockOpenMode modes[] = {
    QSOCK_OPEN_MODE_READ_WRITE, QSOCK_OPEN_MODE_READ_WRITE, QSOCK_OPEN_MODE_READ_WRITE,
    QSOCK_OPEN_MODE_READ_WRITE, QSOCK_OPEN_MODE_READ_ONLY, QSOCK_OPEN_MODE_WRITE_ONLY,
    QSOCK_OPEN_MODE_READ_WRITE | QSOCK_OPEN_MODE_TEXT,
    QSOCK_OPEN_MODE_READ_WRITE | QSOCK_OPEN_MODE_UNBUFFERED,
    QSOCK_OPEN_MODE_READ_WRITE | QSOCK_OPEN_MODE_APPEND,
    QSOCK_OPEN_MODE_NOT_OPEN,
  };
  QSockOpenMode mode = PICK (modes);

  if (mode == QSOCK_OPEN_MODE_NOT_OPEN)
    o->odd_open = TRUE;
  return mode;
}

/* Where a TCP socket may connect: peers, the library's servers, refusals. */
static void
pick_tcp_target (GInetAddress **address, guint16 *port)
{
  Obj *server;

  switch (rnd (8))
    {
    case 0:
    case 1:
      *address = have_ipv6 && chance (40) ? addr_lo6 : addr_lo4;
      *port = *address == addr_lo6 ? peer.tcp6_port : peer.tcp4_port;
      return;
    case 2:
    case 3:
    case 4:
      server = pick_obj (M_TCP_SERVER);
      if (server != NULL && qsock_tcp_server_is_listening (server->obj))
        {
          GInetAddress *listening = qsock_tcp_server_get_server_address (server->obj);
          gboolean v6 = listening != NULL &&
                        g_inet_address_get_family (listening) == G_SOCKET_FAMILY_IPV6 &&
                        !g_inet_address_get_is_any (listening);
          g_clear_object (&listening);
          *address = v6 ? addr_lo6 : addr_lo4;
          *port = qsock_tcp_server_get_server_port (server->obj);
          return;
        }
      *address = addr_lo4;
      *port = peer.tcp4_port;
      return;
    case 5:
      *address = addr_lo4;
      *port = refusing_port;
      return;
    case 6:
      *address = addr_lo4_other;
      *port = peer.tcp4_port;
      return;
    default:
      *address = PICK (((GInetAddress *[]) { addr_lo4, addr_broadcast, addr_any4, addr_lo6 }));
      *port = PICK (((guint16[]) { 0, 1, refusing_port, peer.tcp4_port }));
      return;
    }
}

static void
pick_udp_target (GInetAddress **address, guint16 *port)
{
  Obj *other;

  switch (rnd (6))
    {
    case 0:
    case 1:
      *address = have_ipv6 && chance (40) ? addr_lo6 : addr_lo4;
      *port = *address == addr_lo6 ? peer.udp6_port : peer.udp4_port;
      return;
    case 2:
    case 3:
      other = pick_obj (M_UDP);
      if (other != NULL && qsock_abstract_get_local_port (other->obj) != 0)
        {
          *address = addr_lo4;
          *port = qsock_abstract_get_local_port (other->obj);
          return;
        }
      *address = addr_lo4;
      *port = peer.udp4_port;
      return;
    case 4:
      *address = addr_lo4;
      *port = udp_dead_port;
      return;
    default:
      *address = PICK (((GInetAddress *[]) { addr_lo4, addr_broadcast, addr_any4, addr_lo6,
                                             addr_mcast4, addr_unavailable }));
      *port = PICK (((guint16[]) { 0, 9, udp_dead_port, peer.udp4_port }));
      return;
    }
}

static const char *
host_string (GInetAddress *address, char **to_free)
{
  switch (rnd (6))
    {
    case 0:
      if (g_inet_address_get_is_loopback (address))
        return "localhost";
      break;
    case 1:
      return chance (50) ? "" : "localhost";
    default:
      break;
    }
  *to_free = g_inet_address_to_string (address);
  return *to_free;
}

/* A name a QSockLocal may connect to: servers of the library, the POSIX
 * peer, a stale socket file, a plain file, nothing, an empty name. */
static const char *
pick_local_target (gboolean *abstract)
{
  Obj *server;

  *abstract = FALSE;
  switch (rnd (8))
    {
    case 0:
    case 1:
    case 2:
    case 3:
      server = pick_obj (M_LOCAL_SERVER);
      if (server != NULL && server->listen_name != NULL)
        {
          *abstract = (qsock_local_server_get_socket_options (server->obj) &
                       QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE) != 0;
          return server->listen_name;
        }
      return peer.unix_path;
    case 4:
      return peer.unix_path;
    case 5:
      return stale_path;
    case 6:
      return PICK (((const char *[]) { plain_path, missing_path, "", "peer.sock", "no/such/dir/x" }));
    default:
      return missing_path;
    }
}

/* A descriptor for set_socket_descriptor(): bad ones mostly, sometimes a
 * real socket of a matching or a wrong kind. *@owned: the caller must
 * close it if the call refuses it. */
static int
pick_descriptor (Kind kind, gboolean *owned, const char **what)
{
  int pair[2];
  int fd;

  *owned = TRUE;
  switch (rnd (9))
    {
    case 0:
      *owned = FALSE;
      *what = "-1";
      return -1;
    case 1:
      *owned = FALSE;
      *what = "-5";
      return -5;
    case 2:
      *owned = FALSE;
      *what = "999999";
      return 999999;
    case 3:
      *what = "/dev/null";
      return open ("/dev/null", O_RDWR | O_CLOEXEC);
    case 4:
      *what = "socketpair";
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        return -1;
      /* the other end written to once, then gone */
      if (chance (50) && write (pair[1], "pair\n", 5) < 0)
        {
        }
      close (pair[1]);
      return pair[0];
    case 5:
      {
        struct sockaddr_storage ss;
        socklen_t len;
        int family = have_ipv6 && chance (30) ? AF_INET6 : AF_INET;

        *what = "tcp client to peer";
        len = make_inet (family, family == AF_INET ? peer.tcp4_port : peer.tcp6_port, &ss);
        fd = socket (family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect (fd, (struct sockaddr *) &ss, len) != 0)
          {
            close (fd);
            return -1;
          }
        return fd;
      }
    case 6:
      *what = "udp socket";
      return inet_socket (AF_INET, SOCK_DGRAM, -1);
    case 7:
      *what = "listening tcp";
      return inet_socket (chance (30) && have_ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 5);
    default:
      {
        char *path = g_strdup_printf ("%s/fd%u.sock", tmp_dir, name_serial++);
        *what = "listening unix";
        fd = unix_socket_at (path, 5);
        g_free (path);
        return fd;
      }
    }
}

/* After a refused descriptor: close it if it is still the one we made. */
static void
close_refused (int fd, const struct stat *before)
{
  struct stat now;

  if (fd >= 0 && fstat (fd, &now) == 0 && now.st_ino == before->st_ino && now.st_dev == before->st_dev)
    close (fd);
}

/* ---- reading, with the checks that need the result ------------------- */

static void
check_bytes_result (Obj *o, const char *op, gint64 max, GBytes *bytes)
{
  gsize size;

  if (bytes == NULL)
    fail (OBJ_FMT " %s(%" G_GINT64_FORMAT ") returned NULL", OBJ_ARGS (o), op, max);
  size = g_bytes_get_size (bytes);
  if (max >= 0 && (gint64) size > max)
    fail (OBJ_FMT " %s(%" G_GINT64_FORMAT ") returned %" G_GSIZE_FORMAT " bytes", OBJ_ARGS (o), op, max, size);
}

static void
check_line (Obj *o, const char *op, const char *data, gint64 n, gint64 max)
{
  const char *nl;

  if (n <= 0)
    return;
  if (max > 0 && n > max - 1)
    fail (OBJ_FMT " %s(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT " bytes, more than max - 1",
          OBJ_ARGS (o), op, max, n);
  nl = memchr (data, '\n', n);
  if (nl != NULL && nl != data + n - 1)
    fail (OBJ_FMT " %s returned a '\\n' before its end (at %" G_GSSIZE_FORMAT " of %" G_GINT64_FORMAT ")",
          OBJ_ARGS (o), op, (gssize) (nl - data), n);
}

static gboolean
udp_transaction_read_avoided (Obj *o, gpointer d)
{
  return o->kind == K_UDP && AVOID (KB_UDP_TRANSACTION_READ) && qsock_iodevice_is_transaction_started (d);
}

static void
io_do_random_read (Obj *o, gpointer d, const char *why)
{
  gint64 max, r;
  GBytes *bytes;

  if (udp_transaction_read_avoided (o, d))
    return;
  switch (rnd (4))
    {
    case 0:
      CALL (o, "read_all", bytes = qsock_iodevice_read_all (d));
      check_bytes_result (o, "read_all", -1, bytes);
      trace ("%s " OBJ_FMT " read_all -> %" G_GSIZE_FORMAT, why, OBJ_ARGS (o), g_bytes_get_size (bytes));
      g_bytes_unref (bytes);
      break;
    case 1:
      max = pick_size ();
      CALL (o, "read", r = qsock_iodevice_read (d, buf, max));
      trace ("%s " OBJ_FMT " read(%" G_GINT64_FORMAT ") -> %" G_GINT64_FORMAT, why, OBJ_ARGS (o), max, r);
      if (r < -1 || (max >= 0 && r > max) || (max < 0 && r != -1))
        fail (OBJ_FMT " read(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      break;
    case 2:
      max = PICK (((gint64[]) { 0, 2, 80, 4096 }));
      CALL (o, "read_line_bytes", bytes = qsock_iodevice_read_line_bytes (d, max));
      check_bytes_result (o, "read_line_bytes", -1, bytes);
      check_line (o, "read_line_bytes", g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), max);
      trace ("%s " OBJ_FMT " read_line_bytes(%" G_GINT64_FORMAT ") -> %" G_GSIZE_FORMAT, why, OBJ_ARGS (o),
             max, g_bytes_get_size (bytes));
      g_bytes_unref (bytes);
      break;
    default:
      if (o->kind == K_UDP && !o->plain &&
          qsock_abstract_get_state (d) != QSOCK_SOCKET_STATE_UNCONNECTED)
        {
          GInetAddress *from = NULL;
          guint16 port = 0;
          max = PICK (((gint64[]) { 0, 1, 100, 65536 }));
          CALL (o, "read_datagram", r = qsock_udp_read_datagram (d, buf, max, &from, &port));
          trace ("%s " OBJ_FMT " read_datagram(%" G_GINT64_FORMAT ") -> %" G_GINT64_FORMAT, why,
                 OBJ_ARGS (o), max, r);
          if (r < -1 || r > max)
            fail (OBJ_FMT " read_datagram(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
          g_clear_object (&from);
        }
      else
        {
          max = PICK (((gint64[]) { 1, 100, 65536 }));
          CALL (o, "skip", r = qsock_iodevice_skip (d, max));
          trace ("%s " OBJ_FMT " skip(%" G_GINT64_FORMAT ") -> %" G_GINT64_FORMAT, why, OBJ_ARGS (o), max, r);
          if (r < -1 || r > max)
            fail (OBJ_FMT " skip(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
        }
      break;
    }
}

/* ---- async operations -------------------------------------------------- */

typedef enum
{
  A_CONNECT_TO_HOST,
  A_ABSTRACT_WAIT_DISCONNECTED,
  A_READ_LINE,
  A_READ_EXACTLY,
  A_FLUSH,
  A_LOCAL_CONNECT,
  A_LOCAL_WAIT_DISCONNECTED,
  A_TCP_ACCEPT,
  A_LOCAL_ACCEPT,
  A_UDP_RECEIVE,
  N_ASYNC
} AsyncKind;

static const char *async_names[] = {
  "connect_to_host_async", "wait_for_disconnected_async", "read_line_async",
  "read_exactly_async", "flush_async", "connect_to_server_async",
  "wait_for_disconnected_async", "accept_async", "accept_async", "receive_datagram_async",
};

typedef struct
{
  guint         id;
  AsyncKind     kind;
  Obj          *o;
  gpointer      obj;            /* a reference, until the callback */
  GCancellable *cancellable;
  gboolean      starting;
  gboolean      done;
  guint64       start_step;
} AsyncOp;

static GPtrArray *async_ops;    /* every AsyncOp, by id */
static guint n_async_pending;

static void
async_done (GObject *source, GAsyncResult *result, gpointer data)
{
  AsyncOp *op = data;
  GError *error = NULL;
  gpointer ret = NULL;
  gboolean ok = FALSE, pointer_result = TRUE;

  if (op->done)
    fail ("async op %u (%s on " OBJ_FMT ") completed twice", op->id, async_names[op->kind], OBJ_ARGS (op->o));
  /* Only a handler iterating the context inside the call may do that. */
  if (op->starting && nested_iterations == 0)
    fail ("async op %u (%s on " OBJ_FMT ") completed inside its _async call", op->id,
          async_names[op->kind], OBJ_ARGS (op->o));
  if (source != op->obj)
    fail ("async op %u: callback source %p is not the object %p", op->id, (void *) source, op->obj);
  op->done = TRUE;
  n_async_pending--;
  if (op->kind == A_CONNECT_TO_HOST)
    op->o->connects_pending--;
  if (op->kind == A_READ_LINE || op->kind == A_READ_EXACTLY)
    op->o->reads_pending--;
  op->o->ops_pending--;

  switch (op->kind)
    {
    case A_CONNECT_TO_HOST:
      ok = qsock_abstract_connect_to_host_finish (op->obj, result, &error);
      pointer_result = FALSE;
      break;
    case A_ABSTRACT_WAIT_DISCONNECTED:
      ok = qsock_abstract_wait_for_disconnected_finish (op->obj, result, &error);
      pointer_result = FALSE;
      break;
    case A_READ_LINE:
      ret = qsock_iodevice_read_line_finish (op->obj, result, &error);
      break;
    case A_READ_EXACTLY:
      ret = qsock_iodevice_read_exactly_finish (op->obj, result, &error);
      break;
    case A_FLUSH:
      ok = qsock_iodevice_flush_finish (op->obj, result, &error);
      pointer_result = FALSE;
      break;
    case A_LOCAL_CONNECT:
      ok = qsock_local_connect_to_server_finish (op->obj, result, &error);
      pointer_result = FALSE;
      break;
    case A_LOCAL_WAIT_DISCONNECTED:
      ok = qsock_local_wait_for_disconnected_finish (op->obj, result, &error);
      pointer_result = FALSE;
      break;
    case A_TCP_ACCEPT:
      ret = qsock_tcp_server_accept_finish (op->obj, result, &error);
      break;
    case A_LOCAL_ACCEPT:
      ret = qsock_local_server_accept_finish (op->obj, result, &error);
      break;
    case A_UDP_RECEIVE:
      ret = qsock_udp_receive_datagram_finish (op->obj, result, &error);
      break;
    default:
      g_assert_not_reached ();
    }

  if (pointer_result ? (ret == NULL) == (error == NULL) : ok == (error != NULL))
    fail ("async op %u (%s on " OBJ_FMT "): result %s with error %s", op->id, async_names[op->kind],
          OBJ_ARGS (op->o), pointer_result ? (ret ? "set" : "NULL") : (ok ? "TRUE" : "FALSE"),
          error ? error->message : "NULL");
  trace ("  [async %u] %s on " OBJ_FMT " done: %s", op->id, async_names[op->kind], OBJ_ARGS (op->o),
         error ? error->message : "ok");

  if (ret != NULL)
    {
      if (op->kind == A_READ_LINE || op->kind == A_READ_EXACTLY)
        g_bytes_unref (ret);
      else if (op->kind == A_UDP_RECEIVE)
        g_object_unref (ret);
      else if (!g_atomic_int_get (&in_teardown) && n_live < MAX_LIVE * 2)
        obj_adopt (ret, op->kind == A_TCP_ACCEPT ? K_TCP : K_LOCAL, "  [accepted]");
      else
        g_object_unref (ret);
    }
  g_clear_error (&error);
  g_clear_object (&op->cancellable);
  g_clear_object (&op->obj);
  if (!g_atomic_int_get (&in_teardown))
    handler_mischief (op->o, source, "async callback");
}

/* Cancelling from another thread, after a short while. */
typedef struct
{
  GCancellable *cancellable;
  gulong        delay_us;
} CancelJob;

static GAsyncQueue *cancel_queue;
static GThread *cancel_thread;

static gpointer
canceller_thread (gpointer data)
{
  for (;;)
    {
      CancelJob *job = g_async_queue_pop (cancel_queue);

      if (job->cancellable == NULL)
        {
          g_free (job);
          return NULL;
        }
      g_usleep (job->delay_us);
      g_cancellable_cancel (job->cancellable);
      g_object_unref (job->cancellable);
      g_free (job);
    }
}

static gboolean
cancel_later (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
cancel_op (AsyncOp *op, const char *how)
{
  trace ("cancel async %u (%s on " OBJ_FMT ") %s", op->id, async_names[op->kind], OBJ_ARGS (op->o), how);
  if (g_str_equal (how, "now"))
    g_cancellable_cancel (op->cancellable);
  else if (g_str_equal (how, "later"))
    {
      GSource *source = g_timeout_source_new (rnd (20));
      g_source_set_callback (source, cancel_later, g_object_ref (op->cancellable), g_object_unref);
      g_source_attach (source, NULL);
      g_source_unref (source);
    }
  else
    {
      CancelJob *job = g_new0 (CancelJob, 1);
      job->cancellable = g_object_ref (op->cancellable);
      job->delay_us = rnd (3000);
      g_async_queue_push (cancel_queue, job);
    }
}

static void
start_async (Obj *o, AsyncKind kind)
{
  AsyncOp *op = g_new0 (AsyncOp, 1);
  gpointer d = o->obj;
  char detail[160] = "";

  op->id = async_ops->len;
  op->start_step = cur_step;
  op->kind = kind;
  op->o = o;
  op->obj = g_object_ref (d);
  op->cancellable = chance (80) ? g_cancellable_new () : NULL;
  if (op->cancellable != NULL && chance (10))
    g_cancellable_cancel (op->cancellable);   /* cancelled before it starts */
  g_ptr_array_add (async_ops, op);
  n_async_pending++;
  if (kind == A_CONNECT_TO_HOST)
    o->connects_pending++;
  if (kind == A_READ_LINE || kind == A_READ_EXACTLY)
    o->reads_pending++;
  o->ops_pending++;

  op->starting = TRUE;
  async_starting++;
  switch (kind)
    {
    case A_CONNECT_TO_HOST:
      {
        GInetAddress *address;
        guint16 port;
        char *to_free = NULL;
        const char *host;
        QSockOpenMode mode = pick_mode (o);
        QSockNetworkLayerProtocol protocol = PICK (((QSockNetworkLayerProtocol[]) {
          QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP, QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP,
          QSOCK_NETWORK_LAYER_PROTOCOL_IPV4, QSOCK_NETWORK_LAYER_PROTOCOL_IPV6 }));

        if (o->kind == K_UDP)
          pick_udp_target (&address, &port);
        else
          pick_tcp_target (&address, &port);
        host = host_string (address, &to_free);
        g_snprintf (detail, sizeof detail, "(\"%s\", %u, mode 0x%x, proto %d)", host, port, mode, protocol);
        CALL (o, "connect_to_host_async",
              qsock_abstract_connect_to_host_async (d, host, port, mode, protocol, op->cancellable,
                                                    async_done, op));
        g_free (to_free);
      }
      break;
    case A_ABSTRACT_WAIT_DISCONNECTED:
      CALL (o, "wait_for_disconnected_async",
            qsock_abstract_wait_for_disconnected_async (d, op->cancellable, async_done, op));
      break;
    case A_READ_LINE:
      {
        gint64 max = PICK (((gint64[]) { 0, 0, 2, 3, 10, 80, 100000, 1 }));
        if (max == 1 && AVOID (KB_ASYNC_BAD_SIZE))
          max = 0;
        g_snprintf (detail, sizeof detail, "(%" G_GINT64_FORMAT ")", max);
        CALL (o, "read_line_async",
              qsock_iodevice_read_line_async (d, max, op->cancellable, async_done, op));
      }
      break;
    case A_READ_EXACTLY:
      {
        gint64 size = PICK (((gint64[]) { 0, 1, 5, 100, 4096, 200000, -1 }));
        if (size == -1 && AVOID (KB_ASYNC_BAD_SIZE))
          size = 1;
        g_snprintf (detail, sizeof detail, "(%" G_GINT64_FORMAT ")", size);
        CALL (o, "read_exactly_async",
              qsock_iodevice_read_exactly_async (d, size, op->cancellable, async_done, op));
      }
      break;
    case A_FLUSH:
      CALL (o, "flush_async", qsock_iodevice_flush_async (d, op->cancellable, async_done, op));
      break;
    case A_LOCAL_CONNECT:
      {
        gboolean abstract;
        const char *name = pick_local_target (&abstract);
        QSockOpenMode mode = pick_mode (o);
        if (abstract && qsock_local_get_state (d) == QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED)
          qsock_local_set_socket_options (d, QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE);
        g_snprintf (detail, sizeof detail, "(\"%s\", mode 0x%x)", name, mode);
        CALL (o, "connect_to_server_async",
              qsock_local_connect_to_server_async (d, name, mode, op->cancellable, async_done, op));
      }
      break;
    case A_LOCAL_WAIT_DISCONNECTED:
      CALL (o, "wait_for_disconnected_async",
            qsock_local_wait_for_disconnected_async (d, op->cancellable, async_done, op));
      break;
    case A_TCP_ACCEPT:
      CALL (o, "accept_async", qsock_tcp_server_accept_async (d, op->cancellable, async_done, op));
      break;
    case A_LOCAL_ACCEPT:
      CALL (o, "accept_async", qsock_local_server_accept_async (d, op->cancellable, async_done, op));
      break;
    case A_UDP_RECEIVE:
      CALL (o, "receive_datagram_async",
            qsock_udp_receive_datagram_async (d, op->cancellable, async_done, op));
      break;
    default:
      g_assert_not_reached ();
    }
  op->starting = FALSE;
  async_starting--;
  trace (OBJ_FMT " %s%s -> async %u%s", OBJ_ARGS (o), async_names[kind], detail, op->id,
         op->cancellable == NULL ? " (no cancellable)" :
         g_cancellable_is_cancelled (op->cancellable) ? " (pre-cancelled)" : "");

  if (op->cancellable != NULL && !op->done && chance (30))
    cancel_op (op, PICK (((const char *[]) { "now", "now", "later", "later", "from a thread" })));
}

static gboolean
connected (Obj *o)
{
  if (o->kind == K_LOCAL)
    return qsock_local_get_state (o->obj) == QSOCK_LOCAL_SOCKET_STATE_CONNECTED;
  return qsock_abstract_get_state (o->obj) == QSOCK_SOCKET_STATE_CONNECTED;
}

static void
op_async (void)
{
  Obj *o = pick_obj (M_ANY);

  if (o == NULL)
    return;
  /* UDP too: a connected UDP socket can drop to UNCONNECTED on a read
   * error, with no read-channel-finished. */
  if ((o->kind == K_TCP || o->kind == K_UDP || o->kind == K_LOCAL) && (!connected (o) || o->kind == K_UDP) &&
      AVOID (KB_READ_ASYNC_CLOSE_HANG))
    {
      /* no read_*_async here: connect or wait for a disconnect instead */
      if (o->kind == K_LOCAL)
        start_async (o, chance (70) ? A_LOCAL_CONNECT : A_LOCAL_WAIT_DISCONNECTED);
      else if (o->kind == K_UDP && !o->plain && chance (30))
        start_async (o, A_UDP_RECEIVE);
      else
        start_async (o, PICK (((AsyncKind[]) { A_CONNECT_TO_HOST, A_CONNECT_TO_HOST, A_ABSTRACT_WAIT_DISCONNECTED,
                                               AVOID (KB_FLUSH_ASYNC_FAILED_CONNECT) ? A_CONNECT_TO_HOST : A_FLUSH })));
      return;
    }
  switch (o->kind)
    {
    case K_TCP:
    case K_UDP:
      {
        AsyncKind kinds[] = { A_CONNECT_TO_HOST, A_CONNECT_TO_HOST, A_ABSTRACT_WAIT_DISCONNECTED,
                              A_READ_LINE, A_READ_EXACTLY, A_FLUSH, A_UDP_RECEIVE };
        AsyncKind kind = PICK (kinds);
        if (kind == A_UDP_RECEIVE && (o->kind != K_UDP || o->plain))
          kind = A_READ_LINE;
        if (kind == A_FLUSH && !connected (o) && AVOID (KB_FLUSH_ASYNC_FAILED_CONNECT))
          kind = A_CONNECT_TO_HOST;
        start_async (o, kind);
      }
      break;
    case K_LOCAL:
      start_async (o, PICK (((AsyncKind[]) { A_LOCAL_CONNECT, A_LOCAL_CONNECT, A_LOCAL_WAIT_DISCONNECTED,
                                             A_READ_LINE, A_READ_EXACTLY, A_FLUSH })));
      break;
    case K_TCP_SERVER:
      start_async (o, A_TCP_ACCEPT);
      break;
    case K_LOCAL_SERVER:
      start_async (o, A_LOCAL_ACCEPT);
      break;
    default:
      break;
    }
}

static void
op_cancel (void)
{
  AsyncOp *candidates[64];
  guint n = 0;

  for (guint i = async_ops->len; i > 0 && n < G_N_ELEMENTS (candidates); i--)
    {
      AsyncOp *op = g_ptr_array_index (async_ops, i - 1);
      if (!op->done && op->cancellable != NULL)
        candidates[n++] = op;
    }
  if (n > 0)
    cancel_op (candidates[rnd (n)], PICK (((const char *[]) { "now", "later", "from a thread" })));
}

/* ---- the operations ---------------------------------------------------- */

static gboolean
wait_avoided (Obj *o)
{
  /* Every wait_for_*() in HOST_LOOKUP/CONNECTING waits for the connection
   * first, and its timeout leaves a connect_to_host_async() pending. */
  if (o->connects_pending > 0 && AVOID (KB_CONNECT_ASYNC_WAIT_TIMEOUT))
    return TRUE;
  if (o->kind == K_UDP && AVOID (KB_WAIT_SPIN_UDP))
    return TRUE;
  if (o->kind == K_TCP && AVOID (KB_WAIT_SPIN_TCP_FULL) && qsock_abstract_get_read_buffer_size (o->obj) != 0)
    return TRUE;
  return FALSE;
}

/* A wait given @ms must return about then: spinning past it is a bug. */
static void
check_wait_time (Obj *o, const char *op, int ms, gint64 start_us)
{
  gint64 took_ms = (g_get_monotonic_time () - start_us) / 1000;
  gint64 allowed_ms = ms + (gint64) (1500 * time_scale);

  if (took_ms > allowed_ms)
    fail (OBJ_FMT " %s(%d) took %" G_GINT64_FORMAT " ms", OBJ_ARGS (o), op, ms, took_ms);
}

static void
op_new (void)
{
  static const Kind kinds[] = { K_TCP, K_TCP, K_TCP, K_UDP, K_UDP, K_LOCAL, K_LOCAL, K_LOCAL,
                                K_TCP_SERVER, K_LOCAL_SERVER };

  if (n_live >= MAX_LIVE)
    {
      obj_release (pick_obj (M_ANY), "too many:");
      return;
    }
  obj_new (PICK (kinds));
}

static void
op_release (void)
{
  obj_release (pick_obj (M_ANY), "");
}

static gboolean
iterate_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
iterate_for (guint ms)
{
  gboolean done = FALSE;
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, iterate_timeout, &done, NULL);
  g_source_attach (source, NULL);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (source);
  g_source_unref (source);
}

static void
op_iterate (void)
{
  guint ms = PICK (((guint[]) { 0, 1, 2, 5, 10, 20, 30 }));

  trace ("iterate %u ms", ms);
  iterate_for (ms);
}

/* The QSockIODevice calls, on any socket. */
static void
op_io (void)
{
  Obj *o = pick_obj (M_IO);
  gpointer d;
  gint64 max, r, r2;
  GBytes *bytes, *bytes2;
  gboolean ok;
  char c;

  if (o == NULL)
    {
      op_new ();
      return;
    }
  d = o->obj;

  switch (rnd (26))
    {
    case 0:
    case 1:
      io_do_random_read (o, d, "");
      break;
    case 2:
      if (udp_transaction_read_avoided (o, d))
        break;
      max = pick_size_any ();
      CALL (o, "read_bytes", bytes = qsock_iodevice_read_bytes (d, max));
      trace (OBJ_FMT " read_bytes(%" G_GINT64_FORMAT ") -> %" G_GSIZE_FORMAT, OBJ_ARGS (o), max,
             g_bytes_get_size (bytes));
      check_bytes_result (o, "read_bytes", max, bytes);
      g_bytes_unref (bytes);
      break;
    case 3:
      if (udp_transaction_read_avoided (o, d))
        break;
      max = PICK (((gint64[]) { -1, 0, 1, 2, 3, 80, 4096, BUF_SIZE }));
      CALL (o, "read_line", r = qsock_iodevice_read_line (d, buf, max));
      trace (OBJ_FMT " read_line(%" G_GINT64_FORMAT ") -> %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      if (max < 2 && r != -1)
        fail (OBJ_FMT " read_line(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      if (r >= 0 && buf[r] != '\0')
        fail (OBJ_FMT " read_line(%" G_GINT64_FORMAT ") did not terminate its %" G_GINT64_FORMAT " bytes",
              OBJ_ARGS (o), max, r);
      check_line (o, "read_line", buf, r, max);
      break;
    case 4:
      if (udp_transaction_read_avoided (o, d))
        break;
      max = pick_size_any ();
      CALL (o, "read_line_bytes", bytes = qsock_iodevice_read_line_bytes (d, max));
      trace (OBJ_FMT " read_line_bytes(%" G_GINT64_FORMAT ") -> %" G_GSIZE_FORMAT, OBJ_ARGS (o), max,
             g_bytes_get_size (bytes));
      check_bytes_result (o, "read_line_bytes", -1, bytes);
      check_line (o, "read_line_bytes", g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), max);
      g_bytes_unref (bytes);
      break;
    case 5:
      (void) qsock_iodevice_can_read_line (d);
      trace (OBJ_FMT " can_read_line", OBJ_ARGS (o));
      break;
    case 6:
      /* peek, then read: the read starts with what peek showed (TCP and
       * local; UDP peeks at datagrams) */
      if (o->kind == K_UDP)
        break;
      max = pick_size ();
      CALL (o, "peek", r = qsock_iodevice_peek (d, buf, max));
      trace (OBJ_FMT " peek(%" G_GINT64_FORMAT ") -> %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      if (r < -1 || (max >= 0 && r > max) || (max < 0 && r != -1))
        fail (OBJ_FMT " peek(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      if (r > 0 && obj_live (o) && !qsock_iodevice_is_text_mode_enabled (d))
        {
          g_autofree char *peeked = g_memdup2 (buf, r);
          CALL (o, "read", r2 = qsock_iodevice_read (d, buf, r));
          trace (OBJ_FMT " read(%" G_GINT64_FORMAT ") -> %" G_GINT64_FORMAT, OBJ_ARGS (o), r, r2);
          if (r2 != r || memcmp (peeked, buf, r) != 0)
            fail (OBJ_FMT " read(%" G_GINT64_FORMAT ") after peek returned %" G_GINT64_FORMAT
                  " bytes that differ from the peeked ones", OBJ_ARGS (o), r, r2);
        }
      break;
    case 7:
      max = pick_size_any ();
      CALL (o, "peek_bytes", bytes = qsock_iodevice_peek_bytes (d, max));
      trace (OBJ_FMT " peek_bytes(%" G_GINT64_FORMAT ") -> %" G_GSIZE_FORMAT, OBJ_ARGS (o), max,
             g_bytes_get_size (bytes));
      check_bytes_result (o, "peek_bytes", max, bytes);
      g_bytes_unref (bytes);
      break;
    case 8:
      if (udp_transaction_read_avoided (o, d))
        break;
      max = pick_size_any ();
      CALL (o, "skip", r = qsock_iodevice_skip (d, max));
      trace (OBJ_FMT " skip(%" G_GINT64_FORMAT ") -> %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      if (r < -1 || (max >= 0 && r > max))
        fail (OBJ_FMT " skip(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      break;
    case 9:
      /* get_char, unget_char, get_char: the same byte again */
      if (udp_transaction_read_avoided (o, d))
        break;
      CALL (o, "get_char", ok = qsock_iodevice_get_char (d, &c));
      trace (OBJ_FMT " get_char -> %d", OBJ_ARGS (o), ok);
      if (ok && obj_live (o) && o->kind != K_UDP && !qsock_iodevice_is_text_mode_enabled (d) &&
          !qsock_iodevice_is_transaction_started (d) && chance (70))
        {
          char again = ~c;
          gint64 before = qsock_iodevice_bytes_available (d);
          CALL (o, "unget_char", qsock_iodevice_unget_char (d, c));
          if (obj_live (o) && qsock_iodevice_bytes_available (d) != before + 1)
            fail (OBJ_FMT " unget_char: bytes_available %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT,
                  OBJ_ARGS (o), before, qsock_iodevice_bytes_available (d));
          CALL (o, "get_char", ok = qsock_iodevice_get_char (d, &again));
          trace (OBJ_FMT " unget_char, get_char -> %d", OBJ_ARGS (o), ok);
          if (!ok || again != c)
            fail (OBJ_FMT " get_char after unget_char(0x%02x) gave %d/0x%02x", OBJ_ARGS (o),
                  (guchar) c, ok, (guchar) again);
        }
      break;
    case 10:
      c = (char) rnd (256);
      CALL (o, "unget_char", qsock_iodevice_unget_char (d, c));
      trace (OBJ_FMT " unget_char(0x%02x)", OBJ_ARGS (o), (guchar) c);
      break;
    case 11:
      CALL (o, "put_char", ok = qsock_iodevice_put_char (d, 'p'));
      trace (OBJ_FMT " put_char -> %d", OBJ_ARGS (o), ok);
      break;
    case 12:
    case 13:
    case 14:
      max = pick_write_size ();
      CALL (o, "write", r = qsock_iodevice_write (d, out_data, max));
      trace (OBJ_FMT " write(%" G_GINT64_FORMAT ") -> %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      if (r < -1 || r > MAX (max, 0) || (max < 0 && r != -1))
        fail (OBJ_FMT " write(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      break;
    case 15:
      max = MAX (pick_write_size (), 0);
      bytes = g_bytes_new_static (out_data, max);
      CALL (o, "write_bytes", r = qsock_iodevice_write_bytes (d, bytes));
      trace (OBJ_FMT " write_bytes(%" G_GINT64_FORMAT ") -> %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      if (r < -1 || r > max)
        fail (OBJ_FMT " write_bytes(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
      g_bytes_unref (bytes);
      break;
    case 16:
      ok = chance (50);
      CALL (o, "set_text_mode_enabled", qsock_iodevice_set_text_mode_enabled (d, ok));
      trace (OBJ_FMT " set_text_mode_enabled(%d)", OBJ_ARGS (o), ok);
      break;
    case 17:
      {
        QSockOpenMode mode = pick_mode (o);
        if (o->reads_pending > 0 && AVOID (KB_READ_ASYNC_CLOSE_HANG))
          break;
        CALL (o, "open", ok = qsock_iodevice_open (d, mode));
        trace (OBJ_FMT " open(0x%x) -> %d", OBJ_ARGS (o), mode, ok);
      }
      break;
    case 18:
      o->odd_open = TRUE;
      trace (OBJ_FMT " close", OBJ_ARGS (o));
      CALL (o, "close", qsock_iodevice_close (d));
      break;
    case 19:
      {
        int ms = pick_wait_ms ();
        gint64 start = g_get_monotonic_time ();
        if (wait_avoided (o))
          break;
        trace (OBJ_FMT " wait_for_ready_read(%d) ...", OBJ_ARGS (o), ms);
        CALL (o, "wait_for_ready_read", ok = qsock_iodevice_wait_for_ready_read (d, ms));
        trace (OBJ_FMT " wait_for_ready_read(%d) -> %d", OBJ_ARGS (o), ms, ok);
        check_wait_time (o, "wait_for_ready_read", ms, start);
      }
      break;
    case 20:
      {
        int ms = pick_wait_ms ();
        gint64 start = g_get_monotonic_time ();
        if (wait_avoided (o))
          break;
        trace (OBJ_FMT " wait_for_bytes_written(%d) ...", OBJ_ARGS (o), ms);
        CALL (o, "wait_for_bytes_written", ok = qsock_iodevice_wait_for_bytes_written (d, ms));
        trace (OBJ_FMT " wait_for_bytes_written(%d) -> %d", OBJ_ARGS (o), ms, ok);
        check_wait_time (o, "wait_for_bytes_written", ms, start);
      }
      break;
    case 21:
      if (o->kind == K_LOCAL && AVOID (KB_LOCAL_TRANSACTION_ABORT))
        break;
      CALL (o, "start_transaction", qsock_iodevice_start_transaction (d));
      trace (OBJ_FMT " start_transaction", OBJ_ARGS (o));
      break;
    case 22:
      CALL (o, "commit_transaction", qsock_iodevice_commit_transaction (d));
      trace (OBJ_FMT " commit_transaction", OBJ_ARGS (o));
      break;
    case 23:
      CALL (o, "rollback_transaction", qsock_iodevice_rollback_transaction (d));
      trace (OBJ_FMT " rollback_transaction", OBJ_ARGS (o));
      break;
    case 24:
      /* A transaction read, rolled back, reads the same bytes again (on
       * UDP: the same datagram). */
      if ((o->kind == K_UDP && AVOID (KB_UDP_TRANSACTION_READ)) || qsock_iodevice_is_transaction_started (d) ||
          (o->kind == K_LOCAL && AVOID (KB_LOCAL_TRANSACTION_ABORT)))
        break;
      max = PICK (((gint64[]) { 1, 10, 4096, 100000 }));
      CALL (o, "start_transaction", qsock_iodevice_start_transaction (d));
      if (!obj_live (o))
        break;
      CALL (o, "read_bytes", bytes = qsock_iodevice_read_bytes (d, max));
      if (!obj_live (o))
        {
          g_bytes_unref (bytes);
          break;
        }
      CALL (o, "rollback_transaction", qsock_iodevice_rollback_transaction (d));
      if (!obj_live (o))
        {
          g_bytes_unref (bytes);
          break;
        }
      CALL (o, "read_bytes", bytes2 = qsock_iodevice_read_bytes (d, g_bytes_get_size (bytes)));
      trace (OBJ_FMT " transaction read(%" G_GINT64_FORMAT ") -> %" G_GSIZE_FORMAT ", rollback, read -> %"
             G_GSIZE_FORMAT, OBJ_ARGS (o), max, g_bytes_get_size (bytes), g_bytes_get_size (bytes2));
      if (!g_bytes_equal (bytes, bytes2) && !qsock_iodevice_is_text_mode_enabled (d))
        fail (OBJ_FMT " the bytes read again after rollback_transaction() differ (%" G_GSIZE_FORMAT
              " then %" G_GSIZE_FORMAT ")", OBJ_ARGS (o), g_bytes_get_size (bytes), g_bytes_get_size (bytes2));
      g_bytes_unref (bytes);
      g_bytes_unref (bytes2);
      break;
    default:
      (void) qsock_iodevice_at_end (d);
      (void) qsock_iodevice_is_transaction_started (d);
      trace (OBJ_FMT " getters", OBJ_ARGS (o));
      break;
    }
}

static gboolean
sockopt_value_ok (QSockSocketOption option)
{
  return option <= QSOCK_SOCKET_OPTION_PATH_MTU;
}

/* The QSockAbstract calls, on TCP and UDP sockets. */
static void
op_abstract (void)
{
  Obj *o = pick_obj (M_ABSTRACT);
  gpointer s;
  gboolean ok;

  if (o == NULL)
    {
      obj_new (chance (60) ? K_TCP : K_UDP);
      return;
    }
  s = o->obj;

  switch (rnd (20))
    {
    case 0:
    case 1:
    case 2:
      {
        GInetAddress *address;
        guint16 port;
        char *to_free = NULL;
        const char *host;
        QSockOpenMode mode = pick_mode (o);
        QSockNetworkLayerProtocol protocol = PICK (((QSockNetworkLayerProtocol[]) {
          QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP, QSOCK_NETWORK_LAYER_PROTOCOL_ANY_IP,
          QSOCK_NETWORK_LAYER_PROTOCOL_IPV4, QSOCK_NETWORK_LAYER_PROTOCOL_IPV6,
          QSOCK_NETWORK_LAYER_PROTOCOL_UNKNOWN }));

        if (o->kind == K_UDP)
          pick_udp_target (&address, &port);
        else
          pick_tcp_target (&address, &port);
        host = host_string (address, &to_free);
        trace (OBJ_FMT " connect_to_host(\"%s\", %u, 0x%x, %d)", OBJ_ARGS (o), host, port, mode, protocol);
        CALL (o, "connect_to_host", qsock_abstract_connect_to_host (s, host, port, mode, protocol));
        g_free (to_free);
      }
      break;
    case 3:
    case 4:
      {
        GInetAddress *address;
        guint16 port;
        QSockOpenMode mode = pick_mode (o);
        char *text;

        if (o->kind == K_UDP)
          pick_udp_target (&address, &port);
        else
          pick_tcp_target (&address, &port);
        text = g_inet_address_to_string (address);
        trace (OBJ_FMT " connect_to_address(%s, %u, 0x%x)", OBJ_ARGS (o), text, port, mode);
        g_free (text);
        CALL (o, "connect_to_address", qsock_abstract_connect_to_address (s, address, port, mode));
      }
      break;
    case 5:
      trace (OBJ_FMT " disconnect_from_host", OBJ_ARGS (o));
      CALL (o, "disconnect_from_host", qsock_abstract_disconnect_from_host (s));
      break;
    case 6:
      trace (OBJ_FMT " abort", OBJ_ARGS (o));
      CALL (o, "abort", qsock_abstract_abort (s));
      if (obj_live (o) && qsock_abstract_get_state (s) == QSOCK_SOCKET_STATE_UNCONNECTED &&
          qsock_iodevice_bytes_to_write (s) != 0)
        fail (OBJ_FMT " %" G_GINT64_FORMAT " bytes to write after abort()", OBJ_ARGS (o),
              qsock_iodevice_bytes_to_write (s));
      break;
    case 7:
      CALL (o, "flush", ok = qsock_abstract_flush (s));
      trace (OBJ_FMT " flush -> %d", OBJ_ARGS (o), ok);
      break;
    case 8:
      {
        GInetAddress *address = PICK (((GInetAddress *[]) { NULL, addr_lo4, addr_lo4, addr_lo6, addr_any4,
                                                            addr_any6, addr_unavailable, addr_broadcast }));
        guint16 port = PICK (((guint16[]) { 0, 0, 0, peer.udp4_port, peer.tcp4_port, refusing_port, 1 }));
        QSockBindFlags flags = rnd (8);
        char *text = address ? g_inet_address_to_string (address) : g_strdup ("NULL");

        trace (OBJ_FMT " bind(%s, %u, 0x%x) ...", OBJ_ARGS (o), text, port, flags);
        CALL (o, "bind", ok = qsock_abstract_bind (s, address, port, flags));
        trace (OBJ_FMT " bind(%s, %u, 0x%x) -> %d", OBJ_ARGS (o), text, port, flags, ok);
        g_free (text);
      }
      break;
    case 9:
      {
        gint64 size = PICK (((gint64[]) { -1, 0, 0, 1, 10, 4096, 65536, G_MAXINT64 }));
        trace (OBJ_FMT " set_read_buffer_size(%" G_GINT64_FORMAT ")", OBJ_ARGS (o), size);
        CALL (o, "set_read_buffer_size", qsock_abstract_set_read_buffer_size (s, size));
      }
      break;
    case 10:
      {
        gboolean owned;
        const char *what;
        int fd = pick_descriptor (o->kind, &owned, &what);
        struct stat st = { 0 };
        QSockSocketState state = PICK (((QSockSocketState[]) {
          QSOCK_SOCKET_STATE_CONNECTED, QSOCK_SOCKET_STATE_CONNECTED, QSOCK_SOCKET_STATE_UNCONNECTED,
          QSOCK_SOCKET_STATE_BOUND, QSOCK_SOCKET_STATE_CONNECTING, QSOCK_SOCKET_STATE_CLOSING,
          QSOCK_SOCKET_STATE_LISTENING, QSOCK_SOCKET_STATE_HOST_LOOKUP }));
        QSockOpenMode mode = pick_mode (o);

        if (o->reads_pending > 0 && state != QSOCK_SOCKET_STATE_CONNECTED && AVOID (KB_READ_ASYNC_CLOSE_HANG))
          state = QSOCK_SOCKET_STATE_CONNECTED;
        if (o->ops_pending > 0 && AVOID (KB_SET_DESCRIPTOR_PENDING_ASYNC))
          {
            if (owned && fd >= 0)
              close (fd);
            break;
          }
        if (owned && fd >= 0)
          fstat (fd, &st);
        /* An odd state for a real descriptor: no open/state check later. */
        if (state != QSOCK_SOCKET_STATE_CONNECTED && state != QSOCK_SOCKET_STATE_UNCONNECTED)
          o->odd_open = TRUE;
        trace (OBJ_FMT " set_socket_descriptor(%s %d, state %d, 0x%x) ...", OBJ_ARGS (o), what, fd, state, mode);
        CALL (o, "set_socket_descriptor", ok = qsock_abstract_set_socket_descriptor (s, fd, state, mode));
        trace (OBJ_FMT " set_socket_descriptor -> %d", OBJ_ARGS (o), ok);
        /* A UDP socket given a stream descriptor (or TCP a datagram one)
         * sends what the descriptor sends: no datagram-size check then. */
        if (ok && obj_live (o) && o->kind == K_UDP && !g_str_equal (what, "udp socket"))
          o->foreign_fd = TRUE;
        if (!ok && owned)
          close_refused (fd, &st);
      }
      break;
    case 11:
      {
        QSockSocketOption option = rnd (9);
        int value = PICK (((int[]) { -1, 0, 1, 2, 64, 4096, 1 << 20, G_MAXINT }));
        if (!sockopt_value_ok (option))
          option = QSOCK_SOCKET_OPTION_LOW_DELAY;
        trace (OBJ_FMT " set_socket_option(%d, %d)", OBJ_ARGS (o), option, value);
        CALL (o, "set_socket_option", qsock_abstract_set_socket_option (s, option, value));
      }
      break;
    case 12:
      {
        QSockSocketOption option = rnd (8);
        int value = 0;
        CALL (o, "get_socket_option", ok = qsock_abstract_get_socket_option (s, option, &value));
        trace (OBJ_FMT " get_socket_option(%d) -> %d, %d", OBJ_ARGS (o), option, ok, value);
      }
      break;
    case 13:
      {
        QSockPauseModes mode = rnd (2);
        trace (OBJ_FMT " set_pause_mode(%d)", OBJ_ARGS (o), mode);
        CALL (o, "set_pause_mode", qsock_abstract_set_pause_mode (s, mode));
      }
      break;
    case 14:
      trace (OBJ_FMT " resume", OBJ_ARGS (o));
      CALL (o, "resume", qsock_abstract_resume (s));
      break;
    case 15:
    case 16:
      {
        int ms = pick_wait_ms ();
        gint64 start = g_get_monotonic_time ();
        if (wait_avoided (o))
          break;
        if (o->connects_pending > 0 && AVOID (KB_CONNECT_ASYNC_WAIT_TIMEOUT))
          break;
        trace (OBJ_FMT " wait_for_connected(%d) ...", OBJ_ARGS (o), ms);
        CALL (o, "wait_for_connected", ok = qsock_abstract_wait_for_connected (s, ms));
        trace (OBJ_FMT " wait_for_connected(%d) -> %d", OBJ_ARGS (o), ms, ok);
        /* In HOST_LOOKUP it resolves, blocking: allow for that. */
        check_wait_time (o, "wait_for_connected", ms + 2000, start);
      }
      break;
    case 17:
      {
        int ms = pick_wait_ms ();
        gint64 start = g_get_monotonic_time ();
        if (wait_avoided (o))
          break;
        trace (OBJ_FMT " wait_for_disconnected(%d) ...", OBJ_ARGS (o), ms);
        CALL (o, "wait_for_disconnected", ok = qsock_abstract_wait_for_disconnected (s, ms));
        trace (OBJ_FMT " wait_for_disconnected(%d) -> %d", OBJ_ARGS (o), ms, ok);
        check_wait_time (o, "wait_for_disconnected", ms, start);
      }
      break;
    case 18:
      trace (OBJ_FMT " get_socket_descriptor -> %d", OBJ_ARGS (o), qsock_abstract_get_socket_descriptor (s));
      break;
    default:
      {
        int n_written = 0;
        /* Write a lot, then disconnect: the CLOSING path. */
        for (int i = 0; i < 4; i++)
          {
            gint64 r;
            CALL (o, "write", r = qsock_iodevice_write (s, out_data, 65536));
            if (!obj_live (o))
              break;
            n_written += r > 0;
          }
        trace (OBJ_FMT " 4 x write(65536) (%d ok), disconnect_from_host", OBJ_ARGS (o), n_written);
        if (obj_live (o))
          CALL (o, "disconnect_from_host", qsock_abstract_disconnect_from_host (s));
      }
      break;
    }
}

/* The QSockUdp calls. */
static void
op_udp (void)
{
  Obj *o = pick_obj (M_UDP);
  gpointer s;
  gint64 r, max;
  gboolean ok;

  if (o == NULL || o->plain)
    {
      if (o == NULL)
        obj_new (K_UDP);
      return;
    }
  s = o->obj;

  switch (rnd (14))
    {
    case 0:
      CALL (o, "has_pending_datagrams", ok = qsock_udp_has_pending_datagrams (s));
      CALL (o, "pending_datagram_size", r = qsock_udp_pending_datagram_size (s));
      trace (OBJ_FMT " has_pending_datagrams -> %d, pending_datagram_size -> %" G_GINT64_FORMAT, OBJ_ARGS (o), ok, r);
      if (r < -1)
        fail (OBJ_FMT " pending_datagram_size() = %" G_GINT64_FORMAT, OBJ_ARGS (o), r);
      break;
    case 1:
    case 2:
      {
        GInetAddress *from = NULL;
        guint16 port = 0;
        max = PICK (((gint64[]) { 0, 1, 10, 1400, 65536, BUF_SIZE }));
        CALL (o, "read_datagram", r = qsock_udp_read_datagram (s, buf, max, chance (50) ? &from : NULL,
                                                               chance (50) ? &port : NULL));
        trace (OBJ_FMT " read_datagram(%" G_GINT64_FORMAT ") -> %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
        if (r < -1 || r > max)
          fail (OBJ_FMT " read_datagram(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT, OBJ_ARGS (o), max, r);
        g_clear_object (&from);
      }
      break;
    case 3:
      {
        GBytes *bytes;
        GInetAddress *from = NULL;
        max = MIN (pick_size_any (), DATAGRAM_MAX_SIZE_CAP);
        if (max < 0)
          max = 0;
        CALL (o, "read_datagram_bytes", bytes = qsock_udp_read_datagram_bytes (s, max, &from, NULL));
        trace (OBJ_FMT " read_datagram_bytes(%" G_GINT64_FORMAT ") -> %" G_GSSIZE_FORMAT, OBJ_ARGS (o), max,
               bytes ? (gssize) g_bytes_get_size (bytes) : -1);
        if (bytes != NULL && (gint64) g_bytes_get_size (bytes) > max)
          fail (OBJ_FMT " read_datagram_bytes(%" G_GINT64_FORMAT ") returned %" G_GSIZE_FORMAT " bytes",
                OBJ_ARGS (o), max, g_bytes_get_size (bytes));
        g_clear_pointer (&bytes, g_bytes_unref);
        g_clear_object (&from);
      }
      break;
    case 4:
      {
        QSockDatagram *datagram;
        max = PICK (((gint64[]) { -1, -1, 0, 1, 100, 65536, (gint64) 1 << 40 }));
        max = MIN (max, DATAGRAM_MAX_SIZE_CAP);
        CALL (o, "receive_datagram", datagram = qsock_udp_receive_datagram (s, max));
        if (datagram == NULL)
          fail (OBJ_FMT " receive_datagram(%" G_GINT64_FORMAT ") returned NULL", OBJ_ARGS (o), max);
        {
          GBytes *data = qsock_datagram_get_data (datagram);
          trace (OBJ_FMT " receive_datagram(%" G_GINT64_FORMAT ") -> valid %d, %" G_GSIZE_FORMAT " bytes",
                 OBJ_ARGS (o), max, qsock_datagram_is_valid (datagram), g_bytes_get_size (data));
          if (max >= 0 && (gint64) g_bytes_get_size (data) > max)
            fail (OBJ_FMT " receive_datagram(%" G_GINT64_FORMAT ") returned %" G_GSIZE_FORMAT " bytes",
                  OBJ_ARGS (o), max, g_bytes_get_size (data));
          g_bytes_unref (data);
          if (qsock_datagram_is_valid (datagram) && obj_live (o) && chance (50))
            {
              GBytes *reply_data = g_bytes_new_static ("reply", 5);
              QSockDatagram *reply = qsock_datagram_make_reply (datagram, reply_data);
              CALL (o, "send_datagram", r = qsock_udp_send_datagram (s, reply));
              trace (OBJ_FMT " send_datagram(reply) -> %" G_GINT64_FORMAT, OBJ_ARGS (o), r);
              g_object_unref (reply);
              g_bytes_unref (reply_data);
            }
        }
        g_object_unref (datagram);
      }
      break;
    case 5:
    case 6:
    case 7:
      {
        GInetAddress *address;
        guint16 port;
        gint64 size = PICK (((gint64[]) { 0, 1, 100, 1400, 8192, 65507, 65508, 70000 }));
        char *text;
        pick_udp_target (&address, &port);
        text = g_inet_address_to_string (address);
        trace (OBJ_FMT " write_datagram(%" G_GINT64_FORMAT ", %s, %u) ...", OBJ_ARGS (o), size, text, port);
        CALL (o, "write_datagram", r = qsock_udp_write_datagram (s, out_data, size, address, port));
        trace (OBJ_FMT " write_datagram -> %" G_GINT64_FORMAT, OBJ_ARGS (o), r);
        g_free (text);
        if (r != -1 && r != size && !o->foreign_fd)
          fail (OBJ_FMT " write_datagram(%" G_GINT64_FORMAT ") returned %" G_GINT64_FORMAT, OBJ_ARGS (o), size, r);
      }
      break;
    case 8:
      {
        GInetAddress *address;
        guint16 port;
        GBytes *bytes = g_bytes_new_static (out_data, PICK (((gsize[]) { 0, 7, 1400, 65507 })));
        pick_udp_target (&address, &port);
        CALL (o, "write_datagram_bytes", r = qsock_udp_write_datagram_bytes (s, bytes, address, port));
        trace (OBJ_FMT " write_datagram_bytes(%" G_GSIZE_FORMAT ", port %u) -> %" G_GINT64_FORMAT, OBJ_ARGS (o),
               g_bytes_get_size (bytes), port, r);
        g_bytes_unref (bytes);
      }
      break;
    case 9:
      {
        GInetAddress *address;
        guint16 port;
        QSockDatagram *datagram;
        pick_udp_target (&address, &port);
        if (chance (20))
          datagram = qsock_datagram_new ();
        else
          datagram = qsock_datagram_new_with_data (out_data, rnd (2000), chance (85) ? address : NULL, port);
        if (chance (30))
          qsock_datagram_set_hop_limit (datagram, PICK (((int[]) { -1, 0, 1, 64, 255, 256 })));
        if (chance (10))
          qsock_datagram_set_interface_index (datagram, PICK (((guint[]) { 0, 1, 9999 })));
        if (chance (10))
          qsock_datagram_set_sender (datagram, addr_lo4, 5);
        CALL (o, "send_datagram", r = qsock_udp_send_datagram (s, datagram));
        trace (OBJ_FMT " send_datagram(port %u) -> %" G_GINT64_FORMAT, OBJ_ARGS (o), port, r);
        g_object_unref (datagram);
      }
      break;
    case 10:
      {
        GInetAddress *group = PICK (((GInetAddress *[]) { addr_mcast4, addr_mcast6, addr_lo4 }));
        const char *iface = PICK (((const char *[]) { NULL, "lo", "nonexistent0" }));
        gboolean join = chance (60);
        CALL (o, join ? "join_multicast_group" : "leave_multicast_group",
              ok = join ? qsock_udp_join_multicast_group (s, group, iface)
                        : qsock_udp_leave_multicast_group (s, group, iface));
        trace (OBJ_FMT " %s_multicast_group(%s) -> %d", OBJ_ARGS (o), join ? "join" : "leave",
               iface ? iface : "NULL", ok);
      }
      break;
    case 11:
      {
        GInetAddress *group = PICK (((GInetAddress *[]) { addr_mcast4, addr_mcast6 }));
        guint index = PICK (((guint[]) { 0, 1, 9999 }));
        gboolean join = chance (60);
        CALL (o, "multicast_group_on_index",
              ok = join ? qsock_udp_join_multicast_group_on_index (s, group, index)
                        : qsock_udp_leave_multicast_group_on_index (s, group, index));
        trace (OBJ_FMT " %s_multicast_group_on_index(%u) -> %d", OBJ_ARGS (o), join ? "join" : "leave", index, ok);
      }
      break;
    case 12:
      {
        guint index = PICK (((guint[]) { 0, 1, 9999 }));
        CALL (o, "set_multicast_interface", qsock_udp_set_multicast_interface (s, index));
        CALL (o, "get_multicast_interface", (void) qsock_udp_get_multicast_interface (s));
        trace (OBJ_FMT " set/get_multicast_interface(%u)", OBJ_ARGS (o), index);
      }
      break;
    default:
      {
        /* The UDP peer sprays datagrams at this socket's port. */
        guint16 port = qsock_abstract_get_local_port (s);
        PeerCmd cmd = { PEER_CMD_UDP_SPRAY, AF_INET, port, 1 + rnd (8), "" };
        GInetAddress *local = qsock_abstract_get_local_address (s);
        if (local != NULL && g_inet_address_get_family (local) == G_SOCKET_FAMILY_IPV6 && have_ipv6)
          cmd.family = AF_INET6;
        g_clear_object (&local);
        trace (OBJ_FMT " peer sprays %u datagrams at port %u", OBJ_ARGS (o), cmd.count, port);
        if (port != 0)
          peer_send (&cmd);
      }
      break;
    }
}

/* The QSockLocal calls. */
static void
op_local (void)
{
  Obj *o = pick_obj (M_LOCAL);
  gpointer s;
  gboolean ok;

  if (o == NULL)
    {
      obj_new (K_LOCAL);
      return;
    }
  s = o->obj;

  switch (rnd (16))
    {
    case 0:
    case 1:
    case 2:
      {
        gboolean abstract;
        const char *name = pick_local_target (&abstract);
        QSockOpenMode mode = pick_mode (o);
        if (qsock_local_get_state (s) == QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED && chance (90))
          qsock_local_set_socket_options (s, abstract ? QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE
                                                      : QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
        trace (OBJ_FMT " connect_to_server(\"%s\", 0x%x)", OBJ_ARGS (o), name, mode);
        CALL (o, "connect_to_server", qsock_local_connect_to_server (s, chance (10) ? NULL : name, mode));
      }
      break;
    case 3:
      trace (OBJ_FMT " disconnect_from_server", OBJ_ARGS (o));
      CALL (o, "disconnect_from_server", qsock_local_disconnect_from_server (s));
      break;
    case 4:
      trace (OBJ_FMT " abort", OBJ_ARGS (o));
      CALL (o, "abort", qsock_local_abort (s));
      if (obj_live (o) && qsock_local_get_state (s) == QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED &&
          qsock_iodevice_bytes_to_write (s) != 0)
        fail (OBJ_FMT " %" G_GINT64_FORMAT " bytes to write after abort()", OBJ_ARGS (o),
              qsock_iodevice_bytes_to_write (s));
      break;
    case 5:
      CALL (o, "flush", ok = qsock_local_flush (s));
      trace (OBJ_FMT " flush -> %d", OBJ_ARGS (o), ok);
      break;
    case 6:
      {
        gboolean abstract;
        const char *name = pick_local_target (&abstract);
        trace (OBJ_FMT " set_server_name(\"%s\")", OBJ_ARGS (o), name);
        CALL (o, "set_server_name", qsock_local_set_server_name (s, name));
      }
      break;
    case 7:
      {
        QSockLocalSocketOptions options = rnd (2);
        trace (OBJ_FMT " set_socket_options(%d)", OBJ_ARGS (o), options);
        CALL (o, "set_socket_options", qsock_local_set_socket_options (s, options));
      }
      break;
    case 8:
      {
        gint64 size = PICK (((gint64[]) { -1, 0, 0, 1, 10, 4096, G_MAXINT64 }));
        trace (OBJ_FMT " set_read_buffer_size(%" G_GINT64_FORMAT ")", OBJ_ARGS (o), size);
        CALL (o, "set_read_buffer_size", qsock_local_set_read_buffer_size (s, size));
      }
      break;
    case 9:
      {
        gboolean owned;
        const char *what;
        int fd = pick_descriptor (K_LOCAL, &owned, &what);
        struct stat st = { 0 };
        QSockLocalSocketState state = PICK (((QSockLocalSocketState[]) {
          QSOCK_LOCAL_SOCKET_STATE_CONNECTED, QSOCK_LOCAL_SOCKET_STATE_CONNECTED,
          QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED, QSOCK_LOCAL_SOCKET_STATE_CONNECTING,
          QSOCK_LOCAL_SOCKET_STATE_CLOSING }));
        QSockOpenMode mode = pick_mode (o);

        if (o->reads_pending > 0 && AVOID (KB_READ_ASYNC_CLOSE_HANG))
          state = QSOCK_LOCAL_SOCKET_STATE_CONNECTED;
        if (o->ops_pending > 0 && AVOID (KB_SET_DESCRIPTOR_PENDING_ASYNC))
          {
            if (owned && fd >= 0)
              close (fd);
            break;
          }
        if (owned && fd >= 0)
          fstat (fd, &st);
        if (state != QSOCK_LOCAL_SOCKET_STATE_CONNECTED && state != QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED)
          o->odd_open = TRUE;
        trace (OBJ_FMT " set_socket_descriptor(%s %d, state %d, 0x%x) ...", OBJ_ARGS (o), what, fd, state, mode);
        CALL (o, "set_socket_descriptor", ok = qsock_local_set_socket_descriptor (s, fd, state, mode));
        trace (OBJ_FMT " set_socket_descriptor -> %d", OBJ_ARGS (o), ok);
        if (!ok && owned)
          close_refused (fd, &st);
      }
      break;
    case 10:
      {
        int ms = pick_wait_ms ();
        gint64 start = g_get_monotonic_time ();
        trace (OBJ_FMT " wait_for_connected(%d) ...", OBJ_ARGS (o), ms);
        CALL (o, "wait_for_connected", ok = qsock_local_wait_for_connected (s, ms));
        trace (OBJ_FMT " wait_for_connected(%d) -> %d", OBJ_ARGS (o), ms, ok);
        check_wait_time (o, "wait_for_connected", ms, start);
      }
      break;
    case 11:
      {
        int ms = pick_wait_ms ();
        gint64 start = g_get_monotonic_time ();
        trace (OBJ_FMT " wait_for_disconnected(%d) ...", OBJ_ARGS (o), ms);
        CALL (o, "wait_for_disconnected", ok = qsock_local_wait_for_disconnected (s, ms));
        trace (OBJ_FMT " wait_for_disconnected(%d) -> %d", OBJ_ARGS (o), ms, ok);
        check_wait_time (o, "wait_for_disconnected", ms, start);
      }
      break;
    case 12:
      {
        GError *error = NULL;
        GCredentials *credentials;
        CALL (o, "get_peer_credentials", credentials = qsock_local_get_peer_credentials (s, &error));
        trace (OBJ_FMT " get_peer_credentials -> %s", OBJ_ARGS (o), credentials ? "ok" : error ? error->message : "NULL");
        if ((credentials == NULL) == (error == NULL))
          fail (OBJ_FMT " get_peer_credentials: result and error disagree", OBJ_ARGS (o));
        g_clear_object (&credentials);
        g_clear_error (&error);
      }
      break;
    case 13:
      {
        GError *error = NULL;
        GUnixFDList *fds;
        int n = rnd (3);

        /* It flushes what is queued first, blocking for up to 30 s (as
         * documented): only with nothing queued. */
        if (qsock_iodevice_bytes_to_write (s) > 0)
          break;
        fds = g_unix_fd_list_new ();
        for (int i = 0; i < n; i++)
          {
            int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
            g_unix_fd_list_append (fds, fd, NULL);
            close (fd);
          }
        CALL (o, "send_fds", ok = qsock_local_send_fds (s, fds, "F", chance (80) ? 1 : 0, &error));
        trace (OBJ_FMT " send_fds(%d) -> %d %s", OBJ_ARGS (o), n, ok, error ? error->message : "");
        if (ok == (error != NULL))
          fail (OBJ_FMT " send_fds: result and error disagree", OBJ_ARGS (o));
        g_clear_error (&error);
        g_object_unref (fds);
      }
      break;
    case 14:
      {
        GUnixFDList *fds;
        CALL (o, "take_received_fds", fds = qsock_local_take_received_fds (s));
        trace (OBJ_FMT " take_received_fds -> %d", OBJ_ARGS (o), fds ? g_unix_fd_list_get_length (fds) : -1);
        g_clear_object (&fds);
      }
      break;
    default:
      {
        gint64 r;
        CALL (o, "write", r = qsock_iodevice_write (s, out_data, 200000));
        trace (OBJ_FMT " write(200000) -> %" G_GINT64_FORMAT ", disconnect_from_server", OBJ_ARGS (o), r);
        if (obj_live (o))
          CALL (o, "disconnect_from_server", qsock_local_disconnect_from_server (s));
      }
      break;
    }
}

static Obj *
pick_tcp_socket_for_server (void)
{
  Obj *o = pick_obj (M_TCP);
  if (o == NULL || o->plain)
    return NULL;
  return o;
}

/* The QSockTcpServer calls. */
static void
op_tcp_server (void)
{
  Obj *o = pick_obj (M_TCP_SERVER);
  gpointer s;
  gboolean ok;

  if (o == NULL)
    {
      obj_new (K_TCP_SERVER);
      return;
    }
  s = o->obj;

  switch (rnd (15))
    {
    case 0:
    case 1:
    case 2:
      {
        GInetAddress *address = PICK (((GInetAddress *[]) { addr_lo4, addr_lo4, addr_lo6, NULL,
                                                            addr_any4, addr_unavailable }));
        guint16 port = chance (85) ? 0 : PICK (((guint16[]) { peer.tcp4_port, refusing_port, 1 }));
        char *text = address ? g_inet_address_to_string (address) : g_strdup ("NULL");
        CALL (o, "listen", ok = qsock_tcp_server_listen (s, address, port));
        trace (OBJ_FMT " listen(%s, %u) -> %d", OBJ_ARGS (o), text, port, ok);
        g_free (text);
      }
      break;
    case 3:
      trace (OBJ_FMT " close", OBJ_ARGS (o));
      CALL (o, "close", qsock_tcp_server_close (s));
      break;
    case 4:
    case 5:
      {
        QSockTcp *sock;
        CALL (o, "next_pending_connection", sock = qsock_tcp_server_next_pending_connection (s));
        trace (OBJ_FMT " next_pending_connection -> %s", OBJ_ARGS (o), sock ? "a socket" : "NULL");
        if (sock != NULL)
          {
            if (n_live < MAX_LIVE)
              obj_adopt (sock, K_TCP, "  accepted");
            else
              g_object_unref (sock);
          }
      }
      break;
    case 6:
      {
        Obj *sock = pick_tcp_socket_for_server ();
        if (sock == NULL)
          break;
        trace (OBJ_FMT " add_pending_connection(" OBJ_FMT ")", OBJ_ARGS (o), OBJ_ARGS (sock));
        CALL (o, "add_pending_connection", qsock_tcp_server_add_pending_connection (s, sock->obj));
      }
      break;
    case 7:
      {
        int max = PICK (((int[]) { 0, 1, 2, 30, -1 }));
        trace (OBJ_FMT " set_max_pending_connections(%d)", OBJ_ARGS (o), max);
        CALL (o, "set_max_pending_connections", qsock_tcp_server_set_max_pending_connections (s, max));
      }
      break;
    case 8:
      {
        int size = PICK (((int[]) { 0, 1, 50, -1 }));
        trace (OBJ_FMT " set_listen_backlog_size(%d)", OBJ_ARGS (o), size);
        CALL (o, "set_listen_backlog_size", qsock_tcp_server_set_listen_backlog_size (s, size));
      }
      break;
    case 9:
      ok = chance (50);
      trace (OBJ_FMT " %s_accepting", OBJ_ARGS (o), ok ? "pause" : "resume");
      CALL (o, "pause/resume_accepting",
            if (ok) qsock_tcp_server_pause_accepting (s); else qsock_tcp_server_resume_accepting (s));
      break;
    case 10:
      {
        gboolean owned;
        const char *what;
        int fd = pick_descriptor (K_TCP_SERVER, &owned, &what);
        struct stat st = { 0 };
        if (owned && fd >= 0)
          fstat (fd, &st);
        trace (OBJ_FMT " set_socket_descriptor(%s %d) ...", OBJ_ARGS (o), what, fd);
        CALL (o, "set_socket_descriptor", ok = qsock_tcp_server_set_socket_descriptor (s, fd));
        trace (OBJ_FMT " set_socket_descriptor -> %d", OBJ_ARGS (o), ok);
        if (!ok && owned)
          close_refused (fd, &st);
      }
      break;
    case 11:
      {
        int ms = pick_wait_ms ();
        gboolean timed_out = FALSE;
        gint64 start = g_get_monotonic_time ();
        trace (OBJ_FMT " wait_for_new_connection(%d) ...", OBJ_ARGS (o), ms);
        CALL (o, "wait_for_new_connection",
              ok = qsock_tcp_server_wait_for_new_connection (s, ms, chance (80) ? &timed_out : NULL));
        trace (OBJ_FMT " wait_for_new_connection(%d) -> %d, timed out %d", OBJ_ARGS (o), ms, ok, timed_out);
        check_wait_time (o, "wait_for_new_connection", ms, start);
        if (ok && timed_out)
          fail (OBJ_FMT " wait_for_new_connection returned TRUE and timed out", OBJ_ARGS (o));
      }
      break;
    default:
      if (qsock_tcp_server_is_listening (s))
        {
          GInetAddress *address = qsock_tcp_server_get_server_address (s);
          PeerCmd cmd = { PEER_CMD_CONNECT_TCP, AF_INET, qsock_tcp_server_get_server_port (s), 1, "" };
          if (address != NULL && g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 &&
              !g_inet_address_get_is_any (address))
            cmd.family = AF_INET6;
          g_clear_object (&address);
          cmd.count = 1 + rnd (3);
          trace (OBJ_FMT " peer connects %u times to port %u", OBJ_ARGS (o), cmd.count, cmd.port);
          for (guint i = 0; i < cmd.count; i++)
            peer_send (&cmd);
        }
      break;
    }
}

/* The QSockLocalServer calls. */
static void
op_local_server (void)
{
  Obj *o = pick_obj (M_LOCAL_SERVER);
  gpointer s;
  gboolean ok;

  if (o == NULL)
    {
      obj_new (K_LOCAL_SERVER);
      return;
    }
  s = o->obj;

  switch (rnd (16))
    {
    case 0:
    case 1:
    case 2:
    case 3:
      {
        char *name;
        gboolean abstract = FALSE;
        switch (rnd (7))
          {
          case 0:
            name = g_strdup_printf ("srv%u", name_serial++);          /* in $TMPDIR */
            break;
          case 1:
            name = g_strdup (PICK (((const char *[]) { "", "peer.sock", "stale.sock", "plain.file" })));
            break;
          case 2:
            name = g_strdup_printf ("apifuzz-%d-%u", (int) getpid (), name_serial++);
            abstract = TRUE;
            break;
          case 3:
            name = g_strdup_printf ("%s/no/such/dir/x", tmp_dir);
            break;
          default:
            name = g_strdup_printf ("%s/srv%u.sock", tmp_dir, name_serial++);
            break;
          }
        if (!qsock_local_server_is_listening (s))
          CALL (o, "set_socket_options",
                qsock_local_server_set_socket_options (s, abstract ? QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE
                                                                   : rnd (8)));
        CALL (o, "listen", ok = qsock_local_server_listen (s, name));
        trace (OBJ_FMT " listen(\"%s\") -> %d", OBJ_ARGS (o), name, ok);
        if (ok && obj_live (o))
          {
            g_free (o->listen_name);
            o->listen_name = name;
          }
        else
          g_free (name);
      }
      break;
    case 4:
      {
        gboolean owned;
        const char *what;
        int fd = pick_descriptor (K_LOCAL_SERVER, &owned, &what);
        struct stat st = { 0 };
        if (owned && fd >= 0)
          fstat (fd, &st);
        trace (OBJ_FMT " listen_descriptor(%s %d) ...", OBJ_ARGS (o), what, fd);
        CALL (o, "listen_descriptor", ok = qsock_local_server_listen_descriptor (s, fd));
        trace (OBJ_FMT " listen_descriptor -> %d", OBJ_ARGS (o), ok);
        if (!ok && owned)
          close_refused (fd, &st);
        if (ok && obj_live (o))
          {
            const char *full = qsock_local_server_get_full_server_name (s);
            g_free (o->listen_name);
            o->listen_name = full != NULL && full[0] == '/' ? g_strdup (full) : NULL;
          }
      }
      break;
    case 5:
      trace (OBJ_FMT " close", OBJ_ARGS (o));
      CALL (o, "close", qsock_local_server_close (s));
      if (obj_live (o))
        g_clear_pointer (&o->listen_name, g_free);
      break;
    case 6:
    case 7:
      {
        QSockLocal *sock;
        CALL (o, "next_pending_connection", sock = qsock_local_server_next_pending_connection (s));
        trace (OBJ_FMT " next_pending_connection -> %s", OBJ_ARGS (o), sock ? "a socket" : "NULL");
        if (sock != NULL)
          {
            if (n_live < MAX_LIVE)
              obj_adopt (sock, K_LOCAL, "  accepted");
            else
              g_object_unref (sock);
          }
      }
      break;
    case 8:
      {
        Obj *sock = pick_obj (M_LOCAL);
        if (sock == NULL)
          break;
        trace (OBJ_FMT " add_pending_connection(" OBJ_FMT ")", OBJ_ARGS (o), OBJ_ARGS (sock));
        CALL (o, "add_pending_connection", qsock_local_server_add_pending_connection (s, sock->obj));
      }
      break;
    case 9:
      {
        int max = PICK (((int[]) { 0, 1, 2, 30, -1 }));
        trace (OBJ_FMT " set_max_pending_connections(%d)", OBJ_ARGS (o), max);
        CALL (o, "set_max_pending_connections", qsock_local_server_set_max_pending_connections (s, max));
      }
      break;
    case 10:
      {
        int size = PICK (((int[]) { 0, 1, 50, -1 }));
        trace (OBJ_FMT " set_listen_backlog_size(%d)", OBJ_ARGS (o), size);
        CALL (o, "set_listen_backlog_size", qsock_local_server_set_listen_backlog_size (s, size));
      }
      break;
    case 11:
      {
        const char *name = PICK (((const char *[]) { "", "missing.sock", "stale.sock", "nothing" }));
        char *path = chance (50) ? g_build_filename (tmp_dir, name, NULL) : g_strdup (name);
        CALL (o, "remove_server", ok = qsock_local_server_remove_server (path));
        trace ("remove_server(\"%s\") -> %d", path, ok);
        g_free (path);
      }
      break;
    case 12:
      {
        int ms = pick_wait_ms ();
        gboolean timed_out = FALSE;
        gint64 start = g_get_monotonic_time ();
        trace (OBJ_FMT " wait_for_new_connection(%d) ...", OBJ_ARGS (o), ms);
        CALL (o, "wait_for_new_connection",
              ok = qsock_local_server_wait_for_new_connection (s, ms, chance (80) ? &timed_out : NULL));
        trace (OBJ_FMT " wait_for_new_connection(%d) -> %d, timed out %d", OBJ_ARGS (o), ms, ok, timed_out);
        check_wait_time (o, "wait_for_new_connection", ms, start);
        if (ok && timed_out)
          fail (OBJ_FMT " wait_for_new_connection returned TRUE and timed out", OBJ_ARGS (o));
      }
      break;
    default:
      if (qsock_local_server_is_listening (s) && o->listen_name != NULL)
        {
          PeerCmd cmd = { PEER_CMD_CONNECT_UNIX, 0, 0, 1, "" };
          gboolean abstract = (qsock_local_server_get_socket_options (s) &
                               QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE) != 0;
          const char *full = qsock_local_server_get_full_server_name (s);
          if (abstract)
            g_snprintf (cmd.path, sizeof cmd.path, "@%s", o->listen_name);
          else
            g_strlcpy (cmd.path, full != NULL ? full : o->listen_name, sizeof cmd.path);
          cmd.count = 1 + rnd (3);
          trace (OBJ_FMT " peer connects %u times to %s", OBJ_ARGS (o), cmd.count, cmd.path);
          for (guint i = 0; i < cmd.count; i++)
            peer_send (&cmd);
        }
      break;
    }
}

/* A client of the library connected to a server of the library. */
static void
op_pair (void)
{
  if (chance (50))
    {
      Obj *server = pick_obj (M_TCP_SERVER);
      Obj *client;
      GInetAddress *address;
      guint16 port;
      char *text;

      if (server == NULL || !qsock_tcp_server_is_listening (server->obj))
        {
          op_tcp_server ();
          return;
        }
      client = n_live < MAX_LIVE ? obj_new (K_TCP) : pick_obj (M_TCP);
      if (client == NULL)
        return;
      pick_tcp_target (&address, &port);
      address = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ? addr_lo6 : addr_lo4;
      {
        GInetAddress *listening = qsock_tcp_server_get_server_address (server->obj);
        address = listening != NULL && g_inet_address_get_family (listening) == G_SOCKET_FAMILY_IPV6 &&
                  !g_inet_address_get_is_any (listening) ? addr_lo6 : addr_lo4;
        g_clear_object (&listening);
      }
      port = qsock_tcp_server_get_server_port (server->obj);
      text = g_inet_address_to_string (address);
      trace (OBJ_FMT " connect_to_address(%s, %u) [server " OBJ_FMT "]", OBJ_ARGS (client), text, port,
             OBJ_ARGS (server));
      g_free (text);
      CALL (client, "connect_to_address",
            qsock_abstract_connect_to_address (client->obj, address, port, QSOCK_OPEN_MODE_READ_WRITE));
    }
  else
    {
      Obj *server = pick_obj (M_LOCAL_SERVER);
      Obj *client;
      gboolean abstract;

      if (server == NULL || server->listen_name == NULL)
        {
          op_local_server ();
          return;
        }
      client = n_live < MAX_LIVE ? obj_new (K_LOCAL) : pick_obj (M_LOCAL);
      if (client == NULL)
        return;
      abstract = (qsock_local_server_get_socket_options (server->obj) &
                  QSOCK_LOCAL_SERVER_OPTIONS_ABSTRACT_NAMESPACE) != 0;
      if (qsock_local_get_state (client->obj) == QSOCK_LOCAL_SOCKET_STATE_UNCONNECTED)
        qsock_local_set_socket_options (client->obj, abstract ? QSOCK_LOCAL_SOCKET_OPTIONS_ABSTRACT_NAMESPACE
                                                              : QSOCK_LOCAL_SOCKET_OPTIONS_NONE);
      trace (OBJ_FMT " connect_to_server(\"%s\") [server " OBJ_FMT "]", OBJ_ARGS (client),
             server->listen_name, OBJ_ARGS (server));
      CALL (client, "connect_to_server",
            qsock_local_connect_to_server (client->obj, server->listen_name, QSOCK_OPEN_MODE_READ_WRITE));
    }
}

/* QSockDatagram on its own: plain value calls. */
static void
op_datagram (void)
{
  GBytes *data = g_bytes_new_static (out_data, rnd (100));
  QSockDatagram *d = qsock_datagram_new_with_bytes (data, chance (50) ? addr_lo6 : NULL, rnd (70000) - 1000);
  QSockDatagram *reply;
  GInetAddress *address;
  GBytes *got;

  qsock_datagram_set_sender (d, chance (50) ? addr_lo4 : NULL, rnd (3) - 1);
  qsock_datagram_set_destination (d, addr_lo4, 7);
  qsock_datagram_set_hop_limit (d, rnd (300) - 1);
  qsock_datagram_set_interface_index (d, rnd (3));
  address = qsock_datagram_get_sender_address (d);
  g_clear_object (&address);
  address = qsock_datagram_get_destination_address (d);
  g_clear_object (&address);
  (void) qsock_datagram_get_sender_port (d);
  (void) qsock_datagram_get_destination_port (d);
  (void) qsock_datagram_get_hop_limit (d);
  (void) qsock_datagram_get_interface_index (d);
  (void) qsock_datagram_is_valid (d);
  (void) qsock_datagram_is_null (d);
  reply = qsock_datagram_make_reply (d, data);
  got = qsock_datagram_get_data (reply);
  if (!g_bytes_equal (got, data))
    fail ("make_reply() did not carry the data");
  g_bytes_unref (got);
  qsock_datagram_set_data (d, data);
  qsock_datagram_clear (d);
  if (!qsock_datagram_is_null (d))
    fail ("a cleared datagram is not null");
  trace ("datagram value calls");
  g_object_unref (reply);
  g_object_unref (d);
  g_bytes_unref (data);
}

typedef struct
{
  const char *name;
  guint       weight;
  void      (*run) (void);
} OpDef;

static const OpDef ops[] = {
  { "new", 5, op_new },
  { "release", 3, op_release },
  { "iterate", 8, op_iterate },
  { "io", 30, op_io },
  { "abstract", 16, op_abstract },
  { "udp", 9, op_udp },
  { "local", 9, op_local },
  { "tcp-server", 6, op_tcp_server },
  { "local-server", 6, op_local_server },
  { "async", 8, op_async },
  { "cancel", 3, op_cancel },
  { "pair", 6, op_pair },
  { "datagram", 1, op_datagram },
};

static guint op_counts[G_N_ELEMENTS (ops)];

static void
run_random_op (void)
{
  static guint total;
  guint pick;

  if (total == 0)
    for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
      total += ops[i].weight;
  pick = rnd (total);
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      if (pick < ops[i].weight)
        {
          op_counts[i]++;
          ops[i].run ();
          return;
        }
      pick -= ops[i].weight;
    }
}

/* ---- teardown ---------------------------------------------------------- */

static void
teardown (void)
{
  gint64 deadline;

  g_atomic_int_set (&in_teardown, 1);
  cur_step++;
  trace ("teardown: cancel %u pending async ops, close everything", n_async_pending);

  for (guint i = 0; i < async_ops->len; i++)
    {
      AsyncOp *op = g_ptr_array_index (async_ops, i);
      if (!op->done && op->cancellable != NULL)
        g_cancellable_cancel (op->cancellable);
    }
  /* Everything closed: what still waits for data or a disconnect ends. */
  for (guint i = 0; i < objects->len; i++)
    {
      Obj *o = g_ptr_array_index (objects, i);
      gpointer obj = NULL;

      if (o->finalized)
        continue;
      if (o->owned > 0)
        obj = o->obj;
      else
        for (guint k = 0; k < async_ops->len && obj == NULL; k++)
          {
            AsyncOp *op = g_ptr_array_index (async_ops, k);
            if (!op->done && op->o == o)
              obj = op->obj;
          }
      if (obj == NULL)
        continue;
      g_object_ref (obj);
      switch (o->kind)
        {
        case K_TCP:
        case K_UDP:
          qsock_abstract_abort (obj);
          break;
        case K_LOCAL:
          qsock_local_abort (obj);
          break;
        case K_TCP_SERVER:
          qsock_tcp_server_close (obj);
          break;
        case K_LOCAL_SERVER:
          qsock_local_server_close (obj);
          break;
        default:
          break;
        }
      g_object_unref (obj);
    }

  deadline = g_get_monotonic_time () + (gint64) (5 * G_USEC_PER_SEC * time_scale);
  while (n_async_pending > 0 && g_get_monotonic_time () < deadline)
    iterate_for (5);
  if (n_async_pending > 0)
    {
      for (guint i = 0; i < async_ops->len; i++)
        {
          AsyncOp *op = g_ptr_array_index (async_ops, i);
          if (!op->done)
            {
              int state = -1;
              if (op->o->kind == K_TCP || op->o->kind == K_UDP)
                state = qsock_abstract_get_state (op->obj);
              else if (op->o->kind == K_LOCAL)
                state = qsock_local_get_state (op->obj);
              trace ("  async %u (%s on " OBJ_FMT ")%s still pending; state %d, open 0x%x, available %"
                     G_GINT64_FORMAT, op->id, async_names[op->kind], OBJ_ARGS (op->o),
                     op->cancellable ? "" : " without cancellable", state,
                     op->o->kind <= K_LOCAL ? qsock_iodevice_get_open_mode (op->obj) : 0,
                     op->o->kind <= K_LOCAL ? qsock_iodevice_bytes_available (op->obj) : 0);
            }
        }
      {
        GString *names = g_string_new (NULL);
        for (guint i = 0; i < async_ops->len; i++)
          {
            AsyncOp *op = g_ptr_array_index (async_ops, i);
            if (!op->done)
              g_string_append_printf (names, " %s on " OBJ_FMT " (async %u, from step %" G_GUINT64_FORMAT ")",
                                      async_names[op->kind], OBJ_ARGS (op->o), op->id, op->start_step);
          }
        fail ("%u async operations never completed after cancel and abort:%s", n_async_pending, names->str);
      }
    }

  for (guint i = 0; i < objects->len; i++)
    {
      Obj *o = g_ptr_array_index (objects, i);
      while (obj_live (o))
        obj_release (o, "teardown:");
    }
  deadline = g_get_monotonic_time () + (gint64) (2 * G_USEC_PER_SEC * time_scale);
  for (;;)
    {
      Obj *leaked = NULL;
      for (guint i = 0; i < objects->len && leaked == NULL; i++)
        {
          Obj *o = g_ptr_array_index (objects, i);
          if (!o->finalized)
            leaked = o;
        }
      if (leaked == NULL)
        break;
      if (g_get_monotonic_time () > deadline)
        fail (OBJ_FMT " is still alive (ref count %u) after every reference was dropped", OBJ_ARGS (leaked),
              ((GObject *) leaked->obj)->ref_count);
      iterate_for (5);
    }
}

/* ---- main -------------------------------------------------------------- */

static gboolean
parse_args (int *argc, char ***argv)
{
  double seed = 1, steps = 5000;
  GOptionEntry entries[] = {
    { "seed", 0, 0, G_OPTION_ARG_DOUBLE, &seed, "PRNG seed", "N" },
    { "steps", 0, 0, G_OPTION_ARG_DOUBLE, &steps, "Number of steps (default 5000)", "M" },
    { "budget-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_budget,
      "Stop stepping after this long; 0 = no limit (default 15)", "S" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Print every operation and signal", NULL },
    { "dispatch", 0, 0, G_OPTION_ARG_STRING, &opt_dispatch, "QSOCK_DISPATCH backend (epoll, gsource)", "B" },
    { "provoke", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_provoke,
      "Do provoke a known bug (its name, or 'all'); see --list-known-bugs", "NAME" },
    { NULL }
  };
  gboolean list = FALSE;
  GOptionEntry list_entry[] = {
    { "list-known-bugs", 0, 0, G_OPTION_ARG_NONE, &list, "List the known-bug switches", NULL },
    { NULL }
  };
  GOptionContext *context = g_option_context_new ("- random sequences of qsock-glib calls");
  GError *error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context, list_entry, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      fprintf (stderr, "apifuzz: %s\n", error->message);
      exit (2);
    }
  g_option_context_free (context);
  opt_seed = (guint64) seed;
  opt_steps = (guint64) steps;

  for (char **p = opt_provoke; p != NULL && *p != NULL; p++)
    {
      gboolean found = FALSE;
      for (guint i = 0; i < N_KNOWN_BUGS; i++)
        if (g_str_equal (*p, "all") || g_str_equal (*p, known_bugs[i].name))
          {
            known_bugs[i].avoid = FALSE;
            found = TRUE;
          }
      if (!found)
        {
          fprintf (stderr, "apifuzz: no known bug named '%s'\n", *p);
          exit (2);
        }
    }
  if (list)
    {
      for (guint i = 0; i < N_KNOWN_BUGS; i++)
        printf ("%-28s %s\n", known_bugs[i].name, known_bugs[i].avoid ? "avoided" : "provoked");
      return FALSE;
    }
  return TRUE;
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        unlink (child);
      g_free (child);
    }
  g_dir_close (dir);
  rmdir (path);
}

int
main (int argc, char **argv)
{
  char template[] = "/tmp/apifuzz-XXXXXX";
  GThread *watchdog;
  const char *scale;
  GString *avoided = g_string_new (NULL);
  double took;

  if (!parse_args (&argc, &argv))
    return 0;

  /* Before anything asks GLib for the temporary directory: relative local
   * server names land in ours. */
  if (mkdtemp (template) == NULL)
    {
      perror ("apifuzz: mkdtemp");
      return 2;
    }
  tmp_dir = g_strdup (template);
  g_setenv ("TMPDIR", tmp_dir, TRUE);
  if (opt_dispatch != NULL)
    g_setenv ("QSOCK_DISPATCH", opt_dispatch, TRUE);
  scale = g_getenv ("APIFUZZ_TIME_SCALE");
  if (scale == NULL)
    scale = g_getenv ("TU_TIMEOUT_SCALE");
  if (scale != NULL && g_ascii_strtod (scale, NULL) >= 1)
    time_scale = g_ascii_strtod (scale, NULL);

  g_log_set_writer_func (log_writer, NULL, NULL);
  if (__sanitizer_set_death_callback != NULL)
    __sanitizer_set_death_callback (report_death);
  signal (SIGSEGV, on_fatal_signal);
  signal (SIGBUS, on_fatal_signal);
  signal (SIGFPE, on_fatal_signal);
  signal (SIGILL, on_fatal_signal);
  signal (SIGABRT, on_fatal_signal);
  signal (SIGPIPE, SIG_IGN);

  rng_state = opt_seed;
  run_start_us = g_get_monotonic_time ();
  buf = g_malloc (BUF_SIZE + 1);
  out_data = g_malloc (BUF_SIZE);
  for (gsize i = 0; i < BUF_SIZE; i++)
    out_data[i] = i % 61 == 60 ? '\n' : 'a' + (i % 26);
  objects = g_ptr_array_new ();
  async_ops = g_ptr_array_new ();
  cancel_queue = g_async_queue_new ();
  cancel_thread = g_thread_new ("apifuzz-cancel", canceller_thread, NULL);
  watchdog = g_thread_new ("apifuzz-watchdog", watchdog_thread, NULL);
  targets_init ();
  peer_start ();

  for (guint i = 0; i < N_KNOWN_BUGS; i++)
    if (known_bugs[i].avoid)
      g_string_append_printf (avoided, " %s", known_bugs[i].name);
  fprintf (stderr, "apifuzz: seed=%" G_GUINT64_FORMAT " steps=%" G_GUINT64_FORMAT " budget=%.0fs dispatch=%s ipv6=%d"
           " avoiding known bugs:%s\n", opt_seed, opt_steps, opt_budget, opt_dispatch ? opt_dispatch : "default",
           have_ipv6, avoided->len ? avoided->str : " none");
  g_string_free (avoided, TRUE);

  for (cur_step = 1; cur_step <= opt_steps; cur_step++)
    {
      if (opt_budget > 0 && elapsed_s () > opt_budget)
        {
          fprintf (stderr, "apifuzz: budget of %.0f s used up at step %" G_GUINT64_FORMAT "\n", opt_budget, cur_step);
          break;
        }
      step_start_us = g_get_monotonic_time ();
      run_random_op ();
      for (guint n = rnd (4); n > 0; n--)
        g_main_context_iteration (NULL, FALSE);
      check_all ();
    }
  cur_step--;

  step_start_us = g_get_monotonic_time ();
  teardown ();
  step_start_us = 0;

  took = elapsed_s ();
  fprintf (stderr, "apifuzz: OK seed=%" G_GUINT64_FORMAT " steps=%" G_GUINT64_FORMAT " objects=%u async=%u"
           " qt-warnings=%u time=%.1fs\n", opt_seed, cur_step, objects->len, async_ops->len, n_qt_warnings, took);
  if (opt_verbose)
    for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
      fprintf (stderr, "apifuzz:   %-14s %u\n", ops[i].name, op_counts[i]);

  g_atomic_int_set (&watchdog_stop, 1);
  g_thread_join (watchdog);
  {
    CancelJob *stop = g_new0 (CancelJob, 1);
    g_async_queue_push (cancel_queue, stop);
    g_thread_join (cancel_thread);
    g_async_queue_unref (cancel_queue);
  }
  peer_stop ();
  targets_free ();
  for (guint i = 0; i < async_ops->len; i++)
    g_free (g_ptr_array_index (async_ops, i));
  g_ptr_array_unref (async_ops);
  for (guint i = 0; i < objects->len; i++)
    {
      Obj *o = g_ptr_array_index (objects, i);
      g_free (o->listen_name);
      g_free (o);
    }
  g_ptr_array_unref (objects);
  g_free (buf);
  g_free (out_data);
  remove_tree (tmp_dir);
  g_free (tmp_dir);
  g_strfreev (opt_provoke);
  g_free (opt_dispatch);
  return 0;
}
