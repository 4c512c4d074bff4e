/* SPDX-License-Identifier: MIT */
/* Passive ICE-TCP; see sfu-tcp.h.
 *
 * Ownership: a connection belongs to exactly one loop at a time (TcpLoop.conns lists it) and
 * is touched only on that loop's thread; sfu_tcp_conn_move() passes it on through
 * sfu_loop_invoke(), during which no thread touches it. SfuTcp.stopping and n_connections
 * are atomics; there are no locks. Shutdown is two passes over the loops (set stopping,
 * then close everything): a move posted before the first pass finished is queued on its
 * target loop before the second pass's close, so no connection is left in flight. */
#define _GNU_SOURCE /* recvmmsg, sendmmsg, accept4 */
#include "sfu-tcp.h"
#include "sfu-udp.h"

#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RFC4571_MAX_FRAME 65535
/* A read of a connection's socket stops after this many rounds so one busy peer cannot
 * starve the loop; level-triggered epoll comes back. */
#define READ_ROUNDS 4

typedef struct {
  SfuTcp *tcp;
  SfuLoop *loop;
  int listen_fd;
  SfuLoopWatch *listen_watch;
  GQueue conns;   /* of SfuTcpConn, link = conn->link */
  GQueue pending; /* unbound ones, oldest first, link = conn->pending_link */
  GPtrArray *dirty; /* connections with output to write in the FLUSH hook */
  SfuLoopTimer *pending_timer;
  SfuTcpStats stats;
} TcpLoop;

struct _SfuTcpConn {
  SfuTcp *tcp;
  TcpLoop *tl;
  int fd;
  SfuLoopWatch *watch;
  SfuAddress peer;
  SfuTcpDeframer in;
  guint8 *out; /* max_output bytes, allocated on the first send */
  gsize out_start, out_end;
  gboolean dirty, want_write, closed;
  guint dispatch_depth; /* inside callbacks: free later */
  SfuLoop *move_to;
  gpointer owner;
  gint64 pending_deadline;
  GList link, pending_link;
};

struct _SfuTcp {
  SfuLoopGroup *group;
  guint n_loops;
  TcpLoop **loops;
  SfuTcpLimits limits;
  SfuTcpCallbacks callbacks;
  gpointer user_data;
  guint16 port;
  gint stopping;      /* atomic */
  gint n_connections; /* atomic */
};

/* ---- deframer ---- */

void
sfu_tcp_deframer_init (SfuTcpDeframer *d, gsize max_frame)
{
  g_return_if_fail (d != NULL);
  d->max_frame = MIN (max_frame, RFC4571_MAX_FRAME);
  d->cap = 2 + d->max_frame;
  d->buf = g_malloc (d->cap);
  d->start = d->end = 0;
}

void
sfu_tcp_deframer_clear (SfuTcpDeframer *d)
{
  g_clear_pointer (&d->buf, g_free);
  d->cap = d->start = d->end = 0;
}

guint8 *
sfu_tcp_deframer_get_space (SfuTcpDeframer *d, gsize *space)
{
  if (d->start > 0) {
    memmove (d->buf, d->buf + d->start, d->end - d->start);
    d->end -= d->start;
    d->start = 0;
  }
  *space = d->cap - d->end;
  return d->buf + d->end;
}

void
sfu_tcp_deframer_commit (SfuTcpDeframer *d, gsize n)
{
  g_return_if_fail (n <= d->cap - d->end);
  d->end += n;
}

static gsize
frame_len_at (const SfuTcpDeframer *d)
{
  return (gsize) d->buf[d->start] << 8 | d->buf[d->start + 1];
}

SfuTcpFrameStatus
sfu_tcp_deframer_next (SfuTcpDeframer *d, guint8 **frame, gsize *len)
{
  gsize avail = d->end - d->start, n;

  if (avail < 2)
    return SFU_TCP_FRAME_NEED_MORE;
  n = frame_len_at (d);
  if (n > d->max_frame)
    return SFU_TCP_FRAME_TOO_BIG;
  if (avail < 2 + n)
    return SFU_TCP_FRAME_NEED_MORE;
  *frame = d->buf + d->start + 2;
  *len = n;
  return SFU_TCP_FRAME_OK;
}

