/* SPDX-License-Identifier: MIT */
/* Resumable uploads, both ends: the server's /api/v1/uploads spoken to directly, and the
 * recorder's upload client (`callrec-recorder upload`, rec-upload.c) against the real
 * callrec-server on 127.0.0.1 — a file that grows while it uploads, a server that goes
 * away and comes back, refusals, and a writer that rewrites the head of its file. */
#include "media-check.h"
#include "server-fixture.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

static struct {
  char *dir;
  Server *server;
  char *admin;
  char *alice, *bob, *mallory; /* alice and bob are members of "rec", mallory is not */
  char *media;                 /* a real fragmented MP4, made once */
} world;

static const char *const world_env[] = { "CALLREC_LIMITS_MAX_UPLOAD_BYTES=100000000", NULL };

static char *
make_user (Server *s, const char *admin, const char *username)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\"}", username);
  g_autofree char *path = g_strdup_printf ("/api/v1/users/%s/tokens", username);
  g_autoptr (Reply) r = call (s, "POST", "/api/v1/users", admin, body);
  g_autoptr (Reply) t = NULL;

  assert_status (r, 201);
  t = call (s, "POST", path, admin, "{}");
  assert_status (t, 201);
  return g_strdup (member_string (t->json, "token"));
}

static void
ensure_world (void)
{
  g_autoptr (Reply) r = NULL;

  if (world.server)
    return;
  world.dir = g_dir_make_tmp ("callrec-uploads-XXXXXX", NULL);
  g_assert_nonnull (world.dir);
  world.server = server_start (world.dir, world_env);
  world.admin = read_admin_token (world.dir);
  world.alice = make_user (world.server, world.admin, "alice");
  world.bob = make_user (world.server, world.admin, "bob");
  world.mallory = make_user (world.server, world.admin, "mallory");
  r = call (world.server, "POST", "/api/v1/channels", world.alice,
            "{\"type\":\"private\",\"name\":\"rec\",\"members\":[\"bob\"]}");
  assert_status (r, 201);
}

static gint64
member_int (JsonNode *node, const char *name)
{
  g_assert_nonnull (node);
  return json_object_get_int_member (json_node_get_object (node), name);
}

static JsonNode *
error_of (Reply *r)
{
  JsonObject *err = json_object_get_object_member (json_node_get_object (r->json), "error");

  g_assert_nonnull (err);
  return json_object_get_member (err, "offset");
}

static char *
create_upload (Server *s, const char *token, const char *json)
{
  g_autoptr (Reply) r = call (s, "POST", "/api/v1/uploads", token, json);

  assert_status (r, 201);
  g_assert_cmpint (member_int (r->json, "offset"), ==, 0);
  return g_strdup (member_string (r->json, "id"));
}

static Reply *
put (Server *s, const char *token, const char *id, gint64 offset, const void *data, gsize len)
{
  g_autofree char *path
      = g_strdup_printf ("/api/v1/uploads/%s?offset=%" G_GINT64_FORMAT, id, offset);

  return call_full (s, "PUT", path, token, "application/octet-stream", data, len, NULL);
}

static gint64
server_offset (Server *s, const char *token, const char *id)
{
  g_autofree char *path = g_strconcat ("/api/v1/uploads/", id, NULL);
  g_autoptr (Reply) r = call (s, "GET", path, token, NULL);

  assert_status (r, 200);
  g_assert_cmpstr (soup_message_headers_get_one (r->headers, "Upload-Offset"), !=, NULL);
  return member_int (r->json, "offset");
}

static Reply *
complete (Server *s, const char *token, const char *id, const char *sha256, const char *extra)
{
  g_autofree char *path = g_strconcat ("/api/v1/uploads/", id, "/complete", NULL);
  g_autofree char *body
      = g_strdup_printf ("{\"sha256\":\"%s\"%s%s}", sha256, extra ? "," : "", extra ? extra : "");

  return call (s, "POST", path, token, body);
}

static char *
sha256_of (const void *data, gsize len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
}

static GBytes *
download (Server *s, const char *token, const char *file_id)
{
  g_autofree char *path = g_strconcat ("/api/v1/files/", file_id, NULL);
  g_autoptr (Reply) r = call (s, "GET", path, token, NULL);

  assert_status (r, 200);
  return g_bytes_ref (r->body);
}

static guint8 *
random_bytes (gsize len)
{
  guint8 *buf = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    buf[i] = g_random_int () & 0xff;
  return buf;
}

/* ---- the server's API ---- */

