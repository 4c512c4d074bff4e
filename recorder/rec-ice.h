/* SPDX-License-Identifier: MIT */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Sets up a webrtcbin's ICE agent before it gathers: no UPnP (libnice would otherwise
 * announce itself with SSDP multicast on every interface), and, when address is not NULL,
 * only that local address (libnice finds nothing on a host that has only lo, and tests
 * must stay on 127.0.0.1). */
/* tcp_only: gather and use ICE-TCP candidates only (RFC 6544), for networks that block
 * UDP; the SFU answers on the same port over TCP. */
void rec_ice_configure (GstElement *webrtc, const char *address, gboolean tcp_only);

/* A local candidate, delivered on the owner's main context: send it as an "ice" message
 * built by rec_ice_candidate_message. */
typedef void (*RecIceCandidateFunc) (gpointer owner, guint mline, const char *candidate);
/* webrtcbin's on-ice-candidate runs on its own thread: this posts the candidate to
 * owner (a CrOwner, see cr-hop.h), unless it is closed by then. */
void rec_ice_post_candidate (gpointer owner, guint mline, const char *candidate,
                             RecIceCandidateFunc func);
/* {"candidate", "sdp_mline_index"} (transfer full). */
JsonObject *rec_ice_candidate_message (guint mline, const char *candidate);

G_END_DECLS
