/* SPDX-License-Identifier: MIT */
/* Unit tests for sfu-srtp on the real libsrtp2: two sessions with mirrored keys (as the two
 * ends of one DTLS handshake have) protect and unprotect RTP and RTCP in both profiles;
 * tampering, replays, packets outside the replay window, the wrong direction's keys and
 * garbage are refused; protect never writes past the capacity it was given (the buffers
 * here are exactly that big, so an over-write reaches ASan). AES-GCM is our own code on
 * OpenSSL, so it is also checked against libsrtp's, which browsers use: each side opens
 * what the other sealed, across a sequence-number wrap, with CSRCs and header
 * extensions, for RTP and RTCP. */
#include "sfu-srtp.h"

#include <srtp2/srtp.h>
#include <string.h>

typedef struct {
  SfuSrtp *a, *b; /* a's local keys are b's remote ones and the other way round */
  SfuSrtpProfile profile;
} Pair;

static void
pair_init (Pair *p, SfuSrtpProfile profile)
{
  g_autoptr (GError) error = NULL;
  SfuSrtpKeys ka = { profile }, kb = { profile };

  for (guint i = 0; i < SFU_SRTP_MAX_MASTER_LEN; i++) {
    ka.local[i] = kb.remote[i] = (guint8) (0x10 + i);
    ka.remote[i] = kb.local[i] = (guint8) (0x80 + 3 * i);
  }
  p->profile = profile;
  p->a = sfu_srtp_new (&ka, &error);
  g_assert_no_error (error);
  p->b = sfu_srtp_new (&kb, &error);
  g_assert_no_error (error);
  sfu_srtp_keys_clear (&ka);
  sfu_srtp_keys_clear (&kb);
  for (guint i = 0; i < sizeof ka; i++)
    g_assert_cmpuint (((guint8 *) &ka)[i], ==, 0);
}

static void
pair_clear (Pair *p)
{
  g_clear_pointer (&p->a, sfu_srtp_free);
  g_clear_pointer (&p->b, sfu_srtp_free);
}

static gsize
tag_len (SfuSrtpProfile profile)
{
  return profile == SFU_SRTP_PROFILE_AEAD_AES_128_GCM ? 16 : 10;
}

/* An RTP packet: V=2, PT 96, @seq, timestamp, @ssrc, @payload_len bytes of a pattern. */
static gsize
make_rtp (guint8 *buf, guint16 seq, guint32 ssrc, gsize payload_len)
{
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  buf[4] = 0x12;
  buf[5] = 0x34;
  buf[6] = 0x56;
  buf[7] = 0x78;
  buf[8] = ssrc >> 24;
  buf[9] = (ssrc >> 16) & 0xff;
  buf[10] = (ssrc >> 8) & 0xff;
  buf[11] = ssrc & 0xff;
  for (gsize i = 0; i < payload_len; i++)
    buf[12 + i] = (guint8) (i * 7 + seq);
  return 12 + payload_len;
}

/* An RTCP receiver report with no report blocks, then a PLI: a compound packet. */
static gsize
make_rtcp (guint8 *buf, guint32 ssrc)
{
  static const guint8 pkt[] = { 0x80, 201, 0x00, 0x01, 0, 0, 0, 0,
                                0x81, 206, 0x00, 0x02, 0, 0, 0, 0, 0xca, 0xfe, 0xba, 0xbe };

  memcpy (buf, pkt, sizeof pkt);
  for (guint i = 0; i < 4; i++)
    buf[4 + i] = buf[12 + i] = (guint8) (ssrc >> (24 - 8 * i));
  return sizeof pkt;
}

/* Protects @plain (@len bytes) with @from into a buffer of exactly len + MAX_TRAILER bytes
 * and returns it; *@out_len is the protected length. */
