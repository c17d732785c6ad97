/* hash.c: digests over OpenSSL's low-level API (see hash.h for why not EVP). */
#define OPENSSL_API_COMPAT 0x10100000L
#include "core/hash.h"

#include <openssl/md5.h>
#include <openssl/sha.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(nb_sha256_ctx), "nb_sha256_ctx too small");
_Static_assert(sizeof(SHA_CTX) <= sizeof(nb_sha1_ctx), "nb_sha1_ctx too small");
_Static_assert(sizeof(MD5_CTX) <= sizeof(nb_md5_ctx), "nb_md5_ctx too small");

void nb_sha256_init(nb_sha256_ctx *c) { SHA256_Init((SHA256_CTX *)c->opaque); }
void nb_sha256_update(nb_sha256_ctx *c, const void *p, size_t n)
{
    SHA256_Update((SHA256_CTX *)c->opaque, p, n);
}
void nb_sha256_final(nb_sha256_ctx *c, unsigned char out[32])
{
    SHA256_Final(out, (SHA256_CTX *)c->opaque);
}
void nb_sha256(const void *p, size_t n, unsigned char out[32])
{
    nb_sha256_ctx c;
    nb_sha256_init(&c);
    nb_sha256_update(&c, p, n);
    nb_sha256_final(&c, out);
}

void nb_sha1_init(nb_sha1_ctx *c) { SHA1_Init((SHA_CTX *)c->opaque); }
void nb_sha1_update(nb_sha1_ctx *c, const void *p, size_t n) { SHA1_Update((SHA_CTX *)c->opaque, p, n); }
void nb_sha1_final(nb_sha1_ctx *c, unsigned char out[20]) { SHA1_Final(out, (SHA_CTX *)c->opaque); }

void nb_md5_init(nb_md5_ctx *c) { MD5_Init((MD5_CTX *)c->opaque); }
void nb_md5_update(nb_md5_ctx *c, const void *p, size_t n) { MD5_Update((MD5_CTX *)c->opaque, p, n); }
void nb_md5_final(nb_md5_ctx *c, unsigned char out[16]) { MD5_Final(out, (MD5_CTX *)c->opaque); }
void nb_md5(const void *p, size_t n, unsigned char out[16])
{
    nb_md5_ctx c;
    nb_md5_init(&c);
    nb_md5_update(&c, p, n);
    nb_md5_final(&c, out);
}

void nb_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                    unsigned char out[32])
{
    unsigned char k[64] = {0}, pad[64], inner[32];
    if (keylen > 64)
        nb_sha256(key, keylen, k);
    else if (keylen)
        memcpy(k, key, keylen);
    nb_sha256_ctx c;
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
    nb_sha256_init(&c);
    nb_sha256_update(&c, pad, 64);
    nb_sha256_update(&c, msg, n);
    nb_sha256_final(&c, inner);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
    nb_sha256_init(&c);
    nb_sha256_update(&c, pad, 64);
    nb_sha256_update(&c, inner, 32);
    nb_sha256_final(&c, out);
}

void nb_hmac_sha1(const void *key, size_t keylen, const void *msg, size_t n,
                  unsigned char out[20])
{
    unsigned char k[64] = {0}, pad[64], inner[20];
    nb_sha1_ctx c;
    if (keylen > 64) {
        nb_sha1_init(&c);
        nb_sha1_update(&c, key, keylen);
        nb_sha1_final(&c, k);
    } else if (keylen) {
        memcpy(k, key, keylen);
    }
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
    nb_sha1_init(&c);
    nb_sha1_update(&c, pad, 64);
    nb_sha1_update(&c, msg, n);
    nb_sha1_final(&c, inner);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
    nb_sha1_init(&c);
    nb_sha1_update(&c, pad, 64);
    nb_sha1_update(&c, inner, 20);
    nb_sha1_final(&c, out);
}
