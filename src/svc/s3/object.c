/* object.c: object operations: PutObject (streamed to a new content file, then committed),
 * GetObject/HeadObject (conditions, ranges, parts, verified reads), DeleteObject(s),
 * CopyObject and object tagging. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "core/clock.h"
#include "svc/s3/access.h"
#include "svc/s3/events.h"
#include "svc/s3/handlers.h"
#include "svc/s3/lifecycle.h"

#define READ_CHUNK (256 * 1024)
#define MAX_OBJECT ((int64_t)5 << 30)    /* single PUT: 5 GiB */
#define SMALL_READ ((int64_t)4 << 20)    /* ranges up to this are read into memory */
#define MEM_SPAN ((int64_t)64 << 20)     /* multipart spans buffered without out_stream */
#define META_MAX 2048                    /* user metadata bytes, as AWS */

/* ---------------------------------------------------------------- ingest */

static const char *const ck_members[] = {"ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME",
                                         "ChecksumSHA1", "ChecksumSHA256"};
static const nb_cksum_algo ck_algos[] = {NB_CKSUM_CRC32, NB_CKSUM_CRC32C, NB_CKSUM_CRC64NVME,
                                         NB_CKSUM_SHA1, NB_CKSUM_SHA256};

const char *nb_s3_ck_member(nb_cksum_algo a)
{
    for (size_t i = 0; i < NB_ARRAY_LEN(ck_algos); i++)
        if (ck_algos[i] == a) return ck_members[i];
    return NULL;
}

const char *nb_s3_ck_type(const char *value)
{
    return value && strchr(value, '-') ? "COMPOSITE" : "FULL_OBJECT";
}

void nb_s3_ck_type_add(json_t *doc)
{
    for (size_t i = 0; i < NB_ARRAY_LEN(ck_members); i++) {
        const char *v = json_string_value(json_object_get(doc, ck_members[i]));
        if (v) {
            json_object_set_new(doc, "ChecksumType", json_string(nb_s3_ck_type(v)));
            return;
        }
    }
}

static bool b64_len_ok(const char *v, size_t want)
{
    size_t n = strlen(v);
    unsigned char raw[64];
    if (n > 60) return false;
    ssize_t k = nb_base64_decode(v, n, raw);
    return k == (ssize_t)want;
}

int nb_s3_checksum_given(nb_call *c, const char *(*get)(void *ud, const char *name), void *ud,
                         nb_cksum_algo *algo, const char **expect)
{
    *algo = NB_CKSUM_NONE;
    *expect = NULL;
    int count = 0;
    for (size_t i = 0; i < NB_ARRAY_LEN(ck_algos); i++) {
        const char *hn = nb_cksum_header(ck_algos[i]);
        const char *v = get(ud, hn);
        if (!v) continue;
        count++;
        if (!b64_len_ok(v, nb_cksum_len(ck_algos[i]))) {
            char msg[128];
            snprintf(msg, sizeof msg, "Value for %s header is invalid.", hn);
            return nb_s3_error(c, 400, "InvalidRequest", msg, NULL);
        }
        *algo = ck_algos[i];
        *expect = v;
    }
    if (count > 1)
        return nb_s3_error(c, 400, "InvalidRequest",
                           "Expecting a single x-amz-checksum- header. Multiple checksum Types are"
                           " not allowed.",
                           NULL);
    return 0;
}

