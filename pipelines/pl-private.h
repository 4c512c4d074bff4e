/* SPDX-License-Identifier: MIT */
/* Internals shared between the files of pipelines/. Not installed, not for callers. */
#pragma once

#include "pl-recording.h"
#include "pl-vp8-parse.h"

#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* The next faster x264 preset, or NULL when already the fastest. */
const char *pl_config_faster_preset (const char *preset);
/* The static string for a valid preset name. */
const char *pl_config_canonical_preset (const char *preset);

/* Makes an element or fails with PL_ERROR_MISSING_ELEMENT naming the Debian package. */
GstElement *pl_make_element (const char *factory, const char *name, GError **error);

/* ---- the H.264 encoder (pl-encoder.c) ---- */
typedef struct _PlEncoder PlEncoder;

/* Creates x264enc in bin, linked between upstream (the appsrc) and downstream. */
PlEncoder *pl_encoder_new (GstBin *bin, GstElement *upstream, GstElement *downstream,
                           const PlConfig *config, GError **error);
void pl_encoder_free (PlEncoder *enc);
/* Swaps in an encoder with the next faster preset, without a gap or new parameter sets.
 * FALSE when already at the fastest preset or a swap is under way. Any thread. */
gboolean pl_encoder_step_down (PlEncoder *enc);
const char *pl_encoder_get_preset (PlEncoder *enc);

/* Test hook: steps the encoder down as if it had fallen behind. Main context. */
void pl_recording_step_down (PlRecording *rec, const char *why);

/* ---- the card (pl-card.c) ---- */
typedef struct _PlCard PlCard;
typedef struct {
  const char *name;
  gboolean speaking;
} PlCardPerson;

PlCard *pl_card_new (int width, int height, const char *title);
void pl_card_free (PlCard *card);
/* Renders only when something visible changed since the last call, else returns NULL.
 * people: array of PlCardPerson. (transfer full) an I420 buffer of the card's size. */
GstBuffer *pl_card_render (PlCard *card, guint elapsed_s, const PlCardPerson *people,
                           guint n_people, gboolean force);

/* ---- the video switch (pl-video-switch.c) ----
 * Chooses between the card and the share, and feeds the encoder only frames that changed:
 * variable frame rate, capped at max_fps, with the last frame repeated once a second so
 * the muxer never waits long for video and a crash loses little. */
typedef struct _PlVideoSwitch PlVideoSwitch;

PlVideoSwitch *pl_video_switch_new (GstAppSrc *appsrc, const PlConfig *config);
void pl_video_switch_free (PlVideoSwitch *sw);
/* Thread-safe. running_time: pipeline running time of the frame. (transfer full) frame. */
void pl_video_switch_push_card (PlVideoSwitch *sw, GstBuffer *frame, GstClockTime running_time);
void pl_video_switch_push_share (PlVideoSwitch *sw, GstBuffer *frame, GstClockTime running_time);
/* A share branch exists (frames from it replace the card once the first one arrives). */
void pl_video_switch_set_share_active (PlVideoSwitch *sw, gboolean active);
gboolean pl_video_switch_share_showing (PlVideoSwitch *sw);
/* Main loop, about 10 times a second. media_now: the running time that frames arriving
 * now carry (the clock minus the jitterbuffer latency). Pushes a rate-limited pending
 * frame, repeats the last one when nothing changed for half a second. */
void pl_video_switch_tick (PlVideoSwitch *sw, GstClockTime media_now);
void pl_video_switch_set_max_fps (PlVideoSwitch *sw, int max_fps);
int pl_video_switch_get_max_fps (PlVideoSwitch *sw);
/* Frames waiting in front of the encoder; a growing backlog means it is behind. */
guint pl_video_switch_backlog (PlVideoSwitch *sw);
void pl_video_switch_end (PlVideoSwitch *sw);
void pl_video_switch_add_stats (PlVideoSwitch *sw, PlStats *stats);

/* ---- unchanged share frames (pl-frame-filter.c) ---- */
/* An I420 picture somebody else owns: plane pointers and strides, luma size. */
typedef struct {
  const guint8 *planes[3];
  int strides[3];
  int width;
  int height;
} PlPicture;

/* State of one stream's filter; used by one streaming thread at a time. */
typedef struct {
  GstClockTime last_pts; /* last frame passed on (or found an exact repeat) */
  guint64 refinements;   /* frames passed only because they refined the picture */
} PlFrameFilter;

/* The picture a mapped I420 frame holds (valid while it stays mapped). */
void pl_picture_from_video_frame (PlPicture *pic, const GstVideoFrame *frame);
/* Every byte of a's width x height (I420) equals b's. */
gboolean pl_picture_equal (const PlPicture *a, const PlPicture *b);
void pl_frame_filter_init (PlFrameFilter *filter);
/* TRUE when cur must go on: no prev (the last picture passed on), another size, a visible
 * change, or, at most once a second, a picture that differs at all from prev. */
gboolean pl_frame_filter_check (PlFrameFilter *filter, const PlPicture *cur,
                                const PlPicture *prev, GstClockTime pts);
/* Records that the frame at pts went on. */
void pl_frame_filter_passed (PlFrameFilter *filter, GstClockTime pts);
/* Records a frame at pts known to repeat the last one passed on, without looking at it. */
void pl_frame_filter_unchanged (PlFrameFilter *filter, GstClockTime pts);