void
sfu_tcp_deframer_consume (SfuTcpDeframer *d)
{
  gsize avail = d->end - d->start;

  g_return_if_fail (avail >= 2 && avail >= 2 + frame_len_at (d));
  d->start += 2 + frame_len_at (d);
  if (d->start == d->end)
    d->start = d->end = 0;
}

/* ---- connections ---- */

void
sfu_tcp_limits_init (SfuTcpLimits *limits)
{
  limits->max_frame = 2048;
  limits->max_output = 256 * 1024;
  limits->max_connections = 1024;
  limits->max_pending = 32;
  limits->pending_timeout_us = 5 * G_USEC_PER_SEC;
}

SfuLoop *
sfu_tcp_conn_get_loop (SfuTcpConn *conn)
{
  g_return_val_if_fail (conn != NULL, NULL);
  return conn->tl->loop;
}

const SfuAddress *
sfu_tcp_conn_get_peer (SfuTcpConn *conn)
{
  g_return_val_if_fail (conn != NULL, NULL);
  return &conn->peer;
}

gpointer
sfu_tcp_conn_get_owner (SfuTcpConn *conn)
{
  g_return_val_if_fail (conn != NULL, NULL);
  return conn->owner;
}

static void
arm_pending_timer (TcpLoop *tl)
{
  SfuTcpConn *head = tl->pending.head ? tl->pending.head->data : NULL;

  if (head)
    sfu_loop_timer_start (tl->pending_timer, head->pending_deadline);
  else
    sfu_loop_timer_stop (tl->pending_timer);
}

/* A moved connection keeps the deadline it had: moving must not buy a slow peer time. */
static void
pending_add (TcpLoop *tl, SfuTcpConn *conn)
{
  if (conn->pending_deadline == 0)
    conn->pending_deadline = sfu_loop_now (tl->loop) + tl->tcp->limits.pending_timeout_us;
  g_queue_push_tail_link (&tl->pending, &conn->pending_link);
  arm_pending_timer (tl);
}

static void
pending_remove (TcpLoop *tl, SfuTcpConn *conn)
{
  if (conn->owner == NULL && !conn->closed) {
    g_queue_unlink (&tl->pending, &conn->pending_link);
    arm_pending_timer (tl);
  }
}

void
sfu_tcp_conn_set_owner (SfuTcpConn *conn, gpointer owner)
{
  g_return_if_fail (conn != NULL && !conn->closed);
  if ((conn->owner == NULL) == (owner == NULL)) {
    conn->owner = owner;
    return;
  }
  if (owner) {
    pending_remove (conn->tl, conn);
    conn->owner = owner;
  } else {
    conn->owner = NULL;
    conn->pending_deadline = 0;
    pending_add (conn->tl, conn);
  }
}

/* Takes the connection out of its loop (lists, watch), keeping its fd and buffers. */
static void
detach (SfuTcpConn *conn)
{
  TcpLoop *tl = conn->tl;

  pending_remove (tl, conn);
  g_queue_unlink (&tl->conns, &conn->link);
  if (conn->dirty) {
    g_ptr_array_remove_fast (tl->dirty, conn);
    conn->dirty = FALSE;
  }
  sfu_loop_watch_remove (conn->watch);
  conn->watch = NULL;
}

static void
conn_free (SfuTcpConn *conn)
{
  sfu_tcp_deframer_clear (&conn->in);
  g_free (conn->out);
  g_free (conn);
}

void
sfu_tcp_conn_close (SfuTcpConn *conn)
{
  SfuTcp *tcp;

  g_return_if_fail (conn != NULL);
  if (conn->closed)
    return;
  tcp = conn->tcp;
  detach (conn);
  conn->closed = TRUE;
  close (conn->fd);
  conn->fd = -1;
  g_atomic_int_add (&tcp->n_connections, -1);
  conn->dispatch_depth++;
  if (tcp->callbacks.closed)
    tcp->callbacks.closed (tcp, conn, tcp->user_data);
  conn->dispatch_depth--;
  if (conn->dispatch_depth == 0)
    conn_free (conn);
}

