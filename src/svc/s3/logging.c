/* logging.c: S3 server access logging: Put/GetBucketLogging with AWS's checks of the target
 * bucket, one record per request to a logging bucket in AWS's log format
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html), gathered in memory
 * and delivered as objects "<TargetPrefix>YYYY-mm-DD-HH-MM-SS-<UniqueString>" into the target
 * bucket: every --s3-log-interval seconds of region time, when a batch grows past 1 MiB, on
 * POST /_nimbus/s3/logging/flush, and at shutdown.
 *
 * Records are made by the service's request_done hook, which the dispatcher calls on the loop
 * thread once the answer is complete (status, bytes and times known): formatting a line and
 * appending it under a mutex, nothing that blocks. Delivery runs on the scheduler (or the
 * admin worker) and writes through the store like a PUT, as S3 itself (no record is made for
 * it, so a bucket logging into itself does not feed itself). Like AWS's, delivery is best
 * effort: records pending at a crash are lost, a target bucket deleted meanwhile loses its
 * batch (logged). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/sched.h"
#include "iam/creds.h"
#include "svc/s3/bucketcfg.h"
#include "svc/s3/lifecycle.h"

/* ---------------------------------------------------------------- configuration */

/* Member of the stored LoggingEnabled document holding the TargetGrants resolved into ACL
 * grants (what delivered log objects get); not part of GetBucketLogging's answer. */
#define GRANTS_RESOLVED "_Grants"

static int invalid_target(nb_call *c, const char *msg, const char *target)
{
    return nb_s3_error(c, 400, "InvalidTargetBucketForLogging", msg, "TargetBucket", target,
                       NULL);
}

/* TargetGrants: grantees of the kinds S3 knows, permissions logging accepts, each resolved as
 * an ACL grant is (an unknown canonical id, e-mail address or group is refused as AWS refuses it
 * in an ACL) into *resolved: the grants the delivered log objects get. */
static int check_grants(nb_call *c, json_t *grants, json_t *resolved)
{
    size_t i;
    json_t *g;
    json_array_foreach(grants, i, g)
    {
        json_t *who = json_object_get(g, "Grantee");
        const char *type = json_string_value(json_object_get(who, "Type"));
        const char *perm = json_string_value(json_object_get(g, "Permission"));
        if (!type || !perm) return nb_s3_malformed_xml(c);
        if (strcmp(perm, "FULL_CONTROL") && strcmp(perm, "READ") && strcmp(perm, "WRITE"))
            return nb_s3_malformed_xml(c);
        const char *need = !strcmp(type, "CanonicalUser")           ? "ID"
                           : !strcmp(type, "Group")                 ? "URI"
                           : !strcmp(type, "AmazonCustomerByEmail") ? "EmailAddress"
                                                                    : NULL;
        if (!need) return nb_s3_malformed_xml(c);
        const char *value = json_string_value(json_object_get(who, need));
        if (!value)
            return nb_s3_error(c, 400, "InvalidArgument",
                               nb_arena_printf(c->arena, "Invalid id: grantee of type %s needs %s",
                                               type, need),
                               NULL);
        if (nb_s3_acl_grantee(c, resolved, type, value, perm)) return -1; /* acl.c */
    }
    return 0;
}

