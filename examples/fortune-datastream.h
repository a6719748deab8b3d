/* fortune-datastream.h: one QString as Qt's QDataStream writes it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Qt's fortune examples send a single QString through a QDataStream
 * (version Qt_6_x): a big-endian 32-bit byte count, then the text in
 * UTF-16BE; 0xffffffff stands for a null QString. These helpers let the
 * C examples speak that format with a Qt peer.
 */
#pragma once

#include <qsock-glib/qsock.h>

G_BEGIN_DECLS

typedef enum {
  FORTUNE_READ_OK,        /* a whole string was read */
  FORTUNE_READ_SHORT,     /* not all of it has arrived: roll back and wait */
  FORTUNE_READ_CORRUPT,   /* an odd byte count or invalid UTF-16 */
} FortuneReadStatus;

GBytes            *fortune_datastream_write_string (const char     *text);

FortuneReadStatus  fortune_datastream_read_string  (QSockIODevice  *device,
                                                    char          **text);

G_END_DECLS
