/* SPDX-License-Identifier: MIT */
#include "rec-upload-reply.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_REPLY (1024 * 1024)
#define MAX_ID 64
#define MAX_MESSAGE 256
/* JSON integers this API sends stay within 2^53. */
#define MAX_INT G_GINT64_CONSTANT (9007199254740991)

void
rec_upload_reply_clear (RecUploadReply *reply)
{
  g_clear_pointer (&reply->upload_id, g_free);
  g_clear_pointer (&reply->file_id, g_free);
  g_clear_pointer (&reply->file_sha256, g_free);
  g_clear_pointer (&reply->error_code, g_free);
  g_clear_pointer (&reply->error_message, g_free);
  reply->offset = reply->file_size = -1;
}

static gboolean
bad (GError **error, const char *member, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "reply member '%s' %s", member, what);
  return FALSE;
}

/* A string member, or NULL if absent or null. FALSE if present with another type. */
static gboolean
get_string (JsonObject *obj, const char *name, const char **out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return bad (error, name, "is not a string");
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
get_int (JsonObject *obj, const char *name, gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  *out = -1;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64
      || json_node_get_int (node) < 0 || json_node_get_int (node) > MAX_INT)
    return bad (error, name, "is not a non-negative integer");
  *out = json_node_get_int (node);
  return TRUE;
}

gboolean
rec_upload_id_valid (const char *s)
{
  gsize n = strlen (s);

  if (n == 0 || n > MAX_ID)
    return FALSE;
  for (const char *p = s; *p; p++) {
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  }
  return TRUE;
}

static gboolean
get_id (JsonObject *obj, const char *name, char **out, GError **error)
{
  const char *s;

  if (!get_string (obj, name, &s, error))
    return FALSE;
  if (s && !rec_upload_id_valid (s))
    return bad (error, name, "is not an id");
  g_free (*out);
  *out = g_strdup (s);
  return TRUE;
}

static JsonObject *
get_object (JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  return node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static gboolean
parse_upload (JsonObject *obj, RecUploadReply *reply, GError **error)
{
  return get_id (obj, "id", &reply->upload_id, error)
         && get_int (obj, "offset", &reply->offset, error)
         && get_id (obj, "file_id", &reply->file_id, error);
}

static gboolean
parse_file (JsonObject *obj, RecUploadReply *reply, GError **error)
{
  const char *sha;

  if (!get_id (obj, "id", &reply->file_id, error)
      || !get_int (obj, "size", &reply->file_size, error)
      || !get_string (obj, "sha256", &sha, error))
    return FALSE;
  if (sha) {
    if (strlen (sha) != 64 || strspn (sha, "0123456789abcdef") != 64)
      return bad (error, "sha256", "is not 64 lowercase hex digits");
    reply->file_sha256 = g_strdup (sha);
  }
  if (reply->file_id == NULL || reply->file_sha256 == NULL || reply->file_size < 0)
    return bad (error, "file", "lacks its id, sha256 or size");
  return TRUE;
}

static gboolean
parse_error (JsonObject *obj, RecUploadReply *reply, GError **error)
{
  const char *code, *message;

  if (!get_string (obj, "code", &code, error) || !get_string (obj, "message", &message, error)
      || !get_int (obj, "offset", &reply->offset, error))
    return FALSE;
  if (code == NULL || code[0] == '\0' || strlen (code) > MAX_ID
      || strspn (code, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen (code))
    return bad (error, "code", "is not an error code");
  reply->error_code = g_strdup (code);
  if (message) {
    /* For logs: printable ASCII only, bounded. */
    GString *clean = g_string_new (NULL);

    for (const char *p = message; *p && clean->len < MAX_MESSAGE; p++)
      g_string_append_c (clean, g_ascii_isprint (*p) ? *p : '?');
    reply->error_message = g_string_free (clean, FALSE);
  }
  return TRUE;
}

gboolean
rec_upload_reply_parse (const char *data, gsize len, RecUploadReply *reply, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;
  JsonObject *obj, *member;
  gboolean ok;

  memset (reply, 0, sizeof *reply);
  reply->offset = reply->file_size = -1;
  if (len == 0 || len > MAX_REPLY || memchr (data, '\0', len) != NULL
      || !g_utf8_validate_len (data, len, NULL)) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "the reply is not a JSON text of at most 1 MiB");
    return FALSE;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, len, error))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "the reply is not a JSON object");
    return FALSE;
  }
  obj = json_node_get_object (root);
  if ((member = get_object (obj, "error")))
    ok = parse_error (member, reply, error);
  else if ((member = get_object (obj, "file")))
    ok = parse_file (member, reply, error)
         && (get_object (obj, "upload") == NULL
             || get_id (get_object (obj, "upload"), "id", &reply->upload_id, error));
  else
    ok = parse_upload (obj, reply, error);
  if (!ok)
    rec_upload_reply_clear (reply);
  return ok;
}
