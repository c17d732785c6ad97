/* loadgen.c: benchmark load generator: SigV4-signed AWS requests (STS, S3) or raw GETs over
 * N keep-alive connections on loopback, for a duration or a request count; prints one JSON
 * line and one human line. Also measures a server's exec-to-first-response time and RSS.
 *
 * Design: one epoll loop per thread (edge-triggered, non-blocking sockets), each owning a
 * share of the connections; one request in flight per connection (no pipelining), as AWS
 * SDKs do. Every distinct request is signed once before the clock starts (one X-Amz-Date
 * for the whole run, which is fine for runs shorter than the 15-minute skew window), so
 * the generator spends its time on sockets, not on HMACs. Request bodies stream from a
 * 1 MiB deterministic pattern, so a 5 GiB PUT never holds more than that in memory, and
 * `--emit N` writes the same bytes to stdout (nginx then serves exactly what S3 stored).
 */
#include "core/nb.h"
#include "proto/sigv4.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_LEN (1u << 20) /* body pattern; bodies repeat it */
#define RBUF_LEN (256u << 10)  /* per-thread receive buffer */
#define HBUF_LEN (16u << 10)   /* response head limit */
#define ERRCAP_LEN 400         /* bytes of the first error body kept for the report */
#define HIST_BUCKETS 1200      /* latency buckets of 2% width, 1 us .. ~20 min */
#define HIST_BASE 1.02
#define STS_BODY "Action=GetCallerIdentity&Version=2011-06-15"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum op { OP_STS, OP_PUT, OP_GET, OP_LIST, OP_RAW, OP_MKBUCKET, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"sts", "put", "get", "list", "raw", "mkbucket"};

/* ---- options ---- */
static struct {
    struct sockaddr_in addr;
    char hostport[64];
    int conns, threads;
    double duration;    /* seconds; in count mode a cap */
    bool duration_set;
    uint64_t count;     /* 0 = duration mode */
    uint64_t size;      /* PUT body size; GET expected size (0 = unchecked) */
    uint64_t keys;
    bool keys_set;
    uint64_t key_base;  /* first key index */
    uint64_t dirs;      /* 0 = flat keys; else key i lives under d<i % dirs>/ */
    const char *key_prefix, *bucket, *delimiter, *list_prefix, *path;
    const char *region, *access_key, *secret_key, *label;
    int weights[OP_COUNT];
    bool unsigned_payload, verify, dump;
    double timeout;
    /* startup mode */
    bool startup;
    const char *log_path;
    int rss_after_ms;
    double startup_timeout;
} opt = {
    .conns = 16, .threads = 1, .duration = 10, .keys = 1000, .key_prefix = "k",
    .bucket = "bench", .delimiter = "/", .region = "us-east-1", .access_key = "test",
    .secret_key = "test", .label = "", .timeout = 60, .rss_after_ms = 500,
    .startup_timeout = 30,
};

/* ---- the body pattern ---- */
static unsigned char *pattern;

static void pattern_init(void) {
    pattern = nb_xmalloc(PATTERN_LEN);
    uint64_t x = 0x9e3779b97f4a7c15ull; /* fixed seed: the same bytes in every process */
    for (size_t i = 0; i < PATTERN_LEN; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(pattern + i, &x, 8);
    }
}

/* ---- pre-signed request templates ---- */
typedef struct reqtpl {
    char *head;         /* request line + headers (+ a small inline body), sent as is */
    size_t head_len;
    uint64_t body_len;  /* pattern bytes that follow the head */
} reqtpl;

static struct {
    reqtpl *t;
    size_t n;
    _Atomic uint64_t next; /* round-robin over the templates (keys) */
} tpls[OP_COUNT];

static char amz_date[17], scope_date[9];

static void key_name(char *out, size_t cap, uint64_t i) {
    if (opt.dirs)
        snprintf(out, cap, "d%llu/%s%llu", (unsigned long long)(i % opt.dirs), opt.key_prefix,
                 (unsigned long long)i);
    else
        snprintf(out, cap, "%s%llu", opt.key_prefix, (unsigned long long)i);
}

/* SHA-256 hex of `size` pattern bytes, streamed so size may exceed the pattern. */
static void pattern_sha256(uint64_t size, char out[65]) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    NB_ASSERT(ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL));
    for (uint64_t off = 0; off < size; off += PATTERN_LEN) {
        size_t k = size - off < PATTERN_LEN ? (size_t)(size - off) : PATTERN_LEN;
        EVP_DigestUpdate(ctx, pattern, k);
    }
    EVP_DigestFinal_ex(ctx, md, NULL);
    EVP_MD_CTX_free(ctx);
    nb_hex(md, 32, out);
}

/* Build one signed request. body_inline (may be NULL) is appended to the head; body_len
 * pattern bytes follow it on the wire. */
static void make_tpl(reqtpl *t, nb_buf *scratch, const char *method, const char *path,
                     const char *query, const char *service, bool s3, const char *content_type,
                     const char *body_inline, uint64_t body_len, const char *payload_hash,
                     bool sign) {
    nb_header h[4];
    size_t nh = 0;
    if (content_type) h[nh++] = (nb_header){"content-type", 12, content_type, strlen(content_type)};
    h[nh++] = (nb_header){"host", 4, opt.hostport, strlen(opt.hostport)};
    if (s3) h[nh++] = (nb_header){"x-amz-content-sha256", 20, payload_hash, strlen(payload_hash)};
    h[nh++] = (nb_header){"x-amz-date", 10, amz_date, 16};

    nb_buf_reset(scratch);
    if (sign && nb_sigv4_sign(scratch, opt.access_key, opt.secret_key, opt.region, service,
                              amz_date, method, path, query ? query : "", h, nh, payload_hash,
                              s3) != 0) {
        fprintf(stderr, "loadgen: signing %s %s failed\n", method, path);
        exit(2);
    }
    uint64_t inline_len = body_inline ? strlen(body_inline) : 0;
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_printf(&b, "%s %s%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nimbus-loadgen/%s\r\n",
                  method, path, query && *query ? "?" : "", query ? query : "", opt.hostport,
                  NB_VERSION);
    if (sign) {
        if (content_type) nb_buf_printf(&b, "Content-Type: %s\r\n", content_type);
        if (s3) nb_buf_printf(&b, "X-Amz-Content-Sha256: %s\r\n", payload_hash);
        nb_buf_printf(&b, "X-Amz-Date: %s\r\nAuthorization: %s\r\n", amz_date, scratch->data);
    }
    if (inline_len + body_len || strcmp(method, "GET") != 0)
        nb_buf_printf(&b, "Content-Length: %llu\r\n", (unsigned long long)(inline_len + body_len));
    nb_buf_puts(&b, "\r\n");
    if (body_inline) nb_buf_puts(&b, body_inline);
    if (b.oom) {
        fprintf(stderr, "loadgen: out of memory building requests\n");
        exit(2);
    }
    t->head = nb_buf_steal(&b, &t->head_len);
    t->body_len = body_len;
}

