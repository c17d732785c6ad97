/* lifecycle.h: S3 storage classes, the archive tier, restores and lifecycle rules: what the
 * rest of S3 calls (hooks in the object paths, the operation handlers, start/stop/reset) and
 * what lifecycle.c, archive.c and restore.c share. Only src/svc/s3/ includes this header.
 *
 * State (migration 4 of store.c): objects.class_since; s3_archive (archive file and restore
 * state per object version), s3_archive_queue (versions whose data must move to the archive
 * tier), s3_archive_gc (archive files to remove after the commit that dropped them),
 * s3_lifecycle (rules per bucket), s3_lifecycle_run (the pass and its resume position),
 * s3_early_delete (removals before a class's minimum storage duration, for billing).
 * Archive files: <data>/s3/archive/<xx>/<id>, zlib-compressed, checksummed (archive.c). */
#ifndef NB_SVC_S3_LIFECYCLE_H
#define NB_SVC_S3_LIFECYCLE_H

#include "svc/s3/handlers.h"

/* The SQL of migration 4 (store.c's migrations array points here). */
extern const char nb_s3_lifecycle_migration[];

/* ---- storage classes (archive.c) ---- */

typedef struct nb_s3_class {
    const char *name;
    int rank;             /* lifecycle waterfall: transitions only go to a higher rank */
    bool archive;         /* GLACIER, DEEP_ARCHIVE: data in the archive tier, GET needs a restore */
    int64_t min_size;     /* billed as at least this many bytes (IA classes, GLACIER_IR) */
    int min_days;         /* minimum storage duration billed */
    int64_t overhead;     /* per-object index overhead billed (archive classes: 40 KiB) */
    bool transition_to;   /* a lifecycle transition may target it */
} nb_s3_class;

const nb_s3_class *nb_s3_class_get(const char *name); /* NULL = not a class AWS accepts */
bool nb_s3_class_is_archive(const char *name);

/* ---- start, stop, reset (service.c) ---- */

/* After the store opened: archive directory, SQL functions and triggers on the writer
 * connection, the lifecycle cache, the background worker and the scheduler timers. */
int nb_s3_lifecycle_start(const char *data_dir, char **err);
/* Before the store closes: timers cancelled (waiting for running callbacks), worker joined. */
void nb_s3_lifecycle_stop(void);
/* After the store was wiped: archive files, caches and pass state dropped. */
void nb_s3_lifecycle_reset(void);
/* The admin paths /_nimbus/s3/... (storage report, lifecycle pass control). */
void nb_s3_admin(nb_req *r);

/* ---- hooks in the object paths (object.c, multipart.c) ---- */

/* After a new version was committed (PUT, copy, multipart completion): x-amz-expiration of
 * the rule that will expire it, and the archiver is woken for archive classes. */
void nb_s3_classes_written(nb_call *c, const nb_s3_bucket *b, const nb_s3_object *o);
/* CreateMultipartUpload and ListParts: x-amz-abort-date / x-amz-abort-rule-id of the enabled
 * AbortIncompleteMultipartUpload rule that will abort an upload of key initiated then (the
 * earliest, when several match); nothing when none does. */
void nb_s3_lc_abort_headers(nb_call *c, const nb_s3_bucket *b, const char *key, size_t key_len,
                            double initiated);
/* GET/HEAD of a resolved version, after the handler's own NB_CALL_OFFLOAD decisions (the
 * headers are added once): x-amz-expiration and x-amz-restore; GET of an archived version
 * without a completed restore fails with 403 InvalidObjectState (-1, c->err set). A completed
 * restore whose copy is not yet in place is put back here and *o re-read; on the loop thread
 * that returns NB_CALL_OFFLOAD (nothing added yet). Returns 0, -1 or NB_CALL_OFFLOAD. */
int nb_s3_classes_read(nb_call *c, const nb_s3_bucket *b, nb_s3_object *o, bool get);
/* Listings asked for x-amz-optional-object-attributes: RestoreStatus: the RestoreStatus of an
 * archived version, read on h (the listing's read transaction): {IsRestoreInProgress} while a
 * restore runs, with RestoreExpiryDate once its copy is readable; NULL when no restore was
 * asked for or its copy expired (AWS then leaves the member out). */
json_t *nb_s3_restore_status(sqlite3 *h, int64_t object_id);
/* Copy sources (CopyObject, UploadPartCopy): an archived version must be restored first
 * (403 InvalidObjectState); *o is re-read if its restored copy was just put in place. */
int nb_s3_classes_copy_source(nb_call *c, const char *bucket, nb_s3_object *o);

/* ---- operations ---- */
int nb_s3_op_restore_object(nb_call *c);
int nb_s3_op_put_bucket_lifecycle(nb_call *c);
int nb_s3_op_get_bucket_lifecycle(nb_call *c);
int nb_s3_op_delete_bucket_lifecycle(nb_call *c);

/* ---- S3 event notifications: call sites for the notifications work ----
 * Called after the change committed, from request or background threads. The default
 * definition (archive.c) does nothing and is weak: the notifications code defines the real
 * one. event: "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
 * "s3:LifecycleTransition", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed",
 * "s3:ObjectRestore:Delete". */
void nb_s3_event(const char *bucket, const char *event, const char *key, size_t key_len,
                 const char *version_id, int64_t size, const char *etag);

/* ---- shared between archive.c, restore.c and lifecycle.c ---- */

/* Midnight UTC at or after t rounded as AWS does: t + days, then up to the next midnight. */
double nb_s3_lc_due(double t, int days);
/* "Fri, 23 Dec 2012 00:00:00 GMT" */
void nb_s3_http_date(double t, char out[40]);
/* Wake the background worker (archive queue, restores, archive file removal). */
void nb_s3_archive_kick(void);
/* Plan the restore timer for region time t (seconds) if it is earlier than the planned one. */
void nb_s3_restore_plan(double t);
/* The worker's restore duties: materialize completed restores, drop expired copies; returns
 * the region time of the next restore event (0 = none). */
double nb_s3_restore_sweep(void);
/* Put the restored copy of object id in place (decompress its archive file into a content
 * file). 0 = in place (or nothing to do), -1 = failed (logged). Thread-safe. */
int nb_s3_archive_materialize(int64_t object_id);
/* Drop the hot copy of an archived version (restore expired). */
int nb_s3_archive_drop_hot(int64_t object_id);
/* Expiration of the current version o (key, size, tags, last_modified) by the bucket's
 * rules: the earliest date and its rule id; false when no rule expires it. */
bool nb_s3_lc_expiry(const nb_s3_bucket *b, const nb_s3_object *o, double *when, char *rule_id,
                     size_t rule_id_len);
void nb_s3_lc_cache_clear(void);
int nb_s3_lc_load(void); /* (re)load every bucket's rules into the cache */
void nb_s3_lc_timer_start(void);
void nb_s3_lc_timer_stop(void);
void nb_s3_restore_timer_stop(void);
json_t *nb_s3_lc_status(void);
void nb_s3_lc_run_now(void); /* start a pass now (admin) */
/* Hold the pass between two batches (true) or go on (false): admin, for busy hours and the
 * bench's with/without windows. Not persisted: a restart goes on. */
void nb_s3_lc_pause(bool pause);

#endif
