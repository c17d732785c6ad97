/* multipart.c: multipart uploads: create, upload part (streamed), upload part copy (ranges),
 * complete (validated, then a manifest of the part files: nothing is copied), abort, and the
 * part and upload listings. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "svc/s3/access.h"
#include "svc/s3/events.h"
#include "svc/s3/handlers.h"
#include "svc/s3/lifecycle.h"

#define MAX_PART ((int64_t)5 << 30)

/* What CreateMultipartUpload asked for that only completion uses rides in the upload's attrs
 * under names no output member has, and is taken out again at completion: the ACL
 * (ACL_MEMBER) and a FULL_OBJECT checksum type (CKTYPE_MEMBER; absent: COMPOSITE). */
#define ACL_MEMBER "_UploadAcl"
#define CKTYPE_MEMBER "_UploadChecksumType"

static int stash(nb_call *c, const char **attrs, const char *name, const char *value)
{
    json_t *a = *attrs ? json_loads(*attrs, 0, NULL) : json_object();
    char *s = NULL;
    if (a && !json_object_set_new(a, name, json_string(value))) s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!s) return nb_s3_error(c, 500, "InternalError", "We encountered an internal error.", NULL);
    *attrs = nb_arena_strdup(c->arena, s);
    free(s);
    return 0;
}

/* The upload's attrs without what was stashed, and the ACL (NULL if none), both in c->arena. */
static void unstash(nb_call *c, const char **attrs, const char **acl)
{
    *acl = NULL;
    if (!*attrs || (!strstr(*attrs, ACL_MEMBER) && !strstr(*attrs, CKTYPE_MEMBER))) return;
    json_t *a = json_loads(*attrs, 0, NULL);
    const char *v = json_string_value(json_object_get(a, ACL_MEMBER));
    if (v) *acl = nb_arena_strdup(c->arena, v);
    json_object_del(a, ACL_MEMBER);
    json_object_del(a, CKTYPE_MEMBER);
    char *s = json_dumps(a, JSON_COMPACT);
    if (s) *attrs = nb_arena_strdup(c->arena, s);
    free(s);
    json_decref(a);
}

/* The checksum type of an upload: NULL without a checksum algorithm, else "FULL_OBJECT" or
 * "COMPOSITE". */
static const char *upload_ck_type(const nb_s3_upload *u)
{
    if (!u->checksum_algo) return NULL;
    if (!u->attrs || !strstr(u->attrs, CKTYPE_MEMBER)) return "COMPOSITE";
    json_t *a = json_loads(u->attrs, 0, NULL);
    const char *v = json_string_value(json_object_get(a, CKTYPE_MEMBER));
    bool full = v && strcmp(v, "FULL_OBJECT") == 0;
    json_decref(a);
    return full ? "FULL_OBJECT" : "COMPOSITE";
}

/* Lowercase algorithm name ("crc32c") for AWS's messages, in c->arena. */
static const char *lower_algo(nb_call *c, const char *name)
{
    char *l = nb_arena_strdup(c->arena, name);
    for (char *q = l; q && *q; q++) *q = (char)tolower((unsigned char)*q);
    return l ? l : name;
}

int nb_s3_op_create_multipart_upload(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key;
    size_t kn;
    if (nb_s3_in_key_version(c, &key, &kn, NULL) || nb_s3_check_key(c, kn)) return -1;
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    nb_s3_upload u;
    memset(&u, 0, sizeof u);
    nb_s3_sse sse;
    if (nb_s3_sse_for_write(c, &b, &sse)) return -1;
    unsigned char enc[NB_S3_ENC_MAX];
    if (sse.mode != NB_S3_SSE_NONE) {
        /* the upload's encryption, which every part follows (SSE-C: the key check) */
        u.enc_len = (size_t)nb_s3_enc_object(&sse, enc);
        u.enc = enc;
    }
    const char *sc;
    if (nb_s3_build_attrs(c, &u.attrs) || nb_s3_storage_class(c, &sc) ||
        nb_s3_tags_from_header(c, nb_in_str(c, "Tagging"), &u.tags))
        return -1;
    /* the object's owner is decided here, where the ACL asked for is (Object Ownership) */
    u.owner = nb_s3_object_owner(c, &b);
    char *acl;
    if (nb_s3_upload_acl(c, bucket, u.owner, &acl) || (acl && stash(c, &u.attrs, ACL_MEMBER, acl)))
        return -1;
    const char *alg = nb_in_str(c, "ChecksumAlgorithm");
    if (alg) {
        nb_cksum_algo a = nb_cksum_algo_from_name(alg, strlen(alg));
        if (a == NB_CKSUM_NONE)
            return nb_s3_error(c, 400, "InvalidRequest", "Checksum algorithm provided is unsupported.",
                               NULL);
        u.checksum_algo = nb_cksum_name(a);
    }
    /* The checksum type (AWS, Dec 2024): CRCs combine into a FULL_OBJECT checksum of the whole
     * object, any algorithm into a COMPOSITE checksum of the parts' checksums ("...-<parts>").
     * CRC64NVME is FULL_OBJECT only (and its default), the others default to COMPOSITE; SHA
     * digests cannot combine. */
    const char *ctype = nb_in_str(c, "ChecksumType");
    if (ctype && strcmp(ctype, "FULL_OBJECT") != 0 && strcmp(ctype, "COMPOSITE") != 0)
        return nb_s3_error(c, 400, "InvalidRequest", "Value for x-amz-checksum-type header is"
                           " invalid.", NULL);
    if (ctype && !u.checksum_algo)
        return nb_s3_error(c, 400, "InvalidRequest", "The x-amz-checksum-type header can only be"
                           " used with the x-amz-checksum-algorithm header.", NULL);
    if (u.checksum_algo) {
        nb_cksum_algo a = nb_cksum_algo_from_name(u.checksum_algo, strlen(u.checksum_algo));
        if (!ctype) ctype = a == NB_CKSUM_CRC64NVME ? "FULL_OBJECT" : "COMPOSITE";
        bool full = strcmp(ctype, "FULL_OBJECT") == 0;
        if ((full && !nb_cksum_is_crc(a)) || (!full && a == NB_CKSUM_CRC64NVME))
            return nb_s3_error(c, 400, "InvalidRequest",
                               nb_arena_printf(c->arena, "The %s checksum type cannot be used with"
                                               " the %s checksum algorithm.", ctype,
                                               lower_algo(c, u.checksum_algo)),
                               NULL);
        if (full && stash(c, &u.attrs, CKTYPE_MEMBER, ctype)) return -1;
    }
    bool lock_asked; /* kept with the upload; a default retention is applied at completion */
    if (nb_s3_lock_from_request(c, &b, &u.lock, &lock_asked)) return -1;
    u.key = key;
    u.key_len = kn;
    u.initiated = nb_clock_now_f();
    u.storage_class = sc;
    int rc = nb_s3_upload_create(nb_s3_g, bucket, &u);
    if (rc) return nb_s3_store_error(c, rc, bucket, key);
    json_t *out = json_pack("{s:s,s:s%,s:s}", "Bucket", bucket, "Key", key, kn, "UploadId",
                            u.upload_id);
    if (u.checksum_algo) json_object_set_new(out, "ChecksumAlgorithm", json_string(u.checksum_algo));
    if (ctype) json_object_set_new(out, "ChecksumType", json_string(ctype));
    nb_s3_sse_output(out, nb_in_str(c, "ServerSideEncryption"), &sse);
    nb_s3_lc_abort_headers(c, &b, key, kn, u.initiated); /* lifecycle.h */
    c->output = out;
    return 0;
}

