/* sns_internal.h: SNS's state (topics and subscriptions in memory, written through to SQLite)
 * and the pieces shared by the handlers (sns.c), delivery (deliver.c) and signing (sign.c).
 *
 * Locking: one rwlock (nb_sns_lock) guards topics, subscriptions, platform applications and
 * endpoints. Publish holds it for reading only while it snapshots what to deliver. */
#ifndef NB_SVC_SNS_INTERNAL_H
#define NB_SVC_SNS_INTERNAL_H

#include <pthread.h>

#include "store/db.h"
#include "svc/service.h"
#include "svc/sns/filter.h"
#include "svc/sns/sns.h"

typedef struct sns_sub {
    char arn[400];
    char topic_arn[300];
    char owner[13];
    char protocol[16];
    char *endpoint;
    json_t *attrs; /* settable attributes, name -> string */
    bool confirmed;
    /* confirmed by a signed ConfirmSubscription call (or needing no confirmation): AWS's
     * ConfirmationWasAuthenticated; auth_unsub: that call asked AuthenticateOnUnsubscribe, so
     * the UnsubscribeURL no longer works. Kept as bits 1 and 2 of the confirmed column. */
    bool auth_confirmed, auth_unsub;
    char token[130];
    char base[300]; /* http://host:port of the Subscribe request: for the URLs we hand out */
    nb_sns_filter *filter;
    bool raw;
} sns_sub;

typedef struct sns_topic {
    char arn[300];
    char account[13];
    char name[260];
    bool fifo;
    json_t *attrs; /* settable attributes as set */
    json_t *tags;  /* key -> value */
    char *dpp;     /* data protection policy */
    sns_sub **subs;
    size_t nsubs, capsubs;
    uint64_t seq; /* FIFO sequence numbers */
    json_t *dedup; /* FIFO: dedup id -> [message id, expires_us, seqnum] */
    long deleted_subs;
} sns_topic;

extern pthread_rwlock_t nb_sns_lock;
extern nb_db *nb_sns_db;
extern char nb_sns_region[64];
extern char nb_sns_dir[1100];
extern char nb_sns_default_base[300];

/* sign.c */
void nb_sns_sign_setup(const char *data_dir);
void nb_sns_sign_shutdown(void);
const char *nb_sns_cert_id(void);
const char *nb_sns_cert_pem(void);
/* Base64 signature of text with SignatureVersion 1 (SHA1withRSA) or 2 (SHA256withRSA);
 * malloc'd, NULL on failure. */
char *nb_sns_sign(const char *text, size_t len, int version);

/* deliver.c */
/* What one subscription receives of one message. */
typedef struct sns_out {
    char *sub_arn, *topic_arn, *protocol, *endpoint, *base;
    char *type;       /* Notification, SubscriptionConfirmation, UnsubscribeConfirmation */
    char *message_id; /* of the notification */
    char *message;    /* the text for this protocol */
    char *subject;    /* or NULL */
    char *token;      /* confirmations */
    char *timestamp;  /* ISO 8601 */
    json_t *attrs;    /* MessageAttributes document, owned, or NULL */
    char *group, *dedup, *seqnum;
    bool raw;
    int sigver;
    char *dlq_arn;    /* subscription RedrivePolicy deadLetterTargetArn, or NULL */
    json_t *policy;   /* healthyRetryPolicy in effect, owned */
    int attempt;
    /* queued HTTP/S or email deliveries sit in one list until freed, so that those still
     * waiting for a retry when the server stops are freed too (deliver.c) */
    struct sns_out *qprev, *qnext;
    bool queued;
} sns_out;

void nb_sns_out_free(sns_out *o);
/* AWS's JSON document for HTTP/S, email-json and SQS (non-raw) deliveries, signed. malloc'd. */
char *nb_sns_envelope(const sns_out *o);
/* The SubscribeURL / UnsubscribeURL we hand out (admin paths on the main port). malloc'd. */
char *nb_sns_subscribe_url(const sns_out *o);
char *nb_sns_unsubscribe_url(const sns_out *o);
/* Hand a delivery over (takes ownership): HTTP/S and email are queued on the scheduler with
 * retries; sms/application/lambda/firehose are recorded. SQS deliveries are batched by the
 * caller through nb_sns_deliver_sqs. */
void nb_sns_deliver_async(sns_out *o);
/* Deliver to SQS subscriptions now (durably); takes ownership of every out[i]. */
void nb_sns_deliver_sqs(sns_out **out, size_t n);
/* Record a delivery to a protocol without a transport (sms, application, lambda, firehose). */
void nb_sns_record(const char *protocol, const char *endpoint, const char *topic_arn, const char *message_id,
                   const char *message, const char *subject);
void nb_sns_deliver_init(void);
void nb_sns_deliver_shutdown(void);

/* sns.c helpers for deliver.c and the admin routes */
/* authenticated: a signed ConfirmSubscription call (not the SubscribeURL), which may ask
 * auth_unsub (AuthenticateOnUnsubscribe). */
int nb_sns_confirm(const char *topic_arn, const char *token, bool authenticated, bool auth_unsub, char *sub_arn_out,
                   size_t n);
/* authenticated: a signed Unsubscribe call; else (the UnsubscribeURL) -EACCES for a
 * subscription confirmed with AuthenticateOnUnsubscribe. */
int nb_sns_unsubscribe_arn(const char *sub_arn, bool authenticated);

#endif
