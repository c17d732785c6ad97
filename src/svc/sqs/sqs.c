/* sqs.c: Amazon SQS, in both protocols it is spoken in: `query` (Action=SendMessage, what
 * Debian's boto3 1.26 and aws CLI 2.9 send) and JSON (X-Amz-Target: AmazonSQS.SendMessage,
 * what current SDKs send; the model is synthesized by tools/gen_models.py from the same
 * shapes). One handler serves both; only errors differ: in JSON mode the code goes into
 * __type as "com.amazonaws.sqs#<Shape>" and the query code into x-amzn-query-error, as AWS
 * does for SDKs that map errors by their query names.
 *
 * Authorization: the operations are flagged NB_OP_NO_AUTHZ and check themselves, because
 * SQS names its resource by a URL (QueueUrl) while IAM wants the queue ARN, and the queue's
 * Policy attribute is its resource policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/hash.h"
#include "core/sched.h"
#include "iam/authz.h"
#include "iam/policy.h"
#include "svc/sqs/sqs_internal.h"

/* ---------------------------------------------------------------- errors */

static bool json_mode(const nb_call *c)
{
    return c->model && !strcmp(nb_model_protocol(c->model), "json");
}

/* shape: the JSON model's error shape ("QueueDoesNotExist"); code: the query code
 * ("AWS.SimpleQueueService.NonExistentQueue"). */
static int sqs_error(nb_call *c, int status, const char *shape, const char *code, const char *fmt, ...)
    NB_PRINTF(5, 6);
static int sqs_error(nb_call *c, int status, const char *shape, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!json_mode(c)) return nb_call_error(c, status, code, "%s", msg);
    nb_call_error(c, status, "", "%s", msg);
    snprintf(c->err.code, sizeof(c->err.code), "com.amazonaws.sqs#%s", shape);
    if (c->out_nheaders < NB_ARRAY_LEN(c->out_headers)) {
        const char *v = nb_arena_printf(c->arena, "%s;%s", code, status < 500 ? "Sender" : "Receiver");
        if (v) {
            nb_header *h = &c->out_headers[c->out_nheaders++];
            h->name = "x-amzn-query-error";
            h->name_len = strlen(h->name);
            h->value = v;
            h->value_len = strlen(v);
        }
    }
    return -1;
}

/* AWS words it differently per protocol: the query API still names the WSDL. */
#define E_NOQUEUE(c)                                                                               \
    sqs_error(c, 400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "%s",      \
              json_mode(c) ? "The specified queue does not exist."                                 \
                           : "The specified queue does not exist for this wsdl version.")
#define E_PARAM(c, ...) sqs_error(c, 400, "InvalidParameterValueException", "InvalidParameterValue", __VA_ARGS__)
#define E_MISSING(c, p)                                                                            \
    sqs_error(c, 400, "MissingRequiredParameterException", "MissingParameter",                   \
              "The request must contain the parameter %s.", p)
#define E_INTERNAL(c) sqs_error(c, 500, "InternalError", "InternalError", "We encountered an internal error. Please try again.")

/* ---------------------------------------------------------------- helpers */

static const char *host_of(nb_call *c)
{
    const char *h = nb_call_header(c, "host");
    return h && *h ? h : nb_sqs_default_host;
}

static const char *queue_url(nb_call *c, const sqs_queue *q)
{
    return nb_arena_printf(c->arena, "http://%s/%s/%s", host_of(c), q->account, q->name);
}

static bool is_account(const char *s, size_t n)
{
    if (n != 12) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* QueueUrl "http://host/<account>/<name>" (or a bare name, or a request path to it) -> queue.
 * A URL without an account names the caller's queue. */
static sqs_queue *find_queue_url(nb_call *c, const char *url)
{
    if (!url || !*url) return NULL;
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (!p) return NULL;
    const char *slash = strrchr(p, '/');
    const char *name = slash ? slash + 1 : p;
    char account[13];
    if (slash && slash - p >= 12 && is_account(slash - 12, 12) && (slash - 12 == p || slash[-13] == '/')) {
        memcpy(account, slash - 12, 12);
        account[12] = 0;
    } else {
        snprintf(account, sizeof(account), "%s", c->who.account);
    }
    return nb_sqs_queue_get(account, name);
}

/* The queue the call names, authorized for action; NULL with c->err set. */
static sqs_queue *need_queue(nb_call *c, const char *action)
{
    const char *url = nb_in_str(c, "QueueUrl");
    sqs_queue *q = find_queue_url(c, url);
    if (!q) {
        E_NOQUEUE(c);
        return NULL;
    }
    pthread_mutex_lock(&q->mu);
    const char *pol = json_string_value(json_object_get(q->attrs, "Policy"));
    char *policy = pol && *pol ? nb_arena_strdup(c->arena, pol) : NULL;
    pthread_mutex_unlock(&q->mu);
    nb_authz_check_args a = {.action = action, .resource = q->arn, .resource_policy = policy,
                             .resource_account = q->account};
    if (nb_authz_check(c, &a) < 0) {
        nb_sqs_queue_put(q);
        /* A caller who may not see a queue is told it does not exist only when it is another
         * account's; AWS answers AccessDenied otherwise. */
        return NULL;
    }
    return q;
}

static bool valid_queue_name(const char *n, bool *fifo)
{
    size_t l = n ? strlen(n) : 0;
    *fifo = l > 5 && !strcmp(n + l - 5, ".fifo");
    size_t base = *fifo ? l - 5 : l;
    if (l == 0 || l > 80 || base == 0) return false;
    for (size_t i = 0; i < base; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') || (n[i] >= '0' && n[i] <= '9') ||
              n[i] == '-' || n[i] == '_'))
            return false;
    return true;
}

/* ---------------------------------------------------------------- queue attributes */

enum attr_kind { A_INT, A_BOOL, A_JSON, A_STR, A_ENUM };
static const struct attr_def {
    const char *name;
    enum attr_kind kind;
    long lo, hi;
    bool fifo_only;
    const char *values; /* A_ENUM: '|' separated */
} attr_defs[] = {
    {"DelaySeconds", A_INT, 0, 900, false, NULL},
    {"MaximumMessageSize", A_INT, 1024, NB_SQS_MAX_MESSAGE, false, NULL}, /* 1 MiB since August 2025 */
    {"MessageRetentionPeriod", A_INT, 60, 1209600, false, NULL},
    {"Policy", A_JSON, 0, 0, false, NULL},
    {"ReceiveMessageWaitTimeSeconds", A_INT, 0, 20, false, NULL},
    {"VisibilityTimeout", A_INT, 0, 43200, false, NULL},
    {"RedrivePolicy", A_JSON, 0, 0, false, NULL},
    {"RedriveAllowPolicy", A_JSON, 0, 0, false, NULL},
    {"KmsMasterKeyId", A_STR, 0, 0, false, NULL},
    {"KmsDataKeyReusePeriodSeconds", A_INT, 60, 86400, false, NULL},
    {"SqsManagedSseEnabled", A_BOOL, 0, 0, false, NULL},
    {"FifoQueue", A_BOOL, 0, 0, true, NULL},
    {"ContentBasedDeduplication", A_BOOL, 0, 0, true, NULL},
    {"DeduplicationScope", A_ENUM, 0, 0, true, "messageGroup|queue"},
    {"FifoThroughputLimit", A_ENUM, 0, 0, true, "perQueue|perMessageGroupId"},
};

static const struct attr_def *attr_def(const char *name)
{
    for (size_t i = 0; i < NB_ARRAY_LEN(attr_defs); i++)
        if (!strcmp(attr_defs[i].name, name)) return &attr_defs[i];
    return NULL;
}

static bool is_int(const char *s, long *v)
{
    if (!s || !*s) return false;
    char *end;
    long x = strtol(s, &end, 10);
    if (*end) return false;
    *v = x;
    return true;
}

/* Validate one attribute as AWS does; self_arn: the queue's own ARN (a DLQ may not be itself). */
/* Whether dlq's RedriveAllowPolicy lets the queue src_arn name it as its dead-letter queue:
 * allowAll (the default), denyAll, or byQueue with src_arn among sourceQueueArns. */
static bool redrive_allowed(sqs_queue *dlq, const char *src_arn)
{
    pthread_mutex_lock(&dlq->mu);
    const char *text = json_string_value(json_object_get(dlq->attrs, "RedriveAllowPolicy"));
    json_t *doc = text && *text ? json_loads(text, 0, NULL) : NULL;
    pthread_mutex_unlock(&dlq->mu);
    const char *perm = json_string_value(json_object_get(doc, "redrivePermission"));
    bool ok = !perm || !strcmp(perm, "allowAll");
    if (perm && !strcmp(perm, "byQueue")) {
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(doc, "sourceQueueArns"), i, a) ok = ok || (json_is_string(a) && !strcmp(json_string_value(a), src_arn));
    }
    json_decref(doc);
    return ok;
}

