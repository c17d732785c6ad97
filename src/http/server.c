/* server.c: server connections: reading and parsing requests (http_parser), handing them to
 * handlers, request bodies with back-pressure and 100-continue, responses (content-length,
 * chunked, sendfile, TLS), keep-alive, pipelining, limits and timeouts, the access log.
 *
 * Ownership. A connection belongs to its loop thread; only the loop does socket IO. While a
 * request is offloaded, the worker and the loop share the fields marked "under c->mu" in
 * http_internal.h: the worker appends output to c->pending and takes body bytes from ri->bq,
 * and asks the loop to act with nb_conn_wake_locked(). A dead connection (socket gone) stays
 * allocated until its handler calls nb_resp_end(), so handlers never see freed memory. */
#include "http/http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define LOCK(c) pthread_mutex_lock(&(c)->mu)
#define UNLOCK(c) pthread_mutex_unlock(&(c)->mu)

static int on_message_begin(http_parser *p);
static int on_url(http_parser *p, const char *at, size_t n);
static int on_header_field(http_parser *p, const char *at, size_t n);
static int on_header_value(http_parser *p, const char *at, size_t n);
static int on_headers_complete(http_parser *p);
static int on_body(http_parser *p, const char *at, size_t n);
static int on_message_complete(http_parser *p);

static const http_parser_settings g_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void conn_kill(nb_conn *c);
static void conn_flush(nb_conn *c);
static void conn_process(nb_conn *c);
static void req_finish(nb_conn *c);

static inline bool on_loop(const nb_conn *c) { return nb_loop_self == c->loop; }
static inline nb_reqi *RI(nb_req *r) { return (nb_reqi *)r; }

/* Dates: one formatted string per thread per second (loops and workers both build headers). */
void nb_http_date_cached(char out[30])
{
    static _Thread_local int64_t sec = -1;
    static _Thread_local char buf[30];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != sec) {
        sec = ts.tv_sec;
        nb_http_date(sec, buf);
    }
    memcpy(out, buf, 30);
}

void nb_conn_mark_dirty(nb_conn *c)
{
    if (c->in_dirty) return;
    c->in_dirty = true;
    c->dirty_next = c->loop->dirty;
    c->loop->dirty = c;
}

/* Tell the loop there is something to do for c: output to flush, input wanted. Either
 * thread; c->mu held. */
static void notify_locked(nb_conn *c)
{
    if (on_loop(c)) {
        /* Inside nb_conn_event/nb_conn_wake the flush follows anyway: skip the second pass. */
        if (!c->busy) nb_conn_mark_dirty(c);
    }
    else
        nb_conn_wake_locked(c, NB_WAKE_IO);
}

static void arm_at_most(nb_conn *c, int64_t at)
{
    if (c->tm.idx == NB_TIMER_OFF || c->tm.at > at) nb_timer_arm(c->loop, &c->tm, at);
}

/* ---- output queue (c->mu held) ---- */

static void chunk_free(nb_chunk *k)
{
    if (k->fd >= 0) close(k->fd);
    if (k->check_free) k->check_free(k->check_arg);
    free(k);
}

static char *out_reserve_locked(nb_conn *c, size_t n)
{
    nb_chunk *t = c->pending_tail;
    if (t && t->fd < 0 && t->cap - t->len >= n) return t->data + t->len;
    /* Small by default (idle connections hold none, but a burst of 1,000 concurrent
     * requests should not leave 4 KiB each in malloc's free lists). */
    size_t cap = 1024 - sizeof(nb_chunk);
    if (n > cap) cap = n;
    nb_chunk *k = malloc(sizeof(nb_chunk) + cap);
    if (!k) return NULL;
    memset(k, 0, sizeof(*k));
    k->fd = -1;
    k->cap = cap;
    if (t)
        t->next = k;
    else
        c->pending = k;
    c->pending_tail = k;
    return k->data;
}

static void out_commit_locked(nb_conn *c, size_t n)
{
    c->pending_tail->len += n;
    c->out_mem += n;
}

static int out_append_locked(nb_conn *c, const void *p, size_t n)
{
    char *d = out_reserve_locked(c, n);
    if (!d) return -1;
    memcpy(d, p, n);
    out_commit_locked(c, n);
    return 0;
}

static void free_chunks(nb_chunk *k)
{
    while (k) {
        nb_chunk *n = k->next;
        chunk_free(k);
        k = n;
    }
}

/* ---- connection life ---- */

static void conn_timer(void *arg);

static void conn_init(nb_conn *c, nb_loop *L)
{
    c->io.kind = NB_IO_CONN;
    c->loop = L;
    c->fd = -1;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->tm.idx = NB_TIMER_OFF;
    c->tm.fn = conn_timer;
    c->tm.arg = c;
    c->t_accept = c->last_active = c->last_rx = c->last_tx = L->now;
    c->writable = true;
    c->next = L->conns;
    if (L->conns) L->conns->prev = c;
    L->conns = c;
    L->nconns++;
    atomic_fetch_add(&nb_http_nconns, 1);
}

void nb_conn_accept(nb_lsock *ls, int fd, const struct sockaddr *sa, socklen_t salen)
{
    nb_loop *L = ls->loop;
    nb_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (ls->lsn->ctx) {
        c->ssl = SSL_new(ls->lsn->ctx);
        if (!c->ssl || !SSL_set_fd(c->ssl, fd)) {
            if (c->ssl) SSL_free(c->ssl);
            free(c);
            close(fd);
            return;
        }
        SSL_set_accept_state(c->ssl);
    }
    conn_init(c, L);
    c->fd = fd;
    c->lsn = ls->lsn;
    c->local_port = ls->lsn->port;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, c->peer_ip, sizeof(c->peer_ip));
        c->peer_port = ntohs(a->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, c->peer_ip, sizeof(c->peer_ip));
        c->peer_port = ntohs(a->sin6_port);
    }
    NB_UNUSED(salen);
    if (nb_loop_add_fd(L, fd, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
        conn_kill(c);
        return;
    }
    /* A new connection must send its first request within the header timeout. */
    nb_timer_arm(L, &c->tm, L->now + nb_http_lim.header_timeout_ms);
}

static void req_free(nb_conn *c)
{
    nb_reqi *ri = c->req;
    if (!ri) return;
    c->req = NULL;
    free(ri->bq);
    nb_arena_free(ri->pub.arena);
}

static void schedule_reap(nb_conn *c)
{
    if (c->in_reap) return;
    c->in_reap = true;
    c->reap_next = c->loop->reap;
    c->loop->reap = c;
}

/* Tell the handler of a parked request that waiting is pointless (nb_req_on_gone). The
 * hook is taken off first: it runs at most once, and may end the request from inside. */
static void req_gone(nb_conn *c, bool stopping)
{
    nb_reqi *ri = c->req;
    if (!ri || !ri->gone_fn || !ri->dispatched || ri->finished) return;
    nb_req_gone_fn fn = ri->gone_fn;
    ri->gone_fn = NULL;
    fn(&ri->pub, stopping);
}

void nb_req_on_gone(nb_req *r, nb_req_gone_fn fn)
{
    nb_reqi *ri = RI(r);
    nb_conn *c = ri->c;
    ri->gone_fn = fn;
    if (!fn) return;
    if (c->dead || c->peer_eof || c->rdhup)
        req_gone(c, false);
    else if (c->loop->stopping)
        req_gone(c, true);
}

/* The socket is gone (error, timeout, close). Wakes a worker blocked on it. The memory lives
 * on until any dispatched request is ended by its handler. */
static void conn_kill(nb_conn *c)
{
    if (c->dead) return;
    c->dead = true;
    c->readable = c->writable = false;
    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    free(c->ibuf);
    c->ibuf = NULL;
    c->ilen = c->ioff = c->icap = 0;
    nb_chunk *pend;
    LOCK(c);
    pend = c->pending;
    c->pending = c->pending_tail = NULL;
    c->out_mem = c->out_file = c->out_files = 0;
    if (c->req && c->req->body_state == NB_BODY_READING) c->req->body_state = NB_BODY_ERR;
    pthread_cond_broadcast(&c->cv);
    UNLOCK(c);
    free_chunks(pend);
    free_chunks(c->sendq);
    c->sendq = c->sendq_tail = NULL;
    nb_reqi *ri = c->req;
    if (ri && ri->dispatched && !ri->finished) {
        nb_conn_mark_dirty(c); /* a pending nb_req_read_all() learns of it in conn_process */
        req_gone(c, false);
        return;
    }
    req_free(c);
    schedule_reap(c);
}

