/* test_s3_verified.c: a block checked in memory is not checked again only while its pages stay
 * in the page cache and the file is unchanged: a write to the file, or its pages dropped from
 * the cache (so the next read comes from disk), make it a miss. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "svc/s3/content.h"
#include "unit.h"

static bool all_resident(int fd, size_t n)
{
    void *m = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return false;
    unsigned char vec[1024];
    bool all = n / 4096 <= sizeof vec && mincore(m, n, vec) == 0;
    for (size_t i = 0; all && i < (n + 4095) / 4096; i++)
        all = vec[i] & 1;
    munmap(m, n);
    return all;
}

int main(void)
{
    char path[] = "/var/tmp/nimbus-verified-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) UNIT_DONE();
    unlink(path);
    size_t size = 2 * (size_t)NB_S3_BLOCK + 100;
    char *data = malloc(size);
    for (size_t i = 0; i < size; i++)
        data[i] = (char)(i * 7);
    CHECK(write(fd, data, size) == (ssize_t)size);
    CHECK(fsync(fd) == 0);
    const char *id = "0123456789abcdef0123456789abcdef";

    nb_s3_ident before, now;
    CHECK(nb_s3_ident_of(fd, &before) == 0);
    CHECK(before.size == (int64_t)size);
    CHECK(!nb_s3_verified_has(fd, id, &before, 0)); /* never checked */
    nb_s3_verified_mark(id, &before, 0, 0);
    nb_s3_verified_mark(id, &before, 2, 2); /* the short last block */
    CHECK(nb_s3_ident_of(fd, &now) == 0);
    CHECK(nb_s3_verified_has(fd, id, &now, 0));
    CHECK(nb_s3_verified_has(fd, id, &now, 2));
    CHECK(!nb_s3_verified_has(fd, id, &now, 1));    /* not checked */
    CHECK(!nb_s3_verified_has(fd, id, &now, 3));    /* past the end */
    CHECK(!nb_s3_verified_has(fd, "other", &now, 0)); /* another file */

    /* pages dropped from the cache: the next read comes from disk and must be checked */
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    if (!all_resident(fd, size)) {
        CHECK(!nb_s3_verified_has(fd, id, &now, 0));
        CHECK(!nb_s3_verified_has(fd, id, &now, 2));
    } else {
        fprintf(stderr, "test_s3_verified: pages stayed resident (tmpfs?): eviction not tested\n");
    }
    char *back = malloc(size);
    CHECK(pread(fd, back, size, 0) == (ssize_t)size); /* read back in */
    free(back);
    CHECK(nb_s3_ident_of(fd, &now) == 0);
    nb_s3_verified_mark(id, &now, 0, INT64_MAX);
    CHECK(nb_s3_verified_has(fd, id, &now, 0));

    /* a write to the file (one byte, rewritten with the same value even) is a change */
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK(pwrite(fd, data + 5, 1, 5) == 1);
    CHECK(nb_s3_ident_of(fd, &now) == 0);
    CHECK(!nb_s3_verified_has(fd, id, &now, 0));
    /* marked with what was read before the write: still a miss for the file as it is now */
    nb_s3_verified_mark(id, &before, 0, 0);
    CHECK(!nb_s3_verified_has(fd, id, &now, 0));

    free(data);
    close(fd);
    UNIT_DONE();
}