static int check_attr(nb_call *c, const char *name, const char *val, bool fifo, const char *self_arn)
{
    const struct attr_def *d = attr_def(name);
    if (d && !fifo && (!strcmp(name, "DeduplicationScope") || !strcmp(name, "FifoThroughputLimit")))
        return sqs_error(c, 400, "InvalidAttributeName", "InvalidAttributeName",
                         "You can specify the %s only when FifoQueue is set to true.", name);
    if (!d || (d->fifo_only && !fifo))
        return sqs_error(c, 400, "InvalidAttributeName", "InvalidAttributeName", "Unknown Attribute %s.", name);
    long v;
    switch (d->kind) {
    case A_INT:
        if (!is_int(val, &v) || v < d->lo || v > d->hi)
            return sqs_error(c, 400, "InvalidAttributeValue", "InvalidAttributeValue",
                             "Invalid value for the parameter %s.", name);
        break;
    case A_BOOL:
        if (strcasecmp(val, "true") && strcasecmp(val, "false"))
            return sqs_error(c, 400, "InvalidAttributeValue", "InvalidAttributeValue",
                             "Invalid value for the parameter %s.", name);
        if (!strcmp(name, "FifoQueue") && !strcasecmp(val, "false") && fifo)
            return sqs_error(c, 400, "InvalidAttributeValue", "InvalidAttributeValue",
                             "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.");
        break;
    case A_ENUM: {
        const char *p = d->values;
        size_t vl = strlen(val);
        bool ok = false;
        while (p && *p) {
            const char *bar = strchr(p, '|');
            size_t n = bar ? (size_t)(bar - p) : strlen(p);
            if (n == vl && !strncmp(p, val, n)) ok = true;
            p = bar ? bar + 1 : NULL;
        }
        if (!ok)
            return sqs_error(c, 400, "InvalidAttributeValue", "InvalidAttributeValue",
                             "Invalid value for the parameter %s.", name);
        break;
    }
    case A_JSON: {
        if (!*val) break; /* "" removes the policy */
        json_t *doc = json_loads(val, 0, NULL);
        if (!json_is_object(doc)) {
            json_decref(doc);
            return sqs_error(c, 400, "InvalidAttributeValue", "InvalidAttributeValue",
                             "Invalid value for the parameter %s.", name);
        }
        if (!strcmp(name, "Policy")) {
            /* a resource policy AWS would take: statements, principals, actions ... */
            json_decref(doc);
            nb_policy *pol = nb_policy_parse(val, strlen(val), NB_POLICY_RESOURCE, NULL);
            if (!pol)
                return sqs_error(c, 400, "InvalidAttributeValue", "InvalidAttributeValue",
                                 "Invalid value for the parameter Policy.");
            nb_policy_free(pol);
            return 0;
        }
        if (!strcmp(name, "RedriveAllowPolicy")) {
            /* redrivePermission allowAll (default) | denyAll | byQueue; byQueue names 1..10
             * source queues, the others none. */
            const char *perm = json_string_value(json_object_get(doc, "redrivePermission"));
            json_t *src = json_object_get(doc, "sourceQueueArns");
            bool by_queue = perm && !strcmp(perm, "byQueue");
            bool ok = (!perm || by_queue || !strcmp(perm, "allowAll") || !strcmp(perm, "denyAll")) &&
                      (!src || json_is_array(src)) &&
                      (by_queue ? json_array_size(src) >= 1 && json_array_size(src) <= 10 : !src);
            size_t i;
            json_t *a;
            json_array_foreach(src, i, a) ok = ok && json_is_string(a);
            json_decref(doc);
            if (!ok)
                return sqs_error(c, 400, "InvalidAttributeValue", "InvalidParameterValue",
                                 "Value %s for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't "
                                 "create the redrive allow policy, as it's in an unsupported format.",
                                 val);
            return 0;
        }
        if (!strcmp(name, "RedrivePolicy")) {
            const char *arn = json_string_value(json_object_get(doc, "deadLetterTargetArn"));
            json_t *mrc = json_object_get(doc, "maxReceiveCount");
            long n = json_is_integer(mrc) ? (long)json_integer_value(mrc) : -1;
            if (json_is_string(mrc) && !is_int(json_string_value(mrc), &n)) n = -1;
            int rc = 0;
            const char *key;
            json_t *kv;
            bool extra = false;
            json_object_foreach(doc, key, kv) extra = extra || (strcmp(key, "deadLetterTargetArn") && strcmp(key, "maxReceiveCount"));
            if (extra)
                rc = sqs_error(c, 400, "InvalidAttributeValue", "InvalidParameterValue",
                               "Value %s for parameter RedrivePolicy is invalid. Reason: Only following attributes are "
                               "supported: [deadLetterTargetArn, maxReceiveCount].",
                               val);
            else if (!arn)
                rc = sqs_error(c, 400, "InvalidAttributeValue", "InvalidParameterValue",
                               "Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy does not "
                               "contain mandatory attribute: deadLetterTargetArn.",
                               val);
            else if (!mrc)
                rc = sqs_error(c, 400, "InvalidAttributeValue", "InvalidParameterValue",
                               "Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy does not "
                               "contain mandatory attribute: maxReceiveCount.",
                               val);
            else if (n < 1 || n > 1000)
                rc = sqs_error(c, 400, "InvalidAttributeValue", "InvalidParameterValue",
                               "Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for "
                               "maxReceiveCount: %s, valid values are from 1 to 1000 both inclusive.",
                               val, json_is_string(mrc) ? json_string_value(mrc) : nb_arena_printf(c->arena, "%ld", n));
            else {
                sqs_queue *dlq = nb_sqs_queue_by_arn(arn);
                if (!dlq || (self_arn && !strcmp(arn, self_arn)))
                    rc = sqs_error(c, 400, "InvalidAttributeValue", "InvalidParameterValue",
                                   "Value %s for parameter RedrivePolicy is invalid. Reason: Dead letter target "
                                   "does not exist.",
                                   val);
                else if (dlq->fifo != fifo)
                    rc = sqs_error(c, 400, "InvalidAttributeValue", "InvalidParameterValue",
                                   "Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter queue "
                                   "must be same type of queue as the source..",
                                   val);
                else if (self_arn && !redrive_allowed(dlq, self_arn))
                    rc = sqs_error(c, 400, "InvalidAttributeValue", "InvalidParameterValue",
                                   "Value %s for parameter RedrivePolicy is invalid. Reason: The dead-letter queue's "
                                   "RedriveAllowPolicy does not allow this queue as a source queue.",
                                   val);
                nb_sqs_queue_put(dlq);
            }
            json_decref(doc);
            return rc;
        }
        json_decref(doc);
        break;
    }
    case A_STR:
        break;
    }
    return 0;
}

/* The value an attribute is stored (and shown) as, once check_attr accepted it: AWS rewrites a
 * RedrivePolicy as compact JSON with maxReceiveCount a number ("5" given -> 5); booleans are
 * lower-cased. New reference. */
static json_t *stored_attr(const char *name, const char *val)
{
    const struct attr_def *d = attr_def(name);
    if (d && d->kind == A_BOOL) return json_string(strcasecmp(val, "true") ? "false" : "true");
    if (!strcmp(name, "RedrivePolicy") && *val) {
        json_t *doc = json_loads(val, 0, NULL);
        json_t *mrc = json_object_get(doc, "maxReceiveCount");
        long n = json_is_integer(mrc) ? (long)json_integer_value(mrc) : 0;
        if (json_is_string(mrc)) is_int(json_string_value(mrc), &n);
        json_t *norm = json_pack("{s:O?, s:I}", "deadLetterTargetArn", json_object_get(doc, "deadLetterTargetArn"),
                                 "maxReceiveCount", (json_int_t)n);
        json_decref(doc);
        char *text = norm ? json_dumps(norm, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(norm);
        json_t *out = json_string(text ? text : val);
        free(text);
        return out;
    }
    return json_string(val);
}

static void set_num(json_t *o, const char *k, long long v)
{
    char b[32];
    snprintf(b, sizeof(b), "%lld", v);
    json_object_set_new(o, k, json_string(b));
}

/* Every attribute the queue has, as GetQueueAttributes All shows them. */
static json_t *all_attrs(sqs_queue *q)
{
    size_t vis, inflight, delayed;
    nb_sqs_counts(q, &vis, &inflight, &delayed);
    json_t *o = json_object();
    set_num(o, "ApproximateNumberOfMessages", (long long)vis);
    set_num(o, "ApproximateNumberOfMessagesNotVisible", (long long)inflight);
    set_num(o, "ApproximateNumberOfMessagesDelayed", (long long)delayed);
    pthread_mutex_lock(&q->mu);
    set_num(o, "CreatedTimestamp", q->created);
    set_num(o, "DelaySeconds", q->delay);
    set_num(o, "LastModifiedTimestamp", q->modified);
    set_num(o, "MaximumMessageSize", q->max_size);
    set_num(o, "MessageRetentionPeriod", q->retention);
    json_object_set_new(o, "QueueArn", json_string(q->arn));
    set_num(o, "ReceiveMessageWaitTimeSeconds", q->wait);
    set_num(o, "VisibilityTimeout", q->visibility);
    json_object_set_new(o, "SqsManagedSseEnabled", json_string("true"));
    if (q->fifo) {
        json_object_set_new(o, "FifoQueue", json_string("true"));
        json_object_set_new(o, "ContentBasedDeduplication", json_string(q->content_dedup ? "true" : "false"));
        json_object_set_new(o, "DeduplicationScope", json_string("queue"));
        json_object_set_new(o, "FifoThroughputLimit", json_string("perQueue"));
    }
    const char *k;
    json_t *v;
    json_object_foreach(q->attrs, k, v)
    {
        if (!strcmp(k, "FifoQueue")) continue;
        if (json_string_length(v) == 0 && (!strcmp(k, "Policy") || !strcmp(k, "RedrivePolicy") ||
                                           !strcmp(k, "RedriveAllowPolicy") || !strcmp(k, "KmsMasterKeyId")))
            continue;
        json_object_set(o, k, v);
    }
    if (json_object_get(q->attrs, "KmsMasterKeyId") && json_string_length(json_object_get(q->attrs, "KmsMasterKeyId"))) {
        json_object_set_new(o, "SqsManagedSseEnabled", json_string("false"));
        /* AWS shows the data key reuse period (default 5 minutes) of a KMS-encrypted queue */
        if (!json_object_get(o, "KmsDataKeyReusePeriodSeconds"))
            json_object_set_new(o, "KmsDataKeyReusePeriodSeconds", json_string("300"));
    }
    pthread_mutex_unlock(&q->mu);
    return o;
}

/* One kind of server-side encryption at a time: a KMS key and SqsManagedSseEnabled=true in
 * one request are refused (either alone switches the queue to that kind). */
static int check_sse(nb_call *c, json_t *in)
{
    json_t *k = json_object_get(in, "KmsMasterKeyId"), *m = json_object_get(in, "SqsManagedSseEnabled");
    if (json_string_length(k) && m && !strcasecmp(json_string_value(m), "true"))
        return E_PARAM(c, "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS "
                          "SSE or SQS SSE.");
    return 0;
}

/* High-throughput FIFO: FifoThroughputLimit perMessageGroupId is allowed only with
 * DeduplicationScope messageGroup (AWS). in: the attributes being set; cur: the queue's. */
static int check_throughput(nb_call *c, json_t *in, json_t *cur)
{
    const char *scope = json_string_value(json_object_get(in, "DeduplicationScope"));
    const char *limit = json_string_value(json_object_get(in, "FifoThroughputLimit"));
    if (!scope) scope = json_string_value(json_object_get(cur, "DeduplicationScope"));
    if (!limit) limit = json_string_value(json_object_get(cur, "FifoThroughputLimit"));
    if (limit && !strcmp(limit, "perMessageGroupId") && (!scope || strcmp(scope, "messageGroup")))
        return sqs_error(c, 400, "InvalidAttributeValue", "InvalidAttributeValue",
                         "Invalid value for the parameter FifoThroughputLimit. Reason: perMessageGroupId is "
                         "allowed only when the value for DeduplicationScope is messageGroup.");
    return 0;
}

static int check_tags(nb_call *c, json_t *tags);

static bool printable_id(const char *s)
{
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e) return false;
    return true;
}

/* ---------------------------------------------------------------- queues */

