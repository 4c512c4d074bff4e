/* SPDX-License-Identifier: MIT */
/* The upload client (rec-upload.h): one request in flight at a time, driven by step(),
 * which looks at what is known (session, server offset, file size) and sends the next
 * request or waits. Every reply, failure or timer leads back to step(). */
#include "rec-upload.h"
#include "rec-upload-reply.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK (rec - upload - error - quark, rec_upload_error)

/* The head of the file is kept as sent, to catch a writer that rewrote it afterwards
 * (mp4mux's moov sits in the first kilobytes). */
#define HEAD_CHECK (64 * 1024)
#define HASH_BLOCK (1024 * 1024)
/* A session is started over in full at most this often (a rewritten head, a checksum the
 * server disputes, a session the server lost) before the upload fails. */
#define MAX_RESTARTS 2
/* 409s with an offset move us to the server's offset at once; this many in a row mean
 * something else is wrong, and backoff applies. */
#define MAX_QUICK_RESYNCS 3

typedef enum {
  REQ_CREATE,
  REQ_GET,
  REQ_APPEND,
  REQ_COMPLETE,
} RequestKind;

static const char *const request_names[] = { "create", "query", "append", "complete" };

typedef struct {
  RecUpload *up; /* NULL once the upload is gone: the reply is dropped */
  SoupMessage *msg;
  RequestKind kind;
} Request;

struct _RecUpload {
  RecUploadConfig config; /* owned copies */
  RecUploadProgressFunc progress;
  RecUploadDoneFunc done;
  gpointer user_data;

  SoupSession *session;
  GCancellable *cancellable;
  Request *request; /* in flight, or NULL */
  guint timer;      /* pending step(), or 0 */
  char *base;       /* the server URL without its trailing slash */

  char *upload_id;
  gint64 offset;         /* bytes the server holds, as last heard */
  gboolean offset_known; /* FALSE after a failure: ask before appending */
  gboolean finishing;    /* the file will not grow any more */
  gboolean tick;         /* following: the poll timer fired, send even a small append */
  gboolean ended;
  guint failures;      /* consecutive */
  guint quick_resyncs; /* consecutive 409s answered without delay */
  guint restarts;
  gint64 last_success_us; /* monotonic */
  gint64 last_log_us;

  int fd;          /* the local file, -1 until opened */
  GChecksum *hash; /* of the file's first @hashed bytes, in order */
  gint64 hashed;
  GByteArray *head; /* the first HEAD_CHECK bytes hashed */
  char *sha256;     /* the final hash, once complete is sent */
  gint64 size;      /* the final size */
};

void
rec_upload_config_init (RecUploadConfig *config)
{
  memset (config, 0, sizeof *config);
  config->chunk_bytes = 4 * 1024 * 1024;
  config->poll_ms = 2000;
  config->backoff_min_ms = 500;
  config->backoff_max_ms = 10000;
  config->progress_every_s = 10;
}

void
rec_upload_config_clear (RecUploadConfig *config)
{
  g_free (config->server);
  if (config->token)
    memset (config->token, 0, strlen (config->token));
  g_free (config->token);
  g_free (config->channel);
  g_free (config->path);
  g_free (config->name);
  g_free (config->content_type);
  g_free (config->upload_id);
  g_free (config->post_message);
  g_free (config->post_root_id);
  g_free (config->post_props);
  memset (config, 0, sizeof *config);
}

static void step (RecUpload *up);

/* ---- the end ---- */

static void
request_drop (RecUpload *up)
{
  if (up->request) {
    up->request->up = NULL;
    up->request = NULL;
    g_cancellable_cancel (up->cancellable);
  }
  if (up->timer) {
    g_source_remove (up->timer);
    up->timer = 0;
  }
}

/* Reports the end. The callback may free @up: nothing touches it afterwards. */
static void
finish (RecUpload *up, const char *file_id, GError *error)
{
  g_autoptr (GError) owned = error;

  up->ended = TRUE;
  request_drop (up);
  if (error)
    g_warning ("upload of %s failed: %s (the file is kept)", up->config.path, error->message);
  if (up->done)
    up->done (up, file_id, error, up->user_data);
}

