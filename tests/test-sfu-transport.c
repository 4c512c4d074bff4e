/* SPDX-License-Identifier: MIT */
/* The SFU transport over real sockets on 127.0.0.1: worker loops (invoke, timers, order),
 * the shared UDP port with the ICE-lite table (good and bad credentials, address
 * validation, delivery upward by kind and on the owning loop, nomination, consent timeout),
 * with two loops so that packets read by one loop for a session on the other are handed
 * over. ICE-TCP is in test-sfu-ice-tcp.c, candidates in test-sfu-candidates.c. */
#include "sfu-test-peer.h"

#include <string.h>
#include <unistd.h>

/* ---- loops ---- */

typedef struct {
  SfuLoop *loop;
  gint ran_on_loop; /* atomic */
  GThread *thread;
} RunCheck;

static void
record_thread (gpointer data)
{
  RunCheck *c = data;
  if (sfu_loop_get_current () == c->loop)
    g_atomic_int_inc (&c->ran_on_loop);
  c->thread = g_thread_self ();
}

static void
test_loop_invoke (void)
{
  g_autoptr (GError) error = NULL;
  SfuLoopGroup *group = sfu_loop_group_new (3, &error);
  RunCheck checks[3] = { 0 };

  g_assert_no_error (error);
  g_assert_cmpuint (sfu_loop_group_get_n_loops (group), ==, 3);
  g_assert_null (sfu_loop_get_current ());
  for (guint i = 0; i < 3; i++) {
    checks[i].loop = sfu_loop_group_get_loop (group, i);
    g_assert_cmpuint (sfu_loop_get_index (checks[i].loop), ==, i);
    sfu_loop_invoke_sync (checks[i].loop, record_thread, &checks[i]);
    g_assert_cmpint (checks[i].ran_on_loop, ==, 1);
    g_assert_true (checks[i].thread != g_thread_self ());
  }
  g_assert_true (checks[0].thread != checks[1].thread && checks[1].thread != checks[2].thread);
  sfu_loop_group_free (group);
}

typedef struct {
  GMutex lock;
  GString *order;
  gint done;
} OrderLog;

static void
append_char (gpointer data)
{
  char **pair = data;
  OrderLog *log = (OrderLog *) pair[0];
  g_mutex_lock (&log->lock);
  g_string_append (log->order, pair[1]);
  g_mutex_unlock (&log->lock);
}

static gboolean
log_has_len (gpointer data)
{
  OrderLog *log = data;
  gboolean r;
  g_mutex_lock (&log->lock);
  r = log->order->len >= 5;
  g_mutex_unlock (&log->lock);
  return r;
}

static void
test_loop_invoke_order (void)
{
  SfuLoopGroup *group = sfu_loop_group_new (1, NULL);
  OrderLog log = { 0 };
  static const char *letters[] = { "a", "b", "c", "d", "e" };
  char *pairs[5][2];

  g_mutex_init (&log.lock);
  log.order = g_string_new (NULL);
  for (int i = 0; i < 5; i++) {
    pairs[i][0] = (char *) &log;
    pairs[i][1] = (char *) letters[i];
    sfu_loop_invoke (sfu_loop_group_get_loop (group, 0), append_char, pairs[i], NULL);
  }
  g_assert_true (test_wait_until (log_has_len, &log));
  g_assert_cmpstr (log.order->str, ==, "abcde");
  sfu_loop_group_free (group);
  g_string_free (log.order, TRUE);
  g_mutex_clear (&log.lock);
}

typedef struct {
  SfuLoop *loop;
  SfuLoopTimer *t[4];
  GString *fired;
  gint done; /* atomic */
} TimerTest;

static void
on_timer (SfuLoop *loop, SfuLoopTimer *timer, gpointer data)
{
  TimerTest *tt = data;
  for (int i = 0; i < 4; i++)
    if (tt->t[i] == timer)
      g_string_append_c (tt->fired, (char) ('0' + i));
  /* Timer 2 frees itself from its own callback. */
  if (timer == tt->t[2]) {
    sfu_loop_timer_free (timer);
    tt->t[2] = NULL;
  }
  if (tt->fired->len == 3)
    g_atomic_int_set (&tt->done, 1);
}

