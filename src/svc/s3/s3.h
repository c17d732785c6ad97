/* s3.h: S3's internal interfaces: the metadata store (buckets, object versions, multipart
 * uploads in <data_dir>/s3.db), the content files with their integrity checksums, and the
 * listing engine. Only src/svc/s3/ includes this header. */
#ifndef NB_SVC_S3_H
#define NB_SVC_S3_H

#include <jansson.h>

#include "core/nb.h"
#include "store/db.h"

/* ---- results of store operations (never collide with SQLite's codes, which are < 1000) ---- */
enum nb_s3_rc {
    NB_S3_OK = 0,
    NB_S3_DBERR = 1000,    /* SQLite failed: a server fault, logged */
    NB_S3_NO_BUCKET,
    NB_S3_NO_KEY,
    NB_S3_NO_VERSION,
    NB_S3_PRECONDITION,    /* If-Match / If-None-Match on a write */
    NB_S3_CONFLICT,        /* concurrent conditional write lost (409 ConditionalRequestConflict) */
    NB_S3_OWNED,           /* bucket exists and is the caller's */
    NB_S3_EXISTS,          /* bucket exists and belongs to another account */
    NB_S3_NOT_EMPTY,
    NB_S3_NO_UPLOAD,
    NB_S3_INVALID_PART,
    NB_S3_INVALID_PART_ORDER,
    NB_S3_TOO_SMALL,
    NB_S3_NOT_IMPLEMENTED,
    NB_S3_LOCKED,          /* Object Lock: compliance retention or legal hold in force */
    NB_S3_LOCKED_GOVERNANCE, /* Object Lock: governance retention (bypass would allow it) */
    NB_S3_IS_MARKER,       /* the version named is a delete marker */
};

enum nb_s3_versioning {
    NB_S3_VERSIONING_OFF = 0, /* never enabled: every write replaces the 'null' version */
    NB_S3_VERSIONING_ENABLED = 1,
    NB_S3_VERSIONING_SUSPENDED = 2,
};

#define NB_S3_MAX_KEY 1024
#define NB_S3_MIN_PART_SIZE (5 * 1024 * 1024) /* every part but the last, as AWS */
#define NB_S3_MAX_PARTS 10000

/* ---- the store: one SQLite database + a directory of content files ---- */

typedef struct nb_s3_store nb_s3_store;

/* Open <dir>/s3.db (migrating) and <dir>/blobs/, and delete content files that no metadata
 * references (left by a crash between writing a file and committing its metadata). */
nb_s3_store *nb_s3_store_open(const char *dir, char **err);
void nb_s3_store_close(nb_s3_store *s);
int nb_s3_store_wipe(nb_s3_store *s);
nb_db *nb_s3_store_db(nb_s3_store *s);
struct nb_s3_content *nb_s3_store_content(nb_s3_store *s);
/* Content file ids a write drops, unlinked only after its commit (one the list could not
 * hold stays an orphan, which the start-up scan removes). */
typedef struct nb_s3_files {
    char **ids;
    size_t n, cap;
    bool oom;
} nb_s3_files;
void nb_s3_files_add(nb_s3_files *f, const char *id);
/* committed: unlink the files from s's content directory; always: empty the list (it stays
 * usable). */
void nb_s3_files_done(nb_s3_store *s, nb_s3_files *f, bool committed);
void nb_s3_files_free(nb_s3_files *f);
/* Inside a write: the content files of version id (its own and its parts') into f. */
int nb_s3_version_files(sqlite3 *h, int64_t id, nb_s3_files *f);
/* Inside a write: remove version id with its manifest and inline bytes, its files into f.
 * Its archive file, if any, is queued by the s3_archive_gone trigger. */
int nb_s3_drop_version(sqlite3 *h, int64_t id, nb_s3_files *f);
/* If-Match style list of entity tags (quoted or not, "*") against an etag without quotes. */
bool nb_s3_etag_matches(const char *cond, const char *etag);

typedef struct nb_s3_bucket {
    char name[64];
    char account[16];
    char region[32];
    double created;
    int versioning; /* enum nb_s3_versioning */
    bool object_lock;
    const char *tags; /* JSON TagSet text or NULL (arena) */
    /* Default encryption (PutBucketEncryption): its SSEAlgorithm ("AES256"), or "" when the
     * bucket has none of its own (AWS's implicit default, SSE-S3, is reported). */
    char encryption[16];
} nb_s3_bucket;