int nb_s3_checksum_unsupported(nb_call *c)
{
    return nb_s3_error(c, 400, "InvalidRequest",
                       "Checksum algorithm provided is unsupported. Please try again with any of"
                       " the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                       NULL);
}

static const char *header_of(void *ud, const char *name)
{
    return nb_call_header(ud, name);
}

int nb_s3_ingest_prepare(nb_call *c, nb_s3_ingest *in)
{
    memset(in, 0, sizeof *in);
    in->ck_algo = NB_CKSUM_NONE;
    in->max_size = MAX_OBJECT;
    in->inline_max = -1;
    /* AWS needs the length up front: none (and no chunked body) is 411, and a declared length
     * over the limit is refused before the client sends the body. */
    const char *cl = nb_call_header(c, "Content-Length");
    const char *dl = nb_call_header(c, "x-amz-decoded-content-length");
    if (!cl && !nb_call_header(c, "Transfer-Encoding"))
        return nb_s3_error(c, 411, "MissingContentLength",
                           "You must provide the Content-Length HTTP header.", NULL);
    if ((dl || cl) && strtoll(dl ? dl : cl, NULL, 10) > in->max_size)
        return nb_s3_error(c, 400, "EntityTooLarge",
                           "Your proposed upload exceeds the maximum allowed size",
                           "ProposedSize", dl ? dl : cl, "MaxSizeAllowed", "5368709120", NULL);
    const char *md5 = nb_in_str(c, "ContentMD5");
    if (!md5) md5 = nb_call_header(c, "Content-MD5");
    if (md5) {
        unsigned char *raw = nb_arena_alloc(c->arena, strlen(md5) + 4);
        ssize_t k = raw ? nb_base64_decode(md5, strlen(md5), raw) : -1;
        if (k != 16)
            return nb_s3_error(c, 400, "InvalidDigest", "The Content-MD5 you specified is not valid.",
                               "Content-MD5", md5, NULL);
        in->md5_expect = raw;
    }
    if (nb_s3_checksum_given(c, header_of, c, &in->ck_algo, &in->ck_expect)) return -1;
    if (in->ck_algo == NB_CKSUM_NONE) {
        const char *tr = nb_call_header(c, "x-amz-trailer");
        if (tr) {
            while (*tr == ' ') tr++;
            nb_cksum_algo a = nb_cksum_algo_from_header(tr, strlen(tr));
            if (a != NB_CKSUM_NONE) {
                in->ck_algo = a;
                in->ck_trailer = nb_cksum_header(a);
            }
        }
    }
    if (in->ck_algo == NB_CKSUM_NONE) {
        const char *alg = nb_call_header(c, "x-amz-sdk-checksum-algorithm");
        if (!alg) alg = nb_call_header(c, "x-amz-checksum-algorithm");
        if (alg) {
            nb_cksum_algo a = nb_cksum_algo_from_name(alg, strlen(alg));
            if (a == NB_CKSUM_NONE) return nb_s3_checksum_unsupported(c);
            in->ck_algo = a;
        }
    }
    return 0;
}

/* Forget a customer key once it is no longer needed. */
static void sse_forget(nb_s3_sse *sse)
{
    volatile unsigned char *p = sse->key;
    for (size_t i = 0; i < sizeof sse->key; i++) p[i] = 0;
}

/* Remove the content an ingest produced (refused or uncommitted write). */
static void ingest_discard(nb_s3_ingest *in)
{
    if (in->blob[0]) nb_s3_content_unlink(nb_s3_store_content(nb_s3_g), in->blob);
    in->blob[0] = 0;
}

int nb_s3_ingest_body(nb_call *c, nb_s3_ingest *in)
{
    nb_s3_writer w;
    if (nb_s3_writer_start(nb_s3_store_content(nb_s3_g), &w, in->ck_algo, in->inline_max,
                           in->sse) < 0)
        return nb_s3_internal(c, "cannot start writing content");
    /* small bodies are read straight into a small buffer; large ones in 256 KiB reads */
    char stackbuf[16384];
    char *buf = stackbuf;
    size_t bufsize = sizeof stackbuf;
    int rc = 0;
    /* the default checksum beside the client's own one (multipart parts of uploads created
     * without an algorithm: S3 gives the object a FULL_OBJECT CRC64NVME) */
    bool ck64 = in->ck64 && in->ck_algo != NB_CKSUM_CRC64NVME;
    uint64_t crc64 = 0;
    for (;;) {
        ssize_t k = nb_call_read(c, buf, bufsize);
        if (k < 0) {
            rc = -1; /* c->err filled by the reader */
            break;
        }
        if (k == 0) break;
        if (w.size + k > in->max_size) {
            char sz[32], mx[32];
            snprintf(sz, sizeof sz, "%lld", (long long)(w.size + k));
            snprintf(mx, sizeof mx, "%lld", (long long)in->max_size);
            rc = nb_s3_error(c, 400, "EntityTooLarge",
                             "Your proposed upload exceeds the maximum allowed size",
                             "ProposedSize", sz, "MaxSizeAllowed", mx, NULL);
            break;
        }
        if (ck64) crc64 = nb_crc64nvme(crc64, buf, (size_t)k);
        if (nb_s3_writer_write(&w, buf, (size_t)k) < 0) {
            rc = nb_s3_internal(c, "cannot write a content file");
            break;
        }
        if (buf == stackbuf && w.size >= (int64_t)sizeof stackbuf) {
            char *big = malloc(READ_CHUNK);
            if (big) {
                buf = big;
                bufsize = READ_CHUNK;
            }
        }
    }
    if (buf != stackbuf) free(buf);
    if (rc) {
        nb_s3_writer_free(&w, true);
        return -1;
    }
    unsigned char ck[NB_CKSUM_MAX_RAW];
    size_t ckn = 0;
    if (nb_s3_writer_finish(&w, in->md5, ck, &ckn) < 0) {
        nb_s3_writer_free(&w, true);
        return nb_s3_internal(c, "cannot make a content file durable");
    }
    in->size = w.size;
    nb_hex(in->md5, 16, in->etag);
    snprintf(in->blob, sizeof in->blob, "%s", w.is_inline ? "" : w.id);
    in->is_inline = w.is_inline;
    in->enc_len = w.enc_len;
    if (w.enc_len) memcpy(in->enc, w.enc, w.enc_len);
    in->crcs_len = w.crcs.len;
    in->crcs = nb_arena_alloc(c->arena, w.crcs.len);
    if (in->crcs) memcpy(in->crcs, w.crcs.data, w.crcs.len);
    if (w.is_inline) {
        char *d = nb_arena_alloc(c->arena, (size_t)w.size + 1);
        if (d && w.size) memcpy(d, w.buf, (size_t)w.size);
        in->data = d;
        if (!d) in->crcs = NULL;
    }
    nb_s3_writer_free(&w, false);
    if (!in->crcs) goto nomem;
    if (ckn) nb_cksum_to_b64(ck, ckn, in->ck_b64);
    if (ck64) {
        unsigned char raw[8];
        for (int i = 0; i < 8; i++) raw[i] = (unsigned char)(crc64 >> (56 - 8 * i));
        nb_cksum_to_b64(raw, 8, in->ck64_b64);
    } else if (in->ck64) {
        memcpy(in->ck64_b64, in->ck_b64, sizeof in->ck64_b64);
    }
    if (in->md5_expect && memcmp(in->md5_expect, in->md5, 16) != 0) {
        char exp[32], got[32];
        nb_base64_encode(in->md5_expect, 16, exp);
        nb_base64_encode(in->md5, 16, got);
        ingest_discard(in);
        return nb_s3_error(c, 400, "BadDigest",
                           "The Content-MD5 you specified did not match what we received.",
                           "ExpectedDigest", exp, "CalculatedDigest", got, NULL);
    }
    const char *expect = in->ck_expect;
    if (!expect && in->ck_trailer) expect = nb_call_trailer(c, in->ck_trailer);
    if (expect && ckn && strcmp(expect, in->ck_b64) != 0) {
        ingest_discard(in);
        char msg[128];
        snprintf(msg, sizeof msg, "The %s you specified did not match the calculated checksum.",
                 nb_cksum_name(in->ck_algo));
        return nb_s3_error(c, 400, "BadDigest", msg, NULL);
    }
    return 0;
nomem:
    ingest_discard(in);
    return nb_s3_nomem(c);
}

/* ---------------------------------------------------------------- attributes */

static const char *const sys_members[] = {"ContentType",     "ContentEncoding",
                                          "ContentDisposition", "ContentLanguage",
                                          "CacheControl",    "WebsiteRedirectLocation",
                                          "SSEKMSKeyId"};

int nb_s3_storage_class(nb_call *c, const char **out)
{
    /* the classes AWS accepts on a general purpose bucket (OUTPOSTS and EXPRESS_ONEZONE
     * belong to other bucket kinds: InvalidStorageClass, as AWS answers) */
    static const char *const ok[] = {"STANDARD",    "REDUCED_REDUNDANCY", "STANDARD_IA",
                                     "ONEZONE_IA",  "INTELLIGENT_TIERING", "GLACIER",
                                     "DEEP_ARCHIVE", "GLACIER_IR"};
    const char *sc = nb_in_str(c, "StorageClass");
    *out = "STANDARD";
    if (!sc) return 0;
    for (size_t i = 0; i < NB_ARRAY_LEN(ok); i++)
        if (strcmp(sc, ok[i]) == 0) {
            *out = ok[i];
            return 0;
        }
    return nb_s3_error(c, 400, "InvalidStorageClass", "The storage class you specified is not valid",
                       "StorageClassRequested", sc, NULL);
}

/* x-amz-website-redirect-location: a path or an http(s) URL (AWS's refusal otherwise). */
static int check_redirect(nb_call *c, const char *v)
{
    if (v[0] == '/' || strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) return 0;
    return nb_s3_error(c, 400, "InvalidArgument",
                       "The website redirect location must have a prefix of 'http://' or"
                       " 'https://' or '/'",
                       "ArgumentName", "x-amz-website-redirect-location", "ArgumentValue", v,
                       NULL);
}

/* The stored attributes of a new object from the request: system headers, user metadata
 * (names lowercased, as S3 stores them), encryption. JSON text in the arena. */
int nb_s3_build_attrs(nb_call *c, const char **out)
{
    const char *vals[NB_ARRAY_LEN(sys_members)];
    bool any = false;
    for (size_t i = 0; i < NB_ARRAY_LEN(sys_members); i++)
        any |= (vals[i] = nb_in_str(c, sys_members[i])) != NULL;
    json_t *meta = json_object_get(c->input, "Metadata");
    if (!any && !json_object_get(c->input, "Expires") && !nb_in_str(c, "ServerSideEncryption") &&
        !nb_in_str(c, "SSECustomerKeyMD5") && !nb_in_bool(c, "BucketKeyEnabled", false) &&
        !(json_is_object(meta) && json_object_size(meta))) {
        /* the plain PUT (no headers of the object's own): what the general path below
         * produces for it, without building and dumping a JSON object on every request */
        *out = "{\"ContentType\":\"binary/octet-stream\",\"ServerSideEncryption\":\"AES256\"}";
        return 0;
    }
    json_t *a = json_object();
    for (size_t i = 0; i < NB_ARRAY_LEN(sys_members); i++) {
        const char *v = vals[i];
        if (!v) continue;
        if (strcmp(sys_members[i], "WebsiteRedirectLocation") == 0 && check_redirect(c, v)) {
            json_decref(a);
            return -1;
        }
        if (strcmp(sys_members[i], "ContentEncoding") == 0) {
            /* aws-chunked is framing, not the object's encoding: S3 drops it. */
            nb_buf b;
            nb_buf_init(&b);
            const char *p = v;
            while (*p) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                while (n && *p == ' ') p++, n--;
                size_t m = n;
                while (m && p[m - 1] == ' ') m--;
                if (m && !(m == 11 && strncasecmp(p, "aws-chunked", 11) == 0)) {
                    if (b.len) nb_buf_putc(&b, ',');
                    nb_buf_append(&b, p, m);
                }
                p += n + (comma ? 1 : 0);
                if (!comma) break;
            }
            if (b.len) json_object_set_new(a, "ContentEncoding", json_string(b.data));
            nb_buf_free(&b);
            continue;
        }
        json_object_set_new(a, sys_members[i], json_string(v));
    }
    if (!json_object_get(a, "ContentType"))
        json_object_set_new(a, "ContentType", json_string("binary/octet-stream"));
    json_t *exp = json_object_get(c->input, "Expires");
    if (json_is_number(exp)) json_object_set(a, "Expires", exp);
    const char *sse = nb_in_str(c, "ServerSideEncryption");
    const char *ssec = nb_in_str(c, "SSECustomerKeyMD5");
    if (ssec && nb_in_str(c, "SSECustomerAlgorithm")) {
        /* SSE-C: the algorithm and the key's MD5 are echoed on reads; the key is not kept */
        json_object_set_new(a, "SSECustomerAlgorithm", json_string("AES256"));
        json_object_set_new(a, "SSECustomerKeyMD5", json_string(ssec));
    } else {
        /* AWS encrypts every new object with SSE-S3 by default (since 2023) and says so. */
        json_object_set_new(a, "ServerSideEncryption", json_string(sse ? sse : "AES256"));
    }
    if (nb_in_bool(c, "BucketKeyEnabled", false))
        json_object_set_new(a, "BucketKeyEnabled", json_true());
    if (json_is_object(meta) && json_object_size(meta)) {
        json_t *m = json_object();
        size_t total = 0;
        const char *k;
        json_t *v;
        json_object_foreach(meta, k, v)
        {
            if (!json_is_string(v)) continue;
            /* a control character (the HTTP parser lets one through only at the start of a
             * value) is refused as the parser refuses it elsewhere in the value */
            const char *sv = json_string_value(v);
            for (size_t i = 0; i < json_string_length(v); i++)
                if (((unsigned char)sv[i] < 0x20 && sv[i] != '\t') || sv[i] == 0x7f) {
                    json_decref(m);
                    json_decref(a);
                    return nb_s3_error(c, 400, "BadRequest",
                                       "An error occurred when parsing the HTTP request.", NULL);
                }
            size_t kn = strlen(k);
            char *lk = nb_arena_strdup(c->arena, k);
            if (!lk) continue;
            for (size_t i = 0; i < kn; i++)
                if (lk[i] >= 'A' && lk[i] <= 'Z') lk[i] = (char)(lk[i] - 'A' + 'a');
            total += kn + json_string_length(v);
            json_object_set(m, lk, v);
        }
        json_object_set_new(a, "Metadata", m);
        if (total > META_MAX) {
            json_decref(a);
            char sz[32];
            snprintf(sz, sizeof sz, "%zu", total);
            return nb_s3_error(c, 400, "MetadataTooLarge",
                               "Your metadata headers exceed the maximum allowed metadata size",
                               "Size", sz, "MaxSizeAllowed", "2048", NULL);
        }
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    *out = s ? nb_arena_strdup(c->arena, s) : NULL;
    free(s);
    return *out ? 0 : nb_s3_nomem(c);
}

/* Conditions of a write (If-None-Match: * and If-Match on PutObject / Complete). */
int nb_s3_write_conditions(nb_call *c, nb_s3_write_cond *cond)
{
    memset(cond, 0, sizeof *cond);
    const char *inm = nb_in_str(c, "IfNoneMatch");
    if (!inm) inm = nb_call_header(c, "If-None-Match");
    const char *im = nb_in_str(c, "IfMatch");
    if (!im) im = nb_call_header(c, "If-Match");
    if (inm) {
        while (*inm == ' ') inm++;
        if (strcmp(inm, "*") != 0)
            return nb_s3_error(c, 501, "NotImplemented",
                               "A header you provided implies functionality that is not"
                               " implemented",
                               "Header", "If-None-Match", NULL);
        cond->if_none_match_any = true;
    }
    cond->if_match = im;
    return 0;
}

/* ---------------------------------------------------------------- PutObject */

int nb_s3_op_put_object(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key;
    size_t key_len;
    if (nb_s3_in_key_version(c, &key, &key_len, NULL)) return -1;
    if (nb_s3_check_key(c, key_len)) return -1;
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    nb_s3_ingest in;
    if (nb_s3_ingest_prepare(c, &in)) return -1;
    nb_s3_sse sse;
    if (nb_s3_sse_for_write(c, &b, &sse)) return -1;
    const char *attrs, *tags, *sc;
    nb_s3_write_cond cond;
    if (nb_s3_build_attrs(c, &attrs) || nb_s3_tags_from_header(c, nb_in_str(c, "Tagging"), &tags) ||
        nb_s3_storage_class(c, &sc) || nb_s3_write_conditions(c, &cond))
        return -1;
    nb_s3_lock lock;
    bool lock_asked;
    double now = nb_clock_now_f();
    if (nb_s3_lock_from_request(c, &b, &lock, &lock_asked) ||
        nb_s3_lock_default(c, &b, now, &lock))
        return -1;
    /* AWS: an upload with Object Lock parameters (or a bucket default retention) must carry
     * an integrity check of its body */
    if ((lock_asked || lock.mode[0]) && !in.md5_expect && in.ck_algo == NB_CKSUM_NONE)
        return nb_s3_error(c, 400, "InvalidRequest",
                           "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object"
                           " requests with Object Lock parameters",
                           NULL);
    /* AWS stores a CRC64NVME (FULL_OBJECT) of every object uploaded without a checksum and
     * returns it under ChecksumMode=ENABLED */
    if (in.ck_algo == NB_CKSUM_NONE) in.ck_algo = NB_CKSUM_CRC64NVME;
    in.inline_max = NB_S3_INLINE_MAX;
    in.sse = &sse;
    if (nb_s3_ingest_body(c, &in)) return -1;

    nb_s3_object o;
    memset(&o, 0, sizeof o);
    o.key = key;
    o.key_len = key_len;
    o.size = in.size;
    memcpy(o.etag, in.etag, sizeof in.etag);
    o.last_modified = now;
    o.lock = lock;
    o.storage_class = sc;
    o.owner = nb_s3_object_owner(c, &b); /* Object Ownership (acl.c) */
    o.attrs = attrs;
    o.tags = tags;
    o.blob = in.is_inline ? NULL : in.blob;
    o.data = in.data;
    o.data_len = (size_t)in.size;
    o.crcs = in.crcs;
    o.crcs_len = in.crcs_len;
    o.enc = in.enc_len ? in.enc : NULL;
    o.enc_len = in.enc_len;
    const char *ckm = nb_s3_ck_member(in.ck_algo);
    if (ckm) o.checksums = nb_arena_printf(c->arena, "{\"%s\":\"%s\"}", ckm, in.ck_b64);
    nb_s3_put p = {.bucket = bucket, .o = &o, .cond = cond};
    int rc = nb_s3_object_put(nb_s3_g, &p);
    sse_forget(&sse);
    if (rc) {
        ingest_discard(&in);
        return nb_s3_store_error(c, rc, bucket, key);
    }
    nb_s3_object_written(c, bucket, &o); /* its ACL headers (acl.c) */
    nb_s3_classes_written(c, &b, &o);     /* x-amz-expiration, archive tier (lifecycle.h) */
    nb_s3_event_created(c, "s3:ObjectCreated:Put", bucket, &o); /* notifications (events.c) */
    json_t *out = json_pack("{s:s}", "ETag", nb_s3_quote(c, o.etag));
    if (p.versioned) json_object_set_new(out, "VersionId", json_string(o.version_id));
    if (ckm) json_object_set_new(out, ckm, json_string(in.ck_b64));
    nb_s3_ck_type_add(out);
    nb_s3_sse_output(out, nb_in_str(c, "ServerSideEncryption"), &sse);
    c->output = out;
    return 0;
}

/* ---------------------------------------------------------------- reads */

/* Look up the version a GET/HEAD names (bucket, version and, per flags, manifest and inline
 * bytes in one read), turning delete markers into S3's answers. */
static int resolve(nb_call *c, const char *bucket, const char *key, size_t key_len,
                   unsigned flags, nb_s3_bucket *b, nb_s3_object *o, const char *method)
{
    const char *version;
    if (nb_s3_in_version(c, &version)) return -1;
    int rc = nb_s3_object_read(nb_s3_g, bucket ? bucket : "", key, key_len, version, flags,
                               c->arena, b, o);
    if (rc == NB_S3_NO_BUCKET) return nb_s3_store_error(c, rc, bucket, key);
    if (rc == NB_S3_OK || rc == NB_S3_NO_KEY || rc == NB_S3_NO_VERSION) {
        /* the bucket was read: the caller must be allowed to see it before anything else */
        if (nb_s3_bucket_access(c, b)) return -1;
    }
    if (rc == NB_S3_NO_KEY && nb_s3_may_list(c, b->name)) return -1;
    if (rc) return nb_s3_store_error(c, rc, bucket, key);
    if (o->delete_marker) {
        nb_s3_add_header(c, "x-amz-delete-marker", "true");
        nb_s3_add_header(c, "x-amz-version-id", o->version_id);
        if (version) {
            /* AWS documents Last-Modified on this 405: SDKs read the marker's date from it */
            char lm[40];
            nb_s3_http_date(o->last_modified, lm);
            nb_s3_add_header(c, "Last-Modified", nb_arena_strdup(c->arena, lm));
            return nb_s3_error(c, 405, "MethodNotAllowed",
                               "The specified method is not allowed against this resource.",
                               "Method", method, "ResourceType", "DeleteMarker", NULL);
        }
        return nb_s3_error(c, 404, "NoSuchKey", "The specified key does not exist.", "Key", key,
                           NULL);
    }
    return 0;
}

/* HTTP dates have one-second resolution: compare whole seconds. */
static double whole(double t) { return floor(t); }

static double in_time(nb_call *c, const char *member)
{
    json_t *v = json_object_get(c->input, member);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* GET/HEAD conditions: 0 = go on, 1 = 304 Not Modified, -1 = 412 (error set). */
static int read_conditions(nb_call *c, const nb_s3_object *o)
{
    const char *im = nb_in_str(c, "IfMatch");
    const char *inm = nb_in_str(c, "IfNoneMatch");
    double ius = in_time(c, "IfUnmodifiedSince"), ims = in_time(c, "IfModifiedSince");
    double lm = whole(o->last_modified);
    if (im && !nb_s3_etag_matches(im, o->etag))
        return nb_s3_error(c, 412, "PreconditionFailed",
                           "At least one of the pre-conditions you specified did not hold",
                           "Condition", "If-Match", NULL);
    if (!im && !isnan(ius) && lm > ius)
        return nb_s3_error(c, 412, "PreconditionFailed",
                           "At least one of the pre-conditions you specified did not hold",
                           "Condition", "If-Unmodified-Since", NULL);
    if (inm && nb_s3_etag_matches(inm, o->etag)) return 1;
    if (!inm && !isnan(ims) && lm <= ims) return 1;
    return 0;
}

int nb_s3_parse_range(const char *h, int64_t size, int64_t *start, int64_t *end)
{
    if (!h) return 0;
    while (*h == ' ') h++;
    if (strncasecmp(h, "bytes=", 6) != 0) return 0;
    h += 6;
    if (strchr(h, ',')) return 0; /* S3 ignores multi-range requests: whole object */
    char *e;
    if (*h == '-') {
        errno = 0;
        long long n = strtoll(h + 1, &e, 10);
        if (e == h + 1 || *e || errno || n < 0) return 0;
        if (n == 0 || size == 0) return -1;
        *start = n >= size ? 0 : size - n;
        *end = size - 1;
        return 1;
    }
    errno = 0;
    long long a = strtoll(h, &e, 10);
    if (e == h || *e != '-' || errno || a < 0) return 0;
    const char *bpos = e + 1;
    long long bv = -1;
    if (*bpos) {
        bv = strtoll(bpos, &e, 10);
        if (e == bpos || *e || errno) return 0;
        if (bv < a) return 0; /* syntactically invalid: ignored, as RFC 7233 says */
    }
    if (a >= size) return -1;
    *start = a;
    *end = bv < 0 || bv >= size ? size - 1 : bv;
    return 1;
}

/* The stored attributes of most objects are a flat object of plain strings (ContentType and
 * a few more, as nb_s3_build_attrs writes them): read those directly, which costs a fraction of
 * json_loads on the GET path; anything else (escapes, nested Metadata, numbers) goes through
 * json_loads. */
static json_t *load_attrs(const char *s)
{
    json_t *out = json_object();
    const char *p = s;
    if (!out || *p++ != '{') goto slow;
    if (*p == '}' && !p[1]) return out;
    for (;;) {
        const char *k, *v;
        size_t kn, vn;
        if (*p++ != '"') goto slow;
        for (k = p; *p && *p != '"' && *p != '\\'; p++) {
        }
        if (*p != '"') goto slow;
        kn = (size_t)(p - k);
        if (*++p != ':' || *++p != '"') goto slow;
        for (v = ++p; *p && *p != '"' && *p != '\\'; p++) {
        }
        if (*p != '"') goto slow;
        vn = (size_t)(p - v);
        char key[64];
        if (kn >= sizeof(key)) goto slow;
        memcpy(key, k, kn);
        key[kn] = 0;
        json_t *js = json_stringn(v, vn); /* NULL if not UTF-8: json_loads decides */
        if (!js || json_object_set_new(out, key, js) < 0) goto slow;
        p++;
        if (*p == '}' && !p[1]) return out;
        if (*p++ != ',') goto slow;
    }
slow:
    json_decref(out);
    return json_loads(s, 0, NULL);
}

/* User metadata values with bytes outside printable US-ASCII go out RFC 2047-encoded
 * ("=?UTF-8?B?<base64>?="), as AWS documents: header values are not UTF-8. */
static void metadata_mail_safe(nb_call *c, json_t *out)
{
    json_t *m = json_object_get(out, "Metadata");
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        const unsigned char *s = (const unsigned char *)json_string_value(v);
        size_t n = json_string_length(v), i = 0;
        while (s && i < n && s[i] >= 0x20 && s[i] < 0x7f) i++;
        if (!s || i == n) continue;
        char *enc = nb_arena_alloc(c->arena, nb_base64_encoded_len(n) + 1);
        if (!enc) continue;
        nb_base64_encode(s, n, enc);
        json_object_set_new(m, k, json_string(nb_arena_printf(c->arena, "=?UTF-8?B?%s?=", enc)));
    }
}

/* The output document shared by GET and HEAD (headers from stored attributes). */
static json_t *object_doc(nb_call *c, const nb_s3_object *o, const nb_s3_bucket *b)
{
    json_t *out = o->attrs ? load_attrs(o->attrs) : NULL;
    if (!out) out = json_object();
    metadata_mail_safe(c, out);
    json_object_set_new(out, "ETag", json_string(nb_s3_quote(c, o->etag)));
    json_object_set_new(out, "LastModified", json_real(whole(o->last_modified)));
    json_object_set_new(out, "AcceptRanges", json_string("bytes"));
    if (b->versioning != NB_S3_VERSIONING_OFF || strcmp(o->version_id, "null") != 0)
        json_object_set_new(out, "VersionId", json_string(o->version_id));
    if (o->storage_class && strcmp(o->storage_class, "STANDARD") != 0)
        json_object_set_new(out, "StorageClass", json_string(o->storage_class));
    nb_s3_lock_output(c, b, out, &o->lock);
    if (o->tags) {
        json_t *t = json_loads(o->tags, 0, NULL);
        if (json_array_size(t))
            json_object_set_new(out, "TagCount", json_integer((json_int_t)json_array_size(t)));
        json_decref(t);
    }
    const char *mode = nb_in_str(c, "ChecksumMode");
    if (mode && strcasecmp(mode, "ENABLED") == 0 && o->checksums) {
        json_t *ck = json_loads(o->checksums, 0, NULL);
        if (ck) json_object_update(out, ck);
        json_decref(ck);
        nb_s3_ck_type_add(out);
    }
    /* response-* overrides (GET only; members absent on HEAD) */
    static const char *const ov[][2] = {{"ResponseContentType", "ContentType"},
                                        {"ResponseContentLanguage", "ContentLanguage"},
                                        {"ResponseContentDisposition", "ContentDisposition"},
                                        {"ResponseContentEncoding", "ContentEncoding"},
                                        {"ResponseCacheControl", "CacheControl"},
                                        {"ResponseExpires", "Expires"}};
    for (size_t i = 0; i < NB_ARRAY_LEN(ov); i++) {
        json_t *v = json_object_get(c->input, ov[i][0]);
        if (v) json_object_set(out, ov[i][1], v);
    }
    return out;
}

/* A piece of content to send: a file (or inline bytes) + range + integrity table +
 * encryption record. */
typedef struct piece {
    const char *blob;          /* NULL: inline bytes in data */
    const char *data;
    const unsigned char *crcs;
    size_t crcs_len;
    const unsigned char *enc;  /* NULL: stored in the clear */
    size_t enc_len;
    int64_t fsize; /* size of the unit */
    int64_t off;   /* within the unit */
    int64_t len;
} piece;

typedef struct stream_ctx {
    piece *pieces;
    size_t n;
    nb_s3_sse key; /* SSE-C key of the request (mode NONE otherwise) */
} stream_ctx;

static int open_piece(nb_call *c, const piece *p)
{
    int fd = nb_s3_content_openfd(nb_s3_store_content(nb_s3_g), p->blob);
    if (fd < 0)
        nb_error("s3: request %s: content file %s: %s", c->request_id, p->blob, strerror(errno));
    return fd;
}

/* Decrypt bytes [off, off+n) of a piece's unit in place (no-op for clear pieces). */
static int piece_decrypt(const piece *p, const nb_s3_sse *key, nb_s3_cipher *ci, bool *open,
                         int64_t off, char *buf, size_t n)
{
    if (!p->enc) return 0;
    if (!*open) {
        if (nb_s3_cipher_open(p->enc, p->enc_len, key, ci) < 0) return -1;
        *open = true;
    }
    return nb_s3_cipher_apply(ci, off, buf, n);
}

/* out_stream (on a worker): a clear piece is queued whole for sendfile, and each block is
 * checked just before it is sent (nb_resp_sendfile_checked), by this worker a few blocks
 * ahead of the loop or, when the worker lags, by the loop itself: the bytes the
 * kernel sends are the ones just checked (files never change after they are written), still
 * in the CPU's cache for the copy to the client. Encrypted pieces are read, checked,
 * decrypted and written block by block here. */
static int stream_pieces(nb_call *c)
{
    stream_ctx *s = c->out_stream_ud;
    char *buf = malloc((size_t)NB_S3_BLOCK * 2);
    if (!buf) return -1;
    int rc = 0;
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        piece *p = &s->pieces[i];
        if (!p->blob) { /* inline (only small units; decrypt a copy) */
            char *tmp = buf;
            memcpy(tmp, p->data + p->off, (size_t)p->len);
            nb_s3_cipher ci;
            bool open = false;
            if (nb_s3_inline_verify(p->data, p->fsize, p->crcs, p->crcs_len, "a part") < 0 ||
                piece_decrypt(p, &s->key, &ci, &open, p->off, tmp, (size_t)p->len) < 0 ||
                nb_resp_write(c->http, tmp, (size_t)p->len) < 0)
                rc = -1;
            if (open) nb_s3_cipher_free(&ci);
            continue;
        }
        int fd = open_piece(c, p);
        if (fd < 0) {
            rc = -1;
            break;
        }
        nb_s3_cipher ci;
        bool open = false;
        int64_t pos = p->off, end = p->off + p->len;
        while (pos < end) {
            if (p->enc) {
                int64_t wend = (pos / NB_S3_BLOCK + 1) * NB_S3_BLOCK;
                if (wend > end) wend = end;
                size_t k = (size_t)(wend - pos);
                if (nb_s3_content_read(fd, p->blob, p->crcs, p->crcs_len, p->fsize, pos,
                                       (int64_t)k, buf, buf + NB_S3_BLOCK) < 0 ||
                    piece_decrypt(p, &s->key, &ci, &open, pos, buf, k) < 0 ||
                    nb_resp_write(c->http, buf, k) < 0) {
                    rc = -1;
                    break;
                }
                pos = wend;
                continue;
            }
            nb_s3_check *k = nb_s3_check_new(p->blob, p->crcs, p->crcs_len, p->fsize);
            int afd = k ? dup(fd) : -1;
            if (afd >= 0) nb_s3_check_ref(k);
            if (!k || nb_resp_sendfile_checked(c->http, fd, (off_t)pos, (size_t)(end - pos),
                                               nb_s3_check_next, k, nb_s3_check_free) < 0)
                rc = -1;
            if (!k) close(fd);
            fd = -1; /* the server's now */
            if (afd >= 0) { /* check ahead of the loop that sends it, while it does */
                nb_s3_check_ahead(k, afd, pos, end);
                close(afd);
            }
            break;
        }
        if (open) nb_s3_cipher_free(&ci);
        if (fd >= 0) close(fd);
    }
    free(buf);
    volatile unsigned char *kp = s->key.key;
    for (size_t i = 0; i < sizeof s->key.key; i++) kp[i] = 0;
    return rc;
}

