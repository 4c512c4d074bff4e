/* SPDX-License-Identifier: MIT */
#include "cr-message-private.h"

#include <math.h>
#include <string.h>

/* Why not just json-glib: version 1.6 is built on GScanner and accepts comments,
 * single-quoted strings, hex and octal numbers, raw control characters in strings and
 * unbounded nesting (its parser recurses: 256 KiB of '[' overflow the stack). Peer text is
 * checked here against RFC 8259 first, without recursion, and only then does json-glib
 * build a tree. */

static gboolean
syntax_error (GError **error, gsize offset, const char *what)
{
  g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_SYNTAX,
               "invalid JSON at byte %" G_GSIZE_FORMAT ": %s", offset, what);
  return FALSE;
}

static int
hex4 (const char *p)
{
  int v = 0;

  for (int i = 0; i < 4; i++) {
    int d = g_ascii_xdigit_value (p[i]);

    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* *pos is at the opening quote; on success it is just past the closing one. The text is
 * already known to be UTF-8 without NUL bytes. Escapes that json-glib 1.6 would turn into
 * a NUL (which silently cuts the string short) or into invalid UTF-8 (an unpaired
 * surrogate) are refused here. */
static gboolean
scan_string (const char *text, gsize len, gsize *pos, GError **error)
{
  gsize i = *pos + 1;

  while (i < len) {
    guchar c = text[i];

    if (c == '"') {
      *pos = i + 1;
      return TRUE;
    }
    if (c < 0x20)
      return syntax_error (error, i, "control character in a string");
    if (c != '\\') {
      i++;
      continue;
    }
    if (i + 1 >= len)
      break;
    if (strchr ("\"\\/bfnrt", text[i + 1]) != NULL && text[i + 1] != '\0') {
      i += 2;
      continue;
    }
    if (text[i + 1] == 'u' && i + 6 <= len) {
      int cp = hex4 (text + i + 2);

      if (cp < 0)
        return syntax_error (error, i, "bad \\u escape");
      if (cp == 0)
        return syntax_error (error, i, "\\u0000 in a string");
      if (cp >= 0xdc00 && cp <= 0xdfff)
        return syntax_error (error, i, "unpaired surrogate");
      if (cp >= 0xd800 && cp <= 0xdbff) {
        int low = (i + 12 <= len && text[i + 6] == '\\' && text[i + 7] == 'u')
                      ? hex4 (text + i + 8)
                      : -1;

        if (low < 0xdc00 || low > 0xdfff)
          return syntax_error (error, i, "unpaired surrogate");
        i += 6;
      }
      i += 6;
      continue;
    }
    return syntax_error (error, i, "bad escape");
  }
  return syntax_error (error, len, "unterminated string");
}

/* JSON numbers, plus a bound: json-glib stores integers through a guint64 and would wrap
 * anything beyond G_MAXINT64 into a negative value. */
static gboolean
scan_number (const char *text, gsize len, gsize *pos, GError **error)
{
  gsize start = *pos, i = *pos, int_start;
  gboolean integer = TRUE;

  if (text[i] == '-')
    i++;
  int_start = i;
  if (i < len && text[i] == '0') {
    i++;
  } else if (i < len && text[i] >= '1' && text[i] <= '9') {
    while (i < len && g_ascii_isdigit (text[i]))
      i++;
  } else {
    return syntax_error (error, i, "bad number");
  }
  if (i < len && text[i] == '.') {
    integer = FALSE;
    if (++i >= len || !g_ascii_isdigit (text[i]))
      return syntax_error (error, i, "bad number");
    while (i < len && g_ascii_isdigit (text[i]))
      i++;
  }
  if (i < len && (text[i] == 'e' || text[i] == 'E')) {
    integer = FALSE;
    i++;
    if (i < len && (text[i] == '+' || text[i] == '-'))
      i++;
    if (i >= len || !g_ascii_isdigit (text[i]))
      return syntax_error (error, i, "bad number");
    while (i < len && g_ascii_isdigit (text[i]))
      i++;
  }
  if (i - start > 64)
    return syntax_error (error, start, "number too long");
  if (integer) {
    gsize digits = i - int_start;

    if (digits > 19 || (digits == 19 && strncmp (text + int_start, "9223372036854775807", 19) > 0))
      return syntax_error (error, start, "integer out of range");
  }
  *pos = i;
  return TRUE;
}

enum {
  EXPECT_VALUE,
  EXPECT_VALUE_OR_CLOSE, /* just after '[' */
  EXPECT_KEY,
  EXPECT_KEY_OR_CLOSE, /* just after '{' */
  EXPECT_COLON,
  EXPECT_COMMA_OR_CLOSE,
  EXPECT_END,
};

gboolean
cr_message_json_check (const char *text, gsize len, GError **error)
{
  char stack[CR_MESSAGE_MAX_DEPTH]; /* '{' or '[' of each open container */
  guint depth = 0;
  int state = EXPECT_VALUE;
  gsize i = 0;

  for (;;) {
    char c;

    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
      i++;
    if (i >= len)
      return state == EXPECT_END ? TRUE : syntax_error (error, i, "unexpected end");
    c = text[i];

    switch (state) {
    case EXPECT_END:
      return syntax_error (error, i, "data after the message");
    case EXPECT_COLON:
      if (c != ':')
        return syntax_error (error, i, "expected ':'");
      i++;
      state = EXPECT_VALUE;
      continue;
    case EXPECT_COMMA_OR_CLOSE:
      if (c == ',') {
        i++;
        state = stack[depth - 1] == '{' ? EXPECT_KEY : EXPECT_VALUE;
        continue;
      }
      if ((c == '}' && stack[depth - 1] == '{') || (c == ']' && stack[depth - 1] == '[')) {
        i++;
        depth--;
        break; /* a value ended */
      }
      return syntax_error (error, i, "expected ',' or a closing bracket");
    case EXPECT_KEY_OR_CLOSE:
    case EXPECT_KEY:
      if (c == '}' && state == EXPECT_KEY_OR_CLOSE) {
        i++;
        depth--;
        break;
      }
      if (c != '"')
        return syntax_error (error, i, "expected a member name");
      if (!scan_string (text, len, &i, error))
        return FALSE;
      state = EXPECT_COLON;
      continue;
    case EXPECT_VALUE_OR_CLOSE:
    case EXPECT_VALUE:
      if (c == ']' && state == EXPECT_VALUE_OR_CLOSE) {
        i++;
        depth--;
        break;
      }
      if (c == '{' || c == '[') {
        if (depth == CR_MESSAGE_MAX_DEPTH) {
          g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_TOO_LARGE,
                       "JSON nested deeper than %d at byte %" G_GSIZE_FORMAT,
                       CR_MESSAGE_MAX_DEPTH, i);
          return FALSE;
        }
        stack[depth++] = c;
        i++;
        state = c == '{' ? EXPECT_KEY_OR_CLOSE : EXPECT_VALUE_OR_CLOSE;
        continue;
      }
      if (c == '"') {
        if (!scan_string (text, len, &i, error))
          return FALSE;
      } else if (c == '-' || g_ascii_isdigit (c)) {
        if (!scan_number (text, len, &i, error))
          return FALSE;
      } else {
        static const char *const literals[] = { "true", "false", "null" };
        gboolean found = FALSE;

        for (gsize k = 0; k < G_N_ELEMENTS (literals) && !found; k++) {
          gsize n = strlen (literals[k]);

          if (len - i >= n && memcmp (text + i, literals[k], n) == 0) {
            i += n;
            found = TRUE;
          }
        }
        if (!found)
          return syntax_error (error, i, "expected a value");
      }
      break; /* a value ended */
    default:
      g_return_val_if_reached (FALSE);
    }
    state = depth == 0 ? EXPECT_END : EXPECT_COMMA_OR_CLOSE;
  }
}

/* Writing: json-glib 1.6's generator leaves U+001F unescaped and prints 1e22 as
 * "1e+22.0", both invalid JSON that cr_message_json_check() would refuse. */


gboolean
cr_message_json_write_string (GString *out, const char *s, GError **error)
{
  if (s == NULL || !g_utf8_validate (s, -1, NULL)) {
    g_set_error_literal (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD,
                         "a string is NULL or not valid UTF-8");
    return FALSE;
  }
  g_string_append_c (out, '"');
  for (const char *p = s; *p; p++) {
    guchar c = *p;

    switch (c) {
    case '"': g_string_append (out, "\\\""); break;
    case '\\': g_string_append (out, "\\\\"); break;
    case '\n': g_string_append (out, "\\n"); break;
    case '\r': g_string_append (out, "\\r"); break;
    case '\t': g_string_append (out, "\\t"); break;
    default:
      if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, c);
    }
  }
  g_string_append_c (out, '"');
  return TRUE;
}

