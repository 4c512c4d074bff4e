/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Signaling messages between the recorder and the participants' connections, one JSON
 * object per line or WebSocket frame:
 *
 *   {"type": "sdp", "seq": 7, "data": {"conn": "c1", "sdp_type": "offer", "sdp": "v=0…"}}
 *
 * Every type has a declared shape (the table in cr-message.c): a message of an unknown
 * type, with an unknown, missing or mistyped field, or a value out of range is refused
 * with a GError that names the type and the field. The JSON itself is checked strictly
 * (RFC 8259: no comments, single quotes, hex numbers or trailing data; nesting at most
 * CR_MESSAGE_MAX_DEPTH; no NUL or unpaired surrogate escapes) before json-glib sees it.
 *
 * Strings are byte-limited and valid UTF-8. Control characters are refused in every
 * string except the few multi-line fields (an SDP), which may hold CR, LF and TAB. */

#define CR_MESSAGE_ERROR (cr_message_error_quark ())
GQuark cr_message_error_quark (void);

typedef enum {
  CR_MESSAGE_ERROR_SYNTAX,       /* not UTF-8, not strict JSON, not an object */
  CR_MESSAGE_ERROR_TOO_LARGE,    /* over CR_MESSAGE_MAX_SIZE or nested too deep */
  CR_MESSAGE_ERROR_UNKNOWN_TYPE, /* "type" names no message we know */
  CR_MESSAGE_ERROR_BAD_FIELD,    /* envelope or data field missing, unknown, mistyped,
                                    out of range */
} CrMessageError;

/* Largest accepted message, in bytes (an SDP offer is at most 64 KiB of it). */
#define CR_MESSAGE_MAX_SIZE (256 * 1024)
/* Deepest accepted nesting of objects and arrays; the envelope and data are 2. */
#define CR_MESSAGE_MAX_DEPTH 16
/* "seq" is 0 .. 2^53 - 1 so that a JavaScript peer reads it exactly. */
#define CR_MESSAGE_MAX_SEQ G_GINT64_CONSTANT (9007199254740991)

typedef struct {
  char *type;       /* one of the declared types */
  gint64 seq;       /* 0 .. CR_MESSAGE_MAX_SEQ */
  JsonObject *data; /* validated against the type's shape; never NULL (may be empty) */
} CrMessage;

/* Parses and validates one message. @len may be -1 for a NUL-terminated @text; with an
 * explicit length, @text need not be NUL-terminated and an embedded NUL is an error.
 *
 * Returns: (transfer full) (nullable): the message, or NULL with @error set. */
CrMessage *cr_message_parse (const char *text, gssize len, GError **error);
void cr_message_free (CrMessage *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CrMessage, cr_message_free)

/* Typed getters for data fields. The message was validated, so for a field declared
 * with that type they return what the peer sent; a field that is absent (optional) or of
 * another JSON type gives NULL / @fallback. */
const char *cr_message_get_string (const CrMessage *msg, const char *field);
gint64 cr_message_get_int (const CrMessage *msg, const char *field, gint64 fallback);
/* Accepts JSON integers and doubles. */
double cr_message_get_double (const CrMessage *msg, const char *field, double fallback);
gboolean cr_message_get_bool (const CrMessage *msg, const char *field, gboolean fallback);

/* Builds a message and validates it against the same table as cr_message_parse(), so we
 * never send what our peer would refuse. @data (transfer none, nullable) is not modified.
 *
 * Returns: (transfer full) (nullable): one line of JSON without a trailing newline, or
 * NULL with @error set. */
char *cr_message_serialize (const char *type, gint64 seq, JsonObject *data, GError **error);

G_END_DECLS