static void G_GNUC_PRINTF (3, 4) fail (RecUpload *up, RecUploadError code, const char *format, ...)
{
  va_list ap;
  GError *error;

  va_start (ap, format);
  error = g_error_new_valist (REC_UPLOAD_ERROR, code, format, ap);
  va_end (ap);
  finish (up, NULL, error);
}

/* ---- the local file ---- */

static gboolean
ensure_open (RecUpload *up, GError **error)
{
  if (up->fd >= 0)
    return TRUE;
  up->fd = g_open (up->config.path, O_RDONLY | O_CLOEXEC, 0);
  if (up->fd < 0) {
    int saved = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot open %s: %s",
                 up->config.path, g_strerror (saved));
    return FALSE;
  }
  return TRUE;
}

static gint64
file_size (RecUpload *up)
{
  struct stat sb;

  return fstat (up->fd, &sb) == 0 ? sb.st_size : -1;
}

/* Reads exactly @len bytes at @pos. */
static gboolean
read_at (RecUpload *up, guint8 *buf, gsize len, gint64 pos)
{
  gsize done = 0;

  while (done < len) {
    ssize_t n = pread (up->fd, buf + done, len - done, pos + done);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    done += n;
  }
  return TRUE;
}

/* Folds bytes [@pos, @pos + @len) of the file, held in @data, into the running hash where
 * they extend it. */
static void
hash_bytes (RecUpload *up, const guint8 *data, gsize len, gint64 pos)
{
  gint64 skip = up->hashed - pos;

  if (skip < 0 || skip >= (gint64)len)
    return;
  data += skip;
  len -= skip;
  if (up->hashed < HEAD_CHECK)
    g_byte_array_append (up->head, data, MIN ((gint64)len, HEAD_CHECK - up->hashed));
  g_checksum_update (up->hash, data, len);
  up->hashed += len;
}

/* Hashes the file up to @end from where the hash stands (a resumed session whose first
 * bytes another process sent). */
static gboolean
hash_up_to (RecUpload *up, gint64 end)
{
  g_autofree guint8 *buf = NULL;

  while (up->hashed < end) {
    gsize n = MIN (HASH_BLOCK, end - up->hashed);

    if (buf == NULL)
      buf = g_malloc (HASH_BLOCK);
    if (!read_at (up, buf, n, up->hashed))
      return FALSE;
    hash_bytes (up, buf, n, up->hashed);
  }
  return TRUE;
}

/* TRUE if the file still starts with the bytes that were hashed (and sent). */
static gboolean
head_unchanged (RecUpload *up)
{
  g_autofree guint8 *now = g_malloc (MAX (up->head->len, 1));

  return read_at (up, now, up->head->len, 0) && memcmp (now, up->head->data, up->head->len) == 0;
}

static void
reset_session (RecUpload *up, const char *why)
{
  g_warning ("upload of %s: %s; sending the whole file again in a new session", up->config.path,
             why);
  up->restarts++;
  g_clear_pointer (&up->upload_id, g_free);
  up->offset = 0;
  up->offset_known = FALSE;
  g_checksum_reset (up->hash);
  up->hashed = 0;
  g_byte_array_set_size (up->head, 0);
  g_clear_pointer (&up->sha256, g_free);
}

/* ---- requests ---- */

static void on_reply (GObject *source, GAsyncResult *result, gpointer user_data);

static SoupMessage *
new_message (RecUpload *up, const char *method, const char *path)
{
  g_autofree char *url = g_strconcat (up->base, "/api/v1/", path, NULL);
  g_autofree char *auth = g_strconcat ("Bearer ", up->config.token, NULL);
  SoupMessage *msg = soup_message_new (method, url);

  /* The base URL was checked and ids are [A-Za-z0-9_-]: this cannot fail. */
  g_assert (msg != NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  memset (auth, 0, strlen (auth));
  return msg;
}

static void
send_request (RecUpload *up, SoupMessage *msg, RequestKind kind)
{
  Request *req = g_new0 (Request, 1);

  req->up = up;
  req->msg = msg;
  req->kind = kind;
  up->request = req;
  g_cancellable_reset (up->cancellable);
  soup_session_send_and_read_async (up->session, msg, G_PRIORITY_DEFAULT, up->cancellable, on_reply,
                                    req);
}

static void
set_json_body (SoupMessage *msg, JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (GBytes) bytes = NULL;
  gsize len = 0;
  char *text;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  bytes = g_bytes_new_take (text, len);
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
}

static void
send_create (RecUpload *up)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *base = g_path_get_basename (up->config.path);
  SoupMessage *msg = new_message (up, "POST", "uploads");

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "channel");
  json_builder_add_string_value (b, up->config.channel);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, up->config.name ? up->config.name : base);
  json_builder_set_member_name (b, "content_type");
  json_builder_add_string_value (b,
                                 up->config.content_type ? up->config.content_type : "video/mp4");
  json_builder_end_object (b);
  set_json_body (msg, b);
  send_request (up, msg, REQ_CREATE);
}

