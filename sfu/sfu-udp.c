/* SPDX-License-Identifier: MIT */
/* The shared UDP port; see sfu-udp.h and docs/sfu.md ("Transport") for the socket design.
 *
 * Locks: UdpLoop.inbox_lock protects inbox_fill (the ring other loops write into) and its
 * count; it is held only to copy one packet in, or to swap the two rings. Everything else in
 * a UdpLoop belongs to its loop's thread. The stats are read on that thread too
 * (sfu_udp_get_stats() runs there). */
#define _GNU_SOURCE /* recvmmsg, sendmmsg, accept4 */
#include "sfu-udp.h"
#include "sfu-udp-gso.h"

#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  guint8 data[SFU_UDP_MAX_DATAGRAM];
  gsize len;
  SfuAddress from;
} Slot;

typedef struct {
  Slot slots[SFU_UDP_INBOX_SLOTS];
  guint count;
} Ring;

typedef struct {
  SfuUdp *udp;
  SfuLoop *loop;
  int fd;
  SfuLoopWatch *watch;

  /* Receive batch. */
  guint8 rbuf[SFU_UDP_RECV_BATCH][SFU_UDP_MAX_DATAGRAM];
  struct mmsghdr rmsg[SFU_UDP_RECV_BATCH];
  struct iovec riov[SFU_UDP_RECV_BATCH];
  struct sockaddr_storage rfrom[SFU_UDP_RECV_BATCH];

  /* Send queue, flushed by the FLUSH hook: datagrams, then the plan that coalesces them
   * (sfu-udp-gso.h) and is what sendmmsg() gets. */
  guint8 sbuf[SFU_UDP_SEND_BATCH][SFU_UDP_MAX_DATAGRAM];
  struct iovec siov[SFU_UDP_SEND_BATCH];
  struct sockaddr_storage sto[SFU_UDP_SEND_BATCH];
  socklen_t sto_len[SFU_UDP_SEND_BATCH];
  guint n_queued;
  SfuUdpGsoPlan plan;
  struct mmsghdr plan_out[SFU_UDP_SEND_BATCH];
  struct iovec plan_iov[SFU_UDP_SEND_BATCH];
  guint8 plan_cmsg[SFU_UDP_SEND_BATCH][SFU_UDP_GSO_CMSG_SPACE];
  guint plan_segments[SFU_UDP_SEND_BATCH], plan_next[SFU_UDP_SEND_BATCH];
  guint plan_table[2 * SFU_UDP_SEND_BATCH];
  gboolean gso; /* until the kernel refuses UDP_SEGMENT once */

  /* Hand-off inbox: other loops fill inbox_fill under inbox_lock; the DRAIN hook swaps it
   * with inbox_spare and reads that without the lock. */
  GMutex inbox_lock;
  Ring *inbox_fill, *inbox_spare;
  gboolean *wake; /* [n_loops]: loops whose inbox this loop wrote to since its last flush */

  SfuUdpStats stats;
} UdpLoop;

struct _SfuUdp {
  SfuLoopGroup *group;
  guint n_loops;
  UdpLoop **loops;
  int family; /* AF_INET or AF_INET6 */
  struct sockaddr_storage bound;
  socklen_t bound_len;
  SfuAddress local;
  SfuUdpReceiveFunc func;
  gpointer user_data;
  gboolean started;
};

socklen_t
sfu_udp_sockaddr_from_address (const SfuAddress *address, int family,
                               struct sockaddr_storage *out)
{
  memset (out, 0, sizeof *out);
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *) out;
    if (address->family != G_SOCKET_FAMILY_IPV4)
      return 0;
    sin->sin_family = AF_INET;
    sin->sin_port = g_htons (address->port);
    memcpy (&sin->sin_addr, address->addr, 4);
    return sizeof *sin;
  } else if (family == AF_INET6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) out;
    guint8 *a = (guint8 *) &sin6->sin6_addr;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = g_htons (address->port);
    if (address->family == G_SOCKET_FAMILY_IPV4) {
      a[10] = a[11] = 0xff;
      memcpy (a + 12, address->addr, 4);
    } else {
      memcpy (a, address->addr, 16);
    }
    return sizeof *sin6;
  }
  return 0;
}

