/* service.c: the S3 service: its operation table (name -> handler, IAM action, resource),
 * lifecycle (open the store, reset), virtual-hosted bucket routing, and the helpers every
 * handler shares (AWS-exact errors, keys, tags, version ids). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "core/config.h"
#include "core/hash.h"
#include "svc/s3/access.h"
#include "svc/s3/bucketcfg.h"
#include "iam/creds.h"
#include "svc/s3/handlers.h"
#include "svc/s3/lifecycle.h"

nb_s3_store *nb_s3_g;
char nb_s3_region[64] = "us-east-1";
static char s3_domain[256] = "s3.localhost";

/* The canonical user id S3 shows as Owner.ID: the account's, from the credential store
 * (iam/creds.h), so S3, ACL grantees and IAM all agree. out must hold 65 bytes. */
void nb_s3_canonical_id(const char *account, char out[65])
{
    if (account && !strcmp(account, NB_S3_ANON_OWNER)) {
        snprintf(out, 65, "%s", NB_S3_ANON_CANONICAL);
        return;
    }
    nb_canonical_user_id(account ? account : "", out);
}

json_t *nb_s3_owner_json(const char *account)
{
    char id[65];
    nb_s3_canonical_id(account, id);
    /* AWS names the anonymous owner by its canonical id alone */
    if (account && !strcmp(account, NB_S3_ANON_OWNER)) return json_pack("{s:s}", "ID", id);
    /* DisplayName: AWS shows the account's e-mail name; the account id is our stand-in. */
    return json_pack("{s:s,s:s}", "DisplayName", account && *account ? account : "anonymous",
                     "ID", id);
}

/* ---------------------------------------------------------------- errors */

int nb_s3_error(nb_call *c, int status, const char *code, const char *msg, ...)
{
    nb_call_error(c, status, code, "%s", msg);
    va_list ap;
    va_start(ap, msg);
    json_t *extra = NULL;
    for (;;) {
        const char *name = va_arg(ap, const char *);
        if (!name) break;
        const char *value = va_arg(ap, const char *);
        if (!value) continue;
        if (!extra) extra = json_object();
        json_object_set_new(extra, name, json_string(value));
    }
    va_end(ap);
    c->err.extra = extra;
    return -1;
}

int nb_s3_internal(nb_call *c, const char *why)
{
    nb_error("s3: request %s: %s", c->request_id ? c->request_id : "-", why);
    return nb_s3_error(c, 500, "InternalError",
                       "We encountered an internal error. Please try again.", NULL);
}

int nb_s3_nomem(nb_call *c)
{
    return nb_s3_error(c, 503, "SlowDown", "Please reduce your request rate.", NULL);
}

