/* fuzz-fds.c: libFuzzer target for receiving descriptors (SCM_RIGHTS)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A QSockLocal adopts one end of an AF_UNIX stream socketpair, so it keeps
 * the descriptors that arrive with its bytes. The harness sends data with
 * 0 to 253 descriptors per message (dups of /dev/null and of a fresh
 * pipe's ends), in one or two SCM_RIGHTS headers: more than the library's
 * 64-descriptor control buffer makes the kernel truncate (MSG_CTRUNC) and
 * close the rest, and more than 256 untaken makes the library close them.
 * Between sends the input runs the main context, reads, limits the read
 * buffer, takes the descriptors (qsock_local_take_received_fds) and closes
 * the peer. The model knows where in the stream each message starts, so
 * it knows which descriptors the library must hold once it has taken a
 * given number of bytes from the kernel; every taken descriptor must be
 * open, close-on-exec and the very file that was sent, in order; the data
 * must arrive intact; and at the end of every input the process has
 * exactly the descriptors it had before. The other way, the library sends
 * 0 to 65 descriptors with qsock_local_send_fds () and the harness
 * receives them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-common.h"

#define MAX_FDS_PER_MESSAGE 253   /* the kernel's SCM_MAX_FD */
#define LIBRARY_CONTROL_FDS 64    /* what one recvmsg() of the library takes */
#define LIBRARY_KEPT_FDS    256   /* what it keeps until they are taken */
#define MAX_PENDING         (256 * 1024)

enum {
  OP_SEND,
  OP_SEND_FDS,
  OP_SETTLE,
  OP_READ_ALL,
  OP_READ,
  OP_TAKE,
  OP_SET_READ_BUFFER_SIZE,
  OP_SHUTDOWN_PEER,
  OP_LIBRARY_SENDS_FDS,
  N_OPS
};

typedef struct
{
  dev_t dev;
  ino_t ino;
  int   access;   /* O_RDONLY, O_WRONLY, O_RDWR */
} FileId;

typedef struct
{
  guint64 offset;   /* of its first byte in the stream */
  GArray *files;    /* of FileId, as sent */
} Message;

typedef struct
{
  FuzzInput  *in;
  QSockLocal *sock;
  int         peer;
  int         devnull;    /* the process's one, dup()ed */
  GByteArray *pending;    /* sent and not read */
  guint64     written;
  GQueue      messages;   /* of Message, not yet reached by the library */
  GArray     *held;       /* of FileId: what the library must hold, untaken */
  gboolean    peer_closed;
} Fds;

static gboolean trace;
static int devnull;

static void
message_free (Message *m)
{
  g_array_unref (m->files);
  g_free (m);
}

static FileId
file_id (int fd)
{
  struct stat st;
  int flags = fcntl (fd, F_GETFL);
  FileId id;

  FUZZ_CHECK (flags >= 0, "descriptor %d is not open: %s", fd, g_strerror (errno));
  FUZZ_CHECK (fstat (fd, &st) == 0);
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  id.access = flags & O_ACCMODE;
  return id;
}

static gsize
kernel_bytes (Fds *f)
{
  int fd = qsock_local_get_socket_descriptor (f->sock);
  int n = 0;

  if (fd < 0)
    return 0;
  FUZZ_CHECK (ioctl (fd, FIONREAD, &n) == 0);
  return (gsize) n;
}

/* The library has taken a message's descriptors once it has taken its
 * first byte from the kernel; it keeps the first 64 of a message (the
 * kernel closes the rest) and at most 256 in all. */
static void
advance (Fds *f)
{
  guint64 delivered = f->written - kernel_bytes (f);
  Message *m;

  while ((m = g_queue_peek_head (&f->messages)) != NULL && m->offset < delivered)
    {
      guint kept = MIN (m->files->len, LIBRARY_CONTROL_FDS);

      kept = MIN (kept, LIBRARY_KEPT_FDS - MIN (f->held->len, LIBRARY_KEPT_FDS));
      g_array_append_vals (f->held, m->files->data, kept);
      message_free (g_queue_pop_head (&f->messages));
    }
}

static gsize
message_size (Fds *f)
{
  guint16 n = fuzz_input_u16 (f->in);

  return (n & 0x8000) ? (n & 0x7fff) * 4 : (n & 0xff);
}

