/* SPDX-License-Identifier: MIT */
/* Shared pieces of the webrtcbin test clients; see webrtc-client.h. */
#include "webrtc-client.h"

#include <gst/sdp/sdp.h>
#include <nice/agent.h>

void
webrtc_client_configure_ice (GstElement *webrtc)
{
  GstWebRTCICE *ice = NULL;
  NiceAgent *agent = NULL;
  NiceAddress addr;

  g_object_get (webrtc, "ice-agent", &ice, NULL);
  g_assert_nonnull (ice);
  g_object_get (ice, "agent", &agent, NULL);
  g_assert_nonnull (agent);
  g_object_set (agent, "upnp", FALSE, "keepalive-conncheck", TRUE, NULL);
  nice_address_init (&addr);
  g_assert_true (nice_address_set_from_string (&addr, "127.0.0.1"));
  nice_agent_add_local_address (agent, &addr);
  g_object_unref (agent);
  gst_object_unref (ice);
}

GstWebRTCSessionDescription *
webrtc_client_promise_sdp (GstPromise *promise, const char *field)
{
  GstWebRTCSessionDescription *desc = NULL;
  const GstStructure *reply;

  g_assert_cmpint (gst_promise_wait (promise), ==, GST_PROMISE_RESULT_REPLIED);
  reply = gst_promise_get_reply (promise);
  gst_structure_get (reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
  if (!desc) {
    g_autoptr (GError) error = NULL;
    gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
    g_test_message ("no %s: %s", field, error ? error->message : "?");
  }
  gst_promise_unref (promise);
  g_assert_nonnull (desc);
  return desc;
}

void
webrtc_client_set_description (GstElement *webrtc, const char *signal,
                               GstWebRTCSessionDescription *desc)
{
  GstPromise *promise = gst_promise_new ();

  g_signal_emit_by_name (webrtc, signal, desc, promise);
  gst_promise_wait (promise);
  gst_promise_unref (promise);
}

GstWebRTCSessionDescription *
webrtc_client_sdp_from_text (GstWebRTCSDPType type, const char *text)
{
  GstSDPMessage *msg = NULL;

  g_assert_cmpint (gst_sdp_message_new_from_text (text, &msg), ==, GST_SDP_OK);
  return gst_webrtc_session_description_new (type, msg);
}
