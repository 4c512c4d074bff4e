/* SPDX-License-Identifier: MIT */
#include "sfu-rtcp.h"
#include "sfu-bytes.h"

#include <string.h>

G_DEFINE_QUARK (sfu-rtcp-error-quark, sfu_rtcp_error)

#define FB_HEADER_LEN 12 /* RTCP header, sender SSRC, media SSRC */
#define TWCC_CHUNKS_OFFSET (FB_HEADER_LEN + 8)
#define REPORT_BLOCK_LEN 24
#define SR_HEADER_LEN 28
#define RR_HEADER_LEN 8
#define MAX_BLOCK_LEN (4 * (gsize) 0x10000)

static inline gint32
sign_extend_24 (guint32 v)
{
  return (v & 0x800000) ? (gint32) v - 0x1000000 : (gint32) v;
}

/* Compound iteration */

void
sfu_rtcp_iter_init (SfuRtcpIter *iter, const guint8 *data, gsize len)
{
  g_return_if_fail (iter != NULL);
  g_return_if_fail (data != NULL || len == 0);

  *iter = (SfuRtcpIter){ .data = data, .len = len };
}

static gboolean
iter_fail (SfuRtcpIter *iter, SfuRtcpError status)
{
  iter->error = TRUE;
  iter->status = status;
  return FALSE;
}

gboolean
sfu_rtcp_iter_next (SfuRtcpIter *iter, SfuRtcpBlock *block)
{
  const guint8 *p;
  gsize left, block_len;
  guint8 pad = 0;

  g_return_val_if_fail (iter != NULL && block != NULL, FALSE);

  if (iter->error)
    return FALSE;
  left = iter->len - iter->offset;
  if (left == 0)
    return iter->index == 0 ? iter_fail (iter, SFU_RTCP_ERROR_SHORT) : FALSE;
  if (left < 4)
    return iter_fail (iter, SFU_RTCP_ERROR_SHORT);
  p = iter->data + iter->offset;
  if (p[0] >> 6 != 2)
    return iter_fail (iter, SFU_RTCP_ERROR_VERSION);
  block_len = 4 * ((gsize) sfu_rd16 (p + 2) + 1);
  if (block_len > left)
    return iter_fail (iter, SFU_RTCP_ERROR_LENGTH);
  if (p[0] & 0x20) {
    /* RFC 3550 §6.4.1 pads only the last block, but Chromium pads transport-cc feedback
     * wherever it sits in a compound packet, and libwebrtc accepts padding on any block.
     * So do we: the count includes itself and stays within this block's body, so it can
     * never reach into the next block. */
    pad = p[block_len - 1];
    if (pad == 0 || pad > block_len - 4)
      return iter_fail (iter, SFU_RTCP_ERROR_PADDING);
  }
  *block = (SfuRtcpBlock){
    .data = p,
    .len = block_len - pad,
    .offset = iter->offset,
    .type = p[1],
    .count = p[0] & 0x1F,
    .padded = pad != 0,
  };
  iter->offset += block_len;
  iter->index++;
  return TRUE;
}

/* Typed readers */

static void
read_report_block (const guint8 *p, SfuRtcpReportBlock *rb)
{
  rb->ssrc = sfu_rd32 (p);
  rb->fraction_lost = p[4];
  rb->cumulative_lost = sign_extend_24 (sfu_rd24 (p + 5));
  rb->ext_highest_seq = sfu_rd32 (p + 8);
  rb->jitter = sfu_rd32 (p + 12);
  rb->lsr = sfu_rd32 (p + 16);
  rb->dlsr = sfu_rd32 (p + 20);
}