static void
mark_dirty (SfuTcpConn *conn)
{
  if (!conn->dirty) {
    conn->dirty = TRUE;
    g_ptr_array_add (conn->tl->dirty, conn);
  }
}

gboolean
sfu_tcp_conn_send (SfuTcpConn *conn, const guint8 *data, gsize len)
{
  gsize cap;

  g_return_val_if_fail (conn != NULL, FALSE);
  if (conn->closed || len == 0 || len > RFC4571_MAX_FRAME)
    return FALSE;
  cap = conn->tcp->limits.max_output;
  if (conn->out == NULL)
    conn->out = g_malloc (cap);
  if (conn->out_start > 0 && cap - conn->out_end < 2 + len) {
    memmove (conn->out, conn->out + conn->out_start, conn->out_end - conn->out_start);
    conn->out_end -= conn->out_start;
    conn->out_start = 0;
  }
  if (cap - conn->out_end < 2 + len) {
    conn->tl->stats.output_dropped++;
    return FALSE;
  }
  conn->out[conn->out_end] = (guint8) (len >> 8);
  conn->out[conn->out_end + 1] = (guint8) len;
  memcpy (conn->out + conn->out_end + 2, data, len);
  conn->out_end += 2 + len;
  conn->tl->stats.frames_out++;
  mark_dirty (conn);
  return TRUE;
}

void
sfu_tcp_conn_move (SfuTcpConn *conn, SfuLoop *to)
{
  g_return_if_fail (conn != NULL && to != NULL);
  g_return_if_fail (conn->dispatch_depth > 0);
  conn->move_to = to;
}

/* Writes what is queued; FALSE when the connection was closed. */
static gboolean
write_out (SfuTcpConn *conn)
{
  while (conn->out_start < conn->out_end) {
    ssize_t n = send (conn->fd, conn->out + conn->out_start, conn->out_end - conn->out_start,
                      MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      conn->out_start += (gsize) n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      sfu_tcp_conn_close (conn);
      return FALSE;
    }
  }
  if (conn->out_start == conn->out_end)
    conn->out_start = conn->out_end = 0;
  /* Wait for EPOLLOUT only while something is left. */
  if ((conn->out_end > 0) != conn->want_write) {
    conn->want_write = conn->out_end > 0;
    sfu_loop_watch_set_events (conn->watch, EPOLLIN | EPOLLRDHUP | (conn->want_write ? EPOLLOUT : 0));
  }
  return TRUE;
}

static void on_conn_io (SfuLoop *loop, guint32 events, gpointer data);

/* FALSE when the watch could not be added: the caller closes the connection. */
static gboolean
attach (TcpLoop *tl, SfuTcpConn *conn)
{
  g_autoptr (GError) error = NULL;

  conn->tl = tl;
  conn->want_write = conn->out_end > 0;
  conn->watch = sfu_loop_watch_fd (tl->loop, conn->fd,
                                   EPOLLIN | EPOLLRDHUP | (conn->want_write ? EPOLLOUT : 0),
                                   on_conn_io, conn, &error);
  g_queue_push_tail_link (&tl->conns, &conn->link);
  if (conn->owner == NULL)
    pending_add (tl, conn);
  if (conn->watch == NULL) {
    g_warning ("sfu-tcp: %s", error->message);
    return FALSE;
  }
  return TRUE;
}

typedef enum {
  CONN_STAYS,
  CONN_CLOSED, /* the caller frees it when its dispatch_depth drops to 0 */
  CONN_MOVED,  /* another loop owns it now: touch nothing */
} ConnFate;

static ConnFate deliver_frames (SfuTcpConn *conn);

static void
arrive (gpointer data)
{
  SfuTcpConn *conn = data;
  TcpLoop *tl = conn->tcp->loops[sfu_loop_get_index (sfu_loop_get_current ())];
  ConnFate fate;

  if (!attach (tl, conn) || g_atomic_int_get (&conn->tcp->stopping)) {
    sfu_tcp_conn_close (conn);
    return;
  }
  conn->dispatch_depth++;
  fate = deliver_frames (conn);
  conn->dispatch_depth--;
  if (fate == CONN_CLOSED && conn->dispatch_depth == 0)
    conn_free (conn);
}

