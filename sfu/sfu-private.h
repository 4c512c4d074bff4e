/* SPDX-License-Identifier: MIT */
/* Internals shared by sfu-server.c, sfu-call.c, sfu-participant.c and sfu-negotiate.c.
 *
 * Ownership: an SfuServer owns its loops, ICE agent and certificate; an SfuCall belongs to
 * one loop and every field under "loop side" below (participants, tracks, streams, SDP
 * state) is touched only on that loop's thread. The caller's thread reaches it with
 * sfu_loop_invoke_sync(); loop threads reach the caller's context by posting
 * (sfu_server_post_*), never by waiting on it. */
#pragma once

#include "sfu.h"
#include "sfu-cert.h"
#include "sfu-dtls.h"
#include "sfu-ice.h"
#include "sfu-keyframe.h"
#include "sfu-outstream.h"
#include "sfu-packet-store.h"
#include "sfu-rtp.h"
#include "sfu-sdp.h"
#include "sfu-srtp.h"

/* Per-loop scratch: one forwarded copy is rewritten and protected here before the UDP
 * layer copies it into its send queue. */
#define SFU_SCRATCH_SIZE (SFU_UDP_MAX_DATAGRAM + SFU_SRTP_MAX_TRAILER)

typedef struct _SfuParticipant SfuParticipant;
typedef struct _SfuInTrack SfuInTrack;
typedef struct _SfuOutTrack SfuOutTrack;

/* Posted callbacks check this before running: set (caller's thread) when the call ends. */
typedef struct {
  gint refcount; /* atomic */
  gboolean ended;
  SfuServer *server;
  char *call_id;
  GHashTable *members; /* participant ids (caller's thread only) */
} SfuCallHandle;

struct _SfuServer {
  SfuConfig config; /* strings below owned */
  char *bind_host, *ice_host_override, *stun_server;
  char **turn_servers;
  GMainContext *context;
  SfuLoopGroup *group;
  SfuIceAgent *agent;
  SfuCert *cert;
  GArray *local_candidates; /* SfuSdpLocalCandidate, addresses in candidate_addresses */
  GPtrArray *candidate_addresses;
  GHashTable *calls; /* id -> SfuCall (caller's thread) */
  guint next_loop;
  guint8 (*scratch)[SFU_SCRATCH_SIZE]; /* [n_loops], each used only by its loop */
};

struct _SfuCall {
  SfuServer *server;
  char *id;
  SfuLoop *loop;
  SfuCallHandle *handle;
  /* loop side */
  GPtrArray *participants; /* SfuParticipant*, owned */
  SfuParticipant *sharer;
};

struct _SfuInTrack {
  SfuParticipant *owner;
  char *mid;
  SfuMediaKind kind;
  SfuSdpCodec *codec; /* deep copy of the negotiated codec (name, fmtp, feedback) */
  guint pt;
  guint32 ssrc;
  gboolean ssrc_known;
  gboolean sending;  /* its m-line sends (not inactive or rejected) */
  gboolean announced; /* TRACK_ADDED was posted */
  guint8 ext_uri_ids[4]; /* per SfuExt: the sender's id, 0 when not negotiated */
  SfuKeyframeThrottle throttle;
  GPtrArray *outs; /* SfuOutTrack* forwarding it (owned by receivers) */
  /* Its packets as received, for every receiver's NACKs (sized by kind); owned. */
  SfuPacketStore *store;
  /* reception statistics (RFC 3550 A.3, A.8) */
  SfuSeqUnwrapper seq;
  guint64 base_ext;
  guint64 received, bytes;
  guint64 expected_prior, received_prior;
  double jitter; /* in timestamp units */
  gint64 last_transit;
  gboolean have_transit;
  guint8 last_fraction;
  guint32 sr_lsr;  /* middle NTP bits of its last SR */
  gint64 sr_at_us; /* arrival of that SR */
  /* voice activity (audio) */
  gint64 loud_since_us, last_loud_us;
};

typedef enum {
  SFU_EXT_AUDIO_LEVEL,
  SFU_EXT_MID,
  SFU_EXT_TRANSPORT_CC,
  SFU_EXT_ABS_SEND_TIME,
  SFU_EXT_COUNT,
} SfuExt;

