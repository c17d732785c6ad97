/* bucket.c: bucket operations: create (name rules, location constraints, ownership races),
 * head, list, delete, location, versioning and tagging. */
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "svc/s3/access.h"
#include "svc/s3/handlers.h"

/* ListBuckets, with the paging AWS added in 2024 (max-buckets, continuation-token, prefix,
 * bucket-region): without max-buckets every bucket comes in one page, as before. The token is
 * the base64 of the last name returned (buckets are listed by name); AWS's is opaque too. */
int nb_s3_op_list_buckets(nb_call *c)
{
    json_int_t max = nb_in_int(c, "MaxBuckets", 0);
    if (json_object_get(c->input, "MaxBuckets") && (max < 1 || max > 10000))
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Argument max-buckets must be an integer between 1 and 10000",
                           "ArgumentName", "max-buckets", NULL);
    const char *prefix = nb_in_str(c, "Prefix"), *region = nb_in_str(c, "BucketRegion");
    const char *token = nb_in_str(c, "ContinuationToken");
    char *after = NULL;
    if (token) {
        size_t tn = strlen(token);
        after = nb_arena_alloc(c->arena, tn + 4);
        ssize_t an = after ? nb_base64_decode(token, tn, (unsigned char *)after) : -1;
        if (an <= 0 || memchr(after, 0, (size_t)an))
            return nb_s3_error(c, 400, "InvalidArgument", "The continuation token provided is"
                               " incorrect", "ArgumentName", "continuation-token", NULL);
        after[an] = 0;
    }
    nb_s3_bucket *list;
    size_t n;
    int rc = nb_s3_bucket_list(nb_s3_g, c->who.account, c->arena, &list, &n);
    if (rc) return nb_s3_store_error(c, rc, NULL, NULL);
    json_t *out = json_object(), *arr = json_array();
    const char *last = NULL;
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        if (after && strcmp(list[i].name, after) <= 0) continue;
        if (prefix && strncmp(list[i].name, prefix, strlen(prefix)) != 0) continue;
        if (region && strcmp(list[i].region, region) != 0) continue;
        if (max && json_array_size(arr) == (size_t)max) {
            more = true;
            break;
        }
        json_array_append_new(arr, json_pack("{s:s,s:f,s:s}", "Name", list[i].name, "CreationDate",
                                             list[i].created, "BucketRegion", list[i].region));
        last = list[i].name;
    }
    json_object_set_new(out, "Buckets", arr);
    json_object_set_new(out, "Owner", nb_s3_owner_json(c->who.account));
    if (more && last) {
        size_t ln = strlen(last);
        char *t = nb_arena_alloc(c->arena, nb_base64_encoded_len(ln) + 1);
        if (!t) {
            json_decref(out);
            return nb_s3_nomem(c);
        }
        nb_base64_encode((const unsigned char *)last, ln, t);
        json_object_set_new(out, "ContinuationToken", json_string(t));
    }
    if (prefix) json_object_set_new(out, "Prefix", json_string(prefix));
    c->output = out;
    return 0;
}

/* The regions (and the legacy "EU") S3 knows as location constraints: any other name is
 * InvalidLocationConstraint wherever the request is sent. */
static bool known_region(const char *r)
{
    static const char *const regions[] = {
        "EU",             "af-south-1",     "ap-east-1",      "ap-east-2",      "ap-northeast-1",
        "ap-northeast-2", "ap-northeast-3", "ap-south-1",     "ap-south-2",     "ap-southeast-1",
        "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
        "ap-southeast-7", "ca-central-1",   "ca-west-1",      "cn-north-1",     "cn-northwest-1",
        "eu-central-1",   "eu-central-2",   "eu-north-1",     "eu-south-1",     "eu-south-2",
        "eu-west-1",      "eu-west-2",      "eu-west-3",      "il-central-1",   "me-central-1",
        "me-south-1",     "mx-central-1",   "sa-east-1",      "us-east-1",      "us-east-2",
        "us-gov-east-1",  "us-gov-west-1",  "us-west-1",      "us-west-2",
    };
    for (size_t i = 0; i < NB_ARRAY_LEN(regions); i++)
        if (!strcmp(r, regions[i])) return true;
    return !strcmp(r, nb_s3_region); /* a server started as another region knows its own */
}

