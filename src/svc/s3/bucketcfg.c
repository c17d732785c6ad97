/* bucketcfg.c: bucket configurations kept as documents in bucket_config with AWS's checks:
 * transfer acceleration (Enabled/Suspended; no bucket with a dot in its name), Requester Pays
 * (Payer; callers outside the owner's account must acknowledge the charge with
 * x-amz-request-payer), and the Id-keyed metrics, analytics, inventory and intelligent-tiering
 * configurations (at most 1,000 of each kind per bucket, listed 100 at a time in Id order with
 * continuation tokens). Acceleration has no faster path behind it on one machine: the setting
 * is stored and reported, and requests are served the same. The Id-keyed configurations are
 * stored and returned; no CloudWatch request metrics, analytics exports, inventory reports or
 * tier moves are produced from them yet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svc/s3/bucketcfg.h"

/* ---------------------------------------------------------------- request payment */

int nb_s3_request_payer_check(nb_call *c, const nb_s3_bcfg *cfg)
{
    /* AWS: "If you enable Requester Pays on a bucket, anonymous access to that bucket is not
     * allowed": there is nobody to charge, whatever the request says. */
    if (c->who.type == NB_PRINCIPAL_ANONYMOUS)
        return nb_s3_error(c, 403, "AccessDenied", "Access Denied", NULL);
    const char *h = nb_call_header(c, "x-amz-request-payer");
    bool acknowledged = h && !strcasecmp(h, "requester");
    if (acknowledged) nb_s3_add_header(c, "x-amz-request-charged", "requester");
    /* AWS: requests from outside the owner's account (anonymous ones included) that do not
     * acknowledge the charge are refused; the owner pays for its own. */
    if (acknowledged || (c->who.account[0] && !strcmp(c->who.account, cfg->owner))) return 0;
    return nb_s3_error(c, 403, "AccessDenied", "Access Denied", NULL);
}

int nb_s3_op_get_bucket_request_payment(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    const char *v = NULL;
    if (nb_s3_cfg_get(b.name, "payer", c->arena, &v))
        return nb_s3_internal(c, "cannot read the request payment configuration");
    bool requester = v && !strcmp(v, "\"Requester\"");
    c->output = json_pack("{s:s}", "Payer", requester ? "Requester" : "BucketOwner");
    return 0;
}

int nb_s3_op_put_bucket_request_payment(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *cfg = json_object_get(c->input, "RequestPaymentConfiguration");
    const char *payer = json_string_value(json_object_get(cfg, "Payer"));
    if (!payer || (strcmp(payer, "BucketOwner") != 0 && strcmp(payer, "Requester") != 0))
        return nb_s3_malformed_xml(c);
    /* BucketOwner is every bucket's default: no row */
    int rc = nb_s3_cfg_set(b.name, "payer", strcmp(payer, "Requester") ? NULL : "\"Requester\"");
    return rc ? nb_s3_store_error(c, rc, b.name, NULL) : 0;
}

/* ---------------------------------------------------------------- acceleration */

int nb_s3_op_get_bucket_accelerate(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    const char *v = NULL;
    if (nb_s3_cfg_get(b.name, "accelerate", c->arena, &v))
        return nb_s3_internal(c, "cannot read the accelerate configuration");
    /* never set: an empty AccelerateConfiguration, as AWS answers */
    c->output = json_object();
    if (v) json_object_set_new(c->output, "Status", json_string(strstr(v, "Enabled") ? "Enabled" : "Suspended"));
    return 0;
}

int nb_s3_op_put_bucket_accelerate(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *cfg = json_object_get(c->input, "AccelerateConfiguration");
    const char *st = json_string_value(json_object_get(cfg, "Status"));
    if (!st || (strcmp(st, "Enabled") != 0 && strcmp(st, "Suspended") != 0))
        return nb_s3_malformed_xml(c);
    if (strchr(b.name, '.'))
        return nb_s3_error(c, 400, "InvalidRequest",
                           "S3 Transfer Acceleration is not supported for buckets with periods"
                           " (.) in their names",
                           NULL);
    bool enable = !strcmp(st, "Enabled");
    if (!enable) {
        /* suspending acceleration that was never enabled leaves it unset, as AWS */
        const char *v = NULL;
        if (nb_s3_cfg_get(b.name, "accelerate", c->arena, &v))
            return nb_s3_internal(c, "cannot read the accelerate configuration");
        if (!v) return 0;
    }
    int rc = nb_s3_cfg_set(b.name, "accelerate", enable ? "\"Enabled\"" : "\"Suspended\"");
    return rc ? nb_s3_store_error(c, rc, b.name, NULL) : 0;
}

