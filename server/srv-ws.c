/* SPDX-License-Identifier: MIT */
/* Signaling sessions over the WebSocket at /api/v1/websocket (docs/signaling.md).
 *
 * A session is authenticated either before the upgrade (an Authorization header, checked
 * by the path's normal handler, which refuses the upgrade with the REST error) or by its
 * first message (`auth`, for browsers). Each message is counted against the per-second
 * rate limit, checked against the size limit, parsed and validated against its declared
 * shape (srv-shape.c), then dispatched to the call state machine (srv-calls.c). Every
 * refusal is an `error` reply; nothing a client sends can end the process. */
#include "srv-ws.h"
#include "srv-recording.h"
#include "srv-calls-private.h"

#include <string.h>

#define WS_PATH "/api/v1/websocket"
#define AUTH_TIMEOUT_S 10
#define KEEPALIVE_S 30
/* Frames up to this many times the message limit are read and refused with an error;
 * larger ones make libsoup close the socket (1009). */
#define HARD_LIMIT_FACTOR 4
/* RFC 6455 close codes. */
#define CLOSE_POLICY_VIOLATION 1008

struct _SrvWsSession {
  SrvServer *server;
  SoupWebsocketConnection *conn; /* owned */
  char *id;
  char *address;
  SrvUser *user; /* NULL until authenticated */
  SrvCall *call; /* (unowned): set by srv-calls.c while in a call */
  gboolean closing;
  gint64 out_seq;
  gint64 window_start_us; /* the rate limit's current one-second window */
  guint window_count;
  gboolean window_warned;
  guint auth_timeout_id;
};

const char *
srv_ws_session_get_id (SrvWsSession *ws)
{
  return ws->id;
}

void
srv_ws_session_set_call (SrvWsSession *ws, SrvCall *call)
{
  ws->call = call;
}

void
srv_ws_send (SrvWsSession *ws, const char *type, JsonNode *data)
{
  g_autoptr (JsonGenerator) gen = NULL;
  g_autofree char *body = NULL;
  g_autofree char *text = NULL;

  if (ws->closing || soup_websocket_connection_get_state (ws->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  gen = json_generator_new ();
  json_generator_set_root (gen, data);
  body = json_generator_to_data (gen, NULL);
  /* @type is always one of our constant names. */
  text = g_strdup_printf ("{\"type\":\"%s\",\"seq\":%" G_GINT64_FORMAT ",\"data\":%s}", type,
                          ++ws->out_seq, body);
  soup_websocket_connection_send_text (ws->conn, text);
}

static void
send_error (SrvWsSession *ws, const char *code, gint64 seq, const char *message)
{
  g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "code", code);
  json_object_set_string_member (o, "message", message);
  if (seq >= 0)
    json_object_set_int_member (o, "seq", seq);
  json_node_take_object (data, o);
  srv_ws_send (ws, "error", data);
}

static void
send_call_error (SrvWsSession *ws, gint64 seq, const GError *error)
{
  send_error (ws, srv_call_error_code (error), seq, error->message);
}

static void
close_session (SrvWsSession *ws, gushort code, const char *reason)
{
  if (ws->closing)
    return;
  ws->closing = TRUE;
  g_clear_handle_id (&ws->auth_timeout_id, g_source_remove);
  if (soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (ws->conn, code, reason);
}

static void
send_hello (SrvWsSession *ws)
{
  g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "session_id", ws->id);
  json_object_set_member (o, "user", srv_json_user (ws->user));
  json_node_take_object (data, o);
  srv_ws_send (ws, "hello", data);
}

/* ---- authentication ---- */

/* The `auth` message: the same checks and failure limit as a bearer header. */
static void
handle_auth (SrvWsSession *ws, SrvMessage *msg)
{
  SrvServer *server = ws->server;
  const char *token = srv_shape_get_string (msg->data, "token");
  gint64 now = g_get_monotonic_time ();
  g_autofree char *hash = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SrvUser) user = NULL;
  guint retry = 0;

  if (ws->user) {
    send_error (ws, "already_authenticated", msg->seq, "this session is authenticated already");
    return;
  }
  if (!srv_auth_limiter_allow (server->limiter, ws->address, now, &retry)) {
    g_autofree char *m = g_strdup_printf (
        "too many failed authentications from this address; retry in %u s", retry);

    send_error (ws, "rate_limited", msg->seq, m);
    close_session (ws, CLOSE_POLICY_VIOLATION, "authentication refused");
    return;
  }
  hash = srv_auth_token_hash (token);
  user = srv_store_token_lookup (server->store, hash, &error);
  if (user == NULL) {
    if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
      srv_auth_limiter_fail (server->limiter, ws->address, now);
      server->auth_failures++;
      send_error (ws, "invalid_token", msg->seq, "the token is not valid");
    } else {
      g_warning ("ws: token lookup: %s", error->message);
      send_error (ws, "internal", msg->seq, "internal error (see the server log)");
    }
    close_session (ws, CLOSE_POLICY_VIOLATION, "authentication failed");
    return;
  }
  if (user->deactivated) {
    g_autofree char *m = g_strdup_printf ("user '%s' is deactivated", user->username);

    send_error (ws, "user_deactivated", msg->seq, m);
    close_session (ws, CLOSE_POLICY_VIOLATION, "authentication failed");
    return;
  }
  g_clear_handle_id (&ws->auth_timeout_id, g_source_remove);
  ws->user = g_steal_pointer (&user);
  g_debug ("ws %s: authenticated as '%s'", ws->id, ws->user->username);
  send_hello (ws);
}

