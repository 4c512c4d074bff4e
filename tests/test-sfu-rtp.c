/* SPDX-License-Identifier: MIT */
/* Unit tests for sfu-rtp and sfu-rtcp: real packets (Chromium captures, draft examples),
 * one test per hostile class, in-place rewrites re-parsed, sequence wrap and unwrapping,
 * and every builder round-tripped through its reader. Each input is parsed from a heap
 * copy of exactly its size, so that an over-read reaches ASan. */
#include "sfu-rtcp.h"
#include "sfu-rtp.h"

#include <string.h>

#define BYTES(...) ((const guint8[]){ __VA_ARGS__ }), sizeof ((const guint8[]){ __VA_ARGS__ })

/* Chromium Opus: one-byte extensions audio-level (1), transport-cc (3), mid (4), as
 * negotiated in tests/test-rec-offer.c's offer, then a 10-byte Opus frame. */
static const guint8 opus_pkt[] = {
  0x90, 0x6f, 0x4a, 0x2c, 0x00, 0x00, 0xb4, 0xc0, 0x2e, 0x1f, 0x7a, 0x01, /* fixed header */
  0xbe, 0xde, 0x00, 0x02, 0x10, 0xb6, 0x31, 0x00, 0x05, 0x40, 0x30, 0x00, /* extensions */
  0x78, 0x0b, 0x34, 0xa1, 0x6c, 0x5d, 0x2e, 0x01, 0xfc, 0x47,
};

/* Chromium video headers captured with Wireshark (olivermichel/webrtc-analysis): one-byte
 * abs-send-time, mid, color space; then a keyframe's 7 elements; then the two-byte form. */
static const guint8 chrome_hdr1[] = {
  0x90, 0x2d, 0x1a, 0x5f, 0xd4, 0x09, 0x05, 0x49, 0xf7, 0xb1, 0x6e, 0x83, 0xbe, 0xde,
  0x00, 0x03, 0x22, 0xf3, 0x43, 0x50, 0x41, 0x00, 0x9b, 0xd2, 0x81, 0x00, 0x45, 0x00,
};
static const guint8 chrome_hdr2[] = {
  0x90, 0xad, 0x19, 0xd4, 0xd4, 0x05, 0xe7, 0x97, 0xf7, 0xb1, 0x6e, 0x83, 0xbe, 0xde,
  0x00, 0x08, 0x22, 0xea, 0x43, 0x2b, 0x41, 0x00, 0x04, 0x90, 0x30, 0x30, 0x00, 0x60,
  0x02, 0x7c, 0x01, 0x00, 0x03, 0x00, 0x09, 0x00, 0x0a, 0x00, 0x23, 0x00, 0x00, 0x00,
  0x00, 0xd2, 0x40, 0x00, 0x01, 0x00,
};
static const guint8 chrome_hdr3[] = {
  0x90, 0x2d, 0x61, 0xc5, 0x95, 0x0a, 0x0f, 0xee, 0x8d, 0x38, 0x14, 0xe5, 0x10, 0x00, 0x00,
  0x11, 0x02, 0x03, 0x03, 0xf7, 0xae, 0x04, 0x02, 0x00, 0x02, 0x09, 0x01, 0x30, 0x03, 0x01,
  0x00, 0x06, 0x01, 0x02, 0x07, 0x0d, 0x01, 0x00, 0x01, 0x00, 0x07, 0x00, 0x07, 0x00, 0x0a,
  0x00, 0x00, 0x00, 0x00, 0x0d, 0x21, 0xc0, 0x00, 0x01, 0x80, 0x03, 0x18, 0x7a, 0xaa, 0xf1,
  0x30, 0xa0, 0xa0, 0x14, 0xd1, 0x41, 0x38, 0x23, 0x04, 0x60, 0x08, 0x64, 0x22, 0x22, 0x26,
  0x50, 0x09, 0xf0, 0x07, 0x70, 0x13, 0xf0, 0x0e, 0xf0,
};

/* VP8 keyframe start: transport-cc, then X=1 S=1 PID=0, I with a 15-bit picture id (42),
 * then the payload header (P=0), start code, 640x480. */
static const guint8 vp8_pkt[] = {
  0x90, 0xe0, 0x00, 0x64, 0x00, 0x01, 0x5f, 0x90, 0x11, 0x22, 0x33, 0x44, 0xbe, 0xde,
  0x00, 0x01, 0x32, 0x00, 0x07, 0x00, 0x90, 0x80, 0x80, 0x2a, 0x10, 0x02, 0x00, 0x9d,
  0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, 0x00, 0x47, 0x08, 0x85,
};

/* H.264 STAP-A with SPS, PPS, and the start of an IDR slice. */
static const guint8 h264_pkt[] = {
  0x80, 0x66, 0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0a, 0x0b, 0x0c, 0x0d, 0x78, 0x00,
  0x0a, 0x67, 0x42, 0xc0, 0x1f, 0x8c, 0x8d, 0x40, 0x50, 0x1e, 0x90, 0x00, 0x04, 0x68,
  0xce, 0x3c, 0x80, 0x00, 0x05, 0x65, 0x88, 0x84, 0x00, 0x33,
};

static guint8 *
copy (const guint8 *data, gsize len)
{
  return g_memdup2 (data, len);
}

static void
assert_bytes (const guint8 *got, gsize got_len, const guint8 *want, gsize want_len)
{
  g_assert_cmpmem (got, got_len, want, want_len);
}

