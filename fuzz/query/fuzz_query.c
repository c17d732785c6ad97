/* fuzz_query.c: libFuzzer target for query/ec2 input decoding: form parameters (POST body or GET
 * query string) matched to an operation of STS or EC2 by Action, decoded and validated by the
 * model; the decoded document is then fed to the serializer as if it were an output (random
 * documents exercise the XML writer) and any error to the error serializer.
 * Input: one flags byte (bit 0: ec2 instead of sts; bit 1: GET, parameters in the query
 * string), then the form text. */
#include <stdlib.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t flags = data[0];
    const nb_model *m = nb_model_find(flags & 1 ? "ec2" : "sts");
    if (!m) return 0;
    /* a heap copy without terminator, so overreads are caught */
    size_t n = size - 1;
    char *text = malloc(n ? n : 1);
    memcpy(text, data + 1, n);
    bool get = flags & 2;
    nb_wire_req w = {get ? "GET" : "POST", "/",        1, get ? text : NULL, get ? n : 0, NULL, 0,
                     get ? NULL : text,    get ? 0 : n};
    nb_aws_error e = {0};
    nb_arena *a = nb_arena_new(1024);
    nb_wire_resp r;
    const nb_op *op = nb_proto_match(m, &w, &e);
    json_t *in = NULL;
    if (op && nb_proto_parse(m, op, &w, &in, &e) == 0) {
        if (nb_proto_serialize(m, op, in, "fuzz", a, &r) == 0) nb_buf_free(&r.body);
        json_decref(in);
    } else {
        if (nb_proto_serialize_error(m, NULL, &e, "fuzz", NULL, a, &r) == 0) nb_buf_free(&r.body);
    }
    nb_aws_error_clear(&e);
    nb_arena_free(a);
    free(text);
    return 0;
}