/* The encryption a part of upload u gets: the upload's mode; SSE-C parts need the upload's
 * key again (AWS refuses others). The output members go into out. */
static int part_sse(nb_call *c, const nb_s3_upload *u, nb_s3_sse *sse)
{
    if (nb_s3_sse_customer(c, false, sse)) return -1;
    int mode = nb_s3_enc_mode(u->enc, u->enc_len);
    if (mode < 0) return nb_s3_internal(c, "unknown encryption record of an upload");
    if (mode == NB_S3_SSE_C) {
        if (sse->mode != NB_S3_SSE_C)
            return nb_s3_error(c, 400, "InvalidRequest",
                               "The multipart upload initiate requested encryption. Subsequent"
                               " part requests must include the appropriate encryption"
                               " parameters.",
                               NULL);
        if (!nb_s3_enc_key_ok(u->enc, u->enc_len, sse))
            return nb_s3_error(c, 400, "InvalidRequest",
                               "The provided encryption parameters did not match the ones used"
                               " originally.",
                               NULL);
        return 0;
    }
    if (sse->mode == NB_S3_SSE_C)
        return nb_s3_error(c, 400, "InvalidRequest",
                           "The multipart upload initiate did not request encryption with"
                           " customer-provided keys.",
                           NULL);
    sse->mode = mode;
    return 0;
}

/* Output members of a part or completion under the upload's encryption. */
static void upload_sse_output(json_t *out, const nb_s3_upload *u, const nb_s3_sse *sse)
{
    nb_s3_sse s = *sse;
    if (nb_s3_enc_mode(u->enc, u->enc_len) != NB_S3_SSE_C) {
        s.mode = NB_S3_SSE_NONE;
        nb_s3_sse_output(out, "AES256", &s);
        return;
    }
    s.mode = NB_S3_SSE_C; /* CompleteMultipartUpload carries no key: its answer names it */
    if (!s.key_md5[0] && u->attrs) {
        json_t *a = json_loads(u->attrs, 0, NULL);
        snprintf(s.key_md5, sizeof s.key_md5, "%s",
                 json_string_value(json_object_get(a, "SSECustomerKeyMD5")) ?: "");
        json_decref(a);
    }
    nb_s3_sse_output(out, "AES256", &s);
}

static int part_number(nb_call *c, int *out)
{
    json_int_t pn = nb_in_int(c, "PartNumber", 0);
    if (pn < 1 || pn > NB_S3_MAX_PARTS)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Part number must be an integer between 1 and 10000, inclusive",
                           "ArgumentName", "partNumber", NULL);
    *out = (int)pn;
    return 0;
}

/* The upload the call names, which must exist for this bucket and key. */
static int need_upload(nb_call *c, const char *bucket, const char *key, size_t kn,
                       nb_s3_upload *u, nb_s3_bucket *b)
{
    if (nb_s3_need_bucket(c, bucket, b)) return -1;
    const char *id = nb_in_str(c, "UploadId");
    int rc = nb_s3_upload_get(nb_s3_g, bucket, key, kn, id ? id : "", c->arena, u);
    return rc ? nb_s3_store_error(c, rc, bucket, key) : 0;
}

/* The part's checksum kept for completion: the upload's algorithm's, or for an upload created
 * without one the CRC64NVME S3 combines into the object's default checksum. */
