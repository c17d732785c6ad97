/* service.h: what a service is to the rest of Nimbus: a table of operations (name ->
 * handler, IAM action, flags) plus init/reset hooks; and the call a handler receives.
 *
 * Adding an operation = writing its handler and one row in the service's table.
 * Adding a service = a folder under src/svc/ and one line in src/svc/services.def.
 */
#ifndef NB_SVC_SERVICE_H
#define NB_SVC_SERVICE_H

#include <jansson.h>

#include "core/nb.h"
#include "http/http.h"
#include "proto/proto.h"

/* Who is asking. Filled by authentication before the handler runs. */
enum nb_principal_type {
    NB_PRINCIPAL_ANONYMOUS = 0,
    NB_PRINCIPAL_ROOT,
    NB_PRINCIPAL_USER,
    NB_PRINCIPAL_ASSUMED_ROLE,
    NB_PRINCIPAL_FEDERATED,
};

typedef struct nb_principal {
    enum nb_principal_type type;
    char account[13];      /* 12 digits, "" for anonymous */
    char arn[512];         /* arn:aws:iam::000000000000:root, ...:user/path/name, sts assumed-role */
    char user_id[160];     /* root: account id; user: AIDA...; role session: AROA...:session */
    char name[128];        /* user name or role session name */
    char access_key[128];  /* the key that signed, "" for anonymous */
    bool temporary;        /* signed with STS credentials */
    bool mfa;              /* ... obtained with an MFA code (aws:MultiFactorAuthPresent) */
} nb_principal;

typedef struct nb_service nb_service;
typedef struct nb_call nb_call;

/* What a waiting call hears about (NB_CALL_PENDING). */
enum nb_call_event {
    NB_CALL_EV_TIMER, /* c->wait_ms (or nb_call_wait_timer's delay) passed */
    NB_CALL_EV_GONE,  /* the client hung up: the answer will be dropped */
    NB_CALL_EV_STOP,  /* the server is shutting down: answer now */
};

struct nb_call {
    nb_req *http;             /* the HTTP request: headers, and the body of streaming ops */
    const nb_service *svc;
    const nb_model *model;
    const nb_op *op;
    const char *op_name;
    json_t *input;            /* decoded input document, owned by the call */
    json_t *output;           /* set by the handler; the call takes the reference; NULL = empty */
    nb_principal who;
    const char *region;       /* the region this server is */
    const char *request_id;
    nb_arena *arena;          /* freed with the request */
    nb_aws_error err;         /* filled by nb_call_error() */
    const char *error_resource; /* rest-xml errors: <Resource> (S3 answers carry none unless set) */

    /* Streaming output (operations with a streaming payload member, e.g. S3 GetObject): the
     * handler sets out_fd (ownership passes to the call) + offset + length, or out_body for
     * in-memory bytes. Headers and status come from the output document as usual. */
    int out_fd;
    off_t out_off;
    int64_t out_len;
    const char *out_body;     /* arena or static memory */
    size_t out_body_len;
    int out_status;           /* 0 = the model's status; e.g. 206 for ranges */
    nb_header out_headers[16];/* extra raw headers, names/values in the arena */
    size_t out_nheaders;
    /* Handler-driven streaming output (S3 objects stored as several files, reads verified as
     * they are sent): when out_stream is set (out_fd < 0, out_body NULL), the dispatcher sends
     * the status and headers with Content-Length out_len, then calls out_stream(c) on the
     * worker (not for HEAD), which writes exactly out_len bytes with nb_resp_write() /
     * nb_resp_sendfile() on c->http. -1 = the body could not be completed: the dispatcher
     * closes the connection after it, so the client sees a short body, never wrong data. */
    int (*out_stream)(nb_call *c);
    void *out_stream_ud;

    /* Streaming input state, used by nb_call_read() (aws-chunked decoding, hash checks). */
    struct nb_body_reader *body;
    /* The raw request body of a non-streaming operation, as received (after aws-chunked
     * decoding), e.g. for S3's Content-MD5 checks of DeleteObjects; NULL for streaming ones. */
    const char *req_body;
    size_t req_body_len;
    bool on_loop;             /* the handler runs on the loop thread (NB_OP_INLINE) */

    /* Waiting calls (NB_CALL_PENDING): set by the handler before it returns pending. */
    void (*wait_event)(nb_call *c, enum nb_call_event ev);
    int64_t wait_ms;          /* ms until wait_event(c, NB_CALL_EV_TIMER); < 0 = no timer */
    void *wait_ud;            /* the handler's state across runs (NULL on the first run) */
};

/* An NB_OP_INLINE handler that finds the work is not cheap after all (a large object, a
 * cold file) returns NB_CALL_OFFLOAD with no output set: the dispatcher runs it again on a
 * worker, where it may block. */
