/* SPDX-License-Identifier: MIT */
#include "srv-shape.h"

/* The strict RFC 8259 checker is common's (cr-message-json.c); it is shared with the
 * signaling parser so that both refuse the same JSON. */
#include "cr-message-private.h"

#include <string.h>

G_DEFINE_QUARK (srv-shape-error-quark, srv_shape_error)

typedef enum {
  FIELD_STRING,
  FIELD_BOOL,
  FIELD_OBJECT,       /* any JSON object, at most SRV_SHAPE_MAX_PROPS bytes serialized */
  FIELD_STRING_ARRAY, /* min..max elements, each a FIELD_STRING with the item bounds */
  FIELD_INT,          /* a JSON integer within min..max */
} FieldType;

enum {
  REQ = 1 << 0,
  /* CR, LF and TAB allowed (a message body). Every other string may end up in a log
   * line, a header or a file name, where a control character could forge content. */
  MULTILINE = 1 << 1,
  /* Only [a-z0-9._-], starting with a letter or digit: usernames and channel names, which
   * appear in URLs and command lines. */
  NAME = 1 << 2,
};
#define OPT 0

typedef struct {
  const char *name;
  FieldType type;
  guint flags;
  gint64 min, max; /* STRING: length in bytes; STRING_ARRAY: element count; INT: value */
  gint64 item_max;           /* STRING_ARRAY: each element's length in bytes */
  const char *const *one_of; /* STRING: allowed values, NULL-terminated */
} FieldSpec;

#define MAX_FIELDS 8

typedef struct {
  const char *name;
  FieldSpec fields[MAX_FIELDS]; /* ends at the first entry without a name */
} ShapeSpec;

/* clang-format off */
#define STRING(n, fl, lo, hi) { .name = n, .type = FIELD_STRING, .flags = fl, .min = lo, .max = hi }
#define ENUM(n, fl, values) \
  { .name = n, .type = FIELD_STRING, .flags = fl, .min = 1, .max = 64, .one_of = values }
#define BOOL(n, fl) { .name = n, .type = FIELD_BOOL, .flags = fl }
#define OBJECT(n, fl) { .name = n, .type = FIELD_OBJECT, .flags = fl }
#define STRINGS(n, fl, lo, hi, item) \
  { .name = n, .type = FIELD_STRING_ARRAY, .flags = fl, .min = lo, .max = hi, .item_max = item }
#define INT(n, fl, lo, hi) { .name = n, .type = FIELD_INT, .flags = fl, .min = lo, .max = hi }
/* clang-format on */

static const char *const roles[] = { "system_admin", "member", "guest", NULL };
static const char *const channel_types[] = { "public", "private", "group", "direct", NULL };
static const char *const job_states[] = { "started", "stopped", "uploaded", "failed", NULL };

