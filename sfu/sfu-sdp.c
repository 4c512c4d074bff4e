/* SPDX-License-Identifier: MIT */
/* The parser. The model is in sfu-sdp-model.c; the answer, the writer and the re-offer
 * helpers in sfu-sdp-write.c. */
#include "sfu-sdp-private.h"

#include <string.h>

G_DEFINE_QUARK (sfu - sdp - error - quark, sfu_sdp_error)

/* Printable ASCII without spaces (or with single spaces inside when @spaces), 1 to
 * SFU_SDP_MAX_VALUE bytes: what may be stored and written back into SDP text. */
static gboolean
is_value (const char *s, gboolean spaces)
{
  gsize n = strlen (s);

  if (n == 0 || n > SFU_SDP_MAX_VALUE)
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    if ((guchar)s[i] < 0x21 || (guchar)s[i] > 0x7e) {
      if (!spaces || s[i] != ' ')
        return FALSE;
    }
  }
  return TRUE;
}

/* A decimal number without sign or spaces, at most @max, filling all of @s. */
static gboolean
parse_u64 (const char *s, guint64 max, guint64 *out)
{
  guint64 v = 0;

  if (!g_ascii_isdigit (*s))
    return FALSE;
  for (; *s; s++) {
    if (!g_ascii_isdigit (*s) || v > (max - (guint64)(*s - '0')) / 10)
      return FALSE;
    v = v * 10 + (guint64)(*s - '0');
  }
  *out = v;
  return TRUE;
}

static gboolean
parse_uint (const char *s, guint max, guint *out)
{
  guint64 v;

  if (!parse_u64 (s, max, &v))
    return FALSE;
  *out = (guint)v;
  return TRUE;
}

static gboolean
parse_direction (const char *s, SfuSdpDirection *dir)
{
  static const char *const names[] = { NULL, "sendrecv", "sendonly", "recvonly", "inactive" };

  for (guint i = SFU_SDP_DIR_SENDRECV; i <= SFU_SDP_DIR_INACTIVE; i++) {
    if (strcmp (s, names[i]) == 0) {
      *dir = i;
      return TRUE;
    }
  }
  return FALSE;
}

/* ---- parser ---- */

typedef struct {
  SfuSdp *sdp;
  SfuSdpMedia *media; /* the m-line being read, NULL at session level */
  guint line;
  guint bundle_line; /* where the BUNDLE group was, for errors found at the end */
  gboolean have_version, have_origin, media_has_dir;
  SfuSdpDirection session_dir;
  int pt_index[128]; /* of the current m-line: index in media->codecs, or -1 */
  GError **error;
} Parser;

static gboolean parse_fail (Parser *p, SfuSdpError code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
parse_fail (Parser *p, SfuSdpError code, const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  /* Line 0: about the whole text (its size, its encoding, what it lacks). */
  if (p->line == 0)
    g_set_error_literal (p->error, SFU_SDP_ERROR, code, msg);
  else
    g_set_error (p->error, SFU_SDP_ERROR, code, "line %u: %s", p->line, msg);
  return FALSE;
}

/* Splits at @sep. Unlike g_strsplit(), an empty string gives one empty token, so t[0] is
 * never NULL; empty tokens (two separators, or one at an end) are refused by the callers
 * through is_value() or the number parsers. */
static GStrv
split_at (const char *s, const char *sep, int max_tokens)
{
  if (*s == '\0') {
    GStrv v = g_new0 (char *, 2);

    v[0] = g_strdup ("");
    return v;
  }
  return g_strsplit (s, sep, max_tokens);
}

static GStrv
split (const char *s, int max_tokens)
{
  return split_at (s, " ", max_tokens);
}

static gboolean
set_once (Parser *p, char **field, const char *value, const char *what, gboolean spaces)
{
  if (!is_value (value, spaces))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                       "%s is empty, longer than %d bytes or has "
                       "characters outside printable ASCII",
                       what, SFU_SDP_MAX_VALUE);
  if (*field == NULL)
    *field = g_strdup (value);
  return TRUE;
}

