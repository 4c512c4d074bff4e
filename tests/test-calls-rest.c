/* SPDX-License-Identifier: MIT */
/* The calls REST API of docs/api.md against the real callrec-server: presence without
 * media (what `callrec call join` does) seen from a WebSocket, metrics, the call thread,
 * the call link and its end with the channel, client and SFU stats, recording's
 * placeholder, and a restart ending the calls the last process left running. */
#include "calls-fixture.h"

#include <string.h>

static void
test_rest_presence (void)
{
  g_autoptr (Ws) a = NULL;
  JsonObject *data;
  g_autoptr (Reply) r = NULL;

  ensure_world ();
  a = ws_connect (world.server, world.alice, NULL);
  /* REST start: carol owns and hosts a call she is not in. */
  r = call (world.server, "POST", "/api/v1/calls/town/start", world.carol, NULL);
  assert_status (r, 201);
  g_assert_cmpstr (member_string (r->json, "host_id"), ==, user_id (world.carol));
  data = ws_expect (a, "call_start");
  g_clear_pointer (&r, reply_free);
  /* The call thread's root post is in the channel. */
  {
    g_autofree char *path
        = g_strdup_printf ("/api/v1/channels/town/posts?root_id=%s",
                           data_string (json_object_get_object_member (data, "call"), "thread_id"));
    g_autoptr (Reply) posts = call (world.server, "GET", path, world.alice, NULL);

    assert_status (posts, 200);
    g_assert_nonnull (strstr (
        member_string (json_array_get_element (json_node_get_array (posts->json), 0), "message"),
        "carol"));
  }
  join (a, "town");
  /* Bob joins without media, as `callrec call join` does; the socket sees him. */
  r = call (world.server, "POST", "/api/v1/calls/town/join", world.bob, NULL);
  assert_status (r, 200);
  data = ws_expect (a, "user_joined");
  g_assert_false (json_object_get_boolean_member (
      json_object_get_object_member (data, "participant"), "media"));
  g_clear_pointer (&r, reply_free);
  r = call_full (world.server, "GET", "/metrics", NULL, NULL, NULL, 0, NULL);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body),
                                  "callrec_call_participants 2\n"));
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body),
                                  "callrec_calls_active 1\n"));
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body),
                                  "callrec_websockets_open "));
  g_clear_pointer (&r, reply_free);
  r = call (world.server, "POST", "/api/v1/calls/town/leave", world.bob, NULL);
  assert_status (r, 204);
  ws_expect (a, "user_left");
  g_clear_pointer (&r, reply_free);
  r = call (world.server, "POST", "/api/v1/calls/town/leave", world.bob, NULL);
  assert_error (r, 409, "not_in_call", NULL);
  g_clear_pointer (&r, reply_free);
  /* REST leave also takes a socket participant out. */
  r = call (world.server, "POST", "/api/v1/calls/town/leave", world.alice, NULL);
  assert_status (r, 204);
  ws_expect (a, "user_left");
  data = ws_expect (a, "call_end");
  g_assert_cmpstr (data_string (data, "reason"), ==, "empty");
  ws_expect_error (a, "not_in_call", ws_send (a, "mute", NULL));
}

