/* SPDX-License-Identifier: MIT */
/* VP8 first-partition reader; see pl-vp8-parse.h. Section numbers are RFC 6386's.
 *
 * Only the first partition is read: the frame header (19.2) and, when the header could
 * belong to a still frame, each macroblock's header (19.3) up to the first one that is
 * not still. Residual tokens live in the other partitions and are never read: a still
 * macroblock has none (mb_skip_coeff). */
#include "pl-vp8-parse.h"

#include <string.h>

/* ---- the boolean entropy decoder (7.3) ---- */

typedef struct {
  const guint8 *next, *end;
  guint64 value;   /* the coming bits, first at the top; zeros past the end */
  int count;       /* bits of value loaded from the data */
  guint32 range;   /* 128..255 between calls */
  guint64 shifted; /* bits consumed so far */
} BoolReader;

static void
bool_fill (BoolReader *br)
{
  while (br->count <= 56 && br->next < br->end) {
    br->value |= (guint64)*br->next++ << (56 - br->count);
    br->count += 8;
  }
}

static void
bool_init (BoolReader *br, const guint8 *data, gsize size)
{
  br->next = data;
  br->end = data + size;
  br->value = 0;
  br->count = 0;
  br->range = 255;
  br->shifted = 0;
  bool_fill (br);
}

/* One bool that is 0 with probability prob/256. */
static inline guint
bool_read (BoolReader *br, guint prob)
{
  guint32 split = 1 + (((br->range - 1) * prob) >> 8);
  guint64 big_split = (guint64)split << 56;
  guint bit;

  if (br->count < 8)
    bool_fill (br);
  if (br->value >= big_split) {
    br->range -= split;
    br->value -= big_split;
    bit = 1;
  } else {
    br->range = split;
    bit = 0;
  }
  /* Renormalise: range back to 128..255 (it is never 0: split < range). */
  int shift = __builtin_clz (br->range) - 24;
  br->range <<= shift;
  br->value <<= shift;
  br->count -= shift;
  br->shifted += (guint)shift;
  return bit;
}

static guint
bool_literal (BoolReader *br, int bits)
{
  guint v = 0;
  while (bits-- > 0)
    v = (v << 1) | bool_read (br, 128);
  return v;
}

/* A magnitude of `bits` bits then a sign bit. */
static int
bool_signed (BoolReader *br, int bits)
{
  int v = (int)bool_literal (br, bits);
  return bool_read (br, 128) ? -v : v;
}

/* A flag, then (when set) a signed value; *value is left alone when the flag is clear. */
static gboolean
bool_optional_signed (BoolReader *br, int bits, int *value)
{
  if (!bool_read (br, 128))
    return FALSE;
  *value = bool_signed (br, bits);
  return TRUE;
}

/* The reader has had to invent bits past the end of the partition. Encoders end a
 * partition with padding (the RFC's encoder flushes 32 bits), so a real frame never
 * needs them; a cut frame does. */
static gboolean
bool_overran (const BoolReader *br, gsize size)
{
  return br->shifted + 8 > (guint64)size * 8;
}

/* ---- the frame header (9.2–9.11, 19.2) ---- */

gboolean
pl_vp8_is_keyframe (const guint8 *data, gsize size)
{
  return size >= PL_VP8_KEYFRAME_HEADER_SIZE && (data[0] & 1) == 0 && data[3] == 0x9d
         && data[4] == 0x01 && data[5] == 0x2a;
}

void
pl_vp8_stream_state_init (PlVp8StreamState *state)
{
  memset (state, 0, sizeof *state);
}

/* What is read of the header beyond PlVp8FrameInfo, for the macroblock pass. */
typedef struct {
  gboolean segmentation;
  guint segment_tree_probs[3];
  int filter_level;
  gboolean filter_deltas_on;
  gboolean skip_flags; /* mb_no_coeff_skip */
  guint prob_skip_false, prob_intra, prob_last;
} HeaderRest;

static void
reset_on_keyframe (PlVp8StreamState *state)
{
  /* 9.3, 9.6: a keyframe starts with segment values and filter deltas at zero, as deltas. */
  state->segment_values_absolute = FALSE;
  memset (state->segment_filter_level, 0, sizeof state->segment_filter_level);
  memset (state->ref_frame_delta, 0, sizeof state->ref_frame_delta);
  memset (state->mode_delta, 0, sizeof state->mode_delta);
}

