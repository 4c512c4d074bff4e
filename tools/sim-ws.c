/* SPDX-License-Identifier: MIT */
#include "sim-ws.h"
#include "sim-call.h"
#include "cr-json.h"

#include <libsoup/soup.h>
#include <string.h>

#define MAX_SERVER_MESSAGE (1024 * 1024)

typedef struct {
  SimWsCall *call;
  guint index;
  char *username;
  char *token;
  SoupWebsocketConnection *conn;
  SimPeer *peer;
  SimParticipant *participant;
  gint64 seq;
  gboolean join_sent;
} WsParticipant;

struct _SimWsCall {
  SimWsConfig config;
  char *server_url;
  char *ws_url; /* the server's WebSocket */
  char *admin_token;
  char *channel;
  char *run_tag; /* makes this run's usernames unique on a server that outlives it */
  SoupSession *soup;
  GstPipeline *pipeline;
  GPtrArray *participants; /* WsParticipant* */
  char *thread_id;         /* the call's thread, from participant 0's "joined" */
  gboolean others_started; /* the others connect once participant 0 (the host) is in */
};

static void connect_participant (WsParticipant *wp);

/* ---- REST (blocking: only while setting up) ---- */

static JsonNode *
rest_with (SimWsCall *call, const char *token, const char *method, const char *path,
           const char *body, guint *status, GError **error)
{
  g_autofree char *url = g_strdup_printf ("%s/api/v1%s", call->server_url, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  if (!msg) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad URL %s", url);
    return NULL;
  }
  g_autofree char *bearer = g_strdup_printf ("Bearer %s", token);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                bearer);
  if (body) {
    g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  }
  g_autoptr (GBytes) reply = soup_session_send_and_read (call->soup, msg, NULL, error);
  if (!reply)
    return NULL;
  *status = soup_message_get_status (msg);
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (reply, &len);
  if (len == 0 || !json_parser_load_from_data (parser, data, (gssize) len, NULL))
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}

static JsonNode *
rest (SimWsCall *call, const char *method, const char *path, const char *body,
      guint *status, GError **error)
{
  return rest_with (call, call->admin_token, method, path, body, status, error);
}

static gboolean
rest_ok_with (SimWsCall *call, const char *token, const char *method, const char *path,
              const char *body, JsonNode **out, GError **error)
{
  guint status = 0;
  g_autoptr (GError) local = NULL;
  JsonNode *node = rest_with (call, token, method, path, body, &status, &local);
  if (local) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (status < 200 || status >= 300) {
    g_autofree char *text = node ? json_to_string (node, FALSE) : g_strdup ("");
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s: HTTP %u %s", method, path,
                 status, text);
    if (node)
      json_node_unref (node);
    return FALSE;
  }
  if (out)
    *out = node;
  else if (node)
    json_node_unref (node);
  return TRUE;
}

static gboolean
rest_ok (SimWsCall *call, const char *method, const char *path, const char *body,
         JsonNode **out, GError **error)
{
  return rest_ok_with (call, call->admin_token, method, path, body, out, error);
}

gboolean
sim_ws_call_host_rest (SimWsCall *call, const char *method, const char *path,
                       const char *body, JsonNode **out, GError **error)
{
  WsParticipant *host = call->participants->len ? g_ptr_array_index (call->participants, 0)
                                                : NULL;
  if (!host) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no participants");
    return FALSE;
  }
  return rest_ok_with (call, host->token, method, path, body, out, error);
}

const char *
sim_ws_call_get_thread_id (SimWsCall *call)
{
  return call->thread_id;
}

const char *
sim_ws_call_get_channel (SimWsCall *call)
{
  return call->channel;
}

char *
sim_ws_call_add_member (SimWsCall *call, const char *username, const char *display_name,
                        GError **error)
{
  g_autofree char *user = g_strdup_printf ("{\"username\":\"%s\",\"display_name\":\"%s\"}",
                                           username, display_name);
  if (!rest_ok (call, "POST", "/users", user, NULL, error))
    return NULL;
  g_autofree char *member = g_strdup_printf ("{\"user\":\"%s\"}", username);
  g_autofree char *members = g_strdup_printf ("/channels/%s/members", call->channel);
  if (!rest_ok (call, "POST", members, member, NULL, error))
    return NULL;
  g_autofree char *tokens = g_strdup_printf ("/users/%s/tokens", username);
  JsonNode *node = NULL;
  if (!rest_ok (call, "POST", tokens, "{\"label\":\"callrec-sim\"}", &node, error))
    return NULL;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *token = o && json_object_has_member (o, "token")
                          ? json_object_get_string_member (o, "token")
                          : NULL;
  char *result = g_strdup (token);
  json_node_unref (node);
  if (!result)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no token in the reply for %s",
                 username);
  return result;
}

