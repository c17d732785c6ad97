/* lifecycle.c: bucket lifecycle configuration (Put/Get/DeleteBucketLifecycleConfiguration with
 * the whole rule grammar and AWS's validation), the in-memory rules cache that answers
 * x-amz-expiration on every PUT/GET/HEAD without touching SQLite, and the lifecycle pass.
 *
 * The pass runs on the scheduler, on the region clock: once per region day (at midnight UTC,
 * as AWS evaluates rules once a day, with its rounding: an object is eligible at the midnight
 * after creation + N days), over every bucket that has rules, in batches. A batch reads at
 * most BATCH rows (key order, all versions of a key together) in one read transaction, only
 * from the key ranges of the enabled object-action rules' prefixes (index seeks skip the rest),
 * decides, then applies its actions and the resume position in one bounded write job
 * (a savepoint in a group commit, a few ms of the writer); the next batch is planned after a
 * pause proportional to the batch's own time, from 1x when the rest of the server is idle to
 * 9x when it keeps a CPU busy, so a pass over millions of objects takes a bounded share of
 * the machine, backs off under load and never holds the writer for long. The position lives
 * in s3_lifecycle_run, so a restart resumes.
 *
 * Actions: expire the current version (removed; a delete marker in versioned buckets),
 * remove expired object delete markers, expire noncurrent versions (NoncurrentDays,
 * NewerNoncurrentVersions), transition current and noncurrent versions down the class
 * waterfall (archive classes are then moved by the archive worker), abort incomplete
 * multipart uploads. Objects under 128 KiB are not transitioned unless the rule's filter
 * sets ObjectSizeGreaterThan (AWS's default since September 2024). */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "core/clock.h"
#include "core/sched.h"
#include "svc/s3/lifecycle.h"

#define MAX_RULES 1000
#define MAX_ID 255
#define BATCH 250          /* object rows read per batch */
#define UPLOAD_BATCH 200   /* uploads per batch */
/* Pause after a batch = duty x the batch's real time, duty from DUTY_IDLE (the rest of the
 * server idle: the pass is then bound by its commits' fsyncs) to DUTY_BUSY (the rest of the
 * server using a whole CPU or more: the pass backs off to a tenth of the time). */
#define DUTY_IDLE 1.0
#define DUTY_BUSY 9.0
#define SMALL_OBJECT (128 * 1024)

/* ---------------------------------------------------------------- parsed rules */

typedef struct lc_tag {
    char *k, *v;
} lc_tag;

typedef struct lc_trans {
    int days;    /* -1 = by date */
    double date; /* region time, when by date */
    const nb_s3_class *cls;
    int newer; /* noncurrent: NewerNoncurrentVersions, 0 = none */
} lc_trans;

typedef struct lc_rule {
    char *id;
    bool enabled;
    char *prefix;
    size_t prefix_len;
    lc_tag *tags;
    size_t ntags;
    int64_t gt, lt; /* -1 = no size condition */
    int exp_days;   /* 0 = none */
    double exp_date; /* 0 = none */
    bool exp_marker;
    lc_trans tr[8];
    int ntr;
    lc_trans ntr_[8];
    int nntr;
    int nc_days, nc_newer; /* NoncurrentVersionExpiration, nc_days 0 = none */
    int abort_days;        /* 0 = none */
} lc_rule;

/* A key range the pass reads: keys starting with lo, i.e. [lo, hi), hi absent = no end. */
typedef struct lc_range {
    char *lo, *hi;
    size_t lo_len, hi_len;
} lc_range;

typedef struct lc_conf {
    atomic_int refs;
    lc_rule *rules;
    size_t n;
    bool has_tags, object_actions, upload_actions;
    /* x-amz-transition-default-minimum-object-size: varies_by_storage_class (objects under
     * 128 KiB still go to GLACIER and DEEP_ARCHIVE) rather than the default
     * all_storage_classes_128K (they go nowhere unless a size filter says so) */
    bool small_to_archive;
    lc_range *ranges; /* sorted and disjoint: the prefixes of the enabled object-action rules */
    size_t nranges;
} lc_conf;

static void conf_free(lc_conf *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        lc_rule *r = &c->rules[i];
        free(r->id);
        free(r->prefix);
        for (size_t j = 0; j < r->ntags; j++) {
            free(r->tags[j].k);
            free(r->tags[j].v);
        }
        free(r->tags);
    }
    free(c->rules);
    for (size_t i = 0; i < c->nranges; i++) {
        free(c->ranges[i].lo);
        free(c->ranges[i].hi);
    }
    free(c->ranges);
    free(c);
}

static void conf_unref(lc_conf *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) conf_free(c);
}

/* ---------------------------------------------------------------- parsing and validation */

typedef struct perr {
    int status;
    const char *code;
    char msg[400];
} perr;

