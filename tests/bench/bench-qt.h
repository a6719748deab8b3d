/* bench-qt.h: what the Qt 6 implementations (C++) share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Written as a Qt program would be: QTcpServer/QLocalServer accept,
 * QTcpSocket/QLocalSocket/QUdpSocket connect, everything runs from signals
 * (lambdas, no moc) on Qt's own event loop (on Linux, Qt's GLib-based
 * dispatcher unless QT_NO_GLIB is set). Writes are buffered and leave from
 * the loop, which is Qt's default. Each run checks its data with the same
 * checkers as the C implementations (bench.h).
 */
#pragma once

#include "bench.h"   /* GLib first: Qt's keywords would clash later */

#include <QtCore/QByteArray>
#include <QtCore/QString>

/* Sets @error from a Qt error string; returns FALSE. */
static inline gboolean
bench_qt_fail (GError        **error,
               BenchErrorCode  code,
               const char     *what,
               const QString  &detail)
{
  g_set_error (error, BENCH_ERROR, code, "%s: %s", what, detail.toUtf8 ().constData ());
  return FALSE;
}

/* Keeps the first failure of a run. */
static inline void
bench_qt_keep (GError **slot,
               GError  *error)
{
  if (*slot == NULL)
    *slot = error;
  else
    g_error_free (error);
}
