/* db.c: metadata in SQLite: migrations, one writer thread per database doing group commit, and
 * lazily opened per-thread read connections, each with a prepared-statement cache. */
#include "store/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Memory: the whole server must idle in a few MiB, and there is one writer per service plus one
 * reader per (thread, database) actually used, so every connection gets a small page cache and
 * lookaside; SQLite allocates both lazily, so unused capacity costs no RSS. What start-up alone
 * needed is dropped (the migrations' pages at open, read connections through
 * nb_db_release_readers): see doc/memory.md. */
#define WRITER_CACHE_KIB 1024
#define READER_CACHE_KIB 256
#define BUSY_TIMEOUT_MS 10000

/* ---- connections and their statement caches ---- */

struct slot {
    uint32_t hash;
    sqlite3_stmt *st; /* NULL = empty */
};

/* One SQLite connection. The writer's is embedded in nb_db; readers are malloc'd, belong to one
 * thread and are listed both in that thread's list and in their database's list (both under
 * reg_mu). When the database closes first, it closes the handle and marks the struct dead; the
 * owning thread frees the struct later (next lookup or thread exit). */
struct conn {
    sqlite3 *h;
    struct slot *slots;
    size_t cap, n;
    uint64_t db_id;
    nb_db *db;
    atomic_bool dead; /* set under reg_mu; read without it to skip quickly */
    struct conn *next_in_db, *next_in_thread;
};

struct job {
    int (*fn)(sqlite3 *h, void *arg);
    void *arg;
    int rc;
    _Atomic uint32_t done; /* futex word: its waiter sleeps on it, without db->mu */
    bool redo;             /* fn may run again after everything it did was rolled back */
    struct job *next;
};

