/* SPDX-License-Identifier: MIT */
/* Calls as clients see them over the signaling WebSocket: the real callrec-server on
 * 127.0.0.1 (free HTTP and RTC ports) and libsoup WebSocket clients speaking
 * docs/signaling.md. Authentication, bad messages, limits, the call state machine and its
 * permission matrix, broadcasts and late joiners, hand/reaction/chat, deactivation. The
 * REST side (presence, link, stats, restart) is test-calls-rest.c; media (webrtcbin
 * clients) test-calls-media.c. */
#include "calls-fixture.h"

#include <string.h>

/* ---- authentication ---- */

static void
test_auth (void)
{
  guint status = 0;

  ensure_world ();
  {
    /* Header: hello names the user. */
    g_autoptr (Ws) ws = ws_connect (world.server, world.alice, NULL);

    g_assert_nonnull (ws);
    g_assert_nonnull (ws->session_id);
  }
  {
    /* A bad header token: the upgrade is refused with the REST error. */
    g_autoptr (Ws) ws = ws_connect (world.server, "crt_nope", &status);

    g_assert_null (ws);
    g_assert_cmpuint (status, ==, 401);
  }
  {
    /* First-message auth; a second auth is refused, the session stays. */
    g_autoptr (Ws) ws = ws_connect_auth (world.server, world.bob);
    g_autofree char *data = g_strdup_printf ("{\"token\":\"%s\"}", world.bob);
    gint64 seq = ws_send (ws, "auth", data);

    ws_expect_error (ws, "already_authenticated", seq);
    seq = ws_send (ws, "leave", NULL);
    ws_expect_error (ws, "not_in_call", seq);
  }
  {
    /* Anything before auth: refused and closed. */
    g_autoptr (Ws) ws = ws_connect (world.server, NULL, NULL);
    gint64 seq = ws_send (ws, "join", "{\"channel_id\":\"town\"}");

    ws_expect_error (ws, "not_authenticated", seq);
    g_assert_cmpuint (ws_wait_closed (ws), ==, 1008);
  }
  {
    /* A malformed first message: its error, then the close. */
    g_autoptr (Ws) ws = ws_connect (world.server, NULL, NULL);

    ws_send_raw (ws, "{not json");
    ws_expect_error (ws, "malformed_json", -1);
    g_assert_cmpuint (ws_wait_closed (ws), ==, 1008);
  }
  {
    /* A bad token in auth. */
    g_autoptr (Ws) ws = ws_connect (world.server, NULL, NULL);
    gint64 seq = ws_send (ws, "auth", "{\"token\":\"crt_0000\"}");

    ws_expect_error (ws, "invalid_token", seq);
    g_assert_cmpuint (ws_wait_closed (ws), ==, 1008);
  }
}

static void
test_deactivated (void)
{
  g_autofree char *tok = NULL;
  guint status = 0;

  ensure_world ();
  tok = make_user ("doomed", "member");
  {
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/channels/town/members", world.admin,
                                "{\"user\":\"doomed\"}");
    assert_status (r, 201);
  }
  {
    g_autoptr (Ws) a = ws_connect (world.server, world.alice, NULL);
    g_autoptr (Ws) d = ws_connect (world.server, tok, NULL);
    JsonObject *data;

    join (a, "town");
    join (d, "town");
    ws_expect (a, "user_joined");
    /* Deactivated while in a call: out of the call, told why, closed. */
    {
      g_autoptr (Reply) r
          = call (world.server, "POST", "/api/v1/users/doomed/deactivate", world.admin, NULL);
      assert_status (r, 200);
    }
    data = ws_expect (a, "user_left");
    g_assert_cmpstr (data_string (data, "session_id"), ==, d->session_id);
    ws_wait (d, "user_left");
    ws_expect_error (d, "user_deactivated", -1);
    g_assert_cmpuint (ws_wait_closed (d), ==, 1008);
    ws_send (a, "leave", NULL);
    ws_wait (a, "call_end");
  }
  /* And cannot come back, by header or by message. */
  g_assert_null (ws_connect (world.server, tok, &status));
  g_assert_cmpuint (status, ==, 401);
  {
    g_autoptr (Ws) ws = ws_connect (world.server, NULL, NULL);
    g_autofree char *data = g_strdup_printf ("{\"token\":\"%s\"}", tok);
    gint64 seq = ws_send (ws, "auth", data);

    ws_expect_error (ws, "user_deactivated", seq);
    ws_wait_closed (ws);
  }
  assert_no_call ("town");
}

