/* policy.c: S3 bucket configuration storage (table bucket_config, cached in memory for the
 * authorization hooks), bucket policies (Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus),
 * and the hooks through which the shared IAM evaluator sees them: resource_policy (the bucket
 * policy merged with ACL grants, Block Public Access applied, and the owning account) and
 * authz_context (S3's condition keys). */
#include <ctype.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "iam/authz.h"
#include "iam/identity.h"
#include "iam/policy.h"
#include "svc/s3/access.h"
#include "svc/s3/bucketcfg.h"

/* ---------------------------------------------------------------- stored values */

typedef struct kv_op {
    const char *table, *col, *owner, *name, *value;
    nb_arena *a;
    const char *out;
} kv_op;

static int kv_write(sqlite3 *h, void *arg)
{
    kv_op *k = arg;
    char sql[200];
    if (k->value)
        snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO %s(%s,name,value) VALUES(?,?,?)", k->table,
                 k->col);
    else
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s=? AND name=?", k->table, k->col);
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, k->owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->name, -1, SQLITE_STATIC);
    if (k->value) sqlite3_bind_text(st, 3, k->value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int kv_read(sqlite3 *h, void *arg)
{
    kv_op *k = arg;
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT value FROM %s WHERE %s=? AND name=?", k->table, k->col);
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, k->owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    k->out = NULL;
    if (rc == SQLITE_ROW) {
        k->out = nb_arena_strdup(k->a, (const char *)sqlite3_column_text(st, 0));
        rc = k->out ? SQLITE_OK : SQLITE_NOMEM;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    return rc;
}

static int kv_set(const char *table, const char *col, const char *owner, const char *name,
                  const char *value)
{
    kv_op k = {table, col, owner, name, value, NULL, NULL};
    int rc = nb_db_write(nb_s3_store_db(nb_s3_g), kv_write, &k);
    nb_s3_bcfg_invalidate();
    if (rc != SQLITE_OK) {
        nb_error("s3: cannot store %s of %s (%d)", name, owner, rc);
        return NB_S3_DBERR;
    }
    return NB_S3_OK;
}

static int kv_get(const char *table, const char *col, const char *owner, const char *name,
                  nb_arena *a, const char **out)
{
    kv_op k = {table, col, owner, name, NULL, a, NULL};
    int rc = nb_db_read(nb_s3_store_db(nb_s3_g), kv_read, &k);
    *out = k.out;
    return rc == SQLITE_OK ? NB_S3_OK : NB_S3_DBERR;
}

int nb_s3_cfg_set(const char *bucket, const char *name, const char *value)
{
    return kv_set("bucket_config", "bucket", bucket, name, value);
}
int nb_s3_cfg_get(const char *bucket, const char *name, nb_arena *a, const char **out)
{
    return kv_get("bucket_config", "bucket", bucket, name, a, out);
}
int nb_s3_acct_cfg_set(const char *account, const char *name, const char *value)
{
    return kv_set("account_config", "account", account, name, value);
}
int nb_s3_acct_cfg_get(const char *account, const char *name, nb_arena *a, const char **out)
{
    return kv_get("account_config", "account", account, name, a, out);
}

int nb_s3_malformed_xml(nb_call *c)
{
    return nb_s3_error(c, 400, "MalformedXML",
                       "The XML you provided was not well-formed or did not validate against our"
                       " published schema",
                       NULL);
}

int nb_s3_cfg_bucket(nb_call *c, nb_s3_bucket *b)
{
    const char *name = nb_in_str(c, "Bucket");
    int rc = nb_s3_bucket_get(nb_s3_g, name ? name : "", b, c->arena);
    if (rc) return nb_s3_store_error(c, rc, name, NULL);
    return 0;
}

int nb_s3_cfg_store(nb_call *c, const char *bucket, const char *name, json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (doc && !s) return nb_s3_nomem(c);
    int rc = nb_s3_cfg_set(bucket, name, s);
    free(s);
    return rc ? nb_s3_store_error(c, rc, bucket, NULL) : 0;
}

int nb_s3_cfg_load(nb_call *c, const char *bucket, const char *name, json_t **out)
{
    const char *s = NULL;
    *out = NULL;
    if (nb_s3_cfg_get(bucket, name, c->arena, &s)) return nb_s3_internal(c, "cannot read bucket configuration");
    if (s) *out = json_loads(s, 0, NULL);
    return 0;
}

/* ---------------------------------------------------------------- the cache */

#define CACHE_SLOTS 256
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static nb_s3_bcfg *cache[CACHE_SLOTS];
static _Atomic uint64_t cache_gen = 1;

static unsigned slot_of(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h % CACHE_SLOTS;
}

static void bcfg_free(nb_s3_bcfg *b)
{
    free(b->policy);
    free(b->merged);
    free(b->merged_restricted);
    json_decref(b->acl);
    json_decref(b->cors);
    json_decref(b->website);
    json_decref(b->logging);
    free(b);
}

void nb_s3_bcfg_put(const nb_s3_bcfg *cfg)
{
    nb_s3_bcfg *b = (nb_s3_bcfg *)cfg;
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) bcfg_free(b);
}

void nb_s3_bcfg_invalidate(void) { atomic_fetch_add(&cache_gen, 1); }

typedef struct load_ctx {
    nb_s3_bcfg *b;
    bool found;
} load_ctx;

static int load_rows(sqlite3 *h, void *arg)
{
    load_ctx *l = arg;
    nb_s3_bcfg *b = l->b;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT account FROM buckets WHERE name=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, b->bucket, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        l->found = true;
        snprintf(b->owner, sizeof b->owner, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_OK : rc;
    st = nb_db_stmt(h, "SELECT name, value FROM bucket_config WHERE bucket=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, b->bucket, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if (!n || !v) continue;
        if (!strcmp(n, "policy")) {
            b->policy = strdup(v);
        } else if (!strcmp(n, "pab")) {
            json_t *d = json_loads(v, 0, NULL);
            b->has_pab = d != NULL;
            nb_s3_pab_from_json(d, &b->pab);
            json_decref(d);
        } else if (!strcmp(n, "ownership")) {
            b->ownership = !strcmp(v, "ObjectWriter") || !strcmp(v, "none") ? NB_S3_OWN_WRITER
                           : !strcmp(v, "BucketOwnerPreferred") ? NB_S3_OWN_PREFERRED
                                                                : NB_S3_OWN_ENFORCED;
        } else if (!strcmp(n, "acl")) {
            b->acl = json_loads(v, 0, NULL);
        } else if (!strcmp(n, "cors")) {
            b->cors = json_loads(v, 0, NULL);
        } else if (!strcmp(n, "website")) {
            b->website = json_loads(v, 0, NULL);
        } else if (!strcmp(n, "logging")) {
            b->logging = json_loads(v, 0, NULL);
        } else if (!strcmp(n, "payer")) {
            b->requester_pays = !strcmp(v, "\"Requester\"");
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return rc;
    st = nb_db_stmt(h, "SELECT value FROM account_config WHERE account=? AND name='pab'");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, b->owner, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        json_t *d = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        nb_s3_pab_from_json(d, &b->acct_pab);
        json_decref(d);
    }
    sqlite3_reset(st);
    return SQLITE_OK;
}

/* The policy document the evaluator sees: the bucket policy's statements (unless dropped) and
 * the bucket ACL's grants as statements. NULL = none. */
static char *merge(json_t *pol, json_t *acl_stmts)
{
    json_t *stmts = json_array();
    const char *version = NULL;
    if (pol) {
        version = json_string_value(json_object_get(pol, "Version"));
        json_t *s = json_object_get(pol, "Statement");
        if (json_is_array(s))
            json_array_extend(stmts, s);
        else if (json_is_object(s))
            json_array_append(stmts, s);
    }
    if (acl_stmts) json_array_extend(stmts, acl_stmts);
    if (!json_array_size(stmts)) {
        json_decref(stmts);
        return NULL;
    }
    json_t *doc = json_object();
    if (version) json_object_set_new(doc, "Version", json_string(version));
    json_object_set_new(doc, "Statement", stmts);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

static nb_s3_bcfg *bcfg_load(const char *bucket, uint64_t gen)
{
    nb_s3_bcfg *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    atomic_init(&b->refs, 1);
    b->gen = gen;
    snprintf(b->bucket, sizeof b->bucket, "%s", bucket);
    load_ctx l = {b, false};
    if (nb_db_read(nb_s3_store_db(nb_s3_g), load_rows, &l) != SQLITE_OK || !l.found) {
        bcfg_free(b);
        return NULL;
    }
    json_t *pol = b->policy ? json_loads(b->policy, 0, NULL) : NULL;
    b->policy_public = pol && nb_s3_policy_is_public(pol);
    nb_s3_pab eff = nb_s3_pab_effective(b);
    json_t *acl_stmts = NULL;
    if (b->ownership != NB_S3_OWN_ENFORCED && b->acl) {
        bool any_public;
        acl_stmts = nb_s3_acl_statements(b->acl, bucket, false, eff.ignore_acls, &any_public);
    }
    b->merged = merge(pol, acl_stmts);
    /* RestrictPublicBuckets: with a public policy, only the owner's account (and AWS services)
     * get in; callers from elsewhere see no policy at all, only the ACL grants. */
    b->merged_restricted =
        eff.restrict_buckets && b->policy_public ? merge(NULL, acl_stmts) : NULL;
    if (!(eff.restrict_buckets && b->policy_public) && b->merged)
        b->merged_restricted = strdup(b->merged);
    json_decref(pol);
    json_decref(acl_stmts);
    /* The merged document must compile, or the evaluator would see no policy at all (and
     * miss the policy's denies): fall back to the stored policy, which was validated. */
    char **docs[2] = {&b->merged, &b->merged_restricted};
    for (size_t i = 0; i < 2; i++) {
        if (!*docs[i]) continue;
        nb_policy *p = nb_policy_parse(*docs[i], strlen(*docs[i]), NB_POLICY_RESOURCE, NULL);
        if (p) {
            nb_policy_free(p);
            continue;
        }
        nb_error("s3: bucket %s: policy merged with ACL grants does not compile; ACL grants ignored",
                 bucket);
        free(*docs[i]);
        *docs[i] = i == 0 && b->policy ? strdup(b->policy) : NULL;
    }
    return b;
}

const nb_s3_bcfg *nb_s3_bcfg_get(const char *bucket)
{
    if (!bucket || !*bucket || strlen(bucket) >= 64 || !nb_s3_g) return NULL;
    unsigned s = slot_of(bucket);
    uint64_t gen = atomic_load(&cache_gen);
    pthread_mutex_lock(&cache_mu);
    nb_s3_bcfg *b = cache[s];
    if (b && b->gen == gen && !strcmp(b->bucket, bucket)) {
        atomic_fetch_add(&b->refs, 1);
        pthread_mutex_unlock(&cache_mu);
        return b;
    }
    pthread_mutex_unlock(&cache_mu);
    b = bcfg_load(bucket, gen);
    if (!b) return NULL;
    atomic_fetch_add(&b->refs, 1); /* one for the cache, one for the caller */
    pthread_mutex_lock(&cache_mu);
    nb_s3_bcfg *old = cache[s];
    cache[s] = b;
    pthread_mutex_unlock(&cache_mu);
    nb_s3_bcfg_put(old);
    return b;
}

/* ---------------------------------------------------------------- bucket policies */

static int malformed_policy(nb_call *c, const char *msg)
{
    return nb_s3_error(c, 400, "MalformedPolicy", msg, NULL);
}

/* Every action of S3's IAM namespace (Service Authorization Reference, "Actions defined by
 * Amazon S3"): a bucket policy naming any other is refused ("Policy has invalid action"), as
 * AWS does, so that a typo (s3:GetObjekt) is not stored as a statement that never applies. */
static const char *const s3_actions[] = {
    "AbortMultipartUpload", "AssociateAccessGrantsIdentityCenter", "BypassGovernanceRetention",
    "CreateAccessGrant", "CreateAccessGrantsInstance", "CreateAccessGrantsLocation",
    "CreateAccessPoint", "CreateAccessPointForObjectLambda", "CreateBucket",
    "CreateBucketMetadataTableConfiguration", "CreateJob", "CreateMultiRegionAccessPoint",
    "CreateStorageLensGroup", "DeleteAccessGrant", "DeleteAccessGrantsInstance",
    "DeleteAccessGrantsInstanceResourcePolicy", "DeleteAccessGrantsLocation", "DeleteAccessPoint",
    "DeleteAccessPointForObjectLambda", "DeleteAccessPointPolicy",
    "DeleteAccessPointPolicyForObjectLambda", "DeleteBucket",
    "DeleteBucketMetadataTableConfiguration", "DeleteBucketOwnershipControls",
    "DeleteBucketPolicy", "DeleteBucketWebsite", "DeleteJobTagging",
    "DeleteMultiRegionAccessPoint", "DeleteObject", "DeleteObjectTagging", "DeleteObjectVersion",
    "DeleteObjectVersionTagging", "DeleteStorageLensConfiguration",
    "DeleteStorageLensConfigurationTagging", "DeleteStorageLensGroup", "DescribeJob",
    "DescribeMultiRegionAccessPointOperation", "DissociateAccessGrantsIdentityCenter",
    "GetAccelerateConfiguration", "GetAccessGrant", "GetAccessGrantsInstance",
    "GetAccessGrantsInstanceForPrefix", "GetAccessGrantsInstanceResourcePolicy",
    "GetAccessGrantsLocation", "GetAccessPoint", "GetAccessPointConfigurationForObjectLambda",
    "GetAccessPointForObjectLambda", "GetAccessPointPolicy", "GetAccessPointPolicyForObjectLambda",
    "GetAccessPointPolicyStatus", "GetAccessPointPolicyStatusForObjectLambda",
    "GetAccountPublicAccessBlock", "GetAnalyticsConfiguration", "GetBucketAcl", "GetBucketCORS",
    "GetBucketLocation", "GetBucketLogging", "GetBucketMetadataTableConfiguration",
    "GetBucketNotification", "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls",
    "GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketPublicAccessBlock",
    "GetBucketRequestPayment", "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite",
    "GetDataAccess", "GetEncryptionConfiguration", "GetIntelligentTieringConfiguration",
    "GetInventoryConfiguration", "GetJobTagging", "GetLifecycleConfiguration",
    "GetMetricsConfiguration", "GetMultiRegionAccessPoint", "GetMultiRegionAccessPointPolicy",
    "GetMultiRegionAccessPointPolicyStatus", "GetMultiRegionAccessPointRoutes", "GetObject",
    "GetObjectAcl", "GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention",
    "GetObjectTagging", "GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl",
    "GetObjectVersionAttributes", "GetObjectVersionForReplication", "GetObjectVersionTagging",
    "GetObjectVersionTorrent", "GetReplicationConfiguration", "GetStorageLensConfiguration",
    "GetStorageLensConfigurationTagging", "GetStorageLensDashboard", "GetStorageLensGroup",
    "InitiateReplication", "ListAccessGrants", "ListAccessGrantsInstances",
    "ListAccessGrantsLocations", "ListAccessPoints", "ListAccessPointsForObjectLambda",
    "ListAllMyBuckets", "ListBucket", "ListBucketMultipartUploads", "ListBucketVersions",
    "ListCallerAccessGrants", "ListJobs", "ListMultiRegionAccessPoints",
    "ListMultipartUploadParts", "ListStorageLensConfigurations", "ListStorageLensGroups",
    "ListTagsForResource", "ObjectOwnerOverrideToBucketOwner", "PauseReplication",
    "PutAccelerateConfiguration", "PutAccessGrantsInstanceResourcePolicy",
    "PutAccessPointConfigurationForObjectLambda", "PutAccessPointPolicy",
    "PutAccessPointPolicyForObjectLambda", "PutAccessPointPublicAccessBlock",
    "PutAccountPublicAccessBlock", "PutAnalyticsConfiguration", "PutBucketAcl", "PutBucketCORS",
    "PutBucketLogging", "PutBucketNotification", "PutBucketObjectLockConfiguration",
    "PutBucketOwnershipControls", "PutBucketPolicy", "PutBucketPublicAccessBlock",
    "PutBucketRequestPayment", "PutBucketTagging", "PutBucketVersioning", "PutBucketWebsite",
    "PutEncryptionConfiguration", "PutIntelligentTieringConfiguration", "PutInventoryConfiguration",
    "PutJobTagging", "PutLifecycleConfiguration", "PutMetricsConfiguration",
    "PutMultiRegionAccessPointPolicy", "PutObject", "PutObjectAcl", "PutObjectLegalHold",
    "PutObjectRetention", "PutObjectTagging", "PutObjectVersionAcl", "PutObjectVersionTagging",
    "PutReplicationConfiguration", "PutStorageLensConfiguration",
    "PutStorageLensConfigurationTagging", "ReplicateDelete", "ReplicateObject", "ReplicateTags",
    "RestoreObject", "SubmitMultiRegionAccessPointRoutes", "TagResource", "UntagResource",
    "UpdateAccessGrantsLocation", "UpdateBucketMetadataInventoryTableConfiguration",
    "UpdateBucketMetadataJournalTableConfiguration", "UpdateJobPriority", "UpdateJobStatus",
    "UpdateStorageLensGroup",
};

/* S3 refuses actions of other services and names S3 does not have; a wildcard is taken as it
 * is (it may match actions added later). */
static bool s3_action(void *ctx, const char *action)
{
    (void)ctx;
    if (strcmp(action, "*") == 0) return true;
    if (strncasecmp(action, "s3:", 3) != 0) return false;
    const char *name = action + 3;
    if (strpbrk(name, "*?")) return true;
    for (size_t i = 0; i < NB_ARRAY_LEN(s3_actions); i++)
        if (!strcasecmp(name, s3_actions[i])) return true;
    return false;
}

/* S3's own condition keys (the aws: global keys are open-ended: any is taken). AWS refuses an
 * s3: key it does not define with "Policy has an invalid condition key". */
static bool s3_condition_key(const char *key)
{
    static const char *const keys[] = {
        "s3:AccessGrantsInstanceArn", "s3:AccessPointNetworkOrigin", "s3:authType",
        "s3:DataAccessPointAccount", "s3:DataAccessPointArn", "s3:delimiter",
        "s3:ExistingJobOperation", "s3:ExistingJobPriority", "s3:if-match", "s3:if-none-match",
        "s3:InventoryAccessibleOptionalFields", "s3:JobSuspendedCause", "s3:LocationConstraint",
        "s3:max-keys", "s3:object-lock-legal-hold", "s3:object-lock-mode",
        "s3:object-lock-remaining-retention-days", "s3:object-lock-retain-until-date",
        "s3:ObjectCreationOperation", "s3:prefix", "s3:RequestJobOperation",
        "s3:RequestJobPriority", "s3:RequestObjectTagKeys", "s3:ResourceAccount",
        "s3:signatureAge", "s3:signatureversion", "s3:TlsVersion", "s3:versionid",
        "s3:x-amz-acl", "s3:x-amz-content-sha256", "s3:x-amz-copy-source",
        "s3:x-amz-grant-full-control", "s3:x-amz-grant-read", "s3:x-amz-grant-read-acp",
        "s3:x-amz-grant-write", "s3:x-amz-grant-write-acp", "s3:x-amz-metadata-directive",
        "s3:x-amz-object-ownership", "s3:x-amz-server-side-encryption",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:x-amz-server-side-encryption-customer-algorithm", "s3:x-amz-storage-class",
        "s3:x-amz-website-redirect-location",
    };
    static const char *const tagged[] = {"s3:ExistingObjectTag/", "s3:RequestObjectTag/",
                                         "s3:BucketTag/"};
    if (strncasecmp(key, "s3:", 3) != 0) return true;
    for (size_t i = 0; i < NB_ARRAY_LEN(keys); i++)
        if (!strcasecmp(key, keys[i])) return true;
    for (size_t i = 0; i < NB_ARRAY_LEN(tagged); i++)
        if (!strncasecmp(key, tagged[i], strlen(tagged[i])) && key[strlen(tagged[i])]) return true;
    return false;
}

/* Principals naming IAM users or roles must exist (AWS resolves them to unique ids when the
 * policy is stored, and refuses "Invalid principal in policy" when it can not): users and
 * roles of accounts served here are looked up in the identity store; other accounts are taken
 * on trust. */
typedef struct principal_q {
    const char *account, *kind, *name;
    bool exists;
} principal_q;

static int principal_read(sqlite3 *h, void *arg)
{
    principal_q *q = arg;
    q->exists = true;
    if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM accounts WHERE id = ?", "s", q->account)) return SQLITE_OK;
    if (!strcmp(q->kind, "user"))
        q->exists = nb_iq_int(h, 0, "SELECT COUNT(*) FROM users WHERE account = ? AND name = ?", "ss",
                              q->account, q->name) > 0;
    else
        q->exists = nb_iq_int(h, 0, "SELECT COUNT(*) FROM roles WHERE account = ? AND name = ?", "ss",
                              q->account, q->name) > 0;
    return SQLITE_OK;
}

static bool principal_exists(void *ctx, const char *arn)
{
    (void)ctx;
    nb_db *db = nb_identity_db();
    if (!db || strncmp(arn, "arn:aws:iam::", 13) != 0 || strlen(arn) < 26 || arn[25] != ':') return true;
    char account[13];
    memcpy(account, arn + 13, 12);
    account[12] = 0;
    const char *rest = arn + 26;
    const char *name = strrchr(rest, '/');
    if (!name) return true;
    principal_q q = {account, !strncmp(rest, "user/", 5) ? "user" : "role", name + 1, true};
    if (nb_db_read(db, principal_read, &q) != SQLITE_OK) return true;
    return q.exists;
}

/* Actions whose resource is an object (arn:aws:s3:::bucket/key); the others name the bucket. */
static bool object_action(const char *action)
{
    static const char *const names[] = {
        "AbortMultipartUpload", "BypassGovernanceRetention", "DeleteObject", "DeleteObjectTagging",
        "DeleteObjectVersion", "DeleteObjectVersionTagging", "GetObject", "GetObjectAcl",
        "GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging",
        "GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAttributes",
        "GetObjectVersionForReplication", "GetObjectVersionTagging", "GetObjectVersionTorrent",
        "InitiateReplication", "ListMultipartUploadParts", "ObjectOwnerOverrideToBucketOwner",
        "PutObject", "PutObjectAcl", "PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging",
        "PutObjectVersionAcl", "PutObjectVersionTagging", "ReplicateDelete", "ReplicateObject",
        "ReplicateTags", "RestoreObject",
    };
    for (size_t i = 0; i < NB_ARRAY_LEN(names); i++)
        if (!strcasecmp(action, names[i])) return true;
    return false;
}

/* AWS refuses a statement none of whose actions applies to any of its resources (s3:GetObject
 * on the bucket's ARN, s3:ListBucket on its objects' only): "Action does not apply to any
 * resource(s) in statement". Wildcards on either side may apply to both kinds. */
static bool actions_apply(json_t *st)
{
    json_t *acts = json_object_get(st, "Action"), *res = json_object_get(st, "Resource");
    if (!acts || !res) return true; /* NotAction / NotResource: anything may apply */
    bool any_bucket = false, any_object = false;
    json_t *rl = json_is_array(res) ? json_incref(res) : json_pack("[O]", res);
    size_t i;
    json_t *r;
    json_array_foreach(rl, i, r)
    {
        const char *s = json_string_value(r);
        if (!s) continue;
        const char *rest = strncmp(s, "arn:aws:s3:::", 13) ? s : s + 13;
        if (strchr(rest, '/')) {
            any_object = true;
        } else if (strpbrk(rest, "*?")) {
            any_bucket = any_object = true;
        } else {
            any_bucket = true;
        }
    }
    json_decref(rl);
    bool ok = false;
    json_t *al = json_is_array(acts) ? json_incref(acts) : json_pack("[O]", acts);
    json_array_foreach(al, i, r)
    {
        const char *a = json_string_value(r);
        if (!a) continue;
        const char *name = strncasecmp(a, "s3:", 3) ? a : a + 3;
        if (strpbrk(name, "*?") || (object_action(name) ? any_object : any_bucket)) ok = true;
    }
    json_decref(al);
    return ok;
}

/* A CanonicalUser principal is a canonical user id: 64 hex digits (AWS refuses anything
 * else as an invalid principal). */
static bool canonical_ids_ok(json_t *principal)
{
    json_t *ids = json_object_get(principal, "CanonicalUser");
    if (!ids) return true;
    json_t *list = json_is_array(ids) ? json_incref(ids) : json_pack("[O]", ids);
    bool ok = true;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || strlen(s) != 64 || strspn(s, "0123456789abcdefABCDEF") != 64) ok = false;
    }
    json_decref(list);
    return ok;
}

/* Every Resource must name this bucket or objects in it (globs allowed). */
static int check_resources(nb_call *c, json_t *doc, const char *bucket)
{
    json_t *stmts = json_object_get(doc, "Statement");
    json_t *one = NULL;
    if (json_is_object(stmts)) {
        one = json_array();
        json_array_append(one, stmts);
        stmts = one;
    }
    size_t i;
    json_t *st;
    int rc = 0;
    json_array_foreach(stmts, i, st)
    {
        json_t *res = json_object_get(st, "Resource");
        if (!res) res = json_object_get(st, "NotResource");
        json_t *list = json_is_array(res) ? json_incref(res) : json_pack("[O]", res ? res : json_null());
        size_t j;
        json_t *r;
        json_array_foreach(list, j, r)
        {
            const char *s = json_string_value(r);
            if (!s) continue;
            if (!strcmp(s, "*")) continue;
            if (strncmp(s, "arn:aws:s3:::", 13) != 0) {
                rc = malformed_policy(c, "Policy has invalid resource");
                break;
            }
            const char *bp = s + 13;
            const char *slash = strchr(bp, '/');
            char pat[1100];
            snprintf(pat, sizeof pat, "%.*s", (int)(slash ? (size_t)(slash - bp) : strlen(bp)), bp);
            if (fnmatch(pat, bucket, 0) != 0) {
                rc = malformed_policy(c, "Policy has invalid resource");
                break;
            }
        }
        json_decref(list);
        if (rc) break;
        if (!canonical_ids_ok(json_object_get(st, "Principal")) ||
            !canonical_ids_ok(json_object_get(st, "NotPrincipal"))) {
            rc = malformed_policy(c, "Invalid principal in policy");
            break;
        }
        const char *op;
        json_t *block;
        json_object_foreach(json_object_get(st, "Condition"), op, block)
        {
            const char *key;
            json_t *v;
            json_object_foreach(block, key, v) if (!s3_condition_key(key)) rc = -1;
        }
        if (rc) {
            rc = malformed_policy(c, "Policy has an invalid condition key");
            break;
        }
        if (!actions_apply(st)) {
            rc = malformed_policy(c, "Action does not apply to any resource(s) in statement");
            break;
        }
    }
    json_decref(one);
    return rc;
}

/* AWS: Put/Get/DeleteBucketPolicy are for identities of the bucket owner's account only; a
 * caller from elsewhere that a policy lets through gets 405 MethodNotAllowed (documented in
 * each of the three operations). */
static int owner_account_only(nb_call *c, const nb_s3_bucket *b)
{
    if (!strcmp(c->who.account, b->account)) return 0;
    const char *m = c->http && c->http->method ? c->http->method : "";
    return nb_s3_error(c, 405, "MethodNotAllowed",
                       "The specified method is not allowed against this resource.", "Method", m, NULL);
}

int nb_s3_op_put_bucket_policy(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b) || owner_account_only(c, &b)) return -1;
    const char *doc = nb_in_str(c, "Policy");
    size_t len = doc ? strlen(doc) : 0;
    size_t i = 0;
    while (i < len && isspace((unsigned char)doc[i])) i++;
    if (i == len || doc[i] != '{')
        return malformed_policy(c, "Policies must be valid JSON and the first byte must be '{'");
    nb_policy_error pe;
    memset(&pe, 0, sizeof pe);
    if (nb_policy_check_size(doc, len, 0, NB_POLICY_QUOTA_BUCKET, NULL, &pe) < 0)
        return nb_s3_error(c, 400, "PolicyTooLarge", "Policies must be less than 20 KB", NULL);
    /* S3's own wording for an empty statement list (the shared parser says the field is
     * missing, as it is for queue and topic policies) */
    json_t *pre = json_loadb(doc, len, 0, NULL);
    json_t *pst = json_object_get(pre, "Statement");
    bool empty = json_is_array(pst) && json_array_size(pst) == 0;
    json_decref(pre);
    if (empty) return malformed_policy(c, "Could not parse the policy: Statement is empty!");
    nb_policy_parse_opts o = {.kind = NB_POLICY_RESOURCE, .action_valid = s3_action,
                              .principal_exists = principal_exists};
    nb_policy *p = nb_policy_parse_ex(doc, len, &o, &pe);
    if (!p) {
        if (pe.code && !strcmp(pe.code, "ServiceFailure")) return nb_s3_nomem(c);
        return malformed_policy(c, pe.message[0] ? pe.message : "Invalid policy document");
    }
    nb_policy_free(p);
    json_t *j = json_loadb(doc, len, 0, NULL);
    if (!j) return malformed_policy(c, "Policies must be valid JSON and the first byte must be '{'");
    int rc = check_resources(c, j, b.name);
    if (!rc) {
        const nb_s3_bcfg *cfg = nb_s3_bcfg_get(b.name);
        nb_s3_pab eff = cfg ? nb_s3_pab_effective(cfg) : (nb_s3_pab){0};
        nb_s3_bcfg_put(cfg);
        /* BlockPublicPolicy: a public policy is refused outright. */
        if (eff.block_policy && nb_s3_policy_is_public(j))
            rc = nb_s3_error(c, 403, "AccessDenied", "Access Denied", NULL);
    }
    json_decref(j);
    if (rc) return rc;
    /* Stored as sent: GetBucketPolicy answers the document byte for byte. */
    char *copy = nb_arena_strndup(c->arena, doc, len);
    if (!copy) return nb_s3_nomem(c);
    int src = nb_s3_cfg_set(b.name, "policy", copy);
    if (src) return nb_s3_store_error(c, src, b.name, NULL);
    c->out_status = 204;
    return 0;
}

