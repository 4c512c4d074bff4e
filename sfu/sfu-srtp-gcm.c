/* SPDX-License-Identifier: MIT */
/* AEAD_AES_128_GCM SRTP/SRTCP (RFC 7714) with OpenSSL; see sfu-srtp-gcm.h.
 *
 * Packet layouts (RFC 7714 §8, §9):
 *   SRTP   header (AAD) | payload (encrypted) | tag(16)
 *   SRTCP  first 8 bytes (AAD) | rest (encrypted) | tag(16) | E + 31-bit index (AAD)
 * IVs are the session salt XORed with 00 00 | SSRC | ROC | SEQ for SRTP and with
 * 00 00 | SSRC | 00 00 | index for SRTCP. */
#include "sfu-srtp-gcm.h"
#include "sfu-seq.h"
#include "sfu-srtp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define RTP_HEADER 12
#define RTCP_HEADER 8
#define SRTCP_TRAILER 4
#define SRTCP_E_BIT 0x80000000u
#define SRTCP_MAX_INDEX 0x7fffffffu
#define IV_LEN 12
/* The packet index is 48 bits: ROC (32) and sequence number (16). */
#define MAX_INDEX ((G_GUINT64_CONSTANT (1) << 48) - 1)

/* RFC 3711 §4.3.1 key derivation labels. */
enum {
  LABEL_RTP_KEY = 0x00,
  LABEL_RTP_SALT = 0x02,
  LABEL_RTCP_KEY = 0x03,
  LABEL_RTCP_SALT = 0x05,
};

G_STATIC_ASSERT (SFU_SRTP_REPLAY_WINDOW % 64 == 0);

/* The last SFU_SRTP_REPLAY_WINDOW indexes up to @highest; bit (i % window) is index i. */
typedef struct {
  guint64 highest;
  guint64 seen[SFU_SRTP_REPLAY_WINDOW / 64];
} ReplayWindow;

typedef struct {
  gboolean rtp_any, rtcp_any;
  ReplayWindow rtp, rtcp;
} InStream;

/* One direction's cipher: a GCM context keyed once, and the session salt. */
typedef struct {
  EVP_CIPHER_CTX *ctx;
  guint8 salt[SFU_SRTP_GCM_SALT_LEN];
} Cipher;

/* SSRC -> state, open addressing with linear probing; entries are never removed (a
 * session's SSRCs are few and bounded by SFU_SRTP_GCM_MAX_STREAMS). Looked up for every
 * packet, so kept to a multiply and a compare or two. */
typedef struct {
  guint32 ssrc;
  gboolean used;
  gpointer value;
} SsrcSlot;

typedef struct {
  SsrcSlot *slots;
  guint mask; /* capacity - 1, a power of two minus one */
  guint count;
} SsrcMap;

struct _SfuSrtpGcm {
  Cipher in_rtp, in_rtcp, out_rtp, out_rtcp;
  SsrcMap in_streams;  /* InStream* */
  SsrcMap out_highest; /* guint64*: highest RTP index sent */
  guint32 out_rtcp_index; /* last SRTCP index sent, any SSRC */
};

static inline guint32
read32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static inline void
write32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}

/* ---- key derivation (RFC 3711 §4.3, AES-CM PRF, key derivation rate 0) ---- */

/* @n bytes of session key material for @label from @master (key, then the 12-byte salt).
 * The 12-byte GCM master salt takes the high-order bytes of the 112-bit x, as libsrtp and
 * with it every browser do. */
static gboolean
derive (const guint8 *master, guint8 label, guint8 *out, gsize n)
{
  static const guint8 zeros[SFU_SRTP_GCM_KEY_LEN] = { 0 };
  guint8 iv[16] = { 0 };
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  int outl = 0;
  gboolean ok;

  g_assert (n <= sizeof zeros);
  memcpy (iv, master + SFU_SRTP_GCM_KEY_LEN, SFU_SRTP_GCM_SALT_LEN);
  iv[7] ^= label;
  ok = ctx != NULL && EVP_EncryptInit_ex (ctx, EVP_aes_128_ctr (), NULL, master, iv) == 1 &&
       EVP_EncryptUpdate (ctx, out, &outl, zeros, (int) n) == 1 && outl == (int) n;
  EVP_CIPHER_CTX_free (ctx);
  OPENSSL_cleanse (iv, sizeof iv);
  return ok;
}

