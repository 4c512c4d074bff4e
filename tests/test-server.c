/* SPDX-License-Identifier: MIT */
/* callrec-server as a client sees it: the real binary on 127.0.0.1 with a free port and a
 * temporary data directory, spoken to over HTTP with libsoup's client. Covers the admin
 * bootstrap, users, tokens, channels, members, posts, the permission matrix, refused
 * bodies, files with byte ranges, metrics, the auth-failure limit and a restart. */
#include "server-fixture.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* ---- the shared world: one server, a few users ---- */

static struct {
  char *dir;
  Server *server;
  char *admin;                     /* tokens */
  char *alice, *bob, *carol, *gus; /* members alice, bob, carol; guest gus */
} world;

static char *
make_user (const char *username, const char *role)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"role\":\"%s\"}", username, role);
  g_autofree char *path = g_strdup_printf ("/api/v1/users/%s/tokens", username);
  g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/users", world.admin, body);
  g_autoptr (Reply) t = NULL;

  assert_status (r, 201);
  g_assert_cmpstr (member_string (r->json, "role"), ==, role);
  t = call (world.server, "POST", path, world.admin, "{\"label\":\"test\"}");
  assert_status (t, 201);
  g_assert_true (g_str_has_prefix (member_string (t->json, "token"), "crt_"));
  return g_strdup (member_string (t->json, "token"));
}

static const char *const world_env[] = { "CALLREC_LIMITS_MAX_UPLOAD_BYTES=200000", NULL };

static void
ensure_world (void)
{
  if (world.server)
    return;
  world.dir = g_dir_make_tmp ("callrec-server-XXXXXX", NULL);
  g_assert_nonnull (world.dir);
  world.server = server_start (world.dir, world_env);
  world.admin = read_admin_token (world.dir);
  world.alice = make_user ("alice", "member");
  world.bob = make_user ("bob", "member");
  world.carol = make_user ("carol", "member");
  world.gus = make_user ("gus", "guest");
}

static char *
make_channel (const char *token, const char *json)
{
  g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/channels", token, json);

  assert_status (r, 201);
  return g_strdup (member_string (r->json, "id"));
}

/* ---- tests ---- */

static void
test_admin_token (void)
{
  g_autofree char *path = NULL;
  g_autofree char *log = NULL;
  g_autoptr (Reply) r = NULL;
  GStatBuf sb;

  ensure_world ();
  path = g_build_filename (world.dir, "admin.token", NULL);
  g_assert_cmpint (g_stat (path, &sb), ==, 0);
  g_assert_cmpint (sb.st_mode & 0777, ==, 0600);
  g_assert_cmpuint (strlen (world.admin), ==, 4 + 64);

  r = call (world.server, "GET", "/api/v1/users/me", world.admin, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (member_string (r->json, "username"), ==, "admin");
  g_assert_cmpstr (member_string (r->json, "role"), ==, "system_admin");

  /* Logged once that it was written, never the token itself (nor any other). */
  g_assert_true (g_file_get_contents (world.server->log_path, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "admin.token"));
  g_assert_null (strstr (log, world.admin));
  g_assert_null (strstr (log, world.alice));
  g_assert_null (strstr (log, "crt_"));
}

static void
test_users (void)
{
  ensure_world ();
  {
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/users", world.admin, "{\"username\":\"alice\"}");
    assert_error (r, 409, "username_taken", "username");
  }
  {
    /* Only admins create users. */
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/users", world.alice, "{\"username\":\"mallory\"}");
    assert_error (r, 403, "forbidden", NULL);
  }
  {
    g_autoptr (Reply) r = call (world.server, "GET", "/api/v1/users", world.alice, NULL);
    assert_status (r, 200);
    g_assert_true (JSON_NODE_HOLDS_ARRAY (r->json));
    g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), >=, 5);
  }
  {
    g_autoptr (Reply) r = call (world.server, "GET", "/api/v1/users", world.gus, NULL);
    assert_error (r, 403, "forbidden", NULL);
  }
  {
    g_autoptr (Reply) r = call (world.server, "GET", "/api/v1/users/bob", world.alice, NULL);
    assert_status (r, 200);
    g_assert_cmpstr (member_string (r->json, "username"), ==, "bob");
  }
  {
    g_autoptr (Reply) r = call (world.server, "GET", "/api/v1/users/bob", world.gus, NULL);
    assert_error (r, 403, "forbidden", NULL);
  }
  {
    g_autoptr (Reply) r = call (world.server, "GET", "/api/v1/users/nobody", world.alice, NULL);
    assert_error (r, 404, "not_found", NULL);
  }
  {
    /* A token for yourself works; for someone else only as an admin. */
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/users/me/tokens", world.gus, "{}");
    g_autoptr (Reply) me = NULL;

    assert_status (r, 201);
    me = call (world.server, "GET", "/api/v1/users/me", member_string (r->json, "token"), NULL);
    assert_status (me, 200);
    g_assert_cmpstr (member_string (me->json, "username"), ==, "gus");
  }
  {
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/users/bob/tokens", world.alice, "{}");
    assert_error (r, 403, "forbidden", NULL);
  }
}