int nb_s3_store_error(nb_call *c, int rc, const char *bucket, const char *key)
{
    switch (rc) {
    case NB_S3_NO_BUCKET:
        return nb_s3_error(c, 404, "NoSuchBucket", "The specified bucket does not exist",
                           "BucketName", bucket, NULL);
    case NB_S3_NO_KEY:
        return nb_s3_error(c, 404, "NoSuchKey", "The specified key does not exist.", "Key", key,
                           NULL);
    case NB_S3_NO_VERSION:
        return nb_s3_error(c, 404, "NoSuchVersion",
                           "The specified version does not exist.", "Key", key,
                           "VersionId", nb_in_str(c, "VersionId"), NULL);
    case NB_S3_PRECONDITION:
        return nb_s3_error(c, 412, "PreconditionFailed",
                           "At least one of the pre-conditions you specified did not hold",
                           "Condition", nb_call_header(c, "If-Match") ? "If-Match" : "If-None-Match",
                           NULL);
    case NB_S3_CONFLICT:
        return nb_s3_error(c, 409, "ConditionalRequestConflict",
                           "The conditional request cannot succeed due to a conflicting operation"
                           " against this resource.",
                           NULL);
    case NB_S3_OWNED:
        return nb_s3_error(c, 409, "BucketAlreadyOwnedByYou",
                           "Your previous request to create the named bucket succeeded and you"
                           " already own it.",
                           "BucketName", bucket, NULL);
    case NB_S3_EXISTS:
        return nb_s3_error(c, 409, "BucketAlreadyExists",
                           "The requested bucket name is not available. The bucket namespace is"
                           " shared by all users of the system. Please select a different name"
                           " and try again.",
                           "BucketName", bucket, NULL);
    case NB_S3_NOT_EMPTY:
        return nb_s3_error(c, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty",
                           "BucketName", bucket, NULL);
    case NB_S3_NO_UPLOAD:
        return nb_s3_error(c, 404, "NoSuchUpload",
                           "The specified upload does not exist. The upload ID may be invalid, or"
                           " the upload may have been aborted or completed.",
                           "UploadId", nb_in_str(c, "UploadId"), NULL);
    case NB_S3_LOCKED:
    case NB_S3_LOCKED_GOVERNANCE:
        return nb_s3_error(c, 403, "AccessDenied",
                           "Access Denied because object protected by object lock.", NULL);
    case NB_S3_IS_MARKER:
        return nb_s3_error(c, 405, "MethodNotAllowed",
                           "The specified method is not allowed against this resource.",
                           "ResourceType", "DeleteMarker", NULL);
    case NB_S3_NOT_IMPLEMENTED:
        return nb_s3_error(c, 501, "NotImplemented",
                           "A header you provided implies functionality that is not implemented",
                           NULL);
    default:
        return nb_s3_internal(c, "metadata store failure");
    }
}

/* ---------------------------------------------------------------- input helpers */

const char *nb_s3_in_key(nb_call *c, size_t *len)
{
    json_t *v = c->input ? json_object_get(c->input, "Key") : NULL;
    if (!json_is_string(v)) return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

int nb_s3_check_key(nb_call *c, size_t len)
{
    if (len <= NB_S3_MAX_KEY) return 0;
    char size[32];
    snprintf(size, sizeof size, "%zu", len);
    return nb_s3_error(c, 400, "KeyTooLongError", "Your key is too long", "Size", size,
                       "MaxSizeAllowed", "1024", NULL);
}

int nb_s3_need_bucket(nb_call *c, const char *name, nb_s3_bucket *b)
{
    int rc = nb_s3_bucket_get(nb_s3_g, name ? name : "", b, c->arena);
    if (rc) return nb_s3_store_error(c, rc, name, NULL);
    return nb_s3_bucket_access(c, b);
}

int nb_s3_bucket_access(nb_call *c, const nb_s3_bucket *b)
{
    /* The bucket the call names was authorized before the handler (bucket policy, ACLs:
     * policy.c's resource_policy hook) for the call's own action; a copy source is read, which
     * is authorized here (s3:GetObject on it), in the same bucket too: write access to a bucket
     * is no licence to copy its private objects. */
    const char *cs = nb_in_str(c, "CopySource");
    if (cs) {
        const char *sb = NULL, *sk = NULL, *sv = NULL;
        size_t skn = 0;
        if (nb_s3_parse_copy_source(c, cs, &sb, &sk, &skn, &sv) == 0) {
            if (strcmp(sb, b->name) == 0) return nb_s3_authorize_source(c, b->name);
        } else { /* a bad source is the handler's to refuse */
            nb_aws_error_clear(&c->err);
            memset(&c->err, 0, sizeof c->err);
        }
    }
    const char *own = nb_in_str(c, "Bucket");
    if (own && strcmp(own, b->name) == 0) return 0;
    if (strcmp(b->account, c->who.account) != 0 || c->who.type != NB_PRINCIPAL_ROOT)
        return nb_s3_authorize_source(c, b->name);
    return 0;
}

bool nb_s3_bucket_name_valid(const char *n)
{
    /* AWS: 3-63 chars of [a-z0-9.-], labels starting and ending with a letter or digit, not
     * an IP address, none of the prefixes and suffixes AWS reserves. */
    size_t len = strlen(n);
    if (len < 3 || len > 63) return false;
    for (size_t i = 0; i < len; i++) {
        char ch = n[i];
        if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '.' || ch == '-'))
            return false;
        /* each dot-separated label starts and ends with a letter or digit */
        if (ch == '.' && i + 1 < len && (n[i + 1] == '.' || n[i + 1] == '-')) return false;
        if (ch == '-' && i + 1 < len && n[i + 1] == '.') return false;
    }
    if (!isalnum((unsigned char)n[0]) || !isalnum((unsigned char)n[len - 1])) return false;
    static const char *const prefixes[] = {"xn--", "sthree-", "amzn-s3-demo-"};
    static const char *const suffixes[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"};
    for (size_t i = 0; i < NB_ARRAY_LEN(prefixes); i++)
        if (strncmp(n, prefixes[i], strlen(prefixes[i])) == 0) return false;
    for (size_t i = 0; i < NB_ARRAY_LEN(suffixes); i++) {
        size_t sl = strlen(suffixes[i]);
        if (len > sl && strcmp(n + len - sl, suffixes[i]) == 0) return false;
    }
    int dots = 0, digits_only = 1;
    for (size_t i = 0; i < len; i++) {
        if (n[i] == '.')
            dots++;
        else if (!isdigit((unsigned char)n[i]))
            digits_only = 0;
    }
    if (dots == 3 && digits_only) return false; /* formatted as an IP address */
    return true;
}