static int fail(perr *e, int status, const char *code, const char *fmt, ...) NB_PRINTF(4, 5);
static int fail(perr *e, int status, const char *code, const char *fmt, ...)
{
    e->status = status;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

#define MALFORMED(e)                                                                               \
    fail(e, 400, "MalformedXML",                                                                   \
         "The XML you provided was not well-formed or did not validate against our published"     \
         " schema")

static bool is_midnight(double t) { return fmod(t, 86400.0) == 0.0; }

/* Optional integer member: 1 = present (in *v), 0 = absent, -1 = wrong type. */
static int opt_int(json_t *o, const char *name, json_int_t *v)
{
    json_t *j = json_object_get(o, name);
    if (!j) return 0;
    if (!json_is_integer(j)) return -1;
    *v = json_integer_value(j);
    return 1;
}

static int opt_date(json_t *o, const char *name, double *v)
{
    json_t *j = json_object_get(o, name);
    if (!j) return 0;
    if (!json_is_number(j)) return -1;
    *v = json_number_value(j);
    return 1;
}

static int parse_tag(json_t *t, lc_tag *out, perr *e)
{
    const char *k = json_string_value(json_object_get(t, "Key"));
    const char *v = json_string_value(json_object_get(t, "Value"));
    if (!k || !v) return MALFORMED(e);
    if (!*k || strlen(k) > 128 || strlen(v) > 256)
        return fail(e, 400, "InvalidTag", "The TagKey you have provided is invalid");
    out->k = nb_xstrdup(k);
    out->v = nb_xstrdup(v);
    return 0;
}

static int parse_size(json_t *o, const char *name, int64_t *out, perr *e)
{
    json_int_t v;
    int h = opt_int(o, name, &v);
    if (h < 0) return MALFORMED(e);
    if (h == 0) return 0;
    if (v < 0 || (strcmp(name, "ObjectSizeLessThan") == 0 && v == 0))
        return fail(e, 400, "InvalidArgument", "'%s' must be a non-negative integer", name);
    *out = v;
    return 0;
}

/* Filter (or the legacy rule-level Prefix) into r. strict: a request's rules; stored ones are
 * read as they were accepted (earlier versions took a rule with neither Filter nor Prefix as
 * the whole bucket, and And with one predicate), so a stored configuration keeps working. */
static int parse_filter(json_t *rule, lc_rule *r, bool strict, perr *e)
{
    json_t *f = json_object_get(rule, "Filter");
    json_t *legacy = json_object_get(rule, "Prefix");
    r->gt = r->lt = -1;
    /* AWS's schema wants exactly one of them: a rule with neither is MalformedXML (it does
     * not default to the whole bucket; Filter {} does) */
    if (f && legacy) return MALFORMED(e);
    if (!f && !legacy && strict) return MALFORMED(e);
    const char *prefix = NULL;
    if (legacy) {
        if (!json_is_string(legacy)) return MALFORMED(e);
        prefix = json_string_value(legacy);
    } else if (f) {
        if (!json_is_object(f)) return MALFORMED(e);
        static const char *const one_of[] = {"Prefix", "Tag", "And", "ObjectSizeGreaterThan",
                                             "ObjectSizeLessThan"};
        int n = 0;
        for (size_t i = 0; i < NB_ARRAY_LEN(one_of); i++) n += json_object_get(f, one_of[i]) != NULL;
        if (n > 1) return MALFORMED(e);
        json_t *and = json_object_get(f, "And");
        json_t *src = and ? and : f;
        if (and && !json_is_object(and)) return MALFORMED(e);
        json_t *p = json_object_get(src, "Prefix");
        if (p && !json_is_string(p)) return MALFORMED(e);
        prefix = json_string_value(p);
        if (parse_size(src, "ObjectSizeGreaterThan", &r->gt, e) ||
            parse_size(src, "ObjectSizeLessThan", &r->lt, e))
            return -1;
        json_t *tags = and ? json_object_get(and, "Tags") : NULL;
        json_t *tag = and ? NULL : json_object_get(f, "Tag");
        if (tag) {
            r->tags = nb_xcalloc(1, sizeof *r->tags);
            if (parse_tag(tag, &r->tags[0], e)) return -1;
            r->ntags = 1;
        } else if (tags) {
            if (!json_is_array(tags)) return MALFORMED(e);
            size_t nt = json_array_size(tags);
            r->tags = nb_xcalloc(nt ? nt : 1, sizeof *r->tags);
            for (size_t i = 0; i < nt; i++) {
                if (parse_tag(json_array_get(tags, i), &r->tags[i], e)) return -1;
                r->ntags = i + 1;
                for (size_t j = 0; j < i; j++)
                    if (strcmp(r->tags[j].k, r->tags[i].k) == 0)
                        return fail(e, 400, "InvalidArgument",
                                    "Duplicate Tag Keys are not allowed.");
            }
        }
        /* And joins two or more predicates (AWS's LifecycleRuleAndOperator): a lone one
         * belongs directly in Filter, and AWS refuses it inside And */
        if (strict && and && (p != NULL) + (r->gt >= 0) + (r->lt >= 0) + (int)r->ntags < 2)
            return MALFORMED(e);
        if (r->gt >= 0 && r->lt >= 0 && r->gt >= r->lt)
            return fail(e, 400, "InvalidArgument",
                        "ObjectSizeGreaterThan must be less than ObjectSizeLessThan");
    }
    r->prefix = nb_xstrdup(prefix ? prefix : "");
    r->prefix_len = strlen(r->prefix);
    if (r->prefix_len > NB_S3_MAX_KEY)
        return fail(e, 400, "InvalidArgument", "The maximum size of a prefix is 1024.");
    return 0;
}

static void filter_desc(const lc_rule *r, char *out, size_t n)
{
    snprintf(out, n, "(prefix=%s)", r->prefix);
}

static int cmp_rank(const void *a, const void *b)
{
    const lc_trans *x = a, *y = b;
    return x->cls->rank - y->cls->rank;
}

static int parse_transition(json_t *t, bool noncurrent, lc_trans *out, perr *e)
{
    const char *dn = noncurrent ? "NoncurrentDays" : "Days";
    const char *act = noncurrent ? "NoncurrentVersionTransition" : "Transition";
    json_int_t days = 0, newer = 0;
    double date = 0;
    int hd = opt_int(t, dn, &days), hdt = noncurrent ? 0 : opt_date(t, "Date", &date);
    int hn = noncurrent ? opt_int(t, "NewerNoncurrentVersions", &newer) : 0;
    if (hd < 0 || hdt < 0 || hn < 0 || !json_is_object(t)) return MALFORMED(e);
    if (hd + hdt != 1) return MALFORMED(e);
    const char *sc = json_string_value(json_object_get(t, "StorageClass"));
    const nb_s3_class *k = nb_s3_class_get(sc);
    if (!sc) return MALFORMED(e);
    if (!k || !k->transition_to)
        return fail(e, 400, "InvalidArgument", "The storage class you specified is not valid");
    if (hd && days < 0)
        return fail(e, 400, "InvalidArgument", "'%s' for %s action must be a positive integer", dn,
                    act);
    if (hd && days > 2147483647) return MALFORMED(e);
    if (hd && days < 30 && k->min_size == SMALL_OBJECT && k->min_days == 30)
        return fail(e, 400, "InvalidArgument",
                    "'%s' for %s action must be at least 30 for storageClass %s", dn, act, k->name);
    if (hdt && !is_midnight(date))
        return fail(e, 400, "InvalidArgument", "'Date' must be at midnight GMT");
    if (hn && (newer < 1 || newer > 100))
        return fail(e, 400, "InvalidArgument",
                    "'NewerNoncurrentVersions' for %s action must be a positive integer between 1"
                    " and 100",
                    act);
    out->days = hd ? (int)days : -1;
    out->date = hdt ? date : 0;
    out->cls = k;
    out->newer = (int)newer;
    return 0;
}

static int parse_transitions(json_t *list, bool noncurrent, lc_rule *r, perr *e)
{
    if (!list) return 0;
    if (!json_is_array(list)) return MALFORMED(e);
    lc_trans *tr = noncurrent ? r->ntr_ : r->tr;
    int *n = noncurrent ? &r->nntr : &r->ntr;
    size_t cnt = json_array_size(list);
    char fd[1100];
    filter_desc(r, fd, sizeof fd);
    const char *act = noncurrent ? "NoncurrentVersionTransition" : "Transition";
    const char *dn = noncurrent ? "NoncurrentDays" : "Days";
    for (size_t i = 0; i < cnt; i++) {
        if (*n >= (int)NB_ARRAY_LEN(r->tr))
            return fail(e, 400, "InvalidArgument",
                        "'StorageClass' must be different for '%s' actions in same 'Rule' with"
                        " filter '%s'",
                        act, fd);
        if (parse_transition(json_array_get(list, i), noncurrent, &tr[*n], e)) return -1;
        for (int j = 0; j < *n; j++)
            if (tr[j].cls == tr[*n].cls)
                return fail(e, 400, "InvalidArgument",
                            "'StorageClass' must be different for '%s' actions in same 'Rule'"
                            " with filter '%s'",
                            act, fd);
        (*n)++;
    }
    qsort(tr, (size_t)*n, sizeof *tr, cmp_rank);
    for (int j = 1; j < *n; j++) {
        const lc_trans *a = &tr[j - 1], *b = &tr[j];
        if ((a->days < 0) != (b->days < 0))
            return fail(e, 400, "InvalidRequest",
                        "Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule"
                        " for filter '%s'",
                        fd);
        if (a->days < 0 ? b->date <= a->date : b->days <= a->days)
            return fail(e, 400, "InvalidArgument",
                        "'%s' in %s action for StorageClass %s for filter '%s' must be greater"
                        " than '%s' in %s action for StorageClass %s for filter '%s'",
                        a->days < 0 ? "Date" : dn, act, b->cls->name, fd,
                        a->days < 0 ? "Date" : dn, act, a->cls->name, fd);
        /* objects stay in the IA classes for their 30-day minimum before going further */
        if (a->days >= 0 && a->cls->min_days == 30 && a->cls->min_size == SMALL_OBJECT &&
            b->days - a->days < 30)
            return fail(e, 400, "InvalidArgument",
                        "'%s' in %s action for StorageClass %s for filter '%s' must be 30 days"
                        " more than '%s' in %s action for StorageClass %s for filter '%s'",
                        dn, act, b->cls->name, fd, dn, act, a->cls->name, fd);
    }
    return 0;
}

static int parse_rule(json_t *j, lc_rule *r, bool strict, perr *e)
{
    if (!json_is_object(j)) return MALFORMED(e);
    json_t *idj = json_object_get(j, "ID");
    if (idj && !json_is_string(idj)) return MALFORMED(e);
    const char *id = json_string_value(idj);
    if (id && strlen(id) > MAX_ID)
        return fail(e, 400, "InvalidArgument", "ID length should not exceed allowed limit of 255");
    r->id = nb_xstrdup(id ? id : "");
    const char *status = json_string_value(json_object_get(j, "Status"));
    if (!status || (strcmp(status, "Enabled") != 0 && strcmp(status, "Disabled") != 0))
        return MALFORMED(e);
    r->enabled = strcmp(status, "Enabled") == 0;
    if (parse_filter(j, r, strict, e)) return -1;
    char fd[1100];
    filter_desc(r, fd, sizeof fd);

    json_t *exp = json_object_get(j, "Expiration");
    if (exp) {
        if (!json_is_object(exp)) return MALFORMED(e);
        json_int_t days = 0;
        double date = 0;
        int hd = opt_int(exp, "Days", &days), hdt = opt_date(exp, "Date", &date);
        json_t *m = json_object_get(exp, "ExpiredObjectDeleteMarker");
        if (hd < 0 || hdt < 0 || (m && !json_is_boolean(m))) return MALFORMED(e);
        if (hd + hdt + (m != NULL) != 1) return MALFORMED(e);
        if (hd && days <= 0)
            return fail(e, 400, "InvalidArgument",
                        "'Days' for Expiration action must be a positive integer");
        if (hd && days > 2147483647) return MALFORMED(e);
        if (hdt && !is_midnight(date))
            return fail(e, 400, "InvalidArgument", "'Date' must be at midnight GMT");
        r->exp_days = hd ? (int)days : 0;
        r->exp_date = hdt ? date : 0;
        r->exp_marker = json_is_true(m);
        if (r->exp_marker && (r->ntags || r->gt >= 0 || r->lt >= 0))
            return fail(e, 400, "InvalidRequest",
                        "ExpiredObjectDeleteMarker cannot be specified with a tag or object size"
                        " filter");
    }
    if (parse_transitions(json_object_get(j, "Transitions"), false, r, e) ||
        parse_transitions(json_object_get(j, "NoncurrentVersionTransitions"), true, r, e))
        return -1;
    /* Expiration after every transition, and by the same kind of time. */
    for (int i = 0; i < r->ntr; i++) {
        bool by_days = r->tr[i].days >= 0;
        if ((r->exp_days && !by_days) || (r->exp_date && by_days))
            return fail(e, 400, "InvalidRequest",
                        "Found mixed 'Date' and 'Days' based Expiration and Transition actions in"
                        " lifecycle rule for filter '%s'",
                        fd);
        if (r->exp_days && r->exp_days <= r->tr[i].days)
            return fail(e, 400, "InvalidArgument",
                        "'Days' in the Expiration action for filter '%s' must be greater than"
                        " 'Days' in the Transition action",
                        fd);
        if (r->exp_date && r->exp_date <= r->tr[i].date)
            return fail(e, 400, "InvalidArgument",
                        "'Date' in the Expiration action for filter '%s' must be later than"
                        " 'Date' in the Transition action",
                        fd);
    }
    json_t *nce = json_object_get(j, "NoncurrentVersionExpiration");
    if (nce) {
        json_int_t days = 0, newer = 0;
        int hd = opt_int(nce, "NoncurrentDays", &days),
            hn = opt_int(nce, "NewerNoncurrentVersions", &newer);
        if (!json_is_object(nce) || hd < 0 || hn < 0 || !hd) return MALFORMED(e);
        if (days <= 0)
            return fail(e, 400, "InvalidArgument",
                        "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive"
                        " integer");
        if (days > 2147483647) return MALFORMED(e);
        if (hn && (newer < 1 || newer > 100))
            return fail(e, 400, "InvalidArgument",
                        "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be"
                        " a positive integer between 1 and 100");
        r->nc_days = (int)days;
        r->nc_newer = (int)newer;
        for (int i = 0; i < r->nntr; i++)
            if (r->ntr_[i].days >= r->nc_days)
                return fail(e, 400, "InvalidArgument",
                            "'NoncurrentDays' in the NoncurrentVersionExpiration action for filter"
                            " '%s' must be greater than 'NoncurrentDays' in the"
                            " NoncurrentVersionTransition action",
                            fd);
    }
    json_t *ab = json_object_get(j, "AbortIncompleteMultipartUpload");
    if (ab) {
        json_int_t days = 0;
        int hd = opt_int(ab, "DaysAfterInitiation", &days);
        if (!json_is_object(ab) || hd <= 0) return MALFORMED(e);
        if (days <= 0)
            return fail(e, 400, "InvalidArgument",
                        "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a"
                        " positive integer");
        if (days > 2147483647) return MALFORMED(e);
        if (r->ntags)
            return fail(e, 400, "InvalidRequest",
                        "AbortIncompleteMultipartUpload cannot be specified with Tags.");
        if (r->gt >= 0 || r->lt >= 0)
            return fail(e, 400, "InvalidRequest",
                        "AbortIncompleteMultipartUpload cannot be specified with an object size"
                        " filter.");
        r->abort_days = (int)days;
    }
    if (!exp && !r->ntr && !r->nntr && !nce && !ab)
        return fail(e, 400, "InvalidRequest", "At least one action needs to be specified in a rule");
    return 0;
}

static bool object_rule(const lc_rule *r)
{
    return r->enabled &&
           (r->exp_days || r->exp_date || r->exp_marker || r->ntr || r->nntr || r->nc_days);
}

static int cmp_prefix(const void *a, const void *b)
{
    const lc_rule *x = *(const lc_rule *const *)a, *y = *(const lc_rule *const *)b;
    size_t n = x->prefix_len < y->prefix_len ? x->prefix_len : y->prefix_len;
    int d = memcmp(x->prefix, y->prefix, n);
    return d ? d : (x->prefix_len > y->prefix_len) - (x->prefix_len < y->prefix_len);
}

/* The key ranges the pass reads: every object action needs a matching rule, so keys under no
 * enabled object-action rule's prefix are never read (an index seek skips them). Prefixes are
 * sorted and those under a shorter one dropped, so the ranges are disjoint and in key order. */
static void build_ranges(lc_conf *c)
{
    const lc_rule **p = nb_xcalloc(c->n ? c->n : 1, sizeof *p);
    size_t np = 0;
    for (size_t i = 0; i < c->n; i++)
        if (object_rule(&c->rules[i])) p[np++] = &c->rules[i];
    qsort(p, np, sizeof *p, cmp_prefix);
    c->ranges = nb_xcalloc(np ? np : 1, sizeof *c->ranges);
    const lc_rule *last = NULL;
    for (size_t i = 0; i < np; i++) {
        if (last && p[i]->prefix_len >= last->prefix_len &&
            memcmp(p[i]->prefix, last->prefix, last->prefix_len) == 0)
            continue; /* under last's prefix: already read */
        last = p[i];
        lc_range *g = &c->ranges[c->nranges++];
        g->lo = nb_xmalloc(last->prefix_len + 1);
        memcpy(g->lo, last->prefix, last->prefix_len + 1);
        g->lo_len = last->prefix_len;
        /* hi: the least key above every key with this prefix (drop trailing 0xff bytes, add
         * one to the last); none when the prefix is empty or all 0xff */
        size_t n = last->prefix_len;
        while (n && (unsigned char)last->prefix[n - 1] == 0xff) n--;
        if (n) {
            g->hi = nb_xmalloc(n + 1);
            memcpy(g->hi, last->prefix, n);
            g->hi[n - 1] = (char)((unsigned char)g->hi[n - 1] + 1);
            g->hi[n] = 0;
            g->hi_len = n;
        }
    }
    free(p);
}

/* Parse a Rules array. gen_ids: a request's rules: give rules without an ID a random one (and
 * write it back into the array), as AWS does, and validate strictly (see parse_filter). */
static lc_conf *parse_rules(json_t *rules, bool gen_ids, perr *e)
{
    if (!json_is_array(rules) || json_array_size(rules) == 0) {
        MALFORMED(e);
        return NULL;
    }
    size_t n = json_array_size(rules);
    if (n > MAX_RULES) {
        fail(e, 400, "InvalidRequest", "Lifecycle configuration cannot have more than 1000 rules");
        return NULL;
    }
    lc_conf *c = nb_xcalloc(1, sizeof *c);
    atomic_init(&c->refs, 1);
    c->rules = nb_xcalloc(n, sizeof *c->rules);
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_array_get(rules, i);
        c->n = i + 1;
        if (parse_rule(j, &c->rules[i], gen_ids, e)) goto bad;
        lc_rule *r = &c->rules[i];
        if (!r->id[0] && gen_ids) {
            free(r->id);
            unsigned char raw[36];
            char b64[64];
            nb_random(raw, sizeof raw);
            nb_base64_encode(raw, sizeof raw, b64);
            r->id = nb_xstrdup(b64);
            json_object_set_new(j, "ID", json_string(b64));
        }
        for (size_t k = 0; k < i; k++)
            if (r->id[0] && strcmp(c->rules[k].id, r->id) == 0) {
                fail(e, 400, "InvalidArgument",
                     "Rule ID must be unique. Found same ID for more than one rule");
                goto bad;
            }
        c->has_tags |= r->ntags > 0;
        c->object_actions |= object_rule(r);
        c->upload_actions |= r->enabled && r->abort_days > 0;
    }
    build_ranges(c);
    return c;
bad:
    conf_free(c);
    return NULL;
}

