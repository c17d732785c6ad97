/* dispatch.c: one endpoint for every service. A request is authenticated (SigV4 header,
 * presigned query, or anonymous), routed (credential scope service, X-Amz-Target,
 * Action+Version, Host, else S3), matched to an operation, its input decoded and validated by
 * the model, authorized, run by its handler (inline on the loop for NB_OP_INLINE rows, else
 * on a worker), and the output or error encoded in the service's protocol.
 *
 * Streaming operations (S3 PutObject, UploadPart) are authenticated from the headers before
 * any body byte is read, so a refused upload costs nothing and a client using
 * Expect: 100-continue never sends its body; their handler reads the body with
 * nb_call_read(), which undoes aws-chunked framing and verifies chunk signatures, trailing
 * checksums and x-amz-content-sha256 on the way. */
#include "proto/dispatch.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hash.h"
#include "iam/authz.h"
#include "iam/creds.h"
#include "proto/model_internal.h"
#include "proto/proto.h"
#include "proto/sigv2.h"
#include "proto/sigv4.h"
#include "svc/service.h"

#define BODY_LIMIT_DEFAULT (16u << 20) /* query/json bodies: AWS caps these far lower */
#define BODY_LIMIT_REST (72u << 20)    /* rest-json: Lambda CreateFunction ZipFile (50 MiB b64) */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* S3's text for a body that stopped arriving (the other services use the same code). */
#define REQUEST_TIMEOUT_MSG \
    "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed."

static const nb_config *cfg;

void nb_dispatch_init(const nb_config *c) { cfg = c; }

/* ---- start-up gate ---- */

typedef struct parked {
    struct parked *next;
    nb_req *r;
} parked;
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static parked *gate_list;
static _Atomic bool gate_open;

bool nb_dispatch_is_ready(void) { return atomic_load(&gate_open); }

static void resume_parked(void *arg) { nb_dispatch_request(arg); }

void nb_dispatch_ready(void)
{
    pthread_mutex_lock(&gate_mu);
    atomic_store(&gate_open, true);
    parked *p = gate_list;
    gate_list = NULL;
    pthread_mutex_unlock(&gate_mu);
    while (p) {
        parked *n = p->next;
        if (nb_loop_post(nb_req_loop(p->r), resume_parked, p->r) < 0)
            nb_resp_aws_error(p->r, 503, "ServiceUnavailable", "The server is shutting down.");
        free(p);
        p = n;
    }
}

/* True when r was parked until the services are up (it is resumed by nb_dispatch_ready). */
static bool park_until_ready(nb_req *r)
{
    if (atomic_load(&gate_open)) return false;
    parked *p = malloc(sizeof(*p));
    if (!p) return false; /* let it through: services fail cleanly when not started */
    pthread_mutex_lock(&gate_mu);
    if (atomic_load(&gate_open)) {
        pthread_mutex_unlock(&gate_mu);
        free(p);
        return false;
    }
    p->r = r;
    p->next = gate_list;
    gate_list = p;
    pthread_mutex_unlock(&gate_mu);
    return true;
}

/* Per-request dispatch state; lives in the request's arena. */
typedef struct dctx {
    nb_req *r;
    nb_call call;
    const nb_model *model;
    const nb_service *svc;
    const nb_op *op;
    const char *protocol;
    int auth_kind; /* 0 anonymous, 1 header, 2 presigned, 3 SigV2 header, 4 SigV2 presigned */
    nb_sigv4_auth *auth;
    nb_sigv2_auth *auth2;
    nb_cred *cred;
    const char *path; /* possibly rewritten (virtual-hosted S3) */
    size_t path_len;
    const char *body;
    size_t body_len;
    bool s3;
    bool have_body; /* the body was already read (routing by a form's Action needed it) */
    bool form_post; /* S3 browser POST upload, handled by the service's form_post hook */
    json_t *pending_extra; /* S3 error extras computed during authentication */
    /* A call waiting without a thread (NB_CALL_PENDING); loop-thread fields except the
     * atomic one. */
    bool parked;           /* armed: timer and hang-up hook set */
    bool resume_due;       /* nb_call_resume arrived before the call was armed */
    uint64_t wait_timer;
    _Atomic bool resume_requested; /* no more wait_event once set */
    /* The service's request_done hook runs when the server finishes the request: the input
     * and output documents are released there, not by finish() (which may run on a worker
     * before the loop finishes the request). */
    bool docs_to_done;
} dctx;

/* Streaming request bodies (nb_call_read). */
enum body_mode { BODY_PLAIN, BODY_SHA256, BODY_CHUNKED };
struct nb_body_reader {
    enum body_mode mode;
    nb_awschunked *chunked;
    nb_sha256_ctx sha;
    bool hashing;
    char expect_sha[65];
    int64_t decoded_expected; /* x-amz-decoded-content-length, -1 if absent */
    uint64_t delivered;
    nb_buf pending;
    size_t pending_off;
    char *raw;
    bool eof;
    bool failed;
};

static void finish(dctx *d, int rc);

/* ---- small helpers ---- */

/* Value of a form/query parameter (first occurrence), decoded into the arena, or NULL. */
static const char *form_param(nb_arena *a, const char *s, size_t n, const char *name)
{
    size_t nl = strlen(name);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&') j++;
        size_t eq = i;
        while (eq < j && s[eq] != '=') eq++;
        if (eq - i == nl && memcmp(s + i, name, nl) == 0) {
            size_t vl = eq < j ? j - eq - 1 : 0;
            char *out = nb_arena_alloc(a, vl + 1);
            if (!out) return NULL;
            ssize_t m = nb_url_decode(s + eq + 1, vl, out, true);
            if (m < 0) return NULL;
            out[m] = 0;
            return out;
        }
        i = j + 1;
    }
    return NULL;
}

static bool is_form(const nb_req *r)
{
    size_t n;
    const char *ct = nb_req_header(r, "content-type", &n);
    return ct && n >= 33 && nb_mem_ieq(ct, 33, "application/x-www-form-urlencoded", 33);
}

/* The service a raw "Credential=AKID/date/region/service/..." names, into out ("" if none). */
static void credential_service(const char *v, size_t n, char *out, size_t cap)
{
    out[0] = 0;
    const char *c = v ? memmem(v, n, "Credential=", 11) : NULL;
    if (!c) return;
    c += 11;
    const char *end = v + n;
    int slash = 0;
    while (c < end && *c != ',' && *c != ' ' && slash < 3)
        if (*c++ == '/') slash++;
    if (slash < 3) return;
    size_t k = 0;
    while (c < end && *c != '/' && *c != ',' && *c != ' ' && k + 1 < cap)
        out[k++] = *c++;
    out[k] = 0;
}

/* Is a request whose credential scope is unusable meant for a service other than S3: a JSON
 * target, a query Action, a form POST, or a scope naming another service we serve? S3 is the
 * endpoint's default, and it words its authentication errors its own way. */
static bool meant_for_other_service(const nb_req *r, const char *scope_service)
{
    if (nb_req_header(r, "x-amz-target", NULL)) return true;
    if (r->query_len && form_param(r->arena, r->query, r->query_len, "Action")) return true;
    if (strcmp(r->method, "POST") == 0 && is_form(r)) return true;
    if (scope_service && scope_service[0] && strcmp(scope_service, "s3") != 0 &&
        nb_model_by_signing_name(scope_service))
        return true;
    return false;
}

/* ---- responses ---- */

/* The serializer may produce a Content-Length header from an output member (S3 HeadObject's
 * ContentLength). The HTTP layer writes the framing header itself, so take it out of the
 * list; a HEAD answer uses its value as the length the GET would have. Returns -1 if absent. */
static int64_t take_content_length(nb_wire_resp *w)
{
    int64_t v = -1;
    for (size_t i = 0; i < w->nheaders;) {
        if (nb_mem_ieq(w->headers[i].name, w->headers[i].name_len, "Content-Length", 14)) {
            char tmp[32];
            snprintf(tmp, sizeof(tmp), "%.*s", (int)w->headers[i].value_len, w->headers[i].value);
            v = strtoll(tmp, NULL, 10);
            memmove(&w->headers[i], &w->headers[i + 1], (w->nheaders - i - 1) * sizeof(w->headers[0]));
            w->nheaders--;
        } else {
            i++;
        }
    }
    return v;
}

