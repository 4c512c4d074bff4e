/* SPDX-License-Identifier: MIT */
/* callrecvp8dec: a VP8 decoder for screen shares, on libavcodec's VP8 decoder, that copies
 * a picture out of the decoder's frame only when it goes on.
 *
 * vp8dec copies every decoded picture into a GstBuffer (~3 MB at 1080p, 30 times a
 * second), and pl-share.c then threw most of them away as unchanged. Here the comparison
 * (pl-frame-filter.c) reads the decoder's own frame against the last picture passed on,
 * and only a picture that goes on is copied.
 *
 * Why libavcodec and not libvpx (vp8dec's library): a static share still arrives as ~30
 * small frames a second, each a reference that must be decoded, and almost all of that
 * work is copying every unchanged macroblock out of the previous frame. libavcodec's
 * decoder did the same frames in ~30 % less CPU here (docs/benchmarks.md).
 *
 * What vp8dec gave us and this keeps: nothing decoded before the first keyframe; a
 * frame the decoder refuses, or marks as damaged, is not shown, and a keyframe
 * is requested upstream (force-key-unit, through GstVideoDecoder's request_sync_point,
 * so min-force-key-unit-interval and pl-share.c's throttle apply) with the following
 * delta frames discarded until it comes; a keyframe of another size renegotiates caps;
 * timestamps pass through (GstVideoDecoder). Errors never end the stream: max-errors
 * (set to -1 by pl-share.c) decides.
 *
 * Most frames of a static screen are not decoded at all: pl-vp8-still.c proves them
 * no-ops from their headers and from the decoder's last pictures (skip-still-frames). */
#include "pl-private.h"

#include <gst/video/gstvideodecoder.h>
#include <gst/video/video.h>
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (pl_vp8_decoder_debug);
#define GST_CAT_DEFAULT pl_vp8_decoder_debug

#define PL_TYPE_VP8_DECODER (pl_vp8_decoder_get_type ())
G_DECLARE_FINAL_TYPE (PlVp8Decoder, pl_vp8_decoder, PL, VP8_DECODER, GstVideoDecoder)

struct _PlVp8Decoder {
  GstVideoDecoder parent;

  /* The fields below belong to the streaming thread (GstVideoDecoder's stream lock),
   * and to start/stop, which the base class never runs at the same time. */
  AVCodecContext *codec; /* NULL until the first keyframe */
  AVPacket *packet;
  AVFrame *picture;
  AVFrame *reference; /* the last picture the decoder gave, for pl-vp8-still.c */
  gboolean skip_still; /* property skip-still-frames */
  PlVp8Still still;
  GstVideoCodecState *input_state;
  int width, height;   /* of the output caps; 0 before the first picture */
  GstBuffer *previous; /* last picture passed on, to compare against */
  GstVideoInfo previous_info;
  GstVideoInfo out_info; /* of the picture being pushed */
  PlFrameFilter filter;

  /* Counters: written by the streaming thread, read by anyone; the object lock. */
  PlVp8DecoderStats stats;
};

G_DEFINE_TYPE (PlVp8Decoder, pl_vp8_decoder, GST_TYPE_VIDEO_DECODER)

enum { PROP_0, PROP_SKIP_STILL_FRAMES };

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-vp8"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("I420")));

static void
count (PlVp8Decoder *self, guint64 *field)
{
  GST_OBJECT_LOCK (self);
  (*field)++;
  GST_OBJECT_UNLOCK (self);
}

static void
close_codec (PlVp8Decoder *self)
{
  avcodec_free_context (&self->codec);
  av_packet_free (&self->packet);
  av_frame_free (&self->picture);
  av_frame_free (&self->reference);
}

/* What one stream leaves behind: the decoder and the pictures and caps of that stream. */
static void
clear_stream (PlVp8Decoder *self)
{
  close_codec (self);
  gst_clear_buffer (&self->previous);
  g_clear_pointer (&self->input_state, gst_video_codec_state_unref);
  pl_vp8_still_clear (&self->still);
}

static gboolean
pl_vp8_decoder_start (GstVideoDecoder *dec)
{
  PlVp8Decoder *self = PL_VP8_DECODER (dec);
  self->width = self->height = 0;
  pl_frame_filter_init (&self->filter);
  pl_vp8_still_init (&self->still);
  /* The base class drops delta frames until the first keyframe, and asks for one
   * (automatic-request-sync-points, set by pl-share.c). */
  gst_video_decoder_set_needs_sync_point (dec, TRUE);
  return TRUE;
}

