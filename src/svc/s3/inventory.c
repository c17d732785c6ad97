/* inventory.c: S3 Inventory reports produced from the stored inventory configurations
 * (bucketcfg.c): for each enabled configuration, once a region day (Daily) or on Sundays
 * (Weekly), and on POST /_nimbus/s3/inventory/run[?bucket=B[&id=I]], a gzip-compressed CSV
 * data file of the bucket's objects (current versions or every version, the prefix filter, the
 * optional fields asked for) and its manifest are written into the destination bucket as AWS
 * lays them out:
 *   <prefix>/<source>/<id>/data/<uuid>.csv.gz
 *   <prefix>/<source>/<id>/<YYYY-MM-DDTHH-MMZ>/manifest.json, manifest.checksum
 *   <prefix>/<source>/<id>/hive/dt=<YYYY-MM-DD-HH-MM>/symlink.txt
 * Only the CSV format is produced: configurations asking for ORC or Parquet are stored and
 * returned, and their runs are skipped (logged, and reported by the admin path). A report is
 * built in memory from one read transaction over the bucket's rows. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "core/clock.h"
#include "core/hash.h"
#include "core/sched.h"
#include "svc/s3/bucketcfg.h"

/* The optional fields in the order AWS writes them (the order asked for does not matter). */
static const char *const field_order[] = {
    "Size", "LastModifiedDate", "ETag", "StorageClass", "IsMultipartUploaded",
    "ReplicationStatus", "EncryptionStatus", "ObjectLockRetainUntilDate", "ObjectLockMode",
    "ObjectLockLegalHoldStatus", "IntelligentTieringAccessTier", "BucketKeyStatus",
    "ChecksumAlgorithm"};
#define NFIELDS (sizeof field_order / sizeof field_order[0])

typedef struct inv_run {
    const char *bucket;
    const char *prefix; /* Filter.Prefix or "" */
    bool all_versions;
    bool want[NFIELDS];
    nb_buf csv;
    size_t rows;
} inv_run;

static void csv_field(nb_buf *b, bool first, const char *s, size_t n)
{
    if (!first) nb_buf_putc(b, ',');
    nb_buf_putc(b, '"');
    for (size_t i = 0; s && i < n; i++) {
        if (s[i] == '"') nb_buf_putc(b, '"'); /* CSV: a quote is doubled */
        nb_buf_putc(b, s[i]);
    }
    nb_buf_putc(b, '"');
}

static void csv_str(nb_buf *b, const char *s) { csv_field(b, false, s, s ? strlen(s) : 0); }

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* One row: Bucket, Key (URL-encoded, as AWS writes it), [VersionId, IsLatest,
 * IsDeleteMarker], then the optional fields asked for. */
