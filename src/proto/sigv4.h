/* sigv4.h: AWS Signature Version 4: parsing what clients send (Authorization header,
 * presigned query), computing canonical requests and signatures, verifying them, and
 * decoding aws-chunked streaming bodies (signed chunks, unsigned chunks with trailers).
 * Pure functions over bytes: no I/O, no global state except a signing-key cache. */
#ifndef NB_PROTO_SIGV4_H
#define NB_PROTO_SIGV4_H

#include "core/nb.h"
#include "http/http.h"

#define NB_SIGV4_ALGO "AWS4-HMAC-SHA256"

/* What a request claims about its signature. Strings are NUL-terminated copies. */
typedef struct nb_sigv4_auth {
    bool presigned;          /* from the query string (X-Amz-Signature ...) */
    char access_key[129];
    char date[9];            /* credential scope date YYYYMMDD */
    char region[33];
    char service[65];
    char amz_date[17];       /* request time, YYYYMMDDTHHMMSSZ (X-Amz-Date, or Date header) */
    char signed_headers[2048]; /* lowercase names joined by ';' as sent */
    char signature[65];      /* lowercase hex */
    int64_t expires;         /* presigned: X-Amz-Expires seconds (1..604800), else 0 */
    char security_token[4096]; /* X-Amz-Security-Token, "" when absent */
} nb_sigv4_auth;

/* An auth failure: AWS error code (IncompleteSignature, SignatureDoesNotMatch,
 * AuthorizationQueryParametersError, AccessDenied, RequestTimeTooSkewed, ...) + message. */
typedef struct nb_sigv4_error {
    int status;
    char code[48];
    char message[512];
    int reason; /* enum nb_sigv4_reason (addition): lets callers word errors per protocol */
} nb_sigv4_error;

/* Why a call failed (addition). SKEW errors carry code RequestTimeTooSkewed for every service;
 * the message is S3's for S3 and the "Signature expired: ..." text of the other services (which
 * answer it as SignatureDoesNotMatch / InvalidSignatureException / RequestExpired (ec2)). */
enum nb_sigv4_reason {
    NB_SIGV4_R_NONE = 0,
    NB_SIGV4_R_MALFORMED,   /* header/query/credential/date unreadable (4xx as filled) */
    NB_SIGV4_R_SCHEME,      /* another auth scheme (SigV2), or two at once */
    NB_SIGV4_R_UNSIGNED,    /* a required header is not in SignedHeaders */
    NB_SIGV4_R_SKEW,        /* request time more than 15 minutes off */
    NB_SIGV4_R_EXPIRED,     /* presigned URL past X-Amz-Date + X-Amz-Expires */
    NB_SIGV4_R_SIGNATURE,   /* signature (or chunk/trailer signature) mismatch */
    NB_SIGV4_R_BODY,        /* aws-chunked framing, size or truncation */
    NB_SIGV4_R_NOMEM,       /* out of memory: 503 */
};

/* Does the request carry SigV4 at all? Returns 1 header, 2 presigned query, 0 none
 * (anonymous), -1 when it carries another scheme (SigV2 "AWS AKID:sig") -> e filled. */
int nb_sigv4_detect(const nb_req *r, nb_sigv4_error *e);

/* Parse "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request,
 * SignedHeaders=content-type;host;x-amz-date, Signature=5d67...". Returns 0, or -1 with
 * e = IncompleteSignature (400) and AWS's message naming what is missing. */
int nb_sigv4_parse_header(const char *value, size_t n, nb_sigv4_auth *out, nb_sigv4_error *e);
/* Parse the presigned parameters from a raw query string (X-Amz-Algorithm, -Credential,
 * -Date, -Expires, -SignedHeaders, -Signature, -Security-Token). Returns 0 or -1 with e =
 * AuthorizationQueryParametersError (400). */
int nb_sigv4_parse_presigned(const char *query, size_t n, nb_sigv4_auth *out,
                             nb_sigv4_error *e);

/* Canonical request per AWS: method \n canonical URI \n canonical query \n canonical headers
 * \n signed headers \n payload hash. s3 = true keeps the path as sent (S3 does not normalize
 * or double-encode); otherwise the path is normalized and each segment encoded twice, as
 * the other services expect. For presigned requests X-Amz-Signature is left out of the
 * query. Header values are trimmed and inner runs of spaces folded. */
