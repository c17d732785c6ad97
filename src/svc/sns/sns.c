/* sns.c: Amazon SNS (query protocol): topics (standard and FIFO), subscriptions with the
 * confirmation handshake, filter policies and delivery policies, Publish/PublishBatch with
 * per-protocol messages (MessageStructure=json), platform applications and endpoints, SMS
 * settings and the opt-out list, tags, topic policies (the resource policy the IAM evaluator
 * consults through the service's resource_policy hook), data protection policies; plus the
 * admin paths under /_nimbus/sns/ (signing certificate, confirmation and unsubscribe links,
 * the mailbox, recorded SMS/push/Lambda deliveries). State: <data>/sns/sns.db. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/hash.h"
#include "iam/authz.h"
#include "iam/policy.h"
#include "svc/sns/sns_internal.h"
#include "svc/sqs/sqs.h"

pthread_rwlock_t nb_sns_lock = PTHREAD_RWLOCK_INITIALIZER;
nb_db *nb_sns_db;
char nb_sns_region[64] = "us-east-1";
char nb_sns_dir[1100];
char nb_sns_default_base[300] = "http://localhost:4566";

static const char *const migrations[] = {
    "CREATE TABLE topics(arn TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, attrs TEXT NOT NULL,"
    " tags TEXT NOT NULL, dpp TEXT, created REAL NOT NULL);"
    "CREATE TABLE subs(arn TEXT PRIMARY KEY, topic_arn TEXT NOT NULL, owner TEXT NOT NULL, protocol TEXT NOT NULL,"
    " endpoint TEXT NOT NULL, attrs TEXT NOT NULL, confirmed INTEGER NOT NULL, token TEXT, base TEXT);"
    "CREATE TABLE apps(arn TEXT PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE TABLE endpoints(arn TEXT PRIMARY KEY, app_arn TEXT NOT NULL, doc TEXT NOT NULL);"
    "CREATE TABLE kv(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE records(id INTEGER PRIMARY KEY, protocol TEXT NOT NULL, endpoint TEXT NOT NULL, topic_arn TEXT,"
    " message_id TEXT, message TEXT, subject TEXT, created REAL NOT NULL);",
};

static sns_topic **topics;
static size_t ntopics, captopics;
static json_t *apps;      /* arn -> {"Name","Platform","Account","Attributes"} */
static json_t *endpoints; /* arn -> {"App","Attributes"} */
static json_t *kv;        /* "sms:<account>" -> attrs, "optout" -> {phone:1}, "sandbox:<account>" -> {} */

/* ---------------------------------------------------------------- store helpers */

struct dbx_job {
    const char *sql;
    const char *fmt;
    union {
        const char *s;
        int64_t i;
        double d;
    } v[12];
};

