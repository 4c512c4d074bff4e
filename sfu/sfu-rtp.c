/* SPDX-License-Identifier: MIT */
#include "sfu-rtp.h"
#include "sfu-bytes.h"

#include <string.h>

G_DEFINE_QUARK (sfu-rtp-error-quark, sfu_rtp_error)

static inline gboolean
is_two_byte_profile (guint16 profile)
{
  return (profile & SFU_RTP_EXT_PROFILE_TWO_BYTE_MASK) == SFU_RTP_EXT_PROFILE_TWO_BYTE;
}

/* Reads the next RFC 8285 element at *pos (padding already skipped by the caller) in
 * [*pos, end). Returns FALSE at the end of the list: a one-byte id 15 (RFC 8285 §4.2: stop
 * there), and, with *malformed set, an id-0 byte with a length (libwebrtc stops there
 * too), or an element running past the block. */
static inline gboolean
next_element (const guint8 *d, gsize *pos, gsize end, gboolean one_byte, guint8 *id,
              guint8 *elen, gsize *data_off, gboolean *malformed)
{
  gsize p = *pos, hdr;

  *malformed = FALSE;
  if (one_byte) {
    *id = d[p] >> 4;
    *elen = (d[p] & 0x0F) + 1;
    hdr = 1;
    if (*id == 15)
      return FALSE;
    if (*id == 0) {
      *malformed = TRUE;
      return FALSE;
    }
  } else {
    if (end - p < 2) {
      *malformed = TRUE;
      return FALSE;
    }
    *id = d[p];
    *elen = d[p + 1];
    hdr = 2;
  }
  if (*elen > end - p - hdr) {
    *malformed = TRUE;
    return FALSE;
  }
  *data_off = p + hdr;
  *pos = p + hdr + *elen;
  return TRUE;
}

static void
parse_elements (SfuRtpPacket *pkt)
{
  gsize pos = pkt->ext_offset, end = pkt->ext_offset + pkt->ext_len;
  gboolean one_byte = pkt->ext_profile == SFU_RTP_EXT_PROFILE_ONE_BYTE;
  gboolean malformed;

  if (!one_byte && !is_two_byte_profile (pkt->ext_profile))
    return;
  while (pos < end) {
    guint8 id, elen;
    gsize data_off;

    if (pkt->data[pos] == 0) {
      pos++;
      continue;
    }
    if (!next_element (pkt->data, &pos, end, one_byte, &id, &elen, &data_off, &malformed)) {
      pkt->ext_truncated = malformed;
      return;
    }
    if (pkt->n_extensions == SFU_RTP_MAX_EXTENSIONS) {
      pkt->ext_truncated = TRUE;
      return;
    }
    pkt->extensions[pkt->n_extensions++] =
        (SfuRtpExtension){ .id = id, .len = elen, .offset = (guint32) data_off };
  }
}

/* The header up to the payload; the elements only when @elements (the remapper walks them
 * itself). */
static SfuRtpError
parse_header (const guint8 *data, gsize len, SfuRtpPacket *pkt, gboolean elements)
{
  gsize off;

  if (len < SFU_RTP_HEADER_LEN)
    return SFU_RTP_ERROR_SHORT;
  if (data[0] >> 6 != 2)
    return SFU_RTP_ERROR_VERSION;
  pkt->data = data;
  pkt->len = len;
  pkt->csrc_count = data[0] & 0x0F;
  pkt->marker = (data[1] & 0x80) != 0;
  pkt->payload_type = data[1] & 0x7F;
  pkt->seq = sfu_rd16 (data + 2);
  pkt->timestamp = sfu_rd32 (data + 4);
  pkt->ssrc = sfu_rd32 (data + 8);
  off = SFU_RTP_HEADER_LEN + 4 * (gsize) pkt->csrc_count;
  if (off > len)
    return SFU_RTP_ERROR_CSRC;

  pkt->has_extension = (data[0] & 0x10) != 0;
  pkt->ext_profile = 0;
  pkt->ext_offset = pkt->ext_len = 0;
  pkt->n_extensions = 0;
  pkt->ext_truncated = FALSE;
  if (pkt->has_extension) {
    if (len - off < 4)
      return SFU_RTP_ERROR_EXTENSION;
    pkt->ext_profile = sfu_rd16 (data + off);
    pkt->ext_len = 4 * (gsize) sfu_rd16 (data + off + 2);
    off += 4;
    if (pkt->ext_len > len - off)
      return SFU_RTP_ERROR_EXTENSION;
    pkt->ext_offset = off;
    off += pkt->ext_len;
    if (elements)
      parse_elements (pkt);
  }

  pkt->header_len = off;
  pkt->padding_len = 0;
  if (data[0] & 0x20) {
    /* The count includes itself, so 0 is invalid; it may cover everything after the
     * header (a padding-only probe). */
    if (len == off || data[len - 1] == 0 || data[len - 1] > len - off)
      return SFU_RTP_ERROR_PADDING;
    pkt->padding_len = data[len - 1];
  }
  pkt->payload = data + off;
  pkt->payload_len = len - off - pkt->padding_len;
  return SFU_RTP_OK;
}

