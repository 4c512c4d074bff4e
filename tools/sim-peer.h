/* SPDX-License-Identifier: MIT */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS

/* One sendonly webrtcbin connection (the offerer) toward the recorder. It carries the
 * tracks of one participant (a browser talking to the recorder directly) or of every
 * participant (how an SFU forwards a call to the bot: one connection, one msid stream per
 * participant). Renegotiates whenever a track is attached or goes inactive, one offer at
 * a time. Main context only. */
typedef struct _SimPeer SimPeer;

/* data (transfer none) already holds "conn". */
typedef void (*SimPeerSendFunc) (SimPeer *peer, const char *type, JsonObject *data,
                                 gpointer user_data);

/* ICE over TCP only for the peers created from now on (a client whose UDP is blocked). */
void sim_peer_set_tcp_only (gboolean tcp_only);
SimPeer *sim_peer_new (GstPipeline *pipeline, const char *id, SimPeerSendFunc send,
                       gpointer user_data, GError **error);
/* Removes the connection from the pipeline (the caller tells the other side). */
void sim_peer_free (SimPeer *peer);
const char *sim_peer_get_id (SimPeer *peer);
gboolean sim_peer_is_connected (SimPeer *peer);

/* Links src (a branch's RTP output, already in the pipeline) to a new sendonly m-line
 * whose msid stream is msid. Returns the m-line's transceiver (transfer full). Does not
 * offer: call sim_peer_negotiate() once everything for this change is attached. */
GstWebRTCRTPTransceiver *sim_peer_attach (SimPeer *peer, GstPad *src, const char *msid,
                                          GError **error);
/* The m-line stops (inactive); an m-line is never removed from a session. Does not
 * offer: call sim_peer_changed() once the change is complete. */
void sim_peer_detach (SimPeer *peer, GstWebRTCRTPTransceiver *transceiver);
/* Offers now, or after the negotiation in progress. */
void sim_peer_negotiate (SimPeer *peer);
/* Renegotiates only if a first offer was made already (a change before the first offer
 * is part of it). */
void sim_peer_changed (SimPeer *peer);

void sim_peer_handle_answer (SimPeer *peer, const char *sdp);
/* The remote offered first (a recorder toward an SFU): answer it, then offer our own
 * tracks in a renegotiation. */
void sim_peer_handle_offer (SimPeer *peer, const char *sdp);
void sim_peer_handle_candidate (SimPeer *peer, guint mline, const char *candidate);

G_END_DECLS
