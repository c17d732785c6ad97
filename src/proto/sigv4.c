/* sigv4.c: AWS Signature Version 4 on the server side (parse what clients send, rebuild the
 * canonical request, verify) and the client side (sign, presign), with AWS's error wording.
 * The aws-chunked body decoder lives in awschunked.c. */
#include "proto/sigv4.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "core/hash.h"

#define SKEW_SECONDS (15 * 60)
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- hashing (core/hash: OpenSSL's low-level SHA-256, no EVP provider start-up) ---- */

static void sha256_2(const void *a, size_t an, const void *b, size_t bn, unsigned char out[32])
{
    nb_sha256_ctx c;
    nb_sha256_init(&c);
    nb_sha256_update(&c, a, an);
    if (bn) nb_sha256_update(&c, b, bn);
    nb_sha256_final(&c, out);
}

/* HMAC-SHA256 (RFC 2104) with the key given in two pieces, so "AWS4" + secret needs no copy. */
static void hmac2(const void *k1, size_t k1n, const void *k2, size_t k2n, const void *data,
                  size_t n, unsigned char out[32])
{
    unsigned char k0[64] = {0}, pad[64], inner[32];
    if (k1n + k2n > 64) {
        sha256_2(k1, k1n, k2, k2n, k0);
    } else {
        if (k1n) memcpy(k0, k1, k1n);
        if (k2n) memcpy(k0 + k1n, k2, k2n);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = k0[i] ^ 0x36;
    sha256_2(pad, 64, data, n, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k0[i] ^ 0x5c;
    sha256_2(pad, 64, inner, 32, out);
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(pad, sizeof(pad));
}

static void hmac(const void *key, size_t klen, const void *data, size_t n, unsigned char out[32])
{
    hmac2(key, klen, NULL, 0, data, n, out);
}

void nb_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[32];
    sha256_2(data, n, NULL, 0, md);
    nb_hex(md, 32, out);
}

/* ---- errors ---- */

static void seterr(nb_sigv4_error *e, int status, const char *code, int reason, const char *fmt,
                   ...) NB_PRINTF(5, 6);
static void seterr(nb_sigv4_error *e, int status, const char *code, int reason, const char *fmt,
                   ...)
{
    if (!e) return;
    e->status = status;
    snprintf(e->code, sizeof(e->code), "%s", code);
    e->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

static void set_nomem(nb_sigv4_error *e)
{
    seterr(e, 503, "ServiceUnavailable", NB_SIGV4_R_NOMEM, "Please reduce your request rate.");
}

static const char SIG_MISMATCH[] =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* A real month and day of year y (any year). */
static bool valid_md(int y, int mo, int d)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) return false;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return false;
    return true;
}

static bool valid_ymd(int y, int mo, int d) { return y >= 1970 && valid_md(y, mo, d); }

int64_t nb_sigv4_parse_amz_date(const char *s, size_t n)
{
    if (n != 16 || s[8] != 'T' || s[15] != 'Z') return -1;
    int y = digits(s, 4), mo = digits(s + 4, 2), d = digits(s + 6, 2);
    int h = digits(s + 9, 2), mi = digits(s + 11, 2), se = digits(s + 13, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0) return -1;
    if (!valid_ymd(y, mo, d) || h > 23 || mi > 59 || se > 60) return -1;
    return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
}

static void put_digits(char *o, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        o[i] = (char)('0' + v % 10);
}

void nb_sigv4_format_amz_date(int64_t t, char out[17])
{
    /* Clamped to years 1970..9999 so the form always has 16 characters. */
    if (t < 0) t = 0;
    if (t > 253402300799) t = 253402300799;
    int y, m, d;
    int64_t days = t / 86400, sec = t % 86400;
    civil_from_days(days, &y, &m, &d);
    put_digits(out, (unsigned)y, 4);
    put_digits(out + 4, (unsigned)m, 2);
    put_digits(out + 6, (unsigned)d, 2);
    out[8] = 'T';
    put_digits(out + 9, (unsigned)(sec / 3600), 2);
    put_digits(out + 11, (unsigned)(sec / 60 % 60), 2);
    put_digits(out + 13, (unsigned)(sec % 60), 2);
    out[15] = 'Z';
    out[16] = 0;
}

/* "2013-05-24T00:00:00Z" */
static void format_iso(int64_t t, char out[32])
{
    char b[17];
    nb_sigv4_format_amz_date(t, b);
    memcpy(out, b, 4);
    out[4] = '-';
    memcpy(out + 5, b + 4, 2);
    out[7] = '-';
    memcpy(out + 8, b + 6, 2);
    out[10] = 'T';
    memcpy(out + 11, b + 9, 2);
    out[13] = ':';
    memcpy(out + 14, b + 11, 2);
    out[16] = ':';
    memcpy(out + 17, b + 13, 2);
    out[19] = 'Z';
    out[20] = 0;
}

/* RFC 7231 IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" (what clients put in Date), or the
 * basic ISO form some send there too. -1 if neither. */
static int64_t parse_http_date_ex(const char *s, size_t n, bool any_year);
static int64_t parse_http_date(const char *s, size_t n) { return parse_http_date_ex(s, n, false); }

/* Is it a date at all, whatever its year? (A Date header next to X-Amz-Date is only read so.) */
static bool http_date_wellformed(const char *s, size_t n)
{
    return parse_http_date_ex(s, n, true) != INT64_MIN;
}

/* any_year: years before 1970 parse too (to a negative time), and failure is INT64_MIN. */
static int64_t parse_http_date_ex(const char *s, size_t n, bool any_year)
{
    const int64_t bad = any_year ? INT64_MIN : -1;
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 16) {
        int64_t v = nb_sigv4_parse_amz_date(s, n);
        return v < 0 ? bad : v;
    }
    /* "... 08:49:37 +0000" / "-0000": what Python's email.utils.formatdate() (botocore's Date
     * header under SigV4) writes for UTC. */
    char fixed[29];
    if (n == 31 && (s[25] == ' ') && (s[26] == '+' || s[26] == '-') &&
        memcmp(s + 27, "0000", 4) == 0) {
        memcpy(fixed, s, 25);
        memcpy(fixed + 25, " GMT", 4);
        s = fixed;
        n = 29;
    }
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[19] != ':' || s[22] != ':' || memcmp(s + 25, " GMT", 4) != 0)
        return bad;
    int d = digits(s + 5, 2), y = digits(s + 12, 4);
    int h = digits(s + 17, 2), mi = digits(s + 20, 2), se = digits(s + 23, 2);
    int mo = 0;
    for (int i = 0; i < 12; i++)
        if (memcmp(s + 8, months + 3 * i, 3) == 0) mo = i + 1;
    if (!mo || d < 0 || y < 0 || h < 0 || mi < 0 || se < 0 ||
        !(any_year ? valid_md(y, mo, d) : valid_ymd(y, mo, d)) ||
        h > 23 || mi > 59 || se > 60)
        return bad;
    return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
}

