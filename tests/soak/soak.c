/* soak.c: qsock-soak, many echoing TCP connections on one main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * N QSockTcp clients connect to one QSockTcpServer on 127.0.0.1; every
 * socket, both ends, lives on the one thread-default GMainContext of the
 * main thread. Each client keeps a window of messages in flight; the server
 * ends echo whatever they read, as Qt's echo server does, and each client
 * checks every reply it gets back:
 *
 *   header (20 bytes, little endian): magic, connection id, sequence number,
 *   payload length, checksum (FNV-1a over the first 16 header bytes and the
 *   payload); then the payload, bytes of a generator seeded by (id, seq).
 *
 * Lengths vary per message (mostly small, some a few KiB, a few up to
 * --max-size), so replies are split and coalesced by the kernel in every
 * way. A reply must carry the next sequence number of its connection (no
 * loss, duplication or reordering), the length and checksum that (id, seq)
 * gives, and a payload equal to the generator's (no corruption).
 *
 * Every second the sampler notes VmRSS and VmHWM (/proc/self/status), the
 * number of open descriptors (/proc/self/fd), the heap in use (mallinfo2:
 * in-use arena chunks plus mmap()ed blocks) and the messages checked so far,
 * and looks for stalled connections. After the warm-up, RSS, descriptors
 * and heap must stay flat (see check_flat()). Any failure ends the run at
 * once with exit status 1 and says which check failed and with what numbers.
 *
 * --inject KIND breaks the run on purpose, to show each check can fail;
 * --expect-failure KIND turns the exit status round: 0 only if the run
 * failed with exactly that kind. The 'soak' meson suite runs both.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <dirent.h>
#include <unistd.h>

#include <qsock-glib/qsock.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SOAK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SOAK_SANITIZED 1
#endif
#endif
#ifndef SOAK_SANITIZED
#define SOAK_SANITIZED 0
#endif

#define HEADER_SIZE   20
#define MAGIC         0x4b4f5351u   /* "QSOK" */
#define FD_HEADROOM   32            /* stdio, epoll, eventfds, listener: 8 measured */

typedef enum
{
  FAIL_NONE,
  FAIL_SETUP,
  FAIL_ERROR,
  FAIL_INTEGRITY,
  FAIL_STALL,
  FAIL_RSS,
  FAIL_FDS,
  FAIL_HEAP,
  N_FAIL_KINDS
} FailKind;

static const char *const fail_names[N_FAIL_KINDS] = {
  "none", "setup", "error", "integrity", "stall", "rss", "fds", "heap",
};

typedef enum
{
  INJECT_NONE,
  INJECT_CORRUPT,   /* the server flips a byte of one echo */
  INJECT_DROP,      /* the server leaves out one echoed message's first byte */
  INJECT_STALL,     /* the server stops echoing on one connection */
  INJECT_LEAK,      /* 256 bytes leaked per echoed read */
  INJECT_FDLEAK,    /* one descriptor leaked per second */
} Inject;

typedef enum
{
  PHASE_CONNECT,
  PHASE_RUN,
  PHASE_DRAIN,
  PHASE_DONE,
} Phase;

typedef struct _Soak Soak;

typedef struct
{
  Soak     *soak;
  QSockTcp *sock;
  guint32   id;
  guint32   next_send;      /* sequence number of the next message to send */
  guint32   next_recv;      /* sequence number the next reply must carry */
  gint64    last_progress;  /* monotonic µs of the last checked reply */
  guint64   msgs_at_progress; /* soak->msgs then */
  guint16   local_port;
  gboolean  connected;
} Client;

typedef struct
{
  Soak     *soak;
  QSockTcp *sock;
  guint     index;
  gboolean  stalled;        /* --inject stall */
} ServerEnd;

typedef struct
{
  double  t;                /* seconds since the run phase began */
  guint64 rss_kib;
  guint64 hwm_kib;
  guint64 fds;
  guint64 heap_kib;
  guint64 msgs;
} Sample;

struct _Soak
{
  /* options */
  guint    n_connections;
  guint    duration_s;
  guint    warmup_s;
  guint    window;
  guint    max_size;
  guint    concurrent_connects;
  guint    stall_s;
  double   rss_tolerance;   /* fraction */
  guint64  rss_slack_kib;
  guint64  heap_slack_kib;
  guint    fd_slack;
  gboolean check_memory;
  Inject   inject;
  FailKind expect_failure;
  gboolean quiet;

  GMainLoop      *loop;
  QSockTcpServer *server;
  guint16         port;
  GInetAddress   *loopback;

  Client    *clients;
  GPtrArray *server_ends;   /* ServerEnd*, in accept order */
  ServerEnd **end_by_port;  /* by the client's (peer's) port: diagnostics */
  guint      n_started;     /* clients told to connect */
  guint      n_connected;   /* clients that emitted connected */
  guint      n_connecting;  /* started, neither connected nor failed */
  gint64     last_connect_progress;

  Phase      phase;
  gint64     t_start;       /* monotonic µs: program start */
  gint64     t_connected;   /* all connected: run phase begins */
  gint64     t_stop;        /* sending stopped */
  gint64     t_drained;
  guint64    msgs;          /* replies checked */
  gint64     last_global_progress;
  guint64    bytes;         /* payload and header bytes checked */
  guint64    msgs_at_stop;
  guint64    msgs_at_run;   /* soak->msgs and ->bytes when the run phase began */
  guint64    bytes_at_run;
  guint64    bytes_at_stop;
  guint      n_in_flight;   /* messages sent but not yet checked, all clients */
  guint64    fds_before;

  GArray    *samples;       /* Sample */
  guint      warmup_index;  /* index of the sample at the end of the warm-up */
  guint      stop_index;    /* index of the last sample, taken when sending stops */
  guint      duration_timer;
  gboolean   have_warmup;

  char      *scratch;       /* one message being built or checked */
  GPtrArray *leaks;         /* --inject leak */
  GArray    *leaked_fds;    /* --inject fdleak */

  FailKind   failure;
  char      *failure_message;
};

/* ---- failure ------------------------------------------------------------ */

