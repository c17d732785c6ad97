/* lazylib.c: libcrypto, libssl and zlib, loaded on first use instead of at start-up.
 *
 * Why: every linked library is mapped and relocated at exec, and its initialisers run, whether
 * or not the process ever calls it. For OpenSSL that cost 1.7 MiB of an idle server's 7.5 MiB
 * (libcrypto's relocation alone reads ~0.8 MiB of its .rela.dyn and dirties 0.4 MiB of
 * .data.rel.ro), zlib 84 KiB, although an idle server hashes, encrypts and compresses
 * nothing. So the binary is linked with none of them. This file defines, under the libraries'
 * own names and prototypes (their headers are included, so the compiler checks each one), a
 * forwarder for every function of theirs that Nimbus calls; the first call into a library
 * dlopen()s it (RTLD_LOCAL) and resolves that library's whole list at once. Callers are
 * unchanged. The executable exports none of these names (no linked library refers to them),
 * so they never interpose on the libraries' calls to themselves. (libxml2 is loaded the same
 * way, with its own small wrapper: proto/xmllib.c.)
 *
 * Adding a call elsewhere: a link error ("undefined reference to X") says to add X to
 * CRYPTO_FNS, SSL_FNS or ZLIB_FNS below, with its exact prototype. A missing library aborts
 * with a message at its first use: Debian's package dependencies make that an installation
 * fault. */
#define OPENSSL_API_COMPAT 0x10100000L
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zlib.h>

