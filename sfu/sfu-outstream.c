/* SPDX-License-Identifier: MIT */
/* Per-receiver outgoing stream: sequence/timestamp rewriting across source switches, and
 * answering NACKs from the source's store within the resend budgets. See sfu-outstream.h
 * for the contract.
 *
 * Sequence rules within one epoch, with d = sfu_seq_diff (src_seq, src_newest):
 *
 *   0 < d <= MAX_DROPOUT           in order, maybe with a gap: forwarded, gap preserved
 *   -MAX_MISORDER <= d <= 0        late or duplicate: forwarded at src + offset, unless it
 *                                  is older than the epoch's first packet
 *   MAX_DROPOUT < d                far: a big jump, or a stray. Dropped; if the source was
 *                                  silent before it and the next packet follows it, the
 *                                  jump is real and forwarded, gap preserved
 *   d < -MAX_MISORDER              far: too old, or a forward jump of 2^15 or more (the two
 *                                  are the same 16-bit number). Dropped; confirmed the same
 *                                  way, the source jumped: a new epoch (resync)
 *
 * A forward jump of 2^15 or more is never passed on as a jump: receivers (and our own SRTP
 * index estimate) would read it as a step back and drop every packet until the numbers
 * caught up. A resync continues the sequence at last + 1 instead, like a switch. */
#include "sfu-outstream.h"
#include "sfu-bytes.h"
#include "sfu-seq.h"

#include <string.h>

/* One resend, in the token bucket's units (millionths of a resend per microsecond). */
#define TOKEN G_USEC_PER_SEC
/* Elapsed time beyond this (~101 days) is clamped before it is scaled by the clock rate,
 * so that the product stays within 64 bits for clock rates up to 2^20 Hz. */
#define MAX_ELAPSED_US (G_GINT64_CONSTANT (1) << 43)

void
sfu_outstream_config_init (SfuOutStreamConfig *config, SfuMediaKind kind, guint32 ssrc)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof *config);
  config->ssrc = ssrc;
  config->initial_seq = (guint16) g_random_int ();
  config->initial_ts = g_random_int ();
  config->resend_interval_us = 100 * 1000;
  config->max_resends_per_call = 64;
  if (kind == SFU_MEDIA_VIDEO) {
    config->clock_rate = 90000;
    config->require_keyframe = TRUE;
    /* As many as the source's store keeps (sfu_packet_store_config_init): 1 s of packets
     * at 2 Mbit/s. */
    config->resend_slots = 512;
    config->max_resends_per_sec = 500;
  } else {
    /* Opus: 50 packets/s; 128 slots span over 1 s. */
    config->clock_rate = 48000;
    config->resend_slots = 128;
    config->max_resends_per_sec = 100;
  }
}

static gboolean
config_valid (const SfuOutStreamConfig *c)
{
  if (c->clock_rate == 0 || c->clock_rate > 1000000)
    return FALSE;
  if (c->resend_interval_us < 0 || c->resend_interval_us > G_MAXINT32 ||
      c->max_resends_per_sec > 100000)
    return FALSE;
  return c->resend_slots <= 32768 && (c->resend_slots & (c->resend_slots - 1)) == 0;
}

gboolean
sfu_outstream_init (SfuOutStream *stream, const SfuOutStreamConfig *config)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);

  memset (stream, 0, sizeof *stream);
  g_return_val_if_fail (config_valid (config), FALSE);
  stream->config = *config;
  if (config->resend_slots > 0)
    stream->slots = g_new0 (SfuOutSlot, config->resend_slots);
  return TRUE;
}

void
sfu_outstream_clear (SfuOutStream *stream)
{
  g_return_if_fail (stream != NULL);

  g_clear_pointer (&stream->slots, g_free);
}

SfuOutStream *
sfu_outstream_new (const SfuOutStreamConfig *config)
{
  SfuOutStream *stream = g_new (SfuOutStream, 1);

  if (!sfu_outstream_init (stream, config)) {
    g_free (stream);
    return NULL;
  }
  return stream;
}

void
sfu_outstream_free (SfuOutStream *stream)
{
  if (stream == NULL)
    return;
  sfu_outstream_clear (stream);
  g_free (stream);
}

/* Clock ticks for @elapsed_us, at least 1 so that a new epoch's first packet is strictly
 * newer, and below 2^31 because a larger step reads as a step back to every receiver. */
static guint32
elapsed_ticks (gint64 elapsed_us, guint32 clock_rate)
{
  guint64 ticks;

  if (elapsed_us <= 0)
    return 1;
  ticks = (guint64) MIN (elapsed_us, MAX_ELAPSED_US) * clock_rate / G_USEC_PER_SEC;
  return (guint32) CLAMP (ticks, 1, G_MAXINT32);
}