static void
test_channels (void)
{
  g_autofree char *town = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *root = NULL;

  ensure_world ();
  town = make_channel (world.alice, "{\"type\":\"public\",\"name\":\"town\"}");
  secret = make_channel (world.alice,
                         "{\"type\":\"private\",\"name\":\"secret\",\"members\":[\"bob\"]}");
  {
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/channels", world.bob,
                                "{\"type\":\"public\",\"name\":\"town\"}");
    assert_error (r, 409, "name_taken", "name");
  }
  {
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/channels", world.gus,
                                "{\"type\":\"public\",\"name\":\"guests\"}");
    assert_error (r, 403, "forbidden", NULL);
  }
  {
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/channels", world.bob, "{\"type\":\"private\"}");
    assert_error (r, 400, "invalid_field", "name");
  }
  {
    /* Names of direct and group channels cannot be squatted. */
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/channels", world.bob,
                                "{\"type\":\"public\",\"name\":\"dm-a-b\"}");
    assert_error (r, 400, "invalid_field", "name");
  }
  {
    /* By name and by id. */
    g_autoptr (Reply) a = call (world.server, "GET", "/api/v1/channels/secret", world.bob, NULL);
    g_autofree char *path = g_strdup_printf ("/api/v1/channels/%s", secret);
    g_autoptr (Reply) b = call (world.server, "GET", path, world.bob, NULL);

    assert_status (a, 200);
    assert_status (b, 200);
    g_assert_cmpstr (member_string (a->json, "id"), ==, secret);
    g_assert_cmpstr (member_string (b->json, "name"), ==, "secret");
    g_assert_cmpstr (member_string (b->json, "type"), ==, "private");
  }
  {
    /* Non-members: a private channel is closed; a public one is readable but not
     * writable; guests see neither. */
    g_autoptr (Reply) a = call (world.server, "GET", "/api/v1/channels/secret", world.carol, NULL);
    g_autoptr (Reply) b = call (world.server, "GET", "/api/v1/channels/town", world.carol, NULL);
    g_autoptr (Reply) c = call (world.server, "POST", "/api/v1/channels/town/posts", world.carol,
                                "{\"message\":\"hi\"}");
    g_autoptr (Reply) d = call (world.server, "GET", "/api/v1/channels/town", world.gus, NULL);
    g_autoptr (Reply) e
        = call (world.server, "GET", "/api/v1/channels/secret/posts", world.carol, NULL);

    assert_error (a, 403, "not_a_member", NULL);
    assert_status (b, 200);
    assert_error (c, 403, "not_a_member", NULL);
    assert_error (d, 403, "not_a_member", NULL);
    assert_error (e, 403, "not_a_member", NULL);
  }
  {
    /* Members add members; a non-member cannot add itself to a private channel but can
     * join a public one; a guest cannot add anyone. */
    g_autoptr (Reply) a = call (world.server, "POST", "/api/v1/channels/secret/members",
                                world.carol, "{\"user\":\"carol\"}");
    g_autoptr (Reply) b = call (world.server, "POST", "/api/v1/channels/town/members", world.carol,
                                "{\"user\":\"carol\"}");
    g_autoptr (Reply) c = call (world.server, "POST", "/api/v1/channels/secret/members", world.bob,
                                "{\"user\":\"gus\"}");
    g_autoptr (Reply) d = call (world.server, "POST", "/api/v1/channels/secret/members", world.gus,
                                "{\"user\":\"carol\"}");
    g_autoptr (Reply) e = call (world.server, "POST", "/api/v1/channels/secret/members", world.bob,
                                "{\"user\":\"gus\"}");

    assert_error (a, 403, "not_a_member", NULL);
    assert_status (b, 201);
    assert_status (c, 201);
    g_assert_cmpstr (member_string (c->json, "username"), ==, "gus");
    assert_error (d, 403, "forbidden", NULL);
    assert_error (e, 409, "already_member", "user");
  }
  {
    g_autoptr (Reply) r
        = call (world.server, "GET", "/api/v1/channels/secret/members", world.gus, NULL);
    JsonArray *a;

    assert_status (r, 200);
    a = json_node_get_array (r->json);
    g_assert_cmpuint (json_array_get_length (a), ==, 3);
    g_assert_cmpstr (
        json_object_get_string_member (json_array_get_object_element (a, 0), "username"), ==,
        "alice");
    g_assert_cmpstr (
        json_object_get_string_member (json_array_get_object_element (a, 2), "username"), ==,
        "gus");
  }
  {
    /* A guest member posts and reads; threads. */
    g_autoptr (Reply) p = call (world.server, "POST", "/api/v1/channels/secret/posts", world.gus,
                                "{\"message\":\"hello\\nall\",\"props\":{\"k\":[1,{\"x\":true}]}}");
    g_autoptr (Reply) reply = NULL;
    g_autoptr (Reply) roots = NULL;
    g_autoptr (Reply) thread = NULL;
    g_autofree char *body = NULL;
    g_autofree char *thread_path = NULL;
    JsonObject *props;

    assert_status (p, 201);
    root = g_strdup (member_string (p->json, "id"));
    g_assert_cmpstr (member_string (p->json, "message"), ==, "hello\nall");
    props = json_object_get_object_member (json_node_get_object (p->json), "props");
    g_assert_nonnull (props);
    g_assert_true (json_object_has_member (props, "k"));
    body = g_strdup_printf ("{\"message\":\"a reply\",\"root_id\":\"%s\"}", root);
    reply = call (world.server, "POST", "/api/v1/channels/secret/posts", world.bob, body);
    assert_status (reply, 201);
    g_assert_cmpstr (member_string (reply->json, "root_id"), ==, root);

    roots = call (world.server, "GET", "/api/v1/channels/secret/posts", world.alice, NULL);
    assert_status (roots, 200);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (roots->json)), ==, 1);
    thread_path = g_strdup_printf ("/api/v1/channels/secret/posts?root_id=%s", root);
    thread = call (world.server, "GET", thread_path, world.alice, NULL);
    assert_status (thread, 200);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (thread->json)), ==, 2);
  }
  {
    /* A thread root must be a root post of the same channel. */
    g_autofree char *body = g_strdup_printf ("{\"message\":\"x\",\"root_id\":\"%s\"}", root);
    g_autoptr (Reply) a
        = call (world.server, "POST", "/api/v1/channels/town/posts", world.alice, body);
    g_autoptr (Reply) b
        = call (world.server, "GET", "/api/v1/channels/secret/posts?limit=0", world.alice, NULL);

    assert_error (a, 404, "not_found", "root_id");
    assert_error (b, 400, "invalid_field", "limit");
  }
  {
    /* Leaving, and removing by someone without the right. */
    g_autoptr (Reply) a
        = call (world.server, "DELETE", "/api/v1/channels/secret/members/alice", world.bob, NULL);
    g_autoptr (Reply) b
        = call (world.server, "DELETE", "/api/v1/channels/town/members/carol", world.carol, NULL);
    g_autoptr (Reply) c
        = call (world.server, "DELETE", "/api/v1/channels/town/members/carol", world.carol, NULL);
    g_autoptr (Reply) mine = call (world.server, "GET", "/api/v1/channels", world.bob, NULL);

    assert_error (a, 403, "forbidden", NULL);
    assert_status (b, 204);
    assert_error (c, 404, "not_a_member", NULL);
    assert_status (mine, 200);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (mine->json)), ==, 1);
  }
  {
    /* Direct channels: one per pair, fixed members. */
    g_autoptr (Reply) a = call (world.server, "POST", "/api/v1/channels", world.alice,
                                "{\"type\":\"direct\",\"members\":[\"bob\"]}");
    g_autoptr (Reply) b = call (world.server, "POST", "/api/v1/channels", world.bob,
                                "{\"type\":\"direct\",\"members\":[\"alice\"]}");
    g_autofree char *path = NULL;
    g_autoptr (Reply) c = NULL;

    assert_status (a, 201);
    assert_status (b, 200);
    g_assert_cmpstr (member_string (a->json, "id"), ==, member_string (b->json, "id"));
    path = g_strdup_printf ("/api/v1/channels/%s/members", member_string (a->json, "id"));
    c = call (world.server, "POST", path, world.alice, "{\"user\":\"carol\"}");
    assert_error (c, 403, "forbidden", NULL);
  }
}