/* AWS's checks of the target bucket (and of the key format) for PutBucketLogging. */
static int check_target(nb_call *c, const nb_s3_bucket *b, const char *target, bool has_grants,
                        json_t *le)
{
    nb_s3_bucket t;
    int rc = nb_s3_bucket_get(nb_s3_g, target, &t, NULL);
    if (rc == NB_S3_NO_BUCKET)
        return invalid_target(c, "The target bucket for logging does not exist", target);
    if (rc) return nb_s3_store_error(c, rc, target, NULL);
    if (strcmp(t.account, b->account) != 0)
        return invalid_target(c,
                              "The owner for the bucket to be logged and the target bucket must be"
                              " the same.",
                              target);
    /* AWS's code has the typo, and the message its trailing space */
    if (strcmp(t.region, b->region) != 0)
        return nb_s3_error(c, 403, "CrossLocationLoggingProhibitted",
                           "Cross S3 location logging not allowed. ", "TargetBucketLocation",
                           t.region, NULL);
    const nb_s3_bcfg *tc = nb_s3_bcfg_get(target);
    bool enforced = tc && tc->ownership == NB_S3_OWN_ENFORCED;
    bool payer = tc && tc->requester_pays;
    nb_s3_bcfg_put(tc);
    if (payer)
        return invalid_target(c, "The target bucket for logging cannot have Requester Pays"
                                 " enabled.", target);
    /* AWS: a bucket with an Object Lock default retention period can not receive logs */
    json_t *lock = NULL;
    if (t.object_lock && nb_s3_cfg_load(c, target, "object_lock", &lock)) return -1;
    bool retained = json_object_get(json_object_get(lock, "Rule"), "DefaultRetention") != NULL;
    json_decref(lock);
    if (retained)
        return invalid_target(c, "The target bucket for logging cannot have an Object Lock default"
                                 " retention period.", target);
    /* AWS: buckets with the bucket owner enforced setting for Object Ownership don't support
     * target grants (log objects belong to the target's owner, ACLs are off). */
    if (has_grants && enforced)
        return nb_s3_error(c, 400, "AccessControlListNotSupported",
                           "The target bucket does not allow ACLs. Target grants are not supported"
                           " for buckets with Object Ownership set to bucket owner enforced.",
                           NULL);
    json_t *fmt = json_object_get(le, "TargetObjectKeyFormat");
    if (fmt) {
        json_t *simple = json_object_get(fmt, "SimplePrefix");
        json_t *part = json_object_get(fmt, "PartitionedPrefix");
        const char *src = json_string_value(json_object_get(part, "PartitionDateSource"));
        /* one of the two; PartitionDateSource EventTime or DeliveryTime */
        if (!json_is_object(fmt) || (simple != NULL) == (part != NULL) ||
            (part && !json_is_object(part)) ||
            (src && strcmp(src, "EventTime") && strcmp(src, "DeliveryTime")))
            return nb_s3_malformed_xml(c);
    }
    return 0;
}

int nb_s3_op_put_bucket_logging(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *st = json_object_get(c->input, "BucketLoggingStatus");
    if (!json_is_object(st)) return nb_s3_malformed_xml(c);
    json_t *le = json_object_get(st, "LoggingEnabled");
    if (!json_is_object(le) || !json_object_size(le)) {
        /* an empty BucketLoggingStatus turns logging off */
        if (nb_s3_cfg_store(c, b.name, "logging", NULL)) return -1;
        return 0;
    }
    const char *target = json_string_value(json_object_get(le, "TargetBucket"));
    json_t *prefix = json_object_get(le, "TargetPrefix");
    if (!target || !json_is_string(prefix)) return nb_s3_malformed_xml(c);
    json_t *grants = json_object_get(le, "TargetGrants");
    if (grants && !json_is_array(grants)) return nb_s3_malformed_xml(c);
    json_t *resolved = json_array();
    if (!resolved) return nb_s3_nomem(c);
    if (check_grants(c, grants, resolved)) {
        json_decref(resolved);
        return -1;
    }
    int rc = check_target(c, &b, target, json_array_size(grants) > 0, le);
    if (rc) {
        json_decref(resolved);
        return rc;
    }
    json_t *doc = json_pack("{s:s,s:O}", "TargetBucket", target, "TargetPrefix", prefix);
    json_t *fmt = json_object_get(le, "TargetObjectKeyFormat");
    /* TargetGrants as sent (GetBucketLogging answers them so), and resolved for delivery */
    if (json_array_size(grants)) {
        json_object_set(doc, "TargetGrants", grants);
        json_object_set(doc, GRANTS_RESOLVED, resolved);
    }
    json_decref(resolved);
    if (fmt) json_object_set(doc, "TargetObjectKeyFormat", fmt);
    rc = nb_s3_cfg_store(c, b.name, "logging", doc);
    json_decref(doc);
    return rc;
}

int nb_s3_op_get_bucket_logging(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *d = NULL;
    if (nb_s3_cfg_load(c, b.name, "logging", &d)) return -1;
    json_object_del(d, GRANTS_RESOLVED);
    /* logging off: an empty BucketLoggingStatus */
    c->output = d ? json_pack("{s:o}", "LoggingEnabled", d) : json_object();
    return 0;
}

/* ---------------------------------------------------------------- records */