/* Read pieces into one memory buffer (small ranges), verified and decrypted. */
static int read_pieces(nb_call *c, piece *ps, size_t n, int64_t total, const nb_s3_sse *key,
                       char **out)
{
    char *mem = nb_arena_alloc(c->arena, (size_t)total + 1);
    char *scratch = NULL;
    if (!mem) return nb_s3_nomem(c);
    int64_t done = 0;
    for (size_t i = 0; i < n; i++) {
        const piece *p = &ps[i];
        int rc;
        if (!p->blob) {
            rc = nb_s3_inline_verify(p->data, p->fsize, p->crcs, p->crcs_len, c->request_id);
            if (rc == 0) memcpy(mem + done, p->data + p->off, (size_t)p->len);
        } else {
            if (!scratch && !(scratch = malloc((size_t)NB_S3_BLOCK))) return nb_s3_nomem(c);
            int fd = open_piece(c, p);
            rc = fd < 0 ? -1
                        : nb_s3_content_read(fd, p->blob, p->crcs, p->crcs_len, p->fsize, p->off,
                                             p->len, mem + done, scratch);
            if (fd >= 0) close(fd);
        }
        nb_s3_cipher ci;
        bool open = false;
        if (rc == 0) rc = piece_decrypt(p, key, &ci, &open, p->off, mem + done, (size_t)p->len);
        if (open) nb_s3_cipher_free(&ci);
        if (rc < 0) {
            free(scratch);
            return nb_s3_internal(c, "stored content failed its integrity check or is missing");
        }
        done += p->len;
    }
    free(scratch);
    *out = mem;
    return 0;
}