/* F(return type, name, (parameters), (arguments)); V(...) for functions returning void. */
#define CRYPTO_FNS(F, V)                                                                           \
    F(int, ASN1_INTEGER_set_uint64, (ASN1_INTEGER * a, uint64_t r), (a, r))                        \
    F(int, ASN1_TIME_to_tm, (const ASN1_TIME *s, struct tm *tm), (s, tm))                          \
    F(BIGNUM *, BN_bin2bn, (const unsigned char *s, int len, BIGNUM *ret), (s, len, ret))          \
    F(int, BN_bn2bin, (const BIGNUM *a, unsigned char *to), (a, to))                               \
    V(BN_free, (BIGNUM * a), (a))                                                                  \
    F(int, BN_num_bits, (const BIGNUM *a), (a))                                                    \
    F(int, EVP_Digest,                                                                             \
      (const void *data, size_t count, unsigned char *md, unsigned int *size, const EVP_MD *type,  \
       ENGINE *impl),                                                                              \
      (data, count, md, size, type, impl))                                                         \
    V(EVP_PKEY_CTX_free, (EVP_PKEY_CTX * ctx), (ctx))                                              \
    F(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_name,                                                  \
      (OSSL_LIB_CTX * libctx, const char *name, const char *propquery), (libctx, name, propquery)) \
    F(int, EVP_PKEY_fromdata,                                                                      \
      (EVP_PKEY_CTX * ctx, EVP_PKEY * *ppkey, int selection, OSSL_PARAM param[]),                  \
      (ctx, ppkey, selection, param))                                                              \
    F(int, EVP_PKEY_fromdata_init, (EVP_PKEY_CTX * ctx), (ctx))                                    \
    F(int, EVP_PKEY_get_base_id, (const EVP_PKEY *pkey), (pkey))                                   \
    F(int, EVP_PKEY_get_bits, (const EVP_PKEY *pkey), (pkey))                                      \
    F(int, EVP_PKEY_get_bn_param, (const EVP_PKEY *pkey, const char *key_name, BIGNUM **bn),       \
      (pkey, key_name, bn))                                                                        \
    F(const EVP_MD *, EVP_md5, (void), ())                                                         \
    F(unsigned char *, HMAC,                                                                       \
      (const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *data,              \
       size_t data_len, unsigned char *md, unsigned int *md_len),                                  \
      (evp_md, key, key_len, data, data_len, md, md_len))                                          \
    V(OSSL_PARAM_BLD_free, (OSSL_PARAM_BLD * bld), (bld))                                          \
    F(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_new, (void), ())                                            \
    F(int, OSSL_PARAM_BLD_push_BN, (OSSL_PARAM_BLD * bld, const char *key, const BIGNUM *bn),      \
      (bld, key, bn))                                                                              \
    F(OSSL_PARAM *, OSSL_PARAM_BLD_to_param, (OSSL_PARAM_BLD * bld), (bld))                        \
    V(OSSL_PARAM_free, (OSSL_PARAM * p), (p))                                                      \
    F(EVP_PKEY *, PEM_read_bio_PUBKEY, (BIO * bp, EVP_PKEY * *x, pem_password_cb * cb, void *u),   \
      (bp, x, cb, u))                                                                              \
    F(X509 *, PEM_read_bio_X509, (BIO * bp, X509 * *x, pem_password_cb * cb, void *u),             \
      (bp, x, cb, u))                                                                              \
    F(int, PEM_write_bio_PUBKEY, (BIO * bp, const EVP_PKEY *x), (bp, x))                           \
    F(int, X509_check_private_key, (const X509 *x509, const EVP_PKEY *pkey), (x509, pkey))         \
    F(int, X509_digest,                                                                            \
      (const X509 *data, const EVP_MD *type, unsigned char *md, unsigned int *len),                \
      (data, type, md, len))                                                                       \
    F(const ASN1_TIME *, X509_get0_notAfter, (const X509 *x), (x))                                 \
    F(EVP_PKEY *, X509_get_pubkey, (X509 * x), (x))                                                \
    F(long, BIO_ctrl, (BIO * b, int cmd, long larg, void *parg), (b, cmd, larg, parg))             \
    F(int, BIO_free, (BIO * a), (a))                                                               \
    F(BIO *, BIO_new, (const BIO_METHOD *type), (type))                                            \
    F(BIO *, BIO_new_mem_buf, (const void *buf, int len), (buf, len))                              \
    F(const BIO_METHOD *, BIO_s_mem, (void), ())                                                   \
    F(int, CRYPTO_memcmp, (const void *a, const void *b, size_t len), (a, b, len))                 \
    V(ERR_clear_error, (void), ())                                                                 \
    V(ERR_error_string_n, (unsigned long e, char *buf, size_t len), (e, buf, len))                 \
    F(unsigned long, ERR_get_error, (void), ())                                                    \
    F(int, EVP_CIPHER_CTX_ctrl, (EVP_CIPHER_CTX * c, int type, int arg, void *ptr),                \
      (c, type, arg, ptr))                                                                         \
    V(EVP_CIPHER_CTX_free, (EVP_CIPHER_CTX * c), (c))                                              \
    F(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_new, (void), ())                                            \
    F(int, EVP_DecryptFinal_ex, (EVP_CIPHER_CTX * c, unsigned char *out, int *outl),               \
      (c, out, outl))                                                                              \
    F(int, EVP_DecryptInit_ex,                                                                     \
      (EVP_CIPHER_CTX * c, const EVP_CIPHER *cipher, ENGINE *impl, const unsigned char *key,       \
       const unsigned char *iv),                                                                   \
      (c, cipher, impl, key, iv))                                                                  \
    F(int, EVP_DecryptUpdate,                                                                      \
      (EVP_CIPHER_CTX * c, unsigned char *out, int *outl, const unsigned char *in, int inl),       \
      (c, out, outl, in, inl))                                                                     \
    F(int, EVP_EncryptFinal_ex, (EVP_CIPHER_CTX * c, unsigned char *out, int *outl),               \
      (c, out, outl))                                                                              \
    F(int, EVP_EncryptInit_ex,                                                                     \
      (EVP_CIPHER_CTX * c, const EVP_CIPHER *cipher, ENGINE *impl, const unsigned char *key,       \
       const unsigned char *iv),                                                                   \
      (c, cipher, impl, key, iv))                                                                  \
    F(int, EVP_EncryptUpdate,                                                                      \
      (EVP_CIPHER_CTX * c, unsigned char *out, int *outl, const unsigned char *in, int inl),       \
      (c, out, outl, in, inl))                                                                     \
    F(int, EVP_DigestSign,                                                                         \
      (EVP_MD_CTX * c, unsigned char *sig, size_t *siglen, const unsigned char *tbs,               \
       size_t tbslen),                                                                             \
      (c, sig, siglen, tbs, tbslen))                                                               \
    F(int, EVP_DigestSignInit,                                                                     \
      (EVP_MD_CTX * c, EVP_PKEY_CTX * *pctx, const EVP_MD *type, ENGINE *e, EVP_PKEY *pkey),       \
      (c, pctx, type, e, pkey))                                                                    \
    F(int, EVP_DigestVerify,                                                                       \
      (EVP_MD_CTX * c, const unsigned char *sig, size_t siglen, const unsigned char *tbs,          \
       size_t tbslen),                                                                             \
      (c, sig, siglen, tbs, tbslen))                                                               \
    F(int, EVP_DigestVerifyInit,                                                                   \
      (EVP_MD_CTX * c, EVP_PKEY_CTX * *pctx, const EVP_MD *type, ENGINE *e, EVP_PKEY *pkey),       \
      (c, pctx, type, e, pkey))                                                                    \
    V(EVP_MD_CTX_free, (EVP_MD_CTX * c), (c))                                                      \
    F(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())                                                    \
    V(EVP_PKEY_free, (EVP_PKEY * k), (k))                                                          \
    F(const EVP_CIPHER *, EVP_aes_256_ctr, (void), ())                                             \
    F(const EVP_CIPHER *, EVP_aes_256_gcm, (void), ())                                             \
    F(const EVP_MD *, EVP_sha1, (void), ())                                                        \
    F(const EVP_MD *, EVP_sha256, (void), ())                                                      \
    F(int, MD5_Final, (unsigned char *md, MD5_CTX *c), (md, c))                                    \
    F(int, MD5_Init, (MD5_CTX * c), (c))                                                           \
    F(int, MD5_Update, (MD5_CTX * c, const void *data, size_t len), (c, data, len))                \
    V(OPENSSL_cleanse, (void *p, size_t len), (p, len))                                            \
    F(EVP_PKEY *, PEM_read_bio_PrivateKey,                                                         \
      (BIO * b, EVP_PKEY * *x, pem_password_cb * cb, void *u), (b, x, cb, u))                      \
    F(int, PEM_write_bio_PrivateKey,                                                               \
      (BIO * b, const EVP_PKEY *x, const EVP_CIPHER *enc, const unsigned char *kstr, int klen,     \
       pem_password_cb *cb, void *u),                                                              \
      (b, x, enc, kstr, klen, cb, u))                                                              \
    F(int, PEM_write_bio_X509, (BIO * b, const X509 *x), (b, x))                                   \
    F(int, PKCS5_PBKDF2_HMAC,                                                                      \
      (const char *pass, int passlen, const unsigned char *salt, int saltlen, int iter,            \
       const EVP_MD *digest, int keylen, unsigned char *out),                                      \
      (pass, passlen, salt, saltlen, iter, digest, keylen, out))                                   \
    F(int, SHA1_Final, (unsigned char *md, SHA_CTX *c), (md, c))                                   \
    F(int, SHA1_Init, (SHA_CTX * c), (c))                                                          \
    F(int, SHA1_Update, (SHA_CTX * c, const void *data, size_t len), (c, data, len))               \
    F(unsigned char *, SHA256, (const unsigned char *d, size_t n, unsigned char *md), (d, n, md))  \
    F(int, SHA256_Final, (unsigned char *md, SHA256_CTX *c), (md, c))                              \
    F(int, SHA256_Init, (SHA256_CTX * c), (c))                                                     \
    F(int, SHA256_Update, (SHA256_CTX * c, const void *data, size_t len), (c, data, len))          \
    F(int, X509_NAME_add_entry_by_txt,                                                             \
      (X509_NAME * name, const char *field, int type, const unsigned char *bytes, int len,         \
       int loc, int set),                                                                          \
      (name, field, type, bytes, len, loc, set))                                                   \
    F(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM * p, const char *ip), (p, ip))        \
    V(X509_free, (X509 * x), (x))                                                                  \
    F(ASN1_INTEGER *, X509_get_serialNumber, (X509 * x), (x))                                      \
    F(X509_NAME *, X509_get_subject_name, (const X509 *x), (x))                                    \
    F(ASN1_TIME *, X509_getm_notAfter, (const X509 *x), (x))                                       \
    F(ASN1_TIME *, X509_getm_notBefore, (const X509 *x), (x))                                      \
    F(ASN1_TIME *, X509_gmtime_adj, (ASN1_TIME * s, long adj), (s, adj))                           \
    F(X509 *, X509_new, (void), ())                                                                \
    F(int, X509_set_issuer_name, (X509 * x, const X509_NAME *name), (x, name))                     \
    F(int, X509_set_pubkey, (X509 * x, EVP_PKEY * pkey), (x, pkey))                                \
    F(int, X509_set_version, (X509 * x, long version), (x, version))                               \
    F(int, X509_sign, (X509 * x, EVP_PKEY * pkey, const EVP_MD *md), (x, pkey, md))

