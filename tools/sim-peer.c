/* SPDX-License-Identifier: MIT */
#include "sim-peer.h"
#include "cr-hop.h"
#include "rec-ice.h"

#include <gst/sdp/sdp.h>

typedef struct {
  GstPad *sink; /* the webrtcbin request pad */
  GstWebRTCRTPTransceiver *transceiver;
} Track;

struct _SimPeer {
  CrOwner owner; /* webrtcbin's callbacks hop to the main context through it */
  GstPipeline *pipeline;
  char *id;
  SimPeerSendFunc send;
  gpointer user_data;
  GstElement *webrtc;
  GPtrArray *tracks; /* Track*: the active m-lines, whose caps an offer waits for */
  GMutex sinks_lock;
  GPtrArray *sinks; /* GstElement*: a fakesink per received stream (webrtcbin's threads) */
  /* main context only */
  gboolean offered;     /* a first offer went out */
  gboolean negotiating; /* an offer is out, no answer yet */
  gboolean renegotiate; /* something changed during a negotiation */
  gboolean connected;
  gboolean answering_first; /* the remote's offer being answered was the first one */
};

/* --ice-tcp-only: every peer of this process uses ICE over TCP only. */
static gboolean ice_tcp_only;

void
sim_peer_set_tcp_only (gboolean tcp_only)
{
  ice_tcp_only = tcp_only;
}

static void
track_free (gpointer data)
{
  Track *t = data;
  gst_clear_object (&t->sink);
  gst_clear_object (&t->transceiver);
  g_free (t);
}

static void
finalize (gpointer data)
{
  SimPeer *peer = data;
  g_ptr_array_unref (peer->tracks);
  g_ptr_array_unref (peer->sinks);
  g_mutex_clear (&peer->sinks_lock);
  g_free (peer->id);
  g_free (peer);
}

static void
hop (SimPeer *peer, void (*func) (SimPeer *, gpointer), gpointer data, GDestroyNotify destroy)
{
  cr_hop (peer, (CrHopFunc) (void (*) (void)) func, data, destroy);
}

static void
send_message (SimPeer *peer, const char *type, JsonObject *data)
{
  json_object_set_string_member (data, "conn", peer->id);
  peer->send (peer, type, data, peer->user_data);
}

/* ---- negotiation (we offer) ---- */

static void
offer_ready (SimPeer *peer, gpointer data)
{
  JsonObject *msg = json_object_new ();
  json_object_set_string_member (msg, "sdp_type", "offer");
  json_object_set_string_member (msg, "sdp", data);
  send_message (peer, "sdp", msg);
  json_object_unref (msg);
}

static void
on_offer_created (GstPromise *promise, gpointer user_data)
{
  SimPeer *peer = user_data;
  GstWebRTCSessionDescription *offer = NULL;
  const GstStructure *reply = gst_promise_get_reply (promise);
  if (reply)
    gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  gst_promise_unref (promise);
  if (!offer) {
    g_warning ("sim %s: could not create an offer", peer->id);
    return;
  }
  g_signal_emit_by_name (peer->webrtc, "set-local-description", offer, NULL);
  hop (peer, offer_ready, gst_sdp_message_as_text (offer->sdp), g_free);
  gst_webrtc_session_description_free (offer);
}

/* webrtcbin writes a track's SSRC into the offer only once caps reached its sink pad;
 * without it the receiver cannot tell bundled streams apart and never exposes them. */
static gboolean
caps_ready (SimPeer *peer)
{
  for (guint i = 0; i < peer->tracks->len; i++) {
    Track *t = g_ptr_array_index (peer->tracks, i);
    g_autoptr (GstCaps) caps = gst_pad_get_current_caps (t->sink);
    if (!caps)
      return FALSE;
  }
  return TRUE;
}

static gboolean
negotiate_later (gpointer user_data)
{
  SimPeer *peer = user_data;
  if (!peer->owner.closed)
    sim_peer_negotiate (peer);
  return G_SOURCE_REMOVE;
}

void
sim_peer_negotiate (SimPeer *peer)
{
  if (peer->negotiating) {
    peer->renegotiate = TRUE;
    return;
  }
  if (!caps_ready (peer)) {
    GSource *retry = g_timeout_source_new (10);
    g_source_set_callback (retry, negotiate_later, cr_owner_ref (peer), cr_owner_unref);
    g_source_attach (retry, peer->owner.context);
    g_source_unref (retry);
    return;
  }
  peer->offered = TRUE;
  peer->negotiating = TRUE;
  peer->renegotiate = FALSE;
  GstPromise *promise = gst_promise_new_with_change_func (on_offer_created,
                                                          cr_owner_ref (peer), cr_owner_unref);
  g_signal_emit_by_name (peer->webrtc, "create-offer", NULL, promise);
}

void
sim_peer_changed (SimPeer *peer)
{
  if (peer->offered)
    sim_peer_negotiate (peer);
}

