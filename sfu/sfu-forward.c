/* SPDX-License-Identifier: MIT */
/* The forwarding path, on the call's loop: one decrypted RTP packet from a sender is stored
 * once in its track's packet store, then goes to every receiver's out-stream (map, rewrite,
 * protect, queue), and RTCP is terminated per leg: receivers' NACKs are answered from the
 * source's store through the out-stream's mapping, their PLI/FIR become one throttled PLI
 * toward the source, and the SFU writes its own SR/RR.
 *
 * No allocation per packet: each copy is rewritten and protected in the loop's scratch
 * buffer, and sfu_ice_session_send() copies it into the UDP layer's preallocated send
 * queue (flushed with sendmmsg once per wakeup). */
#include "sfu-private.h"
#include "sfu-bytes.h"
#include "sfu-rtcp.h"

#include <string.h>

/* Voice activity from RFC 6464 levels (-dBov: 0 loudest, 127 silence). On after this much
 * loud audio (gaps under VOICE_GAP_US allowed), off after VOICE_OFF_US without any. */
#define VOICE_LEVEL_DBOV 50
#define VOICE_ON_US (100 * 1000)
#define VOICE_GAP_US (200 * 1000)
#define VOICE_OFF_US (G_USEC_PER_SEC)

/* RFC 3550 §4: NTP time of now. */
static guint64
ntp_now (void)
{
  gint64 us = g_get_real_time ();
  guint64 secs = (guint64) (us / G_USEC_PER_SEC) + G_GUINT64_CONSTANT (2208988800);
  guint64 frac = ((guint64) (us % G_USEC_PER_SEC) << 32) / G_USEC_PER_SEC;

  return secs << 32 | frac;
}

static SfuInTrack *
route (SfuParticipant *p, const SfuRtpPacket *pkt)
{
  SfuInTrack *by_pt = NULL;
  guint n_by_pt = 0;

  for (guint i = 0; i < p->in_tracks->len; i++) {
    SfuInTrack *t = g_ptr_array_index (p->in_tracks, i);
    if (t->sending && t->ssrc_known && t->ssrc == pkt->ssrc)
      return t;
  }
  /* An SSRC the SDP did not list: bind it by the mid extension, else by payload type when
   * only one unbound track can carry it. */
  for (guint i = 0; i < p->in_tracks->len; i++) {
    SfuInTrack *t = g_ptr_array_index (p->in_tracks, i);
    guint8 id = t->ext_uri_ids[SFU_EXT_MID];
    const guint8 *mid;
    gsize mid_len;

    if (!t->sending || t->ssrc_known)
      continue;
    if (id && (mid = sfu_rtp_find_extension (pkt, id, &mid_len)) && mid_len == strlen (t->mid) &&
        memcmp (mid, t->mid, mid_len) == 0) {
      by_pt = t;
      n_by_pt = 1;
      break;
    }
    if (t->pt == pkt->payload_type) {
      by_pt = t;
      n_by_pt++;
    }
  }
  if (n_by_pt != 1)
    return NULL;
  by_pt->ssrc = pkt->ssrc;
  by_pt->ssrc_known = TRUE;
  return by_pt;
}

static void
receive_stats (SfuInTrack *t, const SfuRtpPacket *pkt, gsize len, gint64 now)
{
  guint64 ext;
  SfuSeqResult r = sfu_seq_unwrap (&t->seq, pkt->seq, &ext);
  guint clock = t->codec->clock_rate ? t->codec->clock_rate : 90000;
  gint64 arrival, transit, d;

  if (r == SFU_SEQ_FIRST || r == SFU_SEQ_RESYNC) {
    t->base_ext = ext;
    t->received = t->expected_prior = t->received_prior = 0;
    t->have_transit = FALSE;
  }
  t->received++;
  t->bytes += len;
  /* RFC 3550 A.8, in timestamp units. */
  arrival = (gint64) ((guint64) now * clock / G_USEC_PER_SEC);
  transit = (gint64) (guint32) ((guint32) arrival - pkt->timestamp);
  if (t->have_transit) {
    d = transit - t->last_transit;
    /* Both are 32-bit values: a wrap must not look like a huge jitter. */
    if (d > G_MAXINT32)
      d -= G_GINT64_CONSTANT (1) << 32;
    else if (d < -(gint64) G_MAXINT32)
      d += G_GINT64_CONSTANT (1) << 32;
    t->jitter += ((double) ABS (d) - t->jitter) / 16.0;
  }
  t->last_transit = transit;
  t->have_transit = TRUE;
}

