/* checksum.h: incremental checksums of S3's flexible-checksum family (CRC32, CRC32C,
 * CRC64NVME, SHA1, SHA256) and MD5, with the wire forms S3 uses (base64 of the big-endian
 * value for CRCs, of the digest for hashes) and CRC combination for multipart objects. */
#ifndef NB_CORE_CHECKSUM_H
#define NB_CORE_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"

typedef enum nb_cksum_algo {
    NB_CKSUM_NONE = -1,
    NB_CKSUM_CRC32 = 0,
    NB_CKSUM_CRC32C,
    NB_CKSUM_CRC64NVME,
    NB_CKSUM_SHA1,
    NB_CKSUM_SHA256,
    NB_CKSUM_MD5,
} nb_cksum_algo;

#define NB_CKSUM_COUNT 6
#define NB_CKSUM_MAX_RAW 32 /* longest raw digest (SHA-256) */
#define NB_CKSUM_MAX_B64 45 /* base64 of 32 bytes + NUL */

/* Running state, all inline (no allocation): CRCs in crc, digests in their context. */
typedef struct nb_cksum {
    nb_cksum_algo algo;
    uint64_t crc;
    union {
        nb_sha256_ctx sha256;
        nb_sha1_ctx sha1;
        nb_md5_ctx md5;
    } ctx;
} nb_cksum;

/* Start a checksum. Returns 0, or -1 when the algorithm is unknown. */
int nb_cksum_init(nb_cksum *c, nb_cksum_algo algo);
void nb_cksum_update(nb_cksum *c, const void *p, size_t n);
/* Finish into out (NB_CKSUM_MAX_RAW bytes), returns the raw length (4, 8, 20, 32 or 16) or 0
 * for an unstarted state. CRCs are written big-endian, as S3 transmits them. */
size_t nb_cksum_final(nb_cksum *c, unsigned char out[NB_CKSUM_MAX_RAW]);
/* Drop a state without finishing (idempotent; nothing to release, kept for symmetry). */
void nb_cksum_free(nb_cksum *c);
/* One-shot: base64 of the checksum of p[0..n) into out (NB_CKSUM_MAX_B64). Returns 0 / -1. */
int nb_cksum_b64(nb_cksum_algo algo, const void *p, size_t n, char out[NB_CKSUM_MAX_B64]);
/* Base64 of a raw digest (out NB_CKSUM_MAX_B64, NUL-terminated). Returns its length. */
size_t nb_cksum_to_b64(const unsigned char *raw, size_t n, char out[NB_CKSUM_MAX_B64]);

/* Raw digest length of an algorithm (0 for NB_CKSUM_NONE). */
size_t nb_cksum_len(nb_cksum_algo algo);
/* "x-amz-checksum-crc32" ... (lowercase header names). */
const char *nb_cksum_header(nb_cksum_algo algo);
/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "MD5" (S3's ChecksumAlgorithm values). */
const char *nb_cksum_name(nb_cksum_algo algo);
/* Header name (case-insensitive, "x-amz-checksum-crc32c") to algorithm; NB_CKSUM_NONE if it is
 * not one of S3's checksum headers (x-amz-checksum-md5 does not exist, so MD5 never matches). */
nb_cksum_algo nb_cksum_algo_from_header(const char *name, size_t n);
/* ChecksumAlgorithm value (case-insensitive "crc32", "CRC64NVME") to algorithm; NB_CKSUM_NONE
 * if unknown. MD5 is not an S3 checksum algorithm and is refused here too. */
nb_cksum_algo nb_cksum_algo_from_name(const char *name, size_t n);
/* Is this a CRC (combinable, used for S3's FULL_OBJECT multipart checksums)? */
bool nb_cksum_is_crc(nb_cksum_algo algo);

/* Raw CRC primitives, zlib style: start with crc = 0, feed pieces, the value is final. */
uint32_t nb_crc32(uint32_t crc, const void *p, size_t n);
uint32_t nb_crc32c(uint32_t crc, const void *p, size_t n);
uint64_t nb_crc64nvme(uint64_t crc, const void *p, size_t n);
/* CRC of A||B from crc(A), crc(B) and len(B), without the data (S3 full-object multipart). */
uint64_t nb_cksum_crc_combine(nb_cksum_algo algo, uint64_t crc_a, uint64_t crc_b, uint64_t len_b);

#endif