static gboolean
cipher_init (Cipher *c, const guint8 *master, guint8 key_label, guint8 salt_label,
             gboolean encrypt)
{
  guint8 key[SFU_SRTP_GCM_KEY_LEN];
  gboolean ok;

  c->ctx = EVP_CIPHER_CTX_new ();
  ok = c->ctx != NULL && derive (master, key_label, key, sizeof key) &&
       derive (master, salt_label, c->salt, sizeof c->salt) &&
       EVP_CipherInit_ex (c->ctx, EVP_aes_128_gcm (), NULL, key, NULL, encrypt ? 1 : 0) == 1;
  OPENSSL_cleanse (key, sizeof key);
  return ok;
}

static void
cipher_clear (Cipher *c)
{
  /* EVP_CIPHER_CTX_free wipes the key schedule. */
  g_clear_pointer (&c->ctx, EVP_CIPHER_CTX_free);
  OPENSSL_cleanse (c->salt, sizeof c->salt);
}

/* Seals (or opens) @len bytes of @data in place, authenticating @aad and @aad2 too; the
 * tag is written to (or checked against) @tag. */
static gboolean
seal_or_open (const Cipher *c, gboolean encrypt, const guint8 iv[IV_LEN], const guint8 *aad,
     gsize aad_len, const guint8 *aad2, gsize aad2_len, guint8 *data, gsize len, guint8 *tag)
{
  EVP_CIPHER_CTX *ctx = c->ctx;
  guint8 unused[16];
  int outl;

  if (EVP_CipherInit_ex (ctx, NULL, NULL, NULL, iv, encrypt ? 1 : 0) != 1 ||
      EVP_CipherUpdate (ctx, NULL, &outl, aad, (int) aad_len) != 1)
    return FALSE;
  if (aad2_len > 0 && EVP_CipherUpdate (ctx, NULL, &outl, aad2, (int) aad2_len) != 1)
    return FALSE;
  if (len > 0 && EVP_CipherUpdate (ctx, data, &outl, data, (int) len) != 1)
    return FALSE;
  if (encrypt)
    return EVP_CipherFinal_ex (ctx, unused, &outl) == 1 &&
           EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_GET_TAG, SFU_SRTP_GCM_TAG_LEN, tag) == 1;
  return EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_TAG, SFU_SRTP_GCM_TAG_LEN, tag) == 1 &&
         EVP_CipherFinal_ex (ctx, unused, &outl) == 1;
}

static void
rtp_iv (const Cipher *c, guint32 ssrc, guint64 index, guint8 iv[IV_LEN])
{
  iv[0] = iv[1] = 0;
  write32 (iv + 2, ssrc);
  write32 (iv + 6, (guint32) (index >> 16));
  iv[10] = (guint8) (index >> 8);
  iv[11] = (guint8) index;
  for (guint i = 0; i < IV_LEN; i++)
    iv[i] ^= c->salt[i];
}

static void
rtcp_iv (const Cipher *c, guint32 ssrc, guint32 index, guint8 iv[IV_LEN])
{
  iv[0] = iv[1] = 0;
  write32 (iv + 2, ssrc);
  iv[6] = iv[7] = 0;
  write32 (iv + 8, index);
  for (guint i = 0; i < IV_LEN; i++)
    iv[i] ^= c->salt[i];
}

/* ---- replay window and index estimation ---- */

static gboolean
replay_seen (const ReplayWindow *w, guint64 index)
{
  guint64 bit = index % SFU_SRTP_REPLAY_WINDOW;

  return (w->seen[bit / 64] >> (bit % 64)) & 1;
}

/* TRUE when @index may be accepted: newer than the newest, or inside the window and not
 * seen yet. */
