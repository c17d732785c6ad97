/* client.c: the HTTP/1.1 client: nb_http_fetch (asynchronous, on a loop) and
 * nb_http_fetch_sync (blocking, for workers and background threads), over http or https,
 * with content-length, chunked or close-delimited responses, a deadline for the whole
 * exchange, and optional sockets inside a network namespace. One request per connection
 * (Connection: close): callers are health checks, webhooks and proxies, not hot paths. */
#include "http/http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- pieces shared by both clients ---- */

typedef struct url_parts {
    bool https;
    char host[256]; /* without brackets */
    int port;
    const char *path; /* into the url: path + query, "" means "/" */
    size_t path_len;
} url_parts;

static int parse_url(const char *url, url_parts *u)
{
    memset(u, 0, sizeof(*u));
    if (!url) return -EINVAL;
    const char *p;
    if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        p = url + 8;
        u->https = true;
    } else {
        return -EINVAL;
    }
    const char *end = p + strcspn(p, "/?#");
    const char *hs = p, *he;
    const char *port = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb) return -EINVAL;
        hs = p + 1;
        he = rb;
        if (rb + 1 < end && rb[1] == ':') port = rb + 2;
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        he = colon ? colon : end;
        if (colon) port = colon + 1;
    }
    if (he <= hs || (size_t)(he - hs) >= sizeof(u->host)) return -EINVAL;
    memcpy(u->host, hs, (size_t)(he - hs));
    u->port = u->https ? 443 : 80;
    if (port) {
        char *e;
        long v = strtol(port, &e, 10);
        if (e != end || v <= 0 || v > 65535) return -EINVAL;
        u->port = (int)v;
    }
    u->path = end;
    u->path_len = strcspn(end, "#");
    return 0;
}

static bool has_header(const nb_http_request_spec *s, const char *name)
{
    for (size_t i = 0; i < s->nheaders; i++)
        if (nb_mem_ieq(s->headers[i].name, s->headers[i].name_len, name, strlen(name)))
            return true;
    return false;
}

static int build_request(const nb_http_request_spec *s, const url_parts *u, nb_buf *b)
{
    const char *method = s->method ? s->method : "GET";
    nb_buf_printf(b, "%s ", method);
    if (u->path_len == 0 || u->path[0] != '/') nb_buf_putc(b, '/');
    nb_buf_append(b, u->path, u->path_len);
    nb_buf_puts(b, " HTTP/1.1\r\n");
    if (!has_header(s, "host")) {
        bool v6 = strchr(u->host, ':') != NULL;
        bool dflt = u->port == (u->https ? 443 : 80);
        nb_buf_printf(b, "Host: %s%s%s", v6 ? "[" : "", u->host, v6 ? "]" : "");
        if (!dflt) nb_buf_printf(b, ":%d", u->port);
        nb_buf_puts(b, "\r\n");
    }
    for (size_t i = 0; i < s->nheaders; i++) {
        nb_buf_append(b, s->headers[i].name, s->headers[i].name_len);
        nb_buf_puts(b, ": ");
        nb_buf_append(b, s->headers[i].value, s->headers[i].value_len);
        nb_buf_puts(b, "\r\n");
    }
    bool wants_len = s->body_len > 0 || strcmp(method, "POST") == 0 ||
                     strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    if (wants_len && !has_header(s, "content-length"))
        nb_buf_printf(b, "Content-Length: %zu\r\n", s->body_len);
    if (!has_header(s, "user-agent")) nb_buf_puts(b, "User-Agent: Nimbus/" NB_VERSION "\r\n");
    nb_buf_puts(b, "Connection: close\r\n\r\n");
    if (s->body_len) nb_buf_append(b, s->body, s->body_len);
    return b->oom ? -ENOMEM : 0;
}