static int dbx_fn(sqlite3 *h, void *arg)
{
    struct dbx_job *j = arg;
    sqlite3_stmt *st = nb_db_stmt(h, j->sql);
    if (!st) return SQLITE_ERROR;
    for (int i = 0; j->fmt[i]; i++) {
        if (j->fmt[i] == 's')
            j->v[i].s ? sqlite3_bind_text(st, i + 1, j->v[i].s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i + 1);
        else if (j->fmt[i] == 'i')
            sqlite3_bind_int64(st, i + 1, j->v[i].i);
        else
            sqlite3_bind_double(st, i + 1, j->v[i].d);
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* One durable statement: fmt 's' string (NULL binds NULL), 'i' int64, 'd' double. */
static int dbx(const char *sql, const char *fmt, ...)
{
    struct dbx_job j = {.sql = sql, .fmt = fmt};
    va_list ap;
    va_start(ap, fmt);
    for (int i = 0; fmt[i] && i < 12; i++) {
        if (fmt[i] == 's')
            j.v[i].s = va_arg(ap, const char *);
        else if (fmt[i] == 'i')
            j.v[i].i = va_arg(ap, int64_t);
        else
            j.v[i].d = va_arg(ap, double);
    }
    va_end(ap);
    return nb_db_write(nb_sns_db, dbx_fn, &j) == SQLITE_OK ? 0 : -1;
}

static char *dumps(json_t *o) { return json_dumps(o ? o : json_object(), JSON_COMPACT); }

/* Persist a topic (lock held for reading at least). */
static int save_topic(sns_topic *t)
{
    char *a = dumps(t->attrs), *g = dumps(t->tags);
    int rc = dbx("INSERT OR REPLACE INTO topics(arn, account, name, attrs, tags, dpp, created) VALUES(?,?,?,?,?,?,?)",
                 "ssssssd", t->arn, t->account, t->name, a, g, t->dpp, nb_clock_now_f());
    free(a);
    free(g);
    return rc;
}

static int save_sub(sns_sub *s)
{
    char *a = dumps(s->attrs);
    int rc = dbx("INSERT OR REPLACE INTO subs(arn, topic_arn, owner, protocol, endpoint, attrs, confirmed, token, base)"
                 " VALUES(?,?,?,?,?,?,?,?,?)",
                 "ssssssiss", s->arn, s->topic_arn, s->owner, s->protocol, s->endpoint, a,
                 (int64_t)(s->confirmed | s->auth_confirmed << 1 | s->auth_unsub << 2),
                 s->token, s->base);
    free(a);
    return rc;
}

static int save_kv(const char *key)
{
    char *v = dumps(json_object_get(kv, key));
    int rc = dbx("INSERT OR REPLACE INTO kv(key, value) VALUES(?,?)", "ss", key, v);
    free(v);
    return rc;
}

/* ---------------------------------------------------------------- lookups (lock held) */

static sns_topic *topic_find(const char *arn)
{
    if (!arn) return NULL;
    for (size_t i = 0; i < ntopics; i++)
        if (!strcmp(topics[i]->arn, arn)) return topics[i];
    return NULL;
}

/* A subscription ARN is its topic's ARN + ":" + id. */
static sns_sub *sub_find(const char *arn, sns_topic **tp)
{
    if (!arn) return NULL;
    const char *colon = strrchr(arn, ':');
    if (!colon) return NULL;
    char tarn[300];
    snprintf(tarn, sizeof(tarn), "%.*s", (int)(colon - arn), arn);
    sns_topic *t = topic_find(tarn);
    if (!t) return NULL;
    for (size_t i = 0; i < t->nsubs; i++)
        if (!strcmp(t->subs[i]->arn, arn)) {
            if (tp) *tp = t;
            return t->subs[i];
        }
    return NULL;
}

static void sub_free(sns_sub *s)
{
    if (!s) return;
    free(s->endpoint);
    json_decref(s->attrs);
    nb_sns_filter_free(s->filter);
    free(s);
}

static void topic_free(sns_topic *t)
{
    for (size_t i = 0; i < t->nsubs; i++) sub_free(t->subs[i]);
    free(t->subs);
    json_decref(t->attrs);
    json_decref(t->tags);
    json_decref(t->dedup);
    free(t->dpp);
    free(t);
}

static int topic_add_sub(sns_topic *t, sns_sub *s)
{
    if (t->nsubs == t->capsubs) {
        size_t nc = t->capsubs ? t->capsubs * 2 : 8;
        sns_sub **ns = realloc(t->subs, nc * sizeof(*ns));
        if (!ns) return -1;
        t->subs = ns;
        t->capsubs = nc;
    }
    t->subs[t->nsubs++] = s;
    return 0;
}

/* Re-derive a subscription's compiled filter and flags from its attributes. */
static void sub_apply(sns_sub *s)
{
    nb_sns_filter_free(s->filter);
    s->filter = NULL;
    const char *fp = json_string_value(json_object_get(s->attrs, "FilterPolicy"));
    const char *scope = json_string_value(json_object_get(s->attrs, "FilterPolicyScope"));
    if (fp && *fp) {
        char err[300];
        s->filter = nb_sns_filter_parse(fp, strlen(fp), scope && !strcmp(scope, "MessageBody"), err, sizeof(err));
    }
    const char *raw = json_string_value(json_object_get(s->attrs, "RawMessageDelivery"));
    s->raw = raw && !strcasecmp(raw, "true");
}

/* ---------------------------------------------------------------- errors */

static int e_param(nb_call *c, const char *fmt, ...) NB_PRINTF(2, 3);
static int e_param(nb_call *c, const char *fmt, ...)
{
    char m[1000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    return nb_call_error(c, 400, "InvalidParameter", "%s", m);
}

/* arn:aws:sns:<region>:<12-digit account>:<name>[:<subscription id>]: AWS refuses a malformed
 * ARN as an invalid parameter, and says NotFound only for a well-formed one naming nothing. */
static bool arn_well_formed(const char *arn, bool sub)
{
    if (!arn || strncmp(arn, "arn:", 4) != 0) return false;
    const char *p = strchr(arn + 4, ':'); /* after the partition */
    if (!p || strncmp(p, ":sns:", 5) != 0) return false;
    p = strchr(p + 5, ':'); /* after the region */
    if (!p || strspn(p + 1, "0123456789") != 12 || p[13] != ':' || !p[14]) return false;
    const char *name = p + 14, *colon = strchr(name, ':');
    return sub ? colon && colon > name && colon[1] && !strchr(colon + 1, ':') : !colon;
}

static int e_not_found(nb_call *c, bool sub)
{
    const char *member = sub ? "SubscriptionArn" : "TopicArn";
    const char *arn = nb_in_str(c, member);
    if (arn && !arn_well_formed(arn, sub)) return e_param(c, "Invalid parameter: %s", member);
    return nb_call_error(c, 404, "NotFound", sub ? "Subscription does not exist" : "Topic does not exist");
}
#define E_NOTOPIC(c) e_not_found(c, false)
#define E_NOSUB(c) e_not_found(c, true)
#define E_INTERNAL(c) nb_call_error(c, 500, "InternalError", "Internal service error")

static const char *base_url(nb_call *c)
{
    const char *h = nb_call_header(c, "host");
    if (!h || !*h) return nb_sns_default_base;
    return nb_arena_printf(c->arena, "%s://%s", c->http && c->http->tls ? "https" : "http", h);
}

static void iso_now(char out[32]) { nb_time_iso8601(nb_clock_now_f(), out); }

/* ---------------------------------------------------------------- topics */

static bool valid_topic_name(const char *n, bool *fifo)
{
    size_t l = n ? strlen(n) : 0;
    *fifo = l > 5 && !strcmp(n + l - 5, ".fifo");
    size_t base = *fifo ? l - 5 : l;
    if (!l || l > 256 || !base) return false;
    for (size_t i = 0; i < base; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') || (n[i] >= '0' && n[i] <= '9') ||
              n[i] == '-' || n[i] == '_'))
            return false;
    return true;
}

static const char *const topic_settable[] = {
    "DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId", "SignatureVersion", "TracingConfig",
    "ContentBasedDeduplication", "FifoTopic", "ArchivePolicy", "FifoThroughputScope",
    "HTTPSuccessFeedbackRoleArn", "HTTPSuccessFeedbackSampleRate", "HTTPFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn", "SQSSuccessFeedbackSampleRate", "SQSFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn", "LambdaSuccessFeedbackSampleRate", "LambdaFailureFeedbackRoleArn",
    "ApplicationSuccessFeedbackRoleArn", "ApplicationSuccessFeedbackSampleRate", "ApplicationFailureFeedbackRoleArn",
    "FirehoseSuccessFeedbackRoleArn", "FirehoseSuccessFeedbackSampleRate", "FirehoseFailureFeedbackRoleArn",
};

/* One retry policy (a subscription's healthyRetryPolicy, a topic's defaultHealthyRetryPolicy)
 * within AWS's bounds: numRetries 0..100, minDelayTarget 1..maxDelayTarget, maxDelayTarget
 * ..3600, the phase counts non-negative and together at most numRetries, a known
 * backoffFunction. NULL, or why not (static or in buf). */
static const char *retry_policy_problem(json_t *p, const char *name, char *buf, size_t n)
{
    if (!p) return NULL;
    if (!json_is_object(p)) return snprintf(buf, n, "%s must be an object", name), buf;
    static const char *const ints[] = {"numRetries", "numNoDelayRetries", "numMinDelayRetries",
                                       "numMaxDelayRetries", "minDelayTarget", "maxDelayTarget"};
    json_int_t v[6] = {3, 0, 0, 0, 20, 20};
    for (size_t i = 0; i < NB_ARRAY_LEN(ints); i++) {
        json_t *x = json_object_get(p, ints[i]);
        if (!x) continue;
        if (!json_is_integer(x) || json_integer_value(x) < 0)
            return snprintf(buf, n, "%s.%s must be a non-negative integer", name, ints[i]), buf;
        v[i] = json_integer_value(x);
    }
    if (v[0] > 100) return snprintf(buf, n, "%s.numRetries must be less than or equal to 100", name), buf;
    if (v[4] < 1) return snprintf(buf, n, "%s.minDelayTarget must be greater than 0", name), buf;
    if (v[5] > 3600) return snprintf(buf, n, "%s.maxDelayTarget must be less than or equal to 3600", name), buf;
    if (v[4] > v[5])
        return snprintf(buf, n, "%s.minDelayTarget must be less than or equal to maxDelayTarget", name), buf;
    if (v[1] + v[2] + v[3] > v[0])
        return snprintf(buf, n, "%s: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must be less than or "
                                "equal to numRetries", name), buf;
    json_t *fn = json_object_get(p, "backoffFunction");
    const char *f = json_string_value(fn);
    if (fn && (!f || (strcmp(f, "linear") && strcmp(f, "arithmetic") && strcmp(f, "geometric") &&
                      strcmp(f, "exponential"))))
        return snprintf(buf, n, "%s.backoffFunction must be one of linear, arithmetic, geometric, exponential", name), buf;
    return NULL;
}

static const char *throttle_problem(json_t *p, const char *name, char *buf, size_t n)
{
    if (!p) return NULL;
    json_t *m = json_object_get(p, "maxReceivesPerSecond");
    if (!json_is_object(p) || (m && (!json_is_integer(m) || json_integer_value(m) < 1)))
        return snprintf(buf, n, "%s.maxReceivesPerSecond must be an integer greater than 0", name), buf;
    return NULL;
}

/* A DeliveryPolicy as AWS checks it: a topic's {"http": {"defaultHealthyRetryPolicy",
 * "defaultThrottlePolicy", "disableSubscriptionOverrides", "defaultRequestPolicy"}} or a
 * subscription's {"healthyRetryPolicy", "throttlePolicy", "requestPolicy"}. NULL when fine,
 * else the reason (in buf). */
static const char *delivery_policy_problem(json_t *d, bool topic, char *buf, size_t n)
{
    if (!json_is_object(d)) return "failed to parse JSON";
    if (topic) {
        json_t *h = json_object_get(d, "http");
        if (!h) return NULL;
        if (!json_is_object(h)) return "http must be an object";
        const char *why = retry_policy_problem(json_object_get(h, "defaultHealthyRetryPolicy"),
                                               "defaultHealthyRetryPolicy", buf, n);
        if (!why) why = throttle_problem(json_object_get(h, "defaultThrottlePolicy"), "defaultThrottlePolicy", buf, n);
        json_t *dso = json_object_get(h, "disableSubscriptionOverrides");
        if (!why && dso && !json_is_boolean(dso)) why = "disableSubscriptionOverrides must be true or false";
        return why;
    }
    const char *why = retry_policy_problem(json_object_get(d, "healthyRetryPolicy"), "healthyRetryPolicy", buf, n);
    return why ? why : throttle_problem(json_object_get(d, "throttlePolicy"), "throttlePolicy", buf, n);
}

static int check_topic_attr(nb_call *c, const char *k, const char *v, bool fifo)
{
    bool known = false;
    for (size_t i = 0; i < NB_ARRAY_LEN(topic_settable); i++)
        if (!strcmp(topic_settable[i], k)) known = true;
    if (!known) return e_param(c, "Invalid parameter: AttributeName");
    if (!v) v = "";
    if ((!strcmp(k, "Policy") || !strcmp(k, "DeliveryPolicy")) && *v) {
        json_t *d = json_loads(v, 0, NULL);
        bool ok = json_is_object(d);
        char buf[300];
        const char *why = ok && !strcmp(k, "DeliveryPolicy") ? delivery_policy_problem(d, true, buf, sizeof(buf)) : NULL;
        json_decref(d);
        if (!ok) return e_param(c, "Invalid parameter: Attributes Reason: %s: failed to parse JSON", k);
        if (why) return e_param(c, "Invalid parameter: DeliveryPolicy: %s", why);
        if (!strcmp(k, "Policy")) {
            /* a resource policy AWS would take (AWS: "Invalid parameter: Policy Error: ...") */
            nb_policy_error pe = {0};
            nb_policy *pol = nb_policy_parse(v, strlen(v), NB_POLICY_RESOURCE, &pe);
            if (!pol) return e_param(c, "Invalid parameter: Policy Error: %s", pe.message[0] ? pe.message : "null");
            nb_policy_free(pol);
        }
    }
    if (!strcmp(k, "SignatureVersion") && strcmp(v, "1") && strcmp(v, "2"))
        return e_param(c, "Invalid parameter: Attributes Reason: SignatureVersion: Invalid value [%s]. Must be 1 or 2.", v);
    if ((!strcmp(k, "ContentBasedDeduplication") || !strcmp(k, "FifoTopic")) && strcasecmp(v, "true") &&
        strcasecmp(v, "false"))
        return e_param(c, "Invalid parameter: Attributes Reason: %s: Invalid value [%s]. Must be true or false.", k, v);
    if (!strcmp(k, "ContentBasedDeduplication") && !fifo)
        return e_param(c, "Invalid parameter: Attributes Reason: Content-based deduplication can only be set for FIFO topics");
    if (!strcmp(k, "FifoTopic") && (strcasecmp(v, "true") == 0) != fifo)
        return e_param(c, "Invalid parameter: Attributes Reason: FifoTopic: Invalid value [%s]", v);
    /* message archiving: FIFO topics only, {"MessageRetentionPeriod": 1..365 days}; "" or
     * "{}" turns it off */
    if (!strcmp(k, "ArchivePolicy") && *v) {
        if (!fifo) return e_param(c, "Invalid parameter: Attributes Reason: ArchivePolicy can only be set for FIFO topics");
        json_t *d = json_loads(v, 0, NULL);
        json_t *mrp = json_object_get(d, "MessageRetentionPeriod");
        long days = json_is_integer(mrp) ? (long)json_integer_value(mrp) : -1;
        if (json_is_string(mrp)) {
            const char *ds = json_string_value(mrp);
            days = *ds && strspn(ds, "0123456789") == strlen(ds) && strlen(ds) < 6 ? atol(ds) : -1;
        }
        bool empty = json_is_object(d) && json_object_size(d) == 0;
        bool ok = empty || (json_is_object(d) && json_object_size(d) == 1 && days >= 1 && days <= 365);
        json_decref(d);
        if (!ok)
            return e_param(c, "Invalid parameter: Attributes Reason: ArchivePolicy: MessageRetentionPeriod must be a "
                              "number of days from 1 to 365");
    }
    /* high-throughput FIFO topics: Topic (default) or MessageGroup, FIFO topics only */
    if (!strcmp(k, "FifoThroughputScope") && !fifo)
        return e_param(c, "Invalid parameter: Attributes Reason: FifoThroughputScope can only be set for FIFO topics");
    if (!strcmp(k, "FifoThroughputScope") && strcmp(v, "Topic") && strcmp(v, "MessageGroup"))
        return e_param(c, "Invalid parameter: Attributes Reason: FifoThroughputScope: Invalid value [%s]. Must be Topic or MessageGroup.", v);
    /* AWS: PassThrough (default) or Active, the latter on standard topics only */
    if (!strcmp(k, "TracingConfig") && strcmp(v, "PassThrough") && strcmp(v, "Active"))
        return e_param(c, "Invalid parameter: Attributes Reason: TracingConfig: Invalid value [%s]. Must be PassThrough or Active.", v);
    if (!strcmp(k, "TracingConfig") && fifo && !strcmp(v, "Active"))
        return e_param(c, "Invalid parameter: Attributes Reason: TracingConfig: Active tracing is only supported on standard topics");
    return 0;
}

static char *default_policy(const sns_topic *t)
{
    json_t *p = json_pack("{s:s, s:s, s:[{s:s, s:s, s:{s:s}, s:[s,s,s,s,s,s,s,s], s:s, s:{s:{s:s}}}]}", "Version",
                          "2008-10-17", "Id", "__default_policy_ID", "Statement", "Sid", "__default_statement_ID",
                          "Effect", "Allow", "Principal", "AWS", "*", "Action", "SNS:GetTopicAttributes",
                          "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic",
                          "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish", "Resource", t->arn,
                          "Condition", "StringEquals", "AWS:SourceOwner", t->account);
    char *s = dumps(p);
    json_decref(p);
    return s;
}

static const char *default_delivery_policy =
    "{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":20,\"maxDelayTarget\":20,\"numRetries\":3,"
    "\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,\"numMinDelayRetries\":0,\"backoffFunction\":\"linear\"},"
    "\"disableSubscriptionOverrides\":false,\"defaultRequestPolicy\":{\"headerContentType\":\"text/plain; "
    "charset=UTF-8\"}}}";

static int check_dpp(nb_call *c, const char *p);

static int create_topic(nb_call *c)
{
    const char *name = nb_in_str(c, "Name");
    json_t *in = json_object_get(c->input, "Attributes");
    const char *ft = json_string_value(json_object_get(in, "FifoTopic"));
    bool fifo;
    bool want_fifo = ft && !strcasecmp(ft, "true");
    if (!valid_topic_name(name, &fifo) || want_fifo != fifo) {
        if (want_fifo || fifo)
            return e_param(c, "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only "
                              "uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be "
                              "between 1 and 256 characters long.");
        return e_param(c, "Invalid parameter: Topic Name");
    }
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v) if (check_topic_attr(c, k, json_string_value(v), fifo) < 0) return -1;
    const char *in_dpp = nb_in_str(c, "DataProtectionPolicy");
    if (in_dpp && *in_dpp && check_dpp(c, in_dpp) < 0) return -1;
    char arn[300];
    snprintf(arn, sizeof(arn), "arn:aws:sns:%s:%s:%s", nb_sns_region, c->who.account, name);
    json_t *tags = json_object();
    size_t i;
    json_t *tg;
    json_array_foreach(json_object_get(c->input, "Tags"), i, tg)
        json_object_set(tags, json_string_value(json_object_get(tg, "Key")), json_object_get(tg, "Value"));
    if (json_object_size(tags) > 50) { /* as TagResource */
        json_decref(tags);
        return nb_call_error(c, 400, "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded");
    }
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_topic *t = topic_find(arn);
    if (t) {
        /* Idempotent with the same attributes; AWS refuses different ones. */
        bool differs = false;
        json_object_foreach(in, k, v)
        {
            json_t *cur = json_object_get(t->attrs, k);
            if (!strcmp(k, "FifoTopic")) continue;
            if (!cur || strcmp(json_string_value(cur), json_string_value(v))) differs = true;
        }
        /* Tags too: given ones must be the topic's (AWS answers this for a re-create). */
        bool tags_differ = json_object_size(tags) && !json_equal(tags, t->tags);
        pthread_rwlock_unlock(&nb_sns_lock);
        json_decref(tags);
        if (differs) return e_param(c, "Invalid parameter: Attributes Reason: Topic already exists with different attributes");
        if (tags_differ) return e_param(c, "Invalid parameter: Tags Reason: Topic already exists with different tags");
        c->output = json_pack("{s:s}", "TopicArn", arn);
        return 0;
    }
    if (ntopics == captopics) {
        size_t nc = captopics ? captopics * 2 : 16;
        sns_topic **nt = realloc(topics, nc * sizeof(*nt));
        if (!nt) {
            pthread_rwlock_unlock(&nb_sns_lock);
            json_decref(tags);
            return E_INTERNAL(c);
        }
        topics = nt;
        captopics = nc;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        json_decref(tags);
        return E_INTERNAL(c);
    }
    snprintf(t->arn, sizeof(t->arn), "%s", arn);
    snprintf(t->account, sizeof(t->account), "%s", c->who.account);
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->fifo = fifo;
    t->attrs = json_object();
    t->tags = tags;
    t->dedup = json_object();
    json_object_foreach(in, k, v)
    {
        const char *s = json_string_value(v);
        if (!strcmp(k, "FifoTopic") || !strcmp(k, "ContentBasedDeduplication"))
            json_object_set_new(t->attrs, k, json_string(strcasecmp(s, "true") ? "false" : "true"));
        else
            json_object_set(t->attrs, k, v);
    }
    if (in_dpp && *in_dpp) t->dpp = strdup(in_dpp);
    if (save_topic(t) < 0) {
        pthread_rwlock_unlock(&nb_sns_lock);
        topic_free(t);
        return E_INTERNAL(c);
    }
    topics[ntopics++] = t;
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_pack("{s:s}", "TopicArn", arn);
    return 0;
}

static int delete_topic(nb_call *c)
{
    const char *arn = nb_in_str(c, "TopicArn");
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_topic *t = topic_find(arn);
    if (!t) { /* AWS: deleting a topic that does not exist succeeds (a malformed ARN does not) */
        pthread_rwlock_unlock(&nb_sns_lock);
        return arn_well_formed(arn, false) ? 0 : e_param(c, "Invalid parameter: TopicArn");
    }
    if (dbx("DELETE FROM topics WHERE arn = ?", "s", arn) < 0 || dbx("DELETE FROM subs WHERE topic_arn = ?", "s", arn) < 0) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return E_INTERNAL(c);
    }
    for (size_t i = 0; i < ntopics; i++)
        if (topics[i] == t) {
            topics[i] = topics[--ntopics];
            break;
        }
    pthread_rwlock_unlock(&nb_sns_lock);
    topic_free(t);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* NextToken, base64: the last topic ARN of the previous page (ListTopics) or the position of
 * the next subscription (the subscription lists). */
static const char *token_of(nb_call *c, const char *last)
{
    char *t = nb_arena_alloc(c->arena, nb_base64_encoded_len(strlen(last)) + 1);
    if (t) nb_base64_encode((const unsigned char *)last, strlen(last), t);
    return t;
}

static int decode_token(nb_call *c, const char *tok, char *out, size_t n, bool position)
{
    out[0] = 0;
    if (!tok) return 0;
    size_t l = strlen(tok);
    unsigned char raw[600];
    ssize_t m = l < 700 ? nb_base64_decode(tok, l, raw) : -1;
    if (m < 0 || (size_t)m >= n) return e_param(c, "Invalid parameter: NextToken");
    memcpy(out, raw, (size_t)m);
    out[m] = 0;
    /* Anything else was not issued by us (AWS refuses it too). */
    bool ok = strlen(out) == (size_t)m && m > 0 &&
              (position ? strspn(out, "0123456789") == (size_t)m : strncmp(out, "arn:", 4) == 0);
    if (!ok) return e_param(c, "Invalid parameter: NextToken");
    return 0;
}

static int list_topics(nb_call *c)
{
    char after[600];
    if (decode_token(c, nb_in_str(c, "NextToken"), after, sizeof(after), false) < 0) return -1;
    pthread_rwlock_rdlock(&nb_sns_lock);
    char **v = malloc((ntopics + 1) * sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; v && i < ntopics; i++)
        if (!strcmp(topics[i]->account, c->who.account)) v[n++] = nb_arena_strdup(c->arena, topics[i]->arn);
    pthread_rwlock_unlock(&nb_sns_lock);
    if (!v) return E_INTERNAL(c);
    qsort(v, n, sizeof(*v), cmp_str);
    json_t *arr = json_array();
    const char *last = NULL;
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        if (after[0] && strcmp(v[i], after) <= 0) continue;
        if (json_array_size(arr) == 100) {
            more = true;
            break;
        }
        json_array_append_new(arr, json_pack("{s:s}", "TopicArn", v[i]));
        last = v[i];
    }
    free(v);
    c->output = json_pack("{s:o}", "Topics", arr);
    if (more) json_object_set_new(c->output, "NextToken", json_string(token_of(c, last)));
    return 0;
}

static json_t *effective_delivery_policy(sns_topic *t)
{
    const char *dp = json_string_value(json_object_get(t->attrs, "DeliveryPolicy"));
    json_t *d = dp && *dp ? json_loads(dp, 0, NULL) : NULL;
    if (!d) d = json_loads(default_delivery_policy, 0, NULL);
    return d;
}

static int get_topic_attributes(nb_call *c)
{
    const char *arn = nb_in_str(c, "TopicArn");
    pthread_rwlock_rdlock(&nb_sns_lock);
    sns_topic *t = topic_find(arn);
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return E_NOTOPIC(c);
    }
    json_t *a = json_object();
    long conf = 0, pend = 0;
    for (size_t i = 0; i < t->nsubs; i++) t->subs[i]->confirmed ? conf++ : pend++;
    json_object_set_new(a, "TopicArn", json_string(t->arn));
    json_object_set_new(a, "Owner", json_string(t->account));
    char *pol = default_policy(t);
    json_object_set_new(a, "Policy", json_string(pol));
    free(pol);
    json_object_set_new(a, "DisplayName", json_string(""));
    json_object_set_new(a, "SubscriptionsConfirmed", json_string(nb_arena_printf(c->arena, "%ld", conf)));
    json_object_set_new(a, "SubscriptionsPending", json_string(nb_arena_printf(c->arena, "%ld", pend)));
    json_object_set_new(a, "SubscriptionsDeleted", json_string(nb_arena_printf(c->arena, "%ld", t->deleted_subs)));
    json_t *edp = effective_delivery_policy(t);
    char *edps = dumps(edp);
    json_decref(edp);
    json_object_set_new(a, "EffectiveDeliveryPolicy", json_string(edps));
    free(edps);
    if (t->fifo) {
        json_object_set_new(a, "FifoTopic", json_string("true"));
        json_object_set_new(a, "ContentBasedDeduplication", json_string("false"));
    }
    const char *k;
    json_t *v;
    json_object_foreach(t->attrs, k, v) json_object_set(a, k, v);
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_pack("{s:o}", "Attributes", a);
    return 0;
}

