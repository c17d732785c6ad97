/* test_s3_store.c: S3's engine without HTTP: the listing engine (prefix, delimiter, markers,
 * seeks past common prefixes), content files with integrity checks (a flipped byte is refused),
 * versioning and delete markers, Object Lock rules, multipart manifests, and the orphan scan. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "svc/s3/content.h"
#include "svc/s3/s3.h"
#include "unit.h"

/* ---- a mock source over a sorted array, counting the entries it hands out ---- */
typedef struct mock {
    const char **keys;
    size_t n, pos;
    size_t handed, seeks;
} mock;

static int mock_seek(void *ud, const char *k, size_t n, bool inclusive)
{
    mock *m = ud;
    m->seeks++;
    m->pos = 0;
    while (m->pos < m->n) {
        const char *x = m->keys[m->pos];
        size_t xn = strlen(x), c = xn < n ? xn : n;
        int r = memcmp(x, k, c);
        if (!r) r = xn < n ? -1 : xn > n;
        if (r > 0 || (inclusive && r == 0)) break;
        m->pos++;
    }
    return 0;
}

static int mock_next(void *ud, const char **key, size_t *n, void **entry)
{
    mock *m = ud;
    if (m->pos >= m->n) return 0;
    *key = m->keys[m->pos];
    *n = strlen(*key);
    *entry = NULL;
    m->pos++;
    m->handed++;
    return 1;
}

typedef struct lout {
    nb_buf b;
} lout;

static int sink_entry(void *ud, const char *k, size_t n, void *e)
{
    lout *o = ud;
    nb_buf_printf(&o->b, "K:%.*s ", (int)n, k);
    return 0;
}

static int sink_prefix(void *ud, const char *p, size_t n)
{
    lout *o = ud;
    nb_buf_printf(&o->b, "P:%.*s ", (int)n, p);
    return 0;
}

static const char *run(mock *m, const char *prefix, const char *delim, const char *marker,
                       size_t max, nb_s3_lresult *r, nb_arena *a)
{
    static lout o;
    nb_buf_free(&o.b);
    nb_buf_init(&o.b);
    nb_s3_lparams p = {prefix, prefix ? strlen(prefix) : 0, delim, delim ? strlen(delim) : 0,
                       marker, marker ? strlen(marker) : 0, false, max};
    nb_s3_lsrc src = {m, mock_seek, mock_next};
    nb_s3_lsink sink = {&o, sink_entry, sink_prefix};
    m->handed = m->seeks = 0;
    CHECK(nb_s3_list_run(&p, &src, &sink, a, r) == 0);
    return o.b.data ? o.b.data : "";
}

static void test_listing_engine(void)
{
    nb_arena *a = nb_arena_new(4096);
    const char *keys[] = {"a", "b/1", "b/2", "b/3", "c", "d/x/1", "d/x/2", "d/y", "e"};
    mock m = {keys, NB_ARRAY_LEN(keys), 0, 0, 0};
    nb_s3_lresult r;
    CHECK_STR(run(&m, NULL, NULL, NULL, 1000, &r, a), "K:a K:b/1 K:b/2 K:b/3 K:c K:d/x/1 K:d/x/2 K:d/y K:e ");
    CHECK(!r.truncated);
    CHECK_STR(run(&m, NULL, "/", NULL, 1000, &r, a), "K:a P:b/ K:c P:d/ K:e ");
    /* seeks past each common prefix: b/2, b/3, d/x/2, d/y are never handed out */
    CHECK(m.handed == 5);
    CHECK_STR(run(&m, "d/", "/", NULL, 1000, &r, a), "P:d/x/ K:d/y ");
    CHECK_STR(run(&m, NULL, "/", NULL, 2, &r, a), "K:a P:b/ ");
    CHECK(r.truncated);
    CHECK(r.last_is_prefix && r.last_len == 2 && memcmp(r.last, "b/", 2) == 0);
    /* next page from the common prefix marker does not repeat it */
    CHECK_STR(run(&m, NULL, "/", "b/", 2, &r, a), "K:c P:d/ ");
    CHECK(r.truncated);
    CHECK_STR(run(&m, NULL, "/", "d/", 2, &r, a), "K:e ");
    CHECK(!r.truncated);
    /* a marker inside a folded prefix: that prefix was already returned */
    CHECK_STR(run(&m, NULL, "/", "b/2", 1000, &r, a), "K:c P:d/ K:e ");
    CHECK_STR(run(&m, "b", NULL, NULL, 1000, &r, a), "K:b/1 K:b/2 K:b/3 ");
    CHECK_STR(run(&m, "zz", NULL, NULL, 1000, &r, a), "");
    /* multi-character delimiter */
    CHECK_STR(run(&m, NULL, "/x/", NULL, 1000, &r, a), "K:a K:b/1 K:b/2 K:b/3 K:c P:d/x/ K:d/y K:e ");
    CHECK_STR(run(&m, NULL, NULL, NULL, 0, &r, a), "");
    /* exactly max entries and nothing after: not truncated */
    CHECK_STR(run(&m, "d/", "/", NULL, 2, &r, a), "P:d/x/ K:d/y ");
    CHECK(!r.truncated);
    /* marker below the prefix: start at the prefix */
    CHECK_STR(run(&m, "d/", NULL, "a", 1000, &r, a), "K:d/x/1 K:d/x/2 K:d/y ");
    const char *s;
    size_t sn;
    CHECK(nb_s3_successor("ab\xff\xff", 4, a, &s, &sn) && sn == 2 && s[0] == 'a' && s[1] == 'c');
    CHECK(!nb_s3_successor("\xff", 1, a, &s, &sn));
    nb_arena_free(a);
}

