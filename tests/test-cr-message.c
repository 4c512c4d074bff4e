/* SPDX-License-Identifier: MIT */
/* Unit tests for cr-message: every declared type, every error class, strict JSON and the
 * serialize → parse round trip. */
#include "cr-message.h"

#include <string.h>

static CrMessage *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  CrMessage *msg = cr_message_parse (text, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (msg);
  return msg;
}

/* The error must have @code and mention each of @words (type, field). */
static void
parse_fails_len (const char *text, gssize len, int code, const char *word1, const char *word2)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CrMessage) msg = cr_message_parse (text, len, &error);

  g_assert_null (msg);
  g_assert_error (error, CR_MESSAGE_ERROR, code);
  g_test_message ("refused: %s", error->message);
  if (word1)
    g_assert_nonnull (strstr (error->message, word1));
  if (word2)
    g_assert_nonnull (strstr (error->message, word2));
}

static void
parse_fails (const char *text, int code, const char *word1, const char *word2)
{
  parse_fails_len (text, -1, code, word1, word2);
}

static void
test_valid_sdp (void)
{
  g_autoptr (CrMessage) msg = parse_ok (
      "{\"type\":\"sdp\",\"seq\":7,\"data\":{\"conn\":\"c1\",\"sdp_type\":\"offer\","
      "\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"}}\n");

  g_assert_cmpstr (msg->type, ==, "sdp");
  g_assert_cmpint (msg->seq, ==, 7);
  g_assert_cmpstr (cr_message_get_string (msg, "conn"), ==, "c1");
  g_assert_cmpstr (cr_message_get_string (msg, "sdp_type"), ==, "offer");
  g_assert_cmpstr (cr_message_get_string (msg, "sdp"), ==, "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n");
  g_assert_null (cr_message_get_string (msg, "missing"));
  g_assert_cmpint (cr_message_get_int (msg, "conn", -5), ==, -5); /* wrong type: fallback */
}

static void
test_valid_all_types (void)
{
  static const char *const texts[] = {
    "{\"type\":\"ice\",\"seq\":0,\"data\":{\"conn\":\"c1\",\"sdp_mline_index\":63,"
    "\"candidate\":\"candidate:1 1 udp 2122260223 127.0.0.1 49152 typ host\"}}",
    "{\"type\":\"ice\",\"seq\":1,\"data\":{\"conn\":\"c1\",\"candidate\":\"\","
    "\"sdp_mline_index\":0}}",
    "{\"type\":\"participant\",\"seq\":2,\"data\":{\"id\":\"u1\","
    "\"name\":\"Zoë \\u00e9 \\ud83d\\ude00\"}}",
    "{\"type\":\"participant_left\",\"seq\":3,\"data\":{\"id\":\"u1\"}}",
    "{\"type\":\"close\",\"seq\":4,\"data\":{\"conn\":\"c1\"}}",
    "{\"type\":\"stop\",\"seq\":5,\"data\":{}}",
    "{\"type\":\"stop\",\"seq\":6}",
    "  {\"seq\":8, \"type\":\"status\",\"data\":{\"state\":\"recording\","
    "\"elapsed_s\":12.5}}  \r\n",
    "{\"type\":\"status\",\"seq\":9007199254740991,\"data\":{\"state\":\"failed\","
    "\"reason\":\"disk full\",\"elapsed_s\":3}}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++) {
    g_autoptr (CrMessage) msg = parse_ok (texts[i]);

    g_assert_nonnull (msg->data);
  }
}