/* Records waiting for delivery, one batch per source bucket and destination. */
typedef struct batch {
    struct batch *next;
    char source[64];
    char owner[16]; /* the source bucket's account */
    char target[64];
    char *prefix;
    /* TargetObjectKeyFormat: 0 SimplePrefix, 1 PartitionedPrefix by event time, 2 by delivery
     * time */
    int format;
    double first; /* region time of the first record (event time partitions) */
    nb_buf lines;
} batch;

#define BATCH_MAX (1 << 20) /* deliver early past this many bytes */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static batch *pending;
static bool kick_planned;
static uint64_t timer;
static pthread_mutex_t flush_mu = PTHREAD_MUTEX_INITIALIZER; /* one delivery at a time */

static void batch_free(batch *b)
{
    free(b->prefix);
    nb_buf_free(&b->lines);
    free(b);
}

/* The resource type of AWS's operation field ("REST.GET.VERSIONING") by operation name; those
 * not listed are OBJECT when they name a key, else BUCKET. */
static const struct {
    const char *op, *kind;
} kinds[] = {
    {"ListObjects", "BUCKET"},
    {"ListObjectsV2", "BUCKET"},
    {"ListObjectVersions", "BUCKETVERSIONS"},
    {"CreateMultipartUpload", "UPLOADS"},
    {"ListMultipartUploads", "UPLOADS"},
    {"UploadPart", "PART"},
    {"UploadPartCopy", "PART"},
    {"CompleteMultipartUpload", "UPLOAD"},
    {"AbortMultipartUpload", "UPLOAD"},
    {"ListParts", "UPLOAD"},
    {"DeleteObjects", "MULTI_OBJECT_DELETE"},
    {"GetBucketVersioning", "VERSIONING"},
    {"PutBucketVersioning", "VERSIONING"},
    {"GetBucketLocation", "LOCATION"},
    {"GetBucketTagging", "TAGGING"},
    {"PutBucketTagging", "TAGGING"},
    {"DeleteBucketTagging", "TAGGING"},
    {"GetObjectTagging", "OBJECT_TAGGING"},
    {"PutObjectTagging", "OBJECT_TAGGING"},
    {"DeleteObjectTagging", "OBJECT_TAGGING"},
    {"GetBucketAcl", "ACL"},
    {"PutBucketAcl", "ACL"},
    {"GetObjectAcl", "ACL"},
    {"PutObjectAcl", "ACL"},
    {"GetBucketPolicy", "BUCKETPOLICY"},
    {"PutBucketPolicy", "BUCKETPOLICY"},
    {"DeleteBucketPolicy", "BUCKETPOLICY"},
    {"GetBucketPolicyStatus", "BUCKETPOLICYSTATUS"},
    {"GetBucketCors", "CORS"},
    {"PutBucketCors", "CORS"},
    {"DeleteBucketCors", "CORS"},
    {"GetBucketWebsite", "WEBSITE"},
    {"PutBucketWebsite", "WEBSITE"},
    {"DeleteBucketWebsite", "WEBSITE"},
    {"GetBucketLifecycleConfiguration", "LIFECYCLE"},
    {"PutBucketLifecycleConfiguration", "LIFECYCLE"},
    {"DeleteBucketLifecycle", "LIFECYCLE"},
    {"GetBucketNotificationConfiguration", "NOTIFICATION"},
    {"PutBucketNotificationConfiguration", "NOTIFICATION"},
    {"GetBucketEncryption", "ENCRYPTION"},
    {"PutBucketEncryption", "ENCRYPTION"},
    {"DeleteBucketEncryption", "ENCRYPTION"},
    {"GetBucketLogging", "LOGGING_STATUS"},
    {"PutBucketLogging", "LOGGING_STATUS"},
    {"GetBucketAccelerateConfiguration", "ACCELERATE"},
    {"PutBucketAccelerateConfiguration", "ACCELERATE"},
    {"GetBucketRequestPayment", "REQUEST_PAYMENT"},
    {"PutBucketRequestPayment", "REQUEST_PAYMENT"},
    {"GetBucketOwnershipControls", "OWNERSHIP_CONTROLS"},
    {"PutBucketOwnershipControls", "OWNERSHIP_CONTROLS"},
    {"DeleteBucketOwnershipControls", "OWNERSHIP_CONTROLS"},
    {"GetPublicAccessBlock", "PUBLIC_ACCESS_BLOCK"},
    {"PutPublicAccessBlock", "PUBLIC_ACCESS_BLOCK"},
    {"DeletePublicAccessBlock", "PUBLIC_ACCESS_BLOCK"},
    {"GetBucketReplication", "REPLICATION"},
    {"DeleteBucketReplication", "REPLICATION"},
    {"GetObjectLockConfiguration", "OBJECT_LOCK_CONFIGURATION"},
    {"PutObjectLockConfiguration", "OBJECT_LOCK_CONFIGURATION"},
    {"GetObjectRetention", "RETENTION"},
    {"PutObjectRetention", "RETENTION"},
    {"GetObjectLegalHold", "LEGAL_HOLD"},
    {"PutObjectLegalHold", "LEGAL_HOLD"},
    {"GetObjectAttributes", "OBJECT_ATTRIBUTES"},
    {"RestoreObject", "RESTORE"},
    {"GetBucketAnalyticsConfiguration", "ANALYTICS"},
    {"PutBucketAnalyticsConfiguration", "ANALYTICS"},
    {"DeleteBucketAnalyticsConfiguration", "ANALYTICS"},
    {"ListBucketAnalyticsConfigurations", "ANALYTICS"},
    {"GetBucketInventoryConfiguration", "INVENTORY"},
    {"PutBucketInventoryConfiguration", "INVENTORY"},
    {"DeleteBucketInventoryConfiguration", "INVENTORY"},
    {"ListBucketInventoryConfigurations", "INVENTORY"},
    {"GetBucketMetricsConfiguration", "METRICS"},
    {"PutBucketMetricsConfiguration", "METRICS"},
    {"DeleteBucketMetricsConfiguration", "METRICS"},
    {"ListBucketMetricsConfigurations", "METRICS"},
    {"GetBucketIntelligentTieringConfiguration", "INTELLIGENT_TIERING"},
    {"PutBucketIntelligentTieringConfiguration", "INTELLIGENT_TIERING"},
    {"DeleteBucketIntelligentTieringConfiguration", "INTELLIGENT_TIERING"},
    {"ListBucketIntelligentTieringConfigurations", "INTELLIGENT_TIERING"},
    {"PostObject", "OBJECT"}, /* browser POST upload: the key is in the form */
    {"HeadBucket", "BUCKET"},
    {"CreateBucket", "BUCKET"},
    {"DeleteBucket", "BUCKET"},
};