static int create_queue(nb_call *c)
{
    const char *name = nb_in_str(c, "QueueName");
    bool fifo;
    json_t *in_attrs = json_object_get(c->input, "Attributes");
    const char *fq = json_string_value(json_object_get(in_attrs, "FifoQueue"));
    if (!valid_queue_name(name, &fifo) || (fq && !strcasecmp(fq, "true") && !fifo)) {
        if ((fq && !strcasecmp(fq, "true")) || fifo)
            return E_PARAM(c, "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                              "underscores, must end with .fifo suffix and be 1 to 80 in length.");
        return E_PARAM(c, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
    }
    if (fifo && (!fq || strcasecmp(fq, "true")))
        return E_PARAM(c, "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                          "underscores, must end with .fifo suffix and be 1 to 80 in length.");
    char arn[160];
    snprintf(arn, sizeof(arn), "arn:aws:sqs:%s:%s:%s", nb_sqs_region, c->who.account, name);
    nb_authz_check_args a = {.action = "sqs:CreateQueue", .resource = arn};
    if (nb_authz_check(c, &a) < 0) return -1;
    const char *k;
    json_t *v;
    json_t *attrs = json_object();
    json_object_foreach(in_attrs, k, v)
    {
        const char *s = json_string_value(v);
        if (!s || check_attr(c, k, s, fifo, arn) < 0) {
            json_decref(attrs);
            return c->err.code[0] ? -1 : sqs_error(c, 400, "InvalidAttributeValue", "InvalidAttributeValue", "Invalid value for the parameter %s.", k);
        }
        if (!strcmp(k, "FifoQueue")) {
            json_object_set_new(attrs, k, json_string("true"));
            continue;
        }
        json_object_set_new(attrs, k, stored_attr(k, s));
    }
    if ((fifo && check_throughput(c, attrs, NULL) < 0) || check_sse(c, attrs) < 0) {
        json_decref(attrs);
        return -1;
    }
    json_t *tags = json_object();
    json_object_update(tags, json_object_get(c->input, "tags"));
    if (json_object_size(tags) > 50) {
        json_decref(attrs);
        json_decref(tags);
        return E_PARAM(c, "Too many tags added for queue %s.", name);
    }
    if (check_tags(c, tags) < 0) {
        json_decref(attrs);
        json_decref(tags);
        return -1;
    }
    sqs_queue *q = NULL;
    json_t *attrs_copy = json_deep_copy(attrs);
    int rc = nb_sqs_queue_create(c->who.account, name, attrs, tags, &q);
    if (rc < 0) {
        json_decref(attrs_copy);
        return E_INTERNAL(c);
    }
    if (rc == 2) {
        json_decref(attrs_copy);
        return sqs_error(c, 400, "QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently",
                         "You must wait 60 seconds after deleting a queue before you can create another with the "
                         "same name.");
    }
    if (rc == 1) {
        /* Exists: the same attributes are fine (AWS answers the URL); a different value for
         * one is QueueAlreadyExists. */
        json_t *cur = all_attrs(q);
        const char *bad = NULL;
        json_object_foreach(attrs_copy, k, v)
        {
            json_t *cv = json_object_get(cur, k);
            if (!cv || strcmp(json_string_value(cv), json_string_value(v)) != 0) bad = k;
        }
        if (bad) {
            bad = nb_arena_strdup(c->arena, bad);
            json_decref(cur);
            json_decref(attrs_copy);
            nb_sqs_queue_put(q);
            return sqs_error(c, 400, "QueueNameExists", "QueueAlreadyExists",
                             "A queue already exists with the same name and a different value for attribute %s", bad);
        }
        json_decref(cur);
    }
    json_decref(attrs_copy);
    c->output = json_pack("{s:s}", "QueueUrl", queue_url(c, q));
    nb_sqs_queue_put(q);
    return 0;
}

static int get_queue_url(nb_call *c)
{
    const char *name = nb_in_str(c, "QueueName");
    const char *owner = nb_in_str(c, "QueueOwnerAWSAccountId");
    sqs_queue *q = nb_sqs_queue_get(owner && *owner ? owner : c->who.account, name);
    if (!q) return E_NOQUEUE(c);
    pthread_mutex_lock(&q->mu);
    const char *pol = json_string_value(json_object_get(q->attrs, "Policy"));
    char *policy = pol && *pol ? nb_arena_strdup(c->arena, pol) : NULL;
    pthread_mutex_unlock(&q->mu);
    nb_authz_check_args a = {.action = "sqs:GetQueueUrl", .resource = q->arn, .resource_policy = policy,
                             .resource_account = q->account};
    if (nb_authz_check(c, &a) < 0) {
        nb_sqs_queue_put(q);
        return -1;
    }
    c->output = json_pack("{s:s}", "QueueUrl", queue_url(c, q));
    nb_sqs_queue_put(q);
    return 0;
}

/* MaxResults (0 when absent) and the queue name NextToken resumes after, for the paged
 * lists; -1 with the error set. */
static int page_args(nb_call *c, json_int_t *max, char after[100])
{
    *max = nb_in_int(c, "MaxResults", 0);
    if (json_object_get(c->input, "MaxResults") && (*max < 1 || *max > 1000))
        return E_PARAM(c, "Value %lld for parameter MaxResults is invalid. Reason: MaxResults must be an integer "
                          "between 1 and 1000.",
                       (long long)*max);
    const char *token = nb_in_str(c, "NextToken");
    after[0] = 0;
    if (token) {
        unsigned char raw[200];
        size_t tl = strlen(token);
        ssize_t n = tl < 260 ? nb_base64_decode(token, tl, raw) : -1;
        if (n < 0 || n >= 100) return E_PARAM(c, "Invalid NextToken value.");
        memcpy(after, raw, (size_t)n);
        after[n] = 0;
    }
    return 0;
}

/* The NextToken that resumes a paged list after the queue named last. */
static void page_token(nb_call *c, json_t *out, const char *last)
{
    char *t = nb_arena_alloc(c->arena, nb_base64_encoded_len(strlen(last)) + 1);
    if (!t) return;
    nb_base64_encode((const unsigned char *)last, strlen(last), t);
    json_object_set_new(out, "NextToken", json_string(t));
}

static int list_queues(nb_call *c)
{
    nb_authz_check_args a = {.action = "sqs:ListQueues",
                             .resource = nb_arena_printf(c->arena, "arn:aws:sqs:%s:%s:*", nb_sqs_region, c->who.account)};
    if (nb_authz_check(c, &a) < 0) return -1;
    json_int_t max;
    char after[100];
    if (page_args(c, &max, after)) return -1;
    size_t n;
    sqs_queue **v = nb_sqs_queue_list(c->who.account, nb_in_str(c, "QueueNamePrefix"), &n);
    if (!v) return E_INTERNAL(c);
    json_t *urls = json_array();
    size_t limit = max ? (size_t)max : 1000;
    const char *last = NULL;
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        if (after[0] && strcmp(v[i]->name, after) <= 0) continue;
        if (json_array_size(urls) == limit) {
            more = true;
            break;
        }
        json_array_append_new(urls, json_string(queue_url(c, v[i])));
        last = v[i]->name;
    }
    json_t *out = json_object();
    if (json_array_size(urls))
        json_object_set_new(out, "QueueUrls", urls);
    else
        json_decref(urls);
    if (more && max && last) page_token(c, out, last);
    for (size_t i = 0; i < n; i++) nb_sqs_queue_put(v[i]);
    free(v);
    c->output = out;
    return 0;
}

static int delete_queue(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:DeleteQueue");
    if (!q) return -1;
    int rc = nb_sqs_queue_delete(q);
    nb_sqs_queue_put(q);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int get_queue_attributes(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:GetQueueAttributes");
    if (!q) return -1;
    json_t *names = json_object_get(c->input, "AttributeNames");
    json_t *all = all_attrs(q);
    json_t *out = json_object();
    bool every = false;
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n) if (!strcmp(json_string_value(n), "All")) every = true;
    if (every) {
        json_object_update(out, all);
    } else {
        json_array_foreach(names, i, n)
        {
            const char *k = json_string_value(n);
            json_t *v = json_object_get(all, k);
            if (v) {
                json_object_set(out, k, v);
                continue;
            }
            bool known = attr_def(k) || !strcmp(k, "ApproximateNumberOfMessages") ||
                         !strcmp(k, "ApproximateNumberOfMessagesNotVisible") ||
                         !strcmp(k, "ApproximateNumberOfMessagesDelayed") || !strcmp(k, "CreatedTimestamp") ||
                         !strcmp(k, "LastModifiedTimestamp") || !strcmp(k, "QueueArn");
            /* a known name the queue has no value for (FifoQueue on a standard queue, an unset
             * Policy) is left out, as AWS does; only unknown names are refused */
            if (!known) {
                json_decref(all);
                json_decref(out);
                nb_sqs_queue_put(q);
                return sqs_error(c, 400, "InvalidAttributeName", "InvalidAttributeName", "Unknown Attribute %s.", k);
            }
        }
    }
    json_decref(all);
    nb_sqs_queue_put(q);
    c->output = json_object_size(out) ? json_pack("{s:o}", "Attributes", out) : (json_decref(out), json_object());
    return 0;
}

static int set_queue_attributes(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:SetQueueAttributes");
    if (!q) return -1;
    json_t *in = json_object_get(c->input, "Attributes");
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v)
    {
        const char *s = json_string_value(v);
        if (!s || check_attr(c, k, s, q->fifo, q->arn) < 0) {
            nb_sqs_queue_put(q);
            return c->err.code[0] ? -1 : E_PARAM(c, "Invalid value for the parameter %s.", k);
        }
    }
    pthread_mutex_lock(&q->mu);
    int bad = q->fifo ? check_throughput(c, in, q->attrs) : 0;
    if (!bad) bad = check_sse(c, in);
    pthread_mutex_unlock(&q->mu);
    if (bad < 0) {
        nb_sqs_queue_put(q);
        return -1;
    }
    pthread_mutex_lock(&q->mu);
    json_object_foreach(in, k, v)
    {
        json_object_set_new(q->attrs, k, stored_attr(k, json_string_value(v)));
        /* one kind of SSE at a time: enabling one turns the other off */
        if (!strcmp(k, "SqsManagedSseEnabled") && !strcasecmp(json_string_value(v), "true"))
            json_object_del(q->attrs, "KmsMasterKeyId");
        if (!strcmp(k, "KmsMasterKeyId") && json_string_length(v))
            json_object_set_new(q->attrs, "SqsManagedSseEnabled", json_string("false"));
    }
    q->modified = nb_clock_now();
    nb_sqs_queue_apply_attrs(q);
    pthread_mutex_unlock(&q->mu);
    int rc = nb_sqs_queue_save(q);
    nb_sqs_queue_put(q);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int purge_queue(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:PurgeQueue");
    if (!q) return -1;
    int64_t now = nb_clock_now_us();
    pthread_mutex_lock(&q->mu);
    bool busy = q->purge_at_us && now - q->purge_at_us < 60 * 1000000LL;
    if (!busy) q->purge_at_us = now;
    pthread_mutex_unlock(&q->mu);
    if (busy) {
        /* AWS names the queue (not its URL) */
        const char *name = nb_arena_strdup(c->arena, q->name);
        nb_sqs_queue_put(q);
        return sqs_error(c, 403, "PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress",
                         "Only one PurgeQueue operation on %s is allowed every 60 seconds.", name);
    }
    int rc = nb_sqs_purge(q);
    nb_sqs_queue_put(q);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

/* ---------------------------------------------------------------- tags, permissions */

/* Tag keys are 1 to 128 characters, values at most 256: 0, or the AWS error. */
static int check_tags(nb_call *c, json_t *tags)
{
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v)
    {
        size_t kl = strlen(k), vl = json_string_length(v);
        if (kl < 1 || kl > 128) return E_PARAM(c, "Tag keys must be between 1 and 128 characters in length.");
        if (vl > 256) return E_PARAM(c, "Tag values must be between 0 and 256 characters in length.");
    }
    return 0;
}

static int tag_queue(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:TagQueue");
    if (!q) return -1;
    json_t *in = json_object_get(c->input, "Tags");
    int rc = !json_object_size(in) ? E_MISSING(c, "Tags") : check_tags(c, in);
    if (rc) {
        nb_sqs_queue_put(q);
        return rc;
    }
    /* A refused request leaves the tags as they were. */
    pthread_mutex_lock(&q->mu);
    json_t *merged = json_copy(q->tags);
    json_object_update(merged, in);
    bool too_many = json_object_size(merged) > 50;
    if (!too_many) json_object_update(q->tags, in);
    pthread_mutex_unlock(&q->mu);
    json_decref(merged);
    if (too_many) {
        nb_sqs_queue_put(q);
        return E_PARAM(c, "Too many tags added for queue %s.", q->name);
    }
    rc = nb_sqs_queue_save(q);
    nb_sqs_queue_put(q);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int untag_queue(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:UntagQueue");
    if (!q) return -1;
    size_t i;
    json_t *k, *keys = json_object_get(c->input, "TagKeys");
    bool bad = !json_array_size(keys);
    json_array_foreach(keys, i, k) bad = bad || !json_string_length(k) || json_string_length(k) > 128;
    if (bad) {
        nb_sqs_queue_put(q);
        return E_PARAM(c, "Tag keys must be between 1 and 128 characters in length.");
    }
    pthread_mutex_lock(&q->mu);
    json_array_foreach(keys, i, k) json_object_del(q->tags, json_string_value(k));
    pthread_mutex_unlock(&q->mu);
    int rc = nb_sqs_queue_save(q);
    nb_sqs_queue_put(q);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int list_queue_tags(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:ListQueueTags");
    if (!q) return -1;
    pthread_mutex_lock(&q->mu);
    json_t *t = json_deep_copy(q->tags);
    pthread_mutex_unlock(&q->mu);
    nb_sqs_queue_put(q);
    c->output = json_object_size(t) ? json_pack("{s:o}", "Tags", t) : (json_decref(t), json_object());
    return 0;
}

static int add_permission(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:AddPermission");
    if (!q) return -1;
    const char *label = nb_in_str(c, "Label");
    json_t *accounts = json_object_get(c->input, "AWSAccountIds"), *actions = json_object_get(c->input, "Actions");
    /* AWS's checks, in its order: actions present, accounts present, at most 7 actions, each
     * one a caller may be granted (owner-only actions such as SetQueueAttributes are refused). */
    static const char *const grantable[] = {"*", "ChangeMessageVisibility", "DeleteMessage", "GetQueueAttributes",
                                            "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue",
                                            "ReceiveMessage", "SendMessage"};
    int rc = 0;
    if (!json_array_size(actions))
        rc = E_MISSING(c, "Actions");
    else if (!json_array_size(accounts))
        rc = E_PARAM(c, "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify.");
    else if (json_array_size(actions) > 7)
        rc = sqs_error(c, 403, "OverLimit", "OverLimit", "%zu Actions were found, maximum allowed is 7.",
                       json_array_size(actions));
    for (size_t k = 0; !rc && k < json_array_size(actions); k++) {
        const char *a = json_string_value(json_array_get(actions, k));
        bool ok = false;
        for (size_t g = 0; a && g < NB_ARRAY_LEN(grantable); g++) ok = ok || !strcmp(a, grantable[g]);
        if (!ok)
            rc = E_PARAM(c, "Value SQS:%s for parameter ActionName is invalid. Reason: Only the queue owner is allowed to "
                            "invoke this action.", a ? a : "");
    }
    if (rc) {
        nb_sqs_queue_put(q);
        return rc;
    }
    pthread_mutex_lock(&q->mu);
    const char *cur = json_string_value(json_object_get(q->attrs, "Policy"));
    json_t *pol = cur && *cur ? json_loads(cur, 0, NULL) : NULL;
    if (!json_is_object(pol)) {
        json_decref(pol);
        pol = json_pack("{s:s, s:s, s:[]}", "Version", "2012-10-17", "Id", nb_arena_printf(c->arena, "%s/SQSDefaultPolicy", q->arn),
                        "Statement");
    }
    json_t *st = json_object_get(pol, "Statement");
    if (!json_is_array(st)) {
        st = json_array();
        json_object_set_new(pol, "Statement", st);
    }
    size_t i;
    json_t *s;
    bool exists = false;
    json_array_foreach(st, i, s) if (json_is_string(json_object_get(s, "Sid")) &&
                                     !strcmp(json_string_value(json_object_get(s, "Sid")), label)) exists = true;
    if (exists) {
        pthread_mutex_unlock(&q->mu);
        json_decref(pol);
        nb_sqs_queue_put(q);
        return E_PARAM(c, "Value %s for parameter Label is invalid. Reason: Already exists.", label);
    }
    json_t *princ = json_array(), *acts = json_array();
    json_t *x;
    json_array_foreach(accounts, i, x) json_array_append_new(princ, json_string(nb_arena_printf(c->arena, "arn:aws:iam::%s:root", json_string_value(x))));
    json_array_foreach(actions, i, x) json_array_append_new(acts, json_string(nb_arena_printf(c->arena, "SQS:%s", json_string_value(x))));
    /* AWS writes a lone principal or action as a string, several as a list. */
    princ = nb_policy_one_or_list(princ);
    acts = nb_policy_one_or_list(acts);
    json_array_append_new(st, json_pack("{s:s, s:s, s:{s:o}, s:o, s:s}", "Sid", label, "Effect", "Allow", "Principal", "AWS",
                                        princ, "Action", acts, "Resource", q->arn));
    char *text = json_dumps(pol, JSON_COMPACT);
    json_decref(pol);
    json_object_set_new(q->attrs, "Policy", json_string(text ? text : ""));
    free(text);
    pthread_mutex_unlock(&q->mu);
    rc = nb_sqs_queue_save(q);
    nb_sqs_queue_put(q);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

static int remove_permission(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:RemovePermission");
    if (!q) return -1;
    const char *label = nb_in_str(c, "Label");
    pthread_mutex_lock(&q->mu);
    const char *cur = json_string_value(json_object_get(q->attrs, "Policy"));
    json_t *pol = cur && *cur ? json_loads(cur, 0, NULL) : NULL;
    json_t *st = json_object_get(pol, "Statement");
    size_t i;
    json_t *s;
    bool found = false;
    json_array_foreach(st, i, s)
    {
        const char *sid = json_string_value(json_object_get(s, "Sid"));
        if (sid && !strcmp(sid, label)) {
            json_array_remove(st, i);
            found = true;
            break;
        }
    }
    if (!found) {
        pthread_mutex_unlock(&q->mu);
        json_decref(pol);
        nb_sqs_queue_put(q);
        return E_PARAM(c, "Value %s for parameter Label is invalid. Reason: can't find label on existing policy.", label);
    }
    char *text = json_array_size(st) ? json_dumps(pol, JSON_COMPACT) : NULL;
    json_decref(pol);
    json_object_set_new(q->attrs, "Policy", json_string(text ? text : ""));
    free(text);
    pthread_mutex_unlock(&q->mu);
    int rc = nb_sqs_queue_save(q);
    nb_sqs_queue_put(q);
    return rc < 0 ? E_INTERNAL(c) : 0;
}

/* Paging as ListQueues: MaxResults 1..1000, NextToken = the last name given (base64); a
 * token is only handed out when MaxResults was. */
static int list_dead_letter_source_queues(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:ListDeadLetterSourceQueues");
    if (!q) return -1;
    json_int_t max;
    char after[100];
    if (page_args(c, &max, after)) {
        nb_sqs_queue_put(q);
        return -1;
    }
    size_t n, limit = max ? (size_t)max : 1000;
    sqs_queue **all = nb_sqs_queue_list(q->account, NULL, &n);
    json_t *urls = json_array();
    const char *last = NULL;
    bool more = false;
    for (size_t i = 0; all && i < n; i++) {
        pthread_mutex_lock(&all[i]->mu);
        bool src = !strcmp(all[i]->dlq_arn, q->arn);
        pthread_mutex_unlock(&all[i]->mu);
        if (!src || (after[0] && strcmp(all[i]->name, after) <= 0)) continue;
        if (json_array_size(urls) == limit) {
            more = true;
            break;
        }
        json_array_append_new(urls, json_string(queue_url(c, all[i])));
        last = nb_arena_strdup(c->arena, all[i]->name);
    }
    for (size_t i = 0; all && i < n; i++) nb_sqs_queue_put(all[i]);
    free(all);
    nb_sqs_queue_put(q);
    c->output = json_pack("{s:o}", "queueUrls", urls);
    if (more && max && last) page_token(c, c->output, last);
    return 0;
}

/* ---------------------------------------------------------------- send */

typedef struct send_in {
    const char *body;
    size_t body_len; /* may hold NUL, which nb_sqs_body_valid refuses */
    json_t *attrs, *sys;
    json_int_t delay; /* -1 = queue default */
    const char *group, *dedup;
} send_in;

/* Validate one message against q and prepare it; 0, or -1 with (code, message) for batch
 * entries / c->err for single sends. */
struct verr {
    const char *shape, *code;
    char msg[600];
};

static int prepare(nb_call *c, sqs_queue *q, const send_in *in, sqs_send *out, struct verr *e)
{
    size_t blen = in->body ? in->body_len : 0;
#define FAIL(sh, cd, ...)                                                                          \
    do {                                                                                           \
        e->shape = sh;                                                                             \
        e->code = cd;                                                                              \
        snprintf(e->msg, sizeof(e->msg), __VA_ARGS__);                                             \
        return -1;                                                                                 \
    } while (0)
    if (!in->body || !blen) FAIL("MissingRequiredParameterException", "MissingParameter", "The request must contain the parameter MessageBody.");
    if (!nb_sqs_body_valid(in->body, blen))
        FAIL("InvalidMessageContents", "InvalidMessageContents",
             "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to "
             "#xFFFD | #x10000 to #x10FFFF");
    char msg[600];
    if (nb_sqs_attrs_validate(in->attrs, false, msg, sizeof(msg)) < 0)
        FAIL("InvalidParameterValueException", "InvalidParameterValue", "%s", msg);
    if (nb_sqs_attrs_validate(in->sys, true, msg, sizeof(msg)) < 0)
        FAIL("InvalidParameterValueException", "InvalidParameterValue", "%s", msg);
    size_t total = blen + nb_sqs_attrs_size(in->attrs);
    pthread_mutex_lock(&q->mu);
    int max_size = q->max_size, qdelay = q->delay;
    bool content_dedup = q->content_dedup;
    pthread_mutex_unlock(&q->mu);
    if (total > (size_t)max_size)
        FAIL("InvalidParameterValueException", "InvalidParameterValue",
             "One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", max_size);
    if (in->delay != -1 && (in->delay < 0 || in->delay > 900))
        FAIL("InvalidParameterValueException", "InvalidParameterValue",
             "Value %lld for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.",
             (long long)in->delay);
    char hash[65];
    const char *dedup = in->dedup;
    if (q->fifo) {
        if (!in->group) FAIL("MissingRequiredParameterException", "MissingParameter", "The request must contain the parameter MessageGroupId.");
        if (in->delay > 0)
            FAIL("InvalidParameterValueException", "InvalidParameterValue",
                 "Value %lld for parameter DelaySeconds is invalid. Reason: The request include parameter that is "
                 "not valid for this queue type.",
                 (long long)in->delay);
        if (!dedup && !content_dedup)
            FAIL("InvalidParameterValueException", "InvalidParameterValue",
                 "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                 "provided explicitly");
        if (!dedup) {
            unsigned char md[32];
            nb_sha256(in->body, blen, md);
            nb_hex(md, 32, hash);
            dedup = hash;
        }
        /* Both may hold 1 to 128 alphanumeric and punctuation characters (no spaces, no
         * controls); AWS words a length and a character refusal alike. */
        const char *bad = strlen(in->group) > 128 || !printable_id(in->group) ? "MessageGroupId"
                          : strlen(dedup) > 128 || !printable_id(dedup)     ? "MessageDeduplicationId"
                                                                            : NULL;
        if (bad)
            FAIL("InvalidParameterValueException", "InvalidParameterValue",
                 "Value %s for parameter %s is invalid. Reason: %s can only include alphanumeric and punctuation "
                 "characters. 1 to 128 in length.",
                 !strcmp(bad, "MessageGroupId") ? in->group : dedup, bad, bad);
    } else if (in->dedup) {
        FAIL("InvalidParameterValueException", "InvalidParameterValue",
             "Value %s for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter "
             "that is not valid for this queue type.",
             in->dedup);
    } else if (in->group && (!*in->group || strlen(in->group) > 128 || !printable_id(in->group))) {
        /* standard queues take a MessageGroupId for fair queueing (AWS, July 2025), same rules */
        FAIL("InvalidParameterValueException", "InvalidParameterValue",
             "Value %s for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric "
             "and punctuation characters. 1 to 128 in length.",
             in->group);
    }
    char *attrs_text = json_object_size(in->attrs) ? json_dumps(in->attrs, JSON_COMPACT) : NULL;
    char *sys_text = json_object_size(in->sys) ? json_dumps(in->sys, JSON_COMPACT) : NULL;
    const char *sender = c && c->who.user_id[0] ? c->who.user_id : "AIDAIT2UOQQY3AUEKVGXU";
    sqs_msg *m = nb_sqs_msg_new(in->body, blen, attrs_text, sys_text, in->group,
                                q->fifo ? dedup : NULL, sender);
    free(attrs_text);
    free(sys_text);
    if (!m) FAIL("InternalError", "InternalError", "We encountered an internal error. Please try again.");
    nb_uuid4(m->id);
    nb_sqs_md5_hex(in->body, blen, m->md5_body);
    if (nb_sqs_md5_attrs(in->attrs, m->md5_attrs) < 0 || nb_sqs_md5_attrs(in->sys, m->md5_sys) < 0) {
        free(m);
        FAIL("InvalidParameterValueException", "InvalidParameterValue", "The message attribute value is not valid base64.");
    }
    *out = (sqs_send){.q = q, .m = m, .delay = in->delay >= 0 ? (int)in->delay : qdelay};
    return 0;
#undef FAIL
}

static void fill_send_in(json_t *o, send_in *in)
{
    json_t *b = json_object_get(o, "MessageBody");
    in->body = json_string_value(b);
    in->body_len = json_string_length(b);
    in->attrs = json_object_get(o, "MessageAttributes");
    in->sys = json_object_get(o, "MessageSystemAttributes");
    json_t *d = json_object_get(o, "DelaySeconds");
    in->delay = json_is_integer(d) ? json_integer_value(d) : -1;
    in->group = json_string_value(json_object_get(o, "MessageGroupId"));
    in->dedup = json_string_value(json_object_get(o, "MessageDeduplicationId"));
}

static void send_result(json_t *o, const sqs_send *s, const char *md5_body, const char *md5_attrs, const char *md5_sys)
{
    json_object_set_new(o, "MessageId", json_string(s->id));
    json_object_set_new(o, "MD5OfMessageBody", json_string(md5_body));
    if (md5_attrs[0]) json_object_set_new(o, "MD5OfMessageAttributes", json_string(md5_attrs));
    if (md5_sys[0]) json_object_set_new(o, "MD5OfMessageSystemAttributes", json_string(md5_sys));
    if (s->seqnum[0]) json_object_set_new(o, "SequenceNumber", json_string(s->seqnum));
}

static int send_message(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:SendMessage");
    if (!q) return -1;
    send_in in;
    fill_send_in(c->input, &in);
    sqs_send s;
    struct verr e;
    if (prepare(c, q, &in, &s, &e) < 0) {
        nb_sqs_queue_put(q);
        return sqs_error(c, strcmp(e.code, "InternalError") ? 400 : 500, e.shape, e.code, "%s", e.msg);
    }
    char md5b[33], md5a[33], md5s[33];
    memcpy(md5b, s.m->md5_body, 33);
    memcpy(md5a, s.m->md5_attrs, 33);
    memcpy(md5s, s.m->md5_sys, 33);
    int rc = nb_sqs_enqueue(&s, 1);
    nb_sqs_queue_put(q);
    if (rc < 0 || s.rc == -EIO) return E_INTERNAL(c);
    if (s.rc == -ENOENT) return E_NOQUEUE(c);
    json_t *o = json_object();
    send_result(o, &s, md5b, md5a, md5s);
    c->output = o;
    return 0;
}

/* Batch entry checks common to the three batch operations. */
static int check_entries(nb_call *c, json_t *entries, const char *what)
{
    size_t n = json_array_size(entries);
    if (n == 0)
        return sqs_error(c, 400, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest",
                         "There should be at least one %s in the request.", what);
    if (n > 10)
        return sqs_error(c, 400, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                         "Maximum number of entries per request are 10. You have sent %zu.", n);
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(entries, i), "Id"));
        size_t l = id ? strlen(id) : 0;
        bool ok = l > 0 && l <= 80;
        for (size_t k = 0; ok && k < l; k++)
            if (!((id[k] >= 'a' && id[k] <= 'z') || (id[k] >= 'A' && id[k] <= 'Z') || (id[k] >= '0' && id[k] <= '9') ||
                  id[k] == '-' || id[k] == '_'))
                ok = false;
        if (!ok)
            return sqs_error(c, 400, "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
                             "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It "
                             "can be at most 80 letters long.");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(id, json_string_value(json_object_get(json_array_get(entries, j), "Id"))))
                return sqs_error(c, 400, "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                                 "Id %s repeated.", id);
    }
    return 0;
}

static json_t *failed_entry(const char *id, bool sender, const char *code, const char *msg)
{
    return json_pack("{s:s, s:b, s:s, s:s}", "Id", id, "SenderFault", sender, "Code", code, "Message", msg);
}

static int send_message_batch(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:SendMessage");
    if (!q) return -1;
    json_t *entries = json_object_get(c->input, "Entries");
    if (check_entries(c, entries, "SendMessageBatchRequestEntry") < 0) {
        nb_sqs_queue_put(q);
        return -1;
    }
    size_t n = json_array_size(entries), total = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(entries, i);
        const char *b = json_string_value(json_object_get(e, "MessageBody"));
        total += (b ? strlen(b) : 0) + nb_sqs_attrs_size(json_object_get(e, "MessageAttributes"));
    }
    if (total > NB_SQS_MAX_MESSAGE) {
        nb_sqs_queue_put(q);
        return sqs_error(c, 400, "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
                         "Batch requests cannot be longer than %d bytes. You have sent %zu bytes.", NB_SQS_MAX_MESSAGE, total);
    }
    sqs_send s[10];
    size_t idx[10], ns = 0;
    char md5[10][3][33];
    json_t *failed = json_array(), *ok = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(entries, i);
        send_in in;
        fill_send_in(e, &in);
        struct verr ve;
        if (prepare(c, q, &in, &s[ns], &ve) < 0) {
            json_array_append_new(failed, failed_entry(json_string_value(json_object_get(e, "Id")), true, ve.code, ve.msg));
            continue;
        }
        memcpy(md5[ns][0], s[ns].m->md5_body, 33);
        memcpy(md5[ns][1], s[ns].m->md5_attrs, 33);
        memcpy(md5[ns][2], s[ns].m->md5_sys, 33);
        idx[ns++] = i;
    }
    int rc = ns ? nb_sqs_enqueue(s, ns) : 0;
    for (size_t k = 0; k < ns; k++) {
        const char *id = json_string_value(json_object_get(json_array_get(entries, idx[k]), "Id"));
        if (rc < 0 || s[k].rc) {
            json_array_append_new(failed, failed_entry(id, false, "InternalError", "The message could not be stored."));
            continue;
        }
        json_t *o = json_pack("{s:s}", "Id", id);
        send_result(o, &s[k], md5[k][0], md5[k][1], md5[k][2]);
        json_array_append_new(ok, o);
    }
    nb_sqs_queue_put(q);
    c->output = json_pack("{s:o, s:o}", "Successful", ok, "Failed", failed);
    return 0;
}

/* ---------------------------------------------------------------- receive */

static bool wants(json_t *names, const char *attr)
{
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        const char *s = json_string_value(n);
        if (s && (!strcmp(s, "All") || !strcmp(s, attr))) return true;
    }
    return false;
}

