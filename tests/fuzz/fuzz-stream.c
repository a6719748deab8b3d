/* fuzz-stream.c: libFuzzer target for the stream reader
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A QSockLocal adopts one end of an AF_UNIX stream socketpair; the harness
 * writes the other end. The input is a list of operations: write a chunk,
 * run the main context, and every reading call of QSockIODevice (read,
 * read_line, peek, get_char, unget_char, skip, can_read_line,
 * bytes_available, at_end, transactions, read_all, text mode, the read
 * buffer limit, close), plus one reading call to run from every ready-read
 * handler. Each result is checked against a model: the bytes written and
 * not yet consumed, of which the library holds a prefix (what the kernel
 * does not: FIONREAD on its descriptor), and the transaction's position.
 * Any disagreement, any critical and any unexpected warning aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-common.h"

/* Big enough to cross the library's read hint (4 KiB to 64 KiB) and the
 * kernel's socket buffer, small enough to stay fast. */
#define MAX_WRITE      (96 * 1024)
#define MAX_PENDING    (512 * 1024)
#define MAX_C_BUFFER   (160 * 1024)
#define MAX_HANDLER_RUNS 64

enum {
  OP_WRITE,
  OP_SETTLE,
  OP_ITERATE,
  OP_READ,
  OP_READ_BYTES,
  OP_READ_ALL,
  OP_READ_LINE,
  OP_READ_LINE_BYTES,
  OP_PEEK,
  OP_PEEK_BYTES,
  OP_GET_CHAR,
  OP_UNGET_CHAR,
  OP_SKIP,
  OP_CAN_READ_LINE,
  OP_BYTES_AVAILABLE,
  OP_AT_END,
  OP_START_TRANSACTION,
  OP_COMMIT_TRANSACTION,
  OP_ROLLBACK_TRANSACTION,
  OP_SET_READ_BUFFER_SIZE,
  OP_SET_TEXT_MODE,
  OP_WAIT_FOR_READY_READ,
  OP_SET_HANDLER,
  OP_SHUTDOWN_PEER,
  OP_CLOSE,
  OP_SET_HALF_CLOSE,
  OP_SHUTDOWN_WRITE,
  OP_READ_LINE_ASYNC,
  OP_READ_EXACTLY_ASYNC,
  N_OPS
};

typedef struct
{
  guint8 code;
  gint64 size;
  guint8 byte;
} Op;

typedef struct
{
  FuzzInput     *in;
  QSockLocal    *sock;
  QSockIODevice *dev;
  int            peer;
  /* The model: every byte written and not consumed; the library holds
   * the first buffered() of them, the kernel the rest. */
  GByteArray    *pending;         /* from pending_head on; see pending_data () */
  gsize          pending_head;
  gboolean       transaction;
  gsize          transaction_pos;
  gboolean       text;
  gint64         limit;
  gboolean       peer_closed;
  gboolean       half_close;
  gboolean       write_shut;      /* qsock_local_shutdown_write () */
  gboolean       input_finished;  /* read-channel-finished came */
  gboolean       input_half_closed; /* ...with half-close on */
  gboolean       closed;
  gboolean       closing;         /* inside qsock_iodevice_close () */
  gsize          last_buffered;   /* what the library held after the last check */
  guint64        written;         /* every byte the peer ever sent */
  guint64        delivered_at_ready_read;
  Op             handler_op;      /* run from every ready-read; OP_WRITE = none */
  guint          handler_runs;
  int            depth;           /* inside a ready-read handler */
} Stream;

/* The model's bytes live in a GByteArray consumed from the front by
 * moving pending_head, compacted now and then: reading byte by byte from
 * half a megabyte must not move it all each time. */
static gsize
pending_len (Stream *s)
{
  return s->pending->len - s->pending_head;
}

static guint8 *
pending_data (Stream *s)
{
  return s->pending->data + s->pending_head;
}

static void
pending_drop (Stream *s,
              gsize   n)
{
  s->pending_head += n;
  if (s->pending_head == s->pending->len)
    {
      g_byte_array_set_size (s->pending, 0);
      s->pending_head = 0;
    }
  else if (s->pending_head >= 64 * 1024 && s->pending_head * 2 >= s->pending->len)
    {
      g_byte_array_remove_range (s->pending, 0, s->pending_head);
      s->pending_head = 0;
    }
}

static void
pending_prepend (Stream *s,
                 guint8  c)
{
  if (s->pending_head == 0)
    {
      static const guint8 room[4096];

      g_byte_array_prepend (s->pending, room, sizeof room);
      s->pending_head = sizeof room;
    }
  s->pending->data[--s->pending_head] = c;
}

