/* SPDX-License-Identifier: MIT */
#pragma once

/* Analysis of recorded MP4 files for the test suite: container facts from ffprobe, decoded
 * audio and video through GStreamer, and detectors for what the synthetic participants
 * send (sine voices, 8-bar screen share, the card, white flashes with 3 kHz beeps).
 * Thresholds are described in media-check.md. Nothing here asserts: every failure that a
 * file can cause comes back as a GError in MC_ERROR. */

#include <glib.h>

G_BEGIN_DECLS

#define MC_ERROR (mc_error_quark ())
GQuark mc_error_quark (void);

typedef enum {
  MC_ERROR_PROBE,     /* ffprobe failed or printed something we cannot read */
  MC_ERROR_NO_STREAM, /* the file has no stream of the requested kind */
  MC_ERROR_DECODE,    /* GStreamer failed before producing any data */
  MC_ERROR_TIMEOUT,   /* decoding or probing took longer than MC_TIMEOUT_S */
} McError;

/* Upper bound for one probe or decode, so that a broken file fails a test instead of
 * hanging it. */
#define MC_TIMEOUT_S 120

typedef struct {
  double duration_s;       /* format duration; 0 when ffprobe does not know it */
  char *video_codec;       /* ffprobe names ("h264"); NULL without a video stream */
  char *audio_codec;       /* "aac"; NULL without an audio stream */
  char *audio_profile;     /* "LC" */
  int width;
  int height;
  guint video_frames;      /* packets counted by ffprobe -count_packets */
  double audio_duration_s; /* stream durations; 0 when unknown */
  double video_duration_s;
  int audio_rate;
  int audio_channels;
} McInfo;

/* Runs ffprobe (not gst-discoverer, which only sees the first fragment of a crash-cut
 * fragmented MP4). Overwrites info; mc_info_clear() releases it, also after a failure. */
gboolean mc_probe (const char *path, McInfo *info, GError **error);
void mc_info_clear (McInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (McInfo, mc_info_clear)

typedef struct {
  float *samples; /* mono, full scale is 1.0; sample i is at time i / rate */
  gsize n_samples;
  int rate;
} McAudio;

/* (transfer full) Decodes the first audio stream, downmixed to mono at rate Hz. Samples are
 * placed by timestamp (gaps are zeros). A file cut mid-fragment decodes up to the cut. */
McAudio *mc_audio_decode (const char *path, int rate, GError **error);
void mc_audio_free (McAudio *audio);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McAudio, mc_audio_free)

/* Estimated amplitude (0…1) of a sine at freq_hz in [t0, t1): Hann-windowed Goertzel over
 * 100 ms segments, power-averaged. */
double mc_audio_tone_amplitude (const McAudio *audio, double t0, double t1, double freq_hz);
gboolean mc_audio_has_tone (const McAudio *audio, double t0, double t1, double freq_hz,
                            double min_amplitude);
/* (transfer full) GArray of double: times (s) where a burst of freq_hz starts, i.e. its
 * 10 ms amplitude (5 ms hops) reaches threshold after >= 300 ms below it. */
GArray *mc_audio_burst_onsets (const McAudio *audio, double freq_hz, double threshold);

typedef struct {
  double t; /* stream time of the frame, s */
  int width;
  int height;
  guint8 *rgb; /* packed RGB24, stride width * 3 */
} McFrame;

/* (transfer full) Decodes the first video stream scaled to width x height, keeping the first
 * frame at or after each multiple of every_s (every frame when every_s <= 0). Elements are
 * freed by the array. */
GPtrArray *mc_video_frames (const char *path, int width, int height, double every_s,
                            GError **error);
void mc_frame_free (McFrame *frame);

typedef enum {
  MC_FRAME_SHARE,
  MC_FRAME_CARD,
  MC_FRAME_WHITE,
  MC_FRAME_BLACK,
  MC_FRAME_OTHER,
} McFrameKind;

McFrameKind mc_frame_classify (const McFrame *frame);
const char *mc_frame_kind_name (McFrameKind kind);
/* The content inside the letterbox, in the frame's pixels. The letterbox is centred, so the
 * smaller margin of each axis is used on both sides: the share's own black bar may touch one
 * edge. FALSE when the frame is all black. */
gboolean mc_frame_content_box (const McFrame *frame, int *x, int *y, int *w, int *h);

/* (transfer full) GArray of double: times of frames that are WHITE after a frame that is not
 * (the first frame never counts). frames in time order, every frame (every_s <= 0). */
GArray *mc_video_flash_onsets (GPtrArray *frames);
/* Pairs each flash with its nearest beep (within 0.5 s); median of (beep - flash). */
gboolean mc_av_offset (GArray *flash_onsets, GArray *beep_onsets, double *median_offset_s,
                       guint *pairs);
/* For tests of a recording of the sync marks (a white flash and a @beep_hz beep sent
 * together): logs the median A/V offset, and fails the test unless at least @min_pairs
 * flashes found their beep and the median is within @max_offset_s. */
void mc_assert_av_sync (const McAudio *audio, GPtrArray *frames, double beep_hz,
                        guint min_pairs, double max_offset_s);

G_END_DECLS