bool nb_s3_version_id_valid(const char *v)
{
    if (strcmp(v, "null") == 0) return true;
    size_t n = strlen(v);
    bool ok = n == 32;
    for (size_t i = 0; ok && i < n; i++) {
        char ch = v[i];
        ok = isalnum((unsigned char)ch) || ch == '.' || ch == '_';
    }
    return ok;
}

int nb_s3_in_version(nb_call *c, const char **out)
{
    *out = nb_in_str(c, "VersionId");
    if (!*out) return 0;
    if (!nb_s3_version_id_valid(*out))
        return nb_s3_error(c, 400, "InvalidArgument", "Invalid version id specified",
                           "ArgumentName", "versionId", "ArgumentValue", *out, NULL);
    return 0;
}

int nb_s3_in_key_version(nb_call *c, const char **key, size_t *len, const char **version)
{
    *len = 0;
    *key = nb_s3_in_key(c, len);
    if (!*key) return nb_s3_error(c, 400, "InvalidArgument", "Key is required", NULL);
    return version ? nb_s3_in_version(c, version) : 0;
}

const char *nb_s3_quote(nb_call *c, const char *etag)
{
    return nb_arena_printf(c->arena, "\"%s\"", etag);
}

void nb_s3_add_header(nb_call *c, const char *name, const char *value)
{
    if (c->out_nheaders >= NB_ARRAY_LEN(c->out_headers)) return;
    nb_header *h = &c->out_headers[c->out_nheaders];
    h->name = nb_arena_strdup(c->arena, name);
    h->value = nb_arena_strdup(c->arena, value);
    if (!h->name || !h->value) return;
    h->name_len = strlen(name);
    h->value_len = strlen(value);
    c->out_nheaders++;
}

/* ---------------------------------------------------------------- tags */

static int tag_error(nb_call *c, const char *msg)
{
    return nb_s3_error(c, 400, "InvalidTag", msg, NULL);
}

/* Length in characters (UTF-8 code points), as AWS counts tag lengths. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* Bucket tags take letters, digits, spaces and _ . : / = + - @ only (AWS's tagging rule);
 * bytes of multibyte UTF-8 characters are let through as letters. */
static bool bucket_tag_chars(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x80 || isalnum(ch) || ch == ' ' || strchr("_.:/=+-@", ch)) continue;
        return false;
    }
    return true;
}