static void
test_create_append_complete (void)
{
  g_autofree guint8 *data = random_bytes (300000);
  g_autofree char *sha = sha256_of (data, 300000);
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;
  g_autoptr (Reply) r = NULL;
  g_autoptr (Reply) again = NULL;
  g_autoptr (Reply) posts = NULL;
  g_autoptr (GBytes) got = NULL;
  JsonObject *file, *post;
  const char *file_id;

  ensure_world ();
  id = create_upload (world.server, world.alice,
                      "{\"channel\":\"rec\",\"name\":\"call.mp4\",\"content_type\":\"video/mp4\"}");
  g_assert_cmpint (server_offset (world.server, world.alice, id), ==, 0);
  /* An empty append changes nothing. */
  r = put (world.server, world.alice, id, 0, "", 0);
  assert_status (r, 200);
  g_clear_pointer (&r, reply_free);
  r = put (world.server, world.alice, id, 0, data, 100000);
  assert_status (r, 200);
  g_assert_cmpint (member_int (r->json, "offset"), ==, 100000);
  g_assert_cmpstr (soup_message_headers_get_one (r->headers, "Upload-Offset"), ==, "100000");
  g_clear_pointer (&r, reply_free);
  g_assert_cmpint (server_offset (world.server, world.alice, id), ==, 100000);
  path = g_strdup_printf ("/api/v1/uploads/%s?offset=100000", id);
  r = call_full (world.server, "PATCH", path, world.alice, NULL, data + 100000, 200000, NULL);
  assert_status (r, 200);
  g_assert_cmpint (member_int (r->json, "offset"), ==, 300000);
  g_clear_pointer (&r, reply_free);

  r = complete (
      world.server, world.alice, id, sha,
      "\"post\":{\"message\":\"Here's the call recording\",\"props\":{\"type\":\"recording\"}}");
  assert_status (r, 200);
  file = json_object_get_object_member (json_node_get_object (r->json), "file");
  post = json_object_get_object_member (json_node_get_object (r->json), "post");
  file_id = json_object_get_string_member (file, "id");
  g_assert_cmpstr (json_object_get_string_member (file, "sha256"), ==, sha);
  g_assert_cmpint (json_object_get_int_member (file, "size"), ==, 300000);
  g_assert_cmpstr (json_object_get_string_member (file, "content_type"), ==, "video/mp4");
  g_assert_cmpstr (json_object_get_string_member (file, "post_id"), ==,
                   json_object_get_string_member (post, "id"));
  g_assert_cmpstr (json_object_get_string_member (post, "message"), ==,
                   "Here's the call recording");
  g_assert_cmpstr (
      json_array_get_string_element (json_object_get_array_member (post, "file_ids"), 0), ==,
      file_id);
  got = download (world.server, world.bob, file_id);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), data, 300000);

  /* A retried completion (its reply lost) gets the same answer, and no second post. */
  again = complete (world.server, world.alice, id, sha, "\"post\":{\"message\":\"x\"}");
  assert_status (again, 200);
  file = json_object_get_object_member (json_node_get_object (again->json), "file");
  g_assert_cmpstr (json_object_get_string_member (file, "id"), ==, file_id);
  posts = call (world.server, "GET", "/api/v1/channels/rec/posts", world.alice, NULL);
  assert_status (posts, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (posts->json)), ==, 1);
  g_clear_pointer (&r, reply_free);
  r = put (world.server, world.alice, id, 300000, "x", 1);
  assert_error (r, 409, "upload_completed", NULL);
  g_clear_pointer (&r, reply_free);
  /* The session's bytes became the file: nothing is left in DATA/uploads. */
  {
    g_autofree char *left = g_build_filename (world.dir, "uploads", id, NULL);

    g_assert_false (g_file_test (left, G_FILE_TEST_EXISTS));
  }
}