static int resolve(const url_parts *u, struct sockaddr_storage *ss, socklen_t *sl)
{
    memset(ss, 0, sizeof(*ss));
    const char *host = strcmp(u->host, "localhost") == 0 ? "127.0.0.1" : u->host;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)u->port);
        *sl = sizeof(*a4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)u->port);
        *sl = sizeof(*a6);
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return -EHOSTUNREACH;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sl = res->ai_addrlen;
    freeaddrinfo(res);
    if (ss->ss_family == AF_INET)
        a4->sin_port = htons((uint16_t)u->port);
    else
        a6->sin6_port = htons((uint16_t)u->port);
    return 0;
}

/* Sockets live in the network namespace they were created in, so a thread that entered the
 * namespace creates it and the caller uses it from anywhere. */
struct ns_sock {
    const char *path;
    int family;
    int fd;
    int err;
};

static void *ns_sock_thread(void *arg)
{
    struct ns_sock *n = arg;
    int nsfd = open(n->path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
        n->err = -errno;
        return NULL;
    }
    if (setns(nsfd, CLONE_NEWNET) < 0) {
        n->err = -errno;
        close(nsfd);
        return NULL;
    }
    close(nsfd);
    n->fd = socket(n->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (n->fd < 0) n->err = -errno;
    return NULL;
}

static int make_socket(int family, const char *netns)
{
    if (!netns) {
        int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        return fd < 0 ? -errno : fd;
    }
    struct ns_sock n = {.path = netns, .family = family, .fd = -1};
    pthread_t t;
    if (pthread_create(&t, NULL, ns_sock_thread, &n) != 0) return -EAGAIN;
    pthread_join(t, NULL);
    return n.fd >= 0 ? n.fd : n.err;
}

/* Response collection with http_parser. */
typedef struct rparse {
    http_parser p;
    int status;
    nb_buf hb; /* header pieces, NUL-separated */
    struct {
        size_t no, nl, vo, vl;
    } *ho;
    size_t nho, capho;
    int last;
    nb_buf body;
    size_t max_body;
    bool head, done, too_big, oom;
} rparse;

static int rp_field(http_parser *p, const char *at, size_t n)
{
    rparse *r = p->data;
    if (r->last != 1) {
        if (r->nho == r->capho) {
            size_t cap = r->capho ? r->capho * 2 : 16;
            void *h = realloc(r->ho, cap * sizeof(*r->ho));
            if (!h || cap > 10000) {
                r->oom = true;
                return -1;
            }
            r->ho = h;
            r->capho = cap;
        }
        if (r->nho) nb_buf_putc(&r->hb, 0);
        r->ho[r->nho].no = r->hb.len;
        r->ho[r->nho].nl = r->ho[r->nho].vl = 0;
        r->ho[r->nho].vo = 0;
        r->nho++;
        r->last = 1;
    }
    nb_buf_append(&r->hb, at, n);
    r->ho[r->nho - 1].nl += n;
    return r->hb.oom ? -1 : 0;
}

static int rp_value(http_parser *p, const char *at, size_t n)
{
    rparse *r = p->data;
    if (!r->nho) return 0;
    if (r->last != 2) {
        nb_buf_putc(&r->hb, 0);
        r->ho[r->nho - 1].vo = r->hb.len;
        r->last = 2;
    }
    nb_buf_append(&r->hb, at, n);
    r->ho[r->nho - 1].vl += n;
    return r->hb.oom ? -1 : 0;
}

static int rp_headers_complete(http_parser *p)
{
    rparse *r = p->data;
    r->status = p->status_code;
    if (r->nho && r->last == 1) {
        nb_buf_putc(&r->hb, 0);
        r->ho[r->nho - 1].vo = r->hb.len;
    }
    nb_buf_putc(&r->hb, 0);
    /* 1xx interim responses are skipped by http_parser's caller (see rp_message_complete). */
    return r->head ? 1 : 0;
}

static int rp_body(http_parser *p, const char *at, size_t n)
{
    rparse *r = p->data;
    if (r->body.len + n > r->max_body) {
        r->too_big = true;
        return -1;
    }
    nb_buf_append(&r->body, at, n);
    return r->body.oom ? -1 : 0;
}

static int rp_message_complete(http_parser *p)
{
    rparse *r = p->data;
    if (p->status_code >= 100 && p->status_code < 200) { /* e.g. 100 Continue: wait on */
        r->nho = 0;
        r->last = 0;
        nb_buf_reset(&r->hb);
        return 0;
    }
    r->done = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings rp_settings = {
    .on_header_field = rp_field,
    .on_header_value = rp_value,
    .on_headers_complete = rp_headers_complete,
    .on_body = rp_body,
    .on_message_complete = rp_message_complete,
};

static void rp_init(rparse *r, const nb_http_request_spec *s)
{
    memset(r, 0, sizeof(*r));
    http_parser_init(&r->p, HTTP_RESPONSE);
    r->p.data = r;
    r->max_body = s->max_body ? s->max_body : 16u << 20;
    r->head = s->method && strcmp(s->method, "HEAD") == 0;
}

static void rp_free(rparse *r)
{
    nb_buf_free(&r->hb);
    nb_buf_free(&r->body);
    free(r->ho);
}

/* Feed bytes (n == 0: EOF). Returns 1 when the response is complete, 0 for more, <0 error. */
static int rp_feed(rparse *r, const char *d, size_t n)
{
    if (r->done) return 1;
    http_parser_execute(&r->p, &rp_settings, d, n);
    enum http_errno e = HTTP_PARSER_ERRNO(&r->p);
    if (r->done) return 1;
    if (r->too_big) return -EMSGSIZE;
    if (r->oom || r->hb.oom || r->body.oom) return -ENOMEM;
    if (e != HPE_OK && e != HPE_PAUSED) return -EPROTO;
    if (n == 0) return -EPROTO; /* EOF before the end of the response */
    return 0;
}

static nb_http_response *rp_result(rparse *r)
{
    nb_arena *a = nb_arena_new(1024 + r->hb.len);
    nb_http_response *resp = a ? nb_arena_calloc(a, sizeof(*resp)) : NULL;
    if (!resp) goto oom;
    resp->arena = a;
    resp->status = r->status;
    char *hb = nb_arena_strndup(a, r->hb.data ? r->hb.data : "", r->hb.len);
    if (!hb) goto oom;
    resp->nheaders = r->nho;
    if (r->nho) {
        resp->headers = nb_arena_alloc(a, r->nho * sizeof(nb_header));
        if (!resp->headers) goto oom;
        for (size_t i = 0; i < r->nho; i++)
            resp->headers[i] = (nb_header){hb + r->ho[i].no, r->ho[i].nl,
                                           r->ho[i].vl ? hb + r->ho[i].vo : "", r->ho[i].vl};
    }
    resp->body = nb_arena_strndup(a, r->body.data ? r->body.data : "", r->body.len);
    if (!resp->body) goto oom;
    resp->body_len = r->body.len;
    return resp;
oom:
    nb_arena_free(a);
    return NULL;
}

void nb_http_response_free(nb_http_response *resp)
{
    if (resp) nb_arena_free(resp->arena);
}

const char *nb_http_response_header(const nb_http_response *resp, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < resp->nheaders; i++)
        if (nb_mem_ieq(resp->headers[i].name, resp->headers[i].name_len, name, nl))
            return resp->headers[i].value;
    return NULL;
}

static SSL *tls_client_new(int fd, const url_parts *u, bool verify)
{
    SSL_CTX *ctx = nb_tls_client_ctx(verify);
    if (!ctx) return NULL;
    SSL *ssl = SSL_new(ctx);
    if (!ssl) return NULL;
    SSL_set_fd(ssl, fd);
    struct in6_addr tmp;
    bool is_ip = inet_pton(AF_INET, u->host, &tmp) == 1 || inet_pton(AF_INET6, u->host, &tmp) == 1;
    if (!is_ip) SSL_set_tlsext_host_name(ssl, u->host);
    if (verify) {
        if (is_ip) {
            X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
            X509_VERIFY_PARAM_set1_ip_asc(vp, u->host);
        } else {
            SSL_set1_host(ssl, u->host);
        }
    }
    SSL_set_connect_state(ssl);
    return ssl;
}

/* ---- blocking client ---- */

static int wait_fd(int fd, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - nb_mono_ms();
        if (left <= 0) return -ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = ev};
        int r = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
        if (r > 0) return 0;
        if (r < 0 && errno != EINTR) return -errno;
    }
}