#define SSL_FNS(F, V)                                                                              \
    F(int, SSL_CTX_check_private_key, (const SSL_CTX *c), (c))                                     \
    F(long, SSL_CTX_ctrl, (SSL_CTX * c, int cmd, long larg, void *parg), (c, cmd, larg, parg))     \
    V(SSL_CTX_free, (SSL_CTX * c), (c))                                                            \
    F(SSL_CTX *, SSL_CTX_new, (const SSL_METHOD *m), (m))                                          \
    F(int, SSL_CTX_set_default_verify_paths, (SSL_CTX * c), (c))                                   \
    F(uint64_t, SSL_CTX_set_options, (SSL_CTX * c, uint64_t op), (c, op))                          \
    V(SSL_CTX_set_verify, (SSL_CTX * c, int mode, SSL_verify_cb cb), (c, mode, cb))                \
    F(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX * c, const char *file, int type),                 \
      (c, file, type))                                                                             \
    F(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX * c, const char *file), (c, file))         \
    F(int, SSL_connect, (SSL * s), (s))                                                            \
    F(long, SSL_ctrl, (SSL * s, int cmd, long larg, void *parg), (s, cmd, larg, parg))             \
    V(SSL_free, (SSL * s), (s))                                                                    \
    F(X509_VERIFY_PARAM *, SSL_get0_param, (SSL * s), (s))                                         \
    F(int, SSL_get_error, (const SSL *s, int ret), (s, ret))                                       \
    F(SSL *, SSL_new, (SSL_CTX * c), (c))                                                          \
    F(int, SSL_read, (SSL * s, void *buf, int num), (s, buf, num))                                 \
    F(int, SSL_set1_host, (SSL * s, const char *host), (s, host))                                  \
    V(SSL_set_accept_state, (SSL * s), (s))                                                        \
    V(SSL_set_connect_state, (SSL * s), (s))                                                       \
    F(int, SSL_set_fd, (SSL * s, int fd), (s, fd))                                                 \
    F(int, SSL_shutdown, (SSL * s), (s))                                                           \
    F(int, SSL_write, (SSL * s, const void *buf, int num), (s, buf, num))                          \
    F(const SSL_METHOD *, TLS_client_method, (void), ())                                           \
    F(const SSL_METHOD *, TLS_server_method, (void), ())

