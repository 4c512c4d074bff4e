/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A recorder's pid file, next to its output, so that a restarted server can tell whether
 * the recorder the last process left running is still alive: "PID START\n", START being the
 * process's start time (field 22 of /proc/PID/stat), which tells a reused PID apart. */

typedef enum {
  SRV_PIDFILE_ALIVE,
  SRV_PIDFILE_GONE,    /* the process exited (or is a zombie), or the PID now names another */
  SRV_PIDFILE_UNKNOWN, /* no readable pid file: nothing can be said */
} SrvPidfileState;

gboolean srv_pidfile_write (const char *path, GPid pid, GError **error);
SrvPidfileState srv_pidfile_check (const char *path);

G_END_DECLS
