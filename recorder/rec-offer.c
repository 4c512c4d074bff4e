/* SPDX-License-Identifier: MIT */
#include "rec-offer.h"

#include <gst/sdp/sdp.h>
#include <string.h>

G_DEFINE_QUARK (rec-offer-error-quark, rec_offer_error)

/* Limits, checked on the raw text before GStreamer parses it.
 *
 * GStreamer's parser is lenient: it skips leading whitespace and lines it does not
 * understand, ends a value at a lone CR, and stops at a NUL. Each of those would let it
 * see other lines than this check counted, so all of them are refused here: every
 * non-empty line must be "<a-z>=…", and CR may only come right before LF. */

static gsize
count_tokens (const char *p, gsize len)
{
  gsize n = 0;

  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isspace (p[i]) && (i == 0 || g_ascii_isspace (p[i - 1])))
      n++;
  }
  return n;
}

static gboolean offer_error (GError **error, RecOfferError code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
offer_error (GError **error, RecOfferError code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (REC_OFFER_ERROR, code, format, args));
  va_end (args);
  return FALSE;
}

/* GStreamer turns every fmtp parameter name and rtcp-fb type into a caps field name, that
 * is a GQuark, and GLib never frees quarks. webrtcbin does so for every offer it is given,
 * so a peer that renegotiates with fresh names each time would grow the process forever.
 * Adds the names this a=fmtp or a=rtcp-fb line would intern to @names; FALSE once their
 * distinct bytes exceed REC_OFFER_MAX_FIELD_NAME_BYTES. */
/* Takes @name. */
static void
add_field_name (GHashTable *names, gsize *bytes, char *name)
{
  if (*name == '\0' || g_hash_table_contains (names, name)) {
    g_free (name);
    return;
  }
  *bytes += strlen (name);
  g_hash_table_add (names, name);
}

static gboolean
note_field_names (GHashTable *names, gsize *bytes, const char *line, gsize line_len)
{
  g_autofree char *value = NULL;
  gboolean fmtp;
  char *params;

  if (line_len > 7 && strncmp (line, "a=fmtp:", 7) == 0)
    fmtp = TRUE;
  else if (line_len > 10 && strncmp (line, "a=rtcp-fb:", 10) == 0)
    fmtp = FALSE;
  else
    return TRUE;
  /* "<pt> <parameters>" */
  value = g_strndup (line, line_len);
  params = value + strcspn (value, " ");
  params += strspn (params, " ");

  if (fmtp) {
    g_auto (GStrv) pairs = g_strsplit (params, ";", 0);

    for (guint i = 0; pairs[i]; i++) {
      char *key = g_strstrip (pairs[i]);

      key[strcspn (key, "=")] = '\0';
      add_field_name (names, bytes, g_ascii_strdown (g_strstrip (key), -1));
    }
  } else {
    char *key = g_strdup_printf ("rtcp-fb-%s", g_strstrip (params));

    add_field_name (names, bytes, g_strdelimit (key, " ", '-'));
  }
  return *bytes <= REC_OFFER_MAX_FIELD_NAME_BYTES;
}

