/* fuzz-datagram.c: libFuzzer target for datagram receiving
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A QSockUdp is bound on 127.0.0.1 or ::1 (the input's first byte says
 * which); two plain sockets send it datagrams of 0 to 65507 bytes with
 * chosen hop limits. The rest of the input is a list of operations: send,
 * run the main context, has_pending_datagrams, pending_datagram_size,
 * bytes_available, read_datagram, read_datagram_bytes and
 * receive_datagram with chosen maximum sizes (0, small, exact, negative,
 * 2^31, 2^40, G_MAXINT64), receive_datagram_async (waiting, cancelled),
 * and draining from the ready-read handler. Each
 * result is checked against the queue of datagrams sent: payload,
 * truncation, sender address and port, destination address and port
 * (IP_PKTINFO/IPV6_PKTINFO), hop limit and interface.
 *
 * FUZZ_DATAGRAM_CAP_HUGE=1 turns the maximum sizes above 65536 into 65536
 * for the calls that allocate a buffer (read_datagram_bytes,
 * receive_datagram). That is only for exploring past the known bug where
 * they g_malloc() the caller's maximum; CI runs without it.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sock_diag.h>

#include "fuzz-common.h"

#define MAX_DATAGRAM 65507

enum {
  OP_SEND,
  OP_SETTLE,
  OP_ITERATE,
  OP_HAS_PENDING,
  OP_PENDING_SIZE,
  OP_BYTES_AVAILABLE,
  OP_READ,
  OP_READ_BYTES,
  OP_RECEIVE,
  OP_DRAIN_IN_HANDLER,
  OP_RECEIVE_ASYNC,
  N_OPS
};

typedef struct
{
  int      fd;
  guint16  port;
} Sender;

typedef struct
{
  GBytes  *data;
  guint    sender;
  int      hops;
} Sent;

/* Per family: the address the library binds and the senders use. */
typedef struct
{
  GSocketFamily family;
  const char   *address;
  gboolean      usable;
  Sender        senders[2];
} Family;

static Family families[2] = {
  { G_SOCKET_FAMILY_IPV4, "127.0.0.1" },
  { G_SOCKET_FAMILY_IPV6, "::1" },
};

static guint loopback_index;
static gboolean cap_huge;
static gboolean trace;

typedef struct
{
  FuzzInput *in;
  Family    *family;
  QSockUdp  *udp;
  guint16    port;
  GQueue     queue;          /* of Sent, oldest first */
  gboolean   ready;          /* ready-read since the last datagram was consumed */
  gboolean   drain_in_handler;
  gboolean   in_handler;
} Receiver;

static void
sent_free (Sent *sent)
{
  g_bytes_unref (sent->data);
  g_free (sent);
}

static void
fill_sockaddr (Family                  *family,
               guint16                  port,
               struct sockaddr_storage *ss,
               socklen_t               *len)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (family->address);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (address, port);

  *len = g_socket_address_get_native_size (sa);
  FUZZ_CHECK (g_socket_address_to_native (sa, ss, sizeof *ss, NULL));
}

static void
make_sender (Family *family,
             Sender *sender)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int domain = family->family == G_SOCKET_FAMILY_IPV4 ? AF_INET : AF_INET6;

  sender->fd = socket (domain, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  FUZZ_CHECK (sender->fd >= 0);
  fill_sockaddr (family, 0, &ss, &len);
  if (bind (sender->fd, (struct sockaddr *) &ss, len) != 0)
    {
      close (sender->fd);
      sender->fd = -1;
      return;
    }
  len = sizeof ss;
  FUZZ_CHECK (getsockname (sender->fd, (struct sockaddr *) &ss, &len) == 0);
  sender->port = g_ntohs (domain == AF_INET ? ((struct sockaddr_in *) &ss)->sin_port
                                            : ((struct sockaddr_in6 *) &ss)->sin6_port);
}

/* The check that receiving got the oldest datagram, truncated to @max. */
static void
check_payload (const char *what,
               Sent       *sent,
               const char *data,
               gsize       len,
               gint64      max)
{
  gsize full = g_bytes_get_size (sent->data);
  gsize want = max >= 0 && (guint64) max < full ? (gsize) max : full;

  FUZZ_CHECK (len == want, "%s: %zu bytes of a %zu-byte datagram, max %" G_GINT64_FORMAT, what, len, full, max);
  FUZZ_CHECK (len == 0 || memcmp (data, g_bytes_get_data (sent->data, NULL), len) == 0,
              "%s: different bytes", what);
}

