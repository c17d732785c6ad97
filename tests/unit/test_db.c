/* test_db.c: SQLite store: migrations, group commit under 16 writer threads, per-job rollback,
 * read snapshots, nested calls, statement cache, wipe. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db.h"
#include "unit.h"

static char dir[128], path[256];

static const char *const migrations[] = {
    "CREATE TABLE items(id INTEGER PRIMARY KEY, thread INTEGER NOT NULL, n INTEGER NOT NULL,"
    " UNIQUE(thread, n));",
    "CREATE TABLE seed(v TEXT); INSERT INTO seed VALUES('once');",
    /* Children declared before parents, so that emptying in schema order would fail. */
    "CREATE TABLE child(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " parent INTEGER NOT NULL REFERENCES parent(id));"
    "CREATE TABLE parent(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);",
};

static int count_fn(sqlite3 *h, void *arg)
{
    const char *sql = ((const char **)arg)[0];
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return SQLITE_ERROR;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) return rc;
    *(int *)((const char **)arg)[1] = sqlite3_column_int(st, 0);
    return SQLITE_OK;
}

static int count(nb_db *db, const char *sql)
{
    int n = -1;
    const char *arg[2] = {sql, (const char *)&n};
    if (nb_db_read(db, count_fn, arg) != SQLITE_OK) return -1;
    return n;
}

static int user_version(void)
{
    sqlite3 *h;
    int v = -1;
    if (sqlite3_open(path, &h) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return v;
}

static void test_migrations(void)
{
    char *err = NULL;
    nb_db *db = nb_db_open(path, migrations, 2, &err);
    CHECK(db != NULL && err == NULL);
    CHECK(count(db, "SELECT count(*) FROM seed") == 1);
    nb_db_close(db);
    CHECK(user_version() == 2);
    /* Reopening applies only the new migration: the seed row is not inserted twice. */
    db = nb_db_open(path, migrations, 3, &err);
    CHECK(db != NULL);
    CHECK(count(db, "SELECT count(*) FROM seed") == 1);
    CHECK(count(db, "SELECT count(*) FROM parent") == 0);
    nb_db_close(db);
    CHECK(user_version() == 3);
    /* A database newer than the program is refused. */
    db = nb_db_open(path, migrations, 1, &err);
    CHECK(db == NULL && err != NULL && strstr(err, "newer"));
    free(err);
    err = NULL;
    /* A failing migration leaves the database at the last good version. */
    const char *bad[] = {migrations[0], migrations[1], migrations[2],
                         "CREATE TABLE ok(x); THIS IS NOT SQL;"};
    db = nb_db_open(path, bad, 4, &err);
    CHECK(db == NULL && err != NULL && strstr(err, "migration 4"));
    free(err);
    CHECK(user_version() == 3);
    db = nb_db_open(path, migrations, 3, NULL); /* err may be NULL */
    CHECK(db != NULL);
    CHECK(count(db, "SELECT count(*) FROM sqlite_master WHERE name='ok'") == 0);
    nb_db_close(db);
}

struct ins {
    int thread, n;
};

static int insert_fn(sqlite3 *h, void *arg)
{
    struct ins *a = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "INSERT INTO items(thread, n) VALUES(?, ?)");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int(st, 1, a->thread);
    sqlite3_bind_int(st, 2, a->n);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

#define THREADS 16
#define WRITES 200

struct worker {
    nb_db *db;
    int thread, failures, seen_own;
};

static void *writer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < WRITES; i++) {
        struct ins a = {w->thread, i};
        if (nb_db_write(w->db, insert_fn, &a) != SQLITE_OK) w->failures++;
    }
    /* Reads (on this thread's own read connection) see every committed write. */
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM items WHERE thread=%d", w->thread);
    w->seen_own = count(w->db, sql);
    return NULL; /* thread exit closes this thread's read connection */
}

static void test_group_commit(void)
{
    nb_db *db = nb_db_open(path, migrations, 3, NULL);
    CHECK(db != NULL);
    uint64_t b0, j0;
    nb_db_stats(db, &b0, &j0);
    pthread_t th[THREADS];
    struct worker w[THREADS];
    int64_t t0 = nb_mono_us();
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){db, i, 0, 0};
        pthread_create(&th[i], NULL, writer, &w[i]);
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
        CHECK(w[i].seen_own == WRITES);
    }
    int64_t t1 = nb_mono_us();
    CHECK(failures == 0);
    CHECK(count(db, "SELECT count(*) FROM items") == THREADS * WRITES);
    uint64_t b1, j1;
    nb_db_stats(db, &b1, &j1);
    CHECK(j1 - j0 == THREADS * WRITES);
    CHECK(b1 - b0 < j1 - j0); /* writes shared commits */
    fprintf(stderr, "group commit: %d writes in %llu batches (%.1f per fsync), %.0f writes/s\n",
            THREADS * WRITES, (unsigned long long)(b1 - b0), (double)(j1 - j0) / (double)(b1 - b0),
            (double)(THREADS * WRITES) * 1e6 / (double)(t1 - t0));
    nb_db_close(db);
    /* Durable: a plain connection after close sees them all. */
    sqlite3 *h;
    CHECK(sqlite3_open(path, &h) == SQLITE_OK);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(h, "SELECT count(*), count(DISTINCT thread) FROM items", -1, &st,
                             NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int(st, 0) == THREADS * WRITES);
    CHECK(sqlite3_column_int(st, 1) == THREADS);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

