/* awschunked.c: streaming decoder of aws-chunked request bodies (Content-Encoding: aws-chunked):
 * signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), signed chunks with a signed trailer
 * (...-PAYLOAD-TRAILER) and unsigned chunks with trailing checksums
 * (STREAMING-UNSIGNED-PAYLOAD-TRAILER, what boto3 >= 1.36 and the aws CLI v2 send by default).
 *
 * Wire form (all modes share HTTP/1.1 chunked framing):
 *   <hex-size>[;chunk-signature=<64 hex>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
 *   [trailer-name:value\r\n ...] [x-amz-trailer-signature:<sig>\r\n] \r\n
 * Decoded bytes are handed out as they arrive; a chunk's signature can only be checked once its
 * last byte was seen, so consumers must not commit anything before the decoder reports done.
 * Buffering is bounded: one chunk-header line (1 KiB) and the trailer section (8 KiB). */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "core/hash.h"
#include "proto/sigv4.h"

#define LINE_MAX_BYTES 1024
#define TRAILER_MAX_BYTES 8192
/* S3: "Only the last chunk is allowed to have a size less than 8192 bytes". */
#define MIN_CHUNK 8192
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum state { S_SIZE, S_DATA, S_DATA_CR, S_DATA_LF, S_TRAILER, S_DONE, S_FAILED };

struct nb_awschunked {
    enum nb_chunked_mode mode;
    enum state state;
    unsigned char key[32];
    char amz_date[17];
    char scope[192];
    char prev_sig[65];
    char chunk_sig[65];
    char line[LINE_MAX_BYTES];
    size_t line_len;
    uint64_t chunk_left, chunk_size, nchunks;
    bool small_chunk_seen; /* a non-final chunk below 8 KiB was already accepted */
    uint64_t small_chunk_size, small_chunk_no;
    uint64_t decoded, expect;
    bool have_expect;
    nb_sha256_ctx sha;
    /* trailers as "name\0value\0" pairs, in arrival order */
    char trailers[TRAILER_MAX_BYTES];
    size_t trailers_len, trailer_bytes;
    bool trailer_sig_seen;
};

static bool signed_mode(const nb_awschunked *d)
{
    return d->mode != NB_CHUNKED_UNSIGNED_TRAILER;
}

static int fail(nb_awschunked *d, nb_sigv4_error *e, int status, const char *code, int reason,
                const char *msg)
{
    d->state = S_FAILED;
    if (e) {
        e->status = status;
        snprintf(e->code, sizeof(e->code), "%s", code);
        snprintf(e->message, sizeof(e->message), "%s", msg);
        e->reason = reason;
    }
    return -1;
}

/* What S3 answers when the framing cannot be read. AWS documents no code for it; S3 reports an
 * unreadable aws-chunked body as an incomplete one, so we do too. */
static int bad_framing(nb_awschunked *d, nb_sigv4_error *e)
{
    return fail(d, e, 400, "IncompleteBody", NB_SIGV4_R_BODY,
                "The request body is not valid aws-chunked encoding.");
}

