/* SPDX-License-Identifier: MIT */
/* Unit tests for sfu-udp-gso: how queued datagrams are grouped per destination and
 * coalesced into GSO entries, and, through a real UDP socket pair on 127.0.0.1, that the
 * kernel delivers a planned batch as the same datagrams in the same order per
 * destination. */
#include "sfu-udp-gso.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

#define N 256

typedef struct {
  SfuUdpGsoPlan plan;
  struct mmsghdr out[N];
  struct iovec out_iov[N];
  guint8 cmsg[N][SFU_UDP_GSO_CMSG_SPACE];
  guint segments[N], next[N], table[2 * N];
  /* the queue */
  struct sockaddr_storage to[N];
  socklen_t to_len[N];
  struct iovec iov[N];
  guint8 data[N][1500];
  guint n;
} Fixture;

static void
fixture_init (Fixture *f)
{
  memset (f, 0, sizeof *f);
  f->plan = (SfuUdpGsoPlan) { N, f->out, f->out_iov, f->cmsg, f->segments, f->next, f->table };
}

static void
queue (Fixture *f, guint16 port, gsize len)
{
  struct sockaddr_in *sin = (struct sockaddr_in *) &f->to[f->n];

  g_assert_cmpuint (f->n, <, N);
  sin->sin_family = AF_INET;
  sin->sin_port = htons (port);
  sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  f->to_len[f->n] = sizeof *sin;
  memset (f->data[f->n], (int) f->n, len);
  f->iov[f->n].iov_base = f->data[f->n];
  f->iov[f->n].iov_len = len;
  f->n++;
}

static guint16
entry_port (const Fixture *f, guint e)
{
  return ntohs (((const struct sockaddr_in *) f->out[e].msg_hdr.msg_name)->sin_port);
}

/* The GSO segment size of entry @e, 0 when it is a plain datagram. */
static guint
entry_segment (const Fixture *f, guint e)
{
  struct msghdr *h = (struct msghdr *) &f->out[e].msg_hdr;
  struct cmsghdr *c;

  if (h->msg_controllen == 0)
    return 0;
  c = CMSG_FIRSTHDR (h);
  g_assert_nonnull (c);
  g_assert_cmpint (c->cmsg_level, ==, SOL_UDP);
  return *(guint16 *) CMSG_DATA (c);
}

/* Which queued datagram the entry's k-th iovec is. */
static guint
entry_datagram (const Fixture *f, guint e, guint k)
{
  return (guint) (((guint8 (*)[1500]) f->out[e].msg_hdr.msg_iov[k].iov_base) - f->data);
}

/* Fan-out of a 3-packet frame to 4 receivers: packet-major order in, one entry per
 * receiver out, in the order receivers first appeared, each entry's datagrams in order. */
static void
test_fan_out (void)
{
  static const gsize sizes[] = { 1000, 1000, 480 };
  Fixture *f = g_new (Fixture, 1);
  guint n_out;

  fixture_init (f);
  for (guint p = 0; p < 3; p++)
    for (guint r = 0; r < 4; r++)
      queue (f, 5000 + r, sizes[p]);
  n_out = sfu_udp_gso_plan (&f->plan, f->to, f->to_len, f->iov, f->n, TRUE);
  g_assert_cmpuint (n_out, ==, 4);
  for (guint r = 0; r < 4; r++) {
    g_assert_cmpuint (entry_port (f, r), ==, 5000 + r);
    g_assert_cmpuint (f->segments[r], ==, 3);
    g_assert_cmpuint (f->out[r].msg_hdr.msg_iovlen, ==, 3);
    g_assert_cmpuint (entry_segment (f, r), ==, 1000);
    for (guint p = 0; p < 3; p++)
      g_assert_cmpuint (entry_datagram (f, r, p), ==, p * 4 + r);
  }
  g_free (f);
}

/* Where sizes break a run: a longer datagram after a shorter one, a shorter one closes
 * its entry, datagrams over SFU_UDP_GSO_MAX_SEGMENT and a disabled plan go alone, and an
 * entry holds at most SFU_UDP_GSO_MAX_SEGMENTS. */