static gboolean
parse_origin (Parser *p, const char *value)
{
  g_auto (GStrv) t = split (value, 7);

  if (g_strv_length (t) != 6 || !is_value (t[0], FALSE)
      || !parse_u64 (t[1], G_MAXUINT64, &p->sdp->session_id)
      || !parse_u64 (t[2], G_MAXUINT64, &p->sdp->session_version))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                       "o= is not \"<username> <sess-id> <sess-version> IN <addrtype> "
                       "<address>\" with numbers below 2^64");
  p->have_origin = TRUE;
  return TRUE;
}

static gboolean
finish_media (Parser *p)
{
  SfuSdpMedia *media = p->media;

  if (media == NULL)
    return TRUE;
  if (!p->media_has_dir)
    media->direction = p->session_dir;
  /* RFC 4588 §8.6: an rtx format names the format it repairs with apt=. */
  for (guint i = 0; i < media->codecs->len; i++) {
    SfuSdpCodec *rtx = g_ptr_array_index (media->codecs, i);
    g_auto (GStrv) params = NULL;
    guint apt;

    if (rtx->name == NULL || g_ascii_strcasecmp (rtx->name, "rtx") != 0 || rtx->fmtp == NULL)
      continue;
    params = g_strsplit (rtx->fmtp, ";", 0);
    for (guint j = 0; params[j]; j++) {
      const char *param = g_strstrip (params[j]);

      if (g_str_has_prefix (param, "apt=") && parse_uint (param + 4, 127, &apt) && apt != rtx->pt
          && p->pt_index[apt] >= 0) {
        SfuSdpCodec *repaired = g_ptr_array_index (media->codecs, p->pt_index[apt]);

        rtx->apt = apt;
        if (repaired->rtx_pt < 0
            && (repaired->name == NULL || g_ascii_strcasecmp (repaired->name, "rtx") != 0))
          repaired->rtx_pt = rtx->pt;
        break;
      }
    }
  }
  p->media = NULL;
  return TRUE;
}

static gboolean
parse_mline (Parser *p, const char *value)
{
  g_auto (GStrv) t = split (value, -1);
  guint n = g_strv_length (t), port;
  SfuSdpMedia *media;

  if (!finish_media (p))
    return FALSE;
  if (p->sdp->media->len >= SFU_SDP_MAX_MEDIA)
    return parse_fail (p, SFU_SDP_ERROR_LIMIT, "more than %d m-lines", SFU_SDP_MAX_MEDIA);
  if (n > 3 + SFU_SDP_MAX_CODECS)
    return parse_fail (p, SFU_SDP_ERROR_LIMIT, "m-line has more than %d formats",
                       SFU_SDP_MAX_CODECS);
  if (n < 4 || !is_value (t[0], FALSE) || !parse_uint (t[1], 65535, &port)
      || !is_value (t[2], FALSE))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                       "m-line is not \"<media> <port> <proto> <format> ...\"");

  media = sfu_sdp_media_new ();
  g_ptr_array_add (p->sdp->media, media);
  p->media = media;
  p->media_has_dir = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (p->pt_index); i++)
    p->pt_index[i] = -1;

  media->media = g_strdup (t[0]);
  media->kind = strcmp (t[0], "audio") == 0         ? SFU_SDP_AUDIO
                : strcmp (t[0], "video") == 0       ? SFU_SDP_VIDEO
                : strcmp (t[0], "application") == 0 ? SFU_SDP_APPLICATION
                                                    : SFU_SDP_OTHER;
  media->port = port;
  media->proto = g_strdup (t[2]);
  if (strstr (t[2], "RTP/") == NULL) {
    g_autofree char *formats = g_strjoinv (" ", t + 3);

    if (strlen (formats) > SFU_SDP_MAX_VALUE)
      return parse_fail (p, SFU_SDP_ERROR_LIMIT, "m-line formats longer than %d bytes",
                         SFU_SDP_MAX_VALUE);
    if (!is_value (formats, TRUE))
      return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "m-line formats are not printable ASCII");
    media->formats = g_steal_pointer (&formats);
    return TRUE;
  }
  for (guint i = 3; i < n; i++) {
    guint pt;

    if (!parse_uint (t[i], 127, &pt))
      return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "payload type \"%.8s\" is not within 0..127",
                         t[i]);
    if (p->pt_index[pt] >= 0)
      return parse_fail (p, SFU_SDP_ERROR_INVALID, "payload type %u listed twice", pt);
    p->pt_index[pt] = media->codecs->len;
    g_ptr_array_add (media->codecs, sfu_sdp_codec_new (pt));
  }
  return TRUE;
}

