/* qsock-resolve.c: host name lookup as Qt's QHostInfo does it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Qt asks getaddrinfo() (so /etc/hosts decides what "localhost" is) and
 * keeps answers for 60 seconds, which makes a repeated connect to the same
 * name emit its states and host-found inside connect_to_host(). GResolver
 * answers "localhost" itself with both loopback addresses and caches
 * nothing, so the lookup is done here: getaddrinfo() in a GTask thread,
 * with the same small cache. QSOCK_HOST_CACHE=0 in the environment turns
 * the cache off (test suites that need every lookup to be asynchronous
 * use it).
 */
#include "config.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "qsock-resolve-private.h"
#include "qsock-socket-private.h"

#define CACHE_SECONDS  60
#define CACHE_MAX      128

typedef struct
{
  GList  *addresses;
  gint64  expires;
} CacheEntry;

G_LOCK_DEFINE_STATIC (cache);
static GHashTable *cache;   /* host name → CacheEntry */

static gpointer
ref_address (gconstpointer address,
             gpointer      unused)
{
  return g_object_ref ((gpointer) address);
}

static GList *
copy_addresses (GList *addresses)
{
  return g_list_copy_deep (addresses, ref_address, NULL);
}

static void
cache_entry_free (gpointer data)
{
  CacheEntry *entry = data;

  g_resolver_free_addresses (entry->addresses);
  g_free (entry);
}

static gboolean
cache_enabled (void)
{
  return g_strcmp0 (g_getenv ("QSOCK_HOST_CACHE"), "0") != 0;
}

GList *
qsock_resolve_cached (const char *host_name)
{
  CacheEntry *entry;
  GList *result = NULL;

  if (!cache_enabled ())
    return NULL;

  G_LOCK (cache);
  entry = cache != NULL ? g_hash_table_lookup (cache, host_name) : NULL;
  if (entry != NULL && entry->expires > g_get_monotonic_time ())
    result = copy_addresses (entry->addresses);
  G_UNLOCK (cache);

  return result;
}

static void
cache_store (const char *host_name,
             GList      *addresses)
{
  CacheEntry *entry = g_new0 (CacheEntry, 1);

  entry->addresses = copy_addresses (addresses);
  entry->expires = g_get_monotonic_time () + (gint64) CACHE_SECONDS * G_USEC_PER_SEC;

  G_LOCK (cache);
  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cache_entry_free);
  if (g_hash_table_size (cache) >= CACHE_MAX)
    g_hash_table_remove_all (cache);
  g_hash_table_replace (cache, g_strdup (host_name), entry);
  G_UNLOCK (cache);
}

GList *
qsock_resolve (const char *host_name)
{
  struct addrinfo hints = { 0 };
  struct addrinfo *res = NULL;
  GList *addresses = NULL;

  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;

  if (getaddrinfo (host_name, NULL, &hints, &res) != 0)
    return NULL;

  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
    {
      GInetAddress *address = qsock_inet_from_sockaddr (ai->ai_addr, ai->ai_addrlen, NULL);
      gboolean seen = FALSE;

      if (address == NULL)
        continue;
      for (GList *l = addresses; l != NULL && !seen; l = l->next)
        seen = g_inet_address_equal (l->data, address);
      if (seen)
        g_object_unref (address);
      else
        addresses = g_list_append (addresses, address);
    }
  freeaddrinfo (res);

  if (addresses != NULL && cache_enabled ())
    cache_store (host_name, addresses);
  return addresses;
}

static void
resolve_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GList *addresses = qsock_resolve (task_data);

  if (addresses == NULL)
    g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                             "%s", (const char *) task_data);
  else
    g_task_return_pointer (task, addresses, (GDestroyNotify) g_resolver_free_addresses);
}

void
qsock_resolve_async (const char          *host_name,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, qsock_resolve_async);
  g_task_set_name (task, "[qsock] resolve");
  g_task_set_task_data (task, g_strdup (host_name), g_free);
  g_task_run_in_thread (task, resolve_thread);
  g_object_unref (task);
}

GList *
qsock_resolve_finish (GAsyncResult *result,
                      GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
