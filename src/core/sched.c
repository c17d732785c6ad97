/* sched.c: the scheduler: a min-heap of timers on the region clock, one thread that sleeps until
 * the next one is due, and a small pool of worker threads that run the callbacks. */
#include "core/sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"

/* A timer is owned by the scheduler from nb_sched_at/every until it is freed: after a one-shot
 * ran, when a cancelled periodic one finishes running, on cancel while pending, or at stop.
 *
 * States: in the heap (heap_idx >= 0), in the ready queue (heap_idx == -1, !running), or
 * running on a worker (running, on running_head). A periodic timer goes back into the heap
 * after its callback returns, so the same timer never runs twice at once even if a callback
 * takes longer than its period. */
struct timer {
    uint64_t id;
    int64_t at;     /* region time due, us */
    int64_t period; /* 0 = one-shot */
    nb_sched_fn fn;
    void *arg;
    ssize_t heap_idx;
    bool running, cancelled;
    struct timer *next_ready;
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;     /* the scheduler thread: new earliest timer, advance, stop */
static pthread_cond_t work;     /* workers: ready queue not empty, stop */
static pthread_cond_t finished; /* a callback returned (nb_sched_cancel_sync) */

static struct timer **heap;
static size_t heap_len, heap_cap;
static struct timer *ready_head, *ready_tail;
static struct timer *running_head; /* callbacks being run now, linked through next_ready */
static uint64_t next_id = 1;
static bool started, stopping;
static pthread_t sched_thread;
static bool sched_thread_ok;
static pthread_t *workers;
static int nworkers;
static __thread struct timer *tl_current; /* the timer whose callback this thread runs */

/* Upper bound of one sleep: the region clock follows the wall clock, which can be stepped, while
 * we sleep on CLOCK_MONOTONIC; re-checking now and then bounds the error of such a step. */
#define MAX_SLEEP_US (10 * 1000000LL)

static bool before(const struct timer *a, const struct timer *b)
{
    return a->at < b->at || (a->at == b->at && a->id < b->id); /* ties: first scheduled first */
}

static void heap_set(size_t i, struct timer *t)
{
    heap[i] = t;
    t->heap_idx = (ssize_t)i;
}

static void sift_up(size_t i)
{
    struct timer *t = heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(t, heap[p])) break;
        heap_set(i, heap[p]);
        i = p;
    }
    heap_set(i, t);
}

static void sift_down(size_t i)
{
    struct timer *t = heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct timer *best = t;
        if (l < heap_len && before(heap[l], best)) m = l, best = heap[l];
        if (r < heap_len && before(heap[r], best)) m = r;
        if (m == i) break;
        heap_set(i, heap[m]);
        i = m;
    }
    heap_set(i, t);
}

static void heap_push(struct timer *t)
{
    if (heap_len == heap_cap) {
        size_t cap = heap_cap ? heap_cap * 2 : 16;
        struct timer **h = realloc(heap, cap * sizeof(*h));
        NB_ASSERT(h); /* a timer is a few dozen bytes; failing here means the process is lost */
        heap = h;
        heap_cap = cap;
    }
    heap_set(heap_len++, t);
    sift_up(heap_len - 1);
}

static void heap_remove(struct timer *t)
{
    size_t i = (size_t)t->heap_idx;
    t->heap_idx = -1;
    struct timer *last = heap[--heap_len];
    if (i == heap_len) return;
    heap_set(i, last);
    sift_up(i);
    sift_down((size_t)last->heap_idx);
}

static void on_advance(void *arg)
{
    pthread_mutex_lock(&mu);
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&mu);
}

static void init_once(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&work, NULL);
    pthread_cond_init(&finished, NULL);
    nb_clock_on_advance(on_advance, NULL);
}

/* Timers due at region time `now` move to the ready queue. Caller holds mu. */
static void dispatch_due(int64_t now)
{
    while (heap_len && heap[0]->at <= now) {
        struct timer *t = heap[0];
        heap_remove(t);
        t->next_ready = NULL;
        if (ready_tail)
            ready_tail->next_ready = t;
        else
            ready_head = t;
        ready_tail = t;
        pthread_cond_signal(&work);
    }
}

