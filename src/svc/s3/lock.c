/* lock.c: S3 Object Lock: the bucket's configuration (enabled at creation or later on a
 * versioned bucket, default retention), the retention and legal hold of object versions
 * (PutObjectRetention / PutObjectLegalHold and the x-amz-object-lock-* headers of writes),
 * and the x-amz-bypass-governance-retention permission. The store (store.c) enforces the
 * locks inside its write transactions: deletes of protected versions, shortened retentions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "svc/s3/access.h"

/* bucket_config row holding the ObjectLockConfiguration document (default retention) */
#define LOCK_CFG "object_lock"
/* AWS's upper bounds of a default retention period */
#define MAX_DAYS 36500
#define MAX_YEARS 100

static int missing_config(nb_call *c)
{
    return nb_s3_error(c, 400, "InvalidRequest", "Bucket is missing Object Lock Configuration",
                       NULL);
}

static int invalid_argument(nb_call *c, const char *msg)
{
    return nb_s3_error(c, 400, "InvalidArgument", msg, NULL);
}

static bool valid_mode(const char *m)
{
    /* case matters: AWS refuses "governance" */
    return m && (strcmp(m, "GOVERNANCE") == 0 || strcmp(m, "COMPLIANCE") == 0);
}

/* A number of years after t, by the calendar (Feb 29 becomes Mar 1 as timegm normalizes). */
static double add_years(double t, int years)
{
    time_t s = (time_t)floor(t);
    struct tm tm;
    gmtime_r(&s, &tm);
    tm.tm_year += years;
    return (double)timegm(&tm) + (t - floor(t));
}

/* ---------------------------------------------------------------- bucket configuration */

/* The DefaultRetention of a stored or requested configuration: 0 with *mode NULL when there is
 * none; -1 (MalformedXML / InvalidRetentionPeriod) when it does not validate. */
static int parse_default(nb_call *c, json_t *cfg, const char **mode, int *days, int *years)
{
    *mode = NULL;
    *days = *years = 0;
    json_t *rule = json_object_get(cfg, "Rule");
    if (!rule) return 0;
    json_t *dr = json_object_get(rule, "DefaultRetention");
    if (!json_is_object(dr)) return nb_s3_malformed_xml(c);
    const char *m = json_string_value(json_object_get(dr, "Mode"));
    json_t *d = json_object_get(dr, "Days"), *y = json_object_get(dr, "Years");
    /* a mode and exactly one of Days and Years */
    if (!valid_mode(m) || (d && y) || (!d && !y)) return nb_s3_malformed_xml(c);
    if ((d && !json_is_integer(d)) || (y && !json_is_integer(y))) return nb_s3_malformed_xml(c);
    json_int_t n = json_integer_value(d ? d : y);
    if (n <= 0)
        return nb_s3_error(c, 400, "InvalidRetentionPeriod",
                           "Default retention period must be a positive integer value.", NULL);
    if ((d && n > MAX_DAYS) || (y && n > MAX_YEARS))
        return nb_s3_error(c, 400, "InvalidRetentionPeriod",
                           d ? "Default retention period cannot exceed 36500 days."
                             : "Default retention period cannot exceed 100 years.",
                           NULL);
    *mode = m;
    if (d)
        *days = (int)n;
    else
        *years = (int)n;
    return 0;
}

int nb_s3_op_put_object_lock_configuration(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    if (nb_s3_body_digest_check(c)) return -1;
    json_t *cfg = json_object_get(c->input, "ObjectLockConfiguration");
    const char *en = json_string_value(json_object_get(cfg, "ObjectLockEnabled"));
    /* Object Lock can not be turned off: "Enabled" is the only value */
    if (!json_is_object(cfg) || !en || strcmp(en, "Enabled") != 0) return nb_s3_malformed_xml(c);
    const char *mode;
    int days, years;
    if (parse_default(c, cfg, &mode, &days, &years)) return -1;
    if (!b.object_lock) {
        /* AWS (since Nov 2023): an existing bucket may enable it, once versioning is on */
        int rc = nb_s3_bucket_enable_object_lock(nb_s3_g, b.name);
        if (rc == NB_S3_CONFLICT)
            return nb_s3_error(c, 409, "InvalidBucketState",
                               "Versioning must be 'Enabled' on the bucket to apply a Object Lock"
                               " configuration",
                               NULL);
        if (rc) return nb_s3_store_error(c, rc, b.name, NULL);
    }
    json_t *doc = json_pack("{s:s}", "ObjectLockEnabled", "Enabled");
    if (mode) {
        json_t *dr = json_pack("{s:s}", "Mode", mode);
        json_object_set_new(dr, days ? "Days" : "Years", json_integer(days ? days : years));
        json_object_set_new(doc, "Rule", json_pack("{s:o}", "DefaultRetention", dr));
    }
    int rc = nb_s3_cfg_store(c, b.name, LOCK_CFG, doc);
    json_decref(doc);
    return rc;
}

