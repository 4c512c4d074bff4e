/* SPDX-License-Identifier: MIT */
/* libFuzzer target for cr-message: any bytes as one signaling message. A message that
 * parses must serialize, the serialized text must parse back to an equal message, and
 * serializing that again must give the same bytes. GLib criticals and warnings abort. */
#include "cr-message.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gsize init = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (CrMessage) msg = NULL;
  g_autoptr (CrMessage) again = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;
  g_autoptr (JsonNode) a = NULL;
  g_autoptr (JsonNode) b = NULL;

  if (g_once_init_enter (&init)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&init, 1);
  }

  msg = cr_message_parse ((const char *) data, size, &error);
  if (msg == NULL) {
    if (error == NULL || error->domain != CR_MESSAGE_ERROR)
      abort ();
    return 0;
  }
  if (msg->data == NULL || msg->seq < 0 || msg->seq > CR_MESSAGE_MAX_SEQ)
    abort ();
  /* Exercise the getters on every member. */
  {
    g_autoptr (GList) names = json_object_get_members (msg->data);

    for (GList *l = names; l; l = l->next) {
      cr_message_get_string (msg, l->data);
      cr_message_get_int (msg, l->data, 0);
      cr_message_get_double (msg, l->data, 0);
      cr_message_get_bool (msg, l->data, FALSE);
    }
  }

  text = cr_message_serialize (msg->type, msg->seq, msg->data, &error);
  if (text == NULL || strchr (text, '\n') != NULL)
    abort ();
  again = cr_message_parse (text, -1, &error);
  if (again == NULL || strcmp (again->type, msg->type) != 0 || again->seq != msg->seq)
    abort ();
  a = json_node_init_object (json_node_alloc (), msg->data);
  b = json_node_init_object (json_node_alloc (), again->data);
  if (!json_node_equal (a, b))
    abort ();
  text2 = cr_message_serialize (again->type, again->seq, again->data, &error);
  if (text2 == NULL || strcmp (text, text2) != 0)
    abort ();
  return 0;
}