/* The pieces covering [start, end] of an object. */
static piece *pieces_of(nb_call *c, const nb_s3_object *o, int64_t start, int64_t end,
                        size_t *n)
{
    *n = 0;
    if (o->nparts == 0) {
        piece *p = nb_arena_calloc(c->arena, sizeof *p);
        if (!p) return NULL;
        *p = (piece){o->blob,     o->data,    o->crcs,  o->crcs_len,        o->enc,
                     o->enc_len, o->size,    start,    end - start + 1};
        *n = 1;
        return p;
    }
    piece *ps = nb_arena_calloc(c->arena, (size_t)o->nparts * sizeof *ps);
    if (!ps) return NULL;
    for (int i = 0; i < o->nparts; i++) {
        const nb_s3_part *pt = &o->parts[i];
        int64_t ps0 = pt->offset, pe = pt->offset + pt->size - 1;
        if (pe < start || ps0 > end || pt->size == 0) continue;
        int64_t s = start > ps0 ? start : ps0, e = end < pe ? end : pe;
        ps[(*n)++] = (piece){pt->blob,    NULL,     pt->crcs, pt->crcs_len,  pt->enc,
                             pt->enc_len, pt->size, s - ps0,  e - s + 1};
    }
    return ps;
}

/* Set up the body of a GET for [start, end] (len may be 0). On the loop thread, inline bytes
 * are answered from memory, large ranges are streamed by out_stream (which the dispatcher
 * runs on a worker), and small file reads ask for a worker (NB_CALL_OFFLOAD). */