static int record_part(nb_call *c, const char *bucket, const char *key, size_t kn,
                       const nb_s3_upload *u, int pn, const nb_s3_ingest *in, nb_s3_part *p)
{
    const char *upload_id = u->upload_id;
    const char *ck = u->checksum_algo ? in->ck_b64 : in->ck64_b64;
    memset(p, 0, sizeof *p);
    p->number = pn;
    p->size = in->size;
    memcpy(p->etag, in->etag, 33);
    p->last_modified = nb_clock_now_f();
    p->blob = in->blob;
    p->crcs = in->crcs;
    p->crcs_len = in->crcs_len;
    p->checksum = ck[0] ? ck : NULL;
    p->enc = in->enc_len ? in->enc : NULL;
    p->enc_len = in->enc_len;
    int rc = nb_s3_part_put(nb_s3_g, bucket, key, kn, upload_id, p);
    if (rc) {
        nb_s3_content_unlink(nb_s3_store_content(nb_s3_g), in->blob);
        return nb_s3_store_error(c, rc, bucket, key);
    }
    return 0;
}

int nb_s3_op_upload_part(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key;
    size_t kn;
    int pn = 0;
    if (nb_s3_in_key_version(c, &key, &kn, NULL) || part_number(c, &pn)) return -1;
    nb_s3_upload u;
    nb_s3_bucket b;
    if (need_upload(c, bucket, key, kn, &u, &b)) return -1;
    nb_s3_ingest in;
    if (nb_s3_ingest_prepare(c, &in)) return -1;
    if (!in.md5_expect && in.ck_algo == NB_CKSUM_NONE && b.object_lock) {
        /* AWS: parts of an object that will be under Object Lock (its upload's headers or
         * the bucket's default retention) must carry an integrity check */
        nb_s3_lock lock = u.lock;
        if (nb_s3_lock_default(c, &b, nb_clock_now_f(), &lock)) return -1;
        if (lock.mode[0] || lock.legal_hold[0])
            return nb_s3_error(c, 400, "InvalidRequest",
                               "Content-MD5 OR x-amz-checksum- HTTP header is required for Put"
                               " Part requests with Object Lock parameters",
                               NULL);
    }
    nb_cksum_algo ua = u.checksum_algo ? nb_cksum_algo_from_name(u.checksum_algo,
                                                                 strlen(u.checksum_algo))
                                       : NB_CKSUM_NONE;
    /* AWS refuses a part checksummed with another algorithm than its upload's (the part's
     * checksum could never be given back at completion) */
    if (ua != NB_CKSUM_NONE && in.ck_algo != NB_CKSUM_NONE && in.ck_algo != ua)
        return nb_s3_error(c, 400, "InvalidRequest",
                           nb_arena_printf(c->arena,
                                           "Checksum Type mismatch occurred, expected checksum"
                                           " Type: %s, actual checksum Type: %s",
                                           lower_algo(c, nb_cksum_name(ua)),
                                           lower_algo(c, nb_cksum_name(in.ck_algo))),
                           NULL);
    if (in.ck_algo == NB_CKSUM_NONE) in.ck_algo = ua;
    in.ck64 = ua == NB_CKSUM_NONE;
    in.max_size = MAX_PART;
    nb_s3_sse sse;
    if (part_sse(c, &u, &sse)) return -1;
    in.sse = &sse;
    if (nb_s3_ingest_body(c, &in)) return -1;
    nb_s3_part p;
    if (record_part(c, bucket, key, kn, &u, pn, &in, &p)) return -1;
    json_t *out = json_pack("{s:s}", "ETag", nb_s3_quote(c, in.etag));
    upload_sse_output(out, &u, &sse);
    const char *ckm = nb_s3_ck_member(in.ck_algo);
    if (ckm && in.ck_b64[0]) json_object_set_new(out, ckm, json_string(in.ck_b64));
    c->output = out;
    return 0;
}

