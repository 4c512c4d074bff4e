/* SPDX-License-Identifier: MIT */
/* /api/v1/uploads: resumable upload sessions, for files that arrive in pieces (a recording
 * uploaded while it grows) or over a connection that may break.
 *
 *   POST   /uploads                  {channel, name, content_type?, size?} -> 201 Upload
 *   GET    /uploads/{id}             -> Upload (its "offset": bytes stored so far)
 *   PUT    /uploads/{id}?offset=N    raw bytes appended at exactly N (PATCH too)
 *   POST   /uploads/{id}/complete    {sha256, post?} -> the file (and the post)
 *                                     (srv-api-uploads-complete.c)
 *
 * State: the row (srv-store-sqlite-uploads.c) holds the offset, which moves only once an
 * append's bytes are all on disk and synced; the bytes are DATA/uploads/<id>. An append
 * that breaks off leaves bytes past the offset: the next append truncates them away, so
 * the file always starts with exactly the bytes the offset counts. Both survive a restart.
 *
 * While the server runs it also keeps each session's SHA-256 of its first bytes, carried
 * along as appends arrive, so that completing a long recording costs nothing; after a
 * restart the hash is rebuilt from disk in a worker thread.
 *
 * Only the session's creator may append or complete it, and only while allowed to write
 * to its channel: a member (archived channels refuse), or a caller that
 * SrvServer.authorize_upload admits (recording jobs, issue 5). */
#include "srv-uploads-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APPEND_KEY "srv-upload-append"
/* Query offsets: at most 2^53 - 1, like every integer of this API. */
#define MAX_OFFSET G_GINT64_CONSTANT (9007199254740991)

static void
upload_state_free (UploadState *state)
{
  g_clear_pointer (&state->sha256, g_checksum_free);
  if (state->active)
    state->active->superseded = TRUE;
  g_free (state);
}

UploadState *
srv_uploads_state (SrvServer *server, const char *id)
{
  UploadState *state;

  if (server->uploads == NULL)
    server->uploads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify)upload_state_free);
  state = g_hash_table_lookup (server->uploads, id);
  if (state == NULL) {
    state = g_new0 (UploadState, 1);
    g_hash_table_insert (server->uploads, g_strdup (id), state);
  }
  return state;
}

void
srv_api_uploads_shutdown (SrvServer *server)
{
  g_clear_pointer (&server->uploads, g_hash_table_unref);
}

char *
srv_uploads_path (SrvServer *server, const char *id)
{
  return g_build_filename (server->config->data_dir, "uploads", id, NULL);
}

/* ---- replies ---- */

JsonNode *
srv_uploads_json (const SrvUpload *up)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, up->id);
  json_builder_set_member_name (b, "channel_id");
  json_builder_add_string_value (b, up->channel_id);
  json_builder_set_member_name (b, "user_id");
  json_builder_add_string_value (b, up->user_id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, up->name);
  json_builder_set_member_name (b, "content_type");
  json_builder_add_string_value (b, up->content_type);
  json_builder_set_member_name (b, "size");
  if (up->expected_size >= 0)
    json_builder_add_int_value (b, up->expected_size);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "offset");
  json_builder_add_int_value (b, up->offset);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_int_value (b, up->created_at);
  json_builder_set_member_name (b, "updated_at");
  json_builder_add_int_value (b, up->updated_at);
  json_builder_set_member_name (b, "file_id");
  if (up->file_id)
    json_builder_add_string_value (b, up->file_id);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
set_offset_header (SrvRequest *req, gint64 offset)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, offset);

  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                "Upload-Offset", text);
}

static void
reply_upload (SrvRequest *req, guint status, const SrvUpload *up)
{
  g_autoptr (JsonNode) node = srv_uploads_json (up);

  set_offset_header (req, up->offset);
  srv_reply_json (req, status, node);
}

/* An error that tells the client where the session stands: the usual error object with
 * "offset", and the Upload-Offset header. */
void
srv_uploads_reply_offset_error (SrvRequest *req, guint status, const char *code, gint64 offset,
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
  json_builder_set_member_name (b, "offset");
  json_builder_add_int_value (b, offset);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  set_offset_header (req, offset);
  srv_reply_json (req, status, root);
}

void
srv_uploads_reply_internal (SrvRequest *req, const char *what)
{
  srv_reply_error (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", NULL,
                   "cannot %s (see the server log)", what);
}

