/* test_checksum.c: S3 checksum algorithms against published check values and against what
 * botocore/awscrt compute (CRC32, CRC32C, SHA1, SHA256) or a bit-by-bit reference (CRC64NVME,
 * which botocore 1.29 lacks); incremental updates, both CRC32C paths, CRC combination. */
#include <stdlib.h>

#include "core/checksum.h"
#include "core/nb.h"
#include "unit.h"

uint32_t nb_crc32c_table(uint32_t crc, const void *p, size_t n);
uint64_t nb_crc64nvme_table(uint64_t crc, const void *p, size_t n);

static void test_check_values(void)
{
    /* The catalogue "check" values: CRC of the ASCII string "123456789". */
    CHECK(nb_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(nb_crc32c(0, "123456789", 9) == 0xE3069283u);
    CHECK(nb_crc32c_table(0, "123456789", 9) == 0xE3069283u);
    CHECK(nb_crc64nvme(0, "123456789", 9) == 0xAE8B14860A799888ull);
    CHECK(nb_crc32(0, "", 0) == 0 && nb_crc32c(0, "", 0) == 0 && nb_crc64nvme(0, "", 0) == 0);
}

/* Expected base64 values printed by botocore.httpchecksum (Crc32Checksum, CrtCrc32cChecksum,
 * Sha1Checksum, Sha256Checksum) and, for CRC64NVME, by a bit-at-a-time Python reference of the
 * reflected polynomial 0x9a6c9329ac4bc9b5 (see tools/sigv4_vectors.py). */
struct vec {
    int kind; /* 0 "", 1 "123456789", 2 "Hello, World!", 3 65536 'a' + 1000 'b', 4 0..255 x3 */
    const char *crc32, *crc32c, *crc64, *sha1, *sha256;
};
static const struct vec vecs[] = {
    {0, "AAAAAA==", "AAAAAA==", "AAAAAAAAAAA=", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
     "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
    {1, "y/Q5Jg==", "4waSgw==", "rosUhgp5mIg=", "98O8HYCOBHMq32eZZczDTKeuNEE=",
     "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
    {2, "7ErD0A==", "TVUQaA==", "1Km+Qyat0k0=", "CgqfKmdylCVXq1NV12r0Qvj2XgE=",
     "3/1gIbsr1bCvZ2KQgJ7DpTGR3YHH9wpLKGiKNiGCmG8="},
    {3, "51M+5g==", "0TygYA==", "afeEACFa51U=", "3ocXg+anPxaAMDQk3l2dxAO5F6g=",
     "xcuTaiCi/YvGB9Eoa5gwXMMIj7dBMkc7iEyCNXmGZ3E="},
    {4, "sMDfKg==", "n6KTsw==", "TvGSHFb1waY=", "rComTI7B9CMqQIVOgjm8Oml6sdI=",
     "86JaqTqi+7oo15JgU1u9al6w/BwkqLDwThK0hMHf42M="},
};

static unsigned char *make_input(int kind, size_t *n)
{
    unsigned char *p = malloc(70000);
    switch (kind) {
    case 0:
        *n = 0;
        break;
    case 1:
        memcpy(p, "123456789", *n = 9);
        break;
    case 2:
        memcpy(p, "Hello, World!", *n = 13);
        break;
    case 3:
        memset(p, 'a', 65536);
        memset(p + 65536, 'b', 1000);
        *n = 66536;
        break;
    default:
        for (int i = 0; i < 768; i++)
            p[i] = (unsigned char)i;
        *n = 768;
    }
    return p;
}

static void test_botocore_values(void)
{
    for (size_t i = 0; i < NB_ARRAY_LEN(vecs); i++) {
        size_t n;
        unsigned char *in = make_input(vecs[i].kind, &n);
        const char *want[] = {vecs[i].crc32, vecs[i].crc32c, vecs[i].crc64, vecs[i].sha1,
                              vecs[i].sha256};
        for (int a = 0; a < 5; a++) {
            char out[NB_CKSUM_MAX_B64];
            CHECK(nb_cksum_b64((nb_cksum_algo)a, in, n, out) == 0);
            CHECK_STR(out, want[a]);
            /* Fed in odd-sized pieces, the result is the same. */
            nb_cksum c;
            CHECK(nb_cksum_init(&c, (nb_cksum_algo)a) == 0);
            size_t off = 0, step = 1;
            while (off < n) {
                size_t take = n - off < step ? n - off : step;
                nb_cksum_update(&c, in + off, take);
                off += take;
                step = step * 3 + 1;
            }
            unsigned char raw[NB_CKSUM_MAX_RAW];
            size_t len = nb_cksum_final(&c, raw);
            CHECK(len == nb_cksum_len((nb_cksum_algo)a));
            nb_cksum_to_b64(raw, len, out);
            CHECK_STR(out, want[a]);
        }
        free(in);
    }
    char md5[NB_CKSUM_MAX_B64];
    CHECK(nb_cksum_b64(NB_CKSUM_MD5, "", 0, md5) == 0);
    CHECK_STR(md5, "1B2M2Y8AsgTpgAmY7PhCfg=="); /* Content-MD5 of an empty body */
}

/* The hardware and table CRC32C must agree for every length and alignment. */
static void test_crc32c_paths(void)
{
    unsigned char buf[300];
    for (int i = 0; i < 300; i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    int bad = 0;
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off <= 300; n += 7)
            if (nb_crc32c(0, buf + off, n) != nb_crc32c_table(0, buf + off, n)) bad++;
    CHECK(bad == 0);
}

/* The hardware path runs three interleaved streams over 3 x 8 KiB and 3 x 256 bytes and joins
 * them: lengths on and around those steps, at every alignment, fed whole or in pieces, must
 * give the table path's value (and a CRC of 1 MiB of zeros, a known value). */
static void test_crc32c_long(void)
{
    enum { N = 3 * 8192 * 2 + 3 * 256 * 3 + 64 };
    unsigned char *buf = malloc(N + 16);
    uint32_t x = 0x12345678u;
    for (int i = 0; i < N + 16; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 23);
    }
    size_t lens[] = {0,     1,     7,     8,     255,   256,   767,   768,   769,   1543,
                     1544,  2311,  24575, 24576, 24577, 24583, 25344, 25345, 26111, 49151,
                     49152, 49153, 49920, 51455, 51456, 51457, N - 8, N};
    int bad = 0;
    for (size_t off = 0; off < 16; off++)
        for (size_t i = 0; i < NB_ARRAY_LEN(lens); i++) {
            size_t n = lens[i] + off <= N + 16 ? lens[i] : N + 16 - off;
            uint32_t want = nb_crc32c_table(0, buf + off, n);
            if (nb_crc32c(0, buf + off, n) != want) bad++;
            /* incremental, cut at an odd point: the second piece starts unaligned */
            size_t cut = n / 3 + (off & 1);
            if (cut > n) cut = n;
            if (nb_crc32c(nb_crc32c(0, buf + off, cut), buf + off + cut, n - cut) != want) bad++;
            /* a non-zero starting value enters the first stream */
            if (nb_crc32c(0xdeadbeefu, buf + off, n) != nb_crc32c_table(0xdeadbeefu, buf + off, n))
                bad++;
        }
    CHECK(bad == 0);
    free(buf);
    unsigned char *zero = calloc(1, 1 << 20);
    CHECK(nb_crc32c(0, zero, 1 << 20) == nb_crc32c_table(0, zero, 1 << 20));
    CHECK(nb_crc32c(0, zero, 32) == 0x8a9136aau); /* RFC 3720 B.4: 32 bytes of zeros */
    memset(zero, 0xff, 32);
    CHECK(nb_crc32c(0, zero, 32) == 0x62a8ab43u); /* RFC 3720 B.4: 32 bytes of 0xff */
    free(zero);
}

static void test_combine(void)
{
    unsigned char buf[5000];
    for (int i = 0; i < 5000; i++)
        buf[i] = (unsigned char)(i * 31 + 17);
    size_t splits[] = {0, 1, 7, 8, 100, 4096, 4999, 5000};
    for (size_t i = 0; i < NB_ARRAY_LEN(splits); i++) {
        size_t s = splits[i];
        CHECK(nb_cksum_crc_combine(NB_CKSUM_CRC32, nb_crc32(0, buf, s),
                                   nb_crc32(0, buf + s, 5000 - s),
                                   5000 - s) == nb_crc32(0, buf, 5000));
        CHECK(nb_cksum_crc_combine(NB_CKSUM_CRC32C, nb_crc32c(0, buf, s),
                                   nb_crc32c(0, buf + s, 5000 - s),
                                   5000 - s) == nb_crc32c(0, buf, 5000));
        CHECK(nb_cksum_crc_combine(NB_CKSUM_CRC64NVME, nb_crc64nvme(0, buf, s),
                                   nb_crc64nvme(0, buf + s, 5000 - s),
                                   5000 - s) == nb_crc64nvme(0, buf, 5000));
    }
}

static void test_names(void)
{
    CHECK(nb_cksum_algo_from_header("x-amz-checksum-crc32", 20) == NB_CKSUM_CRC32);
    CHECK(nb_cksum_algo_from_header("X-Amz-Checksum-CRC32C", 21) == NB_CKSUM_CRC32C);
    CHECK(nb_cksum_algo_from_header("x-amz-checksum-crc64nvme", 24) == NB_CKSUM_CRC64NVME);
    CHECK(nb_cksum_algo_from_header("x-amz-checksum-sha1", 19) == NB_CKSUM_SHA1);
    CHECK(nb_cksum_algo_from_header("x-amz-checksum-sha256", 21) == NB_CKSUM_SHA256);
    CHECK(nb_cksum_algo_from_header("x-amz-checksum-md5", 18) == NB_CKSUM_NONE);
    CHECK(nb_cksum_algo_from_header("x-amz-checksum-crc3", 19) == NB_CKSUM_NONE);
    CHECK(nb_cksum_algo_from_name("crc64nvme", 9) == NB_CKSUM_CRC64NVME);
    CHECK(nb_cksum_algo_from_name("SHA256", 6) == NB_CKSUM_SHA256);
    CHECK(nb_cksum_algo_from_name("MD5", 3) == NB_CKSUM_NONE);
    CHECK_STR(nb_cksum_name(NB_CKSUM_CRC32C), "CRC32C");
    CHECK_STR(nb_cksum_header(NB_CKSUM_SHA1), "x-amz-checksum-sha1");
    CHECK(nb_cksum_len(NB_CKSUM_CRC64NVME) == 8 && nb_cksum_len(NB_CKSUM_NONE) == 0);
    nb_cksum c;
    CHECK(nb_cksum_init(&c, NB_CKSUM_NONE) < 0);
    CHECK(nb_cksum_init(&c, NB_CKSUM_SHA256) == 0);
    nb_cksum_free(&c);
    nb_cksum_free(&c); /* idempotent */
}

/* CRC64NVME folds 64-byte blocks with carry-less multiplication from 256 bytes on: every
 * length around the block and lane steps, at every alignment, whole, in pieces and from a
 * non-zero start, must give the table path's value. */
static void test_crc64_paths(void)
{
    enum { N = 70000 };
    unsigned char *buf = malloc(N + 16);
    uint32_t x = 0x9e3779b9u;
    for (int i = 0; i < N + 16; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 23);
    }
    int bad = 0;
    for (size_t off = 0; off < 16; off++) {
        for (size_t n = 0; n < 1200; n++) {
            uint64_t want = nb_crc64nvme_table(0, buf + off, n);
            if (nb_crc64nvme(0, buf + off, n) != want) bad++;
            size_t cut = n / 3 + (off & 1);
            if (cut > n) cut = n;
            if (nb_crc64nvme(nb_crc64nvme(0, buf + off, cut), buf + off + cut, n - cut) != want)
                bad++;
            if (nb_crc64nvme(0x0123456789abcdefull, buf + off, n) !=
                nb_crc64nvme_table(0x0123456789abcdefull, buf + off, n))
                bad++;
        }
        if (nb_crc64nvme(0, buf + off, N) != nb_crc64nvme_table(0, buf + off, N)) bad++;
    }
    CHECK(bad == 0);
    free(buf);
    unsigned char *zero = calloc(1, 1 << 20);
    CHECK(nb_crc64nvme(0, zero, 1 << 20) == nb_crc64nvme_table(0, zero, 1 << 20));
    memset(zero, 0xff, 1 << 20);
    CHECK(nb_crc64nvme(0, zero, 1 << 20) == nb_crc64nvme_table(0, zero, 1 << 20));
    free(zero);
}

int main(void)
{
    test_crc64_paths();
    test_check_values();
    test_botocore_values();
    test_crc32c_paths();
    test_crc32c_long();
    test_combine();
    test_names();
    UNIT_DONE();
}
