/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The SFU's control-plane API: what the server (or a test) calls to run calls on the media
 * port. SDP in, SDP out; no HTTP and no JSON here.
 *
 * Threads. Every function below is called from one thread, the caller's (the server's main
 * thread), never from an SFU loop thread. Each call belongs to one of the N worker loops;
 * a function that touches a call runs its work there and waits for it (control work takes
 * microseconds; media never waits for the control plane). Callbacks (offers, events) are
 * delivered on SfuConfig.context, never on a loop thread, and never for a participant that
 * was removed or a call that ended.
 *
 * Negotiation. The client offers first (sfu_participant_add). Whenever the set of tracks a
 * participant receives changes (someone joins with tracks or leaves, a share starts or
 * stops, a client re-offer adds or removes tracks), the SFU makes a new offer for it through
 * SfuCallbacks.offer: sendonly m-lines for forwarded tracks (msid stream = the source
 * participant's id), removed tracks' m-lines made inactive, mids never reused. One
 * negotiation at a time per participant: changes during a pending offer are queued and
 * offered after sfu_participant_apply_answer(). Glare rule: the SFU is the impolite peer.
 * While an SFU offer is pending, a client offer is refused with SFU_ERROR_GLARE; the client
 * rolls its offer back, answers the SFU's offer, and offers again afterwards (what the
 * "perfect negotiation" pattern's polite peer does). See docs/sfu.md, "Core". */

#define SFU_ERROR (sfu_error_quark ())
GQuark sfu_error_quark (void);

typedef enum {
  SFU_ERROR_FAILED,      /* could not start: port in use, no candidate, … */
  SFU_ERROR_NOT_FOUND,   /* no such participant */
  SFU_ERROR_EXISTS,      /* a participant with this id is already in the call */
  SFU_ERROR_INVALID,     /* bad SDP, bad candidate, bad argument */
  SFU_ERROR_SCREEN_BUSY, /* another participant of the call is sharing its screen */
  SFU_ERROR_GLARE,       /* a client offer while the SFU's own offer is pending */
  SFU_ERROR_NO_OFFER,    /* an answer while no SFU offer is pending */
} SfuError;

typedef struct _SfuServer SfuServer;
typedef struct _SfuCall SfuCall;

typedef enum {
  SFU_EVENT_CONNECTED,     /* ICE and DTLS done: media flows */
  SFU_EVENT_DISCONNECTED,  /* consent lost, DTLS failed or closed; reason says which */
  SFU_EVENT_VOICE_ON,      /* from the ssrc-audio-level extension, with hysteresis */
  SFU_EVENT_VOICE_OFF,
  SFU_EVENT_TRACK_ADDED,   /* a track the participant sends, now forwarded */
  SFU_EVENT_TRACK_REMOVED, /* no longer forwarded (left, stopped, share off) */
} SfuEventType;

typedef enum {
  SFU_TRACK_AUDIO,
  SFU_TRACK_SCREEN, /* a video track: only screen shares are forwarded */
} SfuTrackKind;

typedef struct {
  SfuEventType type;
  const char *call_id;
  const char *participant_id;
  const char *track_id; /* TRACK_*: the mid of the participant's m-line; else NULL */
  SfuTrackKind track_kind;
  const char *reason;   /* DISCONNECTED: a short sentence; else NULL */
} SfuEvent;

typedef struct {
  /* A new SFU offer for @participant_id: send it to the client, then give its answer to
   * sfu_participant_apply_answer(). */
  void (*offer) (const char *call_id, const char *participant_id, const char *sdp,
                 gpointer user_data);
  void (*event) (const SfuEvent *event, gpointer user_data);
} SfuCallbacks;

typedef struct {
  const char *bind_host;          /* IP literal; NULL: 0.0.0.0 */
  guint16 port;                   /* UDP and ICE-TCP; default 8443, 0 picks a free one */
  guint n_loops;                  /* 0: one per core */
  gboolean enable_tcp;            /* default TRUE */
  const char *ice_host_override;  /* IP or hostname advertised in candidates, or NULL */
  guint16 ice_port_override;      /* 0: none */
  const char *stun_server;        /* "host[:port]" to discover the public address, or NULL */
  const char *const *turn_servers; /* passed through to clients, not used by the SFU */
  gint64 consent_timeout_us;      /* 0: 30 s */
  GMainContext *context;          /* callbacks run here; NULL: the thread-default one */
  SfuCallbacks callbacks;
  gpointer user_data;
} SfuConfig;

void sfu_config_init (SfuConfig *config);

/* Binds the port, makes the certificate, gathers candidates, starts the loops. */
SfuServer *sfu_server_new (const SfuConfig *config, GError **error);
/* Ends every call still running. */
void sfu_server_free (SfuServer *server);
guint16 sfu_server_get_port (SfuServer *server);
/* The TURN servers from the config, for the control plane to hand to clients.
 * (transfer none) (array zero-terminated) */
const char *const *sfu_server_get_turn_servers (SfuServer *server);

/* @call_id: unique among running calls. (transfer full) */
SfuCall *sfu_call_new (SfuServer *server, const char *call_id, GError **error);
/* Removes every participant (no events follow) and frees @call. */
void sfu_call_end (SfuCall *call);
const char *sfu_call_get_id (SfuCall *call);

/* Adds a participant from its first offer; *@answer_sdp (transfer full) is the SFU's
 * answer. Offers for it (the other participants' tracks) follow through the callback. */
gboolean sfu_participant_add (SfuCall *call, const char *participant_id, const char *offer_sdp,
                              char **answer_sdp, GError **error);
/* A later offer from the client (it added or stopped a track). Refused with
 * SFU_ERROR_GLARE while an SFU offer is pending (see above). */
gboolean sfu_participant_handle_offer (SfuCall *call, const char *participant_id,
                                       const char *offer_sdp, char **answer_sdp,
                                       GError **error);
/* The client's answer to the SFU's last offer. */
gboolean sfu_participant_apply_answer (SfuCall *call, const char *participant_id,
                                       const char *answer_sdp, GError **error);
/* A trickled candidate ("candidate:…" with or without "a="). The SFU is ICE-lite: it learns
 * the client's addresses from its checks, so a well-formed candidate is accepted and not
 * used; a malformed one is refused. */
gboolean sfu_participant_add_candidate (SfuCall *call, const char *participant_id,
                                        const char *candidate, GError **error);
gboolean sfu_participant_remove (SfuCall *call, const char *participant_id, GError **error);
/* Muted: the SFU drops the participant's audio (enforced here, not trusted to the client). */
gboolean sfu_participant_set_muted (SfuCall *call, const char *participant_id, gboolean muted,
                                    GError **error);
/* Screen share on: the participant's video tracks are forwarded. At most one sharer per
 * call: SFU_ERROR_SCREEN_BUSY names the current one. Off stops forwarding them. */
gboolean sfu_participant_set_screen (SfuCall *call, const char *participant_id, gboolean on,
                                     GError **error);

typedef struct {
  gboolean connected;
  /* From the participant (its tracks). */
  guint64 packets_in, bytes_in;
  guint64 packets_lost;   /* gaps in its sequence numbers, all tracks */
  double loss_fraction;   /* in the last report interval, worst track, 0..1 */
  double jitter_ms;       /* worst track */
  guint64 plis_sent;      /* keyframe requests the SFU sent to it */
  /* Toward the participant (forwarded tracks). */
  guint64 packets_out, bytes_out; /* retransmissions included */
  double rtt_ms;          /* from its receiver reports; -1 while unknown */
  gboolean over_tcp;      /* its selected ICE path is ICE-TCP (RFC 6544), not UDP */
  guint64 nacks_received; /* sequence numbers it asked for */
  guint64 nacks_resent;   /* of which resent */
  guint64 plis_received;  /* PLI and FIR it sent */
  /* Dropped. */
  guint64 dropped_before_dtls; /* RTP/RTCP before DTLS finished */
  guint64 srtp_errors;         /* failed authentication or replay */
  guint64 dropped_muted;       /* audio packets dropped while muted */
} SfuParticipantStats;

gboolean sfu_participant_get_stats (SfuCall *call, const char *participant_id,
                                    SfuParticipantStats *out, GError **error);

G_END_DECLS