#define MIN_SIZE_HDR "x-amz-transition-default-minimum-object-size"
#define MIN_SIZE_DEFAULT "all_storage_classes_128K"
#define MIN_SIZE_VARIES "varies_by_storage_class"

/* The stored form: the Rules array, or {"Rules": [...], "TransitionDefaultMinimumObjectSize":
 * "varies_by_storage_class"} when the bucket asked for that. Returns the Rules (borrowed from
 * doc) and sets *varies. */
static json_t *stored_rules(json_t *doc, bool *varies)
{
    *varies = false;
    if (!json_is_object(doc)) return doc;
    const char *m = json_string_value(json_object_get(doc, "TransitionDefaultMinimumObjectSize"));
    *varies = m && strcmp(m, MIN_SIZE_VARIES) == 0;
    return json_object_get(doc, "Rules");
}

/* ---------------------------------------------------------------- the cache */

typedef struct lc_entry {
    char name[64];
    double created;
    lc_conf *conf;
} lc_entry;

static pthread_rwlock_t cmu = PTHREAD_RWLOCK_INITIALIZER;
static lc_entry *cache;
static size_t ncache, capcache;
static atomic_size_t cache_count; /* fast path: no bucket has rules */

static size_t cache_find(const char *name, bool *found)
{
    size_t lo = 0, hi = ncache;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(cache[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    return lo;
}

/* Install (conf != NULL, reference taken over) or remove a bucket's rules. */
static void cache_set(const char *name, double created, lc_conf *conf)
{
    lc_conf *old = NULL;
    pthread_rwlock_wrlock(&cmu);
    bool found;
    size_t i = cache_find(name, &found);
    if (found) {
        old = cache[i].conf;
        if (conf) {
            cache[i].conf = conf;
            cache[i].created = created;
        } else {
            memmove(&cache[i], &cache[i + 1], (ncache - i - 1) * sizeof *cache);
            ncache--;
        }
    } else if (conf) {
        if (ncache == capcache) {
            capcache = capcache ? capcache * 2 : 16;
            cache = realloc(cache, capcache * sizeof *cache);
            NB_ASSERT(cache != NULL);
        }
        memmove(&cache[i + 1], &cache[i], (ncache - i) * sizeof *cache);
        memset(&cache[i], 0, sizeof *cache);
        snprintf(cache[i].name, sizeof cache[i].name, "%s", name);
        cache[i].created = created;
        cache[i].conf = conf;
        ncache++;
    }
    atomic_store(&cache_count, ncache);
    pthread_rwlock_unlock(&cmu);
    conf_unref(old);
}

/* The rules of bucket (created at `created`; a deleted and re-created bucket does not inherit
 * a stale entry), with a reference; NULL = none. */
static lc_conf *cache_get(const char *name, double created)
{
    if (atomic_load(&cache_count) == 0) return NULL;
    lc_conf *c = NULL;
    pthread_rwlock_rdlock(&cmu);
    bool found;
    size_t i = cache_find(name, &found);
    if (found && cache[i].created == created) {
        c = cache[i].conf;
        atomic_fetch_add(&c->refs, 1);
    }
    pthread_rwlock_unlock(&cmu);
    return c;
}

void nb_s3_lc_cache_clear(void)
{
    pthread_rwlock_wrlock(&cmu);
    for (size_t i = 0; i < ncache; i++) conf_unref(cache[i].conf);
    free(cache);
    cache = NULL;
    ncache = capcache = 0;
    atomic_store(&cache_count, 0);
    pthread_rwlock_unlock(&cmu);
}

static int load_fn(sqlite3 *h, void *arg)
{
    (void)arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT bucket, created, rules FROM s3_lifecycle");
    if (!st) return SQLITE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        json_t *doc = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
        bool varies;
        json_t *rules = stored_rules(doc, &varies);
        perr e;
        lc_conf *c = parse_rules(rules, false, &e);
        if (c) c->small_to_archive = varies;
        json_decref(doc);
        if (!c) {
            nb_warn("s3: bucket %s: stored lifecycle rules do not parse: %s", name, e.msg);
            continue;
        }
        cache_set(name, sqlite3_column_double(st, 1), c);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int nb_s3_lc_load(void)
{
    nb_s3_lc_cache_clear();
    return nb_db_read(nb_s3_store_db(nb_s3_g), load_fn, NULL) == SQLITE_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- matching */

typedef struct objview {
    const char *key;
    size_t key_len;
    int64_t size;
    json_t *tags; /* parsed TagSet or NULL */
    bool marker;
} objview;

static bool tags_have(json_t *set, const lc_tag *t)
{
    size_t i;
    json_t *it;
    json_array_foreach(set, i, it)
    {
        const char *k = json_string_value(json_object_get(it, "Key"));
        const char *v = json_string_value(json_object_get(it, "Value"));
        if (k && v && strcmp(k, t->k) == 0 && strcmp(v, t->v) == 0) return true;
    }
    return false;
}

static bool rule_matches(const lc_rule *r, const objview *o)
{
    if (!r->enabled) return false;
    if (o->key_len < r->prefix_len || memcmp(o->key, r->prefix, r->prefix_len) != 0) return false;
    /* delete markers have no tags or size: rules with such filters never apply to them */
    if (o->marker) return r->ntags == 0 && r->gt < 0 && r->lt < 0;
    if (r->gt >= 0 && !(o->size > r->gt)) return false;
    if (r->lt >= 0 && !(o->size < r->lt)) return false;
    for (size_t i = 0; i < r->ntags; i++)
        if (!o->tags || !tags_have(o->tags, &r->tags[i])) return false;
    return true;
}

static double exp_time(const lc_rule *r, double created)
{
    if (r->exp_date) return r->exp_date;
    if (r->exp_days) return nb_s3_lc_due(created, r->exp_days);
    return 0;
}

bool nb_s3_lc_expiry(const nb_s3_bucket *b, const nb_s3_object *o, double *when, char *rule_id,
                     size_t rule_id_len)
{
    lc_conf *c = cache_get(b->name, b->created);
    if (!c) return false;
    objview v = {o->key, o->key_len, o->size, NULL, false};
    if (c->has_tags && o->tags) v.tags = json_loads(o->tags, 0, NULL);
    bool found = false;
    for (size_t i = 0; i < c->n; i++) {
        const lc_rule *r = &c->rules[i];
        double t = exp_time(r, o->last_modified);
        if (!t || !rule_matches(r, &v)) continue;
        if (!found || t < *when) {
            *when = t;
            snprintf(rule_id, rule_id_len, "%s", r->id);
            found = true;
        }
    }
    json_decref(v.tags);
    conf_unref(c);
    return found;
}

void nb_s3_lc_abort_headers(nb_call *c, const nb_s3_bucket *b, const char *key, size_t key_len,
                            double initiated)
{
    lc_conf *lc = cache_get(b->name, b->created);
    if (!lc) return;
    objview v = {key, key_len, 0, NULL, true}; /* abort rules filter on the prefix only */
    const lc_rule *best = NULL;
    double when = 0;
    for (size_t i = 0; i < lc->n; i++) {
        const lc_rule *r = &lc->rules[i];
        if (!r->abort_days || !rule_matches(r, &v)) continue;
        double t = nb_s3_lc_due(initiated, r->abort_days);
        if (!best || t < when) {
            best = r;
            when = t;
        }
    }
    if (best) {
        char d[40];
        nb_s3_http_date(when, d);
        nb_s3_add_header(c, "x-amz-abort-date", d);
        /* an ID may hold any XML character: control and non-ASCII bytes are %-encoded so
         * the header stays one line of ASCII */
        size_t n = strlen(best->id);
        char *idv = nb_arena_alloc(c->arena, n * 3 + 1);
        if (idv) {
            static const char hx[] = "0123456789ABCDEF";
            char *w = idv;
            for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)best->id[i];
                if (ch < 0x20 || ch >= 0x7f || ch == '%') {
                    *w++ = '%';
                    *w++ = hx[ch >> 4];
                    *w++ = hx[ch & 15];
                } else {
                    *w++ = (char)ch;
                }
            }
            *w = 0;
            nb_s3_add_header(c, "x-amz-abort-rule-id", idv);
        }
    }
    conf_unref(lc);
}

/* ---------------------------------------------------------------- operations */

static int need_md5(nb_call *c)
{
    if (nb_call_header(c, "Content-MD5")) return 0;
    static const char *const h[] = {"x-amz-checksum-crc32", "x-amz-checksum-crc32c",
                                    "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1",
                                    "x-amz-checksum-sha256"};
    for (size_t i = 0; i < NB_ARRAY_LEN(h); i++)
        if (nb_call_header(c, h[i])) return 0;
    return nb_s3_error(c, 400, "InvalidRequest",
                       "Missing required header for this request: Content-Md5", NULL);
}

typedef struct put_lc_arg {
    const char *bucket;
    double created;
    const char *rules;
    bool del;
    bool gone;
} put_lc_arg;

static int put_lc_fn(sqlite3 *h, void *arg)
{
    put_lc_arg *a = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT 1 FROM buckets WHERE name=? AND created=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, a->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, a->created);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return NB_S3_NO_BUCKET;
    if (rc != SQLITE_ROW) return rc;
    if (a->del) {
        st = nb_db_stmt(h, "DELETE FROM s3_lifecycle WHERE bucket=?");
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_text(st, 1, a->bucket, -1, SQLITE_STATIC);
    } else {
        st = nb_db_stmt(h, "INSERT OR REPLACE INTO s3_lifecycle(bucket,created,rules,updated)"
                           " VALUES(?,?,?,?)");
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_text(st, 1, a->bucket, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 2, a->created);
        sqlite3_bind_text(st, 3, a->rules, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 4, nb_clock_now_f());
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int nb_s3_op_put_bucket_lifecycle(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b) || need_md5(c)) return -1;
    const char *min = nb_call_header(c, MIN_SIZE_HDR);
    if (!min) min = MIN_SIZE_DEFAULT;
    bool varies = strcmp(min, MIN_SIZE_VARIES) == 0;
    if (!varies && strcmp(min, MIN_SIZE_DEFAULT) != 0)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Invalid value for the x-amz-transition-default-minimum-object-size"
                           " header",
                           "ArgumentName", MIN_SIZE_HDR, "ArgumentValue", min, NULL);
    json_t *conf = json_object_get(c->input, "LifecycleConfiguration");
    json_t *rules = json_object_get(conf, "Rules");
    perr e;
    lc_conf *lc = parse_rules(rules, true, &e);
    if (!lc) return nb_s3_error(c, e.status, e.code, e.msg, NULL);
    lc->small_to_archive = varies;
    /* the default keeps the plain array (what earlier versions stored) */
    json_t *doc = varies ? json_pack("{s:O,s:s}", "Rules", rules,
                                     "TransitionDefaultMinimumObjectSize", min)
                         : json_incref(rules);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    put_lc_arg a = {bucket, b.created, text, false, false};
    int rc = text ? nb_db_write(nb_s3_store_db(nb_s3_g), put_lc_fn, &a) : SQLITE_NOMEM;
    free(text);
    if (rc != SQLITE_OK) {
        conf_unref(lc);
        return rc == NB_S3_NO_BUCKET ? nb_s3_store_error(c, rc, bucket, NULL)
                                     : nb_s3_internal(c, "cannot store the lifecycle rules");
    }
    cache_set(bucket, b.created, lc);
    nb_s3_add_header(c, MIN_SIZE_HDR, min);
    c->output = json_object();
    return 0;
}

