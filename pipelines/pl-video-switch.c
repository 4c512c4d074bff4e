/* SPDX-License-Identifier: MIT */
/* Picks what the encoder sees and how often. This is where "encode only what changed"
 * happens: identical share frames never get here (pl-share.c drops them), the card is
 * drawn only when it changes, and this switch forwards what is left as variable frame
 * rate video, at most max_fps, repeating the last frame once a second as a keepalive. */
#include "pl-private.h"

/* Nothing new for this long: send the last frame again. The muxer writes a track only as
 * far as its next sample, so this bounds how far the file trails the call (and so how
 * much a crash loses) when the picture is static. A repeat is a tiny skip frame in the
 * file but not free to make: x264 still analyses the whole picture, ~7 ms at 1080p here.
 * Once a second, a SIGKILL lost 0.3-1.3 s of a 1080p slide recording (x264 encodes each
 * frame as it comes, see pl-recording.c; it used to hold one back, and twice a second was
 * needed then). */
#define KEEPALIVE_INTERVAL (1000 * GST_MSECOND)
#define RATE_BURST 2.0

struct _PlVideoSwitch {
  GstAppSrc *appsrc; /* owned by the pipeline; thread-safe */
  guint max_backlog;

  /* Protects every field below. Taken by the share's streaming thread and the main
   * context; never held while calling into GStreamer except gst_app_src_push_buffer,
   * which only queues. */
  GMutex lock;
  gboolean share_active;  /* a share branch exists */
  gboolean share_showing; /* ... and has produced a frame since it became active */
  int max_fps;
  GstBuffer *last;         /* last frame pushed, for the keepalive */
  GstClockTime last_pts;   /* pts of the last push */
  /* The keepalive is timed on the tick's clock, not on frame timestamps: share frames
   * carry their sender's timing (rtpbin's lip-sync offsets move them), which can run
   * ahead of the tick's media time by more than the keepalive interval. */
  GstClockTime media_now;     /* as of the last tick */
  GstClockTime last_push_at;  /* media_now when the last frame was pushed */
  GstBuffer *pending;      /* newest frame held back by the rate limit */
  GstClockTime pending_pts;
  /* Rate limit as a credit of frames (at most RATE_BURST), refilled at max_fps: frames
   * that arrive with network jitter (30 ms, 36 ms, …) all pass, while the average stays at
   * max_fps. A minimum spacing would drop every other frame of a 30 fps share. */
  double credit;
  GstClockTime credit_pts;
  gboolean ended;
  guint64 frames_in;
  guint64 frames_encoded;
  guint64 frames_rate_limited;
  guint64 frames_dropped_backlog;
};

PlVideoSwitch *
pl_video_switch_new (GstAppSrc *appsrc, const PlConfig *config)
{
  PlVideoSwitch *sw = g_new0 (PlVideoSwitch, 1);
  sw->appsrc = appsrc;
  sw->max_fps = config->max_fps;
  /* Half a second of frames in front of the encoder at most (a 1080p frame is 3 MB):
   * past that frames are dropped, and pl-recording.c steps the encoder down well before. */
  sw->max_backlog = MAX (4, config->max_fps / 2);
  sw->last_pts = GST_CLOCK_TIME_NONE;
  sw->pending_pts = GST_CLOCK_TIME_NONE;
  sw->media_now = GST_CLOCK_TIME_NONE;
  sw->last_push_at = GST_CLOCK_TIME_NONE;
  sw->credit = RATE_BURST;
  sw->credit_pts = GST_CLOCK_TIME_NONE;
  g_mutex_init (&sw->lock);
  return sw;
}

void
pl_video_switch_free (PlVideoSwitch *sw)
{
  if (!sw)
    return;
  gst_clear_buffer (&sw->last);
  gst_clear_buffer (&sw->pending);
  g_mutex_clear (&sw->lock);
  g_free (sw);
}

/* Called with the lock held. Takes ownership of frame. */
static void
push_locked (PlVideoSwitch *sw, GstBuffer *frame, GstClockTime pts)
{
  if (sw->ended) {
    gst_buffer_unref (frame);
    return;
  }
  /* The card and a share are timed on slightly different clocks (now vs. arrival);
   * the encoder needs strictly increasing timestamps. */
  if (GST_CLOCK_TIME_IS_VALID (sw->last_pts) && pts <= sw->last_pts)
    pts = sw->last_pts + GST_MSECOND;

  if (gst_app_src_get_current_level_buffers (sw->appsrc) >= sw->max_backlog) {
    sw->frames_dropped_backlog++;
    gst_buffer_unref (frame);
    return;
  }
  gst_buffer_replace (&sw->last, frame);
  sw->last_pts = pts;
  sw->last_push_at = sw->media_now;
  frame = gst_buffer_make_writable (frame);
  GST_BUFFER_PTS (frame) = pts;
  GST_BUFFER_DTS (frame) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (frame) = GST_CLOCK_TIME_NONE;
  sw->frames_encoded++;
  gst_app_src_push_buffer (sw->appsrc, frame);
}

/* Called with the lock held: credit available at pts. */
static double
credit_at_locked (PlVideoSwitch *sw, GstClockTime pts)
{
  if (!GST_CLOCK_TIME_IS_VALID (sw->credit_pts) || pts <= sw->credit_pts)
    return sw->credit;
  double refill = (double) (pts - sw->credit_pts) / GST_SECOND * sw->max_fps;
  return MIN (RATE_BURST, sw->credit + refill);
}