static void conn_free(nb_conn *c)
{
    nb_loop *L = c->loop;
    if (c->in_dirty) { /* rare: unlink from the dirty list */
        for (nb_conn **pp = &L->dirty; *pp; pp = &(*pp)->dirty_next)
            if (*pp == c) {
                *pp = c->dirty_next;
                break;
            }
    }
    nb_timer_disarm(L, &c->tm);
    if (c->prev)
        c->prev->next = c->next;
    else
        L->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    L->nconns--;
    atomic_fetch_sub(&nb_http_nconns, 1);
    if (c->fd >= 0) close(c->fd);
    if (c->ssl) SSL_free(c->ssl);
    free(c->ibuf);
    free_chunks(c->pending);
    free_chunks(c->sendq);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

void nb_conn_reap(nb_loop *L)
{
    while (L->reap) {
        nb_conn *c = L->reap;
        L->reap = c->reap_next;
        if (c->req) { /* revived by a late handler? keep until it ends */
            c->in_reap = false;
            continue;
        }
        conn_free(c);
    }
}

/* Half-close and discard late input for a moment before closing, so that a response we
 * just sent is not destroyed by a TCP reset caused by unread request bytes. */
static void conn_linger(nb_conn *c)
{
    if (c->dead || c->lingering) return;
    if (c->fake) {
        conn_kill(c);
        return;
    }
    c->lingering = true;
    if (c->ssl) SSL_shutdown(c->ssl);
    shutdown(c->fd, SHUT_WR);
    free(c->ibuf);
    c->ibuf = NULL;
    c->ilen = c->ioff = c->icap = 0;
    if (c->peer_eof) {
        conn_kill(c);
        return;
    }
    nb_timer_arm(c->loop, &c->tm, c->loop->now + NB_LINGER_MS);
    nb_conn_mark_dirty(c);
}

/* Answer a request the server refuses itself (unparsable, over the header limits, too slow,
 * unsupported Transfer-Encoding) as S3 would (errdoc.c), and close. */
static void send_error(nb_conn *c, enum nb_core_err e)
{
    /* HEAD only once the request line named it (a refused request line has no method). */
    bool head = c->req && c->req->url_len && c->parser.method == HTTP_HEAD;
    if (c->req && !c->req->dispatched) req_free(c);
    if (c->req) { /* a handler owns the request: it answers; just close afterwards */
        c->req->close_req = true;
        return;
    }
    char rid[37];
    nb_uuid4(rid);
    nb_buf b;
    nb_buf_init(&b);
    int status = nb_http_core_error(&b, e, head, rid);
    LOCK(c);
    if (status > 0) out_append_locked(c, b.data, b.len);
    UNLOCK(c);
    nb_buf_free(&b);
    nb_debug("http: %s:%d answered %d (request %s) and closed", c->peer_ip, c->peer_port, status,
             rid);
    c->closing = true;
    nb_conn_mark_dirty(c);
}

/* ---- timeouts (lazy: the timer may fire early; it recomputes the real deadline) ---- */

static void body_fail(nb_conn *c)
{
    nb_reqi *ri = c->req;
    LOCK(c);
    if (ri->body_state == NB_BODY_READING) ri->body_state = NB_BODY_ERR;
    pthread_cond_broadcast(&c->cv);
    UNLOCK(c);
    ri->close_req = true;
    if (ri->finished) conn_kill(c);
    nb_conn_mark_dirty(c);
}

static void conn_timer(void *arg)
{
    nb_conn *c = arg;
    nb_loop *L = c->loop;
    int64_t now = L->now, dl;
    if (c->dead) return;
    if (c->lingering) {
        conn_kill(c);
        return;
    }
    nb_reqi *ri = c->req;
    bool out_stalled = c->sendq && !c->writable;
    if (out_stalled) {
        dl = c->last_tx + nb_http_lim.body_timeout_ms;
        if (now >= dl) {
            nb_debug("http: %s:%d stopped reading our response; closing", c->peer_ip, c->peer_port);
            conn_kill(c);
            return;
        }
    } else if (!ri) {
        dl = c->nreqs == 0 ? c->t_accept + nb_http_lim.header_timeout_ms
                           : c->last_active + nb_http_lim.idle_timeout_ms;
        if (now >= dl) {
            conn_kill(c);
            return;
        }
    } else if (!ri->headers_done) {
        int64_t start = c->nreqs == 0 ? c->t_accept : ri->t_start_us / 1000;
        dl = start + nb_http_lim.header_timeout_ms;
        if (now >= dl) {
            nb_debug("http: %s:%d header timeout", c->peer_ip, c->peer_port);
            send_error(c, NB_CERR_TIMEOUT);
            conn_flush(c);
            return;
        }
    } else if (c->wanted_input && ri->body_state == NB_BODY_READING) {
        dl = c->last_rx + nb_http_lim.body_timeout_ms;
        if (now >= dl) {
            nb_debug("http: %s:%d body timeout", c->peer_ip, c->peer_port);
            ri->body_timed_out = true;
            body_fail(c);
            return;
        }
    } else {
        /* The handler is working; nothing to time out on our side. Look again later. */
        dl = now + nb_http_lim.body_timeout_ms;
    }
    nb_timer_arm(L, &c->tm, dl);
}

/* ---- reading ---- */

static ssize_t conn_recv(nb_conn *c, char *buf, size_t cap)
{
    if (c->fake) {
        size_t left = c->fake_in_len - c->fake_in_pos;
        if (!left) return 0;
        /* Vary the read sizes with the data so the fuzzer explores split points. */
        size_t n = 1 + (size_t)(c->fake_in[c->fake_in_pos] % 61) * 7;
        if (n > left) n = left;
        if (n > cap) n = cap;
        memcpy(buf, c->fake_in + c->fake_in_pos, n);
        c->fake_in_pos += n;
        return (ssize_t)n;
    }
    if (c->ssl) {
        ERR_clear_error();
        int n = SSL_read(c->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
        if (n > 0) {
            if (!c->tls_handshake_done) c->tls_handshake_done = true;
            return n;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            c->readable = false;
            return NB_AGAIN;
        }
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        if (e == SSL_ERROR_SYSCALL && errno == 0) return 0;
        return -1;
    }
    for (;;) {
        ssize_t n = read(c->fd, buf, cap);
        if (n > 0) {
            /* A short read drained the socket: with edge-triggered epoll, new data brings a
             * new event, so skip the read() that would only say EAGAIN. */
            if ((size_t)n < cap && !c->rdhup) c->readable = false;
            return n;
        }
        if (n == 0) return 0;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->readable = false;
            return NB_AGAIN;
        }
        return -1;
    }
}

static int stash_input(nb_conn *c, const char *p, size_t n)
{
    /* Called only when ibuf is empty (we parse ibuf before reading more). */
    if (c->icap < n) {
        free(c->ibuf);
        size_t cap = (n + 63) & ~(size_t)63; /* leftovers are often a single byte */
        c->ibuf = malloc(cap);
        if (!c->ibuf) {
            c->icap = 0;
            return -1;
        }
        c->icap = cap;
    }
    memcpy(c->ibuf, p, n);
    c->ioff = 0;
    c->ilen = n;
    return 0;
}

static void conn_eof(nb_conn *c)
{
    c->peer_eof = true;
    c->readable = false;
    if (c->lingering) {
        conn_kill(c);
        return;
    }
    nb_reqi *ri = c->req;
    if (!ri) {
        if (!c->sendq && !c->pending)
            conn_kill(c);
        else
            c->closing = true;
        return;
    }
    if (!ri->headers_done) { /* half a request: nothing to answer */
        conn_kill(c);
        return;
    }
    if (ri->body_state == NB_BODY_READING) {
        /* Truncated body: http_parser never ends a request at EOF, so this is an error. */
        body_fail(c);
        return;
    }
    ri->close_req = true; /* the client half-closed after a full request: answer, then close */
}

static void parse_error(nb_conn *c, enum http_errno e)
{
    nb_reqi *ri = c->req;
    if (!ri || !ri->headers_done) {
        enum nb_core_err ce = NB_CERR_BAD_REQUEST;
        if (e == HPE_HEADER_OVERFLOW) ce = NB_CERR_HEADER_TOO_LARGE;
        if (ri && ri->err_kind) ce = (enum nb_core_err)ri->err_kind;
        nb_debug("http: %s:%d bad request: %s", c->peer_ip, c->peer_port, http_errno_name(e));
        send_error(c, ce);
        return;
    }
    nb_debug("http: %s:%d bad body: %s", c->peer_ip, c->peer_port, http_errno_name(e));
    if (ri->finished) { /* draining after the response: just close */
        req_free(c);
        c->closing = true;
        nb_conn_mark_dirty(c);
        return;
    }
    body_fail(c);
}

static bool conn_want_input(nb_conn *c)
{
    if (c->dead || c->peer_eof) return false;
    if (c->lingering) return true;
    if (c->closing) return false;
    nb_reqi *ri = c->req;
    if (!ri) return !c->loop->stopping && c->out_mem < NB_OUT_HWM;
    if (!ri->headers_done) return true;
    if (ri->body_state != NB_BODY_READING) return false;
    if (ri->finished) return true; /* draining the unread body of an answered request */
    LOCK(c);
    bool w = ri->body_wanted && !ri->toobig && (ri->read_all || ri->blen < NB_IN_HWM);
    UNLOCK(c);
    return w;
}

static void dispatch(nb_conn *c)
{
    nb_reqi *ri = c->req;
    ri->dispatched = true;
    c->nreqs++;
    atomic_fetch_add_explicit(&nb_http_nreqs, 1, memory_order_relaxed);
    if (c->loop->stopping) {
        ri->pub.keep_alive = false;
        ri->close_req = true;
    }
    c->lsn->on_request(&ri->pub);
}

/* Deliver the outcome of nb_req_read_all() once the body is complete, too big or failed.
 * Returns true if a callback ran (the request may be gone). */
static bool req_events(nb_conn *c)
{
    nb_reqi *ri = c->req;
    if (!ri || ri->finished || !ri->read_all_cb) return false;
    int st = ri->body_state;
    if (!ri->toobig && st == NB_BODY_READING) return false;
    nb_body_fn cb = ri->read_all_cb;
    ri->read_all_cb = NULL;
    if (ri->toobig) {
        cb(&ri->pub, 413, NULL, 0);
    } else if (st == NB_BODY_DONE) {
        char *body = nb_arena_strndup(ri->pub.arena, ri->bq ? ri->bq + ri->boff : "", ri->blen);
        size_t len = ri->blen;
        LOCK(c);
        free(ri->bq);
        ri->bq = NULL;
        ri->blen = ri->boff = ri->bcap = 0;
        UNLOCK(c);
        if (body)
            cb(&ri->pub, 0, body, len);
        else
            cb(&ri->pub, -1, NULL, 0); /* out of memory: the handler answers 5xx */
    } else {
        cb(&ri->pub, -1, NULL, 0);
    }
    return true;
}

static void conn_process_input(nb_conn *c);

static void conn_process(nb_conn *c)
{
    conn_process_input(c);
    nb_reqi *ri = c->req;
    if (ri && ri->submit_deferred) { /* see nb_req_offload; also when the connection died */
        ri->submit_deferred = false;
        nb_worker_submit(ri);
    }
}

static void conn_process_input(nb_conn *c)
{
    nb_loop *L = c->loop;
    for (int guard = 0; guard < 10000; guard++) {
        if (c->req && c->req->dispatched && req_events(c)) continue;
        if (c->dead) return;
        if (!c->req && L->stopping && !c->closing && !c->lingering && !c->ilen) {
            c->closing = true; /* shutting down: no new request on this connection */
            return;
        }
        bool want = conn_want_input(c);
        if (want && !c->wanted_input) {
            /* Starting to wait on the client: the body timeout counts from now. */
            c->last_rx = L->now;
            if (c->req && c->req->headers_done)
                arm_at_most(c, L->now + nb_http_lim.body_timeout_ms);
        }
        c->wanted_input = want;
        if (!want) return;
        const char *data;
        size_t len;
        bool from_ibuf = c->ilen > 0;
        if (from_ibuf) {
            data = c->ibuf + c->ioff;
            len = c->ilen;
        } else {
            if (!c->readable) return;
            ssize_t n = conn_recv(c, L->scratch, NB_READ_CHUNK);
            if (n == NB_AGAIN) return;
            if (n < 0) {
                conn_kill(c);
                continue;
            }
            if (n == 0) {
                conn_eof(c);
                continue;
            }
            c->last_rx = L->now;
            data = L->scratch;
            len = (size_t)n;
        }
        if (c->lingering) { /* discard */
            c->ilen = 0;
            continue;
        }
        size_t used = http_parser_execute(&c->parser, &g_settings, data, len);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            e = HPE_OK;
        }
        if (c->req) c->req->bytes_in += used;
        if (e != HPE_OK) {
            if (from_ibuf) c->ilen = 0;
            parse_error(c, e);
            continue;
        }
        if (from_ibuf) {
            c->ioff += used;
            c->ilen -= used;
            if (!c->ilen) { /* idle connections hold no input buffer */
                free(c->ibuf);
                c->ibuf = NULL;
                c->icap = 0;
            }
        } else if (used < len && stash_input(c, data + used, len - used) < 0) {
            conn_kill(c);
            continue;
        }
        if (c->ev_headers) {
            c->ev_headers = false;
            dispatch(c);
        }
    }
    /* Bounded work per call; come back after other connections had their turn. */
    nb_conn_mark_dirty(c);
}

