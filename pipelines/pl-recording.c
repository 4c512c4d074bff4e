/* SPDX-License-Identifier: MIT */
/* The recording graph and its lifecycle.
 *
 *   audiotestsrc (silence, live) ─┐
 *   voice bins ───────────────────┴→ audiomixer → S16 48k stereo → voaacenc ─┐
 *   share bin → appsink ─┐                                                   ├→ mp4mux → file
 *   card (cairo) ────────┴→ PlVideoSwitch → appsrc (VFR) → PlEncoder (x264) ──┘   (fragmented)
 *
 * Threads: the main context (this file's API, bus, ticks, mixer pads), the mixer's output
 * thread, the appsrc thread (x264), the muxer thread, and whatever feeds the track bins. */
#include "pl-private.h"

#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#define TICK_INTERVAL_MS 100
/* A voice counts as speaking above this level, and for this long after. */
#define SPEAKING_THRESHOLD_DB (-45.0)
#define SPEAKING_HANG_US (600 * 1000)
/* Backlog in front of the encoder (in seconds of frames) that counts as falling behind,
 * and for how many consecutive one-second checks before stepping down. */
#define BEHIND_BACKLOG_S 0.25
#define BEHIND_CHECKS 3
#define MIN_STEP_DOWN_FPS 5

typedef enum { STATE_NEW, STATE_RUNNING, STATE_STOPPING, STATE_DONE } RecState;

typedef struct {
  char *id;
  char *name;
} Participant;

struct _PlRecording {
  PlConfig config;
  char *output_path;
  PlRecordingCallbacks callbacks;
  gpointer user_data;
  GMainContext *context;

  GstPipeline *pipeline;
  GstElement *mixer;
  GstElement *audio_head; /* first element after the mixer: EOS enters here on stop */
  PlEncoder *encoder;
  GstElement *filesink;
  PlVideoSwitch *sw;
  PlStats ended_shares; /* counters of shares that were removed, so totals survive them */
  PlCard *card;

  GHashTable *tracks;          /* id → PlTrack */
  GPtrArray *participants;     /* Participant, in join order */
  PlShare *share;              /* at most one; also in tracks */

  RecState state;
  GSource *bus_source;
  GSource *tick_source;
  GSource *stop_timeout_source;
  guint ticks;
  guint behind_checks;
  gboolean card_dirty;
  GstClockTime card_not_before; /* running time a share was removed at */

  /* Written by the muxer/file threads, read by the main context. */
  gint eos_at_file;      /* atomic: EOS reached the file sink */
  gssize bytes_written;  /* atomic */
  /* The file sink's streaming thread only: the muxer went back to rewrite bytes already
   * written, and everything up to the next forward segment is dropped (file_probe). */
  gboolean dropping_rewrite;
};

static void finish (PlRecording *rec, GError *error);

GstElement *
pl_make_element (const char *factory, const char *name, GError **error)
{
  GstElement *element = gst_element_factory_make (factory, name);
  if (!element) {
    const char *package = "gstreamer1.0-plugins-base/good/bad/ugly and gstreamer1.0-libav";
    g_set_error (error, PL_ERROR, PL_ERROR_MISSING_ELEMENT,
                 "GStreamer element '%s' is missing: install %s (make deps)", factory, package);
  }
  return element;
}

static void
track_free (PlTrack *track)
{
  pl_share_free (track->share);
  gst_clear_object (&track->sink);
  gst_clear_object (&track->mixer_pad);
  g_free (track->id);
  g_free (track->participant_id);
  g_free (track);
}

static void
participant_free (Participant *p)
{
  g_free (p->id);
  g_free (p->name);
  g_free (p);
}

static GstClockTime
running_time_now (PlRecording *rec)
{
  g_autoptr (GstClock) clock = gst_pipeline_get_clock (rec->pipeline);
  if (!clock || !GST_CLOCK_TIME_IS_VALID (gst_element_get_base_time (GST_ELEMENT (rec->pipeline))))
    return GST_CLOCK_TIME_NONE;
  GstClockTime now = gst_clock_get_time (clock);
  GstClockTime base = gst_element_get_base_time (GST_ELEMENT (rec->pipeline));
  return now > base ? now - base : 0;
}

