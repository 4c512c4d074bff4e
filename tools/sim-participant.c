/* SPDX-License-Identifier: MIT */
#include "sim-participant.h"
#include "cr-hop.h"
#include "rec-ice.h"

#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <string.h>

typedef struct {
  GstElement *bin;       /* source → encoder → payloader, in the pipeline */
  GstElement *valve;     /* closes the share when it is turned off */
  GstPad *webrtc_sink;   /* the webrtcbin request pad it feeds */
  GstWebRTCRTPTransceiver *transceiver;
} Branch;

struct _SimParticipant {
  CrOwner owner; /* webrtcbin's callbacks hop to the main context through it */
  GstPipeline *pipeline;
  guint index;
  char *id;
  char *name;
  SimMediaOptions options;
  SimSendFunc send;
  gpointer user_data;
  GstElement *webrtc;
  Branch voice;
  Branch share;
  GPtrArray *old_shares; /* Branch*: stopped shares, their m-lines now inactive */
  /* main context only */
  gboolean negotiating;
  gboolean renegotiate; /* something changed during a negotiation */
  gboolean connected;
};

static void
finalize (gpointer data)
{
  SimParticipant *p = data;
  g_ptr_array_unref (p->old_shares);
  g_free (p->id);
  g_free (p->name);
  g_free (p);
}

static void
hop (SimParticipant *p, void (*func) (SimParticipant *, gpointer), gpointer data,
     GDestroyNotify destroy)
{
  cr_hop (p, (CrHopFunc) (void (*) (void)) func, data, destroy);
}

static void
send_message (SimParticipant *p, const char *type, JsonObject *data)
{
  json_object_set_string_member (data, "conn", p->id);
  p->send (p, type, data, p->user_data);
}

/* ---- negotiation (we offer) ---- */

static void negotiate (SimParticipant *p);

static void
offer_ready (SimParticipant *p, gpointer data)
{
  JsonObject *msg = json_object_new ();
  json_object_set_string_member (msg, "sdp_type", "offer");
  json_object_set_string_member (msg, "sdp", data);
  send_message (p, "sdp", msg);
  json_object_unref (msg);
}

static void
on_offer_created (GstPromise *promise, gpointer user_data)
{
  SimParticipant *p = user_data;
  GstWebRTCSessionDescription *offer = NULL;
  const GstStructure *reply = gst_promise_get_reply (promise);
  if (reply)
    gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  gst_promise_unref (promise);
  if (!offer) {
    g_warning ("sim %s: could not create an offer", p->id);
    return;
  }
  g_signal_emit_by_name (p->webrtc, "set-local-description", offer, NULL);
  hop (p, offer_ready, gst_sdp_message_as_text (offer->sdp), g_free);
  gst_webrtc_session_description_free (offer);
}

static gboolean
caps_ready (Branch *b)
{
  if (!b->webrtc_sink)
    return TRUE;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (b->webrtc_sink);
  return caps != NULL;
}

static gboolean
negotiate_later (gpointer user_data)
{
  SimParticipant *p = user_data;
  if (!p->owner.closed)
    negotiate (p);
  return G_SOURCE_REMOVE;
}

static void
negotiate (SimParticipant *p)
{
  if (p->negotiating) {
    p->renegotiate = TRUE;
    return;
  }
  /* webrtcbin writes a track's SSRC into the offer only once caps reached its sink pad;
   * without it the receiver cannot tell bundled streams apart and never exposes them. */
  if (!caps_ready (&p->voice) || !caps_ready (&p->share)) {
    GSource *retry = g_timeout_source_new (10);
    g_source_set_callback (retry, negotiate_later, cr_owner_ref (p), cr_owner_unref);
    g_source_attach (retry, p->owner.context);
    g_source_unref (retry);
    return;
  }
  p->negotiating = TRUE;
  p->renegotiate = FALSE;
  GstPromise *promise = gst_promise_new_with_change_func (on_offer_created, cr_owner_ref (p),
                                                          cr_owner_unref);
  g_signal_emit_by_name (p->webrtc, "create-offer", NULL, promise);
}

