/* events.c: S3 event notifications delivered: AWS's event message (Records[] with eventVersion
 * 2.1, the s3 schema 1.0, URL-encoded keys, sequencers), matched against the bucket's stored
 * notification configuration (notify.c: event names with ":*" wildcards, prefix/suffix
 * filters) and sent to SQS queues and SNS topics through their C APIs, once the write is
 * durable; the s3:TestEvent message when a configuration is put. Lambda destinations are
 * logged and skipped until a Lambda service exists.
 *
 * Delivery is synchronous on the calling worker (or scheduler) thread, after the metadata
 * commit and before the answer: SQS's send and SNS's publish are durable when they return,
 * so an acknowledged write has its events stored (a crash between the commit and the answer
 * may deliver the event of a write the client saw fail, which at-least-once allows). The
 * price, one durable queue write per matching destination, is paid only by buckets that have
 * a configuration. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "svc/s3/access.h"
#include "svc/s3/events.h"
#include "svc/s3/lifecycle.h"
#include "svc/sns/sns.h"
#include "svc/sqs/sqs.h"

/* ---------------------------------------------------------------- message pieces */

int nb_s3_event_key(nb_buf *b, const char *key, size_t n)
{
    /* AWS encodes keys as Java's URLEncoder does (form encoding: ' ' -> '+', only
     * [A-Za-z0-9.-*_] kept), except that '/' stays as is. */
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)key[i];
        int rc;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '.' || ch == '-' || ch == '*' || ch == '_' || ch == '/') {
            rc = nb_buf_putc(b, (char)ch);
        } else if (ch == ' ') {
            rc = nb_buf_putc(b, '+');
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            rc = nb_buf_append(b, e, 3);
        }
        if (rc < 0) return -1;
    }
    return 0;
}

void nb_s3_event_time(double t, char out[32])
{
    /* through whole microseconds: 1413215822.089 is 1413215822.08899... as a double */
    long long us = llround(t * 1e6);
    long long sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    time_t s = (time_t)sec;
    int ms = (int)((us - sec * 1000000) / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", day, ms);
}

bool nb_s3_event_name_matches(const char *pattern, const char *event)
{
    if (!pattern || !event) return false;
    if (!strcmp(pattern, event)) return true;
    size_t n = strlen(pattern);
    /* "s3:ObjectCreated:*" matches every "s3:ObjectCreated:<x>" */
    return n > 2 && !strcmp(pattern + n - 2, ":*") && !strncmp(pattern, event, n - 1) &&
           event[n - 1];
}

bool nb_s3_event_filter_matches(json_t *cfg, const char *key, size_t n)
{
    json_t *rules =
        json_object_get(json_object_get(json_object_get(cfg, "Filter"), "Key"), "FilterRules");
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        const char *name = json_string_value(json_object_get(r, "Name"));
        json_t *vj = json_object_get(r, "Value");
        const char *v = json_string_value(vj);
        if (!name || !v) continue;
        size_t vn = json_string_length(vj);
        /* rule names are case-insensitive (AWS accepts "Prefix"), values are not */
        if (!strcasecmp(name, "prefix")) {
            if (vn > n || memcmp(key, v, vn) != 0) return false;
        } else if (!strcasecmp(name, "suffix")) {
            if (vn > n || memcmp(key + n - vn, v, vn) != 0) return false;
        }
    }
    return true;
}

/* AWS shows the account's customer id (e.g. "A3NL1KOZZKEXAMPLE") for root callers and bucket
 * owners; ours is derived from the canonical id, so it is stable and the same for both. */
static void customer_id(const char *account, char out[16])
{
    char canon[65];
    nb_s3_canonical_id(account, canon);
    out[0] = 'A';
    for (int i = 0; i < 13; i++) {
        char ch = canon[i];
        out[i + 1] = (ch >= 'a' && ch <= 'f') ? (char)(ch - 'a' + 'A') : ch;
    }
    out[14] = 0;
}

/* Increases with every event, across keys and restarts (seeded by the region clock, which
 * never runs backwards): AWS only promises order per key, which this implies. */
static uint64_t next_sequencer(void)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static uint64_t last;
    uint64_t now = (uint64_t)nb_clock_now_us();
    pthread_mutex_lock(&mu);
    last = now > last ? now : last + 1;
    uint64_t v = last;
    pthread_mutex_unlock(&mu);
    return v;
}

/* ---------------------------------------------------------------- configuration cache */

