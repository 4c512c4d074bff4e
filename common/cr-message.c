/* SPDX-License-Identifier: MIT */
#include "cr-message.h"
#include "cr-message-private.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (cr-message-error-quark, cr_message_error)

/* The declared shapes. To add a message type, add a row to message_specs; nothing else
 * changes. */

typedef enum {
  FIELD_STRING,
  FIELD_INT,
  FIELD_BOOL,
  FIELD_NUMBER, /* a JSON integer or double */
  FIELD_OBJECT,
} FieldType;

enum {
  FIELD_REQUIRED = 1 << 0,
  /* CR, LF and TAB allowed, for SDP. Every other string may end up in a log line or a
   * file name, where a control character could forge content. */
  FIELD_MULTILINE = 1 << 1,
};

typedef struct {
  const char *name;
  FieldType type;
  guint flags;
  gint64 min, max;           /* INT, NUMBER: value range; STRING: length in bytes */
  const char *const *one_of; /* STRING: allowed values, NULL-terminated; NULL: any */
} FieldSpec;

#define MAX_FIELDS 8

typedef struct {
  const char *type;
  FieldSpec fields[MAX_FIELDS]; /* ends at the first entry without a name */
} MessageSpec;

#define REQ FIELD_REQUIRED
#define OPT 0
#define STRING(n, fl, lo, hi) { .name = n, .type = FIELD_STRING, .flags = fl, .min = lo, .max = hi }
#define ENUM(n, fl, values)                                                                \
  { .name = n, .type = FIELD_STRING, .flags = fl, .min = 1, .max = 64, .one_of = values }
#define INT(n, fl, lo, hi) { .name = n, .type = FIELD_INT, .flags = fl, .min = lo, .max = hi }
#define NUMBER(n, fl, lo, hi) { .name = n, .type = FIELD_NUMBER, .flags = fl, .min = lo, .max = hi }

static const char *const sdp_types[] = { "offer", "answer", NULL };

static const MessageSpec message_specs[] = {
  { .type = "sdp",
    .fields = { STRING ("conn", REQ, 1, 128), ENUM ("sdp_type", REQ, sdp_types),
                STRING ("sdp", REQ | FIELD_MULTILINE, 1, 65536) } },
  /* An empty candidate is end-of-candidates. */
  { .type = "ice",
    .fields = { STRING ("conn", REQ, 1, 128), STRING ("candidate", REQ, 0, 1024),
                INT ("sdp_mline_index", REQ, 0, 63) } },
  { .type = "participant", .fields = { STRING ("id", REQ, 1, 128), STRING ("name", REQ, 0, 256) } },
  { .type = "participant_left", .fields = { STRING ("id", REQ, 1, 128) } },
  { .type = "close", .fields = { STRING ("conn", REQ, 1, 128) } },
  /* The recorder offers first on this connection (toward an SFU). */
  { .type = "connect", .fields = { STRING ("conn", REQ, 1, 128) } },
  { .type = "stop" },
  { .type = "status",
    .fields = { STRING ("state", REQ, 1, 32), STRING ("reason", OPT, 0, 1024),
                NUMBER ("elapsed_s", OPT, 0, 1000000000) } },
};

static const MessageSpec *
find_spec (const char *type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (message_specs); i++) {
    if (strcmp (message_specs[i].type, type) == 0)
      return &message_specs[i];
  }
  return NULL;
}

static const FieldSpec *
find_field (const MessageSpec *spec, const char *name)
{
  for (gsize i = 0; i < MAX_FIELDS && spec->fields[i].name; i++) {
    if (strcmp (spec->fields[i].name, name) == 0)
      return &spec->fields[i];
  }
  return NULL;
}

/* Peer-chosen names go into error messages and from there into logs: bounded and
 * escaped (g_strescape turns control and non-ASCII bytes into octal escapes). */
static char *
quote (const char *s)
{
  const gsize max = 40;
  g_autofree char *head = g_strndup (s, max);
  g_autofree char *escaped = g_strescape (head, NULL);

  return g_strdup_printf ("'%s%s'", escaped, strlen (s) > max ? "…" : "");
}

static gboolean
field_error (GError **error, const MessageSpec *spec, const char *field, const char *what)
{
  g_autofree char *name = quote (field);

  g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD,
               "message '%s': field %s %s", spec->type, name, what);
  return FALSE;
}