void
sim_participant_handle_answer (SimParticipant *p, const char *sdp)
{
  GstSDPMessage *msg = NULL;
  if (gst_sdp_message_new_from_text (sdp, &msg) != GST_SDP_OK) {
    g_warning ("sim %s: unparsable answer", p->id);
    return;
  }
  GstWebRTCSessionDescription *answer =
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, msg);
  g_signal_emit_by_name (p->webrtc, "set-remote-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
  p->negotiating = FALSE;
  if (p->renegotiate)
    negotiate (p);
}

void
sim_participant_handle_candidate (SimParticipant *p, guint mline, const char *candidate)
{
  if (candidate && *candidate)
    g_signal_emit_by_name (p->webrtc, "add-ice-candidate", mline, candidate);
}

typedef struct {
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
send_candidate (SimParticipant *p, gpointer data)
{
  Candidate *c = data;
  JsonObject *msg = json_object_new ();
  json_object_set_string_member (msg, "candidate", c->candidate);
  json_object_set_int_member (msg, "sdp_mline_index", c->mline);
  send_message (p, "ice", msg);
  json_object_unref (msg);
}

static void
on_ice_candidate (GstElement *webrtc, guint mline, const char *candidate, gpointer user_data)
{
  Candidate *c = g_new0 (Candidate, 1);
  c->mline = mline;
  c->candidate = g_strdup (candidate);
  hop (user_data, send_candidate, c, candidate_free);
}

static void
connection_state (SimParticipant *p, gpointer data)
{
  gboolean connected = GPOINTER_TO_INT (data) == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED;
  if (connected && !p->connected)
    g_message ("sim %s: connected", p->id);
  p->connected = connected;
}

static void
on_connection_state (GObject *webrtc, GParamSpec *pspec, gpointer user_data)
{
  GstWebRTCPeerConnectionState state;
  g_object_get (webrtc, "connection-state", &state, NULL);
  hop (user_data, connection_state, GINT_TO_POINTER (state), NULL);
}

/* ---- media branches ---- */

static GstPadProbeReturn
beep_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  if (!GST_BUFFER_PTS_IS_VALID (buffer))
    return GST_PAD_PROBE_OK;
  buffer = gst_buffer_make_writable (buffer);
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  GstMapInfo map;
  if (gst_buffer_map (buffer, &map, GST_MAP_READWRITE)) {
    sim_add_beeps ((gint16 *) map.data, (guint) (map.size / 2), 48000,
                   (double) GST_BUFFER_PTS (buffer) / GST_SECOND);
    gst_buffer_unmap (buffer, &map);
  }
  return GST_PAD_PROBE_OK;
}

typedef struct {
  SimContent content;
  gboolean marks;
} DrawInfo;

static GstPadProbeReturn
draw_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  const DrawInfo *draw = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;
  if (!caps || !gst_video_info_from_caps (&vinfo, caps))
    return GST_PAD_PROBE_OK;
  buffer = gst_buffer_make_writable (buffer);
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  GstVideoFrame frame;
  if (gst_video_frame_map (&frame, &vinfo, buffer, GST_MAP_WRITE)) {
    sim_draw_share (&frame, (double) GST_BUFFER_PTS (buffer) / GST_SECOND, draw->content,
                    draw->marks);
    gst_video_frame_unmap (&frame);
  }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
drop_keyframes_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  return GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT) ? GST_PAD_PROBE_OK
                                                                    : GST_PAD_PROBE_DROP;
}

/* Length of a VP8 payload descriptor (RFC 7741 section 4.2), or -1 if truncated. */
static int
vp8_descriptor_length (const guint8 *p, guint len)
{
  guint n = 1;
  if (len < 1)
    return -1;
  if (p[0] & 0x80) { /* X: extension byte */
    if (len < 2)
      return -1;
    guint8 x = p[1];
    n = 2;
    if (x & 0x80) /* I: picture id, 7 or 15 bits */
      n += (len > n && (p[n] & 0x80)) ? 2 : 1;
    if (x & 0x40) /* L: TL0PICIDX */
      n++;
    if (x & 0x30) /* T or K: TID/KEYIDX */
      n++;
  }
  return n <= len ? (int) n : -1;
}

/* Breaks the VP8 frame header of frames sent in a half-second window, so the receiving decoder reports errors, as it would for a
 * broken sender. VP8 only. */
