/* SPDX-License-Identifier: MIT */
#include "rec-worker-claim.h"
#include "rec-upload-reply.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_REPLY (64 * 1024)
#define MAX_TOKEN 256

static gboolean
bad (GError **error, const char *member, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "reply member '%s' %s", member, what);
  return FALSE;
}

/* The reply's top-level object. Returns: (transfer full) (nullable). */
static JsonObject *
parse_object (const char *data, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (len > MAX_REPLY) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the reply is over %d bytes",
                 MAX_REPLY);
    return NULL;
  }
  if (!json_parser_load_from_data (parser, data, (gssize)len, &local)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the reply is not JSON");
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the reply is not a JSON object");
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

static gboolean
get_string (JsonObject *obj, const char *name, const char **out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return bad (error, name, "is missing or not a string");
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
get_int (JsonObject *obj, const char *name, gint64 min, gint64 max, gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64 || json_node_get_int (node) < min
      || json_node_get_int (node) > max)
    return bad (error, name, "is missing or not an integer in range");
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
get_id (JsonObject *obj, const char *name, char **out, GError **error)
{
  const char *s;

  if (!get_string (obj, name, &s, error))
    return FALSE;
  if (!rec_upload_id_valid (s))
    return bad (error, name, "is not an id");
  *out = g_strdup (s);
  return TRUE;
}

static gboolean
token_valid (const char *s)
{
  gsize n = strlen (s);

  if (n == 0 || n > MAX_TOKEN)
    return FALSE;
  for (const char *p = s; *p; p++) {
    if (*p <= ' ' || *p > '~')
      return FALSE;
  }
  return TRUE;
}

void
rec_worker_claim_clear (RecWorkerClaim *claim)
{
  g_clear_pointer (&claim->id, g_free);
  g_clear_pointer (&claim->channel_id, g_free);
  if (claim->token)
    memset (claim->token, 0, strlen (claim->token));
  g_clear_pointer (&claim->token, g_free);
  claim->max_duration_s = claim->warning_before_s = 0;
  claim->lease_s = 0;
}

gboolean
rec_worker_claim_parse (const char *data, gsize len, RecWorkerClaim *claim, GError **error)
{
  g_autoptr (JsonObject) obj = parse_object (data, len, error);
  const char *token;
  gint64 lease = 0;

  memset (claim, 0, sizeof *claim);
  if (obj == NULL)
    return FALSE;
  if (!get_id (obj, "id", &claim->id, error)
      || !get_id (obj, "channel_id", &claim->channel_id, error)
      || !get_string (obj, "token", &token, error)
      || !get_int (obj, "max_duration_s", 1, REC_WORKER_MAX_DURATION_S, &claim->max_duration_s,
                   error)
      || !get_int (obj, "warning_before_s", 0, claim->max_duration_s, &claim->warning_before_s,
                   error)
      || !get_int (obj, "lease_s", 3, 300, &lease, error))
    goto fail;
  if (!token_valid (token)) {
    bad (error, "token", "is not a token");
    goto fail;
  }
  claim->token = g_strdup (token);
  claim->lease_s = (guint)lease;
  return TRUE;
fail:
  rec_worker_claim_clear (claim);
  return FALSE;
}

gboolean
rec_worker_job_state_parse (const char *data, gsize len, RecWorkerJobState *state,
                            gint64 *started_at, GError **error)
{
  static const char *const names[] = {
    [REC_WORKER_JOB_INITIALIZING] = "initializing",
    [REC_WORKER_JOB_RECORDING] = "recording",
    [REC_WORKER_JOB_STOPPING] = "stopping",
    [REC_WORKER_JOB_STOPPED] = "stopped",
    [REC_WORKER_JOB_FAILED] = "failed",
  };
  g_autoptr (JsonObject) obj = parse_object (data, len, error);
  const char *s;

  if (obj == NULL || !get_string (obj, "state", &s, error)
      || !get_int (obj, "started_at", 0, G_GINT64_CONSTANT (9007199254740991), started_at, error))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    if (g_str_equal (s, names[i])) {
      *state = i;
      return TRUE;
    }
  }
  return bad (error, "state", "is not a recording state");
}