/* "<pt> <rest>" of rtpmap, fmtp and rtcp-fb. Sets *codec to NULL for a payload type the
 * m-line does not list (ignored, as browsers do), and to every codec for "*". */
static gboolean
split_pt (Parser *p, const char *value, gboolean star, SfuSdpCodec **codec, gboolean *all,
          const char **rest)
{
  const char *sp = strchr (value, ' ');
  g_autofree char *pt_str = NULL;
  guint pt;

  *codec = NULL;
  *all = FALSE;
  if (sp == NULL || sp[1] == '\0')
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "expected \"<payload type> <value>\"");
  *rest = sp + 1;
  pt_str = g_strndup (value, sp - value);
  if (star && strcmp (pt_str, "*") == 0) {
    *all = TRUE;
    return TRUE;
  }
  if (!parse_uint (pt_str, 127, &pt))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "payload type is not within 0..127");
  if (p->media != NULL && p->pt_index[pt] >= 0)
    *codec = g_ptr_array_index (p->media->codecs, p->pt_index[pt]);
  return TRUE;
}

static gboolean
parse_rtpmap (Parser *p, const char *value)
{
  SfuSdpCodec *codec;
  g_auto (GStrv) t = NULL;
  const char *rest;
  gboolean all;
  guint rate, channels = 0, n;

  if (!split_pt (p, value, FALSE, &codec, &all, &rest))
    return FALSE;
  t = split_at (rest, "/", 4);
  n = g_strv_length (t);
  if (n < 2 || n > 3 || !is_value (t[0], FALSE) || !parse_uint (t[1], G_MAXINT32, &rate)
      || rate == 0 || (n == 3 && (!parse_uint (t[2], 255, &channels) || channels == 0)))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                       "rtpmap is not \"<pt> <name>/<clock rate>[/<channels>]\"");
  if (codec == NULL || codec->name != NULL)
    return TRUE;
  codec->name = g_strdup (t[0]);
  codec->clock_rate = rate;
  codec->channels = channels;
  return TRUE;
}

static gboolean
parse_fmtp (Parser *p, const char *value)
{
  SfuSdpCodec *codec;
  const char *rest;
  gboolean all;

  if (!split_pt (p, value, FALSE, &codec, &all, &rest))
    return FALSE;
  if (strlen (rest) > SFU_SDP_MAX_VALUE)
    return parse_fail (p, SFU_SDP_ERROR_LIMIT, "fmtp parameters longer than %d bytes",
                       SFU_SDP_MAX_VALUE);
  if (!is_value (rest, TRUE))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "fmtp parameters are not printable ASCII");
  if (codec != NULL && codec->fmtp == NULL)
    codec->fmtp = g_strdup (rest);
  return TRUE;
}

static gboolean
parse_rtcp_fb (Parser *p, const char *value)
{
  static const struct {
    const char *name;
    guint flag;
  } types[] = {
    { "nack", SFU_SDP_FB_NACK },           { "nack pli", SFU_SDP_FB_NACK_PLI },
    { "ccm fir", SFU_SDP_FB_CCM_FIR },     { "transport-cc", SFU_SDP_FB_TRANSPORT_CC },
    { "goog-remb", SFU_SDP_FB_GOOG_REMB },
  };
  SfuSdpCodec *codec;
  const char *rest;
  gboolean all;
  guint flag = 0;

  if (!split_pt (p, value, TRUE, &codec, &all, &rest))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++) {
    if (g_ascii_strcasecmp (rest, types[i].name) == 0)
      flag = types[i].flag;
  }
  if (flag == 0 || p->media == NULL)
    return TRUE; /* a kind of feedback the SFU neither sends nor answers */
  if (codec)
    codec->feedback |= flag;
  for (guint i = 0; all && i < p->media->codecs->len; i++)
    ((SfuSdpCodec *)g_ptr_array_index (p->media->codecs, i))->feedback |= flag;
  return TRUE;
}

