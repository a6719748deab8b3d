/* test-buffer.c: white-box tests of QSockBuffer, the one byte queue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Chunk boundaries are where such queues break, so every test moves more
 * than 64 KiB and looks at offsets on both sides of the likely chunk sizes.
 * The last test compares thousands of random operations against a plain
 * GByteArray.
 */
#include <string.h>
#include <glib.h>

#include "qsock-buffer-private.h"

#define BIG (200 * 1024 + 17)

static guint8 *
make_bytes (gsize n, guint32 seed)
{
  guint8 *p = g_malloc (n ? n : 1);
  guint32 x = seed | 1;

  for (gsize i = 0; i < n; i++)
    {
      x = x * 1103515245u + 12345u;
      p[i] = (guint8) (x >> 16);
      if (p[i] == '\n')
        p[i] = 'n';            /* newlines only where a test puts them */
    }
  return p;
}

/* Offsets on both sides of every plausible chunk size. */
static const gsize boundaries[] = {
  0, 1, 4095, 4096, 4097, 8191, 8192, 8193, 16383, 16384, 16385,
  32767, 32768, 32769, 65535, 65536, 65537, 131071, 131072, 131073,
};

/* The whole content, through get_iovecs, must equal @expected. */
static void
assert_content (QSockBuffer *buf, const guint8 *expected, gsize n)
{
  g_autofree struct iovec *iov = g_new (struct iovec, 16384);
  int count = qsock_buffer_get_iovecs (buf, iov, 16384);
  gsize off = 0;

  g_assert_cmpuint (qsock_buffer_get_size (buf), ==, n);
  g_assert_cmpint (count, >=, 0);
  for (int i = 0; i < count; i++)
    {
      g_assert_cmpuint (iov[i].iov_len, >, 0);
      g_assert_cmpuint (off + iov[i].iov_len, <=, n);
      g_assert_cmpmem (iov[i].iov_base, iov[i].iov_len, expected + off, iov[i].iov_len);
      off += iov[i].iov_len;
    }
  g_assert_cmpuint (off, ==, n);
}

static void
test_empty (void)
{
  QSockBuffer stat = QSOCK_BUFFER_INIT;
  QSockBuffer buf;
  struct iovec iov[4];
  char c = 'x';

  qsock_buffer_init (&buf);
  g_assert_cmpuint (qsock_buffer_get_size (&buf), ==, 0);
  g_assert_true (qsock_buffer_is_empty (&buf));
  g_assert_true (qsock_buffer_is_empty (&stat));
  g_assert_cmpuint (qsock_buffer_read (&buf, &c, 1), ==, 0);
  g_assert_cmpuint (qsock_buffer_peek (&buf, 0, &c, 1), ==, 0);
  g_assert_cmpuint (qsock_buffer_skip (&buf, 10), ==, 0);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, -1);
  g_assert_cmpint (qsock_buffer_get_iovecs (&buf, iov, G_N_ELEMENTS (iov)), ==, 0);
  g_assert_cmpint (c, ==, 'x');

  /* A statically initialised buffer works as well. */
  qsock_buffer_append (&stat, "a\n", 2);
  g_assert_cmpint (qsock_buffer_find_newline (&stat, 0, 10), ==, 1);
  qsock_buffer_clear (&stat);

  qsock_buffer_clear (&buf);
  qsock_buffer_clear (&buf);
  g_assert_true (qsock_buffer_is_empty (&buf));
}

static void
test_append_read_large (void)
{
  g_autofree guint8 *data = make_bytes (BIG, 1);
  g_autofree guint8 *out = g_malloc (BIG);
  static const gsize pieces[] = { 1, 4095, 70000, 3, 65536, 16384, 2 };
  QSockBuffer buf;
  gsize off = 0, got = 0;

  qsock_buffer_init (&buf);
  for (guint i = 0; off < BIG; i = (i + 1) % G_N_ELEMENTS (pieces))
    {
      gsize n = MIN (pieces[i], BIG - off);

      qsock_buffer_append (&buf, data + off, n);
      off += n;
      g_assert_cmpuint (qsock_buffer_get_size (&buf), ==, off);
    }
  assert_content (&buf, data, BIG);

  /* Read in pieces of other sizes, so reads end inside chunks. */
  for (guint i = 0; got < BIG; i = (i + 3) % G_N_ELEMENTS (pieces))
    {
      gsize want = pieces[i] + 7;
      gsize n = qsock_buffer_read (&buf, out + got, want);

      g_assert_cmpuint (n, ==, MIN (want, BIG - got));
      g_assert_cmpmem (out + got, n, data + got, n);
      got += n;
      g_assert_cmpuint (qsock_buffer_get_size (&buf), ==, BIG - got);
    }
  g_assert_true (qsock_buffer_is_empty (&buf));
  g_assert_cmpuint (qsock_buffer_read (&buf, out, 10), ==, 0);

  /* One append of everything, one read of everything. */
  qsock_buffer_append (&buf, data, BIG);
  memset (out, 0, BIG);
  g_assert_cmpuint (qsock_buffer_read (&buf, out, BIG + 100), ==, BIG);
  g_assert_cmpmem (out, BIG, data, BIG);
  g_assert_true (qsock_buffer_is_empty (&buf));

  qsock_buffer_clear (&buf);
}

