/* SPDX-License-Identifier: MIT */
/* Recording end to end (docs/recording.md): the real callrec-server, synthetic
 * participants in a real call (tools/sim-ws.h: tones of 440 + 220·k Hz and a screen
 * share), and the real callrec-recorder that the server spawns for the job. A watcher
 * (a member in the call, no media) sees the recording_state broadcasts and the post. */
#include "media-check.h"
#include "sim-ws.h"
#include "ws-fixture.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define VOICES 2

typedef struct {
  char *dir;
  Server *server;
  char *admin;
  SimWsCall *sim;
  char *channel;   /* id */
  char *watcher;   /* token of a member in the call without media */
  char *bystander; /* token of a member not in the call */
  Ws *ws;
  char *thread_id;
} World;

static void
pump_until_connected (SimWsCall *sim, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  /* A hang guard, not a timing assertion. */
  while (sim_ws_call_count_connected (sim) < n) {
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_main_context_iteration (NULL, TRUE);
  }
}

static void
pump_for (double seconds)
{
  gint64 until = g_get_monotonic_time () + (gint64)(seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < until) {
    g_main_context_iteration (NULL, FALSE);
    g_usleep (5000);
  }
}

static const SimMediaOptions slides = { .content = SIM_CONTENT_SLIDES, .share_kbps = 500 };

/* @env: extra server environment. @people: sim participants (0: a watcher only), sending
 * @media. */
static World *
world_new_media (const char *const *env, guint people, const SimMediaOptions *media)
{
  World *w = g_new0 (World, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) ch = NULL;
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  JsonObject *joined;

  w->dir = g_dir_make_tmp ("callrec-rec-e2e-XXXXXX", NULL);
  w->server = server_start (w->dir, env);
  w->admin = read_admin_token (w->dir);
  if (people > 0) {
    SimWsConfig config = { .server_url = w->server->base,
                           .admin_token = w->admin,
                           .channel = "rec",
                           .voices = people,
                           .share = SIM_SHARE_VP8,
                           .share_width = 640,
                           .share_height = 360,
                           .media = *media };

    w->sim = sim_ws_call_new (&config, &error);
    g_assert_no_error (error);
    w->watcher = sim_ws_call_add_member (w->sim, "watcher", "Watcher", &error);
    g_assert_no_error (error);
    w->bystander = sim_ws_call_add_member (w->sim, "bystander", "Bystander", &error);
    g_assert_no_error (error);
    pump_until_connected (w->sim, people);
  } else {
    g_autoptr (Reply) u
        = call (w->server, "POST", "/api/v1/users", w->admin, "{\"username\":\"watcher\"}");
    g_autoptr (Reply) t = call (w->server, "POST", "/api/v1/users/watcher/tokens", w->admin, "{}");
    g_autoptr (Reply) c = call (w->server, "POST", "/api/v1/channels", w->admin,
                                "{\"type\":\"public\",\"name\":\"rec\",\"members\":[\"watcher\"]}");

    assert_status (u, 201);
    assert_status (t, 201);
    assert_status (c, 201);
    w->watcher = g_strdup (member_string (t->json, "token"));
  }
  ch = call (w->server, "GET", "/api/v1/channels/rec", w->admin, NULL);
  assert_status (ch, 200);
  w->channel = g_strdup (member_string (ch->json, "id"));
  w->ws = ws_connect (w->server, w->watcher, NULL);
  g_assert_nonnull (w->ws);
  data = g_strdup_printf ("{\"channel_id\":\"%s\"}", w->channel);
  ws_send (w->ws, "join", data);
  joined = ws_wait (w->ws, "joined");
  w->thread_id = g_strdup (
      json_object_get_string_member (json_object_get_object_member (joined, "call"), "thread_id"));
  /* Nobody has recorded this call yet. */
  g_assert_true (
      json_object_get_null_member (json_object_get_object_member (joined, "call"), "recording"));
  return w;
}

static World *
world_new (const char *const *env, guint people)
{
  return world_new_media (env, people, &slides);
}

