/* bench-udp.h: what qsock-bench-udp's implementations share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The run (pacing window, progress, checks) lives in bench-udp.c; the Qt 6
 * implementation (bench-qt-udp.cpp, C++) drives it through these.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DATAGRAM_SIZE   512
#define HEADER_SIZE     4                       /* the sequence number */
#define RCVBUF          (4 * 1024 * 1024)       /* SO_RCVBUF of every receiver */
#define RECV_BUFFER     2048                    /* > DATAGRAM_SIZE: longer ones show */

/* The end marker: shorter than any datagram of data. */
extern const guint8 end_marker[8];

typedef struct
{
  int       impl;            /* Impl */
  guint32   count;
  guint32   window;
  guint16   port;            /* the receiver's, on 127.0.0.1 */
  int       sender_wake;     /* eventfds */
  int       receiver_wake;

  /* starting both together; the set-up is not timed */
  GMutex    lock;
  GCond     cond;
  guint     ready;
  gboolean  go;
  gint64    start_us;
  char     *error;           /* the first failure, under lock */

  gint      acked;           /* atomic: highest sequence number received + 1 */
  gint      sender_waiting;  /* atomic: the window is full, wake me */
  gint      done;            /* atomic */
  gint64    end_us;

  /* receiver's */
  guint8   *seen;            /* a bit per sequence number */
  guint32   unique;
  guint32   reordered;       /* arrived after a higher number */
  guint32   next;            /* highest + 1 */
  guint     since_publish;
  gboolean  got_end;
  gboolean  receiver_stop;
  int       rcvbuf;          /* SO_RCVBUF read back */

  /* sender's */
  guint32   sent;
  guint32   credit_base;     /* after a stall: what was in flight is lost */
  guint32   stall_sent;
  gint64    stall_since;
  guint64   ends_sent;
} Run;

void     datagram_fill      (guint8 *buf, guint32 seq);
void     wake               (int fd);
void     drain_wake         (int fd);
void     run_fail           (Run *run, const char *format, ...) G_GNUC_PRINTF (2, 3);
gboolean run_is_done        (Run *run);
/* Worker side: set up, then wait for the start. */
void     gate_arrive        (Run *run);
/* Worker side, when set-up failed: let the main thread go on. */
void     gate_give_up       (Run *run, const char *what, GError *error);
/* Checks one datagram; FALSE when the receiver is to stop. */
gboolean receiver_take      (Run *run, const guint8 *data, gssize n);
/* Nothing more to read for now. */
void     receiver_drained   (Run *run);
void     set_rcvbuf         (Run *run, int fd);
guint32  sender_credit      (Run *run);
guint32  sender_wait_credit (Run *run);
void     sender_check_stall (Run *run);

#ifdef BENCH_HAVE_QT
gpointer bench_qt_udp_receiver (gpointer run);
gpointer bench_qt_udp_sender   (gpointer run);
#endif

G_END_DECLS
