/* fault-integrity.c: a bulk transfer that must arrive byte for byte
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A QSockTcp client and the socket a QSockTcpServer accepted for it (on
 * 127.0.0.1), or a QSockLocal and a QSockLocalServer's socket (in a temp
 * dir), send each other a pseudo-random byte stream made from a seed, in
 * one direction or both at once, from one main loop. Each receiver checks
 * every byte as it arrives against the stream it expects (byte k is a
 * function of the seed and k alone), so a byte lost, repeated or moved is
 * found at its offset; after the last byte a short wait checks that
 * nothing more comes. The sum of bytes-written must equal what was
 * written, and no error may be reported. Run it under libqsock-fault.so
 * (run-under-fault.sh) so that reads and writes are interrupted, refused
 * and cut short along the way.
 *
 *   fault-integrity --transport tcp|local --mib 128 --direction both|up|down
 *                   [--seed N] [--read-buffer BYTES] [--timeout S]
 *                   [--corrupt-at OFFSET]   (sends one wrong byte; succeeds only
 *                                            if the check names that byte)
 */
#include <string.h>
#include <glib/gstdio.h>
#include <qsock-glib/qsock.h>

#define WRITE_CHUNK_MAX   (192 * 1024)
#define WRITE_QUEUE_LIMIT (2 * 1024 * 1024)
#define READ_CHUNK        (256 * 1024)

typedef struct
{
  const char    *name;
  QSockIODevice *dev;
  guint64        out_seed;
  guint64        in_seed;
  guint64        to_send;
  guint64        queued;         /* handed to write() */
  guint64        written;        /* the sum of bytes-written */
  guint64        to_receive;
  guint64        received;
  guint          n_ready_read;
  guint          n_bytes_written;
  guint          n_errors;
  int            last_error;
  guint64        chunk_rng;
} End;

static char *failure;
static gint64 read_buffer_limit;
static gint64 corrupt_at = -1;
static guint8 *scratch_out;
static guint8 *scratch_in;
static guint8 *scratch_expect;

static guint64
mix (guint64 x)
{
  x += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return x ^ (x >> 31);
}

/* Bytes [offset, offset + len) of the stream of @seed. */
static void
stream_fill (guint64 seed, guint64 offset, guint8 *buf, gsize len)
{
  gsize i = 0;

  while (i < len)
    {
      guint64 k = offset + i;
      guint64 word = mix (seed ^ mix (k >> 3));
      guint shift = (guint) (k & 7);

      for (; shift < 8 && i < len; shift++, i++)
        buf[i] = (guint8) (word >> (shift * 8));
    }
}

static void
fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
fail (const char *format, ...)
{
  va_list args;

  if (failure != NULL)
    return;
  va_start (args, format);
  failure = g_strdup_vprintf (format, args);
  va_end (args);
}

static void
pump (End *end)
{
  while (failure == NULL && end->queued < end->to_send &&
         qsock_iodevice_bytes_to_write (end->dev) < WRITE_QUEUE_LIMIT)
    {
      /* Chunks of varying size, so writes do not line up with anything. */
      gsize len = 1 + (gsize) ((end->chunk_rng = mix (end->chunk_rng)) % WRITE_CHUNK_MAX);
      gint64 r;

      len = (gsize) MIN ((guint64) len, end->to_send - end->queued);
      stream_fill (end->out_seed, end->queued, scratch_out, len);
      /* The checker's own check: one wrong byte must fail the run. */
      if (corrupt_at >= 0 && (guint64) corrupt_at >= end->queued && (guint64) corrupt_at < end->queued + len)
        scratch_out[corrupt_at - (gint64) end->queued] ^= 0x20;
      r = qsock_iodevice_write (end->dev, (const char *) scratch_out, (gint64) len);
      if (r != (gint64) len)
        {
          fail ("%s: write of %" G_GSIZE_FORMAT " bytes at offset %" G_GUINT64_FORMAT
                " returned %" G_GINT64_FORMAT, end->name, len, end->queued, r);
          return;
        }
      end->queued += len;
    }
}

static void
on_bytes_written (QSockIODevice *dev, gint64 n, End *end)
{
  end->n_bytes_written++;
  end->written += (guint64) n;
  if (end->written > end->queued)
    fail ("%s: bytes-written says %" G_GUINT64_FORMAT " bytes, only %" G_GUINT64_FORMAT
          " were written", end->name, end->written, end->queued);
  pump (end);
}

static void
on_ready_read (QSockIODevice *dev, End *end)
{
  end->n_ready_read++;
  while (failure == NULL)
    {
      gint64 n = qsock_iodevice_read (dev, (char *) scratch_in, READ_CHUNK);

      if (n <= 0)
        break;
      if (end->received + (guint64) n > end->to_receive)
        {
          fail ("%s: %" G_GUINT64_FORMAT " bytes more than the %" G_GUINT64_FORMAT " sent",
                end->name, end->received + (guint64) n - end->to_receive, end->to_receive);
          return;
        }
      stream_fill (end->in_seed, end->received, scratch_expect, (gsize) n);
      if (memcmp (scratch_in, scratch_expect, (gsize) n) != 0)
        {
          gsize at = 0;

          while (scratch_in[at] == scratch_expect[at])
            at++;
          fail ("%s: byte %" G_GUINT64_FORMAT " is 0x%02x, 0x%02x expected (in a read of %"
                G_GINT64_FORMAT " bytes at offset %" G_GUINT64_FORMAT ")", end->name,
                end->received + at, scratch_in[at], scratch_expect[at], n, end->received);
          return;
        }
      end->received += (guint64) n;
    }
}