static void
check_address (const char   *what,
               GInetAddress *got,
               Family       *family)
{
  g_autoptr(GInetAddress) want = g_inet_address_new_from_string (family->address);

  FUZZ_CHECK (got != NULL, "%s: no address", what);
  FUZZ_CHECK (g_inet_address_equal (got, want), "%s: %s, expected %s", what,
              g_inet_address_to_string (got), family->address);
}

static Sent *
pop_expected (Receiver *r)
{
  Sent *sent = g_queue_pop_head (&r->queue);

  r->ready = FALSE;
  return sent;
}

/* Sizes for the allocating calls; see FUZZ_DATAGRAM_CAP_HUGE above. */
static gint64
allocating_max (gint64 max)
{
  return cap_huge && max > G_MAXUINT16 + 1 ? G_MAXUINT16 + 1 : max;
}

static void
op_send (Receiver *r)
{
  guint8 how = fuzz_input_u8 (r->in);
  guint16 n16 = fuzz_input_u16 (r->in);
  int hops = 1 + fuzz_input_u8 (r->in) % 255;
  Sender *sender = &r->family->senders[how & 1];
  g_autofree guint8 *payload = NULL;
  const guint8 *pattern;
  gsize pattern_len;
  gsize size;
  struct sockaddr_storage to;
  socklen_t to_len;
  guint32 meminfo[SK_MEMINFO_VARS] = { 0 };
  socklen_t meminfo_len = sizeof meminfo;
  Sent *sent;
  gssize n;

  switch ((how >> 1) % 4)
    {
    case 0:
      size = n16 & 0xff;
      break;
    case 1:
      size = n16 % (MAX_DATAGRAM + 1);
      break;
    case 2:
      size = MAX_DATAGRAM - (n16 & 0x7);
      break;
    default:
      size = 0;
      break;
    }

  /* The kernel drops what does not fit the receive buffer: send only what
   * will be kept, so the queue is exact. */
  FUZZ_CHECK (getsockopt (qsock_abstract_get_socket_descriptor (QSOCK_ABSTRACT (r->udp)), SOL_SOCKET,
                          SO_MEMINFO, meminfo, &meminfo_len) == 0);
  if ((guint64) meminfo[SK_MEMINFO_RMEM_ALLOC] + 2 * (size + 4096) > meminfo[SK_MEMINFO_RCVBUF])
    return;

  pattern = fuzz_input_bytes (r->in, MIN (size, 64), &pattern_len);
  payload = g_malloc (MAX (size, 1));
  fuzz_fill_pattern (payload, size, pattern, pattern_len);

  if (r->family->family == G_SOCKET_FAMILY_IPV4)
    FUZZ_CHECK (setsockopt (sender->fd, IPPROTO_IP, IP_TTL, &hops, sizeof hops) == 0);
  else
    FUZZ_CHECK (setsockopt (sender->fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops) == 0);

  fill_sockaddr (r->family, r->port, &to, &to_len);
  n = sendto (sender->fd, payload, size, 0, (struct sockaddr *) &to, to_len);
  FUZZ_CHECK (n == (gssize) size, "sendto %zu bytes: %zd (%s)", size, n, g_strerror (errno));

  sent = g_new0 (Sent, 1);
  sent->data = g_bytes_new (payload, size);
  sent->sender = how & 1;
  sent->hops = hops;
  g_queue_push_tail (&r->queue, sent);
}