static void
send_get (RecUpload *up)
{
  g_autofree char *path = g_strconcat ("uploads/", up->upload_id, NULL);

  send_request (up, new_message (up, "GET", path), REQ_GET);
}

static void
send_append (RecUpload *up, gint64 size)
{
  gsize len = MIN ((gint64)up->config.chunk_bytes, size - up->offset);
  g_autofree char *path
      = g_strdup_printf ("uploads/%s?offset=%" G_GINT64_FORMAT, up->upload_id, up->offset);
  guint8 *buf;
  GBytes *bytes;
  SoupMessage *msg;

  if (!hash_up_to (up, up->offset)) {
    fail (up, REC_UPLOAD_ERROR_FILE, "cannot read %s: %s", up->config.path, g_strerror (errno));
    return;
  }
  buf = g_malloc (len);
  if (!read_at (up, buf, len, up->offset)) {
    g_free (buf);
    fail (up, REC_UPLOAD_ERROR_FILE, "cannot read %s at %" G_GINT64_FORMAT, up->config.path,
          up->offset);
    return;
  }
  hash_bytes (up, buf, len, up->offset);
  bytes = g_bytes_new_take (buf, len);
  msg = new_message (up, "PUT", path);
  soup_message_set_request_body_from_bytes (msg, "application/octet-stream", bytes);
  g_bytes_unref (bytes);
  up->tick = FALSE;
  send_request (up, msg, REQ_APPEND);
}

static void
send_complete (RecUpload *up, gint64 size)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *path = g_strconcat ("uploads/", up->upload_id, "/complete", NULL);
  g_autoptr (GChecksum) copy = NULL;
  SoupMessage *msg;

  if (!hash_up_to (up, size)) {
    fail (up, REC_UPLOAD_ERROR_FILE, "cannot read %s", up->config.path);
    return;
  }
  copy = g_checksum_copy (up->hash); /* get_string closes a checksum */
  g_free (up->sha256);
  up->sha256 = g_strdup (g_checksum_get_string (copy));
  up->size = size;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sha256");
  json_builder_add_string_value (b, up->sha256);
  if (up->config.post_message) {
    json_builder_set_member_name (b, "post");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, up->config.post_message);
    if (up->config.post_root_id) {
      json_builder_set_member_name (b, "root_id");
      json_builder_add_string_value (b, up->config.post_root_id);
    }
    if (up->config.post_props) {
      /* Checked to parse in rec_upload_new(). */
      json_builder_set_member_name (b, "props");
      json_builder_add_value (b, json_from_string (up->config.post_props, NULL));
    }
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  msg = new_message (up, "POST", path);
  set_json_body (msg, b);
  send_request (up, msg, REQ_COMPLETE);
}

/* ---- what next ---- */

static gboolean
on_timer (gpointer user_data)
{
  RecUpload *up = user_data;

  up->timer = 0;
  step (up);
  return G_SOURCE_REMOVE;
}

static void
schedule (RecUpload *up, guint ms)
{
  if (up->timer)
    g_source_remove (up->timer);
  up->timer = g_timeout_add (ms, on_timer, up);
}

static gboolean
on_poll (gpointer user_data)
{
  RecUpload *up = user_data;

  up->timer = 0;
  up->tick = TRUE;
  step (up);
  return G_SOURCE_REMOVE;
}