/* ---- writing ---- */

static ssize_t conn_send_tls(nb_conn *c, const char *p, size_t n)
{
    ERR_clear_error();
    int w = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (w > 0) return w;
    int e = SSL_get_error(c->ssl, w);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return NB_AGAIN;
    return -1;
}

/* What one write_sendq did besides sending memory bytes. */
typedef struct {
    size_t file;   /* unchecked file bytes sent (they count in out_file) */
    size_t files;  /* file chunks finished (they count in out_files) */
    bool yielded;  /* stopped after NB_CHECKS_PER_FLUSH checks: more to send at once */
} sent_info;

/* Before sending bytes of a checked file chunk past what was checked, check the next ones.
 * 0: h->ok > 0 now; 1: this flush's checks are used up; -1: the bytes must not go out. */
static int chunk_gate(nb_chunk *h, int *gates)
{
    if (!h->check || h->ok || !h->len) return 0;
    if (*gates >= NB_CHECKS_PER_FLUSH) return 1;
    (*gates)++;
    int64_t k = h->check(h->check_arg, h->fd, h->off, h->len);
    if (k <= 0) return -1;
    h->ok = (uint64_t)k < h->len ? (size_t)k : h->len;
    return 0;
}

/* Write as much of sendq as the socket takes. Returns memory bytes sent (the rest in *si),
 * or -1 if the connection died. */
