/* events.h: S3 event notifications delivered (events.c): the calls S3's write paths make once
 * a change is durable, and the pieces of AWS's event message that tests can check alone.
 * Only src/svc/s3/ includes this header. The background hook (lifecycle, archive restores) is
 * nb_s3_event() of lifecycle.h, defined for real in events.c. */
#ifndef NB_SVC_S3_EVENTS_H
#define NB_SVC_S3_EVENTS_H

#include "svc/s3/handlers.h"

/* Every call below runs after the metadata commit, on a worker thread (it blocks: the
 * destinations' SQS/SNS writes are durable before it returns, so an acknowledged write never
 * loses its event silently; a destination that refuses is logged with the event). Buckets
 * without a notification configuration cost one cached look-up. */

/* An event a request caused: who (principal, source IP) and the request ids come from c.
 * event: "s3:ObjectCreated:Put" ...; version_id "null"/NULL is left out of the record (an
 * unversioned object); size < 0 or etag NULL leave those members out. */
void nb_s3_event_call(nb_call *c, const char *event, const char *bucket, const char *key,
                      size_t key_len, const char *version_id, int64_t size, const char *etag);
/* A created object version (Put, Post, Copy, CompleteMultipartUpload). */
void nb_s3_event_created(nb_call *c, const char *event, const char *bucket,
                         const nb_s3_object *o);
/* A DeleteObject / DeleteObjects entry that succeeded: ObjectRemoved:DeleteMarkerCreated when
 * it made a delete marker, else ObjectRemoved:Delete (with the version removed). */
void nb_s3_event_deleted(nb_call *c, const char *bucket, const nb_s3_del *d);
/* PutBucketNotificationConfiguration stored conf (the document as stored, NULL = none):
 * send AWS's s3:TestEvent message to each of its queues and topics. */
void nb_s3_event_test(nb_call *c, const char *bucket, json_t *conf);

/* ---- pieces, exported for unit tests ---- */
/* The object key as S3 events carry it: URL-encoded, spaces as '+', '/' kept. */
int nb_s3_event_key(nb_buf *b, const char *key, size_t n);
/* Region time t as "2024-01-02T03:04:05.678Z". */
void nb_s3_event_time(double t, char out[32]);
/* Does the event ("s3:ObjectCreated:Put") match a configured name ("s3:ObjectCreated:*")? */
bool nb_s3_event_name_matches(const char *pattern, const char *event);
/* Does key pass a configuration's Filter (its prefix/suffix rules; none = every key)? */
bool nb_s3_event_filter_matches(json_t *cfg, const char *key, size_t n);

#endif
