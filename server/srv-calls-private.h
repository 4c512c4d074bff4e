/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-calls.h"
#include "srv-server-private.h"
#include "sfu.h"

G_BEGIN_DECLS

/* Shared by srv-calls.c (state machine) and srv-calls-media.c (SFU glue) only. */

struct _SrvParticipant {
  char *session_id; /* the WebSocket session's id, or a fresh id for a REST presence */
  char *user_id;
  char *username;
  char *display_name;
  gint64 joined_at;
  SrvWsSession *ws; /* (nullable) (unowned): NULL for a REST presence */
  gboolean bot;
  gboolean media; /* added to the SFU */
  gboolean muted; /* everyone joins muted */
  gboolean voice;
  gboolean screen;
  gboolean hand_raised;
  gint64 hand_raised_at;
};

struct _SrvCall {
  SrvServer *server;
  char *id;
  char *channel_id;
  char *thread_id; /* the root post */
  char *owner_id;
  char *host_id;
  gint64 started_at;
  GPtrArray *participants; /* (element-type SrvParticipant): join order */
  SfuCall *sfu;            /* (nullable): made with the first participant with media */
};

/* Sends @type with @data (an object, transfer none) to every participant with a
 * WebSocket, except @except (nullable). */
void srv_call_broadcast (SrvCall *call, const char *type, JsonNode *data, SrvParticipant *except);
/* {"session_id", "user_id"} of @p. Returns: (transfer full). */
JsonNode *srv_participant_ref_json (SrvParticipant *p);
void srv_calls_set_error (GError **error, const GError *sfu_error);

G_END_DECLS
