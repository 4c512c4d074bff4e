/* SPDX-License-Identifier: MIT */
/* POST /api/v1/uploads/{id}/complete (srv-api-uploads.c has the rest): compares the
 * SHA-256 the client gives with the bytes the server holds, and turns the session into a
 * File, posted if asked. The running hash makes this immediate; without one (after a
 * restart) the file is hashed in a worker thread while the request waits, paused. A
 * completion is idempotent, so that a client whose reply was lost can simply retry. */
#include "srv-uploads-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define HASH_BLOCK (1024 * 1024)

/* A completion in progress: what the request asked, kept beyond the request's handler
 * while the file is hashed in a thread. */
typedef struct {
  SrvServer *server;
  SoupServerMessage *msg; /* paused while hashing */
  SrvUser *user;
  char *upload_id;
  char *sha256;     /* what the client says the file's hash is, lowercase */
  JsonObject *post; /* (nullable): the validated "post" member */
  /* the hash job */
  char *path;
  GChecksum *hash; /* of the file's first @from bytes, then up to @to */
  gint64 from, to;
  int read_errno;
} Completion;

static void
completion_free (Completion *c)
{
  g_clear_object (&c->msg);
  g_clear_pointer (&c->user, srv_user_free);
  g_free (c->upload_id);
  g_free (c->sha256);
  g_clear_pointer (&c->post, json_object_unref);
  g_free (c->path);
  g_clear_pointer (&c->hash, g_checksum_free);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Completion, completion_free)

static char *
checksum_hex (GChecksum *sum)
{
  g_autoptr (GChecksum) copy = g_checksum_copy (sum); /* get_string closes a checksum */

  return g_strdup (g_checksum_get_string (copy));
}

static void
reply_completed (SrvRequest *req, Completion *c, const SrvUpload *up, const SrvFile *file,
                 const SrvPost *post)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "upload");
  json_builder_add_value (b, srv_uploads_json (up));
  json_builder_set_member_name (b, "file");
  json_builder_add_value (b, srv_json_file (file));
  json_builder_set_member_name (b, "post");
  if (post)
    json_builder_add_value (b, srv_json_post (post));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  srv_reply_json (req, SOUP_STATUS_OK, root);
}

/* Attaches @file to the requested post (made now if it was not yet: a retried completion
 * whose first reply was lost), then replies. */
static void
post_and_reply (SrvRequest *req, Completion *c, const SrvUpload *up, SrvFile *file)
{
  SrvStore *store = req->server->store;
  g_autoptr (SrvPost) post = NULL;
  g_autoptr (GError) error = NULL;

  if (file->post_id) {
    post = srv_store_post_get (store, file->post_id, &error);
  } else if (c->post) {
    JsonNode *props = json_object_get_member (c->post, "props");
    g_autofree char *props_text = props ? json_to_string (props, FALSE) : NULL;
    const char *ids[] = { file->id, NULL };

    post = srv_store_post_create (store, up->channel_id, srv_shape_get_string (c->post, "root_id"),
                                  c->user->id, srv_shape_get_string (c->post, "message"),
                                  props_text, ids, &error);
    if (post) {
      srv_calls_post_created (req->server, post);
      file->post_id = g_strdup (post->id);
    }
  }
  if (error) {
    /* The file is stored; a retried completion makes the post. */
    if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND))
      srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "post.root_id",
                       "the file %s is stored, but: %s", file->id, error->message);
    else
      srv_reply_store_error (req, error, "post");
    return;
  }
  reply_completed (req, c, up, file, post);
}