static void
test_deactivated (void)
{
  g_autofree char *dave = NULL;

  ensure_world ();
  dave = make_user ("dave", "member");
  {
    g_autoptr (Reply) a
        = call (world.server, "POST", "/api/v1/users/dave/deactivate", world.alice, NULL);
    g_autoptr (Reply) b
        = call (world.server, "POST", "/api/v1/users/dave/deactivate", world.admin, NULL);

    assert_error (a, 403, "forbidden", NULL);
    assert_status (b, 200);
    g_assert_true (json_object_get_boolean_member (json_node_get_object (b->json), "deactivated"));
  }
  {
    g_autoptr (Reply) a = call (world.server, "GET", "/api/v1/users/me", dave, NULL);
    g_autoptr (Reply) b = call (world.server, "POST", "/api/v1/channels", dave,
                                "{\"type\":\"public\",\"name\":\"daves\"}");
    g_autoptr (Reply) c = NULL;
    g_autoptr (Reply) d = NULL;
    g_autofree char *ch = make_channel (world.alice, "{\"type\":\"private\",\"name\":\"deact\"}");

    assert_error (a, 401, "user_deactivated", NULL);
    assert_error (b, 401, "user_deactivated", NULL);
    c = call (world.server, "POST", "/api/v1/channels/deact/members", world.alice,
              "{\"user\":\"dave\"}");
    assert_error (c, 409, "user_deactivated", "user");
    d = call (world.server, "POST", "/api/v1/users/dave/tokens", world.admin, "{}");
    assert_error (d, 409, "user_deactivated", NULL);
  }
}

