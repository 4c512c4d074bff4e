/* SPDX-License-Identifier: MIT */
#pragma once

#include "rec-session.h"
#include "sim-call.h"

G_BEGIN_DECLS

/* Runs a simulated call against a recorder in this process: two sets of webrtcbin peers
 * back to back, signaling passed as serialized lines through the main loop, no server.
 * Then the test inspects the MP4 (tests/media-check.h). */

typedef struct {
  double at_s;      /* after the call started */
  const char *line; /* a raw signaling line sent to the recorder as if from the sim, */
  void (*run) (RecSession *session); /* or this run on the recorder; both end the list */
} TestInjection;

typedef struct {
  RecSessionConfig rec;
  SimCallConfig sim;
  double seconds;                   /* stop the recording this long after the call starts */
  const TestInjection *injections;  /* terminated by line == run == NULL, may be NULL */
} TestCallSpec;

typedef struct {
  char *dir;
  char *path;        /* the MP4 */
  gboolean finished; /* the recorder reported the file finished */
  char *reason;
  PlStats stats;     /* taken just before the stop */
  GPtrArray *statuses; /* "state: reason" strings the recorder sent */
  double call_started_at; /* recording elapsed time when the sim call started, seconds */
} TestCallResult;

/* Defaults: 1280x720 output at veryfast, 2 voices, a 1280x720 VP8 share, 8 s. */
void test_call_spec_init (TestCallSpec *spec);
void test_call_spec_clear (TestCallSpec *spec);
void test_call_run (const TestCallSpec *spec, TestCallResult *result);
void test_call_result_clear (TestCallResult *result);
gboolean test_call_result_has_status (const TestCallResult *result, const char *prefix);

G_END_DECLS
