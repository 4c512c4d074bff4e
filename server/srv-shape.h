/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The declared shapes of REST request bodies, and their validation. A body is strict JSON
 * (checked by common's RFC 8259 checker before json-glib sees it), one object whose
 * members are exactly the declared fields with the declared types and bounds: an unknown,
 * missing or mistyped member is refused with an error naming it. The shapes themselves
 * are a table in srv-shape.c. */

#define SRV_SHAPE_ERROR (srv_shape_error_quark ())
GQuark srv_shape_error_quark (void);

typedef enum {
  SRV_SHAPE_ERROR_SYNTAX,    /* not UTF-8, not strict JSON, not an object */
  SRV_SHAPE_ERROR_BAD_FIELD, /* a member unknown, missing, mistyped or out of bounds */
  SRV_SHAPE_ERROR_UNKNOWN_TYPE, /* a signaling message of a type we do not know */
  SRV_SHAPE_ERROR_TOO_LARGE,    /* over the size limit */
} SrvShapeError;

typedef enum {
  SRV_SHAPE_USER_CREATE,
  SRV_SHAPE_TOKEN_CREATE,
  SRV_SHAPE_CHANNEL_CREATE,
  SRV_SHAPE_MEMBER_ADD,
  SRV_SHAPE_POST_CREATE,
  SRV_SHAPE_UPLOAD_CREATE,   /* POST /uploads */
  SRV_SHAPE_UPLOAD_COMPLETE, /* POST /uploads/{upload}/complete */
  SRV_SHAPE_UPLOAD_POST,     /* its optional "post" member */
  SRV_SHAPE_JOB_STATUS,      /* POST /jobs/{job}/status */
  SRV_SHAPE_COUNT,
} SrvShapeId;

/* Largest accepted "props" of a post, serialized. */
#define SRV_SHAPE_MAX_PROPS 16384

const char *srv_shape_name (SrvShapeId id);

/* Parses @len bytes of @body against shape @id. On a field error, @field (nullable) gets
 * the offending member's name.
 *
 * Returns: (transfer full) (nullable): the validated object. */
JsonObject *srv_shape_parse (SrvShapeId id, const char *body, gsize len, char **field,
                             GError **error);

/* Parses any JSON object of at most @max_len bytes (strict JSON, as above), for bodies
 * whose content is the client's own (call stats). Returns: (transfer full) (nullable). */
JsonObject *srv_shape_parse_object (const char *body, gsize len, gsize max_len, GError **error);

/* Signaling messages a client sends over the WebSocket (docs/signaling.md):
 * {"type": T, "seq": N, "data": {...}} where data's members are declared per type in the
 * same kind of table as the REST bodies. */
typedef enum {
  SRV_MESSAGE_AUTH,
  SRV_MESSAGE_JOIN,
  SRV_MESSAGE_LEAVE,
  SRV_MESSAGE_SDP,
  SRV_MESSAGE_ICE,
  SRV_MESSAGE_MUTE,
  SRV_MESSAGE_UNMUTE,
  SRV_MESSAGE_SCREEN_ON,
  SRV_MESSAGE_SCREEN_OFF,
  SRV_MESSAGE_RAISE_HAND,
  SRV_MESSAGE_LOWER_HAND,
  SRV_MESSAGE_REACT,
  SRV_MESSAGE_COUNT,
} SrvMessageType;

/* Hard ceiling of one message; the configured limit (limits.ws_max_message_bytes) is
 * checked by the caller before parsing and is at most this. */
#define SRV_MESSAGE_MAX_SIZE (16 * 1024 * 1024)
#define SRV_MESSAGE_MAX_SDP 65536
#define SRV_MESSAGE_MAX_SEQ G_GINT64_CONSTANT (9007199254740991)

typedef struct {
  SrvMessageType type;
  gint64 seq;
  JsonObject *data; /* validated; never NULL (empty when the client sent none) */
} SrvMessage;

const char *srv_message_type_name (SrvMessageType type);
/* Parses and validates one message. @seq_out (nullable) gets the envelope's seq as soon
 * as it is known to be valid, -1 before that, so that an error reply can name the message
 * at fault. Errors: SYNTAX (not JSON / not an object), UNKNOWN_TYPE, BAD_FIELD (with
 * @field_out set), TOO_LARGE. Returns: (transfer full) (nullable). */
SrvMessage *srv_message_parse (const char *text, gsize len, gint64 *seq_out, char **field_out,
                               GError **error);
void srv_message_free (SrvMessage *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvMessage, srv_message_free)

/* Typed getters for a validated object: NULL / @fallback when the member is absent. */
const char *srv_shape_get_string (JsonObject *obj, const char *field);
gboolean srv_shape_get_bool (JsonObject *obj, const char *field, gboolean fallback);
gint64 srv_shape_get_int (JsonObject *obj, const char *field, gint64 fallback);
/* Returns: (transfer container) (nullable): a string array member as a NULL-terminated
 * vector borrowing the object's strings. */
const char **srv_shape_get_strv (JsonObject *obj, const char *field);

G_END_DECLS