static void
on_error (gpointer sock, int code, End *end)
{
  end->n_errors++;
  end->last_error = code;
  fail ("%s: error-occurred (%d): %s", end->name, code,
        qsock_iodevice_get_error_string (end->dev));
}

static void
end_attach (End *end, gpointer sock)
{
  end->dev = QSOCK_IODEVICE (sock);
  g_signal_connect (sock, "ready-read", G_CALLBACK (on_ready_read), end);
  g_signal_connect (sock, "bytes-written", G_CALLBACK (on_bytes_written), end);
  g_signal_connect (sock, "error-occurred", G_CALLBACK (on_error), end);
}

static gboolean
end_done (End *end)
{
  return end->dev != NULL && end->received == end->to_receive &&
         end->queued == end->to_send && end->written == end->to_send &&
         qsock_iodevice_bytes_to_write (end->dev) == 0;
}

static void
on_tcp_connection (QSockTcpServer *server, End *end)
{
  QSockTcp *sock = qsock_tcp_server_next_pending_connection (server);

  if (sock == NULL || end->dev != NULL)
    {
      fail ("server: unexpected new-connection");
      g_clear_object (&sock);
      return;
    }
  if (read_buffer_limit > 0)
    qsock_abstract_set_read_buffer_size (QSOCK_ABSTRACT (sock), read_buffer_limit);
  end_attach (end, sock);
  pump (end);
  on_ready_read (end->dev, end);
}

static void
on_local_connection (QSockLocalServer *server, End *end)
{
  QSockLocal *sock = qsock_local_server_next_pending_connection (server);

  if (sock == NULL || end->dev != NULL)
    {
      fail ("server: unexpected new-connection");
      g_clear_object (&sock);
      return;
    }
  if (read_buffer_limit > 0)
    qsock_local_set_read_buffer_size (sock, read_buffer_limit);
  end_attach (end, sock);
  pump (end);
  on_ready_read (end->dev, end);
}

static void
on_connected (gpointer sock, End *end)
{
  pump (end);
}

