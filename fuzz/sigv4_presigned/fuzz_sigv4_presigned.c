/* fuzz_sigv4_presigned.c: libFuzzer target for presigned URLs: detection and parsing of the
 * X-Amz-* query parameters, then verification (canonical query re-encoding and sorting, expiry
 * and skew checks) of a request with that query. Input: flags byte, then the raw query string. */
#include <stdlib.h>

#include "proto/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((weak)) const char *nb_req_header(const nb_req *r, const char *name, size_t *len)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (nb_mem_ieq(r->headers[i].name, r->headers[i].name_len, name, strlen(name))) {
            if (len) *len = r->headers[i].value_len;
            return r->headers[i].value;
        }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    uint8_t flags = data[0];
    char *q = malloc(size);
    memcpy(q, data + 1, size - 1);
    q[size - 1] = 0;
    size_t qn = size - 1;
    nb_header h[1] = {{"Host", 4, "examplebucket.s3.amazonaws.com", 30}};
    nb_req r;
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.path = "/test.txt";
    r.path_len = 9;
    r.query = q;
    r.query_len = qn;
    r.headers = h;
    r.nheaders = 1;
    nb_sigv4_error e;
    memset(&e, 0, sizeof(e));
    (void)nb_sigv4_detect(&r, &e);
    nb_sigv4_auth a;
    if (nb_sigv4_parse_presigned(q, qn, &a, &e) == 0) {
        if (!a.presigned || a.expires < 0 || a.expires > 604800) abort();
        int64_t t = nb_sigv4_parse_amz_date(a.amz_date, strlen(a.amz_date));
        if (t < 0) abort(); /* parsing promised a valid date */
        int64_t now = t + (flags & 0x7f) * 97;
        (void)nb_sigv4_verify(&a, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &r, r.path,
                              r.path_len, "UNSIGNED-PAYLOAD", flags & 0x80, now, &e);
    } else if (strlen(e.message) >= sizeof(e.message) || !e.code[0]) {
        abort();
    }
    free(q);
    return 0;
}
