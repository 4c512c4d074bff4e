/* SPDX-License-Identifier: MIT */
/* The SDP model: constructors, deep copies, equality, lookups and the value checks the
 * parser and the writer share. */
#include "sfu-sdp-private.h"

#include <string.h>

/* ---- model ---- */

SfuSdpCodec *
sfu_sdp_codec_new (guint pt)
{
  SfuSdpCodec *codec = g_new0 (SfuSdpCodec, 1);

  codec->pt = pt;
  codec->rtx_pt = -1;
  codec->apt = -1;
  return codec;
}

void
sfu_sdp_codec_free (SfuSdpCodec *codec)
{
  g_free (codec->name);
  g_free (codec->fmtp);
  g_free (codec);
}

SfuSdpCodec *
sfu_sdp_codec_copy (const SfuSdpCodec *codec)
{
  SfuSdpCodec *copy = g_memdup2 (codec, sizeof *codec);

  copy->name = g_strdup (codec->name);
  copy->fmtp = g_strdup (codec->fmtp);
  return copy;
}

SfuSdpExtmap *
sfu_sdp_extmap_new (guint id, const char *uri)
{
  SfuSdpExtmap *extmap = g_new0 (SfuSdpExtmap, 1);

  extmap->id = id;
  extmap->uri = g_strdup (uri);
  return extmap;
}

void
sfu_sdp_extmap_free (SfuSdpExtmap *extmap)
{
  g_free (extmap->uri);
  g_free (extmap);
}

SfuSdpExtmap *
sfu_sdp_extmap_copy (const SfuSdpExtmap *extmap)
{
  SfuSdpExtmap *copy = sfu_sdp_extmap_new (extmap->id, extmap->uri);

  copy->direction = extmap->direction;
  return copy;
}

SfuSdpSsrc *
sfu_sdp_ssrc_new (guint32 ssrc)
{
  SfuSdpSsrc *s = g_new0 (SfuSdpSsrc, 1);

  s->ssrc = ssrc;
  return s;
}

void
sfu_sdp_ssrc_free (SfuSdpSsrc *ssrc)
{
  g_free (ssrc->cname);
  g_free (ssrc->msid_stream);
  g_free (ssrc->msid_track);
  g_free (ssrc);
}

SfuSdpSsrc *
sfu_sdp_ssrc_copy (const SfuSdpSsrc *ssrc)
{
  SfuSdpSsrc *copy = sfu_sdp_ssrc_new (ssrc->ssrc);

  copy->cname = g_strdup (ssrc->cname);
  copy->msid_stream = g_strdup (ssrc->msid_stream);
  copy->msid_track = g_strdup (ssrc->msid_track);
  return copy;
}

SfuSdpSsrcGroup *
sfu_sdp_ssrc_group_new (const char *semantics)
{
  SfuSdpSsrcGroup *group = g_new0 (SfuSdpSsrcGroup, 1);

  group->semantics = g_strdup (semantics);
  return group;
}

void
sfu_sdp_ssrc_group_free (SfuSdpSsrcGroup *group)
{
  g_free (group->semantics);
  g_free (group);
}

SfuSdpSsrcGroup *
sfu_sdp_ssrc_group_copy (const SfuSdpSsrcGroup *group)
{
  SfuSdpSsrcGroup *copy = g_memdup2 (group, sizeof *group);

  copy->semantics = g_strdup (group->semantics);
  return copy;
}

SfuSdpMsid *
sfu_sdp_msid_new (const char *stream, const char *track)
{
  SfuSdpMsid *msid = g_new0 (SfuSdpMsid, 1);

  msid->stream = g_strdup (stream);
  msid->track = g_strdup (track);
  return msid;
}

void
sfu_sdp_msid_free (SfuSdpMsid *msid)
{
  g_free (msid->stream);
  g_free (msid->track);
  g_free (msid);
}

SfuSdpMsid *
sfu_sdp_msid_copy (const SfuSdpMsid *msid)
{
  return sfu_sdp_msid_new (msid->stream, msid->track);
}

void
sfu_sdp_candidate_free (SfuSdpCandidate *candidate)
{
  g_free (candidate->foundation);
  g_free (candidate->address);
  g_free (candidate->type);
  g_free (candidate->raddr);
  g_free (candidate->tcptype);
  g_free (candidate);
}

SfuSdpCandidate *
sfu_sdp_candidate_copy (const SfuSdpCandidate *candidate)
{
  SfuSdpCandidate *copy = g_memdup2 (candidate, sizeof *candidate);

  copy->foundation = g_strdup (candidate->foundation);
  copy->address = g_strdup (candidate->address);
  copy->type = g_strdup (candidate->type);
  copy->raddr = g_strdup (candidate->raddr);
  copy->tcptype = g_strdup (candidate->tcptype);
  return copy;
}