static void
test_getters (void)
{
  g_autoptr (CrMessage) ice = parse_ok (
      "{\"type\":\"ice\",\"seq\":1,\"data\":{\"conn\":\"c\",\"candidate\":\"\","
      "\"sdp_mline_index\":3}}");
  g_autoptr (CrMessage) status = parse_ok (
      "{\"type\":\"status\",\"seq\":1,\"data\":{\"state\":\"s\",\"elapsed_s\":4}}");
  g_autoptr (CrMessage) person = parse_ok (
      "{\"type\":\"participant\",\"seq\":2,\"data\":{\"id\":\"u1\","
      "\"name\":\"Zo\\u00eb \\ud83d\\ude00\"}}");

  g_assert_cmpint (cr_message_get_int (ice, "sdp_mline_index", -1), ==, 3);
  g_assert_cmpstr (cr_message_get_string (ice, "candidate"), ==, "");
  g_assert_cmpfloat (cr_message_get_double (status, "elapsed_s", -1), ==, 4.0);
  g_assert_cmpfloat (cr_message_get_double (status, "reason", -1), ==, -1.0);
  g_assert_null (cr_message_get_string (status, "reason"));
  g_assert_true (cr_message_get_bool (status, "state", TRUE)); /* not a bool: fallback */
  g_assert_cmpstr (cr_message_get_string (person, "name"), ==, "Zo\xc3\xab \xf0\x9f\x98\x80");
}

static void
test_error_syntax (void)
{
  static const char *const texts[] = {
    "",
    "   ",
    "{",
    "[]",
    "\"sdp\"",
    "null",
    "{\"type\":\"stop\",\"seq\":1}{\"type\":\"stop\",\"seq\":2}",
    "{\"type\":\"stop\",\"seq\":1,}",
    "{'type':'stop','seq':1}",
    "{\"type\":\"stop\",\"seq\":0x10}",
    "{\"type\":\"stop\",\"seq\":010}",
    "{\"type\":\"stop\",\"seq\":1.}",
    "{\"type\":\"stop\",\"seq\":-}",
    "{\"type\":\"stop\",\"seq\":+1}",
    "{\"type\":\"stop\",\"seq\":NaN}",
    "{\"type\":\"stop\",\"seq\":1 /* comment */}",
    "{\"type\":\"stop\",\"seq\":1} // comment",
    "{\"type\":\"stop\",\"seq\":1,\"data\":{\"x\":tru}}",
    "{\"type\":\"st\\op\",\"seq\":1}",
    "{\"type\":\"stop\\u0000\",\"seq\":1}",
    "{\"type\":\"stop\\ud800\",\"seq\":1}",
    "{\"type\":\"stop\\ud800\\u0041\",\"seq\":1}",
    "{\"type\":\"stop\\udc00\",\"seq\":1}",
    "{\"type\":\"stop\\u12\",\"seq\":1}",
    "{\"type\":\"stop\",\"seq\":99999999999999999999}",
    "{\"type\":\"stop\",\"seq\":9223372036854775808}",
    "{\"type\":\"sto\tp\",\"seq\":1}",
    "{\"type\":\"stop\",\"seq\":1",
    "{\"type\":\"stop\",\"seq\":1,\"data\":{\"a\" 1}}",
    "\xef\xbb\xbf{\"type\":\"stop\",\"seq\":1}", /* a BOM is not JSON */
    "{\"type\":\"\xc3\x28\",\"seq\":1}",        /* invalid UTF-8 */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++) {
    g_test_message ("case %" G_GSIZE_FORMAT, i);
    parse_fails (texts[i], CR_MESSAGE_ERROR_SYNTAX, NULL, NULL);
  }
  parse_fails_len ("{\"type\":\"stop\",\0\"seq\":1}", 24, CR_MESSAGE_ERROR_SYNTAX, "NUL", NULL);
}

static void
test_error_too_large (void)
{
  g_autoptr (GString) big = g_string_new ("{\"type\":\"stop\",\"seq\":1,\"data\":{\"x\":\"");
  g_autoptr (GString) deep = g_string_new ("{\"type\":\"stop\",\"seq\":1,\"data\":");

  while (big->len <= CR_MESSAGE_MAX_SIZE)
    g_string_append (big, "0123456789abcdef");
  g_string_append (big, "\"}}");
  parse_fails (big->str, CR_MESSAGE_ERROR_TOO_LARGE, NULL, NULL);

  /* json-glib 1.6 recurses once per level: this used to be a stack overflow. */
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  parse_fails (deep->str, CR_MESSAGE_ERROR_TOO_LARGE, "nested", NULL);
}