static void
step (RecUpload *up)
{
  g_autoptr (GError) error = NULL;
  gint64 size;

  if (up->ended || up->request || up->timer)
    return;
  if (up->upload_id == NULL) {
    send_create (up);
    return;
  }
  if (!up->offset_known) {
    send_get (up);
    return;
  }
  if (!ensure_open (up, &error)) {
    /* A followed file may not exist yet. */
    if (up->config.follow && !up->finishing
        && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
      up->timer = g_timeout_add (up->config.poll_ms, on_poll, up);
      return;
    }
    fail (up, REC_UPLOAD_ERROR_FILE, "%s", error->message);
    return;
  }
  size = file_size (up);
  if (size < up->offset) {
    fail (up, REC_UPLOAD_ERROR_FILE,
          "%s has %" G_GINT64_FORMAT " bytes, fewer than the %" G_GINT64_FORMAT " the server holds",
          up->config.path, size, up->offset);
    return;
  }
  if (up->offset < size) {
    /* While the file grows, whole chunks go at once and a partial one on each poll. */
    if (!up->config.follow || up->finishing || up->tick
        || size - up->offset >= (gint64)up->config.chunk_bytes)
      send_append (up, size);
    else
      up->timer = g_timeout_add (up->config.poll_ms, on_poll, up);
    return;
  }
  if (up->config.follow && !up->finishing) {
    up->timer = g_timeout_add (up->config.poll_ms, on_poll, up);
    return;
  }
  if (up->restarts < MAX_RESTARTS && !head_unchanged (up)) {
    reset_session (up, "its first bytes changed after they were sent (the writer rewrote them)");
    step (up);
    return;
  }
  send_complete (up, size);
}

static void
retry (RecUpload *up, const char *why)
{
  gint64 now = g_get_monotonic_time ();
  guint delay = up->config.backoff_min_ms;

  up->failures++;
  up->offset_known = FALSE;
  if (up->config.give_up_after_s > 0
      && now - up->last_success_us > up->config.give_up_after_s * G_USEC_PER_SEC) {
    fail (up, REC_UPLOAD_ERROR_GAVE_UP, "no progress for %.0f s; last failure: %s",
          up->config.give_up_after_s, why);
    return;
  }
  for (guint i = 1; i < up->failures && delay < up->config.backoff_max_ms; i++)
    delay *= 2;
  delay = MIN (delay, up->config.backoff_max_ms);
  /* Several recorders cut off by one outage should not come back in step. */
  delay = delay * g_random_double_range (0.8, 1.0);
  g_warning ("upload of %s: %s; retrying in %.1f s", up->config.path, why, delay / 1000.0);
  schedule (up, delay);
}

static void
succeeded (RecUpload *up)
{
  up->failures = 0;
  up->quick_resyncs = 0;
  up->last_success_us = g_get_monotonic_time ();
}

static void
report_progress (RecUpload *up)
{
  gint64 now = g_get_monotonic_time ();
  gint64 total = MAX (file_size (up), up->offset);

  if (now - up->last_log_us >= up->config.progress_every_s * G_USEC_PER_SEC) {
    up->last_log_us = now;
    g_message ("upload of %s: %.1f of %.1f MB sent", up->config.path, up->offset / 1e6,
               total / 1e6);
  }
  if (up->progress)
    up->progress (up, up->offset, total, up->user_data);
}

static void
on_complete_ok (RecUpload *up, const RecUploadReply *reply)
{
  g_autofree char *file_id = NULL;

  if (g_strcmp0 (reply->file_sha256, up->sha256) != 0 || reply->file_size != up->size) {
    fail (up, REC_UPLOAD_ERROR_CHECKSUM, "the server stored other bytes than the file's");
    return;
  }
  file_id = g_strdup (reply->file_id);
  g_message ("upload of %s complete: file %s, %" G_GINT64_FORMAT " bytes, sha256 %s",
             up->config.path, file_id, up->size, up->sha256);
  if (!up->config.keep_file) {
    if (g_unlink (up->config.path) != 0)
      g_warning ("cannot remove %s: %s", up->config.path, g_strerror (errno));
  }
  up->ended = TRUE;
  finish (up, file_id, NULL);
}

