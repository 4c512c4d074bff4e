/* SPDX-License-Identifier: MIT */
#include "rec-peer.h"
#include "cr-hop.h"
#include "rec-ice.h"
#include "rec-offer.h"

#include <gst/sdp/sdp.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

G_DEFINE_QUARK (rec-peer-error-quark, rec_peer_error)

/* What we know of one m-line's incoming media. Main context only. */
typedef struct {
  char *mid;
  char *track_id;     /* set while a recording track is fed from this m-line */
  GstPad *src;        /* webrtcbin's src pad, once it appeared */
  gulong drop_probe;  /* on src while no track is fed */
} MlineState;

struct _RecPeer {
  CrOwner owner;      /* webrtcbin's callbacks hop to the main context through it */
  PlRecording *rec;
  char *id;
  GstElement *webrtc;
  RecPeerSendFunc send;
  gpointer user_data;

  /* Protects offer: read by on-new-transceiver on webrtcbin's thread, which must not read
   * webrtcbin's own remote-description (it deadlocks, LESSONS.md). */
  GMutex lock;
  RecOffer *offer;

  /* Main context only. */
  gboolean negotiating;   /* an offer is being answered, or our offer awaits its answer */
  gboolean awaiting_answer; /* our own offer is out (rec_peer_offer) */
  gboolean adding_own;    /* inside add-transceiver: on-new-transceiver is ours to skip */
  char *queued_offer;     /* the newest offer that arrived during a negotiation */
  GHashTable *mlines;     /* mid → MlineState */
  gboolean connected;
};

static void
mline_state_free (MlineState *m)
{
  g_free (m->mid);
  g_free (m->track_id);
  gst_clear_object (&m->src);
  g_free (m);
}

static void
peer_finalize (gpointer data)
{
  RecPeer *peer = data;
  g_clear_pointer (&peer->offer, rec_offer_free);
  g_mutex_clear (&peer->lock);
  g_hash_table_destroy (peer->mlines);
  g_free (peer->queued_offer);
  g_free (peer->id);
  g_free (peer);
}

/* Runs func on the peer's main context, unless the peer is closed by then. */
static void
hop_to_main (RecPeer *peer, void (*func) (RecPeer *, gpointer), gpointer data,
             GDestroyNotify destroy)
{
  cr_hop (peer, (CrHopFunc) (void (*) (void)) func, data, destroy);
}

static void
send_message (RecPeer *peer, const char *type, JsonObject *data)
{
  json_object_set_string_member (data, "conn", peer->id);
  peer->send (peer, type, data, peer->user_data);
}

/* ---- tracks ---- */

static MlineState *
mline_state (RecPeer *peer, const char *mid)
{
  MlineState *m = g_hash_table_lookup (peer->mlines, mid);
  if (!m) {
    m = g_new0 (MlineState, 1);
    m->mid = g_strdup (mid);
    g_hash_table_insert (peer->mlines, m->mid, m);
  }
  return m;
}

static GstPadProbeReturn
drop_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  return GST_PAD_PROBE_DROP;
}

static gboolean
sends_media (const RecMline *mline)
{
  return !mline->rejected && (mline->direction == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY ||
                              mline->direction == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV);
}

/* Feeds a recording track from the m-line's pad, if it sends something we record. */
static void
start_track (RecPeer *peer, MlineState *m, const RecMline *mline)
{
  if (m->track_id || !m->src || !sends_media (mline)) {
    g_debug ("connection %s: m-line %s: track %s, src %p, sends %d", peer->id, m->mid,
             m->track_id, (void *) m->src, sends_media (mline));
    return;
  }
  const RecCodec *codec = rec_offer_pick_codec (mline);
  if (!codec) {
    g_warning ("connection %s: m-line %s has no codec we record; ignoring its media",
               peer->id, m->mid);
    return;
  }
  g_autofree char *track_id = g_strdup_printf ("%s:%s", peer->id, m->mid);
  const char *participant = mline->msid_stream && *mline->msid_stream ? mline->msid_stream
                                                                       : peer->id;
  g_autoptr (GError) error = NULL;
  g_autoptr (GstPad) sink = NULL;
  if (mline->kind == REC_MEDIA_AUDIO)
    sink = pl_recording_add_voice (peer->rec, track_id, participant, &error);
  else if (mline->kind == REC_MEDIA_VIDEO)
    sink = pl_recording_add_share (peer->rec, track_id, participant, codec->encoding_name,
                                   &error);
  if (!sink) {
    g_warning ("connection %s: m-line %s not recorded: %s", peer->id, m->mid,
               error ? error->message : "not audio or video");
    return;
  }
  if (gst_pad_link (m->src, sink) != GST_PAD_LINK_OK) {
    g_warning ("connection %s: could not link m-line %s", peer->id, m->mid);
    pl_recording_remove_track (peer->rec, track_id);
    return;
  }
  m->track_id = g_steal_pointer (&track_id);
  if (m->drop_probe) {
    gst_pad_remove_probe (m->src, m->drop_probe);
    m->drop_probe = 0;
  }
}