/* ---- output path ---- */

/* Keeps the file append-only, so that it can be uploaded while it grows. At EOS mp4mux
 * seeks back (a bytes SEGMENT starting before the end) to rewrite its moov; a fragmented
 * file needs no such rewrite (every fragment carries its own durations), so that segment
 * and the buffers after it are dropped. Runs on the file sink's streaming thread. */
static GstPadProbeReturn
file_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  PlRecording *rec = user_data;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM &&
      GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_SEGMENT) {
    const GstSegment *segment;
    gst_event_parse_segment (GST_PAD_PROBE_INFO_EVENT (info), &segment);
    gssize written = (gssize) g_atomic_pointer_get (&rec->bytes_written);
    if (segment->format == GST_FORMAT_BYTES && written > 0) {
      rec->dropping_rewrite = segment->start < (guint64) written;
      if (rec->dropping_rewrite) {
        g_debug ("dropping the muxer's rewrite at byte %" G_GUINT64_FORMAT, segment->start);
        return GST_PAD_PROBE_DROP;
      }
    }
    return GST_PAD_PROBE_OK;
  }
  if (rec->dropping_rewrite && info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return GST_PAD_PROBE_DROP;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    g_atomic_pointer_add (&rec->bytes_written,
                          (gssize) gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info)));
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM &&
             GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS) {
    /* No EOS message reaches the bus (webrtcbin's sinks never get EOS), so this is how
     * we learn that the muxer has written its last bytes. */
    g_atomic_int_set (&rec->eos_at_file, 1);
    g_main_context_wakeup (rec->context);
  }
  return GST_PAD_PROBE_OK;
}

