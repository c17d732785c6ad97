/* deliver.c: getting SNS messages to their subscribers, the way AWS does it:
 *   - sqs: into the queue (raw or wrapped in the signed JSON envelope), durably, before
 *     Publish answers;
 *   - http/https: POST of the signed JSON with the x-amz-sns-* headers, asynchronously on the
 *     HTTP client; failures (connection errors, 5xx, 429) are retried on the scheduler by the
 *     subscription's (or topic's) delivery policy, on the region clock; after the last retry,
 *     or at once for other 4xx answers, the message goes to the subscription's dead-letter
 *     queue (RedrivePolicy) if it has one;
 *   - email/email-json: to the SMTP relay named by NIMBUS_SMTP_RELAY (host:port), else into
 *     the mailbox under <data>/sns/mailbox/, listed by GET /_nimbus/sns/mailbox;
 *   - sms, application, lambda, firehose: recorded (GET /_nimbus/sns/messages). */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/sched.h"
#include "proto/proto.h"
#include "svc/sns/sns_internal.h"
#include "svc/sqs/sqs.h"

static char smtp_relay[300];

void nb_sns_deliver_init(void)
{
    const char *r = getenv("NIMBUS_SMTP_RELAY");
    snprintf(smtp_relay, sizeof(smtp_relay), "%s", r ? r : "");
    char mb[1200];
    snprintf(mb, sizeof(mb), "%s/mailbox", nb_sns_dir);
    mkdir(mb, 0755);
}

/* Deliveries handed to the scheduler or the HTTP client (nb_sns_deliver_async) until freed. */
static pthread_mutex_t queued_mu = PTHREAD_MUTEX_INITIALIZER;
static sns_out *queued_head;

static void queued_add(sns_out *o)
{
    pthread_mutex_lock(&queued_mu);
    o->qprev = NULL;
    o->qnext = queued_head;
    if (queued_head) queued_head->qprev = o;
    queued_head = o;
    o->queued = true;
    pthread_mutex_unlock(&queued_mu);
}

static void queued_del(sns_out *o)
{
    pthread_mutex_lock(&queued_mu);
    if (o->queued) {
        if (o->qprev) o->qprev->qnext = o->qnext;
        else queued_head = o->qnext;
        if (o->qnext) o->qnext->qprev = o->qprev;
        o->queued = false;
    }
    pthread_mutex_unlock(&queued_mu);
}

/* Called once the scheduler and the HTTP client have stopped (main.c stops them before the
 * services): what still waits for a retry is dropped, as README's "Not yet" says, and freed. */
void nb_sns_deliver_shutdown(void)
{
    pthread_mutex_lock(&queued_mu);
    sns_out *o = queued_head;
    queued_head = NULL;
    pthread_mutex_unlock(&queued_mu);
    size_t n = 0;
    while (o) {
        sns_out *next = o->qnext;
        o->queued = false;
        nb_sns_out_free(o);
        o = next;
        n++;
    }
    if (n) nb_info("sns: %zu queued deliveries dropped at shutdown", n);
}

void nb_sns_out_free(sns_out *o)
{
    if (!o) return;
    queued_del(o);
    free(o->sub_arn);
    free(o->topic_arn);
    free(o->protocol);
    free(o->endpoint);
    free(o->base);
    free(o->type);
    free(o->message_id);
    free(o->message);
    free(o->subject);
    free(o->token);
    free(o->timestamp);
    free(o->group);
    free(o->dedup);
    free(o->seqnum);
    free(o->dlq_arn);
    json_decref(o->attrs);
    json_decref(o->policy);
    free(o);
}

/* ---------------------------------------------------------------- the JSON envelope */

static void field(nb_buf *b, const char *k, const char *v, bool *first)
{
    json_t *s = json_string(v ? v : "");
    char *t = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    nb_buf_printf(b, "%s\n  \"%s\" : %s", *first ? "" : ",", k, t ? t : "\"\"");
    *first = false;
    free(t);
    json_decref(s);
}

