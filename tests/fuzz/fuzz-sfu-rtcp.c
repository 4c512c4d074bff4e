/* SPDX-License-Identifier: MIT */
/* libFuzzer target for sfu-rtcp: any bytes as a compound RTCP packet. Every block the
 * iterator hands out goes through every typed reader (each must refuse what is not its
 * type, or too short, without reading past the block); what a reader accepts is built
 * again with the matching builder and read back to the same values. The slow path's
 * verdict must agree with the iterator and the readers. The bytes also feed the NACK and
 * REMB builders directly. Anything that aborts is a finding, GLib criticals and warnings
 * included. */
#include "sfu-rtcp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define BUF_SIZE 8192
#define NACK_ROUND_TRIP_CAP (SFU_RTCP_MAX_NACK_SEQS * 17)

static guint8 out_buf[BUF_SIZE];
static guint8 seen_a[8192], seen_b[8192]; /* one bit per sequence number */

static void
init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&done, 1);
  }
}

/* Runs @call, a builder call whose buffer size is `size`, into a buffer one byte short of
 * what it writes, which it must refuse, then for real; sets @len. */
#define BUILD(len, call)                                                                    \
  G_STMT_START                                                                              \
  {                                                                                         \
    gsize size = BUF_SIZE;                                                                  \
                                                                                            \
    len = (call);                                                                           \
    size = len - 1;                                                                         \
    if (len == 0 || (call) != 0)                                                            \
      abort ();                                                                             \
    size = BUF_SIZE;                                                                        \
    len = (call);                                                                           \
  }                                                                                         \
  G_STMT_END

/* The one block of a packet a builder just wrote. */
static SfuRtcpBlock
reparse (gsize len)
{
  SfuRtcpIter iter;
  SfuRtcpBlock block, extra;

  sfu_rtcp_iter_init (&iter, out_buf, len);
  if (len == 0 || !sfu_rtcp_iter_next (&iter, &block) || sfu_rtcp_iter_next (&iter, &extra) ||
      iter.error || block.len != len)
    abort ();
  return block;
}

static gboolean
same_reports (const SfuRtcpReportBlock *a, const SfuRtcpReportBlock *b, guint n)
{
  for (guint i = 0; i < n; i++) {
    if (a[i].ssrc != b[i].ssrc || a[i].fraction_lost != b[i].fraction_lost ||
        a[i].cumulative_lost != b[i].cumulative_lost ||
        a[i].ext_highest_seq != b[i].ext_highest_seq || a[i].jitter != b[i].jitter ||
        a[i].lsr != b[i].lsr || a[i].dlsr != b[i].dlsr)
      return FALSE;
  }
  return TRUE;
}

/* NACK built from @seqs reads back as the same set of numbers. */
static void
nack_round_trip (const SfuRtcpFb *fb, const guint16 *seqs, guint n)
{
  static guint16 back[NACK_ROUND_TRIP_CAP];
  SfuRtcpBlock block;
  SfuRtcpFb fb2;
  gsize len;
  guint n2;
  gboolean truncated;

  if (n == 0) {
    if (sfu_rtcp_build_nack (out_buf, BUF_SIZE, fb, seqs, n) != 0)
      abort ();
    return;
  }
  BUILD (len, sfu_rtcp_build_nack (out_buf, size, fb, seqs, n));
  block = reparse (len);
  if (!sfu_rtcp_read_nack (&block, &fb2, back, G_N_ELEMENTS (back), &n2, &truncated) ||
      truncated || fb2.sender_ssrc != fb->sender_ssrc || fb2.media_ssrc != fb->media_ssrc)
    abort ();
  memset (seen_a, 0, sizeof seen_a);
  memset (seen_b, 0, sizeof seen_b);
  for (guint i = 0; i < n; i++)
    seen_a[seqs[i] >> 3] |= 1 << (seqs[i] & 7);
  for (guint i = 0; i < n2; i++)
    seen_b[back[i] >> 3] |= 1 << (back[i] & 7);
  if (memcmp (seen_a, seen_b, sizeof seen_a) != 0)
    abort ();
}

static void
remb_round_trip (guint32 sender, guint64 bitrate, const guint32 *ssrcs, guint n)
{
  SfuRtcpRemb remb;
  SfuRtcpBlock block;
  gsize len;

  BUILD (len, sfu_rtcp_build_remb (out_buf, size, sender, bitrate, ssrcs, n));
  block = reparse (len);
  if (!sfu_rtcp_read_remb (&block, &remb) || remb.sender_ssrc != sender ||
      remb.bitrate > bitrate || remb.bitrate < bitrate - (bitrate >> 17) || remb.n_ssrcs != n ||
      (n > 0 && memcmp (remb.ssrcs, ssrcs, n * sizeof (guint32)) != 0))
    abort ();
}