#define ZLIB_FNS(F, V)                                                                             \
    F(uLong, crc32_z, (uLong crc, const Bytef *buf, z_size_t len), (crc, buf, len))                \
    F(int, deflate, (z_streamp s, int flush), (s, flush))                                          \
    F(int, deflateEnd, (z_streamp s), (s))                                                         \
    F(int, deflateInit_, (z_streamp s, int level, const char *version, int size),                  \
      (s, level, version, size))                                                                   \
    F(int, deflateInit2_,                                                                          \
      (z_streamp s, int level, int method, int bits, int mem, int strategy, const char *version,  \
       int size),                                                                                  \
      (s, level, method, bits, mem, strategy, version, size))                                      \
    F(int, inflate, (z_streamp s, int flush), (s, flush))                                          \
    F(int, inflateEnd, (z_streamp s), (s))                                                         \
    F(int, inflateInit_, (z_streamp s, const char *version, int size), (s, version, size))

/* One slot per function, filled by the library's loader before any forwarder reads it. */
#define SLOT(ret, name, params, args) void *name;
#define VSLOT(name, params, args) void *name;
static struct {
    CRYPTO_FNS(SLOT, VSLOT)
    /* EVP_PKEY_Q_keygen is variadic: forwarded by hand below. */
    void *EVP_PKEY_Q_keygen;
} crypto;
static struct {
    SSL_FNS(SLOT, VSLOT)
} ssl;
static struct {
    ZLIB_FNS(SLOT, VSLOT)
} zlib;