static void
test_wrong_offset (void)
{
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;
  g_autoptr (Reply) r = NULL;

  ensure_world ();
  id = create_upload (world.server, world.alice, "{\"channel\":\"rec\",\"name\":\"a.bin\"}");
  r = put (world.server, world.alice, id, 0, "hello", 5);
  assert_status (r, 200);
  g_clear_pointer (&r, reply_free);
  /* Behind (a retry of what already arrived) and ahead (a gap): both 409 with the offset. */
  r = put (world.server, world.alice, id, 0, "hello", 5);
  assert_error (r, 409, "offset_mismatch", NULL);
  g_assert_cmpint (json_node_get_int (error_of (r)), ==, 5);
  g_assert_cmpstr (soup_message_headers_get_one (r->headers, "Upload-Offset"), ==, "5");
  g_clear_pointer (&r, reply_free);
  r = put (world.server, world.alice, id, 7, "world", 5);
  assert_error (r, 409, "offset_mismatch", NULL);
  g_assert_cmpint (json_node_get_int (error_of (r)), ==, 5);
  g_clear_pointer (&r, reply_free);
  g_assert_cmpint (server_offset (world.server, world.alice, id), ==, 5);

  /* The offset is required and a plain decimal. */
  path = g_strdup_printf ("/api/v1/uploads/%s", id);
  r = call_full (world.server, "PUT", path, world.alice, NULL, "x", 1, NULL);
  assert_error (r, 400, "invalid_field", "offset");
  g_clear_pointer (&r, reply_free);
  g_free (path);
  path = g_strdup_printf ("/api/v1/uploads/%s?offset=-5", id);
  r = call_full (world.server, "PUT", path, world.alice, NULL, "x", 1, NULL);
  assert_error (r, 400, "invalid_field", "offset");
  g_clear_pointer (&r, reply_free);
  g_free (path);
  path = g_strdup_printf ("/api/v1/uploads/%s?offset=99999999999999999999", id);
  r = call_full (world.server, "PUT", path, world.alice, NULL, "x", 1, NULL);
  assert_error (r, 400, "invalid_field", "offset");
  g_clear_pointer (&r, reply_free);

  /* A declared size bounds the appends and must be reached before completing. */
  g_free (id);
  id = create_upload (world.server, world.alice,
                      "{\"channel\":\"rec\",\"name\":\"b.bin\",\"size\":8}");
  r = put (world.server, world.alice, id, 0, "0123456789", 10);
  assert_error (r, 413, "too_large", NULL);
  g_clear_pointer (&r, reply_free);
  r = put (world.server, world.alice, id, 0, "0123", 4);
  assert_status (r, 200);
  g_clear_pointer (&r, reply_free);
  {
    g_autofree char *sha = sha256_of ("0123", 4);

    r = complete (world.server, world.alice, id, sha, NULL);
    assert_error (r, 409, "upload_incomplete", NULL);
    g_assert_cmpint (json_node_get_int (error_of (r)), ==, 4);
    g_clear_pointer (&r, reply_free);
  }
  /* Bodies that are not what the shape declares. */
  r = call (world.server, "POST", "/api/v1/uploads", world.alice,
            "{\"channel\":\"rec\",\"name\":\"../x\"}");
  assert_error (r, 400, "invalid_field", "name");
  g_clear_pointer (&r, reply_free);
  r = call (world.server, "POST", "/api/v1/uploads", world.alice,
            "{\"channel\":\"rec\",\"name\":\"x\",\"content_type\":\"video mp4\"}");
  assert_error (r, 400, "invalid_field", "content_type");
  g_clear_pointer (&r, reply_free);
  r = call (world.server, "POST", "/api/v1/uploads", world.alice,
            "{\"channel\":\"rec\",\"name\":\"x\",\"size\":1000000000}");
  assert_error (r, 413, "too_large", "size");
  g_clear_pointer (&r, reply_free);
  r = complete (world.server, world.alice, id, "zz", NULL);
  assert_error (r, 400, "invalid_field", "sha256");
  g_clear_pointer (&r, reply_free);
  r = complete (world.server, world.alice, id,
                "000000000000000000000000000000000000000000000000000000000000000g", NULL);
  assert_error (r, 400, "invalid_field", "sha256");
  g_clear_pointer (&r, reply_free);
  r = complete (world.server, world.alice, id,
                "0000000000000000000000000000000000000000000000000000000000000000",
                "\"post\":{\"text\":\"x\"}");
  assert_error (r, 400, "invalid_field", "post.text");
}

static void
test_wrong_checksum (void)
{
  g_autofree guint8 *data = random_bytes (50000);
  g_autofree char *sha = sha256_of (data, 50000);
  g_autofree char *id = NULL;
  g_autoptr (Reply) r = NULL;
  g_autoptr (GBytes) got = NULL;

  ensure_world ();
  id = create_upload (world.server, world.bob, "{\"channel\":\"rec\",\"name\":\"c.bin\"}");
  r = put (world.server, world.bob, id, 0, data, 30000);
  assert_status (r, 200);
  g_clear_pointer (&r, reply_free);
  /* The hash of the whole file, while the server has only part of it. */
  r = complete (world.server, world.bob, id, sha, NULL);
  assert_error (r, 422, "checksum_mismatch", NULL);
  g_assert_cmpint (json_node_get_int (error_of (r)), ==, 30000);
  g_clear_pointer (&r, reply_free);
  /* Nothing was lost: the session goes on and completes with the right hash. */
  g_assert_cmpint (server_offset (world.server, world.bob, id), ==, 30000);
  r = put (world.server, world.bob, id, 30000, data + 30000, 20000);
  assert_status (r, 200);
  g_clear_pointer (&r, reply_free);
  r = complete (world.server, world.bob, id,
                "0000000000000000000000000000000000000000000000000000000000000000", NULL);
  assert_error (r, 422, "checksum_mismatch", NULL);
  g_clear_pointer (&r, reply_free);
  r = complete (world.server, world.bob, id, sha, NULL);
  assert_status (r, 200);
  got = download (
      world.server, world.alice,
      json_object_get_string_member (
          json_object_get_object_member (json_node_get_object (r->json), "file"), "id"));
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), data, 50000);
}

