/* SPDX-License-Identifier: MIT */
#pragma once

#include <gst/gst.h>
#include "pl-config.h"
#include "pl-error.h"

G_BEGIN_DECLS

/* One recording graph: any number of Opus voice tracks mixed into AAC, at most one screen
 * share (VP8 or H.264) letterboxed into a fixed-size H.264 video, a card (title, elapsed
 * time, participants, who speaks) whenever nobody shares, all written to a fragmented MP4.
 *
 * Knows nothing about calls, signaling or HTTP: callers hand it RTP pads.
 *
 * Threading: every function must be called from the thread that runs the GMainContext that
 * was the thread-default when pl_recording_new() ran (audiomixer's pad list is not
 * thread-safe in GStreamer 1.22, so pads are only added and removed there). Callbacks are
 * invoked on that context too. */
typedef struct _PlRecording PlRecording;

typedef struct {
  guint64 video_frames_decoded; /* share frames out of the decoder */
  guint64 video_frames_in;      /* share frames and card renders offered to the encoder */
  guint64 video_frames_encoded; /* frames handed to the encoder */
  guint64 video_frames_unchanged; /* share frames that showed nothing new, not encoded */
  guint64 video_frames_still;     /* ... of which not even decoded (VP8 still frames) */
  guint64 video_frames_rate_limited; /* dropped to honour max_fps */
  guint64 video_frames_dropped; /* dropped because the encoder was too far behind */
  guint64 keyframe_requests;    /* PLIs sent upstream (after throttling) */
  guint64 bytes_written;
  int current_max_fps;          /* after any step-down */
  char *current_preset;
} PlStats;

typedef struct {
  /* A runtime problem that did not stop the recording (bad track, decoder error …). */
  void (*warning) (PlRecording *rec, const GError *error, gpointer user_data);
  /* The output path failed: the recording cannot continue. */
  void (*failed) (PlRecording *rec, const GError *error, gpointer user_data);
  /* After pl_recording_stop(): error is NULL when the file was finished cleanly. */
  void (*stopped) (PlRecording *rec, const GError *error, gpointer user_data);
} PlRecordingCallbacks;

PlRecording *pl_recording_new (const PlConfig *config, const char *output_path,
                               const PlRecordingCallbacks *callbacks, gpointer user_data,
                               GError **error);
void pl_recording_free (PlRecording *rec);

/* (transfer none) The pipeline, for callers that add their own source elements. */
GstPipeline *pl_recording_get_pipeline (PlRecording *rec);

gboolean pl_recording_start (PlRecording *rec, GError **error);

/* Adds a branch for an incoming RTP track and returns its sink pad (transfer full), which
 * accepts application/x-rtp. track_id must be unique; participant_id ties voices and
 * shares to a name on the card. The caller links its RTP src pad to the result. */
GstPad *pl_recording_add_voice (PlRecording *rec, const char *track_id,
                                const char *participant_id, GError **error);
/* encoding_name: "VP8" or "H264". At most one share at a time. */
GstPad *pl_recording_add_share (PlRecording *rec, const char *track_id,
                                const char *participant_id, const char *encoding_name,
                                GError **error);
/* Unlinks and disposes of the branch; unknown ids are ignored. */
void pl_recording_remove_track (PlRecording *rec, const char *track_id);

/* The card lists participants in the order they were added. */
void pl_recording_set_participant (PlRecording *rec, const char *participant_id,
                                   const char *display_name);
void pl_recording_remove_participant (PlRecording *rec, const char *participant_id);

/* Seconds of media in the file so far (running time of the output). */
double pl_recording_get_elapsed (PlRecording *rec);
/* Fills stats; free with pl_stats_clear. */
void pl_recording_get_stats (PlRecording *rec, PlStats *stats);
void pl_stats_clear (PlStats *stats);

/* Finishes the file: EOS through the encoders and muxer, bounded by config.stop_timeout_s.
 * callbacks.stopped runs exactly once. */
void pl_recording_stop (PlRecording *rec);

G_END_DECLS
