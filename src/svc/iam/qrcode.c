/* qrcode.c: the QR code PNG of CreateVirtualMFADevice (QRCodePNG): byte-mode QR codes of
 * versions 1..14 at error correction level L, drawn as a 1-bit grayscale PNG whose deflate
 * stream is made of stored blocks (no compressor needed). */
#include "svc/iam/qrcode.h"

#include "core/checksum.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define QR_MAXV 14
#define QR_MAXN (17 + 4 * QR_MAXV)

/* Level L block structure per version: ECC codewords per block, blocks of the first group and
 * their data codewords, blocks of the second group (one more data codeword each). */
static const struct {
    uint8_t ecc, b1, d1, b2;
} BLOCKS[QR_MAXV + 1] = {
    {0, 0, 0, 0},    {7, 1, 19, 0},   {10, 1, 34, 0},  {15, 1, 55, 0},  {20, 1, 80, 0},
    {26, 1, 108, 0}, {18, 2, 68, 0},  {20, 2, 78, 0},  {24, 2, 97, 0},  {30, 2, 116, 0},
    {18, 2, 68, 2},  {20, 4, 81, 0},  {24, 2, 92, 2},  {26, 4, 107, 0}, {30, 3, 115, 1},
};

static const uint8_t ALIGN[QR_MAXV + 1][4] = {
    {0},         {0},         {6, 18},     {6, 22},     {6, 26},     {6, 30},
    {6, 34},     {6, 22, 38}, {6, 24, 42}, {6, 26, 46}, {6, 28, 50}, {6, 30, 54},
    {6, 32, 58}, {6, 34, 62}, {6, 26, 46, 66},
};

struct qr {
    int v, n;
    uint8_t dark[QR_MAXN][QR_MAXN];
    uint8_t fixed[QR_MAXN][QR_MAXN]; /* function modules: not data, not masked */
};

static void set_fn(struct qr *q, int x, int y, bool dark)
{
    if (x < 0 || y < 0 || x >= q->n || y >= q->n) return;
    q->dark[y][x] = dark;
    q->fixed[y][x] = 1;
}

/* ---- Reed-Solomon over GF(256), polynomial 0x11D ---- */

static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    unsigned r = 0;
    for (int i = 7; i >= 0; i--) {
        r = (r << 1) ^ ((r >> 7) * 0x11D);
        r ^= ((b >> i) & 1u) * a;
    }
    return (uint8_t)r;
}

static void rs_ecc(const uint8_t *data, int len, int degree, uint8_t *out)
{
    uint8_t gen[32] = {0};
    gen[degree - 1] = 1; /* generator's coefficients, highest first, monic term implied */
    uint8_t root = 1;
    for (int i = 0; i < degree; i++) {
        for (int j = 0; j < degree; j++) {
            gen[j] = gf_mul(gen[j], root);
            if (j + 1 < degree) gen[j] ^= gen[j + 1];
        }
        root = gf_mul(root, 0x02);
    }
    memset(out, 0, (size_t)degree);
    for (int i = 0; i < len; i++) {
        uint8_t f = data[i] ^ out[0];
        memmove(out, out + 1, (size_t)degree - 1);
        out[degree - 1] = 0;
        for (int j = 0; j < degree; j++) out[j] ^= gf_mul(gen[j], f);
    }
}

/* ---- function patterns ---- */

static void draw_finder(struct qr *q, int cx, int cy)
{
    for (int dy = -4; dy <= 4; dy++)
        for (int dx = -4; dx <= 4; dx++) {
            int d = abs(dx) > abs(dy) ? abs(dx) : abs(dy);
            set_fn(q, cx + dx, cy + dy, d != 2 && d != 4);
        }
}