/* Wait for whatever OpenSSL asked for. */
static int wait_ssl(SSL *ssl, int fd, int ret, int64_t deadline)
{
    int e = SSL_get_error(ssl, ret);
    if (e == SSL_ERROR_WANT_READ) return wait_fd(fd, POLLIN, deadline);
    if (e == SSL_ERROR_WANT_WRITE) return wait_fd(fd, POLLOUT, deadline);
    if (e == SSL_ERROR_ZERO_RETURN) return 1;
    return -EPROTO;
}

int nb_http_fetch_sync(const nb_http_request_spec *spec, nb_http_response **out)
{
    *out = NULL;
    url_parts u;
    int rc = parse_url(spec->url, &u);
    if (rc) return rc;
    int64_t deadline = nb_mono_ms() + (spec->timeout_ms > 0 ? spec->timeout_ms : 30000);
    struct sockaddr_storage ss;
    socklen_t sl;
    if ((rc = resolve(&u, &ss, &sl))) return rc;
    nb_buf req;
    nb_buf_init(&req);
    if ((rc = build_request(spec, &u, &req))) {
        nb_buf_free(&req);
        return rc;
    }
    int fd = make_socket(ss.ss_family, spec->netns);
    if (fd < 0) {
        nb_buf_free(&req);
        return fd;
    }
    SSL *ssl = NULL;
    rparse rp;
    rp_init(&rp, spec);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
        if (errno != EINPROGRESS) {
            rc = -errno;
            goto done;
        }
        if ((rc = wait_fd(fd, POLLOUT, deadline))) goto done;
        int err = 0;
        socklen_t el = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            rc = -err;
            goto done;
        }
    }
    if (u.https) {
        ssl = tls_client_new(fd, &u, spec->tls_verify);
        if (!ssl) {
            rc = -ENOMEM;
            goto done;
        }
        for (;;) {
            ERR_clear_error();
            int r = SSL_connect(ssl);
            if (r == 1) break;
            if ((rc = wait_ssl(ssl, fd, r, deadline))) {
                if (rc > 0) rc = -EPROTO;
                goto done;
            }
        }
    }
    for (size_t off = 0; off < req.len;) {
        ssize_t n;
        if (ssl) {
            ERR_clear_error();
            int w = SSL_write(ssl, req.data + off, (int)(req.len - off > INT32_MAX ? INT32_MAX : req.len - off));
            if (w <= 0) {
                if ((rc = wait_ssl(ssl, fd, w, deadline))) {
                    if (rc > 0) rc = -EPIPE;
                    goto done;
                }
                continue;
            }
            n = w;
        } else {
            n = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN) {
                    rc = -errno;
                    goto done;
                }
                if ((rc = wait_fd(fd, POLLOUT, deadline))) goto done;
                continue;
            }
        }
        off += (size_t)n;
    }
    char buf[16384];
    for (;;) {
        ssize_t n;
        if (ssl) {
            ERR_clear_error();
            int r = SSL_read(ssl, buf, sizeof(buf));
            if (r <= 0) {
                int w = wait_ssl(ssl, fd, r, deadline);
                if (w < 0) {
                    /* A peer that just closes the socket ends a close-delimited body. */
                    if (SSL_get_error(ssl, r) == SSL_ERROR_SYSCALL) w = 1;
                    else {
                        rc = w;
                        goto done;
                    }
                }
                if (w == 0) continue;
                n = 0;
            } else {
                n = r;
            }
        } else {
            n = recv(fd, buf, sizeof(buf), 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN) {
                    rc = -errno;
                    goto done;
                }
                if ((rc = wait_fd(fd, POLLIN, deadline))) goto done;
                continue;
            }
        }
        int f = rp_feed(&rp, buf, (size_t)n);
        if (f < 0) {
            rc = f;
            goto done;
        }
        if (f == 1) break;
    }
    *out = rp_result(&rp);
    rc = *out ? 0 : -ENOMEM;
