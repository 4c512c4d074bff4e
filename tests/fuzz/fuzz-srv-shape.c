/* SPDX-License-Identifier: MIT */
/* libFuzzer target for callrec-server's request-body validation (srv-shape.c): the first
 * byte picks the declared shape, the rest is the body. A body either fails with an error
 * in SRV_SHAPE_ERROR or yields an object whose every member the getters can read; GLib
 * criticals and warnings abort. */
#include "srv-shape.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gsize init = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) obj = NULL;
  g_autofree char *field = NULL;
  SrvShapeId id;

  if (g_once_init_enter (&init)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&init, 1);
  }
  if (size < 1)
    return 0;
  id = data[0] % SRV_SHAPE_COUNT;
  obj = srv_shape_parse (id, (const char *) data + 1, size - 1, &field, &error);
  if (obj == NULL) {
    if (error == NULL || error->domain != SRV_SHAPE_ERROR)
      abort ();
    if (error->code == SRV_SHAPE_ERROR_BAD_FIELD && field == NULL)
      abort ();
    return 0;
  }
  if (error != NULL)
    abort ();
  {
    g_autoptr (GList) names = json_object_get_members (obj);

    for (GList *l = names; l; l = l->next) {
      g_autofree const char **v = srv_shape_get_strv (obj, l->data);

      srv_shape_get_string (obj, l->data);
      srv_shape_get_bool (obj, l->data, FALSE);
      for (gsize i = 0; v && v[i]; i++)
        if (v[i][0] == '\0')
          abort (); /* array elements are never empty */
    }
  }
  return 0;
}