static ssize_t write_sendq(nb_conn *c, sent_info *si)
{
    size_t sent_mem = 0;
    int gates = 0;
    *si = (sent_info){0};
    while (c->sendq && c->writable) {
        nb_chunk *h = c->sendq;
        ssize_t n;
        if (h->fd < 0 && (c->fake || !c->ssl)) {
            struct iovec iov[64];
            int cnt = 0;
            for (nb_chunk *k = h; k && k->fd < 0 && cnt < 64; k = k->next) {
                iov[cnt].iov_base = k->data + k->pos;
                iov[cnt].iov_len = k->len - k->pos;
                cnt++;
            }
            if (c->fake) {
                n = 0;
                for (int i = 0; i < cnt; i++) n += (ssize_t)iov[i].iov_len;
                c->fake_out += (uint64_t)n;
            } else {
                n = writev(c->fd, iov, cnt);
            }
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    c->writable = false;
                    break;
                }
                return -1;
            }
            c->last_tx = c->loop->now;
            sent_mem += (size_t)n;
            size_t left = (size_t)n;
            while (left && c->sendq) {
                nb_chunk *k = c->sendq;
                size_t avail = k->len - k->pos;
                if (left < avail) {
                    k->pos += left;
                    left = 0;
                    break;
                }
                left -= avail;
                c->sendq = k->next;
                chunk_free(k);
            }
            if (!c->sendq) c->sendq_tail = NULL;
            /* Empty memory chunks (len 0) are popped here too. */
            while (c->sendq && c->sendq->fd < 0 && c->sendq->pos == c->sendq->len) {
                nb_chunk *k = c->sendq;
                c->sendq = k->next;
                chunk_free(k);
                if (!c->sendq) c->sendq_tail = NULL;
            }
            continue;
        }
        if (h->fd < 0) { /* memory over TLS */
            n = conn_send_tls(c, h->data + h->pos, h->len - h->pos);
            if (n == NB_AGAIN) {
                c->writable = false;
                break;
            }
            if (n < 0) return -1;
            c->last_tx = c->loop->now;
            h->pos += (size_t)n;
            sent_mem += (size_t)n;
        } else if (!c->ssl && !c->fake) { /* file over plain TCP */
            /* Corked while a response streams from files, segments are cut by size, not
             * where each queued piece ends. Otherwise a reader that catches up stops at a
             * piece's end, a page-aligned file offset, and from then on each of its reads
             * starts there: with a buffer 1-31 bytes past a cache line, every copy into it
             * ran at a third of the speed (AMD Zen 3's rep movsb) for the whole object. */
            if (!c->corked) {
                int one = 1;
                setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
                c->corked = true;
            }
            int g = chunk_gate(h, &gates);
            if (g < 0) return -1;
            if (g > 0) {
                si->yielded = true;
                break;
            }
            size_t want = h->len > (1u << 30) ? (1u << 30) : h->len;
            if (h->check && want > h->ok) want = h->ok;
            n = sendfile(c->fd, h->fd, &h->off, want);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    c->writable = false;
                    break;
                }
                return -1;
            }
            if (n == 0) { /* the file is shorter than promised: the framing is broken */
                nb_warn("http: sendfile hit end of file with %zu bytes left", h->len);
                return -1;
            }
            c->last_tx = c->loop->now;
            h->len -= (size_t)n;
            if (h->check)
                h->ok -= (size_t)n;
            else
                si->file += (size_t)n;
        } else { /* file over TLS (or fuzzing): stage through the chunk's buffer */
            if (h->slen == 0 && h->len) {
                int g = chunk_gate(h, &gates);
                if (g < 0) return -1;
                if (g > 0) {
                    si->yielded = true;
                    break;
                }
                size_t want = h->len < h->cap ? h->len : h->cap;
                if (h->check && want > h->ok) want = h->ok;
                n = pread(h->fd, h->data, want, h->off);
                if (n <= 0) {
                    if (n < 0 && errno == EINTR) continue;
                    nb_warn("http: reading a file to send failed with %zu bytes left", h->len);
                    return -1;
                }
                h->off += n;
                h->len -= (size_t)n;
                if (h->check)
                    h->ok -= (size_t)n;
                else
                    si->file += (size_t)n;
                h->slen = (size_t)n;
                h->spos = 0;
            }
            if (c->fake) {
                n = (ssize_t)h->slen;
                c->fake_out += (uint64_t)n;
            } else {
                n = conn_send_tls(c, h->data + h->spos, h->slen);
                if (n == NB_AGAIN) {
                    c->writable = false;
                    break;
                }
                if (n < 0) return -1;
            }
            c->last_tx = c->loop->now;
            h->spos += (size_t)n;
            h->slen -= (size_t)n;
        }
        bool done = h->fd < 0 ? h->pos == h->len : (h->len == 0 && h->slen == 0);
        if (done) {
            c->sendq = h->next;
            if (!c->sendq) c->sendq_tail = NULL;
            if (h->fd >= 0) si->files++;
            chunk_free(h);
        }
    }
    return (ssize_t)sent_mem;
}

static void conn_flush(nb_conn *c)
{
    if (c->dead) return;
    LOCK(c);
    if (c->pending) {
        if (c->sendq_tail)
            c->sendq_tail->next = c->pending;
        else
            c->sendq = c->pending;
        c->sendq_tail = c->pending_tail;
        c->pending = c->pending_tail = NULL;
    }
    UNLOCK(c);
    if (!c->sendq) goto empty;
    sent_info si;
    ssize_t sent = write_sendq(c, &si);
    if (sent < 0) {
        conn_kill(c);
        return;
    }
    if (si.file > 0 || si.files > 0) {
        LOCK(c);
        c->out_file -= si.file < c->out_file ? si.file : c->out_file;
        c->out_files -= si.files < c->out_files ? si.files : c->out_files;
        if (c->waiters && c->out_file <= NB_OUT_FILE_HWM && c->out_files <= NB_OUT_FILE_CHUNKS)
            pthread_cond_broadcast(&c->cv);
        UNLOCK(c);
    }
    if (si.yielded) nb_conn_mark_dirty(c); /* the socket takes more: after the others' turn */
    if (sent > 0) {
        LOCK(c);
        c->out_mem -= (size_t)sent < c->out_mem ? (size_t)sent : c->out_mem;
        if (c->waiters && c->out_mem <= NB_OUT_HWM) pthread_cond_broadcast(&c->cv);
        UNLOCK(c);
        /* Pipelined requests may have waited for the queue to shrink. */
        if (!c->req && (c->ilen || c->readable)) nb_conn_mark_dirty(c);
    }
    if (c->sendq) {
        if (!c->writable) arm_at_most(c, c->loop->now + nb_http_lim.body_timeout_ms);
        return;
    }
empty:
    if (c->corked && !(c->req && c->req->dispatched && !c->req->finished)) {
        int zero = 0; /* the response is out: send its last partial segment now */
        setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
        c->corked = false;
    }
    if (c->closing && !c->req) conn_linger(c);
}

/* Process input, then flush output. Handlers called from conn_process on this thread need
 * not mark the connection dirty (busy), since the flush comes right after. A handler
 * answering later (timer, post, client callback) marks it dirty instead. */
void nb_conn_process_and_flush(nb_conn *c)
{
    bool was = c->busy;
    c->busy = true;
    conn_process(c);
    c->busy = was;
    conn_flush(c);
}

void nb_conn_event(nb_conn *c, uint32_t ev)
{
    if (c->dead) return;
    /* A reset may come as HUP/ERR alone: remember it too, for a request parked meanwhile. */
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->rdhup = true;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable = true;
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) c->writable = true;
    /* OpenSSL may need to read to write or write to read: retry both on any event. */
    if (c->ssl) c->readable = c->writable = true;
    /* A parked request does not read its socket: the hang-up is its only news. */
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) req_gone(c, false);
    nb_conn_process_and_flush(c);
}

void nb_conn_wake(nb_conn *c)
{
    LOCK(c);
    unsigned bits = c->wake_bits;
    c->wake_bits = 0;
    c->wake_queued = false;
    bool ended = c->req && c->req->ended && !c->req->finished;
    UNLOCK(c);
    if ((bits & NB_WAKE_END) && ended) req_finish(c);
    nb_conn_process_and_flush(c);
}

void nb_conn_shutdown_idle(nb_loop *L)
{
    for (nb_conn *c = L->conns; c; c = c->next) {
        if (c->dead) continue;
        if (c->req && c->req->dispatched && !c->req->finished) { /* finishes, then closes */
            req_gone(c, true); /* parked ones are told to finish now */
            continue;
        }
        if (c->req && !c->req->dispatched) {
            conn_kill(c);
            continue;
        }
        /* Idle between requests with nothing unread or unsent: close at once. Lingering
         * protects a just-sent answer from a reset caused by unread input; there is neither
         * here, and an idle keep-alive client would hold the shutdown for NB_LINGER_MS. */
        if (!c->req && !c->ilen && !c->pending && !c->sendq && !c->ssl && !c->fake) {
            conn_kill(c);
            continue;
        }
        c->closing = true;
        nb_conn_mark_dirty(c);
    }
}

void nb_conn_force_close_all(nb_loop *L)
{
    for (nb_conn *c = L->conns; c; c = c->next) conn_kill(c);
}

/* ---- parser callbacks (loop thread, inside http_parser_execute) ---- */

static int hb_append(nb_reqi *ri, const char *p, size_t n)
{
    if (ri->hlen + n > ri->hcap) {
        size_t cap = ri->hcap ? ri->hcap * 2 : 1024;
        while (cap < ri->hlen + n) cap *= 2;
        char *nb = nb_arena_alloc(ri->pub.arena, cap);
        if (!nb) return -1;
        if (ri->hlen) memcpy(nb, ri->hb, ri->hlen);
        ri->hb = nb;
        ri->hcap = cap;
    }
    memcpy(ri->hb + ri->hlen, p, n);
    ri->hlen += n;
    return 0;
}

