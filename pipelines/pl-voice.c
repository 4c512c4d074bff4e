/* SPDX-License-Identifier: MIT */
/* A voice track: RTP Opus in, decoded audio with level metering out. */
#include "pl-private.h"

/* Level messages this often drive the "who is speaking" marks on the card. */
#define LEVEL_INTERVAL (200 * GST_MSECOND)

GstPadProbeReturn
pl_drop_eos_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

GstElement *
pl_voice_bin_new (const char *track_id, GError **error)
{
  g_autofree char *name = g_strdup_printf ("voice-%s", track_id);
  GstElement *bin = gst_bin_new (name);
  GstElement *depay = pl_make_element ("rtpopusdepay", NULL, error);
  GstElement *dec = depay ? pl_make_element ("opusdec", NULL, error) : NULL;
  GstElement *convert = dec ? pl_make_element ("audioconvert", NULL, error) : NULL;
  GstElement *resample = convert ? pl_make_element ("audioresample", NULL, error) : NULL;
  GstElement *level = resample ? pl_make_element ("level", "level", error) : NULL;
  if (!level) {
    g_clear_object (&depay);
    g_clear_object (&dec);
    g_clear_object (&convert);
    g_clear_object (&resample);
    gst_object_unref (bin);
    return NULL;
  }
  /* Both off by default in 1.22 (LESSONS.md): PLC conceals lost packets, in-band FEC
   * recovers them from the next one. */
  g_object_set (dec, "plc", TRUE, "use-inband-fec", TRUE, NULL);
  g_object_set (level, "interval", (guint64) LEVEL_INTERVAL, "post-messages", TRUE, NULL);

  gst_bin_add_many (GST_BIN (bin), depay, dec, convert, resample, level, NULL);
  gst_element_link_many (depay, dec, convert, resample, level, NULL);

  g_autoptr (GstPad) depay_sink = gst_element_get_static_pad (depay, "sink");
  g_autoptr (GstPad) level_src = gst_element_get_static_pad (level, "src");
  GstPad *sink = gst_ghost_pad_new ("sink", depay_sink);
  GstPad *src = gst_ghost_pad_new ("src", level_src);
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, pl_drop_eos_probe, NULL, NULL);
  gst_element_add_pad (bin, sink);
  gst_element_add_pad (bin, src);
  return bin;
}