int nb_s3_op_get_object_lock_configuration(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    if (!b.object_lock)
        return nb_s3_error(c, 404, "ObjectLockConfigurationNotFoundError",
                           "Object Lock configuration does not exist for this bucket",
                           "BucketName", b.name, NULL);
    json_t *doc;
    if (nb_s3_cfg_load(c, b.name, LOCK_CFG, &doc)) return -1;
    /* enabled at creation and never configured since: no rule */
    if (!doc) doc = json_pack("{s:s}", "ObjectLockEnabled", "Enabled");
    c->output = json_pack("{s:o}", "ObjectLockConfiguration", doc);
    return 0;
}

int nb_s3_lock_default(nb_call *c, const nb_s3_bucket *b, double now, nb_s3_lock *l)
{
    if (!b->object_lock || l->mode[0]) return 0;
    json_t *doc;
    if (nb_s3_cfg_load(c, b->name, LOCK_CFG, &doc)) return -1;
    const char *mode;
    int days, years;
    int rc = doc ? parse_default(c, doc, &mode, &days, &years) : 0;
    if (rc || !doc || !mode) {
        json_decref(doc);
        /* a stored document validated when it was put: a failure here is ours */
        return rc ? nb_s3_internal(c, "stored object lock configuration is invalid") : 0;
    }
    snprintf(l->mode, sizeof l->mode, "%s", mode);
    l->until = days ? now + (double)days * 86400 : add_years(now, years);
    json_decref(doc);
    return 0;
}

/* ---------------------------------------------------------------- writes */

int nb_s3_lock_from_request(nb_call *c, const nb_s3_bucket *b, nb_s3_lock *l, bool *asked)
{
    memset(l, 0, sizeof *l);
    const char *mode = nb_in_str(c, "ObjectLockMode");
    json_t *until = json_object_get(c->input, "ObjectLockRetainUntilDate");
    const char *hold = nb_in_str(c, "ObjectLockLegalHoldStatus");
    *asked = mode || until || hold;
    if (!*asked) return 0;
    if (!b->object_lock) return missing_config(c);
    if ((mode != NULL) != (until != NULL))
        return invalid_argument(c, "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode"
                                   " must both be supplied");
    if (mode && !valid_mode(mode)) return invalid_argument(c, "Unknown wormMode directive.");
    if (until && !json_is_number(until))
        return invalid_argument(c, "The retain until date must be provided in ISO 8601 format");
    if (until && json_number_value(until) <= nb_clock_now_f())
        return invalid_argument(c, "The retain until date must be in the future!");
    if (hold && strcmp(hold, "ON") != 0 && strcmp(hold, "OFF") != 0)
        return invalid_argument(c, "Legal Hold must be either of 'ON' or 'OFF'");
    if (mode) {
        snprintf(l->mode, sizeof l->mode, "%s", mode);
        l->until = json_number_value(until);
    }
    if (hold) snprintf(l->legal_hold, sizeof l->legal_hold, "%s", hold);
    return 0;
}

/* May the caller read the version's lock (action s3:GetObjectRetention / LegalHold)? The
 * bucket owner's root always may; others are asked of the evaluator, a denial only leaving
 * the headers out. */
static bool may_read_lock(nb_call *c, const nb_s3_bucket *b, const char *action)
{
    if (c->who.type == NB_PRINCIPAL_ROOT && strcmp(c->who.account, b->account) == 0) return true;
    size_t kn = 0;
    const char *key = nb_s3_in_key(c, &kn);
    bool ok = key && nb_s3_authorize_object(c, b->name, key, kn, action) == 0;
    nb_aws_error_clear(&c->err);
    return ok;
}

void nb_s3_lock_output(nb_call *c, const nb_s3_bucket *b, json_t *out, const nb_s3_lock *l)
{
    /* AWS: the headers only for callers allowed to read the retention / legal hold */
    if (l->mode[0] && may_read_lock(c, b, "s3:GetObjectRetention")) {
        json_object_set_new(out, "ObjectLockMode", json_string(l->mode));
        json_object_set_new(out, "ObjectLockRetainUntilDate", json_real(l->until));
    }
    if (l->legal_hold[0] && may_read_lock(c, b, "s3:GetObjectLegalHold"))
        json_object_set_new(out, "ObjectLockLegalHoldStatus", json_string(l->legal_hold));
}

/* ---------------------------------------------------------------- governance bypass */

int nb_s3_may_bypass(nb_call *c, const char *bucket, const char *key, size_t key_len)
{
    return nb_s3_authorize_object(c, bucket, key, key_len, "s3:BypassGovernanceRetention");
}