static gboolean
check_text (const char *sdp, gsize len, guint *n_mlines, GError **error)
{
  guint lines = 0, mlines = 0, media_attrs = 0;
  g_autoptr (GHashTable) field_names =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gsize field_name_bytes = 0;

  if (len > REC_OFFER_MAX_SIZE)
    return offer_error (error, REC_OFFER_ERROR_LIMIT,
                        "offer of %" G_GSIZE_FORMAT " bytes exceeds %d", len, REC_OFFER_MAX_SIZE);
  if (len < 3 || memcmp (sdp, "v=0", 3) != 0 || (len > 3 && sdp[3] != '\r' && sdp[3] != '\n'))
    return offer_error (error, REC_OFFER_ERROR_SYNTAX, "offer does not start with v=0");
  if (memchr (sdp, '\0', len) != NULL)
    return offer_error (error, REC_OFFER_ERROR_SYNTAX, "offer contains a NUL byte");
  if (!g_utf8_validate_len (sdp, len, NULL))
    return offer_error (error, REC_OFFER_ERROR_SYNTAX, "offer is not valid UTF-8");

  for (gsize start = 0; start < len;) {
    const char *line = sdp + start;
    const char *nl = memchr (line, '\n', len - start);
    gsize line_len = nl ? (gsize) (nl - line) : len - start;

    start += line_len + 1;
    if (line_len > 0 && line[line_len - 1] == '\r')
      line_len--;
    if (++lines > REC_OFFER_MAX_LINES)
      return offer_error (error, REC_OFFER_ERROR_LIMIT,
                          "offer has more than %d lines", REC_OFFER_MAX_LINES);
    if (line_len > REC_OFFER_MAX_LINE_LENGTH)
      return offer_error (error, REC_OFFER_ERROR_LIMIT,
                          "line %u is longer than %d bytes", lines, REC_OFFER_MAX_LINE_LENGTH);
    if (line_len == 0)
      continue;
    if (memchr (line, '\r', line_len) != NULL)
      return offer_error (error, REC_OFFER_ERROR_SYNTAX,
                          "line %u has a CR that does not end it", lines);
    if (line_len < 2 || line[0] < 'a' || line[0] > 'z' || line[1] != '=')
      return offer_error (error, REC_OFFER_ERROR_SYNTAX,
                          "line %u is not of the form <letter>=<value>", lines);

    if (line[0] == 'm') {
      gsize tokens = count_tokens (line + 2, line_len - 2);

      if (++mlines > REC_OFFER_MAX_MLINES)
        return offer_error (error, REC_OFFER_ERROR_LIMIT,
                            "offer has more than %d m-lines", REC_OFFER_MAX_MLINES);
      /* m=<media> <port> <proto> <fmt> … */
      if (tokens > 3 + REC_OFFER_MAX_PAYLOAD_TYPES)
        return offer_error (error, REC_OFFER_ERROR_LIMIT,
                            "m-line %u has more than %d formats",
                            mlines - 1, REC_OFFER_MAX_PAYLOAD_TYPES);
      media_attrs = 0;
    } else if (line[0] == 'a') {
      const char *colon = memchr (line, ':', line_len);

      if (mlines > 0 && ++media_attrs > REC_OFFER_MAX_MEDIA_ATTRIBUTES)
        return offer_error (error, REC_OFFER_ERROR_LIMIT,
                            "m-line %u has more than %d attributes",
                            mlines - 1, REC_OFFER_MAX_MEDIA_ATTRIBUTES);
      if (mlines > 0 && !note_field_names (field_names, &field_name_bytes, line, line_len))
        return offer_error (error, REC_OFFER_ERROR_LIMIT,
                            "line %u: fmtp parameter and rtcp-fb names exceed %d bytes",
                            lines, REC_OFFER_MAX_FIELD_NAME_BYTES);
      /* Implied by the line length today; checked on its own so that raising that limit
       * cannot silently raise this one. */
      if (colon && (gsize) (line + line_len - colon - 1) > REC_OFFER_MAX_ATTR_VALUE)
        return offer_error (error, REC_OFFER_ERROR_LIMIT,
                            "line %u: attribute value longer than %d bytes",
                            lines, REC_OFFER_MAX_ATTR_VALUE);
    }
  }
  *n_mlines = mlines;
  return TRUE;
}

static void
rec_codec_free (RecCodec *codec)
{
  g_free (codec->encoding_name);
  g_free (codec->fmtp);
  gst_clear_caps (&codec->caps);
  g_free (codec);
}

static void
rec_mline_free (RecMline *mline)
{
  g_free (mline->mid);
  g_free (mline->msid_stream);
  g_free (mline->msid_track);
  g_ptr_array_unref (mline->codecs);
  g_free (mline);
}

