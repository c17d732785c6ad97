/* listing.c: the listing engine behind ListObjects, ListObjectsV2 and ListObjectVersions:
 * prefix, any delimiter string, an exclusive marker, max-keys, and seeking past each common
 * prefix (to the successor of prefix+delimiter) so a delimiter listing never walks the keys
 * it folds into a prefix. Also the SQLite sources the engine reads from. */
#include <stdlib.h>

#include "svc/s3/s3.h"

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return an < bn ? -1 : an > bn;
}

bool nb_s3_successor(const char *p, size_t n, nb_arena *a, const char **out, size_t *out_n)
{
    /* Strip trailing 0xFF bytes, then increment the last byte: every string starting with p
     * sorts below the result, and nothing between p's range and the result exists. */
    while (n && (unsigned char)p[n - 1] == 0xFF) n--;
    if (!n) return false;
    char *s = nb_arena_strndup(a, p, n);
    if (!s) return false;
    s[n - 1] = (char)((unsigned char)s[n - 1] + 1);
    *out = s;
    *out_n = n;
    return true;
}

static void *memmem_at(const char *h, size_t hn, const char *nd, size_t nn)
{
    if (nn == 0 || hn < nn) return NULL;
    return memmem(h, hn, nd, nn);
}

int nb_s3_list_run(const nb_s3_lparams *p, nb_s3_lsrc *src, nb_s3_lsink *sink, nb_arena *a,
                   nb_s3_lresult *r)
{
    memset(r, 0, sizeof *r);
    const char *prefix = p->prefix ? p->prefix : "";
    size_t plen = p->prefix ? p->prefix_len : 0;
    const char *marker = p->marker;
    size_t mlen = p->marker ? p->marker_len : 0;
    bool have_delim = p->delim && p->delim_len > 0;

    if (!p->positioned) {
        /* Start at max(prefix inclusive, marker exclusive). */
        int rc;
        if (marker && cmp_bytes(marker, mlen, prefix, plen) >= 0)
            rc = src->seek(src->ud, marker, mlen, false);
        else
            rc = src->seek(src->ud, prefix, plen, true);
        if (rc < 0) return -1;
    }
    for (;;) {
        const char *k;
        size_t kn;
        void *e;
        int rc = src->next(src->ud, &k, &kn, &e);
        if (rc < 0) return -1;
        if (rc == 0) break;
        if (kn < plen || memcmp(k, prefix, plen) != 0) {
            /* Keys are sorted and start at >= prefix: the first key outside is past it. */
            if (cmp_bytes(k, kn, prefix, plen) > 0) break;
            continue;
        }
        if (have_delim) {
            const char *d = memmem_at(k + plen, kn - plen, p->delim, p->delim_len);
            if (d) {
                size_t cpn = (size_t)(d - k) + p->delim_len;
                /* A common prefix at or below the marker was returned by an earlier page. */
                bool emit = !marker || cmp_bytes(k, cpn, marker, mlen) > 0;
                if (emit) {
                    if (r->count >= p->max) {
                        r->truncated = true;
                        break;
                    }
                    if (sink->prefix(sink->ud, k, cpn) < 0) return -1;
                    r->count++;
                    r->last = nb_arena_strndup(a, k, cpn);
                    r->last_len = cpn;
                    r->last_is_prefix = true;
                }
                const char *succ;
                size_t sn;
                if (!nb_s3_successor(k, cpn, a, &succ, &sn)) break; /* nothing sorts after */
                if (src->seek(src->ud, succ, sn, true) < 0) return -1;
                continue;
            }
        }
        if (r->count >= p->max) {
            r->truncated = true;
            break;
        }
        if (sink->entry(sink->ud, k, kn, e) < 0) return -1;
        r->count++;
        r->last = k;
        r->last_len = kn;
        r->last_is_prefix = false;
    }
    return 0;
}

/* ---- SQLite sources ---- */

struct nb_s3_dbsrc {
    sqlite3 *h;
    const char *bucket;
    bool versions;
    nb_arena *a;
    sqlite3_stmt *st; /* current statement, NULL at the end */
    /* versions after a version-id marker: first the older versions of one key, then the
     * keys after it */
    bool tail_pending;
    const char *tail_key;
    size_t tail_len;
    bool failed;
};

