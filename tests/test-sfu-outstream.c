/* SPDX-License-Identifier: MIT */
/* Unit tests for the SFU's per-receiver outgoing stream (sequence/timestamp rewriting,
 * retransmission buffer, NACK budget) and the keyframe request throttle. Covers the crash
 * and misbehaviour classes other SFUs had: buffers on sequence wrap and large gaps, NACK and
 * PLI floods. */
#include "sfu-keyframe.h"
#include "sfu-outstream.h"
#include "sfu-seq.h"

#include <string.h>

#define MS (G_GINT64_CONSTANT (1000))
#define SEC (G_USEC_PER_SEC)

static void
config_fixed (SfuOutStreamConfig *config, SfuMediaKind kind, guint16 seq, guint32 ts)
{
  sfu_outstream_config_init (config, kind, 0xabcdef01);
  config->initial_seq = seq;
  config->initial_ts = ts;
}

static SfuOutStream *
stream_new (SfuMediaKind kind, guint16 seq, guint32 ts)
{
  SfuOutStreamConfig config;
  SfuOutStream *s;

  config_fixed (&config, kind, seq, ts);
  s = sfu_outstream_new (&config);
  g_assert_nonnull (s);
  return s;
}

/* Maps and asserts it was accepted at (@want_seq, @want_ts). */
static void
map_ok (SfuOutStream *s, guint32 ssrc, guint16 seq, guint32 ts, gint64 at, gboolean key,
        guint16 want_seq, guint32 want_ts)
{
  guint16 out_seq = 0;
  guint32 out_ts = 0;

  g_assert_true (sfu_outstream_map (s, ssrc, seq, ts, at, key, &out_seq, &out_ts));
  g_assert_cmpuint (out_seq, ==, want_seq);
  g_assert_cmpuint (out_ts, ==, want_ts);
}

static void
map_dropped (SfuOutStream *s, guint32 ssrc, guint16 seq, guint32 ts, gint64 at, gboolean key)
{
  guint16 out_seq = 0x1234;
  guint32 out_ts = 0x5678;

  g_assert_false (sfu_outstream_map (s, ssrc, seq, ts, at, key, &out_seq, &out_ts));
  g_assert_cmpuint (out_seq, ==, 0x1234);
  g_assert_cmpuint (out_ts, ==, 0x5678);
}

static void
test_seq_diff (void)
{
  g_assert_cmpint (sfu_seq_diff (5, 3), ==, 2);
  g_assert_cmpint (sfu_seq_diff (3, 5), ==, -2);
  g_assert_cmpint (sfu_seq_diff (2, 65534), ==, 4);
  g_assert_cmpint (sfu_seq_diff (65534, 2), ==, -4);
  g_assert_cmpint (sfu_seq_diff (32767, 0), ==, 32767);
  g_assert_cmpint (sfu_seq_diff (32768, 0), ==, -32768);
  g_assert_cmpint (sfu_seq_diff (0, 32768), ==, -32768);
  g_assert_true (sfu_seq_newer (0, 65535));
  g_assert_false (sfu_seq_newer (65535, 0));
  g_assert_false (sfu_seq_newer (7, 7));
  g_assert_false (sfu_seq_newer (32768, 0));
  g_assert_false (sfu_seq_newer (0, 32768));
}

/* Three switches (A → B → C → A restarted): the sequence continues at last + 1 and the
 * timestamp advances by the wall-clock gap at 90 kHz; within a source, by its own steps. */
