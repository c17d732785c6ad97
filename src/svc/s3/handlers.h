/* handlers.h: what S3's operation handlers share: the open store, AWS-exact errors, input
 * helpers, and the handler functions listed in service.c's table. */
#ifndef NB_SVC_S3_HANDLERS_H
#define NB_SVC_S3_HANDLERS_H

#include "svc/s3/content.h"
#include "svc/s3/s3.h"
#include "svc/service.h"

/* The store, opened by init (one per process; handlers run on many threads, the store is
 * thread-safe). */
extern nb_s3_store *nb_s3_g;
extern char nb_s3_region[64];

/* An S3 error with extra elements: pairs of (name, value) strings, NULL-terminated, e.g.
 * nb_s3_error(c, 404, "NoSuchKey", "The specified key does not exist.", "Key", k, NULL). */
int nb_s3_error(nb_call *c, int status, const char *code, const char *msg, ...);
/* Map a store result to its AWS error (bucket/key give the extra elements). */
int nb_s3_store_error(nb_call *c, int rc, const char *bucket, const char *key);
int nb_s3_internal(nb_call *c, const char *why);
/* 503 SlowDown-free "out of memory" on the request path. */
int nb_s3_nomem(nb_call *c);

/* The owner stored for objects an anonymous caller wrote where the writer owns what it writes
 * (ObjectWriter; BucketOwnerPreferred without bucket-owner-full-control): AWS's anonymous
 * user, canonical id NB_S3_ANON_CANONICAL. Never an account id (those are 12 digits). */
#define NB_S3_ANON_OWNER "anonymous"
#define NB_S3_ANON_CANONICAL "65a011a29cdf8ec533ec3d1ccaae921c"

/* The canonical user id of an account (or of NB_S3_ANON_OWNER). */
void nb_s3_canonical_id(const char *account, char out[65]);
json_t *nb_s3_owner_json(const char *account);

/* The Key member with its length (keys may hold any UTF-8). NULL when absent. */
const char *nb_s3_in_key(nb_call *c, size_t *len);
/* Refuse keys over 1,024 bytes (KeyTooLongError). */
int nb_s3_check_key(nb_call *c, size_t len);
/* The bucket must exist (NoSuchBucket otherwise); fills b. */
int nb_s3_need_bucket(nb_call *c, const char *name, nb_s3_bucket *b);
/* Bucket name rules of AWS (for new buckets). */
bool nb_s3_bucket_name_valid(const char *name);
/* Parse and check a TagSet document (input member value) into canonical JSON text in the
 * arena; object = true applies object limits (10 tags), else bucket limits (50). */
int nb_s3_tags_from_input(nb_call *c, json_t *tagset, bool object, const char **out);
/* x-amz-tagging header ("k=v&k2=v2", URL-encoded) to TagSet JSON text. */
int nb_s3_tags_from_header(nb_call *c, const char *hdr, const char **out);
/* Version id from input: NULL when absent; refuses malformed ones (InvalidArgument). */
int nb_s3_in_version(nb_call *c, const char **out);
/* The preamble of the object handlers: the Key member (*key, *len), refused with
 * InvalidArgument "Key is required" when absent, then, when version is not NULL, the
 * VersionId member as nb_s3_in_version reads it. Returns 0, or -1 with the error set.
 * (Declared here with the other input helpers rather than in s3.h, the store's header.) */
int nb_s3_in_key_version(nb_call *c, const char **key, size_t *len, const char **version);
/* "null" or a version id of ours (32 characters of [A-Za-z0-9._]). */
bool nb_s3_version_id_valid(const char *v);
/* Quote an etag for output: "\"<etag>\"" in the arena. */
const char *nb_s3_quote(nb_call *c, const char *etag);
/* Append an extra raw response header (name/value copied into the arena). */
void nb_s3_add_header(nb_call *c, const char *name, const char *value);

