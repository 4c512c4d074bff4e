/* SPDX-License-Identifier: MIT */
#pragma once

#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS

/* What every webrtcbin test client does the same way (test-sfu-webrtc.c, test-calls-media.c):
 * ICE on loopback, waiting on webrtcbin's promises, SDP from text. */

/* libnice gathers nothing on lo by itself: add 127.0.0.1, no UPnP, and consent checks as
 * Binding requests (RFC 7675; libnice's default keepalives are indications, which the SFU
 * does not count). */
void webrtc_client_configure_ice (GstElement *webrtc);

/* The description in @field of @promise's reply (create-offer / create-answer), asserted;
 * logs webrtcbin's error when there is none. Takes @promise. (transfer full) */
GstWebRTCSessionDescription *webrtc_client_promise_sdp (GstPromise *promise, const char *field);

/* Emits @signal ("set-local-description" / "set-remote-description") and waits for it. */
void webrtc_client_set_description (GstElement *webrtc, const char *signal,
                                    GstWebRTCSessionDescription *desc);

/* (transfer full) @text parsed (asserted) as an SDP of @type. */
GstWebRTCSessionDescription *webrtc_client_sdp_from_text (GstWebRTCSDPType type,
                                                          const char *text);

G_END_DECLS
