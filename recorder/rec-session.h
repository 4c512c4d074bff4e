/* SPDX-License-Identifier: MIT */
#pragma once

#include "pl-recording.h"

G_BEGIN_DECLS

/* One recording job on the recorder's side: the recording graph, one RecPeer per
 * connection, the duration limit and its warning, progress, and the signaling messages
 * (common/cr-message) that drive them. The transport (stdio lines, later a WebSocket)
 * stays outside: lines come in through rec_session_handle_line and leave through send.
 *
 * Main context only. */
typedef struct _RecSession RecSession;

typedef struct {
  PlConfig pipeline;
  double max_duration_s;    /* stop by ourselves at this length, server or not */
  double warning_before_s;  /* log and report a warning this long before the limit */
  double progress_every_s;  /* a progress line and status message this often */
  char *ice_address;        /* see rec_peer_new; NULL discovers local addresses */
  gboolean ice_tcp_only;    /* see rec_peer_new */
} RecSessionConfig;

void rec_session_config_init (RecSessionConfig *config);
void rec_session_config_clear (RecSessionConfig *config);

/* A serialized message, without the newline. */
typedef void (*RecSessionSendFunc) (const char *line, gpointer user_data);
/* The file is finished (ok) or the recording failed; reason says why it ended. */
typedef void (*RecSessionDoneFunc) (RecSession *session, gboolean ok, const char *reason,
                                    gpointer user_data);

RecSession *rec_session_new (const RecSessionConfig *config, const char *output_path,
                             RecSessionSendFunc send, RecSessionDoneFunc done,
                             gpointer user_data, GError **error);
void rec_session_free (RecSession *session);
gboolean rec_session_start (RecSession *session, GError **error);
/* One incoming message. Bad input is logged and answered with an error status; it never
 * stops the recording. */
void rec_session_handle_line (RecSession *session, const char *line, gsize length);
/* Finishes the file (bounded by the pipeline's stop timeout). */
void rec_session_stop (RecSession *session, const char *reason);
PlRecording *rec_session_get_recording (RecSession *session);
guint rec_session_count_connected (RecSession *session);

G_END_DECLS
