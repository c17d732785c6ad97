/* policy_match.c: the small matchers under policy evaluation: wildcard globs, ARN components,
 * and the value parsers of the Numeric, Date, IpAddress and Bool condition operators. */
#include "iam/policy_int.h"

#include <arpa/inet.h>
#include <stdlib.h>

const unsigned char nb_pol_lower[256] = {
#define R(i) [i] = (unsigned char)((i) >= 'A' && (i) <= 'Z' ? (i) + 32 : (i))
#define R4(i) R(i), R(i + 1), R(i + 2), R(i + 3)
#define R16(i) R4(i), R4(i + 4), R4(i + 8), R4(i + 12)
#define R64(i) R16(i), R16(i + 16), R16(i + 32), R16(i + 48)
    R64(0),
    R64(64),
    R64(128),
    R64(192),
#undef R64
#undef R16
#undef R4
#undef R
};

uint32_t nb_pol_hash_lower(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= nb_pol_lower[(unsigned char)s[i]];
        h *= 16777619u;
    }
    return h;
}

/* '?' stands for one character, so it steps over a whole UTF-8 sequence. */
static size_t next_char(const char *s, size_t n, size_t i)
{
    i++;
    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* Iterative glob with one backtrack point (the last '*'): linear in practice, O(pn*sn) at
 * worst, never recursive, so hostile patterns cannot blow the stack. */
bool nb_pol_glob(const char *p, size_t pn, const char *s, size_t sn, bool fold)
{
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < sn) {
        if (pi < pn) {
            unsigned char c = (unsigned char)p[pi];
            if (c == '*') {
                /* A run of stars is one star; a trailing one matches the rest at once (the
                 * common "bucket/<star>" and a lone star cost no scan of the subject). */
                while (pi < pn && p[pi] == '*')
                    pi++;
                if (pi == pn) return true;
                star_p = pi;
                star_s = si;
                continue;
            }
            if (c == '?') {
                pi++;
                si = next_char(s, sn, si);
                continue;
            }
            size_t adv = 1;
            if (c == '\\' && pi + 1 < pn) {
                c = (unsigned char)p[pi + 1];
                adv = 2;
            }
            unsigned char d = (unsigned char)s[si];
            if (fold) d = nb_pol_lower[d];
            if (c == d) {
                pi += adv;
                si++;
                continue;
            }
        }
        if (star_p == SIZE_MAX) return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

/* Split an ARN into its six components (the sixth keeps any further colons). Returns how
 * many were found (<= 6). */
static int arn_split(const char *s, size_t n, const char *f[6], size_t fl[6])
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i < n && k < 5; i++) {
        if (s[i] == ':') {
            f[k] = s + start;
            fl[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    f[k] = s + start;
    fl[k] = n - start;
    return k + 1;
}

/* AWS: "Each of the six colon-delimited components of the ARN is checked separately and each
 * can include multi-character match wildcards (*) or single-character match wildcards (?)."
 * A pattern that is not six components (e.g. "*") is matched as a whole string. */
bool nb_pol_arn_like(const char *p, size_t pn, const char *s, size_t sn)
{
    const char *pf[6], *sf[6];
    size_t pl[6], sl[6];
    if (arn_split(p, pn, pf, pl) < 6) return nb_pol_glob(p, pn, s, sn, false);
    if (arn_split(s, sn, sf, sl) < 6) return false;
    for (int i = 0; i < 6; i++)
        if (!nb_pol_glob(pf[i], pl[i], sf[i], sl[i], false)) return false;
    return true;
}

bool nb_pol_parse_bool(const char *s, size_t n, bool *out)
{
    if (n != 4 && n != 5) return false;
    if (nb_mem_ieq(s, n, "true", 4)) {
        *out = true;
        return true;
    }
    if (nb_mem_ieq(s, n, "false", 5)) {
        *out = false;
        return true;
    }
    return false;
}

/* Decimal numbers only (no hex, inf or nan, which strtod would take). */
bool nb_pol_parse_number(const char *s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp)) return false;
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            digit = true;
        else if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E')
            return false;
    }
    if (!digit) return false;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    *out = strtod(tmp, &end);
    return end == tmp + n;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Read exactly w digits at s[*i]. */
static bool digits(const char *s, size_t n, size_t *i, int w, int *out)
{
    int v = 0;
    for (int k = 0; k < w; k++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9') return false;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return true;
}

/* Dates as AWS takes them in Date conditions: epoch seconds ("1577836800"), or ISO 8601 with
 * optional parts: 2020, 2020-06, 2020-06-30, 2020-06-30T12, ...T12:30, ...T12:30:45.123,
 * then Z, +hh, +hh:mm or -hh:mm. Times without a zone are UTC. */
bool nb_pol_parse_date(const char *s, size_t n, int64_t *ms)
{
    if (n == 0) return false;
    bool iso = false;
    for (size_t k = 0; k < n; k++)
        if (s[k] == '-' || s[k] == 'T' || s[k] == 't') iso = true;
    if (!iso) {
        int64_t v = 0;
        for (size_t k = 0; k < n; k++) {
            if (s[k] < '0' || s[k] > '9') return false;
            if (v > (INT64_MAX / 1000 - 9) / 10) return false;
            v = v * 10 + (s[k] - '0');
        }
        *ms = v * 1000;
        return true;
    }
    size_t i = 0;
    int year, mon = 1, day = 1, hh = 0, mm = 0, ss = 0, frac_ms = 0;
    if (!digits(s, n, &i, 4, &year)) return false;
    if (i < n && s[i] == '-') {
        i++;
        if (!digits(s, n, &i, 2, &mon) || mon < 1 || mon > 12) return false;
        if (i < n && s[i] == '-') {
            i++;
            if (!digits(s, n, &i, 2, &day) || day < 1 || day > 31) return false;
        }
    }
    if (i < n && (s[i] == 'T' || s[i] == 't')) {
        i++;
        if (!digits(s, n, &i, 2, &hh) || hh > 23) return false;
        if (i < n && s[i] == ':') {
            i++;
            if (!digits(s, n, &i, 2, &mm) || mm > 59) return false;
            if (i < n && s[i] == ':') {
                i++;
                if (!digits(s, n, &i, 2, &ss) || ss > 60) return false;
                if (i < n && s[i] == '.') {
                    i++;
                    int scale = 100, nd = 0;
                    while (i < n && s[i] >= '0' && s[i] <= '9') {
                        frac_ms += (s[i] - '0') * scale;
                        scale /= 10;
                        i++;
                        nd++;
                    }
                    if (nd == 0 || nd > 9) return false;
                }
            }
        }
    }
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
        i++;
        if (!digits(s, n, &i, 2, &oh) || oh > 23) return false;
        if (i < n && s[i] == ':') i++;
        if (i < n && !digits(s, n, &i, 2, &om)) return false;
        if (om > 59) return false;
        off = sign * (int64_t)(oh * 3600 + om * 60);
    }
    if (i != n) return false;
    int64_t secs = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hh * 3600 +
                   mm * 60 + ss - off;
    *ms = secs * 1000 + frac_ms;
    return true;
}

/* Dotted-quad IPv4 exactly as inet_pton(AF_INET) reads it (four decimal parts of at most 255,
 * no leading zeros), without its per-character overhead: this runs on every aws:SourceIp. */
static bool parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.') return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && s[start] == '0')) return false;
        out[part] = (uint8_t)v;
    }
    return i == n;
}

