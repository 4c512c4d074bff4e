/* SPDX-License-Identifier: MIT */
/* /api/v1/calls/{channel}/…, the call link, and call stats (docs/api.md, "Calls"): the
 * REST face of srv-calls.c for clients without media (the CLI) and for state queries. */
#include "srv-calls-private.h"
#include "srv-recording.h"

#include <string.h>

/* Largest accepted client stats body (a WebRTC getStats() report, trimmed by the client). */
#define MAX_STATS_BYTES 65536

static void
reply_call_error (SrvRequest *req, const GError *error)
{
  srv_reply_error (req, srv_call_error_status (error), srv_call_error_code (error), NULL, "%s",
                   error->message);
}

static SrvChannel *
request_channel (SrvRequest *req, gboolean for_join)
{
  g_autoptr (GError) error = NULL;
  SrvChannel *ch = srv_calls_channel (req->server, req->params[0], req->user, for_join, &error);

  if (ch == NULL)
    reply_call_error (req, error);
  return ch;
}

/* The running call of the request's channel, or a 404 no_call reply. */
static SrvCall *
request_call (SrvRequest *req, const SrvChannel *ch)
{
  SrvCall *call = srv_calls_get (req->server, ch->id);

  if (call == NULL)
    srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "no_call", NULL,
                     "no call is running in channel '%s'", ch->name);
  return call;
}

static void
reply_call (SrvRequest *req, guint status, SrvCall *call)
{
  g_autoptr (JsonNode) node = srv_call_to_json (call);

  srv_reply_json (req, status, node);
}

void
srv_api_calls_get (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = request_channel (req, FALSE);
  SrvCall *call;

  if (ch && (call = request_call (req, ch)))
    reply_call (req, SOUP_STATUS_OK, call);
}

void
srv_api_calls_start (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = request_channel (req, TRUE);
  g_autoptr (GError) error = NULL;
  SrvCall *call;

  if (ch == NULL)
    return;
  call = srv_calls_start (req->server, ch, req->user, &error);
  if (call == NULL)
    reply_call_error (req, error);
  else
    reply_call (req, SOUP_STATUS_CREATED, call);
}

void
srv_api_calls_join (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = request_channel (req, TRUE);
  g_autoptr (GError) error = NULL;

  if (ch == NULL)
    return;
  if (srv_calls_join (req->server, ch, req->user, NULL, FALSE, &error) == NULL)
    reply_call_error (req, error);
  else
    reply_call (req, SOUP_STATUS_OK, srv_calls_get (req->server, ch->id));
}

void
srv_api_calls_leave (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = request_channel (req, FALSE);
  SrvCall *call;
  SrvParticipant *p;

  if (ch == NULL || (call = request_call (req, ch)) == NULL)
    return;
  p = srv_call_find_user (call, req->user->id);
  if (p == NULL) {
    srv_reply_error (req, SOUP_STATUS_CONFLICT, "not_in_call", NULL, "you are not in this call");
    return;
  }
  srv_calls_leave (call, p);
  srv_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}

void
srv_api_calls_end (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = request_channel (req, FALSE);
  SrvCall *call;

  if (ch == NULL || (call = request_call (req, ch)) == NULL)
    return;
  if (!srv_request_is_admin (req) && !g_str_equal (srv_call_get_host_id (call), req->user->id)) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "only the call's host or a system admin can end it");
    return;
  }
  g_message ("call %s: ended by '%s'", srv_call_get_id (call), req->user->username);
  srv_calls_end (call, SRV_CALL_END_ENDED);
  srv_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}

void
srv_api_calls_stats_post (SrvRequest *req, JsonObject *unused)
{
  g_autoptr (SrvChannel) ch = request_channel (req, FALSE);
  SoupMessageBody *rb = soup_server_message_get_request_body (req->msg);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (JsonObject) stats = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonGenerator) gen = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *text = NULL;
  SrvCall *call;
  gsize len = 0;
  const char *data;

  if (ch == NULL || (call = request_call (req, ch)) == NULL)
    return;
  if (srv_call_find_user (call, req->user->id) == NULL) {
    srv_reply_error (req, SOUP_STATUS_CONFLICT, "not_in_call", NULL,
                     "only a participant of the running call can post its stats");
    return;
  }
  bytes = soup_message_body_flatten (rb);
  data = g_bytes_get_data (bytes, &len);
  stats = srv_shape_parse_object (data, len, MAX_STATS_BYTES, &error);
  if (stats == NULL) {
    if (g_error_matches (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_TOO_LARGE))
      srv_reply_error (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL, "%s",
                       error->message);
    else
      srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "malformed_json", NULL, "%s", error->message);
    return;
  }
  /* Stored as json-glib writes it back: normalized, never the client's raw bytes. */
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, stats);
  gen = json_generator_new ();
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  if (!srv_store_call_stats_put (req->server->store, req->user->id, srv_call_get_id (call), ch->id,
                                 text, &error)) {
    srv_reply_store_error (req, error, "call stats");
    return;
  }
  srv_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}

