/* bench-util.c: reference data, checkers and loopback plumbing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

G_DEFINE_QUARK (bench-error-quark, bench_error)

gboolean
bench_set_errno_error (GError    **error,
                       int         errsv,
                       const char *what)
{
  g_set_error (error, BENCH_ERROR, BENCH_ERROR_SOCKET, "%s: %s", what, g_strerror (errsv));
  return FALSE;
}

gboolean
bench_bulk_result (GError  *sender_error,
                   GError  *receiver_error,
                   GError **error)
{
  if (receiver_error != NULL)
    {
      g_propagate_error (error, receiver_error);
      g_clear_error (&sender_error);
      return FALSE;
    }
  if (sender_error != NULL)
    {
      g_propagate_error (error, sender_error);
      return FALSE;
    }
  return TRUE;
}

/* ---- measuring ----------------------------------------------------------- */

gsize
bench_heap_in_use (void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2 ();

  return mi.uordblks + mi.hblkhd;
#else
  unsigned long size = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");

  if (f != NULL)
    {
      if (fscanf (f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
      fclose (f);
    }
  return (gsize) resident * (gsize) sysconf (_SC_PAGESIZE);
#endif
}

gboolean
bench_raise_fd_limit (guint64 needed)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return FALSE;
  if (limit.rlim_cur >= needed)
    return TRUE;
  if (limit.rlim_max < needed)
    {
      struct rlimit raised = { needed, needed };

      /* Needs CAP_SYS_RESOURCE (root); otherwise the hard limit stays. */
      if (setrlimit (RLIMIT_NOFILE, &raised) == 0)
        return TRUE;
    }
  limit.rlim_cur = MIN (MAX (limit.rlim_cur, needed), limit.rlim_max);
  setrlimit (RLIMIT_NOFILE, &limit);
  return getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur >= needed;
}

static FILE *results_file;

void
bench_results_open (const char *path)
{
  if (path == NULL)
    return;
  results_file = fopen (path, "a");
  if (results_file == NULL)
    g_printerr ("--results: cannot open %s: %s\n", path, g_strerror (errno));
}

void
bench_results_add (const char *key,
                   const char *impl,
                   guint       round,
                   double      value,
                   const char *unit)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (results_file == NULL)
    return;
  fprintf (results_file, "%s\t%s\t%u\t%s\t%s\n", key, impl, round,
           g_ascii_dtostr (buf, sizeof buf, value), unit);
  fflush (results_file);
}

/* ---- the bulk byte stream ------------------------------------------------ */

/* Two periods back to back, so any read of up to one period is contiguous. */
static guint8 *pattern;

static gpointer
make_pattern (gpointer data)
{
  guint8 *p = g_malloc (2 * BENCH_PATTERN_PERIOD);
  guint32 x = 2463534242u;

  for (gsize i = 0; i < BENCH_PATTERN_PERIOD; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      p[i] = (guint8) x;
    }
  memcpy (p + BENCH_PATTERN_PERIOD, p, BENCH_PATTERN_PERIOD);
  pattern = p;
  return NULL;
}

const guint8 *
bench_pattern_at (guint64 offset)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, make_pattern, NULL);
  return pattern + offset % BENCH_PATTERN_PERIOD;
}

gboolean
bench_pattern_check (guint64     offset,
                     const void *data,
                     gsize       n)
{
  const guint8 *p = data;

  while (n > 0)
    {
      gsize len = MIN (n, BENCH_PATTERN_PERIOD);

      if (memcmp (p, bench_pattern_at (offset), len) != 0)
        return FALSE;
      p += len;
      offset += len;
      n -= len;
    }
  return TRUE;
}

/* ---- ping messages ------------------------------------------------------- */

void
bench_ping_fill (guint8  *msg,
                 guint32  seq)
{
  guint32 x = seq * 2654435761u + 1;

  memcpy (msg, &seq, sizeof seq);
  for (gsize i = sizeof seq; i < BENCH_PING_SIZE; i++)
    {
      x = x * 1103515245u + 12345u;
      msg[i] = (guint8) (x >> 16);
    }
}

gboolean
bench_ping_check (const guint8 *msg,
                  guint32       seq)
{
  guint8 expected[BENCH_PING_SIZE];

  bench_ping_fill (expected, seq);
  return memcmp (msg, expected, BENCH_PING_SIZE) == 0;
}

/* ---- the line stream ----------------------------------------------------- */

