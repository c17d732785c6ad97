/* hash.h: SHA-256, SHA-1, MD5 and HMAC-SHA256 over OpenSSL's low-level digest functions.
 *
 * Why not EVP: OpenSSL 3's EVP layer loads and initializes its provider machinery on first
 * use, which costs about 2.3 MiB of resident memory in every process (measured on Debian 12),
 * more than a third of Nimbus's idle budget. The low-level SHA256, SHA1 and MD5 functions
 * run the same assembly (SHA-NI where present, ~1.3 GB/s here) without that initialization.
 * They are deprecated in OpenSSL 3 but kept for compatibility; we compile this one file with
 * OPENSSL_API_COMPAT so the rest of the tree never sees them. */
#ifndef NB_CORE_HASH_H
#define NB_CORE_HASH_H

#include "core/nb.h"

/* Opaque-sized contexts (large enough for OpenSSL's structs; checked at compile time). */
typedef struct nb_sha256_ctx {
    _Alignas(8) unsigned char opaque[128];
} nb_sha256_ctx;
typedef struct nb_sha1_ctx {
    _Alignas(8) unsigned char opaque[112];
} nb_sha1_ctx;
typedef struct nb_md5_ctx {
    _Alignas(8) unsigned char opaque[112];
} nb_md5_ctx;

void nb_sha256_init(nb_sha256_ctx *c);
void nb_sha256_update(nb_sha256_ctx *c, const void *p, size_t n);
void nb_sha256_final(nb_sha256_ctx *c, unsigned char out[32]);
void nb_sha256(const void *p, size_t n, unsigned char out[32]);

void nb_sha1_init(nb_sha1_ctx *c);
void nb_sha1_update(nb_sha1_ctx *c, const void *p, size_t n);
void nb_sha1_final(nb_sha1_ctx *c, unsigned char out[20]);

void nb_md5_init(nb_md5_ctx *c);
void nb_md5_update(nb_md5_ctx *c, const void *p, size_t n);
void nb_md5_final(nb_md5_ctx *c, unsigned char out[16]);
void nb_md5(const void *p, size_t n, unsigned char out[16]);

/* HMAC-SHA1 (RFC 2104), for S3's legacy signature version 2. */
void nb_hmac_sha1(const void *key, size_t keylen, const void *msg, size_t n,
                  unsigned char out[20]);
/* HMAC-SHA256 (RFC 2104). */
void nb_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                    unsigned char out[32]);

#endif
