/* bench-main.c: qsock-bench, the runner
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs each workload through qsock-glib, plain GIO, raw epoll and (when
 * built with Qt6Network) Qt 6, interleaved in one process (qsock, gio,
 * epoll, qt, qsock, gio, epoll, qt, …) so that drift in the machine hits
 * all alike, and prints the median of each with its ratios to epoll and
 * Qt. Speed never fails a run; wrong data does (exit status 1), and so does
 * a run that makes no progress for --timeout seconds. --results FILE adds
 * one machine-readable line per run for tests/bench/run-benchmarks.
 *
 *   qsock-bench                      the full set, 5 rounds
 *   qsock-bench --quick              a few seconds per workload (CI)
 *   qsock-bench --workload pingpong --impl qsock --round-trips 2000 --rounds 1
 *                                    one implementation, small, for profilers
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qsock-glib/qsock.h>

#include "bench.h"

typedef enum { IMPL_QSOCK, IMPL_GIO, IMPL_EPOLL, IMPL_QT, N_IMPLS } Impl;

static const char *impl_names[N_IMPLS] = { "qsock", "gio", "epoll", "qt" };

typedef enum { SHAPE_BULK, SHAPE_PINGPONG, SHAPE_CONNECT, SHAPE_LINES, SHAPE_MEMORY, N_SHAPES } Shape;

#ifdef BENCH_HAVE_QT
#define QT(f) f
#else
#define QT(f) NULL
#endif

static const BenchFunc funcs[N_SHAPES][N_IMPLS] = {
  [SHAPE_BULK]     = { bench_qsock_bulk,     bench_gio_bulk,     bench_epoll_bulk,     QT (bench_qt_bulk) },
  [SHAPE_PINGPONG] = { bench_qsock_pingpong, bench_gio_pingpong, bench_epoll_pingpong, QT (bench_qt_pingpong) },
  [SHAPE_CONNECT]  = { bench_qsock_connect,  bench_gio_connect,  bench_epoll_connect,  QT (bench_qt_connect) },
  [SHAPE_LINES]    = { bench_qsock_lines,    bench_gio_lines,    bench_epoll_lines,    QT (bench_qt_lines) },
  [SHAPE_MEMORY]   = { bench_qsock_memory,   bench_gio_memory,   bench_epoll_memory,   QT (bench_qt_memory) },
};

/* One row group of the table: a workload with its parameters. */
typedef struct _Workload Workload;
struct _Workload
{
  char        *label;
  char        *key;            /* for --results */
  const char  *unit;
  Shape        shape;
  BenchParams  params;
  double       units;          /* the work done per run, in @unit·seconds */
  GArray      *values[N_IMPLS];
  Workload    *companion;      /* memory: the after-hello row, filled by the same run */
  gboolean     is_companion;   /* not run itself */
};

/* ---- options ------------------------------------------------------------- */

static gboolean opt_quick;
static char **opt_workloads;
static char **opt_impls;
static int opt_rounds = 5;
static char *opt_bytes;
static int opt_round_trips = -1;
static char *opt_idle;
static int opt_cycles = -1;
static int opt_lines = -1;
static int opt_pairs = -1;
static double opt_max_seconds = 0;
static char *opt_results;
static int opt_timeout = 600;

