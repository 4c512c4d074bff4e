/* SPDX-License-Identifier: MIT */
/* Unit tests for the per-track retransmission store (sfu-packet-store.c): sequence wrap and
 * aliasing, overwrite by newer packets in the slots and in the byte ring, oversize and
 * undersize packets, max age, SSRC changes, and far packets (strays against real jumps). */
#include "sfu-packet-store.h"

#include <string.h>

#define MS (G_GINT64_CONSTANT (1000))
#define SEC (G_USEC_PER_SEC)
#define SSRC_A 0x0a0a0a0au
#define SSRC_B 0x0b0b0b0bu

/* An RTP-sized packet whose bytes say which SSRC and sequence number it is. */
static void
make_packet (guint8 *buf, gsize len, guint32 ssrc, guint16 seq)
{
  memset (buf, seq & 0xff, len);
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  buf[8] = ssrc >> 24;
  buf[9] = (ssrc >> 16) & 0xff;
  buf[10] = (ssrc >> 8) & 0xff;
  buf[11] = ssrc & 0xff;
}

static void
put (SfuPacketStore *s, guint32 ssrc, guint16 seq, gsize len, gint64 now)
{
  guint8 buf[SFU_PACKET_STORE_MAX_PACKET + 16];

  g_assert_cmpuint (len, <=, sizeof buf);
  make_packet (buf, len, ssrc, seq);
  sfu_packet_store_put (s, ssrc, seq, buf, len, now);
}

/* Looks @seq of @ssrc up: absent when @want_len is 0, else that packet, whole. */
static void
assert_lookup (SfuPacketStore *s, guint32 ssrc, guint16 seq, gint64 now, gsize want_len)
{
  gsize len = 1;
  const guint8 *p = sfu_packet_store_lookup (s, ssrc, seq, now, &len);

  if (want_len == 0) {
    g_assert_null (p);
    g_assert_cmpuint (len, ==, 0);
    return;
  }
  g_assert_nonnull (p);
  g_assert_cmpuint (len, ==, want_len);
  g_assert_cmpuint (((guint) p[2] << 8) | p[3], ==, seq);
  g_assert_cmpuint (((guint32) p[8] << 24) | ((guint32) p[9] << 16) | ((guint32) p[10] << 8) |
                        p[11],
                    ==, ssrc);
  if (len > 12)
    g_assert_cmpuint (p[len - 1], ==, seq & 0xff);
}

static SfuPacketStore *
store_new (guint slots, gsize bytes)
{
  SfuPacketStoreConfig config;
  SfuPacketStore *s;

  sfu_packet_store_config_init (&config, TRUE);
  config.slots = slots;
  config.bytes = bytes;
  s = sfu_packet_store_new (&config);
  g_assert_nonnull (s);
  return s;
}

/* 3 × N packets across the wrap: only the newest N are found, each is the packet asked
 * for; every other number in the 16-bit space finds nothing. */
static void
test_wrap (void)
{
  g_autoptr (SfuPacketStore) s = store_new (64, 128 * 1024);
  const guint n = 64;
  const guint16 first = 65536 - 100;

  for (guint i = 0; i < 3 * n; i++)
    put (s, SSRC_A, (guint16) (first + i), 100 + i, 0);
  for (guint v = 0; v < 65536; v++) {
    guint i = (guint16) (v - first);

    assert_lookup (s, SSRC_A, (guint16) v, 0, i >= 2 * n && i < 3 * n ? 100 + i : 0);
  }
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->stored, ==, 3 * n);

  /* A gap of 3000 (the most taken at once): every slot now holds a number out of the window. */
  put (s, SSRC_A, (guint16) (first + 3 * n + 2999), 50, 0);
  for (guint i = 0; i < 3 * n; i++)
    assert_lookup (s, SSRC_A, (guint16) (first + i), 0, 0);
  assert_lookup (s, SSRC_A, (guint16) (first + 3 * n + 2999), 0, 50);

  /* A late packet inside the window is stored; one behind it is not; a duplicate keeps
   * the first copy. */
  put (s, SSRC_A, (guint16) (first + 3 * n + 2999 - 5), 60, 0);
  assert_lookup (s, SSRC_A, (guint16) (first + 3 * n + 2999 - 5), 0, 60);
  put (s, SSRC_A, (guint16) (first + 3 * n + 2999 - n), 60, 0);
  assert_lookup (s, SSRC_A, (guint16) (first + 3 * n + 2999 - n), 0, 0);
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->too_old, ==, 1);
  put (s, SSRC_A, (guint16) (first + 3 * n + 2999), 70, 0);
  assert_lookup (s, SSRC_A, (guint16) (first + 3 * n + 2999), 0, 50);
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->duplicate, ==, 1);
}

/* One lap of the 16-bit space later, a slot nothing overwrote still holds a packet with the
 * same 16-bit number, its bytes intact and young enough: it must not answer for the new
 * lap's number. */
