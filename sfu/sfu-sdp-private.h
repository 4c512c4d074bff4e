/* SPDX-License-Identifier: MIT */
#pragma once

#include "sfu-sdp.h"

G_BEGIN_DECLS

/* Shared by sfu-sdp-model.c (model, lookups), sfu-sdp.c (parser) and sfu-sdp-write.c (answer,
 * writer, re-offers). Constructors return zeroed elements with their arrays allocated; every
 * *_copy is deep. */

SfuSdpMedia *sfu_sdp_media_new (void);
void sfu_sdp_media_free (SfuSdpMedia *media);
SfuSdpMedia *sfu_sdp_media_copy (const SfuSdpMedia *media);

SfuSdpCodec *sfu_sdp_codec_new (guint pt);
void sfu_sdp_codec_free (SfuSdpCodec *codec);
SfuSdpCodec *sfu_sdp_codec_copy (const SfuSdpCodec *codec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfuSdpCodec, sfu_sdp_codec_free)

SfuSdpExtmap *sfu_sdp_extmap_new (guint id, const char *uri);
void sfu_sdp_extmap_free (SfuSdpExtmap *extmap);
SfuSdpExtmap *sfu_sdp_extmap_copy (const SfuSdpExtmap *extmap);

SfuSdpSsrc *sfu_sdp_ssrc_new (guint32 ssrc);
void sfu_sdp_ssrc_free (SfuSdpSsrc *ssrc);
SfuSdpSsrc *sfu_sdp_ssrc_copy (const SfuSdpSsrc *ssrc);

SfuSdpSsrcGroup *sfu_sdp_ssrc_group_new (const char *semantics);
void sfu_sdp_ssrc_group_free (SfuSdpSsrcGroup *group);
SfuSdpSsrcGroup *sfu_sdp_ssrc_group_copy (const SfuSdpSsrcGroup *group);

SfuSdpMsid *sfu_sdp_msid_new (const char *stream, const char *track);
void sfu_sdp_msid_free (SfuSdpMsid *msid);
SfuSdpMsid *sfu_sdp_msid_copy (const SfuSdpMsid *msid);

void sfu_sdp_candidate_free (SfuSdpCandidate *candidate);
SfuSdpCandidate *sfu_sdp_candidate_copy (const SfuSdpCandidate *candidate);

/* Zeroes @sdp and allocates its arrays. */
void sfu_sdp_init (SfuSdp *sdp);

/* Digest bytes of "sha-256" and the like (case-insensitive); 0 for an unknown one. */
guint sfu_sdp_hash_size (const char *alg);
/* ice-char (RFC 8839 §5.4): ALPHA / DIGIT / "+" / "/". */
gboolean sfu_sdp_is_ice_chars (const char *s, gsize min_len, gsize max_len);
/* Hostnames (mDNS "<uuid>.local") and IPv4/IPv6 literals, up to SFU_SDP_MAX_VALUE. */
gboolean sfu_sdp_is_address (const char *s);
/* "XX:XX:…" with exactly the digest size of @alg; FALSE for an unknown @alg. */
gboolean sfu_sdp_is_fingerprint (const char *alg, const char *value);

G_END_DECLS