static void
test_link (void)
{
  g_autofree char *id = NULL;
  g_autofree char *gone = NULL;
  g_autofree char *link_path = NULL;

  ensure_world ();
  id = make_channel ("lobby", "\"alice\"");
  gone = make_channel ("cellar", "\"alice\"");
  {
    g_autoptr (Reply) r
        = call (world.server, "GET", "/api/v1/channels/lobby/call-link", world.alice, NULL);
    g_autofree char *suffix = g_strdup_printf ("/call/%s", id);

    assert_status (r, 200);
    g_assert_cmpstr (member_string (r->json, "channel_id"), ==, id);
    g_assert_true (g_str_has_prefix (member_string (r->json, "url"), world.server->base));
    g_assert_true (g_str_has_suffix (member_string (r->json, "url"), suffix));
    link_path = g_strdup (suffix);
  }
  {
    g_autoptr (Reply) r
        = call (world.server, "GET", "/api/v1/channels/lobby/call-link", world.gina, NULL);
    assert_error (r, 403, "not_a_member", NULL);
  }
  {
    /* While the channel lives the link is the web client's (not a "gone" answer). */
    g_autoptr (Reply) r = call (world.server, "GET", link_path, NULL, NULL);

    g_assert_cmpuint (r->status, !=, 410);
    g_assert_cmpuint (r->status, <, 500);
  }
  {
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/channels/lobby/archive", world.admin, NULL);
    g_autoptr (Reply) link = NULL;
    g_autoptr (Reply) api = NULL;

    assert_status (r, 200);
    link = call (world.server, "GET", link_path, NULL, NULL);
    assert_error (link, 410, "channel_archived", NULL);
    g_assert_nonnull (strstr (
        json_object_get_string_member (
            json_object_get_object_member (json_node_get_object (link->json), "error"), "message"),
        "no longer works"));
    api = call (world.server, "GET", "/api/v1/channels/lobby/call-link", world.alice, NULL);
    assert_error (api, 403, "channel_archived", NULL);
  }
  {
    g_autoptr (Reply) r
        = call (world.server, "DELETE", "/api/v1/channels/cellar", world.admin, NULL);
    g_autofree char *path = g_strdup_printf ("/call/%s", gone);
    g_autoptr (Reply) link = NULL;

    assert_status (r, 204);
    link = call (world.server, "GET", path, NULL, NULL);
    assert_error (link, 404, "channel_not_found", NULL);
  }
}

/* ---- stats ---- */