static void build_templates(void) {
    nb_buf scratch;
    nb_buf_init(&scratch);
    char path[2048], key[1100], hash[65];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
    memcpy(scope_date, amz_date, 8);

    /* Bodies above 16 MiB are sent UNSIGNED-PAYLOAD (as SDKs do for streams); smaller ones
     * carry their real SHA-256, so the server verifies the payload hash as it would for
     * boto3 over plain HTTP. */
    bool unsigned_put = opt.unsigned_payload || opt.size > (16u << 20);
    if (unsigned_put)
        strcpy(hash, "UNSIGNED-PAYLOAD");
    else
        pattern_sha256(opt.size, hash);

    for (int op = 0; op < OP_COUNT; op++) {
        if (!opt.weights[op]) continue;
        bool keyed = op == OP_PUT || op == OP_GET || (op == OP_RAW && !opt.path);
        size_t n = keyed ? opt.keys : 1;
        tpls[op].t = nb_xcalloc(n, sizeof(reqtpl));
        tpls[op].n = n;
        for (size_t i = 0; i < n; i++) {
            reqtpl *t = &tpls[op].t[i];
            if (keyed) {
                key_name(key, sizeof key, opt.key_base + i);
                snprintf(path, sizeof path, "/%s/%s", opt.bucket, key);
            }
            switch (op) {
            case OP_STS: {
                char h[65];
                nb_sha256_hex(STS_BODY, strlen(STS_BODY), h);
                make_tpl(t, &scratch, "POST", "/", NULL, "sts", false,
                         "application/x-www-form-urlencoded; charset=utf-8", STS_BODY, 0, h,
                         true);
                break;
            }
            case OP_PUT:
                make_tpl(t, &scratch, "PUT", path, NULL, "s3", true, NULL, NULL, opt.size,
                         hash, true);
                break;
            case OP_GET:
                make_tpl(t, &scratch, "GET", path, NULL, "s3", true, NULL, NULL, 0,
                         EMPTY_SHA256, true);
                break;
            case OP_LIST: {
                /* Canonical query: names sorted, values RFC 3986-encoded. */
                nb_buf q;
                nb_buf_init(&q);
                if (opt.delimiter && *opt.delimiter) {
                    nb_buf_puts(&q, "delimiter=");
                    nb_url_encode(&q, opt.delimiter, strlen(opt.delimiter), false);
                    nb_buf_putc(&q, '&');
                }
                nb_buf_puts(&q, "list-type=2");
                if (opt.list_prefix && *opt.list_prefix) {
                    nb_buf_puts(&q, "&prefix=");
                    nb_url_encode(&q, opt.list_prefix, strlen(opt.list_prefix), false);
                }
                snprintf(path, sizeof path, "/%s", opt.bucket);
                make_tpl(t, &scratch, "GET", path, q.data, "s3", true, NULL, NULL, 0,
                         EMPTY_SHA256, true);
                nb_buf_free(&q);
                break;
            }
            case OP_RAW:
                make_tpl(t, &scratch, "GET", opt.path ? opt.path : path, NULL, "s3", false, NULL,
                         NULL, 0, EMPTY_SHA256, false);
                break;
            case OP_MKBUCKET:
                snprintf(path, sizeof path, "/%s", opt.bucket);
                make_tpl(t, &scratch, "PUT", path, NULL, "s3", true, NULL, NULL, 0, EMPTY_SHA256,
                         true);
                break;
            }
        }
    }
    nb_buf_free(&scratch);
}

/* ---- statistics ---- */
typedef struct stats {
    uint64_t done, ok, bytes;
    uint64_t err_connect, err_io, err_timeout, err_length, err_verify;
    uint64_t status[600];
    uint64_t hist[HIST_BUCKETS];
    uint64_t lat_sum, lat_max;
    int64_t last_done_us;
    char first_err[ERRCAP_LEN + 1];
    int first_err_status;
} stats;

static double log_base;

static int hist_bucket(uint64_t us) {
    if (us < 1) us = 1;
    int b = (int)(log((double)us) / log_base);
    return b >= HIST_BUCKETS ? HIST_BUCKETS - 1 : b;
}

/* Upper edge of the bucket holding the q-quantile, in ms (2% resolution). */
static double hist_quantile(const stats *s, double q) {
    uint64_t total = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) total += s->hist[i];
    if (!total) return 0;
    uint64_t want = (uint64_t)ceil(q * (double)total), seen = 0;
    if (want < 1) want = 1;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += s->hist[i];
        if (seen >= want) {
            double v = pow(HIST_BASE, i + 1) / 1000.0;
            double mx = (double)s->lat_max / 1000.0;
            return v > mx ? mx : v;
        }
    }
    return (double)s->lat_max / 1000.0;
}

/* ---- connections ---- */
enum cstate { C_CONNECTING, C_IDLE, C_WRITING, C_READING, C_WAIT, C_DONE };
enum rstate { RS_HEAD, RS_BODY_CL, RS_BODY_CLOSE, RS_CHUNK_SIZE, RS_CHUNK_DATA, RS_CHUNK_CRLF,
              RS_TRAILER, RS_DONE };
enum { IO_AGAIN, IO_DONE, IO_ERR };

typedef struct conn {
    int fd;
    enum cstate state;
    int op;
    const reqtpl *t;
    size_t head_off;
    uint64_t body_off;
    int64_t start_us, retry_at_us;
    int connect_fails;  /* in a row; the run gives up when the server stays away */
    bool write_failed;
    /* response */
    enum rstate rs;
    char *hbuf;
    size_t hlen;
    char line[160];
    size_t line_len;
    uint64_t left;      /* content-length or chunk bytes left */
    uint64_t body_seen; /* body bytes received */
    int status;
    bool resp_close;
    char errcap[ERRCAP_LEN + 1];
    size_t errcap_len;
} conn;

