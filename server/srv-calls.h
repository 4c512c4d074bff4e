/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-store.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Calls: the live state machine (srv-calls.c) and its media glue to the SFU
 * (srv-calls-media.c). One call at a time per channel. Participants are sessions: a
 * WebSocket session (with or without media) or a REST presence (no socket, no media).
 * Everything runs on the server's main context; the SFU delivers its callbacks there.
 *
 * Rules (docs/signaling.md, "Call rules"): starting a call posts its root post (the call
 * thread); the starter is owner and host; active channel members may join, one session
 * per user; when the host leaves, the longest-present participant becomes host; the host
 * or a system admin may end the call; it ends when its last participant leaves, and when
 * its channel is archived or deleted. Every change is broadcast to the call.
 *
 * Recording bots (issue 5): a participant may be flagged as a bot. A bot is not shown in
 * the call's participants, never becomes host, and does not keep a call alive. Admission
 * is the server's SrvServer.admit_bot hook (NULL until issue 5: `join` with a job_id is
 * answered not_implemented). */

typedef struct _SrvServer SrvServer;
typedef struct _SrvCall SrvCall;
typedef struct _SrvParticipant SrvParticipant;
typedef struct _SrvWsSession SrvWsSession;

#define SRV_CALL_ERROR (srv_call_error_quark ())
GQuark srv_call_error_quark (void);

/* Each has one HTTP status and one snake_case code (srv_call_error_code()), the same
 * over REST and the WebSocket. */
typedef enum {
  SRV_CALL_ERROR_INTERNAL,
  SRV_CALL_ERROR_CHANNEL_NOT_FOUND,
  SRV_CALL_ERROR_NOT_A_MEMBER,
  SRV_CALL_ERROR_CHANNEL_ARCHIVED,
  SRV_CALL_ERROR_NO_CALL,
  SRV_CALL_ERROR_CALL_RUNNING,
  SRV_CALL_ERROR_ALREADY_IN_CALL,
  SRV_CALL_ERROR_IN_ANOTHER_CALL,
  SRV_CALL_ERROR_NOT_IN_CALL,
  SRV_CALL_ERROR_FORBIDDEN,
  SRV_CALL_ERROR_SCREEN_BUSY,
  SRV_CALL_ERROR_INVALID_SDP,
  SRV_CALL_ERROR_GLARE,
  SRV_CALL_ERROR_NO_OFFER,
  SRV_CALL_ERROR_MEDIA_UNAVAILABLE,
  SRV_CALL_ERROR_NOT_IMPLEMENTED,
  SRV_CALL_ERROR_RECORDING_RUNNING, /* a recording is not yet stopped */
  SRV_CALL_ERROR_NO_RECORDING,      /* nothing to stop */
} SrvCallError;

const char *srv_call_error_code (const GError *error);
guint srv_call_error_status (const GError *error);

/* Why a call ended (call_end's "reason"). */
#define SRV_CALL_END_ENDED "ended"
#define SRV_CALL_END_EMPTY "empty"
#define SRV_CALL_END_ARCHIVED "channel_archived"
#define SRV_CALL_END_DELETED "channel_deleted"
#define SRV_CALL_END_SHUTDOWN "shutdown"

/* Server lifetime: ends calls a previous process left running (in the store), and at
 * the end every live call (call_end "shutdown"). */
gboolean srv_calls_init (SrvServer *server, GError **error);
void srv_calls_shutdown (SrvServer *server);

/* Finds the channel @ref (id or name) for @user: CHANNEL_NOT_FOUND (unknown or deleted),
 * NOT_A_MEMBER, and with @for_join CHANNEL_ARCHIVED. Returns: (transfer full). */
SrvChannel *srv_calls_channel (SrvServer *server, const char *ref, const SrvUser *user,
                               gboolean for_join, GError **error);

/* (transfer none) (nullable) */
SrvCall *srv_calls_get (SrvServer *server, const char *channel_id);
SrvCall *srv_calls_find (SrvServer *server, const char *call_id);
guint srv_calls_count (SrvServer *server);
guint srv_calls_count_participants (SrvServer *server);

/* Starts a call in @channel with @user as owner and host (CALL_RUNNING if one runs).
 * Returns: (transfer none). */
SrvCall *srv_calls_start (SrvServer *server, const SrvChannel *channel, const SrvUser *user,
                          GError **error);
/* Joins @user to the channel's call, starting it if none runs. @ws (nullable): the
 * WebSocket session, which becomes the participant's session id; NULL makes a REST
 * presence. The joiner's own `joined` is the caller's to send. Returns: (transfer none). */
SrvParticipant *srv_calls_join (SrvServer *server, const SrvChannel *channel, const SrvUser *user,
                                SrvWsSession *ws, gboolean bot, GError **error);
/* Removes @p (broadcasting user_left, handing over the host, ending an empty call).
 * @p and possibly @call are freed. */
void srv_calls_leave (SrvCall *call, SrvParticipant *p);
/* Ends @call (call_end to the channel and the call) and frees it. */
void srv_calls_end (SrvCall *call, const char *reason);
/* The channel was archived or deleted: its call ends. */
void srv_calls_channel_closed (SrvServer *server, const char *channel_id, const char *reason);
/* A post was made: if it is in a running call's thread, post_created goes to the call. */
void srv_calls_post_created (SrvServer *server, const SrvPost *post);

const char *srv_call_get_id (SrvCall *call);
const char *srv_call_get_channel_id (SrvCall *call);
const char *srv_call_get_host_id (SrvCall *call);
/* (transfer none) (nullable) */
SrvParticipant *srv_call_find_session (SrvCall *call, const char *session_id);
SrvParticipant *srv_call_find_user (SrvCall *call, const char *user_id);
/* Returns: (transfer full): the Call object of docs/signaling.md. */
JsonNode *srv_call_to_json (SrvCall *call);

const char *srv_participant_get_session_id (SrvParticipant *p);
const char *srv_participant_get_user_id (SrvParticipant *p);

/* In-call actions; each broadcasts its event to the call, the actor included. */
gboolean srv_calls_set_muted (SrvCall *call, SrvParticipant *p, gboolean muted, GError **error);
gboolean srv_calls_set_screen (SrvCall *call, SrvParticipant *p, gboolean on, GError **error);
void srv_calls_set_hand (SrvCall *call, SrvParticipant *p, gboolean raised);
void srv_calls_react (SrvCall *call, SrvParticipant *p, const char *emoji);

/* Media (srv-calls-media.c). An offer adds the participant to the SFU (first offer) or
 * renegotiates; *@answer (transfer full) goes back as `signal`. */
gboolean srv_calls_media_start (SrvServer *server, GError **error);
void srv_calls_media_stop (SrvServer *server);
gboolean srv_calls_media_offer (SrvCall *call, SrvParticipant *p, const char *sdp, char **answer,
                                GError **error);
gboolean srv_calls_media_answer (SrvCall *call, SrvParticipant *p, const char *sdp, GError **error);
gboolean srv_calls_media_candidate (SrvCall *call, SrvParticipant *p, const char *candidate,
                                    GError **error);
/* Server-side SFU statistics of every participant with media. Returns: (transfer full):
 * a JSON array (docs/api.md, "sfu-stats"). */
JsonNode *srv_calls_media_stats (SrvCall *call);
/* The ice_servers array of `joined`. Returns: (transfer full). */
JsonNode *srv_calls_ice_servers (SrvServer *server);

G_END_DECLS