static int set_topic_attributes(nb_call *c)
{
    const char *arn = nb_in_str(c, "TopicArn"), *k = nb_in_str(c, "AttributeName"), *v = nb_in_str(c, "AttributeValue");
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_topic *t = topic_find(arn);
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return E_NOTOPIC(c);
    }
    if (check_topic_attr(c, k, v, t->fifo) < 0) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return -1;
    }
    if (!strcmp(k, "FifoTopic") || !strcmp(k, "ContentBasedDeduplication"))
        json_object_set_new(t->attrs, k, json_string(strcasecmp(v, "true") ? "false" : "true"));
    else if ((!strcmp(k, "Policy") || !strcmp(k, "DeliveryPolicy")) && (!v || !*v))
        json_object_del(t->attrs, k);
    else
        json_object_set_new(t->attrs, k, json_string(v ? v : ""));
    int rc = save_topic(t);
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int topic_permission(nb_call *c, bool add)
{
    const char *arn = nb_in_str(c, "TopicArn"), *label = nb_in_str(c, "Label");
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_topic *t = topic_find(arn);
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return E_NOTOPIC(c);
    }
    const char *cur = json_string_value(json_object_get(t->attrs, "Policy"));
    char *def = NULL;
    if (!cur || !*cur) cur = def = default_policy(t);
    json_t *pol = json_loads(cur, 0, NULL);
    free(def);
    json_t *st = json_object_get(pol, "Statement");
    size_t i;
    json_t *s;
    ssize_t found = -1;
    json_array_foreach(st, i, s)
    {
        const char *sid = json_string_value(json_object_get(s, "Sid"));
        if (sid && !strcmp(sid, label)) found = (ssize_t)i;
    }
    int rc = 0;
    if (add) {
        if (found >= 0) {
            rc = e_param(c, "Invalid parameter: Statement already exists");
        } else {
            /* Only the topic's own actions may be granted. */
            static const char *const grantable[] = {"GetTopicAttributes", "SetTopicAttributes", "AddPermission",
                                                    "RemovePermission", "DeleteTopic", "Subscribe",
                                                    "ListSubscriptionsByTopic", "Publish", "Receive"};
            json_t *x;
            json_array_foreach(json_object_get(c->input, "ActionName"), i, x)
            {
                bool ok = false;
                for (size_t g = 0; g < NB_ARRAY_LEN(grantable); g++)
                    ok = ok || (json_string_value(x) && !strcmp(json_string_value(x), grantable[g]));
                if (!ok && !rc) rc = e_param(c, "Invalid parameter: Policy statement action out of service scope!");
            }
        }
        if (found < 0 && !rc) {
            json_t *princ = json_array(), *acts = json_array(), *x;
            json_array_foreach(json_object_get(c->input, "AWSAccountId"), i, x)
                json_array_append_new(princ, json_string(nb_arena_printf(c->arena, "arn:aws:iam::%s:root", json_string_value(x))));
            json_array_foreach(json_object_get(c->input, "ActionName"), i, x)
                json_array_append_new(acts, json_string(nb_arena_printf(c->arena, "SNS:%s", json_string_value(x))));
            /* AWS writes a lone principal or action as a string, several as a list. */
            princ = nb_policy_one_or_list(princ);
            acts = nb_policy_one_or_list(acts);
            json_array_append_new(st, json_pack("{s:s, s:s, s:{s:o}, s:o, s:s}", "Sid", label, "Effect", "Allow", "Principal",
                                                "AWS", princ, "Action", acts, "Resource", t->arn));
        }
    } else if (found < 0) {
        rc = e_param(c, "Invalid parameter: Statement not found");
    } else {
        json_array_remove(st, (size_t)found);
    }
    if (!rc) {
        char *text = dumps(pol);
        json_object_set_new(t->attrs, "Policy", json_string(text));
        free(text);
        if (save_topic(t) < 0) rc = E_INTERNAL(c);
    }
    json_decref(pol);
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc;
}

static int add_permission(nb_call *c) { return topic_permission(c, true); }
static int remove_permission(nb_call *c) { return topic_permission(c, false); }

/* ---------------------------------------------------------------- data protection, tags */

/* A data protection policy as AWS documents it: a JSON object with a Name, Version 2021-06-01
 * and a non-empty Statement list whose statements name DataIdentifier (a list) and Operation
 * (an object), at most 30 KiB. 0, or the error. */
static int check_dpp(nb_call *c, const char *p)
{
    if (strlen(p) > 30720) return e_param(c, "Invalid parameter: DataProtectionPolicy Reason: longer than 30720 characters");
    json_t *d = json_loads(p, 0, NULL);
    const char *why = NULL;
    if (!json_is_object(d)) why = "Failed to parse JSON";
    else if (!json_is_string(json_object_get(d, "Name"))) why = "Name is required";
    else if (!json_is_string(json_object_get(d, "Version")) ||
             strcmp(json_string_value(json_object_get(d, "Version")), "2021-06-01"))
        why = "Version must be 2021-06-01";
    else if (!json_array_size(json_object_get(d, "Statement"))) why = "Statement must be a non-empty list";
    size_t i;
    json_t *st;
    json_array_foreach(why ? NULL : json_object_get(d, "Statement"), i, st)
    {
        if (!why && (!json_is_object(st) || !json_array_size(json_object_get(st, "DataIdentifier")) ||
                     !json_is_object(json_object_get(st, "Operation"))))
            why = "every Statement needs a DataIdentifier list and an Operation";
    }
    json_decref(d);
    return why ? e_param(c, "Invalid parameter: DataProtectionPolicy Reason: %s", why) : 0;
}

static int put_data_protection_policy(nb_call *c)
{
    const char *arn = nb_in_str(c, "ResourceArn"), *p = nb_in_str(c, "DataProtectionPolicy");
    if (!p) p = "";
    if (*p && check_dpp(c, p) < 0) return -1; /* "" removes the policy */
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_topic *t = topic_find(arn);
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return E_NOTOPIC(c);
    }
    free(t->dpp);
    t->dpp = *p ? strdup(p) : NULL;
    int rc = save_topic(t);
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int get_data_protection_policy(nb_call *c)
{
    pthread_rwlock_rdlock(&nb_sns_lock);
    sns_topic *t = topic_find(nb_in_str(c, "ResourceArn"));
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return E_NOTOPIC(c);
    }
    c->output = t->dpp ? json_pack("{s:s}", "DataProtectionPolicy", t->dpp) : json_object();
    pthread_rwlock_unlock(&nb_sns_lock);
    return 0;
}

static int tag_resource(nb_call *c)
{
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_topic *t = topic_find(nb_in_str(c, "ResourceArn"));
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return nb_call_error(c, 404, "ResourceNotFound", "Resource does not exist");
    }
    json_t *next = json_deep_copy(t->tags);
    size_t i;
    json_t *tg;
    json_array_foreach(json_object_get(c->input, "Tags"), i, tg)
        json_object_set(next, json_string_value(json_object_get(tg, "Key")), json_object_get(tg, "Value"));
    if (json_object_size(next) > 50) {
        pthread_rwlock_unlock(&nb_sns_lock);
        json_decref(next);
        return nb_call_error(c, 400, "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded");
    }
    json_decref(t->tags);
    t->tags = next;
    int rc = save_topic(t);
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_object();
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int untag_resource(nb_call *c)
{
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_topic *t = topic_find(nb_in_str(c, "ResourceArn"));
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return nb_call_error(c, 404, "ResourceNotFound", "Resource does not exist");
    }
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(c->input, "TagKeys"), i, k) json_object_del(t->tags, json_string_value(k));
    int rc = save_topic(t);
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_object();
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int list_tags_for_resource(nb_call *c)
{
    pthread_rwlock_rdlock(&nb_sns_lock);
    sns_topic *t = topic_find(nb_in_str(c, "ResourceArn"));
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return nb_call_error(c, 404, "ResourceNotFound", "Resource does not exist");
    }
    json_t *arr = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(t->tags, k, v) json_array_append_new(arr, json_pack("{s:s, s:O}", "Key", k, "Value", v));
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_pack("{s:o}", "Tags", arr);
    return 0;
}

/* ---------------------------------------------------------------- subscriptions */

static const char *const sub_settable[] = {"DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery",
                                           "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy"};

/* topic_arn: the subscription's topic (its FIFO-ness decides the dead-letter queue's type).
 * subscribe: the Subscribe call (AWS then words value errors "Attributes Reason: ..."; a
 * SetSubscriptionAttributes call names the attribute right after "Invalid parameter: "). */
static int check_sub_attr(nb_call *c, const char *k, const char *v, const char *protocol, json_t *attrs, bool subscribe,
                          const char *topic_arn)
{
    const char *pre = subscribe ? "Attributes Reason: " : "";
    bool known = false;
    for (size_t i = 0; i < NB_ARRAY_LEN(sub_settable); i++)
        if (!strcmp(sub_settable[i], k)) known = true;
    if (!known) return e_param(c, "Invalid parameter: AttributeName");
    if (!v) v = "";
    if (!strcmp(k, "RawMessageDelivery")) {
        if (strcasecmp(v, "true") && strcasecmp(v, "false"))
            return e_param(c, "Invalid parameter: %sRawMessageDelivery: Invalid value [%s]. Must be true or false.", pre, v);
        if (protocol && strcmp(protocol, "sqs") && strcmp(protocol, "http") && strcmp(protocol, "https") &&
            strcmp(protocol, "firehose"))
            return e_param(c, "Invalid parameter: %sDelivery protocol [%s] does not support raw message delivery.", pre,
                           protocol);
    }
    /* A replay policy starts redelivering archived messages at once; there is no archive to
     * replay from yet, so accepting one would be a success that does nothing. */
    if (!strcmp(k, "ReplayPolicy") && *v)
        return nb_call_error(c, 501, "NotImplemented", "Message replay (ReplayPolicy) is not implemented.");
    if (!strcmp(k, "SubscriptionRoleArn")) {
        if (protocol && strcmp(protocol, "firehose"))
            return e_param(c, "Invalid parameter: %sDelivery protocol [%s] does not support SubscriptionRoleArn.", pre,
                           protocol);
        if (strncmp(v, "arn:aws:iam::", 13) || !strstr(v, ":role/"))
            return e_param(c, "Invalid parameter: %sSubscriptionRoleArn: Invalid value [%s]. Must be an IAM role ARN.", pre, v);
    }
    if (!strcmp(k, "FilterPolicyScope") && strcmp(v, "MessageAttributes") && strcmp(v, "MessageBody"))
        return e_param(c, "Invalid parameter: %sFilterPolicyScope: Invalid value [%s]. Please use either MessageBody or MessageAttributes",
                       pre, v);
    if (!strcmp(k, "FilterPolicy") && *v) {
        const char *scope = json_string_value(json_object_get(attrs, "FilterPolicyScope"));
        char err[400];
        nb_sns_filter *f = nb_sns_filter_parse(v, strlen(v), scope && !strcmp(scope, "MessageBody"), err, sizeof(err));
        if (!f) return e_param(c, "%s", err);
        nb_sns_filter_free(f);
    }
    if (!strcmp(k, "RedrivePolicy") && *v) {
        json_t *d = json_loads(v, 0, NULL);
        const char *arn = json_string_value(json_object_get(d, "deadLetterTargetArn"));
        int rc = 0;
        bool dlq_fifo = false;
        size_t tl = topic_arn ? strlen(topic_arn) : 0;
        bool topic_fifo = tl > 5 && !strcmp(topic_arn + tl - 5, ".fifo");
        if (!json_is_object(d))
            rc = e_param(c, "Invalid parameter: RedrivePolicy: failed to parse JSON");
        else if (!arn)
            rc = e_param(c, "Invalid parameter: RedrivePolicy: deadLetterTargetArn is missing");
        else if (strncmp(arn, "arn:aws:sqs:", 12) != 0)
            rc = e_param(c, "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn");
        else if (!nb_sqs_queue_exists(arn, &dlq_fifo))
            rc = e_param(c, "Invalid parameter: RedrivePolicy: deadLetterTargetArn does not exist");
        else if (topic_fifo != dlq_fifo)
            /* AWS: a FIFO topic's subscriptions redrive to FIFO queues, a standard topic's to
             * standard ones */
            rc = e_param(c, "Invalid parameter: RedrivePolicy: must use a %s queue as DLQ for a %s topic subscription",
                         topic_fifo ? "FIFO" : "standard", topic_fifo ? "FIFO" : "standard");
        json_decref(d);
        return rc;
    }
    if (!strcmp(k, "DeliveryPolicy") && *v) {
        json_t *d = json_loads(v, 0, NULL);
        char buf[300];
        const char *why = delivery_policy_problem(d, false, buf, sizeof(buf));
        json_decref(d);
        if (why) return e_param(c, "Invalid parameter: DeliveryPolicy: %s", why);
    }
    return 0;
}

static const char *const protocols[] = {"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"};

static bool valid_phone(const char *p)
{
    if (!p || *p != '+') return false;
    size_t n = 0;
    for (p++; *p; p++, n++)
        if (*p < '0' || *p > '9') return false;
    return n >= 4 && n <= 15;
}

static void fill_out_common(sns_out *o, const sns_topic *t, const sns_sub *s)
{
    o->sub_arn = strdup(s->arn);
    o->topic_arn = strdup(t->arn);
    o->protocol = strdup(s->protocol);
    o->endpoint = strdup(s->endpoint);
    o->base = strdup(s->base[0] ? s->base : nb_sns_default_base);
    const char *sv = json_string_value(json_object_get(t->attrs, "SignatureVersion"));
    o->sigver = sv && !strcmp(sv, "2") ? 2 : 1;
    char ts[32];
    iso_now(ts);
    o->timestamp = strdup(ts);
    const char *rp = json_string_value(json_object_get(s->attrs, "RedrivePolicy"));
    if (rp && *rp) {
        json_t *d = json_loads(rp, 0, NULL);
        const char *dlq = json_string_value(json_object_get(d, "deadLetterTargetArn"));
        if (dlq) o->dlq_arn = strdup(dlq);
        json_decref(d);
    }
    /* healthyRetryPolicy: the subscription's, else the topic's http default, else AWS's */
    json_t *pol = NULL;
    const char *sdp = json_string_value(json_object_get(s->attrs, "DeliveryPolicy"));
    json_t *sd = sdp && *sdp ? json_loads(sdp, 0, NULL) : NULL;
    if (json_object_get(sd, "healthyRetryPolicy")) pol = json_incref(json_object_get(sd, "healthyRetryPolicy"));
    json_decref(sd);
    if (!pol) {
        json_t *td = effective_delivery_policy((sns_topic *)t);
        json_t *h = json_object_get(json_object_get(td, "http"), "defaultHealthyRetryPolicy");
        if (h) pol = json_incref(h);
        json_decref(td);
    }
    o->policy = pol ? pol : json_object();
}