static guint8 *
protect (SfuSrtp *from, gboolean rtcp, const guint8 *plain, gsize len, gsize *out_len)
{
  gsize cap = len + SFU_SRTP_MAX_TRAILER;
  guint8 *buf = g_malloc (cap);

  memcpy (buf, plain, len);
  *out_len = len;
  if (rtcp)
    g_assert_true (sfu_srtp_protect_rtcp (from, buf, out_len, cap));
  else
    g_assert_true (sfu_srtp_protect_rtp (from, buf, out_len, cap));
  g_assert_cmpuint (*out_len, >, len);
  g_assert_cmpuint (*out_len, <=, cap);
  return buf;
}

static gboolean
unprotect_copy (SfuSrtp *to, gboolean rtcp, const guint8 *data, gsize len, guint8 *out,
                gsize *out_len)
{
  g_autofree guint8 *copy = g_memdup2 (data, len);
  gsize n = len;
  gboolean ok = rtcp ? sfu_srtp_unprotect_rtcp (to, copy, &n) : sfu_srtp_unprotect_rtp (to, copy, &n);

  if (ok && out) {
    memcpy (out, copy, n);
    *out_len = n;
  }
  return ok;
}

static void
test_round_trip (gconstpointer data)
{
  SfuSrtpProfile profile = GPOINTER_TO_UINT (data);
  guint8 plain[1300], back[1400];
  gsize len, plen, blen = 0;
  Pair p;

  pair_init (&p, profile);
  for (guint i = 0; i < 3; i++) {
    g_autofree guint8 *srtp = NULL;

    len = make_rtp (plain, 1000 + i, 0x11223344, 1100);
    srtp = protect (p.a, FALSE, plain, len, &plen);
    /* RTP: the tag only; the header stays in the clear, the payload does not. */
    g_assert_cmpuint (plen, ==, len + tag_len (profile));
    g_assert_cmpmem (srtp, 12, plain, 12);
    g_assert_true (memcmp (srtp + 12, plain + 12, 64) != 0);
    g_assert_true (unprotect_copy (p.b, FALSE, srtp, plen, back, &blen));
    g_assert_cmpmem (back, blen, plain, len);
    /* The same bytes again are a replay. */
    g_assert_false (unprotect_copy (p.b, FALSE, srtp, plen, NULL, NULL));
    /* The other direction's keys do not open it. */
    g_assert_false (unprotect_copy (p.a, FALSE, srtp, plen, NULL, NULL));
  }

  /* b → a as well, on another SSRC. */
  for (guint i = 0; i < 2; i++) {
    g_autofree guint8 *srtp = NULL;

    len = make_rtp (plain, 7 + i, 0xdeadbeef, 160);
    srtp = protect (p.b, FALSE, plain, len, &plen);
    g_assert_true (unprotect_copy (p.a, FALSE, srtp, plen, back, &blen));
    g_assert_cmpmem (back, blen, plain, len);
  }

  /* RTCP both ways: index word + tag added, the index counts up. */
  for (guint i = 0; i < 3; i++) {
    g_autofree guint8 *ab = NULL, *ba = NULL;

    len = make_rtcp (plain, 0x11223344);
    ab = protect (p.a, TRUE, plain, len, &plen);
    g_assert_cmpuint (plen, ==, len + 4 + tag_len (profile));
    {
      /* E bit set, SRTCP index: before the tag with HMAC (RFC 3711 §3.4), after it with
       * GCM (RFC 7714 §9.1). */
      gsize at = profile == SFU_SRTP_PROFILE_AEAD_AES_128_GCM ? plen - 4 : len;

      g_assert_cmphex ((guint32) ab[at] << 24 | ab[at + 1] << 16 | ab[at + 2] << 8 | ab[at + 3], ==,
                       0x80000000u | (i + 1));
    }
    g_assert_true (unprotect_copy (p.b, TRUE, ab, plen, back, &blen));
    g_assert_cmpmem (back, blen, plain, len);
    g_assert_false (unprotect_copy (p.b, TRUE, ab, plen, NULL, NULL));
    g_assert_false (unprotect_copy (p.a, TRUE, ab, plen, NULL, NULL));

    ba = protect (p.b, TRUE, plain, len, &plen);
    g_assert_true (unprotect_copy (p.a, TRUE, ba, plen, back, &blen));
    g_assert_cmpmem (back, blen, plain, len);
  }
  pair_clear (&p);
}

