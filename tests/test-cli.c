/* SPDX-License-Identifier: MIT */
/* The callrec CLI against the real callrec-server: admin commands, tokens, --json, and
 * errors as one line with the right exit status. */
#include "server-fixture.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

static struct {
  char *dir;
  Server *server;
  char *admin;
} world;

typedef struct {
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs callrec with @args (NULL-terminated); the server and token come from the
 * environment unless @token overrides CALLREC_TOKEN (NULL: the admin's, "": unset). */
static void
cli (Run *r, const char *token, const char *const *args)
{
  const char *build = g_getenv ("CALLREC_BUILD_DIR");
  g_autofree char *bin = g_build_filename (build, "cli", "callrec", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  char **envp = g_get_environ ();
  g_autoptr (GError) error = NULL;

  envp = g_environ_setenv (envp, "CALLREC_SERVER", world.server->base, TRUE);
  if (token && token[0] == '\0')
    envp = g_environ_unsetenv (envp, "CALLREC_TOKEN");
  else
    envp = g_environ_setenv (envp, "CALLREC_TOKEN", token ? token : world.admin, TRUE);
  g_ptr_array_add (argv, bin);
  for (gsize i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                               &r->out, &r->err, &r->status, &error));
  g_assert_no_error (error);
  g_strfreev (envp);
  g_assert_true (WIFEXITED (r->status));
  r->status = WEXITSTATUS (r->status);
  if (r->err[0])
    g_test_message ("stderr: %s", r->err);
}

/* An error is exactly one line on stderr, nothing on stdout. */
static void
assert_failed (Run *r, int status, const char *needle)
{
  g_assert_cmpint (r->status, ==, status);
  g_assert_cmpstr (r->out, ==, "");
  g_assert_true (g_str_has_prefix (r->err, "callrec: "));
  g_assert_nonnull (strchr (r->err, '\n'));
  g_assert_cmpstr (strchr (r->err, '\n') + 1, ==, "");
  g_assert_nonnull (strstr (r->err, needle));
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
ensure_world (void)
{
  if (world.server)
    return;
  world.dir = g_dir_make_tmp ("callrec-cli-XXXXXX", NULL);
  world.server = server_start (world.dir, NULL);
  world.admin = read_admin_token (world.dir);
}

static void
test_users_and_tokens (void)
{
  g_autofree char *alice_token = NULL;

  ensure_world ();
  {
    g_auto (Run) r = { 0 };
    cli (&r, NULL,
         (const char *[]){ "admin", "user", "add", "alice", "--display-name", "Alice A", NULL });
    g_assert_cmpint (r.status, ==, 0);
    g_assert_true (g_str_has_prefix (r.out, "created user alice (member), id "));
  }
  {
    g_auto (Run) r = { 0 };
    g_autoptr (JsonObject) o = NULL;
    cli (&r, NULL,
         (const char *[]){ "--json", "admin", "user", "add", "gus", "--role", "guest", NULL });
    g_assert_cmpint (r.status, ==, 0);
    o = parse_object (r.out);
    g_assert_cmpstr (json_object_get_string_member (o, "username"), ==, "gus");
    g_assert_cmpstr (json_object_get_string_member (o, "role"), ==, "guest");
  }
  {
    g_auto (Run) r = { 0 };
    cli (&r, NULL, (const char *[]){ "admin", "user", "add", "alice", NULL });
    assert_failed (&r, 1, "409");
    g_assert_nonnull (strstr (r.err, "taken"));
  }
  {
    /* An admin makes a token for alice; the secret is the last line. */
    g_auto (Run) r = { 0 };
    g_auto (GStrv) lines = NULL;
    cli (&r, NULL,
         (const char *[]){ "token", "create", "--user", "alice", "--label", "cli", NULL });
    g_assert_cmpint (r.status, ==, 0);
    lines = g_strsplit (g_strstrip (r.out), "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 2);
    g_assert_true (g_str_has_prefix (lines[1], "crt_"));
    alice_token = g_strdup (lines[1]);
  }
  {
    /* Alice's token works: she makes her own, but cannot add users. */
    g_auto (Run) a = { 0 };
    g_auto (Run) b = { 0 };
    g_autoptr (JsonObject) o = NULL;
    cli (&a, alice_token, (const char *[]){ "token", "create", "--json", NULL });
    g_assert_cmpint (a.status, ==, 0);
    o = parse_object (a.out);
    g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "token"), "crt_"));
    cli (&b, alice_token, (const char *[]){ "admin", "user", "add", "mallory", NULL });
    assert_failed (&b, 1, "403");
  }
  {
    g_auto (Run) a = { 0 };
    g_auto (Run) b = { 0 };
    cli (&a, NULL, (const char *[]){ "admin", "user", "deactivate", "gus", NULL });
    g_assert_cmpint (a.status, ==, 0);
    g_assert_cmpstr (a.out, ==, "deactivated user gus\n");
    cli (&b, NULL, (const char *[]){ "admin", "user", "deactivate", "nobody", NULL });
    assert_failed (&b, 1, "404");
  }
}

static void
test_channels (void)
{
  g_autofree char *id = NULL;

  ensure_world ();
  {
    g_auto (Run) r = { 0 };
    cli (&r, NULL, (const char *[]){ "admin", "user", "add", "bob", NULL });
    g_assert_cmpint (r.status, ==, 0);
  }
  {
    g_auto (Run) r = { 0 };
    g_autoptr (JsonObject) o = NULL;
    cli (&r, NULL,
         (const char *[]){ "admin", "channel", "add", "ops", "--type", "private", "--json", NULL });
    g_assert_cmpint (r.status, ==, 0);
    o = parse_object (r.out);
    g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "private");
    id = g_strdup (json_object_get_string_member (o, "id"));
  }
  {
    g_auto (Run) a = { 0 };
    g_auto (Run) b = { 0 };
    g_auto (Run) c = { 0 };
    /* By name, then by id. */
    cli (&a, NULL, (const char *[]){ "admin", "member", "add", "ops", "bob", NULL });
    g_assert_cmpint (a.status, ==, 0);
    g_assert_cmpstr (a.out, ==, "added bob to ops\n");
    cli (&b, NULL, (const char *[]){ "admin", "member", "add", id, "bob", NULL });
    assert_failed (&b, 1, "already a member");
    cli (&c, NULL, (const char *[]){ "admin", "member", "remove", id, "bob", NULL });
    g_assert_cmpint (c.status, ==, 0);
  }
  {
    g_auto (Run) a = { 0 };
    g_auto (Run) b = { 0 };
    g_auto (Run) c = { 0 };
    g_auto (Run) d = { 0 };
    cli (&a, NULL, (const char *[]){ "admin", "channel", "archive", "ops", NULL });
    g_assert_cmpstr (a.out, ==, "archived channel ops\n");
    cli (&b, NULL, (const char *[]){ "admin", "member", "add", "ops", "bob", NULL });
    assert_failed (&b, 1, "archived");
    cli (&c, NULL, (const char *[]){ "admin", "channel", "delete", id, NULL });
    g_assert_cmpint (c.status, ==, 0);
    cli (&d, NULL, (const char *[]){ "admin", "channel", "archive", "ops", NULL });
    assert_failed (&d, 1, "404");
  }
  {
    g_auto (Run) r = { 0 };
    cli (&r, NULL, (const char *[]){ "admin", "channel", "add", "Bad Name", NULL });
    assert_failed (&r, 1, "name");
  }
}

