/* SPDX-License-Identifier: MIT */
/* callrec: the command-line client of callrec-server's REST API (docs/api.md).
 *
 *   callrec [--server URL] [--token T] [--json] COMMAND…
 *
 *   admin user add USERNAME [--display-name NAME] [--role member|guest|system_admin]
 *   admin user deactivate USER
 *   admin channel add NAME [--type public|private] [--display-name NAME] [--member USER]…
 *   admin channel archive CHANNEL
 *   admin channel delete CHANNEL
 *   admin member add CHANNEL USER
 *   admin member remove CHANNEL USER
 *   token create [--user USER] [--label LABEL]
 *   call start|join|leave|end|link CHANNEL
 *   call stats CHANNEL [--user USER]
 *   recording start|stop CHANNEL
 *
 * The call commands are the chat client's /call slash commands without media: `call
 * start` starts a call (you are its host), `call join` joins it as a presence without
 * audio (starting it if none runs), `call leave` leaves it (from wherever you joined),
 * `call end` ends it for everyone (host or system admin), `call link` prints the call
 * link, `call stats` prints the WebRTC stats your client posted in your last call (a
 * system admin may ask for another --user's). `recording start|stop` asks the server to
 * record the call (host only; the server answers "not implemented" until recording lands).
 *
 * USER is a username or a user id, CHANNEL a channel name or id. --server and --token
 * default to CALLREC_SERVER and CALLREC_TOKEN. Output is readable text, or the server's
 * JSON object with --json. An error is one line on stderr.
 *
 * Exit status: 0 done, 1 the server refused or could not be reached, 2 bad usage. */
#include "cli-client.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  CliClient *client;
  char **args; /* the command's positional arguments, after its words */
  char *display_name;
  char *role;
  char *type;
  char **members;
  char *user;
  char *label;
  gboolean json;
} Ctx;

typedef gboolean (*CommandFunc) (Ctx *ctx, GError **error);

typedef struct {
  const char *words; /* e.g. "admin user add" */
  const char *usage; /* its arguments */
  guint n_args;      /* positional arguments it takes */
  CommandFunc func;
} Command;

/* Prints the reply: as JSON with --json, else @text. */
static void
print_result (Ctx *ctx, JsonNode *reply, const char *text)
{
  if (ctx->json) {
    g_autofree char *s = json_to_string (reply, FALSE);

    printf ("%s\n", s);
  } else {
    printf ("%s\n", text);
  }
}

static const char *
str (JsonNode *node, const char *member)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return "?";
  return json_object_get_string_member_with_default (json_node_get_object (node), member, "?");
}