gboolean
sfu_rtcp_read_sr (const SfuRtcpBlock *block, SfuRtcpSr *sr)
{
  const guint8 *d;

  g_return_val_if_fail (block != NULL && sr != NULL, FALSE);

  d = block->data;
  if (block->type != SFU_RTCP_SR ||
      block->len < SR_HEADER_LEN + REPORT_BLOCK_LEN * (gsize) block->count)
    return FALSE;
  sr->ssrc = sfu_rd32 (d + 4);
  sr->ntp_time = (guint64) sfu_rd32 (d + 8) << 32 | sfu_rd32 (d + 12);
  sr->rtp_time = sfu_rd32 (d + 16);
  sr->packet_count = sfu_rd32 (d + 20);
  sr->octet_count = sfu_rd32 (d + 24);
  sr->n_reports = block->count;
  for (guint i = 0; i < sr->n_reports; i++)
    read_report_block (d + SR_HEADER_LEN + REPORT_BLOCK_LEN * i, &sr->reports[i]);
  return TRUE;
}

gboolean
sfu_rtcp_read_rr (const SfuRtcpBlock *block, SfuRtcpRr *rr)
{
  g_return_val_if_fail (block != NULL && rr != NULL, FALSE);

  if (block->type != SFU_RTCP_RR ||
      block->len < RR_HEADER_LEN + REPORT_BLOCK_LEN * (gsize) block->count)
    return FALSE;
  rr->ssrc = sfu_rd32 (block->data + 4);
  rr->n_reports = block->count;
  for (guint i = 0; i < rr->n_reports; i++)
    read_report_block (block->data + RR_HEADER_LEN + REPORT_BLOCK_LEN * i, &rr->reports[i]);
  return TRUE;
}

gboolean
sfu_rtcp_read_sdes_cname (const SfuRtcpBlock *block, guint32 *ssrc, const guint8 **cname,
                          gsize *cname_len)
{
  const guint8 *d;
  gsize pos = 8;

  g_return_val_if_fail (block != NULL && cname != NULL && cname_len != NULL, FALSE);

  d = block->data;
  if (block->type != SFU_RTCP_SDES || block->count == 0 || block->len < 8)
    return FALSE;
  /* Items of the first chunk: type, length, text; a type-0 item ends the chunk. */
  while (pos < block->len && d[pos] != 0) {
    gsize item_len;

    if (block->len - pos < 2)
      return FALSE;
    item_len = d[pos + 1];
    if (item_len > block->len - pos - 2)
      return FALSE;
    if (d[pos] == 1) {
      if (ssrc)
        *ssrc = sfu_rd32 (d + 4);
      *cname = d + pos + 2;
      *cname_len = item_len;
      return TRUE;
    }
    pos += 2 + item_len;
  }
  return FALSE;
}

gboolean
sfu_rtcp_read_bye (const SfuRtcpBlock *block, SfuRtcpBye *bye)
{
  gsize pos;

  g_return_val_if_fail (block != NULL && bye != NULL, FALSE);

  pos = 4 + 4 * (gsize) block->count;
  if (block->type != SFU_RTCP_BYE || block->len < pos)
    return FALSE;
  bye->n_ssrcs = block->count;
  for (guint i = 0; i < bye->n_ssrcs; i++)
    bye->ssrcs[i] = sfu_rd32 (block->data + 4 + 4 * i);
  /* The reason is optional and only informative: one that runs past the block is
   * dropped, the BYE itself still counts. */
  bye->reason = NULL;
  bye->reason_len = 0;
  if (pos < block->len && block->data[pos] > 0 && block->data[pos] <= block->len - pos - 1) {
    bye->reason = block->data + pos + 1;
    bye->reason_len = block->data[pos];
  }
  return TRUE;
}

static gboolean
read_fb (const SfuRtcpBlock *block, guint8 type, guint8 fmt, gsize min_fci, SfuRtcpFb *fb)
{
  if (block->type != type || block->count != fmt || block->len < FB_HEADER_LEN + min_fci)
    return FALSE;
  if (fb) {
    fb->sender_ssrc = sfu_rd32 (block->data + 4);
    fb->media_ssrc = sfu_rd32 (block->data + 8);
  }
  return TRUE;
}