static gboolean
build_output (PlRecording *rec, GError **error)
{
  GstBin *bin = GST_BIN (rec->pipeline);
  const PlConfig *c = &rec->config;
  const char *names[] = { "audiotestsrc", "audiomixer", "capsfilter", "audioconvert",
                          "voaacenc", "queue", "appsrc", "queue", "mp4mux", "filesink" };
  GstElement *e[G_N_ELEMENTS (names)];
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    /* force-live is construct-only: output starts before any voice joins. */
    e[i] = g_str_equal (names[i], "audiomixer")
               ? gst_element_factory_make_full ("audiomixer", "force-live", TRUE, NULL)
               : pl_make_element (names[i], NULL, error);
    if (!e[i] && error && !*error)
      g_set_error (error, PL_ERROR, PL_ERROR_MISSING_ELEMENT, "audiomixer is missing");
    if (!e[i]) {
      for (guint j = 0; j < i; j++)
        gst_object_unref (e[j]);
      return FALSE;
    }
    gst_bin_add (bin, e[i]);
  }
  GstElement *silence = e[0], *mixer = e[1], *acaps = e[2], *aconv = e[3], *aac = e[4];
  GstElement *aqueue = e[5], *appsrc = e[6], *vqueue = e[7], *mux = e[8], *sink = e[9];

  /* Silence keeps the mixer (and so the file's timeline) moving when nobody speaks. Its
   * buffers and the mixer's are 40 ms (the mixer's default is 10 ms): a recording has no use
   * for low audio latency, and each buffer wakes the mixer, the AAC encoder and the muxer's
   * queue; 25 wakeups a second instead of 100 measured ~0.005 core less per recording. */
  g_object_set (silence, "is-live", TRUE, "wave", 4 /* silence */, "samplesperbuffer", 1920,
                NULL);
  /* Voices join later with the jitterbuffer's latency; without this the mixer would run
   * ahead of them and drop their first packets as late. */
  guint64 upstream_latency = (guint64) (c->jitter_latency_ms + 200) * GST_MSECOND;
  g_object_set (mixer, "min-upstream-latency", upstream_latency, "output-buffer-duration",
                (guint64) (40 * GST_MSECOND), NULL);
  g_autoptr (GstCaps) audio_caps = gst_caps_from_string (
      "audio/x-raw,format=S16LE,rate=48000,channels=2,layout=interleaved");
  g_object_set (acaps, "caps", audio_caps, NULL);
  g_object_set (aac, "bitrate", c->audio_kbps * 1000, NULL);
  /* The muxer waits for both tracks; these queues let either run up to 3 s ahead (a few
   * hundred KB of encoded data) instead of stalling its encoder, and with it the raw
   * frames queued in front of x264. */
  for (GstElement **q = (GstElement *[]){ aqueue, vqueue, NULL }; *q; q++)
    g_object_set (*q, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                  (guint64) (3 * GST_SECOND), NULL);

  /* Frames come at a variable rate (pl-video-switch.c), but x264 is told the maximum one:
   * told "variable" (0/1), it holds each frame back until the next arrives, to learn its
   * duration, and keeps ~9 MB more at 1080p. Its rate control then gives each frame
   * 1/max_fps of the bitrate: exact for a moving share, frugal for a still one.
   * pl-encoder.c marks the encoded stream variable-rate again for the muxer. */
  g_autoptr (GstCaps) video_caps = gst_caps_new_simple (
      "video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, c->width, "height",
      G_TYPE_INT, c->height, "framerate", GST_TYPE_FRACTION, c->max_fps, 1, "pixel-aspect-ratio",
      GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set (appsrc, "caps", video_caps, "is-live", TRUE, "format", GST_FORMAT_TIME,
                "do-timestamp", FALSE, "min-latency", (gint64) upstream_latency,
                "max-latency", (gint64) upstream_latency, "max-bytes", (guint64) 0,
                "block", FALSE, NULL);
  /* Fragments keep a killed recording playable up to its last complete fragment. The
   * muxer's own latency stays small: every second it holds back is a second a crash
   * loses. When the variable-rate video has nothing new, the muxer times out and writes
   * audio alone; each track's fragments carry their own decode times. */
  g_object_set (mux, "fragment-duration", (guint) c->fragment_ms, "latency",
                (guint64) (200 * GST_MSECOND), NULL);
  /* Unbuffered: each fragment reaches the kernel as the muxer closes it, so a killed
   * process leaves every complete fragment in the file (filesink's default 64 KiB stdio
   * buffer would hold seconds of a quiet call back). */
  g_object_set (sink, "location", rec->output_path, "sync", FALSE, "async", FALSE, NULL);
  gst_util_set_object_arg (G_OBJECT (sink), "buffer-mode", "unbuffered");

  if (!gst_element_link_many (silence, mixer, acaps, aconv, aac, aqueue, NULL) ||
      !gst_element_link_pads (aqueue, "src", mux, "audio_%u") ||
      !gst_element_link_pads (vqueue, "src", mux, "video_%u") ||
      !gst_element_link (mux, sink)) {
    g_set_error (error, PL_ERROR, PL_ERROR_PIPELINE, "could not link the output path");
    return FALSE;
  }

  g_autoptr (GstPad) file_pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (file_pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                     file_probe, rec, NULL);
  rec->mixer = mixer;
  rec->audio_head = acaps;
  rec->encoder = pl_encoder_new (bin, appsrc, vqueue, c, error);
  if (!rec->encoder)
    return FALSE;
  rec->filesink = sink;
  rec->sw = pl_video_switch_new (GST_APP_SRC (appsrc), c);
  return TRUE;
}

/* ---- bus ---- */

static PlTrack *
track_of_object (PlRecording *rec, GstObject *object)
{
  GHashTableIter iter;
  PlTrack *track;
  g_hash_table_iter_init (&iter, rec->tracks);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &track))
    if (object == GST_OBJECT (track->bin) || gst_object_has_as_ancestor (object, GST_OBJECT (track->bin)))
      return track;
  return NULL;
}

static void
update_speaking (PlRecording *rec, PlTrack *track, const GstStructure *s)
{
  const GValue *rms = gst_structure_get_value (s, "rms");
  if (!rms || !GST_VALUE_HOLDS_ARRAY (rms))
    return;
  double loudest = -200;
  for (guint i = 0; i < gst_value_array_get_size (rms); i++)
    loudest = MAX (loudest, g_value_get_double (gst_value_array_get_value (rms, i)));
  gint64 now = g_get_monotonic_time ();
  if (loudest > SPEAKING_THRESHOLD_DB)
    track->last_loud_us = now;
  gboolean speaking = track->last_loud_us && now - track->last_loud_us < SPEAKING_HANG_US;
  if (speaking != track->speaking) {
    track->speaking = speaking;
    rec->card_dirty = TRUE;
  }
}