static void
test_wrap_no_alias (void)
{
  g_autoptr (SfuPacketStore) s = store_new (128, 1024 * 1024);

  put (s, SSRC_A, 9, 200, 0);
  put (s, SSRC_A, 10, 100, 0);
  /* Steps of 16 from 10 touch only the slots of numbers = 10 mod 16; the last lands on 10
   * again, 65,536 later. */
  for (guint i = 1; i <= 65536 / 16; i++)
    put (s, SSRC_A, (guint16) (10 + i * 16), 100, 0);
  assert_lookup (s, SSRC_A, 10, 0, 100);
  assert_lookup (s, SSRC_A, 10 - 16, 0, 100);
  assert_lookup (s, SSRC_A, 9, 0, 0);
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->stored, ==, 2 + 65536 / 16);
}

/* Large packets in a small byte ring: the slots still name older packets, but their bytes
 * are overwritten, so they must not be returned. */
static void
test_ring_bytes (void)
{
  g_autoptr (SfuPacketStore) s = store_new (64, 4096);

  for (guint16 seq = 0; seq < 40; seq++) {
    gsize len = seq % 2 ? 1500 : 700;

    put (s, SSRC_A, seq, len, 0);
    assert_lookup (s, SSRC_A, seq, 0, len);
    if (seq >= 1)
      assert_lookup (s, SSRC_A, seq - 1, 0, seq % 2 ? 700 : 1500);
  }
  /* 4096 bytes hold at most 3 of these packets; everything older is refused. */
  for (guint16 seq = 0; seq < 36; seq++)
    assert_lookup (s, SSRC_A, seq, 0, 0);
}

static void
test_oversize (void)
{
  g_autoptr (SfuPacketStore) s = store_new (64, 64 * 1024);

  put (s, SSRC_A, 1, SFU_PACKET_STORE_MAX_PACKET + 1, 0);
  assert_lookup (s, SSRC_A, 1, 0, 0);
  put (s, SSRC_A, 2, SFU_PACKET_STORE_MAX_PACKET, 0);
  assert_lookup (s, SSRC_A, 2, 0, SFU_PACKET_STORE_MAX_PACKET);
  /* Shorter than an RTP header: nothing a resend could rewrite. */
  put (s, SSRC_A, 3, 11, 0);
  assert_lookup (s, SSRC_A, 3, 0, 0);
  put (s, SSRC_A, 4, 12, 0);
  assert_lookup (s, SSRC_A, 4, 0, 12);
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->oversize, ==, 2);
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->stored, ==, 2);
}

static void
test_max_age (void)
{
  g_autoptr (SfuPacketStore) s = store_new (64, 64 * 1024);

  put (s, SSRC_A, 1, 100, 5 * SEC);
  put (s, SSRC_A, 2, 100, 5 * SEC + 500 * MS);
  assert_lookup (s, SSRC_A, 1, 6 * SEC, 100);
  assert_lookup (s, SSRC_A, 1, 6 * SEC + 1, 0);
  assert_lookup (s, SSRC_A, 2, 6 * SEC + 1, 100);
  assert_lookup (s, SSRC_A, 2, 6 * SEC + 500 * MS + 1, 0);
}

/* The store follows one SSRC: another one finds nothing, and a new one starts afresh
 * without its numbers ever answering with the old SSRC's packets. */
static void
test_ssrc (void)
{
  g_autoptr (SfuPacketStore) s = store_new (64, 64 * 1024);

  /* A's numbers end near the top of the 16-bit space... */
  for (guint i = 0; i < 40; i++)
    put (s, SSRC_A, (guint16) (65490 + i), 100, 0);
  assert_lookup (s, SSRC_A, 65520, 0, 100);
  assert_lookup (s, SSRC_B, 65520, 0, 0);

  /* ...B's start low: the same slots, numbers B could ask for within its window. */
  put (s, SSRC_B, 5, 200, 10 * MS);
  assert_lookup (s, SSRC_B, 5, 10 * MS, 200);
  for (guint i = 0; i < 40; i++) {
    assert_lookup (s, SSRC_B, (guint16) (65490 + i), 10 * MS, 0);
    assert_lookup (s, SSRC_A, (guint16) (65490 + i), 10 * MS, 0);
  }
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->restarts, ==, 1);

  /* Back to A: B's packets are gone, A's from before too. */
  put (s, SSRC_A, 65531, 100, 20 * MS);
  assert_lookup (s, SSRC_B, 5, 20 * MS, 0);
  assert_lookup (s, SSRC_A, 65520, 20 * MS, 0);
  assert_lookup (s, SSRC_A, 65531, 20 * MS, 100);
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->restarts, ==, 2);
}

/* Far packets: a stray in a running stream is not stored and leaves the store alone; a
 * real jump is confirmed by the packet after it, or at once when the window expired. */
