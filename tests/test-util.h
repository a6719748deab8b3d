/* test-util.h: what the socket test suites share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Driving the thread-default main context until a condition holds, a signal
 * recorder that notes each emission with its argument, the state at that
 * moment and whether it came from inside a call, and plain POSIX peers on
 * loopback (listeners, readers, flooders) that never touch the library.
 */
#pragma once

#include <qsock-glib/qsock.h>

G_BEGIN_DECLS

/* ---- driving the main context ------------------------------------------ */

typedef struct _TuDeadline TuDeadline;

TuDeadline *tu_deadline_new     (guint       timeout_ms);
gboolean    tu_deadline_expired (TuDeadline *deadline);
/* One blocking iteration of the thread-default context; wakes up at least
 * every few milliseconds, so conditions set by other threads are seen. */
void        tu_deadline_iterate (TuDeadline *deadline);
void        tu_deadline_free    (TuDeadline *deadline);

/* Iterates the thread-default main context until @cond holds; fails the
 * test (with the condition's text) if @timeout_ms pass first. @cond is
 * evaluated again after the loop, so it must have no side effects. */
#define TU_RUN_UNTIL(cond, timeout_ms)                                        \
  G_STMT_START {                                                              \
    TuDeadline *tu_deadline_ = tu_deadline_new (timeout_ms);                  \
    gboolean tu_ok_;                                                          \
    while (!(cond) && !tu_deadline_expired (tu_deadline_))                    \
      tu_deadline_iterate (tu_deadline_);                                     \
    tu_ok_ = (cond);                                                          \
    tu_deadline_free (tu_deadline_);                                          \
    if (!tu_ok_)                                                              \
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,       \
                           "timed out after " #timeout_ms                     \
                           " ms waiting for: " #cond);                        \
  } G_STMT_END

/* The factor TU_TIMEOUT_SCALE (default 1) stretches every guard by, for
 * slow runs under valgrind or sanitizers. */
guint tu_timeout_scale (void);

/* Iterates the thread-default main context for @ms. Only for asserting that
 * something does NOT happen; never to wait for something that should. */
void tu_spin (guint ms);

/* ---- names ------------------------------------------------------------- */

const char *tu_state_name (QSockSocketState state);
const char *tu_error_name (QSockSocketError error);

/* ---- signal recorder --------------------------------------------------- */

typedef struct
{
  QSockAbstract *sock;
  GThread       *owner;
  GArray        *events;        /* TuEvent */
  gboolean       in_call;       /* set around the call under test */
  guint          n_ready_read;
  guint          n_connected;
  guint          n_disconnected;
  guint          n_errors;
  guint          n_state_changes;
  guint          n_host_found;
  guint          n_about_to_close;
  guint          n_read_channel_finished;
  gint64         bytes_written;
  guint          n_wrong_thread;
  QSockSocketError last_error;
  gulong         handlers[9];
} TuRecorder;

TuRecorder *tu_recorder_new   (gpointer    sock);
void        tu_recorder_free  (TuRecorder *rec);
void        tu_recorder_reset (TuRecorder *rec);
/* "s:" (inside the call) or "l:" (from the loop), the signal, its argument
 * in brackets, "@" and the state at emission, separated by spaces;
 * consecutive bytes-written of the same kind are summed. */
char       *tu_recorder_dump  (TuRecorder *rec);

#define TU_REC_CALL(rec, ...)                                                 \
  G_STMT_START { (rec)->in_call = TRUE; __VA_ARGS__; (rec)->in_call = FALSE; } G_STMT_END

#define tu_recorder_assert(rec, expected)                                     \
  G_STMT_START {                                                              \
    char *tu_dump_ = tu_recorder_dump (rec);                                  \
    g_assert_cmpstr (tu_dump_, ==, (expected));                               \
    g_free (tu_dump_);                                                        \
    g_assert_cmpuint ((rec)->n_wrong_thread, ==, 0);                          \
  } G_STMT_END

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TuRecorder, tu_recorder_free)

/* ---- plain POSIX peers on loopback ------------------------------------- */

gboolean tu_ipv6_loopback_available (void);

/* A listening socket on 127.0.0.1 (AF_INET) or ::1 (AF_INET6), port 0. */
int      tu_listen            (int          family,
                               int          backlog,
                               guint16     *port);
/* A socket bound to 127.0.0.1 but not listening: connecting is refused.
 * Keep it open while the port must stay refused. */
int      tu_refusing_socket   (guint16     *port);
/* Waits for a connection and accepts it; fails the test on timeout. */
int      tu_accept            (int          listen_fd,
                               guint        timeout_ms);
/* A blocking client socket connected to 127.0.0.1:@port. */
int      tu_connect           (guint16      port);
void     tu_write_all         (int          fd,
                               const void  *data,
                               gsize        n);
/* Reads exactly @n bytes; fails the test on timeout or EOF. */
void     tu_read_exact        (int          fd,
                               void        *data,
                               gsize        n,
                               guint        timeout_ms);
/* Reads until EOF; fails the test on timeout. */
GBytes  *tu_read_to_eof       (int          fd,
                               guint        timeout_ms);
/* Whether a read would now return EOF (0) within @timeout_ms;
 * FALSE if data or nothing arrives. */
gboolean tu_sees_eof          (int          fd,
                               guint        timeout_ms);
/* Closes with SO_LINGER 0, so the peer gets a RST. */
void     tu_close_with_reset  (int          fd);
guint16  tu_local_port_of     (int          fd);
guint16  tu_peer_port_of      (int          fd);

/* Whether @fd becomes readable (or has an error pending) within
 * @timeout_ms; reads nothing. */
gboolean tu_wait_readable     (int          fd,
                               guint        timeout_ms);
/* A plain UDP socket bound to 127.0.0.1 (AF_INET) or ::1 (AF_INET6),
 * port 0; -1 if that family's loopback cannot be bound. */
int      tu_udp_socket        (int          family,
                               guint16     *port);

/* A client QSockTcp connected (event loop) to a plain listener on
 * 127.0.0.1; *peer_fd is the accepted end. */
QSockTcp *tu_connected_pair   (int         *peer_fd);

/* ---- bulk data --------------------------------------------------------- */

/* The byte stream used by every bulk transfer: byte k is
 * tu_pattern()[k % TU_PATTERN_SIZE]; the odd size makes any lost,
 * repeated or reordered block change the checksum. */
#define TU_PATTERN_SIZE ((gsize) (1024 * 1024 + 13))
const guint8 *tu_pattern (void);
/* The next piece of the stream at @offset, at most @max bytes. */
const guint8 *tu_pattern_at (guint64 offset, gsize max, gsize *len);

typedef struct
{
  int        fd;
  guint64    total;          /* bytes to send (flood) */
  gboolean   shutdown_at_end;
  /* results */
  guint64    transferred;
  char      *checksum;       /* SHA-1 of what was sent or received */
  int        error;          /* errno of a failure, 0 if none */
  gint       done;           /* atomic */
} TuPeerJob;

/* A thread that writes @total bytes of the pattern stream to @fd (blocking),
 * then shuts the write side down if asked. */
GThread *tu_flood_start (TuPeerJob *job);
/* A thread that reads @fd until EOF and checksums what it got. */
GThread *tu_sink_start  (TuPeerJob *job);
/* SHA-1 of the first @n bytes of the pattern stream. */
char    *tu_pattern_checksum (guint64 n);

G_END_DECLS
