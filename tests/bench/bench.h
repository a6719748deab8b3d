/* bench.h: what the three implementations of each workload share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every workload is written three times, with qsock-glib, with plain GIO
 * (non-blocking GSocket, one g_socket_create_source() per socket) and with
 * raw epoll, and each run checks the data it moved: a run that moves the
 * wrong bytes fails with an error, however fast it was. The helpers here are
 * the reference data (the byte stream, ping messages, the line stream) and
 * their checkers, so the three implementations check exactly the same way,
 * plus plain POSIX loopback plumbing for set-up that is not timed.
 */
#pragma once

#include <qsock-glib/qsock.h>

G_BEGIN_DECLS

#define BENCH_ERROR (bench_error_quark ())
GQuark bench_error_quark (void);

typedef enum
{
  BENCH_ERROR_DATA,      /* wrong bytes, counts or order */
  BENCH_ERROR_SOCKET,    /* a socket call failed */
} BenchErrorCode;

#define BENCH_CHUNK       ((gsize) 64 * 1024)         /* bulk write size */
#define BENCH_MAX_QUEUED  ((gint64) 4 * 1024 * 1024)  /* qsock sender's queue cap */
#define BENCH_RECV_SIZE   ((gsize) 256 * 1024)        /* bulk read size */
#define BENCH_PING_SIZE   64
#define BENCH_LINE_MAX    100                         /* longest line, with '\n' */

typedef struct
{
  guint64 bulk_bytes;
  guint   round_trips;
  guint   idle;          /* idle connected pairs beside the ping-pong */
  guint   cycles;
  guint   lines;
} BenchParams;

/* One implementation of the four workload shapes; (c) is pingpong with
 * p->idle > 0. Each returns the timed part in *elapsed_us, or FALSE with
 * @error when a socket failed or the data was wrong. */
typedef gboolean (*BenchFunc) (const BenchParams *p,
                               gint64            *elapsed_us,
                               GError           **error);

gboolean bench_qsock_bulk     (const BenchParams *p, gint64 *elapsed_us, GError **error);
gboolean bench_qsock_pingpong (const BenchParams *p, gint64 *elapsed_us, GError **error);
gboolean bench_qsock_connect  (const BenchParams *p, gint64 *elapsed_us, GError **error);
gboolean bench_qsock_lines    (const BenchParams *p, gint64 *elapsed_us, GError **error);

gboolean bench_gio_bulk       (const BenchParams *p, gint64 *elapsed_us, GError **error);
gboolean bench_gio_pingpong   (const BenchParams *p, gint64 *elapsed_us, GError **error);
gboolean bench_gio_connect    (const BenchParams *p, gint64 *elapsed_us, GError **error);
gboolean bench_gio_lines      (const BenchParams *p, gint64 *elapsed_us, GError **error);

gboolean bench_epoll_bulk     (const BenchParams *p, gint64 *elapsed_us, GError **error);
gboolean bench_epoll_pingpong (const BenchParams *p, gint64 *elapsed_us, GError **error);
gboolean bench_epoll_connect  (const BenchParams *p, gint64 *elapsed_us, GError **error);
gboolean bench_epoll_lines    (const BenchParams *p, gint64 *elapsed_us, GError **error);

/* ---- the bulk byte stream ------------------------------------------------ */

/* Byte k of the stream is a fixed pseudo-random table at k % PERIOD. The
 * period is odd and not a multiple of any write or read size, so a lost,
 * repeated or reordered block shows. The returned pointer is valid for
 * BENCH_PATTERN_PERIOD bytes. */
#define BENCH_PATTERN_PERIOD ((gsize) (1024 * 1024 + 13))
const guint8 *bench_pattern_at     (guint64       offset);
/* Whether @n bytes received at stream @offset are the right ones. */
gboolean      bench_pattern_check  (guint64       offset,
                                    const void   *data,
                                    gsize         n);

/* ---- ping messages ------------------------------------------------------- */

void     bench_ping_fill  (guint8       *msg,
                           guint32       seq);