static void
world_free (World *w)
{
  g_autofree char *log = NULL;
  g_autofree char *log_path = NULL;

  ws_free (w->ws);
  if (w->sim) {
    sim_ws_call_leave (w->sim);
    sim_ws_call_free (w->sim);
  }
  log_path = g_strdup (w->server->log_path);
  server_stop (w->server);
  /* No token of any kind in the server's log, the recorders' included (job tokens). */
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  g_assert_null (strstr (log, "crt_"));
  /* The file stayed append-only (pl-recording.c drops mp4mux's moov rewrite at EOS), so
   * the upload that followed it never had to start over. */
  g_assert_null (strstr (log, "the writer rewrote them"));
  g_unlink (log_path);
  remove_tree (w->dir);
  g_free (w->dir);
  g_free (w->admin);
  g_free (w->channel);
  g_free (w->watcher);
  g_free (w->bystander);
  g_free (w->thread_id);
  g_free (w);
}

static Reply *
recording (World *w, const char *action, const char *token)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/calls/%s/recording/%s", w->channel, action);

  return call (w->server, "POST", path, token, NULL);
}

/* Waits for the next recording_state; returns its Recording object. */
static JsonObject *
next_state (World *w)
{
  JsonObject *data = ws_wait (w->ws, "recording_state");

  return json_object_get_object_member (data, "recording");
}

static void
expect_state (World *w, const char *state)
{
  JsonObject *rec = next_state (w);

  g_test_message ("recording_state %s (%s)", json_object_get_string_member (rec, "state"),
                  json_object_get_null_member (rec, "reason")
                      ? "-"
                      : json_object_get_string_member (rec, "reason"));
  g_assert_cmpstr (json_object_get_string_member (rec, "state"), ==, state);
}

/* Waits for the job's post in the call thread; returns its props (valid until ws_free). */
static JsonObject *
wait_post (World *w, const char **file_id)
{
  for (;;) {
    JsonObject *post = json_object_get_object_member (ws_wait (w->ws, "post_created"), "post");
    JsonObject *props;

    g_assert_cmpstr (json_object_get_string_member (post, "root_id"), ==, w->thread_id);
    props = json_object_get_object_member (post, "props");
    if (props == NULL || !json_object_has_member (props, "type")
        || !g_str_has_prefix (json_object_get_string_member (props, "type"), "recording"))
      continue;
    g_test_message ("post: %s", json_object_get_string_member (post, "message"));
    if (file_id) {
      JsonArray *files = json_object_get_array_member (post, "file_ids");

      g_assert_cmpuint (json_array_get_length (files), ==, 1);
      *file_id = json_array_get_string_element (files, 0);
    }
    return props;
  }
}

static char *
download (World *w, const char *file_id)
{
  g_autofree char *path = g_strconcat ("/api/v1/files/", file_id, NULL);
  g_autoptr (Reply) r = call (w->server, "GET", path, w->watcher, NULL);
  char *out = g_build_filename (w->dir, "got.mp4", NULL);
  gsize len = 0;
  const char *bytes;

  assert_status (r, 200);
  bytes = g_bytes_get_data (r->body, &len);
  g_assert_true (g_file_set_contents (out, bytes, len, NULL));
  return out;
}

/* The file is H.264 + AAC, lasts at least @min_s, and holds every participant's tone. */
static void
check_recording (World *w, const char *file_id, double min_s)
{
  g_autofree char *path = download (w, file_id);
  g_auto (McInfo) info = { 0 };
  g_autoptr (McAudio) audio = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (mc_probe (path, &info, &error));
  g_assert_no_error (error);
  g_test_message ("recording: %.2f s, %s + %s", info.duration_s, info.video_codec,
                  info.audio_codec);
  g_assert_cmpstr (info.video_codec, ==, "h264");
  g_assert_cmpstr (info.audio_codec, ==, "aac");
  g_assert_cmpfloat (info.duration_s, >=, min_s);
  audio = mc_audio_decode (path, 16000, &error);
  g_assert_no_error (error);
  /* The file starts when the recorder does; the voices come in once it is connected,
   * and are there for the recording's last min_s seconds at least. */
  for (guint k = 0; k < VOICES; k++)
    g_assert_true (mc_audio_has_tone (audio, info.duration_s - min_s + 0.5, info.duration_s - 0.5,
                                      440 + 220 * k, 0.01));
}

