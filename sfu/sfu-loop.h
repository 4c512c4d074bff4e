/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The SFU's worker threads: N event loops (default one per core), each a thread that owns
 * whole calls. Everything that belongs to a call (its ICE sessions, DTLS, SRTP, streams,
 * timers) is touched only on its loop's thread, so the forwarding path takes no locks of
 * its own; other threads reach a loop with sfu_loop_invoke().
 *
 * One wakeup of a loop runs, in order: ready fd callbacks, invoked functions, DRAIN hooks
 * (packets other loops handed over), due timers, FLUSH hooks (batched sends go out once per
 * wakeup). Why epoll rather than a GMainContext per thread is said in sfu-loop.c.
 *
 * Unless said otherwise, a function taking an SfuLoop (or a watch, timer or hook of one)
 * must be called on that loop's thread; sfu_loop_invoke_sync() gets there from outside. */

typedef struct _SfuLoop SfuLoop;
typedef struct _SfuLoopGroup SfuLoopGroup;
typedef struct _SfuLoopWatch SfuLoopWatch;
typedef struct _SfuLoopTimer SfuLoopTimer;

typedef void (*SfuLoopFunc) (gpointer data);
/* @events: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, … as epoll reported them. */
typedef void (*SfuLoopIoFunc) (SfuLoop *loop, guint32 events, gpointer data);
typedef void (*SfuLoopTimerFunc) (SfuLoop *loop, SfuLoopTimer *timer, gpointer data);
typedef void (*SfuLoopHookFunc) (SfuLoop *loop, gpointer data);

typedef enum {
  SFU_LOOP_HOOK_DRAIN, /* before timers: take in what other threads queued */
  SFU_LOOP_HOOK_FLUSH, /* last: send what this wakeup queued */
} SfuLoopHookKind;

/* @n_loops 0 means g_get_num_processors(). The threads start at once; they own nothing
 * until work is given to them. */
SfuLoopGroup *sfu_loop_group_new (guint n_loops, GError **error);
/* Stops and joins every thread; functions still queued are dropped (their destroy notify
 * runs). Callers remove their watches, timers and hooks first (sfu_udp_free, …).
 * Must not be called from a loop thread. */
void sfu_loop_group_free (SfuLoopGroup *group);
guint sfu_loop_group_get_n_loops (SfuLoopGroup *group);
SfuLoop *sfu_loop_group_get_loop (SfuLoopGroup *group, guint index);

/* Any thread. */
guint sfu_loop_get_index (SfuLoop *loop);
/* The loop whose thread this is, or NULL on any other thread. */
SfuLoop *sfu_loop_get_current (void);
/* Monotonic µs, read once per wakeup (the per-packet path does not call the clock). */
gint64 sfu_loop_now (SfuLoop *loop);

/* Any thread: runs @func (@data) on @loop's thread, then @destroy (@data). Order is kept
 * between calls from one thread. Allocates: for control work, not per packet. */
void sfu_loop_invoke (SfuLoop *loop, SfuLoopFunc func, gpointer data, GDestroyNotify destroy);
/* Any thread but another loop's (two loops waiting on each other would deadlock): runs
 * @func on @loop's thread and waits for it. On @loop's own thread it calls @func directly. */
void sfu_loop_invoke_sync (SfuLoop *loop, SfuLoopFunc func, gpointer data);
/* Any thread: makes @loop run a wakeup (its DRAIN and FLUSH hooks) soon. Cheap when the loop
 * is already awake or already woken (one eventfd write per sleep at most). */
void sfu_loop_wake (SfuLoop *loop);

/* Level-triggered. @fd stays the caller's; remove the watch before closing it. A watch may
 * be removed from inside any callback, its own included. */
SfuLoopWatch *sfu_loop_watch_fd (SfuLoop *loop, int fd, guint32 events, SfuLoopIoFunc func,
                                 gpointer data, GError **error);
void sfu_loop_watch_set_events (SfuLoopWatch *watch, guint32 events);
void sfu_loop_watch_remove (SfuLoopWatch *watch);

/* One-shot timers on a binary heap; starting an armed timer moves it. No allocation after
 * sfu_loop_timer_new(). */
SfuLoopTimer *sfu_loop_timer_new (SfuLoop *loop, SfuLoopTimerFunc func, gpointer data);
/* @deadline in sfu_loop_now() time. */
void sfu_loop_timer_start (SfuLoopTimer *timer, gint64 deadline);
void sfu_loop_timer_stop (SfuLoopTimer *timer);
gboolean sfu_loop_timer_is_armed (SfuLoopTimer *timer);
/* Stops it first. Safe from inside its own callback. */
void sfu_loop_timer_free (SfuLoopTimer *timer);

/* Hooks run on every wakeup, in the order added within a kind. */
void sfu_loop_add_hook (SfuLoop *loop, SfuLoopHookKind kind, SfuLoopHookFunc func,
                        gpointer data);
void sfu_loop_remove_hook (SfuLoop *loop, SfuLoopHookFunc func, gpointer data);

G_END_DECLS