static void
op_read (Receiver *r,
         gint64    max,
         gboolean  want_address)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autofree char *data = NULL;
  Sent *sent;
  guint16 port = 1;
  gint64 n;

  if (max < 0)
    {
      /* A negative size breaks the C form's contract: a critical, -1,
       * nothing consumed. */
      fuzz_allow_criticals (TRUE);
      n = qsock_udp_read_datagram (r->udp, NULL, max, NULL, NULL);
      FUZZ_CHECK (fuzz_take_criticals () == 1, "negative max_size without a critical");
      fuzz_allow_criticals (FALSE);
      FUZZ_CHECK (n == -1);
      return;
    }

  /* The buffer has exactly @max bytes, so ASan sees any overrun; past
   * 200000 (2^31, 2^40, G_MAXINT64) it has room for the biggest datagram,
   * which is all the kernel ever writes. */
  data = g_malloc (max <= 200000 ? MAX (max, 1) : MAX_DATAGRAM + 1);
  n = qsock_udp_read_datagram (r->udp, max > 0 ? data : NULL, max,
                               want_address ? &address : NULL, want_address ? &port : NULL);
  sent = pop_expected (r);
  if (sent == NULL)
    {
      FUZZ_CHECK (n == -1, "read_datagram with nothing pending: %" G_GINT64_FORMAT, n);
      FUZZ_CHECK (qsock_abstract_get_error (QSOCK_ABSTRACT (r->udp)) == QSOCK_SOCKET_ERROR_TEMPORARY);
      FUZZ_CHECK (address == NULL && (!want_address || port == 0));
      return;
    }
  FUZZ_CHECK (n >= 0, "read_datagram: %" G_GINT64_FORMAT " (%s)", n,
              qsock_iodevice_get_error_string (QSOCK_IODEVICE (r->udp)));
  check_payload ("read_datagram", sent, data, (gsize) n, max);
  if (want_address)
    {
      check_address ("read_datagram sender", address, r->family);
      FUZZ_CHECK (port == r->family->senders[sent->sender].port);
    }
  sent_free (sent);
}

static void
op_read_bytes (Receiver *r,
               gint64    max,
               gboolean  want_address)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint16 port = 1;
  Sent *sent;

  max = allocating_max (max);
  bytes = qsock_udp_read_datagram_bytes (r->udp, max, want_address ? &address : NULL,
                                         want_address ? &port : NULL);
  sent = pop_expected (r);
  if (sent == NULL)
    {
      /* With nothing pending a negative size becomes 0: a read that fails. */
      FUZZ_CHECK (bytes == NULL, "read_datagram_bytes with nothing pending");
      return;
    }
  FUZZ_CHECK (bytes != NULL, "read_datagram_bytes: NULL (%s)",
              qsock_iodevice_get_error_string (QSOCK_IODEVICE (r->udp)));
  check_payload ("read_datagram_bytes", sent, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), max);
  if (want_address)
    {
      check_address ("read_datagram_bytes sender", address, r->family);
      FUZZ_CHECK (port == r->family->senders[sent->sender].port);
    }
  sent_free (sent);
}

static void check_datagram (Receiver *r, const char *what, QSockDatagram *datagram, Sent *sent, gint64 max);

static void
op_receive (Receiver *r,
            gint64    max)
{
  g_autoptr(QSockDatagram) datagram = NULL;
  Sent *sent;

  max = allocating_max (max);
  datagram = qsock_udp_receive_datagram (r->udp, max);
  FUZZ_CHECK (datagram != NULL);
  sent = pop_expected (r);
  if (sent == NULL)
    {
      FUZZ_CHECK (qsock_datagram_is_null (datagram), "a datagram from an empty queue");
      return;
    }
  check_datagram (r, "receive_datagram", datagram, sent, max);
  sent_free (sent);
}

/* Everything a received datagram says, against what was sent. */
static void
check_datagram (Receiver      *r,
                const char    *what,
                QSockDatagram *datagram,
                Sent          *sent,
                gint64         max)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GInetAddress) sender = NULL;
  g_autoptr(GInetAddress) destination = NULL;

  FUZZ_CHECK (qsock_datagram_is_valid (datagram), "%s: null (%s)", what,
              qsock_iodevice_get_error_string (QSOCK_IODEVICE (r->udp)));

  bytes = qsock_datagram_get_data (datagram);
  FUZZ_CHECK (bytes != NULL);
  check_payload ("receive_datagram", sent, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), max);

  sender = qsock_datagram_get_sender_address (datagram);
  check_address ("receive_datagram sender", sender, r->family);
  FUZZ_CHECK (qsock_datagram_get_sender_port (datagram) == r->family->senders[sent->sender].port);

  destination = qsock_datagram_get_destination_address (datagram);
  check_address ("receive_datagram destination", destination, r->family);
  FUZZ_CHECK (qsock_datagram_get_destination_port (datagram) == r->port,
              "destination port %d, bound %u", qsock_datagram_get_destination_port (datagram), r->port);
  FUZZ_CHECK (qsock_datagram_get_hop_limit (datagram) == sent->hops,
              "hop limit %d, sent with %d", qsock_datagram_get_hop_limit (datagram), sent->hops);
  if (loopback_index != 0)
    FUZZ_CHECK (qsock_datagram_get_interface_index (datagram) == loopback_index,
                "interface %u, loopback is %u", qsock_datagram_get_interface_index (datagram), loopback_index);
}