/* ---- small string helpers ---- */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void trim(const char **p, size_t *n)
{
    while (*n && is_ws(**p))
        (*p)++, (*n)--;
    while (*n && is_ws((*p)[*n - 1]))
        (*n)--;
}

/* Copy into a fixed field; false when it does not fit (the caller refuses the request rather
 * than truncating what is compared later). */
static bool copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap) return false;
    memcpy(dst, s, n);
    dst[n] = 0;
    return true;
}

static bool all_digits(const char *s, size_t n)
{
    if (!n) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* Signature: kept only when it has the length of one (a longer value must not be truncated
 * into something that compares equal). */
static void copy_signature(char out[65], const char *s, size_t n)
{
    if (n <= 64) {
        memcpy(out, s, n);
        out[n] = 0;
    } else {
        snprintf(out, 65, "%s", "(too long)");
    }
}

/* ---- query strings ---- */

typedef struct qparam {
    const char *k, *v;
    size_t kn, vn;
} qparam;

/* Next "k=v" of a raw query string; empty pieces ("a&&b") are skipped. */
static bool next_param(const char **pp, const char *end, qparam *q)
{
    const char *p = *pp;
    while (p < end && *p == '&')
        p++;
    if (p >= end) return false;
    const char *amp = memchr(p, '&', (size_t)(end - p));
    if (!amp) amp = end;
    const char *eq = memchr(p, '=', (size_t)(amp - p));
    q->k = p;
    if (eq) {
        q->kn = (size_t)(eq - p);
        q->v = eq + 1;
        q->vn = (size_t)(amp - eq - 1);
    } else {
        q->kn = (size_t)(amp - p);
        q->v = amp;
        q->vn = 0;
    }
    *pp = amp;
    return true;
}

/* Does the raw name decode to lit? ('+' is not a space in SigV4.) */
static bool name_is(const char *k, size_t kn, const char *lit)
{
    size_t ln = strlen(lit);
    if (kn == ln) return memcmp(k, lit, ln) == 0;
    if (kn > 3 * ln || !memchr(k, '%', kn)) return false;
    char tmp[96];
    if (kn > sizeof(tmp)) return false;
    ssize_t d = nb_url_decode(k, kn, tmp, false);
    return d == (ssize_t)ln && memcmp(tmp, lit, ln) == 0;
}

static bool query_has(const char *q, size_t n, const char *name)
{
    const char *p = q, *end = q + n;
    qparam a;
    while (next_param(&p, end, &a))
        if (name_is(a.k, a.kn, name)) return true;
    return false;
}

/* Append the canonical (decoded, then RFC 3986-encoded) form of a raw piece. A piece that
 * does not decode (stray '%') is encoded as it came, which is what a client that sent it raw
 * would have signed. */
static int canon_encode(nb_buf *b, const char *s, size_t n)
{
    if (!memchr(s, '%', n)) return nb_url_encode(b, s, n, false);
    char *tmp = malloc(n + 1);
    if (!tmp) return NB_NOMEM;
    ssize_t d = nb_url_decode(s, n, tmp, false);
    int rc = d < 0 ? nb_url_encode(b, s, n, false) : nb_url_encode(b, tmp, (size_t)d, false);
    free(tmp);
    return rc;
}

typedef struct cparam {
    size_t k, kn, v, vn; /* offsets into the scratch buffer */
} cparam;

static int cparam_cmp(const void *a, const void *b, void *base)
{
    const cparam *x = a, *y = b;
    const char *s = base;
    size_t n = x->kn < y->kn ? x->kn : y->kn;
    int c = memcmp(s + x->k, s + y->k, n);
    if (c) return c;
    if (x->kn != y->kn) return x->kn < y->kn ? -1 : 1;
    n = x->vn < y->vn ? x->vn : y->vn;
    c = memcmp(s + x->v, s + y->v, n);
    if (c) return c;
    return x->vn < y->vn ? -1 : x->vn > y->vn;
}

/* Canonical query: every parameter re-encoded, sorted by encoded name then value, "k=v"
 * joined with '&' (a name without '=' becomes "k="). */
static int canonical_query(nb_buf *out, const char *q, size_t n, bool drop_signature)
{
    size_t count = 0;
    const char *p = q, *end = q + n;
    qparam a;
    while (next_param(&p, end, &a))
        count++;
    if (!count) return 0;
    cparam *v = malloc(count * sizeof(*v));
    nb_buf s;
    nb_buf_init(&s);
    if (!v) return NB_NOMEM;
    size_t m = 0;
    p = q;
    while (next_param(&p, end, &a)) {
        if (drop_signature && name_is(a.k, a.kn, "X-Amz-Signature")) continue;
        cparam *c = &v[m++];
        c->k = s.len;
        canon_encode(&s, a.k, a.kn);
        c->kn = s.len - c->k;
        c->v = s.len;
        canon_encode(&s, a.v, a.vn);
        c->vn = s.len - c->v;
    }
    if (s.oom) {
        free(v);
        nb_buf_free(&s);
        return NB_NOMEM;
    }
    const char *base = s.data ? s.data : ""; /* "=" alone appends nothing */
    qsort_r(v, m, sizeof(*v), cparam_cmp, (void *)base);
    for (size_t i = 0; i < m; i++) {
        if (i) nb_buf_putc(out, '&');
        nb_buf_append(out, base + v[i].k, v[i].kn);
        nb_buf_putc(out, '=');
        nb_buf_append(out, base + v[i].v, v[i].vn);
    }
    free(v);
    nb_buf_free(&s);
    return out->oom ? NB_NOMEM : 0;
}

/* ---- canonical URI ---- */

/* S3: the path is not normalized; each segment is decoded and re-encoded, so clients that
 * leave '~' or '!' raw, or use lowercase hex, get the form they signed ("%2F" inside a
 * segment stays "%2F"). */
static int canonical_uri_s3(nb_buf *out, const char *path, size_t n)
{
    if (!n) return nb_buf_putc(out, '/');
    const char *p = path, *end = path + n;
    while (p <= end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (!slash) slash = end;
        if (canon_encode(out, p, (size_t)(slash - p))) return NB_NOMEM;
        if (slash == end) break;
        if (nb_buf_putc(out, '/')) return NB_NOMEM;
        p = slash + 1;
    }
    return 0;
}

/* Other services: remove dot segments and empty segments (RFC 3986 5.2.4 plus collapsing
 * "//", as AWS and botocore do), then URI-encode the path as it was sent, which is the
 * "double encoding" of the already-encoded wire path. */
static int canonical_uri_normalized(nb_buf *out, const char *path, size_t n)
{
    if (!n) return nb_buf_putc(out, '/');
    size_t cap = n / 2 + 2, cnt = 0;
    nb_str *seg = malloc(cap * sizeof(*seg));
    if (!seg) return NB_NOMEM;
    const char *p = path, *end = path + n;
    while (p <= end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (!slash) slash = end;
        size_t len = (size_t)(slash - p);
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (cnt) cnt--;
        } else if (len && !(len == 1 && p[0] == '.')) {
            seg[cnt++] = (nb_str){p, len};
        }
        if (slash == end) break;
        p = slash + 1;
    }
    int rc = 0;
    if (path[0] == '/') rc |= nb_buf_putc(out, '/');
    for (size_t i = 0; i < cnt; i++) {
        if (i) rc |= nb_buf_putc(out, '/');
        rc |= nb_url_encode(out, seg[i].p, seg[i].n, false);
    }
    if (path[n - 1] == '/' && cnt) rc |= nb_buf_putc(out, '/');
    free(seg);
    return rc ? NB_NOMEM : 0;
}