/* The call commands: presence without media, link, end, stats, recording (issue 5). */
static void
test_calls (void)
{
  g_autofree char *id = NULL;

  ensure_world ();
  {
    g_auto (Run) r = { 0 };
    g_autoptr (JsonObject) o = NULL;
    cli (&r, NULL, (const char *[]){ "admin", "channel", "add", "huddle", "--json", NULL });
    g_assert_cmpint (r.status, ==, 0);
    o = parse_object (r.out);
    id = g_strdup (json_object_get_string_member (o, "id"));
  }
  {
    g_auto (Run) a = { 0 };
    g_auto (Run) b = { 0 };
    g_auto (Run) c = { 0 };
    cli (&a, NULL, (const char *[]){ "call", "start", "huddle", NULL });
    g_assert_cmpint (a.status, ==, 0);
    g_assert_true (g_str_has_prefix (a.out, "started a call in huddle (call "));
    cli (&b, NULL, (const char *[]){ "call", "start", "huddle", NULL });
    assert_failed (&b, 1, "already running");
    g_autofree char *want = g_strdup_printf ("joined the call in %s without media (1 in the call)\n", id);
    cli (&c, NULL, (const char *[]){ "call", "join", id, NULL });
    g_assert_cmpint (c.status, ==, 0);
    g_assert_cmpstr (c.out, ==, want);
  }
  {
    g_auto (Run) r = { 0 };
    g_autofree char *want = g_strdup_printf ("%s/call/%s\n", world.server->base, id);
    cli (&r, NULL, (const char *[]){ "call", "link", "huddle", NULL });
    g_assert_cmpint (r.status, ==, 0);
    g_assert_cmpstr (r.out, ==, want);
  }
  {
    g_auto (Run) a = { 0 };
    g_auto (Run) b = { 0 };
    g_auto (Run) c = { 0 };
    cli (&a, NULL, (const char *[]){ "recording", "start", "huddle", NULL });
    g_assert_cmpint (a.status, ==, 0);
    cli (&c, NULL, (const char *[]){ "recording", "stop", "huddle", NULL });
    g_assert_cmpint (c.status, ==, 0);
    cli (&b, NULL, (const char *[]){ "call", "stats", "huddle", NULL });
    assert_failed (&b, 1, "no stats");
  }
  {
    g_auto (Run) a = { 0 };
    g_auto (Run) b = { 0 };
    g_auto (Run) c = { 0 };
    cli (&a, NULL, (const char *[]){ "call", "leave", "huddle", NULL });
    g_assert_cmpint (a.status, ==, 0);
    g_assert_cmpstr (a.out, ==, "left the call in huddle\n");
    /* The last one out ended it. */
    cli (&b, NULL, (const char *[]){ "call", "end", "huddle", NULL });
    assert_failed (&b, 1, "no call");
    cli (&c, NULL, (const char *[]){ "call", "start", "huddle", NULL });
    g_assert_cmpint (c.status, ==, 0);
  }
  {
    g_auto (Run) a = { 0 };
    g_auto (Run) b = { 0 };
    cli (&a, NULL, (const char *[]){ "call", "end", "huddle", NULL });
    g_assert_cmpint (a.status, ==, 0);
    g_assert_cmpstr (a.out, ==, "ended the call in huddle\n");
    cli (&b, NULL, (const char *[]){ "call", "join", "nowhere", NULL });
    assert_failed (&b, 1, "no channel");
  }
  {
    g_auto (Run) r = { 0 };
    cli (&r, NULL, (const char *[]){ "call", "link", NULL });
    assert_failed (&r, 2, "usage: callrec call link CHANNEL");
  }
}

