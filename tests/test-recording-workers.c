/* SPDX-License-Identifier: MIT */
/* Worker dispatch end to end (docs/recording.md, "Recording nodes"): the real
 * callrec-server with recording.dispatch = workers, real `callrec-recorder worker`
 * processes claiming its jobs over HTTP, and synthetic participants in real calls
 * (tools/sim-ws.h). States and posts are read over REST. */
#include "media-check.h"
#include "server-fixture.h"
#include "sim-ws.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#define LEASE_S "5"

typedef struct {
  Server *server;
  char *dir;
  char *admin;
  GPtrArray *calls; /* SimWsCall* */
} World;

typedef struct {
  GSubprocess *proc;
  char *log_path;
} Worker;

static void
pump_for (double seconds)
{
  gint64 until = g_get_monotonic_time () + (gint64)(seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < until) {
    g_main_context_iteration (NULL, FALSE);
    g_usleep (5000);
  }
}

static const char *const server_env[]
    = { "CALLREC_RECORDING_DISPATCH=workers", "CALLREC_RECORDING_LEASE_S=" LEASE_S, NULL };

static World *
world_new (void)
{
  const char *const *env = server_env;
  World *w = g_new0 (World, 1);

  w->dir = g_dir_make_tmp ("callrec-rec-workers-XXXXXX", NULL);
  w->server = server_start (w->dir, env);
  w->admin = read_admin_token (w->dir);
  w->calls = g_ptr_array_new_with_free_func ((GDestroyNotify)sim_ws_call_free);
  return w;
}

/* A call with one voice in channel @name. Returns: (transfer none). */
static SimWsCall *
world_add_call (World *w, const char *name)
{
  SimWsConfig config = { .server_url = w->server->base,
                         .admin_token = w->admin,
                         .channel = name,
                         .voices = 1,
                         .share = SIM_SHARE_NONE };
  g_autoptr (GError) error = NULL;
  SimWsCall *sim = sim_ws_call_new (&config, &error);
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  g_assert_no_error (error);
  g_ptr_array_add (w->calls, sim);
  while (sim_ws_call_count_connected (sim) < 1 || sim_ws_call_get_thread_id (sim) == NULL) {
    g_assert_cmpint (g_get_monotonic_time (), <, deadline); /* a hang guard */
    g_main_context_iteration (NULL, TRUE);
  }
  return sim;
}

static void
world_free (World *w)
{
  g_autofree char *log = NULL;
  g_autofree char *log_path = g_strdup (w->server->log_path);

  for (guint i = 0; i < w->calls->len; i++)
    sim_ws_call_leave (w->calls->pdata[i]);
  g_ptr_array_unref (w->calls);
  server_stop (w->server);
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  g_assert_null (strstr (log, "crt_"));
  g_unlink (log_path);
  remove_tree (w->dir);
  g_free (w->dir);
  g_free (w->admin);
  g_free (w);
}

/* A recording node's token: a guest user named worker-@name. */
static char *
worker_token (World *w, const char *name)
{
  g_autofree char *user = g_strdup_printf ("{\"username\":\"worker-%s\",\"role\":\"guest\"}", name);
  g_autofree char *path = g_strdup_printf ("/api/v1/users/worker-%s/tokens", name);
  g_autoptr (Reply) u = call (w->server, "POST", "/api/v1/users", w->admin, user);
  g_autoptr (Reply) t = call (w->server, "POST", path, w->admin, "{\"label\":\"node\"}");

  assert_status (u, 201);
  assert_status (t, 201);
  return g_strdup (member_string (t->json, "token"));
}

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

/* `callrec-recorder worker --max-jobs 1`, its log in DIR/worker-@name.log. @recorder:
 * the recorder it runs (NULL: its own binary). */
