/* SPDX-License-Identifier: MIT */
/* Calls and the control-plane entry points: each public function runs its work on the
 * call's loop with sfu_loop_invoke_sync() and returns its result. The caller's thread
 * keeps only the call table and the set of participant ids that posted callbacks check. */
#include "sfu-private.h"

#include <string.h>

SfuCall *
sfu_call_new (SfuServer *server, const char *call_id, GError **error)
{
  g_return_val_if_fail (server != NULL && call_id != NULL, NULL);
  if (g_hash_table_contains (server->calls, call_id)) {
    g_set_error (error, SFU_ERROR, SFU_ERROR_EXISTS, "call “%s” is already running", call_id);
    return NULL;
  }
  SfuCall *call = g_new0 (SfuCall, 1);
  guint n = sfu_loop_group_get_n_loops (server->group);

  call->server = server;
  call->id = g_strdup (call_id);
  /* Round robin: a call's whole media path stays on one thread. */
  call->loop = sfu_loop_group_get_loop (server->group, server->next_loop++ % n);
  call->participants = g_ptr_array_new ();
  call->handle = g_new0 (SfuCallHandle, 1);
  call->handle->refcount = 1;
  call->handle->server = server;
  call->handle->call_id = g_strdup (call_id);
  call->handle->members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_insert (server->calls, call->id, call);
  return call;
}

static void
end_on_loop (gpointer data)
{
  SfuCall *call = data;

  call->sharer = NULL;
  /* Free receivers' out-tracks and senders' in-tracks without renegotiating: everyone
   * goes. */
  for (guint i = 0; i < call->participants->len; i++)
    sfu_participant_free (g_ptr_array_index (call->participants, i));
  g_ptr_array_set_size (call->participants, 0);
}

void
sfu_call_end (SfuCall *call)
{
  if (!call)
    return;
  /* Participants are freed one by one; each unhooks its tracks from the others first. */
  sfu_loop_invoke_sync (call->loop, end_on_loop, call);
  call->handle->ended = TRUE;
  g_hash_table_remove (call->server->calls, call->id);
  sfu_call_handle_unref (call->handle);
  g_ptr_array_unref (call->participants);
  g_free (call->id);
  g_free (call);
}

const char *
sfu_call_get_id (SfuCall *call)
{
  return call->id;
}

static SfuParticipant *
find (SfuCall *call, const char *id)
{
  for (guint i = 0; i < call->participants->len; i++) {
    SfuParticipant *p = g_ptr_array_index (call->participants, i);
    if (strcmp (p->id, id) == 0)
      return p;
  }
  return NULL;
}

/* One control operation, run on the call's loop. */
typedef struct {
  SfuCall *call;
  const char *id;
  const char *sdp;
  char *answer;
  gboolean flag;
  SfuParticipantStats *stats;
  gboolean ok;
  GError *error;
} Op;

static SfuParticipant *
op_find (Op *op)
{
  SfuParticipant *p = find (op->call, op->id);

  if (!p)
    g_set_error (&op->error, SFU_ERROR, SFU_ERROR_NOT_FOUND, "no participant “%s” in call “%s”",
                 op->id, op->call->id);
  return p;
}

static gboolean
run (SfuCall *call, SfuLoopFunc func, Op *op, GError **error)
{
  op->call = call;
  sfu_loop_invoke_sync (call->loop, func, op);
  if (!op->ok) {
    g_propagate_error (error, op->error);
    return FALSE;
  }
  return TRUE;
}

static void
add_on_loop (gpointer data)
{
  Op *op = data;

  if (find (op->call, op->id)) {
    g_set_error (&op->error, SFU_ERROR, SFU_ERROR_EXISTS, "participant “%s” is already in call “%s”",
                 op->id, op->call->id);
    return;
  }
  SfuParticipant *p = sfu_participant_new (op->call, op->id, &op->error);
  if (!p)
    return;
  if (!sfu_negotiate_first_offer (p, op->sdp, &op->answer, &op->error)) {
    sfu_participant_free (p);
    return;
  }
  g_ptr_array_add (op->call->participants, p);
  sfu_negotiate_sync_all (op->call);
  op->ok = TRUE;
}

gboolean
sfu_participant_add (SfuCall *call, const char *participant_id, const char *offer_sdp,
                     char **answer_sdp, GError **error)
{
  Op op = { .id = participant_id, .sdp = offer_sdp };

  g_return_val_if_fail (call && participant_id && offer_sdp && answer_sdp, FALSE);
  if (!run (call, add_on_loop, &op, error))
    return FALSE;
  g_hash_table_add (call->handle->members, g_strdup (participant_id));
  *answer_sdp = op.answer;
  return TRUE;
}

static void
offer_on_loop (gpointer data)
{
  Op *op = data;
  SfuParticipant *p = op_find (op);

  if (p && sfu_negotiate_client_offer (p, op->sdp, &op->answer, &op->error)) {
    sfu_negotiate_sync_all (op->call);
    op->ok = TRUE;
  }
}

gboolean
sfu_participant_handle_offer (SfuCall *call, const char *participant_id, const char *offer_sdp,
                              char **answer_sdp, GError **error)
{
  Op op = { .id = participant_id, .sdp = offer_sdp };

  g_return_val_if_fail (call && participant_id && offer_sdp && answer_sdp, FALSE);
  if (!run (call, offer_on_loop, &op, error))
    return FALSE;
  *answer_sdp = op.answer;
  return TRUE;
}

static void
answer_on_loop (gpointer data)
{
  Op *op = data;
  SfuParticipant *p = op_find (op);

  if (p)
    op->ok = sfu_negotiate_apply_answer (p, op->sdp, &op->error);
}

