/* store.c: S3 metadata in SQLite (<data_dir>/s3.db): buckets, object versions, multipart
 * uploads and parts; every write goes through nb_db_write (group commit) and content files
 * that a write replaced are removed only after its commit is durable.
 *
 * Layout (see README.md): keys are BLOBs so SQLite orders them by memcmp, which is S3's
 * byte order. Every write of a key adds a row with a larger id, so "newest first" is
 * "id descending"; the current version of a key is the row with is_latest = 1 (a unique
 * partial index), which may be a delete marker. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "svc/s3/content.h"
#include "svc/s3/s3.h"
#include "svc/s3/lifecycle.h" /* nb_s3_lifecycle_migration */

static const char *const migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE buckets("
    " name TEXT PRIMARY KEY,"
    " account TEXT NOT NULL,"
    " region TEXT NOT NULL,"
    " created REAL NOT NULL,"
    " versioning INTEGER NOT NULL DEFAULT 0," /* enum nb_s3_versioning */
    " object_lock INTEGER NOT NULL DEFAULT 0,"
    " tags TEXT,"                             /* JSON TagSet */
    " config TEXT NOT NULL DEFAULT '{}'"      /* other subresources, JSON by name */
    ");"
    "CREATE INDEX buckets_by_account ON buckets(account, name);"
    "CREATE TABLE objects("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: orders versions */
    " bucket TEXT NOT NULL,"
    " key BLOB NOT NULL,"
    " version_id TEXT NOT NULL,"
    " is_latest INTEGER NOT NULL,"
    " delete_marker INTEGER NOT NULL DEFAULT 0,"
    " size INTEGER NOT NULL DEFAULT 0,"
    " etag TEXT NOT NULL DEFAULT '',"
    " last_modified REAL NOT NULL,"
    " storage_class TEXT NOT NULL DEFAULT 'STANDARD',"
    " owner TEXT NOT NULL,"
    " attrs TEXT,"       /* JSON: output members (ContentType, CacheControl, Metadata ...) */
    " checksums TEXT,"   /* JSON: {"ChecksumCRC32": "..."} as the client sent or asked */
    " tags TEXT,"        /* JSON TagSet */
    " blob TEXT,"        /* content file of a single-part object */
    " crcs BLOB,"        /* integrity table of that file (content.h) */
    " nparts INTEGER NOT NULL DEFAULT 0" /* > 0: content is the manifest in object_parts */
    ");"
    "CREATE UNIQUE INDEX objects_latest ON objects(bucket, key) WHERE is_latest = 1;"
    "CREATE INDEX objects_history ON objects(bucket, key, id DESC);"
    "CREATE TABLE object_parts("
    " object_id INTEGER NOT NULL,"
    " idx INTEGER NOT NULL,"          /* 1..nparts in object order */
    " part_number INTEGER NOT NULL,"  /* as uploaded */
    " offset INTEGER NOT NULL,"
    " size INTEGER NOT NULL,"
    " etag TEXT NOT NULL,"
    " blob TEXT NOT NULL,"
    " crcs BLOB,"
    " checksum TEXT,"
    " PRIMARY KEY(object_id, idx)) WITHOUT ROWID;"
    "CREATE TABLE uploads("
    " upload_id TEXT PRIMARY KEY,"
    " bucket TEXT NOT NULL,"
    " key BLOB NOT NULL,"
    " initiated REAL NOT NULL,"
    " owner TEXT NOT NULL,"
    " storage_class TEXT NOT NULL DEFAULT 'STANDARD',"
    " attrs TEXT,"
    " tags TEXT,"
    " checksum_algo TEXT"
    ");"
    "CREATE INDEX uploads_by_key ON uploads(bucket, key, initiated);"
    "CREATE TABLE parts("
    " upload_id TEXT NOT NULL,"
    " part_number INTEGER NOT NULL,"
    " size INTEGER NOT NULL,"
    " etag TEXT NOT NULL,"
    " last_modified REAL NOT NULL,"
    " blob TEXT NOT NULL,"
    " crcs BLOB,"
    " checksum TEXT,"
    " PRIMARY KEY(upload_id, part_number)) WITHOUT ROWID;",
    /* Slots reserved for work in flight, each replaced by its real migration:
     * 2: small objects stored inline (performance), 3: bucket configuration (website, CORS,
     * policy, ACLs, public access block, notifications), 4: storage classes, restores and
     * lifecycle. */
    /* 2: small objects inline (content.h NB_S3_INLINE_MAX) in a side table, so listings and
     * scans of objects do not page through their bytes; encryption records (sse.h) of every
     * content unit and upload; bucket default encryption. */
    "CREATE TABLE object_data("
    " object_id INTEGER PRIMARY KEY," /* objects.id */
    " data BLOB NOT NULL"             /* stored bytes (encrypted if enc), covered by crcs */
    ");"
    "ALTER TABLE objects ADD COLUMN enc BLOB;"
    "ALTER TABLE object_parts ADD COLUMN enc BLOB;"
    "ALTER TABLE parts ADD COLUMN enc BLOB;"
    "ALTER TABLE uploads ADD COLUMN enc BLOB;"
    "ALTER TABLE buckets ADD COLUMN sse_config TEXT;" /* ServerSideEncryptionConfiguration */
    "ALTER TABLE buckets ADD COLUMN sse_algo TEXT;",  /* its SSEAlgorithm */
    /* 3: bucket configuration (policy.c): subresource documents by name (policy, acl,
     * ownership, pab, cors, website, notification), the account-level public access block,
     * and object ACLs by version row. New buckets get every public access block on (AWS's
     * default since April 2023); configuration and ACLs go with their bucket / version. */
    "CREATE TABLE bucket_config("
    " bucket TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY(bucket, name)) WITHOUT ROWID;"
    "CREATE TABLE account_config("
    " account TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY(account, name)) WITHOUT ROWID;"
    "CREATE TABLE object_acls("
    " object_id INTEGER PRIMARY KEY," /* objects.id */
    " acl TEXT NOT NULL"              /* {"Owner": account, "Grants": [...]} */
    ");"
    "CREATE TRIGGER bucket_config_new AFTER INSERT ON buckets BEGIN"
    " INSERT OR REPLACE INTO bucket_config(bucket, name, value) VALUES(new.name, 'pab',"
    " '{\"BlockPublicAcls\":true,\"IgnorePublicAcls\":true,\"BlockPublicPolicy\":true,"
    "\"RestrictPublicBuckets\":true}');"
    " END;"
    "CREATE TRIGGER bucket_config_gone AFTER DELETE ON buckets BEGIN"
    " DELETE FROM bucket_config WHERE bucket = old.name;"
    " END;"
    "CREATE TRIGGER object_acls_gone AFTER DELETE ON objects BEGIN"
    " DELETE FROM object_acls WHERE object_id = old.id;"
    " END;",
    /* 4: storage classes, the archive tier, restores, lifecycle (archive.c, lifecycle.h) */
    nb_s3_lifecycle_migration,
    /* 5: Object Lock (lock.c): the retention and legal hold of each version, and those a
     * multipart upload asked for (applied at completion). The bucket's default retention is
     * its bucket_config row 'object_lock'; buckets.object_lock says whether it is enabled. */
    "ALTER TABLE objects ADD COLUMN lock_mode TEXT;"  /* GOVERNANCE | COMPLIANCE | NULL */
    "ALTER TABLE objects ADD COLUMN lock_until REAL;" /* retain until, epoch seconds */
    "ALTER TABLE objects ADD COLUMN legal_hold TEXT;" /* ON | OFF | NULL (never set) */
    "ALTER TABLE uploads ADD COLUMN lock_mode TEXT;"
    "ALTER TABLE uploads ADD COLUMN lock_until REAL;"
    "ALTER TABLE uploads ADD COLUMN legal_hold TEXT;",
};

struct nb_s3_store {
    nb_db *db;
    nb_s3_content *content;
};

static int bucket_write(nb_s3_store *s, int (*fn)(sqlite3 *, void *), void *arg);
static void bucket_cache_clear(void);

/* Content files dropped by a write (nb_s3_files), removed after its commit. Filled on the
 * writer thread while the caller waits; reset at the start of every run of the write function. */
typedef nb_s3_files garbage;

static void gc_reset(garbage *g)
{
    nb_s3_files_done(NULL, g, false);
    g->oom = false;
}

void nb_s3_files_add(nb_s3_files *f, const char *id)
{
    if (!id || !*id) return;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        char **p = realloc(f->ids, cap * sizeof *p);
        if (!p) {
            f->oom = true; /* the file stays as an orphan until the next start-up scan */
            return;
        }
        f->ids = p;
        f->cap = cap;
    }
    char *d = strdup(id);
    if (!d) {
        f->oom = true;
        return;
    }
    f->ids[f->n++] = d;
}

void nb_s3_files_done(nb_s3_store *s, nb_s3_files *f, bool committed)
{
    for (size_t i = 0; i < f->n; i++) {
        if (committed) nb_s3_content_unlink(s->content, f->ids[i]);
        free(f->ids[i]);
    }
    f->n = 0;
}

void nb_s3_files_free(nb_s3_files *f)
{
    nb_s3_files_done(NULL, f, false);
    free(f->ids);
    memset(f, 0, sizeof *f);
}

/* After a successful commit: remove the files; always: free the list. */
static void gc_finish(nb_s3_store *s, garbage *g, bool committed)
{
    nb_s3_files_done(s, g, committed);
    nb_s3_files_free(g);
}

/* Collect every referenced content id for the orphan scan. */
typedef struct refs {
    char **ids;
    size_t n, cap;
} refs;