int nb_s3_op_upload_part_copy(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key;
    size_t kn;
    int pn = 0;
    if (nb_s3_in_key_version(c, &key, &kn, NULL) || part_number(c, &pn)) return -1;
    nb_s3_upload u;
    nb_s3_bucket b, sbk;
    if (need_upload(c, bucket, key, kn, &u, &b)) return -1;
    const char *sb, *sk, *sv, *cs = nb_in_str(c, "CopySource");
    size_t skn;
    if (!cs) return nb_s3_error(c, 400, "InvalidArgument", "Copy Source must mention the source"
                                " bucket and key: sourcebucket/sourcekey", NULL);
    if (nb_s3_parse_copy_source(c, cs, &sb, &sk, &skn, &sv)) return -1;
    if (nb_s3_need_bucket(c, sb, &sbk)) return -1;
    nb_s3_object so;
    int rc = nb_s3_object_get(nb_s3_g, sb, sk, skn, sv, true, c->arena, &so);
    if (rc) return nb_s3_store_error(c, rc, sb, sk);
    if (so.delete_marker)
        return sv ? nb_s3_error(c, 400, "InvalidRequest",
                                "The source of a copy request may not specifically refer to a"
                                " delete marker by version id.",
                                NULL)
                  : nb_s3_error(c, 404, "NoSuchKey", "The specified key does not exist.", "Key",
                                sk, NULL);
    if (nb_s3_copy_conditions(c, &so) || nb_s3_classes_copy_source(c, sb, &so)) return -1;
    nb_s3_sse skey, sse;
    if (nb_s3_sse_customer(c, true, &skey) || nb_s3_sse_check_read(c, so.enc, so.enc_len, &skey) ||
        part_sse(c, &u, &sse))
        return -1;
    int64_t start = 0, end = so.size - 1;
    const char *range = nb_in_str(c, "CopySourceRange");
    if (range) {
        long long a, z;
        char tail;
        if (sscanf(range, "bytes=%lld-%lld%c", &a, &z, &tail) != 2 || a < 0 || z < a)
            return nb_s3_error(c, 400, "InvalidArgument",
                               "The x-amz-copy-source-range value must be of the form"
                               " bytes=first-last where first and last are the zero-based offsets"
                               " of the first and last bytes to copy",
                               "ArgumentName", "x-amz-copy-source-range", "ArgumentValue", range,
                               NULL);
        if (z >= so.size)
            return nb_s3_error(c, 416, "InvalidRange", "The requested range is not satisfiable",
                               "RangeRequested", range, NULL);
        start = a;
        end = z;
    }
    /* AWS: a part copies at most 5 GiB */
    if (end - start + 1 > ((int64_t)5 << 30))
        return nb_s3_error(c, 400, "InvalidRequest",
                           "The specified copy source is larger than the maximum allowable size"
                           " for a copy source: 5368709120",
                           NULL);
    nb_s3_ingest in;
    memset(&in, 0, sizeof in);
    /* without an upload algorithm, the part's CRC64NVME for the object's default checksum */
    in.ck_algo = u.checksum_algo ? nb_cksum_algo_from_name(u.checksum_algo, strlen(u.checksum_algo))
                                 : NB_CKSUM_CRC64NVME;
    nb_s3_writer w;
    if (nb_s3_writer_start(nb_s3_store_content(nb_s3_g), &w, in.ck_algo, -1, &sse) < 0)
        return nb_s3_internal(c, "cannot create a content file");
    if (nb_s3_copy_range(c, &so, start, end - start + 1, &skey, &w)) {
        nb_s3_writer_free(&w, true);
        return -1;
    }
    unsigned char ck[NB_CKSUM_MAX_RAW];
    size_t ckn = 0;
    if (nb_s3_writer_finish(&w, in.md5, ck, &ckn) < 0) {
        nb_s3_writer_free(&w, true);
        return nb_s3_internal(c, "cannot make a content file durable");
    }
    in.size = w.size;
    nb_hex(in.md5, 16, in.etag);
    snprintf(in.blob, sizeof in.blob, "%s", w.id);
    in.crcs_len = w.crcs.len;
    in.crcs = nb_arena_alloc(c->arena, w.crcs.len);
    if (in.crcs) memcpy(in.crcs, w.crcs.data, w.crcs.len);
    in.enc_len = w.enc_len;
    if (w.enc_len) memcpy(in.enc, w.enc, w.enc_len);
    nb_s3_writer_free(&w, false);
    if (!in.crcs) {
        nb_s3_content_unlink(nb_s3_store_content(nb_s3_g), in.blob);
        return nb_s3_nomem(c);
    }
    if (ckn) nb_cksum_to_b64(ck, ckn, in.ck_b64);
    if (!u.checksum_algo) {
        memcpy(in.ck64_b64, in.ck_b64, sizeof in.ck64_b64);
        in.ck_b64[0] = 0; /* not the client's to see: the upload asked for no checksum */
    }
    nb_s3_part p;
    if (record_part(c, bucket, key, kn, &u, pn, &in, &p)) return -1;
    json_t *res = json_pack("{s:s,s:f}", "ETag", nb_s3_quote(c, in.etag), "LastModified",
                            (double)(int64_t)p.last_modified);
    const char *ckm = nb_s3_ck_member(in.ck_algo);
    if (ckm && in.ck_b64[0]) json_object_set_new(res, ckm, json_string(in.ck_b64));
    json_t *out = json_pack("{s:o}", "CopyPartResult", res);
    upload_sse_output(out, &u, &sse);
    if (sbk.versioning != NB_S3_VERSIONING_OFF)
        json_object_set_new(out, "CopySourceVersionId", json_string(so.version_id));
    c->output = out;
    return 0;
}

/* "etag", "\"etag\"" -> etag without quotes, into out[40]. */
static void unquote(const char *in, char out[40])
{
    size_t n = strlen(in);
    if (n >= 2 && in[0] == '"' && in[n - 1] == '"') {
        in++;
        n -= 2;
    }
    if (n > 39) n = 39;
    memcpy(out, in, n);
    out[n] = 0;
}

/* CompleteMultipartUpload's Location: the object's absolute URL as the client addressed the
 * bucket (path or virtual-hosted style), the key URL-encoded, as AWS answers it. */
static const char *object_url(nb_call *c, const char *bucket, const char *key, size_t kn)
{
    const char *host = nb_call_header(c, "host");
    for (const char *q = host; q && *q; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '/' || *q == '<' || *q == '&')
            host = NULL; /* not something to put into a URL */
    const char *up = c->http ? c->http->path : "/";
    size_t pn = c->http ? c->http->path_len : 1;
    bool vhost = c->http && c->svc && c->svc->host_route && c->svc->host_route(c->http, &up, &pn);
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_printf(&b, "%s://%s/", c->http && c->http->tls ? "https" : "http",
                  host && *host ? host : "localhost");
    if (!vhost) {
        nb_url_encode(&b, bucket, strlen(bucket), false);
        nb_buf_putc(&b, '/');
    }
    nb_url_encode(&b, key, kn, false);
    const char *url = nb_arena_strndup(c->arena, b.data ? b.data : "", b.len);
    nb_buf_free(&b);
    return url ? url : "";
}