int nb_s3_bucket_create(nb_s3_store *s, const nb_s3_bucket *b);
/* Fill *b (tags in a); NB_S3_NO_BUCKET. a may be NULL when tags are not needed. */
int nb_s3_bucket_get(nb_s3_store *s, const char *name, nb_s3_bucket *b, nb_arena *a);
/* Buckets of account in name order, into an array of nb_s3_bucket in the arena. */
int nb_s3_bucket_list(nb_s3_store *s, const char *account, nb_arena *a, nb_s3_bucket **out,
                      size_t *n);
/* NB_S3_NOT_EMPTY when any object version remains; in-progress multipart uploads are
 * aborted with it (their files removed after the commit). */
int nb_s3_bucket_delete(nb_s3_store *s, const char *name);
int nb_s3_bucket_set_versioning(nb_s3_store *s, const char *name, int state);
/* Turn Object Lock on for an existing bucket: only with versioning Enabled (NB_S3_CONFLICT
 * otherwise); it never goes off. */
int nb_s3_bucket_enable_object_lock(nb_s3_store *s, const char *name);
/* tags: JSON TagSet text or NULL to delete. */
int nb_s3_bucket_set_tags(nb_s3_store *s, const char *name, const char *tags);
/* Default encryption: the ServerSideEncryptionConfiguration document (JSON text) or NULL to
 * delete; the bucket's encryption field takes algo. Get: the stored document or NULL. */
int nb_s3_bucket_set_encryption(nb_s3_store *s, const char *name, const char *config,
                                const char *algo);
int nb_s3_bucket_get_encryption(nb_s3_store *s, const char *name, nb_arena *a,
                                const char **config);

/* One part of a completed multipart object (manifest row) or of an upload. */
typedef struct nb_s3_part {
    int number;
    int64_t size;
    int64_t offset; /* within the object (manifest rows) */
    char etag[40];  /* md5 hex, no quotes */
    double last_modified;
    const char *blob;
    const unsigned char *crcs;
    size_t crcs_len;
    const char *checksum; /* base64 of the upload's checksum algorithm, or NULL */
    const unsigned char *enc; /* encryption record (sse.h) or NULL */
    size_t enc_len;
} nb_s3_part;

/* Object Lock settings of a version (or asked for by an upload). */
typedef struct nb_s3_lock {
    char mode[12];      /* "GOVERNANCE", "COMPLIANCE", or "" = no retention */
    double until;       /* retain until (epoch seconds) when mode is set */
    char legal_hold[4]; /* "ON", "OFF", or "" = never set */
} nb_s3_lock;

/* What the lock of a version forbids at time now: 0 = nothing, NB_S3_LOCKED_GOVERNANCE,
 * NB_S3_LOCKED (compliance retention or legal hold). */
int nb_s3_lock_state(const nb_s3_lock *l, double now);

/* One object version (or delete marker). Strings live in an arena. */
typedef struct nb_s3_object {
    int64_t id; /* row id: increases with every write, orders versions */
    const char *key;
    size_t key_len;
    char version_id[40]; /* "null" for the null version */
    bool is_latest;
    bool delete_marker;
    int64_t size;
    char etag[48]; /* without quotes; "<md5>-N" for multipart */
    double last_modified;
    const char *storage_class;
    const char *owner;     /* account id */
    const char *attrs;     /* JSON object of output members: ContentType, Metadata ... */
    const char *checksums; /* JSON object {"ChecksumCRC32": "..."} or NULL */
    const char *tags;      /* JSON TagSet or NULL */
    const char *blob;      /* content file of a single-part object */
    const unsigned char *crcs;
    size_t crcs_len;
    int nparts;
    nb_s3_part *parts; /* filled by nb_s3_object_get when nparts > 0 and want_parts */
    const unsigned char *enc; /* encryption record (sse.h) or NULL */
    size_t enc_len;
    /* Inline content (no blob, no parts): the stored bytes, read by nb_s3_object_get only
     * when asked (NB_S3_GET_DATA); on put, the bytes to store (blob NULL). */
    bool is_inline;
    const void *data;
    size_t data_len;
    nb_s3_lock lock; /* Object Lock retention and legal hold (input of puts too) */
} nb_s3_object;

/* Conditions a write must satisfy against the current (latest) version. */
typedef struct nb_s3_write_cond {
    bool if_none_match_any; /* If-None-Match: *  */
    const char *if_match;   /* If-Match: "etag" (quotes optional) or "*" */
} nb_s3_write_cond;

/* Put a new version. o->key, size, etag, attrs, checksums, tags, blob, crcs, storage_class,
 * owner, last_modified are inputs; version_id and id are outputs. For a multipart result,
 * upload_id names the upload whose listed parts become the manifest (parts = the ordered
 * list chosen by the client, already validated). */
