/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-calls.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The signaling WebSocket at /api/v1/websocket (docs/signaling.md): one SrvWsSession per
 * socket. It authenticates (header or a first `auth` message), enforces the size and rate
 * limits, validates each message against its shape (srv-shape.c) and hands it to the call
 * state machine (srv-calls.c). Everything runs on the server's main context. */

/* Registers the WebSocket handler on the server's SoupServer. */
void srv_ws_init (SrvServer *server);
/* Closes every session (after srv_calls_shutdown() told them the calls ended). */
void srv_ws_shutdown (SrvServer *server);

const char *srv_ws_session_get_id (SrvWsSession *ws);
/* Sends one message; @data is an object (transfer none). Dropped if the socket is no
 * longer open. */
void srv_ws_send (SrvWsSession *ws, const char *type, JsonNode *data);
/* The session is in @call now (NULL: not in a call any more). */
void srv_ws_session_set_call (SrvWsSession *ws, SrvCall *call);
/* Sends to every authenticated session of a member of @channel_id, except sessions that
 * are in @skip (nullable; the caller sends those itself). */
void srv_ws_broadcast_channel (SrvServer *server, const char *channel_id, const char *type,
                               JsonNode *data, SrvCall *skip);
/* Closes every session of @user_id (deactivated), leaving their calls. */
void srv_ws_close_user (SrvServer *server, const char *user_id);

G_END_DECLS