static char *urlenc(const char *s)
{
    nb_buf b;
    nb_buf_init(&b);
    nb_url_encode(&b, s, strlen(s), false);
    return nb_buf_steal(&b, NULL);
}

char *nb_sns_subscribe_url(const sns_out *o)
{
    char *ta = urlenc(o->topic_arn), *tk = urlenc(o->token ? o->token : "");
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_printf(&b, "%s/_nimbus/sns/confirm?Action=ConfirmSubscription&TopicArn=%s&Token=%s", o->base, ta, tk);
    free(ta);
    free(tk);
    return nb_buf_steal(&b, NULL);
}

char *nb_sns_unsubscribe_url(const sns_out *o)
{
    char *sa = urlenc(o->sub_arn ? o->sub_arn : "");
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_printf(&b, "%s/_nimbus/sns/unsubscribe?Action=Unsubscribe&SubscriptionArn=%s", o->base, sa);
    free(sa);
    return nb_buf_steal(&b, NULL);
}

/* The string AWS signs: the message's fields in a fixed order, each "Name\nvalue\n". */
static char *string_to_sign(const sns_out *o, const char *subscribe_url)
{
    nb_buf b;
    nb_buf_init(&b);
    bool notif = !strcmp(o->type, "Notification");
    nb_buf_printf(&b, "Message\n%s\nMessageId\n%s\n", o->message, o->message_id);
    if (notif) {
        if (o->subject) nb_buf_printf(&b, "Subject\n%s\n", o->subject);
    } else {
        nb_buf_printf(&b, "SubscribeURL\n%s\n", subscribe_url);
    }
    nb_buf_printf(&b, "Timestamp\n%s\n", o->timestamp);
    if (!notif) nb_buf_printf(&b, "Token\n%s\n", o->token ? o->token : "");
    nb_buf_printf(&b, "TopicArn\n%s\nType\n%s\n", o->topic_arn, o->type);
    return nb_buf_steal(&b, NULL);
}

char *nb_sns_envelope(const sns_out *o)
{
    bool notif = !strcmp(o->type, "Notification");
    char *sub_url = notif ? NULL : nb_sns_subscribe_url(o);
    char *sts = string_to_sign(o, sub_url);
    char *sig = sts ? nb_sns_sign(sts, strlen(sts), o->sigver) : NULL;
    const char *cid = nb_sns_cert_id();
    char cert_url[600];
    snprintf(cert_url, sizeof(cert_url), "%s/_nimbus/sns/SimpleNotificationService-%s.pem", o->base, cid ? cid : "");
    char sv[4];
    snprintf(sv, sizeof(sv), "%d", o->sigver);
    nb_buf b;
    nb_buf_init(&b);
    bool first = true;
    nb_buf_puts(&b, "{");
    field(&b, "Type", o->type, &first);
    field(&b, "MessageId", o->message_id, &first);
    if (!notif) field(&b, "Token", o->token, &first);
    if (notif && o->seqnum) field(&b, "SequenceNumber", o->seqnum, &first);
    field(&b, "TopicArn", o->topic_arn, &first);
    if (notif && o->subject) field(&b, "Subject", o->subject, &first);
    field(&b, "Message", o->message, &first);
    if (!notif) field(&b, "SubscribeURL", sub_url, &first);
    field(&b, "Timestamp", o->timestamp, &first);
    field(&b, "SignatureVersion", sv, &first);
    field(&b, "Signature", sig ? sig : "", &first);
    field(&b, "SigningCertURL", cert_url, &first);
    if (notif) {
        char *u = nb_sns_unsubscribe_url(o);
        field(&b, "UnsubscribeURL", u, &first);
        free(u);
        if (json_object_size(o->attrs)) {
            /* "MessageAttributes" : {"name" : {"Type" : "String", "Value" : "v"}} */
            nb_buf_puts(&b, ",\n  \"MessageAttributes\" : {");
            const char *k;
            json_t *v;
            bool f2 = true;
            json_object_foreach(o->attrs, k, v)
            {
                const char *type = json_string_value(json_object_get(v, "DataType"));
                const char *val = json_string_value(json_object_get(v, "StringValue"));
                if (!val) val = json_string_value(json_object_get(v, "BinaryValue"));
                json_t *jk = json_string(k), *jt = json_string(type ? type : "String"), *jv = json_string(val ? val : "");
                char *sk = json_dumps(jk, JSON_ENCODE_ANY), *st = json_dumps(jt, JSON_ENCODE_ANY),
                     *sv2 = json_dumps(jv, JSON_ENCODE_ANY);
                nb_buf_printf(&b, "%s\n    %s : {\"Type\":%s,\"Value\":%s}", f2 ? "" : ",", sk, st, sv2);
                f2 = false;
                free(sk);
                free(st);
                free(sv2);
                json_decref(jk);
                json_decref(jt);
                json_decref(jv);
            }
            nb_buf_puts(&b, "\n  }");
        }
    }
    nb_buf_puts(&b, "\n}");
    free(sub_url);
    free(sts);
    free(sig);
    return nb_buf_steal(&b, NULL);
}

