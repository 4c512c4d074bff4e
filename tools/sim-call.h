/* SPDX-License-Identifier: MIT */
#pragma once

#include "sim-participant.h"

G_BEGIN_DECLS

/* A simulated call: N participants, participant 0 optionally sharing its screen, and a
 * schedule of mute/unmute/share/leave/join events, all talking to one recorder through
 * signaling lines (common/cr-message). Main context only. */
typedef struct _SimCall SimCall;

typedef struct {
  guint voices;
  SimShareCodec share;
  int share_width;
  int share_height;
  SimMediaOptions media;
  /* "T:action[:arg],…" with actions mute:K unmute:K leave:K join:K share-off
   * share-on[:WxH] at T seconds after start. */
  const char *schedule;
  /* TRUE: every participant's tracks on one connection "call", one msid stream each, as
   * the SFU forwards a call to the recording bot. FALSE: one connection per participant,
   * its id the participant's, as browsers talking to the recorder directly. */
  gboolean one_connection;
  /* Recorders fed at once (1…SIM_MAX_RECORDERS; 0 means 1): each track is encoded once
   * and sent to every recorder on its own connections, as an SFU forwards one call to
   * several bots. Recorders are numbered from 0. */
  guint recorders;
  /* TRUE: ask each recorder to offer first ("connect"), answer, then offer our tracks in a
   * renegotiation: the order of a recorder joining an SFU. */
  gboolean recorder_offers;
} SimCallConfig;

/* A line for recorder number `recorder`. */
typedef void (*SimLineFunc) (guint recorder, const char *line, gpointer user_data);
/* A "status" message from a recorder. */
typedef void (*SimStatusFunc) (guint recorder, const char *state, const char *reason,
                               double elapsed_s, gpointer user_data);

SimCall *sim_call_new (const SimCallConfig *config, SimLineFunc send_line,
                       SimStatusFunc on_status, gpointer user_data, GError **error);
void sim_call_free (SimCall *call);
/* Starts the media and the schedule's clock. */
gboolean sim_call_start (SimCall *call, GError **error);
void sim_call_handle_line (SimCall *call, guint recorder, const char *line, gsize length);
/* Tells every recorder to stop. */
void sim_call_send_stop (SimCall *call);
/* Participants connected to recorder 0. */
guint sim_call_count_connected (SimCall *call);
/* "WxH" with both sides 16…4096: the sizes a sim share can have. */
gboolean sim_parse_share_size (const char *text, int *width, int *height);

/* Parses a schedule; exposed for tests. Returns the number of events or -1. */
int sim_schedule_validate (const char *schedule, GError **error);

/* Participant display names: "Alice", "Bob", … */
const char *sim_participant_name (guint index);

G_END_DECLS
