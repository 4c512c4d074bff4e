/* SPDX-License-Identifier: MIT */
#include "rec-options.h"

#include <stdio.h>

/* GOption writes strings into these; they move into the config in rec_options_finish. */
static char *opt_preset;
static char *opt_title;
static char *opt_size;
static double opt_max_duration_s = -1;
static double opt_warning_s = -1;

GOptionGroup *
rec_options_group (RecSessionConfig *config)
{
  const GOptionEntry entries[] = {
    { "size", 0, 0, G_OPTION_ARG_STRING, &opt_size, "Output size (default 1920x1080)", "WxH" },
    { "max-fps", 0, 0, G_OPTION_ARG_INT, &config->pipeline.max_fps,
      "Maximum output frame rate (default 30)", "N" },
    { "video-kbps", 0, 0, G_OPTION_ARG_INT, &config->pipeline.video_kbps,
      "Video bitrate (default 2500)", "KBPS" },
    { "audio-kbps", 0, 0, G_OPTION_ARG_INT, &config->pipeline.audio_kbps,
      "AAC bitrate (default 64)", "KBPS" },
    { "preset", 0, 0, G_OPTION_ARG_STRING, &opt_preset,
      "x264 preset: ultrafast … medium (default veryfast)", "NAME" },
    { "keyframe-interval", 0, 0, G_OPTION_ARG_DOUBLE, &config->pipeline.keyframe_interval_s,
      "Seconds between keyframes at most (default 4)", "S" },
    { "fragment-ms", 0, 0, G_OPTION_ARG_INT, &config->pipeline.fragment_ms,
      "fMP4 fragment duration (default 500, at most 2000)", "MS" },
    { "latency-ms", 0, 0, G_OPTION_ARG_INT, &config->pipeline.jitter_latency_ms,
      "Receive jitterbuffer latency (default 400)", "MS" },
    { "title", 0, 0, G_OPTION_ARG_STRING, &opt_title, "Title on the card", "TEXT" },
    { "max-duration", 0, 0, G_OPTION_ARG_DOUBLE, &opt_max_duration_s,
      "Stop at this length (default 3600)", "S" },
    { "warning-before", 0, 0, G_OPTION_ARG_DOUBLE, &opt_warning_s,
      "Warn this long before the limit (default 600)", "S" },
    { NULL },
  };
  GOptionGroup *group = g_option_group_new ("recording", "Recording output options:",
                                            "Show recording output options", NULL, NULL);
  g_option_group_add_entries (group, entries);
  return group;
}

gboolean
rec_options_finish (RecSessionConfig *config, GError **error)
{
  if (opt_preset) {
    g_free (config->pipeline.x264_preset);
    config->pipeline.x264_preset = g_steal_pointer (&opt_preset);
  }
  if (opt_title) {
    g_free (config->pipeline.title);
    config->pipeline.title = g_steal_pointer (&opt_title);
  }
  if (opt_size) {
    int w = 0, h = 0;
    char tail = 0;
    if (sscanf (opt_size, "%dx%d%c", &w, &h, &tail) != 2) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--size %s: expected WxH, e.g. 1280x720", opt_size);
      return FALSE;
    }
    config->pipeline.width = w;
    config->pipeline.height = h;
    g_clear_pointer (&opt_size, g_free);
  }
  if (opt_max_duration_s >= 0)
    config->max_duration_s = opt_max_duration_s;
  if (opt_warning_s >= 0)
    config->warning_before_s = opt_warning_s;
  if (config->max_duration_s < 1) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--max-duration %.1f: must be at least 1 s", config->max_duration_s);
    return FALSE;
  }
  return pl_config_validate (&config->pipeline, error);
}