/* The subscription confirmation message (HTTP/S and email). Lock held. */
static sns_out *confirmation(const sns_topic *t, const sns_sub *s)
{
    sns_out *o = calloc(1, sizeof(*o));
    if (!o) return NULL;
    fill_out_common(o, t, s);
    o->type = strdup("SubscriptionConfirmation");
    char id[37];
    nb_uuid4(id);
    o->message_id = strdup(id);
    o->token = strdup(s->token);
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_printf(&b, "You have chosen to subscribe to the topic %s.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
                  t->arn);
    o->message = nb_buf_steal(&b, NULL);
    json_decref(o->policy);
    o->policy = json_pack("{s:i, s:i, s:i}", "numRetries", 3, "minDelayTarget", 20, "maxDelayTarget", 20);
    return o;
}

static int subscribe(nb_call *c)
{
    const char *arn = nb_in_str(c, "TopicArn"), *proto = nb_in_str(c, "Protocol"), *ep = nb_in_str(c, "Endpoint");
    json_t *in = json_object_get(c->input, "Attributes");
    bool known = false;
    for (size_t i = 0; proto && i < NB_ARRAY_LEN(protocols); i++)
        if (!strcmp(protocols[i], proto)) known = true;
    if (!known) return e_param(c, "Invalid parameter: Amazon SNS does not support this protocol string: %s", proto ? proto : "");
    if (!ep || !*ep) return e_param(c, "Invalid parameter: Endpoint");
    if ((!strcmp(proto, "http") && strncasecmp(ep, "http://", 7)) || (!strcmp(proto, "https") && strncasecmp(ep, "https://", 8)))
        return e_param(c, "Invalid parameter: Endpoint must match the specified protocol");
    if (!strncmp(proto, "email", 5) && !strchr(ep, '@')) return e_param(c, "Invalid parameter: Email address");
    if (!strcmp(proto, "sms") && !valid_phone(ep)) return e_param(c, "Invalid parameter: Invalid SMS endpoint: %s", ep);
    if (!strcmp(proto, "lambda") && strncmp(ep, "arn:aws:lambda:", 15)) return e_param(c, "Invalid parameter: Lambda endpoint ARN");
    if (!strcmp(proto, "application") && strncmp(ep, "arn:aws:sns:", 12)) return e_param(c, "Invalid parameter: Application endpoint ARN");
    if (!strcmp(proto, "firehose")) {
        /* AWS: a delivery stream ARN, and the role SNS writes to it with */
        if (strncmp(ep, "arn:aws:firehose:", 17) || !strstr(ep, ":deliverystream/"))
            return e_param(c, "Invalid parameter: Firehose endpoint ARN");
        if (!json_string_length(json_object_get(in, "SubscriptionRoleArn")))
            return e_param(c, "Invalid parameter: Attributes Reason: SubscriptionRoleArn is required for firehose "
                              "subscriptions");
    }
    bool qfifo = false;
    if (!strcmp(proto, "sqs")) {
        if (strncmp(ep, "arn:aws:sqs:", 12)) return e_param(c, "Invalid parameter: SQS endpoint ARN");
        nb_sqs_queue_exists(ep, &qfifo);
    }
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v) if (check_sub_attr(c, k, json_string_value(v), proto, in, true, arn) < 0) return -1;
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_topic *t = topic_find(arn);
    int rc = 0;
    if (!t) {
        rc = E_NOTOPIC(c);
        goto out;
    }
    if (!strcmp(proto, "sqs") && qfifo && !t->fifo) {
        rc = e_param(c, "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics");
        goto out;
    }
    if (t->fifo && strcmp(proto, "sqs")) {
        rc = e_param(c, "Invalid parameter: Endpoint Reason: FIFO topics support only SQS endpoints");
        goto out;
    }
    for (size_t i = 0; i < t->nsubs; i++) {
        sns_sub *s = t->subs[i];
        if (!strcmp(s->protocol, proto) && !strcmp(s->endpoint, ep) && !strcmp(s->owner, c->who.account)) {
            bool differs = false;
            json_object_foreach(in, k, v)
            {
                json_t *cur = json_object_get(s->attrs, k);
                if (!cur || strcmp(json_string_value(cur), json_string_value(v))) differs = true;
            }
            if (differs) {
                rc = e_param(c, "Invalid parameter: Attributes Reason: Subscription already exists with different attributes");
                goto out;
            }
            bool ret = nb_in_bool(c, "ReturnSubscriptionArn", false);
            c->output = json_pack("{s:s}", "SubscriptionArn", s->confirmed || ret ? s->arn : "pending confirmation");
            goto out;
        }
    }
    sns_sub *s = calloc(1, sizeof(*s));
    if (!s || !(s->endpoint = strdup(ep))) {
        free(s);
        rc = E_INTERNAL(c);
        goto out;
    }
    char id[37];
    nb_uuid4(id);
    snprintf(s->arn, sizeof(s->arn), "%s:%s", t->arn, id);
    snprintf(s->topic_arn, sizeof(s->topic_arn), "%s", t->arn);
    snprintf(s->owner, sizeof(s->owner), "%s", c->who.account);
    snprintf(s->protocol, sizeof(s->protocol), "%s", proto);
    snprintf(s->base, sizeof(s->base), "%s", base_url(c));
    s->attrs = json_object();
    json_object_foreach(in, k, v)
    {
        if (!strcmp(k, "RawMessageDelivery"))
            json_object_set_new(s->attrs, k, json_string(strcasecmp(json_string_value(v), "true") ? "false" : "true"));
        else
            json_object_set(s->attrs, k, v);
    }
    sub_apply(s);
    bool needs_confirm = !strcmp(proto, "http") || !strcmp(proto, "https") || !strncmp(proto, "email", 5);
    s->confirmed = s->auth_confirmed = !needs_confirm;
    nb_random_hex(s->token, 128);
    if (save_sub(s) < 0 || topic_add_sub(t, s) < 0) {
        sub_free(s);
        rc = E_INTERNAL(c);
        goto out;
    }
    sns_out *conf = needs_confirm ? confirmation(t, s) : NULL;
    bool ret = nb_in_bool(c, "ReturnSubscriptionArn", false);
    c->output = json_pack("{s:s}", "SubscriptionArn", s->confirmed || ret ? s->arn : "pending confirmation");
    pthread_rwlock_unlock(&nb_sns_lock);
    if (conf) nb_sns_deliver_async(conf);
    return 0;
out:
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc;
}

int nb_sns_confirm(const char *topic_arn, const char *token, bool authenticated, bool auth_unsub, char *sub_arn_out,
                   size_t n)
{
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_topic *t = topic_find(topic_arn);
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return -ENOENT;
    }
    for (size_t i = 0; token && i < t->nsubs; i++) {
        sns_sub *s = t->subs[i];
        if (!strcmp(s->token, token)) {
            int rc = 0;
            /* a later signed confirmation may still turn authentication on */
            if (!s->confirmed || (authenticated && (!s->auth_confirmed || (auth_unsub && !s->auth_unsub)))) {
                s->confirmed = true;
                s->auth_confirmed = s->auth_confirmed || authenticated;
                s->auth_unsub = s->auth_unsub || (authenticated && auth_unsub);
                rc = save_sub(s);
            }
            snprintf(sub_arn_out, n, "%s", s->arn);
            pthread_rwlock_unlock(&nb_sns_lock);
            return rc < 0 ? -EIO : 0;
        }
    }
    pthread_rwlock_unlock(&nb_sns_lock);
    return -EINVAL;
}

static int confirm_subscription(nb_call *c)
{
    char arn[400];
    const char *aou = nb_in_str(c, "AuthenticateOnUnsubscribe");
    int rc = nb_sns_confirm(nb_in_str(c, "TopicArn"), nb_in_str(c, "Token"), true, aou && !strcasecmp(aou, "true"), arn,
                            sizeof(arn));
    if (rc == -ENOENT) return E_NOTOPIC(c);
    if (rc == -EINVAL) return e_param(c, "Invalid token");
    if (rc < 0) return E_INTERNAL(c);
    c->output = json_pack("{s:s}", "SubscriptionArn", arn);
    return 0;
}

int nb_sns_unsubscribe_arn(const char *sub_arn, bool authenticated)
{
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_topic *t = NULL;
    sns_sub *s = sub_find(sub_arn, &t);
    if (!s) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return -ENOENT;
    }
    if (s->auth_unsub && !authenticated) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return -EACCES;
    }
    if (dbx("DELETE FROM subs WHERE arn = ?", "s", sub_arn) < 0) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return -EIO;
    }
    for (size_t i = 0; i < t->nsubs; i++)
        if (t->subs[i] == s) {
            memmove(&t->subs[i], &t->subs[i + 1], (t->nsubs - i - 1) * sizeof(*t->subs));
            t->nsubs--;
            break;
        }
    t->deleted_subs++;
    pthread_rwlock_unlock(&nb_sns_lock);
    sub_free(s);
    return 0;
}

static int unsubscribe(nb_call *c)
{
    /* Idempotent, as AWS: a well-formed ARN naming no subscription (any more) succeeds. */
    const char *arn = nb_in_str(c, "SubscriptionArn");
    int rc = nb_sns_unsubscribe_arn(arn, true);
    if (rc == -ENOENT) return arn_well_formed(arn, true) ? 0 : E_NOSUB(c);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static json_t *sub_doc(const sns_sub *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "SubscriptionArn", s->confirmed ? s->arn : "PendingConfirmation", "Owner",
                     s->owner, "Protocol", s->protocol, "Endpoint", s->endpoint, "TopicArn", s->topic_arn);
}

static int list_subs(nb_call *c, const char *topic_arn)
{
    char after[600];
    if (decode_token(c, nb_in_str(c, "NextToken"), after, sizeof(after), true) < 0) return -1;
    pthread_rwlock_rdlock(&nb_sns_lock);
    if (topic_arn && !topic_find(topic_arn)) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return E_NOTOPIC(c);
    }
    json_t *all = json_array();
    for (size_t i = 0; i < ntopics; i++) {
        sns_topic *t = topics[i];
        if (topic_arn ? strcmp(t->arn, topic_arn) != 0 : strcmp(t->account, c->who.account) != 0) continue;
        for (size_t j = 0; j < t->nsubs; j++) json_array_append_new(all, sub_doc(t->subs[j]));
    }
    pthread_rwlock_unlock(&nb_sns_lock);
    json_t *page = json_array();
    size_t i;
    json_t *s;
    bool more = false;
    bool skipping = after[0] != 0;
    const char *last = NULL;
    json_array_foreach(all, i, s)
    {
        const char *id = json_string_value(json_object_get(s, "SubscriptionArn"));
        if (skipping) {
            /* the token is the position */
            if ((size_t)atol(after) > i) continue;
            skipping = false;
        }
        if (json_array_size(page) == 100) {
            more = true;
            last = nb_arena_printf(c->arena, "%zu", i);
            break;
        }
        (void)id;
        json_array_append(page, s);
    }
    json_decref(all);
    c->output = json_pack("{s:o}", "Subscriptions", page);
    if (more) json_object_set_new(c->output, "NextToken", json_string(token_of(c, last)));
    return 0;
}

static int list_subscriptions(nb_call *c) { return list_subs(c, NULL); }
static int list_subscriptions_by_topic(nb_call *c) { return list_subs(c, nb_in_str(c, "TopicArn")); }

static int get_subscription_attributes(nb_call *c)
{
    pthread_rwlock_rdlock(&nb_sns_lock);
    sns_topic *t = NULL;
    sns_sub *s = sub_find(nb_in_str(c, "SubscriptionArn"), &t);
    if (!s) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return E_NOSUB(c);
    }
    json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "SubscriptionArn", s->arn, "TopicArn", s->topic_arn,
                          "Owner", s->owner, "Protocol", s->protocol, "Endpoint", s->endpoint,
                          "ConfirmationWasAuthenticated", s->confirmed && s->auth_confirmed ? "true" : "false", "PendingConfirmation",
                          s->confirmed ? "false" : "true", "RawMessageDelivery", s->raw ? "true" : "false");
    json_t *edp = effective_delivery_policy(t);
    json_t *h = json_object_get(json_object_get(edp, "http"), "defaultHealthyRetryPolicy");
    const char *sdp = json_string_value(json_object_get(s->attrs, "DeliveryPolicy"));
    json_t *eff = sdp && *sdp ? json_loads(sdp, 0, NULL) : json_pack("{s:O}", "healthyRetryPolicy", h ? h : json_null());
    char *es = dumps(eff);
    json_object_set_new(a, "EffectiveDeliveryPolicy", json_string(es));
    free(es);
    json_decref(eff);
    json_decref(edp);
    const char *k;
    json_t *v;
    json_object_foreach(s->attrs, k, v) json_object_set(a, k, v);
    if (json_object_get(s->attrs, "FilterPolicy") && !json_object_get(s->attrs, "FilterPolicyScope"))
        json_object_set_new(a, "FilterPolicyScope", json_string("MessageAttributes"));
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_pack("{s:o}", "Attributes", a);
    return 0;
}

static int set_subscription_attributes(nb_call *c)
{
    const char *k = nb_in_str(c, "AttributeName"), *v = nb_in_str(c, "AttributeValue");
    pthread_rwlock_wrlock(&nb_sns_lock);
    sns_sub *s = sub_find(nb_in_str(c, "SubscriptionArn"), NULL);
    if (!s) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return E_NOSUB(c);
    }
    if (check_sub_attr(c, k, v, s->protocol, s->attrs, false, s->topic_arn) < 0) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return -1;
    }
    if (!strcmp(k, "FilterPolicyScope")) {
        /* the current policy must be valid in the new scope */
        const char *fp = json_string_value(json_object_get(s->attrs, "FilterPolicy"));
        char err[400];
        nb_sns_filter *f = fp && *fp ? nb_sns_filter_parse(fp, strlen(fp), !strcmp(v, "MessageBody"), err, sizeof(err)) : NULL;
        if (fp && *fp && !f) {
            pthread_rwlock_unlock(&nb_sns_lock);
            return e_param(c, "%s", err);
        }
        nb_sns_filter_free(f);
    }
    if (!strcmp(k, "RawMessageDelivery"))
        json_object_set_new(s->attrs, k, json_string(strcasecmp(v, "true") ? "false" : "true"));
    else if (!v || !*v)
        json_object_del(s->attrs, k);
    else
        json_object_set_new(s->attrs, k, json_string(v));
    sub_apply(s);
    int rc = save_sub(s);
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

/* ---------------------------------------------------------------- publish */

typedef struct pub_in {
    const char *topic_arn, *target_arn, *phone;
    const char *message, *subject, *structure;
    json_t *attrs;
    const char *group, *dedup;
} pub_in;

typedef struct pub_err {
    int status;
    const char *code;
    char msg[600];
} pub_err;

static int perr(pub_err *e, int status, const char *code, const char *fmt, ...) NB_PRINTF(4, 5);
static int perr(pub_err *e, int status, const char *code, const char *fmt, ...)
{
    e->status = status;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

static bool valid_subject(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 100) return false;
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || ispunct((unsigned char)*s)))
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) return false;
    return true;
}

/* FIFO MessageGroupId / MessageDeduplicationId: 1..128 alphanumeric or punctuation characters
 * (NULL = not given, checked elsewhere). */
static bool fifo_id_ok(const char *s)
{
    if (!s) return true;
    size_t n = strlen(s);
    if (n < 1 || n > 128) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e) return false;
    return true;
}

