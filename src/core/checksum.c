/* checksum.c: S3's checksum algorithms. CRC32 comes from zlib; CRC32C uses the SSE4.2 crc32
 * instruction (three interleaved streams) when the CPU has it, else slicing-by-8 tables;
 * CRC64NVME folds 64-byte blocks with carry-less multiplication (PCLMULQDQ) when the CPU has
 * it, else slicing-by-8;
 * SHA1/SHA256/MD5 go through core/hash (OpenSSL low-level digests, no EVP start-up). */
#include "core/checksum.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/nb.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#include <wmmintrin.h>
#endif

/* Reflected polynomials: CRC-32C (Castagnoli) and CRC-64/NVME (0xad93d23594c93659 reflected). */
#define POLY_CRC32 0xedb88320u
#define POLY_CRC32C 0x82f63b78u
#define POLY_CRC64NVME 0x9a6c9329ac4bc9b5ull

static uint32_t crc32c_tab[8][256];
static uint64_t crc64_tab[8][256];
static bool crc32c_hw, crc64_clmul;
/* CRC64NVME folding constants, reflected: x^(d+63) and x^(d-1) mod P for folding a 128-bit
 * lane forward by d = 512 bits (four lanes) and d = 128 bits (one lane) */
static uint64_t crc64_k512[2], crc64_k128[2];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* The crc32 instruction takes 3 cycles but a new one can start every cycle, so one stream
 * of them leaves the unit two-thirds idle. The hardware path runs three streams over
 * adjacent stretches of LONG (then SHORT) bytes and joins them: the CRC register after a
 * stretch of n bytes started from r is crc(0, stretch) ^ r * x^(8n) mod P, and that shift,
 * being linear in r, is four table lookups (one table per byte of r). */
#define CRC_LONG 8192
#define CRC_SHORT 256
static uint32_t crc32c_long[4][256], crc32c_short[4][256];

static uint64_t multmodp(uint64_t a, uint64_t b, uint64_t poly, unsigned w);
static uint64_t x8nmodp(uint64_t n, uint64_t poly, unsigned w);
static uint64_t xpowmodp(uint64_t e, uint64_t poly, unsigned w);

static void shift_table(uint32_t t[4][256], uint64_t len)
{
    uint64_t xn = x8nmodp(len, POLY_CRC32C, 32);
    for (unsigned k = 0; k < 4; k++)
        for (unsigned b = 0; b < 256; b++)
            t[k][b] = (uint32_t)multmodp(xn, (uint64_t)b << (8 * k), POLY_CRC32C, 32);
}

static inline uint32_t crc_shift(const uint32_t t[4][256], uint32_t c)
{
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static void tables_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint32_t c = i;
        uint64_t d = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ POLY_CRC32C : c >> 1;
            d = (d & 1) ? (d >> 1) ^ POLY_CRC64NVME : d >> 1;
        }
        crc32c_tab[0][i] = c;
        crc64_tab[0][i] = d;
    }
    for (unsigned i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            uint32_t c = crc32c_tab[t - 1][i];
            crc32c_tab[t][i] = (c >> 8) ^ crc32c_tab[0][c & 0xff];
            uint64_t d = crc64_tab[t - 1][i];
            crc64_tab[t][i] = (d >> 8) ^ crc64_tab[0][d & 0xff];
        }
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc32c_hw = __builtin_cpu_supports("sse4.2");
#endif
    if (crc32c_hw) {
        shift_table(crc32c_long, CRC_LONG);
        shift_table(crc32c_short, CRC_SHORT);
    }
#if defined(__x86_64__)
    crc64_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
    if (crc64_clmul) {
        crc64_k512[0] = xpowmodp(512 + 63, POLY_CRC64NVME, 64);
        crc64_k512[1] = xpowmodp(512 - 1, POLY_CRC64NVME, 64);
        crc64_k128[0] = xpowmodp(128 + 63, POLY_CRC64NVME, 64);
        crc64_k128[1] = xpowmodp(128 - 1, POLY_CRC64NVME, 64);
    }
}

/* Byte-wise little-endian loads keep the tables right on any host byte order. */
static inline uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t nb_crc32(uint32_t crc, const void *p, size_t n)
{
    return (uint32_t)crc32_z(crc, p, n);
}