/* A decimal number without sign, spaces or leading junk; *end is set past it. */
static gboolean
parse_uint (const char *s, guint max, guint *out, const char **end)
{
  guint64 v = 0;
  const char *p = s;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p)) {
    v = v * 10 + (*p - '0');
    if (v > max)
      return FALSE;
    p++;
  }
  *out = v;
  if (end)
    *end = p;
  return TRUE;
}

static gboolean
parse_direction (const char *key, GstWebRTCRTPTransceiverDirection *dir)
{
  static const struct {
    const char *key;
    GstWebRTCRTPTransceiverDirection dir;
  } dirs[] = {
    { "sendrecv", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV },
    { "sendonly", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY },
    { "recvonly", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY },
    { "inactive", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++) {
    if (strcmp (key, dirs[i].key) == 0) {
      *dir = dirs[i].dir;
      return TRUE;
    }
  }
  return FALSE;
}

/* a=extmap:<id>[/<direction>] <uri> [<attributes>]. Ids are 1..255 except 15, which
 * RFC 8285 reserves and GStreamer refuses. Anything else is ignored, not fatal: an
 * extension we cannot read is one we do not use. */
static void
parse_extmap (const char *value, RecMline *mline)
{
  const char *p;
  guint id;
  gsize n;

  if (!parse_uint (value, 255, &id, &p) || id == 0 || id == 15)
    return;
  if (*p == '/')
    p += strcspn (p, " \t");
  if (*p != ' ' && *p != '\t')
    return;
  p += strspn (p, " \t");
  n = strcspn (p, " \t");
  if (n == strlen (REC_TRANSPORT_CC_URI) && strncmp (p, REC_TRANSPORT_CC_URI, n) == 0) {
    if (mline->transport_cc_ext_id < 0)
      mline->transport_cc_ext_id = id;
  } else if (n == strlen (REC_AUDIO_LEVEL_URI) && strncmp (p, REC_AUDIO_LEVEL_URI, n) == 0) {
    if (mline->audio_level_ext_id < 0)
      mline->audio_level_ext_id = id;
  }
}

/* "<stream> [<track>]". The first msid with a stream id wins; stream and track are set
 * together, so a later line never overwrites (and leaks) a track of an earlier one. */
static void
set_msid (RecMline *mline, const char *value)
{
  g_auto (GStrv) ids = g_strsplit_set (value, " \t", 3);

  if (mline->msid_stream != NULL || ids[0] == NULL || *ids[0] == '\0')
    return;
  mline->msid_stream = g_strdup (ids[0]);
  mline->msid_track = g_strdup (ids[1] && *ids[1] ? ids[1] : NULL);
}

/* The parameters of "a=fmtp:<pt> <parameters>" for @pt, or NULL. */
static char *
find_fmtp (const GstSDPMedia *media, guint pt)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    const char *rest;
    guint fmt;

    if (g_strcmp0 (attr->key, "fmtp") != 0 || attr->value == NULL)
      continue;
    if (!parse_uint (attr->value, 127, &fmt, &rest) || fmt != pt)
      continue;
    if (*rest != '\0' && *rest != ' ' && *rest != '\t')
      continue;
    return g_strdup (rest + strspn (rest, " \t"));
  }
  return NULL;
}

static RecCodec *
parse_codec (const GstSDPMedia *media, guint pt)
{
  g_autoptr (GstCaps) caps = NULL;
  GstStructure *s;
  const char *name;
  int rate = 0;
  RecCodec *codec;

  /* NULL for a dynamic type without a readable a=rtpmap, or a static type whose clock
   * rate GStreamer does not know: either way not a codec we could record. */
  caps = gst_sdp_media_get_caps_from_media (media, pt);
  if (caps == NULL || gst_caps_get_size (caps) != 1)
    return NULL;
  s = gst_caps_get_structure (caps, 0);
  name = gst_structure_get_string (s, "encoding-name");
  if (name == NULL || !gst_structure_get_int (s, "clock-rate", &rate) || rate <= 0)
    return NULL;
  /* webrtcbin compares against the offer under this name (_rtp_caps_from_media). */
  gst_structure_set_name (s, "application/x-rtp");

  codec = g_new0 (RecCodec, 1);
  codec->pt = pt;
  codec->encoding_name = g_strdup (name);
  codec->clock_rate = rate;
  codec->fmtp = find_fmtp (media, pt);
  codec->nack = gst_structure_has_field (s, "rtcp-fb-nack");
  codec->nack_pli = gst_structure_has_field (s, "rtcp-fb-nack-pli");
  codec->ccm_fir = gst_structure_has_field (s, "rtcp-fb-ccm-fir");
  codec->transport_cc = gst_structure_has_field (s, "rtcp-fb-transport-cc");
  codec->caps = g_steal_pointer (&caps);
  return codec;
}