static void send_wire(dctx *d, nb_wire_resp *w)
{
    nb_req *r = d->r;
    int64_t declared = take_content_length(w);
    bool head = strcmp(r->method, "HEAD") == 0;
    /* HEAD: the length the GET would have, from the output's ContentLength member. */
    json_t *cl = head && d->call.output ? json_object_get(d->call.output, "ContentLength") : NULL;
    if (json_is_integer(cl)) declared = json_integer_value(cl);
    nb_resp_start(r, w->status, w->headers, w->nheaders,
                  head && declared >= 0 && w->body.len == 0 ? declared : (int64_t)w->body.len);
    if (w->body.len && strcmp(r->method, "HEAD") != 0) nb_resp_write(r, w->body.data, w->body.len);
    nb_buf_free(&w->body);
    nb_resp_end(r);
}

/* Render an AWS error in the protocol of d (or a guess when the service is unknown). */
static void reply_error(dctx *d, const nb_aws_error *e)
{
    nb_req *r = d->r;
    nb_wire_resp w;
    memset(&w, 0, sizeof(w));
    const char *proto = d->protocol;
    if (!d->model && !proto) proto = nb_req_header(r, "x-amz-target", NULL) ? "json" : "query";
    /* S3's documented error response carries <Resource> (the bucket or object the request
     * named, e.g. /mybucket/myfoto.jpg); live S3 leaves it out of some answers. Clients
     * ignore it either way, so Nimbus follows the documentation: the decoded path unless
     * the handler named another resource. */
    const char *res = d->call.error_resource;
    if (!res && d->s3) {
        char *dec = nb_arena_alloc(r->arena, d->path_len + 1);
        ssize_t m = dec ? nb_url_decode(d->path, d->path_len, dec, false) : -1;
        /* a path that decodes to a NUL or to bytes that are not UTF-8 (refused with
         * InvalidURI) is named as sent: the error document must stay well-formed XML */
        if (m >= 0 && !memchr(dec, 0, (size_t)m) && nb_utf8_valid(dec, (size_t)m)) {
            dec[m] = 0;
            res = dec;
        } else if (dec) {
            memcpy(dec, d->path, d->path_len);
            dec[d->path_len] = 0;
            res = dec;
        }
    }
    if (nb_proto_serialize_error(d->model, proto, e, r->request_id, res, r->arena, &w) < 0) {
        nb_buf_free(&w.body);
        json_t *x = e->extra;
        ((nb_aws_error *)e)->extra = NULL;
        nb_resp_aws_error(r, e->status, e->code[0] ? e->code : "InternalError", e->message);
        json_decref(x);
        return;
    }
    /* Headers a handler set still go out with its error (S3: x-amz-delete-marker and
     * x-amz-version-id on the 404/405 of a delete marker). */
    bool have_qe = false;
    for (size_t i = 0; i < d->call.out_nheaders && w.nheaders < NB_ARRAY_LEN(w.headers); i++) {
        w.headers[w.nheaders++] = d->call.out_headers[i];
        if (!strcasecmp(d->call.out_headers[i].name, "x-amzn-query-error")) have_qe = true;
    }
    /* A query-compatible service over JSON (SQS) names every error's query code in
     * x-amzn-query-error, which is what current SDKs match on; also for the failures raised
     * before any handler ran (signature, unknown key, access denied). The handler's own
     * (which knows codes the model does not) takes precedence. */
    const nb_model *qm = d->model;
    if (!qm) {
        size_t tn;
        const char *t = nb_req_header(r, "x-amz-target", &tn);
        const char *dot = t ? memchr(t, '.', tn) : NULL;
        if (dot) qm = nb_model_by_target_prefix(t, (size_t)(dot - t));
    }
    if (!have_qe && nb_model_query_compatible(qm) && !strcmp(proto ? proto : nb_model_protocol(qm), "json") &&
        w.nheaders < NB_ARRAY_LEN(w.headers)) {
        char qc[128];
        nb_model_query_error_code(qm, e->code[0] ? e->code : "InternalError", qc, sizeof(qc));
        const char *v = nb_arena_printf(r->arena, "%s;%s", qc, e->status < 500 ? "Sender" : "Receiver");
        if (v) w.headers[w.nheaders++] = (nb_header){"x-amzn-query-error", 18, v, strlen(v)};
    }
    if (r->log_service == NULL && d->model) r->log_service = nb_model_name(d->model);
    if (e->status >= 500) nb_warn("request %s: %d %s: %s", r->request_id, e->status, e->code, e->message);
    /* The extra document is heap memory; e may live in the arena that send_wire frees. */
    json_t *extra = e->extra;
    ((nb_aws_error *)e)->extra = NULL;
    send_wire(d, &w);
    json_decref(extra);
}

static void reply_err(dctx *d, int status, const char *code, const char *fmt, ...) NB_PRINTF(4, 5);
static void reply_err(dctx *d, int status, const char *code, const char *fmt, ...)
{
    nb_aws_error e;
    memset(&e, 0, sizeof(e));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof(e.message), fmt, ap);
    va_end(ap);
    e.status = status;
    snprintf(e.code, sizeof(e.code), "%s", code);
    e.sender_fault = status < 500;
    reply_error(d, &e);
}

/* ---- authentication ---- */

/* S3's XAmzContentSHA256Mismatch names both hashes. */
static int sha256_mismatch(nb_aws_error *e, const char *claimed, const char *computed)
{
    nb_aws_error_set(e, 400, "XAmzContentSHA256Mismatch",
                     "The provided 'x-amz-content-sha256' header does not match what was computed.");
    e->extra = json_pack("{s:s,s:s}", "ClientComputedContentSHA256", claimed,
                         "S3ComputedContentSHA256", computed);
    return -1;
}

static const char CONTENT_SHA256_MSG[] =
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid "
    "sha256 value.";

enum auth_failure {
    AF_UNKNOWN_KEY,
    AF_BAD_SIGNATURE,
    AF_SKEW,
    AF_MISSING,
    AF_EXPIRED_TOKEN,
    AF_BAD_TOKEN,
};

/* The same failure is worded differently by each protocol family; these are AWS's codes. */
static int auth_error_(dctx *d, enum auth_failure f, const nb_sigv4_error *se);
static int auth_error(dctx *d, enum auth_failure f, const nb_sigv4_error *se)
{
    int rc = auth_error_(d, f, se);
    if (d->pending_extra) {
        d->call.err.extra = d->pending_extra;
        d->pending_extra = NULL;
    }
    return rc;
}

static int auth_error_(dctx *d, enum auth_failure f, const nb_sigv4_error *se)
{
    nb_aws_error *e = &d->call.err;
    const char *p = d->protocol ? d->protocol : "query";
    bool json = strstr(p, "json") != NULL, ec2 = strcmp(p, "ec2") == 0;
    switch (f) {
    case AF_UNKNOWN_KEY:
        if (d->s3) {
            /* S3 names the key it did not find */
            const char *k = d->auth_kind >= 3 ? (d->auth2 ? d->auth2->access_key : NULL)
                                              : (d->auth ? d->auth->access_key : NULL);
            nb_aws_error_set(e, 403, "InvalidAccessKeyId",
                             "The AWS Access Key Id you provided does not exist in our records.");
            if (k) e->extra = json_pack("{s:s}", "AWSAccessKeyId", k);
            return -1;
        }
        if (ec2)
            return nb_aws_error_set(e, 401, "AuthFailure",
                                    "AWS was not able to validate the provided access credentials");
        return nb_aws_error_set(e, 403, json ? "UnrecognizedClientException" : "InvalidClientTokenId",
                                "The security token included in the request is invalid.");
    case AF_BAD_SIGNATURE:
        /* S3 words the mismatch its own way (the other services add "AWS Secret Access Key"
         * and "Consult the service documentation for details.") */
        if (d->s3)
            return nb_aws_error_set(e, 403, "SignatureDoesNotMatch",
                                    "The request signature we calculated does not match the"
                                    " signature you provided. Check your key and signing method.");
        if (ec2)
            return nb_aws_error_set(e, 401, "AuthFailure",
                                    "AWS was not able to validate the provided access credentials");
        return nb_aws_error_set(e, json ? 403 : 403, json ? "InvalidSignatureException" : "SignatureDoesNotMatch",
                                "%s", se->message);
    case AF_SKEW:
        /* S3 says RequestTimeTooSkewed; the others reject it as a bad signature with the
         * "Signature expired: ..." text (query: SignatureDoesNotMatch, json:
         * InvalidSignatureException, ec2: RequestExpired). */
        if (d->s3) return nb_aws_error_set(e, 403, "RequestTimeTooSkewed", "%s", se->message);
        if (ec2) return nb_aws_error_set(e, 400, "RequestExpired", "%s", se->message);
        return nb_aws_error_set(e, json ? 400 : 403,
                                json ? "InvalidSignatureException" : "SignatureDoesNotMatch", "%s",
                                se->message);
    case AF_MISSING:
        if (json)
            return nb_aws_error_set(e, 400, "MissingAuthenticationTokenException",
                                    "Missing Authentication Token");
        return nb_aws_error_set(e, 403, "MissingAuthenticationToken",
                                "Request is missing Authentication Token");
    case AF_EXPIRED_TOKEN:
        /* S3: 400 with its own text and the token; query services (STS, IAM, SNS, SQS ...):
         * ExpiredToken; JSON services: ExpiredTokenException. */
        if (d->s3) {
            nb_aws_error_set(e, 400, "ExpiredToken", "The provided token has expired.");
            const char *tok = d->auth ? d->auth->security_token : NULL;
            if (!tok || !tok[0]) tok = nb_req_header(d->r, "x-amz-security-token", NULL);
            if (tok) e->extra = json_pack("{s:s}", "Token-0", tok);
            return -1;
        }
        return nb_aws_error_set(e, 403, json ? "ExpiredTokenException" : "ExpiredToken",
                                "The security token included in the request is expired");
    case AF_BAD_TOKEN:
        if (d->s3)
            return nb_aws_error_set(e, 400, "InvalidToken",
                                    "The provided token is malformed or otherwise invalid.");
        return nb_aws_error_set(e, 403, json ? "UnrecognizedClientException" : "InvalidClientTokenId",
                                "The security token included in the request is invalid.");
    }
    return -1;
}

