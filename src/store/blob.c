/* blob.c: content files named by random ids, written to a temp name, fsynced and renamed into
 * place, and collected at start when no metadata refers to them. */
#include "store/blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Crash safety. A blob goes through three states, each a different directory entry:
 *   1. <xx>/<id>.tmp   being written: no metadata refers to it;
 *   2. <xx>/<id>       committed: data fsynced *before* the rename, and the directory fsynced
 *                      *after* it, so once nb_blob_commit returns both the bytes and the name are
 *                      on disk; rename is atomic, so the final name never shows a partial file;
 *   3. referenced      the caller's metadata commit (durable too) names the id.
 * The caller commits metadata only after nb_blob_commit returned, so metadata never points to a
 * missing or torn file. A crash in state 1 leaves a .tmp, in state 2 an unreferenced file: both
 * are removed by nb_blob_scan at the next start. Replacing an object writes a new id and removes
 * the old file only after the metadata commit, so a crash leaves the old or the new version,
 * whole. A new <xx> directory is fsynced into the top directory before a file is put in it. */

struct nb_blob_store {
    char *dir;
    int dirfd;
    struct timespec opened; /* files modified after this belong to this process's writes */
};

bool nb_blob_id_valid(const char *id)
{
    if (!id) return false;
    size_t i;
    for (i = 0; i < NB_BLOB_ID_LEN; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return false;
    return id[i] == 0;
}

/* "<xx>/<id><suffix>", relative to the store's directory fd. */
static void rel_name(const char *id, const char *suffix, char out[NB_BLOB_ID_LEN + 16])
{
    snprintf(out, NB_BLOB_ID_LEN + 16, "%.2s/%s%s", id, id, suffix);
}

nb_blob_store *nb_blob_store_open(const char *dir, char **err)
{
    if (err) *err = NULL;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) goto fail;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) goto fail;
    nb_blob_store *s = nb_xcalloc(1, sizeof(*s));
    s->dir = nb_xstrdup(dir);
    s->dirfd = fd;
    /* File times come from the kernel's coarse clock (a tick behind), so the boundary sits a
     * couple of seconds early: a file of the previous run written just before a fast restart is
     * then kept until the next scan, which is harmless; a file of ours is never removed. */
    clock_gettime(CLOCK_REALTIME, &s->opened);
    s->opened.tv_sec -= 2;
    return s;
fail:
    if (err) {
        nb_buf b;
        nb_buf_init(&b);
        nb_buf_printf(&b, "%s: %s", dir, strerror(errno));
        *err = nb_buf_steal(&b, NULL);
    }
    return NULL;
}

void nb_blob_store_close(nb_blob_store *s)
{
    if (!s) return;
    close(s->dirfd);
    free(s->dir);
    free(s);
}

/* Make sure <xx> exists; when we create it, fsync the top directory so the new entry is
 * durable before any committed file inside it depends on it. */
static int ensure_subdir(nb_blob_store *s, const char *id)
{
    char sub[3] = {id[0], id[1], 0};
    if (mkdirat(s->dirfd, sub, 0700) == 0) return fsync(s->dirfd);
    return errno == EEXIST ? 0 : -1;
}

int nb_blob_create(nb_blob_store *s, char id_out[NB_BLOB_ID_LEN + 1], int *fd_out)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        nb_random_hex(id_out, NB_BLOB_ID_LEN);
        if (ensure_subdir(s, id_out) < 0) return -1;
        char name[NB_BLOB_ID_LEN + 16];
        rel_name(id_out, ".tmp", name);
        /* O_EXCL: 128 random bits never collide in practice, but never overwrite anyway. */
        int fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            *fd_out = fd;
            return 0;
        }
        if (errno != EEXIST) return -1;
    }
    errno = EEXIST;
    return -1;
}