static void
test_switch_continuity (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_VIDEO, 100, 1000000);
  const struct {
    guint32 ssrc;
    guint16 seq;
    guint32 ts;
    gint64 gap_us; /* since the previous source's last packet */
  } src[] = {
    { 0xa, 60000, 5, 0 },
    { 0xb, 65530, 0xfffff000u, 250 * MS }, /* both wrap inside the run */
    { 0xc, 7, 123456, 2 * SEC },
    { 0xa, 40000, 999, 1 },                /* A again, restarted: 1 µs → 1 tick */
  };
  guint16 want_seq = 100;
  guint32 want_ts = 1000000;
  gint64 now = 10 * SEC;

  for (guint i = 0; i < G_N_ELEMENTS (src); i++) {
    now += src[i].gap_us;
    if (i > 0)
      want_ts += MAX (1, src[i].gap_us * 90000 / SEC);
    /* 10 packets, 3 per frame, one frame per 33 ms (2970 ticks). */
    for (guint k = 0; k < 10; k++) {
      guint frame = k / 3;

      map_ok (s, src[i].ssrc, (guint16) (src[i].seq + k), src[i].ts + frame * 2970,
              now + frame * 33 * MS, k == 0, want_seq, want_ts + frame * 2970);
      want_seq++;
    }
    want_ts += 3 * 2970;
    now += 3 * 33 * MS;
  }
  g_assert_cmpuint (sfu_outstream_get_stats (s)->switches, ==, 3);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->forwarded, ==, 40);
}

static void
test_switch_waits_keyframe (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_VIDEO, 500, 0);

  /* Not even the first source starts without a keyframe. */
  map_dropped (s, 1, 10, 0, 0, FALSE);
  g_assert_true (sfu_outstream_wants_keyframe (s));
  map_ok (s, 1, 11, 0, 0, TRUE, 500, 0);
  g_assert_false (sfu_outstream_wants_keyframe (s));
  map_ok (s, 1, 12, 3000, 33 * MS, FALSE, 501, 3000);

  /* B's delta frames are dropped and do not disturb A's mapping. */
  map_dropped (s, 2, 7000, 555, 40 * MS, FALSE);
  g_assert_true (sfu_outstream_wants_keyframe (s));
  map_ok (s, 1, 13, 6000, 66 * MS, FALSE, 502, 6000);
  g_assert_false (sfu_outstream_wants_keyframe (s));
  map_dropped (s, 2, 7001, 555, 70 * MS, FALSE);

  /* B's keyframe, 34 ms after A's newest packet. */
  map_ok (s, 2, 7002, 3555, 100 * MS, TRUE, 503, 6000 + 34 * 90);
  /* A late packet of B's frame before the keyframe would reuse A's number 502. */
  map_dropped (s, 2, 7001, 555, 101 * MS, FALSE);
  /* A's late packets now look like a switch back and wait for an A keyframe. */
  map_dropped (s, 1, 14, 9000, 102 * MS, FALSE);
  map_ok (s, 2, 7003, 3555, 103 * MS, FALSE, 504, 6000 + 34 * 90);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->dropped_keyframe_wait, ==, 4);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->dropped_old, ==, 1);

  /* Audio switches at once. */
  {
    g_autoptr (SfuOutStream) a = stream_new (SFU_MEDIA_AUDIO, 9, 90);

    map_ok (a, 1, 100, 0, 0, FALSE, 9, 90);
    map_ok (a, 2, 200, 0, 20 * MS, FALSE, 10, 90 + 960);
  }
}

static void
test_reorder_duplicates (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_AUDIO, 1000, 50000);
  const guint16 order[] = { 0, 2, 1, 1, 4, 3, 3, 0, 5 };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    map_ok (s, 7, (guint16) (300 + order[i]), 7000 + order[i] * 960, i * 20 * MS, FALSE,
            (guint16) (1000 + order[i]), 50000 + order[i] * 960);

  /* Late by up to SFU_OUTSTREAM_MAX_MISORDER is still forwarded, at its own number. */
  for (guint i = 6; i < 1100; i++)
    map_ok (s, 7, (guint16) (300 + i), 7000 + i * 960, i * 20 * MS, FALSE,
            (guint16) (1000 + i), 50000 + i * 960);
  map_ok (s, 7, 300 + 1099 - 1024, 0, 0, FALSE, 1000 + 1099 - 1024, 50000 - 7000);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->dropped_old, ==, 0);
}