static int no_policy(nb_call *c, const char *bucket)
{
    return nb_s3_error(c, 404, "NoSuchBucketPolicy", "The bucket policy does not exist",
                       "BucketName", bucket, NULL);
}

int nb_s3_op_get_bucket_policy(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b) || owner_account_only(c, &b)) return -1;
    const char *s = NULL;
    if (nb_s3_cfg_get(b.name, "policy", c->arena, &s)) return nb_s3_internal(c, "cannot read policy");
    if (!s) return no_policy(c, b.name);
    c->output = json_pack("{s:s}", "Policy", s);
    return 0;
}

int nb_s3_op_delete_bucket_policy(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b) || owner_account_only(c, &b)) return -1;
    int rc = nb_s3_cfg_set(b.name, "policy", NULL);
    if (rc) return nb_s3_store_error(c, rc, b.name, NULL);
    c->out_status = 204;
    return 0;
}

int nb_s3_op_get_bucket_policy_status(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    const char *s = NULL;
    if (nb_s3_cfg_get(b.name, "policy", c->arena, &s)) return nb_s3_internal(c, "cannot read policy");
    if (!s) return no_policy(c, b.name);
    json_t *j = json_loads(s, 0, NULL);
    bool pub = j && nb_s3_policy_is_public(j);
    json_decref(j);
    c->output = json_pack("{s:{s:b}}", "PolicyStatus", "IsPublic", pub);
    return 0;
}

