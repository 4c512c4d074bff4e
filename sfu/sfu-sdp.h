/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SDP for the SFU: parse a peer's offer (or answer), build the SFU's answer, build the
 * SFU's own re-offers, and write any of them as text.
 *
 * The SFU is an ICE-lite agent, always the DTLS server (a=setup:passive in answers and in
 * its re-offers, see docs/sfu.md "SDP"), bundles every m-line on one transport and accepts
 * rtcp-mux only. It takes Opus in audio m-lines and VP8 / H.264 (packetization-mode=1,
 * constrained baseline or baseline) in video m-lines, and nothing else.
 *
 * Every text handed to sfu_sdp_parse() comes from a peer: it is read line by line with a
 * hard limit on each count and length below, and every refusal is a GError in
 * SFU_SDP_ERROR whose message names the offending line ("line 12: ..."). The parser is our
 * own rather than GStreamer's GstSDPMessage: GstSDP is lenient (it skips what it does not
 * understand and cannot say on which line anything was), and this keeps libgstsdp out of
 * the data plane. The tests check that GStreamer's parser accepts what we write.
 *
 * The model is plain structs the forwarding code reads and changes. Strings are owned by
 * the struct that holds them (g_free); arrays are GPtrArray with free functions, so
 * removing an element frees it. Secrets: ice_pwd is never logged by this module, and
 * callers must not log it either. */

#define SFU_SDP_ERROR (sfu_sdp_error_quark ())
GQuark sfu_sdp_error_quark (void);

typedef enum {
  SFU_SDP_ERROR_SYNTAX,      /* not "v=0…", NUL byte, bad UTF-8, a malformed line */
  SFU_SDP_ERROR_LIMIT,       /* one of the SFU_SDP_MAX_* limits exceeded */
  SFU_SDP_ERROR_INVALID,     /* well-formed but contradictory: duplicate mid, no o=, … */
  SFU_SDP_ERROR_NEGOTIATION, /* sfu_sdp_answer(): nothing acceptable, wrong DTLS role, … */
} SfuSdpError;

/* Limits. A Chromium offer is ~1.6 KiB and ~35 lines per audio m-line and ~6 KiB and
 * ~130 lines per video m-line (it repeats every codec in every m-line, recvonly ones
 * included), so a client's re-offer in a call where the SFU forwards 60 voices and a
 * screen share is ~105 KiB and ~2,300 lines. */
#define SFU_SDP_MAX_SIZE (128 * 1024)
#define SFU_SDP_MAX_LINES 4096
#define SFU_SDP_MAX_LINE_LENGTH 1024 /* without the line ending */
#define SFU_SDP_MAX_VALUE 256        /* any one stored value: mid, ufrag, fmtp, uri, … */
#define SFU_SDP_MAX_MEDIA 64
#define SFU_SDP_MAX_CODECS 64  /* payload types on one m-line */
#define SFU_SDP_MAX_EXTMAPS 32 /* per m-line; Chromium's video m-line has 12 */
#define SFU_SDP_MAX_SSRCS 32   /* per m-line; 3 simulcast layers with RTX are 6 */
#define SFU_SDP_MAX_SSRC_GROUPS 16
#define SFU_SDP_MAX_GROUP_SSRCS 8
#define SFU_SDP_MAX_MSIDS 4       /* a=msid lines per m-line (one per stream a track is in) */
#define SFU_SDP_MAX_CANDIDATES 64 /* in the whole description */

#define SFU_SDP_URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define SFU_SDP_URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define SFU_SDP_URI_TRANSPORT_CC                                                                   \
  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define SFU_SDP_URI_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"

typedef enum {
  SFU_SDP_AUDIO,
  SFU_SDP_VIDEO,
  SFU_SDP_APPLICATION, /* data channels: always rejected */
  SFU_SDP_OTHER,       /* anything else ("text", "message", …): always rejected */
} SfuSdpKind;

typedef enum {
  SFU_SDP_DIR_NONE, /* not given (extmaps); a media section defaults to SENDRECV */
  SFU_SDP_DIR_SENDRECV,
  SFU_SDP_DIR_SENDONLY,
  SFU_SDP_DIR_RECVONLY,
  SFU_SDP_DIR_INACTIVE,
} SfuSdpDirection;

typedef enum {
  SFU_SDP_SETUP_NONE,
  SFU_SDP_SETUP_ACTPASS,
  SFU_SDP_SETUP_ACTIVE,
  SFU_SDP_SETUP_PASSIVE,
  SFU_SDP_SETUP_HOLDCONN,
} SfuSdpSetup;

/* a=rtcp-fb types the SFU understands; others are dropped when parsing. */
typedef enum {
  SFU_SDP_FB_NACK = 1 << 0,
  SFU_SDP_FB_NACK_PLI = 1 << 1,
  SFU_SDP_FB_CCM_FIR = 1 << 2,
  SFU_SDP_FB_TRANSPORT_CC = 1 << 3,
  SFU_SDP_FB_GOOG_REMB = 1 << 4,
} SfuSdpFeedback;

