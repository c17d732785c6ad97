/* fuzz_sigv2.c: S3 SigV2 detection and verification over arbitrary header/query bytes. The
 * input is split at the first NUL: Authorization value, then the raw query string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sigv2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nul = memchr(p, 0, size);
    size_t alen = nul ? (size_t)(nul - p) : size;
    char *auth = strndup(p, alen);
    char *query = nul ? strndup(nul + 1, size - alen - 1) : strdup("");
    if (!auth || !query) goto out;
    nb_header h[3] = {
        {"Authorization", 13, auth, strlen(auth)},
        {"Date", 4, "Fri, 27 Nov 2026 03:45:16 GMT", 29},
        {"x-amz-meta-a", 12, " v ", 3},
    };
    nb_req r;
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.path = "/bucket/key";
    r.path_len = 11;
    r.query = query;
    r.query_len = strlen(query);
    r.headers = h;
    r.nheaders = alen ? 3 : 2;
    nb_sigv2_auth a;
    nb_sigv4_error e;
    memset(&e, 0, sizeof(e));
    if (nb_sigv2_detect(&r, &a, &e) > 0) {
        char *sts = NULL;
        nb_sigv2_verify(&a, "secret", &r, "", 1795751108, &e, &sts);
        free(sts);
    }
out:
    free(auth);
    free(query);
    return 0;
}