static gsize
kernel_bytes (Stream *s)
{
  int fd = qsock_local_get_socket_descriptor (s->sock);
  int n = 0;

  if (fd < 0)
    return 0;
  FUZZ_CHECK (ioctl (fd, FIONREAD, &n) == 0, "FIONREAD: %s", g_strerror (errno));
  return (gsize) n;
}

/* How many of the pending bytes the library has read from the kernel. */
static gsize
buffered (Stream *s)
{
  gsize in_kernel;

  if (s->closed)
    return 0;
  in_kernel = kernel_bytes (s);
  FUZZ_CHECK (in_kernel <= pending_len (s), "kernel %zu, pending %zu", in_kernel, pending_len (s));
  return pending_len (s) - in_kernel;
}

static gboolean
connected (Stream *s)
{
  return qsock_local_get_state (s->sock) == QSOCK_LOCAL_SOCKET_STATE_CONNECTED;
}

/* Where reading starts: after what the transaction has read. */
static gsize
read_pos (Stream *s)
{
  return s->transaction ? s->transaction_pos : 0;
}

static void
consume (Stream *s,
         gsize   n)
{
  if (s->transaction)
    s->transaction_pos += n;
  else
    pending_drop (s, n);
}

/* What reading at most @max output bytes from @from (before @end) gives:
 * the bytes in @out (if not NULL), text mode dropping every '\r'. Returns
 * the output length; *consumed says how many bytes it took. */
static gsize
model_take (Stream *s,
            gsize   from,
            gsize   end,
            gsize   max,
            guint8 *out,
            gsize  *consumed)
{
  const guint8 *data = pending_data (s);
  gsize i = from;
  gsize n = 0;

  /* A run at a time (the harness is instrumented too: a loop per byte
   * would cost more than the library's own work). A '\r' counts only if
   * more output is wanted when it is reached. */
  while (i < end && n < max)
    {
      gsize limit = end - i > max - n ? i + (max - n) : end;
      const guint8 *cr = s->text ? memchr (data + i, '\r', limit - i) : NULL;
      gsize run = (cr != NULL ? (gsize) (cr - data) : limit) - i;

      if (out != NULL)
        memcpy (out + n, data + i, run);
      n += run;
      i += run;
      if (cr != NULL)
        i++;
    }
  *consumed = i - from;
  return n;
}

/* The length of the next line (through its '\n'), at most @max bytes. */
static gsize
model_line_length (Stream *s,
                   gsize   from,
                   gsize   end,
                   gsize   max)
{
  gsize stop = end - from > max ? from + max : end;
  const guint8 *nl = memchr (pending_data (s) + from, '\n', stop - from);

  return nl != NULL ? (gsize) (nl - (pending_data (s) + from)) + 1 : stop - from;
}

static void
check_bytes (const char   *what,
             const guint8 *got,
             gsize         got_len,
             const guint8 *expected,
             gsize         expected_len)
{
  FUZZ_CHECK (got_len == expected_len, "%s: %zu bytes, model %zu", what, got_len, expected_len);
  FUZZ_CHECK (got_len == 0 || memcmp (got, expected, got_len) == 0, "%s: different bytes", what);
}

static void
check_gbytes (const char   *what,
              GBytes       *bytes,
              const guint8 *expected,
              gsize         expected_len)
{
  gsize len;
  const guint8 *data;

  FUZZ_CHECK (bytes != NULL, "%s returned NULL", what);
  data = g_bytes_get_data (bytes, &len);
  check_bytes (what, data, len, expected, expected_len);
  g_bytes_unref (bytes);
}

/* After every operation: the transaction agrees, reading never went past
 * the limit, and the socket stays connected while the peer has not closed
 * (and holds nothing in the kernel once it is not). */
static void
check_invariants (Stream *s)
{
  gsize b = buffered (s);

  FUZZ_CHECK (read_pos (s) <= b, "transaction at %zu, %zu buffered", read_pos (s), b);
  FUZZ_CHECK (qsock_iodevice_is_transaction_started (s->dev) == s->transaction);
  if (!s->closed && s->limit > 0 && b > s->last_buffered)
    FUZZ_CHECK (b <= (guint64) s->limit, "read to %zu bytes past the limit %" G_GINT64_FORMAT, b, s->limit);
  if (!s->peer_closed && !s->closed)
    FUZZ_CHECK (connected (s), "state %d with the peer still open", qsock_local_get_state (s->sock));
  if (!connected (s))
    FUZZ_CHECK (kernel_bytes (s) == 0);
  s->last_buffered = b;
}