static void fail (Soak *soak, FailKind kind, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
fail (Soak       *soak,
      FailKind    kind,
      const char *format,
      ...)
{
  va_list args;

  if (soak->failure != FAIL_NONE)
    return;
  va_start (args, format);
  soak->failure = kind;
  soak->failure_message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("FAIL (%s): %s\n", fail_names[kind], soak->failure_message);
  if (soak->loop != NULL)
    g_main_loop_quit (soak->loop);
}

/* ---- measuring ---------------------------------------------------------- */

static guint64
status_kib (const char *field)
{
  char line[256];
  gsize len = strlen (field);
  guint64 value = 0;
  FILE *f = fopen ("/proc/self/status", "r");

  if (f == NULL)
    return 0;
  while (fgets (line, sizeof line, f) != NULL)
    if (strncmp (line, field, len) == 0 && line[len] == ':')
      {
        value = g_ascii_strtoull (line + len + 1, NULL, 10);
        break;
      }
  fclose (f);
  return value;
}

static guint64
open_fds (void)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *entry;
  guint64 n = 0;

  if (dir == NULL)
    return 0;
  while ((entry = readdir (dir)) != NULL)
    if (entry->d_name[0] != '.')
      n++;
  closedir (dir);
  return n - 1;   /* opendir's own descriptor */
}

static guint64
heap_in_use_kib (void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 info = mallinfo2 ();

  return (info.uordblks + info.hblkhd) / 1024;
#else
  return 0;
#endif
}

/* One counter of /proc/net/netstat or /proc/net/snmp ("TcpExt", "TCPTimeouts"):
 * a header line of names, then a line of values, per group. System-wide. */
static gint64
kernel_counter (const char *file,
                const char *group,
                const char *name)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  gsize glen = strlen (group);

  if (!g_file_get_contents (file, &text, NULL, NULL))
    return -1;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    if (strncmp (lines[i], group, glen) == 0 && lines[i][glen] == ':' &&
        strncmp (lines[i + 1], group, glen) == 0)
      {
        g_auto(GStrv) names = g_strsplit (lines[i], " ", -1);
        g_auto(GStrv) values = g_strsplit (lines[i + 1], " ", -1);

        for (guint k = 1; names[k] != NULL && values[k] != NULL; k++)
          if (strcmp (names[k], name) == 0)
            return g_ascii_strtoll (values[k], NULL, 10);
        return -1;
      }
  return -1;
}

typedef struct
{
  gint64 retrans, timeouts, rcvq_drop, pruned;
} KernelTcp;

static void
kernel_tcp (KernelTcp *k)
{
  k->retrans = kernel_counter ("/proc/net/snmp", "Tcp", "RetransSegs");
  k->timeouts = kernel_counter ("/proc/net/netstat", "TcpExt", "TCPTimeouts");
  k->rcvq_drop = kernel_counter ("/proc/net/netstat", "TcpExt", "TCPRcvQDrop");
  k->pruned = kernel_counter ("/proc/net/netstat", "TcpExt", "RcvPruned");
}

static void
print_kernel_tcp (const KernelTcp *before)
{
  KernelTcp now;

  kernel_tcp (&now);
  g_print ("kernel TCP counters since the start (system-wide: other processes count too): "
           "retransmitted segments +%" G_GINT64_FORMAT ", retransmission timeouts +%" G_GINT64_FORMAT
           ", receive-queue drops +%" G_GINT64_FORMAT ", pruned +%" G_GINT64_FORMAT "\n",
           now.retrans - before->retrans, now.timeouts - before->timeouts,
           now.rcvq_drop - before->rcvq_drop, now.pruned - before->pruned);
}

static double
seconds_since (gint64 then)
{
  return (g_get_monotonic_time () - then) / (double) G_USEC_PER_SEC;
}

/* ---- the messages ------------------------------------------------------- */