/* ---- canonical request ---- */

/* Header value as AWS signs it: trimmed, inner runs of whitespace folded to one space.
 * Appends whole runs: this sits on every request's path. */
static void append_trimall(nb_buf *out, const char *v, size_t n)
{
    trim(&v, &n);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !is_ws(v[j]))
            j++;
        nb_buf_append(out, v + i, j - i);
        if (j == n) break;
        while (j < n && is_ws(v[j]))
            j++;
        nb_buf_putc(out, ' ');
        i = j;
    }
}

int nb_sigv4_canonical_request(nb_buf *out, const char *method, const char *path, size_t path_len,
                               const char *query, size_t query_len, const nb_header *h, size_t nh,
                               const char *signed_headers, const char *payload_hash, bool s3,
                               bool presigned)
{
    nb_buf_puts(out, method);
    nb_buf_putc(out, '\n');
    if (s3 ? canonical_uri_s3(out, path, path_len) : canonical_uri_normalized(out, path, path_len))
        return NB_NOMEM;
    nb_buf_putc(out, '\n');
    if (canonical_query(out, query ? query : "", query ? query_len : 0, presigned)) return NB_NOMEM;
    nb_buf_putc(out, '\n');
    /* Canonical headers in the order of SignedHeaders (which clients sort); repeated headers
     * are joined with ',' in arrival order. A signed header that is absent signs as empty. */
    const char *sh = signed_headers, *shend = sh + strlen(sh);
    while (sh < shend) {
        const char *semi = memchr(sh, ';', (size_t)(shend - sh));
        if (!semi) semi = shend;
        size_t nl = (size_t)(semi - sh);
        if (nl) {
            if (nb_buf_reserve(out, nl + 1)) return NB_NOMEM;
            for (size_t i = 0; i < nl; i++)
                out->data[out->len + i] = (char)tolower((unsigned char)sh[i]);
            out->data[out->len + nl] = ':';
            out->len += nl + 1;
            out->data[out->len] = 0;
            bool first = true;
            for (size_t i = 0; i < nh; i++) {
                if (!nb_mem_ieq(h[i].name, h[i].name_len, sh, nl)) continue;
                if (!first) nb_buf_putc(out, ',');
                first = false;
                append_trimall(out, h[i].value, h[i].value_len);
            }
            nb_buf_putc(out, '\n');
        }
        sh = semi + (semi < shend);
    }
    nb_buf_putc(out, '\n');
    nb_buf_puts(out, signed_headers);
    nb_buf_putc(out, '\n');
    nb_buf_puts(out, payload_hash);
    return out->oom ? NB_NOMEM : 0;
}

/* ---- signing key, with a small cache ---- */

#define KEY_CACHE_SLOTS 256
#define KEY_CACHE_SECRET 128

/* One entry per (secret, date, region, service): a day's key is reused by every request of
 * that credential, turning six HMACs per verification into two. The secret is kept in the
 * cache only up to 128 bytes (real secrets are 40); longer ones are not cached. */
typedef struct key_slot {
    bool used;
    char secret[KEY_CACHE_SECRET];
    char date[9], region[33], service[65];
    unsigned char key[32];
} key_slot;

static key_slot key_cache[KEY_CACHE_SLOTS];
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t fnv(uint32_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return (h ^ 0xff) * 16777619u;
}