/* MessageAttributeNames: "All", ".*", "prefix.*" or exact names. */
static bool wants_msg_attr(json_t *names, const char *attr)
{
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        const char *s = json_string_value(n);
        if (!s) continue;
        size_t l = strlen(s);
        if (!strcmp(s, "All") || !strcmp(s, ".*") || !strcmp(s, attr)) return true;
        if (l > 2 && !strcmp(s + l - 2, ".*") && !strncmp(attr, s, l - 1)) return true;
    }
    return false;
}

static json_t *message_doc(nb_call *c, sqs_queue *q, sqs_msg *m, json_t *sysnames, json_t *attrnames)
{
    json_t *o = json_object();
    json_object_set_new(o, "MessageId", json_string(m->id));
    json_object_set_new(o, "ReceiptHandle", json_string(nb_sqs_receipt(c->arena, q, m)));
    json_object_set_new(o, "MD5OfBody", json_string(m->md5_body));
    json_object_set_new(o, "Body", json_stringn(m->body, m->body_len));
    json_t *a = json_object();
    if (wants(sysnames, "SenderId")) json_object_set_new(a, "SenderId", json_string(m->sender ? m->sender : ""));
    if (wants(sysnames, "SentTimestamp")) set_num(a, "SentTimestamp", m->sent_ms);
    if (wants(sysnames, "ApproximateReceiveCount")) set_num(a, "ApproximateReceiveCount", m->receive_count);
    if (wants(sysnames, "ApproximateFirstReceiveTimestamp")) set_num(a, "ApproximateFirstReceiveTimestamp", m->first_recv_ms);
    if (m->sys_attrs && (wants(sysnames, "AWSTraceHeader") || wants(sysnames, "DeadLetterQueueSourceArn"))) {
        json_t *sa = json_loads(m->sys_attrs, 0, NULL);
        static const char *const names[] = {"AWSTraceHeader", "DeadLetterQueueSourceArn"};
        for (size_t i = 0; i < NB_ARRAY_LEN(names); i++) {
            const char *v = json_string_value(json_object_get(json_object_get(sa, names[i]), "StringValue"));
            if (v && wants(sysnames, names[i])) json_object_set_new(a, names[i], json_string(v));
        }
        json_decref(sa);
    }
    /* standard queues too: a fair queue's tenant */
    if (wants(sysnames, "MessageGroupId") && m->group) json_object_set_new(a, "MessageGroupId", json_string(m->group));
    if (q->fifo) {
        if (wants(sysnames, "MessageDeduplicationId") && m->dedup)
            json_object_set_new(a, "MessageDeduplicationId", json_string(m->dedup));
        if (wants(sysnames, "SequenceNumber")) json_object_set_new(a, "SequenceNumber", json_string(m->seqnum));
    }
    if (json_object_size(a))
        json_object_set_new(o, "Attributes", a);
    else
        json_decref(a);
    if (m->attrs && json_array_size(attrnames)) {
        json_t *all = json_loads(m->attrs, 0, NULL), *sel = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(all, k, v) if (wants_msg_attr(attrnames, k)) json_object_set(sel, k, v);
        json_decref(all);
        char md5[33];
        if (json_object_size(sel) && nb_sqs_md5_attrs(sel, md5) == 0) {
            json_object_set_new(o, "MD5OfMessageAttributes", json_string(md5));
            json_object_set_new(o, "MessageAttributes", sel);
        } else {
            json_decref(sel);
        }
    }
    return o;
}