#define NB_CALL_OFFLOAD 2

/* Calls that wait without holding a thread (SQS long polling). A handler that has to wait
 * for something it does not control (a message arriving) registers the call where that
 * event is noticed, sets c->wait_event, c->wait_ms and c->wait_ud, and returns
 * NB_CALL_PENDING with no output and no error set. The request then holds no worker. Later:
 *  - whoever sees the event (any thread) calls nb_call_resume(c), exactly once per pending
 *    return: the dispatcher runs the handler again with the same call (input, wait_ud; on a
 *    worker unless the operation is NB_OP_INLINE), and that run answers as usual or returns
 *    NB_CALL_PENDING again;
 *  - until then, on the request's loop thread, the dispatcher calls c->wait_event(c, ev)
 *    when the timer runs out (the handler may re-arm it with nb_call_wait_timer() or
 *    resume), when the client hung up or when the server stops (the handler must then
 *    resume soon and answer at once: a stopping server waits for it). wait_event is not
 *    called after nb_call_resume(), but may race with a resume issued on another thread:
 *    the handler's own lock decides which of them owns the call (the loser does nothing).
 * c->wait_ud is the handler's to free when it finally answers. */
#define NB_CALL_PENDING 3
void nb_call_resume(nb_call *c);
/* Inside wait_event only (loop thread): call wait_event(c, NB_CALL_EV_TIMER) in ms. */
void nb_call_wait_timer(nb_call *c, int64_t ms);

/* Fill c->err and return -1, so handlers write `return nb_call_error(c, 404, "NoSuchKey",
 * "The specified key does not exist.");`. 4xx = sender fault, 5xx = receiver fault. */
int nb_call_error(nb_call *c, int status, const char *code, const char *fmt, ...)
    NB_PRINTF(4, 5);
/* Convenience for handlers: input members. Missing -> NULL / def. */
const char *nb_in_str(const nb_call *c, const char *member);
json_int_t nb_in_int(const nb_call *c, const char *member, json_int_t def);
bool nb_in_bool(const nb_call *c, const char *member, bool def);
/* Read the request body of a streaming operation: the payload after aws-chunked decoding,
 * with chunk signatures, x-amz-content-sha256 and trailing checksums verified. Returns bytes,
 * 0 at the end (only after every check passed), -1 with c->err filled (e.g.
 * XAmzContentSHA256Mismatch, SignatureDoesNotMatch, IncompleteBody). Worker thread only. */
ssize_t nb_call_read(nb_call *c, void *buf, size_t n);
/* Trailing checksum header received in an aws-chunked trailer ("x-amz-checksum-crc32" ...)
 * after nb_call_read() returned 0; NULL if none. */
const char *nb_call_trailer(nb_call *c, const char *name);
/* Header of the request, case-insensitive. */
const char *nb_call_header(const nb_call *c, const char *name);

typedef int (*nb_op_handler)(nb_call *c); /* 0 = success, -1 = error in c->err */

enum nb_op_flags {
    NB_OP_INLINE = 1 << 0, /* fast and non-blocking: run on the loop thread, not a worker */
    /* No IAM check before the handler: the operation needs no permission (STS
     * GetCallerIdentity) or the handler authorizes itself (STS AssumeRole evaluates the role's
     * trust policy together with the caller's policies). */
    NB_OP_NO_AUTHZ = 1 << 1,
    /* AWS accepts the request unsigned: the proof of identity is in its parameters (STS
     * AssumeRoleWithSAML / AssumeRoleWithWebIdentity). The caller is anonymous. */
    NB_OP_ANONYMOUS = 1 << 2,
};

typedef struct nb_op_def {
    const char *name;        /* operation name as in the model: "GetCallerIdentity" */
    nb_op_handler fn;
    unsigned flags;          /* enum nb_op_flags */
    const char *iam_action;  /* NULL = "<signing name>:<name>" */
    /* Resource ARN template for authorization: "{Member}" = that input member, "{region}",
     * "{account}" = the caller's account; e.g. "arn:aws:s3:::{Bucket}/{Key}",
     * "arn:aws:iam::{account}:user/{UserName}". NULL = "*" (actions without resources). */
    const char *resource;
} nb_op_def;

/* Environment a service starts in. */
typedef struct nb_svc_env {
    const char *data_dir;    /* the service's own directory: <data-dir>/<service>, created */
    const char *region;
    const struct nb_config *config;
} nb_svc_env;