static gboolean
check_string (const MessageSpec *spec, const FieldSpec *field, const char *s, GError **error)
{
  gsize len;

  if (s == NULL)
    return field_error (error, spec, field->name, "must be a string");
  len = strlen (s);
  if ((gint64) len > field->max) {
    g_autofree char *what = g_strdup_printf ("is longer than %" G_GINT64_FORMAT " bytes",
                                             field->max);
    return field_error (error, spec, field->name, what);
  }
  if ((gint64) len < field->min)
    return field_error (error, spec, field->name, "must not be empty");
  if (!g_utf8_validate (s, len, NULL))
    return field_error (error, spec, field->name, "is not valid UTF-8");
  for (const char *p = s; *p; p++) {
    guchar c = *p;
    gboolean allowed = (field->flags & FIELD_MULTILINE) && (c == '\r' || c == '\n' || c == '\t');

    if ((c < 0x20 || c == 0x7f) && !allowed)
      return field_error (error, spec, field->name, "contains a control character");
  }
  if (field->one_of) {
    g_autofree char *list = NULL;

    if (g_strv_contains ((const char *const *) field->one_of, s))
      return TRUE;
    list = g_strjoinv (", ", (char **) field->one_of);
    g_autofree char *what = g_strdup_printf ("must be one of: %s", list);
    return field_error (error, spec, field->name, what);
  }
  return TRUE;
}

static gboolean
check_field (const MessageSpec *spec, const FieldSpec *field, JsonNode *node, GError **error)
{
  GType vtype = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  switch (field->type) {
  case FIELD_STRING:
    if (vtype != G_TYPE_STRING)
      return field_error (error, spec, field->name, "must be a string");
    return check_string (spec, field, json_node_get_string (node), error);
  case FIELD_INT:
    if (vtype != G_TYPE_INT64)
      return field_error (error, spec, field->name, "must be an integer");
    if (json_node_get_int (node) < field->min || json_node_get_int (node) > field->max) {
      g_autofree char *what = g_strdup_printf (
          "must be within %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, field->min, field->max);
      return field_error (error, spec, field->name, what);
    }
    return TRUE;
  case FIELD_NUMBER: {
    double v;

    if (vtype != G_TYPE_INT64 && vtype != G_TYPE_DOUBLE)
      return field_error (error, spec, field->name, "must be a number");
    v = json_node_get_double (node); /* converts integers too */
    /* json-glib turns an overflowing literal such as 1e999 into infinity. */
    if (!isfinite (v) || v < (double) field->min || v > (double) field->max) {
      g_autofree char *what = g_strdup_printf (
          "must be within %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, field->min, field->max);
      return field_error (error, spec, field->name, what);
    }
    return TRUE;
  }
  case FIELD_BOOL:
    if (vtype != G_TYPE_BOOLEAN)
      return field_error (error, spec, field->name, "must be a boolean");
    return TRUE;
  case FIELD_OBJECT:
    if (!JSON_NODE_HOLDS_OBJECT (node))
      return field_error (error, spec, field->name, "must be an object");
    return TRUE;
  }
  g_return_val_if_reached (FALSE);
}

static gboolean
check_data (const MessageSpec *spec, JsonObject *data, GError **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  json_object_iter_init (&iter, data);
  while (json_object_iter_next (&iter, &name, &node)) {
    const FieldSpec *field = find_field (spec, name);

    if (field == NULL)
      return field_error (error, spec, name, "is not part of this message");
    if (!check_field (spec, field, node, error))
      return FALSE;
  }
  for (gsize i = 0; i < MAX_FIELDS && spec->fields[i].name; i++) {
    if ((spec->fields[i].flags & FIELD_REQUIRED) &&
        !json_object_has_member (data, spec->fields[i].name))
      return field_error (error, spec, spec->fields[i].name, "is missing");
  }
  return TRUE;
}

static gboolean
check_seq (const char *type, JsonNode *node, GError **error)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64 || json_node_get_int (node) < 0 ||
      json_node_get_int (node) > CR_MESSAGE_MAX_SEQ) {
    g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD,
                 "message '%s': 'seq' must be an integer within 0..2^53-1", type);
    return FALSE;
  }
  return TRUE;
}

