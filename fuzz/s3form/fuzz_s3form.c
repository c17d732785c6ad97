/* fuzz_s3form.c: libFuzzer target for the multipart/form-data reader of S3 browser POST
 * uploads (src/svc/s3/formdata.c), which reads anonymous request bodies. Input: one byte
 * choosing how the body is cut into read() results, one choosing the boundary, then the body.
 * Every part is read to its end; the bytes handed to sinks must come from the input. */
#include <stdlib.h>

#include "svc/s3/formdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct src {
    const uint8_t *p;
    size_t n, off, step;
} src;

static ssize_t rd(void *ud, void *buf, size_t n)
{
    src *s = ud;
    size_t k = s->n - s->off;
    if (k > n) k = n;
    if (k > s->step) k = s->step;
    memcpy(buf, s->p + s->off, k);
    s->off += k;
    return (ssize_t)k;
}

typedef struct total {
    size_t bytes, limit;
} total;

static int sink(void *ud, const char *p, size_t n)
{
    total *t = ud;
    (void)p;
    t->bytes += n;
    return t->bytes > t->limit ? -1 : 0; /* a sink may refuse (a size limit) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    static const char *const cts[] = {
        "multipart/form-data; boundary=XyZ",
        "multipart/form-data; boundary=\"a b\"",
        "multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
        "multipart/form-data; boundary=-",
    };
    src s = {data + 2, size - 2, 0, (size_t)data[0] * 13 + 1};
    nb_form_reader r;
    if (nb_form_init(&r, cts[data[1] % 4], rd, &s) < 0) return 0;
    nb_arena *a = nb_arena_new(4096);
    total t = {0, (size_t)(data[1] >> 2) * 64 + 1};
    int rc = nb_form_start(&r);
    for (int parts = 0; rc >= 0 && parts < 1000; parts++) {
        nb_form_part p;
        rc = nb_form_next(&r, &p, a);
        if (rc <= 0) break;
        if (!p.name) abort(); /* a part always has a name */
        rc = nb_form_body(&r, sink, &t);
    }
    if (t.bytes > size && t.bytes <= t.limit) abort(); /* more body than input */
    nb_arena_free(a);
    nb_form_free(&r);
    return 0;
}