typedef struct get_lc_arg {
    const char *bucket;
    double created;
    char *rules;
} get_lc_arg;

static int get_lc_fn(sqlite3 *h, void *arg)
{
    get_lc_arg *a = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT rules FROM s3_lifecycle WHERE bucket=? AND created=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, a->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, a->created);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) a->rules = nb_xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int nb_s3_op_get_bucket_lifecycle(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    get_lc_arg a = {bucket, b.created, NULL};
    if (nb_db_read(nb_s3_store_db(nb_s3_g), get_lc_fn, &a) != SQLITE_OK)
        return nb_s3_internal(c, "cannot read the lifecycle rules");
    json_t *doc = a.rules ? json_loads(a.rules, 0, NULL) : NULL;
    free(a.rules);
    if (!doc)
        return nb_s3_error(c, 404, "NoSuchLifecycleConfiguration",
                           "The lifecycle configuration does not exist", "BucketName", bucket,
                           NULL);
    bool varies;
    json_t *rules = stored_rules(doc, &varies);
    c->output = rules ? json_pack("{s:O}", "Rules", rules) : json_pack("{s:[]}", "Rules");
    json_decref(doc);
    nb_s3_add_header(c, MIN_SIZE_HDR, varies ? MIN_SIZE_VARIES : MIN_SIZE_DEFAULT);
    return 0;
}