SfuSdpMedia *
sfu_sdp_media_new (void)
{
  SfuSdpMedia *media = g_new0 (SfuSdpMedia, 1);

  media->direction = SFU_SDP_DIR_SENDRECV;
  media->codecs = g_ptr_array_new_with_free_func ((GDestroyNotify)sfu_sdp_codec_free);
  media->extmaps = g_ptr_array_new_with_free_func ((GDestroyNotify)sfu_sdp_extmap_free);
  media->ssrcs = g_ptr_array_new_with_free_func ((GDestroyNotify)sfu_sdp_ssrc_free);
  media->ssrc_groups = g_ptr_array_new_with_free_func ((GDestroyNotify)sfu_sdp_ssrc_group_free);
  media->msids = g_ptr_array_new_with_free_func ((GDestroyNotify)sfu_sdp_msid_free);
  return media;
}

void
sfu_sdp_media_free (SfuSdpMedia *media)
{
  g_free (media->media);
  g_free (media->proto);
  g_free (media->formats);
  g_free (media->mid);
  g_ptr_array_unref (media->codecs);
  g_ptr_array_unref (media->extmaps);
  g_ptr_array_unref (media->ssrcs);
  g_ptr_array_unref (media->ssrc_groups);
  g_ptr_array_unref (media->msids);
  g_free (media);
}

typedef gpointer (*CopyFunc) (gconstpointer src);

static GPtrArray *
array_copy (const GPtrArray *src, CopyFunc copy, GDestroyNotify free_func)
{
  GPtrArray *dst = g_ptr_array_new_full (src->len, free_func);

  for (guint i = 0; i < src->len; i++)
    g_ptr_array_add (dst, copy (g_ptr_array_index (src, i)));
  return dst;
}

SfuSdpMedia *
sfu_sdp_media_copy (const SfuSdpMedia *media)
{
  SfuSdpMedia *copy = g_memdup2 (media, sizeof *media);

  copy->media = g_strdup (media->media);
  copy->proto = g_strdup (media->proto);
  copy->formats = g_strdup (media->formats);
  copy->mid = g_strdup (media->mid);
  copy->codecs = array_copy (media->codecs, (CopyFunc)sfu_sdp_codec_copy,
                             (GDestroyNotify)sfu_sdp_codec_free);
  copy->extmaps = array_copy (media->extmaps, (CopyFunc)sfu_sdp_extmap_copy,
                              (GDestroyNotify)sfu_sdp_extmap_free);
  copy->ssrcs
      = array_copy (media->ssrcs, (CopyFunc)sfu_sdp_ssrc_copy, (GDestroyNotify)sfu_sdp_ssrc_free);
  copy->ssrc_groups = array_copy (media->ssrc_groups, (CopyFunc)sfu_sdp_ssrc_group_copy,
                                  (GDestroyNotify)sfu_sdp_ssrc_group_free);
  copy->msids
      = array_copy (media->msids, (CopyFunc)sfu_sdp_msid_copy, (GDestroyNotify)sfu_sdp_msid_free);
  return copy;
}

void
sfu_sdp_init (SfuSdp *sdp)
{
  memset (sdp, 0, sizeof *sdp);
  sdp->bundle = g_ptr_array_new_with_free_func (g_free);
  sdp->candidates = g_ptr_array_new_with_free_func ((GDestroyNotify)sfu_sdp_candidate_free);
  sdp->media = g_ptr_array_new_with_free_func ((GDestroyNotify)sfu_sdp_media_free);
}

void
sfu_sdp_clear (SfuSdp *sdp)
{
  g_return_if_fail (sdp != NULL);

  g_free (sdp->ice_ufrag);
  if (sdp->ice_pwd)
    memset (sdp->ice_pwd, 0, strlen (sdp->ice_pwd));
  g_free (sdp->ice_pwd);
  g_free (sdp->fingerprint_alg);
  g_free (sdp->fingerprint);
  g_clear_pointer (&sdp->bundle, g_ptr_array_unref);
  g_clear_pointer (&sdp->candidates, g_ptr_array_unref);
  g_clear_pointer (&sdp->media, g_ptr_array_unref);
  memset (sdp, 0, sizeof *sdp);
}

SfuSdp *
sfu_sdp_new (void)
{
  SfuSdp *sdp = g_new (SfuSdp, 1);

  sfu_sdp_init (sdp);
  return sdp;
}