static void
stop_track (RecPeer *peer, MlineState *m)
{
  if (!m->track_id)
    return;
  /* Keep swallowing what webrtcbin still pushes on this pad (an EOS, late packets). */
  if (m->src && !m->drop_probe)
    m->drop_probe = gst_pad_add_probe (m->src, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, drop_probe,
                                       NULL, NULL);
  pl_recording_remove_track (peer->rec, m->track_id);
  g_clear_pointer (&m->track_id, g_free);
}

/* After every negotiation: start what is now sent, stop what no longer is. */
static void
sync_tracks (RecPeer *peer)
{
  GHashTableIter iter;
  MlineState *m;
  g_mutex_lock (&peer->lock);
  RecOffer *offer = peer->offer;
  g_hash_table_iter_init (&iter, peer->mlines);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &m)) {
    const RecMline *mline = NULL;
    for (guint i = 0; offer && i < offer->mlines->len; i++) {
      const RecMline *candidate = g_ptr_array_index (offer->mlines, i);
      if (g_strcmp0 (candidate->mid, m->mid) == 0)
        mline = candidate;
    }
    if (!mline || !sends_media (mline)) {
      if (m->track_id)
        g_message ("connection %s: m-line %s stopped sending", peer->id, m->mid);
      stop_track (peer, m);
    } else {
      start_track (peer, m, mline);
    }
  }
  g_mutex_unlock (&peer->lock);
}

typedef struct {
  GstPad *pad;
  guint mline_index;
  gulong block_probe;
} NewPad;

static void
new_pad_free (gpointer data)
{
  NewPad *np = data;
  gst_object_unref (np->pad);
  g_free (np);
}

static void
on_new_pad_main (RecPeer *peer, gpointer data)
{
  NewPad *np = data;
  g_debug ("connection %s: building the branch for m-line %u", peer->id, np->mline_index);
  g_mutex_lock (&peer->lock);
  const RecMline *mline = peer->offer ? rec_offer_get_mline (peer->offer, np->mline_index) : NULL;
  if (!mline || !mline->mid) {
    g_mutex_unlock (&peer->lock);
    g_warning ("connection %s: media on m-line %u, which the offer does not describe",
               peer->id, np->mline_index);
    gst_pad_add_probe (np->pad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, drop_probe, NULL, NULL);
    gst_pad_remove_probe (np->pad, np->block_probe);
    return;
  }
  MlineState *m = mline_state (peer, mline->mid);
  gst_object_replace ((GstObject **) &m->src, GST_OBJECT (np->pad));
  m->drop_probe = gst_pad_add_probe (np->pad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, drop_probe,
                                     NULL, NULL);
  start_track (peer, m, mline);
  g_mutex_unlock (&peer->lock);
  gst_pad_remove_probe (np->pad, np->block_probe);
}

static GstPadProbeReturn
block_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  return GST_PAD_PROBE_OK;
}

/* webrtcbin's streaming thread: the pad appears when RTP arrives. Hold its data back
 * until the main context has built the branch (mixer pads are requested there only). */
static void
on_pad_added (GstElement *webrtc, GstPad *pad, gpointer user_data)
{
  RecPeer *peer = user_data;
  g_debug ("connection %s: pad %s added", peer->id, GST_PAD_NAME (pad));
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstWebRTCRTPTransceiver *trans = NULL;
  g_object_get (pad, "transceiver", &trans, NULL);
  if (!trans)
    return;
  NewPad *np = g_new0 (NewPad, 1);
  np->pad = gst_object_ref (pad);
  g_object_get (trans, "mlineindex", &np->mline_index, NULL);
  gst_object_unref (trans);
  np->block_probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, block_probe,
                                       NULL, NULL);
  hop_to_main (peer, on_new_pad_main, np, new_pad_free);
}

