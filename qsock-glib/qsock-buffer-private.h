/* qsock-buffer-private.h: the one byte buffer (read and write side)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A queue of chunks. Appending fills the tail chunk and adds chunks as
 * needed; consuming advances the head chunk and returns drained chunks to a
 * small per-thread pool, so the steady state allocates nothing. The kernel
 * reads straight into the tail (reserve + commit) and writes straight from
 * the chunks (get_iovecs), so each byte is copied once in and once out.
 * Newline searches remember how far they got, so read_line/can_read_line
 * never scan the same bytes twice.
 */
#pragma once

#include <glib.h>
#include <sys/uio.h>

G_BEGIN_DECLS

typedef struct _QSockChunk QSockChunk;

typedef struct
{
  QSockChunk *head;
  QSockChunk *tail;
  gsize       size;
  /* [scan_from, scan_to) is known to hold no '\n' */
  gsize       scan_from;
  gsize       scan_to;
} QSockBuffer;

#define QSOCK_BUFFER_INIT { NULL, NULL, 0, 0, 0 }

void        qsock_buffer_init         (QSockBuffer       *buf);
void        qsock_buffer_clear        (QSockBuffer       *buf);
static inline gsize
qsock_buffer_get_size (const QSockBuffer *buf)
{
  return buf->size;
}
static inline gboolean
qsock_buffer_is_empty (const QSockBuffer *buf)
{
  return buf->size == 0;
}

/* Returns writable space at the tail: at least 1 byte and up to @wanted
 * (in *space); commit what was filled. */
char       *qsock_buffer_reserve      (QSockBuffer       *buf,
                                       gsize              wanted,
                                       gsize             *space);
void        qsock_buffer_commit       (QSockBuffer       *buf,
                                       gsize              n);
void        qsock_buffer_append       (QSockBuffer       *buf,
                                       const void        *data,
                                       gsize              n);
void        qsock_buffer_prepend_byte (QSockBuffer       *buf,
                                       char               c);

/* Copies up to @n bytes starting @offset bytes in, without consuming. */
gsize       qsock_buffer_peek         (const QSockBuffer *buf,
                                       gsize              offset,
                                       void              *dst,
                                       gsize              n);
/* Copies and consumes up to @n bytes from the front. */
gsize       qsock_buffer_read         (QSockBuffer       *buf,
                                       void              *dst,
                                       gsize              n);
gsize       qsock_buffer_skip         (QSockBuffer       *buf,
                                       gsize              n);

/* Offset of the first '\n' in [@from, @from + @limit), or -1. */
gssize      qsock_buffer_find_newline (QSockBuffer       *buf,
                                       gsize              from,
                                       gsize              limit);

/* Fills up to @max iovecs from the front; returns how many. */
int         qsock_buffer_get_iovecs   (const QSockBuffer *buf,
                                       struct iovec      *iov,
                                       int                max);

G_END_DECLS