/* After the main context ran dry: every byte the limit allows was read. */
static void
check_settled (Stream *s)
{
  gsize in_kernel = kernel_bytes (s);
  gsize b = buffered (s);

  check_invariants (s);
  if (s->closed)
    return;
  if (s->limit <= 0)
    FUZZ_CHECK (in_kernel == 0, "unlimited, but %zu bytes left in the kernel", in_kernel);
  if (in_kernel > 0)
    FUZZ_CHECK (b > 0, "%zu bytes in the kernel, none buffered (limit %" G_GINT64_FORMAT ")",
                in_kernel, s->limit);
  if (s->peer_closed && s->limit <= 0)
    {
      FUZZ_CHECK (s->input_finished, "the peer closed, no read-channel-finished");
      /* Half-closed, it stays connected until it shuts its side too. */
      FUZZ_CHECK (connected (s) == (s->input_half_closed && !s->write_shut),
                  "the peer closed, half-close %d, shut down %d, state %d",
                  s->input_half_closed, s->write_shut, qsock_local_get_state (s->sock));
    }
}

static Op
decode_op (Stream *s)
{
  Op op = { fuzz_input_u8 (s->in) % N_OPS, 0, 0 };
  gsize b = s->closed ? 0 : buffered (s);

  switch (op.code)
    {
    case OP_WRITE:
      op.size = fuzz_input_u16 (s->in);
      if (op.size & 0x8000)
        op.size = (op.size & 0x7fff) * 3 % MAX_WRITE;
      else
        op.size &= 0xff;
      break;
    case OP_UNGET_CHAR:
    case OP_SET_TEXT_MODE:
    case OP_SET_HALF_CLOSE:
      op.byte = fuzz_input_u8 (s->in);
      break;
    case OP_SET_HANDLER:
      break;
    default:
      op.size = fuzz_input_size (s->in, (gint64) (b - MIN (b, read_pos (s))));
      break;
    }
  return op;
}

static void run_op (Stream *s, Op op);

static void
on_read_channel_finished (QSockIODevice *dev,
                          Stream        *s)
{
  /* Closing the device ends the input too (Qt emits it on every
   * disconnect). */
  FUZZ_CHECK (!s->input_finished || s->closing, "read-channel-finished twice");
  FUZZ_CHECK (s->peer_closed || s->closing, "read-channel-finished with the peer open");
  s->input_finished = TRUE;
  s->input_half_closed = qsock_local_get_half_close (s->sock);
}
static guint64 delivered (Stream *s);

static void
on_ready_read (QSockIODevice *dev,
               Stream        *s)
{
  FUZZ_CHECK (s->depth == 0, "ready-read emitted from inside its handler");
  FUZZ_CHECK (!s->closed, "ready-read after close");
  FUZZ_CHECK (delivered (s) > s->delivered_at_ready_read, "ready-read with no new bytes");
  s->delivered_at_ready_read = delivered (s);
  if (s->handler_op.code == OP_WRITE || s->handler_runs >= MAX_HANDLER_RUNS)
    return;
  s->handler_runs++;
  s->depth++;
  check_invariants (s);
  run_op (s, s->handler_op);
  s->depth--;
}

static void
do_write (Stream *s,
          gint64  size)
{
  g_autofree guint8 *chunk = NULL;
  const guint8 *pattern;
  gsize pattern_len;
  gssize n;

  if (s->peer_closed || s->closed || pending_len (s) + size > MAX_PENDING)
    return;

  /* Up to 64 bytes from the input, repeated, so big writes stay cheap. */
  pattern = fuzz_input_bytes (s->in, MIN (size, 64), &pattern_len);
  chunk = g_malloc (MAX (size, 1));
  fuzz_fill_pattern (chunk, size, pattern, pattern_len);

  n = send (s->peer, chunk, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0)
    {
      FUZZ_CHECK (errno == EAGAIN, "send: %s", g_strerror (errno));
      return;
    }
  g_byte_array_append (s->pending, chunk, n);
  s->written += n;
}

/* How many bytes the library ever took from the kernel. */
static guint64
delivered (Stream *s)
{
  return s->written - kernel_bytes (s);
}

/* qsock_iodevice_read() into a buffer of exactly @size bytes. */
static gint64
model_read (Stream       *s,
            gsize         max,
            guint8       *expected,
            gsize        *expected_len)
{
  gsize consumed;
  gsize n = model_take (s, read_pos (s), buffered (s), max, expected, &consumed);

  consume (s, consumed);
  *expected_len = n;
  if (n > 0)
    return (gint64) n;
  return connected (s) ? 0 : -1;
}

static void
op_read (Stream *s,
         gint64  size)
{
  g_autofree guint8 *data = NULL;
  g_autofree guint8 *expected = NULL;
  gsize expected_len = 0;
  gint64 r;
  gint64 want;

  if (size < 0 || s->closed)
    {
      FUZZ_CHECK (qsock_iodevice_read (s->dev, NULL, size) == -1);
      FUZZ_CHECK (fuzz_take_warnings () == 1, "misuse without a warning");
      return;
    }
  size = MIN (size, MAX_C_BUFFER);
  data = g_malloc (MAX (size, 1));
  expected = g_malloc (MAX (size, 1));
  r = qsock_iodevice_read (s->dev, size > 0 ? (char *) data : NULL, size);
  want = size == 0 ? 0 : model_read (s, (gsize) size, expected, &expected_len);
  FUZZ_CHECK (r == want, "read (%" G_GINT64_FORMAT ") = %" G_GINT64_FORMAT ", model %" G_GINT64_FORMAT,
              size, r, want);
  check_bytes ("read", data, r > 0 ? (gsize) r : 0, expected, expected_len);
}