done:
    if (ssl) SSL_free(ssl);
    close(fd);
    rp_free(&rp);
    nb_buf_free(&req);
    return rc;
}

/* ---- asynchronous client, on a loop ---- */

enum { CL_CONNECTING, CL_HANDSHAKE, CL_SENDING, CL_RECEIVING };

typedef struct nb_client {
    nb_io io;
    nb_loop *loop;
    struct nb_client *prev, *next;
    int fd;
    SSL *ssl;
    int state;
    url_parts u;
    struct sockaddr_storage ss;
    socklen_t sl;
    char *netns;
    bool tls_verify;
    int timeout_ms;
    nb_buf out;
    size_t out_pos;
    rparse rp;
    nb_timer tm;
    void (*cb)(void *ud, int err, nb_http_response *resp);
    void *ud;
} nb_client;

static void client_free(nb_client *cl)
{
    nb_loop *L = cl->loop;
    if (L) {
        nb_timer_disarm(L, &cl->tm);
        if (cl->prev)
            cl->prev->next = cl->next;
        else if (L->clients == cl)
            L->clients = cl->next;
        if (cl->next) cl->next->prev = cl->prev;
        L->nclients--;
    }
    if (cl->ssl) SSL_free(cl->ssl);
    if (cl->fd >= 0) close(cl->fd);
    nb_buf_free(&cl->out);
    rp_free(&cl->rp);
    free(cl->netns);
    free(cl);
}

