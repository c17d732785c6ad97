/* acl.c: S3 access control lists and Object Ownership: canned ACLs and x-amz-grant-* headers on
 * CreateBucket/PutObject/CopyObject, Put/GetBucketAcl, Put/GetObjectAcl, grantees by canonical
 * id, e-mail (the account's) and group; Put/Get/DeleteBucketOwnershipControls.
 *
 * ACLs take part in authorization as resource-policy statements: each grant becomes an Allow
 * for its grantee (CanonicalUser, "*" for AllUsers, any signed caller for AuthenticatedUsers)
 * of the actions AWS maps the permission to, merged with the bucket policy by policy.c; so
 * explicit denies of the policy still win, and cross-account callers need the grant (and,
 * for IAM users, their own identity policy) as AWS requires. Under BucketOwnerEnforced (the
 * default) ACLs are ignored and only the default ACL may be set. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "iam/accounts.h"
#include "iam/creds.h"
#include "svc/s3/access.h"
#include "svc/s3/events.h"

#define ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"
#define AUTH_USERS "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define LOG_DELIVERY "http://acs.amazonaws.com/groups/s3/LogDelivery"

/* ---------------------------------------------------------------- grants */

static json_t *grant_canon(const char *account, const char *perm)
{
    char id[65];
    nb_s3_canonical_id(account, id);
    if (!strcmp(account, NB_S3_ANON_OWNER))
        return json_pack("{s:{s:s,s:s},s:s}", "Grantee", "Type", "CanonicalUser", "ID", id,
                         "Permission", perm);
    return json_pack("{s:{s:s,s:s,s:s},s:s}", "Grantee", "Type", "CanonicalUser", "ID", id,
                     "DisplayName", account, "Permission", perm);
}

static json_t *grant_group(const char *uri, const char *perm)
{
    return json_pack("{s:{s:s,s:s},s:s}", "Grantee", "Type", "Group", "URI", uri, "Permission", perm);
}

static bool is_public_grant(json_t *g)
{
    const char *uri = json_string_value(json_object_get(json_object_get(g, "Grantee"), "URI"));
    return uri && (!strcmp(uri, ALL_USERS) || !strcmp(uri, AUTH_USERS));
}

/* Canned ACL -> grants; NULL for an unknown name. bucket_owner: for bucket-owner-* on objects. */
static json_t *canned(const char *name, const char *owner, const char *bucket_owner, bool object)
{
    json_t *g = json_array();
    json_array_append_new(g, grant_canon(owner, "FULL_CONTROL"));
    if (!strcmp(name, "private") || !strcmp(name, "aws-exec-read")) return g;
    if (!strcmp(name, "public-read")) {
        json_array_append_new(g, grant_group(ALL_USERS, "READ"));
    } else if (!strcmp(name, "public-read-write")) {
        json_array_append_new(g, grant_group(ALL_USERS, "READ"));
        json_array_append_new(g, grant_group(ALL_USERS, "WRITE"));
    } else if (!strcmp(name, "authenticated-read")) {
        json_array_append_new(g, grant_group(AUTH_USERS, "READ"));
    } else if (!strcmp(name, "log-delivery-write") && !object) {
        json_array_append_new(g, grant_group(LOG_DELIVERY, "WRITE"));
        json_array_append_new(g, grant_group(LOG_DELIVERY, "READ_ACP"));
    } else if (!strcmp(name, "bucket-owner-read") || !strcmp(name, "bucket-owner-full-control")) {
        if (object && bucket_owner && strcmp(bucket_owner, owner) != 0)
            json_array_append_new(g, grant_canon(bucket_owner, name[13] == 'r' ? "READ" : "FULL_CONTROL"));
    } else {
        json_decref(g);
        return NULL;
    }
    return g;
}

/* The account whose canonical id or e-mail is given; NULL if none. Worker threads. */
static const char *account_by(nb_call *c, const char *field, const char *value)
{
    int status = 0;
    char err[256];
    json_t *l = nb_accounts_list(&status, err);
    const char *found = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(l, "Accounts"), i, a)
    {
        const char *v = json_string_value(json_object_get(a, field));
        if (v && !strcasecmp(v, value)) {
            found = nb_arena_strdup(c->arena, json_string_value(json_object_get(a, "AccountId")));
            break;
        }
    }
    json_decref(l);
    /* Without the accounts table (IAM not started), canonical ids of the default account. */
    if (!found && !l && !strcmp(field, "CanonicalUserId")) {
        char id[65];
        nb_canonical_user_id("000000000000", id);
        if (!strcmp(id, value)) found = "000000000000";
    }
    return found;
}