int nb_s3_op_create_bucket(nb_call *c)
{
    const char *name = nb_in_str(c, "Bucket");
    if (!name || !nb_s3_bucket_name_valid(name))
        return nb_s3_error(c, 400, "InvalidBucketName", "The specified bucket is not valid.",
                           "BucketName", name, NULL);
    if (c->who.type == NB_PRINCIPAL_ANONYMOUS || !c->who.account[0])
        return nb_s3_error(c, 403, "AccessDenied", "Access Denied", NULL);
    json_t *cfg = json_object_get(c->input, "CreateBucketConfiguration");
    const char *loc = json_string_value(json_object_get(cfg, "LocationConstraint"));
    if (loc && !*loc) loc = NULL;
    if (loc && !known_region(loc))
        return nb_s3_error(c, 400, "InvalidLocationConstraint",
                           "The specified location-constraint is not valid", "LocationConstraint",
                           loc, NULL);
    const char *own = nb_in_str(c, "ObjectOwnership");
    if (own && strcmp(own, "BucketOwnerEnforced") && strcmp(own, "BucketOwnerPreferred") &&
        strcmp(own, "ObjectWriter"))
        return nb_s3_error(c, 400, "InvalidArgument",
                           nb_arena_printf(c->arena, "Invalid x-amz-object-ownership header: %s", own),
                           "ArgumentName", "x-amz-object-ownership", NULL);
    /* AWS: us-east-1 takes no constraint (naming it is InvalidLocationConstraint); any other
     * region requires its own name (a mismatch, or none, is IllegalLocationConstraint). */
    if (strcmp(nb_s3_region, "us-east-1") == 0) {
        if (loc && strcmp(loc, "us-east-1") == 0)
            return nb_s3_error(c, 400, "InvalidLocationConstraint",
                               "The specified location-constraint is not valid",
                               "LocationConstraint", loc, NULL);
        if (loc && strcmp(loc, nb_s3_region) != 0) { /* "EU" too: it is eu-west-1 */
            char msg[256];
            snprintf(msg, sizeof msg,
                     "The %s location constraint is incompatible for the region specific"
                     " endpoint this request was sent to.",
                     loc);
            return nb_s3_error(c, 400, "IllegalLocationConstraintException", msg, NULL);
        }
    } else if (!loc || (strcmp(loc, nb_s3_region) != 0 &&
                        !(!strcmp(loc, "EU") && !strcmp(nb_s3_region, "eu-west-1")))) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "The %s location constraint is incompatible for the region specific endpoint"
                 " this request was sent to.",
                 loc ? loc : "unspecified");
        return nb_s3_error(c, 400, "IllegalLocationConstraintException", msg, NULL);
    }
    nb_s3_bucket b;
    memset(&b, 0, sizeof b);
    snprintf(b.name, sizeof b.name, "%s", name);
    snprintf(b.account, sizeof b.account, "%s", c->who.account);
    snprintf(b.region, sizeof b.region, "%.31s", nb_s3_region);
    b.created = (double)nb_clock_now();
    b.object_lock = nb_in_bool(c, "ObjectLockEnabledForBucket", false);
    int rc = nb_s3_bucket_create(nb_s3_g, &b);
    /* AWS quirk: in us-east-1, re-creating your own bucket succeeds (legacy behaviour), and
     * resets the bucket ACL (to the one the request names, if any: nb_s3_bucket_created). */
    if (rc == NB_S3_OWNED && strcmp(nb_s3_region, "us-east-1") == 0) {
        rc = nb_s3_cfg_set(name, "acl", NULL);
        if (!rc) nb_s3_bcfg_invalidate();
    }
    if (rc) return nb_s3_store_error(c, rc, name, NULL);
    nb_s3_bucket_created(c, name); /* x-amz-object-ownership, ACL headers (acl.c) */
    c->output = json_pack("{s:s}", "Location", nb_arena_printf(c->arena, "/%s", name));
    return 0;
}

int nb_s3_op_head_bucket(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, nb_in_str(c, "Bucket"), &b)) return -1;
    /* the region header comes from the access hook (policy.c), for refused callers too */
    nb_s3_add_header(c, "x-amz-access-point-alias", "false");
    return 0;
}

int nb_s3_op_delete_bucket(nb_call *c)
{
    const char *name = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, name, &b)) return -1;
    int rc = nb_s3_bucket_delete(nb_s3_g, name);
    /* Again after the delete: a request between the hook's invalidation and the delete may
     * have cached the bucket, and would keep answering for it (403 instead of NoSuchBucket). */
    nb_s3_bcfg_invalidate();
    /* AWS says more when versions (or delete markers) are what is left */
    if (rc == NB_S3_NOT_EMPTY && b.versioning != NB_S3_VERSIONING_OFF)
        return nb_s3_error(c, 409, "BucketNotEmpty",
                           "The bucket you tried to delete is not empty. You must delete all"
                           " versions in the bucket.",
                           "BucketName", name, NULL);
    return rc ? nb_s3_store_error(c, rc, name, NULL) : 0;
}