static void
timers_setup (gpointer data)
{
  TimerTest *tt = data;
  gint64 now = sfu_loop_now (tt->loop);

  for (int i = 0; i < 4; i++)
    tt->t[i] = sfu_loop_timer_new (tt->loop, on_timer, tt);
  /* Deadlines out of order; timer 1 is stopped, timer 3 re-armed to fire first. */
  sfu_loop_timer_start (tt->t[0], now + 60000);
  sfu_loop_timer_start (tt->t[1], now + 10000);
  sfu_loop_timer_start (tt->t[2], now + 40000);
  sfu_loop_timer_start (tt->t[3], now + 90000);
  sfu_loop_timer_stop (tt->t[1]);
  sfu_loop_timer_start (tt->t[3], now + 20000);
  g_assert_false (sfu_loop_timer_is_armed (tt->t[1]));
}

static void
timers_teardown (gpointer data)
{
  TimerTest *tt = data;
  for (int i = 0; i < 4; i++)
    sfu_loop_timer_free (tt->t[i]);
}

static gboolean
timers_done (gpointer data)
{
  return g_atomic_int_get (&((TimerTest *) data)->done);
}

static void
test_loop_timers (void)
{
  SfuLoopGroup *group = sfu_loop_group_new (1, NULL);
  TimerTest tt = { sfu_loop_group_get_loop (group, 0) };

  tt.fired = g_string_new (NULL);
  sfu_loop_invoke_sync (tt.loop, timers_setup, &tt);
  g_assert_true (test_wait_until (timers_done, &tt));
  sfu_loop_invoke_sync (tt.loop, timers_teardown, &tt);
  /* By deadline: 3 (re-armed earliest), 2, 0; 1 was stopped. */
  g_assert_cmpstr (tt.fired->str, ==, "320");
  g_string_free (tt.fired, TRUE);
  sfu_loop_group_free (group);
}

/* ---- UDP + ICE ---- */

typedef struct {
  SfuLoopGroup *group;
  SfuIceAgent *agent;
  guint16 port;
} Fixture;

static void
fixture_setup_with (Fixture *f, gint64 consent_us)
{
  g_autoptr (GError) error = NULL;
  SfuIceConfig config;

  f->group = sfu_loop_group_new (2, &error);
  g_assert_no_error (error);
  sfu_ice_config_init (&config);
  config.bind_host = "127.0.0.1";
  config.port = 0;
  config.consent_timeout_us = consent_us;
  f->agent = sfu_ice_agent_new (f->group, &config, &error);
  g_assert_no_error (error);
  g_assert_true (sfu_ice_agent_start (f->agent, &error));
  g_assert_no_error (error);
  f->port = sfu_ice_agent_get_port (f->agent);
  g_assert_cmpuint (f->port, >, 0);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  fixture_setup_with (f, 30 * G_USEC_PER_SEC);
}

static void
fixture_setup_short_consent (Fixture *f, gconstpointer data)
{
  fixture_setup_with (f, G_USEC_PER_SEC / 2);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  sfu_ice_agent_free (f->agent);
  sfu_loop_group_free (f->group);
}

static SfuIceStats
stats (Fixture *f)
{
  SfuIceStats s;
  sfu_ice_agent_get_stats (f->agent, &s);
  return s;
}

/* Sends a check from @fd and returns the reply's type (0: none within 5 s). */
static guint16
check (Fixture *f, int fd, const char *ufrag, const char *pwd, gboolean nominate,
       SfuStunMessage *msg, guint8 *buf)
{
  guint8 req[512], txid[SFU_STUN_TXID_SIZE];
  gsize n = test_build_check (req, sizeof req, ufrag, pwd, nominate, txid), len;

  g_assert_cmpuint (n, >, 0);
  test_udp_send (fd, f->port, req, n);
  /* Replies to earlier requests may still be queued: skip those. */
  while (test_recv (fd, buf, 2048, &len, 5000)) {
    guint16 type = test_parse_reply (buf, len, txid, msg);
    if (type)
      return type;
  }
  return 0;
}