static void
op_read_bytes (Stream *s,
               gint64  size)
{
  g_autofree guint8 *expected = NULL;
  gsize expected_len = 0;
  GBytes *bytes = qsock_iodevice_read_bytes (s->dev, size);
  gsize avail;
  gint64 m;

  if (size < 0 || s->closed)
    {
      check_gbytes ("read_bytes", bytes, NULL, 0);
      FUZZ_CHECK (fuzz_take_warnings () == 1, "misuse without a warning");
      return;
    }
  /* Computed after the call: the call itself reads nothing new. */
  avail = buffered (s) - read_pos (s);
  m = MIN (size, avail > 0 ? (gint64) avail : G_MAXUINT16 + 1);
  expected = g_malloc (MAX (m, 1));
  if (m > 0)
    model_read (s, (gsize) m, expected, &expected_len);
  check_gbytes ("read_bytes", bytes, expected, expected_len);
}

static void
op_read_all (Stream *s)
{
  g_autofree guint8 *expected = NULL;
  gsize expected_len = 0;
  GBytes *bytes = qsock_iodevice_read_all (s->dev);
  gsize avail;

  if (s->closed)
    {
      check_gbytes ("read_all", bytes, NULL, 0);
      FUZZ_CHECK (fuzz_take_warnings () == 1, "misuse without a warning");
      return;
    }
  avail = buffered (s) - read_pos (s);
  expected = g_malloc (MAX (avail, 1));
  if (avail > 0)
    model_read (s, avail, expected, &expected_len);
  check_gbytes ("read_all", bytes, expected, expected_len);
}