static gboolean
ensure_channel (SimWsCall *call, GError **error)
{
  guint status = 0;
  g_autofree char *path = g_strdup_printf ("/channels/%s", call->channel);
  JsonNode *node = rest (call, "GET", path, NULL, &status, error);
  if (node)
    json_node_unref (node);
  if (status == 200)
    return TRUE;
  if (error && *error)
    return FALSE;
  g_autofree char *body = g_strdup_printf ("{\"type\":\"public\",\"name\":\"%s\"}",
                                           call->channel);
  return rest_ok (call, "POST", "/channels", body, NULL, error);
}

/* ---- one participant's socket ---- */

static void
ws_send (WsParticipant *wp, const char *type, JsonObject *data)
{
  if (!wp->conn || soup_websocket_connection_get_state (wp->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  g_autofree char *text = cr_json_envelope (type, ++wp->seq, data);
  soup_websocket_connection_send_text (wp->conn, text);
}

/* SimPeer's signaling ("sdp", "ice" with "conn") → the server's messages. */
static void
peer_send (SimPeer *peer, const char *type, JsonObject *data, gpointer user_data)
{
  WsParticipant *wp = user_data;
  JsonObject *out = json_object_new ();
  if (g_str_equal (type, "sdp")) {
    const char *sdp_type = json_object_get_string_member (data, "sdp_type");
    const char *sdp = json_object_get_string_member (data, "sdp");
    if (g_str_equal (sdp_type, "offer") && !wp->join_sent) {
      wp->join_sent = TRUE;
      json_object_set_string_member (out, "channel_id", wp->call->channel);
      json_object_set_string_member (out, "sdp", sdp);
      ws_send (wp, "join", out);
    } else {
      json_object_set_string_member (out, "type", sdp_type);
      json_object_set_string_member (out, "sdp", sdp);
      ws_send (wp, "sdp", out);
    }
  } else if (g_str_equal (type, "ice")) {
    json_object_set_string_member (out, "candidate",
                                   json_object_get_string_member (data, "candidate"));
    json_object_set_int_member (out, "sdp_mline_index",
                                json_object_get_int_member (data, "sdp_mline_index"));
    ws_send (wp, "ice", out);
  }
  json_object_unref (out);
}

static void
start_media (WsParticipant *wp)
{
  SimWsCall *call = wp->call;
  g_autoptr (GError) error = NULL;
  g_autofree char *id = g_strdup_printf ("p%u", wp->index);
  wp->peer = sim_peer_new (call->pipeline, id, peer_send, wp, &error);
  /* Named by the username: what the server shows and the SFU's msid carries is the
   * session, not this id. */
  if (wp->peer) {
    wp->participant = sim_participant_new (call->pipeline, &wp->peer, 1, wp->index,
                                           wp->username, &call->config.media);
    if (sim_participant_start (wp->participant, &error) &&
        (wp->index != 0 || call->config.share == SIM_SHARE_NONE ||
         sim_participant_share_on (wp->participant, call->config.share,
                                   call->config.share_width, call->config.share_height,
                                   &error))) {
      sim_peer_negotiate (wp->peer);
      return;
    }
  }
  g_warning ("sim %s: no media: %s", wp->username, error ? error->message : "?");
}

static void
on_message (SoupWebsocketConnection *conn, gint kind, GBytes *message, gpointer user_data)
{
  WsParticipant *wp = user_data;
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (kind != SOUP_WEBSOCKET_DATA_TEXT || len > MAX_SERVER_MESSAGE ||
      !json_parser_load_from_data (parser, text, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_warning ("sim %s: unreadable server message ignored", wp->username);
    return;
  }
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  const char *type = cr_json_string (root, "type");
  JsonObject *data = cr_json_object (root, "data");
  if (!type)
    return;
  if (g_str_equal (type, "hello")) {
    start_media (wp);
  } else if (g_str_equal (type, "joined")) {
    g_message ("sim %s: in the call", wp->username);
    if (wp->index == 0 && !wp->call->others_started) {
      /* Participant 0 started the call, so it is the host; the others follow. */
      const char *thread = cr_json_string (cr_json_object (data, "call"), "thread_id");
      g_free (wp->call->thread_id);
      wp->call->thread_id = g_strdup (thread);
      wp->call->others_started = TRUE;
      for (guint k = 1; k < wp->call->participants->len; k++)
        connect_participant (g_ptr_array_index (wp->call->participants, k));
    }
    /* Everyone joins muted; the sharer's video is forwarded only while screen_on holds. */
    ws_send (wp, "unmute", NULL);
    if (wp->index == 0 && wp->call->config.share != SIM_SHARE_NONE)
      ws_send (wp, "screen_on", NULL);
  } else if (g_str_equal (type, "signal")) {
    JsonObject *sdp = cr_json_object (data, "sdp");
    const char *sdp_type = cr_json_string (sdp, "type");
    const char *sdp_text = cr_json_string (sdp, "sdp");
    if (wp->peer && sdp_type && sdp_text && g_str_equal (sdp_type, "answer"))
      sim_peer_handle_answer (wp->peer, sdp_text);
    else if (wp->peer && sdp_type && sdp_text && g_str_equal (sdp_type, "offer"))
      sim_peer_handle_offer (wp->peer, sdp_text);
  } else if (g_str_equal (type, "error")) {
    g_warning ("sim %s: the server says %s: %s", wp->username, cr_json_string (data, "code"),
               cr_json_string (data, "message"));
  }
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WsParticipant *wp = user_data;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *conn =
      soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (!conn) {
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_warning ("sim %s: could not connect: %s", wp->username, error->message);
    return;
  }
  wp->conn = conn;
  soup_websocket_connection_set_max_incoming_payload_size (conn, MAX_SERVER_MESSAGE);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), wp);
}

static void
connect_participant (WsParticipant *wp)
{
  SoupMessage *msg = soup_message_new (SOUP_METHOD_GET, wp->call->ws_url);
  g_autofree char *bearer = g_strdup_printf ("Bearer %s", wp->token);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                bearer);
  soup_session_websocket_connect_async (wp->call->soup, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, on_connected, wp);
  g_object_unref (msg);
}

