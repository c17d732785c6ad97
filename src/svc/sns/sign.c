/* sign.c: the SNS message signing key and certificate. Like AWS, every HTTP/S, email-json and
 * SQS notification carries a Signature over the documented string-to-sign (SignatureVersion
 * 1: SHA1withRSA, 2: SHA256withRSA) and a SigningCertURL from which receivers fetch the
 * certificate to verify it. The RSA key and a self-signed certificate are generated once,
 * on first use (so server start stays fast), and kept in <data>/sns/ (key mode 0600). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hash.h"
#include "svc/sns/sns_internal.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static EVP_PKEY *key;
static char *cert_pem;
static char cert_id[33];
static char dir[1100];

void nb_sns_sign_setup(const char *data_dir) { snprintf(dir, sizeof(dir), "%s", data_dir); }

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    nb_buf b;
    nb_buf_init(&b);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) nb_buf_append(&b, tmp, n);
    fclose(f);
    return nb_buf_steal(&b, NULL);
}

static int write_file(const char *path, const char *data, mode_t mode)
{
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) return -1;
    size_t n = strlen(data);
    bool ok = write(fd, data, n) == (ssize_t)n && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static char *pem_of_key(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(b);
        return NULL;
    }
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = strndup(p, (size_t)n);
    BIO_free(b);
    return out;
}

static char *pem_of_cert(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_X509(b, x)) {
        BIO_free(b);
        return NULL;
    }
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = strndup(p, (size_t)n);
    BIO_free(b);
    return out;
}

static int generate(const char *key_path, const char *cert_path)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    if (!k || !x) goto fail;
    X509_set_version(x, 2);
    uint64_t serial;
    nb_random(&serial, sizeof(serial));
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 20L * 365 * 86400);
    X509_set_pubkey(x, k);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"Nimbus", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"sns.amazonaws.com", -1, -1, 0);
    X509_set_issuer_name(x, nm);
    if (!X509_sign(x, k, EVP_sha256())) goto fail;
    char *kp = pem_of_key(k), *cp = pem_of_cert(x);
    int rc = kp && cp && write_file(key_path, kp, 0600) == 0 && write_file(cert_path, cp, 0644) == 0 ? 0 : -1;
    free(kp);
    free(cp);
    EVP_PKEY_free(k);
    X509_free(x);
    return rc;
fail:
    EVP_PKEY_free(k);
    X509_free(x);
    return -1;
}

/* Load (generating the first time) the key and certificate; mu held. */
static int ensure(void)
{
    if (key) return 0;
    char kp[1200], cp[1200];
    snprintf(kp, sizeof(kp), "%s/signing-key.pem", dir);
    snprintf(cp, sizeof(cp), "%s/signing-cert.pem", dir);
    if (access(kp, R_OK) != 0 || access(cp, R_OK) != 0) {
        if (generate(kp, cp) < 0) {
            nb_error("sns: cannot create the signing key in %s", dir);
            return -1;
        }
    }
    char *kt = read_file(kp), *ct = read_file(cp);
    if (!kt || !ct) {
        free(kt);
        free(ct);
        return -1;
    }
    BIO *b = BIO_new_mem_buf(kt, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    free(kt);
    if (!k) {
        free(ct);
        return -1;
    }
    unsigned char md[32];
    char hex[65];
    nb_sha256(ct, strlen(ct), md);
    nb_hex(md, 32, hex);
    memcpy(cert_id, hex, 32);
    cert_id[32] = 0;
    key = k;
    cert_pem = ct;
    return 0;
}

const char *nb_sns_cert_id(void)
{
    pthread_mutex_lock(&mu);
    const char *id = ensure() == 0 ? cert_id : NULL;
    pthread_mutex_unlock(&mu);
    return id;
}

const char *nb_sns_cert_pem(void)
{
    pthread_mutex_lock(&mu);
    const char *p = ensure() == 0 ? cert_pem : NULL;
    pthread_mutex_unlock(&mu);
    return p;
}

char *nb_sns_sign(const char *text, size_t len, int version)
{
    pthread_mutex_lock(&mu);
    int ok = ensure();
    pthread_mutex_unlock(&mu);
    if (ok < 0) return NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[512];
    size_t sl = sizeof(sig);
    char *out = NULL;
    if (ctx && EVP_DigestSignInit(ctx, NULL, version == 2 ? EVP_sha256() : EVP_sha1(), NULL, key) == 1 &&
        EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)text, len) == 1) {
        out = malloc(nb_base64_encoded_len(sl) + 1);
        if (out) nb_base64_encode(sig, sl, out);
    }
    EVP_MD_CTX_free(ctx);
    return out;
}

void nb_sns_sign_shutdown(void)
{
    pthread_mutex_lock(&mu);
    if (key) EVP_PKEY_free(key); /* never signed: libcrypto need not be loaded to free nothing */
    key = NULL;
    free(cert_pem);
    cert_pem = NULL;
    pthread_mutex_unlock(&mu);
}