static gboolean
pl_vp8_decoder_stop (GstVideoDecoder *dec)
{
  clear_stream (PL_VP8_DECODER (dec));
  return TRUE;
}

static gboolean
pl_vp8_decoder_set_format (GstVideoDecoder *dec, GstVideoCodecState *state)
{
  PlVp8Decoder *self = PL_VP8_DECODER (dec);
  g_clear_pointer (&self->input_state, gst_video_codec_state_unref);
  self->input_state = gst_video_codec_state_ref (state);
  return TRUE;
}

/* The frame cannot be shown: ask for a keyframe and drop deltas until it comes. */
static GstFlowReturn
refuse_frame (PlVp8Decoder *self, GstVideoCodecFrame *frame, const char *what, const char *detail)
{
  GstVideoDecoder *dec = GST_VIDEO_DECODER (self);
  GstFlowReturn ret = GST_FLOW_OK;
  count (self, &self->stats.errors);
  pl_vp8_still_reset (&self->still);
  GST_VIDEO_DECODER_ERROR (dec, 1, STREAM, DECODE, ("%s", what), ("%s", detail), ret);
  gst_video_decoder_request_sync_point (dec, frame,
                                        GST_VIDEO_DECODER_REQUEST_SYNC_POINT_DISCARD_INPUT);
  gst_video_decoder_release_frame (dec, frame);
  return ret;
}

static gboolean
open_codec (PlVp8Decoder *self, const guint8 *data, gsize size)
{
  if (!pl_vp8_is_keyframe (data, size))
    return FALSE;
  const AVCodec *vp8 = avcodec_find_decoder (AV_CODEC_ID_VP8);
  self->codec = vp8 ? avcodec_alloc_context3 (vp8) : NULL;
  self->packet = av_packet_alloc ();
  self->picture = av_frame_alloc ();
  self->reference = av_frame_alloc ();
  if (!self->codec || !self->packet || !self->picture || !self->reference) {
    close_codec (self);
    return FALSE;
  }
  /* One thread: many recordings share two cores, and a share is cheap to decode. */
  self->codec->thread_count = 1;
  /* The decoder's complaints come back to us as return values, and refuse_frame() says
   * what happened in our log; libavcodec's own lines (to stderr) would only repeat it. */
  self->codec->log_level_offset = AV_LOG_TRACE;
  if (avcodec_open2 (self->codec, vp8, NULL) < 0) {
    close_codec (self);
    return FALSE;
  }
  return TRUE;
}

/* Decodes one frame; a shown picture lands in self->picture (*shown TRUE). Returns a
 * libavcodec error code, 0 on success. */
static int
decode (PlVp8Decoder *self, const guint8 *data, gsize size, gboolean *shown)
{
  *shown = FALSE;
  if (size > G_MAXINT - AV_INPUT_BUFFER_PADDING_SIZE)
    return AVERROR (EINVAL);
  /* av_new_packet zeroes the padding the decoder's bitstream reader may read past the
   * end. */
  int err = av_new_packet (self->packet, (int)size);
  if (err < 0)
    return err;
  memcpy (self->packet->data, data, size);
  err = avcodec_send_packet (self->codec, self->packet);
  av_packet_unref (self->packet);
  if (err < 0)
    return err;
  err = avcodec_receive_frame (self->codec, self->picture);
  if (err == AVERROR (EAGAIN))
    return 0; /* an invisible frame (golden/altref update): nothing to show */
  if (err < 0)
    return err;
  *shown = TRUE;
  return 0;
}

static void
picture_from_avframe (PlPicture *pic, const AVFrame *img)
{
  for (int c = 0; c < 3; c++) {
    pic->planes[c] = img->data[c];
    pic->strides[c] = img->linesize[c];
  }
  pic->width = img->width;
  pic->height = img->height;
}

/* TRUE when img shows something the last picture passed on did not. */
static gboolean
goes_on (PlVp8Decoder *self, const AVFrame *img, GstClockTime pts)
{
  PlPicture cur;
  picture_from_avframe (&cur, img);
  if (!self->previous)
    return TRUE;
  GstVideoFrame prev_frame;
  if (!gst_video_frame_map (&prev_frame, &self->previous_info, self->previous, GST_MAP_READ))
    return TRUE;
  PlPicture prev;
  pl_picture_from_video_frame (&prev, &prev_frame);
  gboolean pass = pl_frame_filter_check (&self->filter, &cur, &prev, pts);
  gst_video_frame_unmap (&prev_frame);
  return pass;
}