static Worker *
worker_start (World *w, const char *name, const char *token, const char *recorder)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *bin
      = g_build_filename (g_getenv ("CALLREC_BUILD_DIR"), "recorder", "callrec-recorder", NULL);
  g_autofree char *out = g_strdup_printf ("%s/out-%s", w->dir, name);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  Worker *wk = g_new0 (Worker, 1);
  int fd;

  wk->log_path = g_strdup_printf ("%s/worker-%s.log", w->dir, name);
  fd = g_open (wk->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_subprocess_launcher_take_stdout_fd (launcher, dup (fd));
  g_subprocess_launcher_take_stderr_fd (launcher, fd);
  g_subprocess_launcher_setenv (launcher, "CALLREC_TOKEN", token, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_ptr_array_add (argv, bin);
  g_ptr_array_add (argv, (char *)"worker");
  g_ptr_array_add (argv, (char *)"--server");
  g_ptr_array_add (argv, w->server->base);
  g_ptr_array_add (argv, (char *)"--max-jobs");
  g_ptr_array_add (argv, (char *)"1");
  g_ptr_array_add (argv, (char *)"--out-dir");
  g_ptr_array_add (argv, out);
  g_ptr_array_add (argv, (char *)"--poll-interval");
  g_ptr_array_add (argv, (char *)"0.2");
  if (recorder) {
    g_ptr_array_add (argv, (char *)"--recorder");
    g_ptr_array_add (argv, (char *)recorder);
  }
  g_ptr_array_add (argv, NULL);
  wk->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
  return wk;
}

/* SIGTERM: the worker stops its recorders gracefully and exits 0. Or SIGKILL. */
static void
worker_stop (Worker *wk, int signum)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;

  g_subprocess_send_signal (wk->proc, signum);
  g_assert_true (g_subprocess_wait (wk->proc, NULL, &error));
  if (signum == SIGTERM) {
    g_assert_true (g_subprocess_get_if_exited (wk->proc));
    g_assert_cmpint (g_subprocess_get_exit_status (wk->proc), ==, 0);
  }
  /* Neither the worker's token nor a job's reaches its log. */
  g_assert_true (g_file_get_contents (wk->log_path, &log, NULL, NULL));
  g_assert_null (strstr (log, "crt_"));
  g_object_unref (wk->proc);
  g_free (wk->log_path);
  g_free (wk);
}

static Reply *
recording (World *w, SimWsCall *sim, const char *action)
{
  g_autofree char *path
      = g_strdup_printf ("/api/v1/calls/%s/recording/%s", sim_ws_call_get_channel (sim), action);

  return call (w->server, "POST", path, w->admin, NULL);
}

/* The call's recording object (GET /calls/{channel}); (transfer full). */
static JsonObject *
get_recording (World *w, SimWsCall *sim)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/calls/%s", sim_ws_call_get_channel (sim));
  g_autoptr (Reply) r = call (w->server, "GET", path, w->admin, NULL);

  assert_status (r, 200);
  return json_object_ref (
      json_object_get_object_member (json_node_get_object (r->json), "recording"));
}

static const char *
state_of (JsonObject *rec)
{
  return json_object_get_string_member (rec, "state");
}

/* Pumps until the call's recording is in @state; returns it (transfer full). */
static JsonObject *
wait_state (World *w, SimWsCall *sim, const char *state)
{
  gint64 deadline = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;

  for (;;) {
    JsonObject *rec = get_recording (w, sim);

    if (g_str_equal (state_of (rec), state))
      return rec;
    /* Nothing this test waits for ends in failure unless asked for. */
    if (!g_str_equal (state, "failed") && g_str_equal (state_of (rec), "failed"))
      g_error ("recording failed: %s", json_object_get_string_member (rec, "reason"));
    json_object_unref (rec);
    g_assert_cmpint (g_get_monotonic_time (), <, deadline); /* a hang guard */
    pump_for (0.2);
  }
}

/* Pumps until the call thread has the recording's post; returns its props and the file
 * (transfer full). */
