/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Output settings of one recording. Every field has a default (pl_config_init). */
typedef struct {
  int width;                  /* output frame size; shares are letterboxed into it */
  int height;
  int max_fps;                /* upper bound; output is variable frame rate */
  int video_kbps;
  int audio_kbps;
  char *x264_preset;          /* "ultrafast" … "medium" */
  double keyframe_interval_s; /* a keyframe at least this often (seconds) */
  int fragment_ms;            /* fMP4 fragment duration, at most 2000 */
  int jitter_latency_ms;      /* receive jitterbuffer; the card is delayed to match */
  double stop_timeout_s;      /* EOS must reach the file within this, or the stop fails */
  char *title;                /* shown on the card */
} PlConfig;

void pl_config_init (PlConfig *config);
void pl_config_clear (PlConfig *config);
void pl_config_copy (PlConfig *dest, const PlConfig *src);
/* Checks ranges; the error names the offending field. */
gboolean pl_config_validate (const PlConfig *config, GError **error);

G_END_DECLS