static int tags_check(nb_call *c, json_t *set, bool object)
{
    size_t n = json_array_size(set);
    if (object && n > 10) return tag_error(c, "Object tags cannot be greater than 10");
    if (!object && n > 50) return tag_error(c, "Bucket tag count cannot be greater than 50");
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(set, i);
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k || !v) return nb_s3_error(c, 400, "MalformedXML",
                                         "The XML you provided was not well-formed or did not"
                                         " validate against our published schema",
                                         NULL);
        if (utf8_chars(k) > 128 || !*k || (!object && !bucket_tag_chars(k)))
            return tag_error(c, "The TagKey you have provided is invalid");
        if (utf8_chars(v) > 256 || (!object && !bucket_tag_chars(v)))
            return tag_error(c, "The TagValue you have provided is invalid");
        if (strncmp(k, "aws:", 4) == 0) /* AWS words the two differently */
            return tag_error(c, object ? "Your TagKey cannot be prefixed with aws:"
                                       : "System tags cannot be added/updated by requester");
        for (size_t j = 0; j < i; j++)
            if (strcmp(k, json_string_value(json_object_get(json_array_get(set, j), "Key"))) == 0)
                return tag_error(c, "Cannot provide multiple Tags with the same key");
    }
    return 0;
}

int nb_s3_tags_from_input(nb_call *c, json_t *tagset, bool object, const char **out)
{
    *out = NULL;
    json_t *set = json_array();
    size_t n = json_array_size(tagset);
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tagset, i);
        json_t *k = json_object_get(t, "Key"), *v = json_object_get(t, "Value");
        json_array_append_new(set, json_pack("{s:O?,s:O?}", "Key", k, "Value", v));
    }
    int rc = tags_check(c, set, object);
    if (rc == 0) {
        char *s = json_dumps(set, JSON_COMPACT);
        if (s) *out = nb_arena_strdup(c->arena, s);
        free(s);
        if (!*out) rc = nb_s3_nomem(c);
    }
    json_decref(set);
    return rc;
}

int nb_s3_tags_from_header(nb_call *c, const char *hdr, const char **out)
{
    *out = NULL;
    if (!hdr) return 0;
    json_t *set = json_array();
    const char *p = hdr;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n) {
            const char *eq = memchr(p, '=', n);
            size_t kn = eq ? (size_t)(eq - p) : n;
            const char *vp = eq ? eq + 1 : p + n;
            size_t vn = eq ? n - kn - 1 : 0;
            char *k = nb_arena_alloc(c->arena, kn + 1), *v = nb_arena_alloc(c->arena, vn + 1);
            if (!k || !v) {
                json_decref(set);
                return nb_s3_nomem(c);
            }
            ssize_t kl = nb_url_decode(p, kn, k, true), vl = nb_url_decode(vp, vn, v, true);
            if (kl < 0 || vl < 0) {
                json_decref(set);
                return nb_s3_error(c, 400, "InvalidArgument", "The header 'x-amz-tagging' shall"
                                   " be encoded as UTF-8 then URLEncoded URL query parameters"
                                   " without tag name duplicates.",
                                   "ArgumentName", "x-amz-tagging", "ArgumentValue", hdr, NULL);
            }
            k[kl] = 0;
            v[vl] = 0;
            json_array_append_new(set, json_pack("{s:s,s:s}", "Key", k, "Value", v));
        }
        p += n + (amp ? 1 : 0);
    }
    int rc = tags_check(c, set, true);
    if (rc == 0 && json_array_size(set)) {
        char *s = json_dumps(set, JSON_COMPACT);
        if (s) *out = nb_arena_strdup(c->arena, s);
        free(s);
    }
    json_decref(set);
    return rc;
}

/* ---------------------------------------------------------------- routing */

/* Virtual-hosted-style requests: Host "<bucket>.<s3-domain>" or "<bucket>.localhost" (port
 * ignored) address the bucket; the path becomes "/<bucket><path>". */