/* ---------------------------------------------------------------- hooks */

static bool is_op(const nb_call *c, const char *name)
{
    return c->op_name && !strcmp(c->op_name, name);
}

/* Operations that write an object or change an ACL: ACL headers are checked before they run. */
static bool acl_write_op(const nb_call *c)
{
    return is_op(c, "PutObject") || is_op(c, "CopyObject") || is_op(c, "CreateMultipartUpload") ||
           is_op(c, "PutObjectAcl") || is_op(c, "PutBucketAcl");
}

/* The resource policy text with an object's ACL statements added (a copy in the arena). */
static const char *with_statements(nb_call *c, const char *text, json_t *ostmts)
{
    if (!ostmts || !json_array_size(ostmts)) return text ? nb_arena_strdup(c->arena, text) : NULL;
    json_t *doc = text ? json_loads(text, 0, NULL) : json_object();
    if (!doc) return NULL;
    json_t *st = json_object_get(doc, "Statement");
    if (!st) {
        st = json_array();
        json_object_set_new(doc, "Statement", st);
    }
    json_array_extend(st, ostmts);
    char *s = json_dumps(doc, JSON_COMPACT);
    const char *out = s ? nb_arena_strdup(c->arena, s) : NULL;
    free(s);
    json_decref(doc);
    return out;
}