static JsonObject *
wait_post (World *w, SimWsCall *sim, char **file_id)
{
  g_autofree char *path
      = g_strdup_printf ("/api/v1/channels/%s/posts?root_id=%s", sim_ws_call_get_channel (sim),
                         sim_ws_call_get_thread_id (sim));
  gint64 deadline = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;

  for (;;) {
    g_autoptr (Reply) r = call (w->server, "GET", path, w->admin, NULL);
    JsonArray *posts;

    assert_status (r, 200);
    posts = json_node_get_array (r->json);
    for (guint i = 0; i < json_array_get_length (posts); i++) {
      JsonObject *post = json_array_get_object_element (posts, i);
      JsonObject *props = json_object_get_object_member (post, "props");
      JsonArray *files;

      if (props == NULL || !json_object_has_member (props, "type")
          || !g_str_has_prefix (json_object_get_string_member (props, "type"), "recording"))
        continue;
      g_test_message ("post: %s", json_object_get_string_member (post, "message"));
      files = json_object_get_array_member (post, "file_ids");
      if (file_id && files && json_array_get_length (files) == 1)
        *file_id = g_strdup (json_array_get_string_element (files, 0));
      return json_object_ref (props);
    }
    g_assert_cmpint (g_get_monotonic_time (), <, deadline); /* a hang guard */
    pump_for (0.3);
  }
}

/* The posted file is H.264 + AAC, at least @min_s long, with the voice's tone. */
static void
check_file (World *w, const char *file_id, double min_s)
{
  g_autofree char *path = g_strconcat ("/api/v1/files/", file_id, NULL);
  g_autoptr (Reply) r = call (w->server, "GET", path, w->admin, NULL);
  g_autofree char *out = g_build_filename (w->dir, "got.mp4", NULL);
  g_auto (McInfo) info = { 0 };
  g_autoptr (McAudio) audio = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const char *bytes;

  assert_status (r, 200);
  bytes = g_bytes_get_data (r->body, &len);
  g_assert_true (g_file_set_contents (out, bytes, len, NULL));
  g_assert_true (mc_probe (out, &info, &error));
  g_assert_no_error (error);
  g_test_message ("recording: %.2f s, %s + %s", info.duration_s, info.video_codec,
                  info.audio_codec);
  g_assert_cmpstr (info.video_codec, ==, "h264");
  g_assert_cmpstr (info.audio_codec, ==, "aac");
  g_assert_cmpfloat (info.duration_s, >=, min_s);
  audio = mc_audio_decode (out, 16000, &error);
  g_assert_no_error (error);
  g_assert_true (
      mc_audio_has_tone (audio, info.duration_s - min_s + 0.5, info.duration_s - 0.5, 440, 0.01));
  g_unlink (out);
}

static void
expect_recorded (World *w, SimWsCall *sim, double min_s)
{
  g_autofree char *file_id = NULL;
  g_autoptr (JsonObject) props = wait_post (w, sim, &file_id);

  g_assert_cmpstr (json_object_get_string_member (props, "type"), ==, "recording");
  g_assert_false (json_object_get_boolean_member (props, "partial"));
  g_assert_nonnull (file_id);
  check_file (w, file_id, min_s);
}

/* Two workers of one slot each, three recordings: the third waits in the queue until a
 * slot frees up, then is recorded; all three are posted. */