static const GOptionEntry entries[] = {
  { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick,
    "Small sizes: a few seconds per workload (for CI)", NULL },
  { "workload", 'w', 0, G_OPTION_ARG_STRING_ARRAY, &opt_workloads,
    "Run only these: bulk, pingpong, idle, connect, lines, mem (repeat or comma-separate)", "NAME" },
  { "impl", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &opt_impls,
    "Run only these implementations: qsock, gio, epoll, qt", "NAME" },
  { "rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds, "Interleaved rounds (default 5)", "N" },
  { "bytes", 'b', 0, G_OPTION_ARG_STRING, &opt_bytes,
    "Bulk transfer size, with an optional K, M or G suffix (default 1G)", "SIZE" },
  { "round-trips", 0, 0, G_OPTION_ARG_INT, &opt_round_trips,
    "Ping-pong round trips (default 100000)", "N" },
  { "idle", 0, 0, G_OPTION_ARG_STRING, &opt_idle,
    "Idle sockets beside the ping-pong, both ends of each idle pair counted (N/2 pairs); "
    "a comma list runs each (default 100)", "N[,N…]" },
  { "cycles", 0, 0, G_OPTION_ARG_INT, &opt_cycles,
    "Connect/accept/close cycles (default 20000)", "N" },
  { "lines", 0, 0, G_OPTION_ARG_INT, &opt_lines, "Lines to read (default 1000000)", "N" },
  { "pairs", 0, 0, G_OPTION_ARG_INT, &opt_pairs,
    "Connected pairs the memory workload measures (default 2000)", "N" },
  { "max-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_max_seconds,
    "Stop a ping-pong run after this long and rate the round trips done (default: never)", "S" },
  { "results", 0, 0, G_OPTION_ARG_FILENAME, &opt_results,
    "Append one tab-separated line per run to FILE (for run-benchmarks)", "FILE" },
  { "timeout", 't', 0, G_OPTION_ARG_INT, &opt_timeout,
    "Fail a single run that takes longer than this (default 600 s)", "SECONDS" },
  { NULL }
};

static gboolean
parse_size (const char *text,
            guint64    *size)
{
  char *end;
  guint64 value = g_ascii_strtoull (text, &end, 10);

  switch (g_ascii_toupper (*end))
    {
    case 'G': value <<= 10; G_GNUC_FALLTHROUGH;
    case 'M': value <<= 10; G_GNUC_FALLTHROUGH;
    case 'K': value <<= 10; end++; break;
    default: break;
    }
  if (end == text || *end != '\0' || value == 0)
    return FALSE;
  *size = value;
  return TRUE;
}

/* Splits repeated and comma-separated option values. */
static GStrv
split_list (char **values)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (char **v = values; v != NULL && *v != NULL; v++)
    {
      g_auto(GStrv) parts = g_strsplit (*v, ",", -1);

      for (char **part = parts; *part != NULL; part++)
        if (**part != '\0')
          g_strv_builder_add (builder, g_strstrip (*part));
    }
  return g_strv_builder_end (builder);
}

static gboolean
wanted (GStrv list,
        const char *name)
{
  return list == NULL || list[0] == NULL || g_strv_contains ((const char * const *) list, name);
}

/* ---- the watchdog -------------------------------------------------------- */

/* A run that never finishes is as wrong as one with bad data: a lost
 * signal or byte leaves a loop waiting forever. */
static struct
{
  GMutex      lock;
  GCond       cond;
  gint64      deadline;   /* 0: disarmed */
  const char *what;
} watchdog;

static gpointer
watchdog_thread (gpointer data)
{
  g_mutex_lock (&watchdog.lock);
  for (;;)
    {
      gint64 now = g_get_monotonic_time ();

      if (watchdog.deadline != 0 && now >= watchdog.deadline)
        {
          fprintf (stderr, "\nFAIL: %s did not finish within %d s\n", watchdog.what, opt_timeout);
          fflush (stderr);
          _exit (1);
        }
      if (watchdog.deadline == 0)
        g_cond_wait (&watchdog.cond, &watchdog.lock);
      else
        g_cond_wait_until (&watchdog.cond, &watchdog.lock, watchdog.deadline);
    }
  return NULL;
}

static void
watchdog_arm (const char *what)
{
  g_mutex_lock (&watchdog.lock);
  watchdog.what = what;
  watchdog.deadline = g_get_monotonic_time () + (gint64) opt_timeout * G_USEC_PER_SEC;
  g_cond_signal (&watchdog.cond);
  g_mutex_unlock (&watchdog.lock);
}

static void
watchdog_disarm (void)
{
  g_mutex_lock (&watchdog.lock);
  watchdog.deadline = 0;
  g_mutex_unlock (&watchdog.lock);
}

/* ---- workloads ----------------------------------------------------------- */