/* ---------------------------------------------------------------- Id-keyed configurations */

typedef struct id_kind {
    const char *word;   /* in the operation names */
    const char *stored; /* bucket_config name: a JSON object Id -> configuration */
    const char *member; /* the configuration member of Put input and Get output */
    const char *list;   /* the List output's list member */
    int (*check)(nb_call *c, json_t *conf);
} id_kind;

#define MAX_CONFIGS 1000
#define LIST_PAGE 100

static int bad_argument(nb_call *c, const char *msg)
{
    return nb_s3_error(c, 400, "InvalidArgument", msg, NULL);
}

static bool in_set(const char *v, const char *const *set)
{
    for (; v && *set; set++)
        if (!strcmp(v, *set)) return true;
    return false;
}

/* "arn:aws:s3:::<bucket>" of export destinations. */
static int check_dest_arn(nb_call *c, const char *arn)
{
    if (!arn) return nb_s3_malformed_xml(c);
    if (strncmp(arn, "arn:aws:s3:::", 13) != 0 || !nb_s3_bucket_name_valid(arn + 13))
        return bad_argument(c, "Invalid bucket ARN.");
    return 0;
}

/* A Filter of Prefix, Tag or And {Prefix, Tags}. */
static int check_filter(nb_call *c, json_t *f)
{
    if (!f) return 0;
    if (!json_is_object(f)) return nb_s3_malformed_xml(c);
    json_t *tag = json_object_get(f, "Tag");
    if (tag && (!json_string_value(json_object_get(tag, "Key")) ||
                !json_is_string(json_object_get(tag, "Value"))))
        return nb_s3_malformed_xml(c);
    size_t n = (json_object_get(f, "Prefix") != NULL) + (tag != NULL) +
               (json_object_get(f, "AccessPointArn") != NULL) + (json_object_get(f, "And") != NULL);
    if (n > 1) return nb_s3_malformed_xml(c); /* one predicate, or And of several */
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(json_object_get(f, "And"), "Tags"), i, t)
    {
        if (!json_string_value(json_object_get(t, "Key")) ||
            !json_is_string(json_object_get(t, "Value")))
            return nb_s3_malformed_xml(c);
    }
    return 0;
}

static int check_metrics(nb_call *c, json_t *conf)
{
    return check_filter(c, json_object_get(conf, "Filter"));
}

static int check_analytics(nb_call *c, json_t *conf)
{
    if (check_filter(c, json_object_get(conf, "Filter"))) return -1;
    json_t *sca = json_object_get(conf, "StorageClassAnalysis");
    if (!json_is_object(sca)) return nb_s3_malformed_xml(c);
    json_t *exp = json_object_get(sca, "DataExport");
    if (!exp) return 0;
    const char *ver = json_string_value(json_object_get(exp, "OutputSchemaVersion"));
    json_t *d = json_object_get(json_object_get(exp, "Destination"), "S3BucketDestination");
    static const char *const formats[] = {"CSV", NULL};
    if (!ver || strcmp(ver, "V_1") || !d ||
        !in_set(json_string_value(json_object_get(d, "Format")), formats))
        return nb_s3_malformed_xml(c);
    return check_dest_arn(c, json_string_value(json_object_get(d, "Bucket")));
}

