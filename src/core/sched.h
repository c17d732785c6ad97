/* sched.h: the one scheduler for background work (lifecycle, alarms, schedules, health
 * checks, backups), driven by the region clock: a timer due at region time T fires when
 * nb_clock_now_us() >= T, whether real time passes or the clock is advanced. Callbacks run on
 * the scheduler's worker threads and may block briefly; long work should chunk itself and
 * reschedule. */
#ifndef NB_CORE_SCHED_H
#define NB_CORE_SCHED_H

#include "core/nb.h"

typedef void (*nb_sched_fn)(void *arg);

int nb_sched_start(int nthreads);
void nb_sched_stop(void);
/* Fire fn(arg) once at region time at_us. Returns an id > 0. */
uint64_t nb_sched_at(int64_t at_us, nb_sched_fn fn, void *arg);
/* Fire fn(arg) every period_us of region time, first at now + period. The next firing is
 * planned when the callback returns, on the period's grid and strictly after the current
 * region time: after a large advance (30 days over a 1-day timer) it fires once, not 30 times,
 * so a callback that must account for every missed period reads the clock itself. The same
 * timer never runs twice at once. */
uint64_t nb_sched_every(int64_t period_us, nb_sched_fn fn, void *arg);
/* Cancel; returns true if it was pending. A running callback finishes. */
bool nb_sched_cancel(uint64_t id);
/* Cancel like nb_sched_cancel, then wait until a running callback of this timer has returned
 * (not when called from that very callback), so the caller may free what arg points to. */
bool nb_sched_cancel_sync(uint64_t id);
/* Number of pending timers (health and tests). */
size_t nb_sched_pending(void);

#endif