/* ---- store ---- */

static char dir[256];

static void rmrf(const char *p)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", p);
}

static int count_files(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find '%s/blobs' -type f | wc -l", d);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f) {
        if (fscanf(f, "%d", &n) != 1) n = -1;
        pclose(f);
    }
    return n;
}

/* Write content and fill o's content fields. */
static void write_content(nb_s3_store *s, const char *data, size_t n, nb_s3_object *o,
                          nb_arena *a)
{
    nb_s3_writer w;
    CHECK(nb_s3_writer_open(nb_s3_store_content(s), &w, NB_CKSUM_CRC32) == 0);
    CHECK(nb_s3_writer_write(&w, data, n) == 0);
    unsigned char md5[16], ck[32];
    size_t ckn;
    CHECK(nb_s3_writer_finish(&w, md5, ck, &ckn) == 0);
    CHECK(ckn == 4);
    nb_hex(md5, 16, o->etag);
    o->blob = nb_arena_strdup(a, w.id);
    o->crcs_len = w.crcs.len;
    unsigned char *c = nb_arena_alloc(a, w.crcs.len);
    memcpy(c, w.crcs.data, w.crcs.len);
    o->crcs = c;
    o->size = (int64_t)n;
    nb_s3_writer_free(&w, false);
}

static int put(nb_s3_store *s, const char *bucket, const char *key, const char *data,
               nb_arena *a, char vid[40])
{
    nb_s3_object o = {0};
    o.key = key;
    o.key_len = strlen(key);
    o.owner = "000000000000";
    o.last_modified = nb_clock_now_f();
    write_content(s, data, strlen(data), &o, a);
    nb_s3_put p = {.bucket = bucket, .o = &o};
    int rc = nb_s3_object_put(s, &p);
    if (rc != NB_S3_OK) nb_s3_content_unlink(nb_s3_store_content(s), o.blob);
    if (vid) snprintf(vid, 40, "%s", o.version_id);
    return rc;
}

static char *read_all(nb_s3_store *s, const nb_s3_object *o, nb_arena *a)
{
    int fd = nb_s3_content_openfd(nb_s3_store_content(s), o->blob);
    if (fd < 0) return NULL;
    char *out = nb_arena_alloc(a, (size_t)o->size + 1);
    char *scratch = malloc((size_t)NB_S3_BLOCK);
    int rc = nb_s3_content_read(fd, o->blob, o->crcs, o->crcs_len, o->size, 0, o->size, out,
                                scratch);
    free(scratch);
    close(fd);
    if (rc < 0) return NULL;
    out[o->size] = 0;
    return out;
}

/* Verified reads of a multi-block file: any range (inside a block, across blocks, across the
 * 4-block mapping windows, up to the short last block) gives the stored bytes, through the
 * mapping and, once the file is cut short, through the reading fallback for what is left. */
