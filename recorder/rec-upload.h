/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The upload client: sends a local file to callrec-server's resumable upload sessions
 * (docs/api.md, "Uploads"), optionally while the file still grows (a fragmented MP4 being
 * recorded), so that when the writer stops only the tail is left to send.
 *
 * - Bytes go in order, in appends of at most chunk_bytes, as soon as the file has them.
 * - Failures that may pass (connection refused or reset, timeouts, 5xx, 429) are retried
 *   with exponential backoff (backoff_min_ms doubling up to backoff_max_ms); after one,
 *   the client asks the server where the session stands and resumes from there.
 * - At the end it completes the session with the file's SHA-256, hashed as the bytes were
 *   read (no second pass over a long file). The local file is deleted only after the
 *   server confirmed that hash, and kept on every failure.
 * - The writer must only append. A rewrite of the head of the file after it was sent (what
 *   mp4mux does to its moov at EOS unless prevented) is detected at the end, and the file
 *   is then sent again in full in a new session rather than stored wrong.
 *
 * The token is never logged. Main context only. */

#define REC_UPLOAD_ERROR (rec_upload_error_quark ())
GQuark rec_upload_error_quark (void);

typedef enum {
  REC_UPLOAD_ERROR_FILE,     /* the local file: missing, unreadable, or shorter than sent */
  REC_UPLOAD_ERROR_REFUSED,  /* the server refused (4xx): retrying would not help */
  REC_UPLOAD_ERROR_CHECKSUM, /* the server's bytes differ from the file's, twice */
  REC_UPLOAD_ERROR_GAVE_UP,  /* failures went on for longer than give_up_after_s */
  REC_UPLOAD_ERROR_CANCELLED,
} RecUploadError;

typedef struct {
  char *server;            /* base URL: http://HOST:PORT */
  char *token;             /* bearer token (a secret) */
  char *channel;           /* channel id or name */
  char *path;              /* the local file */
  char *name;              /* its name on the server; NULL: the file's basename */
  char *content_type;      /* NULL: video/mp4 */
  char *upload_id;         /* resume this session; NULL: create one */
  gboolean follow;         /* the file grows until rec_upload_finish() */
  gboolean keep_file;      /* keep the local file after a confirmed upload */
  char *post_message;      /* post the file in its channel with this message; NULL: no post */
  char *post_root_id;      /* (nullable) in this thread */
  char *post_props;        /* (nullable) the post's props, a JSON object's text */
  gsize chunk_bytes;       /* largest append; default 4 MiB */
  guint poll_ms;           /* how often a followed file is looked at; default 2000 */
  guint backoff_min_ms;    /* first retry delay; default 500 */
  guint backoff_max_ms;    /* longest retry delay; default 10000 */
  double give_up_after_s;  /* fail after this long without progress; 0: never */
  double progress_every_s; /* a progress log line this often; default 10 */
} RecUploadConfig;

void rec_upload_config_init (RecUploadConfig *config);
void rec_upload_config_clear (RecUploadConfig *config);

typedef struct _RecUpload RecUpload;

/* After each append the server accepted: bytes it holds, and the file's size now. */
typedef void (*RecUploadProgressFunc) (RecUpload *upload, gint64 uploaded, gint64 total,
                                       gpointer user_data);
/* The end: @file_id once the server confirmed the checksum (the local file is gone unless
 * keep_file), or @error (the local file is kept). */
typedef void (*RecUploadDoneFunc) (RecUpload *upload, const char *file_id, const GError *error,
                                   gpointer user_data);

/* Checks the configuration (URL, file name); copies it. Returns: (transfer full). */
RecUpload *rec_upload_new (const RecUploadConfig *config, RecUploadProgressFunc progress,
                           RecUploadDoneFunc done, gpointer user_data, GError **error);
void rec_upload_free (RecUpload *upload);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecUpload, rec_upload_free)

void rec_upload_start (RecUpload *upload);
/* Following: the file is finished; send the rest and complete. Without follow the client
 * completes as soon as it has sent the whole file. */
void rec_upload_finish (RecUpload *upload);
/* Stops at once; done reports REC_UPLOAD_ERROR_CANCELLED. The session stays on the server
 * and rec_upload_get_id() can resume it. */
void rec_upload_cancel (RecUpload *upload);
/* The session's id once created (nullable). */
const char *rec_upload_get_id (RecUpload *upload);
/* The file's SHA-256 as sent, once done (nullable). */
const char *rec_upload_get_sha256 (RecUpload *upload);
gint64 rec_upload_get_size (RecUpload *upload);

/* `callrec-recorder upload …`: see rec-upload-command.c. Returns the exit status. */
int rec_upload_command (int argc, char **argv);

G_END_DECLS