void
srv_api_calls_stats_get (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = request_channel (req, FALSE);
  const char *who = req->query ? g_hash_table_lookup (req->query, "user") : NULL;
  g_autoptr (SrvUser) other = NULL;
  g_autoptr (SrvCallStats) stats = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;
  g_autoptr (JsonNode) node = NULL;
  const char *user_id = req->user->id;

  if (ch == NULL)
    return;
  if (who) {
    if (!srv_request_is_admin (req)) {
      srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", "user",
                       "only a system admin can read someone else's stats");
      return;
    }
    other = srv_request_find_user (req, who);
    if (other == NULL)
      return;
    user_id = other->id;
  }
  stats = srv_store_call_stats_get (req->server->store, user_id, &error);
  if (stats == NULL && !g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
    srv_reply_store_error (req, error, "call stats");
    return;
  }
  if (stats == NULL || !g_str_equal (stats->channel_id, ch->id)
      || !json_parser_load_from_data (parser, stats->stats, -1, NULL)) {
    srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "no_stats", NULL,
                     "no stats from a call in channel '%s'", ch->name);
    return;
  }
  o = json_object_new ();
  json_object_set_string_member (o, "user_id", stats->user_id);
  json_object_set_string_member (o, "call_id", stats->call_id);
  json_object_set_string_member (o, "channel_id", stats->channel_id);
  json_object_set_int_member (o, "updated_at", stats->updated_at);
  json_object_set_member (o, "stats", json_node_copy (json_parser_get_root (parser)));
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, o);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

void
srv_api_calls_sfu_stats (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = NULL;
  g_autoptr (JsonNode) node = NULL;
  SrvCall *call;

  if (!srv_request_is_admin (req)) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "only a system admin can read the SFU's stats");
    return;
  }
  ch = request_channel (req, FALSE);
  if (ch == NULL || (call = request_call (req, ch)) == NULL)
    return;
  node = srv_calls_media_stats (call);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

/* Recording start/stop: issue 5. The checks a real implementation needs come first, so
 * that the CLI and the web client see their final errors already. */
void
srv_api_calls_recording (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = request_channel (req, FALSE);
  gboolean start = g_str_has_suffix (g_uri_get_path (soup_server_message_get_uri (req->msg)), "/start");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  SrvCall *call;
  SrvJob *job;

  if (ch == NULL || (call = request_call (req, ch)) == NULL)
    return;
  if (!g_str_equal (srv_call_get_host_id (call), req->user->id) && !srv_request_is_admin (req)) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "only the call's host can start or stop a recording");
    return;
  }
  if (start)
    job = srv_recording_start (req->server, call, req->user, &error);
  else
    job = srv_recording_stop (req->server, call, "stopped by the host", &error);
  if (job == NULL) {
    reply_call_error (req, error);
    return;
  }
  node = srv_job_to_json (job);
  srv_reply_json (req, start ? SOUP_STATUS_CREATED : SOUP_STATUS_OK, node);
}

/* ---- the call link ---- */

void
srv_api_channels_call_link (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = srv_request_channel (req, req->params[0], SRV_ACCESS_READ);
  GUri *uri = soup_server_message_get_uri (req->msg);
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *url = NULL;
  const char *host;
  JsonObject *o;

  if (ch == NULL)
    return;
  if (ch->archived_at != 0) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "channel_archived", NULL,
                     "channel '%s' is archived: its call link no longer works", ch->name);
    return;
  }
  /* The address the client used to reach us is the one it can share. */
  host = soup_message_headers_get_one (soup_server_message_get_request_headers (req->msg), "Host");
  if (host
      && (host[0] == '\0'
          || strspn (host, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
                 != strlen (host)))
    host = NULL;
  if (host)
    url = g_strdup_printf ("%s://%s/call/%s", g_uri_get_scheme (uri), host, ch->id);
  else
    url = g_strdup_printf ("%s://%s:%d/call/%s", g_uri_get_scheme (uri), g_uri_get_host (uri),
                           g_uri_get_port (uri), ch->id);
  o = json_object_new ();
  json_object_set_string_member (o, "channel_id", ch->id);
  json_object_set_string_member (o, "url", url);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, o);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

/* GET /call/{channel}: the link itself needs no token (a browser opens it). While its
 * channel is usable, the web client (srv-web.c) serves the page, which signs in and joins
 * (membership is checked then). Once the channel is archived or deleted the link answers
 * here, with the reason: HTML for a browser, the API's JSON error otherwise. */
gboolean
srv_call_link_page (SrvServer *server, SoupServerMessage *msg, const char *ref)
{
  SrvRequest req = { .server = server, .msg = msg };
  const char *accept
      = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Accept");
  g_autofree char *decoded = g_uri_unescape_string (ref, NULL);
  g_autoptr (SrvChannel) ch = NULL;
  const char *code, *reason;
  guint status;

  if (decoded && decoded[0] && g_utf8_validate (decoded, -1, NULL)) {
    ch = srv_store_channel_get (server->store, decoded, NULL);
    if (ch == NULL)
      ch = srv_store_channel_get_by_name (server->store, decoded, NULL);
  }
  if (ch && ch->deleted_at == 0 && ch->archived_at == 0)
    return FALSE;
  if (ch && ch->deleted_at == 0) {
    status = SOUP_STATUS_GONE;
    code = "channel_archived";
    reason = "this call link no longer works: the channel was archived";
  } else {
    status = SOUP_STATUS_NOT_FOUND;
    code = "channel_not_found";
    reason = "this call link no longer works: the channel was deleted or never existed";
  }
  if (accept && strstr (accept, "text/html")) {
    g_autofree char *html = g_strdup_printf (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Call link</title></head>"
        "<body><h1>Call link</h1><p>%s.</p><p><a href=\"/\">Open callrec</a></p></body></html>\n",
        reason);

    soup_server_message_set_status (msg, status, NULL);
    soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_COPY, html,
                                      strlen (html));
  } else {
    srv_reply_error (&req, status, code, NULL, "%s", reason);
  }
  return TRUE;
}