static gboolean
on_bus_message (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  PlRecording *rec = user_data;
  PlTrack *track = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *debug = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
  case GST_MESSAGE_ELEMENT:
    if (gst_message_has_name (msg, "level")) {
      track = track_of_object (rec, GST_MESSAGE_SRC (msg));
      if (track)
        update_speaking (rec, track, gst_message_get_structure (msg));
    }
    break;
  case GST_MESSAGE_WARNING:
    gst_message_parse_warning (msg, &error, &debug);
    track = track_of_object (rec, GST_MESSAGE_SRC (msg));
    g_warning ("%s %s: %s", track ? "track" : "pipeline", track ? track->id : GST_MESSAGE_SRC_NAME (msg),
               error->message);
    if (rec->callbacks.warning)
      rec->callbacks.warning (rec, error, rec->user_data);
    break;
  case GST_MESSAGE_ERROR:
    gst_message_parse_error (msg, &error, &debug);
    track = track_of_object (rec, GST_MESSAGE_SRC (msg));
    if (track) {
      /* A broken track must not end the recording: drop it and go on with the rest. */
      g_autoptr (GError) warning = g_error_new (PL_ERROR, PL_ERROR_TRACK,
                                                "track %s failed and was removed: %s",
                                                track->id, error->message);
      g_warning ("%s (%s)", warning->message, debug ? debug : "");
      if (rec->callbacks.warning)
        rec->callbacks.warning (rec, warning, rec->user_data);
      pl_recording_remove_track (rec, track->id);
    } else if (rec->state == STATE_RUNNING || rec->state == STATE_STOPPING) {
      g_autoptr (GError) failure = g_error_new (PL_ERROR, PL_ERROR_PIPELINE,
                                                "recording pipeline failed in %s: %s",
                                                GST_MESSAGE_SRC_NAME (msg), error->message);
      g_warning ("%s (%s)", failure->message, debug ? debug : "");
      finish (rec, g_steal_pointer (&failure));
    }
    break;
  case GST_MESSAGE_LATENCY:
    gst_bin_recalculate_latency (GST_BIN (rec->pipeline));
    break;
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- ticks: card, keepalive, keyframe retries, step-down, stop completion ---- */

/* now: the clock's running time (the card's clock text); media_now: the running time that
 * frames arriving now carry, i.e. now minus the jitterbuffer latency. */
static void
render_card (PlRecording *rec, GstClockTime now, GstClockTime media_now, gboolean force)
{
  if (pl_video_switch_share_showing (rec->sw))
    return;
  g_autofree PlCardPerson *people = g_new0 (PlCardPerson, rec->participants->len + 1);
  for (guint i = 0; i < rec->participants->len; i++) {
    Participant *p = g_ptr_array_index (rec->participants, i);
    people[i].name = p->name;
    GHashTableIter iter;
    PlTrack *track;
    g_hash_table_iter_init (&iter, rec->tracks);
    while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &track))
      if (track->kind == PL_TRACK_VOICE && track->speaking &&
          g_strcmp0 (track->participant_id, p->id) == 0)
        people[i].speaking = TRUE;
  }
  GstBuffer *frame = pl_card_render (rec->card, (guint) (now / GST_SECOND), people,
                                     rec->participants->len, force);
  if (frame) {
    /* Shares are stamped with their arrival time, which trails "now" by the jitterbuffer
     * latency; stamp the card the same way so switching between them stays smooth. */
    GstClockTime pts = media_now;
    /* ...except right after a share ended: its last frames are still in flight, and the
     * card must not cover them. */
    if (GST_CLOCK_TIME_IS_VALID (rec->card_not_before) && pts < rec->card_not_before)
      pts = rec->card_not_before;
    pl_video_switch_push_card (rec->sw, frame, pts);
  }
}

/* Falling behind real time: first a faster x264 preset, then half the frame rate, down
 * to MIN_STEP_DOWN_FPS. Logged either way. */