static void write_row(inv_run *r, sqlite3_stmt *st)
{
    nb_buf *b = &r->csv;
    csv_field(b, true, r->bucket, strlen(r->bucket));
    nb_buf key;
    nb_buf_init(&key);
    nb_url_encode(&key, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), true);
    csv_field(b, false, key.data, key.len);
    nb_buf_free(&key);
    bool marker = sqlite3_column_int(st, 3) != 0;
    if (r->all_versions) {
        const char *v = col_text(st, 1);
        csv_str(b, strcmp(v, "null") ? v : ""); /* the null version has no id in reports */
        csv_str(b, sqlite3_column_int(st, 2) ? "true" : "false");
        csv_str(b, marker ? "true" : "false");
    }
    json_t *attrs = NULL, *cks = NULL;
    for (size_t f = 0; f < NFIELDS; f++) {
        if (!r->want[f]) continue;
        const char *name = field_order[f];
        char tmp[64] = "";
        const char *v = tmp;
        if (marker) { /* a delete marker has none of the object fields */
            csv_str(b, "");
            continue;
        }
        if (!strcmp(name, "Size")) {
            snprintf(tmp, sizeof tmp, "%" PRId64, (int64_t)sqlite3_column_int64(st, 4));
        } else if (!strcmp(name, "LastModifiedDate")) {
            double t = sqlite3_column_double(st, 6);
            long long ms = llround(t * 1000);
            time_t s = (time_t)(ms / 1000);
            struct tm tm;
            gmtime_r(&s, &tm);
            char day[32];
            strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf(tmp, sizeof tmp, "%s.%03dZ", day, (int)(ms % 1000));
        } else if (!strcmp(name, "ETag")) {
            v = col_text(st, 5);
        } else if (!strcmp(name, "StorageClass")) {
            v = col_text(st, 7);
        } else if (!strcmp(name, "IsMultipartUploaded")) {
            v = sqlite3_column_int(st, 10) > 0 ? "true" : "false";
        } else if (!strcmp(name, "EncryptionStatus")) {
            if (!attrs) attrs = json_loads(col_text(st, 8), 0, NULL);
            const char *sse = json_string_value(json_object_get(attrs, "ServerSideEncryption"));
            /* objects stored without encryption of their own report AWS's default, SSE-S3, as
             * GET and HEAD do */
            v = json_object_get(attrs, "SSECustomerAlgorithm") ? "SSE-C"
                : sse && !strncmp(sse, "aws:kms", 7)           ? "SSE-KMS"
                                                               : "SSE-S3";
        } else if (!strcmp(name, "IntelligentTieringAccessTier")) {
            v = !strcmp(col_text(st, 7), "INTELLIGENT_TIERING") ? "FREQUENT" : "";
        } else if (!strcmp(name, "BucketKeyStatus")) {
            v = "DISABLED";
        } else if (!strcmp(name, "ChecksumAlgorithm")) {
            if (!cks) cks = json_loads(col_text(st, 9), 0, NULL);
            const char *k;
            json_t *x;
            json_object_foreach(cks, k, x)
            {
                if (!strncmp(k, "Checksum", 8) && strcmp(k, "ChecksumType")) {
                    snprintf(tmp, sizeof tmp, "%s", k + 8);
                    break;
                }
            }
        }
        /* ReplicationStatus, ObjectLock*: no replication here; object lock fields are left
         * empty */
        csv_str(b, v);
    }
    json_decref(attrs);
    json_decref(cks);
    nb_buf_append(b, "\r\n", 2);
    r->rows++;
}