/* Any single flipped bit, in the header, the payload or the tag, fails authentication;
 * the untouched packet still opens afterwards (a forgery does not move the replay
 * window). */
static void
test_tampered (gconstpointer data)
{
  SfuSrtpProfile profile = GPOINTER_TO_UINT (data);
  guint8 plain[256];
  gsize len, plen;
  Pair p;

  pair_init (&p, profile);
  for (int rtcp = 0; rtcp <= 1; rtcp++) {
    g_autofree guint8 *srtp = NULL;

    len = rtcp ? make_rtcp (plain, 0x01020304) : make_rtp (plain, 500, 0x01020304, 100);
    srtp = protect (p.a, rtcp, plain, len, &plen);
    for (gsize i = 0; i < plen; i++) {
      g_autofree guint8 *bad = g_memdup2 (srtp, plen);

      /* The first byte's version bits are checked before libsrtp; flip a low bit there. */
      bad[i] ^= i == 0 ? 0x01 : 0x40;
      g_assert_false (unprotect_copy (p.b, rtcp, bad, plen, NULL, NULL));
    }
    /* Truncated by one byte and by the whole tag. */
    g_assert_false (unprotect_copy (p.b, rtcp, srtp, plen - 1, NULL, NULL));
    g_assert_false (unprotect_copy (p.b, rtcp, srtp, len, NULL, NULL));
    g_assert_true (unprotect_copy (p.b, rtcp, srtp, plen, NULL, NULL));
  }
  pair_clear (&p);
}

/* A late packet up to SFU_SRTP_REPLAY_WINDOW - 1 behind the newest is accepted once;
 * further back it is refused. libsrtp's default window (128) would refuse the first. */
static void
test_replay_window (gconstpointer data)
{
  SfuSrtpProfile profile = GPOINTER_TO_UINT (data);
  g_autofree guint8 *late = NULL, *too_late = NULL, *newest = NULL;
  gsize late_len, too_late_len, newest_len, len;
  guint8 plain[64];
  Pair p;

  pair_init (&p, profile);
  len = make_rtp (plain, 100, 0xabcd, 20);
  too_late = protect (p.a, FALSE, plain, len, &too_late_len);
  len = make_rtp (plain, 1000, 0xabcd, 20);
  late = protect (p.a, FALSE, plain, len, &late_len);
  len = make_rtp (plain, 1100 + SFU_SRTP_REPLAY_WINDOW / 2, 0xabcd, 20);
  newest = protect (p.a, FALSE, plain, len, &newest_len);

  g_assert_true (unprotect_copy (p.b, FALSE, newest, newest_len, NULL, NULL));
  g_assert_true (unprotect_copy (p.b, FALSE, late, late_len, NULL, NULL));
  g_assert_false (unprotect_copy (p.b, FALSE, late, late_len, NULL, NULL));
  g_assert_false (unprotect_copy (p.b, FALSE, too_late, too_late_len, NULL, NULL));
  pair_clear (&p);
}

/* The SFU resends a NACKed packet with the same sequence number: protect must allow it. A
 * receiver that already has it refuses the copy as a replay, as it should. */
static void
test_retransmit (gconstpointer data)
{
  SfuSrtpProfile profile = GPOINTER_TO_UINT (data);
  g_autofree guint8 *first = NULL, *again = NULL;
  gsize len, first_len, again_len;
  guint8 plain[200];
  Pair p;

  pair_init (&p, profile);
  len = make_rtp (plain, 4242, 0x5555, 150);
  first = protect (p.a, FALSE, plain, len, &first_len);
  again = protect (p.a, FALSE, plain, len, &again_len);
  g_assert_cmpmem (first, first_len, again, again_len);
  g_assert_true (unprotect_copy (p.b, FALSE, again, again_len, NULL, NULL));
  g_assert_false (unprotect_copy (p.b, FALSE, first, first_len, NULL, NULL));
  pair_clear (&p);
}