static RecMline *
parse_mline (const GstSDPMedia *media, guint index, GstWebRTCRTPTransceiverDirection dir,
             GError **error)
{
  g_autoptr (GPtrArray) codecs = g_ptr_array_new_with_free_func ((GDestroyNotify) rec_codec_free);
  RecMline *mline;
  const char *kind = gst_sdp_media_get_media (media);
  guint64 seen[2] = { 0, 0 }; /* payload types already read, 0..127 */
  gboolean have_dir = FALSE;

  mline = g_new0 (RecMline, 1);
  mline->index = index;
  mline->kind = g_strcmp0 (kind, "audio") == 0   ? REC_MEDIA_AUDIO
                : g_strcmp0 (kind, "video") == 0 ? REC_MEDIA_VIDEO
                                                 : REC_MEDIA_OTHER;
  /* Port 0 rejects an m-line, except with a=bundle-only: a max-bundle offer (webrtcbin's,
   * Chromium's) puts port 0 on every bundled m-line but the first. */
  mline->rejected = gst_sdp_media_get_port (media) == 0 &&
                    gst_sdp_media_get_attribute_val (media, "bundle-only") == NULL;
  mline->transport_cc_ext_id = -1;
  mline->audio_level_ext_id = -1;

  /* The first of each attribute wins; duplicates are the peer's problem, not a reason to
   * refuse the call. */
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    const char *value = attr->value ? attr->value : "";

    if (attr->key == NULL)
      continue;
    if (strcmp (attr->key, "mid") == 0 && mline->mid == NULL) {
      mline->mid = g_strdup (value);
    } else if (strcmp (attr->key, "msid") == 0) {
      set_msid (mline, value);
    } else if (strcmp (attr->key, "ssrc") == 0 && strstr (value, " msid:")) {
      /* webrtcbin 1.22 writes the msid only as "a=ssrc:<ssrc> msid:<stream> <track>". */
      set_msid (mline, strstr (value, " msid:") + 6);
    } else if (strcmp (attr->key, "extmap") == 0) {
      parse_extmap (value, mline);
    } else if (!have_dir && parse_direction (attr->key, &mline->direction)) {
      have_dir = TRUE;
    }
  }
  if (!have_dir)
    mline->direction = dir;

  for (guint i = 0; mline->kind != REC_MEDIA_OTHER && i < gst_sdp_media_formats_len (media);
       i++) {
    const char *fmt = gst_sdp_media_get_format (media, i);
    const char *end;
    guint pt;
    RecCodec *codec;

    /* GStreamer's tokenizer yields an empty format after trailing blanks. */
    if (fmt == NULL || *fmt == '\0')
      continue;
    if (!parse_uint (fmt, 127, &pt, &end) || *end != '\0') {
      g_autofree char *shown = g_strescape (fmt, NULL);

      g_set_error (error, REC_OFFER_ERROR, REC_OFFER_ERROR_BAD_MEDIA,
                   "m-line %u: payload type '%.16s' is not within 0..127", index, shown);
      mline->codecs = g_steal_pointer (&codecs);
      rec_mline_free (mline);
      return NULL;
    }
    if (seen[pt / 64] & (G_GUINT64_CONSTANT (1) << (pt % 64)))
      continue;
    seen[pt / 64] |= G_GUINT64_CONSTANT (1) << (pt % 64);
    codec = parse_codec (media, pt);
    if (codec)
      g_ptr_array_add (codecs, codec);
  }
  mline->codecs = g_steal_pointer (&codecs);
  return mline;
}