static void test_ranges(nb_s3_store *s)
{
    nb_arena *a = nb_arena_new(4096);
    int64_t mib = NB_S3_BLOCK, n = 9 * mib + 777;
    char *data = malloc((size_t)n), *out = malloc((size_t)n + 64), *scratch = malloc((size_t)mib);
    uint32_t x = 99;
    for (int64_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        data[i] = (char)(x >> 24);
    }
    nb_s3_object o = {0};
    write_content(s, data, (size_t)n, &o, a);
    int fd = nb_s3_content_openfd(nb_s3_store_content(s), o.blob);
    CHECK(fd >= 0);
    int64_t ranges[][2] = {{0, n},
                           {5, 100},
                           {mib - 3, 7},
                           {mib, mib},
                           {1, 4 * mib},
                           {3 * mib + 9, 3 * mib},
                           {8 * mib, mib + 777},
                           {n - 1, 1},
                           {2 * mib - 1, 5 * mib + 2}};
    int bad = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < NB_ARRAY_LEN(ranges); i++) {
            int64_t off = ranges[i][0], len = ranges[i][1];
            bool whole = off + len <= (pass ? 6 * mib : n); /* pass 1: file cut at 6 MiB + 5 */
            char *dst = out + (i % 3) * 16;                 /* any alignment */
            int rc =
                nb_s3_content_read(fd, o.blob, o.crcs, o.crcs_len, o.size, off, len, dst, scratch);
            int vr = nb_s3_content_verify(fd, o.blob, o.crcs, o.crcs_len, o.size, off, len, scratch,
                                          (size_t)mib);
            if (whole ? rc != 0 || vr != 0 || memcmp(dst, data + off, (size_t)len) != 0
                      : rc == 0 || vr == 0)
                bad++;
        }
        if (!pass) {
            char path[512];
            snprintf(path, sizeof path, "%s/blobs/%.2s/%s", dir, o.blob, o.blob);
            CHECK(truncate(path, 6 * mib + 5) == 0);
        }
    }
    CHECK(bad == 0);
    close(fd);
    nb_s3_content_unlink(nb_s3_store_content(s), o.blob);
    free(data);
    free(out);
    free(scratch);
    nb_arena_free(a);
}

static void test_buckets(nb_s3_store *s)
{
    nb_s3_bucket b = {0};
    snprintf(b.name, sizeof b.name, "alpha");
    snprintf(b.account, sizeof b.account, "000000000000");
    snprintf(b.region, sizeof b.region, "us-east-1");
    b.created = 1000;
    CHECK(nb_s3_bucket_create(s, &b) == NB_S3_OK);
    CHECK(nb_s3_bucket_create(s, &b) == NB_S3_OWNED);
    snprintf(b.account, sizeof b.account, "111111111111");
    CHECK(nb_s3_bucket_create(s, &b) == NB_S3_EXISTS);
    snprintf(b.name, sizeof b.name, "beta");
    CHECK(nb_s3_bucket_create(s, &b) == NB_S3_OK);
    nb_arena *a = nb_arena_new(4096);
    nb_s3_bucket *list;
    size_t n;
    CHECK(nb_s3_bucket_list(s, "000000000000", a, &list, &n) == NB_S3_OK && n == 1);
    CHECK(n == 1 && strcmp(list[0].name, "alpha") == 0);
    nb_s3_bucket g;
    CHECK(nb_s3_bucket_get(s, "beta", &g, a) == NB_S3_OK && strcmp(g.account, "111111111111") == 0);
    CHECK(nb_s3_bucket_get(s, "gamma", &g, a) == NB_S3_NO_BUCKET);
    CHECK(nb_s3_bucket_delete(s, "beta") == NB_S3_OK);
    CHECK(nb_s3_bucket_delete(s, "beta") == NB_S3_NO_BUCKET);
    nb_arena_free(a);
}