static void
test_stats (void)
{
  g_autoptr (Ws) a = NULL;
  const char *first_call;
  g_autofree char *first = NULL;

  ensure_world ();
  a = ws_connect (world.server, world.alice, NULL);
  first = g_strdup (data_string (join (a, "town"), "id"));
  first_call = first;
  {
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/calls/town/stats", world.alice,
                                "{\"audio\":{\"bytes_sent\":1234},\"rtt\":0.02}");
    assert_status (r, 204);
  }
  {
    /* Not in the call: refused; bad bodies refused. */
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/calls/town/stats", world.bob, "{\"a\":1}");
    g_autofree char *pad = g_strnfill (70000, 'x');
    g_autofree char *big = g_strdup_printf ("{\"a\":\"%s\"}", pad);
    g_autoptr (Reply) r2
        = call (world.server, "POST", "/api/v1/calls/town/stats", world.alice, big);
    g_autoptr (Reply) r3
        = call (world.server, "POST", "/api/v1/calls/town/stats", world.alice, "[1]");

    assert_error (r, 409, "not_in_call", NULL);
    assert_error (r2, 413, "too_large", NULL);
    assert_error (r3, 400, "malformed_json", NULL);
  }
  ws_send (a, "leave", NULL);
  ws_wait (a, "call_end");
  {
    /* Still there after leaving, and after the call ended. */
    g_autoptr (Reply) r = call (world.server, "GET", "/api/v1/calls/town/stats", world.alice, NULL);
    JsonObject *o;

    assert_status (r, 200);
    o = json_node_get_object (r->json);
    g_assert_cmpstr (json_object_get_string_member (o, "call_id"), ==, first_call);
    g_assert_cmpint (
        json_object_get_int_member (
            json_object_get_object_member (json_object_get_object_member (o, "stats"), "audio"),
            "bytes_sent"),
        ==, 1234);
  }
  {
    /* Admins read anyone's; others only their own. */
    g_autoptr (Reply) r
        = call (world.server, "GET", "/api/v1/calls/town/stats?user=alice", world.admin, NULL);
    g_autoptr (Reply) r2
        = call (world.server, "GET", "/api/v1/calls/town/stats?user=alice", world.bob, NULL);
    g_autoptr (Reply) r3 = call (world.server, "GET", "/api/v1/calls/town/stats", world.bob, NULL);

    assert_status (r, 200);
    assert_error (r2, 403, "forbidden", NULL);
    assert_error (r3, 404, "no_stats", NULL);
  }
  /* A new call replaces them: gone on joining, the new ones after posting. */
  join (a, "town");
  {
    g_autoptr (Reply) r = call (world.server, "GET", "/api/v1/calls/town/stats", world.alice, NULL);
    assert_error (r, 404, "no_stats", NULL);
  }
  {
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/calls/town/stats", world.alice, "{\"round\":2}");
    g_autoptr (Reply) r2 = NULL;

    assert_status (r, 204);
    r2 = call (world.server, "GET", "/api/v1/calls/town/stats", world.alice, NULL);
    assert_status (r2, 200);
    g_assert_cmpstr (member_string (r2->json, "call_id"), !=, first_call);
    g_assert_cmpint (
        json_object_get_int_member (
            json_object_get_object_member (json_node_get_object (r2->json), "stats"), "round"),
        ==, 2);
  }
  {
    /* Server-side SFU stats: admins only; nobody has media here. */
    g_autoptr (Reply) r
        = call (world.server, "GET", "/api/v1/calls/town/sfu-stats", world.admin, NULL);
    g_autoptr (Reply) r2
        = call (world.server, "GET", "/api/v1/calls/town/sfu-stats", world.alice, NULL);

    assert_status (r, 200);
    g_assert_true (JSON_NODE_HOLDS_ARRAY (r->json));
    g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==, 0);
    assert_error (r2, 403, "forbidden", NULL);
  }
  {
    /* Recording (docs/recording.md; end to end in test-recording-e2e.c): host-only, one
     * at a time. */
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/calls/town/recording/start", world.alice, NULL);
    g_autoptr (Reply) again
        = call (world.server, "POST", "/api/v1/calls/town/recording/start", world.alice, NULL);
    g_autoptr (Reply) r2
        = call (world.server, "POST", "/api/v1/calls/town/recording/stop", world.bob, NULL);
    g_autoptr (Reply) r3
        = call (world.server, "POST", "/api/v1/calls/attic/recording/start", world.alice, NULL);
    g_autoptr (Reply) stop = NULL;
    g_autoptr (Reply) stop2 = NULL;
    const char *state;

    assert_status (r, 201);
    g_assert_cmpstr (member_string (r->json, "state"), ==, "initializing");
    assert_error (again, 409, "recording_running", NULL);
    assert_error (r2, 403, "forbidden", NULL);
    assert_error (r3, 404, "no_call", NULL);
    stop = call (world.server, "POST", "/api/v1/calls/town/recording/stop", world.alice, NULL);
    assert_status (stop, 200);
    /* Stopped before its recorder reported media it fails; after, it is stopping. */
    state = member_string (stop->json, "state");
    g_assert_true (g_str_equal (state, "failed") || g_str_equal (state, "stopping"));
    if (g_str_equal (state, "failed")) {
      stop2 = call (world.server, "POST", "/api/v1/calls/town/recording/stop", world.alice, NULL);
      assert_error (stop2, 409, "no_recording", NULL);
    }
  }
  ws_send (a, "leave", NULL);
  ws_wait (a, "call_end");
}

/* Calls survive in the history; a restart ends the ones that were running. */
static void
test_restart (void)
{
  g_autofree char *dir = g_dir_make_tmp ("callrec-calls-XXXXXX", NULL);
  Server *s = server_start (dir, NULL);
  g_autofree char *admin = read_admin_token (dir);
  g_autoptr (Reply) r
      = call (s, "POST", "/api/v1/channels", admin, "{\"type\":\"public\",\"name\":\"hall\"}");

  assert_status (r, 201);
  g_clear_pointer (&r, reply_free);
  r = call (s, "POST", "/api/v1/calls/hall/join", admin, NULL);
  assert_status (r, 200);
  g_clear_pointer (&r, reply_free);
  server_stop (s);
  s = server_start (dir, NULL);
  r = call (s, "GET", "/api/v1/calls/hall", admin, NULL);
  assert_error (r, 404, "no_call", NULL);
  g_clear_pointer (&r, reply_free);
  r = call (s, "POST", "/api/v1/calls/hall/join", admin, NULL);
  assert_status (r, 200);
  stop_and_clean (s, dir);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calls/rest/presence", test_rest_presence);
  g_test_add_func ("/calls/rest/link", test_link);
  g_test_add_func ("/calls/rest/stats", test_stats);
  g_test_add_func ("/calls/rest/restart", test_restart);
  ret = g_test_run ();
  finish_world ();
  return ret;
}
