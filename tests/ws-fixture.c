/* SPDX-License-Identifier: MIT */
#include "ws-fixture.h"

#include <string.h>

#define WAIT_GUARD_S 30

static gboolean
on_guard (gpointer user_data)
{
  gboolean *fired = user_data;

  *fired = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context until *@done or the guard fires (which fails the test). */
static void
run_until (gboolean *done, const char *what)
{
  gboolean fired = FALSE;
  guint guard = g_timeout_add_seconds (WAIT_GUARD_S, on_guard, &fired);

  while (!*done && !fired)
    g_main_context_iteration (NULL, TRUE);
  if (fired)
    g_error ("nothing happened for %d s while waiting for %s", WAIT_GUARD_S, what);
  g_source_remove (guard);
}

static void
on_message (SoupWebsocketConnection *conn, gint type, GBytes *bytes, gpointer user_data)
{
  Ws *ws = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *text = g_bytes_get_data (bytes, &len);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  g_assert_true (json_parser_load_from_data (parser, text, len, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  g_queue_push_tail (&ws->queue, json_node_copy (json_parser_get_root (parser)));
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer user_data)
{
  Ws *ws = user_data;

  ws->closed = TRUE;
  ws->close_code = soup_websocket_connection_get_close_code (conn);
}

typedef struct {
  gboolean done;
  SoupWebsocketConnection *conn;
  GError *error;
} ConnectResult;

static void
on_connected (GObject *source, GAsyncResult *res, gpointer user_data)
{
  ConnectResult *r = user_data;

  r->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), res, &r->error);
  r->done = TRUE;
}

static Ws *
open_socket (Server *s, const char *token, guint *http_status)
{
  g_autofree char *url = g_strconcat ("ws", s->base + strlen ("http"), "/api/v1/websocket", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  ConnectResult r = { 0 };
  Ws *ws;

  g_assert_nonnull (msg);
  if (token) {
    g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);

    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  }
  ws = g_new0 (Ws, 1);
  ws->session = soup_session_new ();
  soup_session_set_proxy_resolver (ws->session, NULL);
  ws->seen = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_queue_init (&ws->queue);
  soup_session_websocket_connect_async (ws->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, &r);
  run_until (&r.done, "the WebSocket handshake");
  if (r.conn == NULL) {
    if (http_status)
      *http_status = soup_message_get_status (msg);
    g_clear_error (&r.error);
    ws_free (ws);
    return NULL;
  }
  ws->conn = r.conn;
  /* Our server's messages can be large (SDP); the client must not be the limit. */
  soup_websocket_connection_set_max_incoming_payload_size (ws->conn, 16 * 1024 * 1024);
  g_signal_connect (ws->conn, "message", G_CALLBACK (on_message), ws);
  g_signal_connect (ws->conn, "closed", G_CALLBACK (on_closed), ws);
  return ws;
}

Ws *
ws_connect (Server *s, const char *token, guint *http_status)
{
  Ws *ws = open_socket (s, token, http_status);
  JsonObject *hello;

  if (ws == NULL || token == NULL)
    return ws;
  hello = ws_expect (ws, "hello");
  ws->session_id = g_strdup (data_string (hello, "session_id"));
  return ws;
}

Ws *
ws_connect_auth (Server *s, const char *token)
{
  Ws *ws = open_socket (s, NULL, NULL);
  g_autofree char *data = g_strdup_printf ("{\"token\":\"%s\"}", token);
  JsonObject *hello;

  g_assert_nonnull (ws);
  ws_send (ws, "auth", data);
  hello = ws_expect (ws, "hello");
  ws->session_id = g_strdup (data_string (hello, "session_id"));
  return ws;
}

void
ws_free (Ws *ws)
{
  if (ws == NULL)
    return;
  if (ws->conn) {
    g_signal_handlers_disconnect_by_data (ws->conn, ws);
    if (soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref (ws->conn);
  }
  g_queue_clear_full (&ws->queue, (GDestroyNotify) json_node_unref);
  g_ptr_array_unref (ws->seen);
  g_object_unref (ws->session);
  g_free (ws->session_id);
  g_free (ws);
}

gint64
ws_send (Ws *ws, const char *type, const char *data)
{
  g_autofree char *text
      = g_strdup_printf ("{\"type\":\"%s\",\"seq\":%" G_GINT64_FORMAT ",\"data\":%s}", type,
                         ++ws->seq, data ? data : "{}");

  soup_websocket_connection_send_text (ws->conn, text);
  return ws->seq;
}

void
ws_send_raw (Ws *ws, const char *text)
{
  soup_websocket_connection_send_text (ws->conn, text);
}

void
ws_send_binary (Ws *ws, const void *data, gsize len)
{
  soup_websocket_connection_send_binary (ws->conn, data, len);
}

static gboolean
has_message (Ws *ws)
{
  return !g_queue_is_empty (&ws->queue) || ws->closed;
}

JsonObject *
ws_next (Ws *ws)
{
  JsonNode *node;

  if (!has_message (ws)) {
    gboolean fired = FALSE;
    guint guard = g_timeout_add_seconds (WAIT_GUARD_S, on_guard, &fired);

    while (!has_message (ws) && !fired)
      g_main_context_iteration (NULL, TRUE);
    if (fired)
      g_error ("no message for %d s", WAIT_GUARD_S);
    g_source_remove (guard);
  }
  node = g_queue_pop_head (&ws->queue);
  if (node == NULL)
    g_error ("the server closed the socket (code %u) instead of sending a message", ws->close_code);
  g_ptr_array_add (ws->seen, node);
  return json_node_get_object (node);
}

static void
show (JsonObject *env)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;

  json_node_set_object (node, env);
  text = json_to_string (node, FALSE);
  g_test_message ("got: %.2000s", text);
}

JsonObject *
ws_expect (Ws *ws, const char *type)
{
  JsonObject *env = ws_next (ws);

  if (!g_str_equal (json_object_get_string_member (env, "type"), type))
    show (env);
  g_assert_cmpstr (json_object_get_string_member (env, "type"), ==, type);
  g_assert_true (json_object_get_int_member (env, "seq") > 0);
  return json_object_get_object_member (env, "data");
}

JsonObject *
ws_wait (Ws *ws, const char *type)
{
  for (;;) {
    JsonObject *env = ws_next (ws);

    if (g_str_equal (json_object_get_string_member (env, "type"), type))
      return json_object_get_object_member (env, "data");
  }
}

void
ws_expect_error (Ws *ws, const char *code, gint64 seq)
{
  JsonObject *data = ws_expect (ws, "error");

  if (!g_str_equal (data_string (data, "code"), code))
    g_test_message ("error message: %s", data_string (data, "message"));
  g_assert_cmpstr (data_string (data, "code"), ==, code);
  g_assert_nonnull (data_string (data, "message"));
  if (seq >= 0)
    g_assert_cmpint (json_object_get_int_member_with_default (data, "seq", -1), ==, seq);
  else
    g_assert_false (json_object_has_member (data, "seq"));
}

gushort
ws_wait_closed (Ws *ws)
{
  run_until (&ws->closed, "the server to close the socket");
  return ws->close_code;
}

gboolean
ws_queue_empty (Ws *ws)
{
  return g_queue_is_empty (&ws->queue);
}

const char *
data_string (JsonObject *data, const char *member)
{
  g_assert_nonnull (data);
  return json_object_get_string_member_with_default (data, member, NULL);
}