int nb_sigv4_canonical_request(nb_buf *out, const char *method, const char *path,
                               size_t path_len, const char *query, size_t query_len,
                               const nb_header *h, size_t nh, const char *signed_headers,
                               const char *payload_hash, bool s3, bool presigned);
/* kSigning = HMAC chain over date, region, service, "aws4_request" (cached per tuple). */
void nb_sigv4_signing_key(const char *secret, const char *date, const char *region,
                          const char *service, unsigned char key[32]);
/* "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<hex sha256(creq)>" */
void nb_sigv4_string_to_sign(nb_buf *out, const char *amz_date, const char *date,
                             const char *region, const char *service, const char *creq,
                             size_t creq_len);
/* Hex HMAC-SHA256 of sts with key into out[65]. */
void nb_sigv4_sign_sts(const unsigned char key[32], const char *sts, size_t n, char out[65]);
void nb_sha256_hex(const void *data, size_t n, char out[65]);

/* Verify a parsed auth against the request with the secret key. payload_hash is what goes
 * into the canonical request (the x-amz-content-sha256 value for S3, else the hex SHA-256
 * of the body). now = region clock seconds. Checks, in S3's order: a readable request time,
 * clock skew of 15 minutes (RequestTimeTooSkewed, 403), presigned expiry (AccessDenied
 * "Request has expired", 403; X-Amz-Expires=0 always), the scope's date, required signed
 * headers (host, and x-amz-date when used), then the signature (SignatureDoesNotMatch, 403,
 * message as AWS words it). Constant-time compare. Returns 0 or -1 with e filled. The scope's
 * region and service are the caller's to check (nb_sigv4_check_scope). */
int nb_sigv4_verify(const nb_sigv4_auth *a, const char *secret, const nb_req *r,
                    const char *path, size_t path_len, const char *payload_hash, bool s3,
                    int64_t now, nb_sigv4_error *e);

/* ---- aws-chunked bodies ---- */

enum nb_chunked_mode {
    NB_CHUNKED_SIGNED,          /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    NB_CHUNKED_SIGNED_TRAILER,  /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
    NB_CHUNKED_UNSIGNED_TRAILER /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
};
typedef struct nb_awschunked nb_awschunked;
/* key/amz_date/scope/seed_signature are needed for the signed modes (scope =
 * "<date>/<region>/<service>/aws4_request"); ignored for the unsigned mode. */
nb_awschunked *nb_awschunked_new(enum nb_chunked_mode mode, const unsigned char key[32],
                                 const char *amz_date, const char *scope,
                                 const char *seed_signature);
void nb_awschunked_free(nb_awschunked *d);
/* Feed raw body bytes; decoded payload is appended to out. Returns 0, or -1 with e filled
 * (IncompleteBody / SignatureDoesNotMatch / InvalidChunkSizeError ...). Never buffers more
 * than one chunk header line plus trailer (bounded, 8 KiB). */
int nb_awschunked_feed(nb_awschunked *d, const char *in, size_t n, nb_buf *out,
                       nb_sigv4_error *e);
/* True once the final chunk and trailers were seen and verified. */
bool nb_awschunked_done(const nb_awschunked *d);
/* A trailer value by lowercase name ("x-amz-checksum-crc32"), NULL if absent. */
const char *nb_awschunked_trailer(const nb_awschunked *d, const char *name);
/* Total decoded payload bytes so far (for x-amz-decoded-content-length checks). */
uint64_t nb_awschunked_decoded(const nb_awschunked *d);

/* ---- client side (tests, bench, internal calls) ---- */

/* Sign a request: appends the Authorization value into out for the given headers (which must
 * include host and x-amz-date; x-amz-content-sha256 if s3). */
int nb_sigv4_sign(nb_buf *out, const char *access_key, const char *secret, const char *region,
                  const char *service, const char *amz_date, const char *method,
                  const char *path, const char *query, const nb_header *h, size_t nh,
                  const char *payload_hash, bool s3);

/* ---- additions (sigv4 helper), all additive ---- */

