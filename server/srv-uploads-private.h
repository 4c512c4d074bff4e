/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-server-private.h"

G_BEGIN_DECLS

/* Shared between srv-api-uploads.c (sessions and appends) and srv-api-uploads-complete.c
 * (completion). Main context only. */

typedef struct _Append Append;

/* What the server knows of a session beyond its row, while it runs. */
typedef struct {
  GChecksum *sha256; /* of the stored file's first @hashed bytes; NULL: none yet */
  gint64 hashed;
  Append *active;      /* the append streaming in now (not owned), or NULL */
  gboolean completing; /* a completion is hashing the file in a thread */
} UploadState;

/* One PUT/PATCH, attached to its message. */
struct _Append {
  SrvServer *server;
  char *upload_id;
  int fd;
  gint64 start;        /* where the body goes: the session's offset when it began */
  gint64 received;     /* body bytes written so far */
  GChecksum *sha256;   /* the session's hash carried over this body; NULL if not known */
  int write_errno;     /* the first write failure, 0 if none */
  gboolean superseded; /* a newer append of the same session took over: ignore the rest */
};

/* The session's in-memory state, made on first use. Returns: (transfer none). */
UploadState *srv_uploads_state (SrvServer *server, const char *id);
/* DATA/uploads/<id>, where the session's bytes are. */
char *srv_uploads_path (SrvServer *server, const char *id);
JsonNode *srv_uploads_json (const SrvUpload *up);
/* The session named by the request's path, if the caller created it and may still write
 * to its channel; otherwise replies the error itself and returns NULL. */
SrvUpload *srv_uploads_find (SrvRequest *req);
/* An error object with "offset", and the Upload-Offset header. */
void srv_uploads_reply_offset_error (SrvRequest *req, guint status, const char *code, gint64 offset,
                                     const char *format, ...) G_GNUC_PRINTF (5, 6);
/* 500, the details being in the log. */
void srv_uploads_reply_internal (SrvRequest *req, const char *what);

G_END_DECLS
