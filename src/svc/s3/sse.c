/* sse.c: S3 encryption at rest: the master key file, per-unit data keys wrapped with
 * AES-256-GCM, SSE-C key checks (salted HMAC-SHA256), and AES-256-CTR key streams that start
 * at any byte offset. EVP is reached only through these functions, on first use. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/hash.h"
#include "svc/s3/sse.h"

static char key_path[4096];
static pthread_mutex_t key_mu = PTHREAD_MUTEX_INITIALIZER;
static bool key_loaded;
static unsigned char master[32];

void nb_s3_sse_init(const char *dir)
{
    snprintf(key_path, sizeof key_path, "%s/master.key", dir);
    pthread_mutex_lock(&key_mu);
    key_loaded = false;
    pthread_mutex_unlock(&key_mu);
}

void nb_s3_sse_shutdown(void)
{
    pthread_mutex_lock(&key_mu);
    OPENSSL_cleanse(master, sizeof master);
    key_loaded = false;
    pthread_mutex_unlock(&key_mu);
}

static int read_full(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

/* Load the master key, creating it (0600, durable) the first time any server needs one. */
static int master_key(unsigned char out[32])
{
    pthread_mutex_lock(&key_mu);
    if (!key_loaded) {
        int fd = open(key_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            char tmp[4200];
            snprintf(tmp, sizeof tmp, "%s.tmp", key_path);
            unsigned char k[32];
            nb_random(k, sizeof k);
            int w = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            bool ok = w >= 0 && write(w, k, sizeof k) == (ssize_t)sizeof k && fsync(w) == 0;
            if (w >= 0) close(w);
            /* link, not rename: if another process won the race, its key stays */
            ok = ok && (link(tmp, key_path) == 0 || errno == EEXIST);
            unlink(tmp);
            if (ok) {
                char dir[4096];
                snprintf(dir, sizeof dir, "%s", key_path);
                char *slash = strrchr(dir, '/');
                if (slash) *slash = 0;
                int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0) {
                    fsync(dfd);
                    close(dfd);
                }
                nb_info("s3: created the encryption master key %s", key_path);
            }
            OPENSSL_cleanse(k, sizeof k);
            fd = open(key_path, O_RDONLY | O_CLOEXEC);
        }
        if (fd < 0 || read_full(fd, master, sizeof master) < 0) {
            nb_error("s3: cannot read the encryption master key %s: %s", key_path,
                     fd < 0 ? strerror(errno) : "short file");
            if (fd >= 0) close(fd);
            pthread_mutex_unlock(&key_mu);
            return -1;
        }
        close(fd);
        key_loaded = true;
    }
    memcpy(out, master, 32);
    pthread_mutex_unlock(&key_mu);
    return 0;
}

/* ---- key wrapping: AES-256-GCM under the master key ---- */

static int wrap(const unsigned char dk[32], unsigned char out[60])
{
    unsigned char mk[32];
    if (master_key(mk) < 0) return -1;
    nb_random(out, 12);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int l = 0, ok = x && EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, mk, out) == 1 &&
                    EVP_EncryptUpdate(x, out + 12, &l, dk, 32) == 1 && l == 32 &&
                    EVP_EncryptFinal_ex(x, out + 44, &l) == 1 &&
                    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, out + 44) == 1;
    EVP_CIPHER_CTX_free(x);
    OPENSSL_cleanse(mk, sizeof mk);
    if (!ok) nb_error("s3: cannot wrap a data key");
    return ok ? 0 : -1;
}

static int unwrap(const unsigned char in[60], unsigned char dk[32])
{
    unsigned char mk[32];
    if (master_key(mk) < 0) return -1;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int l = 0, ok = x && EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, mk, in) == 1 &&
                    EVP_DecryptUpdate(x, dk, &l, in + 12, 32) == 1 && l == 32 &&
                    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + 44)) == 1 &&
                    EVP_DecryptFinal_ex(x, dk + 32, &l) == 1;
    EVP_CIPHER_CTX_free(x);
    OPENSSL_cleanse(mk, sizeof mk);
    if (!ok) nb_error("s3: a data key does not unwrap with the master key %s (wrong or replaced"
                      " key file, or a damaged record)", key_path);
    return ok ? 0 : -1;
}

/* ---- records ---- */

int nb_s3_enc_mode(const unsigned char *rec, size_t n)
{
    if (!rec || n < 1) return NB_S3_SSE_NONE;
    if (rec[0] == NB_S3_SSE_S3 && (n == 77 || n == 1)) return NB_S3_SSE_S3;
    if (rec[0] == NB_S3_SSE_C && (n == 65 || n == 49)) return NB_S3_SSE_C;
    return -1; /* unknown: refuse to serve */
}

static void key_check(const unsigned char salt[16], const unsigned char key[32],
                      unsigned char out[32])
{
    nb_hmac_sha256(salt, 16, key, 32, out);
}

