/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-config.h"

G_BEGIN_DECLS

/* Installs the process's log writer: one line per record on stderr, as text
 * ("2026-01-02T03:04:05.678Z WARNING callrec-server: message") or as a JSON object with
 * ts, level, domain and msg. Debug and info records appear only when G_MESSAGES_DEBUG
 * names their domain (or "all"). Callers never pass secrets: tokens are logged by id only. */
void srv_log_init (SrvLogFormat format);

G_END_DECLS
