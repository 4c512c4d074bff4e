/* SPDX-License-Identifier: MIT */
/* callrec-recorder upload: sends one file through rec-upload.c. By hand, from tests, and
 * by a supervisor salvaging the file of a recorder that died.
 *
 *   callrec-recorder upload --server URL --token T --channel C --file F [--follow] …
 *
 * The token may also come from --token-file or $CALLREC_TOKEN (a command line is visible
 * to every local user). With --follow the file is sent as it grows until SIGINT/SIGTERM,
 * or until it has not grown for --idle-finish seconds; then the rest goes and the upload
 * completes. A second signal, or the first one without --follow, abandons the upload (the
 * session stays on the server: --upload-id resumes it).
 *
 * On success prints {"upload_id", "file_id", "sha256", "size"} as one JSON line on
 * stdout and removes the file (unless --keep). Exit status: 0 done, 1 failed (the file is
 * kept), 2 bad usage. */
#include "rec-upload.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

typedef struct {
  GMainLoop *loop;
  RecUpload *upload;
  char *path;
  double idle_finish_s;
  gint64 last_size;
  gint64 last_growth_us;
  gboolean finishing;
  guint idle_check; /* the --idle-finish timer, 0 once gone */
  int exit_code;
} Command;

static void
on_done (RecUpload *upload, const char *file_id, const GError *error, gpointer user_data)
{
  Command *cmd = user_data;

  if (file_id) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    g_autofree char *line = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "upload_id");
    json_builder_add_string_value (b, rec_upload_get_id (upload));
    json_builder_set_member_name (b, "file_id");
    json_builder_add_string_value (b, file_id);
    json_builder_set_member_name (b, "sha256");
    json_builder_add_string_value (b, rec_upload_get_sha256 (upload));
    json_builder_set_member_name (b, "size");
    json_builder_add_int_value (b, rec_upload_get_size (upload));
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    line = json_to_string (root, FALSE);
    g_print ("%s\n", line);
    cmd->exit_code = 0;
  } else {
    g_printerr ("callrec-recorder upload: %s\n", error->message);
    cmd->exit_code = 1;
  }
  g_main_loop_quit (cmd->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  Command *cmd = user_data;

  if (cmd->finishing) {
    rec_upload_cancel (cmd->upload);
  } else {
    g_message ("signal: sending the rest of %s and completing (again to abandon)", cmd->path);
    cmd->finishing = TRUE;
    rec_upload_finish (cmd->upload);
  }
  return G_SOURCE_CONTINUE;
}