/* The source's numbers wrap at 65535, and independently the outgoing ones. */
static void
test_wrap (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_AUDIO, 65533, 0xfffffc00u);

  for (guint i = 0; i < 20; i++) {
    guint16 src = (guint16) (65520 + i);
    guint32 src_ts = 0xffffd000u + i * 960;

    map_ok (s, 3, src, src_ts, i * 20 * MS, FALSE, (guint16) (65533 + i),
            0xfffffc00u + i * 960);
  }
  /* Late packets across both wraps map consistently. */
  map_ok (s, 3, 65535, 0xffffd000u + 15 * 960, 0, FALSE, (guint16) (65533 + 15),
          0xfffffc00u + 15 * 960);
  map_ok (s, 3, 65530, 0xffffd000u + 10 * 960, 0, FALSE, 65533 + 10 - 65536,
          0xfffffc00u + 10 * 960);
}

static void
test_gaps (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_AUDIO, 10, 0);
  guint16 out = 10;
  guint32 ts = 0;

  map_ok (s, 5, 100, 0, 0, FALSE, out, ts);

  /* Up to SFU_OUTSTREAM_MAX_DROPOUT: taken at once, same gap outside. */
  out += 3000;
  ts += 3000 * 960;
  map_ok (s, 5, 3100, 3000 * 960, 60 * SEC, FALSE, out, ts);

  /* 20000: the first packet is on probation; the next confirms, gap preserved. */
  map_dropped (s, 5, 23100, 23000 * 960, 61 * SEC, FALSE);
  out += 20001;
  ts += 20001 * 960;
  map_ok (s, 5, 23101, 23001 * 960, 61 * SEC, FALSE, out, ts);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->dropped_jump, ==, 1);

  /* 40000 forward is 25536 back in 16 bits: the next packet confirms and the stream
   * resyncs at last + 1, timestamp by elapsed time (1 s = 48000 ticks). */
  map_dropped (s, 5, (guint16) (23101 + 40000), 1, 62 * SEC, FALSE);
  out += 1;
  ts += 48000;
  map_ok (s, 5, (guint16) (23101 + 40001), 961, 62 * SEC, FALSE, out, ts);
  map_ok (s, 5, (guint16) (23101 + 40002), 1921, 62 * SEC, FALSE, out + 1, ts + 960);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->resyncs, ==, 1);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->switches, ==, 0);

  /* Video: the resync waits for a keyframe too. */
  {
    g_autoptr (SfuOutStream) v = stream_new (SFU_MEDIA_VIDEO, 0, 0);

    map_ok (v, 5, 100, 0, 0, TRUE, 0, 0);
    map_dropped (v, 5, 40100, 90000, SEC, FALSE);
    map_dropped (v, 5, 40101, 90000, SEC, FALSE);
    g_assert_true (sfu_outstream_wants_keyframe (v));
    map_dropped (v, 5, 40102, 90000, SEC, FALSE);
    map_ok (v, 5, 40103, 93000, SEC + 10 * MS, TRUE, 1, 90900);
    map_ok (v, 5, 40104, 93000, SEC + 10 * MS, FALSE, 2, 90900);
  }
}

static void
test_too_old (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_AUDIO, 0, 0);

  for (guint i = 0; i < 3000; i++)
    map_ok (s, 9, (guint16) i, i * 960, i * 20 * MS, FALSE, (guint16) i, i * 960);
  /* 2000 behind, then 40000 behind (i.e. 25536 ahead), 20 ms after the last packet:
   * strays, dropped... */
  map_dropped (s, 9, 999, 0, 60 * SEC, FALSE);
  map_dropped (s, 9, (guint16) (2999 - 40000), 0, 60 * SEC, FALSE);
  /* ...and they do not move the stream: the next packets continue as before. */
  map_ok (s, 9, 3000, 3000 * 960, 60 * SEC, FALSE, 3000, 3000 * 960);
  map_dropped (s, 9, 1000, 0, 60 * SEC, FALSE);
  map_ok (s, 9, 3001, 3001 * 960, 60 * SEC, FALSE, 3001, 3001 * 960);
  /* Consecutive strays while the source runs are not a jump either, however many. */
  for (guint i = 0; i < 100; i++)
    map_dropped (s, 9, (guint16) (1500 + i), 0, 60 * SEC + 10 * MS, FALSE);
  for (guint i = 0; i < 100; i++)
    map_dropped (s, 9, (guint16) (23001 + i), 0, 60 * SEC + 10 * MS, FALSE);
  map_ok (s, 9, 3002, 3002 * 960, 60 * SEC + 20 * MS, FALSE, 3002, 3002 * 960);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->dropped_old, ==, 203);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->dropped_jump, ==, 0);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->resyncs, ==, 0);
}