static gboolean
copy_image (const AVFrame *img, GstVideoInfo *info, GstBuffer *buffer)
{
  GstVideoFrame frame;
  if (!gst_video_frame_map (&frame, info, buffer, GST_MAP_WRITE))
    return FALSE;
  for (int c = 0; c < 3; c++) {
    guint8 *dest = GST_VIDEO_FRAME_COMP_DATA (&frame, c);
    int dest_stride = GST_VIDEO_FRAME_COMP_STRIDE (&frame, c);
    int width = GST_VIDEO_FRAME_COMP_WIDTH (&frame, c);
    int height = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, c);
    for (int y = 0; y < height; y++)
      memcpy (dest + (gsize)y * dest_stride, img->data[c] + (gsize)y * img->linesize[c],
              (gsize)width);
  }
  gst_video_frame_unmap (&frame);
  return TRUE;
}

/* A frame's picture (decoded, or the reference a skipped still frame would have given):
 * checked, then passed on if it shows something new. */
static GstFlowReturn
pass_on (PlVp8Decoder *self, GstVideoCodecFrame *frame, const AVFrame *img, gboolean *went_on)
{
  GstVideoDecoder *dec = GST_VIDEO_DECODER (self);
  if (img->decode_error_flags || (img->flags & AV_FRAME_FLAG_CORRUPT))
    return refuse_frame (self, frame, "VP8 frame decoded with damage", "corrupted");
  if (img->format != AV_PIX_FMT_YUV420P || img->width <= 0 || img->height <= 0)
    return refuse_frame (self, frame, "Unexpected VP8 picture", "not I420");

  if (img->width != self->width || img->height != self->height) {
    /* A keyframe of another size: new caps (negotiated by the base class before the
     * next buffer goes out); the last picture no longer compares. */
    GST_INFO_OBJECT (self, "picture size %dx%d", img->width, img->height);
    GstVideoCodecState *state = gst_video_decoder_set_output_state (
        dec, GST_VIDEO_FORMAT_I420, (guint)img->width, (guint)img->height, self->input_state);
    gst_video_codec_state_unref (state);
    self->width = img->width;
    self->height = img->height;
    gst_clear_buffer (&self->previous);
  }

  if (!goes_on (self, img, frame->pts)) {
    count (self, &self->stats.unchanged);
    gst_video_decoder_release_frame (dec, frame);
    return GST_FLOW_OK;
  }

  GstFlowReturn ret = gst_video_decoder_allocate_output_frame (dec, frame);
  if (ret != GST_FLOW_OK) {
    gst_video_decoder_release_frame (dec, frame);
    return ret;
  }
  GstVideoCodecState *out = gst_video_decoder_get_output_state (dec);
  gboolean copied = out && copy_image (img, &out->info, frame->output_buffer);
  if (copied)
    self->out_info = out->info;
  g_clear_pointer (&out, gst_video_codec_state_unref);
  if (!copied)
    return refuse_frame (self, frame, "Could not write a decoded picture", "map failed");

  pl_frame_filter_passed (&self->filter, frame->pts);
  *went_on = TRUE;
  GST_OBJECT_LOCK (self);
  self->stats.refinements = self->filter.refinements;
  GST_OBJECT_UNLOCK (self);
  return gst_video_decoder_finish_frame (dec, frame);
}

/* a and b hold the same picture in the whole coded area: the macroblocks past the visible
 * edge are part of the reference, and the loop filter runs there too. */
static gboolean
same_coded_picture (const AVFrame *a, const AVFrame *b)
{
  if (!a->data[0] || !b->data[0] || a->width != b->width || a->height != b->height)
    return FALSE;
  PlPicture pa, pb;
  picture_from_avframe (&pa, a);
  picture_from_avframe (&pb, b);
  pa.width = pb.width = (a->width + 15) & ~15;
  pa.height = pb.height = (a->height + 15) & ~15;
  for (int c = 0; c < 3; c++) {
    int w = c == 0 ? pa.width : pa.width / 2;
    if (a->linesize[c] < w || b->linesize[c] < w)
      return FALSE;
  }
  return pl_picture_equal (&pa, &pb);
}

/* The picture just decoded becomes the reference the next one is compared with. */
static void
keep_as_reference (PlVp8Decoder *self)
{
  av_frame_unref (self->reference);
  av_frame_move_ref (self->reference, self->picture);
}

/* Decodes the last skipped frame that carried segment state, before the frame that needs
 * it. Its picture must be the reference again (pl-vp8-still.c). */