static int check_inventory(nb_call *c, json_t *conf)
{
    static const char *const formats[] = {"CSV", "ORC", "Parquet", NULL};
    static const char *const versions[] = {"All", "Current", NULL};
    static const char *const freqs[] = {"Daily", "Weekly", NULL};
    static const char *const fields[] = {
        "Size", "LastModifiedDate", "StorageClass", "ETag", "IsMultipartUploaded",
        "ReplicationStatus", "EncryptionStatus", "ObjectLockRetainUntilDate", "ObjectLockMode",
        "ObjectLockLegalHoldStatus", "IntelligentTieringAccessTier", "BucketKeyStatus",
        "ChecksumAlgorithm", NULL};
    json_t *d = json_object_get(json_object_get(conf, "Destination"), "S3BucketDestination");
    if (!json_is_boolean(json_object_get(conf, "IsEnabled")) || !d ||
        !in_set(json_string_value(json_object_get(d, "Format")), formats) ||
        !in_set(json_string_value(json_object_get(conf, "IncludedObjectVersions")), versions) ||
        !in_set(json_string_value(json_object_get(json_object_get(conf, "Schedule"), "Frequency")),
                freqs))
        return nb_s3_malformed_xml(c);
    json_t *filter = json_object_get(conf, "Filter");
    if (filter && !json_is_string(json_object_get(filter, "Prefix"))) return nb_s3_malformed_xml(c);
    json_t *enc = json_object_get(d, "Encryption");
    if (enc && json_object_get(enc, "SSEKMS") &&
        !json_string_value(json_object_get(json_object_get(enc, "SSEKMS"), "KeyId")))
        return nb_s3_malformed_xml(c);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(conf, "OptionalFields"), i, f)
    {
        if (!in_set(json_string_value(f), fields)) return nb_s3_malformed_xml(c);
    }
    const char *acct = json_string_value(json_object_get(d, "AccountId"));
    if (acct && (strlen(acct) != 12 || strspn(acct, "0123456789") != 12))
        return bad_argument(c, "Invalid account id.");
    return check_dest_arn(c, json_string_value(json_object_get(d, "Bucket")));
}

static int check_tiering(nb_call *c, json_t *conf)
{
    static const char *const status[] = {"Enabled", "Disabled", NULL};
    if (!in_set(json_string_value(json_object_get(conf, "Status")), status))
        return nb_s3_malformed_xml(c);
    if (check_filter(c, json_object_get(conf, "Filter"))) return -1;
    json_t *tiers = json_object_get(conf, "Tierings");
    if (!json_array_size(tiers)) return nb_s3_malformed_xml(c);
    bool seen[2] = {false, false};
    size_t i;
    json_t *t;
    json_array_foreach(tiers, i, t)
    {
        const char *tier = json_string_value(json_object_get(t, "AccessTier"));
        json_t *days = json_object_get(t, "Days");
        if (!tier || !json_is_integer(days)) return nb_s3_malformed_xml(c);
        int k = !strcmp(tier, "ARCHIVE_ACCESS") ? 0 : !strcmp(tier, "DEEP_ARCHIVE_ACCESS") ? 1 : -1;
        if (k < 0) return nb_s3_malformed_xml(c);
        if (seen[k]) return bad_argument(c, "Duplicate access tier in the configuration.");
        seen[k] = true;
        json_int_t n = json_integer_value(days);
        /* AWS: at least 90 days to the Archive Access tier, 180 to Deep Archive Access, at
         * most 730 (2 years) for either */
        if (k == 0 && (n < 90 || n > 730))
            return bad_argument(c, "The ARCHIVE_ACCESS tier's Days must be between 90 and 730.");
        if (k == 1 && (n < 180 || n > 730))
            return bad_argument(c,
                                "The DEEP_ARCHIVE_ACCESS tier's Days must be between 180 and 730.");
    }
    return 0;
}

static const id_kind id_kinds[] = {
    {"Analytics", "analytics", "AnalyticsConfiguration", "AnalyticsConfigurationList",
     check_analytics},
    {"Inventory", "inventory", "InventoryConfiguration", "InventoryConfigurationList",
     check_inventory},
    {"Metrics", "metrics", "MetricsConfiguration", "MetricsConfigurationList", check_metrics},
    {"IntelligentTiering", "tiering", "IntelligentTieringConfiguration",
     "IntelligentTieringConfigurationList", check_tiering},
};

