/* SPDX-License-Identifier: MIT */
/* Worker event loops; see sfu-loop.h.
 *
 * Why epoll + eventfd and not a GMainContext per thread: the forwarding path wants one
 * recvmmsg() batch per readiness, then every send of that wakeup batched into one
 * sendmmsg() per socket. With epoll the loop body is ours, so "after the fds, drain what
 * other loops handed over, fire timers, then flush" is four lines, and a wakeup costs one
 * epoll_wait(). A GMainContext would add its own lock, a poll array rebuilt on every
 * iteration, and GSource prepare/check/dispatch calls per source; the flush-after-dispatch
 * point would need a low-priority idle source that is re-armed on every send. Control code
 * (signaling, GLib main loop users) reaches a loop with sfu_loop_invoke().
 *
 * Locks: SfuLoop.lock protects only the invoke queue and the woken flag. Watches, timers and
 * hooks are touched only on the loop's own thread (or before it started). */
#include "sfu-loop.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_EVENTS 64

struct _SfuLoopWatch {
  SfuLoop *loop;
  int fd;
  SfuLoopIoFunc func;
  gpointer data;
  gboolean removed; /* freed at the end of the wakeup: a later event of the same
                     * epoll_wait() batch may still point at it */
};

struct _SfuLoopTimer {
  SfuLoop *loop;
  SfuLoopTimerFunc func;
  gpointer data;
  gint64 deadline;
  gint heap_index; /* -1 when not armed */
  gboolean firing, free_after_fire;
};

typedef struct {
  SfuLoopHookKind kind;
  SfuLoopHookFunc func;
  gpointer data;
} Hook;

typedef struct _Invoke {
  struct _Invoke *next;
  SfuLoopFunc func;
  gpointer data;
  GDestroyNotify destroy;
} Invoke;

struct _SfuLoop {
  SfuLoopGroup *group;
  guint index;
  int epfd;
  int evfd;
  GThread *thread;
  gint64 now;
  gboolean quit; /* set on the loop's own thread */

  GMutex lock; /* protects invoke_head/invoke_tail and woken */
  Invoke *invoke_head, *invoke_tail;
  gboolean woken; /* an eventfd write is pending: skip more */

  GPtrArray *dead_watches;
  SfuLoopTimer **heap;
  guint heap_len, heap_cap;
  GArray *hooks; /* of Hook */
};

struct _SfuLoopGroup {
  guint n_loops;
  SfuLoop **loops;
};

static GPrivate current_loop;

guint
sfu_loop_group_get_n_loops (SfuLoopGroup *group)
{
  g_return_val_if_fail (group != NULL, 0);
  return group->n_loops;
}

SfuLoop *
sfu_loop_group_get_loop (SfuLoopGroup *group, guint index)
{
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (index < group->n_loops, NULL);
  return group->loops[index];
}

guint
sfu_loop_get_index (SfuLoop *loop)
{
  g_return_val_if_fail (loop != NULL, 0);
  return loop->index;
}

SfuLoop *
sfu_loop_get_current (void)
{
  return g_private_get (&current_loop);
}

gint64
sfu_loop_now (SfuLoop *loop)
{
  g_return_val_if_fail (loop != NULL, 0);
  return loop->now;
}

void
sfu_loop_wake (SfuLoop *loop)
{
  gboolean write_it;

  g_return_if_fail (loop != NULL);
  g_mutex_lock (&loop->lock);
  write_it = !loop->woken;
  loop->woken = TRUE;
  g_mutex_unlock (&loop->lock);
  if (write_it) {
    guint64 one = 1;
    /* Can only fail when the counter would overflow, which a set flag rules out. */
    if (write (loop->evfd, &one, sizeof one) < 0 && errno != EAGAIN)
      g_warning ("sfu-loop %u: eventfd write: %s", loop->index, g_strerror (errno));
  }
}

void
sfu_loop_invoke (SfuLoop *loop, SfuLoopFunc func, gpointer data, GDestroyNotify destroy)
{
  Invoke *inv;

  g_return_if_fail (loop != NULL);
  g_return_if_fail (func != NULL);

  inv = g_new0 (Invoke, 1);
  inv->func = func;
  inv->data = data;
  inv->destroy = destroy;
  g_mutex_lock (&loop->lock);
  if (loop->invoke_tail)
    loop->invoke_tail->next = inv;
  else
    loop->invoke_head = inv;
  loop->invoke_tail = inv;
  g_mutex_unlock (&loop->lock);
  sfu_loop_wake (loop);
}

