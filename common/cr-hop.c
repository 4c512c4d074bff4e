/* SPDX-License-Identifier: MIT */
#include "cr-hop.h"

typedef struct {
  CrOwner *owner;
  CrHopFunc func;
  gpointer data;
  GDestroyNotify destroy;
} Hop;

void
cr_owner_init (CrOwner *owner, GDestroyNotify finalize)
{
  owner->refcount = 1;
  owner->closed = FALSE;
  owner->context = g_main_context_ref_thread_default ();
  owner->finalize = finalize;
}

gpointer
cr_owner_ref (gpointer owner)
{
  g_atomic_int_inc (&((CrOwner *) owner)->refcount);
  return owner;
}

void
cr_owner_unref (gpointer data)
{
  CrOwner *owner = data;
  if (!g_atomic_int_dec_and_test (&owner->refcount))
    return;
  GMainContext *context = owner->context;
  owner->finalize (owner);
  g_main_context_unref (context);
}

void
cr_owner_close (gpointer data)
{
  CrOwner *owner = data;
  owner->closed = TRUE;
  cr_owner_unref (owner);
}

static gboolean
hop_run (gpointer data)
{
  Hop *hop = data;
  if (!hop->owner->closed)
    hop->func (hop->owner, hop->data);
  return G_SOURCE_REMOVE;
}

static void
hop_free (gpointer data)
{
  Hop *hop = data;
  if (hop->destroy)
    hop->destroy (hop->data);
  cr_owner_unref (hop->owner);
  g_free (hop);
}

void
cr_hop (gpointer owner, CrHopFunc func, gpointer data, GDestroyNotify destroy)
{
  Hop *hop = g_new0 (Hop, 1);
  hop->owner = cr_owner_ref (owner);
  hop->func = func;
  hop->data = data;
  hop->destroy = destroy;
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, hop_run, hop, hop_free);
  g_source_attach (source, hop->owner->context);
  g_source_unref (source);
}