/* Holds the writer busy so that jobs queued meanwhile form one batch. */
static int gate_fn(sqlite3 *h, void *arg)
{
    usleep(200 * 1000);
    return insert_fn(h, arg);
}

static int insert_then_fail(sqlite3 *h, void *arg)
{
    int rc = insert_fn(h, arg);
    return rc == SQLITE_OK ? 4242 : rc; /* changes made, then the job says no */
}

struct job_thread {
    nb_db *db;
    int (*fn)(sqlite3 *, void *);
    struct ins a;
    int rc;
};

static void *job_thread(void *arg)
{
    struct job_thread *j = arg;
    j->rc = nb_db_write(j->db, j->fn, &j->a);
    return NULL;
}

static void test_failing_job_rolls_back_only_itself(void)
{
    nb_db *db = nb_db_open(path, migrations, 3, NULL);
    CHECK(db != NULL);
    uint64_t b0;
    nb_db_stats(db, &b0, NULL);
    struct job_thread jobs[] = {
        {db, gate_fn, {100, 0}, -1},          {db, insert_fn, {100, 1}, -1},
        {db, insert_then_fail, {100, 2}, -1}, {db, insert_fn, {100, 3}, -1},
        {db, insert_fn, {100, 1}, -1}, /* duplicate of job 1: UNIQUE fails, only it rolls back */
        {db, insert_fn, {100, 4}, -1},
    };
    pthread_t th[NB_ARRAY_LEN(jobs)];
    pthread_create(&th[0], NULL, job_thread, &jobs[0]);
    usleep(50 * 1000); /* the gate is running; the rest queue up behind it */
    for (size_t i = 1; i < NB_ARRAY_LEN(jobs); i++) {
        pthread_create(&th[i], NULL, job_thread, &jobs[i]);
        usleep(5 * 1000); /* keep their order */
    }
    for (size_t i = 0; i < NB_ARRAY_LEN(jobs); i++)
        pthread_join(th[i], NULL);
    CHECK(jobs[0].rc == SQLITE_OK);
    CHECK(jobs[1].rc == SQLITE_OK);
    CHECK(jobs[2].rc == 4242);
    CHECK(jobs[3].rc == SQLITE_OK);
    CHECK(jobs[4].rc == SQLITE_CONSTRAINT);
    CHECK(jobs[5].rc == SQLITE_OK);
    uint64_t b1;
    nb_db_stats(db, &b1, NULL);
    CHECK(b1 - b0 == 2); /* the gate alone, then the five others together */
    CHECK(count(db, "SELECT count(*) FROM items WHERE thread=100") == 4);
    CHECK(count(db, "SELECT count(*) FROM items WHERE thread=100 AND n=2") == 0);
    CHECK(count(db, "SELECT count(*) FROM items WHERE thread=100 AND n=1") == 1);
    nb_db_close(db);
}

struct snap {
    nb_db *db;
    int first, second, inner_rc;
};

static int add_one(sqlite3 *h, void *arg)
{
    struct ins a = {200, *(int *)arg};
    return insert_fn(h, &a);
}

static int snapshot_fn(sqlite3 *h, void *arg)
{
    struct snap *s = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT count(*) FROM items");
    if (sqlite3_step(st) != SQLITE_ROW) return SQLITE_ERROR;
    s->first = sqlite3_column_int(st, 0);
    /* A write commits meanwhile (on the writer thread); this read transaction must not see
     * it. */
    int n = 1;
    s->inner_rc = nb_db_write(s->db, add_one, &n);
    st = nb_db_stmt(h, "SELECT count(*) FROM items");
    if (sqlite3_step(st) != SQLITE_ROW) return SQLITE_ERROR;
    s->second = sqlite3_column_int(st, 0);
    return SQLITE_OK;
}