void
sfu_sdp_free (SfuSdp *sdp)
{
  if (sdp == NULL)
    return;
  sfu_sdp_clear (sdp);
  g_free (sdp);
}

SfuSdp *
sfu_sdp_copy (const SfuSdp *sdp)
{
  SfuSdp *copy;

  g_return_val_if_fail (sdp != NULL, NULL);

  copy = g_memdup2 (sdp, sizeof *sdp);
  copy->ice_ufrag = g_strdup (sdp->ice_ufrag);
  copy->ice_pwd = g_strdup (sdp->ice_pwd);
  copy->fingerprint_alg = g_strdup (sdp->fingerprint_alg);
  copy->fingerprint = g_strdup (sdp->fingerprint);
  copy->bundle = array_copy (sdp->bundle, (CopyFunc)g_strdup, g_free);
  copy->candidates = array_copy (sdp->candidates, (CopyFunc)sfu_sdp_candidate_copy,
                                 (GDestroyNotify)sfu_sdp_candidate_free);
  copy->media
      = array_copy (sdp->media, (CopyFunc)sfu_sdp_media_copy, (GDestroyNotify)sfu_sdp_media_free);
  return copy;
}

/* ---- equality ---- */

typedef gboolean (*EqualFunc) (gconstpointer a, gconstpointer b);

static gboolean
arrays_equal (const GPtrArray *a, const GPtrArray *b, EqualFunc equal)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++) {
    if (!equal (g_ptr_array_index (a, i), g_ptr_array_index (b, i)))
      return FALSE;
  }
  return TRUE;
}

static gboolean
str_equal (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (a, b) == 0;
}

static gboolean
codec_equal (gconstpointer pa, gconstpointer pb)
{
  const SfuSdpCodec *a = pa, *b = pb;

  return a->pt == b->pt && str_equal (a->name, b->name) && a->clock_rate == b->clock_rate
         && a->channels == b->channels && str_equal (a->fmtp, b->fmtp) && a->feedback == b->feedback
         && a->rtx_pt == b->rtx_pt && a->apt == b->apt;
}

static gboolean
extmap_equal (gconstpointer pa, gconstpointer pb)
{
  const SfuSdpExtmap *a = pa, *b = pb;

  return a->id == b->id && a->direction == b->direction && str_equal (a->uri, b->uri);
}

static gboolean
ssrc_equal (gconstpointer pa, gconstpointer pb)
{
  const SfuSdpSsrc *a = pa, *b = pb;

  return a->ssrc == b->ssrc && str_equal (a->cname, b->cname)
         && str_equal (a->msid_stream, b->msid_stream) && str_equal (a->msid_track, b->msid_track);
}

static gboolean
ssrc_group_equal (gconstpointer pa, gconstpointer pb)
{
  const SfuSdpSsrcGroup *a = pa, *b = pb;

  return str_equal (a->semantics, b->semantics) && a->n_ssrcs == b->n_ssrcs
         && memcmp (a->ssrcs, b->ssrcs, a->n_ssrcs * sizeof a->ssrcs[0]) == 0;
}

static gboolean
msid_equal (gconstpointer pa, gconstpointer pb)
{
  const SfuSdpMsid *a = pa, *b = pb;

  return str_equal (a->stream, b->stream) && str_equal (a->track, b->track);
}

static gboolean
candidate_equal (gconstpointer pa, gconstpointer pb)
{
  const SfuSdpCandidate *a = pa, *b = pb;

  return str_equal (a->foundation, b->foundation) && a->component == b->component
         && a->transport == b->transport && a->priority == b->priority
         && str_equal (a->address, b->address) && a->port == b->port && str_equal (a->type, b->type)
         && str_equal (a->raddr, b->raddr) && a->rport == b->rport
         && str_equal (a->tcptype, b->tcptype);
}

static gboolean
media_equal (gconstpointer pa, gconstpointer pb)
{
  const SfuSdpMedia *a = pa, *b = pb;

  return a->kind == b->kind && str_equal (a->media, b->media) && str_equal (a->proto, b->proto)
         && a->port == b->port && str_equal (a->formats, b->formats) && str_equal (a->mid, b->mid)
         && a->direction == b->direction && a->bundle_only == b->bundle_only
         && a->rtcp_mux == b->rtcp_mux && a->rtcp_rsize == b->rtcp_rsize
         && arrays_equal (a->codecs, b->codecs, codec_equal)
         && arrays_equal (a->extmaps, b->extmaps, extmap_equal)
         && arrays_equal (a->ssrcs, b->ssrcs, ssrc_equal)
         && arrays_equal (a->ssrc_groups, b->ssrc_groups, ssrc_group_equal)
         && arrays_equal (a->msids, b->msids, msid_equal);
}

