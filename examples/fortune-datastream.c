/* fortune-datastream.c: one QString as Qt's QDataStream writes it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fortune-datastream.h"

#include <string.h>

#define NULL_STRING_LENGTH 0xffffffffu

/* `QDataStream out; out << QString (text);` as bytes: the byte count, then
 * UTF-16BE. @text must be valid UTF-8. */
GBytes *
fortune_datastream_write_string (const char *text)
{
  g_autofree gunichar2 *utf16 = NULL;
  glong units = 0;
  guint32 length_be;
  GByteArray *block;

  utf16 = g_utf8_to_utf16 (text, -1, NULL, &units, NULL);
  g_return_val_if_fail (utf16 != NULL, NULL);

  for (glong i = 0; i < units; i++)
    utf16[i] = GUINT16_TO_BE (utf16[i]);

  length_be = GUINT32_TO_BE ((guint32) (units * sizeof (gunichar2)));
  block = g_byte_array_sized_new (sizeof length_be + units * sizeof (gunichar2));
  g_byte_array_append (block, (const guint8 *) &length_be, sizeof length_be);
  g_byte_array_append (block, (const guint8 *) utf16, units * sizeof (gunichar2));
  return g_byte_array_free_to_bytes (block);
}

/* `QDataStream in (device); in >> text;` without the transaction, which
 * the caller owns: on FORTUNE_READ_SHORT it rolls back and waits for more,
 * as QDataStream::commitTransaction() does on ReadPastEnd. Nothing is
 * allocated for bytes that have not arrived, so a peer cannot make us
 * reserve memory by announcing a huge string. A null QString reads as "". */
FortuneReadStatus
fortune_datastream_read_string (QSockIODevice  *device,
                                char          **text)
{
  guint32 length_be;
  guint32 length;
  g_autofree gunichar2 *utf16 = NULL;

  *text = NULL;

  if (qsock_iodevice_read (device, (char *) &length_be, sizeof length_be) != sizeof length_be)
    return FORTUNE_READ_SHORT;

  length = GUINT32_FROM_BE (length_be);
  if (length == NULL_STRING_LENGTH)
    {
      *text = g_strdup ("");
      return FORTUNE_READ_OK;
    }
  if (length % sizeof (gunichar2) != 0)
    return FORTUNE_READ_CORRUPT;
  if (qsock_iodevice_bytes_available (device) < (gint64) length)
    return FORTUNE_READ_SHORT;

  utf16 = g_malloc (MAX (length, 1));
  if (qsock_iodevice_read (device, (char *) utf16, length) != (gint64) length)
    return FORTUNE_READ_SHORT;

  for (guint32 i = 0; i < length / sizeof (gunichar2); i++)
    utf16[i] = GUINT16_FROM_BE (utf16[i]);

  *text = g_utf16_to_utf8 (utf16, length / sizeof (gunichar2), NULL, NULL, NULL);
  return *text != NULL ? FORTUNE_READ_OK : FORTUNE_READ_CORRUPT;
}