/* Indexed by SrvShapeId. */
/* clang-format off */
static const ShapeSpec shapes[SRV_SHAPE_COUNT] = {
  [SRV_SHAPE_USER_CREATE] = { "user", {
    STRING ("username", REQ | NAME, 1, 64),
    STRING ("display_name", OPT, 0, 128),
    ENUM ("role", OPT, roles) } },
  [SRV_SHAPE_TOKEN_CREATE] = { "token", {
    STRING ("label", OPT, 0, 128) } },
  /* "members" are user ids or usernames. */
  [SRV_SHAPE_CHANNEL_CREATE] = { "channel", {
    STRING ("name", OPT | NAME, 1, 64),
    STRING ("display_name", OPT, 0, 128),
    ENUM ("type", REQ, channel_types),
    STRINGS ("members", OPT, 0, 16, 64) } },
  [SRV_SHAPE_MEMBER_ADD] = { "member", {
    STRING ("user", REQ, 1, 64) } },
  [SRV_SHAPE_POST_CREATE] = { "post", {
    STRING ("message", REQ | MULTILINE, 0, 16384),
    STRING ("root_id", OPT, 1, 64),
    STRINGS ("file_ids", OPT, 0, 10, 64),
    OBJECT ("props", OPT) } },
  /* "channel": an id or a name; "size": the final size when known in advance. */
  [SRV_SHAPE_UPLOAD_CREATE] = { "upload", {
    STRING ("channel", REQ, 1, 64),
    STRING ("name", REQ, 1, 255),
    STRING ("content_type", OPT, 1, 127),
    INT ("size", OPT, 0, G_GINT64_CONSTANT (9007199254740991)) } },
  [SRV_SHAPE_UPLOAD_COMPLETE] = { "upload completion", {
    STRING ("sha256", REQ, 64, 64),
    OBJECT ("post", OPT) } },
  /* The post that attaches the completed file, in the upload's channel. */
  [SRV_SHAPE_UPLOAD_POST] = { "post", {
    STRING ("message", REQ | MULTILINE, 0, 16384),
    STRING ("root_id", OPT, 1, 64),
    OBJECT ("props", OPT) } },
  /* A recorder's report on its job (srv-api-jobs.c). */
  [SRV_SHAPE_JOB_STATUS] = { "job status", {
    ENUM ("state", REQ, job_states),
    STRING ("reason", OPT, 0, 1024),
    STRING ("file_id", OPT, 1, 64),
    INT ("duration_ms", OPT, 0, G_GINT64_CONSTANT (9007199254740991)) } },
};
/* clang-format on */

/* The signaling messages a client sends (docs/signaling.md), indexed by SrvMessageType;
 * the name is the envelope's "type". */
static const char *const sdp_types[] = { "offer", "answer", NULL };

/* clang-format off */
static const ShapeSpec messages[SRV_MESSAGE_COUNT] = {
  [SRV_MESSAGE_AUTH] = { "auth", {
    STRING ("token", REQ, 1, 256) } },
  /* channel_id: an id or a name; job_id is the recording bot's (issue 5). */
  [SRV_MESSAGE_JOIN] = { "join", {
    STRING ("channel_id", REQ, 1, 64),
    STRING ("sdp", OPT | MULTILINE, 1, SRV_MESSAGE_MAX_SDP),
    STRING ("job_id", OPT, 1, 64) } },
  [SRV_MESSAGE_LEAVE] = { "leave", { { NULL } } },
  [SRV_MESSAGE_SDP] = { "sdp", {
    ENUM ("type", REQ, sdp_types),
    STRING ("sdp", REQ | MULTILINE, 1, SRV_MESSAGE_MAX_SDP) } },
  /* An empty candidate is end-of-candidates. */
  [SRV_MESSAGE_ICE] = { "ice", {
    STRING ("candidate", REQ, 0, 1024),
    STRING ("sdp_mid", OPT, 0, 64),
    INT ("sdp_mline_index", OPT, 0, 1023) } },
  [SRV_MESSAGE_MUTE] = { "mute", { { NULL } } },
  [SRV_MESSAGE_UNMUTE] = { "unmute", { { NULL } } },
  [SRV_MESSAGE_SCREEN_ON] = { "screen_on", { { NULL } } },
  [SRV_MESSAGE_SCREEN_OFF] = { "screen_off", { { NULL } } },
  [SRV_MESSAGE_RAISE_HAND] = { "raise_hand", { { NULL } } },
  [SRV_MESSAGE_LOWER_HAND] = { "lower_hand", { { NULL } } },
  [SRV_MESSAGE_REACT] = { "react", {
    STRING ("emoji", REQ, 1, 64) } },
};
/* clang-format on */

const char *
srv_shape_name (SrvShapeId id)
{
  g_return_val_if_fail (id < SRV_SHAPE_COUNT, NULL);
  return shapes[id].name;
}

static const FieldSpec *
find_field (const ShapeSpec *spec, const char *name)
{
  for (gsize i = 0; i < MAX_FIELDS && spec->fields[i].name; i++) {
    if (strcmp (spec->fields[i].name, name) == 0)
      return &spec->fields[i];
  }
  return NULL;
}

