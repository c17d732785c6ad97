/* content.h: S3 object content: files named by random ids under <data_dir>/blobs/, written
 * once and never modified, each covered by an integrity table that is verified on every read.
 *
 * Integrity table ("crcs", stored in the metadata row next to the file id):
 *   byte 0   algorithm (1 = CRC32C)
 *   byte 1   log2 of the block size (20: 1 MiB blocks)
 *   then     one big-endian u32 CRC per block; the last block may be short.
 * Why blocks: a range read verifies only the blocks it touches (at most 2 MiB of extra reading
 * for any range), a large GET verifies as it sends (memory flat), and the table costs 4 bytes
 * per MiB in SQLite. See README.md "Integrity" for the read paths. */
#ifndef NB_SVC_S3_CONTENT_H
#define NB_SVC_S3_CONTENT_H

#include <openssl/evp.h>

#include "core/checksum.h"
#include "core/nb.h"

#define NB_S3_BLOCK_SHIFT 20
#define NB_S3_BLOCK ((int64_t)1 << NB_S3_BLOCK_SHIFT)
#define NB_S3_CRC_ALGO_CRC32C 1

typedef struct nb_s3_content nb_s3_content;

nb_s3_content *nb_s3_content_open(const char *dir, char **err);
void nb_s3_content_close(nb_s3_content *c);
/* Remove every file for which referenced(ud, id) is false (referenced NULL: every file), and
 * leftover temporary files. Returns the count removed. Start-up and reset only. */
size_t nb_s3_content_scan(nb_s3_content *c, bool (*referenced)(void *ud, const char *id),
                          void *ud);
void nb_s3_content_unlink(nb_s3_content *c, const char *id);
/* Open a content file for reading; -1 (errno ENOENT when it is gone). */
int nb_s3_content_openfd(nb_s3_content *c, const char *id);

/* Writing one content file: MD5 (the ETag), the integrity table, and optionally one of S3's
 * checksums are computed as bytes pass. */
typedef struct nb_s3_writer {
    nb_s3_content *c;
    int fd;
    char id[33];
    int64_t size;
    EVP_MD_CTX *md5;
    nb_cksum ck; /* client checksum, algo NB_CKSUM_NONE when not asked */
    uint32_t block_crc;
    int64_t block_fill;
    nb_buf crcs;
    char *buf; /* write coalescing */
    size_t buf_len;
} nb_s3_writer;

/* Create a new file. ck_algo: NB_CKSUM_NONE or the checksum to compute. 0 / -1 (logged). */
int nb_s3_writer_open(nb_s3_content *c, nb_s3_writer *w, nb_cksum_algo ck_algo);
int nb_s3_writer_write(nb_s3_writer *w, const void *p, size_t n);
/* Flush, fsync the file and its directory: afterwards the file survives a crash (but is only
 * reachable once metadata naming it commits). Outputs md5 and the client checksum (raw,
 * ck_len bytes, may be NULL); the integrity table is w->crcs (freed by writer_free). */
int nb_s3_writer_finish(nb_s3_writer *w, unsigned char md5[16], unsigned char *ck,
                        size_t *ck_len);
/* Close; with discard, remove the file (failed or refused upload). Frees everything. */
void nb_s3_writer_free(nb_s3_writer *w, bool discard);

/* Verify [off, off+len) of a content file against its table, reading whole blocks through
 * buf (bufsize >= NB_S3_BLOCK). Returns 0, or -1 on a mismatch or read error (logged with
 * the file id). */
int nb_s3_content_verify(int fd, const char *id, const unsigned char *crcs, size_t crcs_len,
                         int64_t size, int64_t off, int64_t len, char *buf, size_t bufsize);
/* Read [off, off+len) into out, verifying the covering blocks (reads them whole into
 * scratch, >= NB_S3_BLOCK bytes). 0 / -1 as above. */
int nb_s3_content_read(int fd, const char *id, const unsigned char *crcs, size_t crcs_len,
                       int64_t size, int64_t off, int64_t len, char *out, char *scratch);
/* A table well-formed for a file of size bytes? */
bool nb_s3_crcs_valid(const unsigned char *crcs, size_t crcs_len, int64_t size);

#endif