/* A reply other than success: a new position, a retry, a fresh start, or the end. */
static void
on_refused (RecUpload *up, RequestKind kind, guint status, const RecUploadReply *reply)
{
  const char *code = reply->error_code ? reply->error_code : "";
  const char *message
      = reply->error_message ? reply->error_message : soup_status_get_phrase (status);

  if (status == SOUP_STATUS_CONFLICT && reply->offset >= 0 && !g_str_equal (code, "upload_busy")) {
    /* offset_mismatch (an append we thought lost had arrived) or upload_completed. */
    up->offset = reply->offset;
    up->offset_known = TRUE;
    if (++up->quick_resyncs <= MAX_QUICK_RESYNCS) {
      g_message ("upload of %s: the server holds %" G_GINT64_FORMAT " bytes; going on from there",
                 up->config.path, up->offset);
      step (up);
    } else {
      retry (up, message);
    }
    return;
  }
  if (status == SOUP_STATUS_UNPROCESSABLE_ENTITY && kind == REQ_COMPLETE
      && up->restarts < MAX_RESTARTS) {
    reset_session (up, "the server's bytes do not match the file's SHA-256");
    step (up);
    return;
  }
  if (status == SOUP_STATUS_UNPROCESSABLE_ENTITY) {
    fail (up, REC_UPLOAD_ERROR_CHECKSUM, "%s", message);
    return;
  }
  if (status == SOUP_STATUS_NOT_FOUND && g_str_equal (code, "upload_not_found")
      && up->restarts < MAX_RESTARTS) {
    reset_session (up, "the server does not know the session");
    step (up);
    return;
  }
  if (status >= 500 || status == SOUP_STATUS_REQUEST_TIMEOUT || status == 429
      || status == SOUP_STATUS_CONFLICT) {
    g_autofree char *why = g_strdup_printf ("%s: %u %s", request_names[kind], status, message);

    retry (up, why);
    return;
  }
  fail (up, REC_UPLOAD_ERROR_REFUSED, "the server refused the %s: %u %s%s%s%s", request_names[kind],
        status, code, code[0] ? " (" : "", message, code[0] ? ")" : "");
}

static void
on_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Request *req = user_data;
  RecUpload *up = req->up;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body
      = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr (SoupMessage) msg = req->msg;
  RequestKind kind = req->kind;
  RecUploadReply reply = { 0 };
  gboolean parsed = FALSE;
  guint status;

  g_free (req);
  if (up == NULL)
    return; /* dropped */
  up->request = NULL;
  if (body == NULL) {
    g_autofree char *why = g_strdup_printf ("%s: %s", request_names[kind], error->message);

    retry (up, why);
    return;
  }
  status = soup_message_get_status (msg);
  if (g_bytes_get_size (body) > 0) {
    gsize len = 0;
    const char *data = g_bytes_get_data (body, &len);

    parsed = rec_upload_reply_parse (data, len, &reply, &error);
  }
  if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    on_refused (up, kind, status, &reply);
  } else if (!parsed) {
    g_autofree char *why = g_strdup_printf ("%s: unreadable reply: %s", request_names[kind],
                                            error ? error->message : "empty");

    retry (up, why);
  } else {
    switch (kind) {
    case REQ_CREATE:
    case REQ_GET:
    case REQ_APPEND:
      if ((kind == REQ_CREATE && reply.upload_id == NULL) || reply.offset < 0) {
        retry (up, "the reply lacks the session's id or offset");
        break;
      }
      if (kind == REQ_CREATE) {
        up->upload_id = g_strdup (reply.upload_id);
        g_message ("upload of %s: session %s", up->config.path, up->upload_id);
      }
      up->offset = reply.offset;
      up->offset_known = TRUE;
      succeeded (up);
      if (kind == REQ_APPEND)
        report_progress (up);
      step (up);
      break;
    case REQ_COMPLETE:
      if (reply.file_id == NULL) {
        retry (up, "the completion reply lacks the file");
        break;
      }
      on_complete_ok (up, &reply);
      break;
    }
  }
  rec_upload_reply_clear (&reply);
}

/* ---- public ---- */

