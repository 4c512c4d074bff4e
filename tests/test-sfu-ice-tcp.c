/* SPDX-License-Identifier: MIT */
/* Passive ICE-TCP over real connections on 127.0.0.1: checks and media in RFC 4571 frames
 * (split anywhere, several per write), the limits (oversize length, pending timeout and
 * eviction, connection cap), peer close, and the deframer on its own. */
#include "sfu-test-peer.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  SfuLoopGroup *group;
  SfuIceAgent *agent;
  guint16 port;
} Fixture;

static void
setup_with (Fixture *f, const SfuTcpLimits *limits)
{
  g_autoptr (GError) error = NULL;
  SfuIceConfig config;

  f->group = sfu_loop_group_new (2, &error);
  g_assert_no_error (error);
  sfu_ice_config_init (&config);
  config.bind_host = "127.0.0.1";
  config.port = 0;
  if (limits)
    config.tcp_limits = *limits;
  f->agent = sfu_ice_agent_new (f->group, &config, &error);
  g_assert_no_error (error);
  g_assert_true (sfu_ice_agent_start (f->agent, &error));
  f->port = sfu_ice_agent_get_port (f->agent);
  g_assert_cmpuint (sfu_tcp_get_port (sfu_ice_agent_get_tcp (f->agent)), ==, f->port);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  setup_with (f, NULL);
}

static void
fixture_setup_short_pending (Fixture *f, gconstpointer data)
{
  SfuTcpLimits limits;

  sfu_tcp_limits_init (&limits);
  limits.pending_timeout_us = G_USEC_PER_SEC / 3;
  setup_with (f, &limits);
}

static void
fixture_setup_tight (Fixture *f, gconstpointer data)
{
  SfuTcpLimits limits;

  sfu_tcp_limits_init (&limits);
  limits.max_pending = 2;
  limits.pending_timeout_us = 10 * G_USEC_PER_SEC;
  limits.max_connections = 3;
  setup_with (f, &limits);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  sfu_ice_agent_free (f->agent);
  sfu_loop_group_free (f->group);
}

static SfuTcpStats
tcp_stats (Fixture *f)
{
  SfuTcpStats s;
  sfu_tcp_get_stats (sfu_ice_agent_get_tcp (f->agent), &s);
  return s;
}

/* Sends a framed check, split into @pieces writes; returns the reply's type. */
static guint16
tcp_check (int fd, const char *ufrag, const char *pwd, gboolean nominate, int pieces,
           SfuStunMessage *msg, guint8 *buf)
{
  guint8 req[512], framed[514], txid[SFU_STUN_TXID_SIZE];
  gsize n = test_build_check (req, sizeof req, ufrag, pwd, nominate, txid), len, off = 0;

  framed[0] = (guint8) (n >> 8);
  framed[1] = (guint8) n;
  memcpy (framed + 2, req, n);
  for (int i = 0; i < pieces; i++) {
    gsize end = i == pieces - 1 ? n + 2 : (n + 2) * (gsize) (i + 1) / (gsize) pieces;
    if (end > off)
      test_tcp_send_raw (fd, framed + off, end - off);
    off = end;
    g_usleep (2000);
  }
  if (!test_tcp_recv_frame (fd, buf, 2048, &len, 10000))
    return 0;
  return test_parse_reply (buf, len, txid, msg);
}