/* ---- negotiation ---- */

/* webrtcbin's thread, during create-answer: tell the new transceiver what we accept. */
static void
on_new_transceiver (GstElement *webrtc, GstWebRTCRTPTransceiver *trans, gpointer user_data)
{
  RecPeer *peer = user_data;
  /* Our own receive-only transceiver (rec_peer_offer) is set up by its caller; adding_own
   * is only read here because add-transceiver emits this signal synchronously. */
  if (peer->adding_own)
    return;
  guint index = 0;
  g_object_get (trans, "mlineindex", &index, NULL);
  g_mutex_lock (&peer->lock);
  g_autoptr (GstCaps) prefs = peer->offer ? rec_offer_codec_preferences (peer->offer, index)
                                          : NULL;
  const RecMline *mline = peer->offer ? rec_offer_get_mline (peer->offer, index) : NULL;
  g_autofree char *offered = NULL;
  if (mline && mline->codecs->len > 0) {
    GString *names = g_string_new (NULL);
    for (guint i = 0; i < mline->codecs->len; i++) {
      const RecCodec *c = g_ptr_array_index (mline->codecs, i);
      g_string_append_printf (names, "%s%s", i ? " " : "", c->encoding_name);
    }
    offered = g_string_free (names, FALSE);
  }
  g_mutex_unlock (&peer->lock);

  /* NACK is off per transceiver by default in 1.22 (LESSONS.md). */
  g_object_set (trans, "do-nack", TRUE, NULL);
  if (prefs) {
    g_object_set (trans, "codec-preferences", prefs, "direction",
                  GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, NULL);
  } else {
    g_warning ("connection %s: m-line %u offers no codec we record (%s): rejecting it",
               peer->id, index, offered ? offered : "none");
    g_object_set (trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE, NULL);
  }
}

static void process_offer (RecPeer *peer, const char *sdp);

static void
negotiation_done (RecPeer *peer, gpointer data)
{
  char *answer = data;
  if (answer) {
    JsonObject *msg = json_object_new ();
    json_object_set_string_member (msg, "sdp_type", "answer");
    json_object_set_string_member (msg, "sdp", answer);
    send_message (peer, "sdp", msg);
    json_object_unref (msg);
    sync_tracks (peer);
  }
  peer->negotiating = FALSE;
  if (peer->queued_offer) {
    g_autofree char *next = g_steal_pointer (&peer->queued_offer);
    process_offer (peer, next);
  }
}

static gboolean
promise_failed (GstPromise *promise, const char *what, RecPeer *peer)
{
  GstPromiseResult result = gst_promise_wait (promise);
  const GstStructure *reply = gst_promise_get_reply (promise);
  GError *error = NULL;
  if (reply && gst_structure_has_field (reply, "error"))
    gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
  if (result == GST_PROMISE_RESULT_REPLIED && !error)
    return FALSE;
  g_warning ("connection %s: %s failed: %s", peer->id, what,
             error ? error->message : "no reply from webrtcbin");
  g_clear_error (&error);
  return TRUE;
}