static void draw_format(struct qr *q, int mask)
{
    /* level L = 01, then the mask; BCH(15,5) with 0x537, masked with 0x5412 */
    int data = (1 << 3) | mask, rem = data;
    for (int i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    int bits = ((data << 10) | rem) ^ 0x5412;
    for (int i = 0; i <= 5; i++) set_fn(q, 8, i, (bits >> i) & 1);
    set_fn(q, 8, 7, (bits >> 6) & 1);
    set_fn(q, 8, 8, (bits >> 7) & 1);
    set_fn(q, 7, 8, (bits >> 8) & 1);
    for (int i = 9; i < 15; i++) set_fn(q, 14 - i, 8, (bits >> i) & 1);
    for (int i = 0; i < 8; i++) set_fn(q, q->n - 1 - i, 8, (bits >> i) & 1);
    for (int i = 8; i < 15; i++) set_fn(q, 8, q->n - 15 + i, (bits >> i) & 1);
    set_fn(q, 8, q->n - 8, true); /* the dark module */
}

static void draw_functions(struct qr *q)
{
    int n = q->n;
    for (int i = 0; i < n; i++) {
        set_fn(q, 6, i, i % 2 == 0);
        set_fn(q, i, 6, i % 2 == 0);
    }
    draw_finder(q, 3, 3);
    draw_finder(q, n - 4, 3);
    draw_finder(q, 3, n - 4);
    int na = 0;
    while (na < 4 && ALIGN[q->v][na]) na++;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < na; j++) {
            if ((i == 0 && j == 0) || (i == 0 && j == na - 1) || (i == na - 1 && j == 0)) continue;
            for (int dy = -2; dy <= 2; dy++)
                for (int dx = -2; dx <= 2; dx++) {
                    int d = abs(dx) > abs(dy) ? abs(dx) : abs(dy);
                    set_fn(q, ALIGN[q->v][i] + dx, ALIGN[q->v][j] + dy, d != 1);
                }
        }
    draw_format(q, 0); /* reserves the areas; redrawn with the mask chosen */
    if (q->v >= 7) {
        int rem = q->v;
        for (int i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
        long bits = ((long)q->v << 12) | rem;
        for (int i = 0; i < 18; i++) {
            bool b = (bits >> i) & 1;
            set_fn(q, n - 11 + i % 3, i / 3, b);
            set_fn(q, i / 3, n - 11 + i % 3, b);
        }
    }
}

static bool mask_bit(int mask, int x, int y)
{
    switch (mask) {
    case 0: return (x + y) % 2 == 0;
    case 1: return y % 2 == 0;
    case 2: return x % 3 == 0;
    case 3: return (x + y) % 3 == 0;
    case 4: return (x / 3 + y / 2) % 2 == 0;
    case 5: return x * y % 2 + x * y % 3 == 0;
    case 6: return (x * y % 2 + x * y % 3) % 2 == 0;
    default: return ((x + y) % 2 + x * y % 3) % 2 == 0;
    }
}

static void apply_mask(struct qr *q, int mask)
{
    for (int y = 0; y < q->n; y++)
        for (int x = 0; x < q->n; x++)
            if (!q->fixed[y][x] && mask_bit(mask, x, y)) q->dark[y][x] ^= 1;
}

/* The standard's penalty score (runs, 2x2 blocks, finder-like patterns, balance). */
static long penalty(const struct qr *q)
{
    long p = 0;
    int n = q->n;
    for (int pass = 0; pass < 2; pass++)
        for (int a = 0; a < n; a++) {
            int run = 1;
            for (int b = 1; b <= n; b++) {
                bool same = b < n && (pass ? q->dark[b][a] == q->dark[b - 1][a] : q->dark[a][b] == q->dark[a][b - 1]);
                if (same) {
                    run++;
                } else {
                    if (run >= 5) p += run - 2;
                    run = 1;
                }
            }
            for (int b = 0; b + 10 < n; b++) {
                static const uint8_t pat1[11] = {1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0};
                static const uint8_t pat2[11] = {0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1};
                bool m1 = true, m2 = true;
                for (int k = 0; k < 11; k++) {
                    uint8_t d = pass ? q->dark[b + k][a] : q->dark[a][b + k];
                    m1 = m1 && d == pat1[k];
                    m2 = m2 && d == pat2[k];
                }
                p += (m1 ? 40 : 0) + (m2 ? 40 : 0);
            }
        }
    long darks = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            darks += q->dark[y][x];
            if (x + 1 < n && y + 1 < n && q->dark[y][x] == q->dark[y][x + 1] && q->dark[y][x] == q->dark[y + 1][x] &&
                q->dark[y][x] == q->dark[y + 1][x + 1])
                p += 3;
        }
    long total = (long)n * n, k = (labs(darks * 20 - total * 10) + total - 1) / total - 1;
    return p + (k > 0 ? k : 0) * 10;
}