static void
test_usage (void)
{
  ensure_world ();
  {
    g_auto (Run) r = { 0 };
    cli (&r, NULL, (const char *[]){ "admin", "frobnicate", NULL });
    assert_failed (&r, 2, "unknown command");
  }
  {
    g_auto (Run) r = { 0 };
    cli (&r, NULL, (const char *[]){ "admin", "member", "add", "ops", NULL });
    assert_failed (&r, 2, "usage: callrec admin member add CHANNEL USER");
  }
  {
    g_auto (Run) r = { 0 };
    cli (&r, "", (const char *[]){ "token", "create", NULL });
    assert_failed (&r, 2, "CALLREC_TOKEN");
  }
  {
    g_auto (Run) r = { 0 };
    cli (&r, "crt_not_a_token", (const char *[]){ "token", "create", NULL });
    assert_failed (&r, 1, "401");
  }
  {
    g_auto (Run) r = { 0 };
    cli (&r, NULL, (const char *[]){ "--server", "http://127.0.0.1:1", "token", "create", NULL });
    assert_failed (&r, 1, "cannot reach");
  }
  {
    g_auto (Run) r = { 0 };
    cli (&r, NULL, (const char *[]){ "admin", "channel", "add", "x", "--type", "direct", NULL });
    assert_failed (&r, 2, "--type");
  }
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/users-and-tokens", test_users_and_tokens);
  g_test_add_func ("/cli/channels", test_channels);
  g_test_add_func ("/cli/calls", test_calls);
  g_test_add_func ("/cli/usage", test_usage);
  ret = g_test_run ();
  if (world.server) {
    g_autofree char *log = g_strdup (world.server->log_path);

    server_stop (world.server);
    remove_tree (world.dir);
    g_unlink (log);
  }
  return ret;
}
