/* SPDX-License-Identifier: MIT */
/* The HTTP side of callrec-server: the libsoup server, the route table of /api/v1,
 * bearer-token authentication with its failure limit, request-body limits, JSON replies
 * and errors, /healthz and /metrics, and the first-start bootstrap of the system admin. */
#include "srv-server-private.h"
#include "srv-recording.h"
#include "srv-ws.h"
#include "sfu.h"
#include "srv-web.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK (srv-server-error-quark, srv_server_error)

enum {
  NO_BODY = -1,
};

enum {
  ROUTE_UPLOAD = 1 << 0, /* the body is a file streamed to disk, not JSON */
  ROUTE_JOB = 1 << 1,    /* a recording job's token may use it (srv-recording.h) */
  ROUTE_WORKER = 1 << 2, /* a recording node's token may use it (worker dispatch) */
};

typedef struct {
  const char *method;
  const char *pattern; /* below /api/v1/; "{name}" matches one segment */
  SrvHandler handler;
  int shape; /* a SrvShapeId, or NO_BODY */
  guint flags;
  /* ROUTE_UPLOAD: checks the request from its headers and starts streaming the body;
   * replies an error itself and returns FALSE to refuse it unread. */
  gboolean (*begin) (SrvRequest *req);
} Route;

/* Literal segments must come before a placeholder at the same position. */
static const Route routes[] = {
  { "GET", "users/me", srv_api_users_me, NO_BODY },
  { "GET", "users", srv_api_users_list, NO_BODY },
  { "POST", "users", srv_api_users_create, SRV_SHAPE_USER_CREATE },
  { "GET", "users/{user}", srv_api_users_get, NO_BODY },
  { "POST", "users/{user}/deactivate", srv_api_users_deactivate, NO_BODY },
  { "POST", "users/{user}/tokens", srv_api_tokens_create, SRV_SHAPE_TOKEN_CREATE },
  { "POST", "channels", srv_api_channels_create, SRV_SHAPE_CHANNEL_CREATE },
  { "GET", "channels", srv_api_channels_list, NO_BODY },
  { "GET", "channels/{channel}", srv_api_channels_get, NO_BODY },
  { "DELETE", "channels/{channel}", srv_api_channels_delete, NO_BODY },
  { "POST", "channels/{channel}/archive", srv_api_channels_archive, NO_BODY },
  { "GET", "channels/{channel}/members", srv_api_members_list, NO_BODY },
  { "POST", "channels/{channel}/members", srv_api_members_add, SRV_SHAPE_MEMBER_ADD },
  { "DELETE", "channels/{channel}/members/{user}", srv_api_members_remove, NO_BODY },
  { "GET", "channels/{channel}/posts", srv_api_posts_list, NO_BODY },
  { "POST", "channels/{channel}/posts", srv_api_posts_create, SRV_SHAPE_POST_CREATE },
  { "POST", "channels/{channel}/files", srv_api_files_upload_finish, NO_BODY, ROUTE_UPLOAD,
    srv_api_files_upload_begin },
  { "GET", "files/{file}", srv_api_files_get, NO_BODY },
  { "GET", "files/{file}/info", srv_api_files_info, NO_BODY },
  { "POST", "uploads", srv_api_uploads_create, SRV_SHAPE_UPLOAD_CREATE, ROUTE_JOB },
  { "GET", "uploads/{upload}", srv_api_uploads_get, NO_BODY, ROUTE_JOB },
  { "PUT", "uploads/{upload}", srv_api_uploads_append_finish, NO_BODY, ROUTE_UPLOAD | ROUTE_JOB,
    srv_api_uploads_append_begin },
  { "PATCH", "uploads/{upload}", srv_api_uploads_append_finish, NO_BODY,
    ROUTE_UPLOAD | ROUTE_JOB, srv_api_uploads_append_begin },
  { "POST", "uploads/{upload}/complete", srv_api_uploads_complete, SRV_SHAPE_UPLOAD_COMPLETE,
    ROUTE_JOB },
  { "POST", "jobs/claim", srv_api_jobs_claim, NO_BODY, ROUTE_WORKER },
  { "POST", "jobs/{job}/status", srv_api_jobs_status, SRV_SHAPE_JOB_STATUS, ROUTE_JOB },
  { "POST", "jobs/{job}/heartbeat", srv_api_jobs_heartbeat, NO_BODY, ROUTE_WORKER },
  { "POST", "jobs/{job}/release", srv_api_jobs_release, NO_BODY, ROUTE_WORKER },
  { "POST", "jobs/{job}/hand-back", srv_api_jobs_hand_back, NO_BODY, ROUTE_WORKER },
  { "GET", "channels/{channel}/call-link", srv_api_channels_call_link, NO_BODY },
  { "GET", "calls/{channel}", srv_api_calls_get, NO_BODY },
  { "POST", "calls/{channel}/start", srv_api_calls_start, NO_BODY },
  { "POST", "calls/{channel}/join", srv_api_calls_join, NO_BODY },
  { "POST", "calls/{channel}/leave", srv_api_calls_leave, NO_BODY },
  { "POST", "calls/{channel}/end", srv_api_calls_end, NO_BODY },
  /* The body is the client's own stats object: srv_api_calls_stats_post() checks it. */
  { "POST", "calls/{channel}/stats", srv_api_calls_stats_post, NO_BODY },
  { "GET", "calls/{channel}/stats", srv_api_calls_stats_get, NO_BODY },
  { "GET", "calls/{channel}/sfu-stats", srv_api_calls_sfu_stats, NO_BODY },
  { "POST", "calls/{channel}/recording/start", srv_api_calls_recording, NO_BODY },
  { "POST", "calls/{channel}/recording/stop", srv_api_calls_recording, NO_BODY },
};