static int
catch_up (PlVp8Decoder *self, GstVideoCodecFrame *frame, GstBuffer *buffer)
{
  GstMapInfo map;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    gst_buffer_unref (buffer);
    return AVERROR (ENOMEM);
  }
  gboolean shown;
  int err = decode (self, map.data, map.size, &shown);
  gst_buffer_unmap (buffer, &map);
  gst_buffer_unref (buffer);
  if (err < 0)
    return err;
  gboolean unchanged = shown && same_coded_picture (self->picture, self->reference);
  if (shown)
    keep_as_reference (self);
  pl_vp8_still_caught_up (&self->still, unchanged);
  if (!unchanged) {
    GST_OBJECT_LOCK (self);
    self->stats.still_mismatches = self->still.mismatches;
    GST_OBJECT_UNLOCK (self);
    /* The picture may have drifted from the sender's: resynchronise, keep showing. */
    g_message ("VP8 decoder: a skipped still frame changed the picture after all; decoding "
               "every frame until the next keyframe, and asking for one");
    gst_video_decoder_request_sync_point (GST_VIDEO_DECODER (self), frame, 0);
  }
  return 0;
}

static GstFlowReturn
refuse_for_error (PlVp8Decoder *self, GstVideoCodecFrame *frame, int err)
{
  char detail[AV_ERROR_MAX_STRING_SIZE];
  av_strerror (err, detail, sizeof detail);
  return refuse_frame (self, frame, "Failed to decode a VP8 frame", detail);
}

/* A still frame proven to change nothing: not decoded. Its picture would be the
 * reference. That is the last picture passed on, unless a refinement is still held back
 * (pl-frame-filter.c), so only then does the reference go through the filter. */
static GstFlowReturn
skip_still (PlVp8Decoder *self, GstVideoCodecFrame *frame)
{
  GST_OBJECT_LOCK (self);
  self->stats.still = self->still.skipped;
  GST_OBJECT_UNLOCK (self);
  if (!self->still.latest_went_on) {
    gboolean went_on = FALSE;
    GstFlowReturn ret = pass_on (self, frame, self->reference, &went_on);
    pl_vp8_still_skipped (&self->still, went_on);
    return ret;
  }
  count (self, &self->stats.unchanged);
  pl_frame_filter_unchanged (&self->filter, frame->pts);
  gst_video_decoder_release_frame (GST_VIDEO_DECODER (self), frame);
  return GST_FLOW_OK;
}

static GstFlowReturn
pl_vp8_decoder_handle_frame (GstVideoDecoder *dec, GstVideoCodecFrame *frame)
{
  PlVp8Decoder *self = PL_VP8_DECODER (dec);
  GstMapInfo map;
  if (!gst_buffer_map (frame->input_buffer, &map, GST_MAP_READ))
    return refuse_frame (self, frame, "Could not read a VP8 frame", "map failed");

  if (map.size < PL_VP8_FRAME_TAG_SIZE) {
    gst_buffer_unmap (frame->input_buffer, &map);
    return refuse_frame (self, frame, "Empty VP8 frame", "shorter than a frame tag");
  }
  if (!self->codec && !open_codec (self, map.data, map.size)) {
    gst_buffer_unmap (frame->input_buffer, &map);
    /* Not a keyframe to start from (or out of memory): wait for one. */
    return refuse_frame (self, frame, "Cannot start decoding VP8", "no decodable keyframe yet");
  }
  if (self->skip_still
      && pl_vp8_still_may_skip (&self->still, frame->input_buffer, map.data, map.size)) {
    gst_buffer_unmap (frame->input_buffer, &map);
    return skip_still (self, frame);
  }
  GstBuffer *pending = pl_vp8_still_take_catch_up (&self->still);
  int err = pending ? catch_up (self, frame, pending) : 0;
  gboolean shown = FALSE;
  if (err == 0)
    err = decode (self, map.data, map.size, &shown);
  gst_buffer_unmap (frame->input_buffer, &map);
  if (err < 0)
    return refuse_for_error (self, frame, err);
  if (!shown) {
    if (self->skip_still)
      pl_vp8_still_decoded (&self->still, FALSE, FALSE, FALSE);
    gst_video_decoder_release_frame (dec, frame);
    return GST_FLOW_OK;
  }
  gboolean equals_reference = self->skip_still && pl_vp8_still_wants_comparison (&self->still)
                              && same_coded_picture (self->picture, self->reference);
  count (self, &self->stats.decoded);
  gboolean went_on = FALSE;
  GstFlowReturn ret = pass_on (self, frame, self->picture, &went_on);
  if (self->skip_still)
    pl_vp8_still_decoded (&self->still, TRUE, equals_reference, went_on);
  /* Only the reference stays: the decoder's pool can reuse the rest of its pictures. */
  keep_as_reference (self);
  return ret;
}