static void
parse_ok (const guint8 *data, gsize len, SfuRtpPacket *pkt)
{
  g_autofree guint8 *heap = copy (data, len);
  g_autoptr (GError) error = NULL;

  g_assert_true (sfu_rtp_check (heap, len, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sfu_rtp_parse_status (heap, len, pkt), ==, SFU_RTP_OK);
  /* Re-point at the caller's bytes: the heap copy goes away. */
  g_assert_true (sfu_rtp_parse (data, len, pkt));
}

static void
assert_ext (const SfuRtpPacket *pkt, guint8 id, const guint8 *value, gsize value_len)
{
  gsize len = 99;
  const guint8 *got = sfu_rtp_find_extension (pkt, id, &len);

  g_assert_nonnull (got);
  g_assert_cmpmem (got, len, value, value_len);
}

static void
test_rtp_opus (void)
{
  SfuRtpPacket pkt;
  gboolean voice = FALSE;
  guint8 level = 0;
  gsize len;

  parse_ok (opus_pkt, sizeof opus_pkt, &pkt);
  g_assert_cmpuint (pkt.payload_type, ==, 111);
  g_assert_false (pkt.marker);
  g_assert_cmpuint (pkt.seq, ==, 0x4a2c);
  g_assert_cmpuint (pkt.timestamp, ==, 0xb4c0);
  g_assert_cmpuint (pkt.ssrc, ==, 0x2e1f7a01);
  g_assert_cmpuint (pkt.ext_profile, ==, SFU_RTP_EXT_PROFILE_ONE_BYTE);
  g_assert_cmpuint (pkt.n_extensions, ==, 3);
  g_assert_false (pkt.ext_truncated);
  assert_ext (&pkt, 1, BYTES (0xb6));
  assert_ext (&pkt, 3, BYTES (0x00, 0x05));
  assert_ext (&pkt, 4, BYTES ('0'));
  g_assert_null (sfu_rtp_find_extension (&pkt, 2, &len));
  g_assert_cmpuint (len, ==, 0);
  g_assert_cmpuint (pkt.header_len, ==, 24);
  g_assert_cmpuint (pkt.payload_len, ==, 10);
  g_assert_true (pkt.payload == opus_pkt + 24);
  g_assert_true (sfu_rtp_audio_level (&pkt, 1, &voice, &level));
  g_assert_true (voice);
  g_assert_cmpuint (level, ==, 54);
  g_assert_false (sfu_rtp_audio_level (&pkt, 2, &voice, &level));
}

static void
test_rtp_chrome_captures (void)
{
  SfuRtpPacket pkt;

  parse_ok (chrome_hdr1, sizeof chrome_hdr1, &pkt);
  g_assert_cmpuint (pkt.seq, ==, 6751);
  g_assert_cmpuint (pkt.timestamp, ==, 3557360969u);
  g_assert_cmpuint (pkt.n_extensions, ==, 3);
  assert_ext (&pkt, 2, BYTES (0xf3, 0x43, 0x50));
  assert_ext (&pkt, 4, BYTES (0x00, 0x9b));
  assert_ext (&pkt, 13, BYTES (0x81, 0x00, 0x45));
  g_assert_cmpuint (pkt.payload_len, ==, 0);

  parse_ok (chrome_hdr2, sizeof chrome_hdr2, &pkt);
  g_assert_true (pkt.marker);
  g_assert_cmpuint (pkt.n_extensions, ==, 7);
  assert_ext (&pkt, 9, BYTES ('0'));
  assert_ext (&pkt, 7, BYTES (0x01, 0x00, 0x03, 0x00, 0x09, 0x00, 0x0a, 0x00, 0x23, 0x00,
                              0x00, 0x00, 0x00));
  assert_ext (&pkt, 13, BYTES (0x40, 0x00, 0x01));

  parse_ok (chrome_hdr3, sizeof chrome_hdr3, &pkt);
  g_assert_cmpuint (pkt.ext_profile, ==, 0x1000);
  g_assert_cmpuint (pkt.n_extensions, ==, 7);
  assert_ext (&pkt, 2, BYTES (0x03, 0xf7, 0xae));
  g_assert_cmpuint (pkt.extensions[6].id, ==, 13);
  g_assert_cmpuint (pkt.extensions[6].len, ==, 33);
  g_assert_cmpuint (pkt.header_len, ==, sizeof chrome_hdr3);
}

static void
test_rtp_padding_probe (void)
{
  guint8 probe[12 + 4 + 8 + 224] = {
    0xb0, 0x61, 0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x55, 0x66, 0x77, 0x88,
    0xbe, 0xde, 0x00, 0x02, 0x22, 0x12, 0x34, 0x56, 0x31, 0x00, 0x06, 0x00,
  };
  SfuRtpPacket pkt;
  g_autoptr (GError) error = NULL;

  probe[sizeof probe - 1] = 224;
  parse_ok (probe, sizeof probe, &pkt);
  g_assert_cmpuint (pkt.payload_len, ==, 0);
  g_assert_cmpuint (pkt.padding_len, ==, 224);
  g_assert_false (sfu_rtp_vp8_is_keyframe (pkt.payload, pkt.payload_len));
  g_assert_false (sfu_rtp_h264_is_keyframe (pkt.payload, pkt.payload_len));
  /* One more than follows the header; then a count of 0. */
  probe[sizeof probe - 1] = 225;
  g_assert_false (sfu_rtp_check (probe, sizeof probe, &error));
  g_assert_error (error, SFU_RTP_ERROR, SFU_RTP_ERROR_PADDING);
  g_test_message ("%s", error->message);
  probe[sizeof probe - 1] = 0;
  g_assert_cmpint (sfu_rtp_parse_status (probe, sizeof probe, &pkt), ==, SFU_RTP_ERROR_PADDING);
  /* P set on a header-only packet: its last byte belongs to the header. */
  g_assert_cmpint (sfu_rtp_parse_status (probe, 24, &pkt), ==, SFU_RTP_ERROR_PADDING);
}

static void
test_rtp_hostile (void)
{
  static const struct {
    const char *name;
    guint8 bytes[20];
    gsize len;
    SfuRtpError code;
  } cases[] = {
    { "empty", { 0 }, 0, SFU_RTP_ERROR_SHORT },
    { "11 bytes", { 0x80 }, 11, SFU_RTP_ERROR_SHORT },
    { "version 1", { 0x40, 0x60 }, 12, SFU_RTP_ERROR_VERSION },
    { "version 3", { 0xc0, 0x60 }, 12, SFU_RTP_ERROR_VERSION },
    { "15 CSRCs in 20 bytes", { 0x8f, 0x60 }, 20, SFU_RTP_ERROR_CSRC },
    { "1 CSRC, 2 bytes of it", { 0x81, 0x60 }, 14, SFU_RTP_ERROR_CSRC },
    { "X without its header", { 0x90, 0x60 }, 14, SFU_RTP_ERROR_EXTENSION },
    { "extension length past the end",
      { 0x90, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0xff, 0xff, 0x10, 1 }, 20,
      SFU_RTP_ERROR_EXTENSION },
    { "extension one word short",
      { 0x90, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0x00, 0x02, 0x10, 1 }, 20,
      SFU_RTP_ERROR_EXTENSION },
    { "padding count 0", { 0xa0, 0x60, [13] = 0 }, 14, SFU_RTP_ERROR_PADDING },
    { "padding count past the payload", { 0xa0, 0x60, [13] = 3 }, 14, SFU_RTP_ERROR_PADDING },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree guint8 *heap = copy (cases[i].bytes, cases[i].len);
    g_autoptr (GError) error = NULL;
    SfuRtpPacket pkt;

    g_test_message ("%s", cases[i].name);
    g_assert_cmpint (sfu_rtp_parse_status (heap, cases[i].len, &pkt), ==, cases[i].code);
    g_assert_false (sfu_rtp_check (heap, cases[i].len, &error));
    g_assert_error (error, SFU_RTP_ERROR, (gint) cases[i].code);
    g_test_message ("  %s", error->message);
  }
}

/* Every prefix of every real packet: no crash, and no success shorter than the header. */
static void
test_rtp_truncated (void)
{
  static const struct {
    const guint8 *data;
    gsize len;
  } pkts[] = {
    { opus_pkt, sizeof opus_pkt },       { chrome_hdr2, sizeof chrome_hdr2 },
    { chrome_hdr3, sizeof chrome_hdr3 }, { vp8_pkt, sizeof vp8_pkt },
    { h264_pkt, sizeof h264_pkt },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pkts); i++) {
    SfuRtpPacket full;

    g_assert_true (sfu_rtp_parse (pkts[i].data, pkts[i].len, &full));
    for (gsize len = 0; len < pkts[i].len; len++) {
      g_autofree guint8 *heap = copy (pkts[i].data, len);
      static const guint8 map[16] = { 0, 2, 1, 4, 3 };
      SfuRtpPacket pkt;
      gsize skip;

      if (sfu_rtp_parse (heap, len, &pkt)) {
        g_assert_cmpuint (len, >=, full.header_len);
        sfu_rtp_vp8_is_keyframe (pkt.payload, pkt.payload_len);
        sfu_rtp_h264_is_keyframe (pkt.payload, pkt.payload_len);
        g_assert_true (sfu_rtp_remap_extension_ids (heap, len, map, sizeof map));
      } else {
        g_assert_cmpuint (len, <, full.header_len);
        g_assert_false (sfu_rtp_remap_extension_ids (heap, len, map, sizeof map));
      }
      /* The payload detectors on raw prefixes, too. */
      skip = MIN (len, full.header_len);
      sfu_rtp_vp8_is_keyframe (len ? heap + skip : NULL, len - skip);
      sfu_rtp_h264_is_keyframe (len ? heap + skip : NULL, len - skip);
    }
  }
}

static void
test_rtp_extension_elements (void)
{
  SfuRtpPacket pkt;
  guint8 many[12 + 4 + 40] = { 0x90, 0x60, [12] = 0xbe, 0xde, 0x00, 0x0a };

  /* An element running past its block: kept before it, flagged, payload still there. */
  parse_ok (BYTES (0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x01, 0x10,
                   0xaa, 0x23, 0xbb, 0x99), &pkt);
  g_assert_cmpuint (pkt.n_extensions, ==, 1);
  g_assert_true (pkt.ext_truncated);
  g_assert_cmpuint (pkt.payload_len, ==, 1);
  /* id 15 ends the list (not malformed); an id-0 byte with a length is malformed. */
  parse_ok (BYTES (0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x01, 0x10,
                   0xaa, 0xf0, 0x21), &pkt);
  g_assert_cmpuint (pkt.n_extensions, ==, 1);
  g_assert_false (pkt.ext_truncated);
  parse_ok (BYTES (0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x01, 0x00,
                   0x05, 0x10, 0xaa), &pkt);
  g_assert_cmpuint (pkt.n_extensions, ==, 0);
  g_assert_true (pkt.ext_truncated);
  /* Two-byte form: an empty element, padding, and a header cut by the block's end. */
  parse_ok (BYTES (0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10, 0x0f, 0x00, 0x01, 0x05,
                   0x00, 0x00, 0x07), &pkt);
  g_assert_cmpuint (pkt.n_extensions, ==, 1);
  assert_ext (&pkt, 5, NULL, 0);
  g_assert_true (pkt.ext_truncated);
  /* Another profile's extension: skipped whole, no elements. */
  parse_ok (BYTES (0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x12, 0x34, 0x00, 0x01, 0x10,
                   0xaa, 0x00, 0x00, 0x42), &pkt);
  g_assert_cmpuint (pkt.n_extensions, ==, 0);
  g_assert_cmpuint (pkt.payload_len, ==, 1);
  /* 20 one-byte elements: the first 16 recorded. */
  for (guint i = 0; i < 20; i++) {
    many[16 + 2 * i] = (guint8) ((i % 14 + 1) << 4);
    many[17 + 2 * i] = (guint8) i;
  }
  parse_ok (many, sizeof many, &pkt);
  g_assert_cmpuint (pkt.n_extensions, ==, SFU_RTP_MAX_EXTENSIONS);
  g_assert_true (pkt.ext_truncated);
}