static Workload *
workload_new (Shape              shape,
              const BenchParams *params,
              const char        *unit,
              double             units,
              const char        *key,
              char              *label)
{
  Workload *w = g_new0 (Workload, 1);

  w->key = g_strdup (key);
  w->shape = shape;
  w->params = *params;
  w->unit = unit;
  w->units = units;
  w->label = label;
  for (int i = 0; i < N_IMPLS; i++)
    w->values[i] = g_array_new (FALSE, FALSE, sizeof (double));
  return w;
}

static void
workload_free (gpointer data)
{
  Workload *w = data;

  for (int i = 0; i < N_IMPLS; i++)
    g_array_unref (w->values[i]);
  g_free (w->label);
  g_free (w->key);
  g_free (w);
}

static char *
format_bytes (guint64 bytes)
{
  if (bytes % (1 << 30) == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " GiB", bytes >> 30);
  if (bytes % (1 << 20) == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", bytes >> 20);
  return g_strdup_printf ("%" G_GUINT64_FORMAT " B", bytes);
}

static GPtrArray *
make_workloads (const BenchParams *base,
                GStrv              names,
                GStrv              idle_counts)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (workload_free);
  BenchParams p = *base;

  if (wanted (names, "bulk"))
    {
      g_autofree char *size = format_bytes (p.bulk_bytes);

      g_ptr_array_add (list, workload_new (SHAPE_BULK, &p, "MiB/s", (double) p.bulk_bytes / (1 << 20), "bulk",
                                           g_strdup_printf ("a) bulk %s", size)));
    }
  if (wanted (names, "pingpong"))
    g_ptr_array_add (list, workload_new (SHAPE_PINGPONG, &p, "rt/s", p.round_trips, "pingpong",
                                         g_strdup_printf ("b) ping-pong %u x 64 B", p.round_trips)));
  if (wanted (names, "idle"))
    for (char **n = idle_counts; *n != NULL; n++)
      {
        g_autofree char *key = NULL;

        /* N idle connections counts both ends of each idle pair: N idle
         * sockets on the loop, N/2 connected pairs. */
        guint sockets = (guint) g_ascii_strtoull (*n, NULL, 10);

        p.idle = (sockets + 1) / 2;
        key = g_strdup_printf ("idle%u", sockets);
        g_ptr_array_add (list, workload_new (SHAPE_PINGPONG, &p, "rt/s", p.round_trips, key,
                                             g_strdup_printf ("c) ping-pong +%u idle", sockets)));
        p.idle = 0;
      }
  if (wanted (names, "connect"))
    g_ptr_array_add (list, workload_new (SHAPE_CONNECT, &p, "cycles/s", p.cycles, "connect",
                                         g_strdup_printf ("d) connect/close %u", p.cycles)));
  if (wanted (names, "lines"))
    g_ptr_array_add (list, workload_new (SHAPE_LINES, &p, "lines/s", p.lines, "lines",
                                         g_strdup_printf ("e) lines %u", p.lines)));
  if (wanted (names, "mem"))
    {
      Workload *idle = workload_new (SHAPE_MEMORY, &p, "KiB/pair", 0, "mem-idle",
                                     g_strdup_printf ("f) memory/pair, idle (%u)", p.pairs));
      Workload *hello = workload_new (SHAPE_MEMORY, &p, "KiB/pair", 0, "mem-hello",
                                      g_strdup_printf ("g) memory/pair, hello (%u)", p.pairs));

      idle->companion = hello;
      hello->is_companion = TRUE;
      g_ptr_array_add (list, idle);
      g_ptr_array_add (list, hello);
    }
  return list;
}