static int read_rows(sqlite3 *h, void *arg)
{
    inv_run *r = arg;
    const char *sql =
        r->all_versions
            ? "SELECT key, version_id, is_latest, delete_marker, size, etag, last_modified,"
              " storage_class, attrs, checksums, nparts FROM objects WHERE bucket=? AND key>=?"
              " ORDER BY key, id DESC"
            : "SELECT key, version_id, is_latest, delete_marker, size, etag, last_modified,"
              " storage_class, attrs, checksums, nparts FROM objects WHERE bucket=? AND key>=?"
              " AND is_latest=1 AND delete_marker=0 ORDER BY key";
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return SQLITE_ERROR;
    size_t pn = strlen(r->prefix);
    sqlite3_bind_text(st, 1, r->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, r->prefix, (int)pn, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const void *k = sqlite3_column_blob(st, 0);
        if ((size_t)sqlite3_column_bytes(st, 0) < pn || (pn && memcmp(k, r->prefix, pn) != 0))
            break; /* past the keys with the prefix */
        write_row(r, st);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* gzip of data (one member), in out. 0 / -1. */
static int gzip(const void *data, size_t len, nb_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip header and trailer around the deflate stream */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    unsigned char chunk[65536];
    int zr;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        zr = deflate(&z, Z_FINISH);
        if (zr == Z_STREAM_ERROR || nb_buf_append(out, chunk, sizeof chunk - z.avail_out) < 0) {
            deflateEnd(&z);
            return -1;
        }
    } while (zr != Z_STREAM_END);
    deflateEnd(&z);
    return 0;
}

/* The destination bucket's name from "arn:aws:s3:::name", NULL when malformed. */
static const char *dest_bucket(json_t *d)
{
    const char *arn = json_string_value(json_object_get(d, "Bucket"));
    return arn && !strncmp(arn, "arn:aws:s3:::", 13) ? arn + 13 : NULL;
}

/* One report of configuration conf of bucket: its outcome into result ("delivered", or why
 * not). */
static void run_one(const char *bucket, const char *owner, json_t *conf, json_t *result)
{
    const char *id = json_string_value(json_object_get(conf, "Id"));
    json_t *d = json_object_get(json_object_get(conf, "Destination"), "S3BucketDestination");
    const char *dest = dest_bucket(d);
    const char *format = json_string_value(json_object_get(d, "Format"));
    json_t *out = json_pack("{s:s,s:s}", "bucket", bucket, "id", id ? id : "");
    json_array_append_new(result, out);
    if (!id || !dest) {
        json_object_set_new(out, "status", json_string("invalid configuration"));
        return;
    }
    if (!format || strcmp(format, "CSV") != 0) {
        nb_warn("s3: inventory %s of %s: format %s is not produced (CSV only)", id, bucket,
                format ? format : "?");
        json_object_set_new(out, "status",
                            json_string("skipped: only the CSV format is produced"));
        return;
    }
    nb_s3_bucket db;
    const char *acct = json_string_value(json_object_get(d, "AccountId"));
    if (nb_s3_bucket_get(nb_s3_g, dest, &db, NULL) != NB_S3_OK ||
        strcmp(db.account, acct ? acct : owner) != 0) {
        /* AWS delivers only into an existing bucket of the expected owner */
        nb_warn("s3: inventory %s of %s: destination bucket %s missing or not its owner's", id,
                bucket, dest);
        json_object_set_new(out, "status", json_string("destination bucket unavailable"));
        return;
    }
    inv_run r;
    memset(&r, 0, sizeof r);
    r.bucket = bucket;
    r.prefix = json_string_value(json_object_get(json_object_get(conf, "Filter"), "Prefix"));
    if (!r.prefix) r.prefix = "";
    const char *iov = json_string_value(json_object_get(conf, "IncludedObjectVersions"));
    r.all_versions = iov && !strcmp(iov, "All");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(conf, "OptionalFields"), i, f)
    {
        for (size_t k = 0; k < NFIELDS; k++)
            if (json_string_value(f) && !strcmp(json_string_value(f), field_order[k]))
                r.want[k] = true;
    }
    nb_buf_init(&r.csv);
    nb_buf gz;
    nb_buf_init(&gz);
    char *manifest = NULL;
    const char *status = "delivered";
    if (nb_db_read(nb_s3_store_db(nb_s3_g), read_rows, &r) != SQLITE_OK ||
        gzip(r.csv.data ? r.csv.data : "", r.csv.len, &gz) < 0) {
        status = "failed: the objects could not be read";
        goto done;
    }
    /* keys: <prefix>/<source>/<id>/... (no leading slash without a prefix) */
    const char *dp = json_string_value(json_object_get(d, "Prefix"));
    char base[1200];
    snprintf(base, sizeof base, "%s%s%s/%s", dp && *dp ? dp : "", dp && *dp ? "/" : "", bucket,
             id);
    time_t now = (time_t)nb_clock_now();
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32], hive[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H-%MZ", &tm);
    strftime(hive, sizeof hive, "%Y-%m-%d-%H-%M", &tm);
    char uuid[37];
    nb_uuid4(uuid);
    char data_key[1400], key[1400];
    snprintf(data_key, sizeof data_key, "%s/data/%s.csv.gz", base, uuid);
    if (nb_s3_put_internal(dest, data_key, gz.data, gz.len, "application/x-gzip") != NB_S3_OK) {
        status = "failed: the data file could not be stored";
        goto done;
    }
    unsigned char md5[16];
    char md5hex[33];
    nb_md5(gz.data, gz.len, md5);
    nb_hex(md5, 16, md5hex);
    nb_buf schema;
    nb_buf_init(&schema);
    nb_buf_printf(&schema, "Bucket, Key%s", r.all_versions ? ", VersionId, IsLatest, IsDeleteMarker" : "");
    for (size_t k = 0; k < NFIELDS; k++)
        if (r.want[k]) nb_buf_printf(&schema, ", %s", field_order[k]);
    char created[32];
    snprintf(created, sizeof created, "%lld", (long long)(nb_clock_now_us() / 1000));
    char arn[80];
    snprintf(arn, sizeof arn, "arn:aws:s3:::%s", dest);
    json_t *m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s%,s:[{s:s,s:I,s:s}]}", "sourceBucket", bucket,
                          "destinationBucket", arn, "version", "2016-11-30", "creationTimestamp",
                          created, "fileFormat", "CSV", "fileSchema", schema.data ? schema.data : "",
                          schema.len, "files", "key", data_key, "size", (json_int_t)gz.len,
                          "MD5checksum", md5hex);
    nb_buf_free(&schema);
    manifest = m ? json_dumps(m, JSON_INDENT(4)) : NULL;
    json_decref(m);
    if (!manifest) {
        status = "failed: out of memory";
        goto done;
    }
    snprintf(key, sizeof key, "%s/%s/manifest.json", base, stamp);
    int rc = nb_s3_put_internal(dest, key, manifest, strlen(manifest), "application/json");
    /* manifest.checksum: the MD5 of manifest.json, written after it (its presence says the
     * manifest is complete) */
    char mhex[33];
    nb_md5(manifest, strlen(manifest), md5);
    nb_hex(md5, 16, mhex);
    snprintf(key, sizeof key, "%s/%s/manifest.checksum", base, stamp);
    if (rc == NB_S3_OK) rc = nb_s3_put_internal(dest, key, mhex, 32, "text/plain");
    char link[1500];
    int ln = snprintf(link, sizeof link, "s3://%s/%s\n", dest, data_key);
    snprintf(key, sizeof key, "%s/hive/dt=%s/symlink.txt", base, hive);
    if (rc == NB_S3_OK) rc = nb_s3_put_internal(dest, key, link, (size_t)ln, "text/plain");
    if (rc != NB_S3_OK) status = "failed: the manifest could not be stored";
    json_object_set_new(out, "manifest", json_string(stamp));
    json_object_set_new(out, "rows", json_integer((json_int_t)r.rows));