static int invalid_arg(nb_call *c, const char *msg, const char *name, const char *value)
{
    return nb_s3_error(c, 400, "InvalidArgument", msg, "ArgumentName", name, "ArgumentValue", value,
                       NULL);
}

/* One grantee into a grant; -1 with c->err. */
static int add_grantee(nb_call *c, json_t *grants, const char *type, const char *value,
                       const char *perm)
{
    if (!strcasecmp(type, "id") || !strcmp(type, "CanonicalUser")) {
        const char *acct = account_by(c, "CanonicalUserId", value);
        if (!acct) return invalid_arg(c, "Invalid id", "CanonicalUser/ID", value);
        json_array_append_new(grants, grant_canon(acct, perm));
    } else if (!strcasecmp(type, "emailAddress") || !strcmp(type, "AmazonCustomerByEmail")) {
        const char *acct = account_by(c, "Email", value);
        if (!acct)
            return nb_s3_error(c, 400, "UnresolvableGrantByEmailAddress",
                               "The e-mail address you provided does not match any account on record.",
                               "EmailAddress", value, NULL);
        json_array_append_new(grants, grant_canon(acct, perm));
    } else if (!strcasecmp(type, "uri") || !strcmp(type, "Group")) {
        if (strcmp(value, ALL_USERS) && strcmp(value, AUTH_USERS) && strcmp(value, LOG_DELIVERY))
            return invalid_arg(c, "Invalid group uri", "uri", value);
        json_array_append_new(grants, grant_group(value, perm));
    } else {
        return invalid_arg(c, "Argument format not recognized", type, value);
    }
    return 0;
}

int nb_s3_acl_grantee(nb_call *c, json_t *grants, const char *type, const char *value,
                      const char *perm)
{
    return add_grantee(c, grants, type, value, perm);
}

/* x-amz-grant-read: id="...", emailAddress="...", uri="..." */
static int parse_grant_header(nb_call *c, json_t *grants, const char *h, const char *perm,
                              bool resolve)
{
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        const char *eq = strchr(p, '=');
        if (!eq) return invalid_arg(c, "Argument format not recognized", "x-amz-grant", h);
        char type[64];
        snprintf(type, sizeof type, "%.*s", (int)(eq - p), p);
        const char *v = eq + 1;
        size_t vn;
        if (*v == '"') {
            const char *end = strchr(v + 1, '"');
            if (!end) return invalid_arg(c, "Argument format not recognized", "x-amz-grant", h);
            v++;
            vn = (size_t)(end - v);
            p = end + 1;
        } else {
            const char *end = strchr(v, ',');
            vn = end ? (size_t)(end - v) : strlen(v);
            p = v + vn;
        }
        char *val = nb_arena_strndup(c->arena, v, vn);
        if (!val) return nb_s3_nomem(c);
        if (resolve) {
            if (add_grantee(c, grants, type, val, perm)) return -1;
        } else {
            /* precheck: only whether it is public */
            if (!strcasecmp(type, "uri")) json_array_append_new(grants, grant_group(val, perm));
            else json_array_append_new(grants, json_pack("{s:{s:s},s:s}", "Grantee", "Type", "CanonicalUser", "Permission", perm));
        }
    }
    return 0;
}

/* In the order the grants are then listed (x-amz-grant-read first, full-control last). */
static const char *const grant_members[][2] = {
    {"GrantRead", "READ"},         {"GrantWrite", "WRITE"},
    {"GrantReadACP", "READ_ACP"},  {"GrantWriteACP", "WRITE_ACP"},
    {"GrantFullControl", "FULL_CONTROL"},
};

static bool known_permission(const char *p)
{
    return !strcmp(p, "FULL_CONTROL") || !strcmp(p, "READ") || !strcmp(p, "WRITE") ||
           !strcmp(p, "READ_ACP") || !strcmp(p, "WRITE_ACP");
}

static int malformed_acl(nb_call *c)
{
    return nb_s3_error(c, 400, "MalformedACLError",
                       "The XML you provided was not well-formed or did not validate against our"
                       " published schema",
                       NULL);
}

/* The grants a request asks for, resolving grantees when resolve (worker threads). *none when
 * it names no ACL. NULL with c->err on a refusal. */
