/* test_clock.c: region clock: advance, rate, persistence across restarts, never backwards, and
 * duration parsing. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "unit.h"

#define SEC 1000000LL
#define DAY (86400 * SEC)

static char base[256];

static void mkdirs(const char *sub, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", base, sub);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", out);
    CHECK(system(cmd) == 0);
}

static void msleep(int ms)
{
    usleep((useconds_t)ms * 1000);
}

/* Runs first, in a process that has not initialised its clock, so what it sees comes from the
 * file alone: a "previous run" (a child process) advances a year and exits; the next start must
 * resume at least there. */
static void test_persistence_across_restart(void)
{
    char dir[512];
    mkdirs("persist", dir, sizeof(dir));
    pid_t pid = fork();
    if (pid == 0) {
        if (nb_clock_init(dir, 1.0) < 0 || nb_clock_advance(365 * DAY) < 0) _exit(1);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int64_t before = nb_wall_us();
    CHECK(nb_clock_init(dir, 1.0) == 0);
    int64_t now = nb_clock_now_us();
    CHECK(now >= before + 365 * DAY - SEC);
    CHECK(now <= nb_wall_us() + 365 * DAY + SEC);

    /* A restart whose previous run had rate 1000: its downtime counts at that rate. */
    char dir2[512];
    mkdirs("persist-rate", dir2, sizeof(dir2));
    pid = fork();
    if (pid == 0) _exit(nb_clock_init(dir2, 1000.0) < 0 ? 1 : 0);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    FILE *f = fopen((snprintf(dir2 + strlen(dir2), 8, "/clock"), dir2), "r");
    CHECK(f != NULL);
    if (f) {
        char line[200] = "";
        CHECK(fgets(line, sizeof(line), f) != NULL);
        CHECK(strncmp(line, "nimbus-clock 1 ", 15) == 0);
        fclose(f);
    }
    dir2[strlen(dir2) - 6] = 0;
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s/clock.tmp", dir2);
    CHECK(access(tmp, F_OK) != 0); /* the temp file was renamed away */
}

static void test_corrupt_state_refused(void)
{
    char dir[512];
    mkdirs("corrupt", dir, sizeof(dir));
    char path[600];
    snprintf(path, sizeof(path), "%s/clock", dir);
    FILE *f = fopen(path, "w");
    fputs("garbage\n", f);
    fclose(f);
    CHECK(nb_clock_init(dir, 1.0) == -1);
    CHECK(nb_clock_init(dir, 0.0) == -1);
    CHECK(nb_clock_init(dir, -1.0) == -1);
}

static int advanced;
static void on_adv(void *arg)
{
    __atomic_add_fetch((int *)arg, 1, __ATOMIC_SEQ_CST);
}

static void test_advance(void)
{
    char dir[512];
    mkdirs("advance", dir, sizeof(dir));
    CHECK(nb_clock_init(dir, 1.0) == 0);
    CHECK(nb_clock_rate() == 1.0);
    nb_clock_on_advance(on_adv, &advanced);
    int64_t t0 = nb_clock_now_us();
    CHECK(nb_clock_advance(30 * DAY) == 0);
    int64_t t1 = nb_clock_now_us();
    CHECK(t1 - t0 >= 30 * DAY);
    CHECK(t1 - t0 < 30 * DAY + SEC);
    CHECK(advanced == 1);
    CHECK(nb_clock_now() == t1 / SEC || nb_clock_now() == t1 / SEC + 1);
    CHECK(nb_clock_now_f() >= (double)t1 / 1e6);
    CHECK(nb_clock_advance(0) == -1);
    CHECK(nb_clock_advance(-5) == -1);
    CHECK(advanced == 1);
    /* At rate 1 the clock still moves with real time after an advance. */
    msleep(20);
    int64_t t2 = nb_clock_now_us();
    CHECK(t2 - t1 >= 15000 && t2 - t1 < 5 * SEC);
    /* Real delay: a region instant 2 s ahead is 2 s away at rate 1; the past is 0 away. */
    int64_t d = nb_clock_real_delay_us(nb_clock_now_us() + 2 * SEC);
    CHECK(d > SEC && d <= 2 * SEC);
    CHECK(nb_clock_real_delay_us(t0) == 0);
    /* The advance is persisted: re-init resumes after it (and not behind what we returned). */
    int64_t before = nb_clock_now_us();
    CHECK(nb_clock_init(dir, 1.0) == 0);
    CHECK(nb_clock_now_us() >= before);
}

static void test_rate(void)
{
    char dir[512];
    mkdirs("rate", dir, sizeof(dir));
    CHECK(nb_clock_init(dir, 1000.0) == 0);
    CHECK(nb_clock_rate() == 1000.0);
    int64_t t0 = nb_clock_now_us();
    int64_t r0 = nb_mono_us();
    msleep(50);
    int64_t t1 = nb_clock_now_us();
    int64_t real = nb_mono_us() - r0;
    /* 50+ ms real = 50+ s region; allow the scheduling noise of a busy machine. */
    CHECK(t1 - t0 >= 40 * SEC);
    CHECK(t1 - t0 <= (real + 5000) * 1000);
    int64_t d = nb_clock_real_delay_us(nb_clock_now_us() + 10 * SEC);
    CHECK(d > 1000 && d <= 10000); /* 10 s region = 10 ms real */
    /* Advance works the same at any rate. */
    int64_t a = nb_clock_now_us();
    CHECK(nb_clock_advance(DAY) == 0);
    CHECK(nb_clock_now_us() - a >= DAY);
    /* Back to rate 1 (re-init): time continues from where it was, never back. */
    int64_t b = nb_clock_now_us();
    CHECK(nb_clock_init(dir, 1.0) == 0);
    CHECK(nb_clock_now_us() >= b);
    CHECK(nb_clock_rate() == 1.0);
}

static int stop_readers;
static int backwards;

static void *reader(void *arg)
{
    int64_t last = 0;
    while (!__atomic_load_n(&stop_readers, __ATOMIC_SEQ_CST)) {
        int64_t t = nb_clock_now_us();
        if (t < last) __atomic_add_fetch(&backwards, 1, __ATOMIC_SEQ_CST);
        last = t;
    }
    return NULL;
}

static void test_never_backwards(void)
{
    char dir[512];
    mkdirs("monotonic", dir, sizeof(dir));
    CHECK(nb_clock_init(dir, 3.0) == 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, reader, NULL);
    for (int i = 0; i < 20; i++) {
        CHECK(nb_clock_advance(SEC) == 0);
        if (i == 10) CHECK(nb_clock_init(dir, 0.5) == 0); /* rate change mid-run */
        msleep(2);
    }
    __atomic_store_n(&stop_readers, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    CHECK(__atomic_load_n(&backwards, __ATOMIC_SEQ_CST) == 0);
    /* A fresh data directory must not pull the clock back below what was returned either. */
    int64_t b = nb_clock_now_us();
    char fresh[512];
    mkdirs("fresh", fresh, sizeof(fresh));
    CHECK(nb_clock_init(fresh, 1.0) == 0);
    CHECK(nb_clock_now_us() >= b);
}

static void test_duration_parse(void)
{
    int64_t us = -1;
    CHECK(nb_duration_parse("30d", &us) == 0 && us == 30 * DAY);
    CHECK(nb_duration_parse("12h", &us) == 0 && us == 12 * 3600 * SEC);
    CHECK(nb_duration_parse("90m", &us) == 0 && us == 90 * 60 * SEC);
    CHECK(nb_duration_parse("45s", &us) == 0 && us == 45 * SEC);
    CHECK(nb_duration_parse("1500ms", &us) == 0 && us == 1500000);
    CHECK(nb_duration_parse("2w", &us) == 0 && us == 14 * DAY);
    CHECK(nb_duration_parse("10", &us) == 0 && us == 10 * SEC);
    CHECK(nb_duration_parse("0", &us) == 0 && us == 0);
    CHECK(nb_duration_parse("1.5h", &us) == 0 && us == 5400 * SEC);
    CHECK(nb_duration_parse("1d12h", &us) == 0 && us == DAY + 12 * 3600 * SEC);
    CHECK(nb_duration_parse("250us", &us) == 0 && us == 250);
    CHECK(nb_duration_parse(" 5m ", &us) == 0 && us == 300 * SEC);
    us = 42;
    const char *bad[] = {
        "",    "  ", "abc", "-1", "5x", "1h30", "m", "1mo", "1..2s", "1e3", "99999999999999999999d",
        "5 m", NULL};
    for (int i = 0; bad[i]; i++) {
        int64_t v = 42;
        int r = nb_duration_parse(bad[i], &v);
        if (r != -1) fprintf(stderr, "accepted bad duration '%s'\n", bad[i]);
        CHECK(r == -1);
    }
    CHECK(nb_duration_parse(NULL, &us) == -1);
}

int main(void)
{
    snprintf(base, sizeof(base), "/tmp/nb-test-clock-%d", (int)getpid());
    /* Before init, region time is host time. */
    int64_t w = nb_wall_us(), n = nb_clock_now_us();
    CHECK(n >= w && n - w < SEC);
    test_persistence_across_restart();
    test_corrupt_state_refused();
    test_advance();
    test_rate();
    test_never_backwards();
    test_duration_parse();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    CHECK(system(cmd) == 0);
    UNIT_DONE();
}
