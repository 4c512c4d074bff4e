/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RTCP (RFC 3550, 4585, 5104) reading and building for the SFU, which terminates RTCP on
 * every leg: it reads what receivers and senders report and builds its own reports and
 * feedback.
 *
 * Every byte comes from a peer (after SRTCP decryption). Nothing allocates: the iterator
 * hands out blocks that point into the packet, the readers fill caller-provided structs
 * and arrays and never write past the caps given to them, and the builders write into
 * caller buffers. The per-packet API returns booleans; sfu_rtcp_check() explains a
 * refusal in a GError for the slow path (a rate-limited log, a test).
 *
 * Work per packet is bounded by its length and by caps, so that NACK and PLI floods cost
 * no more than reading them: see SFU_RTCP_MAX_NACK_SEQS and the max_* arguments. */

#define SFU_RTCP_ERROR (sfu_rtcp_error_quark ())
GQuark sfu_rtcp_error_quark (void);

/* SfuRtcpIter.status, and the GError code in SFU_RTCP_ERROR (never SFU_RTCP_OK). */
typedef enum {
  SFU_RTCP_OK = 0,
  SFU_RTCP_ERROR_SHORT,   /* an empty packet, or fewer than 4 bytes left for a header */
  SFU_RTCP_ERROR_VERSION, /* a block's version is not 2 */
  SFU_RTCP_ERROR_LENGTH,  /* a block's length runs past the packet */
  SFU_RTCP_ERROR_PADDING, /* a padding count of 0 or past the block's body */
  SFU_RTCP_ERROR_BLOCK,   /* sfu_rtcp_check () only: a typed reader refused a block */
} SfuRtcpError;

enum {
  SFU_RTCP_SR = 200,
  SFU_RTCP_RR = 201,
  SFU_RTCP_SDES = 202,
  SFU_RTCP_BYE = 203,
  SFU_RTCP_APP = 204,
  SFU_RTCP_RTPFB = 205, /* transport-layer feedback (RFC 4585) */
  SFU_RTCP_PSFB = 206,  /* payload-specific feedback */
};

enum {
  SFU_RTCP_RTPFB_NACK = 1,
  SFU_RTCP_RTPFB_TWCC = 15, /* draft-holmer-rmcat-transport-wide-cc-extensions-01 */
  SFU_RTCP_PSFB_PLI = 1,
  SFU_RTCP_PSFB_FIR = 4, /* RFC 5104 */
  SFU_RTCP_PSFB_AFB = 15, /* application layer feedback: REMB */
};

#define SFU_RTCP_MAX_REPORTS 31 /* the 5-bit count */
/* The NACKed sequence numbers a caller should act on per compound packet: one generic
 * NACK item names up to 17, and a 1500-byte packet can hold ~370 items. 256 is ~2 s of a
 * 1 Mbps video stream; a peer asking for more is flooding or has lost the stream, and a
 * PLI serves it better. */
#define SFU_RTCP_MAX_NACK_SEQS 256

/* One block of a compound packet, pointing into it. */
typedef struct {
  const guint8 *data; /* the block, from its 4-byte header */
  gsize len;          /* header and body, padding excluded */
  gsize offset;       /* of the block in the compound packet */
  guint8 type;        /* packet type: SFU_RTCP_SR … */
  guint8 count;       /* the 5-bit field: report count, source count, or FMT */
  gboolean padded;
} SfuRtcpBlock;

typedef struct {
  const guint8 *data;
  gsize len;
  gsize offset; /* of the next block */
  guint index;  /* blocks returned so far */
  /* Set when sfu_rtcp_iter_next() stopped on a malformed block (the blocks before it
   * were good and have been returned): count it, ignore the rest of the packet. */
  gboolean error;
  SfuRtcpError status;
} SfuRtcpIter;