/* AWS authorizes an object call that names a version as the action's Version variant
 * (GetObject with versionId needs s3:GetObjectVersion). */
const char *nb_s3_authz_action(nb_call *c, const char *action)
{
    static const char *const variants[][2] = {
        {"s3:GetObject", "s3:GetObjectVersion"},
        {"s3:DeleteObject", "s3:DeleteObjectVersion"},
        {"s3:GetObjectAcl", "s3:GetObjectVersionAcl"},
        {"s3:PutObjectAcl", "s3:PutObjectVersionAcl"},
        {"s3:GetObjectTagging", "s3:GetObjectVersionTagging"},
        {"s3:PutObjectTagging", "s3:PutObjectVersionTagging"},
        {"s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"},
        {"s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"},
    };
    const char *v = nb_in_str(c, "VersionId");
    if (!v || !*v || !nb_in_str(c, "Key")) return NULL;
    for (size_t i = 0; i < NB_ARRAY_LEN(variants); i++)
        if (!strcmp(action, variants[i][0])) return variants[i][1];
    return NULL;
}

const char *nb_s3_resource_policy(nb_call *c, const char **owner)
{
    *owner = NULL;
    const char *bucket = nb_in_str(c, "Bucket");
    if (!bucket) return NULL; /* ListBuckets */
    if (is_op(c, "CreateBucket")) {
        nb_s3_bcfg_invalidate();
        /* ACLs that the ownership setting refuses (after the name: InvalidBucketName first) */
        if (nb_s3_bucket_name_valid(bucket)) nb_s3_acl_precheck(c, NULL);
        return NULL; /* the caller's own, once created */
    }
    if (is_op(c, "DeleteBucket")) nb_s3_bcfg_invalidate();
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(bucket);
    if (!cfg) {
        nb_s3_bucket b;
        int rc = nb_s3_bucket_get(nb_s3_g, bucket, &b, NULL);
        nb_s3_store_error(c, rc ? rc : NB_S3_DBERR, bucket, NULL);
        return NULL;
    }
    *owner = nb_arena_strdup(c->arena, cfg->owner);
    /* AWS tells the bucket's region on HeadBucket even to callers it then refuses (SDKs use it
     * to find the bucket); every bucket here is in this server's region. */
    if (is_op(c, "HeadBucket")) nb_s3_add_header(c, "x-amz-bucket-region", nb_s3_region);
    /* x-amz-expected-bucket-owner: a bucket of another account is refused (403, as AWS). */
    const char *expected = nb_in_str(c, "ExpectedBucketOwner");
    if (expected && strcmp(expected, cfg->owner) != 0) {
        nb_s3_error(c, 403, "AccessDenied", "Access Denied", NULL);
        nb_s3_bcfg_put(cfg);
        return NULL;
    }
    if (nb_call_header(c, "Origin")) nb_s3_cors_actual(c, cfg);
    if (cfg->requester_pays && nb_s3_request_payer_check(c, cfg) < 0) { /* bucketcfg.c */
        nb_s3_bcfg_put(cfg);
        return NULL;
    }
    if (acl_write_op(c) && nb_s3_acl_precheck(c, cfg) < 0) {
        nb_s3_bcfg_put(cfg);
        return NULL;
    }
    bool same = !strcmp(c->who.account, cfg->owner);
    /* AWS: the root user of the owning account may always read, replace and delete the bucket
     * policy, even one that denies everyone (else such a policy could never be undone). */
    if (same && c->who.type == NB_PRINCIPAL_ROOT &&
        (is_op(c, "GetBucketPolicy") || is_op(c, "PutBucketPolicy") ||
         is_op(c, "DeleteBucketPolicy"))) {
        nb_s3_bcfg_put(cfg);
        return NULL;
    }
    const char *text = same ? cfg->merged : cfg->merged_restricted;
    const char *out = NULL;
    bool missing = false;
    const char *obj_owner = NULL;
    json_t *ostmts = cfg->ownership != NB_S3_OWN_ENFORCED
                         ? nb_s3_object_acl_statements(c, cfg, &missing, &obj_owner)
                         : NULL;
    /* An object another account wrote (ACLs in use, ownership not taken over) is that
     * account's: reading it or its ACL takes a grant of its owner, the bucket owner included
     * (AWS: the bucket owner may delete it, or deny access by policy, but not read it). */
    if (obj_owner && strcmp(obj_owner, cfg->owner) != 0 &&
        (is_op(c, "GetObject") || is_op(c, "HeadObject") || is_op(c, "GetObjectAcl") ||
         is_op(c, "PutObjectAcl") || is_op(c, "GetObjectAttributes"))) {
        *owner = nb_arena_strdup(c->arena, obj_owner);
    }
    /* A key that does not exist has no object ACL to grant the read: AWS answers 404 NoSuchKey
     * to whoever may list the bucket (a public-read bucket: anyone), not 403. */
    if (missing && (is_op(c, "GetObject") || is_op(c, "HeadObject")) && !nb_in_str(c, "VersionId")) {
        if (nb_s3_may_list(c, bucket) == 0) {
            size_t kn = 0;
            const char *key = nb_s3_in_key(c, &kn);
            nb_s3_store_error(c, NB_S3_NO_KEY, bucket, key);
            nb_s3_bcfg_put(cfg);
            return NULL;
        }
        nb_aws_error_clear(&c->err);
        memset(&c->err, 0, sizeof c->err);
    }
    out = with_statements(c, text, ostmts);
    json_decref(ostmts);
    nb_s3_bcfg_put(cfg);
    return out;
}

