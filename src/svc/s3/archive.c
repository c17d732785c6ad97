/* archive.c: S3 storage classes and the archive tier: the class table (minimum size and
 * duration, waterfall rank), migration 4's schema, the background worker that moves GLACIER /
 * DEEP_ARCHIVE data into compressed, checksummed archive files (and removes archive files
 * after the commits that dropped them), restored copies put back as content files, the
 * storage report on the admin API, and the start/stop/reset of all of it.
 *
 * Archive file: <data>/s3/archive/<xx>/<id>, a 40-byte header then one zlib stream:
 *   "NBARC1\0\0", u64 size, u64 zsize (payload bytes), u32 CRC32C of the data,
 *   u32 CRC32C of the payload, u32 CRC32C of the 32 bytes before it, u32 0 (little-endian).
 * The data is read from the hot copy through the verified read path, compressed into a new
 * file that is fsynced and renamed into place before the metadata naming it commits; the
 * hot files are removed after that commit (the same order as a PUT, so a crash leaves either
 * the hot copy or the archived one). A restore decompresses it, checking both CRCs, into a
 * new content file that becomes the version's content until the restore expires. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/checksum.h"
#include "core/clock.h"
#include "svc/s3/lifecycle.h"

/* ---------------------------------------------------------------- classes */

#define KIB ((int64_t)1024)

static const nb_s3_class classes[] = {
    /* name, rank, archive, min_size, min_days, overhead, lifecycle target */
    {"STANDARD", 0, false, 0, 0, 0, false},
    {"REDUCED_REDUNDANCY", 0, false, 0, 0, 0, false},
    {"STANDARD_IA", 1, false, 128 * KIB, 30, 0, true},
    {"INTELLIGENT_TIERING", 2, false, 0, 0, 0, true},
    {"ONEZONE_IA", 3, false, 128 * KIB, 30, 0, true},
    {"GLACIER_IR", 4, false, 128 * KIB, 90, 0, true},
    /* Archive classes: AWS bills 40 KiB of index per object (32 KiB at the class's rate,
     * 8 KiB at STANDARD's); recorded here as one overhead. */
    {"GLACIER", 5, true, 0, 90, 40 * KIB, true},
    {"DEEP_ARCHIVE", 6, true, 0, 180, 40 * KIB, true},
};

const nb_s3_class *nb_s3_class_get(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < NB_ARRAY_LEN(classes); i++)
        if (strcmp(classes[i].name, name) == 0) return &classes[i];
    return NULL;
}

bool nb_s3_class_is_archive(const char *name)
{
    const nb_s3_class *k = nb_s3_class_get(name);
    return k && k->archive;
}

/* ---------------------------------------------------------------- schema (migration 4) */

const char nb_s3_lifecycle_migration[] =
    /* when the version entered its current class (NULL = its last_modified): minimum storage
     * durations count from there */
    "ALTER TABLE objects ADD COLUMN class_since REAL;"
    "CREATE TABLE s3_archive("
    " object_id INTEGER PRIMARY KEY,"  /* objects.id (never reused) */
    " file TEXT,"                      /* archive file id; NULL until the data moved */
    " size INTEGER, zsize INTEGER, crc INTEGER, nparts INTEGER, archived REAL,"
    " units TEXT," /* [[inline, stored bytes], ...]: how the archived bytes split into units */
    " restore_tier TEXT, restore_days INTEGER,"
    " restore_requested REAL, restore_ready REAL, restore_expiry REAL," /* region times */
    " restored INTEGER NOT NULL DEFAULT 0" /* the readable copy is in place */
    ");"
    "CREATE INDEX s3_archive_ready ON s3_archive(restore_ready) WHERE restore_ready IS NOT NULL;"
    "CREATE INDEX s3_archive_expiry ON s3_archive(restore_expiry)"
    " WHERE restore_expiry IS NOT NULL;"
    "CREATE TABLE s3_archive_queue(object_id INTEGER PRIMARY KEY);"
    "CREATE TABLE s3_archive_gc(file TEXT PRIMARY KEY);"
    "CREATE TABLE s3_lifecycle("
    " bucket TEXT PRIMARY KEY, created REAL NOT NULL, rules TEXT NOT NULL, updated REAL NOT NULL);"
    "CREATE TABLE s3_lifecycle_run("
    " id INTEGER PRIMARY KEY CHECK(id = 1),"
    " day INTEGER NOT NULL,"          /* region day (epoch days) of the pass in progress */
    " done_day INTEGER NOT NULL DEFAULT -1,"
    " bucket TEXT,"                   /* bucket being processed; NULL = pass finished */
    " phase INTEGER NOT NULL DEFAULT 0," /* 0 objects, 1 multipart uploads */
    " key BLOB,"                      /* resume after this key (NULL = from the start) */
    " upload TEXT,"                   /* phase 1: resume after (key, upload) */
    " scanned INTEGER NOT NULL DEFAULT 0, actions INTEGER NOT NULL DEFAULT 0,"
    " started REAL, finished REAL);"
    "CREATE TABLE s3_early_delete("
    " id INTEGER PRIMARY KEY, bucket TEXT NOT NULL, storage_class TEXT NOT NULL,"
    " size INTEGER NOT NULL, since REAL NOT NULL, removed REAL NOT NULL, reason TEXT);"
    /* New versions in an archive class, and versions a lifecycle transition moved into one,
     * are queued for the archiver. */
    "CREATE TRIGGER s3_archive_queue_i AFTER INSERT ON objects"
    " WHEN NEW.storage_class IN ('GLACIER','DEEP_ARCHIVE') AND NEW.delete_marker = 0"
    " BEGIN INSERT OR IGNORE INTO s3_archive_queue VALUES(NEW.id); END;"
    "CREATE TRIGGER s3_archive_queue_u AFTER UPDATE OF storage_class ON objects"
    " WHEN NEW.storage_class IN ('GLACIER','DEEP_ARCHIVE')"
    " AND OLD.storage_class NOT IN ('GLACIER','DEEP_ARCHIVE') AND NEW.delete_marker = 0"
    " BEGIN INSERT OR IGNORE INTO s3_archive_queue VALUES(NEW.id); END;"
    /* However a version goes (DELETE, overwrite, lifecycle, bucket reset), its archive file is
     * queued for removal in the same transaction: no code path can forget it. */
    "CREATE TRIGGER s3_archive_gone AFTER DELETE ON objects"
    " WHEN OLD.storage_class IN ('GLACIER','DEEP_ARCHIVE')"
    " BEGIN"
    "  INSERT OR IGNORE INTO s3_archive_gc SELECT file FROM s3_archive"
    "   WHERE object_id = OLD.id AND file IS NOT NULL;"
    "  DELETE FROM s3_archive WHERE object_id = OLD.id;"
    "  DELETE FROM s3_archive_queue WHERE object_id = OLD.id;"
    " END;"
    "CREATE TRIGGER s3_lifecycle_gone AFTER DELETE ON buckets"
    " BEGIN DELETE FROM s3_lifecycle WHERE bucket = OLD.name; END;";

/* Early deletions need the region clock inside SQLite, so these triggers are TEMP ones on the
 * writer connection, created with the functions they call (a persistent trigger naming an
 * unregistered function would break every DELETE on a connection that lacks it). */