void
pl_recording_step_down (PlRecording *rec, const char *why)
{
  const char *from = pl_encoder_get_preset (rec->encoder);
  if (pl_encoder_step_down (rec->encoder)) {
    g_warning ("%s: switching x264 from %s to a faster preset", why, from);
    return;
  }
  int fps = pl_video_switch_get_max_fps (rec->sw);
  if (fps > MIN_STEP_DOWN_FPS) {
    int lower = MAX (MIN_STEP_DOWN_FPS, fps / 2);
    g_warning ("%s: lowering the frame rate from %d to %d fps (x264 already at %s)", why, fps,
               lower, from);
    pl_video_switch_set_max_fps (rec->sw, lower);
  }
}

static void
check_encoder (PlRecording *rec)
{
  int fps = pl_video_switch_get_max_fps (rec->sw);
  guint backlog = pl_video_switch_backlog (rec->sw);
  if (backlog < MAX (2, (guint) (fps * BEHIND_BACKLOG_S))) {
    rec->behind_checks = 0;
    return;
  }
  if (++rec->behind_checks < BEHIND_CHECKS)
    return;
  rec->behind_checks = 0;
  g_autofree char *why = g_strdup_printf ("encoder is behind real time (%u frames queued)",
                                          backlog);
  pl_recording_step_down (rec, why);
}

static gboolean
on_tick (gpointer user_data)
{
  PlRecording *rec = user_data;
  if (rec->state == STATE_STOPPING) {
    if (g_atomic_int_get (&rec->eos_at_file))
      finish (rec, NULL);
    return G_SOURCE_CONTINUE;
  }
  if (rec->state != STATE_RUNNING)
    return G_SOURCE_CONTINUE;
  GstClockTime now = running_time_now (rec);
  if (!GST_CLOCK_TIME_IS_VALID (now))
    return G_SOURCE_CONTINUE;
  rec->ticks++;
  GstClockTime delay = (GstClockTime) rec->config.jitter_latency_ms * GST_MSECOND;
  GstClockTime media_now = now > delay ? now - delay : 0;
  render_card (rec, now, media_now, rec->card_dirty);
  rec->card_dirty = FALSE;
  pl_video_switch_tick (rec->sw, media_now);
  if (rec->ticks % (1000 / TICK_INTERVAL_MS) == 0) {
    if (rec->share)
      pl_share_tick (rec->share);
    check_encoder (rec);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- public API ---- */

PlRecording *
pl_recording_new (const PlConfig *config, const char *output_path,
                  const PlRecordingCallbacks *callbacks, gpointer user_data, GError **error)
{
  g_return_val_if_fail (config != NULL && output_path != NULL, NULL);
  if (!pl_config_validate (config, error))
    return NULL;

  PlRecording *rec = g_new0 (PlRecording, 1);
  pl_config_copy (&rec->config, config);
  rec->output_path = g_strdup (output_path);
  if (callbacks)
    rec->callbacks = *callbacks;
  rec->user_data = user_data;
  rec->context = g_main_context_ref_thread_default ();
  rec->tracks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) track_free);
  rec->participants = g_ptr_array_new_with_free_func ((GDestroyNotify) participant_free);
  rec->pipeline = GST_PIPELINE (gst_pipeline_new ("recording"));
  rec->card = pl_card_new (config->width, config->height, config->title);
  rec->card_not_before = GST_CLOCK_TIME_NONE;

  if (!build_output (rec, error)) {
    pl_recording_free (rec);
    return NULL;
  }
  GstBus *bus = gst_pipeline_get_bus (rec->pipeline);
  rec->bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (rec->bus_source, (GSourceFunc) (void (*) (void)) on_bus_message, rec, NULL);
  g_source_attach (rec->bus_source, rec->context);
  gst_object_unref (bus);
  return rec;
}