static gboolean
on_auth_timeout (gpointer user_data)
{
  SrvWsSession *ws = user_data;

  ws->auth_timeout_id = 0;
  send_error (ws, "not_authenticated", -1, "no auth message within 10 s");
  close_session (ws, CLOSE_POLICY_VIOLATION, "authentication timeout");
  return G_SOURCE_REMOVE;
}

/* ---- messages ---- */

static void
handle_join (SrvWsSession *ws, SrvMessage *msg)
{
  SrvServer *server = ws->server;
  const char *ref = srv_shape_get_string (msg->data, "channel_id");
  const char *sdp = srv_shape_get_string (msg->data, "sdp");
  const char *job_id = srv_shape_get_string (msg->data, "job_id");
  g_autoptr (GError) error = NULL;
  g_autoptr (SrvChannel) ch = NULL;
  g_autoptr (JsonNode) data = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *bot_channel = NULL;
  SrvParticipant *p;
  JsonObject *o;

  if (ws->call) {
    send_error (ws, "in_another_call", msg->seq, "this session is in a call: leave it first");
    return;
  }
  if (job_id) {
    /* Recording bots (issue 5): the hook decides which call, if any, this job may join. */
    if (server->admit_bot == NULL) {
      send_error (ws, "not_implemented", msg->seq, "recording bots are not supported yet");
      return;
    }
    if (!server->admit_bot (server, ws, ws->user, job_id, &bot_channel, &error)) {
      send_call_error (ws, msg->seq, error);
      return;
    }
    ch = srv_store_channel_get (server->store, bot_channel, NULL);
    if (ch == NULL) {
      send_error (ws, "channel_not_found", msg->seq, "the job's channel is gone");
      return;
    }
  } else if (srv_recording_is_job_user (server, ws->user)) {
    send_error (ws, "forbidden", msg->seq, "a recording job's token joins only with its job_id");
    return;
  } else {
    ch = srv_calls_channel (server, ref, ws->user, TRUE, &error);
    if (ch == NULL) {
      send_call_error (ws, msg->seq, error);
      return;
    }
  }
  p = srv_calls_join (server, ch, ws->user, ws, job_id != NULL, &error);
  if (p == NULL) {
    send_call_error (ws, msg->seq, error);
    return;
  }
  o = json_object_new ();
  json_object_set_string_member (o, "session_id", ws->id);
  json_object_set_member (o, "call", srv_call_to_json (ws->call));
  json_object_set_member (o, "ice_servers", srv_calls_ice_servers (server));
  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, o);
  srv_ws_send (ws, "joined", data);
  if (sdp == NULL)
    return;
  if (!srv_calls_media_offer (ws->call, p, sdp, &answer, &error)) {
    send_call_error (ws, msg->seq, error);
    return;
  }
  {
    g_autoptr (JsonNode) signal = json_node_new (JSON_NODE_OBJECT);
    JsonObject *desc = json_object_new ();
    JsonObject *so = json_object_new ();

    json_object_set_string_member (desc, "type", "answer");
    json_object_set_string_member (desc, "sdp", answer);
    json_object_set_object_member (so, "sdp", desc);
    json_node_take_object (signal, so);
    srv_ws_send (ws, "signal", signal);
  }
}