static const char temp_triggers[] =
    "CREATE TEMP TRIGGER IF NOT EXISTS s3_early_d AFTER DELETE ON main.objects"
    " WHEN OLD.delete_marker = 0 AND nb_s3_min_days(OLD.storage_class) > 0"
    " BEGIN"
    "  INSERT INTO s3_early_delete(bucket,storage_class,size,since,removed,reason)"
    "   SELECT OLD.bucket, OLD.storage_class, OLD.size,"
    "    COALESCE(OLD.class_since, OLD.last_modified), nb_s3_now(), 'delete'"
    "   WHERE nb_s3_now() - COALESCE(OLD.class_since, OLD.last_modified)"
    "    < nb_s3_min_days(OLD.storage_class) * 86400.0;"
    " END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS s3_early_u AFTER UPDATE OF storage_class ON main.objects"
    " WHEN OLD.delete_marker = 0 AND NEW.storage_class <> OLD.storage_class"
    " AND nb_s3_min_days(OLD.storage_class) > 0"
    " BEGIN"
    "  INSERT INTO s3_early_delete(bucket,storage_class,size,since,removed,reason)"
    "   SELECT OLD.bucket, OLD.storage_class, OLD.size,"
    "    COALESCE(OLD.class_since, OLD.last_modified), nb_s3_now(), 'transition'"
    "   WHERE nb_s3_now() - COALESCE(OLD.class_since, OLD.last_modified)"
    "    < nb_s3_min_days(OLD.storage_class) * 86400.0;"
    " END;";

static void sql_now(sqlite3_context *cx, int n, sqlite3_value **v)
{
    (void)n;
    (void)v;
    sqlite3_result_double(cx, nb_clock_now_f());
}

static void sql_min_days(sqlite3_context *cx, int n, sqlite3_value **v)
{
    (void)n;
    const nb_s3_class *k = nb_s3_class_get((const char *)sqlite3_value_text(v[0]));
    sqlite3_result_int(cx, k ? k->min_days : 0);
}