void sfu_rtcp_iter_init (SfuRtcpIter *iter, const guint8 *data, gsize len);
/* Fills @block with the next block. Returns FALSE at the end, or with iter->error set on
 * a malformed block: version not 2, the length (in 32-bit words minus one) past the end,
 * fewer than 4 bytes left, or a padding count of 0 or more than the body. An empty packet
 * is malformed. Padding is accepted on any block, not only the last (RFC 3550 §6.4.1),
 * because Chromium pads transport-cc feedback wherever it sits, as libwebrtc accepts.
 *
 * Not checked: that a compound starts with SR/RR or carries SDES (RFC 5506 reduced-size
 * RTCP does neither), and the padding count's multiple of 4 (libwebrtc pads
 * transport-cc feedback with counts of 1–3). */
gboolean sfu_rtcp_iter_next (SfuRtcpIter *iter, SfuRtcpBlock *block);

/* The slow path: walks the whole packet as the iterator does, and runs the typed reader
 * of each block it knows; the first problem, with the block's index and offset, goes to
 * @error. */
gboolean sfu_rtcp_check (const guint8 *data, gsize len, GError **error);

typedef struct {
  guint32 ssrc; /* the source reported on */
  guint8 fraction_lost;
  gint32 cumulative_lost; /* signed 24 bits: duplicates can make it negative */
  guint32 ext_highest_seq;
  guint32 jitter;
  guint32 lsr;  /* middle 32 bits of the NTP time of the last SR received */
  guint32 dlsr; /* delay since that SR, 1/65536 s */
} SfuRtcpReportBlock;

typedef struct {
  guint32 ssrc;
  guint64 ntp_time; /* NTP format: seconds << 32 | fraction */
  guint32 rtp_time;
  guint32 packet_count;
  guint32 octet_count;
  guint n_reports;
  SfuRtcpReportBlock reports[SFU_RTCP_MAX_REPORTS];
} SfuRtcpSr;

typedef struct {
  guint32 ssrc;
  guint n_reports;
  SfuRtcpReportBlock reports[SFU_RTCP_MAX_REPORTS];
} SfuRtcpRr;

/* Each reader returns FALSE for a block of another type or format, or one too short for
 * what it declares; on FALSE the output is unspecified. Bytes after what the block
 * declares (profile-specific extensions) are ignored. */
gboolean sfu_rtcp_read_sr (const SfuRtcpBlock *block, SfuRtcpSr *sr);
gboolean sfu_rtcp_read_rr (const SfuRtcpBlock *block, SfuRtcpRr *rr);

/* The first CNAME item of the first chunk (the one that matters for a sender's
 * compound). @cname points into the packet, is not NUL-terminated, and may be empty. */
gboolean sfu_rtcp_read_sdes_cname (const SfuRtcpBlock *block, guint32 *ssrc,
                                   const guint8 **cname, gsize *cname_len);

typedef struct {
  guint n_ssrcs;
  guint32 ssrcs[SFU_RTCP_MAX_REPORTS];
  const guint8 *reason; /* NULL when absent, or when it runs past the block */
  gsize reason_len;
} SfuRtcpBye;

gboolean sfu_rtcp_read_bye (const SfuRtcpBlock *block, SfuRtcpBye *bye);

/* The two SSRCs every RTPFB/PSFB message starts with. */
typedef struct {
  guint32 sender_ssrc;
  guint32 media_ssrc;
} SfuRtcpFb;

/* Generic NACK (RTPFB 1): writes the sequence numbers of the PID/BLP items, in order, to
 * @seqs, at most @max_seqs of them, and stops reading there (@truncated). Duplicates are
 * not removed; the retransmission buffer should not resend a packet twice within an RTT
 * anyway. To bound a compound packet, pass what is left of one SFU_RTCP_MAX_NACK_SEQS
 * array for each NACK block. A NACK without items is malformed (RFC 4585 §6.2.1). */
gboolean sfu_rtcp_read_nack (const SfuRtcpBlock *block, SfuRtcpFb *fb, guint16 *seqs,
                             guint max_seqs, guint *n_seqs, gboolean *truncated);

/* Transport-wide congestion control feedback (RTPFB 15). */
typedef struct {
  guint16 seq;
  gboolean received;
  gint32 delta; /* receive time minus the previous one's (or the reference time), in
                 * 250 µs ticks; 0 when not received */
} SfuRtcpTwccPacket;