static void
on_answer_created (GstPromise *promise, gpointer user_data)
{
  RecPeer *peer = user_data;
  if (promise_failed (promise, "creating the answer", peer)) {
    hop_to_main (peer, negotiation_done, NULL, NULL);
    gst_promise_unref (promise);
    return;
  }
  GstWebRTCSessionDescription *answer = NULL;
  gst_structure_get (gst_promise_get_reply (promise), "answer",
                     GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  gst_promise_unref (promise);
  if (!answer) {
    hop_to_main (peer, negotiation_done, NULL, NULL);
    return;
  }
  g_signal_emit_by_name (peer->webrtc, "set-local-description", answer, NULL);
  char *text = gst_sdp_message_as_text (answer->sdp);
  gst_webrtc_session_description_free (answer);
  hop_to_main (peer, negotiation_done, text, g_free);
}

static void
on_remote_set (GstPromise *promise, gpointer user_data)
{
  RecPeer *peer = user_data;
  if (promise_failed (promise, "applying the offer", peer)) {
    hop_to_main (peer, negotiation_done, NULL, NULL);
    gst_promise_unref (promise);
    return;
  }
  gst_promise_unref (promise);
  GstPromise *next = gst_promise_new_with_change_func (on_answer_created, cr_owner_ref (peer),
                                                       cr_owner_unref);
  g_signal_emit_by_name (peer->webrtc, "create-answer", NULL, next);
}

/* Main context; the offer was validated by rec_peer_handle_offer. */
static void
process_offer (RecPeer *peer, const char *sdp)
{
  g_autoptr (GError) error = NULL;
  RecOffer *offer = rec_offer_parse (sdp, strlen (sdp), &error);
  GstSDPMessage *msg = NULL;
  if (!offer || gst_sdp_message_new_from_text (sdp, &msg) != GST_SDP_OK) {
    g_warning ("connection %s: offer refused: %s", peer->id, error ? error->message : "bad SDP");
    g_clear_pointer (&offer, rec_offer_free);
    return;
  }
  g_mutex_lock (&peer->lock);
  g_clear_pointer (&peer->offer, rec_offer_free);
  peer->offer = offer;
  g_mutex_unlock (&peer->lock);
  peer->negotiating = TRUE;
  GstWebRTCSessionDescription *desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, msg);
  GstPromise *promise = gst_promise_new_with_change_func (on_remote_set, cr_owner_ref (peer),
                                                          cr_owner_unref);
  g_signal_emit_by_name (peer->webrtc, "set-remote-description", desc, promise);
  gst_webrtc_session_description_free (desc);
}

gboolean
rec_peer_handle_offer (RecPeer *peer, const char *sdp, GError **error)
{
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (RecOffer) offer = rec_offer_parse (sdp, strlen (sdp), &parse_error);
  if (!offer) {
    g_set_error (error, REC_PEER_ERROR, REC_PEER_ERROR_SDP, "offer refused: %s",
                 parse_error->message);
    return FALSE;
  }
  if (peer->negotiating) {
    /* One negotiation at a time: keep only the newest offer that arrives meanwhile. */
    g_free (peer->queued_offer);
    peer->queued_offer = g_strdup (sdp);
    return TRUE;
  }
  process_offer (peer, sdp);
  return TRUE;
}

/* ---- our own first offer: an SFU expects its clients to offer first ---- */

static void
own_offer_ready (RecPeer *peer, gpointer data)
{
  if (!data) {
    peer->negotiating = peer->awaiting_answer = FALSE;
    return;
  }
  JsonObject *msg = json_object_new ();
  json_object_set_string_member (msg, "sdp_type", "offer");
  json_object_set_string_member (msg, "sdp", data);
  send_message (peer, "sdp", msg);
  json_object_unref (msg);
}