int nb_s3_op_delete_bucket_lifecycle(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    put_lc_arg a = {bucket, b.created, NULL, true, false};
    int rc = nb_db_write(nb_s3_store_db(nb_s3_g), put_lc_fn, &a);
    if (rc != SQLITE_OK)
        return rc == NB_S3_NO_BUCKET ? nb_s3_store_error(c, rc, bucket, NULL)
                                     : nb_s3_internal(c, "cannot delete the lifecycle rules");
    cache_set(bucket, b.created, NULL);
    c->output = json_object();
    return 0;
}

/* ---------------------------------------------------------------- the pass: state */

typedef struct run_state {
    bool active; /* a pass is in progress (bucket set) */
    int64_t day, done_day;
    char bucket[64];
    int phase;
    char *key; /* resume after this key (malloc'd), NULL = from the start */
    size_t key_len;
    char upload[72];
    int64_t scanned, actions;
    double started, finished;
} run_state;

static void rs_set_key(run_state *rs, const char *k, size_t n)
{
    free(rs->key);
    rs->key = NULL;
    rs->key_len = 0;
    if (!k) return;
    rs->key = nb_xmalloc(n + 1);
    memcpy(rs->key, k, n);
    rs->key[n] = 0;
    rs->key_len = n;
}

static int rs_load_fn(sqlite3 *h, void *arg)
{
    run_state *rs = arg;
    memset(rs, 0, sizeof *rs);
    rs->done_day = -1;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT day, done_day, bucket, phase, key, upload, scanned,"
                                     " actions, started, finished FROM s3_lifecycle_run"
                                     " WHERE id=1");
    if (!st) return SQLITE_ERROR;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rs->day = sqlite3_column_int64(st, 0);
        rs->done_day = sqlite3_column_int64(st, 1);
        const char *b = (const char *)sqlite3_column_text(st, 2);
        rs->active = b != NULL;
        snprintf(rs->bucket, sizeof rs->bucket, "%s", b ? b : "");
        rs->phase = sqlite3_column_int(st, 3);
        if (sqlite3_column_type(st, 4) != SQLITE_NULL)
            rs_set_key(rs, sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4));
        const char *u = (const char *)sqlite3_column_text(st, 5);
        snprintf(rs->upload, sizeof rs->upload, "%s", u ? u : "");
        rs->scanned = sqlite3_column_int64(st, 6);
        rs->actions = sqlite3_column_int64(st, 7);
        rs->started = sqlite3_column_double(st, 8);
        rs->finished = sqlite3_column_double(st, 9);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int rs_save(sqlite3 *h, const run_state *rs)
{
    sqlite3_stmt *st = nb_db_stmt(
        h, "INSERT INTO s3_lifecycle_run(id,day,done_day,bucket,phase,key,upload,scanned,actions,"
           "started,finished) VALUES(1,?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT(id) DO UPDATE"
           " SET day=?1, done_day=?2, bucket=?3, phase=?4, key=?5, upload=?6, scanned=?7,"
           " actions=?8, started=?9, finished=?10");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, rs->day);
    sqlite3_bind_int64(st, 2, rs->done_day);
    if (rs->active) sqlite3_bind_text(st, 3, rs->bucket, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 3);
    sqlite3_bind_int(st, 4, rs->phase);
    if (rs->key) sqlite3_bind_blob(st, 5, rs->key, (int)rs->key_len, SQLITE_STATIC);
    else sqlite3_bind_null(st, 5);
    sqlite3_bind_text(st, 6, rs->upload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, rs->scanned);
    sqlite3_bind_int64(st, 8, rs->actions);
    sqlite3_bind_double(st, 9, rs->started);
    sqlite3_bind_double(st, 10, rs->finished);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int rs_save_fn(sqlite3 *h, void *arg) { return rs_save(h, arg); }

typedef struct next_bucket_arg {
    const char *after; /* NULL = first */
    char name[64];
    bool found;
} next_bucket_arg;

static int next_bucket_fn(sqlite3 *h, void *arg)
{
    next_bucket_arg *a = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT bucket FROM s3_lifecycle WHERE bucket > ?"
                                     " ORDER BY bucket LIMIT 1");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, a->after ? a->after : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    a->found = rc == SQLITE_ROW;
    if (a->found) snprintf(a->name, sizeof a->name, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Move the pass to the bucket after rs->bucket, or finish it. */
static void rs_next_bucket(run_state *rs, double now)
{
    next_bucket_arg a = {rs->active ? rs->bucket : NULL, "", false};
    if (nb_db_read(nb_s3_store_db(nb_s3_g), next_bucket_fn, &a) != SQLITE_OK) a.found = false;
    rs_set_key(rs, NULL, 0);
    rs->upload[0] = 0;
    rs->phase = 0;
    if (a.found) {
        rs->active = true;
        snprintf(rs->bucket, sizeof rs->bucket, "%s", a.name);
    } else {
        rs->active = false;
        rs->bucket[0] = 0;
        rs->done_day = rs->day;
        rs->finished = now;
    }
}

/* ---------------------------------------------------------------- the pass: objects */

typedef struct vrow {
    int64_t id;
    const char *key;
    size_t key_len;
    char version_id[40];
    bool latest, marker;
    int64_t size;
    double lm;
    const char *cls;
    const char *tags;
    char etag[48];
} vrow;

typedef struct obatch {
    const char *bucket;
    const lc_conf *c;
    const char *after;
    size_t after_len;
    nb_arena *a;
    vrow *rows;
    size_t n, cap;
    bool full;
} obatch;

static int read_vrows(sqlite3_stmt *st, obatch *b)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (b->n == b->cap) {
            size_t cap = b->cap ? b->cap * 2 : BATCH;
            vrow *p = nb_arena_alloc(b->a, cap * sizeof *p);
            if (!p) return SQLITE_NOMEM;
            if (b->n) memcpy(p, b->rows, b->n * sizeof *p);
            b->rows = p;
            b->cap = cap;
        }
        vrow *v = &b->rows[b->n++];
        memset(v, 0, sizeof *v);
        v->id = sqlite3_column_int64(st, 0);
        v->key_len = (size_t)sqlite3_column_bytes(st, 1);
        v->key = nb_arena_strndup(b->a, sqlite3_column_blob(st, 1) ? sqlite3_column_blob(st, 1) : "",
                                  v->key_len);
        snprintf(v->version_id, sizeof v->version_id, "%s", (const char *)sqlite3_column_text(st, 2));
        v->latest = sqlite3_column_int(st, 3) != 0;
        v->marker = sqlite3_column_int(st, 4) != 0;
        v->size = sqlite3_column_int64(st, 5);
        v->lm = sqlite3_column_double(st, 6);
        const char *cls = (const char *)sqlite3_column_text(st, 7);
        v->cls = nb_arena_strdup(b->a, cls ? cls : "STANDARD");
        const char *tags = (const char *)sqlite3_column_text(st, 8);
        v->tags = tags ? nb_arena_strdup(b->a, tags) : NULL;
        const char *etag = (const char *)sqlite3_column_text(st, 9);
        snprintf(v->etag, sizeof v->etag, "%s", etag ? etag : "");
        if (!v->key || !v->cls) return SQLITE_NOMEM;
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

#define VCOLS "id,key,version_id,is_latest,delete_marker,size,last_modified,storage_class,tags,etag"

static int keycmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int d = n ? memcmp(a, b, n) : 0;
    return d ? d : (an > bn) - (an < bn);
}

/* Up to BATCH rows after b->after, from the configuration's key ranges in order, each read as
 * an index range (bucket, key) of objects_history. */