/* Client-chosen names go into error messages and logs: bounded and escaped. */
static gboolean
field_error (GError **error, char **field_out, const char *field, const char *what)
{
  g_autofree char *head = g_strndup (field, 40);
  g_autofree char *escaped = g_strescape (head, NULL);

  if (field_out)
    *field_out = g_strdup (escaped);
  g_set_error (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_BAD_FIELD, "field '%s%s' %s", escaped,
               strlen (field) > 40 ? "…" : "", what);
  return FALSE;
}

static gboolean
is_name (const char *s)
{
  if (!g_ascii_isalnum (s[0]))
    return FALSE;
  for (const char *p = s; *p; p++) {
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '.' || *p == '_' || *p == '-'))
      return FALSE;
  }
  return TRUE;
}

static gboolean
check_string (const FieldSpec *field, JsonNode *node, gint64 max, char **field_out, GError **error)
{
  const char *s;
  gsize len;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return field_error (error, field_out, field->name, "must be a string");
  s = json_node_get_string (node);
  len = strlen (s);
  if ((gint64) len > max) {
    g_autofree char *what = g_strdup_printf ("is longer than %" G_GINT64_FORMAT " bytes", max);
    return field_error (error, field_out, field->name, what);
  }
  if ((gint64) len < MAX (field->min, 0) || (field->type == FIELD_STRING_ARRAY && len == 0))
    return field_error (error, field_out, field->name, "must not be empty");
  /* The strict checker already refused invalid UTF-8 and NUL escapes. */
  for (const char *p = s; *p; p++) {
    guchar c = *p;
    gboolean allowed = (field->flags & MULTILINE) && (c == '\r' || c == '\n' || c == '\t');

    if ((c < 0x20 || c == 0x7f) && !allowed)
      return field_error (error, field_out, field->name, "contains a control character");
  }
  if ((field->flags & NAME) && !is_name (s))
    return field_error (error, field_out, field->name,
                        "may hold only a-z, 0-9, '.', '_' and '-', starting with a-z or 0-9");
  if (field->one_of && !g_strv_contains ((const char *const *) field->one_of, s)) {
    g_autofree char *list = g_strjoinv (", ", (char **) field->one_of);
    g_autofree char *what = g_strdup_printf ("must be one of: %s", list);

    return field_error (error, field_out, field->name, what);
  }
  return TRUE;
}

static gboolean
check_field (const FieldSpec *field, JsonNode *node, char **field_out, GError **error)
{
  switch (field->type) {
  case FIELD_STRING:
    return check_string (field, node, field->max, field_out, error);
  case FIELD_BOOL:
    if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
      return field_error (error, field_out, field->name, "must be a boolean");
    return TRUE;
  case FIELD_INT:
    if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64
        || json_node_get_int (node) < field->min || json_node_get_int (node) > field->max) {
      g_autofree char *what = g_strdup_printf (
          "must be an integer within %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, field->min,
          field->max);
      return field_error (error, field_out, field->name, what);
    }
    return TRUE;
  case FIELD_OBJECT: {
    g_autoptr (JsonGenerator) gen = NULL;
    gsize len = 0;
    g_autofree char *text = NULL;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      return field_error (error, field_out, field->name, "must be an object");
    gen = json_generator_new ();
    json_generator_set_root (gen, node);
    text = json_generator_to_data (gen, &len);
    if (len > SRV_SHAPE_MAX_PROPS) {
      g_autofree char *what = g_strdup_printf ("is larger than %d bytes", SRV_SHAPE_MAX_PROPS);
      return field_error (error, field_out, field->name, what);
    }
    return TRUE;
  }
  case FIELD_STRING_ARRAY: {
    JsonArray *array;
    guint n;

    if (!JSON_NODE_HOLDS_ARRAY (node))
      return field_error (error, field_out, field->name, "must be an array of strings");
    array = json_node_get_array (node);
    n = json_array_get_length (array);
    if (n < field->min || n > field->max) {
      g_autofree char *what = g_strdup_printf (
          "must have %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT " elements", field->min, field->max);
      return field_error (error, field_out, field->name, what);
    }
    for (guint i = 0; i < n; i++) {
      if (!check_string (field, json_array_get_element (array, i), field->item_max, field_out,
                         error))
        return FALSE;
    }
    return TRUE;
  }
  }
  g_return_val_if_reached (FALSE);
}

