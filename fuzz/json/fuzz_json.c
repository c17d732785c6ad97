/* fuzz_json.c: libFuzzer target for json-protocol input decoding: a CloudWatch Logs request
 * (X-Amz-Target chosen by the first byte) or a Lambda rest-json body, decoded and validated by
 * the model; the decoded document is written back through the JSON serializer as an output, and
 * errors through the error serializer.
 * Input: one byte choosing the operation, then the JSON body. */
#include <stdio.h>
#include <stdlib.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *logs_ops[] = {"PutLogEvents",      "DescribeLogGroups", "CreateLogGroup",
                                 "FilterLogEvents",   "PutMetricFilter",   "PutSubscriptionFilter",
                                 "GetLogEvents",      "TagLogGroup",       "StartQuery",
                                 "PutRetentionPolicy"};
static const struct {
    const char *op, *method, *path;
} lambda_ops[] = {
    {"CreateFunction", "POST", "/2015-03-31/functions"},
    {"UpdateFunctionConfiguration", "PUT", "/2015-03-31/functions/f/configuration"},
    {"Invoke", "POST", "/2015-03-31/functions/f/invocations"},
    {"PutFunctionEventInvokeConfig", "PUT", "/2019-09-25/functions/f/event-invoke-config"},
    {"CreateEventSourceMapping", "POST", "/2015-03-31/event-source-mappings/"},
    {"AddPermission", "POST", "/2015-03-31/functions/f/policy"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t nl = sizeof(logs_ops) / sizeof(logs_ops[0]),
           nf = sizeof(lambda_ops) / sizeof(lambda_ops[0]);
    size_t k = data[0] % (nl + nf);
    const nb_model *m = nb_model_find(k < nl ? "logs" : "lambda");
    if (!m) return 0;
    size_t n = size - 1;
    char *body = malloc(n ? n : 1);
    memcpy(body, data + 1, n);
    char target[96];
    nb_header h[2];
    nb_wire_req w;
    const nb_op *op;
    if (k < nl) {
        size_t tl = (size_t)snprintf(target, sizeof(target), "Logs_20140328.%s", logs_ops[k]);
        h[0] = (nb_header){"X-Amz-Target", 12, target, tl};
        h[1] = (nb_header){"Content-Type", 12, "application/x-amz-json-1.1", 26};
        w = (nb_wire_req){"POST", "/", 1, "", 0, h, 2, body, n};
    } else {
        k -= nl;
        w = (nb_wire_req){lambda_ops[k].method,
                          lambda_ops[k].path,
                          strlen(lambda_ops[k].path),
                          "",
                          0,
                          NULL,
                          0,
                          body,
                          n};
    }
    nb_aws_error e = {0};
    nb_arena *a = nb_arena_new(1024);
    nb_wire_resp r;
    op = nb_proto_match(m, &w, &e);
    json_t *in = NULL;
    if (op && nb_proto_parse(m, op, &w, &in, &e) == 0) {
        if (nb_proto_serialize(m, op, in, "fuzz", a, &r) == 0) nb_buf_free(&r.body);
        json_decref(in);
    } else {
        if (nb_proto_serialize_error(m, NULL, &e, "fuzz", NULL, a, &r) == 0) nb_buf_free(&r.body);
    }
    nb_aws_error_clear(&e);
    nb_arena_free(a);
    free(body);
    return 0;
}