static void *sched_main(void *arg)
{
    pthread_mutex_lock(&mu);
    while (!stopping) {
        dispatch_due(nb_clock_now_us());
        int64_t delay = MAX_SLEEP_US;
        if (heap_len) {
            int64_t d = nb_clock_real_delay_us(heap[0]->at);
            if (d <= 0) continue; /* became due meanwhile */
            if (d < delay) delay = d;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (delay % 1000000) * 1000;
        ts.tv_sec += (time_t)(delay / 1000000 + ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&wake, &mu, &ts);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *worker_main(void *arg)
{
    pthread_mutex_lock(&mu);
    for (;;) {
        while (!ready_head && !stopping)
            pthread_cond_wait(&work, &mu);
        if (stopping) break;
        struct timer *t = ready_head;
        ready_head = t->next_ready;
        if (!ready_head) ready_tail = NULL;
        if (t->cancelled) { /* cancelled between dispatch and now: nothing to run */
            free(t);
            continue;
        }
        t->running = true;
        t->next_ready = running_head;
        running_head = t;
        pthread_mutex_unlock(&mu);
        tl_current = t;
        t->fn(t->arg);
        tl_current = NULL;
        pthread_mutex_lock(&mu);
        struct timer **pp = &running_head;
        while (*pp != t)
            pp = &(*pp)->next_ready;
        *pp = t->next_ready;
        t->next_ready = NULL;
        t->running = false;
        if (t->period && !t->cancelled && !stopping) {
            /* Next due time on the period's grid, strictly after now: after a large advance
             * (30 days over a 1-day timer) the timer fires once, not 30 times, and keeps its
             * phase. Work that must account for every missed period reads the clock itself. */
            int64_t now = nb_clock_now_us();
            if (t->at + t->period > now)
                t->at += t->period;
            else
                t->at += ((now - t->at) / t->period + 1) * t->period;
            heap_push(t);
            if (heap[0] == t) pthread_cond_signal(&wake);
        } else {
            free(t);
        }
        pthread_cond_broadcast(&finished);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int nb_sched_start(int nthreads)
{
    pthread_once(&once, init_once);
    if (nthreads <= 0) nthreads = 2;
    pthread_mutex_lock(&mu);
    if (started) {
        pthread_mutex_unlock(&mu);
        return -1;
    }
    stopping = false;
    workers = nb_xcalloc((size_t)nthreads, sizeof(*workers));
    nworkers = 0;
    pthread_mutex_unlock(&mu);
    /* Small stacks: callbacks are expected to be light (the default 8 MiB is only address
     * space, but keeps RSS accounting honest if a callback recurses). */
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 * 1024);
    int rc = pthread_create(&sched_thread, &at, sched_main, NULL);
    sched_thread_ok = rc == 0;
    for (int i = 0; rc == 0 && i < nthreads; i++) {
        rc = pthread_create(&workers[i], &at, worker_main, NULL);
        if (rc == 0) nworkers++;
    }
    pthread_attr_destroy(&at);
    pthread_mutex_lock(&mu);
    started = true;
    pthread_mutex_unlock(&mu);
    if (rc != 0) {
        nb_error("sched: cannot start threads: %s", strerror(rc));
        nb_sched_stop();
        return -1;
    }
    return 0;
}

/* Stops the threads (a running callback finishes first) and drops every timer: a later
 * nb_sched_start begins empty. Must not be called from a callback. */
void nb_sched_stop(void)
{
    pthread_once(&once, init_once);
    pthread_mutex_lock(&mu);
    if (!started) {
        pthread_mutex_unlock(&mu);
        return;
    }
    stopping = true;
    pthread_cond_broadcast(&wake);
    pthread_cond_broadcast(&work);
    pthread_mutex_unlock(&mu);
    if (sched_thread_ok) pthread_join(sched_thread, NULL);
    sched_thread_ok = false;
    for (int i = 0; i < nworkers; i++)
        pthread_join(workers[i], NULL);
    pthread_mutex_lock(&mu);
    free(workers);
    workers = NULL;
    nworkers = 0;
    for (size_t i = 0; i < heap_len; i++)
        free(heap[i]);
    heap_len = 0;
    while (ready_head) {
        struct timer *t = ready_head;
        ready_head = t->next_ready;
        free(t);
    }
    ready_tail = NULL;
    started = false;
    stopping = false;
    pthread_cond_broadcast(&finished);
    pthread_mutex_unlock(&mu);
}

static uint64_t add(int64_t at, int64_t period, nb_sched_fn fn, void *arg)
{
    pthread_once(&once, init_once);
    struct timer *t = nb_xcalloc(1, sizeof(*t));
    t->at = at;
    t->period = period;
    t->fn = fn;
    t->arg = arg;
    pthread_mutex_lock(&mu);
    uint64_t id = t->id = next_id++; /* t may fire and be freed as soon as we unlock */
    heap_push(t);
    if (heap[0] == t) pthread_cond_signal(&wake); /* new earliest: re-plan the sleep */
    pthread_mutex_unlock(&mu);
    return id;
}

/* Timers may be added before nb_sched_start; they fire once it runs. */
uint64_t nb_sched_at(int64_t at_us, nb_sched_fn fn, void *arg)
{
    return add(at_us, 0, fn, arg);
}

uint64_t nb_sched_every(int64_t period_us, nb_sched_fn fn, void *arg)
{
    if (period_us <= 0) period_us = 1;
    return add(nb_clock_now_us() + period_us, period_us, fn, arg);
}

/* Linear search: cancels are rare, the heap holds at most thousands of timers and the running
 * list at most one per worker. Caller holds mu. */
static struct timer *find(uint64_t id)
{
    for (size_t i = 0; i < heap_len; i++)
        if (heap[i]->id == id) return heap[i];
    for (struct timer *t = ready_head; t; t = t->next_ready)
        if (t->id == id) return t;
    for (struct timer *t = running_head; t; t = t->next_ready)
        if (t->id == id) return t;
    return NULL;
}

static bool cancel_locked(uint64_t id, struct timer **running)
{
    struct timer *t = find(id);
    *running = NULL;
    if (!t) return false;
    if (t->heap_idx >= 0) {
        heap_remove(t);
        free(t);
        return true;
    }
    if (!t->running) { /* in the ready queue: the worker drops it */
        bool was = !t->cancelled;
        t->cancelled = true;
        return was;
    }
    *running = t;
    /* Running: a one-shot has fired already; a periodic one is not rescheduled. */
    bool would_fire_again = t->period && !t->cancelled;
    t->cancelled = true;
    return would_fire_again;
}

/* True if the timer would still have fired: pending in the heap, dispatched but not started,
 * or periodic (a running callback finishes and the timer is not rescheduled). False for
 * unknown ids and for a one-shot whose callback already started. Does not wait. */
bool nb_sched_cancel(uint64_t id)
{
    pthread_once(&once, init_once);
    struct timer *running;
    pthread_mutex_lock(&mu);
    bool was = cancel_locked(id, &running);
    pthread_mutex_unlock(&mu);
    return was;
}

bool nb_sched_cancel_sync(uint64_t id)
{
    pthread_once(&once, init_once);
    struct timer *running;
    pthread_mutex_lock(&mu);
    bool was = cancel_locked(id, &running);
    /* Wait for the callback unless we are that callback (it would wait for itself). The timer
     * struct stays valid while it is on the running list; we look it up by id each time. */
    if (running && running != tl_current) {
        for (;;) {
            struct timer *t;
            for (t = running_head; t && t->id != id; t = t->next_ready) {
            }
            if (!t) break;
            pthread_cond_wait(&finished, &mu);
        }
    }
    pthread_mutex_unlock(&mu);
    return was;
}

size_t nb_sched_pending(void)
{
    pthread_mutex_lock(&mu);
    size_t n = heap_len;
    pthread_mutex_unlock(&mu);
    return n;
}