/* Text mode turns a final "\r\n" into "\n". */
static gsize
model_line_end (Stream *s,
                guint8 *line,
                gsize   n)
{
  if (s->text && n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n')
    {
      line[n - 2] = '\n';
      return n - 1;
    }
  return n;
}

static void
op_read_line (Stream *s,
              gint64  size)
{
  g_autofree guint8 *data = NULL;
  g_autofree guint8 *expected = NULL;
  gsize from = read_pos (s);
  gsize len;
  gint64 r;
  gint64 want;

  if (size < 2 || s->closed)
    {
      FUZZ_CHECK (qsock_iodevice_read_line (s->dev, NULL, size) == -1);
      FUZZ_CHECK (fuzz_take_warnings () == 1, "misuse without a warning");
      return;
    }
  size = MIN (size, MAX_C_BUFFER);
  data = g_malloc (size);
  r = qsock_iodevice_read_line (s->dev, (char *) data, size);

  len = model_line_length (s, from, buffered (s), (gsize) size - 1);
  expected = g_malloc (len + 1);
  memcpy (expected, pending_data (s) + from, len);
  consume (s, len);
  if (len == 0)
    want = connected (s) ? 0 : -1;
  else
    want = (gint64) model_line_end (s, expected, len);
  FUZZ_CHECK (r == want, "read_line (%" G_GINT64_FORMAT ") = %" G_GINT64_FORMAT ", model %" G_GINT64_FORMAT,
              size, r, want);
  FUZZ_CHECK (data[MAX (r, 0)] == '\0', "read_line left its line unterminated");
  check_bytes ("read_line", data, MAX (r, 0), expected, MAX (want, 0));
}

static void
op_read_line_bytes (Stream *s,
                    gint64  size)
{
  g_autofree guint8 *expected = NULL;
  GBytes *line = qsock_iodevice_read_line_bytes (s->dev, size);
  gsize from = read_pos (s);
  gsize len;

  if (size < 0 || size == 1 || s->closed)
    {
      check_gbytes ("read_line_bytes", line, NULL, 0);
      FUZZ_CHECK (fuzz_take_warnings () == 1, "misuse without a warning");
      return;
    }
  len = model_line_length (s, from, buffered (s), size == 0 ? G_MAXSIZE : (gsize) size - 1);
  expected = g_malloc (len + 1);
  memcpy (expected, pending_data (s) + from, len);
  consume (s, len);
  check_gbytes ("read_line_bytes", line, expected, model_line_end (s, expected, len));
}

static void
op_peek (Stream *s,
         gint64  size)
{
  g_autofree guint8 *data = NULL;
  g_autofree guint8 *expected = NULL;
  gsize consumed;
  gsize n;
  gint64 r;

  if (size < 0 || s->closed)
    {
      FUZZ_CHECK (qsock_iodevice_peek (s->dev, NULL, size) == -1);
      FUZZ_CHECK (fuzz_take_warnings () == 1, "misuse without a warning");
      return;
    }
  size = MIN (size, MAX_C_BUFFER);
  data = g_malloc (MAX (size, 1));
  expected = g_malloc (MAX (size, 1));
  r = qsock_iodevice_peek (s->dev, (char *) data, size);
  n = model_take (s, read_pos (s), buffered (s), (gsize) size, expected, &consumed);
  FUZZ_CHECK (r == (gint64) n, "peek (%" G_GINT64_FORMAT ") = %" G_GINT64_FORMAT ", model %zu", size, r, n);
  check_bytes ("peek", data, n, expected, n);
}

static void
op_peek_bytes (Stream *s,
               gint64  size)
{
  g_autofree guint8 *expected = NULL;
  GBytes *bytes = qsock_iodevice_peek_bytes (s->dev, size);
  gsize avail;
  gsize consumed;
  gsize n = 0;

  if (size < 0 || s->closed)
    {
      check_gbytes ("peek_bytes", bytes, NULL, 0);
      FUZZ_CHECK (fuzz_take_warnings () == 1, "misuse without a warning");
      return;
    }
  avail = buffered (s) - read_pos (s);
  expected = g_malloc (MAX (avail, 1));
  if (size > 0 && avail > 0)
    n = model_take (s, read_pos (s), buffered (s), MIN ((gsize) size, avail), expected, &consumed);
  check_gbytes ("peek_bytes", bytes, expected, n);
}

static void
op_get_char (Stream *s)
{
  char c = 0;
  guint8 expected = 0;
  gsize expected_len = 0;
  gboolean got = qsock_iodevice_get_char (s->dev, &c);

  if (s->closed)
    {
      FUZZ_CHECK (!got);
      FUZZ_CHECK (fuzz_take_warnings () == 1, "misuse without a warning");
      return;
    }
  model_read (s, 1, &expected, &expected_len);
  FUZZ_CHECK (got == (expected_len == 1), "get_char = %d, model %zu", got, expected_len);
  FUZZ_CHECK (!got || (guint8) c == expected, "get_char: %02x, model %02x", (guint8) c, expected);
}

static void
op_unget_char (Stream *s,
               guint8  c)
{
  qsock_iodevice_unget_char (s->dev, (char) c);
  if (s->closed || s->transaction)
    {
      FUZZ_CHECK (fuzz_take_warnings () == 1, "misuse without a warning");
      return;
    }
  pending_prepend (s, c);
  s->last_buffered++;
}

static void
op_skip (Stream *s,
         gint64  size)
{
  gint64 r = qsock_iodevice_skip (s->dev, size);
  gsize avail;
  gsize n;
  gint64 want;

  if (size < 0 || s->closed)
    {
      FUZZ_CHECK (r == -1);
      FUZZ_CHECK (fuzz_take_warnings () == 1, "misuse without a warning");
      return;
    }
  if (size == 0)
    {
      FUZZ_CHECK (r == 0);
      return;
    }
  avail = buffered (s) - read_pos (s);
  n = MIN ((guint64) size, avail);
  consume (s, n);
  want = n > 0 ? (gint64) n : connected (s) ? 0 : -1;
  FUZZ_CHECK (r == want, "skip (%" G_GINT64_FORMAT ") = %" G_GINT64_FORMAT ", model %" G_GINT64_FORMAT,
              size, r, want);
}

static void
op_can_read_line (Stream *s)
{
  gboolean got = qsock_iodevice_can_read_line (s->dev);
  gsize from = read_pos (s);
  gsize end = buffered (s);
  gboolean want = end > from && memchr (pending_data (s) + from, '\n', end - from) != NULL;

  FUZZ_CHECK (got == want, "can_read_line = %d, model %d", got, want);
}

typedef struct
{
  gboolean  done;
  GBytes   *bytes;
  GError   *error;
} AsyncRead;

static void
on_read_line_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  AsyncRead *r = user_data;

  r->bytes = qsock_iodevice_read_line_finish (QSOCK_IODEVICE (source), result, &r->error);
  r->done = TRUE;
}

static void
on_read_exactly_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  AsyncRead *r = user_data;

  r->bytes = qsock_iodevice_read_exactly_finish (QSOCK_IODEVICE (source), result, &r->error);
  r->done = TRUE;
}

/* Whether no more bytes can come, as the async reads see it. */
static gboolean
input_ended (Stream *s)
{
  return s->closed || s->input_finished;
}

/* The async reads, one at a time: run the context dry; if the call is
 * still waiting, what it waits for must really be missing, and cancelling
 * it must consume nothing. Only outside text mode and handlers, so that
 * nothing else consumes between its step and its callback (and the state
 * at the callback is the state its step saw). */
