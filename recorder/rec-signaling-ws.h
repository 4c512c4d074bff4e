/* SPDX-License-Identifier: MIT */
#pragma once

#include "rec-session.h"

G_BEGIN_DECLS

/* The recorder's side of callrec-server's WebSocket signaling (docs/signaling.md), as an
 * adapter: it translates between the server's messages and the recording session's own
 * signaling lines (docs/recording-core.md), so the media core knows nothing of the server
 * (another server's protocol is another adapter).
 *
 *   server                          adapter                       session
 *   hello                      →                              →  connect {conn: "sfu"}
 *                              ←  join {channel_id, job_id, sdp} ←  sdp offer
 *   signal {sdp answer|offer}  →                              →  sdp answer|offer
 *                              ←  sdp {type: answer}          ←  sdp answer
 *   joined / user_joined       →                              →  participant {id, name}
 *   user_left                  →                              →  participant_left
 *   job_stop, call_end         →                              →  stop
 *
 * Participants are named by session id: the SFU's msid stream ids are session ids.
 * Main context only. */
typedef struct _RecWsSignaling RecWsSignaling;

typedef struct {
  const char *server_url; /* http://host:port or https://… */
  const char *token;      /* bearer token (a job token for a recording job); never logged */
  const char *channel;    /* channel id or name */
  const char *job_id;     /* NULL outside a recording job */
} RecWsConfig;

/* Connects and joins; lines for the session go to rec_session_handle_line (session).
 * Lines from the session must be passed to rec_ws_signaling_send_line. done is called
 * once when the server connection ends for good (error NULL after a normal close). */
typedef void (*RecWsDoneFunc) (const GError *error, gpointer user_data);

RecWsSignaling *rec_ws_signaling_new (const RecWsConfig *config, RecSession *session,
                                      RecWsDoneFunc done, gpointer user_data, GError **error);
void rec_ws_signaling_free (RecWsSignaling *ws);
/* A line the session sent (its RecSessionSendFunc). */
void rec_ws_signaling_send_line (RecWsSignaling *ws, const char *line);

G_END_DECLS