/* The stored notification document of a bucket, cached against the bucket-configuration
 * cache's generation (policy.c bumps it on every configuration write, bucket creation and
 * deletion), so a PUT into a bucket without notifications reads nothing from the store. */
typedef struct conf_slot {
    char bucket[64];
    uint64_t gen;
    json_t *conf; /* NULL = no configuration */
    char owner[16];
} conf_slot;

#define CONF_SLOTS 256
static conf_slot conf_cache[CONF_SLOTS];
static pthread_mutex_t conf_mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned slot_of(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h % CONF_SLOTS;
}

/* The configuration of bucket (new reference) and its owner, NULL when it has none. */
static json_t *conf_get(const char *bucket, char owner[16])
{
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(bucket);
    if (!cfg) return NULL;
    uint64_t gen = cfg->gen;
    snprintf(owner, 16, "%s", cfg->owner);
    nb_s3_bcfg_put(cfg);
    conf_slot *s = &conf_cache[slot_of(bucket)];
    pthread_mutex_lock(&conf_mu);
    if (s->gen == gen && !strcmp(s->bucket, bucket)) {
        json_t *c = json_incref(s->conf);
        pthread_mutex_unlock(&conf_mu);
        return c;
    }
    pthread_mutex_unlock(&conf_mu);
    nb_arena *a = nb_arena_new(4096);
    if (!a) return NULL;
    const char *text = NULL;
    json_t *conf = NULL;
    if (nb_s3_cfg_get(bucket, "notification", a, &text) != NB_S3_OK) {
        nb_error("s3: notification configuration of %s unreadable: its events are lost", bucket);
        nb_arena_free(a);
        return NULL;
    }
    if (text) conf = json_loads(text, 0, NULL);
    nb_arena_free(a);
    pthread_mutex_lock(&conf_mu);
    /* gen was read before the configuration: a write in between leaves a stale gen here,
     * which only costs a reload next time */
    json_decref(s->conf);
    snprintf(s->bucket, sizeof s->bucket, "%s", bucket);
    s->gen = gen;
    s->conf = json_incref(conf);
    pthread_mutex_unlock(&conf_mu);
    return conf;
}

/* ---------------------------------------------------------------- restore details */

typedef struct restore_q {
    const char *bucket, *key, *version;
    size_t key_len;
    double expiry;
    char cls[32];
} restore_q;