typedef struct {
  guint pt;   /* 0..127 */
  char *name; /* from a=rtpmap as written ("opus", "VP8", "rtx"); NULL without one */
  guint clock_rate;
  guint channels; /* 0 when a=rtpmap gave none */
  char *fmtp;     /* the parameters of a=fmtp, or NULL */
  guint feedback; /* SfuSdpFeedback */
  int rtx_pt;     /* the rtx codec repairing this one (its apt= is our pt), or -1 */
  int apt;        /* for an rtx codec: the pt from its apt=, or -1 */
} SfuSdpCodec;

typedef struct {
  guint id;                  /* 1..255 */
  SfuSdpDirection direction; /* SFU_SDP_DIR_NONE unless given as extmap:<id>/<dir> */
  char *uri;
} SfuSdpExtmap;

typedef struct {
  guint32 ssrc;
  char *cname;       /* may be NULL */
  char *msid_stream; /* from "a=ssrc:<ssrc> msid:<stream> [<track>]", may be NULL */
  char *msid_track;  /* may be NULL */
} SfuSdpSsrc;

typedef struct {
  char *semantics; /* "FID", "SIM", "FEC-FR", … */
  guint32 ssrcs[SFU_SDP_MAX_GROUP_SSRCS];
  guint n_ssrcs;
} SfuSdpSsrcGroup;

typedef struct {
  char *stream; /* "-" means no stream */
  char *track;  /* may be NULL */
} SfuSdpMsid;

typedef enum {
  SFU_SDP_TRANSPORT_UDP,
  SFU_SDP_TRANSPORT_TCP,
} SfuSdpTransport;

typedef struct {
  char *foundation;
  guint component;
  SfuSdpTransport transport;
  guint32 priority;
  char *address; /* an IP address or an mDNS name, as written */
  guint port;
  char *type;  /* "host", "srflx", "prflx", "relay" */
  char *raddr; /* may be NULL */
  guint rport;
  char *tcptype; /* "active", "passive", "so"; NULL for UDP */
} SfuSdpCandidate;

typedef struct {
  SfuSdpKind kind;
  char *media;               /* the m= media token as written */
  char *proto;               /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", … */
  guint port;                /* 0: rejected (or bundle-only) */
  char *formats;             /* non-RTP m-lines only: the format tokens as written; else NULL */
  char *mid;                 /* NULL without a=mid */
  SfuSdpDirection direction; /* from the m-line, the session, or SENDRECV */
  gboolean bundle_only;
  gboolean rtcp_mux;
  gboolean rtcp_rsize;
  GPtrArray *codecs;      /* SfuSdpCodec, in m-line order; empty for non-RTP m-lines */
  GPtrArray *extmaps;     /* SfuSdpExtmap, in order of appearance */
  GPtrArray *ssrcs;       /* SfuSdpSsrc, in order of first appearance */
  GPtrArray *ssrc_groups; /* SfuSdpSsrcGroup */
  GPtrArray *msids;       /* SfuSdpMsid, from a=msid lines */
} SfuSdpMedia;

typedef struct {
  guint64 session_id;      /* o= */
  guint64 session_version; /* o= */
  char *ice_ufrag;         /* session-level, or the first m-line's */
  char *ice_pwd;           /* the same; never log it */
  gboolean ice_lite;
  gboolean ice_trickle;  /* a=ice-options lists "trickle" */
  char *fingerprint_alg; /* lower case: "sha-256", …; the first a=fingerprint */
  char *fingerprint;     /* upper-case hex pairs with colons */
  SfuSdpSetup setup;
  gboolean extmap_allow_mixed;
  GPtrArray *bundle;     /* char *: the mids of the first a=group:BUNDLE, may be empty */
  GPtrArray *candidates; /* SfuSdpCandidate from every m-line, in order */
  gboolean end_of_candidates;
  GPtrArray *media; /* SfuSdpMedia, in m-line order */
} SfuSdp;

/* Parses @len bytes of @text (need not be NUL-terminated) into @out, which must be
 * zeroed or cleared. On failure returns FALSE with @error set and @out cleared. */
gboolean sfu_sdp_parse (const char *text, gsize len, SfuSdp *out, GError **error);
/* Frees everything @sdp holds and zeroes it. */
void sfu_sdp_clear (SfuSdp *sdp);
/* A new empty description (all arrays allocated). */
SfuSdp *sfu_sdp_new (void);
void sfu_sdp_free (SfuSdp *sdp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfuSdp, sfu_sdp_free)
/* Returns: (transfer full): a deep copy. */
SfuSdp *sfu_sdp_copy (const SfuSdp *sdp);
/* TRUE when both describe the same model, field by field. */
gboolean sfu_sdp_equal (const SfuSdp *a, const SfuSdp *b);

/* Port 0 without a=bundle-only (RFC 8843 §6: a bundle-only m-line has port 0 too). */
gboolean sfu_sdp_media_is_rejected (const SfuSdpMedia *media);