typedef struct {
  SfuLoopFunc func;
  gpointer data;
  GMutex lock;
  GCond cond;
  gboolean done;
} SyncCall;

static void
sync_call_run (gpointer data)
{
  SyncCall *call = data;

  call->func (call->data);
  g_mutex_lock (&call->lock);
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
}

void
sfu_loop_invoke_sync (SfuLoop *loop, SfuLoopFunc func, gpointer data)
{
  SyncCall call = { func, data };

  g_return_if_fail (loop != NULL);
  g_return_if_fail (func != NULL);

  if (sfu_loop_get_current () == loop) {
    func (data);
    return;
  }
  g_mutex_init (&call.lock);
  g_cond_init (&call.cond);
  sfu_loop_invoke (loop, sync_call_run, &call, NULL);
  g_mutex_lock (&call.lock);
  while (!call.done)
    g_cond_wait (&call.cond, &call.lock);
  g_mutex_unlock (&call.lock);
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
}

SfuLoopWatch *
sfu_loop_watch_fd (SfuLoop *loop, int fd, guint32 events, SfuLoopIoFunc func, gpointer data,
                   GError **error)
{
  struct epoll_event ev = { 0 };
  SfuLoopWatch *watch;

  g_return_val_if_fail (loop != NULL, NULL);
  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  watch = g_new0 (SfuLoopWatch, 1);
  watch->loop = loop;
  watch->fd = fd;
  watch->func = func;
  watch->data = data;
  ev.events = events;
  ev.data.ptr = watch;
  if (epoll_ctl (loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int errsv = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "epoll_ctl(ADD, %d): %s", fd,
                 g_strerror (errsv));
    g_free (watch);
    return NULL;
  }
  return watch;
}

void
sfu_loop_watch_set_events (SfuLoopWatch *watch, guint32 events)
{
  struct epoll_event ev = { 0 };

  g_return_if_fail (watch != NULL && !watch->removed);
  ev.events = events;
  ev.data.ptr = watch;
  if (epoll_ctl (watch->loop->epfd, EPOLL_CTL_MOD, watch->fd, &ev) < 0)
    g_warning ("sfu-loop: epoll_ctl(MOD, %d): %s", watch->fd, g_strerror (errno));
}