static gboolean
run_one (Workload *w,
         Impl      impl,
         guint     round)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *what = g_strdup_printf ("%s [%s, round %u]", w->label, impl_names[impl], round + 1);
  BenchResult res = { 0 };
  double value, units = w->units;
  gboolean ok;

  watchdog_arm (what);
  ok = funcs[w->shape][impl] (&w->params, &res, &error);
  watchdog_disarm ();

  if (!ok)
    {
      fprintf (stderr, "\nFAIL: %s: %s\n", what, error != NULL ? error->message : "failed");
      return FALSE;
    }

  if (w->shape == SHAPE_MEMORY)
    {
      double hello = res.hello_bytes / 1024;

      value = res.idle_bytes / 1024;
      g_array_append_val (w->companion->values[impl], hello);
      bench_results_add (w->companion->key, impl_names[impl], round + 1, hello, w->unit);
      fprintf (stderr, "  %-28s %-5s round %u: %12.2f %s idle, %.2f after the hello\n",
               w->label, impl_names[impl], round + 1, value, w->unit, hello);
    }
  else
    {
      if (w->shape == SHAPE_PINGPONG && res.done > 0)
        units = res.done;   /* --max-seconds may have cut it short */
      value = units / ((double) MAX (res.elapsed_us, 1) / G_USEC_PER_SEC);
      fprintf (stderr, "  %-28s %-5s round %u: %12.1f %s\n", w->label, impl_names[impl], round + 1, value, w->unit);
    }
  g_array_append_val (w->values[impl], value);
  bench_results_add (w->key, impl_names[impl], round + 1, value, w->unit);
  return TRUE;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_autoptr(GArray) sorted = NULL;
  guint n = values->len;

  if (n == 0)
    return 0;
  sorted = g_array_copy (values);
  g_array_sort (sorted, compare_doubles);
  if (n % 2 == 1)
    return g_array_index (sorted, double, n / 2);
  return (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2;
}

static void
print_ratio (double value,
             double epoll)
{
  if (value > 0 && epoll > 0)
    printf ("  %11.2f", value / epoll);
  else
    printf ("  %11s", "-");
}

/* workload, implementation, median, unit; each workload's first row also
 * has qsock÷epoll, gio÷epoll, qt÷epoll and qsock÷qt (medians; for speed
 * above 1 is faster; for memory, where epoll holds next to nothing, only
 * qsock÷qt, and below 1 is smaller). */