static int refs_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect_refs(sqlite3 *h, void *arg)
{
    refs *r = arg;
    static const char *const q[] = {
        "SELECT blob FROM objects WHERE blob IS NOT NULL",
        "SELECT blob FROM object_parts",
        "SELECT blob FROM parts",
    };
    for (size_t i = 0; i < NB_ARRAY_LEN(q); i++) {
        sqlite3_stmt *st = nb_db_stmt(h, q[i]);
        if (!st) return SQLITE_ERROR;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *id = (const char *)sqlite3_column_text(st, 0);
            if (!id) continue;
            if (r->n == r->cap) {
                r->cap = r->cap ? r->cap * 2 : 1024;
                r->ids = realloc(r->ids, r->cap * sizeof *r->ids);
                NB_ASSERT(r->ids != NULL); /* start-up: out of memory aborts */
            }
            r->ids[r->n++] = nb_xstrdup(id);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return rc;
    }
    return SQLITE_OK;
}

static bool is_referenced(void *ud, const char *id)
{
    refs *r = ud;
    const char *k = id;
    return bsearch(&k, r->ids, r->n, sizeof *r->ids, refs_cmp) != NULL;
}

nb_s3_store *nb_s3_store_open(const char *dir, char **err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/s3.db", dir);
    nb_s3_store *s = nb_xcalloc(1, sizeof *s);
    s->db = nb_db_open(path, migrations, NB_ARRAY_LEN(migrations), err);
    if (!s->db) {
        free(s);
        return NULL;
    }
    nb_s3_sse_init(dir); /* the master key is read (or created) on first use */
    s->content = nb_s3_content_open(dir, err);
    if (!s->content) {
        nb_db_close(s->db);
        free(s);
        return NULL;
    }
    /* Orphans: files written but never committed (crash before the metadata commit) and
     * files whose removal after a commit was interrupted. */
    refs r = {0};
    if (nb_db_read(s->db, collect_refs, &r) == SQLITE_OK) {
        if (r.n) qsort(r.ids, r.n, sizeof *r.ids, refs_cmp);
        size_t removed = nb_s3_content_scan(s->content, is_referenced, &r);
        if (removed) nb_info("s3: removed %zu orphan content files", removed);
    } else {
        nb_warn("s3: could not list referenced content files; orphan scan skipped");
    }
    for (size_t i = 0; i < r.n; i++) free(r.ids[i]);
    free(r.ids);
    return s;
}

void nb_s3_store_close(nb_s3_store *s)
{
    if (!s) return;
    nb_s3_ocache_clear();
    bucket_cache_clear();
    nb_db_close(s->db);
    nb_s3_content_close(s->content);
    free(s);
}

nb_db *nb_s3_store_db(nb_s3_store *s) { return s->db; }
struct nb_s3_content *nb_s3_store_content(nb_s3_store *s) { return s->content; }

int nb_s3_store_wipe(nb_s3_store *s)
{
    int rc = bucket_write(s, NULL, NULL);
    if (rc != SQLITE_OK) return NB_S3_DBERR;
    nb_s3_content_scan(s->content, NULL, NULL); /* nothing is referenced any more */
    return NB_S3_OK;
}

/* Map an SQLite failure to NB_S3_DBERR with a log line (a server fault). */
static int dberr(sqlite3 *h, const char *what)
{
    nb_error("s3: %s: %s", what, sqlite3_errmsg(h));
    return NB_S3_DBERR;
}

static int store_rc(int rc)
{
    if (rc == SQLITE_OK) return NB_S3_OK;
    if (rc >= NB_S3_DBERR) return rc;
    return NB_S3_DBERR;
}

static const char *col_str(sqlite3_stmt *st, int i, nb_arena *a)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t) return NULL;
    return a ? nb_arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

void nb_s3_version_id_new(char out[33])
{
    /* 32 characters like AWS's version ids; never "null". */
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    unsigned char r[32];
    nb_random(r, sizeof r);
    for (int i = 0; i < 32; i++) out[i] = al[r[i] & 63];
    out[32] = 0;
}

/* ------------------------------------------------------------------ buckets */

static int bucket_create_fn(sqlite3 *h, void *arg)
{
    const nb_s3_bucket *b = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT account FROM buckets WHERE name=?");
    if (!st) return dberr(h, "bucket lookup");
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        bool mine = strcmp((const char *)sqlite3_column_text(st, 0), b->account) == 0;
        sqlite3_reset(st);
        return mine ? NB_S3_OWNED : NB_S3_EXISTS;
    }
    sqlite3_reset(st);
    st = nb_db_stmt(h, "INSERT INTO buckets(name,account,region,created,object_lock,versioning)"
                       " VALUES(?,?,?,?,?,?)");
    if (!st) return dberr(h, "bucket insert");
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, b->region, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, b->created);
    sqlite3_bind_int(st, 5, b->object_lock);
    /* Object Lock requires versioning, which AWS enables with it. */
    sqlite3_bind_int(st, 6, b->object_lock ? NB_S3_VERSIONING_ENABLED : NB_S3_VERSIONING_OFF);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "bucket insert");
}

int nb_s3_bucket_create(nb_s3_store *s, const nb_s3_bucket *b)
{
    return store_rc(bucket_write(s, bucket_create_fn, (void *)b));
}

/* ---- bucket rows, cached ----
 * Only the writes below change the buckets table, and each goes through bucket_write, which
 * counts itself in flight before its job is queued and bumps the generation after its commit.
 * A row read while no such write was in flight and with the generation unchanged around the
 * read is the committed row of that generation; it is served while the generation stays the
 * same and no bucket write is in flight (so a reader never gets the old row once a newer one
 * could be seen in the database). Object writes do not touch it. */
#define BUCKET_SLOTS 64
#define BUCKET_TAGS_MAX 4096

static struct {
    pthread_mutex_t mu;
    _Atomic uint64_t gen;
    _Atomic int inflight;
    struct bucket_slot {
        const nb_s3_store *owner;
        uint64_t gen;
        nb_s3_bucket b;
        char tags[BUCKET_TAGS_MAX]; /* b.tags points here when set */
    } slot[BUCKET_SLOTS];
} BC = {.mu = PTHREAD_MUTEX_INITIALIZER};

static unsigned bucket_slot_of(const char *name)
{
    uint32_t h = 2166136261u;
    for (; *name; name++) h = (h ^ (unsigned char)*name) * 16777619u;
    return h % BUCKET_SLOTS;
}

/* 0 on a hit (tags copied into a, when a is given); else -1 and *gen is what a read that
 * follows may be cached under (odd: not cacheable). */
static int bucket_cache_get(const nb_s3_store *s, const char *name, nb_s3_bucket *b,
                            nb_arena *a, uint64_t *gen)
{
    int inflight = atomic_load(&BC.inflight);
    *gen = atomic_load(&BC.gen);
    if (inflight) {
        *gen |= 1;
        return -1;
    }
    struct bucket_slot *e = &BC.slot[bucket_slot_of(name)];
    int rc = -1;
    pthread_mutex_lock(&BC.mu);
    if (e->owner == s && e->gen == *gen && !strcmp(e->b.name, name)) {
        *b = e->b;
        b->tags = NULL;
        if (e->b.tags && a) b->tags = nb_arena_strndup(a, e->tags, strlen(e->tags));
        rc = e->b.tags && a && !b->tags ? -1 : 0;
    }
    pthread_mutex_unlock(&BC.mu);
    return rc;
}

static void bucket_cache_put(const nb_s3_store *s, uint64_t gen, const nb_s3_bucket *b)
{
    if ((gen & 1) || atomic_load(&BC.inflight) || atomic_load(&BC.gen) != gen) return;
    if (b->tags && strlen(b->tags) >= BUCKET_TAGS_MAX) return;
    if (strlen(b->name) >= sizeof b->name - 1) return;
    struct bucket_slot *e = &BC.slot[bucket_slot_of(b->name)];
    pthread_mutex_lock(&BC.mu);
    e->owner = s;
    e->gen = gen;
    e->b = *b;
    if (b->tags) {
        strcpy(e->tags, b->tags);
        e->b.tags = e->tags;
    }
    pthread_mutex_unlock(&BC.mu);
}

static void bucket_cache_clear(void)
{
    pthread_mutex_lock(&BC.mu);
    memset(BC.slot, 0, sizeof BC.slot);
    atomic_fetch_add(&BC.gen, 2);
    pthread_mutex_unlock(&BC.mu);
}

/* A write of the buckets table (fn NULL: the wipe), as the cache above requires. */
static int bucket_write(nb_s3_store *s, int (*fn)(sqlite3 *, void *), void *arg)
{
    atomic_fetch_add(&BC.inflight, 1);
    int rc = fn ? nb_db_write(s->db, fn, arg) : nb_db_wipe(s->db);
    atomic_fetch_add(&BC.gen, 2);
    atomic_fetch_sub(&BC.inflight, 1);
    return rc;
}