typedef struct nb_s3_put {
    const char *bucket;
    nb_s3_object *o;
    nb_s3_write_cond cond;
    /* multipart completion */
    const char *upload_id;
    const nb_s3_part *parts;
    size_t nparts;
    /* out */
    bool versioned; /* the bucket is versioned (enabled, or suspended: version id "null"), so
                     * the answer names the version */
} nb_s3_put;
int nb_s3_object_put(nb_s3_store *s, nb_s3_put *p);

/* Latest version (version_id NULL) or a given one. NB_S3_NO_BUCKET / NO_KEY / NO_VERSION.
 * A delete marker is returned as such (o->delete_marker) with NB_S3_OK. */
int nb_s3_object_get(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                     const char *version_id, bool want_parts, nb_arena *a, nb_s3_object *o);
/* GET/HEAD in one read transaction: the bucket (b, may be NULL), the version, and with
 * NB_S3_GET_PARTS / NB_S3_GET_DATA its manifest / inline bytes. Cheap enough for the loop
 * thread. Same results as nb_s3_object_get. */
enum { NB_S3_GET_PARTS = 1, NB_S3_GET_DATA = 2 };
int nb_s3_object_read(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                      const char *version_id, unsigned flags, nb_arena *a, nb_s3_bucket *b,
                      nb_s3_object *o);
/* ocache.c: nb_s3_object_read's results for current versions without parts, valid while the
 * database's write generation gen (nb_db_write_gen of owner) does not change. get: 0 and
 * *b, *o filled (copies in a) on a hit, -1 on a miss. */
int nb_s3_ocache_get(const void *owner, uint64_t gen, const char *bucket, const char *key,
                     size_t key_len, unsigned flags, nb_arena *a, nb_s3_bucket *b,
                     nb_s3_object *o);
void nb_s3_ocache_put(const void *owner, uint64_t gen, unsigned flags, const nb_s3_bucket *b,
                      const nb_s3_object *o);
void nb_s3_ocache_clear(void);

/* Delete: without a version id, by the bucket's versioning (remove, or add a delete marker);
 * with one, remove that version. Outputs: the version removed or created, and whether it is a
 * delete marker. Deleting a key that does not exist succeeds (as S3). */
typedef struct nb_s3_del {
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *version_id; /* NULL = the current object */
    bool bypass_governance; /* x-amz-bypass-governance-retention, authorized */
    const char *if_match;   /* If-Match: the version removed must exist (NB_S3_NO_KEY /
                             * NB_S3_NO_VERSION) and carry this ETag (NB_S3_PRECONDITION) */
    /* out */
    char out_version[40];
    bool out_marker;
} nb_s3_del;
/* A version under Object Lock is refused: NB_S3_LOCKED, or NB_S3_LOCKED_GOVERNANCE unless
 * bypass_governance. */
int nb_s3_object_delete(nb_s3_store *s, nb_s3_del *d);

/* PutObjectRetention (retention = true: lock->mode/until, mode "" removes it) or
 * PutObjectLegalHold (lock->legal_hold) on a version (NULL = latest). Under an active
 * retention, shortening it or changing its mode is refused (NB_S3_LOCKED for compliance,
 * NB_S3_LOCKED_GOVERNANCE for governance without bypass). NB_S3_IS_MARKER for a delete
 * marker; out_version gets the version touched. */
typedef struct nb_s3_lock_set {
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *version_id;
    bool retention;
    nb_s3_lock lock;
    bool bypass_governance;
    double now;
    /* out */
    char out_version[40];
} nb_s3_lock_set;
int nb_s3_object_set_lock(nb_s3_store *s, nb_s3_lock_set *l);
/* Inside a write: is version id under a lock in force at now (any mode)? */
int nb_s3_version_locked(sqlite3 *h, int64_t id, double now, bool *locked);

/* Set (tags != NULL) or remove the tags of a version (NULL = latest). out_version gets the
 * version id touched. */
int nb_s3_object_set_tags(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                          const char *version_id, const char *tags, char out_version[40]);

/* ---- multipart uploads ---- */

typedef struct nb_s3_upload {
    char upload_id[64];
    const char *key;
    size_t key_len;
    double initiated;
    const char *owner;
    const char *storage_class;
    const char *attrs;
    const char *tags;
    const char *checksum_algo; /* "CRC32" ... or NULL */
    const unsigned char *enc; /* the upload's encryption (nb_s3_enc_object record) or NULL */
    size_t enc_len;
    nb_s3_lock lock; /* Object Lock headers of CreateMultipartUpload, applied at completion */
} nb_s3_upload;