static void derive_key(const char *secret, const char *date, const char *region,
                       const char *service, unsigned char key[32])
{
    unsigned char a[32], b[32];
    hmac2("AWS4", 4, secret, strlen(secret), date, strlen(date), a);
    hmac(a, 32, region, strlen(region), b);
    hmac(b, 32, service, strlen(service), a);
    hmac(a, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(a, 32);
    OPENSSL_cleanse(b, 32);
}

void nb_sigv4_signing_key(const char *secret, const char *date, const char *region,
                          const char *service, unsigned char key[32])
{
    bool cacheable = strlen(secret) < KEY_CACHE_SECRET && strlen(date) < 9 && strlen(region) < 33 &&
                     strlen(service) < 65;
    if (!cacheable) {
        derive_key(secret, date, region, service, key);
        return;
    }
    uint32_t h = fnv(fnv(fnv(fnv(2166136261u, secret), date), region), service);
    key_slot *s = &key_cache[h % KEY_CACHE_SLOTS];
    pthread_mutex_lock(&key_lock);
    if (s->used && !strcmp(s->secret, secret) && !strcmp(s->date, date) &&
        !strcmp(s->region, region) && !strcmp(s->service, service)) {
        memcpy(key, s->key, 32);
        pthread_mutex_unlock(&key_lock);
        return;
    }
    pthread_mutex_unlock(&key_lock);
    derive_key(secret, date, region, service, key);
    pthread_mutex_lock(&key_lock);
    s->used = true;
    strcpy(s->secret, secret);
    strcpy(s->date, date);
    strcpy(s->region, region);
    strcpy(s->service, service);
    memcpy(s->key, key, 32);
    pthread_mutex_unlock(&key_lock);
}

void nb_sigv4_string_to_sign(nb_buf *out, const char *amz_date, const char *date,
                             const char *region, const char *service, const char *creq,
                             size_t creq_len)
{
    char hex[65];
    nb_sha256_hex(creq, creq_len, hex);
    nb_buf_printf(out, "%s\n%s\n%s/%s/%s/aws4_request\n%s", NB_SIGV4_ALGO, amz_date, date, region,
                  service, hex);
}

void nb_sigv4_sign_sts(const unsigned char key[32], const char *sts, size_t n, char out[65])
{
    unsigned char mac[32];
    hmac(key, 32, sts, n, mac);
    nb_hex(mac, 32, out);
}

/* ---- detection ---- */

int nb_sigv4_detect(const nb_req *r, nb_sigv4_error *e)
{
    size_t an = 0;
    const char *auth = nb_req_header(r, "authorization", &an);
    if (auth) {
        /* An empty Authorization header is no authentication at all: S3 answers such a
         * request as anonymous (AccessDenied where anonymous access is not allowed). */
        const char *v = auth;
        size_t n = an;
        trim(&v, &n);
        if (!n) auth = NULL;
    }
    bool v4q = false, v2q = false;
    if (r->query && r->query_len) {
        v4q = query_has(r->query, r->query_len, "X-Amz-Algorithm") ||
              query_has(r->query, r->query_len, "X-Amz-Credential") ||
              query_has(r->query, r->query_len, "X-Amz-Signature");
        v2q = query_has(r->query, r->query_len, "AWSAccessKeyId") &&
              query_has(r->query, r->query_len, "Signature");
    }
    if (auth && (v4q || v2q)) {
        /* S3's answer to a request that carries both a header and a query signature. */
        seterr(e, 400, "InvalidArgument", NB_SIGV4_R_SCHEME,
               "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
               "Signature query string parameter or the Authorization header should be specified");
        return -1;
    }
    if (auth) {
        const char *v = auth;
        size_t n = an;
        trim(&v, &n);
        if (n >= 5 && memcmp(v, "AWS4-", 5) == 0) return 1;
        if (n >= 4 && memcmp(v, "AWS ", 4) == 0) {
            /* SigV2: S3 in every region opened since 2014 (and S3 everywhere for new
             * buckets) answers 400 InvalidRequest with this text. */
            seterr(e, 400, "InvalidRequest", NB_SIGV4_R_SCHEME,
                   "The authorization mechanism you have provided is not supported. Please use "
                   "AWS4-HMAC-SHA256.");
            return -1;
        }
        /* Anything else (Bearer, Basic, empty): S3's wording for an unknown scheme. */
        seterr(e, 400, "InvalidArgument", NB_SIGV4_R_SCHEME, "Unsupported Authorization Type");
        return -1;
    }
    if (v4q) return 2;
    if (v2q) {
        seterr(e, 400, "InvalidRequest", NB_SIGV4_R_SCHEME,
               "The authorization mechanism you have provided is not supported. Please use "
               "AWS4-HMAC-SHA256.");
        return -1;
    }
    return 0;
}

/* ---- Authorization header ---- */

/* Split "AKID/20150830/us-east-1/iam/aws4_request" into its five parts; false unless five. */
static bool split_credential(const char *s, size_t n, nb_str part[5])
{
    int k = 0;
    const char *p = s, *end = s + n;
    while (k < 5) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (!slash) slash = end;
        part[k++] = (nb_str){p, (size_t)(slash - p)};
        if (slash == end) break;
        p = slash + 1;
    }
    return k == 5 && part[4].p + part[4].n == end;
}

static bool looks_s3(const char *s, size_t n)
{
    for (size_t i = 0; i + 2 <= n; i++)
        if ((i == 0 || s[i - 1] == '/') && s[i] == 's' && s[i + 1] == '3' &&
            (i + 2 == n || s[i + 2] == '/'))
            return true;
    return false;
}

/* Fill the credential parts of out. prefix = how S3 opens its messages for this location
 * ("The authorization header is malformed; " or "Error parsing the X-Amz-Credential
 * parameter; "). Other services' wording is used when !s3. */
static int parse_credential(const char *c, size_t cn, bool s3, bool presigned, nb_sigv4_auth *out,
                            nb_sigv4_error *e)
{
    const char *code = presigned ? "AuthorizationQueryParametersError"
                                 : (s3 ? "AuthorizationHeaderMalformed" : "IncompleteSignature");
    const char *prefix = presigned ? "Error parsing the X-Amz-Credential parameter; "
                                   : "The authorization header is malformed; ";
    nb_str part[5];
    bool ok = split_credential(c, cn, part);
    if (ok)
        ok = copy_field(out->access_key, sizeof(out->access_key), part[0].p, part[0].n) &&
             copy_field(out->region, sizeof(out->region), part[2].p, part[2].n) &&
             copy_field(out->service, sizeof(out->service), part[3].p, part[3].n);
    if (!ok) {
        if (s3 || presigned)
            seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
                   "%sthe Credential is mal-formed; expecting "
                   "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
                   prefix);
        else
            seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
                   "Credential must have exactly 5 slash-delimited elements, e.g. "
                   "keyid/date/region/service/term, got '%.*s'",
                   (int)(cn > 300 ? 300 : cn), c);
        return -1;
    }
    if (s3 || presigned) {
        if (!part[0].n) {
            seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
                   "%sa non-empty Access Key (AKID) must be provided in the credential.", prefix);
            return -1;
        }
        if (part[1].n != 8 || !all_digits(part[1].p, 8)) {
            seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
                   "%sincorrect date format \"%.*s\". This date in the credential must be in the "
                   "format \"yyyyMMdd\".",
                   prefix, (int)(part[1].n > 40 ? 40 : part[1].n), part[1].p);
            return -1;
        }
        if (!nb_str_eq(part[4], "aws4_request")) {
            seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
                   "%sincorrect terminal \"%.*s\". This endpoint uses \"aws4_request\".", prefix,
                   (int)(part[4].n > 40 ? 40 : part[4].n), part[4].p);
            return -1;
        }
    } else {
        if (!nb_str_eq(part[4], "aws4_request")) {
            /* IAM/STS word it so and answer 403 SignatureDoesNotMatch. */
            seterr(e, 403, "SignatureDoesNotMatch", NB_SIGV4_R_MALFORMED,
                   "Credential should be scoped with a valid terminator: 'aws4_request', not "
                   "'%.*s'. ",
                   (int)(part[4].n > 40 ? 40 : part[4].n), part[4].p);
            return -1;
        }
        /* A malformed date is caught when it is compared with the request date, with the
         * message the other services use for it. */
    }
    if (!copy_field(out->date, sizeof(out->date), part[1].p, part[1].n)) {
        seterr(e, 403, "SignatureDoesNotMatch", NB_SIGV4_R_MALFORMED,
               "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
               "from HTTP: '%.*s'",
               (int)(part[1].n > 40 ? 40 : part[1].n), part[1].p);
        return -1;
    }
    return 0;
}

