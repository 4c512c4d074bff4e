/* SPDX-License-Identifier: MIT */
/* Which decoded share frames show something new. Shared by the VP8 decoder (which decides
 * before it copies a picture out of libavcodec) and the share branch's probe behind other
 * decoders.
 *
 * A static screen arrives as 30 fps of pictures that are bit-identical to the last one
 * (the sender's skip frames), so rows are compared with memcmp first: equal rows cost
 * almost nothing. Only rows that differ are measured block by block. */
#include "pl-private.h"

#include <string.h>

/* A block of the luma plane counts as changed when its mean absolute difference, sampled
 * on every fourth row and every other column, exceeds this. Encoder refinement of a static
 * picture stays well below it; a typed character or a moved pointer is far above it. */
#define BLOCK 16
#define ROW_STEP 4
#define BLOCK_CHANGED_MEAN_DIFF 10
/* Widest picture measured block by block (VP8's limit is 16383); wider ones count as
 * changed whenever a sampled row differs. */
#define MAX_BLOCKS_PER_ROW 1024
/* A frame that differs from the last one passed on only below the threshold (encoder
 * refinement, or a change that fell between the sampled rows, like a one-pixel line)
 * still goes on this often, so the recording converges to the exact picture. */
#define REFINE_INTERVAL GST_SECOND

void
pl_picture_from_video_frame (PlPicture *pic, const GstVideoFrame *frame)
{
  for (int c = 0; c < 3; c++) {
    pic->planes[c] = GST_VIDEO_FRAME_COMP_DATA (frame, c);
    pic->strides[c] = GST_VIDEO_FRAME_COMP_STRIDE (frame, c);
  }
  pic->width = GST_VIDEO_FRAME_WIDTH (frame);
  pic->height = GST_VIDEO_FRAME_HEIGHT (frame);
}

void
pl_frame_filter_init (PlFrameFilter *filter)
{
  filter->last_pts = GST_CLOCK_TIME_NONE;
  filter->refinements = 0;
}

void
pl_frame_filter_passed (PlFrameFilter *filter, GstClockTime pts)
{
  filter->last_pts = pts;
}

static gboolean
visibly_different (const PlPicture *a, const PlPicture *b)
{
  int w = a->width, h = a->height;
  int n_blocks = (w + BLOCK - 1) / BLOCK;
  guint sums[MAX_BLOCKS_PER_ROW];
  for (int by = 0; by < h; by += BLOCK) {
    gboolean band_differs = FALSE;
    for (int y = by + 1; y < MIN (by + BLOCK, h); y += ROW_STEP) {
      const guint8 *ra = a->planes[0] + (gsize)y * a->strides[0];
      const guint8 *rb = b->planes[0] + (gsize)y * b->strides[0];
      if (memcmp (ra, rb, (gsize)w) == 0)
        continue;
      if (n_blocks > MAX_BLOCKS_PER_ROW)
        return TRUE;
      if (!band_differs) {
        memset (sums, 0, sizeof (guint) * (gsize)n_blocks);
        band_differs = TRUE;
      }
      for (int x = 0; x < w; x += 2)
        sums[x / BLOCK] += (guint)ABS (ra[x] - rb[x]);
    }
    if (!band_differs)
      continue;
    /* Samples per block: every other column of the sampled rows of this band. */
    int rows = (MIN (by + BLOCK, h) - (by + 1) + ROW_STEP - 1) / ROW_STEP;
    for (int bx = 0; bx < n_blocks; bx++) {
      int cols = (MIN ((bx + 1) * BLOCK, w) - bx * BLOCK + 1) / 2;
      if (sums[bx] > (guint)(rows * cols * BLOCK_CHANGED_MEAN_DIFF))
        return TRUE;
    }
  }
  return FALSE;
}

gboolean
pl_picture_equal (const PlPicture *a, const PlPicture *b)
{
  for (int c = 0; c < 3; c++) {
    int w = c == 0 ? a->width : (a->width + 1) / 2;
    int h = c == 0 ? a->height : (a->height + 1) / 2;
    for (int y = 0; y < h; y++)
      if (memcmp (a->planes[c] + (gsize)y * a->strides[c], b->planes[c] + (gsize)y * b->strides[c],
                  (gsize)w)
          != 0)
        return FALSE;
  }
  return TRUE;
}

static gboolean
refine_due (const PlFrameFilter *filter, GstClockTime pts)
{
  return GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (filter->last_pts)
         && pts >= filter->last_pts + REFINE_INTERVAL;
}

gboolean
pl_frame_filter_check (PlFrameFilter *filter, const PlPicture *cur, const PlPicture *prev,
                       GstClockTime pts)
{
  if (!prev || cur->width != prev->width || cur->height != prev->height)
    return TRUE;
  if (visibly_different (cur, prev))
    return TRUE;
  if (!refine_due (filter, pts))
    return FALSE;
  /* Checked once per interval: an exact repeat of what went on last time is not a
   * refinement, and encoding it would only cost a frame of x264. */
  if (!pl_picture_equal (cur, prev)) {
    filter->refinements++;
    return TRUE;
  }
  filter->last_pts = pts;
  return FALSE;
}

void
pl_frame_filter_unchanged (PlFrameFilter *filter, GstClockTime pts)
{
  /* What pl_frame_filter_check() does with an exact repeat. */
  if (refine_due (filter, pts))
    filter->last_pts = pts;
}
