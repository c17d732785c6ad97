/* test_sched.c: the scheduler on the region clock: order, advancing the clock, periodic timers
 * after a large advance, early wake-up, cancel. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/sched.h"
#include "unit.h"

#define MS 1000LL
#define SEC 1000000LL
#define DAY (86400 * SEC)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int order[16], norder;

static void record(void *arg)
{
    pthread_mutex_lock(&mu);
    if (norder < 16) order[norder++] = (int)(intptr_t)arg;
    pthread_mutex_unlock(&mu);
}

static int count_of(void)
{
    pthread_mutex_lock(&mu);
    int n = norder;
    pthread_mutex_unlock(&mu);
    return n;
}

static void reset_record(void)
{
    pthread_mutex_lock(&mu);
    norder = 0;
    pthread_mutex_unlock(&mu);
}

/* Wait (up to ms) until at least n callbacks were recorded. */
static bool wait_for(int n, int ms)
{
    for (int i = 0; i < ms; i++) {
        if (count_of() >= n) return true;
        usleep(1000);
    }
    return count_of() >= n;
}

static void test_order(void)
{
    reset_record();
    int64_t now = nb_clock_now_us();
    int delays[] = {50, 10, 30, 20, 40};
    for (int i = 0; i < 5; i++)
        CHECK(nb_sched_at(now + delays[i] * MS, record, (void *)(intptr_t)delays[i]) > 0);
    CHECK(wait_for(5, 3000));
    for (int i = 0; i < 5; i++)
        CHECK(order[i] == (i + 1) * 10);
    /* And not before their time. */
    CHECK(nb_clock_now_us() >= now + 50 * MS);
    /* A timer in the past fires right away. */
    reset_record();
    int64_t t0 = nb_mono_us();
    nb_sched_at(nb_clock_now_us() - DAY, record, (void *)1);
    CHECK(wait_for(1, 1000));
    CHECK(nb_mono_us() - t0 < 500 * MS);
}

static void test_earlier_timer_wakes(void)
{
    reset_record();
    int64_t now = nb_clock_now_us();
    uint64_t far = nb_sched_at(now + 3600 * SEC, record, (void *)99);
    int64_t t0 = nb_mono_us();
    nb_sched_at(now + 20 * MS, record, (void *)7); /* the scheduler sleeps for an hour: wake it */
    CHECK(wait_for(1, 2000));
    CHECK(order[0] == 7);
    CHECK(nb_mono_us() - t0 < 1000 * MS);
    CHECK(nb_sched_cancel(far));
}

static int periodic_runs;
static void periodic(void *arg)
{
    __atomic_add_fetch(&periodic_runs, 1, __ATOMIC_SEQ_CST);
}

static void test_advance_fires(void)
{
    reset_record();
    size_t pending0 = nb_sched_pending();
    int64_t now = nb_clock_now_us();
    nb_sched_at(now + DAY, record, (void *)1);
    uint64_t every = nb_sched_every(DAY, periodic, NULL);
    CHECK(nb_sched_pending() == pending0 + 2);
    usleep(50 * 1000);
    CHECK(count_of() == 0 && periodic_runs == 0);
    int64_t t0 = nb_mono_us();
    CHECK(nb_clock_advance(30 * DAY) == 0); /* "30 days pass" */
    CHECK(wait_for(1, 2000));
    CHECK(nb_mono_us() - t0 < 1000 * MS); /* immediately, not in a day */
    for (int i = 0; i < 1000 && __atomic_load_n(&periodic_runs, __ATOMIC_SEQ_CST) < 1; i++)
        usleep(1000);
    usleep(100 * 1000);
    /* The 1-day periodic timer fires once after a 30-day jump, not 30 times... */
    CHECK(__atomic_load_n(&periodic_runs, __ATOMIC_SEQ_CST) == 1);
    /* ...and stays scheduled, a day (less what elapsed) ahead. */
    CHECK(nb_sched_pending() == pending0 + 1);
    CHECK(nb_clock_advance(DAY) == 0);
    for (int i = 0; i < 1000 && __atomic_load_n(&periodic_runs, __ATOMIC_SEQ_CST) < 2; i++)
        usleep(1000);
    CHECK(__atomic_load_n(&periodic_runs, __ATOMIC_SEQ_CST) == 2);
    CHECK(nb_sched_cancel(every));
    CHECK(nb_clock_advance(2 * DAY) == 0);
    usleep(100 * 1000);
    CHECK(__atomic_load_n(&periodic_runs, __ATOMIC_SEQ_CST) == 2);
    CHECK(nb_sched_pending() == pending0);
}