static void test_objects(nb_s3_store *s)
{
    nb_arena *a = nb_arena_new(4096);
    CHECK(put(s, "alpha", "k1", "hello", a, NULL) == NB_S3_OK);
    CHECK(put(s, "nope", "k1", "hello", a, NULL) == NB_S3_NO_BUCKET);
    int files = count_files(dir);
    CHECK(put(s, "alpha", "k1", "hello again", a, NULL) == NB_S3_OK);
    /* unversioned overwrite: the old file is gone after the commit */
    CHECK(count_files(dir) == files);
    nb_s3_object o;
    CHECK(nb_s3_object_get(s, "alpha", "k1", 2, NULL, false, a, &o) == NB_S3_OK);
    CHECK(o.size == 11 && strcmp(o.version_id, "null") == 0 && o.is_latest);
    CHECK_STR(read_all(s, &o, a), "hello again");
    CHECK(strcmp(o.etag, "5d58fa0ae0ad7bc3e1ee0e45a5e61c8b") != 0); /* md5("hello again") */
    CHECK(nb_s3_object_get(s, "alpha", "k2", 2, NULL, false, a, &o) == NB_S3_NO_KEY);

    /* conditional writes */
    nb_s3_object c = {.key = "k1", .key_len = 2, .owner = "0", .last_modified = 1};
    write_content(s, "x", 1, &c, a);
    nb_s3_put p = {.bucket = "alpha", .o = &c, .cond = {.if_none_match_any = true}};
    CHECK(nb_s3_object_put(s, &p) == NB_S3_PRECONDITION);
    p.cond = (nb_s3_write_cond){.if_match = "\"0123\""};
    CHECK(nb_s3_object_put(s, &p) == NB_S3_PRECONDITION);
    nb_s3_object_get(s, "alpha", "k1", 2, NULL, false, a, &o);
    char im[64];
    snprintf(im, sizeof im, "\"%s\"", o.etag);
    p.cond = (nb_s3_write_cond){.if_match = im};
    CHECK(nb_s3_object_put(s, &p) == NB_S3_OK);
    nb_s3_content_unlink(nb_s3_store_content(s), "0"); /* invalid id: refused quietly */

    /* a flipped byte on disk is detected, never served */
    CHECK(put(s, "alpha", "corrupt", "some precious bytes", a, NULL) == NB_S3_OK);
    CHECK(nb_s3_object_get(s, "alpha", "corrupt", 7, NULL, false, a, &o) == NB_S3_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", dir, o.blob, o.blob);
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "P", 1, 5) == 1);
    close(fd);
    CHECK(read_all(s, &o, a) == NULL);

    /* delete */
    nb_s3_del d = {.bucket = "alpha", .key = "corrupt", .key_len = 7};
    CHECK(nb_s3_object_delete(s, &d) == NB_S3_OK && !d.out_marker);
    CHECK(nb_s3_object_get(s, "alpha", "corrupt", 7, NULL, false, a, &o) == NB_S3_NO_KEY);
    CHECK(nb_s3_object_delete(s, &d) == NB_S3_OK);
    nb_arena_free(a);
}

static void test_versioning(nb_s3_store *s)
{
    nb_arena *a = nb_arena_new(4096);
    nb_s3_bucket b = {.created = 1};
    snprintf(b.name, sizeof b.name, "ver");
    snprintf(b.account, sizeof b.account, "000000000000");
    snprintf(b.region, sizeof b.region, "us-east-1");
    CHECK(nb_s3_bucket_create(s, &b) == NB_S3_OK);
    char v0[40], v1[40], v2[40];
    CHECK(put(s, "ver", "k", "zero", a, v0) == NB_S3_OK && strcmp(v0, "null") == 0);
    CHECK(nb_s3_bucket_set_versioning(s, "ver", NB_S3_VERSIONING_ENABLED) == NB_S3_OK);
    CHECK(put(s, "ver", "k", "one", a, v1) == NB_S3_OK && strlen(v1) == 32);
    CHECK(put(s, "ver", "k", "two", a, v2) == NB_S3_OK && strcmp(v1, v2) != 0);
    nb_s3_object o;
    CHECK(nb_s3_object_get(s, "ver", "k", 1, NULL, false, a, &o) == NB_S3_OK);
    CHECK_STR(read_all(s, &o, a), "two");
    CHECK(nb_s3_object_get(s, "ver", "k", 1, v1, false, a, &o) == NB_S3_OK && !o.is_latest);
    CHECK_STR(read_all(s, &o, a), "one");
    CHECK(nb_s3_object_get(s, "ver", "k", 1, "null", false, a, &o) == NB_S3_OK);
    CHECK_STR(read_all(s, &o, a), "zero");
    CHECK(nb_s3_object_get(s, "ver", "k", 1, "nosuch", false, a, &o) == NB_S3_NO_VERSION);
    nb_s3_del d = {.bucket = "ver", .key = "k", .key_len = 1};
    CHECK(nb_s3_object_delete(s, &d) == NB_S3_OK && d.out_marker && strlen(d.out_version) == 32);
    char marker[40];
    snprintf(marker, sizeof marker, "%s", d.out_version);
    CHECK(nb_s3_object_get(s, "ver", "k", 1, NULL, false, a, &o) == NB_S3_OK && o.delete_marker);
    /* removing the delete marker brings back the previous version */
    nb_s3_del d2 = {.bucket = "ver", .key = "k", .key_len = 1, .version_id = marker};
    CHECK(nb_s3_object_delete(s, &d2) == NB_S3_OK && d2.out_marker);
    CHECK(nb_s3_object_get(s, "ver", "k", 1, NULL, false, a, &o) == NB_S3_OK && !o.delete_marker);
    CHECK(strcmp(o.version_id, v2) == 0);
    /* suspended: writes replace the null version */
    CHECK(nb_s3_bucket_set_versioning(s, "ver", NB_S3_VERSIONING_SUSPENDED) == NB_S3_OK);
    char v3[40];
    CHECK(put(s, "ver", "k", "three", a, v3) == NB_S3_OK && strcmp(v3, "null") == 0);
    CHECK(nb_s3_object_get(s, "ver", "k", 1, "null", false, a, &o) == NB_S3_OK);
    CHECK_STR(read_all(s, &o, a), "three");
    CHECK(nb_s3_object_get(s, "ver", "k", 1, v1, false, a, &o) == NB_S3_OK);
    CHECK(nb_s3_bucket_delete(s, "ver") == NB_S3_NOT_EMPTY);

    nb_arena_free(a);
}