static void
test_peek_offsets (void)
{
  g_autofree guint8 *data = make_bytes (BIG, 2);
  guint8 out[300];
  QSockBuffer buf;

  qsock_buffer_init (&buf);
  qsock_buffer_append (&buf, data, BIG);

  for (guint i = 0; i < G_N_ELEMENTS (boundaries); i++)
    for (gsize back = 0; back <= 2; back++)
      {
        gsize offset = boundaries[i] >= back ? boundaries[i] - back : 0;
        gsize n = qsock_buffer_peek (&buf, offset, out, sizeof out);

        g_assert_cmpuint (n, ==, sizeof out);
        g_assert_cmpmem (out, n, data + offset, n);
      }

  /* Near and past the end. */
  g_assert_cmpuint (qsock_buffer_peek (&buf, BIG - 5, out, sizeof out), ==, 5);
  g_assert_cmpmem (out, 5, data + BIG - 5, 5);
  g_assert_cmpuint (qsock_buffer_peek (&buf, BIG, out, sizeof out), ==, 0);
  g_assert_cmpuint (qsock_buffer_peek (&buf, BIG + 10, out, sizeof out), ==, 0);
  g_assert_cmpuint (qsock_buffer_peek (&buf, 10, out, 0), ==, 0);

  /* Peeking consumes nothing. */
  g_assert_cmpuint (qsock_buffer_get_size (&buf), ==, BIG);
  assert_content (&buf, data, BIG);

  /* Offsets stay relative to the current front after a partial read. */
  g_assert_cmpuint (qsock_buffer_skip (&buf, 65530), ==, 65530);
  g_assert_cmpuint (qsock_buffer_peek (&buf, 3, out, 20), ==, 20);
  g_assert_cmpmem (out, 20, data + 65533, 20);

  qsock_buffer_clear (&buf);
}

static void
test_reserve_commit (void)
{
  g_autofree guint8 *data = make_bytes (BIG, 3);
  g_autofree guint8 *out = g_malloc (BIG);
  QSockBuffer buf;
  gsize filled = 0;
  guint round = 0;

  qsock_buffer_init (&buf);
  while (filled < BIG)
    {
      gsize wanted = MIN (BIG - filled, (round % 3 == 0) ? 100000 : 777);
      gsize space = 0;
      char *p = qsock_buffer_reserve (&buf, wanted, &space);
      gsize n;

      g_assert_nonnull (p);
      g_assert_cmpuint (space, >=, 1);
      g_assert_cmpuint (space, <=, wanted);

      /* Sometimes fill only part of what was offered, as a short recv does. */
      n = (round % 4 == 1 && space > 1) ? space / 2 : space;
      memcpy (p, data + filled, n);
      qsock_buffer_commit (&buf, n);
      filled += n;
      g_assert_cmpuint (qsock_buffer_get_size (&buf), ==, filled);

      /* Reserve and commit nothing: no change. */
      if (round % 5 == 2 && filled < BIG)
        {
          p = qsock_buffer_reserve (&buf, 10, &space);
          g_assert_nonnull (p);
          qsock_buffer_commit (&buf, 0);
          g_assert_cmpuint (qsock_buffer_get_size (&buf), ==, filled);
        }

      /* Mix in plain appends. */
      if (round % 7 == 3 && filled + 5 <= BIG)
        {
          qsock_buffer_append (&buf, data + filled, 5);
          filled += 5;
        }
      round++;
    }
  g_assert_cmpuint (round, >, 3);
  assert_content (&buf, data, BIG);

  g_assert_cmpuint (qsock_buffer_read (&buf, out, BIG), ==, BIG);
  g_assert_cmpmem (out, BIG, data, BIG);

  qsock_buffer_clear (&buf);
}