/* Starts an epoch at this packet: the first one ever, a new source, or a resync. */
static gboolean
start_epoch (SfuOutStream *s, guint32 src_ssrc, guint16 src_seq, guint32 src_ts,
             gint64 arrival_us, gboolean keyframe, guint16 *out_seq, guint32 *out_ts)
{
  guint16 first_seq;
  guint32 first_ts;

  if (s->config.require_keyframe && !keyframe) {
    s->wants_keyframe = TRUE;
    s->stats.dropped_keyframe_wait++;
    return FALSE;
  }

  if (!s->started) {
    first_seq = s->config.initial_seq;
    first_ts = s->config.initial_ts;
  } else {
    first_seq = (guint16) (s->src_newest + s->seq_offset + 1);
    first_ts = s->out_ts_newest +
               elapsed_ticks (arrival_us - s->newest_arrival_us, s->config.clock_rate);
    if (src_ssrc != s->src_ssrc)
      s->stats.switches++;
    else
      s->stats.resyncs++;
  }

  s->started = TRUE;
  s->rebase_pending = FALSE;
  s->probing = FALSE;
  s->src_ssrc = src_ssrc;
  s->seq_offset = (guint16) (first_seq - src_seq);
  s->ts_offset = first_ts - src_ts;
  s->src_newest = src_seq;
  s->epoch_span = 0;
  s->out_ts_newest = first_ts;
  s->newest_arrival_us = arrival_us;

  s->stats.forwarded++;
  *out_seq = first_seq;
  *out_ts = first_ts;
  return TRUE;
}

/* A packet beyond the dropout or misorder window is either a stray (very old, or
 * corrupt) or the source really jumped. Sources jump that far only after being silent
 * (held back upstream for thousands of packets, restarted), while strays come in the
 * middle of a running stream; so a far packet is believed only once the current numbering
 * has been silent for SFU_OUTSTREAM_RESYNC_SILENCE_US, and then, as in RFC 3550 A.1, only
 * when the next packet follows it. The first one is dropped either way. */
static gboolean
far_packet_confirmed (SfuOutStream *s, guint16 src_seq, gint d, gint64 arrival_us)
{
  if (arrival_us - s->newest_arrival_us < SFU_OUTSTREAM_RESYNC_SILENCE_US) {
    s->probing = FALSE;
    s->stats.dropped_old++;
    return FALSE;
  }
  if (s->probing && src_seq == s->probe_next) {
    s->probing = FALSE;
    return TRUE;
  }
  s->probing = TRUE;
  s->probe_next = (guint16) (src_seq + 1);
  if (d > 0)
    s->stats.dropped_jump++;
  else
    s->stats.dropped_old++;
  return FALSE;
}

gboolean
sfu_outstream_map (SfuOutStream *stream, guint32 src_ssrc, guint16 src_seq, guint32 src_ts,
                   gint64 arrival_us, gboolean keyframe, guint16 *out_seq, guint32 *out_ts)
{
  SfuOutStream *s = stream;
  gint d;

  g_return_val_if_fail (s != NULL && out_seq != NULL && out_ts != NULL, FALSE);

  s->wants_keyframe = FALSE;
  if (G_UNLIKELY (!s->started || src_ssrc != s->src_ssrc || s->rebase_pending))
    return start_epoch (s, src_ssrc, src_seq, src_ts, arrival_us, keyframe, out_seq, out_ts);

  d = sfu_seq_diff (src_seq, s->src_newest);
  if (d > 0) {
    if (G_UNLIKELY (d > SFU_OUTSTREAM_MAX_DROPOUT) &&
        !far_packet_confirmed (s, src_seq, d, arrival_us))
      return FALSE;
    s->probing = FALSE;
    s->src_newest = src_seq;
    /* Saturated at 2^15: every number further back reads as ahead (sfu_seq_diff). */
    s->epoch_span = MIN (s->epoch_span + (guint) d, 32768u);
    s->out_ts_newest = src_ts + s->ts_offset;
    s->newest_arrival_us = arrival_us;
  } else if (-d <= SFU_OUTSTREAM_MAX_MISORDER) {
    /* A late packet from before the epoch's first one (e.g. the frame before the keyframe
     * we switched on) would take an outgoing number the previous source already used. */
    if (G_UNLIKELY ((guint) -d > s->epoch_span)) {
      s->stats.dropped_old++;
      return FALSE;
    }
  } else {
    if (!far_packet_confirmed (s, src_seq, d, arrival_us))
      return FALSE;
    s->rebase_pending = TRUE;
    return start_epoch (s, src_ssrc, src_seq, src_ts, arrival_us, keyframe, out_seq, out_ts);
  }

  s->stats.forwarded++;
  *out_seq = (guint16) (src_seq + s->seq_offset);
  *out_ts = src_ts + s->ts_offset;
  return TRUE;
}