/* "41 57 53 34": S3's *Bytes elements, each byte of s in hex. NULL when out of memory. */
static json_t *hex_bytes(const char *s, size_t n)
{
    char *b = malloc(n ? n * 3 : 1);
    if (!b) return NULL;
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        b[3 * i] = hx[(unsigned char)s[i] >> 4];
        b[3 * i + 1] = hx[(unsigned char)s[i] & 15];
        b[3 * i + 2] = ' ';
    }
    json_t *j = json_stringn(b, n ? n * 3 - 1 : 0);
    free(b);
    return j;
}

/* S3 explains signature failures in extra elements of its error body. */
static void s3_auth_extras(dctx *d, const nb_sigv4_error *se)
{
    const nb_sigv4_detail *x = nb_sigv4_last_detail();
    json_t *o = json_object();
    if (!o) return;
    if (!strcmp(se->code, "SignatureDoesNotMatch")) {
        json_object_set_new(o, "AWSAccessKeyId", json_string(x->access_key));
        json_object_set_new(o, "StringToSign",
                            json_stringn(x->string_to_sign, x->string_to_sign_len));
        json_object_set_new(o, "SignatureProvided", json_string(x->signature_provided));
        json_object_set_new(o, "StringToSignBytes",
                            hex_bytes(x->string_to_sign, x->string_to_sign_len));
        json_object_set_new(o, "CanonicalRequest",
                            json_stringn(x->canonical_request, x->canonical_request_len));
        json_object_set_new(o, "CanonicalRequestBytes",
                            hex_bytes(x->canonical_request, x->canonical_request_len));
    } else if (!strcmp(se->code, "RequestTimeTooSkewed")) {
        json_object_set_new(o, "RequestTime", json_string(x->request_time));
        json_object_set_new(o, "ServerTime", json_string(x->server_time));
        json_object_set_new(o, "MaxAllowedSkewMilliseconds", json_string("900000"));
    } else if (x->expires[0]) {
        char n[24];
        snprintf(n, sizeof(n), "%lld", (long long)x->x_amz_expires);
        json_object_set_new(o, "X-Amz-Expires", json_string(n));
        json_object_set_new(o, "Expires", json_string(x->expires));
        json_object_set_new(o, "ServerTime", json_string(x->server_time));
    } else if (x->headers_not_signed[0]) {
        json_object_set_new(o, "HeadersNotSigned", json_string(x->headers_not_signed));
    }
    d->pending_extra = o;
}

/* Temporary credentials: the session token must be sent and still valid on the region
 * clock (STS sessions expire in region time, so "an hour passes" can be simulated). */
static int check_session(dctx *d, const nb_cred *cred, const char *token)
{
    if (cred->session_token[0]) {
        if (!token || strcmp(token, cred->session_token) != 0) return auth_error(d, AF_BAD_TOKEN, NULL);
        if (cred->expires && nb_clock_now() >= cred->expires)
            return auth_error(d, AF_EXPIRED_TOKEN, NULL);
    } else if (token && token[0]) {
        return auth_error(d, AF_BAD_TOKEN, NULL);
    }
    return 0;
}

/* S3's legacy SigV2 (header or presigned query). */
static int authenticate_v2(dctx *d, nb_cred *cred)
{
    nb_req *r = d->r;
    nb_sigv2_auth *a = d->auth2;
    if (nb_creds_lookup(a->access_key, cred) < 0 || !cred->active)
        return auth_error(d, AF_UNKNOWN_KEY, NULL);
    d->cred = cred;
    /* Virtual-hosted requests were rewritten to "/bucket" + path; SigV2 signs that prefix. */
    char prefix[80] = "";
    if (d->path != r->path && d->path_len > r->path_len &&
        memcmp(d->path + (d->path_len - r->path_len), r->path, r->path_len) == 0 &&
        d->path_len - r->path_len < sizeof(prefix))
        snprintf(prefix, sizeof(prefix), "%.*s", (int)(d->path_len - r->path_len), d->path);
    nb_sigv4_error se;
    memset(&se, 0, sizeof(se));
    char *sts = NULL;
    if (nb_sigv2_verify(a, cred->secret, r, prefix, nb_wall_us() / 1000000, &se, &sts) < 0) {
        nb_aws_error_set(&d->call.err, se.status, se.code, "%s", se.message);
        json_t *x = NULL;
        if (!strcmp(se.code, "SignatureDoesNotMatch")) {
            x = json_object();
            json_object_set_new(x, "AWSAccessKeyId", json_string(a->access_key));
            if (sts) json_object_set_new(x, "StringToSign", json_string(sts));
            json_object_set_new(x, "SignatureProvided", json_string(a->signature));
            if (sts) json_object_set_new(x, "StringToSignBytes", hex_bytes(sts, strlen(sts)));
        } else if (!strcmp(se.code, "RequestTimeTooSkewed")) {
            char now[32];
            time_t t = (time_t)(nb_wall_us() / 1000000);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
            const char *rt = nb_req_header(r, "x-amz-date", NULL);
            if (!rt) rt = nb_req_header(r, "date", NULL);
            x = json_pack("{s:s,s:s,s:s}", "RequestTime", rt ? rt : "", "ServerTime", now,
                          "MaxAllowedSkewMilliseconds", "900000");
        } else if (a->presigned && !strcmp(se.message, "Request has expired")) {
            /* as S3 answers an expired SigV2 URL: when it expired, and the time now */
            char exp[32], now[32];
            time_t te = (time_t)a->expires, tn = (time_t)(nb_wall_us() / 1000000);
            struct tm tm;
            gmtime_r(&te, &tm);
            strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
            gmtime_r(&tn, &tm);
            strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
            x = json_pack("{s:s,s:s}", "Expires", exp, "ServerTime", now);
        }
        d->call.err.extra = x;
        free(sts);
        return -1;
    }
    const char *tok = nb_req_header(r, "x-amz-security-token", NULL);
    if (!tok && a->presigned) {
        /* presigned: the token rides in the query */
        static const char key[] = "x-amz-security-token=";
        const char *q = r->query;
        const char *hit = NULL;
        for (size_t i = 0; i + sizeof(key) - 1 <= r->query_len; i++)
            if ((i == 0 || q[i - 1] == '&') && strncasecmp(q + i, key, sizeof(key) - 1) == 0) {
                hit = q + i + sizeof(key) - 1;
                break;
            }
        if (hit) {
            size_t n = 0;
            while (hit + n < q + r->query_len && hit[n] != '&') n++;
            char *v = nb_arena_alloc(r->arena, n + 1);
            ssize_t m = v ? nb_url_decode(hit, n, v, true) : -1;
            if (m >= 0) {
                v[m] = 0;
                tok = v;
            }
        }
    }
    if (check_session(d, cred, tok) < 0) return -1;
    d->call.who = cred->who;
    return 0;
}

