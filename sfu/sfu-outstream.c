/* SPDX-License-Identifier: MIT */
/* Per-receiver outgoing stream: sequence/timestamp rewriting across source switches, the
 * retransmission buffer and the NACK budget. See sfu-outstream.h for the contract.
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
  config->max_age_us = G_USEC_PER_SEC;
  config->resend_interval_us = 100 * 1000;
  config->max_resends_per_call = 64;
  if (kind == SFU_MEDIA_VIDEO) {
    config->clock_rate = 90000;
    config->require_keyframe = TRUE;
    /* 256 KiB is a 1080p screen-share keyframe or ~1 s at 2 Mbit/s; 512 slots are
     * enough for 1 s of packets at that rate. */
    config->ring_slots = 512;
    config->ring_bytes = 256 * 1024;
    config->max_resends_per_sec = 500;
  } else {
    /* Opus: 50 packets/s of ~100-300 bytes; 128 slots and 16 KiB span over 1 s. */
    config->clock_rate = 48000;
    config->ring_slots = 128;
    config->ring_bytes = 16 * 1024;
    config->max_resends_per_sec = 100;
  }
}

static gboolean
config_valid (const SfuOutStreamConfig *c)
{
  if (c->clock_rate == 0 || c->clock_rate > 1000000)
    return FALSE;
  if (c->max_age_us <= 0 || c->resend_interval_us < 0 || c->max_resends_per_sec > 100000)
    return FALSE;
  if (c->ring_slots == 0)
    return TRUE;
  /* Slots up to 2^15 so that every slot's sequence number is unambiguously behind the
   * newest one (sfu_seq_diff reaches only -32768). */
  if (c->ring_slots > 32768 || (c->ring_slots & (c->ring_slots - 1)) != 0)
    return FALSE;
  return c->ring_bytes >= 2048 && c->ring_bytes <= 64 * 1024 * 1024 &&
         (c->ring_bytes & (c->ring_bytes - 1)) == 0;
}

gboolean
sfu_outstream_init (SfuOutStream *stream, const SfuOutStreamConfig *config)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);

  memset (stream, 0, sizeof *stream);
  g_return_val_if_fail (config_valid (config), FALSE);
  stream->config = *config;
  if (config->ring_slots > 0) {
    stream->slots = g_new0 (SfuOutSlot, config->ring_slots);
    /* Not zeroed: pages become resident only as packets are written. */
    stream->ring = g_malloc (config->ring_bytes);
  }
  return TRUE;
}

