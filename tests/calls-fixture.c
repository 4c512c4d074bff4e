/* SPDX-License-Identifier: MIT */
/* The shared world of the calls process tests (test-calls.c, test-calls-rest.c). */
#include "calls-fixture.h"

#include <glib/gstdio.h>
#include <string.h>

CallsWorld world;

char *
make_user (const char *username, const char *role)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"role\":\"%s\"}", username, role);
  g_autofree char *path = g_strdup_printf ("/api/v1/users/%s/tokens", username);
  g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/users", world.admin, body);
  g_autoptr (Reply) t = NULL;

  assert_status (r, 201);
  t = call (world.server, "POST", path, world.admin, "{}");
  assert_status (t, 201);
  return g_strdup (member_string (t->json, "token"));
}

char *
make_channel (const char *name, const char *members)
{
  g_autofree char *body
      = g_strdup_printf ("{\"type\":\"public\",\"name\":\"%s\",\"members\":[%s]}", name, members);
  g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/channels", world.admin, body);

  assert_status (r, 201);
  return g_strdup (member_string (r->json, "id"));
}

void
ensure_world (void)
{
  if (world.server)
    return;
  world.dir = g_dir_make_tmp ("callrec-calls-XXXXXX", NULL);
  world.server = server_start (world.dir, NULL);
  world.admin = read_admin_token (world.dir);
  world.alice = make_user ("alice", "member");
  world.bob = make_user ("bob", "member");
  world.carol = make_user ("carol", "member");
  world.gus = make_user ("gus", "guest");
  world.gina = make_user ("gina", "guest");
  world.dave = make_user ("dave", "member");
  world.eve = make_user ("eve", "member");
  world.town = make_channel ("town", "\"alice\",\"bob\",\"carol\",\"gus\",\"eve\"");
  world.attic = make_channel ("attic", "\"alice\"");
  {
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/channels/attic/archive", world.admin, NULL);
    g_autoptr (Reply) den = call (world.server, "POST", "/api/v1/channels", world.alice,
                                  "{\"type\":\"private\",\"name\":\"den\"}");

    assert_status (r, 200);
    assert_status (den, 201);
  }
}

/* Joins @channel over a socket; returns the `joined` data's call. */
JsonObject *
join (Ws *ws, const char *channel)
{
  g_autofree char *data = g_strdup_printf ("{\"channel_id\":\"%s\"}", channel);
  JsonObject *joined;

  ws_send (ws, "join", data);
  joined = ws_wait (ws, "joined");
  g_assert_cmpstr (data_string (joined, "session_id"), ==, ws->session_id);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (joined, "ice_servers")));
  return json_object_get_object_member (joined, "call");
}

JsonArray *
participants (JsonObject *call)
{
  return json_object_get_array_member (call, "participants");
}

JsonObject *
participant (JsonObject *call, guint i)
{
  return json_array_get_object_element (participants (call), i);
}

const char *
user_id (const char *token)
{
  static GHashTable *ids; /* token -> user id */
  const char *id;

  if (ids == NULL)
    ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  id = g_hash_table_lookup (ids, token);
  if (id == NULL) {
    g_autoptr (Reply) r = call (world.server, "GET", "/api/v1/users/me", token, NULL);

    assert_status (r, 200);
    id = g_strdup (member_string (r->json, "id"));
    g_hash_table_insert (ids, g_strdup (token), (char *) id);
  }
  return id;
}

void
assert_no_call (const char *channel)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/calls/%s", channel);
  g_autoptr (Reply) r = call (world.server, "GET", path, world.admin, NULL);

  assert_error (r, 404, "no_call", NULL);
}

/* Stops a test's own server and removes its data and log. */
void
stop_and_clean (Server *s, const char *dir)
{
  g_autofree char *log = g_strdup (s->log_path);

  server_stop (s);
  remove_tree (dir);
  g_unlink (log);
}

void
finish_world (void)
{
  g_autofree char *log = NULL;
  g_autofree char *text = NULL;

  if (world.server == NULL)
    return;
  log = g_strdup (world.server->log_path);
  /* Tokens never reach the log, WebSocket auth included. */
  g_assert_true (g_file_get_contents (log, &text, NULL, NULL));
  g_assert_null (strstr (text, "crt_"));
  server_stop (world.server);
  remove_tree (world.dir);
  g_unlink (log);
}