void
sfu_loop_watch_remove (SfuLoopWatch *watch)
{
  if (watch == NULL)
    return;
  g_return_if_fail (!watch->removed);
  /* Fails only when the fd was closed already; nothing to undo then. */
  epoll_ctl (watch->loop->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
  watch->removed = TRUE;
  g_ptr_array_add (watch->loop->dead_watches, watch);
}

/* Timer heap: a min-heap on deadline, each timer knowing its index so that stop and restart
 * are O(log n) without a search. */
static void
heap_swap (SfuLoop *loop, guint a, guint b)
{
  SfuLoopTimer *t = loop->heap[a];

  loop->heap[a] = loop->heap[b];
  loop->heap[b] = t;
  loop->heap[a]->heap_index = (gint) a;
  loop->heap[b]->heap_index = (gint) b;
}

static void
heap_up (SfuLoop *loop, guint i)
{
  while (i > 0) {
    guint parent = (i - 1) / 2;
    if (loop->heap[parent]->deadline <= loop->heap[i]->deadline)
      break;
    heap_swap (loop, i, parent);
    i = parent;
  }
}

static void
heap_down (SfuLoop *loop, guint i)
{
  for (;;) {
    guint l = 2 * i + 1, r = l + 1, m = i;
    if (l < loop->heap_len && loop->heap[l]->deadline < loop->heap[m]->deadline)
      m = l;
    if (r < loop->heap_len && loop->heap[r]->deadline < loop->heap[m]->deadline)
      m = r;
    if (m == i)
      break;
    heap_swap (loop, i, m);
    i = m;
  }
}

SfuLoopTimer *
sfu_loop_timer_new (SfuLoop *loop, SfuLoopTimerFunc func, gpointer data)
{
  SfuLoopTimer *timer;

  g_return_val_if_fail (loop != NULL, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  timer = g_new0 (SfuLoopTimer, 1);
  timer->loop = loop;
  timer->func = func;
  timer->data = data;
  timer->heap_index = -1;
  return timer;
}

void
sfu_loop_timer_stop (SfuLoopTimer *timer)
{
  SfuLoop *loop;
  guint i, last;

  g_return_if_fail (timer != NULL);
  if (timer->heap_index < 0)
    return;
  loop = timer->loop;
  i = (guint) timer->heap_index;
  last = loop->heap_len - 1;
  if (i != last) {
    heap_swap (loop, i, last);
    loop->heap_len--;
    heap_down (loop, i);
    heap_up (loop, i);
  } else {
    loop->heap_len--;
  }
  timer->heap_index = -1;
}

void
sfu_loop_timer_start (SfuLoopTimer *timer, gint64 deadline)
{
  SfuLoop *loop;

  g_return_if_fail (timer != NULL);
  sfu_loop_timer_stop (timer);
  loop = timer->loop;
  if (loop->heap_len == loop->heap_cap) {
    loop->heap_cap = MAX (16, loop->heap_cap * 2);
    loop->heap = g_renew (SfuLoopTimer *, loop->heap, loop->heap_cap);
  }
  timer->deadline = deadline;
  timer->heap_index = (gint) loop->heap_len;
  loop->heap[loop->heap_len++] = timer;
  heap_up (loop, (guint) timer->heap_index);
}

gboolean
sfu_loop_timer_is_armed (SfuLoopTimer *timer)
{
  g_return_val_if_fail (timer != NULL, FALSE);
  return timer->heap_index >= 0;
}

void
sfu_loop_timer_free (SfuLoopTimer *timer)
{
  if (timer == NULL)
    return;
  sfu_loop_timer_stop (timer);
  if (timer->firing)
    timer->free_after_fire = TRUE;
  else
    g_free (timer);
}

static void
fire_timers (SfuLoop *loop)
{
  while (loop->heap_len > 0 && loop->heap[0]->deadline <= loop->now) {
    SfuLoopTimer *t = loop->heap[0];

    sfu_loop_timer_stop (t);
    t->firing = TRUE;
    t->func (loop, t, t->data);
    t->firing = FALSE;
    if (t->free_after_fire)
      g_free (t);
  }
}

void
sfu_loop_add_hook (SfuLoop *loop, SfuLoopHookKind kind, SfuLoopHookFunc func, gpointer data)
{
  Hook hook = { kind, func, data };

  g_return_if_fail (loop != NULL);
  g_return_if_fail (func != NULL);
  g_array_append_val (loop->hooks, hook);
}

void
sfu_loop_remove_hook (SfuLoop *loop, SfuLoopHookFunc func, gpointer data)
{
  g_return_if_fail (loop != NULL);
  for (guint i = 0; i < loop->hooks->len; i++) {
    Hook *h = &g_array_index (loop->hooks, Hook, i);
    if (h->func == func && h->data == data) {
      g_array_remove_index (loop->hooks, i);
      return;
    }
  }
}

static void
run_hooks (SfuLoop *loop, SfuLoopHookKind kind)
{
  /* By index: a hook may remove itself. */
  for (guint i = 0; i < loop->hooks->len; i++) {
    Hook h = g_array_index (loop->hooks, Hook, i);
    if (h.kind == kind)
      h.func (loop, h.data);
  }
}

static void
run_invokes (SfuLoop *loop)
{
  Invoke *list;

  g_mutex_lock (&loop->lock);
  list = loop->invoke_head;
  loop->invoke_head = loop->invoke_tail = NULL;
  g_mutex_unlock (&loop->lock);
  while (list) {
    Invoke *next = list->next;
    list->func (list->data);
    if (list->destroy)
      list->destroy (list->data);
    g_free (list);
    list = next;
  }
}

static void
quit_func (gpointer data)
{
  ((SfuLoop *) data)->quit = TRUE;
}

static int
next_timeout_ms (SfuLoop *loop)
{
  gint64 wait_us;

  if (loop->heap_len == 0)
    return -1;
  wait_us = loop->heap[0]->deadline - g_get_monotonic_time ();
  if (wait_us <= 0)
    return 0;
  /* Round up: waking a little late is fine, spinning on a 0 ms timeout is not. */
  return (int) MIN ((wait_us + 999) / 1000, G_MAXINT);
}

static gpointer
loop_thread (gpointer data)
{
  SfuLoop *loop = data;
  struct epoll_event events[MAX_EVENTS];

  g_private_set (&current_loop, loop);
  while (!loop->quit) {
    int n = epoll_wait (loop->epfd, events, MAX_EVENTS, next_timeout_ms (loop));

    if (n < 0 && errno != EINTR) {
      g_critical ("sfu-loop %u: epoll_wait: %s", loop->index, g_strerror (errno));
      break;
    }
    loop->now = g_get_monotonic_time ();
    for (int i = 0; i < n; i++) {
      SfuLoopWatch *w = events[i].data.ptr;

      if (w == NULL) {
        guint64 count;
        /* Read, then clear the flag. Clearing first loses wakeups: a wake between the two
         * writes again, this read swallows that write, and the flag stays set with no
         * write pending, so later wakes are skipped until a timer fires. A wake between
         * read and clear skips its write, but what it queued is taken in below. */
        if (read (loop->evfd, &count, sizeof count) < 0 && errno != EAGAIN)
          g_warning ("sfu-loop %u: eventfd read: %s", loop->index, g_strerror (errno));
        g_mutex_lock (&loop->lock);
        loop->woken = FALSE;
        g_mutex_unlock (&loop->lock);
        continue;
      }
      if (!w->removed)
        w->func (loop, events[i].events, w->data);
    }
    run_invokes (loop);
    run_hooks (loop, SFU_LOOP_HOOK_DRAIN);
    fire_timers (loop);
    run_hooks (loop, SFU_LOOP_HOOK_FLUSH);
    g_ptr_array_set_size (loop->dead_watches, 0);
  }
  g_private_set (&current_loop, NULL);
  return NULL;
}

static void
loop_free (SfuLoop *loop)
{
  Invoke *inv;

  if (loop == NULL)
    return;
  /* Queued functions never ran; their data is still released. */
  for (inv = loop->invoke_head; inv;) {
    Invoke *next = inv->next;
    if (inv->destroy)
      inv->destroy (inv->data);
    g_free (inv);
    inv = next;
  }
  if (loop->heap_len > 0 || loop->hooks->len > 0)
    g_warning ("sfu-loop %u freed with %u timers and %u hooks still set", loop->index,
               loop->heap_len, loop->hooks->len);
  g_ptr_array_unref (loop->dead_watches);
  g_array_unref (loop->hooks);
  g_free (loop->heap);
  if (loop->evfd >= 0)
    close (loop->evfd);
  if (loop->epfd >= 0)
    close (loop->epfd);
  g_mutex_clear (&loop->lock);
  g_free (loop);
}

static SfuLoop *
loop_new (SfuLoopGroup *group, guint index, GError **error)
{
  SfuLoop *loop = g_new0 (SfuLoop, 1);
  struct epoll_event ev = { 0 };

  loop->group = group;
  loop->index = index;
  g_mutex_init (&loop->lock);
  loop->dead_watches = g_ptr_array_new_with_free_func (g_free);
  loop->hooks = g_array_new (FALSE, FALSE, sizeof (Hook));
  loop->now = g_get_monotonic_time ();
  loop->epfd = epoll_create1 (EPOLL_CLOEXEC);
  loop->evfd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  ev.events = EPOLLIN;
  ev.data.ptr = NULL; /* the eventfd */
  if (loop->epfd < 0 || loop->evfd < 0 || epoll_ctl (loop->epfd, EPOLL_CTL_ADD, loop->evfd, &ev) < 0) {
    int errsv = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "sfu-loop %u: %s", index,
                 g_strerror (errsv));
    loop_free (loop);
    return NULL;
  }
  return loop;
}

SfuLoopGroup *
sfu_loop_group_new (guint n_loops, GError **error)
{
  SfuLoopGroup *group;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (n_loops == 0)
    n_loops = MAX (1, g_get_num_processors ());
  group = g_new0 (SfuLoopGroup, 1);
  group->loops = g_new0 (SfuLoop *, n_loops);
  for (guint i = 0; i < n_loops; i++) {
    group->loops[i] = loop_new (group, i, error);
    if (group->loops[i] == NULL) {
      for (guint j = 0; j < i; j++)
        loop_free (group->loops[j]);
      g_free (group->loops);
      g_free (group);
      return NULL;
    }
  }
  group->n_loops = n_loops;
  for (guint i = 0; i < n_loops; i++) {
    g_autofree char *name = g_strdup_printf ("sfu-loop-%u", i);
    group->loops[i]->thread = g_thread_new (name, loop_thread, group->loops[i]);
  }
  return group;
}

void
sfu_loop_group_free (SfuLoopGroup *group)
{
  if (group == NULL)
    return;
  g_return_if_fail (sfu_loop_get_current () == NULL);
  for (guint i = 0; i < group->n_loops; i++)
    sfu_loop_invoke (group->loops[i], quit_func, group->loops[i], NULL);
  for (guint i = 0; i < group->n_loops; i++) {
    g_thread_join (group->loops[i]->thread);
    loop_free (group->loops[i]);
  }
  g_free (group->loops);
  g_free (group);
}
