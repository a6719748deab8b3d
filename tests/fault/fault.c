/* fault.c: libqsock-fault.so, socket fault injection by LD_PRELOAD
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Wraps the socket calls the library makes (recv, recvfrom, recvmsg,
 * send, sendto, sendmsg, accept4, connect, epoll_ctl, getaddrinfo) and the
 * plain read/readv/write/writev when they are used on a socket, so that a
 * call may fail with an errno the kernel could have given, or move fewer
 * bytes than asked. Nothing is ever done to a descriptor that is not a
 * socket: GLib's eventfd and pipes are left alone. An injected failure is
 * decided before the real call, which is then not made, so it has no side
 * effect (the kernel's data and connections stay where they were).
 *
 * Environment (read once, at load):
 *   QSOCK_FAULT_SEED=<n>       PRNG seed (default 1)
 *   QSOCK_FAULT_RATE=<p>       probability that a call is hit (default 0)
 *   QSOCK_FAULT_KINDS=<list>   comma-separated: eintr, eagain, short, enobufs,
 *                              enomem, econnreset, epipe, emfile
 *                              (default eintr,eagain,short)
 *   QSOCK_FAULT_BLOCKING=1     also hit blocking descriptors; by default only
 *                              non-blocking sockets (the library's) are hit,
 *                              so plain blocking test peers are not (even
 *                              their MSG_DONTWAIT peeks after poll())
 *   QSOCK_FAULT_SPURIOUS=1     also eagain where, after a readiness report,
 *                              it shows through the API (see below)
 *   QSOCK_FAULT_ONCE=<rules>   comma-separated <call>:<errno>:<nth>[:<fd>]:
 *                              the nth matching call fails with errno (or
 *                              is cut short: "short"), once; see
 *                              parse_rule(). Each rule counts every matching
 *                              call from when it was armed; a call gets one
 *                              fault at most, so a rule whose turn comes
 *                              with an earlier rule's fires at the next call
 *   QSOCK_FAULT_VERBOSE=1      one summary line on stderr at exit
 *   QSOCK_FAULT_REPORT=<path>  the same line appended to a file at exit
 *
 * Which kinds apply where (each is a legal kernel answer for that call):
 *   reads:   eintr, eagain (non-blocking stream; datagram sockets only with
 *            QSOCK_FAULT_SPURIOUS, as a readable datagram socket that then
 *            has nothing makes readDatagram() fail, in Qt too), short
 *            (stream sockets), enomem,
 *            econnreset (stream)
 *   writes:  eintr; eagain and short on a non-blocking stream socket with
 *            bytes already queued in the kernel (SIOCOUTQ), or any with
 *            QSOCK_FAULT_SPURIOUS (a datagram send that would block is an
 *            error the caller sees, and datagrams are never cut); enobufs,
 *            enomem; epipe and econnreset (stream)
 *   accept4: eintr, eagain (only with QSOCK_FAULT_SPURIOUS: after poll() in
 *            waitForNewConnection() it makes the wait report no connection,
 *            in Qt too; the kernel never does that with one acceptor),
 *            emfile, enobufs, enomem
 *   connect: nothing at random (a non-blocking connect never sleeps, so
 *            is never interrupted); by rule, anything
 *   epoll_ctl (ADD/MOD of a socket): enomem
 *   getaddrinfo: enomem (as EAI_MEMORY)
 * Datagrams are never shortened: the kernel moves them whole.
 *
 * Decisions come from a hash of the seed, the call and a per-call counter,
 * so a single-threaded run is reproducible; threads only reorder the
 * counter. getaddrinfo() runs in GLib's and the library's resolver
 * threads: everything here is atomics or a mutex, and calls made from
 * inside getaddrinfo (NSS modules talking to their daemons) are never hit.
 *
 * Programs linked with nothing from here may still drive it: the exported
 * qsock_fault_arm() adds a rule at run time and qsock_fault_injected()
 * counts what was injected (look them up with dlsym (RTLD_DEFAULT, ...)).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT __attribute__ ((visibility ("default")))

/* ---- calls and kinds ---------------------------------------------------- */

typedef enum
{
  CALL_RECV,
  CALL_RECVFROM,
  CALL_RECVMSG,
  CALL_READ,
  CALL_READV,
  CALL_SEND,
  CALL_SENDTO,
  CALL_SENDMSG,
  CALL_WRITE,
  CALL_WRITEV,
  CALL_ACCEPT4,
  CALL_CONNECT,
  CALL_EPOLL_CTL,
  CALL_GETADDRINFO,
  N_CALLS
} Call;

