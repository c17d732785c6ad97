/* encryption.c: what a request asks of encryption at rest (x-amz-server-side-encryption,
 * the SSE-C key headers, the bucket's default encryption), AWS's refusals, the response
 * members, and Put/Get/DeleteBucketEncryption. The cipher work is in sse.c. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "core/hash.h"
#include "svc/s3/handlers.h"

static int kms_refused(nb_call *c)
{
    return nb_s3_error(c, 501, "NotImplemented",
                       "Server-side encryption with AWS KMS keys (aws:kms, aws:kms:dsse) needs a"
                       " key management service, which this server does not have yet. Use"
                       " AES256 (SSE-S3) or customer-provided keys (SSE-C).",
                       "Header", "x-amz-server-side-encryption", NULL);
}

/* SSE-C headers under prefix ("" or "CopySource"). */
static int customer_key(nb_call *c, const char *prefix, nb_s3_sse *out)
{
    const char *m_alg = "SSECustomerAlgorithm", *m_key = "SSECustomerKey",
               *m_md5 = "SSECustomerKeyMD5";
    char b_alg[64], b_key[64], b_md5[64];
    if (*prefix) { /* CopySource...: every PUT comes here, most without a prefix */
        snprintf(b_alg, sizeof b_alg, "%s%s", prefix, m_alg);
        snprintf(b_key, sizeof b_key, "%s%s", prefix, m_key);
        snprintf(b_md5, sizeof b_md5, "%s%s", prefix, m_md5);
        m_alg = b_alg, m_key = b_key, m_md5 = b_md5;
    }
    const char *alg = nb_in_str(c, m_alg), *key = nb_in_str(c, m_key), *md5 = nb_in_str(c, m_md5);
    memset(out, 0, sizeof *out);
    if (!alg && !key && !md5) return 0;
    if (!alg)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Requests specifying Server Side Encryption with Customer provided keys"
                           " must provide a valid encryption algorithm.",
                           NULL);
    if (strcmp(alg, "AES256") != 0)
        return nb_s3_error(c, 400, "InvalidEncryptionAlgorithmError",
                           "The encryption request that you specified is not valid. The valid"
                           " value is AES256.",
                           "ArgumentName", "x-amz-server-side-encryption", "ArgumentValue", alg,
                           NULL);
    if (!key)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Requests specifying Server Side Encryption with Customer provided keys"
                           " must provide an appropriate secret key.",
                           NULL);
    unsigned char raw[64];
    size_t kn = strlen(key);
    ssize_t k = kn <= 60 ? nb_base64_decode(key, kn, raw) : -1;
    if (k != 32)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "The secret key was invalid for the specified algorithm.", NULL);
    if (!md5)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Requests specifying Server Side Encryption with Customer provided keys"
                           " must provide the client calculated MD5 of the secret key.",
                           NULL);
    unsigned char dig[16];
    char b64[32];
    nb_md5(raw, 32, dig);
    nb_base64_encode(dig, 16, b64);
    if (strcmp(b64, md5) != 0)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "The calculated MD5 hash of the key did not match the hash that was"
                           " provided.",
                           NULL);
    out->mode = NB_S3_SSE_C;
    memcpy(out->key, raw, 32);
    snprintf(out->key_md5, sizeof out->key_md5, "%s", b64);
    return 0;
}

int nb_s3_sse_customer(nb_call *c, bool copy_source, nb_s3_sse *out)
{
    /* GET, HEAD and UploadPart take only SSE-C's headers: AWS answers 400 to
     * x-amz-server-side-encryption there, whatever the object's encryption */
    const char *sse = copy_source ? NULL : nb_call_header(c, "x-amz-server-side-encryption");
    if (sse) {
        memset(out, 0, sizeof *out);
        return nb_s3_error(c, 400, "InvalidArgument",
                           "x-amz-server-side-encryption header is not supported for this"
                           " operation.",
                           "ArgumentName", "x-amz-server-side-encryption", "ArgumentValue", sse,
                           NULL);
    }
    return customer_key(c, copy_source ? "CopySource" : "", out);
}

int nb_s3_sse_for_write(nb_call *c, const nb_s3_bucket *b, nb_s3_sse *out)
{
    if (customer_key(c, "", out)) return -1;
    const char *sse = nb_in_str(c, "ServerSideEncryption");
    if (out->mode == NB_S3_SSE_C) {
        if (sse)
            return nb_s3_error(c, 400, "InvalidArgument",
                               "Server Side Encryption with Customer provided key is incompatible"
                               " with the encryption method specified",
                               "ArgumentName", "x-amz-server-side-encryption", "ArgumentValue",
                               sse, NULL);
        return 0;
    }
    if (sse) {
        if (strncmp(sse, "aws:kms", 7) == 0) return kms_refused(c);
        if (strcmp(sse, "AES256") != 0)
            return nb_s3_error(c, 400, "InvalidArgument",
                               "The encryption method specified is not supported",
                               "ArgumentName", "x-amz-server-side-encryption", "ArgumentValue",
                               sse, NULL);
        out->mode = NB_S3_SSE_S3;
    } else if (b && strcmp(b->encryption, "AES256") == 0) {
        out->mode = NB_S3_SSE_S3; /* the bucket's own default encryption */
    }
    if (nb_in_str(c, "SSEKMSKeyId"))
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Server Side Encryption with AWS KMS managed key requires HTTP header"
                           " x-amz-server-side-encryption : aws:kms",
                           NULL);
    out->bucket_key = nb_in_bool(c, "BucketKeyEnabled", false);
    return 0;
}