SfuRtpError
sfu_rtp_parse_status (const guint8 *data, gsize len, SfuRtpPacket *pkt)
{
  g_return_val_if_fail (data != NULL || len == 0, SFU_RTP_ERROR_SHORT);
  g_return_val_if_fail (pkt != NULL, SFU_RTP_ERROR_SHORT);

  return parse_header (data, len, pkt, TRUE);
}

gboolean
sfu_rtp_parse (const guint8 *data, gsize len, SfuRtpPacket *pkt)
{
  return sfu_rtp_parse_status (data, len, pkt) == SFU_RTP_OK;
}

gboolean
sfu_rtp_check (const guint8 *data, gsize len, GError **error)
{
  SfuRtpPacket pkt;
  SfuRtpError code = sfu_rtp_parse_status (data, len, &pkt);
  gsize csrc_end;

  if (code == SFU_RTP_OK)
    return TRUE;
  /* Each case only reads what the parser checked before it failed there. */
  csrc_end = len >= SFU_RTP_HEADER_LEN ? SFU_RTP_HEADER_LEN + 4 * (gsize) (data[0] & 0x0F) : 0;
  switch (code) {
  case SFU_RTP_ERROR_SHORT:
    g_set_error (error, SFU_RTP_ERROR, code,
                 "RTP packet of %" G_GSIZE_FORMAT " bytes is shorter than its %d-byte header",
                 len, SFU_RTP_HEADER_LEN);
    break;
  case SFU_RTP_ERROR_VERSION:
    g_set_error (error, SFU_RTP_ERROR, code, "RTP version %u, not 2", data[0] >> 6);
    break;
  case SFU_RTP_ERROR_CSRC:
    g_set_error (error, SFU_RTP_ERROR, code,
                 "%u CSRCs need %" G_GSIZE_FORMAT " bytes, the packet has %" G_GSIZE_FORMAT,
                 data[0] & 0x0F, csrc_end, len);
    break;
  case SFU_RTP_ERROR_EXTENSION:
    if (len - csrc_end < 4)
      g_set_error (error, SFU_RTP_ERROR, code,
                   "X is set but the extension header at %" G_GSIZE_FORMAT
                   " runs past the %" G_GSIZE_FORMAT "-byte packet",
                   csrc_end, len);
    else
      g_set_error (error, SFU_RTP_ERROR, code,
                   "extension of %u words at %" G_GSIZE_FORMAT
                   " runs past the %" G_GSIZE_FORMAT "-byte packet",
                   sfu_rd16 (data + csrc_end + 2), csrc_end + 4, len);
    break;
  case SFU_RTP_ERROR_PADDING:
    g_set_error (error, SFU_RTP_ERROR, code,
                 "padding count %u with %" G_GSIZE_FORMAT " bytes after the header",
                 len == pkt.header_len ? 0u : data[len - 1], len - pkt.header_len);
    break;
  case SFU_RTP_OK:
  default:
    g_set_error (error, SFU_RTP_ERROR, code, "malformed RTP packet");
    break;
  }
  return FALSE;
}