gboolean
sfu_participant_apply_answer (SfuCall *call, const char *participant_id, const char *answer_sdp,
                              GError **error)
{
  Op op = { .id = participant_id, .sdp = answer_sdp };

  g_return_val_if_fail (call && participant_id && answer_sdp, FALSE);
  return run (call, answer_on_loop, &op, error);
}

static void
exists_on_loop (gpointer data)
{
  Op *op = data;

  op->ok = op_find (op) != NULL;
}

gboolean
sfu_participant_add_candidate (SfuCall *call, const char *participant_id, const char *candidate,
                               GError **error)
{
  Op op = { .id = participant_id };
  g_autofree char *text = NULL;
  SfuSdp sdp = { 0 };

  g_return_val_if_fail (call && participant_id, FALSE);
  if (!run (call, exists_on_loop, &op, error))
    return FALSE;
  /* An empty candidate is the end-of-candidates marker. */
  if (!candidate || !*candidate)
    return TRUE;
  if (g_str_has_prefix (candidate, "a="))
    candidate += 2;
  /* Checked with the SDP parser, inside a minimal description. */
  text = g_strdup_printf ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                          "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=%s\r\n",
                          candidate);
  if (strchr (candidate, '\r') || strchr (candidate, '\n') || !g_str_has_prefix (candidate, "candidate:") ||
      !sfu_sdp_parse (text, strlen (text), &sdp, NULL) || sdp.candidates->len != 1) {
    sfu_sdp_clear (&sdp);
    g_set_error (error, SFU_ERROR, SFU_ERROR_INVALID, "not an ICE candidate");
    return FALSE;
  }
  sfu_sdp_clear (&sdp);
  return TRUE;
}

static void
remove_on_loop (gpointer data)
{
  Op *op = data;
  SfuParticipant *p = op_find (op);

  if (!p)
    return;
  g_ptr_array_remove (op->call->participants, p);
  if (op->call->sharer == p)
    op->call->sharer = NULL;
  sfu_participant_free (p);
  sfu_negotiate_sync_all (op->call);
  op->ok = TRUE;
}

gboolean
sfu_participant_remove (SfuCall *call, const char *participant_id, GError **error)
{
  Op op = { .id = participant_id };

  g_return_val_if_fail (call && participant_id, FALSE);
  if (!run (call, remove_on_loop, &op, error))
    return FALSE;
  g_hash_table_remove (call->handle->members, participant_id);
  return TRUE;
}

static void
mute_on_loop (gpointer data)
{
  Op *op = data;
  SfuParticipant *p = op_find (op);

  if (!p)
    return;
  p->muted = op->flag;
  if (p->muted)
    sfu_participant_set_voice (p, FALSE);
  op->ok = TRUE;
}

gboolean
sfu_participant_set_muted (SfuCall *call, const char *participant_id, gboolean muted,
                           GError **error)
{
  Op op = { .id = participant_id, .flag = muted };

  g_return_val_if_fail (call && participant_id, FALSE);
  return run (call, mute_on_loop, &op, error);
}

static void
screen_on_loop (gpointer data)
{
  Op *op = data;
  SfuParticipant *p = op_find (op);
  SfuCall *call = op->call;

  if (!p)
    return;
  if (op->flag && call->sharer && call->sharer != p) {
    g_set_error (&op->error, SFU_ERROR, SFU_ERROR_SCREEN_BUSY,
                 "participant “%s” is already sharing a screen in call “%s”: one share at a time",
                 call->sharer->id, call->id);
    return;
  }
  if (op->flag) {
    call->sharer = p;
    p->screen = TRUE;
  } else {
    if (call->sharer == p)
      call->sharer = NULL;
    p->screen = FALSE;
  }
  sfu_negotiate_sync_all (call);
  op->ok = TRUE;
}

gboolean
sfu_participant_set_screen (SfuCall *call, const char *participant_id, gboolean on,
                            GError **error)
{
  Op op = { .id = participant_id, .flag = on };

  g_return_val_if_fail (call && participant_id, FALSE);
  return run (call, screen_on_loop, &op, error);
}

static void
stats_on_loop (gpointer data)
{
  Op *op = data;
  SfuParticipant *p = op_find (op);

  if (!p)
    return;
  *op->stats = p->stats;
  op->stats->connected = p->connected && !p->disconnected;
  op->stats->rtt_ms = p->rtt_ms;
  op->stats->over_tcp = FALSE;
  if (p->ice)
    sfu_ice_session_get_selected (p->ice, NULL, &op->stats->over_tcp, NULL);
  op->stats->loss_fraction = 0;
  op->stats->jitter_ms = 0;
  op->stats->packets_lost = 0;
  for (guint i = 0; i < p->in_tracks->len; i++) {
    SfuInTrack *t = g_ptr_array_index (p->in_tracks, i);
    guint clock = t->codec && t->codec->clock_rate ? t->codec->clock_rate : 90000;
    gint64 expected = t->seq.started ? (gint64) (t->seq.max_ext - t->base_ext + 1) : 0;
    gint64 lost = expected - (gint64) t->received;

    if (lost > 0)
      op->stats->packets_lost += (guint64) lost;
    op->stats->jitter_ms = MAX (op->stats->jitter_ms, t->jitter * 1000.0 / clock);
    op->stats->loss_fraction = MAX (op->stats->loss_fraction, t->last_fraction / 256.0);
  }
  op->ok = TRUE;
}

gboolean
sfu_participant_get_stats (SfuCall *call, const char *participant_id, SfuParticipantStats *out,
                           GError **error)
{
  Op op = { .id = participant_id, .stats = out };

  g_return_val_if_fail (call && participant_id && out, FALSE);
  return run (call, stats_on_loop, &op, error);
}