static void
test_start_stop (void)
{
  World *w = world_new (NULL, VOICES);
  g_autoptr (Reply) start = recording (w, "start", w->admin);
  const char *file_id = NULL;
  JsonObject *props;

  assert_status (start, 201);
  g_assert_cmpstr (member_string (start->json, "state"), ==, "initializing");
  {
    /* One recording at a time; only the host (or an admin) may start one. */
    g_autoptr (Reply) again = recording (w, "start", w->admin);
    g_autoptr (Reply) other = recording (w, "start", w->bystander);

    assert_error (again, 409, "recording_running", NULL);
    assert_error (other, 403, "forbidden", NULL);
  }
  expect_state (w, "initializing");
  expect_state (w, "recording");
  {
    /* A late joiner sees the recording in the call. */
    g_autoptr (Reply) c = call (w->server, "GET", "/api/v1/calls/rec", w->admin, NULL);
    JsonObject *rec = json_object_get_object_member (json_node_get_object (c->json), "recording");

    assert_status (c, 200);
    g_assert_cmpstr (json_object_get_string_member (rec, "state"), ==, "recording");
    g_assert_cmpint (json_object_get_int_member (rec, "ends_at"), >,
                     json_object_get_int_member (rec, "started_at"));
  }
  pump_for (8);
  {
    g_autoptr (Reply) stop = recording (w, "stop", w->admin);

    assert_status (stop, 200);
    g_assert_cmpstr (member_string (stop->json, "state"), ==, "stopping");
  }
  expect_state (w, "stopping");
  expect_state (w, "stopped");
  {
    /* A new recording may start as soon as the last one stopped, while its file still
     * uploads; stopping it before it records fails it with that reason and a post. */
    g_autoptr (Reply) again = recording (w, "start", w->admin);
    gboolean posted = FALSE, failed_posted = FALSE, second_failed = FALSE;
    gboolean stop_sent = FALSE;

    assert_status (again, 201);
    while (!posted || !failed_posted || !second_failed) {
      JsonObject *msg = ws_next (w->ws);
      const char *type = json_object_get_string_member (msg, "type");
      JsonObject *data = json_object_get_object_member (msg, "data");

      if (g_str_equal (type, "recording_state")) {
        JsonObject *rec = json_object_get_object_member (data, "recording");
        const char *state = json_object_get_string_member (rec, "state");

        g_assert_cmpstr (json_object_get_string_member (rec, "id"), ==,
                         member_string (again->json, "id"));
        if (g_str_equal (state, "initializing") && !stop_sent) {
          g_autoptr (Reply) stop = recording (w, "stop", w->admin);

          assert_status (stop, 200);
          stop_sent = TRUE;
        } else if (g_str_equal (state, "failed")) {
          g_assert_true (stop_sent);
          g_assert_nonnull (strstr (json_object_get_string_member (rec, "reason"),
                                    "before the recording started"));
          second_failed = TRUE;
        }
      } else if (g_str_equal (type, "post_created")) {
        JsonObject *post = json_object_get_object_member (data, "post");

        props = json_object_get_object_member (post, "props");
        g_assert_cmpstr (json_object_get_string_member (post, "root_id"), ==, w->thread_id);
        g_test_message ("post: %s", json_object_get_string_member (post, "message"));
        if (g_str_equal (json_object_get_string_member (props, "type"), "recording")) {
          JsonArray *files = json_object_get_array_member (post, "file_ids");

          g_assert_false (posted);
          g_assert_false (json_object_get_boolean_member (props, "partial"));
          g_assert_cmpint (json_object_get_int_member (props, "duration_ms"), >=, 5000);
          g_assert_nonnull (strstr (json_object_get_string_member (post, "message"),
                                    "Here's the call recording"));
          g_assert_cmpuint (json_array_get_length (files), ==, 1);
          file_id = json_array_get_string_element (files, 0);
          posted = TRUE;
        } else {
          g_assert_cmpstr (json_object_get_string_member (props, "type"), ==, "recording_failed");
          failed_posted = TRUE;
        }
      }
    }
  }
  check_recording (w, file_id, 5.0);
  world_free (w);
}

/* A/V sync through the SFU: participant 0 flashes its share white and beeps together, once
 * a second; in the recording each flash and its beep are within 100 ms. */