static gboolean
parse_extmap (Parser *p, const char *value)
{
  g_auto (GStrv) t = split (value, 3);
  g_auto (GStrv) id_dir = NULL;
  SfuSdpDirection dir = SFU_SDP_DIR_NONE;
  SfuSdpExtmap *extmap;
  guint id;

  if (p->media == NULL)
    return TRUE; /* session-level extmaps: no browser sends them, and nothing needs them */
  if (g_strv_length (t) < 2)
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "extmap is not \"<id>[/<direction>] <uri>\"");
  id_dir = split_at (t[0], "/", 3);
  if (!parse_uint (id_dir[0], 255, &id) || id == 0
      || (id_dir[1] && (id_dir[2] || !parse_direction (id_dir[1], &dir))))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                       "extmap id is not within 1..255 (with an "
                       "optional /direction)");
  if (!is_value (t[1], FALSE))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                       "extmap URI is empty, longer than %d bytes or "
                       "not printable ASCII",
                       SFU_SDP_MAX_VALUE);
  for (guint i = 0; i < p->media->extmaps->len; i++) {
    if (((SfuSdpExtmap *)g_ptr_array_index (p->media->extmaps, i))->id == id)
      return parse_fail (p, SFU_SDP_ERROR_INVALID, "extmap id %u used twice", id);
  }
  if (p->media->extmaps->len >= SFU_SDP_MAX_EXTMAPS)
    return parse_fail (p, SFU_SDP_ERROR_LIMIT, "more than %d extmaps in one m-line",
                       SFU_SDP_MAX_EXTMAPS);
  extmap = sfu_sdp_extmap_new (id, t[1]);
  extmap->direction = dir;
  g_ptr_array_add (p->media->extmaps, extmap);
  return TRUE;
}

/* "<stream> [<track>]", of a=msid and of a=ssrc:<ssrc> msid:. */
static gboolean
parse_msid_value (Parser *p, const char *value, char **stream, char **track)
{
  g_auto (GStrv) t = split (value, 3);

  if (!is_value (t[0], FALSE) || (t[1] && (!is_value (t[1], FALSE) || t[2])))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                       "msid is not \"<stream id> [<track id>]\" of "
                       "printable ASCII up to %d bytes each",
                       SFU_SDP_MAX_VALUE);
  *stream = g_strdup (t[0]);
  *track = g_strdup (t[1]);
  return TRUE;
}

static gboolean
parse_msid (Parser *p, const char *value)
{
  g_autofree char *stream = NULL, *track = NULL;

  if (p->media == NULL)
    return TRUE;
  if (!parse_msid_value (p, value, &stream, &track))
    return FALSE;
  if (p->media->msids->len >= SFU_SDP_MAX_MSIDS)
    return parse_fail (p, SFU_SDP_ERROR_LIMIT, "more than %d a=msid in one m-line",
                       SFU_SDP_MAX_MSIDS);
  g_ptr_array_add (p->media->msids, sfu_sdp_msid_new (stream, track));
  return TRUE;
}