int nb_s3_op_complete_multipart_upload(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key;
    size_t kn;
    if (nb_s3_in_key_version(c, &key, &kn, NULL)) return -1;
    nb_s3_upload u;
    nb_s3_bucket b;
    if (need_upload(c, bucket, key, kn, &u, &b)) return -1;
    nb_s3_write_cond cond;
    if (nb_s3_write_conditions(c, &cond)) return -1;
    /* the object is created now: the bucket's default retention counts from here */
    double now = nb_clock_now_f();
    nb_s3_lock lock = u.lock;
    if (nb_s3_lock_default(c, &b, now, &lock)) return -1;
    json_t *req = json_object_get(json_object_get(c->input, "MultipartUpload"), "Parts");
    size_t n = json_array_size(req);
    if (n == 0)
        return nb_s3_error(c, 400, "MalformedXML",
                           "The XML you provided was not well-formed or did not validate against"
                           " our published schema",
                           NULL);
    if (n > NB_S3_MAX_PARTS)
        return nb_s3_error(c, 400, "InvalidArgument", "Part number must be an integer between 1"
                           " and 10000, inclusive", NULL);
    /* every Part names its number and ETag (the schema's required members) */
    for (size_t i = 0; i < n; i++) {
        json_t *pj = json_array_get(req, i);
        json_t *pnj = json_object_get(pj, "PartNumber");
        if (!json_is_integer(pnj) || !json_is_string(json_object_get(pj, "ETag")))
            return nb_s3_error(c, 400, "MalformedXML",
                               "The XML you provided was not well-formed or did not validate"
                               " against our published schema",
                               NULL);
        if (json_integer_value(pnj) < 1 || json_integer_value(pnj) > NB_S3_MAX_PARTS)
            return nb_s3_error(c, 400, "InvalidArgument",
                               "Part number must be an integer between 1 and 10000, inclusive",
                               "ArgumentName", "partNumber", NULL);
    }
    nb_s3_part *have;
    size_t nhave;
    int rc = nb_s3_part_list(nb_s3_g, u.upload_id, 0, NB_S3_MAX_PARTS, c->arena, &have, &nhave);
    if (rc) return nb_s3_store_error(c, rc, bucket, key);
    nb_s3_part *chosen = nb_arena_calloc(c->arena, n * sizeof *chosen);
    if (!chosen) return nb_s3_nomem(c);
    nb_md5_ctx md;
    nb_md5_init(&md);
    /* An upload created without a checksum algorithm still gives the object S3's default
     * checksum (AWS, since Dec 2024): a FULL_OBJECT CRC64NVME combined from its parts'
     * (dflt). Parts stored before parts kept one have none: the object then has none. */
    bool dflt = !u.checksum_algo;
    nb_cksum_algo ca = u.checksum_algo ? nb_cksum_algo_from_name(u.checksum_algo,
                                                                 strlen(u.checksum_algo))
                                       : NB_CKSUM_CRC64NVME;
    nb_cksum ck;
    bool ck_ok = ca != NB_CKSUM_NONE && nb_cksum_init(&ck, ca) == 0;
    /* FULL_OBJECT: the parts' CRCs combine into the CRC of the whole object (full_crc);
     * COMPOSITE: the checksum of the parts' raw checksums (ck) */
    const char *ctype = upload_ck_type(&u);
    bool full = dflt || (ctype && strcmp(ctype, "FULL_OBJECT") == 0), full_ok = full;
    uint64_t full_crc = 0;
    const char *asked_type = nb_in_str(c, "ChecksumType");
    if (asked_type && (!ctype || strcmp(asked_type, ctype) != 0)) {
        if (ck_ok) nb_cksum_free(&ck);
        return nb_s3_error(c, 400, "InvalidRequest",
                           nb_arena_printf(c->arena, "The upload was created using the %s checksum"
                                           " mode. The complete request must use the same"
                                           " checksum mode.", ctype ? ctype : "null"),
                           NULL);
    }
    int64_t total = 0;
    int last = 0;
    const char *pn_s = NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *pj = json_array_get(req, i);
        int pn = (int)json_integer_value(json_object_get(pj, "PartNumber"));
        const char *et = json_string_value(json_object_get(pj, "ETag"));
        char want[40];
        unquote(et ? et : "", want);
        pn_s = nb_arena_printf(c->arena, "%d", pn);
        if (pn <= last) {
            rc = nb_s3_error(c, 400, "InvalidPartOrder",
                             "The list of parts was not in ascending order. Parts must be ordered"
                             " by part number.",
                             "UploadId", u.upload_id, NULL);
            goto fail;
        }
        last = pn;
        const nb_s3_part *found = NULL;
        for (size_t j = 0; j < nhave && !found; j++)
            if (have[j].number == pn) found = &have[j];
        if (!found || strcmp(found->etag, want) != 0) {
            rc = nb_s3_error(c, 400, "InvalidPart",
                             "One or more of the specified parts could not be found.  The part may"
                             " not have been uploaded, or the specified entity tag may not match"
                             " the part's entity tag.",
                             "UploadId", u.upload_id, "PartNumber", pn_s, "ETag", et, NULL);
            goto fail;
        }
        /* An upload created with a checksum algorithm needs each part's checksum back, and
         * it must be the one the part was stored with (AWS). */
        const char *ckm = !dflt && ca != NB_CKSUM_NONE ? nb_s3_ck_member(ca) : NULL;
        if (ckm && found->checksum) {
            const char *given = json_string_value(json_object_get(pj, ckm));
            if (!given && !full) { /* a FULL_OBJECT completion may leave them out */
                rc = nb_s3_error(c, 400, "InvalidRequest",
                                 nb_arena_printf(c->arena,
                                                 "The upload was created using a %s checksum. The"
                                                 " complete request must include the checksum for"
                                                 " each part. It was missing for part %d in the"
                                                 " request.",
                                                 lower_algo(c, u.checksum_algo), pn),
                                 NULL);
                goto fail;
            }
            if (given && strcmp(given, found->checksum) != 0) {
                rc = nb_s3_error(c, 400, "InvalidPart",
                                 "One or more of the specified parts could not be found.  The part"
                                 " may not have been uploaded, or the specified entity tag may not"
                                 " match the part's entity tag.",
                                 "UploadId", u.upload_id, "PartNumber", pn_s, "ETag", et, NULL);
                goto fail;
            }
        }
        chosen[i] = *found;
        total += found->size;
        unsigned char raw[16];
        for (int k = 0; k < 16; k++) {
            unsigned v;
            sscanf(found->etag + 2 * k, "%2x", &v);
            raw[k] = (unsigned char)v;
        }
        nb_md5_update(&md, raw, 16);
        if (ck_ok && found->checksum) {
            unsigned char cr[NB_CKSUM_MAX_RAW + 4];
            ssize_t cn = nb_base64_decode(found->checksum, strlen(found->checksum), cr);
            if (cn > 0 && !full) nb_cksum_update(&ck, cr, (size_t)cn);
            if (full && cn == (ssize_t)nb_cksum_len(ca)) {
                uint64_t v = 0;
                for (ssize_t k = 0; k < cn; k++) v = v << 8 | cr[k];
                full_crc = i ? nb_cksum_crc_combine(ca, full_crc, v, (uint64_t)found->size) : v;
            } else if (full) {
                full_ok = false;
            }
        } else {
            full_ok = false;
        }
    }
    for (size_t i = 0; i + 1 < n; i++) {
        if (chosen[i].size < NB_S3_MIN_PART_SIZE) {
            char sz[24], pn2[16];
            snprintf(sz, sizeof sz, "%lld", (long long)chosen[i].size);
            snprintf(pn2, sizeof pn2, "%d", chosen[i].number);
            rc = nb_s3_error(c, 400, "EntityTooSmall",
                             "Your proposed upload is smaller than the minimum allowed size",
                             "ProposedSize", sz, "MinSizeAllowed", "5242880", "PartNumber", pn2,
                             "ETag", chosen[i].etag, NULL);
            goto fail;
        }
    }
    const char *mpu_size = nb_in_str(c, "MpuObjectSize");
    if (!mpu_size && json_is_integer(json_object_get(c->input, "MpuObjectSize")))
        mpu_size = nb_arena_printf(c->arena, "%lld", (long long)nb_in_int(c, "MpuObjectSize", 0));
    if (mpu_size && strtoll(mpu_size, NULL, 10) != total) {
        rc = nb_s3_error(c, 400, "InvalidRequest",
                         nb_arena_printf(c->arena, "The provided 'x-amz-mp-object-size' header"
                                         " value \"%s\" does not match what was computed:"
                                         " \"%lld\"", mpu_size, (long long)total),
                         NULL);
        goto fail;
    }
    char ckb[NB_CKSUM_MAX_B64] = "";
    if (full && full_ok) {
        unsigned char raw[8];
        size_t rn = nb_cksum_len(ca);
        for (size_t k = 0; k < rn; k++) raw[k] = (unsigned char)(full_crc >> (8 * (rn - 1 - k)));
        nb_cksum_to_b64(raw, rn, ckb);
        /* the whole object's checksum, when the client sends it, must be this one */
        const char *given = nb_in_str(c, nb_s3_ck_member(ca));
        if (given && strcmp(given, ckb) != 0) {
            rc = nb_s3_error(c, 400, "BadDigest",
                             nb_arena_printf(c->arena, "The %s you specified did not match the"
                                             " calculated checksum.",
                                             lower_algo(c, nb_cksum_name(ca))),
                             NULL);
            goto fail;
        }
    }
    unsigned char dig[16];
    nb_md5_final(&md, dig);
    nb_s3_object o;
    memset(&o, 0, sizeof o);
    nb_hex(dig, 16, o.etag);
    snprintf(o.etag + 32, sizeof o.etag - 32, "-%zu", n);
    o.key = key;
    o.key_len = kn;
    o.size = total;
    o.last_modified = now;
    o.lock = lock;
    o.storage_class = u.storage_class;
    o.owner = u.owner && *u.owner ? u.owner : b.account;
    const char *acl;
    o.attrs = u.attrs;
    unstash(c, &o.attrs, &acl);
    o.tags = u.tags;
    o.nparts = (int)n;
    o.enc = u.enc;
    o.enc_len = u.enc_len;
    if (ckb[0]) {
        o.checksums = nb_arena_printf(c->arena, "{\"%s\":\"%s\"}", nb_s3_ck_member(ca), ckb);
        ck_ok = false;
    } else if (ck_ok && !full) {
        unsigned char raw[NB_CKSUM_MAX_RAW];
        size_t rn = nb_cksum_final(&ck, raw);
        ck_ok = false;
        if (rn) {
            nb_cksum_to_b64(raw, rn, ckb);
            o.checksums = nb_arena_printf(c->arena, "{\"%s\":\"%s-%zu\"}", nb_s3_ck_member(ca),
                                          ckb, n);
        }
    }
    nb_s3_put p = {.bucket = bucket, .o = &o, .cond = cond, .upload_id = u.upload_id,
                   .parts = chosen, .nparts = n};
    rc = nb_s3_object_put(nb_s3_g, &p);
    if (rc == NB_S3_INVALID_PART)
        return nb_s3_error(c, 400, "InvalidPart",
                           "One or more of the specified parts could not be found.  The part may"
                           " not have been uploaded, or the specified entity tag may not match"
                           " the part's entity tag.",
                           "UploadId", u.upload_id, NULL);
    if (rc) return nb_s3_store_error(c, rc, bucket, key);
    nb_s3_upload_acl_apply(&o, acl);  /* acl.c */
    nb_s3_classes_written(c, &b, &o); /* x-amz-expiration, archive tier (lifecycle.h) */
    nb_s3_event_created(c, "s3:ObjectCreated:CompleteMultipartUpload", bucket, &o); /* events.c */
    json_t *out = json_pack("{s:s,s:s,s:s%,s:s}", "Location", object_url(c, bucket, key, kn),
                            "Bucket", bucket,
                            "Key", key, kn, "ETag", nb_s3_quote(c, o.etag));
    if (p.versioned) json_object_set_new(out, "VersionId", json_string(o.version_id));
    if (ckb[0]) {
        json_object_set_new(out, nb_s3_ck_member(ca),
                            json_string(full ? ckb : nb_arena_printf(c->arena, "%s-%zu", ckb, n)));
        json_object_set_new(out, "ChecksumType", json_string(full ? "FULL_OBJECT" : ctype));
    }
    nb_s3_sse none = {0};
    upload_sse_output(out, &u, &none);
    c->output = out;
    return 0;