/* buckets (bucket.c) */
int nb_s3_op_list_buckets(nb_call *c);
int nb_s3_op_create_bucket(nb_call *c);
int nb_s3_op_head_bucket(nb_call *c);
int nb_s3_op_delete_bucket(nb_call *c);
int nb_s3_op_get_bucket_location(nb_call *c);
int nb_s3_op_get_bucket_versioning(nb_call *c);
int nb_s3_op_put_bucket_versioning(nb_call *c);
int nb_s3_op_get_bucket_tagging(nb_call *c);
int nb_s3_op_put_bucket_tagging(nb_call *c);
int nb_s3_op_delete_bucket_tagging(nb_call *c);
/* listing (listops.c) */
int nb_s3_op_list_objects(nb_call *c);
int nb_s3_op_list_objects_v2(nb_call *c);
int nb_s3_op_list_object_versions(nb_call *c);
/* objects (object.c) */
int nb_s3_op_put_object(nb_call *c);
int nb_s3_op_get_object(nb_call *c);
int nb_s3_op_head_object(nb_call *c);
int nb_s3_op_delete_object(nb_call *c);
int nb_s3_op_delete_objects(nb_call *c);
int nb_s3_op_copy_object(nb_call *c);
int nb_s3_op_get_object_tagging(nb_call *c);
int nb_s3_op_put_object_tagging(nb_call *c);
int nb_s3_op_delete_object_tagging(nb_call *c);
/* browser POST uploads (postobject.c), the service's form_post hook */
int nb_s3_post_object(nb_call *c);
/* multipart (multipart.c) */
int nb_s3_op_create_multipart_upload(nb_call *c);
int nb_s3_op_upload_part(nb_call *c);
int nb_s3_op_upload_part_copy(nb_call *c);
int nb_s3_op_complete_multipart_upload(nb_call *c);
int nb_s3_op_abort_multipart_upload(nb_call *c);
int nb_s3_op_list_parts(nb_call *c);
int nb_s3_op_list_multipart_uploads(nb_call *c);

/* Shared by PutObject, UploadPart, copies (object.c): stream from read_fn into a new content
 * file, checking Content-MD5 and the S3 checksum the request names (header or trailer). */
typedef struct nb_s3_ingest {
    /* in */
    nb_cksum_algo ck_algo;     /* the checksum to compute (NB_CKSUM_NONE = none) */
    const char *ck_expect;     /* its expected base64 value from a header, or NULL */
    const char *ck_trailer;    /* header name of a trailing checksum, or NULL */
    const unsigned char *md5_expect; /* 16 bytes or NULL */
    int64_t max_size;
    int64_t inline_max;        /* largest body kept inline (-1, the default: always a file) */
    const nb_s3_sse *sse;      /* encryption to apply, or NULL */
    bool ck64;                 /* also a CRC64NVME (S3's default checksum), into ck64_b64 */
    /* out */
    bool is_inline;            /* no file: the stored bytes are data[0..size) (arena) */
    const void *data;
    unsigned char enc[NB_S3_ENC_MAX]; /* encryption record, enc_len 0 when not encrypted */
    size_t enc_len;
    char blob[40];             /* "" when inline */
    int64_t size;
    unsigned char md5[16];
    char etag[33];
    char ck_b64[NB_CKSUM_MAX_B64];
    char ck64_b64[NB_CKSUM_MAX_B64];
    unsigned char *crcs; /* arena */
    size_t crcs_len;
} nb_s3_ingest;
/* Read the request body (nb_call_read) into a new file. On success the file is durable and
 * the caller must either commit metadata naming it or nb_s3_content_unlink it. */
int nb_s3_ingest_body(nb_call *c, nb_s3_ingest *in);
/* Decide the checksum algorithm and expected value of an upload from its headers. */
int nb_s3_ingest_prepare(nb_call *c, nb_s3_ingest *in);
/* The x-amz-checksum-<algorithm> value an upload carries, as S3 checks it: at most one, the
 * base64 of the algorithm's length (400 InvalidRequest otherwise). get(ud, name) reads a
 * header or a form field; *algo is NB_CKSUM_NONE when there is none. 0, or -1 with the error
 * set. nb_s3_checksum_unsupported: S3's error for an unknown algorithm name. */
int nb_s3_checksum_given(nb_call *c, const char *(*get)(void *ud, const char *name), void *ud,
                         nb_cksum_algo *algo, const char **expect);
int nb_s3_checksum_unsupported(nb_call *c);

/* Copy source "bucket/key?versionId=x" (URL-encoded) into parts, arena strings. */
int nb_s3_parse_copy_source(nb_call *c, const char *src, const char **bucket, const char **key,
                            size_t *key_len, const char **version);
/* Copy-source conditions (x-amz-copy-source-if-*) against an object: 412 PreconditionFailed. */
int nb_s3_copy_conditions(nb_call *c, const nb_s3_object *o);
/* Read [off, off+len) of an object (single, inline or multipart) into a writer, verifying
 * and decrypting (key: the copy source's SSE-C key, checked by the caller, or mode NONE). */
int nb_s3_copy_range(nb_call *c, const nb_s3_object *o, int64_t off, int64_t len,
                     const nb_s3_sse *key, nb_s3_writer *w);
/* Stored attributes of a new object from the request (system headers, user metadata, SSE). */
int nb_s3_build_attrs(nb_call *c, const char **out);
/* StorageClass member, validated (InvalidStorageClass); "STANDARD" when absent. */
int nb_s3_storage_class(nb_call *c, const char **out);
/* If-None-Match: * / If-Match of a write. */
int nb_s3_write_conditions(nb_call *c, nb_s3_write_cond *cond);
/* Output member name of a checksum algorithm ("ChecksumCRC32"), NULL for none. */
const char *nb_s3_ck_member(nb_cksum_algo a);
/* The service's body_check (service.h): Content-MD5 / x-amz-checksum-* of a non-streaming
 * body must match it (BadDigest). */
