/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the upload client reads from the server's replies (docs/api.md, "Uploads"): an
 * Upload object, a completion ({"upload", "file", "post"}), or an error object. These are
 * peer bytes: every member is checked, and nothing from them reaches a URL or a log line
 * unchecked. */

typedef struct {
  char *upload_id;     /* [A-Za-z0-9_-]{1,64}: it goes into URLs; NULL if absent */
  gint64 offset;       /* the upload's (or the error's) offset; -1 if absent */
  char *file_id;       /* the completed file, [A-Za-z0-9_-]{1,64}; NULL if none */
  char *file_sha256;   /* 64 lowercase hex digits; NULL if no file */
  gint64 file_size;    /* -1 if no file */
  char *error_code;    /* [a-z0-9_]{1,64}; NULL if not an error */
  char *error_message; /* printable, at most 256 bytes; NULL if none */
} RecUploadReply;

void rec_upload_reply_clear (RecUploadReply *reply);
/* TRUE if @s may be used as an id in a URL path: [A-Za-z0-9_-]{1,64}. */
gboolean rec_upload_id_valid (const char *s);

/* Parses @len bytes. FALSE with @error (G_IO_ERROR_INVALID_DATA) if they are not a JSON
 * object or a member has the wrong type or form; members not listed above are ignored. */
gboolean rec_upload_reply_parse (const char *data, gsize len, RecUploadReply *reply,
                                 GError **error);

G_END_DECLS