/* The credential scope must name this endpoint: the server's region (IAM and STS also take
 * us-east-1, the region their global endpoints sign for) and, for S3, the service "s3".
 * S3 answers 400 AuthorizationHeaderMalformed / AuthorizationQueryParametersError naming the
 * expected <Region>; SDKs then re-sign for that region and retry (botocore's S3 region
 * redirector reads x-amz-bucket-region first, which is all a HEAD's bodiless answer has).
 * The other services answer 403 SignatureDoesNotMatch "Credential should be scoped to a
 * valid region, not 'x'." in their own format. */
static int check_scope(dctx *d)
{
    const nb_sigv4_auth *a = d->auth;
    /* Without --strict-region a signature for any region is served here: the signature is
     * still checked, with the region the client signed for. Clients often carry a profile's
     * region, and this one server is the only region they can reach. */
    const char *region = cfg && cfg->strict_region ? d->call.region : NULL;
    nb_sigv4_error se;
    memset(&se, 0, sizeof(se));
    if (d->s3) {
        /* S3 Express calls (CreateSession, directory buckets) are signed for s3express: they
         * reach S3, which answers them NotImplemented */
        const char *svc = strcmp(a->service, "s3express") == 0 ? NULL : "s3";
        if (nb_sigv4_check_scope(a, region, svc, true, &se) == 0) return 0;
        nb_aws_error_set(&d->call.err, se.status, se.code, "%s", se.message);
        if (region && strcmp(a->region, region) != 0) {
            d->call.err.extra = json_pack("{s:s}", "Region", region);
            if (d->call.out_nheaders < NB_ARRAY_LEN(d->call.out_headers))
                d->call.out_headers[d->call.out_nheaders++] =
                    (nb_header){"x-amz-bucket-region", 19, region, strlen(region)};
        }
        return -1;
    }
    const char *svc = d->model ? nb_model_signing_name(d->model) : NULL;
    if (svc && (!strcmp(svc, "iam") || !strcmp(svc, "sts")) && !strcmp(a->region, "us-east-1"))
        return 0;
    if (nb_sigv4_check_scope(a, region, NULL, false, &se) == 0) return 0;
    return auth_error(d, AF_BAD_SIGNATURE, &se);
}

/* x-amz-content-sha256 must be a hex SHA-256 or one of the names S3 knows. */
static bool valid_content_sha256(const char *h)
{
    static const char *const names[] = {
        "UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"};
    for (size_t i = 0; i < NB_ARRAY_LEN(names); i++)
        if (!strcmp(h, names[i])) return true;
    if (strlen(h) != 64) return false;
    for (const char *p = h; *p; p++)
        if (!isxdigit((unsigned char)*p)) return false;
    return true;
}

/* Verify the request's signature. For S3 the payload hash is what x-amz-content-sha256 claims
 * (the body is checked against it while it is read); for the others it is the SHA-256 of the
 * buffered body. The skew and expiry checks use the host's real time, not the region clock:
 * clients sign with their real clocks, and advancing the region clock must not lock them out. */
static int authenticate(dctx *d)
{
    nb_req *r = d->r;
    if (d->auth_kind == 0) {
        const nb_op_def *def = d->op ? nb_service_op(d->svc, nb_op_name(d->op)) : NULL;
        if (d->s3 || (d->op && nb_op_auth_none(d->op)) || (def && (def->flags & NB_OP_ANONYMOUS))) {
            memset(&d->call.who, 0, sizeof(d->call.who));
            d->call.who.type = NB_PRINCIPAL_ANONYMOUS;
            return 0;
        }
        return auth_error(d, AF_MISSING, NULL);
    }
    nb_cred *cred = nb_arena_alloc(r->arena, sizeof(*cred));
    if (!cred) return nb_aws_error_set(&d->call.err, 503, "ServiceUnavailable", "Out of memory.");
    if (d->auth_kind >= 3) return authenticate_v2(d, cred);
    nb_sigv4_auth *a = d->auth;
    if (check_scope(d) < 0) return -1;
    if (nb_creds_lookup(a->access_key, cred) < 0 || !cred->active)
        return auth_error(d, AF_UNKNOWN_KEY, NULL);
    d->cred = cred;

    char payload[80];
    if (d->s3) {
        const char *h = nb_req_header(r, "x-amz-content-sha256", NULL);
        if (h && !valid_content_sha256(h)) {
            nb_aws_error_set(&d->call.err, 400, "InvalidArgument", "%s", CONTENT_SHA256_MSG);
            d->call.err.extra = json_pack("{s:s,s:s}", "ArgumentName", "x-amz-content-sha256",
                                          "ArgumentValue", h);
            return -1;
        }
        if (h) {
            snprintf(payload, sizeof(payload), "%s", h);
        } else if (d->auth_kind == 2) {
            snprintf(payload, sizeof(payload), "UNSIGNED-PAYLOAD");
        } else {
            return nb_aws_error_set(&d->call.err, 400, "InvalidRequest",
                                    "Missing required header for this request: x-amz-content-sha256");
        }
    } else {
        nb_sha256_hex(d->body ? d->body : "", d->body_len, payload);
    }
    nb_sigv4_error se;
    memset(&se, 0, sizeof(se));
    int64_t now = nb_wall_us() / 1000000;
    /* The signature covers the path as sent, even when a virtual-hosted S3 request was
     * rewritten to /bucket/key for routing. */
    int rc = nb_sigv4_verify(a, cred->secret, r, r->path, r->path_len, payload, d->s3, now, &se);
    if (rc < 0 && !d->s3 && d->auth_kind == 2) {
        /* Presigned URLs of non-S3 services may be signed over UNSIGNED-PAYLOAD. */
        nb_sigv4_error se2;
        memset(&se2, 0, sizeof(se2));
        if (nb_sigv4_verify(a, cred->secret, r, r->path, r->path_len, "UNSIGNED-PAYLOAD", false,
                            now, &se2) == 0)
            rc = 0;
    }
    if (rc < 0) {
        if (d->s3) s3_auth_extras(d, &se);
        if (!strcmp(se.code, "SignatureDoesNotMatch")) return auth_error(d, AF_BAD_SIGNATURE, &se);
        if (!strcmp(se.code, "RequestTimeTooSkewed")) return auth_error(d, AF_SKEW, &se);
        if (d->s3 || strcmp(se.code, "AccessDenied") == 0 || strcmp(se.code, "IncompleteSignature") == 0) {
            nb_aws_error_set(&d->call.err, se.status ? se.status : 403, se.code, "%s", se.message);
            d->call.err.extra = d->pending_extra;
            d->pending_extra = NULL;
            return -1;
        }
        return auth_error(d, AF_BAD_SIGNATURE, &se);
    }
    if (check_session(d, cred, a->security_token) < 0) return -1;
    d->call.who = cred->who;
    return 0;
}

/* ---- authorization ---- */

static int authorize(dctx *d)
{
    return nb_iam_authorize(&d->call, nb_service_op(d->svc, d->call.op_name));
}

/* ---- running the handler ---- */

static void worker_entry(nb_req *r);
static void run_handler(dctx *d);

/* ---- waiting calls (NB_CALL_PENDING, see service.h) ---- */

static dctx *dctx_of(nb_call *c) { return (dctx *)((char *)c - offsetof(dctx, call)); }

static void pend_event(dctx *d, enum nb_call_event ev)
{
    if (atomic_load(&d->resume_requested)) return;
    d->call.wait_event(&d->call, ev);
}

static void pend_timer(void *arg)
{
    dctx *d = arg;
    d->wait_timer = 0;
    pend_event(d, NB_CALL_EV_TIMER);
}

static void pend_gone(nb_req *r, bool stopping)
{
    pend_event(r->ud, stopping ? NB_CALL_EV_STOP : NB_CALL_EV_GONE);
}

void nb_call_wait_timer(nb_call *c, int64_t ms)
{
    dctx *d = dctx_of(c);
    if (d->wait_timer) nb_loop_timer_cancel(d->wait_timer);
    d->wait_timer = nb_loop_timer(ms > INT32_MAX ? INT32_MAX : (int)(ms < 0 ? 0 : ms), pend_timer, d);
}

static void pend_resume_on_loop(void *arg);