static void
voice_activity (SfuParticipant *p, SfuInTrack *t, const SfuRtpPacket *pkt, gint64 now)
{
  gboolean v;
  guint8 level;

  if (!t->ext_uri_ids[SFU_EXT_AUDIO_LEVEL] ||
      !sfu_rtp_audio_level (pkt, t->ext_uri_ids[SFU_EXT_AUDIO_LEVEL], &v, &level))
    return;
  if (level <= VOICE_LEVEL_DBOV) {
    if (!t->loud_since_us || now - t->last_loud_us > VOICE_GAP_US)
      t->loud_since_us = now;
    t->last_loud_us = now;
    if (!p->voice && !p->muted && now - t->loud_since_us >= VOICE_ON_US)
      sfu_participant_set_voice (p, TRUE);
  } else if (p->voice && now - t->last_loud_us >= VOICE_OFF_US) {
    sfu_participant_set_voice (p, FALSE);
  }
}

void
sfu_forward_rewrite (const SfuOutTrack *o, guint8 *buf, gsize len, guint16 seq, guint32 ts)
{
  sfu_rtp_set_ssrc (buf, len, o->ssrc);
  sfu_rtp_set_seq (buf, len, seq);
  sfu_rtp_set_timestamp (buf, len, ts);
  sfu_rtp_set_payload_type (buf, len, (guint8) o->pt);
  /* The X bit: only then is there a block to remap (which parses the packet again). */
  if (len > 0 && (buf[0] & 0x10) != 0)
    sfu_rtp_remap_extension_ids (buf, len, o->ext_map, G_N_ELEMENTS (o->ext_map));
}

void
sfu_forward_rtp (SfuParticipant *p, guint8 *data, gsize len)
{
  SfuServer *server = p->call->server;
  SfuLoop *loop = p->call->loop;
  gint64 now = sfu_loop_now (loop);
  SfuRtpPacket pkt;
  SfuInTrack *t;
  gboolean keyframe = FALSE;

  if (!sfu_rtp_parse (data, len, &pkt) || !(t = route (p, &pkt)))
    return;
  p->stats.packets_in++;
  p->stats.bytes_in += len;
  receive_stats (t, &pkt, len, now);

  if (t->kind == SFU_MEDIA_AUDIO) {
    voice_activity (p, t, &pkt, now);
    if (p->muted) {
      p->stats.dropped_muted++;
      return;
    }
  } else {
    const char *name = t->codec->name;

    if (name && g_ascii_strcasecmp (name, "VP8") == 0)
      keyframe = sfu_rtp_vp8_is_keyframe (pkt.payload, pkt.payload_len);
    else if (name && g_ascii_strcasecmp (name, "H264") == 0)
      keyframe = sfu_rtp_h264_is_keyframe (pkt.payload, pkt.payload_len);
    if (keyframe)
      sfu_keyframe_throttle_keyframe_seen (&t->throttle);
    else if (sfu_keyframe_throttle_due (&t->throttle, now))
      sfu_participant_send_pli (t);
  }

  /* Once for every receiver: their out-streams resend from here. */
  if (t->store && t->outs->len > 0)
    sfu_packet_store_put (t->store, pkt.ssrc, pkt.seq, data, len, now);

  for (guint i = 0; i < t->outs->len; i++) {
    SfuOutTrack *o = g_ptr_array_index (t->outs, i);
    SfuParticipant *r = o->receiver;
    guint8 *buf;
    guint16 seq;
    guint32 ts;
    gsize n = len;

    if (!o->negotiated || !r->srtp || !r->ice || r->disconnected)
      continue;
    if (!sfu_outstream_map (&o->stream, pkt.ssrc, pkt.seq, pkt.timestamp, now, keyframe, &seq,
                            &ts)) {
      if (sfu_outstream_wants_keyframe (&o->stream))
        sfu_participant_request_keyframe (t);
      continue;
    }
    if (len > SFU_UDP_MAX_DATAGRAM - SFU_SRTP_MAX_TRAILER)
      continue;
    buf = sfu_server_scratch (server, loop);
    memcpy (buf, data, len);
    sfu_forward_rewrite (o, buf, len, seq, ts);
    if (!sfu_srtp_protect_rtp (r->srtp, buf, &n, SFU_SCRATCH_SIZE))
      continue;
    if (sfu_ice_session_send (r->ice, buf, n)) {
      o->packets++;
      o->octets += pkt.payload_len;
      o->last_ts = ts;
      o->last_sent_us = now;
      r->stats.packets_out++;
      r->stats.bytes_out += n;
    }
  }
}

/* ---- keyframe requests toward a source ---- */

/* Feedback goes in a compound led by an empty RR and an SDES: peers that do not take
 * reduced-size RTCP (RFC 5506) drop a lone PLI. */
static gsize
feedback_header (SfuParticipant *q, guint8 *buf, gsize size)
{
  SfuRtcpRr rr = { .ssrc = q->rtcp_ssrc };
  gsize n = sfu_rtcp_build_rr (buf, size, &rr);

  n += sfu_rtcp_build_sdes_cname (buf + n, size - n, q->rtcp_ssrc, q->cname, strlen (q->cname));
  return n;
}

