/* sqs_driver.c: load driver for bench/sqs_bench.sh: SigV4-signed SQS (JSON protocol) and SNS
 * (query protocol) calls over keep-alive connections, one blocking connection per thread.
 *
 *   sqs_driver call  --target H:P --service sqs|sns --op OP --body BODY   one call, body to stdout
 *   sqs_driver sqs   --target H:P --queue-url URL [-c N] [-d S]           send+receive+delete cycles
 *   sqs_driver sns   --target H:P --topic-arn ARN [-c N] [-d S]           Publish
 *   sqs_driver free-port
 *
 * A cycle is SendMessage, ReceiveMessage (up to 1 message, no wait) and DeleteMessage of what
 * came back; the figure is completed cycles per second (messages through the queue). The
 * receive may return another thread's message; an empty receive is retried and counted. Every
 * request is signed as the SDKs sign (one signature per request: the receipt handles differ).
 * Prints one JSON line: {"mode","ops","seconds","per_sec","errors","first_error"}. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/nb.h"
#include "proto/sigv4.h"

static char host[64] = "127.0.0.1";
static int port;
static char hostport[80];
static const char *service = "sqs";
static const char *op_name, *body_arg, *queue_url, *topic_arn;
static int conns = 16;
static double duration = 5;
static atomic_ulong done_ops, errors, empties;
static atomic_bool stop;
static char first_error[400];
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct conn {
    int fd;
    char *buf;
    size_t cap;
} conn;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(conn *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = {30, 0}; /* a stuck server must not hang the run */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return connect(c->fd, (struct sockaddr *)&a, sizeof(a));
}

static void note_error(const char *what)
{
    atomic_fetch_add(&errors, 1);
    pthread_mutex_lock(&err_mu);
    if (!first_error[0]) snprintf(first_error, sizeof(first_error), "%s", what);
    pthread_mutex_unlock(&err_mu);
}

/* One signed POST /; returns the status, the body in c->buf (NUL-terminated), -1 on I/O error. */
static int call(conn *c, const char *svc, const char *op, const char *body)
{
    bool json = !strcmp(svc, "sqs");
    char amz_date[17];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    char target[80];
    snprintf(target, sizeof(target), "AmazonSQS.%s", op);
    const char *ctype = json ? "application/x-amz-json-1.0" : "application/x-www-form-urlencoded; charset=utf-8";
    nb_header h[4] = {
        {"content-type", 12, ctype, strlen(ctype)},
        {"host", 4, hostport, strlen(hostport)},
        {"x-amz-date", 10, amz_date, 16},
        {"x-amz-target", 12, target, strlen(target)},
    };
    char hash[65];
    nb_sha256_hex(body, strlen(body), hash);
    nb_buf auth;
    nb_buf_init(&auth);
    nb_sigv4_sign(&auth, "test", "test", "us-east-1", svc, amz_date, "POST", "/", "", h, json ? 4 : 3, hash, false);
    nb_buf req;
    nb_buf_init(&req);
    nb_buf_printf(&req, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nX-Amz-Date: %s\r\n", hostport, ctype, amz_date);
    if (json) nb_buf_printf(&req, "X-Amz-Target: %s\r\n", target);
    nb_buf_printf(&req, "Authorization: %s\r\nContent-Length: %zu\r\n\r\n%s", auth.data, strlen(body), body);
    nb_buf_free(&auth);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && dial(c) < 0) break;
        size_t off = 0;
        bool ok = true;
        while (off < req.len) {
            ssize_t n = send(c->fd, req.data + off, req.len - off, MSG_NOSIGNAL);
            if (n <= 0) {
                ok = false;
                break;
            }
            off += (size_t)n;
        }
        size_t got = 0;
        ssize_t hdr_end = -1;
        long clen = -1;
        while (ok) {
            if (got + 4096 > c->cap) {
                c->cap = c->cap ? c->cap * 2 : 65536;
                c->buf = realloc(c->buf, c->cap);
            }
            ssize_t n = recv(c->fd, c->buf + got, c->cap - got - 1, 0);
            if (n <= 0) {
                ok = false;
                break;
            }
            got += (size_t)n;
            c->buf[got] = 0;
            if (hdr_end < 0) {
                char *e = strstr(c->buf, "\r\n\r\n");
                if (!e) continue;
                hdr_end = e + 4 - c->buf;
                char *cl = strcasestr(c->buf, "\r\ncontent-length:");
                clen = cl && cl < e ? strtol(cl + 17, NULL, 10) : 0;
            }
            if ((long)got - hdr_end >= clen) break;
        }
        if (!ok) {
            close(c->fd);
            c->fd = -1;
            continue; /* the server closed a keep-alive connection: once more on a new one */
        }
        int status = atoi(c->buf + 9);
        c->buf[hdr_end - 2] = 0;
        if (strcasestr(c->buf, "\r\nconnection: close")) { /* moto (werkzeug) closes after each answer */
            close(c->fd);
            c->fd = -1;
        }
        memmove(c->buf, c->buf + hdr_end, (size_t)clen);
        c->buf[clen] = 0;
        nb_buf_free(&req);
        return status;
    }
    nb_buf_free(&req);
    return -1;
}