static void
test_queue (void)
{
  World *w = world_new ();
  g_autofree char *ta = worker_token (w, "a");
  g_autofree char *tb = worker_token (w, "b");
  Worker *a = worker_start (w, "a", ta, NULL);
  Worker *b = worker_start (w, "b", tb, NULL);
  SimWsCall *sims[3];
  char *ids[3];

  for (guint i = 0; i < 3; i++) {
    g_autofree char *name = g_strdup_printf ("rec%u", i);

    sims[i] = world_add_call (w, name);
  }
  {
    /* A worker's token is for the worker routes only; a person's cannot claim. */
    g_autoptr (Reply) other = call (w->server, "GET", "/api/v1/users/me", ta, NULL);
    g_autoptr (Reply) claim = call (w->server, "POST", "/api/v1/jobs/claim", w->admin, NULL);

    assert_error (other, 403, "worker_token", NULL);
    assert_error (claim, 403, "forbidden", NULL);
  }
  for (guint i = 0; i < 3; i++) {
    g_autoptr (Reply) start = recording (w, sims[i], "start");

    assert_status (start, 201);
    ids[i] = g_strdup (member_string (start->json, "id"));
    /* Every job waits for a worker to claim it. */
    g_assert_cmpstr (member_string (start->json, "state"), ==, "initializing");
  }
  {
    g_autoptr (JsonObject) r0 = wait_state (w, sims[0], "recording");
    g_autoptr (JsonObject) r1 = wait_state (w, sims[1], "recording");
    g_autoptr (JsonObject) r2 = NULL;

    /* Both slots are busy: the third waits, first in line. */
    pump_for (2);
    r2 = get_recording (w, sims[2]);
    g_assert_cmpstr (state_of (r2), ==, "initializing");
    g_assert_cmpint (json_object_get_int_member (r2, "queue_position"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (r0, "queue_position"), ==, 0);
  }
  pump_for (4);
  {
    g_autoptr (Reply) stop = recording (w, sims[0], "stop");

    assert_status (stop, 200);
  }
  /* The slot freed by the first recording goes to the third. */
  {
    g_autoptr (JsonObject) r2 = wait_state (w, sims[2], "recording");

    g_assert_cmpstr (json_object_get_string_member (r2, "id"), ==, ids[2]);
    g_assert_cmpint (json_object_get_int_member (r2, "queue_position"), ==, 0);
  }
  pump_for (5);
  for (guint i = 1; i < 3; i++) {
    g_autoptr (Reply) stop = recording (w, sims[i], "stop");

    assert_status (stop, 200);
  }
  for (guint i = 0; i < 3; i++) {
    expect_recorded (w, sims[i], 3.0);
    g_free (ids[i]);
  }
  worker_stop (a, SIGTERM);
  worker_stop (b, SIGTERM);
  world_free (w);
}

/* Starts worker "a" (@token) with a recorder that never gets going: it saves the job token
 * it was given to a file, then sleeps. Starts a recording of @sim and returns once the
 * worker has claimed it; *@id is the job, *@job_token what the recorder got. */
static Worker *
claim_with_stuck_recorder (World *w, SimWsCall *sim, const char *token, char **id,
                           char **job_token)
{
  g_autofree char *script = g_build_filename (w->dir, "stuck-recorder", NULL);
  g_autofree char *token_path = g_build_filename (w->dir, "job-token", NULL);
  g_autofree char *text =
      g_strdup_printf ("#!/bin/sh\nprintf %%s \"$CALLREC_TOKEN\" > %s.tmp\n"
                       "mv %s.tmp %s\nexec sleep 120\n",
                       token_path, token_path, token_path);
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  Worker *a;

  g_assert_true (g_file_set_contents (script, text, -1, NULL));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);
  a = worker_start (w, "a", token, script);
  {
    g_autoptr (Reply) start = recording (w, sim, "start");

    assert_status (start, 201);
    *id = g_strdup (member_string (start->json, "id"));
  }
  while (!g_file_test (token_path, G_FILE_TEST_EXISTS)) {
    g_assert_cmpint (g_get_monotonic_time (), <, deadline); /* a hang guard */
    pump_for (0.1);
  }
  g_assert_true (g_file_get_contents (token_path, job_token, NULL, NULL));
  g_assert_cmpuint (strlen (*job_token), >, 10);
  return a;
}

/* A status report with @job_token for job @id, refused: the token was revoked. */
static void
assert_job_token_revoked (World *w, const char *id, const char *job_token)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/jobs/%s/status", id);
  g_autoptr (Reply) late
      = call (w->server, "POST", path, job_token, "{\"state\":\"failed\",\"reason\":\"late\"}");

  assert_error (late, 401, "invalid_token", NULL);
}

/* Worker "b" (@token) takes job @id over and records @seconds of it, posted and at least
 * @min_s long; then stops gracefully. */
static void
second_worker_records (World *w, SimWsCall *sim, const char *token, const char *id,
                       double seconds, double min_s)
{
  Worker *b = worker_start (w, "b", token, NULL);

  {
    g_autoptr (JsonObject) rec = wait_state (w, sim, "recording");

    g_assert_cmpstr (json_object_get_string_member (rec, "id"), ==, id);
  }
  pump_for (seconds);
  {
    g_autoptr (Reply) stop = recording (w, sim, "stop");

    assert_status (stop, 200);
  }
  expect_recorded (w, sim, min_s);
  worker_stop (b, SIGTERM);
}

/* A worker lost before its job started (its recorder never got going): the lease runs
 * out, the job goes back to the queue and the other worker records it. */