static void
test_rtp_keyframes (void)
{
  SfuRtpPacket pkt;
  guint8 vp8[sizeof vp8_pkt];

  parse_ok (vp8_pkt, sizeof vp8_pkt, &pkt);
  g_assert_true (sfu_rtp_vp8_is_keyframe (pkt.payload, pkt.payload_len));
  g_assert_false (sfu_rtp_h264_is_keyframe (BYTES (0x41, 0x9a)));
  memcpy (vp8, vp8_pkt, sizeof vp8);
  vp8[20] = 0x80; /* S=0: a continuation */
  g_assert_false (sfu_rtp_vp8_is_keyframe (vp8 + 20, sizeof vp8 - 20));
  vp8[20] = 0x91; /* PID 1 */
  g_assert_false (sfu_rtp_vp8_is_keyframe (vp8 + 20, sizeof vp8 - 20));
  vp8[20] = 0x90;
  vp8[24] = 0x11; /* P=1: an inter frame */
  g_assert_false (sfu_rtp_vp8_is_keyframe (vp8 + 20, sizeof vp8 - 20));
  /* Without X, 7-bit picture id, L/T/K bytes. */
  g_assert_true (sfu_rtp_vp8_is_keyframe (BYTES (0x10, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a)));
  g_assert_true (sfu_rtp_vp8_is_keyframe (
      BYTES (0x90, 0xf0, 0x05, 0x07, 0x40, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a)));
  g_assert_false (sfu_rtp_vp8_is_keyframe (BYTES (0x90, 0xf0, 0x05, 0x07, 0x40, 0x50)));

  parse_ok (h264_pkt, sizeof h264_pkt, &pkt);
  g_assert_true (sfu_rtp_h264_is_keyframe (pkt.payload, pkt.payload_len));
  g_assert_true (sfu_rtp_h264_is_keyframe (BYTES (0x65, 0x88)));
  g_assert_true (sfu_rtp_h264_is_keyframe (BYTES (0x67)));
  g_assert_false (sfu_rtp_h264_is_keyframe (BYTES (0x68, 0xce)));
  g_assert_false (sfu_rtp_h264_is_keyframe (BYTES (0x41, 0x9a)));
  /* STAP-A: PPS then IDR; only non-IDR; a size past the end before the IDR. */
  g_assert_true (sfu_rtp_h264_is_keyframe (BYTES (0x78, 0, 2, 0x68, 0xce, 0, 1, 0x65)));
  g_assert_false (sfu_rtp_h264_is_keyframe (BYTES (0x78, 0, 2, 0x68, 0xce, 0, 1, 0x41)));
  g_assert_false (sfu_rtp_h264_is_keyframe (BYTES (0x78, 0, 9, 0x68, 0xce, 0, 1, 0x65)));
  g_assert_false (sfu_rtp_h264_is_keyframe (BYTES (0x78, 0, 0, 0, 1, 0x65)));
  /* FU-A: start of an IDR; its middle and end; start of a non-IDR slice. */
  g_assert_true (sfu_rtp_h264_is_keyframe (BYTES (0x7c, 0x85, 0xb8)));
  g_assert_false (sfu_rtp_h264_is_keyframe (BYTES (0x7c, 0x05, 0xb8)));
  g_assert_false (sfu_rtp_h264_is_keyframe (BYTES (0x7c, 0x45, 0xb8)));
  g_assert_false (sfu_rtp_h264_is_keyframe (BYTES (0x7c, 0x81, 0xb8)));
  g_assert_false (sfu_rtp_h264_is_keyframe (BYTES (0x7c)));
  g_assert_false (sfu_rtp_h264_is_keyframe (NULL, 0));
}

static void
test_rtp_rewrite_header (void)
{
  g_autofree guint8 *buf = copy (opus_pkt, sizeof opus_pkt);
  SfuRtpPacket pkt;

  sfu_rtp_set_ssrc (buf, sizeof opus_pkt, 0xdeadbeef);
  sfu_rtp_set_seq (buf, sizeof opus_pkt, 65535);
  sfu_rtp_set_timestamp (buf, sizeof opus_pkt, 0xfffffff0);
  sfu_rtp_set_marker (buf, sizeof opus_pkt, TRUE);
  sfu_rtp_set_payload_type (buf, sizeof opus_pkt, 109);
  g_assert_true (sfu_rtp_parse (buf, sizeof opus_pkt, &pkt));
  g_assert_cmpuint (pkt.ssrc, ==, 0xdeadbeef);
  g_assert_cmpuint (pkt.seq, ==, 65535);
  g_assert_cmpuint (pkt.timestamp, ==, 0xfffffff0);
  g_assert_true (pkt.marker);
  g_assert_cmpuint (pkt.payload_type, ==, 109);
  g_assert_cmpmem (pkt.payload, pkt.payload_len, opus_pkt + 24, 10);
  g_assert_cmpmem (buf + 12, 12, opus_pkt + 12, 12);
  sfu_rtp_set_marker (buf, sizeof opus_pkt, FALSE);
  g_assert_cmphex (buf[1], ==, 109);
}

static void
test_rtp_remap (void)
{
  g_autofree guint8 *buf = copy (opus_pkt, sizeof opus_pkt);
  g_autofree guint8 *two = copy (chrome_hdr3, sizeof chrome_hdr3);
  guint8 map[256] = { 0 };
  SfuRtpPacket pkt;
  gboolean voice;
  guint8 level;

  /* audio-level 1 → 5, transport-cc 3 → 2, mid 4 dropped (the leg did not negotiate it). */
  map[1] = 5;
  map[3] = 2;
  g_assert_true (sfu_rtp_remap_extension_ids (buf, sizeof opus_pkt, map, 16));
  g_assert_true (sfu_rtp_parse (buf, sizeof opus_pkt, &pkt));
  g_assert_cmpuint (pkt.n_extensions, ==, 2);
  assert_ext (&pkt, 2, BYTES (0x00, 0x05));
  g_assert_null (sfu_rtp_find_extension (&pkt, 4, NULL));
  g_assert_true (sfu_rtp_audio_level (&pkt, 5, &voice, &level) && voice && level == 54);
  assert_bytes (buf + 16, 8, BYTES (0x50, 0xb6, 0x21, 0x00, 0x05, 0x00, 0x00, 0x00));
  g_assert_cmpmem (pkt.payload, pkt.payload_len, opus_pkt + 24, 10);

  /* One-byte form cannot carry 15: dropped; a 0-entry map drops everything. */
  map[5] = 15;
  map[2] = 2;
  g_assert_true (sfu_rtp_remap_extension_ids (buf, sizeof opus_pkt, map, 16));
  g_assert_true (sfu_rtp_parse (buf, sizeof opus_pkt, &pkt));
  g_assert_cmpuint (pkt.n_extensions, ==, 1);
  g_assert_true (sfu_rtp_remap_extension_ids (buf, sizeof opus_pkt, NULL, 0));
  assert_bytes (buf + 16, 8, BYTES (0, 0, 0, 0, 0, 0, 0, 0));

  /* Two-byte form: ids up to 255; a 16-entry map drops the rest. */
  memset (map, 0, sizeof map);
  map[2] = 200;
  map[13] = 14;
  map[7] = 7;
  g_assert_true (sfu_rtp_remap_extension_ids (two, sizeof chrome_hdr3, map, 256));
  g_assert_true (sfu_rtp_parse (two, sizeof chrome_hdr3, &pkt));
  g_assert_cmpuint (pkt.n_extensions, ==, 3);
  assert_ext (&pkt, 200, BYTES (0x03, 0xf7, 0xae));
  g_assert_cmpuint (sfu_rtp_find_extension (&pkt, 14, NULL) - two, ==, 51);
  map[14] = 14;
  g_assert_true (sfu_rtp_remap_extension_ids (two, sizeof chrome_hdr3, map, 16));
  g_assert_true (sfu_rtp_parse (two, sizeof chrome_hdr3, &pkt));
  g_assert_cmpuint (pkt.n_extensions, ==, 2);
  g_assert_null (sfu_rtp_find_extension (&pkt, 200, NULL));
}