static void
on_own_offer_created (GstPromise *promise, gpointer user_data)
{
  RecPeer *peer = user_data;
  if (promise_failed (promise, "creating an offer", peer)) {
    gst_promise_unref (promise);
    hop_to_main (peer, own_offer_ready, NULL, NULL);
    return;
  }
  GstWebRTCSessionDescription *offer = NULL;
  gst_structure_get (gst_promise_get_reply (promise), "offer",
                     GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  gst_promise_unref (promise);
  if (!offer) {
    hop_to_main (peer, own_offer_ready, NULL, NULL);
    return;
  }
  g_signal_emit_by_name (peer->webrtc, "set-local-description", offer, NULL);
  char *text = gst_sdp_message_as_text (offer->sdp);
  gst_webrtc_session_description_free (offer);
  hop_to_main (peer, own_offer_ready, text, g_free);
}

gboolean
rec_peer_offer (RecPeer *peer, GError **error)
{
  if (peer->negotiating) {
    g_set_error (error, REC_PEER_ERROR, REC_PEER_ERROR_STATE,
                 "connection %s: cannot offer during a negotiation", peer->id);
    return FALSE;
  }
  /* One audio m-line carries the bundle's transport; the SFU's own offers then add an
   * m-line per track it forwards, which we answer. It is sendrecv although nothing is
   * ever sent on it (no sink pad): webrtcbin 1.22 does not start DTLS when the only
   * m-line is answered inactive, which is what an SFU answers to recvonly. */
  g_autoptr (GstCaps) opus = gst_caps_from_string (
      "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111,"
      "encoding-params=(string)2");
  GstWebRTCRTPTransceiver *trans = NULL;
  peer->adding_own = TRUE;
  g_signal_emit_by_name (peer->webrtc, "add-transceiver",
                         GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, opus, &trans);
  peer->adding_own = FALSE;
  if (!trans) {
    g_set_error (error, REC_PEER_ERROR, REC_PEER_ERROR_STATE,
                 "connection %s: webrtcbin refused a transceiver", peer->id);
    return FALSE;
  }
  gst_object_unref (trans);
  peer->negotiating = peer->awaiting_answer = TRUE;
  GstPromise *promise = gst_promise_new_with_change_func (on_own_offer_created,
                                                          cr_owner_ref (peer), cr_owner_unref);
  g_signal_emit_by_name (peer->webrtc, "create-offer", NULL, promise);
  g_message ("connection %s: offering", peer->id);
  return TRUE;
}

static void
answer_applied (RecPeer *peer, gpointer data)
{
  if (GPOINTER_TO_INT (data))
    sync_tracks (peer);
  negotiation_done (peer, NULL);
}

static void
on_answer_set (GstPromise *promise, gpointer user_data)
{
  RecPeer *peer = user_data;
  gboolean ok = !promise_failed (promise, "applying the answer", peer);
  gst_promise_unref (promise);
  hop_to_main (peer, answer_applied, GINT_TO_POINTER (ok), NULL);
}

gboolean
rec_peer_handle_answer (RecPeer *peer, const char *sdp, GError **error)
{
  if (!peer->awaiting_answer) {
    g_set_error (error, REC_PEER_ERROR, REC_PEER_ERROR_STATE,
                 "connection %s: an answer, but no offer of ours is out", peer->id);
    return FALSE;
  }
  /* The answer has the offer's grammar and limits; what it says about each m-line (the
   * remote side's direction and codecs) is what sync_tracks reads. */
  g_autoptr (GError) parse_error = NULL;
  RecOffer *parsed = rec_offer_parse (sdp, strlen (sdp), &parse_error);
  GstSDPMessage *msg = NULL;
  if (!parsed || gst_sdp_message_new_from_text (sdp, &msg) != GST_SDP_OK) {
    g_set_error (error, REC_PEER_ERROR, REC_PEER_ERROR_SDP, "answer refused: %s",
                 parse_error ? parse_error->message : "bad SDP");
    g_clear_pointer (&parsed, rec_offer_free);
    return FALSE;
  }
  g_mutex_lock (&peer->lock);
  g_clear_pointer (&peer->offer, rec_offer_free);
  peer->offer = parsed;
  g_mutex_unlock (&peer->lock);
  peer->awaiting_answer = FALSE;
  GstWebRTCSessionDescription *desc =
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, msg);
  GstPromise *promise = gst_promise_new_with_change_func (on_answer_set, cr_owner_ref (peer),
                                                          cr_owner_unref);
  g_signal_emit_by_name (peer->webrtc, "set-remote-description", desc, promise);
  gst_webrtc_session_description_free (desc);
  return TRUE;
}

/* ---- ICE and connection state ---- */

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

gboolean
rec_peer_add_candidate (RecPeer *peer, guint mline_index, const char *candidate, GError **error)
{
  if (!candidate || !*candidate)
    return TRUE; /* end of candidates */
  if (!g_str_has_prefix (candidate, "candidate:") || strlen (candidate) > 1024 ||
      strchr (candidate, '\n') || strchr (candidate, '\r')) {
    g_set_error (error, REC_PEER_ERROR, REC_PEER_ERROR_CANDIDATE,
                 "connection %s: malformed ICE candidate refused", peer->id);
    return FALSE;
  }
  g_signal_emit_by_name (peer->webrtc, "add-ice-candidate", mline_index, candidate);
  return TRUE;
}

static void
connection_state_main (RecPeer *peer, gpointer data)
{
  GstWebRTCPeerConnectionState state = GPOINTER_TO_INT (data);
  gboolean connected = state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED;
  if (connected != peer->connected)
    g_message ("connection %s: %s", peer->id, connected ? "connected" : "not connected");
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
    g_warning ("connection %s: ICE/DTLS failed", peer->id);
  peer->connected = connected;
}