static void
test_bad_input (gconstpointer data)
{
  SfuSrtpProfile profile = GPOINTER_TO_UINT (data);
  guint8 buf[2048], plain[100];
  gsize len;
  Pair p;

  pair_init (&p, profile);
  /* Empty, short, not version 2, random. */
  for (gsize n = 0; n < 40; n++) {
    memset (buf, 0x80, sizeof buf);
    len = n;
    g_assert_false (sfu_srtp_unprotect_rtp (p.b, buf, &len));
    len = n;
    g_assert_false (sfu_srtp_unprotect_rtcp (p.b, buf, &len));
  }
  for (guint round = 0; round < 200; round++) {
    gsize n = g_test_rand_int_range (0, sizeof buf);

    for (gsize i = 0; i < n; i++)
      buf[i] = (guint8) g_test_rand_int ();
    buf[0] = (buf[0] & 0x3f) | 0x80;
    len = n;
    g_assert_false (sfu_srtp_unprotect_rtp (p.b, buf, &len));
    len = n;
    g_assert_false (sfu_srtp_unprotect_rtcp (p.b, buf, &len));
  }

  /* Protect refuses a buffer without room for the trailer, and non-packets. */
  len = make_rtp (plain, 1, 2, 40);
  memcpy (buf, plain, len);
  g_assert_false (sfu_srtp_protect_rtp (p.a, buf, &len, len + SFU_SRTP_MAX_TRAILER - 1));
  g_assert_cmpuint (len, ==, 52);
  g_assert_false (sfu_srtp_protect_rtp (p.a, buf, &len, len - 1));
  len = 11;
  g_assert_false (sfu_srtp_protect_rtp (p.a, buf, &len, sizeof buf));
  len = 7;
  g_assert_false (sfu_srtp_protect_rtcp (p.a, buf, &len, sizeof buf));
  pair_clear (&p);
}

/* A libsrtp session for AES-128-GCM keyed with @master (key + salt), like a browser's. */
static srtp_t
libsrtp_gcm (const guint8 *master, srtp_ssrc_type_t type)
{
  srtp_policy_t policy = { 0 };
  srtp_t session = NULL;
  srtp_err_status_t status = srtp_init ();

  g_assert_true (status == srtp_err_status_ok || status == srtp_err_status_bad_param);
  srtp_crypto_policy_set_aes_gcm_128_16_auth (&policy.rtp);
  srtp_crypto_policy_set_aes_gcm_128_16_auth (&policy.rtcp);
  policy.ssrc.type = type;
  policy.key = (unsigned char *) master;
  policy.window_size = 1024;
  g_assert_cmpint (srtp_create (&session, &policy), ==, srtp_err_status_ok);
  return session;
}

/* RTP with two CSRCs and a one-byte header extension (both must be authenticated, not
 * encrypted). */
static gsize
make_rtp_extended (guint8 *buf, guint16 seq, guint32 ssrc, gsize payload_len)
{
  static const guint8 csrcs_ext[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0xbe, 0xde, 0, 1, 0x10, 0x7f, 0, 0 };
  gsize n = make_rtp (buf, seq, ssrc, 0);

  buf[0] = 0x80 | 0x10 | 2;
  memcpy (buf + n, csrcs_ext, sizeof csrcs_ext);
  n += sizeof csrcs_ext;
  for (gsize i = 0; i < payload_len; i++)
    buf[n + i] = (guint8) (i * 13 + seq);
  return n + payload_len;
}