int nb_s3_body_check(nb_call *c);
/* The ChecksumType of a stored checksum value: "COMPOSITE" for a multipart checksum of the
 * parts' checksums ("...-<parts>"), else "FULL_OBJECT" (a checksum of the whole object). */
const char *nb_s3_ck_type(const char *value);
/* Add ChecksumType to doc for the Checksum<algo> member it has (nothing when it has none). */
void nb_s3_ck_type_add(json_t *doc);
/* Parse a Range header against size: 1 = range (start, end inclusive), 0 = no/ignored range,
 * -1 = unsatisfiable. */
int nb_s3_parse_range(const char *h, int64_t size, int64_t *start, int64_t *end);
/* Access to a bucket read by other means than nb_s3_need_bucket (GET/HEAD fast path). */
int nb_s3_bucket_access(nb_call *c, const nb_s3_bucket *b);

/* encryption at rest (encryption.c) */
/* What a write asks for: SSE-C headers, x-amz-server-side-encryption, else the bucket's own
 * default (b may be NULL); aws:kms and malformed requests refused as AWS does. */
int nb_s3_sse_for_write(nb_call *c, const nb_s3_bucket *b, nb_s3_sse *out);
/* SSE-C key headers of a read (copy_source: x-amz-copy-source-server-side-encryption-
 * customer-*); out->mode NB_S3_SSE_NONE when absent. */
int nb_s3_sse_customer(nb_call *c, bool copy_source, nb_s3_sse *out);
/* May content with this record be read with key (the request's SSE-C key or none)? 400/403. */
int nb_s3_sse_check_read(nb_call *c, const unsigned char *enc, size_t enc_len,
                         const nb_s3_sse *key);
/* Output members of a write under sse (ServerSideEncryption, or the SSE-C pair). */
void nb_s3_sse_output(json_t *out, const char *attrs_sse, const nb_s3_sse *sse);
/* Stored attributes with their encryption members replaced by sse's (copies). */
const char *nb_s3_attrs_sse(nb_call *c, const char *attrs, const nb_s3_sse *sse);
int nb_s3_op_put_bucket_encryption(nb_call *c);
int nb_s3_op_get_bucket_encryption(nb_call *c);
int nb_s3_op_delete_bucket_encryption(nb_call *c);
/* extras.c: subresources answered as for a bucket that never had them, GetObjectAttributes
 * (logging, acceleration, Requester Pays, Id-keyed configurations: bucketcfg.h) */
int nb_s3_op_get_bucket_replication(nb_call *c);
int nb_s3_op_delete_bucket_replication(nb_call *c);
int nb_s3_op_get_object_attributes(nb_call *c);
/* Object Lock (lock.c) */
int nb_s3_op_put_object_lock_configuration(nb_call *c);
int nb_s3_op_get_object_lock_configuration(nb_call *c);
int nb_s3_op_put_object_retention(nb_call *c);
int nb_s3_op_get_object_retention(nb_call *c);
int nb_s3_op_put_object_legal_hold(nb_call *c);
int nb_s3_op_get_object_legal_hold(nb_call *c);
/* The lock a write asks for with x-amz-object-lock-mode / -retain-until-date / -legal-hold
 * (*asked: any of them was sent), validated as AWS does (InvalidRequest on a bucket without
 * Object Lock, InvalidArgument for a lone mode or date, one in the past, unknown values). */
int nb_s3_lock_from_request(nb_call *c, const nb_s3_bucket *b, nb_s3_lock *l, bool *asked);
/* Fill a lock without a retention mode from b's default retention, counted from now (nothing
 * when b has no Object Lock or no default rule). */
int nb_s3_lock_default(nb_call *c, const nb_s3_bucket *b, double now, nb_s3_lock *l);
/* GET/HEAD output members of a version's lock in bucket b (those the caller may read). */
void nb_s3_lock_output(nb_call *c, const nb_s3_bucket *b, json_t *out, const nb_s3_lock *l);
/* 0 when the caller may use x-amz-bypass-governance-retention on bucket/key
 * (s3:BypassGovernanceRetention), else -1 with AccessDenied set. */
int nb_s3_may_bypass(nb_call *c, const char *bucket, const char *key, size_t key_len);
/* Content-MD5 or an x-amz-checksum-* header must come with the body and match it (AWS:
 * BadDigest, or InvalidRequest when neither is sent): DeleteObjects, the Object Lock puts. */
int nb_s3_body_digest_check(nb_call *c);

#endif