gboolean bench_ping_check (const guint8 *msg,
                           guint32       seq);

/* ---- the line stream ----------------------------------------------------- */

/* @n lines of 40 to 100 bytes each (the '\n' included), printable, made
 * once per @n and kept for the life of the process. */
typedef struct
{
  char   *data;
  gsize   size;
  guint   n_lines;
} BenchLines;

const BenchLines *bench_lines_get (guint n);

/* Checks lines in arrival order against the stream. */
typedef struct
{
  const BenchLines *lines;
  gsize             offset;
  guint             index;
} BenchLineCheck;

void     bench_line_check_init   (BenchLineCheck *check,
                                  const BenchLines *lines);
/* @line is one whole line, '\n' included. */
gboolean bench_line_check        (BenchLineCheck *check,
                                  const char     *line,
                                  gsize           len,
                                  GError        **error);
/* At end of stream: the writer thread did not fail (@writer_error, its
 * result, is NULL), every line arrived, and no @leftover bytes came after
 * the last one. */
gboolean bench_lines_finish      (BenchLineCheck *check,
                                  gsize           leftover,
                                  const char     *writer_error,
                                  GError        **error);

/* The hand-made reader of the GIO and epoll versions: a flat buffer that
 * the kernel fills at the end and lines are cut from the front with
 * memchr(), never scanning a byte twice. */
typedef struct
{
  char  data[64 * 1024];
  gsize start;     /* first byte not yet consumed */
  gsize scanned;   /* [start, scanned) holds no '\n' */
  gsize end;
} BenchLineBuf;

/* Free room at the end (compacting first if needed). */
char    *bench_line_buf_space (BenchLineBuf   *buf,
                               gsize          *space);
/* Takes @n new bytes and checks every whole line now in the buffer. */
gboolean bench_line_buf_feed  (BenchLineBuf   *buf,
                               gsize           n,
                               BenchLineCheck *check,
                               GError        **error);

/* Writes the whole stream to the blocking @fd from a new thread, then
 * closes @fd; the thread returns NULL, or an error text to g_free(). */
GThread *bench_line_writer_start (int               fd,
                                  const BenchLines *lines);

/* ---- loopback plumbing (set-up only, never timed) ------------------------ */

/* A listening AF_INET socket on 127.0.0.1, port 0 (the port in *port). */
int      bench_listen          (guint16  *port,
                                GError  **error);
/* A blocking socket connected to 127.0.0.1:@port. */
int      bench_connect         (guint16   port,
                                GError  **error);
/* A connected loopback pair of blocking sockets, TCP_NODELAY on both. */
gboolean bench_socket_pair     (int      *client,
                                int      *server,
                                GError  **error);
void     bench_set_nonblocking (int       fd);
void     bench_set_nodelay     (int       fd);
/* Blocks until all of @data is written to @fd (which may be non-blocking). */
gboolean bench_send_all        (int         fd,
                                const void *data,
                                gsize       n,
                                GError    **error);

/* Takes both errors of a two-thread run and keeps one: the receiver's, the
 * cause (wrong data), before the sender's, usually only its symptom (the
 * receiver hung up). Returns whether there was none. */
gboolean bench_bulk_result     (GError     *sender_error,
                                GError     *receiver_error,
                                GError    **error);

gboolean bench_set_errno_error (GError    **error,
                                int         errsv,
                                const char *what);

/* ---- starting two threads together --------------------------------------- */

/* The main thread waits until every worker is set up, notes the start time
 * and lets them go; the set-up is never timed. */
typedef struct
{
  GMutex  lock;
  GCond   cond;
  guint   ready;
  gboolean open;
  gint64  start_us;
} BenchGate;

void   bench_gate_init      (BenchGate *gate);
void   bench_gate_clear     (BenchGate *gate);
/* Worker side: reports ready, then blocks until the gate opens. */
void   bench_gate_arrive    (BenchGate *gate);
/* Main side: waits for @n workers, then opens the gate. */
void   bench_gate_open      (BenchGate *gate,
                             guint      n);

G_END_DECLS