/* An address ("203.0.113.5", "2001:db8::1") or, with allow_prefix, a CIDR block
 * ("203.0.113.0/24", "2001:db8::/32"); a bare address in a policy is a /32 or /128.
 * IPv4-mapped IPv6 addresses are read as IPv4 so either form of a client matches. */
bool nb_pol_parse_ip(const char *s, size_t n, struct pol_ipnet *out, bool allow_prefix)
{
    if (!allow_prefix && n > 0 && s[0] != ':' && n <= 15 && !memchr(s, ':', n)) {
        /* A client's IPv4 address: the common case, read in place. */
        memset(out, 0, sizeof(*out));
        if (!parse_ipv4(s, n, out->addr)) return false;
        out->family = 4;
        out->prefix = 32;
        return true;
    }
    char tmp[64];
    size_t alen = n;
    int prefix = -1;
    const char *slash = memchr(s, '/', n);
    if (slash) {
        if (!allow_prefix) return false;
        alen = (size_t)(slash - s);
        size_t i = alen + 1;
        if (i >= n || n - i > 3) return false;
        prefix = 0;
        for (; i < n; i++) {
            if (s[i] < '0' || s[i] > '9') return false;
            prefix = prefix * 10 + (s[i] - '0');
        }
    }
    if (alen == 0 || alen >= sizeof(tmp)) return false;
    memcpy(tmp, s, alen);
    tmp[alen] = 0;
    memset(out, 0, sizeof(*out));
    if (memchr(tmp, ':', alen)) {
        if (inet_pton(AF_INET6, tmp, out->addr) != 1) return false;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(out->addr, mapped, 12) == 0 && (prefix < 0 || prefix >= 96)) {
            memmove(out->addr, out->addr + 12, 4);
            memset(out->addr + 4, 0, 12);
            out->family = 4;
            out->prefix = (uint8_t)(prefix < 0 ? 32 : prefix - 96);
            return true;
        }
        if (prefix > 128) return false;
        out->family = 6;
        out->prefix = (uint8_t)(prefix < 0 ? 128 : prefix);
    } else {
        if (!parse_ipv4(tmp, alen, out->addr)) return false;
        if (prefix > 32) return false;
        out->family = 4;
        out->prefix = (uint8_t)(prefix < 0 ? 32 : prefix);
    }
    return true;
}

bool nb_pol_ip_in(const struct pol_ipnet *net, const struct pol_ipnet *addr)
{
    if (!net->family || net->family != addr->family) return false;
    unsigned full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(net->addr, addr->addr, full) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (net->addr[full] & mask) == (addr->addr[full] & mask);
}