static json_t *request_grants(nb_call *c, const char *owner, const char *bucket_owner, bool object,
                              bool resolve, bool *none)
{
    *none = false;
    const char *acl = nb_in_str(c, "ACL");
    bool any_grant = false;
    for (size_t i = 0; i < NB_ARRAY_LEN(grant_members); i++)
        if (nb_in_str(c, grant_members[i][0])) any_grant = true;
    json_t *acp = c->input ? json_object_get(c->input, "AccessControlPolicy") : NULL;
    if (acl && any_grant) {
        nb_s3_error(c, 400, "InvalidRequest",
                    "Specifying both Canned ACLs and Header Grants is not allowed", NULL);
        return NULL;
    }
    if ((acl || any_grant) && acp && json_object_size(acp)) {
        nb_s3_error(c, 400, "UnexpectedContent", "This request does not support content", NULL);
        return NULL;
    }
    if (acl) {
        json_t *g = canned(acl, owner, bucket_owner, object);
        /* AWS: 400 InvalidArgument with an empty message, naming the header and value */
        if (!g)
            nb_s3_error(c, 400, "InvalidArgument", "", "ArgumentName", "x-amz-acl",
                        "ArgumentValue", acl, NULL);
        return g;
    }
    if (any_grant) {
        json_t *g = json_array();
        for (size_t i = 0; i < NB_ARRAY_LEN(grant_members); i++) {
            const char *h = nb_in_str(c, grant_members[i][0]);
            if (h && parse_grant_header(c, g, h, grant_members[i][1], resolve)) {
                json_decref(g);
                return NULL;
            }
        }
        return g;
    }
    if (acp && json_object_size(acp)) {
        /* AWS's schema requires the Owner (with its ID) in an AccessControlPolicy. */
        if (!json_string_value(json_object_get(json_object_get(acp, "Owner"), "ID"))) {
            malformed_acl(c);
            return NULL;
        }
        json_t *g = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(acp, "Grants"), i, x)
        {
            json_t *ge = json_object_get(x, "Grantee");
            const char *perm = json_string_value(json_object_get(x, "Permission"));
            const char *type = json_string_value(json_object_get(ge, "Type"));
            if (!perm || !type) {
                json_decref(g);
                malformed_acl(c);
                return NULL;
            }
            /* AWS checks the document against its schema: a Permission or grantee type outside
             * the enumerations is MalformedACLError, not a grant that silently does nothing */
            if (!known_permission(perm) ||
                (strcmp(type, "CanonicalUser") && strcmp(type, "AmazonCustomerByEmail") &&
                 strcmp(type, "Group"))) {
                json_decref(g);
                malformed_acl(c);
                return NULL;
            }
            const char *val = !strcmp(type, "CanonicalUser")           ? json_string_value(json_object_get(ge, "ID"))
                              : !strcmp(type, "AmazonCustomerByEmail") ? json_string_value(json_object_get(ge, "EmailAddress"))
                                                                        : json_string_value(json_object_get(ge, "URI"));
            if (!val) {
                json_decref(g);
                malformed_acl(c);
                return NULL;
            }
            if (!resolve) {
                json_array_append_new(g, !strcmp(type, "Group") ? grant_group(val, perm)
                                                                : json_pack("{s:{s:s},s:s}", "Grantee", "Type", "CanonicalUser", "Permission", perm));
            } else if (add_grantee(c, g, type, val, perm)) {
                json_decref(g);
                return NULL;
            }
        }
        return g;
    }
    if (acp) { /* a body that is an empty AccessControlPolicy: no Owner, no list */
        malformed_acl(c);
        return NULL;
    }
    *none = true;
    return NULL;
}

static int acl_not_supported(nb_call *c)
{
    return nb_s3_error(c, 400, "AccessControlListNotSupported", "The bucket does not allow ACLs", NULL);
}