static int send_range(nb_call *c, const nb_s3_object *o, int64_t start, int64_t end,
                      const nb_s3_sse *key)
{
    int64_t len = end - start + 1;
    if (len <= 0) {
        c->out_body = "";
        c->out_body_len = 0;
        return 0;
    }
    if (o->is_inline) {
        if (nb_s3_inline_verify(o->data, o->size, o->crcs, o->crcs_len, c->request_id) < 0)
            return nb_s3_internal(c, "stored content failed its integrity check");
        if (o->enc) {
            char *mem = nb_arena_alloc(c->arena, (size_t)len);
            if (!mem) return nb_s3_nomem(c);
            memcpy(mem, (const char *)o->data + start, (size_t)len);
            nb_s3_cipher ci;
            if (nb_s3_cipher_open(o->enc, o->enc_len, key, &ci) < 0)
                return nb_s3_internal(c, "cannot decrypt stored content");
            int rc = nb_s3_cipher_apply(&ci, start, mem, (size_t)len);
            nb_s3_cipher_free(&ci);
            if (rc < 0) return nb_s3_internal(c, "cannot decrypt stored content");
            c->out_body = mem;
        } else {
            c->out_body = (const char *)o->data + start;
        }
        c->out_body_len = (size_t)len;
        return 0;
    }
    size_t n;
    piece *ps = pieces_of(c, o, start, end, &n);
    if (!ps) return nb_s3_nomem(c);
    if (len <= SMALL_READ || (n > 1 && len <= MEM_SPAN)) {
        char *mem = NULL;
        if (read_pieces(c, ps, n, len, key, &mem)) return -1;
        c->out_body = mem;
        c->out_body_len = (size_t)len;
        return 0;
    }
    stream_ctx *s = nb_arena_calloc(c->arena, sizeof *s);
    if (!s) return nb_s3_nomem(c);
    s->pieces = ps;
    s->n = n;
    if (key) s->key = *key;
    c->out_stream = stream_pieces;
    c->out_stream_ud = s;
    c->out_len = len;
    return 0;
}

/* AWS honours response-* overrides only on signed requests. */
static bool anonymous_overrides(nb_call *c)
{
    static const char *const names[] = {"ResponseContentType", "ResponseContentLanguage",
                                        "ResponseContentDisposition", "ResponseContentEncoding",
                                        "ResponseCacheControl", "ResponseExpires"};
    for (size_t i = 0; i < NB_ARRAY_LEN(names); i++)
        if (json_object_get(c->input, names[i])) return true;
    return false;
}

static int get_or_head(nb_call *c, bool get)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key;
    size_t key_len;
    if (nb_s3_in_key_version(c, &key, &key_len, NULL)) return -1;
    if (c->who.type == NB_PRINCIPAL_ANONYMOUS && anonymous_overrides(c))
        return nb_s3_error(c, 400, "InvalidRequest", "Request specific response headers cannot"
                           " be used for anonymous GET requests.", NULL);
    json_int_t pn = nb_in_int(c, "PartNumber", 0);
    if (json_object_get(c->input, "PartNumber") && (pn < 1 || pn > NB_S3_MAX_PARTS))
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Part number must be an integer between 1 and 10000, inclusive",
                           "ArgumentName", "partNumber", "ArgumentValue",
                           nb_arena_printf(c->arena, "%lld", (long long)pn), NULL);
    nb_s3_sse ckey;
    if (nb_s3_sse_customer(c, false, &ckey)) return -1;
    nb_s3_object o;
    nb_s3_bucket b;
    /* On the loop thread a manifest of thousands of parts is not read: such objects go to a
     * worker, as do bodies that need file reads into memory. */
    unsigned flags = (get ? NB_S3_GET_DATA : 0) | (c->on_loop ? 0 : NB_S3_GET_PARTS);
    if (resolve(c, bucket, key, key_len, flags, &b, &o, get ? "GET" : "HEAD")) return -1;
    if (nb_s3_sse_check_read(c, o.enc, o.enc_len, &ckey)) return -1;
    if (c->on_loop && o.nparts > 0 && (get || pn)) return NB_CALL_OFFLOAD;
    int cond = read_conditions(c, &o);
    if (cond < 0) return -1;
    if (cond == 1) {
        /* 304: only the validators, no body */
        c->output = json_pack("{s:s,s:f}", "ETag", nb_s3_quote(c, o.etag), "LastModified",
                              whole(o.last_modified));
        c->out_status = 304;
        c->out_body = "";
        c->out_body_len = 0;
        return 0;
    }
    int64_t start = 0, end = o.size - 1;
    bool partial = false;
    const char *range = nb_in_str(c, "Range");
    if (pn) {
        if (range)
            return nb_s3_error(c, 400, "InvalidRequest",
                               "Cannot specify both Range header and partNumber query parameter",
                               NULL);
        int count = o.nparts ? o.nparts : 1;
        if (pn < 1 || pn > count) {
            char req[24], act[24];
            snprintf(req, sizeof req, "%lld", (long long)pn);
            snprintf(act, sizeof act, "%d", count);
            return nb_s3_error(c, 416, "InvalidPartNumber", "The requested partnumber is not satisfiable",
                               "PartNumberRequested", req, "ActualPartCount", act, NULL);
        }
        if (o.nparts) {
            start = o.parts[pn - 1].offset;
            end = start + o.parts[pn - 1].size - 1;
        }
        partial = o.size > 0;
    } else {
        int r = nb_s3_parse_range(range, o.size, &start, &end);
        if (r < 0) {
            char sz[24];
            snprintf(sz, sizeof sz, "%lld", (long long)o.size);
            return nb_s3_error(c, 416, "InvalidRange", "The requested range is not satisfiable",
                               "RangeRequested", range, "ActualObjectSize", sz, NULL);
        }
        partial = r == 1;
    }
    int64_t len = o.size ? end - start + 1 : 0;
    /* A body read from a file into memory: a worker's job (the loop must not block). */
    if (get && c->on_loop && !o.is_inline && len > 0 && len <= SMALL_READ)
        return NB_CALL_OFFLOAD;
    /* storage classes (restore.c): archived versions need a completed restore for GET;
     * x-amz-restore, x-amz-expiration. After every NB_CALL_OFFLOAD above: headers once. */
    int crc = nb_s3_classes_read(c, &b, &o, get);
    if (crc) return crc;
    json_t *out = object_doc(c, &o, &b);
    /* AWS sends x-amz-tagging-count on HEAD too, though HeadObject's model has no member */
    json_t *tc = get ? NULL : json_object_get(out, "TagCount");
    if (tc)
        nb_s3_add_header(c, "x-amz-tagging-count",
                         nb_arena_printf(c->arena, "%lld", (long long)json_integer_value(tc)));
    if (pn && o.nparts) {
        json_object_set_new(out, "PartsCount", json_integer(o.nparts));
        /* a part's read carries that part's checksum, as AWS answers it: the object's own
         * FULL_OBJECT checksum would fail an SDK's validation of the part's bytes */
        for (size_t i = 0; i < NB_ARRAY_LEN(ck_members); i++) {
            if (!json_object_get(out, ck_members[i])) continue;
            const char *pc = o.parts[pn - 1].checksum;
            if (pc && *pc)
                json_object_set_new(out, ck_members[i], json_string(pc));
            else
                json_object_del(out, ck_members[i]);
        }
    }
    json_object_set_new(out, "ContentLength", json_integer(len));
    if (partial) {
        json_object_set_new(out, "ContentRange",
                            json_string(nb_arena_printf(c->arena, "bytes %lld-%lld/%lld",
                                                        (long long)start, (long long)end,
                                                        (long long)o.size)));
        c->out_status = 206;
        /* a range is not what the object's checksum covers: AWS sends none (SDKs would
         * validate the range against it and fail) */
        if (range) {
            static const char *const ck[] = {"ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1",
                                             "ChecksumSHA256", "ChecksumCRC64NVME", "ChecksumType"};
            for (size_t i = 0; i < NB_ARRAY_LEN(ck); i++) json_object_del(out, ck[i]);
        }
    }
    c->output = out;
    if (!get) {
        /* botocore 1.29's HeadObject has no ContentRange member: AWS sends the header anyway */
        json_t *cr = json_object_get(out, "ContentRange");
        if (cr) nb_s3_add_header(c, "Content-Range", json_string_value(cr));
        /* HEAD: the server writes Content-Length from the body length the dispatcher passes,
         * which for an in-memory body is out_body_len; no byte of out_body is sent for HEAD. */
        c->out_body = "";
        c->out_body_len = (size_t)len;
        return 0;
    }
    if (send_range(c, &o, start, o.size ? end : start - 1, &ckey)) {
        json_decref(c->output);
        c->output = NULL;
        c->out_status = 0;
        return -1;
    }
    return 0;
}