/* Runs every reader on @block; returns whether the reader sfu_rtcp_check() picks for it
 * (if any) refused it. */
static gboolean
read_all (const SfuRtcpBlock *block, guint16 *nack_budget, guint *nack_left)
{
  static SfuRtcpSr sr, sr2;
  static SfuRtcpRr rr, rr2;
  static SfuRtcpBye bye;
  static SfuRtcpRemb remb;
  SfuRtcpTwccPacket twcc_pkts[64];
  SfuRtcpFirEntry fir[8], fir2[8];
  SfuRtcpTwcc twcc;
  SfuRtcpFb fb, fb2;
  const guint8 *cname, *cname2;
  gsize cname_len, cname2_len, len;
  guint32 ssrc, ssrc2;
  guint n, n2;
  gboolean truncated, ok_sr, ok_rr, ok_sdes, ok_bye, ok_nack, ok_twcc, ok_pli, ok_fir, ok_remb;
  gboolean is_remb = block->len >= 16 && memcmp (block->data + 12, "REMB", 4) == 0;

  if ((ok_sr = sfu_rtcp_read_sr (block, &sr))) {
    SfuRtcpBlock b;

    BUILD (len, sfu_rtcp_build_sr (out_buf, size, &sr));
    b = reparse (len);

    if (!sfu_rtcp_read_sr (&b, &sr2) || sr2.ssrc != sr.ssrc || sr2.ntp_time != sr.ntp_time ||
        sr2.rtp_time != sr.rtp_time || sr2.packet_count != sr.packet_count ||
        sr2.octet_count != sr.octet_count || sr2.n_reports != sr.n_reports ||
        !same_reports (sr.reports, sr2.reports, sr.n_reports))
      abort ();
  }
  if ((ok_rr = sfu_rtcp_read_rr (block, &rr))) {
    SfuRtcpBlock b;

    BUILD (len, sfu_rtcp_build_rr (out_buf, size, &rr));
    b = reparse (len);

    if (!sfu_rtcp_read_rr (&b, &rr2) || rr2.ssrc != rr.ssrc || rr2.n_reports != rr.n_reports ||
        !same_reports (rr.reports, rr2.reports, rr.n_reports))
      abort ();
  }
  if ((ok_sdes = sfu_rtcp_read_sdes_cname (block, &ssrc, &cname, &cname_len))) {
    SfuRtcpBlock b;

    if (cname < block->data || cname + cname_len > block->data + block->len)
      abort ();
    BUILD (len, sfu_rtcp_build_sdes_cname (out_buf, size, ssrc, (const char *) cname,
                                           cname_len));
    b = reparse (len);
    if (!sfu_rtcp_read_sdes_cname (&b, &ssrc2, &cname2, &cname2_len) || ssrc2 != ssrc ||
        cname2_len != cname_len || (cname_len > 0 && memcmp (cname, cname2, cname_len) != 0))
      abort ();
  }
  if ((ok_bye = sfu_rtcp_read_bye (block, &bye))) {
    if (bye.n_ssrcs > SFU_RTCP_MAX_REPORTS ||
        (bye.reason && bye.reason + bye.reason_len > block->data + block->len))
      abort ();
  }
  if ((ok_nack = sfu_rtcp_read_nack (block, &fb, nack_budget, *nack_left, &n, &truncated))) {
    if (n > *nack_left || (truncated && n != *nack_left))
      abort ();
    nack_round_trip (&fb, nack_budget, n);
    *nack_left -= n;
  }
  if ((ok_twcc = sfu_rtcp_read_twcc (block, &twcc, twcc_pkts, G_N_ELEMENTS (twcc_pkts), &n))) {
    guint received = 0;

    if (n != MIN (twcc.status_count, G_N_ELEMENTS (twcc_pkts)) || twcc.status_count == 0)
      abort ();
    for (guint i = 0; i < n; i++) {
      if (twcc_pkts[i].seq != (guint16) (twcc.base_seq + i) ||
          (!twcc_pkts[i].received && twcc_pkts[i].delta != 0))
        abort ();
      received += twcc_pkts[i].received;
    }
    if (received > twcc.n_received || twcc.n_received > twcc.status_count)
      abort ();
  }
  if ((ok_pli = sfu_rtcp_read_pli (block, &fb))) {
    SfuRtcpBlock b;

    BUILD (len, sfu_rtcp_build_pli (out_buf, size, &fb));
    b = reparse (len);

    if (!sfu_rtcp_read_pli (&b, &fb2) || memcmp (&fb, &fb2, sizeof fb) != 0)
      abort ();
  }
  if ((ok_fir = sfu_rtcp_read_fir (block, &fb, fir, G_N_ELEMENTS (fir), &n))) {
    SfuRtcpBlock b;

    if (n == 0 || n > G_N_ELEMENTS (fir))
      abort ();
    BUILD (len, sfu_rtcp_build_fir (out_buf, size, fb.sender_ssrc, fir, n));
    b = reparse (len);
    if (!sfu_rtcp_read_fir (&b, &fb2, fir2, G_N_ELEMENTS (fir2), &n2) || n2 != n ||
        fb2.sender_ssrc != fb.sender_ssrc || fb2.media_ssrc != 0)
      abort ();
    for (guint i = 0; i < n; i++)
      if (fir[i].ssrc != fir2[i].ssrc || fir[i].seq_nr != fir2[i].seq_nr)
        abort ();
  }
  if ((ok_remb = sfu_rtcp_read_remb (block, &remb))) {
    if (!is_remb)
      abort ();
    /* A bitrate read from a REMB is rebuilt exactly (same mantissa bits, lowest exponent). */
    guint64 bitrate = remb.bitrate;

    SfuRtcpBlock b;

    remb_round_trip (remb.sender_ssrc, remb.bitrate, remb.ssrcs, remb.n_ssrcs);
    b = reparse (sfu_rtcp_build_remb (out_buf, BUF_SIZE, 0, bitrate, NULL, 0));
    if (!sfu_rtcp_read_remb (&b, &remb) || remb.bitrate != bitrate)
      abort ();
  }

  /* At most one reader accepts a block. */
  if (ok_sr + ok_rr + ok_sdes + ok_bye + ok_nack + ok_twcc + ok_pli + ok_fir + ok_remb > 1)
    abort ();
  switch (block->type) {
  case SFU_RTCP_SR:
    return !ok_sr;
  case SFU_RTCP_RR:
    return !ok_rr;
  case SFU_RTCP_SDES:
    return block->count > 0 && !ok_sdes;
  case SFU_RTCP_BYE:
    return !ok_bye;
  case SFU_RTCP_RTPFB:
    return (block->count == SFU_RTCP_RTPFB_NACK && !ok_nack) ||
           (block->count == SFU_RTCP_RTPFB_TWCC && !ok_twcc);
  case SFU_RTCP_PSFB:
    return (block->count == SFU_RTCP_PSFB_PLI && !ok_pli) ||
           (block->count == SFU_RTCP_PSFB_FIR && !ok_fir) ||
           (block->count == SFU_RTCP_PSFB_AFB && is_remb && !ok_remb);
  default:
    return FALSE;
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  guint16 nack_budget[SFU_RTCP_MAX_NACK_SEQS];
  guint nack_left = G_N_ELEMENTS (nack_budget);
  SfuRtcpIter iter;
  SfuRtcpBlock block;
  gboolean reader_refused = FALSE;
  gsize next = 0;

  init_once ();
  sfu_rtcp_iter_init (&iter, data, size);
  while (sfu_rtcp_iter_next (&iter, &block)) {
    if (block.offset != next || block.data != data + next || block.len < 4 ||
        block.len > size - next || block.count > 31 || iter.index == 0)
      abort ();
    next = iter.offset;
    if (!reader_refused)
      reader_refused = read_all (&block, nack_budget + (G_N_ELEMENTS (nack_budget) - nack_left),
                                 &nack_left);
    else
      read_all (&block, nack_budget + (G_N_ELEMENTS (nack_budget) - nack_left), &nack_left);
  }
  if (iter.error != (iter.status != SFU_RTCP_OK) || (!iter.error && next != size))
    abort ();
  /* The slow path: the iterator's error wins unless a reader refused a block before it. */
  if (sfu_rtcp_check (data, size, &error) != (!iter.error && !reader_refused))
    abort ();
  if (error && (error->domain != SFU_RTCP_ERROR ||
                error->code != (reader_refused ? SFU_RTCP_ERROR_BLOCK : (int) iter.status)))
    abort ();

  /* Builders straight from the bytes: NACK of any numbers, REMB of any bitrate. */
  if (size >= 8) {
    guint16 seqs[64];
    guint32 ssrcs[4] = { 0 };
    guint n = MIN ((size - 8) / 2, G_N_ELEMENTS (seqs));
    guint64 bitrate = 0;
    SfuRtcpFb fb = { size, (guint32) data[0] << 24 | data[1] };

    for (guint i = 0; i < n; i++)
      seqs[i] = (guint16) (data[8 + 2 * i] << 8 | data[9 + 2 * i]);
    nack_round_trip (&fb, seqs, n);
    for (guint i = 0; i < 8; i++)
      bitrate = bitrate << 8 | data[i];
    memcpy (ssrcs, data, MIN (size, sizeof ssrcs));
    remb_round_trip (fb.media_ssrc, bitrate, ssrcs, data[2] % 5);
  }
  return 0;
}