static int restore_read(sqlite3 *h, void *arg)
{
    restore_q *q = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT a.restore_expiry, o.storage_class FROM objects o"
                                     " JOIN s3_archive a ON a.object_id = o.id"
                                     " WHERE o.bucket = ? AND o.key = ? AND o.version_id = ?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, q->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, q->key, (int)q->key_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->version, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        q->expiry = sqlite3_column_double(st, 0);
        const unsigned char *c = sqlite3_column_text(st, 1);
        snprintf(q->cls, sizeof q->cls, "%s", c ? (const char *)c : "GLACIER");
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ObjectRestore:Completed records carry glacierEventData: when the restored copy expires and
 * the class it was restored from (archive.c's s3_archive row of the version). NULL when the
 * version is gone or was never archived. */
static json_t *glacier_event_data(const char *bucket, const char *key, size_t key_len,
                                  const char *version)
{
    restore_q q = {bucket, key, version && *version ? version : "null", key_len, 0, ""};
    if (nb_db_read(nb_s3_store_db(nb_s3_g), restore_read, &q) != SQLITE_OK || !q.cls[0])
        return NULL;
    char when[32];
    nb_s3_event_time(q.expiry, when);
    return json_pack("{s:{s:s,s:s}}", "restoreEventData", "lifecycleRestorationExpiryTime", when,
                     "lifecycleRestoreStorageClass", q.cls);
}

/* ---------------------------------------------------------------- delivery */

static const struct {
    const char *list, *arn, *kind;
} kinds[] = {{"TopicConfigurations", "TopicArn", "topic"},
             {"QueueConfigurations", "QueueArn", "queue"},
             {"LambdaFunctionConfigurations", "LambdaFunctionArn", "function"}};

/* Send body to one destination; 0 or a negative errno. Store failures are retried briefly. */
static int deliver(int kind, const char *arn, const char *body)
{
    int rc = -EIO;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (attempt) usleep(20000u << attempt);
        if (kind == 0)
            rc = nb_sns_publish_internal(arn, "Amazon S3 Notification", body, NULL, NULL, NULL,
                                         NULL);
        else
            rc = nb_sqs_send_simple(arn, body);
        if (rc != -EIO) break;
    }
    return rc;
}

static const char *why(int rc)
{
    switch (rc) {
    case -ENOENT: return "the destination does not exist";
    case -EINVAL: return "the destination refused it (FIFO destinations are not supported)";
    default: return "the destination's store failed";
    }
}

/* Who caused an event, and the request that did. */
typedef struct ev_who {
    const char *principal;
    const char *source_ip;
    const char *request_id;
} ev_who;

static void who_of_call(nb_call *c, ev_who *w, char buf[200]);

/* w NULL: the principal is c's, worked out only when a destination matches (most writes go to
 * buckets without notifications, and the canonical id costs a hash). */
static void emit(nb_call *c, const ev_who *w, const char *event, const char *bucket,
                 const char *key, size_t key_len, const char *version_id, int64_t size,
                 const char *etag)
{
    if (!bucket || !key || !event) return;
    ev_who cw;
    char cbuf[200];
    char owner[16] = "";
    json_t *conf = conf_get(bucket, owner);
    if (!conf) return;
    json_t *rec = NULL, *s3 = NULL;
    char seq[24] = "";
    for (int k = 0; k < 3; k++) {
        json_t *list = json_object_get(conf, kinds[k].list);
        size_t i;
        json_t *cfg;
        json_array_foreach(list, i, cfg)
        {
            json_t *evs = json_object_get(cfg, "Events");
            bool hit = false;
            size_t j;
            json_t *e;
            json_array_foreach(evs, j, e) hit |= nb_s3_event_name_matches(json_string_value(e), event);
            if (!hit || !nb_s3_event_filter_matches(cfg, key, key_len)) continue;
            const char *arn = json_string_value(json_object_get(cfg, kinds[k].arn));
            if (!arn) continue;
            if (!rec) {
                /* built once, on the first destination: most writes match none */
                if (!w) {
                    who_of_call(c, &cw, cbuf);
                    w = &cw;
                }
                snprintf(seq, sizeof seq, "%018" PRIX64, next_sequencer());
                char when[32], host[80], okey[16];
                nb_s3_event_time(nb_clock_now_f(), when);
                nb_host_id(w->request_id, host);
                customer_id(owner, okey);
                nb_buf kb;
                nb_buf_init(&kb);
                if (nb_s3_event_key(&kb, key, key_len) < 0 || nb_buf_putc(&kb, 0) < 0) {
                    nb_buf_free(&kb);
                    break;
                }
                json_t *obj = json_pack("{s:s}", "key", kb.data);
                nb_buf_free(&kb);
                /* removals carry no size or eTag (AWS's records do not) */
                bool removal = !strncmp(event, "s3:ObjectRemoved:", 17) ||
                               !strncmp(event, "s3:LifecycleExpiration:", 23);
                if (!removal && size >= 0) json_object_set_new(obj, "size", json_integer(size));
                if (!removal && etag && *etag) json_object_set_new(obj, "eTag", json_string(etag));
                if (version_id && *version_id && strcmp(version_id, "null") != 0)
                    json_object_set_new(obj, "versionId", json_string(version_id));
                json_object_set_new(obj, "sequencer", json_string(seq));
                s3 = json_pack("{s:s,s:s,s:{s:s,s:{s:s},s:s+},s:o}", "s3SchemaVersion", "1.0",
                               "configurationId", "", "bucket", "name", bucket, "ownerIdentity",
                               "principalId", okey, "arn", "arn:aws:s3:::", bucket, "object",
                               obj);
                json_t *r = json_pack(
                    "{s:s,s:s,s:s,s:s,s:s,s:{s:s},s:{s:s},s:{s:s,s:s},s:O}", "eventVersion", "2.1",
                    "eventSource", "aws:s3", "awsRegion", nb_s3_region, "eventTime", when,
                    "eventName", event + 3, "userIdentity", "principalId", w->principal,
                    "requestParameters", "sourceIPAddress", w->source_ip, "responseElements",
                    "x-amz-request-id", w->request_id, "x-amz-id-2", host, "s3", s3);
                if (r && !strcmp(event, "s3:ObjectRestore:Completed")) {
                    json_t *g = glacier_event_data(bucket, key, key_len, version_id);
                    if (g) json_object_set_new(r, "glacierEventData", g);
                }
                rec = r ? json_pack("{s:[o]}", "Records", r) : NULL;
                if (!rec) {
                    nb_error("s3: event %s of %s: out of memory building it: not delivered", event,
                             bucket);
                    json_decref(s3);
                    json_decref(conf);
                    return;
                }
            }
            const char *id = json_string_value(json_object_get(cfg, "Id"));
            json_object_set_new(s3, "configurationId", json_string(id ? id : ""));
            if (k == 2) {
                nb_info("s3: event %s of %s (sequencer %s) for function %s skipped: no Lambda"
                        " service yet",
                        event, bucket, seq, arn);
                continue;
            }
            char *body = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
            int rc = body ? deliver(k, arn, body) : -ENOMEM;
            free(body);
            if (rc)
                nb_error("s3: event %s of %s (key %.*s, sequencer %s) not delivered to %s %s: %s",
                         event, bucket, (int)(key_len > 200 ? 200 : key_len), key, seq,
                         kinds[k].kind, arn, rc == -ENOMEM ? "out of memory" : why(rc));
        }
    }
    json_decref(s3);
    json_decref(rec);
    json_decref(conf);
}

/* ---------------------------------------------------------------- the hooks */

static void who_of_call(nb_call *c, ev_who *w, char buf[200])
{
    switch (c->who.type) {
    case NB_PRINCIPAL_ROOT: customer_id(c->who.account, buf); break;
    case NB_PRINCIPAL_ANONYMOUS: snprintf(buf, 200, "ANONYMOUS_PRINCIPAL"); break;
    default: snprintf(buf, 200, "AWS:%s", c->who.user_id); break;
    }
    w->principal = buf;
    w->source_ip = c->http && c->http->peer_ip[0] ? c->http->peer_ip : "127.0.0.1";
    w->request_id = c->request_id ? c->request_id : "";
}

void nb_s3_event_call(nb_call *c, const char *event, const char *bucket, const char *key,
                      size_t key_len, const char *version_id, int64_t size, const char *etag)
{
    emit(c, NULL, event, bucket, key, key_len, version_id, size, etag);
}

void nb_s3_event_created(nb_call *c, const char *event, const char *bucket,
                         const nb_s3_object *o)
{
    nb_s3_event_call(c, event, bucket, o->key, o->key_len, o->version_id, o->size, o->etag);
}

void nb_s3_event_deleted(nb_call *c, const char *bucket, const nb_s3_del *d)
{
    bool marker = d->out_marker && !d->version_id; /* removing a marker by id is a Delete */
    nb_s3_event_call(c, marker ? "s3:ObjectRemoved:DeleteMarkerCreated" : "s3:ObjectRemoved:Delete",
                     bucket, d->key, d->key_len, d->out_version, -1, NULL);
}

/* Background events (lifecycle.c, archive.c): S3 itself is the principal, as AWS shows it. */
void nb_s3_event(const char *bucket, const char *event, const char *key, size_t key_len,
                 const char *version_id, int64_t size, const char *etag)
{
    char rid[17];
    nb_random_hex(rid, 16);
    rid[16] = 0;
    for (char *p = rid; *p; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    ev_who w = {"s3.amazonaws.com", "s3.amazonaws.com", rid};
    emit(NULL, &w, event, bucket, key, key_len, version_id, size, etag);
}

void nb_s3_event_test(nb_call *c, const char *bucket, json_t *conf)
{
    if (!conf) return;
    char when[32], host[80];
    const char *rid = c->request_id ? c->request_id : "";
    nb_s3_event_time(nb_clock_now_f(), when);
    nb_host_id(rid, host);
    json_t *msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "Service", "Amazon S3", "Event",
                            "s3:TestEvent", "Time", when, "Bucket", bucket, "RequestId", rid,
                            "HostId", host);
    char *body = msg ? json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(msg);
    if (!body) {
        nb_error("s3: test event of %s: out of memory: not sent", bucket);
        return;
    }
    for (int k = 0; k < 2; k++) {
        json_t *list = json_object_get(conf, kinds[k].list);
        size_t i;
        json_t *cfg;
        json_array_foreach(list, i, cfg)
        {
            const char *arn = json_string_value(json_object_get(cfg, kinds[k].arn));
            if (!arn) continue;
            int rc = deliver(k, arn, body);
            if (rc) nb_warn("s3: test event of %s not sent to %s %s: %s", bucket, kinds[k].kind, arn, why(rc));
        }
    }
    free(body);
}
