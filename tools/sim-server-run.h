/* SPDX-License-Identifier: MIT */
#pragma once

#include "sim-ws.h"

G_BEGIN_DECLS

/* Runs a simulated call on callrec-server (config), with a callrec-recorder joining it as
 * a bot member, for `seconds`; then stops the recorder (SIGTERM) and leaves. Prints
 * "recorder pid N", "recording started" and, on success, "recorded FILE" on stdout.
 * Returns the exit status: the recorder's, or 2 when the setup failed. */
int sim_run_on_server (const SimWsConfig *config, const char *record, const char *recorder_path,
                       char **recorder_args, int n_args, double seconds);

/* --host-records: the participants join; once all are connected participant 0, the host,
 * starts the server's recording, stops it after `seconds`, and waits for its post in the
 * call thread. Prints "recording started", then "thread:" with the thread's posts and
 * "recording file ID". Returns 0 when the post came, 1 otherwise, 2 when setup failed. */
int sim_run_host_recording (const SimWsConfig *config, double seconds);

G_END_DECLS