static gboolean
replay_check (const ReplayWindow *w, guint64 index)
{
  if (index > w->highest)
    return TRUE;
  if (w->highest - index >= SFU_SRTP_REPLAY_WINDOW)
    return FALSE;
  return !replay_seen (w, index);
}

static void
replay_mark (ReplayWindow *w, guint64 index, gboolean first)
{
  guint64 bit;

  if (first) {
    memset (w->seen, 0, sizeof w->seen);
    w->highest = index;
  } else if (index > w->highest) {
    /* Forget the indexes the window slides past: their bits become the new ones. */
    if (index - w->highest >= SFU_SRTP_REPLAY_WINDOW) {
      memset (w->seen, 0, sizeof w->seen);
    } else {
      for (guint64 i = w->highest + 1; i < index; i++) {
        bit = i % SFU_SRTP_REPLAY_WINDOW;
        w->seen[bit / 64] &= ~(G_GUINT64_CONSTANT (1) << (bit % 64));
      }
    }
    w->highest = index;
  }
  bit = index % SFU_SRTP_REPLAY_WINDOW;
  w->seen[bit / 64] |= G_GUINT64_CONSTANT (1) << (bit % 64);
}

/* The packet index of sequence number @seq next to the newest index @highest (RFC 3711
 * §3.3.1, Appendix A): the one within half the sequence space. -1 when that would be
 * before the stream's first rollover. */
static gint64
estimate_index (guint64 highest, guint16 seq)
{
  gint64 index = (gint64) highest + sfu_seq_diff (seq, (guint16) highest);

  return index < 0 || (guint64) index > MAX_INDEX ? -1 : index;
}

/* ---- SSRC map ---- */

static SsrcSlot *
ssrc_slot (const SsrcMap *m, guint32 ssrc)
{
  guint i = (ssrc * 2654435761u) & m->mask;

  while (m->slots[i].used && m->slots[i].ssrc != ssrc)
    i = (i + 1) & m->mask;
  return &m->slots[i];
}

static gpointer
ssrc_map_get (const SsrcMap *m, guint32 ssrc)
{
  SsrcSlot *slot = ssrc_slot (m, ssrc);

  return slot->used ? slot->value : NULL;
}

/* Adds @ssrc (not in the map) with @value (owned); FALSE when the map is full. */
static gboolean
ssrc_map_add (SsrcMap *m, guint32 ssrc, gpointer value)
{
  SsrcSlot *slot;

  if (m->count >= SFU_SRTP_GCM_MAX_STREAMS)
    return FALSE;
  /* Kept at most half full, so that probes stay short. */
  if (2 * (m->count + 1) > m->mask + 1) {
    SsrcMap bigger = { g_new0 (SsrcSlot, 2 * (m->mask + 1)), 2 * m->mask + 1, m->count };

    for (guint i = 0; i <= m->mask; i++)
      if (m->slots[i].used)
        *ssrc_slot (&bigger, m->slots[i].ssrc) = m->slots[i];
    g_free (m->slots);
    *m = bigger;
  }
  slot = ssrc_slot (m, ssrc);
  *slot = (SsrcSlot) { ssrc, TRUE, value };
  m->count++;
  return TRUE;
}

static void
ssrc_map_init (SsrcMap *m)
{
  m->mask = 7;
  m->count = 0;
  m->slots = g_new0 (SsrcSlot, m->mask + 1);
}

static void
ssrc_map_clear (SsrcMap *m)
{
  if (m->slots == NULL)
    return;
  for (guint i = 0; i <= m->mask; i++)
    if (m->slots[i].used)
      g_free (m->slots[i].value);
  g_clear_pointer (&m->slots, g_free);
}

/* ---- session ---- */