gboolean
sfu_rtcp_read_nack (const SfuRtcpBlock *block, SfuRtcpFb *fb, guint16 *seqs, guint max_seqs,
                    guint *n_seqs, gboolean *truncated)
{
  gsize n_items;
  guint n = 0;

  g_return_val_if_fail (block != NULL && n_seqs != NULL, FALSE);
  g_return_val_if_fail (seqs != NULL || max_seqs == 0, FALSE);

  *n_seqs = 0;
  if (truncated)
    *truncated = FALSE;
  if (!read_fb (block, SFU_RTCP_RTPFB, SFU_RTCP_RTPFB_NACK, 4, fb))
    return FALSE;
  n_items = (block->len - FB_HEADER_LEN) / 4;
  /* Stops at the cap: a flood of items costs no more than max_seqs. */
  for (gsize i = 0; i < n_items; i++) {
    const guint8 *item = block->data + FB_HEADER_LEN + 4 * i;
    guint16 pid = sfu_rd16 (item), blp = sfu_rd16 (item + 2);

    for (int bit = -1; bit < 16; bit++) {
      if (bit >= 0 && !(blp & (1u << bit)))
        continue;
      if (n == max_seqs) {
        if (truncated)
          *truncated = TRUE;
        *n_seqs = n;
        return TRUE;
      }
      seqs[n++] = (guint16) (pid + bit + 1);
    }
  }
  *n_seqs = n;
  return TRUE;
}

/* Transport-cc status chunks: a run-length chunk (T=0: 2-bit symbol, 13-bit run), or a
 * vector (T=1) of 14 1-bit or 7 2-bit symbols. Symbols: 0 not received, 1 received with
 * a 1-byte delta, 2 with a 2-byte signed delta, 3 reserved. */
static inline guint
chunk_length (guint16 chunk)
{
  if (!(chunk & 0x8000))
    return chunk & 0x1FFF;
  return (chunk & 0x4000) ? 7 : 14;
}

static inline guint
chunk_symbol (guint16 chunk, guint i)
{
  if (!(chunk & 0x8000))
    return (chunk >> 13) & 3;
  if (!(chunk & 0x4000))
    return (chunk >> (13 - i)) & 1;
  return (chunk >> (12 - 2 * i)) & 3;
}

gboolean
sfu_rtcp_read_twcc (const SfuRtcpBlock *block, SfuRtcpTwcc *twcc, SfuRtcpTwccPacket *packets,
                    guint max_packets, guint *n_packets)
{
  const guint8 *d;
  gsize pos = TWCC_CHUNKS_OFFSET, delta_pos, delta_bytes = 0;
  guint remaining, n = 0;
  guint16 seq;

  g_return_val_if_fail (block != NULL && twcc != NULL && n_packets != NULL, FALSE);
  g_return_val_if_fail (packets != NULL || max_packets == 0, FALSE);

  *n_packets = 0;
  if (!read_fb (block, SFU_RTCP_RTPFB, SFU_RTCP_RTPFB_TWCC, 8, &twcc->fb))
    return FALSE;
  d = block->data;
  twcc->base_seq = sfu_rd16 (d + 12);
  twcc->status_count = sfu_rd16 (d + 14);
  twcc->reference_time = sign_extend_24 (sfu_rd24 (d + 16));
  twcc->fb_count = d[19];
  twcc->n_received = 0;
  if (twcc->status_count == 0)
    return FALSE;

  /* Pass 1 validates: the chunks covering status_count, then the deltas they call for.
   * A run is accounted in one step, so a huge status count costs nothing here. */
  for (remaining = twcc->status_count; remaining > 0;) {
    guint16 chunk;
    guint take;

    if (block->len - pos < 2)
      return FALSE;
    chunk = sfu_rd16 (d + pos);
    pos += 2;
    take = MIN (chunk_length (chunk), remaining);
    if (!(chunk & 0x8000)) {
      guint symbol = chunk_symbol (chunk, 0);

      if (symbol == 3)
        return FALSE;
      delta_bytes += (gsize) take * symbol;
      twcc->n_received += symbol ? take : 0;
    } else {
      for (guint i = 0; i < take; i++) {
        guint symbol = chunk_symbol (chunk, i);

        if (symbol == 3)
          return FALSE;
        delta_bytes += symbol;
        twcc->n_received += symbol ? 1 : 0;
      }
    }
    remaining -= take;
  }
  if (delta_bytes > block->len - pos)
    return FALSE;

  /* Pass 2 reports, up to the cap; every read was bounded by pass 1. */
  delta_pos = pos;
  pos = TWCC_CHUNKS_OFFSET;
  seq = twcc->base_seq;
  for (remaining = twcc->status_count; remaining > 0 && n < max_packets;) {
    guint16 chunk = sfu_rd16 (d + pos);
    guint take = MIN (chunk_length (chunk), remaining);

    pos += 2;
    for (guint i = 0; i < take && n < max_packets; i++) {
      guint symbol = chunk_symbol (chunk, i);
      SfuRtcpTwccPacket *out = &packets[n++];

      out->seq = seq++;
      out->received = symbol != 0;
      out->delta = 0;
      if (symbol == 1)
        out->delta = d[delta_pos];
      else if (symbol == 2)
        out->delta = (gint16) sfu_rd16 (d + delta_pos);
      delta_pos += symbol;
    }
    remaining -= take;
  }
  *n_packets = n;
  return TRUE;
}

