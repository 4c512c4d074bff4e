/* SPDX-License-Identifier: MIT */
/* media-report FILE [SECONDS_PER_ROW]: what a recording holds, per time window — the
 * tones of voices 0–3, the frame kind, the share's content box. For debugging recordings
 * and for docs; the tests assert the same things through media-check. */
#include "media-check.h"

#include <gst/gst.h>

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  if (argc < 2) {
    fprintf (stderr, "usage: media-report FILE [SECONDS_PER_ROW]\n");
    return 2;
  }
  gst_init (&argc, &argv);
  double step = argc > 2 ? atof (argv[2]) : 1.0;
  g_autoptr (GError) error = NULL;
  g_auto (McInfo) info = { 0 };
  if (!mc_probe (argv[1], &info, &error)) {
    fprintf (stderr, "media-report: %s\n", error->message);
    return 1;
  }
  printf ("%s: %.3f s, video %s %dx%d (%u frames, %.3f s), audio %s %s (%.3f s)\n", argv[1],
          info.duration_s, info.video_codec, info.width, info.height, info.video_frames,
          info.video_duration_s, info.audio_codec, info.audio_profile ? info.audio_profile : "",
          info.audio_duration_s);
  g_autoptr (McAudio) audio = mc_audio_decode (argv[1], 48000, &error);
  if (!audio) {
    fprintf (stderr, "media-report: audio: %s\n", error->message);
    g_clear_error (&error);
  }
  GPtrArray *frames = mc_video_frames (argv[1], 192, 108, step / 2, &error);
  if (!frames) {
    fprintf (stderr, "media-report: video: %s\n", error->message);
    g_clear_error (&error);
  }
  printf ("  time     440Hz  660Hz  880Hz 1100Hz 3000Hz  frame\n");
  for (double t = 0; t + step <= info.duration_s + 0.001; t += step) {
    printf ("  %6.1f", t);
    static const double freqs[] = { 440, 660, 880, 1100, 3000 };
    for (guint i = 0; i < G_N_ELEMENTS (freqs); i++)
      printf (" %6.3f", audio ? mc_audio_tone_amplitude (audio, t, t + step, freqs[i]) : 0.0);
    const McFrame *best = NULL;
    for (guint i = 0; frames && i < frames->len; i++) {
      const McFrame *f = g_ptr_array_index (frames, i);
      if (f->t >= t + step / 2 - 0.01 && f->t < t + step) {
        best = f;
        break;
      }
    }
    if (best) {
      int x, y, w, h;
      printf ("  %-6s", mc_frame_kind_name (mc_frame_classify (best)));
      if (mc_frame_content_box (best, &x, &y, &w, &h))
        printf (" box %dx%d+%d+%d", w, h, x, y);
    }
    printf ("\n");
  }
  if (frames)
    g_ptr_array_unref (frames);
  return 0;
}