/* Keeps the picture just pushed to compare the next ones against. Taken here rather than
 * before finish_frame(): a reference held there would make the base class push a copy of
 * the buffer, whose memory the pool could then not reuse. Streaming thread. */
static GstPadProbeReturn
keep_previous_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  PlVp8Decoder *self = user_data;
  gst_buffer_replace (&self->previous, GST_PAD_PROBE_INFO_BUFFER (info));
  self->previous_info = self->out_info;
  return GST_PAD_PROBE_OK;
}

static void
pl_vp8_decoder_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  PlVp8Decoder *self = PL_VP8_DECODER (object);
  if (id == PROP_SKIP_STILL_FRAMES) {
    GST_VIDEO_DECODER_STREAM_LOCK (self);
    self->skip_still = g_value_get_boolean (value);
    /* Frames handled meanwhile were not followed: start again from a keyframe. */
    pl_vp8_still_pause (&self->still);
    GST_VIDEO_DECODER_STREAM_UNLOCK (self);
  } else {
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
pl_vp8_decoder_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  PlVp8Decoder *self = PL_VP8_DECODER (object);
  if (id == PROP_SKIP_STILL_FRAMES) {
    GST_VIDEO_DECODER_STREAM_LOCK (self);
    g_value_set_boolean (value, self->skip_still);
    GST_VIDEO_DECODER_STREAM_UNLOCK (self);
  } else {
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
pl_vp8_decoder_finalize (GObject *object)
{
  clear_stream (PL_VP8_DECODER (object));
  G_OBJECT_CLASS (pl_vp8_decoder_parent_class)->finalize (object);
}

static void
pl_vp8_decoder_class_init (PlVp8DecoderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstVideoDecoderClass *dec_class = GST_VIDEO_DECODER_CLASS (klass);
  object_class->finalize = pl_vp8_decoder_finalize;
  object_class->set_property = pl_vp8_decoder_set_property;
  object_class->get_property = pl_vp8_decoder_get_property;
  g_object_class_install_property (
      object_class, PROP_SKIP_STILL_FRAMES,
      g_param_spec_boolean ("skip-still-frames", "Skip still frames",
                            "Leave undecoded the frames of a static screen that provably "
                            "change nothing (the output is the same either way)",
                            TRUE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (
      element_class, "callrec VP8 decoder", "Codec/Decoder/Video",
      "Decodes VP8 with libavcodec, copying out only pictures that changed", "callrec");
  dec_class->start = GST_DEBUG_FUNCPTR (pl_vp8_decoder_start);
  dec_class->stop = GST_DEBUG_FUNCPTR (pl_vp8_decoder_stop);
  dec_class->set_format = GST_DEBUG_FUNCPTR (pl_vp8_decoder_set_format);
  dec_class->handle_frame = GST_DEBUG_FUNCPTR (pl_vp8_decoder_handle_frame);
}

static void
pl_vp8_decoder_init (PlVp8Decoder *self)
{
  GstVideoDecoder *dec = GST_VIDEO_DECODER (self);
  gst_video_decoder_set_packetized (dec, TRUE);
  gst_video_decoder_set_needs_format (dec, TRUE);
  gst_video_decoder_set_use_default_pad_acceptcaps (dec, TRUE);
  GST_PAD_SET_ACCEPT_TEMPLATE (GST_VIDEO_DECODER_SINK_PAD (dec));
  gst_pad_add_probe (GST_VIDEO_DECODER_SRC_PAD (dec), GST_PAD_PROBE_TYPE_BUFFER,
                     keep_previous_probe, self, NULL);
  pl_frame_filter_init (&self->filter);
  pl_vp8_still_init (&self->still);
  self->skip_still = TRUE;
}

void
pl_vp8_decoder_register (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (pl_vp8_decoder_debug, PL_VP8_DECODER_NAME, 0, "callrec VP8 decoder");
    /* No plugin: the element exists only in this process, never picked by autoplugging. */
    gst_element_register (NULL, PL_VP8_DECODER_NAME, GST_RANK_NONE, PL_TYPE_VP8_DECODER);
    g_once_init_leave (&once, 1);
  }
}

void
pl_vp8_decoder_get_stats (GstElement *decoder, PlVp8DecoderStats *stats)
{
  g_return_if_fail (PL_IS_VP8_DECODER (decoder));
  PlVp8Decoder *self = PL_VP8_DECODER (decoder);
  GST_OBJECT_LOCK (self);
  *stats = self->stats;
  GST_OBJECT_UNLOCK (self);
}
