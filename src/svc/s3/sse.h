/* sse.h: S3 encryption at rest: SSE-S3 (a random AES-256 data key per content unit, wrapped by
 * the master key in <data_dir>/s3/master.key, mode 0600) and SSE-C (the customer's key, never
 * stored: only a salted HMAC that verifies it). Content is encrypted with AES-256-CTR, so any
 * byte range decrypts on its own; the integrity table (content.h) covers the stored
 * (encrypted) bytes and is verified on every read as for plain objects.
 *
 * Encryption record ("enc", stored next to each content unit: objects, parts, manifests):
 *   byte 0      mode (NB_S3_SSE_S3 or NB_S3_SSE_C)
 *   1..16       initial counter block (random)
 *   SSE-S3:     17..76 the data key wrapped by the master key (12 nonce, 32 ciphertext, 16 GCM tag)
 *   SSE-C:      17..32 salt, 33..64 HMAC-SHA256(salt, customer key)
 * A multipart object's own record (objects.enc) carries the mode (and for SSE-C the key check);
 * each part has its own record with its own counter block (and data key).
 *
 * OpenSSL's EVP cipher layer is touched only on the first encrypted write or read: its
 * initialization costs ~2.3 MiB of resident memory, which an idle server should not pay. */
#ifndef NB_SVC_S3_SSE_H
#define NB_SVC_S3_SSE_H

#include "core/nb.h"

enum { NB_S3_SSE_NONE = 0, NB_S3_SSE_S3 = 1, NB_S3_SSE_C = 2 };

#define NB_S3_ENC_MAX 80

/* What a request asks for (or a stored object needs) to encrypt or decrypt. */
typedef struct nb_s3_sse {
    int mode;                  /* NB_S3_SSE_* */
    unsigned char key[32];     /* SSE-C: the customer key (request only) */
    char key_md5[32];          /* SSE-C: base64 MD5 of the key, as the client sent it */
    bool bucket_key;           /* BucketKeyEnabled (echoed) */
} nb_s3_sse;

/* A content unit's cipher state: key + counter block, positioned at a byte offset. */
typedef struct nb_s3_cipher {
    void *ctx; /* EVP_CIPHER_CTX */
    unsigned char key[32];
    unsigned char iv[16];
} nb_s3_cipher;

/* Where the master key lives (set once at start; the file is created on first use). */
void nb_s3_sse_init(const char *dir);
void nb_s3_sse_shutdown(void);

/* A new record for one content unit under sse (random counter block; SSE-S3: a new data key,
 * wrapped; SSE-C: salted HMAC of the key). Fills cipher ready to encrypt from offset 0.
 * Returns the record length, or -1 (logged). */
int nb_s3_enc_new(const nb_s3_sse *sse, unsigned char rec[NB_S3_ENC_MAX], nb_s3_cipher *cipher);
/* The record of a multipart object (mode and SSE-C key check only; no counter block use). */
int nb_s3_enc_object(const nb_s3_sse *sse, unsigned char rec[NB_S3_ENC_MAX]);
/* Mode of a stored record (NB_S3_SSE_NONE for NULL/empty). */
int nb_s3_enc_mode(const unsigned char *rec, size_t n);
/* Does the SSE-C key in sse match the record? */
bool nb_s3_enc_key_ok(const unsigned char *rec, size_t n, const nb_s3_sse *sse);
/* Open the cipher of a stored unit (SSE-S3: unwrap with the master key; SSE-C: sse->key, which
 * the caller verified). Returns 0 or -1 (logged: a wrong master key, a damaged record). */
int nb_s3_cipher_open(const unsigned char *rec, size_t n, const nb_s3_sse *sse,
                      nb_s3_cipher *cipher);
/* XOR the key stream for bytes [off, off+n) of the unit into buf (encrypt = decrypt). */
int nb_s3_cipher_apply(nb_s3_cipher *cipher, int64_t off, void *buf, size_t n);
/* The same, streaming: the next n bytes after the previous call (or after open at 0). */
int nb_s3_cipher_next(nb_s3_cipher *cipher, const void *in, void *out, size_t n);
void nb_s3_cipher_free(nb_s3_cipher *cipher);

#endif