static int receive_answer(nb_call *c, sqs_queue *q, sqs_msg **got, int n);

static void receive_event(nb_call *c, enum nb_call_event ev)
{
    nb_sqs_waiter_event(c->wait_ud, ev != NB_CALL_EV_TIMER);
}

/* Long polling holds no worker: a receive that finds nothing and may wait links a waiter to
 * the queue and returns NB_CALL_PENDING; the handler runs again when it is resumed (see
 * sqs_waiter), with c->wait_ud set. A client gone or a server stopping gets an empty answer. */
static int receive_message(nb_call *c)
{
    sqs_waiter *w = c->wait_ud;
    sqs_queue *q;
    json_int_t max, vis;
    if (w) {
        q = w->q;
        max = w->max;
        vis = w->visibility;
    } else {
        q = need_queue(c, "sqs:ReceiveMessage");
        if (!q) return -1;
        json_t *jmax = json_object_get(c->input, "MaxNumberOfMessages");
        max = json_is_integer(jmax) ? json_integer_value(jmax) : 1;
        json_t *jvis = json_object_get(c->input, "VisibilityTimeout");
        json_t *jwait = json_object_get(c->input, "WaitTimeSeconds");
        pthread_mutex_lock(&q->mu);
        vis = json_is_integer(jvis) ? json_integer_value(jvis) : q->visibility;
        json_int_t wait = json_is_integer(jwait) ? json_integer_value(jwait) : q->wait;
        pthread_mutex_unlock(&q->mu);
        int rc = 0;
        if (max < 1 || max > 10)
            rc = E_PARAM(c, "Value %lld for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.",
                         (long long)max);
        else if (vis < 0 || vis > 43200)
            rc = E_PARAM(c, "Value %lld for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.",
                         (long long)vis);
        else if (wait < 0 || wait > 20)
            rc = E_PARAM(c, "Value %lld for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.",
                         (long long)wait);
        const char *attempt = q->fifo ? nb_in_str(c, "ReceiveRequestAttemptId") : NULL;
        if (!rc && attempt && (!*attempt || strlen(attempt) > 128 || !printable_id(attempt)))
            rc = E_PARAM(c, "Value %s for parameter ReceiveRequestAttemptId is invalid. Reason: ReceiveRequestAttemptId can "
                            "only include alphanumeric and punctuation characters. 1 to 128 in length.", attempt);
        if (rc) {
            nb_sqs_queue_put(q);
            return rc;
        }
        sqs_msg *again[10];
        int nagain = attempt ? nb_sqs_receive_retry(q, attempt, (int)vis, again) : 0;
        if (nagain > 0) return receive_answer(c, q, again, nagain);
        if (wait > 0) {
            w = calloc(1, sizeof(*w));
            if (!w) {
                nb_sqs_queue_put(q);
                return sqs_error(c, 503, "ServiceUnavailable", "ServiceUnavailable", "Out of memory.");
            }
            w->q = q;
            w->c = c;
            w->max = (int)max;
            w->visibility = (int)vis;
            w->deadline_us = nb_mono_us() + (int64_t)wait * 1000000;
            c->wait_ud = w;
            c->wait_event = receive_event;
        }
    }
    sqs_msg *got[10];
    int n = w && w->cancelled ? 0 : nb_sqs_receive(q, (int)max, (int)vis, w, got);
    if (n == NB_SQS_WAITING) {
        c->wait_ms = w->tick_ms;
        return NB_CALL_PENDING;
    }
    free(w);
    c->wait_ud = NULL;
    if (n < 0) {
        nb_sqs_queue_put(q);
        return E_NOQUEUE(c);
    }
    const char *attempt = q->fifo ? nb_in_str(c, "ReceiveRequestAttemptId") : NULL;
    if (attempt && *attempt) nb_sqs_receive_record(q, attempt, got, n);
    return receive_answer(c, q, got, n);
}