static void
test_lost_before_start (void)
{
  World *w = world_new ();
  g_autofree char *ta = worker_token (w, "a");
  g_autofree char *tb = worker_token (w, "b");
  g_autofree char *id = NULL;
  g_autofree char *job_token = NULL;
  SimWsCall *sim = world_add_call (w, "rec");
  Worker *a = claim_with_stuck_recorder (w, sim, ta, &id, &job_token);

  {
    /* Claimed: out of the queue, not started. */
    g_autoptr (JsonObject) rec = get_recording (w, sim);

    g_assert_cmpstr (state_of (rec), ==, "initializing");
    g_assert_cmpint (json_object_get_int_member (rec, "queue_position"), ==, 0);
  }
  worker_stop (a, SIGKILL);
  /* The lease runs out before "b" can claim; the lost node's token dies with it. */
  second_worker_records (w, sim, tb, id, 5, 3.0);
  assert_job_token_revoked (w, id, job_token);
  world_free (w);
}

/* A worker stopped (SIGTERM) before its job started hands the job back: when the worker
 * has exited the job is first in the queue again, not failed, with no lease to run out;
 * the token its recorder had is revoked; another worker records it. */
static void
test_sigterm_before_start (void)
{
  World *w = world_new ();
  g_autofree char *ta = worker_token (w, "a");
  g_autofree char *tb = worker_token (w, "b");
  g_autofree char *id = NULL;
  g_autofree char *job_token = NULL;
  SimWsCall *sim = world_add_call (w, "rec");
  Worker *a = claim_with_stuck_recorder (w, sim, ta, &id, &job_token);

  worker_stop (a, SIGTERM);
  {
    g_autoptr (JsonObject) rec = get_recording (w, sim);

    g_assert_cmpstr (json_object_get_string_member (rec, "id"), ==, id);
    g_assert_cmpstr (state_of (rec), ==, "initializing");
    g_assert_cmpint (json_object_get_int_member (rec, "queue_position"), ==, 1);
  }
  assert_job_token_revoked (w, id, job_token);
  second_worker_records (w, sim, tb, id, 4, 2.5);
  world_free (w);
}

/* A worker lost while recording: its recorder dies with it, the lease runs out and the
 * job fails with that reason. The recorder had been uploading the file while it grew:
 * what reached the server is posted, marked partial. */
static void
test_lost_after_start (void)
{
  World *w = world_new ();
  g_autofree char *ta = worker_token (w, "a");
  g_autofree char *file_id = NULL;
  SimWsCall *sim = world_add_call (w, "rec");
  Worker *a = worker_start (w, "a", ta, NULL);
  g_autoptr (JsonObject) rec = NULL;
  g_autoptr (JsonObject) props = NULL;

  {
    g_autoptr (Reply) start = recording (w, sim, "start");

    assert_status (start, 201);
  }
  json_object_unref (wait_state (w, sim, "recording"));
  pump_for (6);
  worker_stop (a, SIGKILL);
  rec = wait_state (w, sim, "failed");
  g_assert_cmpstr (json_object_get_string_member (rec, "reason"), ==, "recording node lost");
  props = wait_post (w, sim, &file_id);
  g_assert_cmpstr (json_object_get_string_member (props, "type"), ==, "recording");
  g_assert_true (json_object_get_boolean_member (props, "partial"));
  g_assert_cmpint (json_object_get_int_member (props, "duration_ms"), >, 0);
  check_file (w, file_id, 2.0);
  world_free (w);
}

/* The worker's recorder killed mid-recording: the worker, its supervisor, uploads what
 * the file holds and the post says it is partial. */