static void *open_lib(const char *soname)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "nimbus: cannot load %s (%s)\n", soname, dlerror());
        abort();
    }
    return h;
}

static void *sym(void *h, const char *soname, const char *name)
{
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "nimbus: %s lacks %s\n", soname, name);
        abort();
    }
    return p;
}

#define RESOLVE(ret, name, params, args) T.name = sym(h, SONAME, #name);
#define VRESOLVE(name, params, args) T.name = sym(h, SONAME, #name);

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT, ssl_once = PTHREAD_ONCE_INIT,
                      zlib_once = PTHREAD_ONCE_INIT;

static void crypto_load(void)
{
#define T crypto
#define SONAME "libcrypto.so.3"
    void *h = open_lib(SONAME);
    CRYPTO_FNS(RESOLVE, VRESOLVE)
    crypto.EVP_PKEY_Q_keygen = sym(h, SONAME, "EVP_PKEY_Q_keygen");
#undef T
#undef SONAME
}

static void ssl_load(void)
{
    pthread_once(&crypto_once, crypto_load); /* libssl's callers use libcrypto's too */
#define T ssl
#define SONAME "libssl.so.3"
    void *h = open_lib(SONAME);
    SSL_FNS(RESOLVE, VRESOLVE)
#undef T
#undef SONAME
}

static void zlib_load(void)
{
#define T zlib
#define SONAME "libz.so.1"
    void *h = open_lib(SONAME);
    ZLIB_FNS(RESOLVE, VRESOLVE)
#undef T
#undef SONAME
}

/* pthread_once is one atomic load once loaded: cheap next to any of these calls. */
#define FWD(lib, ret, name, params, args)                                                          \
    ret name params                                                                                \
    {                                                                                              \
        pthread_once(&lib##_once, lib##_load);                                                     \
        return ((ret(*) params)lib.name)args;                                                      \
    }
#define VFWD(lib, name, params, args)                                                              \
    void name params                                                                               \
    {                                                                                              \
        pthread_once(&lib##_once, lib##_load);                                                     \
        ((void(*) params)lib.name) args;                                                           \
    }
#define CFWD(ret, name, params, args) FWD(crypto, ret, name, params, args)
#define CVFWD(name, params, args) VFWD(crypto, name, params, args)
#define SFWD(ret, name, params, args) FWD(ssl, ret, name, params, args)
#define SVFWD(name, params, args) VFWD(ssl, name, params, args)

#define ZFWD(ret, name, params, args) FWD(zlib, ret, name, params, args)
#define ZVFWD(name, params, args) VFWD(zlib, name, params, args)

CRYPTO_FNS(CFWD, CVFWD)
SSL_FNS(SFWD, SVFWD)
ZLIB_FNS(ZFWD, ZVFWD)

/* The key type decides the one extra argument, as OpenSSL's own EVP_PKEY_Q_keygen reads it:
 * "RSA" a size_t of bits, "EC" and "SM2" a curve name, other types none. */
EVP_PKEY *EVP_PKEY_Q_keygen(OSSL_LIB_CTX *libctx, const char *propq, const char *type, ...)
{
    pthread_once(&crypto_once, crypto_load);
    EVP_PKEY *(*f)(OSSL_LIB_CTX *, const char *, const char *, ...) = crypto.EVP_PKEY_Q_keygen;
    va_list ap;
    va_start(ap, type);
    EVP_PKEY *k;
    if (strcmp(type, "RSA") == 0) {
        size_t bits = va_arg(ap, size_t);
        k = f(libctx, propq, type, bits);
    } else if (strcmp(type, "EC") == 0 || strcmp(type, "SM2") == 0) {
        char *curve = va_arg(ap, char *);
        k = f(libctx, propq, type, curve);
    } else {
        k = f(libctx, propq, type);
    }
    va_end(ap);
    return k;
}