/* ---- who may ---- */

/* The channel @ref if the caller may upload to it: a member, or admitted by the
 * authorize_upload hook; not deleted (404) nor archived (403). Replies the error itself
 * and returns NULL. */
static SrvChannel *
authorize (SrvRequest *req, const char *ref)
{
  SrvServer *server = req->server;
  g_autoptr (SrvChannel) ch = NULL;
  g_autoptr (GError) error = NULL;
  gboolean member = FALSE;

  ch = srv_store_channel_get (server->store, ref, &error);
  if (ch == NULL && g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
    g_clear_error (&error);
    ch = srv_store_channel_get_by_name (server->store, ref, &error);
  }
  if (ch == NULL && !g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
    srv_reply_store_error (req, error, "channel");
    return NULL;
  }
  if (ch == NULL || ch->deleted_at != 0) {
    srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "channel_not_found", NULL, "no such channel");
    return NULL;
  }
  if (!srv_store_member_check (server->store, ch->id, req->user->id, &member, &error)) {
    srv_reply_store_error (req, error, "member");
    return NULL;
  }
  if (!member && !(server->authorize_upload && server->authorize_upload (server, req->user, ch))) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "not_a_member", NULL,
                     "you are not a member of channel '%s'", ch->name);
    return NULL;
  }
  if (ch->archived_at != 0) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "channel_archived", NULL,
                     "channel '%s' is archived", ch->name);
    return NULL;
  }
  return g_steal_pointer (&ch);
}

/* The session named by the path, if the caller created it and may still write to its
 * channel. Someone else's session is not found: its id tells them nothing. */
SrvUpload *
srv_uploads_find (SrvRequest *req)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SrvUpload) up = srv_store_upload_get (req->server->store, req->params[0], &error);
  g_autoptr (SrvChannel) ch = NULL;

  if (up == NULL && !g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
    srv_reply_store_error (req, error, "upload");
    return NULL;
  }
  if (up == NULL || !g_str_equal (up->user_id, req->user->id)) {
    srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "upload_not_found", NULL, "no such upload");
    return NULL;
  }
  ch = authorize (req, up->channel_id);
  return ch ? g_steal_pointer (&up) : NULL;
}

/* ---- create ---- */

static gboolean
valid_file_name (const char *name)
{
  /* The shape refused control characters and bounded the length. */
  if (name[0] == '\0' || g_str_equal (name, ".") || g_str_equal (name, ".."))
    return FALSE;
  return strpbrk (name, "/\\\"") == NULL;
}

/* "type/subtype" of token characters, lowercased; NULL if @s is not one. Parameters are
 * not accepted here: the client names the type it means. */
static char *
media_type (const char *s)
{
  g_autofree char *lower = g_ascii_strdown (s, -1);
  const char *slash = strchr (lower, '/');

  if (slash == NULL || slash == lower || slash[1] == '\0' || strchr (slash + 1, '/'))
    return NULL;
  for (const char *p = lower; *p; p++) {
    if (p != slash && !g_ascii_isalnum (*p) && strchr ("!#$&^_.+-", *p) == NULL)
      return NULL;
  }
  return g_steal_pointer (&lower);
}

static char *
guess_media_type (const char *name)
{
  g_autofree char *guess = g_content_type_guess (name, NULL, 0, NULL);
  g_autofree char *mime = guess ? g_content_type_get_mime_type (guess) : NULL;
  char *checked = mime ? media_type (mime) : NULL;

  return checked ? checked : g_strdup ("application/octet-stream");
}