static void
test_archived_deleted (void)
{
  g_autofree char *id = NULL;

  ensure_world ();
  id = make_channel (world.alice, "{\"type\":\"private\",\"name\":\"old\",\"members\":[\"bob\"]}");
  {
    g_autoptr (Reply) a
        = call (world.server, "POST", "/api/v1/channels/old/archive", world.bob, NULL);
    g_autoptr (Reply) b
        = call (world.server, "POST", "/api/v1/channels/old/archive", world.alice, NULL);
    g_autoptr (Reply) c
        = call (world.server, "POST", "/api/v1/channels/old/archive", world.alice, NULL);

    assert_error (a, 403, "forbidden", NULL);
    assert_status (b, 200);
    g_assert_true (json_object_get_boolean_member (json_node_get_object (b->json), "archived"));
    assert_error (c, 409, "channel_archived", NULL);
  }
  {
    /* Readable, not writable. */
    g_autoptr (Reply) a = call (world.server, "GET", "/api/v1/channels/old/posts", world.bob, NULL);
    g_autoptr (Reply) b = call (world.server, "POST", "/api/v1/channels/old/posts", world.bob,
                                "{\"message\":\"late\"}");
    g_autoptr (Reply) c = call (world.server, "POST", "/api/v1/channels/old/members", world.alice,
                                "{\"user\":\"carol\"}");
    g_autoptr (Reply) d = call_full (world.server, "POST", "/api/v1/channels/old/files?name=a.txt",
                                     world.bob, "text/plain", "abc", 3, NULL);

    assert_status (a, 200);
    assert_error (b, 403, "channel_archived", NULL);
    assert_error (c, 403, "channel_archived", NULL);
    assert_error (d, 403, "channel_archived", NULL);
  }
  {
    g_autoptr (Reply) a = call (world.server, "DELETE", "/api/v1/channels/old", world.bob, NULL);
    g_autoptr (Reply) b = call (world.server, "DELETE", "/api/v1/channels/old", world.admin, NULL);
    g_autoptr (Reply) c = call (world.server, "GET", "/api/v1/channels/old", world.alice, NULL);
    g_autofree char *path = g_strdup_printf ("/api/v1/channels/%s/posts", id);
    g_autoptr (Reply) d = call (world.server, "GET", path, world.admin, NULL);
    g_autoptr (Reply) e = call (world.server, "GET", "/api/v1/channels", world.bob, NULL);

    assert_error (a, 403, "forbidden", NULL);
    assert_status (b, 204);
    assert_error (c, 404, "channel_not_found", NULL);
    assert_error (d, 404, "channel_not_found", NULL);
    for (guint i = 0; i < json_array_get_length (json_node_get_array (e->json)); i++)
      g_assert_cmpstr (json_object_get_string_member (
                           json_array_get_object_element (json_node_get_array (e->json), i), "id"),
                       !=, id);
  }
}

static void
test_bad_requests (void)
{
  static const struct {
    const char *body;
    const char *code;
    const char *field;
  } cases[] = {
    { "", "malformed_json", NULL },
    { "{", "malformed_json", NULL },
    { "{\"username\":\"x\",}", "malformed_json", NULL },
    { "{'username':'x'}", "malformed_json", NULL },
    { "[\"username\"]", "malformed_json", NULL },
    { "{\"username\":\"x\"} {}", "malformed_json", NULL },
    { "{\"username\":\"a\\u0000b\"}", "malformed_json", NULL },
    { "{\"username\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", "malformed_json", NULL },
    { "{\"username\":42}", "invalid_field", "username" },
    { "{\"username\":\"\"}", "invalid_field", "username" },
    { "{\"username\":\"UPPER\"}", "invalid_field", "username" },
    { "{\"username\":\"ok\",\"role\":\"root\"}", "invalid_field", "role" },
    { "{\"username\":\"ok\",\"admin\":true}", "invalid_field", "admin" },
    { "{\"display_name\":\"no name\"}", "invalid_field", "username" },
    { "{\"username\":\"ok\",\"display_name\":\"tab\\there\"}", "invalid_field", "display_name" },
  };
  g_autofree char *big = NULL;

  ensure_world ();
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/users", world.admin, cases[i].body);

    g_test_message ("body %s", cases[i].body);
    assert_error (r, 400, cases[i].code, cases[i].field);
  }
  {
    g_autoptr (Reply) a = call (world.server, "POST", "/api/v1/channels", world.alice,
                                "{\"type\":\"group\",\"members\":\"bob\"}");
    g_autoptr (Reply) b = call (world.server, "POST", "/api/v1/channels/town/posts", world.alice,
                                "{\"message\":\"x\",\"props\":[1]}");
    g_autoptr (Reply) c = call (world.server, "POST", "/api/v1/channels/town/posts", world.alice,
                                "{\"message\":\"x\",\"file_ids\":[\"\"]}");

    assert_error (a, 400, "invalid_field", "members");
    assert_error (b, 400, "invalid_field", "props");
    assert_error (c, 400, "invalid_field", "file_ids");
  }
  {
    /* Over the 1 MiB JSON limit: refused before it is read. */
    big = g_malloc (2 * 1024 * 1024 + 1);
    memset (big, ' ', 2 * 1024 * 1024);
    big[2 * 1024 * 1024] = '\0';
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/channels/town/posts", world.alice, big);
    assert_error (r, 413, "too_large", NULL);
  }
  {
    g_autoptr (Reply) a = call (world.server, "GET", "/api/v1/users/me", NULL, NULL);
    g_autoptr (Reply) b = call (world.server, "GET", "/api/v1/nothing", world.alice, NULL);
    g_autoptr (Reply) c = call (world.server, "PUT", "/api/v1/users", world.alice, "{}");
    g_autoptr (Reply) d = call (world.server, "GET", "/nothing", NULL, NULL);

    assert_error (a, 401, "unauthorized", NULL);
    assert_error (b, 404, "not_found", NULL);
    assert_error (c, 405, "method_not_allowed", NULL);
    assert_error (d, 404, "not_found", NULL);
  }
}