/* A version with a lock, as PutObject writes it under Object Lock. */
static int put_locked(nb_s3_store *s, const char *bucket, const char *key, const char *mode,
                      double until, const char *hold, nb_arena *a, char vid[40])
{
    nb_s3_object o = {0};
    o.key = key;
    o.key_len = strlen(key);
    o.owner = "000000000000";
    o.last_modified = nb_clock_now_f();
    snprintf(o.lock.mode, sizeof o.lock.mode, "%s", mode);
    o.lock.until = until;
    snprintf(o.lock.legal_hold, sizeof o.lock.legal_hold, "%s", hold);
    write_content(s, "locked", 6, &o, a);
    nb_s3_put p = {.bucket = bucket, .o = &o};
    int rc = nb_s3_object_put(s, &p);
    snprintf(vid, 40, "%s", o.version_id);
    return rc;
}

static int retention(nb_s3_store *s, const char *key, const char *vid, const char *mode,
                     double until, bool bypass)
{
    nb_s3_lock_set l = {.bucket = "lk", .key = key, .key_len = strlen(key), .version_id = vid,
                        .retention = true, .bypass_governance = bypass,
                        .now = nb_clock_now_f()};
    snprintf(l.lock.mode, sizeof l.lock.mode, "%s", mode);
    l.lock.until = until;
    return nb_s3_object_set_lock(s, &l);
}

static int del_version(nb_s3_store *s, const char *key, const char *vid, bool bypass)
{
    nb_s3_del d = {.bucket = "lk", .key = key, .key_len = strlen(key), .version_id = vid,
                   .bypass_governance = bypass};
    return nb_s3_object_delete(s, &d);
}

/* Object Lock in the store: what each lock forbids, what a retention may become, and that
 * the settings are read back with the version. */