RecUpload *
rec_upload_new (const RecUploadConfig *config, RecUploadProgressFunc progress,
                RecUploadDoneFunc done, gpointer user_data, GError **error)
{
  g_autoptr (RecUpload) up = NULL;
  g_autoptr (GUri) uri = NULL;

  g_return_val_if_fail (config != NULL, NULL);

  if (config->server == NULL || config->token == NULL || config->channel == NULL
      || config->path == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "the server, token, channel and file are required");
    return NULL;
  }
  uri = g_uri_parse (config->server, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL
      || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
      || g_uri_get_query (uri) || g_uri_get_fragment (uri)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "the server must be an http:// or https:// URL without query");
    return NULL;
  }
  if (config->token[0] == '\0' || strpbrk (config->token, " \r\n\t") != NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "the token is malformed");
    return NULL;
  }
  if (config->upload_id && !rec_upload_id_valid (config->upload_id)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "the upload id is malformed");
    return NULL;
  }
  if (config->post_props) {
    g_autoptr (JsonNode) node = json_from_string (config->post_props, NULL);

    if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the post's props must be a JSON object");
      return NULL;
    }
  }
  up = g_new0 (RecUpload, 1);
  up->config = *config;
  up->config.server = g_strdup (config->server);
  up->config.token = g_strdup (config->token);
  up->config.channel = g_strdup (config->channel);
  up->config.path = g_strdup (config->path);
  up->config.name = g_strdup (config->name);
  up->config.content_type = g_strdup (config->content_type);
  up->config.upload_id = g_strdup (config->upload_id);
  up->config.post_message = g_strdup (config->post_message);
  up->config.post_root_id = g_strdup (config->post_root_id);
  up->config.post_props = g_strdup (config->post_props);
  up->config.chunk_bytes = MAX (config->chunk_bytes, 1);
  up->config.poll_ms = MAX (config->poll_ms, 10);
  up->config.backoff_min_ms = MAX (config->backoff_min_ms, 10);
  up->config.backoff_max_ms = MAX (config->backoff_max_ms, up->config.backoff_min_ms);
  up->progress = progress;
  up->done = done;
  up->user_data = user_data;
  up->base = g_strdup (config->server);
  while (g_str_has_suffix (up->base, "/"))
    up->base[strlen (up->base) - 1] = '\0';
  up->upload_id = g_strdup (config->upload_id);
  up->fd = -1;
  up->hash = g_checksum_new (G_CHECKSUM_SHA256);
  up->head = g_byte_array_new ();
  up->cancellable = g_cancellable_new ();
  /* A stalled connection fails the request after a minute; the retry takes over. */
  up->session = soup_session_new_with_options ("timeout", 60, "idle-timeout", 60, "user-agent",
                                               "callrec-recorder", NULL);
  /* The server is addressed directly, whatever proxy the environment names. */
  soup_session_set_proxy_resolver (up->session, NULL);
  return g_steal_pointer (&up);
}

void
rec_upload_free (RecUpload *up)
{
  if (up == NULL)
    return;
  request_drop (up);
  g_clear_object (&up->session);
  g_clear_object (&up->cancellable);
  if (up->fd >= 0)
    close (up->fd);
  g_clear_pointer (&up->hash, g_checksum_free);
  g_clear_pointer (&up->head, g_byte_array_unref);
  rec_upload_config_clear (&up->config);
  g_free (up->base);
  g_free (up->upload_id);
  g_free (up->sha256);
  g_free (up);
}

void
rec_upload_start (RecUpload *up)
{
  g_return_if_fail (up != NULL);

  up->last_success_us = g_get_monotonic_time ();
  up->last_log_us = 0; /* the first append logs */
  up->offset_known = FALSE;
  if (!up->config.follow)
    up->finishing = TRUE;
  step (up);
}

void
rec_upload_finish (RecUpload *up)
{
  g_return_if_fail (up != NULL);

  if (up->finishing || up->ended)
    return;
  up->finishing = TRUE;
  /* A poll in wait would delay the tail; a backoff in wait stays. */
  if (up->timer && up->failures == 0) {
    g_source_remove (up->timer);
    up->timer = 0;
  }
  step (up);
}

void
rec_upload_cancel (RecUpload *up)
{
  g_return_if_fail (up != NULL);

  if (!up->ended)
    fail (up, REC_UPLOAD_ERROR_CANCELLED, "cancelled");
}

const char *
rec_upload_get_id (RecUpload *up)
{
  return up->upload_id;
}

const char *
rec_upload_get_sha256 (RecUpload *up)
{
  return up->sha256;
}

gint64
rec_upload_get_size (RecUpload *up)
{
  return up->size;
}