/* Called with the lock held. Takes ownership of frame. */
static void
spend_and_push_locked (PlVideoSwitch *sw, GstBuffer *frame, GstClockTime pts)
{
  sw->credit = credit_at_locked (sw, pts) - 1.0;
  sw->credit_pts = MAX (pts, GST_CLOCK_TIME_IS_VALID (sw->credit_pts) ? sw->credit_pts : 0);
  push_locked (sw, frame, pts);
}

/* Called with the lock held. Takes ownership of frame. */
static void
offer_locked (PlVideoSwitch *sw, GstBuffer *frame, GstClockTime pts)
{
  sw->frames_in++;
  /* The held frame goes first if credit has come back: a share at exactly max_fps whose
   * frame came a little early is then delayed, not dropped for its successor. */
  if (sw->pending && credit_at_locked (sw, pts) >= 1.0) {
    GstBuffer *held = g_steal_pointer (&sw->pending);
    spend_and_push_locked (sw, held, sw->pending_pts);
  }
  if (sw->pending) {
    /* A newer frame makes the held one pointless. */
    sw->frames_rate_limited++;
    gst_clear_buffer (&sw->pending);
  }
  if (credit_at_locked (sw, pts) < 1.0) {
    /* Too soon: keep only the newest such frame; tick() sends it when credit returns. */
    sw->pending = frame;
    sw->pending_pts = pts;
    return;
  }
  spend_and_push_locked (sw, frame, pts);
}

void
pl_video_switch_push_card (PlVideoSwitch *sw, GstBuffer *frame, GstClockTime running_time)
{
  g_mutex_lock (&sw->lock);
  if (sw->share_showing)
    gst_buffer_unref (frame);
  else
    offer_locked (sw, frame, running_time);
  g_mutex_unlock (&sw->lock);
}

void
pl_video_switch_push_share (PlVideoSwitch *sw, GstBuffer *frame, GstClockTime running_time)
{
  g_mutex_lock (&sw->lock);
  if (!sw->share_active) {
    gst_buffer_unref (frame);
  } else {
    sw->share_showing = TRUE;
    offer_locked (sw, frame, running_time);
  }
  g_mutex_unlock (&sw->lock);
}

void
pl_video_switch_set_share_active (PlVideoSwitch *sw, gboolean active)
{
  g_mutex_lock (&sw->lock);
  sw->share_active = active;
  if (!active) {
    sw->share_showing = FALSE;
    gst_clear_buffer (&sw->pending);
  }
  g_mutex_unlock (&sw->lock);
}

gboolean
pl_video_switch_share_showing (PlVideoSwitch *sw)
{
  g_mutex_lock (&sw->lock);
  gboolean showing = sw->share_showing;
  g_mutex_unlock (&sw->lock);
  return showing;
}

void
pl_video_switch_tick (PlVideoSwitch *sw, GstClockTime media_now)
{
  g_mutex_lock (&sw->lock);
  sw->media_now = media_now;
  if (sw->pending && credit_at_locked (sw, media_now) >= 1.0) {
    GstBuffer *frame = g_steal_pointer (&sw->pending);
    /* Stamped no earlier than its slot, so the average rate holds. */
    spend_and_push_locked (sw, frame, MAX (sw->pending_pts, media_now));
  } else if (sw->last && GST_CLOCK_TIME_IS_VALID (sw->last_pts) &&
             (!GST_CLOCK_TIME_IS_VALID (sw->last_push_at) ||
              media_now >= sw->last_push_at + KEEPALIVE_INTERVAL)) {
    GstClockTime since = GST_CLOCK_TIME_IS_VALID (sw->last_push_at)
                             ? media_now - sw->last_push_at
                             : KEEPALIVE_INTERVAL;
    push_locked (sw, gst_buffer_ref (sw->last), sw->last_pts + since);
  }
  g_mutex_unlock (&sw->lock);
}

void
pl_video_switch_set_max_fps (PlVideoSwitch *sw, int max_fps)
{
  g_mutex_lock (&sw->lock);
  sw->max_fps = CLAMP (max_fps, 1, 60);
  g_mutex_unlock (&sw->lock);
}

int
pl_video_switch_get_max_fps (PlVideoSwitch *sw)
{
  g_mutex_lock (&sw->lock);
  int fps = sw->max_fps;
  g_mutex_unlock (&sw->lock);
  return fps;
}

guint
pl_video_switch_backlog (PlVideoSwitch *sw)
{
  return (guint) gst_app_src_get_current_level_buffers (sw->appsrc);
}

void
pl_video_switch_end (PlVideoSwitch *sw)
{
  g_mutex_lock (&sw->lock);
  if (sw->pending) {
    GstBuffer *frame = g_steal_pointer (&sw->pending);
    push_locked (sw, frame, sw->pending_pts);
  }
  sw->ended = TRUE;
  g_mutex_unlock (&sw->lock);
  gst_app_src_end_of_stream (sw->appsrc);
}

void
pl_video_switch_add_stats (PlVideoSwitch *sw, PlStats *stats)
{
  g_mutex_lock (&sw->lock);
  stats->video_frames_in += sw->frames_in;
  stats->video_frames_encoded += sw->frames_encoded;
  stats->video_frames_rate_limited += sw->frames_rate_limited;
  stats->video_frames_dropped += sw->frames_dropped_backlog;
  stats->current_max_fps = sw->max_fps;
  g_mutex_unlock (&sw->lock);
}