gboolean
sfu_outstream_wants_keyframe (const SfuOutStream *stream)
{
  g_return_val_if_fail (stream != NULL, FALSE);

  return stream->wants_keyframe;
}

/* The source number of outgoing @out_seq if it belongs to the current epoch: an older
 * epoch's numbers map through other offsets (or another source), so they are not found. */
static gboolean
epoch_source_seq (const SfuOutStream *s, guint16 out_seq, guint16 *src_seq)
{
  gint d;

  if (!s->started)
    return FALSE;
  d = sfu_seq_diff (out_seq, (guint16) (s->src_newest + s->seq_offset));
  if (d > 0 || (guint) -d > s->epoch_span)
    return FALSE;
  *src_seq = (guint16) (out_seq - s->seq_offset);
  return TRUE;
}

static void
refill_tokens (SfuOutStream *s, gint64 now_us)
{
  const gint64 full = (gint64) s->config.max_resends_per_sec * TOKEN;
  gint64 elapsed;

  if (!s->tokens_started) {
    s->tokens_started = TRUE;
    s->tokens = full;
    s->tokens_at_us = now_us;
    return;
  }
  elapsed = now_us - s->tokens_at_us;
  if (elapsed <= 0)
    return;
  /* Clamped to one second (a full bucket) so that the product cannot overflow. */
  elapsed = MIN (elapsed, G_USEC_PER_SEC);
  s->tokens = MIN (s->tokens + elapsed * s->config.max_resends_per_sec, full);
  s->tokens_at_us = now_us;
}

guint
sfu_outstream_nack (SfuOutStream *stream, const SfuPacketStore *store, const guint16 *seqs,
                    guint n_seqs, gint64 now_us, SfuResendFunc resend, gpointer user_data)
{
  SfuOutStream *s = stream;
  guint i, sent = 0;
  guint max_examined;
  guint32 now_ms = (guint32) (now_us / 1000);
  guint32 interval_ms;

  g_return_val_if_fail (s != NULL, 0);
  g_return_val_if_fail (seqs != NULL || n_seqs == 0, 0);
  g_return_val_if_fail (resend != NULL, 0);

  s->stats.nack_received += n_seqs;
  if (s->config.resend_slots == 0 || store == NULL) {
    s->stats.nack_not_found += n_seqs;
    return 0;
  }
  refill_tokens (s, now_us);
  interval_ms = (guint32) ((s->config.resend_interval_us + 999) / 1000);

  /* No more than resend_slots packets can be resent within an interval, so no honest NACK
   * needs more lookups; the rest of a flood is counted, not looked at. */
  max_examined = s->config.resend_slots;
  for (i = 0; i < n_seqs; i++) {
    SfuOutSlot *slot;
    const guint8 *packet;
    guint16 src_seq;
    gsize len = 0;

    if (i == max_examined || sent == s->config.max_resends_per_call || s->tokens < TOKEN) {
      s->stats.nack_throttled += n_seqs - i;
      break;
    }
    if (!epoch_source_seq (s, seqs[i], &src_seq) ||
        !(packet = sfu_packet_store_lookup (store, s->src_ssrc, src_seq, now_us, &len))) {
      s->stats.nack_not_found++;
      continue;
    }
    slot = &s->slots[seqs[i] & (s->config.resend_slots - 1)];
    if (slot->resent && slot->seq == seqs[i] && now_ms - slot->resent_ms < interval_ms) {
      s->stats.nack_too_soon++;
      continue;
    }
    slot->resent = TRUE;
    slot->seq = seqs[i];
    slot->resent_ms = now_ms;
    s->tokens -= TOKEN;
    sent++;
    /* The store keeps packets of at least a fixed header (sfu_packet_store_put). */
    resend (seqs[i], sfu_rd32 (packet + 4) + s->ts_offset, packet, len, user_data);
  }
  s->stats.nack_resent += sent;
  return sent;
}

const SfuOutStreamStats *
sfu_outstream_get_stats (const SfuOutStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);

  return &stream->stats;
}

gsize
sfu_outstream_buffer_size (const SfuOutStream *stream)
{
  g_return_val_if_fail (stream != NULL, 0);

  return stream->config.resend_slots * sizeof (SfuOutSlot);
}