/* ---- validation ---- */

static void
test_bad_messages (void)
{
  g_autoptr (Ws) ws = NULL;
  static const struct {
    const char *text;
    const char *code;
    gint64 seq; /* echoed, or -1 */
  } cases[] = {
    { "{not json", "malformed_json", -1 },
    { "[1,2]", "malformed_json", -1 },
    { "{\"type\":\"mute\",\"seq\":1,}", "malformed_json", -1 },
    { "{\"type\":\"mute\"}", "invalid_field", -1 },
    { "{\"type\":\"mute\",\"seq\":-1}", "invalid_field", -1 },
    { "{\"type\":\"mute\",\"seq\":1.5}", "invalid_field", -1 },
    { "{\"type\":\"mute\",\"seq\":9007199254740992}", "invalid_field", -1 },
    { "{\"type\":7,\"seq\":3}", "invalid_field", 3 },
    { "{\"seq\":4}", "invalid_field", 4 },
    { "{\"type\":\"bogus\",\"seq\":5}", "unknown_type", 5 },
    { "{\"type\":\"mute\",\"seq\":6,\"extra\":1}", "invalid_field", -1 },
    { "{\"type\":\"mute\",\"seq\":7,\"data\":[]}", "invalid_field", 7 },
    { "{\"type\":\"mute\",\"seq\":8,\"data\":{\"x\":1}}", "invalid_field", 8 },
    { "{\"type\":\"join\",\"seq\":9,\"data\":{}}", "invalid_field", 9 },
    { "{\"type\":\"join\",\"seq\":10,\"data\":{\"channel_id\":5}}", "invalid_field", 10 },
    { "{\"type\":\"join\",\"seq\":11,\"data\":{\"channel_id\":\"\"}}", "invalid_field", 11 },
    { "{\"type\":\"join\",\"seq\":12,\"data\":{\"channel_id\":\"a\\nb\"}}", "invalid_field", 12 },
    { "{\"type\":\"sdp\",\"seq\":13,\"data\":{\"type\":\"pranswer\",\"sdp\":\"v=0\"}}",
      "invalid_field", 13 },
    { "{\"type\":\"ice\",\"seq\":14,\"data\":{\"candidate\":\"x\",\"sdp_mline_index\":-1}}",
      "invalid_field", 14 },
    { "{\"type\":\"react\",\"seq\":15,\"data\":{\"emoji\":\"\"}}", "invalid_field", 15 },
    /* A duplicate member: the last one counts (json-glib), then the usual checks. */
    { "{\"type\":\"auth\",\"seq\":16,\"data\":{\"token\":\"x\",\"token\":\"y\"}}",
      "already_authenticated", 16 },
    { "{\"type\":\"mute\",\"seq\":17,\"data\":{\"a\":\"\\u0000\"}}", "malformed_json", -1 },
  };

  ensure_world ();
  ws = ws_connect (world.server, world.carol, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    JsonObject *data;

    g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].text);
    ws_send_raw (ws, cases[i].text);
    data = ws_expect (ws, "error");
    g_assert_cmpstr (data_string (data, "code"), ==, cases[i].code);
    g_assert_cmpint (json_object_get_int_member_with_default (data, "seq", -1), ==, cases[i].seq);
  }
  /* Binary frames are not messages. */
  ws_send_binary (ws, "\x01\x02", 2);
  ws_expect_error (ws, "malformed_json", -1);
  /* In-call messages outside a call. */
  ws_expect_error (ws, "not_in_call", ws_send (ws, "raise_hand", NULL));
  ws_expect_error (ws, "not_in_call", ws_send (ws, "sdp", "{\"type\":\"answer\",\"sdp\":\"v=0\"}"));
  /* The session survived all of it. */
  join (ws, "town");
  ws_send (ws, "leave", NULL);
  ws_expect (ws, "user_left");
  ws_expect (ws, "call_end");
  /* A job_id joins only with that job's own token (docs/recording.md). */
  ws_expect_error (ws, "forbidden",
                   ws_send (ws, "join", "{\"channel_id\":\"town\",\"job_id\":\"j1\"}"));
  assert_no_call ("town");
}