static const id_kind *kind_of(nb_call *c)
{
    /* "IntelligentTiering" is tested first: no other word is inside it, but it ends the
     * operation names the same way the others do */
    const char *op = c->op_name ? c->op_name : "";
    if (strstr(op, "IntelligentTiering")) return &id_kinds[3];
    for (size_t i = 0; i < 3; i++)
        if (strstr(op, id_kinds[i].word)) return &id_kinds[i];
    return NULL;
}

/* AWS: an Id of 1 to 64 characters of letters, digits, '.', '-' and '_'. */
static bool id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n >= 1 && n <= 64 &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

static int need_id(nb_call *c, const char **id)
{
    *id = nb_in_str(c, "Id");
    if (!*id) return nb_s3_error(c, 400, "InvalidArgument", "Configuration Id is required.",
                                 "ArgumentName", "id", NULL);
    if (!id_valid(*id))
        return nb_s3_error(c, 400, "InvalidArgument", "The Id is not valid.", "ArgumentName",
                           "id", "ArgumentValue", *id, NULL);
    return 0;
}

static int no_such_configuration(nb_call *c)
{
    return nb_s3_error(c, 404, "NoSuchConfiguration",
                       "The specified configuration does not exist.", NULL);
}

/* One Put or Delete of an Id-keyed configuration: read, change and store the kind's document
 * in one write job, so concurrent writers neither lose each other's changes nor wait on each
 * other's fsync (the group commit takes them together). */
typedef struct id_write {
    const char *bucket, *stored, *id;
    json_t *conf; /* NULL = delete */
    enum { ID_DONE, ID_MISSING, ID_TOO_MANY } outcome;
} id_write;

static int id_write_fn(sqlite3 *h, void *arg)
{
    id_write *w = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT value FROM bucket_config WHERE bucket=? AND name=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, w->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->stored, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    json_t *all = rc == SQLITE_ROW ? json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL)
                                   : NULL;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
    if (!json_is_object(all)) {
        json_decref(all);
        all = json_object();
    }
    w->outcome = ID_DONE;
    if (!w->conf && !json_object_get(all, w->id))
        w->outcome = ID_MISSING;
    else if (w->conf && !json_object_get(all, w->id) && json_object_size(all) >= MAX_CONFIGS)
        w->outcome = ID_TOO_MANY;
    if (w->outcome != ID_DONE) {
        json_decref(all);
        return SQLITE_OK;
    }
    if (w->conf)
        json_object_set(all, w->id, w->conf);
    else
        json_object_del(all, w->id);
    char *text = json_object_size(all) ? json_dumps(all, JSON_COMPACT) : NULL;
    json_decref(all);
    if (text)
        st = nb_db_stmt(h, "INSERT OR REPLACE INTO bucket_config(bucket, name, value) VALUES(?,?,?)");
    else
        st = nb_db_stmt(h, "DELETE FROM bucket_config WHERE bucket=? AND name=?");
    if (!st) {
        free(text);
        return SQLITE_ERROR;
    }
    sqlite3_bind_text(st, 1, w->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->stored, -1, SQLITE_STATIC);
    if (text) sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(text);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int id_write_run(nb_call *c, id_write *w)
{
    int rc = nb_db_write(nb_s3_store_db(nb_s3_g), id_write_fn, w);
    nb_s3_bcfg_invalidate();
    if (rc != SQLITE_OK) return nb_s3_internal(c, "cannot store the bucket configuration");
    if (w->outcome == ID_MISSING) return no_such_configuration(c);
    if (w->outcome == ID_TOO_MANY)
        return nb_s3_error(c, 400, "TooManyConfigurations",
                           "You are attempting to create a new configuration but have already"
                           " reached the 1,000-configuration limit.",
                           NULL);
    return 0;
}

