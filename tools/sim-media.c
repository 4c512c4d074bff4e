/* SPDX-License-Identifier: MIT */
#include "sim-media.h"

#include <math.h>
#include <string.h>

typedef struct {
  guint8 r, g, b;
} Rgb;

static const Rgb bars[8] = {
  { 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 },
  { 255, 0, 255 },   { 255, 0, 0 },   { 0, 0, 255 },   { 0, 0, 0 },
};
static const Rgb box = { 128, 128, 128 };
static const Rgb white = { 255, 255, 255 };

double
sim_voice_frequency (guint voice_index)
{
  return 440.0 + 220.0 * voice_index;
}

gboolean
sim_mark_active (double t)
{
  if (t < SIM_MARK_FIRST)
    return FALSE;
  double phase = fmod (t - SIM_MARK_FIRST, SIM_MARK_PERIOD);
  return phase < SIM_MARK_LENGTH;
}

/* BT.601 limited range, what vp8enc and x264 assume for I420. */
static void
to_yuv (Rgb c, guint8 *y, guint8 *u, guint8 *v)
{
  *y = (guint8) lround (16 + (65.481 * c.r + 128.553 * c.g + 24.966 * c.b) / 255);
  *u = (guint8) lround (128 + (-37.797 * c.r - 74.203 * c.g + 112.0 * c.b) / 255);
  *v = (guint8) lround (128 + (112.0 * c.r - 93.786 * c.g - 18.214 * c.b) / 255);
}

static void
fill_rect (GstVideoFrame *frame, int x0, int y0, int w, int h, Rgb c)
{
  guint8 y, u, v;
  to_yuv (c, &y, &u, &v);
  int fw = GST_VIDEO_FRAME_WIDTH (frame), fh = GST_VIDEO_FRAME_HEIGHT (frame);
  x0 = CLAMP (x0, 0, fw) & ~1;
  y0 = CLAMP (y0, 0, fh) & ~1;
  w = (MIN (x0 + w, fw) - x0) & ~1;
  h = (MIN (y0 + h, fh) - y0) & ~1;
  if (w <= 0 || h <= 0)
    return;
  for (int row = y0; row < y0 + h; row++)
    memset ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (frame, 0) +
                row * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0) + x0,
            y, w);
  for (int row = y0 / 2; row < (y0 + h) / 2; row++) {
    memset ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (frame, 1) +
                row * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 1) + x0 / 2,
            u, w / 2);
    memset ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (frame, 2) +
                row * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 2) + x0 / 2,
            v, w / 2);
  }
}

void
sim_draw_share (GstVideoFrame *frame, double t, SimContent content, gboolean marks)
{
  int w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  if (marks && sim_mark_active (t)) {
    fill_rect (frame, 0, 0, w, h, white);
    return;
  }
  /* Bars: static for slides, scrolling a quarter of the width per second for motion. */
  int scroll = content == SIM_CONTENT_MOTION ? (int) (t * w / 4) % w : 0;
  int bar_w = (w / 8 + 1) & ~1;
  for (int i = 0; i < 8; i++) {
    int x = (i * bar_w + scroll) % w;
    fill_rect (frame, x, 0, bar_w, h, bars[i]);
    if (x + bar_w > w) /* wrapped */
      fill_rect (frame, 0, 0, x + bar_w - w, h, bars[i]);
  }
  int side = (h / 6 + 1) & ~1;
  double pos;
  if (content == SIM_CONTENT_SLIDES)
    pos = fmod (floor (t / SIM_SLIDE_SECONDS), 5) / 4.0; /* five places, jumps only */
  else
    pos = 0.5 + 0.5 * sin (t * 1.3);
  int bx = (int) (pos * (w - side));
  int by = (int) (pos * (2 * h / 3 - side));
  fill_rect (frame, bx, by, side, side, box);
}

void
sim_add_beeps (gint16 *samples, guint n, int rate, double t)
{
  for (guint i = 0; i < n; i++) {
    double ts = t + (double) i / rate;
    if (!sim_mark_active (ts))
      continue;
    double s = samples[i] + 0.5 * 32767 * sin (2 * G_PI * SIM_MARK_BEEP_HZ * ts);
    samples[i] = (gint16) CLAMP (s, -32767, 32767);
  }
}
