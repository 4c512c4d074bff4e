/* SPDX-License-Identifier: MIT */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include "sim-media.h"

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

/* One synthetic participant: a sendonly webrtcbin peer connection (the offerer) with a
 * voice and, on demand, a screen share. Its connection id is "p<index>", which is also
 * its participant id. Main context only. */
typedef struct _SimParticipant SimParticipant;

/* data (transfer none) already holds "conn". */
typedef void (*SimSendFunc) (SimParticipant *p, const char *type, JsonObject *data,
                             gpointer user_data);

SimParticipant *sim_participant_new (GstPipeline *pipeline, guint index, const char *name,
                                     const SimMediaOptions *options, SimSendFunc send,
                                     gpointer user_data);
/* Removes the connection from the pipeline (the caller tells the other side). */
void sim_participant_free (SimParticipant *p);
const char *sim_participant_get_id (SimParticipant *p);
const char *sim_participant_get_name (SimParticipant *p);

/* Adds the voice; sim_participant_offer() then sends the first offer, so a share added
 * in between is part of the first negotiation. */
gboolean sim_participant_start (SimParticipant *p, GError **error);
void sim_participant_offer (SimParticipant *p);
void sim_participant_set_muted (SimParticipant *p, gboolean muted);
/* Starts a share on a new m-line (renegotiating); a running share is stopped first. */
gboolean sim_participant_share_on (SimParticipant *p, SimShareCodec codec, int width,
                                   int height, GError **error);
void sim_participant_share_off (SimParticipant *p);
gboolean sim_participant_is_connected (SimParticipant *p);

/* An "sdp" answer or an "ice" message for this connection. */
void sim_participant_handle_answer (SimParticipant *p, const char *sdp);
void sim_participant_handle_candidate (SimParticipant *p, guint mline, const char *candidate);

G_END_DECLS