struct nb_service {
    const char *name;        /* short name, also the folder: "s3" */
    const char *model;       /* botocore model folder: "s3", "sts", "logs", "monitoring" */
    const nb_op_def *ops;
    size_t nops;
    int (*init)(const nb_svc_env *env, char **err); /* NULL = nothing to open */
    void (*shutdown)(void);
    int (*reset)(void);      /* drop all state (POST /_nimbus/reset) */
    /* Routing by Host header (S3 virtual-hosted buckets, website endpoints): return true if
     * this service takes the request; may rewrite *path into the arena. NULL = never. */
    bool (*host_route)(nb_req *r, const char **path, size_t *path_len);
    /* Authorization hooks (src/iam/authz.c), both optional, called on the loop thread before
     * the handler, after input decoding; they must be cheap (cache what they read).
     * resource_policy: the policy document attached to the resource the call names (S3 bucket
     * policy, SNS topic policy ...), or NULL if none; *owner is set to the 12-digit account
     * owning that resource (NULL = the caller's), which decides same- vs cross-account
     * evaluation and lets resource policies admit anonymous and other accounts' callers.
     * The text may live in c->arena. */
    const char *(*resource_policy)(nb_call *c, const char **owner);
    /* The IAM action the call is authorized as when it depends on the input (S3: an object
     * action's Version variant when the call names a version), given the operation's own;
     * NULL hook, or NULL returned: the operation's own. */
    const char *(*authz_action)(nb_call *c, const char *action);
    /* Add the service's own condition keys (s3:prefix, s3:x-amz-acl, aws:ResourceTag/...) to
     * ctx, an object of lowercase key -> string or array of strings
     * (nb_authz_context_set/add of iam/policy.h). Return 0, or -1 to fail the call (c->err). */
    int (*authz_context)(nb_call *c, json_t *ctx);
    /* The service's own paths on the admin surface, /_nimbus/<name>/... (SNS: the signing
     * certificate, subscription confirmation links, the mailbox). Called on the loop thread
     * with the raw request; it answers like any nb_req handler (nb_resp_simple, or
     * nb_req_offload to block). Authentication and loopback checks are its own. NULL = none. */
    void (*admin)(nb_req *r);
    /* S3 browser uploads: POST /<bucket> with a multipart/form-data body is not in the model.
     * The dispatcher hands it to this handler (operation name "PostObject") on a worker, the
     * body unread (nb_call_read), the caller anonymous: the handler checks the form's policy
     * signature itself, and answers with out_status / out_body / out_headers (no output
     * document is serialized for it). NULL = such requests get MethodNotAllowed. */
    nb_op_handler form_post;
    /* Requests the service answers outside its model and before authentication: S3's CORS
     * preflight (OPTIONS, which the model does not have) and its website endpoints (Host
     * <bucket>.s3-website..., anonymous GET/HEAD with HTML pages). Called by the dispatcher on
     * the loop thread once a request is routed to the service (after host_route, path as
     * routed), and for every request on the website port (website_port = true, where the Host
     * names the bucket). Return true if it took the request (it answers like any nb_req
     * handler); false = dispatch as usual. NULL = never. */
    bool (*raw_request)(nb_req *r, const char *path, size_t path_len, bool website_port);
    /* Input strings holding NUL (U+0000, which JSON's \u0000 and query's %00 can carry):
     * handlers read members as C strings and would see them cut short, so the dispatcher
     * refuses such a call (document protocols: query, ec2, json, rest-json) before authorizing
     * it, unless this hook accepts it (return 0: the members the service allows NUL in are
     * read with their length by its handlers, which judge them) or picks the error (-1 with
     * c->err set). NULL = refuse with the protocol's invalid-parameter error. */
    int (*input_nul)(nb_call *c);
    /* Called once for every request routed to the service through its model when the answer
     * is complete (also for requests refused before the handler, when c->input may be NULL),
     * on the loop thread: it must be cheap. c is as the handler left it: input and output
     * documents still held, c->err filled on failure; path is the routed path (virtual-hosted
     * S3 requests rewritten to /<bucket>/...). S3 server access logging. NULL = none. */
    void (*request_done)(nb_call *c, const char *path, size_t path_len, const nb_req_done *d);
    /* Checks of a non-streaming request's body that the model does not express, run after
     * authorization and before the handler, with c->req_body set (S3: a Content-MD5 or
     * x-amz-checksum-* header must match the body, BadDigest). Return 0, or -1 with c->err
     * filled. NULL = none. */
    int (*body_check)(nb_call *c);
};

/* The registry built from services.def. */
size_t nb_services_count(void);
const nb_service *nb_service_at(size_t i);
const nb_service *nb_service_by_model(const nb_model *m);
const nb_service *nb_service_by_name(const char *name);
/* The handler row of op in its service, or NULL (-> NotImplemented). */
const nb_op_def *nb_service_op(const nb_service *s, const char *op_name);

#endif