int nb_s3_acl_precheck(nb_call *c, const nb_s3_bcfg *cfg)
{
    bool none;
    const char *acl = nb_in_str(c, "ACL");
    /* CreateBucket (no cfg yet) and PutBucketAcl set a bucket ACL (log-delivery-write is for
     * buckets only); the others an object's. */
    bool object = cfg && !(c->op_name && !strcmp(c->op_name, "PutBucketAcl"));
    /* Where ACLs apply, grantees are resolved now: an unknown one refuses the request before
     * anything is written (AWS writes no object whose ACL it cannot set). */
    const char *own = cfg ? NULL : nb_in_str(c, "ObjectOwnership");
    bool resolve = cfg ? cfg->ownership != NB_S3_OWN_ENFORCED
                       : own && strcmp(own, "BucketOwnerEnforced") != 0;
    json_t *g = request_grants(c, cfg ? cfg->owner : c->who.account, NULL, object, resolve, &none);
    if (!g) return none ? 0 : -1;
    bool pub = false;
    size_t i;
    json_t *x;
    json_array_foreach(g, i, x) if (is_public_grant(x)) pub = true;
    int rc = 0;
    /* CreateBucket: ACLs other than private need an ownership setting that allows them. */
    if (!cfg) {
        bool enforced = !own || !strcmp(own, "BucketOwnerEnforced");
        bool plain = acl ? !strcmp(acl, "private") : false;
        if (enforced && !plain)
            rc = nb_s3_error(c, 400, "InvalidBucketAclWithObjectOwnership",
                             "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
                             NULL);
        /* A new bucket starts with every public access block on: a public ACL (AllUsers or
         * AuthenticatedUsers) cannot be set in the same request. */
        else if (pub)
            rc = nb_s3_error(c, 400, "InvalidBucketAclWithBlockPublicAccessError",
                             "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
                             NULL);
        json_decref(g);
        return rc;
    }
    if (cfg->ownership == NB_S3_OWN_ENFORCED) {
        /* Only the ACLs that grant the bucket owner full control are accepted. */
        bool ok = acl ? (!strcmp(acl, "private") || !strcmp(acl, "bucket-owner-full-control")) : false;
        if (!ok && !acl) {
            /* header grants / body: exactly the owner's FULL_CONTROL (ids are not resolved here,
             * so any canonical grant other than the owner's id is refused) */
            char id[65];
            nb_canonical_user_id(cfg->owner, id);
            ok = json_array_size(g) > 0; /* no grant at all is no "owner full control" either */
            json_array_foreach(g, i, x)
            {
                const char *perm = json_string_value(json_object_get(x, "Permission"));
                if (is_public_grant(x) || !perm || strcmp(perm, "FULL_CONTROL")) ok = false;
            }
            const char *fc = nb_in_str(c, "GrantFullControl");
            if (fc && !strstr(fc, id)) ok = false;
            json_t *acp = json_object_get(c->input, "AccessControlPolicy");
            json_array_foreach(json_object_get(acp, "Grants"), i, x)
            {
                const char *gid = json_string_value(json_object_get(json_object_get(x, "Grantee"), "ID"));
                if (!gid || strcmp(gid, id)) ok = false;
            }
        }
        if (!ok) rc = acl_not_supported(c);
    } else if (pub && nb_s3_pab_effective(cfg).block_acls) {
        rc = nb_s3_error(c, 403, "AccessDenied", "Access Denied", NULL);
    }
    json_decref(g);
    return rc;
}

/* ---------------------------------------------------------------- ACL -> statements */

static const char *const bucket_read[] = {"s3:ListBucket", "s3:ListBucketVersions",
                                          "s3:ListBucketMultipartUploads", NULL};
static const char *const bucket_write[] = {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion",
                                           "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", NULL};
static const char *const bucket_read_acp[] = {"s3:GetBucketAcl", NULL};
static const char *const bucket_write_acp[] = {"s3:PutBucketAcl", NULL};
static const char *const object_read[] = {"s3:GetObject", "s3:GetObjectVersion", NULL};
static const char *const object_read_acp[] = {"s3:GetObjectAcl", "s3:GetObjectVersionAcl", NULL};
static const char *const object_write_acp[] = {"s3:PutObjectAcl", "s3:PutObjectVersionAcl", NULL};

static void add_actions(json_t *arr, const char *const *list)
{
    for (; *list; list++) json_array_append_new(arr, json_string(*list));
}

