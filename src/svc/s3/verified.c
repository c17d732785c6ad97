/* verified.c: which blocks of which content files were checked while they sat in memory.
 *
 * The per-block CRC32C guards against what happens to bytes on disk. Once a block has been
 * read into the page cache and checked there, checking the same memory again on every GET
 * guards against nothing the first check did not (ZFS's ARC and Ceph's BlueStore work the
 * same way: checked when read from the device, not on every cache hit). So a block checked
 * here is not checked again while all of these hold:
 *   - its pages have stayed in the page cache (all resident now: pages evicted since would
 *     come back from disk, and are checked again);
 *   - the file is the same: same inode, size, ctime and mtime (any write to the file, the
 *     flipped-byte tests' included, changes them);
 *   - the check is less than FRESH_S seconds old, which bounds what a page evicted and
 *     read back between two residency looks could do.
 * What a PUT writes is marked as checked too (nb_s3_writer_finish): its table was computed
 * from the very bytes that went into the page cache. Content files never change after they
 * are written, so none of this is about our own writes. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "svc/s3/content.h"

enum { VFILES = 128, FRESH_S = 60 };

struct vfile {
    char id[64];
    nb_s3_ident ident;
    int64_t since; /* monotonic seconds of the oldest check in bits (0 = unused) */
    uint64_t used; /* for replacement: the least recently used entry goes */
    int64_t nblocks;
    uint64_t *bits;
};

static struct vfile vfiles[VFILES];
static uint64_t vtick;
static pthread_mutex_t vmu = PTHREAD_MUTEX_INITIALIZER;

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec + 1; /* never 0 */
}

int nb_s3_ident_of(int fd, nb_s3_ident *out)
{
    struct stat st;
    if (fstat(fd, &st) < 0) return -1;
    memset(out, 0, sizeof *out);
    out->dev = (uint64_t)st.st_dev;
    out->ino = (uint64_t)st.st_ino;
    out->size = (int64_t)st.st_size;
    out->ctime_s = (int64_t)st.st_ctim.tv_sec;
    out->ctime_ns = (int64_t)st.st_ctim.tv_nsec;
    out->mtime_s = (int64_t)st.st_mtim.tv_sec;
    out->mtime_ns = (int64_t)st.st_mtim.tv_nsec;
    return 0;
}

static bool same_ident(const nb_s3_ident *a, const nb_s3_ident *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->ctime_s == b->ctime_s && a->ctime_ns == b->ctime_ns && a->mtime_s == b->mtime_s &&
           a->mtime_ns == b->mtime_ns;
}

/* cachestat(2) (Linux 6.5): page-cache residency of a file range without mapping it. Older
 * kernels say ENOSYS, and then a throwaway mapping and mincore(2) tell the same. */
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
struct nb_cachestat_range {
    uint64_t off, len;
};
struct nb_cachestat {
    uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

static bool resident(int fd, int64_t off, int64_t len)
{
    static int no_cachestat;
    long page = sysconf(_SC_PAGESIZE);
    int64_t first = off / page, last = (off + len - 1) / page;
    uint64_t pages = (uint64_t)(last - first + 1);
    if (!__atomic_load_n(&no_cachestat, __ATOMIC_RELAXED)) {
        struct nb_cachestat_range r = {(uint64_t)(first * page), pages * (uint64_t)page};
        struct nb_cachestat cs;
        if (syscall(__NR_cachestat, fd, &r, &cs, 0) == 0) return cs.nr_cache >= pages;
        if (errno != ENOSYS && errno != EPERM) return false;
        __atomic_store_n(&no_cachestat, 1, __ATOMIC_RELAXED);
    }
    size_t n = (size_t)pages * (size_t)page;
    void *m = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, (off_t)(first * page));
    if (m == MAP_FAILED) return false;
    unsigned char vec[4096];
    bool all = pages <= sizeof vec && mincore(m, n, vec) == 0;
    for (uint64_t i = 0; all && i < pages; i++)
        if (!(vec[i] & 1)) all = false;
    munmap(m, n);
    return all;
}

static struct vfile *find(const char *id)
{
    for (int i = 0; i < VFILES; i++)
        if (vfiles[i].since && strcmp(vfiles[i].id, id) == 0) return &vfiles[i];
    return NULL;
}

bool nb_s3_verified_has(int fd, const char *id, const nb_s3_ident *now, int64_t block)
{
    bool hit = false;
    pthread_mutex_lock(&vmu);
    struct vfile *v = find(id);
    if (v && same_ident(&v->ident, now) && mono_s() - v->since < FRESH_S && block >= 0 &&
        block < v->nblocks && (v->bits[block / 64] >> (block % 64) & 1)) {
        hit = true;
        v->used = ++vtick;
    }
    pthread_mutex_unlock(&vmu);
    if (!hit) return false;
    int64_t off = block * NB_S3_BLOCK;
    int64_t len = now->size - off < NB_S3_BLOCK ? now->size - off : NB_S3_BLOCK;
    return len > 0 && resident(fd, off, len);
}

void nb_s3_verified_mark(const char *id, const nb_s3_ident *before, int64_t b0, int64_t b1)
{
    int64_t nblocks = (before->size + NB_S3_BLOCK - 1) / NB_S3_BLOCK;
    if (b1 >= nblocks) b1 = nblocks - 1;
    if (strlen(id) >= sizeof vfiles[0].id || b0 < 0 || b0 > b1) return;
    int64_t now = mono_s();
    pthread_mutex_lock(&vmu);
    struct vfile *v = find(id);
    if (v && (!same_ident(&v->ident, before) || now - v->since >= FRESH_S)) {
        free(v->bits); /* changed, or too old: start over */
        v->bits = NULL;
        v->since = 0;
        v = NULL;
    }
    if (!v) {
        v = &vfiles[0];
        for (int i = 1; i < VFILES && v->since; i++)
            if (!vfiles[i].since || vfiles[i].used < v->used) v = &vfiles[i];
        free(v->bits);
        memset(v, 0, sizeof *v);
        v->bits = calloc((size_t)(nblocks + 63) / 64, sizeof *v->bits);
        if (!v->bits) {
            pthread_mutex_unlock(&vmu);
            return;
        }
        strcpy(v->id, id);
        v->ident = *before;
        v->nblocks = nblocks;
        v->since = now;
    }
    for (int64_t b = b0; b <= b1; b++)
        v->bits[b / 64] |= (uint64_t)1 << (b % 64);
    v->used = ++vtick;
    pthread_mutex_unlock(&vmu);
}