void
sim_peer_handle_answer (SimPeer *peer, const char *sdp)
{
  GstSDPMessage *msg = NULL;
  if (gst_sdp_message_new_from_text (sdp, &msg) != GST_SDP_OK) {
    g_warning ("sim %s: unparsable answer", peer->id);
    return;
  }
  GstWebRTCSessionDescription *answer =
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, msg);
  g_signal_emit_by_name (peer->webrtc, "set-remote-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
  peer->negotiating = FALSE;
  if (peer->renegotiate)
    sim_peer_negotiate (peer);
}

void
sim_peer_handle_candidate (SimPeer *peer, guint mline, const char *candidate)
{
  if (candidate && *candidate)
    g_signal_emit_by_name (peer->webrtc, "add-ice-candidate", mline, candidate);
}

/* ---- answering the remote's first offer (the recorder offers first toward an SFU) ---- */

static void
answer_ready (SimPeer *peer, gpointer data)
{
  peer->negotiating = FALSE;
  if (data) {
    JsonObject *msg = json_object_new ();
    json_object_set_string_member (msg, "sdp_type", "answer");
    json_object_set_string_member (msg, "sdp", data);
    send_message (peer, "sdp", msg);
    json_object_unref (msg);
  }
  /* After the remote's first offer, our own tracks go in an offer of ours, now that the
   * transport exists; after its later offers, only what changed meanwhile. */
  if (peer->renegotiate || (peer->answering_first && peer->tracks->len > 0))
    sim_peer_negotiate (peer);
  peer->answering_first = FALSE;
}

static void
on_answer_created (GstPromise *promise, gpointer user_data)
{
  SimPeer *peer = user_data;
  GstWebRTCSessionDescription *answer = NULL;
  const GstStructure *reply = gst_promise_get_reply (promise);
  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  gst_promise_unref (promise);
  if (!answer) {
    g_warning ("sim %s: could not create an answer", peer->id);
    hop (peer, answer_ready, NULL, NULL);
    return;
  }
  g_signal_emit_by_name (peer->webrtc, "set-local-description", answer, NULL);
  hop (peer, answer_ready, gst_sdp_message_as_text (answer->sdp), g_free);
  gst_webrtc_session_description_free (answer);
}

static void
on_offer_set (GstPromise *promise, gpointer user_data)
{
  SimPeer *peer = user_data;
  gst_promise_unref (promise);
  GstPromise *next = gst_promise_new_with_change_func (on_answer_created, cr_owner_ref (peer),
                                                       cr_owner_unref);
  g_signal_emit_by_name (peer->webrtc, "create-answer", NULL, next);
}

void
sim_peer_handle_offer (SimPeer *peer, const char *sdp)
{
  GstSDPMessage *msg = NULL;
  if (peer->negotiating || gst_sdp_message_new_from_text (sdp, &msg) != GST_SDP_OK) {
    g_warning ("sim %s: offer refused (%s)", peer->id,
               peer->negotiating ? "a negotiation is in progress" : "unparsable");
    if (msg)
      gst_sdp_message_free (msg);
    return;
  }
  /* Counts as a first negotiation: tracks attached meanwhile are offered afterwards. */
  peer->answering_first = !peer->offered;
  peer->offered = TRUE;
  peer->negotiating = TRUE;
  GstWebRTCSessionDescription *offer =
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, msg);
  GstPromise *promise = gst_promise_new_with_change_func (on_offer_set, cr_owner_ref (peer),
                                                          cr_owner_unref);
  g_signal_emit_by_name (peer->webrtc, "set-remote-description", offer, promise);
  gst_webrtc_session_description_free (offer);
}

/* ---- ICE and connection state, from webrtcbin's threads ---- */

static void
send_candidate (gpointer owner, guint mline, const char *candidate)
{
  JsonObject *msg = rec_ice_candidate_message (mline, candidate);
  send_message (owner, "ice", msg);
  json_object_unref (msg);
}

static void
on_ice_candidate (GstElement *webrtc, guint mline, const char *candidate, gpointer user_data)
{
  rec_ice_post_candidate (user_data, mline, candidate, send_candidate);
}

static void
connection_state (SimPeer *peer, gpointer data)
{
  gboolean connected = GPOINTER_TO_INT (data) == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED;
  if (connected && !peer->connected)
    g_message ("sim %s: connected", peer->id);
  peer->connected = connected;
}

static void
on_connection_state (GObject *webrtc, GParamSpec *pspec, gpointer user_data)
{
  GstWebRTCPeerConnectionState state;
  g_object_get (webrtc, "connection-state", &state, NULL);
  hop (user_data, connection_state, GINT_TO_POINTER (state), NULL);
}

/* ---- what we receive ---- */

/* Through the SFU a sender also receives (the others' voices and share), and every src pad
 * webrtcbin exposes must lead somewhere: an unlinked one returns not-linked up the receive
 * path, which stops the transport's nicesrc for good, and with it all RTCP from the remote.
 * The sharer then never sees another PLI, so a receiver that joins after the share's first
 * keyframe (the recorder) never gets one. Linked here, on webrtcbin's streaming thread,
 * before the first buffer is pushed. */