struct nb_db {
    uint64_t id;
    char *path;
    struct conn writer;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t has_work;
    struct job *head, *tail;
    int qlen;      /* jobs queued (under mu) */
    int gather_to; /* > 0: the writer is gathering and wants a signal at this many jobs */
    bool stop;
    struct conn *readers; /* under reg_mu */
    _Atomic uint64_t nbatches, njobs;
    /* nb_db_write_gen: odd while a batch is open, +1 at BEGIN and +1 after COMMIT. Starts at a
     * process-wide epoch (id << 32) so a database reopened at the same address never repeats
     * a value a cache may still hold. */
    _Atomic uint64_t wgen;
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t next_db_id = 1;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;         /* value: the thread's reader list, for its exit */
static __thread struct conn *tl_readers; /* this thread's read connections */
static __thread struct conn *tl_conn;    /* connection fn is running on (for nb_db_stmt) */
static __thread nb_db *tl_writer_db;     /* set on a writer thread while it runs jobs */

static uint32_t hash_sql(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static bool cache_grow(struct conn *c)
{
    size_t cap = c->cap ? c->cap * 2 : 16;
    struct slot *s = calloc(cap, sizeof(*s));
    if (!s) return false;
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->slots[i].st) continue;
        size_t j = c->slots[i].hash & (cap - 1);
        while (s[j].st)
            j = (j + 1) & (cap - 1);
        s[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = s;
    c->cap = cap;
    return true;
}

/* Finalizes every statement of the connection (cached or not) and closes it. */
static void conn_close(struct conn *c)
{
    if (c->h) {
        sqlite3_stmt *st;
        while ((st = sqlite3_next_stmt(c->h, NULL)))
            sqlite3_finalize(st);
        if (sqlite3_close(c->h) != SQLITE_OK) nb_error("db: close: %s", sqlite3_errmsg(c->h));
    }
    c->h = NULL;
    free(c->slots);
    c->slots = NULL;
    c->cap = c->n = 0;
}

static int exec(sqlite3 *h, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        nb_debug("db: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return rc;
}

/* A statement left mid-step by fn would keep a read transaction (or a pending write) open
 * past our COMMIT; reset them all after each fn. */
static void reset_busy(sqlite3 *h)
{
    for (sqlite3_stmt *st = sqlite3_next_stmt(h, NULL); st; st = sqlite3_next_stmt(h, st))
        if (sqlite3_stmt_busy(st)) sqlite3_reset(st);
}

static int conn_open(struct conn *c, const char *path, bool reader, char **err)
{
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE |
                (reader ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    memset(c, 0, sizeof(*c));
    int rc = sqlite3_open_v2(path, &c->h, flags, NULL);
    if (rc != SQLITE_OK) goto fail;
    sqlite3_extended_result_codes(c->h, 0);
    sqlite3_db_config(c->h, SQLITE_DBCONFIG_LOOKASIDE, NULL, 128, reader ? 32 : 128);
    sqlite3_busy_timeout(c->h, BUSY_TIMEOUT_MS);
    char sql[256];
    if (reader) {
        snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d; PRAGMA foreign_keys=ON;",
                 READER_CACHE_KIB);
    } else {
        /* WAL so readers never block the writer; FULL so a commit is on disk when the writer
         * wakes its waiters (in WAL mode NORMAL could lose the last commits on power loss).
         * temp_store=MEMORY: each job runs in a savepoint, whose statement journal would
         * otherwise spill to a temp file past 64 KiB and then stay a file: two pwrite(2) per
         * page every job touches. In memory it holds at most one job's pages. */
        snprintf(sql, sizeof(sql),
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                 "PRAGMA cache_size=-%d; PRAGMA journal_size_limit=%d; PRAGMA temp_store=MEMORY;",
                 WRITER_CACHE_KIB, 8 << 20);
    }
    rc = exec(c->h, sql);
    if (rc != SQLITE_OK) goto fail;
    return 0;
fail:
    if (err) {
        nb_buf b;
        nb_buf_init(&b);
        nb_buf_printf(&b, "%s: %s", path, c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
        *err = nb_buf_steal(&b, NULL);
    }
    if (c->h) sqlite3_close(c->h);
    c->h = NULL;
    return rc ? rc : SQLITE_ERROR;
}

/* Statement cache: keyed by the text (hash, then strcmp against the statement's own copy),
 * so SQL built in a reused buffer is safe. Meant for a bounded set of SQL texts (literals); the
 * cache never evicts, since an evicted statement might still be in use by the caller. */
static sqlite3_stmt *cache_get(struct conn *c, const char *sql)
{
    uint32_t hv = hash_sql(sql);
    size_t i = 0;
    if (c->cap) {
        for (i = hv & (c->cap - 1); c->slots[i].st; i = (i + 1) & (c->cap - 1)) {
            if (c->slots[i].hash == hv && strcmp(sqlite3_sql(c->slots[i].st), sql) == 0) {
                sqlite3_stmt *st = c->slots[i].st;
                sqlite3_reset(st);
                sqlite3_clear_bindings(st);
                return st;
            }
        }
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK || !st) {
        nb_error("db: prepare failed: %s: %s", sqlite3_errmsg(c->h), sql);
        return NULL;
    }
    if ((c->n + 1) * 4 > c->cap * 3) {
        if (!cache_grow(c)) return st; /* works uncached; finalized at close */
        if (c->cap == 1024) nb_warn("db: 512+ cached statements on one connection: dynamic SQL?");
    }
    for (i = hv & (c->cap - 1); c->slots[i].st; i = (i + 1) & (c->cap - 1)) {
    }
    c->slots[i].hash = hv;
    c->slots[i].st = st;
    c->n++;
    return st;
}

/* Transaction control (BEGIN, COMMIT, SAVEPOINT ...) through the statement cache: every read
 * and every write job runs two or more of them, and sqlite3_exec would parse each every time. */
static int ctl(struct conn *c, const char *sql)
{
    sqlite3_stmt *st = cache_get(c, sql);
    if (!st) return exec(c->h, sql);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return SQLITE_OK;
    nb_debug("db: %s: %s", sql, sqlite3_errmsg(c->h));
    return rc;
}

sqlite3_stmt *nb_db_stmt(sqlite3 *h, const char *sql)
{
    if (tl_conn && tl_conn->h == h) return cache_get(tl_conn, sql);
    /* A handle we are not running on (used outside fn): find a statement with this text among
     * the connection's own, else prepare one that lives until the connection closes. */
    for (sqlite3_stmt *st = sqlite3_next_stmt(h, NULL); st; st = sqlite3_next_stmt(h, st)) {
        if (strcmp(sqlite3_sql(st), sql) == 0) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        nb_error("db: prepare failed: %s: %s", sqlite3_errmsg(h), sql);
        return NULL;
    }
    return st;
}

/* ---- writes: group commit on the writer thread ---- */

/* Run one job in its own savepoint. Returns fn's result, or the error that undid it. */
static int run_savepoint(struct conn *c, int (*fn)(sqlite3 *, void *), void *arg)
{
    sqlite3 *h = c->h;
    int rc = ctl(c, "SAVEPOINT nb_job");
    if (rc != SQLITE_OK) return rc;
    rc = fn(h, arg);
    reset_busy(h);
    if (sqlite3_get_autocommit(h)) return rc ? rc : SQLITE_ABORT; /* txn lost: caller handles */
    if (rc == SQLITE_OK) {
        rc = ctl(c, "RELEASE nb_job");
        if (rc == SQLITE_OK) return SQLITE_OK;
    }
    exec(h, "ROLLBACK TO nb_job");
    exec(h, "RELEASE nb_job");
    return rc;
}

/* A batch of several jobs that may all run again (nb_db_write_redo): one transaction without a
 * savepoint per job. A savepoint costs its SAVEPOINT and RELEASE and a copy of every page the
 * job touches into the statement journal, which is most of the writer's work for a small
 * PutObject beyond its own statements. If any job fails (or the transaction is lost), all of it
 * is rolled back and false returned: the caller runs the batch again the careful way, where
 * each job's failure undoes only that job. true: committed (or the commit failed, j->rc set). */
static bool run_batch_fast(nb_db *db, struct job *batch)
{
    sqlite3 *h = db->writer.h;
    if (!batch->next) return false; /* one job: nothing to share */
    for (struct job *j = batch; j; j = j->next)
        if (!j->redo) return false;
    if (ctl(&db->writer, "BEGIN IMMEDIATE") != SQLITE_OK) return false;
    for (struct job *j = batch; j; j = j->next) {
        int rc = j->fn(h, j->arg);
        reset_busy(h);
        if (sqlite3_get_autocommit(h)) return false; /* rolled back already: redo them all */
        if (rc != SQLITE_OK) {
            exec(h, "ROLLBACK");
            return false;
        }
    }
    int rc = ctl(&db->writer, "COMMIT"); /* the one fsync of the batch */
    if (rc != SQLITE_OK) {
        nb_error("db: %s: commit of a batch failed: %s", db->path, sqlite3_errmsg(h));
        exec(h, "ROLLBACK");
    }
    for (struct job *j = batch; j; j = j->next)
        j->rc = rc;
    return true;
}

static void run_batch(nb_db *db, struct job *batch)
{
    sqlite3 *h = db->writer.h;
    int njobs = 0;
    struct job *txn_first = batch; /* first job of the current transaction */
    atomic_fetch_add(&db->wgen, 1); /* odd: changes may become visible from now on */
    if (run_batch_fast(db, batch)) {
        for (struct job *j = batch; j; j = j->next)
            njobs++;
        atomic_fetch_add(&db->wgen, 1);
        atomic_fetch_add(&db->nbatches, 1);
        atomic_fetch_add(&db->njobs, (uint64_t)njobs);
        return;
    }
    int rc = ctl(&db->writer, "BEGIN IMMEDIATE");
    for (struct job *j = batch; j; j = j->next, njobs++) {
        if (rc != SQLITE_OK) { /* no transaction: BEGIN failed */
            j->rc = rc;
            continue;
        }
        j->rc = run_savepoint(&db->writer, j->fn, j->arg);
        if (sqlite3_get_autocommit(h)) {
            /* The transaction is gone (I/O error, out of memory, or fn ran COMMIT/ROLLBACK
             * itself): every job of it so far lost its changes, so none may report success. */
            int why = sqlite3_errcode(h) != SQLITE_OK ? sqlite3_errcode(h) : SQLITE_ABORT;
            nb_error("db: %s: transaction lost in a write batch (%s)", db->path,
                     sqlite3_errstr(why));
            for (struct job *k = txn_first; k != j->next; k = k->next)
                if (k->rc == SQLITE_OK) k->rc = why;
            txn_first = j->next;
            rc = ctl(&db->writer, "BEGIN IMMEDIATE");
        }
    }
    if (rc == SQLITE_OK) {
        rc = ctl(&db->writer, "COMMIT"); /* the one fsync of the batch */
        if (rc != SQLITE_OK) {
            nb_error("db: %s: commit of %d jobs failed: %s", db->path, njobs, sqlite3_errmsg(h));
            exec(h, "ROLLBACK");
            for (struct job *k = txn_first; k; k = k->next)
                if (k->rc == SQLITE_OK) k->rc = rc;
        }
    } else {
        nb_error("db: %s: BEGIN failed: %s", db->path, sqlite3_errstr(rc));
    }
    atomic_fetch_add(&db->wgen, 1); /* even again, before any waiter is woken */
    atomic_fetch_add(&db->nbatches, 1);
    atomic_fetch_add(&db->njobs, (uint64_t)njobs);
    nb_debug("db: %s: committed a batch of %d", db->path, njobs);
}

/* Each waiter sleeps on its own job's word, so a commit wakes exactly the threads whose jobs
 * it finished (a shared condition variable woke every waiter, most of them only to find their
 * job still queued and to queue up again on db->mu). */
static void job_wait(struct job *j)
{
    while (!atomic_load_explicit(&j->done, memory_order_acquire))
        syscall(SYS_futex, &j->done, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static void job_wake(struct job *j)
{
    /* j lives on its waiter's stack: once done is set, it may be gone. A wake on a reused
     * address is at worst a spurious wake-up, which every futex waiter tolerates. */
    _Atomic uint32_t *w = &j->done;
    atomic_store_explicit(w, 1, memory_order_release);
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Group commit under load. Writers whose jobs just committed are about to send their next
 * ones; a batch started with only the few jobs queued meanwhile pays a whole commit (WAL
 * frames of the pages it shares with the others, the fsync, the wake-ups) for little. So when
 * fewer than half as many jobs wait as the last batch held, the writer waits for up to a
 * quarter of the last batch's duration (at most GATHER_MAX_NS) for the queue to reach that
 * size. A lone writer never waits: its last batch held one job. */
#define GATHER_MAX_NS 2000000

static void *writer_main(void *arg)
{
    nb_db *db = arg;
    tl_writer_db = db;
    tl_conn = &db->writer;
    int last_n = 0;
    int64_t last_ns = 0;
    pthread_mutex_lock(&db->mu);
    for (;;) {
        while (!db->head && !db->stop)
            pthread_cond_wait(&db->has_work, &db->mu);
        if (!db->head) break; /* stopping, and every queued job is done */
        if (db->qlen * 2 < last_n && !db->stop) {
            int64_t wait = last_ns / 4 < GATHER_MAX_NS ? last_ns / 4 : GATHER_MAX_NS;
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            int64_t ns = until.tv_nsec + wait;
            until.tv_sec += ns / 1000000000;
            until.tv_nsec = ns % 1000000000;
            db->gather_to = last_n;
            while (db->qlen < last_n && !db->stop)
                if (pthread_cond_timedwait(&db->has_work, &db->mu, &until) != 0) break;
            db->gather_to = 0;
        }
        struct job *batch = db->head;
        int n = db->qlen;
        db->head = db->tail = NULL;
        db->qlen = 0;
        pthread_mutex_unlock(&db->mu);
        int64_t t0 = mono_ns();
        run_batch(db, batch);
        for (struct job *j = batch, *next; j; j = next) {
            next = j->next; /* j lives on its waiter's stack: do not touch it once done */
            job_wake(j);
        }
        last_n = n;
        last_ns = mono_ns() - t0;
        pthread_mutex_lock(&db->mu);
    }
    pthread_mutex_unlock(&db->mu);
    return NULL;
}

static int write_job(nb_db *db, int (*fn)(sqlite3 *h, void *arg), void *arg, bool redo)
{
    /* Called from inside a write job of this database: the writer is us, so run fn inline as a
     * nested savepoint; it becomes durable with the enclosing batch. */
    if (tl_writer_db == db) return run_savepoint(&db->writer, fn, arg);
    struct job j = {fn, arg, SQLITE_OK, 0, redo, NULL};
    pthread_mutex_lock(&db->mu);
    if (db->stop) {
        pthread_mutex_unlock(&db->mu);
        return SQLITE_MISUSE;
    }
    if (db->tail)
        db->tail->next = &j;
    else
        db->head = &j;
    db->tail = &j;
    db->qlen++;
    /* While the writer gathers, only the job that completes its batch wakes it. */
    if (!db->gather_to || db->qlen >= db->gather_to) pthread_cond_signal(&db->has_work);
    pthread_mutex_unlock(&db->mu);
    job_wait(&j);
    return j.rc;
}

int nb_db_write(nb_db *db, int (*fn)(sqlite3 *h, void *arg), void *arg)
{
    return write_job(db, fn, arg, false);
}

int nb_db_write_redo(nb_db *db, int (*fn)(sqlite3 *h, void *arg), void *arg)
{
    return write_job(db, fn, arg, true);
}

/* ---- reads: one read-only connection per (thread, database), opened on first use ---- */

static void thread_exit(void *list)
{
    pthread_mutex_lock(&reg_mu);
    for (struct conn *c = list, *next; c; c = next) {
        next = c->next_in_thread;
        if (!atomic_load(&c->dead)) {
            struct conn **pp = &c->db->readers;
            while (*pp != c)
                pp = &(*pp)->next_in_db;
            *pp = c->next_in_db;
            conn_close(c);
        }
        free(c);
    }
    pthread_mutex_unlock(&reg_mu);
}

static void key_init(void)
{
    pthread_key_create(&thread_key, thread_exit);
}

void nb_db_release_readers(nb_db *db)
{
    struct conn *drop = NULL, **pp = &tl_readers, *c;
    pthread_mutex_lock(&reg_mu); /* a closing database may be walking our list */
    while ((c = *pp)) {
        if (!db || c->db_id == db->id || atomic_load(&c->dead)) {
            NB_ASSERT(c != tl_conn); /* not from inside an nb_db_read on it */
            *pp = c->next_in_thread;
            c->next_in_thread = drop;
            drop = c;
        } else {
            pp = &c->next_in_thread;
        }
    }
    pthread_mutex_unlock(&reg_mu);
    if (!drop) return;
    pthread_once(&key_once, key_init);
    pthread_setspecific(thread_key, tl_readers);
    thread_exit(drop);
    /* The connection's memory came from many small blocks among others: without a trim, glibc
     * keeps the freed pages. */
    nb_malloc_trim();
}

static struct conn *reader_for(nb_db *db)
{
    struct conn **pp = &tl_readers, *c;
    while ((c = *pp)) {
        if (atomic_load(&c->dead)) {
            /* Its database was closed. Free under reg_mu: the closer may still be walking its
             * list (it marks while holding reg_mu). */
            pthread_mutex_lock(&reg_mu);
            *pp = c->next_in_thread;
            pthread_mutex_unlock(&reg_mu);
            free(c);
            pthread_setspecific(thread_key, tl_readers);
            continue;
        }
        if (c->db_id == db->id) return c;
        pp = &c->next_in_thread;
    }
    pthread_once(&key_once, key_init);
    c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    char *err = NULL;
    if (conn_open(c, db->path, true, &err) != 0) {
        nb_error("db: cannot open a read connection: %s", err ? err : "?");
        free(err);
        free(c);
        return NULL;
    }
    c->db_id = db->id;
    c->db = db;
    pthread_mutex_lock(&reg_mu);
    c->next_in_db = db->readers;
    db->readers = c;
    c->next_in_thread = tl_readers;
    tl_readers = c;
    pthread_mutex_unlock(&reg_mu);
    pthread_setspecific(thread_key, tl_readers);
    return c;
}

int nb_db_read(nb_db *db, int (*fn)(sqlite3 *h, void *arg), void *arg)
{
    /* Inside a write job of this database: read on the writer's connection, which sees the
     * job's own uncommitted changes (a read connection would not). */
    if (tl_writer_db == db) return fn(db->writer.h, arg);
    struct conn *c = reader_for(db);
    if (!c) return SQLITE_CANTOPEN;
    struct conn *saved = tl_conn;
    tl_conn = c;
    int rc;
    if (!sqlite3_get_autocommit(c->h)) {
        rc = fn(c->h, arg); /* nested read: already inside our snapshot */
    } else {
        rc = ctl(c, "BEGIN");
        if (rc == SQLITE_OK) {
            rc = fn(c->h, arg);
            reset_busy(c->h);
            if (ctl(c, "COMMIT") != SQLITE_OK) exec(c->h, "ROLLBACK");
        }
    }
    tl_conn = saved;
    return rc;
}

/* ---- open, migrate, close, wipe ---- */

static char *errmsg(const char *fmt, ...) NB_PRINTF(1, 2);
static char *errmsg(const char *fmt, ...)
{
    nb_buf b;
    nb_buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    nb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return nb_buf_steal(&b, NULL);
}

static int migrate(sqlite3 *h, const char *path, const char *const *migrations, size_t n,
                   char **err)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    if (version < 0 || (size_t)version > n) {
        *err = errmsg("%s: schema version %d is newer than this program knows (%zu)", path, version,
                      n);
        return -1;
    }
    for (size_t i = (size_t)version; i < n; i++) {
        char *msg = NULL;
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version=%zu;", i + 1);
        if (exec(h, "BEGIN IMMEDIATE") != SQLITE_OK ||
            sqlite3_exec(h, migrations[i], NULL, NULL, &msg) != SQLITE_OK ||
            exec(h, bump) != SQLITE_OK || exec(h, "COMMIT") != SQLITE_OK) {
            *err =
                errmsg("%s: migration %zu failed: %s", path, i + 1, msg ? msg : sqlite3_errmsg(h));
            sqlite3_free(msg);
            if (!sqlite3_get_autocommit(h)) exec(h, "ROLLBACK");
            return -1;
        }
        nb_debug("db: %s: migrated to version %zu", path, i + 1);
    }
    return 0;
}

/* Process-wide SQLite settings; they only take effect before SQLite initialises, so the first
 * nb_db_open does this (if some other code initialised SQLite first, the defaults stay). */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
static void sqlite_setup(void)
{
    /* No up-front bulk page allocation per connection (20 pages = ~85 KiB each by default):
     * pages are allocated as a database actually uses them. */
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
    /* No global memory statistics: they put one mutex on every allocation of every thread. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

nb_db *nb_db_open(const char *path, const char *const *migrations, size_t nmigrations, char **err)
{
    pthread_once(&sqlite_once, sqlite_setup);
    char *dummy = NULL;
    if (!err) err = &dummy;
    *err = NULL;
    nb_db *db = calloc(1, sizeof(*db));
    if (!db) {
        *err = errmsg("out of memory");
        return NULL;
    }
    db->id = atomic_fetch_add(&next_db_id, 1);
    atomic_store(&db->wgen, db->id << 32);
    db->path = strdup(path);
    if (!db->path || conn_open(&db->writer, path, false, err) != 0) {
        if (!*err) *err = errmsg("out of memory");
        goto fail;
    }
    if (migrate(db->writer.h, path, migrations, nmigrations, err) < 0) goto fail;
    /* The page cache now holds every page the migrations wrote (on a fresh data directory,
     * the whole new schema: ~0.35 MiB over the four databases at start) and nothing needs them
     * soon; later jobs read back what they use. */
    sqlite3_db_release_memory(db->writer.h);
    pthread_mutex_init(&db->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* for the gathering deadline */
    pthread_cond_init(&db->has_work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 * 1024); /* SQLite needs little stack; RSS stays small */
    int rc = pthread_create(&db->thread, &at, writer_main, db);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        *err = errmsg("%s: cannot start the writer thread: %s", path, strerror(rc));
        pthread_mutex_destroy(&db->mu);
        pthread_cond_destroy(&db->has_work);
        goto fail;
    }
    if (err == &dummy) free(dummy);
    return db;
fail:
    conn_close(&db->writer);
    free(db->path);
    free(db);
    if (err == &dummy) free(dummy);
    return NULL;
}

/* Jobs already queued still run. No thread may be inside nb_db_read/nb_db_write of this
 * database, or call them later; other threads' read connections are closed here. */
void nb_db_close(nb_db *db)
{
    if (!db) return;
    pthread_mutex_lock(&db->mu);
    db->stop = true;
    pthread_cond_signal(&db->has_work);
    pthread_mutex_unlock(&db->mu);
    pthread_join(db->thread, NULL);
    pthread_mutex_lock(&reg_mu);
    for (struct conn *c = db->readers; c; c = c->next_in_db) {
        conn_close(c);
        atomic_store(&c->dead, true);
    }
    db->readers = NULL;
    pthread_mutex_unlock(&reg_mu);
    /* Our own dead connections can go now (other threads drop theirs lazily). */
    pthread_mutex_lock(&reg_mu);
    struct conn **pp = &tl_readers, *c;
    while ((c = *pp)) {
        if (atomic_load(&c->dead)) {
            *pp = c->next_in_thread;
            free(c);
        } else {
            pp = &c->next_in_thread;
        }
    }
    pthread_mutex_unlock(&reg_mu);
    pthread_once(&key_once, key_init);
    pthread_setspecific(thread_key, tl_readers);
    conn_close(&db->writer);
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->has_work);
    free(db->path);
    free(db);
}

/* Names of the tables to empty: ordinary and virtual tables of the main schema, not SQLite's
 * own nor the shadow tables behind virtual ones (their module empties them). */
static int wipe_fn(sqlite3 *h, void *arg)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(h,
                                "SELECT name FROM pragma_table_list WHERE schema='main' AND "
                                "type IN ('table','virtual') AND name NOT LIKE 'sqlite_%'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) return rc;
    nb_buf names; /* NUL-separated */
    nb_buf_init(&names);
    size_t count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        nb_buf_append(&names, n, strlen(n) + 1);
        count++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || names.oom) {
        nb_buf_free(&names);
        return rc == SQLITE_DONE ? SQLITE_NOMEM : rc;
    }
    /* Foreign keys are enforced, so a parent table cannot be emptied before its children
     * (unless ON DELETE CASCADE). Rather than sort by the key graph, retry the refused ones
     * until a pass makes no progress: each refused DELETE rolled back only itself. */
    bool *done = calloc(count ? count : 1, sizeof(bool));
    if (!done) {
        nb_buf_free(&names);
        return SQLITE_NOMEM;
    }
    size_t left = count;
    rc = SQLITE_OK;
    while (left && rc == SQLITE_OK) {
        size_t progress = 0;
        const char *n = names.data;
        for (size_t i = 0; i < count; i++, n += strlen(n) + 1) {
            if (done[i]) continue;
            char *sql = sqlite3_mprintf("DELETE FROM \"%w\"", n);
            if (!sql) {
                rc = SQLITE_NOMEM;
                break;
            }
            int r = exec(h, sql);
            sqlite3_free(sql);
            if (r == SQLITE_OK) {
                done[i] = true;
                left--;
                progress++;
            } else if (r != SQLITE_CONSTRAINT) {
                rc = r;
                break;
            }
        }
        if (rc == SQLITE_OK && left && !progress) rc = SQLITE_CONSTRAINT; /* a key cycle */
    }
    free(done);
    nb_buf_free(&names);
    if (rc != SQLITE_OK) return rc;
    /* AUTOINCREMENT counters restart too: a reset is a fresh start. */
    if (sqlite3_table_column_metadata(h, "main", "sqlite_sequence", "name", NULL, NULL, NULL, NULL,
                                      NULL) == SQLITE_OK)
        rc = exec(h, "DELETE FROM sqlite_sequence");
    return rc;
}

uint64_t nb_db_write_gen(nb_db *db)
{
    return atomic_load(&db->wgen);
}

void nb_db_stats(nb_db *db, uint64_t *batches, uint64_t *jobs)
{
    if (batches) *batches = atomic_load(&db->nbatches);
    if (jobs) *jobs = atomic_load(&db->njobs);
}

int nb_db_wipe(nb_db *db)
{
    return nb_db_write(db, wipe_fn, NULL);
}