static void
test_prepend (void)
{
  g_autofree guint8 *data = make_bytes (BIG, 4);
  GByteArray *model = g_byte_array_new ();
  QSockBuffer buf;
  char c;

  qsock_buffer_init (&buf);

  /* Onto an empty buffer. */
  qsock_buffer_prepend_byte (&buf, 'a');
  g_assert_cmpuint (qsock_buffer_get_size (&buf), ==, 1);
  g_assert_cmpuint (qsock_buffer_read (&buf, &c, 1), ==, 1);
  g_assert_cmpint (c, ==, 'a');
  g_assert_true (qsock_buffer_is_empty (&buf));

  /* Fresh data fills its chunk from the start: no headroom in front. */
  qsock_buffer_append (&buf, data, 100);
  g_byte_array_append (model, data, 100);
  qsock_buffer_prepend_byte (&buf, 'b');
  g_byte_array_prepend (model, (const guint8 *) "b", 1);
  assert_content (&buf, model->data, model->len);

  /* After a read there is headroom; unget what was read. */
  g_assert_cmpuint (qsock_buffer_read (&buf, &c, 1), ==, 1);
  g_assert_cmpint (c, ==, 'b');
  g_assert_cmpuint (qsock_buffer_read (&buf, &c, 1), ==, 1);
  g_assert_cmpint ((guint8) c, ==, data[0]);
  qsock_buffer_prepend_byte (&buf, c);
  g_byte_array_remove_index (model, 0);
  assert_content (&buf, model->data, model->len);

  /* Many prepends in a row: more than any headroom. */
  for (guint i = 0; i < 70000; i++)
    {
      guint8 b = (guint8) (i * 31);
      qsock_buffer_prepend_byte (&buf, (char) b);
      g_byte_array_prepend (model, &b, 1);
    }
  assert_content (&buf, model->data, model->len);

  /* Prepend in front of a large multi-chunk buffer. */
  qsock_buffer_append (&buf, data, BIG);
  g_byte_array_append (model, data, BIG);
  qsock_buffer_prepend_byte (&buf, '\n');
  g_byte_array_prepend (model, (const guint8 *) "\n", 1);
  assert_content (&buf, model->data, model->len);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 0);

  qsock_buffer_clear (&buf);
  g_byte_array_unref (model);
}

static void
test_skip (void)
{
  g_autofree guint8 *data = make_bytes (BIG, 5);
  guint8 out[64];
  QSockBuffer buf;

  qsock_buffer_init (&buf);
  qsock_buffer_append (&buf, data, BIG);

  g_assert_cmpuint (qsock_buffer_skip (&buf, 0), ==, 0);
  g_assert_cmpuint (qsock_buffer_skip (&buf, 65535), ==, 65535);
  g_assert_cmpuint (qsock_buffer_read (&buf, out, 2), ==, 2);
  g_assert_cmpmem (out, 2, data + 65535, 2);
  g_assert_cmpuint (qsock_buffer_skip (&buf, 70000), ==, 70000);
  g_assert_cmpuint (qsock_buffer_peek (&buf, 0, out, sizeof out), ==, sizeof out);
  g_assert_cmpmem (out, sizeof out, data + 65537 + 70000, sizeof out);
  g_assert_cmpuint (qsock_buffer_skip (&buf, BIG), ==, BIG - 65537 - 70000);
  g_assert_true (qsock_buffer_is_empty (&buf));
  g_assert_cmpuint (qsock_buffer_skip (&buf, 5), ==, 0);

  qsock_buffer_clear (&buf);
}

