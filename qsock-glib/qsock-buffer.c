/* qsock-buffer.c: the chunked byte buffer behind every socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "qsock-buffer-private.h"

/* Two pooled size classes: small chunks for chatty traffic and unget,
 * large ones for bulk reads. Anything bigger (one huge write) is allocated
 * to fit and freed when drained. */
#define SMALL_CHUNK   (4 * 1024)
#define LARGE_CHUNK   (64 * 1024)
#define POOL_SMALL_MAX 32
#define POOL_LARGE_MAX 64

struct _QSockChunk
{
  QSockChunk *next;
  gsize       start;     /* first unread byte */
  gsize       end;       /* one past the last written byte */
  gsize       capacity;
  char        data[];
};

typedef struct
{
  QSockChunk *small;
  QSockChunk *large;
  guint       n_small;
  guint       n_large;
} ChunkPool;

static void
chunk_pool_free (gpointer data)
{
  ChunkPool *pool = data;

  for (QSockChunk *c = pool->small, *next; c != NULL; c = next)
    {
      next = c->next;
      g_free (c);
    }
  for (QSockChunk *c = pool->large, *next; c != NULL; c = next)
    {
      next = c->next;
      g_free (c);
    }
  g_free (pool);
}

static GPrivate chunk_pool_key = G_PRIVATE_INIT (chunk_pool_free);

static ChunkPool *
chunk_pool_get (void)
{
  ChunkPool *pool = g_private_get (&chunk_pool_key);

  if (G_UNLIKELY (pool == NULL))
    {
      pool = g_new0 (ChunkPool, 1);
      g_private_set (&chunk_pool_key, pool);
    }
  return pool;
}

static QSockChunk *
chunk_new (gsize wanted)
{
  ChunkPool *pool = chunk_pool_get ();
  QSockChunk *chunk = NULL;
  gsize capacity;

  if (wanted <= SMALL_CHUNK)
    {
      capacity = SMALL_CHUNK;
      if (pool->small != NULL)
        {
          chunk = pool->small;
          pool->small = chunk->next;
          pool->n_small--;
        }
    }
  else if (wanted <= LARGE_CHUNK)
    {
      capacity = LARGE_CHUNK;
      if (pool->large != NULL)
        {
          chunk = pool->large;
          pool->large = chunk->next;
          pool->n_large--;
        }
    }
  else
    capacity = wanted;

  if (chunk == NULL)
    {
      chunk = g_malloc (sizeof (QSockChunk) + capacity);
      chunk->capacity = capacity;
    }

  chunk->next = NULL;
  chunk->start = chunk->end = 0;
  return chunk;
}

static void
chunk_release (QSockChunk *chunk)
{
  ChunkPool *pool = chunk_pool_get ();

  if (chunk->capacity == SMALL_CHUNK && pool->n_small < POOL_SMALL_MAX)
    {
      chunk->next = pool->small;
      pool->small = chunk;
      pool->n_small++;
    }
  else if (chunk->capacity == LARGE_CHUNK && pool->n_large < POOL_LARGE_MAX)
    {
      chunk->next = pool->large;
      pool->large = chunk;
      pool->n_large++;
    }
  else
    g_free (chunk);
}

void
qsock_buffer_init (QSockBuffer *buf)
{
  memset (buf, 0, sizeof *buf);
}

void
qsock_buffer_clear (QSockBuffer *buf)
{
  QSockChunk *chunk = buf->head;

  while (chunk != NULL)
    {
      QSockChunk *next = chunk->next;
      chunk_release (chunk);
      chunk = next;
    }
  qsock_buffer_init (buf);
}

static void
buffer_push_chunk (QSockBuffer *buf,
                   QSockChunk  *chunk)
{
  if (buf->tail != NULL)
    buf->tail->next = chunk;
  else
    buf->head = chunk;
  buf->tail = chunk;
}

char *
qsock_buffer_reserve (QSockBuffer *buf,
                      gsize        wanted,
                      gsize       *space)
{
  QSockChunk *tail = buf->tail;

  if (wanted == 0)
    wanted = 1;

  /* Reuse the tail's free space unless it is a sliver of a large request. */
  if (tail == NULL || tail->end == tail->capacity ||
      (tail->capacity - tail->end < wanted && tail->capacity - tail->end < SMALL_CHUNK / 4))
    {
      tail = chunk_new (wanted);
      buffer_push_chunk (buf, tail);
    }

  *space = MIN (wanted, tail->capacity - tail->end);
  return tail->data + tail->end;
}