SfuSrtpGcm *
sfu_srtp_gcm_new (const guint8 *local, const guint8 *remote)
{
  SfuSrtpGcm *gcm = g_new0 (SfuSrtpGcm, 1);

  g_return_val_if_fail (local != NULL && remote != NULL, NULL);

  ssrc_map_init (&gcm->in_streams);
  ssrc_map_init (&gcm->out_highest);
  if (!cipher_init (&gcm->in_rtp, remote, LABEL_RTP_KEY, LABEL_RTP_SALT, FALSE) ||
      !cipher_init (&gcm->in_rtcp, remote, LABEL_RTCP_KEY, LABEL_RTCP_SALT, FALSE) ||
      !cipher_init (&gcm->out_rtp, local, LABEL_RTP_KEY, LABEL_RTP_SALT, TRUE) ||
      !cipher_init (&gcm->out_rtcp, local, LABEL_RTCP_KEY, LABEL_RTCP_SALT, TRUE)) {
    sfu_srtp_gcm_free (gcm);
    return NULL;
  }
  return gcm;
}

void
sfu_srtp_gcm_free (SfuSrtpGcm *gcm)
{
  if (gcm == NULL)
    return;
  cipher_clear (&gcm->in_rtp);
  cipher_clear (&gcm->in_rtcp);
  cipher_clear (&gcm->out_rtp);
  cipher_clear (&gcm->out_rtcp);
  ssrc_map_clear (&gcm->in_streams);
  ssrc_map_clear (&gcm->out_highest);
  g_free (gcm);
}

/* The inbound state of @ssrc, made when @create and there is room. */
static InStream *
in_stream (SfuSrtpGcm *gcm, guint32 ssrc, gboolean create)
{
  InStream *s = ssrc_map_get (&gcm->in_streams, ssrc);

  if (s == NULL && create) {
    s = g_new0 (InStream, 1);
    if (!ssrc_map_add (&gcm->in_streams, ssrc, s))
      g_clear_pointer (&s, g_free);
  }
  return s;
}

/* Length of the RTP header (fixed part, CSRCs, extension) of the @len-byte packet, or 0
 * when it does not fit. */
static gsize
rtp_header_len (const guint8 *buf, gsize len)
{
  gsize n = RTP_HEADER + 4 * (gsize) (buf[0] & 0x0f);

  if (n > len)
    return 0;
  if (buf[0] & 0x10) {
    if (n + 4 > len)
      return 0;
    n += 4 + 4 * (gsize) (buf[n + 2] << 8 | buf[n + 3]);
    if (n > len)
      return 0;
  }
  return n;
}

gboolean
sfu_srtp_gcm_unprotect_rtp (SfuSrtpGcm *gcm, guint8 *buf, gsize *len)
{
  guint8 iv[IV_LEN];
  guint32 ssrc;
  gsize header, body;
  gint64 index;
  InStream *s;

  if (*len < RTP_HEADER + SFU_SRTP_GCM_TAG_LEN)
    return FALSE;
  body = *len - SFU_SRTP_GCM_TAG_LEN;
  header = rtp_header_len (buf, body);
  if (header == 0)
    return FALSE;
  ssrc = read32 (buf + 8);
  s = in_stream (gcm, ssrc, FALSE);
  if (s != NULL && s->rtp_any) {
    index = estimate_index (s->rtp.highest, (guint16) (buf[2] << 8 | buf[3]));
    if (index < 0 || !replay_check (&s->rtp, (guint64) index))
      return FALSE;
  } else {
    /* A stream's rollover counter starts at 0 with its first packet (RFC 3711 §3.3.1). */
    index = buf[2] << 8 | buf[3];
  }
  rtp_iv (&gcm->in_rtp, ssrc, (guint64) index, iv);
  if (!seal_or_open (&gcm->in_rtp, FALSE, iv, buf, header, NULL, 0, buf + header, body - header,
            buf + body))
    return FALSE;
  /* Only an authentic packet makes state. */
  if (s == NULL && (s = in_stream (gcm, ssrc, TRUE)) == NULL)
    return FALSE;
  replay_mark (&s->rtp, (guint64) index, !s->rtp_any);
  s->rtp_any = TRUE;
  *len = body;
  return TRUE;
}