static BenchLines *
lines_new (guint n)
{
  BenchLines *lines = g_new0 (BenchLines, 1);
  GString *s = g_string_sized_new ((gsize) n * 71);
  guint32 x = 88172645u;

  for (guint i = 0; i < n; i++)
    {
      gsize len;

      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      len = 40 + x % (BENCH_LINE_MAX - 40 + 1);   /* 40..100 with the '\n' */

      g_string_append_printf (s, "%08u ", i);
      for (gsize k = 9; k < len - 1; k++)
        g_string_append_c (s, (char) (' ' + 1 + (x >> (k % 24)) % 94));
      g_string_append_c (s, '\n');
    }

  lines->n_lines = n;
  lines->size = s->len;
  lines->data = g_string_free (s, FALSE);
  return lines;
}

const BenchLines *
bench_lines_get (guint n)
{
  static GMutex lock;
  static GHashTable *made;
  BenchLines *lines;

  g_mutex_lock (&lock);
  if (made == NULL)
    made = g_hash_table_new (NULL, NULL);
  lines = g_hash_table_lookup (made, GUINT_TO_POINTER (n));
  if (lines == NULL)
    {
      lines = lines_new (n);
      g_hash_table_insert (made, GUINT_TO_POINTER (n), lines);
    }
  g_mutex_unlock (&lock);
  return lines;
}

void
bench_line_check_init (BenchLineCheck   *check,
                       const BenchLines *lines)
{
  check->lines = lines;
  check->offset = 0;
  check->index = 0;
}

gboolean
bench_line_check (BenchLineCheck *check,
                  const char     *line,
                  gsize           len,
                  GError        **error)
{
  const BenchLines *lines = check->lines;

  /* The stream has exactly one '\n' per line, at its end: equal bytes
   * ending in '\n' mean the same line with the same boundary. */
  if (len == 0 || line[len - 1] != '\n' || check->offset + len > lines->size ||
      memcmp (line, lines->data + check->offset, len) != 0)
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA,
                   "line %u (stream offset %" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT " bytes) is wrong",
                   check->index, check->offset, len);
      return FALSE;
    }

  check->offset += len;
  check->index++;
  return TRUE;
}

gboolean
bench_lines_finish (BenchLineCheck *check,
                    gsize           leftover,
                    const char     *writer_error,
                    GError        **error)
{
  if (writer_error != NULL)
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_SOCKET, "line writer: %s", writer_error);
      return FALSE;
    }
  if (check->index != check->lines->n_lines || check->offset != check->lines->size)
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA,
                   "got %u whole lines (%" G_GSIZE_FORMAT " bytes) and %" G_GSIZE_FORMAT
                   " bytes more, expected %u lines (%" G_GSIZE_FORMAT " bytes)",
                   check->index, check->offset, leftover, check->lines->n_lines, check->lines->size);
      return FALSE;
    }
  if (leftover != 0)
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA,
                   "%" G_GSIZE_FORMAT " bytes after the last line", leftover);
      return FALSE;
    }
  return TRUE;
}

char *
bench_line_buf_space (BenchLineBuf *buf,
                      gsize        *space)
{
  if (buf->start == buf->end)
    buf->start = buf->scanned = buf->end = 0;
  else if (buf->end == sizeof buf->data)
    {
      /* Only a partial line (< BENCH_LINE_MAX bytes) is ever left over. */
      gsize left = buf->end - buf->start;

      memmove (buf->data, buf->data + buf->start, left);
      buf->scanned -= buf->start;
      buf->start = 0;
      buf->end = left;
    }

  *space = sizeof buf->data - buf->end;
  return buf->data + buf->end;
}

gboolean
bench_line_buf_feed (BenchLineBuf   *buf,
                     gsize           n,
                     BenchLineCheck *check,
                     GError        **error)
{
  buf->end += n;

  for (;;)
    {
      char *nl = memchr (buf->data + buf->scanned, '\n', buf->end - buf->scanned);
      gsize len;

      if (nl == NULL)
        {
          buf->scanned = buf->end;
          break;
        }

      len = (gsize) (nl - (buf->data + buf->start)) + 1;
      if (!bench_line_check (check, buf->data + buf->start, len, error))
        return FALSE;
      buf->start += len;
      buf->scanned = buf->start;
    }

  if (buf->end - buf->start >= BENCH_LINE_MAX)
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_DATA,
                   "line %u is longer than %d bytes", check->index, BENCH_LINE_MAX);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  int               fd;
  const BenchLines *lines;
} LineWriter;

