/* access.h: what S3's bucket-configuration files share (policy.c, acl.c, pab.c, cors.c,
 * website.c, notify.c): the per-bucket configuration store and its in-memory cache, the
 * authorization hooks, and the handlers of the configuration subresources. */
#ifndef NB_SVC_S3_ACCESS_H
#define NB_SVC_S3_ACCESS_H

#include <stdatomic.h>

#include "svc/s3/handlers.h"

/* Object Ownership (PutBucketOwnershipControls). BucketOwnerEnforced is the default of new
 * buckets (AWS since April 2023) and disables ACLs. */
enum nb_s3_ownership {
    NB_S3_OWN_ENFORCED = 0,
    NB_S3_OWN_PREFERRED,
    NB_S3_OWN_WRITER,
};

typedef struct nb_s3_pab {
    bool block_acls, ignore_acls, block_policy, restrict_buckets;
} nb_s3_pab;

/* A bucket's configuration as the hooks need it, cached (policy.c). Immutable once built and
 * reference counted: readers on loop and worker threads hold it while they use it. */
typedef struct nb_s3_bcfg {
    atomic_int refs;
    uint64_t gen;
    char bucket[64];
    char owner[16];      /* owning account */
    char *policy;        /* bucket policy text, NULL if none */
    bool policy_public;  /* as GetBucketPolicyStatus answers */
    bool has_pab;
    nb_s3_pab pab;       /* bucket level */
    nb_s3_pab acct_pab;  /* the owner account's (s3control level) */
    int ownership;       /* enum nb_s3_ownership */
    json_t *acl;         /* {"Owner": acct, "Grants": [...]} or NULL (= private) */
    json_t *cors;        /* CORSRules array or NULL */
    json_t *website;     /* WebsiteConfiguration document or NULL */
    json_t *logging;     /* LoggingEnabled document (server access logging) or NULL */
    bool requester_pays; /* PutBucketRequestPayment Payer=Requester */
    /* the resource policy the evaluator sees: bucket policy + bucket ACL grants, with Block
     * Public Access applied; NULL = none. For callers outside the owner's account when
     * RestrictPublicBuckets drops a public policy, merged_restricted is used instead. */
    char *merged;
    char *merged_restricted;
} nb_s3_bcfg;

/* The configuration of bucket (a reference; release with nb_s3_bcfg_put), NULL when the
 * bucket does not exist (or on failure). Cheap when cached: callable on the loop thread. */
const nb_s3_bcfg *nb_s3_bcfg_get(const char *bucket);
void nb_s3_bcfg_put(const nb_s3_bcfg *cfg);
/* Drop every cached configuration (after any configuration write, bucket creation). */
void nb_s3_bcfg_invalidate(void);

/* Stored configuration values: name -> JSON text, in table bucket_config. value NULL
 * deletes. Worker threads. Returns NB_S3_OK / NB_S3_DBERR. */
int nb_s3_cfg_set(const char *bucket, const char *name, const char *value);
/* Value of name into the arena, *out NULL when unset. */
int nb_s3_cfg_get(const char *bucket, const char *name, nb_arena *a, const char **out);
int nb_s3_acct_cfg_set(const char *account, const char *name, const char *value);
int nb_s3_acct_cfg_get(const char *account, const char *name, nb_arena *a, const char **out);

/* 0 when the caller may list bucket (s3:ListBucket), else -1 with the error set: a missing
 * key is 404 NoSuchKey only for callers who may list (policy.c). */
int nb_s3_may_list(nb_call *c, const char *bucket);

/* Handler helpers: the bucket must exist (NoSuchBucket); fills b. */
int nb_s3_cfg_bucket(nb_call *c, nb_s3_bucket *b);
/* Store (or delete when doc NULL) a JSON configuration document; invalidates the cache. */
int nb_s3_cfg_store(nb_call *c, const char *bucket, const char *name, json_t *doc);
/* Stored JSON document of name, NULL when unset (new reference). -1 on failure (c->err). */
int nb_s3_cfg_load(nb_call *c, const char *bucket, const char *name, json_t **out);
int nb_s3_malformed_xml(nb_call *c);

/* ---- public access (pab.c) ---- */
/* Does this policy document make the bucket public (AWS's "The meaning of public")? */
bool nb_s3_policy_is_public(json_t *policy);
/* Parse a stored PublicAccessBlockConfiguration document. */
void nb_s3_pab_from_json(json_t *doc, nb_s3_pab *out);
/* The effective block: bucket level OR account level. */
nb_s3_pab nb_s3_pab_effective(const nb_s3_bcfg *cfg);

/* ---- ACLs (acl.c) ---- */
/* Resource-policy statements (JSON array, new reference) equivalent to the grants of acl
 * on a bucket (object = false) or an object (true); public grants left out when
 * ignore_public. *any_public says whether acl had public grants. */
json_t *nb_s3_acl_statements(json_t *acl, const char *bucket, bool object, bool ignore_public,
                             bool *any_public);
/* ACL headers / AccessControlPolicy of a request into a stored ACL document (new reference);
 * NULL with c->err on a refused one, NULL without error when the request names none (*none). */
json_t *nb_s3_acl_from_request(nb_call *c, const char *owner, bool object, bool *none,
                               bool *is_default);
/* Object-level ACL data for the hook: grants statement text of the object the call names, or
 * NULL; *missing when the call names a key that has no version at all, *obj_owner the account
 * owning the version named (NULL if none, or a delete marker). Reads the store (cheap,
 * indexed). */
