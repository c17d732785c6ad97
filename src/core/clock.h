/* clock.h: the region clock. Every service reads time from here, never from the system.
 * Region time = real time + offset, where the offset only grows: POST /_nimbus/clock
 * advances it, and --clock-rate N makes region time pass N times faster than real time.
 * The offset is persisted in the data directory so the clock never runs backwards across
 * restarts. Thread-safe. */
#ifndef NB_CORE_CLOCK_H
#define NB_CORE_CLOCK_H

#include "core/nb.h"

/* Load the persisted state from <data_dir>/clock (creating it), set the rate. */
int nb_clock_init(const char *data_dir, double rate);
int64_t nb_clock_now_us(void); /* region time, microseconds since the epoch */
int64_t nb_clock_now(void);    /* region time, seconds since the epoch */
double nb_clock_now_f(void);   /* region time, fractional seconds */
/* Move region time forward by us (> 0); persisted; wakes the scheduler. Returns 0 or -1. */
int nb_clock_advance(int64_t us);
double nb_clock_rate(void);
/* Real microseconds until region time reaches t (0 if already passed). */
int64_t nb_clock_real_delay_us(int64_t region_t_us);
/* Parse a duration "30d", "12h", "90m", "45s", "1500ms", "2w", or a bare number of seconds,
 * into microseconds. Returns 0 or -1. */
int nb_duration_parse(const char *s, int64_t *us);
/* Listeners called after every advance (the scheduler registers one). */
void nb_clock_on_advance(void (*fn)(void *arg), void *arg);

#endif