static int attach_fn(sqlite3 *h, void *arg)
{
    (void)arg;
    int rc = sqlite3_create_function_v2(h, "nb_s3_now", 0, SQLITE_UTF8, NULL, sql_now, NULL,
                                        NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(h, "nb_s3_min_days", 1,
                                        SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_min_days,
                                        NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(h, temp_triggers, NULL, NULL, NULL);
    if (rc != SQLITE_OK) nb_error("s3: cannot attach class accounting: %s", sqlite3_errmsg(h));
    return rc;
}

/* ---------------------------------------------------------------- small shared helpers */

double nb_s3_lc_due(double t, int days)
{
    /* AWS: creation time + days, rounded to the next day's midnight UTC. */
    double d = floor((t + (double)days * 86400.0) / 86400.0) + 1.0;
    return d * 86400.0;
}

void nb_s3_http_date(double t, char out[40])
{
    time_t s = (time_t)floor(t);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

__attribute__((weak)) void nb_s3_event(const char *bucket, const char *event, const char *key,
                                       size_t key_len, const char *version_id, int64_t size,
                                       const char *etag)
{
    /* Delivery belongs to the notifications work, which defines the strong symbol. */
    (void)bucket, (void)event, (void)key, (void)key_len, (void)version_id, (void)size,
        (void)etag;
}

/* ---------------------------------------------------------------- archive files */

static char arch_dir[4096];

#define HDR_LEN 40
static const char magic[8] = {'N', 'B', 'A', 'R', 'C', '1', 0, 0};

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void arch_path(const char *id, char *out, size_t n)
{
    snprintf(out, n, "%s/%.2s/%s", arch_dir, id, id);
}

static void arch_unlink(const char *id)
{
    char p[4200];
    arch_path(id, p, sizeof p);
    if (unlink(p) < 0 && errno != ENOENT) nb_warn("s3: archive file %s: %s", id, strerror(errno));
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Writing an archive file: deflate as data comes, CRCs of both sides. */
typedef struct arch_writer {
    int fd;
    char id[33];
    char tmp[4200];
    z_stream z;
    bool z_ok;
    uint64_t size, zsize;
    uint32_t crc, zcrc;
    unsigned char *out;
} arch_writer;

#define ZCHUNK (256 * 1024)

static int aw_open(arch_writer *w)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    nb_random_hex(w->id, 32);
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/%.2s", arch_dir, w->id);
    if (mkdir(sub, 0755) < 0 && errno != EEXIST) return -1;
    snprintf(w->tmp, sizeof w->tmp, "%s/.%s.tmp", sub, w->id);
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) return -1;
    w->out = malloc(ZCHUNK);
    if (!w->out) return -1;
    unsigned char hdr[HDR_LEN] = {0};
    if (write_all(w->fd, hdr, sizeof hdr) < 0) return -1;
    if (deflateInit(&w->z, 6) != Z_OK) return -1;
    w->z_ok = true;
    return 0;
}

static int aw_pump(arch_writer *w, int flush)
{
    int zr;
    do {
        w->z.next_out = w->out;
        w->z.avail_out = ZCHUNK;
        zr = deflate(&w->z, flush);
        if (zr == Z_STREAM_ERROR) return -1;
        size_t have = ZCHUNK - w->z.avail_out;
        if (have) {
            if (write_all(w->fd, w->out, have) < 0) return -1;
            w->zcrc = nb_crc32c(w->zcrc, w->out, have);
            w->zsize += have;
        }
    } while (w->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    return 0;
}

static int aw_write(arch_writer *w, const void *p, size_t n)
{
    w->crc = nb_crc32c(w->crc, p, n);
    w->size += n;
    w->z.next_in = (unsigned char *)p;
    w->z.avail_in = (uInt)n;
    return aw_pump(w, Z_NO_FLUSH);
}

/* Finish the stream, write the header, fsync, rename into place, fsync the directory. */
static int aw_finish(arch_writer *w)
{
    if (aw_pump(w, Z_FINISH) < 0) return -1;
    unsigned char hdr[HDR_LEN] = {0};
    memcpy(hdr, magic, 8);
    put_u64(hdr + 8, w->size);
    put_u64(hdr + 16, w->zsize);
    put_u32(hdr + 24, w->crc);
    put_u32(hdr + 28, w->zcrc);
    put_u32(hdr + 32, nb_crc32c(0, hdr, 32));
    if (pwrite(w->fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr || fsync(w->fd) < 0) return -1;
    char final[4200];
    arch_path(w->id, final, sizeof final);
    if (rename(w->tmp, final) < 0) return -1;
    w->tmp[0] = 0;
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/%.2s", arch_dir, w->id);
    return fsync_dir(sub);
}

static void aw_free(arch_writer *w, bool discard)
{
    if (w->z_ok) deflateEnd(&w->z);
    if (w->fd >= 0) close(w->fd);
    if (discard) {
        if (w->tmp[0]) unlink(w->tmp);
        else if (w->id[0]) arch_unlink(w->id);
    }
    free(w->out);
    w->out = NULL;
}

/* Decompress archive file id into fn(ud, bytes), checking the header, both CRCs and the size.
 * 0 / -1 (logged). */
static int arch_read(const char *id, uint64_t want_size,
                     int (*fn)(void *ud, const void *p, size_t n), void *ud)
{
    char path[4200];
    arch_path(id, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        nb_error("s3: archive file %s: %s", id, strerror(errno));
        return -1;
    }
    unsigned char hdr[HDR_LEN];
    unsigned char *in = malloc(ZCHUNK), *out = malloc(ZCHUNK);
    z_stream z;
    memset(&z, 0, sizeof z);
    bool z_ok = false;
    int rc = -1;
    const char *why = "read error";
    if (!in || !out) goto done;
    if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr) goto done;
    why = "bad header";
    if (memcmp(hdr, magic, 8) != 0 || get_u32(hdr + 32) != nb_crc32c(0, hdr, 32)) goto done;
    uint64_t size = get_u64(hdr + 8), zsize = get_u64(hdr + 16);
    uint32_t crc = get_u32(hdr + 24), zcrc = get_u32(hdr + 28);
    why = "size differs from the metadata";
    if (size != want_size) goto done;
    if (inflateInit(&z) != Z_OK) goto done;
    z_ok = true;
    uint64_t zdone = 0, done_n = 0;
    uint32_t c1 = 0, c2 = 0;
    int zr = Z_OK;
    if (lseek(fd, HDR_LEN, SEEK_SET) < 0) goto done;
    while (zr != Z_STREAM_END) {
        ssize_t k = read(fd, in, ZCHUNK);
        why = "read error";
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) goto done;
        why = "truncated";
        if (k == 0) goto done;
        c2 = nb_crc32c(c2, in, (size_t)k);
        zdone += (uint64_t)k;
        z.next_in = in;
        z.avail_in = (uInt)k;
        while (z.avail_in && zr != Z_STREAM_END) {
            z.next_out = out;
            z.avail_out = ZCHUNK;
            zr = inflate(&z, Z_NO_FLUSH);
            why = "corrupt stream";
            if (zr != Z_OK && zr != Z_STREAM_END) goto done;
            size_t have = ZCHUNK - z.avail_out;
            c1 = nb_crc32c(c1, out, have);
            done_n += have;
            why = "write error";
            if (have && fn(ud, out, have) < 0) goto done;
        }
    }
    /* a payload may end exactly with the stream; anything after it is damage */
    for (;;) {
        ssize_t k = read(fd, in, ZCHUNK);
        if (k <= 0) break;
        c2 = nb_crc32c(c2, in, (size_t)k);
        zdone += (uint64_t)k;
    }
    why = "checksum mismatch";
    if (zdone != zsize || c2 != zcrc || done_n != size || c1 != crc) goto done;
    rc = 0;
done:
    if (rc < 0) nb_error("s3: archive file %s: %s", id, why);
    if (z_ok) inflateEnd(&z);
    free(in);
    free(out);
    close(fd);
    return rc;
}

/* ---------------------------------------------------------------- a version's stored units */

/* What a version's content is made of, as stored (encrypted bytes stay encrypted: the archive
 * keeps exactly the stored bytes, so a restore puts back the same units with the same
 * integrity tables and encryption records): one content file, inline bytes (object_data),
 * or one file per part of the manifest. */
typedef struct unit {
    bool is_inline;
    int idx;        /* manifest index (parts), 0 otherwise */
    char blob[40];  /* "" when not present (archived) or inline */
    unsigned char *crcs;
    size_t crcs_len;
    unsigned char *data; /* inline bytes (malloc'd) */
    int64_t size;        /* stored bytes (known for inline units; files: from fstat) */
} unit;

typedef struct vinfo {
    int64_t id;
    bool found, marker, hot;
    char cls[32];
    char bucket[64];
    char *key;
    size_t key_len;
    char version[40];
    char etag[48];
    int64_t size;
    int nparts;
    unit *u;
    size_t nu;
} vinfo;

static void vinfo_free(vinfo *v)
{
    for (size_t i = 0; i < v->nu; i++) {
        free(v->u[i].crcs);
        free(v->u[i].data);
    }
    free(v->u);
    free(v->key);
    memset(v, 0, sizeof *v);
}

static unsigned char *dup_blob(const void *p, size_t n)
{
    unsigned char *d = malloc(n ? n : 1);
    if (d && n) memcpy(d, p, n);
    return d;
}

static int vinfo_fn(sqlite3 *h, void *arg)
{
    vinfo *v = arg;
    int64_t id = v->id;
    vinfo_free(v);
    v->id = id;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT storage_class, blob, crcs, nparts, delete_marker, size,"
                                     " bucket, key, version_id, etag FROM objects WHERE id=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    v->found = rc == SQLITE_ROW;
    char blob[40] = "";
    bool has_blob = false;
    unsigned char *crcs = NULL;
    size_t crcs_len = 0;
    if (v->found) {
        snprintf(v->cls, sizeof v->cls, "%s", (const char *)sqlite3_column_text(st, 0));
        const char *b = (const char *)sqlite3_column_text(st, 1);
        if (b) snprintf(blob, sizeof blob, "%s", b);
        has_blob = b != NULL;
        crcs_len = (size_t)sqlite3_column_bytes(st, 2);
        crcs = dup_blob(sqlite3_column_blob(st, 2), crcs_len);
        v->nparts = sqlite3_column_int(st, 3);
        v->marker = sqlite3_column_int(st, 4) != 0;
        v->size = sqlite3_column_int64(st, 5);
        snprintf(v->bucket, sizeof v->bucket, "%s", (const char *)sqlite3_column_text(st, 6));
        v->key_len = (size_t)sqlite3_column_bytes(st, 7);
        v->key = (char *)dup_blob(sqlite3_column_blob(st, 7), v->key_len + 1);
        if (v->key) v->key[v->key_len] = 0;
        snprintf(v->version, sizeof v->version, "%s", (const char *)sqlite3_column_text(st, 8));
        snprintf(v->etag, sizeof v->etag, "%s", (const char *)sqlite3_column_text(st, 9));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(crcs);
        return rc;
    }
    if (!v->found || v->marker) {
        free(crcs);
        return SQLITE_OK;
    }
    if (v->nparts > 0) {
        free(crcs);
        v->u = calloc((size_t)v->nparts, sizeof *v->u);
        if (!v->u) return SQLITE_NOMEM;
        st = nb_db_stmt(h, "SELECT idx, blob, crcs FROM object_parts WHERE object_id=?"
                           " ORDER BY idx");
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_int64(st, 1, id);
        v->hot = true;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && v->nu < (size_t)v->nparts) {
            unit *u = &v->u[v->nu++];
            u->idx = sqlite3_column_int(st, 0);
            const char *b = (const char *)sqlite3_column_text(st, 1);
            snprintf(u->blob, sizeof u->blob, "%s", b ? b : "");
            v->hot &= u->blob[0] != 0;
            u->crcs_len = (size_t)sqlite3_column_bytes(st, 2);
            u->crcs = dup_blob(sqlite3_column_blob(st, 2), u->crcs_len);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) return rc;
        return v->nu == (size_t)v->nparts ? SQLITE_OK : SQLITE_CORRUPT;
    }
    v->u = calloc(1, sizeof *v->u);
    if (!v->u) {
        free(crcs);
        return SQLITE_NOMEM;
    }
    v->nu = 1;
    unit *u = &v->u[0];
    u->crcs = crcs;
    u->crcs_len = crcs_len;
    if (has_blob) {
        /* "" = archived: the bytes are only in the archive tier (inline or not: units) */
        snprintf(u->blob, sizeof u->blob, "%s", blob);
        v->hot = blob[0] != 0;
        return SQLITE_OK;
    }
    u->is_inline = true;
    st = nb_db_stmt(h, "SELECT data FROM object_data WHERE object_id=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        u->size = sqlite3_column_bytes(st, 0);
        u->data = dup_blob(sqlite3_column_blob(st, 0), (size_t)u->size);
        v->hot = true;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int read_vinfo(int64_t id, vinfo *v)
{
    memset(v, 0, sizeof *v);
    v->id = id;
    return nb_db_read(nb_s3_store_db(nb_s3_g), vinfo_fn, v) == SQLITE_OK ? 0 : -1;
}

/* Identity of the hot units, to see in the commit that nothing changed since the read. */
static void units_sig(const vinfo *v, nb_buf *b)
{
    for (size_t i = 0; i < v->nu; i++)
        nb_buf_printf(b, "%s%s;", v->u[i].is_inline ? "inline:" : "", v->u[i].blob);
}

static int sig_fn(sqlite3 *h, void *arg);

/* Feed every stored byte of the units to the archive writer, verified; sizes recorded. */
static int feed_units(vinfo *v, int (*fn)(void *ud, const void *p, size_t n), void *ud)
{
    nb_s3_content *ct = nb_s3_store_content(nb_s3_g);
    char *buf = malloc((size_t)NB_S3_BLOCK), *scratch = malloc((size_t)NB_S3_BLOCK);
    int rc = buf && scratch ? 0 : -1;
    for (size_t i = 0; i < v->nu && rc == 0; i++) {
        unit *u = &v->u[i];
        if (u->is_inline) {
            char what[64];
            snprintf(what, sizeof what, "version row %lld", (long long)v->id);
            if (nb_s3_inline_verify(u->data, u->size, u->crcs, u->crcs_len, what) < 0 ||
                (u->size && fn(ud, u->data, (size_t)u->size) < 0))
                rc = -1;
            continue;
        }
        int fd = nb_s3_content_openfd(ct, u->blob);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) < 0) {
            nb_error("s3: content file %s: %s", u->blob, strerror(errno));
            if (fd >= 0) close(fd);
            rc = -1;
            break;
        }
        u->size = sb.st_size;
        for (int64_t pos = 0; pos < u->size && rc == 0;) {
            int64_t k = u->size - pos < NB_S3_BLOCK ? u->size - pos : NB_S3_BLOCK;
            if (nb_s3_content_read(fd, u->blob, u->crcs, u->crcs_len, u->size, pos, k, buf,
                                   scratch) < 0 ||
                fn(ud, buf, (size_t)k) < 0)
                rc = -1;
            pos += k;
        }
        close(fd);
    }
    free(buf);
    free(scratch);
    return rc;
}

static int to_arch(void *ud, const void *p, size_t n) { return aw_write(ud, p, n); }

/* ---------------------------------------------------------------- content file garbage */

static int exec_id(sqlite3 *h, const char *sql, int64_t id)
{
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Remove a version's hot copy inside a write (its files into gc): the metadata stays, with
 * the integrity tables and encryption records that describe the archived bytes. The file id
 * becomes "" (objects.blob and object_parts.blob): "no content here", which every reader
 * sees as a file it never gets to open (GET and copies stop at the archive gate) and which
 * the orphan scan and removals skip; NULL would mean "inline" to the object paths. */
static int drop_hot_rows(sqlite3 *h, int64_t id, nb_s3_files *gc)
{
    int rc = nb_s3_version_files(h, id, gc);
    if (rc) return rc;
    if ((rc = exec_id(h, "UPDATE objects SET blob='' WHERE id=? AND nparts=0", id)) ||
        (rc = exec_id(h, "UPDATE object_parts SET blob='' WHERE object_id=?", id)) ||
        (rc = exec_id(h, "DELETE FROM object_data WHERE object_id=?", id)))
        return rc;
    return SQLITE_OK;
}

/* ---------------------------------------------------------------- archiving one version */

typedef struct commit_arch {
    int64_t id;
    const char *sig;
    const char *units; /* JSON [[inline, size], ...] */
    arch_writer *w;
    int nparts;
    nb_s3_files gc;
    char old_file[40];
    vinfo now_v;
} commit_arch;

static int sig_fn(sqlite3 *h, void *arg)
{
    commit_arch *a = arg;
    a->now_v.id = a->id;
    return vinfo_fn(h, &a->now_v);
}

static int commit_arch_fn(sqlite3 *h, void *arg)
{
    commit_arch *a = arg;
    nb_s3_files_done(NULL, &a->gc, false);
    a->old_file[0] = 0;
    int rc = sig_fn(h, a);
    if (rc != SQLITE_OK) return rc;
    nb_buf sig;
    nb_buf_init(&sig);
    units_sig(&a->now_v, &sig);
    bool same = a->now_v.found && !a->now_v.marker && a->now_v.hot &&
                nb_s3_class_is_archive(a->now_v.cls) && sig.data &&
                strcmp(sig.data, a->sig) == 0;
    nb_buf_free(&sig);
    if (!same) return NB_S3_CONFLICT; /* changed or gone meanwhile: the new file is dropped */
    double now = nb_clock_now_f();
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT file, restore_ready, restore_expiry FROM s3_archive"
                                     " WHERE object_id=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, a->id);
    bool active = false;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *f = (const char *)sqlite3_column_text(st, 0);
        if (f) snprintf(a->old_file, sizeof a->old_file, "%s", f);
        active = sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_double(st, 1) <= now &&
                 sqlite3_column_double(st, 2) > now;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
    st = nb_db_stmt(h, "INSERT INTO s3_archive(object_id,file,size,zsize,crc,nparts,units,archived)"
                       " VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(object_id) DO UPDATE SET"
                       " file=?2, size=?3, zsize=?4, crc=?5, nparts=?6, units=?7, archived=?8");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_text(st, 2, a->w->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)a->w->size);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)a->w->zsize);
    sqlite3_bind_int64(st, 5, a->w->crc);
    sqlite3_bind_int(st, 6, a->nparts);
    sqlite3_bind_text(st, 7, a->units, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 8, now);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return rc;
    /* While a restore is readable the hot copy is the restored copy: it stays until expiry. */
    if (active) return exec_id(h, "UPDATE s3_archive SET restored=1 WHERE object_id=?", a->id) ||
                       exec_id(h, "DELETE FROM s3_archive_queue WHERE object_id=?", a->id);
    if ((rc = drop_hot_rows(h, a->id, &a->gc)) != SQLITE_OK) return rc;
    return exec_id(h, "DELETE FROM s3_archive_queue WHERE object_id=?", a->id);
}