/* Loop thread: the handler returned NB_CALL_PENDING; watch the timer and the client. */
static void pend_arm(void *arg)
{
    dctx *d = arg;
    d->parked = true;
    if (d->resume_due) {
        d->resume_due = false;
        pend_resume_on_loop(d);
        return;
    }
    if (d->call.wait_ms >= 0) nb_call_wait_timer(&d->call, d->call.wait_ms);
    nb_req_on_gone(d->r, pend_gone); /* may report at once (client gone, server stopping) */
}

static void pend_resume_on_loop(void *arg)
{
    dctx *d = arg;
    if (!d->parked) { /* the resume overtook the arming: run once armed */
        d->resume_due = true;
        return;
    }
    d->parked = false;
    if (d->wait_timer) nb_loop_timer_cancel(d->wait_timer);
    d->wait_timer = 0;
    nb_req_on_gone(d->r, NULL);
    atomic_store(&d->resume_requested, false);
    const nb_op_def *def = nb_service_op(d->svc, d->call.op_name);
    if (def && (def->flags & NB_OP_INLINE)) {
        d->call.on_loop = true;
        run_handler(d);
    } else {
        nb_req_offload(d->r, worker_entry);
    }
}

void nb_call_resume(nb_call *c)
{
    dctx *d = dctx_of(c);
    atomic_store(&d->resume_requested, true);
    /* A post fails only without memory: then the call stays parked until the server stops
     * and closes its connection. */
    if (nb_loop_post(nb_req_loop(d->r), pend_resume_on_loop, d) < 0)
        nb_error("request %s: cannot resume %s (out of memory)", d->r->request_id, c->op_name);
}

static void run_handler(dctx *d)
{
    nb_call *c = &d->call;
    int rc;
    if (d->form_post) {
        rc = d->svc->form_post(c);
    } else {
        const nb_op_def *def = nb_service_op(d->svc, c->op_name);
        if (!def || !def->fn) {
            rc = nb_aws_error_set(&c->err, 501, "NotImplemented",
                                  "The operation %s of service %s is not implemented by Nimbus yet.",
                                  c->op_name, d->svc->name);
        } else {
            rc = def->fn(c);
        }
    }
    if (rc == NB_CALL_OFFLOAD && c->on_loop) {
        /* The inline handler wants a worker after all: run it again there. */
        if (c->output) json_decref(c->output);
        c->output = NULL;
        c->on_loop = false;
        nb_req_offload(d->r, worker_entry);
        return;
    }
    if (rc == NB_CALL_PENDING) {
        NB_ASSERT(c->wait_event && !c->output);
        /* From here another thread may resume the call: d is the loop's now. */
        if (c->on_loop)
            pend_arm(d);
        else if (nb_loop_post(nb_req_loop(d->r), pend_arm, d) < 0)
            nb_error("request %s: cannot park %s (out of memory)", d->r->request_id, c->op_name);
        return;
    }
    if (rc == NB_CALL_OFFLOAD) rc = nb_aws_error_set(&c->err, 500, "InternalError",
                                                     "We encountered an internal error. Please try again.");
    if (rc != 0 && !c->err.code[0])
        nb_aws_error_set(&c->err, 500, "InternalError",
                         "We encountered an internal error. Please try again.");
    finish(d, rc);
}

static void worker_entry(nb_req *r)
{
    dctx *d = r->ud;
    d->call.on_loop = false;
    run_handler(d);
}

/* The body of an inline handler's out_stream is produced on a worker, where writes may
 * block; the status line and headers were already queued on the loop. */
static void stream_entry(nb_req *r)
{
    dctx *d = r->ud;
    nb_call *c = &d->call;
    c->on_loop = false;
    if (c->out_stream(c) < 0) {
        nb_warn("request %s: %s body could not be completed", r->request_id, c->op_name);
        nb_resp_close_after(r);
    }
    json_t *in = c->input, *out = c->output;
    bool keep = d->docs_to_done;
    nb_resp_end(r);
    if (keep) return; /* released by request_done */
    json_decref(in);
    json_decref(out);
}

static void body_reader_free(struct nb_body_reader *b)
{
    if (!b) return;
    nb_awschunked_free(b->chunked);
    nb_buf_free(&b->pending);
    free(b->raw);
}

/* Encode the outcome and send it; releases everything the call holds. */
static void finish(dctx *d, int rc)
{
    nb_call *c = &d->call;
    nb_req *r = d->r;
    json_t *in = c->input, *out = c->output; /* heap documents, released after the answer */
    bool keep = d->docs_to_done;             /* ... by request_done */
    body_reader_free(c->body);
    c->body = NULL;
    if (rc != 0) {
        if (c->out_fd >= 0) close(c->out_fd);
        c->out_fd = -1;
        reply_error(d, &c->err);
    } else {
        nb_wire_resp w;
        memset(&w, 0, sizeof(w));
        if (d->form_post) {
            /* no model operation: the handler's raw answer */
            w.status = c->out_status ? c->out_status : 204;
            for (size_t i = 0; i < c->out_nheaders && w.nheaders < NB_ARRAY_LEN(w.headers); i++)
                w.headers[w.nheaders++] = c->out_headers[i];
            nb_header rid = {"x-amz-request-id", 16, r->request_id, strlen(r->request_id)};
            w.headers[w.nheaders++] = rid;
            if (c->out_body) nb_buf_append(&w.body, c->out_body, c->out_body_len);
            send_wire(d, &w);
        } else if (nb_proto_serialize(d->model, d->op, c->output, r->request_id, r->arena, &w) < 0) {
            nb_buf_free(&w.body);
            if (c->out_fd >= 0) close(c->out_fd);
            c->out_fd = -1;
            nb_aws_error_set(&c->err, 500, "InternalError",
                             "We encountered an internal error. Please try again.");
            nb_warn("request %s: cannot serialize output of %s", r->request_id, c->op_name);
            reply_error(d, &c->err);
        } else {
            for (size_t i = 0; i < c->out_nheaders && w.nheaders < NB_ARRAY_LEN(w.headers); i++)
                w.headers[w.nheaders++] = c->out_headers[i];
            if (c->out_status) w.status = c->out_status;
            bool head = strcmp(r->method, "HEAD") == 0;
            if (c->out_fd >= 0 || c->out_body || c->out_stream) take_content_length(&w);
            if (c->out_stream && c->out_fd < 0 && !c->out_body) {
                /* Handler-driven body (verified as it is sent). A failure half-way closes
                 * the connection: the client sees a short body, never wrong bytes. */
                nb_resp_start(r, w.status, w.headers, w.nheaders, c->out_len);
                nb_buf_free(&w.body);
                if (!head && c->on_loop) {
                    nb_req_offload(r, stream_entry); /* it ends the response */
                    return;
                }
                if (!head && c->out_stream(c) < 0) {
                    nb_warn("request %s: %s body could not be completed", r->request_id,
                            c->op_name);
                    nb_resp_close_after(r);
                }
                nb_resp_end(r);
            } else if (c->out_fd >= 0) {
                nb_resp_start(r, w.status, w.headers, w.nheaders, c->out_len);
                if (!head && c->out_len > 0)
                    nb_resp_sendfile(r, c->out_fd, c->out_off, (size_t)c->out_len);
                else
                    close(c->out_fd);
                c->out_fd = -1;
                nb_buf_free(&w.body);
                nb_resp_end(r);
            } else if (c->out_body) {
                nb_resp_start(r, w.status, w.headers, w.nheaders, (int64_t)c->out_body_len);
                if (!head && c->out_body_len) nb_resp_write(r, c->out_body, c->out_body_len);
                nb_buf_free(&w.body);
                nb_resp_end(r);
            } else {
                send_wire(d, &w);
            }
        }
    }
    /* d and c lived in the request's arena, gone with nb_resp_end(): only locals now. */
    if (keep) return;
    json_decref(in);
    json_decref(out);
}

/* True if a string in v holds NUL; *member names the innermost member holding it. */
static bool find_nul(json_t *v, const char **member)
{
    if (json_is_string(v)) return strlen(json_string_value(v)) != json_string_length(v);
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (find_nul(x, member)) return true;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (find_nul(x, member)) {
                if (!*member) *member = k; /* the deepest key, set first */
                return true;
            }
        }
    }
    return false;
}