static void ctx_str(json_t *ctx, const char *key, const char *v)
{
    if (v) nb_authz_context_set(ctx, key, v);
}

/* Tags of the object the call names, for s3:ExistingObjectTag/<key>. */
static void existing_tags(nb_call *c, json_t *ctx, const char *bucket)
{
    size_t kn = 0;
    const char *key = nb_s3_in_key(c, &kn);
    if (!key) return;
    nb_s3_object o;
    const char *vid = nb_in_str(c, "VersionId");
    if (vid && !strcmp(vid, "null")) vid = "null";
    if (nb_s3_object_get(nb_s3_g, bucket, key, kn, vid, false, c->arena, &o) != NB_S3_OK) return;
    json_t *tags = o.tags ? json_loads(o.tags, 0, NULL) : NULL;
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k) continue;
        char name[300];
        snprintf(name, sizeof name, "s3:ExistingObjectTag/%s", k);
        nb_authz_context_set(ctx, name, v ? v : "");
    }
    json_decref(tags);
}

int nb_s3_authz_context(nb_call *c, json_t *ctx)
{
    ctx_str(ctx, "s3:prefix", nb_in_str(c, "Prefix"));
    ctx_str(ctx, "s3:delimiter", nb_in_str(c, "Delimiter"));
    json_t *mk = c->input ? json_object_get(c->input, "MaxKeys") : NULL;
    if (json_is_integer(mk)) {
        char n[32];
        snprintf(n, sizeof n, "%lld", (long long)json_integer_value(mk));
        ctx_str(ctx, "s3:max-keys", n);
    }
    ctx_str(ctx, "s3:x-amz-acl", nb_in_str(c, "ACL"));
    static const char *const grants[][2] = {
        {"GrantRead", "s3:x-amz-grant-read"},         {"GrantWrite", "s3:x-amz-grant-write"},
        {"GrantReadACP", "s3:x-amz-grant-read-acp"},  {"GrantWriteACP", "s3:x-amz-grant-write-acp"},
        {"GrantFullControl", "s3:x-amz-grant-full-control"},
    };
    for (size_t i = 0; i < NB_ARRAY_LEN(grants); i++) ctx_str(ctx, grants[i][1], nb_in_str(c, grants[i][0]));
    ctx_str(ctx, "s3:VersionId", nb_in_str(c, "VersionId"));
    ctx_str(ctx, "s3:x-amz-server-side-encryption", nb_in_str(c, "ServerSideEncryption"));
    ctx_str(ctx, "s3:x-amz-server-side-encryption-aws-kms-key-id", nb_in_str(c, "SSEKMSKeyId"));
    ctx_str(ctx, "s3:x-amz-server-side-encryption-customer-algorithm",
            nb_in_str(c, "SSECustomerAlgorithm"));
    ctx_str(ctx, "s3:x-amz-copy-source", nb_in_str(c, "CopySource"));
    ctx_str(ctx, "s3:x-amz-metadata-directive", nb_in_str(c, "MetadataDirective"));
    ctx_str(ctx, "s3:x-amz-storage-class", nb_in_str(c, "StorageClass"));
    ctx_str(ctx, "s3:x-amz-website-redirect-location", nb_in_str(c, "WebsiteRedirectLocation"));
    ctx_str(ctx, "s3:object-lock-mode", nb_in_str(c, "ObjectLockMode"));
    ctx_str(ctx, "s3:LocationConstraint",
            json_string_value(json_object_get(json_object_get(c->input, "CreateBucketConfiguration"),
                                              "LocationConstraint")));
    ctx_str(ctx, "s3:x-amz-object-ownership", nb_in_str(c, "ObjectOwnership"));
    ctx_str(ctx, "s3:x-amz-content-sha256", nb_call_header(c, "x-amz-content-sha256"));
    const char *auth = nb_call_header(c, "Authorization");
    if (c->who.type != NB_PRINCIPAL_ANONYMOUS) {
        ctx_str(ctx, "s3:authType", auth ? "REST-HEADER" : "REST-QUERY-STRING");
        ctx_str(ctx, "s3:signatureversion",
                auth && !strncmp(auth, "AWS ", 4) ? "AWS" : "AWS4-HMAC-SHA256");
    }
    /* s3:RequestObjectTag/<k>: tags the request sets (x-amz-tagging or PutObjectTagging). */
    const char *tagging = nb_in_str(c, "Tagging");
    json_t *set = NULL;
    if (tagging) {
        const char *txt = NULL;
        nb_aws_error saved = c->err;
        if (nb_s3_tags_from_header(c, tagging, &txt) == 0 && txt) set = json_loads(txt, 0, NULL);
        c->err = saved; /* a bad header is the handler's to refuse */
    } else if (c->input && json_is_object(json_object_get(c->input, "Tagging"))) {
        set = json_incref(json_object_get(json_object_get(c->input, "Tagging"), "TagSet"));
    }
    size_t i;
    json_t *t;
    json_array_foreach(set, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k) continue;
        char name[300];
        snprintf(name, sizeof name, "s3:RequestObjectTag/%s", k);
        nb_authz_context_set(ctx, name, v ? v : "");
        nb_authz_context_add(ctx, "s3:RequestObjectTagKeys", k);
    }
    json_decref(set);
    const char *bucket = nb_in_str(c, "Bucket");
    const nb_s3_bcfg *cfg = bucket ? nb_s3_bcfg_get(bucket) : NULL;
    if (cfg) {
        ctx_str(ctx, "s3:ResourceAccount", cfg->owner);
        /* Reading the object's tags costs a lookup: only when the policy asks for them. */
        if (cfg->policy && strcasestr(cfg->policy, "s3:ExistingObjectTag"))
            existing_tags(c, ctx, bucket);
        nb_s3_bcfg_put(cfg);
    }
    return 0;
}