static void
participant_free (gpointer data)
{
  WsParticipant *wp = data;
  if (wp->conn) {
    g_signal_handlers_disconnect_by_data (wp->conn, wp);
    if (soup_websocket_connection_get_state (wp->conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (wp->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref (wp->conn);
  }
  sim_participant_free (wp->participant);
  sim_peer_free (wp->peer);
  g_free (wp->username);
  g_free (wp->token);
  g_free (wp);
}

/* ---- lifecycle ---- */

SimWsCall *
sim_ws_call_new (const SimWsConfig *config, GError **error)
{
  g_autofree char *ws_url = cr_websocket_url (config->server_url, error);
  if (!ws_url)
    return NULL;
  SimWsCall *call = g_new0 (SimWsCall, 1);
  call->ws_url = g_steal_pointer (&ws_url);
  call->config = *config;
  call->server_url = g_strdup (config->server_url);
  g_strchomp (call->server_url);
  if (g_str_has_suffix (call->server_url, "/"))
    call->server_url[strlen (call->server_url) - 1] = '\0';
  call->admin_token = g_strdup (config->admin_token);
  call->channel = g_strdup (config->channel);
  call->run_tag = g_strdup_printf ("%04x", g_random_int_range (0, 0x10000));
  call->soup = soup_session_new ();
  call->pipeline = GST_PIPELINE (gst_pipeline_new ("sim-ws"));
  call->participants = g_ptr_array_new_with_free_func (participant_free);
  if (!ensure_channel (call, error)) {
    sim_ws_call_free (call);
    return NULL;
  }
  for (guint k = 0; k < config->voices; k++) {
    WsParticipant *wp = g_new0 (WsParticipant, 1);
    wp->call = call;
    wp->index = k;
    const char *name = sim_participant_name (k);
    g_autofree char *display = name ? g_strdup (name) : g_strdup_printf ("Participant %u", k + 1);
    g_autofree char *lower = g_ascii_strdown (name ? name : "participant", -1);
    wp->username = g_strdup_printf ("%s-%s-%u", lower, call->run_tag, k);
    g_ptr_array_add (call->participants, wp);
    wp->token = sim_ws_call_add_member (call, wp->username, display, error);
    if (!wp->token) {
      sim_ws_call_free (call);
      return NULL;
    }
  }
  /* Running first, so sources are stamped on one running-time axis. */
  gst_element_set_state (GST_ELEMENT (call->pipeline), GST_STATE_PLAYING);
  if (call->participants->len > 0)
    connect_participant (g_ptr_array_index (call->participants, 0));
  return call;
}

const char *
sim_ws_call_get_tag (SimWsCall *call)
{
  return call->run_tag;
}

guint
sim_ws_call_count_connected (SimWsCall *call)
{
  guint n = 0;
  for (guint k = 0; k < call->participants->len; k++) {
    WsParticipant *wp = g_ptr_array_index (call->participants, k);
    n += wp->peer && sim_peer_is_connected (wp->peer);
  }
  return n;
}

void
sim_ws_call_leave (SimWsCall *call)
{
  g_ptr_array_set_size (call->participants, 0);
}

void
sim_ws_call_free (SimWsCall *call)
{
  if (!call)
    return;
  g_ptr_array_unref (call->participants);
  gst_element_set_state (GST_ELEMENT (call->pipeline), GST_STATE_NULL);
  gst_object_unref (call->pipeline);
  g_object_unref (call->soup);
  g_free (call->server_url);
  g_free (call->ws_url);
  g_free (call->admin_token);
  g_free (call->channel);
  g_free (call->run_tag);
  g_free (call->thread_id);
  g_free (call);
}