static gboolean
corrupt_packet (GstBuffer **buffer, guint idx, gpointer user_data)
{
  const double *at = user_data;
  double t = (double) GST_BUFFER_PTS (*buffer) / GST_SECOND;
  if (!GST_BUFFER_PTS_IS_VALID (*buffer) || t < *at || t >= *at + 0.5)
    return TRUE;
  *buffer = gst_buffer_make_writable (*buffer);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (gst_rtp_buffer_map (*buffer, GST_MAP_READWRITE, &rtp)) {
    guint8 *payload = gst_rtp_buffer_get_payload (&rtp);
    guint len = gst_rtp_buffer_get_payload_len (&rtp);
    int d = vp8_descriptor_length (payload, len);
    gboolean frame_start = len > 0 && (payload[0] & 0x10) && (payload[0] & 0x07) == 0;
    if (d > 0 && frame_start && (guint) d + 6 <= len) {
      /* A keyframe tag (P=0, shown) with a wrong start code: the decoder must refuse
       * it ("invalid frame sync code") rather than draw garbage. */
      static const guint8 broken_keyframe[6] = { 0x10, 0x00, 0x00, 0x00, 0x00, 0x00 };
      memcpy (payload + d, broken_keyframe, sizeof broken_keyframe);
      g_debug ("corrupted a VP8 frame header at %.3f s", t);
    }
    gst_rtp_buffer_unmap (&rtp);
  }
  return TRUE;
}

static GstPadProbeReturn
corrupt_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = gst_buffer_list_make_writable (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
    GST_PAD_PROBE_INFO_DATA (info) = list;
    gst_buffer_list_foreach (list, corrupt_packet, user_data);
  } else {
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
    corrupt_packet (&buffer, 0, user_data);
    GST_PAD_PROBE_INFO_DATA (info) = buffer;
  }
  return GST_PAD_PROBE_OK;
}

static gboolean
link_to_webrtc (SimParticipant *p, Branch *branch, GError **error)
{
  branch->webrtc_sink = gst_element_request_pad_simple (p->webrtc, "sink_%u");
  g_autoptr (GstPad) src = gst_element_get_static_pad (branch->bin, "src");
  if (!branch->webrtc_sink || gst_pad_link (src, branch->webrtc_sink) != GST_PAD_LINK_OK) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "sim %s: could not link to webrtcbin",
                 p->id);
    return FALSE;
  }
  g_object_get (branch->webrtc_sink, "transceiver", &branch->transceiver, NULL);
  if (branch->transceiver)
    g_object_set (branch->transceiver, "direction",
                  GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
  /* The recorder takes a track's participant from the msid stream id. */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (branch->webrtc_sink), "msid"))
    g_object_set (branch->webrtc_sink, "msid", p->id, NULL);
  gst_element_sync_state_with_parent (branch->bin);
  return TRUE;
}

static GstElement *
bin_from_description (const char *description, GError **error)
{
  return gst_parse_bin_from_description (description, TRUE, error);
}

static gboolean
add_voice (SimParticipant *p, GError **error)
{
  g_autofree char *desc = g_strdup_printf (
      "audiotestsrc name=tone is-live=true wave=sine freq=%.1f volume=0.3 "
      "samplesperbuffer=960 ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! "
      "audioconvert ! opusenc bitrate=32000 inband-fec=true frame-size=20 ! "
      "valve name=mute ! rtpopuspay pt=111 ! capsfilter caps=\""
      "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000\"",
      sim_voice_frequency (p->index));
  p->voice.bin = bin_from_description (desc, error);
  if (!p->voice.bin)
    return FALSE;
  p->voice.valve = gst_bin_get_by_name (GST_BIN (p->voice.bin), "mute");
  if (p->options.marks && p->index == 0) {
    g_autoptr (GstElement) tone = gst_bin_get_by_name (GST_BIN (p->voice.bin), "tone");
    g_autoptr (GstPad) pad = gst_element_get_static_pad (tone, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, beep_probe, NULL, NULL);
  }
  gst_bin_add (GST_BIN (p->pipeline), p->voice.bin);
  return link_to_webrtc (p, &p->voice, error);
}