/* A packet whose bytes say which sequence number it is. */
static void
make_packet (guint8 *buf, gsize len, guint16 seq)
{
  memset (buf, seq & 0xff, len);
  buf[0] = seq >> 8;
  buf[1] = seq & 0xff;
}

static void
assert_lookup (SfuOutStream *s, guint16 seq, gint64 now, gsize want_len)
{
  gsize len = 1;
  const guint8 *p = sfu_outstream_lookup (s, seq, now, &len);

  if (want_len == 0) {
    g_assert_null (p);
    g_assert_cmpuint (len, ==, 0);
    return;
  }
  g_assert_nonnull (p);
  g_assert_cmpuint (len, ==, want_len);
  g_assert_cmpuint (((guint) p[0] << 8) | p[1], ==, seq);
  g_assert_cmpuint (p[len - 1], ==, seq & 0xff);
}

/* 3 × N packets across the outgoing wrap: only the newest N are found, each is the packet
 * asked for; every other number in the 16-bit space finds nothing. */
static void
test_ring_wrap (void)
{
  SfuOutStreamConfig config;
  g_auto (SfuOutStream) s;
  guint8 buf[SFU_OUTSTREAM_MAX_PACKET];
  const guint n = 64;
  const guint16 first = 65536 - 100;

  config_fixed (&config, SFU_MEDIA_VIDEO, 0, 0);
  config.ring_slots = n;
  config.ring_bytes = 128 * 1024;
  g_assert_true (sfu_outstream_init (&s, &config));

  for (guint i = 0; i < 3 * n; i++) {
    guint16 seq = (guint16) (first + i);

    make_packet (buf, 100 + i, seq);
    sfu_outstream_store (&s, seq, buf, 100 + i, 0);
  }
  for (guint v = 0; v < 65536; v++) {
    guint i = (guint16) (v - first);

    assert_lookup (&s, (guint16) v, 0, i >= 2 * n && i < 3 * n ? 100 + i : 0);
  }

  /* A gap: 3000 ahead leaves every slot holding a number that is now out of the window. */
  make_packet (buf, 50, (guint16) (first + 3 * n + 3000));
  sfu_outstream_store (&s, (guint16) (first + 3 * n + 3000), buf, 50, 0);
  for (guint i = 0; i < 3 * n; i++)
    assert_lookup (&s, (guint16) (first + i), 0, 0);
  assert_lookup (&s, (guint16) (first + 3 * n + 3000), 0, 50);

  /* A late packet inside the window is stored; one behind it is not; a duplicate keeps
   * the first copy. */
  make_packet (buf, 60, (guint16) (first + 3 * n + 3000 - 5));
  sfu_outstream_store (&s, (guint16) (first + 3 * n + 3000 - 5), buf, 60, 0);
  assert_lookup (&s, (guint16) (first + 3 * n + 3000 - 5), 0, 60);
  sfu_outstream_store (&s, (guint16) (first + 3 * n + 3000 - n), buf, 60, 0);
  g_assert_cmpuint (sfu_outstream_get_stats (&s)->store_too_old, ==, 1);
  make_packet (buf, 70, 0);
  sfu_outstream_store (&s, (guint16) (first + 3 * n + 3000), buf, 70, 0);
  assert_lookup (&s, (guint16) (first + 3 * n + 3000), 0, 50);
}

/* Large packets in a small byte ring: the slots still name old packets, but their bytes
 * are gone, so they must not be returned. */