void
srv_api_uploads_create (SrvRequest *req, JsonObject *body)
{
  SrvServer *server = req->server;
  g_autoptr (SrvChannel) ch = authorize (req, srv_shape_get_string (body, "channel"));
  const char *name = srv_shape_get_string (body, "name");
  const char *type = srv_shape_get_string (body, "content_type");
  gint64 size = srv_shape_get_int (body, "size", -1);
  g_autoptr (SrvUpload) up = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *location = NULL;
  int fd;

  if (ch == NULL)
    return;
  if (!valid_file_name (name)) {
    srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", "name",
                     "field 'name' must be a file name without '/', '\\' or '\"'");
    return;
  }
  if (size > server->config->max_upload_bytes) {
    srv_reply_error (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", "size",
                     "uploads are limited to %" G_GINT64_FORMAT " bytes",
                     server->config->max_upload_bytes);
    return;
  }
  up = g_new0 (SrvUpload, 1);
  if (type) {
    up->content_type = media_type (type);
    if (up->content_type == NULL) {
      srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", "content_type",
                       "field 'content_type' must be a media type such as video/mp4");
      return;
    }
  } else {
    up->content_type = guess_media_type (name);
  }
  up->id = srv_store_new_id ();
  up->channel_id = g_strdup (ch->id);
  up->user_id = g_strdup (req->user->id);
  up->name = g_strdup (name);
  up->expected_size = size;
  up->created_at = up->updated_at = g_get_real_time () / 1000;

  dir = g_build_filename (server->config->data_dir, "uploads", NULL);
  path = srv_uploads_path (server, up->id);
  if (g_mkdir_with_parents (dir, 0700) != 0
      || (fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
    g_warning ("upload: cannot create %s: %s", path, g_strerror (errno));
    srv_uploads_reply_internal (req, "store the upload");
    return;
  }
  close (fd);
  if (!srv_store_upload_insert (server->store, up, &error)) {
    g_unlink (path);
    srv_reply_store_error (req, error, "upload");
    return;
  }
  g_message ("upload %s (%s) started by '%s' in channel %s", up->id, up->content_type,
             req->user->username, ch->id);
  location = g_strconcat ("/api/v1/uploads/", up->id, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg), "Location",
                                location);
  reply_upload (req, SOUP_STATUS_CREATED, up);
}

void
srv_api_uploads_get (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvUpload) up = srv_uploads_find (req);

  if (up)
    reply_upload (req, SOUP_STATUS_OK, up);
}

/* ---- append ---- */

static void
append_free (Append *ap)
{
  UploadState *state
      = ap->server->uploads ? g_hash_table_lookup (ap->server->uploads, ap->upload_id) : NULL;

  if (state && state->active == ap)
    state->active = NULL;
  if (ap->fd >= 0)
    close (ap->fd);
  g_clear_pointer (&ap->sha256, g_checksum_free);
  g_free (ap->upload_id);
  g_free (ap);
}

static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  Append *ap = user_data;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (chunk, &len);

  if (ap->superseded || ap->write_errno != 0)
    return;
  if (ap->sha256)
    g_checksum_update (ap->sha256, data, len);
  while (len > 0) {
    ssize_t n = pwrite (ap->fd, data, len, ap->start + ap->received);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ap->write_errno = n < 0 ? errno : EIO;
      return;
    }
    data += n;
    len -= n;
    ap->received += n;
  }
}

/* ?offset=N: a decimal integer without sign or spaces; -1 if absent or malformed. */
static gint64
query_offset (SrvRequest *req)
{
  const char *s = req->query ? g_hash_table_lookup (req->query, "offset") : NULL;
  guint64 v = 0;

  if (s == NULL || s[0] == '\0' || strlen (s) > 16)
    return -1;
  for (const char *p = s; *p; p++) {
    if (!g_ascii_isdigit (*p))
      return -1;
    v = v * 10 + (*p - '0');
  }
  return v <= (guint64)MAX_OFFSET ? (gint64)v : -1;
}