/* ---------------------------------------------------------------- retries and DLQ */

static int pol_int(json_t *p, const char *k, int def)
{
    json_t *v = json_object_get(p, k);
    return json_is_integer(v) ? (int)json_integer_value(v) : def;
}

/* Delay before retry number k (1-based) under AWS's healthyRetryPolicy phases: no-delay
 * retries, retries at minDelayTarget, the backoff phase from min to max, then retries at
 * maxDelayTarget. */
static int64_t retry_delay_s(json_t *p, int k)
{
    int n = pol_int(p, "numRetries", 3), nodelay = pol_int(p, "numNoDelayRetries", 0);
    int nmin = pol_int(p, "numMinDelayRetries", 0), nmax = pol_int(p, "numMaxDelayRetries", 0);
    int lo = pol_int(p, "minDelayTarget", 20), hi = pol_int(p, "maxDelayTarget", 20);
    const char *fn = json_string_value(json_object_get(p, "backoffFunction"));
    if (k <= nodelay) return 0;
    if (k <= nodelay + nmin) return lo;
    int nb = n - nodelay - nmin - nmax;
    int j = k - nodelay - nmin;
    if (nb <= 0 || j > nb) return hi;
    double x = nb > 1 ? (double)(j - 1) / (nb - 1) : 1.0;
    double f = x;
    if (fn && !strcmp(fn, "geometric")) f = x * x * x;
    else if (fn && !strcmp(fn, "exponential")) f = (pow(2, x * 10) - 1) / 1023.0;
    else if (fn && !strcmp(fn, "arithmetic")) f = x * x;
    return lo + (int64_t)llround((hi - lo) * f);
}

/* A FIFO topic's group and deduplication ids go with its messages to FIFO queues only: a
 * standard queue (which AWS lets subscribe to a FIFO topic) refuses a deduplication id. */
static bool to_fifo_queue(const char *queue_arn)
{
    bool fifo = false;
    return nb_sqs_queue_exists(queue_arn, &fifo) && fifo;
}

static void redrive(void *arg)
{
    sns_out *o = arg;
    if (o->dlq_arn) {
        char *body = o->raw ? strdup(o->message) : nb_sns_envelope(o);
        bool fifo = o->group && to_fifo_queue(o->dlq_arn);
        nb_sqs_message_in m = {.queue_arn = o->dlq_arn, .body = body, .body_len = body ? strlen(body) : 0,
                               .attributes = o->raw ? o->attrs : NULL, .group_id = fifo ? o->group : NULL,
                               .dedup_id = fifo ? o->dedup : NULL, .delay_seconds = -1};
        int rc = body ? nb_sqs_send_internal(&m, NULL) : -ENOMEM;
        if (rc) nb_warn("sns: cannot move message %s of %s to its dead-letter queue %s (%d)", o->message_id, o->sub_arn,
                        o->dlq_arn, rc);
        else nb_info("sns: message %s of %s moved to the dead-letter queue %s", o->message_id, o->sub_arn, o->dlq_arn);
        free(body);
    } else {
        nb_warn("sns: message %s to %s (%s) dropped after %d attempts", o->message_id, o->endpoint, o->sub_arn, o->attempt);
    }
    nb_sns_out_free(o);
}