static const char *op_kind(const char *op, bool has_key)
{
    for (size_t i = 0; op && i < NB_ARRAY_LEN(kinds); i++)
        if (!strcmp(kinds[i].op, op)) return kinds[i].kind;
    return has_key ? "OBJECT" : "BUCKET";
}

/* "-" for an empty or missing field, as every field of the format. */
static void field(nb_buf *b, const char *s, size_t n)
{
    nb_buf_putc(b, ' ');
    if (!s || !n) {
        nb_buf_putc(b, '-');
        return;
    }
    for (size_t i = 0; i < n; i++) /* a record is one line whatever a header held */
        nb_buf_putc(b, s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
}

static void field_s(nb_buf *b, const char *s) { field(b, s, s ? strlen(s) : 0); }

static void field_num(nb_buf *b, int64_t v)
{
    if (v <= 0)
        nb_buf_append(b, " -", 2);
    else
        nb_buf_printf(b, " %" PRId64, v);
}

static void field_quoted(nb_buf *b, const char *s, size_t n)
{
    nb_buf_append(b, " \"", 2);
    if (!s || !n) nb_buf_putc(b, '-');
    for (size_t i = 0; s && i < n; i++)
        nb_buf_putc(b, s[i] == '"' ? '\'' : s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
    nb_buf_putc(b, '"');
}

static int64_t header_int(const nb_req *r, const char *name)
{
    size_t n;
    const char *v = nb_req_header(r, name, &n);
    if (!v || !n || n > 20) return -1;
    char tmp[24];
    memcpy(tmp, v, n);
    tmp[n] = 0;
    return strtoll(tmp, NULL, 10);
}

/* Object Size: the whole object's size where the operation names one. */
static int64_t object_size(nb_call *c, const nb_req *r)
{
    const char *op = c->op_name ? c->op_name : "";
    if (!strcmp(op, "GetObject") || !strcmp(op, "HeadObject")) {
        const char *range = json_string_value(json_object_get(c->output, "ContentRange"));
        const char *slash = range ? strrchr(range, '/') : NULL;
        if (slash && slash[1] != '*') return strtoll(slash + 1, NULL, 10);
        json_t *cl = json_object_get(c->output, "ContentLength");
        return json_is_integer(cl) ? json_integer_value(cl) : -1;
    }
    if (!strcmp(op, "PutObject") || !strcmp(op, "UploadPart")) {
        int64_t v = header_int(r, "x-amz-decoded-content-length");
        return v >= 0 ? v : header_int(r, "content-length");
    }
    return -1;
}

static void queue_record(const nb_s3_bcfg *cfg, nb_buf *line, double t);

void nb_s3_request_done(nb_call *c, const char *path, size_t path_len, const nb_req_done *d)
{
    nb_req *r = c->http;
    if (!r) return;
    const char *bucket = c->input ? nb_in_str(c, "Bucket") : NULL;
    char pb[64];
    if (!bucket) { /* refused before its input was decoded: the path names it */
        size_t i = path_len && path[0] == '/' ? 1 : 0, j = i;
        while (j < path_len && path[j] != '/') j++;
        if (j == i || j - i >= sizeof pb) return;
        memcpy(pb, path + i, j - i);
        pb[j - i] = 0;
        bucket = pb;
    }
    if (!nb_s3_bucket_name_valid(bucket)) return;
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(bucket);
    if (!cfg) return;
    if (!cfg->logging) {
        nb_s3_bcfg_put(cfg);
        return;
    }
    nb_buf b;
    nb_buf_init(&b);
    char canon[65];
    nb_s3_canonical_id(cfg->owner, canon);
    nb_buf_append(&b, canon, strlen(canon));
    field_s(&b, bucket);
    /* [06/Feb/2019:00:00:38 +0000]: when the request was received, region time */
    double t = nb_clock_now_f() - (double)d->total_us / 1e6;
    time_t sec = (time_t)t;
    struct tm tm;
    gmtime_r(&sec, &tm);
    char when[40];
    strftime(when, sizeof when, " [%d/%b/%Y:%H:%M:%S +0000]", &tm);
    nb_buf_append(&b, when, strlen(when));
    field_s(&b, r->peer_ip);
    /* Requester: the canonical id of a root caller, the ARN of an IAM identity, - anonymous */
    if (c->who.type == NB_PRINCIPAL_ANONYMOUS || !c->who.account[0]) {
        field_s(&b, NULL);
    } else if (c->who.type == NB_PRINCIPAL_ROOT) {
        char rc[65];
        nb_s3_canonical_id(c->who.account, rc);
        field_s(&b, rc);
    } else {
        field_s(&b, c->who.arn);
    }
    field_s(&b, r->request_id);
    size_t head_len = b.len; /* the fields every record of this request shares */
    size_t key_len = 0;
    const char *key = c->input ? nb_s3_in_key(c, &key_len) : NULL;
    const char *method = r->method;
    if ((c->op_name && !strcmp(c->op_name, "CopyObject")) ||
        (c->op_name && !strcmp(c->op_name, "UploadPartCopy")))
        method = "COPY";
    nb_buf_printf(&b, " REST.%s.%s", method, op_kind(c->op_name, key != NULL));
    if (key) {
        nb_buf_putc(&b, ' ');
        nb_url_encode(&b, key, key_len, true);
    } else {
        field_s(&b, NULL);
    }
    nb_buf_printf(&b, " \"%s %.*s HTTP/1.%d\"", r->method, (int)r->target_len, r->target,
                  r->http_minor);
    nb_buf_printf(&b, " %d", d->status);
    field_s(&b, d->status >= 300 && c->err.code[0] ? c->err.code : NULL);
    field_num(&b, (int64_t)d->body_out);
    field_num(&b, object_size(c, r));
    nb_buf_printf(&b, " %" PRId64, d->total_us / 1000);
    if (d->turnaround_us > 0)
        nb_buf_printf(&b, " %" PRId64, d->turnaround_us / 1000);
    else
        field_s(&b, NULL);
    size_t n;
    const char *h = nb_req_header(r, "referer", &n);
    size_t agent_at = b.len; /* referer and user agent, shared too */
    field_quoted(&b, h, h ? n : 0);
    h = nb_req_header(r, "user-agent", &n);
    field_quoted(&b, h, h ? n : 0);
    size_t agent_len = b.len - agent_at;
    field_s(&b, c->input ? nb_in_str(c, "VersionId") : NULL);
    size_t tail_at = b.len;
    char hid[80];
    nb_host_id(r->request_id, hid); /* x-amz-id-2 of the answer */
    field_s(&b, hid);
    const char *auth = nb_req_header(r, "authorization", NULL);
    bool query_auth = !auth && r->query_len &&
                      (strstr(r->query, "X-Amz-Signature=") || strstr(r->query, "Signature="));
    const char *sig = "-";
    if (auth)
        sig = !strncmp(auth, "AWS4-", 5) ? "SigV4" : "SigV2";
    else if (query_auth)
        sig = strstr(r->query, "X-Amz-Signature=") ? "SigV4" : "SigV2";
    field_s(&b, sig);
    field_s(&b, NULL); /* cipher suite: the TLS layer does not say which was negotiated */
    field_s(&b, auth ? "AuthHeader" : query_auth ? "QueryString" : NULL);
    h = nb_req_header(r, "host", &n);
    field(&b, h, h ? n : 0);
    field_s(&b, NULL); /* TLS version */
    field_s(&b, NULL); /* access point ARN: no access points here */
    field_s(&b, NULL); /* aclRequired: ACLs never decided a request of a logging bucket here */
    nb_buf_putc(&b, '\n');
    size_t tail_len = b.len - tail_at;
    /* DeleteObjects: AWS adds one BATCH.DELETE.OBJECT record per key it deleted */
    json_t *deleted = c->op_name && !strcmp(c->op_name, "DeleteObjects")
                          ? json_object_get(c->output, "Deleted")
                          : NULL;
    /* the shared pieces copied out: appending to b may move its bytes */
    char *shared = json_array_size(deleted) && b.data ? malloc(b.len) : NULL;
    if (shared) memcpy(shared, b.data, b.len);
    size_t i;
    json_t *e;
    json_array_foreach(shared ? deleted : NULL, i, e)
    {
        json_t *k = json_object_get(e, "Key");
        if (!json_is_string(k)) continue;
        nb_buf_append(&b, shared, head_len);
        nb_buf_append(&b, " BATCH.DELETE.OBJECT ", 21);
        nb_url_encode(&b, json_string_value(k), json_string_length(k), true);
        nb_buf_append(&b, " - 204 - - - - -", 16);
        nb_buf_append(&b, shared + agent_at, agent_len);
        field_s(&b, json_string_value(json_object_get(e, "VersionId")));
        nb_buf_append(&b, shared + tail_at, tail_len);
    }
    free(shared);
    queue_record(cfg, &b, t);
    nb_buf_free(&b);
    nb_s3_bcfg_put(cfg);
}

static void deliver_tick(void *arg);

static void queue_record(const nb_s3_bcfg *cfg, nb_buf *line, double t)
{
    const char *target = json_string_value(json_object_get(cfg->logging, "TargetBucket"));
    const char *prefix = json_string_value(json_object_get(cfg->logging, "TargetPrefix"));
    if (!target || !line->len) return;
    if (!prefix) prefix = "";
    json_t *part = json_object_get(json_object_get(cfg->logging, "TargetObjectKeyFormat"),
                                   "PartitionedPrefix");
    const char *src = json_string_value(json_object_get(part, "PartitionDateSource"));
    int format = !part ? 0 : src && !strcmp(src, "DeliveryTime") ? 2 : 1;
    pthread_mutex_lock(&mu);
    batch *b = pending;
    for (; b; b = b->next)
        if (!strcmp(b->source, cfg->bucket) && !strcmp(b->target, target) &&
            !strcmp(b->prefix, prefix) && b->format == format)
            break;
    if (!b) {
        b = calloc(1, sizeof *b);
        char *p = strdup(prefix);
        if (!b || !p) {
            free(b);
            free(p);
            pthread_mutex_unlock(&mu);
            return;
        }
        snprintf(b->source, sizeof b->source, "%s", cfg->bucket);
        snprintf(b->target, sizeof b->target, "%s", target);
        snprintf(b->owner, sizeof b->owner, "%s", cfg->owner);
        b->prefix = p;
        b->format = format;
        b->first = t;
        nb_buf_init(&b->lines);
        b->next = pending;
        pending = b;
    }
    nb_buf_append(&b->lines, line->data, line->len);
    bool kick = b->lines.len >= BATCH_MAX && !kick_planned;
    if (kick) kick_planned = true;
    pthread_mutex_unlock(&mu);
    if (kick) nb_sched_at(nb_clock_now_us(), deliver_tick, NULL);
}

/* ---------------------------------------------------------------- delivery */

/* nb_s3_put_internal, the new version getting acl (a stored ACL document) when not NULL */
static int put_internal(const char *bucket, const char *key, const void *data, size_t len,
                        const char *content_type, const char *acl);

int nb_s3_put_internal(const char *bucket, const char *key, const void *data, size_t len,
                       const char *content_type)
{
    return put_internal(bucket, key, data, len, content_type, NULL);
}

static int put_internal(const char *bucket, const char *key, const void *data, size_t len,
                        const char *content_type, const char *acl)
{
    nb_s3_bucket b;
    int rc = nb_s3_bucket_get(nb_s3_g, bucket, &b, NULL);
    if (rc) return rc;
    nb_s3_writer w;
    if (nb_s3_writer_start(nb_s3_store_content(nb_s3_g), &w, NB_CKSUM_NONE, NB_S3_INLINE_MAX,
                           NULL) < 0)
        return NB_S3_DBERR;
    unsigned char md5[16];
    if (nb_s3_writer_write(&w, data, len) < 0 || nb_s3_writer_finish(&w, md5, NULL, NULL) < 0) {
        nb_s3_writer_free(&w, true);
        return NB_S3_DBERR;
    }
    json_t *attrs = json_pack("{s:s}", "ContentType", content_type);
    char *attrs_s = attrs ? json_dumps(attrs, JSON_COMPACT) : NULL;
    json_decref(attrs);
    nb_s3_object o;
    memset(&o, 0, sizeof o);
    o.key = key;
    o.key_len = strlen(key);
    o.size = w.size;
    nb_hex(md5, 16, o.etag);
    o.last_modified = nb_clock_now_f();
    o.storage_class = "STANDARD";
    o.owner = b.account;
    o.attrs = attrs_s;
    o.blob = w.is_inline ? NULL : w.id;
    o.is_inline = w.is_inline;
    o.data = w.is_inline ? w.buf : NULL;
    o.data_len = (size_t)w.size;
    o.crcs = (const unsigned char *)w.crcs.data;
    o.crcs_len = w.crcs.len;
    nb_s3_put p = {.bucket = bucket, .o = &o};
    rc = attrs_s ? nb_s3_object_put(nb_s3_g, &p) : NB_S3_DBERR;
    nb_s3_writer_free(&w, rc != NB_S3_OK && !w.is_inline);
    free(attrs_s);
    if (rc == NB_S3_OK && acl) nb_s3_upload_acl_apply(&o, acl); /* acl.c */
    if (rc == NB_S3_OK)
        nb_s3_event(bucket, "s3:ObjectCreated:Put", key, o.key_len, o.version_id, o.size, o.etag);
    return rc;
}

/* AWS's keys: TargetPrefix + YYYY-mm-DD-HH-MM-SS- + a unique string of 16 characters; with
 * PartitionedPrefix, TargetPrefix + account/region/source bucket/YYYY/MM/DD/ before it, dated
 * by the first record (EventTime) or the delivery (DeliveryTime). */
static char *log_key(const batch *b)
{
    time_t now = b->format == 1 ? (time_t)b->first : (time_t)nb_clock_now();
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[300];
    int n = 0;
    if (b->format)
        n = snprintf(when, sizeof when, "%s/%s/%s/", b->owner, nb_s3_region, b->source);
    strftime(when + n, sizeof when - (size_t)n,
             b->format ? "%Y/%m/%d/%Y-%m-%d-%H-%M-%S-" : "%Y-%m-%d-%H-%M-%S-", &tm);
    unsigned char rnd[8];
    nb_random(rnd, sizeof rnd);
    char uniq[17];
    nb_hex(rnd, sizeof rnd, uniq);
    for (char *p = uniq; *p; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    size_t len = strlen(b->prefix) + strlen(when) + 17;
    char *k = malloc(len);
    if (k) snprintf(k, len, "%s%s%s", b->prefix, when, uniq);
    return k;
}

/* The ACL of a batch's log object: the target owner's full control and the source's
 * TargetGrants, as its logging configuration says now (NULL: the default ACL). */
static char *target_acl(const batch *b)
{
    const nb_s3_bcfg *src = nb_s3_bcfg_get(b->source);
    const nb_s3_bcfg *dst = src ? nb_s3_bcfg_get(b->target) : NULL;
    json_t *grants = src ? json_object_get(src->logging, GRANTS_RESOLVED) : NULL;
    const char *target = src ? json_string_value(json_object_get(src->logging, "TargetBucket")) : NULL;
    char *out = NULL;
    if (dst && json_array_size(grants) && target && !strcmp(target, b->target)) {
        char id[65];
        nb_canonical_user_id(dst->owner, id);
        json_t *all = json_pack("[{s:{s:s,s:s,s:s},s:s}]", "Grantee", "Type", "CanonicalUser", "ID", id,
                                "DisplayName", dst->owner, "Permission", "FULL_CONTROL");
        json_array_extend(all, grants);
        json_t *doc = json_pack("{s:s,s:o}", "Owner", dst->owner, "Grants", all);
        out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
    }
    nb_s3_bcfg_put(dst);
    nb_s3_bcfg_put(src);
    return out;
}

int nb_s3_logging_flush(void)
{
    pthread_mutex_lock(&flush_mu);
    pthread_mutex_lock(&mu);
    batch *list = pending;
    pending = NULL;
    pthread_mutex_unlock(&mu);
    int written = 0;
    while (list) {
        batch *b = list;
        list = b->next;
        char *key = log_key(b);
        char *acl = target_acl(b);
        int rc = key && nb_s3_g ? put_internal(b->target, key, b->lines.data, b->lines.len,
                                               "text/plain", acl)
                                : NB_S3_DBERR;
        free(acl);
        if (rc == NB_S3_OK)
            written++;
        else
            nb_warn("s3: access log of %s (%zu bytes) could not be delivered to %s (%d): dropped",
                    b->source, b->lines.len, b->target, rc);
        free(key);
        batch_free(b);
    }
    pthread_mutex_unlock(&flush_mu);
    return written;
}

static void deliver_tick(void *arg)
{
    bool one_shot = arg == NULL;
    if (one_shot) {
        pthread_mutex_lock(&mu);
        kick_planned = false;
        pthread_mutex_unlock(&mu);
    }
    nb_s3_logging_flush();
}

int nb_s3_logging_start(int interval_s)
{
    if (interval_s <= 0) interval_s = 300;
    static int periodic; /* a non-NULL argument tells the periodic timer from a kick */
    timer = nb_sched_every((int64_t)interval_s * 1000000, deliver_tick, &periodic);
    return 0;
}

void nb_s3_logging_stop(void)
{
    if (timer) nb_sched_cancel_sync(timer);
    timer = 0;
    nb_s3_logging_flush();
}

void nb_s3_logging_reset(void)
{
    pthread_mutex_lock(&mu);
    batch *list = pending;
    pending = NULL;
    pthread_mutex_unlock(&mu);
    while (list) {
        batch *b = list;
        list = b->next;
        batch_free(b);
    }
}

/* ---------------------------------------------------------------- admin */

static bool loopback(const nb_req *r)
{
    return strncmp(r->peer_ip, "127.", 4) == 0 || strcmp(r->peer_ip, "::1") == 0 ||
           strncmp(r->peer_ip, "::ffff:127.", 11) == 0;
}

static void flush_worker(nb_req *r)
{
    int n = nb_s3_logging_flush();
    char body[64];
    int len = snprintf(body, sizeof body, "{\"delivered\": %d}\n", n);
    nb_resp_simple(r, 200, "application/json", body, (size_t)len, NULL, 0);
}

bool nb_s3_cfg_admin(nb_req *r)
{
    nb_str p = {r->path, r->path_len};
    bool inventory = nb_str_eq(p, "/_nimbus/s3/inventory/run");
    if (!inventory && !nb_str_eq(p, "/_nimbus/s3/logging/flush")) return false;
    r->log_service = "s3";
    r->log_operation = inventory ? "InventoryRun" : "LoggingFlush";
    if (strcmp(r->method, "POST") != 0) {
        nb_resp_simple(r, 405, "application/json", "{\"error\":\"MethodNotAllowed\"}\n", 29,
                       NULL, 0);
    } else if (!loopback(r)) {
        nb_resp_simple(r, 403, "application/json", "{\"error\":\"AccessDenied\"}\n", 25, NULL, 0);
    } else {
        nb_req_offload(r, inventory ? nb_s3_inventory_admin : flush_worker);
    }
    return true;
}