/* Sends one PLI toward @t's sender, unthrottled: callers go through the throttle. */
void
sfu_participant_send_pli (SfuInTrack *t)
{
  SfuParticipant *q = t->owner;
  guint8 *buf;
  gsize n;
  SfuRtcpFb fb = { q->rtcp_ssrc, t->ssrc };

  if (!q->srtp || !t->ssrc_known || t->kind != SFU_MEDIA_VIDEO)
    return;
  buf = sfu_server_scratch (q->call->server, q->call->loop);
  n = feedback_header (q, buf, SFU_DTLS_MTU);
  n += sfu_rtcp_build_pli (buf + n, SFU_DTLS_MTU - n, &fb);
  q->stats.plis_sent++;
  sfu_participant_send_rtcp (q, buf, n);
}

/* A receiver (or a new out-stream) wants a keyframe from @t: at most one PLI per second
 * per source; a throttled request stays pending and goes out when due (checked on the
 * source's packets and on the report timer). */
void
sfu_participant_request_keyframe (SfuInTrack *t)
{
  if (t->kind != SFU_MEDIA_VIDEO || !t->owner->srtp)
    return;
  if (sfu_keyframe_throttle_allow (&t->throttle, sfu_loop_now (t->owner->call->loop)))
    sfu_participant_send_pli (t);
}

/* ---- RTCP from a participant ---- */

static SfuOutTrack *
find_out (SfuParticipant *p, guint32 ssrc)
{
  for (guint i = 0; i < p->out_tracks->len; i++) {
    SfuOutTrack *o = g_ptr_array_index (p->out_tracks, i);
    if (o->ssrc == ssrc)
      return o;
  }
  return NULL;
}

/* @packet is the source's, from its store: rebuilt exactly as sfu_forward_rtp sent it. */
static void
resend (guint16 out_seq, guint32 out_ts, const guint8 *packet, gsize len, gpointer user_data)
{
  SfuOutTrack *o = user_data;
  SfuParticipant *r = o->receiver;
  guint8 *buf = sfu_server_scratch (r->call->server, r->call->loop);
  gsize n = len;

  if (len > SFU_UDP_MAX_DATAGRAM - SFU_SRTP_MAX_TRAILER)
    return;
  memcpy (buf, packet, len);
  sfu_forward_rewrite (o, buf, len, out_seq, out_ts);
  if (sfu_srtp_protect_rtp (r->srtp, buf, &n, SFU_SCRATCH_SIZE) &&
      sfu_ice_session_send (r->ice, buf, n)) {
    r->stats.packets_out++;
    r->stats.bytes_out += n;
  }
}

static void
report_blocks (SfuParticipant *p, const SfuRtcpReportBlock *blocks, guint n)
{
  guint32 now_mid = (guint32) (ntp_now () >> 16);

  for (guint i = 0; i < n; i++) {
    const SfuRtcpReportBlock *rb = &blocks[i];
    guint32 rtt;

    if (!find_out (p, rb->ssrc) || rb->lsr == 0)
      continue;
    rtt = now_mid - rb->lsr - rb->dlsr;
    if (rtt < 0x80000000u)
      p->rtt_ms = rtt * 1000.0 / 65536.0;
  }
}

void
sfu_forward_rtcp (SfuParticipant *p, const guint8 *data, gsize len)
{
  gint64 now = sfu_loop_now (p->call->loop);
  guint16 seqs[SFU_RTCP_MAX_NACK_SEQS];
  guint nack_budget = SFU_RTCP_MAX_NACK_SEQS;
  SfuRtcpIter iter;
  SfuRtcpBlock block;
  SfuRtcpFb fb;

  sfu_rtcp_iter_init (&iter, data, len);
  while (sfu_rtcp_iter_next (&iter, &block)) {
    switch (block.type) {
    case SFU_RTCP_SR: {
      SfuRtcpSr sr;
      if (!sfu_rtcp_read_sr (&block, &sr))
        break;
      for (guint i = 0; i < p->in_tracks->len; i++) {
        SfuInTrack *t = g_ptr_array_index (p->in_tracks, i);
        if (t->ssrc_known && t->ssrc == sr.ssrc) {
          t->sr_lsr = (guint32) (sr.ntp_time >> 16);
          t->sr_at_us = now;
        }
      }
      report_blocks (p, sr.reports, sr.n_reports);
      break;
    }
    case SFU_RTCP_RR: {
      SfuRtcpRr rr;
      if (sfu_rtcp_read_rr (&block, &rr))
        report_blocks (p, rr.reports, rr.n_reports);
      break;
    }
    case SFU_RTCP_RTPFB: {
      guint n = 0;
      gboolean truncated;
      SfuOutTrack *o;

      if (block.count != SFU_RTCP_RTPFB_NACK || nack_budget == 0 ||
          !sfu_rtcp_read_nack (&block, &fb, seqs, nack_budget, &n, &truncated))
        break;
      nack_budget -= n;
      p->stats.nacks_received += n;
      o = find_out (p, fb.media_ssrc);
      if (o && o->negotiated && p->srtp && p->ice)
        p->stats.nacks_resent += sfu_outstream_nack (
            &o->stream, o->source ? o->source->store : NULL, seqs, n, now, resend, o);
      break;
    }
    case SFU_RTCP_PSFB: {
      SfuRtcpFirEntry fir[4];
      guint n_fir = 0;
      SfuOutTrack *o;

      if (block.count == SFU_RTCP_PSFB_PLI && sfu_rtcp_read_pli (&block, &fb)) {
        p->stats.plis_received++;
        if ((o = find_out (p, fb.media_ssrc)) && o->source)
          sfu_participant_request_keyframe (o->source);
      } else if (block.count == SFU_RTCP_PSFB_FIR &&
                 sfu_rtcp_read_fir (&block, &fb, fir, G_N_ELEMENTS (fir), &n_fir)) {
        p->stats.plis_received++;
        for (guint i = 0; i < n_fir; i++)
          if ((o = find_out (p, fir[i].ssrc)) && o->source)
            sfu_participant_request_keyframe (o->source);
      }
      break;
    }
    default:
      break;
    }
  }
}