/* See nb_service.input_nul: no handler sees a string cut short at a NUL. */
static int check_nul(dctx *d)
{
    nb_call *c = &d->call;
    if (!strcmp(d->protocol, "rest-xml")) return 0; /* S3 and friends: not judged here */
    const char *member = NULL;
    if (!find_nul(c->input, &member)) return 0;
    if (d->svc->input_nul) {
        int rc = d->svc->input_nul(c);
        if (rc < 0 && !c->err.code[0])
            nb_aws_error_set(&c->err, 400, "InvalidParameterValue", "Invalid input.");
        return rc;
    }
    bool json = strstr(d->protocol, "json") != NULL;
    return nb_aws_error_set(&c->err, 400, json ? "ValidationException" : "InvalidParameterValue",
                            "Value for parameter %s is invalid. Reason: it contains the NUL character (U+0000).",
                            member ? member : "(input)");
}

/* nb_req.on_done of requests routed to a service with a request_done hook (loop thread). */
static void call_done(nb_req *r, const nb_req_done *info)
{
    dctx *d = r->ud;
    if (!d || !d->svc || !d->svc->request_done) return;
    d->svc->request_done(&d->call, d->path, d->path_len, info);
    if (d->docs_to_done) {
        json_decref(d->call.input);
        json_decref(d->call.output);
        d->call.input = d->call.output = NULL;
    }
}

/* Decode, authorize and run (or offload). The body, if any, is in d->body. */
static void run_call(dctx *d, bool on_loop)
{
    nb_call *c = &d->call;
    nb_req *r = d->r;
    c->op = d->op;
    c->op_name = nb_op_name(d->op);
    c->model = d->model;
    c->svc = d->svc;
    r->log_operation = c->op_name;
    r->log_account = c->who.account[0] ? c->who.account : NULL;
    r->log_principal = c->who.arn[0] ? c->who.arn : (c->who.type == NB_PRINCIPAL_ANONYMOUS ? "anonymous" : NULL);

    nb_wire_req w = {r->method, d->path, d->path_len, r->query, r->query_len,
                     r->headers, r->nheaders, d->body, d->body_len};
    if (nb_proto_parse(d->model, d->op, &w, &c->input, &c->err) < 0) {
        finish(d, -1);
        return;
    }
    if (check_nul(d) < 0 || authorize(d) < 0) {
        finish(d, -1);
        return;
    }
    c->req_body = d->body;
    c->req_body_len = d->body_len;
    if (c->req_body && d->svc && d->svc->body_check && d->svc->body_check(c) < 0) {
        finish(d, -1);
        return;
    }
    const nb_op_def *def = nb_service_op(d->svc, c->op_name);
    if (on_loop && (!def || !def->fn || (def->flags & NB_OP_INLINE))) {
        c->on_loop = true;
        run_handler(d);
        return;
    }
    if (on_loop)
        nb_req_offload(r, worker_entry);
    else
        run_handler(d);
}

/* ---- streaming bodies ---- */

