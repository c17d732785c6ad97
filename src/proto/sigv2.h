/* sigv2.h: S3's legacy signature version 2 (HMAC-SHA1), which older clients still send:
 * Debian's boto3 1.26 makes SigV2 presigned URLs by default, and some tools sign headers
 * with "Authorization: AWS AKID:signature". S3 still accepts both; so does Nimbus, for S3. */
#ifndef NB_PROTO_SIGV2_H
#define NB_PROTO_SIGV2_H

#include "core/nb.h"
#include "http/http.h"
#include "proto/sigv4.h"

typedef struct nb_sigv2_auth {
    bool presigned;
    char access_key[129];
    char signature[129]; /* base64, decoded from the query when presigned */
    int64_t expires;     /* presigned: the Expires epoch seconds */
} nb_sigv2_auth;

/* 1 header, 2 presigned query, 0 not SigV2. On a malformed SigV2 header returns -1 with e. */
int nb_sigv2_detect(const nb_req *r, nb_sigv2_auth *out, nb_sigv4_error *e);
/* Verify against secret. bucket_prefix is "/bucket" for virtual-hosted requests (the path
 * then lacks it), else "". now = host seconds (Date within 15 minutes; presigned expiry).
 * Returns 0, or -1 with e = SignatureDoesNotMatch / AccessDenied / RequestTimeTooSkewed.
 * The string to sign is left in *sts_out (malloc'd, caller frees) when sts_out is not NULL. */
int nb_sigv2_verify(const nb_sigv2_auth *a, const char *secret, const nb_req *r,
                    const char *bucket_prefix, int64_t now, nb_sigv4_error *e, char **sts_out);

#endif