static void
handle_sdp (SrvWsSession *ws, SrvCall *call, SrvParticipant *p, SrvMessage *msg)
{
  const char *type = srv_shape_get_string (msg->data, "type");
  const char *sdp = srv_shape_get_string (msg->data, "sdp");
  g_autoptr (GError) error = NULL;
  g_autofree char *answer = NULL;

  if (g_str_equal (type, "answer")) {
    if (!srv_calls_media_answer (call, p, sdp, &error))
      send_call_error (ws, msg->seq, error);
    return;
  }
  if (!srv_calls_media_offer (call, p, sdp, &answer, &error)) {
    send_call_error (ws, msg->seq, error);
    return;
  }
  {
    g_autoptr (JsonNode) signal = json_node_new (JSON_NODE_OBJECT);
    JsonObject *desc = json_object_new ();
    JsonObject *so = json_object_new ();

    json_object_set_string_member (desc, "type", "answer");
    json_object_set_string_member (desc, "sdp", answer);
    json_object_set_object_member (so, "sdp", desc);
    json_node_take_object (signal, so);
    srv_ws_send (ws, "signal", signal);
  }
}

static void
dispatch (SrvWsSession *ws, SrvMessage *msg)
{
  g_autoptr (GError) error = NULL;
  SrvCall *call = ws->call;
  SrvParticipant *p = call ? srv_call_find_session (call, ws->id) : NULL;
  gboolean ok = TRUE;

  switch (msg->type) {
  case SRV_MESSAGE_AUTH:
    handle_auth (ws, msg);
    return;
  case SRV_MESSAGE_JOIN:
    handle_join (ws, msg);
    return;
  default:
    break;
  }
  if (p == NULL) {
    send_error (ws, "not_in_call", msg->seq, "join a call first");
    return;
  }
  switch (msg->type) {
  case SRV_MESSAGE_LEAVE:
    srv_calls_leave (call, p); /* may free call and p */
    break;
  case SRV_MESSAGE_SDP:
    handle_sdp (ws, call, p, msg);
    break;
  case SRV_MESSAGE_ICE:
    ok = srv_calls_media_candidate (call, p, srv_shape_get_string (msg->data, "candidate"), &error);
    break;
  case SRV_MESSAGE_MUTE:
  case SRV_MESSAGE_UNMUTE:
    ok = srv_calls_set_muted (call, p, msg->type == SRV_MESSAGE_MUTE, &error);
    break;
  case SRV_MESSAGE_SCREEN_ON:
  case SRV_MESSAGE_SCREEN_OFF:
    ok = srv_calls_set_screen (call, p, msg->type == SRV_MESSAGE_SCREEN_ON, &error);
    break;
  case SRV_MESSAGE_RAISE_HAND:
  case SRV_MESSAGE_LOWER_HAND:
    srv_calls_set_hand (call, p, msg->type == SRV_MESSAGE_RAISE_HAND);
    break;
  case SRV_MESSAGE_REACT:
    srv_calls_react (call, p, srv_shape_get_string (msg->data, "emoji"));
    break;
  case SRV_MESSAGE_AUTH:
  case SRV_MESSAGE_JOIN:
  case SRV_MESSAGE_COUNT:
    g_assert_not_reached ();
  }
  if (!ok)
    send_call_error (ws, msg->seq, error);
}