static char *
share_description (SimParticipant *p, SimShareCodec codec, int w, int h)
{
  int kbps = p->options.share_kbps > 0 ? p->options.share_kbps : 2500;
  const char *enc;
  g_autofree char *enc_desc = NULL;
  /* The benchmark's baseline transcodes exactly what we send. */
  g_autofree char *dump = p->options.share_dump
                              ? g_strdup_printf ("tee name=dump ! queue ! webmmux ! filesink "
                                                 "location=\"%s\" dump. ! queue !",
                                                 p->options.share_dump)
                              : NULL;
  /* Like a browser's screen share, keyframes come only on request (and first). */
  switch (codec) {
  case SIM_SHARE_VP8:
    enc_desc = g_strdup_printf (
        "vp8enc deadline=1 cpu-used=-16 end-usage=cbr target-bitrate=%d "
        "keyframe-mode=disabled keyframe-max-dist=100000 ! %s rtpvp8pay name=pay pt=96 "
        "picture-id-mode=15-bit ! capsfilter caps=\"application/x-rtp,media=video,"
        "encoding-name=VP8,payload=96,clock-rate=90000\"",
        kbps * 1000, dump ? dump : "");
    break;
  case SIM_SHARE_H264:
    enc_desc = g_strdup_printf (
        "x264enc tune=zerolatency speed-preset=ultrafast bitrate=%d key-int-max=100000 "
        "threads=2 ! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay pt=102 "
        "config-interval=-1 aggregate-mode=zero-latency ! capsfilter caps=\"application/x-rtp,"
        "media=video,encoding-name=H264,payload=102,clock-rate=90000\"",
        kbps);
    break;
  case SIM_SHARE_VP9:
    enc_desc = g_strdup_printf (
        "vp9enc deadline=1 cpu-used=8 target-bitrate=%d ! rtpvp9pay name=pay pt=98 ! "
        "capsfilter caps=\"application/x-rtp,media=video,encoding-name=VP9,payload=98,"
        "clock-rate=90000\"",
        kbps * 1000);
    break;
  case SIM_SHARE_NONE:
  default:
    return NULL;
  }
  enc = enc_desc;
  return g_strdup_printf ("videotestsrc name=screen is-live=true pattern=black ! "
                          "video/x-raw,format=I420,width=%d,height=%d,framerate=30/1 ! "
                          "valve name=onoff ! %s",
                          w, h, enc);
}

gboolean
sim_participant_share_on (SimParticipant *p, SimShareCodec codec, int width, int height,
                          GError **error)
{
  sim_participant_share_off (p);
  g_autofree char *desc = share_description (p, codec, width, height);
  if (!desc) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no share codec");
    return FALSE;
  }
  Branch *b = &p->share;
  b->bin = bin_from_description (desc, error);
  if (!b->bin)
    return FALSE;
  b->valve = gst_bin_get_by_name (GST_BIN (b->bin), "onoff");
  g_autoptr (GstElement) screen = gst_bin_get_by_name (GST_BIN (b->bin), "screen");
  g_autoptr (GstPad) screen_src = gst_element_get_static_pad (screen, "src");
  DrawInfo *draw = g_new0 (DrawInfo, 1);
  draw->content = p->options.content;
  draw->marks = p->options.marks && p->index == 0;
  gst_pad_add_probe (screen_src, GST_PAD_PROBE_TYPE_BUFFER, draw_probe, draw, g_free);
  g_autoptr (GstElement) pay = gst_bin_get_by_name (GST_BIN (b->bin), "pay");
  g_autoptr (GstPad) pay_sink = gst_element_get_static_pad (pay, "sink");
  g_autoptr (GstPad) pay_src = gst_element_get_static_pad (pay, "src");
  if (p->options.never_keyframe)
    gst_pad_add_probe (pay_sink, GST_PAD_PROBE_TYPE_BUFFER, drop_keyframes_probe, NULL, NULL);
  if (p->options.corrupt_at_s > 0) {
    double *at = g_new (double, 1);
    *at = p->options.corrupt_at_s;
    gst_pad_add_probe (pay_src, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                       corrupt_probe, at, g_free);
  }
  gst_bin_add (GST_BIN (p->pipeline), b->bin);
  if (!link_to_webrtc (p, b, error))
    return FALSE;
  g_message ("sim %s: screen share on (%dx%d)", p->id, width, height);
  if (p->negotiating || p->connected)
    negotiate (p);
  return TRUE;
}

