/* SPDX-License-Identifier: MIT */
#include "cr-json.h"

#include <gio/gio.h>

const char *
cr_json_string (JsonObject *object, const char *name)
{
  JsonNode *n = object ? json_object_get_member (object, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
             ? json_node_get_string (n)
             : NULL;
}

JsonObject *
cr_json_object (JsonObject *object, const char *name)
{
  JsonNode *n = object ? json_object_get_member (object, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

char *
cr_json_envelope (const char *type, gint64 seq, JsonObject *data)
{
  g_autoptr (JsonObject) root = json_object_new ();
  json_object_set_string_member (root, "type", type);
  json_object_set_int_member (root, "seq", seq);
  if (data)
    json_object_set_object_member (root, "data", json_object_ref (data));
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), root);
  return json_to_string (node, FALSE);
}

char *
cr_websocket_url (const char *server_url, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (server_url, G_URI_FLAGS_NONE, error);
  if (!uri)
    return NULL;
  const char *scheme = g_uri_get_scheme (uri);
  const char *ws_scheme = g_str_equal (scheme, "http")    ? "ws"
                          : g_str_equal (scheme, "https") ? "wss"
                                                          : NULL;
  if (!ws_scheme || !g_uri_get_host (uri)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "server URL %s: expected http://HOST:PORT or https://…", server_url);
    return NULL;
  }
  g_autoptr (GUri) ws = g_uri_build (G_URI_FLAGS_NONE, ws_scheme, NULL, g_uri_get_host (uri),
                                     g_uri_get_port (uri), "/api/v1/websocket", NULL, NULL);
  return g_uri_to_string (ws);
}
