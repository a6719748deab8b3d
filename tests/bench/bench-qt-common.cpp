/* bench-qt-common.cpp: the QCoreApplication every Qt run needs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-qt.h"

#include <QtCore/QCoreApplication>

static int qt_argc = 1;
static char qt_arg0[] = "qsock-bench";
static char *qt_argv[] = { qt_arg0, nullptr };

extern "C" void
bench_qt_init (int   *argc,
               char **argv)
{
  (void) argc;
  (void) argv;
  /* Made once, in the main thread, and kept: Qt's sockets and event loops
   * in every thread need it. */
  if (QCoreApplication::instance () == nullptr)
    new QCoreApplication (qt_argc, qt_argv);
}

extern "C" const char *
bench_qt_version (void)
{
  return qVersion ();
}
