/* SPDX-License-Identifier: MIT */
#include "srv-range.h"

#include <string.h>

/* Reads a run of decimal digits at *p; FALSE if there is none or it overflows. */
static gboolean
read_number (const char **p, gint64 *value)
{
  gint64 v = 0;
  const char *s = *p;

  if (!g_ascii_isdigit (*s))
    return FALSE;
  while (g_ascii_isdigit (*s)) {
    int d = *s - '0';

    if (v > (G_MAXINT64 - d) / 10)
      return FALSE;
    v = v * 10 + d;
    s++;
  }
  *p = s;
  *value = v;
  return TRUE;
}

static const char *
skip_ows (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

SrvRangeResult
srv_range_parse (const char *header, gint64 size, gint64 *start, gint64 *end)
{
  const char *p;
  gint64 first = -1, last = -1;

  g_return_val_if_fail (size >= 0, SRV_RANGE_FULL);

  if (header == NULL || g_ascii_strncasecmp (header, "bytes=", 6) != 0)
    return SRV_RANGE_FULL;
  p = skip_ows (header + 6);
  if (*p == '-') {
    gint64 suffix;

    p++;
    if (!read_number (&p, &suffix))
      return SRV_RANGE_FULL;
    p = skip_ows (p);
    if (*p != '\0')
      return SRV_RANGE_FULL; /* several ranges, or trailing junk */
    if (suffix == 0 || size == 0)
      return SRV_RANGE_UNSATISFIABLE;
    *start = suffix >= size ? 0 : size - suffix;
    *end = size - 1;
    return SRV_RANGE_PARTIAL;
  }
  if (!read_number (&p, &first) || *p != '-')
    return SRV_RANGE_FULL;
  p++;
  if (g_ascii_isdigit (*p) && !read_number (&p, &last))
    return SRV_RANGE_FULL;
  p = skip_ows (p);
  if (*p != '\0')
    return SRV_RANGE_FULL;
  if (last >= 0 && last < first)
    return SRV_RANGE_FULL; /* syntactically invalid: ignored (RFC 9110 §14.1.1) */
  if (first >= size)
    return SRV_RANGE_UNSATISFIABLE;
  *start = first;
  *end = (last < 0 || last >= size) ? size - 1 : last;
  return SRV_RANGE_PARTIAL;
}