static void read_bucket(sqlite3_stmt *st, nb_s3_bucket *b, nb_arena *a)
{
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(b->account, sizeof b->account, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(b->region, sizeof b->region, "%s", (const char *)sqlite3_column_text(st, 2));
    b->created = sqlite3_column_double(st, 3);
    b->versioning = sqlite3_column_int(st, 4);
    b->object_lock = sqlite3_column_int(st, 5) != 0;
    b->tags = col_str(st, 6, a);
    const unsigned char *sse = sqlite3_column_text(st, 7);
    snprintf(b->encryption, sizeof b->encryption, "%s", sse ? (const char *)sse : "");
}

#define BUCKET_COLS "name,account,region,created,versioning,object_lock,tags,sse_algo"

typedef struct bucket_get_arg {
    const char *name;
    nb_s3_bucket *b;
    nb_arena *a;
} bucket_get_arg;

static int bucket_get_fn(sqlite3 *h, void *arg)
{
    bucket_get_arg *g = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT " BUCKET_COLS " FROM buckets WHERE name=?");
    if (!st) return dberr(h, "bucket get");
    sqlite3_bind_text(st, 1, g->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) read_bucket(st, g->b, g->a);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return SQLITE_OK;
    return rc == SQLITE_DONE ? NB_S3_NO_BUCKET : dberr(h, "bucket get");
}

int nb_s3_bucket_get(nb_s3_store *s, const char *name, nb_s3_bucket *b, nb_arena *a)
{
    /* Every PutObject and many other calls start here: a cached row saves a read transaction
     * (and its shm lock calls) per request. */
    uint64_t gen;
    if (!bucket_cache_get(s, name, b, a, &gen)) return NB_S3_OK;
    bucket_get_arg g = {name, b, a};
    int rc = store_rc(nb_db_read(s->db, bucket_get_fn, &g));
    if (rc == NB_S3_OK) bucket_cache_put(s, gen, b);
    return rc;
}

typedef struct bucket_list_arg {
    const char *account;
    nb_arena *a;
    nb_s3_bucket *out;
    size_t n;
} bucket_list_arg;

static int bucket_list_fn(sqlite3 *h, void *arg)
{
    bucket_list_arg *g = arg;
    sqlite3_stmt *st =
        nb_db_stmt(h, "SELECT " BUCKET_COLS " FROM buckets WHERE account=? ORDER BY name");
    if (!st) return dberr(h, "bucket list");
    sqlite3_bind_text(st, 1, g->account, -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc;
    g->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (g->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            nb_s3_bucket *p = nb_arena_alloc(g->a, ncap * sizeof *p);
            if (!p) {
                sqlite3_reset(st);
                return SQLITE_NOMEM;
            }
            if (g->n) memcpy(p, g->out, g->n * sizeof *p);
            g->out = p;
            cap = ncap;
        }
        read_bucket(st, &g->out[g->n++], g->a);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "bucket list");
}

int nb_s3_bucket_list(nb_s3_store *s, const char *account, nb_arena *a, nb_s3_bucket **out,
                      size_t *n)
{
    bucket_list_arg g = {account, a, NULL, 0};
    int rc = store_rc(nb_db_read(s->db, bucket_list_fn, &g));
    *out = g.out;
    *n = g.n;
    return rc;
}

typedef struct bucket_del_arg {
    const char *name;
    garbage gc;
} bucket_del_arg;

/* One statement whose only parameter is a row id (DELETE ... WHERE id=?). */
static int exec_id(sqlite3 *h, const char *sql, int64_t id)
{
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return dberr(h, sql);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, sql);
}

static int exec_bind1(sqlite3 *h, const char *sql, const char *v)
{
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return dberr(h, sql);
    sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, sql);
}

static int bucket_delete_fn(sqlite3 *h, void *arg)
{
    bucket_del_arg *d = arg;
    gc_reset(&d->gc);
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT 1 FROM buckets WHERE name=?");
    if (!st) return dberr(h, "bucket delete");
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? NB_S3_NO_BUCKET : dberr(h, "bucket delete");
    st = nb_db_stmt(h, "SELECT 1 FROM objects WHERE bucket=? LIMIT 1");
    if (!st) return dberr(h, "bucket delete");
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return NB_S3_NOT_EMPTY;
    if (rc != SQLITE_DONE) return dberr(h, "bucket delete");
    /* In-progress multipart uploads go with the bucket. */
    st = nb_db_stmt(h, "SELECT p.blob FROM parts p JOIN uploads u USING(upload_id)"
                       " WHERE u.bucket=?");
    if (!st) return dberr(h, "bucket delete");
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        nb_s3_files_add(&d->gc, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return dberr(h, "bucket delete");
    if ((rc = exec_bind1(h, "DELETE FROM parts WHERE upload_id IN"
                            " (SELECT upload_id FROM uploads WHERE bucket=?)",
                         d->name)))
        return rc;
    if ((rc = exec_bind1(h, "DELETE FROM uploads WHERE bucket=?", d->name))) return rc;
    return exec_bind1(h, "DELETE FROM buckets WHERE name=?", d->name);
}

int nb_s3_bucket_delete(nb_s3_store *s, const char *name)
{
    bucket_del_arg d = {.name = name};
    int rc = store_rc(bucket_write(s, bucket_delete_fn, &d));
    gc_finish(s, &d.gc, rc == NB_S3_OK);
    return rc;
}

typedef struct bucket_set_arg {
    const char *name;
    const char *sql;
    int ival;
    const char *sval;
    bool is_int;
} bucket_set_arg;

static int bucket_set_fn(sqlite3 *h, void *arg)
{
    bucket_set_arg *b = arg;
    sqlite3_stmt *st = nb_db_stmt(h, b->sql);
    if (!st) return dberr(h, b->sql);
    if (b->is_int)
        sqlite3_bind_int(st, 1, b->ival);
    else if (b->sval)
        sqlite3_bind_text(st, 1, b->sval, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_text(st, 2, b->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return dberr(h, b->sql);
    return sqlite3_changes(h) ? SQLITE_OK : NB_S3_NO_BUCKET;
}

int nb_s3_bucket_set_versioning(nb_s3_store *s, const char *name, int state)
{
    bucket_set_arg b = {name, "UPDATE buckets SET versioning=? WHERE name=?", state, NULL, true};
    return store_rc(bucket_write(s, bucket_set_fn, &b));
}

static int bucket_versioning(sqlite3 *h, const char *bucket, int *state);

/* AWS lets Object Lock be enabled on an existing bucket only while its versioning is Enabled. */
static int enable_lock_fn(sqlite3 *h, void *arg)
{
    const char *name = arg;
    int versioning, rc;
    if ((rc = bucket_versioning(h, name, &versioning))) return rc;
    if (versioning != NB_S3_VERSIONING_ENABLED) return NB_S3_CONFLICT;
    return exec_bind1(h, "UPDATE buckets SET object_lock=1 WHERE name=?", name);
}

int nb_s3_bucket_enable_object_lock(nb_s3_store *s, const char *name)
{
    return store_rc(bucket_write(s, enable_lock_fn, (void *)name));
}

int nb_s3_bucket_set_tags(nb_s3_store *s, const char *name, const char *tags)
{
    bucket_set_arg b = {name, "UPDATE buckets SET tags=? WHERE name=?", 0, tags, false};
    return store_rc(bucket_write(s, bucket_set_fn, &b));
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v);
static void bind_opt_blob(sqlite3_stmt *st, int i, const void *p, size_t n);

typedef struct bucket_sse_arg {
    const char *name;
    const char *config, *algo;
    nb_arena *a;
} bucket_sse_arg;

static int bucket_sse_set_fn(sqlite3 *h, void *arg)
{
    bucket_sse_arg *b = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "UPDATE buckets SET sse_config=?, sse_algo=? WHERE name=?");
    if (!st) return dberr(h, "bucket encryption");
    bind_opt_text(st, 1, b->config);
    bind_opt_text(st, 2, b->config ? b->algo : NULL);
    sqlite3_bind_text(st, 3, b->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return dberr(h, "bucket encryption");
    return sqlite3_changes(h) ? SQLITE_OK : NB_S3_NO_BUCKET;
}

int nb_s3_bucket_set_encryption(nb_s3_store *s, const char *name, const char *config,
                                const char *algo)
{
    bucket_sse_arg b = {name, config, algo, NULL};
    return store_rc(bucket_write(s, bucket_sse_set_fn, &b));
}

static int bucket_sse_get_fn(sqlite3 *h, void *arg)
{
    bucket_sse_arg *b = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT sse_config FROM buckets WHERE name=?");
    if (!st) return dberr(h, "bucket encryption");
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) b->config = col_str(st, 0, b->a);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return SQLITE_OK;
    return rc == SQLITE_DONE ? NB_S3_NO_BUCKET : dberr(h, "bucket encryption");
}

int nb_s3_bucket_get_encryption(nb_s3_store *s, const char *name, nb_arena *a,
                                const char **config)
{
    bucket_sse_arg b = {name, NULL, NULL, a};
    int rc = store_rc(nb_db_read(s->db, bucket_sse_get_fn, &b));
    *config = b.config;
    return rc;
}

/* ------------------------------------------------------------------ objects */

/* Object Lock columns (mode, until, legal hold) from column i on. */
static void read_lock(sqlite3_stmt *st, int i, nb_s3_lock *l)
{
    memset(l, 0, sizeof *l);
    const unsigned char *m = sqlite3_column_text(st, i);
    if (m) {
        snprintf(l->mode, sizeof l->mode, "%s", (const char *)m);
        l->until = sqlite3_column_double(st, i + 1);
    }
    const unsigned char *lh = sqlite3_column_text(st, i + 2);
    if (lh) snprintf(l->legal_hold, sizeof l->legal_hold, "%s", (const char *)lh);
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v);

/* Bind the three lock columns from parameter i on (NULL for what is unset). */
static void bind_lock(sqlite3_stmt *st, int i, const nb_s3_lock *l)
{
    bind_opt_text(st, i, l->mode[0] ? l->mode : NULL);
    if (l->mode[0])
        sqlite3_bind_double(st, i + 1, l->until);
    else
        sqlite3_bind_null(st, i + 1);
    bind_opt_text(st, i + 2, l->legal_hold[0] ? l->legal_hold : NULL);
}

int nb_s3_lock_state(const nb_s3_lock *l, double now)
{
    if (strcmp(l->legal_hold, "ON") == 0) return NB_S3_LOCKED;
    if (!l->mode[0] || l->until <= now) return 0;
    return strcmp(l->mode, "COMPLIANCE") == 0 ? NB_S3_LOCKED : NB_S3_LOCKED_GOVERNANCE;
}

int nb_s3_version_locked(sqlite3 *h, int64_t id, double now, bool *locked)
{
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT 1 FROM objects WHERE id=? AND (legal_hold='ON' OR"
                                     " (lock_mode IS NOT NULL AND lock_until>?))");
    if (!st) return dberr(h, "lock state");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_double(st, 2, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    *locked = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "lock state");
}

int nb_s3_read_object_row(sqlite3_stmt *st, nb_arena *a, nb_s3_object *o)
{
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(st, 0);
    o->key_len = (size_t)sqlite3_column_bytes(st, 1);
    char *k = nb_arena_alloc(a, o->key_len + 1);
    if (!k) return -1;
    if (o->key_len) memcpy(k, sqlite3_column_blob(st, 1), o->key_len);
    k[o->key_len] = 0;
    o->key = k;
    snprintf(o->version_id, sizeof o->version_id, "%s", (const char *)sqlite3_column_text(st, 2));
    o->is_latest = sqlite3_column_int(st, 3) != 0;
    o->delete_marker = sqlite3_column_int(st, 4) != 0;
    o->size = sqlite3_column_int64(st, 5);
    snprintf(o->etag, sizeof o->etag, "%s", (const char *)sqlite3_column_text(st, 6));
    o->last_modified = sqlite3_column_double(st, 7);
    o->storage_class = col_str(st, 8, a);
    o->owner = col_str(st, 9, a);
    o->attrs = col_str(st, 10, a);
    o->checksums = col_str(st, 11, a);
    o->tags = col_str(st, 12, a);
    o->blob = col_str(st, 13, a);
    o->crcs_len = (size_t)sqlite3_column_bytes(st, 14);
    if (o->crcs_len) {
        unsigned char *c = nb_arena_alloc(a, o->crcs_len);
        if (!c) return -1;
        memcpy(c, sqlite3_column_blob(st, 14), o->crcs_len);
        o->crcs = c;
    }
    o->nparts = sqlite3_column_int(st, 15);
    o->enc_len = (size_t)sqlite3_column_bytes(st, 16);
    if (o->enc_len) {
        unsigned char *e = nb_arena_alloc(a, o->enc_len);
        if (!e) return -1;
        memcpy(e, sqlite3_column_blob(st, 16), o->enc_len);
        o->enc = e;
    }
    o->is_inline = !o->delete_marker && !o->blob && o->nparts == 0;
    read_lock(st, 17, &o->lock);
    return 0;
}

static int bucket_versioning(sqlite3 *h, const char *bucket, int *state)
{
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT versioning FROM buckets WHERE name=?");
    if (!st) return dberr(h, "bucket versioning");
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *state = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return SQLITE_OK;
    return rc == SQLITE_DONE ? NB_S3_NO_BUCKET : dberr(h, "bucket versioning");
}

/* The current version's (id, etag, delete marker), or *id = 0. */
static int latest_of(sqlite3 *h, const char *bucket, const char *key, size_t key_len,
                     int64_t *id, char etag[48], bool *marker)
{
    sqlite3_stmt *st = nb_db_stmt(
        h, "SELECT id,etag,delete_marker FROM objects WHERE bucket=? AND key=? AND is_latest=1");
    if (!st) return dberr(h, "latest");
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, key, (int)key_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *id = 0;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        snprintf(etag, 48, "%s", (const char *)sqlite3_column_text(st, 1));
        *marker = sqlite3_column_int(st, 2) != 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "latest");
}

/* drop_version for a row without content files (inline bytes or a delete marker: no blob, no
 * manifest): two statements instead of four. */
static int drop_plain_version(sqlite3 *h, int64_t id)
{
    int rc = exec_id(h, "DELETE FROM object_data WHERE object_id=?", id);
    return rc ? rc : exec_id(h, "DELETE FROM objects WHERE id=?", id);
}

int nb_s3_version_files(sqlite3 *h, int64_t id, nb_s3_files *f)
{
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT blob FROM objects WHERE id=? AND blob IS NOT NULL"
                                     " UNION ALL SELECT blob FROM object_parts WHERE object_id=?");
    if (!st) return dberr(h, "version files");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        nb_s3_files_add(f, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "version files");
}

