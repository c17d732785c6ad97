/* restore.c: RestoreObject and what archived versions look like to readers: GET of a GLACIER /
 * DEEP_ARCHIVE version without a completed restore is 403 InvalidObjectState; HEAD and GET show
 * x-amz-restore; a restore completes after its tier's delay on the region clock and its copy
 * is readable until the expiry date (both planned on the scheduler, the work done by the
 * archive worker); x-amz-expiration on writes and reads names the lifecycle rule that will
 * expire the version. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/sched.h"
#include "svc/s3/events.h"
#include "svc/s3/lifecycle.h"

/* Retrieval delays: the upper end of each tier's documented range (S3 Glacier Flexible
 * Retrieval: Expedited 1-5 minutes, Standard 3-5 hours, Bulk 5-12 hours; Deep Archive:
 * Standard within 12 hours, Bulk within 48 hours). */
static double tier_delay(const char *cls, const char *tier)
{
    bool deep = strcmp(cls, "DEEP_ARCHIVE") == 0;
    if (strcmp(tier, "Expedited") == 0) return 5 * 60;
    if (strcmp(tier, "Bulk") == 0) return deep ? 48 * 3600 : 12 * 3600;
    return deep ? 12 * 3600 : 5 * 3600;
}

/* ---------------------------------------------------------------- restore state */

typedef struct rstate {
    int64_t id;
    bool requested; /* a restore is in progress or its copy is readable */
    double ready, expiry;
} rstate;