RecOffer *
rec_offer_parse (const char *sdp, gsize len, GError **error)
{
  g_autoptr (GstSDPMessage) msg = NULL;
  g_autoptr (RecOffer) offer = NULL;
  GstWebRTCRTPTransceiverDirection session_dir = GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV;
  guint n_mlines = 0;

  g_return_val_if_fail (sdp != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_text (sdp ? sdp : "", len, &n_mlines, error))
    return NULL;
  if (n_mlines == 0) {
    g_set_error_literal (error, REC_OFFER_ERROR, REC_OFFER_ERROR_NO_MEDIA,
                         "offer has no m-line");
    return NULL;
  }
  if (gst_sdp_message_new (&msg) != GST_SDP_OK ||
      gst_sdp_message_parse_buffer ((const guint8 *) sdp, len, msg) != GST_SDP_OK) {
    g_set_error_literal (error, REC_OFFER_ERROR, REC_OFFER_ERROR_SYNTAX,
                         "GStreamer could not parse the offer");
    return NULL;
  }
  /* check_text() made sure both read the same lines; if they still disagree, nothing read
   * from the SDP can be trusted to match what webrtcbin will see. */
  if (gst_sdp_message_medias_len (msg) != n_mlines) {
    g_set_error (error, REC_OFFER_ERROR, REC_OFFER_ERROR_SYNTAX,
                 "offer has %u m-lines but GStreamer read %u", n_mlines,
                 gst_sdp_message_medias_len (msg));
    return NULL;
  }

  offer = g_new0 (RecOffer, 1);
  offer->mlines = g_ptr_array_new_with_free_func ((GDestroyNotify) rec_mline_free);

  for (guint i = 0; i < gst_sdp_message_attributes_len (msg); i++) {
    const GstSDPAttribute *attr = gst_sdp_message_get_attribute (msg, i);
    const char *value = attr->value ? attr->value : "";

    if (attr->key == NULL)
      continue;
    if (strcmp (attr->key, "group") == 0 && offer->bundle_group == NULL &&
        g_str_has_prefix (value, "BUNDLE") && (value[6] == ' ' || value[6] == '\t')) {
      g_autofree char *mids = g_strstrip (g_strdup (value + 6));

      if (*mids)
        offer->bundle_group = g_steal_pointer (&mids);
    } else {
      parse_direction (attr->key, &session_dir);
    }
  }

  for (guint i = 0; i < n_mlines; i++) {
    RecMline *mline = parse_mline (gst_sdp_message_get_media (msg, i), i, session_dir, error);

    if (mline == NULL)
      return NULL;
    g_ptr_array_add (offer->mlines, mline);
  }
  return g_steal_pointer (&offer);
}

void
rec_offer_free (RecOffer *offer)
{
  if (offer == NULL)
    return;
  if (offer->mlines)
    g_ptr_array_unref (offer->mlines);
  g_free (offer->bundle_group);
  g_free (offer);
}

const RecMline *
rec_offer_get_mline (const RecOffer *offer, guint index)
{
  g_return_val_if_fail (offer != NULL, NULL);

  if (index >= offer->mlines->len)
    return NULL;
  return g_ptr_array_index (offer->mlines, index);
}

/* The value of @key in "k1=v1;k2=v2", keys compared without case; NULL if absent. */
static char *
fmtp_param (const char *fmtp, const char *key)
{
  g_auto (GStrv) params = NULL;

  if (fmtp == NULL)
    return NULL;
  params = g_strsplit (fmtp, ";", 0);
  for (guint i = 0; params[i]; i++) {
    char *eq = strchr (params[i], '=');

    if (eq == NULL)
      continue;
    *eq = '\0';
    if (g_ascii_strcasecmp (g_strstrip (params[i]), key) == 0)
      return g_strdup (g_strstrip (eq + 1));
  }
  return NULL;
}