static void
on_connection_state (GObject *webrtc, GParamSpec *pspec, gpointer user_data)
{
  RecPeer *peer = user_data;
  GstWebRTCPeerConnectionState state;
  g_object_get (webrtc, "connection-state", &state, NULL);
  hop_to_main (peer, connection_state_main, GINT_TO_POINTER (state), NULL);
}

/* webrtcbin's rtpsessions send regular RTCP at most every 5 s (rtcp-min-interval), and
 * AVPF lets feedback go early only once per regular interval: lost packets pile up in one
 * NACK every few seconds, long after the jitterbuffer gave up on them. 100 ms lets each
 * NACK out in time for the retransmission to arrive within the jitterbuffer's latency
 * (RFC 4585 allows a reduced minimum interval). */
#define RTCP_MIN_INTERVAL (100 * GST_MSECOND)

static void
on_deep_element_added (GstBin *bin, GstBin *sub_bin, GstElement *element, gpointer user_data)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  if (factory && g_str_equal (GST_OBJECT_NAME (factory), "rtpsession"))
    g_object_set (element, "rtcp-min-interval", (guint64) RTCP_MIN_INTERVAL, NULL);
}

/* ---- lifecycle ---- */

RecPeer *
rec_peer_new (PlRecording *rec, const char *conn_id, guint jitter_latency_ms,
              const char *ice_address, gboolean ice_tcp_only, RecPeerSendFunc send,
              gpointer user_data, GError **error)
{
  g_autofree char *name = g_strdup_printf ("webrtc-%s", conn_id);
  GstElement *webrtc = gst_element_factory_make ("webrtcbin", name);
  if (!webrtc) {
    g_set_error (error, PL_ERROR, PL_ERROR_MISSING_ELEMENT,
                 "GStreamer element 'webrtcbin' is missing: install gstreamer1.0-plugins-bad "
                 "and gstreamer1.0-nice (make deps)");
    return NULL;
  }
  RecPeer *peer = g_new0 (RecPeer, 1);
  cr_owner_init (&peer->owner, peer_finalize);
  peer->rec = rec;
  peer->id = g_strdup (conn_id);
  peer->send = send;
  peer->user_data = user_data;
  peer->webrtc = webrtc;
  peer->mlines = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify) mline_state_free);
  g_mutex_init (&peer->lock);

  /* max-bundle: "none" fails ICE against a max-bundle offer (LESSONS.md). */
  gst_util_set_object_arg (G_OBJECT (webrtc), "bundle-policy", "max-bundle");
  g_object_set (webrtc, "latency", jitter_latency_ms, NULL);
  rec_ice_configure (webrtc, ice_address, ice_tcp_only);
  g_signal_connect (webrtc, "on-new-transceiver", G_CALLBACK (on_new_transceiver), peer);
  g_signal_connect (webrtc, "pad-added", G_CALLBACK (on_pad_added), peer);
  g_signal_connect (webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), peer);
  g_signal_connect (webrtc, "notify::connection-state", G_CALLBACK (on_connection_state), peer);
  g_signal_connect (webrtc, "deep-element-added", G_CALLBACK (on_deep_element_added), NULL);

  gst_bin_add (GST_BIN (pl_recording_get_pipeline (rec)), webrtc);
  gst_element_sync_state_with_parent (webrtc);
  g_message ("connection %s: waiting for an offer", conn_id);
  return peer;
}

const char *
rec_peer_get_id (RecPeer *peer)
{
  return peer->id;
}

gboolean
rec_peer_is_connected (RecPeer *peer)
{
  return peer->connected;
}

void
rec_peer_free (RecPeer *peer)
{
  if (!peer)
    return;
  peer->owner.closed = TRUE;
  GHashTableIter iter;
  MlineState *m;
  g_hash_table_iter_init (&iter, peer->mlines);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &m))
    stop_track (peer, m);
  g_signal_handlers_disconnect_by_data (peer->webrtc, peer);
  gst_element_set_locked_state (peer->webrtc, TRUE);
  gst_element_set_state (peer->webrtc, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (pl_recording_get_pipeline (peer->rec)), peer->webrtc);
  g_message ("connection %s: closed", peer->id);
  cr_owner_close (peer);
}
