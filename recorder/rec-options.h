/* SPDX-License-Identifier: MIT */
#pragma once

#include "rec-session.h"

G_BEGIN_DECLS

/* Command-line options shared by callrec-recorder and callrec-sim for the recording's
 * output settings. Adds them to context, writing into config. */
GOptionGroup *rec_options_group (RecSessionConfig *config);
/* Applies parsed string options (preset, title); call after g_option_context_parse. */
gboolean rec_options_finish (RecSessionConfig *config, GError **error);

G_END_DECLS