/* The answer of a receive: n message copies (freed here) and the queue reference (put). */
static int receive_answer(nb_call *c, sqs_queue *q, sqs_msg **got, int n)
{
    json_t *sysnames = json_array();
    json_array_extend(sysnames, json_object_get(c->input, "AttributeNames"));
    json_array_extend(sysnames, json_object_get(c->input, "MessageSystemAttributeNames"));
    json_t *attrnames = json_object_get(c->input, "MessageAttributeNames");
    json_t *msgs = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(msgs, message_doc(c, q, got[i], sysnames, attrnames));
        nb_sqs_msg_free(got[i]);
    }
    json_decref(sysnames);
    nb_sqs_queue_put(q);
    if (json_array_size(msgs))
        c->output = json_pack("{s:o}", "Messages", msgs);
    else {
        json_decref(msgs);
        c->output = json_object();
    }
    return 0;
}

/* ---------------------------------------------------------------- delete, visibility */

static int parse_handle(nb_call *c, sqs_queue *q, const char *h, uint64_t *seq, uint32_t *nonce, struct verr *e)
{
    int64_t qid;
    if (nb_sqs_receipt_parse(h, &qid, seq, nonce) < 0 || qid != q->id) {
        if (e) {
            e->shape = "ReceiptHandleIsInvalid";
            e->code = "ReceiptHandleIsInvalid";
            snprintf(e->msg, sizeof(e->msg), "The input receipt handle \"%s\" is not a valid receipt handle.", h ? h : "");
        } else {
            sqs_error(c, 400, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
                      "The input receipt handle \"%s\" is not a valid receipt handle.", h ? h : "");
        }
        return -1;
    }
    return 0;
}

static int delete_message(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:DeleteMessage");
    if (!q) return -1;
    uint64_t seq;
    uint32_t nonce;
    int rc = parse_handle(c, q, nb_in_str(c, "ReceiptHandle"), &seq, &nonce, NULL);
    if (rc == 0 && nb_sqs_delete(q, seq, nonce) < 0) rc = E_INTERNAL(c);
    nb_sqs_queue_put(q);
    return rc;
}

static int delete_message_batch(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:DeleteMessage");
    if (!q) return -1;
    json_t *entries = json_object_get(c->input, "Entries");
    if (check_entries(c, entries, "DeleteMessageBatchRequestEntry") < 0) {
        nb_sqs_queue_put(q);
        return -1;
    }
    json_t *ok = json_array(), *failed = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "Id"));
        uint64_t seq;
        uint32_t nonce;
        struct verr ve;
        if (parse_handle(c, q, json_string_value(json_object_get(e, "ReceiptHandle")), &seq, &nonce, &ve) < 0) {
            json_array_append_new(failed, failed_entry(id, true, ve.code, ve.msg));
            continue;
        }
        if (nb_sqs_delete(q, seq, nonce) < 0) {
            json_array_append_new(failed, failed_entry(id, false, "InternalError", "The message could not be deleted."));
            continue;
        }
        json_array_append_new(ok, json_pack("{s:s}", "Id", id));
    }
    nb_sqs_queue_put(q);
    c->output = json_pack("{s:o, s:o}", "Successful", ok, "Failed", failed);
    return 0;
}

static int change_one(nb_call *c, sqs_queue *q, const char *handle, json_t *jt, struct verr *e)
{
    json_int_t t = json_is_integer(jt) ? json_integer_value(jt) : -1;
    uint64_t seq;
    uint32_t nonce;
    if (t < 0 || t > 43200) {
        e->shape = "InvalidParameterValueException";
        e->code = "InvalidParameterValue";
        snprintf(e->msg, sizeof(e->msg),
                 "Value %lld for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.",
                 (long long)t);
        return -1;
    }
    if (parse_handle(c, q, handle, &seq, &nonce, e) < 0) return -1;
    int rc = nb_sqs_change_visibility(q, seq, nonce, (int)t);
    if (rc == 0) return 0;
    if (rc == 3) {
        e->shape = "InvalidParameterValueException";
        e->code = "InvalidParameterValue";
        snprintf(e->msg, sizeof(e->msg),
                 "Value %lld for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message "
                 "is beyond the limit [43200 seconds]",
                 (long long)t);
        return -1;
    }
    if (rc == 4) {
        /* AWS, once the message was received again: the old handle has expired */
        e->shape = e->code = "ReceiptHandleIsInvalid";
        snprintf(e->msg, sizeof(e->msg),
                 "Value %.400s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", handle);
        return -1;
    }
    if (rc == 1 || rc == 2) {
        e->shape = "MessageNotInflight";
        e->code = "AWS.SimpleQueueService.MessageNotInflight";
        snprintf(e->msg, sizeof(e->msg), "Message does not exist or is not available for visibility timeout change.");
        return -1;
    }
    e->shape = e->code = "InternalError";
    snprintf(e->msg, sizeof(e->msg), "We encountered an internal error. Please try again.");
    return -1;
}

static int change_message_visibility(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:ChangeMessageVisibility");
    if (!q) return -1;
    struct verr e;
    int rc = change_one(c, q, nb_in_str(c, "ReceiptHandle"), json_object_get(c->input, "VisibilityTimeout"), &e);
    nb_sqs_queue_put(q);
    if (rc < 0) return sqs_error(c, strcmp(e.code, "InternalError") ? 400 : 500, e.shape, e.code, "%s", e.msg);
    return 0;
}

static int change_message_visibility_batch(nb_call *c)
{
    sqs_queue *q = need_queue(c, "sqs:ChangeMessageVisibility");
    if (!q) return -1;
    json_t *entries = json_object_get(c->input, "Entries");
    if (check_entries(c, entries, "ChangeMessageVisibilityBatchRequestEntry") < 0) {
        nb_sqs_queue_put(q);
        return -1;
    }
    json_t *ok = json_array(), *failed = json_array();
    size_t i;
    json_t *en;
    json_array_foreach(entries, i, en)
    {
        const char *id = json_string_value(json_object_get(en, "Id"));
        struct verr e;
        if (change_one(c, q, json_string_value(json_object_get(en, "ReceiptHandle")), json_object_get(en, "VisibilityTimeout"),
                       &e) < 0)
            json_array_append_new(failed, failed_entry(id, strcmp(e.code, "InternalError") != 0, e.code, e.msg));
        else
            json_array_append_new(ok, json_pack("{s:s}", "Id", id));
    }
    nb_sqs_queue_put(q);
    c->output = json_pack("{s:o, s:o}", "Successful", ok, "Failed", failed);
    return 0;
}