static void http_attempt(void *arg);

static void failed(sns_out *o, bool retryable)
{
    int n = pol_int(o->policy, "numRetries", 3);
    if (retryable && o->attempt <= n) {
        int64_t d = retry_delay_s(o->policy, o->attempt);
        nb_sched_at(nb_clock_now_us() + d * 1000000, http_attempt, o);
        return;
    }
    if (!strcmp(o->type, "Notification"))
        nb_sched_at(nb_clock_now_us(), redrive, o); /* the DLQ write blocks: not on a loop */
    else
        nb_sns_out_free(o);
}

static void http_done(void *ud, int err, nb_http_response *resp)
{
    sns_out *o = ud;
    int status = err ? 0 : resp->status;
    if (resp) nb_http_response_free(resp);
    if (status >= 200 && status < 300) {
        nb_debug("sns: %s delivered to %s on attempt %d", o->message_id, o->endpoint, o->attempt);
        nb_sns_out_free(o);
        return;
    }
    nb_info("sns: delivery of %s to %s failed on attempt %d (%s %d)", o->message_id, o->endpoint, o->attempt,
            err ? "error" : "status", err ? err : status);
    failed(o, err || status >= 500 || status == 429 || status < 200);
}

static void http_attempt(void *arg)
{
    sns_out *o = arg;
    o->attempt++;
    bool notif = !strcmp(o->type, "Notification");
    char *body = notif && o->raw ? strdup(o->message) : nb_sns_envelope(o);
    nb_header h[8];
    size_t nh = 0;
#define H(n, v)                                                                                    \
    do {                                                                                           \
        h[nh].name = n;                                                                            \
        h[nh].name_len = strlen(n);                                                                \
        h[nh].value = v;                                                                           \
        h[nh].value_len = strlen(v);                                                               \
        nh++;                                                                                      \
    } while (0)
    H("x-amz-sns-message-type", o->type);
    H("x-amz-sns-message-id", o->message_id);
    H("x-amz-sns-topic-arn", o->topic_arn);
    if (notif && o->sub_arn) H("x-amz-sns-subscription-arn", o->sub_arn);
    if (notif && o->raw) H("x-amz-sns-rawdelivery", "true");
    H("Content-Type", "text/plain; charset=UTF-8");
    H("User-Agent", "Amazon Simple Notification Service Agent");
#undef H
    nb_http_request_spec spec = {.method = "POST", .url = o->endpoint, .headers = h, .nheaders = nh,
                                 .body = body, .body_len = body ? strlen(body) : 0, .timeout_ms = 15000,
                                 .max_body = 1 << 20};
    int rc = body ? nb_http_fetch(&spec, http_done, o) : -1;
    free(body);
    if (rc < 0) failed(o, true);
}

/* ---------------------------------------------------------------- email */

static int smtp_line(FILE *f, int *code)
{
    char line[1024];
    do {
        if (!fgets(line, sizeof(line), f)) return -1;
    } while (strlen(line) > 3 && line[3] == '-');
    *code = atoi(line);
    return 0;
}