typedef struct thr {
    int id, ep;
    pthread_t th;
    conn *conns;
    int nconns, live;
    uint64_t rng;
    char *rbuf;
    stats st;
} thr;

static _Atomic uint64_t issued;     /* count mode: requests handed out */
static _Atomic bool stopping;
static _Atomic bool gave_up;        /* the server went away: the window ends now */
static int64_t t_start_us, t_deadline_us;
static int weight_total;

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void conn_open(thr *t, conn *c);

static void conn_close_fd(thr *t, conn *c) {
    if (c->fd >= 0) {
        epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
}

/* Drop the connection; reconnect at once (or after a pause when the server refused). */
static void conn_restart(thr *t, conn *c, bool pause) {
    conn_close_fd(t, c);
    if (atomic_load_explicit(&stopping, memory_order_relaxed)) {
        c->state = C_DONE;
        t->live--;
        return;
    }
    if (pause) {
        if (++c->connect_fails >= 40) { /* 2 s of refusals: nothing is listening */
            if (!atomic_exchange(&gave_up, true))
                fprintf(stderr, "loadgen: cannot connect to %s, giving up\n", opt.hostport);
            atomic_store(&stopping, true);
        }
        c->state = C_WAIT;
        c->retry_at_us = now_us() + 50000;
        return;
    }
    conn_open(t, c);
}

static void conn_open(thr *t, conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        t->st.err_connect++;
        c->state = C_WAIT;
        c->retry_at_us = now_us() + 50000;
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = C_CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&opt.addr, sizeof opt.addr) != 0 &&
        errno != EINPROGRESS) {
        t->st.err_connect++;
        conn_restart(t, c, true);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        t->st.err_connect++;
        conn_restart(t, c, true);
    }
}

static uint64_t xorshift(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Pick the next request for an idle connection; false when the run is over. */
static bool next_request(thr *t, conn *c) {
    if (atomic_load_explicit(&stopping, memory_order_relaxed)) return false;
    if (opt.count && atomic_fetch_add(&issued, 1) >= opt.count) return false;
    int op = 0;
    if (weight_total > 1) {
        int r = (int)(xorshift(&t->rng) % (uint64_t)weight_total);
        while (r >= opt.weights[op]) r -= opt.weights[op++];
    } else {
        while (!opt.weights[op]) op++;
    }
    uint64_t i = tpls[op].n > 1 ? atomic_fetch_add_explicit(&tpls[op].next, 1,
                                                           memory_order_relaxed) % tpls[op].n
                                : 0;
    c->op = op;
    c->t = &tpls[op].t[i];
    c->head_off = 0;
    c->body_off = 0;
    c->write_failed = false;
    c->rs = RS_HEAD;
    c->hlen = 0;
    c->line_len = 0;
    c->body_seen = 0;
    c->status = 0;
    c->resp_close = false;
    c->errcap_len = 0;
    c->start_us = now_us();
    c->state = C_WRITING;
    return true;
}

/* Write head then pattern bytes until done or the socket is full. */
static int conn_write(conn *c) {
    const reqtpl *t = c->t;
    for (;;) {
        struct iovec iov[3];
        int n = 0;
        if (c->head_off < t->head_len)
            iov[n++] = (struct iovec){t->head + c->head_off, t->head_len - c->head_off};
        uint64_t left = t->body_len - c->body_off;
        if (left) {
            size_t po = c->body_off % PATTERN_LEN, take = PATTERN_LEN - po;
            if (take > left) take = left;
            iov[n++] = (struct iovec){pattern + po, take};
            if (take < left && po) { /* the wrap-around piece, so one call sends a full MiB */
                size_t more = left - take < po ? left - take : po;
                iov[n++] = (struct iovec){pattern, more};
            }
        }
        if (!n) return IO_DONE;
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return IO_AGAIN;
            return IO_ERR;
        }
        size_t hw = t->head_len - c->head_off;
        if ((size_t)w <= hw) {
            c->head_off += (size_t)w;
        } else {
            c->head_off = t->head_len;
            c->body_off += (uint64_t)w - hw;
        }
    }
}

static bool hdr_is(const char *line, size_t n, const char *name, const char **val, size_t *vn) {
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || !nb_mem_ieq(line, k, name, k)) return false;
    const char *v = line + k + 1, *e = line + n;
    while (v < e && (*v == ' ' || *v == '\t')) v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    *val = v;
    *vn = (size_t)(e - v);
    return true;
}

static bool contains_token(const char *v, size_t n, const char *tok) {
    size_t k = strlen(tok);
    for (size_t i = 0; i + k <= n; i++)
        if (nb_mem_ieq(v + i, k, tok, k)) return true;
    return false;
}

/* Parse the response head in c->hbuf[0..end). Returns 0, or -1 if it is not HTTP. */
static int parse_head(conn *c, size_t end) {
    const char *p = c->hbuf, *e = c->hbuf + end;
    if (end < 12 || memcmp(p, "HTTP/1.", 7) != 0) return -1;
    c->status = atoi(p + 9);
    if (c->status < 100 || c->status > 599) return -1;
    bool http10 = p[7] == '0', chunked = false, keep = false;
    int64_t cl = -1;
    const char *l = memchr(p, '\n', (size_t)(e - p));
    while (l && ++l < e) {
        const char *nl = memchr(l, '\n', (size_t)(e - l));
        size_t n = nl ? (size_t)(nl - l) : (size_t)(e - l);
        const char *v;
        size_t vn;
        if (hdr_is(l, n, "content-length", &v, &vn))
            cl = strtoll(v, NULL, 10);
        else if (hdr_is(l, n, "transfer-encoding", &v, &vn))
            chunked = contains_token(v, vn, "chunked");
        else if (hdr_is(l, n, "connection", &v, &vn)) {
            if (contains_token(v, vn, "close")) c->resp_close = true;
            if (contains_token(v, vn, "keep-alive")) keep = true;
        }
        l = nl;
    }
    if (http10 && !keep) c->resp_close = true;
    if (c->status < 200 || c->status == 204 || c->status == 304)
        c->rs = RS_DONE;
    else if (chunked)
        c->rs = RS_CHUNK_SIZE;
    else if (cl >= 0)
        c->rs = cl ? RS_BODY_CL : RS_DONE, c->left = (uint64_t)cl;
    else
        c->rs = RS_BODY_CLOSE, c->resp_close = true;
    return 0;
}

