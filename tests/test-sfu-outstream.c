/* SPDX-License-Identifier: MIT */
/* Unit tests for the SFU's per-receiver outgoing stream (sequence/timestamp rewriting,
 * NACKs answered from the source's packet store, NACK budget) and the keyframe request
 * throttle. Covers the crash and misbehaviour classes other SFUs had: sequence wrap and
 * large gaps, NACK and PLI floods, resends after a source switch. The store itself is
 * tested in test-sfu-packet-store.c. */
#include "sfu-bytes.h"
#include "sfu-keyframe.h"
#include "sfu-outstream.h"
#include "sfu-private.h"
#include "sfu-rtp.h"
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

/* A source RTP packet whose payload bytes repeat its sequence number. */
static gsize
make_source (guint8 *buf, gsize len, guint32 ssrc, guint16 seq, guint32 ts)
{
  memset (buf, seq & 0xff, len);
  buf[0] = 0x80;
  buf[1] = 96;
  sfu_wr16 (buf + 2, seq);
  sfu_wr32 (buf + 4, ts);
  sfu_wr32 (buf + 8, ssrc);
  return len;
}

/* What the forwarding path does with one source packet: store it once, map it. Returns
 * whether it was forwarded. */
static gboolean
forward (SfuOutStream *s, SfuPacketStore *store, guint32 ssrc, guint16 seq, guint32 ts,
         gsize len, gint64 now, gboolean key)
{
  guint8 buf[1500];
  guint16 out_seq;
  guint32 out_ts;

  make_source (buf, len, ssrc, seq, ts);
  sfu_packet_store_put (store, ssrc, seq, buf, len, now);
  return sfu_outstream_map (s, ssrc, seq, ts, now, key, &out_seq, &out_ts);
}

static SfuPacketStore *
video_store (void)
{
  SfuPacketStoreConfig config;

  sfu_packet_store_config_init (&config, TRUE);
  return sfu_packet_store_new (&config);
}

typedef struct {
  guint calls;
  guint bad;
  guint16 seq_offset; /* expected out - src */
  guint32 ts_offset;
  guint32 src_ssrc;
} Resent;