static void
test_far (void)
{
  g_autoptr (SfuPacketStore) s = store_new (64, 64 * 1024);
  gint64 now = 0;

  for (guint16 i = 0; i < 50; i++, now += 20 * MS)
    put (s, SSRC_A, (guint16) (1000 + i), 100, now);
  /* Strays: 3001 ahead, far behind, and the two interleaved. */
  put (s, SSRC_A, 1049 + 3001, 100, now);
  put (s, SSRC_A, 500, 100, now);
  put (s, SSRC_A, 1049 + 3002 + 1, 100, now);
  put (s, SSRC_A, 1050, 100, now);
  assert_lookup (s, SSRC_A, 1049 + 3001, now, 0);
  assert_lookup (s, SSRC_A, 500, now, 0);
  assert_lookup (s, SSRC_A, 1049, now, 100);
  assert_lookup (s, SSRC_A, 1050, now, 100);
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->too_old, ==, 3);
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->restarts, ==, 0);

  /* Up to 3000 ahead is taken at once. */
  put (s, SSRC_A, 1050 + 3000, 100, now);
  assert_lookup (s, SSRC_A, 1050 + 3000, now, 100);
  assert_lookup (s, SSRC_A, 1050, now, 0);

  /* The sender restarts its numbering 40000 on: the first packet is held back, the next
   * one confirms; from then on the new numbers are stored and found. */
  now += 20 * MS;
  put (s, SSRC_A, 44050, 100, now);
  put (s, SSRC_A, 44051, 100, now);
  put (s, SSRC_A, 44052, 100, now);
  assert_lookup (s, SSRC_A, 44050, now, 0);
  assert_lookup (s, SSRC_A, 44051, now, 100);
  assert_lookup (s, SSRC_A, 44052, now, 100);
  assert_lookup (s, SSRC_A, 4050, now, 0);
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->restarts, ==, 1);

  /* After a silence longer than the max age, nothing stored could be found anyway: the
   * first far packet starts afresh. */
  now += SEC + 1;
  put (s, SSRC_A, 20000, 100, now);
  assert_lookup (s, SSRC_A, 20000, now, 100);
  g_assert_cmpuint (sfu_packet_store_get_stats (s)->restarts, ==, 2);
}

static void
test_sizes (void)
{
  SfuPacketStoreConfig video, audio;
  g_autoptr (SfuPacketStore) v = NULL;
  g_autoptr (SfuPacketStore) a = NULL;

  sfu_packet_store_config_init (&video, TRUE);
  sfu_packet_store_config_init (&audio, FALSE);
  g_assert_cmpuint (video.slots, ==, 512);
  g_assert_cmpuint (video.bytes, ==, 256 * 1024);
  g_assert_cmpuint (audio.slots, ==, 128);
  g_assert_cmpuint (audio.bytes, ==, 16 * 1024);
  v = sfu_packet_store_new (&video);
  a = sfu_packet_store_new (&audio);
  g_assert_cmpuint (sfu_packet_store_size (v), >, 256 * 1024);
  g_assert_cmpuint (sfu_packet_store_size (v), <, 256 * 1024 + 32 * 1024);
  g_assert_cmpuint (sfu_packet_store_size (a), <, 16 * 1024 + 8 * 1024);
}

/* Out-of-range sizes are a programmer error (criticals are fatal under GTest, hence the
 * subprocesses). */
static void
test_bad_config (void)
{
  if (g_test_subprocess ()) {
    SfuPacketStoreConfig config;

    sfu_packet_store_config_init (&config, TRUE);
    config.slots = 500;
    sfu_packet_store_free (sfu_packet_store_new (&config));
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*config_valid*");
}

static void
test_bad_config_bytes (void)
{
  if (g_test_subprocess ()) {
    SfuPacketStoreConfig config;

    sfu_packet_store_config_init (&config, FALSE);
    config.bytes = 1024;
    sfu_packet_store_free (sfu_packet_store_new (&config));
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*config_valid*");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sfu-packet-store/wrap", test_wrap);
  g_test_add_func ("/sfu-packet-store/wrap-no-alias", test_wrap_no_alias);
  g_test_add_func ("/sfu-packet-store/ring-bytes", test_ring_bytes);
  g_test_add_func ("/sfu-packet-store/oversize", test_oversize);
  g_test_add_func ("/sfu-packet-store/max-age", test_max_age);
  g_test_add_func ("/sfu-packet-store/ssrc", test_ssrc);
  g_test_add_func ("/sfu-packet-store/far", test_far);
  g_test_add_func ("/sfu-packet-store/sizes", test_sizes);
  g_test_add_func ("/sfu-packet-store/bad-config", test_bad_config);
  g_test_add_func ("/sfu-packet-store/bad-config-bytes", test_bad_config_bytes);

  return g_test_run ();
}