static void
test_runs (void)
{
  Fixture *f = g_new (Fixture, 1);
  guint n_out, total = 0;

  fixture_init (f);
  queue (f, 1, 500);
  queue (f, 1, 1000);
  queue (f, 1, 1000);
  queue (f, 1, 300);
  queue (f, 1, 1000);
  n_out = sfu_udp_gso_plan (&f->plan, f->to, f->to_len, f->iov, f->n, TRUE);
  g_assert_cmpuint (n_out, ==, 3);
  g_assert_cmpuint (f->segments[0], ==, 1);
  g_assert_cmpuint (entry_segment (f, 0), ==, 0);
  g_assert_cmpuint (f->segments[1], ==, 3); /* 1000, 1000, 300 */
  g_assert_cmpuint (entry_segment (f, 1), ==, 1000);
  g_assert_cmpuint (f->segments[2], ==, 1);

  fixture_init (f);
  queue (f, 2, SFU_UDP_GSO_MAX_SEGMENT + 1);
  queue (f, 2, SFU_UDP_GSO_MAX_SEGMENT + 1);
  g_assert_cmpuint (sfu_udp_gso_plan (&f->plan, f->to, f->to_len, f->iov, f->n, TRUE), ==, 2);

  fixture_init (f);
  for (guint i = 0; i < 5; i++)
    queue (f, 3, 200);
  g_assert_cmpuint (sfu_udp_gso_plan (&f->plan, f->to, f->to_len, f->iov, f->n, FALSE), ==, 5);

  fixture_init (f);
  for (guint i = 0; i < SFU_UDP_GSO_MAX_SEGMENTS + 10; i++)
    queue (f, 4, 100);
  n_out = sfu_udp_gso_plan (&f->plan, f->to, f->to_len, f->iov, f->n, TRUE);
  g_assert_cmpuint (n_out, ==, 2);
  g_assert_cmpuint (f->segments[0], ==, SFU_UDP_GSO_MAX_SEGMENTS);
  for (guint e = 0; e < n_out; e++)
    total += f->segments[e];
  g_assert_cmpuint (total, ==, f->n);
  g_free (f);
}

static int
bound_socket (guint16 *port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sin;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &sin, &len), ==, 0);
  *port = ntohs (sin.sin_port);
  return fd;
}

/* Through the kernel: two receivers, interleaved datagrams of mixed sizes; each receiver
 * gets exactly its datagrams, whole, in queue order. */
static void
test_real_sockets (void)
{
  Fixture *f = g_new (Fixture, 1);
  guint16 ports[2];
  int rx[2], tx = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  guint n_out, sent = 0;

  rx[0] = bound_socket (&ports[0]);
  rx[1] = bound_socket (&ports[1]);
  fixture_init (f);
  for (guint i = 0; i < 40; i++)
    queue (f, ports[i % 2], i % 7 == 6 ? 333 : 1200);
  n_out = sfu_udp_gso_plan (&f->plan, f->to, f->to_len, f->iov, f->n, TRUE);
  g_assert_cmpuint (n_out, <, f->n);
  while (sent < n_out) {
    int r = sendmmsg (tx, f->out + sent, n_out - sent, 0);

    if (r < 0 && errno == EIO)
      g_test_skip ("this kernel refuses UDP_SEGMENT here");
    if (r < 0)
      break;
    sent += (guint) r;
  }
  if (!g_test_failed () && sent == n_out) {
    for (guint r = 0; r < 2; r++) {
      for (guint i = r; i < f->n; i += 2) {
        guint8 buf[2000];
        ssize_t got = recv (rx[r], buf, sizeof buf, MSG_DONTWAIT);

        g_assert_cmpint (got, ==, (gssize) f->iov[i].iov_len);
        g_assert_cmpmem (buf, got, f->data[i], f->iov[i].iov_len);
      }
      g_assert_cmpint (recv (rx[r], f->data[0], 1, MSG_DONTWAIT), <, 0);
    }
  }
  close (tx);
  close (rx[0]);
  close (rx[1]);
  g_free (f);
}

/* The SFU's socket may be a dual-stack IPv6 one ("::"), sending to IPv4 peers as mapped
 * addresses: the kernel takes UDP_SEGMENT on that path too. */
static void
test_real_sockets_mapped (void)
{
  Fixture *f = g_new (Fixture, 1);
  guint16 port;
  int rx = bound_socket (&port), zero = 0;
  int tx = socket (AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  guint n_out;
  int sent;

  g_assert_cmpint (tx, >=, 0);
  g_assert_cmpint (setsockopt (tx, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero), ==, 0);
  fixture_init (f);
  for (guint i = 0; i < 5; i++) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &f->to[i];

    memset (sin6, 0, sizeof *sin6);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons (port);
    g_assert_cmpint (inet_pton (AF_INET6, "::ffff:127.0.0.1", &sin6->sin6_addr), ==, 1);
    f->to_len[i] = sizeof *sin6;
    memset (f->data[i], (int) i + 1, 1000);
    f->iov[i] = (struct iovec) { f->data[i], i == 4 ? 400 : 1000 };
  }
  f->n = 5;
  n_out = sfu_udp_gso_plan (&f->plan, f->to, f->to_len, f->iov, f->n, TRUE);
  g_assert_cmpuint (n_out, ==, 1);
  sent = sendmmsg (tx, f->out, n_out, 0);
  g_assert_cmpint (sent, ==, 1);
  for (guint i = 0; i < 5; i++) {
    guint8 buf[2000];
    ssize_t got = recv (rx, buf, sizeof buf, MSG_DONTWAIT);

    g_assert_cmpint (got, ==, (gssize) f->iov[i].iov_len);
    g_assert_cmpmem (buf, got, f->data[i], f->iov[i].iov_len);
  }
  close (tx);
  close (rx);
  g_free (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sfu-udp-gso/fan-out", test_fan_out);
  g_test_add_func ("/sfu-udp-gso/runs", test_runs);
  g_test_add_func ("/sfu-udp-gso/real-sockets", test_real_sockets);
  g_test_add_func ("/sfu-udp-gso/real-sockets-mapped", test_real_sockets_mapped);
  return g_test_run ();
}