static JsonNode *
object_node (JsonBuilder *b)
{
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
add_member (JsonBuilder *b, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static gboolean
cmd_user_add (Ctx *ctx, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  add_member (b, "username", ctx->args[0]);
  add_member (b, "display_name", ctx->display_name);
  add_member (b, "role", ctx->role);
  body = object_node (b);
  reply = cli_client_call (ctx->client, "POST", "/users", body, error);
  if (reply == NULL)
    return FALSE;
  text = g_strdup_printf ("created user %s (%s), id %s", str (reply, "username"),
                          str (reply, "role"), str (reply, "id"));
  print_result (ctx, reply, text);
  return TRUE;
}

static gboolean
cmd_user_deactivate (Ctx *ctx, GError **error)
{
  g_autofree char *seg = cli_segment (ctx->args[0]);
  g_autofree char *path = g_strdup_printf ("/users/%s/deactivate", seg);
  g_autoptr (JsonNode) reply = cli_client_call (ctx->client, "POST", path, NULL, error);
  g_autofree char *text = NULL;

  if (reply == NULL)
    return FALSE;
  text = g_strdup_printf ("deactivated user %s", str (reply, "username"));
  print_result (ctx, reply, text);
  return TRUE;
}

static gboolean
cmd_channel_add (Ctx *ctx, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *text = NULL;
  const char *type = ctx->type ? ctx->type : "public";

  if (!g_str_equal (type, "public") && !g_str_equal (type, "private")) {
    g_set_error_literal (error, CLI_ERROR, CLI_ERROR_USAGE, "--type must be public or private");
    return FALSE;
  }
  json_builder_begin_object (b);
  add_member (b, "name", ctx->args[0]);
  add_member (b, "type", type);
  add_member (b, "display_name", ctx->display_name);
  if (ctx->members) {
    json_builder_set_member_name (b, "members");
    json_builder_begin_array (b);
    for (gsize i = 0; ctx->members[i]; i++)
      json_builder_add_string_value (b, ctx->members[i]);
    json_builder_end_array (b);
  }
  body = object_node (b);
  reply = cli_client_call (ctx->client, "POST", "/channels", body, error);
  if (reply == NULL)
    return FALSE;
  text = g_strdup_printf ("created %s channel %s, id %s", str (reply, "type"), str (reply, "name"),
                          str (reply, "id"));
  print_result (ctx, reply, text);
  return TRUE;
}

static gboolean
change_channel (Ctx *ctx, const char *method, const char *suffix, const char *done, GError **error)
{
  g_autofree char *seg = cli_segment (ctx->args[0]);
  g_autofree char *path = g_strdup_printf ("/channels/%s%s", seg, suffix);
  g_autoptr (JsonNode) reply = cli_client_call (ctx->client, method, path, NULL, error);
  g_autofree char *text = NULL;

  if (reply == NULL)
    return FALSE;
  text = g_strdup_printf ("%s channel %s", done, ctx->args[0]);
  print_result (ctx, reply, text);
  return TRUE;
}

static gboolean
cmd_channel_archive (Ctx *ctx, GError **error)
{
  return change_channel (ctx, "POST", "/archive", "archived", error);
}

static gboolean
cmd_channel_delete (Ctx *ctx, GError **error)
{
  return change_channel (ctx, "DELETE", "", "deleted", error);
}

static gboolean
cmd_member_add (Ctx *ctx, GError **error)
{
  g_autofree char *seg = cli_segment (ctx->args[0]);
  g_autofree char *path = g_strdup_printf ("/channels/%s/members", seg);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  add_member (b, "user", ctx->args[1]);
  body = object_node (b);
  reply = cli_client_call (ctx->client, "POST", path, body, error);
  if (reply == NULL)
    return FALSE;
  text = g_strdup_printf ("added %s to %s", str (reply, "username"), ctx->args[0]);
  print_result (ctx, reply, text);
  return TRUE;
}

static gboolean
cmd_member_remove (Ctx *ctx, GError **error)
{
  g_autofree char *ch = cli_segment (ctx->args[0]);
  g_autofree char *user = cli_segment (ctx->args[1]);
  g_autofree char *path = g_strdup_printf ("/channels/%s/members/%s", ch, user);
  g_autoptr (JsonNode) reply = cli_client_call (ctx->client, "DELETE", path, NULL, error);
  g_autofree char *text = NULL;

  if (reply == NULL)
    return FALSE;
  text = g_strdup_printf ("removed %s from %s", ctx->args[1], ctx->args[0]);
  print_result (ctx, reply, text);
  return TRUE;
}

static gboolean
cmd_token_create (Ctx *ctx, GError **error)
{
  g_autofree char *seg = cli_segment (ctx->user ? ctx->user : "me");
  g_autofree char *path = g_strdup_printf ("/users/%s/tokens", seg);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  add_member (b, "label", ctx->label);
  body = object_node (b);
  reply = cli_client_call (ctx->client, "POST", path, body, error);
  if (reply == NULL)
    return FALSE;
  /* The secret alone on the last line, so that `| tail -n1` gets it. */
  text = g_strdup_printf ("created token %s (shown only this once):\n%s", str (reply, "id"),
                          str (reply, "token"));
  print_result (ctx, reply, text);
  return TRUE;
}

/* /calls/{channel}@suffix or /channels/{channel}@suffix. */
static char *
channel_path (Ctx *ctx, const char *base, const char *suffix)
{
  g_autofree char *seg = cli_segment (ctx->args[0]);

  return g_strdup_printf ("/%s/%s%s", base, seg, suffix);
}

static guint
n_participants (JsonNode *call)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (call) ? json_node_get_object (call) : NULL;
  JsonNode *a = o ? json_object_get_member (o, "participants") : NULL;

  return a && JSON_NODE_HOLDS_ARRAY (a) ? json_array_get_length (json_node_get_array (a)) : 0;
}

static gboolean
cmd_call_start (Ctx *ctx, GError **error)
{
  g_autofree char *path = channel_path (ctx, "calls", "/start");
  g_autoptr (JsonNode) reply = cli_client_call (ctx->client, "POST", path, NULL, error);
  g_autofree char *text = NULL;

  if (reply == NULL)
    return FALSE;
  text = g_strdup_printf ("started a call in %s (call %s, thread %s); you are the host",
                          ctx->args[0], str (reply, "id"), str (reply, "thread_id"));
  print_result (ctx, reply, text);
  return TRUE;
}

static gboolean
cmd_call_join (Ctx *ctx, GError **error)
{
  g_autofree char *path = channel_path (ctx, "calls", "/join");
  g_autoptr (JsonNode) reply = cli_client_call (ctx->client, "POST", path, NULL, error);
  g_autofree char *text = NULL;

  if (reply == NULL)
    return FALSE;
  text = g_strdup_printf ("joined the call in %s without media (%u in the call)", ctx->args[0],
                          n_participants (reply));
  print_result (ctx, reply, text);
  return TRUE;
}

static gboolean
call_action (Ctx *ctx, const char *base, const char *suffix, const char *done, GError **error)
{
  g_autofree char *path = channel_path (ctx, base, suffix);
  g_autoptr (JsonNode) reply = cli_client_call (ctx->client, "POST", path, NULL, error);
  g_autofree char *text = NULL;

  if (reply == NULL)
    return FALSE;
  text = g_strdup_printf ("%s %s", done, ctx->args[0]);
  print_result (ctx, reply, text);
  return TRUE;
}

static gboolean
cmd_call_leave (Ctx *ctx, GError **error)
{
  return call_action (ctx, "calls", "/leave", "left the call in", error);
}

static gboolean
cmd_call_end (Ctx *ctx, GError **error)
{
  return call_action (ctx, "calls", "/end", "ended the call in", error);
}

static gboolean
cmd_recording_start (Ctx *ctx, GError **error)
{
  return call_action (ctx, "calls", "/recording/start", "asked to start recording the call in",
                      error);
}

static gboolean
cmd_recording_stop (Ctx *ctx, GError **error)
{
  return call_action (ctx, "calls", "/recording/stop", "asked to stop recording the call in",
                      error);
}

static gboolean
cmd_call_link (Ctx *ctx, GError **error)
{
  g_autofree char *path = channel_path (ctx, "channels", "/call-link");
  g_autoptr (JsonNode) reply = cli_client_call (ctx->client, "GET", path, NULL, error);

  if (reply == NULL)
    return FALSE;
  print_result (ctx, reply, str (reply, "url"));
  return TRUE;
}

static gboolean
cmd_call_stats (Ctx *ctx, GError **error)
{
  g_autofree char *user = ctx->user ? cli_segment (ctx->user) : NULL;
  g_autofree char *query = user ? g_strdup_printf ("/stats?user=%s", user) : NULL;
  g_autofree char *path = channel_path (ctx, "calls", query ? query : "/stats");
  g_autoptr (JsonNode) reply = cli_client_call (ctx->client, "GET", path, NULL, error);
  g_autoptr (GDateTime) when = NULL;
  g_autofree char *when_s = NULL;
  g_autofree char *stats = NULL;
  g_autofree char *text = NULL;
  JsonNode *node;

  if (reply == NULL)
    return FALSE;
  node = JSON_NODE_HOLDS_OBJECT (reply)
             ? json_object_get_member (json_node_get_object (reply), "stats")
             : NULL;
  stats = node ? json_to_string (node, TRUE) : g_strdup ("{}");
  when = g_date_time_new_from_unix_utc (
      json_object_get_int_member_with_default (json_node_get_object (reply), "updated_at", 0)
      / 1000);
  when_s = when ? g_date_time_format (when, "%Y-%m-%d %H:%M:%S UTC") : g_strdup ("?");
  text = g_strdup_printf ("stats of call %s in %s, updated %s:\n%s", str (reply, "call_id"),
                          ctx->args[0], when_s, stats);
  print_result (ctx, reply, text);
  return TRUE;
}

static const Command commands[] = {
  { "admin user add", "USERNAME [--display-name NAME] [--role ROLE]", 1, cmd_user_add },
  { "admin user deactivate", "USER", 1, cmd_user_deactivate },
  { "admin channel add", "NAME [--type public|private] [--display-name NAME] [--member USER]…", 1,
    cmd_channel_add },
  { "admin channel archive", "CHANNEL", 1, cmd_channel_archive },
  { "admin channel delete", "CHANNEL", 1, cmd_channel_delete },
  { "admin member add", "CHANNEL USER", 2, cmd_member_add },
  { "admin member remove", "CHANNEL USER", 2, cmd_member_remove },
  { "token create", "[--user USER] [--label LABEL]", 0, cmd_token_create },
  { "call start", "CHANNEL", 1, cmd_call_start },
  { "call join", "CHANNEL", 1, cmd_call_join },
  { "call leave", "CHANNEL", 1, cmd_call_leave },
  { "call end", "CHANNEL", 1, cmd_call_end },
  { "call link", "CHANNEL", 1, cmd_call_link },
  { "call stats", "CHANNEL [--user USER]", 1, cmd_call_stats },
  { "recording start", "CHANNEL", 1, cmd_recording_start },
  { "recording stop", "CHANNEL", 1, cmd_recording_stop },
};

static char *
commands_help (void)
{
  GString *s = g_string_new ("Commands:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (s, "  %s %s\n", commands[i].words, commands[i].usage);
  g_string_append (s, "\nUSER is a username or id, CHANNEL a channel name or id.\n"
                      "--server and --token default to CALLREC_SERVER and CALLREC_TOKEN.");
  return g_string_free (s, FALSE);
}

/* Finds the command whose words start @argv (after the program name). */
static const Command *
find_command (int argc, char **argv, int *n_words)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++) {
    g_auto (GStrv) words = g_strsplit (commands[i].words, " ", -1);
    int n = g_strv_length (words);
    gboolean match = argc - 1 >= n;

    for (int w = 0; match && w < n; w++)
      match = g_str_equal (argv[1 + w], words[w]);
    if (match) {
      *n_words = n;
      return &commands[i];
    }
  }
  return NULL;
}

