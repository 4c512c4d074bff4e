/* SPDX-License-Identifier: MIT */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include "sim-media.h"
#include "sim-peer.h"

G_BEGIN_DECLS

typedef enum {
  SIM_SHARE_NONE,
  SIM_SHARE_VP8,
  SIM_SHARE_H264,
  SIM_SHARE_VP9, /* not recorded: exercises the recorder's "unsupported codec" path */
} SimShareCodec;

typedef struct {
  SimContent content;
  gboolean marks;          /* sync marks: flashes and beeps (participant 0) */
  gboolean never_keyframe; /* the share drops every keyframe it encodes */
  double corrupt_at_s;     /* > 0: garble share packets for 0.5 s from then */
  int share_kbps;
  const char *share_dump;  /* VP8 only: also write the encoded share to this WebM file */
} SimMediaOptions;

/* One synthetic participant: a voice and, on demand, a screen share, encoded once and sent
 * on one peer connection per recorder, which may be its own or shared with the whole call. Its id "p<index>" is the
 * msid stream of its tracks. Main context only. */
typedef struct _SimParticipant SimParticipant;

/* Recordings one sim feeds at once: each track is encoded once and sent to all. */
#define SIM_MAX_RECORDERS 16

/* peers (transfer none), one per recorder, must outlive the participant. */
SimParticipant *sim_participant_new (GstPipeline *pipeline, SimPeer *const *peers,
                                     guint n_peers, guint index, const char *name,
                                     const SimMediaOptions *options);
/* Stops its tracks (their m-lines go inactive; the caller renegotiates if the peer lives
 * on) and removes its branches from the pipeline. */
void sim_participant_free (SimParticipant *p);
const char *sim_participant_get_id (SimParticipant *p);
const char *sim_participant_get_name (SimParticipant *p);
SimPeer *sim_participant_get_peer (SimParticipant *p, guint recorder);

/* Adds the voice; the caller then offers (sim_peer_negotiate), so a share added in between
 * is part of the first negotiation. */
gboolean sim_participant_start (SimParticipant *p, GError **error);
void sim_participant_set_muted (SimParticipant *p, gboolean muted);
/* Starts a share on a new m-line (renegotiating); a running share is stopped first. */
gboolean sim_participant_share_on (SimParticipant *p, SimShareCodec codec, int width,
                                   int height, GError **error);
void sim_participant_share_off (SimParticipant *p);

G_END_DECLS