static void
test_av_sync (void)
{
  SimMediaOptions media = slides;
  media.marks = TRUE;
  World *w = world_new_media (NULL, 1, &media);
  g_autoptr (Reply) start = recording (w, "start", w->admin);
  const char *file_id = NULL;

  assert_status (start, 201);
  expect_state (w, "initializing");
  expect_state (w, "recording");
  pump_for (10);
  {
    g_autoptr (Reply) stop = recording (w, "stop", w->admin);

    assert_status (stop, 200);
  }
  wait_post (w, &file_id);
  {
    g_autofree char *path = download (w, file_id);
    g_autoptr (GError) error = NULL;
    g_autoptr (McAudio) audio = mc_audio_decode (path, 48000, &error);
    g_assert_no_error (error);
    g_autoptr (GPtrArray) frames = mc_video_frames (path, 192, 108, 0, &error);
    g_assert_no_error (error);
    mc_assert_av_sync (audio, frames, SIM_MARK_BEEP_HZ, 3, 0.1);
  }
  world_free (w);
}

static void
test_limit (void)
{
  const char *env[]
      = { "CALLREC_RECORDING_MAX_DURATION_S=6", "CALLREC_RECORDING_WARNING_OFFSET_S=3", NULL };
  World *w = world_new (env, VOICES);
  g_autoptr (Reply) start = recording (w, "start", w->admin);
  const char *file_id = NULL;
  JsonObject *warning, *rec;
  gint64 ends_at;

  assert_status (start, 201);
  expect_state (w, "initializing");
  rec = next_state (w);
  g_assert_cmpstr (json_object_get_string_member (rec, "state"), ==, "recording");
  ends_at = json_object_get_int_member (rec, "ends_at");
  g_assert_cmpint (ends_at - json_object_get_int_member (rec, "started_at"), ==, 6000);
  warning = ws_wait (w->ws, "recording_warning");
  g_assert_cmpint (json_object_get_int_member (warning, "ends_at"), ==, ends_at);
  g_assert_cmpint (json_object_get_int_member (warning, "remaining_s"), <=, 6);
  g_assert_cmpstr (json_object_get_string_member (warning, "recording_id"), ==,
                   member_string (start->json, "id"));
  rec = next_state (w);
  g_assert_cmpstr (json_object_get_string_member (rec, "state"), ==, "stopping");
  g_assert_cmpstr (json_object_get_string_member (rec, "reason"), ==, "duration limit reached");
  expect_state (w, "stopped");
  wait_post (w, &file_id);
  check_recording (w, file_id, 4.0);
  world_free (w);
}

/* A recorder that never gets going: the job fails after the start timeout. */
static void
test_start_timeout (void)
{
  g_autofree char *script_dir = g_dir_make_tmp ("callrec-rec-fake-XXXXXX", NULL);
  g_autofree char *script = g_build_filename (script_dir, "stuck-recorder", NULL);
  g_autofree char *path_env = g_strconcat ("CALLREC_RECORDING_RECORDER_PATH=", script, NULL);
  const char *env[] = { path_env, "CALLREC_RECORDING_START_TIMEOUT_S=2", NULL };
  World *w;
  g_autoptr (Reply) start = NULL;
  JsonObject *rec, *props;

  g_assert_true (g_file_set_contents (script, "#!/bin/sh\nexec sleep 120\n", -1, NULL));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);
  w = world_new (env, 0);
  start = recording (w, "start", w->watcher); /* the watcher started the call: host */
  assert_status (start, 201);
  expect_state (w, "initializing");
  rec = next_state (w);
  g_assert_cmpstr (json_object_get_string_member (rec, "state"), ==, "failed");
  g_assert_nonnull (strstr (json_object_get_string_member (rec, "reason"), "within 2 s"));
  props = wait_post (w, NULL);
  g_assert_cmpstr (json_object_get_string_member (props, "type"), ==, "recording_failed");
  world_free (w);
  remove_tree (script_dir);
}