static void json_escape_into(nb_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') nb_buf_putc(b, '\\');
        nb_buf_putc(b, *s);
    }
}

/* "ReceiptHandle":"..." out of a ReceiveMessage answer. */
static bool receipt_of(const char *body, char *out, size_t n)
{
    const char *p = strstr(body, "\"ReceiptHandle\":\"");
    if (!p) p = strstr(body, "\"ReceiptHandle\": \"");
    if (!p) return false;
    p = strchr(p + 15, '"') + 1;
    size_t i = 0;
    while (*p && *p != '"' && i + 1 < n) {
        if (*p == '\\' && p[1]) p++;
        out[i++] = *p++;
    }
    out[i] = 0;
    return i > 0;
}

static void *sqs_worker(void *arg)
{
    (void)arg;
    conn c = {.fd = -1};
    char payload[101];
    memset(payload, 'm', 100);
    payload[100] = 0;
    nb_buf send_body, recv_body, del;
    nb_buf_init(&send_body);
    nb_buf_init(&recv_body);
    nb_buf_init(&del);
    nb_buf_puts(&send_body, "{\"QueueUrl\":\"");
    json_escape_into(&send_body, queue_url);
    nb_buf_printf(&send_body, "\",\"MessageBody\":\"%s\"}", payload);
    nb_buf_puts(&recv_body, "{\"QueueUrl\":\"");
    json_escape_into(&recv_body, queue_url);
    nb_buf_puts(&recv_body, "\",\"MaxNumberOfMessages\":1,\"WaitTimeSeconds\":0}");
    char handle[2048];
    while (!atomic_load(&stop)) {
        int st = call(&c, "sqs", "SendMessage", send_body.data);
        if (st != 200) {
            note_error(st < 0 ? "SendMessage: connection failed" : c.buf);
            continue;
        }
        for (int tries = 0; !atomic_load(&stop); tries++) {
            st = call(&c, "sqs", "ReceiveMessage", recv_body.data);
            if (st != 200) {
                note_error(st < 0 ? "ReceiveMessage: connection failed" : c.buf);
                break;
            }
            if (receipt_of(c.buf, handle, sizeof(handle))) break;
            atomic_fetch_add(&empties, 1);
            handle[0] = 0;
        }
        if (!handle[0]) continue;
        nb_buf_reset(&del);
        nb_buf_puts(&del, "{\"QueueUrl\":\"");
        json_escape_into(&del, queue_url);
        nb_buf_puts(&del, "\",\"ReceiptHandle\":\"");
        json_escape_into(&del, handle);
        nb_buf_puts(&del, "\"}");
        st = call(&c, "sqs", "DeleteMessage", del.data);
        if (st != 200) {
            note_error(st < 0 ? "DeleteMessage: connection failed" : c.buf);
            continue;
        }
        atomic_fetch_add(&done_ops, 1);
    }
    nb_buf_free(&send_body);
    nb_buf_free(&recv_body);
    nb_buf_free(&del);
    if (c.fd >= 0) close(c.fd);
    free(c.buf);
    return NULL;
}