/* Checks that each resend names the source packet its outgoing number maps to. */
static void
count_resend (guint16 out_seq, guint32 out_ts, const guint8 *packet, gsize len,
              gpointer user_data)
{
  Resent *r = user_data;

  r->calls++;
  if (len < 12 || sfu_rd16 (packet + 2) != (guint16) (out_seq - r->seq_offset) ||
      sfu_rd32 (packet + 8) != r->src_ssrc || out_ts != sfu_rd32 (packet + 4) + r->ts_offset ||
      packet[len - 1] != (guint8) (out_seq - r->seq_offset))
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

/* Forwards @n packets of source 0x5 from @first_src (out numbers from the stream's
 * initial_seq), at @now, the first a keyframe. */
static void
fill (SfuOutStream *s, SfuPacketStore *store, guint16 first_src, guint n, gint64 now)
{
  for (guint i = 0; i < n; i++)
    g_assert_true (forward (s, store, 0x5, (guint16) (first_src + i), 90000, 1200, now, i == 0));
}

/* 10,000 entries in one NACK, then a second of such NACKs every 10 ms: the work is bounded
 * per call and the resends by the per-second budget; every entry is counted. */
static void
test_nack_flood (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_VIDEO, 65400, 7);
  g_autoptr (SfuPacketStore) store = video_store ();
  guint16 *seqs = g_new (guint16, 10000);
  Resent r = { .seq_offset = 65400 - 1000, .ts_offset = 7 - 90000, .src_ssrc = 0x5 };
  const gint64 t0 = 100 * SEC;
  guint total;

  fill (s, store, 1000, 200, t0); /* 200 × 1200 bytes fit in 256 KiB */
  for (guint i = 0; i < 10000; i++)
    seqs[i] = (guint16) (65400 + (i * 7919) % 400); /* half of them never forwarded */

  total = sfu_outstream_nack (s, store, seqs, 10000, t0, count_resend, &r);
  g_assert_cmpuint (total, ==, 64);
  g_assert_cmpuint (r.calls, ==, 64);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_received, ==, 10000);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_throttled, >=, 10000 - 512);
  assert_nack_sums (s);

  for (guint k = 1; k <= 100; k++) {
    guint sent = sfu_outstream_nack (s, store, seqs, 10000, t0 + k * 10 * MS, count_resend, &r);

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
  g_autoptr (SfuPacketStore) store = video_store ();
  const guint16 seq[] = { 10, 10, 11, 500 };
  Resent r = { .seq_offset = (guint16) (0 - 5000), .ts_offset = 0 - 90000, .src_ssrc = 0x5 };

  fill (s, store, 5000, 20, 0);
  /* The duplicate is too soon; 500 was never forwarded. */
  g_assert_cmpuint (sfu_outstream_nack (s, store, seq, 4, 0, count_resend, &r), ==, 2);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_too_soon, ==, 1);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_not_found, ==, 1);
  g_assert_cmpuint (sfu_outstream_nack (s, store, seq, 1, 99 * MS, count_resend, &r), ==, 0);
  g_assert_cmpuint (sfu_outstream_nack (s, store, seq, 1, 100 * MS, count_resend, &r), ==, 1);
  /* Past the store's max age: not found. */
  g_assert_cmpuint (sfu_outstream_nack (s, store, seq + 2, 1, SEC + 1, count_resend, &r), ==, 0);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_not_found, ==, 2);
  /* No store (the source left): not found. */
  g_assert_cmpuint (sfu_outstream_nack (s, NULL, seq, 1, 0, count_resend, &r), ==, 0);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_not_found, ==, 3);
  g_assert_cmpuint (r.calls, ==, 3);
  g_assert_cmpuint (r.bad, ==, 0);
  assert_nack_sums (s);

  /* A stream without resend slots counts and returns. */
  {
    SfuOutStreamConfig config;
    g_auto (SfuOutStream) a;

    config_fixed (&config, SFU_MEDIA_VIDEO, 0, 0);
    config.resend_slots = 0;
    g_assert_true (sfu_outstream_init (&a, &config));
    g_assert_cmpuint (sfu_outstream_buffer_size (&a), ==, 0);
    fill (&a, store, 5000, 20, 0);
    g_assert_cmpuint (sfu_outstream_nack (&a, store, seq, 4, 0, count_resend, &r), ==, 0);
    g_assert_cmpuint (sfu_outstream_get_stats (&a)->nack_not_found, ==, 4);
  }
}

/* The per-receiver cost is bookkeeping, not packets: a few KB whatever the bitrate. */
static void
test_stream_size (void)
{
  g_autoptr (SfuOutStream) v = stream_new (SFU_MEDIA_VIDEO, 0, 0);
  g_autoptr (SfuOutStream) a = stream_new (SFU_MEDIA_AUDIO, 0, 0);

  g_assert_cmpuint (sfu_outstream_buffer_size (v), <=, 4096);
  g_assert_cmpuint (sfu_outstream_buffer_size (a), <=, 1024);
  g_assert_cmpuint (sfu_outstream_buffer_size (v), >, 0);
}

/* After a switch from A to B, NACKs for A's outgoing numbers are not found, even where
 * the new epoch's offsets would map them onto packets the store holds (B's packets from
 * before its keyframe, which this receiver never got); B's numbers are found. */