static gboolean
parse_ssrc (Parser *p, const char *value)
{
  const char *sp = strchr (value, ' ');
  g_autofree char *num = NULL;
  SfuSdpSsrc *entry = NULL;
  const char *attr;
  guint64 ssrc;

  if (sp == NULL || p->media == NULL)
    return sp ? TRUE : parse_fail (p, SFU_SDP_ERROR_SYNTAX, "ssrc is not \"<ssrc> <attribute>\"");
  num = g_strndup (value, sp - value);
  if (!parse_u64 (num, G_MAXUINT32, &ssrc))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "ssrc is not a number below 2^32");
  attr = sp + 1;
  /* Only cname and msid mean anything to the SFU (mslabel and label are Plan B's). */
  if (!g_str_has_prefix (attr, "cname:") && !g_str_has_prefix (attr, "msid:"))
    return TRUE;

  for (guint i = 0; i < p->media->ssrcs->len && entry == NULL; i++) {
    SfuSdpSsrc *s = g_ptr_array_index (p->media->ssrcs, i);

    if (s->ssrc == ssrc)
      entry = s;
  }
  if (entry == NULL) {
    if (p->media->ssrcs->len >= SFU_SDP_MAX_SSRCS)
      return parse_fail (p, SFU_SDP_ERROR_LIMIT, "more than %d SSRCs in one m-line",
                         SFU_SDP_MAX_SSRCS);
    entry = sfu_sdp_ssrc_new (ssrc);
    g_ptr_array_add (p->media->ssrcs, entry);
  }
  if (g_str_has_prefix (attr, "cname:"))
    return set_once (p, &entry->cname, attr + 6, "cname", FALSE);
  if (entry->msid_stream == NULL)
    return parse_msid_value (p, attr + 5, &entry->msid_stream, &entry->msid_track);
  return TRUE;
}

static gboolean
parse_ssrc_group (Parser *p, const char *value)
{
  g_auto (GStrv) t = split (value, -1);
  guint n = g_strv_length (t);
  SfuSdpSsrcGroup *group;

  if (p->media == NULL)
    return TRUE;
  if (n < 2 || !is_value (t[0], FALSE))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "ssrc-group is not \"<semantics> <ssrc> ...\"");
  if (n - 1 > SFU_SDP_MAX_GROUP_SSRCS)
    return parse_fail (p, SFU_SDP_ERROR_LIMIT, "ssrc-group has more than %d SSRCs",
                       SFU_SDP_MAX_GROUP_SSRCS);
  if (p->media->ssrc_groups->len >= SFU_SDP_MAX_SSRC_GROUPS)
    return parse_fail (p, SFU_SDP_ERROR_LIMIT, "more than %d ssrc-groups in one m-line",
                       SFU_SDP_MAX_SSRC_GROUPS);
  group = sfu_sdp_ssrc_group_new (t[0]);
  for (guint i = 1; i < n; i++) {
    guint64 ssrc;

    if (!parse_u64 (t[i], G_MAXUINT32, &ssrc)) {
      sfu_sdp_ssrc_group_free (group);
      return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                         "ssrc-group member is not a number below "
                         "2^32");
    }
    group->ssrcs[group->n_ssrcs++] = ssrc;
  }
  g_ptr_array_add (p->media->ssrc_groups, group);
  return TRUE;
}

gboolean
sfu_sdp_is_address (const char *s)
{
  if (!is_value (s, FALSE))
    return FALSE;
  for (; *s; s++) {
    if (!g_ascii_isalnum (*s) && *s != '.' && *s != ':' && *s != '-')
      return FALSE;
  }
  return TRUE;
}

/* RFC 8839 §5.1 (and RFC 6544 §4.5 for tcptype). Candidates of transports other than UDP
 * and TCP are skipped; unknown extension attributes (generation, network-id, …) too. */
