/* bucketcfg.h: S3 bucket configurations with a feature behind them beyond storing a document:
 * server access logging with delivery of log objects (logging.c), transfer acceleration,
 * Requester Pays, and the Id-keyed metrics, analytics, inventory and intelligent-tiering
 * configurations (bucketcfg.c). Only src/svc/s3/ includes this header. */
#ifndef NB_SVC_S3_BUCKETCFG_H
#define NB_SVC_S3_BUCKETCFG_H

#include "svc/s3/access.h"

/* ---- server access logging (logging.c) ---- */

/* Start log delivery: every interval_s seconds of region time (<= 0: 300) the records
 * gathered are written as objects into the target buckets. */
int nb_s3_logging_start(int interval_s);
/* Stop the timer and deliver what is pending (shutdown, before the store closes). */
void nb_s3_logging_stop(void);
/* Drop what is pending (the store was wiped). */
void nb_s3_logging_reset(void);
/* Deliver every pending record now; returns the number of log objects written. Blocks. */
int nb_s3_logging_flush(void);
/* The service's request_done hook: one access log record when the bucket logs (loop thread,
 * cheap: the record is formatted and queued). */
void nb_s3_request_done(nb_call *c, const char *path, size_t path_len, const nb_req_done *d);
/* Admin paths /_nimbus/s3/logging/flush and /_nimbus/s3/inventory/run: true if it took r. */
bool nb_s3_cfg_admin(nb_req *r);
/* Store an object as S3 itself (log delivery, inventory reports): a new version of key in
 * bucket owned by the bucket's owner, STANDARD, with content_type. Worker/scheduler threads.
 * NB_S3_OK or a store result. */
int nb_s3_put_internal(const char *bucket, const char *key, const void *data, size_t len,
                       const char *content_type);

/* ---- inventory reports (inventory.c) ---- */

/* The daily timer that produces the reports of enabled inventory configurations. */
int nb_s3_inventory_start(void);
void nb_s3_inventory_stop(void);
/* POST /_nimbus/s3/inventory/run[?bucket=B[&id=I]] on a worker: run them now, answer with the
 * outcome of each as JSON. */
void nb_s3_inventory_admin(nb_req *r);

int nb_s3_op_put_bucket_logging(nb_call *c);
int nb_s3_op_get_bucket_logging(nb_call *c);

/* ---- acceleration, Requester Pays, Id-keyed configurations (bucketcfg.c) ---- */

/* Requester Pays (resource_policy hook, after the bucket is known): a caller outside the
 * owner's account must send x-amz-request-payer: requester (403 AccessDenied otherwise; -1
 * with c->err); a request that sent it gets x-amz-request-charged: requester. */
int nb_s3_request_payer_check(nb_call *c, const nb_s3_bcfg *cfg);

int nb_s3_op_get_bucket_request_payment(nb_call *c);
int nb_s3_op_put_bucket_request_payment(nb_call *c);
int nb_s3_op_get_bucket_accelerate(nb_call *c);
int nb_s3_op_put_bucket_accelerate(nb_call *c);
/* Put/Get/Delete/List of Analytics, Inventory, Metrics and IntelligentTiering configurations:
 * one handler each, the kind taken from the operation's name. */
int nb_s3_op_put_id_config(nb_call *c);
int nb_s3_op_get_id_config(nb_call *c);
int nb_s3_op_delete_id_config(nb_call *c);
int nb_s3_op_list_id_configs(nb_call *c);

#endif
