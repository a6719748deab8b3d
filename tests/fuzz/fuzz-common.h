/* fuzz-common.h: what the libFuzzer targets share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reading the fuzzer's input as a stream of small decisions, failing loudly
 * (abort(), so libFuzzer saves the input) when the library disagrees with a
 * target's model, catching the library's warnings so a model can say when
 * one is due, driving the main context until nothing is left to dispatch,
 * and counting open descriptors.
 */
#pragma once

#include <stdint.h>
#include <qsock-glib/qsock.h>

G_BEGIN_DECLS

/* ---- the input --------------------------------------------------------- */

typedef struct
{
  const guint8 *data;
  gsize         size;
  gsize         pos;
} FuzzInput;

/* Each reads what is left; past the end they return 0 (and empty data). */
gboolean      fuzz_input_done  (FuzzInput *in);
guint8        fuzz_input_u8    (FuzzInput *in);
guint16       fuzz_input_u16   (FuzzInput *in);
guint32       fuzz_input_u32   (FuzzInput *in);
const guint8 *fuzz_input_bytes (FuzzInput *in,
                                gsize      wanted,
                                gsize     *got);

/* Fills @size bytes of @dst with @pattern repeated (with a fixed one when
 * @pattern_len is 0), so big payloads cost little input and little time. */
void          fuzz_fill_pattern (guint8       *dst,
                                 gsize         size,
                                 const guint8 *pattern,
                                 gsize         pattern_len);

/* A size for a call's max_size argument, biased to the edges: 0, 1, 2,
 * small, around @near (what the model says is buffered), 16-bit, negative,
 * and huge (2^31, 2^40, G_MAXINT64). */
gint64        fuzz_input_size  (FuzzInput *in,
                                gint64     near);

/* ---- failing ------------------------------------------------------------ */

G_GNUC_NORETURN
void          fuzz_fail        (const char *file,
                                int         line,
                                const char *what,
                                const char *format,
                                ...) G_GNUC_PRINTF (4, 5);

/* Aborts when @cond is false, printing it and the formatted details. */
#define FUZZ_CHECK(cond, ...)                                                 \
  G_STMT_START {                                                              \
    if (G_UNLIKELY (!(cond)))                                                 \
      fuzz_fail (__FILE__, __LINE__, #cond, "" __VA_ARGS__);                  \
  } G_STMT_END

/* ---- process setup and the library's messages --------------------------- */

/* Call from LLVMFuzzerInitialize(): re-executes with G_SLICE=always-malloc
 * if it is not set (ASan cannot see objects freed into GSlice), makes
 * criticals and errors abort, silences debug output, counts warnings and
 * makes GLib's worker context, which stays. */
void          fuzz_init        (int    *argc,
                                char ***argv);

/* Between fuzz_allow_criticals (TRUE) and (FALSE), criticals (a failed
 * g_return_if_fail(), for calls that are misuse by contract) are counted
 * instead of fatal. */
void          fuzz_allow_criticals (gboolean allowed);
guint         fuzz_take_criticals  (void);

/* The number of warnings logged since the last call; the last one's text
 * is in fuzz_last_warning(). */
guint         fuzz_take_warnings (void);
const char   *fuzz_last_warning  (void);

/* ---- the main context ---------------------------------------------------- */

/* Dispatches everything that is ready in the thread-default context
 * without blocking, until a pass dispatches nothing; aborts if that takes
 * more than a generous number of passes (a busy loop in the library). */
void          fuzz_settle      (void);

/* ---- descriptors ---------------------------------------------------------- */

/* How many descriptors the process has open (/proc/self/fd). */
int           fuzz_count_fds   (void);
/* Each open descriptor and what it is, for a failure message. */
char         *fuzz_describe_fds (void);

G_END_DECLS
