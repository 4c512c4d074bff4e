/* SPDX-License-Identifier: MIT */
/* Network byte order reads and writes for the packet parsers. Callers check lengths. */
#pragma once

#include <glib.h>

static inline guint16
sfu_rd16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static inline guint32
sfu_rd24 (const guint8 *p)
{
  return (guint32) p[0] << 16 | (guint32) p[1] << 8 | p[2];
}

static inline guint32
sfu_rd32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static inline void
sfu_wr16 (guint8 *p, guint16 v)
{
  p[0] = (guint8) (v >> 8);
  p[1] = (guint8) (v & 0xFF);
}

static inline void
sfu_wr24 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 16);
  p[1] = (guint8) (v >> 8);
  p[2] = (guint8) v;
}

static inline void
sfu_wr32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}