static gboolean
parse_candidate (Parser *p, const char *value)
{
  g_auto (GStrv) t = split (value, 33);
  guint n = g_strv_length (t), component, port, rport = 0;
  SfuSdpCandidate *c;
  SfuSdpTransport transport;
  guint64 priority;
  const char *raddr = NULL, *tcptype = NULL;

  if (n < 8 || !sfu_sdp_is_ice_chars (t[0], 1, 32) || !parse_uint (t[1], 256, &component)
      || component == 0 || !parse_u64 (t[3], G_MAXUINT32, &priority) || !sfu_sdp_is_address (t[4])
      || !parse_uint (t[5], 65535, &port) || strcmp (t[6], "typ") != 0 || !is_value (t[7], FALSE)
      || strlen (t[7]) > 16)
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                       "candidate is not \"<foundation> <component> "
                       "<transport> <priority> <address> <port> typ <type> ...\"");
  if (g_ascii_strcasecmp (t[2], "udp") == 0)
    transport = SFU_SDP_TRANSPORT_UDP;
  else if (g_ascii_strcasecmp (t[2], "tcp") == 0)
    transport = SFU_SDP_TRANSPORT_TCP;
  else
    return TRUE;
  for (guint i = 8; i + 1 < n; i += 2) {
    if (strcmp (t[i], "raddr") == 0) {
      if (!sfu_sdp_is_address (t[i + 1]))
        return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "candidate raddr is not an address");
      raddr = t[i + 1];
    } else if (strcmp (t[i], "rport") == 0) {
      if (!parse_uint (t[i + 1], 65535, &rport))
        return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "candidate rport is not a port");
    } else if (strcmp (t[i], "tcptype") == 0) {
      if (strcmp (t[i + 1], "active") != 0 && strcmp (t[i + 1], "passive") != 0
          && strcmp (t[i + 1], "so") != 0)
        return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                           "candidate tcptype is not active, passive "
                           "or so");
      tcptype = t[i + 1];
    }
  }
  if (p->sdp->candidates->len >= SFU_SDP_MAX_CANDIDATES)
    return parse_fail (p, SFU_SDP_ERROR_LIMIT, "more than %d candidates", SFU_SDP_MAX_CANDIDATES);
  c = g_new0 (SfuSdpCandidate, 1);
  c->foundation = g_strdup (t[0]);
  c->component = component;
  c->transport = transport;
  c->priority = priority;
  c->address = g_strdup (t[4]);
  c->port = port;
  c->type = g_strdup (t[7]);
  c->raddr = g_strdup (raddr);
  c->rport = raddr ? rport : 0;
  c->tcptype = transport == SFU_SDP_TRANSPORT_TCP ? g_strdup (tcptype) : NULL;
  g_ptr_array_add (p->sdp->candidates, c);
  return TRUE;
}

static gboolean
parse_group (Parser *p, const char *value)
{
  g_auto (GStrv) t = split (value, -1);

  if (strcmp (t[0], "BUNDLE") != 0 || p->bundle_line != 0)
    return TRUE; /* other semantics (LS, FID), or a second BUNDLE group: not ours to use */
  p->bundle_line = p->line;
  for (guint i = 1; t[i]; i++) {
    if (!is_value (t[i], FALSE))
      return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                         "BUNDLE mid is empty, longer than %d bytes "
                         "or not printable ASCII",
                         SFU_SDP_MAX_VALUE);
    if (p->sdp->bundle->len >= SFU_SDP_MAX_MEDIA)
      return parse_fail (p, SFU_SDP_ERROR_LIMIT, "BUNDLE group has more than %d mids",
                         SFU_SDP_MAX_MEDIA);
    g_ptr_array_add (p->sdp->bundle, g_strdup (t[i]));
  }
  return TRUE;
}

static gboolean
parse_fingerprint (Parser *p, const char *value)
{
  g_auto (GStrv) t = split (value, 3);

  if (g_strv_length (t) != 2)
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "fingerprint is not \"<hash> <value>\"");
  if (sfu_sdp_hash_size (t[0]) == 0)
    return TRUE; /* RFC 8122 §5: a peer may list several; one we know may follow */
  if (!sfu_sdp_is_fingerprint (t[0], t[1]))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                       "fingerprint is not %u colon-separated hex "
                       "bytes",
                       sfu_sdp_hash_size (t[0]));
  if (p->sdp->fingerprint == NULL) {
    p->sdp->fingerprint_alg = g_ascii_strdown (t[0], -1);
    p->sdp->fingerprint = g_ascii_strup (t[1], -1);
  }
  return TRUE;
}