int nb_s3_sse_check_read(nb_call *c, const unsigned char *enc, size_t enc_len,
                         const nb_s3_sse *key)
{
    int mode = nb_s3_enc_mode(enc, enc_len);
    if (mode < 0) return nb_s3_internal(c, "unknown encryption record");
    if (mode == NB_S3_SSE_C) {
        if (key->mode != NB_S3_SSE_C)
            return nb_s3_error(c, 400, "InvalidRequest",
                               "The object was stored using a form of Server Side Encryption. The"
                               " correct parameters must be provided to retrieve the object.",
                               NULL);
        if (!nb_s3_enc_key_ok(enc, enc_len, key))
            return nb_s3_error(c, 403, "AccessDenied", "Access Denied", NULL);
        return 0;
    }
    if (key->mode == NB_S3_SSE_C)
        return nb_s3_error(c, 400, "InvalidRequest",
                           "The encryption parameters are not applicable to this object.", NULL);
    return 0;
}

void nb_s3_sse_output(json_t *out, const char *attrs_sse, const nb_s3_sse *sse)
{
    if (sse->mode == NB_S3_SSE_C) {
        json_object_del(out, "ServerSideEncryption");
        json_object_set_new(out, "SSECustomerAlgorithm", json_string("AES256"));
        json_object_set_new(out, "SSECustomerKeyMD5", json_string(sse->key_md5));
        return;
    }
    json_object_set_new(out, "ServerSideEncryption", json_string(attrs_sse ? attrs_sse : "AES256"));
    if (sse->bucket_key) json_object_set_new(out, "BucketKeyEnabled", json_true());
}

const char *nb_s3_attrs_sse(nb_call *c, const char *attrs, const nb_s3_sse *sse)
{
    json_t *a = attrs ? json_loads(attrs, 0, NULL) : NULL;
    if (!a) a = json_object();
    json_object_del(a, "SSECustomerAlgorithm");
    json_object_del(a, "SSECustomerKeyMD5");
    json_object_del(a, "SSEKMSKeyId");
    json_object_del(a, "BucketKeyEnabled");
    nb_s3_sse_output(a, "AES256", sse);
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    const char *r = s ? nb_arena_strdup(c->arena, s) : NULL;
    free(s);
    return r;
}

/* ---------------------------------------------------------------- bucket default encryption */

int nb_s3_op_put_bucket_encryption(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    json_t *cfg = json_object_get(c->input, "ServerSideEncryptionConfiguration");
    json_t *rules = json_object_get(cfg, "Rules");
    if (!json_is_array(rules) || json_array_size(rules) != 1)
        return nb_s3_error(c, 400, "MalformedXML",
                           "The XML you provided was not well-formed or did not validate against"
                           " our published schema",
                           NULL);
    json_t *rule = json_array_get(rules, 0);
    json_t *def = json_object_get(rule, "ApplyServerSideEncryptionByDefault");
    const char *alg = json_string_value(json_object_get(def, "SSEAlgorithm"));
    const char *kid = json_string_value(json_object_get(def, "KMSMasterKeyID"));
    if (!alg)
        return nb_s3_error(c, 400, "MalformedXML",
                           "The XML you provided was not well-formed or did not validate against"
                           " our published schema",
                           NULL);
    if (strncmp(alg, "aws:kms", 7) == 0) return kms_refused(c);
    if (strcmp(alg, "AES256") != 0)
        return nb_s3_error(c, 400, "MalformedXML",
                           "The XML you provided was not well-formed or did not validate against"
                           " our published schema",
                           NULL);
    if (kid)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "a KMSMasterKeyID is not applicable if the default sse algorithm is not"
                           " aws:kms or aws:kms:dsse",
                           "ArgumentName", "ApplyServerSideEncryptionByDefault", NULL);
    json_t *doc = json_pack("{s:[{s:{s:s},s:b}]}", "Rules", "ApplyServerSideEncryptionByDefault",
                            "SSEAlgorithm", alg, "BucketKeyEnabled",
                            json_is_true(json_object_get(rule, "BucketKeyEnabled")));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text) return nb_s3_nomem(c);
    int rc = nb_s3_bucket_set_encryption(nb_s3_g, bucket, text, alg);
    free(text);
    return rc ? nb_s3_store_error(c, rc, bucket, NULL) : 0;
}

int nb_s3_op_get_bucket_encryption(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    const char *cfg;
    int rc = nb_s3_bucket_get_encryption(nb_s3_g, bucket, c->arena, &cfg);
    if (rc) return nb_s3_store_error(c, rc, bucket, NULL);
    json_t *doc = cfg ? json_loads(cfg, 0, NULL) : NULL;
    /* Since January 2023 every bucket has SSE-S3 as its default, and AWS answers so. */
    if (!doc)
        doc = json_pack("{s:[{s:{s:s},s:b}]}", "Rules", "ApplyServerSideEncryptionByDefault",
                        "SSEAlgorithm", "AES256", "BucketKeyEnabled", 0);
    c->output = json_pack("{s:o}", "ServerSideEncryptionConfiguration", doc);
    return 0;
}

int nb_s3_op_delete_bucket_encryption(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    int rc = nb_s3_bucket_set_encryption(nb_s3_g, bucket, NULL, NULL);
    return rc ? nb_s3_store_error(c, rc, bucket, NULL) : 0;
}