static void
test_nack_old_epoch (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_VIDEO, 100, 0);
  g_autoptr (SfuPacketStore) store_a = video_store ();
  g_autoptr (SfuPacketStore) store = video_store ();
  Resent r = { .seq_offset = (guint16) (110 - 7000), .src_ssrc = 0xb };
  guint16 seqs[12];
  guint32 b_ts_offset;
  guint16 out_seq;

  for (guint i = 0; i < 10; i++) {
    g_assert_true (forward (s, store, 0xa, (guint16) (60000 + i), 3000, 1000, i * MS, i == 0));
    g_assert_true (forward (s, store_a, 0xa, (guint16) (60000 + i), 3000, 1000, i * MS, i == 0));
  }
  /* B's delta frames wait; its keyframe at 7000 becomes out 110. */
  for (guint i = 0; i < 20; i++)
    forward (s, store, 0xb, (guint16) (6990 + i), 777000, 1000, 20 * MS, i == 10);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->switches, ==, 1);
  g_assert_true (sfu_outstream_map (s, 0xb, 7010, 777000, 21 * MS, FALSE, &out_seq,
                                    &b_ts_offset));
  g_assert_cmpuint (out_seq, ==, 120);
  r.ts_offset = b_ts_offset - 777000;

  /* A's numbers 100..109 and one never sent. */
  for (guint i = 0; i < 10; i++)
    seqs[i] = (guint16) (100 + i);
  seqs[10] = 121;
  seqs[11] = 99;
  g_assert_cmpuint (sfu_outstream_nack (s, store, seqs, 12, 30 * MS, count_resend, &r), ==, 0);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_not_found, ==, 12);
  /* A's store still holds A's packets: the epoch's SSRC is B's, so they are not found. */
  g_assert_cmpuint (sfu_outstream_nack (s, store_a, seqs, 10, 30 * MS, count_resend, &r), ==,
                    0);
  seqs[0] = 112;
  g_assert_cmpuint (sfu_outstream_nack (s, store_a, seqs, 1, 30 * MS, count_resend, &r), ==, 0);
  g_assert_cmpuint (sfu_outstream_get_stats (s)->nack_not_found, ==, 23);
  /* B's own numbers are found: its keyframe, a later packet. */
  seqs[0] = 110;
  seqs[1] = 115;
  g_assert_cmpuint (sfu_outstream_nack (s, store, seqs, 2, 30 * MS, count_resend, &r), ==, 2);
  g_assert_cmpuint (r.calls, ==, 2);
  g_assert_cmpuint (r.bad, ==, 0);
  assert_nack_sums (s);
}

typedef struct {
  SfuOutTrack *o;
  GHashTable *sent; /* out seq -> GBytes of what the forward sent */
  guint checked;
} Rebuild;

static void
rebuild_resend (guint16 out_seq, guint32 out_ts, const guint8 *packet, gsize len,
                gpointer user_data)
{
  Rebuild *rb = user_data;
  guint8 buf[1500];
  GBytes *first = g_hash_table_lookup (rb->sent, GUINT_TO_POINTER (out_seq));
  gsize first_len = 0;
  const guint8 *first_data;

  g_assert_nonnull (first);
  g_assert_cmpuint (len, <=, sizeof buf);
  memcpy (buf, packet, len);
  sfu_forward_rewrite (rb->o, buf, len, out_seq, out_ts);
  first_data = g_bytes_get_data (first, &first_len);
  g_assert_cmpmem (buf, len, first_data, first_len);
  rb->checked++;
}

/* A source packet with RFC 8285 one-byte extensions: audio level (id 1), mid (id 4) and
 * an id the leg did not negotiate (7). */
static gsize
make_extended (guint8 *buf, guint32 ssrc, guint16 seq, guint32 ts, guint8 level)
{
  static const guint8 ext[] = {
    0xBE, 0xDE, 0x00, 0x02, /* 2 words follow */
    0x10, 0x00,             /* id 1, 1 byte: the level */
    0x41, 'a',  '1',        /* id 4, 2 bytes */
    0x70, 0xEE,             /* id 7, 1 byte */
    0x00,                   /* padding */
  };
  gsize n = 0;

  buf[n++] = 0x90; /* V=2, X */
  buf[n++] = 111;
  sfu_wr16 (buf + n, seq);
  sfu_wr32 (buf + n + 2, ts);
  sfu_wr32 (buf + n + 6, ssrc);
  n += 10;
  memcpy (buf + n, ext, sizeof ext);
  buf[n + 5] = level;
  n += sizeof ext;
  for (guint i = 0; i < 80u + seq % 7u; i++)
    buf[n++] = (guint8) (seq + i);
  return n;
}

/* Resends are byte for byte what the receiver got the first time, header rewrite
 * included, for packets forwarded in order, late, and across a wrap of both numberings;
 * the rewrite really changes the header (SSRC, numbers, payload type, extension ids). */
