/* notify.c: S3 event notification configuration (Put/GetBucketNotificationConfiguration):
 * topic, queue and function configurations, event names (with the :* wildcards), prefix/suffix
 * filter rules, validated as AWS does (unknown events, bad filter rules, overlapping
 * configurations, destinations that do not exist through the SNS/SQS C APIs). Delivery is
 * not here: the stored document is what a deliverer reads. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "svc/s3/access.h"
#include "svc/s3/events.h"
#include "svc/sns/sns.h"
#include "svc/sqs/sqs.h"

static const char *const events[] = {
    "s3:TestEvent",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:Replication:OperationNotTracked",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
};

static bool event_known(const char *e)
{
    for (size_t i = 0; i < NB_ARRAY_LEN(events); i++)
        if (!strcmp(events[i], e)) return true;
    return false;
}

/* Two event names overlap when equal, or one is "<family>:*" and the other in that family. */
static bool events_overlap(const char *a, const char *b)
{
    if (!strcmp(a, b)) return true;
    size_t an = strlen(a), bn = strlen(b);
    if (an > 2 && !strcmp(a + an - 2, ":*") && !strncmp(a, b, an - 1)) return true;
    if (bn > 2 && !strcmp(b + bn - 2, ":*") && !strncmp(b, a, bn - 1)) return true;
    return false;
}

typedef struct filt {
    const char *prefix, *suffix;
} filt;

/* Filters overlap when some key could match both: one prefix starts the other, and one suffix
 * ends the other (a missing rule matches everything). */
static bool filters_overlap(const filt *a, const filt *b)
{
    const char *ap = a->prefix ? a->prefix : "", *bp = b->prefix ? b->prefix : "";
    size_t an = strlen(ap), bn = strlen(bp);
    bool p = !strncmp(ap, bp, an < bn ? an : bn);
    const char *as = a->suffix ? a->suffix : "", *bs = b->suffix ? b->suffix : "";
    an = strlen(as);
    bn = strlen(bs);
    size_t m = an < bn ? an : bn;
    bool s = !memcmp(as + an - m, bs + bn - m, m);
    return p && s;
}

static int invalid(nb_call *c, const char *msg, const char *name, const char *value)
{
    return nb_s3_error(c, 400, "InvalidArgument", msg, "ArgumentName", name, "ArgumentValue", value, NULL);
}

typedef struct conf {
    json_t *doc;
    const char *dest;
    const char *kind; /* "Topic", "Queue", "CloudFunction" */
    filt f;
} conf;

static int check_filter(nb_call *c, json_t *cfg, filt *f)
{
    memset(f, 0, sizeof *f);
    json_t *rules = json_object_get(json_object_get(json_object_get(cfg, "Filter"), "Key"), "FilterRules");
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        const char *n = json_string_value(json_object_get(r, "Name"));
        const char *v = json_string_value(json_object_get(r, "Value"));
        if (!n || !v) return nb_s3_malformed_xml(c);
        if (!strcasecmp(n, "prefix")) {
            if (f->prefix) return invalid(c, "Cannot specify more than one prefix rule in a filter.", "FilterRule", n);
            f->prefix = v;
        } else if (!strcasecmp(n, "suffix")) {
            if (f->suffix) return invalid(c, "Cannot specify more than one suffix rule in a filter.", "FilterRule", n);
            f->suffix = v;
        } else {
            return invalid(c, "filter rule name must be either prefix or suffix", "FilterRule", n);
        }
        if (strlen(v) > 1024) return invalid(c, "The filter rule value is too long", "FilterRule", v);
    }
    return 0;
}