/* ---- VP8 frames that need no decoding (pl-vp8-still.c, on pl-vp8-parse.c) ----
 * Used by the VP8 decoder's streaming thread only. Per frame: pl_vp8_still_may_skip();
 * if FALSE, decode pl_vp8_still_take_catch_up() first (when not NULL) and report with
 * pl_vp8_still_caught_up() whether its picture equalled the reference; then decode the
 * frame and report with pl_vp8_still_decoded(). On a decoding error, pl_vp8_still_reset(). */
typedef struct {
  PlVp8StreamState stream;
  gboolean stream_known;    /* every frame since the last keyframe parsed, nothing went wrong */
  PlVp8FrameInfo current;   /* of the frame being handled */
  gboolean current_parsed;
  gboolean reference_known; /* the decoder's last frame is the last picture it gave us */
  gboolean latest_went_on;  /* ... and it equals the last picture passed on */
  gboolean fixed_point;     /* the last decoded frame was still and equalled its reference */
  PlVp8FrameInfo fixed;     /* ... and these were its filter settings */
  GstBuffer *catch_up;      /* latest skipped frame that set the segment map or values */
  guint64 skipped, mismatches;
} PlVp8Still;

void pl_vp8_still_init (PlVp8Still *still);
void pl_vp8_still_clear (PlVp8Still *still);
/* Nothing is skipped until the next keyframe; a catch-up frame still goes to the decoder. */
void pl_vp8_still_pause (PlVp8Still *still);
/* The same, after a decoding error (the decoder waits for a keyframe too): the catch-up
 * frame goes. */
void pl_vp8_still_reset (PlVp8Still *still);
/* Parses the frame (buffer holds data) and tells whether it may go undecoded. */
gboolean pl_vp8_still_may_skip (PlVp8Still *still, GstBuffer *buffer, const guint8 *data,
                                gsize size);
/* (transfer full) (nullable) the frame to decode before the current one. */
GstBuffer *pl_vp8_still_take_catch_up (PlVp8Still *still);
void pl_vp8_still_caught_up (PlVp8Still *still, gboolean picture_unchanged);
/* The current frame's picture must be compared with its reference (the last picture the
 * decoder gave, coded area included) for pl_vp8_still_decoded(). */
gboolean pl_vp8_still_wants_comparison (const PlVp8Still *still);
void pl_vp8_still_decoded (PlVp8Still *still, gboolean shown, gboolean equals_reference,
                           gboolean went_on);
/* A skipped frame's picture (the reference) went through the unchanged-frame filter,
 * because latest_went_on was FALSE. */
void pl_vp8_still_skipped (PlVp8Still *still, gboolean went_on);

/* ---- the VP8 decoder (pl-vp8-decoder.c) ----
 * libavcodec decoding into its own frame; a picture is copied into a GstBuffer only when it
 * goes on (pl-frame-filter.c), and a static screen's still frames are not decoded at all
 * (pl-vp8-still.c), so a static share costs reading each frame's macroblock headers. */
#define PL_VP8_DECODER_NAME "callrecvp8dec"
/* Registers the element (private to this process) once; any thread. */
void pl_vp8_decoder_register (void);
typedef struct {
  guint64 decoded;   /* pictures the decoder produced */
  guint64 unchanged; /* pictures not passed on: decoded ones, and still frames' */
  guint64 errors;    /* frames the decoder refused, or marked as damaged */
  guint64 refinements;
  guint64 still;      /* frames that changed nothing, not decoded (pl-vp8-still.c) */
  guint64 still_mismatches; /* ... proven wrong afterwards (never seen; see there) */
} PlVp8DecoderStats;
/* Thread-safe. decoder: an element made from PL_VP8_DECODER_NAME. */
void pl_vp8_decoder_get_stats (GstElement *decoder, PlVp8DecoderStats *stats);

/* ---- track branches (pl-voice.c, pl-share.c) ---- */
typedef enum { PL_TRACK_VOICE, PL_TRACK_SHARE } PlTrackKind;

typedef struct _PlTrack PlTrack;
struct _PlTrack {
  PlRecording *rec;
  char *id;
  char *participant_id;
  PlTrackKind kind;
  GstElement *bin;      /* owned by the pipeline */
  GstPad *sink;         /* the bin's ghost sink pad */
  GstPad *mixer_pad;    /* voice: the audiomixer request pad */
  /* voice: speaking state from the level element, main context only */
  gboolean speaking;
  gint64 last_loud_us;
  /* share only, see pl-share.c */
  struct _PlShare *share;
};

/* Builds a voice bin: depay, Opus decode with PLC and FEC, level metering. */
GstElement *pl_voice_bin_new (const char *track_id, GError **error);

typedef struct _PlShare PlShare;
PlShare *pl_share_new (const char *track_id, const char *encoding_name,
                       const PlConfig *config, PlVideoSwitch *sw, GError **error);
GstElement *pl_share_get_bin (PlShare *share);
/* Main loop, once a second: re-request a keyframe while none arrived, log progress. */
void pl_share_tick (PlShare *share);
void pl_share_add_stats (PlShare *share, PlStats *stats);
void pl_share_free (PlShare *share);

/* Drops EOS: an inactive transceiver pushes EOS into its branch (LESSONS.md), and a track's
 * end is signalled by pl_recording_remove_track(), never by EOS reaching the mixer. */
GstPadProbeReturn pl_drop_eos_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data);

G_END_DECLS