static int bad_signature(nb_awschunked *d, nb_sigv4_error *e)
{
    return fail(d, e, 403, "SignatureDoesNotMatch", NB_SIGV4_R_SIGNATURE,
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method."); /* S3's words: aws-chunked is S3's */
}

static int bad_trailer(nb_awschunked *d, nb_sigv4_error *e)
{
    return fail(d, e, 400, "MalformedTrailerError", NB_SIGV4_R_BODY,
                "The request contained trailing data that was not well-formed or did not conform "
                "to our published schema.");
}

nb_awschunked *nb_awschunked_new(enum nb_chunked_mode mode, const unsigned char key[32],
                                 const char *amz_date, const char *scope,
                                 const char *seed_signature)
{
    nb_awschunked *d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    d->mode = mode;
    d->state = S_SIZE;
    if (signed_mode(d)) {
        memcpy(d->key, key, 32);
        snprintf(d->amz_date, sizeof(d->amz_date), "%s", amz_date ? amz_date : "");
        snprintf(d->scope, sizeof(d->scope), "%s", scope ? scope : "");
        snprintf(d->prev_sig, sizeof(d->prev_sig), "%s", seed_signature ? seed_signature : "");
    }
    return d;
}

void nb_awschunked_free(nb_awschunked *d)
{
    if (!d) return;
    OPENSSL_cleanse(d->key, sizeof(d->key));
    free(d);
}

void nb_awschunked_expect(nb_awschunked *d, uint64_t decoded_length)
{
    d->expect = decoded_length;
    d->have_expect = true;
}

uint64_t nb_awschunked_decoded(const nb_awschunked *d)
{
    return d->decoded;
}

/* HMAC of "<kind>\n<amz_date>\n<scope>\n<previous signature>\n<extra>" with the signing key,
 * compared in constant time with want; on success want becomes the previous signature. */
static bool check_sig(nb_awschunked *d, const char *kind, const char *extra, const char *want)
{
    nb_buf sts;
    nb_buf_init(&sts);
    nb_buf_printf(&sts, "%s\n%s\n%s\n%s\n%s", kind, d->amz_date, d->scope, d->prev_sig, extra);
    if (sts.oom) {
        nb_buf_free(&sts);
        return false;
    }
    char sig[65];
    nb_sigv4_sign_sts(d->key, sts.data, sts.len, sig);
    nb_buf_free(&sts);
    if (strlen(want) != 64 || CRYPTO_memcmp(sig, want, 64) != 0) return false;
    memcpy(d->prev_sig, sig, 65);
    return true;
}

static bool chunk_sig_ok(nb_awschunked *d)
{
    unsigned char md[32];
    char hex[65], extra[140];
    if (d->chunk_size) {
        nb_sha256_final(&d->sha, md);
        nb_hex(md, 32, hex);
    } else {
        memcpy(hex, EMPTY_SHA256, 65);
    }
    snprintf(extra, sizeof(extra), "%s\n%s", EMPTY_SHA256, hex);
    return check_sig(d, "AWS4-HMAC-SHA256-PAYLOAD", extra, d->chunk_sig);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "<hex>[;ext...]" without its CRLF. */
static int chunk_header(nb_awschunked *d, const char *l, size_t n, nb_sigv4_error *e)
{
    size_t i = 0;
    uint64_t size = 0;
    while (i < n && hexval(l[i]) >= 0) {
        if (i == 16) return bad_framing(d, e);
        size = size << 4 | (uint64_t)hexval(l[i]);
        i++;
    }
    if (i == 0) return bad_framing(d, e);
    const char *ext = l + i;
    size_t en = n - i;
    if (signed_mode(d)) {
        static const char tag[] = ";chunk-signature=";
        if (en != sizeof(tag) - 1 + 64 || memcmp(ext, tag, sizeof(tag) - 1) != 0)
            return en && ext[0] == ';' ? bad_signature(d, e) : bad_framing(d, e);
        memcpy(d->chunk_sig, ext + sizeof(tag) - 1, 64);
        d->chunk_sig[64] = 0;
    } else if (en && ext[0] != ';') {
        return bad_framing(d, e); /* unsigned: extensions are allowed and ignored */
    }
    d->nchunks++;
    if (size && d->small_chunk_seen) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "Only the last chunk is allowed to have a size less than 8192 bytes (chunk %llu "
                 "had %llu bytes)",
                 (unsigned long long)d->small_chunk_no, (unsigned long long)d->small_chunk_size);
        return fail(d, e, 403, "InvalidChunkSizeError", NB_SIGV4_R_BODY, msg);
    }
    if (size && size < MIN_CHUNK) {
        d->small_chunk_seen = true;
        d->small_chunk_size = size;
        d->small_chunk_no = d->nchunks;
    }
    if (d->have_expect && size > d->expect - d->decoded)
        /* Our wording: a chunk reaching past x-amz-decoded-content-length. */
        return fail(d, e, 400, "IncompleteBody", NB_SIGV4_R_BODY,
                    "The aws-chunked body carries more data than x-amz-decoded-content-length "
                    "declares.");
    d->chunk_size = d->chunk_left = size;
    if (signed_mode(d) && size) nb_sha256_init(&d->sha);
    if (size) {
        d->state = S_DATA;
        return 0;
    }
    if (signed_mode(d) && !chunk_sig_ok(d)) return bad_signature(d, e);
    d->state = S_TRAILER;
    return 0;
}