fail:
    if (ck_ok) nb_cksum_free(&ck);
    return -1;
}

int nb_s3_op_abort_multipart_upload(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key;
    size_t kn;
    if (nb_s3_in_key_version(c, &key, &kn, NULL)) return -1;
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    const char *id = nb_in_str(c, "UploadId");
    int rc = nb_s3_upload_abort(nb_s3_g, bucket, key, kn, id ? id : "");
    return rc ? nb_s3_store_error(c, rc, bucket, key) : 0;
}

int nb_s3_op_list_parts(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key;
    size_t kn;
    if (nb_s3_in_key_version(c, &key, &kn, NULL)) return -1;
    nb_s3_upload u;
    nb_s3_bucket b;
    if (need_upload(c, bucket, key, kn, &u, &b)) return -1;
    json_int_t max = nb_in_int(c, "MaxParts", 1000);
    json_int_t marker_in = nb_in_int(c, "PartNumberMarker", 0);
    if (max < 0 || marker_in < 0)
        return nb_s3_error(c, 400, "InvalidArgument",
                           max < 0 ? "Argument max-parts must be an integer between 0 and 2147483647"
                                   : "Argument part-number-marker must be an integer between 0 and"
                                     " 2147483647",
                           "ArgumentName", max < 0 ? "max-parts" : "part-number-marker",
                           "ArgumentValue",
                           nb_arena_printf(c->arena, "%lld", (long long)(max < 0 ? max : marker_in)),
                           NULL);
    if (max > 1000) max = 1000;
    int marker = marker_in > NB_S3_MAX_PARTS ? NB_S3_MAX_PARTS : (int)marker_in;
    nb_s3_part *ps;
    size_t n;
    int rc = nb_s3_part_list(nb_s3_g, u.upload_id, marker, (int)max + 1, c->arena, &ps, &n);
    if (rc) return nb_s3_store_error(c, rc, bucket, key);
    bool truncated = n > (size_t)max;
    if (truncated) n = (size_t)max;
    json_t *arr = json_array();
    nb_cksum_algo ca = u.checksum_algo ? nb_cksum_algo_from_name(u.checksum_algo,
                                                                 strlen(u.checksum_algo))
                                       : NB_CKSUM_NONE;
    for (size_t i = 0; i < n; i++) {
        json_t *pj = json_pack("{s:i,s:f,s:s,s:I}", "PartNumber", ps[i].number, "LastModified",
                               ps[i].last_modified, "ETag", nb_s3_quote(c, ps[i].etag), "Size",
                               (json_int_t)ps[i].size);
        if (ps[i].checksum && nb_s3_ck_member(ca))
            json_object_set_new(pj, nb_s3_ck_member(ca), json_string(ps[i].checksum));
        /* an upload without an algorithm: each part's default CRC64NVME (AWS documents it
         * for ListParts); a part stored before kept the client's 4-byte CRC32: none */
        else if (ps[i].checksum && ca == NB_CKSUM_NONE && strlen(ps[i].checksum) == 12)
            json_object_set_new(pj, "ChecksumCRC64NVME", json_string(ps[i].checksum));
        json_array_append_new(arr, pj);
    }
    json_t *out = json_pack("{s:s,s:s%,s:s,s:i,s:I,s:b}", "Bucket", bucket, "Key", key, kn,
                            "UploadId", u.upload_id, "PartNumberMarker", marker, "MaxParts",
                            max, "IsTruncated", truncated);
    /* AWS names the last part listed whether or not the list is cut short */
    if (n) json_object_set_new(out, "NextPartNumberMarker", json_integer(ps[n - 1].number));
    if (json_array_size(arr))
        json_object_set_new(out, "Parts", arr);
    else
        json_decref(arr);
    json_object_set_new(out, "Initiator", nb_s3_owner_json(u.owner));
    json_object_set_new(out, "Owner", nb_s3_owner_json(u.owner));
    json_object_set_new(out, "StorageClass",
                        json_string(u.storage_class ? u.storage_class : "STANDARD"));
    if (u.checksum_algo) {
        json_object_set_new(out, "ChecksumAlgorithm", json_string(u.checksum_algo));
        json_object_set_new(out, "ChecksumType", json_string(upload_ck_type(&u)));
    }
    nb_s3_lc_abort_headers(c, &b, key, kn, u.initiated); /* lifecycle.h */
    c->output = out;
    return 0;
}