gboolean
srv_api_uploads_append_begin (SrvRequest *req)
{
  SrvServer *server = req->server;
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (req->msg);
  gint64 offset = query_offset (req);
  gint64 length = soup_message_headers_get_content_length (hdrs);
  g_autoptr (SrvUpload) up = NULL;
  g_autofree char *path = NULL;
  UploadState *state;
  struct stat sb;
  Append *ap;
  int fd;

  if (offset < 0) {
    srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", "offset",
                     "query parameter 'offset' must be the byte offset the body starts at");
    return FALSE;
  }
  up = srv_uploads_find (req);
  if (up == NULL)
    return FALSE;
  if (up->file_id) {
    srv_uploads_reply_offset_error (req, SOUP_STATUS_CONFLICT, "upload_completed", up->offset,
                                    "the upload is complete");
    return FALSE;
  }
  if (offset != up->offset) {
    srv_uploads_reply_offset_error (
        req, SOUP_STATUS_CONFLICT, "offset_mismatch", up->offset,
        "the upload has %" G_GINT64_FORMAT " bytes: append at that offset", up->offset);
    return FALSE;
  }
  if (offset + length > server->config->max_upload_bytes
      || (up->expected_size >= 0 && offset + length > up->expected_size)) {
    srv_uploads_reply_offset_error (
        req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", up->offset,
        "the upload would be larger than %" G_GINT64_FORMAT " bytes",
        up->expected_size >= 0 ? up->expected_size : server->config->max_upload_bytes);
    return FALSE;
  }
  state = srv_uploads_state (server, up->id);
  if (state->completing) {
    srv_uploads_reply_offset_error (req, SOUP_STATUS_CONFLICT, "upload_busy", up->offset,
                                    "the upload is being completed");
    return FALSE;
  }
  path = srv_uploads_path (server, up->id);
  fd = g_open (path, O_WRONLY | O_CLOEXEC, 0);
  /* Bytes past the offset are what a broken-off append left: they go. Fewer bytes than
   * the offset means the disk lost synced data; nothing here can repair that. */
  if (fd < 0 || fstat (fd, &sb) != 0 || sb.st_size < offset || ftruncate (fd, offset) != 0) {
    g_warning ("upload %s: cannot append to %s: %s", up->id, path,
               fd < 0 || sb.st_size >= offset ? g_strerror (errno) : "shorter than its offset");
    if (fd >= 0)
      close (fd);
    srv_uploads_reply_internal (req, "store the upload");
    return FALSE;
  }
  /* A client that gave up on a stalled request retries at the same offset while the old
   * one may still be streaming: the newest wins, the old one's bytes are ignored. */
  if (state->active) {
    g_message ("upload %s: a new append replaces one still in progress", up->id);
    state->active->superseded = TRUE;
  }
  ap = g_new0 (Append, 1);
  ap->server = server;
  ap->upload_id = g_strdup (up->id);
  ap->fd = fd;
  ap->start = offset;
  if (state->sha256 && state->hashed == offset)
    ap->sha256 = g_checksum_copy (state->sha256);
  state->active = ap;
  g_object_set_data_full (G_OBJECT (req->msg), APPEND_KEY, ap, (GDestroyNotify)append_free);
  soup_message_body_set_accumulate (soup_server_message_get_request_body (req->msg), FALSE);
  g_signal_connect (req->msg, "got-chunk", G_CALLBACK (on_got_chunk), ap);
  return TRUE;
}

void
srv_api_uploads_append_finish (SrvRequest *req, JsonObject *body)
{
  SrvServer *server = req->server;
  Append *ap = g_object_get_data (G_OBJECT (req->msg), APPEND_KEY);
  g_autoptr (SrvUpload) up = NULL;
  g_autoptr (GError) error = NULL;
  UploadState *state;
  gint64 end;

  if (ap == NULL) {
    /* The early phase refused it and already replied; this is not reached. */
    srv_uploads_reply_internal (req, "find the upload state");
    return;
  }
  if (!ap->superseded && ap->write_errno == 0 && fsync (ap->fd) != 0)
    ap->write_errno = errno;
  if (ap->write_errno != 0) {
    g_warning ("upload %s: cannot write: %s", ap->upload_id, g_strerror (ap->write_errno));
    srv_uploads_reply_internal (req, "store the upload");
    return;
  }
  end = ap->start + ap->received;
  if (ap->superseded
      || (end != ap->start
          && !srv_store_upload_advance (server->store, ap->upload_id, ap->start, end, &error))) {
    if (error && !g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT)) {
      srv_reply_store_error (req, error, "upload");
      return;
    }
    up = srv_store_upload_get (server->store, ap->upload_id, NULL);
    srv_uploads_reply_offset_error (req, SOUP_STATUS_CONFLICT, "offset_mismatch",
                                    up ? up->offset : 0, "another append of this upload took over");
    return;
  }
  state = srv_uploads_state (server, ap->upload_id);
  if (ap->sha256) {
    g_clear_pointer (&state->sha256, g_checksum_free);
    state->sha256 = g_steal_pointer (&ap->sha256);
    state->hashed = end;
  }
  up = srv_store_upload_get (server->store, ap->upload_id, &error);
  if (up == NULL) {
    srv_reply_store_error (req, error, "upload");
    return;
  }
  reply_upload (req, SOUP_STATUS_OK, up);
}