/* The trailer signature covers "name:value\n" for each trailer before it. */
static bool trailer_sig_ok(nb_awschunked *d, const char *want)
{
    nb_buf t;
    nb_buf_init(&t);
    for (size_t off = 0; off < d->trailers_len;) {
        const char *name = d->trailers + off;
        const char *val = name + strlen(name) + 1;
        nb_buf_printf(&t, "%s:%s\n", name, val);
        off = (size_t)(val + strlen(val) + 1 - d->trailers);
    }
    char hex[65];
    nb_sha256_hex(t.data ? t.data : "", t.len, hex);
    bool oom = t.oom;
    nb_buf_free(&t);
    return !oom && check_sig(d, "AWS4-HMAC-SHA256-TRAILER", hex, want);
}

static int trailer_line(nb_awschunked *d, const char *l, size_t n, nb_sigv4_error *e)
{
    if (n == 0) {
        if (d->mode == NB_CHUNKED_SIGNED_TRAILER && !d->trailer_sig_seen)
            return bad_signature(d, e);
        d->state = S_DONE;
        return 0;
    }
    if (d->mode == NB_CHUNKED_SIGNED) return bad_trailer(d, e); /* no trailers in this mode */
    if (d->trailer_sig_seen) return bad_trailer(d, e);          /* the signature comes last */
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l) return bad_trailer(d, e);
    const char *name = l, *val = colon + 1;
    size_t nn = (size_t)(colon - l), vn = n - nn - 1;
    while (nn && (name[nn - 1] == ' ' || name[nn - 1] == '\t'))
        nn--;
    while (vn && (*val == ' ' || *val == '\t'))
        val++, vn--;
    while (vn && (val[vn - 1] == ' ' || val[vn - 1] == '\t'))
        vn--;
    if (!nn || memchr(name, 0, nn) || memchr(val, 0, vn)) return bad_trailer(d, e);
    if (d->mode == NB_CHUNKED_SIGNED_TRAILER &&
        nb_mem_ieq(name, nn, "x-amz-trailer-signature", 23)) {
        char sig[65];
        if (vn != 64) return bad_signature(d, e);
        memcpy(sig, val, 64);
        sig[64] = 0;
        if (!trailer_sig_ok(d, sig)) return bad_signature(d, e);
        d->trailer_sig_seen = true;
        return 0;
    }
    if (d->trailers_len + nn + vn + 2 > sizeof(d->trailers)) return bad_trailer(d, e);
    char *p = d->trailers + d->trailers_len;
    for (size_t i = 0; i < nn; i++) {
        char c = name[i];
        p[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    p[nn] = 0;
    memcpy(p + nn + 1, val, vn);
    p[nn + 1 + vn] = 0;
    d->trailers_len += nn + vn + 2;
    return 0;
}

int nb_awschunked_feed(nb_awschunked *d, const char *in, size_t n, nb_buf *out, nb_sigv4_error *e)
{
    if (d->state == S_FAILED) return bad_framing(d, e);
    size_t i = 0;
    while (i < n) {
        switch (d->state) {
        case S_SIZE:
        case S_TRAILER: {
            /* Accumulate one line up to LF; CRLF required. */
            const char *lf = memchr(in + i, '\n', n - i);
            size_t take = lf ? (size_t)(lf - (in + i)) : n - i;
            size_t cap = d->state == S_SIZE ? LINE_MAX_BYTES : sizeof(d->line);
            if (d->line_len + take > cap - 1) {
                if (d->state == S_SIZE) return bad_framing(d, e);
                return bad_trailer(d, e);
            }
            if (d->state == S_TRAILER) {
                d->trailer_bytes += take + 1;
                if (d->trailer_bytes > TRAILER_MAX_BYTES) return bad_trailer(d, e);
            }
            memcpy(d->line + d->line_len, in + i, take);
            d->line_len += take;
            i += take;
            if (!lf) break;
            i++; /* the LF */
            if (!d->line_len || d->line[d->line_len - 1] != '\r')
                return d->state == S_SIZE ? bad_framing(d, e) : bad_trailer(d, e);
            size_t ln = d->line_len - 1;
            d->line_len = 0;
            int rc = d->state == S_SIZE ? chunk_header(d, d->line, ln, e)
                                        : trailer_line(d, d->line, ln, e);
            if (rc < 0) return -1;
            break;
        }
        case S_DATA: {
            size_t take = n - i;
            if (take > d->chunk_left) take = (size_t)d->chunk_left;
            if (nb_buf_append(out, in + i, take))
                return fail(d, e, 503, "ServiceUnavailable", NB_SIGV4_R_NOMEM,
                            "Please reduce your request rate.");
            if (signed_mode(d)) nb_sha256_update(&d->sha, in + i, take);
            d->chunk_left -= take;
            d->decoded += take;
            i += take;
            if (!d->chunk_left) {
                if (signed_mode(d) && !chunk_sig_ok(d)) return bad_signature(d, e);
                d->state = S_DATA_CR;
            }
            break;
        }
        case S_DATA_CR:
            if (in[i++] != '\r') return bad_framing(d, e);
            d->state = S_DATA_LF;
            break;
        case S_DATA_LF:
            if (in[i++] != '\n') return bad_framing(d, e);
            d->state = S_SIZE;
            break;
        case S_DONE:
            /* Extra line ends after the end are tolerated (clients differ on the last CRLF). */
            if (in[i] != '\r' && in[i] != '\n') return bad_framing(d, e);
            i++;
            break;
        case S_FAILED:
            return bad_framing(d, e);
        }
    }
    return 0;
}

/* Complete, or complete but for the final CRLF (which S3 does not insist on). */
static bool complete(const nb_awschunked *d)
{
    if (d->state == S_DONE) return true;
    if (d->state != S_TRAILER) return false;
    if (d->line_len > 1 || (d->line_len == 1 && d->line[0] != '\r')) return false;
    return d->mode != NB_CHUNKED_SIGNED_TRAILER || d->trailer_sig_seen;
}

bool nb_awschunked_done(const nb_awschunked *d)
{
    return complete(d);
}

int nb_awschunked_finish(nb_awschunked *d, nb_sigv4_error *e)
{
    if (d->state == S_FAILED) return bad_framing(d, e);
    if (!complete(d))
        return fail(d, e, 400, "IncompleteBody", NB_SIGV4_R_BODY,
                    "The request body terminated unexpectedly");
    if (d->have_expect && d->decoded != d->expect)
        return fail(d, e, 400, "IncompleteBody", NB_SIGV4_R_BODY,
                    "You did not provide the number of bytes specified by the "
                    "x-amz-decoded-content-length HTTP header");
    d->state = S_DONE;
    return 0;
}

const char *nb_awschunked_trailer(const nb_awschunked *d, const char *name)
{
    for (size_t off = 0; off < d->trailers_len;) {
        const char *n = d->trailers + off;
        const char *v = n + strlen(n) + 1;
        if (!strcmp(n, name)) return v;
        off = (size_t)(v + strlen(v) + 1 - d->trailers);
    }
    return NULL;
}
