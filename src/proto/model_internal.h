/* model_internal.h: layout of the generated model tables (build/gen/models.c, written by
 * tools/gen_models.py from botocore's service-2.json files) and the helpers the protocol code
 * shares. Services never include this: they see models only through proto.h.
 *
 * Everything here is const data in .rodata: nothing is parsed or allocated at start-up, and a
 * model's pages are touched only when a request for that service arrives. Strings live once in
 * one pool (nb_model.strings); a table field holding a string is a uint32 offset into it, with
 * offset 0 being "" = absent. Shapes, members and operations are indexes into per-model arrays.
 */
#ifndef NB_PROTO_MODEL_INTERNAL_H
#define NB_PROTO_MODEL_INTERNAL_H

#include <stdint.h>

#include "proto/proto.h"

enum nb_protocol {
    NB_PROTO_QUERY = 1,
    NB_PROTO_EC2,
    NB_PROTO_JSON,
    NB_PROTO_REST_JSON,
    NB_PROTO_REST_XML,
};

enum nb_type {
    NB_TYPE_STRUCTURE = 1,
    NB_TYPE_LIST,
    NB_TYPE_MAP,
    NB_TYPE_STRING,
    NB_TYPE_INTEGER,
    NB_TYPE_LONG,
    NB_TYPE_BOOLEAN,
    NB_TYPE_FLOAT,
    NB_TYPE_DOUBLE,
    NB_TYPE_TIMESTAMP,
    NB_TYPE_BLOB,
};

/* Where a member travels (botocore "location"); body = no location. */
enum nb_location {
    NB_LOC_BODY = 0,
    NB_LOC_URI,
    NB_LOC_QUERYSTRING,
    NB_LOC_HEADER,
    NB_LOC_HEADERS, /* map of prefixed headers, e.g. x-amz-meta- */
    NB_LOC_STATUS,  /* HTTP status code */
};

enum nb_tsfmt { NB_TS_DEFAULT = 0, NB_TS_ISO8601, NB_TS_RFC822, NB_TS_EPOCH };

enum nb_method {
    NB_HTTP_GET = 1,
    NB_HTTP_POST,
    NB_HTTP_PUT,
    NB_HTTP_DELETE,
    NB_HTTP_HEAD,
    NB_HTTP_PATCH,
    NB_HTTP_OPTIONS,
};

/* Member flags: botocore's member-ref traits merged with the target shape's (the ref wins). */
#define NB_MF_REQUIRED 0x0001
#define NB_MF_XMLATTR 0x0002
#define NB_MF_FLATTENED 0x0004
#define NB_MF_STREAMING 0x0008
#define NB_MF_IDEMPOTENCY 0x0010
#define NB_MF_HOSTLABEL 0x0020
#define NB_MF_JSONVALUE 0x0040
#define NB_MF_EVENTPAYLOAD 0x0080
#define NB_MF_DEPRECATED 0x0100

/* Shape flags. */
#define NB_SF_EXCEPTION 0x01
#define NB_SF_FAULT 0x02  /* server-side error ("fault": true) */
#define NB_SF_SENDER 0x04 /* error.senderFault */
#define NB_SF_STREAMING 0x08
#define NB_SF_EVENTSTREAM 0x10
#define NB_SF_HAS_MIN 0x20
#define NB_SF_HAS_MAX 0x40

/* Operation flags. */
#define NB_OF_DEPRECATED 0x01
#define NB_OF_STREAM_IN 0x02     /* input payload is a streaming blob */
#define NB_OF_STREAM_OUT 0x04    /* output payload is a streaming blob */
#define NB_OF_AUTH_NONE 0x08     /* authtype "none": unsigned requests allowed */
#define NB_OF_UNSIGNED_BODY 0x10 /* authtype "v4-unsigned-body" */
#define NB_OF_TEXT_ROOT                                                                            \
    0x20 /* rest-xml output: the one body member is the root's text                                \
          * (S3 GetBucketLocation: <LocationConstraint>eu-west-1</...>) */

/* A member of a structure, or the member of a list, or the key/value of a map. */
struct nb_member {
    uint32_t name;    /* member name ("" for list members and map keys/values) */
    uint32_t wire;    /* effective locationName, 0 = none (then the name is used) */
    uint16_t shape;   /* target shape index */
    uint8_t location; /* enum nb_location */
    uint8_t tsfmt;    /* enum nb_tsfmt, member trait over shape trait */
    uint16_t flags;   /* NB_MF_* */
    uint16_t extra;   /* 0, or 1 + index into nb_model.extras (rare traits) */
};

struct nb_member_extra {
    uint32_t query_name;   /* ec2 queryName */
    uint32_t xmlns_uri;    /* xmlNamespace.uri */
    uint32_t xmlns_prefix; /* xmlNamespace.prefix ("xsi") */
};