json_t *nb_s3_object_acl_statements(nb_call *c, const nb_s3_bcfg *cfg, bool *missing,
                                    const char **obj_owner);
/* The same for a key (and version, NULL = the current one) given explicitly: copy sources. */
json_t *nb_s3_object_acl_statements_of(nb_call *c, const nb_s3_bcfg *cfg, const char *key,
                                       size_t kn, const char *version, bool *missing,
                                       const char **obj_owner);
/* Owner of a new object: the writer under ObjectWriter, else the bucket owner. */
const char *nb_s3_object_owner(nb_call *c, const nb_s3_bucket *b);
/* After a bucket was created: apply x-amz-object-ownership and ACL headers. */
int nb_s3_bucket_created(nb_call *c, const char *bucket);
/* After an object version was written (PutObject, CopyObject): store its ACL headers. */
int nb_s3_object_written(nb_call *c, const char *bucket, const nb_s3_object *o);
/* CreateMultipartUpload: the ACL document its canned ACL or grant headers ask for, NULL for none
 * (*out in c->arena); -1 with c->err for a grantee that cannot be resolved. The upload keeps it
 * and CompleteMultipartUpload gives it to the object with nb_s3_upload_acl_apply. */
int nb_s3_upload_acl(nb_call *c, const char *bucket, const char *owner, char **out);
void nb_s3_upload_acl_apply(const nb_s3_object *o, const char *acl);
/* One grantee (type CanonicalUser / AmazonCustomerByEmail / Group, or the header forms id /
 * emailAddress / uri) resolved and appended to grants as a stored ACL grant with permission
 * perm; -1 with c->err as AWS refuses it (InvalidArgument "Invalid id", "Invalid group uri",
 * UnresolvableGrantByEmailAddress). Worker threads. */
int nb_s3_acl_grantee(nb_call *c, json_t *grants, const char *type, const char *value,
                      const char *perm);
/* Checks of ACL headers before a write (AccessControlListNotSupported, BlockPublicAcls). */
int nb_s3_acl_precheck(nb_call *c, const nb_s3_bcfg *cfg);

/* ---- CORS (cors.c) ---- */
/* CORS headers for an actual request with an Origin header, appended to c->out_headers. */
void nb_s3_cors_actual(nb_call *c, const nb_s3_bcfg *cfg);
/* Preflight OPTIONS; answers r. */
void nb_s3_cors_preflight(nb_req *r, const char *path, size_t path_len);

/* ---- website (website.c) ---- */
/* Host is a website endpoint: "<bucket>.s3-website[.-]<region>.<domain>"; fills bucket. */
bool nb_s3_website_host(const char *host, size_t n, char bucket[64]);
void nb_s3_website_request(nb_req *r, const char *bucket);
void nb_s3_website_set_domain(const char *domain);

/* ---- handlers ---- */
int nb_s3_op_put_bucket_policy(nb_call *c);
int nb_s3_op_get_bucket_policy(nb_call *c);
int nb_s3_op_delete_bucket_policy(nb_call *c);
int nb_s3_op_get_bucket_policy_status(nb_call *c);
int nb_s3_op_put_bucket_acl(nb_call *c);
int nb_s3_op_get_bucket_acl(nb_call *c);
int nb_s3_op_put_object_acl(nb_call *c);
int nb_s3_op_get_object_acl(nb_call *c);
int nb_s3_op_put_ownership(nb_call *c);
int nb_s3_op_get_ownership(nb_call *c);
int nb_s3_op_delete_ownership(nb_call *c);
int nb_s3_op_put_pab(nb_call *c);
int nb_s3_op_get_pab(nb_call *c);
int nb_s3_op_delete_pab(nb_call *c);
int nb_s3_op_put_bucket_cors(nb_call *c);
int nb_s3_op_get_bucket_cors(nb_call *c);
int nb_s3_op_delete_bucket_cors(nb_call *c);
int nb_s3_op_put_bucket_website(nb_call *c);
int nb_s3_op_get_bucket_website(nb_call *c);
int nb_s3_op_delete_bucket_website(nb_call *c);
int nb_s3_op_put_notification(nb_call *c);
int nb_s3_op_get_notification(nb_call *c);

/* Authorize the copy source of CopyObject/UploadPartCopy (another bucket than the one the
 * dispatcher authorized): s3:GetObject on it through its policy and ACLs. */
int nb_s3_authorize_source(nb_call *c, const char *bucket);
/* Whether the caller may do `action` on an object of `bucket` (its policy, cross-account
 * view included, and the caller's identity policies), as the dispatcher checks the request's
 * own resource: 0, or the refusal set on c (NoSuchBucket when the bucket is gone). */
int nb_s3_authorize_object(nb_call *c, const char *bucket, const char *key, size_t key_len,
                           const char *action);
/* The same for one version of the object (NULL = the current one): its ACL and owner. */
int nb_s3_authorize_version(nb_call *c, const char *bucket, const char *key, size_t key_len,
                            const char *version, const char *action);

/* ---- service hooks (policy.c, website.c) ---- */
const char *nb_s3_resource_policy(nb_call *c, const char **owner);
const char *nb_s3_authz_action(nb_call *c, const char *action);
int nb_s3_authz_context(nb_call *c, json_t *ctx);
bool nb_s3_raw_request(nb_req *r, const char *path, size_t path_len, bool website_port);
/* /_nimbus/s3/...: the account-level public access block here (pab.c), everything else to the
 * storage/lifecycle admin (nb_s3_admin) when it is linked in. */
void nb_s3_admin_route(nb_req *r);

#endif
