/* SPDX-License-Identifier: MIT */
#include "rec-ice.h"

#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

void
rec_ice_configure (GstElement *webrtc, const char *address)
{
  GstWebRTCICE *ice = NULL;
  NiceAgent *agent = NULL;
  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (ice)
    g_object_get (ice, "agent", &agent, NULL);
  if (!agent) {
    g_warning ("%s: no libnice agent to configure", GST_ELEMENT_NAME (webrtc));
    gst_clear_object (&ice);
    return;
  }
  /* keepalive-conncheck: keepalives as STUN binding requests, which an ICE-lite SFU
   * counts as consent (RFC 7675); libnice's default indications are not, and the SFU
   * closes the session after 30 s without consent. */
  g_object_set (agent, "upnp", FALSE, "keepalive-conncheck", TRUE, NULL);
  if (address) {
    NiceAddress addr;
    nice_address_init (&addr);
    if (nice_address_set_from_string (&addr, address))
      nice_agent_add_local_address (agent, &addr);
    else
      g_warning ("ICE address '%s' is not an IP address; gathering all", address);
  }
  g_object_unref (agent);
  gst_object_unref (ice);
}