/* Lookups. Returns: (transfer none) (nullable). */
SfuSdpMedia *sfu_sdp_find_media (const SfuSdp *sdp, const char *mid);
SfuSdpCodec *sfu_sdp_media_find_codec (const SfuSdpMedia *media, guint pt);
/* The payload type of the first codec named @name (case-insensitive), or -1. */
int sfu_sdp_media_find_pt (const SfuSdpMedia *media, const char *name);
/* The id of extension @uri on @media, or -1. */
int sfu_sdp_media_find_extmap (const SfuSdpMedia *media, const char *uri);

/* What the SFU's answer needs besides the offer. Strings are borrowed. */
typedef struct {
  SfuSdpTransport transport; /* TCP candidates are written "tcptype passive" (RFC 6544) */
  const char *address;       /* IPv4 or IPv6 literal */
  guint port;
} SfuSdpLocalCandidate;

typedef struct {
  const char *ice_ufrag;       /* 4..256 ice-chars (RFC 8839 §5.4) */
  const char *ice_pwd;         /* 22..256 ice-chars */
  const char *fingerprint_alg; /* "sha-256" */
  const char *fingerprint;     /* hex pairs with colons */
  guint64 session_id;          /* o= session id, used when @previous is NULL */
  const SfuSdpLocalCandidate *candidates;
  guint n_candidates;
  /* The SFU's last local description toward this peer (its previous answer or re-offer),
   * or NULL on the first negotiation. Its sending m-lines keep sending with their SSRCs
   * and msids when the peer re-offers them, and the o= version continues from it. */
  const SfuSdp *previous;
  /* FALSE (the default): the SFU sends only on m-lines it added itself (re-offers), so an
   * offered sendrecv is answered recvonly and an offered recvonly inactive. TRUE: answered
   * sendrecv and sendonly (RFC 3264 §6.1 allows both); the caller then adds msid/ssrcs. */
  gboolean send_on_offered;
} SfuSdpLocal;

/* The SFU's answer to @offer: one m-line per offered m-line, in order, accepted (port 9,
 * in the BUNDLE group) or rejected (port 0). Accepted: audio with Opus/48000/2 (the
 * offer's pt, fmtp minptime=10;useinbandfec=1); video with VP8 and H.264
 * packetization-mode=1 with a baseline profile-level-id (42xxxx), VP8 first, the offer's
 * pts, each with its rtx; extensions from the allow-list with the offer's ids; rtcp-fb
 * nack, nack pli, ccm fir, transport-cc where offered. Rejected: data channels and other
 * kinds, m-lines without rtcp-mux or outside the BUNDLE group, m-lines with no usable
 * codec, and offered-rejected ones.
 * Returns: (transfer full) (nullable): NULL with @error when the offer lacks ICE
 * credentials or a fingerprint, demands that the SFU be the DTLS client, or has no m-line
 * the SFU can accept; or when @local is invalid. */
SfuSdp *sfu_sdp_answer (const SfuSdp *offer, const SfuSdpLocal *local, GError **error);

/* Writes @sdp as SDP text with CRLF line endings. An RTP m-line must have at least one
 * codec (an m-line without formats is not SDP); every model the parser, the answer and
 * the re-offer helpers make has one.
 * Returns: (transfer full). */
char *sfu_sdp_to_string (const SfuSdp *sdp);

/* Re-offers. The forwarding code keeps its last local description, copies it, changes the
 * copy with these, bumps the version and sends sfu_sdp_to_string() of it. */

typedef struct {
  SfuSdpKind kind;          /* AUDIO or VIDEO */
  const char *mid;          /* new and unique in the description: mids are never reused */
  const SfuSdpCodec *codec; /* the source's negotiated codec (its fmtp and feedback) */
  const SfuSdpCodec *rtx;   /* nullable: its rtx codec; then @rtx_ssrc is used */
  guint32 ssrc;
  guint32 rtx_ssrc;
  const char *cname;
  const char *msid_stream;
  const char *msid_track;
} SfuSdpSendTrack;

/* Appends a sendonly m-line for a forwarded track, adds its mid to the BUNDLE group and
 * gives it the extensions of the allow-list, with the ids the description already uses
 * (RFC 8843 §9.2: one id per URI across a bundle) or free ones. The payload type is the
 * one this description already uses for the same codec, else @track->codec's own if free
 * in the bundle, else a free dynamic one (RFC 8843 §9.1: one meaning per pt in a bundle).
 * Returns: (transfer none) (nullable): the new m-line (its codecs[0] says the payload type
 * to send with), or NULL with @error on a used mid, a full description, or no free pt. */
SfuSdpMedia *sfu_sdp_add_send_media (SfuSdp *sdp, const SfuSdpSendTrack *track, GError **error);
/* The track of m-line @mid was removed: the m-line becomes inactive and loses its SSRCs
 * and msids; it stays in place (and in the bundle) with its mid. FALSE when no m-line has
 * that mid. */
gboolean sfu_sdp_set_inactive (SfuSdp *sdp, const char *mid);
/* A mid no m-line of @sdp uses: one more than the largest numeric mid.
 * Returns: (transfer full). */
char *sfu_sdp_new_mid (const SfuSdp *sdp);
/* o= version + 1 (RFC 3264 §8: every new description of a session increments it). */
void sfu_sdp_bump_version (SfuSdp *sdp);

G_END_DECLS