static int smtp_send(const char *to, const char *subject, const char *body)
{
    char host[256], port[16] = "25";
    snprintf(host, sizeof(host), "%s", smtp_relay);
    char *colon = strrchr(host, ':');
    if (colon) {
        snprintf(port, sizeof(port), "%s", colon + 1);
        *colon = 0;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    FILE *f = fdopen(fd, "r+");
    if (!f) {
        close(fd);
        return -1;
    }
    int code = 0, rc = -1;
    char date[40];
    nb_http_date(nb_clock_now(), date);
    if (smtp_line(f, &code) || code != 220) goto out;
    fprintf(f, "HELO nimbus\r\n");
    fflush(f);
    if (smtp_line(f, &code) || code != 250) goto out;
    fprintf(f, "MAIL FROM:<no-reply@sns.amazonaws.com>\r\n");
    fflush(f);
    if (smtp_line(f, &code) || code != 250) goto out;
    fprintf(f, "RCPT TO:<%s>\r\n", to);
    fflush(f);
    if (smtp_line(f, &code) || (code != 250 && code != 251)) goto out;
    fprintf(f, "DATA\r\n");
    fflush(f);
    if (smtp_line(f, &code) || code != 354) goto out;
    fprintf(f, "From: AWS Notifications <no-reply@sns.amazonaws.com>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
               "Content-Type: text/plain; charset=UTF-8\r\n\r\n",
            to, subject, date);
    for (const char *p = body; *p; p++) {
        if (*p == '\n' && (p == body || p[-1] != '\r')) fputc('\r', f);
        fputc(*p, f);
        if (*p == '\n' && p[1] == '.') fputc('.', f); /* dot-stuffing */
    }
    fprintf(f, "\r\n.\r\n");
    fflush(f);
    if (smtp_line(f, &code) || code != 250) goto out;
    fprintf(f, "QUIT\r\n");
    fflush(f);
    rc = 0;
out:
    fclose(f);
    return rc;
}

static void mailbox_write(const char *to, const char *subject, const char *body, const sns_out *o)
{
    char path[1300], id[13];
    nb_random_hex(id, 12);
    snprintf(path, sizeof(path), "%s/mailbox/%020lld-%s.json", nb_sns_dir, (long long)nb_clock_now_us(), id);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "to", to, "from", "no-reply@sns.amazonaws.com",
                            "subject", subject, "body", body, "date", o->timestamp, "topic_arn", o->topic_arn, "type",
                            o->type);
    if (o->sub_arn) json_object_set_new(doc, "subscription_arn", json_string(o->sub_arn));
    if (json_dump_file(doc, path, JSON_INDENT(1)) != 0) nb_warn("sns: cannot write the mailbox file %s", path);
    json_decref(doc);
}

static void email_send(void *arg)
{
    sns_out *o = arg;
    bool notif = !strcmp(o->type, "Notification");
    bool as_json = !strcmp(o->protocol, "email-json");
    char *subject, *body;
    nb_buf b;
    nb_buf_init(&b);
    if (notif) {
        subject = strdup(o->subject ? o->subject : "AWS Notification Message");
        if (as_json) {
            char *env = nb_sns_envelope(o);
            nb_buf_puts(&b, env ? env : "");
            free(env);
        } else {
            char *u = nb_sns_unsubscribe_url(o);
            nb_buf_printf(&b, "%s\n\n--\nIf you wish to stop receiving notifications from this topic, please click or "
                              "visit the link below to unsubscribe:\n%s\n\nPlease do not reply directly to this email. "
                              "If you have any questions or comments regarding this email, please contact us at "
                              "https://aws.amazon.com/support\n",
                          o->message, u);
            free(u);
        }
    } else {
        subject = strdup("AWS Notification - Subscription Confirmation");
        if (as_json) {
            char *env = nb_sns_envelope(o);
            nb_buf_puts(&b, env ? env : "");
            free(env);
        } else {
            char *u = nb_sns_subscribe_url(o);
            nb_buf_printf(&b, "You have chosen to subscribe to the topic: \n%s\n\nTo confirm this subscription, click or "
                              "visit the link below (If this was in error no action is necessary): \nConfirm "
                              "subscription:\n%s\n",
                          o->topic_arn, u);
            free(u);
        }
    }
    body = nb_buf_steal(&b, NULL);
    if (smtp_relay[0]) {
        if (smtp_send(o->endpoint, subject ? subject : "", body ? body : "") < 0) {
            nb_warn("sns: SMTP relay %s refused mail for %s; kept in the mailbox", smtp_relay, o->endpoint);
            mailbox_write(o->endpoint, subject ? subject : "", body ? body : "", o);
        }
    } else {
        mailbox_write(o->endpoint, subject ? subject : "", body ? body : "", o);
    }
    free(subject);
    free(body);
    nb_sns_out_free(o);
}