int nb_sigv4_parse_header_ex(const char *value, size_t n, int s3hint, nb_sigv4_auth *out,
                             nb_sigv4_error *e)
{
    memset(out, 0, sizeof(*out));
    const char *v = value ? value : "";
    trim(&v, &n);
    size_t shown = n > 300 ? 300 : n; /* how much of the header an error message echoes */
    size_t al = 0;
    while (al < n && !is_ws(v[al]) && v[al] != ',')
        al++;
    nb_str cred = {NULL, 0}, sh = {NULL, 0}, sig = {NULL, 0};
    const char *p = v + al, *end = v + n;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        if (!comma) comma = end;
        const char *c = p;
        size_t cn = (size_t)(comma - p);
        trim(&c, &cn);
        const char *eq = memchr(c, '=', cn);
        if (eq) {
            nb_str key = {c, (size_t)(eq - c)}, val = {eq + 1, cn - (size_t)(eq - c) - 1};
            trim(&key.p, &key.n);
            trim(&val.p, &val.n);
            if (nb_str_eq(key, "Credential"))
                cred = val;
            else if (nb_str_eq(key, "SignedHeaders"))
                sh = val;
            else if (nb_str_eq(key, "Signature"))
                sig = val;
        }
        p = comma + 1;
    }
    bool s3 = s3hint > 0 || (s3hint < 0 && cred.n && looks_s3(cred.p, cred.n));
    if (!(al == strlen(NB_SIGV4_ALGO) && memcmp(v, NB_SIGV4_ALGO, al) == 0)) {
        if (s3)
            seterr(e, 400, "InvalidArgument", NB_SIGV4_R_SCHEME, "Unsupported Authorization Type");
        else
            seterr(e, 400, "IncompleteSignature", NB_SIGV4_R_SCHEME,
                   "Unsupported AWS 'algorithm': '%.*s'", (int)(al > 64 ? 64 : al), v);
        return -1;
    }
    if (!cred.n || !sh.n || !sig.n) {
        if (s3) {
            seterr(e, 400, "AuthorizationHeaderMalformed", NB_SIGV4_R_MALFORMED,
                   "The authorization header is malformed; the authorization header requires "
                   "three components: Credential, SignedHeaders, and Signature.");
        } else {
            /* The other services list every missing part, then echo the header. */
            char msg[256] = "";
            if (!cred.n) strcat(msg, "Authorization header requires 'Credential' parameter. ");
            if (!sig.n) strcat(msg, "Authorization header requires 'Signature' parameter. ");
            if (!sh.n) strcat(msg, "Authorization header requires 'SignedHeaders' parameter. ");
            seterr(e, 400, "IncompleteSignature", NB_SIGV4_R_MALFORMED, "%sAuthorization=%.*s", msg,
                   (int)shown, v);
        }
        return -1;
    }
    if (parse_credential(cred.p, cred.n, s3, false, out, e) < 0) return -1;
    if (!copy_field(out->signed_headers, sizeof(out->signed_headers), sh.p, sh.n)) {
        /* Ours: AWS has no such limit, but 2 KiB of header names is far past any client. */
        seterr(e, 400, s3 ? "AuthorizationHeaderMalformed" : "IncompleteSignature",
               NB_SIGV4_R_MALFORMED, "SignedHeaders is too long.");
        return -1;
    }
    copy_signature(out->signature, sig.p, sig.n);
    return 0;
}

int nb_sigv4_parse_header(const char *value, size_t n, nb_sigv4_auth *out, nb_sigv4_error *e)
{
    return nb_sigv4_parse_header_ex(value, n, -1, out, e);
}

/* ---- presigned query ---- */

/* Decoded copy of a query value into a fixed field; false if it does not decode or fit. */
static bool decode_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap * 3) return false;
    char *tmp = malloc(n + 1);
    if (!tmp) return false;
    ssize_t d = nb_url_decode(s, n, tmp, false);
    bool ok = d >= 0 && copy_field(dst, cap, tmp, (size_t)d);
    free(tmp);
    return ok;
}

int nb_sigv4_parse_presigned(const char *query, size_t n, nb_sigv4_auth *out, nb_sigv4_error *e)
{
    memset(out, 0, sizeof(*out));
    out->presigned = true;
    const char *names[] = {"X-Amz-Algorithm",     "X-Amz-Credential",    "X-Amz-Date",
                           "X-Amz-Expires",       "X-Amz-SignedHeaders", "X-Amz-Signature",
                           "X-Amz-Security-Token"};
    qparam found[7];
    bool have[7] = {false};
    const char *p = query ? query : "", *end = p + (query ? n : 0);
    qparam a;
    while (next_param(&p, end, &a))
        for (int i = 0; i < 7; i++)
            if (!have[i] && name_is(a.k, a.kn, names[i])) {
                have[i] = true;
                found[i] = a;
            }
    const char *code = "AuthorizationQueryParametersError";
    for (int i = 0; i < 6; i++)
        if (!have[i] || !found[i].vn) {
            seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
                   "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                   "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                   "X-Amz-Expires parameters.");
            return -1;
        }
    char algo[32];
    if (!decode_field(algo, sizeof(algo), found[0].v, found[0].vn) || strcmp(algo, NB_SIGV4_ALGO)) {
        seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
               "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
        return -1;
    }
    char cred[512];
    if (!decode_field(cred, sizeof(cred), found[1].v, found[1].vn)) {
        seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
               "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
               "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
        return -1;
    }
    if (parse_credential(cred, strlen(cred), true, true, out, e) < 0) return -1;
    if (!decode_field(out->amz_date, sizeof(out->amz_date), found[2].v, found[2].vn) ||
        nb_sigv4_parse_amz_date(out->amz_date, strlen(out->amz_date)) < 0) {
        out->amz_date[0] = 0;
        seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
               "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
        return -1;
    }
    char exp[32];
    bool ok = decode_field(exp, sizeof(exp), found[3].v, found[3].vn);
    bool neg = ok && exp[0] == '-';
    if (!ok || !all_digits(exp + neg, strlen(exp) - neg)) {
        seterr(e, 400, code, NB_SIGV4_R_MALFORMED, "X-Amz-Expires should be a number");
        return -1;
    }
    if (neg) {
        seterr(e, 400, code, NB_SIGV4_R_MALFORMED, "X-Amz-Expires must be non-negative");
        return -1;
    }
    if (strlen(exp) > 7 || (out->expires = strtoll(exp, NULL, 10)) > 604800) {
        seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
               "X-Amz-Expires must be less than a week (in seconds) that is 604800");
        return -1;
    }
    /* X-Amz-Expires=0 passes parsing as on S3; such a URL is expired a second later. */
    if (!decode_field(out->signed_headers, sizeof(out->signed_headers), found[4].v, found[4].vn)) {
        seterr(e, 400, code, NB_SIGV4_R_MALFORMED, "X-Amz-SignedHeaders is too long.");
        return -1;
    }
    char sig[200];
    if (decode_field(sig, sizeof(sig), found[5].v, found[5].vn))
        copy_signature(out->signature, sig, strlen(sig));
    else
        snprintf(out->signature, sizeof(out->signature), "(unreadable)");
    if (have[6] &&
        !decode_field(out->security_token, sizeof(out->security_token), found[6].v, found[6].vn)) {
        /* S3's answer to a token it cannot use. */
        seterr(e, 400, "InvalidToken", NB_SIGV4_R_MALFORMED,
               "The provided token is malformed or otherwise invalid.");
        return -1;
    }
    return 0;
}