static void
test_stun_good (Fixture *f, gconstpointer data)
{
  SfuAddress me, mapped, sel;
  SfuStunMessage msg;
  guint8 buf[2048];
  int fd = test_udp_socket (&me);
  gboolean nominated, is_tcp;

  for (guint l = 0; l < 2; l++) {
    TestSession *ts = test_session_new (f->agent, sfu_loop_group_get_loop (f->group, l),
                                        SERVER_UFRAG, SERVER_PWD, PEER_UFRAG, NULL);
    g_assert_nonnull (ts);
    g_assert_false (test_session_get_selected (ts, NULL, NULL, NULL));
    g_assert_cmphex (check (f, fd, SERVER_UFRAG, SERVER_PWD, FALSE, &msg, buf), ==,
                     SFU_STUN_BINDING_SUCCESS);
    g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) SERVER_PWD,
                                             strlen (SERVER_PWD)));
    g_assert_true (sfu_stun_check_fingerprint (&msg));
    g_assert_true (sfu_stun_message_get_xor_mapped_address (&msg, &mapped));
    g_assert_true (sfu_address_equal (&mapped, &me));
    /* Validated, not yet nominated; then USE-CANDIDATE nominates. */
    g_assert_true (test_session_get_selected (ts, &sel, &is_tcp, &nominated));
    g_assert_true (sfu_address_equal (&sel, &me));
    g_assert_false (is_tcp);
    g_assert_false (nominated);
    g_assert_cmphex (check (f, fd, SERVER_UFRAG, SERVER_PWD, TRUE, &msg, buf), ==,
                     SFU_STUN_BINDING_SUCCESS);
    g_assert_true (test_session_get_selected (ts, &sel, NULL, &nominated));
    g_assert_true (nominated);
    g_assert_cmpint (g_atomic_int_get (&ts->selected), >=, 1);
    test_session_free (ts);
  }
  g_assert_cmpuint (stats (f).stun_success, ==, 4);
  close (fd);
}