static void test_cancel(void)
{
    reset_record();
    int64_t now = nb_clock_now_us();
    uint64_t a = nb_sched_at(now + 80 * MS, record, (void *)1);
    uint64_t b = nb_sched_at(now + 40 * MS, record, (void *)2);
    CHECK(a != b && a > 0 && b > 0);
    CHECK(nb_sched_cancel(a) == true);
    CHECK(nb_sched_cancel(a) == false); /* already cancelled */
    CHECK(nb_sched_cancel(123456789) == false);
    CHECK(wait_for(1, 2000));
    usleep(150 * 1000);
    CHECK(count_of() == 1 && order[0] == 2);
    CHECK(nb_sched_cancel(b) == false); /* a one-shot that already fired */
}

struct slow {
    int started, finished, cancelled; /* touched with __atomic builtins: two threads */
    uint64_t id;
};
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

static void slow_cb(void *arg)
{
    struct slow *s = arg;
    STORE(s->started, 1);
    usleep(150 * 1000);
    STORE(s->finished, 1);
}

static void self_cancel(void *arg)
{
    struct slow *s = arg;
    /* Cancelling itself (even synchronously) from its own callback must not deadlock. */
    STORE(s->cancelled, nb_sched_cancel_sync(s->id) ? 1 : 0);
    __atomic_add_fetch(&s->finished, 1, __ATOMIC_SEQ_CST);
}

static void test_cancel_sync(void)
{
    struct slow s = {0, 0, 0, 0};
    s.id = nb_sched_every(SEC, slow_cb, &s);
    CHECK(nb_clock_advance(2 * SEC) == 0);
    for (int i = 0; i < 2000 && !LOAD(s.started); i++)
        usleep(1000);
    CHECK(LOAD(s.started));
    CHECK(nb_sched_cancel_sync(s.id) == true); /* periodic: it would have fired again */
    CHECK(LOAD(s.finished) == 1);              /* waited for the running callback */

    struct slow t = {0, 0, 0, 0};
    t.id = nb_sched_every(SEC, self_cancel, &t);
    CHECK(nb_clock_advance(2 * SEC) == 0);
    for (int i = 0; i < 2000 && !LOAD(t.finished); i++)
        usleep(1000);
    CHECK(nb_clock_advance(2 * SEC) == 0);
    usleep(50 * 1000);
    CHECK(LOAD(t.finished) == 1);
    CHECK(LOAD(t.cancelled) == 1);
}

static void test_stop_restart(void)
{
    reset_record();
    nb_sched_at(nb_clock_now_us() + DAY, record, (void *)1);
    nb_sched_stop();
    CHECK(nb_sched_pending() == 0);
    /* Timers added while stopped wait for the next start. */
    nb_sched_at(nb_clock_now_us() + 10 * MS, record, (void *)5);
    usleep(50 * 1000);
    CHECK(count_of() == 0);
    CHECK(nb_sched_start(2) == 0);
    CHECK(nb_sched_start(2) == -1); /* already running */
    CHECK(wait_for(1, 2000));
    CHECK(order[0] == 5);
}

static int stress_fired;
static void stress_cb(void *arg)
{
    __atomic_add_fetch(&stress_fired, 1, __ATOMIC_SEQ_CST);
}

/* Many timers, two workers, cancels racing with firing: every timer fires exactly once unless
 * its cancel returned true. */
static void test_stress(void)
{
    enum { N = 300 };
    static uint64_t ids[N];
    int64_t now = nb_clock_now_us();
    for (int i = 0; i < N; i++)
        ids[i] = nb_sched_at(now + (i * 7919 % 40) * MS, stress_cb, NULL);
    int cancelled = 0;
    for (int i = 0; i < N; i += 3) {
        if (nb_sched_cancel(ids[i])) cancelled++;
        if (i % 30 == 0) usleep(1000);
    }
    for (int i = 0; i < 3000 && __atomic_load_n(&stress_fired, __ATOMIC_SEQ_CST) < N - cancelled;
         i++)
        usleep(1000);
    usleep(50 * 1000);
    CHECK(__atomic_load_n(&stress_fired, __ATOMIC_SEQ_CST) == N - cancelled);
    CHECK(nb_sched_pending() == 0);
}

int main(void)
{
    char dir[128];
    snprintf(dir, sizeof(dir), "/tmp/nb-test-sched-%d", (int)getpid());
    CHECK(mkdir(dir, 0700) == 0);
    CHECK(nb_clock_init(dir, 1.0) == 0);
    CHECK(nb_sched_start(1) == 0); /* one worker: callbacks run in due order */
    test_order();
    test_earlier_timer_wakes();
    test_advance_fires();
    test_cancel();
    test_cancel_sync();
    test_stop_restart();
    test_stress();
    nb_sched_stop();
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    UNIT_DONE();
}