int nb_s3_drop_version(sqlite3 *h, int64_t id, nb_s3_files *f)
{
    int rc;
    if ((rc = nb_s3_version_files(h, id, f)) ||
        (rc = exec_id(h, "DELETE FROM object_parts WHERE object_id=?", id)))
        return rc;
    return drop_plain_version(h, id);
}

/* Make room for a new current version of key under the bucket's versioning state:
 * unversioned -> every version goes; enabled -> the current one stops being latest;
 * suspended -> the 'null' version goes and the current one stops being latest.
 * reuse != NULL (an unversioned bucket, a new inline version in a class outside the archive):
 * when the one version there is itself an inline STANDARD object, it is left in place and its
 * id returned in *reuse, for rewrite_version. */
static int retire_current(sqlite3 *h, const char *bucket, const char *key, size_t key_len,
                          int versioning, garbage *gc, int64_t *reuse)
{
    int rc;
    bool had_latest = false; /* a dropped 'null' version was the current one */
    if (versioning == NB_S3_VERSIONING_OFF || versioning == NB_S3_VERSIONING_SUSPENDED) {
        sqlite3_stmt *st = nb_db_stmt(h, "SELECT id,is_latest,blob IS NULL AND nparts=0,"
                                         "delete_marker=0 AND storage_class='STANDARD'"
                                         " FROM objects WHERE bucket=? AND key=?"
                                         " AND version_id='null'");
        if (!st) return dberr(h, "retire");
        sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, key, (int)key_len, SQLITE_STATIC);
        int64_t ids[4];
        bool plain[4], standard = false;
        size_t n = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < NB_ARRAY_LEN(ids)) {
            ids[n] = sqlite3_column_int64(st, 0);
            had_latest |= sqlite3_column_int(st, 1) != 0;
            plain[n++] = sqlite3_column_int(st, 2) != 0;
            standard = sqlite3_column_int(st, 3) != 0;
        }
        sqlite3_reset(st);
        if (reuse && n == 1 && had_latest && plain[0] && standard) {
            *reuse = ids[0];
            return SQLITE_OK;
        }
        for (size_t i = 0; i < n; i++)
            if ((rc = plain[i] ? drop_plain_version(h, ids[i]) : nb_s3_drop_version(h, ids[i], gc)))
                return rc;
    }
    /* The unique index allows one current version per key: if it was just dropped, no row
     * is left to retire (the common overwrite of an unversioned key saves this statement). */
    if (had_latest) return SQLITE_OK;
    sqlite3_stmt *st = nb_db_stmt(h, "UPDATE objects SET is_latest=0 WHERE bucket=? AND key=?"
                                     " AND is_latest=1");
    if (!st) return dberr(h, "retire");
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, key, (int)key_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "retire");
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* An empty blob is stored as NULL. */
static void bind_opt_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    if (n)
        sqlite3_bind_blob(st, i, p, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int insert_version(sqlite3 *h, const char *bucket, nb_s3_object *o)
{
    sqlite3_stmt *st = nb_db_stmt(
        h, "INSERT INTO objects(bucket,key,version_id,is_latest,delete_marker,size,etag,"
           "last_modified,storage_class,owner,attrs,checksums,tags,blob,crcs,nparts,enc,"
           "lock_mode,lock_until,legal_hold) VALUES(?,?,?,1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st) return dberr(h, "insert version");
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, o->key, (int)o->key_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, o->version_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, o->delete_marker);
    sqlite3_bind_int64(st, 5, o->size);
    sqlite3_bind_text(st, 6, o->etag, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 7, o->last_modified);
    sqlite3_bind_text(st, 8, o->storage_class ? o->storage_class : "STANDARD", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, o->owner ? o->owner : "", -1, SQLITE_STATIC);
    bind_opt_text(st, 10, o->attrs);
    bind_opt_text(st, 11, o->checksums);
    bind_opt_text(st, 12, o->tags);
    bind_opt_text(st, 13, o->blob);
    bind_opt_blob(st, 14, o->crcs, o->crcs_len);
    sqlite3_bind_int(st, 15, o->nparts);
    bind_opt_blob(st, 16, o->enc, o->enc_len);
    bind_lock(st, 17, &o->lock);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return dberr(h, "insert version");
    o->id = sqlite3_last_insert_rowid(h);
    if (o->delete_marker || o->blob || o->nparts) return SQLITE_OK;
    /* inline content: in the same transaction as its row, so both commit or neither */
    st = nb_db_stmt(h, "INSERT INTO object_data(object_id,data) VALUES(?,?)");
    if (!st) return dberr(h, "insert data");
    sqlite3_bind_int64(st, 1, o->id);
    sqlite3_bind_blob(st, 2, o->data_len ? o->data : "", (int)o->data_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "insert data");
}

/* Overwrite of an unversioned inline object by another (retire_current's reuse): the row and
 * its object_data row are rewritten in place, which costs a fraction of a DELETE and INSERT of
 * each (no AUTOINCREMENT sequence, neither index of objects touched). What the old version had
 * under its id goes as a DELETE would take it: its ACL (object_acls_gone); it has no parts,
 * archive records or early-deletion charge (STANDARD, inline). Readers that hold an id across
 * transactions compare what they decided on (lifecycle's row_state), since the id stays. */
static int rewrite_version(sqlite3 *h, int64_t id, nb_s3_object *o)
{
    /* The old version is STANDARD: when the new one is too, the column stays out of the SET,
     * so the triggers on storage_class changes are not even looked at. */
    bool same_class = !o->storage_class || strcmp(o->storage_class, "STANDARD") == 0;
    sqlite3_stmt *st = nb_db_stmt(
        h, same_class ? "UPDATE objects SET size=?1,etag=?2,last_modified=?3,owner=?5,attrs=?6,"
                        "checksums=?7,tags=?8,crcs=?9,enc=?10,class_since=NULL WHERE id=?11"
                      : "UPDATE objects SET size=?1,etag=?2,last_modified=?3,storage_class=?4,"
                        "owner=?5,attrs=?6,checksums=?7,tags=?8,crcs=?9,enc=?10,class_since=NULL"
                        " WHERE id=?11");
    if (!st) return dberr(h, "rewrite version");
    sqlite3_bind_int64(st, 1, o->size);
    sqlite3_bind_text(st, 2, o->etag, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, o->last_modified);
    sqlite3_bind_text(st, 4, o->storage_class ? o->storage_class : "STANDARD", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, o->owner ? o->owner : "", -1, SQLITE_STATIC);
    bind_opt_text(st, 6, o->attrs);
    bind_opt_text(st, 7, o->checksums);
    bind_opt_text(st, 8, o->tags);
    bind_opt_blob(st, 9, o->crcs, o->crcs_len);
    bind_opt_blob(st, 10, o->enc, o->enc_len);
    sqlite3_bind_int64(st, 11, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || sqlite3_changes(h) != 1) return dberr(h, "rewrite version");
    o->id = id;
    st = nb_db_stmt(h, "UPDATE object_data SET data=?2 WHERE object_id=?1");
    for (int pass = 0; pass < 2; pass++) {
        if (!st) return dberr(h, "rewrite data");
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_blob(st, 2, o->data_len ? o->data : "", (int)o->data_len, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return dberr(h, "rewrite data");
        if (sqlite3_changes(h) == 1) break;
        /* no bytes were there (never seen; an archived inline object is not STANDARD): the
         * version must not be left without them */
        st = nb_db_stmt(h, "INSERT INTO object_data(object_id,data) VALUES(?1,?2)");
    }
    return exec_id(h, "DELETE FROM object_acls WHERE object_id=?", id);
}

static bool etag_matches(const char *cond, const char *etag)
{
    /* If-Match may list several entity tags, quoted or not ("a", "b"); "*" matches any. */
    const char *p = cond;
    size_t el = strlen(etag);
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        if (p[0] == 'W' && p[1] == '/') p += 2;
        const char *s = p;
        if (*s == '"') {
            s++;
            const char *e = strchr(s, '"');
            if (!e) e = s + strlen(s);
            if ((size_t)(e - s) == el && memcmp(s, etag, el) == 0) return true;
            p = *e ? e + 1 : e;
        } else {
            const char *e = strchr(s, ',');
            if (!e) e = s + strlen(s);
            const char *t = e;
            while (t > s && t[-1] == ' ') t--;
            if ((t - s == 1 && *s == '*') || ((size_t)(t - s) == el && memcmp(s, etag, el) == 0))
                return true;
            p = e;
        }
    }
    return false;
}

bool nb_s3_etag_matches(const char *cond, const char *etag) { return etag_matches(cond, etag); }

typedef struct put_arg {
    nb_s3_put *p;
    garbage gc;
} put_arg;

static int put_manifest(sqlite3 *h, put_arg *a)
{
    nb_s3_put *p = a->p;
    sqlite3_stmt *ins = nb_db_stmt(h, "INSERT INTO object_parts(object_id,idx,part_number,offset,"
                                      "size,etag,blob,crcs,checksum,enc)"
                                      " VALUES(?,?,?,?,?,?,?,?,?,?)");
    if (!ins) return dberr(h, "manifest");
    /* Every chosen part must still be the upload's current one: a concurrent UploadPart of
     * the same number replaced (and removed) the file the client listed. */
    sqlite3_stmt *chk =
        nb_db_stmt(h, "SELECT 1 FROM parts WHERE upload_id=? AND part_number=? AND blob=?");
    if (!chk) return dberr(h, "manifest");
    for (size_t i = 0; i < p->nparts; i++) {
        sqlite3_bind_text(chk, 1, p->upload_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(chk, 2, p->parts[i].number);
        sqlite3_bind_text(chk, 3, p->parts[i].blob, -1, SQLITE_STATIC);
        int rc = sqlite3_step(chk);
        sqlite3_reset(chk);
        if (rc == SQLITE_DONE) return NB_S3_INVALID_PART;
        if (rc != SQLITE_ROW) return dberr(h, "manifest");
    }
    int64_t off = 0;
    for (size_t i = 0; i < p->nparts; i++) {
        const nb_s3_part *pt = &p->parts[i];
        sqlite3_bind_int64(ins, 1, p->o->id);
        sqlite3_bind_int(ins, 2, (int)i + 1);
        sqlite3_bind_int(ins, 3, pt->number);
        sqlite3_bind_int64(ins, 4, off);
        sqlite3_bind_int64(ins, 5, pt->size);
        sqlite3_bind_text(ins, 6, pt->etag, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 7, pt->blob, -1, SQLITE_STATIC);
        bind_opt_blob(ins, 8, pt->crcs, pt->crcs_len);
        bind_opt_text(ins, 9, pt->checksum);
        bind_opt_blob(ins, 10, pt->enc, pt->enc_len);
        int rc = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (rc != SQLITE_DONE) return dberr(h, "manifest");
        off += pt->size;
    }
    /* The upload's parts that were not chosen are dropped with it. */
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT blob FROM parts WHERE upload_id=?");
    if (!st) return dberr(h, "manifest");
    sqlite3_bind_text(st, 1, p->upload_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *b = (const char *)sqlite3_column_text(st, 0);
        bool used = false;
        for (size_t i = 0; i < p->nparts && !used; i++) used = strcmp(p->parts[i].blob, b) == 0;
        if (!used) nb_s3_files_add(&a->gc, b);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return dberr(h, "manifest");
    if ((rc = exec_bind1(h, "DELETE FROM parts WHERE upload_id=?", p->upload_id))) return rc;
    return exec_bind1(h, "DELETE FROM uploads WHERE upload_id=?", p->upload_id);
}

static int put_fn(sqlite3 *h, void *arg)
{
    put_arg *a = arg;
    nb_s3_put *p = a->p;
    gc_reset(&a->gc);
    int versioning, rc;
    if ((rc = bucket_versioning(h, p->bucket, &versioning))) return rc;
    if (p->upload_id) {
        /* The upload must still exist: a concurrent Abort or Complete wins otherwise. */
        sqlite3_stmt *st = nb_db_stmt(h, "SELECT 1 FROM uploads WHERE upload_id=?");
        if (!st) return dberr(h, "put");
        sqlite3_bind_text(st, 1, p->upload_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? NB_S3_NO_UPLOAD : dberr(h, "put");
    }
    if (p->cond.if_none_match_any || p->cond.if_match) {
        int64_t id;
        char etag[48];
        bool marker = false;
        if ((rc = latest_of(h, p->bucket, p->o->key, p->o->key_len, &id, etag, &marker)))
            return rc;
        bool exists = id && !marker;
        if (p->cond.if_none_match_any && exists) return NB_S3_PRECONDITION;
        /* AWS: If-Match on a key that does not exist is 404 NoSuchKey. */
        if (p->cond.if_match && !exists) return NB_S3_NO_KEY;
        if (p->cond.if_match && !etag_matches(p->cond.if_match, etag)) return NB_S3_PRECONDITION;
    }
    nb_s3_object *o = p->o;
    int64_t reuse = 0;
    bool can_reuse = versioning == NB_S3_VERSIONING_OFF && !p->upload_id && !o->delete_marker &&
                     !o->blob && !o->nparts &&
                     !(o->storage_class && nb_s3_class_is_archive(o->storage_class));
    if ((rc = retire_current(h, p->bucket, o->key, o->key_len, versioning, &a->gc,
                             can_reuse ? &reuse : NULL)))
        return rc;
    /* Suspended writes the null version, but the answer still names it (AWS sends
     * x-amz-version-id: null); only a bucket never versioned leaves the header out. */
    p->versioned = versioning != NB_S3_VERSIONING_OFF;
    if (versioning == NB_S3_VERSIONING_ENABLED)
        nb_s3_version_id_new(o->version_id);
    else
        strcpy(o->version_id, "null");
    o->is_latest = true;
    if (reuse) return rewrite_version(h, reuse, o);
    if ((rc = insert_version(h, p->bucket, o))) return rc;
    if (p->upload_id) return put_manifest(h, a);
    return SQLITE_OK;
}

int nb_s3_object_put(nb_s3_store *s, nb_s3_put *p)
{
    put_arg a = {.p = p};
    /* put_fn starts from scratch on every run (gc_reset; its outputs are overwritten), so a
     * plain PUT may share its batch's transaction without a savepoint of its own. */
    int rc = store_rc(p->upload_id ? nb_db_write(s->db, put_fn, &a)
                                   : nb_db_write_redo(s->db, put_fn, &a));
    gc_finish(s, &a.gc, rc == NB_S3_OK);
    return rc;
}

typedef struct get_arg {
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *version_id;
    unsigned flags; /* NB_S3_GET_* */
    nb_arena *a;
    nb_s3_object *o;
    nb_s3_bucket *b; /* NULL = only the versioning check */
} get_arg;

static int read_manifest(sqlite3 *h, nb_arena *a, nb_s3_object *o)
{
    o->parts = nb_arena_calloc(a, (size_t)o->nparts * sizeof *o->parts);
    if (!o->parts) return SQLITE_NOMEM;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT idx,part_number,offset,size,etag,blob,crcs,checksum,"
                                     "enc FROM object_parts WHERE object_id=? ORDER BY idx");
    if (!st) return dberr(h, "manifest");
    sqlite3_bind_int64(st, 1, o->id);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < o->nparts) {
        nb_s3_part *p = &o->parts[n++];
        p->number = sqlite3_column_int(st, 1);
        p->offset = sqlite3_column_int64(st, 2);
        p->size = sqlite3_column_int64(st, 3);
        snprintf(p->etag, sizeof p->etag, "%s", (const char *)sqlite3_column_text(st, 4));
        p->blob = col_str(st, 5, a);
        p->crcs_len = (size_t)sqlite3_column_bytes(st, 6);
        if (p->crcs_len) {
            unsigned char *c = nb_arena_alloc(a, p->crcs_len);
            if (!c) {
                sqlite3_reset(st);
                return SQLITE_NOMEM;
            }
            memcpy(c, sqlite3_column_blob(st, 6), p->crcs_len);
            p->crcs = c;
        }
        p->checksum = col_str(st, 7, a);
        p->enc_len = (size_t)sqlite3_column_bytes(st, 8);
        if (p->enc_len) {
            unsigned char *e = nb_arena_alloc(a, p->enc_len);
            if (!e) {
                sqlite3_reset(st);
                return SQLITE_NOMEM;
            }
            memcpy(e, sqlite3_column_blob(st, 8), p->enc_len);
            p->enc = e;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return dberr(h, "manifest");
    if (n != o->nparts) {
        nb_error("s3: object %lld: manifest has %d of %d parts", (long long)o->id, n, o->nparts);
        return NB_S3_DBERR;
    }
    return SQLITE_OK;
}

static int read_data(sqlite3 *h, nb_arena *a, nb_s3_object *o)
{
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT data FROM object_data WHERE object_id=?");
    if (!st) return dberr(h, "inline data");
    sqlite3_bind_int64(st, 1, o->id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        o->data_len = (size_t)sqlite3_column_bytes(st, 0);
        char *d = nb_arena_alloc(a, o->data_len + 1);
        if (!d) {
            sqlite3_reset(st);
            return SQLITE_NOMEM;
        }
        if (o->data_len) memcpy(d, sqlite3_column_blob(st, 0), o->data_len);
        o->data = d;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) {
        nb_error("s3: object %lld: inline content is missing", (long long)o->id);
        return NB_S3_DBERR;
    }
    return rc == SQLITE_ROW ? SQLITE_OK : dberr(h, "inline data");
}

static int get_fn(sqlite3 *h, void *arg)
{
    get_arg *g = arg;
    int versioning, rc;
    if (g->b) {
        sqlite3_stmt *bs = nb_db_stmt(h, "SELECT " BUCKET_COLS " FROM buckets WHERE name=?");
        if (!bs) return dberr(h, "bucket get");
        sqlite3_bind_text(bs, 1, g->bucket, -1, SQLITE_STATIC);
        rc = sqlite3_step(bs);
        if (rc == SQLITE_ROW) read_bucket(bs, g->b, g->a);
        sqlite3_reset(bs);
        if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? NB_S3_NO_BUCKET : dberr(h, "bucket get");
    } else if ((rc = bucket_versioning(h, g->bucket, &versioning))) {
        return rc;
    }
    sqlite3_stmt *st;
    if (g->version_id) {
        st = nb_db_stmt(h, "SELECT " NB_S3_OBJECT_COLS " FROM objects WHERE bucket=? AND key=?"
                           " AND version_id=?");
        if (!st) return dberr(h, "get");
        sqlite3_bind_text(st, 3, g->version_id, -1, SQLITE_STATIC);
    } else {
        st = nb_db_stmt(h, "SELECT " NB_S3_OBJECT_COLS " FROM objects WHERE bucket=? AND key=?"
                           " AND is_latest=1");
        if (!st) return dberr(h, "get");
    }
    sqlite3_bind_text(st, 1, g->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, g->key, (int)g->key_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && nb_s3_read_object_row(st, g->a, g->o)) rc = SQLITE_NOMEM;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return g->version_id ? NB_S3_NO_VERSION : NB_S3_NO_KEY;
    if (rc != SQLITE_ROW) return rc == SQLITE_NOMEM ? rc : dberr(h, "get");
    if ((g->flags & NB_S3_GET_PARTS) && g->o->nparts > 0) return read_manifest(h, g->a, g->o);
    if ((g->flags & NB_S3_GET_DATA) && g->o->is_inline) return read_data(h, g->a, g->o);
    return SQLITE_OK;
}

int nb_s3_object_get(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                     const char *version_id, bool want_parts, nb_arena *a, nb_s3_object *o)
{
    /* with the parts, a reader of the content also gets inline bytes */
    get_arg g = {bucket, key, key_len, version_id,
                 want_parts ? NB_S3_GET_PARTS | NB_S3_GET_DATA : 0, a, o, NULL};
    return store_rc(nb_db_read(s->db, get_fn, &g));
}

int nb_s3_object_read(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                      const char *version_id, unsigned flags, nb_arena *a, nb_s3_bucket *b,
                      nb_s3_object *o)
{
    nb_s3_bucket tmp;
    if (!b) b = &tmp;
    /* The current version of a hot small object comes from the cache while no write batch
     * ran since it was read (ocache.c); a read in between is put there for the next ones. */
    uint64_t gen = version_id ? 1 : nb_db_write_gen(s->db);
    if (!(gen & 1) && !nb_s3_ocache_get(s->db, gen, bucket, key, key_len, flags, a, b, o))
        return NB_S3_OK;
    get_arg g = {bucket, key, key_len, version_id, flags, a, o, b};
    int rc = store_rc(nb_db_read(s->db, get_fn, &g));
    if (rc == NB_S3_OK && !(gen & 1) && nb_db_write_gen(s->db) == gen)
        nb_s3_ocache_put(s->db, gen, flags, b, o);
    return rc;
}

typedef struct del_arg {
    nb_s3_del *d;
    garbage gc;
} del_arg;

/* After the current version of a key went away, the newest remaining one becomes current. */
static int promote_newest(sqlite3 *h, const char *bucket, const char *key, size_t key_len)
{
    sqlite3_stmt *st = nb_db_stmt(
        h, "UPDATE objects SET is_latest=1 WHERE id=(SELECT id FROM objects WHERE bucket=? AND"
           " key=? ORDER BY id DESC LIMIT 1)");
    if (!st) return dberr(h, "promote");
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, key, (int)key_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "promote");
}

static int del_fn(sqlite3 *h, void *arg)
{
    del_arg *a = arg;
    nb_s3_del *d = a->d;
    gc_reset(&a->gc);
    d->out_version[0] = 0;
    d->out_marker = false;
    int versioning, rc;
    if ((rc = bucket_versioning(h, d->bucket, &versioning))) return rc;
    if (d->version_id) {
        sqlite3_stmt *st = nb_db_stmt(h, "SELECT id,is_latest,delete_marker,lock_mode,lock_until,"
                                         "legal_hold,etag FROM objects"
                                         " WHERE bucket=? AND key=? AND version_id=?");
        if (!st) return dberr(h, "delete");
        sqlite3_bind_text(st, 1, d->bucket, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, d->key, (int)d->key_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, d->version_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        int64_t id = 0;
        bool latest = false;
        nb_s3_lock lock = {0};
        bool cond_failed = false;
        if (rc == SQLITE_ROW) {
            id = sqlite3_column_int64(st, 0);
            latest = sqlite3_column_int(st, 1) != 0;
            d->out_marker = sqlite3_column_int(st, 2) != 0;
            read_lock(st, 3, &lock);
            const char *et = (const char *)sqlite3_column_text(st, 6);
            cond_failed = d->if_match && !d->out_marker && !etag_matches(d->if_match, et ? et : "");
        }
        sqlite3_reset(st);
        snprintf(d->out_version, sizeof d->out_version, "%s", d->version_id);
        /* S3: deleting a missing version succeeds, unless it was conditional */
        if (rc == SQLITE_DONE) return d->if_match ? NB_S3_NO_VERSION : SQLITE_OK;
        if (rc != SQLITE_ROW) return dberr(h, "delete");
        if (cond_failed) return NB_S3_PRECONDITION;
        /* Object Lock: a protected version stays (governance gives way to an authorized
         * bypass); deletes without a version id only add a marker and are not refused. */
        int ls = nb_s3_lock_state(&lock, nb_clock_now_f());
        if (ls == NB_S3_LOCKED || (ls == NB_S3_LOCKED_GOVERNANCE && !d->bypass_governance))
            return ls;
        if ((rc = nb_s3_drop_version(h, id, &a->gc))) return rc;
        return latest ? promote_newest(h, d->bucket, d->key, d->key_len) : SQLITE_OK;
    }
    if (versioning == NB_S3_VERSIONING_OFF || d->if_match) {
        int64_t id;
        char etag[48];
        bool marker = false;
        if ((rc = latest_of(h, d->bucket, d->key, d->key_len, &id, etag, &marker))) return rc;
        /* If-Match (conditional delete): the current object must exist (404 NoSuchKey, as
         * If-Match on PutObject) and carry that ETag */
        if (d->if_match && (!id || marker)) return NB_S3_NO_KEY;
        if (d->if_match && !etag_matches(d->if_match, etag)) return NB_S3_PRECONDITION;
        if (versioning == NB_S3_VERSIONING_OFF)
            return id ? nb_s3_drop_version(h, id, &a->gc) : SQLITE_OK;
    }
    /* Versioned: a delete marker becomes the current version ('null' when suspended). */
    if ((rc = retire_current(h, d->bucket, d->key, d->key_len, versioning, &a->gc, NULL))) return rc;
    nb_s3_object m = {0};
    m.key = d->key;
    m.key_len = d->key_len;
    m.delete_marker = true;
    m.last_modified = nb_clock_now_f();
    if (versioning == NB_S3_VERSIONING_ENABLED)
        nb_s3_version_id_new(m.version_id);
    else
        strcpy(m.version_id, "null");
    m.owner = NULL;
    if ((rc = insert_version(h, d->bucket, &m))) return rc;
    snprintf(d->out_version, sizeof d->out_version, "%s", m.version_id);
    d->out_marker = true;
    return SQLITE_OK;
}

int nb_s3_object_delete(nb_s3_store *s, nb_s3_del *d)
{
    del_arg a = {.d = d};
    int rc = store_rc(nb_db_write(s->db, del_fn, &a));
    gc_finish(s, &a.gc, rc == NB_S3_OK);
    return rc;
}

typedef struct tags_arg {
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *version_id;
    const char *tags;
    char *out_version;
} tags_arg;

static int tags_fn(sqlite3 *h, void *arg)
{
    tags_arg *t = arg;
    int versioning, rc;
    if ((rc = bucket_versioning(h, t->bucket, &versioning))) return rc;
    sqlite3_stmt *st;
    if (t->version_id) {
        st = nb_db_stmt(h, "SELECT id,version_id,delete_marker FROM objects WHERE bucket=? AND"
                           " key=? AND version_id=?");
        if (!st) return dberr(h, "tags");
        sqlite3_bind_text(st, 3, t->version_id, -1, SQLITE_STATIC);
    } else {
        st = nb_db_stmt(h, "SELECT id,version_id,delete_marker FROM objects WHERE bucket=? AND"
                           " key=? AND is_latest=1");
        if (!st) return dberr(h, "tags");
    }
    sqlite3_bind_text(st, 1, t->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, t->key, (int)t->key_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int64_t id = 0;
    bool marker = false;
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        snprintf(t->out_version, 40, "%s", (const char *)sqlite3_column_text(st, 1));
        marker = sqlite3_column_int(st, 2) != 0;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return t->version_id ? NB_S3_NO_VERSION : NB_S3_NO_KEY;
    if (rc != SQLITE_ROW) return dberr(h, "tags");
    if (marker) return t->version_id ? NB_S3_NOT_IMPLEMENTED : NB_S3_NO_KEY;
    st = nb_db_stmt(h, "UPDATE objects SET tags=? WHERE id=?");
    if (!st) return dberr(h, "tags");
    bind_opt_text(st, 1, t->tags);
    sqlite3_bind_int64(st, 2, id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "tags");
}

int nb_s3_object_set_tags(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                          const char *version_id, const char *tags, char out_version[40])
{
    tags_arg t = {bucket, key, key_len, version_id, tags, out_version};
    out_version[0] = 0;
    return store_rc(nb_db_write(s->db, tags_fn, &t));
}

/* ---- Object Lock of a version (PutObjectRetention, PutObjectLegalHold) ---- */

static int set_lock_fn(sqlite3 *h, void *arg)
{
    nb_s3_lock_set *l = arg;
    int versioning, rc;
    if ((rc = bucket_versioning(h, l->bucket, &versioning))) return rc;
    sqlite3_stmt *st;
    if (l->version_id) {
        st = nb_db_stmt(h, "SELECT id,version_id,delete_marker,lock_mode,lock_until,legal_hold"
                           " FROM objects WHERE bucket=? AND key=? AND version_id=?");
        if (!st) return dberr(h, "object lock");
        sqlite3_bind_text(st, 3, l->version_id, -1, SQLITE_STATIC);
    } else {
        st = nb_db_stmt(h, "SELECT id,version_id,delete_marker,lock_mode,lock_until,legal_hold"
                           " FROM objects WHERE bucket=? AND key=? AND is_latest=1");
        if (!st) return dberr(h, "object lock");
    }
    sqlite3_bind_text(st, 1, l->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, l->key, (int)l->key_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int64_t id = 0;
    bool marker = false;
    nb_s3_lock old = {0};
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        snprintf(l->out_version, sizeof l->out_version, "%s",
                 (const char *)sqlite3_column_text(st, 1));
        marker = sqlite3_column_int(st, 2) != 0;
        read_lock(st, 3, &old);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return l->version_id ? NB_S3_NO_VERSION : NB_S3_NO_KEY;
    if (rc != SQLITE_ROW) return dberr(h, "object lock");
    if (marker) return l->version_id ? NB_S3_IS_MARKER : NB_S3_NO_KEY;
    if (!l->retention) {
        st = nb_db_stmt(h, "UPDATE objects SET legal_hold=? WHERE id=?");
        if (!st) return dberr(h, "object lock");
        bind_opt_text(st, 1, l->lock.legal_hold[0] ? l->lock.legal_hold : NULL);
    } else {
        /* AWS: a retention in force may only be kept or lengthened in its own mode; a
         * governance one may be shortened, removed or changed with an authorized bypass. */
        if (old.mode[0] && old.until > l->now) {
            bool keeps = strcmp(old.mode, l->lock.mode) == 0 && l->lock.until >= old.until;
            bool compliance = strcmp(old.mode, "COMPLIANCE") == 0;
            if (!keeps && (compliance || !l->bypass_governance))
                return compliance ? NB_S3_LOCKED : NB_S3_LOCKED_GOVERNANCE;
        }
        st = nb_db_stmt(h, "UPDATE objects SET lock_mode=?, lock_until=? WHERE id=?");
        if (!st) return dberr(h, "object lock");
        bind_opt_text(st, 1, l->lock.mode[0] ? l->lock.mode : NULL);
        if (l->lock.mode[0])
            sqlite3_bind_double(st, 2, l->lock.until);
        else
            sqlite3_bind_null(st, 2);
    }
    sqlite3_bind_int64(st, l->retention ? 3 : 2, id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "object lock");
}

int nb_s3_object_set_lock(nb_s3_store *s, nb_s3_lock_set *l)
{
    l->out_version[0] = 0;
    return store_rc(nb_db_write(s->db, set_lock_fn, l));
}

/* ------------------------------------------------------------------ multipart */

typedef struct upload_arg {
    const char *bucket;
    nb_s3_upload *u;
} upload_arg;

static int upload_create_fn(sqlite3 *h, void *arg)
{
    upload_arg *a = arg;
    int versioning, rc;
    if ((rc = bucket_versioning(h, a->bucket, &versioning))) return rc;
    sqlite3_stmt *st = nb_db_stmt(h, "INSERT INTO uploads(upload_id,bucket,key,initiated,owner,"
                                     "storage_class,attrs,tags,checksum_algo,enc,lock_mode,"
                                     "lock_until,legal_hold) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st) return dberr(h, "upload create");
    nb_s3_upload *u = a->u;
    sqlite3_bind_text(st, 1, u->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, u->key, (int)u->key_len, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, u->initiated);
    sqlite3_bind_text(st, 5, u->owner ? u->owner : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, u->storage_class ? u->storage_class : "STANDARD", -1, SQLITE_STATIC);
    bind_opt_text(st, 7, u->attrs);
    bind_opt_text(st, 8, u->tags);
    bind_opt_text(st, 9, u->checksum_algo);
    bind_opt_blob(st, 10, u->enc, u->enc_len);
    bind_lock(st, 11, &u->lock);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "upload create");
}

int nb_s3_upload_create(nb_s3_store *s, const char *bucket, nb_s3_upload *u)
{
    /* Upload ids: long random text, URL-safe, as AWS's opaque ids. */
    nb_random_hex(u->upload_id, 48);
    upload_arg a = {bucket, u};
    return store_rc(nb_db_write(s->db, upload_create_fn, &a));
}

static void read_upload(sqlite3_stmt *st, nb_arena *a, nb_s3_upload *u)
{
    memset(u, 0, sizeof *u);
    snprintf(u->upload_id, sizeof u->upload_id, "%s", (const char *)sqlite3_column_text(st, 0));
    u->key_len = (size_t)sqlite3_column_bytes(st, 1);
    char *k = nb_arena_alloc(a, u->key_len + 1);
    if (k) {
        if (u->key_len) memcpy(k, sqlite3_column_blob(st, 1), u->key_len);
        k[u->key_len] = 0;
    }
    u->key = k ? k : "";
    u->initiated = sqlite3_column_double(st, 2);
    u->owner = col_str(st, 3, a);
    u->storage_class = col_str(st, 4, a);
    u->attrs = col_str(st, 5, a);
    u->tags = col_str(st, 6, a);
    u->checksum_algo = col_str(st, 7, a);
    u->enc_len = (size_t)sqlite3_column_bytes(st, 8);
    unsigned char *e = u->enc_len ? nb_arena_alloc(a, u->enc_len) : NULL;
    if (e) memcpy(e, sqlite3_column_blob(st, 8), u->enc_len);
    u->enc = e;
    if (!e) u->enc_len = 0;
    read_lock(st, 9, &u->lock);
}

#define UPLOAD_COLS                                                                                \
    "upload_id,key,initiated,owner,storage_class,attrs,tags,checksum_algo,enc,lock_mode,"         \
    "lock_until,legal_hold"

typedef struct upload_get_arg {
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *upload_id;
    nb_arena *a;
    nb_s3_upload *u;
} upload_get_arg;

static int upload_get_fn(sqlite3 *h, void *arg)
{
    upload_get_arg *g = arg;
    int versioning, rc;
    if ((rc = bucket_versioning(h, g->bucket, &versioning))) return rc;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT " UPLOAD_COLS " FROM uploads WHERE upload_id=?"
                                     " AND bucket=? AND key=?");
    if (!st) return dberr(h, "upload get");
    sqlite3_bind_text(st, 1, g->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, g->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, g->key, (int)g->key_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) read_upload(st, g->a, g->u);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return SQLITE_OK;
    return rc == SQLITE_DONE ? NB_S3_NO_UPLOAD : dberr(h, "upload get");
}

int nb_s3_upload_get(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                     const char *upload_id, nb_arena *a, nb_s3_upload *u)
{
    upload_get_arg g = {bucket, key, key_len, upload_id, a, u};
    return store_rc(nb_db_read(s->db, upload_get_fn, &g));
}

typedef struct part_put_arg {
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *upload_id;
    const nb_s3_part *p;
    garbage gc;
} part_put_arg;

static int part_put_fn(sqlite3 *h, void *arg)
{
    part_put_arg *a = arg;
    gc_reset(&a->gc);
    sqlite3_stmt *st =
        nb_db_stmt(h, "SELECT 1 FROM uploads WHERE upload_id=? AND bucket=? AND key=?");
    if (!st) return dberr(h, "part put");
    sqlite3_bind_text(st, 1, a->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, a->key, (int)a->key_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? NB_S3_NO_UPLOAD : dberr(h, "part put");
    st = nb_db_stmt(h, "SELECT blob FROM parts WHERE upload_id=? AND part_number=?");
    if (!st) return dberr(h, "part put");
    sqlite3_bind_text(st, 1, a->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, a->p->number);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        nb_s3_files_add(&a->gc, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return dberr(h, "part put");
    st = nb_db_stmt(h, "INSERT OR REPLACE INTO parts(upload_id,part_number,size,etag,"
                       "last_modified,blob,crcs,checksum,enc) VALUES(?,?,?,?,?,?,?,?,?)");
    if (!st) return dberr(h, "part put");
    const nb_s3_part *p = a->p;
    sqlite3_bind_text(st, 1, a->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, p->number);
    sqlite3_bind_int64(st, 3, p->size);
    sqlite3_bind_text(st, 4, p->etag, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, p->last_modified);
    sqlite3_bind_text(st, 6, p->blob, -1, SQLITE_STATIC);
    bind_opt_blob(st, 7, p->crcs, p->crcs_len);
    bind_opt_text(st, 8, p->checksum);
    bind_opt_blob(st, 9, p->enc, p->enc_len);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : dberr(h, "part put");
}

int nb_s3_part_put(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                   const char *upload_id, const nb_s3_part *p)
{
    part_put_arg a = {bucket, key, key_len, upload_id, p, {0}};
    int rc = store_rc(nb_db_write(s->db, part_put_fn, &a));
    gc_finish(s, &a.gc, rc == NB_S3_OK);
    return rc;
}

typedef struct part_list_arg {
    const char *upload_id;
    int marker, max;
    nb_arena *a;
    nb_s3_part *out;
    size_t n;
} part_list_arg;

static int part_list_fn(sqlite3 *h, void *arg)
{
    part_list_arg *g = arg;
    sqlite3_stmt *st =
        nb_db_stmt(h, "SELECT part_number,size,etag,last_modified,blob,crcs,checksum,enc FROM"
                      " parts WHERE upload_id=? AND part_number>? ORDER BY part_number LIMIT ?");
    if (!st) return dberr(h, "part list");
    sqlite3_bind_text(st, 1, g->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, g->marker);
    sqlite3_bind_int(st, 3, g->max);
    g->out = nb_arena_calloc(g->a, (size_t)(g->max > 0 ? g->max : 1) * sizeof *g->out);
    if (!g->out) {
        sqlite3_reset(st);
        return SQLITE_NOMEM;
    }
    g->n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && g->n < (size_t)g->max) {
        nb_s3_part *p = &g->out[g->n++];
        p->number = sqlite3_column_int(st, 0);
        p->size = sqlite3_column_int64(st, 1);
        snprintf(p->etag, sizeof p->etag, "%s", (const char *)sqlite3_column_text(st, 2));
        p->last_modified = sqlite3_column_double(st, 3);
        p->blob = col_str(st, 4, g->a);
        p->crcs_len = (size_t)sqlite3_column_bytes(st, 5);
        if (p->crcs_len) {
            unsigned char *c = nb_arena_alloc(g->a, p->crcs_len);
            if (c) memcpy(c, sqlite3_column_blob(st, 5), p->crcs_len);
            p->crcs = c;
            if (!c) p->crcs_len = 0;
        }
        p->checksum = col_str(st, 6, g->a);
        p->enc_len = (size_t)sqlite3_column_bytes(st, 7);
        unsigned char *e = p->enc_len ? nb_arena_alloc(g->a, p->enc_len) : NULL;
        if (e) memcpy(e, sqlite3_column_blob(st, 7), p->enc_len);
        p->enc = e;
        if (!e) p->enc_len = 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : dberr(h, "part list");
}

int nb_s3_part_list(nb_s3_store *s, const char *upload_id, int marker, int max, nb_arena *a,
                    nb_s3_part **out, size_t *n)
{
    part_list_arg g = {upload_id, marker, max, a, NULL, 0};
    int rc = store_rc(nb_db_read(s->db, part_list_fn, &g));
    *out = g.out;
    *n = g.n;
    return rc;
}

typedef struct abort_arg {
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *upload_id;
    garbage gc;
} abort_arg;

static int abort_fn(sqlite3 *h, void *arg)
{
    abort_arg *a = arg;
    gc_reset(&a->gc);
    int versioning, rc;
    if ((rc = bucket_versioning(h, a->bucket, &versioning))) return rc;
    sqlite3_stmt *st =
        nb_db_stmt(h, "SELECT 1 FROM uploads WHERE upload_id=? AND bucket=? AND key=?");
    if (!st) return dberr(h, "abort");
    sqlite3_bind_text(st, 1, a->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, a->key, (int)a->key_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? NB_S3_NO_UPLOAD : dberr(h, "abort");
    st = nb_db_stmt(h, "SELECT blob FROM parts WHERE upload_id=?");
    if (!st) return dberr(h, "abort");
    sqlite3_bind_text(st, 1, a->upload_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        nb_s3_files_add(&a->gc, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return dberr(h, "abort");
    if ((rc = exec_bind1(h, "DELETE FROM parts WHERE upload_id=?", a->upload_id))) return rc;
    return exec_bind1(h, "DELETE FROM uploads WHERE upload_id=?", a->upload_id);
}

int nb_s3_upload_abort(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                       const char *upload_id)
{
    abort_arg a = {bucket, key, key_len, upload_id, {0}};
    int rc = store_rc(nb_db_write(s->db, abort_fn, &a));
    gc_finish(s, &a.gc, rc == NB_S3_OK);
    return rc;
}

typedef struct upload_list_arg {
    const char *bucket;
    const char *prefix;
    size_t prefix_len;
    const char *key_marker;
    size_t key_marker_len;
    const char *upload_marker;
    size_t max;
    nb_arena *a;
    nb_s3_upload *out;
    size_t n;
} upload_list_arg;

static int upload_list_fn(sqlite3 *h, void *arg)
{
    upload_list_arg *g = arg;
    int versioning, rc;
    if ((rc = bucket_versioning(h, g->bucket, &versioning))) return rc;
    /* (key, initiated, upload_id) order; after the marker pair. An upload-id marker without
     * its key marker is ignored, as AWS does. */
    sqlite3_stmt *st = nb_db_stmt(
        h, "SELECT " UPLOAD_COLS " FROM uploads WHERE bucket=?1 AND key>=?2 AND"
           " (key>?3 OR (key=?3 AND ?4 IS NOT NULL AND (initiated,upload_id) >"
           " (SELECT initiated,upload_id FROM uploads WHERE upload_id=?4)))"
           " ORDER BY key, initiated, upload_id LIMIT ?5");
    if (!st) return dberr(h, "upload list");
    sqlite3_bind_text(st, 1, g->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, g->prefix ? g->prefix : "", (int)g->prefix_len, SQLITE_STATIC);
    if (g->key_marker)
        sqlite3_bind_blob(st, 3, g->key_marker, (int)g->key_marker_len, SQLITE_STATIC);
    else
        sqlite3_bind_blob(st, 3, "", 0, SQLITE_STATIC);
    if (g->key_marker && g->upload_marker && *g->upload_marker)
        sqlite3_bind_text(st, 4, g->upload_marker, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)g->max);
    g->out = nb_arena_calloc(g->a, (g->max ? g->max : 1) * sizeof *g->out);
    if (!g->out) {
        sqlite3_reset(st);
        return SQLITE_NOMEM;
    }
    g->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && g->n < g->max) {
        nb_s3_upload *u = &g->out[g->n];
        read_upload(st, g->a, u);
        if (u->key_len < g->prefix_len || memcmp(u->key, g->prefix, g->prefix_len) != 0) {
            rc = SQLITE_DONE; /* past the prefix */
            break;
        }
        g->n++;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : dberr(h, "upload list");
}

int nb_s3_upload_list(nb_s3_store *s, const char *bucket, const char *prefix, size_t prefix_len,
                      const char *key_marker, size_t key_marker_len, const char *upload_marker,
                      size_t max, nb_arena *a, nb_s3_upload **out, size_t *n)
{
    upload_list_arg g = {bucket, prefix,        prefix_len, key_marker, key_marker_len,
                         upload_marker, max,    a,          NULL,       0};
    int rc = store_rc(nb_db_read(s->db, upload_list_fn, &g));
    *out = g.out;
    *n = g.n;
    return rc;
}