static void
test_find_newline (void)
{
  g_autofree guint8 *data = make_bytes (BIG, 6);
  QSockBuffer buf;

  qsock_buffer_init (&buf);
  qsock_buffer_append (&buf, "abc\ndefghi\nj", 12);

  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 3);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, 12), ==, 3);
  /* The limit counts from @from and is exclusive. */
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, 3), ==, -1);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, 4), ==, 3);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, 0), ==, -1);
  /* From an offset: the answer is still an offset from the front. */
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 3, 100), ==, 3);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 4, 100), ==, 10);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 4, 6), ==, -1);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 4, 7), ==, 10);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 4, G_MAXSIZE), ==, 10);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 11, 100), ==, -1);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 12, 100), ==, -1);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 50, 100), ==, -1);
  /* Searches consume nothing. */
  g_assert_cmpuint (qsock_buffer_get_size (&buf), ==, 12);
  qsock_buffer_clear (&buf);

  /* Across chunk boundaries. */
  for (guint i = 1; i < G_N_ELEMENTS (boundaries); i++)
    {
      gsize at = boundaries[i] - 1;

      qsock_buffer_append (&buf, data, at);
      qsock_buffer_append (&buf, "\n", 1);
      qsock_buffer_append (&buf, data, 1000);
      g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, at);
      g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, at), ==, -1);
      g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, at + 1), ==, at);
      g_assert_cmpint (qsock_buffer_find_newline (&buf, at, 1), ==, at);
      g_assert_cmpint (qsock_buffer_find_newline (&buf, at + 1, G_MAXSIZE), ==, -1);
      qsock_buffer_clear (&buf);
    }
}

/* A failed search is remembered; what happens next must not make the
 * remembered part lie. */
static void
test_find_newline_incremental (void)
{
  g_autofree guint8 *data = make_bytes (BIG, 7);
  QSockBuffer buf;
  char out[8];

  qsock_buffer_init (&buf);

  /* More bytes after a failed search. */
  qsock_buffer_append (&buf, "abc", 3);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, -1);
  qsock_buffer_append (&buf, "def\n", 4);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 6);
  qsock_buffer_clear (&buf);

  /* A search cut short by its limit, then a longer one. */
  qsock_buffer_append (&buf, "aaaa\nb", 6);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, 2), ==, -1);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, 10), ==, 4);
  qsock_buffer_clear (&buf);

  /* A failed search from an offset says nothing about the bytes before. */
  qsock_buffer_append (&buf, "a\nbcd", 5);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 2, G_MAXSIZE), ==, -1);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 1);
  qsock_buffer_clear (&buf);

  /* Reading after a failed search moves the offsets. */
  qsock_buffer_append (&buf, "xyzuvw", 6);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, -1);
  g_assert_cmpuint (qsock_buffer_read (&buf, out, 2), ==, 2);
  qsock_buffer_append (&buf, "\n", 1);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 4);
  g_assert_cmpuint (qsock_buffer_skip (&buf, 3), ==, 3);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 1);
  qsock_buffer_clear (&buf);

  /* An unget newline in front of a searched stretch. */
  qsock_buffer_append (&buf, "hello", 5);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, -1);
  qsock_buffer_prepend_byte (&buf, '\n');
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 0);
  g_assert_cmpuint (qsock_buffer_read (&buf, out, 1), ==, 1);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, -1);
  /* … and an unget ordinary byte shifts a known answer. */
  qsock_buffer_append (&buf, "\n", 1);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 5);
  qsock_buffer_prepend_byte (&buf, 'X');
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 6);
  qsock_buffer_clear (&buf);

  /* Bytes committed through reserve after a failed search, many chunks in. */
  qsock_buffer_append (&buf, data, 150000);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, -1);
  {
    gsize space;
    char *p = qsock_buffer_reserve (&buf, 4, &space);

    p[0] = '\n';
    qsock_buffer_commit (&buf, 1);
  }
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 150000);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 140000, 10001), ==, 150000);

  /* After clear, nothing remembered survives. */
  qsock_buffer_clear (&buf);
  qsock_buffer_append (&buf, "\n", 1);
  g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 0);
  qsock_buffer_clear (&buf);
}