/* ---- scope check ---- */

int nb_sigv4_check_scope(const nb_sigv4_auth *a, const char *region, const char *service, bool s3,
                         nb_sigv4_error *e)
{
    if (s3) {
        const char *code =
            a->presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed";
        const char *prefix = a->presigned ? "Error parsing the X-Amz-Credential parameter; "
                                          : "The authorization header is malformed; ";
        if (region && strcmp(a->region, region) != 0) {
            seterr(e, 400, code, NB_SIGV4_R_MALFORMED, "%sthe region '%s' is wrong; expecting '%s'",
                   prefix, a->region, region);
            return -1;
        }
        if (service && strcmp(a->service, service) != 0) {
            seterr(e, 400, code, NB_SIGV4_R_MALFORMED,
                   "%sincorrect service \"%s\". This endpoint belongs to \"%s\".", prefix,
                   a->service, service);
            return -1;
        }
        return 0;
    }
    if (region && strcmp(a->region, region) != 0) {
        seterr(e, 403, "SignatureDoesNotMatch", NB_SIGV4_R_MALFORMED,
               "Credential should be scoped to a valid region, not '%s'. ", a->region);
        return -1;
    }
    if (service && strcmp(a->service, service) != 0) {
        seterr(e, 403, "SignatureDoesNotMatch", NB_SIGV4_R_MALFORMED,
               "Credential should be scoped to correct service: '%s'. ", service);
        return -1;
    }
    return 0;
}

/* ---- verification ---- */

static __thread nb_sigv4_detail tl_detail;
static __thread nb_buf tl_creq, tl_sts; /* per-thread scratch, kept for the detail */

/* The scratch buffers live as long as their thread: free them when it exits. */
static pthread_key_t tl_key;
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;
static void tl_free(void *unused)
{
    (void)unused;
    nb_buf_free(&tl_creq);
    nb_buf_free(&tl_sts);
}
static void tl_key_init(void) { pthread_key_create(&tl_key, tl_free); }
static void tl_register(void)
{
    pthread_once(&tl_once, tl_key_init);
    if (!pthread_getspecific(tl_key)) pthread_setspecific(tl_key, (void *)1);
}

const nb_sigv4_detail *nb_sigv4_last_detail(void)
{
    if (!tl_detail.canonical_request) {
        tl_detail.canonical_request = "";
        tl_detail.string_to_sign = "";
    }
    return &tl_detail;
}

static bool signed_has(const char *list, const char *name)
{
    size_t nl = strlen(name);
    const char *p = list;
    while (*p) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (nb_mem_ieq(p, len, name, nl)) return true;
        if (!semi) break;
        p = semi + 1;
    }
    return false;
}

static void add_not_signed(char *list, size_t cap, const char *name, size_t n)
{
    size_t len = strlen(list);
    if (len + n + 2 >= cap) return;
    if (len) list[len++] = ',';
    for (size_t i = 0; i < n; i++)
        list[len++] = (char)tolower((unsigned char)name[i]);
    list[len] = 0;
}