typedef struct
{
  gboolean       done;
  QSockDatagram *datagram;
  GError        *error;
} AsyncReceive;

static void
on_receive_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  AsyncReceive *a = user_data;

  a->datagram = qsock_udp_receive_datagram_finish (QSOCK_UDP (source), result, &a->error);
  a->done = TRUE;
}

/* receive_datagram_async: the oldest datagram at once; with none, perhaps
 * one sent while it waits; else cancelled, receiving nothing. */
static void
op_receive_async (Receiver *r)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  AsyncReceive a = { FALSE, NULL, NULL };
  gboolean send_while_waiting = fuzz_input_u8 (r->in) & 1;
  gboolean drain = r->drain_in_handler;
  Sent *sent;

  if (r->in_handler)
    return;
  r->drain_in_handler = FALSE;
  qsock_udp_receive_datagram_async (r->udp, cancellable, on_receive_done, &a);
  fuzz_settle ();
  if (!a.done && send_while_waiting)
    {
      FUZZ_CHECK (g_queue_is_empty (&r->queue), "receive_datagram_async waits with %u datagrams",
                  r->queue.length);
      op_send (r);
      fuzz_settle ();
    }
  if (!a.done)
    {
      FUZZ_CHECK (g_queue_is_empty (&r->queue), "receive_datagram_async waits with %u datagrams",
                  r->queue.length);
      g_cancellable_cancel (cancellable);
      fuzz_settle ();
      FUZZ_CHECK (a.done, "a cancelled receive never called back");
      FUZZ_CHECK (g_error_matches (a.error, G_IO_ERROR, G_IO_ERROR_CANCELLED), "cancelled: %s",
                  a.error != NULL ? a.error->message : "a datagram");
    }
  else
    {
      FUZZ_CHECK (a.error == NULL, "receive_datagram_async: %s", a.error->message);
      /* Not pop_expected (): the datagram was taken before this callback,
       * maybe before a ready-read for the next one, which must count. */
      sent = g_queue_pop_head (&r->queue);
      FUZZ_CHECK (sent != NULL, "receive_datagram_async: a datagram nobody sent");
      check_datagram (r, "receive_datagram_async", a.datagram, sent, -1);
      sent_free (sent);
    }
  g_clear_object (&a.datagram);
  g_clear_error (&a.error);
  r->drain_in_handler = drain;
}

static void
on_ready_read (QSockUdp *udp,
               Receiver *r)
{
  FUZZ_CHECK (!r->in_handler, "ready-read emitted from inside its handler");
  FUZZ_CHECK (!g_queue_is_empty (&r->queue), "ready-read with nothing sent");
  r->ready = TRUE;
  if (!r->drain_in_handler)
    return;

  /* What Qt's documentation tells a handler to do. */
  r->in_handler = TRUE;
  while (qsock_udp_has_pending_datagrams (udp))
    op_receive (r, -1);
  FUZZ_CHECK (g_queue_is_empty (&r->queue), "%u datagrams left after draining", r->queue.length);
  r->ready = FALSE;
  r->in_handler = FALSE;
}