/* nb_sigv4_verify() also completes a header-auth `a` from the request: it fills a->amz_date
 * (X-Amz-Date, or the Date header converted to YYYYMMDDTHHMMSSZ) and a->security_token
 * (x-amz-security-token header) when they are empty, so that a verified auth can seed an
 * aws-chunked decoder and be matched against a session token. The struct is written only there.
 *
 * Payload hash to pass: S3 = the x-amz-content-sha256 value as sent (presigned without that
 * header: "UNSIGNED-PAYLOAD"); other services = hex SHA-256 of the body (botocore also signs
 * non-S3 presigned URLs over the body hash). */

/* Like nb_sigv4_parse_header, choosing the wording: s3 = 1 S3's (AuthorizationHeaderMalformed
 * "The authorization header is malformed; ..."), 0 the other services' (IncompleteSignature
 * "Authorization header requires 'Credential' parameter. ... Authorization=<value>"), -1 decide
 * from the credential scope (service "s3"); nb_sigv4_parse_header() is the -1 case. */
int nb_sigv4_parse_header_ex(const char *value, size_t n, int s3, nb_sigv4_auth *out,
                             nb_sigv4_error *e);

/* Check the scope against where the request arrived, with AWS's messages: S3 -> 400
 * AuthorizationHeaderMalformed / AuthorizationQueryParametersError "... the region 'x' is wrong;
 * expecting 'y'"; others -> 403 SignatureDoesNotMatch "Credential should be scoped to a valid
 * region, not 'x'. " / "... to correct service: 'y'. ". service NULL skips the service check. */
int nb_sigv4_check_scope(const nb_sigv4_auth *a, const char *region, const char *service,
                         bool s3, nb_sigv4_error *e);

/* What the last failed nb_sigv4_verify() on this thread computed, for S3's error bodies
 * (SignatureDoesNotMatch: CanonicalRequest, StringToSign, SignatureProvided, AWSAccessKeyId;
 * RequestTimeTooSkewed: RequestTime, ServerTime, MaxAllowedSkewMilliseconds = 900000;
 * expired presigned: X-Amz-Expires, Expires, ServerTime; unsigned headers: HeadersNotSigned).
 * Thread-local, valid until the next nb_sigv4_verify() on the same thread. Never NULL. */
typedef struct nb_sigv4_detail {
    const char *canonical_request; /* "" when not computed */
    size_t canonical_request_len;
    const char *string_to_sign;
    size_t string_to_sign_len;
    char signature_provided[65];
    char access_key[129];
    char request_time[40];  /* as sent (X-Amz-Date / Date) */
    char server_time[32];   /* "2013-05-24T00:15:00Z" */
    char expires[32];       /* presigned expiry instant, same format */
    int64_t x_amz_expires;
    char headers_not_signed[256]; /* comma-separated lowercase names */
} nb_sigv4_detail;
const nb_sigv4_detail *nb_sigv4_last_detail(void);

/* "YYYYMMDDTHHMMSSZ" -> seconds since the epoch, or -1 if malformed. */
int64_t nb_sigv4_parse_amz_date(const char *s, size_t n);
/* Seconds -> "YYYYMMDDTHHMMSSZ" (out[17]). */
void nb_sigv4_format_amz_date(int64_t t, char out[17]);

/* Client side: the full query string of a presigned URL: `query` (raw, may be "") plus the
 * X-Amz-* parameters, signed over the given headers (must include host) and payload_hash
 * ("UNSIGNED-PAYLOAD" for S3). Returns 0 or NB_NOMEM. */
int nb_sigv4_presign(nb_buf *out, const char *access_key, const char *secret, const char *region,
                     const char *service, const char *amz_date, int64_t expires,
                     const char *security_token, const char *method, const char *path,
                     const char *query, const nb_header *h, size_t nh, const char *payload_hash,
                     bool s3);

/* aws-chunked end of input: returns 0 when the stream is complete (tolerating a missing final
 * CRLF, as S3 does), else -1 with IncompleteBody. nb_awschunked_done() already reports true in
 * those tolerated states, so callers that only check done() at EOF behave the same. */
int nb_awschunked_finish(nb_awschunked *d, nb_sigv4_error *e);
/* Declare x-amz-decoded-content-length: a chunk reaching past it is refused at once and
 * finish() checks the total. */
void nb_awschunked_expect(nb_awschunked *d, uint64_t decoded_length);

#endif