int nb_s3_op_get_object(nb_call *c) { return get_or_head(c, true); }
int nb_s3_op_head_object(nb_call *c) { return get_or_head(c, false); }

/* ---------------------------------------------------------------- delete */

int nb_s3_op_delete_object(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key, *version;
    size_t key_len;
    if (nb_s3_in_key_version(c, &key, &key_len, &version)) return -1;
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    nb_s3_del d = {.bucket = bucket, .key = key, .key_len = key_len, .version_id = version,
                   .if_match = nb_call_header(c, "If-Match")};
    int rc = nb_s3_object_delete(nb_s3_g, &d);
    /* a version under governance retention: removable with an authorized bypass */
    if (rc == NB_S3_LOCKED_GOVERNANCE && nb_in_bool(c, "BypassGovernanceRetention", false)) {
        if (nb_s3_may_bypass(c, bucket, key, key_len)) return -1;
        d.bypass_governance = true;
        rc = nb_s3_object_delete(nb_s3_g, &d);
    }
    if (rc) return nb_s3_store_error(c, rc, bucket, key);
    nb_s3_event_deleted(c, bucket, &d); /* notifications (events.c) */
    json_t *out = json_object();
    if (d.out_marker) json_object_set_new(out, "DeleteMarker", json_true());
    if (d.out_version[0] && (b.versioning != NB_S3_VERSIONING_OFF || version))
        json_object_set_new(out, "VersionId", json_string(d.out_version));
    c->output = out;
    return 0;
}

/* A Content-MD5 or x-amz-checksum-* header of a non-streaming body must match the body as
 * received (AWS: BadDigest); *any tells whether one was sent. with_checksums = false checks
 * Content-MD5 only (CompleteMultipartUpload's x-amz-checksum-* is the object's checksum). */
static int body_digests_match(nb_call *c, bool with_checksums, bool *any)
{
    const char *body = c->req_body ? c->req_body : "";
    size_t n = c->req_body ? c->req_body_len : 0;
    const char *md5 = nb_call_header(c, "Content-MD5");
    *any = false;
    if (md5) {
        *any = true;
        unsigned char raw[64], dig[16];
        size_t ml = strlen(md5);
        ssize_t k = ml < 60 ? nb_base64_decode(md5, ml, raw) : -1;
        if (k != 16)
            return nb_s3_error(c, 400, "InvalidDigest",
                               "The Content-MD5 you specified is not valid.", "Content-MD5", md5,
                               NULL);
        nb_md5(body, n, dig);
        if (memcmp(dig, raw, 16) != 0) {
            char got[32];
            nb_base64_encode(dig, 16, got);
            return nb_s3_error(c, 400, "BadDigest",
                               "The Content-MD5 you specified did not match what we received.",
                               "ExpectedDigest", md5, "CalculatedDigest", got, NULL);
        }
    }
    for (size_t i = 0; with_checksums && i < NB_ARRAY_LEN(ck_algos); i++) {
        const char *hn = nb_cksum_header(ck_algos[i]);
        const char *v = nb_call_header(c, hn);
        if (!v) continue;
        *any = true;
        nb_cksum ck;
        unsigned char raw[NB_CKSUM_MAX_RAW];
        char b64[NB_CKSUM_MAX_B64];
        if (nb_cksum_init(&ck, ck_algos[i]) < 0) return nb_s3_nomem(c);
        nb_cksum_update(&ck, body, n);
        size_t rn = nb_cksum_final(&ck, raw);
        nb_cksum_to_b64(raw, rn, b64);
        if (strcmp(b64, v) != 0) {
            char msg[128];
            snprintf(msg, sizeof msg,
                     "The %s you specified did not match the calculated checksum.",
                     nb_cksum_name(ck_algos[i]));
            return nb_s3_error(c, 400, "BadDigest", msg, NULL);
        }
    }
    return 0;
}

/* The service's body_check: every configuration body (tagging, lifecycle, CORS, ACL ...) is
 * checked against the digest sent with it; current SDKs send a CRC32 with each. */
int nb_s3_body_check(nb_call *c)
{
    bool any;
    return body_digests_match(c, strcmp(c->op_name, "CompleteMultipartUpload") != 0, &any);
}

/* DeleteObjects must carry Content-MD5 or an x-amz-checksum-* of its body, and it must
 * match the body as received (AWS: BadDigest, or InvalidRequest when neither is sent). */
int nb_s3_body_digest_check(nb_call *c)
{
    bool any;
    if (body_digests_match(c, true, &any)) return -1;
    if (!any)
        return nb_s3_error(c, 400, "InvalidRequest",
                           "Missing required header for this request: Content-Md5", NULL);
    return 0;
}

int nb_s3_op_delete_objects(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    if (nb_s3_body_digest_check(c)) return -1;
    json_t *del = json_object_get(c->input, "Delete");
    json_t *objs = json_object_get(del, "Objects");
    bool quiet = json_is_true(json_object_get(del, "Quiet"));
    bool bypass = nb_in_bool(c, "BypassGovernanceRetention", false);
    if (!json_is_array(objs) || json_array_size(objs) == 0 || json_array_size(objs) > 1000)
        return nb_s3_error(c, 400, "MalformedXML",
                           "The XML you provided was not well-formed or did not validate against"
                           " our published schema",
                           NULL);
    json_t *deleted = json_array(), *errors = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(objs, i, it)
    {
        json_t *kj = json_object_get(it, "Key");
        const char *key = json_string_value(kj);
        const char *ver = json_string_value(json_object_get(it, "VersionId"));
        if (!key) continue;
        size_t kn = json_string_length(kj);
        if (kn > NB_S3_MAX_KEY) {
            json_array_append_new(errors, json_pack("{s:s,s:s,s:s}", "Key", key, "Code",
                                                    "KeyTooLongError", "Message",
                                                    "Your key is too long"));
            continue;
        }
        if (ver && !nb_s3_version_id_valid(ver)) {
            /* no version can have this id: AWS reports it per key, not for the request */
            json_array_append_new(errors, json_pack("{s:s,s:s,s:s,s:s}", "Key", key, "VersionId",
                                                    ver, "Code", "NoSuchVersion", "Message",
                                                    "The specified version does not exist."));
            continue;
        }
        nb_s3_del d = {.bucket = bucket, .key = key, .key_len = kn, .version_id = ver};
        int rc = nb_s3_object_delete(nb_s3_g, &d);
        if (rc == NB_S3_LOCKED_GOVERNANCE && bypass) {
            /* s3:BypassGovernanceRetention is evaluated per key; a denial is this key's
             * AccessDenied, not the request's */
            d.bypass_governance = nb_s3_may_bypass(c, bucket, key, kn) == 0;
            nb_aws_error_clear(&c->err);
            if (d.bypass_governance) rc = nb_s3_object_delete(nb_s3_g, &d);
        }
        if (rc) {
            bool locked = rc == NB_S3_LOCKED || rc == NB_S3_LOCKED_GOVERNANCE;
            json_t *e = json_pack("{s:s,s:s,s:s}", "Key", key, "Code",
                                  rc == NB_S3_NO_BUCKET ? "NoSuchBucket"
                                  : locked              ? "AccessDenied"
                                                        : "InternalError",
                                  "Message",
                                  rc == NB_S3_NO_BUCKET
                                      ? "The specified bucket does not exist"
                                  : locked ? "Access Denied because object protected by object lock."
                                           : "We encountered an internal error. Please try again.");
            if (ver) json_object_set_new(e, "VersionId", json_string(ver));
            json_array_append_new(errors, e);
            continue;
        }
        nb_s3_event_deleted(c, bucket, &d); /* notifications (events.c) */
        if (quiet) continue;
        json_t *okj = json_pack("{s:s}", "Key", key);
        if (ver) json_object_set_new(okj, "VersionId", json_string(ver));
        if (d.out_marker) {
            json_object_set_new(okj, "DeleteMarker", json_true());
            json_object_set_new(okj, "DeleteMarkerVersionId", json_string(d.out_version));
        }
        json_array_append_new(deleted, okj);
    }
    json_t *out = json_object();
    if (json_array_size(deleted)) json_object_set(out, "Deleted", deleted);
    if (json_array_size(errors)) json_object_set(out, "Errors", errors);
    json_decref(deleted);
    json_decref(errors);
    c->output = out;
    return 0;
}

/* ---------------------------------------------------------------- copy */