static void
op_send (Fds     *f,
         gboolean with_fds)
{
  union { char buf[CMSG_SPACE (sizeof (int) * MAX_FDS_PER_MESSAGE) * 2]; struct cmsghdr align; } control;
  guint8 how = with_fds ? fuzz_input_u8 (f->in) : 0;
  guint n_fds = with_fds ? fuzz_input_u8 (f->in) % (MAX_FDS_PER_MESSAGE + 1) : 0;
  gsize size = message_size (f);
  g_autofree guint8 *data = NULL;
  g_autofree int *fds = NULL;
  const guint8 *pattern;
  gsize pattern_len;
  int pipe_fds[2];
  struct iovec iov;
  struct msghdr msg = { 0 };
  Message *m;
  gssize n;

  if (f->peer_closed || f->pending->len + size > MAX_PENDING)
    return;
  /* Descriptors travel with bytes: a message has at least one. */
  if (n_fds > 0)
    size = MAX (size, 1);

  pattern = fuzz_input_bytes (f->in, MIN (size, 32), &pattern_len);
  data = g_malloc (MAX (size, 1));
  fuzz_fill_pattern (data, size, pattern, pattern_len);
  iov.iov_base = data;
  iov.iov_len = size;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;

  m = g_new0 (Message, 1);
  m->offset = f->written;
  m->files = g_array_new (FALSE, FALSE, sizeof (FileId));

  if (n_fds > 0)
    {
      /* One or two headers (the kernel joins them); each descriptor a dup
       * of /dev/null or of an end of one fresh pipe. */
      guint first = (how & 1) ? n_fds / 2 : n_fds;
      struct cmsghdr *c;

      FUZZ_CHECK (pipe2 (pipe_fds, O_CLOEXEC) == 0);
      fds = g_new (int, n_fds);
      for (guint i = 0; i < n_fds; i++)
        {
          guint8 pick = (guint8) (how >> 1) + (guint8) i * 37;
          int source = pick % 3 == 0 ? f->devnull : pipe_fds[pick % 3 - 1];

          FileId id;

          fds[i] = dup (source);
          FUZZ_CHECK (fds[i] >= 0, "dup: %s", g_strerror (errno));
          id = file_id (fds[i]);
          g_array_append_val (m->files, id);
        }

      memset (&control, 0, sizeof control);
      msg.msg_control = control.buf;
      msg.msg_controllen = CMSG_SPACE (sizeof (int) * first);
      c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int) * first);
      memcpy (CMSG_DATA (c), fds, sizeof (int) * first);
      if (first < n_fds)
        {
          msg.msg_controllen += CMSG_SPACE (sizeof (int) * (n_fds - first));
          c = CMSG_NXTHDR (&msg, c);
          c->cmsg_level = SOL_SOCKET;
          c->cmsg_type = SCM_RIGHTS;
          c->cmsg_len = CMSG_LEN (sizeof (int) * (n_fds - first));
          memcpy (CMSG_DATA (c), fds + first, sizeof (int) * (n_fds - first));
        }
    }

  n = sendmsg (f->peer, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  for (guint i = 0; i < n_fds; i++)
    close (fds[i]);
  if (n_fds > 0)
    {
      close (pipe_fds[0]);
      close (pipe_fds[1]);
    }

  if (n <= 0)
    {
      FUZZ_CHECK (n == 0 || errno == EAGAIN, "sendmsg: %s", g_strerror (errno));
      message_free (m);
      return;
    }
  g_byte_array_append (f->pending, data, n);
  f->written += n;
  if (m->files->len > 0)
    g_queue_push_tail (&f->messages, m);
  else
    message_free (m);
}

static void
check_read (Fds    *f,
            GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  FUZZ_CHECK (len <= f->pending->len, "read %zu bytes, %u sent", len, f->pending->len);
  FUZZ_CHECK (len == 0 || memcmp (data, f->pending->data, len) == 0, "the data changed on the way");
  g_byte_array_remove_range (f->pending, 0, len);
  g_bytes_unref (bytes);
}