static int check_attrs(json_t *attrs, pub_err *e)
{
    const char *k;
    json_t *v;
    if (json_object_size(attrs) > 10)
        return perr(e, 400, "InvalidParameter", "Invalid parameter: MessageAttributes: Number of message attributes [%zu] exceeds the allowed maximum [10].",
                    json_object_size(attrs));
    json_object_foreach(attrs, k, v)
    {
        /* Names: at most 256 bytes of A-Z a-z 0-9 _ - ., not starting or ending with a period,
         * no two periods in a row; AWS names the first offence. */
        size_t kl = strlen(k);
        if (kl > 256)
            return perr(e, 400, "ParameterValueInvalid", "Length of message attribute name must be less than 256 bytes.");
        if (kl && k[0] == '.')
            return perr(e, 400, "ParameterValueInvalid", "Invalid message attribute name starting with character '.' was found.");
        if (kl && k[kl - 1] == '.')
            return perr(e, 400, "ParameterValueInvalid", "Invalid message attribute name ending with character '.' was found.");
        for (size_t i = 0; i < kl; i++) {
            unsigned char ch = (unsigned char)k[i];
            if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.') {
                /* the code point, as AWS prints it (#x20 for a space) */
                uint32_t cp = ch;
                int more = ch >= 0xf0 ? 3 : ch >= 0xe0 ? 2 : ch >= 0xc0 ? 1 : 0;
                if (more) cp = ch & (0x3f >> more);
                for (int j = 1; j <= more && i + (size_t)j < kl; j++) cp = (cp << 6) | ((unsigned char)k[i + (size_t)j] & 0x3f);
                return perr(e, 400, "ParameterValueInvalid",
                            "Invalid non-alphanumeric character '#x%X' was found in the message attribute name. Can only "
                            "include alphanumeric characters, hyphens, underscores, or dots.",
                            (unsigned)cp);
            }
            if (ch == '.' && i && k[i - 1] == '.')
                return perr(e, 400, "ParameterValueInvalid", "Message attribute name can not have successive '.' character.");
        }
        const char *type = json_string_value(json_object_get(v, "DataType"));
        json_t *sv = json_object_get(v, "StringValue"), *bv = json_object_get(v, "BinaryValue");
        if (!type || (strncmp(type, "String", 6) && strncmp(type, "Number", 6) && strncmp(type, "Binary", 6)))
            return perr(e, 400, "ParameterValueInvalid",
                        "The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.",
                        k);
        bool bin = !strncmp(type, "Binary", 6);
        /* a value in the other field: AWS names the field the type needs */
        if (bin ? !bv && sv : !sv && bv)
            return perr(e, 400, "ParameterValueInvalid", "The message attribute '%s' with type '%s' must use field '%s'.", k,
                        type, bin ? "Binary" : "String");
        if (bin ? !json_string_length(bv) : !json_string_length(sv))
            return perr(e, 400, "ParameterValueInvalid", "The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.",
                        k, type);
        if (!strncmp(type, "Number", 6)) {
            /* AWS: up to 38 digits of precision, 10^-128 to 10^+126 */
            if (!nb_sqs_number_valid(json_string_value(sv)))
                return perr(e, 400, "ParameterValueInvalid", "Could not cast message attribute '%s' value to number.", k);
        }
        if (!strcmp(type, "String.Array")) {
            json_t *arr = json_loads(json_string_value(sv), JSON_DECODE_ANY, NULL);
            bool ok = json_is_array(arr), flat = true;
            size_t ai;
            json_t *av;
            /* AWS: the values are strings, numbers, true, false or null (no nested arrays or
             * objects) */
            json_array_foreach(arr, ai, av) flat = flat && !json_is_array(av) && !json_is_object(av);
            json_decref(arr);
            if (!ok)
                return perr(e, 400, "ParameterValueInvalid",
                            "Invalid parameter: MessageAttributes: String.Array value for '%s' must be a JSON array", k);
            if (!flat)
                return perr(e, 400, "ParameterValueInvalid",
                            "Invalid parameter: MessageAttributes: String.Array value for '%s' may only hold strings, "
                            "numbers, true, false and null",
                            k);
        }
    }
    return 0;
}

static size_t attrs_size(json_t *attrs)
{
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(attrs, k, v)
    {
        n += strlen(k) + json_string_length(json_object_get(v, "DataType")) +
             json_string_length(json_object_get(v, "StringValue")) + json_string_length(json_object_get(v, "BinaryValue"));
    }
    return n;
}

/* The text a protocol receives: MessageStructure=json picks its key, else "default". */
static const char *message_for(json_t *structured, const char *protocol, const char *message)
{
    if (!structured) return message;
    const char *s = json_string_value(json_object_get(structured, protocol));
    if (!s && !strncmp(protocol, "email", 5)) s = json_string_value(json_object_get(structured, "email"));
    return s ? s : json_string_value(json_object_get(structured, "default"));
}

#define DEDUP_US (300 * 1000000LL)

/* FIFO topics deliver in sequence-number order: a publish takes a ticket with its sequence
 * number (under nb_sns_lock) and delivers when its turn comes, so that two publishers never
 * reach a queue in the other order. One line for every FIFO topic: their deliveries are
 * short SQS writes. */
static pthread_mutex_t fifo_turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fifo_turn_cv = PTHREAD_COND_INITIALIZER;
static uint64_t fifo_next_ticket, fifo_serving; /* next_ticket: nb_sns_lock held for writing */

static void fifo_turn_wait(uint64_t ticket)
{
    pthread_mutex_lock(&fifo_turn_mu);
    while (fifo_serving != ticket) pthread_cond_wait(&fifo_turn_cv, &fifo_turn_mu);
    pthread_mutex_unlock(&fifo_turn_mu);
}

static void fifo_turn_done(void)
{
    pthread_mutex_lock(&fifo_turn_mu);
    fifo_serving++;
    pthread_cond_broadcast(&fifo_turn_cv);
    pthread_mutex_unlock(&fifo_turn_mu);
}

/* Publish one message; fills msg_id (and seqnum for FIFO topics). */
static int publish_core(const pub_in *in, const char *account, char msg_id[37], char seqnum[24], pub_err *e)
{
    seqnum[0] = 0;
    const char *msg = in->message;
    if (!msg || !*msg) return perr(e, 400, "InvalidParameter", "Invalid parameter: Empty message");
    if (in->subject && !valid_subject(in->subject)) return perr(e, 400, "InvalidParameter", "Invalid parameter: Subject");
    if (strlen(msg) + attrs_size(in->attrs) > 262144)
        return perr(e, 400, "InvalidParameter", "Invalid parameter: Message too long");
    if (check_attrs(in->attrs, e) < 0) return -1;
    json_t *structured = NULL;
    if (in->structure) {
        if (strcmp(in->structure, "json"))
            return perr(e, 400, "InvalidParameter", "Invalid parameter: MessageStructure");
        structured = json_loads(msg, 0, NULL);
        if (!json_is_object(structured)) {
            json_decref(structured);
            return perr(e, 400, "InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse");
        }
        if (!json_is_string(json_object_get(structured, "default"))) {
            json_decref(structured);
            return perr(e, 400, "InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body");
        }
    }
    nb_uuid4(msg_id);
    int n_targets = !!in->topic_arn + !!in->target_arn + !!in->phone;
    if (n_targets != 1) {
        json_decref(structured);
        return perr(e, 400, "InvalidParameter",
                    n_targets ? "Invalid parameter: TopicArn or TargetArn Reason: Only one of them may be specified"
                              : "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter");
    }
    if (in->phone) {
        if (!valid_phone(in->phone)) {
            json_decref(structured);
            return perr(e, 400, "InvalidParameter", "Invalid parameter: PhoneNumber Reason: %s is not valid to publish to", in->phone);
        }
        /* AWS: one SMS publish carries at most 1,600 characters (split into parts on delivery) */
        const char *sms = message_for(structured, "sms", msg);
        size_t chars = 0;
        for (const char *p = sms; p && *p; p++) chars += ((unsigned char)*p & 0xc0) != 0x80;
        if (chars > 1600) {
            json_decref(structured);
            return perr(e, 400, "InvalidParameter", "Invalid parameter: Message Reason: SMS message must be less than 1600 characters");
        }
        pthread_rwlock_rdlock(&nb_sns_lock);
        bool out = json_object_get(json_object_get(kv, "optout"), in->phone) != NULL;
        pthread_rwlock_unlock(&nb_sns_lock);
        if (!out) nb_sns_record("sms", in->phone, NULL, msg_id, message_for(structured, "sms", msg), in->subject);
        json_decref(structured);
        return 0;
    }
    if (in->target_arn) {
        pthread_rwlock_rdlock(&nb_sns_lock);
        json_t *ep = json_object_get(endpoints, in->target_arn);
        const char *enabled = json_string_value(json_object_get(json_object_get(ep, "Attributes"), "Enabled"));
        bool disabled = enabled && !strcasecmp(enabled, "false");
        pthread_rwlock_unlock(&nb_sns_lock);
        if (!ep) {
            json_decref(structured);
            if (topic_find(in->target_arn)) goto as_topic; /* TargetArn may name a topic */
            return perr(e, 400, "InvalidParameter", "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified");
        }
        if (disabled) {
            json_decref(structured);
            return perr(e, 400, "EndpointDisabled", "Endpoint is disabled");
        }
        nb_sns_record("application", in->target_arn, NULL, msg_id, message_for(structured, "default", msg), in->subject);
        json_decref(structured);
        return 0;
    }
as_topic:;
    const char *tarn = in->topic_arn ? in->topic_arn : in->target_arn;
    pthread_rwlock_wrlock(&nb_sns_lock); /* FIFO sequence and dedup state change */
    sns_topic *t = topic_find(tarn);
    if (!t) {
        pthread_rwlock_unlock(&nb_sns_lock);
        json_decref(structured);
        if (!arn_well_formed(tarn, false))
            return perr(e, 400, "InvalidParameter", "Invalid parameter: %s", in->topic_arn ? "TopicArn" : "TargetArn");
        return perr(e, 404, "NotFound", "Topic does not exist");
    }
    (void)account;
    char hash[65];
    const char *dedup = in->dedup;
    const char *bad_id = fifo_id_ok(in->group) ? (fifo_id_ok(dedup) ? NULL : "MessageDeduplicationId") : "MessageGroupId";
    if (t->fifo && bad_id) {
        pthread_rwlock_unlock(&nb_sns_lock);
        json_decref(structured);
        return perr(e, 400, "InvalidParameter",
                    "Invalid parameter: %s Reason: %s can only include alphanumeric and punctuation characters. 1 "
                    "to 128 in length.",
                    bad_id, bad_id);
    }
    if (t->fifo) {
        const char *cbd = json_string_value(json_object_get(t->attrs, "ContentBasedDeduplication"));
        if (!in->group) {
            pthread_rwlock_unlock(&nb_sns_lock);
            json_decref(structured);
            return perr(e, 400, "InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics");
        }
        if (!dedup) {
            if (!cbd || strcasecmp(cbd, "true")) {
                pthread_rwlock_unlock(&nb_sns_lock);
                json_decref(structured);
                return perr(e, 400, "InvalidParameter",
                            "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly");
            }
            unsigned char md[32];
            nb_sha256(msg, strlen(msg), md);
            nb_hex(md, 32, hash);
            dedup = hash;
        }
        int64_t now = nb_clock_now_us();
        /* FifoThroughputScope MessageGroup: deduplication within each message group */
        const char *scope = json_string_value(json_object_get(t->attrs, "FifoThroughputScope"));
        const char *dkey = dedup;
        char *scoped = NULL;
        if (scope && !strcmp(scope, "MessageGroup")) {
            size_t gl = strlen(in->group), dl = strlen(dedup);
            scoped = malloc(gl + dl + 2);
            if (scoped) {
                memcpy(scoped, in->group, gl);
                scoped[gl] = '\n';
                memcpy(scoped + gl + 1, dedup, dl + 1);
                dkey = scoped;
            }
        }
        json_t *d = json_object_get(t->dedup, dkey);
        if (d && json_integer_value(json_array_get(d, 1)) > now) {
            snprintf(msg_id, 37, "%s", json_string_value(json_array_get(d, 0)));
            snprintf(seqnum, 24, "%s", json_string_value(json_array_get(d, 2)));
            pthread_rwlock_unlock(&nb_sns_lock);
            json_decref(structured);
            free(scoped);
            return 0;
        }
        snprintf(seqnum, 24, "%llu", 10000000000000000000ull + (unsigned long long)++t->seq);
        if (json_object_size(t->dedup) > 10000) { /* drop expired entries now and then */
            const char *k;
            json_t *v, *tmp;
            json_object_foreach_safe(t->dedup, tmp, k, v) if (json_integer_value(json_array_get(v, 1)) <= now) json_object_del(t->dedup, k);
        }
        json_object_set_new(t->dedup, dkey, json_pack("[s, I, s]", msg_id, (json_int_t)(now + DEDUP_US), seqnum));
        free(scoped);
    } else if (in->group) {
        pthread_rwlock_unlock(&nb_sns_lock);
        json_decref(structured);
        return perr(e, 400, "InvalidParameter",
                    "Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type");
    } else if (in->dedup) {
        pthread_rwlock_unlock(&nb_sns_lock);
        json_decref(structured);
        return perr(e, 400, "InvalidParameter",
                    "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type");
    }
    /* Snapshot the deliveries under the lock; deliver after releasing it. */
    sns_out **sqs = calloc(t->nsubs + 1, sizeof(*sqs)), **other = calloc(t->nsubs + 1, sizeof(*other));
    size_t nsqs = 0, nother = 0;
    for (size_t i = 0; sqs && other && i < t->nsubs; i++) {
        sns_sub *s = t->subs[i];
        if (!s->confirmed) continue;
        const char *text = message_for(structured, s->protocol, msg);
        if (s->filter && !nb_sns_filter_match(s->filter, in->attrs, text, strlen(text))) continue;
        sns_out *o = calloc(1, sizeof(*o));
        if (!o) continue;
        fill_out_common(o, t, s);
        o->type = strdup("Notification");
        o->message_id = strdup(msg_id);
        o->message = strdup(text);
        o->subject = in->subject ? strdup(in->subject) : NULL;
        o->attrs = json_object_size(in->attrs) ? json_deep_copy(in->attrs) : NULL;
        o->raw = s->raw;
        if (t->fifo) {
            o->group = strdup(in->group);
            o->dedup = strdup(dedup);
            o->seqnum = strdup(seqnum);
        }
        if (!strcmp(s->protocol, "sqs"))
            sqs[nsqs++] = o;
        else
            other[nother++] = o;
    }
    bool fifo = t->fifo;
    uint64_t ticket = fifo ? fifo_next_ticket++ : 0;
    pthread_rwlock_unlock(&nb_sns_lock);
    json_decref(structured);
    if (fifo) fifo_turn_wait(ticket);
    nb_sns_deliver_sqs(sqs, nsqs);
    if (fifo) fifo_turn_done();
    for (size_t i = 0; i < nother; i++) nb_sns_deliver_async(other[i]);
    free(sqs);
    free(other);
    return 0;
}

