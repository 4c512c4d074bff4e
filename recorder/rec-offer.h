/* SPDX-License-Identifier: MIT */
#pragma once

#include <gst/gst.h>
/* Only for GstWebRTCRTPTransceiverDirection, which has been stable since 1.14. */
#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS

/* Our own parsed copy of a remote SDP offer.
 *
 * webrtcbin creates the answering side's transceivers during create-answer
 * (on-new-transceiver), and reading its remote-description from that callback deadlocks;
 * its 1.22 answer also drops every a=extmap and accepts every offered codec unless each
 * transceiver's codec-preferences is set. So the recorder parses the offer itself, once,
 * and derives per m-line the codec it records and the codec-preferences caps.
 *
 * The offer comes from a peer: it is size-checked line by line before GStreamer's SDP
 * parser sees it (limits below) and every value read from it is bounded.
 *
 * A RecOffer is immutable once parsed, so webrtcbin's threads may read it while the main
 * context holds it (the owner must keep it alive as long as they might).
 * gst_init() must have been called. */

#define REC_OFFER_ERROR (rec_offer_error_quark ())
GQuark rec_offer_error_quark (void);

typedef enum {
  REC_OFFER_ERROR_SYNTAX,    /* not "v=0…", NUL byte, not UTF-8, a malformed line */
  REC_OFFER_ERROR_LIMIT,     /* one of the REC_OFFER_MAX_* limits exceeded */
  REC_OFFER_ERROR_NO_MEDIA,  /* no m-line at all */
  REC_OFFER_ERROR_BAD_MEDIA, /* a malformed m-line, e.g. a payload type outside 0..127 */
} RecOfferError;

#define REC_OFFER_MAX_SIZE (64 * 1024)
#define REC_OFFER_MAX_LINES 2000
#define REC_OFFER_MAX_LINE_LENGTH 4096 /* without the line ending */
#define REC_OFFER_MAX_MLINES 32
#define REC_OFFER_MAX_PAYLOAD_TYPES 64 /* formats on one m-line */
#define REC_OFFER_MAX_ATTR_VALUE 4096
/* Bounds the quadratic work GStreamer's SDP library does per payload type (it rescans the
 * attributes for each rtcp-fb and fmtp): 64 payload types and ~1900 attributes on one
 * m-line cost ~330 ms per offer, 512 attributes ~43 ms. Chromium's video m-line has ~130. */
#define REC_OFFER_MAX_MEDIA_ATTRIBUTES 512
/* Distinct fmtp parameter names and rtcp-fb types in one offer, in bytes: GStreamer interns
 * each as a GQuark, which is never freed. Chromium's offer uses ~200. */
#define REC_OFFER_MAX_FIELD_NAME_BYTES 2048

#define REC_TRANSPORT_CC_URI                                                               \
  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define REC_AUDIO_LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

typedef enum {
  REC_MEDIA_AUDIO,
  REC_MEDIA_VIDEO,
  REC_MEDIA_OTHER, /* application (data channel) or anything else: never recorded */
} RecMediaKind;

/* One offered payload type that has a usable a=rtpmap. */
typedef struct {
  guint pt;
  char *encoding_name; /* upper case: "OPUS", "VP8", "H264", "RTX", … */
  guint clock_rate;
  char *fmtp; /* the a=fmtp parameters after the payload type, or NULL */
  gboolean nack, nack_pli, ccm_fir, transport_cc; /* offered a=rtcp-fb */
  /* The offered caps of this payload type exactly as webrtcbin derives them from the
   * offer (gst_sdp_media_get_caps_from_media, renamed application/x-rtp). */
  GstCaps *caps;
} RecCodec;

typedef struct {
  guint index;
  RecMediaKind kind;
  char *mid;                                  /* NULL without a=mid */
  GstWebRTCRTPTransceiverDirection direction; /* as offered; SENDRECV when unspecified */
  gboolean rejected;                          /* port 0 without a=bundle-only */
  /* From the first a=msid (or a=ssrc:… msid:) with a stream id; NULL when absent. A
   * track is only ever set with its stream. */
  char *msid_stream;
  char *msid_track;
  int transport_cc_ext_id; /* a=extmap id of REC_TRANSPORT_CC_URI, -1 when not offered */
  int audio_level_ext_id;  /* a=extmap id of REC_AUDIO_LEVEL_URI, -1 when not offered */
  GPtrArray *codecs;       /* RecCodec, in offered order; empty for REC_MEDIA_OTHER */
} RecMline;

typedef struct {
  GPtrArray *mlines; /* RecMline, one per m-line, at least one */
  char *bundle_group; /* the mids of the first a=group:BUNDLE, space-separated; or NULL */
} RecOffer;

/* @len is the length of @sdp, which need not be NUL-terminated.
 * Returns: (transfer full) (nullable): the parsed offer, or NULL with @error set. */
RecOffer *rec_offer_parse (const char *sdp, gsize len, GError **error);
void rec_offer_free (RecOffer *offer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecOffer, rec_offer_free)

/* Returns: (transfer none) (nullable): the m-line, or NULL when @index is out of range. */
const RecMline *rec_offer_get_mline (const RecOffer *offer, guint index);

/* The codec the recorder accepts on this m-line: audio takes OPUS/48000 only; video takes
 * VP8/90000 first, then H264/90000 with packetization-mode=1, preferring profile-level-id
 * 42e01f or 42001f (constrained baseline). Ties go to the earlier payload type. NULL when
 * none fits: the caller then rejects the m-line ("unsupported codec").
 * Returns: (transfer none) (nullable) */
const RecCodec *rec_offer_pick_codec (const RecMline *mline);

/* Caps for the "codec-preferences" of the transceiver of m-line @index: the offered caps
 * of the picked codec (media, encoding-name, payload, clock-rate, encoding-params and its
 * fmtp parameters), its rtcp-fb-nack, rtcp-fb-nack-pli and rtcp-fb-ccm-fir, and
 * "extmap-<id>" = REC_TRANSPORT_CC_URI when the m-line offers transport-cc. One structure:
 * webrtcbin 1.22 answers with the first format only.
 * Returns: (transfer full) (nullable): NULL when @index is out of range or no codec fits. */
GstCaps *rec_offer_codec_preferences (const RecOffer *offer, guint index);

G_END_DECLS