/* After id 15 or a malformed element, the rest of the block is zeroed: it must not reach
 * the leg with the sender's ids. Invalid packets are left alone. */
static void
test_rtp_remap_tails (void)
{
  static const guint8 map[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
  guint8 stop[] = { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x02,
                    0x10, 0xaa, 0xf0, 0x21, 0x22, 0x10, 0xbb, 0xcc };
  guint8 bad[] = { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x01,
                   0x10, 0xaa, 0x23, 0xbb, 0x99 };
  guint8 invalid[] = { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x02,
                       0x10, 0xaa, 0x00, 0x00 };
  guint8 before[sizeof invalid];

  g_assert_true (sfu_rtp_remap_extension_ids (stop, sizeof stop, map, sizeof map));
  assert_bytes (stop + 16, 8, BYTES (0x10, 0xaa, 0, 0, 0, 0, 0, 0));
  g_assert_true (sfu_rtp_remap_extension_ids (bad, sizeof bad, map, sizeof map));
  assert_bytes (bad + 16, 5, BYTES (0x10, 0xaa, 0, 0, 0x99));
  memcpy (before, invalid, sizeof invalid);
  g_assert_false (sfu_rtp_remap_extension_ids (invalid, sizeof invalid, map, sizeof map));
  g_assert_cmpmem (invalid, sizeof invalid, before, sizeof before);
}

static void
test_seq_newer (void)
{
  g_assert_true (sfu_seq_newer (0, 65535));
  g_assert_false (sfu_seq_newer (65535, 0));
  g_assert_true (sfu_seq_newer (100, 65000));
  g_assert_false (sfu_seq_newer (5, 5));
  g_assert_true (sfu_seq_newer (32767, 0));
  g_assert_false (sfu_seq_newer (32769, 0));
  g_assert_false (sfu_seq_newer (32768, 0) && sfu_seq_newer (0, 32768));
  g_assert_cmpint (sfu_seq_diff (2, 65534), ==, 4);
  g_assert_cmpint (sfu_seq_diff (65534, 2), ==, -4);
}

static SfuSeqResult
unwrap (SfuSeqUnwrapper *u, guint16 seq, guint64 *ext)
{
  SfuSeqResult r = sfu_seq_unwrap (u, seq, ext);

  if (r != SFU_SEQ_JUMP)
    g_assert_cmpuint (*ext & 0xFFFF, ==, seq);
  return r;
}

static void
test_seq_unwrap (void)
{
  SfuSeqUnwrapper u;
  guint64 ext, at_65535;

  /* 65534, 65535, 0, 1: one step each across the wrap. */
  sfu_seq_unwrapper_init (&u);
  g_assert_cmpint (unwrap (&u, 65534, &ext), ==, SFU_SEQ_FIRST);
  g_assert_cmpuint (ext, ==, 0x10000 + 65534);
  g_assert_cmpint (unwrap (&u, 65535, &at_65535), ==, SFU_SEQ_IN_ORDER);
  g_assert_cmpint (unwrap (&u, 0, &ext), ==, SFU_SEQ_IN_ORDER);
  g_assert_cmpuint (ext, ==, at_65535 + 1);
  g_assert_cmpint (unwrap (&u, 1, &ext), ==, SFU_SEQ_IN_ORDER);
  g_assert_cmpuint (ext, ==, at_65535 + 2);
  /* Reordered across the wrap, and a duplicate of it: back in the previous block. */
  g_assert_cmpint (unwrap (&u, 65535, &ext), ==, SFU_SEQ_REORDERED);
  g_assert_cmpuint (ext, ==, at_65535);
  g_assert_cmpint (unwrap (&u, 1, &ext), ==, SFU_SEQ_REORDERED);
  g_assert_cmpuint (ext, ==, at_65535 + 2);
  /* A gap under max_dropout is loss, not a restart. */
  g_assert_cmpint (unwrap (&u, 2001, &ext), ==, SFU_SEQ_IN_ORDER);
  g_assert_cmpuint (ext, ==, at_65535 + 2002);

  /* A packet from before the first one still gets a positive number. */
  sfu_seq_unwrapper_init (&u);
  unwrap (&u, 5, &ext);
  g_assert_cmpint (unwrap (&u, 65530, &ext), ==, SFU_SEQ_REORDERED);
  g_assert_cmpuint (ext, ==, 65530);

  /* A jump of 40000 is not taken alone; with its successor it is a restart. */
  sfu_seq_unwrapper_init (&u);
  unwrap (&u, 100, &ext);
  unwrap (&u, 101, &at_65535);
  g_assert_cmpint (unwrap (&u, 40101, &ext), ==, SFU_SEQ_JUMP);
  g_assert_cmpuint (ext, ==, 0);
  g_assert_cmpint (unwrap (&u, 102, &ext), ==, SFU_SEQ_IN_ORDER);
  g_assert_cmpint (unwrap (&u, 40102, &ext), ==, SFU_SEQ_RESYNC);
  g_assert_cmpuint (ext, >, at_65535);
  g_assert_cmpint (unwrap (&u, 40103, &ext), ==, SFU_SEQ_IN_ORDER);
  g_assert_cmpint (unwrap (&u, 102, &ext), ==, SFU_SEQ_JUMP); /* the old stream is gone */
  /* Backwards further than max_misorder: a jump as well. */
  g_assert_cmpint (unwrap (&u, 40103 - 2000, &ext), ==, SFU_SEQ_JUMP);
  /* A lone stray packet does not move the stream. */
  g_assert_cmpint (unwrap (&u, 40104, &ext), ==, SFU_SEQ_IN_ORDER);
}

/* RTCP */

#define SSRC_A 0x2e, 0x1f, 0x7a, 0x01
#define SSRC_1 0x00, 0x00, 0x00, 0x01

/* A sender's compound: SR without report blocks, SDES CNAME (Chromium's layout). */
static const guint8 sr_sdes[] = {
  0x80, 0xc8, 0x00, 0x06, SSRC_A, 0xe8, 0x4a, 0x6b, 0x1c, 0x3f, 0x7c, 0xed, 0x91, 0x00, 0x0b,
  0x6a, 0x40, 0x00, 0x00, 0x01, 0xf4, 0x00, 0x01, 0x2c, 0x3a,
  0x81, 0xca, 0x00, 0x06, SSRC_A, 0x01, 0x10, '4', 'T', 'O', 'k', '4', '2', 'm', 'S', 'j', 'X',
  'C', 'k', 'V', 'I', 'a', '6', 0x00, 0x00,
};

/* A receiver's compound: RR, REMB 1.5 Mbps, NACK 65534 65535 0, PLI, FIR, BYE "gone". */
static const guint8 receiver[] = {
  0x81, 0xc9, 0x00, 0x07, SSRC_1, SSRC_A, 0x05, 0xff, 0xff, 0xfe, 0x00, 0x01, 0x4a, 0x2c, 0x00,
  0x00, 0x00, 0x1c, 0x6b, 0x1c, 0x3f, 0x7c, 0x00, 0x01, 0x20, 0x00,
  0x8f, 0xce, 0x00, 0x05, SSRC_1, 0x00, 0x00, 0x00, 0x00, 'R', 'E', 'M', 'B', 0x01, 0x0e, 0xdc,
  0x6c, SSRC_A,
  0x81, 0xcd, 0x00, 0x03, SSRC_1, SSRC_A, 0xff, 0xfe, 0x00, 0x03,
  0x81, 0xce, 0x00, 0x02, SSRC_1, SSRC_A,
  0x84, 0xce, 0x00, 0x04, SSRC_1, 0x00, 0x00, 0x00, 0x00, SSRC_A, 0x07, 0x00, 0x00, 0x00,
  0x81, 0xcb, 0x00, 0x03, SSRC_A, 0x04, 'g', 'o', 'n', 'e', 0x00, 0x00, 0x00,
};

static guint
collect (const guint8 *data, gsize len, SfuRtcpBlock *blocks, guint max, SfuRtcpIter *iter)
{
  guint n = 0;

  sfu_rtcp_iter_init (iter, data, len);
  while (n < max && sfu_rtcp_iter_next (iter, &blocks[n]))
    n++;
  return n;
}

static void
test_rtcp_sender (void)
{
  g_autofree guint8 *heap = copy (sr_sdes, sizeof sr_sdes);
  SfuRtcpBlock b[4];
  SfuRtcpIter iter;
  SfuRtcpSr sr;
  const guint8 *cname;
  gsize cname_len;
  guint32 ssrc;

  g_assert_cmpuint (collect (heap, sizeof sr_sdes, b, 4, &iter), ==, 2);
  g_assert_false (iter.error);
  g_assert_true (sfu_rtcp_check (heap, sizeof sr_sdes, NULL));
  g_assert_true (sfu_rtcp_read_sr (&b[0], &sr));
  g_assert_cmpuint (sr.ssrc, ==, 0x2e1f7a01);
  g_assert_cmphex (sr.ntp_time, ==, G_GUINT64_CONSTANT (0xe84a6b1c3f7ced91));
  g_assert_cmpuint (sr.rtp_time, ==, 0x0b6a40);
  g_assert_cmpuint (sr.packet_count, ==, 500);
  g_assert_cmpuint (sr.octet_count, ==, 76858);
  g_assert_cmpuint (sr.n_reports, ==, 0);
  g_assert_false (sfu_rtcp_read_rr (&b[0], &(SfuRtcpRr){ 0 }));
  g_assert_true (sfu_rtcp_read_sdes_cname (&b[1], &ssrc, &cname, &cname_len));
  g_assert_cmpuint (ssrc, ==, 0x2e1f7a01);
  g_assert_cmpmem (cname, cname_len, "4TOk42mSjXCkVIa6", 16);
}

static void
test_rtcp_receiver (void)
{
  g_autofree guint8 *heap = copy (receiver, sizeof receiver);
  SfuRtcpBlock b[8];
  SfuRtcpIter iter;
  SfuRtcpRr rr;
  SfuRtcpRemb remb;
  SfuRtcpFb fb;
  SfuRtcpFirEntry fir[4];
  SfuRtcpBye bye;
  guint16 seqs[SFU_RTCP_MAX_NACK_SEQS];
  guint n;
  gboolean truncated;

  g_assert_cmpuint (collect (heap, sizeof receiver, b, 8, &iter), ==, 6);
  g_assert_false (iter.error);
  g_assert_true (sfu_rtcp_check (heap, sizeof receiver, NULL));

  g_assert_true (sfu_rtcp_read_rr (&b[0], &rr));
  g_assert_cmpuint (rr.ssrc, ==, 1);
  g_assert_cmpuint (rr.n_reports, ==, 1);
  g_assert_cmpuint (rr.reports[0].ssrc, ==, 0x2e1f7a01);
  g_assert_cmpuint (rr.reports[0].fraction_lost, ==, 5);
  g_assert_cmpint (rr.reports[0].cumulative_lost, ==, -2);
  g_assert_cmpuint (rr.reports[0].ext_highest_seq, ==, 0x14a2c);
  g_assert_cmpuint (rr.reports[0].jitter, ==, 28);
  g_assert_cmpuint (rr.reports[0].lsr, ==, 0x6b1c3f7c);
  g_assert_cmpuint (rr.reports[0].dlsr, ==, 0x12000);

  g_assert_true (sfu_rtcp_read_remb (&b[1], &remb));
  g_assert_cmpuint (remb.bitrate, ==, 1500000);
  g_assert_cmpuint (remb.n_ssrcs, ==, 1);
  g_assert_cmpuint (remb.ssrcs[0], ==, 0x2e1f7a01);
  g_assert_false (sfu_rtcp_read_pli (&b[1], &fb));

  g_assert_true (sfu_rtcp_read_nack (&b[2], &fb, seqs, G_N_ELEMENTS (seqs), &n, &truncated));
  g_assert_cmpuint (fb.media_ssrc, ==, 0x2e1f7a01);
  g_assert_cmpuint (n, ==, 3);
  g_assert_false (truncated);
  g_assert_cmpmem (seqs, sizeof (guint16) * 3, ((guint16[]){ 65534, 65535, 0 }), 6);
  g_assert_true (sfu_rtcp_read_nack (&b[2], &fb, seqs, 2, &n, &truncated));
  g_assert_true (n == 2 && truncated);

  g_assert_true (sfu_rtcp_read_pli (&b[3], &fb));
  g_assert_cmpuint (fb.sender_ssrc, ==, 1);
  g_assert_true (sfu_rtcp_read_fir (&b[4], &fb, fir, 4, &n));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (fir[0].ssrc, ==, 0x2e1f7a01);
  g_assert_cmpuint (fir[0].seq_nr, ==, 7);
  g_assert_true (sfu_rtcp_read_bye (&b[5], &bye));
  g_assert_cmpuint (bye.n_ssrcs, ==, 1);
  g_assert_cmpmem (bye.reason, bye.reason_len, "gone", 4);
}

typedef struct {
  const char *name;
  const guint8 *data;
  gsize len;
  guint16 base_seq, status_count;
  gint32 reference_time;
  guint8 fb_count;
  const gint32 *deltas; /* per status: -1 not received, else the delta */
} TwccCase;

#define TWCC(name, base, count, ref, fbc, deltas, ...)                                      \
  { name, BYTES (__VA_ARGS__), base, count, ref, fbc, (const gint32[]) deltas }
#define L(...) { __VA_ARGS__ }

/* Chromium's feedback as captured (webrtc-analysis) and as pion's tests carry it: run
 * length, 1-bit and 2-bit vectors, large deltas, and padding counts of 1 to 3. */
static const TwccCase twcc_cases[] = {
  TWCC ("chromium, run of 9", 1, 9, 6197520, 0, L (28, 12, 44, 56, 0, 4, 0, 8, 24),
        0xaf, 0xcd, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0xdd, 0x58, 0x6e, 0xb6, 0x00, 0x01,
        0x00, 0x09, 0x5e, 0x91, 0x10, 0x00, 0x20, 0x09, 0x1c, 0x0c, 0x2c, 0x38, 0x00, 0x04,
        0x00, 0x08, 0x18, 0x01),
  TWCC ("one packet", 153, 1, 4057090, 23, L (148), 0xaf, 0xcd, 0x0, 0x5, 0xfa, 0x17, 0xfa,
        0x17, 0x43, 0x3, 0x2f, 0xa0, 0x0, 0x99, 0x0, 0x1, 0x3d, 0xe8, 0x2, 0x17, 0x20, 0x1,
        0x94, 0x1),
  TWCC ("run of 7, padding 3", 4, 7, 1074030, 1, L (76, 36, 36, 16, 12, 12, 16), 0xaf, 0xcd,
        0x0, 0x7, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb, 0x0, 0x4, 0x0, 0x7, 0x10,
        0x63, 0x6e, 0x1, 0x20, 0x7, 0x4c, 0x24, 0x24, 0x10, 0xc, 0xc, 0x10, 0x0, 0x0, 0x3),
  TWCC ("1-bit vector", 1, 14, 1074029, 0, L (16, 12, 12, -1, 16, -1, -1, -1, -1, -1, -1, -1,
        -1, -1), 0xaf, 0xcd, 0x0, 0x6, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb, 0x0,
        0x1, 0x0, 0xe, 0x10, 0x63, 0x6d, 0x0, 0xba, 0x0, 0x10, 0xc, 0xc, 0x10, 0x0, 0x2),
  TWCC ("2-bit vector and a run", 34108, 9, 6551830, 179, L (155, 170, 106, 170, 123, -1,
        265, -1, -1), 0xaf, 0xcd, 0x0, 0x7, 0x9b, 0x74, 0xf6, 0x1f, 0x93, 0x71, 0xdc, 0xbc,
        0x85, 0x3c, 0x0, 0x9, 0x63, 0xf9, 0x16, 0xb3, 0xd5, 0x52, 0x0, 0x30, 0x9b, 0xaa, 0x6a,
        0xaa, 0x7b, 0x1, 0x9, 0x1),
  TWCC ("large deltas, no padding", 372, 6, 4567386, 64, L (8190, 8090, 208, 0, 208, 0), 0x8f,
        0xcd, 0x0, 0x7, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb, 0x1, 0x74, 0x0, 0x6,
        0x45, 0xb1, 0x5a, 0x40, 0x40, 0x2, 0x20, 0x04, 0x1f, 0xfe, 0x1f, 0x9a, 0xd0, 0x0, 0xd0,
        0x0),
};

static void
test_rtcp_twcc (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (twcc_cases); i++) {
    const TwccCase *c = &twcc_cases[i];
    g_autofree guint8 *heap = copy (c->data, c->len);
    SfuRtcpTwccPacket pkts[32];
    SfuRtcpBlock block;
    SfuRtcpIter iter;
    SfuRtcpTwcc twcc;
    guint n, received = 0;

    g_test_message ("%s", c->name);
    g_assert_cmpuint (collect (heap, c->len, &block, 1, &iter), ==, 1);
    g_assert_true (sfu_rtcp_read_twcc (&block, &twcc, pkts, G_N_ELEMENTS (pkts), &n));
    g_assert_cmpuint (twcc.base_seq, ==, c->base_seq);
    g_assert_cmpuint (twcc.status_count, ==, c->status_count);
    g_assert_cmpint (twcc.reference_time, ==, c->reference_time);
    g_assert_cmpuint (twcc.fb_count, ==, c->fb_count);
    g_assert_cmpuint (n, ==, c->status_count);
    for (guint k = 0; k < n; k++) {
      g_assert_cmpuint (pkts[k].seq, ==, (guint16) (c->base_seq + k));
      g_assert_cmpint (pkts[k].received, ==, c->deltas[k] >= 0);
      g_assert_cmpint (pkts[k].delta, ==, MAX (c->deltas[k], 0));
      received += pkts[k].received;
    }
    g_assert_cmpuint (twcc.n_received, ==, received);
    /* The cap cuts the list, not the validation. */
    g_assert_true (sfu_rtcp_read_twcc (&block, &twcc, pkts, 2, &n));
    g_assert_cmpuint (n, ==, MIN (2, c->status_count));
    g_assert_cmpuint (twcc.n_received, ==, received);
  }
}