/* Checks @obj's members against @spec: no unknown member, each declared one well-typed
 * and within bounds, every required one present. */
static gboolean
check_members (const ShapeSpec *spec, JsonObject *obj, char **field_out, GError **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  json_object_iter_init (&iter, obj);
  while (json_object_iter_next (&iter, &name, &node)) {
    const FieldSpec *field = find_field (spec, name);

    if (field == NULL) {
      g_autofree char *what = g_strdup_printf ("is not part of a %s", spec->name);
      return field_error (error, field_out, name, what);
    }
    if (!check_field (field, node, field_out, error))
      return FALSE;
  }
  for (gsize i = 0; i < MAX_FIELDS && spec->fields[i].name; i++) {
    if ((spec->fields[i].flags & REQ) && !json_object_has_member (obj, spec->fields[i].name))
      return field_error (error, field_out, spec->fields[i].name, "is missing");
  }
  return TRUE;
}

/* UTF-8 without NUL, strict RFC 8259, then json-glib. Returns: (transfer full). */
static JsonNode *
parse_strict (const char *body, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (len == 0) {
    g_set_error_literal (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_SYNTAX,
                         "a JSON object is required");
    return NULL;
  }
  if (memchr (body, '\0', len) != NULL || !g_utf8_validate_len (body, len, NULL)) {
    g_set_error_literal (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_SYNTAX,
                         "the body is not valid UTF-8 text");
    return NULL;
  }
  if (!cr_message_json_check (body, len, &local)) {
    g_set_error_literal (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_SYNTAX, local->message);
    return NULL;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, body, len, &local)) {
    g_set_error (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_SYNTAX, "invalid JSON: %s",
                 local->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error_literal (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_SYNTAX,
                         "the body must be a JSON object");
    return NULL;
  }
  return json_node_ref (root);
}

JsonObject *
srv_shape_parse (SrvShapeId id, const char *body, gsize len, char **field_out, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *obj;

  g_return_val_if_fail (id < SRV_SHAPE_COUNT, NULL);
  g_return_val_if_fail (body != NULL || len == 0, NULL);

  root = parse_strict (body, len, error);
  if (root == NULL)
    return NULL;
  obj = json_node_get_object (root);
  if (!check_members (&shapes[id], obj, field_out, error))
    return NULL;
  return json_object_ref (obj);
}

