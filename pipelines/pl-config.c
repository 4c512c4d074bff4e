/* SPDX-License-Identifier: MIT */
#include "pl-config.h"
#include "pl-error.h"
#include "pl-private.h"

#include <string.h>

G_DEFINE_QUARK (pl-error-quark, pl_error)

/* The x264 presets we accept, fastest first; the step-down walks this list. */
static const char *const presets[] = {
  "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", NULL,
};

void
pl_config_init (PlConfig *config)
{
  memset (config, 0, sizeof *config);
  config->width = 1920;
  config->height = 1080;
  config->max_fps = 30;
  config->video_kbps = 2500;
  config->audio_kbps = 64;
  config->x264_preset = g_strdup ("veryfast");
  config->keyframe_interval_s = 4.0;
  config->fragment_ms = 500;
  config->jitter_latency_ms = 400;
  config->stop_timeout_s = 10.0;
  config->title = g_strdup ("Call recording");
}

void
pl_config_clear (PlConfig *config)
{
  g_clear_pointer (&config->x264_preset, g_free);
  g_clear_pointer (&config->title, g_free);
}

void
pl_config_copy (PlConfig *dest, const PlConfig *src)
{
  *dest = *src;
  dest->x264_preset = g_strdup (src->x264_preset);
  dest->title = g_strdup (src->title);
}

gboolean
pl_config_validate (const PlConfig *config, GError **error)
{
#define CHECK(cond, ...)                                                                           \
  if (!(cond)) {                                                                                   \
    g_set_error (error, PL_ERROR, PL_ERROR_CONFIG, __VA_ARGS__);                                   \
    return FALSE;                                                                                  \
  }
  CHECK (config->width >= 160 && config->width <= 3840 && config->width % 2 == 0,
         "width %d: must be even, 160…3840", config->width);
  CHECK (config->height >= 90 && config->height <= 2160 && config->height % 2 == 0,
         "height %d: must be even, 90…2160", config->height);
  CHECK (config->max_fps >= 1 && config->max_fps <= 60, "max fps %d: must be 1…60",
         config->max_fps);
  CHECK (config->video_kbps >= 100 && config->video_kbps <= 50000,
         "video bitrate %d kbps: must be 100…50000", config->video_kbps);
  CHECK (config->audio_kbps >= 16 && config->audio_kbps <= 320,
         "audio bitrate %d kbps: must be 16…320", config->audio_kbps);
  CHECK (config->x264_preset && g_strv_contains (presets, config->x264_preset),
         "x264 preset '%s': must be one of ultrafast, superfast, veryfast, faster, fast, medium",
         config->x264_preset ? config->x264_preset : "(null)");
  CHECK (config->keyframe_interval_s >= 0.5 && config->keyframe_interval_s <= 60,
         "keyframe interval %.2f s: must be 0.5…60", config->keyframe_interval_s);
  CHECK (config->fragment_ms >= 100 && config->fragment_ms <= 2000,
         "fragment duration %d ms: must be 100…2000", config->fragment_ms);
  CHECK (config->jitter_latency_ms >= 0 && config->jitter_latency_ms <= 5000,
         "jitterbuffer latency %d ms: must be 0…5000", config->jitter_latency_ms);
  CHECK (config->stop_timeout_s > 0 && config->stop_timeout_s <= 600,
         "stop timeout %.1f s: must be 0…600", config->stop_timeout_s);
#undef CHECK
  return TRUE;
}



const char *
pl_config_canonical_preset (const char *preset)
{
  for (guint i = 0; presets[i]; i++)
    if (g_strcmp0 (presets[i], preset) == 0)
      return presets[i];
  return presets[2];
}

const char *
pl_config_faster_preset (const char *preset)
{
  for (guint i = 1; presets[i]; i++)
    if (g_str_equal (presets[i], preset))
      return presets[i - 1];
  return NULL;
}
