/* SPDX-License-Identifier: MIT */
#include "server-fixture.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

/* Removes a temporary data directory (two levels: DIR/files/<id>). */
void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree char *child = g_build_filename (path, name, NULL);

    if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      remove_tree (child);
    else
      g_unlink (child);
  }
  g_rmdir (path);
}

char *
server_binary (void)
{
  const char *build = g_getenv ("CALLREC_BUILD_DIR");

  g_assert_nonnull (build);
  return g_build_filename (build, "server", "callrec-server", NULL);
}

/* Starts the server on @dir; @env is extra NAME=VALUE pairs (NULL-terminated), @config
 * an optional --config file. */
/* A test that fails aborts without stopping its server: the kernel stops it instead. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

Server *
server_start_config (const char *dir, const char *const *env, const char *config)
{
  return server_start_listen (dir, env, config, "127.0.0.1:0");
}

Server *
server_start_listen (const char *dir, const char *const *env, const char *config,
                     const char *listen)
{
  g_autofree char *bin = server_binary ();
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  Server *s = g_new0 (Server, 1);

  s->dir = g_strdup (dir);
  s->log_path = g_strdup_printf ("%s.log", dir);
  /* Appended across restarts, so that the whole history can be searched for secrets. */
  g_subprocess_launcher_set_stderr_file_path (launcher, NULL);
  {
    int fd = g_open (s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

    g_assert_cmpint (fd, >=, 0);
    g_subprocess_launcher_take_stderr_fd (launcher, fd);
  }
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  /* Media on a free port, advertised on loopback: parallel tests never collide on 8443,
   * and clients send media only to 127.0.0.1. @env may override both. */
  g_subprocess_launcher_setenv (launcher, "CALLREC_RTC_PORT", "0", FALSE);
  g_subprocess_launcher_setenv (launcher, "CALLREC_ICE_HOST_OVERRIDE", "127.0.0.1", FALSE);
  for (gsize i = 0; env && env[i]; i++) {
    g_auto (GStrv) kv = g_strsplit (env[i], "=", 2);

    g_subprocess_launcher_setenv (launcher, kv[0], kv[1], TRUE);
  }
  s->proc = g_subprocess_launcher_spawn (launcher, &error, bin, "--data", dir, "--listen", listen,
                                         config ? "--config" : NULL, config, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (s->proc));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  g_assert_true (g_str_has_suffix (line, "/"));
  s->base
      = g_strndup (line + strlen ("listening on "), strlen (line) - strlen ("listening on ") - 1);
  return s;
}

Server *
server_start (const char *dir, const char *const *env)
{
  return server_start_config (dir, env, NULL);
}

void
server_stop (Server *s)
{
  g_autoptr (GError) error = NULL;

  g_subprocess_send_signal (s->proc, SIGTERM);
  g_assert_true (g_subprocess_wait (s->proc, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (s->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (s->proc), ==, 0);
  g_object_unref (s->proc);
  g_free (s->dir);
  g_free (s->log_path);
  g_free (s->base);
  g_free (s);
}

char *
read_admin_token (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "admin.token", NULL);
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return g_strdup (g_strstrip (text));
}

static SoupSession *
session (void)
{
  static SoupSession *s;

  if (s == NULL) {
    s = soup_session_new ();
    soup_session_set_proxy_resolver (s, NULL); /* loopback only, whatever the env says */
  }
  return s;
}

void
reply_free (Reply *r)
{
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_pointer (&r->json, json_node_unref);
  g_clear_pointer (&r->headers, soup_message_headers_unref);
  g_free (r);
}

Reply *
call_full (Server *s, const char *method, const char *path, const char *token,
           const char *content_type, const void *body, gssize len, const char *range)
{
  g_autofree char *url = g_strconcat (s->base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GError) error = NULL;
  Reply *r = g_new0 (Reply, 1);
  const char *type;

  g_assert_nonnull (msg);
  if (token) {
    g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);

    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  }
  if (range)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Range", range);
  if (body) {
    g_autoptr (GBytes) bytes = g_bytes_new (body, len < 0 ? strlen (body) : (gsize) len);

    soup_message_set_request_body_from_bytes (msg, content_type, bytes);
  }
  r->body = soup_session_send_and_read (session (), msg, NULL, &error);
  g_assert_no_error (error);
  r->status = soup_message_get_status (msg);
  r->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  type = soup_message_headers_get_content_type (r->headers, NULL);
  if (type && g_str_equal (type, "application/json")) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    gsize n = 0;
    const char *data = g_bytes_get_data (r->body, &n);

    g_assert_true (json_parser_load_from_data (parser, data, n, NULL));
    r->json = json_node_copy (json_parser_get_root (parser));
  }
  return r;
}

Reply *
call (Server *s, const char *method, const char *path, const char *token, const char *json)
{
  return call_full (s, method, path, token, "application/json", json, -1, NULL);
}

const char *
member_string (JsonNode *node, const char *name)
{
  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_get_string_member (json_node_get_object (node), name);
}

static void
show_body (Reply *r)
{
  g_test_message ("reply: %.*s", (int) g_bytes_get_size (r->body),
                  (const char *) g_bytes_get_data (r->body, NULL));
}

void
assert_error (Reply *r, guint status, const char *code, const char *field)
{
  JsonObject *err;

  if (r->status != status)
    show_body (r);
  g_assert_cmpuint (r->status, ==, status);
  g_assert_nonnull (r->json);
  err = json_object_get_object_member (json_node_get_object (r->json), "error");
  g_assert_nonnull (err);
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, code);
  g_assert_nonnull (json_object_get_string_member (err, "message"));
  if (field)
    g_assert_cmpstr (json_object_get_string_member_with_default (err, "field", NULL), ==, field);
}

void
assert_status (Reply *r, guint status)
{
  if (r->status != status)
    show_body (r);
  g_assert_cmpuint (r->status, ==, status);
}