static GBytes *
test_pattern (gsize size)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (i * 7 + i / 251) & 0xff;
  return g_bytes_new_take (data, size);
}

static const char *
header (Reply *r, const char *name)
{
  return soup_message_headers_get_one (r->headers, name);
}

static void
test_files (void)
{
  g_autoptr (GBytes) content = test_pattern (150000);
  const guint8 *bytes = g_bytes_get_data (content, NULL);
  g_autofree char *file_id = NULL;
  g_autofree char *path = NULL;
  g_autofree char *files_dir = NULL;

  ensure_world ();
  g_free (make_channel (world.alice,
                        "{\"type\":\"private\",\"name\":\"media\",\"members\":[\"gus\"]}"));
  {
    /* Non-members cannot upload; nothing is left on disk. */
    g_autoptr (Reply) r
        = call_full (world.server, "POST", "/api/v1/channels/media/files?name=x.mp4", world.carol,
                     "video/mp4", bytes, 150000, NULL);
    g_autoptr (GDir) dir = NULL;
    const char *name;

    assert_error (r, 403, "not_a_member", NULL);
    files_dir = g_build_filename (world.dir, "files", NULL);
    dir = g_dir_open (files_dir, 0, NULL);
    while ((name = g_dir_read_name (dir)))
      g_assert_false (g_str_has_suffix (name, ".part"));
  }
  {
    g_autoptr (Reply) a
        = call_full (world.server, "POST", "/api/v1/channels/media/files?name=a%2Fb", world.alice,
                     "video/mp4", "x", 1, NULL);
    g_autoptr (Reply) b = call_full (world.server, "POST", "/api/v1/channels/media/files",
                                     world.alice, "video/mp4", "x", 1, NULL);
    g_autoptr (GBytes) huge = test_pattern (250000);
    g_autoptr (Reply) c
        = call_full (world.server, "POST", "/api/v1/channels/media/files?name=big.mp4", world.alice,
                     "video/mp4", g_bytes_get_data (huge, NULL), 250000, NULL);

    assert_error (a, 400, "invalid_field", "name");
    assert_error (b, 400, "invalid_field", "name");
    assert_error (c, 413, "too_large", NULL);
  }
  {
    /* A guest member uploads; the type comes from the name when the body's is generic. */
    g_autoptr (Reply) r
        = call_full (world.server, "POST", "/api/v1/channels/media/files?name=call%20one.mp4",
                     world.gus, "application/octet-stream", bytes, 150000, NULL);
    g_autofree char *sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, content);

    assert_status (r, 201);
    g_assert_cmpstr (member_string (r->json, "content_type"), ==, "video/mp4");
    g_assert_cmpstr (member_string (r->json, "name"), ==, "call one.mp4");
    g_assert_cmpstr (member_string (r->json, "sha256"), ==, sha);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (r->json), "size"), ==,
                     150000);
    file_id = g_strdup (member_string (r->json, "id"));
  }
  path = g_strdup_printf ("/api/v1/files/%s", file_id);
  {
    g_autoptr (Reply) r = call_full (world.server, "GET", path, world.alice, NULL, NULL, 0, NULL);

    assert_status (r, 200);
    g_assert_true (g_bytes_equal (r->body, content));
    g_assert_cmpstr (header (r, "Content-Type"), ==, "video/mp4");
    g_assert_cmpstr (header (r, "Accept-Ranges"), ==, "bytes");
    g_assert_true (g_str_has_prefix (header (r, "Content-Disposition"), "inline"));
  }
  {
    g_autoptr (Reply) r
        = call_full (world.server, "GET", path, world.alice, NULL, NULL, 0, "bytes=1000-1999");
    g_autoptr (GBytes) want = g_bytes_new_from_bytes (content, 1000, 1000);

    assert_status (r, 206);
    g_assert_cmpstr (header (r, "Content-Range"), ==, "bytes 1000-1999/150000");
    g_assert_true (g_bytes_equal (r->body, want));
  }
  {
    g_autoptr (Reply) a
        = call_full (world.server, "GET", path, world.alice, NULL, NULL, 0, "bytes=-100");
    g_autoptr (Reply) b
        = call_full (world.server, "GET", path, world.alice, NULL, NULL, 0, "bytes=149990-");
    g_autoptr (Reply) c
        = call_full (world.server, "GET", path, world.alice, NULL, NULL, 0, "bytes=149990-999999");
    g_autoptr (GBytes) tail = g_bytes_new_from_bytes (content, 149900, 100);

    assert_status (a, 206);
    g_assert_cmpstr (header (a, "Content-Range"), ==, "bytes 149900-149999/150000");
    g_assert_true (g_bytes_equal (a->body, tail));
    assert_status (b, 206);
    g_assert_cmpuint (g_bytes_get_size (b->body), ==, 10);
    assert_status (c, 206);
    g_assert_cmpstr (header (c, "Content-Range"), ==, "bytes 149990-149999/150000");
  }
  {
    g_autoptr (Reply) a
        = call_full (world.server, "GET", path, world.alice, NULL, NULL, 0, "bytes=150000-");
    g_autoptr (Reply) b
        = call_full (world.server, "GET", path, world.alice, NULL, NULL, 0, "bytes=0-1,5-9");
    g_autoptr (Reply) c
        = call_full (world.server, "GET", path, world.alice, NULL, NULL, 0, "bytes=9-5");

    assert_error (a, 416, "range_not_satisfiable", NULL);
    g_assert_cmpstr (header (a, "Content-Range"), ==, "bytes */150000");
    assert_status (b, 200);
    g_assert_true (g_bytes_equal (b->body, content));
    assert_status (c, 200);
  }
  {
    /* Members only, for downloads too. */
    g_autoptr (Reply) a = call_full (world.server, "GET", path, world.carol, NULL, NULL, 0, NULL);
    g_autoptr (Reply) b
        = call (world.server, "GET", "/api/v1/files/aaaaaaaaaaaaaaaaaaaaaaaaaa", world.alice, NULL);

    assert_error (a, 403, "not_a_member", NULL);
    assert_error (b, 404, "file_not_found", NULL);
  }
  {
    /* Attach to a post: only the uploader, only once. */
    g_autofree char *body
        = g_strdup_printf ("{\"message\":\"the call\",\"file_ids\":[\"%s\"]}", file_id);
    g_autoptr (Reply) a
        = call (world.server, "POST", "/api/v1/channels/media/posts", world.alice, body);
    g_autoptr (Reply) b
        = call (world.server, "POST", "/api/v1/channels/media/posts", world.gus, body);
    g_autoptr (Reply) c
        = call (world.server, "POST", "/api/v1/channels/media/posts", world.gus, body);
    g_autofree char *info_path = g_strdup_printf ("/api/v1/files/%s/info", file_id);
    g_autoptr (Reply) info = NULL;
    JsonArray *ids;

    assert_error (a, 409, "conflict", "file_ids");
    assert_status (b, 201);
    ids = json_object_get_array_member (json_node_get_object (b->json), "file_ids");
    g_assert_cmpuint (json_array_get_length (ids), ==, 1);
    g_assert_cmpstr (json_array_get_string_element (ids, 0), ==, file_id);
    assert_error (c, 409, "conflict", "file_ids");
    info = call (world.server, "GET", info_path, world.alice, NULL);
    assert_status (info, 200);
    g_assert_cmpstr (member_string (info->json, "post_id"), ==, member_string (b->json, "id"));
  }
  {
    /* Anything that is not media downloads as an attachment. */
    const char *html = "<script>alert(1)</script>";
    g_autoptr (Reply) up
        = call_full (world.server, "POST", "/api/v1/channels/media/files?name=x.html", world.alice,
                     "text/html", html, -1, NULL);
    g_autofree char *p = NULL;
    g_autoptr (Reply) r = NULL;

    assert_status (up, 201);
    p = g_strdup_printf ("/api/v1/files/%s", member_string (up->json, "id"));
    r = call_full (world.server, "GET", p, world.alice, NULL, NULL, 0, NULL);
    assert_status (r, 200);
    g_assert_true (g_str_has_prefix (header (r, "Content-Disposition"), "attachment"));
    g_assert_cmpstr (header (r, "X-Content-Type-Options"), ==, "nosniff");
  }
}