static void
print_table (GPtrArray *workloads,
             const gboolean run_impl[N_IMPLS],
             guint           rounds)
{
  /* Padded by hand: "÷" is one column but two bytes. */
  printf ("\n%-28s  %-5s  %14s  %-8s  %s  %s  %s  %s\n",
          "workload", "impl", "median", "unit", "qsock÷epoll", "  gio÷epoll", "   qt÷epoll", "   qsock÷qt");
  printf ("%-28s  %-5s  %14s  %-8s  %s  %s  %s  %s\n",
          "----------------------------", "-----", "--------------", "--------",
          "-----------", "-----------", "-----------", "-----------");

  for (guint i = 0; i < workloads->len; i++)
    {
      Workload *w = workloads->pdata[i];
      double m[N_IMPLS];
      gboolean first = TRUE;

      for (int k = 0; k < N_IMPLS; k++)
        m[k] = median (w->values[k]);

      for (int k = 0; k < N_IMPLS; k++)
        {
          if (!run_impl[k])
            continue;
          printf ("%-28s  %-5s  %14.*f  ", first ? w->label : "", impl_names[k],
                  w->shape == SHAPE_MEMORY ? 2 : 1, m[k]);
          if (first)
            {
              gboolean mem = w->shape == SHAPE_MEMORY;

              printf ("%-8s", w->unit);
              print_ratio (mem ? 0 : m[IMPL_QSOCK], m[IMPL_EPOLL]);
              print_ratio (mem ? 0 : m[IMPL_GIO], m[IMPL_EPOLL]);
              print_ratio (mem ? 0 : m[IMPL_QT], m[IMPL_EPOLL]);
              print_ratio (m[IMPL_QSOCK], m[IMPL_QT]);
            }
          else
            printf ("%s", w->unit);
          printf ("\n");
          first = FALSE;
        }
    }
  printf ("\nMedians of %u interleaved rounds; higher is faster (memory: lower is smaller).\n", rounds);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("— qsock-glib vs plain GIO vs epoll on loopback TCP");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) workloads = NULL;
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) impls = NULL;
  g_auto(GStrv) idle_counts = NULL;
  g_autofree char *command = g_strjoinv (" ", argv);
  gboolean run_impl[N_IMPLS];
  BenchParams p;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }

  p.bulk_bytes = opt_quick ? (guint64) 256 << 20 : (guint64) 1 << 30;
  p.round_trips = opt_quick ? 5000 : 100000;
  p.idle = 0;
  p.cycles = opt_quick ? 1000 : 20000;
  p.lines = opt_quick ? 200000 : 1000000;
  p.pairs = opt_quick ? 500 : 2000;
  p.max_us = (gint64) (opt_max_seconds * G_USEC_PER_SEC);
  if (opt_bytes != NULL && !parse_size (opt_bytes, &p.bulk_bytes))
    {
      fprintf (stderr, "--bytes: not a size: %s\n", opt_bytes);
      return 2;
    }
  if (opt_round_trips > 0)
    p.round_trips = (guint) opt_round_trips;
  if (opt_cycles > 0)
    p.cycles = (guint) opt_cycles;
  if (opt_lines > 0)
    p.lines = (guint) opt_lines;
  if (opt_pairs > 0)
    p.pairs = (guint) opt_pairs;
  opt_rounds = MAX (opt_rounds, 1);
  opt_timeout = MAX (opt_timeout, 1);

  names = split_list (opt_workloads);
  for (char **n = names; *n != NULL; n++)
    if (!g_strv_contains ((const char * const[]) { "bulk", "pingpong", "idle", "connect", "lines", "mem", NULL }, *n))
      {
        fprintf (stderr, "--workload: unknown workload %s\n", *n);
        return 2;
      }
  impls = split_list (opt_impls);
  for (char **n = impls; *n != NULL; n++)
    if (!g_strv_contains ((const char * const[]) { "qsock", "gio", "epoll", "qt", NULL }, *n))
      {
        fprintf (stderr, "--impl: unknown implementation %s\n", *n);
        return 2;
      }
  for (int k = 0; k < N_IMPLS; k++)
    run_impl[k] = funcs[0][k] != NULL && wanted (impls, impl_names[k]);
  {
    char *idle_default[] = { (char *) "100", NULL };
    char *idle_given[] = { opt_idle, NULL };

    idle_counts = split_list (opt_idle != NULL ? idle_given : idle_default);
  }

  signal (SIGPIPE, SIG_IGN);
  {
    /* Every idle socket (both ends of each pair), both ends of every
     * memory pair, and some slack. */
    guint64 needed = 2 * (guint64) p.pairs + 2 * BENCH_MEM_WARM;

    for (char **n = idle_counts; wanted (names, "idle") && *n != NULL; n++)
      needed = MAX (needed, g_ascii_strtoull (*n, NULL, 10) + 1);
    if (!bench_raise_fd_limit (needed + 256))
      {
        fprintf (stderr, "FAIL: cannot raise RLIMIT_NOFILE to %" G_GUINT64_FORMAT
                 " (run as root or raise the hard limit)\n", needed + 256);
        return 1;
      }
  }
  bench_results_open (opt_results);
#ifdef BENCH_HAVE_QT
  if (run_impl[IMPL_QT])
    bench_qt_init (&argc, argv);
#endif
  g_mutex_init (&watchdog.lock);
  g_cond_init (&watchdog.cond);
  g_thread_unref (g_thread_new ("bench-watchdog", watchdog_thread, NULL));

  printf ("qsock-bench: qsock-glib %s, GLib %u.%u.%u, %s%s, %u CPUs\n", QSOCK_VERSION_S,
          glib_major_version, glib_minor_version, glib_micro_version,
#ifdef BENCH_HAVE_QT
          "Qt ", bench_qt_version (),
#else
          "no Qt", "",
#endif
          g_get_num_processors ());
  printf ("command: %s\n", command);
  fflush (stdout);

  /* Made before the clock starts, so no run pays for it. */
  bench_pattern_at (0);
  if (wanted (names, "lines"))
    bench_lines_get (p.lines);

  workloads = make_workloads (&p, names, idle_counts);
  for (guint i = 0; i < workloads->len; i++)
    for (guint round = 0; round < (guint) opt_rounds; round++)
      for (int k = 0; k < N_IMPLS; k++)
        if (run_impl[k] && !((Workload *) workloads->pdata[i])->is_companion &&
            !run_one (workloads->pdata[i], k, round))
          return 1;

  print_table (workloads, run_impl, (guint) opt_rounds);
  return 0;
}