int nb_s3_upload_create(nb_s3_store *s, const char *bucket, nb_s3_upload *u);
int nb_s3_upload_get(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                     const char *upload_id, nb_arena *a, nb_s3_upload *u);
/* Record an uploaded part (replacing the same number; its old file is removed). */
int nb_s3_part_put(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                   const char *upload_id, const nb_s3_part *p);
/* Parts with number > marker, in order, at most max (+1 to tell truncation). */
int nb_s3_part_list(nb_s3_store *s, const char *upload_id, int marker, int max, nb_arena *a,
                    nb_s3_part **out, size_t *n);
int nb_s3_upload_abort(nb_s3_store *s, const char *bucket, const char *key, size_t key_len,
                       const char *upload_id);
/* Uploads of a bucket in (key, initiated) order after (key_marker, upload_id_marker). */
int nb_s3_upload_list(nb_s3_store *s, const char *bucket, const char *prefix, size_t prefix_len,
                      const char *key_marker, size_t key_marker_len, const char *upload_marker,
                      size_t max, nb_arena *a, nb_s3_upload **out, size_t *n);

/* ---- the listing engine (listing.c): prefix, delimiter, markers, with seeks ---- */

/* A sorted source of entries (object keys, or object versions grouped by key). */
typedef struct nb_s3_lsrc {
    void *ud;
    /* Position at the first entry with key >= k (inclusive) or > k. Returns 0 or -1. */
    int (*seek)(void *ud, const char *k, size_t n, bool inclusive);
    /* The current entry and advance; returns 1 with the key and entry, 0 at the end, -1 error.
     * The key stays valid until the next seek/next call. */
    int (*next)(void *ud, const char **key, size_t *n, void **entry);
} nb_s3_lsrc;

typedef struct nb_s3_lparams {
    const char *prefix;
    size_t prefix_len;
    const char *delim; /* NULL or "" = no delimiter */
    size_t delim_len;
    const char *marker; /* exclusive lower bound (v1 marker, start-after, token, key-marker) */
    size_t marker_len;
    bool positioned; /* the caller already positioned the source (versions with a version
                        marker); the engine must not seek to the start */
    size_t max;      /* entries + common prefixes */
} nb_s3_lparams;

typedef struct nb_s3_lsink {
    void *ud;
    int (*entry)(void *ud, const char *key, size_t n, void *entry);
    int (*prefix)(void *ud, const char *p, size_t n);
} nb_s3_lsink;

typedef struct nb_s3_lresult {
    bool truncated;
    size_t count;
    /* the last key or common prefix emitted (NextMarker / continuation token), in the arena */
    const char *last;
    size_t last_len;
    bool last_is_prefix;
} nb_s3_lresult;

int nb_s3_list_run(const nb_s3_lparams *p, nb_s3_lsrc *src, nb_s3_lsink *sink, nb_arena *a,
                   nb_s3_lresult *r);
/* The smallest string greater than every string that starts with p, in the arena; returns
 * false when there is none (p is empty or all 0xFF bytes). */
bool nb_s3_successor(const char *p, size_t n, nb_arena *a, const char **out, size_t *out_n);

/* SQLite sources for the engine: latest objects (not delete markers) of a bucket, and every
 * version of a bucket (key ascending, newest first within a key). Entries are nb_s3_object
 * in the arena. They run in the caller's read transaction h. */
typedef struct nb_s3_dbsrc nb_s3_dbsrc;
nb_s3_dbsrc *nb_s3_dbsrc_new(sqlite3 *h, const char *bucket, bool versions, nb_arena *a);
void nb_s3_dbsrc_src(nb_s3_dbsrc *d, nb_s3_lsrc *out);
/* Versions: position after (key, version_id) (version_id "" = after every version of key). */
int nb_s3_dbsrc_seek_version(nb_s3_dbsrc *d, const char *key, size_t n, const char *version_id);
/* Release the statement (before the read transaction ends). */
void nb_s3_dbsrc_done(nb_s3_dbsrc *d);

/* Helpers shared by the store and the handlers. */
void nb_s3_version_id_new(char out[33]);
int nb_s3_read_object_row(sqlite3_stmt *st, nb_arena *a, nb_s3_object *o);
#define NB_S3_OBJECT_COLS                                                                          \
    "id,key,version_id,is_latest,delete_marker,size,etag,last_modified,storage_class,owner,attrs," \
    "checksums,tags,blob,crcs,nparts,enc,lock_mode,lock_until,legal_hold"

#endif