/* Inside a write: nested writes become savepoints, reads see the job's own changes. */
static int nested_fn(sqlite3 *h, void *arg)
{
    nb_db *db = arg;
    int n = 2;
    if (nb_db_write(db, add_one, &n) != SQLITE_OK) return SQLITE_ERROR;
    n = 2; /* duplicate: the nested savepoint fails alone */
    if (nb_db_write(db, add_one, &n) != SQLITE_CONSTRAINT) return SQLITE_ERROR;
    int seen = -1;
    const char *q[2] = {"SELECT count(*) FROM items WHERE thread=200 AND n=2", (char *)&seen};
    if (nb_db_read(db, count_fn, q) != SQLITE_OK || seen != 1) return SQLITE_ERROR;
    return SQLITE_OK;
}

static void test_reads(void)
{
    nb_db *db = nb_db_open(path, migrations, 3, NULL);
    CHECK(db != NULL);
    int before = count(db, "SELECT count(*) FROM items");
    struct snap s = {db, -1, -1, -1};
    CHECK(nb_db_read(db, snapshot_fn, &s) == SQLITE_OK);
    CHECK(s.inner_rc == SQLITE_OK);
    CHECK(s.first == before && s.second == before);               /* one consistent snapshot */
    CHECK(count(db, "SELECT count(*) FROM items") == before + 1); /* the next read sees it */
    CHECK(nb_db_write(db, nested_fn, db) == SQLITE_OK);
    CHECK(count(db, "SELECT count(*) FROM items WHERE thread=200") == 2);
    nb_db_close(db);
}

static int stmt_fn(sqlite3 *h, void *arg)
{
    sqlite3_stmt *a = nb_db_stmt(h, "SELECT 1");
    char buf[32];
    snprintf(buf, sizeof(buf), "SELECT %d", 1); /* same text, different pointer */
    sqlite3_stmt *b = nb_db_stmt(h, buf);
    sqlite3_stmt *c = nb_db_stmt(h, "SELECT 2");
    *(int *)arg = a && a == b && c && c != a;
    CHECK(nb_db_stmt(h, "SELEKT nonsense") == NULL);
    return SQLITE_OK;
}

static void test_stmt_cache(void)
{
    nb_db *db = nb_db_open(path, migrations, 3, NULL);
    int ok = 0;
    CHECK(nb_db_read(db, stmt_fn, &ok) == SQLITE_OK && ok);
    ok = 0;
    CHECK(nb_db_write(db, stmt_fn, &ok) == SQLITE_OK && ok);
    nb_db_close(db);
}

static int fill_fn(sqlite3 *h, void *arg)
{
    return sqlite3_exec(h,
                        "INSERT INTO parent(name) VALUES('a'),('b');"
                        "INSERT INTO child(parent) VALUES(1),(2),(2);",
                        NULL, NULL, NULL);
}

static void test_wipe(void)
{
    nb_db *db = nb_db_open(path, migrations, 3, NULL);
    CHECK(nb_db_write(db, fill_fn, NULL) == SQLITE_OK);
    CHECK(count(db, "SELECT count(*) FROM child") == 3);
    CHECK(count(db, "SELECT count(*) FROM items") > 0);
    /* Foreign keys are on, and "parent" sorts after "child" in neither order that would work
     * by luck for every schema: wipe must find an order (or cascade) itself. */
    CHECK(nb_db_wipe(db) == SQLITE_OK);
    CHECK(count(db, "SELECT count(*) FROM items") == 0);
    CHECK(count(db, "SELECT count(*) FROM seed") == 0);
    CHECK(count(db, "SELECT count(*) FROM parent") == 0);
    CHECK(count(db, "SELECT count(*) FROM child") == 0);
    CHECK(count(db, "SELECT count(*) FROM sqlite_sequence") == 0);
    nb_db_close(db);
    CHECK(user_version() == 3); /* the schema stays */
    db = nb_db_open(path, migrations, 3, NULL);
    CHECK(count(db, "SELECT count(*) FROM items") == 0); /* durably */
    CHECK(nb_db_write(db, fill_fn, NULL) == SQLITE_OK);
    CHECK(count(db, "SELECT min(id) FROM parent") == 1); /* AUTOINCREMENT restarted */
    nb_db_close(db);
}

static int fk_violation(sqlite3 *h, void *arg)
{
    return sqlite3_exec(h, "INSERT INTO child(parent) VALUES(999)", NULL, NULL, NULL);
}

static void test_foreign_keys_on(void)
{
    nb_db *db = nb_db_open(path, migrations, 3, NULL);
    CHECK(nb_db_write(db, fk_violation, NULL) == SQLITE_CONSTRAINT);
    CHECK(count(db, "SELECT count(*) FROM child WHERE parent=999") == 0);
    nb_db_close(db);
    sqlite3 *h;
    sqlite3_open(path, &h);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(h);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/nb-test-db-%d", (int)getpid());
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof(path), "%s/test.db", dir);
    test_migrations();
    test_group_commit();
    test_failing_job_rolls_back_only_itself();
    test_reads();
    test_stmt_cache();
    test_wipe();
    test_foreign_keys_on();
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    UNIT_DONE();
}