/* SIGKILL mid-recording: the supervisor posts what the file holds, marked partial. */
static void
test_killed_recorder (void)
{
  g_autofree char *script_dir = g_dir_make_tmp ("callrec-rec-wrap-XXXXXX", NULL);
  g_autofree char *script = g_build_filename (script_dir, "recorder", NULL);
  g_autofree char *pid_file = g_build_filename (script_dir, "pid", NULL);
  g_autofree char *real
      = g_build_filename (g_getenv ("CALLREC_BUILD_DIR"), "recorder", "callrec-recorder", NULL);
  g_autofree char *text
      = g_strdup_printf ("#!/bin/sh\necho $$ > %s\nexec %s \"$@\"\n", pid_file, real);
  g_autofree char *path_env = g_strconcat ("CALLREC_RECORDING_RECORDER_PATH=", script, NULL);
  const char *env[] = { path_env, NULL };
  g_autofree char *pid_text = NULL;
  const char *file_id = NULL;
  World *w;
  g_autoptr (Reply) start = NULL;
  JsonObject *rec, *props;

  g_assert_true (g_file_set_contents (script, text, -1, NULL));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);
  w = world_new (env, VOICES);
  start = recording (w, "start", w->admin);
  assert_status (start, 201);
  expect_state (w, "initializing");
  expect_state (w, "recording");
  pump_for (6);
  g_assert_true (g_file_get_contents (pid_file, &pid_text, NULL, NULL));
  g_assert_cmpint (kill ((pid_t)g_ascii_strtoll (pid_text, NULL, 10), SIGKILL), ==, 0);
  rec = next_state (w);
  g_assert_cmpstr (json_object_get_string_member (rec, "state"), ==, "failed");
  g_assert_nonnull (strstr (json_object_get_string_member (rec, "reason"), "signal 9"));
  props = wait_post (w, &file_id);
  g_assert_cmpstr (json_object_get_string_member (props, "type"), ==, "recording");
  g_assert_true (json_object_get_boolean_member (props, "partial"));
  check_recording (w, file_id, 3.0);
  world_free (w);
  remove_tree (script_dir);
}

/* After a restart: the recording's post in the call thread, read over REST (the watcher's
 * socket died with the old process); *@partial says whether it is marked partial. */
static char *
wait_post_after_restart (World *w, gboolean *partial)
{
  g_autofree char *path
      = g_strdup_printf ("/api/v1/channels/%s/posts?root_id=%s", w->channel, w->thread_id);
  char *file_id = NULL;

  for (guint i = 0; i < 240 && !file_id; i++) {
    g_autoptr (Reply) r = call (w->server, "GET", path, w->watcher, NULL);
    JsonArray *posts = r->json && JSON_NODE_HOLDS_ARRAY (r->json) ? json_node_get_array (r->json)
                                                                   : NULL;
    for (guint k = 0; posts && k < json_array_get_length (posts) && !file_id; k++) {
      JsonObject *post = json_array_get_object_element (posts, k);
      JsonArray *files = json_object_get_array_member (post, "file_ids");
      JsonObject *props = json_object_get_object_member (post, "props");
      if (props && json_object_has_member (props, "type")
          && g_str_has_prefix (json_object_get_string_member (props, "type"), "recording")
          && files && json_array_get_length (files) == 1) {
        file_id = g_strdup (json_array_get_string_element (files, 0));
        *partial = json_object_get_boolean_member_with_default (props, "partial", FALSE);
        g_test_message ("post after the restart: %s", json_object_get_string_member (post, "message"));
      }
    }
    if (!file_id)
      pump_for (0.5);
  }
  return file_id;
}

/* Stops the server, runs @while_down (may be NULL) with the job @id, starts it again on the
 * same address. */
static void
restart_server (World *w, const char *id, void (*while_down) (const char *id))
{
  g_autofree char *listen = g_strdup (w->server->base + strlen ("http://"));

  ws_free (w->ws);
  w->ws = NULL;
  server_stop (w->server);
  if (while_down)
    while_down (id);
  pump_for (2);
  w->server = server_start_listen (w->dir, NULL, NULL, listen);
}

/* A server restart mid-recording: the call ends with the server (its SFU is in it), the
 * recorder it left running finishes its file, retries its upload until the server is
 * back, and the recording is posted whole (not partial) by the new server process. */
static void
test_server_restart (void)
{
  World *w = world_new (NULL, VOICES);
  g_autoptr (Reply) start = recording (w, "start", w->admin);
  g_autofree char *file_id = NULL;
  gboolean partial = TRUE;

  assert_status (start, 201);
  expect_state (w, "initializing");
  expect_state (w, "recording");
  pump_for (6);
  restart_server (w, NULL, NULL);
  file_id = wait_post_after_restart (w, &partial);
  g_assert_nonnull (file_id);
  g_assert_false (partial);
  check_recording (w, file_id, 4.0);
  world_free (w);
}