static int setup_body_reader(dctx *d)
{
    nb_call *c = &d->call;
    nb_req *r = d->r;
    struct nb_body_reader *b = nb_arena_calloc(r->arena, sizeof(*b));
    if (!b) return nb_aws_error_set(&c->err, 503, "ServiceUnavailable", "Out of memory.");
    b->decoded_expected = -1;
    const char *h = nb_req_header(r, "x-amz-content-sha256", NULL);
    const char *dl = nb_req_header(r, "x-amz-decoded-content-length", NULL);
    if (dl) b->decoded_expected = strtoll(dl, NULL, 10);
    if (h && strncmp(h, "STREAMING-", 10) == 0) {
        enum nb_chunked_mode mode;
        if (!strcmp(h, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
            mode = NB_CHUNKED_SIGNED;
        else if (!strcmp(h, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"))
            mode = NB_CHUNKED_SIGNED_TRAILER;
        else if (!strcmp(h, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
            mode = NB_CHUNKED_UNSIGNED_TRAILER;
        else
            return nb_aws_error_set(&c->err, 400, "InvalidArgument", "%s", CONTENT_SHA256_MSG);
        unsigned char key[32] = {0};
        char scope[256] = "";
        const char *seed = "";
        const char *amz_date = "";
        if (mode != NB_CHUNKED_UNSIGNED_TRAILER) {
            if (!d->auth || !d->cred)
                return nb_aws_error_set(&c->err, 403, "AccessDenied", "Access Denied");
            nb_sigv4_signing_key(d->cred->secret, d->auth->date, d->auth->region,
                                 d->auth->service, key);
            snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", d->auth->date,
                     d->auth->region, d->auth->service);
            seed = d->auth->signature;
            amz_date = d->auth->amz_date;
        }
        b->chunked = nb_awschunked_new(mode, key, amz_date, scope, seed);
        if (!b->chunked) return nb_aws_error_set(&c->err, 503, "ServiceUnavailable", "Out of memory.");
        if (b->decoded_expected >= 0) nb_awschunked_expect(b->chunked, (uint64_t)b->decoded_expected);
        b->mode = BODY_CHUNKED;
    } else if (h && strlen(h) == 64) {
        b->mode = BODY_SHA256;
        snprintf(b->expect_sha, sizeof(b->expect_sha), "%s", h);
        for (char *p = b->expect_sha; *p; p++)
            if (*p >= 'A' && *p <= 'F') *p = (char)(*p + 32);
        b->hashing = true;
        nb_sha256_init(&b->sha);
    } else {
        b->mode = BODY_PLAIN;
    }
    c->body = b;
    return 0;
}

ssize_t nb_call_read(nb_call *c, void *buf, size_t n)
{
    struct nb_body_reader *b = c->body;
    if (!b) return 0; /* not a streaming operation: the body was decoded into the input */
    if (b->failed) return -1;
    for (;;) {
        if (b->pending_off < b->pending.len) {
            size_t take = b->pending.len - b->pending_off;
            if (take > n) take = n;
            memcpy(buf, b->pending.data + b->pending_off, take);
            b->pending_off += take;
            if (b->pending_off == b->pending.len) {
                b->pending.len = 0;
                b->pending_off = 0;
            }
            b->delivered += take;
            return (ssize_t)take;
        }
        if (b->eof) return 0;
        if (b->mode != BODY_CHUNKED) {
            ssize_t got = nb_req_read(c->http, buf, n);
            if (got < 0) goto incomplete;
            if (got > 0) {
                if (b->hashing) nb_sha256_update(&b->sha, buf, (size_t)got);
                b->delivered += (uint64_t)got;
                return got;
            }
            b->eof = true;
            if (b->hashing) {
                unsigned char md[32];
                char hex[65];
                nb_sha256_final(&b->sha, md);
                nb_hex(md, 32, hex);
                if (strcmp(hex, b->expect_sha) != 0) {
                    b->failed = true;
                    sha256_mismatch(&c->err, nb_req_header(c->http, "x-amz-content-sha256", NULL),
                                    hex);
                    return -1;
                }
            }
            return 0;
        }
        if (!b->raw && !(b->raw = malloc(65536))) {
            b->failed = true;
            nb_aws_error_set(&c->err, 503, "ServiceUnavailable", "Out of memory.");
            return -1;
        }
        ssize_t got = nb_req_read(c->http, b->raw, 65536);
        if (got < 0) goto incomplete;
        if (got == 0) {
            b->eof = true;
            nb_sigv4_error fe;
            memset(&fe, 0, sizeof(fe));
            if (nb_awschunked_finish(b->chunked, &fe) < 0) {
                b->failed = true;
                nb_aws_error_set(&c->err, fe.status ? fe.status : 400,
                                 fe.code[0] ? fe.code : "IncompleteBody", "%s",
                                 fe.message[0] ? fe.message : "The request body is incomplete.");
                return -1;
            }
            if (b->decoded_expected >= 0 &&
                (uint64_t)b->decoded_expected != nb_awschunked_decoded(b->chunked)) {
                b->failed = true;
                nb_aws_error_set(&c->err, 400, "IncompleteBody",
                                 "You did not provide the number of bytes specified by the "
                                 "x-amz-decoded-content-length HTTP header");
                return -1;
            }
            continue;
        }
        nb_sigv4_error se;
        memset(&se, 0, sizeof(se));
        if (nb_awschunked_feed(b->chunked, b->raw, (size_t)got, &b->pending, &se) < 0) {
            b->failed = true;
            nb_aws_error_set(&c->err, se.status ? se.status : 400, se.code[0] ? se.code : "IncompleteBody",
                             "%s", se.message[0] ? se.message : "The request body is malformed.");
            return -1;
        }
    }
incomplete:
    b->failed = true;
    if (nb_req_body_timed_out(c->http))
        nb_aws_error_set(&c->err, 400, "RequestTimeout", "%s", REQUEST_TIMEOUT_MSG);
    else
        nb_aws_error_set(&c->err, 400, "IncompleteBody",
                         "You did not provide the number of bytes specified by the Content-Length HTTP header");
    return -1;
}

const char *nb_call_trailer(nb_call *c, const char *name)
{
    if (!c->body || !c->body->chunked) return NULL;
    return nb_awschunked_trailer(c->body->chunked, name);
}

/* ---- routing ---- */

/* Query/ec2 services unsigned (or routed without a credential scope): Action + Version. */
static const nb_model *route_by_action(dctx *d)
{
    nb_req *r = d->r;
    const char *action = form_param(r->arena, r->query, r->query_len, "Action");
    const char *version = form_param(r->arena, r->query, r->query_len, "Version");
    if (!action && d->body && is_form(r)) {
        action = form_param(r->arena, d->body, d->body_len, "Action");
        version = form_param(r->arena, d->body, d->body_len, "Version");
    }
    if (!action) return NULL;
    for (size_t i = 0; i < nb_services_count(); i++) {
        const nb_service *s = nb_service_at(i);
        const nb_model *m = nb_model_find(s->model);
        if (!m) continue;
        const char *p = nb_model_protocol(m);
        if (strcmp(p, "query") != 0 && strcmp(p, "ec2") != 0) continue;
        if (version && strcmp(version, nb_model_api_version(m)) != 0) continue;
        if (nb_model_op(m, action)) return m;
    }
    return NULL;
}

static void after_body(nb_req *r, int status, const char *body, size_t len);

/* POST /<bucket> (one path segment, no query operation) with a multipart/form-data body. */
static bool is_browser_post(const dctx *d)
{
    const nb_req *r = d->r;
    if (strcmp(r->method, "POST") != 0 || d->path_len < 2) return false;
    const char *slash = memchr(d->path + 1, '/', d->path_len - 1);
    if (slash && slash != d->path + d->path_len - 1) return false;
    size_t n;
    const char *ct = nb_req_header(r, "content-type", &n);
    return ct && n >= 19 && nb_mem_ieq(ct, 19, "multipart/form-data", 19);
}

/* The model is known: match the operation, then read the body or stream it. */
static void with_model(dctx *d)
{
    nb_req *r = d->r;
    d->svc = nb_service_by_model(d->model);
    d->protocol = nb_model_protocol(d->model);
    d->s3 = d->svc && strcmp(d->svc->name, "s3") == 0;
    r->log_service = d->svc ? d->svc->name : nb_model_name(d->model);
    if (!d->svc) {
        reply_err(d, 501, "NotImplemented", "Nimbus does not serve the service %s yet.",
                  nb_model_name(d->model));
        return;
    }
    if (d->s3 && d->svc->host_route) {
        const char *p = d->path;
        size_t pl = d->path_len;
        if (d->svc->host_route(r, &p, &pl)) {
            d->path = p;
            d->path_len = pl;
        }
    }
    /* Requests outside the model (S3: CORS preflight OPTIONS, website endpoints) are the
     * service's own, answered before authentication. */
    if (d->svc->raw_request && d->svc->raw_request(r, d->path, d->path_len, false)) return;
    if (d->svc->request_done) { /* r->ud is d from here on (raw requests may take it) */
        r->on_done = call_done;
        d->docs_to_done = true;
    }
    bool rest = strncmp(d->protocol, "rest-", 5) == 0;
    if (d->s3 && d->svc->form_post && is_browser_post(d)) {
        d->form_post = true;
        d->call.op_name = "PostObject";
        r->log_operation = "PostObject";
        memset(&d->call.who, 0, sizeof(d->call.who));
        d->call.who.type = NB_PRINCIPAL_ANONYMOUS;
        if (setup_body_reader(d) < 0) {
            reply_error(d, &d->call.err);
            return;
        }
        nb_req_offload(r, worker_entry);
        return;
    }
    if (rest) {
        nb_wire_req w = {r->method, d->path, d->path_len, r->query, r->query_len,
                         r->headers, r->nheaders, NULL, 0};
        nb_aws_error e;
        memset(&e, 0, sizeof(e));
        d->op = nb_proto_match(d->model, &w, &e);
        if (!d->op) {
            reply_error(d, &e);
            nb_aws_error_clear(&e);
            return;
        }
        if (nb_op_streaming_input(d->op)) {
            /* Authenticate from the headers alone, before accepting the body. */
            if (authenticate(d) < 0) {
                reply_error(d, &d->call.err);
                return;
            }
            if (setup_body_reader(d) < 0) {
                reply_error(d, &d->call.err);
                return;
            }
            run_call(d, true);
            return;
        }
    }
    if (d->have_body)
        after_body(r, 0, d->body, d->body_len);
    else
        nb_req_read_all(r, rest ? BODY_LIMIT_REST : BODY_LIMIT_DEFAULT, after_body);
}

static void after_body(nb_req *r, int status, const char *body, size_t len)
{
    dctx *d = r->ud;
    if (status == 413) {
        /* S3's EntityTooLarge is a 400 (its error list); the others' front ends answer 413. */
        if (d->s3)
            reply_err(d, 400, "EntityTooLarge",
                      "Your proposed upload exceeds the maximum allowed size");
        else
            reply_err(d, 413, "RequestEntityTooLarge",
                      "Your proposed upload exceeds the maximum allowed size");
        return;
    }
    if (status != 0) {
        nb_resp_close_after(r);
        if (nb_req_body_timed_out(r))
            reply_err(d, 400, "RequestTimeout", "%s", REQUEST_TIMEOUT_MSG);
        else if (r->chunked) /* the chunked framing broke (or stopped): S3's parse error */
            reply_err(d, 400, "BadRequest", "An error occurred when parsing the HTTP request.");
        else
            reply_err(d, 400, "IncompleteBody",
                      "You did not provide the number of bytes specified by the Content-Length "
                      "HTTP header");
        return;
    }
    d->body = body;
    d->body_len = len;
    d->have_body = true;
    if (!d->model) {
        d->model = route_by_action(d);
        if (!d->model) {
            if (!nb_model_find("s3")) {
                reply_err(d, 400, "InvalidAction", "The request names no service Nimbus serves.");
                return;
            }
            d->model = nb_model_find("s3");
            with_model(d);
            return;
        }
        with_model(d);
        return;
    }
    if (!d->op) {
        nb_wire_req w = {r->method, d->path, d->path_len, r->query, r->query_len,
                         r->headers, r->nheaders, body, len};
        nb_aws_error e;
        memset(&e, 0, sizeof(e));
        d->op = nb_proto_match(d->model, &w, &e);
        if (!d->op) {
            reply_error(d, &e);
            nb_aws_error_clear(&e);
            return;
        }
    }
    if (authenticate(d) < 0) {
        reply_error(d, &d->call.err);
        return;
    }
    /* The body against the hash the signature covered (after the signature, as S3 checks
     * it while reading); aws-chunked bodies to a non-streaming operation are decoded here. */
    if (d->s3) {
        const char *h = nb_req_header(r, "x-amz-content-sha256", NULL);
        if (h && strlen(h) == 64) {
            char got[65];
            nb_sha256_hex(body, len, got);
            if (strcasecmp(got, h) != 0) {
                sha256_mismatch(&d->call.err, h, got);
                reply_error(d, &d->call.err);
                return;
            }
        }
    }
    if (d->s3) {
        const char *h = nb_req_header(r, "x-amz-content-sha256", NULL);
        if (h && strncmp(h, "STREAMING-", 10) == 0 && len) {
            if (setup_body_reader(d) < 0) {
                reply_error(d, &d->call.err);
                return;
            }
            nb_buf out;
            nb_buf_init(&out);
            nb_sigv4_error se;
            memset(&se, 0, sizeof(se));
            if (nb_awschunked_feed(d->call.body->chunked, body, len, &out, &se) < 0 ||
                !nb_awschunked_done(d->call.body->chunked)) {
                nb_buf_free(&out);
                reply_err(d, se.status ? se.status : 400, se.code[0] ? se.code : "IncompleteBody",
                          "%s", se.message[0] ? se.message : "The request body is malformed.");
                return;
            }
            char *copy = nb_arena_strndup(r->arena, out.data ? out.data : "", out.len);
            d->body = copy;
            d->body_len = out.len;
            nb_buf_free(&out);
        }
    }
    run_call(d, true);
}

/* A request id: a version-4 UUID as nb_uuid4 makes, from random bytes drawn 1 KiB at a time
 * per thread (one getrandom(2) per 64 requests instead of one each; the ids name requests,
 * they guard nothing). */
static void request_id(char out[37])
{
    static _Thread_local unsigned char pool[1024];
    static _Thread_local size_t left;
    if (left < 16) {
        nb_random(pool, sizeof(pool));
        left = sizeof(pool);
    }
    unsigned char *b = pool + sizeof(pool) - left;
    left -= 16;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hx[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hx[b[i] >> 4];
        *o++ = hx[b[i] & 15];
    }
    *o = 0;
}

void nb_dispatch_request(nb_req *r)
{
    if (!r->request_id[0]) request_id(r->request_id);
    if (r->path_len >= 9 && memcmp(r->path, "/_nimbus/", 9) == 0 &&
        (nb_dispatch_is_ready() || (r->path_len == 15 && memcmp(r->path, "/_nimbus/health", 15) == 0) ||
         (r->path_len == 14 && memcmp(r->path, "/_nimbus/clock", 14) == 0))) {
        nb_admin_handle(r);
        return;
    }
    if (park_until_ready(r)) return;
    if (r->path_len >= 9 && memcmp(r->path, "/_nimbus/", 9) == 0) {
        nb_admin_handle(r);
        return;
    }
    dctx *d = nb_arena_calloc(r->arena, sizeof(*d));
    if (!d) {
        nb_resp_aws_error(r, 503, "ServiceUnavailable", "Out of memory.");
        return;
    }
    r->ud = d;
    d->r = r;
    d->path = r->path;
    d->path_len = r->path_len;
    d->call.http = r;
    d->call.arena = r->arena;
    d->call.request_id = r->request_id;
    d->call.region = cfg ? cfg->region : "us-east-1";
    d->call.out_fd = -1;

    nb_sigv4_error se;
    memset(&se, 0, sizeof(se));
    nb_sigv2_auth v2;
    int k2 = nb_sigv2_detect(r, &v2, &se);
    if (k2 != 0) {
        /* SigV2 exists only for S3. */
        d->model = nb_model_find("s3");
        d->protocol = "rest-xml";
        d->s3 = true;
        if (k2 < 0 || !d->model) {
            reply_err(d, se.status ? se.status : 400, se.code[0] ? se.code : "InvalidArgument", "%s",
                      se.message);
            return;
        }
        d->auth2 = nb_arena_alloc(r->arena, sizeof(v2));
        if (!d->auth2) {
            nb_resp_aws_error(r, 503, "ServiceUnavailable", "Out of memory.");
            return;
        }
        *d->auth2 = v2;
        d->auth_kind = k2 == 1 ? 3 : 4;
        with_model(d);
        return;
    }
    d->auth_kind = nb_sigv4_detect(r, &se);
    if (d->auth_kind > 0) {
        d->auth = nb_arena_calloc(r->arena, sizeof(*d->auth));
        if (!d->auth) {
            nb_resp_aws_error(r, 503, "ServiceUnavailable", "Out of memory.");
            return;
        }
        int rc;
        char svc[64] = "";
        if (d->auth_kind == 1) {
            size_t n;
            const char *v = nb_req_header(r, "authorization", &n);
            /* Worded as S3 does unless the request is meant for another service (the scope
             * may be too broken to tell: "Credential=HAHAHA" at S3 is AuthorizationHeaderMalformed). */
            credential_service(v, n, svc, sizeof(svc));
            rc = nb_sigv4_parse_header_ex(v, n, meant_for_other_service(r, svc) ? 0 : 1, d->auth,
                                          &se);
        } else {
            rc = nb_sigv4_parse_presigned(r->query, r->query_len, d->auth, &se);
        }
        if (rc == 0) {
            d->model = nb_model_by_signing_name(d->auth->service);
            /* A service served in two protocols under one signing name (SQS: query for older
             * SDKs, JSON for current ones): X-Amz-Target picks the JSON model. */
            size_t tn;
            const char *t = d->model ? nb_req_header(r, "x-amz-target", &tn) : NULL;
            if (t && strcmp(nb_model_protocol(d->model), "json") != 0) {
                const char *dot = memchr(t, '.', tn);
                const nb_model *jm = nb_model_by_target_prefix(t, dot ? (size_t)(dot - t) : tn);
                if (jm && !strcmp(nb_model_signing_name(jm), d->auth->service)) d->model = jm;
            }
            /* A scope naming a service we do not know, or a query service on a request with no
             * Action (which every query request has): an S3 request signed for the wrong
             * service, answered as S3 does (the scope check refuses the service by name). */
            if (!meant_for_other_service(r, NULL) &&
                (!d->model || !strcmp(nb_model_protocol(d->model), "query") ||
                 !strcmp(nb_model_protocol(d->model), "ec2")))
                d->model = nb_model_find("s3");
            if (!d->model) {
                reply_err(d, 501, "NotImplemented",
                          "Nimbus does not serve the service '%s' yet.", d->auth->service);
                return;
            }
        } else {
            d->model = nb_model_find("s3");
            /* Without a readable scope we may not know the service: answer in the format of the
             * service the scope names, S3's for S3-looking requests, else the generic one. */
            if (meant_for_other_service(r, svc)) {
                const nb_model *m = svc[0] && !nb_req_header(r, "x-amz-target", NULL)
                                        ? nb_model_by_signing_name(svc)
                                        : NULL;
                d->model = m && strcmp(svc, "s3") != 0 ? m : NULL;
                if (d->model) d->protocol = nb_model_protocol(d->model);
            }
            if (d->model && !d->protocol) {
                d->protocol = "rest-xml";
                d->s3 = true;
            }
            reply_err(d, se.status ? se.status : 400, se.code[0] ? se.code : "IncompleteSignature",
                      "%s", se.message);
            return;
        }
    } else if (d->auth_kind < 0) {
        d->model = nb_model_find("s3");
        d->protocol = "rest-xml";
        d->s3 = true;
        reply_err(d, se.status ? se.status : 400, se.code[0] ? se.code : "InvalidRequest", "%s",
                  se.message);
        return;
    }
    if (!d->model) {
        size_t tn;
        const char *t = nb_req_header(r, "x-amz-target", &tn);
        if (t) {
            const char *dot = memchr(t, '.', tn);
            d->model = nb_model_by_target_prefix(t, dot ? (size_t)(dot - t) : tn);
            if (!d->model) {
                d->protocol = "json";
                reply_err(d, 400, "UnknownOperationException",
                          "Nimbus does not serve the service of target %.*s yet.", (int)tn, t);
                return;
            }
        }
    }
    if (!d->model) {
        for (size_t i = 0; i < nb_services_count(); i++) {
            const nb_service *s = nb_service_at(i);
            const char *p = r->path;
            size_t pl = r->path_len;
            if (s->host_route && s->host_route(r, &p, &pl)) {
                d->model = nb_model_find(s->model);
                break;
            }
        }
    }
    if (!d->model && r->query_len) d->model = route_by_action(d);
    if (!d->model && strcmp(r->method, "POST") == 0 && is_form(r)) {
        /* Action may be in the form body: read it, then route. */
        nb_req_read_all(r, BODY_LIMIT_DEFAULT, after_body);
        return;
    }
    if (!d->model) d->model = nb_model_find("s3");
    if (!d->model) {
        reply_err(d, 400, "InvalidAction", "The request names no service Nimbus serves.");
        return;
    }
    with_model(d);
}

/* The website port (--website-port): every request is S3's website endpoint, the Host naming
 * the bucket; handed to S3's raw_request hook. */
void nb_dispatch_website(nb_req *r)
{
    if (!r->request_id[0]) nb_uuid4(r->request_id);
    const nb_service *s = nb_service_by_name("s3");
    if (!nb_dispatch_is_ready() || !s || !s->raw_request) {
        nb_resp_simple(r, 503, "text/plain", "service starting\n", 17, NULL, 0);
        return;
    }
    if (!s->raw_request(r, r->path, r->path_len, true))
        nb_resp_simple(r, 404, "text/plain", "not found\n", 10, NULL, 0);
}