/* Delivers buffered frames until none is complete, or the connection closes or moves. The
 * caller holds a dispatch_depth count. */
static ConnFate
deliver_frames (SfuTcpConn *conn)
{
  SfuTcp *tcp = conn->tcp;
  SfuLoop *to;
  guint8 *frame;
  gsize len;

  while (!conn->closed && conn->move_to == NULL) {
    SfuTcpFrameStatus st = sfu_tcp_deframer_next (&conn->in, &frame, &len);

    if (st == SFU_TCP_FRAME_NEED_MORE)
      break;
    if (st == SFU_TCP_FRAME_TOO_BIG) {
      conn->tl->stats.oversize++;
      sfu_tcp_conn_close (conn);
      break;
    }
    conn->tl->stats.frames_in++;
    if (len > 0)
      tcp->callbacks.frame (tcp, conn, frame, len, tcp->user_data);
    /* A moving connection's frame is delivered again on the new loop. */
    if (!conn->closed && conn->move_to == NULL)
      sfu_tcp_deframer_consume (&conn->in);
  }
  if (conn->closed)
    return CONN_CLOSED;
  if (conn->move_to == NULL)
    return CONN_STAYS;

  to = conn->move_to;
  conn->move_to = NULL;
  if (g_atomic_int_get (&tcp->stopping) || to == conn->tl->loop) {
    /* Shutting down, or a move to where it is (a bug above us): give up on it. */
    sfu_tcp_conn_close (conn);
    return CONN_CLOSED;
  }
  detach (conn);
  sfu_loop_invoke (to, arrive, conn, NULL);
  return CONN_MOVED;
}