static void
test_permissions (void)
{
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;
  g_autoptr (Reply) r = NULL;

  ensure_world ();
  r = call (world.server, "POST", "/api/v1/uploads", world.mallory,
            "{\"channel\":\"rec\",\"name\":\"x.mp4\"}");
  assert_error (r, 403, "not_a_member", NULL);
  g_clear_pointer (&r, reply_free);
  r = call (world.server, "POST", "/api/v1/uploads", world.alice,
            "{\"channel\":\"nope\",\"name\":\"x.mp4\"}");
  assert_error (r, 404, "channel_not_found", NULL);
  g_clear_pointer (&r, reply_free);
  r = call (world.server, "POST", "/api/v1/uploads", NULL, "{\"channel\":\"rec\",\"name\":\"x\"}");
  assert_error (r, 401, "unauthorized", NULL);
  g_clear_pointer (&r, reply_free);

  /* Another member cannot see, append to or complete alice's session. */
  id = create_upload (world.server, world.alice, "{\"channel\":\"rec\",\"name\":\"d.bin\"}");
  path = g_strconcat ("/api/v1/uploads/", id, NULL);
  r = call (world.server, "GET", path, world.bob, NULL);
  assert_error (r, 404, "upload_not_found", NULL);
  g_clear_pointer (&r, reply_free);
  r = put (world.server, world.bob, id, 0, "x", 1);
  assert_error (r, 404, "upload_not_found", NULL);
  g_clear_pointer (&r, reply_free);
  r = put (world.server, world.mallory, id, 0, "x", 1);
  assert_error (r, 404, "upload_not_found", NULL);
  g_clear_pointer (&r, reply_free);
  r = complete (world.server, world.bob, id,
                "0000000000000000000000000000000000000000000000000000000000000000", NULL);
  assert_error (r, 404, "upload_not_found", NULL);
  g_clear_pointer (&r, reply_free);
  r = call (world.server, "DELETE", path, world.alice, NULL);
  assert_error (r, 405, "method_not_allowed", NULL);
  g_clear_pointer (&r, reply_free);

  /* A creator who left the channel can no longer write to it. */
  {
    g_autoptr (Reply) ch
        = call (world.server, "POST", "/api/v1/channels", world.bob,
                "{\"type\":\"private\",\"name\":\"leaving\",\"members\":[\"alice\"]}");
    g_autofree char *id2 = NULL;

    assert_status (ch, 201);
    id2 = create_upload (world.server, world.alice, "{\"channel\":\"leaving\",\"name\":\"e.bin\"}");
    g_clear_pointer (&r, reply_free);
    r = call (world.server, "DELETE", "/api/v1/channels/leaving/members/alice", world.alice, NULL);
    assert_status (r, 204);
    g_clear_pointer (&r, reply_free);
    r = put (world.server, world.alice, id2, 0, "x", 1);
    assert_error (r, 403, "not_a_member", NULL);
    g_clear_pointer (&r, reply_free);
    /* …and archived channels take no uploads. */
    r = call (world.server, "POST", "/api/v1/channels/leaving/archive", world.bob, NULL);
    assert_status (r, 200);
    g_clear_pointer (&r, reply_free);
    r = call (world.server, "POST", "/api/v1/uploads", world.bob,
              "{\"channel\":\"leaving\",\"name\":\"x.mp4\"}");
    assert_error (r, 403, "channel_archived", NULL);
  }
}

