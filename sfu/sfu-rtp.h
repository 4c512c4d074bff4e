/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "sfu-seq.h"

G_BEGIN_DECLS

/* RTP (RFC 3550) parsing and in-place rewriting for the SFU's forwarding path.
 *
 * Every byte here comes from a peer. The parser checks each length before it reads, and
 * never allocates: it fills a caller-provided SfuRtpPacket whose pointers and offsets point
 * into the packet, so the packet must outlive it. The per-packet functions return a
 * boolean or an enum; sfu_rtp_check() is the slow path that explains a refusal in a GError
 * (for a rate-limited debug log, or a test).
 *
 * The rewriters change the packet in place and never change its length: the forwarding
 * leg owns the buffer (after SRTP decryption, before re-encryption). After a rewrite the
 * numeric fields of an SfuRtpPacket parsed earlier are stale; its offsets stay valid. */

#define SFU_RTP_ERROR (sfu_rtp_error_quark ())
GQuark sfu_rtp_error_quark (void);

/* The result of sfu_rtp_parse_status(), and the GError code in SFU_RTP_ERROR (which is
 * never SFU_RTP_OK). */
typedef enum {
  SFU_RTP_OK = 0,
  SFU_RTP_ERROR_SHORT,     /* shorter than the 12-byte fixed header */
  SFU_RTP_ERROR_VERSION,   /* version is not 2 */
  SFU_RTP_ERROR_CSRC,      /* the CSRC list runs past the end */
  SFU_RTP_ERROR_EXTENSION, /* the extension header or its declared length runs past the end */
  SFU_RTP_ERROR_PADDING,   /* P set with a count of 0, or more than follows the header */
} SfuRtpError;

#define SFU_RTP_HEADER_LEN 12
/* Elements recorded per packet. Chromium sends at most ~8 (video with timing, color space,
 * mid, rid); the rest of a longer list is left unrecorded, see ext_truncated. */
#define SFU_RTP_MAX_EXTENSIONS 16
#define SFU_RTP_EXT_PROFILE_ONE_BYTE 0xBEDE
/* RFC 8285 two-byte form: 0x100 followed by 4 "appbits" (0x1000 … 0x100F). */
#define SFU_RTP_EXT_PROFILE_TWO_BYTE 0x1000
#define SFU_RTP_EXT_PROFILE_TWO_BYTE_MASK 0xFFF0

typedef struct {
  guint8 id;      /* 1..14 in the one-byte form, 1..255 in the two-byte form */
  guint8 len;     /* bytes of data: 1..16 (one-byte form), 0..255 (two-byte form) */
  guint32 offset; /* of the element's data, from the start of the packet */
} SfuRtpExtension;

typedef struct {
  const guint8 *data; /* the packet given to sfu_rtp_parse () */
  gsize len;
  guint8 payload_type;
  gboolean marker;
  guint16 seq;
  guint32 timestamp;
  guint32 ssrc;
  guint8 csrc_count; /* the CSRCs start at data + SFU_RTP_HEADER_LEN */

  gboolean has_extension;
  guint16 ext_profile; /* "defined by profile": 0xBEDE, 0x100X, or another profile's */
  gsize ext_offset;    /* of the extension data, after its 4-byte header */
  gsize ext_len;       /* bytes of extension data: 4 × the header's length field */
  /* RFC 8285 elements in order, padding skipped; none for other profiles. */
  guint n_extensions;
  /* TRUE when elements were left unrecorded: more than SFU_RTP_MAX_EXTENSIONS, or an
   * element whose length runs past the extension block (libwebrtc keeps such packets and
   * stops reading elements there; so do we: the payload is still well delimited). */
  gboolean ext_truncated;
  SfuRtpExtension extensions[SFU_RTP_MAX_EXTENSIONS];

  gsize header_len;      /* the payload starts here */
  const guint8 *payload; /* may be empty: padding-only packets probe bandwidth */
  gsize payload_len;     /* without padding */
  guint8 padding_len;    /* 0 without the P bit; else the count byte, at least 1 */
} SfuRtpPacket;

/* The per-packet parser. On failure @pkt is unspecified. */
SfuRtpError sfu_rtp_parse_status (const guint8 *data, gsize len, SfuRtpPacket *pkt);
gboolean sfu_rtp_parse (const guint8 *data, gsize len, SfuRtpPacket *pkt);
/* The slow path: the same checks, with the reason and the numbers in @error. */
gboolean sfu_rtp_check (const guint8 *data, gsize len, GError **error);

/* Returns: (transfer none) (nullable): the data of the first recorded element with @id, and
 * its length in @len (which may be 0 in the two-byte form), or NULL. */
const guint8 *sfu_rtp_find_extension (const SfuRtpPacket *pkt, guint8 id, gsize *len);

/* In-place rewriters for a packet that sfu_rtp_parse() accepted. @len must be at least
 * SFU_RTP_HEADER_LEN (a shorter one is a programming error and is left alone). */
void sfu_rtp_set_ssrc (guint8 *data, gsize len, guint32 ssrc);
void sfu_rtp_set_seq (guint8 *data, gsize len, guint16 seq);
void sfu_rtp_set_timestamp (guint8 *data, gsize len, guint32 timestamp);
void sfu_rtp_set_marker (guint8 *data, gsize len, gboolean marker);
void sfu_rtp_set_payload_type (guint8 *data, gsize len, guint8 payload_type);