/* RFC 6585; libsoup 3.2 has no name for it. */
#define STATUS_TOO_MANY_REQUESTS 429

#define API_PREFIX "/api/v1/"

/* Matches @path against the table. Returns the route, or NULL with *@path_known set if
 * some route has this path with another method (405 rather than 404). */
static const Route *
match_route (const char *path, const char *method, char **params, gboolean *path_known)
{
  g_auto (GStrv) segs = NULL;
  guint n_segs;

  *path_known = FALSE;
  if (!g_str_has_prefix (path, API_PREFIX))
    return NULL;
  segs = g_strsplit (path + strlen (API_PREFIX), "/", -1);
  n_segs = g_strv_length (segs);
  for (gsize r = 0; r < G_N_ELEMENTS (routes); r++) {
    g_auto (GStrv) pat = g_strsplit (routes[r].pattern, "/", -1);
    guint n_params = 0;
    gboolean ok = g_strv_length (pat) == n_segs;

    for (guint i = 0; ok && i < n_segs; i++) {
      if (pat[i][0] == '{')
        ok = segs[i][0] != '\0';
      else
        ok = g_str_equal (pat[i], segs[i]);
    }
    if (!ok)
      continue;
    if (!g_str_equal (routes[r].method, method)) {
      *path_known = TRUE;
      continue;
    }
    for (guint i = 0; i < n_segs; i++) {
      if (pat[i][0] == '{' && n_params < G_N_ELEMENTS (((SrvRequest *) NULL)->params))
        params[n_params++] = g_strdup (segs[i]);
    }
    return &routes[r];
  }
  return NULL;
}

/* ---- replies ---- */

void
srv_reply_json (SrvRequest *req, guint status, JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  gsize len = 0;
  char *data;

  json_generator_set_root (gen, node);
  data = json_generator_to_data (gen, &len);
  soup_server_message_set_status (req->msg, status, NULL);
  soup_server_message_set_response (req->msg, "application/json", SOUP_MEMORY_TAKE, data, len);
}

void
srv_reply_error (SrvRequest *req, guint status, const char *code, const char *field,
                 const char *format, ...)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  if (field) {
    json_builder_set_member_name (b, "field");
    json_builder_add_string_value (b, field);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  srv_reply_json (req, status, root);
}

void
srv_reply_store_error (SrvRequest *req, const GError *error, const char *what)
{
  if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
    srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "%s not found", what);
  } else if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT)) {
    srv_reply_error (req, SOUP_STATUS_CONFLICT, "conflict", NULL, "%s: %s", what, error->message);
  } else {
    g_warning ("store: %s", error ? error->message : "unknown failure");
    srv_reply_error (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", NULL,
                     "internal error (see the server log)");
  }
}

void
srv_reply_empty (SrvRequest *req, guint status)
{
  soup_server_message_set_status (req->msg, status, NULL);
}

/* ---- auth ---- */