static int count_header_bytes(nb_reqi *ri, size_t n)
{
    ri->header_bytes += n;
    if (ri->header_bytes > nb_http_lim.max_header_bytes) {
        ri->err_kind = NB_CERR_HEADER_TOO_LARGE;
        return -1;
    }
    return 0;
}

static int on_message_begin(http_parser *p)
{
    nb_conn *c = p->data;
    NB_ASSERT(!c->req);
    /* An AWS call takes 15-30 KiB of its arena (the SigV4 record alone is 6.5 KiB): a 2 KiB
     * first block grew through five blocks (five malloc/free pairs) per request. */
    nb_arena *a = nb_arena_new(32768);
    nb_reqi *ri = a ? nb_arena_calloc(a, sizeof(*ri)) : NULL;
    if (!ri) {
        nb_arena_free(a);
        return -1;
    }
    ri->pub.arena = a;
    ri->c = c;
    ri->t_start_us = nb_mono_us();
    ri->pub.query = "";
    ri->pub.tls = c->ssl != NULL;
    ri->pub.listener_ud = c->lsn ? c->lsn->ud : NULL;
    memcpy(ri->pub.peer_ip, c->peer_ip, sizeof(ri->pub.peer_ip));
    ri->pub.peer_port = c->peer_port;
    ri->pub.local_port = c->local_port;
    ri->pub.conn = c;
    ri->resp_cl = -1;
    c->req = ri;
    if (c->nreqs) arm_at_most(c, c->loop->now + nb_http_lim.header_timeout_ms);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    nb_reqi *ri = ((nb_conn *)p->data)->req;
    if (count_header_bytes(ri, n) || hb_append(ri, at, n)) return -1;
    ri->url_len += n;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    nb_reqi *ri = ((nb_conn *)p->data)->req;
    if (count_header_bytes(ri, n + (ri->last_cb != 1 ? 4 : 0))) return -1;
    bool more = ri->last_cb == 1; /* another piece of the same name (split across reads) */
    if (ri->last_cb != 1) { /* a new header starts; close the previous piece */
        if (hb_append(ri, "", 1)) return -1;
        if (ri->nho >= nb_http_lim.max_headers) {
            ri->err_kind = NB_CERR_HEADER_TOO_LARGE;
            return -1;
        }
        if (ri->nho == ri->capho) {
            size_t cap = ri->capho ? ri->capho * 2 : 16;
            struct nb_hoff *h = nb_arena_alloc(ri->pub.arena, cap * sizeof(*h));
            if (!h) return -1;
            if (ri->nho) memcpy(h, ri->ho, ri->nho * sizeof(*h));
            ri->ho = h;
            ri->capho = cap;
        }
        ri->ho[ri->nho++] = (struct nb_hoff){.no = (uint32_t)ri->hlen};
        ri->last_cb = 1;
    }
    if (hb_append(ri, at, n)) return -1;
    struct nb_hoff *h = &ri->ho[ri->nho - 1];
    h->nl += (uint32_t)n;
    /* Content-Length repeated with the same value (Go clients signing their own header send
     * two) is one value (RFC 9112 6.3); http_parser refuses any repeat, so it is told the
     * value is new, and the values are compared here (and at the end of the headers). */
    if (more && ri->cl_cleared == ri->nho) { /* "Content-Length" went on: another header */
        p->flags |= F_CONTENTLENGTH;
        ri->cl_seen = ri->cl_undo_seen;
        ri->cl_differ = ri->cl_undo_differ;
        ri->cl_cleared = 0;
    }
    if ((p->flags & F_CONTENTLENGTH) && nb_mem_ieq(ri->hb + h->no, h->nl, "content-length", 14)) {
        ri->cl_undo_seen = ri->cl_seen;
        ri->cl_undo_differ = ri->cl_differ;
        ri->cl_cleared = ri->nho;
        if (!ri->cl_seen) ri->cl_first = p->content_length;
        else if (p->content_length != ri->cl_first) ri->cl_differ = true;
        ri->cl_seen = true;
        p->flags &= (unsigned)~F_CONTENTLENGTH;
    }
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    nb_reqi *ri = ((nb_conn *)p->data)->req;
    if (count_header_bytes(ri, n)) return -1;
    if (ri->last_cb != 2) {
        if (hb_append(ri, "", 1)) return -1;
        ri->ho[ri->nho - 1].vo = (uint32_t)ri->hlen;
        ri->last_cb = 2;
    }
    if (hb_append(ri, at, n)) return -1;
    ri->ho[ri->nho - 1].vl += (uint32_t)n;
    return 0;
}

/* Transfer-Encoding: chunked, alone and once, is the only coding taken. Any other ("gzip",
 * "gzip, chunked", "identity", the field repeated) would leave the body undecoded or its end
 * in doubt; S3 refuses them all with 501 NotImplemented, and so does the core. */
static bool te_supported(const nb_req *r)
{
    int n = 0;
    bool ok = true;
    for (size_t i = 0; i < r->nheaders; i++) {
        const nb_header *h = &r->headers[i];
        if (!nb_mem_ieq(h->name, h->name_len, "transfer-encoding", 17)) continue;
        const char *v = h->value;
        size_t vl = h->value_len;
        while (vl && (*v == ' ' || *v == '\t')) v++, vl--;
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
        ok = ++n == 1 && nb_mem_ieq(v, vl, "chunked", 7);
    }
    return ok;
}

static int on_headers_complete(http_parser *p)
{
    nb_conn *c = p->data;
    nb_reqi *ri = c->req;
    nb_req *r = &ri->pub;
    if (ri->last_cb == 1) ri->ho[ri->nho - 1].vo = (uint32_t)ri->hlen; /* empty value */
    if (hb_append(ri, "", 1)) return -1;
    if (!ri->hb && hb_append(ri, "", 1)) return -1;
    r->method = http_method_str((enum http_method)p->method);
    r->target = ri->hb;
    r->target_len = ri->url_len;
    const char *q = memchr(r->target, '?', r->target_len);
    if (q) {
        r->path_len = (size_t)(q - r->target);
        r->path = nb_arena_strndup(r->arena, r->target, r->path_len);
        r->query = q + 1;
        r->query_len = r->target_len - r->path_len - 1;
        if (!r->path) return -1;
    } else {
        r->path = r->target;
        r->path_len = r->target_len;
    }
    r->nheaders = 0;
    if (ri->nho) {
        r->headers = nb_arena_alloc(r->arena, ri->nho * sizeof(nb_header));
        if (!r->headers) return -1;
        bool cl = false;
        for (size_t i = 0; i < ri->nho; i++) {
            struct nb_hoff *h = &ri->ho[i];
            nb_header *o = &r->headers[r->nheaders];
            *o = (nb_header){ri->hb + h->no, h->nl, ri->hb + h->vo, h->vl};
            if (!h->vl) o->value = "";
            /* a repeated Content-Length (checked equal below) is one header, as S3's front
             * end sees it: signatures cover one value, not "3,3" */
            if (ri->cl_seen && nb_mem_ieq(o->name, o->name_len, "content-length", 14)) {
                if (cl) continue;
                cl = true;
            }
            r->nheaders++;
        }
    }
    if (!te_supported(r)) {
        ri->err_kind = NB_CERR_TRANSFER_ENCODING;
        return -1;
    }
    if (ri->cl_seen && (ri->cl_differ || p->content_length != ri->cl_first ||
                        !(p->flags & F_CONTENTLENGTH) || (p->flags & F_CHUNKED)))
        return -1; /* Content-Length values that disagree: 400, as http_parser would */
    r->http_minor = p->http_major == 1 ? p->http_minor : 0;
    r->chunked = (p->flags & F_CHUNKED) != 0;
    if (r->chunked)
        r->content_length = -1;
    else if (p->flags & F_CONTENTLENGTH)
        r->content_length = (int64_t)p->content_length;
    else
        r->content_length = 0;
    ri->body_known_empty = !r->chunked && r->content_length == 0;
    size_t el;
    const char *ev = nb_req_header(r, "expect", &el);
    r->expect_continue = ev && r->http_minor >= 1 && nb_mem_ieq(ev, el, "100-continue", 12);
    r->keep_alive = http_should_keep_alive(p) != 0;
    ri->headers_done = true;
    c->ev_headers = true;
    /* The body timeout counts from the end of the headers: the header deadline armed at the
     * start of the request must not stand in for it (the connection may never stop wanting
     * input in between, so conn_process sees no change to re-arm on). */
    if (!ri->body_known_empty && c->loop) {
        c->last_rx = c->loop->now;
        arm_at_most(c, c->loop->now + nb_http_lim.body_timeout_ms);
    }
    /* Stop here: the request is dispatched after http_parser_execute returns, and its body
     * is parsed only when the handler asks for it. */
    http_parser_pause(p, 1);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    nb_conn *c = p->data;
    nb_reqi *ri = c->req;
    if (ri->finished) { /* draining after the response */
        ri->drained += n;
        return ri->drained > NB_DRAIN_MAX ? -1 : 0;
    }
    if (ri->toobig) return 0;
    LOCK(c);
    ri->body_in += n;
    if (ri->read_all && ri->blen + n > ri->read_all_limit) {
        ri->toobig = true; /* stop reading; nb_req_read_all reports 413 */
        free(ri->bq);
        ri->bq = NULL;
        ri->blen = ri->boff = ri->bcap = 0;
        UNLOCK(c);
        http_parser_pause(p, 1);
        return 0;
    }
    if (ri->boff + ri->blen + n > ri->bcap) {
        if (ri->boff) { /* compact first */
            memmove(ri->bq, ri->bq + ri->boff, ri->blen);
            ri->boff = 0;
        }
        if (ri->blen + n > ri->bcap) {
            size_t cap = ri->bcap ? ri->bcap : 16384;
            while (cap < ri->blen + n) cap *= 2;
            char *nbq = realloc(ri->bq, cap);
            if (!nbq) {
                UNLOCK(c);
                return -1;
            }
            ri->bq = nbq;
            ri->bcap = cap;
        }
    }
    memcpy(ri->bq + ri->boff + ri->blen, at, n);
    ri->blen += n;
    if (c->waiters) pthread_cond_broadcast(&c->cv);
    bool pause = !ri->read_all && ri->blen >= NB_IN_HWM;
    UNLOCK(c);
    if (pause) http_parser_pause(p, 1);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    nb_conn *c = p->data;
    nb_reqi *ri = c->req;
    if (!ri) return 0;
    LOCK(c);
    ri->body_state = NB_BODY_DONE;
    if (!ri->t_body_us) ri->t_body_us = nb_mono_us();
    if (c->waiters) pthread_cond_broadcast(&c->cv);
    UNLOCK(c);
    if (p->upgrade) ri->close_req = true; /* we speak no other protocol after this request */
    if (ri->finished) { /* the drained request is over: on to the next one */
        bool close = ri->close_req;
        req_free(c);
        if (close) c->closing = true;
        c->last_active = c->loop->now;
    }
    http_parser_pause(p, 1);
    return 0;
}

