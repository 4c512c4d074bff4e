/* SPDX-License-Identifier: MIT */
/* libFuzzer target for callrec-server's signaling-message validation (srv_message_parse()
 * in server/srv-shape.c): the bytes are one WebSocket text frame. A message either fails
 * with an error in SRV_SHAPE_ERROR (a field error names the field) or is one of the
 * declared types whose every member the typed getters read back; GLib criticals and
 * warnings abort. */
#include "srv-shape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gsize init = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (SrvMessage) msg = NULL;
  g_autofree char *field = NULL;
  gint64 seq = -2;

  if (g_once_init_enter (&init)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&init, 1);
  }
  msg = srv_message_parse ((const char *) data, size, &seq, &field, &error);
  if (seq < -1 || seq > SRV_MESSAGE_MAX_SEQ)
    abort ();
  if (msg == NULL) {
    if (error == NULL || error->domain != SRV_SHAPE_ERROR)
      abort ();
    if (error->code == SRV_SHAPE_ERROR_BAD_FIELD && field == NULL)
      abort ();
    if (error->code == SRV_SHAPE_ERROR_UNKNOWN_TYPE && seq < 0)
      abort (); /* the type is looked at only once seq is known good */
    return 0;
  }
  if (error != NULL || msg->data == NULL || msg->type >= SRV_MESSAGE_COUNT || msg->seq != seq)
    abort ();
  if (srv_message_type_name (msg->type) == NULL)
    abort ();
  {
    g_autoptr (GList) names = json_object_get_members (msg->data);

    for (GList *l = names; l; l = l->next) {
      const char *s = srv_shape_get_string (msg->data, l->data);

      srv_shape_get_int (msg->data, l->data, 0);
      srv_shape_get_bool (msg->data, l->data, FALSE);
      /* Only "sdp" may carry line breaks; no string carries other control bytes. */
      for (const char *p = s; p && *p; p++) {
        if ((guchar)*p < 0x20 && !(strcmp (l->data, "sdp") == 0 && strchr ("\r\n\t", *p)))
          abort ();
      }
    }
  }
  return 0;
}