static void
op_read_async (Stream  *s,
               guint8   code,
               gint64   size)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree guint8 *expected = NULL;
  AsyncRead r = { FALSE, NULL, NULL };
  Op saved = s->handler_op;
  gboolean line = code == OP_READ_LINE_ASYNC;
  gboolean bad_size = line ? size < 0 || size == 1 : size < 0;
  gsize avail;
  gboolean has_line;
  gboolean enough;
  gboolean full;

  if (s->text || s->depth > 0)
    return;

  s->handler_op.code = OP_WRITE;
  if (line)
    qsock_iodevice_read_line_async (s->dev, size, cancellable, on_read_line_done, &r);
  else
    qsock_iodevice_read_exactly_async (s->dev, size, cancellable, on_read_exactly_done, &r);
  fuzz_settle ();

  avail = buffered (s) - read_pos (s);
  has_line = memchr (pending_data (s) + read_pos (s), '\n', avail) != NULL;
  enough = line ? size > 0 && avail >= (guint64) size - 1 : size >= 0 && avail >= (guint64) size;
  /* A full buffer without the line pauses reading: the line can never
   * come. */
  full = s->limit > 0 && avail >= (guint64) s->limit;

  if (!r.done)
    {
      FUZZ_CHECK (!bad_size && !enough && !input_ended (s) && !(line && (has_line || full)),
                  "%s (%" G_GINT64_FORMAT ") still waits, %zu buffered, limit %" G_GINT64_FORMAT,
                  line ? "read_line_async" : "read_exactly_async", size, avail, s->limit);
      g_cancellable_cancel (cancellable);
      fuzz_settle ();
      FUZZ_CHECK (r.done, "a cancelled read never called back");
      FUZZ_CHECK (g_error_matches (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED), "cancelled: %s",
                  r.error != NULL ? r.error->message : "no error");
    }
  else if (bad_size)
    FUZZ_CHECK (g_error_matches (r.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT),
                "async read of %" G_GINT64_FORMAT ": %s", size, r.error != NULL ? r.error->message : "bytes");
  else if (line)
    {
      if (s->closed)
        FUZZ_CHECK (r.error != NULL && r.error->code == QSOCK_SOCKET_ERROR_OPERATION,
                    "read_line_async on a closed device: %s", r.error != NULL ? r.error->message : "a line");
      else if (has_line || enough || input_ended (s))
        {
          gsize len = model_line_length (s, read_pos (s), buffered (s), size == 0 ? G_MAXSIZE : (gsize) size - 1);

          FUZZ_CHECK (r.error == NULL, "read_line_async: %s", r.error->message);
          expected = g_malloc (len + 1);
          memcpy (expected, pending_data (s) + read_pos (s), len);
          consume (s, len);
          check_gbytes ("read_line_async", g_steal_pointer (&r.bytes), expected, len);
        }
      else
        FUZZ_CHECK (full && r.error != NULL && r.error->code == QSOCK_SOCKET_ERROR_OPERATION,
                    "read_line_async (%" G_GINT64_FORMAT ") with %zu, limit %" G_GINT64_FORMAT ": %s",
                    size, avail, s->limit, r.error != NULL ? r.error->message : "a line");
    }
  else if (s->limit > 0 && size > s->limit)
    FUZZ_CHECK (r.error != NULL && r.error->code == QSOCK_SOCKET_ERROR_OPERATION,
                "read_exactly_async past the limit: %s", r.error != NULL ? r.error->message : "bytes");
  else if (!enough)
    FUZZ_CHECK (r.error != NULL && r.error->code == QSOCK_SOCKET_ERROR_REMOTE_HOST_CLOSED && input_ended (s),
                "read_exactly_async (%" G_GINT64_FORMAT ") with %zu: %s", size, avail,
                r.error != NULL ? r.error->message : "bytes");
  else
    {
      FUZZ_CHECK (r.error == NULL, "read_exactly_async: %s", r.error->message);
      expected = g_malloc (MAX (size, 1));
      memcpy (expected, pending_data (s) + read_pos (s), size);
      consume (s, size);
      check_gbytes ("read_exactly_async", g_steal_pointer (&r.bytes), expected, size);
    }

  g_clear_pointer (&r.bytes, g_bytes_unref);
  g_clear_error (&r.error);
  s->handler_op = saved;
  /* On a closed device even a 0-byte read is Qt's misuse ("device not
   * open"); otherwise run_op () sees any warning. */
  if (s->closed)
    fuzz_take_warnings ();
}