static void
op_take (Fds *f)
{
  GUnixFDList *list = qsock_local_take_received_fds (f->sock);
  const int *fds;
  int n;

  FUZZ_CHECK (list != NULL);
  fds = g_unix_fd_list_peek_fds (list, &n);
  FUZZ_CHECK ((guint) n == f->held->len, "took %d descriptors, model %u", n, f->held->len);
  for (int i = 0; i < n; i++)
    {
      FileId got = file_id (fds[i]);
      FileId *want = &g_array_index (f->held, FileId, i);

      FUZZ_CHECK (fcntl (fds[i], F_GETFD) & FD_CLOEXEC, "descriptor %d without close-on-exec", i);
      FUZZ_CHECK (got.dev == want->dev && got.ino == want->ino && got.access == want->access,
                  "descriptor %d of %d is another file (inode %lu, sent %lu)", i, n,
                  (unsigned long) got.ino, (unsigned long) want->ino);
    }
  g_array_set_size (f->held, 0);
  g_object_unref (list);
}

/* The other way: qsock_local_send_fds () to the harness, which receives
 * with a control buffer big enough for 64 and checks bytes and files. */
static void
op_library_sends (Fds *f)
{
  union { char buf[CMSG_SPACE (sizeof (int) * 64)]; struct cmsghdr align; } control;
  g_autoptr(GUnixFDList) list = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  g_autofree FileId *sent = NULL;
  guint n_fds = fuzz_input_u8 (f->in) % 66;
  gsize size = fuzz_input_u8 (f->in) % 8;
  char data[8] = "fdsfdsf";
  char got[16];
  struct iovec iov = { got, sizeof got };
  struct msghdr msg = { 0 };
  gboolean ok;
  gsize received = 0;
  guint n_received = 0;
  gboolean valid = n_fds >= 1 && n_fds <= 64 && size > 0;

  sent = g_new0 (FileId, MAX (n_fds, 1));
  for (guint i = 0; i < n_fds; i++)
    {
      FUZZ_CHECK (g_unix_fd_list_append (list, f->devnull, NULL) >= 0);
      sent[i] = file_id (f->devnull);
    }

  ok = qsock_local_send_fds (f->sock, list, data, size, &error);
  if (qsock_local_get_state (f->sock) != QSOCK_LOCAL_SOCKET_STATE_CONNECTED)
    {
      FUZZ_CHECK (!ok && error != NULL, "send_fds while unconnected succeeded");
      return;
    }
  FUZZ_CHECK (ok == valid, "send_fds (%u descriptors, %zu bytes) = %d: %s", n_fds, size, ok,
              error != NULL ? error->message : "no error");
  if (!ok)
    return;

  /* The bytes may come in pieces; the descriptors come with the first. */
  while (received < size)
    {
      gssize n;

      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      iov.iov_base = got + received;
      iov.iov_len = sizeof got - received;
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;
      n = recvmsg (f->peer, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
      FUZZ_CHECK (n > 0, "the harness received %zd: %s", n, g_strerror (errno));
      FUZZ_CHECK (!(msg.msg_flags & MSG_CTRUNC));
      for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
        {
          guint count = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
          int fds[64];

          FUZZ_CHECK (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS);
          FUZZ_CHECK (n_received + count <= n_fds, "%u descriptors, %u sent", n_received + count, n_fds);
          memcpy (fds, CMSG_DATA (c), count * sizeof (int));
          for (guint i = 0; i < count; i++)
            {
              FileId id = file_id (fds[i]);

              FUZZ_CHECK (id.dev == sent[n_received].dev && id.ino == sent[n_received].ino,
                          "sent descriptor %u is another file", n_received);
              close (fds[i]);
              n_received++;
            }
        }
      received += n;
    }
  FUZZ_CHECK (received == size && memcmp (got, data, size) == 0, "the harness got other bytes");
  FUZZ_CHECK (n_received == n_fds, "the harness got %u descriptors of %u", n_received, n_fds);
}

static void
run_op (Fds    *f,
        guint8  code)
{
  if (trace)
    fprintf (stderr, "op %u (pending %u, written %" G_GUINT64_FORMAT ", kernel %zu, held %u)\n",
             code, f->pending->len, f->written, kernel_bytes (f), f->held->len);

  switch (code)
    {
    case OP_SEND:
    case OP_SEND_FDS:
      op_send (f, code == OP_SEND_FDS);
      break;
    case OP_SETTLE:
      fuzz_settle ();
      break;
    case OP_READ_ALL:
      check_read (f, qsock_iodevice_read_all (QSOCK_IODEVICE (f->sock)));
      break;
    case OP_READ:
      check_read (f, qsock_iodevice_read_bytes (QSOCK_IODEVICE (f->sock), 1 + fuzz_input_u16 (f->in)));
      break;
    case OP_TAKE:
      advance (f);
      op_take (f);
      break;
    case OP_SET_READ_BUFFER_SIZE:
      {
        guint8 n = fuzz_input_u8 (f->in);

        qsock_local_set_read_buffer_size (f->sock, (n & 0x80) ? 0 : 1 + (n & 0x7f) * 97);
      }
      break;
    case OP_LIBRARY_SENDS_FDS:
      op_library_sends (f);
      break;
    case OP_SHUTDOWN_PEER:
      if (!f->peer_closed)
        FUZZ_CHECK (shutdown (f->peer, SHUT_WR) == 0);
      f->peer_closed = TRUE;
      break;
    default:
      g_assert_not_reached ();
    }

  advance (f);
  FUZZ_CHECK (fuzz_take_warnings () == 0, "unexpected warning (op %u): %s", code, fuzz_last_warning ());
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  int sv[2];
  QSockLocal *sock;

  fuzz_init (argc, argv);
  trace = g_getenv ("FUZZ_TRACE") != NULL;
  /* Opened once: a shared machine's /dev/null may be briefly missing. */
  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0)
    devnull = memfd_create ("fuzz-fds", MFD_CLOEXEC);
  FUZZ_CHECK (devnull >= 0, "/dev/null: %s", g_strerror (errno));

  /* Makes the context's epoll descriptor before descriptors are counted. */
  FUZZ_CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  sock = qsock_local_new ();
  FUZZ_CHECK (qsock_local_set_socket_descriptor (sock, sv[0], QSOCK_LOCAL_SOCKET_STATE_CONNECTED,
                                                 QSOCK_OPEN_MODE_READ_WRITE));
  fuzz_settle ();
  g_object_unref (sock);
  close (sv[1]);
  fuzz_settle ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzInput in = { data, size, 0 };
  Fds f = { &in, NULL, -1, -1 };
  int fds_before = fuzz_count_fds ();
  GBytes *rest;
  int sv[2];

  FUZZ_CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  f.peer = sv[1];
  f.devnull = devnull;
  f.pending = g_byte_array_sized_new (4096);
  f.held = g_array_new (FALSE, FALSE, sizeof (FileId));
  g_queue_init (&f.messages);
  f.sock = qsock_local_new ();
  FUZZ_CHECK (qsock_local_set_socket_descriptor (f.sock, sv[0], QSOCK_LOCAL_SOCKET_STATE_CONNECTED,
                                                 QSOCK_OPEN_MODE_READ_WRITE));

  while (!fuzz_input_done (&in))
    run_op (&f, fuzz_input_u8 (&in) % N_OPS);

  /* With no limit every byte arrives, and so does every descriptor. */
  qsock_local_set_read_buffer_size (f.sock, 0);
  run_op (&f, OP_SETTLE);
  FUZZ_CHECK (kernel_bytes (&f) == 0, "%zu bytes not read", kernel_bytes (&f));
  FUZZ_CHECK (g_queue_is_empty (&f.messages));
  rest = qsock_iodevice_read_all (QSOCK_IODEVICE (f.sock));
  check_read (&f, rest);
  FUZZ_CHECK (f.pending->len == 0, "%u bytes lost", f.pending->len);
  if (in.size > 0 && (in.data[0] & 1))
    op_take (&f);

  /* What is left untaken, or still in flight, is closed with the socket. */
  g_object_unref (f.sock);
  close (f.peer);
  fuzz_settle ();
  fuzz_take_warnings ();
  g_queue_clear_full (&f.messages, (GDestroyNotify) message_free);
  g_array_unref (f.held);
  g_byte_array_unref (f.pending);
  FUZZ_CHECK (fuzz_count_fds () == fds_before, "%d descriptors before, %d after:%s", fds_before,
              fuzz_count_fds (), fuzz_describe_fds ());
  return 0;
}