static int obatch_fn(sqlite3 *h, void *arg)
{
    obatch *b = arg;
    b->n = 0;
    char *above = NULL; /* after || 0x00: the least key above after, so one bound is >= */
    if (b->after) {
        above = nb_arena_alloc(b->a, b->after_len + 1);
        if (!above) return SQLITE_NOMEM;
        memcpy(above, b->after, b->after_len);
        above[b->after_len] = 0;
    }
    int rc = SQLITE_OK;
    sqlite3_stmt *st;
    for (size_t i = 0; i < b->c->nranges && b->n < BATCH; i++) {
        const lc_range *g = &b->c->ranges[i];
        if (b->after && g->hi && keycmp(b->after, b->after_len, g->hi, g->hi_len) >= 0)
            continue; /* done already */
        const char *lo = g->lo;
        size_t lo_len = g->lo_len;
        if (b->after && keycmp(b->after, b->after_len, g->lo, g->lo_len) >= 0) {
            lo = above;
            lo_len = b->after_len + 1;
        }
        st = g->hi ? nb_db_stmt(h, "SELECT " VCOLS " FROM objects WHERE bucket=?1 AND key>=?2"
                                   " AND key<?4 ORDER BY key, id DESC LIMIT ?3")
                   : nb_db_stmt(h, "SELECT " VCOLS " FROM objects WHERE bucket=?1 AND key>=?2"
                                   " ORDER BY key, id DESC LIMIT ?3");
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_text(st, 1, b->bucket, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, lo, (int)lo_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, (int)(BATCH - b->n));
        if (g->hi) sqlite3_bind_blob(st, 4, g->hi, (int)g->hi_len, SQLITE_STATIC);
        rc = read_vrows(st, b);
        sqlite3_reset(st);
        if (rc != SQLITE_OK) return rc;
    }
    b->full = b->n == BATCH;
    if (!b->full) return SQLITE_OK;
    /* The last key's versions may continue past the limit: leave that key to the next batch,
     * unless it is the only key (then read all its versions now). */
    const vrow *last = &b->rows[b->n - 1];
    size_t keep = b->n;
    while (keep > 0 && b->rows[keep - 1].key_len == last->key_len &&
           memcmp(b->rows[keep - 1].key, last->key, last->key_len) == 0)
        keep--;
    if (keep > 0) {
        b->n = keep;
        return SQLITE_OK;
    }
    const char *k = last->key;
    size_t kn = last->key_len;
    b->n = 0;
    st = nb_db_stmt(h, "SELECT " VCOLS " FROM objects WHERE bucket=?1 AND key=?2"
                       " ORDER BY id DESC");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, b->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, k, (int)kn, SQLITE_TRANSIENT);
    rc = read_vrows(st, b);
    sqlite3_reset(st);
    return rc;
}

enum { A_EXPIRE_CURRENT = 1, A_DROP_MARKER, A_DROP, A_TRANSITION };

typedef struct action {
    int kind;
    const vrow *v;
    const nb_s3_class *to;
    bool done;     /* applied (after commit: events) */
    bool marker;   /* EXPIRE_CURRENT made a delete marker */
    char marker_vid[33]; /* its version id: the event names the marker, as AWS's does */
} action;

typedef struct apply_arg {
    const char *bucket;
    action *acts;
    size_t n;
    run_state *rs;
    nb_s3_files gc; /* content files of dropped versions, removed after the commit */
    double now;
} apply_arg;

/* The row as the pass read it still exists. An unversioned inline object overwritten by
 * another keeps its id (store.c rewrite_version), so what the rules decide on must be the
 * same too: a row rewritten since the read counts as gone (decided again next pass). */
static int row_state(sqlite3 *h, const vrow *v, bool *exists, bool *latest, bool *marker)
{
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT is_latest, delete_marker FROM objects WHERE id=?"
                                     " AND last_modified=? AND size=? AND etag=? AND tags IS ?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, v->id);
    sqlite3_bind_double(st, 2, v->lm);
    sqlite3_bind_int64(st, 3, v->size);
    sqlite3_bind_text(st, 4, v->etag, -1, SQLITE_STATIC);
    if (v->tags)
        sqlite3_bind_text(st, 5, v->tags, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    int rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    if (*exists) {
        *latest = sqlite3_column_int(st, 0) != 0;
        *marker = sqlite3_column_int(st, 1) != 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int expire_current(sqlite3 *h, apply_arg *a, action *ac, int versioning)
{
    const vrow *v = ac->v;
    int rc;
    if (versioning == NB_S3_VERSIONING_OFF) {
        if ((rc = nb_s3_drop_version(h, v->id, &a->gc))) return rc;
        ac->done = true;
        return SQLITE_OK;
    }
    sqlite3_stmt *st;
    if (versioning == NB_S3_VERSIONING_SUSPENDED) {
        /* the 'null' version is replaced by a 'null' delete marker */
        st = nb_db_stmt(h, "SELECT id FROM objects WHERE bucket=? AND key=? AND version_id='null'");
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_text(st, 1, a->bucket, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, v->key, (int)v->key_len, SQLITE_STATIC);
        int64_t ids[4];
        size_t n = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < NB_ARRAY_LEN(ids))
            ids[n++] = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        for (size_t i = 0; i < n; i++)
            if ((rc = nb_s3_drop_version(h, ids[i], &a->gc))) return rc;
    }
    st = nb_db_stmt(h, "UPDATE objects SET is_latest=0 WHERE bucket=? AND key=? AND is_latest=1");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, a->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, v->key, (int)v->key_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return rc;
    char vid[33];
    if (versioning == NB_S3_VERSIONING_ENABLED) nb_s3_version_id_new(vid);
    else strcpy(vid, "null");
    st = nb_db_stmt(h, "INSERT INTO objects(bucket,key,version_id,is_latest,delete_marker,size,"
                       "etag,last_modified,storage_class,owner) VALUES(?,?,?,1,1,0,'',?,"
                       "'STANDARD','')");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, a->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, v->key, (int)v->key_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, vid, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, a->now);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return rc;
    ac->done = ac->marker = true;
    memcpy(ac->marker_vid, vid, sizeof vid);
    return SQLITE_OK;
}

static int apply_fn(sqlite3 *h, void *arg)
{
    apply_arg *a = arg;
    nb_s3_files_done(NULL, &a->gc, false);
    int versioning = NB_S3_VERSIONING_OFF;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT versioning FROM buckets WHERE name=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, a->bucket, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) versioning = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
    for (size_t i = 0; i < a->n; i++) {
        action *ac = &a->acts[i];
        ac->done = ac->marker = false;
        bool exists = false, latest = false, marker = false;
        if ((rc = row_state(h, ac->v, &exists, &latest, &marker))) return rc;
        if (!exists) continue; /* changed since the read: decided again next pass */
        switch (ac->kind) {
        case A_EXPIRE_CURRENT:
            if (!latest || marker) break;
            if ((rc = expire_current(h, a, ac, versioning))) return rc;
            break;
        case A_DROP_MARKER: {
            if (!latest || !marker) break;
            st = nb_db_stmt(h, "SELECT COUNT(*) FROM objects WHERE bucket=? AND key=?");
            if (!st) return SQLITE_ERROR;
            sqlite3_bind_text(st, 1, a->bucket, -1, SQLITE_STATIC);
            sqlite3_bind_blob(st, 2, ac->v->key, (int)ac->v->key_len, SQLITE_STATIC);
            int64_t cnt = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
            sqlite3_reset(st);
            if (cnt != 1) break;
            if ((rc = nb_s3_drop_version(h, ac->v->id, &a->gc))) return rc;
            ac->done = true;
            break;
        }
        case A_DROP: {
            if (latest) break;
            /* Object Lock: AWS's lifecycle does not remove a version while its retention or
             * legal hold is in force (nor does it bypass governance); next pass again */
            bool locked = false;
            if ((rc = nb_s3_version_locked(h, ac->v->id, a->now, &locked))) return rc;
            if (locked) break;
            if ((rc = nb_s3_drop_version(h, ac->v->id, &a->gc))) return rc;
            ac->done = true;
            break;
        }
        case A_TRANSITION:
            st = nb_db_stmt(h, "UPDATE objects SET storage_class=?, class_since=? WHERE id=?"
                               " AND storage_class=?");
            if (!st) return SQLITE_ERROR;
            sqlite3_bind_text(st, 1, ac->to->name, -1, SQLITE_STATIC);
            sqlite3_bind_double(st, 2, a->now);
            sqlite3_bind_int64(st, 3, ac->v->id);
            sqlite3_bind_text(st, 4, ac->v->cls, -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc != SQLITE_DONE) return rc;
            ac->done = sqlite3_changes(h) > 0;
            break;
        }
        rc = SQLITE_OK;
    }
    size_t done = 0;
    for (size_t i = 0; i < a->n; i++) done += a->acts[i].done;
    a->rs->actions += (int64_t)done;
    return rs_save(h, a->rs);
}