static void
on_conn_io (SfuLoop *loop, guint32 events, gpointer data)
{
  SfuTcpConn *conn = data;

  if (events & EPOLLOUT) {
    if (!write_out (conn))
      return;
  }
  if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
    return;
  for (int round = 0; round < READ_ROUNDS; round++) {
    gsize space;
    guint8 *p = sfu_tcp_deframer_get_space (&conn->in, &space);
    ConnFate fate;
    ssize_t n;

    if (space == 0) {
      /* Cannot happen: a full buffer always holds a whole frame, taken below. */
      sfu_tcp_conn_close (conn);
      return;
    }
    n = recv (conn->fd, p, space, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (n <= 0) {
      /* Peer closed (a half-closed ICE-TCP connection is no use) or an error. */
      sfu_tcp_conn_close (conn);
      return;
    }
    sfu_tcp_deframer_commit (&conn->in, (gsize) n);
    conn->dispatch_depth++;
    fate = deliver_frames (conn);
    conn->dispatch_depth--;
    if (fate == CONN_CLOSED && conn->dispatch_depth == 0)
      conn_free (conn);
    if (fate != CONN_STAYS || (gsize) n < space)
      return;
  }
}

static void
on_pending_timer (SfuLoop *loop, SfuLoopTimer *timer, gpointer data)
{
  TcpLoop *tl = data;
  gint64 now = sfu_loop_now (loop);

  while (tl->pending.head) {
    SfuTcpConn *conn = tl->pending.head->data;
    if (conn->pending_deadline > now)
      break;
    tl->stats.timed_out++;
    sfu_tcp_conn_close (conn);
  }
  arm_pending_timer (tl);
}

static void
on_accept (SfuLoop *loop, guint32 events, gpointer data)
{
  TcpLoop *tl = data;
  SfuTcp *tcp = tl->tcp;

  for (int i = 0; i < 16; i++) {
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    int one = 1, fd;
    SfuTcpConn *conn;

    fd = accept4 (tl->listen_fd, (struct sockaddr *) &ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return; /* EAGAIN, or ECONNABORTED & co: nothing to do */
    /* Reserve the slot in one atomic step: every loop accepts on its own thread, and a
     * separate check and increment would let two loops both take the last slot. */
    if ((guint) g_atomic_int_add (&tcp->n_connections, 1) >= tcp->limits.max_connections) {
      g_atomic_int_add (&tcp->n_connections, -1);
      tl->stats.refused++;
      close (fd);
      continue;
    }
    if (tl->pending.length >= tcp->limits.max_pending && tl->pending.head) {
      tl->stats.evicted++;
      sfu_tcp_conn_close (tl->pending.head->data);
    }
    /* Small media frames: do not wait to coalesce them. */
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn = g_new0 (SfuTcpConn, 1);
    conn->tcp = tcp;
    conn->fd = fd;
    conn->link.data = conn;
    conn->pending_link.data = conn;
    sfu_address_from_sockaddr (&ss, sslen, &conn->peer);
    sfu_tcp_deframer_init (&conn->in, tcp->limits.max_frame);
    tl->stats.accepted++;
    if (!attach (tl, conn))
      sfu_tcp_conn_close (conn);
  }
}

static void
flush_hook (SfuLoop *loop, gpointer data)
{
  TcpLoop *tl = data;

  /* write_out may close a connection, which removes it from dirty: walk from the end. */
  while (tl->dirty->len > 0) {
    SfuTcpConn *conn = g_ptr_array_index (tl->dirty, tl->dirty->len - 1);
    g_ptr_array_remove_index_fast (tl->dirty, tl->dirty->len - 1);
    conn->dirty = FALSE;
    write_out (conn);
  }
}

typedef struct {
  TcpLoop *tl;
  GError *error;
} LoopCall;

static void
start_on_loop (gpointer data)
{
  LoopCall *call = data;
  TcpLoop *tl = call->tl;

  tl->pending_timer = sfu_loop_timer_new (tl->loop, on_pending_timer, tl);
  sfu_loop_add_hook (tl->loop, SFU_LOOP_HOOK_FLUSH, flush_hook, tl);
  tl->listen_watch = sfu_loop_watch_fd (tl->loop, tl->listen_fd, EPOLLIN, on_accept, tl,
                                        &call->error);
}

static void
set_stopping_on_loop (gpointer data)
{
  TcpLoop *tl = data;
  g_atomic_int_set (&tl->tcp->stopping, 1);
  sfu_loop_watch_remove (tl->listen_watch);
  tl->listen_watch = NULL;
}

static void
stop_on_loop (gpointer data)
{
  TcpLoop *tl = data;

  while (tl->conns.head)
    sfu_tcp_conn_close (tl->conns.head->data);
  sfu_loop_timer_free (tl->pending_timer);
  tl->pending_timer = NULL;
  sfu_loop_remove_hook (tl->loop, flush_hook, tl);
}

static int
listen_socket (int family, const struct sockaddr_storage *ss, socklen_t len, GError **error)
{
  int one = 1, zero = 0;
  int fd = socket (family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
      (family == AF_INET6 && setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0) ||
      bind (fd, (const struct sockaddr *) ss, len) < 0 || listen (fd, 128) < 0) {
    int errsv = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "ICE-TCP listener: %s",
                 g_strerror (errsv));
    if (fd >= 0)
      close (fd);
    return -1;
  }
  return fd;
}

SfuTcp *
sfu_tcp_new (SfuLoopGroup *group, const char *bind_host, guint16 port,
             const SfuTcpLimits *limits, const SfuTcpCallbacks *callbacks, gpointer user_data,
             GError **error)
{
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) sa = NULL;
  struct sockaddr_storage ss;
  socklen_t sslen;
  int family;
  SfuTcp *tcp;

  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (callbacks != NULL && callbacks->frame != NULL, NULL);
  g_return_val_if_fail (sfu_loop_get_current () == NULL, NULL);

  inet = g_inet_address_new_from_string (bind_host ? bind_host : "0.0.0.0");
  if (inet == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "bind address “%s” is not an IP address", bind_host);
    return NULL;
  }
  family = g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  sa = g_inet_socket_address_new (inet, port);
  sslen = g_socket_address_get_native_size (sa);
  g_socket_address_to_native (sa, &ss, sizeof ss, NULL);

  tcp = g_new0 (SfuTcp, 1);
  tcp->group = group;
  tcp->n_loops = sfu_loop_group_get_n_loops (group);
  tcp->loops = g_new0 (TcpLoop *, tcp->n_loops);
  if (limits)
    tcp->limits = *limits;
  else
    sfu_tcp_limits_init (&tcp->limits);
  tcp->limits.max_frame = CLAMP (tcp->limits.max_frame, 1, RFC4571_MAX_FRAME);
  tcp->limits.max_output = MAX (tcp->limits.max_output, 2 + tcp->limits.max_frame);
  tcp->limits.max_pending = MAX (tcp->limits.max_pending, 1);
  tcp->callbacks = *callbacks;
  tcp->user_data = user_data;

  for (guint i = 0; i < tcp->n_loops; i++) {
    TcpLoop *tl = g_new0 (TcpLoop, 1);
    tl->tcp = tcp;
    tl->loop = sfu_loop_group_get_loop (group, i);
    tl->dirty = g_ptr_array_new ();
    tl->listen_fd = -1;
    tcp->loops[i] = tl;
  }
  for (guint i = 0; i < tcp->n_loops; i++) {
    TcpLoop *tl = tcp->loops[i];
    tl->listen_fd = listen_socket (family, &ss, sslen, error);
    if (tl->listen_fd < 0) {
      sfu_tcp_free (tcp);
      return NULL;
    }
    if (i == 0) {
      /* Port 0: the other loops bind the port the kernel picked. */
      sslen = sizeof ss;
      getsockname (tl->listen_fd, (struct sockaddr *) &ss, &sslen);
      tcp->port = family == AF_INET ? g_ntohs (((struct sockaddr_in *) &ss)->sin_port)
                                    : g_ntohs (((struct sockaddr_in6 *) &ss)->sin6_port);
    }
  }
  for (guint i = 0; i < tcp->n_loops; i++) {
    LoopCall call = { tcp->loops[i], NULL };
    sfu_loop_invoke_sync (tcp->loops[i]->loop, start_on_loop, &call);
    if (call.error) {
      g_propagate_error (error, call.error);
      sfu_tcp_free (tcp);
      return NULL;
    }
  }
  return tcp;
}