static void
test_gcm_libsrtp_interop (void)
{
  Pair p;
  SfuSrtpKeys ka = { SFU_SRTP_PROFILE_AEAD_AES_128_GCM };
  srtp_t peer_in, peer_out;
  guint8 plain[1400], buf[1500];
  gsize len;
  int n;

  /* The peer is a libsrtp endpoint holding b's keys. */
  pair_init (&p, SFU_SRTP_PROFILE_AEAD_AES_128_GCM);
  for (guint i = 0; i < SFU_SRTP_MAX_MASTER_LEN; i++) {
    ka.local[i] = (guint8) (0x10 + i);
    ka.remote[i] = (guint8) (0x80 + 3 * i);
  }
  peer_in = libsrtp_gcm (ka.local, ssrc_any_inbound);
  peer_out = libsrtp_gcm (ka.remote, ssrc_any_outbound);

  /* 65530 .. 65535, 0 .. 9: the rollover counter goes to 1 on both sides. */
  for (guint i = 0; i < 16; i++) {
    guint16 seq = (guint16) (65530 + i);
    gboolean ext = i % 2;
    gsize plain_len = ext ? make_rtp_extended (plain, seq, 0x0a0b0c0d, 100 + i)
                          : make_rtp (plain, seq, 0x0a0b0c0d, 900 + i);

    /* Ours seals, libsrtp opens. */
    memcpy (buf, plain, plain_len);
    len = plain_len;
    g_assert_true (sfu_srtp_protect_rtp (p.a, buf, &len, sizeof buf));
    n = (int) len;
    g_assert_cmpint (srtp_unprotect (peer_in, buf, &n), ==, srtp_err_status_ok);
    g_assert_cmpmem (buf, n, plain, plain_len);

    /* libsrtp seals, ours opens. */
    memcpy (buf, plain, plain_len);
    n = (int) plain_len;
    g_assert_cmpint (srtp_protect (peer_out, buf, &n), ==, srtp_err_status_ok);
    len = (gsize) n;
    g_assert_true (sfu_srtp_unprotect_rtp (p.a, buf, &len));
    g_assert_cmpmem (buf, len, plain, plain_len);
  }

  for (guint i = 0; i < 3; i++) {
    gsize plain_len = make_rtcp (plain, 0x31323334 + i);

    memcpy (buf, plain, plain_len);
    len = plain_len;
    g_assert_true (sfu_srtp_protect_rtcp (p.a, buf, &len, sizeof buf));
    n = (int) len;
    g_assert_cmpint (srtp_unprotect_rtcp (peer_in, buf, &n), ==, srtp_err_status_ok);
    g_assert_cmpmem (buf, n, plain, plain_len);

    memcpy (buf, plain, plain_len);
    n = (int) plain_len;
    g_assert_cmpint (srtp_protect_rtcp (peer_out, buf, &n), ==, srtp_err_status_ok);
    {
      g_autofree guint8 *sealed = g_memdup2 (buf, n);

      len = (gsize) n;
      g_assert_true (sfu_srtp_unprotect_rtcp (p.a, buf, &len));
      g_assert_cmpmem (buf, len, plain, plain_len);
      /* The same SRTCP packet again is a replay. */
      g_assert_false (unprotect_copy (p.a, TRUE, sealed, (gsize) n, NULL, NULL));
    }
  }

  srtp_dealloc (peer_in);
  srtp_dealloc (peer_out);
  sfu_srtp_keys_clear (&ka);
  pair_clear (&p);
}

/* Streams for many SSRCs each keep their own rollover and replay state as the tables grow;
 * past SFU_SRTP_GCM_MAX_STREAMS (1024) new SSRCs are refused, known ones still work. */