done:
    if (strcmp(status, "delivered")) nb_warn("s3: inventory %s of %s: %s", id, bucket, status);
    json_object_set_new(out, "status", json_string(status));
    free(manifest);
    nb_buf_free(&gz);
    nb_buf_free(&r.csv);
}

typedef struct bucket_list {
    json_t *names; /* [[bucket, owner], ...] */
} bucket_list;

static int list_buckets_with_inventory(sqlite3 *h, void *arg)
{
    bucket_list *l = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT c.bucket, b.account FROM bucket_config c JOIN"
                                     " buckets b ON b.name = c.bucket WHERE c.name='inventory'"
                                     " ORDER BY c.bucket");
    if (!st) return SQLITE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(l->names, json_pack("[s,s]", col_text(st, 0), col_text(st, 1)));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Run the enabled configurations (of one bucket, one id, or all; scheduled = only those whose
 * frequency is due today). The outcome of each, as a JSON array (new reference). */
static json_t *run(const char *only_bucket, const char *only_id, bool scheduled)
{
    json_t *result = json_array();
    bucket_list l = {json_array()};
    if (nb_db_read(nb_s3_store_db(nb_s3_g), list_buckets_with_inventory, &l) != SQLITE_OK) {
        json_decref(l.names);
        return result;
    }
    time_t now = (time_t)nb_clock_now();
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t i;
    json_t *pair;
    json_array_foreach(l.names, i, pair)
    {
        const char *bucket = json_string_value(json_array_get(pair, 0));
        const char *owner = json_string_value(json_array_get(pair, 1));
        if (only_bucket && strcmp(only_bucket, bucket)) continue;
        nb_arena *a = nb_arena_new(4096);
        const char *text = NULL;
        json_t *all = a && nb_s3_cfg_get(bucket, "inventory", a, &text) == NB_S3_OK && text
                          ? json_loads(text, 0, NULL)
                          : NULL;
        nb_arena_free(a);
        const char *id;
        json_t *conf;
        json_object_foreach(all, id, conf)
        {
            if (only_id && strcmp(only_id, id)) continue;
            if (!json_is_true(json_object_get(conf, "IsEnabled"))) continue;
            const char *freq = json_string_value(
                json_object_get(json_object_get(conf, "Schedule"), "Frequency"));
            /* Weekly reports come on Sundays (region time) */
            if (scheduled && freq && !strcmp(freq, "Weekly") && tm.tm_wday != 0) continue;
            run_one(bucket, owner, conf, result);
        }
        json_decref(all);
    }
    json_decref(l.names);
    return result;
}

static uint64_t timer;

static void daily_tick(void *arg)
{
    (void)arg;
    json_decref(run(NULL, NULL, true));
    nb_db_release_readers(nb_s3_store_db(nb_s3_g));
}

int nb_s3_inventory_start(void)
{
    timer = nb_sched_every((int64_t)86400 * 1000000, daily_tick, NULL);
    return 0;
}

void nb_s3_inventory_stop(void)
{
    if (timer) nb_sched_cancel_sync(timer);
    timer = 0;
}

/* ---------------------------------------------------------------- admin */


void nb_s3_inventory_admin(nb_req *r)
{
    json_t *res = run(nb_req_query_arg(r, "bucket"), nb_req_query_arg(r, "id"), false);
    json_t *doc = json_pack("{s:o}", "reports", res);
    char *s = json_dumps(doc, JSON_INDENT(1));
    json_decref(doc);
    nb_resp_simple(r, 200, "application/json", s ? s : "{}", s ? strlen(s) : 2, NULL, 0);
    free(s);
}
