/* SPDX-License-Identifier: MIT */
/* Reads what a VP8 frame would do to a decoder, from its first partition (RFC 6386 9, 19),
 * without decoding it: enough to tell a frame that leaves the picture and every reference
 * as they were (a static screen's "still" frames) from one that does not.
 *
 * Peer bytes: every read is bounds-checked, and a frame this parser cannot follow is
 * reported as not still, so the caller decodes it as usual. Needs only GLib (the fuzz
 * target builds it alone). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What stays in a decoder from frame to frame and sets a macroblock's loop filter level;
 * a frame's header may change it, a keyframe resets it (RFC 6386 9.3, 9.6, 15.1). */
typedef struct {
  gboolean have_keyframe;
  int width, height; /* of the last keyframe */
  gboolean segment_values_absolute;
  gint8 segment_filter_level[4];
  gint8 ref_frame_delta[4]; /* intra, last, golden, altref */
  gint8 mode_delta[4];      /* B_PRED, ZEROMV, other motion vectors, SPLITMV */
} PlVp8StreamState;

typedef struct {
  gboolean keyframe;
  gboolean shown;
  gboolean refreshes_last;
  gboolean touches_golden_or_altref;  /* refreshes or copies into either */
  gboolean updates_probabilities;     /* token, mode or MV probabilities that persist */
  gboolean updates_filter_deltas;
  gboolean updates_segment_map;
  gboolean updates_segment_values;
  /* Every macroblock has no residual and is predicted from the last frame with a zero
   * motion vector: the frame is the last frame again, loop-filtered. */
  gboolean every_macroblock_still;
  /* The loop filter of such a macroblock: its level before clamping, when that is the
   * same in every segment. Two inter frames with equal level, type and sharpness filter
   * a still macroblock the same way. */
  gboolean still_filter_uniform;
  int still_filter_level;
  int filter_type;
  int sharpness;
} PlVp8FrameInfo;

/* Every frame starts with a 3-byte frame tag; a keyframe's header is 10 bytes (RFC 6386
 * 9.1). */
#define PL_VP8_FRAME_TAG_SIZE 3
#define PL_VP8_KEYFRAME_HEADER_SIZE 10

/* The frame is a keyframe: the tag says so and the start code follows. Only a keyframe
 * can start a decoder. */
gboolean pl_vp8_is_keyframe (const guint8 *data, gsize size);

void pl_vp8_stream_state_init (PlVp8StreamState *state);

/* Parses one frame, updating state as a decoder would. FALSE (state untouched, info
 * undefined) for a frame a decoder would refuse or this parser cannot follow. */
gboolean pl_vp8_parse_frame (PlVp8StreamState *state, const guint8 *data, gsize size,
                             PlVp8FrameInfo *info);

/* A still frame that changes no reference and no state a later frame reads, except the
 * segment map and values (which the caller must hand to the decoder before the next frame
 * it decodes). Whether it also leaves the picture as it was depends on the loop filter:
 * see pl-vp8-still.c. */
gboolean pl_vp8_frame_is_skippable (const PlVp8FrameInfo *info);

/* a and b filter a still macroblock the same way. */
gboolean pl_vp8_same_still_filter (const PlVp8FrameInfo *a, const PlVp8FrameInfo *b);

/* The format's constant tables (pl-vp8-tables.c). */
extern const guint8 pl_vp8_coefficient_update_probs[4][8][3][11];
extern const guint8 pl_vp8_mv_update_probs[2][19];
extern const guint8 pl_vp8_zero_mv_probs[6];

G_END_DECLS
