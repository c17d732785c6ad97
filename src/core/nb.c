/* nb.c: the small shared pieces: panic, allocation, arena, buffers, encodings, logging. */
#include "core/nb.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void nb_panic(const char *file, int line, const char *what)
{
    fprintf(stderr, "nimbus: assertion failed at %s:%d: %s\n", file, line, what);
    abort();
}

void *nb_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "nimbus: out of memory allocating %zu bytes\n", n);
        abort();
    }
    return p;
}

void nb_malloc_trim(void)
{
#if !defined(__SANITIZE_ADDRESS__)
    malloc_trim(0);
#endif
}

void *nb_xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p) {
        fprintf(stderr, "nimbus: out of memory\n");
        abort();
    }
    return p;
}

char *nb_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = nb_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

/* ---- arena ---- */

struct nb_arena_block {
    struct nb_arena_block *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

struct nb_arena {
    struct nb_arena_block *head;
    size_t next_size;
};

nb_arena *nb_arena_new(size_t first_block)
{
    nb_arena *a = calloc(1, sizeof(*a));
    if (!a) return NULL;
    a->next_size = first_block < 256 ? 256 : first_block;
    return a;
}

void nb_arena_free(nb_arena *a)
{
    if (!a) return;
    struct nb_arena_block *b = a->head;
    while (b) {
        struct nb_arena_block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void *nb_arena_alloc(nb_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    struct nb_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = a->next_size;
        while (cap < n) cap *= 2;
        b = malloc(sizeof(*b) + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        if (a->next_size < (1u << 20)) a->next_size *= 2;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

void *nb_arena_calloc(nb_arena *a, size_t n)
{
    void *p = nb_arena_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

char *nb_arena_strndup(nb_arena *a, const char *s, size_t n)
{
    char *p = nb_arena_alloc(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *nb_arena_strdup(nb_arena *a, const char *s) { return nb_arena_strndup(a, s, strlen(s)); }

char *nb_arena_printf(nb_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return NULL;
    }
    char *p = nb_arena_alloc(a, (size_t)n + 1);
    if (p) vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

/* ---- buffers ---- */

void nb_buf_init(nb_buf *b) { memset(b, 0, sizeof(*b)); }

void nb_buf_free(nb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void nb_buf_reset(nb_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

int nb_buf_reserve(nb_buf *b, size_t extra)
{
    if (b->oom) return NB_NOMEM;
    if (b->len + extra + 1 <= b->cap) return NB_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return NB_NOMEM;
    }
    b->data = p;
    b->cap = cap;
    return NB_OK;
}

int nb_buf_append(nb_buf *b, const void *p, size_t n)
{
    if (nb_buf_reserve(b, n)) return NB_NOMEM;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return NB_OK;
}

int nb_buf_puts(nb_buf *b, const char *s) { return nb_buf_append(b, s, strlen(s)); }
int nb_buf_putc(nb_buf *b, char c) { return nb_buf_append(b, &c, 1); }

int nb_buf_vprintf(nb_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return NB_ERR;
    }
    int rc;
    if ((size_t)n < sizeof(small)) {
        rc = nb_buf_append(b, small, (size_t)n);
    } else if ((rc = nb_buf_reserve(b, (size_t)n)) == NB_OK) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
    return rc;
}

int nb_buf_printf(nb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = nb_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *nb_buf_steal(nb_buf *b, size_t *len)
{
    if (!b->data) nb_buf_reserve(b, 0);
    char *p = b->data;
    if (len) *len = b->len;
    memset(b, 0, sizeof(*b));
    return p;
}

/* ---- strings ---- */

bool nb_str_eq(nb_str a, const char *lit)
{
    size_t n = strlen(lit);
    return a.n == n && memcmp(a.p, lit, n) == 0;
}

static inline int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

bool nb_mem_ieq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) return false;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return false;
    return true;
}

bool nb_str_ieq(nb_str a, const char *lit) { return nb_mem_ieq(a.p, a.n, lit, strlen(lit)); }

void nb_hex(const unsigned char *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = 0;
}

void nb_random(void *out, size_t n)
{
    unsigned char *p = out;
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            nb_panic(__FILE__, __LINE__, "getrandom failed");
        }
        p += r;
        n -= (size_t)r;
    }
}

void nb_random_hex(char *out, size_t len)
{
    unsigned char raw[64];
    while (len) {
        size_t take = len > 128 ? 128 : len;
        nb_random(raw, (take + 1) / 2);
        char tmp[130];
        nb_hex(raw, (take + 1) / 2, tmp);
        memcpy(out, tmp, take);
        out += take;
        len -= take;
    }
    *out = 0;
}

void nb_uuid4(char out[37])
{
    unsigned char r[16];
    nb_random(r, sizeof(r));
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    char h[33];
    nb_hex(r, 16, h);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t nb_base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

size_t nb_base64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
    return o;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

ssize_t nb_base64_decode(const char *in, size_t n, unsigned char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad) return -1; /* data after padding */
        int v = b64val(c);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (pad > 2 || bits >= 6) return -1;
    return (ssize_t)o;
}

/* ---- URL encoding ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

ssize_t nb_url_decode(const char *in, size_t n, char *out, bool plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval((unsigned char)in[i + 1]), l = hexval((unsigned char)in[i + 2]);
            if (h < 0 || l < 0) return -1;
            out[o++] = (char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out[o++] = ' ';
        } else {
            out[o++] = c;
        }
    }
    return (ssize_t)o;
}

int nb_url_encode(nb_buf *b, const char *in, size_t n, bool keep_slash)
{
    static const char d[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && keep_slash)) {
            if (nb_buf_putc(b, (char)c)) return NB_NOMEM;
        } else {
            char e[3] = {'%', d[c >> 4], d[c & 15]};
            if (nb_buf_append(b, e, 3)) return NB_NOMEM;
        }
    }
    return NB_OK;
}

/* ---- logging ---- */

int nb_log_level = NB_LOG_INFO;

int nb_log_level_parse(const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

void nb_host_id(const char *request_id, char out[80])
{
    size_t n = strlen(request_id);
    if (n > 54) n = 54;
    nb_base64_encode((const unsigned char *)request_id, n, out);
}

/* One write(2) per line or buffer of lines, no lock: at most 4 KiB (PIPE_BUF), which the
 * kernel writes whole to a pipe, and O_APPEND files get whole lines too. The access log writes
 * a line per request, so a global mutex here would serialize the loops. */
static void log_write(const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(STDERR_FILENO, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
}

/* The buffer is allocated by the threads that ask for it: a static array here would be
 * zeroed, so resident, in every thread (64 workers). */
#define LOG_BUF 4096
static _Thread_local struct {
    bool on;
    size_t len;
    char *buf;
} log_tl;

void nb_log(int level, const char *fmt, ...)
{
    static const char *tag[] = {"debug", "info", "warn", "error"};
    if (level < nb_log_level) return;
    char line[4096];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, tag[level < 0 ? 0 : level > 3 ? 3 : level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2) len = sizeof(line) - 2;
    line[len++] = '\n';
    if (log_tl.on && level < NB_LOG_WARN) {
        if (log_tl.len + len > LOG_BUF) nb_log_flush();
        memcpy(log_tl.buf + log_tl.len, line, len);
        log_tl.len += len;
        return;
    }
    nb_log_flush();
    log_write(line, len);
}

void nb_log_buffered(bool on)
{
    if (on && !log_tl.buf && !(log_tl.buf = malloc(LOG_BUF))) return; /* unbuffered, then */
    if (!on) {
        nb_log_flush();
        free(log_tl.buf);
        log_tl.buf = NULL;
    }
    log_tl.on = on;
}

void nb_log_flush(void)
{
    if (!log_tl.len) return;
    log_write(log_tl.buf, log_tl.len);
    log_tl.len = 0;
}

int64_t nb_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t nb_mono_ms(void) { return nb_mono_us() / 1000; }

int64_t nb_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