json_t *nb_s3_acl_statements(json_t *acl, const char *bucket, bool object, bool ignore_public,
                             bool *any_public)
{
    *any_public = false;
    json_t *out = json_array();
    const char *barn = NULL;
    char b[128], objs[140];
    snprintf(b, sizeof b, "arn:aws:s3:::%s", bucket);
    snprintf(objs, sizeof objs, "arn:aws:s3:::%s/*", bucket);
    barn = b;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(acl, "Grants"), i, g)
    {
        json_t *ge = json_object_get(g, "Grantee");
        const char *perm = json_string_value(json_object_get(g, "Permission"));
        const char *type = json_string_value(json_object_get(ge, "Type"));
        if (!perm || !type) continue;
        json_t *principal = NULL, *cond = NULL;
        if (!strcmp(type, "CanonicalUser")) {
            const char *id = json_string_value(json_object_get(ge, "ID"));
            if (!id) continue;
            if (!strcmp(id, NB_S3_ANON_CANONICAL)) {
                /* the anonymous user (the owner of what it wrote): unsigned callers only */
                principal = json_string("*");
                cond = json_pack("{s:{s:s}}", "Null", "aws:PrincipalArn", "true");
            } else {
                principal = json_pack("{s:s}", "CanonicalUser", id);
            }
        } else {
            const char *uri = json_string_value(json_object_get(ge, "URI"));
            if (!uri) continue;
            if (!strcmp(uri, ALL_USERS)) {
                principal = json_string("*");
            } else if (!strcmp(uri, AUTH_USERS)) {
                /* any signed caller: an anonymous request has no principal ARN */
                principal = json_string("*");
                cond = json_pack("{s:{s:s}}", "StringLike", "aws:PrincipalArn", "arn:*");
            } else {
                continue; /* LogDelivery: no delivery service here */
            }
            *any_public = true;
            if (ignore_public) {
                json_decref(principal);
                json_decref(cond);
                continue;
            }
        }
        bool full = !strcmp(perm, "FULL_CONTROL");
        json_t *acts = json_array();
        json_t *res = json_array();
        if (object) {
            if (full || !strcmp(perm, "READ")) add_actions(acts, object_read);
            if (full || !strcmp(perm, "READ_ACP")) add_actions(acts, object_read_acp);
            if (full || !strcmp(perm, "WRITE_ACP")) add_actions(acts, object_write_acp);
            json_array_append_new(res, json_string(objs));
        } else {
            if (full || !strcmp(perm, "READ")) add_actions(acts, bucket_read);
            if (full || !strcmp(perm, "WRITE")) add_actions(acts, bucket_write);
            if (full || !strcmp(perm, "READ_ACP")) add_actions(acts, bucket_read_acp);
            if (full || !strcmp(perm, "WRITE_ACP")) add_actions(acts, bucket_write_acp);
            json_array_append_new(res, json_string(barn));
            json_array_append_new(res, json_string(objs)); /* WRITE acts on the objects */
        }
        if (!json_array_size(acts)) {
            json_decref(acts);
            json_decref(res);
            json_decref(principal);
            json_decref(cond);
            continue;
        }
        /* no Sid: Sids must be unique within the merged document */
        json_t *st = json_pack("{s:s,s:o,s:o,s:o}", "Effect", "Allow", "Principal", principal,
                               "Action", acts, "Resource", res);
        if (cond) json_object_set_new(st, "Condition", cond);
        json_array_append_new(out, st);
    }
    return out;
}

/* ---------------------------------------------------------------- object ACL rows */

typedef struct oacl {
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *version; /* NULL = latest */
    int64_t id;
    const char *acl; /* in/out */
    nb_arena *a;
    const char *owner;
    bool found;
    bool delete_marker;
    char vid[40]; /* the version's id (the ObjectAcl:Put event names it) */
} oacl;

static int oacl_read(sqlite3 *h, void *arg)
{
    oacl *o = arg;
    sqlite3_stmt *st = nb_db_stmt(
        h, o->version ? "SELECT o.id, o.owner, a.acl, o.delete_marker, o.version_id FROM objects o LEFT JOIN object_acls a ON "
                        "a.object_id = o.id WHERE o.bucket=? AND o.key=? AND o.version_id=?"
                      : "SELECT o.id, o.owner, a.acl, o.delete_marker, o.version_id FROM objects o LEFT JOIN object_acls a ON "
                        "a.object_id = o.id WHERE o.bucket=? AND o.key=? AND o.is_latest=1");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, o->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, o->key, (int)o->key_len, SQLITE_STATIC);
    if (o->version) sqlite3_bind_text(st, 3, o->version, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        o->found = true;
        o->id = sqlite3_column_int64(st, 0);
        o->owner = nb_arena_strdup(o->a, (const char *)sqlite3_column_text(st, 1));
        const char *acl = (const char *)sqlite3_column_text(st, 2);
        o->acl = acl ? nb_arena_strdup(o->a, acl) : NULL;
        o->delete_marker = sqlite3_column_int(st, 3) != 0;
        const char *vid = (const char *)sqlite3_column_text(st, 4);
        snprintf(o->vid, sizeof o->vid, "%s", vid ? vid : "null");
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    return rc;
}