static void
test_restart (void)
{
  g_autofree guint8 *data = random_bytes (3 * 1024 * 1024);
  g_autofree char *sha = sha256_of (data, 3 * 1024 * 1024);
  g_autofree char *dir = g_dir_make_tmp ("callrec-uploads-restart-XXXXXX", NULL);
  g_autofree char *admin = NULL;
  g_autofree char *id = NULL;
  g_autoptr (Reply) r = NULL;
  g_autoptr (GBytes) got = NULL;
  Server *s;

  s = server_start (dir, NULL);
  admin = read_admin_token (dir);
  r = call (s, "POST", "/api/v1/channels", admin, "{\"type\":\"public\",\"name\":\"town\"}");
  assert_status (r, 201);
  g_clear_pointer (&r, reply_free);
  id = create_upload (s, admin, "{\"channel\":\"town\",\"name\":\"big.mp4\"}");
  r = put (s, admin, id, 0, data, 1024 * 1024);
  assert_status (r, 200);
  g_clear_pointer (&r, reply_free);
  server_stop (s);

  /* Bytes past the offset (an append cut off by the stop) are dropped on resume. */
  {
    g_autofree char *part = g_build_filename (dir, "uploads", id, NULL);
    g_autoptr (GFileOutputStream) out = NULL;
    g_autoptr (GFile) f = g_file_new_for_path (part);

    out = g_file_append_to (f, G_FILE_CREATE_NONE, NULL, NULL);
    g_assert_nonnull (out);
    g_assert_true (
        g_output_stream_write_all (G_OUTPUT_STREAM (out), "garbage", 7, NULL, NULL, NULL));
  }
  s = server_start (dir, NULL);
  g_assert_cmpint (server_offset (s, admin, id), ==, 1024 * 1024);
  r = put (s, admin, id, 1024 * 1024, data + 1024 * 1024, 2 * 1024 * 1024);
  assert_status (r, 200);
  g_clear_pointer (&r, reply_free);
  server_stop (s);

  /* Completed after another restart: the server hashes the file from disk. */
  s = server_start (dir, NULL);
  r = complete (s, admin, id, sha, NULL);
  assert_status (r, 200);
  got = download (
      s, admin,
      json_object_get_string_member (
          json_object_get_object_member (json_node_get_object (r->json), "file"), "id"));
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), data, 3 * 1024 * 1024);
  server_stop (s);
  remove_tree (dir);
}

/* A client whose append stalled retries it on a new connection while the old request is
 * still open on the server: the retry wins and the stalled bytes never land. */
static void
test_stalled_append (void)
{
  guint8 a[1000], b[1000];
  g_autofree char *id = NULL;
  g_autofree char *head = NULL;
  g_autofree char *sha = NULL;
  g_autoptr (GSocketClient) sc = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) r = NULL;
  g_autoptr (GBytes) got = NULL;
  GOutputStream *out;
  char reply[64] = { 0 };
  gsize n = 0;

  ensure_world ();
  memset (a, 'A', sizeof a);
  memset (b, 'B', sizeof b);
  sha = sha256_of (b, sizeof b);
  id = create_upload (world.server, world.alice, "{\"channel\":\"rec\",\"name\":\"s.bin\"}");
  conn = g_socket_client_connect_to_uri (sc, world.server->base, 0, NULL, &error);
  g_assert_no_error (error);
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  head = g_strdup_printf ("PUT /api/v1/uploads/%s?offset=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Authorization: Bearer %s\r\nContent-Length: 1000\r\n\r\n",
                          id, world.alice);
  g_assert_true (g_output_stream_write_all (out, head, strlen (head), NULL, NULL, &error));
  g_assert_true (g_output_stream_write_all (out, a, 500, NULL, NULL, &error));
  g_assert_cmpint (server_offset (world.server, world.alice, id), ==, 0);

  r = put (world.server, world.alice, id, 0, b, sizeof b);
  assert_status (r, 200);
  g_assert_cmpint (member_int (r->json, "offset"), ==, 1000);
  g_clear_pointer (&r, reply_free);
  /* The stalled request ends: refused, its bytes dropped. */
  g_assert_true (g_output_stream_write_all (out, a + 500, 500, NULL, NULL, &error));
  g_assert_true (g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (conn)), reply,
                                          sizeof reply - 1, &n, NULL, &error));
  g_assert_true (g_str_has_prefix (reply, "HTTP/1.1 409"));
  g_assert_cmpint (server_offset (world.server, world.alice, id), ==, 1000);
  r = complete (world.server, world.alice, id, sha, NULL);
  assert_status (r, 200);
  got = download (
      world.server, world.alice,
      json_object_get_string_member (
          json_object_get_object_member (json_node_get_object (r->json), "file"), "id"));
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), b, sizeof b);
}

/* ---- the client ---- */

/* A real fragmented MP4 (H.264 + AAC, 4 s), made once with GStreamer. */
static const char *
media_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;
  g_autofree char *desc = NULL;

  if (world.media)
    return world.media;
  world.media = g_build_filename (world.dir, "source.mp4", NULL);
  desc = g_strdup_printf (
      "videotestsrc num-buffers=120 pattern=ball ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! x264enc speed-preset=ultrafast key-int-max=30 ! h264parse ! "
      "mp4mux name=mux fragment-duration=500 ! filesink location=%s "
      "audiotestsrc num-buffers=188 samplesperbuffer=1024 ! audio/x-raw,rate=48000 ! "
      "voaacenc ! mux.",
      world.media);
  pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return world.media;
}

typedef struct {
  GSubprocess *proc;
  GDataInputStream *err; /* its log, line by line */
  char *log;             /* every line read so far */
} Client;