static void *sns_worker(void *arg)
{
    (void)arg;
    conn c = {.fd = -1};
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_puts(&b, "Action=Publish&Version=2010-03-31&TopicArn=");
    nb_url_encode(&b, topic_arn, strlen(topic_arn), false);
    nb_buf_puts(&b, "&Message=");
    char payload[101];
    memset(payload, 'p', 100);
    payload[100] = 0;
    nb_buf_puts(&b, payload);
    while (!atomic_load(&stop)) {
        int st = call(&c, "sns", "Publish", b.data);
        if (st != 200) {
            note_error(st < 0 ? "Publish: connection failed" : c.buf);
            continue;
        }
        atomic_fetch_add(&done_ops, 1);
    }
    nb_buf_free(&b);
    if (c.fd >= 0) close(c.fd);
    free(c.buf);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: sqs_driver call|sqs|sns|free-port --target H:P [--service S --op OP --body B]\n"
                    "       [--queue-url URL] [--topic-arn ARN] [-c CONNS] [-d SECONDS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2) usage();
    const char *mode = argv[1];
    if (!strcmp(mode, "free-port")) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        socklen_t l = sizeof(a);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &l) < 0) return 1;
        printf("%d\n", ntohs(a.sin_port));
        close(fd);
        return 0;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(a, "--target")) {
            const char *colon = strrchr(v, ':');
            if (!colon) usage();
            snprintf(host, sizeof(host), "%.*s", (int)(colon - v), v);
            port = atoi(colon + 1);
        } else if (!strcmp(a, "--service")) service = v;
        else if (!strcmp(a, "--op")) op_name = v;
        else if (!strcmp(a, "--body")) body_arg = v;
        else if (!strcmp(a, "--queue-url")) queue_url = v;
        else if (!strcmp(a, "--topic-arn")) topic_arn = v;
        else if (!strcmp(a, "-c")) conns = atoi(v);
        else if (!strcmp(a, "-d")) duration = atof(v);
        else usage();
        i++;
    }
    if (!port) usage();
    snprintf(hostport, sizeof(hostport), "%s:%d", host, port);
    if (!strcmp(mode, "call")) {
        if (!op_name || !body_arg) usage();
        conn c = {.fd = -1};
        int st = call(&c, service, op_name, body_arg);
        if (st < 0) {
            fprintf(stderr, "sqs_driver: cannot reach %s\n", hostport);
            return 1;
        }
        printf("%s\n", c.buf);
        return st == 200 ? 0 : 1;
    }
    void *(*fn)(void *) = NULL;
    if (!strcmp(mode, "sqs") && queue_url) fn = sqs_worker;
    else if (!strcmp(mode, "sns") && topic_arn) fn = sns_worker;
    else usage();
    pthread_t *th = calloc((size_t)conns, sizeof(*th));
    double t0 = now_s();
    for (int i = 0; i < conns; i++) pthread_create(&th[i], NULL, fn, NULL);
    usleep((useconds_t)(duration * 1e6));
    atomic_store(&stop, true);
    unsigned long ops = atomic_load(&done_ops);
    double secs = now_s() - t0;
    for (int i = 0; i < conns; i++) pthread_join(th[i], NULL);
    for (char *p = first_error; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) *p = ' ';
    printf("{\"mode\":\"%s\",\"ops\":%lu,\"seconds\":%.2f,\"per_sec\":%.1f,\"errors\":%lu,\"empty_receives\":%lu,"
           "\"first_error\":\"%s\"}\n",
           mode, ops, secs, ops / secs, atomic_load(&errors), atomic_load(&empties), first_error);
    free(th);
    return 0;
}