static void
test_limits (void)
{
  g_autofree char *dir = g_dir_make_tmp ("callrec-calls-XXXXXX", NULL);
  const char *env[] = { "CALLREC_LIMITS_WS_MAX_MESSAGE_BYTES=1024",
                        "CALLREC_LIMITS_WS_MESSAGES_PER_SECOND=5", NULL };
  Server *s = server_start (dir, env);
  g_autofree char *admin = read_admin_token (dir);
  g_autofree char *big = NULL;
  guint answered = 0;
  gboolean limited = FALSE;

  {
    g_autoptr (Ws) ws = ws_connect (s, admin, NULL);
    g_autofree char *pad = g_strnfill (1100, 'x');

    /* Over the limit: refused, the session stays. */
    big = g_strdup_printf ("{\"type\":\"react\",\"seq\":1,\"data\":{\"emoji\":\"%s\"}}", pad);
    ws_send_raw (ws, big);
    ws_expect_error (ws, "too_large", -1);
    ws_expect_error (ws, "not_in_call", ws_send (ws, "mute", NULL));
  }
  {
    /* Far over it (more than 4x): libsoup drops the socket (a 1009 close frame, which
     * may not reach us before the connection goes). */
    g_autoptr (Ws) ws = ws_connect (s, admin, NULL);
    g_autofree char *huge = g_strnfill (5000, 'x');
    gushort code;

    ws_send_raw (ws, huge);
    code = ws_wait_closed (ws);
    g_assert_true (code == 1009 || code == 0);
  }
  {
    /* 200 messages at once against 5 per second: most are dropped, with one error per
     * second that overflows, and the session is still served afterwards. */
    g_autoptr (Ws) ws = ws_connect (s, admin, NULL);

    for (int i = 0; i < 200; i++)
      ws_send (ws, "lower_hand", NULL);
    while (!limited) {
      JsonObject *data = ws_expect (ws, "error");

      if (g_str_equal (data_string (data, "code"), "rate_limited"))
        limited = TRUE;
      else
        answered++;
    }
    g_assert_cmpuint (answered, >=, 5);
    g_assert_cmpuint (answered, <, 200);
  }
  stop_and_clean (s, dir);
}

/* ---- the call state machine ---- */

static void
test_permissions (void)
{
  static const struct {
    const char **token;
    const char *channel;
    const char *code;
  } refused[] = {
    { (const char **) &world.dave, "town", "not_a_member" }, /* member, not in the channel */
    { (const char **) &world.gina, "town", "not_a_member" }, /* guest, not in the channel */
    { (const char **) &world.admin, "den", "not_a_member" }, /* admins join as members */
    { (const char **) &world.alice, "attic", "channel_archived" },
    { (const char **) &world.alice, "nowhere", "channel_not_found" },
  };

  ensure_world ();
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++) {
    g_autoptr (Ws) ws = ws_connect (world.server, *refused[i].token, NULL);
    g_autofree char *data = g_strdup_printf ("{\"channel_id\":\"%s\"}", refused[i].channel);
    g_autofree char *path = g_strdup_printf ("/api/v1/calls/%s/join", refused[i].channel);
    g_autoptr (Reply) r = NULL;

    ws_expect_error (ws, refused[i].code, ws_send (ws, "join", data));
    r = call (world.server, "POST", path, *refused[i].token, NULL);
    assert_error (r, g_str_equal (refused[i].code, "channel_not_found") ? 404 : 403,
                  refused[i].code, NULL);
  }
  {
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/calls/attic/start", world.alice, NULL);
    assert_error (r, 403, "channel_archived", NULL);
  }
  {
    /* A guest who is a member joins (and here starts the call). */
    g_autoptr (Ws) g = ws_connect (world.server, world.gus, NULL);
    JsonObject *c = join (g, "town");

    g_assert_cmpstr (data_string (c, "host_id"), ==, user_id (world.gus));
    ws_send (g, "leave", NULL);
    ws_expect (g, "user_left");
    ws_expect (g, "call_end");
  }
  assert_no_call ("town");
  {
    /* Removed from the channel, removed from its call. */
    g_autofree char *tok = make_user ("passing", "member");
    g_autoptr (Ws) a = ws_connect (world.server, world.alice, NULL);
    g_autoptr (Reply) add = call (world.server, "POST", "/api/v1/channels/town/members",
                                  world.admin, "{\"user\":\"passing\"}");
    g_autoptr (Reply) j = NULL;
    g_autoptr (Reply) rm = NULL;
    JsonObject *data;

    assert_status (add, 201);
    join (a, "town");
    j = call (world.server, "POST", "/api/v1/calls/town/join", tok, NULL);
    assert_status (j, 200);
    ws_expect (a, "user_joined");
    rm = call (world.server, "DELETE", "/api/v1/channels/town/members/passing", world.admin,
               NULL);
    assert_status (rm, 204);
    data = ws_expect (a, "user_left");
    g_assert_cmpstr (data_string (data, "user_id"), ==, user_id (tok));
    ws_send (a, "leave", NULL);
    ws_expect (a, "user_left");
    ws_expect (a, "call_end");
  }
}

