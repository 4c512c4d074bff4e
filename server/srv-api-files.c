/* SPDX-License-Identifier: MIT */
/* /api/v1/channels/{channel}/files (upload) and /api/v1/files/{id} (download).
 *
 * Uploads are the raw bytes as the request body, with the file name in ?name= and the
 * media type in Content-Type. The caller and channel are checked from the headers alone,
 * before any byte of the body is read; the body then streams to DIR/files/<id>.part
 * (hashed as it goes) and is renamed into place once complete, so a dropped upload
 * leaves nothing behind. Downloads are served from a read-only mapping of the file, with
 * single byte ranges (206/416) so that a browser's <video> seeks in an MP4. */
#include "srv-server-private.h"
#include "srv-range.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define UPLOAD_KEY "srv-upload"
#define MAX_FILE_NAME 255

typedef struct {
  SrvFile *file; /* the row to insert; size and sha256 filled in at the end */
  char *part_path;
  char *final_path;
  int fd;
  GChecksum *sha256;
  int write_errno; /* first write failure, 0 if none */
  gboolean committed;
} Upload;

static void
upload_free (Upload *up)
{
  if (up->fd >= 0)
    close (up->fd);
  if (!up->committed)
    g_unlink (up->part_path);
  srv_file_free (up->file);
  g_free (up->part_path);
  g_free (up->final_path);
  g_checksum_free (up->sha256);
  g_free (up);
}

static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  Upload *up = user_data;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (chunk, &len);

  up->file->size += len;
  g_checksum_update (up->sha256, data, len);
  while (len > 0 && up->write_errno == 0) {
    ssize_t n = write (up->fd, data, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      up->write_errno = errno;
      break;
    }
    data += n;
    len -= n;
  }
}

/* A file name as shown to people and put in Content-Disposition: no path, no control
 * characters, UTF-8, bounded. */
static gboolean
valid_file_name (const char *name)
{
  if (name == NULL || name[0] == '\0' || strlen (name) > MAX_FILE_NAME
      || !g_utf8_validate (name, -1, NULL) || g_str_equal (name, ".") || g_str_equal (name, ".."))
    return FALSE;
  for (const char *p = name; *p; p++) {
    guchar c = *p;

    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '"')
      return FALSE;
  }
  return TRUE;
}

static gboolean
is_token_char (char c)
{
  return g_ascii_isalnum (c) || strchr ("!#$&^_.+-", c) != NULL;
}

/* "type/subtype" without parameters, lowercased; NULL if @header is not one. */
static char *
media_type (const char *header)
{
  g_autofree char *lower = NULL;
  char *semi, *slash;

  if (header == NULL)
    return NULL;
  lower = g_ascii_strdown (header, -1);
  semi = strchr (lower, ';');
  if (semi)
    *semi = '\0';
  g_strstrip (lower);
  slash = strchr (lower, '/');
  if (slash == NULL || slash == lower || slash[1] == '\0' || strlen (lower) > 127)
    return NULL;
  for (char *p = lower; *p; p++) {
    if (p != slash && !is_token_char (*p))
      return NULL;
  }
  return g_steal_pointer (&lower);
}

static char *
guess_media_type (const char *name)
{
  g_autofree char *guess = g_content_type_guess (name, NULL, 0, NULL);
  g_autofree char *mime = guess ? g_content_type_get_mime_type (guess) : NULL;
  char *checked = media_type (mime);

  return checked ? checked : g_strdup ("application/octet-stream");
}

gboolean
srv_api_files_upload_begin (SrvRequest *req)
{
  SrvServer *server = req->server;
  g_autoptr (SrvChannel) ch = srv_request_channel (req, req->params[0], SRV_ACCESS_WRITE);
  const char *name = req->query ? g_hash_table_lookup (req->query, "name") : NULL;
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (req->msg);
  g_autofree char *type = NULL;
  Upload *up;

  if (ch == NULL)
    return FALSE;
  if (!valid_file_name (name)) {
    srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", "name",
                     "query parameter 'name' must be a file name of 1..%d bytes without "
                     "'/', '\\', '\"' or control characters",
                     MAX_FILE_NAME);
    return FALSE;
  }
  type = media_type (soup_message_headers_get_one (hdrs, "Content-Type"));
  /* Generic types (and what curl or a form sends by default) say nothing about the file:
   * the name does. */
  if (type == NULL || g_str_equal (type, "application/octet-stream")
      || g_str_equal (type, "application/x-www-form-urlencoded")
      || g_str_has_prefix (type, "multipart/")) {
    g_free (type);
    type = guess_media_type (name);
  }

  up = g_new0 (Upload, 1);
  up->fd = -1;
  up->sha256 = g_checksum_new (G_CHECKSUM_SHA256);
  up->file = g_new0 (SrvFile, 1);
  up->file->id = srv_store_new_id ();
  up->file->channel_id = g_strdup (ch->id);
  up->file->user_id = g_strdup (req->user->id);
  up->file->name = g_strdup (name);
  up->file->content_type = g_steal_pointer (&type);
  up->part_path = g_strdup_printf ("%s/%s.part", server->files_dir, up->file->id);
  up->final_path = g_build_filename (server->files_dir, up->file->id, NULL);
  up->fd = g_open (up->part_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (up->fd < 0) {
    g_warning ("upload: cannot create %s: %s", up->part_path, g_strerror (errno));
    up->committed = TRUE; /* nothing to remove */
    upload_free (up);
    srv_reply_error (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", NULL,
                     "cannot store the file (see the server log)");
    return FALSE;
  }
  g_object_set_data_full (G_OBJECT (req->msg), UPLOAD_KEY, up, (GDestroyNotify) upload_free);
  soup_message_body_set_accumulate (soup_server_message_get_request_body (req->msg), FALSE);
  g_signal_connect (req->msg, "got-chunk", G_CALLBACK (on_got_chunk), up);
  return TRUE;
}

