/* SPDX-License-Identifier: MIT */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Sets up a webrtcbin's ICE agent before it gathers: no UPnP (libnice would otherwise
 * announce itself with SSDP multicast on every interface), and, when address is not NULL,
 * only that local address (libnice finds nothing on a host that has only lo, and tests
 * must stay on 127.0.0.1). */
void rec_ice_configure (GstElement *webrtc, const char *address);

G_END_DECLS
