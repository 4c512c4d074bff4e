/* SPDX-License-Identifier: MIT */
#include "rec-session.h"
#include "rec-peer.h"
#include "cr-message.h"

#include <string.h>

#define MAX_CONNECTIONS 64

struct _RecSession {
  RecSessionConfig config;
  PlRecording *rec;
  RecSessionSendFunc send;
  RecSessionDoneFunc done;
  gpointer user_data;
  GHashTable *peers; /* conn id → RecPeer */
  gint64 seq;
  GSource *progress_source;
  gboolean warned;
  gboolean stopping;
  gboolean finished;
  char *stop_reason;
};

void
rec_session_config_init (RecSessionConfig *config)
{
  memset (config, 0, sizeof *config);
  pl_config_init (&config->pipeline);
  config->max_duration_s = 60 * 60;
  config->warning_before_s = 10 * 60;
  config->progress_every_s = 10;
}

void
rec_session_config_clear (RecSessionConfig *config)
{
  pl_config_clear (&config->pipeline);
  g_clear_pointer (&config->ice_address, g_free);
}

static void
send_message (RecSession *session, const char *type, JsonObject *data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = cr_message_serialize (type, ++session->seq, data, &error);
  if (!line) {
    g_warning ("could not send %s: %s", type, error->message);
    return;
  }
  session->send (line, session->user_data);
}

static void
send_status (RecSession *session, const char *state, const char *reason)
{
  JsonObject *data = json_object_new ();
  json_object_set_string_member (data, "state", state);
  if (reason)
    json_object_set_string_member (data, "reason", reason);
  json_object_set_double_member (data, "elapsed_s", pl_recording_get_elapsed (session->rec));
  send_message (session, "status", data);
  json_object_unref (data);
}

static void
peer_send (RecPeer *peer, const char *type, JsonObject *data, gpointer user_data)
{
  send_message (user_data, type, data);
}

static void
format_clock (char *buf, gsize size, double seconds)
{
  guint s = (guint) MAX (0, seconds);
  g_snprintf (buf, size, "%02u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
}

static gboolean
on_progress (gpointer user_data)
{
  RecSession *session = user_data;
  if (session->stopping)
    return G_SOURCE_CONTINUE;
  double elapsed = pl_recording_get_elapsed (session->rec);
  double limit = session->config.max_duration_s;
  char now[32], max[32];
  format_clock (now, sizeof now, elapsed);
  format_clock (max, sizeof max, limit);
  if (elapsed >= limit) {
    g_message ("recording %s / %s: duration limit reached", now, max);
    rec_session_stop (session, "duration limit reached");
    return G_SOURCE_CONTINUE;
  }
  if (!session->warned && elapsed >= limit - session->config.warning_before_s) {
    session->warned = TRUE;
    g_autofree char *reason = g_strdup_printf ("recording ends in %.0f s (limit %s)",
                                               limit - elapsed, max);
    g_message ("%s", reason);
    send_status (session, "warning", reason);
  }
  /* Progress every progress_every_s, checked once a second. */
  guint every = (guint) MAX (1, session->config.progress_every_s);
  if ((guint) elapsed % every == 0) {
    PlStats stats;
    pl_recording_get_stats (session->rec, &stats);
    g_message ("recording %s / %s: %u connected, %.1f MB, video frames %" G_GUINT64_FORMAT
               " encoded / %" G_GUINT64_FORMAT " unchanged skipped",
               now, max, rec_session_count_connected (session), stats.bytes_written / 1e6,
               stats.video_frames_encoded, stats.video_frames_unchanged);
    pl_stats_clear (&stats);
    send_status (session, "recording", NULL);
  }
  return G_SOURCE_CONTINUE;
}

static void
on_warning (PlRecording *rec, const GError *error, gpointer user_data)
{
  /* Already logged by the pipeline; the recording goes on. */
}

static void
end_session (RecSession *session, const GError *error)
{
  if (session->finished)
    return;
  session->finished = TRUE;
  PlStats stats;
  pl_recording_get_stats (session->rec, &stats);
  /* One line a benchmark or an operator can read: where the share's frames went. */
  g_message ("video frames: %" G_GUINT64_FORMAT " decoded, %" G_GUINT64_FORMAT
             " unchanged (not encoded), %" G_GUINT64_FORMAT " over max fps, %" G_GUINT64_FORMAT
             " dropped behind the encoder, %" G_GUINT64_FORMAT " encoded; %" G_GUINT64_FORMAT
             " keyframe requests; %" G_GUINT64_FORMAT " still frames not even decoded",
             stats.video_frames_decoded, stats.video_frames_unchanged,
             stats.video_frames_rate_limited, stats.video_frames_dropped,
             stats.video_frames_encoded, stats.keyframe_requests, stats.video_frames_still);
  pl_stats_clear (&stats);
  const char *reason = error ? error->message : session->stop_reason;
  send_status (session, error ? "failed" : "stopped", reason);
  if (session->done)
    session->done (session, error == NULL, reason, session->user_data);
}

static void
on_failed (PlRecording *rec, const GError *error, gpointer user_data)
{
  end_session (user_data, error);
}

static void
on_stopped (PlRecording *rec, const GError *error, gpointer user_data)
{
  end_session (user_data, error);
}

RecSession *
rec_session_new (const RecSessionConfig *config, const char *output_path,
                 RecSessionSendFunc send, RecSessionDoneFunc done, gpointer user_data,
                 GError **error)
{
  RecSession *session = g_new0 (RecSession, 1);
  session->config = *config;
  pl_config_copy (&session->config.pipeline, &config->pipeline);
  session->config.ice_address = g_strdup (config->ice_address);
  session->send = send;
  session->done = done;
  session->user_data = user_data;
  session->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) rec_peer_free);
  static const PlRecordingCallbacks callbacks = {
    .warning = on_warning, .failed = on_failed, .stopped = on_stopped,
  };
  session->rec = pl_recording_new (&config->pipeline, output_path, &callbacks, session, error);
  if (!session->rec) {
    rec_session_free (session);
    return NULL;
  }
  return session;
}

