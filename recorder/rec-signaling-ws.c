/* SPDX-License-Identifier: MIT */
#include "rec-signaling-ws.h"
#include "cr-json.h"
#include "cr-message.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

/* An SFU offer for a call of 60 participants is ~100 KiB; the server's own limit on what
 * it sends is its business, ours is what we are willing to parse. */
#define MAX_SERVER_MESSAGE (1024 * 1024)
/* The one connection to the SFU, as the session knows it. */
#define SFU_CONN "sfu"

struct _RecWsSignaling {
  RecSession *session;
  char *channel;
  char *job_id;
  RecWsDoneFunc done;
  gpointer user_data;
  SoupSession *soup;
  SoupWebsocketConnection *conn;
  GCancellable *cancel;
  gint64 seq;
  gboolean joined_sent; /* our first offer went out inside "join" */
  gboolean finished;
};

static void
finish (RecWsSignaling *ws, const GError *error)
{
  if (ws->finished)
    return;
  ws->finished = TRUE;
  if (ws->done)
    ws->done (error, ws->user_data);
}

/* ---- to the server ---- */

static void
send_to_server (RecWsSignaling *ws, const char *type, JsonObject *data)
{
  if (!ws->conn ||
      soup_websocket_connection_get_state (ws->conn) != SOUP_WEBSOCKET_STATE_OPEN) {
    g_warning ("signaling: %s not sent: the server connection is not open", type);
    return;
  }
  g_autofree char *text = cr_json_envelope (type, ++ws->seq, data);
  soup_websocket_connection_send_text (ws->conn, text);
}

void
rec_ws_signaling_send_line (RecWsSignaling *ws, const char *line)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CrMessage) msg = cr_message_parse (line, -1, &error);
  if (!msg) {
    g_warning ("signaling: the session sent a bad line: %s", error->message);
    return;
  }
  if (g_str_equal (msg->type, "sdp")) {
    const char *sdp_type = cr_message_get_string (msg, "sdp_type");
    const char *sdp = cr_message_get_string (msg, "sdp");
    JsonObject *data = json_object_new ();
    if (g_str_equal (sdp_type, "offer") && !ws->joined_sent) {
      /* The first offer rides in "join": media starts with the call. */
      ws->joined_sent = TRUE;
      json_object_set_string_member (data, "channel_id", ws->channel);
      if (ws->job_id)
        json_object_set_string_member (data, "job_id", ws->job_id);
      json_object_set_string_member (data, "sdp", sdp);
      send_to_server (ws, "join", data);
    } else {
      json_object_set_string_member (data, "type", sdp_type);
      json_object_set_string_member (data, "sdp", sdp);
      send_to_server (ws, "sdp", data);
    }
    json_object_unref (data);
  } else if (g_str_equal (msg->type, "ice")) {
    JsonObject *data = json_object_new ();
    json_object_set_string_member (data, "candidate", cr_message_get_string (msg, "candidate"));
    json_object_set_int_member (data, "sdp_mline_index",
                                cr_message_get_int (msg, "sdp_mline_index", 0));
    send_to_server (ws, "ice", data);
    json_object_unref (data);
  } else if (g_str_equal (msg->type, "status")) {
    /* The recording's state reaches the server through the job API (issue 5), not the
     * call's signaling; here it is only logged. */
    g_debug ("signaling: recording %s", cr_message_get_string (msg, "state"));
  }
}

/* ---- from the server ---- */

static void
to_session (RecWsSignaling *ws, const char *type, JsonObject *data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = cr_message_serialize (type, ++ws->seq, data, &error);
  if (!line) {
    g_warning ("signaling: could not pass %s to the recording: %s", type, error->message);
    return;
  }
  rec_session_handle_line (ws->session, line, strlen (line));
}

static void
add_participant (RecWsSignaling *ws, JsonObject *p)
{
  const char *id = cr_json_string (p, "session_id");
  const char *name = cr_json_string (p, "display_name");
  if (!name || !*name)
    name = cr_json_string (p, "username");
  if (!id)
    return;
  JsonObject *data = json_object_new ();
  json_object_set_string_member (data, "id", id);
  json_object_set_string_member (data, "name", name ? name : "");
  to_session (ws, "participant", data);
  json_object_unref (data);
}

static void
handle_signal (RecWsSignaling *ws, JsonObject *data)
{
  JsonObject *sdp = cr_json_object (data, "sdp");
  JsonObject *cand = cr_json_object (data, "candidate");
  JsonObject *msg = json_object_new ();
  json_object_set_string_member (msg, "conn", SFU_CONN);
  if (sdp && cr_json_string (sdp, "type") && cr_json_string (sdp, "sdp")) {
    json_object_set_string_member (msg, "sdp_type", cr_json_string (sdp, "type"));
    json_object_set_string_member (msg, "sdp", cr_json_string (sdp, "sdp"));
    to_session (ws, "sdp", msg);
  } else if (cand && cr_json_string (cand, "candidate")) {
    json_object_set_string_member (msg, "candidate", cr_json_string (cand, "candidate"));
    json_object_set_int_member (msg, "sdp_mline_index", 0);
    to_session (ws, "ice", msg);
  } else {
    g_warning ("signaling: a signal message with neither sdp nor candidate ignored");
  }
  json_object_unref (msg);
}