gboolean
sfu_rtcp_read_pli (const SfuRtcpBlock *block, SfuRtcpFb *fb)
{
  g_return_val_if_fail (block != NULL, FALSE);

  return read_fb (block, SFU_RTCP_PSFB, SFU_RTCP_PSFB_PLI, 0, fb);
}

gboolean
sfu_rtcp_read_fir (const SfuRtcpBlock *block, SfuRtcpFb *fb, SfuRtcpFirEntry *entries,
                   guint max_entries, guint *n_entries)
{
  gsize n;

  g_return_val_if_fail (block != NULL && n_entries != NULL, FALSE);
  g_return_val_if_fail (entries != NULL || max_entries == 0, FALSE);

  *n_entries = 0;
  if (!read_fb (block, SFU_RTCP_PSFB, SFU_RTCP_PSFB_FIR, 8, fb))
    return FALSE;
  n = MIN ((block->len - FB_HEADER_LEN) / 8, max_entries);
  for (gsize i = 0; i < n; i++) {
    const guint8 *e = block->data + FB_HEADER_LEN + 8 * i;

    entries[i].ssrc = sfu_rd32 (e);
    entries[i].seq_nr = e[4];
  }
  *n_entries = (guint) n;
  return TRUE;
}

gboolean
sfu_rtcp_read_remb (const SfuRtcpBlock *block, SfuRtcpRemb *remb)
{
  const guint8 *d;
  guint exponent;
  guint32 mantissa;

  g_return_val_if_fail (block != NULL && remb != NULL, FALSE);

  d = block->data;
  if (!read_fb (block, SFU_RTCP_PSFB, SFU_RTCP_PSFB_AFB, 8, NULL) ||
      memcmp (d + FB_HEADER_LEN, "REMB", 4) != 0)
    return FALSE;
  remb->n_ssrcs = d[16];
  exponent = d[17] >> 2;
  mantissa = (guint32) (d[17] & 0x03) << 16 | sfu_rd16 (d + 18);
  if (block->len < FB_HEADER_LEN + 8 + 4 * (gsize) remb->n_ssrcs)
    return FALSE;
  if (mantissa > (G_MAXUINT64 >> exponent))
    return FALSE;
  remb->sender_ssrc = sfu_rd32 (d + 4);
  remb->bitrate = (guint64) mantissa << exponent;
  for (guint i = 0; i < remb->n_ssrcs; i++)
    remb->ssrcs[i] = sfu_rd32 (d + FB_HEADER_LEN + 8 + 4 * i);
  return TRUE;
}

/* The slow path */

