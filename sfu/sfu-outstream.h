/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One outgoing stream: one forwarded track toward one receiver, with its own SSRC, sequence
 * and timestamp space and its own retransmission buffer.
 *
 * Sources come and go (a different sharer, the same sender restarting with a new SSRC); the
 * receiver sees one continuous stream. Packets of one source map as out = src + offset
 * (mod 2^16 for sequences, 2^32 for timestamps), so reordered and duplicated packets map
 * consistently. Each source run is an "epoch"; a new epoch continues the sequence at
 * last + 1 and the timestamp by the wall-clock time since the last packet.
 *
 * Cost: sfu_outstream_map and sfu_outstream_store are O(1) and never allocate; all storage
 * is allocated once by sfu_outstream_init. A flood of NACK entries costs at most
 * ring_slots lookups and max_resends_per_call resends per call.
 *
 * Threading: none. A stream belongs to the one thread that forwards toward its receiver.
 *
 * The structure is public so that it can be embedded in a receiver's leg; its fields are
 * private: use the functions. */

/* Largest packet the retransmission buffer keeps (a full Ethernet MTU). Larger packets are
 * forwarded but cannot be resent. */
#define SFU_OUTSTREAM_MAX_PACKET 1500

/* A packet up to this many sequence numbers behind the newest one of its source is a
 * late (reordered) or duplicated packet and is forwarded. Further behind, it is older
 * than what SRTP replay windows at the receiver accept (libsrtp's default is 128; WebRTC
 * stacks configure a few hundred to a few thousand), so forwarding it would be wasted. */
#define SFU_OUTSTREAM_MAX_MISORDER 1024

/* A forward jump of up to this many sequence numbers is taken at once (the receiver sees
 * the same gap and reports the loss); a larger one must be confirmed (RFC 3550 A.1, see
 * SFU_OUTSTREAM_RESYNC_SILENCE_US), so that a stray packet cannot move the stream. */
#define SFU_OUTSTREAM_MAX_DROPOUT 3000

/* A packet beyond either window is believed only after the source's current numbering
 * has been silent this long (and the next packet follows it): a running stream does not
 * jump, so a far packet arriving in the middle of one is a stray and is dropped. */
#define SFU_OUTSTREAM_RESYNC_SILENCE_US (500 * G_GINT64_CONSTANT (1000))

typedef enum {
  SFU_MEDIA_AUDIO,
  SFU_MEDIA_VIDEO,
} SfuMediaKind;

typedef struct {
  guint32 ssrc;              /* the outgoing SSRC, fixed for the stream's life */
  guint16 initial_seq;       /* outgoing sequence number of the first packet (random) */
  guint32 initial_ts;        /* outgoing timestamp of the first packet (random) */
  guint32 clock_rate;        /* Hz, 1 .. 1,000,000 */
  gboolean require_keyframe; /* video: a new epoch starts only on a keyframe */

  /* Retransmission buffer. ring_slots: a power of two up to 32768, or 0 for none (e.g. an
   * audio stream whose receiver did not negotiate NACK). ring_bytes: a power of two of at
   * least 2048 holding the packets themselves; it, not ring_slots, sets the memory. */
  guint ring_slots;
  gsize ring_bytes;
  gint64 max_age_us;          /* older packets are not resent */
  gint64 resend_interval_us;  /* one sequence is resent at most once per interval (~RTT) */
  guint max_resends_per_call; /* per sfu_outstream_nack call */
  guint max_resends_per_sec;  /* token bucket per stream; bursts up to one second's worth */
} SfuOutStreamConfig;

typedef struct {
  guint64 forwarded;             /* packets accepted by sfu_outstream_map */
  guint64 switches;              /* epochs started on a new source SSRC (not the first) */
  guint64 resyncs;               /* epochs restarted on the same SSRC after a huge jump */
  guint64 dropped_keyframe_wait; /* a new epoch waits for a keyframe */
  guint64 dropped_old;           /* too late, older than the epoch's first packet, or far
                                    while the source is running */
  guint64 dropped_jump;          /* first packet of a large forward jump, on probation */
  guint64 stored;
  guint64 store_oversize;        /* longer than SFU_OUTSTREAM_MAX_PACKET, not stored */
  guint64 store_too_old;         /* behind the ring's window, not stored */
  /* nack_received == nack_resent + nack_not_found + nack_too_soon + nack_throttled */
  guint64 nack_received;  /* sequence numbers asked for */
  guint64 nack_resent;
  guint64 nack_not_found; /* never stored, overwritten, or older than max_age_us */
  guint64 nack_too_soon;  /* resent less than resend_interval_us ago */
  guint64 nack_throttled; /* past the per-call or per-second budget, not looked at */
} SfuOutStreamStats;

/* One retransmission-buffer entry. Private. */
typedef struct {
  guint64 pos;       /* absolute byte position of the packet in the byte ring */
  gint64 stored_us;
  gint64 resent_us;  /* valid when resent */
  guint32 ext_seq;   /* unwrapped outgoing sequence number: a wrap never aliases */
  guint16 len;       /* 0: empty */
  guint8 resent;
} SfuOutSlot;