typedef struct {
  SfuRtcpFb fb;
  guint16 base_seq;
  guint16 status_count;   /* packets described: base_seq … base_seq + status_count − 1 */
  gint32 reference_time;  /* signed 24 bits, in 64 ms units */
  guint8 fb_count;        /* feedback packet counter */
  guint n_received;       /* packets with a receive delta, among all status_count */
} SfuRtcpTwcc;

/* Validates the whole message (every chunk and every delta within the block, no reserved
 * symbol, a status count of at least 1), then writes the first @max_packets packet
 * statuses to @packets; *@n_packets < status_count means the cap cut the list. Work is
 * linear in the block's length plus @max_packets, whatever the status count claims. */
gboolean sfu_rtcp_read_twcc (const SfuRtcpBlock *block, SfuRtcpTwcc *twcc,
                             SfuRtcpTwccPacket *packets, guint max_packets, guint *n_packets);

/* PLI (PSFB 1): only the SSRCs. */
gboolean sfu_rtcp_read_pli (const SfuRtcpBlock *block, SfuRtcpFb *fb);

typedef struct {
  guint32 ssrc;   /* the media sender asked for a keyframe */
  guint8 seq_nr;  /* the requester's command sequence number: a repeat is not a new request */
} SfuRtcpFirEntry;

/* FIR (PSFB 4): at least one entry; at most @max_entries are written. */
gboolean sfu_rtcp_read_fir (const SfuRtcpBlock *block, SfuRtcpFb *fb, SfuRtcpFirEntry *entries,
                            guint max_entries, guint *n_entries);

#define SFU_RTCP_REMB_MAX_SSRCS 255 /* the 8-bit count */

typedef struct {
  guint32 sender_ssrc;
  guint64 bitrate; /* bits per second: mantissa << exponent */
  guint n_ssrcs;
  guint32 ssrcs[SFU_RTCP_REMB_MAX_SSRCS];
} SfuRtcpRemb;

/* REMB (PSFB 15 with the "REMB" identifier, draft-alvestrand-rmcat-remb). A bitrate that
 * does not fit 64 bits is malformed. */
gboolean sfu_rtcp_read_remb (const SfuRtcpBlock *block, SfuRtcpRemb *remb);

/* Builders. Each writes one block at @buf and returns its length, or 0 when it does not
 * fit in @size (@buf is then unspecified). Appending several into one buffer makes a
 * compound packet. No padding is ever written. */
gsize sfu_rtcp_build_sr (guint8 *buf, gsize size, const SfuRtcpSr *sr);
gsize sfu_rtcp_build_rr (guint8 *buf, gsize size, const SfuRtcpRr *rr);
/* One chunk with one CNAME item (at most 255 bytes). */
gsize sfu_rtcp_build_sdes_cname (guint8 *buf, gsize size, guint32 ssrc, const char *cname,
                                 gsize cname_len);
/* Packs @seqs into PID/BLP items: each item takes the following numbers up to 16 after
 * its PID. Any order is correct; ascending order (by extended number) is most compact. */
gsize sfu_rtcp_build_nack (guint8 *buf, gsize size, const SfuRtcpFb *fb, const guint16 *seqs,
                           guint n_seqs);
gsize sfu_rtcp_build_pli (guint8 *buf, gsize size, const SfuRtcpFb *fb);
/* RFC 5104: the media SSRC of the header is 0, the targets are in @entries; the caller
 * keeps a seq_nr per target and increments it for each new request, not for repeats. */
gsize sfu_rtcp_build_fir (guint8 *buf, gsize size, guint32 sender_ssrc,
                          const SfuRtcpFirEntry *entries, guint n_entries);
/* The bitrate is rounded down to 18 significant bits. */
gsize sfu_rtcp_build_remb (guint8 *buf, gsize size, guint32 sender_ssrc, guint64 bitrate,
                           const guint32 *ssrcs, guint n_ssrcs);

G_END_DECLS