int nb_blob_commit(nb_blob_store *s, int fd, const char *id)
{
    if (!nb_blob_id_valid(id)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    char tmp[NB_BLOB_ID_LEN + 16], fin[NB_BLOB_ID_LEN + 16], sub[3] = {id[0], id[1], 0};
    rel_name(id, ".tmp", tmp);
    rel_name(id, "", fin);
    int err = 0;
    if (fsync(fd) < 0) err = errno;
    close(fd);
    if (!err && renameat(s->dirfd, tmp, s->dirfd, fin) < 0) err = errno;
    if (!err) {
        int dfd = openat(s->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0) err = errno;
        if (dfd >= 0) close(dfd);
        if (err) {
            /* The name may or may not be durable: the caller will not reference it, so remove
             * it now rather than leave it to the scan. */
            unlinkat(s->dirfd, fin, 0);
            errno = err;
            return -1;
        }
        return 0;
    }
    unlinkat(s->dirfd, tmp, 0);
    errno = err;
    return -1;
}

void nb_blob_abort(nb_blob_store *s, int fd, const char *id)
{
    if (fd >= 0) close(fd);
    if (!nb_blob_id_valid(id)) return;
    char tmp[NB_BLOB_ID_LEN + 16];
    rel_name(id, ".tmp", tmp);
    unlinkat(s->dirfd, tmp, 0);
}

int nb_blob_open(nb_blob_store *s, const char *id)
{
    if (!nb_blob_id_valid(id)) {
        errno = EINVAL;
        return -1;
    }
    char fin[NB_BLOB_ID_LEN + 16];
    rel_name(id, "", fin);
    return openat(s->dirfd, fin, O_RDONLY | O_CLOEXEC);
}

int nb_blob_unlink(nb_blob_store *s, const char *id)
{
    if (!nb_blob_id_valid(id)) {
        errno = EINVAL;
        return -1;
    }
    char fin[NB_BLOB_ID_LEN + 16];
    rel_name(id, "", fin);
    return unlinkat(s->dirfd, fin, 0);
}

int nb_blob_path(nb_blob_store *s, const char *id, char *out, size_t n)
{
    if (!nb_blob_id_valid(id)) return -1;
    int m = snprintf(out, n, "%s/%.2s/%s", s->dir, id, id);
    return m < 0 || (size_t)m >= n ? -1 : 0;
}

int64_t nb_blob_size(nb_blob_store *s, const char *id)
{
    if (!nb_blob_id_valid(id)) {
        errno = EINVAL;
        return -1;
    }
    char fin[NB_BLOB_ID_LEN + 16];
    rel_name(id, "", fin);
    struct stat st;
    if (fstatat(s->dirfd, fin, &st, 0) < 0) return -1;
    return (int64_t)st.st_size;
}

static bool is_hex2(const char *n)
{
    for (int i = 0; i < 2; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f'))) return false;
    return n[2] == 0;
}

static bool newer_than(const struct stat *st, const struct timespec *t)
{
    return st->st_mtim.tv_sec > t->tv_sec ||
           (st->st_mtim.tv_sec == t->tv_sec && st->st_mtim.tv_nsec >= t->tv_nsec);
}

static long scan(nb_blob_store *s, int (*is_referenced)(const char *id, void *arg), void *arg,
                 bool all)
{
    int top = dup(s->dirfd);
    if (top < 0) return -1;
    DIR *d = fdopendir(top);
    if (!d) {
        close(top);
        return -1;
    }
    rewinddir(d);
    long removed = 0;
    bool failed = false;
    struct dirent *e;
    while (!failed && (e = readdir(d))) {
        if (!is_hex2(e->d_name)) continue;
        int sfd = openat(s->dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0) continue;
        DIR *sd = fdopendir(sfd);
        if (!sd) {
            close(sfd);
            continue;
        }
        struct dirent *f;
        while ((f = readdir(sd))) {
            const char *n = f->d_name;
            size_t len = strlen(n);
            bool tmp = len == NB_BLOB_ID_LEN + 4 && strcmp(n + NB_BLOB_ID_LEN, ".tmp") == 0;
            char id[NB_BLOB_ID_LEN + 1];
            if (len < NB_BLOB_ID_LEN) continue;
            memcpy(id, n, NB_BLOB_ID_LEN);
            id[NB_BLOB_ID_LEN] = 0;
            if (!nb_blob_id_valid(id) || (!tmp && len != NB_BLOB_ID_LEN)) continue;
            if (memcmp(id, e->d_name, 2) != 0) continue; /* not ours: wrong directory */
            struct stat st;
            if (fstatat(sfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) continue;
            if (!all && newer_than(&st, &s->opened)) continue;
            if (!all && !tmp) {
                int r = is_referenced(id, arg);
                if (r < 0) {
                    failed = true;
                    break;
                }
                if (r) continue;
            }
            if (unlinkat(sfd, n, 0) == 0) {
                removed++;
                nb_debug("blob: removed %s %s/%s/%s", tmp ? "stale temp" : "orphan", s->dir,
                         e->d_name, n);
            }
        }
        closedir(sd);
    }
    closedir(d);
    if (failed) return -1;
    if (removed && !all) nb_info("blob: %s: collected %ld orphaned files", s->dir, removed);
    return removed;
}

long nb_blob_scan(nb_blob_store *s, int (*is_referenced)(const char *id, void *arg), void *arg)
{
    return scan(s, is_referenced, arg, false);
}

long nb_blob_wipe(nb_blob_store *s)
{
    return scan(s, NULL, NULL, true);
}