static inline guint32
mix32 (guint32 x)
{
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

static inline guint32
message_seed (guint32 id,
              guint32 seq)
{
  return mix32 (id * 0x9e3779b9u ^ mix32 (seq + 0x632be5abu));
}

/* Mostly small, some a few KiB, a few up to max_size; 0 is allowed. */
static guint32
message_length (Soak   *soak,
                guint32 id,
                guint32 seq)
{
  guint32 r = mix32 (message_seed (id, seq) ^ 0xa5a5a5a5u);
  guint32 cls = r % 100, v = r / 100;
  guint32 mid = MIN (2048u, soak->max_size);

  if (cls < 60)
    return v % (MIN (256u, soak->max_size) + 1);
  if (cls < 95 || soak->max_size <= mid)
    return v % (mid + 1);
  return mid + v % (soak->max_size - mid + 1);
}

static void
fill_payload (guint8 *p,
              guint32 len,
              guint32 seed)
{
  guint32 x = seed | 1;

  for (guint32 i = 0; i < len; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      p[i] = (guint8) (x >> 24);
    }
}

static guint32
fnv1a (guint32       h,
       const guint8 *p,
       gsize         n)
{
  for (gsize i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

static inline void
put32 (guint8 *p,
       guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
}

static inline guint32
get32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

/* Builds message (id, seq) in @buf; returns its whole size. */
static gsize
build_message (Soak   *soak,
               guint8 *buf,
               guint32 id,
               guint32 seq)
{
  guint32 len = message_length (soak, id, seq);

  put32 (buf, MAGIC);
  put32 (buf + 4, id);
  put32 (buf + 8, seq);
  put32 (buf + 12, len);
  fill_payload (buf + HEADER_SIZE, len, message_seed (id, seq));
  put32 (buf + 16, fnv1a (fnv1a (2166136261u, buf, 16), buf + HEADER_SIZE, len));
  return HEADER_SIZE + len;
}

/* ---- clients -------------------------------------------------------------- */

static void
client_send_next (Client *client)
{
  Soak *soak = client->soak;
  gsize size = build_message (soak, (guint8 *) soak->scratch, client->id, client->next_send);
  gint64 written = qsock_iodevice_write (QSOCK_IODEVICE (client->sock), soak->scratch, size);

  if (written != (gint64) size)
    {
      fail (soak, FAIL_ERROR, "client %u: write of message %u (%" G_GSIZE_FORMAT " bytes) returned %"
            G_GINT64_FORMAT ": %s", client->id, client->next_send, size, written,
            qsock_iodevice_get_error_string (QSOCK_IODEVICE (client->sock)));
      return;
    }
  client->next_send++;
  soak->n_in_flight++;
}

/* Checks one whole reply in soak->scratch against what (id, next_recv)
 * gives; the header was checked already. */
static gboolean
client_check_reply (Client *client,
                    guint32 len)
{
  Soak *soak = client->soak;
  const guint8 *msg = (const guint8 *) soak->scratch;
  guint32 seed = message_seed (client->id, client->next_recv);
  guint32 sum = fnv1a (fnv1a (2166136261u, msg, 16), msg + HEADER_SIZE, len);
  guint32 x = seed | 1;

  if (sum != get32 (msg + 16))
    {
      fail (soak, FAIL_INTEGRITY, "client %u: message %u: checksum %08x, header says %08x",
            client->id, client->next_recv, sum, get32 (msg + 16));
      return FALSE;
    }
  for (guint32 i = 0; i < len; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      if (msg[HEADER_SIZE + i] != (guint8) (x >> 24))
        {
          fail (soak, FAIL_INTEGRITY, "client %u: message %u: payload byte %u is 0x%02x, not 0x%02x",
                client->id, client->next_recv, i, msg[HEADER_SIZE + i], (guint8) (x >> 24));
          return FALSE;
        }
    }
  return TRUE;
}

static void
client_ready_read (QSockIODevice *dev,
                   gpointer       data)
{
  Client *client = data;
  Soak *soak = client->soak;
  guint8 header[HEADER_SIZE];

  while (soak->failure == FAIL_NONE)
    {
      gint64 available = qsock_iodevice_bytes_available (dev);
      guint32 len, expected_len;

      if (available < HEADER_SIZE)
        return;
      if (qsock_iodevice_peek (dev, (char *) header, HEADER_SIZE) != HEADER_SIZE)
        {
          fail (soak, FAIL_ERROR, "client %u: peek of a header failed", client->id);
          return;
        }
      len = get32 (header + 12);
      expected_len = message_length (soak, client->id, client->next_recv);
      if (get32 (header) != MAGIC || get32 (header + 4) != client->id ||
          get32 (header + 8) != client->next_recv || len != expected_len)
        {
          fail (soak, FAIL_INTEGRITY,
                "client %u: expected message %u (%u bytes), got header magic %08x id %u seq %u length %u",
                client->id, client->next_recv, expected_len, get32 (header), get32 (header + 4),
                get32 (header + 8), len);
          return;
        }
      if (client->next_recv == client->next_send)
        {
          fail (soak, FAIL_INTEGRITY, "client %u: reply %u arrived before it was sent",
                client->id, client->next_recv);
          return;
        }
      if (available < HEADER_SIZE + (gint64) len)
        return;
      if (qsock_iodevice_read (dev, soak->scratch, HEADER_SIZE + len) != HEADER_SIZE + (gint64) len)
        {
          fail (soak, FAIL_ERROR, "client %u: read of message %u failed", client->id, client->next_recv);
          return;
        }
      if (!client_check_reply (client, len))
        return;

      client->next_recv++;
      client->last_progress = soak->last_global_progress = g_get_monotonic_time ();
      client->msgs_at_progress = soak->msgs + 1;
      soak->n_in_flight--;
      soak->msgs++;
      soak->bytes += HEADER_SIZE + len;
      if (soak->phase == PHASE_RUN || soak->phase == PHASE_CONNECT)
        client_send_next (client);
      else if (soak->phase == PHASE_DRAIN && soak->n_in_flight == 0)
        g_main_loop_quit (soak->loop);
    }
}

static void start_connects (Soak *soak);

static void
client_connected (QSockAbstract *sock,
                  gpointer       data)
{
  Client *client = data;
  Soak *soak = client->soak;

  (void) sock;
  client->connected = TRUE;
  client->local_port = qsock_abstract_get_local_port (QSOCK_ABSTRACT (client->sock));
  client->last_progress = g_get_monotonic_time ();
  client->msgs_at_progress = soak->msgs;
  soak->last_connect_progress = client->last_progress;
  soak->n_connected++;
  soak->n_connecting--;
  qsock_abstract_set_socket_option (QSOCK_ABSTRACT (client->sock), QSOCK_SOCKET_OPTION_LOW_DELAY, 1);
  for (guint i = 0; i < soak->window && soak->failure == FAIL_NONE; i++)
    client_send_next (client);
  start_connects (soak);
}

static void
client_error (QSockAbstract   *sock,
              QSockSocketError error,
              gpointer         data)
{
  Client *client = data;

  fail (client->soak, FAIL_ERROR, "client %u: error-occurred %d in state %d: %s", client->id, error,
        qsock_abstract_get_state (sock), qsock_iodevice_get_error_string (QSOCK_IODEVICE (sock)));
}

static void
client_disconnected (QSockAbstract *sock,
                     gpointer       data)
{
  Client *client = data;

  (void) sock;
  fail (client->soak, FAIL_ERROR, "client %u: disconnected after %u replies", client->id, client->next_recv);
}

/* Keeps soak->concurrent_connects connection attempts under way until all
 * clients have been started. */
static void
start_connects (Soak *soak)
{
  while (soak->n_started < soak->n_connections &&
         soak->n_connecting < soak->concurrent_connects &&
         soak->failure == FAIL_NONE)
    {
      Client *client = &soak->clients[soak->n_started];

      client->soak = soak;
      client->id = soak->n_started;
      client->sock = qsock_tcp_new ();
      g_signal_connect (client->sock, "connected", G_CALLBACK (client_connected), client);
      g_signal_connect (client->sock, "ready-read", G_CALLBACK (client_ready_read), client);
      g_signal_connect (client->sock, "error-occurred", G_CALLBACK (client_error), client);
      g_signal_connect (client->sock, "disconnected", G_CALLBACK (client_disconnected), client);
      soak->n_started++;
      soak->n_connecting++;
      /* A Qt program would pass "127.0.0.1"; the address form keeps the
       * resolver (and its threads) out of the run. */
      qsock_abstract_connect_to_address (QSOCK_ABSTRACT (client->sock), soak->loopback,
                                         soak->port, QSOCK_OPEN_MODE_READ_WRITE);
    }
}

/* ---- the server ---------------------------------------------------------- */

static void
server_end_ready_read (QSockIODevice *dev,
                       gpointer       data)
{
  ServerEnd *end = data;
  Soak *soak = end->soak;
  char buf[16384];
  gint64 n;

  if (end->stalled)
    return;
  while ((n = qsock_iodevice_read (dev, buf, sizeof buf)) > 0)
    {
      gint64 from = 0;

      if (soak->phase == PHASE_RUN && soak->have_warmup && end->index == 0 && soak->inject != INJECT_NONE)
        {
          switch (soak->inject)
            {
            case INJECT_CORRUPT:
              buf[n - 1] ^= 0x10;
              soak->inject = INJECT_NONE;
              break;
            case INJECT_DROP:
              from = 1;
              soak->inject = INJECT_NONE;
              break;
            case INJECT_STALL:
              end->stalled = TRUE;
              return;
            default:
              break;
            }
        }
      if (soak->inject == INJECT_LEAK && soak->have_warmup)
        {
          gpointer p = g_malloc (256);

          memset (p, 0x5a, 256);
          g_ptr_array_add (soak->leaks, p);
        }
      if (qsock_iodevice_write (dev, buf + from, n - from) != n - from)
        {
          fail (soak, FAIL_ERROR, "server end %u: echo write of %" G_GINT64_FORMAT " bytes failed: %s",
                end->index, n - from, qsock_iodevice_get_error_string (dev));
          return;
        }
    }
  if (n < 0)
    fail (soak, FAIL_ERROR, "server end %u: read failed: %s", end->index, qsock_iodevice_get_error_string (dev));
}

static void
server_end_error (QSockAbstract   *sock,
                  QSockSocketError error,
                  gpointer         data)
{
  ServerEnd *end = data;

  fail (end->soak, FAIL_ERROR, "server end %u: error-occurred %d: %s", end->index, error,
        qsock_iodevice_get_error_string (QSOCK_IODEVICE (sock)));
}

static void
server_end_disconnected (QSockAbstract *sock,
                         gpointer       data)
{
  ServerEnd *end = data;

  (void) sock;
  fail (end->soak, FAIL_ERROR, "server end %u: disconnected", end->index);
}

static void
server_new_connection (QSockTcpServer *server,
                       gpointer        data)
{
  Soak *soak = data;
  QSockTcp *sock;

  while ((sock = qsock_tcp_server_next_pending_connection (server)) != NULL)
    {
      ServerEnd *end = g_new0 (ServerEnd, 1);

      end->soak = soak;
      end->sock = sock;
      end->index = soak->server_ends->len;
      g_ptr_array_add (soak->server_ends, end);
      soak->end_by_port[qsock_abstract_get_peer_port (QSOCK_ABSTRACT (sock))] = end;
      if (soak->server_ends->len > soak->n_connections)
        {
          fail (soak, FAIL_ERROR, "server: more connections accepted than made (%u)", soak->server_ends->len);
          return;
        }
      qsock_abstract_set_socket_option (QSOCK_ABSTRACT (sock), QSOCK_SOCKET_OPTION_LOW_DELAY, 1);
      g_signal_connect (sock, "ready-read", G_CALLBACK (server_end_ready_read), end);
      g_signal_connect (sock, "error-occurred", G_CALLBACK (server_end_error), end);
      g_signal_connect (sock, "disconnected", G_CALLBACK (server_end_disconnected), end);
      /* Bytes may have come in with the connection. */
      if (qsock_iodevice_bytes_available (QSOCK_IODEVICE (sock)) > 0)
        server_end_ready_read (QSOCK_IODEVICE (sock), end);
    }
}

static void
server_accept_error (QSockTcpServer  *server,
                     QSockSocketError error,
                     gpointer         data)
{
  fail (data, FAIL_ERROR, "server: accept-error %d: %s", error, qsock_tcp_server_get_error_string (server));
}

/* ---- the sampler ---------------------------------------------------------- */

static void
print_sample (Soak         *soak,
              const Sample *s,
              const Sample *prev)
{
  double rate = 0;

  if (soak->quiet)
    return;
  if (prev != NULL && s->t - prev->t >= 0.5)
    rate = (s->msgs - prev->msgs) / (s->t - prev->t);
  g_print ("sample t=%6.1f s rss=%8" G_GUINT64_FORMAT " KiB hwm=%8" G_GUINT64_FORMAT
           " KiB heap=%8" G_GUINT64_FORMAT " KiB fds=%6" G_GUINT64_FORMAT " msgs=%11"
           G_GUINT64_FORMAT " rate=%9.0f msgs/s%s\n",
           s->t, s->rss_kib, s->hwm_kib, s->heap_kib, s->fds, s->msgs, rate,
           soak->have_warmup && &g_array_index (soak->samples, Sample, soak->warmup_index) == s
             ? "  <- end of warm-up: the baseline" : "");
}

static void
take_sample (Soak *soak)
{
  Sample s = {
    .t = seconds_since (soak->t_connected),
    .rss_kib = status_kib ("VmRSS"),
    .hwm_kib = status_kib ("VmHWM"),
    .fds = open_fds (),
    .heap_kib = heap_in_use_kib (),
    .msgs = soak->msgs - soak->msgs_at_run,
  };
  const Sample *prev = soak->samples->len > 0
    ? &g_array_index (soak->samples, Sample, soak->samples->len - 1) : NULL;
  Sample prev_copy;

  if (prev != NULL)
    prev_copy = *prev;
  g_array_append_val (soak->samples, s);
  if (!soak->have_warmup && s.t >= soak->warmup_s - 0.05)
    {
      soak->have_warmup = TRUE;
      soak->warmup_index = soak->samples->len - 1;
    }
  print_sample (soak, &g_array_index (soak->samples, Sample, soak->samples->len - 1),
                prev != NULL ? &prev_copy : NULL);
}

/* Bytes in the kernel's queues of @fd: not yet read, not yet sent. */
static void
kernel_queues (int  fd,
               int *in,
               int *out)
{
  *in = *out = -1;
  if (fd >= 0)
    {
      ioctl (fd, SIOCINQ, in);
      ioctl (fd, SIOCOUTQ, out);
    }
}

static void
fail_stalled (Soak       *soak,
              Client     *c,
              gint64      now,
              const char *why)
{
  QSockIODevice *dev = QSOCK_IODEVICE (c->sock);
  ServerEnd *end = soak->end_by_port[c->local_port];
  int c_in, c_out, s_in = -1, s_out = -1;
  gint64 s_avail = -1, s_to_write = -1;

  kernel_queues (qsock_abstract_get_socket_descriptor (QSOCK_ABSTRACT (c->sock)), &c_in, &c_out);
  if (end != NULL)
    {
      kernel_queues (qsock_abstract_get_socket_descriptor (QSOCK_ABSTRACT (end->sock)), &s_in, &s_out);
      s_avail = qsock_iodevice_bytes_available (QSOCK_IODEVICE (end->sock));
      s_to_write = qsock_iodevice_bytes_to_write (QSOCK_IODEVICE (end->sock));
    }
  fail (soak, FAIL_STALL,
        "client %u (port %u): no reply for %.1f s, %s (waiting for message %u of %u sent). "
        "Client: %" G_GINT64_FORMAT " bytes buffered to read, %" G_GINT64_FORMAT " to write, "
        "kernel %d in / %d out; server end %d: %" G_GINT64_FORMAT " to read, %" G_GINT64_FORMAT
        " to write, kernel %d in / %d out",
        c->id, c->local_port, (now - c->last_progress) / (double) G_USEC_PER_SEC, why,
        c->next_recv, c->next_send, qsock_iodevice_bytes_available (dev),
        qsock_iodevice_bytes_to_write (dev), c_in, c_out, end != NULL ? (int) end->index : -1,
        s_avail, s_to_write, s_in, s_out);
}

/* A connection has stalled if it got no reply for --stall seconds while
 * the others got at least two per connection on average: judged against
 * its peers, so a machine too busy to give the process its share of CPU
 * does not count as a stall, and a stuck connection is still caught as
 * soon as the rest move on. If no connection at all gets a reply for
 * --stall seconds while messages are in flight, the whole run has stalled. */
static void
check_stalls (Soak *soak)
{
  gint64 now = g_get_monotonic_time ();
  gint64 limit = (gint64) soak->stall_s * G_USEC_PER_SEC;
  guint64 peers_moved = 2 * (guint64) soak->n_connections;
  Client *oldest = NULL;

  if (soak->phase == PHASE_CONNECT && now - soak->last_connect_progress > limit)
    {
      fail (soak, FAIL_STALL, "no connection completed for %u s: %u of %u connected, %u accepted",
            soak->stall_s, soak->n_connected, soak->n_connections, soak->server_ends->len);
      return;
    }
  for (guint i = 0; i < soak->n_started; i++)
    {
      Client *c = &soak->clients[i];

      if (!c->connected || c->next_recv == c->next_send)
        continue;
      if (oldest == NULL || c->last_progress < oldest->last_progress)
        oldest = c;
      if (now - c->last_progress > limit && soak->msgs - c->msgs_at_progress >= peers_moved)
        {
          g_autofree char *why = g_strdup_printf ("while the others got %" G_GUINT64_FORMAT " replies",
                                                  soak->msgs - c->msgs_at_progress);
          fail_stalled (soak, c, now, why);
          return;
        }
    }
  if (oldest != NULL && soak->phase != PHASE_CONNECT && now - soak->last_global_progress > limit)
    fail_stalled (soak, oldest, now, "and no connection got any reply meanwhile");
}

static gboolean
fd_leak_tick (Soak *soak)
{
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

  if (fd >= 0)
    g_array_append_val (soak->leaked_fds, fd);
  return TRUE;
}

static gboolean
on_second (gpointer data)
{
  Soak *soak = data;

  if (soak->phase == PHASE_RUN)
    {
      take_sample (soak);
      if (soak->inject == INJECT_FDLEAK && soak->have_warmup)
        fd_leak_tick (soak);
    }
  else if (!soak->quiet && soak->phase == PHASE_CONNECT)
    g_print ("connecting: %u of %u connected, %u accepted, %.1f s\n", soak->n_connected,
             soak->n_connections, soak->server_ends->len, seconds_since (soak->t_start));
  check_stalls (soak);
  return G_SOURCE_CONTINUE;
}

/* Ticks of the run: first the moment all are connected, then the end. */
static gboolean
on_connect_check (gpointer data)
{
  Soak *soak = data;

  if (soak->phase == PHASE_CONNECT && soak->n_connected == soak->n_connections &&
      soak->server_ends->len == soak->n_connections)
    g_main_loop_quit (soak->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_duration (gpointer data)
{
  Soak *soak = data;

  soak->duration_timer = 0;
  g_main_loop_quit (soak->loop);
  return G_SOURCE_REMOVE;
}

/* Flat: the last sample of the run (taken just before sending stops) is
 * at most baseline × (1 + tolerance) + slack, where baseline is the sample
 * at the end of the warm-up; for descriptors, at most baseline + fd_slack
 * (default 0: exactly as many). */
static void
check_flat (Soak *soak)
{
  const Sample *base, *last;
  guint64 rss_limit, heap_limit;

  if (!soak->have_warmup || soak->stop_index <= soak->warmup_index)
    {
      fail (soak, FAIL_SETUP, "no samples after the warm-up (%u s of a %u s run)",
            soak->warmup_s, soak->duration_s);
      return;
    }
  base = &g_array_index (soak->samples, Sample, soak->warmup_index);
  last = &g_array_index (soak->samples, Sample, soak->stop_index);
  rss_limit = (guint64) (base->rss_kib * (1 + soak->rss_tolerance)) + soak->rss_slack_kib;
  heap_limit = (guint64) (base->heap_kib * (1 + soak->rss_tolerance)) + soak->heap_slack_kib;

  g_print ("flat: rss %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB (limit %" G_GUINT64_FORMAT
           "), heap %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB (limit %" G_GUINT64_FORMAT
           "), fds %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " (limit %" G_GUINT64_FORMAT
           "), from t=%.1f s to t=%.1f s%s\n",
           base->rss_kib, last->rss_kib, rss_limit, base->heap_kib, last->heap_kib, heap_limit,
           base->fds, last->fds, base->fds + soak->fd_slack, base->t, last->t,
           soak->check_memory ? "" : " (memory not checked)");
  if (last->fds > base->fds + soak->fd_slack)
    fail (soak, FAIL_FDS, "descriptors grew from %" G_GUINT64_FORMAT " at t=%.1f s to %" G_GUINT64_FORMAT
          " at t=%.1f s (limit %" G_GUINT64_FORMAT ")", base->fds, base->t, last->fds, last->t,
          base->fds + soak->fd_slack);
  else if (soak->check_memory && last->rss_kib > rss_limit)
    fail (soak, FAIL_RSS, "RSS grew from %" G_GUINT64_FORMAT " KiB at t=%.1f s to %" G_GUINT64_FORMAT
          " KiB at t=%.1f s (limit %" G_GUINT64_FORMAT " KiB = +%.0f %% + %" G_GUINT64_FORMAT " KiB)",
          base->rss_kib, base->t, last->rss_kib, last->t, rss_limit, soak->rss_tolerance * 100,
          soak->rss_slack_kib);
  else if (soak->check_memory && last->heap_kib > heap_limit)
    fail (soak, FAIL_HEAP, "heap in use grew from %" G_GUINT64_FORMAT " KiB at t=%.1f s to %" G_GUINT64_FORMAT
          " KiB at t=%.1f s (limit %" G_GUINT64_FORMAT " KiB = +%.0f %% + %" G_GUINT64_FORMAT " KiB)",
          base->heap_kib, base->t, last->heap_kib, last->t, heap_limit, soak->rss_tolerance * 100,
          soak->heap_slack_kib);
}

/* ---- set-up and teardown -------------------------------------------------- */

static gboolean
raise_fd_limit (Soak *soak)
{
  struct rlimit limit;
  rlim_t needed = (rlim_t) soak->n_connections * 2 + FD_HEADROOM;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    {
      fail (soak, FAIL_SETUP, "getrlimit(RLIMIT_NOFILE): %s", g_strerror (errno));
      return FALSE;
    }
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed)
    {
      struct rlimit raised = { needed, needed };

      /* Only with CAP_SYS_RESOURCE (root); otherwise the hard limit stays. */
      if (setrlimit (RLIMIT_NOFILE, &raised) == 0)
        {
          g_print ("RLIMIT_NOFILE: hard limit %lu raised to %lu\n", (unsigned long) limit.rlim_max,
                   (unsigned long) needed);
          return TRUE;
        }
      fail (soak, FAIL_SETUP,
            "%u connections need %lu descriptors, but the hard RLIMIT_NOFILE is %lu "
            "and cannot be raised (%s): run as root, raise it (ulimit -Hn), or use fewer connections (-n)",
            soak->n_connections, (unsigned long) needed, (unsigned long) limit.rlim_max, g_strerror (errno));
      return FALSE;
    }
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
    {
      fail (soak, FAIL_SETUP, "setrlimit(RLIMIT_NOFILE, %lu): %s", (unsigned long) limit.rlim_cur,
            g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_port_range (Soak *soak)
{
  g_autofree char *text = NULL;
  unsigned lo, hi;

  if (!g_file_get_contents ("/proc/sys/net/ipv4/ip_local_port_range", &text, NULL, NULL) ||
      sscanf (text, "%u %u", &lo, &hi) != 2)
    return TRUE;
  if (hi - lo + 1 < soak->n_connections)
    {
      fail (soak, FAIL_SETUP, "%u connections from one address need as many ephemeral ports, "
            "but net.ipv4.ip_local_port_range (%u-%u) has %u", soak->n_connections, lo, hi, hi - lo + 1);
      return FALSE;
    }
  return TRUE;
}

/* Resets every connection (SO_LINGER 0: no TIME_WAIT left to slow down the
 * next run) and checks that every descriptor they held is closed. */
static void
teardown (Soak *soak)
{
  struct linger reset = { 1, 0 };
  guint64 fds_after;
  gint64 deadline;

  for (guint i = 0; i < soak->n_started; i++)
    {
      Client *c = &soak->clients[i];
      int fd = qsock_abstract_get_socket_descriptor (QSOCK_ABSTRACT (c->sock));

      g_signal_handlers_disconnect_by_data (c->sock, c);
      if (fd >= 0)
        setsockopt (fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      qsock_abstract_abort (QSOCK_ABSTRACT (c->sock));
      g_clear_object (&c->sock);
    }
  for (guint i = 0; i < soak->server_ends->len; i++)
    {
      ServerEnd *end = g_ptr_array_index (soak->server_ends, i);

      g_signal_handlers_disconnect_by_data (end->sock, end);
      qsock_abstract_abort (QSOCK_ABSTRACT (end->sock));
      g_clear_object (&end->sock);
    }
  g_ptr_array_set_size (soak->server_ends, 0);
  for (guint i = 0; i < soak->leaked_fds->len; i++)
    close (g_array_index (soak->leaked_fds, int, i));
  g_array_set_size (soak->leaked_fds, 0);

  /* Let anything the library closes from the loop go. */
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while ((fds_after = open_fds ()) > soak->fds_before && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (10000);
  g_print ("teardown: %" G_GUINT64_FORMAT " descriptors open (%" G_GUINT64_FORMAT
           " before connecting), rss %" G_GUINT64_FORMAT " KiB, heap %" G_GUINT64_FORMAT " KiB\n",
           fds_after, soak->fds_before, status_kib ("VmRSS"), heap_in_use_kib ());
  if (fds_after > soak->fds_before)
    fail (soak, FAIL_FDS, "%" G_GUINT64_FORMAT " descriptors still open after closing every connection, "
          "%" G_GUINT64_FORMAT " before connecting", fds_after, soak->fds_before);
}

/* ---- options ---------------------------------------------------------------- */

static gboolean
parse_kind (const char *text,
            FailKind   *out)
{
  for (int k = FAIL_SETUP; k < N_FAIL_KINDS; k++)
    if (g_strcmp0 (text, fail_names[k]) == 0)
      {
        *out = k;
        return TRUE;
      }
  return FALSE;
}

static gboolean
parse_inject (const char *text,
              Inject     *out)
{
  static const char *const names[] = { "none", "corrupt", "drop", "stall", "leak", "fdleak" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (text, names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

static int
finish (Soak *soak)
{
  if (soak->expect_failure != FAIL_NONE)
    {
      if (soak->failure == soak->expect_failure)
        {
          g_print ("expected failure (%s) seen: PASS\n", fail_names[soak->failure]);
          return 0;
        }
      g_printerr ("expected a failure of kind '%s', got '%s': FAIL\n", fail_names[soak->expect_failure],
                  fail_names[soak->failure]);
      return 1;
    }
  return soak->failure == FAIL_NONE ? 0 : 1;
}

int
main (int   argc,
      char *argv[])
{
  Soak soak_ = { 0 }, *soak = &soak_;
  int n = 10000, duration = 10, warmup = -1, window = 2, max_size = 16384, concurrent = 256, stall = 5;
  double tolerance = 5.0;
  int rss_slack = 4096, heap_slack = 4096, fd_slack = 0;
  gboolean no_memory_check = FALSE, quiet = FALSE;
  g_autofree char *inject = NULL, *expect = NULL;
  GOptionEntry entries[] = {
    { "connections", 'n', 0, G_OPTION_ARG_INT, &n, "Concurrent connections (default 10000)", "N" },
    { "duration", 'd', 0, G_OPTION_ARG_INT, &duration, "Seconds of echoing after all are connected (default 10)", "S" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &warmup, "Seconds before the memory baseline (default: a quarter of -d, 2 to 60)", "S" },
    { "window", 0, 0, G_OPTION_ARG_INT, &window, "Messages in flight per connection (default 2)", "K" },
    { "max-size", 'm', 0, G_OPTION_ARG_INT, &max_size, "Largest payload in bytes (default 16384)", "B" },
    { "concurrent-connects", 0, 0, G_OPTION_ARG_INT, &concurrent, "Connection attempts under way at once (default 256)", "C" },
    { "stall", 0, 0, G_OPTION_ARG_INT, &stall, "Seconds without progress that count as a stall (default 5)", "S" },
    { "rss-tolerance", 0, 0, G_OPTION_ARG_DOUBLE, &tolerance, "Allowed growth after the warm-up, percent (default 5)", "P" },
    { "rss-slack", 0, 0, G_OPTION_ARG_INT, &rss_slack, "And absolute slack for RSS, KiB (default 4096)", "KIB" },
    { "heap-slack", 0, 0, G_OPTION_ARG_INT, &heap_slack, "And for the heap in use, KiB (default 4096)", "KIB" },
    { "fd-slack", 0, 0, G_OPTION_ARG_INT, &fd_slack, "Allowed descriptor growth (default 0)", "N" },
    { "no-memory-check", 0, 0, G_OPTION_ARG_NONE, &no_memory_check, "Report RSS and heap but do not check them (sanitizer builds)", NULL },
    { "inject", 0, 0, G_OPTION_ARG_STRING, &inject, "Break the run on purpose: corrupt, drop, stall, leak, fdleak", "KIND" },
    { "expect-failure", 0, 0, G_OPTION_ARG_STRING, &expect, "Pass only if the run fails with this kind: error, integrity, stall, rss, fds, heap", "KIND" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No per-second lines", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- many echoing TCP connections on one main loop");
  g_autoptr(GError) error = NULL;
  double run_s, rate;
  KernelTcp kernel_before;
  guint timer, connect_timer;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (n < 1 || duration < 1 || window < 1 || max_size < 0 || max_size > 1 << 24 || concurrent < 1 || stall < 1 ||
      tolerance < 0 || rss_slack < 0 || heap_slack < 0 || fd_slack < 0)
    {
      g_printerr ("bad option value\n");
      return 2;
    }
  soak->n_connections = n;
  soak->duration_s = duration;
  soak->warmup_s = warmup >= 0 ? (guint) warmup : (guint) CLAMP (duration / 4, 2, 60);
  if (soak->warmup_s >= soak->duration_s)
    {
      g_printerr ("the warm-up (%u s) must be shorter than the run (-d %u)\n", soak->warmup_s, soak->duration_s);
      return 2;
    }
  soak->window = window;
  soak->max_size = max_size;
  soak->concurrent_connects = concurrent;
  soak->stall_s = stall;
  soak->rss_tolerance = tolerance / 100;
  soak->rss_slack_kib = rss_slack;
  soak->heap_slack_kib = heap_slack;
  soak->fd_slack = fd_slack;
  soak->check_memory = !no_memory_check && !SOAK_SANITIZED;
  soak->quiet = quiet;
  if (inject != NULL && !parse_inject (inject, &soak->inject))
    {
      g_printerr ("unknown --inject %s\n", inject);
      return 2;
    }
  if (expect != NULL && !parse_kind (expect, &soak->expect_failure))
    {
      g_printerr ("unknown --expect-failure %s\n", expect);
      return 2;
    }

  soak->t_start = g_get_monotonic_time ();
  kernel_tcp (&kernel_before);
  soak->samples = g_array_new (FALSE, FALSE, sizeof (Sample));
  soak->server_ends = g_ptr_array_new_with_free_func (g_free);
  soak->leaks = g_ptr_array_new_with_free_func (g_free);
  soak->leaked_fds = g_array_new (FALSE, FALSE, sizeof (int));
  soak->scratch = g_malloc (HEADER_SIZE + soak->max_size);
  soak->clients = g_new0 (Client, soak->n_connections);
  soak->end_by_port = g_new0 (ServerEnd *, 65536);
  soak->loop = g_main_loop_new (NULL, FALSE);
  soak->loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  g_print ("qsock-soak: %u connections, %u s (warm-up %u s), window %u, payloads 0-%u bytes, "
           "flat = last sample <= warm-up sample + %.1f %% + %u KiB (RSS, heap), + %u (fds)%s\n",
           soak->n_connections, soak->duration_s, soak->warmup_s, soak->window, soak->max_size,
           tolerance, rss_slack, fd_slack,
           soak->check_memory ? "" : "; memory not checked (sanitizer build or --no-memory-check)");

  if (!raise_fd_limit (soak) || !check_port_range (soak))
    return finish (soak);

  soak->server = qsock_tcp_server_new ();
  qsock_tcp_server_set_listen_backlog_size (soak->server, MAX (soak->concurrent_connects * 2, 128));
  qsock_tcp_server_set_max_pending_connections (soak->server, soak->n_connections);
  g_signal_connect (soak->server, "new-connection", G_CALLBACK (server_new_connection), soak);
  g_signal_connect (soak->server, "accept-error", G_CALLBACK (server_accept_error), soak);
  if (!qsock_tcp_server_listen (soak->server, soak->loopback, 0))
    {
      fail (soak, FAIL_SETUP, "listen on 127.0.0.1: %s", qsock_tcp_server_get_error_string (soak->server));
      return finish (soak);
    }
  soak->port = qsock_tcp_server_get_server_port (soak->server);
  soak->fds_before = open_fds ();

  /* Connect; clients start echoing as soon as they are connected. */
  soak->phase = PHASE_CONNECT;
  soak->last_connect_progress = g_get_monotonic_time ();
  timer = g_timeout_add_seconds (1, on_second, soak);
  connect_timer = g_timeout_add (20, on_connect_check, soak);
  start_connects (soak);
  g_main_loop_run (soak->loop);
  g_source_remove (connect_timer);
  g_source_remove (timer);
  if (soak->failure != FAIL_NONE)
    goto out;
  soak->t_connected = g_get_monotonic_time ();
  g_print ("connected: %u connections in %.2f s, %" G_GUINT64_FORMAT " messages checked meanwhile, "
           "rss %" G_GUINT64_FORMAT " KiB, fds %" G_GUINT64_FORMAT "\n",
           soak->n_connections, (soak->t_connected - soak->t_start) / (double) G_USEC_PER_SEC, soak->msgs,
           status_kib ("VmRSS"), open_fds ());

  /* Run: every second a sample, then stop sending after the duration. */
  soak->phase = PHASE_RUN;
  soak->last_global_progress = soak->t_connected;
  soak->msgs_at_run = soak->msgs;
  soak->bytes_at_run = soak->bytes;
  take_sample (soak);
  timer = g_timeout_add (1000, on_second, soak);
  soak->duration_timer = g_timeout_add ((guint) soak->duration_s * 1000 + 50, on_duration, soak);
  g_main_loop_run (soak->loop);
  if (soak->failure != FAIL_NONE)
    {
      g_clear_handle_id (&soak->duration_timer, g_source_remove);
      g_source_remove (timer);
      goto out;
    }
  soak->t_stop = g_get_monotonic_time ();
  soak->msgs_at_stop = soak->msgs - soak->msgs_at_run;
  soak->bytes_at_stop = soak->bytes - soak->bytes_at_run;
  take_sample (soak);
  soak->stop_index = soak->samples->len - 1;

  /* Drain: every message in flight must come back. */
  soak->phase = PHASE_DRAIN;
  if (soak->n_in_flight > 0)
    g_main_loop_run (soak->loop);
  g_source_remove (timer);
  soak->t_drained = g_get_monotonic_time ();
  if (soak->failure != FAIL_NONE)
    goto out;
  for (guint i = 0; i < soak->n_connections; i++)
    if (soak->clients[i].next_recv != soak->clients[i].next_send)
      {
        fail (soak, FAIL_INTEGRITY, "client %u: %u replies of %u after draining", i,
              soak->clients[i].next_recv, soak->clients[i].next_send);
        goto out;
      }
  soak->phase = PHASE_DONE;

  check_flat (soak);

  run_s = (soak->t_stop - soak->t_connected) / (double) G_USEC_PER_SEC;
  rate = soak->msgs_at_stop / run_s;
  {
    const Sample *base = soak->have_warmup ? &g_array_index (soak->samples, Sample, soak->warmup_index) : NULL;
    const Sample *last = &g_array_index (soak->samples, Sample, soak->stop_index);
    guint64 min_msgs = G_MAXUINT64, max_msgs = 0;

    for (guint i = 0; i < soak->n_connections; i++)
      {
        min_msgs = MIN (min_msgs, soak->clients[i].next_recv);
        max_msgs = MAX (max_msgs, soak->clients[i].next_recv);
      }
    g_print ("SUMMARY %s: %u connections, %.1f s, %" G_GUINT64_FORMAT " messages (%.0f msgs/s, %.1f MiB/s echoed; "
             "per connection over the whole run %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "), drain %.2f s; "
             "rss %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB, peak (VmHWM) %" G_GUINT64_FORMAT " KiB, "
             "heap %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB, fds %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT "\n",
             soak->failure == FAIL_NONE ? "PASS" : "FAIL", soak->n_connections, run_s, soak->msgs_at_stop,
             rate, soak->bytes_at_stop / run_s / (1024.0 * 1024.0), min_msgs, max_msgs,
             (soak->t_drained - soak->t_stop) / (double) G_USEC_PER_SEC,
             base ? base->rss_kib : 0, last->rss_kib, status_kib ("VmHWM"),
             base ? base->heap_kib : 0, last->heap_kib, base ? base->fds : 0, last->fds);
  }

out:
  soak->phase = PHASE_DONE;
  if (soak->failure != FAIL_NONE && soak->samples->len > 0)
    {
      const Sample *last = &g_array_index (soak->samples, Sample, soak->samples->len - 1);

      g_print ("at failure: %" G_GUINT64_FORMAT " messages checked, rss %" G_GUINT64_FORMAT
               " KiB, peak %" G_GUINT64_FORMAT " KiB, heap %" G_GUINT64_FORMAT " KiB, fds %" G_GUINT64_FORMAT "\n",
               soak->msgs, last->rss_kib, status_kib ("VmHWM"), last->heap_kib, last->fds);
    }
  print_kernel_tcp (&kernel_before);
  teardown (soak);
  qsock_tcp_server_close (soak->server);
  g_clear_object (&soak->server);
  g_clear_object (&soak->loopback);
  g_main_loop_unref (soak->loop);
  soak->loop = NULL;
  g_ptr_array_unref (soak->leaks);
  g_ptr_array_unref (soak->server_ends);
  g_array_unref (soak->leaked_fds);
  g_array_unref (soak->samples);
  g_free (soak->clients);
  g_free (soak->end_by_port);
  g_free (soak->scratch);
  {
    int status = finish (soak);

    g_free (soak->failure_message);
    return status;
  }
}