void
pl_recording_free (PlRecording *rec)
{
  if (!rec)
    return;
  if (rec->tick_source)
    g_source_destroy (rec->tick_source);
  g_clear_pointer (&rec->tick_source, g_source_unref);
  if (rec->stop_timeout_source)
    g_source_destroy (rec->stop_timeout_source);
  g_clear_pointer (&rec->stop_timeout_source, g_source_unref);
  if (rec->bus_source)
    g_source_destroy (rec->bus_source);
  g_clear_pointer (&rec->bus_source, g_source_unref);
  gst_element_set_state (GST_ELEMENT (rec->pipeline), GST_STATE_NULL);
  g_hash_table_destroy (rec->tracks);
  g_ptr_array_free (rec->participants, TRUE);
  gst_object_unref (rec->pipeline);
  pl_video_switch_free (rec->sw);
  pl_encoder_free (rec->encoder);
  pl_card_free (rec->card);
  g_main_context_unref (rec->context);
  pl_config_clear (&rec->config);
  g_free (rec->output_path);
  g_free (rec);
}

GstPipeline *
pl_recording_get_pipeline (PlRecording *rec)
{
  return rec->pipeline;
}

gboolean
pl_recording_start (PlRecording *rec, GError **error)
{
  g_return_val_if_fail (rec->state == STATE_NEW, FALSE);
  if (gst_element_set_state (GST_ELEMENT (rec->pipeline), GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, PL_ERROR, PL_ERROR_PIPELINE,
                 "could not start the recording pipeline (is %s writable?)", rec->output_path);
    return FALSE;
  }
  rec->state = STATE_RUNNING;
  rec->card_dirty = TRUE;
  rec->tick_source = g_timeout_source_new (TICK_INTERVAL_MS);
  g_source_set_callback (rec->tick_source, on_tick, rec, NULL);
  g_source_attach (rec->tick_source, rec->context);
  g_message ("recording to %s: %dx%d up to %d fps, %d kbps video (x264 %s), %d kbps AAC",
             rec->output_path, rec->config.width, rec->config.height, rec->config.max_fps,
             rec->config.video_kbps, rec->config.x264_preset, rec->config.audio_kbps);
  return TRUE;
}

static gboolean
add_track (PlRecording *rec, PlTrack *track, GError **error)
{
  GstElement *bin = track->bin;
  gst_bin_add (GST_BIN (rec->pipeline), bin);
  if (track->kind == PL_TRACK_VOICE) {
    track->mixer_pad = gst_element_request_pad_simple (rec->mixer, "sink_%u");
    g_autoptr (GstPad) src = gst_element_get_static_pad (bin, "src");
    if (gst_pad_link (src, track->mixer_pad) != GST_PAD_LINK_OK) {
      g_set_error (error, PL_ERROR, PL_ERROR_PIPELINE, "voice %s: could not link to the mixer",
                   track->id);
      gst_element_release_request_pad (rec->mixer, track->mixer_pad);
      gst_bin_remove (GST_BIN (rec->pipeline), bin);
      return FALSE;
    }
  }
  track->sink = gst_element_get_static_pad (bin, "sink");
  /* src pads from webrtcbin appear while playing: bring the branch up to the same state. */
  gst_element_sync_state_with_parent (bin);
  g_hash_table_insert (rec->tracks, track->id, track);
  return TRUE;
}

static gboolean
check_new_track (PlRecording *rec, const char *track_id, GError **error)
{
  if (rec->state == STATE_STOPPING || rec->state == STATE_DONE) {
    g_set_error (error, PL_ERROR, PL_ERROR_TRACK, "track %s: the recording is stopping",
                 track_id);
    return FALSE;
  }
  if (g_hash_table_contains (rec->tracks, track_id)) {
    g_set_error (error, PL_ERROR, PL_ERROR_TRACK, "track %s exists already", track_id);
    return FALSE;
  }
  return TRUE;
}

GstPad *
pl_recording_add_voice (PlRecording *rec, const char *track_id, const char *participant_id,
                        GError **error)
{
  if (!check_new_track (rec, track_id, error))
    return NULL;
  GstElement *bin = pl_voice_bin_new (track_id, error);
  if (!bin)
    return NULL;
  PlTrack *track = g_new0 (PlTrack, 1);
  track->rec = rec;
  track->id = g_strdup (track_id);
  track->participant_id = g_strdup (participant_id);
  track->kind = PL_TRACK_VOICE;
  track->bin = bin;
  if (!add_track (rec, track, error)) {
    track_free (track);
    return NULL;
  }
  g_message ("voice %s (participant %s) added", track_id, participant_id);
  return gst_object_ref (track->sink);
}

