/* SPDX-License-Identifier: MIT */
/* Keyframe request throttle; see sfu-keyframe.h. Invariant: pending implies sent_any (a
 * request is only held back because an earlier one went out). */
#include "sfu-keyframe.h"

#include <string.h>

void
sfu_keyframe_throttle_init (SfuKeyframeThrottle *throttle, gint64 interval_us)
{
  g_return_if_fail (throttle != NULL);
  g_return_if_fail (interval_us >= 0);

  memset (throttle, 0, sizeof *throttle);
  throttle->interval_us = interval_us > 0 ? interval_us : SFU_KEYFRAME_THROTTLE_DEFAULT_US;
}

static gboolean
interval_passed (const SfuKeyframeThrottle *t, gint64 now_us)
{
  return !t->sent_any || now_us - t->last_sent_us >= t->interval_us;
}

static void
mark_sent (SfuKeyframeThrottle *t, gint64 now_us)
{
  t->sent_any = TRUE;
  t->last_sent_us = now_us;
  t->pending = FALSE;
  t->stats.sent++;
}

gboolean
sfu_keyframe_throttle_allow (SfuKeyframeThrottle *throttle, gint64 now_us)
{
  g_return_val_if_fail (throttle != NULL, FALSE);

  throttle->stats.requested++;
  if (interval_passed (throttle, now_us)) {
    /* Also serves a pending request. */
    mark_sent (throttle, now_us);
    return TRUE;
  }
  throttle->pending = TRUE;
  throttle->stats.throttled++;
  return FALSE;
}

gboolean
sfu_keyframe_throttle_due (SfuKeyframeThrottle *throttle, gint64 now_us)
{
  g_return_val_if_fail (throttle != NULL, FALSE);

  if (!throttle->pending || !interval_passed (throttle, now_us))
    return FALSE;
  mark_sent (throttle, now_us);
  return TRUE;
}

gint64
sfu_keyframe_throttle_due_at (const SfuKeyframeThrottle *throttle)
{
  g_return_val_if_fail (throttle != NULL, -1);

  if (!throttle->pending)
    return -1;
  return throttle->last_sent_us + throttle->interval_us;
}

void
sfu_keyframe_throttle_keyframe_seen (SfuKeyframeThrottle *throttle)
{
  g_return_if_fail (throttle != NULL);

  if (throttle->pending) {
    throttle->pending = FALSE;
    throttle->stats.served++;
  }
}