static int publish(nb_call *c)
{
    pub_in in = {nb_in_str(c, "TopicArn"), nb_in_str(c, "TargetArn"), nb_in_str(c, "PhoneNumber"), nb_in_str(c, "Message"),
                 nb_in_str(c, "Subject"), nb_in_str(c, "MessageStructure"), json_object_get(c->input, "MessageAttributes"),
                 nb_in_str(c, "MessageGroupId"), nb_in_str(c, "MessageDeduplicationId")};
    char id[37], seq[24];
    pub_err e;
    if (publish_core(&in, c->who.account, id, seq, &e) < 0) return nb_call_error(c, e.status, e.code, "%s", e.msg);
    c->output = json_pack("{s:s}", "MessageId", id);
    if (seq[0]) json_object_set_new(c->output, "SequenceNumber", json_string(seq));
    return 0;
}

static int publish_batch(nb_call *c)
{
    const char *arn = nb_in_str(c, "TopicArn");
    json_t *entries = json_object_get(c->input, "PublishBatchRequestEntries");
    size_t n = json_array_size(entries);
    if (!n) return nb_call_error(c, 400, "EmptyBatchRequest", "The batch request doesn't contain any entries");
    if (n > 10) return nb_call_error(c, 400, "TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *en = json_array_get(entries, i);
        const char *id = json_string_value(json_object_get(en, "Id"));
        for (size_t j = 0; j < i; j++)
            if (id && !strcmp(id, json_string_value(json_object_get(json_array_get(entries, j), "Id"))))
                return nb_call_error(c, 400, "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id");
        size_t l = id ? strlen(id) : 0;
        bool ok = l > 0 && l <= 80;
        for (size_t k = 0; ok && k < l; k++)
            if (!((id[k] >= 'a' && id[k] <= 'z') || (id[k] >= 'A' && id[k] <= 'Z') || (id[k] >= '0' && id[k] <= '9') || id[k] == '-' ||
                  id[k] == '_'))
                ok = false;
        if (!ok) return nb_call_error(c, 400, "InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification");
        const char *m = json_string_value(json_object_get(en, "Message"));
        total += (m ? strlen(m) : 0) + attrs_size(json_object_get(en, "MessageAttributes"));
    }
    if (total > 262144)
        return nb_call_error(c, 400, "BatchRequestTooLong", "The length of all the messages put together is more than the limit.");
    pthread_rwlock_rdlock(&nb_sns_lock);
    bool exists = topic_find(arn) != NULL;
    pthread_rwlock_unlock(&nb_sns_lock);
    if (!exists) return E_NOTOPIC(c);
    json_t *ok = json_array(), *failed = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *en = json_array_get(entries, i);
        const char *id = json_string_value(json_object_get(en, "Id"));
        pub_in in = {arn, NULL, NULL, json_string_value(json_object_get(en, "Message")),
                     json_string_value(json_object_get(en, "Subject")), json_string_value(json_object_get(en, "MessageStructure")),
                     json_object_get(en, "MessageAttributes"), json_string_value(json_object_get(en, "MessageGroupId")),
                     json_string_value(json_object_get(en, "MessageDeduplicationId"))};
        char mid[37], seq[24];
        pub_err e;
        if (publish_core(&in, c->who.account, mid, seq, &e) < 0) {
            json_array_append_new(failed, json_pack("{s:s, s:s, s:s, s:b}", "Id", id, "Code", e.code, "Message", e.msg,
                                                    "SenderFault", e.status < 500));
            continue;
        }
        json_t *o = json_pack("{s:s, s:s}", "Id", id, "MessageId", mid);
        if (seq[0]) json_object_set_new(o, "SequenceNumber", json_string(seq));
        json_array_append_new(ok, o);
    }
    c->output = json_pack("{s:o, s:o}", "Successful", ok, "Failed", failed);
    return 0;
}

int nb_sns_publish_internal(const char *topic_arn, const char *subject, const char *message, json_t *attributes,
                            const char *group_id, const char *dedup_id, char out_id[37])
{
    pub_in in = {topic_arn, NULL, NULL, message, subject, NULL, attributes, group_id, dedup_id};
    char id[37], seq[24];
    pub_err e;
    if (publish_core(&in, NULL, id, seq, &e) < 0) return e.status == 404 ? -ENOENT : e.status >= 500 ? -EIO : -EINVAL;
    if (out_id) memcpy(out_id, id, 37);
    return 0;
}

bool nb_sns_topic_exists(const char *topic_arn, bool *fifo)
{
    pthread_rwlock_rdlock(&nb_sns_lock);
    sns_topic *t = topic_find(topic_arn);
    if (t && fifo) *fifo = t->fifo;
    pthread_rwlock_unlock(&nb_sns_lock);
    return t != NULL;
}

/* ---------------------------------------------------------------- platform applications */

static int save_json_row(const char *table, const char *arn, const char *app, json_t *doc)
{
    char *d = dumps(doc);
    int rc = !strcmp(table, "apps") ? dbx("INSERT OR REPLACE INTO apps(arn, doc) VALUES(?,?)", "ss", arn, d)
                                    : dbx("INSERT OR REPLACE INTO endpoints(arn, app_arn, doc) VALUES(?,?,?)", "sss", arn, app, d);
    free(d);
    return rc;
}

static json_t *public_attrs(json_t *attrs)
{
    json_t *a = json_deep_copy(attrs ? attrs : json_object());
    json_object_del(a, "PlatformCredential");
    json_object_del(a, "PlatformPrincipal");
    return a;
}

/* The attributes AWS knows for platform applications and endpoints: 0, or the error naming
 * the first unknown one (or a bad value). */
static int check_push_attrs(nb_call *c, json_t *attrs, bool endpoint)
{
    static const char *const app_names[] = {"PlatformCredential", "PlatformPrincipal", "EventEndpointCreated",
                                            "EventEndpointDeleted", "EventEndpointUpdated", "EventDeliveryFailure",
                                            "SuccessFeedbackRoleArn", "FailureFeedbackRoleArn",
                                            "SuccessFeedbackSampleRate", "ApplePlatformTeamID",
                                            "ApplePlatformBundleID", "AuthenticationMethod"};
    static const char *const ep_names[] = {"CustomUserData", "Enabled", "Token"};
    const char *const *names = endpoint ? ep_names : app_names;
    size_t nnames = endpoint ? NB_ARRAY_LEN(ep_names) : NB_ARRAY_LEN(app_names);
    const char *k;
    json_t *v;
    json_object_foreach(attrs, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < nnames; i++) known = known || !strcmp(names[i], k);
        if (!known) return e_param(c, "Invalid parameter: Attributes Reason: Invalid attribute name: %s", k);
        const char *sv = json_string_value(v);
        if (!strcmp(k, "Enabled") && (!sv || (strcasecmp(sv, "true") && strcasecmp(sv, "false"))))
            return e_param(c, "Invalid parameter: Attributes Reason: Enabled must be true or false");
        if (!strcmp(k, "Token") && !json_string_length(v))
            return e_param(c, "Invalid parameter: Attributes Reason: Token cannot be empty");
        if (!strcmp(k, "SuccessFeedbackSampleRate") &&
            (!sv || !*sv || strspn(sv, "0123456789") != strlen(sv) || strlen(sv) > 3 || atoi(sv) > 100))
            return e_param(c, "Invalid parameter: Attributes Reason: SuccessFeedbackSampleRate must be from 0 to 100");
        if (!strncmp(k, "Event", 5) && sv && *sv && !arn_well_formed(sv, false))
            return e_param(c, "Invalid parameter: Attributes Reason: %s must be a topic ARN", k);
    }
    return 0;
}

static int create_platform_application(nb_call *c)
{
    const char *name = nb_in_str(c, "Name"), *platform = nb_in_str(c, "Platform");
    static const char *const platforms[] = {"ADM", "APNS", "APNS_SANDBOX", "GCM", "BAIDU", "MPNS", "WNS", "APNS_VOIP", "APNS_VOIP_SANDBOX"};
    bool ok = false;
    for (size_t i = 0; platform && i < NB_ARRAY_LEN(platforms); i++)
        if (!strcmp(platforms[i], platform)) ok = true;
    if (!ok) return e_param(c, "Invalid parameter: Platform Reason: %s is not supported", platform ? platform : "");
    /* 1 to 256 of A-Z a-z 0-9 _ - . (the name becomes part of the ARN) */
    bool name_ok = name && *name && strlen(name) <= 256;
    for (const char *p = name; name_ok && *p; p++) name_ok = isalnum((unsigned char)*p) || strchr("_-.", *p);
    if (!name_ok) return e_param(c, "Invalid parameter: Name");
    /* Every platform needs its credential; all but FCM/GCM also a principal (APNS certificate
     * or signing key id, ADM client id, Baidu API key, WNS package SID). */
    json_t *in_attrs = json_object_get(c->input, "Attributes");
    if (check_push_attrs(c, in_attrs, false) < 0) return -1;
    const char *need = !json_string_length(json_object_get(in_attrs, "PlatformCredential")) ? "PlatformCredential"
                       : strcmp(platform, "GCM") && strcmp(platform, "MPNS") &&
                               !json_string_length(json_object_get(in_attrs, "PlatformPrincipal"))
                           ? "PlatformPrincipal"
                           : NULL;
    if (need) return e_param(c, "Invalid parameter: Attributes Reason: %s attribute is required for %s", need, platform);
    char arn[400];
    snprintf(arn, sizeof(arn), "arn:aws:sns:%s:%s:app/%s/%s", nb_sns_region, c->who.account, platform, name);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:O}", "Name", name, "Platform", platform, "Account", c->who.account, "Attributes",
                            json_object_get(c->input, "Attributes") ? json_object_get(c->input, "Attributes") : json_object());
    pthread_rwlock_wrlock(&nb_sns_lock);
    json_object_set_new(apps, arn, doc);
    int rc = save_json_row("apps", arn, NULL, doc);
    pthread_rwlock_unlock(&nb_sns_lock);
    if (rc < 0) return E_INTERNAL(c);
    c->output = json_pack("{s:s}", "PlatformApplicationArn", arn);
    return 0;
}

static int get_platform_application_attributes(nb_call *c)
{
    pthread_rwlock_rdlock(&nb_sns_lock);
    json_t *a = json_object_get(apps, nb_in_str(c, "PlatformApplicationArn"));
    json_t *attrs = a ? public_attrs(json_object_get(a, "Attributes")) : NULL;
    pthread_rwlock_unlock(&nb_sns_lock);
    if (!attrs) return nb_call_error(c, 404, "NotFound", "PlatformApplication does not exist");
    c->output = json_pack("{s:o}", "Attributes", attrs);
    return 0;
}

static int set_platform_application_attributes(nb_call *c)
{
    const char *arn = nb_in_str(c, "PlatformApplicationArn");
    if (check_push_attrs(c, json_object_get(c->input, "Attributes"), false) < 0) return -1;
    pthread_rwlock_wrlock(&nb_sns_lock);
    json_t *a = json_object_get(apps, arn);
    int rc = 0;
    if (!a) {
        rc = nb_call_error(c, 404, "NotFound", "PlatformApplication does not exist");
    } else {
        json_object_update(json_object_get(a, "Attributes"), json_object_get(c->input, "Attributes"));
        if (save_json_row("apps", arn, NULL, a) < 0) rc = E_INTERNAL(c);
    }
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc;
}

