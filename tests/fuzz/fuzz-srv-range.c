/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the HTTP Range header parser (srv-range.c): the first 8 bytes are
 * the representation size, the rest the header. A partial result must lie inside the
 * representation. */
#include "srv-range.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *header = NULL;
  guint64 raw = 0;
  gint64 file_size, start = -1, end = -1;

  if (size < 8)
    return 0;
  memcpy (&raw, data, 8);
  file_size = (gint64) (raw & G_GUINT64_CONSTANT (0x3fffffffffffffff));
  header = g_strndup ((const char *) data + 8, size - 8);
  switch (srv_range_parse (header, file_size, &start, &end)) {
  case SRV_RANGE_PARTIAL:
    if (start < 0 || end < start || end >= file_size)
      abort ();
    break;
  case SRV_RANGE_FULL:
  case SRV_RANGE_UNSATISFIABLE:
    break;
  default:
    abort ();
  }
  return 0;
}