static char *
recorder_binary (void)
{
  return g_build_filename (g_getenv ("CALLREC_BUILD_DIR"), "recorder", "callrec-recorder", NULL);
}

/* Starts `callrec-recorder upload` with the token in its environment (not its command
 * line) and @args after the common ones. */
static Client *
client_start (const char *base, const char *token, const char *const *args)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  Client *c = g_new0 (Client, 1);

  g_ptr_array_add (argv, recorder_binary ());
  g_ptr_array_add (argv, g_strdup ("upload"));
  g_ptr_array_add (argv, g_strdup ("--server"));
  g_ptr_array_add (argv, g_strdup (base));
  for (gsize i = 0; args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "CALLREC_TOKEN", token, TRUE);
  c->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
  c->err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (c->proc));
  c->log = g_strdup ("");
  return c;
}

/* Reads the client's log until a line contains @needle; FALSE at its end. */
static gboolean
client_wait_log (Client *c, const char *needle)
{
  for (;;) {
    g_autofree char *line = g_data_input_stream_read_line (c->err, NULL, NULL, NULL);
    char *joined;

    if (line == NULL)
      return FALSE;
    g_test_message ("client: %s", line);
    joined = g_strconcat (c->log, line, "\n", NULL);
    g_free (c->log);
    c->log = joined;
    if (strstr (line, needle))
      return TRUE;
  }
}

/* Waits for the exit; returns the status and (transfer full) its stdout in @out. */
static int
client_finish (Client *c, char **out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) stdout_bytes = NULL;
  int status;

  client_wait_log (c, "\x01never\x01"); /* drain the log to its end */
  stdout_bytes
      = g_input_stream_read_bytes (g_subprocess_get_stdout_pipe (c->proc), 65536, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait (c->proc, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (c->proc));
  status = g_subprocess_get_exit_status (c->proc);
  if (out)
    *out = g_strndup (g_bytes_get_data (stdout_bytes, NULL), g_bytes_get_size (stdout_bytes));
  return status;
}

static void
client_free (Client *c)
{
  g_object_unref (c->err);
  g_object_unref (c->proc);
  g_free (c->log);
  g_free (c);
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
append_file (const char *path, const guint8 *data, gsize len)
{
  g_autoptr (GFile) f = g_file_new_for_path (path);
  g_autoptr (GFileOutputStream) out = g_file_append_to (f, G_FILE_CREATE_NONE, NULL, NULL);

  g_assert_nonnull (out);
  g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (out), data, len, NULL, NULL, NULL));
}

/* Waits until the server holds @n bytes of the session (the client sends on its own). */
static void
wait_server_offset (Server *s, const char *token, const char *id, gint64 n)
{
  while (server_offset (s, token, id) < n)
    g_usleep (50 * 1000);
  g_assert_cmpint (server_offset (s, token, id), ==, n);
}

static void
assert_no_secret (const char *text, const char *token)
{
  g_assert_null (strstr (text, token));
  g_assert_null (strstr (text, token + 4)); /* not even without its prefix */
}

static void
test_client_growing_file (void)
{
  g_autofree char *source = NULL;
  gsize size = 0;
  g_autofree char *path = NULL;
  g_autofree char *id = NULL;
  g_autofree char *out = NULL;
  g_autofree char *server_log = NULL;
  g_autoptr (JsonObject) result = NULL;
  g_autoptr (GBytes) got = NULL;
  g_autofree char *got_path = NULL;
  g_auto (McInfo) info = { 0 };
  g_autoptr (GError) error = NULL;
  const gsize step = 40000;
  gsize written = 0;
  Client *c;

  ensure_world ();
  g_assert_true (g_file_get_contents (media_file (), &source, &size, NULL));
  g_assert_cmpuint (size, >, 4 * step);
  path = g_build_filename (world.dir, "growing.mp4", NULL);
  /* The session is made here so that the test can watch its offset; the client resumes it. */
  id = create_upload (
      world.server, world.alice,
      "{\"channel\":\"rec\",\"name\":\"growing.mp4\",\"content_type\":\"video/mp4\"}");
  append_file (path, (const guint8 *)source, step);
  written = step;
  c = client_start (world.server->base, world.alice,
                    (const char *const[]){ "--channel", "rec", "--file", path, "--follow",
                                           "--upload-id", id, "--poll-ms", "50", "--chunk-kb", "16",
                                           NULL });
  /* Each piece the writer adds reaches the server while the file is still growing. */
  while (written < size - step) {
    wait_server_offset (world.server, world.alice, id, written);
    append_file (path, (const guint8 *)source + written, step);
    written += step;
  }
  wait_server_offset (world.server, world.alice, id, written);
  /* The writer's last bytes, then the end: only this tail is left to send. */
  append_file (path, (const guint8 *)source + written, size - written);
  g_subprocess_send_signal (c->proc, SIGTERM);
  g_assert_cmpint (client_finish (c, &out), ==, 0);
  assert_no_secret (c->log, world.alice);
  g_assert_true (g_strrstr (c->log, "sent") != NULL); /* a progress line */
  client_free (c);

  result = parse_object (out);
  g_assert_cmpstr (json_object_get_string_member (result, "upload_id"), ==, id);
  g_assert_cmpint (json_object_get_int_member (result, "size"), ==, size);
  {
    g_autofree char *sha = sha256_of (source, size);

    g_assert_cmpstr (json_object_get_string_member (result, "sha256"), ==, sha);
  }
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS)); /* deleted once confirmed */
  got = download (world.server, world.bob, json_object_get_string_member (result, "file_id"));
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), source, size);

  got_path = g_build_filename (world.dir, "downloaded.mp4", NULL);
  g_assert_true (
      g_file_set_contents (got_path, g_bytes_get_data (got, NULL), g_bytes_get_size (got), NULL));
  g_assert_true (mc_probe (got_path, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info.video_codec, ==, "h264");
  g_assert_cmpstr (info.audio_codec, ==, "aac");
  g_assert_cmpuint (info.video_frames, ==, 120);
  g_assert_cmpfloat (info.duration_s, >, 3.9);

  g_assert_true (g_file_get_contents (world.server->log_path, &server_log, NULL, NULL));
  assert_no_secret (server_log, world.alice);
}