static void body_bytes(thr *t, conn *c, const char *p, size_t n) {
    if (c->status >= 300 && c->errcap_len < ERRCAP_LEN) {
        size_t k = ERRCAP_LEN - c->errcap_len < n ? ERRCAP_LEN - c->errcap_len : n;
        memcpy(c->errcap + c->errcap_len, p, k);
        c->errcap_len += k;
    }
    if (opt.verify && (c->op == OP_GET || c->op == OP_RAW) && c->status / 100 == 2) {
        uint64_t off = c->body_seen;
        size_t done = 0;
        while (done < n) {
            size_t po = (off + done) % PATTERN_LEN, k = PATTERN_LEN - po;
            if (k > n - done) k = n - done;
            if (memcmp(p + done, pattern + po, k) != 0) {
                t->st.err_verify++;
                break;
            }
            done += k;
        }
    }
    c->body_seen += n;
}

/* Feed response bytes; IO_DONE once a whole response was read. */
static int resp_feed(thr *t, conn *c, const char *p, size_t n) {
    while (n || c->rs == RS_DONE) {
        switch (c->rs) {
        case RS_HEAD: {
            if (!c->hbuf) c->hbuf = nb_xmalloc(HBUF_LEN);
            size_t take = HBUF_LEN - c->hlen < n ? HBUF_LEN - c->hlen : n;
            size_t from = c->hlen > 3 ? c->hlen - 3 : 0;
            memcpy(c->hbuf + c->hlen, p, take);
            c->hlen += take;
            char *end = memmem(c->hbuf + from, c->hlen - from, "\r\n\r\n", 4);
            if (!end) {
                if (c->hlen == HBUF_LEN) return IO_ERR;
                return IO_AGAIN;
            }
            size_t head_len = (size_t)(end - c->hbuf) + 4;
            size_t used = head_len - (c->hlen - take); /* bytes of p that were head */
            if (parse_head(c, head_len) != 0) return IO_ERR;
            p += used;
            n -= used;
            if (c->status < 200) { /* 100 Continue and friends: the real head follows */
                c->rs = RS_HEAD;
                c->hlen = 0;
            }
            break;
        }
        case RS_BODY_CL:
        case RS_CHUNK_DATA: {
            size_t k = c->left < n ? (size_t)c->left : n;
            body_bytes(t, c, p, k);
            p += k;
            n -= k;
            c->left -= k;
            if (!c->left) c->rs = c->rs == RS_BODY_CL ? RS_DONE : RS_CHUNK_CRLF;
            break;
        }
        case RS_BODY_CLOSE:
            body_bytes(t, c, p, n);
            n = 0;
            break;
        case RS_CHUNK_CRLF:
        case RS_CHUNK_SIZE:
        case RS_TRAILER: {
            const char *nl = memchr(p, '\n', n);
            size_t k = nl ? (size_t)(nl - p) + 1 : n;
            if (c->line_len + k >= sizeof c->line) return IO_ERR;
            memcpy(c->line + c->line_len, p, k);
            c->line_len += k;
            p += k;
            n -= k;
            if (!nl) break;
            size_t ll = c->line_len;
            c->line[ll] = 0;
            c->line_len = 0;
            bool blank = ll == 1 || (ll == 2 && c->line[0] == '\r');
            if (c->rs == RS_CHUNK_CRLF) {
                if (!blank) return IO_ERR;
                c->rs = RS_CHUNK_SIZE;
            } else if (c->rs == RS_CHUNK_SIZE) {
                char *endp;
                unsigned long long sz = strtoull(c->line, &endp, 16);
                if (endp == c->line) return IO_ERR;
                c->left = sz;
                c->rs = sz ? RS_CHUNK_DATA : RS_TRAILER;
            } else if (blank) {
                c->rs = RS_DONE;
            }
            break;
        }
        case RS_DONE:
            return IO_DONE;
        }
    }
    return IO_AGAIN;
}

/* Where the next recv lands in rbuf: inside a Content-Length body, at the body's own offset
 * modulo 64, so that each body byte sits at the same cache-line offset as in the server's
 * page-aligned file pages. The kernel's copy into the buffer (rep movsb on x86) runs several
 * times faster when source and destination are mutually 64-byte aligned: with a buffer at a
 * fixed address, that became a matter of the length of each server's response head (nginx's
 * happened to suit a malloc'd buffer, Nimbus's did not), which says nothing about either
 * server. Every server's body gets the aligned copy. */
static size_t rbuf_skew(const conn *c) {
    if (c->rs != RS_BODY_CL) return 0;
    return (size_t)((64 - c->body_seen % 64) % 64);
}

static int conn_read(thr *t, conn *c) {
    for (;;) {
        size_t skew = rbuf_skew(c);
        ssize_t n = recv(c->fd, t->rbuf + skew, RBUF_LEN, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return IO_AGAIN;
            return IO_ERR;
        }
        if (n == 0) {
            if (c->rs == RS_BODY_CLOSE) {
                c->rs = RS_DONE;
                return IO_DONE;
            }
            return IO_ERR;
        }
        int r = resp_feed(t, c, t->rbuf + skew, (size_t)n);
        if (r != IO_AGAIN) return r;
    }
}

static void record(thr *t, conn *c) {
    int64_t now = now_us();
    uint64_t lat = (uint64_t)(now - c->start_us);
    stats *s = &t->st;
    s->done++;
    s->status[c->status]++;
    s->hist[hist_bucket(lat)]++;
    s->lat_sum += lat;
    if (lat > s->lat_max) s->lat_max = lat;
    s->last_done_us = now;
    if (c->status / 100 == 2) {
        s->ok++;
        s->bytes += c->t->body_len + c->body_seen;
        if (opt.size && (c->op == OP_GET || c->op == OP_RAW) && c->body_seen != opt.size)
            s->err_length++;
    } else if (!s->first_err_status) {
        s->first_err_status = c->status;
        memcpy(s->first_err, c->errcap, c->errcap_len);
        s->first_err[c->errcap_len] = 0;
    }
}