gboolean
sfu_rtcp_check (const guint8 *data, gsize len, GError **error)
{
  SfuRtcpIter iter;
  SfuRtcpBlock block;

  sfu_rtcp_iter_init (&iter, data, len);
  while (sfu_rtcp_iter_next (&iter, &block)) {
    union {
      SfuRtcpSr sr;
      SfuRtcpRr rr;
      SfuRtcpBye bye;
      SfuRtcpTwcc twcc;
      SfuRtcpRemb remb;
    } u;
    const guint8 *cname;
    gsize cname_len;
    guint n;
    gboolean ok = TRUE, is_remb;

    is_remb = block.len >= FB_HEADER_LEN + 4 && memcmp (block.data + FB_HEADER_LEN, "REMB", 4) == 0;
    if (block.type == SFU_RTCP_SR)
      ok = sfu_rtcp_read_sr (&block, &u.sr);
    else if (block.type == SFU_RTCP_RR)
      ok = sfu_rtcp_read_rr (&block, &u.rr);
    else if (block.type == SFU_RTCP_SDES && block.count > 0)
      ok = sfu_rtcp_read_sdes_cname (&block, NULL, &cname, &cname_len);
    else if (block.type == SFU_RTCP_BYE)
      ok = sfu_rtcp_read_bye (&block, &u.bye);
    else if (block.type == SFU_RTCP_RTPFB && block.count == SFU_RTCP_RTPFB_NACK)
      ok = sfu_rtcp_read_nack (&block, NULL, NULL, 0, &n, NULL);
    else if (block.type == SFU_RTCP_RTPFB && block.count == SFU_RTCP_RTPFB_TWCC)
      ok = sfu_rtcp_read_twcc (&block, &u.twcc, NULL, 0, &n);
    else if (block.type == SFU_RTCP_PSFB && block.count == SFU_RTCP_PSFB_PLI)
      ok = sfu_rtcp_read_pli (&block, NULL);
    else if (block.type == SFU_RTCP_PSFB && block.count == SFU_RTCP_PSFB_FIR)
      ok = sfu_rtcp_read_fir (&block, NULL, NULL, 0, &n);
    else if (block.type == SFU_RTCP_PSFB && block.count == SFU_RTCP_PSFB_AFB && is_remb)
      ok = sfu_rtcp_read_remb (&block, &u.remb);
    if (!ok) {
      g_set_error (error, SFU_RTCP_ERROR, SFU_RTCP_ERROR_BLOCK,
                   "RTCP block %u (type %u, count/fmt %u, %" G_GSIZE_FORMAT
                   " bytes) at offset %" G_GSIZE_FORMAT " is malformed",
                   iter.index - 1, block.type, block.count, block.len, block.offset);
      return FALSE;
    }
  }
  if (!iter.error)
    return TRUE;
  g_set_error (error, SFU_RTCP_ERROR, iter.status,
               "RTCP block %u at offset %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT ": %s",
               iter.index, iter.offset, len,
               iter.status == SFU_RTCP_ERROR_SHORT     ? "fewer than 4 bytes for a header"
               : iter.status == SFU_RTCP_ERROR_VERSION ? "version is not 2"
               : iter.status == SFU_RTCP_ERROR_LENGTH  ? "its length runs past the packet"
                                                       : "a bad padding count");
  return FALSE;
}

/* Builders */

static void
write_header (guint8 *p, guint8 count, guint8 type, gsize len)
{
  p[0] = 0x80 | count;
  p[1] = type;
  sfu_wr16 (p + 2, (guint16) (len / 4 - 1));
}

static void
write_report_block (guint8 *p, const SfuRtcpReportBlock *rb)
{
  gint32 lost = CLAMP (rb->cumulative_lost, -0x800000, 0x7FFFFF);

  sfu_wr32 (p, rb->ssrc);
  p[4] = rb->fraction_lost;
  sfu_wr24 (p + 5, (guint32) lost & 0xFFFFFF);
  sfu_wr32 (p + 8, rb->ext_highest_seq);
  sfu_wr32 (p + 12, rb->jitter);
  sfu_wr32 (p + 16, rb->lsr);
  sfu_wr32 (p + 20, rb->dlsr);
}