static guint
free_port (void)
{
  g_autoptr (GSocket) sock
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (sock, any, TRUE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* The last "retrying in X s" delay logged, in seconds. */
static double
last_delay (const char *log)
{
  const char *p = g_strrstr (log, "retrying in ");

  g_assert_nonnull (p);
  return g_ascii_strtod (p + strlen ("retrying in "), NULL);
}

static void
test_client_outage (void)
{
  g_autofree guint8 *data = random_bytes (600000);
  g_autofree char *dir = g_dir_make_tmp ("callrec-uploads-outage-XXXXXX", NULL);
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", free_port ());
  g_autofree char *path = g_build_filename (dir, "rec.mp4", NULL);
  g_autofree char *admin = NULL;
  g_autofree char *id = NULL;
  g_autofree char *out = NULL;
  g_autofree char *base = NULL;
  g_autoptr (JsonObject) result = NULL;
  g_autoptr (GBytes) got = NULL;
  g_autoptr (Reply) r = NULL;
  double d1, d2, d3;
  Server *s;
  Client *c;

  s = server_start_listen (dir, NULL, NULL, listen);
  base = g_strdup (s->base);
  admin = read_admin_token (dir);
  r = call (s, "POST", "/api/v1/channels", admin, "{\"type\":\"public\",\"name\":\"town\"}");
  assert_status (r, 201);
  id = create_upload (s, admin, "{\"channel\":\"town\",\"name\":\"rec.mp4\"}");
  append_file (path, data, 200000);
  c = client_start (base, admin,
                    (const char *const[]){ "--channel", "town", "--file", path, "--follow",
                                           "--upload-id", id, "--poll-ms", "50", "--chunk-kb", "64",
                                           "--backoff-max-ms", "1500", NULL });
  wait_server_offset (s, admin, id, 200000);
  server_stop (s);

  /* The file goes on growing while the server is away; the client backs off. */
  append_file (path, data + 200000, 300000);
  g_assert_true (client_wait_log (c, "retrying in"));
  d1 = last_delay (c->log);
  g_assert_true (client_wait_log (c, "retrying in"));
  d2 = last_delay (c->log);
  g_assert_true (client_wait_log (c, "retrying in"));
  d3 = last_delay (c->log);
  g_assert_cmpfloat (d2, >, d1);
  g_assert_cmpfloat (d3, >, d2 * 0.79); /* doubling, with jitter, up to the cap */
  g_assert_cmpfloat (d3, <=, 1.5);

  s = server_start_listen (dir, NULL, NULL, listen);
  g_assert_cmpstr (s->base, ==, base);
  wait_server_offset (s, admin, id, 500000);
  append_file (path, data + 500000, 100000);
  g_subprocess_send_signal (c->proc, SIGTERM);
  g_assert_cmpint (client_finish (c, &out), ==, 0);
  assert_no_secret (c->log, admin);
  client_free (c);
  result = parse_object (out);
  got = download (s, admin, json_object_get_string_member (result, "file_id"));
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), data, 600000);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  server_stop (s);
  remove_tree (dir);
}