static void
test_iovecs (void)
{
  g_autofree guint8 *data = make_bytes (BIG, 8);
  struct iovec iov[64];
  QSockBuffer buf;
  int n;
  gsize total = 0;

  qsock_buffer_init (&buf);
  g_assert_cmpint (qsock_buffer_get_iovecs (&buf, iov, 64), ==, 0);

  /* Many small appends: the bytes end up spread over several chunks. */
  for (gsize off = 0; off < BIG; off += 3000)
    qsock_buffer_append (&buf, data + off, MIN (3000, BIG - off));
  assert_content (&buf, data, BIG);
  n = qsock_buffer_get_iovecs (&buf, iov, 64);
  g_assert_cmpint (n, >, 1);

  /* Fewer slots than chunks: a prefix, in order. */
  g_assert_cmpint (qsock_buffer_get_iovecs (&buf, iov, 1), ==, 1);
  g_assert_cmpmem (iov[0].iov_base, iov[0].iov_len, data, iov[0].iov_len);
  g_assert_cmpint (qsock_buffer_get_iovecs (&buf, iov, 0), ==, 0);

  /* After a partial read the first vector starts at the new front. */
  g_assert_cmpuint (qsock_buffer_skip (&buf, 1000), ==, 1000);
  n = qsock_buffer_get_iovecs (&buf, iov, 64);
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpmem (iov[i].iov_base, iov[i].iov_len, data + 1000 + total, iov[i].iov_len);
      total += iov[i].iov_len;
    }
  g_assert_cmpuint (total, ==, BIG - 1000);

  /* Consuming what one vector covered leaves the rest for the next call,
   * as a partial writev would. */
  g_assert_cmpuint (qsock_buffer_skip (&buf, iov[0].iov_len), ==, iov[0].iov_len);
  assert_content (&buf, data + 1000 + (BIG - 1000 - qsock_buffer_get_size (&buf)),
                  qsock_buffer_get_size (&buf));

  qsock_buffer_clear (&buf);
}

static void
test_clear_reuse (void)
{
  g_autofree guint8 *data = make_bytes (BIG, 9);
  QSockBuffer buf;

  qsock_buffer_init (&buf);
  for (guint round = 0; round < 5; round++)
    {
      qsock_buffer_append (&buf, data, BIG - round * 1000);
      g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, -1);
      qsock_buffer_clear (&buf);
      g_assert_true (qsock_buffer_is_empty (&buf));
      g_assert_cmpuint (qsock_buffer_get_size (&buf), ==, 0);
      qsock_buffer_append (&buf, "x\n", 2);
      assert_content (&buf, (const guint8 *) "x\n", 2);
      g_assert_cmpint (qsock_buffer_find_newline (&buf, 0, G_MAXSIZE), ==, 1);
      qsock_buffer_clear (&buf);
    }
}

/* ---- random operations against a GByteArray ---------------------------- */

static gssize
model_find (GByteArray *model, gsize from, gsize limit)
{
  const guint8 *hit;
  gsize len;

  if (from >= model->len)
    return -1;
  len = MIN (limit, model->len - from);
  hit = memchr (model->data + from, '\n', len);
  return hit ? (gssize) (hit - model->data) : -1;
}

static void
random_fill (GRand *rand, guint8 *p, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      guint32 r = g_rand_int (rand);
      p[i] = (r % 97 == 0) ? '\n' : (guint8) (r >> 8);
    }
}

static gsize
random_length (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 4))
    {
    case 0: return g_rand_int_range (rand, 0, 17);
    case 1: return g_rand_int_range (rand, 100, 5000);
    case 2: return g_rand_int_range (rand, 60000, 140000);
    default: return g_rand_int_range (rand, 0, 70000);
    }
}