/* 0: constrained baseline at level 3.1, what every browser sends by default and any
 * decoder takes; 1: another H.264 we can depacketize; -1: unusable. Only
 * packetization-mode=1 (FU-A/STAP-A) is accepted: mode 0 caps NAL units at the MTU. */
static int
h264_rank (const RecCodec *codec)
{
  g_autofree char *mode = fmtp_param (codec->fmtp, "packetization-mode");
  g_autofree char *profile = NULL;

  if (g_strcmp0 (mode, "1") != 0)
    return -1;
  profile = fmtp_param (codec->fmtp, "profile-level-id");
  if (profile && (g_ascii_strcasecmp (profile, "42e01f") == 0 ||
                  g_ascii_strcasecmp (profile, "42001f") == 0))
    return 0;
  return 1;
}

const RecCodec *
rec_offer_pick_codec (const RecMline *mline)
{
  const RecCodec *h264 = NULL;
  int h264_best = G_MAXINT;

  g_return_val_if_fail (mline != NULL, NULL);

  for (guint i = 0; i < mline->codecs->len; i++) {
    const RecCodec *codec = g_ptr_array_index (mline->codecs, i);

    if (mline->kind == REC_MEDIA_AUDIO) {
      if (strcmp (codec->encoding_name, "OPUS") == 0 && codec->clock_rate == 48000)
        return codec;
    } else if (mline->kind == REC_MEDIA_VIDEO && codec->clock_rate == 90000) {
      if (strcmp (codec->encoding_name, "VP8") == 0)
        return codec;
      if (strcmp (codec->encoding_name, "H264") == 0) {
        int rank = h264_rank (codec);

        if (rank >= 0 && rank < h264_best) {
          h264 = codec;
          h264_best = rank;
        }
      }
    }
  }
  return h264;
}

/* Which fields of the offered caps go into the preferences. Fields that
 * gst_sdp_media_set_media_from_caps() would write as lines of their own (a-*, x-*,
 * extmap-*, ssrc*) are dropped even if an fmtp parameter is named like them; the
 * transport-cc extmap is added back afterwards from our own reading of the offer. */
static gboolean
keep_field (GQuark field_id, G_GNUC_UNUSED GValue *value, G_GNUC_UNUSED gpointer user_data)
{
  const char *name = g_quark_to_string (field_id);
  static const char *const drop_prefixes[] = { "a-", "x-", "extmap-", "ssrc", "rid-",
                                               "srtp", "srtcp" };

  if (g_str_has_prefix (name, "rtcp-fb-"))
    return strcmp (name, "rtcp-fb-nack") == 0 || strcmp (name, "rtcp-fb-nack-pli") == 0 ||
           strcmp (name, "rtcp-fb-ccm-fir") == 0;
  for (gsize i = 0; i < G_N_ELEMENTS (drop_prefixes); i++) {
    if (g_str_has_prefix (name, drop_prefixes[i]))
      return FALSE;
  }
  return TRUE;
}

GstCaps *
rec_offer_codec_preferences (const RecOffer *offer, guint index)
{
  const RecMline *mline;
  const RecCodec *codec;
  GstCaps *caps;
  GstStructure *s;

  g_return_val_if_fail (offer != NULL, NULL);

  mline = rec_offer_get_mline (offer, index);
  if (mline == NULL)
    return NULL;
  codec = rec_offer_pick_codec (mline);
  if (codec == NULL)
    return NULL;

  caps = gst_caps_copy (codec->caps);
  s = gst_caps_get_structure (caps, 0);
  gst_structure_filter_and_map_in_place (s, keep_field, NULL);
  if (mline->transport_cc_ext_id > 0) {
    g_autofree char *key = g_strdup_printf ("extmap-%d", mline->transport_cc_ext_id);

    gst_structure_set (s, key, G_TYPE_STRING, REC_TRANSPORT_CC_URI, NULL);
  }
  return caps;
}