static gboolean
write_value (GString *out, JsonNode *node, GError **error)
{
  GType type = json_node_get_value_type (node);

  if (type == G_TYPE_STRING)
    return cr_message_json_write_string (out, json_node_get_string (node), error);
  if (type == G_TYPE_INT64) {
    g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
  } else if (type == G_TYPE_BOOLEAN) {
    g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
  } else if (type == G_TYPE_DOUBLE) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    double v = json_node_get_double (node);

    if (!isfinite (v)) {
      g_set_error_literal (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD,
                           "a number is not finite");
      return FALSE;
    }
    /* The shortest of %.15g … %.17g that reads back exactly (%.17g always does). */
    for (int precision = 15; precision <= 17; precision++) {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buf, sizeof buf, format, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
    /* Keep a '.' so that the peer reads a double back, not an integer. */
    if (strchr (buf, '.') == NULL) {
      char *e = strchr (buf, 'e');

      if (e == NULL) {
        g_string_append_printf (out, "%s.0", buf);
      } else {
        g_string_append_len (out, buf, e - buf);
        g_string_append_printf (out, ".0%s", e);
      }
    } else {
      g_string_append (out, buf);
    }
  } else {
    g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD,
                 "a value of type %s cannot be sent", g_type_name (type));
    return FALSE;
  }
  return TRUE;
}