static const char * const op_names[] = {
  "write", "settle", "iterate", "read", "read_bytes", "read_all", "read_line",
  "read_line_bytes", "peek", "peek_bytes", "get_char", "unget_char", "skip",
  "can_read_line", "bytes_available", "at_end", "start_transaction",
  "commit_transaction", "rollback_transaction", "set_read_buffer_size",
  "set_text_mode", "wait_for_ready_read", "set_handler", "shutdown_peer", "close",
  "set_half_close", "shutdown_write", "read_line_async", "read_exactly_async",
};
G_STATIC_ASSERT (G_N_ELEMENTS (op_names) == N_OPS);

static gboolean trace;

static void
run_op (Stream *s,
        Op      op)
{
  guint64 before;

  if (trace)
    fprintf (stderr, "%*s%s %" G_GINT64_FORMAT " 0x%02x (pending %zu, buffered %zu)\n",
             2 * s->depth, "", op_names[op.code], op.size, op.byte,
             pending_len (s), buffered (s));

  switch (op.code)
    {
    case OP_WRITE:
      do_write (s, op.size);
      break;
    case OP_SETTLE:
      fuzz_settle ();
      FUZZ_CHECK (fuzz_take_warnings () == 0, "warning while dispatching: %s", fuzz_last_warning ());
      check_settled (s);
      break;
    case OP_ITERATE:
      g_main_context_iteration (NULL, FALSE);
      break;
    case OP_READ:
      op_read (s, op.size);
      break;
    case OP_READ_BYTES:
      op_read_bytes (s, op.size);
      break;
    case OP_READ_ALL:
      op_read_all (s);
      break;
    case OP_READ_LINE:
      op_read_line (s, op.size);
      break;
    case OP_READ_LINE_BYTES:
      op_read_line_bytes (s, op.size);
      break;
    case OP_PEEK:
      op_peek (s, op.size);
      break;
    case OP_PEEK_BYTES:
      op_peek_bytes (s, op.size);
      break;
    case OP_GET_CHAR:
      op_get_char (s);
      break;
    case OP_UNGET_CHAR:
      op_unget_char (s, op.byte);
      break;
    case OP_SKIP:
      op_skip (s, op.size);
      break;
    case OP_CAN_READ_LINE:
      op_can_read_line (s);
      break;
    case OP_BYTES_AVAILABLE:
      {
        gint64 got = qsock_iodevice_bytes_available (s->dev);
        gint64 want = (gint64) (buffered (s) - read_pos (s));

        FUZZ_CHECK (got == want, "bytes_available = %" G_GINT64_FORMAT ", model %" G_GINT64_FORMAT, got, want);
      }
      break;
    case OP_AT_END:
      FUZZ_CHECK (qsock_iodevice_at_end (s->dev) == (s->closed || buffered (s) == read_pos (s)));
      break;
    case OP_START_TRANSACTION:
      qsock_iodevice_start_transaction (s->dev);
      if (s->transaction)
        {
          FUZZ_CHECK (fuzz_take_warnings () == 1, "nested transaction without a warning");
          break;
        }
      s->transaction = TRUE;
      s->transaction_pos = 0;
      break;
    case OP_COMMIT_TRANSACTION:
    case OP_ROLLBACK_TRANSACTION:
      if (op.code == OP_COMMIT_TRANSACTION)
        qsock_iodevice_commit_transaction (s->dev);
      else
        qsock_iodevice_rollback_transaction (s->dev);
      if (!s->transaction)
        {
          FUZZ_CHECK (fuzz_take_warnings () == 1, "no transaction, no warning");
          break;
        }
      s->transaction = FALSE;
      if (op.code == OP_COMMIT_TRANSACTION && !s->closed)
        pending_drop (s, s->transaction_pos);
      s->transaction_pos = 0;
      break;
    case OP_SET_READ_BUFFER_SIZE:
      qsock_local_set_read_buffer_size (s->sock, op.size);
      FUZZ_CHECK (qsock_local_get_read_buffer_size (s->sock) == op.size);
      s->limit = op.size;
      break;
    case OP_SET_TEXT_MODE:
      qsock_iodevice_set_text_mode_enabled (s->dev, op.byte & 1);
      if (s->closed)
        FUZZ_CHECK (fuzz_take_warnings () == 1, "text mode on a closed device, no warning");
      else
        s->text = op.byte & 1;
      FUZZ_CHECK (qsock_iodevice_is_text_mode_enabled (s->dev) == s->text);
      break;
    case OP_WAIT_FOR_READY_READ:
      {
        gboolean could_read = connected (s) && s->limit <= 0 && kernel_bytes (s) > 0;

        before = delivered (s);
        if (qsock_iodevice_wait_for_ready_read (s->dev, 0))
          FUZZ_CHECK (delivered (s) > before, "ready read with nothing new");
        else
          FUZZ_CHECK (!could_read, "no ready read with bytes waiting and no limit");
      }
      /* Qt warns about waiting on an unconnected socket; no model for it. */
      fuzz_take_warnings ();
      break;
    case OP_SET_HANDLER:
      if (s->depth == 0)
        {
          s->handler_op = decode_op (s);
          if (s->handler_op.code == OP_SETTLE || s->handler_op.code == OP_ITERATE ||
              s->handler_op.code == OP_SET_HANDLER || s->handler_op.code == OP_WAIT_FOR_READY_READ ||
              s->handler_op.code == OP_READ_LINE_ASYNC || s->handler_op.code == OP_READ_EXACTLY_ASYNC)
            s->handler_op.code = OP_WRITE;
        }
      break;
    case OP_SET_HALF_CLOSE:
      qsock_local_set_half_close (s->sock, op.byte & 1);
      FUZZ_CHECK (qsock_local_get_half_close (s->sock) == (op.byte & 1));
      s->half_close = op.byte & 1;
      break;
    case OP_SHUTDOWN_WRITE:
      qsock_local_shutdown_write (s->sock);
      s->write_shut = TRUE;
      /* Unconnected, it is Qt-style misuse; no model for its message. */
      fuzz_take_warnings ();
      break;
    case OP_READ_LINE_ASYNC:
    case OP_READ_EXACTLY_ASYNC:
      op_read_async (s, op.code, op.size);
      break;
    case OP_SHUTDOWN_PEER:
      if (!s->peer_closed)
        FUZZ_CHECK (shutdown (s->peer, SHUT_WR) == 0);
      s->peer_closed = TRUE;
      break;
    case OP_CLOSE:
      s->closing = TRUE;
      qsock_iodevice_close (s->dev);
      s->closing = FALSE;
      if (s->closed)
        break;   /* closing a closed device changes nothing, as in Qt */
      s->closed = TRUE;
      s->transaction = FALSE;
      s->transaction_pos = 0;
      s->text = FALSE;
      pending_drop (s, pending_len (s));
      break;
    default:
      g_assert_not_reached ();
    }

  FUZZ_CHECK (fuzz_take_warnings () == 0, "unexpected warning (op %d): %s", op.code, fuzz_last_warning ());
  check_invariants (s);
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  int sv[2];
  QSockLocal *sock;

  fuzz_init (argc, argv);
  trace = g_getenv ("FUZZ_TRACE") != NULL;

  /* The library's first socket in a context makes the context's one epoll
   * descriptor, which stays: make it before descriptors are counted. */
  FUZZ_CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  sock = qsock_local_new ();
  FUZZ_CHECK (qsock_local_set_socket_descriptor (sock, sv[0], QSOCK_LOCAL_SOCKET_STATE_CONNECTED,
                                                 QSOCK_OPEN_MODE_READ_WRITE));
  fuzz_settle ();
  g_object_unref (sock);
  close (sv[1]);
  fuzz_settle ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzInput in = { data, size, 0 };
  Stream s = { &in, NULL, NULL, -1, NULL };
  int fds_before = fuzz_count_fds ();
  int sv[2];

  FUZZ_CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  s.peer = sv[1];
  s.pending = g_byte_array_sized_new (4096);   /* data never NULL */
  s.handler_op.code = OP_WRITE;
  s.sock = qsock_local_new ();
  s.dev = QSOCK_IODEVICE (s.sock);
  FUZZ_CHECK (qsock_local_set_socket_descriptor (s.sock, sv[0], QSOCK_LOCAL_SOCKET_STATE_CONNECTED,
                                                 QSOCK_OPEN_MODE_READ_WRITE));
  g_signal_connect (s.sock, "ready-read", G_CALLBACK (on_ready_read), &s);
  g_signal_connect (s.sock, "read-channel-finished", G_CALLBACK (on_read_channel_finished), &s);

  while (!fuzz_input_done (&in))
    run_op (&s, decode_op (&s));

  /* Whatever was left: the library delivers it, in order. */
  run_op (&s, (Op) { OP_SETTLE, 0, 0 });
  if (!s.closed && s.limit <= 0)
    {
      s.handler_op.code = OP_WRITE;
      if (s.transaction)
        run_op (&s, (Op) { OP_ROLLBACK_TRANSACTION, 0, 0 });
      run_op (&s, (Op) { OP_SET_TEXT_MODE, 0, 0 });
      run_op (&s, (Op) { OP_READ_ALL, 0, 0 });
      FUZZ_CHECK (pending_len (&s) == 0, "%zu bytes never delivered", pending_len (&s));
    }

  g_signal_handlers_disconnect_by_data (s.sock, &s);
  g_object_unref (s.sock);
  close (s.peer);
  fuzz_settle ();
  fuzz_take_warnings ();
  g_byte_array_unref (s.pending);
  FUZZ_CHECK (fuzz_count_fds () == fds_before, "%d descriptors before, %d after:%s", fds_before,
              fuzz_count_fds (), fuzz_describe_fds ());
  return 0;
}
