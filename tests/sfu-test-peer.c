/* SPDX-License-Identifier: MIT */
/* Test peer for the transport tests; see sfu-test-peer.h. */
#include "sfu-test-peer.h"
#include "sfu-udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void
on_packet (SfuIceSession *session, SfuPacketKind kind, guint8 *data, gsize len, gpointer ud)
{
  TestSession *ts = ud;
  TestPacket *p = g_new0 (TestPacket, 1);

  p->kind = kind;
  p->len = MIN (len, sizeof p->data);
  memcpy (p->data, data, p->len);
  p->on_owner_thread = sfu_loop_get_current () == ts->loop;
  g_async_queue_push (ts->packets, p);
}

static void
on_selected (SfuIceSession *session, gpointer ud)
{
  g_atomic_int_inc (&((TestSession *) ud)->selected);
}

static void
on_closed (SfuIceSession *session, gpointer ud)
{
  TestSession *ts = ud;

  g_assert_true (sfu_loop_get_current () == ts->loop);
  if (ts->free_on_close) {
    sfu_ice_session_free (ts->session);
    ts->session = NULL;
  }
  g_atomic_int_inc (&ts->closed);
}

typedef struct {
  TestSession *ts;
  const char *ufrag, *pwd, *remote;
  GError **error;
} NewCall;

static void
new_on_loop (gpointer data)
{
  static const SfuIceSessionCallbacks cb = { on_packet, on_selected, on_closed };
  NewCall *c = data;

  c->ts->session = sfu_ice_session_new (c->ts->agent, c->ts->loop, c->ufrag, c->pwd, c->remote,
                                        &cb, c->ts, c->error);
}

TestSession *
test_session_new (SfuIceAgent *agent, SfuLoop *loop, const char *ufrag, const char *pwd,
                  const char *remote_ufrag, GError **error)
{
  TestSession *ts = g_new0 (TestSession, 1);
  NewCall call = { ts, ufrag, pwd, remote_ufrag, error };

  ts->agent = agent;
  ts->loop = loop;
  ts->packets = g_async_queue_new_full (g_free);
  sfu_loop_invoke_sync (loop, new_on_loop, &call);
  if (ts->session == NULL) {
    g_async_queue_unref (ts->packets);
    g_free (ts);
    return NULL;
  }
  return ts;
}

static void
free_on_loop (gpointer data)
{
  TestSession *ts = data;
  g_clear_pointer (&ts->session, sfu_ice_session_free);
}

void
test_session_free (TestSession *ts)
{
  sfu_loop_invoke_sync (ts->loop, free_on_loop, ts);
  g_async_queue_unref (ts->packets);
  g_free (ts);
}

typedef struct {
  TestSession *ts;
  const guint8 *data;
  gsize len;
  gboolean ok;
  SfuAddress addr;
  gboolean is_tcp, nominated;
} SendCall;

static void
send_on_loop (gpointer data)
{
  SendCall *c = data;
  c->ok = c->ts->session && sfu_ice_session_send (c->ts->session, c->data, c->len);
}

gboolean
test_session_send (TestSession *ts, const guint8 *data, gsize len)
{
  SendCall c = { ts, data, len };
  sfu_loop_invoke_sync (ts->loop, send_on_loop, &c);
  return c.ok;
}

static void
selected_on_loop (gpointer data)
{
  SendCall *c = data;
  c->ok = c->ts->session &&
          sfu_ice_session_get_selected (c->ts->session, &c->addr, &c->is_tcp, &c->nominated);
}

gboolean
test_session_get_selected (TestSession *ts, SfuAddress *addr, gboolean *is_tcp,
                           gboolean *nominated)
{
  SendCall c = { ts };
  sfu_loop_invoke_sync (ts->loop, selected_on_loop, &c);
  if (addr)
    *addr = c.addr;
  if (is_tcp)
    *is_tcp = c.is_tcp;
  if (nominated)
    *nominated = c.nominated;
  return c.ok;
}

gboolean
test_wait_until (gboolean (*check) (gpointer), gpointer data)
{
  for (int i = 0; i < 2000; i++) {
    if (check (data))
      return TRUE;
    g_usleep (5000);
  }
  return check (data);
}

int
test_udp_socket (SfuAddress *local)
{
  struct sockaddr_in sin = { 0 };
  socklen_t len = sizeof sin;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  getsockname (fd, (struct sockaddr *) &sin, &len);
  if (local)
    g_assert_true (sfu_address_from_sockaddr (&sin, len, local));
  return fd;
}