/* ---------------------------------------------------------------- records */

struct rec {
    const char *protocol, *endpoint, *topic, *id, *message, *subject;
    double at;
};

static int rec_fn(sqlite3 *h, void *arg)
{
    struct rec *r = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "INSERT INTO records(protocol, endpoint, topic_arn, message_id, message, subject, created)"
                                     " VALUES(?,?,?,?,?,?,?)");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, r->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->endpoint, -1, SQLITE_STATIC);
    if (r->topic) sqlite3_bind_text(st, 3, r->topic, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->message, -1, SQLITE_STATIC);
    if (r->subject) sqlite3_bind_text(st, 6, r->subject, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 6);
    sqlite3_bind_double(st, 7, r->at);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void nb_sns_record(const char *protocol, const char *endpoint, const char *topic_arn, const char *message_id,
                   const char *message, const char *subject)
{
    struct rec r = {protocol, endpoint ? endpoint : "", topic_arn, message_id, message ? message : "", subject,
                    nb_clock_now_f()};
    if (nb_db_write(nb_sns_db, rec_fn, &r) != SQLITE_OK) nb_warn("sns: cannot record a %s delivery", protocol);
}

/* ---------------------------------------------------------------- entry points */

void nb_sns_deliver_async(sns_out *o)
{
    const char *p = o->protocol;
    if (!strcmp(p, "http") || !strcmp(p, "https")) {
        o->attempt = 0;
        queued_add(o);
        nb_sched_at(nb_clock_now_us(), http_attempt, o);
    } else if (!strcmp(p, "email") || !strcmp(p, "email-json")) {
        queued_add(o);
        nb_sched_at(nb_clock_now_us(), email_send, o);
    } else {
        nb_sns_record(p, o->endpoint, o->topic_arn, o->message_id, o->message, o->subject);
        nb_sns_out_free(o);
    }
}

void nb_sns_deliver_sqs(sns_out **out, size_t n)
{
    if (!n) return;
    nb_sqs_message_in *m = calloc(n, sizeof(*m));
    char **bodies = calloc(n, sizeof(*bodies));
    int *res = calloc(n, sizeof(*res));
    if (!m || !bodies || !res) {
        for (size_t i = 0; i < n; i++) nb_sns_out_free(out[i]);
        free(m);
        free(bodies);
        free(res);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sns_out *o = out[i];
        bodies[i] = o->raw ? strdup(o->message) : nb_sns_envelope(o);
        bool fifo = o->group && to_fifo_queue(o->endpoint);
        m[i] = (nb_sqs_message_in){.queue_arn = o->endpoint, .body = bodies[i] ? bodies[i] : "",
                                   .body_len = bodies[i] ? strlen(bodies[i]) : 0, .attributes = o->raw ? o->attrs : NULL,
                                   .group_id = fifo ? o->group : NULL, .dedup_id = fifo ? o->dedup : NULL,
                                   .sender_id = "AIDAIT2UOQQY3AUEKVGXU", .delay_seconds = -1};
    }
    nb_sqs_send_batch_internal(m, n, res);
    for (size_t i = 0; i < n; i++) {
        if (res[i] != 0) {
            nb_warn("sns: delivery of %s to queue %s failed (%d)", out[i]->message_id, out[i]->endpoint, res[i]);
            if (out[i]->dlq_arn) {
                redrive(out[i]);
                out[i] = NULL;
            }
        }
        nb_sns_out_free(out[i]);
        free(bodies[i]);
    }
    free(m);
    free(bodies);
    free(res);
}
