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
} SrvShapeError;

typedef enum {
  SRV_SHAPE_USER_CREATE,
  SRV_SHAPE_TOKEN_CREATE,
  SRV_SHAPE_CHANNEL_CREATE,
  SRV_SHAPE_MEMBER_ADD,
  SRV_SHAPE_POST_CREATE,
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

/* Typed getters for a validated object: NULL / @fallback when the member is absent. */
const char *srv_shape_get_string (JsonObject *obj, const char *field);
gboolean srv_shape_get_bool (JsonObject *obj, const char *field, gboolean fallback);
/* Returns: (transfer container) (nullable): a string array member as a NULL-terminated
 * vector borrowing the object's strings. */
const char **srv_shape_get_strv (JsonObject *obj, const char *field);

G_END_DECLS