void
test_udp_send (int fd, guint16 port, const guint8 *data, gsize len)
{
  struct sockaddr_in to = { 0 };

  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to.sin_port = htons (port);
  g_assert_cmpint (sendto (fd, data, len, 0, (struct sockaddr *) &to, sizeof to), ==, (gssize) len);
}

gboolean
test_recv (int fd, guint8 *buf, gsize cap, gsize *len, int timeout_ms)
{
  struct pollfd pfd = { fd, POLLIN, 0 };
  ssize_t n;

  if (poll (&pfd, 1, timeout_ms) <= 0)
    return FALSE;
  n = recv (fd, buf, cap, 0);
  if (n < 0)
    return FALSE;
  *len = (gsize) n;
  return TRUE;
}

gsize
test_build_check (guint8 *out, gsize cap, const char *server_ufrag, const char *pwd,
                  gboolean use_candidate, guint8 txid[SFU_STUN_TXID_SIZE])
{
  g_autofree char *username = g_strdup_printf ("%s:%s", server_ufrag, PEER_UFRAG);
  SfuStunRequestParams params = { username, 0x6e0001ff, SFU_STUN_ROLE_CONTROLLING,
                                  0x1122334455667788ull, use_candidate };

  for (int i = 0; i < SFU_STUN_TXID_SIZE; i++)
    txid[i] = (guint8) g_random_int_range (0, 256);
  return sfu_stun_build_binding_request (txid, &params, (const guint8 *) pwd, strlen (pwd), out,
                                         cap);
}

guint16
test_parse_reply (const guint8 *buf, gsize len, const guint8 txid[SFU_STUN_TXID_SIZE],
                  SfuStunMessage *msg)
{
  if (!sfu_stun_parse (buf, len, msg, NULL) || memcmp (msg->txid, txid, SFU_STUN_TXID_SIZE) != 0)
    return 0;
  return msg->type;
}

int
test_tcp_connect (guint16 port)
{
  struct sockaddr_in to = { 0 };
  int one = 1, fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to.sin_port = htons (port);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &to, sizeof to), ==, 0);
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void
test_tcp_send_raw (int fd, const guint8 *data, gsize len)
{
  g_assert_cmpint (send (fd, data, len, MSG_NOSIGNAL), ==, (gssize) len);
}

void
test_tcp_send_frame (int fd, const guint8 *data, gsize len)
{
  guint8 buf[70000];

  buf[0] = (guint8) (len >> 8);
  buf[1] = (guint8) len;
  memcpy (buf + 2, data, len);
  test_tcp_send_raw (fd, buf, len + 2);
}

static gboolean
read_exact (int fd, guint8 *buf, gsize n, int timeout_ms)
{
  gsize got = 0;

  while (got < n) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    ssize_t r;
    if (poll (&pfd, 1, timeout_ms) <= 0)
      return FALSE;
    r = recv (fd, buf + got, n - got, 0);
    if (r <= 0)
      return FALSE;
    got += (gsize) r;
  }
  return TRUE;
}

gboolean
test_tcp_recv_frame (int fd, guint8 *buf, gsize cap, gsize *len, int timeout_ms)
{
  guint8 hdr[2];

  if (!read_exact (fd, hdr, 2, timeout_ms))
    return FALSE;
  *len = (gsize) hdr[0] << 8 | hdr[1];
  g_assert_cmpuint (*len, <=, cap);
  return read_exact (fd, buf, *len, timeout_ms);
}

gboolean
test_tcp_wait_closed (int fd)
{
  guint8 buf[256];

  for (;;) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    ssize_t r;
    if (poll (&pfd, 1, 10000) <= 0)
      return FALSE;
    r = recv (fd, buf, sizeof buf, 0);
    if (r == 0 || (r < 0 && errno == ECONNRESET))
      return TRUE;
    if (r < 0)
      return FALSE;
  }
}

gsize
test_fake_dtls (guint8 *out)
{
  /* handshake record, DTLS 1.2, epoch 0, seq 0, length 4, then 4 bytes */
  static const guint8 rec[] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4 };
  memcpy (out, rec, sizeof rec);
  return sizeof rec;
}

gsize
test_fake_rtp (guint8 *out, guint16 seq)
{
  memset (out, 0, 32);
  out[0] = 0x80;
  out[1] = 96;
  out[2] = (guint8) (seq >> 8);
  out[3] = (guint8) seq;
  out[11] = 0x42;
  return 32;
}