static gboolean
write_object (GString *out, JsonObject *obj, guint depth, GError **error)
{
  g_autoptr (GList) names = json_object_get_members (obj); /* in insertion order */

  g_string_append_c (out, '{');
  for (GList *l = names; l; l = l->next) {
    if (l != names)
      g_string_append_c (out, ',');
    if (!cr_message_json_write_string (out, l->data, error))
      return FALSE;
    g_string_append_c (out, ':');
    if (!cr_message_json_write (out, json_object_get_member (obj, l->data), depth + 1, error))
      return FALSE;
  }
  g_string_append_c (out, '}');
  return TRUE;
}

gboolean
cr_message_json_write (GString *out, JsonNode *node, guint depth, GError **error)
{
  /* Bounds caller-built data, which may even contain a cycle. */
  if (depth > CR_MESSAGE_MAX_DEPTH || out->len > CR_MESSAGE_MAX_SIZE) {
    g_set_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_TOO_LARGE,
                 "message deeper than %d or larger than %d bytes", CR_MESSAGE_MAX_DEPTH,
                 CR_MESSAGE_MAX_SIZE);
    return FALSE;
  }
  switch (json_node_get_node_type (node)) {
  case JSON_NODE_OBJECT:
    return write_object (out, json_node_get_object (node), depth, error);
  case JSON_NODE_ARRAY: {
    JsonArray *array = json_node_get_array (node);

    g_string_append_c (out, '[');
    for (guint i = 0; i < json_array_get_length (array); i++) {
      if (i > 0)
        g_string_append_c (out, ',');
      if (!cr_message_json_write (out, json_array_get_element (array, i), depth + 1, error))
        return FALSE;
    }
    g_string_append_c (out, ']');
    return TRUE;
  }
  case JSON_NODE_VALUE:
    return write_value (out, node, error);
  case JSON_NODE_NULL:
    g_string_append (out, "null");
    return TRUE;
  }
  g_return_val_if_reached (FALSE);
}