nb_s3_dbsrc *nb_s3_dbsrc_new(sqlite3 *h, const char *bucket, bool versions, nb_arena *a)
{
    nb_s3_dbsrc *d = nb_arena_calloc(a, sizeof *d);
    if (!d) return NULL;
    d->h = h;
    d->bucket = bucket;
    d->versions = versions;
    d->a = a;
    return d;
}

static int db_seek(void *ud, const char *k, size_t n, bool inclusive)
{
    nb_s3_dbsrc *d = ud;
    if (d->st) sqlite3_reset(d->st);
    d->tail_pending = false;
    const char *sql;
    if (d->versions)
        sql = inclusive ? "SELECT " NB_S3_OBJECT_COLS " FROM objects WHERE bucket=? AND key>=?"
                          " ORDER BY key, id DESC"
                        : "SELECT " NB_S3_OBJECT_COLS " FROM objects WHERE bucket=? AND key>?"
                          " ORDER BY key, id DESC";
    else
        sql = inclusive ? "SELECT " NB_S3_OBJECT_COLS " FROM objects WHERE bucket=? AND"
                          " is_latest=1 AND key>=? AND delete_marker=0 ORDER BY key"
                        : "SELECT " NB_S3_OBJECT_COLS " FROM objects WHERE bucket=? AND"
                          " is_latest=1 AND key>? AND delete_marker=0 ORDER BY key";
    d->st = nb_db_stmt(d->h, sql);
    if (!d->st) {
        nb_error("s3: listing: %s", sqlite3_errmsg(d->h));
        return -1;
    }
    sqlite3_bind_text(d->st, 1, d->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(d->st, 2, n ? k : "", (int)n, SQLITE_TRANSIENT);
    return 0;
}

int nb_s3_dbsrc_seek_version(nb_s3_dbsrc *d, const char *key, size_t n, const char *version_id)
{
    if (!version_id || !*version_id) return db_seek(d, key, n, false);
    if (d->st) sqlite3_reset(d->st);
    d->st = nb_db_stmt(d->h, "SELECT " NB_S3_OBJECT_COLS " FROM objects WHERE bucket=?1 AND"
                             " key=?2 AND id<(SELECT id FROM objects WHERE bucket=?1 AND"
                             " key=?2 AND version_id=?3) ORDER BY id DESC");
    if (!d->st) {
        nb_error("s3: listing: %s", sqlite3_errmsg(d->h));
        return -1;
    }
    sqlite3_bind_text(d->st, 1, d->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_blob(d->st, 2, n ? key : "", (int)n, SQLITE_TRANSIENT);
    sqlite3_bind_text(d->st, 3, version_id, -1, SQLITE_TRANSIENT);
    d->tail_pending = true;
    d->tail_key = nb_arena_strndup(d->a, key, n);
    d->tail_len = n;
    return d->tail_key ? 0 : -1;
}

static int db_next(void *ud, const char **key, size_t *n, void **entry)
{
    nb_s3_dbsrc *d = ud;
    for (;;) {
        if (!d->st) return 0;
        int rc = sqlite3_step(d->st);
        if (rc == SQLITE_ROW) {
            nb_s3_object *o = nb_arena_alloc(d->a, sizeof *o);
            if (!o || nb_s3_read_object_row(d->st, d->a, o) < 0) return -1;
            *key = o->key;
            *n = o->key_len;
            *entry = o;
            return 1;
        }
        sqlite3_reset(d->st);
        d->st = NULL;
        if (rc != SQLITE_DONE) {
            nb_error("s3: listing: %s", sqlite3_errmsg(d->h));
            return -1;
        }
        if (d->tail_pending) {
            /* done with the marker key's older versions: continue after that key */
            const char *k = d->tail_key;
            size_t kn = d->tail_len;
            if (db_seek(d, k, kn, false) < 0) return -1;
            continue;
        }
        return 0;
    }
}

void nb_s3_dbsrc_src(nb_s3_dbsrc *d, nb_s3_lsrc *out)
{
    out->ud = d;
    out->seek = db_seek;
    out->next = db_next;
}

void nb_s3_dbsrc_done(nb_s3_dbsrc *d)
{
    if (d && d->st) sqlite3_reset(d->st);
    if (d) d->st = NULL;
}