static const char *const call_names[N_CALLS] = {
  "recv", "recvfrom", "recvmsg", "read", "readv",
  "send", "sendto", "sendmsg", "write", "writev",
  "accept4", "connect", "epoll_ctl", "getaddrinfo",
};

static bool
call_reads (Call call)
{
  return call <= CALL_READV;
}

static bool
call_writes (Call call)
{
  return call >= CALL_SEND && call <= CALL_WRITEV;
}

typedef enum
{
  KIND_EINTR,
  KIND_EAGAIN,
  KIND_SHORT,
  KIND_ENOBUFS,
  KIND_ENOMEM,
  KIND_ECONNRESET,
  KIND_EPIPE,
  KIND_EMFILE,
  N_KINDS
} Kind;

static const char *const kind_names[N_KINDS] = {
  "eintr", "eagain", "short", "enobufs", "enomem", "econnreset", "epipe", "emfile",
};

static const int kind_errno[N_KINDS] = {
  EINTR, EAGAIN, 0, ENOBUFS, ENOMEM, ECONNRESET, EPIPE, EMFILE,
};

/* ---- configuration ------------------------------------------------------ */

#define MAX_RULES 32

typedef struct
{
  int      call;      /* a Call, or -1 for any read, -2 for any write */
  int      err;       /* errno, EAI_* for getaddrinfo, or 0 for a short count */
  long     nth;       /* 1-based */
  int      fd;        /* -1: any non-blocking socket */
  long     seen;
  bool     fired;
} Rule;

static uint64_t seed = 1;
static double rate;
static unsigned kinds = (1u << KIND_EINTR) | (1u << KIND_EAGAIN) | (1u << KIND_SHORT);
static bool hit_blocking;
static bool spurious_eagain;
static bool verbose;
static char *report_path;

static pthread_mutex_t rules_lock = PTHREAD_MUTEX_INITIALIZER;
static Rule rules[MAX_RULES];
static atomic_int n_rules;

static atomic_ulong counters[N_CALLS];
static atomic_ulong injected[N_CALLS][N_KINDS];
static atomic_ulong injected_by_rule;
static atomic_ulong injected_by_rule_call[N_CALLS];

static __thread int in_getaddrinfo;

/* ---- the real calls ----------------------------------------------------- */

static ssize_t (*real_recv) (int, void *, size_t, int);
static ssize_t (*real_recvfrom) (int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg) (int, struct msghdr *, int);
static ssize_t (*real_read) (int, void *, size_t);
static ssize_t (*real_readv) (int, const struct iovec *, int);
static ssize_t (*real_send) (int, const void *, size_t, int);
static ssize_t (*real_sendto) (int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg) (int, const struct msghdr *, int);
static ssize_t (*real_write) (int, const void *, size_t);
static ssize_t (*real_writev) (int, const struct iovec *, int);
static int (*real_accept4) (int, struct sockaddr *, socklen_t *, int);
static int (*real_connect) (int, const struct sockaddr *, socklen_t);
static int (*real_epoll_ctl) (int, int, int, struct epoll_event *);
static int (*real_getaddrinfo) (const char *, const char *, const struct addrinfo *, struct addrinfo **);