static void
test_client_keeps_file_on_failure (void)
{
  g_autofree guint8 *data = random_bytes (10000);
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *dead = NULL;
  Client *c;

  ensure_world ();
  path = g_build_filename (world.dir, "kept.mp4", NULL);
  append_file (path, data, 10000);

  /* Refused: not a member of the channel. Not retried; the file stays. */
  c = client_start (world.server->base, world.mallory,
                    (const char *const[]){ "--channel", "rec", "--file", path, NULL });
  g_assert_cmpint (client_finish (c, &out), ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (c->log, "not_a_member"));
  g_assert_null (strstr (c->log, "retrying"));
  assert_no_secret (c->log, world.mallory);
  client_free (c);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Nobody listening, and a deadline: it gives up; the file stays. */
  dead = g_strdup_printf ("http://127.0.0.1:%u", free_port ());
  g_clear_pointer (&out, g_free);
  c = client_start (dead, world.alice,
                    (const char *const[]){ "--channel", "rec", "--file", path, "--give-up-after",
                                           "1", "--backoff-max-ms", "200", NULL });
  g_assert_cmpint (client_finish (c, &out), ==, 1);
  g_assert_nonnull (strstr (c->log, "no progress"));
  client_free (c);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Bad usage. */
  g_clear_pointer (&out, g_free);
  c = client_start ("ftp://127.0.0.1:1", world.alice,
                    (const char *const[]){ "--channel", "rec", "--file", path, NULL });
  g_assert_cmpint (client_finish (c, &out), ==, 2);
  client_free (c);

  /* And with a member's token the same file goes through, and is then deleted. */
  g_clear_pointer (&out, g_free);
  c = client_start (world.server->base, world.alice,
                    (const char *const[]){ "--channel", "rec", "--file", path, "--post-message",
                                           "salvaged", NULL });
  g_assert_cmpint (client_finish (c, &out), ==, 0);
  client_free (c);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  {
    g_autoptr (JsonObject) result = parse_object (out);
    g_autoptr (GBytes) got
        = download (world.server, world.bob, json_object_get_string_member (result, "file_id"));

    g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), data, 10000);
  }
}

/* A writer that rewrites the head of its file after it was sent (mp4mux does this to its
 * moov at EOS): the client notices and sends the final file in full. */
static void
test_client_head_rewritten (void)
{
  g_autofree guint8 *data = random_bytes (300000);
  g_autofree char *path = NULL;
  g_autofree char *id = NULL;
  g_autofree char *out = NULL;
  g_autoptr (JsonObject) result = NULL;
  g_autoptr (GBytes) got = NULL;
  Client *c;

  ensure_world ();
  path = g_build_filename (world.dir, "rewritten.mp4", NULL);
  id = create_upload (world.server, world.alice, "{\"channel\":\"rec\",\"name\":\"rw.mp4\"}");
  append_file (path, data, 300000);
  c = client_start (world.server->base, world.alice,
                    (const char *const[]){ "--channel", "rec", "--file", path, "--follow",
                                           "--upload-id", id, "--poll-ms", "50", NULL });
  wait_server_offset (world.server, world.alice, id, 300000);
  memset (data + 100, 0xab, 64);
  {
    g_autoptr (GFile) f = g_file_new_for_path (path);
    g_autoptr (GFileIOStream) io = g_file_open_readwrite (f, NULL, NULL);

    g_assert_nonnull (io);
    g_assert_true (g_seekable_seek (G_SEEKABLE (io), 100, G_SEEK_SET, NULL, NULL));
    g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (io)),
                                              data + 100, 64, NULL, NULL, NULL));
  }
  g_subprocess_send_signal (c->proc, SIGTERM);
  g_assert_cmpint (client_finish (c, &out), ==, 0);
  g_assert_nonnull (strstr (c->log, "changed after they were sent"));
  client_free (c);
  result = parse_object (out);
  g_assert_cmpstr (json_object_get_string_member (result, "upload_id"), !=, id);
  got = download (world.server, world.alice, json_object_get_string_member (result, "file_id"));
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), data, 300000);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/uploads/create-append-complete", test_create_append_complete);
  g_test_add_func ("/uploads/wrong-offset", test_wrong_offset);
  g_test_add_func ("/uploads/wrong-checksum", test_wrong_checksum);
  g_test_add_func ("/uploads/permissions", test_permissions);
  g_test_add_func ("/uploads/restart", test_restart);
  g_test_add_func ("/uploads/stalled-append", test_stalled_append);
  g_test_add_func ("/uploads/client/growing-file", test_client_growing_file);
  g_test_add_func ("/uploads/client/outage", test_client_outage);
  g_test_add_func ("/uploads/client/keeps-file-on-failure", test_client_keeps_file_on_failure);
  g_test_add_func ("/uploads/client/head-rewritten", test_client_head_rewritten);
  ret = g_test_run ();
  if (world.server) {
    server_stop (world.server);
    remove_tree (world.dir);
  }
  return ret;
}