/* ---- the handler-facing API ---- */

const char *nb_req_header(const nb_req *r, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++) {
        const nb_header *h = &r->headers[i];
        if (nb_mem_ieq(h->name, h->name_len, name, nl)) {
            if (len) *len = h->value_len;
            return h->value;
        }
    }
    return NULL;
}

/* Send "100 Continue" the first time the handler wants a body the client is holding back.
 * Also for an empty body (Content-Length: 0): botocore, after a final answer to an Expect
 * request, keeps that answer's status line on the connection and misreads the next Expect
 * request's response there (it hangs); nginx and S3 send the 100 as well. */
static void maybe_100_locked(nb_conn *c, nb_reqi *ri)
{
    if (!ri->pub.expect_continue || ri->sent_100 || ri->resp_started) return;
    if (ri->body_state != NB_BODY_READING || c->dead) return;
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (out_append_locked(c, cont, sizeof(cont) - 1) == 0) {
        ri->sent_100 = true;
        ri->bytes_out += sizeof(cont) - 1;
    }
}

void nb_req_read_all(nb_req *r, size_t limit, nb_body_fn done)
{
    nb_reqi *ri = RI(r);
    nb_conn *c = ri->c;
    ri->read_all = true;
    ri->read_all_limit = limit;
    ri->read_all_cb = done;
    LOCK(c);
    if (r->content_length > 0 && (uint64_t)r->content_length > limit) {
        ri->toobig = true; /* refuse before the client sends it (no 100 Continue) */
    } else {
        ri->body_wanted = true;
        maybe_100_locked(c, ri);
    }
    notify_locked(c);
    UNLOCK(c);
}

/* A small body the client sends anyway (no Expect: 100-continue) is read on, right after the
 * hand-off, instead of when the worker first asks for it: otherwise the worker's first
 * nb_req_read has to wake the loop and sleep until the loop has parsed bytes it usually holds
 * already (two thread hand-offs per small PUT). At most NB_EAGER_BODY bytes, well under what
 * an answered request drains anyway. */
#define NB_EAGER_BODY (64u * 1024)

void nb_req_offload(nb_req *r, nb_req_fn fn)
{
    nb_reqi *ri = RI(r);
    nb_conn *c = ri->c;
    NB_ASSERT(!ri->on_worker); /* a second hand-off only after the first worker returned */
    ri->on_worker = true;
    ri->offloaded = true;
    ri->offload_fn = fn;
    if (on_loop(c) && ri->headers_done && !r->expect_continue && !r->chunked &&
        r->content_length > 0 && (uint64_t)r->content_length <= NB_EAGER_BODY) {
        LOCK(c);
        bool wanted = false;
        if (ri->body_state == NB_BODY_READING && !ri->body_wanted && !ri->toobig) {
            ri->body_wanted = wanted = true;
            notify_locked(c);
        }
        UNLOCK(c);
        /* The whole body already sits in the input buffer (a small PUT usually arrives in one
         * segment): let the loop parse it before the worker starts, instead of the worker
         * waking first, finding no bytes yet and sleeping on c->cv until the loop's broadcast
         * (two more context switches). conn_process submits it before it returns. */
        if (wanted && c->ilen >= (uint64_t)r->content_length) {
            ri->submit_deferred = true;
            return;
        }
    }
    nb_worker_submit(ri);
}

bool nb_req_body_timed_out(nb_req *r)
{
    nb_reqi *ri = RI(r);
    LOCK(ri->c);
    bool t = ri->body_timed_out;
    UNLOCK(ri->c);
    return t;
}

ssize_t nb_req_read(nb_req *r, void *buf, size_t n)
{
    nb_reqi *ri = RI(r);
    nb_conn *c = ri->c;
    bool blocking = nb_loop_self == NULL;
    ssize_t rc;
    LOCK(c);
    if (!ri->body_wanted) {
        ri->body_wanted = true;
        maybe_100_locked(c, ri);
        notify_locked(c);
    }
    for (;;) {
        if (ri->blen) {
            size_t k = n < ri->blen ? n : ri->blen;
            memcpy(buf, ri->bq + ri->boff, k);
            ri->boff += k;
            ri->blen -= k;
            if (!ri->blen) ri->boff = 0;
            /* The loop stops reading at the high-water mark; restart it at half. */
            if (ri->blen < NB_IN_HWM / 2 && ri->body_state == NB_BODY_READING)
                notify_locked(c);
            rc = (ssize_t)k;
            break;
        }
        if (ri->body_state == NB_BODY_DONE) {
            rc = 0;
            break;
        }
        if (ri->body_state != NB_BODY_READING || c->dead || !blocking) {
            rc = -1;
            break;
        }
        notify_locked(c);
        c->waiters++;
        pthread_cond_wait(&c->cv, &c->mu);
        c->waiters--;
    }
    UNLOCK(c);
    return rc;
}

static bool is_head(const nb_reqi *ri) { return ri->c->parser.method == HTTP_HEAD; }

/* Copy a header field, turning CR/LF into spaces so values cannot split the header. */
static char *put_sanitized(char *d, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        *d++ = (ch == '\r' || ch == '\n') ? ' ' : ch;
    }
    return d;
}

static void resp_start(nb_req *r, int status, const nb_header *hdrs, size_t nhdrs,
                       int64_t content_length, size_t room);

void nb_resp_start(nb_req *r, int status, const nb_header *hdrs, size_t nhdrs,
                   int64_t content_length)
{
    resp_start(r, status, hdrs, nhdrs, content_length, 0);
}

static char *put_uint(char *d, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *d++ = tmp[--n];
    return d;
}

/* room: body bytes the caller is about to write, reserved in the same chunk so a small
 * response leaves in one piece of memory. */