static void
test_resend_identical (void)
{
  g_autoptr (SfuOutStream) s = stream_new (SFU_MEDIA_AUDIO, 65530, 0xfffffff0u);
  g_autoptr (SfuPacketStore) store = NULL;
  g_autoptr (GHashTable) sent =
      g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_bytes_unref);
  SfuPacketStoreConfig config;
  SfuOutTrack o = { 0 };
  Rebuild rb = { &o, sent, 0 };
  const guint order[] = { 0, 1, 2, 4, 3, 5, 6, 8, 9, 7, 10, 11, 12, 13, 14, 15 };
  guint16 seqs[G_N_ELEMENTS (order)];

  sfu_packet_store_config_init (&config, FALSE);
  store = sfu_packet_store_new (&config);
  o.ssrc = s->config.ssrc;
  o.pt = 109;
  o.ext_map[1] = 3; /* audio level: the receiver's id 3 */
  o.ext_map[4] = 0; /* mid: dropped */

  for (guint i = 0; i < G_N_ELEMENTS (order); i++) {
    guint8 src[1500], buf[1500];
    guint16 src_seq = (guint16) (65528 + order[i]);
    guint32 src_ts = 0xffffff00u + order[i] * 960;
    gsize len = make_extended (src, 0x5eed, src_seq, src_ts, (guint8) (order[i] + 30));
    guint16 out_seq;
    guint32 out_ts;
    SfuRtpPacket pkt;
    gsize ext_len;
    const guint8 *level;

    /* The forwarding path: store once, map, rewrite a copy. */
    sfu_packet_store_put (store, 0x5eed, src_seq, src, len, i * 20 * MS);
    g_assert_true (sfu_outstream_map (s, 0x5eed, src_seq, src_ts, i * 20 * MS, FALSE, &out_seq,
                                      &out_ts));
    memcpy (buf, src, len);
    sfu_forward_rewrite (&o, buf, len, out_seq, out_ts);
    g_assert_true (sfu_rtp_parse (buf, len, &pkt));
    g_assert_cmpuint (pkt.ssrc, ==, o.ssrc);
    g_assert_cmpuint (pkt.seq, ==, (guint16) (65530 + order[i]));
    g_assert_cmpuint (pkt.timestamp, ==, 0xfffffff0u + order[i] * 960);
    g_assert_cmpuint (pkt.payload_type, ==, 109);
    level = sfu_rtp_find_extension (&pkt, 3, &ext_len);
    g_assert_nonnull (level);
    g_assert_cmpuint (level[0], ==, order[i] + 30);
    g_assert_null (sfu_rtp_find_extension (&pkt, 1, &ext_len));
    g_assert_null (sfu_rtp_find_extension (&pkt, 4, &ext_len));
    g_assert_null (sfu_rtp_find_extension (&pkt, 7, &ext_len));
    g_hash_table_insert (sent, GUINT_TO_POINTER (out_seq), g_bytes_new (buf, len));
    seqs[i] = out_seq;
  }

  g_assert_cmpuint (sfu_outstream_nack (s, store, seqs, G_N_ELEMENTS (seqs), 400 * MS,
                                        rebuild_resend, &rb),
                    ==, G_N_ELEMENTS (seqs));
  g_assert_cmpuint (rb.checked, ==, G_N_ELEMENTS (seqs));
}

/* A slot count that is not a power of two is a programmer error (criticals are fatal
 * under GTest, hence the subprocess). */
static void
test_bad_config (void)
{
  if (g_test_subprocess ()) {
    SfuOutStreamConfig config;

    config_fixed (&config, SFU_MEDIA_VIDEO, 0, 0);
    config.resend_slots = 500;
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
  g_test_add_func ("/sfu-outstream/nack-flood", test_nack_flood);
  g_test_add_func ("/sfu-outstream/nack-interval", test_nack_interval);
  g_test_add_func ("/sfu-outstream/nack-old-epoch", test_nack_old_epoch);
  g_test_add_func ("/sfu-outstream/resend-identical", test_resend_identical);
  g_test_add_func ("/sfu-outstream/stream-size", test_stream_size);
  g_test_add_func ("/sfu-outstream/bad-config", test_bad_config);
  g_test_add_func ("/sfu-keyframe/timeline", test_keyframe_timeline);
  g_test_add_func ("/sfu-keyframe/due", test_keyframe_due);

  return g_test_run ();
}