gboolean
sfu_sdp_equal (const SfuSdp *a, const SfuSdp *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  return a->session_id == b->session_id && a->session_version == b->session_version
         && str_equal (a->ice_ufrag, b->ice_ufrag) && str_equal (a->ice_pwd, b->ice_pwd)
         && a->ice_lite == b->ice_lite && a->ice_trickle == b->ice_trickle
         && str_equal (a->fingerprint_alg, b->fingerprint_alg)
         && str_equal (a->fingerprint, b->fingerprint) && a->setup == b->setup
         && a->extmap_allow_mixed == b->extmap_allow_mixed
         && arrays_equal (a->bundle, b->bundle, str_equal)
         && arrays_equal (a->candidates, b->candidates, candidate_equal)
         && a->end_of_candidates == b->end_of_candidates
         && arrays_equal (a->media, b->media, media_equal);
}

/* ---- lookups ---- */

gboolean
sfu_sdp_media_is_rejected (const SfuSdpMedia *media)
{
  g_return_val_if_fail (media != NULL, TRUE);

  return media->port == 0 && !media->bundle_only;
}

SfuSdpMedia *
sfu_sdp_find_media (const SfuSdp *sdp, const char *mid)
{
  g_return_val_if_fail (sdp != NULL, NULL);

  for (guint i = 0; mid != NULL && i < sdp->media->len; i++) {
    SfuSdpMedia *media = g_ptr_array_index (sdp->media, i);

    if (g_strcmp0 (media->mid, mid) == 0)
      return media;
  }
  return NULL;
}

SfuSdpCodec *
sfu_sdp_media_find_codec (const SfuSdpMedia *media, guint pt)
{
  g_return_val_if_fail (media != NULL, NULL);

  for (guint i = 0; i < media->codecs->len; i++) {
    SfuSdpCodec *codec = g_ptr_array_index (media->codecs, i);

    if (codec->pt == pt)
      return codec;
  }
  return NULL;
}

int
sfu_sdp_media_find_pt (const SfuSdpMedia *media, const char *name)
{
  g_return_val_if_fail (media != NULL && name != NULL, -1);

  for (guint i = 0; i < media->codecs->len; i++) {
    const SfuSdpCodec *codec = g_ptr_array_index (media->codecs, i);

    if (codec->name && g_ascii_strcasecmp (codec->name, name) == 0)
      return codec->pt;
  }
  return -1;
}

int
sfu_sdp_media_find_extmap (const SfuSdpMedia *media, const char *uri)
{
  g_return_val_if_fail (media != NULL && uri != NULL, -1);

  for (guint i = 0; i < media->extmaps->len; i++) {
    const SfuSdpExtmap *extmap = g_ptr_array_index (media->extmaps, i);

    if (strcmp (extmap->uri, uri) == 0)
      return extmap->id;
  }
  return -1;
}

/* ---- value checks ---- */

gboolean
sfu_sdp_is_ice_chars (const char *s, gsize min_len, gsize max_len)
{
  gsize n;

  if (s == NULL)
    return FALSE;
  n = strlen (s);
  if (n < min_len || n > max_len)
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    if (!g_ascii_isalnum (s[i]) && s[i] != '+' && s[i] != '/')
      return FALSE;
  }
  return TRUE;
}

static const struct {
  const char *name;
  guint size;
} hash_algs[] = {
  { "sha-1", 20 }, { "sha-224", 28 }, { "sha-256", 32 }, { "sha-384", 48 }, { "sha-512", 64 },
};

guint
sfu_sdp_hash_size (const char *alg)
{
  for (gsize i = 0; i < G_N_ELEMENTS (hash_algs); i++) {
    if (g_ascii_strcasecmp (alg, hash_algs[i].name) == 0)
      return hash_algs[i].size;
  }
  return 0;
}

gboolean
sfu_sdp_is_fingerprint (const char *alg, const char *value)
{
  guint size = alg ? sfu_sdp_hash_size (alg) : 0;

  if (size == 0 || value == NULL || strlen (value) != size * 3 - 1)
    return FALSE;
  for (guint i = 0; i < size; i++) {
    const char *p = value + i * 3;

    if (!g_ascii_isxdigit (p[0]) || !g_ascii_isxdigit (p[1]) || (i + 1 < size && p[2] != ':'))
      return FALSE;
  }
  return TRUE;
}