#if defined(__x86_64__)
/* Three streams over stretches of len bytes each (p 8-byte aligned), joined into c. */
__attribute__((target("sse4.2"))) static inline uint64_t
crc32c_3way(uint64_t c, const unsigned char *p, size_t len, const uint32_t t[4][256])
{
    uint64_t c1 = 0, c2 = 0;
    for (const unsigned char *end = p + len; p < end; p += 8) {
        uint64_t a, b, d;
        memcpy(&a, p, 8);
        memcpy(&b, p + len, 8);
        memcpy(&d, p + 2 * len, 8);
        c = _mm_crc32_u64(c, a);
        c1 = _mm_crc32_u64(c1, b);
        c2 = _mm_crc32_u64(c2, d);
    }
    c = crc_shift(t, (uint32_t)c) ^ c1;
    return crc_shift(t, (uint32_t)c) ^ c2;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *p,
                                                               size_t n)
{
    uint64_t c = ~crc;
    while (n && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        n--;
    }
    for (; n >= 3 * CRC_LONG; p += 3 * CRC_LONG, n -= 3 * CRC_LONG)
        c = crc32c_3way(c, p, CRC_LONG, crc32c_long);
    for (; n >= 3 * CRC_SHORT; p += 3 * CRC_SHORT, n -= 3 * CRC_SHORT)
        c = crc32c_3way(c, p, CRC_SHORT, crc32c_short);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    while (n--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
#endif

static uint32_t crc32c_sw(uint32_t crc, const unsigned char *p, size_t n)
{
    uint32_t c = ~crc;
    while (n >= 8) {
        uint32_t lo = c ^ le32(p), hi = le32(p + 4);
        c = crc32c_tab[7][lo & 0xff] ^ crc32c_tab[6][(lo >> 8) & 0xff] ^
            crc32c_tab[5][(lo >> 16) & 0xff] ^ crc32c_tab[4][lo >> 24] ^ crc32c_tab[3][hi & 0xff] ^
            crc32c_tab[2][(hi >> 8) & 0xff] ^ crc32c_tab[1][(hi >> 16) & 0xff] ^
            crc32c_tab[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = crc32c_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

uint32_t nb_crc32c(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&tables_once, tables_init);
#if defined(__x86_64__)
    if (crc32c_hw) return crc32c_sse42(crc, p, n);
#endif
    return crc32c_sw(crc, p, n);
}

/* Exposed for the unit test, which checks that both CRC32C paths agree. */
uint32_t nb_crc32c_table(uint32_t crc, const void *p, size_t n);
uint32_t nb_crc32c_table(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&tables_once, tables_init);
    return crc32c_sw(crc, p, n);
}

/* The CRC64NVME register c (not inverted) after the bytes p[0..n), by tables. */
static uint64_t crc64_sw(uint64_t c, const unsigned char *p, size_t n)
{
    while (n >= 8) {
        uint64_t v = c ^ ((uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32);
        c = crc64_tab[7][v & 0xff] ^ crc64_tab[6][(v >> 8) & 0xff] ^
            crc64_tab[5][(v >> 16) & 0xff] ^ crc64_tab[4][(v >> 24) & 0xff] ^
            crc64_tab[3][(v >> 32) & 0xff] ^ crc64_tab[2][(v >> 40) & 0xff] ^
            crc64_tab[1][(v >> 48) & 0xff] ^ crc64_tab[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = crc64_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
/* Fold a 128-bit lane x (bytes little-endian: the low qword holds the higher-degree half L,
 * the high qword H) forward by d bits: L*x^(d+64) + H*x^d mod P, as a 128-bit lane. In the
 * reflected order a carry-less product of two 64-bit values is the polynomial product times
 * x, hence the constants x^(d+63) and x^(d-1). */
__attribute__((target("pclmul,sse4.1"))) static inline __m128i crc64_fold(__m128i x, __m128i k)
{
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* The register after the first n & ~15 bytes (n >= 64): four lanes folded 64 bytes at a time,
 * joined, then one lane; the last lane's 16 bytes are congruent mod P to everything read, so
 * the tables finish from it. *p and *n advance past what was read. */
__attribute__((target("pclmul,sse4.1"))) static uint64_t
crc64_pclmul(uint64_t c, const unsigned char **pp, size_t *np)
{
    const unsigned char *p = *pp;
    size_t n = *np;
    __m128i k512 = _mm_set_epi64x((long long)crc64_k512[1], (long long)crc64_k512[0]);
    __m128i k128 = _mm_set_epi64x((long long)crc64_k128[1], (long long)crc64_k128[0]);
    __m128i x0 = _mm_loadu_si128((const __m128i *)p);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi64_si128((long long)c)); /* the register joins the data */
    p += 64;
    n -= 64;
    for (; n >= 64; p += 64, n -= 64) {
        x0 = _mm_xor_si128(crc64_fold(x0, k512), _mm_loadu_si128((const __m128i *)p));
        x1 = _mm_xor_si128(crc64_fold(x1, k512), _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = _mm_xor_si128(crc64_fold(x2, k512), _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = _mm_xor_si128(crc64_fold(x3, k512), _mm_loadu_si128((const __m128i *)(p + 48)));
    }
    __m128i x = _mm_xor_si128(crc64_fold(x0, k128), x1);
    x = _mm_xor_si128(crc64_fold(x, k128), x2);
    x = _mm_xor_si128(crc64_fold(x, k128), x3);
    for (; n >= 16; p += 16, n -= 16)
        x = _mm_xor_si128(crc64_fold(x, k128), _mm_loadu_si128((const __m128i *)p));
    unsigned char last[16];
    _mm_storeu_si128((__m128i *)last, x);
    *pp = p;
    *np = n;
    return crc64_sw(0, last, 16);
}
#endif

uint64_t nb_crc64nvme(uint64_t crc, const void *data, size_t n)
{
    pthread_once(&tables_once, tables_init);
    const unsigned char *p = data;
    uint64_t c = ~crc;
#if defined(__x86_64__)
    if (crc64_clmul && n >= 256) c = crc64_pclmul(c, &p, &n);
#endif
    return ~crc64_sw(c, p, n);
}

/* Exposed for the unit test, which checks that both CRC64NVME paths agree. */
uint64_t nb_crc64nvme_table(uint64_t crc, const void *p, size_t n);
uint64_t nb_crc64nvme_table(uint64_t crc, const void *p, size_t n)
{
    pthread_once(&tables_once, tables_init);
    return ~crc64_sw(~crc, p, n);
}

/* ---- CRC combination (zlib's multmodp/x2nmodp method, for any reflected CRC) ---- */

/* a * b modulo the polynomial, both in reflected representation of width w. */
static uint64_t multmodp(uint64_t a, uint64_t b, uint64_t poly, unsigned w)
{
    uint64_t m = (uint64_t)1 << (w - 1), p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ poly : b >> 1;
    }
    return p;
}

/* x^(8n) mod p: the factor that shifts a CRC register through n zero bytes. */
static uint64_t x8nmodp(uint64_t n, uint64_t poly, unsigned w)
{
    /* by squaring: x2n = x^(2^k), starting at x^8 (one byte) */
    uint64_t x2n = (uint64_t)1 << (w - 2); /* x^1 */
    for (int k = 0; k < 3; k++)
        x2n = multmodp(x2n, x2n, poly, w);
    uint64_t p = (uint64_t)1 << (w - 1); /* x^0 */
    for (; n; n >>= 1) {
        if (n & 1) p = multmodp(x2n, p, poly, w);
        x2n = multmodp(x2n, x2n, poly, w);
    }
    return p;
}

/* x^e modulo the polynomial, reflected (by squaring from x^1). */
static uint64_t xpowmodp(uint64_t e, uint64_t poly, unsigned w)
{
    uint64_t sq = (uint64_t)1 << (w - 2); /* x^1 */
    uint64_t p = (uint64_t)1 << (w - 1);  /* x^0 */
    for (; e; e >>= 1) {
        if (e & 1) p = multmodp(sq, p, poly, w);
        sq = multmodp(sq, sq, poly, w);
    }
    return p;
}

uint64_t nb_cksum_crc_combine(nb_cksum_algo algo, uint64_t crc_a, uint64_t crc_b, uint64_t len_b)
{
    uint64_t poly;
    unsigned w;
    switch (algo) {
    case NB_CKSUM_CRC32:
        poly = POLY_CRC32, w = 32;
        break;
    case NB_CKSUM_CRC32C:
        poly = POLY_CRC32C, w = 32;
        break;
    case NB_CKSUM_CRC64NVME:
        poly = POLY_CRC64NVME, w = 64;
        break;
    default:
        return 0;
    }
    uint64_t r = multmodp(x8nmodp(len_b, poly, w), crc_a, poly, w) ^ crc_b;
    return w == 32 ? (r & 0xffffffffu) : r;
}

/* ---- the generic interface ---- */

static const struct {
    const char *name, *header;
    size_t len;
} algos[NB_CKSUM_COUNT] = {
    [NB_CKSUM_CRC32] = {"CRC32", "x-amz-checksum-crc32", 4},
    [NB_CKSUM_CRC32C] = {"CRC32C", "x-amz-checksum-crc32c", 4},
    [NB_CKSUM_CRC64NVME] = {"CRC64NVME", "x-amz-checksum-crc64nvme", 8},
    [NB_CKSUM_SHA1] = {"SHA1", "x-amz-checksum-sha1", 20},
    [NB_CKSUM_SHA256] = {"SHA256", "x-amz-checksum-sha256", 32},
    [NB_CKSUM_MD5] = {"MD5", NULL, 16},
};

static bool valid(nb_cksum_algo a)
{
    return a >= 0 && a < NB_CKSUM_COUNT;
}

size_t nb_cksum_len(nb_cksum_algo a)
{
    return valid(a) ? algos[a].len : 0;
}
const char *nb_cksum_header(nb_cksum_algo a)
{
    return valid(a) ? algos[a].header : NULL;
}
const char *nb_cksum_name(nb_cksum_algo a)
{
    return valid(a) ? algos[a].name : NULL;
}
bool nb_cksum_is_crc(nb_cksum_algo a)
{
    return a == NB_CKSUM_CRC32 || a == NB_CKSUM_CRC32C || a == NB_CKSUM_CRC64NVME;
}

nb_cksum_algo nb_cksum_algo_from_header(const char *name, size_t n)
{
    for (int a = 0; a < NB_CKSUM_COUNT; a++)
        if (algos[a].header && nb_mem_ieq(name, n, algos[a].header, strlen(algos[a].header)))
            return (nb_cksum_algo)a;
    return NB_CKSUM_NONE;
}

nb_cksum_algo nb_cksum_algo_from_name(const char *name, size_t n)
{
    for (int a = 0; a < NB_CKSUM_COUNT; a++)
        if (a != NB_CKSUM_MD5 && nb_mem_ieq(name, n, algos[a].name, strlen(algos[a].name)))
            return (nb_cksum_algo)a;
    return NB_CKSUM_NONE;
}

int nb_cksum_init(nb_cksum *c, nb_cksum_algo algo)
{
    memset(c, 0, sizeof(*c));
    c->algo = NB_CKSUM_NONE;
    switch (algo) {
    case NB_CKSUM_CRC32:
    case NB_CKSUM_CRC32C:
    case NB_CKSUM_CRC64NVME:
        break;
    case NB_CKSUM_SHA1:
        nb_sha1_init(&c->ctx.sha1);
        break;
    case NB_CKSUM_SHA256:
        nb_sha256_init(&c->ctx.sha256);
        break;
    case NB_CKSUM_MD5:
        nb_md5_init(&c->ctx.md5);
        break;
    default:
        return -1;
    }
    c->algo = algo;
    return 0;
}

void nb_cksum_update(nb_cksum *c, const void *p, size_t n)
{
    switch (c->algo) {
    case NB_CKSUM_CRC32:
        c->crc = nb_crc32((uint32_t)c->crc, p, n);
        break;
    case NB_CKSUM_CRC32C:
        c->crc = nb_crc32c((uint32_t)c->crc, p, n);
        break;
    case NB_CKSUM_CRC64NVME:
        c->crc = nb_crc64nvme(c->crc, p, n);
        break;
    case NB_CKSUM_SHA1:
        nb_sha1_update(&c->ctx.sha1, p, n);
        break;
    case NB_CKSUM_SHA256:
        nb_sha256_update(&c->ctx.sha256, p, n);
        break;
    case NB_CKSUM_MD5:
        nb_md5_update(&c->ctx.md5, p, n);
        break;
    default:
        break;
    }
}

size_t nb_cksum_final(nb_cksum *c, unsigned char out[NB_CKSUM_MAX_RAW])
{
    size_t len = nb_cksum_len(c->algo);
    switch (c->algo) {
    case NB_CKSUM_CRC32:
    case NB_CKSUM_CRC32C:
    case NB_CKSUM_CRC64NVME:
        for (size_t i = 0; i < len; i++)
            out[i] = (unsigned char)(c->crc >> (8 * (len - 1 - i)));
        break;
    case NB_CKSUM_SHA1:
        nb_sha1_final(&c->ctx.sha1, out);
        break;
    case NB_CKSUM_SHA256:
        nb_sha256_final(&c->ctx.sha256, out);
        break;
    case NB_CKSUM_MD5:
        nb_md5_final(&c->ctx.md5, out);
        break;
    default:
        len = 0;
        break;
    }
    nb_cksum_free(c);
    return len;
}

void nb_cksum_free(nb_cksum *c)
{
    c->algo = NB_CKSUM_NONE;
}

size_t nb_cksum_to_b64(const unsigned char *raw, size_t n, char out[NB_CKSUM_MAX_B64])
{
    if (n > NB_CKSUM_MAX_RAW) n = NB_CKSUM_MAX_RAW;
    return nb_base64_encode(raw, n, out);
}

int nb_cksum_b64(nb_cksum_algo algo, const void *p, size_t n, char out[NB_CKSUM_MAX_B64])
{
    nb_cksum c;
    unsigned char raw[NB_CKSUM_MAX_RAW];
    out[0] = 0;
    if (nb_cksum_init(&c, algo) < 0) return -1;
    nb_cksum_update(&c, p, n);
    size_t len = nb_cksum_final(&c, raw);
    if (!len) return -1;
    nb_cksum_to_b64(raw, len, out);
    return 0;
}