void
sfu_tcp_free (SfuTcp *tcp)
{
  if (tcp == NULL)
    return;
  g_return_if_fail (sfu_loop_get_current () == NULL);
  for (guint i = 0; i < tcp->n_loops; i++)
    sfu_loop_invoke_sync (tcp->loops[i]->loop, set_stopping_on_loop, tcp->loops[i]);
  for (guint i = 0; i < tcp->n_loops; i++)
    sfu_loop_invoke_sync (tcp->loops[i]->loop, stop_on_loop, tcp->loops[i]);
  for (guint i = 0; i < tcp->n_loops; i++) {
    TcpLoop *tl = tcp->loops[i];
    if (tl->listen_fd >= 0)
      close (tl->listen_fd);
    g_ptr_array_unref (tl->dirty);
    g_free (tl);
  }
  g_free (tcp->loops);
  g_free (tcp);
}

guint16
sfu_tcp_get_port (SfuTcp *tcp)
{
  g_return_val_if_fail (tcp != NULL, 0);
  return tcp->port;
}

typedef struct {
  TcpLoop *tl;
  SfuTcpStats *sum;
} StatsCall;

static void
stats_on_loop (gpointer data)
{
  StatsCall *call = data;
  const SfuTcpStats *s = &call->tl->stats;
  SfuTcpStats *d = call->sum;

  d->accepted += s->accepted;
  d->refused += s->refused;
  d->evicted += s->evicted;
  d->timed_out += s->timed_out;
  d->oversize += s->oversize;
  d->frames_in += s->frames_in;
  d->frames_out += s->frames_out;
  d->output_dropped += s->output_dropped;
}

void
sfu_tcp_get_stats (SfuTcp *tcp, SfuTcpStats *out)
{
  g_return_if_fail (tcp != NULL && out != NULL);
  memset (out, 0, sizeof *out);
  for (guint i = 0; i < tcp->n_loops; i++) {
    StatsCall call = { tcp->loops[i], out };
    sfu_loop_invoke_sync (tcp->loops[i]->loop, stats_on_loop, &call);
  }
}