static void resp_start(nb_req *r, int status, const nb_header *hdrs, size_t nhdrs,
                       int64_t content_length, size_t room)
{
    nb_reqi *ri = RI(r);
    nb_conn *c = ri->c;
    if (ri->resp_started) return;
    LOCK(c);
    ri->resp_started = true;
    ri->t_resp_us = nb_mono_us();
    ri->status = status;
    bool bodiless = status < 200 || status == 204 || status == 304;
    ri->no_body = is_head(ri) || bodiless;
    bool keep = r->keep_alive && !ri->close_req && !c->peer_eof && !c->dead &&
                !atomic_load(&nb_http_stopping);
    /* Expect answered with a final status instead of 100: the client may still be holding
     * the body back, and botocore misreads the next Expect request on this connection (see
     * maybe_100_locked). A fresh connection is the safe state for both. */
    if (r->expect_continue && !ri->sent_100) keep = false;
    if (ri->body_state == NB_BODY_READING && !ri->body_known_empty && !ri->body_wanted) {
        /* Answered without reading the body: keep the connection only if what is left is
         * small enough to drain. */
        if (r->chunked || (uint64_t)r->content_length - ri->body_in > NB_DRAIN_MAX) keep = false;
    }
    if (ri->toobig) keep = false;
    if (content_length < 0 && !ri->no_body && r->http_minor == 0) keep = false;
    ri->chunked_out = content_length < 0 && !ri->no_body && r->http_minor >= 1;
    if (!keep) ri->close_req = true;
    r->keep_alive = keep;
    ri->resp_cl = content_length;

    char date[30], line[32], cl[48];
    nb_http_date_cached(date);
    const char *reason = nb_http_reason(status);
    if (status < 100 || status > 999) status = 500;
    memcpy(line, "HTTP/1.1 ", 9);
    int ll = (int)(put_uint(line + 9, (uint64_t)status) - line);
    line[ll++] = ' ';
    int cll = 0;
    if (bodiless) {
        cl[0] = 0;
    } else if (content_length >= 0) {
        memcpy(cl, "Content-Length: ", 16);
        char *e = put_uint(cl + 16, (uint64_t)content_length);
        *e++ = '\r';
        *e++ = '\n';
        cll = (int)(e - cl);
    } else if (ri->chunked_out) {
        cll = 28;
        memcpy(cl, "Transfer-Encoding: chunked\r\n", 28);
    }
    const char *conn_hdr = !keep ? "Connection: close\r\n"
                           : r->http_minor == 0 ? "Connection: keep-alive\r\n"
                                                : "";
    size_t rl = strlen(reason), chl = strlen(conn_hdr);
    size_t total = (size_t)ll + rl + 2 + 6 + 29 + 2 + 16 + (size_t)cll + chl + 2;
    for (size_t i = 0; i < nhdrs; i++) total += hdrs[i].name_len + hdrs[i].value_len + 4;
    char *d = out_reserve_locked(c, total + (ri->no_body ? 0 : room));
    if (!d) {
        ri->close_req = true;
        UNLOCK(c);
        return;
    }
    char *s = d;
    memcpy(d, line, (size_t)ll), d += ll;
    memcpy(d, reason, rl), d += rl;
    memcpy(d, "\r\nDate: ", 8), d += 8;
    memcpy(d, date, 29), d += 29;
    memcpy(d, "\r\nServer: Nimbus\r\n", 18), d += 18;
    for (size_t i = 0; i < nhdrs; i++) {
        d = put_sanitized(d, hdrs[i].name, hdrs[i].name_len);
        *d++ = ':';
        *d++ = ' ';
        d = put_sanitized(d, hdrs[i].value, hdrs[i].value_len);
        *d++ = '\r';
        *d++ = '\n';
    }
    memcpy(d, cl, (size_t)cll), d += cll;
    memcpy(d, conn_hdr, chl), d += chl;
    *d++ = '\r';
    *d++ = '\n';
    out_commit_locked(c, (size_t)(d - s));
    ri->bytes_out += (uint64_t)(d - s);
    notify_locked(c);
    UNLOCK(c);
}

/* Back-pressure: a worker waits while too much output is queued. c->mu held. */
static void out_wait_locked(nb_conn *c)
{
    if (nb_loop_self) return; /* never block a loop thread */
    while (c->out_mem > NB_OUT_HWM && !c->dead) {
        c->waiters++;
        pthread_cond_wait(&c->cv, &c->mu);
        c->waiters--;
    }
}

/* File output's back-pressure is for speed, not memory (queued file bytes cost nothing), so
 * it may hold only a few workers at a time: a crowd of slow or stalled readers must not take
 * every worker. Past the limit a worker queues ahead and moves on. c->mu held. */
static atomic_int file_waiters;

static bool out_file_over(const nb_conn *c)
{
    return c->out_file > NB_OUT_FILE_HWM || c->out_files > NB_OUT_FILE_CHUNKS;
}

static void out_file_wait_locked(nb_conn *c)
{
    if (nb_loop_self || !out_file_over(c)) return;
    if (atomic_fetch_add(&file_waiters, 1) < NB_OUT_FILE_WAITERS) {
        while (out_file_over(c) && !c->dead) {
            c->waiters++;
            pthread_cond_wait(&c->cv, &c->mu);
            c->waiters--;
        }
    }
    atomic_fetch_sub(&file_waiters, 1);
}

int nb_resp_write(nb_req *r, const void *data, size_t len)
{
    nb_reqi *ri = RI(r);
    nb_conn *c = ri->c;
    if (!ri->resp_started) nb_resp_start(r, 200, NULL, 0, -1);
    LOCK(c);
    int rc = 0;
    if (c->dead) {
        rc = -1;
        goto out;
    }
    if (ri->no_body || !len) goto out;
    if (ri->resp_cl >= 0) { /* never send more than announced */
        uint64_t left = (uint64_t)ri->resp_cl - ri->resp_body_written;
        if (len > left) len = (size_t)left;
        if (!len) goto out;
    }
    if (ri->chunked_out) {
        char hx[24];
        int hl = snprintf(hx, sizeof(hx), "%zx\r\n", len);
        char *d = out_reserve_locked(c, (size_t)hl + len + 2);
        if (!d) {
            rc = -1;
            goto out;
        }
        memcpy(d, hx, (size_t)hl);
        memcpy(d + hl, data, len);
        memcpy(d + hl + len, "\r\n", 2);
        out_commit_locked(c, (size_t)hl + len + 2);
        ri->bytes_out += (uint64_t)hl + len + 2;
    } else {
        if (out_append_locked(c, data, len) < 0) {
            rc = -1;
            goto out;
        }
        ri->bytes_out += len;
    }
    ri->resp_body_written += len;
    notify_locked(c);
    out_wait_locked(c);
    if (c->dead) rc = -1;
out:
    if (rc < 0) ri->close_req = true;
    UNLOCK(c);
    return rc;
}

int nb_resp_sendfile(nb_req *r, int fd, off_t off, size_t len)
{
    return nb_resp_sendfile_checked(r, fd, off, len, NULL, NULL, NULL);
}

int nb_resp_sendfile_checked(nb_req *r, int fd, off_t off, size_t len, nb_file_check_fn check,
                             void *arg, void (*free_arg)(void *arg))
{
    nb_reqi *ri = RI(r);
    nb_conn *c = ri->c;
    if (!ri->resp_started) nb_resp_start(r, 200, NULL, 0, (int64_t)len);
    LOCK(c);
    int rc = 0;
    if (c->dead) {
        rc = -1;
        goto out;
    }
    if (ri->no_body || !len) goto out;
    if (ri->resp_cl >= 0) {
        uint64_t left = (uint64_t)ri->resp_cl - ri->resp_body_written;
        if (len > left) len = (size_t)left;
        if (!len) goto out;
    }
    size_t stage = (c->ssl || c->fake) ? 16384 : 0;
    nb_chunk *k = malloc(sizeof(nb_chunk) + stage);
    if (!k) {
        rc = -1;
        goto out;
    }
    memset(k, 0, sizeof(*k));
    k->fd = fd;
    k->off = off;
    k->len = len;
    k->cap = stage;
    k->check = check;
    k->check_arg = arg;
    k->check_free = free_arg;
    fd = -1; /* owned by the chunk now, and arg with it */
    free_arg = NULL;
    if (ri->chunked_out) {
        char hx[24];
        int hl = snprintf(hx, sizeof(hx), "%zx\r\n", len);
        out_append_locked(c, hx, (size_t)hl);
        ri->bytes_out += (uint64_t)hl + 2;
    }
    if (c->pending_tail)
        c->pending_tail->next = k;
    else
        c->pending = k;
    c->pending_tail = k;
    if (ri->chunked_out) out_append_locked(c, "\r\n", 2);
    ri->resp_body_written += len;
    ri->bytes_out += len;
    if (!check) c->out_file += len; /* checked bytes are read just before they are sent */
    c->out_files++;
    notify_locked(c);
    out_file_wait_locked(c);
    if (c->dead) rc = -1;
out:
    if (fd >= 0) close(fd);
    if (free_arg) free_arg(arg);
    if (rc < 0) ri->close_req = true;
    UNLOCK(c);
    return rc;
}