const char *
sfu_udp_address_to_string (const SfuAddress *address, char *buf, gsize size)
{
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_bytes (
    address->addr, address->family == G_SOCKET_FAMILY_IPV6 ? G_SOCKET_FAMILY_IPV6
                                                          : G_SOCKET_FAMILY_IPV4);
  g_autofree char *ip = g_inet_address_to_string (inet);

  if (address->family == G_SOCKET_FAMILY_IPV6)
    g_snprintf (buf, size, "[%s]:%u", ip, address->port);
  else
    g_snprintf (buf, size, "%s:%u", ip, address->port);
  return buf;
}

gboolean
sfu_udp_address_parse (const char *host, guint16 port, SfuAddress *out)
{
  g_autoptr (GInetAddress) inet = NULL;

  g_return_val_if_fail (host != NULL && out != NULL, FALSE);
  inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    return FALSE;
  memset (out, 0, sizeof *out);
  out->family = g_inet_address_get_family (inet);
  memcpy (out->addr, g_inet_address_to_bytes (inet), g_inet_address_get_native_size (inet));
  out->port = port;
  return TRUE;
}

/* Every session shares these sockets: the kernel's default 208 KB receive buffer is a few
 * milliseconds of a busy call, and a loop that is late by that much drops packets before
 * they reach us (bench/sfu-forward saw its loss equal the kernel's RcvbufErrors). 4 MB
 * each way; the FORCE variants pass net.core.[rw]mem_max when we have CAP_NET_ADMIN, the
 * plain ones are capped by it otherwise. Not fatal: smaller buffers still work. */