void
sim_participant_share_off (SimParticipant *p)
{
  if (!p->share.bin)
    return;
  /* Close the valve and mark the m-line inactive; the branch stays (an m-line is never
   * removed from a session), and the next share gets a new m-line. */
  g_object_set (p->share.valve, "drop", TRUE, NULL);
  if (p->share.transceiver)
    g_object_set (p->share.transceiver, "direction",
                  GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE, NULL);
  Branch *old = g_new0 (Branch, 1);
  *old = p->share;
  g_ptr_array_add (p->old_shares, old);
  memset (&p->share, 0, sizeof p->share);
  g_message ("sim %s: screen share off", p->id);
  negotiate (p);
}

void
sim_participant_set_muted (SimParticipant *p, gboolean muted)
{
  if (p->voice.valve)
    g_object_set (p->voice.valve, "drop", muted, NULL);
  g_message ("sim %s: %s", p->id, muted ? "muted" : "unmuted");
}

/* ---- lifecycle ---- */

SimParticipant *
sim_participant_new (GstPipeline *pipeline, guint index, const char *name,
                     const SimMediaOptions *options, SimSendFunc send_func, gpointer user_data)
{
  SimParticipant *p = g_new0 (SimParticipant, 1);
  cr_owner_init (&p->owner, finalize);
  p->pipeline = pipeline;
  p->index = index;
  p->id = g_strdup_printf ("p%u", index);
  p->name = g_strdup (name);
  p->options = *options;
  p->send = send_func;
  p->user_data = user_data;
  p->old_shares = g_ptr_array_new_with_free_func (g_free);
  return p;
}

gboolean
sim_participant_start (SimParticipant *p, GError **error)
{
  g_autofree char *name = g_strdup_printf ("sim-%s", p->id);
  p->webrtc = gst_element_factory_make ("webrtcbin", name);
  if (!p->webrtc) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "webrtcbin is missing");
    return FALSE;
  }
  gst_util_set_object_arg (G_OBJECT (p->webrtc), "bundle-policy", "max-bundle");
  /* The sim is loopback only. */
  rec_ice_configure (p->webrtc, "127.0.0.1");
  g_signal_connect (p->webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), p);
  g_signal_connect (p->webrtc, "notify::connection-state", G_CALLBACK (on_connection_state),
                    p);
  /* webrtcbin must be playing before sources feed it: a live source that meets a
   * flushing pad stops for good. */
  gst_bin_add (GST_BIN (p->pipeline), p->webrtc);
  gst_element_sync_state_with_parent (p->webrtc);
  return add_voice (p, error);
}

void
sim_participant_offer (SimParticipant *p)
{
  negotiate (p);
}

const char *
sim_participant_get_id (SimParticipant *p)
{
  return p->id;
}

const char *
sim_participant_get_name (SimParticipant *p)
{
  return p->name;
}

gboolean
sim_participant_is_connected (SimParticipant *p)
{
  return p->connected;
}

static void
remove_branch (SimParticipant *p, Branch *b)
{
  if (!b->bin)
    return;
  gst_element_set_locked_state (b->bin, TRUE);
  gst_element_set_state (b->bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (p->pipeline), b->bin);
  gst_clear_object (&b->valve);
  gst_clear_object (&b->webrtc_sink);
  gst_clear_object (&b->transceiver);
}

void
sim_participant_free (SimParticipant *p)
{
  if (!p)
    return;
  p->owner.closed = TRUE;
  remove_branch (p, &p->voice);
  remove_branch (p, &p->share);
  for (guint i = 0; i < p->old_shares->len; i++)
    remove_branch (p, g_ptr_array_index (p->old_shares, i));
  if (p->webrtc) {
    g_signal_handlers_disconnect_by_data (p->webrtc, p);
    gst_element_set_locked_state (p->webrtc, TRUE);
    gst_element_set_state (p->webrtc, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (p->pipeline), p->webrtc);
  }
  cr_owner_close (p);
}