static gboolean
parse_attribute (Parser *p, const char *line)
{
  g_autofree char *name = NULL;
  const char *colon = strchr (line, ':');
  const char *value = colon ? colon + 1 : NULL;
  SfuSdp *sdp = p->sdp;
  SfuSdpMedia *media = p->media;
  SfuSdpDirection dir;

  name = colon ? g_strndup (line, colon - line) : g_strdup (line);

  if (value == NULL) {
    if (parse_direction (name, &dir)) {
      if (media == NULL)
        p->session_dir = dir;
      else if (!p->media_has_dir) {
        media->direction = dir;
        p->media_has_dir = TRUE;
      }
    } else if (strcmp (name, "ice-lite") == 0) {
      sdp->ice_lite = TRUE;
    } else if (strcmp (name, "extmap-allow-mixed") == 0) {
      sdp->extmap_allow_mixed = TRUE;
    } else if (strcmp (name, "end-of-candidates") == 0) {
      sdp->end_of_candidates = TRUE;
    } else if (media && strcmp (name, "rtcp-mux") == 0) {
      media->rtcp_mux = TRUE;
    } else if (media && strcmp (name, "rtcp-rsize") == 0) {
      media->rtcp_rsize = TRUE;
    } else if (media && strcmp (name, "bundle-only") == 0) {
      media->bundle_only = TRUE;
    }
    return TRUE;
  }

  if (strcmp (name, "rtpmap") == 0)
    return parse_rtpmap (p, value);
  if (strcmp (name, "fmtp") == 0)
    return parse_fmtp (p, value);
  if (strcmp (name, "rtcp-fb") == 0)
    return parse_rtcp_fb (p, value);
  if (strcmp (name, "extmap") == 0)
    return parse_extmap (p, value);
  if (strcmp (name, "ssrc") == 0)
    return parse_ssrc (p, value);
  if (strcmp (name, "ssrc-group") == 0)
    return parse_ssrc_group (p, value);
  if (strcmp (name, "msid") == 0)
    return parse_msid (p, value);
  if (strcmp (name, "candidate") == 0)
    return parse_candidate (p, value);
  if (strcmp (name, "group") == 0)
    return parse_group (p, value);
  if (strcmp (name, "fingerprint") == 0)
    return parse_fingerprint (p, value);
  if (strcmp (name, "mid") == 0) {
    if (media == NULL)
      return TRUE;
    if (media->mid != NULL)
      return parse_fail (p, SFU_SDP_ERROR_INVALID, "second a=mid in one m-line");
    if (!set_once (p, &media->mid, value, "mid", FALSE))
      return FALSE;
    for (guint i = 0; i + 1 < sdp->media->len; i++) {
      if (g_strcmp0 (((SfuSdpMedia *)g_ptr_array_index (sdp->media, i))->mid, value) == 0)
        return parse_fail (p, SFU_SDP_ERROR_INVALID, "mid \"%s\" is already m-line %u's", value, i);
    }
    return TRUE;
  }
  if (strcmp (name, "ice-ufrag") == 0 || strcmp (name, "ice-pwd") == 0) {
    gboolean ufrag = name[4] == 'u';

    /* The value is not repeated in the message: it may be the password. */
    if (!sfu_sdp_is_ice_chars (value, ufrag ? 4 : 22, 256))
      return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "%s is not %s to 256 ice-chars", name,
                         ufrag ? "4" : "22");
    return set_once (p, ufrag ? &sdp->ice_ufrag : &sdp->ice_pwd, value, name, FALSE);
  }
  if (strcmp (name, "ice-options") == 0) {
    g_auto (GStrv) t = split (value, 17);

    for (guint i = 0; t[i]; i++)
      sdp->ice_trickle |= strcmp (t[i], "trickle") == 0;
    return TRUE;
  }
  if (strcmp (name, "setup") == 0) {
    static const char *const roles[] = { NULL, "actpass", "active", "passive", "holdconn" };

    for (guint i = SFU_SDP_SETUP_ACTPASS; i <= SFU_SDP_SETUP_HOLDCONN; i++) {
      if (strcmp (value, roles[i]) == 0) {
        if (sdp->setup == SFU_SDP_SETUP_NONE)
          sdp->setup = i;
        return TRUE;
      }
    }
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX,
                       "setup is not actpass, active, passive or "
                       "holdconn");
  }
  return TRUE;
}