static void
test_host_handover (void)
{
  g_autoptr (Ws) a = NULL;
  g_autoptr (Ws) b = NULL;
  g_autoptr (Ws) c = NULL;
  g_autoptr (Ws) watcher = NULL;
  g_autoptr (Ws) a2 = NULL;
  JsonObject *callobj, *data;

  ensure_world ();
  /* Carol is online but not in the call: she hears call_start and call_end. */
  watcher = ws_connect (world.server, world.carol, NULL);
  a = ws_connect (world.server, world.alice, NULL);
  b = ws_connect (world.server, world.bob, NULL);
  c = ws_connect (world.server, world.gus, NULL);

  callobj = join (a, "town");
  g_assert_cmpstr (data_string (callobj, "host_id"), ==, user_id (world.alice));
  g_assert_cmpstr (data_string (callobj, "owner_id"), ==, user_id (world.alice));
  g_assert_cmpuint (json_array_get_length (participants (callobj)), ==, 1);
  g_assert_true (json_object_get_boolean_member (participant (callobj, 0), "muted"));
  data = ws_expect (watcher, "call_start");
  g_assert_cmpstr (data_string (json_object_get_object_member (data, "call"), "id"), ==,
                   data_string (callobj, "id"));

  callobj = join (b, "town");
  g_assert_cmpuint (json_array_get_length (participants (callobj)), ==, 2);
  g_assert_cmpstr (data_string (participant (callobj, 0), "username"), ==, "alice");
  data = ws_expect (a, "user_joined");
  g_assert_cmpstr (data_string (json_object_get_object_member (data, "participant"), "username"),
                   ==, "bob");
  join (c, "town");
  ws_expect (a, "user_joined");
  ws_expect (b, "user_joined");

  /* One session per user per call; one call per session. */
  a2 = ws_connect (world.server, world.alice, NULL);
  ws_expect_error (a2, "already_in_call", ws_send (a2, "join", "{\"channel_id\":\"town\"}"));
  ws_expect_error (a, "in_another_call", ws_send (a, "join", "{\"channel_id\":\"town\"}"));
  {
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/calls/town/join", world.alice, NULL);
    assert_error (r, 409, "already_in_call", NULL);
  }
  {
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/calls/town/start", world.bob, NULL);
    assert_error (r, 409, "call_running", NULL);
  }

  /* The host leaves: the longest-present participant (bob) becomes host. */
  ws_send (a, "leave", NULL);
  data = ws_expect (a, "user_left");
  g_assert_cmpstr (data_string (data, "user_id"), ==, user_id (world.alice));
  data = ws_expect (b, "user_left");
  g_assert_cmpstr (data_string (data, "session_id"), ==, a->session_id);
  data = ws_expect (b, "call_host_changed");
  g_assert_cmpstr (data_string (data, "host_id"), ==, user_id (world.bob));
  ws_expect (c, "user_left");
  ws_expect (c, "call_host_changed");
  {
    g_autoptr (Reply) r = call (world.server, "GET", "/api/v1/calls/town", world.carol, NULL);
    assert_status (r, 200);
    g_assert_cmpstr (member_string (r->json, "host_id"), ==, user_id (world.bob));
  }

  /* Alice rejoins: she is not host again, and is listed last. */
  callobj = join (a, "town");
  g_assert_cmpstr (data_string (callobj, "host_id"), ==, user_id (world.bob));
  g_assert_cmpstr (data_string (participant (callobj, 2), "username"), ==, "alice");
  ws_expect (b, "user_joined");
  ws_expect (c, "user_joined");

  /* Only the host or an admin ends it. */
  {
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/calls/town/end", world.alice, NULL);
    assert_error (r, 403, "forbidden", NULL);
  }
  {
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/calls/town/end", world.bob, NULL);
    assert_status (r, 204);
  }
  for (Ws **w = (Ws *[]){ a, b, c, watcher, NULL }; *w; w++) {
    data = ws_wait (*w, "call_end");
    g_assert_cmpstr (data_string (data, "reason"), ==, "ended");
    g_assert_cmpstr (data_string (data, "channel_id"), ==, world.town);
  }
  assert_no_call ("town");
  /* Out of the call, sessions are free to join again. */
  ws_expect_error (b, "not_in_call", ws_send (b, "mute", NULL));

  /* A call ended by an admin who is not in it. */
  join (a, "town");
  {
    g_autoptr (Reply) r = call (world.server, "POST", "/api/v1/calls/town/end", world.admin, NULL);
    assert_status (r, 204);
  }
  data = ws_wait (a, "call_end");
  g_assert_cmpstr (data_string (data, "reason"), ==, "ended");

  /* The last to leave ends it: a socket closing counts as leaving. */
  join (a, "town");
  join (b, "town");
  ws_expect (a, "user_joined");
  g_clear_pointer (&b, ws_free);
  ws_wait (a, "user_left");
  ws_send (a, "leave", NULL);
  data = ws_wait (a, "call_end");
  g_assert_cmpstr (data_string (data, "reason"), ==, "empty");
  assert_no_call ("town");
}

