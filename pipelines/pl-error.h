/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PL_ERROR (pl_error_quark ())
GQuark pl_error_quark (void);

typedef enum {
  PL_ERROR_CONFIG,        /* a setting out of range */
  PL_ERROR_MISSING_ELEMENT, /* a GStreamer plugin is not installed */
  PL_ERROR_UNSUPPORTED,   /* a codec we do not record */
  PL_ERROR_TRACK,         /* duplicate or unknown track id, second share */
  PL_ERROR_PIPELINE,      /* a GStreamer bus error from the output path */
  PL_ERROR_STOP_TIMEOUT,  /* the file was not finished within the deadline */
} PlError;

G_END_DECLS
