/* proto.h: the model-driven protocol layer: find the operation a request names, decode its
 * input into a document, encode output documents and AWS errors, for the five wire
 * protocols (rest-xml, query, ec2, json, rest-json), from botocore's models.
 *
 * Documents are jansson values shaped like the model:
 *   structure -> object keyed by member name ("Bucket", "MaxKeys"), absent members omitted
 *   list -> array; map -> object; string/enum -> string; integer/long -> integer;
 *   boolean -> true/false; float/double -> real (integers accepted on output);
 *   timestamp -> real or integer seconds since the epoch (output also accepts an ISO 8601 string);
 *   blob -> base64 text (except a streaming payload member, which never enters a document).
 * The serializer writes each member where the model says (header, status code, query, body,
 * XML attribute, flattened list ...), with the protocol's timestamp format and wrappers.
 */
#ifndef NB_PROTO_PROTO_H
#define NB_PROTO_PROTO_H

#include <jansson.h>

#include "core/nb.h"
#include "http/http.h"

typedef struct nb_model nb_model; /* one service's model (generated tables) */
typedef struct nb_op nb_op;       /* one operation of a model */

/* An AWS error as the protocol layer renders it. */
typedef struct nb_aws_error {
    int status;          /* HTTP status, e.g. 400, 403, 404, 501 */
    char code[64];       /* "NoSuchBucket", "ValidationError", "NotImplemented" */
    char message[1024];
    bool sender_fault;   /* query protocols: <Type>Sender</Type> vs Receiver */
    json_t *extra;       /* optional extra elements (S3: BucketName, Key, Resource ...), owned */
} nb_aws_error;

/* Fill e (status, code, printf message); frees any previous e->extra. Returns -1. */
int nb_aws_error_set(nb_aws_error *e, int status, const char *code, const char *fmt, ...)
    NB_PRINTF(4, 5);
void nb_aws_error_clear(nb_aws_error *e);

/* ---- models ---- */

/* Model of a service by botocore folder name or endpoint prefix ("s3", "sts", "logs",
 * "lambda", "ec2", "monitoring"/"cloudwatch" ...), NULL if not compiled in. */
const nb_model *nb_model_find(const char *name);
/* Model whose JSON target prefix is the text before the '.' of X-Amz-Target
 * ("Logs_20140328", "AWSEvents", "CertificateManager" ...), NULL if none. */
const nb_model *nb_model_by_target_prefix(const char *prefix, size_t len);
/* Model whose signing name (SigV4 credential scope service) is name, NULL if none. */
const nb_model *nb_model_by_signing_name(const char *name);

const char *nb_model_name(const nb_model *m);      /* botocore folder name: "s3" */
const char *nb_model_protocol(const nb_model *m);  /* "rest-xml", "query", "ec2", "json", "rest-json" */
const char *nb_model_api_version(const nb_model *m);
const char *nb_model_endpoint_prefix(const nb_model *m);
const char *nb_model_signing_name(const nb_model *m);
const char *nb_model_target_prefix(const nb_model *m); /* json protocol, else NULL */
/* The model has AWS's awsQueryCompatible trait (SQS over JSON): its JSON errors also carry
 * the query protocol's code in the x-amzn-query-error header, which current SDKs prefer. */
bool nb_model_query_compatible(const nb_model *m);
/* The query code of an error of m whose JSON code is code ("com.amazonaws.sqs#QueueDoesNotExist"
 * or bare): the error shape's error.code (AWS.SimpleQueueService.NonExistentQueue), the query
 * name of the common errors raised before any handler (UnrecognizedClientException ->
 * InvalidClientTokenId, AccessDeniedException -> AccessDenied ...), else the name without its
 * namespace. Written into out (n bytes). */
void nb_model_query_error_code(const nb_model *m, const char *code, char *out, size_t n);
size_t nb_model_nops(const nb_model *m);
const nb_op *nb_model_op_at(const nb_model *m, size_t i);
const nb_op *nb_model_op(const nb_model *m, const char *name); /* by operation name */

const char *nb_op_name(const nb_op *op);
size_t nb_op_index(const nb_op *op); /* 0..nops-1 within its model */
/* True when the input has a streaming blob payload (S3 PutObject, UploadPart, Lambda Invoke
 * is not streaming): the dispatcher must not buffer the body; the handler reads it. */
