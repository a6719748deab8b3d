/* fuzz-common.c: what the libFuzzer targets share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-common.h"

/* Undefined behaviour is a finding too: stop at the first. */
const char *__ubsan_default_options (void);

const char *
__ubsan_default_options (void)
{
  return "halt_on_error=1:print_stacktrace=1";
}

/* ---- the input --------------------------------------------------------- */

gboolean
fuzz_input_done (FuzzInput *in)
{
  return in->pos >= in->size;
}

guint8
fuzz_input_u8 (FuzzInput *in)
{
  return in->pos < in->size ? in->data[in->pos++] : 0;
}

guint16
fuzz_input_u16 (FuzzInput *in)
{
  guint16 high = fuzz_input_u8 (in);

  return (guint16) (high << 8 | fuzz_input_u8 (in));
}

guint32
fuzz_input_u32 (FuzzInput *in)
{
  guint32 high = fuzz_input_u16 (in);

  return high << 16 | fuzz_input_u16 (in);
}

const guint8 *
fuzz_input_bytes (FuzzInput *in,
                  gsize      wanted,
                  gsize     *got)
{
  const guint8 *start = in->data + in->pos;

  *got = MIN (wanted, in->size - in->pos);
  in->pos += *got;
  return start;
}

void
fuzz_fill_pattern (guint8       *dst,
                   gsize         size,
                   const guint8 *pattern,
                   gsize         pattern_len)
{
  if (pattern_len == 0)
    {
      pattern = (const guint8 *) "abcdef\n";
      pattern_len = 7;
    }
  memcpy (dst, pattern, MIN (size, pattern_len));
  for (gsize filled = MIN (size, pattern_len); filled < size; filled *= 2)
    memcpy (dst + filled, dst, MIN (filled, size - filled));
}

gint64
fuzz_input_size (FuzzInput *in,
                 gint64     near)
{
  static const gint64 negative[] = { -1, -2, G_MININT64, G_MININT32 };
  static const gint64 huge[] = { (gint64) 1 << 31, (gint64) 1 << 40, G_MAXINT64, G_MAXINT32 };
  guint8 kind = fuzz_input_u8 (in);

  switch (kind % 8)
    {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return 2;
    case 3:
      return 1 + fuzz_input_u8 (in);
    case 4:
      return near + (gint8) fuzz_input_u8 (in);
    case 5:
      return fuzz_input_u32 (in) % 140000;
    case 6:
      return negative[(kind >> 3) % G_N_ELEMENTS (negative)];
    default:
      return huge[(kind >> 3) % G_N_ELEMENTS (huge)];
    }
}

/* ---- failing ------------------------------------------------------------ */

void
fuzz_fail (const char *file,
           int         line,
           const char *what,
           const char *format,
           ...)
{
  va_list args;

  fprintf (stderr, "\n%s:%d: model mismatch: %s\n", file, line, what);
  if (format[0] != '\0')
    {
      va_start (args, format);
      vfprintf (stderr, format, args);
      va_end (args);
      fputc ('\n', stderr);
    }
  abort ();
}

/* ---- process setup and the library's messages --------------------------- */

static guint warnings;
static guint criticals;
static gboolean criticals_allowed;
static char last_warning[512];

static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  const char *message = "";

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
      message = fields[i].value;

  if ((level & G_LOG_LEVEL_CRITICAL) && criticals_allowed)
    {
      criticals++;
      return G_LOG_WRITER_HANDLED;
    }
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    {
      /* A critical is a broken precondition inside the library or a misuse
       * by the harness: both are bugs worth an input. */
      fprintf (stderr, "fatal log message: %s\n", message);
      abort ();
    }
  if (level & G_LOG_LEVEL_WARNING)
    {
      warnings++;
      g_strlcpy (last_warning, message, sizeof last_warning);
    }
  return G_LOG_WRITER_HANDLED;
}

void
fuzz_init (int    *argc,
           char ***argv)
{
  if (g_strcmp0 (getenv ("G_SLICE"), "always-malloc") != 0)
    {
      setenv ("G_SLICE", "always-malloc", 1);
      execv ("/proc/self/exe", *argv);
      perror ("re-executing with G_SLICE=always-malloc");
      abort ();
    }
  /* The library's misuse warnings are expected by the models; nothing is
   * printed, so a run stays fast. */
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);

  /* GTask's class makes GLib's worker context (a thread and an eventfd)
   * that stays; make it before any input counts descriptors. */
  g_type_class_unref (g_type_class_ref (G_TYPE_TASK));
}

void
fuzz_allow_criticals (gboolean allowed)
{
  criticals_allowed = allowed;
  criticals = 0;
}

guint
fuzz_take_criticals (void)
{
  guint n = criticals;

  criticals = 0;
  return n;
}

guint
fuzz_take_warnings (void)
{
  guint n = warnings;

  warnings = 0;
  return n;
}

const char *
fuzz_last_warning (void)
{
  return last_warning;
}

/* ---- the main context ---------------------------------------------------- */

void
fuzz_settle (void)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  guint passes = 0;

  while (g_main_context_iteration (context, FALSE))
    FUZZ_CHECK (++passes < 10000, "the main context keeps dispatching");
  g_main_context_unref (context);
}

/* ---- descriptors ---------------------------------------------------------- */

char *
fuzz_describe_fds (void)
{
  GString *out = g_string_new (NULL);
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *entry;

  FUZZ_CHECK (dir != NULL);
  while ((entry = readdir (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *target = NULL;

      if (entry->d_name[0] == '.')
        continue;
      path = g_strconcat ("/proc/self/fd/", entry->d_name, NULL);
      target = g_file_read_link (path, NULL);
      g_string_append_printf (out, " %s=%s", entry->d_name, target != NULL ? target : "?");
    }
  closedir (dir);
  return g_string_free (out, FALSE);
}

int
fuzz_count_fds (void)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *entry;
  int n = 0;

  FUZZ_CHECK (dir != NULL);
  while ((entry = readdir (dir)) != NULL)
    if (entry->d_name[0] != '.')
      n++;
  closedir (dir);
  return n - 1;   /* the directory's own descriptor */
}