/* Advance a connection as far as its socket allows (edge-triggered). */
static void conn_drive(thr *t, conn *c, uint32_t ev) {
    for (;;) {
        switch (c->state) {
        case C_CONNECTING: {
            int err = 0;
            socklen_t l = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
            if (err || (ev & (EPOLLERR | EPOLLHUP))) {
                t->st.err_connect++;
                conn_restart(t, c, true);
                return;
            }
            if (!(ev & EPOLLOUT)) return;
            c->connect_fails = 0;
            c->state = C_IDLE;
            break;
        }
        case C_IDLE:
            if (!next_request(t, c)) {
                conn_close_fd(t, c);
                c->state = C_DONE;
                t->live--;
                return;
            }
            break;
        case C_WRITING: {
            int r = conn_write(c);
            if (r == IO_AGAIN) {
                /* The server may answer before reading the whole body (an error, say). */
                r = conn_read(t, c);
                if (r == IO_AGAIN) return;
                if (r == IO_DONE) {
                    record(t, c);
                    conn_restart(t, c, false); /* body unsent: the connection is unusable */
                } else {
                    t->st.err_io++;
                    conn_restart(t, c, false);
                }
                return;
            }
            c->state = C_READING;
            if (r == IO_ERR) { /* still collect an answer the server sent before closing */
                c->write_failed = true;
                break;
            }
            /* Wait for EPOLLIN rather than try a recv that would almost always find nothing:
             * one syscall less per request. Edge-triggered epoll reports every arrival. */
            return;
        }
        case C_READING: {
            if (!c->write_failed && !(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                return; /* an EPOLLOUT edge: nothing to read yet */
            int r = conn_read(t, c);
            if (r == IO_AGAIN) return;
            if (r == IO_ERR) {
                t->st.err_io++;
                conn_restart(t, c, false);
                return;
            }
            record(t, c);
            if (c->resp_close || c->write_failed) {
                conn_restart(t, c, false);
                return;
            }
            c->state = C_IDLE;
            break;
        }
        case C_WAIT:
        case C_DONE:
            return;
        }
    }
}

static void *thr_main(void *arg) {
    thr *t = arg;
    struct epoll_event evs[256];
    for (int i = 0; i < t->nconns; i++) conn_open(t, &t->conns[i]);
    int64_t last_scan = now_us();
    while (t->live > 0) {
        int64_t now = now_us();
        if (now >= t_deadline_us) {
            atomic_store(&stopping, true);
            break;
        }
        int ms = (int)((t_deadline_us - now) / 1000) + 1;
        if (ms > 20) ms = 20;
        int n = epoll_wait(t->ep, evs, (int)NB_ARRAY_LEN(evs), ms);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->state != C_DONE) conn_drive(t, c, evs[i].events);
        }
        now = now_us();
        if (now - last_scan >= 20000) { /* timeouts and reconnect pauses */
            last_scan = now;
            for (int i = 0; i < t->nconns; i++) {
                conn *c = &t->conns[i];
                if (c->state == C_WAIT && now >= c->retry_at_us) {
                    conn_open(t, c); /* epoll reports the outcome */
                } else if ((c->state == C_WRITING || c->state == C_READING) &&
                           (double)(now - c->start_us) > opt.timeout * 1e6) {
                    t->st.err_timeout++;
                    conn_restart(t, c, false);
                }
            }
        }
    }
    for (int i = 0; i < t->nconns; i++) conn_close_fd(t, &t->conns[i]);
    return NULL;
}

/* ---- output ---- */
static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            fprintf(f, "\\u%04x", ch < 0x20 ? ch : '?');
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void report(stats *s, double secs) {
    uint64_t non2xx = s->done - s->ok;
    uint64_t errors = non2xx + s->err_connect + s->err_io + s->err_timeout + s->err_length +
                      s->err_verify;
    double rps = secs > 0 ? (double)s->ok / secs : 0;
    double mbps = secs > 0 ? (double)s->bytes / secs / 1e6 : 0;
    double p50 = hist_quantile(s, 0.50), p90 = hist_quantile(s, 0.90),
           p99 = hist_quantile(s, 0.99), p999 = hist_quantile(s, 0.999);
    double mean = s->done ? (double)s->lat_sum / (double)s->done / 1000.0 : 0;
    char ops[128] = "";
    for (int i = 0; i < OP_COUNT; i++)
        if (opt.weights[i])
            snprintf(ops + strlen(ops), sizeof ops - strlen(ops), "%s%s=%d", *ops ? "," : "",
                     op_names[i], opt.weights[i]);
    char statuses[512] = "";
    for (int i = 0; i < 600; i++)
        if (s->status[i])
            snprintf(statuses + strlen(statuses), sizeof statuses - strlen(statuses), "%s%d:%llu",
                     *statuses ? " " : "", i, (unsigned long long)s->status[i]);

    /* Flat on purpose: a shell script can pick any field with one sed expression. */
    printf("{\"label\":");
    json_str(stdout, opt.label);
    printf(",\"op\":\"%s\",\"conns\":%d,\"threads\":%d,\"size\":%llu,\"seconds\":%.3f,"
           "\"requests\":%llu,\"ok\":%llu,\"rps\":%.1f,\"mbps\":%.2f,\"bytes\":%llu,"
           "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
           "\"mean_ms\":%.3f,\"errors\":%llu,\"non2xx\":%llu,\"err_connect\":%llu,"
           "\"err_io\":%llu,\"err_timeout\":%llu,\"err_length\":%llu,\"err_verify\":%llu,"
           "\"first_error_status\":%d,\"statuses\":\"%s\",\"first_error\":",
           ops, opt.conns, opt.threads, (unsigned long long)opt.size, secs,
           (unsigned long long)s->done, (unsigned long long)s->ok, rps, mbps,
           (unsigned long long)s->bytes, p50, p90, p99, p999, (double)s->lat_max / 1000.0, mean,
           (unsigned long long)errors, (unsigned long long)non2xx,
           (unsigned long long)s->err_connect, (unsigned long long)s->err_io,
           (unsigned long long)s->err_timeout, (unsigned long long)s->err_length,
           (unsigned long long)s->err_verify, s->first_err_status, statuses);
    json_str(stdout, s->first_err);
    printf("}\n");
    printf("%s%s%s: %.1f req/s, %.2f MB/s, p50 %.3f ms, p99 %.3f ms, max %.3f ms; "
           "%llu requests in %.2f s over %d connections; errors %llu (non-2xx %llu, connect "
           "%llu, io %llu, timeout %llu, length %llu, verify %llu)\n",
           opt.label, *opt.label ? " " : "", ops, rps, mbps, p50, p99,
           (double)s->lat_max / 1000.0, (unsigned long long)s->done, secs, opt.conns,
           (unsigned long long)errors, (unsigned long long)non2xx,
           (unsigned long long)s->err_connect, (unsigned long long)s->err_io,
           (unsigned long long)s->err_timeout, (unsigned long long)s->err_length,
           (unsigned long long)s->err_verify);
    fflush(stdout);
    if (s->first_err_status) { /* one line, whatever the body holds */
        for (char *q = s->first_err; *q; q++)
            if ((unsigned char)*q < 0x20) *q = ' ';
        fprintf(stderr, "loadgen: first error: HTTP %d %.300s\n", s->first_err_status,
                s->first_err);
    }
    fflush(stdout);
}

