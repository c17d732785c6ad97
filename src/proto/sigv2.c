/* sigv2.c: S3 signature version 2 (see sigv2.h). The string to sign is
 *   VERB \n Content-MD5 \n Content-Type \n Date-or-Expires \n CanonicalizedAmzHeaders
 *   CanonicalizedResource
 * with x-amz-* headers lowercased, sorted, values trimmed and joined by ','; the Date line
 * empty when x-amz-date is sent; the resource = [/bucket] + path as sent + the sorted
 * sub-resources S3 names (acl, uploads, versionId, response-* ...), values not encoded. */
#include "proto/sigv2.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/hash.h"

/* The query parameters that are part of the SigV2 canonical resource, sorted. */
static const char *const subresources[] = {
    "accelerate", "acl", "analytics", "cors", "delete", "encryption", "intelligent-tiering",
    "inventory", "legal-hold", "lifecycle", "location", "logging", "metrics", "notification",
    "object-lock", "ownershipControls", "partNumber", "policy", "policyStatus",
    "publicAccessBlock", "replication", "requestPayment", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "response-content-language",
    "response-content-type", "response-expires", "restore", "retention", "select",
    "select-type", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
    "versions", "website",
};

static void set_err(nb_sigv4_error *e, int status, const char *code, const char *msg)
{
    e->status = status;
    snprintf(e->code, sizeof(e->code), "%s", code);
    snprintf(e->message, sizeof(e->message), "%s", msg);
}

/* Decoded value of query parameter name into out (NUL-terminated), or false. */
static bool query_param(const nb_req *r, const char *name, char *out, size_t outn, bool *present)
{
    size_t nl = strlen(name);
    const char *q = r->query, *end = r->query + r->query_len;
    if (present) *present = false;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        if (!amp) amp = end;
        const char *eq = memchr(q, '=', (size_t)(amp - q));
        const char *kend = eq ? eq : amp;
        if ((size_t)(kend - q) == nl && memcmp(q, name, nl) == 0) {
            if (present) *present = true;
            size_t vl = eq ? (size_t)(amp - eq - 1) : 0;
            if (vl >= outn) return false;
            ssize_t m = eq ? nb_url_decode(eq + 1, vl, out, true) : 0;
            if (m < 0) return false;
            out[m] = 0;
            return true;
        }
        q = amp + 1;
    }
    return false;
}