static void
test_tcp_check_and_media (Fixture *f, gconstpointer data)
{
  SfuStunMessage msg;
  SfuAddress mapped, sel;
  guint8 buf[2048], pkt[64];
  gboolean is_tcp, nominated;

  for (guint l = 0; l < 2; l++) {
    TestSession *ts = test_session_new (f->agent, sfu_loop_group_get_loop (f->group, l),
                                        SERVER_UFRAG, SERVER_PWD, PEER_UFRAG, NULL);
    int fd = test_tcp_connect (f->port);
    TestPacket *p;
    gsize n, len;

    /* Media before the check is dropped: the connection is not validated yet. */
    test_tcp_send_frame (fd, pkt, test_fake_dtls (pkt));
    /* Bad password: 401 over the same connection, still not validated. */
    g_assert_cmphex (tcp_check (fd, SERVER_UFRAG, "wrong+password/0123456789", TRUE, 1, &msg,
                                buf),
                     ==, SFU_STUN_BINDING_ERROR);
    g_assert_cmpuint (msg.error_code, ==, 401);
    g_assert_false (test_session_get_selected (ts, NULL, NULL, NULL));
    g_assert_cmpint (g_async_queue_length (ts->packets), ==, 0);

    /* A good check, written in 7 pieces (partial frames). */
    g_assert_cmphex (tcp_check (fd, SERVER_UFRAG, SERVER_PWD, TRUE, 7, &msg, buf), ==,
                     SFU_STUN_BINDING_SUCCESS);
    g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) SERVER_PWD,
                                             strlen (SERVER_PWD)));
    g_assert_true (sfu_stun_message_get_xor_mapped_address (&msg, &mapped));
    g_assert_true (test_session_get_selected (ts, &sel, &is_tcp, &nominated));
    g_assert_true (is_tcp && nominated);
    g_assert_true (sfu_address_equal (&sel, &mapped));

    /* Two frames in one write: DTLS then RTP. */
    {
      guint8 two[128];
      gsize a = test_fake_dtls (two + 2), b;
      two[0] = 0, two[1] = (guint8) a;
      b = test_fake_rtp (two + 2 + a + 2, 9);
      two[2 + a] = 0, two[2 + a + 1] = (guint8) b;
      test_tcp_send_raw (fd, two, 4 + a + b);
    }
    p = g_async_queue_timeout_pop (ts->packets, 10 * G_USEC_PER_SEC);
    g_assert_nonnull (p);
    g_assert_cmpint (p->kind, ==, SFU_PACKET_DTLS);
    g_assert_true (p->on_owner_thread);
    g_free (p);
    p = g_async_queue_timeout_pop (ts->packets, 10 * G_USEC_PER_SEC);
    g_assert_nonnull (p);
    g_assert_cmpint (p->kind, ==, SFU_PACKET_RTP);
    g_assert_cmpuint (p->data[3], ==, 9);
    g_free (p);

    /* The session's sends come back framed. */
    n = test_fake_rtp (pkt, 77);
    g_assert_true (test_session_send (ts, pkt, n));
    g_assert_true (test_tcp_recv_frame (fd, buf, sizeof buf, &len, 10000));
    g_assert_cmpmem (buf, len, pkt, n);

    /* Peer close: the path goes, nothing to send on. */
    close (fd);
    while (test_session_get_selected (ts, NULL, NULL, NULL))
      g_usleep (5000);
    g_assert_false (test_session_send (ts, pkt, n));
    test_session_free (ts);
  }
}

static void
test_tcp_oversize (Fixture *f, gconstpointer data)
{
  int fd = test_tcp_connect (f->port);
  guint8 hdr[2] = { 0xff, 0xff };

  test_tcp_send_raw (fd, hdr, 2);
  g_assert_true (test_tcp_wait_closed (fd));
  g_assert_cmpuint (tcp_stats (f).oversize, ==, 1);
  close (fd);
}

static void
test_tcp_session_free_closes (Fixture *f, gconstpointer data)
{
  TestSession *ts = test_session_new (f->agent, sfu_loop_group_get_loop (f->group, 1),
                                      SERVER_UFRAG, SERVER_PWD, NULL, NULL);
  int fd = test_tcp_connect (f->port);
  SfuStunMessage msg;
  guint8 buf[2048];

  g_assert_cmphex (tcp_check (fd, SERVER_UFRAG, SERVER_PWD, FALSE, 1, &msg, buf), ==,
                   SFU_STUN_BINDING_SUCCESS);
  test_session_free (ts);
  g_assert_true (test_tcp_wait_closed (fd));
  close (fd);
}

static void
test_tcp_pending_timeout (Fixture *f, gconstpointer data)
{
  int a, b;

  /* A connection that never sends a check is closed after the pending timeout. */
  a = test_tcp_connect (f->port);
  g_assert_true (test_tcp_wait_closed (a));
  g_assert_cmpuint (tcp_stats (f).timed_out, >=, 1);
  close (a);

  /* A slow partial frame does not hold the slot either. */
  b = test_tcp_connect (f->port);
  test_tcp_send_raw (b, (const guint8 *) "\x00\x40\x00\x01", 4);
  g_assert_true (test_tcp_wait_closed (b));
  g_assert_cmpuint (tcp_stats (f).timed_out, >=, 2);
  close (b);
}

static gboolean
two_closed_by_limits (gpointer data)
{
  SfuTcpStats s = tcp_stats (data);
  return s.refused + s.evicted >= 2;
}