static void
iterate_for (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

int
main (int argc, char **argv)
{
  /* GOption replaces a string without freeing it: no allocated defaults. */
  g_autofree char *transport = NULL;
  g_autofree char *direction = NULL;
  gint64 seed = 1;
  int mib = 128;
  gint64 read_buffer = 0;
  int timeout_s = 120;
  GOptionEntry entries[] = {
    { "transport", 0, 0, G_OPTION_ARG_STRING, &transport, "tcp or local", "T" },
    { "direction", 0, 0, G_OPTION_ARG_STRING, &direction, "both, up (client to server) or down", "D" },
    { "mib", 0, 0, G_OPTION_ARG_INT, &mib, "MiB in each direction", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "stream seed", "N" },
    { "read-buffer", 0, 0, G_OPTION_ARG_INT64, &read_buffer, "read buffer limit of both ends (0: none)", "BYTES" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "give up after this many seconds", "S" },
    { "corrupt-at", 0, 0, G_OPTION_ARG_INT64, &corrupt_at, "flip a bit of the byte at this offset (the run must fail)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- a checked bulk transfer");
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) server = NULL;
  g_autoptr(GObject) client_sock = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  End client = { .name = "client" };
  End peer = { .name = "server" };
  guint64 bytes;
  gint64 start, deadline;
  double seconds;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("fault-integrity: %s\n", error->message);
      return 2;
    }
  if (transport == NULL)
    transport = g_strdup ("tcp");
  if (direction == NULL)
    direction = g_strdup ("both");
  if (mib <= 0 || (strcmp (transport, "tcp") != 0 && strcmp (transport, "local") != 0) ||
      (strcmp (direction, "both") != 0 && strcmp (direction, "up") != 0 && strcmp (direction, "down") != 0))
    {
      g_printerr ("fault-integrity: bad arguments (see --help)\n");
      return 2;
    }

  bytes = (guint64) mib * 1024 * 1024;
  read_buffer_limit = read_buffer;
  client.out_seed = peer.in_seed = mix ((guint64) seed * 2 + 1);
  peer.out_seed = client.in_seed = mix ((guint64) seed * 2 + 2);
  client.chunk_rng = (guint64) seed ^ 0x1111;
  peer.chunk_rng = (guint64) seed ^ 0x2222;
  if (strcmp (direction, "down") != 0)
    client.to_send = peer.to_receive = bytes;
  if (strcmp (direction, "up") != 0)
    peer.to_send = client.to_receive = bytes;

  scratch_out = g_malloc (WRITE_CHUNK_MAX);
  scratch_in = g_malloc (READ_CHUNK);
  scratch_expect = g_malloc (READ_CHUNK);

  if (strcmp (transport, "tcp") == 0)
    {
      g_autoptr(GInetAddress) lo = qsock_host_address_new_special (QSOCK_SPECIAL_ADDRESS_LOCAL_HOST);
      QSockTcpServer *tcp_server = qsock_tcp_server_new ();
      QSockTcp *tcp = qsock_tcp_new ();

      server = G_OBJECT (tcp_server);
      client_sock = G_OBJECT (tcp);
      if (!qsock_tcp_server_listen (tcp_server, lo, 0))
        {
          g_printerr ("fault-integrity: listen: %s\n", qsock_tcp_server_get_error_string (tcp_server));
          return 1;
        }
      g_signal_connect (tcp_server, "new-connection", G_CALLBACK (on_tcp_connection), &peer);
      end_attach (&client, tcp);
      g_signal_connect (tcp, "connected", G_CALLBACK (on_connected), &client);
      if (read_buffer > 0)
        qsock_abstract_set_read_buffer_size (QSOCK_ABSTRACT (tcp), read_buffer);
      qsock_abstract_connect_to_address (QSOCK_ABSTRACT (tcp), lo,
                                         qsock_tcp_server_get_server_port (tcp_server),
                                         QSOCK_OPEN_MODE_READ_WRITE);
    }
  else
    {
      QSockLocalServer *local_server = qsock_local_server_new ();
      QSockLocal *local = qsock_local_new ();

      dir = g_dir_make_tmp ("qsock-fault-XXXXXX", &error);
      g_assert_no_error (error);
      path = g_build_filename (dir, "integrity.sock", NULL);
      server = G_OBJECT (local_server);
      client_sock = G_OBJECT (local);
      if (!qsock_local_server_listen (local_server, path))
        {
          g_printerr ("fault-integrity: listen: %s\n", qsock_local_server_get_error_string (local_server));
          return 1;
        }
      g_signal_connect (local_server, "new-connection", G_CALLBACK (on_local_connection), &peer);
      end_attach (&client, local);
      g_signal_connect (local, "connected", G_CALLBACK (on_connected), &client);
      if (read_buffer > 0)
        qsock_local_set_read_buffer_size (local, read_buffer);
      qsock_local_connect_to_server (local, path, QSOCK_OPEN_MODE_READ_WRITE);
    }

  start = g_get_monotonic_time ();
  deadline = start + (gint64) timeout_s * G_USEC_PER_SEC;
  while (failure == NULL && !(end_done (&client) && end_done (&peer)))
    {
      if (g_get_monotonic_time () > deadline)
        {
          fail ("timed out after %d s", timeout_s);
          break;
        }
      g_main_context_iteration (NULL, TRUE);
    }
  seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;

  /* Nothing may follow the last byte. */
  if (failure == NULL)
    {
      iterate_for (200);
      if (qsock_iodevice_bytes_available (client.dev) != 0 || qsock_iodevice_bytes_available (peer.dev) != 0)
        fail ("bytes after the end: client %" G_GINT64_FORMAT ", server %" G_GINT64_FORMAT,
              qsock_iodevice_bytes_available (client.dev), qsock_iodevice_bytes_available (peer.dev));
    }

  g_print ("fault-integrity: %s %s %d MiB each way: client sent %" G_GUINT64_FORMAT " got %"
           G_GUINT64_FORMAT ", server sent %" G_GUINT64_FORMAT " got %" G_GUINT64_FORMAT
           " in %.2f s (%u + %u ready-read, %u + %u bytes-written)\n",
           transport, direction, mib, client.written, client.received, peer.written, peer.received,
           seconds, client.n_ready_read, peer.n_ready_read, client.n_bytes_written, peer.n_bytes_written);

  if (peer.dev != NULL)
    g_object_unref (peer.dev);
  if (path != NULL)
    {
      g_clear_object (&server);
      g_unlink (path);
      g_rmdir (dir);
    }
  g_free (scratch_out);
  g_free (scratch_in);
  g_free (scratch_expect);

  if (corrupt_at >= 0)
    {
      /* The run must have failed, at exactly that byte. */
      g_autofree char *wanted = g_strdup_printf ("byte %" G_GINT64_FORMAT " is ", corrupt_at);
      gboolean found = failure != NULL && strstr (failure, wanted) != NULL;

      g_print ("fault-integrity: corrupted byte %" G_GINT64_FORMAT " %s (%s)\n", corrupt_at,
               found ? "found" : "NOT FOUND", failure != NULL ? failure : "no failure");
      g_free (failure);
      return found ? 0 : 1;
    }
  if (failure != NULL)
    {
      g_printerr ("fault-integrity: FAILED: %s\n", failure);
      g_free (failure);
      return 1;
    }
  g_print ("fault-integrity: every byte arrived once and in order\n");
  return 0;
}
