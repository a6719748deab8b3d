/* bench.h: what the implementations of each workload share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every workload is written four times, with qsock-glib, with plain GIO
 * (non-blocking GSocket, one g_socket_create_source() per socket), with
 * raw epoll and with Qt 6 (bench-qt-*.cpp, when Qt6Network is found), and
 * each run checks the data it moved: a run that moves the wrong bytes fails
 * with an error, however fast it was. The helpers here are the reference
 * data (the byte stream, ping messages, the line stream) and their
 * checkers, so all implementations check exactly the same way, plus plain
 * POSIX loopback plumbing for set-up that is not timed, the memory
 * workload's driver, and the --results output.
 */
#pragma once

/* GLib only: the Qt implementation (C++) includes this too, without
 * linking qsock-glib's headers into its translation unit. */
#include <glib.h>

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
  gint64  max_us;        /* ping-pong: stop after this long (0: never) */
  guint   cycles;
  guint   lines;
  guint   pairs;         /* memory: connected pairs measured */
} BenchParams;

/* What one run reports. */
typedef struct
{
  gint64 elapsed_us;     /* the timed part */
  guint  done;           /* ping-pong: round trips done (fewer than asked
                            when max_us cut the run short) */
  double idle_bytes;     /* memory: user-space heap per connected pair */
  double hello_bytes;    /*   idle, and after a 64-byte hello each way */
} BenchResult;

/* One implementation of the workload shapes; (c) is pingpong with
 * p->idle > 0. Each fills @res, or returns FALSE with @error when a socket
 * failed or the data was wrong. */
typedef gboolean (*BenchFunc) (const BenchParams *p,
                               BenchResult       *res,
                               GError           **error);

gboolean bench_qsock_bulk     (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_qsock_pingpong (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_qsock_connect  (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_qsock_lines    (const BenchParams *p, BenchResult *res, GError **error);

gboolean bench_gio_bulk       (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_gio_pingpong   (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_gio_connect    (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_gio_lines      (const BenchParams *p, BenchResult *res, GError **error);

gboolean bench_epoll_bulk     (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_epoll_pingpong (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_epoll_connect  (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_epoll_lines    (const BenchParams *p, BenchResult *res, GError **error);

/* (f) memory per connected pair, idle and after a hello: bench-mem.c */
gboolean bench_qsock_memory   (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_gio_memory     (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_epoll_memory   (const BenchParams *p, BenchResult *res, GError **error);

/* The memory workload's driver (bench-mem.c), shared by every
 * implementation: it makes MEM_WARM pairs and says hello on them (so
 * one-time set-up and pools are not counted), notes the heap, makes
 * p->pairs more, notes the heap (idle), has each client send a 64-byte
 * hello that its server end reads and answers with 64 bytes that the
 * client reads, and notes the heap again. Per pair = delta / p->pairs; the
 * benchmark's own per-pair records are allocated before the first note. */
#define BENCH_MEM_WARM 8

typedef struct _BenchMemRun BenchMemRun;

typedef struct
{
  BenchMemRun *run;
  guint32      seq;         /* what this end expects: bench_ping_fill (seq) */
  gboolean     is_server;
  gboolean     got;
  gsize        have;
  guint8       msg[BENCH_PING_SIZE];
  gpointer     object;      /* the implementation's: a socket object */
  gpointer     source;      /*   a GSource, a helper object */
  int          fd;
} BenchMemEnd;

typedef struct
{
  gboolean (*setup)    (BenchMemRun *run, GError **error);
  gboolean (*add_pair) (BenchMemRun *run, BenchMemEnd *client, BenchMemEnd *server, GError **error);
  gboolean (*send)     (BenchMemRun *run, BenchMemEnd *end, const guint8 *msg, GError **error);
  /* Blocks until something happened, then dispatches it. */
  void     (*wait)     (BenchMemRun *run);
  /* Runs whatever is ready or posted without blocking. */
  void     (*settle)   (BenchMemRun *run);
  void     (*teardown) (BenchMemRun *run);
} BenchMemOps;

struct _BenchMemRun
{
  const BenchMemOps *ops;
  gpointer           data;      /* the implementation's */
  BenchMemEnd       *ends;      /* client 2i, server 2i+1 */
  guint              n_ends;
  guint              waiting;   /* hellos not yet read */
  GError            *error;     /* the first failure, from a callback */
};

gboolean bench_memory_run      (const BenchMemOps *ops,
                                gpointer           data,
                                const BenchParams *p,
                                BenchResult       *res,
                                GError           **error);
/* An implementation's read callback hands what arrived here: it checks the
 * hello, and a server end answers it through ops->send. */
void     bench_memory_received (BenchMemEnd       *end,
                                const void        *data,
                                gsize              n);
void     bench_memory_fail     (BenchMemRun       *run,
                                GError            *error);

/* Qt 6 (bench-qt.cpp), built only when Qt6Network is found
 * (BENCH_HAVE_QT). bench_qt_init() makes the QCoreApplication, from the
 * main thread, before any run. */
#ifdef BENCH_HAVE_QT
void     bench_qt_init        (int *argc, char **argv);
const char *bench_qt_version  (void);
gboolean bench_qt_bulk        (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_qt_pingpong    (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_qt_connect     (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_qt_lines       (const BenchParams *p, BenchResult *res, GError **error);
gboolean bench_qt_memory      (const BenchParams *p, BenchResult *res, GError **error);
/* qsock-bench-unix: @total bytes over a Unix stream socket at @path. */
gboolean bench_qt_unix        (const char *path, guint64 total, gint64 *elapsed_us, GError **error);
#endif

/* Whether a ping-pong that has done @done round trips is to stop: all done,
 * or (every 64th round trip) past @deadline (0: none). */
static inline gboolean
bench_pingpong_over (guint done, guint round_trips, gint64 deadline)
{
  return done >= round_trips ||
         (deadline != 0 && (done & 63) == 0 && g_get_monotonic_time () >= deadline);
}

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
/* Teardown: makes close() reset the connection (SO_LINGER 0), so the many
 * idle and memory pairs leave no TIME_WAIT behind to slow later runs. */
void     bench_set_linger_zero (int       fd);
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

/* ---- measuring ----------------------------------------------------------- */

/* Bytes of heap in use now, in every arena (glibc's mallinfo2(): in-use
 * chunks plus mmap()ed blocks); elsewhere the resident set size. */
gsize    bench_heap_in_use     (void);
/* Raises RLIMIT_NOFILE to at least @needed descriptors (the hard limit
 * too when allowed). Returns whether the soft limit is now >= @needed. */
gboolean bench_raise_fd_limit  (guint64     needed);

/* One machine-readable line per run for tests/bench/run-benchmarks:
 * "<key>\t<impl>\t<round>\t<value>\t<unit>" appended to --results FILE. */
void     bench_results_open    (const char *path);
void     bench_results_add     (const char *key,
                                const char *impl,
                                guint       round,
                                double      value,
                                const char *unit);

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