gsize
sfu_rtcp_build_sr (guint8 *buf, gsize size, const SfuRtcpSr *sr)
{
  gsize len;

  g_return_val_if_fail (sr != NULL && sr->n_reports <= SFU_RTCP_MAX_REPORTS, 0);
  g_return_val_if_fail (buf != NULL || size == 0, 0);

  len = SR_HEADER_LEN + REPORT_BLOCK_LEN * (gsize) sr->n_reports;
  if (len > size)
    return 0;
  write_header (buf, (guint8) sr->n_reports, SFU_RTCP_SR, len);
  sfu_wr32 (buf + 4, sr->ssrc);
  sfu_wr32 (buf + 8, (guint32) (sr->ntp_time >> 32));
  sfu_wr32 (buf + 12, (guint32) sr->ntp_time);
  sfu_wr32 (buf + 16, sr->rtp_time);
  sfu_wr32 (buf + 20, sr->packet_count);
  sfu_wr32 (buf + 24, sr->octet_count);
  for (guint i = 0; i < sr->n_reports; i++)
    write_report_block (buf + SR_HEADER_LEN + REPORT_BLOCK_LEN * i, &sr->reports[i]);
  return len;
}

gsize
sfu_rtcp_build_rr (guint8 *buf, gsize size, const SfuRtcpRr *rr)
{
  gsize len;

  g_return_val_if_fail (rr != NULL && rr->n_reports <= SFU_RTCP_MAX_REPORTS, 0);
  g_return_val_if_fail (buf != NULL || size == 0, 0);

  len = RR_HEADER_LEN + REPORT_BLOCK_LEN * (gsize) rr->n_reports;
  if (len > size)
    return 0;
  write_header (buf, (guint8) rr->n_reports, SFU_RTCP_RR, len);
  sfu_wr32 (buf + 4, rr->ssrc);
  for (guint i = 0; i < rr->n_reports; i++)
    write_report_block (buf + RR_HEADER_LEN + REPORT_BLOCK_LEN * i, &rr->reports[i]);
  return len;
}

gsize
sfu_rtcp_build_sdes_cname (guint8 *buf, gsize size, guint32 ssrc, const char *cname,
                           gsize cname_len)
{
  /* header, SSRC, CNAME item, then at least one zero byte (the end item), to 32 bits */
  gsize len = (8 + 2 + cname_len + 1 + 3) & ~(gsize) 3;

  g_return_val_if_fail (cname != NULL || cname_len == 0, 0);
  g_return_val_if_fail (cname_len <= 255, 0);
  g_return_val_if_fail (buf != NULL || size == 0, 0);

  if (len > size)
    return 0;
  write_header (buf, 1, SFU_RTCP_SDES, len);
  sfu_wr32 (buf + 4, ssrc);
  buf[8] = 1;
  buf[9] = (guint8) cname_len;
  if (cname_len > 0)
    memcpy (buf + 10, cname, cname_len);
  memset (buf + 10 + cname_len, 0, len - 10 - cname_len);
  return len;
}

static gsize
write_fb_header (guint8 *buf, guint8 fmt, guint8 type, gsize len, const SfuRtcpFb *fb)
{
  write_header (buf, fmt, type, len);
  sfu_wr32 (buf + 4, fb->sender_ssrc);
  sfu_wr32 (buf + 8, fb->media_ssrc);
  return len;
}