/* TRUE if the message fits this second's budget. Over it, the first dropped message of
 * the second gets one error; the rest are dropped silently. */
static gboolean
rate_allow (SrvWsSession *ws)
{
  gint64 now = g_get_monotonic_time ();

  if (now - ws->window_start_us >= G_USEC_PER_SEC) {
    ws->window_start_us = now;
    ws->window_count = 0;
    ws->window_warned = FALSE;
  }
  if (++ws->window_count <= ws->server->config->ws_messages_per_second)
    return TRUE;
  if (!ws->window_warned) {
    ws->window_warned = TRUE;
    send_error (ws, "rate_limited", -1,
                "too many messages: this one and the rest of this second "
                "are dropped");
  }
  return FALSE;
}

static void
on_message (SoupWebsocketConnection *conn, gint type, GBytes *bytes, gpointer user_data)
{
  SrvWsSession *ws = user_data;
  gsize len = 0;
  const char *text = g_bytes_get_data (bytes, &len);
  gint64 limit = ws->server->config->ws_max_message_bytes;
  g_autoptr (SrvMessage) msg = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *field = NULL;
  gint64 seq = -1;
  const char *code = "malformed_json";

  if (ws->closing || !rate_allow (ws))
    return;
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    send_error (ws, "malformed_json", -1, "messages are JSON in text frames");
  } else if ((gint64) len > limit) {
    g_autofree char *m
        = g_strdup_printf ("the message is larger than %" G_GINT64_FORMAT " bytes", limit);

    send_error (ws, "too_large", -1, m);
  } else {
    msg = srv_message_parse (text, len, &seq, &field, &error);
    if (msg == NULL) {
      if (g_error_matches (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_UNKNOWN_TYPE))
        code = "unknown_type";
      else if (g_error_matches (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_BAD_FIELD))
        code = "invalid_field";
      else if (g_error_matches (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_TOO_LARGE))
        code = "too_large";
      send_error (ws, code, seq, error->message);
    }
  }
  if (ws->user == NULL && (msg == NULL || msg->type != SRV_MESSAGE_AUTH)) {
    if (msg)
      send_error (ws, "not_authenticated", msg->seq, "send an auth message first");
    close_session (ws, CLOSE_POLICY_VIOLATION, "not authenticated");
    return;
  }
  if (msg)
    dispatch (ws, msg);
}

static void
session_free (SrvWsSession *ws)
{
  g_clear_handle_id (&ws->auth_timeout_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (ws->conn, ws);
  g_object_unref (ws->conn);
  g_clear_pointer (&ws->user, srv_user_free);
  g_free (ws->id);
  g_free (ws->address);
  g_free (ws);
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer user_data)
{
  SrvWsSession *ws = user_data;
  SrvServer *server = ws->server;

  ws->closing = TRUE;
  /* A closed socket leaves its call at once. */
  if (ws->call) {
    SrvParticipant *p = srv_call_find_session (ws->call, ws->id);

    if (p)
      srv_calls_leave (ws->call, p);
    ws->call = NULL;
  }
  g_debug ("ws %s: closed (%u)", ws->id, soup_websocket_connection_get_close_code (conn));
  g_hash_table_remove (server->ws_sessions, ws);
  server->websockets_open--;
  session_free (ws);
}

/* The path's normal handler runs before the upgrade: a bearer header is checked here so
 * that a bad token gets the REST error instead of a socket. */
static void
ws_http_handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
                 gpointer user_data)
{
  SrvRequest req = { .server = user_data, .msg = msg };
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  SrvUser *user;

  if (soup_message_headers_get_one (hdrs, "Authorization") == NULL)
    return;
  user = srv_request_authenticate (&req);
  if (user)
    g_object_set_data_full (G_OBJECT (msg), "callrec-user", user, (GDestroyNotify) srv_user_free);
}