static void
set_buffer_sizes (int fd)
{
  int size = 4 * 1024 * 1024;
  if (setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (setsockopt (fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
    setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

static int
bind_socket (SfuUdp *udp, GError **error)
{
  int one = 1, zero = 0, fd;

  fd = socket (udp->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    goto fail;
  if (setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
    goto fail;
  /* A wildcard IPv6 socket takes IPv4 peers too (as mapped addresses). */
  if (udp->family == AF_INET6 &&
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
    goto fail;
  if (bind (fd, (struct sockaddr *) &udp->bound, udp->bound_len) < 0)
    goto fail;
  set_buffer_sizes (fd);
  return fd;

fail:
  {
    int errsv = errno;
    char where[SFU_UDP_ADDRESS_STRLEN];
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "UDP socket on %s: %s",
                 sfu_udp_address_to_string (&udp->local, where, sizeof where),
                 g_strerror (errsv));
    if (fd >= 0)
      close (fd);
    return -1;
  }
}

static UdpLoop *
udp_loop_new (SfuUdp *udp, guint index)
{
  UdpLoop *ul = g_new0 (UdpLoop, 1);

  ul->udp = udp;
  ul->loop = sfu_loop_group_get_loop (udp->group, index);
  ul->fd = -1;
  g_mutex_init (&ul->inbox_lock);
  ul->inbox_fill = g_new0 (Ring, 1);
  ul->inbox_spare = g_new0 (Ring, 1);
  ul->wake = g_new0 (gboolean, udp->n_loops);
  for (guint i = 0; i < SFU_UDP_RECV_BATCH; i++) {
    ul->riov[i].iov_base = ul->rbuf[i];
    ul->riov[i].iov_len = SFU_UDP_MAX_DATAGRAM;
  }
  for (guint i = 0; i < SFU_UDP_SEND_BATCH; i++)
    ul->siov[i].iov_base = ul->sbuf[i];
  ul->plan = (SfuUdpGsoPlan) { SFU_UDP_SEND_BATCH, ul->plan_out, ul->plan_iov, ul->plan_cmsg,
                               ul->plan_segments, ul->plan_next, ul->plan_table };
  ul->gso = TRUE;
  return ul;
}

static void
udp_loop_free (UdpLoop *ul)
{
  if (ul->fd >= 0)
    close (ul->fd);
  g_mutex_clear (&ul->inbox_lock);
  g_free (ul->inbox_fill);
  g_free (ul->inbox_spare);
  g_free (ul->wake);
  g_free (ul);
}

SfuUdp *
sfu_udp_new (SfuLoopGroup *group, const char *bind_host, guint16 port, GError **error)
{
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) sa = NULL;
  SfuUdp *udp;

  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (bind_host == NULL)
    bind_host = "0.0.0.0";
  inet = g_inet_address_new_from_string (bind_host);
  if (inet == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "bind address “%s” is not an IP address", bind_host);
    return NULL;
  }
  udp = g_new0 (SfuUdp, 1);
  udp->group = group;
  udp->n_loops = sfu_loop_group_get_n_loops (group);
  udp->loops = g_new0 (UdpLoop *, udp->n_loops);
  for (guint i = 0; i < udp->n_loops; i++)
    udp->loops[i] = udp_loop_new (udp, i);
  udp->family = g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  sa = g_inet_socket_address_new (inet, port);
  g_socket_address_to_native (sa, &udp->bound, sizeof udp->bound, NULL);
  udp->bound_len = g_socket_address_get_native_size (sa);
  sfu_address_from_socket_address (sa, &udp->local);

  udp->loops[0]->fd = bind_socket (udp, error);
  if (udp->loops[0]->fd < 0) {
    sfu_udp_free (udp);
    return NULL;
  }
  /* Port 0: the others must bind the port the kernel picked. */
  udp->bound_len = sizeof udp->bound;
  getsockname (udp->loops[0]->fd, (struct sockaddr *) &udp->bound, &udp->bound_len);
  udp->local.port = udp->family == AF_INET
                      ? g_ntohs (((struct sockaddr_in *) &udp->bound)->sin_port)
                      : g_ntohs (((struct sockaddr_in6 *) &udp->bound)->sin6_port);
  return udp;
}

guint16
sfu_udp_get_port (SfuUdp *udp)
{
  g_return_val_if_fail (udp != NULL, 0);
  return udp->local.port;
}

void
sfu_udp_get_local_address (SfuUdp *udp, SfuAddress *out)
{
  g_return_if_fail (udp != NULL && out != NULL);
  *out = udp->local;
}

int
sfu_udp_get_fd (SfuUdp *udp)
{
  g_return_val_if_fail (udp != NULL, -1);
  return udp->loops[0]->fd;
}

static gsize
entry_bytes (const struct mmsghdr *m)
{
  gsize n = 0;

  for (gsize k = 0; k < m->msg_hdr.msg_iovlen; k++)
    n += m->msg_hdr.msg_iov[k].iov_len;
  return n;
}

/* The kernel refused a coalesced entry (no UDP_SEGMENT, or a device or path that cannot
 * take it): send its datagrams one by one, and stop coalescing on this loop. */
static void
send_one_by_one (UdpLoop *ul, const struct mmsghdr *m, int errsv)
{
  if (ul->gso)
    g_message ("UDP segmentation offload refused (%s): sending datagrams one by one",
               g_strerror (errsv));
  ul->gso = FALSE;
  for (gsize k = 0; k < m->msg_hdr.msg_iovlen; k++) {
    struct msghdr h = { .msg_name = m->msg_hdr.msg_name,
                        .msg_namelen = m->msg_hdr.msg_namelen,
                        .msg_iov = &m->msg_hdr.msg_iov[k],
                        .msg_iovlen = 1 };

    if (sendmsg (ul->fd, &h, MSG_DONTWAIT) >= 0) {
      ul->stats.sent++;
      ul->stats.sent_bytes += h.msg_iov->iov_len;
    } else {
      ul->stats.send_dropped++;
    }
  }
}

static void
flush_sends (UdpLoop *ul)
{
  guint n_out = sfu_udp_gso_plan (&ul->plan, ul->sto, ul->sto_len, ul->siov, ul->n_queued,
                                  ul->gso);
  guint i = 0;

  while (i < n_out) {
    int r = sendmmsg (ul->fd, ul->plan.out + i, n_out - i, MSG_DONTWAIT);

    if (r > 0) {
      ul->stats.send_batches++;
      for (guint k = i; k < i + (guint) r; k++) {
        ul->stats.sent += ul->plan.segments[k];
        ul->stats.sent_bytes += entry_bytes (&ul->plan.out[k]);
        ul->stats.coalesced_entries += ul->plan.segments[k] > 1;
      }
      i += (guint) r;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      /* The socket buffer is full: media is loss tolerant, waiting is not. */
      for (; i < n_out; i++)
        ul->stats.send_dropped += ul->plan.segments[i];
      break;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (ul->plan.segments[i] > 1) {
      send_one_by_one (ul, &ul->plan.out[i], errno);
      i++;
    } else {
      /* This one datagram failed (unreachable, refused…): skip it, send the rest. */
      ul->stats.send_dropped++;
      i++;
    }
  }
  ul->n_queued = 0;
}

gboolean
sfu_udp_send (SfuUdp *udp, SfuLoop *loop, const guint8 *data, gsize len, const SfuAddress *to)
{
  UdpLoop *ul;
  socklen_t salen;
  guint i;

  g_return_val_if_fail (udp != NULL && loop != NULL && to != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  ul = udp->loops[sfu_loop_get_index (loop)];
  if (len == 0 || len > SFU_UDP_MAX_DATAGRAM) {
    ul->stats.too_big += len > 0;
    return FALSE;
  }
  if (ul->n_queued == SFU_UDP_SEND_BATCH)
    flush_sends (ul);
  i = ul->n_queued;
  salen = sfu_udp_sockaddr_from_address (to, udp->family, &ul->sto[i]);
  if (salen == 0) {
    ul->stats.send_dropped++;
    return FALSE;
  }
  memcpy (ul->sbuf[i], data, len);
  ul->siov[i].iov_len = len;
  ul->sto_len[i] = salen;
  ul->n_queued++;
  return TRUE;
}

gboolean
sfu_udp_hand_off (SfuUdp *udp, SfuLoop *from, SfuLoop *to, const SfuUdpPacket *packet)
{
  UdpLoop *src, *dst;
  gboolean ok = FALSE;

  g_return_val_if_fail (udp != NULL && from != NULL && to != NULL && packet != NULL, FALSE);
  g_return_val_if_fail (packet->len <= SFU_UDP_MAX_DATAGRAM, FALSE);

  src = udp->loops[sfu_loop_get_index (from)];
  dst = udp->loops[sfu_loop_get_index (to)];
  g_mutex_lock (&dst->inbox_lock);
  if (dst->inbox_fill->count < SFU_UDP_INBOX_SLOTS) {
    Slot *slot = &dst->inbox_fill->slots[dst->inbox_fill->count++];
    memcpy (slot->data, packet->data, packet->len);
    slot->len = packet->len;
    slot->from = packet->from;
    ok = TRUE;
  }
  g_mutex_unlock (&dst->inbox_lock);
  if (ok) {
    src->stats.handed_off++;
    /* One wake per target per wakeup of ours, in our FLUSH hook. */
    src->wake[sfu_loop_get_index (to)] = TRUE;
  } else {
    src->stats.hand_off_dropped++;
  }
  return ok;
}

static void
drain_hook (SfuLoop *loop, gpointer data)
{
  UdpLoop *ul = data;
  Ring *ring;

  g_mutex_lock (&ul->inbox_lock);
  ring = ul->inbox_fill;
  ul->inbox_fill = ul->inbox_spare;
  ul->inbox_spare = ring;
  g_mutex_unlock (&ul->inbox_lock);

  for (guint i = 0; i < ring->count; i++) {
    SfuUdpPacket pkt = { ring->slots[i].data, ring->slots[i].len, ring->slots[i].from, TRUE };
    ul->udp->func (ul->udp, loop, &pkt, ul->udp->user_data);
  }
  ring->count = 0;
}

static void
flush_hook (SfuLoop *loop, gpointer data)
{
  UdpLoop *ul = data;

  if (ul->n_queued > 0)
    flush_sends (ul);
  for (guint i = 0; i < ul->udp->n_loops; i++) {
    if (ul->wake[i]) {
      ul->wake[i] = FALSE;
      sfu_loop_wake (sfu_loop_group_get_loop (ul->udp->group, i));
    }
  }
}

static void
on_readable (SfuLoop *loop, guint32 events, gpointer data)
{
  UdpLoop *ul = data;

  /* A few batches per wakeup, then let the other fds and the flush have their turn; the
   * level-triggered watch brings us back. */
  for (int round = 0; round < 4; round++) {
    int n;

    for (guint i = 0; i < SFU_UDP_RECV_BATCH; i++) {
      struct msghdr *h = &ul->rmsg[i].msg_hdr;
      memset (h, 0, sizeof *h);
      h->msg_iov = &ul->riov[i];
      h->msg_iovlen = 1;
      h->msg_name = &ul->rfrom[i];
      h->msg_namelen = sizeof ul->rfrom[i];
    }
    n = recvmmsg (ul->fd, ul->rmsg, SFU_UDP_RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return; /* EAGAIN, or an error the next read will report again */
    ul->stats.recv_batches++;
    for (int i = 0; i < n; i++) {
      SfuUdpPacket pkt = { ul->rbuf[i], ul->rmsg[i].msg_len, { 0 }, FALSE };

      if (ul->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
        ul->stats.too_big++;
        continue;
      }
      if (!sfu_address_from_sockaddr (&ul->rfrom[i], ul->rmsg[i].msg_hdr.msg_namelen,
                                      &pkt.from))
        continue;
      ul->stats.received++;
      ul->stats.received_bytes += pkt.len;
      ul->udp->func (ul->udp, loop, &pkt, ul->udp->user_data);
    }
    if (n < SFU_UDP_RECV_BATCH)
      return;
  }
}

typedef struct {
  UdpLoop *ul;
  GError *error;
} StartCall;

static void
start_on_loop (gpointer data)
{
  StartCall *call = data;
  UdpLoop *ul = call->ul;

  ul->watch = sfu_loop_watch_fd (ul->loop, ul->fd, EPOLLIN, on_readable, ul, &call->error);
  if (ul->watch) {
    sfu_loop_add_hook (ul->loop, SFU_LOOP_HOOK_DRAIN, drain_hook, ul);
    sfu_loop_add_hook (ul->loop, SFU_LOOP_HOOK_FLUSH, flush_hook, ul);
  }
}

gboolean
sfu_udp_start (SfuUdp *udp, SfuUdpReceiveFunc func, gpointer user_data, GError **error)
{
  g_return_val_if_fail (udp != NULL && func != NULL, FALSE);
  g_return_val_if_fail (!udp->started, FALSE);
  g_return_val_if_fail (sfu_loop_get_current () == NULL, FALSE);

  udp->func = func;
  udp->user_data = user_data;
  for (guint i = 1; i < udp->n_loops; i++) {
    udp->loops[i]->fd = bind_socket (udp, error);
    if (udp->loops[i]->fd < 0)
      return FALSE;
  }
  udp->started = TRUE;
  for (guint i = 0; i < udp->n_loops; i++) {
    StartCall call = { udp->loops[i], NULL };
    sfu_loop_invoke_sync (udp->loops[i]->loop, start_on_loop, &call);
    if (call.error) {
      g_propagate_error (error, call.error);
      return FALSE;
    }
  }
  return TRUE;
}

static void
stop_on_loop (gpointer data)
{
  UdpLoop *ul = data;

  if (ul->watch) {
    sfu_loop_watch_remove (ul->watch);
    sfu_loop_remove_hook (ul->loop, drain_hook, ul);
    sfu_loop_remove_hook (ul->loop, flush_hook, ul);
    ul->watch = NULL;
  }
}

void
sfu_udp_free (SfuUdp *udp)
{
  if (udp == NULL)
    return;
  g_return_if_fail (sfu_loop_get_current () == NULL);
  for (guint i = 0; i < udp->n_loops; i++)
    sfu_loop_invoke_sync (udp->loops[i]->loop, stop_on_loop, udp->loops[i]);
  for (guint i = 0; i < udp->n_loops; i++)
    udp_loop_free (udp->loops[i]);
  g_free (udp->loops);
  g_free (udp);
}

typedef struct {
  UdpLoop *ul;
  SfuUdpStats *sum;
} StatsCall;

static void
stats_on_loop (gpointer data)
{
  StatsCall *call = data;
  const SfuUdpStats *s = &call->ul->stats;
  SfuUdpStats *d = call->sum;

  d->received += s->received;
  d->received_bytes += s->received_bytes;
  d->sent += s->sent;
  d->sent_bytes += s->sent_bytes;
  d->send_dropped += s->send_dropped;
  d->too_big += s->too_big;
  d->handed_off += s->handed_off;
  d->hand_off_dropped += s->hand_off_dropped;
  d->recv_batches += s->recv_batches;
  d->send_batches += s->send_batches;
  d->coalesced_entries += s->coalesced_entries;
}

void
sfu_udp_get_stats (SfuUdp *udp, SfuUdpStats *out)
{
  g_return_if_fail (udp != NULL && out != NULL);
  memset (out, 0, sizeof *out);
  for (guint i = 0; i < udp->n_loops; i++) {
    StatsCall call = { udp->loops[i], out };
    sfu_loop_invoke_sync (udp->loops[i]->loop, stats_on_loop, &call);
  }
}