int nb_sigv2_detect(const nb_req *r, nb_sigv2_auth *out, nb_sigv4_error *e)
{
    memset(out, 0, sizeof(*out));
    size_t n;
    const char *h = nb_req_header(r, "authorization", &n);
    if (h && n > 4 && memcmp(h, "AWS ", 4) == 0) {
        const char *colon = memchr(h + 4, ':', n - 4);
        if (!colon || colon == h + 4 || (size_t)(colon - h - 4) >= sizeof(out->access_key) ||
            (size_t)(h + n - colon - 1) >= sizeof(out->signature)) {
            set_err(e, 400, "InvalidArgument", "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature");
            return -1;
        }
        snprintf(out->access_key, sizeof(out->access_key), "%.*s", (int)(colon - h - 4), h + 4);
        snprintf(out->signature, sizeof(out->signature), "%.*s", (int)(h + n - colon - 1), colon + 1);
        return 1;
    }
    char sig[200], key[200], exp[40];
    bool has_key = false;
    query_param(r, "AWSAccessKeyId", key, sizeof(key), &has_key);
    if (!has_key) return 0;
    if (!query_param(r, "Signature", sig, sizeof(sig), NULL) ||
        !query_param(r, "Expires", exp, sizeof(exp), NULL) || !key[0] ||
        strlen(key) >= sizeof(out->access_key) || strlen(sig) >= sizeof(out->signature)) {
        set_err(e, 403, "AccessDenied",
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters");
        return -1;
    }
    char *endp;
    out->expires = strtoll(exp, &endp, 10);
    if (*endp || !exp[0]) {
        set_err(e, 403, "AccessDenied", "Invalid date (should be seconds since epoch): ");
        return -1;
    }
    snprintf(out->access_key, sizeof(out->access_key), "%s", key);
    snprintf(out->signature, sizeof(out->signature), "%s", sig);
    out->presigned = true;
    return 2;
}

typedef struct amzh {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} amzh;

static int cmp_amzh(const void *a, const void *b)
{
    const amzh *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    for (size_t i = 0; i < n; i++) {
        int cx = x->name[i] | 0x20, cy = y->name[i] | 0x20;
        if (cx != cy) return cx - cy;
    }
    return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static void put_trimmed(nb_buf *b, const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t')) v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    nb_buf_append(b, v, n);
}

static const char *hdr(const nb_req *r, const char *name, size_t *n)
{
    const char *v = nb_req_header(r, name, n);
    if (!v) *n = 0;
    return v ? v : "";
}

/* A decoded copy of query parameter name, remembered in copies[] to be freed; "" if absent. */
static const char *query_copy(const nb_req *r, const char *name, size_t *n, char **copies,
                              size_t *ncopies)
{
    char tmp[1024];
    bool present = false;
    *n = 0;
    if (*ncopies >= 64 || !query_param(r, name, tmp, sizeof(tmp), &present) || !present) return "";
    char *c = strdup(tmp);
    if (!c) return "";
    copies[(*ncopies)++] = c;
    *n = strlen(c);
    return c;
}

static int verify_once(const nb_sigv2_auth *a, const char *secret, const nb_req *r,
                       const char *bucket_prefix, int variant, nb_sigv4_error *e, char **sts_out);
static int verify_time(const nb_sigv2_auth *a, const nb_req *r, int64_t now, nb_sigv4_error *e);

/* A request naming only a bucket ("/bucket") is signed by clients as "/bucket/" (botocore's
 * auth_path), which S3 accepts: try the path as sent, then with the slash. */
static bool bucket_only(const nb_req *r, const char *bucket_prefix)
{
    if (bucket_prefix[0]) return r->path_len <= 1;
    return r->path_len > 1 && !memchr(r->path + 1, '/', r->path_len - 1);
}

int nb_sigv2_verify(const nb_sigv2_auth *a, const char *secret, const nb_req *r,
                    const char *bucket_prefix, int64_t now, nb_sigv4_error *e, char **sts_out)
{
    int rc = verify_time(a, r, now, e);
    if (rc < 0) return rc;
    rc = verify_once(a, secret, r, bucket_prefix, 0, e, sts_out);
    /* botocore also puts the operation's literal query ("?list-type=2") into the resource */
    bool lt2 = false;
    char v[8];
    query_param(r, "list-type", v, sizeof(v), &lt2);
    for (int variant = 1; rc < 0 && variant < 4 && !strcmp(e->code, "SignatureDoesNotMatch");
         variant++) {
        if ((variant & 1) && !bucket_only(r, bucket_prefix)) continue;
        if ((variant & 2) && !lt2) continue;
        char *other = NULL;
        if (verify_once(a, secret, r, bucket_prefix, variant, e, &other) == 0) {
            if (sts_out) {
                free(*sts_out);
                *sts_out = NULL;
            }
            return 0;
        }
        free(other);
    }
    return rc;
}

static int verify_time(const nb_sigv2_auth *a, const nb_req *r, int64_t now, nb_sigv4_error *e)
{
    size_t n;
    bool has_amz_date = nb_req_header(r, "x-amz-date", NULL) != NULL;
    if (a->presigned) {
        if (now > a->expires) {
            set_err(e, 403, "AccessDenied", "Request has expired");
            return -1;
        }
    } else {
        const char *d = has_amz_date ? hdr(r, "x-amz-date", &n) : hdr(r, "date", &n);
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)(n < 63 ? n : 63), d);
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *end = strptime(tmp, "%a, %d %b %Y %H:%M:%S", &tm);
        if (!end) {
            set_err(e, 403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
            return -1;
        }
        int64_t t = (int64_t)timegm(&tm);
        if (t < 0) { /* S3 reads a date before 1970 as no date at all */
            set_err(e, 403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
            return -1;
        }
        if (t < now - 900 || t > now + 900) {
            set_err(e, 403, "RequestTimeTooSkewed",
                    "The difference between the request time and the current time is too large.");
            return -1;
        }
    }
    return 0;
}

static int verify_once(const nb_sigv2_auth *a, const char *secret, const nb_req *r,
                       const char *bucket_prefix, int variant, nb_sigv4_error *e, char **sts_out)
{
    bool slash = variant & 1;
    if (sts_out) *sts_out = NULL;
    size_t n;
    bool has_amz_date = nb_req_header(r, "x-amz-date", NULL) != NULL;
    nb_buf s;
    nb_buf_init(&s);
    nb_buf_puts(&s, r->method);
    nb_buf_putc(&s, '\n');
    /* Presigned: botocore moves Content-MD5, Content-Type and the x-amz-* headers (the session
     * token) into the query, and S3 signs them from there as if they were headers. */
    char *qcopy[64];
    size_t nq = 0;
    const char *v = hdr(r, "content-md5", &n);
    if (!n && a->presigned) v = query_copy(r, "content-md5", &n, qcopy, &nq);
    put_trimmed(&s, v, n);
    nb_buf_putc(&s, '\n');
    v = hdr(r, "content-type", &n);
    if (!n && a->presigned) v = query_copy(r, "content-type", &n, qcopy, &nq);
    put_trimmed(&s, v, n);
    nb_buf_putc(&s, '\n');
    if (a->presigned) {
        nb_buf_printf(&s, "%lld", (long long)a->expires);
    } else if (!has_amz_date) {
        v = hdr(r, "date", &n);
        put_trimmed(&s, v, n);
    }
    nb_buf_putc(&s, '\n');
    /* x-amz-* headers, sorted, repeated names joined with ',' */
    amzh hs[64];
    size_t nh = 0;
    for (size_t i = 0; i < r->nheaders && nh < NB_ARRAY_LEN(hs); i++) {
        const nb_header *h = &r->headers[i];
        if (h->name_len > 6 && nb_mem_ieq(h->name, 6, "x-amz-", 6))
            hs[nh++] = (amzh){h->name, h->name_len, h->value, h->value_len};
    }
    if (a->presigned) {
        const char *q = r->query, *end = r->query + r->query_len;
        while (q < end && nh < NB_ARRAY_LEN(hs) && nq < NB_ARRAY_LEN(qcopy)) {
            const char *amp = memchr(q, '&', (size_t)(end - q));
            if (!amp) amp = end;
            const char *eq = memchr(q, '=', (size_t)(amp - q));
            size_t kn = (size_t)((eq ? eq : amp) - q);
            if (kn > 6 && nb_mem_ieq(q, 6, "x-amz-", 6)) {
                size_t vl = eq ? (size_t)(amp - eq - 1) : 0;
                char *val = malloc(vl + 1);
                ssize_t m = val && eq ? nb_url_decode(eq + 1, vl, val, true) : 0;
                if (val && m >= 0) {
                    val[m] = 0;
                    qcopy[nq++] = val;
                    hs[nh++] = (amzh){q, kn, val, (size_t)m};
                } else {
                    free(val);
                }
            }
            q = amp + 1;
        }
    }
    qsort(hs, nh, sizeof(hs[0]), cmp_amzh);
    for (size_t i = 0; i < nh; i++) {
        if (i > 0 && cmp_amzh(&hs[i - 1], &hs[i]) == 0) {
            s.len--; /* drop the '\n', join with ',' */
            nb_buf_putc(&s, ',');
        } else {
            for (size_t k = 0; k < hs[i].name_len; k++) nb_buf_putc(&s, (char)(hs[i].name[k] | 0x20));
            nb_buf_putc(&s, ':');
        }
        put_trimmed(&s, hs[i].value, hs[i].value_len);
        nb_buf_putc(&s, '\n');
    }
    nb_buf_puts(&s, bucket_prefix);
    if (bucket_prefix[0] && r->path_len <= 1)
        nb_buf_puts(&s, slash ? "/" : "");
    else
        nb_buf_append(&s, r->path, r->path_len);
    if (slash && !bucket_prefix[0]) nb_buf_putc(&s, '/');
    char sep = '?';
    if (variant & 2) {
        nb_buf_puts(&s, "?list-type=2");
        sep = '&';
    }
    for (size_t i = 0; i < NB_ARRAY_LEN(subresources); i++) {
        char val[1024];
        bool present = false;
        query_param(r, subresources[i], val, sizeof(val), &present);
        if (!present) continue;
        nb_buf_putc(&s, sep);
        sep = '&';
        nb_buf_puts(&s, subresources[i]);
        if (val[0]) {
            nb_buf_putc(&s, '=');
            nb_buf_puts(&s, val);
        }
    }
    for (size_t i = 0; i < nq; i++)
        free(qcopy[i]);
    if (s.oom) {
        nb_buf_free(&s);
        set_err(e, 503, "SlowDown", "Out of memory.");
        return -1;
    }
    unsigned char mac[20];
    nb_hmac_sha1(secret, strlen(secret), s.data, s.len, mac);
    char expect[40];
    nb_base64_encode(mac, 20, expect);
    /* constant-time compare */
    size_t el = strlen(expect), gl = strlen(a->signature);
    unsigned diff = (unsigned)(el ^ gl);
    for (size_t i = 0; i < el && i < gl; i++) diff |= (unsigned)(expect[i] ^ a->signature[i]);
    if (diff) {
        set_err(e, 403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.");
        if (sts_out) *sts_out = nb_buf_steal(&s, NULL);
        nb_buf_free(&s);
        return -1;
    }
    nb_buf_free(&s);
    return 0;
}