static void
test_error_unknown_type (void)
{
  parse_fails ("{\"type\":\"hello\",\"seq\":1,\"data\":{}}", CR_MESSAGE_ERROR_UNKNOWN_TYPE,
               "'hello'", NULL);
  parse_fails ("{\"type\":\"\",\"seq\":1}", CR_MESSAGE_ERROR_UNKNOWN_TYPE, NULL, NULL);
  /* Peer-chosen text in errors is escaped and cut short. */
  parse_fails ("{\"type\":\"evil\\nline\\u001b[31m and a very long tail that goes on and on\","
               "\"seq\":1}",
               CR_MESSAGE_ERROR_UNKNOWN_TYPE, "evil\\nline\\033", "…");
}

static void
test_error_bad_field (void)
{
  static const struct {
    const char *text, *word1, *word2;
  } cases[] = {
    /* envelope */
    { "{\"seq\":1,\"data\":{}}", "'type'", NULL },
    { "{\"type\":5,\"seq\":1}", "'type'", NULL },
    { "{\"type\":\"stop\"}", "'stop'", "'seq'" },
    { "{\"type\":\"stop\",\"seq\":\"1\"}", "'stop'", "'seq'" },
    { "{\"type\":\"stop\",\"seq\":1.0}", "'stop'", "'seq'" },
    { "{\"type\":\"stop\",\"seq\":1e3}", "'stop'", "'seq'" },
    { "{\"type\":\"stop\",\"seq\":-1}", "'stop'", "'seq'" },
    { "{\"type\":\"stop\",\"seq\":9007199254740992}", "'stop'", "'seq'" },
    { "{\"type\":\"stop\",\"seq\":1,\"data\":[]}", "'stop'", "'data'" },
    { "{\"type\":\"stop\",\"seq\":1,\"data\":null}", "'stop'", "'data'" },
    { "{\"type\":\"stop\",\"seq\":1,\"extra\":1}", "'stop'", "'extra'" },
    /* missing, unknown, mistyped */
    { "{\"type\":\"sdp\",\"seq\":1,\"data\":{\"conn\":\"c\",\"sdp_type\":\"offer\"}}", "'sdp'",
      "'sdp' is missing" },
    { "{\"type\":\"stop\",\"seq\":1,\"data\":{\"conn\":\"c\"}}", "'stop'", "'conn'" },
    { "{\"type\":\"close\",\"seq\":1,\"data\":{\"conn\":7}}", "'close'", "'conn'" },
    { "{\"type\":\"close\",\"seq\":1,\"data\":{\"conn\":null}}", "'close'", "'conn'" },
    { "{\"type\":\"close\",\"seq\":1,\"data\":{\"conn\":[\"c\"]}}", "'close'", "'conn'" },
    { "{\"type\":\"ice\",\"seq\":1,\"data\":{\"conn\":\"c\",\"candidate\":\"\","
      "\"sdp_mline_index\":\"0\"}}", "'ice'", "'sdp_mline_index'" },
    { "{\"type\":\"ice\",\"seq\":1,\"data\":{\"conn\":\"c\",\"candidate\":\"\","
      "\"sdp_mline_index\":0.5}}", "'ice'", "'sdp_mline_index'" },
    { "{\"type\":\"status\",\"seq\":1,\"data\":{\"state\":\"s\",\"elapsed_s\":\"3\"}}",
      "'status'", "'elapsed_s'" },
    { "{\"type\":\"status\",\"seq\":1,\"data\":{\"state\":\"s\",\"elapsed_s\":true}}",
      "'status'", "'elapsed_s'" },
    /* ranges, lengths, enumerations, content */
    { "{\"type\":\"ice\",\"seq\":1,\"data\":{\"conn\":\"c\",\"candidate\":\"\","
      "\"sdp_mline_index\":64}}", "'ice'", "0..63" },
    { "{\"type\":\"ice\",\"seq\":1,\"data\":{\"conn\":\"c\",\"candidate\":\"\","
      "\"sdp_mline_index\":-1}}", "'ice'", "0..63" },
    { "{\"type\":\"status\",\"seq\":1,\"data\":{\"state\":\"s\",\"elapsed_s\":-0.5}}",
      "'status'", "'elapsed_s'" },
    { "{\"type\":\"status\",\"seq\":1,\"data\":{\"state\":\"s\",\"elapsed_s\":1e999}}",
      "'status'", "'elapsed_s'" },
    { "{\"type\":\"sdp\",\"seq\":1,\"data\":{\"conn\":\"c\",\"sdp_type\":\"pranswer\","
      "\"sdp\":\"v=0\"}}", "'sdp_type'", "offer, answer" },
    { "{\"type\":\"close\",\"seq\":1,\"data\":{\"conn\":\"\"}}", "'close'", "empty" },
    { "{\"type\":\"status\",\"seq\":1,\"data\":{\"state\":\"0123456789012345678901234567890123\"}}",
      "'state'", "32 bytes" },
    { "{\"type\":\"participant\",\"seq\":1,\"data\":{\"id\":\"u\",\"name\":\"a\\nb\"}}", "'name'",
      "control" },
    { "{\"type\":\"participant\",\"seq\":1,\"data\":{\"id\":\"u\\u007f\",\"name\":\"\"}}", "'id'",
      "control" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    parse_fails (cases[i].text, CR_MESSAGE_ERROR_BAD_FIELD, cases[i].word1, cases[i].word2);
}

static void
test_string_limits (void)
{
  g_autoptr (GString) ok = g_string_new ("{\"type\":\"close\",\"seq\":1,\"data\":{\"conn\":\"");
  g_autoptr (GString) long_sdp = g_string_new (
      "{\"type\":\"sdp\",\"seq\":1,\"data\":{\"conn\":\"c\",\"sdp_type\":\"answer\",\"sdp\":\"");
  g_autoptr (CrMessage) msg = NULL;

  /* 128 bytes of 2-byte characters is 64 characters: the limit is in bytes. */
  for (int i = 0; i < 64; i++)
    g_string_append (ok, "\xc3\xa9");
  g_string_append (ok, "\"}}");
  msg = parse_ok (ok->str);
  g_assert_cmpuint (strlen (cr_message_get_string (msg, "conn")), ==, 128);
  g_string_insert (ok, ok->len - 3, "x");
  parse_fails (ok->str, CR_MESSAGE_ERROR_BAD_FIELD, "'conn'", "128 bytes");

  while (long_sdp->len < 100000) /* 5 bytes decoded per 7 written */
    g_string_append (long_sdp, "a=x\\r\\n");
  g_string_append (long_sdp, "\"}}");
  parse_fails (long_sdp->str, CR_MESSAGE_ERROR_BAD_FIELD, "'sdp'", "65536");
}

static void
test_serialize_round_trip (void)
{
  g_autoptr (JsonObject) data = json_object_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr (CrMessage) msg = NULL;
  const char *sdp = "v=0\r\ns=\"quoted\" \\ back\tslash\r\n";

  json_object_set_string_member (data, "conn", "c1");
  json_object_set_string_member (data, "sdp_type", "answer");
  json_object_set_string_member (data, "sdp", sdp);
  text = cr_message_serialize ("sdp", 42, data, &error);
  g_assert_no_error (error);
  g_assert_null (strchr (text, '\n'));
  g_assert_null (strchr (text, '\r'));
  g_assert_cmpint (json_object_get_size (data), ==, 3); /* untouched */

  msg = parse_ok (text);
  g_assert_cmpstr (msg->type, ==, "sdp");
  g_assert_cmpint (msg->seq, ==, 42);
  g_assert_cmpstr (cr_message_get_string (msg, "sdp"), ==, sdp);
  g_assert_cmpstr (cr_message_get_string (msg, "sdp_type"), ==, "answer");
}

static void
test_serialize_numbers (void)
{
  static const double values[] = { 0.0, 1.0, 12.5, 0.1, 1e-7, 999999999.0 };

  for (gsize i = 0; i < G_N_ELEMENTS (values); i++) {
    g_autoptr (JsonObject) data = json_object_new ();
    g_autoptr (GError) error = NULL;
    g_autofree char *text = NULL;
    g_autoptr (CrMessage) msg = NULL;

    json_object_set_string_member (data, "state", "recording");
    json_object_set_double_member (data, "elapsed_s", values[i]);
    text = cr_message_serialize ("status", i, data, &error);
    g_assert_no_error (error);
    g_test_message ("%s", text);
    msg = parse_ok (text);
    g_assert_cmpfloat (cr_message_get_double (msg, "elapsed_s", -1), ==, values[i]);
    /* A double stays a double on the wire ("1.0", not "1"). */
    g_assert_cmpint (json_node_get_value_type (json_object_get_member (msg->data, "elapsed_s")),
                     ==, G_TYPE_DOUBLE);
  }
}

static void
test_serialize_no_data (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = cr_message_serialize ("stop", 0, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "{\"type\":\"stop\",\"seq\":0,\"data\":{}}");
}

static void
test_serialize_refused (void)
{
  g_autoptr (JsonObject) data = json_object_new ();
  g_autoptr (JsonObject) sdp = json_object_new ();
  g_autoptr (GError) error = NULL;
  char *text;

  text = cr_message_serialize ("nope", 1, NULL, &error);
  g_assert_null (text);
  g_assert_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_UNKNOWN_TYPE);
  g_clear_error (&error);

  text = cr_message_serialize ("stop", -1, NULL, &error);
  g_assert_null (text);
  g_assert_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD);
  g_clear_error (&error);

  /* We never send what the other side would refuse. */
  json_object_set_string_member (data, "conn", "c1");
  text = cr_message_serialize ("close", 1, data, &error);
  g_assert_nonnull (text);
  g_free (text);
  json_object_set_string_member (data, "extra", "x");
  text = cr_message_serialize ("close", 1, data, &error);
  g_assert_null (text);
  g_assert_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD);
  g_assert_nonnull (strstr (error->message, "'extra'"));
  g_clear_error (&error);

  json_object_set_string_member (sdp, "conn", "c1");
  json_object_set_string_member (sdp, "sdp_type", "offer");
  json_object_set_string_member (sdp, "sdp", "v=0\x1f");
  text = cr_message_serialize ("sdp", 1, sdp, &error);
  g_assert_null (text);
  g_assert_error (error, CR_MESSAGE_ERROR, CR_MESSAGE_ERROR_BAD_FIELD);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cr-message/parse/valid-sdp", test_valid_sdp);
  g_test_add_func ("/cr-message/parse/valid-all-types", test_valid_all_types);
  g_test_add_func ("/cr-message/parse/getters", test_getters);
  g_test_add_func ("/cr-message/parse/string-limits", test_string_limits);
  g_test_add_func ("/cr-message/error/syntax", test_error_syntax);
  g_test_add_func ("/cr-message/error/too-large", test_error_too_large);
  g_test_add_func ("/cr-message/error/unknown-type", test_error_unknown_type);
  g_test_add_func ("/cr-message/error/bad-field", test_error_bad_field);
  g_test_add_func ("/cr-message/serialize/round-trip", test_serialize_round_trip);
  g_test_add_func ("/cr-message/serialize/numbers", test_serialize_numbers);
  g_test_add_func ("/cr-message/serialize/no-data", test_serialize_no_data);
  g_test_add_func ("/cr-message/serialize/refused", test_serialize_refused);

  return g_test_run ();
}