static void
handle_server_message (RecWsSignaling *ws, const char *type, JsonObject *data)
{
  if (g_str_equal (type, "hello")) {
    g_message ("signaling: connected; joining channel %s", ws->channel);
    JsonObject *msg = json_object_new ();
    json_object_set_string_member (msg, "conn", SFU_CONN);
    to_session (ws, "connect", msg);
    json_object_unref (msg);
  } else if (g_str_equal (type, "joined")) {
    JsonObject *call = cr_json_object (data, "call");
    JsonNode *list = call ? json_object_get_member (call, "participants") : NULL;
    if (list && JSON_NODE_HOLDS_ARRAY (list)) {
      JsonArray *a = json_node_get_array (list);
      for (guint i = 0; i < json_array_get_length (a); i++) {
        JsonNode *n = json_array_get_element (a, i);
        if (JSON_NODE_HOLDS_OBJECT (n))
          add_participant (ws, json_node_get_object (n));
      }
    }
    g_message ("signaling: in the call (%u participants)",
               list && JSON_NODE_HOLDS_ARRAY (list) ? json_array_get_length (json_node_get_array (list)) : 0);
  } else if (g_str_equal (type, "signal")) {
    handle_signal (ws, data);
  } else if (g_str_equal (type, "user_joined")) {
    add_participant (ws, cr_json_object (data, "participant"));
  } else if (g_str_equal (type, "user_left")) {
    const char *id = cr_json_string (data, "session_id");
    if (id) {
      JsonObject *msg = json_object_new ();
      json_object_set_string_member (msg, "id", id);
      to_session (ws, "participant_left", msg);
      json_object_unref (msg);
    }
  } else if (g_str_equal (type, "job_stop") || g_str_equal (type, "call_end")) {
    const char *reason = cr_json_string (data, "reason");
    g_message ("signaling: %s (%s): stopping", type, reason ? reason : "no reason given");
    to_session (ws, "stop", NULL);
  } else if (g_str_equal (type, "error")) {
    g_warning ("signaling: the server says %s: %s", cr_json_string (data, "code"),
               cr_json_string (data, "message"));
  } else {
    g_debug ("signaling: %s ignored", type);
  }
}

static void
on_message (SoupWebsocketConnection *conn, gint kind, GBytes *message, gpointer user_data)
{
  RecWsSignaling *ws = user_data;
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);
  if (kind != SOUP_WEBSOCKET_DATA_TEXT || len > MAX_SERVER_MESSAGE) {
    g_warning ("signaling: a %s server message of %zu bytes ignored",
               kind == SOUP_WEBSOCKET_DATA_TEXT ? "text" : "binary", len);
    return;
  }
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  if (!json_parser_load_from_data (parser, text, (gssize) len, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_warning ("signaling: an unreadable server message ignored: %s",
               error ? error->message : "not an object");
    return;
  }
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  const char *type = cr_json_string (root, "type");
  if (!type) {
    g_warning ("signaling: a server message without a type ignored");
    return;
  }
  handle_server_message (ws, type, cr_json_object (root, "data"));
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer user_data)
{
  RecWsSignaling *ws = user_data;
  gushort code = soup_websocket_connection_get_close_code (conn);
  g_message ("signaling: the server closed the connection (code %u)", code);
  g_autoptr (GError) error = NULL;
  if (code != SOUP_WEBSOCKET_CLOSE_NORMAL)
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                         "the server closed the signaling connection (code %u)", code);
  finish (ws, error);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *conn =
      soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (!conn) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    RecWsSignaling *ws = user_data;
    g_warning ("signaling: could not connect: %s", error->message);
    finish (ws, error);
    return;
  }
  RecWsSignaling *ws = user_data;
  ws->conn = conn;
  soup_websocket_connection_set_max_incoming_payload_size (conn, MAX_SERVER_MESSAGE);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), ws);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), ws);
}

RecWsSignaling *
rec_ws_signaling_new (const RecWsConfig *config, RecSession *session, RecWsDoneFunc done,
                      gpointer user_data, GError **error)
{
  g_autofree char *url = cr_websocket_url (config->server_url, error);
  if (!url)
    return NULL;
  SoupMessage *msg = soup_message_new (SOUP_METHOD_GET, url);
  if (!msg) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad server URL %s", url);
    return NULL;
  }
  g_autofree char *bearer = g_strdup_printf ("Bearer %s", config->token);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                bearer);
  RecWsSignaling *ws = g_new0 (RecWsSignaling, 1);
  ws->session = session;
  ws->channel = g_strdup (config->channel);
  ws->job_id = g_strdup (config->job_id);
  ws->done = done;
  ws->user_data = user_data;
  ws->soup = soup_session_new ();
  ws->cancel = g_cancellable_new ();
  g_message ("signaling: connecting to %s", url);
  soup_session_websocket_connect_async (ws->soup, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        ws->cancel, on_connected, ws);
  g_object_unref (msg);
  return ws;
}

void
rec_ws_signaling_free (RecWsSignaling *ws)
{
  if (!ws)
    return;
  g_cancellable_cancel (ws->cancel);
  if (ws->conn) {
    g_signal_handlers_disconnect_by_data (ws->conn, ws);
    if (soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref (ws->conn);
  }
  g_object_unref (ws->cancel);
  g_object_unref (ws->soup);
  g_free (ws->channel);
  g_free (ws->job_id);
  g_free (ws);
}