static int rstate_fn(sqlite3 *h, void *arg)
{
    rstate *r = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT restore_ready, restore_expiry FROM s3_archive"
                                     " WHERE object_id=? AND restore_ready IS NOT NULL");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, r->id);
    int rc = sqlite3_step(st);
    r->requested = rc == SQLITE_ROW;
    if (r->requested) {
        r->ready = sqlite3_column_double(st, 0);
        r->expiry = sqlite3_column_double(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int read_rstate(int64_t id, rstate *r)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    return nb_db_read(nb_s3_store_db(nb_s3_g), rstate_fn, r) == SQLITE_OK ? 0 : -1;
}

/* x-amz-restore for a state at now; false when there is nothing to say. */
static bool restore_header(const rstate *r, double now, char *out, size_t n)
{
    if (!r->requested || r->expiry <= now) return false;
    if (r->ready > now) {
        snprintf(out, n, "ongoing-request=\"true\"");
    } else {
        char d[40];
        nb_s3_http_date(r->expiry, d);
        snprintf(out, n, "ongoing-request=\"false\", expiry-date=\"%s\"", d);
    }
    return true;
}

json_t *nb_s3_restore_status(sqlite3 *h, int64_t object_id)
{
    rstate r;
    memset(&r, 0, sizeof r);
    r.id = object_id;
    if (rstate_fn(h, &r) != SQLITE_OK) return NULL;
    double now = nb_clock_now_f();
    if (!r.requested || r.expiry <= now) return NULL;
    if (r.ready > now) return json_pack("{s:b}", "IsRestoreInProgress", true);
    return json_pack("{s:b,s:f}", "IsRestoreInProgress", false, "RestoreExpiryDate", r.expiry);
}

/* ---------------------------------------------------------------- hooks */

static void expiration_header(nb_call *c, const nb_s3_bucket *b, const nb_s3_object *o)
{
    double when;
    char rule[300];
    if (!o->is_latest || o->delete_marker) return;
    if (!nb_s3_lc_expiry(b, o, &when, rule, sizeof rule)) return;
    char d[40];
    nb_s3_http_date(when, d);
    /* the rule id is shown URL-encoded, as AWS does */
    nb_buf enc;
    nb_buf_init(&enc);
    nb_url_encode(&enc, rule, strlen(rule), false);
    char *v = nb_arena_printf(c->arena, "expiry-date=\"%s\", rule-id=\"%s\"", d,
                              enc.data ? enc.data : "");
    nb_buf_free(&enc);
    if (v) nb_s3_add_header(c, "x-amz-expiration", v);
}

void nb_s3_classes_written(nb_call *c, const nb_s3_bucket *b, const nb_s3_object *o)
{
    expiration_header(c, b, o);
    if (nb_s3_class_is_archive(o->storage_class)) nb_s3_archive_kick();
}

/* Readable now? Adds x-amz-restore when asked; puts a completed restore's copy in place (on a
 * worker: NB_CALL_OFFLOAD from the loop thread, before any header was added, so the rerun
 * adds them once). */
static int archived_access(nb_call *c, const char *bucket, nb_s3_object *o, bool headers,
                           bool get, bool *readable)
{
    *readable = false;
    rstate r;
    if (read_rstate(o->id, &r) < 0) return nb_s3_internal(c, "cannot read the restore state");
    double now = nb_clock_now_f();
    bool ok = r.requested && r.ready <= now && r.expiry > now;
    /* archived (file id "": no hot unit) and readable: the copy must be put in place first */
    bool missing =
        ok && get &&
        (o->nparts > 0 ? o->parts && o->parts[0].blob && !o->parts[0].blob[0]
                       : o->blob && !o->blob[0]);
    if (missing && c->on_loop) return NB_CALL_OFFLOAD;
    char hv[160];
    if (headers && restore_header(&r, now, hv, sizeof hv)) nb_s3_add_header(c, "x-amz-restore", hv);
    if (!ok) return 0;
    *readable = true;
    if (!missing) return 0;
    /* Completed on the clock, but the worker has not put the copy in place yet: do it now. */
    if (nb_s3_archive_materialize(o->id) < 0)
        return nb_s3_internal(c, "cannot read the archived copy");
    char vid[40];
    snprintf(vid, sizeof vid, "%s", o->version_id);
    int rc = headers ? nb_s3_object_read(nb_s3_g, bucket, o->key, o->key_len, vid,
                                         NB_S3_GET_PARTS | NB_S3_GET_DATA, c->arena, NULL, o)
                     : nb_s3_object_get(nb_s3_g, bucket, o->key, o->key_len, vid, true, c->arena,
                                        o);
    if (rc) return nb_s3_store_error(c, rc, bucket, o->key);
    return 0;
}

int nb_s3_classes_read(nb_call *c, const nb_s3_bucket *b, nb_s3_object *o, bool get)
{
    if (nb_s3_class_is_archive(o->storage_class)) {
        bool readable;
        int rc = archived_access(c, b->name, o, true, get, &readable);
        if (rc) return rc;
        if (!readable && get)
            return nb_s3_error(c, 403, "InvalidObjectState",
                               "The operation is not valid for the object's storage class",
                               "StorageClass", o->storage_class, NULL);
    }
    expiration_header(c, b, o);
    return 0;
}

int nb_s3_classes_copy_source(nb_call *c, const char *bucket, nb_s3_object *o)
{
    if (!nb_s3_class_is_archive(o->storage_class)) return 0;
    bool readable;
    if (archived_access(c, bucket, o, false, true, &readable)) return -1;
    if (!readable)
        return nb_s3_error(c, 403, "InvalidObjectState",
                           "Operation is not valid for the source object's storage class",
                           "StorageClass", o->storage_class, NULL);
    return 0;
}

/* ---------------------------------------------------------------- RestoreObject */

enum { R_NEW = 0, R_EXTENDED, R_IN_PROGRESS };

typedef struct restore_arg {
    int64_t id;
    const char *cls;
    const char *tier;
    int days;
    int outcome;
    double ready, expiry;
} restore_arg;

static int restore_fn(sqlite3 *h, void *arg)
{
    restore_arg *a = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT 1 FROM objects WHERE id=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, a->id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return NB_S3_NO_KEY;
    if (rc != SQLITE_ROW) return rc;
    double now = nb_clock_now_f();
    st = nb_db_stmt(h, "SELECT restore_ready, restore_expiry FROM s3_archive WHERE object_id=?"
                       " AND restore_ready IS NOT NULL");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, a->id);
    double ready = 0, expiry = 0;
    bool have = (rc = sqlite3_step(st)) == SQLITE_ROW;
    if (have) {
        ready = sqlite3_column_double(st, 0);
        expiry = sqlite3_column_double(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
    if (have && ready > now) {
        a->outcome = R_IN_PROGRESS;
        return SQLITE_OK;
    }
    if (have && expiry > now) {
        /* Already restored: the copy's lifetime restarts from now, as AWS does. */
        a->outcome = R_EXTENDED;
        a->ready = ready;
        a->expiry = nb_s3_lc_due(now, a->days);
        st = nb_db_stmt(h, "UPDATE s3_archive SET restore_days=?, restore_expiry=?"
                           " WHERE object_id=?");
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_int(st, 1, a->days);
        sqlite3_bind_double(st, 2, a->expiry);
        sqlite3_bind_int64(st, 3, a->id);
    } else {
        a->outcome = R_NEW;
        a->ready = now + tier_delay(a->cls, a->tier);
        a->expiry = nb_s3_lc_due(a->ready, a->days);
        st = nb_db_stmt(h, "INSERT INTO s3_archive(object_id, restore_tier, restore_days,"
                           " restore_requested, restore_ready, restore_expiry, restored)"
                           " VALUES(?1,?2,?3,?4,?5,?6,0) ON CONFLICT(object_id) DO UPDATE SET"
                           " restore_tier=?2, restore_days=?3, restore_requested=?4,"
                           " restore_ready=?5, restore_expiry=?6, restored=0");
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_int64(st, 1, a->id);
        sqlite3_bind_text(st, 2, a->tier, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, a->days);
        sqlite3_bind_double(st, 4, now);
        sqlite3_bind_double(st, 5, a->ready);
        sqlite3_bind_double(st, 6, a->expiry);
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int malformed(nb_call *c)
{
    return nb_s3_error(c, 400, "MalformedXML",
                       "The XML you provided was not well-formed or did not validate against our"
                       " published schema",
                       NULL);
}

int nb_s3_op_restore_object(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key, *version;
    size_t key_len;
    if (nb_s3_in_key_version(c, &key, &key_len, &version)) return -1;
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    nb_s3_object o;
    int rc = nb_s3_object_get(nb_s3_g, bucket, key, key_len, version, false, c->arena, &o);
    if (rc) return nb_s3_store_error(c, rc, bucket, key);
    if (o.delete_marker) {
        if (version)
            return nb_s3_error(c, 405, "MethodNotAllowed",
                               "The specified method is not allowed against this resource.",
                               "Method", "POST", "ResourceType", "DeleteMarker", NULL);
        return nb_s3_error(c, 404, "NoSuchKey", "The specified key does not exist.", "Key", key,
                           NULL);
    }
    json_t *req = json_object_get(c->input, "RestoreRequest");
    const char *type = json_string_value(json_object_get(req, "Type"));
    if (type || json_object_get(req, "SelectParameters") || json_object_get(req, "OutputLocation"))
        return nb_s3_error(c, 501, "NotImplemented",
                           "A header you provided implies functionality that is not implemented",
                           NULL);
    if (!nb_s3_class_is_archive(o.storage_class))
        return nb_s3_error(c, 403, "InvalidObjectState",
                           "Restore is not allowed for the object's current storage class",
                           "StorageClass", o.storage_class, NULL);
    json_t *dj = json_object_get(req, "Days");
    if (!json_is_integer(dj)) return malformed(c);
    json_int_t days = json_integer_value(dj);
    if (days < 1 || days > 2147483647)
        return nb_s3_error(c, 400, "InvalidArgument", "Days must be a positive integer",
                           "ArgumentName", "Days", NULL);
    const char *tier = json_string_value(
        json_object_get(json_object_get(req, "GlacierJobParameters"), "Tier"));
    if (!tier) tier = json_string_value(json_object_get(req, "Tier"));
    if (!tier) tier = "Standard";
    if (strcmp(tier, "Standard") != 0 && strcmp(tier, "Bulk") != 0 &&
        strcmp(tier, "Expedited") != 0)
        return malformed(c);
    if (strcmp(tier, "Expedited") == 0 && strcmp(o.storage_class, "DEEP_ARCHIVE") == 0)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Expedited retrieval is not supported for objects in the DEEP_ARCHIVE"
                           " storage class",
                           "ArgumentName", "Tier", "ArgumentValue", tier, NULL);
    restore_arg a = {.id = o.id, .cls = o.storage_class, .tier = tier, .days = (int)days};
    rc = nb_db_write(nb_s3_store_db(nb_s3_g), restore_fn, &a);
    if (rc == NB_S3_NO_KEY) return nb_s3_store_error(c, NB_S3_NO_KEY, bucket, key);
    if (rc != SQLITE_OK) return nb_s3_internal(c, "cannot record the restore");
    if (a.outcome == R_IN_PROGRESS)
        return nb_s3_error(c, 409, "RestoreAlreadyInProgress",
                           "Object restore is already in progress", NULL);
    if (a.outcome == R_NEW) {
        nb_s3_restore_plan(a.ready);
        nb_s3_event_call(c, "s3:ObjectRestore:Post", bucket, key, key_len, o.version_id, o.size, o.etag);
    } else {
        nb_s3_restore_plan(a.expiry);
    }
    c->out_status = a.outcome == R_NEW ? 202 : 200;
    c->output = json_object();
    return 0;
}

/* ---------------------------------------------------------------- the restore timer */

static pthread_mutex_t tmu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t timer_id;
static double timer_at;
static bool timer_stopped;

static void timer_fire(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&tmu);
    timer_id = 0;
    timer_at = 0;
    pthread_mutex_unlock(&tmu);
    nb_s3_archive_kick(); /* the worker sweeps, then plans the next event */
}

void nb_s3_restore_plan(double t)
{
    pthread_mutex_lock(&tmu);
    if (!timer_stopped && !(timer_id && timer_at <= t)) {
        if (timer_id) nb_sched_cancel(timer_id);
        timer_at = t;
        timer_id = nb_sched_at((int64_t)ceil(t * 1e6), timer_fire, NULL);
    }
    pthread_mutex_unlock(&tmu);
}

void nb_s3_restore_timer_stop(void)
{
    pthread_mutex_lock(&tmu);
    timer_stopped = true;
    uint64_t id = timer_id;
    timer_id = 0;
    pthread_mutex_unlock(&tmu);
    if (id) nb_sched_cancel_sync(id);
    pthread_mutex_lock(&tmu);
    timer_stopped = false; /* a later start (tests restart the service) may plan again */
    pthread_mutex_unlock(&tmu);
}

typedef struct due_list {
    double now;
    int64_t ids[100];
    size_t n;
    double next;
} due_list;

/* The ids a due query (?1 = now) lists, at most a batch. */
static int due_ids(sqlite3 *h, due_list *d, const char *sql)
{
    d->n = 0;
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_double(st, 1, d->now);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && d->n < NB_ARRAY_LEN(d->ids))
        d->ids[d->n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int due_ready_fn(sqlite3 *h, void *arg)
{
    return due_ids(h, arg, "SELECT object_id FROM s3_archive WHERE restore_ready <= ?1"
                           " AND restore_expiry > ?1 AND restored = 0 LIMIT 100");
}

static int due_expired_fn(sqlite3 *h, void *arg)
{
    return due_ids(h, arg, "SELECT object_id FROM s3_archive WHERE restore_expiry <= ?1 LIMIT 100");
}

static int next_event_fn(sqlite3 *h, void *arg)
{
    due_list *d = arg;
    d->next = 0;
    static const char *const q[] = {
        "SELECT MIN(restore_ready) FROM s3_archive WHERE restore_ready > ?1 AND restored = 0",
        "SELECT MIN(restore_expiry) FROM s3_archive WHERE restore_expiry > ?1"};
    for (size_t i = 0; i < NB_ARRAY_LEN(q); i++) {
        sqlite3_stmt *st = nb_db_stmt(h, q[i]);
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_double(st, 1, d->now);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            double t = sqlite3_column_double(st, 0);
            if (d->next == 0 || t < d->next) d->next = t;
        }
        sqlite3_reset(st);
    }
    return SQLITE_OK;
}

double nb_s3_restore_sweep(void)
{
    nb_db *db = nb_s3_store_db(nb_s3_g);
    due_list d;
    bool more = false;
    d.now = nb_clock_now_f();
    if (nb_db_read(db, due_ready_fn, &d) == SQLITE_OK) {
        for (size_t i = 0; i < d.n; i++) nb_s3_archive_materialize(d.ids[i]);
        more |= d.n == NB_ARRAY_LEN(d.ids);
    }
    d.now = nb_clock_now_f();
    if (nb_db_read(db, due_expired_fn, &d) == SQLITE_OK) {
        for (size_t i = 0; i < d.n; i++) nb_s3_archive_drop_hot(d.ids[i]);
        more |= d.n == NB_ARRAY_LEN(d.ids);
    }
    if (more) nb_s3_archive_kick();
    d.now = nb_clock_now_f();
    if (nb_db_read(db, next_event_fn, &d) != SQLITE_OK) return 0;
    return d.next;
}