/* ---- our reports ---- */

static void
fill_report (SfuInTrack *t, SfuRtcpReportBlock *rb, gint64 now)
{
  gint64 expected = (gint64) (t->seq.max_ext - t->base_ext + 1);
  gint64 lost = expected - (gint64) t->received;
  gint64 expected_interval = expected - (gint64) t->expected_prior;
  gint64 received_interval = (gint64) t->received - (gint64) t->received_prior;
  gint64 lost_interval = expected_interval - received_interval;

  t->expected_prior = (guint64) expected;
  t->received_prior = t->received;
  t->last_fraction = expected_interval <= 0 || lost_interval <= 0
                         ? 0
                         : (guint8) MIN (255, (lost_interval << 8) / expected_interval);
  memset (rb, 0, sizeof *rb);
  rb->ssrc = t->ssrc;
  rb->fraction_lost = t->last_fraction;
  rb->cumulative_lost = (gint32) CLAMP (lost, -0x800000, 0x7FFFFF);
  /* Extended numbers start one cycle up (sfu-rtp.h): take it off for the RFC's count. */
  rb->ext_highest_seq = (guint32) (t->seq.max_ext - 65536);
  rb->jitter = (guint32) t->jitter;
  rb->lsr = t->sr_lsr;
  rb->dlsr = t->sr_at_us ? (guint32) ((now - t->sr_at_us) * 65536 / G_USEC_PER_SEC) : 0;
}

void
sfu_forward_send_reports (SfuParticipant *p)
{
  SfuLoop *loop = p->call->loop;
  guint8 *buf = sfu_server_scratch (p->call->server, loop);
  gint64 now = sfu_loop_now (loop);
  guint64 ntp = ntp_now ();
  /* Leave room for SDES and the SRTCP trailer within one MTU-sized packet. */
  const gsize limit = SFU_DTLS_MTU - 300;
  SfuRtcpRr rr = { .ssrc = p->rtcp_ssrc };
  gsize off = 0;

  for (guint i = 0; i < p->out_tracks->len && off + 28 < limit; i++) {
    SfuOutTrack *o = g_ptr_array_index (p->out_tracks, i);
    guint clock = o->stream.config.clock_rate;
    SfuRtcpSr sr = { 0 };

    if (!o->source || !o->negotiated || o->packets == 0)
      continue;
    sr.ssrc = o->ssrc;
    sr.ntp_time = ntp;
    sr.rtp_time = o->last_ts + (guint32) ((guint64) (now - o->last_sent_us) * clock / G_USEC_PER_SEC);
    sr.packet_count = (guint32) o->packets;
    sr.octet_count = (guint32) o->octets;
    off += sfu_rtcp_build_sr (buf + off, limit - off, &sr);
  }
  for (guint i = 0; i < p->in_tracks->len && rr.n_reports < SFU_RTCP_MAX_REPORTS; i++) {
    SfuInTrack *t = g_ptr_array_index (p->in_tracks, i);
    if (t->ssrc_known && t->received > 0)
      fill_report (t, &rr.reports[rr.n_reports++], now);
  }
  off += sfu_rtcp_build_rr (buf + off, SFU_DTLS_MTU - off, &rr);
  off += sfu_rtcp_build_sdes_cname (buf + off, SFU_DTLS_MTU - off, p->rtcp_ssrc, p->cname,
                                    strlen (p->cname));
  sfu_participant_send_rtcp (p, buf, off);
}
