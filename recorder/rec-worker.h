/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* `callrec-recorder worker …`: a recording node that claims jobs from callrec-server and
 * runs each as a child recorder (rec-worker.c). Returns the exit status. */
int rec_worker_command (int argc, char **argv);

G_END_DECLS