#define TWCC_HDR(count)                                                                     \
  SSRC_1, SSRC_A, 0x00, 0x10, (count) >> 8, (count) & 0xFF, 0x00, 0x00, 0x01, 0x02

static void
test_rtcp_twcc_hostile (void)
{
  static const struct {
    const char *name;
    guint8 bytes[40];
    gsize len;
  } cases[] = {
    { "status count 0", { 0x8f, 0xcd, 0x00, 0x04, TWCC_HDR (0) }, 20 },
    { "no room for the fixed fields", { 0x8f, 0xcd, 0x00, 0x03, SSRC_1, SSRC_A, 0, 1, 0, 1 },
      16 },
    { "status count huge, chunks past the end",
      { 0x8f, 0xcd, 0x00, 0x05, TWCC_HDR (65535), 0x3f, 0xff, 0x00, 0x00 }, 24 },
    { "status count huge, deltas missing",
      { 0x8f, 0xcd, 0x00, 0x07, TWCC_HDR (65535), 0x3f, 0xff, 0x3f, 0xff, 0x3f, 0xff, 0x3f,
        0xff, 0x3f, 0xff, 0x3f, 0xff }, 32 },
    { "one delta missing", { 0x8f, 0xcd, 0x00, 0x06, TWCC_HDR (7), 0x20, 0x07, 1, 2, 3, 4, 5,
                             6 }, 28 },
    { "large delta cut by the padding",
      { 0xaf, 0xcd, 0x00, 0x05, TWCC_HDR (1), 0x40, 0x01, 0x01, 0x01 }, 24 },
    { "reserved symbol in a run", { 0x8f, 0xcd, 0x00, 0x05, TWCC_HDR (1), 0x60, 0x01, 0, 0 }, 24 },
    { "reserved symbol in a 2-bit vector",
      { 0x8f, 0xcd, 0x00, 0x05, TWCC_HDR (2), 0xcc, 0x00, 0, 0 }, 24 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree guint8 *heap = copy (cases[i].bytes, cases[i].len);
    g_autoptr (GError) error = NULL;
    SfuRtcpTwccPacket pkts[8];
    SfuRtcpBlock block;
    SfuRtcpIter iter;
    SfuRtcpTwcc twcc;
    guint n = 99;

    g_test_message ("%s", cases[i].name);
    g_assert_cmpuint (collect (heap, cases[i].len, &block, 1, &iter), ==, 1);
    g_assert_false (sfu_rtcp_read_twcc (&block, &twcc, pkts, G_N_ELEMENTS (pkts), &n));
    g_assert_cmpuint (n, ==, 0);
    g_assert_false (sfu_rtcp_check (heap, cases[i].len, &error));
    g_assert_error (error, SFU_RTCP_ERROR, SFU_RTCP_ERROR_BLOCK);
  }
}

/* 65535 packets, none received, in 9 run-length chunks: valid, and the cap bounds the
 * work; then a NACK of 16000 items asking for every packet. */
static void
test_rtcp_floods (void)
{
  guint8 lost[] = { 0x8f, 0xcd, 0x00, 0x09, TWCC_HDR (65535), 0x1f, 0xff, 0x1f, 0xff, 0x1f, 0xff,
                    0x1f, 0xff, 0x1f, 0xff, 0x1f, 0xff, 0x1f, 0xff, 0x1f, 0xff, 0x00, 0x07, 0x00,
                    0x00 };
  gsize nack_len = 12 + 4 * 16000;
  g_autofree guint8 *nack = g_malloc (nack_len);
  guint16 seqs[SFU_RTCP_MAX_NACK_SEQS];
  SfuRtcpTwccPacket pkts[100];
  SfuRtcpBlock block;
  SfuRtcpIter iter;
  SfuRtcpTwcc twcc;
  gboolean truncated;
  guint n;

  g_assert_cmpuint (collect (lost, sizeof lost, &block, 1, &iter), ==, 1);
  g_assert_true (sfu_rtcp_read_twcc (&block, &twcc, pkts, G_N_ELEMENTS (pkts), &n));
  g_assert_cmpuint (n, ==, 100);
  g_assert_cmpuint (twcc.n_received, ==, 0);
  g_assert_cmpuint (pkts[99].seq, ==, 0x10 + 99);

  memcpy (nack, (guint8[]){ 0x81, 0xcd, (nack_len / 4 - 1) >> 8, (nack_len / 4 - 1) & 0xff,
                            SSRC_1, SSRC_A }, 12);
  for (guint i = 0; i < 16000; i++)
    memcpy (nack + 12 + 4 * i, (guint8[]){ i >> 4, (i & 0xf) << 4, 0xff, 0xff }, 4);
  g_assert_cmpuint (collect (nack, nack_len, &block, 1, &iter), ==, 1);
  g_assert_true (sfu_rtcp_read_nack (&block, NULL, seqs, G_N_ELEMENTS (seqs), &n, &truncated));
  g_assert_cmpuint (n, ==, SFU_RTCP_MAX_NACK_SEQS);
  g_assert_true (truncated);
  /* An FCI count the packet does not hold is a length error. */
  nack[2] = 0xff;
  g_assert_cmpuint (collect (nack, nack_len, &block, 1, &iter), ==, 0);
  g_assert_cmpint (iter.status, ==, SFU_RTCP_ERROR_LENGTH);
}

static void
test_rtcp_iter_hostile (void)
{
  static const struct {
    const char *name;
    guint8 bytes[32];
    gsize len;
    guint blocks;
    SfuRtcpError status;
  } cases[] = {
    { "empty", { 0 }, 0, 0, SFU_RTCP_ERROR_SHORT },
    { "3 bytes", { 0x80, 0xc9, 0x00 }, 3, 0, SFU_RTCP_ERROR_SHORT },
    { "version 1", { 0x40, 0xc9, 0x00, 0x01, SSRC_1 }, 8, 0, SFU_RTCP_ERROR_VERSION },
    { "length 0xffff", { 0x80, 0xc9, 0xff, 0xff, SSRC_1 }, 8, 0, SFU_RTCP_ERROR_LENGTH },
    { "second block's length past the end",
      { 0x81, 0xce, 0x00, 0x02, SSRC_1, SSRC_A, 0x81, 0xce, 0x00, 0x09, SSRC_1, SSRC_A }, 24, 1,
      SFU_RTCP_ERROR_LENGTH },
    { "padding in a non-last block (Chromium, libwebrtc accepts it)",
      { 0xa1, 0xce, 0x00, 0x03, SSRC_1, SSRC_A, 0, 0, 0, 4, 0x81, 0xce, 0x00, 0x02, SSRC_1,
        SSRC_A }, 28, 2, SFU_RTCP_OK },
    { "padding count 0", { 0xa1, 0xce, 0x00, 0x02, SSRC_1, 0, 0, 0, 0 }, 12, 0,
      SFU_RTCP_ERROR_PADDING },
    { "padding count past the body", { 0xa1, 0xce, 0x00, 0x02, SSRC_1, 0, 0, 0, 9 }, 12, 0,
      SFU_RTCP_ERROR_PADDING },
    { "2 trailing bytes", { 0x81, 0xce, 0x00, 0x02, SSRC_1, SSRC_A, 0x81, 0xce }, 14, 1,
      SFU_RTCP_ERROR_SHORT },
    { "padded last block", { 0x80, 0xc9, 0x00, 0x01, SSRC_1, 0xa1, 0xce, 0x00, 0x03, SSRC_1,
                             SSRC_A, 0, 0, 0, 4 }, 24, 2, SFU_RTCP_OK },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree guint8 *heap = copy (cases[i].bytes, cases[i].len);
    g_autoptr (GError) error = NULL;
    SfuRtcpBlock blocks[4];
    SfuRtcpIter iter;

    g_test_message ("%s", cases[i].name);
    g_assert_cmpuint (collect (heap, cases[i].len, blocks, 4, &iter), ==, cases[i].blocks);
    g_assert_cmpint (iter.error, ==, cases[i].status != SFU_RTCP_OK);
    g_assert_cmpint (iter.status, ==, cases[i].status);
    g_assert_false (sfu_rtcp_iter_next (&iter, &blocks[0])); /* stays stopped */
    if (cases[i].status == SFU_RTCP_OK) {
      const SfuRtcpBlock *padded = blocks[0].padded ? &blocks[0] : &blocks[1];
      g_assert_true (padded->padded && padded->len == 12);
      g_assert_true (sfu_rtcp_read_pli (padded, NULL));
      g_assert_true (sfu_rtcp_read_pli (&blocks[1], NULL));
      continue;
    }
    g_assert_false (sfu_rtcp_check (heap, cases[i].len, &error));
    g_assert_error (error, SFU_RTCP_ERROR, (gint) cases[i].status);
    g_test_message ("  %s", error->message);
  }
}

/* Blocks the iterator accepts but that are shorter than what they declare. */
static void
test_rtcp_short_blocks (void)
{
  static const struct {
    const char *name;
    guint8 bytes[32];
    gsize len;
  } cases[] = {
    { "SR with RC 1 and no report block", { 0x81, 0xc8, 0x00, 0x06, SSRC_A }, 28 },
    { "RR with RC 31 and 1 report block", { 0x9f, 0xc9, 0x00, 0x07, SSRC_1 }, 32 },
    { "RR of 4 bytes", { 0x80, 0xc9, 0x00, 0x00 }, 4 },
    { "SDES item past the end", { 0x81, 0xca, 0x00, 0x02, SSRC_A, 0x01, 0x10, 'a', 'b' }, 12 },
    { "SDES without CNAME", { 0x81, 0xca, 0x00, 0x02, SSRC_A, 0x02, 0x01, 'x', 0x00 }, 12 },
    { "BYE with SC 5 and 1 SSRC", { 0x85, 0xcb, 0x00, 0x01, SSRC_A }, 8 },
    { "PLI of 8 bytes", { 0x81, 0xce, 0x00, 0x01, SSRC_1 }, 8 },
    { "FIR without entries", { 0x84, 0xce, 0x00, 0x02, SSRC_1, 0, 0, 0, 0 }, 12 },
    { "NACK without items", { 0x81, 0xcd, 0x00, 0x02, SSRC_1, SSRC_A }, 12 },
    { "REMB with 10 SSRCs and 1", { 0x8f, 0xce, 0x00, 0x05, SSRC_1, 0, 0, 0, 0, 'R', 'E', 'M',
                                    'B', 10, 0x0e, 0xdc, 0x6c, SSRC_A }, 24 },
    { "REMB bitrate past 64 bits", { 0x8f, 0xce, 0x00, 0x04, SSRC_1, 0, 0, 0, 0, 'R', 'E', 'M',
                                     'B', 0, 0xfe, 0xff, 0xff }, 20 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree guint8 *heap = copy (cases[i].bytes, cases[i].len);
    g_autoptr (GError) error = NULL;
    SfuRtcpBlock block;
    SfuRtcpIter iter;

    g_test_message ("%s", cases[i].name);
    g_assert_cmpuint (collect (heap, cases[i].len, &block, 1, &iter), ==, 1);
    g_assert_false (sfu_rtcp_check (heap, cases[i].len, &error));
    g_assert_error (error, SFU_RTCP_ERROR, SFU_RTCP_ERROR_BLOCK);
    g_test_message ("  %s", error->message);
  }
}

/* Every prefix of the receiver compound: good blocks before the cut, then an error
 * unless the cut falls between blocks. */
static void
test_rtcp_truncated (void)
{
  for (gsize len = 0; len < sizeof receiver; len++) {
    g_autofree guint8 *heap = copy (receiver, len);
    SfuRtcpBlock blocks[8];
    SfuRtcpIter iter;
    guint n = collect (heap, len, blocks, 8, &iter);
    gboolean boundary = len > 0 && (n > 0 && blocks[n - 1].offset + blocks[n - 1].len == len);

    g_assert_cmpint (iter.error, ==, !boundary);
    g_assert_cmpint (sfu_rtcp_check (heap, len, NULL), ==, boundary);
  }
}

/* Field by field: the structs have padding bytes. */
static void
assert_reports (const SfuRtcpReportBlock *a, guint n_a, const SfuRtcpReportBlock *b, guint n_b)
{
  g_assert_cmpuint (n_a, ==, n_b);
  for (guint i = 0; i < n_a; i++) {
    g_assert_cmpuint (a[i].ssrc, ==, b[i].ssrc);
    g_assert_cmpuint (a[i].fraction_lost, ==, b[i].fraction_lost);
    g_assert_cmpint (a[i].cumulative_lost, ==, b[i].cumulative_lost);
    g_assert_cmpuint (a[i].ext_highest_seq, ==, b[i].ext_highest_seq);
    g_assert_true (a[i].jitter == b[i].jitter && a[i].lsr == b[i].lsr && a[i].dlsr == b[i].dlsr);
  }
}

static void
test_rtcp_build (void)
{
  guint8 buf[4096];
  SfuRtcpSr sr = { .ssrc = 7, .ntp_time = G_GUINT64_CONSTANT (0xe84a6b1c3f7ced91),
                   .rtp_time = 90000, .packet_count = 3, .octet_count = 3000, .n_reports = 2 };
  SfuRtcpRr rr = { .ssrc = 8, .n_reports = SFU_RTCP_MAX_REPORTS }, rr2;
  SfuRtcpSr sr2;
  SfuRtcpFb fb = { 1, 0x2e1f7a01 }, fb2;
  static const guint16 nacked[] = { 65530, 65531, 65535, 0, 10, 11, 40000, 9, 65530 };
  static const SfuRtcpFirEntry firs[] = { { 0x11, 1 }, { 0x22, 255 } };
  static const guint64 rates[] = { 0, 1, 262143, 262144, 1500000, G_MAXUINT64 };
  guint32 ssrcs[SFU_RTCP_REMB_MAX_SSRCS];
  SfuRtcpFirEntry fir[4];
  SfuRtcpRemb remb;
  guint16 seqs[64];
  SfuRtcpBlock blocks[16];
  SfuRtcpIter iter;
  const guint8 *cname;
  gsize len = 0, n_len, cname_len;
  guint n;

  sr.reports[0] = (SfuRtcpReportBlock){ 0xa, 255, -0x800000, 0x1ffff, 5, 6, 7 };
  sr.reports[1] = (SfuRtcpReportBlock){ 0xb, 0, 0x7fffff, 0, 0, 0, 0 };
  for (guint i = 0; i < rr.n_reports; i++)
    rr.reports[i] = (SfuRtcpReportBlock){ i, i, -(gint32) i, i << 20, i, i, i };
  for (guint i = 0; i < G_N_ELEMENTS (ssrcs); i++)
    ssrcs[i] = i * 0x01010101u;

  len += sfu_rtcp_build_sr (buf + len, sizeof buf - len, &sr);
  len += sfu_rtcp_build_sdes_cname (buf + len, sizeof buf - len, 7, "callrec-sfu", 11);
  len += sfu_rtcp_build_rr (buf + len, sizeof buf - len, &rr);
  n_len = sfu_rtcp_build_nack (buf + len, sizeof buf - len, &fb, nacked, G_N_ELEMENTS (nacked));
  g_assert_cmpuint (n_len, ==, 12 + 4 * 5); /* 65530.., 0.., 40000, 9, 65530 */
  len += n_len;
  len += sfu_rtcp_build_pli (buf + len, sizeof buf - len, &fb);
  len += sfu_rtcp_build_fir (buf + len, sizeof buf - len, 1, firs, 2);
  for (guint i = 0; i < G_N_ELEMENTS (rates); i++)
    len += sfu_rtcp_build_remb (buf + len, sizeof buf - len, 1, rates[i], ssrcs, i ? 1 : 0);
  len += sfu_rtcp_build_remb (buf + len, sizeof buf - len, 1, 1000, ssrcs, 255);

  g_assert_true (sfu_rtcp_check (buf, len, NULL));
  g_assert_cmpuint (collect (buf, len, blocks, 16, &iter), ==, 13);
  g_assert_true (sfu_rtcp_read_sr (&blocks[0], &sr2));
  g_assert_true (sr2.ssrc == sr.ssrc && sr2.ntp_time == sr.ntp_time &&
                 sr2.rtp_time == sr.rtp_time && sr2.packet_count == sr.packet_count &&
                 sr2.octet_count == sr.octet_count);
  assert_reports (sr2.reports, sr2.n_reports, sr.reports, sr.n_reports);
  g_assert_true (sfu_rtcp_read_sdes_cname (&blocks[1], NULL, &cname, &cname_len));
  g_assert_cmpmem (cname, cname_len, "callrec-sfu", 11);
  g_assert_true (sfu_rtcp_read_rr (&blocks[2], &rr2));
  g_assert_cmpuint (rr2.ssrc, ==, rr.ssrc);
  assert_reports (rr2.reports, rr2.n_reports, rr.reports, rr.n_reports);
  g_assert_true (sfu_rtcp_read_nack (&blocks[3], &fb2, seqs, 64, &n, NULL));
  g_assert_cmpmem (&fb2, sizeof fb2, &fb, sizeof fb);
  g_assert_cmpmem (seqs, n * sizeof (guint16),
                   ((guint16[]){ 65530, 65531, 65535, 0, 10, 11, 40000, 9, 65530 }), 18);
  g_assert_true (sfu_rtcp_read_pli (&blocks[4], &fb2) && fb2.media_ssrc == fb.media_ssrc);
  g_assert_true (sfu_rtcp_read_fir (&blocks[5], &fb2, fir, 4, &n));
  g_assert_cmpuint (n, ==, 2);
  g_assert_true (fir[0].ssrc == 0x11 && fir[0].seq_nr == 1);
  g_assert_true (fir[1].ssrc == 0x22 && fir[1].seq_nr == 255);
  for (guint i = 0; i < G_N_ELEMENTS (rates); i++) {
    g_assert_true (sfu_rtcp_read_remb (&blocks[6 + i], &remb));
    /* Exact up to 18 significant bits, rounded down beyond. */
    g_assert_cmpuint (remb.bitrate, <=, rates[i]);
    g_assert_cmpuint (remb.bitrate, >=, rates[i] - (rates[i] >> 17));
    if (rates[i] < 0x40000 || rates[i] == 1500000)
      g_assert_cmpuint (remb.bitrate, ==, rates[i]);
    g_assert_cmpuint (remb.n_ssrcs, ==, i ? 1 : 0);
  }
  g_assert_true (sfu_rtcp_read_remb (&blocks[12], &remb) && remb.n_ssrcs == 255);
  g_assert_cmpmem (remb.ssrcs, sizeof remb.ssrcs, ssrcs, sizeof ssrcs);

  /* Every builder refuses every buffer one byte too small, and nothing to send. */
  for (gsize size = 0; size < 28 + 24 * 2; size++)
    g_assert_cmpuint (sfu_rtcp_build_sr (buf, size, &sr), ==, 0);
  g_assert_cmpuint (sfu_rtcp_build_rr (buf, 8 + 24 * 31 - 1, &rr), ==, 0);
  g_assert_cmpuint (sfu_rtcp_build_sdes_cname (buf, 23, 7, "callrec-sfu", 11), ==, 0);
  g_assert_cmpuint (sfu_rtcp_build_nack (buf, n_len - 1, &fb, nacked, 9), ==, 0);
  g_assert_cmpuint (sfu_rtcp_build_nack (buf, sizeof buf, &fb, nacked, 0), ==, 0);
  g_assert_cmpuint (sfu_rtcp_build_pli (buf, 11, &fb), ==, 0);
  g_assert_cmpuint (sfu_rtcp_build_fir (buf, 27, 1, firs, 2), ==, 0);
  g_assert_cmpuint (sfu_rtcp_build_fir (buf, sizeof buf, 1, firs, 0), ==, 0);
  g_assert_cmpuint (sfu_rtcp_build_remb (buf, 23, 1, 1, ssrcs, 1), ==, 0);
  /* Cumulative loss past 24 bits is clamped, as RFC 3550 §6.4.1 says. */
  sr.reports[0].cumulative_lost = G_MININT32;
  sr.reports[1].cumulative_lost = G_MAXINT32;
  g_assert_cmpuint (sfu_rtcp_build_sr (buf, sizeof buf, &sr), ==, 76);
  g_assert_cmpuint (collect (buf, 76, blocks, 1, &iter), ==, 1);
  g_assert_true (sfu_rtcp_read_sr (&blocks[0], &sr2));
  g_assert_cmpint (sr2.reports[0].cumulative_lost, ==, -0x800000);
  g_assert_cmpint (sr2.reports[1].cumulative_lost, ==, 0x7fffff);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sfu-rtp/parse/chromium-opus", test_rtp_opus);
  g_test_add_func ("/sfu-rtp/parse/chromium-captures", test_rtp_chrome_captures);
  g_test_add_func ("/sfu-rtp/parse/padding-probe", test_rtp_padding_probe);
  g_test_add_func ("/sfu-rtp/parse/extension-elements", test_rtp_extension_elements);
  g_test_add_func ("/sfu-rtp/parse/keyframes", test_rtp_keyframes);
  g_test_add_func ("/sfu-rtp/hostile/classes", test_rtp_hostile);
  g_test_add_func ("/sfu-rtp/hostile/truncated", test_rtp_truncated);
  g_test_add_func ("/sfu-rtp/rewrite/header", test_rtp_rewrite_header);
  g_test_add_func ("/sfu-rtp/rewrite/remap", test_rtp_remap);
  g_test_add_func ("/sfu-rtp/rewrite/remap-tails", test_rtp_remap_tails);
  g_test_add_func ("/sfu-rtp/seq/newer", test_seq_newer);
  g_test_add_func ("/sfu-rtp/seq/unwrap", test_seq_unwrap);
  g_test_add_func ("/sfu-rtcp/read/sender", test_rtcp_sender);
  g_test_add_func ("/sfu-rtcp/read/receiver", test_rtcp_receiver);
  g_test_add_func ("/sfu-rtcp/read/twcc", test_rtcp_twcc);
  g_test_add_func ("/sfu-rtcp/hostile/twcc", test_rtcp_twcc_hostile);
  g_test_add_func ("/sfu-rtcp/hostile/floods", test_rtcp_floods);
  g_test_add_func ("/sfu-rtcp/hostile/iter", test_rtcp_iter_hostile);
  g_test_add_func ("/sfu-rtcp/hostile/short-blocks", test_rtcp_short_blocks);
  g_test_add_func ("/sfu-rtcp/hostile/truncated", test_rtcp_truncated);
  g_test_add_func ("/sfu-rtcp/build/round-trip", test_rtcp_build);

  return g_test_run ();
}