static void
on_pad_added (GstElement *webrtc, GstPad *pad, gpointer user_data)
{
  SimPeer *peer = user_data;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (peer->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    g_warning ("sim %s: could not link received stream %s", peer->id, GST_PAD_NAME (pad));
  gst_object_unref (sinkpad);
  g_mutex_lock (&peer->sinks_lock);
  g_ptr_array_add (peer->sinks, gst_object_ref (sink));
  g_mutex_unlock (&peer->sinks_lock);
}

/* ---- tracks ---- */

GstWebRTCRTPTransceiver *
sim_peer_attach (SimPeer *peer, GstPad *src, const char *msid, GError **error)
{
  GstPad *sink = gst_element_request_pad_simple (peer->webrtc, "sink_%u");
  if (!sink || gst_pad_link (src, sink) != GST_PAD_LINK_OK) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "sim %s: could not link to webrtcbin",
                 peer->id);
    g_clear_object (&sink);
    return NULL;
  }
  Track *t = g_new0 (Track, 1);
  t->sink = sink;
  g_object_get (sink, "transceiver", &t->transceiver, NULL);
  if (t->transceiver)
    g_object_set (t->transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                  NULL);
  /* The recorder takes a track's participant from the msid stream id. */
  g_object_set (sink, "msid", msid, NULL);
  g_ptr_array_add (peer->tracks, t);
  return t->transceiver ? g_object_ref (t->transceiver) : NULL;
}

void
sim_peer_detach (SimPeer *peer, GstWebRTCRTPTransceiver *transceiver)
{
  if (!transceiver)
    return;
  for (guint i = 0; i < peer->tracks->len; i++) {
    Track *t = g_ptr_array_index (peer->tracks, i);
    if (t->transceiver == transceiver) {
      g_object_set (transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE,
                    NULL);
      g_ptr_array_remove_index (peer->tracks, i);
      return;
    }
  }
}

/* ---- lifecycle ---- */

SimPeer *
sim_peer_new (GstPipeline *pipeline, const char *id, SimPeerSendFunc send, gpointer user_data,
              GError **error)
{
  /* Unnamed: several peers share an id when one sim feeds several recorders. */
  GstElement *webrtc = gst_element_factory_make ("webrtcbin", NULL);
  if (!webrtc) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "webrtcbin is missing");
    return NULL;
  }
  SimPeer *peer = g_new0 (SimPeer, 1);
  cr_owner_init (&peer->owner, finalize);
  peer->pipeline = pipeline;
  peer->id = g_strdup (id);
  peer->send = send;
  peer->user_data = user_data;
  peer->tracks = g_ptr_array_new_with_free_func (track_free);
  g_mutex_init (&peer->sinks_lock);
  peer->sinks = g_ptr_array_new_with_free_func (gst_object_unref);
  peer->webrtc = webrtc;
  gst_util_set_object_arg (G_OBJECT (webrtc), "bundle-policy", "max-bundle");
  /* Sender reports map RTP time to the media's capture time, as browsers do. rtpbin's
   * default maps it to the send time, which for video comes after the encoder: a 1080p
   * VP8 frame that took 100 ms to encode made the receiver's lip-sync hold the audio back
   * 100 ms, and the recorded beep trailed its flash by that much. */
  GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (webrtc), "rtpbin");
  if (rtpbin) {
    g_object_set (rtpbin, "rtcp-sync-send-time", FALSE, NULL);
    gst_object_unref (rtpbin);
  }
  /* The sim is loopback only. */
  rec_ice_configure (webrtc, "127.0.0.1", ice_tcp_only);
  g_signal_connect (webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), peer);
  g_signal_connect (webrtc, "notify::connection-state", G_CALLBACK (on_connection_state), peer);
  g_signal_connect (webrtc, "pad-added", G_CALLBACK (on_pad_added), peer);
  /* webrtcbin must be playing before sources feed it: a live source that meets a
   * flushing pad stops for good. */
  gst_bin_add (GST_BIN (pipeline), webrtc);
  gst_element_sync_state_with_parent (webrtc);
  return peer;
}

const char *
sim_peer_get_id (SimPeer *peer)
{
  return peer->id;
}

gboolean
sim_peer_is_connected (SimPeer *peer)
{
  return peer->connected;
}

void
sim_peer_free (SimPeer *peer)
{
  if (!peer)
    return;
  peer->owner.closed = TRUE;
  g_ptr_array_set_size (peer->tracks, 0);
  g_signal_handlers_disconnect_by_data (peer->webrtc, peer);
  gst_element_set_locked_state (peer->webrtc, TRUE);
  gst_element_set_state (peer->webrtc, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (peer->pipeline), peer->webrtc);
  /* webrtcbin is stopped: no pad-added any more. */
  for (guint i = 0; i < peer->sinks->len; i++) {
    GstElement *sink = g_ptr_array_index (peer->sinks, i);
    gst_element_set_locked_state (sink, TRUE);
    gst_element_set_state (sink, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (peer->pipeline), sink);
  }
  g_ptr_array_set_size (peer->sinks, 0);
  cr_owner_close (peer);
}