static int delete_platform_application(nb_call *c)
{
    const char *arn = nb_in_str(c, "PlatformApplicationArn");
    pthread_rwlock_wrlock(&nb_sns_lock);
    json_object_del(apps, arn);
    const char *k;
    json_t *v, *tmp;
    json_object_foreach_safe(endpoints, tmp, k, v) if (!strcmp(json_string_value(json_object_get(v, "App")), arn ? arn : ""))
        json_object_del(endpoints, k);
    int rc = dbx("DELETE FROM apps WHERE arn = ?", "s", arn) | dbx("DELETE FROM endpoints WHERE app_arn = ?", "s", arn);
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int list_platform_applications(nb_call *c)
{
    json_t *arr = json_array();
    pthread_rwlock_rdlock(&nb_sns_lock);
    const char *k;
    json_t *v;
    json_object_foreach(apps, k, v) if (!strcmp(json_string_value(json_object_get(v, "Account")), c->who.account))
        json_array_append_new(arr, json_pack("{s:s, s:o}", "PlatformApplicationArn", k, "Attributes", public_attrs(json_object_get(v, "Attributes"))));
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_pack("{s:o}", "PlatformApplications", arr);
    return 0;
}

static int create_platform_endpoint(nb_call *c)
{
    const char *app = nb_in_str(c, "PlatformApplicationArn"), *token = nb_in_str(c, "Token");
    const char *cud = nb_in_str(c, "CustomUserData");
    json_t *in = json_object_get(c->input, "Attributes");
    if (!token || !*token) return e_param(c, "Invalid parameter: Token Reason: cannot be empty");
    if (check_push_attrs(c, in, true) < 0) return -1;
    pthread_rwlock_wrlock(&nb_sns_lock);
    json_t *a = json_object_get(apps, app);
    int rc = 0;
    if (!a) {
        rc = nb_call_error(c, 404, "NotFound", "PlatformApplication does not exist");
        goto out;
    }
    json_t *attrs = json_pack("{s:s, s:s}", "Token", token ? token : "", "Enabled", "true");
    if (cud) json_object_set_new(attrs, "CustomUserData", json_string(cud));
    json_object_update(attrs, in);
    const char *k;
    json_t *v;
    json_object_foreach(endpoints, k, v)
    {
        json_t *ea = json_object_get(v, "Attributes");
        if (strcmp(json_string_value(json_object_get(v, "App")), app) ||
            strcmp(json_string_value(json_object_get(ea, "Token")), token ? token : ""))
            continue;
        if (!json_equal(ea, attrs)) {
            json_decref(attrs);
            rc = e_param(c, "Invalid parameter: Token Reason: Endpoint %s already exists with the same Token, but different attributes.", k);
            goto out;
        }
        json_decref(attrs);
        c->output = json_pack("{s:s}", "EndpointArn", k);
        goto out;
    }
    char id[37], arn[500];
    nb_uuid4(id);
    snprintf(arn, sizeof(arn), "arn:aws:sns:%s:%s:endpoint/%s/%s/%s", nb_sns_region, c->who.account,
             json_string_value(json_object_get(a, "Platform")), json_string_value(json_object_get(a, "Name")), id);
    json_t *doc = json_pack("{s:s, s:o}", "App", app, "Attributes", attrs);
    json_object_set_new(endpoints, arn, doc);
    if (save_json_row("endpoints", arn, app, doc) < 0) rc = E_INTERNAL(c);
    else c->output = json_pack("{s:s}", "EndpointArn", arn);
out:
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc;
}

static int get_endpoint_attributes(nb_call *c)
{
    pthread_rwlock_rdlock(&nb_sns_lock);
    json_t *e = json_object_get(endpoints, nb_in_str(c, "EndpointArn"));
    json_t *a = e ? json_deep_copy(json_object_get(e, "Attributes")) : NULL;
    pthread_rwlock_unlock(&nb_sns_lock);
    if (!a) return nb_call_error(c, 404, "NotFound", "Endpoint does not exist");
    c->output = json_pack("{s:o}", "Attributes", a);
    return 0;
}

static int set_endpoint_attributes(nb_call *c)
{
    const char *arn = nb_in_str(c, "EndpointArn");
    if (check_push_attrs(c, json_object_get(c->input, "Attributes"), true) < 0) return -1;
    pthread_rwlock_wrlock(&nb_sns_lock);
    json_t *e = json_object_get(endpoints, arn);
    int rc = 0;
    if (!e) {
        rc = nb_call_error(c, 404, "NotFound", "Endpoint does not exist");
    } else {
        json_object_update(json_object_get(e, "Attributes"), json_object_get(c->input, "Attributes"));
        if (save_json_row("endpoints", arn, json_string_value(json_object_get(e, "App")), e) < 0) rc = E_INTERNAL(c);
    }
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc;
}

static int delete_endpoint(nb_call *c)
{
    const char *arn = nb_in_str(c, "EndpointArn");
    pthread_rwlock_wrlock(&nb_sns_lock);
    json_object_del(endpoints, arn);
    int rc = dbx("DELETE FROM endpoints WHERE arn = ?", "s", arn);
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int list_endpoints_by_platform_application(nb_call *c)
{
    const char *app = nb_in_str(c, "PlatformApplicationArn");
    pthread_rwlock_rdlock(&nb_sns_lock);
    if (!json_object_get(apps, app)) {
        pthread_rwlock_unlock(&nb_sns_lock);
        return nb_call_error(c, 404, "NotFound", "PlatformApplication does not exist");
    }
    json_t *arr = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(endpoints, k, v) if (!strcmp(json_string_value(json_object_get(v, "App")), app))
        json_array_append_new(arr, json_pack("{s:s, s:O}", "EndpointArn", k, "Attributes", json_object_get(v, "Attributes")));
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_pack("{s:o}", "Endpoints", arr);
    return 0;
}

/* ---------------------------------------------------------------- SMS */

/* SetSMSAttributes' attributes and AWS's rules for their values: 0, or the error. */
static int check_sms_attr(nb_call *c, const char *k, const char *v)
{
    size_t n = strlen(v);
    if (!strcmp(k, "DefaultSMSType")) {
        if (strcmp(v, "Promotional") && strcmp(v, "Transactional"))
            return e_param(c, "Invalid parameter: DefaultSMSType Reason: %s is not one of Promotional, Transactional", v);
    } else if (!strcmp(k, "MonthlySpendLimit")) {
        if (!n || strspn(v, "0123456789") != n)
            return e_param(c, "Invalid parameter: MonthlySpendLimit Reason: %s is not a whole number of US dollars", v);
    } else if (!strcmp(k, "DeliveryStatusSuccessSamplingRate")) {
        if (!n || n > 3 || strspn(v, "0123456789") != n || atoi(v) > 100)
            return e_param(c, "Invalid parameter: DeliveryStatusSuccessSamplingRate Reason: %s is not from 0 to 100", v);
    } else if (!strcmp(k, "DefaultSenderID")) {
        /* 1 to 11 letters and digits, at least one letter */
        bool ok = n >= 1 && n <= 11, letter = false;
        for (const char *p = v; ok && *p; p++) {
            ok = isalnum((unsigned char)*p);
            letter = letter || isalpha((unsigned char)*p);
        }
        if (!ok || !letter)
            return e_param(c, "Invalid parameter: DefaultSenderID Reason: must be 1 to 11 alphanumeric characters, at "
                              "least one of them a letter");
    } else if (!strcmp(k, "DeliveryStatusIAMRole")) {
        if (n && strncmp(v, "arn:aws:iam::", 13))
            return e_param(c, "Invalid parameter: DeliveryStatusIAMRole Reason: %s is not an IAM role ARN", v);
    } else if (strcmp(k, "UsageReportS3Bucket")) {
        return e_param(c, "Invalid parameter: %s Reason: not a valid SMS attribute", k);
    }
    return 0;
}

static int set_sms_attributes(nb_call *c)
{
    const char *ak;
    json_t *av;
    json_object_foreach(json_object_get(c->input, "attributes"), ak, av)
    {
        if (check_sms_attr(c, ak, json_string_value(av) ? json_string_value(av) : "") < 0) return -1;
    }
    char key[40];
    snprintf(key, sizeof(key), "sms:%s", c->who.account);
    pthread_rwlock_wrlock(&nb_sns_lock);
    json_t *a = json_object_get(kv, key);
    if (!a) {
        a = json_object();
        json_object_set_new(kv, key, a);
    }
    json_object_update(a, json_object_get(c->input, "attributes"));
    int rc = save_kv(key);
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_object();
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int get_sms_attributes(nb_call *c)
{
    char key[40];
    snprintf(key, sizeof(key), "sms:%s", c->who.account);
    pthread_rwlock_rdlock(&nb_sns_lock);
    json_t *a = json_object_get(kv, key), *out = json_object();
    json_t *names = json_object_get(c->input, "attributes");
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v)
    {
        bool want = !json_array_size(names);
        size_t i;
        json_t *n;
        json_array_foreach(names, i, n) if (!strcmp(json_string_value(n), k)) want = true;
        if (want) json_object_set(out, k, v);
    }
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_pack("{s:o}", "attributes", out);
    return 0;
}

static int check_if_phone_number_is_opted_out(nb_call *c)
{
    const char *p = nb_in_str(c, "phoneNumber");
    if (!valid_phone(p)) return e_param(c, "Invalid parameter: PhoneNumber Reason: input incorrectly formatted");
    pthread_rwlock_rdlock(&nb_sns_lock);
    bool out = json_object_get(json_object_get(kv, "optout"), p) != NULL;
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_pack("{s:b}", "isOptedOut", out);
    return 0;
}

static int list_phone_numbers_opted_out(nb_call *c)
{
    json_t *arr = json_array();
    pthread_rwlock_rdlock(&nb_sns_lock);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(kv, "optout"), k, v) json_array_append_new(arr, json_string(k));
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_pack("{s:o}", "phoneNumbers", arr);
    return 0;
}

static int set_optout(const char *phone, bool out)
{
    pthread_rwlock_wrlock(&nb_sns_lock);
    json_t *o = json_object_get(kv, "optout");
    if (!o) {
        o = json_object();
        json_object_set_new(kv, "optout", o);
    }
    if (out)
        json_object_set_new(o, phone, json_true());
    else
        json_object_del(o, phone);
    int rc = save_kv("optout");
    pthread_rwlock_unlock(&nb_sns_lock);
    return rc;
}

static int opt_in_phone_number(nb_call *c)
{
    const char *p = nb_in_str(c, "phoneNumber");
    if (!valid_phone(p)) return e_param(c, "Invalid parameter: PhoneNumber Reason: input incorrectly formatted");
    c->output = json_object();
    return set_optout(p, false) < 0 ? E_INTERNAL(c) : 0;
}

static int get_sms_sandbox_account_status(nb_call *c)
{
    c->output = json_pack("{s:b}", "IsInSandbox", false);
    return 0;
}

static int sandbox_change(nb_call *c, int what)
{
    const char *p = nb_in_str(c, "PhoneNumber");
    if (!valid_phone(p)) return e_param(c, "Invalid parameter: PhoneNumber Reason: input incorrectly formatted");
    char key[40];
    snprintf(key, sizeof(key), "sandbox:%s", c->who.account);
    pthread_rwlock_wrlock(&nb_sns_lock);
    json_t *s = json_object_get(kv, key);
    if (!s) {
        s = json_object();
        json_object_set_new(kv, key, s);
    }
    /* The sandbox list: phone -> status; a pending number's one-time password (sent as an SMS,
     * which lands among the recorded deliveries) under "otp:" + phone. */
    char otp_key[64], otp[7] = "";
    snprintf(otp_key, sizeof(otp_key), "otp:%s", p);
    int rc = 0;
    if (what == 0) {
        uint32_t r;
        nb_random(&r, sizeof(r));
        snprintf(otp, sizeof(otp), "%06u", (unsigned)(r % 1000000));
        json_object_set_new(s, p, json_string("Pending"));
        json_object_set_new(s, otp_key, json_string(otp));
    } else if (what == 1) {
        const char *want = json_string_value(json_object_get(s, otp_key));
        const char *got = nb_in_str(c, "OneTimePassword");
        if (!json_object_get(s, p))
            rc = nb_call_error(c, 404, "ResourceNotFound", "Phone number does not exist");
        else if (want && (!got || strcmp(want, got)))
            rc = nb_call_error(c, 400, "VerificationException", "Invalid one-time password.");
        else {
            json_object_set_new(s, p, json_string("Verified"));
            json_object_del(s, otp_key);
        }
    } else {
        json_object_del(s, p);
        json_object_del(s, otp_key);
    }
    if (!rc && save_kv(key) < 0) rc = E_INTERNAL(c);
    pthread_rwlock_unlock(&nb_sns_lock);
    if (!rc && otp[0]) {
        char id[37], text[120];
        nb_uuid4(id);
        snprintf(text, sizeof(text), "Your Amazon SNS verification code is: %s", otp);
        nb_sns_record("sms", p, NULL, id, text, NULL);
    }
    if (!rc) c->output = json_object();
    return rc;
}

static int create_sms_sandbox_phone_number(nb_call *c) { return sandbox_change(c, 0); }
static int verify_sms_sandbox_phone_number(nb_call *c) { return sandbox_change(c, 1); }
static int delete_sms_sandbox_phone_number(nb_call *c) { return sandbox_change(c, 2); }

static int list_sms_sandbox_phone_numbers(nb_call *c)
{
    char key[40];
    snprintf(key, sizeof(key), "sandbox:%s", c->who.account);
    json_t *arr = json_array();
    pthread_rwlock_rdlock(&nb_sns_lock);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(kv, key), k, v) if (strncmp(k, "otp:", 4))
        json_array_append_new(arr, json_pack("{s:s, s:O}", "PhoneNumber", k, "Status", v));
    pthread_rwlock_unlock(&nb_sns_lock);
    c->output = json_pack("{s:o}", "PhoneNumbers", arr);
    return 0;
}

static int list_origination_numbers(nb_call *c)
{
    c->output = json_pack("{s:[]}", "PhoneNumbers");
    return 0;
}

/* ---------------------------------------------------------------- authorization hook */

/* The topic a call names (TopicArn, ResourceArn, or the topic part of SubscriptionArn). */
static const char *called_topic(nb_call *c, char *buf, size_t n)
{
    const char *t = nb_in_str(c, "TopicArn");
    if (!t) t = nb_in_str(c, "ResourceArn");
    if (!t) {
        const char *s = nb_in_str(c, "SubscriptionArn");
        const char *colon = s ? strrchr(s, ':') : NULL;
        if (colon) {
            snprintf(buf, n, "%.*s", (int)(colon - s), s);
            t = buf;
        }
    }
    return t;
}

/* The topic's policy, when it matters: for other accounts' callers (the default policy keeps
 * them out) and when the owner set one. */
static const char *topic_policy(nb_call *c, const char **owner)
{
    char buf[400];
    const char *arn = called_topic(c, buf, sizeof(buf));
    *owner = NULL;
    if (!arn) return NULL;
    const char *pol = NULL;
    pthread_rwlock_rdlock(&nb_sns_lock);
    sns_topic *t = topic_find(arn);
    if (t) {
        *owner = nb_arena_strdup(c->arena, t->account);
        const char *p = json_string_value(json_object_get(t->attrs, "Policy"));
        if (p && *p)
            pol = nb_arena_strdup(c->arena, p);
        else if (strcmp(t->account, c->who.account) != 0) {
            char *d = default_policy(t);
            pol = nb_arena_strdup(c->arena, d);
            free(d);
        }
    }
    pthread_rwlock_unlock(&nb_sns_lock);
    return pol;
}

/* ---------------------------------------------------------------- admin paths */

static void reply_json(nb_req *r, int status, json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(1));
    json_decref(doc);
    nb_resp_simple(r, status, "application/json", s ? s : "{}", s ? strlen(s) : 2, NULL, 0);
    free(s);
}


static void xml_reply(nb_req *r, int status, const char *action, const char *inner)
{
    char rid[37];
    nb_uuid4(rid);
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_printf(&b, "<%sResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">", action);
    if (inner) nb_buf_printf(&b, "<%sResult>%s</%sResult>", action, inner, action);
    nb_buf_printf(&b, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", rid, action);
    nb_resp_simple(r, status, "text/xml", b.data, b.len, NULL, 0);
    nb_buf_free(&b);
}

/* An error answer in SNS's query form (through the protocol layer's writer), for the
 * subscription links, which are not API calls. */
static void error_reply(nb_req *r, int status, const char *code, const char *msg)
{
    nb_aws_error e = {.status = status, .sender_fault = true};
    snprintf(e.code, sizeof e.code, "%s", code);
    snprintf(e.message, sizeof e.message, "%s", msg);
    if (!r->request_id[0]) nb_uuid4(r->request_id);
    nb_wire_resp w;
    if (nb_proto_serialize_error(NULL, "query", &e, r->request_id, NULL, r->arena, &w) < 0) {
        nb_buf_free(&w.body);
        nb_resp_aws_error(r, status, code, msg);
        return;
    }
    nb_resp_simple(r, w.status, NULL, w.body.data, w.body.len, w.headers, w.nheaders);
    nb_buf_free(&w.body);
}

static void admin_confirm(nb_req *r)
{
    char arn[400];
    int rc = nb_sns_confirm(nb_req_query_arg(r, "TopicArn"), nb_req_query_arg(r, "Token"), false, false, arn, sizeof(arn));
    if (rc < 0) {
        if (rc == -ENOENT) error_reply(r, 404, "NotFound", "Topic does not exist");
        else error_reply(r, 400, "InvalidParameter", "Invalid token");
        return;
    }
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_puts(&b, "<SubscriptionArn>");
    nb_xml_escape(&b, arn, strlen(arn));
    nb_buf_puts(&b, "</SubscriptionArn>");
    xml_reply(r, 200, "ConfirmSubscription", b.data);
    nb_buf_free(&b);
}

static void admin_unsubscribe(nb_req *r)
{
    int rc = nb_sns_unsubscribe_arn(nb_req_query_arg(r, "SubscriptionArn"), false);
    if (rc == -ENOENT) {
        error_reply(r, 404, "NotFound", "Subscription does not exist");
        return;
    }
    if (rc == -EACCES) { /* confirmed with AuthenticateOnUnsubscribe: a signed Unsubscribe only */
        error_reply(r, 403, "AuthorizationError",
                    "This subscription requires an authenticated Unsubscribe request");
        return;
    }
    xml_reply(r, rc < 0 ? 500 : 200, "Unsubscribe", NULL);
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void admin_mailbox(nb_req *r)
{
    const char *to = nb_req_query_arg(r, "to");
    char dirp[1200];
    snprintf(dirp, sizeof(dirp), "%s/mailbox", nb_sns_dir);
    DIR *d = opendir(dirp);
    json_t *arr = json_array();
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !strstr(de->d_name, ".json")) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn) break;
            names = nn;
        }
        names[n++] = strdup(de->d_name);
    }
    if (d) closedir(d);
    if (names) qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; i < n; i++) {
        char p[1500];
        snprintf(p, sizeof(p), "%s/%s", dirp, names[i]);
        json_t *m = json_load_file(p, 0, NULL);
        if (m && (!to || !strcmp(json_string_value(json_object_get(m, "to")), to))) {
            json_object_set_new(m, "id", json_string(names[i]));
            json_array_append_new(arr, m);
        } else {
            json_decref(m);
        }
        free(names[i]);
    }
    free(names);
    reply_json(r, 200, json_pack("{s:o}", "messages", arr));
}