/* One line, without its line ending, NUL-terminated. */
static gboolean
parse_line (Parser *p, const char *line, gsize len)
{
  if (len < 2 || line[0] < 'a' || line[0] > 'z' || line[1] != '=')
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "not of the form <letter>=<value>");
  /* One check for every stored value: no space-separated token may be longer. */
  for (const char *tok = line + 2; *tok;) {
    gsize n = strcspn (tok, " ");

    if (n > SFU_SDP_MAX_VALUE)
      return parse_fail (p, SFU_SDP_ERROR_LIMIT, "a value longer than %d bytes", SFU_SDP_MAX_VALUE);
    tok += n + (tok[n] == ' ');
  }
  if (!p->have_version) {
    if (strcmp (line, "v=0") != 0)
      return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "the first line is not v=0");
    p->have_version = TRUE;
    return TRUE;
  }
  switch (line[0]) {
  case 'v':
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "a second v= line");
  case 'o':
    if (p->have_origin || p->media != NULL || p->sdp->media->len > 0)
      return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "o= after the session's o= or an m-line");
    return parse_origin (p, line + 2);
  case 'm':
    return parse_mline (p, line + 2);
  case 'a':
    return parse_attribute (p, line + 2);
  default:
    return TRUE; /* s=, t=, c=, b=, …: nothing the SFU uses */
  }
}

static gboolean
parse_text (Parser *p, const char *text, gsize len)
{
  char line[SFU_SDP_MAX_LINE_LENGTH + 1];

  if (len > SFU_SDP_MAX_SIZE)
    return parse_fail (p, SFU_SDP_ERROR_LIMIT, "SDP of %" G_GSIZE_FORMAT " bytes exceeds %d", len,
                       SFU_SDP_MAX_SIZE);
  if (memchr (text, '\0', len) != NULL)
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "SDP contains a NUL byte");
  if (!g_utf8_validate_len (text, len, NULL))
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "SDP is not valid UTF-8");

  for (gsize start = 0; start < len;) {
    const char *begin = text + start;
    const char *nl = memchr (begin, '\n', len - start);
    gsize line_len = nl ? (gsize)(nl - begin) : len - start;

    start += line_len + 1;
    if (line_len > 0 && begin[line_len - 1] == '\r')
      line_len--;
    if (++p->line > SFU_SDP_MAX_LINES)
      return parse_fail (p, SFU_SDP_ERROR_LIMIT, "more than %d lines", SFU_SDP_MAX_LINES);
    if (line_len > SFU_SDP_MAX_LINE_LENGTH)
      return parse_fail (p, SFU_SDP_ERROR_LIMIT, "longer than %d bytes", SFU_SDP_MAX_LINE_LENGTH);
    if (line_len == 0)
      continue;
    if (memchr (begin, '\r', line_len) != NULL)
      return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "a CR that does not end the line");
    memcpy (line, begin, line_len);
    line[line_len] = '\0';
    if (!parse_line (p, line, line_len))
      return FALSE;
  }
  if (!finish_media (p))
    return FALSE;
  p->line = 0;
  if (!p->have_version)
    return parse_fail (p, SFU_SDP_ERROR_SYNTAX, "empty SDP");
  if (!p->have_origin)
    return parse_fail (p, SFU_SDP_ERROR_INVALID, "no o= line");
  for (guint i = 0; i < p->sdp->bundle->len; i++) {
    const char *mid = g_ptr_array_index (p->sdp->bundle, i);

    if (sfu_sdp_find_media (p->sdp, mid) == NULL) {
      p->line = p->bundle_line;
      return parse_fail (p, SFU_SDP_ERROR_INVALID, "BUNDLE names mid \"%s\" that no m-line has",
                         mid);
    }
  }
  return TRUE;
}

gboolean
sfu_sdp_parse (const char *text, gsize len, SfuSdp *out, GError **error)
{
  Parser p = { 0 };

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  sfu_sdp_init (out);
  p.sdp = out;
  p.session_dir = SFU_SDP_DIR_SENDRECV;
  p.error = error;
  if (!parse_text (&p, text ? text : "", len)) {
    sfu_sdp_clear (out);
    return FALSE;
  }
  return TRUE;
}