static void test_object_lock(nb_s3_store *s)
{
    nb_arena *a = nb_arena_new(4096);
    nb_s3_bucket b = {.created = 1, .object_lock = true};
    snprintf(b.name, sizeof b.name, "lk");
    snprintf(b.account, sizeof b.account, "000000000000");
    snprintf(b.region, sizeof b.region, "us-east-1");
    CHECK(nb_s3_bucket_create(s, &b) == NB_S3_OK);
    double now = nb_clock_now_f(), day = 86400;
    nb_s3_lock l = {"GOVERNANCE", now + day, ""};
    CHECK(nb_s3_lock_state(&l, now) == NB_S3_LOCKED_GOVERNANCE);
    CHECK(nb_s3_lock_state(&l, now + 2 * day) == 0); /* expired */
    snprintf(l.legal_hold, sizeof l.legal_hold, "ON");
    CHECK(nb_s3_lock_state(&l, now + 2 * day) == NB_S3_LOCKED);
    snprintf(l.mode, sizeof l.mode, "COMPLIANCE");
    snprintf(l.legal_hold, sizeof l.legal_hold, "OFF");
    CHECK(nb_s3_lock_state(&l, now) == NB_S3_LOCKED);

    char g[40], c[40], h[40];
    CHECK(put_locked(s, "lk", "g", "GOVERNANCE", now + day, "", a, g) == NB_S3_OK);
    CHECK(put_locked(s, "lk", "c", "COMPLIANCE", now + day, "", a, c) == NB_S3_OK);
    CHECK(put_locked(s, "lk", "h", "", 0, "ON", a, h) == NB_S3_OK);
    nb_s3_object o;
    CHECK(nb_s3_object_get(s, "lk", "g", 1, g, false, a, &o) == NB_S3_OK);
    CHECK_STR(o.lock.mode, "GOVERNANCE");
    CHECK(o.lock.until == now + day && !o.lock.legal_hold[0]);
    CHECK(nb_s3_object_get(s, "lk", "h", 1, NULL, false, a, &o) == NB_S3_OK);
    CHECK(!o.lock.mode[0] && strcmp(o.lock.legal_hold, "ON") == 0);
    /* deletes of protected versions */
    CHECK(del_version(s, "g", g, false) == NB_S3_LOCKED_GOVERNANCE);
    CHECK(del_version(s, "c", c, true) == NB_S3_LOCKED);
    CHECK(del_version(s, "h", h, true) == NB_S3_LOCKED);
    /* a delete without a version id adds a marker */
    nb_s3_del d = {.bucket = "lk", .key = "c", .key_len = 1};
    CHECK(nb_s3_object_delete(s, &d) == NB_S3_OK && d.out_marker);
    /* retention changes */
    CHECK(retention(s, "g", g, "GOVERNANCE", now + 2 * day, false) == NB_S3_OK);
    CHECK(retention(s, "g", g, "GOVERNANCE", now + day, false) == NB_S3_LOCKED_GOVERNANCE);
    CHECK(retention(s, "g", g, "COMPLIANCE", now + 3 * day, false) == NB_S3_LOCKED_GOVERNANCE);
    CHECK(retention(s, "g", g, "", 0, true) == NB_S3_OK); /* removed with the bypass */
    CHECK(del_version(s, "g", g, false) == NB_S3_OK);
    CHECK(retention(s, "c", c, "COMPLIANCE", now + day / 2, true) == NB_S3_LOCKED);
    CHECK(retention(s, "c", c, "GOVERNANCE", now + 2 * day, true) == NB_S3_LOCKED);
    CHECK(retention(s, "c", c, "COMPLIANCE", now + 2 * day, false) == NB_S3_OK);
    CHECK(retention(s, "c", d.out_version, "COMPLIANCE", now + day, false) == NB_S3_IS_MARKER);
    CHECK(retention(s, "c", NULL, "COMPLIANCE", now + day, false) == NB_S3_NO_KEY);
    /* legal hold off: the version may go */
    nb_s3_lock_set ls = {.bucket = "lk", .key = "h", .key_len = 1, .version_id = h};
    snprintf(ls.lock.legal_hold, sizeof ls.lock.legal_hold, "OFF");
    CHECK(nb_s3_object_set_lock(s, &ls) == NB_S3_OK && strcmp(ls.out_version, h) == 0);
    CHECK(del_version(s, "h", h, false) == NB_S3_OK);
    /* Object Lock on an existing bucket needs versioning Enabled */
    nb_s3_bucket p = b;
    p.object_lock = false;
    snprintf(p.name, sizeof p.name, "lk2");
    CHECK(nb_s3_bucket_create(s, &p) == NB_S3_OK);
    CHECK(nb_s3_bucket_enable_object_lock(s, "lk2") == NB_S3_CONFLICT);
    CHECK(nb_s3_bucket_set_versioning(s, "lk2", NB_S3_VERSIONING_ENABLED) == NB_S3_OK);
    CHECK(nb_s3_bucket_enable_object_lock(s, "lk2") == NB_S3_OK);
    CHECK(nb_s3_bucket_get(s, "lk2", &p, a) == NB_S3_OK && p.object_lock);
    nb_arena_free(a);
}

typedef struct list_ctx {
    const char *bucket;
    bool versions;
    const char *kmark;
    const char *vmark;
    const char *delim;
    size_t max;
    nb_arena *a;
    nb_buf b;
    nb_s3_lresult r;
} list_ctx;

static int lc_entry(void *ud, const char *k, size_t n, void *e)
{
    list_ctx *c = ud;
    nb_s3_object *o = e;
    if (c->versions)
        nb_buf_printf(&c->b, "%.*s@%s%s ", (int)n, k, strcmp(o->version_id, "null") ? "v" : "null",
                      o->delete_marker ? "(dm)" : "");
    else
        nb_buf_printf(&c->b, "%.*s ", (int)n, k);
    return 0;
}

static int lc_prefix(void *ud, const char *p, size_t n)
{
    list_ctx *c = ud;
    nb_buf_printf(&c->b, "P:%.*s ", (int)n, p);
    return 0;
}

static int list_fn(sqlite3 *h, void *arg)
{
    list_ctx *c = arg;
    nb_s3_dbsrc *d = nb_s3_dbsrc_new(h, c->bucket, c->versions, c->a);
    nb_s3_lsrc src;
    nb_s3_dbsrc_src(d, &src);
    nb_s3_lparams p = {NULL, 0, c->delim, c->delim ? strlen(c->delim) : 0,
                       c->kmark, c->kmark ? strlen(c->kmark) : 0, false, c->max};
    if (c->vmark) {
        nb_s3_dbsrc_seek_version(d, c->kmark, strlen(c->kmark), c->vmark);
        p.positioned = true;
    }
    nb_s3_lsink sink = {c, lc_entry, lc_prefix};
    int rc = nb_s3_list_run(&p, &src, &sink, c->a, &c->r);
    nb_s3_dbsrc_done(d);
    return rc;
}

