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

#include "core/checksum.h"
#include "core/hash.h"
#include "core/nb.h"
#include "svc/s3/sse.h"

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

/* Small objects (up to NB_S3_INLINE_MAX bytes) are stored inline in the metadata database
 * (table object_data) instead of a file: the whole write is then one group commit, one fsync
 * shared with other writers, instead of fsyncs of the file and its directory plus the commit.
 * Their integrity table is the same as a file's (one block). */
#define NB_S3_INLINE_MAX ((int64_t)64 << 10)

/* Writing one content unit: MD5 (the ETag), the integrity table, and optionally one of S3's
 * checksums are computed as bytes pass; with encryption, MD5 and the client checksum cover
 * the plaintext and the integrity table the stored (encrypted) bytes. The file is created
 * only when the bytes outgrow inline_max (or at finish when inline is not allowed). */
typedef struct nb_s3_writer {
    nb_s3_content *c;
    int fd;
    char id[33];     /* "" while no file exists (and after finish for an inline unit) */
    int64_t size;
    int64_t inline_max; /* -1: always a file */
    nb_md5_ctx md5;
    nb_cksum ck; /* client checksum, algo NB_CKSUM_NONE when not asked */
    uint32_t block_crc;
    int64_t block_fill;
    nb_buf crcs;
    char *buf; /* write coalescing; after finish of an inline unit: its stored bytes */
    size_t buf_len;
    bool is_inline;          /* after finish: the bytes are buf[0..size), no file */
    bool encrypt;
    nb_s3_cipher cipher;
    unsigned char enc[NB_S3_ENC_MAX]; /* the unit's encryption record */
    size_t enc_len;
} nb_s3_writer;

/* Start a new unit. ck_algo: NB_CKSUM_NONE or the checksum to compute. inline_max: the
 * largest size kept inline (-1 = never: multipart parts). sse: NULL or the encryption to
 * apply (mode NB_S3_SSE_NONE = none). 0 / -1 (logged). */
int nb_s3_writer_start(nb_s3_content *c, nb_s3_writer *w, nb_cksum_algo ck_algo,
                       int64_t inline_max, const nb_s3_sse *sse);
/* The same as a plain file: never inline, not encrypted. */
int nb_s3_writer_open(nb_s3_content *c, nb_s3_writer *w, nb_cksum_algo ck_algo);
int nb_s3_writer_write(nb_s3_writer *w, const void *p, size_t n);
/* Finish: a file is flushed, fsynced and renamed into place with its directory fsynced:
 * afterwards it survives a crash (but is only reachable once metadata naming it commits); an
 * inline unit stays in w->buf (w->is_inline). Outputs md5 and the client checksum (raw,
 * ck_len bytes, may be NULL); the integrity table is w->crcs (freed by writer_free). */
int nb_s3_writer_finish(nb_s3_writer *w, unsigned char md5[16], unsigned char *ck,
                        size_t *ck_len);
/* Close; with discard, remove the file (failed or refused upload). Frees everything. */
void nb_s3_writer_free(nb_s3_writer *w, bool discard);

/* Verify the blocks covering [off, off+len) of a content file against its table, in place
 * through a mapping (buf, bufsize >= NB_S3_BLOCK, serves when a page cannot be mapped or
 * read: the blocks are then read through it; NULL: one is allocated if needed). Returns 0,
 * or -1 on a mismatch or read error (logged with the file id). */
int nb_s3_content_verify(int fd, const char *id, const unsigned char *crcs, size_t crcs_len,
                         int64_t size, int64_t off, int64_t len, char *buf, size_t bufsize);
/* A content file's id and integrity table, kept for checking a range block by block as it is
 * sent (nb_resp_sendfile_checked): nb_s3_check_next verifies the block holding off and
 * returns the bytes from off to its end (at most left), or -1 (logged). NULL from new: no
 * memory, or a malformed table (logged). */
typedef struct nb_s3_check nb_s3_check;
nb_s3_check *nb_s3_check_new(const char *id, const unsigned char *crcs, size_t crcs_len,
                             int64_t size);
int64_t nb_s3_check_next(void *check, int fd, off_t off, size_t left);
/* Drops a reference (the sender's: it is done with the range). */
void nb_s3_check_free(void *check);
/* A reference for a worker that will check ahead of the sender; take it before the range is
 * queued. nb_s3_check_ahead (on that worker, with its own fd) then checks blocks of
 * [from, to) a little in front of the send until the sender is done, and drops it; it
 * returns at once when enough workers already do this. */
void nb_s3_check_ref(nb_s3_check *k);
void nb_s3_check_ahead(nb_s3_check *k, int fd, int64_t from, int64_t to);
/* Blocks checked while in the page cache are not checked again while their pages stay
 * there, the file is unchanged and the check is under a minute old (verified.c says why).
 * nb_s3_ident_of reads what "unchanged" compares (fstat); take it before checking a block
 * and mark the block with it after; nb_s3_verified_has answers for the file as it is now. */
typedef struct {
    uint64_t dev, ino;
    int64_t size, ctime_s, ctime_ns, mtime_s, mtime_ns;
} nb_s3_ident;
int nb_s3_ident_of(int fd, nb_s3_ident *out);
bool nb_s3_verified_has(int fd, const char *id, const nb_s3_ident *now, int64_t block);
/* Marks blocks [b0, b1] (b1 past the end: to the end). */
void nb_s3_verified_mark(const char *id, const nb_s3_ident *before, int64_t b0, int64_t b1);
/* Read [off, off+len) into out, verifying the covering blocks (reads them whole into
 * scratch, >= NB_S3_BLOCK bytes). 0 / -1 as above. */
int nb_s3_content_read(int fd, const char *id, const unsigned char *crcs, size_t crcs_len,
                       int64_t size, int64_t off, int64_t len, char *out, char *scratch);
/* Check stored inline bytes against their table. 0, or -1 (logged with what). */
int nb_s3_inline_verify(const void *data, int64_t size, const unsigned char *crcs,
                        size_t crcs_len, const char *what);
/* A table well-formed for a file of size bytes? */
bool nb_s3_crcs_valid(const unsigned char *crcs, size_t crcs_len, int64_t size);

#endif