int nb_sigv4_verify(const nb_sigv4_auth *a, const char *secret, const nb_req *r, const char *path,
                    size_t path_len, const char *payload_hash, bool s3, int64_t now,
                    nb_sigv4_error *e)
{
    nb_sigv4_detail *d = &tl_detail;
    /* Reset cheaply (this runs on every request); the detail's own fields are filled on the
     * failure paths, server_time included. */
    d->canonical_request = d->string_to_sign = "";
    d->canonical_request_len = d->string_to_sign_len = 0;
    d->request_time[0] = d->expires[0] = d->headers_not_signed[0] = 0;
    d->x_amz_expires = 0;
    memcpy(d->signature_provided, a->signature, sizeof(d->signature_provided));
    memcpy(d->access_key, a->access_key, sizeof(d->access_key));
    d->signature_provided[64] = d->access_key[128] = 0;
    format_iso(now, d->server_time);
    /* verify completes a header auth from the request (see sigv4.h); the caller's struct is
     * not const storage. */
    nb_sigv4_auth *wa = (nb_sigv4_auth *)a;

    /* 1. Request time: X-Amz-Date, else Date (header auth); X-Amz-Date (presigned). */
    int64_t t;
    bool used_amz_date = true;
    if (a->presigned) {
        t = nb_sigv4_parse_amz_date(a->amz_date, strlen(a->amz_date));
        memcpy(d->request_time, a->amz_date, sizeof(a->amz_date));
    } else {
        size_t n = 0;
        const char *v = nb_req_header(r, "x-amz-date", &n);
        if (!v) {
            v = nb_req_header(r, "date", &n);
            used_amz_date = false;
        }
        t = -1;
        if (v) {
            const char *tv = v;
            size_t tn = n;
            trim(&tv, &tn);
            size_t rn = tn < sizeof(d->request_time) ? tn : sizeof(d->request_time) - 1;
            memcpy(d->request_time, tv, rn);
            d->request_time[rn] = 0;
            t = used_amz_date ? nb_sigv4_parse_amz_date(tv, tn) : parse_http_date(tv, tn);
        }
        size_t dn = 0;
        const char *dv = used_amz_date && s3 ? nb_req_header(r, "date", &dn) : NULL;
        if (t >= 0 && dv && !http_date_wellformed(dv, dn)) {
            /* S3 also refuses a Date header it cannot read (empty included) next to a valid
             * X-Amz-Date, though only X-Amz-Date's value counts (s3-tests *_bad_date_*_aws4). */
            t = -1;
        }
        if (t < 0) {
            if (s3) {
                seterr(e, 403, "AccessDenied", NB_SIGV4_R_MALFORMED,
                       "AWS authentication requires a valid Date or x-amz-date header");
            } else {
                size_t an = 0;
                const char *av = nb_req_header(r, "authorization", &an);
                seterr(e, 400, "IncompleteSignature", NB_SIGV4_R_MALFORMED,
                       "Authorization header requires existence of either a 'X-Amz-Date' or a "
                       "'Date' header. Authorization=%.*s",
                       (int)(an > 300 ? 300 : an), av ? av : "");
            }
            return -1;
        }
        if (!a->amz_date[0]) nb_sigv4_format_amz_date(t, wa->amz_date);
        if (!a->security_token[0]) {
            size_t tn = 0;
            const char *tok = nb_req_header(r, "x-amz-security-token", &tn);
            if (tok) copy_field(wa->security_token, sizeof(wa->security_token), tok, tn);
        }
    }
    char amz_date[17];
    nb_sigv4_format_amz_date(t, amz_date);

    /* 2. Time: 15 minutes either way (header); not too far ahead and not expired (query). Checked
     * before the scope's date, as S3 does: a request dated 2010 is RequestTimeTooSkewed, not a
     * credential-date mismatch. X-Amz-Expires=0 is expired at once (S3 refuses it, 403). */
    bool ahead = t - now > SKEW_SECONDS, behind = now - t > SKEW_SECONDS;
    if (ahead || (behind && !a->presigned)) {
        if (s3) {
            seterr(e, 403, "RequestTimeTooSkewed", NB_SIGV4_R_SKEW,
                   "The difference between the request time and the current time is too large.");
        } else {
            char bound[17], nowb[17];
            nb_sigv4_format_amz_date(ahead ? now + SKEW_SECONDS : now - SKEW_SECONDS, bound);
            nb_sigv4_format_amz_date(now, nowb);
            if (ahead)
                seterr(e, 403, "RequestTimeTooSkewed", NB_SIGV4_R_SKEW,
                       "Signature not yet current: %s is still later than %s (%s + 15 min.)",
                       amz_date, bound, nowb);
            else
                seterr(e, 403, "RequestTimeTooSkewed", NB_SIGV4_R_SKEW,
                       "Signature expired: %s is now earlier than %s (%s - 15 min.)", amz_date,
                       bound, nowb);
        }
        return -1;
    }
    if (a->presigned && (now > t + a->expires || a->expires == 0)) {
        d->x_amz_expires = a->expires;
        format_iso(t + a->expires, d->expires);
        seterr(e, 403, "AccessDenied", NB_SIGV4_R_EXPIRED, "Request has expired");
        return -1;
    }

    /* 3. The scope's date is the request's date. */
    if (strncmp(a->date, amz_date, 8) != 0 || strlen(a->date) != 8) {
        if (s3 && a->presigned)
            seterr(e, 400, "AuthorizationQueryParametersError", NB_SIGV4_R_MALFORMED,
                   "Invalid credential date. Date is not the same as X-Amz-Date.");
        else if (s3)
            seterr(e, 400, "AuthorizationHeaderMalformed", NB_SIGV4_R_MALFORMED,
                   "The authorization header is malformed; Invalid credential date. Date is not "
                   "the same as X-Amz-Date.");
        else
            seterr(e, 403, "SignatureDoesNotMatch", NB_SIGV4_R_MALFORMED,
                   "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                   "date from HTTP: '%s' != '%.8s', from '%s'.",
                   a->date, amz_date, amz_date);
        return -1;
    }

    /* 4. Headers that must be signed. */
    if (!signed_has(a->signed_headers, "host")) {
        if (s3) {
            snprintf(d->headers_not_signed, sizeof(d->headers_not_signed), "host");
            seterr(e, 403, "AccessDenied", NB_SIGV4_R_UNSIGNED,
                   "There were headers present in the request which were not signed");
        } else {
            seterr(e, 400, "IncompleteSignature", NB_SIGV4_R_UNSIGNED,
                   "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
        }
        return -1;
    }
    if (!a->presigned) {
        if (s3) {
            /* S3 refuses any x-amz-* header the signature does not cover. */
            for (size_t i = 0; i < r->nheaders; i++) {
                const nb_header *h = &r->headers[i];
                if (h->name_len < 6 || !nb_mem_ieq(h->name, 6, "x-amz-", 6)) continue;
                char nm[128];
                if (h->name_len >= sizeof(nm)) {
                    add_not_signed(d->headers_not_signed, sizeof(d->headers_not_signed), h->name,
                                   h->name_len);
                    continue;
                }
                memcpy(nm, h->name, h->name_len);
                nm[h->name_len] = 0;
                if (!signed_has(a->signed_headers, nm))
                    add_not_signed(d->headers_not_signed, sizeof(d->headers_not_signed), h->name,
                                   h->name_len);
            }
            if (!used_amz_date && !signed_has(a->signed_headers, "date"))
                add_not_signed(d->headers_not_signed, sizeof(d->headers_not_signed), "date", 4);
            if (d->headers_not_signed[0]) {
                seterr(e, 403, "AccessDenied", NB_SIGV4_R_UNSIGNED,
                       "There were headers present in the request which were not signed");
                return -1;
            }
        } else if (!signed_has(a->signed_headers, used_amz_date ? "x-amz-date" : "date")) {
            /* Our wording, modelled on the Host message: AWS refuses an unsigned date too. */
            seterr(e, 400, "IncompleteSignature", NB_SIGV4_R_UNSIGNED,
                   "'%s' must be a 'SignedHeader' in the AWS Authorization.",
                   used_amz_date ? "X-Amz-Date" : "Date");
            return -1;
        }
    }

    /* 5. The signature. */
    nb_buf *creq = &tl_creq, *sts = &tl_sts;
    tl_register();
    nb_buf_reset(creq);
    nb_buf_reset(sts);
    creq->oom = sts->oom = false;
    if (nb_sigv4_canonical_request(creq, r->method, path, path_len, r->query, r->query_len,
                                   r->headers, r->nheaders, a->signed_headers, payload_hash, s3,
                                   a->presigned)) {
        set_nomem(e);
        return -1;
    }
    nb_sigv4_string_to_sign(sts, amz_date, a->date, a->region, a->service, creq->data, creq->len);
    if (sts->oom) {
        set_nomem(e);
        return -1;
    }
    unsigned char key[32];
    char sig[65];
    nb_sigv4_signing_key(secret, a->date, a->region, a->service, key);
    nb_sigv4_sign_sts(key, sts->data, sts->len, sig);
    OPENSSL_cleanse(key, sizeof(key));
    if (strlen(a->signature) != 64 || CRYPTO_memcmp(sig, a->signature, 64) != 0) {
        d->canonical_request = creq->data;
        d->canonical_request_len = creq->len;
        d->string_to_sign = sts->data;
        d->string_to_sign_len = sts->len;
        seterr(e, 403, "SignatureDoesNotMatch", NB_SIGV4_R_SIGNATURE, "%s", SIG_MISMATCH);
        return -1;
    }
    return 0;
}

/* ---- client side ---- */

/* Sorted, de-duplicated lowercase names of h joined by ';'. */
static int signed_list(nb_buf *out, const nb_header *h, size_t nh)
{
    char **names = calloc(nh ? nh : 1, sizeof(char *));
    if (!names) return NB_NOMEM;
    size_t m = 0;
    int rc = 0;
    for (size_t i = 0; i < nh; i++) {
        char *s = malloc(h[i].name_len + 1);
        if (!s) {
            rc = NB_NOMEM;
            break;
        }
        for (size_t k = 0; k < h[i].name_len; k++)
            s[k] = (char)tolower((unsigned char)h[i].name[k]);
        s[h[i].name_len] = 0;
        names[m++] = s;
    }
    for (size_t i = 1; i < m; i++) /* insertion sort: a handful of names */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *x = names[j];
            names[j] = names[j - 1];
            names[j - 1] = x;
        }
    for (size_t i = 0; i < m && !rc; i++) {
        if (i && !strcmp(names[i], names[i - 1])) continue;
        if (out->len) nb_buf_putc(out, ';');
        nb_buf_puts(out, names[i]);
    }
    for (size_t i = 0; i < m; i++)
        free(names[i]);
    free(names);
    return rc ? rc : (out->oom ? NB_NOMEM : 0);
}

