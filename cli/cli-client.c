/* SPDX-License-Identifier: MIT */
#include "cli-client.h"

#include <libsoup/soup.h>
#include <string.h>

G_DEFINE_QUARK (cli-error-quark, cli_error)

struct _CliClient {
  SoupSession *session;
  char *base; /* http://host:port/api/v1, no trailing slash */
  char *auth; /* "Bearer …" */
};

CliClient *
cli_client_new (const char *server_url, const char *token, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autofree char *trimmed = NULL;
  CliClient *client;
  gsize len;

  if (server_url == NULL || server_url[0] == '\0') {
    g_set_error_literal (error, CLI_ERROR, CLI_ERROR_USAGE,
                         "no server: use --server URL or set CALLREC_SERVER");
    return NULL;
  }
  if (token == NULL || token[0] == '\0') {
    g_set_error_literal (error, CLI_ERROR, CLI_ERROR_USAGE,
                         "no token: use --token TOKEN or set CALLREC_TOKEN");
    return NULL;
  }
  uri = g_uri_parse (server_url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL
      || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)) {
    g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "server '%s' is not an http:// or https:// URL",
                 server_url);
    return NULL;
  }
  trimmed = g_strdup (server_url);
  len = strlen (trimmed);
  while (len > 0 && trimmed[len - 1] == '/')
    trimmed[--len] = '\0';
  if (g_str_has_suffix (trimmed, "/api/v1"))
    trimmed[len - strlen ("/api/v1")] = '\0';

  client = g_new0 (CliClient, 1);
  client->session
      = soup_session_new_with_options ("user-agent", "callrec-cli", "timeout", 60, NULL);
  client->base = g_strconcat (trimmed, "/api/v1", NULL);
  client->auth = g_strconcat ("Bearer ", token, NULL);
  return client;
}

void
cli_client_free (CliClient *client)
{
  if (client == NULL)
    return;
  g_object_unref (client->session);
  g_free (client->base);
  if (client->auth)
    memset (client->auth, 0, strlen (client->auth));
  g_free (client->auth);
  g_free (client);
}

char *
cli_segment (const char *s)
{
  return g_uri_escape_string (s, NULL, FALSE);
}

/* The server's {"error":{"code","message"}} as one line; something sensible otherwise. */
static void
set_server_error (GError **error, guint status, JsonNode *root)
{
  JsonObject *err = NULL;

  if (root && JSON_NODE_HOLDS_OBJECT (root)) {
    JsonNode *e = json_object_get_member (json_node_get_object (root), "error");

    if (e && JSON_NODE_HOLDS_OBJECT (e))
      err = json_node_get_object (e);
  }
  if (err && json_object_get_string_member_with_default (err, "message", NULL))
    g_set_error (error, CLI_ERROR, CLI_ERROR_SERVER, "%s (HTTP %u, %s)",
                 json_object_get_string_member (err, "message"), status,
                 json_object_get_string_member_with_default (err, "code", "error"));
  else
    g_set_error (error, CLI_ERROR, CLI_ERROR_SERVER, "the server answered HTTP %u %s", status,
                 soup_status_get_phrase (status));
}

JsonNode *
cli_client_call (CliClient *client, const char *method, const char *path, JsonNode *body,
                 GError **error)
{
  g_autofree char *url = g_strconcat (client->base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root = NULL;
  guint status;
  gsize len = 0;
  const char *data;

  if (msg == NULL) {
    g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "cannot make a request to %s", url);
    return NULL;
  }
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                client->auth);
  if (body) {
    g_autofree char *text = json_to_string (body, FALSE);
    g_autoptr (GBytes) bytes = g_bytes_new_take (text, strlen (text));

    text = NULL;
    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  }
  reply = soup_session_send_and_read (client->session, msg, NULL, &local);
  if (reply == NULL) {
    g_set_error (error, CLI_ERROR, CLI_ERROR_NETWORK, "cannot reach %s: %s", client->base,
                 local->message);
    return NULL;
  }
  status = soup_message_get_status (msg);
  data = g_bytes_get_data (reply, &len);
  if (len > 0 && json_parser_load_from_data (parser, data, len, NULL))
    root = json_parser_get_root (parser);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    set_server_error (error, status, root);
    return NULL;
  }
  if (root == NULL) {
    if (status == SOUP_STATUS_NO_CONTENT)
      return json_node_init_object (json_node_alloc (), json_object_new ());
    g_set_error (error, CLI_ERROR, CLI_ERROR_SERVER,
                 "the server's reply (HTTP %u) is not JSON: is %s a callrec server?", status,
                 client->base);
    return NULL;
  }
  return json_node_copy (root);
}