/* The hash is known: compare, store the file, post, reply. */
static void
complete_with_hash (SrvRequest *req, Completion *c, const char *actual)
{
  SrvServer *server = req->server;
  g_autoptr (SrvUpload) up = NULL;
  g_autoptr (SrvFile) file = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *file_path = NULL;
  int fd;

  up = srv_store_upload_get (server->store, c->upload_id, &error);
  if (up == NULL) {
    srv_reply_store_error (req, error, "upload");
    return;
  }
  if (!g_str_equal (actual, c->sha256)) {
    g_message ("upload %s: checksum mismatch at %" G_GINT64_FORMAT " bytes", up->id, up->offset);
    srv_uploads_reply_offset_error (
        req, SOUP_STATUS_UNPROCESSABLE_ENTITY, "checksum_mismatch", up->offset,
        "the %" G_GINT64_FORMAT " bytes received have SHA-256 %s; nothing was "
        "stored and the upload stays open",
        up->offset, actual);
    return;
  }
  file = g_new0 (SrvFile, 1);
  file->id = srv_store_new_id ();
  file->channel_id = g_strdup (up->channel_id);
  file->user_id = g_strdup (up->user_id);
  file->name = g_strdup (up->name);
  file->content_type = g_strdup (up->content_type);
  file->sha256 = g_strdup (actual);
  file->size = up->offset;
  file->created_at = g_get_real_time () / 1000;
  file_path = g_build_filename (server->files_dir, file->id, NULL);
  /* The session's bytes become the file by a second link: until the row commits, the
   * session keeps them, so a crash here loses nothing. */
  fd = g_open (c->path, O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0 || ftruncate (fd, up->offset) != 0 || fsync (fd) != 0
      || link (c->path, file_path) != 0) {
    g_warning ("upload %s: cannot store %s as %s: %s", up->id, c->path, file_path,
               g_strerror (errno));
    if (fd >= 0)
      close (fd);
    srv_uploads_reply_internal (req, "store the file");
    return;
  }
  close (fd);
  if (!srv_store_upload_complete (server->store, up->id, file, &error)) {
    g_unlink (file_path);
    srv_reply_store_error (req, error, "upload");
    return;
  }
  g_unlink (c->path);
  if (server->uploads)
    g_hash_table_remove (server->uploads, up->id);
  g_free (up->file_id);
  up->file_id = g_strdup (file->id);
  g_message ("upload %s complete: file %s (%" G_GINT64_FORMAT " bytes, %s) by '%s'", up->id,
             file->id, file->size, file->content_type, c->user->username);
  post_and_reply (req, c, up, file);
}

static void
hash_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Completion *c = data;
  g_autofree guint8 *buf = g_malloc (HASH_BLOCK);
  int fd = g_open (c->path, O_RDONLY | O_CLOEXEC, 0);
  gint64 pos = c->from;

  while (fd >= 0 && pos < c->to) {
    ssize_t n = pread (fd, buf, MIN (HASH_BLOCK, c->to - pos), pos);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      c->read_errno = n < 0 ? errno : EIO; /* shorter than the offset */
      break;
    }
    g_checksum_update (c->hash, buf, n);
    pos += n;
  }
  if (fd < 0)
    c->read_errno = errno;
  else
    close (fd);
  g_task_return_boolean (task, TRUE);
}

static void
hash_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Completion) c = user_data;
  SrvServer *server = c->server;
  SrvRequest req = { .server = server, .msg = c->msg, .user = c->user };
  UploadState *state = server->uploads ? g_hash_table_lookup (server->uploads, c->upload_id) : NULL;

  if (state)
    state->completing = FALSE;
  if (c->read_errno != 0) {
    g_warning ("upload %s: cannot read %s: %s", c->upload_id, c->path, g_strerror (c->read_errno));
    srv_uploads_reply_internal (&req, "read the upload");
  } else {
    g_autofree char *actual = checksum_hex (c->hash);

    if (state) {
      g_clear_pointer (&state->sha256, g_checksum_free);
      state->sha256 = g_checksum_copy (c->hash);
      state->hashed = c->to;
    }
    complete_with_hash (&req, c, actual);
  }
  soup_server_message_unpause (c->msg);
}