int nb_s3_parse_copy_source(nb_call *c, const char *src, const char **bucket, const char **key,
                            size_t *key_len, const char **version)
{
    *version = NULL;
    size_t n = strlen(src);
    const char *q = memchr(src, '?', n);
    size_t pn = q ? (size_t)(q - src) : n;
    char *dec = nb_arena_alloc(c->arena, pn + 1);
    if (!dec) return nb_s3_nomem(c);
    ssize_t dn = nb_url_decode(src, pn, dec, false);
    if (dn < 0 || memchr(dec, 0, (size_t)dn)) goto bad; /* no key holds a NUL */
    dec[dn] = 0;
    char *p = dec;
    if (*p == '/') p++;
    char *slash = strchr(p, '/');
    if (!slash || slash == p || !slash[1]) goto bad;
    *slash = 0;
    *bucket = p;
    *key = slash + 1;
    *key_len = (size_t)(dec + dn - (slash + 1));
    if (q) {
        const char *v = strstr(q + 1, "versionId=");
        if (v) {
            v += 10;
            size_t vn = strcspn(v, "&");
            char *vd = nb_arena_alloc(c->arena, vn + 1);
            if (!vd) return nb_s3_nomem(c);
            ssize_t k = nb_url_decode(v, vn, vd, false);
            if (k < 0) goto bad;
            vd[k] = 0;
            *version = vd;
        }
    }
    return 0;
bad:
    return nb_s3_error(c, 400, "InvalidArgument", "Invalid copy source object key",
                       "ArgumentName", "x-amz-copy-source", "ArgumentValue", src, NULL);
}

int nb_s3_copy_conditions(nb_call *c, const nb_s3_object *o)
{
    const char *im = nb_in_str(c, "CopySourceIfMatch");
    const char *inm = nb_in_str(c, "CopySourceIfNoneMatch");
    double ius = in_time(c, "CopySourceIfUnmodifiedSince"),
           ims = in_time(c, "CopySourceIfModifiedSince");
    double lm = whole(o->last_modified);
    const char *failed = NULL;
    /* AWS: if-match true + if-unmodified-since false succeeds; if-none-match false +
     * if-modified-since true fails (RFC 7232 precedence). */
    if (im && !nb_s3_etag_matches(im, o->etag))
        failed = "x-amz-copy-source-If-Match";
    else if (!im && !isnan(ius) && lm > ius)
        failed = "x-amz-copy-source-If-Unmodified-Since";
    else if (inm && nb_s3_etag_matches(inm, o->etag))
        failed = "x-amz-copy-source-If-None-Match";
    else if (!inm && !isnan(ims) && lm <= ims)
        failed = "x-amz-copy-source-If-Modified-Since";
    if (failed)
        return nb_s3_error(c, 412, "PreconditionFailed",
                           "At least one of the pre-conditions you specified did not hold",
                           "Condition", failed, NULL);
    return 0;
}

int nb_s3_copy_range(nb_call *c, const nb_s3_object *o, int64_t off, int64_t len,
                     const nb_s3_sse *key, nb_s3_writer *w)
{
    if (len <= 0) return 0;
    size_t n;
    piece *ps = pieces_of(c, o, off, off + len - 1, &n);
    char *buf = malloc((size_t)NB_S3_BLOCK * 2);
    if (!ps || !buf) {
        free(buf);
        return nb_s3_nomem(c);
    }
    char *scratch = buf + NB_S3_BLOCK;
    for (size_t i = 0; i < n; i++) {
        const piece *p = &ps[i];
        nb_s3_cipher ci;
        bool open = false;
        int fd = -1;
        if (!p->blob) {
            if (nb_s3_inline_verify(p->data, p->fsize, p->crcs, p->crcs_len, "a copy source") < 0)
                goto bad;
        } else if ((fd = open_piece(c, p)) < 0) {
            if (open) nb_s3_cipher_free(&ci);
            free(buf);
            return nb_s3_internal(c, "copy source content is missing");
        }
        for (int64_t pos = p->off; pos < p->off + p->len;) {
            int64_t k = p->off + p->len - pos;
            int64_t to_block_end = NB_S3_BLOCK - pos % NB_S3_BLOCK;
            if (k > to_block_end) k = to_block_end;
            if (fd < 0)
                memcpy(buf, p->data + pos, (size_t)k);
            else if (nb_s3_content_read(fd, p->blob, p->crcs, p->crcs_len, p->fsize, pos, k, buf,
                                        scratch) < 0)
                goto bad;
            if (piece_decrypt(p, key, &ci, &open, pos, buf, (size_t)k) < 0 ||
                nb_s3_writer_write(w, buf, (size_t)k) < 0)
                goto bad;
            pos += k;
        }
        if (fd >= 0) close(fd);
        if (open) nb_s3_cipher_free(&ci);
        continue;
    bad:
        if (fd >= 0) close(fd);
        if (open) nb_s3_cipher_free(&ci);
        free(buf);
        return nb_s3_internal(c, "copy failed: source integrity check or write error");
    }
    free(buf);
    return 0;
}