/* 9.3 */
static void
read_segmentation (BoolReader *br, PlVp8StreamState *state, PlVp8FrameInfo *info,
                   HeaderRest *rest)
{
  rest->segmentation = bool_read (br, 128);
  if (!rest->segmentation)
    return;
  info->updates_segment_map = bool_read (br, 128);
  info->updates_segment_values = bool_read (br, 128);
  if (info->updates_segment_values) {
    /* Every value is sent again; one without its flag becomes 0. */
    state->segment_values_absolute = bool_read (br, 128);
    for (int i = 0; i < 4; i++) {
      int quantizer = 0;
      bool_optional_signed (br, 7, &quantizer);
    }
    for (int i = 0; i < 4; i++) {
      int level = 0;
      bool_optional_signed (br, 6, &level);
      state->segment_filter_level[i] = (gint8)level;
    }
  }
  if (info->updates_segment_map)
    for (int i = 0; i < 3; i++)
      rest->segment_tree_probs[i] = bool_read (br, 128) ? bool_literal (br, 8) : 255;
}

/* 9.6: only the deltas whose flag is set change. */
static void
read_filter_deltas (BoolReader *br, PlVp8StreamState *state, PlVp8FrameInfo *info,
                    HeaderRest *rest)
{
  rest->filter_deltas_on = bool_read (br, 128);
  if (!rest->filter_deltas_on)
    return;
  info->updates_filter_deltas = bool_read (br, 128);
  if (!info->updates_filter_deltas)
    return;
  for (int i = 0; i < 8; i++) {
    gint8 *delta = i < 4 ? &state->ref_frame_delta[i] : &state->mode_delta[i - 4];
    int v = *delta;
    if (bool_optional_signed (br, 6, &v))
      *delta = (gint8)v;
  }
}

/* 9.5: the token partitions' sizes must fit in the frame, as a decoder checks. */
static gboolean
partitions_fit (int log2_partitions, const guint8 *after_first, gsize left)
{
  gsize n = (gsize)1 << log2_partitions, sizes = 3 * (n - 1);
  if (left < sizes)
    return FALSE;
  left -= sizes;
  for (gsize i = 0; i + 1 < n; i++) {
    const guint8 *p = after_first + 3 * i;
    gsize part = p[0] | (gsize)p[1] << 8 | (gsize)p[2] << 16;
    if (part > left)
      return FALSE;
    left -= part;
  }
  return TRUE;
}

/* 9.7–9.11, 13.4, 17.2: everything up to the first macroblock. */
static void
read_refs_and_probabilities (BoolReader *br, PlVp8FrameInfo *info, HeaderRest *rest)
{
  gboolean persist;
  if (info->keyframe) {
    persist = bool_read (br, 128); /* refresh_entropy_probs */
    info->refreshes_last = TRUE;
    info->touches_golden_or_altref = TRUE;
  } else {
    gboolean golden = bool_read (br, 128), altref = bool_read (br, 128);
    guint copy_golden = golden ? 0 : bool_literal (br, 2);
    guint copy_altref = altref ? 0 : bool_literal (br, 2);
    bool_literal (br, 2); /* sign bias of golden and altref, sent with every inter frame */
    persist = bool_read (br, 128);
    info->refreshes_last = bool_read (br, 128);
    info->touches_golden_or_altref = golden || altref || copy_golden || copy_altref;
  }

  gboolean updates = FALSE;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++)
      for (int k = 0; k < 3; k++)
        for (int l = 0; l < 11; l++)
          if (bool_read (br, pl_vp8_coefficient_update_probs[i][j][k][l])) {
            bool_literal (br, 8);
            updates = TRUE;
          }

  rest->skip_flags = bool_read (br, 128);
  if (rest->skip_flags)
    rest->prob_skip_false = bool_literal (br, 8);
  if (!info->keyframe) {
    rest->prob_intra = bool_literal (br, 8);
    rest->prob_last = bool_literal (br, 8);
    bool_literal (br, 8); /* prob_gf */
    if (bool_read (br, 128)) { /* intra 16x16 mode probabilities */
      bool_literal (br, 32);
      updates = TRUE;
    }
    if (bool_read (br, 128)) { /* intra chroma mode probabilities */
      bool_literal (br, 24);
      updates = TRUE;
    }
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 19; j++)
        if (bool_read (br, pl_vp8_mv_update_probs[i][j])) {
          bool_literal (br, 7);
          updates = TRUE;
        }
  }
  /* Without refresh_entropy_probs, updates last for this frame only. */
  info->updates_probabilities = updates && persist;
}

/* The loop filter level of a still macroblock (inter, last frame, ZEROMV) in each segment,
 * as decoders add it up (15.1). Uniform only when the unclamped sums are equal: libvpx
 * clamps between the steps and libavcodec only at the end, and equal sums agree in both. */
static void
still_filter_level (const PlVp8StreamState *state, const HeaderRest *rest, PlVp8FrameInfo *info)
{
  int levels[4];
  for (int s = 0; s < 4; s++) {
    int level = rest->filter_level;
    if (rest->segmentation)
      level = state->segment_values_absolute ? state->segment_filter_level[s]
                                             : level + state->segment_filter_level[s];
    if (rest->filter_deltas_on)
      level += state->ref_frame_delta[1] + state->mode_delta[1];
    levels[s] = level;
  }
  info->still_filter_level = levels[0];
  info->still_filter_uniform = TRUE;
  for (int s = 1; s < 4; s++)
    if (levels[s] != levels[0])
      info->still_filter_uniform = FALSE;
}

