/* SPDX-License-Identifier: MIT */
/* Real VP8 streams for the VP8 decoder's tests, from vp8enc. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* n frames of a videotestsrc pattern, the first a keyframe, with vp8enc's defaults. */
GPtrArray *vp8_stream_pattern (int width, int height, int fps, const char *pattern, int n);

/* The simulated screen share's slides (sim-media.h: a box that jumps every 3 s, identical
 * frames between), encoded as callrec-sim sends them: libvpx's real-time mode, constant
 * bitrate, one keyframe. n frames at fps. */
GPtrArray *vp8_stream_slides (int width, int height, int fps, int n);

G_END_DECLS