void
srv_api_uploads_complete (SrvRequest *req, JsonObject *body)
{
  SrvServer *server = req->server;
  JsonNode *post_node = json_object_get_member (body, "post");
  g_autoptr (Completion) c = g_new0 (Completion, 1);
  g_autoptr (SrvUpload) up = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GTask) task = NULL;
  UploadState *state;

  c->server = server;
  c->sha256 = g_ascii_strdown (srv_shape_get_string (body, "sha256"), -1);
  for (const char *p = c->sha256; *p; p++) {
    if (!g_ascii_isxdigit (*p)) {
      srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", "sha256",
                       "field 'sha256' must be 64 hexadecimal digits");
      return;
    }
  }
  if (post_node) {
    g_autofree char *text = json_to_string (post_node, FALSE);
    g_autofree char *field = NULL;

    c->post = srv_shape_parse (SRV_SHAPE_UPLOAD_POST, text, strlen (text), &field, &error);
    if (c->post == NULL) {
      g_autofree char *where = g_strconcat ("post.", field ? field : "", NULL);

      srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", field ? where : "post",
                       "post: %s", error->message);
      return;
    }
  }
  up = srv_uploads_find (req);
  if (up == NULL)
    return;
  c->msg = g_object_ref (req->msg);
  c->user = g_new0 (SrvUser, 1);
  c->user->id = g_strdup (req->user->id);
  c->user->username = g_strdup (req->user->username);
  c->upload_id = g_strdup (up->id);
  c->path = srv_uploads_path (server, up->id);

  if (up->file_id) {
    /* Completed before (a retry whose first reply was lost): the same answer again. */
    g_autoptr (SrvFile) file = srv_store_file_get (server->store, up->file_id, &error);

    if (file == NULL)
      srv_reply_store_error (req, error, "file");
    else if (!g_str_equal (file->sha256, c->sha256))
      srv_uploads_reply_offset_error (req, SOUP_STATUS_UNPROCESSABLE_ENTITY, "checksum_mismatch",
                                      up->offset, "the upload was completed with SHA-256 %s",
                                      file->sha256);
    else
      post_and_reply (req, c, up, file);
    return;
  }
  if (up->expected_size >= 0 && up->offset != up->expected_size) {
    srv_uploads_reply_offset_error (req, SOUP_STATUS_CONFLICT, "upload_incomplete", up->offset,
                                    "the upload has %" G_GINT64_FORMAT " of its %" G_GINT64_FORMAT
                                    " bytes",
                                    up->offset, up->expected_size);
    return;
  }
  if (c->post && srv_shape_get_string (c->post, "root_id")) {
    g_autoptr (SrvPost) root
        = srv_store_post_get (server->store, srv_shape_get_string (c->post, "root_id"), NULL);

    if (root == NULL || root->root_id != NULL || !g_str_equal (root->channel_id, up->channel_id)) {
      srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "post.root_id",
                       "root post not found in this channel");
      return;
    }
  }
  state = srv_uploads_state (server, up->id);
  if (state->completing) {
    srv_uploads_reply_offset_error (req, SOUP_STATUS_CONFLICT, "upload_busy", up->offset,
                                    "a completion of this upload is in progress");
    return;
  }
  /* An append still streaming is one its client gave up on (it would not complete
   * otherwise), possibly on a connection that died silently: it must not block the end. */
  if (state->active) {
    g_message ("upload %s: completing ends an append still in progress", up->id);
    state->active->superseded = TRUE;
    state->active = NULL;
  }
  if (state->sha256 && state->hashed == up->offset) {
    g_autofree char *actual = checksum_hex (state->sha256);

    complete_with_hash (req, c, actual);
    return;
  }
  /* Hash what the running hash does not cover yet, off the main loop: a long recording
   * after a restart is gigabytes. */
  c->hash = state->sha256 && state->hashed < up->offset ? g_checksum_copy (state->sha256)
                                                        : g_checksum_new (G_CHECKSUM_SHA256);
  c->from = state->sha256 && state->hashed < up->offset ? state->hashed : 0;
  c->to = up->offset;
  state->completing = TRUE;
  soup_server_message_pause (c->msg);
  task = g_task_new (NULL, NULL, hash_done, c);
  g_task_set_task_data (task, g_steal_pointer (&c), NULL);
  g_task_run_in_thread (task, hash_thread);
}
