/* fuzz_xml.c: libFuzzer target for rest-xml body decoding (libxml2 + the model walk): an S3
 * request body (DeleteObjects, CompleteMultipartUpload, PutBucketTagging, PutBucketAcl,
 * PutBucketLifecycleConfiguration, CreateBucket, PutBucketCors, PutObjectTagging) decoded and
 * validated; a decoded document is written back through the serializer as the output of a
 * related operation, and errors through the error serializer.
 * Input: one byte choosing the operation, then the XML body. */
#include <stdlib.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const char *op, *method, *path, *query, *out;
} ops[] = {
    {"DeleteObjects", "POST", "/b", "delete", "DeleteObjects"},
    {"CompleteMultipartUpload", "POST", "/b/k", "uploadId=u", "CompleteMultipartUpload"},
    {"PutBucketTagging", "PUT", "/b", "tagging", "GetBucketTagging"},
    {"PutBucketAcl", "PUT", "/b", "acl", "GetBucketAcl"},
    {"PutBucketLifecycleConfiguration", "PUT", "/b", "lifecycle",
     "GetBucketLifecycleConfiguration"},
    {"CreateBucket", "PUT", "/b", "", "GetBucketLocation"},
    {"PutBucketCors", "PUT", "/b", "cors", "GetBucketCors"},
    {"PutObjectTagging", "PUT", "/b/k", "tagging", "GetObjectTagging"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const nb_model *m = nb_model_find("s3");
    if (!m) return 0;
    size_t k = data[0] % (sizeof(ops) / sizeof(ops[0]));
    const nb_op *op = nb_model_op(m, ops[k].op);
    size_t n = size - 1;
    char *body = malloc(n ? n : 1);
    memcpy(body, data + 1, n);
    nb_wire_req w = {ops[k].method,
                     ops[k].path,
                     strlen(ops[k].path),
                     ops[k].query,
                     strlen(ops[k].query),
                     NULL,
                     0,
                     body,
                     n};
    nb_aws_error e = {0};
    nb_arena *a = nb_arena_new(1024);
    nb_wire_resp r;
    json_t *in = NULL;
    if (nb_proto_parse(m, op, &w, &in, &e) == 0) {
        /* the payload member (Delete, Tagging ...) as the output document of a Get */
        const char *key;
        json_t *v, *doc = NULL;
        json_object_foreach(in, key, v) if (json_is_object(v)) doc = v;
        if (nb_proto_serialize(m, nb_model_op(m, ops[k].out), doc ? doc : in, "fuzz", a, &r) == 0)
            nb_buf_free(&r.body);
        json_decref(in);
    } else {
        if (nb_proto_serialize_error(m, NULL, &e, "fuzz", "/b", a, &r) == 0) nb_buf_free(&r.body);
    }
    nb_aws_error_clear(&e);
    nb_arena_free(a);
    free(body);
    return 0;
}