/* ---------------------------------------------------------------- message move tasks */

/* A move task takes a dead-letter queue's messages back to their source (or to
 * DestinationArn). Without MaxNumberOfMessagesPerSecond it completes inside
 * StartMessageMoveTask (one durable write). With one, it moves that many messages per second
 * of region time: the first second's share before Start answers, the rest in scheduler steps,
 * until it has moved as many as the queue held at the start (or the queue is empty); it can be
 * cancelled meanwhile. One running task per source queue. The list keeps the last 32 tasks. */
typedef struct move_task {
    char handle[200];
    char source[160], dest[160];
    const char *status; /* RUNNING, COMPLETED, CANCELLED, FAILED */
    char failure[120];
    long moved, to_move;
    int64_t started_ms;
    int rate;          /* messages per second; 0 = all at once */
    uint64_t timer;    /* RUNNING: the next step */
    char *step_arg;    /* RUNNING: the step's argument (a copy of handle), owned by the step */
} move_task;
static move_task tasks[32];
static size_t ntasks;
static pthread_mutex_t tasks_mu = PTHREAD_MUTEX_INITIALIZER;

static move_task *task_find(const char *handle) /* tasks_mu held */
{
    for (size_t i = 0; handle && i < ntasks; i++)
        if (!strcmp(tasks[i].handle, handle)) return &tasks[i];
    return NULL;
}

static void move_step(void *arg);

/* Move one second's share of a running task and plan the next step (any thread but a loop:
 * the move writes to the store). */
static void move_run(const char *handle)
{
    pthread_mutex_lock(&tasks_mu);
    move_task *t = task_find(handle);
    if (!t || strcmp(t->status, "RUNNING")) {
        pthread_mutex_unlock(&tasks_mu);
        return;
    }
    char src_arn[160], dst_arn[160];
    memcpy(src_arn, t->source, sizeof(src_arn));
    memcpy(dst_arn, t->dest, sizeof(dst_arn));
    /* rate messages for every second of region time begun since the start: a clock advanced
     * by 10 s lets the task catch up at once */
    long due = (long)((nb_clock_now_us() / 1000 - t->started_ms) / 1000 + 1) * t->rate;
    long share = (due < t->to_move ? due : t->to_move) - t->moved;
    pthread_mutex_unlock(&tasks_mu);
    sqs_queue *src = nb_sqs_queue_by_arn(src_arn), *dst = nb_sqs_queue_by_arn(dst_arn);
    long moved = src && dst ? nb_sqs_move_some(src, dst, share) : 0;
    size_t left = 0, inflight, delayed;
    if (src) nb_sqs_counts(src, &left, &inflight, &delayed);
    pthread_mutex_lock(&tasks_mu);
    t = task_find(handle);
    if (t) {
        if (moved > 0) t->moved += moved;
        if (strcmp(t->status, "RUNNING")) {
            /* cancelled while this step ran */
        } else if (!src || !dst || moved < 0) {
            t->status = "FAILED";
            snprintf(t->failure, sizeof(t->failure), "%s",
                     !src ? "AWS.SimpleQueueService.NonExistentQueue: the source queue was deleted"
                     : !dst ? "AWS.SimpleQueueService.NonExistentQueue: the destination queue was deleted"
                            : "InternalError: the messages could not be moved");
        } else if (t->moved >= t->to_move || left == 0) {
            t->status = "COMPLETED";
        } else {
            char *a = strdup(handle);
            t->step_arg = a;
            t->timer = a ? nb_sched_at(nb_clock_now_us() + 1000000, move_step, a) : 0;
            if (!t->timer) {
                free(a);
                t->step_arg = NULL;
                t->status = "FAILED";
                snprintf(t->failure, sizeof(t->failure), "InternalError: the task could not be scheduled");
            }
        }
    }
    pthread_mutex_unlock(&tasks_mu);
    nb_sqs_queue_put(src);
    nb_sqs_queue_put(dst);
}

static void move_step(void *arg)
{
    char *handle = arg;
    pthread_mutex_lock(&tasks_mu);
    move_task *t = task_find(handle);
    if (t && t->step_arg == handle) t->step_arg = NULL, t->timer = 0;
    pthread_mutex_unlock(&tasks_mu);
    move_run(handle);
    free(handle);
}

/* Stop every running task's timer (shutdown, reset); forget the tasks if forget. */
static void tasks_stop(bool forget)
{
    uint64_t timers[NB_ARRAY_LEN(tasks)];
    char *args[NB_ARRAY_LEN(tasks)];
    size_t n = 0;
    pthread_mutex_lock(&tasks_mu);
    for (size_t i = 0; i < ntasks; i++) {
        move_task *t = &tasks[i];
        if (t->timer) {
            timers[n] = t->timer;
            args[n++] = t->step_arg;
        }
        t->timer = 0;
        t->step_arg = NULL;
        if (!strcmp(t->status, "RUNNING")) t->status = "CANCELLED"; /* a running step plans no next one */
    }
    if (forget) ntasks = 0;
    pthread_mutex_unlock(&tasks_mu);
    /* outside the lock: a step that is running takes it, and frees its own argument */
    for (size_t i = 0; i < n; i++)
        if (nb_sched_cancel_sync(timers[i])) free(args[i]);
}

static int start_message_move_task(nb_call *c)
{
    const char *src_arn = nb_in_str(c, "SourceArn"), *dst_arn = nb_in_str(c, "DestinationArn");
    /* AWS's bounds: 1 to 500 messages per second when given */
    json_int_t rate = nb_in_int(c, "MaxNumberOfMessagesPerSecond", 0);
    if (json_object_get(c->input, "MaxNumberOfMessagesPerSecond") && (rate < 1 || rate > 500))
        return E_PARAM(c, "Value %lld for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter "
                          "a number that's between 1 and 500.",
                       (long long)rate);
    if (dst_arn && src_arn && !strcmp(dst_arn, src_arn))
        return E_PARAM(c, "Value %s for parameter DestinationArn is invalid. Reason: The source queue and the "
                          "destination queue can't be the same.",
                       dst_arn);
    sqs_queue *src = nb_sqs_queue_by_arn(src_arn);
    if (!src)
        return sqs_error(c, 400, "ResourceNotFoundException", "ResourceNotFoundException",
                         "The resource that you specified for the SourceArn parameter doesn't exist.");
    nb_authz_check_args a = {.action = "sqs:StartMessageMoveTask", .resource = src->arn, .resource_account = src->account};
    if (nb_authz_check(c, &a) < 0) {
        nb_sqs_queue_put(src);
        return -1;
    }
    /* AWS moves messages only out of a dead-letter queue (of some queue), by default back to
     * the (first) queue that uses it as such. */
    sqs_queue *dst = NULL, *origin = NULL;
    size_t n;
    sqs_queue **all = nb_sqs_queue_all(&n);
    for (size_t i = 0; all && i < n; i++) {
        pthread_mutex_lock(&all[i]->mu);
        bool is_origin = !origin && !strcmp(all[i]->dlq_arn, src->arn);
        pthread_mutex_unlock(&all[i]->mu);
        if (is_origin) {
            origin = all[i];
            continue;
        }
        nb_sqs_queue_put(all[i]);
    }
    free(all);
    if (!origin) {
        nb_sqs_queue_put(src);
        return E_PARAM(c, "Source queue must be configured as a Dead Letter Queue.");
    }
    if (dst_arn && *dst_arn) {
        dst = nb_sqs_queue_by_arn(dst_arn);
        nb_sqs_queue_put(origin);
    } else {
        dst = origin;
    }
    if (!dst) {
        nb_sqs_queue_put(src);
        return sqs_error(c, 400, "ResourceNotFoundException", "ResourceNotFoundException",
                         "The resource that you specified for the DestinationArn parameter doesn't exist.");
    }
    if (dst->fifo != src->fifo) { /* a FIFO message needs its group, a standard queue has none */
        bool fifo = src->fifo;
        nb_sqs_queue_put(src);
        nb_sqs_queue_put(dst);
        return E_PARAM(c, "Value %s for parameter DestinationArn is invalid. Reason: The destination queue must be a "
                          "%s queue, as the source queue is.",
                       dst_arn, fifo ? "FIFO" : "standard");
    }
    move_task t;
    memset(&t, 0, sizeof(t));
    char raw[400];
    char id[37];
    nb_uuid4(id);
    int rl = snprintf(raw, sizeof(raw), "{\"taskId\":\"%s\",\"sourceArn\":\"%s\"}", id, src->arn);
    if (rl > 0 && (size_t)rl < 140) nb_base64_encode((const unsigned char *)raw, (size_t)rl, t.handle);
    else snprintf(t.handle, sizeof(t.handle), "%s", id);
    snprintf(t.source, sizeof(t.source), "%s", src->arn);
    snprintf(t.dest, sizeof(t.dest), "%s", dst->arn);
    t.started_ms = nb_clock_now_us() / 1000;
    t.rate = (int)rate;
    size_t visible, inflight, delayed;
    nb_sqs_counts(src, &visible, &inflight, &delayed);
    t.to_move = (long)visible;
    t.status = "RUNNING";
    pthread_mutex_lock(&tasks_mu);
    bool busy = false;
    for (size_t i = 0; i < ntasks; i++) busy = busy || (!strcmp(tasks[i].source, t.source) && !strcmp(tasks[i].status, "RUNNING"));
    /* make room: the oldest finished task goes */
    size_t victim = ntasks;
    for (size_t i = 0; ntasks == NB_ARRAY_LEN(tasks) && i < ntasks && victim == ntasks; i++)
        if (strcmp(tasks[i].status, "RUNNING")) victim = i;
    bool full = ntasks == NB_ARRAY_LEN(tasks) && victim == ntasks;
    if (!busy && !full) {
        if (ntasks == NB_ARRAY_LEN(tasks)) {
            memmove(&tasks[victim], &tasks[victim + 1], (ntasks - victim - 1) * sizeof(tasks[0]));
            ntasks--;
        }
        tasks[ntasks++] = t;
    }
    pthread_mutex_unlock(&tasks_mu);
    if (busy || full) {
        nb_sqs_queue_put(src);
        nb_sqs_queue_put(dst);
        return busy ? E_PARAM(c, "There is already a task running. Only one active task is allowed for a source queue "
                                 "arn at a given time.")
                    : sqs_error(c, 403, "OverLimit", "OverLimit", "Too many message move tasks are running.");
    }
    long moved = 0;
    if (!rate) {
        moved = nb_sqs_move_all(src, dst);
        pthread_mutex_lock(&tasks_mu);
        move_task *mt = task_find(t.handle);
        if (mt) {
            mt->moved = mt->to_move = moved < 0 ? 0 : moved;
            mt->status = moved < 0 ? "FAILED" : "COMPLETED";
            if (moved < 0) snprintf(mt->failure, sizeof(mt->failure), "InternalError: the messages could not be moved");
        }
        pthread_mutex_unlock(&tasks_mu);
    }
    nb_sqs_queue_put(src);
    nb_sqs_queue_put(dst);
    if (moved < 0) return E_INTERNAL(c);
    if (rate) move_run(t.handle); /* the first second's share, before answering */
    c->output = json_pack("{s:s}", "TaskHandle", t.handle);
    return 0;
}

