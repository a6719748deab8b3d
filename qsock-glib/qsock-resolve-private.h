/* qsock-resolve-private.h: host name lookup as Qt's QHostInfo does it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The addresses (GInetAddress, in getaddrinfo() order) of a name looked up
 * less than a minute ago, or NULL. Free with g_resolver_free_addresses(). */
GList *qsock_resolve_cached   (const char          *host_name);
/* Looks @host_name up in place (and caches the answer). NULL if unknown. */
GList *qsock_resolve          (const char          *host_name);
void   qsock_resolve_async    (const char          *host_name,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data);
GList *qsock_resolve_finish   (GAsyncResult        *result,
                               GError             **error);

G_END_DECLS