void
srv_api_files_upload_finish (SrvRequest *req, JsonObject *body)
{
  Upload *up = g_object_get_data (G_OBJECT (req->msg), UPLOAD_KEY);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;

  if (up == NULL) {
    /* The early phase refused it and already replied; this is not reached. */
    srv_reply_error (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", NULL,
                     "upload state missing");
    return;
  }
  if (up->write_errno == 0 && fsync (up->fd) != 0)
    up->write_errno = errno;
  if (up->write_errno != 0 || g_rename (up->part_path, up->final_path) != 0) {
    g_warning ("upload: cannot store %s: %s", up->final_path,
               g_strerror (up->write_errno ? up->write_errno : errno));
    srv_reply_error (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", NULL,
                     "cannot store the file (see the server log)");
    return;
  }
  up->file->sha256 = g_strdup (g_checksum_get_string (up->sha256));
  up->file->created_at = g_get_real_time () / 1000;
  if (!srv_store_file_insert (req->server->store, up->file, &error)) {
    g_unlink (up->final_path);
    srv_reply_store_error (req, error, "file");
    return;
  }
  up->committed = TRUE;
  g_message ("file %s (%" G_GINT64_FORMAT " bytes, %s) uploaded by '%s'", up->file->id,
             up->file->size, up->file->content_type, req->user->username);
  node = srv_json_file (up->file);
  srv_reply_json (req, SOUP_STATUS_CREATED, node);
}

/* The file's row, if the caller is a member of its channel (not deleted). Replies the
 * error itself. */
static SrvFile *
find_file (SrvRequest *req)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SrvFile) file = srv_store_file_get (req->server->store, req->params[0], &error);
  g_autoptr (SrvChannel) ch = NULL;

  if (file == NULL) {
    if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND))
      srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "file_not_found", NULL, "no such file");
    else
      srv_reply_store_error (req, error, "file");
    return NULL;
  }
  ch = srv_request_channel (req, file->channel_id, SRV_ACCESS_MEMBER);
  return ch ? g_steal_pointer (&file) : NULL;
}

void
srv_api_files_info (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvFile) file = find_file (req);
  g_autoptr (JsonNode) node = NULL;

  if (file == NULL)
    return;
  node = srv_json_file (file);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

/* Media and images play inline; anything else downloads, so that an uploaded HTML or SVG
 * page never runs as this origin. */
static gboolean
plays_inline (const char *type)
{
  return (g_str_has_prefix (type, "video/") || g_str_has_prefix (type, "audio/")
          || (g_str_has_prefix (type, "image/") && !g_str_equal (type, "image/svg+xml"))
          || g_str_equal (type, "text/plain") || g_str_equal (type, "application/pdf"));
}

void
srv_api_files_get (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvFile) file = find_file (req);
  g_autofree char *path = NULL;
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GBytes) all = NULL;
  g_autoptr (GBytes) part = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *disposition = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *etag = NULL;
  SoupMessageHeaders *req_hdrs = soup_server_message_get_request_headers (req->msg);
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (req->msg);
  gint64 size, start = 0, end = 0;
  SrvRangeResult range;

  if (file == NULL)
    return;
  path = g_build_filename (req->server->files_dir, file->id, NULL);
  mapped = g_mapped_file_new (path, FALSE, &error);
  if (mapped == NULL) {
    g_warning ("download: %s", error->message);
    srv_reply_error (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", NULL,
                     "cannot read the file (see the server log)");
    return;
  }
  all = g_mapped_file_get_bytes (mapped);
  size = g_bytes_get_size (all);

  escaped = g_uri_escape_string (file->name, NULL, FALSE);
  disposition
      = g_strdup_printf ("%s; filename*=UTF-8''%s",
                         plays_inline (file->content_type) ? "inline" : "attachment", escaped);
  etag = g_strdup_printf ("\"%s\"", file->sha256);
  soup_message_headers_replace (hdrs, "Content-Type", file->content_type);
  soup_message_headers_replace (hdrs, "Content-Disposition", disposition);
  soup_message_headers_replace (hdrs, "Accept-Ranges", "bytes");
  soup_message_headers_replace (hdrs, "ETag", etag);
  soup_message_headers_replace (hdrs, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (hdrs, "Content-Security-Policy", "sandbox");
  soup_message_headers_replace (hdrs, "Cache-Control", "private, max-age=3600");

  range = srv_range_parse (soup_message_headers_get_one (req_hdrs, "Range"), size, &start, &end);
  /* libsoup would apply a Range we chose to ignore to a 200 reply itself. */
  soup_message_headers_remove (req_hdrs, "Range");
  switch (range) {
  case SRV_RANGE_UNSATISFIABLE: {
    g_autofree char *cr = g_strdup_printf ("bytes */%" G_GINT64_FORMAT, size);

    soup_message_headers_replace (hdrs, "Content-Range", cr);
    srv_reply_error (req, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, "range_not_satisfiable",
                     NULL, "the file has %" G_GINT64_FORMAT " bytes", size);
    return;
  }
  case SRV_RANGE_PARTIAL:
    soup_message_headers_set_content_range (hdrs, start, end, size);
    part = g_bytes_new_from_bytes (all, start, end - start + 1);
    soup_server_message_set_status (req->msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
    break;
  case SRV_RANGE_FULL:
    part = g_bytes_ref (all);
    soup_server_message_set_status (req->msg, SOUP_STATUS_OK, NULL);
    break;
  }
  soup_message_headers_set_content_length (hdrs, g_bytes_get_size (part));
  soup_message_body_append_bytes (soup_server_message_get_response_body (req->msg), part);
}