static int cancel_message_move_task(nb_call *c)
{
    const char *h = nb_in_str(c, "TaskHandle");
    size_t hl = h ? strlen(h) : 0;
    unsigned char raw[300];
    ssize_t rl = hl && hl < 400 ? nb_base64_decode(h, hl, raw) : -1;
    json_t *doc = rl > 0 && rl < (ssize_t)sizeof(raw) ? json_loadb((const char *)raw, (size_t)rl, 0, NULL) : NULL;
    bool valid = json_is_string(json_object_get(doc, "taskId")) && json_is_string(json_object_get(doc, "sourceArn"));
    json_decref(doc);
    if (!valid) return E_PARAM(c, "Value for parameter TaskHandle is invalid.");
    pthread_mutex_lock(&tasks_mu);
    move_task *t = task_find(h);
    bool known = t != NULL, running = t && !strcmp(t->status, "RUNNING");
    long moved = 0;
    if (running) {
        t->status = "CANCELLED";
        if (t->timer && nb_sched_cancel(t->timer)) free(t->step_arg);
        t->timer = 0;
        t->step_arg = NULL;
        moved = t->moved;
    }
    pthread_mutex_unlock(&tasks_mu);
    if (!known) return sqs_error(c, 400, "ResourceNotFoundException", "ResourceNotFoundException", "Task does not exist.");
    if (!running) return E_PARAM(c, "Only active tasks can be cancelled.");
    c->output = json_pack("{s:I}", "ApproximateNumberOfMessagesMoved", (json_int_t)moved);
    return 0;
}

static int list_message_move_tasks(nb_call *c)
{
    const char *src = nb_in_str(c, "SourceArn");
    json_int_t max = nb_in_int(c, "MaxResults", 1);
    if (max < 1 || max > 10)
        return E_PARAM(c, "Value %lld for parameter MaxResults is invalid. Reason: You must enter a number that's "
                          "between 1 and 10.",
                       (long long)max);
    sqs_queue *q = nb_sqs_queue_by_arn(src);
    if (!q)
        return sqs_error(c, 400, "ResourceNotFoundException", "ResourceNotFoundException",
                         "The resource that you specified for the SourceArn parameter doesn't exist.");
    nb_sqs_queue_put(q);
    json_t *res = json_array();
    pthread_mutex_lock(&tasks_mu);
    for (size_t i = ntasks; i-- > 0 && (json_int_t)json_array_size(res) < max;) {
        move_task *t = &tasks[i];
        if (strcmp(t->source, src) != 0) continue;
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "Status", t->status,
                              "SourceArn", t->source, "DestinationArn", t->dest, "ApproximateNumberOfMessagesMoved",
                              (json_int_t)t->moved, "ApproximateNumberOfMessagesToMove", (json_int_t)t->to_move,
                              "StartedTimestamp", (json_int_t)t->started_ms);
        /* AWS gives a TaskHandle only for RUNNING tasks */
        if (!strcmp(t->status, "RUNNING")) json_object_set_new(o, "TaskHandle", json_string(t->handle));
        if (t->failure[0]) json_object_set_new(o, "FailureReason", json_string(t->failure));
        if (t->rate) json_object_set_new(o, "MaxNumberOfMessagesPerSecond", json_integer(t->rate));
        json_array_append_new(res, o);
    }
    pthread_mutex_unlock(&tasks_mu);
    c->output = json_pack("{s:o}", "Results", res);
    return 0;
}

/* ---------------------------------------------------------------- C API */

static int send_internal(const nb_sqs_message_in *m, size_t n, int *results, char (*ids)[37])
{
    sqs_send *s = calloc(n ? n : 1, sizeof(*s));
    size_t *map = calloc(n ? n : 1, sizeof(*map));
    if (!s || !map) {
        free(s);
        free(map);
        for (size_t i = 0; i < n; i++) results[i] = -EIO;
        return -EIO;
    }
    size_t k = 0;
    int first = 0;
    for (size_t i = 0; i < n; i++) {
        sqs_queue *q = nb_sqs_queue_by_arn(m[i].queue_arn);
        if (!q) {
            results[i] = -ENOENT;
            if (!first) first = -ENOENT;
            continue;
        }
        json_t *attrs = m[i].attributes;
        char msg[300];
        if (attrs && nb_sqs_attrs_validate(attrs, false, msg, sizeof(msg)) < 0) attrs = NULL;
        json_t *body = json_stringn(m[i].body, m[i].body_len);
        send_in in = {.body = json_string_value(body), .body_len = json_string_length(body), .attrs = attrs, .delay = m[i].delay_seconds >= 0 ? m[i].delay_seconds : -1,
                      .group = m[i].group_id, .dedup = m[i].dedup_id};
        struct verr e;
        nb_call fake;
        memset(&fake, 0, sizeof(fake));
        snprintf(fake.who.user_id, sizeof(fake.who.user_id), "%s", m[i].sender_id ? m[i].sender_id : "AIDAIT2UOQQY3AUEKVGXU");
        int rc = body ? prepare(&fake, q, &in, &s[k], &e) : -1;
        json_decref(body);
        if (rc < 0) {
            results[i] = strcmp(body ? e.code : "InternalError", "InternalError") ? -EINVAL : -EIO;
            if (!first) first = results[i];
            nb_sqs_queue_put(q);
            continue;
        }
        map[k++] = i;
    }
    int rc = k ? nb_sqs_enqueue(s, k) : 0;
    for (size_t j = 0; j < k; j++) {
        size_t i = map[j];
        results[i] = rc < 0 ? -EIO : s[j].rc;
        if (results[i] && !first) first = results[i];
        if (ids && !results[i]) memcpy(ids[i], s[j].id, 37);
        nb_sqs_queue_put(s[j].q);
    }
    free(s);
    free(map);
    return first;
}

int nb_sqs_send_internal(const nb_sqs_message_in *m, char out_id[37])
{
    int r;
    char ids[1][37];
    int rc = send_internal(m, 1, &r, ids);
    if (rc == 0 && out_id) memcpy(out_id, ids[0], 37);
    return rc;
}

int nb_sqs_send_batch_internal(const nb_sqs_message_in *m, size_t n, int *results)
{
    return send_internal(m, n, results, NULL);
}

int nb_sqs_send_simple(const char *queue_arn, const char *body)
{
    nb_sqs_message_in m = {.queue_arn = queue_arn, .body = body, .body_len = body ? strlen(body) : 0,
                           .delay_seconds = -1};
    return nb_sqs_send_internal(&m, NULL);
}

bool nb_sqs_queue_exists(const char *queue_arn, bool *fifo)
{
    sqs_queue *q = nb_sqs_queue_by_arn(queue_arn);
    if (!q) return false;
    if (fifo) *fifo = q->fifo;
    nb_sqs_queue_put(q);
    return true;
}

/* ---------------------------------------------------------------- service */

/* True if a string in v holding NUL is anything but a message body or an attribute's
 * StringValue, the members SQS reads with their length and refuses NUL in itself
 * (InvalidMessageContents; for attributes, its invalid character message). */
static bool nul_elsewhere(json_t *v, const char *key)
{
    if (json_is_string(v))
        return strlen(json_string_value(v)) != json_string_length(v) &&
               !(key && (!strcmp(key, "MessageBody") || !strcmp(key, "StringValue")));
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_array(v)) json_array_foreach(v, i, x) if (nul_elsewhere(x, NULL)) return true;
    if (json_is_object(v)) json_object_foreach(v, k, x) if (nul_elsewhere(x, k)) return true;
    return false;
}

static int sqs_input_nul(nb_call *c)
{
    if (!nul_elsewhere(c->input, NULL)) return 0;
    return E_PARAM(c, "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
                      "#xE000 to #xFFFD | #x10000 to #x10FFFF");
}

static uint64_t sweeper;

static void sweep_cb(void *arg)
{
    (void)arg;
    nb_sqs_sweep();
}

static int sqs_init(const nb_svc_env *env, char **err)
{
    snprintf(nb_sqs_region, sizeof(nb_sqs_region), "%s", env->region ? env->region : "us-east-1");
    if (env->config) {
        const char *h = env->config->host;
        if (!strcmp(h, "0.0.0.0") || !strcmp(h, "::") || !*h) h = "localhost";
        snprintf(nb_sqs_default_host, sizeof(nb_sqs_default_host), strchr(h, ':') ? "[%s]:%d" : "%s:%d", h,
                 env->config->port);
    }
    if (nb_sqs_store_open(env->data_dir, err) < 0) return -1;
    sweeper = nb_sched_every(60 * 1000000LL, sweep_cb, NULL);
    return 0;
}

static void sqs_shutdown(void)
{
    tasks_stop(false);
    if (sweeper) nb_sched_cancel_sync(sweeper);
    sweeper = 0;
    nb_sqs_store_close();
}

static int sqs_reset(void)
{
    tasks_stop(true);
    return nb_sqs_store_reset();
}

#define OP(name, fn) {name, fn, NB_OP_NO_AUTHZ, NULL, NULL}
static const nb_op_def ops[] = {
    OP("AddPermission", add_permission),
    OP("CancelMessageMoveTask", cancel_message_move_task),
    OP("ChangeMessageVisibility", change_message_visibility),
    OP("ChangeMessageVisibilityBatch", change_message_visibility_batch),
    OP("CreateQueue", create_queue),
    OP("DeleteMessage", delete_message),
    OP("DeleteMessageBatch", delete_message_batch),
    OP("DeleteQueue", delete_queue),
    OP("GetQueueAttributes", get_queue_attributes),
    OP("GetQueueUrl", get_queue_url),
    OP("ListDeadLetterSourceQueues", list_dead_letter_source_queues),
    OP("ListMessageMoveTasks", list_message_move_tasks),
    OP("ListQueueTags", list_queue_tags),
    OP("ListQueues", list_queues),
    OP("PurgeQueue", purge_queue),
    OP("ReceiveMessage", receive_message),
    OP("RemovePermission", remove_permission),
    OP("SendMessage", send_message),
    OP("SendMessageBatch", send_message_batch),
    OP("SetQueueAttributes", set_queue_attributes),
    OP("StartMessageMoveTask", start_message_move_task),
    OP("TagQueue", tag_queue),
    OP("UntagQueue", untag_queue),
};
#undef OP

const nb_service nb_svc_sqs = {
    .name = "sqs",
    .model = "sqs",
    .ops = ops,
    .nops = NB_ARRAY_LEN(ops),
    .init = sqs_init,
    .shutdown = sqs_shutdown,
    .reset = sqs_reset,
    .input_nul = sqs_input_nul,
};