static void
test_ring_bytes (void)
{
  SfuOutStreamConfig config;
  g_auto (SfuOutStream) s;
  guint8 buf[SFU_OUTSTREAM_MAX_PACKET];

  config_fixed (&config, SFU_MEDIA_VIDEO, 0, 0);
  config.ring_slots = 64;
  config.ring_bytes = 4096;
  g_assert_true (sfu_outstream_init (&s, &config));

  for (guint16 seq = 0; seq < 40; seq++) {
    gsize len = seq % 2 ? 1500 : 700;

    make_packet (buf, len, seq);
    sfu_outstream_store (&s, seq, buf, len, 0);
    /* The newest packet and the ones that fit behind it are intact. */
    assert_lookup (&s, seq, 0, len);
    if (seq >= 1)
      assert_lookup (&s, seq - 1, 0, seq % 2 ? 700 : 1500);
  }
  /* 4096 bytes hold at most 3 of these packets; everything older is refused. */
  for (guint16 seq = 0; seq < 36; seq++)
    assert_lookup (&s, seq, 0, 0);
}

static void
test_max_age_and_oversize (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_VIDEO, 0, 0);
  guint8 buf[SFU_OUTSTREAM_MAX_PACKET + 1];

  make_packet (buf, 100, 1);
  sfu_outstream_store (s, 1, buf, 100, 5 * SEC);
  assert_lookup (s, 1, 5 * SEC + SEC, 100);
  assert_lookup (s, 1, 5 * SEC + SEC + 1, 0);

  make_packet (buf, SFU_OUTSTREAM_MAX_PACKET + 1, 2);
  sfu_outstream_store (s, 2, buf, SFU_OUTSTREAM_MAX_PACKET + 1, 5 * SEC);
  assert_lookup (s, 2, 5 * SEC, 0);
  make_packet (buf, SFU_OUTSTREAM_MAX_PACKET, 3);
  sfu_outstream_store (s, 3, buf, SFU_OUTSTREAM_MAX_PACKET, 5 * SEC);
  assert_lookup (s, 3, 5 * SEC, SFU_OUTSTREAM_MAX_PACKET);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->store_oversize, ==, 1);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->stored, ==, 2);
}

typedef struct {
  guint calls;
  guint bad;
} Resent;

static void
count_resend (guint16 seq, const guint8 *packet, gsize len, gpointer user_data)
{
  Resent *r = user_data;

  r->calls++;
  if (len < 2 || (((guint) packet[0] << 8) | packet[1]) != seq)
    r->bad++;
}

static void
assert_nack_sums (SfuOutStream *s)
{
  const SfuOutStreamStats *st = sfu_outstream_get_stats (s);

  g_assert_cmpuint (st->nack_received, ==,
                    st->nack_resent + st->nack_not_found + st->nack_too_soon +
                        st->nack_throttled);
}

static void
fill (SfuOutStream *s, guint16 first, guint n, gint64 now)
{
  guint8 buf[1200];

  for (guint i = 0; i < n; i++) {
    make_packet (buf, sizeof buf, (guint16) (first + i));
    sfu_outstream_store (s, (guint16) (first + i), buf, sizeof buf, now);
  }
}

/* 10,000 entries in one NACK, then a second of such NACKs every 10 ms: the work is bounded
 * per call and the resends by the per-second budget; every entry is counted. */
static void
test_nack_flood (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_VIDEO, 0, 0);
  guint16 *seqs = g_new (guint16, 10000);
  Resent r = { 0 };
  const gint64 t0 = 100 * SEC;
  guint total;

  fill (s, 65400, 200, t0); /* 200 × 1200 bytes fit in 256 KiB */
  for (guint i = 0; i < 10000; i++)
    seqs[i] = (guint16) (65400 + (i * 7919) % 400); /* half of them never stored */

  total = sfu_outstream_nack (s, seqs, 10000, t0, count_resend, &r);
  g_assert_cmpuint (total, ==, 64);
  g_assert_cmpuint (r.calls, ==, 64);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_received, ==, 10000);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_throttled, >=, 10000 - 512);
  assert_nack_sums (s);

  for (guint k = 1; k <= 100; k++) {
    guint sent = sfu_outstream_nack (s, seqs, 10000, t0 + k * 10 * MS, count_resend, &r);

    g_assert_cmpuint (sent, <=, 64);
    total += sent;
    assert_nack_sums (s);
  }
  /* Each of the 200 packets once per 100 ms at most, and within 500/s plus one second's
   * burst. */
  g_assert_cmpuint (total, <=, 200 * 11);
  g_assert_cmpuint (total, <=, 500 + 500);
  g_assert_cmpuint (total, >, 64);
  g_assert_cmpuint (r.calls, ==, total);
  g_assert_cmpuint (r.bad, ==, 0);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_resent, ==, total);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_received, ==, 101 * 10000);
  g_test_message ("flood: %u resent, %" G_GUINT64_FORMAT " throttled, %" G_GUINT64_FORMAT
                  " too soon, %" G_GUINT64_FORMAT " not found",
                  total, sfu_outstream_get_stats (s)->nack_throttled,
                  sfu_outstream_get_stats (s)->nack_too_soon,
                  sfu_outstream_get_stats (s)->nack_not_found);
  g_free (seqs);
}