typedef struct {
  SfuOutStreamConfig config;
  SfuOutStreamStats stats;

  /* Mapping of the current epoch: out = src + offset. */
  gboolean started;         /* an epoch has started; the offsets are valid */
  gboolean rebase_pending;  /* the source jumped; the next epoch waits for a keyframe */
  gboolean wants_keyframe;  /* the last packet was dropped for want of a keyframe */
  gboolean probing;         /* a far packet is on probation; probe_next confirms it */
  guint32 src_ssrc;
  guint16 seq_offset;
  guint16 src_newest;       /* newest source sequence number of the epoch */
  guint16 probe_next;
  guint epoch_span;         /* src_newest - epoch's first, saturated at MAX_MISORDER */
  guint32 ts_offset;
  guint32 out_ts_newest;    /* outgoing timestamp of src_newest */
  gint64 newest_arrival_us; /* arrival of src_newest */

  /* Retransmission buffer: slot (seq & (ring_slots - 1)) indexes a packet in the byte ring.
   * Invariant: the bytes of a slot are intact while ring_head - slot.pos <= ring_bytes. */
  SfuOutSlot *slots;
  guint8 *ring;
  guint64 ring_head;        /* absolute position of the next byte written */
  guint32 ring_newest;      /* unwrapped newest stored sequence number */
  gboolean ring_any;        /* something was stored; ring_newest is valid */

  /* Resend budget: tokens in millionths of a resend, refilled at max_resends_per_sec. */
  gint64 tokens;
  gint64 tokens_at_us;
  gboolean tokens_started;
} SfuOutStream;

/* Called for every resent packet. @packet points into the stream's buffer and is valid only
 * during the call: do not store into or resend from the same stream from inside it. */
typedef void (*SfuResendFunc) (guint16 seq, const guint8 *packet, gsize len,
                               gpointer user_data);

/* Defaults for @kind (video: 90 kHz, keyframe switches, 512 slots in 256 KiB; audio:
 * 48 kHz, 128 slots in 16 KiB; both 1 s max age, 100 ms resend interval, 64 resends per
 * call) and a random initial sequence number and timestamp (RFC 3550 5.1). */
void sfu_outstream_config_init (SfuOutStreamConfig *config, SfuMediaKind kind, guint32 ssrc);

/* Allocates the retransmission buffer, the only allocation the stream ever makes. Returns
 * FALSE (and a critical) when @config is out of range. */
gboolean sfu_outstream_init (SfuOutStream *stream, const SfuOutStreamConfig *config);
void sfu_outstream_clear (SfuOutStream *stream);
/* (transfer full); NULL when @config is out of range. */
SfuOutStream *sfu_outstream_new (const SfuOutStreamConfig *config);
void sfu_outstream_free (SfuOutStream *stream);

/* Maps one incoming packet into the outgoing space. Returns FALSE when it must be dropped:
 * a new source (new @src_ssrc) or a resync waits for a keyframe when the stream requires
 * one (then sfu_outstream_wants_keyframe is TRUE and the caller should ask the source for
 * one), the packet is too late, older than its epoch, or the first of a huge jump. A new
 * source's non-keyframe packets do not disturb the current source's mapping. */
gboolean sfu_outstream_map (SfuOutStream *stream, guint32 src_ssrc, guint16 src_seq,
                            guint32 src_ts, gint64 arrival_us, gboolean keyframe,
                            guint16 *out_seq, guint32 *out_ts);
/* TRUE when the last packet given to sfu_outstream_map was dropped because the stream
 * waits for a keyframe from that packet's source. */
gboolean sfu_outstream_wants_keyframe (const SfuOutStream *stream);

/* Copies the already-rewritten @packet (sequence number @out_seq) into the retransmission
 * buffer, overwriting the oldest. Packets longer than SFU_OUTSTREAM_MAX_PACKET and
 * duplicates of a stored sequence number are not stored. */
void sfu_outstream_store (SfuOutStream *stream, guint16 out_seq, const guint8 *packet,
                          gsize len, gint64 now_us);
/* (transfer none) The stored packet with sequence number @out_seq, or NULL when there is
 * none, it was overwritten, or it is older than max_age_us. Valid until the next store. */
const guint8 *sfu_outstream_lookup (SfuOutStream *stream, guint16 out_seq, gint64 now_us,
                                    gsize *len);
/* Resends through @resend the packets named in @seqs (a receiver's NACK, expanded), within
 * the stream's budgets; see SfuOutStreamStats for how each entry is counted. Returns the
 * number resent. */
guint sfu_outstream_nack (SfuOutStream *stream, const guint16 *seqs, guint n_seqs,
                          gint64 now_us, SfuResendFunc resend, gpointer user_data);

const SfuOutStreamStats *sfu_outstream_get_stats (const SfuOutStream *stream);
/* Bytes allocated for the retransmission buffer (slots and packets). */
gsize sfu_outstream_buffer_size (const SfuOutStream *stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfuOutStream, sfu_outstream_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SfuOutStream, sfu_outstream_clear)

G_END_DECLS