int nb_s3_op_put_notification(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *in = json_object_get(c->input, "NotificationConfiguration");
    if (!json_is_object(in)) in = NULL;
    static const char *const lists[][3] = {{"TopicConfigurations", "TopicArn", "Topic"},
                                           {"QueueConfigurations", "QueueArn", "Queue"},
                                           {"LambdaFunctionConfigurations", "LambdaFunctionArn", "CloudFunction"}};
    conf all[300];
    size_t n = 0;
    json_t *out = json_object();
    int rc = 0;
    json_t *bad = json_array(); /* destinations that could not be validated */
    bool skip = nb_in_bool(c, "SkipDestinationValidation", false);
    /* EventBridgeConfiguration sends every event to the account's default event bus; Nimbus
     * has no EventBridge service to receive them, and storing it would promise events that
     * never arrive */
    if (json_object_get(in, "EventBridgeConfiguration")) {
        json_decref(out);
        json_decref(bad);
        return nb_s3_error(c, 501, "NotImplemented",
                           "EventBridge delivery of S3 events is not implemented", NULL);
    }
    for (size_t l = 0; l < 3 && !rc; l++) {
        json_t *arr = json_object_get(in, lists[l][0]);
        if (!json_array_size(arr)) continue;
        json_t *keep = json_array();
        json_object_set_new(out, lists[l][0], keep);
        size_t i;
        json_t *cfg;
        json_array_foreach(arr, i, cfg)
        {
            const char *dest = json_string_value(json_object_get(cfg, lists[l][1]));
            json_t *evs = json_object_get(cfg, "Events");
            if (!dest || !json_array_size(evs)) {
                rc = nb_s3_malformed_xml(c);
                break;
            }
            size_t j;
            json_t *e;
            json_array_foreach(evs, j, e)
            {
                const char *s = json_string_value(e);
                if (!s || !event_known(s)) {
                    rc = invalid(c, "The event is not supported for notifications", "Event", s ? s : "");
                    break;
                }
            }
            if (rc) break;
            filt f;
            if ((rc = check_filter(c, cfg, &f))) break;
            if (n >= NB_ARRAY_LEN(all)) {
                rc = invalid(c, "Too many notification configurations", "NotificationConfiguration", "");
                break;
            }
            const char *id = json_string_value(json_object_get(cfg, "Id"));
            json_t *copy = json_deep_copy(cfg);
            if (!id) {
                /* AWS names unnamed configurations with a random id */
                char hex[33];
                nb_random_hex(hex, 32);
                hex[32] = 0;
                json_object_set_new(copy, "Id", json_string(hex));
            }
            json_array_append_new(keep, copy);
            all[n++] = (conf){copy, dest, lists[l][2], f};
            if (!skip) {
                bool fifo = false, ok = true;
                if (l == 0) ok = nb_sns_topic_exists(dest, &fifo);
                else if (l == 1) ok = nb_sqs_queue_exists(dest, &fifo);
                else ok = false; /* no Lambda function exists to validate (the Lambda service has none yet) */
                if (!ok) json_array_append_new(bad, json_string(dest));
            }
        }
    }
    /* Overlap: a pair sharing an event type whose filters could both match a key. */
    for (size_t i = 0; i < n && !rc; i++) {
        for (size_t j = i + 1; j < n && !rc; j++) {
            if (!filters_overlap(&all[i].f, &all[j].f)) continue;
            json_t *ei = json_object_get(all[i].doc, "Events"), *ej = json_object_get(all[j].doc, "Events");
            size_t a, bb;
            json_t *x, *y;
            json_array_foreach(ei, a, x)
            {
                json_array_foreach(ej, bb, y)
                {
                    if (!rc && events_overlap(json_string_value(x), json_string_value(y)))
                        rc = invalid(c, "Configurations overlap. Configurations on the same bucket cannot share a common event type.",
                                     "Event", json_string_value(x));
                }
            }
        }
    }
    if (!rc && json_array_size(bad)) {
        /* AWS lists each destination as ArgumentName1/ArgumentValue1 ... */
        nb_call_error(c, 400, "InvalidArgument", "Unable to validate the following destination configurations");
        json_t *extra = json_object();
        for (size_t i = 0; i < json_array_size(bad); i++) {
            char k[32];
            snprintf(k, sizeof k, "ArgumentName%zu", i + 1);
            json_object_set(extra, k, json_array_get(bad, i));
            snprintf(k, sizeof k, "ArgumentValue%zu", i + 1);
            json_object_set_new(extra, k, json_string("Destination does not exist"));
        }
        c->err.extra = extra;
        rc = -1;
    }
    json_decref(bad);
    if (!rc) {
        rc = nb_s3_cfg_store(c, b.name, "notification", json_object_size(out) ? out : NULL);
        if (!rc) nb_s3_event_test(c, b.name, out); /* s3:TestEvent to each destination (events.c) */
    }
    json_decref(out);
    return rc;
}

int nb_s3_op_get_notification(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *d = NULL;
    if (nb_s3_cfg_load(c, b.name, "notification", &d)) return -1;
    c->output = d ? d : json_object();
    return 0;
}
