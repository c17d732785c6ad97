/* fuzz_sigv4_header.c: libFuzzer target for the Authorization header path: parsing (both
 * wordings), then, when it parses, verification of a request whose path, query and one header
 * value also come from the input (canonical URI/query/header building, time checks).
 * Input: flags byte, then NUL-separated: Authorization value, path, query, x-amz-date value. */
#include <stdlib.h>

#include "proto/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The HTTP layer's lookup, weak so the library's copy wins when it is linked in. */
__attribute__((weak)) const char *nb_req_header(const nb_req *r, const char *name, size_t *len)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (nb_mem_ieq(r->headers[i].name, r->headers[i].name_len, name, strlen(name))) {
            if (len) *len = r->headers[i].value_len;
            return r->headers[i].value;
        }
    return NULL;
}

/* Next NUL-separated piece as a NUL-terminated heap copy. */
static char *piece(const uint8_t **p, const uint8_t *end, size_t *n)
{
    const uint8_t *z = memchr(*p, 0, (size_t)(end - *p));
    if (!z) z = end;
    *n = (size_t)(z - *p);
    char *s = malloc(*n + 1);
    memcpy(s, *p, *n);
    s[*n] = 0;
    *p = z < end ? z + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    uint8_t flags = data[0];
    const uint8_t *p = data + 1, *end = data + size;
    size_t an, pn, qn, dn;
    char *auth = piece(&p, end, &an), *path = piece(&p, end, &pn), *query = piece(&p, end, &qn);
    char *date = piece(&p, end, &dn);
    bool s3 = flags & 1;

    nb_header h[4] = {
        {"Host", 4, "example.amazonaws.com", 21},
        {"X-Amz-Date", 10, date, dn},
        {"Authorization", 13, auth, an},
        {"x-amz-meta-a", 12, "  b  c ", 7},
    };
    nb_req r;
    memset(&r, 0, sizeof(r));
    r.method = (flags & 2) ? "PUT" : "GET";
    r.path = path;
    r.path_len = pn;
    r.query = query;
    r.query_len = qn;
    r.headers = h;
    r.nheaders = (flags & 4) ? 4 : 3;

    nb_sigv4_error e;
    memset(&e, 0, sizeof(e));
    (void)nb_sigv4_detect(&r, &e);
    nb_sigv4_auth a;
    int hint = (flags >> 3) % 3 - 1;
    if (nb_sigv4_parse_header_ex(auth, an, hint, &a, &e) == 0) {
        int64_t now = nb_sigv4_parse_amz_date(date, dn);
        if (now < 0) now = 1440938160;
        (void)nb_sigv4_check_scope(&a, "us-east-1", s3 ? "s3" : NULL, s3, &e);
        (void)nb_sigv4_verify(&a, "secret", &r, path, pn, "UNSIGNED-PAYLOAD", s3, now, &e);
        (void)nb_sigv4_last_detail();
    } else {
        /* Error messages are NUL-terminated and bounded. */
        if (strlen(e.message) >= sizeof(e.message) || !e.code[0]) abort();
    }
    nb_buf b;
    nb_buf_init(&b);
    (void)nb_sigv4_canonical_request(&b, r.method, path, pn, query, qn, h, r.nheaders,
                                     "host;x-amz-date;x-amz-meta-a", "UNSIGNED-PAYLOAD", s3,
                                     flags & 0x40);
    nb_buf_free(&b);
    free(auth);
    free(path);
    free(query);
    free(date);
    return 0;
}