gsize
sfu_rtcp_build_nack (guint8 *buf, gsize size, const SfuRtcpFb *fb, const guint16 *seqs,
                     guint n_seqs)
{
  gsize pos = FB_HEADER_LEN;
  guint16 pid = 0, blp = 0;

  g_return_val_if_fail (fb != NULL && (seqs != NULL || n_seqs == 0), 0);
  g_return_val_if_fail (buf != NULL || size == 0, 0);

  if (n_seqs == 0 || size < FB_HEADER_LEN)
    return 0;
  for (guint i = 0; i <= n_seqs; i++) {
    guint16 diff = i < n_seqs ? (guint16) (seqs[i] - pid) : 0;

    if (i > 0 && i < n_seqs && diff <= 16) {
      if (diff > 0)
        blp |= 1u << (diff - 1);
      continue;
    }
    /* Flush the item so far (none before the first number), start the next. */
    if (i > 0) {
      if (size - pos < 4 || pos + 4 > MAX_BLOCK_LEN)
        return 0;
      sfu_wr16 (buf + pos, pid);
      sfu_wr16 (buf + pos + 2, blp);
      pos += 4;
    }
    if (i < n_seqs) {
      pid = seqs[i];
      blp = 0;
    }
  }
  return write_fb_header (buf, SFU_RTCP_RTPFB_NACK, SFU_RTCP_RTPFB, pos, fb);
}

gsize
sfu_rtcp_build_pli (guint8 *buf, gsize size, const SfuRtcpFb *fb)
{
  g_return_val_if_fail (fb != NULL, 0);
  g_return_val_if_fail (buf != NULL || size == 0, 0);

  if (size < FB_HEADER_LEN)
    return 0;
  return write_fb_header (buf, SFU_RTCP_PSFB_PLI, SFU_RTCP_PSFB, FB_HEADER_LEN, fb);
}

gsize
sfu_rtcp_build_fir (guint8 *buf, gsize size, guint32 sender_ssrc, const SfuRtcpFirEntry *entries,
                    guint n_entries)
{
  SfuRtcpFb fb = { .sender_ssrc = sender_ssrc, .media_ssrc = 0 };
  gsize len = FB_HEADER_LEN + 8 * (gsize) n_entries;

  g_return_val_if_fail (entries != NULL || n_entries == 0, 0);
  g_return_val_if_fail (buf != NULL || size == 0, 0);

  if (n_entries == 0 || len > size || len > MAX_BLOCK_LEN)
    return 0;
  for (guint i = 0; i < n_entries; i++) {
    guint8 *e = buf + FB_HEADER_LEN + 8 * i;

    sfu_wr32 (e, entries[i].ssrc);
    e[4] = entries[i].seq_nr;
    e[5] = e[6] = e[7] = 0;
  }
  return write_fb_header (buf, SFU_RTCP_PSFB_FIR, SFU_RTCP_PSFB, len, &fb);
}

gsize
sfu_rtcp_build_remb (guint8 *buf, gsize size, guint32 sender_ssrc, guint64 bitrate,
                     const guint32 *ssrcs, guint n_ssrcs)
{
  SfuRtcpFb fb = { .sender_ssrc = sender_ssrc, .media_ssrc = 0 };
  gsize len = FB_HEADER_LEN + 8 + 4 * (gsize) n_ssrcs;
  guint exponent = 0;
  guint32 mantissa;

  g_return_val_if_fail (n_ssrcs <= SFU_RTCP_REMB_MAX_SSRCS, 0);
  g_return_val_if_fail (ssrcs != NULL || n_ssrcs == 0, 0);
  g_return_val_if_fail (buf != NULL || size == 0, 0);

  if (len > size)
    return 0;
  /* The smallest exponent that fits the mantissa's 18 bits: exact whenever it can be. */
  while ((bitrate >> exponent) > 0x3FFFF)
    exponent++;
  mantissa = (guint32) (bitrate >> exponent);
  memcpy (buf + FB_HEADER_LEN, "REMB", 4);
  buf[16] = (guint8) n_ssrcs;
  buf[17] = (guint8) (exponent << 2 | mantissa >> 16);
  sfu_wr16 (buf + 18, mantissa & 0xFFFF);
  for (guint i = 0; i < n_ssrcs; i++)
    sfu_wr32 (buf + FB_HEADER_LEN + 8 + 4 * i, ssrcs[i]);
  return write_fb_header (buf, SFU_RTCP_PSFB_AFB, SFU_RTCP_PSFB, len, &fb);
}