GstPad *
pl_recording_add_share (PlRecording *rec, const char *track_id, const char *participant_id,
                        const char *encoding_name, GError **error)
{
  if (!check_new_track (rec, track_id, error))
    return NULL;
  if (rec->share) {
    g_set_error (error, PL_ERROR, PL_ERROR_TRACK,
                 "screen share %s refused: another share is being recorded", track_id);
    return NULL;
  }
  PlShare *share = pl_share_new (track_id, encoding_name, &rec->config, rec->sw, error);
  if (!share)
    return NULL;
  PlTrack *track = g_new0 (PlTrack, 1);
  track->rec = rec;
  track->id = g_strdup (track_id);
  track->participant_id = g_strdup (participant_id);
  track->kind = PL_TRACK_SHARE;
  track->bin = pl_share_get_bin (share);
  track->share = share;
  pl_video_switch_set_share_active (rec->sw, TRUE);
  if (!add_track (rec, track, error)) {
    pl_video_switch_set_share_active (rec->sw, FALSE);
    track_free (track);
    return NULL;
  }
  rec->share = share;
  g_message ("screen share %s (%s, participant %s) added", track_id, encoding_name,
             participant_id);
  return gst_object_ref (track->sink);
}

static GstPadProbeReturn
drop_all_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  return GST_PAD_PROBE_DROP;
}

void
pl_recording_remove_track (PlRecording *rec, const char *track_id)
{
  PlTrack *track = g_hash_table_lookup (rec->tracks, track_id);
  if (!track)
    return;
  /* Whatever feeds us keeps pushing: make its pad swallow data first, so the unlink
   * cannot return NOT_LINKED upstream and fail webrtcbin's whole receive path. */
  g_autoptr (GstPad) peer = gst_pad_get_peer (track->sink);
  if (peer) {
    gst_pad_add_probe (peer, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, drop_all_probe, NULL, NULL);
    gst_pad_unlink (peer, track->sink);
  }
  if (track->share) {
    pl_share_add_stats (track->share, &rec->ended_shares);
    rec->card_not_before = running_time_now (rec);
    pl_video_switch_set_share_active (rec->sw, FALSE);
    rec->share = NULL;
    rec->card_dirty = TRUE;
  }
  gst_element_set_locked_state (track->bin, TRUE);
  gst_element_set_state (track->bin, GST_STATE_NULL);
  if (track->mixer_pad) {
    /* Main context only: the mixer's pad list is not thread-safe in 1.22 (LESSONS.md). */
    g_autoptr (GstPad) src = gst_element_get_static_pad (track->bin, "src");
    gst_pad_unlink (src, track->mixer_pad);
    gst_element_release_request_pad (rec->mixer, track->mixer_pad);
  }
  gst_bin_remove (GST_BIN (rec->pipeline), track->bin);
  g_message ("%s %s removed", track->kind == PL_TRACK_VOICE ? "voice" : "screen share",
             track_id);
  rec->card_dirty = TRUE;
  g_hash_table_remove (rec->tracks, track_id);
}

void
pl_recording_set_participant (PlRecording *rec, const char *participant_id,
                              const char *display_name)
{
  for (guint i = 0; i < rec->participants->len; i++) {
    Participant *p = g_ptr_array_index (rec->participants, i);
    if (g_str_equal (p->id, participant_id)) {
      g_free (p->name);
      p->name = g_strdup (display_name);
      rec->card_dirty = TRUE;
      return;
    }
  }
  Participant *p = g_new0 (Participant, 1);
  p->id = g_strdup (participant_id);
  p->name = g_strdup (display_name);
  g_ptr_array_add (rec->participants, p);
  rec->card_dirty = TRUE;
}

void
pl_recording_remove_participant (PlRecording *rec, const char *participant_id)
{
  for (guint i = 0; i < rec->participants->len; i++) {
    Participant *p = g_ptr_array_index (rec->participants, i);
    if (g_str_equal (p->id, participant_id)) {
      g_ptr_array_remove_index (rec->participants, i);
      rec->card_dirty = TRUE;
      return;
    }
  }
}