struct nb_shape {
    uint32_t name;
    uint32_t first;      /* structure: first member; list: its member; map: key then value */
    uint32_t error_code; /* error.code, 0 = the shape name is the code */
    uint32_t enums;      /* first index into nb_model.enums */
    uint16_t nmembers;
    uint16_t nenums;
    uint16_t payload;      /* structure: 1 + ordinal of the payload member, 0 = none */
    uint16_t error_status; /* error.httpStatusCode, 0 = unspecified */
    uint16_t limits;       /* 1 + index into nb_model.limits, 0 = no min/max */
    uint8_t type;          /* enum nb_type */
    uint8_t flags;         /* NB_SF_* */
    uint8_t tsfmt;         /* enum nb_tsfmt */
};

struct nb_limits {
    double min, max; /* valid per NB_SF_HAS_MIN / NB_SF_HAS_MAX */
};

struct nb_op {
    uint32_t name;
    uint32_t uri;            /* requestUri, e.g. "/{Bucket}/{Key+}?uploads" */
    uint32_t result_wrapper; /* query: "<Op>Result" */
    uint32_t input_wire;     /* rest-xml: root element of the input body (route53) */
    uint32_t input_xmlns;
    uint32_t output_wire; /* rest-xml: root element of the output body, 0 = shape name */
    uint16_t input;       /* 1 + shape index, 0 = none */
    uint16_t output;
    uint16_t errors; /* first index into nb_model.errors */
    uint16_t nerrors;
    uint16_t response_code; /* http.responseCode, 0 = 200 */
    uint16_t index;         /* position in nb_model.ops (sorted by name) */
    /* The model's index in nb_gen_models: an index rather than a pointer, because pointers
     * in these tables would be relocated at load time, dirtying their pages in every process. */
    uint16_t model;
    uint8_t method; /* enum nb_method */
    uint8_t flags;  /* NB_OF_* */
};

struct nb_model {
    const char *strings; /* the string pool */
    uint32_t name;       /* botocore folder name */
    uint32_t protocol_name, api_version, endpoint_prefix, signing_name, target_prefix, json_version,
        xml_namespace, service_id;
    uint8_t protocol; /* enum nb_protocol */
    uint8_t query_compatible; /* metadata awsQueryCompatible: errors carry x-amzn-query-error */
    uint32_t nops, nshapes;
    const struct nb_op *ops; /* sorted by name (strcmp) */
    const struct nb_shape *shapes;
    const struct nb_member *members;
    const struct nb_member_extra *extras;
    const uint16_t *errors; /* shape indexes */
    const uint32_t *enums;  /* string offsets */
    const struct nb_limits *limits;
};

/* Lookup tables, sorted by name for binary search. */
struct nb_model_alias {
    const char *name;
    uint16_t model;
};

/* From build/gen/models.c. */
extern const struct nb_model nb_gen_models[];
extern const size_t nb_gen_nmodels;
extern const struct nb_model_alias nb_gen_aliases[]; /* folder, endpoint prefix, signing name */
extern const size_t nb_gen_naliases;
extern const struct nb_model_alias nb_gen_signing[]; /* signing names only */
extern const size_t nb_gen_nsigning;
extern const struct nb_model_alias nb_gen_targets[]; /* json target prefixes */
extern const size_t nb_gen_ntargets;

/* ---- small accessors used by every protocol file ---- */

static inline const char *nb_mstr(const nb_model *m, uint32_t off)
{
    return m->strings + off;
}
static inline const struct nb_shape *nb_mshape(const nb_model *m, uint32_t i)
{
    return &m->shapes[i];
}
static inline const struct nb_member *nb_mmember(const nb_model *m, uint32_t i)
{
    return &m->members[i];
}
static inline const struct nb_shape *nb_member_shape(const nb_model *m, const struct nb_member *mb)
{
    return &m->shapes[mb->shape];
}
/* The name a member has on the wire: locationName, else the member name. */
static inline const char *nb_member_wire(const nb_model *m, const struct nb_member *mb)
{
    return m->strings + (mb->wire ? mb->wire : mb->name);
}
static inline const struct nb_member_extra *nb_member_extra(const nb_model *m,
                                                            const struct nb_member *mb)
{
    return mb->extra ? &m->extras[mb->extra - 1] : NULL;
}
static inline const struct nb_shape *nb_op_input(const nb_model *m, const nb_op *op)
{
    return op->input ? &m->shapes[op->input - 1] : NULL;
}
static inline const struct nb_shape *nb_op_output(const nb_model *m, const nb_op *op)
{
    return op->output ? &m->shapes[op->output - 1] : NULL;
}
/* The payload member of a structure, or NULL. */
static inline const struct nb_member *nb_shape_payload(const nb_model *m, const struct nb_shape *s)
{
    return (s && s->type == NB_TYPE_STRUCTURE && s->payload)
               ? &m->members[s->first + s->payload - 1]
               : NULL;
}

/* ---- internal API shared by the protocol files (src/proto/) ---- */

/* model.c */
const nb_op *nb_model_op_n(const nb_model *m, const char *name, size_t len);
int nb_model_protocol_kind(const char *protocol); /* "query" -> NB_PROTO_QUERY, 0 if unknown */
const struct nb_shape *nb_model_shape_by_name(const nb_model *m, const char *name);
/* The exception shape whose code (error.code, else its name) is code, or NULL. */
const struct nb_shape *nb_model_error_shape(const nb_model *m, const char *code);