struct rec_list {
    const char *protocol;
    json_t *out;
};

static int rec_list_fn(sqlite3 *h, void *arg)
{
    struct rec_list *l = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT protocol, endpoint, topic_arn, message_id, message, subject, created FROM records"
                                     " WHERE ?1 IS NULL OR protocol = ?1 ORDER BY id");
    if (!st) return SQLITE_ERROR;
    if (l->protocol) sqlite3_bind_text(st, 1, l->protocol, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 1);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char iso[32];
        nb_time_iso8601(sqlite3_column_double(st, 6), iso);
        json_t *o = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s}", "protocol", (const char *)sqlite3_column_text(st, 0),
                              "endpoint", (const char *)sqlite3_column_text(st, 1), "topic_arn",
                              (const char *)sqlite3_column_text(st, 2), "message_id", (const char *)sqlite3_column_text(st, 3),
                              "message", (const char *)sqlite3_column_text(st, 4), "subject",
                              (const char *)sqlite3_column_text(st, 5), "timestamp", iso);
        json_array_append_new(l->out, o);
    }
    sqlite3_reset(st);
    return SQLITE_OK;
}

static void admin_worker(nb_req *r)
{
    nb_str p = {r->path, r->path_len};
    if (nb_str_eq(p, "/_nimbus/sns/confirm")) {
        admin_confirm(r);
    } else if (nb_str_eq(p, "/_nimbus/sns/unsubscribe")) {
        admin_unsubscribe(r);
    } else if (nb_str_eq(p, "/_nimbus/sns/mailbox")) {
        admin_mailbox(r);
    } else if (nb_str_eq(p, "/_nimbus/sns/messages")) {
        struct rec_list l = {nb_req_query_arg(r, "protocol"), json_array()};
        nb_db_read(nb_sns_db, rec_list_fn, &l);
        reply_json(r, 200, json_pack("{s:o}", "messages", l.out));
    } else if (nb_str_eq(p, "/_nimbus/sns/opt-out")) {
        const char *ph = nb_req_query_arg(r, "phone");
        if (!valid_phone(ph)) {
            reply_json(r, 400, json_pack("{s:s}", "error", "phone must be an E.164 number"));
            return;
        }
        int rc = set_optout(ph, true);
        reply_json(r, rc < 0 ? 500 : 200, json_pack("{s:s, s:b}", "phone", ph, "opted_out", rc == 0));
    } else {
        reply_json(r, 404, json_pack("{s:s, s:s}", "error", "NotFound", "message", "no such admin resource"));
    }
}

/* /_nimbus/sns/...: the signing certificate (what SigningCertURL points to), confirmation and
 * unsubscribe links (anyone holding the link may use it, as with AWS's), the mailbox,
 * recorded deliveries, and POST opt-out?phone= (a recipient replying STOP). */
static void sns_admin(nb_req *r)
{
    r->log_service = "sns";
    static const char pfx[] = "/_nimbus/sns/SimpleNotificationService-";
    if (r->path_len > sizeof(pfx) - 1 && !memcmp(r->path, pfx, sizeof(pfx) - 1)) {
        r->log_operation = "SigningCert";
        const char *id = nb_sns_cert_id(), *pem = nb_sns_cert_pem();
        char want[100];
        snprintf(want, sizeof(want), "%s%s.pem", pfx, id ? id : "");
        if (!pem || strlen(want) != r->path_len || memcmp(want, r->path, r->path_len)) {
            nb_resp_simple(r, 404, "text/plain", "not found\n", 10, NULL, 0);
            return;
        }
        nb_resp_simple(r, 200, "application/x-x509-ca-cert", pem, strlen(pem), NULL, 0);
        return;
    }
    nb_req_offload(r, admin_worker);
}

/* ---------------------------------------------------------------- service */

static int load_fn(sqlite3 *h, void *arg)
{
    (void)arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT arn, account, name, attrs, tags, dpp FROM topics");
    if (!st) return SQLITE_ERROR;
    while (sqlite3_step(st) == SQLITE_ROW) {
        sns_topic *t = calloc(1, sizeof(*t));
        if (!t) continue;
        snprintf(t->arn, sizeof(t->arn), "%s", sqlite3_column_text(st, 0));
        snprintf(t->account, sizeof(t->account), "%s", sqlite3_column_text(st, 1));
        snprintf(t->name, sizeof(t->name), "%s", sqlite3_column_text(st, 2));
        t->attrs = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
        t->tags = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
        if (!t->attrs) t->attrs = json_object();
        if (!t->tags) t->tags = json_object();
        if (sqlite3_column_text(st, 5)) t->dpp = strdup((const char *)sqlite3_column_text(st, 5));
        t->dedup = json_object();
        size_t l = strlen(t->name);
        t->fifo = l > 5 && !strcmp(t->name + l - 5, ".fifo");
        if (ntopics == captopics) {
            captopics = captopics ? captopics * 2 : 16;
            topics = realloc(topics, captopics * sizeof(*topics));
        }
        topics[ntopics++] = t;
    }
    sqlite3_reset(st);
    st = nb_db_stmt(h, "SELECT arn, topic_arn, owner, protocol, endpoint, attrs, confirmed, token, base FROM subs");
    if (!st) return SQLITE_ERROR;
    while (sqlite3_step(st) == SQLITE_ROW) {
        sns_topic *t = topic_find((const char *)sqlite3_column_text(st, 1));
        if (!t) continue;
        sns_sub *s = calloc(1, sizeof(*s));
        if (!s) continue;
        snprintf(s->arn, sizeof(s->arn), "%s", sqlite3_column_text(st, 0));
        snprintf(s->topic_arn, sizeof(s->topic_arn), "%s", t->arn);
        snprintf(s->owner, sizeof(s->owner), "%s", sqlite3_column_text(st, 2));
        snprintf(s->protocol, sizeof(s->protocol), "%s", sqlite3_column_text(st, 3));
        s->endpoint = strdup((const char *)sqlite3_column_text(st, 4));
        s->attrs = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
        if (!s->attrs) s->attrs = json_object();
        int flags = sqlite3_column_int(st, 6);
        s->confirmed = flags & 1;
        s->auth_confirmed = flags & 2;
        s->auth_unsub = flags & 4;
        /* rows from before the flags: a protocol without a handshake was confirmed by AWS itself */
        if (s->confirmed && strcmp(s->protocol, "http") && strcmp(s->protocol, "https") && strncmp(s->protocol, "email", 5))
            s->auth_confirmed = true;
        snprintf(s->token, sizeof(s->token), "%s", sqlite3_column_text(st, 7) ? (const char *)sqlite3_column_text(st, 7) : "");
        snprintf(s->base, sizeof(s->base), "%s", sqlite3_column_text(st, 8) ? (const char *)sqlite3_column_text(st, 8) : "");
        sub_apply(s);
        topic_add_sub(t, s);
    }
    sqlite3_reset(st);
    st = nb_db_stmt(h, "SELECT arn, doc FROM apps");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        json_t *d = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        if (d) json_object_set_new(apps, (const char *)sqlite3_column_text(st, 0), d);
    }
    if (st) sqlite3_reset(st);
    st = nb_db_stmt(h, "SELECT arn, doc FROM endpoints");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        json_t *d = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        if (d) json_object_set_new(endpoints, (const char *)sqlite3_column_text(st, 0), d);
    }
    if (st) sqlite3_reset(st);
    st = nb_db_stmt(h, "SELECT key, value FROM kv");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        json_t *d = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        if (d) json_object_set_new(kv, (const char *)sqlite3_column_text(st, 0), d);
    }
    if (st) sqlite3_reset(st);
    return SQLITE_OK;
}

static int sns_init(const nb_svc_env *env, char **err)
{
    snprintf(nb_sns_region, sizeof(nb_sns_region), "%s", env->region ? env->region : "us-east-1");
    snprintf(nb_sns_dir, sizeof(nb_sns_dir), "%s", env->data_dir);
    if (env->config) {
        const char *h = env->config->host;
        if (!strcmp(h, "0.0.0.0") || !strcmp(h, "::") || !*h) h = "localhost";
        snprintf(nb_sns_default_base, sizeof(nb_sns_default_base), strchr(h, ':') ? "http://[%s]:%d" : "http://%s:%d", h,
                 env->config->port);
    }
    char path[1200];
    snprintf(path, sizeof(path), "%s/sns.db", env->data_dir);
    nb_sns_db = nb_db_open(path, migrations, NB_ARRAY_LEN(migrations), err);
    if (!nb_sns_db) return -1;
    apps = json_object();
    endpoints = json_object();
    kv = json_object();
    pthread_rwlock_wrlock(&nb_sns_lock);
    int rc = nb_db_read(nb_sns_db, load_fn, NULL);
    pthread_rwlock_unlock(&nb_sns_lock);
    if (rc != SQLITE_OK) {
        *err = strdup("cannot load the SNS topics");
        return -1;
    }
    nb_sns_sign_setup(env->data_dir);
    nb_sns_deliver_init();
    return 0;
}

static void drop_all(void)
{
    pthread_rwlock_wrlock(&nb_sns_lock);
    for (size_t i = 0; i < ntopics; i++) topic_free(topics[i]);
    ntopics = 0;
    json_object_clear(apps);
    json_object_clear(endpoints);
    json_object_clear(kv);
    pthread_rwlock_unlock(&nb_sns_lock);
}

static void sns_shutdown(void)
{
    nb_sns_deliver_shutdown();
    drop_all();
    free(topics);
    topics = NULL;
    captopics = 0;
    json_decref(apps);
    json_decref(endpoints);
    json_decref(kv);
    apps = endpoints = kv = NULL;
    nb_db_close(nb_sns_db);
    nb_sns_db = NULL;
    nb_sns_sign_shutdown();
}

static int sns_reset(void)
{
    drop_all();
    return nb_db_wipe(nb_sns_db) == SQLITE_OK ? 0 : -1;
}

#define TOPIC "{TopicArn}"
static const nb_op_def ops[] = {
    {"AddPermission", add_permission, 0, NULL, TOPIC},
    {"CheckIfPhoneNumberIsOptedOut", check_if_phone_number_is_opted_out, 0, NULL, NULL},
    {"ConfirmSubscription", confirm_subscription, 0, NULL, TOPIC},
    {"CreatePlatformApplication", create_platform_application, 0, NULL, NULL},
    {"CreatePlatformEndpoint", create_platform_endpoint, 0, NULL, "{PlatformApplicationArn}"},
    {"CreateSMSSandboxPhoneNumber", create_sms_sandbox_phone_number, 0, NULL, NULL},
    {"CreateTopic", create_topic, 0, NULL, "arn:aws:sns:{region}:{account}:{Name}"},
    {"DeleteEndpoint", delete_endpoint, 0, NULL, "{EndpointArn}"},
    {"DeletePlatformApplication", delete_platform_application, 0, NULL, "{PlatformApplicationArn}"},
    {"DeleteSMSSandboxPhoneNumber", delete_sms_sandbox_phone_number, 0, NULL, NULL},
    {"DeleteTopic", delete_topic, 0, NULL, TOPIC},
    {"GetDataProtectionPolicy", get_data_protection_policy, 0, NULL, "{ResourceArn}"},
    {"GetEndpointAttributes", get_endpoint_attributes, 0, NULL, "{EndpointArn}"},
    {"GetPlatformApplicationAttributes", get_platform_application_attributes, 0, NULL, "{PlatformApplicationArn}"},
    {"GetSMSAttributes", get_sms_attributes, 0, NULL, NULL},
    {"GetSMSSandboxAccountStatus", get_sms_sandbox_account_status, 0, NULL, NULL},
    {"GetSubscriptionAttributes", get_subscription_attributes, 0, NULL, "{SubscriptionArn}"},
    {"GetTopicAttributes", get_topic_attributes, 0, NULL, TOPIC},
    {"ListEndpointsByPlatformApplication", list_endpoints_by_platform_application, 0, NULL, "{PlatformApplicationArn}"},
    {"ListOriginationNumbers", list_origination_numbers, 0, NULL, NULL},
    {"ListPhoneNumbersOptedOut", list_phone_numbers_opted_out, 0, NULL, NULL},
    {"ListPlatformApplications", list_platform_applications, 0, NULL, NULL},
    {"ListSMSSandboxPhoneNumbers", list_sms_sandbox_phone_numbers, 0, NULL, NULL},
    {"ListSubscriptions", list_subscriptions, 0, NULL, NULL},
    {"ListSubscriptionsByTopic", list_subscriptions_by_topic, 0, NULL, TOPIC},
    {"ListTagsForResource", list_tags_for_resource, 0, NULL, "{ResourceArn}"},
    {"ListTopics", list_topics, 0, NULL, NULL},
    {"OptInPhoneNumber", opt_in_phone_number, 0, NULL, NULL},
    {"Publish", publish, 0, NULL, "{TopicArn}"},
    {"PublishBatch", publish_batch, 0, "sns:Publish", TOPIC},
    {"PutDataProtectionPolicy", put_data_protection_policy, 0, NULL, "{ResourceArn}"},
    {"RemovePermission", remove_permission, 0, NULL, TOPIC},
    {"SetEndpointAttributes", set_endpoint_attributes, 0, NULL, "{EndpointArn}"},
    {"SetPlatformApplicationAttributes", set_platform_application_attributes, 0, NULL, "{PlatformApplicationArn}"},
    {"SetSMSAttributes", set_sms_attributes, 0, NULL, NULL},
    {"SetSubscriptionAttributes", set_subscription_attributes, 0, NULL, "{SubscriptionArn}"},
    {"SetTopicAttributes", set_topic_attributes, 0, NULL, TOPIC},
    {"Subscribe", subscribe, 0, NULL, TOPIC},
    {"TagResource", tag_resource, 0, NULL, "{ResourceArn}"},
    {"Unsubscribe", unsubscribe, 0, NULL, "{SubscriptionArn}"},
    {"UntagResource", untag_resource, 0, NULL, "{ResourceArn}"},
    {"VerifySMSSandboxPhoneNumber", verify_sms_sandbox_phone_number, 0, NULL, NULL},
};
#undef TOPIC

const nb_service nb_svc_sns = {
    .name = "sns",
    .model = "sns",
    .ops = ops,
    .nops = NB_ARRAY_LEN(ops),
    .init = sns_init,
    .shutdown = sns_shutdown,
    .reset = sns_reset,
    .resource_policy = topic_policy,
    .admin = sns_admin,
};