/* --idle-finish: a file that stopped growing is done. */
static gboolean
on_idle_check (gpointer user_data)
{
  Command *cmd = user_data;
  GStatBuf sb;
  gint64 now = g_get_monotonic_time ();

  if (g_stat (cmd->path, &sb) == 0 && sb.st_size != cmd->last_size) {
    cmd->last_size = sb.st_size;
    cmd->last_growth_us = now;
  } else if (now - cmd->last_growth_us >= cmd->idle_finish_s * G_USEC_PER_SEC) {
    g_message ("%s has not grown for %.0f s: completing", cmd->path, cmd->idle_finish_s);
    cmd->finishing = TRUE;
    cmd->idle_check = 0;
    rec_upload_finish (cmd->upload);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static int
usage (GOptionContext *context, const char *message)
{
  g_autofree char *help = g_option_context_get_help (context, FALSE, NULL);

  g_printerr ("callrec-recorder upload: %s\n\n%s", message, help);
  return 2;
}

static char *
read_token_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  return g_strdup (g_strstrip (text));
}

int
rec_upload_command (int argc, char **argv)
{
  RecUploadConfig config;
  g_autofree char *token_file = NULL;
  int chunk_kb = 4096;
  int poll_ms = 2000;
  int backoff_max_ms = 10000;
  double give_up_s = 0;
  double idle_finish_s = 0;
  gboolean follow = FALSE, keep = FALSE;
  Command cmd = { .exit_code = 1 };
  g_autoptr (GError) error = NULL;
  guint sig_int, sig_term;

  rec_upload_config_init (&config);
  const GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &config.server, "The server's URL", "URL" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &config.token, "Bearer token", "T" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file, "Read the token from FILE", "FILE" },
    { "channel", 0, 0, G_OPTION_ARG_STRING, &config.channel, "Channel id or name", "C" },
    { "file", 0, 0, G_OPTION_ARG_FILENAME, &config.path, "The file to upload", "FILE" },
    { "follow", 0, 0, G_OPTION_ARG_NONE, &follow, "Upload as the file grows, until a signal",
      NULL },
    { "idle-finish", 0, 0, G_OPTION_ARG_DOUBLE, &idle_finish_s,
      "With --follow: complete once the file has not grown for S seconds", "S" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &config.name, "Name on the server (default: basename)",
      "NAME" },
    { "content-type", 0, 0, G_OPTION_ARG_STRING, &config.content_type,
      "Media type (default video/mp4)", "TYPE" },
    { "upload-id", 0, 0, G_OPTION_ARG_STRING, &config.upload_id, "Resume this upload session",
      "ID" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the file after a confirmed upload", NULL },
    { "post-message", 0, 0, G_OPTION_ARG_STRING, &config.post_message,
      "Post the file in the channel with this message", "TEXT" },
    { "post-root", 0, 0, G_OPTION_ARG_STRING, &config.post_root_id,
      "Post in this thread (root post id)", "ID" },
    { "post-props", 0, 0, G_OPTION_ARG_STRING, &config.post_props,
      "The post's props (a JSON object)", "JSON" },
    { "chunk-kb", 0, 0, G_OPTION_ARG_INT, &chunk_kb, "Largest append in KiB (default 4096)", "N" },
    { "poll-ms", 0, 0, G_OPTION_ARG_INT, &poll_ms,
      "How often a followed file is checked (default 2000)", "MS" },
    { "backoff-max-ms", 0, 0, G_OPTION_ARG_INT, &backoff_max_ms,
      "Longest delay between retries (default 10000)", "MS" },
    { "give-up-after", 0, 0, G_OPTION_ARG_DOUBLE, &give_up_s,
      "Fail after S seconds without progress (default: never)", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) context
      = g_option_context_new ("upload - send a file to callrec-server, resumably");

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    rec_upload_config_clear (&config);
    return usage (context, error->message);
  }
  if (config.token == NULL && token_file) {
    config.token = read_token_file (token_file, &error);
    if (config.token == NULL) {
      rec_upload_config_clear (&config);
      return usage (context, error->message);
    }
  }
  if (config.token == NULL && g_getenv ("CALLREC_TOKEN"))
    config.token = g_strdup (g_getenv ("CALLREC_TOKEN"));
  if (argc != 2 || !config.server || !config.token || !config.channel || !config.path
      || chunk_kb < 1 || chunk_kb > 1024 * 1024 || poll_ms < 10 || backoff_max_ms < 10
      || give_up_s < 0 || idle_finish_s < 0 || (idle_finish_s > 0 && !follow)) {
    rec_upload_config_clear (&config);
    return usage (context, "--server, --token (or --token-file, $CALLREC_TOKEN), --channel and "
                           "--file are required; numbers must be positive");
  }
  config.follow = follow;
  config.keep_file = keep;
  config.chunk_bytes = (gsize)chunk_kb * 1024;
  config.poll_ms = poll_ms;
  config.backoff_max_ms = backoff_max_ms;
  config.give_up_after_s = give_up_s;

  cmd.loop = g_main_loop_new (NULL, FALSE);
  cmd.path = g_strdup (config.path);
  cmd.idle_finish_s = idle_finish_s;
  cmd.finishing = !follow; /* without --follow, the first signal abandons */
  cmd.last_size = -1;
  cmd.last_growth_us = g_get_monotonic_time ();
  cmd.upload = rec_upload_new (&config, NULL, on_done, &cmd, &error);
  rec_upload_config_clear (&config);
  if (cmd.upload == NULL) {
    g_printerr ("callrec-recorder upload: %s\n", error->message);
    g_main_loop_unref (cmd.loop);
    g_free (cmd.path);
    return 2;
  }
  sig_int = g_unix_signal_add (SIGINT, on_signal, &cmd);
  sig_term = g_unix_signal_add (SIGTERM, on_signal, &cmd);
  if (idle_finish_s > 0)
    cmd.idle_check = g_timeout_add (250, on_idle_check, &cmd);
  rec_upload_start (cmd.upload);
  g_main_loop_run (cmd.loop);

  g_source_remove (sig_int);
  g_source_remove (sig_term);
  if (cmd.idle_check)
    g_source_remove (cmd.idle_check);
  rec_upload_free (cmd.upload);
  g_main_loop_unref (cmd.loop);
  g_free (cmd.path);
  return cmd.exit_code;
}
