/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RTP sequence numbers are 16 bits and wrap, so "newer" only means "less than half the
 * space ahead" (RFC 3550 A.1, RFC 1982). Every comparison of sequence numbers in the SFU
 * goes through these two functions; never compare them with < or subtract them as ints. */

/* The signed distance from b to a, in -32768 .. 32767: positive when a is ahead of b.
 * Exactly half the space apart is ambiguous and reads as -32768 (behind) both ways. Written
 * without the implementation-defined narrowing cast to gint16. */
static inline gint
sfu_seq_diff (guint16 a, guint16 b)
{
  gint d = (gint) (guint16) (a - b);

  return d >= 0x8000 ? d - 0x10000 : d;
}

/* TRUE when a is strictly ahead of b. Neither of two numbers exactly 32768 apart is newer. */
static inline gboolean
sfu_seq_newer (guint16 a, guint16 b)
{
  return sfu_seq_diff (a, b) > 0;
}

G_END_DECLS