static void
test_stun_bad (Fixture *f, gconstpointer data)
{
  TestSession *ts = test_session_new (f->agent, sfu_loop_group_get_loop (f->group, 1),
                                      SERVER_UFRAG, SERVER_PWD, PEER_UFRAG, NULL);
  SfuStunMessage msg;
  guint8 buf[2048], txid[SFU_STUN_TXID_SIZE], req[512];
  int fd = test_udp_socket (NULL);
  gsize n;

  /* Wrong password: 401, no MESSAGE-INTEGRITY, nothing validated. */
  g_assert_cmphex (check (f, fd, SERVER_UFRAG, "wrong+password/0123456789", TRUE, &msg, buf), ==,
                   SFU_STUN_BINDING_ERROR);
  g_assert_cmpuint (msg.error_code, ==, 401);
  g_assert_cmpuint (msg.integrity_offset, ==, 0);
  g_assert_false (test_session_get_selected (ts, NULL, NULL, NULL));

  /* Unknown ufrag and garbage get no answer: the good check after them is the first reply
   * the socket sees (same socket, same order). */
  n = test_build_check (req, sizeof req, "nobodyUfrag", SERVER_PWD, TRUE, txid);
  test_udp_send (fd, f->port, req, n);
  req[0] = 0x01; /* not a request any more */
  test_udp_send (fd, f->port, req, n);
  g_assert_cmphex (check (f, fd, SERVER_UFRAG, SERVER_PWD, TRUE, &msg, buf), ==,
                   SFU_STUN_BINDING_SUCCESS);
  g_assert_cmpuint (stats (f).stun_ignored, >=, 2);
  g_assert_cmpuint (stats (f).stun_error_replies, ==, 1);

  /* A second session cannot take the same ufrag. */
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (test_session_new (f->agent, sfu_loop_group_get_loop (f->group, 0),
                                     SERVER_UFRAG, SERVER_PWD, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  }
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (test_session_new (f->agent, sfu_loop_group_get_loop (f->group, 0), "a:b",
                                     SERVER_PWD, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  }
  test_session_free (ts);
  close (fd);
}

typedef struct {
  Fixture *f;
  guint64 unvalidated;
} StatWait;

static gboolean
unvalidated_reached (gpointer data)
{
  StatWait *w = data;
  return stats (w->f).unvalidated >= w->unvalidated;
}

static void
test_address_validation (Fixture *f, gconstpointer data)
{
  SfuStunMessage msg;
  guint8 buf[2048], pkt[64];
  int peer = test_udp_socket (NULL), other = test_udp_socket (NULL);
  StatWait w = { f, 0 };

  for (guint l = 0; l < 2; l++) {
    TestSession *ts = test_session_new (f->agent, sfu_loop_group_get_loop (f->group, l),
                                        SERVER_UFRAG, SERVER_PWD, PEER_UFRAG, NULL);
    TestPacket *p;
    gsize n, len;

    /* Before ICE: DTLS from the peer itself is dropped. */
    w.unvalidated = stats (f).unvalidated + 2;
    n = test_fake_dtls (pkt);
    test_udp_send (peer, f->port, pkt, n);
    test_udp_send (other, f->port, pkt, n);
    g_assert_true (test_wait_until (unvalidated_reached, &w));
    g_assert_cmpint (g_async_queue_length (ts->packets), ==, 0);

    g_assert_cmphex (check (f, peer, SERVER_UFRAG, SERVER_PWD, TRUE, &msg, buf), ==,
                     SFU_STUN_BINDING_SUCCESS);

    /* After ICE: another port still dropped, the validated one delivered, by kind. */
    w.unvalidated = stats (f).unvalidated + 1;
    test_udp_send (other, f->port, pkt, n);
    g_assert_true (test_wait_until (unvalidated_reached, &w));
    test_udp_send (peer, f->port, pkt, n);
    p = g_async_queue_timeout_pop (ts->packets, 10 * G_USEC_PER_SEC);
    g_assert_nonnull (p);
    g_assert_cmpint (p->kind, ==, SFU_PACKET_DTLS);
    g_assert_cmpmem (p->data, p->len, pkt, n);
    g_assert_true (p->on_owner_thread);
    g_free (p);

    n = test_fake_rtp (pkt, 7);
    test_udp_send (peer, f->port, pkt, n);
    p = g_async_queue_timeout_pop (ts->packets, 10 * G_USEC_PER_SEC);
    g_assert_nonnull (p);
    g_assert_cmpint (p->kind, ==, SFU_PACKET_RTP);
    g_assert_true (p->on_owner_thread);
    g_free (p);

    pkt[1] = 201; /* RTCP RR */
    test_udp_send (peer, f->port, pkt, 8);
    p = g_async_queue_timeout_pop (ts->packets, 10 * G_USEC_PER_SEC);
    g_assert_nonnull (p);
    g_assert_cmpint (p->kind, ==, SFU_PACKET_RTCP);
    g_free (p);
    g_assert_cmpint (g_async_queue_length (ts->packets), ==, 0);

    /* And the session sends back to the validated address. */
    g_assert_true (test_session_send (ts, (const guint8 *) "\x17\xfe\xfd payload", 12));
    g_assert_true (test_recv (peer, buf, sizeof buf, &len, 10000));
    g_assert_cmpmem (buf, len, "\x17\xfe\xfd payload", 12);

    test_session_free (ts);
    /* Freed: its address is forgotten. */
    w.unvalidated = stats (f).unvalidated + 1;
    test_udp_send (peer, f->port, pkt, n);
    g_assert_true (test_wait_until (unvalidated_reached, &w));
  }
  close (peer);
  close (other);
}

/* Many peers, each hashed by the kernel to one of the two sockets, sessions spread over both
 * loops: every packet reaches its session on the session's own thread. */
static void
test_many_peers (Fixture *f, gconstpointer data)
{
  enum { N = 12 };
  TestSession *ts[N];
  int fds[N];
  SfuStunMessage msg;
  guint8 buf[2048], pkt[64];

  for (int i = 0; i < N; i++) {
    g_autofree char *ufrag = g_strdup_printf ("ufrag%02d", i);
    ts[i] = test_session_new (f->agent, sfu_loop_group_get_loop (f->group, i % 2), ufrag,
                              SERVER_PWD, NULL, NULL);
    fds[i] = test_udp_socket (NULL);
    g_assert_cmphex (check (f, fds[i], ufrag, SERVER_PWD, TRUE, &msg, buf), ==,
                     SFU_STUN_BINDING_SUCCESS);
  }
  for (int round = 0; round < 5; round++)
    for (int i = 0; i < N; i++)
      test_udp_send (fds[i], f->port, pkt, test_fake_rtp (pkt, (guint16) (i * 100 + round)));
  for (int i = 0; i < N; i++) {
    for (int round = 0; round < 5; round++) {
      TestPacket *p = g_async_queue_timeout_pop (ts[i]->packets, 10 * G_USEC_PER_SEC);
      g_assert_nonnull (p);
      g_assert_true (p->on_owner_thread);
      g_assert_cmpuint ((guint) p->data[2] << 8 | p->data[3], ==, (guint) (i * 100 + round));
      g_free (p);
    }
    test_session_free (ts[i]);
    close (fds[i]);
  }
}

static gboolean
closed_once (gpointer data)
{
  return g_atomic_int_get (&((TestSession *) data)->closed) > 0;
}

static void
test_consent_timeout (Fixture *f, gconstpointer data)
{
  SfuStunMessage msg;
  guint8 buf[2048], pkt[64];
  int peer = test_udp_socket (NULL);
  TestSession *never = test_session_new (f->agent, sfu_loop_group_get_loop (f->group, 0),
                                         "neverUfrag", SERVER_PWD, NULL, NULL);
  TestSession *ts = test_session_new (f->agent, sfu_loop_group_get_loop (f->group, 1),
                                      SERVER_UFRAG, SERVER_PWD, PEER_UFRAG, NULL);
  StatWait w = { f, 0 };
  gsize n;

  ts->free_on_close = TRUE;
  g_assert_cmphex (check (f, peer, SERVER_UFRAG, SERVER_PWD, TRUE, &msg, buf), ==,
                   SFU_STUN_BINDING_SUCCESS);
  /* No more checks: consent lapses after 0.5 s and the session is closed (and here freed
   * from its closed callback). A session that never got a check closes too. */
  g_assert_true (test_wait_until (closed_once, ts));
  g_assert_true (test_wait_until (closed_once, never));
  g_assert_cmpint (g_atomic_int_get (&ts->closed), ==, 1);
  g_assert_null (ts->session);
  g_assert_true (sfu_ice_session_is_closed (never->session));
  g_assert_cmpuint (stats (f).sessions_closed, ==, 2);

  /* Its address no longer passes. */
  w.unvalidated = stats (f).unvalidated + 1;
  n = test_fake_dtls (pkt);
  test_udp_send (peer, f->port, pkt, n);
  g_assert_true (test_wait_until (unvalidated_reached, &w));
  g_assert_cmpint (g_async_queue_length (ts->packets), ==, 0);

  test_session_free (ts);
  test_session_free (never);
  close (peer);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sfu-transport/loop/invoke", test_loop_invoke);
  g_test_add_func ("/sfu-transport/loop/invoke-order", test_loop_invoke_order);
  g_test_add_func ("/sfu-transport/loop/timers", test_loop_timers);
#define ADD(path, fn, setup) g_test_add (path, Fixture, NULL, setup, fn, fixture_teardown)
  ADD ("/sfu-transport/udp/stun-good", test_stun_good, fixture_setup);
  ADD ("/sfu-transport/udp/stun-bad", test_stun_bad, fixture_setup);
  ADD ("/sfu-transport/udp/address-validation", test_address_validation, fixture_setup);
  ADD ("/sfu-transport/udp/many-peers", test_many_peers, fixture_setup);
  ADD ("/sfu-transport/udp/consent-timeout", test_consent_timeout, fixture_setup_short_consent);
#undef ADD
  return g_test_run ();
}