SrvUser *
srv_request_authenticate (SrvRequest *req)
{
  SrvServer *server = req->server;
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (req->msg);
  const char *auth = soup_message_headers_get_one (hdrs, "Authorization");
  const char *addr = soup_server_message_get_remote_host (req->msg);
  gint64 now = g_get_monotonic_time ();
  guint retry = 0;
  g_autofree char *hash = NULL;
  g_autoptr (GError) error = NULL;
  SrvUser *user;

  if (!srv_auth_limiter_allow (server->limiter, addr, now, &retry)) {
    g_autofree char *retry_s = g_strdup_printf ("%u", retry);

    soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                  "Retry-After", retry_s);
    srv_reply_error (req, STATUS_TOO_MANY_REQUESTS, "rate_limited", NULL,
                     "too many failed authentications from this address; retry in %u s", retry);
    return NULL;
  }
  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0 || auth[7] == '\0') {
    srv_reply_error (req, SOUP_STATUS_UNAUTHORIZED, "unauthorized", NULL,
                     "an 'Authorization: Bearer TOKEN' header is required");
    return NULL;
  }
  hash = srv_auth_token_hash (auth + 7);
  user = srv_store_token_lookup (server->store, hash, &error);
  if (user == NULL) {
    if (!g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
      srv_reply_store_error (req, error, "token");
      return NULL;
    }
    srv_auth_limiter_fail (server->limiter, addr, now);
    server->auth_failures++;
    g_debug ("auth: unknown token from %s", addr ? addr : "?");
    srv_reply_error (req, SOUP_STATUS_UNAUTHORIZED, "invalid_token", NULL,
                     "the token is not valid");
    return NULL;
  }
  if (user->deactivated) {
    srv_reply_error (req, SOUP_STATUS_UNAUTHORIZED, "user_deactivated", NULL,
                     "user '%s' is deactivated", user->username);
    srv_user_free (user);
    return NULL;
  }
  return user;
}

gboolean
srv_request_is_admin (SrvRequest *req)
{
  return req->user && req->user->role == SRV_ROLE_SYSTEM_ADMIN;
}

/* ---- dispatch ---- */

/* A recording job's token reaches only the routes marked ROUTE_JOB: replies 403 itself
 * and returns FALSE otherwise. */
static gboolean
job_route_allowed (SrvRequest *req, const Route *route)
{
  /* A recording node's token reaches only the worker routes. */
  if (srv_recording_is_worker_user (req->user)) {
    if (route->flags & ROUTE_WORKER)
      return TRUE;
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "worker_token", NULL,
                     "a recording node's token is valid only for claiming jobs");
    return FALSE;
  }
  if ((route->flags & ROUTE_JOB) || !srv_recording_is_job_user (req->server, req->user))
    return TRUE;
  srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "job_token", NULL,
                   "a recording job's token is valid only for its job's uploads and status");
  return FALSE;
}

static void
request_clear (SrvRequest *req)
{
  g_clear_pointer (&req->user, srv_user_free);
  for (gsize i = 0; i < G_N_ELEMENTS (req->params); i++)
    g_clear_pointer (&req->params[i], g_free);
}

static void
handle_api (SrvServer *server, SoupServerMessage *msg, const char *path, GHashTable *query)
{
  SrvRequest req = { .server = server, .msg = msg, .query = query };
  const char *method = soup_server_message_get_method (msg);
  gboolean path_known = FALSE;
  const Route *route = match_route (path, method, req.params, &path_known);
  g_autoptr (JsonObject) body = NULL;

  if (route == NULL) {
    request_clear (&req);
    if (path_known)
      srv_reply_error (&req, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", NULL,
                       "%s is not supported here", method);
    else
      srv_reply_error (&req, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no such endpoint");
    return;
  }
  req.user = srv_request_authenticate (&req);
  if (req.user == NULL || !job_route_allowed (&req, route)) {
    request_clear (&req);
    return;
  }
  if (route->shape != NO_BODY) {
    SoupMessageBody *rb = soup_server_message_get_request_body (msg);
    g_autoptr (GBytes) bytes = soup_message_body_flatten (rb);
    g_autoptr (GError) error = NULL;
    g_autofree char *field = NULL;
    gsize len = 0;
    const char *data = g_bytes_get_data (bytes, &len);

    body = srv_shape_parse (route->shape, data, len, &field, &error);
    if (body == NULL) {
      srv_reply_error (&req, SOUP_STATUS_BAD_REQUEST, field ? "invalid_field" : "malformed_json",
                       field, "%s", error->message);
      request_clear (&req);
      return;
    }
  }
  route->handler (&req, body);
  request_clear (&req);
}

/* Runs after the headers, before the body: refuses a body that is too large before it is
 * read, and starts streaming uploads to disk. */
static void
early_handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  SrvServer *server = user_data;
  SrvRequest req = { .server = server, .msg = msg, .query = query };
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (hdrs);
  gboolean path_known;
  const Route *route
      = match_route (path, soup_server_message_get_method (msg), req.params, &path_known);
  gint64 limit = server->config->max_body_bytes;

  if (encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                  "close");
    srv_reply_error (&req, SOUP_STATUS_LENGTH_REQUIRED, "length_required", NULL,
                     "request bodies need a Content-Length");
    request_clear (&req);
    return;
  }
  if (route && (route->flags & ROUTE_UPLOAD))
    limit = server->config->max_upload_bytes;
  if (soup_message_headers_get_content_length (hdrs) > limit) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                  "close");
    srv_reply_error (&req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
                     "the body is larger than %" G_GINT64_FORMAT " bytes", limit);
    request_clear (&req);
    return;
  }
  if (route && (route->flags & ROUTE_UPLOAD)) {
    req.user = srv_request_authenticate (&req);
    if (req.user && !job_route_allowed (&req, route))
      g_clear_pointer (&req.user, srv_user_free);
    if (req.user && !route->begin (&req))
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                    "close");
    else if (req.user == NULL)
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                    "close");
  }
  request_clear (&req);
}