int nb_s3_enc_object(const nb_s3_sse *sse, unsigned char rec[NB_S3_ENC_MAX])
{
    rec[0] = (unsigned char)sse->mode;
    if (sse->mode == NB_S3_SSE_S3) return 1;
    /* SSE-C: mode + salt + HMAC (no counter block): 49 bytes */
    nb_random(rec + 1, 16);
    key_check(rec + 1, sse->key, rec + 17);
    return 49;
}

bool nb_s3_enc_key_ok(const unsigned char *rec, size_t n, const nb_s3_sse *sse)
{
    if (!rec || sse->mode != NB_S3_SSE_C) return false;
    const unsigned char *salt;
    if (n == 65)
        salt = rec + 17;
    else if (n == 49)
        salt = rec + 1;
    else
        return false;
    unsigned char mac[32];
    key_check(salt, sse->key, mac);
    return CRYPTO_memcmp(mac, salt + 16, 32) == 0;
}

static int cipher_init(nb_s3_cipher *c)
{
    if (!c->ctx) c->ctx = EVP_CIPHER_CTX_new();
    if (!c->ctx ||
        EVP_EncryptInit_ex((EVP_CIPHER_CTX *)c->ctx, EVP_aes_256_ctr(), NULL, c->key, c->iv) != 1) {
        nb_error("s3: cannot start AES-256-CTR");
        return -1;
    }
    return 0;
}

int nb_s3_enc_new(const nb_s3_sse *sse, unsigned char rec[NB_S3_ENC_MAX], nb_s3_cipher *cipher)
{
    memset(cipher, 0, sizeof *cipher);
    rec[0] = (unsigned char)sse->mode;
    nb_random(rec + 1, 16);
    memcpy(cipher->iv, rec + 1, 16);
    int n;
    if (sse->mode == NB_S3_SSE_S3) {
        nb_random(cipher->key, 32);
        if (wrap(cipher->key, rec + 17) < 0) return -1;
        n = 77;
    } else if (sse->mode == NB_S3_SSE_C) {
        memcpy(cipher->key, sse->key, 32);
        nb_random(rec + 17, 16);
        key_check(rec + 17, sse->key, rec + 33);
        n = 65;
    } else {
        return -1;
    }
    if (cipher_init(cipher) < 0) {
        nb_s3_cipher_free(cipher);
        return -1;
    }
    return n;
}

int nb_s3_cipher_open(const unsigned char *rec, size_t n, const nb_s3_sse *sse,
                      nb_s3_cipher *cipher)
{
    memset(cipher, 0, sizeof *cipher);
    int mode = nb_s3_enc_mode(rec, n);
    if (mode == NB_S3_SSE_S3 && n == 77) {
        if (unwrap(rec + 17, cipher->key) < 0) return -1;
    } else if (mode == NB_S3_SSE_C && n == 65 && sse && sse->mode == NB_S3_SSE_C) {
        memcpy(cipher->key, sse->key, 32);
    } else {
        nb_error("s3: encryption record of %zu bytes (mode %d) cannot be opened", n, mode);
        return -1;
    }
    memcpy(cipher->iv, rec + 1, 16);
    if (cipher_init(cipher) < 0) {
        nb_s3_cipher_free(cipher);
        return -1;
    }
    return 0;
}

int nb_s3_cipher_next(nb_s3_cipher *c, const void *in, void *out, size_t n)
{
    EVP_CIPHER_CTX *x = c->ctx;
    while (n) {
        int k = n > (1u << 30) ? 1 << 30 : (int)n, l = 0;
        if (EVP_EncryptUpdate(x, out, &l, in, k) != 1 || l != k) return -1;
        in = (const char *)in + k;
        out = (char *)out + k;
        n -= (size_t)k;
    }
    return 0;
}

int nb_s3_cipher_apply(nb_s3_cipher *c, int64_t off, void *buf, size_t n)
{
    /* counter block = iv + off / 16 (128-bit big-endian), then skip off % 16 bytes */
    unsigned char ctr[16];
    memcpy(ctr, c->iv, 16);
    uint64_t add = (uint64_t)off >> 4;
    for (int i = 15; i >= 0 && add; i--) {
        uint64_t s = (uint64_t)ctr[i] + (add & 0xff);
        ctr[i] = (unsigned char)s;
        add = (add >> 8) + (s >> 8);
    }
    EVP_CIPHER_CTX *x = c->ctx;
    if (EVP_EncryptInit_ex(x, NULL, NULL, NULL, ctr) != 1) return -1;
    unsigned skip = (unsigned)(off & 15);
    if (skip) {
        unsigned char z[16] = {0};
        int l;
        if (EVP_EncryptUpdate(x, z, &l, z, (int)skip) != 1) return -1;
    }
    return nb_s3_cipher_next(c, buf, buf, n);
}

void nb_s3_cipher_free(nb_s3_cipher *c)
{
    if (c->ctx) EVP_CIPHER_CTX_free((EVP_CIPHER_CTX *)c->ctx);
    OPENSSL_cleanse(c->key, sizeof c->key);
    c->ctx = NULL;
}