/* The recorder of job @id (its command line names it), killed. */
static void
kill_recorder (const char *id)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint killed = 0;

  while (proc && (name = g_dir_read_name (proc))) {
    g_autofree char *path = g_build_filename ("/proc", name, "cmdline", NULL);
    g_autofree char *cmdline = NULL;
    gsize len = 0;
    gboolean recorder = FALSE, job = FALSE;

    if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &cmdline, &len, NULL))
      continue;
    for (gsize at = 0; at < len; at += strlen (cmdline + at) + 1) {
      recorder |= g_str_has_suffix (cmdline + at, "callrec-recorder");
      job |= g_str_equal (cmdline + at, id);
    }
    if (recorder && job && kill (atoi (name), SIGKILL) == 0)
      killed++;
  }
  g_assert_cmpuint (killed, ==, 1);
}

/* The same, but the recorder dies while the server is down: the new process sees it is
 * gone (its pid file) and posts what the file holds, marked partial, within seconds rather
 * than after the 330 s it gives a live recorder to deliver. */
static void
test_server_restart_recorder_dead (void)
{
  World *w = world_new (NULL, VOICES);
  g_autoptr (Reply) start = recording (w, "start", w->admin);
  g_autofree char *id = NULL;
  g_autofree char *file_id = NULL;
  g_autofree char *log = NULL;
  gboolean partial = FALSE;

  assert_status (start, 201);
  id = g_strdup (member_string (start->json, "id"));
  expect_state (w, "initializing");
  expect_state (w, "recording");
  pump_for (6);
  restart_server (w, id, kill_recorder);
  /* wait_post_after_restart() gives up after ~2 minutes, well inside the 330 s. */
  file_id = wait_post_after_restart (w, &partial);
  g_assert_nonnull (file_id);
  g_assert_true (partial);
  g_assert_true (g_file_get_contents (w->server->log_path, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "its recorder exited without delivering"));
  check_recording (w, file_id, 3.0);
  world_free (w);
}

/* The recording stops when every person has left (the call ends), and is still posted. */
static void
test_everyone_left (void)
{
  World *w = world_new (NULL, VOICES);
  g_autoptr (Reply) start = recording (w, "start", w->admin);
  g_autofree char *path = NULL;
  g_autofree char *file_id = NULL;
  gint64 deadline;

  assert_status (start, 201);
  expect_state (w, "initializing");
  expect_state (w, "recording");
  pump_for (6);
  /* Everyone goes; nobody is left to hear recording_state: the thread tells. */
  ws_send (w->ws, "leave", NULL);
  ws_wait (w->ws, "user_left");
  sim_ws_call_leave (w->sim);
  path = g_strdup_printf ("/api/v1/channels/rec/posts?root_id=%s", w->thread_id);
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC; /* a hang guard */
  while (file_id == NULL) {
    g_autoptr (Reply) r = call (w->server, "GET", path, w->watcher, NULL);
    JsonArray *posts;

    assert_status (r, 200);
    posts = json_node_get_array (r->json);
    for (guint i = 0; i < json_array_get_length (posts); i++) {
      JsonObject *post = json_array_get_object_element (posts, i);
      JsonObject *props = json_object_get_object_member (post, "props");

      if (props && json_object_has_member (props, "type")
          && g_str_has_prefix (json_object_get_string_member (props, "type"), "recording")) {
        g_test_message ("post: %s", json_object_get_string_member (post, "message"));
        g_assert_cmpstr (json_object_get_string_member (props, "type"), ==, "recording");
        g_assert_false (json_object_get_boolean_member (props, "partial"));
        file_id = g_strdup (
            json_array_get_string_element (json_object_get_array_member (post, "file_ids"), 0));
      }
    }
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    if (file_id == NULL)
      pump_for (0.2);
  }
  {
    /* The last person leaving ended the call. */
    g_autoptr (Reply) c = call (w->server, "GET", "/api/v1/calls/rec", w->admin, NULL);

    assert_error (c, 404, "no_call", NULL);
  }
  check_recording (w, file_id, 4.0);
  world_free (w);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recording-e2e/start-stop", test_start_stop);
  g_test_add_func ("/recording-e2e/av-sync", test_av_sync);
  g_test_add_func ("/recording-e2e/limit", test_limit);
  g_test_add_func ("/recording-e2e/start-timeout", test_start_timeout);
  g_test_add_func ("/recording-e2e/killed-recorder", test_killed_recorder);
  g_test_add_func ("/recording-e2e/everyone-left", test_everyone_left);
  g_test_add_func ("/recording-e2e/server-restart", test_server_restart);
  g_test_add_func ("/recording-e2e/server-restart-recorder-dead",
                   test_server_restart_recorder_dead);
  return g_test_run ();
}