/* Deepest due transition of a version among the matching rules (NULL = none). */
static const nb_s3_class *due_transition(const lc_conf *c, const objview *ov, const char *cur,
                                         double base, bool noncurrent, int rank_nc, double now)
{
    const nb_s3_class *curk = nb_s3_class_get(cur);
    int cur_rank = curk ? curk->rank : 0;
    const nb_s3_class *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const lc_rule *r = &c->rules[i];
        int n = noncurrent ? r->nntr : r->ntr;
        if (!n || !rule_matches(r, ov)) continue;
        /* AWS's default since September 2024: objects under 128 KiB stay unless the rule's
         * filter names a size (ObjectSizeGreaterThan or ObjectSizeLessThan); with
         * varies_by_storage_class they may still go to the archive classes */
        bool small = ov->size < SMALL_OBJECT && r->gt < 0 && r->lt < 0;
        if (small && !c->small_to_archive) continue;
        const lc_trans *tr = noncurrent ? r->ntr_ : r->tr;
        for (int j = 0; j < n; j++) {
            double due = tr[j].days >= 0 ? nb_s3_lc_due(base, tr[j].days) : tr[j].date;
            if (now < due) continue;
            if (small && !tr[j].cls->archive) continue;
            if (noncurrent && tr[j].newer && rank_nc <= tr[j].newer) continue;
            if (tr[j].cls->rank <= cur_rank) continue;
            if (!best || tr[j].cls->rank > best->rank) best = tr[j].cls;
        }
    }
    return best;
}

/* Decide the actions for one key's versions (newest first). */
static void decide_key(const lc_conf *c, vrow *v, size_t n, double now, action *out, size_t *na)
{
    json_t **tags = calloc(n ? n : 1, sizeof *tags); /* keys may have many versions */
    if (!tags) return;
    for (size_t i = 0; i < n; i++)
        tags[i] = c->has_tags && v[i].tags ? json_loads(v[i].tags, 0, NULL) : NULL;
    if (n && v[0].latest) {
        objview ov = {v[0].key, v[0].key_len, v[0].size, tags[0], v[0].marker};
        if (v[0].marker) {
            for (size_t i = 0; n == 1 && i < c->n; i++) {
                const lc_rule *r = &c->rules[i];
                if (!rule_matches(r, &ov)) continue;
                if (r->exp_marker || (r->exp_days && now >= nb_s3_lc_due(v[0].lm, r->exp_days))) {
                    out[(*na)++] = (action){A_DROP_MARKER, &v[0], NULL, false, false};
                    break;
                }
            }
        } else {
            bool expire = false;
            for (size_t i = 0; i < c->n && !expire; i++) {
                double t = exp_time(&c->rules[i], v[0].lm);
                expire = t && now >= t && rule_matches(&c->rules[i], &ov);
            }
            const nb_s3_class *to =
                expire ? NULL : due_transition(c, &ov, v[0].cls, v[0].lm, false, 0, now);
            if (expire) out[(*na)++] = (action){A_EXPIRE_CURRENT, &v[0], NULL, false, false};
            else if (to) out[(*na)++] = (action){A_TRANSITION, &v[0], to, false, false};
        }
    }
    int rank_nc = 0; /* 1 = the newest noncurrent version */
    for (size_t k = 1; k < n; k++) {
        double since = v[k - 1].lm; /* it became noncurrent when the next version arrived */
        objview ov = {v[k].key, v[k].key_len, v[k].size, tags[k], v[k].marker};
        if (!v[k].marker) rank_nc++;
        bool drop = false;
        for (size_t i = 0; i < c->n && !drop; i++) {
            const lc_rule *r = &c->rules[i];
            if (!r->nc_days || now < nb_s3_lc_due(since, r->nc_days) || !rule_matches(r, &ov))
                continue;
            drop = v[k].marker || !r->nc_newer || rank_nc > r->nc_newer;
        }
        if (drop) {
            out[(*na)++] = (action){A_DROP, &v[k], NULL, false, false};
            continue;
        }
        if (v[k].marker) continue;
        const nb_s3_class *to = due_transition(c, &ov, v[k].cls, since, true, rank_nc, now);
        if (to) out[(*na)++] = (action){A_TRANSITION, &v[k], to, false, false};
    }
    for (size_t i = 0; i < n; i++) json_decref(tags[i]);
    free(tags);
}

static void emit_events(const char *bucket, const action *acts, size_t n)
{
    bool kick = false;
    for (size_t i = 0; i < n; i++) {
        const action *a = &acts[i];
        if (!a->done) continue;
        const char *ev = a->kind == A_TRANSITION ? "s3:LifecycleTransition"
                         : a->marker             ? "s3:LifecycleExpiration:DeleteMarkerCreated"
                                                 : "s3:LifecycleExpiration:Delete";
        nb_s3_event(bucket, ev, a->v->key, a->v->key_len,
                    a->marker ? a->marker_vid : a->v->version_id, a->v->size, a->v->etag);
        kick |= a->kind == A_TRANSITION && a->to->archive;
    }
    if (kick) nb_s3_archive_kick();
}

/* One batch of phase 0; rs is advanced (and saved). -1 = failed (retried later). */
static int objects_batch(run_state *rs, const lc_conf *c, double now)
{
    nb_db *db = nb_s3_store_db(nb_s3_g);
    nb_arena *ar = nb_arena_new(64 * 1024);
    if (!ar) return -1;
    obatch b = {rs->bucket, c, rs->key, rs->key_len, ar, NULL, 0, 0, false};
    if (nb_db_read(db, obatch_fn, &b) != SQLITE_OK) {
        nb_arena_free(ar);
        return -1;
    }
    action *acts = b.n ? nb_arena_alloc(ar, b.n * sizeof *acts) : NULL;
    size_t na = 0;
    for (size_t i = 0; i < b.n && acts;) {
        size_t j = i + 1;
        while (j < b.n && b.rows[j].key_len == b.rows[i].key_len &&
               memcmp(b.rows[j].key, b.rows[i].key, b.rows[i].key_len) == 0)
            j++;
        decide_key(c, &b.rows[i], j - i, now, acts, &na);
        i = j;
    }
    rs->scanned += (int64_t)b.n;
    if (b.n) {
        rs_set_key(rs, b.rows[b.n - 1].key, b.rows[b.n - 1].key_len);
    }
    if (!b.full) {
        rs->phase = 1;
        rs_set_key(rs, NULL, 0);
        rs->upload[0] = 0;
    }
    apply_arg a = {rs->bucket, acts, na, rs, {0}, now};
    int rc = nb_db_write(db, apply_fn, &a);
    nb_s3_files_done(nb_s3_g, &a.gc, rc == SQLITE_OK);
    nb_s3_files_free(&a.gc);
    if (rc == SQLITE_OK) emit_events(rs->bucket, acts, na);
    nb_arena_free(ar);
    return rc == SQLITE_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- the pass: uploads */

typedef struct ubatch {
    const char *bucket;
    const char *after;
    size_t after_len;
    const char *after_upload;
    nb_arena *a;
    struct urow {
        char id[72];
        const char *key;
        size_t key_len;
        double initiated;
    } rows[UPLOAD_BATCH];
    size_t n;
} ubatch;

static int ubatch_fn(sqlite3 *h, void *arg)
{
    ubatch *b = arg;
    b->n = 0;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT upload_id, key, initiated FROM uploads"
                                     " WHERE bucket=?1 AND (key>?2 OR (key=?2 AND upload_id>?3))"
                                     " ORDER BY key, upload_id LIMIT ?4");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, b->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, b->after ? b->after : "", (int)b->after_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, b->after_upload ? b->after_upload : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, UPLOAD_BATCH);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && b->n < UPLOAD_BATCH) {
        struct urow *u = &b->rows[b->n++];
        snprintf(u->id, sizeof u->id, "%s", (const char *)sqlite3_column_text(st, 0));
        u->key_len = (size_t)sqlite3_column_bytes(st, 1);
        u->key = nb_arena_strndup(b->a, sqlite3_column_blob(st, 1) ? sqlite3_column_blob(st, 1) : "",
                                  u->key_len);
        u->initiated = sqlite3_column_double(st, 2);
        if (!u->key) rc = SQLITE_NOMEM;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int uploads_batch(run_state *rs, const lc_conf *c, double now)
{
    nb_db *db = nb_s3_store_db(nb_s3_g);
    nb_arena *ar = nb_arena_new(16 * 1024);
    ubatch *b = calloc(1, sizeof *b);
    if (!ar || !b) {
        nb_arena_free(ar);
        free(b);
        return -1;
    }
    b->bucket = rs->bucket;
    b->after = rs->key;
    b->after_len = rs->key_len;
    b->after_upload = rs->upload;
    b->a = ar;
    int rc = nb_db_read(db, ubatch_fn, b) == SQLITE_OK ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < b->n; i++) {
        const struct urow *u = &b->rows[i];
        objview ov = {u->key, u->key_len, 0, NULL, true}; /* prefix-only rules */
        for (size_t k = 0; k < c->n; k++) {
            const lc_rule *r = &c->rules[k];
            if (!r->abort_days || !rule_matches(r, &ov)) continue;
            if (now < nb_s3_lc_due(u->initiated, r->abort_days)) continue;
            int ar_rc = nb_s3_upload_abort(nb_s3_g, rs->bucket, u->key, u->key_len, u->id);
            if (ar_rc == NB_S3_OK) rs->actions++;
            break;
        }
    }
    rs->scanned += (int64_t)b->n;
    if (rc == 0) {
        if (b->n == UPLOAD_BATCH) {
            rs_set_key(rs, b->rows[b->n - 1].key, b->rows[b->n - 1].key_len);
            snprintf(rs->upload, sizeof rs->upload, "%s", b->rows[b->n - 1].id);
        } else {
            rs_next_bucket(rs, now);
        }
        rc = nb_db_write(db, rs_save_fn, rs) == SQLITE_OK ? 0 : -1;
    }
    nb_arena_free(ar);
    free(b);
    return rc;
}