static void
append_metric (GString *out, const char *name, const char *type, const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
compare_status (gconstpointer a, gconstpointer b)
{
  return (int) GPOINTER_TO_UINT (a) - (int) GPOINTER_TO_UINT (b);
}

static void
handle_metrics (SrvServer *server, SoupServerMessage *msg)
{
  GString *out = g_string_new (NULL);
  g_autoptr (GList) statuses = g_hash_table_get_keys (server->requests_by_status);

  append_metric (out, "callrec_http_requests_total", "counter",
                 "HTTP requests answered, by status code.");
  statuses = g_list_sort (statuses, compare_status);
  for (GList *l = statuses; l; l = l->next) {
    gsize n = GPOINTER_TO_SIZE (g_hash_table_lookup (server->requests_by_status, l->data));

    g_string_append_printf (out, "callrec_http_requests_total{status=\"%u\"} %" G_GSIZE_FORMAT "\n",
                            GPOINTER_TO_UINT (l->data), n);
  }
  append_metric (out, "callrec_auth_failures_total", "counter",
                 "Requests refused for an unknown token.");
  g_string_append_printf (out, "callrec_auth_failures_total %" G_GUINT64_FORMAT "\n",
                          server->auth_failures);
  append_metric (out, "callrec_websockets_open", "gauge", "Open WebSocket sessions.");
  g_string_append_printf (out, "callrec_websockets_open %u\n", server->websockets_open);
  append_metric (out, "callrec_calls_active", "gauge", "Calls running.");
  g_string_append_printf (out, "callrec_calls_active %u\n", srv_calls_count (server));
  append_metric (out, "callrec_call_participants", "gauge",
                 "People in running calls (recording bots not counted).");
  g_string_append_printf (out, "callrec_call_participants %u\n",
                          srv_calls_count_participants (server));
  append_metric (out, "callrec_db_size_bytes", "gauge",
                 "Size of the database on disk, write-ahead log included.");
  g_string_append_printf (out, "callrec_db_size_bytes %" G_GINT64_FORMAT "\n",
                          srv_store_size (server->store));
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4; charset=utf-8",
                                    SOUP_MEMORY_TAKE, out->str, out->len);
  g_string_free (out, FALSE);
}

static void
handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  SrvServer *server = user_data;
  const char *method = soup_server_message_get_method (msg);

  if (g_str_has_prefix (path, API_PREFIX)) {
    handle_api (server, msg, path, query);
  } else if (g_str_equal (path, "/healthz") && g_str_equal (method, "GET")) {
    const char *ok = "{\"status\":\"ok\"}";

    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, ok, strlen (ok));
  } else if (g_str_equal (path, "/metrics") && g_str_equal (method, "GET")) {
    handle_metrics (server, msg);
  } else if (g_str_has_prefix (path, "/call/") && strchr (path + 6, '/') == NULL
             && srv_call_link_page (server, msg, path + 6)) {
    /* a call link whose channel is gone: answered with the reason */
  } else if (!srv_web_handle (server, msg, path)) {
    SrvRequest req = { .server = server, .msg = msg };

    srv_reply_error (&req, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no such page");
  }
}

static void
on_request_finished (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  SrvServer *server = user_data;
  gpointer key = GUINT_TO_POINTER (soup_server_message_get_status (msg));
  gsize n = GPOINTER_TO_SIZE (g_hash_table_lookup (server->requests_by_status, key));

  g_hash_table_insert (server->requests_by_status, key, GSIZE_TO_POINTER (n + 1));
  /* The path only: queries may carry user text, and headers carry tokens. */
  g_debug ("%s %s %u", soup_server_message_get_method (msg),
           g_uri_get_path (soup_server_message_get_uri (msg)),
           soup_server_message_get_status (msg));
}