int nb_s3_op_get_bucket_location(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, nb_in_str(c, "Bucket"), &b)) return -1;
    /* AWS: buckets in us-east-1 report an empty LocationConstraint. */
    c->output = strcmp(b.region, "us-east-1") == 0
                    ? json_object()
                    : json_pack("{s:s}", "LocationConstraint", b.region);
    return 0;
}

int nb_s3_op_get_bucket_versioning(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, nb_in_str(c, "Bucket"), &b)) return -1;
    json_t *out = json_object();
    if (b.versioning == NB_S3_VERSIONING_ENABLED)
        json_object_set_new(out, "Status", json_string("Enabled"));
    else if (b.versioning == NB_S3_VERSIONING_SUSPENDED)
        json_object_set_new(out, "Status", json_string("Suspended"));
    c->output = out;
    return 0;
}

static int malformed(nb_call *c)
{
    return nb_s3_error(c, 400, "MalformedXML",
                       "The XML you provided was not well-formed or did not validate against our"
                       " published schema",
                       NULL);
}

int nb_s3_op_put_bucket_versioning(nb_call *c)
{
    const char *name = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, name, &b)) return -1;
    json_t *cfg = json_object_get(c->input, "VersioningConfiguration");
    const char *status = json_string_value(json_object_get(cfg, "Status"));
    int state;
    if (!status) /* AWS: a VersioningConfiguration without Status */
        return nb_s3_error(c, 400, "IllegalVersioningConfigurationException",
                           "The Versioning element must be specified", NULL);
    if (strcmp(status, "Enabled") == 0)
        state = NB_S3_VERSIONING_ENABLED;
    else if (strcmp(status, "Suspended") == 0)
        state = NB_S3_VERSIONING_SUSPENDED;
    else
        return malformed(c);
    const char *mfa = json_string_value(json_object_get(cfg, "MFADelete"));
    if (mfa && strcmp(mfa, "Disabled") != 0) {
        if (strcmp(mfa, "Enabled") != 0) return malformed(c);
        /* no MFA devices for S3 here: accepting it would promise a protection nobody enforces */
        return nb_s3_error(c, 501, "NotImplemented", "MFA delete is not implemented", NULL);
    }
    if (b.object_lock && state == NB_S3_VERSIONING_SUSPENDED)
        return nb_s3_error(c, 409, "InvalidBucketState",
                           "An Object Lock configuration is present on this bucket, so the"
                           " versioning state cannot be changed.",
                           NULL);
    /* A bucket never versioned stays unversioned when "suspended" (AWS shows Suspended, and
     * writes go to the null version either way). */
    int rc = nb_s3_bucket_set_versioning(nb_s3_g, name, state);
    return rc ? nb_s3_store_error(c, rc, name, NULL) : 0;
}

int nb_s3_op_get_bucket_tagging(nb_call *c)
{
    const char *name = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, name, &b)) return -1;
    json_t *set = b.tags ? json_loads(b.tags, 0, NULL) : NULL;
    if (!set)
        return nb_s3_error(c, 404, "NoSuchTagSet", "The TagSet does not exist", "BucketName", name,
                           NULL);
    c->output = json_pack("{s:o}", "TagSet", set);
    return 0;
}

int nb_s3_op_put_bucket_tagging(nb_call *c)
{
    const char *name = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, name, &b)) return -1;
    json_t *tagging = json_object_get(c->input, "Tagging");
    json_t *set = json_object_get(tagging, "TagSet");
    if (!json_is_array(set)) return malformed(c);
    const char *tags;
    if (nb_s3_tags_from_input(c, set, false, &tags)) return -1;
    /* an empty TagSet leaves the bucket without tags: GetBucketTagging then answers
     * NoSuchTagSet, as AWS does */
    int rc = nb_s3_bucket_set_tags(nb_s3_g, name, json_array_size(set) ? tags : NULL);
    if (rc) return nb_s3_store_error(c, rc, name, NULL);
    c->out_status = 204; /* AWS answers PutBucketTagging with 204 No Content */
    return 0;
}

int nb_s3_op_delete_bucket_tagging(nb_call *c)
{
    const char *name = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, name, &b)) return -1;
    int rc = nb_s3_bucket_set_tags(nb_s3_g, name, NULL);
    return rc ? nb_s3_store_error(c, rc, name, NULL) : 0;
}