static void client_done(nb_client *cl, int err)
{
    nb_http_response *resp = NULL;
    if (!err) {
        resp = rp_result(&cl->rp);
        if (!resp) err = -ENOMEM;
    }
    void (*cb)(void *, int, nb_http_response *) = cl->cb;
    void *ud = cl->ud;
    client_free(cl);
    cb(ud, err, resp);
}

static void client_timeout(void *arg) { client_done(arg, -ETIMEDOUT); }

static void client_step(nb_client *cl)
{
    for (;;) {
        switch (cl->state) {
        case CL_CONNECTING: {
            int err = 0;
            socklen_t el = sizeof(err);
            getsockopt(cl->fd, SOL_SOCKET, SO_ERROR, &err, &el);
            if (err) {
                client_done(cl, -err);
                return;
            }
            /* Still connecting? A zero-byte poll tells writable (= connected). */
            struct pollfd pfd = {.fd = cl->fd, .events = POLLOUT};
            if (poll(&pfd, 1, 0) <= 0) return;
            if (cl->u.https) {
                cl->ssl = tls_client_new(cl->fd, &cl->u, cl->tls_verify);
                if (!cl->ssl) {
                    client_done(cl, -ENOMEM);
                    return;
                }
                cl->state = CL_HANDSHAKE;
            } else {
                cl->state = CL_SENDING;
            }
            break;
        }
        case CL_HANDSHAKE: {
            ERR_clear_error();
            int r = SSL_connect(cl->ssl);
            if (r == 1) {
                cl->state = CL_SENDING;
                break;
            }
            int e = SSL_get_error(cl->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
            client_done(cl, -EPROTO);
            return;
        }
        case CL_SENDING: {
            while (cl->out_pos < cl->out.len) {
                size_t left = cl->out.len - cl->out_pos;
                ssize_t n;
                if (cl->ssl) {
                    ERR_clear_error();
                    int w = SSL_write(cl->ssl, cl->out.data + cl->out_pos,
                                      left > INT32_MAX ? INT32_MAX : (int)left);
                    if (w <= 0) {
                        int e = SSL_get_error(cl->ssl, w);
                        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
                        client_done(cl, -EPIPE);
                        return;
                    }
                    n = w;
                } else {
                    n = send(cl->fd, cl->out.data + cl->out_pos, left, MSG_NOSIGNAL);
                    if (n < 0) {
                        if (errno == EINTR) continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
                        client_done(cl, -errno);
                        return;
                    }
                }
                cl->out_pos += (size_t)n;
            }
            nb_buf_free(&cl->out);
            cl->out_pos = 0;
            cl->state = CL_RECEIVING;
            break;
        }
        case CL_RECEIVING: {
            char *buf = cl->loop->scratch;
            ssize_t n;
            if (cl->ssl) {
                ERR_clear_error();
                int r = SSL_read(cl->ssl, buf, (int)NB_READ_CHUNK);
                if (r <= 0) {
                    int e = SSL_get_error(cl->ssl, r);
                    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
                    if (e != SSL_ERROR_ZERO_RETURN && e != SSL_ERROR_SYSCALL) {
                        client_done(cl, -EPROTO);
                        return;
                    }
                    n = 0;
                } else {
                    n = r;
                }
            } else {
                n = recv(cl->fd, buf, NB_READ_CHUNK, 0);
                if (n < 0) {
                    if (errno == EINTR) continue;
                    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
                    client_done(cl, -errno);
                    return;
                }
            }
            int f = rp_feed(&cl->rp, buf, (size_t)n);
            if (f != 0) {
                client_done(cl, f < 0 ? f : 0);
                return;
            }
            break;
        }
        }
    }
}

void nb_client_event(nb_client *cl, uint32_t ev)
{
    NB_UNUSED(ev);
    client_step(cl);
}

static void client_start(void *arg)
{
    nb_client *cl = arg;
    nb_loop *L = nb_loop_self;
    cl->loop = L;
    cl->next = L->clients;
    if (L->clients) L->clients->prev = cl;
    L->clients = cl;
    L->nclients++;
    cl->tm.idx = NB_TIMER_OFF;
    cl->tm.fn = client_timeout;
    cl->tm.arg = cl;
    nb_timer_arm(L, &cl->tm, L->now + cl->timeout_ms);
    if (L->stopping) {
        client_done(cl, -ECANCELED);
        return;
    }
    int fd = make_socket(cl->ss.ss_family, cl->netns);
    if (fd < 0) {
        client_done(cl, fd);
        return;
    }
    cl->fd = fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&cl->ss, cl->sl) < 0 && errno != EINPROGRESS) {
        client_done(cl, -errno);
        return;
    }
    if (nb_loop_add_fd(L, fd, &cl->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
        client_done(cl, -errno);
        return;
    }
    client_step(cl);
}

int nb_http_fetch(const nb_http_request_spec *spec,
                  void (*cb)(void *ud, int err, nb_http_response *resp), void *ud)
{
    nb_client *cl = calloc(1, sizeof(*cl));
    if (!cl) return -1;
    cl->io.kind = NB_IO_CLIENT;
    cl->fd = -1;
    cl->cb = cb;
    cl->ud = ud;
    cl->tls_verify = spec->tls_verify;
    cl->timeout_ms = spec->timeout_ms > 0 ? spec->timeout_ms : 30000;
    rp_init(&cl->rp, spec);
    if (parse_url(spec->url, &cl->u) || resolve(&cl->u, &cl->ss, &cl->sl) ||
        build_request(spec, &cl->u, &cl->out) ||
        (spec->netns && !(cl->netns = strdup(spec->netns))) ||
        nb_loop_post(-1, client_start, cl) < 0) {
        client_free(cl);
        return -1;
    }
    return 0;
}

void nb_client_fail_all(nb_loop *L)
{
    while (L->clients) client_done(L->clients, -ECANCELED);
}