static void
ws_handler (SoupServer *soup, SoupServerMessage *msg, const char *path,
            SoupWebsocketConnection *conn, gpointer user_data)
{
  SrvServer *server = user_data;
  SrvWsSession *ws = g_new0 (SrvWsSession, 1);
  const char *addr = soup_server_message_get_remote_host (msg);

  ws->server = server;
  ws->conn = g_object_ref (conn);
  ws->id = srv_store_new_id ();
  ws->address = g_strdup (addr ? addr : "?");
  ws->user = g_object_steal_data (G_OBJECT (msg), "callrec-user");
  soup_websocket_connection_set_max_incoming_payload_size (
      conn, (guint64) server->config->ws_max_message_bytes * HARD_LIMIT_FACTOR);
  soup_websocket_connection_set_keepalive_interval (conn, KEEPALIVE_S);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), ws);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), ws);
  g_hash_table_add (server->ws_sessions, ws);
  server->websockets_open++;
  g_debug ("ws %s: open from %s", ws->id, ws->address);
  if (ws->user)
    send_hello (ws);
  else
    ws->auth_timeout_id = g_timeout_add_seconds (AUTH_TIMEOUT_S, on_auth_timeout, ws);
}

void
srv_ws_init (SrvServer *server)
{
  server->ws_sessions = g_hash_table_new (NULL, NULL);
  soup_server_add_handler (server->soup, WS_PATH, ws_http_handler, server, NULL);
  soup_server_add_websocket_handler (server->soup, WS_PATH, NULL, NULL, ws_handler, server, NULL);
}

void
srv_ws_shutdown (SrvServer *server)
{
  GHashTableIter iter;
  gpointer key;

  if (server->ws_sessions == NULL)
    return;
  g_hash_table_iter_init (&iter, server->ws_sessions);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    SrvWsSession *ws = key;

    g_hash_table_iter_remove (&iter);
    g_signal_handlers_disconnect_by_data (ws->conn, ws);
    if (soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "shutdown");
    session_free (ws);
  }
  server->websockets_open = 0;
  g_clear_pointer (&server->ws_sessions, g_hash_table_unref);
}

void
srv_ws_broadcast_channel (SrvServer *server, const char *channel_id, const char *type,
                          JsonNode *data, SrvCall *skip)
{
  GHashTableIter iter;
  gpointer key;

  if (server->ws_sessions == NULL)
    return;
  g_hash_table_iter_init (&iter, server->ws_sessions);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    SrvWsSession *ws = key;
    gboolean member = FALSE;

    if (ws->user == NULL || ws->closing || (skip && ws->call == skip))
      continue;
    if (srv_store_member_check (server->store, channel_id, ws->user->id, &member, NULL) && member)
      srv_ws_send (ws, type, data);
  }
}

void
srv_ws_close_user (SrvServer *server, const char *user_id)
{
  g_autoptr (GPtrArray) hits = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  if (server->ws_sessions == NULL)
    return;
  g_hash_table_iter_init (&iter, server->ws_sessions);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    SrvWsSession *ws = key;

    if (ws->user && g_str_equal (ws->user->id, user_id))
      g_ptr_array_add (hits, ws);
  }
  /* Leaving broadcasts to other sessions: collected first, so the table is not walked
   * while it could change. */
  for (guint i = 0; i < hits->len; i++) {
    SrvWsSession *ws = hits->pdata[i];

    if (ws->call) {
      SrvParticipant *p = srv_call_find_session (ws->call, ws->id);

      if (p)
        srv_calls_leave (ws->call, p);
      ws->call = NULL;
    }
    send_error (ws, "user_deactivated", -1, "your user was deactivated");
    close_session (ws, CLOSE_POLICY_VIOLATION, "user deactivated");
  }
}