/* ---------------------------------------------------------------- retention, legal hold */

/* Bucket, key and version of an object lock call; the bucket must have Object Lock. */
static int lock_target(nb_call *c, nb_s3_lock_set *l, nb_s3_bucket *b)
{
    memset(l, 0, sizeof *l);
    l->bucket = nb_in_str(c, "Bucket");
    if (nb_s3_in_key_version(c, &l->key, &l->key_len, &l->version_id) || nb_s3_cfg_bucket(c, b))
        return -1;
    if (!b->object_lock) return missing_config(c);
    return 0;
}

static int lock_error(nb_call *c, int rc, const nb_s3_lock_set *l)
{
    if (rc == NB_S3_NO_KEY && nb_s3_may_list(c, l->bucket)) return -1;
    return nb_s3_store_error(c, rc, l->bucket, l->key);
}

/* Apply l; a governance refusal is retried with an authorized x-amz-bypass-governance-
 * retention. */
static int lock_apply(nb_call *c, nb_s3_lock_set *l)
{
    l->now = nb_clock_now_f();
    int rc = nb_s3_object_set_lock(nb_s3_g, l);
    if (rc == NB_S3_LOCKED_GOVERNANCE && nb_in_bool(c, "BypassGovernanceRetention", false)) {
        if (nb_s3_may_bypass(c, l->bucket, l->key, l->key_len)) return -1;
        l->bypass_governance = true;
        rc = nb_s3_object_set_lock(nb_s3_g, l);
    }
    return rc ? lock_error(c, rc, l) : 0;
}

int nb_s3_op_put_object_retention(nb_call *c)
{
    nb_s3_lock_set l;
    nb_s3_bucket b;
    if (lock_target(c, &l, &b) || nb_s3_body_digest_check(c)) return -1;
    l.retention = true;
    json_t *r = json_object_get(c->input, "Retention");
    const char *mode = json_string_value(json_object_get(r, "Mode"));
    json_t *until = json_object_get(r, "RetainUntilDate");
    /* an empty Retention removes it (governance with bypass; refused under compliance) */
    if (json_object_get(r, "Mode") || until) {
        if (!valid_mode(mode) || !json_is_number(until)) return nb_s3_malformed_xml(c);
        if (json_number_value(until) <= nb_clock_now_f())
            return invalid_argument(c, "The retain until date must be in the future!");
        snprintf(l.lock.mode, sizeof l.lock.mode, "%s", mode);
        l.lock.until = json_number_value(until);
    }
    return lock_apply(c, &l);
}

int nb_s3_op_put_object_legal_hold(nb_call *c)
{
    nb_s3_lock_set l;
    nb_s3_bucket b;
    if (lock_target(c, &l, &b) || nb_s3_body_digest_check(c)) return -1;
    json_t *h = json_object_get(c->input, "LegalHold");
    const char *st = json_string_value(json_object_get(h, "Status"));
    if (!st || (strcmp(st, "ON") != 0 && strcmp(st, "OFF") != 0)) return nb_s3_malformed_xml(c);
    snprintf(l.lock.legal_hold, sizeof l.lock.legal_hold, "%s", st);
    return lock_apply(c, &l);
}

/* GetObjectRetention / GetObjectLegalHold: the version's setting, or AWS's answer for an
 * object that never had it. */
static int get_setting(nb_call *c, bool retention)
{
    nb_s3_lock_set l;
    nb_s3_bucket b;
    if (lock_target(c, &l, &b)) return -1;
    nb_s3_object o;
    int rc = nb_s3_object_get(nb_s3_g, l.bucket, l.key, l.key_len, l.version_id, false, c->arena,
                              &o);
    if (rc) return lock_error(c, rc, &l);
    if (o.delete_marker && !l.version_id)
        return nb_s3_store_error(c, NB_S3_NO_KEY, l.bucket, l.key);
    if (o.delete_marker)
        return nb_s3_error(c, 405, "MethodNotAllowed",
                           "The specified method is not allowed against this resource.",
                           "ResourceType", "DeleteMarker", NULL);
    if (retention && o.lock.mode[0]) {
        c->output = json_pack("{s:{s:s,s:f}}", "Retention", "Mode", o.lock.mode,
                              "RetainUntilDate", o.lock.until);
        return 0;
    }
    if (!retention && o.lock.legal_hold[0]) {
        c->output = json_pack("{s:{s:s}}", "LegalHold", "Status", o.lock.legal_hold);
        return 0;
    }
    return nb_s3_error(c, 404, "NoSuchObjectLockConfiguration",
                       "The specified object does not have a ObjectLock configuration", NULL);
}

int nb_s3_op_get_object_retention(nb_call *c) { return get_setting(c, true); }
int nb_s3_op_get_object_legal_hold(nb_call *c) { return get_setting(c, false); }