static void
test_nack_interval (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_VIDEO, 0, 0);
  const guint16 seq[] = { 10, 10, 11, 500 };
  Resent r = { 0 };

  fill (s, 0, 20, 0);
  /* The duplicate is too soon; 500 was never stored. */
  g_assert_cmpuint (sfu_outstream_nack (s, seq, 4, 0, count_resend, &r), ==, 2);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_too_soon, ==, 1);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_not_found, ==, 1);
  g_assert_cmpuint (sfu_outstream_nack (s, seq, 1, 99 * MS, count_resend, &r), ==, 0);
  g_assert_cmpuint (sfu_outstream_nack (s, seq, 1, 100 * MS, count_resend, &r), ==, 1);
  /* Past max age: not found. */
  g_assert_cmpuint (sfu_outstream_nack (s, seq + 2, 1, SEC + 1, count_resend, &r), ==, 0);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_not_found, ==, 2);
  g_assert_cmpuint (r.bad, ==, 0);
  assert_nack_sums (s);

  /* A stream without a buffer counts and returns. */
  {
    SfuOutStreamConfig config;
    g_auto (SfuOutStream) a;

    config_fixed (&config, SFU_MEDIA_AUDIO, 0, 0);
    config.ring_slots = 0;
    g_assert_true (sfu_outstream_init (&a, &config));
    g_assert_cmpuint (sfu_outstream_buffer_size (&a), ==, 0);
    fill (&a, 0, 20, 0);
    assert_lookup (&a, 5, 0, 0);
    g_assert_cmpuint (sfu_outstream_nack (&a, seq, 4, 0, count_resend, &r), ==, 0);
    g_assert_cmpuint (sfu_outstream_get_stats (&a)->nack_not_found, ==, 4);
  }
}

/* A slot count that is not a power of two is a programmer error (criticals are fatal
 * under GTest, hence the subprocess). */