static gpointer
line_writer_thread (gpointer data)
{
  LineWriter *w = data;
  g_autoptr(GError) error = NULL;
  char *result = NULL;

  for (gsize off = 0; off < w->lines->size && result == NULL; off += BENCH_CHUNK)
    {
      if (!bench_send_all (w->fd, w->lines->data + off, MIN (BENCH_CHUNK, w->lines->size - off), &error))
        result = g_strdup (error->message);
    }

  close (w->fd);
  g_free (w);
  return result;
}

GThread *
bench_line_writer_start (int               fd,
                         const BenchLines *lines)
{
  LineWriter *w = g_new0 (LineWriter, 1);

  w->fd = fd;
  w->lines = lines;
  return g_thread_new ("bench-line-writer", line_writer_thread, w);
}

/* ---- loopback plumbing --------------------------------------------------- */

static void
loopback_address (struct sockaddr_in *sin,
                  guint16             port)
{
  memset (sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_port = htons (port);
  sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
}

int
bench_listen (guint16  *port,
              GError  **error)
{
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    {
      bench_set_errno_error (error, errno, "socket");
      return -1;
    }

  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  loopback_address (&sin, 0);
  if (bind (fd, (struct sockaddr *) &sin, sizeof sin) != 0 || listen (fd, 1024) != 0 ||
      getsockname (fd, (struct sockaddr *) &sin, &len) != 0)
    {
      bench_set_errno_error (error, errno, "listen");
      close (fd);
      return -1;
    }

  *port = ntohs (sin.sin_port);
  return fd;
}

int
bench_connect (guint16  port,
               GError **error)
{
  struct sockaddr_in sin;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    {
      bench_set_errno_error (error, errno, "socket");
      return -1;
    }

  loopback_address (&sin, port);
  if (connect (fd, (struct sockaddr *) &sin, sizeof sin) != 0)
    {
      bench_set_errno_error (error, errno, "connect");
      close (fd);
      return -1;
    }
  return fd;
}

gboolean
bench_socket_pair (int     *client,
                   int     *server,
                   GError **error)
{
  guint16 port;
  int lfd = bench_listen (&port, error);
  int c, s;

  if (lfd < 0)
    return FALSE;

  c = bench_connect (port, error);
  if (c < 0)
    {
      close (lfd);
      return FALSE;
    }

  s = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  close (lfd);
  if (s < 0)
    {
      close (c);
      return bench_set_errno_error (error, errno, "accept");
    }

  bench_set_nodelay (c);
  bench_set_nodelay (s);
  *client = c;
  *server = s;
  return TRUE;
}

void
bench_set_nonblocking (int fd)
{
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
}

void
bench_set_linger_zero (int fd)
{
  struct linger linger = { .l_onoff = 1, .l_linger = 0 };

  if (fd >= 0)
    setsockopt (fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
}

void
bench_set_nodelay (int fd)
{
  int one = 1;

  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

gboolean
bench_send_all (int         fd,
                const void *data,
                gsize       n,
                GError    **error)
{
  const char *p = data;

  while (n > 0)
    {
      gssize r = send (fd, p, n, MSG_NOSIGNAL);

      if (r < 0 && errno == EAGAIN)
        {
          struct pollfd pfd = { .fd = fd, .events = POLLOUT };

          poll (&pfd, 1, -1);
          continue;
        }
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return bench_set_errno_error (error, errno, "send");
      p += r;
      n -= (gsize) r;
    }
  return TRUE;
}

/* ---- starting two threads together --------------------------------------- */

void
bench_gate_init (BenchGate *gate)
{
  memset (gate, 0, sizeof *gate);
  g_mutex_init (&gate->lock);
  g_cond_init (&gate->cond);
}

void
bench_gate_clear (BenchGate *gate)
{
  g_mutex_clear (&gate->lock);
  g_cond_clear (&gate->cond);
}

void
bench_gate_arrive (BenchGate *gate)
{
  g_mutex_lock (&gate->lock);
  gate->ready++;
  g_cond_broadcast (&gate->cond);
  while (!gate->open)
    g_cond_wait (&gate->cond, &gate->lock);
  g_mutex_unlock (&gate->lock);
}

void
bench_gate_open (BenchGate *gate,
                 guint      n)
{
  g_mutex_lock (&gate->lock);
  while (gate->ready < n)
    g_cond_wait (&gate->cond, &gate->lock);
  gate->start_us = g_get_monotonic_time ();
  gate->open = TRUE;
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->lock);
}