static void
test_metrics (void)
{
  g_autoptr (Reply) r = NULL;
  g_autoptr (Reply) h = NULL;
  g_autoptr (GRegex) sample = g_regex_new ("^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"["
                                           "^\"]*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\")*\\})? "
                                           "-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$",
                                           0, 0, NULL);
  g_auto (GStrv) lines = NULL;
  gint64 ok_count = -1, db_size = -1, auth_failures = -1;
  g_autofree char *text = NULL;

  ensure_world ();
  {
    g_autoptr (Reply) bad = call (world.server, "GET", "/api/v1/users/me", "crt_wrong", NULL);
    assert_error (bad, 401, "invalid_token", NULL);
  }
  h = call (world.server, "GET", "/healthz", NULL, NULL);
  assert_status (h, 200);
  g_assert_cmpstr (member_string (h->json, "status"), ==, "ok");
  r = call (world.server, "GET", "/metrics", NULL, NULL);
  assert_status (r, 200);
  g_assert_true (g_str_has_prefix (header (r, "Content-Type"), "text/plain"));
  text = g_strndup (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body));
  g_assert_true (g_str_has_suffix (text, "\n"));
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i]; i++) {
    const char *l = lines[i];

    if (l[0] == '\0')
      continue;
    if (l[0] == '#') {
      g_assert_true (g_str_has_prefix (l, "# HELP ") || g_str_has_prefix (l, "# TYPE "));
      continue;
    }
    g_assert_true (g_regex_match (sample, l, 0, NULL));
    if (g_str_has_prefix (l, "callrec_http_requests_total{status=\"200\"} "))
      ok_count = g_ascii_strtoll (strchr (l, ' ') + 1, NULL, 10);
    else if (g_str_has_prefix (l, "callrec_db_size_bytes "))
      db_size = g_ascii_strtoll (strchr (l, ' ') + 1, NULL, 10);
    else if (g_str_has_prefix (l, "callrec_auth_failures_total "))
      auth_failures = g_ascii_strtoll (strchr (l, ' ') + 1, NULL, 10);
  }
  g_assert_cmpint (ok_count, >=, 1);
  g_assert_cmpint (db_size, >, 4096);
  g_assert_cmpint (auth_failures, >=, 1);
  g_assert_nonnull (strstr (text, "callrec_websockets_open 0\n"));
}