static void
test_bad_config (void)
{
  if (g_test_subprocess ()) {
    SfuOutStreamConfig config;

    config_fixed (&config, SFU_MEDIA_VIDEO, 0, 0);
    config.ring_slots = 500;
    sfu_outstream_free (sfu_outstream_new (&config));
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*config_valid*");
}

/* Requests at 0, 0.2, 0.5, 1.1, 1.15, 2.0, 2.2 s with no timer: one per second at most. */
static void
test_keyframe_timeline (void)
{
  SfuKeyframeThrottle t;
  const struct {
    gint64 at;
    gboolean allowed;
  } steps[] = {
    { 0, TRUE },         { 200 * MS, FALSE },  { 500 * MS, FALSE }, { 1100 * MS, TRUE },
    { 1150 * MS, FALSE }, { 2000 * MS, FALSE }, { 2100 * MS, TRUE }, { 2200 * MS, FALSE },
  };

  sfu_keyframe_throttle_init (&t, 0);
  g_assert_cmpint (t.interval_us, ==, SEC);
  g_assert_cmpint (sfu_keyframe_throttle_due_at (&t), ==, -1);
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    g_assert_cmpint (sfu_keyframe_throttle_allow (&t, steps[i].at), ==, steps[i].allowed);
  g_assert_cmpuint (t.stats.requested, ==, 8);
  g_assert_cmpuint (t.stats.sent, ==, 3);
  g_assert_cmpuint (t.stats.throttled, ==, 5);
  /* The request at 2.2 s is not forgotten. */
  g_assert_cmpint (sfu_keyframe_throttle_due_at (&t), ==, 3100 * MS);
  g_assert_false (sfu_keyframe_throttle_due (&t, 3099 * MS));
  g_assert_true (sfu_keyframe_throttle_due (&t, 3100 * MS));
  g_assert_false (sfu_keyframe_throttle_due (&t, 5 * SEC));
}

/* With a timer: a throttled request goes out exactly when the interval ends, once. */
static void
test_keyframe_due (void)
{
  SfuKeyframeThrottle t;

  sfu_keyframe_throttle_init (&t, 0);
  g_assert_false (sfu_keyframe_throttle_due (&t, 0));
  g_assert_true (sfu_keyframe_throttle_allow (&t, 0));
  g_assert_false (sfu_keyframe_throttle_due (&t, 500 * MS)); /* nothing pending */
  g_assert_false (sfu_keyframe_throttle_allow (&t, 200 * MS));
  g_assert_false (sfu_keyframe_throttle_allow (&t, 500 * MS));
  g_assert_cmpint (sfu_keyframe_throttle_due_at (&t), ==, SEC);
  g_assert_false (sfu_keyframe_throttle_due (&t, 999 * MS));
  g_assert_true (sfu_keyframe_throttle_due (&t, SEC));
  g_assert_false (sfu_keyframe_throttle_due (&t, SEC));
  /* 1.1 s is throttled against the one sent at 1.0 s. */
  g_assert_false (sfu_keyframe_throttle_allow (&t, 1100 * MS));
  g_assert_cmpint (sfu_keyframe_throttle_due_at (&t), ==, 2 * SEC);
  /* A keyframe arriving meanwhile serves it. */
  sfu_keyframe_throttle_keyframe_seen (&t);
  g_assert_cmpint (sfu_keyframe_throttle_due_at (&t), ==, -1);
  g_assert_false (sfu_keyframe_throttle_due (&t, 2 * SEC));
  g_assert_cmpuint (t.stats.sent, ==, 2);
  g_assert_cmpuint (t.stats.served, ==, 1);

  /* A PLI flood: 10,000 requests in 10 s give 10 requests plus the one pending. */
  sfu_keyframe_throttle_init (&t, 0);
  for (guint i = 0; i < 10000; i++) {
    sfu_keyframe_throttle_allow (&t, 10 * SEC + i * MS);
    sfu_keyframe_throttle_due (&t, 10 * SEC + i * MS);
  }
  g_assert_cmpuint (t.stats.sent, ==, 10);
  g_assert_cmpint (sfu_keyframe_throttle_due_at (&t), ==, 20 * SEC);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sfu-outstream/seq-diff", test_seq_diff);
  g_test_add_func ("/sfu-outstream/switch-continuity", test_switch_continuity);
  g_test_add_func ("/sfu-outstream/switch-waits-keyframe", test_switch_waits_keyframe);
  g_test_add_func ("/sfu-outstream/reorder-duplicates", test_reorder_duplicates);
  g_test_add_func ("/sfu-outstream/wrap", test_wrap);
  g_test_add_func ("/sfu-outstream/gaps", test_gaps);
  g_test_add_func ("/sfu-outstream/too-old", test_too_old);
  g_test_add_func ("/sfu-outstream/ring-wrap", test_ring_wrap);
  g_test_add_func ("/sfu-outstream/ring-bytes", test_ring_bytes);
  g_test_add_func ("/sfu-outstream/max-age-oversize", test_max_age_and_oversize);
  g_test_add_func ("/sfu-outstream/nack-flood", test_nack_flood);
  g_test_add_func ("/sfu-outstream/nack-interval", test_nack_interval);
  g_test_add_func ("/sfu-outstream/bad-config", test_bad_config);
  g_test_add_func ("/sfu-keyframe/timeline", test_keyframe_timeline);
  g_test_add_func ("/sfu-keyframe/due", test_keyframe_due);

  return g_test_run ();
}