int
main (int argc, char **argv)
{
  g_autofree char *server = NULL;
  g_autofree char *token = NULL;
  g_autofree char *help = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  const Command *cmd;
  int n_words = 0;
  Ctx ctx = { 0 };
  const GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &server, "Server URL (CALLREC_SERVER)", "URL" },
    { "token", 't', 0, G_OPTION_ARG_STRING, &token, "Access token (CALLREC_TOKEN)", "TOKEN" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctx.json, "Print the server's JSON reply", NULL },
    { "display-name", 0, 0, G_OPTION_ARG_STRING, &ctx.display_name, "Display name", "NAME" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &ctx.role, "member, guest or system_admin", "ROLE" },
    { "type", 0, 0, G_OPTION_ARG_STRING, &ctx.type, "public or private", "TYPE" },
    { "member", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ctx.members, "A member of the new channel",
      "USER" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &ctx.user, "Whose token or stats (default: yours)",
      "USER" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &ctx.label, "A label for the token", "LABEL" },
    { NULL },
  };
  int status = 0;

  setlocale (LC_ALL, "");
  context = g_option_context_new ("COMMAND… - the callrec command line");
  g_option_context_add_main_entries (context, entries, NULL);
  help = commands_help ();
  g_option_context_set_description (context, help);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("callrec: %s\n", error->message);
    status = 2;
    goto out;
  }
  cmd = find_command (argc, argv, &n_words);
  if (cmd == NULL) {
    g_printerr ("callrec: %s; see callrec --help\n",
                argc > 1 ? "unknown command" : "a command is required");
    status = 2;
    goto out;
  }
  if ((guint) (argc - 1 - n_words) != cmd->n_args) {
    g_printerr ("callrec: usage: callrec %s %s\n", cmd->words, cmd->usage);
    status = 2;
    goto out;
  }
  ctx.args = argv + 1 + n_words;
  ctx.client = cli_client_new (server ? server : g_getenv ("CALLREC_SERVER"),
                               token ? token : g_getenv ("CALLREC_TOKEN"), &error);
  if (ctx.client == NULL || !cmd->func (&ctx, &error)) {
    g_printerr ("callrec: %s\n", error->message);
    status = g_error_matches (error, CLI_ERROR, CLI_ERROR_USAGE) ? 2 : 1;
  }

out:
  g_clear_pointer (&ctx.client, cli_client_free);
  g_free (ctx.display_name);
  g_free (ctx.role);
  g_free (ctx.type);
  g_strfreev (ctx.members);
  g_free (ctx.user);
  g_free (ctx.label);
  return status;
}