struct _SfuOutTrack {
  SfuParticipant *receiver;
  SfuInTrack *source; /* NULL once the source stopped: the m-line goes inactive */
  char *source_participant, *source_mid;
  SfuMediaKind kind;
  char *mid;           /* NULL until offered */
  gboolean negotiated; /* the receiver answered an offer carrying it: forward */
  gboolean inactive;   /* its m-line was offered inactive: done with it */
  guint pt;
  guint32 ssrc;
  guint8 ext_map[16]; /* sender's one-byte id -> receiver's id (0: drop) */
  SfuOutStream stream; /* resends from source->store */
  guint64 packets, octets;
  guint32 last_ts;
  gint64 last_sent_us;
  guint64 sr_ntp_mid_sent[4]; /* recent SR NTP middles, for RTT */
};

struct _SfuParticipant {
  SfuCall *call;
  char *id;
  char *ufrag, *pwd, *cname;
  SfuIceSession *ice;
  SfuDtls *dtls;
  SfuLoopTimer *dtls_timer, *rtcp_timer;
  SfuSrtp *srtp;
  gboolean connected, disconnected;
  gboolean muted, screen;
  guint32 rtcp_ssrc; /* our SSRC in reports and feedback toward it */
  SfuSdp *remote;  /* its last offer (or answer) */
  SfuSdp *local;   /* the SFU's description in effect */
  SfuSdp *pending; /* the SFU's offer awaiting its answer */
  gboolean renegotiate;
  GPtrArray *in_tracks;  /* SfuInTrack*, owned */
  GPtrArray *out_tracks; /* SfuOutTrack*, owned */
  gboolean voice;
  SfuParticipantStats stats;
  double rtt_ms;
};

/* sfu-server.c: posting to the caller's context. */
SfuCallHandle *sfu_call_handle_ref (SfuCallHandle *handle);
void sfu_call_handle_unref (SfuCallHandle *handle);
void sfu_server_post_event (SfuCall *call, SfuEventType type, const char *participant_id,
                            const char *track_id, SfuTrackKind kind, const char *reason);
void sfu_server_post_offer (SfuCall *call, const char *participant_id, char *sdp);
guint8 *sfu_server_scratch (SfuServer *server, SfuLoop *loop);

/* sfu-participant.c (loop side) */
SfuParticipant *sfu_participant_new (SfuCall *call, const char *id, GError **error);
void sfu_participant_free (SfuParticipant *p);
/* Once the first offer gave the peer's fingerprint. */
void sfu_participant_start_dtls (SfuParticipant *p, const char *fingerprint);
SfuInTrack *sfu_participant_find_in_track (SfuParticipant *p, const char *mid);
void sfu_participant_send_rtcp (SfuParticipant *p, guint8 *buf, gsize len);
/* Throttled (one per second per source); send_pli is the unthrottled send. */
void sfu_participant_request_keyframe (SfuInTrack *track);
void sfu_participant_send_pli (SfuInTrack *track);
void sfu_participant_set_voice (SfuParticipant *p, gboolean voice);
void sfu_in_track_free (SfuInTrack *t);
void sfu_out_track_free (SfuOutTrack *o);
/* Forwarding and RTCP, sfu-forward.c */
void sfu_forward_rtp (SfuParticipant *p, guint8 *data, gsize len);
void sfu_forward_rtcp (SfuParticipant *p, const guint8 *data, gsize len);
void sfu_forward_send_reports (SfuParticipant *p);
/* Rewrites a copy of a source packet into @o's leg in place: SSRC, @seq, @ts, payload type,
 * extension ids. The first forward and every resend go through it, so that a resent packet
 * is byte for byte the one the receiver missed. */
void sfu_forward_rewrite (const SfuOutTrack *o, guint8 *buf, gsize len, guint16 seq, guint32 ts);

/* sfu-negotiate.c (loop side) */
gboolean sfu_negotiate_first_offer (SfuParticipant *p, const char *offer, char **answer,
                                    GError **error);
gboolean sfu_negotiate_client_offer (SfuParticipant *p, const char *offer, char **answer,
                                     GError **error);
gboolean sfu_negotiate_apply_answer (SfuParticipant *p, const char *answer, GError **error);
/* Makes @p's out-tracks match what the call forwards to it; re-offers when they changed. */
void sfu_negotiate_sync (SfuParticipant *p);
void sfu_negotiate_sync_all (SfuCall *call);
/* Detaches every out-track fed by @track (its owner left, or it stopped sending). */
void sfu_negotiate_detach_source (SfuInTrack *track);