static void
test_in_call (void)
{
  g_autoptr (Ws) a = NULL;
  g_autoptr (Ws) b = NULL;
  g_autoptr (Ws) late = NULL;
  JsonObject *data, *callobj, *me;
  const char *thread;

  ensure_world ();
  a = ws_connect (world.server, world.alice, NULL);
  b = ws_connect_auth (world.server, world.bob);
  callobj = join (a, "town");
  thread = data_string (callobj, "thread_id");
  join (b, "town");
  ws_expect (a, "user_joined");

  ws_send (a, "unmute", NULL);
  for (Ws **w = (Ws *[]){ a, b, NULL }; *w; w++) {
    data = ws_expect (*w, "user_unmuted");
    g_assert_cmpstr (data_string (data, "user_id"), ==, user_id (world.alice));
    g_assert_cmpstr (data_string (data, "session_id"), ==, a->session_id);
  }
  ws_send (b, "mute", NULL);
  ws_expect (a, "user_muted");
  ws_expect (b, "user_muted");

  ws_send (a, "raise_hand", NULL);
  data = ws_expect (b, "user_raised_hand");
  g_assert_cmpint (json_object_get_int_member (data, "raised_at"), >, 0);
  ws_expect (a, "user_raised_hand");

  ws_send (b, "react", "{\"emoji\":\"\xf0\x9f\x91\x8d\"}");
  for (Ws **w = (Ws *[]){ a, b, NULL }; *w; w++) {
    data = ws_expect (*w, "user_reacted");
    g_assert_cmpstr (data_string (data, "emoji"), ==, "\xf0\x9f\x91\x8d");
    g_assert_cmpstr (data_string (data, "user_id"), ==, user_id (world.bob));
  }

  /* One screen share at a time. */
  ws_send (a, "screen_on", NULL);
  ws_expect (a, "user_screen_on");
  ws_expect (b, "user_screen_on");
  ws_expect_error (b, "screen_busy", ws_send (b, "screen_on", NULL));

  /* Chat: a reply in the call thread reaches the call; a root post does not. */
  {
    g_autofree char *body = g_strdup_printf ("{\"message\":\"hi all\",\"root_id\":\"%s\"}", thread);
    g_autoptr (Reply) r
        = call (world.server, "POST", "/api/v1/channels/town/posts", world.bob, body);
    g_autoptr (Reply) r2 = call (world.server, "POST", "/api/v1/channels/town/posts", world.bob,
                                 "{\"message\":\"elsewhere\"}");

    assert_status (r, 201);
    assert_status (r2, 201);
    for (Ws **w = (Ws *[]){ a, b, NULL }; *w; w++) {
      JsonObject *post;

      data = ws_expect (*w, "post_created");
      post = json_object_get_object_member (data, "post");
      g_assert_cmpstr (data_string (post, "message"), ==, "hi all");
      g_assert_cmpstr (data_string (post, "root_id"), ==, thread);
    }
  }

  /* A late joiner gets the whole state. */
  late = ws_connect (world.server, world.carol, NULL);
  callobj = join (late, "town");
  g_assert_cmpuint (json_array_get_length (participants (callobj)), ==, 3);
  g_assert_cmpstr (data_string (callobj, "screen_sharer_id"), ==, user_id (world.alice));
  me = participant (callobj, 0);
  g_assert_cmpstr (data_string (me, "username"), ==, "alice");
  g_assert_false (json_object_get_boolean_member (me, "muted"));
  g_assert_true (json_object_get_boolean_member (me, "hand_raised"));
  g_assert_true (json_object_get_boolean_member (me, "screen"));
  g_assert_cmpint (json_object_get_int_member (me, "hand_raised_at"), >, 0);
  me = participant (callobj, 1);
  g_assert_true (json_object_get_boolean_member (me, "muted"));
  g_assert_false (json_object_get_boolean_member (me, "hand_raised"));
  ws_expect (a, "user_joined");
  ws_expect (b, "user_joined");

  /* The sharer stops: now bob may share. */
  ws_send (a, "screen_off", NULL);
  ws_expect (late, "user_screen_off");
  ws_send (b, "screen_on", NULL);
  ws_expect (late, "user_screen_on");
  ws_send (a, "lower_hand", NULL);
  data = ws_expect (late, "user_lowered_hand");
  g_assert_cmpstr (data_string (data, "user_id"), ==, user_id (world.alice));

  /* The sharer leaves: the share is gone for a late joiner. */
  ws_send (b, "leave", NULL);
  ws_expect (late, "user_left");
  {
    g_autoptr (Reply) r = call (world.server, "GET", "/api/v1/calls/town", world.carol, NULL);
    JsonObject *o;

    assert_status (r, 200);
    o = json_node_get_object (r->json);
    g_assert_true (json_object_get_null_member (o, "screen_sharer_id"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "participants")), ==,
                      2);
  }
  /* Archiving the channel ends the call. */
  {
    g_autofree char *id = make_channel ("porch", "\"alice\",\"carol\"");
    g_autoptr (Ws) p = ws_connect (world.server, world.carol, NULL);
    g_autoptr (Reply) r = NULL;

    ws_send (late, "leave", NULL);
    ws_wait (late, "user_left");
    join (p, "porch");
    r = call (world.server, "POST", "/api/v1/channels/porch/archive", world.admin, NULL);
    assert_status (r, 200);
    data = ws_wait (p, "call_end");
    g_assert_cmpstr (data_string (data, "reason"), ==, "channel_archived");
  }
  /* Alice (a porch member) heard that call start and end; then her own call ends. */
  ws_send (a, "leave", NULL);
  do
    data = ws_wait (a, "user_left");
  while (!g_str_equal (data_string (data, "session_id"), a->session_id));
  data = ws_expect (a, "call_end");
  g_assert_cmpstr (data_string (data, "reason"), ==, "empty");
  g_assert_cmpstr (data_string (data, "channel_id"), ==, world.town);
}

/* ---- the call link ---- */

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calls/auth", test_auth);
  g_test_add_func ("/calls/bad-messages", test_bad_messages);
  g_test_add_func ("/calls/limits", test_limits);
  g_test_add_func ("/calls/permissions", test_permissions);
  g_test_add_func ("/calls/host-handover", test_host_handover);
  g_test_add_func ("/calls/in-call", test_in_call);
  g_test_add_func ("/calls/deactivated", test_deactivated);
  ret = g_test_run ();
  finish_world ();
  return ret;
}