/* ---- macroblock headers (19.3) ---- */

/* TRUE when every macroblock is still: no residual, inter, from the last frame, ZEROMV. */
static gboolean
every_macroblock_still (BoolReader *br, const PlVp8StreamState *state, const PlVp8FrameInfo *info,
                        const HeaderRest *rest)
{
  if (!rest->skip_flags)
    return FALSE; /* every macroblock carries tokens */
  int cols = (state->width + 15) / 16, rows = (state->height + 15) / 16;
  for (int row = 0; row < rows; row++) {
    for (int col = 0; col < cols; col++) {
      if (info->updates_segment_map) {
        if (bool_read (br, rest->segment_tree_probs[0]))
          bool_read (br, rest->segment_tree_probs[2]);
        else
          bool_read (br, rest->segment_tree_probs[1]);
      }
      if (!bool_read (br, rest->prob_skip_false))
        return FALSE; /* has residual */
      if (!bool_read (br, rest->prob_intra))
        return FALSE; /* intra */
      if (bool_read (br, rest->prob_last))
        return FALSE; /* golden or altref */
      /* The mode's first probability counts the neighbours with a zero motion vector
       * (16.3): all of them here, since every earlier macroblock was still; outside the
       * frame they count as intra. Above and left weigh 2, above-left 1. */
      int zero_neighbours = (row > 0 ? 2 : 0) + (col > 0 ? 2 : 0) + (row > 0 && col > 0 ? 1 : 0);
      if (bool_read (br, pl_vp8_zero_mv_probs[zero_neighbours]))
        return FALSE; /* a mode other than ZEROMV */
    }
  }
  return TRUE;
}

gboolean
pl_vp8_parse_frame (PlVp8StreamState *state, const guint8 *data, gsize size,
                    PlVp8FrameInfo *info)
{
  memset (info, 0, sizeof *info);
  if (size < PL_VP8_FRAME_TAG_SIZE)
    return FALSE;
  /* 9.1: the frame tag. */
  guint32 tag = data[0] | (guint32)data[1] << 8 | (guint32)data[2] << 16;
  info->keyframe = !(tag & 1);
  info->shown = (tag >> 4) & 1;
  gsize first_size = tag >> 5, header = PL_VP8_FRAME_TAG_SIZE;
  PlVp8StreamState next = *state;
  if (info->keyframe) {
    if (!pl_vp8_is_keyframe (data, size))
      return FALSE;
    next.width = (data[6] | data[7] << 8) & 0x3fff;
    next.height = (data[8] | data[9] << 8) & 0x3fff;
    if (next.width == 0 || next.height == 0)
      return FALSE;
    next.have_keyframe = TRUE;
    reset_on_keyframe (&next);
    header = PL_VP8_KEYFRAME_HEADER_SIZE;
  } else if (!state->have_keyframe) {
    return FALSE;
  }
  if (first_size == 0 || first_size > size - header)
    return FALSE;

  BoolReader br;
  HeaderRest rest = { 0 };
  bool_init (&br, data + header, first_size);
  if (info->keyframe)
    bool_literal (&br, 2); /* color space, clamping */
  read_segmentation (&br, &next, info, &rest);
  info->filter_type = (int)bool_read (&br, 128);
  rest.filter_level = (int)bool_literal (&br, 6);
  info->sharpness = (int)bool_literal (&br, 3);
  read_filter_deltas (&br, &next, info, &rest);
  int log2_partitions = (int)bool_literal (&br, 2);
  bool_literal (&br, 7); /* y_ac_qi */
  for (int i = 0; i < 5; i++) {
    int delta = 0;
    bool_optional_signed (&br, 4, &delta);
  }
  read_refs_and_probabilities (&br, info, &rest);
  if (bool_overran (&br, first_size)
      || !partitions_fit (log2_partitions, data + header + first_size, size - header - first_size))
    return FALSE;

  still_filter_level (&next, &rest, info);
  if (!info->keyframe)
    info->every_macroblock_still = every_macroblock_still (&br, &next, info, &rest)
                                   && !bool_overran (&br, first_size);
  *state = next;
  return TRUE;
}

gboolean
pl_vp8_frame_is_skippable (const PlVp8FrameInfo *info)
{
  return !info->keyframe && info->shown && info->refreshes_last
         && !info->touches_golden_or_altref && !info->updates_probabilities
         && !info->updates_filter_deltas && info->every_macroblock_still
         && info->still_filter_uniform;
}

gboolean
pl_vp8_same_still_filter (const PlVp8FrameInfo *a, const PlVp8FrameInfo *b)
{
  return a->still_filter_uniform && b->still_filter_uniform
         && a->still_filter_level == b->still_filter_level && a->filter_type == b->filter_type
         && a->sharpness == b->sharpness;
}