static void
test_gcm_many_ssrcs (void)
{
  guint8 plain[200];
  gsize len, plen;
  Pair p;

  pair_init (&p, SFU_SRTP_PROFILE_AEAD_AES_128_GCM);
  for (guint round = 0; round < 2; round++) {
    for (guint32 i = 0; i < 1024; i++) {
      g_autofree guint8 *srtp = NULL;

      len = make_rtp (plain, (guint16) (60000 + round * 10000 + i), 0x1000 + i * 7919, 50);
      srtp = protect (p.a, FALSE, plain, len, &plen);
      g_assert_true (unprotect_copy (p.b, FALSE, srtp, plen, NULL, NULL));
    }
  }
  {
    g_autofree guint8 *fresh = NULL, *known = NULL;
    SfuSrtpKeys ka = { SFU_SRTP_PROFILE_AEAD_AES_128_GCM };
    g_autoptr (SfuSrtp) c = NULL;

    /* a cannot start a 1025th outbound stream... */
    len = make_rtp (plain, 5, 0xfffffff0, 50);
    g_assert_false (sfu_srtp_protect_rtp (p.a, plain, &len, sizeof plain));
    /* ...and b, with 1024 inbound streams, refuses an authentic packet on a new SSRC from
     * c (a second sender with a's keys), while a known SSRC still opens. */
    for (guint i = 0; i < SFU_SRTP_MAX_MASTER_LEN; i++) {
      ka.local[i] = (guint8) (0x10 + i);
      ka.remote[i] = (guint8) (0x80 + 3 * i);
    }
    c = sfu_srtp_new (&ka, NULL);
    sfu_srtp_keys_clear (&ka);
    len = make_rtp (plain, 5, 0xfffffff0, 50);
    fresh = protect (c, FALSE, plain, len, &plen);
    g_assert_false (unprotect_copy (p.b, FALSE, fresh, plen, NULL, NULL));
    len = make_rtp (plain, (guint16) (60000 + 10000 + 1024), 0x1000, 50);
    known = protect (p.a, FALSE, plain, len, &plen);
    g_assert_true (unprotect_copy (p.b, FALSE, known, plen, NULL, NULL));
  }
  pair_clear (&p);
}

static void
test_profiles (void)
{
  g_autoptr (GError) error = NULL;
  SfuSrtpKeys keys = { 0 };
  SfuSrtp *srtp;

  g_assert_cmpuint (sfu_srtp_profile_key_len (SFU_SRTP_PROFILE_AES128_CM_SHA1_80) +
                        sfu_srtp_profile_salt_len (SFU_SRTP_PROFILE_AES128_CM_SHA1_80),
                    ==, 30);
  g_assert_cmpuint (sfu_srtp_profile_key_len (SFU_SRTP_PROFILE_AEAD_AES_128_GCM) +
                        sfu_srtp_profile_salt_len (SFU_SRTP_PROFILE_AEAD_AES_128_GCM),
                    ==, 28);
  g_assert_cmpstr (sfu_srtp_profile_name (SFU_SRTP_PROFILE_AEAD_AES_128_GCM), ==,
                   "SRTP_AEAD_AES_128_GCM");
  g_assert_null (sfu_srtp_profile_name (SFU_SRTP_PROFILE_NONE));

  keys.profile = 2; /* SRTP_AES128_CM_SHA1_32: not ours */
  srtp = sfu_srtp_new (&keys, &error);
  g_assert_null (srtp);
  g_assert_error (error, SFU_SRTP_ERROR, SFU_SRTP_ERROR_PROFILE);
}

int
main (int argc, char **argv)
{
  static const struct {
    const char *name;
    SfuSrtpProfile profile;
  } profiles[] = {
    { "gcm", SFU_SRTP_PROFILE_AEAD_AES_128_GCM },
    { "cm-sha1-80", SFU_SRTP_PROFILE_AES128_CM_SHA1_80 },
  };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (profiles); i++) {
    static const struct {
      const char *name;
      GTestDataFunc func;
    } tests[] = {
      { "round-trip", test_round_trip },   { "tampered", test_tampered },
      { "replay-window", test_replay_window }, { "retransmit", test_retransmit },
      { "bad-input", test_bad_input },
    };

    for (guint t = 0; t < G_N_ELEMENTS (tests); t++) {
      g_autofree char *path = g_strdup_printf ("/sfu-srtp/%s/%s", profiles[i].name, tests[t].name);

      g_test_add_data_func (path, GUINT_TO_POINTER (profiles[i].profile), tests[t].func);
    }
  }
  g_test_add_func ("/sfu-srtp/profiles", test_profiles);
  g_test_add_func ("/sfu-srtp/gcm/libsrtp-interop", test_gcm_libsrtp_interop);
  g_test_add_func ("/sfu-srtp/gcm/many-ssrcs", test_gcm_many_ssrcs);
  return g_test_run ();
}