static void
test_random_model (void)
{
  GRand *rand = g_rand_new_with_seed (20240521);
  GByteArray *model = g_byte_array_new ();
  guint8 *scratch = g_malloc (300000);
  guint counts[10] = { 0 };
  QSockBuffer buf;

  qsock_buffer_init (&buf);

  for (guint step = 0; step < 4000; step++)
    {
      int op = g_rand_int_range (rand, 0, 100);

      /* Keep the model small enough to stay quick. */
      if (model->len > 1024 * 1024 && op < 25)
        op = 40;

      if (op < 15)                              /* append */
        {
          gsize n = random_length (rand);

          random_fill (rand, scratch, n);
          qsock_buffer_append (&buf, scratch, n);
          g_byte_array_append (model, scratch, n);
          counts[0]++;
        }
      else if (op < 25)                         /* reserve + commit */
        {
          gsize wanted = random_length (rand);
          gsize space = 0, n;
          char *p;

          wanted = MAX (wanted, 1);
          p = qsock_buffer_reserve (&buf, wanted, &space);
          g_assert_nonnull (p);
          g_assert_cmpuint (space, >=, 1);
          g_assert_cmpuint (space, <=, wanted);
          n = g_rand_int_range (rand, 0, (gint32) MIN (space, G_MAXINT32 - 1) + 1);
          random_fill (rand, (guint8 *) p, n);
          g_byte_array_append (model, (guint8 *) p, n);
          qsock_buffer_commit (&buf, n);
          counts[1]++;
        }
      else if (op < 40)                         /* read */
        {
          gsize n = MIN (random_length (rand), 300000);
          gsize got = qsock_buffer_read (&buf, scratch, n);

          g_assert_cmpuint (got, ==, MIN (n, model->len));
          g_assert_cmpmem (scratch, got, model->data, got);
          g_byte_array_remove_range (model, 0, got);
          counts[2]++;
        }
      else if (op < 50)                         /* peek */
        {
          gsize offset = g_rand_int_range (rand, 0, model->len + 6);
          gsize n = MIN (random_length (rand), 300000);
          gsize got = qsock_buffer_peek (&buf, offset, scratch, n);
          gsize expect = offset < model->len ? MIN (n, model->len - offset) : 0;

          g_assert_cmpuint (got, ==, expect);
          g_assert_cmpmem (scratch, got, model->data + offset, got);
          counts[3]++;
        }
      else if (op < 58)                         /* skip */
        {
          gsize n = random_length (rand);
          gsize got = qsock_buffer_skip (&buf, n);

          g_assert_cmpuint (got, ==, MIN (n, model->len));
          g_byte_array_remove_range (model, 0, got);
          counts[4]++;
        }
      else if (op < 66)                         /* prepend (unget) */
        {
          guint8 c = g_rand_boolean (rand) ? '\n' : (guint8) g_rand_int (rand);

          qsock_buffer_prepend_byte (&buf, (char) c);
          g_byte_array_prepend (model, &c, 1);
          counts[5]++;
        }
      else if (op < 90)                         /* find_newline */
        {
          gsize from = g_rand_boolean (rand) ? 0 : (gsize) g_rand_int_range (rand, 0, model->len + 3);
          gsize limit;

          switch (g_rand_int_range (rand, 0, 3))
            {
            case 0: limit = G_MAXSIZE; break;
            case 1: limit = g_rand_int_range (rand, 0, 200); break;
            default: limit = random_length (rand); break;
            }
          g_assert_cmpint (qsock_buffer_find_newline (&buf, from, limit), ==,
                           model_find (model, from, limit));
          counts[6]++;
        }
      else if (op < 98)                         /* get_iovecs */
        {
          struct iovec iov[16];
          int max = g_rand_int_range (rand, 1, G_N_ELEMENTS (iov) + 1);
          int n = qsock_buffer_get_iovecs (&buf, iov, max);
          gsize off = 0;

          g_assert_cmpint (n, >=, 0);
          g_assert_cmpint (n, <=, max);
          for (int i = 0; i < n; i++)
            {
              g_assert_cmpuint (iov[i].iov_len, >, 0);
              g_assert_cmpuint (off + iov[i].iov_len, <=, model->len);
              g_assert_cmpmem (iov[i].iov_base, iov[i].iov_len, model->data + off, iov[i].iov_len);
              off += iov[i].iov_len;
            }
          if (n < max)
            g_assert_cmpuint (off, ==, model->len);
          counts[7]++;
        }
      else                                      /* clear */
        {
          qsock_buffer_clear (&buf);
          g_byte_array_set_size (model, 0);
          counts[8]++;
        }

      g_assert_cmpuint (qsock_buffer_get_size (&buf), ==, model->len);
      g_assert_cmpint (qsock_buffer_is_empty (&buf), ==, model->len == 0);
    }

  /* Every kind of operation ran. */
  for (guint i = 0; i <= 8; i++)
    g_assert_cmpuint (counts[i], >, 0);

  assert_content (&buf, model->data, model->len);
  qsock_buffer_clear (&buf);
  g_byte_array_unref (model);
  g_free (scratch);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/buffer/empty", test_empty);
  g_test_add_func ("/buffer/append-read-large", test_append_read_large);
  g_test_add_func ("/buffer/peek-offsets", test_peek_offsets);
  g_test_add_func ("/buffer/reserve-commit", test_reserve_commit);
  g_test_add_func ("/buffer/prepend", test_prepend);
  g_test_add_func ("/buffer/skip", test_skip);
  g_test_add_func ("/buffer/find-newline", test_find_newline);
  g_test_add_func ("/buffer/find-newline-incremental", test_find_newline_incremental);
  g_test_add_func ("/buffer/iovecs", test_iovecs);
  g_test_add_func ("/buffer/clear-reuse", test_clear_reuse);
  g_test_add_func ("/buffer/random-model", test_random_model);

  return g_test_run ();
}
