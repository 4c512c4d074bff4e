/* SPDX-License-Identifier: MIT */
#pragma once

#include <gst/video/video.h>

G_BEGIN_DECLS

/* What the synthetic participants send: known tones and a known picture, so tests can
 * find them again in a recording (tests/media-check.md describes how).
 *
 * Voice k sends a sine of sim_voice_frequency(k). The screen share shows eight vertical
 * colour bars (white, yellow, cyan, green, magenta, red, blue, black) and a grey box of
 * side height/6 in the top two thirds. */
typedef enum {
  SIM_CONTENT_SLIDES, /* the box jumps every SIM_SLIDE_SECONDS; identical frames between */
  SIM_CONTENT_MOTION, /* bars scroll and the box moves every frame */
} SimContent;

#define SIM_SLIDE_SECONDS 3.0
/* Sync marks: every 2 s from 1 s on, for 100 ms, the share turns white and voice 0 adds
 * a 3 kHz beep. */
#define SIM_MARK_FIRST 1.0
#define SIM_MARK_PERIOD 2.0
#define SIM_MARK_LENGTH 0.1
#define SIM_MARK_BEEP_HZ 3000.0

double sim_voice_frequency (guint voice_index);
gboolean sim_mark_active (double t);

/* Draws the share picture for time t (seconds) into an I420 frame. */
void sim_draw_share (GstVideoFrame *frame, double t, SimContent content, gboolean marks);
/* Adds the beep into interleaved S16 mono samples starting at time t. */
void sim_add_beeps (gint16 *samples, guint n, int rate, double t);

G_END_DECLS