static int sign_common(char sig[65], const char *secret, const char *region, const char *service,
                       const char *amz_date, const char *method, const char *path,
                       const char *query, const nb_header *h, size_t nh, const char *sh,
                       const char *payload_hash, bool s3, bool presigned)
{
    nb_buf creq, sts;
    nb_buf_init(&creq);
    nb_buf_init(&sts);
    char date[9];
    snprintf(date, sizeof(date), "%.8s", amz_date);
    int rc = nb_sigv4_canonical_request(&creq, method, path, strlen(path), query ? query : "",
                                        query ? strlen(query) : 0, h, nh, sh, payload_hash, s3,
                                        presigned);
    if (!rc) {
        nb_sigv4_string_to_sign(&sts, amz_date, date, region, service, creq.data, creq.len);
        if (sts.oom) rc = NB_NOMEM;
    }
    if (!rc) {
        unsigned char key[32];
        nb_sigv4_signing_key(secret, date, region, service, key);
        nb_sigv4_sign_sts(key, sts.data, sts.len, sig);
    }
    nb_buf_free(&creq);
    nb_buf_free(&sts);
    return rc;
}

int nb_sigv4_sign(nb_buf *out, const char *access_key, const char *secret, const char *region,
                  const char *service, const char *amz_date, const char *method, const char *path,
                  const char *query, const nb_header *h, size_t nh, const char *payload_hash,
                  bool s3)
{
    nb_buf sh;
    nb_buf_init(&sh);
    char sig[65];
    int rc = signed_list(&sh, h, nh);
    if (!rc)
        rc = sign_common(sig, secret, region, service, amz_date, method, path, query, h, nh,
                         sh.data ? sh.data : "", payload_hash, s3, false);
    if (!rc)
        rc = nb_buf_printf(out,
                           "%s Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, "
                           "Signature=%s",
                           NB_SIGV4_ALGO, access_key, amz_date, region, service,
                           sh.data ? sh.data : "", sig);
    nb_buf_free(&sh);
    return rc;
}

int nb_sigv4_presign(nb_buf *out, const char *access_key, const char *secret, const char *region,
                     const char *service, const char *amz_date, int64_t expires,
                     const char *security_token, const char *method, const char *path,
                     const char *query, const nb_header *h, size_t nh, const char *payload_hash,
                     bool s3)
{
    nb_buf sh, q, cred;
    nb_buf_init(&sh);
    nb_buf_init(&q);
    nb_buf_init(&cred);
    int rc = signed_list(&sh, h, nh);
    if (query && *query) {
        nb_buf_puts(&q, query);
        nb_buf_putc(&q, '&');
    }
    nb_buf_printf(&cred, "%s/%.8s/%s/%s/aws4_request", access_key, amz_date, region, service);
    nb_buf_puts(&q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
    nb_url_encode(&q, cred.data ? cred.data : "", cred.len, false);
    nb_buf_printf(&q, "&X-Amz-Date=%s&X-Amz-Expires=%lld", amz_date, (long long)expires);
    if (security_token && *security_token) {
        nb_buf_puts(&q, "&X-Amz-Security-Token=");
        nb_url_encode(&q, security_token, strlen(security_token), false);
    }
    nb_buf_puts(&q, "&X-Amz-SignedHeaders=");
    nb_url_encode(&q, sh.data ? sh.data : "", sh.len, false);
    if (q.oom || cred.oom) rc = NB_NOMEM;
    char sig[65];
    if (!rc)
        rc = sign_common(sig, secret, region, service, amz_date, method, path, q.data, h, nh,
                         sh.data ? sh.data : "", payload_hash, s3, true);
    if (!rc) {
        nb_buf_append(out, q.data, q.len);
        nb_buf_printf(out, "&X-Amz-Signature=%s", sig);
        if (out->oom) rc = NB_NOMEM;
    }
    nb_buf_free(&sh);
    nb_buf_free(&q);
    nb_buf_free(&cred);
    return rc;
}