/* Last of the shared-world tests: stop, start again on the same directory. */
static void
test_restart (void)
{
  g_autofree char *token_before = NULL;
  g_autofree char *token_after = NULL;
  g_autofree char *log = NULL;
  g_autofree char *upload_id = NULL;

  ensure_world ();
  g_free (make_channel (world.bob, "{\"type\":\"public\",\"name\":\"lasting\"}"));
  {
    g_autoptr (Reply) p = call (world.server, "POST", "/api/v1/channels/lasting/posts", world.bob,
                                "{\"message\":\"still here\"}");
    g_autoptr (Reply) f
        = call_full (world.server, "POST", "/api/v1/channels/lasting/files?name=n.txt", world.bob,
                     "text/plain", "0123456789", 10, NULL);
    assert_status (p, 201);
    assert_status (f, 201);
    upload_id = g_strdup (member_string (f->json, "id"));
  }
  token_before = read_admin_token (world.dir);
  server_stop (world.server);
  world.server = server_start (world.dir, world_env);
  token_after = read_admin_token (world.dir);
  g_assert_cmpstr (token_before, ==, token_after);
  {
    g_autoptr (Reply) me = call (world.server, "GET", "/api/v1/users/me", world.bob, NULL);
    g_autoptr (Reply) posts
        = call (world.server, "GET", "/api/v1/channels/lasting/posts", world.bob, NULL);
    g_autoptr (Reply) members
        = call (world.server, "GET", "/api/v1/channels/secret/members", world.alice, NULL);
    g_autoptr (Reply) dave = call (world.server, "GET", "/api/v1/users/dave", world.admin, NULL);
    g_autofree char *path = g_strdup_printf ("/api/v1/files/%s", upload_id);
    g_autoptr (Reply) file
        = call_full (world.server, "GET", path, world.bob, NULL, NULL, 0, "bytes=3-5");
    JsonArray *a;

    assert_status (me, 200);
    g_assert_cmpstr (member_string (me->json, "username"), ==, "bob");
    assert_status (posts, 200);
    a = json_node_get_array (posts->json);
    g_assert_cmpuint (json_array_get_length (a), ==, 1);
    g_assert_cmpstr (
        json_object_get_string_member (json_array_get_object_element (a, 0), "message"), ==,
        "still here");
    if (members->status == 200)
      g_assert_cmpuint (json_array_get_length (json_node_get_array (members->json)), >=, 2);
    if (dave->status == 200)
      g_assert_true (
          json_object_get_boolean_member (json_node_get_object (dave->json), "deactivated"));
    assert_status (file, 206);
    g_assert_cmpuint (g_bytes_get_size (file->body), ==, 3);
    g_assert_cmpmem (g_bytes_get_data (file->body, NULL), 3, "345", 3);
  }
  /* The admin was created once: one "created system admin" line across both runs. */
  g_assert_true (g_file_get_contents (world.server->log_path, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "created system admin"));
  g_assert_null (strstr (strstr (log, "created system admin") + 1, "created system admin"));
}