/* A fresh store gets a system admin, whose token goes to DIR/admin.token (0600, created
 * exclusively so that an existing file is never overwritten or followed as a link). */
static gboolean
bootstrap_admin (SrvServer *server, GError **error)
{
  g_autoptr (SrvUser) admin = NULL;
  g_autoptr (SrvToken) token = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *path = g_build_filename (server->config->data_dir, "admin.token", NULL);
  g_autofree char *line = NULL;
  gint64 n = srv_store_user_count (server->store, error);
  int fd;

  if (n != 0)
    return n > 0;
  admin = srv_store_user_create (server->store, "admin", "System Admin", SRV_ROLE_SYSTEM_ADMIN,
                                 error);
  if (admin == NULL)
    return FALSE;
  token = srv_auth_token_create (server->store, admin->id, "admin.token", &secret, error);
  if (token == NULL)
    return FALSE;
  line = g_strconcat (secret, "\n", NULL);
  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || write (fd, line, strlen (line)) != (ssize_t) strlen (line) || fsync (fd) != 0) {
    int saved = errno;

    if (fd >= 0)
      close (fd);
    g_set_error (error, SRV_SERVER_ERROR, 0, "cannot write %s: %s", path, g_strerror (saved));
    return FALSE;
  }
  close (fd);
  memset (line, 0, strlen (line));
  memset (secret, 0, strlen (secret));
  g_message ("created system admin 'admin'; its token is in %s", path);
  return TRUE;
}

static gboolean
make_dir (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0700) != 0) {
    int saved = errno;

    g_set_error (error, SRV_SERVER_ERROR, 0, "cannot create %s: %s", path, g_strerror (saved));
    return FALSE;
  }
  return TRUE;
}

SrvServer *
srv_server_new (const SrvConfig *config, GError **error)
{
  g_autoptr (SrvServer) server = g_new0 (SrvServer, 1);
  g_autofree char *host = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  GSList *uris;
  guint port;

  server->config = config;
  if (!srv_config_parse_listen (config->listen, &host, &port, error))
    return NULL;
  server->files_dir = g_build_filename (config->data_dir, "files", NULL);
  if (!make_dir (config->data_dir, error) || !make_dir (server->files_dir, error))
    return NULL;
  server->store = srv_store_open (config->data_dir, error);
  if (server->store == NULL || !bootstrap_admin (server, error))
    return NULL;
  server->limiter = srv_auth_limiter_new (config->auth_failures_per_minute);
  server->requests_by_status = g_hash_table_new (NULL, NULL);
  if (!srv_calls_init (server, error) || !srv_recording_init (server, error)
      || !srv_calls_media_start (server, error))
    return NULL;

  server->soup = soup_server_new ("server-header", "callrec-server", NULL);
  soup_server_add_early_handler (server->soup, NULL, early_handler, server, NULL);
  soup_server_add_handler (server->soup, NULL, handler, server, NULL);
  g_signal_connect (server->soup, "request-finished", G_CALLBACK (on_request_finished), server);
  srv_ws_init (server);

  inet = g_inet_address_new_from_string (host);
  addr = g_inet_socket_address_new (inet, port);
  if (!soup_server_listen (server->soup, addr, 0, error)) {
    g_prefix_error (error, "cannot listen on %s: ", config->listen);
    return NULL;
  }
  uris = soup_server_get_uris (server->soup);
  if (uris)
    server->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return g_steal_pointer (&server);
}

void
srv_server_free (SrvServer *server)
{
  if (server == NULL)
    return;
  /* Calls first (their sessions hear call_end), then the sockets, then the SFU. */
  srv_calls_shutdown (server);
  srv_recording_shutdown (server);
  srv_ws_shutdown (server);
  srv_calls_media_stop (server);
  if (server->soup) {
    soup_server_disconnect (server->soup);
    g_object_unref (server->soup);
  }
  srv_api_uploads_shutdown (server); /* after the messages that may stream into uploads */
  g_clear_pointer (&server->limiter, srv_auth_limiter_free);
  g_clear_pointer (&server->store, srv_store_close);
  g_clear_pointer (&server->requests_by_status, g_hash_table_unref);
  g_free (server->files_dir);
  g_free (server);
}

guint
srv_server_get_port (SrvServer *server)
{
  return server->port;
}