const guint8 *
sfu_rtp_find_extension (const SfuRtpPacket *pkt, guint8 id, gsize *len)
{
  g_return_val_if_fail (pkt != NULL, NULL);

  for (guint i = 0; i < pkt->n_extensions; i++) {
    if (pkt->extensions[i].id == id) {
      if (len)
        *len = pkt->extensions[i].len;
      return pkt->data + pkt->extensions[i].offset;
    }
  }
  if (len)
    *len = 0;
  return NULL;
}

void
sfu_rtp_set_ssrc (guint8 *data, gsize len, guint32 ssrc)
{
  g_return_if_fail (data != NULL && len >= SFU_RTP_HEADER_LEN);
  sfu_wr32 (data + 8, ssrc);
}

void
sfu_rtp_set_seq (guint8 *data, gsize len, guint16 seq)
{
  g_return_if_fail (data != NULL && len >= SFU_RTP_HEADER_LEN);
  sfu_wr16 (data + 2, seq);
}

void
sfu_rtp_set_timestamp (guint8 *data, gsize len, guint32 timestamp)
{
  g_return_if_fail (data != NULL && len >= SFU_RTP_HEADER_LEN);
  sfu_wr32 (data + 4, timestamp);
}

void
sfu_rtp_set_marker (guint8 *data, gsize len, gboolean marker)
{
  g_return_if_fail (data != NULL && len >= SFU_RTP_HEADER_LEN);
  data[1] = marker ? data[1] | 0x80 : data[1] & 0x7F;
}

void
sfu_rtp_set_payload_type (guint8 *data, gsize len, guint8 payload_type)
{
  g_return_if_fail (data != NULL && len >= SFU_RTP_HEADER_LEN);
  g_return_if_fail (payload_type < 128);
  data[1] = (data[1] & 0x80) | payload_type;
}

gboolean
sfu_rtp_remap_extension_ids (guint8 *data, gsize len, const guint8 *map, gsize map_len)
{
  SfuRtpPacket pkt;
  gsize pos, end;
  gboolean one_byte;
  guint8 max_id;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (map != NULL || map_len == 0, FALSE);

  if (parse_header (data, len, &pkt, FALSE) != SFU_RTP_OK)
    return FALSE;
  one_byte = pkt.ext_profile == SFU_RTP_EXT_PROFILE_ONE_BYTE;
  if (!pkt.has_extension || (!one_byte && !is_two_byte_profile (pkt.ext_profile)))
    return TRUE;
  max_id = one_byte ? 14 : 255;
  pos = pkt.ext_offset;
  end = pkt.ext_offset + pkt.ext_len;
  while (pos < end) {
    gsize start = pos, data_off;
    guint8 id, elen, out;
    gboolean malformed;

    if (data[pos] == 0) {
      pos++;
      continue;
    }
    if (!next_element (data, &pos, end, one_byte, &id, &elen, &data_off, &malformed)) {
      /* id 15 or a malformed element: the rest carries nothing a receiver may use. */
      memset (data + start, 0, end - start);
      break;
    }
    out = id < map_len ? map[id] : 0;
    if (out == 0 || out > max_id)
      memset (data + start, 0, pos - start);
    else if (one_byte)
      data[start] = (guint8) (out << 4 | (data[start] & 0x0F));
    else
      data[start] = out;
  }
  return TRUE;
}

gboolean
sfu_rtp_audio_level (const SfuRtpPacket *pkt, guint8 ext_id, gboolean *voice,
                     guint8 *level_dbov)
{
  gsize len = 0;
  const guint8 *value;

  g_return_val_if_fail (pkt != NULL, FALSE);

  value = sfu_rtp_find_extension (pkt, ext_id, &len);
  if (value == NULL || len < 1)
    return FALSE;
  if (voice)
    *voice = (value[0] & 0x80) != 0;
  if (level_dbov)
    *level_dbov = value[0] & 0x7F;
  return TRUE;
}