static int run_load(void) {
    pattern_init();
    build_templates();
    if (opt.dump) { /* the first request of each operation, as sent (without the body) */
        for (int i = 0; i < OP_COUNT; i++)
            if (tpls[i].n) fwrite(tpls[i].t[0].head, 1, tpls[i].t[0].head_len, stdout);
        return 0;
    }
    for (int i = 0; i < OP_COUNT; i++) weight_total += opt.weights[i];
    if (opt.threads > opt.conns) opt.threads = opt.conns;
    thr *ts = nb_xcalloc((size_t)opt.threads, sizeof(thr));
    conn *cs = nb_xcalloc((size_t)opt.conns, sizeof(conn));
    for (int i = 0; i < opt.conns; i++) cs[i].fd = -1;
    t_start_us = now_us();
    t_deadline_us = t_start_us + (int64_t)(opt.duration * 1e6);
    int given = 0;
    for (int i = 0; i < opt.threads; i++) {
        thr *t = &ts[i];
        t->id = i;
        t->ep = epoll_create1(EPOLL_CLOEXEC);
        if (t->ep < 0) {
            perror("loadgen: epoll_create1");
            return 2;
        }
        t->nconns = opt.conns / opt.threads + (i < opt.conns % opt.threads);
        t->conns = cs + given;
        given += t->nconns;
        t->live = t->nconns;
        t->rng = 0x2545f4914f6cdd1dull * (uint64_t)(i + 1);
        t->rbuf = aligned_alloc(4096, RBUF_LEN + 4096); /* + room for rbuf_skew */
        if (!t->rbuf) {
            fprintf(stderr, "loadgen: out of memory\n");
            exit(2);
        }
        if (pthread_create(&t->th, NULL, thr_main, t) != 0) {
            perror("loadgen: pthread_create");
            return 2;
        }
    }
    stats *all = nb_xcalloc(1, sizeof(stats));
    for (int i = 0; i < opt.threads; i++) {
        pthread_join(ts[i].th, NULL);
        stats *s = &ts[i].st;
        all->done += s->done;
        all->ok += s->ok;
        all->bytes += s->bytes;
        all->err_connect += s->err_connect;
        all->err_io += s->err_io;
        all->err_timeout += s->err_timeout;
        all->err_length += s->err_length;
        all->err_verify += s->err_verify;
        for (int k = 0; k < 600; k++) all->status[k] += s->status[k];
        for (int k = 0; k < HIST_BUCKETS; k++) all->hist[k] += s->hist[k];
        all->lat_sum += s->lat_sum;
        if (s->lat_max > all->lat_max) all->lat_max = s->lat_max;
        if (s->last_done_us > all->last_done_us) all->last_done_us = s->last_done_us;
        if (!all->first_err_status && s->first_err_status) {
            all->first_err_status = s->first_err_status;
            memcpy(all->first_err, s->first_err, sizeof s->first_err);
        }
    }
    /* Duration mode: the window is the duration. Count mode: until the last response. */
    int64_t end = opt.count ? (all->last_done_us ? all->last_done_us : now_us()) : t_deadline_us;
    if (opt.count && atomic_load(&stopping)) end = t_deadline_us; /* hit the cap */
    if (atomic_load(&gave_up)) end = now_us();
    report(all, (double)(end - t_start_us) / 1e6);
    return all->done ? 0 : 1;
}

/* ---- startup mode: exec a server, time its first answer, read its RSS ---- */

/* VmRSS in KiB of pid and all its descendants (a server may fork helpers). */
static long rss_tree_kib(pid_t root) {
    pid_t pids[4096];
    int n = 0;
    pids[n++] = root;
    /* Walk /proc a few times so grandchildren are found whatever the directory order. */
    for (int pass = 0; pass < 4; pass++) {
        DIR *d = opendir("/proc");
        if (!d) break;
        struct dirent *de;
        while ((de = readdir(d)) && n < (int)NB_ARRAY_LEN(pids)) {
            pid_t p = (pid_t)atoi(de->d_name);
            if (p <= 0) continue;
            bool known = false;
            for (int i = 0; i < n; i++) known |= pids[i] == p;
            if (known) continue;
            char path[64], buf[512];
            snprintf(path, sizeof path, "/proc/%d/stat", (int)p);
            FILE *f = fopen(path, "r");
            if (!f) continue;
            size_t k = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[k] = 0;
            char *rp = strrchr(buf, ')');
            int ppid = 0;
            if (rp && sscanf(rp + 2, "%*c %d", &ppid) == 1)
                for (int i = 0; i < n; i++)
                    if (pids[i] == ppid) {
                        pids[n++] = p;
                        break;
                    }
        }
        closedir(d);
    }
    long total = 0;
    for (int i = 0; i < n; i++) {
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pids[i]);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "VmRSS:", 6)) total += atol(line + 6);
        fclose(f);
    }
    return total;
}

