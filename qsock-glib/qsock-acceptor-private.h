/* qsock-acceptor-private.h: the accept loop both servers share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

#include "qsock-watch-private.h"

G_BEGIN_DECLS

/* Whether the owner takes more connections now (not paused, queue not full). */
typedef gboolean (*QSockAcceptorWants)    (gpointer owner);
/* A connection was accepted; the owner now owns @fd. */
typedef void     (*QSockAcceptorAccepted) (gpointer owner,
                                           int      fd);
/* accept() failed with @errsv; accepting is paused (and retried after a
 * short back-off when the system ran out of descriptors or memory). */
typedef void     (*QSockAcceptorFailed)   (gpointer owner,
                                           int      errsv);

typedef struct
{
  GMainContext          *context;
  int                    fd;
  QSockWatch            *watch;
  GSource               *retry_timer;
  gboolean               error_paused;
  gpointer               owner;
  QSockAcceptorWants     wants;
  QSockAcceptorAccepted  accepted;
  QSockAcceptorFailed    failed;
} QSockAcceptor;

void     qsock_acceptor_init           (QSockAcceptor         *acceptor,
                                        GMainContext          *context,
                                        gpointer               owner,
                                        QSockAcceptorWants     wants,
                                        QSockAcceptorAccepted  accepted,
                                        QSockAcceptorFailed    failed);
/* Serves on the listening @fd (owned from now on). */
void     qsock_acceptor_start          (QSockAcceptor         *acceptor,
                                        int                    fd,
                                        const char            *name);
/* Closes the listening descriptor. */
void     qsock_acceptor_stop           (QSockAcceptor         *acceptor);
/* Watches for connections exactly while the owner wants them. */
void     qsock_acceptor_update         (QSockAcceptor         *acceptor);
/* Clears a pause after a failure. */
void     qsock_acceptor_resume         (QSockAcceptor         *acceptor);
/* Blocks (no main loop) until a connection can be accepted, then accepts.
 * Returns FALSE on timeout. */
gboolean qsock_acceptor_wait           (QSockAcceptor         *acceptor,
                                        int                    msecs);

G_END_DECLS