static void
run_op (Receiver *r,
        guint8    code)
{
  Sent *head = g_queue_peek_head (&r->queue);

  if (trace)
    fprintf (stderr, "op %u (queue %u)\n", code, r->queue.length);

  switch (code)
    {
    case OP_SEND:
      op_send (r);
      break;
    case OP_SETTLE:
      fuzz_settle ();
      if (!g_queue_is_empty (&r->queue))
        FUZZ_CHECK (r->ready, "%u datagrams waiting, no ready-read", r->queue.length);
      break;
    case OP_ITERATE:
      g_main_context_iteration (NULL, FALSE);
      break;
    case OP_HAS_PENDING:
      FUZZ_CHECK (qsock_udp_has_pending_datagrams (r->udp) == (head != NULL));
      /* Saying no re-arms ready-read, as a read does. */
      if (head == NULL)
        r->ready = FALSE;
      break;
    case OP_PENDING_SIZE:
      {
        gint64 got = qsock_udp_pending_datagram_size (r->udp);
        gint64 want = head != NULL ? (gint64) g_bytes_get_size (head->data) : -1;

        FUZZ_CHECK (got == want, "pending_datagram_size %" G_GINT64_FORMAT ", model %" G_GINT64_FORMAT, got, want);
      }
      break;
    case OP_BYTES_AVAILABLE:
      {
        gint64 got = qsock_iodevice_bytes_available (QSOCK_IODEVICE (r->udp));
        gint64 want = head != NULL ? (gint64) g_bytes_get_size (head->data) : 0;

        FUZZ_CHECK (got == want, "bytes_available %" G_GINT64_FORMAT ", model %" G_GINT64_FORMAT, got, want);
      }
      break;
    case OP_READ:
    case OP_READ_BYTES:
    case OP_RECEIVE:
      {
        gint64 near = head != NULL ? (gint64) g_bytes_get_size (head->data) : 0;
        gboolean want_address = fuzz_input_u8 (r->in) & 1;
        gint64 max = fuzz_input_size (r->in, near);

        if (trace)
          fprintf (stderr, "  max %" G_GINT64_FORMAT ", head %" G_GINT64_FORMAT "\n", max, near);
        if (code == OP_READ)
          op_read (r, max, want_address);
        else if (code == OP_READ_BYTES)
          op_read_bytes (r, max, want_address);
        else
          op_receive (r, max);
      }
      break;
    case OP_DRAIN_IN_HANDLER:
      r->drain_in_handler = !r->drain_in_handler;
      break;
    case OP_RECEIVE_ASYNC:
      op_receive_async (r);
      break;
    default:
      g_assert_not_reached ();
    }

  FUZZ_CHECK (fuzz_take_warnings () == 0, "unexpected warning (op %u): %s", code, fuzz_last_warning ());
  FUZZ_CHECK (qsock_abstract_get_state (QSOCK_ABSTRACT (r->udp)) == QSOCK_SOCKET_STATE_BOUND);
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static QSockUdp *
bind_receiver (Family *family)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (family->address);
  QSockUdp *udp = qsock_udp_new ();

  if (!qsock_abstract_bind (QSOCK_ABSTRACT (udp), address, 0, QSOCK_BIND_FLAGS_DEFAULT_FOR_PLATFORM))
    g_clear_object (&udp);
  return udp;
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  trace = g_getenv ("FUZZ_TRACE") != NULL;
  cap_huge = g_strcmp0 (g_getenv ("FUZZ_DATAGRAM_CAP_HUGE"), "1") == 0;
  loopback_index = if_nametoindex ("lo");

  for (guint f = 0; f < G_N_ELEMENTS (families); f++)
    {
      QSockUdp *udp;

      make_sender (&families[f], &families[f].senders[0]);
      make_sender (&families[f], &families[f].senders[1]);
      /* Also makes the context's epoll descriptor before fds are counted. */
      udp = bind_receiver (&families[f]);
      families[f].usable = udp != NULL && families[f].senders[0].fd >= 0 && families[f].senders[1].fd >= 0;
      g_clear_object (&udp);
    }
  FUZZ_CHECK (families[0].usable, "cannot use UDP on 127.0.0.1");
  if (!families[1].usable)
    fprintf (stderr, "fuzz-datagram: no IPv6 loopback, ::1 cases run on 127.0.0.1\n");
  fuzz_settle ();
  fuzz_take_warnings ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzInput in = { data, size, 0 };
  Receiver r = { &in, NULL };
  int fds_before = fuzz_count_fds ();

  r.family = &families[fuzz_input_u8 (&in) & 1];
  if (!r.family->usable)
    r.family = &families[0];
  g_queue_init (&r.queue);
  r.udp = bind_receiver (r.family);
  FUZZ_CHECK (r.udp != NULL, "cannot bind %s", r.family->address);
  r.port = qsock_abstract_get_local_port (QSOCK_ABSTRACT (r.udp));
  g_signal_connect (r.udp, "ready-read", G_CALLBACK (on_ready_read), &r);

  while (!fuzz_input_done (&in))
    run_op (&r, fuzz_input_u8 (&in) % N_OPS);

  /* Everything sent is delivered, in order. */
  run_op (&r, OP_SETTLE);
  while (!g_queue_is_empty (&r.queue))
    op_receive (&r, -1);
  FUZZ_CHECK (!qsock_udp_has_pending_datagrams (r.udp), "a datagram nobody sent");

  g_signal_handlers_disconnect_by_data (r.udp, &r);
  g_object_unref (r.udp);
  fuzz_settle ();
  fuzz_take_warnings ();
  g_queue_clear_full (&r.queue, (GDestroyNotify) sent_free);
  FUZZ_CHECK (fuzz_count_fds () == fds_before, "%d descriptors before, %d after:%s", fds_before,
              fuzz_count_fds (), fuzz_describe_fds ());
  return 0;
}
