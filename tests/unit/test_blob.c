/* test_blob.c: blob files: create/commit/open/unlink, id validation, and the start-up scan that
 * removes orphans and stale temp files but keeps referenced and in-flight files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/blob.h"
#include "unit.h"

static char dir[128];

static int put(nb_blob_store *s, const char *data, char id[NB_BLOB_ID_LEN + 1])
{
    int fd;
    if (nb_blob_create(s, id, &fd) < 0) return -1;
    size_t n = strlen(data);
    if (write(fd, data, n) != (ssize_t)n) {
        nb_blob_abort(s, fd, id);
        return -1;
    }
    return nb_blob_commit(s, fd, id);
}

static void read_back(nb_blob_store *s, const char *id, const char *want)
{
    int fd = nb_blob_open(s, id);
    CHECK(fd >= 0);
    char buf[256] = "";
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    CHECK(n == (ssize_t)strlen(want));
    if (n >= 0) buf[n] = 0;
    CHECK_STR(buf, want);
    if (fd >= 0) {
        CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
        close(fd);
    }
}

static bool exists(const char *rel)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    return access(p, F_OK) == 0;
}

/* Make a file look like it was left by an earlier run (older than the store's open). */
static void age(const char *rel)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    struct timespec t[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};
    CHECK(utimensat(AT_FDCWD, p, t, 0) == 0);
}

static void test_basic(void)
{
    char *err = NULL;
    nb_blob_store *s = nb_blob_store_open(dir, &err);
    CHECK(s != NULL && err == NULL);
    char a[NB_BLOB_ID_LEN + 1], b[NB_BLOB_ID_LEN + 1];
    CHECK(put(s, "hello", a) == 0);
    CHECK(put(s, "world!", b) == 0);
    CHECK(strlen(a) == NB_BLOB_ID_LEN && nb_blob_id_valid(a));
    CHECK(strcmp(a, b) != 0);
    read_back(s, a, "hello");
    read_back(s, b, "world!");
    CHECK(nb_blob_size(s, b) == 6);
    /* Layout: <dir>/<2 hex>/<id>, no temp left behind. */
    char rel[80];
    snprintf(rel, sizeof(rel), "%.2s/%s", a, a);
    CHECK(exists(rel));
    snprintf(rel, sizeof(rel), "%.2s/%s.tmp", a, a);
    CHECK(!exists(rel));
    char p[512];
    CHECK(nb_blob_path(s, a, p, sizeof(p)) == 0);
    CHECK(strstr(p, dir) == p && strstr(p, a));
    CHECK(nb_blob_path(s, a, p, 10) == -1);
    /* Uncommitted blobs are invisible, and abort leaves nothing. */
    char c[NB_BLOB_ID_LEN + 1];
    int fd;
    CHECK(nb_blob_create(s, c, &fd) == 0);
    CHECK(write(fd, "x", 1) == 1);
    CHECK(nb_blob_open(s, c) == -1 && errno == ENOENT);
    snprintf(rel, sizeof(rel), "%.2s/%s.tmp", c, c);
    CHECK(exists(rel));
    nb_blob_abort(s, fd, c);
    CHECK(!exists(rel));
    /* Unlink. */
    CHECK(nb_blob_unlink(s, a) == 0);
    CHECK(nb_blob_open(s, a) == -1 && errno == ENOENT);
    CHECK(nb_blob_unlink(s, a) == -1 && errno == ENOENT);
    /* Ids are validated: a corrupt row can never name another file. */
    const char *bad[] = {"../../etc/passwd",
                         "",
                         "ABCDEF0123456789abcdef0123456789",
                         "0123456789abcdef0123456789abcde",
                         "0123456789abcdef0123456789abcdef0",
                         "0123456789abcdef0123456789abcde/"};
    for (size_t i = 0; i < NB_ARRAY_LEN(bad); i++) {
        CHECK(!nb_blob_id_valid(bad[i]));
        CHECK(nb_blob_open(s, bad[i]) == -1 && errno == EINVAL);
        CHECK(nb_blob_unlink(s, bad[i]) == -1 && errno == EINVAL);
    }
    CHECK(!nb_blob_id_valid(NULL));
    CHECK(nb_blob_unlink(s, b) == 0);
    nb_blob_store_close(s);
    nb_blob_store_close(NULL);
}

struct refs {
    const char *keep[4];
    int calls;
};