/* ---------------------------------------------------------------- the pass: driver */

static lc_conf *cache_get_by_name(const char *name)
{
    if (atomic_load(&cache_count) == 0) return NULL;
    lc_conf *c = NULL;
    pthread_rwlock_rdlock(&cmu);
    bool found;
    size_t i = cache_find(name, &found);
    if (found) {
        c = cache[i].conf;
        atomic_fetch_add(&c->refs, 1);
    }
    pthread_rwlock_unlock(&cmu);
    return c;
}

static pthread_mutex_t lmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lcond = PTHREAD_COND_INITIALIZER;
static uint64_t ltimer;
static double ltimer_at, lwant;
static bool lrunning, lstopped, lforce, lpaused;

static void lc_tick(void *arg);

static void lc_arm(double at)
{
    pthread_mutex_lock(&lmu);
    if (lstopped) {
        pthread_mutex_unlock(&lmu);
        return;
    }
    if (lrunning) {
        if (!lwant || at < lwant) lwant = at;
    } else if (!(ltimer && ltimer_at <= at)) {
        if (ltimer) nb_sched_cancel(ltimer);
        ltimer_at = at;
        ltimer = nb_sched_at((int64_t)ceil(at * 1e6), lc_tick, NULL);
    }
    pthread_mutex_unlock(&lmu);
}

/* One step: start a pass if one is due, else one batch. Returns when to run again: 0 = soon
 * (the pass goes on), else a region time. */
static double lc_step(bool force)
{
    double now = nb_clock_now_f();
    int64_t today = (int64_t)floor(now / 86400.0);
    run_state rs;
    if (nb_db_read(nb_s3_store_db(nb_s3_g), rs_load_fn, &rs) != SQLITE_OK) return now + 60;
    double next = 0;
    if (!rs.active) {
        if (!force && rs.done_day >= today) {
            next = (double)(today + 1) * 86400.0;
            goto out;
        }
        rs.day = today;
        rs.scanned = rs.actions = 0;
        rs.started = now;
        rs.finished = 0;
        rs_next_bucket(&rs, now);
        nb_db_write(nb_s3_store_db(nb_s3_g), rs_save_fn, &rs);
        if (!rs.active) {
            next = (double)(today + 1) * 86400.0;
            goto out;
        }
    }
    lc_conf *c = cache_get_by_name(rs.bucket);
    int rc = 0;
    if (!c || (rs.phase == 0 && !c->object_actions) || (rs.phase == 1 && !c->upload_actions)) {
        if (c && rs.phase == 0) {
            rs.phase = 1;
            rs_set_key(&rs, NULL, 0);
        } else {
            rs_next_bucket(&rs, now);
        }
        rc = nb_db_write(nb_s3_store_db(nb_s3_g), rs_save_fn, &rs) == SQLITE_OK ? 0 : -1;
    } else if (rs.phase == 0) {
        rc = objects_batch(&rs, c, now);
    } else {
        rc = uploads_batch(&rs, c, now);
    }
    conf_unref(c);
    if (rc < 0) {
        next = now + 60; /* retried in a region minute */
    } else if (!rs.active) {
        int64_t d = (int64_t)floor(nb_clock_now_f() / 86400.0);
        next = d > rs.done_day ? 0 : (double)(d + 1) * 86400.0;
        nb_info("s3: lifecycle pass of day %lld done: %lld entries, %lld actions",
                (long long)rs.done_day, (long long)rs.scanned, (long long)rs.actions);
    }
out:
    rs_set_key(&rs, NULL, 0);
    return next;
}

static int64_t cpu_us(int who)
{
    struct rusage u;
    if (getrusage(who, &u) != 0) return 0;
    return (int64_t)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000 + u.ru_utime.tv_usec +
           u.ru_stime.tv_usec;
}

static int64_t lbusy_t, lbusy_cpu; /* end of the last step: monotonic us, process CPU us */

static void lc_tick(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lmu);
    if (lrunning || lstopped) {
        /* a timer that could not be cancelled in time: the running step plans the next */
        if (!lstopped && (!lwant || nb_clock_now_f() < lwant)) lwant = nb_clock_now_f();
        pthread_mutex_unlock(&lmu);
        return;
    }
    ltimer = 0;
    ltimer_at = 0;
    if (lpaused) { /* held between batches; nb_s3_lc_pause(false) arms the timer again */
        pthread_mutex_unlock(&lmu);
        return;
    }
    lrunning = true;
    bool force = lforce;
    lforce = false;
    pthread_mutex_unlock(&lmu);

    int64_t t0 = nb_mono_us(), own0 = cpu_us(RUSAGE_THREAD);
    double next = lc_step(force);
    int64_t t1 = nb_mono_us(), own = cpu_us(RUSAGE_THREAD) - own0, all = cpu_us(RUSAGE_SELF);
    /* A pass is over (next is a region time, at most daily): this scheduler thread need not
     * keep its read connection to S3's database (~50 KiB) until the next one. */
    if (next != 0) nb_db_release_readers(nb_s3_store_db(nb_s3_g));
    if (next == 0) {
        /* Pause in proportion to the work just done (real time, turned into region time), the
         * more so the busier the rest of the server was since the last step (the CPUs its
         * other threads used: requests, and the writer, whose group commits the pass joins). */
        double busy = 0;
        if (lbusy_t && t1 > lbusy_t)
            busy = (double)(all - lbusy_cpu - own) / (double)(t1 - lbusy_t);
        busy = busy < 0 ? 0 : busy > 1 ? 1 : busy;
        double spent = (double)(t1 - t0) / 1e6;
        double pause = spent * (DUTY_IDLE + (DUTY_BUSY - DUTY_IDLE) * busy);
        if (pause < 0.001) pause = 0.001;
        next = nb_clock_now_f() + pause * nb_clock_rate();
    }
    lbusy_t = t1;
    lbusy_cpu = all;
    pthread_mutex_lock(&lmu);
    lrunning = false;
    double want = lwant;
    lwant = 0;
    pthread_cond_broadcast(&lcond);
    pthread_mutex_unlock(&lmu);
    if (want && want < next) next = want;
    lc_arm(next);
}

void nb_s3_lc_timer_start(void)
{
    pthread_mutex_lock(&lmu);
    lstopped = false;
    pthread_mutex_unlock(&lmu);
    lc_arm(nb_clock_now_f()); /* resume a pass in progress, or plan the next one */
}

void nb_s3_lc_timer_stop(void)
{
    pthread_mutex_lock(&lmu);
    lstopped = true;
    uint64_t id = ltimer;
    ltimer = 0;
    pthread_mutex_unlock(&lmu);
    if (id) nb_sched_cancel_sync(id);
    pthread_mutex_lock(&lmu);
    while (lrunning) pthread_cond_wait(&lcond, &lmu);
    pthread_mutex_unlock(&lmu);
}

void nb_s3_lc_run_now(void)
{
    pthread_mutex_lock(&lmu);
    lforce = true;
    pthread_mutex_unlock(&lmu);
    lc_arm(nb_clock_now_f());
}

void nb_s3_lc_pause(bool pause)
{
    pthread_mutex_lock(&lmu);
    lpaused = pause;
    pthread_mutex_unlock(&lmu);
    if (!pause) lc_arm(nb_clock_now_f());
}

json_t *nb_s3_lc_status(void)
{
    run_state rs;
    if (nb_db_read(nb_s3_store_db(nb_s3_g), rs_load_fn, &rs) != SQLITE_OK)
        return json_pack("{s:s}", "error", "cannot read the pass state");
    pthread_mutex_lock(&lmu);
    bool running = lrunning, paused = lpaused;
    double at = ltimer_at;
    pthread_mutex_unlock(&lmu);
    json_t *j = json_pack("{s:b,s:b,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:I}", "in_progress", rs.active,
                          "step_running", running, "day", (json_int_t)rs.day, "done_day",
                          (json_int_t)rs.done_day, "scanned", (json_int_t)rs.scanned, "actions",
                          (json_int_t)rs.actions, "started", rs.started, "finished", rs.finished,
                          "next_step_at", at, "buckets_with_rules",
                          (json_int_t)atomic_load(&cache_count));
    json_object_set_new(j, "paused", json_boolean(paused));
    if (rs.active) {
        json_object_set_new(j, "bucket", json_string(rs.bucket));
        json_object_set_new(j, "phase", json_string(rs.phase ? "uploads" : "objects"));
    }
    rs_set_key(&rs, NULL, 0);
    return j;
}
