/* SPDX-License-Identifier: MIT */
#include "rec-ice.h"
#include "cr-hop.h"

#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

void
rec_ice_configure (GstElement *webrtc, const char *address, gboolean tcp_only)
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
  if (tcp_only)
    g_object_set (ice, "ice-udp", FALSE, "ice-tcp", TRUE, NULL);
  g_object_unref (agent);
  gst_object_unref (ice);
}

typedef struct {
  RecIceCandidateFunc func;
  guint mline;
  char *candidate;
} Candidate;

static void
candidate_free (gpointer data)
{
  Candidate *c = data;
  g_free (c->candidate);
  g_free (c);
}

static void
deliver_candidate (gpointer owner, gpointer data)
{
  Candidate *c = data;
  c->func (owner, c->mline, c->candidate);
}

void
rec_ice_post_candidate (gpointer owner, guint mline, const char *candidate,
                        RecIceCandidateFunc func)
{
  Candidate *c = g_new0 (Candidate, 1);
  c->func = func;
  c->mline = mline;
  c->candidate = g_strdup (candidate);
  cr_hop (owner, deliver_candidate, c, candidate_free);
}

JsonObject *
rec_ice_candidate_message (guint mline, const char *candidate)
{
  JsonObject *msg = json_object_new ();
  json_object_set_string_member (msg, "candidate", candidate);
  json_object_set_int_member (msg, "sdp_mline_index", mline);
  return msg;
}