static void
test_rate_limit (void)
{
  g_autofree char *dir = g_dir_make_tmp ("callrec-server-XXXXXX", NULL);
  const char *env[] = { "CALLREC_LIMITS_AUTH_FAILURES_PER_MINUTE=3", "CALLREC_LOG_FORMAT=json",
                        NULL };
  Server *s = server_start (dir, env);
  g_autofree char *admin = read_admin_token (dir);

  for (int i = 0; i < 3; i++) {
    g_autoptr (Reply) r = call (s, "GET", "/api/v1/users/me", "crt_guess", NULL);
    assert_error (r, 401, "invalid_token", NULL);
  }
  {
    /* The address is now refused, even with a good token, until its minute is over. */
    g_autoptr (Reply) a = call (s, "GET", "/api/v1/users/me", "crt_guess", NULL);
    g_autoptr (Reply) b = call (s, "GET", "/api/v1/users/me", admin, NULL);
    guint64 retry = 0;

    assert_error (a, 429, "rate_limited", NULL);
    assert_error (b, 429, "rate_limited", NULL);
    g_assert_nonnull (header (a, "Retry-After"));
    g_assert_true (g_ascii_string_to_unsigned (header (a, "Retry-After"), 10, 1, 61, &retry, NULL));
  }
  server_stop (s);
  remove_tree (dir);
  {
    /* Logged as JSON, one object per line, as configured from the environment. */
    g_autofree char *log = g_strdup_printf ("%s.log", dir);
    g_autofree char *text = NULL;
    g_auto (GStrv) lines = NULL;
    guint n = 0;

    g_assert_true (g_file_get_contents (log, &text, NULL, NULL));
    lines = g_strsplit (text, "\n", -1);
    for (gsize i = 0; lines[i]; i++) {
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *o;

      if (lines[i][0] == '\0')
        continue;
      g_assert_true (json_parser_load_from_data (parser, lines[i], -1, NULL));
      o = json_node_get_object (json_parser_get_root (parser));
      g_assert_nonnull (json_object_get_string_member (o, "ts"));
      g_assert_nonnull (json_object_get_string_member (o, "level"));
      g_assert_nonnull (json_object_get_string_member (o, "msg"));
      n++;
    }
    g_assert_cmpuint (n, >=, 3); /* migrated, admin created, listening */
    g_assert_nonnull (strstr (text, "\"msg\":\"created system admin"));
    g_unlink (log);
  }
}

static void
test_usage (void)
{
  g_autofree char *bin = server_binary ();
  g_autofree char *dir = g_dir_make_tmp ("callrec-server-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename (dir, "bad.conf", NULL);
  const char *no_data[] = { bin, "--listen", "127.0.0.1:0", NULL };
  const char *bad_listen[] = { bin, "--data", dir, "--listen", "nowhere", NULL };
  const char *bad_conf[] = { bin, "--data", dir, "--config", conf, NULL };
  const char *const *cases[] = { no_data, bad_listen, bad_conf };
  g_autofree char *sample
      = g_build_filename (g_getenv ("CALLREC_SOURCE_DIR"), "config", "callrec-server.conf", NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  g_assert_true (g_file_set_contents (conf, "[limits]\nmax_body_byte = 5\n", -1, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    int status = -1;
    g_autofree char *err = NULL;
    char **envp = g_environ_unsetenv (g_get_environ (), "CALLREC_DATA_DIR");

    g_assert_true (g_spawn_sync (NULL, (char **) cases[i], envp, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                 NULL, NULL, &err, &status, NULL));
    g_strfreev (envp);
    g_assert_true (WIFEXITED (status));
    g_assert_cmpint (WEXITSTATUS (status), ==, 2);
    g_assert_true (g_str_has_prefix (err, "callrec-server: "));
  }
  /* The sample configuration loads as it ships. */
  g_assert_true (g_key_file_load_from_file (kf, sample, G_KEY_FILE_NONE, NULL));
  g_assert_cmpint (g_key_file_get_integer (kf, "rtc", "port", NULL), ==, 8443);
  g_assert_cmpint (g_key_file_get_integer (kf, "recording", "max_duration_min", NULL), ==, 60);
  g_assert_cmpint (g_key_file_get_integer (kf, "recording", "warning_offset_min", NULL), ==, 10);
  /* And the server starts with it (the command line's --listen wins over the file's). */
  {
    g_autofree char *data = g_build_filename (dir, "data", NULL);
    Server *s = server_start_config (data, NULL, sample);
    g_autoptr (Reply) r = call (s, "GET", "/healthz", NULL, NULL);

    assert_status (r, 200);
    server_stop (s);
  }
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/admin-token", test_admin_token);
  g_test_add_func ("/server/users", test_users);
  g_test_add_func ("/server/channels", test_channels);
  g_test_add_func ("/server/deactivated", test_deactivated);
  g_test_add_func ("/server/archived-deleted", test_archived_deleted);
  g_test_add_func ("/server/bad-requests", test_bad_requests);
  g_test_add_func ("/server/files", test_files);
  g_test_add_func ("/server/metrics", test_metrics);
  g_test_add_func ("/server/restart", test_restart);
  g_test_add_func ("/server/rate-limit", test_rate_limit);
  g_test_add_func ("/server/usage", test_usage);
  ret = g_test_run ();
  if (world.server) {
    g_autofree char *log = g_strdup (world.server->log_path);

    server_stop (world.server);
    remove_tree (world.dir);
    g_unlink (log);
  }
  return ret;
}