static const char *db_list(nb_s3_store *s, list_ctx *c)
{
    nb_buf_free(&c->b);
    nb_buf_init(&c->b);
    CHECK(nb_db_read(nb_s3_store_db(s), list_fn, c) == 0);
    return c->b.data ? c->b.data : "";
}

static void test_db_listing(nb_s3_store *s)
{
    nb_arena *a = nb_arena_new(4096);
    nb_s3_bucket b = {.created = 1};
    snprintf(b.name, sizeof b.name, "lst");
    snprintf(b.account, sizeof b.account, "000000000000");
    snprintf(b.region, sizeof b.region, "us-east-1");
    CHECK(nb_s3_bucket_create(s, &b) == NB_S3_OK);
    const char *keys[] = {"a/1", "a/2", "b", "c/d/e", "\xc3\xa9t\xc3\xa9", "a b", "Z"};
    for (size_t i = 0; i < NB_ARRAY_LEN(keys); i++) CHECK(put(s, "lst", keys[i], "x", a, NULL) == 0);
    list_ctx c = {.bucket = "lst", .max = 1000, .a = a};
    /* byte order: "Z" < "a b" < "a/1" (space 0x20 < '/' 0x2F) < ... < "\xc3..." */
    CHECK_STR(db_list(s, &c), "Z a b a/1 a/2 b c/d/e \xc3\xa9t\xc3\xa9 ");
    c.delim = "/";
    CHECK_STR(db_list(s, &c), "Z a b P:a/ b P:c/ \xc3\xa9t\xc3\xa9 ");
    c.max = 3;
    CHECK_STR(db_list(s, &c), "Z a b P:a/ ");
    CHECK(c.r.truncated);
    c.kmark = "a/";
    CHECK_STR(db_list(s, &c), "b P:c/ \xc3\xa9t\xc3\xa9 ");
    CHECK(!c.r.truncated);

    /* versions: newest first within a key, delete markers included */
    CHECK(nb_s3_bucket_set_versioning(s, "lst", NB_S3_VERSIONING_ENABLED) == NB_S3_OK);
    char v1[40], v2[40];
    CHECK(put(s, "lst", "b", "y", a, v1) == 0);
    CHECK(put(s, "lst", "b", "z", a, v2) == 0);
    nb_s3_del d = {.bucket = "lst", .key = "b", .key_len = 1};
    CHECK(nb_s3_object_delete(s, &d) == NB_S3_OK);
    list_ctx v = {.bucket = "lst", .versions = true, .max = 1000, .a = a, .kmark = "a/2"};
    CHECK_STR(db_list(s, &v), "b@v(dm) b@v b@v b@null c/d/e@null \xc3\xa9t\xc3\xa9@null ");
    v.vmark = v2; /* after v2 of b: v1, null, then the next keys */
    v.kmark = "b";
    CHECK_STR(db_list(s, &v), "b@v b@null c/d/e@null \xc3\xa9t\xc3\xa9@null ");
    /* ListObjects hides keys whose current version is a delete marker */
    c.kmark = NULL;
    c.delim = NULL;
    c.max = 1000;
    CHECK_STR(db_list(s, &c), "Z a b a/1 a/2 c/d/e \xc3\xa9t\xc3\xa9 ");
    nb_buf_free(&c.b);
    nb_buf_free(&v.b);
    nb_arena_free(a);
}