/* nb_s3_authorize_object for a given version (NULL = the current one) */
static int authorize_object_v(nb_call *c, const char *bucket, const char *key, size_t key_len,
                              const char *version, const char *action)
{
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(bucket);
    if (!cfg) return nb_s3_store_error(c, NB_S3_NO_BUCKET, bucket, NULL);
    bool same = !strcmp(c->who.account, cfg->owner);
    nb_authz_check_args a = {
        .action = action,
        .resource = nb_arena_printf(c->arena, "arn:aws:s3:::%s/%.*s", bucket, (int)key_len, key),
        .resource_policy = same ? cfg->merged : cfg->merged_restricted,
        .resource_account = cfg->owner,
        .skip_service_context = true,
    };
    /* Reads of the object (copy sources) take its ACL into account where ACLs apply, and an
     * object another account wrote is that account's (as in the resource_policy hook). */
    if (cfg->ownership != NB_S3_OWN_ENFORCED &&
        (!strcmp(action, "s3:GetObject") || !strcmp(action, "s3:GetObjectVersion"))) {
        bool missing;
        const char *obj_owner;
        json_t *ostmts = nb_s3_object_acl_statements_of(c, cfg, key, key_len, version, &missing,
                                                        &obj_owner);
        a.resource_policy = with_statements(c, a.resource_policy, ostmts);
        json_decref(ostmts);
        if (obj_owner && strcmp(obj_owner, cfg->owner) != 0)
            a.resource_account = nb_arena_strdup(c->arena, obj_owner);
    }
    int rc = a.resource ? nb_authz_check(c, &a) : nb_s3_nomem(c);
    nb_s3_bcfg_put(cfg);
    return rc;
}