static int dequeue_fn(sqlite3 *h, void *arg)
{
    return exec_id(h, "DELETE FROM s3_archive_queue WHERE object_id=?", *(int64_t *)arg);
}

static int has_archive_fn(sqlite3 *h, void *arg)
{
    int64_t *id = arg;
    sqlite3_stmt *st =
        nb_db_stmt(h, "SELECT 1 FROM s3_archive WHERE object_id=? AND file IS NOT NULL");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, *id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) *id = 0;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Move one queued version into the archive tier. */
static void archive_one(int64_t id)
{
    nb_db *db = nb_s3_store_db(nb_s3_g);
    vinfo v;
    int64_t probe = id;
    if (read_vinfo(id, &v) < 0) goto out; /* retried on the next kick */
    if (!v.found || v.marker || !nb_s3_class_is_archive(v.cls) ||
        nb_db_read(db, has_archive_fn, &probe) != SQLITE_OK || probe == 0) {
        nb_db_write(db, dequeue_fn, &id);
        goto out;
    }
    if (!v.hot) {
        nb_error("s3: version %lld has no content to archive", (long long)id);
        nb_db_write(db, dequeue_fn, &id);
        goto out;
    }
    arch_writer w;
    if (aw_open(&w) < 0 || feed_units(&v, to_arch, &w) < 0 || aw_finish(&w) < 0) {
        nb_error("s3: archiving version %lld failed; it stays queued", (long long)id);
        aw_free(&w, true);
        goto out;
    }
    nb_buf sig, units;
    nb_buf_init(&sig);
    nb_buf_init(&units);
    units_sig(&v, &sig);
    nb_buf_putc(&units, '[');
    for (size_t i = 0; i < v.nu; i++)
        nb_buf_printf(&units, "%s[%d,%lld]", i ? "," : "", v.u[i].is_inline,
                      (long long)v.u[i].size);
    nb_buf_putc(&units, ']');
    commit_arch c = {.id = id, .sig = sig.data ? sig.data : "", .units = units.data,
                     .w = &w, .nparts = v.nparts};
    int rc = units.data ? nb_db_write(db, commit_arch_fn, &c) : SQLITE_NOMEM;
    aw_free(&w, rc != SQLITE_OK);
    nb_s3_files_done(nb_s3_g, &c.gc, rc == SQLITE_OK);
    nb_s3_files_free(&c.gc);
    vinfo_free(&c.now_v);
    nb_buf_free(&sig);
    nb_buf_free(&units);
    if (rc == SQLITE_OK && c.old_file[0]) arch_unlink(c.old_file);
    if (rc == NB_S3_CONFLICT) nb_db_write(db, dequeue_fn, &id);
    else if (rc != SQLITE_OK) nb_error("s3: archiving version %lld: commit failed", (long long)id);
out:
    vinfo_free(&v);
}

