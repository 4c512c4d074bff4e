/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SRV_RANGE_FULL,          /* no usable Range header: send the whole file (200) */
  SRV_RANGE_PARTIAL,       /* one satisfiable range: send [start, end] (206) */
  SRV_RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes *\/size */
} SrvRangeResult;

/* Interprets an HTTP Range header (RFC 9110 §14) for a representation of @size bytes.
 * Only a single byte range is honoured ("bytes=a-b", "bytes=a-", "bytes=-n"); a header
 * that does not parse, another unit, or several ranges is ignored, as the RFC allows, and
 * the whole file is sent. @end is inclusive and clamped to the last byte. */
SrvRangeResult srv_range_parse (const char *header, gint64 size, gint64 *start, gint64 *end);

G_END_DECLS