static void
test_recorder_killed (void)
{
  World *w = world_new ();
  g_autofree char *script = g_build_filename (w->dir, "recorder", NULL);
  g_autofree char *pid_file = g_build_filename (w->dir, "pid", NULL);
  g_autofree char *real
      = g_build_filename (g_getenv ("CALLREC_BUILD_DIR"), "recorder", "callrec-recorder", NULL);
  g_autofree char *text
      = g_strdup_printf ("#!/bin/sh\necho $$ > %s\nexec %s \"$@\"\n", pid_file, real);
  g_autofree char *ta = worker_token (w, "a");
  g_autofree char *pid_text = NULL;
  g_autofree char *file_id = NULL;
  SimWsCall *sim = world_add_call (w, "rec");
  Worker *a;
  g_autoptr (JsonObject) rec = NULL;
  g_autoptr (JsonObject) props = NULL;

  g_assert_true (g_file_set_contents (script, text, -1, NULL));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);
  a = worker_start (w, "a", ta, script);
  {
    g_autoptr (Reply) start = recording (w, sim, "start");

    assert_status (start, 201);
  }
  json_object_unref (wait_state (w, sim, "recording"));
  pump_for (6);
  g_assert_true (g_file_get_contents (pid_file, &pid_text, NULL, NULL));
  g_assert_cmpint (kill ((pid_t)g_ascii_strtoll (pid_text, NULL, 10), SIGKILL), ==, 0);
  rec = wait_state (w, sim, "failed");
  g_assert_nonnull (strstr (json_object_get_string_member (rec, "reason"), "signal 9"));
  props = wait_post (w, sim, &file_id);
  g_assert_cmpstr (json_object_get_string_member (props, "type"), ==, "recording");
  g_assert_true (json_object_get_boolean_member (props, "partial"));
  g_assert_cmpint (json_object_get_int_member (props, "duration_ms"), >, 0);
  check_file (w, file_id, 3.0);
  worker_stop (a, SIGTERM);
  world_free (w);
}

/* The server is down when the worker starts and comes back later at the same address:
 * the worker keeps retrying (with backoff) and then claims and records. */
static void
test_server_outage (void)
{
  World *w = world_new ();
  g_autofree char *ta = worker_token (w, "a");
  g_autofree char *listen = g_strdup (w->server->base + strlen ("http://"));
  g_autofree char *log = NULL;
  Server down = { .dir = w->dir };
  SimWsCall *sim;
  Worker *a;

  server_stop (w->server);
  /* worker_start needs only the URL. */
  down.base = g_strconcat ("http://", listen, NULL);
  w->server = &down;
  a = worker_start (w, "a", ta, NULL);
  pump_for (3);
  g_free (down.base);
  /* Still there, retrying. */
  g_assert_nonnull (g_subprocess_get_identifier (a->proc));
  w->server = server_start_listen (w->dir, server_env, NULL, listen);
  sim = world_add_call (w, "rec");
  {
    g_autoptr (Reply) start = recording (w, sim, "start");

    assert_status (start, 201);
  }
  json_object_unref (wait_state (w, sim, "recording"));
  pump_for (4);
  {
    g_autoptr (Reply) stop = recording (w, sim, "stop");

    assert_status (stop, 200);
  }
  expect_recorded (w, sim, 2.0);
  g_assert_true (g_file_get_contents (a->log_path, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "cannot claim a job"));
  worker_stop (a, SIGTERM);
  world_free (w);
}

/* SIGTERM to a worker that is recording: it claims nothing more, its recorder finishes
 * the file and uploads it (a complete post), and the worker exits 0 once it is done. */
static void
test_sigterm (void)
{
  World *w = world_new ();
  g_autofree char *ta = worker_token (w, "a");
  SimWsCall *sim = world_add_call (w, "rec");
  Worker *a = worker_start (w, "a", ta, NULL);
  g_autoptr (JsonObject) rec = NULL;

  {
    g_autoptr (Reply) start = recording (w, sim, "start");

    assert_status (start, 201);
  }
  json_object_unref (wait_state (w, sim, "recording"));
  pump_for (4);
  /* Returns once the worker has exited 0: by then the post is made. */
  worker_stop (a, SIGTERM);
  rec = get_recording (w, sim);
  g_assert_cmpstr (state_of (rec), ==, "stopped");
  expect_recorded (w, sim, 2.0);
  world_free (w);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recording-workers/queue", test_queue);
  g_test_add_func ("/recording-workers/lost-before-start", test_lost_before_start);
  g_test_add_func ("/recording-workers/lost-after-start", test_lost_after_start);
  g_test_add_func ("/recording-workers/recorder-killed", test_recorder_killed);
  g_test_add_func ("/recording-workers/server-outage", test_server_outage);
  g_test_add_func ("/recording-workers/sigterm", test_sigterm);
  g_test_add_func ("/recording-workers/sigterm-before-start", test_sigterm_before_start);
  return g_test_run ();
}