/* ---------------------------------------------------------------- restored copies */

static pthread_mutex_t mat_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct arch_row {
    int64_t id;
    bool found, active;
    char file[40];
    int64_t size;
    char *units;
} arch_row;

static int arch_row_fn(sqlite3 *h, void *arg)
{
    arch_row *r = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT file, size, units, restore_ready, restore_expiry"
                                     " FROM s3_archive WHERE object_id=?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, r->id);
    int rc = sqlite3_step(st);
    r->found = rc == SQLITE_ROW;
    if (r->found) {
        double now = nb_clock_now_f();
        const char *f = (const char *)sqlite3_column_text(st, 0);
        snprintf(r->file, sizeof r->file, "%s", f ? f : "");
        r->size = sqlite3_column_int64(st, 1);
        const char *u = (const char *)sqlite3_column_text(st, 2);
        r->units = u ? strdup(u) : NULL;
        r->active = sqlite3_column_type(st, 3) != SQLITE_NULL &&
                    sqlite3_column_double(st, 3) <= now && sqlite3_column_double(st, 4) > now;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Splitting the decompressed stream back into units. */
typedef struct unsplit {
    vinfo *v;
    json_t *sizes;
    size_t cur;
    int64_t left;
    bool writing;
    nb_s3_writer w;
    nb_buf inl;
    char **files; /* new file per unit ("" for inline) */
    unsigned char **inline_data;
    size_t *inline_len;
    int failed;
} unsplit;

static int unit_end_fn(unsplit *s);

static int unit_begin(unsplit *s)
{
    while (s->cur < s->v->nu) {
        json_t *e = json_array_get(s->sizes, s->cur);
        s->v->u[s->cur].is_inline = json_integer_value(json_array_get(e, 0)) != 0;
        s->left = json_integer_value(json_array_get(e, 1));
        if (s->v->u[s->cur].is_inline) {
            nb_buf_init(&s->inl);
        } else {
            if (nb_s3_writer_open(nb_s3_store_content(nb_s3_g), &s->w, NB_CKSUM_NONE) < 0)
                return -1;
        }
        s->writing = true;
        if (s->left > 0) return 0;
        if (unit_end_fn(s) < 0) return -1; /* an empty unit */
    }
    return 0;
}

static int unit_end_fn(unsplit *s)
{
    unit *u = &s->v->u[s->cur];
    s->writing = false;
    if (u->is_inline) {
        if (s->inl.oom) return -1;
        s->inline_len[s->cur] = s->inl.len;
        s->inline_data[s->cur] = (unsigned char *)nb_buf_steal(&s->inl, NULL);
        s->files[s->cur] = strdup("");
    } else {
        unsigned char md5[16];
        if (nb_s3_writer_finish(&s->w, md5, NULL, NULL) < 0) {
            nb_s3_writer_free(&s->w, true);
            return -1;
        }
        /* The same stored bytes must give the same integrity table as the archived unit's. */
        bool same = s->w.crcs.len == u->crcs_len && !memcmp(s->w.crcs.data, u->crcs, u->crcs_len);
        s->files[s->cur] = strdup(s->w.id);
        nb_s3_writer_free(&s->w, false);
        if (!same) {
            nb_error("s3: restored unit %zu of version %lld does not match its integrity table",
                     s->cur, (long long)s->v->id);
            return -1;
        }
    }
    s->cur++;
    return 0;
}

static int unsplit_write(void *ud, const void *p, size_t n)
{
    unsplit *s = ud;
    const char *c = p;
    while (n) {
        if (!s->writing && (unit_begin(s) < 0 || !s->writing)) return -1;
        size_t k = (int64_t)n < s->left ? n : (size_t)s->left;
        int rc = s->v->u[s->cur].is_inline ? (nb_buf_append(&s->inl, c, k), 0)
                                           : nb_s3_writer_write(&s->w, c, k);
        if (rc < 0) return -1;
        c += k;
        n -= k;
        s->left -= (int64_t)k;
        if (s->left == 0 && unit_end_fn(s) < 0) return -1;
    }
    return 0;
}

typedef struct mat_commit {
    int64_t id;
    unsplit *s;
    bool placed;
} mat_commit;

static int mat_commit_fn(sqlite3 *h, void *arg)
{
    mat_commit *m = arg;
    m->placed = true;
    vinfo *v = m->s->v;
    for (size_t i = 0; i < v->nu; i++) {
        sqlite3_stmt *st;
        if (v->u[i].is_inline) {
            int rc = exec_id(h, "UPDATE objects SET blob=NULL WHERE id=? AND blob=''", m->id);
            if (rc) return rc;
            if (sqlite3_changes(h) == 0) return NB_S3_CONFLICT;
            st = nb_db_stmt(h, "INSERT OR IGNORE INTO object_data(object_id,data) VALUES(?,?)");
            if (!st) return SQLITE_ERROR;
            sqlite3_bind_int64(st, 1, m->id);
            sqlite3_bind_blob(st, 2, m->s->inline_data[i] ? (void *)m->s->inline_data[i] : "",
                              (int)m->s->inline_len[i], SQLITE_STATIC);
        } else if (v->nparts > 0) {
            st = nb_db_stmt(h, "UPDATE object_parts SET blob=? WHERE object_id=? AND idx=?"
                               " AND blob=''");
            if (!st) return SQLITE_ERROR;
            sqlite3_bind_text(st, 1, m->s->files[i], -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, m->id);
            sqlite3_bind_int(st, 3, v->u[i].idx);
        } else {
            st = nb_db_stmt(h, "UPDATE objects SET blob=? WHERE id=? AND blob=''");
            if (!st) return SQLITE_ERROR;
            sqlite3_bind_text(st, 1, m->s->files[i], -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, m->id);
        }
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return rc;
        if (sqlite3_changes(h) == 0) return NB_S3_CONFLICT;
    }
    return exec_id(h, "UPDATE s3_archive SET restored=1 WHERE object_id=?", m->id);
}

static int mark_restored_fn(sqlite3 *h, void *arg)
{
    return exec_id(h, "UPDATE s3_archive SET restored=1 WHERE object_id=?", *(int64_t *)arg);
}

int nb_s3_archive_materialize(int64_t object_id)
{
    nb_db *db = nb_s3_store_db(nb_s3_g);
    pthread_mutex_lock(&mat_mu);
    vinfo v;
    arch_row ar = {.id = object_id};
    unsplit s;
    memset(&s, 0, sizeof s);
    bool did = false;
    int rc = read_vinfo(object_id, &v) == 0 && nb_db_read(db, arch_row_fn, &ar) == SQLITE_OK
                 ? 0
                 : -1;
    if (rc < 0 || !v.found || v.marker || !ar.found || !ar.active) goto out;
    if (v.hot || !ar.file[0]) {
        /* The data is still hot (not archived yet) or the copy is already in place. */
        int64_t id = object_id;
        if (nb_db_write(db, mark_restored_fn, &id) != SQLITE_OK) rc = -1;
        did = true;
        goto out;
    }
    s.v = &v;
    s.sizes = ar.units ? json_loads(ar.units, 0, NULL) : NULL;
    s.files = calloc(v.nu ? v.nu : 1, sizeof *s.files);
    s.inline_data = calloc(v.nu ? v.nu : 1, sizeof *s.inline_data);
    s.inline_len = calloc(v.nu ? v.nu : 1, sizeof *s.inline_len);
    if (!s.sizes || json_array_size(s.sizes) != v.nu || !s.files || !s.inline_data ||
        !s.inline_len) {
        nb_error("s3: version %lld: archive unit table missing or wrong", (long long)object_id);
        rc = -1;
        goto out;
    }
    if (arch_read(ar.file, (uint64_t)ar.size, unsplit_write, &s) < 0 ||
        (s.cur < v.nu && unit_begin(&s) < 0) || s.cur != v.nu) {
        rc = -1;
        goto out;
    }
    mat_commit mc = {.id = object_id, .s = &s};
    rc = nb_db_write(db, mat_commit_fn, &mc) == SQLITE_OK ? 0 : -1;
    did = rc == 0;
out:
    if (s.writing && !v.u[s.cur].is_inline) nb_s3_writer_free(&s.w, true);
    if (s.writing && v.u[s.cur].is_inline) nb_buf_free(&s.inl);
    for (size_t i = 0; s.files && i < v.nu; i++) {
        if (rc < 0 && s.files[i] && s.files[i][0])
            nb_s3_content_unlink(nb_s3_store_content(nb_s3_g), s.files[i]);
        free(s.files[i]);
        free(s.inline_data[i]);
    }
    free(s.files);
    free(s.inline_data);
    free(s.inline_len);
    json_decref(s.sizes);
    if (did)
        nb_s3_event(v.bucket, "s3:ObjectRestore:Completed", v.key, v.key_len, v.version, v.size,
                    v.etag);
    free(ar.units);
    vinfo_free(&v);
    pthread_mutex_unlock(&mat_mu);
    return rc;
}

typedef struct drop_arg {
    int64_t id;
    nb_s3_files gc;
    bool dropped;
} drop_arg;

static int drop_hot_fn(sqlite3 *h, void *arg)
{
    drop_arg *d = arg;
    nb_s3_files_done(NULL, &d->gc, false);
    d->dropped = false;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT file IS NOT NULL FROM s3_archive WHERE object_id=?"
                                     " AND restore_expiry <= ?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, d->id);
    sqlite3_bind_double(st, 2, nb_clock_now_f());
    int rc = sqlite3_step(st);
    bool archived = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return SQLITE_OK; /* renewed meanwhile, or gone */
    if (rc != SQLITE_ROW) return rc;
    /* Not archived yet: the hot data is the only copy and stays for the archiver. */
    if (archived && (rc = drop_hot_rows(h, d->id, &d->gc)) != SQLITE_OK) return rc;
    d->dropped = true;
    return exec_id(h, "UPDATE s3_archive SET restore_tier=NULL, restore_days=NULL,"
                      " restore_requested=NULL, restore_ready=NULL, restore_expiry=NULL,"
                      " restored=0 WHERE object_id=?",
                   d->id);
}

int nb_s3_archive_drop_hot(int64_t object_id)
{
    nb_db *db = nb_s3_store_db(nb_s3_g);
    vinfo v;
    bool have = read_vinfo(object_id, &v) == 0 && v.found;
    pthread_mutex_lock(&mat_mu);
    drop_arg d = {.id = object_id};
    int rc = nb_db_write(db, drop_hot_fn, &d);
    nb_s3_files_done(nb_s3_g, &d.gc, rc == SQLITE_OK);
    nb_s3_files_free(&d.gc);
    pthread_mutex_unlock(&mat_mu);
    if (rc == SQLITE_OK && d.dropped && have)
        nb_s3_event(v.bucket, "s3:ObjectRestore:Delete", v.key, v.key_len, v.version, v.size,
                    v.etag);
    vinfo_free(&v);
    return rc == SQLITE_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- archive file removal */

typedef struct gc_list {
    nb_s3_files ids;
} gc_list;

static int gc_read_fn(sqlite3 *h, void *arg)
{
    gc_list *g = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT file FROM s3_archive_gc LIMIT 1000");
    if (!st) return SQLITE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        nb_s3_files_add(&g->ids, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int gc_del_fn(sqlite3 *h, void *arg)
{
    gc_list *g = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "DELETE FROM s3_archive_gc WHERE file=?");
    if (!st) return SQLITE_ERROR;
    for (size_t i = 0; i < g->ids.n; i++) {
        sqlite3_bind_text(st, 1, g->ids.ids[i], -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return rc;
    }
    return SQLITE_OK;
}

/* Archive files whose versions are gone (the rows were committed by the deleting
 * transaction, so removing the files now is safe). */
static void gc_drain(void)
{
    nb_db *db = nb_s3_store_db(nb_s3_g);
    for (;;) {
        gc_list g = {{0}};
        if (nb_db_read(db, gc_read_fn, &g) != SQLITE_OK || g.ids.n == 0) {
            nb_s3_files_free(&g.ids);
            return;
        }
        for (size_t i = 0; i < g.ids.n; i++) arch_unlink(g.ids.ids[i]);
        int rc = nb_db_write(db, gc_del_fn, &g);
        size_t n = g.ids.n;
        nb_s3_files_free(&g.ids);
        if (rc != SQLITE_OK || n < 1000) return;
    }
}

/* ---------------------------------------------------------------- the worker */

static pthread_t worker;
static bool worker_ok;
static pthread_mutex_t wmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wcond = PTHREAD_COND_INITIALIZER;
static bool kicked, stopping;
static _Atomic bool paused; /* reset in progress */

void nb_s3_archive_kick(void)
{
    pthread_mutex_lock(&wmu);
    kicked = true;
    pthread_cond_signal(&wcond);
    pthread_mutex_unlock(&wmu);
}

typedef struct queue_list {
    int64_t ids[64];
    size_t n;
} queue_list;

static int queue_read_fn(sqlite3 *h, void *arg)
{
    queue_list *q = arg;
    q->n = 0;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT object_id FROM s3_archive_queue ORDER BY object_id"
                                     " LIMIT 64");
    if (!st) return SQLITE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && q->n < NB_ARRAY_LEN(q->ids))
        q->ids[q->n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static bool should_stop(void)
{
    pthread_mutex_lock(&wmu);
    bool s = stopping;
    pthread_mutex_unlock(&wmu);
    return s || paused;
}

static void queue_drain(void)
{
    nb_db *db = nb_s3_store_db(nb_s3_g);
    int64_t last_first = -1;
    while (!should_stop()) {
        queue_list q;
        if (nb_db_read(db, queue_read_fn, &q) != SQLITE_OK || q.n == 0) return;
        /* a batch that failed entirely (disk full ...) is retried at the next kick */
        if (q.ids[0] == last_first) return;
        last_first = q.ids[0];
        for (size_t i = 0; i < q.n && !should_stop(); i++) archive_one(q.ids[i]);
    }
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wmu);
    for (;;) {
        while (!kicked && !stopping) pthread_cond_wait(&wcond, &wmu);
        if (stopping) break;
        kicked = false;
        pthread_mutex_unlock(&wmu);
        if (!paused) {
            gc_drain();
            queue_drain();
            double next = nb_s3_restore_sweep();
            if (next > 0) nb_s3_restore_plan(next);
            gc_drain();
            /* Work comes in rare bursts (archive-class writes, restores, lifecycle
             * transitions): hold no read connection (~50 KiB) between them. */
            nb_db_release_readers(NULL);
        }
        pthread_mutex_lock(&wmu);
    }
    pthread_mutex_unlock(&wmu);
    return NULL;
}

/* ---------------------------------------------------------------- start, stop, reset */

static int mkdir_p(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

typedef struct arch_refs {
    char **v;
    size_t n, cap;
} arch_refs;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int arch_refs_fn(sqlite3 *h, void *arg)
{
    arch_refs *r = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT file FROM s3_archive WHERE file IS NOT NULL");
    if (!st) return SQLITE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 256;
            r->v = realloc(r->v, r->cap * sizeof *r->v);
            NB_ASSERT(r->v != NULL);
        }
        r->v[r->n++] = nb_xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Archive files no row names (a crash between writing one and its commit, or between a
 * commit and the removal), and temporary files: removed at start. all = remove every file. */
static size_t arch_scan(bool all)
{
    arch_refs r = {0};
    if (!all && nb_db_read(nb_s3_store_db(nb_s3_g), arch_refs_fn, &r) != SQLITE_OK) return 0;
    if (r.n) qsort(r.v, r.n, sizeof *r.v, cmp_str);
    size_t removed = 0;
    DIR *d = opendir(arch_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.' || strlen(de->d_name) != 2) continue;
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/%s", arch_dir, de->d_name);
        DIR *s = opendir(sub);
        struct dirent *fe;
        while (s && (fe = readdir(s))) {
            if (!strcmp(fe->d_name, ".") || !strcmp(fe->d_name, "..")) continue;
            const char *k = fe->d_name;
            if (!all && fe->d_name[0] != '.' && bsearch(&k, r.v, r.n, sizeof *r.v, cmp_str))
                continue;
            char p[4400];
            snprintf(p, sizeof p, "%s/%s", sub, fe->d_name);
            if (unlink(p) == 0) removed++;
        }
        if (s) closedir(s);
    }
    if (d) closedir(d);
    for (size_t i = 0; i < r.n; i++) free(r.v[i]);
    free(r.v);
    return removed;
}

int nb_s3_lifecycle_start(const char *data_dir, char **err)
{
    snprintf(arch_dir, sizeof arch_dir, "%s/archive", data_dir);
    if (mkdir_p(arch_dir) < 0) {
        if (err) *err = nb_xstrdup("cannot create the S3 archive directory");
        return -1;
    }
    nb_db *db = nb_s3_store_db(nb_s3_g);
    if (nb_db_write(db, attach_fn, NULL) != SQLITE_OK) {
        if (err) *err = nb_xstrdup("cannot attach S3 class accounting to the database");
        return -1;
    }
    gc_drain();
    size_t orphans = arch_scan(false);
    if (orphans) nb_info("s3: removed %zu orphan archive files", orphans);
    if (nb_s3_lc_load() < 0) {
        if (err) *err = nb_xstrdup("cannot load S3 lifecycle configurations");
        return -1;
    }
    stopping = false;
    paused = false;
    worker_ok = pthread_create(&worker, NULL, worker_main, NULL) == 0;
    if (!worker_ok) {
        if (err) *err = nb_xstrdup("cannot start the S3 archive worker");
        return -1;
    }
    nb_s3_archive_kick(); /* queued archiving and restores left by the last run */
    nb_s3_lc_timer_start();
    return 0;
}

void nb_s3_lifecycle_stop(void)
{
    nb_s3_lc_timer_stop();
    nb_s3_restore_timer_stop();
    if (worker_ok) {
        pthread_mutex_lock(&wmu);
        stopping = true;
        pthread_cond_signal(&wcond);
        pthread_mutex_unlock(&wmu);
        pthread_join(worker, NULL);
        worker_ok = false;
    }
    nb_s3_lc_cache_clear();
}

static int reset_fn(sqlite3 *h, void *arg)
{
    (void)arg;
    /* the wipe's DELETEs fired the triggers after some of these tables were emptied */
    return sqlite3_exec(h, "DELETE FROM s3_archive; DELETE FROM s3_archive_queue;"
                           " DELETE FROM s3_archive_gc; DELETE FROM s3_early_delete;"
                           " DELETE FROM s3_lifecycle; DELETE FROM s3_lifecycle_run;",
                        NULL, NULL, NULL);
}

void nb_s3_lifecycle_reset(void)
{
    paused = true;
    nb_db_write(nb_s3_store_db(nb_s3_g), reset_fn, NULL);
    pthread_mutex_lock(&mat_mu); /* no restore is being put in place */
    arch_scan(true);
    pthread_mutex_unlock(&mat_mu);
    nb_s3_lc_cache_clear();
    paused = false;
}

/* ---------------------------------------------------------------- storage report */

typedef struct report_arg {
    const char *bucket;
    json_t *out;
} report_arg;

static int report_fn(sqlite3 *h, void *arg)
{
    report_arg *r = arg;
    json_t *cls = json_object();
    int64_t tot_bytes = 0, tot_bill = 0, tot_n = 0;
    sqlite3_stmt *st = nb_db_stmt(
        h, "SELECT storage_class, COUNT(*), TOTAL(size), TOTAL(size < 131072),"
           " TOTAL(CASE WHEN size < 131072 THEN size ELSE 0 END) FROM objects"
           " WHERE delete_marker = 0 AND (?1 IS NULL OR bucket = ?1) GROUP BY storage_class");
    if (!st) return SQLITE_ERROR;
    if (r->bucket) sqlite3_bind_text(st, 1, r->bucket, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const nb_s3_class *k = nb_s3_class_get(name);
        int64_t n = sqlite3_column_int64(st, 1);
        int64_t bytes = (int64_t)sqlite3_column_double(st, 2);
        int64_t small_n = (int64_t)sqlite3_column_double(st, 3);
        int64_t small_b = (int64_t)sqlite3_column_double(st, 4);
        int64_t bill = bytes;
        if (k && k->min_size == 128 * KIB) bill = bytes - small_b + small_n * k->min_size;
        if (k) bill += n * k->overhead;
        json_object_set_new(
            cls, name,
            json_pack("{s:I,s:I,s:I,s:I,s:i,s:I,s:b}", "objects", (json_int_t)n, "bytes",
                      (json_int_t)bytes, "billable_bytes", (json_int_t)bill,
                      "min_object_size", (json_int_t)(k ? k->min_size : 0), "min_storage_days",
                      k ? k->min_days : 0, "overhead_bytes_per_object",
                      (json_int_t)(k ? k->overhead : 0), "archive", k && k->archive));
        tot_bytes += bytes;
        tot_bill += bill;
        tot_n += n;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return rc;
    /* Early removals: the rest of the minimum duration is billed, pro rata, at least the
     * class's minimum size. */
    st = nb_db_stmt(h, "SELECT COUNT(*), TOTAL(size),"
                       " TOTAL(MAX(size, ?2) * MAX(0, ?3 * 86400.0 - (removed - since)) / 86400.0)"
                       " FROM s3_early_delete WHERE storage_class = ?1"
                       " AND (?4 IS NULL OR bucket = ?4)");
    if (!st) return SQLITE_ERROR;
    for (size_t i = 0; i < NB_ARRAY_LEN(classes); i++) {
        if (!classes[i].min_days) continue;
        sqlite3_bind_text(st, 1, classes[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, classes[i].min_size);
        sqlite3_bind_int(st, 3, classes[i].min_days);
        if (r->bucket) sqlite3_bind_text(st, 4, r->bucket, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 4);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0) {
            json_t *c = json_object_get(cls, classes[i].name);
            if (!c) {
                c = json_pack("{s:i,s:i,s:i,s:I,s:i}", "objects", 0, "bytes", 0,
                              "billable_bytes", 0, "min_object_size",
                              (json_int_t)classes[i].min_size, "min_storage_days",
                              classes[i].min_days);
                json_object_set_new(cls, classes[i].name, c);
            }
            json_object_set_new(
                c, "early_deletion",
                json_pack("{s:I,s:I,s:f}", "objects", (json_int_t)sqlite3_column_int64(st, 0),
                          "bytes", (json_int_t)sqlite3_column_double(st, 1),
                          "billable_byte_days", sqlite3_column_double(st, 2)));
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
    }
    json_t *arch = json_object();
    st = nb_db_stmt(h, "SELECT COUNT(a.file), TOTAL(a.size), TOTAL(a.zsize), TOTAL(a.restored),"
                       " TOTAL(a.restore_ready IS NOT NULL AND a.restored = 0)"
                       " FROM s3_archive a JOIN objects o ON o.id = a.object_id"
                       " WHERE ?1 IS NULL OR o.bucket = ?1");
    if (!st) return SQLITE_ERROR;
    if (r->bucket) sqlite3_bind_text(st, 1, r->bucket, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_object_update_new(
            arch, json_pack("{s:I,s:I,s:I,s:I,s:I}", "files", (json_int_t)sqlite3_column_int64(st, 0),
                            "bytes", (json_int_t)sqlite3_column_double(st, 1), "compressed_bytes",
                            (json_int_t)sqlite3_column_double(st, 2), "restored_copies",
                            (json_int_t)sqlite3_column_double(st, 3), "restores_in_progress",
                            (json_int_t)sqlite3_column_double(st, 4)));
    sqlite3_reset(st);
    st = nb_db_stmt(h, "SELECT COUNT(*) FROM s3_archive_queue");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        json_object_set_new(arch, "queued", json_integer(sqlite3_column_int64(st, 0)));
    if (st) sqlite3_reset(st);
    char now[40];
    nb_s3_http_date(nb_clock_now_f(), now);
    r->out = json_pack("{s:s,s:s?,s:o,s:{s:I,s:I,s:I},s:o}", "region_time", now, "bucket",
                       r->bucket, "classes", cls, "total", "objects", (json_int_t)tot_n, "bytes",
                       (json_int_t)tot_bytes, "billable_bytes", (json_int_t)tot_bill,
                       "archive_tier", arch);
    return SQLITE_OK;
}


static void reply_json(nb_req *r, int status, json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(doc);
    nb_resp_simple(r, status, "application/json", s ? s : "{}", s ? strlen(s) : 2, NULL, 0);
    free(s);
}

static bool loopback(const nb_req *r)
{
    return strncmp(r->peer_ip, "127.", 4) == 0 || strcmp(r->peer_ip, "::1") == 0 ||
           strncmp(r->peer_ip, "::ffff:127.", 11) == 0;
}

static void admin_worker(nb_req *r)
{
    nb_str p = {r->path, r->path_len};
    bool get = !strcmp(r->method, "GET");
    if (nb_str_eq(p, "/_nimbus/s3/storage-report") && get) {
        r->log_operation = "StorageReport";
        report_arg a = {nb_req_query_arg(r, "bucket"), NULL};
        if (nb_db_read(nb_s3_store_db(nb_s3_g), report_fn, &a) != SQLITE_OK || !a.out) {
            json_decref(a.out);
            reply_json(r, 500, json_pack("{s:s}", "error", "cannot read the metadata"));
            return;
        }
        reply_json(r, 200, a.out);
    } else if (nb_str_eq(p, "/_nimbus/s3/lifecycle") && get) {
        r->log_operation = "LifecycleStatus";
        reply_json(r, 200, nb_s3_lc_status());
    } else if (nb_str_eq(p, "/_nimbus/s3/lifecycle/run") && !strcmp(r->method, "POST")) {
        r->log_operation = "LifecycleRun";
        if (!loopback(r)) {
            reply_json(r, 403, json_pack("{s:s}", "error", "loopback only"));
            return;
        }
        nb_s3_lc_run_now();
        reply_json(r, 202, nb_s3_lc_status());
    } else if ((nb_str_eq(p, "/_nimbus/s3/lifecycle/pause") ||
                nb_str_eq(p, "/_nimbus/s3/lifecycle/resume")) &&
               !strcmp(r->method, "POST")) {
        bool pause = nb_str_eq(p, "/_nimbus/s3/lifecycle/pause");
        r->log_operation = pause ? "LifecyclePause" : "LifecycleResume";
        if (!loopback(r)) {
            reply_json(r, 403, json_pack("{s:s}", "error", "loopback only"));
            return;
        }
        nb_s3_lc_pause(pause);
        reply_json(r, 200, nb_s3_lc_status());
    } else {
        reply_json(r, 404, json_pack("{s:s,s:s}", "error", "NotFound", "message",
                                     "no such admin resource"));
    }
}

/* /_nimbus/s3/storage-report[?bucket=]: objects, bytes and billable bytes per class (minimum
 * sizes, archive overhead, early-deletion charges), the archive tier. /_nimbus/s3/lifecycle:
 * the pass's state; POST /_nimbus/s3/lifecycle/run starts a pass now, .../pause holds it
 * between two batches, .../resume lets it go on. */
void nb_s3_admin(nb_req *r)
{
    r->log_service = "s3";
    nb_req_offload(r, admin_worker);
}
