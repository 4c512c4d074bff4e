/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The retransmission buffer of one incoming track: the last packets its sender sent, as
 * received (plain RTP after SRTP unprotect, the sender's SSRC, numbers and extension ids),
 * stored once however many receivers the track is forwarded to. Each receiver's out-stream
 * maps a NACKed outgoing number back to a source number (sfu-outstream.h) and rebuilds its
 * own copy of the header from the packet found here.
 *
 * Packets are keyed by the source SSRC and sequence number. Numbers are unwrapped against
 * the newest stored one, so a packet 65,536 numbers older never answers for a new one. The
 * store follows one SSRC at a time: a packet of another SSRC starts it afresh, and lookups
 * for any other SSRC find nothing.
 *
 * Layout: `slots` entries (slot = seq mod slots) index a byte ring of `bytes` bytes; a packet
 * never straddles the ring's end. Both are allocated once; store and lookup are O(1) and
 * never allocate.
 *
 * Threading: none. A store belongs to its track's call loop. */

/* Largest packet kept (a full Ethernet MTU). Larger packets are forwarded but cannot be
 * resent. */
#define SFU_PACKET_STORE_MAX_PACKET 1500

typedef struct {
  /* A power of two up to 32768 (so that every stored number is unambiguously behind the
   * newest). It bounds the packets kept; `bytes` sets the memory. */
  guint slots;
  /* A power of two, 2048 .. 64 MiB. */
  gsize bytes;
  gint64 max_age_us; /* older packets are not returned */
} SfuPacketStoreConfig;

typedef struct {
  guint64 stored;
  guint64 oversize;  /* longer than SFU_PACKET_STORE_MAX_PACKET, or shorter than a header */
  guint64 too_old;   /* behind the window, or far and not (yet) confirmed: not stored */
  guint64 duplicate; /* already stored: the first copy is kept */
  guint64 restarts;  /* the store started afresh: a new SSRC or a confirmed jump */
} SfuPacketStoreStats;

typedef struct _SfuPacketStore SfuPacketStore;

/* Defaults per media kind, the same sizes the per-receiver buffers had: video 512 slots in
 * 256 KiB (a 1080p screen-share keyframe, or ~1 s at 2 Mbit/s), audio 128 slots in 16 KiB
 * (over 1 s of Opus); both 1 s max age. */
void sfu_packet_store_config_init (SfuPacketStoreConfig *config, gboolean video);

/* (transfer full); NULL (and a critical) when @config is out of range. */
SfuPacketStore *sfu_packet_store_new (const SfuPacketStoreConfig *config);
void sfu_packet_store_free (SfuPacketStore *store);

/* Copies one RTP packet of @ssrc (@seq is its sequence number) received at @now_us,
 * overwriting the oldest. Not stored: packets longer than SFU_PACKET_STORE_MAX_PACKET or
 * shorter than an RTP header, duplicates, and packets behind the window. A packet far from
 * the window (a sender that restarted its numbering, or a stray) is believed when the
 * window has expired (max age) or when the packet after it follows it; the store then
 * starts afresh from it. */
void sfu_packet_store_put (SfuPacketStore *store, guint32 ssrc, guint16 seq,
                           const guint8 *packet, gsize len, gint64 now_us);

/* (transfer none) The stored packet @seq of @ssrc, or NULL when there is none (never
 * stored, another SSRC, overwritten, or older than max_age_us at @now_us). Valid until the
 * next put. */
const guint8 *sfu_packet_store_lookup (const SfuPacketStore *store, guint32 ssrc, guint16 seq,
                                       gint64 now_us, gsize *len);

const SfuPacketStoreStats *sfu_packet_store_get_stats (const SfuPacketStore *store);
/* Bytes allocated (slots and packets). */
gsize sfu_packet_store_size (const SfuPacketStore *store);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfuPacketStore, sfu_packet_store_free)

G_END_DECLS