static void
test_tcp_pending_limits (Fixture *f, gconstpointer data)
{
  int fds[5], closed = 0;

  /* At most 2 pending per loop and 3 connections in all: whatever the kernel's spread over
   * the two listeners, of 5 silent connections at least 2 are closed at once (refused or
   * evicted), long before the 10 s pending timeout. */
  for (int i = 0; i < 5; i++)
    fds[i] = test_tcp_connect (f->port);
  g_assert_true (test_wait_until (two_closed_by_limits, f));
  for (int i = 0; i < 5; i++) {
    guint8 b;
    struct pollfd pfd = { fds[i], POLLIN, 0 };
    if (poll (&pfd, 1, 1000) == 1 && recv (fds[i], &b, 1, MSG_DONTWAIT) <= 0)
      closed++;
    close (fds[i]);
  }
  g_assert_cmpint (closed, >=, 2);
  g_assert_cmpuint (tcp_stats (f).timed_out, ==, 0);
}

static void
test_deframer (void)
{
  SfuTcpDeframer d;
  guint8 *frame, *space;
  gsize len, cap;
  static const guint8 stream[] = { 0, 3, 'a', 'b', 'c', 0, 0, 0, 1, 'z', 0x00, 0x05 };

  sfu_tcp_deframer_init (&d, 5);
  /* Byte by byte: frames appear exactly when complete. */
  for (gsize i = 0; i < 5; i++) {
    g_assert_cmpint (sfu_tcp_deframer_next (&d, &frame, &len), ==, SFU_TCP_FRAME_NEED_MORE);
    space = sfu_tcp_deframer_get_space (&d, &cap);
    g_assert_cmpuint (cap, >=, 1);
    *space = stream[i];
    sfu_tcp_deframer_commit (&d, 1);
  }
  g_assert_cmpint (sfu_tcp_deframer_next (&d, &frame, &len), ==, SFU_TCP_FRAME_OK);
  g_assert_cmpmem (frame, len, "abc", 3);
  sfu_tcp_deframer_consume (&d);
  /* The rest in one go: an empty frame, "z", then a too-big length (5 is the max: OK) */
  space = sfu_tcp_deframer_get_space (&d, &cap);
  memcpy (space, stream + 5, 7);
  sfu_tcp_deframer_commit (&d, 7);
  g_assert_cmpint (sfu_tcp_deframer_next (&d, &frame, &len), ==, SFU_TCP_FRAME_OK);
  g_assert_cmpuint (len, ==, 0);
  sfu_tcp_deframer_consume (&d);
  g_assert_cmpint (sfu_tcp_deframer_next (&d, &frame, &len), ==, SFU_TCP_FRAME_OK);
  g_assert_cmpmem (frame, len, "z", 1);
  sfu_tcp_deframer_consume (&d);
  g_assert_cmpint (sfu_tcp_deframer_next (&d, &frame, &len), ==, SFU_TCP_FRAME_NEED_MORE);
  /* A length of max + 1 is refused at once, before its bytes arrive. */
  sfu_tcp_deframer_clear (&d);
  sfu_tcp_deframer_init (&d, 4);
  space = sfu_tcp_deframer_get_space (&d, &cap);
  g_assert_cmpuint (cap, ==, 6);
  space[0] = 0, space[1] = 5;
  sfu_tcp_deframer_commit (&d, 2);
  g_assert_cmpint (sfu_tcp_deframer_next (&d, &frame, &len), ==, SFU_TCP_FRAME_TOO_BIG);
  sfu_tcp_deframer_clear (&d);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sfu-ice-tcp/deframer", test_deframer);
#define ADD(path, fn, setup) g_test_add (path, Fixture, NULL, setup, fn, fixture_teardown)
  ADD ("/sfu-ice-tcp/check-and-media", test_tcp_check_and_media, fixture_setup);
  ADD ("/sfu-ice-tcp/oversize", test_tcp_oversize, fixture_setup);
  ADD ("/sfu-ice-tcp/session-free-closes", test_tcp_session_free_closes, fixture_setup);
  ADD ("/sfu-ice-tcp/pending-timeout", test_tcp_pending_timeout, fixture_setup_short_pending);
  ADD ("/sfu-ice-tcp/pending-limits", test_tcp_pending_limits, fixture_setup_tight);
#undef ADD
  return g_test_run ();
}