CrMessage *
cr_message_parse (const char *text, gssize len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) json_error = NULL;
  g_autoptr (CrMessage) msg = NULL;
  JsonNode *root;
  JsonObject *envelope;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  const MessageSpec *spec = NULL;
  const char *type;
  JsonNode *data_node;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (text == NULL)
    text = "";
  if (len < 0)
    len = strlen (text);
  if (len > CR_MESSAGE_MAX_SIZE) {
    g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_TOO_LARGE,
                 "message of %" G_GSSIZE_FORMAT " bytes exceeds %d", len, CR_MESSAGE_MAX_SIZE);
    return NULL;
  }
  if (len > 0 && memchr (text, '\0', len) != NULL) {
    g_set_error_literal (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_SYNTAX,
                         "message contains a NUL byte");
    return NULL;
  }
  if (!g_utf8_validate_len (text, len, NULL)) {
    g_set_error_literal (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_SYNTAX,
                         "message is not valid UTF-8");
    return NULL;
  }
  if (!cr_message_json_check (text, len, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, len, &json_error)) {
    g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_SYNTAX, "invalid JSON: %s",
                 json_error->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error_literal (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_SYNTAX,
                         "message is not a JSON object");
    return NULL;
  }
  envelope = json_node_get_object (root);

  node = json_object_get_member (envelope, "type");
  type = node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
             ? json_node_get_string (node)
             : NULL;
  if (type == NULL) {
    g_set_error_literal (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD,
                         "message: 'type' must be a string");
    return NULL;
  }
  spec = find_spec (type);
  if (spec == NULL) {
    g_autofree char *quoted = quote (type);

    g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_UNKNOWN_TYPE,
                 "unknown message type %s", quoted);
    return NULL;
  }
  if (!check_seq (spec->type, json_object_get_member (envelope, "seq"), error))
    return NULL;

  json_object_iter_init (&iter, envelope);
  while (json_object_iter_next (&iter, &name, &node)) {
    if (strcmp (name, "type") != 0 && strcmp (name, "seq") != 0 && strcmp (name, "data") != 0) {
      g_autofree char *quoted = quote (name);

      g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD,
                   "message '%s': unknown member %s next to type, seq and data", spec->type,
                   quoted);
      return NULL;
    }
  }

  msg = g_new0 (CrMessage, 1);
  msg->type = g_strdup (spec->type);
  msg->seq = json_object_get_int_member (envelope, "seq");
  /* A message without fields may leave "data" out. */
  data_node = json_object_get_member (envelope, "data");
  if (data_node == NULL) {
    msg->data = json_object_new ();
  } else if (JSON_NODE_HOLDS_OBJECT (data_node)) {
    msg->data = json_object_ref (json_node_get_object (data_node));
  } else {
    g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD,
                 "message '%s': 'data' must be an object", spec->type);
    return NULL;
  }
  if (!check_data (spec, msg->data, error))
    return NULL;
  return g_steal_pointer (&msg);
}

void
cr_message_free (CrMessage *msg)
{
  if (msg == NULL)
    return;
  g_free (msg->type);
  if (msg->data)
    json_object_unref (msg->data);
  g_free (msg);
}

static JsonNode *
get_value (const CrMessage *msg, const char *field, GType type)
{
  JsonNode *node;

  g_return_val_if_fail (msg != NULL, NULL);
  g_return_val_if_fail (field != NULL, NULL);

  node = json_object_get_member (msg->data, field);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  if (type != G_TYPE_INVALID && json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

const char *
cr_message_get_string (const CrMessage *msg, const char *field)
{
  JsonNode *node = get_value (msg, field, G_TYPE_STRING);

  return node ? json_node_get_string (node) : NULL;
}

gint64
cr_message_get_int (const CrMessage *msg, const char *field, gint64 fallback)
{
  JsonNode *node = get_value (msg, field, G_TYPE_INT64);

  return node ? json_node_get_int (node) : fallback;
}

double
cr_message_get_double (const CrMessage *msg, const char *field, double fallback)
{
  JsonNode *node = get_value (msg, field, G_TYPE_INVALID);

  if (node == NULL)
    return fallback;
  if (json_node_get_value_type (node) != G_TYPE_INT64 &&
      json_node_get_value_type (node) != G_TYPE_DOUBLE)
    return fallback;
  return json_node_get_double (node);
}

gboolean
cr_message_get_bool (const CrMessage *msg, const char *field, gboolean fallback)
{
  JsonNode *node = get_value (msg, field, G_TYPE_BOOLEAN);

  return node ? json_node_get_boolean (node) : fallback;
}

char *
cr_message_serialize (const char *type, gint64 seq, JsonObject *data, GError **error)
{
  g_autoptr (JsonObject) empty = NULL;
  g_autoptr (GString) out = NULL;
  g_autoptr (JsonNode) data_node = NULL;
  const MessageSpec *spec;

  g_return_val_if_fail (type != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  spec = find_spec (type);
  if (spec == NULL) {
    g_autofree char *quoted = quote (type);

    g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_UNKNOWN_TYPE,
                 "unknown message type %s", quoted);
    return NULL;
  }
  if (seq < 0 || seq > CR_MESSAGE_MAX_SEQ) {
    g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD,
                 "message '%s': 'seq' must be an integer within 0..2^53-1", spec->type);
    return NULL;
  }
  if (data == NULL)
    data = empty = json_object_new ();
  if (!check_data (spec, data, error))
    return NULL;

  out = g_string_new ("{\"type\":");
  cr_message_json_write_string (out, spec->type, NULL);
  g_string_append_printf (out, ",\"seq\":%" G_GINT64_FORMAT ",\"data\":", seq);
  data_node = json_node_init_object (json_node_alloc (), data);
  if (!cr_message_json_write (out, data_node, 2, error)) /* the envelope is level 1 */
    return NULL;
  g_string_append_c (out, '}');
  if (out->len > CR_MESSAGE_MAX_SIZE) {
    g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_TOO_LARGE,
                 "message '%s' of %" G_GSIZE_FORMAT " bytes exceeds %d", spec->type, out->len,
                 CR_MESSAGE_MAX_SIZE);
    return NULL;
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