/* One blocking GET over a fresh connection; returns the status, 0 when nothing answered. */
static int probe_once(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    if (connect(fd, (struct sockaddr *)&opt.addr, sizeof opt.addr) != 0) {
        close(fd);
        return 0;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nimbus-loadgen/%s\r\n"
                     "Connection: close\r\n\r\n",
                     opt.path ? opt.path : "/", opt.hostport, NB_VERSION);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int status = 0;
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) == n) {
        char buf[64];
        size_t got = 0;
        while (got < 12) {
            ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
            if (r <= 0) break;
            got += (size_t)r;
        }
        buf[got] = 0;
        if (got >= 12 && !memcmp(buf, "HTTP/1.", 7)) status = atoi(buf + 9);
    }
    close(fd);
    return status;
}

/* Poll an already running server until it answers (or the timeout). */
static int run_wait(void) {
    int64_t t0 = now_us();
    while (now_us() - t0 < (int64_t)(opt.startup_timeout * 1e6)) {
        int st = probe_once();
        if (st) {
            printf("%d\n", st);
            return 0;
        }
        usleep(2000);
    }
    fprintf(stderr, "loadgen: %s did not answer within %.0f s\n", opt.hostport,
            opt.startup_timeout);
    return 1;
}

/* Print a loopback TCP port that is free right now (the kernel's pick). */
static int run_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) != 0) {
        perror("loadgen: free port");
        return 1;
    }
    printf("%d\n", ntohs(a.sin_port));
    close(fd);
    return 0;
}

static int run_startup(char **argv) {
    int64_t t0 = now_us();
    pid_t pid = fork();
    if (pid < 0) {
        perror("loadgen: fork");
        return 2;
    }
    if (pid == 0) {
        setpgid(0, 0); /* own group, so the whole server goes when we stop it */
        int fd = open(opt.log_path ? opt.log_path : "/dev/null",
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul >= 0) dup2(nul, 0);
        execvp(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    int status = 0, wst;
    int64_t t1 = 0;
    /* Tight connect loop: a refused connect on loopback costs a few microseconds; the 50 us
     * nap keeps us from starving the server of the CPU it needs to start. */
    while (now_us() - t0 < (int64_t)(opt.startup_timeout * 1e6)) {
        status = probe_once();
        if (status) {
            t1 = now_us();
            break;
        }
        if (waitpid(pid, &wst, WNOHANG) == pid) {
            fprintf(stderr, "loadgen: %s exited before answering (status %d)\n", argv[0], wst);
            return 1;
        }
        struct timespec nap = {0, 50000};
        nanosleep(&nap, NULL);
    }
    long rss = 0;
    if (t1) {
        struct timespec nap = {opt.rss_after_ms / 1000, (opt.rss_after_ms % 1000) * 1000000L};
        nanosleep(&nap, NULL);
        rss = rss_tree_kib(pid);
    }
    kill(-pid, SIGTERM);
    int64_t kdl = now_us() + 5000000;
    while (waitpid(pid, &wst, WNOHANG) == 0) {
        if (now_us() > kdl) {
            kill(-pid, SIGKILL);
            waitpid(pid, &wst, 0);
            break;
        }
        usleep(10000);
    }
    kill(-pid, SIGKILL); /* helpers that outlived the leader */
    printf("{\"label\":");
    json_str(stdout, opt.label);
    printf(",\"startup_ms\":%.3f,\"rss_kib\":%ld,\"status\":%d}\n",
           t1 ? (double)(t1 - t0) / 1000.0 : -1.0, rss, status);
    if (t1)
        printf("%s%sfirst response (HTTP %d) %.3f ms after exec; RSS %.2f MiB\n", opt.label,
               *opt.label ? ": " : "", status, (double)(t1 - t0) / 1000.0, (double)rss / 1024.0);
    else
        printf("%s%sno response within %.0f s\n", opt.label, *opt.label ? ": " : "",
               opt.startup_timeout);
    return t1 ? 0 : 1;
}

/* ---- command line ---- */
static uint64_t parse_size(const char *s) {
    char *e;
    double v = strtod(s, &e);
    uint64_t m = 1;
    switch (*e) {
    case 'k': case 'K': m = 1ull << 10; break;
    case 'm': case 'M': m = 1ull << 20; break;
    case 'g': case 'G': m = 1ull << 30; break;
    case 0: break;
    default:
        fprintf(stderr, "loadgen: bad size %s\n", s);
        exit(2);
    }
    return (uint64_t)(v * (double)m);
}

static void parse_ops(char *s) {
    memset(opt.weights, 0, sizeof opt.weights);
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        int w = 1;
        if (eq) {
            *eq = 0;
            w = atoi(eq + 1);
        }
        int i = 0;
        while (i < OP_COUNT && strcmp(op_names[i], tok) != 0) i++;
        if (i == OP_COUNT || w < 0 || w > 1000) {
            fprintf(stderr, "loadgen: unknown operation %s (sts put get list raw mkbucket)\n", tok);
            exit(2);
        }
        opt.weights[i] = w;
    }
}

static void usage(void) {
    fputs(
        "usage: loadgen --target 127.0.0.1:PORT [options]        load mode\n"
        "       loadgen --startup --target 127.0.0.1:PORT [--path /p] -- CMD ARGS...\n"
        "       loadgen --wait --target 127.0.0.1:PORT [--path /p] [-d S]  until it answers\n"
        "       loadgen --emit SIZE                              body pattern to stdout\n"
        "       loadgen --free-port                              a free loopback port\n"
        "  -o, --op OPS         sts | put | get | list | raw | mkbucket, or a mix get=9,put=1\n"
        "  -c, --conns N        keep-alive connections (16)\n"
        "  -t, --threads N      epoll threads (1)\n"
        "  -d, --duration S     seconds (10); with -n, a cap\n"
        "  -n, --requests N     stop after N requests (keys then go k0, k1, ... in order)\n"
        "  -s, --size SIZE      PUT body / expected GET size, e.g. 1K 1G (0)\n"
        "  -k, --keys N         distinct keys, each signed once (1000)\n"
        "      --key-base N     first key index (0)\n"
        "      --key-prefix P   key name prefix (k)\n"
        "      --dirs D         spread keys over D prefixes d0/ .. d<D-1>/ (0 = flat)\n"
        "  -b, --bucket NAME    bucket (bench)\n"
        "      --delimiter D    list delimiter (/)   --prefix P  list prefix\n"
        "      --path PATH      raw: fixed path (else /bucket/key); startup: probe path (/)\n"
        "      --region R --access-key A --secret-key S   (us-east-1, test, test)\n"
        "      --unsigned-payload  PUT with UNSIGNED-PAYLOAD (always above 16 MiB)\n"
        "      --verify         check GET bodies against the pattern\n"
        "      --timeout S      per-request timeout (60)\n"
        "      --label NAME     name in the output\n"
        "      --dump           print the first request of each operation and exit\n"
        "      --log FILE       startup: server stdout/stderr (/dev/null)\n"
        "      --rss-after-ms N startup: wait before reading RSS (500)\n",
        stderr);
    exit(2);
}

static void set_target(const char *s) {
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host) usage();
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
    opt.addr.sin_family = AF_INET;
    opt.addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &opt.addr.sin_addr) != 1) usage();
    /* Benchmarks drive servers on this machine only. */
    if ((ntohl(opt.addr.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "loadgen: refusing non-loopback target %s\n", s);
        exit(2);
    }
    snprintf(opt.hostport, sizeof opt.hostport, "%s", s);
}

