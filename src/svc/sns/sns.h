/* sns.h: SNS's C API for other services (S3 event notifications, CloudWatch alarms): publish
 * to a topic as a client's Publish would; every subscription gets it (SQS deliveries are
 * durable before this returns, HTTP/S and email ones are queued with retries). */
#ifndef NB_SVC_SNS_SNS_H
#define NB_SVC_SNS_SNS_H

#include <jansson.h>

#include "core/nb.h"

/* Publish message (NUL-terminated) with an optional subject (NULL = none) to topic_arn.
 * attributes: a Publish MessageAttributes document (name -> {DataType, StringValue |
 * BinaryValue}), borrowed, may be NULL. group_id / dedup_id: FIFO topics (dedup NULL =
 * SHA-256 of the message). out_id (37 bytes, may be NULL) receives the MessageId.
 * Returns 0, -ENOENT when the topic does not exist, -EINVAL when the message is not
 * publishable (FIFO without group id, too long), -EIO on a store failure. Blocks: call from
 * worker or scheduler threads. */
int nb_sns_publish_internal(const char *topic_arn, const char *subject, const char *message, json_t *attributes,
                            const char *group_id, const char *dedup_id, char out_id[37]);
/* Does the topic exist? *fifo (may be NULL) tells whether it is a FIFO topic. */
bool nb_sns_topic_exists(const char *topic_arn, bool *fifo);

#endif
