/* sqs.h: SQS's C API for other services (SNS subscriptions, S3 event notifications): put a
 * message into a queue named by its ARN, as a client's SendMessage would, durably. */
#ifndef NB_SVC_SQS_SQS_H
#define NB_SVC_SQS_SQS_H

#include <jansson.h>

#include "core/nb.h"

/* One message to send. Only queue_arn and body are required. */
typedef struct nb_sqs_message_in {
    const char *queue_arn;   /* arn:aws:sqs:<region>:<account>:<name> */
    const char *body;        /* not necessarily NUL-terminated */
    size_t body_len;
    /* MessageAttributes document as SendMessage takes it: name -> {"DataType": "String",
     * "StringValue": ...} or {"DataType": "Binary", "BinaryValue": <base64>}. Borrowed; NULL =
     * none. Invalid attributes are dropped, not fatal. */
    json_t *attributes;
    const char *group_id;    /* FIFO queues: required (else -EINVAL) */
    const char *dedup_id;    /* FIFO queues: NULL = SHA-256 of the body */
    const char *sender_id;   /* the SenderId attribute; NULL = the service principal id */
    int delay_seconds;       /* -1 = the queue's DelaySeconds */
} nb_sqs_message_in;

/* Send one message. Returns 0 once it is durable (message id in out_id[37] if not NULL; a
 * FIFO duplicate within the 5-minute window returns 0 with the first message's id), -ENOENT
 * when the queue does not exist, -EINVAL for a FIFO queue without group id or a body above
 * the queue's MaximumMessageSize, -EIO when the store failed. Blocks (worker/scheduler
 * threads only). */
int nb_sqs_send_internal(const nb_sqs_message_in *m, char out_id[37]);
/* The same for n messages (any queues) in one durable write; results[i] gets each outcome as
 * above. Returns 0 when every message was stored, else the first error. */
int nb_sqs_send_batch_internal(const nb_sqs_message_in *m, size_t n, int *results);
/* Shorthand for S3 event notifications: body (NUL-terminated) into queue_arn. */
int nb_sqs_send_simple(const char *queue_arn, const char *body);
/* Does the queue exist? *fifo (may be NULL) tells whether it is a FIFO queue. */
bool nb_sqs_queue_exists(const char *queue_arn, bool *fifo);
/* Whether s is a Number message attribute value as AWS takes it (SQS and SNS alike): a decimal
 * of at most 38 significant digits from 10^-128 to 10^+126 in magnitude. */
bool nb_sqs_number_valid(const char *s);

#endif
