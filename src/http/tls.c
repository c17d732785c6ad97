/* tls.c: OpenSSL 3 contexts for the TLS listener and the HTTPS client. The sockets stay
 * non-blocking; server.c and client.c drive SSL_read/SSL_write from the loops. */
#include "http/http_internal.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>

void nb_tls_err(char *out, size_t n)
{
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(out, n, "unknown TLS error");
        return;
    }
    ERR_error_string_n(e, out, n);
    ERR_clear_error();
}

static void tls_common(SSL_CTX *ctx)
{
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Partial writes and a moving buffer let a retried SSL_write come from our queue as it
     * stands; released buffers keep idle TLS connections small; a peer that closes without
     * close_notify is an ordinary EOF for HTTP (the framing tells truncation). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
}

/* A server context from PEM files (certificate chain, private key). NULL with *err set. */
SSL_CTX *nb_tls_server_ctx(const char *cert, const char *key, char **err)
{
    char msg[256], e[160];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        nb_tls_err(e, sizeof(e));
        snprintf(msg, sizeof(msg), "tls: cannot create context: %s", e);
        goto fail;
    }
    tls_common(ctx);
    if (!cert || !key) {
        snprintf(msg, sizeof(msg), "tls: a TLS listener needs tls_cert and tls_key");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        nb_tls_err(e, sizeof(e));
        snprintf(msg, sizeof(msg), "tls: cannot load certificate %s: %s", cert, e);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        nb_tls_err(e, sizeof(e));
        snprintf(msg, sizeof(msg), "tls: cannot load key %s: %s", key, e);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(msg, sizeof(msg), "tls: key %s does not match certificate %s", key, cert);
        goto fail;
    }
    return ctx;
fail:
    if (ctx) SSL_CTX_free(ctx);
    if (err) *err = nb_xstrdup(msg);
    return NULL;
}

static SSL_CTX *client_ctx_new(bool verify)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return NULL;
    tls_common(ctx);
    if (verify) {
        SSL_CTX_set_default_verify_paths(ctx);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return ctx;
}

static SSL_CTX *g_client_ctx[2];
static void client_ctx_init(void)
{
    g_client_ctx[0] = client_ctx_new(false);
    g_client_ctx[1] = client_ctx_new(true);
}

/* Client contexts are shared (SSL_CTX is thread-safe once set up): one that verifies the
 * peer against the system store and one that does not. Created on first use; NULL if
 * OpenSSL cannot create them. */
SSL_CTX *nb_tls_client_ctx(bool verify)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, client_ctx_init);
    return g_client_ctx[verify ? 1 : 0];
}