/* Rewrites the RFC 8285 element ids of the packet in place for an outgoing leg that
 * negotiated other ids: @map[incoming id] is the outgoing id, 0 to drop the element;
 * ids at or past @map_len are dropped (a 16-entry map serves the one-byte form, 256
 * the two-byte form). An outgoing id the form cannot carry (15 and above in the one-byte
 * form) is dropped too.
 *
 * Dropping overwrites the element, header and data, with zero bytes. RFC 8285 §4.2 makes
 * a zero byte padding in both forms, and receivers (libwebrtc, GStreamer, pion) skip it
 * one byte at a time; mapping to a "harmless" id instead would not do: 15 ends one-byte
 * parsing and any other id may mean something on the leg. Everything from a one-byte
 * id 15, or from a malformed element, to the end of the block is zeroed as well: a
 * compliant receiver ignores it anyway, and it must not reach the leg with the
 * sender's ids. The packet's length and payload never change; only its extension block.
 *
 * Returns: FALSE (and changes nothing) when the packet does not parse; TRUE otherwise,
 * also for packets without RFC 8285 extensions. */
gboolean sfu_rtp_remap_extension_ids (guint8 *data, gsize len, const guint8 *map,
                                      gsize map_len);

/* RFC 6464 ssrc-audio-level: the first data byte of element @ext_id is V (voice activity)
 * and the level in -dBov (0 loudest, 127 silence). FALSE without such an element. */
gboolean sfu_rtp_audio_level (const SfuRtpPacket *pkt, guint8 ext_id, gboolean *voice,
                              guint8 *level_dbov);

/* Whether an RTP payload starts a keyframe: VP8 (RFC 7741) when the descriptor has S=1
 * and partition id 0 and the VP8 payload header has P=0 and the keyframe start code;
 * H.264 (RFC 6184) for an IDR slice (type 5) or an SPS (type 7) as a single NAL unit, in
 * a STAP-A, or at the start (S=1) of an FU-A. Safe on any bytes. */
gboolean sfu_rtp_vp8_is_keyframe (const guint8 *payload, gsize len);
gboolean sfu_rtp_h264_is_keyframe (const guint8 *payload, gsize len);

/* sfu_seq_newer () and sfu_seq_diff () (wrap-aware comparison of two numbers) live in
 * sfu-seq.h, shared with the forwarding code. */

/* Unwraps 16-bit sequence numbers of one stream into 64-bit extended ones with the rule of
 * RFC 3550 appendix A.1 (update_seq), so that NACK and retransmission buffers can index
 * by a number that never wraps. Relative to the highest extended number accepted so far
 * (max), a packet whose distance d = (seq − max) mod 2^16 is
 *
 *  - 1 ≤ d < max_dropout (3000): IN_ORDER, max advances (crossing 65535 → 0 adds 2^16);
 *  - d == 0 or d > 2^16 − max_misorder (1500 back): REORDERED (a late packet or a
 *    duplicate, including one from before a wrap); max stays;
 *  - anything else: JUMP. It is not accepted (no extended number; the caller drops it).
 *    When the packet after it in sequence (its seq + 1) arrives next or later, still
 *    outside the window, the two mean the sender restarted its sequence: that packet is
 *    RESYNC and numbering continues from it, in the next 2^16 block, so extended numbers
 *    never go backwards. The caller should then flush what it indexed by old numbers.
 *
 * So a jump of 40000 is neither "new" nor "old" on its own: both interpretations would
 * poison a NACK buffer (40000 phantom losses, or a stream stuck "in the past"), which is
 * why A.1 waits for a second packet. sfu_seq_newer()'s half-space rule is the right one
 * for comparing two numbers, not for accepting a stream. The RFC's MAX_MISORDER of 100
 * is too tight for video with retransmissions on the same SSRC; 1500 is mediasoup's.
 * Unlike A.1 there is no probation for a new source: the first packet is accepted.
 *
 * Extended numbers start at 2^16 + the first seq, so that a packet reordered from before
 * the first one still gets a positive number; always extended & 0xFFFF == seq. */
typedef enum {
  SFU_SEQ_FIRST,
  SFU_SEQ_IN_ORDER,
  SFU_SEQ_REORDERED,
  SFU_SEQ_JUMP,
  SFU_SEQ_RESYNC,
} SfuSeqResult;

#define SFU_SEQ_MAX_DROPOUT 3000
#define SFU_SEQ_MAX_MISORDER 1500

typedef struct {
  gboolean started;
  guint64 max_ext;     /* highest extended number accepted */
  guint32 bad_seq;     /* the successor of the last JUMP, or G_MAXUINT32 when none */
  guint16 max_dropout; /* may be changed after init */
  guint16 max_misorder;
} SfuSeqUnwrapper;

void sfu_seq_unwrapper_init (SfuSeqUnwrapper *u);
/* Sets *@extended for every result but SFU_SEQ_JUMP (where it is set to 0). */
SfuSeqResult sfu_seq_unwrap (SfuSeqUnwrapper *u, guint16 seq, guint64 *extended);

G_END_DECLS
