/* SPDX-License-Identifier: MIT */
#pragma once

#include "rec-session.h"

G_BEGIN_DECLS

/* A recording job run for callrec-server (`record --job ID`): reports the job's status
 * to the server and uploads the file while it grows (rec-job.c). Main context only. */
typedef struct _RecJob RecJob;

typedef struct {
  const char *server_url; /* http://HOST:PORT */
  const char *token;      /* the job token (a secret) */
  const char *channel;
  const char *job_id;
  const char *path; /* the file being recorded */
} RecJobConfig;

/* Everything is reported and the upload is over: @ok if the file reached the server. */
typedef void (*RecJobDoneFunc) (RecJob *job, gboolean ok, gpointer user_data);

/* Watches @session (transfer none; must outlive the job) for media. */
RecJob *rec_job_new (const RecJobConfig *config, RecSession *session);
/* The session ended: reports it, finishes the upload, then calls @done once. */
void rec_job_end (RecJob *job, gboolean ok, const char *reason, double elapsed_s,
                  RecJobDoneFunc done, gpointer user_data);
void rec_job_free (RecJob *job);

G_END_DECLS