JsonObject *
srv_shape_parse_object (const char *body, gsize len, gsize max_len, GError **error)
{
  g_autoptr (JsonNode) root = NULL;

  g_return_val_if_fail (body != NULL || len == 0, NULL);
  if (len > max_len) {
    g_set_error (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_TOO_LARGE,
                 "the body is larger than %" G_GSIZE_FORMAT " bytes", max_len);
    return NULL;
  }
  root = parse_strict (body, len, error);
  if (root == NULL)
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

const char *
srv_message_type_name (SrvMessageType type)
{
  g_return_val_if_fail (type < SRV_MESSAGE_COUNT, NULL);
  return messages[type].name;
}

void
srv_message_free (SrvMessage *msg)
{
  if (msg == NULL)
    return;
  g_clear_pointer (&msg->data, json_object_unref);
  g_free (msg);
}

static gboolean
envelope_error (GError **error, char **field_out, const char *field, const char *what)
{
  if (field_out)
    *field_out = g_strdup (field);
  g_set_error (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_BAD_FIELD, "'%s' %s", field, what);
  return FALSE;
}

SrvMessage *
srv_message_parse (const char *text, gsize len, gint64 *seq_out, char **field_out,
                   GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (SrvMessage) msg = NULL;
  JsonObject *env;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  JsonNode *type_node, *seq_node, *data_node;
  const char *type;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  if (seq_out)
    *seq_out = -1;
  if (len > SRV_MESSAGE_MAX_SIZE) {
    g_set_error (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_TOO_LARGE,
                 "the message is larger than %d bytes", SRV_MESSAGE_MAX_SIZE);
    return NULL;
  }
  root = parse_strict (text, len, error);
  if (root == NULL)
    return NULL;
  env = json_node_get_object (root);
  json_object_iter_init (&iter, env);
  while (json_object_iter_next (&iter, &name, &node)) {
    if (!g_str_equal (name, "type") && !g_str_equal (name, "seq") && !g_str_equal (name, "data")) {
      field_error (error, field_out, name, "is not part of a message envelope");
      return NULL;
    }
  }
  /* seq first, so that every later error can name the message it is about. */
  seq_node = json_object_get_member (env, "seq");
  if (seq_node == NULL || !JSON_NODE_HOLDS_VALUE (seq_node)
      || json_node_get_value_type (seq_node) != G_TYPE_INT64 || json_node_get_int (seq_node) < 0
      || json_node_get_int (seq_node) > SRV_MESSAGE_MAX_SEQ) {
    envelope_error (error, field_out, "seq", "must be an integer within 0..2^53-1");
    return NULL;
  }
  msg = g_new0 (SrvMessage, 1);
  msg->seq = json_node_get_int (seq_node);
  if (seq_out)
    *seq_out = msg->seq;
  type_node = json_object_get_member (env, "type");
  if (type_node == NULL || !JSON_NODE_HOLDS_VALUE (type_node)
      || json_node_get_value_type (type_node) != G_TYPE_STRING) {
    envelope_error (error, field_out, "type", "must be a string");
    return NULL;
  }
  type = json_node_get_string (type_node);
  msg->type = SRV_MESSAGE_COUNT;
  for (int i = 0; i < SRV_MESSAGE_COUNT; i++) {
    if (g_str_equal (messages[i].name, type))
      msg->type = i;
  }
  if (msg->type == SRV_MESSAGE_COUNT) {
    g_autofree char *head = g_strndup (type, 40);
    g_autofree char *escaped = g_strescape (head, NULL);

    g_set_error (error, SRV_SHAPE_ERROR, SRV_SHAPE_ERROR_UNKNOWN_TYPE,
                 "unknown message type '%s%s'", escaped, strlen (type) > 40 ? "…" : "");
    return NULL;
  }
  data_node = json_object_get_member (env, "data");
  if (data_node != NULL && !JSON_NODE_HOLDS_OBJECT (data_node)) {
    envelope_error (error, field_out, "data", "must be an object");
    return NULL;
  }
  msg->data = data_node ? json_object_ref (json_node_get_object (data_node)) : json_object_new ();
  if (!check_members (&messages[msg->type], msg->data, field_out, error))
    return NULL;
  return g_steal_pointer (&msg);
}

gint64
srv_shape_get_int (JsonObject *obj, const char *field, gint64 fallback)
{
  JsonNode *node = json_object_get_member (obj, field);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return fallback;
  return json_node_get_int (node);
}

const char *
srv_shape_get_string (JsonObject *obj, const char *field)
{
  JsonNode *node = json_object_get_member (obj, field);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

gboolean
srv_shape_get_bool (JsonObject *obj, const char *field, gboolean fallback)
{
  JsonNode *node = json_object_get_member (obj, field);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return fallback;
  return json_node_get_boolean (node);
}

const char **
srv_shape_get_strv (JsonObject *obj, const char *field)
{
  JsonNode *node = json_object_get_member (obj, field);
  JsonArray *array;
  const char **v;
  guint n;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  v = g_new0 (const char *, n + 1);
  for (guint i = 0; i < n; i++)
    v[i] = json_array_get_string_element (array, i);
  return v;
}
