/* SPDX-License-Identifier: MIT */
/* libFuzzer target for sfu-sdp: any bytes as a peer's SDP. On success: the text written
 * from the model parses back to the same model (unless writing it out grew it past a
 * limit); the SFU's answer is built, written, parsed back equal; a re-offer derived from
 * the answer (a forwarded track added, the first m-line made inactive) too. Anything that
 * aborts is a finding: a crash, a sanitizer report, a GLib critical or warning (fatal
 * below), or a broken invariant. */
#include "sfu-sdp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&done, 1);
  }
}

/* to_string, then parse: the same model, or a limit that the written form exceeds
 * (repeated ICE attributes, "a=rtcp-fb:*" expanded per payload type). */
static void
check_round_trip (const SfuSdp *sdp)
{
  g_autofree char *text = sfu_sdp_to_string (sdp);
  g_autoptr (GError) error = NULL;
  SfuSdp again = { 0 };

  if (text == NULL)
    abort ();
  if (!sfu_sdp_parse (text, strlen (text), &again, &error)) {
    if (!g_error_matches (error, SFU_SDP_ERROR, SFU_SDP_ERROR_LIMIT))
      abort ();
    return;
  }
  if (!sfu_sdp_equal (sdp, &again))
    abort ();
  sfu_sdp_clear (&again);
}

static void
check_answer (const SfuSdp *offer)
{
  static const SfuSdpLocalCandidate candidates[] = {
    { SFU_SDP_TRANSPORT_UDP, "127.0.0.1", 8443 },
    { SFU_SDP_TRANSPORT_TCP, "127.0.0.1", 8443 },
  };
  SfuSdpLocal local = {
    .ice_ufrag = "sfuU",
    .ice_pwd = "sfupasswordsfupassword",
    .fingerprint_alg = "sha-256",
    .fingerprint = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                   "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
    .session_id = 42,
    .candidates = candidates,
    .n_candidates = G_N_ELEMENTS (candidates),
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (SfuSdp) answer = sfu_sdp_answer (offer, &local, &error);
  g_autoptr (SfuSdp) reoffer = NULL;
  g_autoptr (SfuSdp) again = NULL;
  g_autofree char *mid = NULL;
  const SfuSdpMedia *source = NULL;

  if (answer == NULL) {
    if (error == NULL || error->domain != SFU_SDP_ERROR)
      abort ();
    return;
  }
  if (answer->media->len != offer->media->len || answer->setup != SFU_SDP_SETUP_PASSIVE
      || !answer->ice_lite)
    abort ();
  check_round_trip (answer);

  /* The peer re-offers what it got: the SFU's answer to it keeps its sending m-lines. */
  local.previous = answer;
  again = sfu_sdp_answer (offer, &local, NULL);
  if (again == NULL || again->session_version != answer->session_version + 1)
    abort ();

  reoffer = sfu_sdp_copy (answer);
  if (!sfu_sdp_equal (reoffer, answer))
    abort ();
  for (guint i = 0; i < answer->media->len && source == NULL; i++) {
    const SfuSdpMedia *m = g_ptr_array_index (answer->media, i);

    if (!sfu_sdp_media_is_rejected (m))
      source = m;
  }
  if (source == NULL || source->codecs->len == 0)
    abort ();
  mid = sfu_sdp_new_mid (reoffer);
  {
    const SfuSdpCodec *codec = g_ptr_array_index (source->codecs, 0);
    SfuSdpSendTrack track = {
      .kind = source->kind,
      .mid = mid,
      .codec = codec,
      .rtx = codec->rtx_pt >= 0 ? sfu_sdp_media_find_codec (source, codec->rtx_pt) : NULL,
      .ssrc = 1111,
      .rtx_ssrc = 2222,
      .cname = "sfu",
      .msid_stream = "stream",
      .msid_track = "track",
    };
    SfuSdpMedia *added = sfu_sdp_add_send_media (reoffer, &track, NULL);

    /* Fails only without a free payload type or with 64 m-lines already. */
    if (added
        && (added->direction != SFU_SDP_DIR_SENDONLY || added->ssrcs->len == 0
            || sfu_sdp_find_media (reoffer, mid) != added))
      abort ();
  }
  if (!sfu_sdp_set_inactive (reoffer, source->mid))
    abort ();
  sfu_sdp_bump_version (reoffer);
  check_round_trip (reoffer);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  SfuSdp sdp = { 0 };

  init_once ();
  if (!sfu_sdp_parse ((const char *)data, size, &sdp, &error)) {
    if (error == NULL || error->domain != SFU_SDP_ERROR || sdp.media != NULL)
      abort ();
    return 0;
  }
  if (sdp.media->len > SFU_SDP_MAX_MEDIA || sdp.candidates->len > SFU_SDP_MAX_CANDIDATES)
    abort ();
  for (guint i = 0; i < sdp.media->len; i++) {
    const SfuSdpMedia *m = g_ptr_array_index (sdp.media, i);

    if (m->codecs->len > SFU_SDP_MAX_CODECS || m->extmaps->len > SFU_SDP_MAX_EXTMAPS
        || m->ssrcs->len > SFU_SDP_MAX_SSRCS || (m->mid && sfu_sdp_find_media (&sdp, m->mid) != m))
      abort ();
  }
  check_round_trip (&sdp);
  check_answer (&sdp);
  sfu_sdp_clear (&sdp);
  return 0;
}