gboolean
sfu_rtp_vp8_is_keyframe (const guint8 *payload, gsize len)
{
  gsize off = 1;

  if (payload == NULL || len < 1)
    return FALSE;
  /* X|R|N|S|R|PID: the start (S) of partition 0. */
  if ((payload[0] & 0x10) == 0 || (payload[0] & 0x07) != 0)
    return FALSE;
  if (payload[0] & 0x80) {
    guint8 x;

    if (len < 2)
      return FALSE;
    x = payload[1]; /* I|L|T|K|RSV */
    off = 2;
    if (x & 0x80) {
      if (len <= off)
        return FALSE;
      off += (payload[off] & 0x80) ? 2 : 1; /* 15- or 7-bit picture id */
    }
    if (x & 0x40)
      off++; /* TL0PICIDX */
    if (x & 0x30)
      off++; /* TID|Y|KEYIDX */
  }
  /* The VP8 payload header (RFC 7741 §4.3): P=0 in the frame tag, then a keyframe's
   * start code 9d 01 2a. Checking the start code too keeps a mid-GOP packet with a
   * flipped bit from passing for a switching point. */
  if (len < off + 6 || (payload[off] & 0x01) != 0)
    return FALSE;
  return payload[off + 3] == 0x9d && payload[off + 4] == 0x01 && payload[off + 5] == 0x2a;
}

static inline gboolean
is_h264_key_nal (guint8 nal_header)
{
  guint8 type = nal_header & 0x1F;

  return type == 5 || type == 7;
}

gboolean
sfu_rtp_h264_is_keyframe (const guint8 *payload, gsize len)
{
  guint8 type;

  if (payload == NULL || len < 1)
    return FALSE;
  type = payload[0] & 0x1F;
  if (type >= 1 && type <= 23)
    return is_h264_key_nal (payload[0]);
  if (type == 24) { /* STAP-A: [size(16) NAL unit]… */
    gsize off = 1;

    while (len - off >= 2) {
      gsize nal_len = sfu_rd16 (payload + off);

      off += 2;
      if (nal_len == 0 || nal_len > len - off)
        return FALSE;
      if (is_h264_key_nal (payload[off]))
        return TRUE;
      off += nal_len;
    }
    return FALSE;
  }
  if (type == 28) /* FU-A: FU indicator, then S|E|R|type */
    return len >= 2 && (payload[1] & 0x80) != 0 && is_h264_key_nal (payload[1]);
  return FALSE;
}

void
sfu_seq_unwrapper_init (SfuSeqUnwrapper *u)
{
  g_return_if_fail (u != NULL);

  *u = (SfuSeqUnwrapper){
    .bad_seq = G_MAXUINT32,
    .max_dropout = SFU_SEQ_MAX_DROPOUT,
    .max_misorder = SFU_SEQ_MAX_MISORDER,
  };
}

SfuSeqResult
sfu_seq_unwrap (SfuSeqUnwrapper *u, guint16 seq, guint64 *extended)
{
  guint16 delta;

  g_return_val_if_fail (u != NULL && extended != NULL, SFU_SEQ_JUMP);

  if (!u->started) {
    u->started = TRUE;
    u->max_ext = G_GUINT64_CONSTANT (0x10000) + seq;
    u->bad_seq = G_MAXUINT32;
    *extended = u->max_ext;
    return SFU_SEQ_FIRST;
  }
  delta = (guint16) (seq - (guint16) u->max_ext);
  if (delta != 0 && delta < u->max_dropout) {
    u->max_ext += delta; /* crosses into the next 2^16 block on a wrap */
    *extended = u->max_ext;
    return SFU_SEQ_IN_ORDER;
  }
  if (delta == 0 || (guint32) delta > 0x10000u - u->max_misorder) {
    *extended = u->max_ext - (delta == 0 ? 0 : 0x10000u - delta);
    return SFU_SEQ_REORDERED;
  }
  if (seq == u->bad_seq) {
    /* Two sequential packets after a jump: the sender restarted. */
    u->max_ext = (((u->max_ext >> 16) + 1) << 16) | seq;
    u->bad_seq = G_MAXUINT32;
    *extended = u->max_ext;
    return SFU_SEQ_RESYNC;
  }
  u->bad_seq = (guint16) (seq + 1);
  *extended = 0;
  return SFU_SEQ_JUMP;
}