gboolean
sfu_srtp_gcm_unprotect_rtcp (SfuSrtpGcm *gcm, guint8 *buf, gsize *len)
{
  guint8 iv[IV_LEN];
  guint32 ssrc, trailer, index;
  gsize body;
  InStream *s;

  if (*len < RTCP_HEADER + SFU_SRTP_GCM_TAG_LEN + SRTCP_TRAILER)
    return FALSE;
  body = *len - SRTCP_TRAILER - SFU_SRTP_GCM_TAG_LEN;
  trailer = read32 (buf + *len - SRTCP_TRAILER);
  index = trailer & SRTCP_MAX_INDEX;
  ssrc = read32 (buf + 4);
  s = in_stream (gcm, ssrc, FALSE);
  if (s != NULL && s->rtcp_any && !replay_check (&s->rtcp, index))
    return FALSE;
  rtcp_iv (&gcm->in_rtcp, ssrc, index, iv);
  if (trailer & SRTCP_E_BIT) {
    if (!seal_or_open (&gcm->in_rtcp, FALSE, iv, buf, RTCP_HEADER, buf + *len - SRTCP_TRAILER,
              SRTCP_TRAILER, buf + RTCP_HEADER, body - RTCP_HEADER, buf + body))
      return FALSE;
  } else {
    /* Unencrypted SRTCP (RFC 7714 §9.2): the whole packet is authenticated only. */
    if (!seal_or_open (&gcm->in_rtcp, FALSE, iv, buf, body, buf + *len - SRTCP_TRAILER,
              SRTCP_TRAILER, NULL, 0, buf + body))
      return FALSE;
  }
  if (s == NULL && (s = in_stream (gcm, ssrc, TRUE)) == NULL)
    return FALSE;
  replay_mark (&s->rtcp, index, !s->rtcp_any);
  s->rtcp_any = TRUE;
  *len = body;
  return TRUE;
}

gboolean
sfu_srtp_gcm_protect_rtp (SfuSrtpGcm *gcm, guint8 *buf, gsize *len)
{
  guint8 iv[IV_LEN];
  guint16 seq = (guint16) (buf[2] << 8 | buf[3]);
  guint32 ssrc = read32 (buf + 8);
  gsize header = rtp_header_len (buf, *len);
  guint64 *highest;
  gint64 index;

  if (header == 0)
    return FALSE;
  highest = ssrc_map_get (&gcm->out_highest, ssrc);
  if (highest != NULL) {
    /* A resend (NACK) reuses its sequence number: it gets the same index, hence the same
     * bytes, as the first time. */
    index = estimate_index (*highest, seq);
    if (index < 0)
      return FALSE;
    if ((guint64) index > *highest)
      *highest = (guint64) index;
  } else {
    highest = g_new (guint64, 1);
    *highest = index = seq;
    if (!ssrc_map_add (&gcm->out_highest, ssrc, highest)) {
      g_free (highest);
      return FALSE;
    }
  }
  rtp_iv (&gcm->out_rtp, ssrc, (guint64) index, iv);
  if (!seal_or_open (&gcm->out_rtp, TRUE, iv, buf, header, NULL, 0, buf + header, *len - header,
            buf + *len))
    return FALSE;
  *len += SFU_SRTP_GCM_TAG_LEN;
  return TRUE;
}

gboolean
sfu_srtp_gcm_protect_rtcp (SfuSrtpGcm *gcm, guint8 *buf, gsize *len)
{
  guint8 iv[IV_LEN], trailer[SRTCP_TRAILER];
  gsize n = *len;
  guint32 index;

  /* Indexes are never reused: the session would need new keys (a new DTLS handshake). */
  if (gcm->out_rtcp_index == SRTCP_MAX_INDEX)
    return FALSE;
  index = ++gcm->out_rtcp_index;
  write32 (trailer, SRTCP_E_BIT | index);
  rtcp_iv (&gcm->out_rtcp, read32 (buf + 4), index, iv);
  if (!seal_or_open (&gcm->out_rtcp, TRUE, iv, buf, RTCP_HEADER, trailer, sizeof trailer,
            buf + RTCP_HEADER, n - RTCP_HEADER, buf + n))
    return FALSE;
  memcpy (buf + n + SFU_SRTP_GCM_TAG_LEN, trailer, sizeof trailer);
  *len = n + SFU_SRTP_GCM_TAG_LEN + SRTCP_TRAILER;
  return TRUE;
}