int nb_s3_op_put_id_config(nb_call *c)
{
    const id_kind *k = kind_of(c);
    nb_s3_bucket b;
    if (!k) return nb_s3_internal(c, "no configuration kind for the operation");
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    const char *id;
    if (need_id(c, &id)) return -1;
    json_t *conf = json_object_get(c->input, k->member);
    if (!json_is_object(conf)) return nb_s3_malformed_xml(c);
    const char *body_id = json_string_value(json_object_get(conf, "Id"));
    if (!body_id) return nb_s3_malformed_xml(c);
    if (strcmp(body_id, id) != 0)
        return bad_argument(c, "The Id in the configuration does not match the id query"
                               " parameter.");
    if (k->check(c, conf)) return -1;
    id_write w = {b.name, k->stored, id, conf, ID_DONE};
    return id_write_run(c, &w);
}

int nb_s3_op_get_id_config(nb_call *c)
{
    const id_kind *k = kind_of(c);
    nb_s3_bucket b;
    if (!k) return nb_s3_internal(c, "no configuration kind for the operation");
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    const char *id;
    if (need_id(c, &id)) return -1;
    json_t *all = NULL;
    if (nb_s3_cfg_load(c, b.name, k->stored, &all)) return -1;
    json_t *conf = json_object_get(all, id);
    if (!conf) {
        json_decref(all);
        return no_such_configuration(c);
    }
    c->output = json_pack("{s:O}", k->member, conf);
    json_decref(all);
    return 0;
}

int nb_s3_op_delete_id_config(nb_call *c)
{
    const id_kind *k = kind_of(c);
    nb_s3_bucket b;
    if (!k) return nb_s3_internal(c, "no configuration kind for the operation");
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    const char *id;
    if (need_id(c, &id)) return -1;
    id_write w = {b.name, k->stored, id, NULL, ID_DONE};
    if (id_write_run(c, &w)) return -1;
    c->out_status = 204;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int nb_s3_op_list_id_configs(nb_call *c)
{
    const id_kind *k = kind_of(c);
    nb_s3_bucket b;
    if (!k) return nb_s3_internal(c, "no configuration kind for the operation");
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    /* The token is the base64 of the last Id of the previous page: opaque to clients, and one
     * that does not decode to an Id is refused. */
    const char *token = nb_in_str(c, "ContinuationToken");
    char after[128] = "";
    if (token) {
        size_t tn = strlen(token);
        unsigned char raw[100]; /* >= 128 * 3 / 4 + 3 */
        ssize_t n = tn <= 128 ? nb_base64_decode(token, tn, raw) : -1;
        if (n > 0 && (size_t)n < sizeof after) {
            memcpy(after, raw, (size_t)n);
            after[n] = 0;
        }
        if (!id_valid(after))
            return nb_s3_error(c, 400, "InvalidArgument",
                               "The continuation token provided is incorrect", "ArgumentName",
                               "continuation-token", NULL);
    }
    json_t *all = NULL;
    if (nb_s3_cfg_load(c, b.name, k->stored, &all)) return -1;
    size_t n = json_object_size(all), m = 0;
    const char **ids = nb_arena_alloc(c->arena, (n ? n : 1) * sizeof *ids);
    if (!ids) {
        json_decref(all);
        return nb_s3_nomem(c);
    }
    const char *id;
    json_t *v;
    json_object_foreach(all, id, v)
    {
        if (!token || strcmp(id, after) > 0) ids[m++] = id;
    }
    qsort(ids, m, sizeof *ids, cmp_str);
    json_t *list = json_array(), *out = json_object();
    for (size_t i = 0; i < m && i < LIST_PAGE; i++)
        json_array_append(list, json_object_get(all, ids[i]));
    bool truncated = m > LIST_PAGE;
    json_object_set_new(out, "IsTruncated", json_boolean(truncated));
    if (token) json_object_set_new(out, "ContinuationToken", json_string(token));
    if (truncated) {
        const char *last = ids[LIST_PAGE - 1];
        char *enc = nb_arena_alloc(c->arena, strlen(last) * 4 / 3 + 8);
        if (enc) {
            nb_base64_encode((const unsigned char *)last, strlen(last), enc);
            json_object_set_new(out, "NextContinuationToken", json_string(enc));
        }
    }
    if (json_array_size(list))
        json_object_set_new(out, k->list, list);
    else
        json_decref(list);
    json_decref(all);
    c->output = out;
    return 0;
}
