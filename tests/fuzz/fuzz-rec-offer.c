/* SPDX-License-Identifier: MIT */
/* libFuzzer target for rec-offer: any bytes as a remote offer. On success every m-line
 * goes through pick_codec and codec_preferences, and the preferences through what
 * webrtcbin does with them (intersect with the offered caps, write an answer m-line).
 * Anything that aborts is a finding: a crash, a sanitizer report, a GLib critical or
 * warning (made fatal below), or a broken invariant. */
#include "rec-offer.h"

#include <gst/sdp/sdp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    gst_init (NULL, NULL);
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&done, 1);
  }
}

static void
check_preferences (const RecMline *mline, const RecCodec *codec, GstCaps *prefs)
{
  g_autoptr (GstCaps) offered = gst_caps_new_empty ();
  g_autoptr (GstCaps) answer = NULL;
  GstSDPMedia *media = NULL;
  const GstStructure *s;
  int pt = -1;

  if ((codec == NULL) != (prefs == NULL))
    abort ();
  if (prefs == NULL)
    return;
  if (gst_caps_get_size (prefs) != 1)
    abort ();
  s = gst_caps_get_structure (prefs, 0);
  if (!gst_structure_get_int (s, "payload", &pt) || (guint) pt != codec->pt)
    abort ();
  for (int i = 0; i < gst_structure_n_fields (s); i++) {
    const char *name = gst_structure_nth_field_name (s, i);

    if (g_str_has_prefix (name, "a-") || g_str_has_prefix (name, "x-"))
      abort ();
    if (g_str_has_prefix (name, "extmap-") &&
        g_strcmp0 (gst_structure_get_string (s, name), REC_TRANSPORT_CC_URI) != 0)
      abort ();
  }

  /* webrtcbin intersects the preferences with the caps of every offered payload type and
   * writes the answer m-line from the result. */
  for (guint i = 0; i < mline->codecs->len; i++) {
    const RecCodec *offered_codec = g_ptr_array_index (mline->codecs, i);

    gst_caps_append (offered, gst_caps_ref (offered_codec->caps));
  }
  answer = gst_caps_intersect (offered, prefs);
  if (gst_caps_is_empty (answer))
    abort ();
  gst_sdp_media_new (&media);
  gst_sdp_media_set_media_from_caps (answer, media);
  g_free (gst_sdp_media_as_text (media));
  gst_sdp_media_free (media);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecOffer) offer = NULL;

  init_once ();
  offer = rec_offer_parse ((const char *) data, size, &error);
  if (offer == NULL) {
    if (error == NULL || error->domain != REC_OFFER_ERROR)
      abort ();
    return 0;
  }
  if (offer->mlines->len == 0 || offer->mlines->len > REC_OFFER_MAX_MLINES)
    abort ();
  for (guint i = 0; i <= offer->mlines->len; i++) {
    const RecMline *mline = rec_offer_get_mline (offer, i);
    g_autoptr (GstCaps) prefs = rec_offer_codec_preferences (offer, i);

    if (mline == NULL) {
      if (i != offer->mlines->len || prefs != NULL)
        abort ();
      continue;
    }
    check_preferences (mline, rec_offer_pick_codec (mline), prefs);
  }
  return 0;
}