void
qsock_buffer_commit (QSockBuffer *buf,
                     gsize        n)
{
  QSockChunk *tail = buf->tail;

  g_assert (tail != NULL && tail->end + n <= tail->capacity);
  tail->end += n;
  buf->size += n;

  /* A reserve that ended up empty leaves no empty chunk behind. */
  if (tail->start == tail->end && buf->head == tail && buf->size == 0)
    qsock_buffer_clear (buf);
}

void
qsock_buffer_append (QSockBuffer *buf,
                     const void  *data,
                     gsize        n)
{
  const char *p = data;

  while (n > 0)
    {
      gsize space;
      char *dst = qsock_buffer_reserve (buf, n, &space);

      memcpy (dst, p, space);
      buf->tail->end += space;
      buf->size += space;
      p += space;
      n -= space;
    }
}

void
qsock_buffer_prepend_byte (QSockBuffer *buf,
                           char         c)
{
  QSockChunk *head = buf->head;

  if (head == NULL || head->start == 0)
    {
      QSockChunk *chunk = chunk_new (1);

      /* Put it at the end of the new chunk so further ungets fit in front. */
      chunk->start = chunk->end = chunk->capacity;
      chunk->next = head;
      buf->head = chunk;
      if (buf->tail == NULL)
        buf->tail = chunk;
      head = chunk;
    }

  head->data[--head->start] = c;
  buf->size++;

  /* The known newline-free range moves one byte further in. */
  if (buf->scan_to > buf->scan_from)
    {
      buf->scan_from++;
      buf->scan_to++;
    }
}

gsize
qsock_buffer_peek (const QSockBuffer *buf,
                   gsize              offset,
                   void              *dst,
                   gsize              n)
{
  char *out = dst;
  gsize copied = 0;

  for (QSockChunk *c = buf->head; c != NULL && copied < n; c = c->next)
    {
      gsize len = c->end - c->start;
      gsize take;

      if (offset >= len)
        {
          offset -= len;
          continue;
        }

      take = MIN (len - offset, n - copied);
      memcpy (out + copied, c->data + c->start + offset, take);
      copied += take;
      offset = 0;
    }

  return copied;
}

gsize
qsock_buffer_skip (QSockBuffer *buf,
                   gsize        n)
{
  gsize skipped = 0;

  n = MIN (n, buf->size);
  while (skipped < n)
    {
      QSockChunk *head = buf->head;
      gsize take = MIN (head->end - head->start, n - skipped);

      head->start += take;
      skipped += take;
      if (head->start == head->end)
        {
          buf->head = head->next;
          if (buf->head == NULL)
            buf->tail = NULL;
          chunk_release (head);
        }
    }
  buf->size -= skipped;

  /* Shift the newline-free range with the consumed bytes. */
  if (buf->scan_to <= skipped)
    buf->scan_from = buf->scan_to = 0;
  else
    {
      buf->scan_from = buf->scan_from > skipped ? buf->scan_from - skipped : 0;
      buf->scan_to -= skipped;
    }

  return skipped;
}

gsize
qsock_buffer_read (QSockBuffer *buf,
                   void        *dst,
                   gsize        n)
{
  return qsock_buffer_skip (buf, qsock_buffer_peek (buf, 0, dst, n));
}

gssize
qsock_buffer_find_newline (QSockBuffer *buf,
                           gsize        from,
                           gsize        limit)
{
  gsize end = limit > buf->size - MIN (from, buf->size) ? buf->size : from + limit;
  gsize pos;
  gsize base = 0;

  if (from >= end)
    return -1;

  /* Resume after what an earlier search from here already ruled out. */
  pos = (buf->scan_from <= from && from <= buf->scan_to) ? MAX (from, buf->scan_to) : from;

  for (QSockChunk *c = buf->head; c != NULL && pos < end; c = c->next)
    {
      gsize len = c->end - c->start;
      const char *hit;

      if (pos >= base + len)
        {
          base += len;
          continue;
        }

      hit = memchr (c->data + c->start + (pos - base), '\n', MIN (base + len, end) - pos);
      if (hit != NULL)
        {
          gsize found = base + (gsize) (hit - (c->data + c->start));

          buf->scan_from = from;
          buf->scan_to = found;
          return (gssize) found;
        }
      pos = MIN (base + len, end);
      base += len;
    }

  buf->scan_from = from;
  buf->scan_to = end;
  return -1;
}

int
qsock_buffer_get_iovecs (const QSockBuffer *buf,
                         struct iovec      *iov,
                         int                max)
{
  int n = 0;

  for (QSockChunk *c = buf->head; c != NULL && n < max; c = c->next)
    {
      if (c->end == c->start)
        continue;
      iov[n].iov_base = (void *) (c->data + c->start);
      iov[n].iov_len = c->end - c->start;
      n++;
    }
  return n;
}
