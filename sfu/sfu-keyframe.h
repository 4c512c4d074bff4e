/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Keyframe requests (PLI/FIR) toward one source, at most one per interval. Every receiver
 * of a source can ask, and a keyframe costs the sender a burst of bandwidth and the
 * receivers a quality dip, so N receivers (or one flooding receiver) must not turn into N
 * keyframes. A request that is throttled is not forgotten: it leaves one request pending,
 * sent when the interval has passed (sfu_keyframe_throttle_due), unless a keyframe from
 * the source arrives first and serves it.
 *
 * One throttle per source (sender SSRC). No allocation, no threads: the forwarding thread
 * that owns the source owns its throttle. */

#define SFU_KEYFRAME_THROTTLE_DEFAULT_US G_USEC_PER_SEC

typedef struct {
  guint64 requested;   /* calls to sfu_keyframe_throttle_allow */
  guint64 sent;        /* requests let through, immediately or when due */
  guint64 throttled;   /* requests held back (each leaves at most one pending) */
  guint64 served;      /* pending requests served by a keyframe that came anyway */
} SfuKeyframeStats;

typedef struct {
  gint64 interval_us;
  gint64 last_sent_us; /* valid when sent_any */
  gboolean sent_any;
  gboolean pending;    /* a throttled request waits for the interval to pass */
  SfuKeyframeStats stats;
} SfuKeyframeThrottle;

/* @interval_us: minimum time between two requests; 0 means the default (1 s). */
void sfu_keyframe_throttle_init (SfuKeyframeThrottle *throttle, gint64 interval_us);

/* A receiver (or the SFU itself, on a source switch) wants a keyframe. TRUE: send the
 * request now. FALSE: one went out less than an interval ago; the request is now pending. */
gboolean sfu_keyframe_throttle_allow (SfuKeyframeThrottle *throttle, gint64 now_us);

/* TRUE once, when a pending request may go out now: send it. Call it from a timer set to
 * sfu_keyframe_throttle_due_at, or on each packet from the source. */
gboolean sfu_keyframe_throttle_due (SfuKeyframeThrottle *throttle, gint64 now_us);

/* When sfu_keyframe_throttle_due turns TRUE, or -1 when nothing is pending. */
gint64 sfu_keyframe_throttle_due_at (const SfuKeyframeThrottle *throttle);

/* A keyframe arrived from the source: every request made before it is served, so a pending
 * one is dropped. */
void sfu_keyframe_throttle_keyframe_seen (SfuKeyframeThrottle *throttle);

G_END_DECLS