static int oacl_write(sqlite3 *h, void *arg)
{
    oacl *o = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "INSERT OR REPLACE INTO object_acls(object_id, acl) VALUES(?,?)");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, o->id);
    sqlite3_bind_text(st, 2, o->acl, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The ACL document of an object: stored, or the default (owner FULL_CONTROL). */
static json_t *object_acl_doc(const oacl *o)
{
    json_t *d = o->acl ? json_loads(o->acl, 0, NULL) : NULL;
    if (d) return d;
    json_t *g = json_array();
    json_array_append_new(g, grant_canon(o->owner ? o->owner : "", "FULL_CONTROL"));
    return json_pack("{s:s,s:o}", "Owner", o->owner ? o->owner : "", "Grants", g);
}

json_t *nb_s3_object_acl_statements(nb_call *c, const nb_s3_bcfg *cfg, bool *missing,
                                    const char **obj_owner)
{
    size_t kn = 0;
    const char *key = nb_s3_in_key(c, &kn);
    *missing = false;
    *obj_owner = NULL;
    if (!key) return NULL;
    return nb_s3_object_acl_statements_of(c, cfg, key, kn, nb_in_str(c, "VersionId"), missing,
                                          obj_owner);
}

json_t *nb_s3_object_acl_statements_of(nb_call *c, const nb_s3_bcfg *cfg, const char *key,
                                       size_t kn, const char *v, bool *missing,
                                       const char **obj_owner)
{
    *missing = false;
    *obj_owner = NULL;
    oacl o = {.bucket = cfg->bucket, .key = key, .key_len = kn, .a = c->arena};
    o.version = v;
    if (nb_db_read(nb_s3_store_db(nb_s3_g), oacl_read, &o) != SQLITE_OK) return NULL;
    if (!o.found) {
        *missing = true;
        return NULL;
    }
    if (!o.delete_marker && o.owner && *o.owner) *obj_owner = o.owner;
    if (!o.acl && o.owner && !strcmp(o.owner, cfg->owner)) return NULL; /* the default */
    json_t *doc = object_acl_doc(&o);
    bool any;
    json_t *st = nb_s3_acl_statements(doc, cfg->bucket, true, nb_s3_pab_effective(cfg).ignore_acls, &any);
    json_decref(doc);
    return st;
}

const char *nb_s3_object_owner(nb_call *c, const nb_s3_bucket *b)
{
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(b->name);
    int own = cfg ? cfg->ownership : NB_S3_OWN_ENFORCED;
    nb_s3_bcfg_put(cfg);
    const char *acl = nb_in_str(c, "ACL");
    if (own == NB_S3_OWN_WRITER ||
        (own == NB_S3_OWN_PREFERRED && !(acl && !strcmp(acl, "bucket-owner-full-control")))) {
        /* AWS: what an anonymous caller writes there is the anonymous user's (the bucket
         * owner needs a grant of it to read it) */
        if (c->who.type == NB_PRINCIPAL_ANONYMOUS || !c->who.account[0]) return NB_S3_ANON_OWNER;
        return nb_arena_strdup(c->arena, c->who.account);
    }
    return b->account;
}

/* The ACL document a write request asks for (canned ACL or grant headers), dumped; NULL with
 * *none when it asks for none or the bucket enforces ownership, NULL with c->err when a
 * grantee cannot be resolved. */
static char *requested_object_acl(nb_call *c, const char *bucket, const char *owner, bool *none)
{
    *none = true;
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(bucket);
    if (!cfg) return NULL;
    int own = cfg->ownership;
    char bowner[16];
    snprintf(bowner, sizeof bowner, "%s", cfg->owner);
    nb_s3_bcfg_put(cfg);
    if (own == NB_S3_OWN_ENFORCED) return NULL;
    json_t *g = request_grants(c, owner, bowner, true, true, none);
    if (!g) return NULL;
    json_t *doc = json_pack("{s:s,s:o}", "Owner", owner, "Grants", g);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

static void store_object_acl(int64_t id, const char *acl)
{
    oacl o = {.id = id, .acl = acl};
    int rc = nb_db_write(nb_s3_store_db(nb_s3_g), oacl_write, &o);
    if (rc != SQLITE_OK) nb_warn("s3: cannot store the ACL of an object (%d)", rc);
}

int nb_s3_object_written(nb_call *c, const char *bucket, const nb_s3_object *ob)
{
    bool none;
    char *s = requested_object_acl(c, bucket, ob->owner, &none);
    if (!s) {
        /* the object is written; a grantee that cannot be resolved leaves the default ACL */
        if (!none) {
            nb_warn("s3: ACL of %s/%.*s not applied: %s", bucket, (int)ob->key_len, ob->key, c->err.message);
            nb_aws_error_clear(&c->err);
            memset(&c->err, 0, sizeof c->err);
        }
        return 0;
    }
    store_object_acl(ob->id, s);
    free(s);
    return 0;
}

int nb_s3_upload_acl(nb_call *c, const char *bucket, const char *owner, char **out)
{
    bool none;
    char *s = requested_object_acl(c, bucket, owner, &none);
    *out = s ? nb_arena_strdup(c->arena, s) : NULL;
    free(s);
    return s || none ? 0 : -1;
}

void nb_s3_upload_acl_apply(const nb_s3_object *ob, const char *acl)
{
    if (acl) store_object_acl(ob->id, acl);
}

int nb_s3_bucket_created(nb_call *c, const char *bucket)
{
    const char *own = nb_in_str(c, "ObjectOwnership");
    if (own && strcmp(own, "BucketOwnerEnforced") != 0) nb_s3_cfg_set(bucket, "ownership", own);
    bool none;
    json_t *g = request_grants(c, c->who.account, NULL, false, true, &none);
    if (g) {
        json_t *doc = json_pack("{s:s,s:o}", "Owner", c->who.account, "Grants", g);
        nb_s3_cfg_store(c, bucket, "acl", doc);
        json_decref(doc);
    }
    nb_s3_bcfg_invalidate();
    if (c->err.code[0]) {
        nb_warn("s3: ACL of new bucket %s not applied: %s", bucket, c->err.message);
        memset(&c->err, 0, sizeof c->err);
    }
    return 0;
}

/* ---------------------------------------------------------------- handlers */

static json_t *acl_output(json_t *doc, const char *owner)
{
    json_t *grants = json_object_get(doc, "Grants");
    json_t *out = json_object();
    json_object_set_new(out, "Owner", nb_s3_owner_json(owner));
    if (grants) {
        json_object_set(out, "Grants", grants);
    } else {
        json_t *g = json_array();
        json_array_append_new(g, grant_canon(owner, "FULL_CONTROL"));
        json_object_set_new(out, "Grants", g);
    }
    return out;
}

int nb_s3_op_get_bucket_acl(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *d = NULL;
    if (nb_s3_cfg_load(c, b.name, "acl", &d)) return -1;
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(b.name);
    bool enforced = !cfg || cfg->ownership == NB_S3_OWN_ENFORCED;
    nb_s3_bcfg_put(cfg);
    if (enforced) {
        json_decref(d);
        d = NULL; /* ACLs disabled: the bucket owner has full control, nobody else */
    }
    c->output = acl_output(d, b.account);
    json_decref(d);
    return 0;
}

static int need_grants(nb_call *c, json_t *g, bool none)
{
    if (g) return 0;
    if (none)
        return nb_s3_error(c, 400, "MissingSecurityHeader", "Your request was missing a required header",
                           "MissingHeaderName", "x-amz-acl", NULL);
    return -1;
}

int nb_s3_op_put_bucket_acl(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    bool none;
    json_t *g = request_grants(c, b.account, NULL, false, true, &none);
    if (need_grants(c, g, none)) return -1;
    json_t *doc = json_pack("{s:s,s:o}", "Owner", b.account, "Grants", g);
    int rc = nb_s3_cfg_store(c, b.name, "acl", doc);
    json_decref(doc);
    return rc;
}

static int object_for_acl(nb_call *c, oacl *o)
{
    const char *key, *v = NULL;
    size_t kn;
    if (nb_s3_in_key_version(c, &key, &kn, &v)) return -1;
    if (!v && nb_in_str(c, "VersionId")) v = "null";
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    memset(o, 0, sizeof *o);
    o->bucket = b.name[0] ? nb_arena_strdup(c->arena, b.name) : "";
    o->key = key;
    o->key_len = kn;
    o->version = v;
    o->a = c->arena;
    if (nb_db_read(nb_s3_store_db(nb_s3_g), oacl_read, o) != SQLITE_OK)
        return nb_s3_internal(c, "cannot read object ACL");
    if (!o->found) return nb_s3_store_error(c, v ? NB_S3_NO_VERSION : NB_S3_NO_KEY, b.name, key);
    if (o->delete_marker) {
        /* a delete marker has no ACL: AWS answers as GetObject does */
        nb_s3_add_header(c, "x-amz-delete-marker", "true");
        if (v)
            return nb_s3_error(c, 405, "MethodNotAllowed",
                               "The specified method is not allowed against this resource.",
                               "ResourceType", "DeleteMarker", NULL);
        return nb_s3_store_error(c, NB_S3_NO_KEY, b.name, key);
    }
    return 0;
}

int nb_s3_op_get_object_acl(nb_call *c)
{
    oacl o;
    if (object_for_acl(c, &o)) return -1;
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(o.bucket);
    bool enforced = !cfg || cfg->ownership == NB_S3_OWN_ENFORCED;
    nb_s3_bcfg_put(cfg);
    json_t *d = enforced ? NULL : object_acl_doc(&o);
    c->output = acl_output(d, o.owner);
    json_decref(d);
    return 0;
}

int nb_s3_op_put_object_acl(nb_call *c)
{
    oacl o;
    if (object_for_acl(c, &o)) return -1;
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(o.bucket);
    char bowner[16] = "";
    if (cfg) snprintf(bowner, sizeof bowner, "%s", cfg->owner);
    nb_s3_bcfg_put(cfg);
    bool none;
    json_t *g = request_grants(c, o.owner, bowner, true, true, &none);
    if (need_grants(c, g, none)) return -1;
    json_t *doc = json_pack("{s:s,s:o}", "Owner", o.owner, "Grants", g);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!s) return nb_s3_nomem(c);
    o.acl = s;
    int rc = nb_db_write(nb_s3_store_db(nb_s3_g), oacl_write, &o);
    free(s);
    if (rc != SQLITE_OK) return nb_s3_internal(c, "cannot store object ACL");
    nb_s3_event_call(c, "s3:ObjectAcl:Put", o.bucket, o.key, o.key_len, o.vid, -1, NULL);
    return 0;
}

/* ---------------------------------------------------------------- ownership controls */

int nb_s3_op_put_ownership(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *rules = json_object_get(json_object_get(c->input, "OwnershipControls"), "Rules");
    if (json_array_size(rules) != 1) return nb_s3_malformed_xml(c);
    const char *v = json_string_value(json_object_get(json_array_get(rules, 0), "ObjectOwnership"));
    if (!v || (strcmp(v, "BucketOwnerEnforced") && strcmp(v, "BucketOwnerPreferred") && strcmp(v, "ObjectWriter")))
        return nb_s3_malformed_xml(c);
    /* AWS refuses to disable ACLs while the bucket ACL grants anyone but the owner: the
     * grants would silently stop applying. */
    if (!strcmp(v, "BucketOwnerEnforced")) {
        json_t *d = NULL;
        if (nb_s3_cfg_load(c, b.name, "acl", &d)) return -1;
        char owner_id[65];
        nb_s3_canonical_id(b.account, owner_id);
        size_t i;
        json_t *g;
        bool other = false;
        json_array_foreach(json_object_get(d, "Grants"), i, g)
        {
            const char *id = json_string_value(json_object_get(json_object_get(g, "Grantee"), "ID"));
            const char *perm = json_string_value(json_object_get(g, "Permission"));
            if (!id || strcmp(id, owner_id) || !perm || strcmp(perm, "FULL_CONTROL")) other = true;
        }
        json_decref(d);
        if (other)
            return nb_s3_error(c, 400, "InvalidBucketAclWithObjectOwnership",
                               "Bucket cannot have ACLs set with ObjectOwnership's"
                               " BucketOwnerEnforced setting",
                               NULL);
    }
    int rc = nb_s3_cfg_set(b.name, "ownership", v);
    return rc ? nb_s3_store_error(c, rc, b.name, NULL) : 0;
}

int nb_s3_op_get_ownership(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    const char *v = NULL;
    if (nb_s3_cfg_get(b.name, "ownership", c->arena, &v)) return nb_s3_internal(c, "cannot read ownership");
    if (!v) v = "BucketOwnerEnforced"; /* the default of new buckets, stored as no row */
    if (!strcmp(v, "none"))
        return nb_s3_error(c, 404, "OwnershipControlsNotFoundError",
                           "The bucket ownership controls were not found", "BucketName", b.name, NULL);
    c->output = json_pack("{s:{s:[{s:s}]}}", "OwnershipControls", "Rules", "ObjectOwnership", v);
    return 0;
}

int nb_s3_op_delete_ownership(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    /* Without controls, ACLs work as before Object Ownership existed (ObjectWriter). */
    int rc = nb_s3_cfg_set(b.name, "ownership", "none");
    if (rc) return nb_s3_store_error(c, rc, b.name, NULL);
    c->out_status = 204;
    return 0;
}