int nb_s3_op_list_multipart_uploads(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    json_t *pj = json_object_get(c->input, "Prefix"), *dj = json_object_get(c->input, "Delimiter");
    const char *prefix = json_is_string(pj) ? json_string_value(pj) : "";
    size_t plen = json_is_string(pj) ? json_string_length(pj) : 0;
    const char *delim = json_is_string(dj) ? json_string_value(dj) : NULL;
    size_t dlen = delim ? json_string_length(dj) : 0;
    json_t *kmj = json_object_get(c->input, "KeyMarker");
    const char *km = json_is_string(kmj) ? json_string_value(kmj) : NULL;
    size_t kml = km ? json_string_length(kmj) : 0;
    const char *um = nb_in_str(c, "UploadIdMarker");
    json_int_t max = nb_in_int(c, "MaxUploads", 1000);
    if (max < 0)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Argument max-uploads must be an integer between 0 and 2147483647",
                           "ArgumentName", "max-uploads", "ArgumentValue",
                           nb_arena_printf(c->arena, "%lld", (long long)max), NULL);
    if (max > 1000) max = 1000;
    json_t *ups = json_array(), *cps = json_array();
    size_t count = 0;
    bool truncated = false;
    const char *last_key = NULL, *last_id = NULL, *last_cp = NULL;
    size_t last_key_len = 0, last_cp_len = 0;
    const char *cur_km = km;
    size_t cur_kml = kml;
    const char *cur_um = um;
    for (;;) {
        nb_s3_upload *list;
        size_t n;
        int rc = nb_s3_upload_list(nb_s3_g, bucket, prefix, plen, cur_km, cur_kml, cur_um, 1000,
                                   c->arena, &list, &n);
        if (rc) {
            json_decref(ups);
            json_decref(cps);
            return nb_s3_store_error(c, rc, bucket, NULL);
        }
        for (size_t i = 0; i < n; i++) {
            nb_s3_upload *u = &list[i];
            const char *d = delim && dlen ? memmem(u->key + plen, u->key_len - plen, delim, dlen)
                                          : NULL;
            if (d) {
                size_t cpn = (size_t)(d - u->key) + dlen;
                if (last_cp && last_cp_len == cpn && memcmp(last_cp, u->key, cpn) == 0) continue;
                if (km && (cpn < kml ? memcmp(u->key, km, cpn) <= 0
                                     : memcmp(u->key, km, kml) < 0 ||
                                           (memcmp(u->key, km, kml) == 0 && cpn == kml)))
                    continue; /* returned by an earlier page */
                if (count == (size_t)max) {
                    truncated = true;
                    goto done;
                }
                json_array_append_new(cps, json_pack("{s:s%}", "Prefix", u->key, cpn));
                last_cp = u->key;
                last_cp_len = cpn;
                last_key = u->key;
                last_key_len = cpn;
                last_id = NULL;
                count++;
                continue;
            }
            if (count == (size_t)max) {
                truncated = true;
                goto done;
            }
            json_t *uj = json_pack("{s:s,s:s%,s:f,s:s}", "UploadId", u->upload_id, "Key", u->key,
                                   u->key_len, "Initiated", u->initiated, "StorageClass",
                                   u->storage_class ? u->storage_class : "STANDARD");
            json_object_set_new(uj, "Owner", nb_s3_owner_json(u->owner));
            json_object_set_new(uj, "Initiator", nb_s3_owner_json(u->owner));
            if (u->checksum_algo) {
                json_object_set_new(uj, "ChecksumAlgorithm", json_string(u->checksum_algo));
                json_object_set_new(uj, "ChecksumType", json_string(upload_ck_type(u)));
            }
            json_array_append_new(ups, uj);
            last_key = u->key;
            last_key_len = u->key_len;
            last_id = nb_arena_strdup(c->arena, u->upload_id);
            count++;
        }
        if (n < 1000) break;
        cur_km = list[n - 1].key;
        cur_kml = list[n - 1].key_len;
        cur_um = nb_arena_strdup(c->arena, list[n - 1].upload_id);
    }
done:
    if (max == 0) truncated = false; /* as ListObjects: asking for none is not a truncation */
    json_t *out = json_pack("{s:s,s:s%,s:s,s:I,s:b}", "Bucket", bucket, "KeyMarker", km ? km : "",
                            kml, "UploadIdMarker", um ? um : "", "MaxUploads", max, "IsTruncated",
                            truncated);
    if (plen || json_is_string(pj)) json_object_set_new(out, "Prefix", json_stringn(prefix, plen));
    if (delim) json_object_set_new(out, "Delimiter", json_string(delim));
    if (truncated && last_key) {
        json_object_set_new(out, "NextKeyMarker", json_stringn(last_key, last_key_len));
        json_object_set_new(out, "NextUploadIdMarker", json_string(last_id ? last_id : ""));
    }
    if (json_array_size(ups)) json_object_set(out, "Uploads", ups);
    if (json_array_size(cps)) json_object_set(out, "CommonPrefixes", cps);
    json_decref(ups);
    json_decref(cps);
    c->output = out;
    return 0;
}