int nb_s3_op_copy_object(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key;
    size_t key_len;
    if (nb_s3_in_key_version(c, &key, &key_len, NULL)) return -1;
    if (nb_s3_check_key(c, key_len)) return -1;
    const char *sb, *sk, *sv;
    size_t skn;
    const char *cs = nb_in_str(c, "CopySource");
    if (!cs || nb_s3_parse_copy_source(c, cs, &sb, &sk, &skn, &sv)) return cs ? -1 :
        nb_s3_error(c, 400, "InvalidArgument", "Copy Source must mention the source bucket and key:"
                    " sourcebucket/sourcekey", NULL);
    nb_s3_bucket db, sbk;
    if (nb_s3_need_bucket(c, bucket, &db) || nb_s3_need_bucket(c, sb, &sbk)) return -1;
    nb_s3_object so;
    int rc = nb_s3_object_get(nb_s3_g, sb, sk, skn, sv, true, c->arena, &so);
    if (rc == NB_S3_NO_VERSION)
        return nb_s3_error(c, 404, "NoSuchVersion", "The specified version does not exist.",
                           "Key", sk, "VersionId", sv, NULL);
    if (rc) return nb_s3_store_error(c, rc, sb, sk);
    if (so.delete_marker) {
        if (sv)
            return nb_s3_error(c, 400, "InvalidRequest",
                               "The source of a copy request may not specifically refer to a"
                               " delete marker by version id.",
                               NULL);
        return nb_s3_error(c, 404, "NoSuchKey", "The specified key does not exist.", "Key", sk,
                           NULL);
    }
    if (nb_s3_copy_conditions(c, &so) || nb_s3_classes_copy_source(c, sb, &so)) return -1;
    /* AWS: CopyObject copies at most 5 GiB (larger objects are copied with UploadPartCopy) */
    if (so.size > MAX_OBJECT)
        return nb_s3_error(c, 400, "InvalidRequest",
                           "The specified copy source is larger than the maximum allowable size"
                           " for a copy source: 5368709120",
                           NULL);
    nb_s3_sse skey, sse;
    if (nb_s3_sse_customer(c, true, &skey) || nb_s3_sse_check_read(c, so.enc, so.enc_len, &skey) ||
        nb_s3_sse_for_write(c, &db, &sse))
        return -1;
    const char *md = nb_in_str(c, "MetadataDirective");
    const char *td = nb_in_str(c, "TaggingDirective");
    if (md && strcmp(md, "COPY") != 0 && strcmp(md, "REPLACE") != 0)
        return nb_s3_error(c, 400, "InvalidArgument", "Unknown metadata directive.",
                           "ArgumentName", "x-amz-metadata-directive", "ArgumentValue", md, NULL);
    if (td && strcmp(td, "COPY") != 0 && strcmp(td, "REPLACE") != 0)
        return nb_s3_error(c, 400, "InvalidArgument", "Unknown tagging directive.",
                           "ArgumentName", "x-amz-tagging-directive", "ArgumentValue", td, NULL);
    bool replace = md && strcmp(md, "REPLACE") == 0;
    const char *sc;
    if (nb_s3_storage_class(c, &sc)) return -1;
    /* copying an older version onto its own key is how a version is restored (AWS): only
     * the current version copied onto itself must change something */
    bool same = strcmp(sb, bucket) == 0 && skn == key_len && memcmp(sk, key, skn) == 0 &&
                so.is_latest;
    if (same && !replace && !nb_in_str(c, "StorageClass") &&
        !nb_in_str(c, "WebsiteRedirectLocation") && !nb_in_str(c, "ServerSideEncryption") &&
        sse.mode != NB_S3_SSE_C && skey.mode != NB_S3_SSE_C)
        return nb_s3_error(c, 400, "InvalidRequest",
                           "This copy request is illegal because it is trying to copy an object to"
                           " itself without changing the object's metadata, storage class,"
                           " website redirect location or encryption attributes.",
                           NULL);
    const char *attrs = so.attrs, *tags = so.tags;
    if (replace && nb_s3_build_attrs(c, &attrs)) return -1;
    if (!replace) {
        /* AWS: the website redirect location is each object's own, never copied with the
         * metadata; the copy has the one this request names, if any */
        const char *redir = nb_in_str(c, "WebsiteRedirectLocation");
        if (redir && check_redirect(c, redir)) return -1;
        if (redir || (attrs && strstr(attrs, "\"WebsiteRedirectLocation\""))) {
            json_t *a = attrs ? json_loads(attrs, 0, NULL) : NULL;
            if (!a) a = json_object();
            json_object_del(a, "WebsiteRedirectLocation");
            if (redir) json_object_set_new(a, "WebsiteRedirectLocation", json_string(redir));
            char *d = json_dumps(a, JSON_COMPACT);
            json_decref(a);
            attrs = d ? nb_arena_strdup(c->arena, d) : NULL;
            free(d);
            if (!attrs) return nb_s3_nomem(c);
        }
    }
    /* the copy is encrypted as this request (or the target bucket) says, not as its source */
    attrs = nb_s3_attrs_sse(c, attrs, &sse);
    if (!attrs) return nb_s3_nomem(c);
    if (td && strcmp(td, "REPLACE") == 0 &&
        nb_s3_tags_from_header(c, nb_in_str(c, "Tagging"), &tags))
        return -1;
    nb_s3_write_cond cond;
    if (nb_s3_write_conditions(c, &cond)) return -1;
    /* the copy's lock comes from this request or the target bucket's default, never from
     * its source (AWS) */
    nb_s3_lock lock;
    bool lock_asked;
    double now = nb_clock_now_f();
    if (nb_s3_lock_from_request(c, &db, &lock, &lock_asked) ||
        nb_s3_lock_default(c, &db, now, &lock))
        return -1;
    nb_s3_ingest in;
    memset(&in, 0, sizeof in);
    const char *alg = nb_in_str(c, "ChecksumAlgorithm");
    in.ck_algo = alg ? nb_cksum_algo_from_name(alg, strlen(alg)) : NB_CKSUM_NONE;
    if (alg && in.ck_algo == NB_CKSUM_NONE)
        return nb_s3_error(c, 400, "InvalidRequest", "Checksum algorithm provided is unsupported.",
                           NULL);
    if (in.ck_algo == NB_CKSUM_NONE && so.checksums) {
        /* keep the source's checksum algorithm, recomputed over the copy */
        json_t *ck = json_loads(so.checksums, 0, NULL);
        const char *name;
        json_t *v;
        json_object_foreach(ck, name, v)
        {
            for (size_t i = 0; i < NB_ARRAY_LEN(ck_members); i++)
                if (strcmp(name, ck_members[i]) == 0) in.ck_algo = ck_algos[i];
        }
        json_decref(ck);
    }
    /* a copy of an object without a checksum gets S3's default, as a new upload does */
    if (in.ck_algo == NB_CKSUM_NONE) in.ck_algo = NB_CKSUM_CRC64NVME;
    nb_s3_writer w;
    if (nb_s3_writer_start(nb_s3_store_content(nb_s3_g), &w, in.ck_algo, NB_S3_INLINE_MAX,
                           &sse) < 0)
        return nb_s3_internal(c, "cannot create a content file");
    if (nb_s3_copy_range(c, &so, 0, so.size, &skey, &w)) {
        nb_s3_writer_free(&w, true);
        return -1;
    }
    unsigned char ck[NB_CKSUM_MAX_RAW];
    size_t ckn = 0;
    if (nb_s3_writer_finish(&w, in.md5, ck, &ckn) < 0) {
        nb_s3_writer_free(&w, true);
        return nb_s3_internal(c, "cannot make a content file durable");
    }
    nb_s3_object o;
    memset(&o, 0, sizeof o);
    o.key = key;
    o.key_len = key_len;
    o.size = w.size;
    nb_hex(in.md5, 16, o.etag);
    o.last_modified = now;
    o.lock = lock;
    o.storage_class = sc; /* AWS: a copy is STANDARD unless x-amz-storage-class names a class */
    o.owner = nb_s3_object_owner(c, &db);
    o.attrs = attrs;
    o.tags = tags;
    o.blob = w.is_inline ? NULL : nb_arena_strdup(c->arena, w.id);
    o.crcs_len = w.crcs.len;
    unsigned char *crcs = nb_arena_alloc(c->arena, w.crcs.len);
    if (crcs) memcpy(crcs, w.crcs.data, w.crcs.len);
    o.crcs = crcs;
    o.enc_len = w.enc_len;
    o.enc = w.enc_len ? nb_arena_alloc(c->arena, w.enc_len) : NULL;
    if (o.enc) memcpy((unsigned char *)o.enc, w.enc, w.enc_len);
    if (w.is_inline) {
        char *d = nb_arena_alloc(c->arena, (size_t)w.size + 1);
        if (d && w.size) memcpy(d, w.buf, (size_t)w.size);
        o.data = d;
        o.data_len = (size_t)w.size;
        if (!d) crcs = NULL;
    }
    bool lost = !w.is_inline && !o.blob;
    nb_s3_writer_free(&w, lost);
    if (!crcs || lost || (w.enc_len && !o.enc)) {
        if (o.blob) nb_s3_content_unlink(nb_s3_store_content(nb_s3_g), o.blob);
        return nb_s3_nomem(c);
    }
    const char *ckm = nb_s3_ck_member(in.ck_algo);
    if (ckn && ckm) {
        nb_cksum_to_b64(ck, ckn, in.ck_b64);
        o.checksums = nb_arena_printf(c->arena, "{\"%s\":\"%s\"}", ckm, in.ck_b64);
    }
    nb_s3_put p = {.bucket = bucket, .o = &o, .cond = cond};
    rc = nb_s3_object_put(nb_s3_g, &p);
    if (rc) {
        nb_s3_content_unlink(nb_s3_store_content(nb_s3_g), o.blob);
        return nb_s3_store_error(c, rc, bucket, key);
    }
    nb_s3_object_written(c, bucket, &o);
    nb_s3_classes_written(c, &db, &o); /* lifecycle.h */
    nb_s3_event_created(c, "s3:ObjectCreated:Copy", bucket, &o); /* notifications (events.c) */
    json_t *res = json_pack("{s:s,s:f}", "ETag", nb_s3_quote(c, o.etag), "LastModified",
                            whole(o.last_modified));
    if (ckn && ckm) json_object_set_new(res, ckm, json_string(in.ck_b64));
    nb_s3_ck_type_add(res);
    json_t *out = json_pack("{s:o}", "CopyObjectResult", res);
    nb_s3_sse_output(out, nb_in_str(c, "ServerSideEncryption"), &sse);
    if (p.versioned) json_object_set_new(out, "VersionId", json_string(o.version_id));
    if (sbk.versioning != NB_S3_VERSIONING_OFF)
        json_object_set_new(out, "CopySourceVersionId", json_string(so.version_id));
    c->output = out;
    return 0;
}

/* ---------------------------------------------------------------- object tagging */

/* versioned: the bucket is versioned (enabled or suspended), so the answer names the version
 * even when it is the null one, as GET and HEAD do. */
static int tagging_target(nb_call *c, const char **bucket, const char **key, size_t *key_len,
                          const char **version, bool *versioned)
{
    *bucket = nb_in_str(c, "Bucket");
    if (nb_s3_in_key_version(c, key, key_len, version)) return -1;
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, *bucket, &b)) return -1;
    *versioned = b.versioning != NB_S3_VERSIONING_OFF;
    return 0;
}

static int tagging_error(nb_call *c, int rc, const char *bucket, const char *key)
{
    if (rc == NB_S3_NOT_IMPLEMENTED)
        return nb_s3_error(c, 405, "MethodNotAllowed",
                           "The specified method is not allowed against this resource.",
                           "ResourceType", "DeleteMarker", NULL);
    return nb_s3_store_error(c, rc, bucket, key);
}

int nb_s3_op_get_object_tagging(nb_call *c)
{
    const char *bucket, *key, *version;
    size_t kn;
    bool versioned;
    if (tagging_target(c, &bucket, &key, &kn, &version, &versioned)) return -1;
    nb_s3_object o;
    int rc = nb_s3_object_get(nb_s3_g, bucket, key, kn, version, false, c->arena, &o);
    if (rc) return nb_s3_store_error(c, rc, bucket, key);
    if (o.delete_marker) return tagging_error(c, version ? NB_S3_NOT_IMPLEMENTED : NB_S3_NO_KEY, bucket, key);
    json_t *set = o.tags ? json_loads(o.tags, 0, NULL) : NULL;
    json_t *out = json_pack("{s:o}", "TagSet", set ? set : json_array());
    if (versioned || strcmp(o.version_id, "null") != 0 || version)
        json_object_set_new(out, "VersionId", json_string(o.version_id));
    c->output = out;
    return 0;
}

int nb_s3_op_put_object_tagging(nb_call *c)
{
    const char *bucket, *key, *version;
    size_t kn;
    bool versioned;
    if (tagging_target(c, &bucket, &key, &kn, &version, &versioned)) return -1;
    json_t *set = json_object_get(json_object_get(c->input, "Tagging"), "TagSet");
    if (!json_is_array(set))
        return nb_s3_error(c, 400, "MalformedXML",
                           "The XML you provided was not well-formed or did not validate against"
                           " our published schema",
                           NULL);
    const char *tags;
    if (nb_s3_tags_from_input(c, set, true, &tags)) return -1;
    char vid[40];
    int rc = nb_s3_object_set_tags(nb_s3_g, bucket, key, kn, version, tags, vid);
    if (rc) return tagging_error(c, rc, bucket, key);
    nb_s3_event_call(c, "s3:ObjectTagging:Put", bucket, key, kn, vid, -1, NULL); /* events.c */
    c->output = versioned || strcmp(vid, "null") != 0 || version
                    ? json_pack("{s:s}", "VersionId", vid)
                    : json_object();
    return 0;
}

int nb_s3_op_delete_object_tagging(nb_call *c)
{
    const char *bucket, *key, *version;
    size_t kn;
    bool versioned;
    if (tagging_target(c, &bucket, &key, &kn, &version, &versioned)) return -1;
    char vid[40];
    int rc = nb_s3_object_set_tags(nb_s3_g, bucket, key, kn, version, NULL, vid);
    if (rc) return tagging_error(c, rc, bucket, key);
    nb_s3_event_call(c, "s3:ObjectTagging:Delete", bucket, key, kn, vid, -1, NULL); /* events.c */
    c->output = versioned || strcmp(vid, "null") != 0 || version
                    ? json_pack("{s:s}", "VersionId", vid)
                    : json_object();
    return 0;
}