static void test_multipart(nb_s3_store *s)
{
    nb_arena *a = nb_arena_new(4096);
    nb_s3_upload u = {.key = "big", .key_len = 3, .initiated = 5, .owner = "000000000000"};
    CHECK(nb_s3_upload_create(s, "alpha", &u) == NB_S3_OK);
    nb_s3_part parts[3];
    const char *data[] = {"part-one ", "part-two ", "part-three"};
    for (int i = 0; i < 3; i++) {
        nb_s3_object tmp = {0};
        write_content(s, data[i], strlen(data[i]), &tmp, a);
        memset(&parts[i], 0, sizeof parts[i]);
        parts[i].number = i + 1;
        parts[i].size = tmp.size;
        memcpy(parts[i].etag, tmp.etag, 33);
        parts[i].blob = tmp.blob;
        parts[i].crcs = tmp.crcs;
        parts[i].crcs_len = tmp.crcs_len;
        CHECK(nb_s3_part_put(s, "alpha", "big", 3, u.upload_id, &parts[i]) == NB_S3_OK);
    }
    /* re-upload part 2: the first file is dropped */
    int files = count_files(dir);
    nb_s3_object tmp = {0};
    write_content(s, data[1], strlen(data[1]), &tmp, a);
    parts[1].blob = tmp.blob;
    CHECK(nb_s3_part_put(s, "alpha", "big", 3, u.upload_id, &parts[1]) == NB_S3_OK);
    CHECK(count_files(dir) == files);
    nb_s3_part *lp;
    size_t n;
    CHECK(nb_s3_part_list(s, u.upload_id, 1, 10, a, &lp, &n) == NB_S3_OK && n == 2);
    CHECK(n == 2 && lp[0].number == 2 && lp[1].number == 3);
    nb_s3_upload *ul;
    CHECK(nb_s3_upload_list(s, "alpha", "", 0, NULL, 0, NULL, 10, a, &ul, &n) == NB_S3_OK && n == 1);
    /* complete with parts 1 and 3: part 2's file goes */
    nb_s3_part chosen[2] = {parts[0], parts[2]};
    nb_s3_object o = {.key = "big", .key_len = 3, .owner = "0", .last_modified = 9,
                      .size = (int64_t)(strlen(data[0]) + strlen(data[2])), .nparts = 2};
    snprintf(o.etag, sizeof o.etag, "abc-2");
    nb_s3_put p = {.bucket = "alpha", .o = &o, .upload_id = u.upload_id, .parts = chosen, .nparts = 2};
    CHECK(nb_s3_object_put(s, &p) == NB_S3_OK);
    CHECK(count_files(dir) == files - 1);
    CHECK(nb_s3_object_put(s, &p) == NB_S3_NO_UPLOAD);
    nb_s3_object g;
    CHECK(nb_s3_object_get(s, "alpha", "big", 3, NULL, true, a, &g) == NB_S3_OK);
    CHECK(g.nparts == 2 && g.parts[1].offset == (int64_t)strlen(data[0]));
    CHECK(g.nparts == 2 && strcmp(g.parts[1].blob, parts[2].blob) == 0);
    /* abort */
    nb_s3_upload u2 = {.key = "big2", .key_len = 4, .initiated = 6, .owner = "0"};
    CHECK(nb_s3_upload_create(s, "alpha", &u2) == NB_S3_OK);
    CHECK(nb_s3_upload_abort(s, "alpha", "big2", 4, u2.upload_id) == NB_S3_OK);
    CHECK(nb_s3_upload_abort(s, "alpha", "big2", 4, u2.upload_id) == NB_S3_NO_UPLOAD);
    nb_arena_free(a);
}

static void test_orphans(void)
{
    /* a file written but never committed to metadata disappears at the next open */
    char *err = NULL;
    nb_s3_store *s = nb_s3_store_open(dir, &err);
    CHECK(s != NULL);
    int before = count_files(dir);
    nb_s3_writer w;
    CHECK(nb_s3_writer_open(nb_s3_store_content(s), &w, NB_CKSUM_NONE) == 0);
    nb_s3_writer_write(&w, "orphan", 6);
    unsigned char md5[16];
    CHECK(nb_s3_writer_finish(&w, md5, NULL, NULL) == 0);
    nb_s3_writer_free(&w, false);
    CHECK(count_files(dir) == before + 1);
    nb_s3_store_close(s);
    /* the blob store never removes files modified after it opened: age it */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find '%s/blobs' -type f -exec touch -d '2000-01-01' {} +", dir);
    CHECK(system(cmd) == 0);
    s = nb_s3_store_open(dir, &err);
    CHECK(s != NULL);
    CHECK(count_files(dir) == before);
    nb_arena *a = nb_arena_new(4096);
    nb_s3_object o;
    CHECK(nb_s3_object_get(s, "alpha", "k1", 2, NULL, false, a, &o) == NB_S3_OK);
    CHECK(read_all(s, &o, a) != NULL);
    nb_arena_free(a);
    nb_s3_store_close(s);
}

int main(void)
{
    test_listing_engine();
    snprintf(dir, sizeof dir, "/tmp/nb-s3-test-%d", (int)getpid());
    rmrf(dir);
    mkdir(dir, 0700);
    nb_clock_init(dir, 1);
    char *err = NULL;
    nb_s3_store *s = nb_s3_store_open(dir, &err);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "open: %s\n", err);
        UNIT_DONE();
    }
    test_buckets(s);
    test_objects(s);
    test_ranges(s);
    test_versioning(s);
    test_object_lock(s);
    test_db_listing(s);
    test_multipart(s);
    nb_s3_store_close(s);
    test_orphans();
    rmrf(dir);
    UNIT_DONE();
}
