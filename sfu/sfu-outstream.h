/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "sfu-packet-store.h"

G_BEGIN_DECLS

/* One outgoing stream: one forwarded track toward one receiver, with its own SSRC, sequence
 * and timestamp space, answering the receiver's NACKs.
 *
 * Sources come and go (a different sharer, the same sender restarting with a new SSRC); the
 * receiver sees one continuous stream. Packets of one source map as out = src + offset
 * (mod 2^16 for sequences, 2^32 for timestamps), so reordered and duplicated packets map
 * consistently. Each source run is an "epoch"; a new epoch continues the sequence at
 * last + 1 and the timestamp by the wall-clock time since the last packet.
 *
 * The stream keeps no packet bytes: the source track's SfuPacketStore holds each packet
 * once for every receiver. A NACKed outgoing number maps back to a source number through
 * the current epoch's offsets (numbers of older epochs are not found), and the resend
 * callback rebuilds the receiver's header from the source packet. The stream keeps only
 * when each number was last resent, and the resend budgets.
 *
 * Cost: sfu_outstream_map is O(1) and never allocates; the resend bookkeeping is allocated
 * once by sfu_outstream_init (8 bytes a slot). A flood of NACK entries costs at most
 * resend_slots lookups and max_resends_per_call resends per call.
 *
 * Threading: none. A stream belongs to the one thread that forwards toward its receiver.
 *
 * The structure is public so that it can be embedded in a receiver's leg; its fields are
 * private: use the functions. */

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

  /* Resend bookkeeping: a power of two up to 32768, or 0 for no resends (e.g. an audio
   * stream whose receiver did not negotiate NACK). Each slot remembers when one outgoing
   * number was last resent; it also bounds the entries examined per NACK. */
  guint resend_slots;
  gint64 resend_interval_us;  /* one sequence is resent at most once per interval (~RTT),
                                 to the millisecond */
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
  /* nack_received == nack_resent + nack_not_found + nack_too_soon + nack_throttled */
  guint64 nack_received;  /* sequence numbers asked for */
  guint64 nack_resent;
  guint64 nack_not_found; /* of an older epoch, never forwarded, or not (any more) in the
                             source's store: overwritten, expired, oversize */
  guint64 nack_too_soon;  /* resent less than resend_interval_us ago */
  guint64 nack_throttled; /* past the per-call or per-second budget, not looked at */
} SfuOutStreamStats;

/* When one outgoing number was last resent. Private. */
typedef struct {
  guint32 resent_ms; /* now_us / 1000 when resent, wrapping: only differences count */
  guint16 seq;       /* the outgoing number, valid when resent */
  guint16 resent;
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
  guint epoch_span;         /* src_newest - epoch's first, saturated at 2^15 */
  guint32 ts_offset;
  guint32 out_ts_newest;    /* outgoing timestamp of src_newest */
  gint64 newest_arrival_us; /* arrival of src_newest */

  /* Slot (out_seq & (resend_slots - 1)): when that number was last resent. */
  SfuOutSlot *slots;

  /* Resend budget: tokens in millionths of a resend, refilled at max_resends_per_sec. */
  gint64 tokens;
  gint64 tokens_at_us;
  gboolean tokens_started;
} SfuOutStream;

/* Called for every resent packet. @packet is the source packet as the sender sent it (its
 * SSRC, numbers, payload type and extension ids), in the source's store and valid only
 * during the call: the callback rewrites a copy exactly as the first forward did, with
 * @out_seq and @out_ts, and must not put into the store from inside it. */
typedef void (*SfuResendFunc) (guint16 out_seq, guint32 out_ts, const guint8 *packet, gsize len,
                               gpointer user_data);

/* Defaults for @kind (video: 90 kHz, keyframe switches, 512 resend slots; audio: 48 kHz,
 * 128 slots; both a 100 ms resend interval and 64 resends per call) and a random initial
 * sequence number and timestamp (RFC 3550 5.1). */
void sfu_outstream_config_init (SfuOutStreamConfig *config, SfuMediaKind kind, guint32 ssrc);

/* Allocates the resend bookkeeping, the only allocation the stream ever makes. Returns
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

/* Resends through @resend the packets named in @seqs (a receiver's NACK, expanded), within
 * the stream's budgets; see SfuOutStreamStats for how each entry is counted. A number is
 * found when it belongs to the current epoch and @store, the source track's store, holds
 * its source packet under the epoch's source SSRC; @store may be NULL (the source is
 * gone: nothing is found). Returns the number resent. */
guint sfu_outstream_nack (SfuOutStream *stream, const SfuPacketStore *store, const guint16 *seqs,
                          guint n_seqs, gint64 now_us, SfuResendFunc resend,
                          gpointer user_data);

const SfuOutStreamStats *sfu_outstream_get_stats (const SfuOutStream *stream);
/* Bytes allocated for the resend bookkeeping. */
gsize sfu_outstream_buffer_size (const SfuOutStream *stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfuOutStream, sfu_outstream_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SfuOutStream, sfu_outstream_clear)

G_END_DECLS