static void access_log(nb_reqi *ri)
{
    if (!nb_http_access_log) return;
    nb_req *r = &ri->pub;
    long long ms = (long long)(nb_mono_us() - ri->t_start_us) / 1000;
#define F(x) ((x) && *(x) ? (x) : "-")
    nb_info("access %s %s %s %s %s %s %s %d %llu %llu %lldms", F(r->request_id),
            F(r->log_account), F(r->log_principal), F(r->log_service), F(r->log_operation),
            F(r->method), F(r->path), ri->status, (unsigned long long)ri->bytes_in,
            (unsigned long long)ri->bytes_out, ms);
#undef F
}

/* The handler is done with the request (loop thread). Complete the framing, decide between
 * keeping the connection (draining a small unread body) and closing it, log, free. */
static void req_finish(nb_conn *c)
{
    nb_reqi *ri = c->req;
    NB_ASSERT(ri && !ri->finished);
    if (!ri->resp_started && !ri->aborted && !c->dead) {
        nb_warn("http: handler ended %s %s without a response", ri->pub.method, ri->pub.path);
        nb_resp_start(&ri->pub, 500, NULL, 0, 0);
    }
    ri->finished = true;
    bool close = ri->close_req || ri->aborted || c->loop->stopping;
    LOCK(c);
    if (!c->dead && !ri->aborted && ri->resp_started) {
        if (ri->chunked_out && out_append_locked(c, "0\r\n\r\n", 5) == 0) ri->bytes_out += 5;
        if (ri->resp_cl >= 0 && !ri->no_body && ri->resp_body_written < (uint64_t)ri->resp_cl)
            close = true; /* fewer bytes than announced: only closing tells the client */
        if (ri->resp_cl < 0 && !ri->chunked_out && !ri->no_body) close = true;
    }
    int bs = ri->body_state;
    free(ri->bq);
    ri->bq = NULL;
    ri->blen = ri->boff = ri->bcap = 0;
    UNLOCK(c);
    if (ri->pub.expect_continue && !ri->sent_100) close = true;
    if (!close && bs == NB_BODY_READING && !ri->body_known_empty) {
        if (ri->toobig)
            close = true;
        else if (ri->pub.content_length >= 0 &&
                 (uint64_t)ri->pub.content_length - ri->body_in > NB_DRAIN_MAX)
            close = true;
    }
    if (bs == NB_BODY_ERR) close = true;
    if (ri->pub.on_done) {
        int64_t now = nb_mono_us();
        int64_t from = ri->t_body_us ? ri->t_body_us : ri->t_start_us;
        nb_req_done d = {ri->status, ri->bytes_in, ri->bytes_out,
                         ri->no_body ? 0 : ri->resp_body_written, now - ri->t_start_us,
                         ri->t_resp_us > from ? ri->t_resp_us - from : 0};
        ri->pub.on_done(&ri->pub, &d);
    }
    access_log(ri);
    c->last_active = c->loop->now;
    if (c->dead) {
        req_free(c);
        schedule_reap(c);
        return;
    }
    if (close) {
        req_free(c);
        c->closing = true;
    } else if (bs == NB_BODY_READING) {
        ri->draining = true; /* freed by on_message_complete */
        ri->close_req = false;
    } else {
        req_free(c);
    }
    if (!c->req) arm_at_most(c, c->loop->now + nb_http_lim.idle_timeout_ms);
    if (!c->busy) nb_conn_mark_dirty(c);
}

void nb_resp_end(nb_req *r)
{
    nb_reqi *ri = RI(r);
    nb_conn *c = ri->c;
    if (on_loop(c)) {
        req_finish(c);
        return;
    }
    LOCK(c);
    ri->ended = true;
    nb_conn_wake_locked(c, NB_WAKE_END);
    UNLOCK(c);
}

void nb_req_abort(nb_req *r)
{
    RI(r)->aborted = true;
    nb_resp_end(r);
}

void nb_resp_simple(nb_req *r, int status, const char *content_type, const void *body,
                    size_t len, const nb_header *extra, size_t nextra)
{
    nb_header stackh[16];
    nb_header *h = stackh;
    size_t n = 0;
    if (nextra + 1 > NB_ARRAY_LEN(stackh)) {
        h = nb_arena_alloc(r->arena, (nextra + 1) * sizeof(*h));
        if (!h) {
            nb_resp_start(r, 503, NULL, 0, 0);
            nb_resp_end(r);
            return;
        }
    }
    if (content_type)
        h[n++] = (nb_header){"Content-Type", 12, content_type, strlen(content_type)};
    for (size_t i = 0; i < nextra; i++) h[n++] = extra[i];
    resp_start(r, status, h, n, (int64_t)len, len);
    if (len) nb_resp_write(r, body, len);
    nb_resp_end(r);
}

void nb_resp_close_after(nb_req *r)
{
    nb_reqi *ri = RI(r);
    LOCK(ri->c);
    ri->close_req = true;
    UNLOCK(ri->c);
}

/* ---- fuzzing entry: a connection without a socket ---- */

static void fuzz_body_done(nb_req *r, int status, const char *body, size_t len)
{
    if (status != 0) {
        nb_resp_simple(r, status > 0 ? status : 400, NULL, NULL, 0, NULL, 0);
        return;
    }
    if (r->query_len && strstr(r->query, "chunked")) {
        nb_header h = {"X-Echo", 6, r->path, r->path_len};
        nb_resp_start(r, 200, &h, 1, -1);
        nb_resp_write(r, body, len / 2);
        nb_resp_write(r, body + len / 2, len - len / 2);
        nb_resp_end(r);
        return;
    }
    nb_resp_simple(r, 200, "application/octet-stream", body, len, NULL, 0);
}

static void fuzz_handler(nb_req *r)
{
    if (r->path_len > 1 && r->path[1] == 'n') { /* answer without reading the body */
        nb_resp_simple(r, 204, NULL, NULL, 0, NULL, 0);
        return;
    }
    nb_req_read_all(r, 1u << 20, fuzz_body_done);
}

size_t nb_http_fuzz_feed(const uint8_t *data, size_t n)
{
    static nb_lsn lsn = {.on_request = fuzz_handler};
    nb_loop *L = nb_loop_init_fake();
    nb_conn *c = calloc(1, sizeof(*c));
    if (!c) return 0;
    conn_init(c, L);
    c->fake = true;
    c->lsn = &lsn;
    c->fake_in = data;
    c->fake_in_len = n;
    c->readable = true;
    snprintf(c->peer_ip, sizeof(c->peer_ip), "fuzz");
    for (int round = 0; round < 100000 && !c->dead; round++) {
        size_t before = c->fake_in_pos;
        uint64_t out_before = c->fake_out;
        c->readable = true;
        conn_process(c);
        conn_flush(c);
        while (L->dirty) {
            nb_conn *d = L->dirty;
            L->dirty = NULL;
            while (d) {
                nb_conn *nx = d->dirty_next;
                d->in_dirty = false;
                d->dirty_next = NULL;
                conn_process(d);
                conn_flush(d);
                d = nx;
            }
        }
        if (c->fake_in_pos == before && c->fake_out == out_before && c->peer_eof) break;
        if (c->fake_in_pos == before && c->fake_out == out_before && !c->ilen) break;
    }
    size_t out = (size_t)c->fake_out;
    if (c->req && c->req->dispatched && !c->req->finished) {
        /* A handler still owns it (not possible with fuzz_handler, which always answers). */
        nb_resp_end(&c->req->pub);
    }
    conn_kill(c);
    nb_conn_reap(L);
    return out;
}
