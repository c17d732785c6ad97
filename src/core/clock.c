/* clock.c: the region clock: real time scaled by a rate from a persisted anchor, advanced on
 * demand, never running backwards (also across restarts). */
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The model: region_now = anchor_region + (wall_now - anchor_wall) * rate.
 *
 * Real time is the wall clock (CLOCK_REALTIME), so that at rate 1 with no advance the region
 * clock is exactly the host's time (S3 dates, logs and clients agree). The wall clock can be
 * stepped backwards by an admin or NTP; `high` remembers the largest value ever returned and
 * region time holds there until the formula catches up, so callers never see time go back.
 *
 * An advance or a new rate re-anchors at the current instant: anchor_wall = wall_now,
 * anchor_region = region_now (+ the advance). The anchor and rate are written to
 * <data_dir>/clock before the new state is used, so a restart resumes from at least the last
 * anchor. On restart, the downtime is counted at the rate that was in effect (the formula just
 * continues), then the clock re-anchors at the new rate. If the wall clock went backwards across
 * the restart, region time resumes at the persisted anchor_region (it never goes below it). */

struct clock_state {
    int64_t anchor_wall, anchor_region;
    double rate;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* Before nb_clock_init (tests, tools) region time is plain wall time. */
static struct clock_state st = {0, 0, 1.0};
static int64_t high;        /* largest value returned so far */
static char *state_path;    /* <data_dir>/clock, NULL until init */
static char *data_dir_path; /* for fsync of the directory after rename */

/* Serializes advances (compute, persist, apply) without holding `mu` across the fsync. */
static pthread_mutex_t advance_mu = PTHREAD_MUTEX_INITIALIZER;

struct listener {
    void (*fn)(void *);
    void *arg;
    struct listener *next;
};
static pthread_mutex_t listeners_mu = PTHREAD_MUTEX_INITIALIZER;
static struct listener *listeners;

static int64_t formula(const struct clock_state *s, int64_t wall)
{
    int64_t dt = wall - s->anchor_wall;
    if (dt <= 0) return s->anchor_region;
    if (s->rate == 1.0) return s->anchor_region + dt;
    double v = (double)dt * s->rate;
    if (v > 9.0e18 - (double)s->anchor_region) return INT64_MAX / 2; /* absurd; saturate */
    return s->anchor_region + (int64_t)v;
}

/* Caller holds mu. */
static int64_t now_locked(void)
{
    int64_t v = formula(&st, nb_wall_us());
    if (v < high) return high;
    high = v;
    return v;
}

int64_t nb_clock_now_us(void)
{
    pthread_mutex_lock(&mu);
    int64_t v = now_locked();
    pthread_mutex_unlock(&mu);
    return v;
}

int64_t nb_clock_now(void)
{
    return nb_clock_now_us() / 1000000;
}

double nb_clock_now_f(void)
{
    return (double)nb_clock_now_us() / 1e6;
}

double nb_clock_rate(void)
{
    pthread_mutex_lock(&mu);
    double r = st.rate;
    pthread_mutex_unlock(&mu);
    return r;
}

int64_t nb_clock_real_delay_us(int64_t region_t_us)
{
    pthread_mutex_lock(&mu);
    int64_t now = now_locked();
    double rate = st.rate;
    pthread_mutex_unlock(&mu);
    if (region_t_us <= now) return 0;
    double d = ceil((double)(region_t_us - now) / rate);
    if (d > 9.0e18) return INT64_MAX / 2;
    return d < 1 ? 1 : (int64_t)d;
}

/* Write the state to <data_dir>/clock atomically: temp file, fsync, rename, fsync dir. A crash
 * leaves either the old or the new file, never a torn one. */
static int persist(const struct clock_state *s)
{
    if (!state_path) return 0;
    nb_buf tb;
    nb_buf_init(&tb);
    nb_buf_printf(&tb, "%s.tmp", state_path);
    if (tb.oom) return -1;
    const char *tmp = tb.data;
    char text[160];
    int n = snprintf(text, sizeof(text), "nimbus-clock 1 %" PRId64 " %" PRId64 " %.17g\n",
                     s->anchor_wall, s->anchor_region, s->rate);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) goto fail;
    if (write(fd, text, (size_t)n) != n || fsync(fd) < 0) {
        close(fd);
        goto fail;
    }
    close(fd);
    if (rename(tmp, state_path) < 0) goto fail;
    int dfd = open(data_dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    nb_buf_free(&tb);
    return 0;
fail:
    nb_error("clock: cannot write %s: %s", state_path, strerror(errno));
    unlink(tmp);
    nb_buf_free(&tb);
    return -1;
}

static int load(const char *path, struct clock_state *s)
{
    FILE *f = fopen(path, "re");
    if (!f) return errno == ENOENT ? 1 : -1;
    int v = 0;
    int ok = fscanf(f, "nimbus-clock %d %" SCNd64 " %" SCNd64 " %lf", &v, &s->anchor_wall,
                    &s->anchor_region, &s->rate);
    fclose(f);
    if (ok != 4 || v != 1 || !(s->rate > 0) || !isfinite(s->rate)) return -1;
    return 0;
}

int nb_clock_init(const char *data_dir, double rate)
{
    if (!(rate > 0) || !isfinite(rate)) {
        nb_error("clock: rate must be > 0 (got %g)", rate);
        return -1;
    }
    pthread_mutex_lock(&advance_mu);
    char *path = NULL;
    if (data_dir) {
        nb_buf b;
        nb_buf_init(&b);
        nb_buf_printf(&b, "%s/clock", data_dir);
        path = nb_buf_steal(&b, NULL);
    }
    struct clock_state saved = {0, 0, 1.0};
    int r = path ? load(path, &saved) : 1;
    if (r < 0) {
        nb_error("clock: %s is unreadable or corrupt; refusing to guess region time (remove it "
                 "to restart region time from host time)",
                 path);
        free(path);
        pthread_mutex_unlock(&advance_mu);
        return -1;
    }
    pthread_mutex_lock(&mu);
    int64_t wall = nb_wall_us();
    int64_t now;
    if (r == 1) {
        now = formula(&st, wall); /* fresh: region time is real time (or what we had) */
    } else {
        now = formula(&saved, wall); /* downtime passes at the rate then in effect */
        if (now < saved.anchor_region) now = saved.anchor_region;
    }
    if (now < high) now = high;
    struct clock_state next = {wall, now, rate};
    /* Re-anchoring changes nothing when the saved state already gives this time at this rate
     * (or, fresh, region time is host time at rate 1): skip the write and its fsync, which
     * would otherwise cost every start-up a disk flush. */
    bool unchanged = (r == 0 && saved.rate == rate && formula(&saved, wall) == now) ||
                     (r == 1 && rate == 1.0 && now == wall && high <= wall);
    if (unchanged && r == 0) next = saved;
    pthread_mutex_unlock(&mu);

    free(state_path);
    free(data_dir_path);
    state_path = path;
    data_dir_path = data_dir ? nb_xstrdup(data_dir) : NULL;
    if (!unchanged && persist(&next) < 0) {
        pthread_mutex_unlock(&advance_mu);
        return -1;
    }
    pthread_mutex_lock(&mu);
    st = next;
    if (high < now) high = now;
    pthread_mutex_unlock(&mu);
    pthread_mutex_unlock(&advance_mu);
    return 0;
}

int nb_clock_advance(int64_t us)
{
    if (us <= 0) return -1;
    pthread_mutex_lock(&advance_mu);
    pthread_mutex_lock(&mu);
    int64_t wall = nb_wall_us();
    int64_t now = formula(&st, wall);
    if (now < high) now = high;
    if (now > INT64_MAX / 2 - us) {
        pthread_mutex_unlock(&mu);
        pthread_mutex_unlock(&advance_mu);
        return -1;
    }
    struct clock_state next = {wall, now + us, st.rate};
    pthread_mutex_unlock(&mu);
    /* Persist before use: if the write fails, time has not moved, and a restart can never
     * resume below a value we handed out. */
    if (persist(&next) < 0) {
        pthread_mutex_unlock(&advance_mu);
        return -1;
    }
    pthread_mutex_lock(&mu);
    st = next;
    if (high < next.anchor_region) high = next.anchor_region;
    pthread_mutex_unlock(&mu);
    pthread_mutex_unlock(&advance_mu);

    pthread_mutex_lock(&listeners_mu);
    for (struct listener *l = listeners; l; l = l->next)
        l->fn(l->arg);
    pthread_mutex_unlock(&listeners_mu);
    return 0;
}

/* Listeners live for the life of the process; they are called with listeners_mu held, so they
 * must be quick (signal a condition) and must not register listeners themselves. */
void nb_clock_on_advance(void (*fn)(void *arg), void *arg)
{
    struct listener *l = nb_xmalloc(sizeof(*l));
    l->fn = fn;
    l->arg = arg;
    pthread_mutex_lock(&listeners_mu);
    l->next = listeners;
    listeners = l;
    pthread_mutex_unlock(&listeners_mu);
}

/* Units accepted after a number; "m" is minutes, "ms" milliseconds (longest match first). */
static const struct {
    const char *unit;
    double us;
} units[] = {
    {"ms", 1e3},   {"us", 1},   {"w", 7 * 86400e6}, {"d", 86400e6},
    {"h", 3600e6}, {"m", 60e6}, {"s", 1e6},
};

/* "30d", "12h", "90m", "45s", "1500ms", "2w", "1.5h", compounds such as "1d12h", or a bare
 * number of seconds. Refuses empty text, negative values, unknown units and overflow. */
int nb_duration_parse(const char *s, int64_t *us)
{
    if (!s) return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n'))
        len--;
    if (!len) return -1;
    const char *p = s, *end = s + len;
    double total = 0;
    bool first = true;
    while (p < end) {
        if (!((*p >= '0' && *p <= '9') || *p == '.')) return -1;
        char num[64];
        size_t k = 0;
        while (p < end && ((*p >= '0' && *p <= '9') || *p == '.')) {
            if (k + 1 >= sizeof(num)) return -1;
            num[k++] = *p++;
        }
        num[k] = 0;
        char *ne;
        double v = strtod(num, &ne);
        if (*ne || ne == num) return -1;
        if (p == end) {
            if (!first) return -1; /* "1h30" is ambiguous: refuse */
            total += v * 1e6;
            break;
        }
        size_t i;
        for (i = 0; i < NB_ARRAY_LEN(units); i++) {
            size_t ul = strlen(units[i].unit);
            if ((size_t)(end - p) >= ul && memcmp(p, units[i].unit, ul) == 0 &&
                !(p + ul < end && ((p[ul] >= 'a' && p[ul] <= 'z'))))
                break;
        }
        if (i == NB_ARRAY_LEN(units)) return -1;
        total += v * units[i].us;
        p += strlen(units[i].unit);
        first = false;
    }
    if (!isfinite(total) || total > 4.0e18) return -1;
    *us = (int64_t)llround(total);
    return 0;
}