void
rec_session_free (RecSession *session)
{
  if (!session)
    return;
  if (session->progress_source)
    g_source_destroy (session->progress_source);
  g_clear_pointer (&session->progress_source, g_source_unref);
  g_hash_table_destroy (session->peers);
  pl_recording_free (session->rec);
  rec_session_config_clear (&session->config);
  g_free (session->stop_reason);
  g_free (session);
}

gboolean
rec_session_start (RecSession *session, GError **error)
{
  if (!pl_recording_start (session->rec, error))
    return FALSE;
  session->progress_source = g_timeout_source_new_seconds (1);
  g_source_set_callback (session->progress_source, on_progress, session, NULL);
  g_source_attach (session->progress_source, g_main_context_get_thread_default ());
  send_status (session, "recording", NULL);
  return TRUE;
}

PlRecording *
rec_session_get_recording (RecSession *session)
{
  return session->rec;
}

guint
rec_session_count_connected (RecSession *session)
{
  guint n = 0;
  GHashTableIter iter;
  RecPeer *peer;
  g_hash_table_iter_init (&iter, session->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    n += rec_peer_is_connected (peer);
  return n;
}

void
rec_session_stop (RecSession *session, const char *reason)
{
  if (session->stopping)
    return;
  session->stopping = TRUE;
  session->stop_reason = g_strdup (reason ? reason : "stopped");
  g_message ("stop requested: %s", session->stop_reason);
  send_status (session, "stopping", session->stop_reason);
  pl_recording_stop (session->rec);
}

static void
reply_error (RecSession *session, const char *what, const GError *error)
{
  g_warning ("%s: %s", what, error->message);
  send_status (session, "error", error->message);
}

static RecPeer *
peer_for (RecSession *session, const char *conn, GError **error)
{
  RecPeer *peer = g_hash_table_lookup (session->peers, conn);
  if (peer)
    return peer;
  if (g_hash_table_size (session->peers) >= MAX_CONNECTIONS) {
    g_set_error (error, REC_PEER_ERROR, REC_PEER_ERROR_STATE,
                 "connection %s refused: %d connections already", conn, MAX_CONNECTIONS);
    return NULL;
  }
  peer = rec_peer_new (session->rec, conn, (guint) session->config.pipeline.jitter_latency_ms,
                       session->config.ice_address, session->config.ice_tcp_only, peer_send,
                       session, error);
  if (peer)
    g_hash_table_insert (session->peers, g_strdup (conn), peer);
  return peer;
}

void
rec_session_handle_line (RecSession *session, const char *line, gsize length)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CrMessage) msg = cr_message_parse (line, (gssize) length, &error);
  if (!msg) {
    reply_error (session, "signaling message refused", error);
    return;
  }
  const char *type = msg->type;
  const char *conn = cr_message_get_string (msg, "conn");

  if (g_str_equal (type, "stop")) {
    rec_session_stop (session, "stop requested");
  } else if (session->stopping) {
    /* Nothing changes the graph while the file is being finished. */
  } else if (g_str_equal (type, "connect")) {
    if (g_hash_table_contains (session->peers, conn)) {
      g_set_error (&error, REC_PEER_ERROR, REC_PEER_ERROR_STATE,
                   "connection %s exists already", conn);
      reply_error (session, "connect refused", error);
      return;
    }
    RecPeer *peer = peer_for (session, conn, &error);
    if (!peer || !rec_peer_offer (peer, &error))
      reply_error (session, "connect failed", error);
  } else if (g_str_equal (type, "sdp")) {
    const char *sdp = cr_message_get_string (msg, "sdp");
    if (g_str_equal (cr_message_get_string (msg, "sdp_type"), "answer")) {
      RecPeer *peer = g_hash_table_lookup (session->peers, conn);
      if (!peer) {
        g_set_error (&error, REC_PEER_ERROR, REC_PEER_ERROR_STATE,
                     "an answer for unknown connection %s", conn);
        reply_error (session, "answer refused", error);
      } else if (!rec_peer_handle_answer (peer, sdp, &error)) {
        reply_error (session, "answer refused", error);
      }
      return;
    }
    RecPeer *peer = peer_for (session, conn, &error);
    if (!peer || !rec_peer_handle_offer (peer, sdp, &error))
      reply_error (session, "offer refused", error);
  } else if (g_str_equal (type, "ice")) {
    RecPeer *peer = g_hash_table_lookup (session->peers, conn);
    if (!peer) {
      g_warning ("ICE candidate for unknown connection %s ignored", conn);
      return;
    }
    if (!rec_peer_add_candidate (peer, (guint) cr_message_get_int (msg, "sdp_mline_index", 0),
                                 cr_message_get_string (msg, "candidate"), &error))
      reply_error (session, "candidate refused", error);
  } else if (g_str_equal (type, "participant")) {
    pl_recording_set_participant (session->rec, cr_message_get_string (msg, "id"),
                                  cr_message_get_string (msg, "name"));
  } else if (g_str_equal (type, "participant_left")) {
    pl_recording_remove_participant (session->rec, cr_message_get_string (msg, "id"));
  } else if (g_str_equal (type, "close")) {
    if (!g_hash_table_remove (session->peers, conn))
      g_warning ("close for unknown connection %s ignored", conn);
  } else {
    g_debug ("message %s ignored by the recorder", type);
  }
}