/* timefmt.c */
void nb_time_rfc822(double t, char out[32]); /* "Tue, 29 Apr 2014 18:30:38 GMT" */
void nb_time_epoch(double t, char out[32]);  /* "1398796238" or "1398796238.5" */
void nb_fmt_double(double v, char out[32]);  /* shortest round-trip text, "1.0" for whole */

/* escape.c */
void nb_json_escape(nb_buf *b, const char *s, size_t n); /* writes the quoted JSON string */
/* First header of w named name (ASCII case-insensitive), or NULL; *len gets its length. */
const char *nb_wire_header(const nb_wire_req *w, const char *name, size_t *len);

/* errors.c: response headers (names are not copied; values are, into a, without CR/LF when
 * copy is set). Returns -1 when the response already has the maximum of headers. */
int nb_resp_add_header(nb_wire_resp *out, nb_arena *a, const char *name, const char *val,
                       size_t vlen, bool copy);
/* x-amzn-RequestId, or S3's x-amz-request-id + x-amz-id-2 (none for ec2: it is in the body). */
void nb_resp_request_id_headers(const nb_model *m, int proto, const char *rid, nb_arena *a,
                                nb_wire_resp *out);

/* One parse in progress: what the per-protocol decoders share. */
#define NB_PARSE_MAX_DEPTH 64 /* nesting of documents; models are far shallower */
struct nb_pin {
    const nb_model *m;
    const nb_op *op;
    int proto;       /* enum nb_protocol */
    bool s3;         /* the S3 model: its own error codes */
    nb_aws_error *e; /* filled on the first error */
    nb_arena *a;     /* scratch memory for this parse */
};

/* parse.c: well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF); NUL
 * is valid UTF-8, callers that refuse it check for it. */
bool nb_utf8_valid(const char *s, size_t n);
/* parse.c: a scalar of member mb's shape from wire text (query values, XML text, headers,
 * query strings, URI labels). NULL with p->e filled when the text is not of that type. */
json_t *nb_in_scalar(struct nb_pin *p, const struct nb_member *mb, const char *s, size_t n,
                     const char *where, bool in_body);
/* Fill p->e with the protocol's "wrong type" error for the member named where. Returns -1. */
int nb_in_type_error(struct nb_pin *p, const char *where, const char *val, size_t vlen, int type,
                     bool in_body);
/* Fill p->e with the protocol's error for a malformed body. Returns -1. */
int nb_in_malformed(struct nb_pin *p, const char *detail);
/* Validate doc (decoded input) against structure s: required, min/max. 0 or -1 with p->e. */
int nb_validate_input(struct nb_pin *p, const struct nb_shape *s, json_t *doc);
/* True when text is valid base64 (padding optional, whitespace not allowed). */
bool nb_base64_valid(const char *s, size_t n);

/* query.c: query and ec2 form/query-string decoding into input (an object). */
int nb_query_parse(struct nb_pin *p, const nb_wire_req *w, const struct nb_shape *s, json_t *input);
/* The Action parameter of a query/ec2 request (decoded into buf), or NULL. */
const char *nb_query_action(const nb_wire_req *w, char *buf, size_t cap, size_t *len);

/* json_in.c: JSON text/values into documents. body_only: skip members that have a location
 * (rest-json top level). Returns NULL with p->e filled on error. */
json_t *nb_json_struct_in(struct nb_pin *p, const struct nb_shape *s, json_t *obj, int depth,
                          bool body_only);
json_t *nb_json_in(struct nb_pin *p, const struct nb_member *mb, json_t *v, int depth);
/* Parse body (JSON text) as structure s. An empty body is {}. */
json_t *nb_json_body_in(struct nb_pin *p, const struct nb_shape *s, const char *body, size_t len,
                        bool body_only);

/* xml_in.c: a rest-xml body as structure s (body_only: top level, skip located members).
 * DOCTYPE and entity declarations are refused (no XXE, no entity expansion). */
json_t *nb_xml_body_in(struct nb_pin *p, const struct nb_shape *s, const char *body, size_t len,
                       bool body_only);

/* rest.c: URI templates. */
#define NB_MAX_LABELS 16
struct nb_labels {
    int n;
    struct {
        const char *name; /* in the template */
        size_t name_len;
        const char *val; /* raw (percent-encoded) in the request path */
        size_t val_len;
        bool greedy;
    } l[NB_MAX_LABELS];
};
/* Match the path part of template tpl (up to '?') against path; -1 if no match, else the
 * number of literal characters matched (more = more specific). Labels into out (may be NULL). */
int nb_uri_match(const char *tpl, const char *path, size_t path_len, struct nb_labels *out);
/* Decode members located in the URI, query string and headers, and the body, into input. */
int nb_rest_parse(struct nb_pin *p, const nb_wire_req *w, const struct nb_shape *s, json_t *input);

#endif