static void
resolve_real (void)
{
#define RESOLVE(name) *(void **) (&real_##name) = dlsym (RTLD_NEXT, #name)
  RESOLVE (recv);
  RESOLVE (recvfrom);
  RESOLVE (recvmsg);
  RESOLVE (read);
  RESOLVE (readv);
  RESOLVE (send);
  RESOLVE (sendto);
  RESOLVE (sendmsg);
  RESOLVE (write);
  RESOLVE (writev);
  RESOLVE (accept4);
  RESOLVE (connect);
  RESOLVE (epoll_ctl);
  RESOLVE (getaddrinfo);
#undef RESOLVE
}

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* Every wrapper comes here first: a call may arrive before the
 * constructor ran (from another preloaded library's constructor). */
#define ENSURE_REAL() pthread_once (&real_once, resolve_real)

/* ---- parsing ------------------------------------------------------------ */

static const struct { const char *name; int value; } errno_names[] = {
  { "EINTR", EINTR }, { "EAGAIN", EAGAIN }, { "EWOULDBLOCK", EWOULDBLOCK },
  { "ENOBUFS", ENOBUFS }, { "ENOMEM", ENOMEM }, { "ECONNRESET", ECONNRESET },
  { "EPIPE", EPIPE }, { "EMFILE", EMFILE }, { "ENFILE", ENFILE },
  { "ECONNREFUSED", ECONNREFUSED }, { "ECONNABORTED", ECONNABORTED },
  { "ETIMEDOUT", ETIMEDOUT }, { "EHOSTUNREACH", EHOSTUNREACH },
  { "ENETUNREACH", ENETUNREACH }, { "EACCES", EACCES }, { "EPERM", EPERM },
  { "EADDRINUSE", EADDRINUSE }, { "EADDRNOTAVAIL", EADDRNOTAVAIL },
  { "EMSGSIZE", EMSGSIZE }, { "EPROTO", EPROTO }, { "EINVAL", EINVAL },
  { "EBADF", EBADF }, { "ENOSPC", ENOSPC }, { "EIO", EIO },
  /* getaddrinfo()'s own codes */
  { "EAI_AGAIN", EAI_AGAIN }, { "EAI_FAIL", EAI_FAIL }, { "EAI_NONAME", EAI_NONAME },
  { "EAI_MEMORY", EAI_MEMORY }, { "EAI_NODATA", EAI_NODATA }, { "EAI_SYSTEM", EAI_SYSTEM },
};

static int
parse_call (const char *name, size_t len)
{
  if (len == 7 && strncmp (name, "anyrecv", 7) == 0)
    return -1;
  if (len == 7 && strncmp (name, "anysend", 7) == 0)
    return -2;
  for (int i = 0; i < N_CALLS; i++)
    if (strlen (call_names[i]) == len && strncmp (call_names[i], name, len) == 0)
      return i;
  return -100;
}

static bool
parse_errno (const char *name, size_t len, int *err)
{
  char *end;
  long v;

  if (len == 5 && strncasecmp (name, "short", 5) == 0)
    {
      *err = 0;
      return true;
    }
  for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
    if (strlen (errno_names[i].name) == len && strncasecmp (errno_names[i].name, name, len) == 0)
      {
        *err = errno_names[i].value;
        return true;
      }
  v = strtol (name, &end, 10);
  if (end != name && (size_t) (end - name) == len)
    {
      *err = (int) v;
      return true;
    }
  return false;
}

static void
complain (const char *what, const char *text)
{
  char line[512];
  int n;

  ENSURE_REAL ();
  n = snprintf (line, sizeof line, "qsock-fault: ignoring %s \"%s\"\n", what, text);
  if (n > 0)
    real_write (2, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
}

/* <call>:<errno>:<nth>[:<fd>]: call is one of call_names, or anyrecv /
 * anysend (any read or write call); errno a name (ECONNRESET, EAI_NONAME,
 * ...), a number or "short"; nth counts the calls of that kind on the
 * descriptor given, or on any non-blocking socket. */
static bool
parse_rule (const char *text, size_t len, Rule *rule)
{
  const char *end = text + len;
  const char *p = text;
  const char *colon;
  char number[32];

  memset (rule, 0, sizeof *rule);
  rule->fd = -1;

  colon = memchr (p, ':', (size_t) (end - p));
  if (colon == NULL)
    return false;
  rule->call = parse_call (p, (size_t) (colon - p));
  if (rule->call == -100)
    return false;

  p = colon + 1;
  colon = memchr (p, ':', (size_t) (end - p));
  if (colon == NULL || !parse_errno (p, (size_t) (colon - p), &rule->err))
    return false;

  p = colon + 1;
  colon = memchr (p, ':', (size_t) (end - p));
  len = (size_t) ((colon != NULL ? colon : end) - p);
  if (len == 0 || len >= sizeof number)
    return false;
  memcpy (number, p, len);
  number[len] = '\0';
  rule->nth = strtol (number, NULL, 10);
  if (rule->nth < 1)
    return false;

  if (colon != NULL)
    {
      p = colon + 1;
      len = (size_t) (end - p);
      if (len == 0 || len >= sizeof number)
        return false;
      memcpy (number, p, len);
      number[len] = '\0';
      rule->fd = (int) strtol (number, NULL, 10);
    }
  return true;
}

static bool
add_rule (const char *text, size_t len)
{
  Rule rule;
  bool ok = false;

  if (!parse_rule (text, len, &rule))
    return false;
  pthread_mutex_lock (&rules_lock);
  if (atomic_load (&n_rules) < MAX_RULES)
    {
      rules[atomic_load (&n_rules)] = rule;
      atomic_fetch_add (&n_rules, 1);
      ok = true;
    }
  pthread_mutex_unlock (&rules_lock);
  return ok;
}

static void
add_rules (const char *list)
{
  while (*list != '\0')
    {
      size_t len = strcspn (list, ",");
      char copy[128];

      if (len > 0 && !add_rule (list, len))
        {
          snprintf (copy, sizeof copy, "%.*s", (int) (len < 100 ? len : 100), list);
          complain ("rule", copy);
        }
      list += len;
      if (*list == ',')
        list++;
    }
}

static void
parse_kinds (const char *list)
{
  kinds = 0;
  while (*list != '\0')
    {
      size_t len = strcspn (list, ", ");
      bool known = false;

      for (int k = 0; k < N_KINDS && len > 0; k++)
        if (strlen (kind_names[k]) == len && strncasecmp (kind_names[k], list, len) == 0)
          {
            kinds |= 1u << k;
            known = true;
          }
      if (len > 0 && !known)
        {
          char copy[64];
          snprintf (copy, sizeof copy, "%.*s", (int) (len < 40 ? len : 40), list);
          complain ("kind", copy);
        }
      list += len;
      while (*list == ',' || *list == ' ')
        list++;
    }
}

static void write_summary (void);

__attribute__ ((constructor)) static void
fault_init (void)
{
  const char *v;

  ENSURE_REAL ();
  if ((v = getenv ("QSOCK_FAULT_SEED")) != NULL)
    seed = strtoull (v, NULL, 0);
  if ((v = getenv ("QSOCK_FAULT_RATE")) != NULL)
    {
      rate = strtod (v, NULL);
      if (!(rate >= 0.0))
        rate = 0.0;
      if (rate > 1.0)
        rate = 1.0;
    }
  if ((v = getenv ("QSOCK_FAULT_KINDS")) != NULL)
    parse_kinds (v);
  if ((v = getenv ("QSOCK_FAULT_BLOCKING")) != NULL && *v != '\0' && *v != '0')
    hit_blocking = true;
  if ((v = getenv ("QSOCK_FAULT_SPURIOUS")) != NULL && *v != '\0' && *v != '0')
    spurious_eagain = true;
  if ((v = getenv ("QSOCK_FAULT_VERBOSE")) != NULL && *v != '\0' && *v != '0')
    verbose = true;
  if ((v = getenv ("QSOCK_FAULT_REPORT")) != NULL && *v != '\0')
    report_path = strdup (v);
  if ((v = getenv ("QSOCK_FAULT_ONCE")) != NULL)
    add_rules (v);
}

__attribute__ ((destructor)) static void
fault_fini (void)
{
  write_summary ();
}

/* ---- deciding ----------------------------------------------------------- */

static uint64_t
mix (uint64_t x)
{
  /* splitmix64's finaliser */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

typedef struct
{
  bool checked;
  bool is_socket;
  bool stream;      /* SOCK_STREAM */
  bool nonblocking;
  int  family;
} FdInfo;

static bool
fd_info (int fd, FdInfo *info)
{
  struct stat st;
  int type = 0;
  socklen_t len = sizeof type;
  struct sockaddr_storage ss;
  socklen_t sslen = sizeof ss;
  int fl;

  if (info->checked)
    return info->is_socket;
  info->checked = true;
  info->is_socket = false;
  if (fd < 0 || fstat (fd, &st) != 0 || !S_ISSOCK (st.st_mode))
    return false;
  info->is_socket = true;
  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
    info->stream = type == SOCK_STREAM;
  fl = fcntl (fd, F_GETFL);
  info->nonblocking = fl >= 0 && (fl & O_NONBLOCK) != 0;
  info->family = AF_UNSPEC;
  if (getsockname (fd, (struct sockaddr *) &ss, &sslen) == 0)
    info->family = ss.ss_family;
  return true;
}

/* Whether the kernel holds bytes of @fd not yet taken by the peer. */
static bool
send_queued (int fd)
{
  int queued = 0;

  return ioctl (fd, SIOCOUTQ, &queued) == 0 && queued > 0;
}

/* What to do with one call. */
typedef struct
{
  int    err;       /* >0: fail with this errno (or EAI_* for getaddrinfo) */
  bool   shorten;
  size_t new_len;   /* when shortening: in [1, len - 1] */
} Action;

static bool
rule_matches_call (const Rule *rule, Call call)
{
  if (rule->call == -1)
    return call_reads (call);
  if (rule->call == -2)
    return call_writes (call);
  return rule->call == (int) call;
}

/* The one-shot rules; TRUE if one fired. */
static bool
apply_rules (Call call, int fd, FdInfo *info, size_t len, Action *action)
{
  bool fired = false;

  if (atomic_load_explicit (&n_rules, memory_order_acquire) == 0)
    return false;

  pthread_mutex_lock (&rules_lock);
  for (int i = 0; i < atomic_load (&n_rules); i++)
    {
      Rule *rule = &rules[i];

      if (rule->fired || !rule_matches_call (rule, call))
        continue;
      if (call != CALL_GETADDRINFO)
        {
          if (rule->fd >= 0 && (fd != rule->fd || !fd_info (fd, info)))
            continue;
          if (rule->fd < 0 && (!fd_info (fd, info) || !(info->nonblocking || hit_blocking)))
            continue;
        }
      /* Every rule counts every matching call; one fault per call, so a
       * rule whose turn comes with another's fires at the next call. */
      if (++rule->seen < rule->nth || fired)
        continue;
      if (rule->err == 0)
        {
          /* A short count that cannot be made waits for a call that can
           * take it. */
          if (len < 2 || call == CALL_GETADDRINFO || !info->stream)
            continue;
          action->shorten = true;
          action->new_len = 1 + (size_t) (mix (seed ^ (uint64_t) len) % (len - 1));
        }
      else
        action->err = rule->err;
      rule->fired = true;
      fired = true;
    }
  pthread_mutex_unlock (&rules_lock);

  if (fired)
    {
      atomic_fetch_add (&injected_by_rule, 1);
      atomic_fetch_add (&injected_by_rule_call[call], 1);
    }
  return fired;
}

/* @len is the byte count asked for (0 for calls without one), @flags the
 * socket call's flags. */
static bool
decide (Call call, int fd, size_t len, int flags, Action *action)
{
  FdInfo info = { 0 };
  unsigned long n;
  uint64_t h;
  double p;
  Kind applicable[N_KINDS];
  int n_applicable = 0;
  bool nonblocking;
  bool queued;
  Kind kind;

  memset (action, 0, sizeof *action);
  if (in_getaddrinfo)
    return false;

  n = atomic_fetch_add_explicit (&counters[call], 1, memory_order_relaxed);

  if (apply_rules (call, fd, &info, len, action))
    return true;

  if (rate <= 0.0 || kinds == 0)
    return false;

  h = mix (seed ^ mix (((uint64_t) call << 48) ^ n));
  p = (double) (h >> 11) * (1.0 / 9007199254740992.0);
  if (p >= rate)
    return false;

  /* Only now look at the descriptor: most calls are not hit. */
  if (call == CALL_GETADDRINFO)
    {
      if (kinds & (1u << KIND_ENOMEM))
        {
          action->err = EAI_MEMORY;
          atomic_fetch_add (&injected[call][KIND_ENOMEM], 1);
          return true;
        }
      return false;
    }
  if (!fd_info (fd, &info))
    return false;
  /* MSG_DONTWAIT on a blocking descriptor is a test peer peeking after
   * poll(): only the descriptor's own mode counts. */
  nonblocking = info.nonblocking;
  if (!nonblocking && !hit_blocking)
    return false;

#define MAYBE(k, cond) \
  do { if ((kinds & (1u << (k))) && (cond)) applicable[n_applicable++] = (k); } while (0)
  if (call_reads (call))
    {
      MAYBE (KIND_EINTR, true);
      /* A datagram socket that was reported readable and then has nothing
       * is legal (a bad checksum), but the caller sees it (Qt's
       * readDatagram() fails too): not transparent, so only on request. */
      MAYBE (KIND_EAGAIN, nonblocking && (info.stream || spurious_eagain));
      MAYBE (KIND_SHORT, info.stream && len > 1 && !(flags & MSG_WAITALL));
      MAYBE (KIND_ENOMEM, true);
      MAYBE (KIND_ECONNRESET, info.stream);
    }
  else if (call_writes (call))
    {
      MAYBE (KIND_EINTR, true);
      /* A stream send is refused or cut short only while the kernel
       * still holds earlier bytes of the socket, as when its buffer fills:
       * into an empty buffer the kernel takes a small write whole, and
       * callers may rely on that (even Qt's flush() and
       * waitForBytesWritten() report the difference). */
      queued = nonblocking && info.stream && (spurious_eagain || send_queued (fd));
      MAYBE (KIND_EAGAIN, queued);
      MAYBE (KIND_SHORT, queued && len > 1);
      MAYBE (KIND_ENOBUFS, true);
      MAYBE (KIND_ENOMEM, true);
      MAYBE (KIND_EPIPE, info.stream);
      MAYBE (KIND_ECONNRESET, info.stream);
    }
  else if (call == CALL_ACCEPT4)
    {
      MAYBE (KIND_EINTR, true);
      MAYBE (KIND_EAGAIN, nonblocking && spurious_eagain);
      MAYBE (KIND_EMFILE, true);
      MAYBE (KIND_ENOBUFS, true);
      MAYBE (KIND_ENOMEM, true);
    }
  else if (call == CALL_CONNECT)
    {
      /* A non-blocking connect() never sleeps, so it is never interrupted;
       * connect() only fails by rule. */
    }
  else if (call == CALL_EPOLL_CTL)
    {
      MAYBE (KIND_ENOMEM, true);
    }
#undef MAYBE

  if (n_applicable == 0)
    return false;

  h = mix (h);
  kind = applicable[h % (uint64_t) n_applicable];
  if (kind == KIND_SHORT)
    {
      action->shorten = true;
      action->new_len = 1 + (size_t) (mix (h) % (len - 1));
    }
  else
    action->err = kind_errno[kind];
  atomic_fetch_add_explicit (&injected[call][kind], 1, memory_order_relaxed);
  return true;
}

/* An iovec array cut down to @new_len bytes, in @out (of @max entries);
 * returns the new count, or -1 if it does not fit. */
static int
shorten_iov (const struct iovec *iov, int iovcnt, size_t new_len, struct iovec *out, int max)
{
  int n = 0;

  for (int i = 0; i < iovcnt && new_len > 0; i++)
    {
      if (n == max)
        return -1;
      out[n] = iov[i];
      if (out[n].iov_len > new_len)
        out[n].iov_len = new_len;
      new_len -= out[n].iov_len;
      n++;
    }
  return n;
}

static size_t
iov_total (const struct iovec *iov, size_t iovcnt)
{
  size_t total = 0;

  for (size_t i = 0; i < iovcnt; i++)
    total += iov[i].iov_len;
  return total;
}

#define IOV_COPY_MAX 64

/* ---- the wrappers ------------------------------------------------------- */

EXPORT ssize_t
recv (int fd, void *buf, size_t len, int flags)
{
  Action a;

  ENSURE_REAL ();
  if (decide (CALL_RECV, fd, len, flags, &a))
    {
      if (a.err)
        return errno = a.err, -1;
      len = a.new_len;
    }
  return real_recv (fd, buf, len, flags);
}

EXPORT ssize_t
recvfrom (int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *addrlen)
{
  Action a;

  ENSURE_REAL ();
  if (decide (CALL_RECVFROM, fd, len, flags, &a))
    {
      if (a.err)
        return errno = a.err, -1;
      len = a.new_len;
    }
  return real_recvfrom (fd, buf, len, flags, addr, addrlen);
}

EXPORT ssize_t
recvmsg (int fd, struct msghdr *msg, int flags)
{
  Action a;
  size_t total;

  ENSURE_REAL ();
  total = msg != NULL && msg->msg_iov != NULL ? iov_total (msg->msg_iov, msg->msg_iovlen) : 0;
  if (decide (CALL_RECVMSG, fd, total, flags, &a))
    {
      struct iovec copy[IOV_COPY_MAX];
      struct msghdr m;
      int n;
      ssize_t r;

      if (a.err)
        return errno = a.err, -1;
      n = shorten_iov (msg->msg_iov, (int) msg->msg_iovlen, a.new_len, copy, IOV_COPY_MAX);
      if (n > 0)
        {
          m = *msg;
          m.msg_iov = copy;
          m.msg_iovlen = (size_t) n;
          r = real_recvmsg (fd, &m, flags);
          msg->msg_namelen = m.msg_namelen;
          msg->msg_controllen = m.msg_controllen;
          msg->msg_flags = m.msg_flags;
          return r;
        }
    }
  return real_recvmsg (fd, msg, flags);
}

EXPORT ssize_t
read (int fd, void *buf, size_t len)
{
  Action a;

  ENSURE_REAL ();
  if (decide (CALL_READ, fd, len, 0, &a))
    {
      if (a.err)
        return errno = a.err, -1;
      len = a.new_len;
    }
  return real_read (fd, buf, len);
}

EXPORT ssize_t
readv (int fd, const struct iovec *iov, int iovcnt)
{
  Action a;

  ENSURE_REAL ();
  if (iovcnt > 0 && decide (CALL_READV, fd, iov_total (iov, (size_t) iovcnt), 0, &a))
    {
      struct iovec copy[IOV_COPY_MAX];
      int n;

      if (a.err)
        return errno = a.err, -1;
      n = shorten_iov (iov, iovcnt, a.new_len, copy, IOV_COPY_MAX);
      if (n > 0)
        return real_readv (fd, copy, n);
    }
  return real_readv (fd, iov, iovcnt);
}

EXPORT ssize_t
send (int fd, const void *buf, size_t len, int flags)
{
  Action a;

  ENSURE_REAL ();
  if (decide (CALL_SEND, fd, len, flags, &a))
    {
      if (a.err)
        return errno = a.err, -1;
      len = a.new_len;
    }
  return real_send (fd, buf, len, flags);
}

EXPORT ssize_t
sendto (int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t addrlen)
{
  Action a;

  ENSURE_REAL ();
  if (decide (CALL_SENDTO, fd, len, flags, &a))
    {
      if (a.err)
        return errno = a.err, -1;
      len = a.new_len;
    }
  return real_sendto (fd, buf, len, flags, addr, addrlen);
}

EXPORT ssize_t
sendmsg (int fd, const struct msghdr *msg, int flags)
{
  Action a;
  size_t total;

  ENSURE_REAL ();
  total = msg != NULL && msg->msg_iov != NULL ? iov_total (msg->msg_iov, msg->msg_iovlen) : 0;
  if (decide (CALL_SENDMSG, fd, total, flags, &a))
    {
      struct iovec copy[IOV_COPY_MAX];
      struct msghdr m;
      int n;

      if (a.err)
        return errno = a.err, -1;
      n = shorten_iov (msg->msg_iov, (int) msg->msg_iovlen, a.new_len, copy, IOV_COPY_MAX);
      if (n > 0)
        {
          m = *msg;
          m.msg_iov = copy;
          m.msg_iovlen = (size_t) n;
          return real_sendmsg (fd, &m, flags);
        }
    }
  return real_sendmsg (fd, msg, flags);
}

EXPORT ssize_t
write (int fd, const void *buf, size_t len)
{
  Action a;

  ENSURE_REAL ();
  if (decide (CALL_WRITE, fd, len, 0, &a))
    {
      if (a.err)
        return errno = a.err, -1;
      len = a.new_len;
    }
  return real_write (fd, buf, len);
}

EXPORT ssize_t
writev (int fd, const struct iovec *iov, int iovcnt)
{
  Action a;

  ENSURE_REAL ();
  if (iovcnt > 0 && decide (CALL_WRITEV, fd, iov_total (iov, (size_t) iovcnt), 0, &a))
    {
      struct iovec copy[IOV_COPY_MAX];
      int n;

      if (a.err)
        return errno = a.err, -1;
      n = shorten_iov (iov, iovcnt, a.new_len, copy, IOV_COPY_MAX);
      if (n > 0)
        return real_writev (fd, copy, n);
    }
  return real_writev (fd, iov, iovcnt);
}

EXPORT int
accept4 (int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
  Action a;

  ENSURE_REAL ();
  if (decide (CALL_ACCEPT4, fd, 0, 0, &a) && a.err)
    return errno = a.err, -1;
  return real_accept4 (fd, addr, addrlen, flags);
}

EXPORT int
connect (int fd, const struct sockaddr *addr, socklen_t addrlen)
{
  Action a;

  ENSURE_REAL ();
  if (decide (CALL_CONNECT, fd, 0, 0, &a) && a.err)
    return errno = a.err, -1;
  return real_connect (fd, addr, addrlen);
}

EXPORT int
epoll_ctl (int epfd, int op, int fd, struct epoll_event *event)
{
  Action a;

  ENSURE_REAL ();
  /* Removing cannot run out of memory. */
  if (op != EPOLL_CTL_DEL && decide (CALL_EPOLL_CTL, fd, 0, 0, &a) && a.err)
    return errno = a.err, -1;
  return real_epoll_ctl (epfd, op, fd, event);
}

EXPORT int
getaddrinfo (const char *node, const char *service, const struct addrinfo *hints,
             struct addrinfo **res)
{
  Action a;
  int r;

  ENSURE_REAL ();
  if (decide (CALL_GETADDRINFO, -1, 0, 0, &a) && a.err)
    {
      if (a.err == EAI_SYSTEM)
        errno = EIO;
      if (res != NULL)
        *res = NULL;
      return a.err;
    }
  in_getaddrinfo++;
  r = real_getaddrinfo (node, service, hints, res);
  in_getaddrinfo--;
  return r;
}

/* ---- control and summary ------------------------------------------------ */

/* Adds a one-shot rule, in QSOCK_FAULT_ONCE's syntax; FALSE if it does not
 * parse or the table is full. */
EXPORT bool qsock_fault_arm (const char *rule);
EXPORT bool
qsock_fault_arm (const char *rule)
{
  return rule != NULL && add_rule (rule, strlen (rule));
}

/* Forgets every rule, fired or not. */
EXPORT void qsock_fault_disarm (void);
EXPORT void
qsock_fault_disarm (void)
{
  pthread_mutex_lock (&rules_lock);
  atomic_store (&n_rules, 0);
  pthread_mutex_unlock (&rules_lock);
}

/* How many faults were injected so far, by rules and at random. */
EXPORT unsigned long qsock_fault_injected (void);
EXPORT unsigned long
qsock_fault_injected (void)
{
  unsigned long total = atomic_load (&injected_by_rule);

  for (int c = 0; c < N_CALLS; c++)
    for (int k = 0; k < N_KINDS; k++)
      total += atomic_load (&injected[c][k]);
  return total;
}

static void
write_summary (void)
{
  char line[4096];
  size_t pos = 0;
  unsigned long by_kind[N_KINDS] = { 0 };
  unsigned long total = 0;
  int n;

  if (!verbose && report_path == NULL)
    return;

  for (int c = 0; c < N_CALLS; c++)
    for (int k = 0; k < N_KINDS; k++)
      by_kind[k] += atomic_load (&injected[c][k]);
  for (int k = 0; k < N_KINDS; k++)
    total += by_kind[k];

#define ADD(...) \
  do { n = snprintf (line + pos, sizeof line - pos, __VA_ARGS__); \
       if (n > 0) pos = pos + (size_t) n < sizeof line ? pos + (size_t) n : sizeof line - 1; } while (0)
  ADD ("qsock-fault: pid %ld seed %llu rate %g: injected %lu", (long) getpid (),
       (unsigned long long) seed, rate, total + atomic_load (&injected_by_rule));
  for (int k = 0; k < N_KINDS; k++)
    if (by_kind[k] > 0)
      ADD (" %s=%lu", kind_names[k], by_kind[k]);
  if (atomic_load (&injected_by_rule) > 0)
    ADD (" once=%lu", atomic_load (&injected_by_rule));
  ADD (" |");
  for (int c = 0; c < N_CALLS; c++)
    {
      unsigned long sum = atomic_load (&injected_by_rule_call[c]);

      for (int k = 0; k < N_KINDS; k++)
        sum += atomic_load (&injected[c][k]);
      if (atomic_load (&counters[c]) > 0)
        ADD (" %s %lu/%lu", call_names[c], sum, atomic_load (&counters[c]));
    }
  ADD ("\n");
#undef ADD

  ENSURE_REAL ();
  if (verbose)
    real_write (2, line, pos);
  if (report_path != NULL)
    {
      int fd = open (report_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

      if (fd >= 0)
        {
          real_write (fd, line, pos);
          close (fd);
        }
    }
}