double
pl_recording_get_elapsed (PlRecording *rec)
{
  GstClockTime now = running_time_now (rec);
  return GST_CLOCK_TIME_IS_VALID (now) ? (double) now / GST_SECOND : 0.0;
}

void
pl_recording_get_stats (PlRecording *rec, PlStats *stats)
{
  memset (stats, 0, sizeof *stats);
  stats->video_frames_decoded = rec->ended_shares.video_frames_decoded;
  stats->video_frames_unchanged = rec->ended_shares.video_frames_unchanged;
  stats->video_frames_still = rec->ended_shares.video_frames_still;
  stats->keyframe_requests = rec->ended_shares.keyframe_requests;
  pl_video_switch_add_stats (rec->sw, stats);
  if (rec->share)
    pl_share_add_stats (rec->share, stats);
  stats->bytes_written = (guint64) g_atomic_pointer_get (&rec->bytes_written);
  stats->current_preset = g_strdup (pl_encoder_get_preset (rec->encoder));
}

void
pl_stats_clear (PlStats *stats)
{
  g_clear_pointer (&stats->current_preset, g_free);
}

static gboolean
on_stop_timeout (gpointer user_data)
{
  PlRecording *rec = user_data;
  g_clear_pointer (&rec->stop_timeout_source, g_source_unref);
  if (rec->state == STATE_STOPPING) {
    GError *error = g_error_new (PL_ERROR, PL_ERROR_STOP_TIMEOUT,
                                 "the file was not finished within %.1f s of the stop; it "
                                 "plays up to its last complete fragment",
                                 rec->config.stop_timeout_s);
    finish (rec, error);
  }
  return G_SOURCE_REMOVE;
}

/* Takes ownership of error. */
static void
finish (PlRecording *rec, GError *error)
{
  if (rec->state == STATE_DONE) {
    g_clear_error (&error);
    return;
  }
  gboolean was_stopping = rec->state == STATE_STOPPING;
  rec->state = STATE_DONE;
  if (rec->stop_timeout_source) {
    g_source_destroy (rec->stop_timeout_source);
    g_clear_pointer (&rec->stop_timeout_source, g_source_unref);
  }
  gst_element_set_state (GST_ELEMENT (rec->pipeline), GST_STATE_NULL);
  if (!error)
    g_message ("recording finished: %s, %" G_GINT64_FORMAT " bytes", rec->output_path,
               (gint64) g_atomic_pointer_get (&rec->bytes_written));
  if (error && !was_stopping && rec->callbacks.failed)
    rec->callbacks.failed (rec, error, rec->user_data);
  if (was_stopping && rec->callbacks.stopped)
    rec->callbacks.stopped (rec, error, rec->user_data);
  g_clear_error (&error);
}

void
pl_recording_stop (PlRecording *rec)
{
  if (rec->state != STATE_RUNNING) {
    if (rec->state == STATE_NEW) {
      rec->state = STATE_STOPPING;
      finish (rec, g_error_new (PL_ERROR, PL_ERROR_PIPELINE, "stopped before it started"));
    }
    return;
  }
  /* Detach every track first: nothing decodes for a file that is being closed, and the
   * EOS that ends the mixer must not flow back as a flow error into webrtcbin, where it
   * stops the ICE sources while packets keep arriving. */
  GList *ids = g_hash_table_get_keys (rec->tracks);
  for (GList *l = ids; l; l = l->next) {
    g_autofree char *id = g_strdup (l->data);
    pl_recording_remove_track (rec, id);
  }
  g_list_free (ids);
  rec->state = STATE_STOPPING;
  g_message ("stopping: finishing %s", rec->output_path);
  pl_video_switch_end (rec->sw);
  /* The mixer is force-live, so EOS on its inputs would not end it: end the audio right
   * after it instead (LESSONS.md). */
  gst_element_send_event (rec->audio_head, gst_event_new_eos ());
  rec->stop_timeout_source = g_timeout_source_new ((guint) (rec->config.stop_timeout_s * 1000));
  g_source_set_callback (rec->stop_timeout_source, on_stop_timeout, rec, NULL);
  g_source_attach (rec->stop_timeout_source, rec->context);
}