void
sfu_outstream_clear (SfuOutStream *stream)
{
  g_return_if_fail (stream != NULL);

  g_clear_pointer (&stream->slots, g_free);
  g_clear_pointer (&stream->ring, g_free);
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
    s->epoch_span = MIN (s->epoch_span + (guint) d, (guint) SFU_OUTSTREAM_MAX_MISORDER);
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

void
sfu_outstream_store (SfuOutStream *stream, guint16 out_seq, const guint8 *packet, gsize len,
                     gint64 now_us)
{
  SfuOutStream *s = stream;
  SfuOutSlot *slot;
  guint32 ext;
  gsize cap, off;

  g_return_if_fail (s != NULL && (packet != NULL || len == 0));

  if (s->config.ring_slots == 0 || len == 0)
    return;
  if (len > SFU_OUTSTREAM_MAX_PACKET) {
    s->stats.store_oversize++;
    return;
  }

  if (G_UNLIKELY (!s->ring_any)) {
    ext = out_seq;
    s->ring_newest = ext;
    s->ring_any = TRUE;
  } else {
    gint d = sfu_seq_diff (out_seq, (guint16) s->ring_newest);

    /* The window is the ring_slots numbers up to the newest; further back, the slot
     * belongs to a newer packet. */
    if (d <= -(gint) s->config.ring_slots) {
      s->stats.store_too_old++;
      return;
    }
    ext = s->ring_newest + (guint32) d;
    if (d > 0)
      s->ring_newest = ext;
  }

  slot = &s->slots[out_seq & (s->config.ring_slots - 1)];
  /* Keep the first copy, and with it its resend time. */
  if (slot->len != 0 && slot->ext_seq == ext)
    return;

  /* A packet never straddles the end of the buffer: skip to its start instead. Skipping
   * advances ring_head as if bytes were written, which keeps ring_head - pos <= ring_bytes
   * a sufficient test that a packet's bytes are intact. */
  cap = s->config.ring_bytes;
  off = (gsize) (s->ring_head & (cap - 1));
  if (off + len > cap) {
    s->ring_head += cap - off;
    off = 0;
  }
  memcpy (s->ring + off, packet, len);
  slot->pos = s->ring_head;
  slot->stored_us = now_us;
  slot->ext_seq = ext;
  slot->len = (guint16) len;
  slot->resent = FALSE;
  s->ring_head += len;
  s->stats.stored++;
}

/* The slot really holding @out_seq, not expired and not overwritten, or NULL. */
static SfuOutSlot *
find_slot (SfuOutStream *s, guint16 out_seq, gint64 now_us)
{
  SfuOutSlot *slot;
  gint d;

  if (!s->ring_any)
    return NULL;
  d = sfu_seq_diff (out_seq, (guint16) s->ring_newest);
  if (d > 0 || d <= -(gint) s->config.ring_slots)
    return NULL;
  slot = &s->slots[out_seq & (s->config.ring_slots - 1)];
  if (slot->len == 0 || slot->ext_seq != s->ring_newest + (guint32) d)
    return NULL;
  if (now_us - slot->stored_us > s->config.max_age_us)
    return NULL;
  if (s->ring_head - slot->pos > s->config.ring_bytes)
    return NULL;
  return slot;
}

static const guint8 *
slot_bytes (const SfuOutStream *s, const SfuOutSlot *slot)
{
  return s->ring + (gsize) (slot->pos & (s->config.ring_bytes - 1));
}

const guint8 *
sfu_outstream_lookup (SfuOutStream *stream, guint16 out_seq, gint64 now_us, gsize *len)
{
  SfuOutSlot *slot;

  g_return_val_if_fail (stream != NULL, NULL);

  slot = find_slot (stream, out_seq, now_us);
  if (len)
    *len = slot ? slot->len : 0;
  return slot ? slot_bytes (stream, slot) : NULL;
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
sfu_outstream_nack (SfuOutStream *stream, const guint16 *seqs, guint n_seqs, gint64 now_us,
                    SfuResendFunc resend, gpointer user_data)
{
  SfuOutStream *s = stream;
  guint i, sent = 0;
  guint max_examined;

  g_return_val_if_fail (s != NULL, 0);
  g_return_val_if_fail (seqs != NULL || n_seqs == 0, 0);
  g_return_val_if_fail (resend != NULL, 0);

  s->stats.nack_received += n_seqs;
  if (s->config.ring_slots == 0) {
    s->stats.nack_not_found += n_seqs;
    return 0;
  }
  refill_tokens (s, now_us);

  /* No more than ring_slots packets can be found, so no honest NACK needs more lookups;
   * the rest of a flood is counted, not looked at. */
  max_examined = s->config.ring_slots;
  for (i = 0; i < n_seqs; i++) {
    SfuOutSlot *slot;

    if (i == max_examined || sent == s->config.max_resends_per_call || s->tokens < TOKEN) {
      s->stats.nack_throttled += n_seqs - i;
      break;
    }
    slot = find_slot (s, seqs[i], now_us);
    if (slot == NULL) {
      s->stats.nack_not_found++;
      continue;
    }
    if (slot->resent && now_us - slot->resent_us < s->config.resend_interval_us) {
      s->stats.nack_too_soon++;
      continue;
    }
    slot->resent = TRUE;
    slot->resent_us = now_us;
    s->tokens -= TOKEN;
    sent++;
    resend (seqs[i], slot_bytes (s, slot), slot->len, user_data);
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

  if (stream->config.ring_slots == 0)
    return 0;
  return stream->config.ring_slots * sizeof (SfuOutSlot) + stream->config.ring_bytes;
}