int main(int argc, char **argv) {
    enum { OPT_KEYPFX = 256, OPT_KEYBASE, OPT_DIRS, OPT_DELIM, OPT_PREFIX, OPT_PATH, OPT_REGION, OPT_AK, OPT_SK,
           OPT_UNSIGNED, OPT_VERIFY, OPT_TIMEOUT, OPT_LABEL, OPT_STARTUP, OPT_LOG, OPT_RSSAFTER, OPT_EMIT,
           OPT_WAIT, OPT_FREEPORT, OPT_DUMP };
    static const struct option lo[] = {
        {"target", 1, 0, 'T'}, {"op", 1, 0, 'o'}, {"conns", 1, 0, 'c'},
        {"threads", 1, 0, 't'}, {"duration", 1, 0, 'd'}, {"requests", 1, 0, 'n'},
        {"size", 1, 0, 's'}, {"keys", 1, 0, 'k'}, {"bucket", 1, 0, 'b'},
        {"key-prefix", 1, 0, OPT_KEYPFX}, {"key-base", 1, 0, OPT_KEYBASE}, {"dirs", 1, 0, OPT_DIRS},
        {"delimiter", 1, 0, OPT_DELIM}, {"prefix", 1, 0, OPT_PREFIX}, {"path", 1, 0, OPT_PATH},
        {"region", 1, 0, OPT_REGION}, {"access-key", 1, 0, OPT_AK}, {"secret-key", 1, 0, OPT_SK},
        {"unsigned-payload", 0, 0, OPT_UNSIGNED}, {"verify", 0, 0, OPT_VERIFY},
        {"timeout", 1, 0, OPT_TIMEOUT}, {"label", 1, 0, OPT_LABEL}, {"startup", 0, 0, OPT_STARTUP},
        {"log", 1, 0, OPT_LOG}, {"rss-after-ms", 1, 0, OPT_RSSAFTER}, {"emit", 1, 0, OPT_EMIT},
        {"dump", 0, 0, OPT_DUMP}, {"wait", 0, 0, OPT_WAIT}, {"free-port", 0, 0, OPT_FREEPORT},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    opt.weights[OP_STS] = 1;
    int ch;
    bool have_target = false, wait = false;
    while ((ch = getopt_long(argc, argv, "+T:o:c:t:d:n:s:k:b:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'T': set_target(optarg); have_target = true; break;
        case 'o': parse_ops(optarg); break;
        case 'c': opt.conns = atoi(optarg); break;
        case 't': opt.threads = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); opt.duration_set = true; break;
        case 'n': opt.count = strtoull(optarg, NULL, 10); break;
        case 's': opt.size = parse_size(optarg); break;
        case 'k': opt.keys = strtoull(optarg, NULL, 10); opt.keys_set = true; break;
        case 'b': opt.bucket = optarg; break;
        case OPT_KEYPFX: opt.key_prefix = optarg; break;
        case OPT_KEYBASE: opt.key_base = strtoull(optarg, NULL, 10); break;
        case OPT_DIRS: opt.dirs = strtoull(optarg, NULL, 10); break;
        case OPT_DELIM: opt.delimiter = optarg; break;
        case OPT_PREFIX: opt.list_prefix = optarg; break;
        case OPT_PATH: opt.path = optarg; break;
        case OPT_REGION: opt.region = optarg; break;
        case OPT_AK: opt.access_key = optarg; break;
        case OPT_SK: opt.secret_key = optarg; break;
        case OPT_UNSIGNED: opt.unsigned_payload = true; break;
        case OPT_VERIFY: opt.verify = true; break;
        case OPT_TIMEOUT: opt.timeout = atof(optarg); break;
        case OPT_LABEL: opt.label = optarg; break;
        case OPT_STARTUP: opt.startup = true; break;
        case OPT_LOG: opt.log_path = optarg; break;
        case OPT_RSSAFTER: opt.rss_after_ms = atoi(optarg); break;
        case OPT_WAIT: wait = true; break;
        case OPT_DUMP: opt.dump = true; break;
        case OPT_FREEPORT: return run_free_port();
        case OPT_EMIT: {
            uint64_t left = parse_size(optarg);
            pattern_init();
            while (left) {
                size_t k = left < PATTERN_LEN ? (size_t)left : PATTERN_LEN;
                if (fwrite(pattern, 1, k, stdout) != k) return 1;
                left -= k;
            }
            return fflush(stdout) ? 1 : 0;
        }
        default: usage();
        }
    }
    if (!have_target) usage();
    signal(SIGPIPE, SIG_IGN);
    log_base = log(HIST_BASE);
    if (opt.duration_set) opt.startup_timeout = opt.duration;
    if (wait) return run_wait();
    if (opt.startup) {
        if (optind >= argc) usage();
        return run_startup(argv + optind);
    }
    if (opt.conns < 1 || opt.threads < 1 || opt.keys < 1 || opt.duration <= 0) usage();
    if (opt.count && !opt.duration_set) opt.duration = 3600; /* a count run is capped anyway */
    if (opt.count && opt.count < (uint64_t)opt.conns) opt.conns = (int)opt.count;
    /* Count mode walks the keys in order (loading k0..kN-1); the templates then cover them. */
    if (opt.count && !opt.keys_set && opt.keys < opt.count)
        opt.keys = opt.count;
    return run_load();
}