int nb_s3_authorize_object(nb_call *c, const char *bucket, const char *key, size_t key_len,
                           const char *action)
{
    return authorize_object_v(c, bucket, key, key_len, NULL, action);
}

int nb_s3_authorize_version(nb_call *c, const char *bucket, const char *key, size_t key_len,
                            const char *version, const char *action)
{
    return authorize_object_v(c, bucket, key, key_len, version, action);
}

/* The dispatcher authorized a copy's destination (s3:PutObject) only: check s3:GetObject
 * (s3:GetObjectVersion with a version id) on the source object the same way, in whatever
 * bucket it is. */
int nb_s3_authorize_source(nb_call *c, const char *bucket)
{
    const char *cs = nb_in_str(c, "CopySource");
    const char *sb = NULL, *sk = NULL, *sv = NULL;
    size_t skn = 0;
    if (!cs || nb_s3_parse_copy_source(c, cs, &sb, &sk, &skn, &sv) || strcmp(sb, bucket) != 0)
        return nb_s3_error(c, 403, "AccessDenied", "Access Denied", NULL);
    return authorize_object_v(c, sb, sk, skn, sv, sv ? "s3:GetObjectVersion" : "s3:GetObject");
}

/* AWS answers a missing key with 404 only to callers allowed s3:ListBucket on its bucket;
 * others get 403 AccessDenied, so that reads do not reveal which keys exist. 0 = may list,
 * -1 with the error set. */
int nb_s3_may_list(nb_call *c, const char *bucket)
{
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(bucket);
    if (!cfg) return 0; /* deleted meanwhile: the caller reports what it found */
    bool same = !strcmp(c->who.account, cfg->owner);
    int rc = 0;
    if (!same || c->who.type != NB_PRINCIPAL_ROOT) {
        nb_authz_check_args a = {
            .action = "s3:ListBucket",
            .resource = nb_arena_printf(c->arena, "arn:aws:s3:::%s", bucket),
            .resource_policy = same ? cfg->merged : cfg->merged_restricted,
            .resource_account = cfg->owner,
            .skip_service_context = true,
        };
        rc = a.resource ? nb_authz_check(c, &a) : nb_s3_nomem(c);
    }
    nb_s3_bcfg_put(cfg);
    return rc ? -1 : 0;
}