static int is_ref(const char *id, void *arg)
{
    struct refs *r = arg;
    r->calls++;
    for (int i = 0; i < 4 && r->keep[i]; i++)
        if (strcmp(r->keep[i], id) == 0) return 1;
    return 0;
}

static int failing_ref(const char *id, void *arg)
{
    return -1;
}

static void test_scan(void)
{
    nb_blob_store *s = nb_blob_store_open(dir, NULL);
    char kept[NB_BLOB_ID_LEN + 1], orphan[NB_BLOB_ID_LEN + 1], tmp[NB_BLOB_ID_LEN + 1];
    CHECK(put(s, "referenced", kept) == 0);
    CHECK(put(s, "nobody points here", orphan) == 0); /* crash before the metadata commit */
    int fd;
    CHECK(nb_blob_create(s, tmp, &fd) == 0); /* crash while writing */
    CHECK(write(fd, "partial", 7) == 7);
    close(fd);
    char rel[80];
    snprintf(rel, sizeof(rel), "%.2s/%s", kept, kept);
    age(rel);
    snprintf(rel, sizeof(rel), "%.2s/%s", orphan, orphan);
    age(rel);
    snprintf(rel, sizeof(rel), "%.2s/%s.tmp", tmp, tmp);
    age(rel);
    /* A foreign file is never touched. */
    char foreign[512];
    snprintf(foreign, sizeof(foreign), "%s/%.2s/README", dir, kept);
    FILE *f = fopen(foreign, "w");
    fputs("not a blob\n", f);
    fclose(f);
    nb_blob_store_close(s);

    /* "Restart". */
    s = nb_blob_store_open(dir, NULL);
    /* Written by this run after open: in flight, so the scan must leave it alone. */
    char fresh[NB_BLOB_ID_LEN + 1];
    CHECK(put(s, "just written, metadata not yet committed", fresh) == 0);
    char fresh_tmp[NB_BLOB_ID_LEN + 1];
    int ffd;
    CHECK(nb_blob_create(s, fresh_tmp, &ffd) == 0);

    /* An error from the reference check removes no blob (a stale temp seen before it may go:
     * temps need no reference check). */
    CHECK(nb_blob_scan(s, failing_ref, NULL) == -1);
    snprintf(rel, sizeof(rel), "%.2s/%s", orphan, orphan);
    CHECK(exists(rel));
    char tmprel[80];
    snprintf(tmprel, sizeof(tmprel), "%.2s/%s.tmp", tmp, tmp);
    long temps_left = exists(tmprel) ? 1 : 0;

    struct refs r = {{kept, NULL}, 0};
    CHECK(nb_blob_scan(s, is_ref, &r) == 1 + temps_left); /* the orphan and the stale temp */
    CHECK(r.calls == 2); /* asked about kept and orphan, not about temps or fresh files */
    read_back(s, kept, "referenced");
    CHECK(!exists(rel));
    snprintf(rel, sizeof(rel), "%.2s/%s.tmp", tmp, tmp);
    CHECK(!exists(rel));
    CHECK(access(foreign, F_OK) == 0);
    read_back(s, fresh, "just written, metadata not yet committed");
    CHECK(write(ffd, "ok", 2) == 2);
    CHECK(nb_blob_commit(s, ffd, fresh_tmp) == 0);
    read_back(s, fresh_tmp, "ok");
    CHECK(nb_blob_scan(s, is_ref, &r) == 0); /* nothing more to collect */

    /* Reset: everything goes, whatever its age. */
    CHECK(nb_blob_wipe(s) == 3);
    CHECK(nb_blob_open(s, kept) == -1);
    CHECK(nb_blob_open(s, fresh) == -1);
    CHECK(access(foreign, F_OK) == 0);
    unlink(foreign);
    nb_blob_store_close(s);
}

static void test_open_errors(void)
{
    char *err = NULL;
    CHECK(nb_blob_store_open("/proc/nonexistent/blobs", &err) == NULL);
    CHECK(err != NULL);
    free(err);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/nb-test-blob-%d/blobs", (int)getpid());
    char parent[128];
    snprintf(parent, sizeof(parent), "/tmp/nb-test-blob-%d", (int)getpid());
    CHECK(mkdir(parent, 0700) == 0);
    test_basic();
    test_scan();
    test_open_errors();
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", parent);
    CHECK(system(cmd) == 0);
    UNIT_DONE();
}