bool nb_op_streaming_input(const nb_op *op);
/* The model's authtype "none": AWS accepts the request unsigned (STS AssumeRoleWithSAML and
 * AssumeRoleWithWebIdentity, whose proof of identity is in their parameters). */
bool nb_op_auth_none(const nb_op *op);
/* True when the output has a streaming blob payload (S3 GetObject). */
bool nb_op_streaming_output(const nb_op *op);

/* ---- requests ---- */

/* A protocol-neutral view of a request. For virtual-hosted S3 the dispatcher passes the
 * path rewritten to "/<bucket>/<key>". body is NULL for streaming operations. */
typedef struct nb_wire_req {
    const char *method;
    const char *path; /* raw, percent-encoded */
    size_t path_len;
    const char *query; /* raw, without '?' */
    size_t query_len;
    const nb_header *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
} nb_wire_req;

/* The operation a request names: json -> X-Amz-Target; query and ec2 -> Action (query string
 * or form body); rest-xml and rest-json -> method + URI template (+ literal query keys such as
 * "?tagging", the most specific template wins). NULL with e filled when none matches (the
 * code AWS uses for that protocol: InvalidAction, UnknownOperationException, MethodNotAllowed
 * ...). For rest protocols the body is not needed, so streaming operations can be routed from
 * the headers alone. */
const nb_op *nb_proto_match(const nb_model *m, const nb_wire_req *w, nb_aws_error *e);

/* Decode and validate the input of op into *input (a new reference owned by the caller;
 * an empty object when the operation has no input). Validation follows the model: missing
 * required member, wrong type, out of range (min/max), bad enum is not checked (AWS accepts
 * unknown enum values on most services). Errors carry the protocol's code: query/ec2
 * "ValidationError"/"InvalidParameterValue"/"MissingParameter", json
 * "ValidationException"/"SerializationException", rest-xml "InvalidArgument"/"MalformedXML". */
int nb_proto_parse(const nb_model *m, const nb_op *op, const nb_wire_req *w, json_t **input,
                   nb_aws_error *e);

/* ---- responses ---- */

typedef struct nb_wire_resp {
    int status;
    nb_header headers[160]; /* names and values in the arena; S3 metadata can take 2 KB of them */
    size_t nheaders;
    nb_buf body; /* heap; the caller frees it with nb_buf_free */
} nb_wire_resp;

/* Encode output (may be NULL = empty structure) of op. The request id goes where the protocol
 * puts it (x-amzn-RequestId / x-amz-request-id header, <ResponseMetadata><RequestId>,
 * <requestId>). A streaming payload member is not written: the caller sends that body. */
int nb_proto_serialize(const nb_model *m, const nb_op *op, json_t *output,
                       const char *request_id, nb_arena *a, nb_wire_resp *out);
/* XML: an item of a flattened list may name its own element with this key (a string), for
 * the responses whose elements of different names come in one sequence: S3's
 * ListObjectVersions interleaves <Version> and <DeleteMarker>, which the model has as two
 * lists. The item is written with the list's member shape; the key is not written. */
#define NB_XML_ELEMENT_KEY "__xml_element"

/* Encode an error. m may be NULL when the service is unknown; then `protocol` decides the
 * format ("query", "json", "rest-xml", ... or NULL: XML <ErrorResponse>). */
int nb_proto_serialize_error(const nb_model *m, const char *protocol, const nb_aws_error *e,
                             const char *request_id, const char *resource, nb_arena *a,
                             nb_wire_resp *out);

/* ---- helpers used by several protocols and services ---- */

/* ISO 8601 with milliseconds, "2026-11-27T03:14:34.000Z" into out[32]. */
void nb_time_iso8601(double t, char out[32]);
/* Parse ISO 8601 / RFC 822 / epoch-seconds text; returns 0 and *t, or -1. */
int nb_time_parse(const char *s, size_t n, double *t);

/* A minimal XML writer used by the serializers and by services with hand-shaped bodies. */
void nb_xml_escape(nb_buf *b, const char *s, size_t n);

#endif
