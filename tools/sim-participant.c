/* SPDX-License-Identifier: MIT */
#include "sim-participant.h"

#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#include <string.h>

typedef struct {
  GstElement *bin;   /* source → encoder → payloader → tee, in the pipeline */
  GstElement *valve; /* closes the share when it is turned off */
  /* its m-line on each peer: one encoding, sent to every recorder */
  GstWebRTCRTPTransceiver *transceivers[SIM_MAX_RECORDERS];
} Branch;

struct _SimParticipant {
  GstPipeline *pipeline;
  SimPeer *peers[SIM_MAX_RECORDERS]; /* not owned; one per recorder */
  guint n_peers;
  guint index;
  char *id;
  char *name;
  SimMediaOptions options;
  Branch voice;
  Branch share;
  GPtrArray *old_shares; /* Branch*: stopped shares, their m-lines now inactive */
};

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

/* Sends the branch's packets (its tee "out") to every peer. */
static gboolean
link_to_peers (SimParticipant *p, Branch *branch, GError **error)
{
  g_autoptr (GstElement) tee = gst_bin_get_by_name (GST_BIN (branch->bin), "out");
  for (guint k = 0; k < p->n_peers; k++) {
    g_autoptr (GstPad) tee_src = gst_element_request_pad_simple (tee, "src_%u");
    GstPad *ghost = gst_ghost_pad_new (NULL, tee_src);
    gst_pad_set_active (ghost, TRUE);
    gst_element_add_pad (branch->bin, ghost);
    branch->transceivers[k] = sim_peer_attach (p->peers[k], ghost, p->id, error);
    if (!branch->transceivers[k])
      return FALSE;
  }
  gst_element_sync_state_with_parent (branch->bin);
  return TRUE;
}

static void
peers_changed (SimParticipant *p)
{
  for (guint k = 0; k < p->n_peers; k++)
    sim_peer_changed (p->peers[k]);
}

static void
detach_from_peers (SimParticipant *p, Branch *branch)
{
  for (guint k = 0; k < p->n_peers; k++)
    sim_peer_detach (p->peers[k], branch->transceivers[k]);
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
      "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000\" ! "
      "tee name=out allow-not-linked=true",
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
  return link_to_peers (p, &p->voice, error);
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
                          "valve name=onoff ! %s ! tee name=out allow-not-linked=true",
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
  if (!link_to_peers (p, b, error))
    return FALSE;
  g_message ("sim %s: screen share on (%dx%d)", p->id, width, height);
  peers_changed (p);
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
  detach_from_peers (p, &p->share);
  Branch *old = g_new0 (Branch, 1);
  *old = p->share;
  g_ptr_array_add (p->old_shares, old);
  memset (&p->share, 0, sizeof p->share);
  g_message ("sim %s: screen share off", p->id);
  peers_changed (p);
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
sim_participant_new (GstPipeline *pipeline, SimPeer *const *peers, guint n_peers, guint index,
                     const char *name, const SimMediaOptions *options)
{
  g_return_val_if_fail (n_peers >= 1 && n_peers <= SIM_MAX_RECORDERS, NULL);
  SimParticipant *p = g_new0 (SimParticipant, 1);
  p->pipeline = pipeline;
  memcpy (p->peers, peers, n_peers * sizeof peers[0]);
  p->n_peers = n_peers;
  p->index = index;
  p->id = g_strdup_printf ("p%u", index);
  p->name = g_strdup (name);
  p->options = *options;
  p->old_shares = g_ptr_array_new_with_free_func (g_free);
  return p;
}

gboolean
sim_participant_start (SimParticipant *p, GError **error)
{
  return add_voice (p, error);
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

SimPeer *
sim_participant_get_peer (SimParticipant *p, guint recorder)
{
  return recorder < p->n_peers ? p->peers[recorder] : NULL;
}

static void
remove_branch (SimParticipant *p, Branch *b)
{
  if (!b->bin)
    return;
  detach_from_peers (p, b);
  gst_element_set_locked_state (b->bin, TRUE);
  gst_element_set_state (b->bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (p->pipeline), b->bin);
  gst_clear_object (&b->valve);
  for (guint k = 0; k < p->n_peers; k++)
    gst_clear_object (&b->transceivers[k]);
}

void
sim_participant_free (SimParticipant *p)
{
  if (!p)
    return;
  remove_branch (p, &p->voice);
  remove_branch (p, &p->share);
  for (guint i = 0; i < p->old_shares->len; i++)
    remove_branch (p, g_ptr_array_index (p->old_shares, i));
  g_ptr_array_unref (p->old_shares);
  g_free (p->id);
  g_free (p->name);
  g_free (p);
}