static bool encode(struct qr *q, const char *text)
{
    size_t len = strlen(text);
    int v = 1;
    for (; v <= QR_MAXV; v++) {
        int cap = BLOCKS[v].b1 * BLOCKS[v].d1 + BLOCKS[v].b2 * (BLOCKS[v].d1 + 1);
        int bits = 4 + (v < 10 ? 8 : 16) + 8 * (int)len;
        if (bits <= cap * 8) break;
    }
    if (v > QR_MAXV) return false;
    memset(q, 0, sizeof(*q));
    q->v = v;
    q->n = 17 + 4 * v;
    int nb = BLOCKS[v].b1 + BLOCKS[v].b2, ecc = BLOCKS[v].ecc;
    int cap = BLOCKS[v].b1 * BLOCKS[v].d1 + BLOCKS[v].b2 * (BLOCKS[v].d1 + 1);
    uint8_t data[600] = {0};
    int bitpos = 0;
#define PUT(val, count)                                                                            \
    for (int i_ = (count) - 1; i_ >= 0; i_--, bitpos++)                                            \
        if (((val) >> i_) & 1) data[bitpos >> 3] |= (uint8_t)(0x80 >> (bitpos & 7));
    PUT(4, 4);
    PUT((int)len, v < 10 ? 8 : 16);
    for (size_t i = 0; i < len; i++) PUT((unsigned char)text[i], 8);
    int term = cap * 8 - bitpos < 4 ? cap * 8 - bitpos : 4;
    bitpos += term;
    bitpos = (bitpos + 7) & ~7;
#undef PUT
    for (int i = bitpos / 8, pad = 0; i < cap; i++, pad ^= 1) data[i] = pad ? 0x11 : 0xEC;

    /* blocks, their ECC, interleaved */
    uint8_t ecw[8][32];
    int off[8], dl[8], o = 0;
    for (int b = 0; b < nb; b++) {
        off[b] = o;
        dl[b] = BLOCKS[v].d1 + (b >= BLOCKS[v].b1);
        rs_ecc(data + o, dl[b], ecc, ecw[b]);
        o += dl[b];
    }
    uint8_t all[700];
    int k = 0;
    for (int i = 0; i <= BLOCKS[v].d1; i++)
        for (int b = 0; b < nb; b++)
            if (i < dl[b]) all[k++] = data[off[b] + i];
    for (int i = 0; i < ecc; i++)
        for (int b = 0; b < nb; b++) all[k++] = ecw[b][i];

    draw_functions(q);
    int bit = 0, total = k * 8;
    for (int right = q->n - 1; right >= 1; right -= 2) {
        if (right == 6) right = 5;
        for (int vert = 0; vert < q->n; vert++)
            for (int j = 0; j < 2; j++) {
                int x = right - j;
                bool upward = ((right + 1) & 2) == 0;
                int y = upward ? q->n - 1 - vert : vert;
                if (q->fixed[y][x]) continue;
                if (bit < total) q->dark[y][x] = (all[bit >> 3] >> (7 - (bit & 7))) & 1;
                bit++;
            }
    }
    int best = 0;
    long best_p = -1;
    for (int m = 0; m < 8; m++) {
        apply_mask(q, m);
        draw_format(q, m);
        long p = penalty(q);
        if (best_p < 0 || p < best_p) {
            best_p = p;
            best = m;
        }
        apply_mask(q, m);
    }
    apply_mask(q, best);
    draw_format(q, best);
    return true;
}

/* ---- PNG ---- */

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static size_t chunk(unsigned char *out, const char *type, const unsigned char *data, size_t n)
{
    be32(out, (uint32_t)n);
    memcpy(out + 4, type, 4);
    if (n) memcpy(out + 8, data, n);
    be32(out + 8 + n, nb_crc32(0, out + 4, n + 4));
    return n + 12;
}

unsigned char *iam_qr_png(const char *text, size_t *len)
{
    struct qr *q = malloc(sizeof(*q));
    if (!q) return NULL;
    if (!encode(q, text)) {
        free(q);
        return NULL;
    }
    const int scale = 4, quiet = 4;
    int w = (q->n + 2 * quiet) * scale, rowb = (w + 7) / 8;
    size_t raw_n = (size_t)(rowb + 1) * (size_t)w;
    unsigned char *raw = calloc(1, raw_n);
    size_t nblocks = raw_n / 65535 + 1;
    size_t z_n = 2 + raw_n + 5 * nblocks + 4;
    unsigned char *z = malloc(z_n);
    unsigned char *png = malloc(z_n + 128);
    if (!raw || !z || !png) {
        free(q);
        free(raw);
        free(z);
        free(png);
        return NULL;
    }
    for (int y = 0; y < w; y++) {
        unsigned char *row = raw + (size_t)y * (size_t)(rowb + 1);
        row[0] = 0; /* filter: none */
        for (int x = 0; x < w; x++) {
            int mx = x / scale - quiet, my = y / scale - quiet;
            bool dark = mx >= 0 && my >= 0 && mx < q->n && my < q->n && q->dark[my][mx];
            if (!dark) row[1 + x / 8] |= (unsigned char)(0x80 >> (x % 8)); /* 1 = white */
        }
    }
    /* zlib stream of stored blocks */
    size_t zp = 0, left = raw_n, at = 0;
    z[zp++] = 0x78;
    z[zp++] = 0x01;
    do {
        size_t take = left > 65535 ? 65535 : left;
        z[zp++] = left == take ? 1 : 0;
        z[zp++] = (unsigned char)take;
        z[zp++] = (unsigned char)(take >> 8);
        z[zp++] = (unsigned char)~take;
        z[zp++] = (unsigned char)(~take >> 8);
        memcpy(z + zp, raw + at, take);
        zp += take;
        at += take;
        left -= take;
    } while (left);
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < raw_n; i++) {
        a = (a + raw[i]) % 65521;
        b = (b + a) % 65521;
    }
    be32(z + zp, (b << 16) | a);
    zp += 4;

    size_t p = 0;
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    p += 8;
    unsigned char ihdr[13];
    be32(ihdr, (uint32_t)w);
    be32(ihdr + 4, (uint32_t)w);
    ihdr[8] = 1;  /* bit depth */
    ihdr[9] = 0;  /* grayscale */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    p += chunk(png + p, "IHDR", ihdr, sizeof(ihdr));
    p += chunk(png + p, "IDAT", z, zp);
    p += chunk(png + p, "IEND", NULL, 0);
    free(q);
    free(raw);
    free(z);
    *len = p;
    return png;
}
