/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An object that other threads (webrtcbin's) post work to. It lives on one main context;
 * work posted from anywhere runs there later, holds a reference until it ran, and is
 * skipped once the object was closed. Embed CrOwner as the object's first member. */
typedef struct {
  gint refcount;          /* atomic */
  gboolean closed;        /* main context only */
  GMainContext *context;  /* the thread-default context at cr_owner_init */
  GDestroyNotify finalize; /* frees the object when the last reference goes */
} CrOwner;

typedef void (*CrHopFunc) (gpointer owner, gpointer data);

void cr_owner_init (CrOwner *owner, GDestroyNotify finalize);
gpointer cr_owner_ref (gpointer owner);
void cr_owner_unref (gpointer owner);
/* Main context: later hops do nothing. Drops the caller's reference. */
void cr_owner_close (gpointer owner);
/* Any thread: runs func (owner, data) on the owner's context unless it is closed by
 * then; destroy (data) runs either way. */
void cr_hop (gpointer owner, CrHopFunc func, gpointer data, GDestroyNotify destroy);

G_END_DECLS