static bool s3_host_route(nb_req *r, const char **path, size_t *path_len)
{
    size_t hn;
    const char *host = nb_req_header(r, "host", &hn);
    if (!host) return false;
    char website[64];
    if (nb_s3_website_host(host, hn, website)) return true; /* website.c answers it */
    const char *colon = memchr(host, ':', hn);
    if (colon) hn = (size_t)(colon - host);
    const char *suffixes[] = {s3_domain, "localhost"};
    for (size_t i = 0; i < NB_ARRAY_LEN(suffixes); i++) {
        size_t sn = strlen(suffixes[i]);
        if (!sn || hn <= sn + 1) continue;
        const char *dot = host + hn - sn - 1;
        if (*dot != '.' || strncasecmp(dot + 1, suffixes[i], sn) != 0) continue;
        size_t bn = (size_t)(dot - host);
        char bucket[64];
        if (bn >= sizeof bucket) return false;
        for (size_t j = 0; j < bn; j++) bucket[j] = (char)tolower((unsigned char)host[j]);
        bucket[bn] = 0;
        /* "s3.localhost" itself under "localhost" is the service endpoint, not a bucket */
        if (strcmp(bucket, "s3") == 0) return false;
        if (!nb_s3_bucket_name_valid(bucket)) return false;
        char *np = nb_arena_alloc(r->arena, bn + 1 + *path_len + 1);
        if (!np) return false;
        np[0] = '/';
        memcpy(np + 1, bucket, bn);
        memcpy(np + 1 + bn, *path, *path_len);
        np[1 + bn + *path_len] = 0;
        *path = np;
        *path_len = bn + 1 + *path_len;
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- lifecycle */

static int s3_init(const nb_svc_env *env, char **err)
{
    if (env->region) snprintf(nb_s3_region, sizeof nb_s3_region, "%s", env->region);
    if (env->config && env->config->s3_domain[0])
        snprintf(s3_domain, sizeof s3_domain, "%s", env->config->s3_domain);
    nb_s3_website_set_domain(s3_domain);
    nb_s3_g = nb_s3_store_open(env->data_dir, err);
    if (!nb_s3_g) return -1;
    nb_s3_logging_start(env->config ? env->config->s3_log_interval : 0); /* logging.c */
    nb_s3_inventory_start(); /* daily inventory reports (inventory.c) */
    /* archive tier, class accounting, lifecycle rules and their scheduler (lifecycle.h) */
    return nb_s3_lifecycle_start(env->data_dir, err);
}

static void s3_shutdown(void)
{
    if (nb_s3_g) nb_s3_inventory_stop();
    if (nb_s3_g) nb_s3_logging_stop();   /* pending access logs delivered, before the store */
    if (nb_s3_g) nb_s3_lifecycle_stop(); /* timers and the archive worker, before the store */
    nb_s3_store_close(nb_s3_g);
    nb_s3_g = NULL;
}

static int s3_reset(void)
{
    if (!nb_s3_g || nb_s3_store_wipe(nb_s3_g) != NB_S3_OK) return -1;
    nb_s3_lifecycle_reset(); /* archive files, rules cache, pass state */
    nb_s3_logging_reset();   /* access log records of buckets that are gone */
    return 0;
}

#define B "arn:aws:s3:::{Bucket}"
#define O "arn:aws:s3:::{Bucket}/{Key}"

static const nb_op_def s3_ops[] = {
    {"ListBuckets", nb_s3_op_list_buckets, 0, "s3:ListAllMyBuckets", NULL},
    {"CreateBucket", nb_s3_op_create_bucket, 0, "s3:CreateBucket", B},
    {"HeadBucket", nb_s3_op_head_bucket, 0, "s3:ListBucket", B},
    {"DeleteBucket", nb_s3_op_delete_bucket, 0, "s3:DeleteBucket", B},
    {"GetBucketLocation", nb_s3_op_get_bucket_location, 0, "s3:GetBucketLocation", B},
    {"GetBucketVersioning", nb_s3_op_get_bucket_versioning, 0, "s3:GetBucketVersioning", B},
    {"PutBucketVersioning", nb_s3_op_put_bucket_versioning, 0, "s3:PutBucketVersioning", B},
    {"GetBucketTagging", nb_s3_op_get_bucket_tagging, 0, "s3:GetBucketTagging", B},
    {"PutBucketTagging", nb_s3_op_put_bucket_tagging, 0, "s3:PutBucketTagging", B},
    {"DeleteBucketTagging", nb_s3_op_delete_bucket_tagging, 0, "s3:PutBucketTagging", B},
    {"ListObjects", nb_s3_op_list_objects, 0, "s3:ListBucket", B},
    {"ListObjectsV2", nb_s3_op_list_objects_v2, 0, "s3:ListBucket", B},
    {"ListObjectVersions", nb_s3_op_list_object_versions, 0, "s3:ListBucketVersions", B},
    {"PutObject", nb_s3_op_put_object, 0, "s3:PutObject", O},
    /* inline: answered on the loop thread from the metadata read (and inline bytes); they
     * return NB_CALL_OFFLOAD when a file must be read */
    {"GetObject", nb_s3_op_get_object, NB_OP_INLINE, "s3:GetObject", O},
    {"HeadObject", nb_s3_op_head_object, NB_OP_INLINE, "s3:GetObject", O},
    /* storage classes and lifecycle (restore.c, lifecycle.c) */
    {"RestoreObject", nb_s3_op_restore_object, 0, "s3:RestoreObject", O},
    {"PutBucketLifecycleConfiguration", nb_s3_op_put_bucket_lifecycle, 0,
     "s3:PutLifecycleConfiguration", B},
    {"GetBucketLifecycleConfiguration", nb_s3_op_get_bucket_lifecycle, 0,
     "s3:GetLifecycleConfiguration", B},
    {"DeleteBucketLifecycle", nb_s3_op_delete_bucket_lifecycle, 0, "s3:PutLifecycleConfiguration",
     B},
    {"DeleteObject", nb_s3_op_delete_object, 0, "s3:DeleteObject", O},
    {"DeleteObjects", nb_s3_op_delete_objects, 0, "s3:DeleteObject", B},
    {"CopyObject", nb_s3_op_copy_object, 0, "s3:PutObject", O},
    {"GetObjectTagging", nb_s3_op_get_object_tagging, 0, "s3:GetObjectTagging", O},
    {"PutObjectTagging", nb_s3_op_put_object_tagging, 0, "s3:PutObjectTagging", O},
    {"DeleteObjectTagging", nb_s3_op_delete_object_tagging, 0, "s3:DeleteObjectTagging", O},
    {"CreateMultipartUpload", nb_s3_op_create_multipart_upload, 0, "s3:PutObject", O},
    {"UploadPart", nb_s3_op_upload_part, 0, "s3:PutObject", O},
    {"UploadPartCopy", nb_s3_op_upload_part_copy, 0, "s3:PutObject", O},
    {"CompleteMultipartUpload", nb_s3_op_complete_multipart_upload, 0, "s3:PutObject", O},
    {"AbortMultipartUpload", nb_s3_op_abort_multipart_upload, 0, "s3:AbortMultipartUpload", O},
    {"ListParts", nb_s3_op_list_parts, 0, "s3:ListMultipartUploadParts", O},
    {"ListMultipartUploads", nb_s3_op_list_multipart_uploads, 0, "s3:ListBucketMultipartUploads",
     B},
    /* bucket configuration and access control (policy.c, acl.c, pab.c, cors.c, website.c,
     * notify.c) */
    {"PutBucketPolicy", nb_s3_op_put_bucket_policy, 0, "s3:PutBucketPolicy", B},
    {"GetBucketPolicy", nb_s3_op_get_bucket_policy, 0, "s3:GetBucketPolicy", B},
    {"DeleteBucketPolicy", nb_s3_op_delete_bucket_policy, 0, "s3:DeleteBucketPolicy", B},
    {"GetBucketPolicyStatus", nb_s3_op_get_bucket_policy_status, 0, "s3:GetBucketPolicyStatus", B},
    {"PutBucketAcl", nb_s3_op_put_bucket_acl, 0, "s3:PutBucketAcl", B},
    {"GetBucketAcl", nb_s3_op_get_bucket_acl, 0, "s3:GetBucketAcl", B},
    {"PutObjectAcl", nb_s3_op_put_object_acl, 0, "s3:PutObjectAcl", O},
    {"GetObjectAcl", nb_s3_op_get_object_acl, 0, "s3:GetObjectAcl", O},
    {"PutBucketOwnershipControls", nb_s3_op_put_ownership, 0, "s3:PutBucketOwnershipControls", B},
    {"GetBucketOwnershipControls", nb_s3_op_get_ownership, 0, "s3:GetBucketOwnershipControls", B},
    {"DeleteBucketOwnershipControls", nb_s3_op_delete_ownership, 0, "s3:PutBucketOwnershipControls",
     B},
    {"PutPublicAccessBlock", nb_s3_op_put_pab, 0, "s3:PutBucketPublicAccessBlock", B},
    {"GetPublicAccessBlock", nb_s3_op_get_pab, 0, "s3:GetBucketPublicAccessBlock", B},
    {"DeletePublicAccessBlock", nb_s3_op_delete_pab, 0, "s3:PutBucketPublicAccessBlock", B},
    {"PutBucketCors", nb_s3_op_put_bucket_cors, 0, "s3:PutBucketCORS", B},
    {"GetBucketCors", nb_s3_op_get_bucket_cors, 0, "s3:GetBucketCORS", B},
    {"DeleteBucketCors", nb_s3_op_delete_bucket_cors, 0, "s3:PutBucketCORS", B},
    {"PutBucketWebsite", nb_s3_op_put_bucket_website, 0, "s3:PutBucketWebsite", B},
    {"GetBucketWebsite", nb_s3_op_get_bucket_website, 0, "s3:GetBucketWebsite", B},
    {"DeleteBucketWebsite", nb_s3_op_delete_bucket_website, 0, "s3:DeleteBucketWebsite", B},
    {"PutBucketNotificationConfiguration", nb_s3_op_put_notification, 0, "s3:PutBucketNotification",
     B},
    {"GetBucketNotificationConfiguration", nb_s3_op_get_notification, 0, "s3:GetBucketNotification",
     B},
    {"PutBucketEncryption", nb_s3_op_put_bucket_encryption, 0, "s3:PutEncryptionConfiguration", B},
    {"GetBucketEncryption", nb_s3_op_get_bucket_encryption, 0, "s3:GetEncryptionConfiguration", B},
    {"DeleteBucketEncryption", nb_s3_op_delete_bucket_encryption, 0,
     "s3:PutEncryptionConfiguration", B},
    /* bucketcfg.c, logging.c, extras.c */
    {"GetBucketRequestPayment", nb_s3_op_get_bucket_request_payment, 0,
     "s3:GetBucketRequestPayment", B},
    {"PutBucketRequestPayment", nb_s3_op_put_bucket_request_payment, 0,
     "s3:PutBucketRequestPayment", B},
    {"GetBucketAccelerateConfiguration", nb_s3_op_get_bucket_accelerate, 0,
     "s3:GetAccelerateConfiguration", B},
    {"PutBucketAccelerateConfiguration", nb_s3_op_put_bucket_accelerate, 0,
     "s3:PutAccelerateConfiguration", B},
    {"GetBucketLogging", nb_s3_op_get_bucket_logging, 0, "s3:GetBucketLogging", B},
    {"PutBucketLogging", nb_s3_op_put_bucket_logging, 0, "s3:PutBucketLogging", B},
    {"GetBucketReplication", nb_s3_op_get_bucket_replication, 0, "s3:GetReplicationConfiguration",
     B},
    {"DeleteBucketReplication", nb_s3_op_delete_bucket_replication, 0,
     "s3:PutReplicationConfiguration", B},
    {"GetObjectAttributes", nb_s3_op_get_object_attributes, 0, "s3:GetObjectAttributes", O},
    {"PutBucketAnalyticsConfiguration", nb_s3_op_put_id_config, 0, "s3:PutAnalyticsConfiguration", B},
    {"GetBucketAnalyticsConfiguration", nb_s3_op_get_id_config, 0, "s3:GetAnalyticsConfiguration", B},
    {"DeleteBucketAnalyticsConfiguration", nb_s3_op_delete_id_config, 0, "s3:PutAnalyticsConfiguration",
     B},
    {"ListBucketAnalyticsConfigurations", nb_s3_op_list_id_configs, 0, "s3:GetAnalyticsConfiguration",
     B},
    {"PutBucketInventoryConfiguration", nb_s3_op_put_id_config, 0, "s3:PutInventoryConfiguration", B},
    {"GetBucketInventoryConfiguration", nb_s3_op_get_id_config, 0, "s3:GetInventoryConfiguration", B},
    {"DeleteBucketInventoryConfiguration", nb_s3_op_delete_id_config, 0, "s3:PutInventoryConfiguration",
     B},
    {"ListBucketInventoryConfigurations", nb_s3_op_list_id_configs, 0, "s3:GetInventoryConfiguration",
     B},
    {"PutBucketMetricsConfiguration", nb_s3_op_put_id_config, 0, "s3:PutMetricsConfiguration", B},
    {"GetBucketMetricsConfiguration", nb_s3_op_get_id_config, 0, "s3:GetMetricsConfiguration", B},
    {"DeleteBucketMetricsConfiguration", nb_s3_op_delete_id_config, 0, "s3:PutMetricsConfiguration",
     B},
    {"ListBucketMetricsConfigurations", nb_s3_op_list_id_configs, 0, "s3:GetMetricsConfiguration",
     B},
    {"PutBucketIntelligentTieringConfiguration", nb_s3_op_put_id_config, 0, "s3:PutIntelligentTieringConfiguration", B},
    {"GetBucketIntelligentTieringConfiguration", nb_s3_op_get_id_config, 0, "s3:GetIntelligentTieringConfiguration", B},
    {"DeleteBucketIntelligentTieringConfiguration", nb_s3_op_delete_id_config, 0, "s3:PutIntelligentTieringConfiguration",
     B},
    {"ListBucketIntelligentTieringConfigurations", nb_s3_op_list_id_configs, 0, "s3:GetIntelligentTieringConfiguration",
     B},
    /* Object Lock (lock.c) */
    {"PutObjectLockConfiguration", nb_s3_op_put_object_lock_configuration, 0,
     "s3:PutBucketObjectLockConfiguration", B},
    {"GetObjectLockConfiguration", nb_s3_op_get_object_lock_configuration, 0,
     "s3:GetBucketObjectLockConfiguration", B},
    {"PutObjectRetention", nb_s3_op_put_object_retention, 0, "s3:PutObjectRetention", O},
    {"GetObjectRetention", nb_s3_op_get_object_retention, 0, "s3:GetObjectRetention", O},
    {"PutObjectLegalHold", nb_s3_op_put_object_legal_hold, 0, "s3:PutObjectLegalHold", O},
    {"GetObjectLegalHold", nb_s3_op_get_object_legal_hold, 0, "s3:GetObjectLegalHold", O},
};

const nb_service nb_svc_s3 = {
    .name = "s3",
    .model = "s3",
    .ops = s3_ops,
    .nops = NB_ARRAY_LEN(s3_ops),
    .init = s3_init,
    .shutdown = s3_shutdown,
    .reset = s3_reset,
    .host_route = s3_host_route,
    .resource_policy = nb_s3_resource_policy,
    .authz_context = nb_s3_authz_context,
    .authz_action = nb_s3_authz_action,
    .admin = nb_s3_admin_route,
    .raw_request = nb_s3_raw_request,
    .form_post = nb_s3_post_object,
    .request_done = nb_s3_request_done,
    .body_check = nb_s3_body_check,
};
