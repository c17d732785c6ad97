/* timefmt.c: the timestamp and number texts of the AWS wire formats: ISO 8601 (query, ec2,
 * XML bodies, query strings), RFC 822 (headers), epoch seconds (JSON bodies), and parsing all
 * three. Pure arithmetic (no gmtime/timegm, no locale, no time zone): thread-safe and fast. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/model_internal.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void split_time(double t, int64_t *secs, int *ms)
{
    /* Years 0000..9999 only: the formats have four-digit years. */
    if (!isfinite(t)) t = 0;
    if (t < -62167219200.0) t = -62167219200.0;
    if (t > 253402300799.0) t = 253402300799.0;
    double fl = floor(t);
    int64_t s = (int64_t)fl;
    int x = (int)llround((t - fl) * 1000.0);
    if (x >= 1000) {
        s++;
        x -= 1000;
    }
    *secs = s;
    *ms = x;
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

void nb_time_iso8601(double t, char out[32])
{
    int64_t s;
    int ms;
    split_time(t, &s, &ms);
    int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    int64_t rem = s - days * 86400;
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    /* "YYYY-MM-DDTHH:MM:SS.mmmZ" written by hand: this runs for every timestamp we serialize. */
    put2(out, (unsigned)(y / 100));
    put2(out + 2, (unsigned)(y % 100));
    out[4] = '-';
    put2(out + 5, mo);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = 'T';
    put2(out + 11, (unsigned)(rem / 3600));
    out[13] = ':';
    put2(out + 14, (unsigned)(rem / 60 % 60));
    out[16] = ':';
    put2(out + 17, (unsigned)(rem % 60));
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    put2(out + 21, (unsigned)(ms % 100));
    out[23] = 'Z';
    out[24] = '\0';
}

static const char wdays[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* RFC 822 / IMF-fixdate as AWS headers carry it: "Tue, 29 Apr 2014 18:30:38 GMT". */
void nb_time_rfc822(double t, char out[32])
{
    int64_t s;
    int ms;
    split_time(t, &s, &ms);
    int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    int64_t rem = s - days * 86400;
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    int wd = (int)(((days % 7) + 7) % 7);
    if (y < 0 || y > 9999) {
        snprintf(out, 32, "%s, %02u %s %04lld %02u:%02u:%02u GMT", wdays[wd], d, months[mo - 1],
                 (long long)y, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
                 (unsigned)(rem % 60));
        return;
    }
    /* The same text without snprintf: every GET and HEAD formats Last-Modified. */
    unsigned yy = (unsigned)y, hh = (unsigned)(rem / 3600), mi = (unsigned)(rem / 60 % 60),
             ss = (unsigned)(rem % 60);
    char *o = out;
    memcpy(o, wdays[wd], 3);
    o += 3;
    *o++ = ',';
    *o++ = ' ';
    *o++ = (char)('0' + d / 10);
    *o++ = (char)('0' + d % 10);
    *o++ = ' ';
    memcpy(o, months[mo - 1], 3);
    o += 3;
    *o++ = ' ';
    *o++ = (char)('0' + yy / 1000);
    *o++ = (char)('0' + yy / 100 % 10);
    *o++ = (char)('0' + yy / 10 % 10);
    *o++ = (char)('0' + yy % 10);
    *o++ = ' ';
    *o++ = (char)('0' + hh / 10);
    *o++ = (char)('0' + hh % 10);
    *o++ = ':';
    *o++ = (char)('0' + mi / 10);
    *o++ = (char)('0' + mi % 10);
    *o++ = ':';
    *o++ = (char)('0' + ss / 10);
    *o++ = (char)('0' + ss % 10);
    memcpy(o, " GMT", 5);
}

/* Epoch seconds as JSON number text: integral when whole, else up to milliseconds. */
void nb_time_epoch(double t, char out[32])
{
    int64_t s;
    int ms;
    split_time(t, &s, &ms);
    if (ms == 0)
        snprintf(out, 32, "%lld", (long long)s);
    else {
        snprintf(out, 32, "%lld.%03d", (long long)s, ms);
        size_t n = strlen(out);
        while (out[n - 1] == '0')
            out[--n] = '\0';
    }
}

/* Shortest text that reads back as the same double ("1.5", "0.1", "1e+20"). */
void nb_fmt_double(double v, char out[32])
{
    if (!isfinite(v)) {
        /* JSON and XML have no NaN/Infinity; AWS sends these as strings in XML bodies. */
        snprintf(out, 32, "%s", isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, 32, "%.1f", v);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v) return;
    }
}

/* ---- parsing ---- */

static int digits(const char *s, size_t n, size_t *i, int count, int *out)
{
    int v = 0;
    for (int k = 0; k < count; k++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9') return -1;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return 0;
}

static int valid_date(int y, int mo, int d, int h, int mi, int sec)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    (void)y;
    /* sec 60 is a leap second: accepted and folded into the next minute like AWS SDKs do. */
    return mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] && h >= 0 && h <= 24 && mi >= 0 &&
           mi <= 59 && sec >= 0 && sec <= 60;
}

static double fraction(const char *s, size_t n, size_t *i)
{
    double f = 0, scale = 0.1;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        f += (s[*i] - '0') * scale;
        scale /= 10;
        (*i)++;
    }
    return f;
}

/* YYYY-MM-DD[(T|t| )hh:mm[:ss[.fff]]][Z|z|(+|-)hh[:]mm] */
static int parse_iso(const char *s, size_t n, double *t)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    double frac = 0;
    if (digits(s, n, &i, 4, &y) || i >= n || s[i++] != '-' || digits(s, n, &i, 2, &mo) || i >= n ||
        s[i++] != '-' || digits(s, n, &i, 2, &d))
        return -1;
    int64_t off = 0;
    if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || digits(s, n, &i, 2, &mi))
            return -1;
        if (i < n && s[i] == ':') {
            i++;
            if (digits(s, n, &i, 2, &sec)) return -1;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                i++;
                if (i >= n || s[i] < '0' || s[i] > '9') return -1;
                frac = fraction(s, n, &i);
            }
        }
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
            if (digits(s, n, &i, 2, &oh)) return -1;
            if (i < n && s[i] == ':') i++;
            if (i < n && digits(s, n, &i, 2, &om)) return -1;
            if (oh > 23 || om > 59) return -1;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (i != n || !valid_date(y, mo, d, h, mi, sec)) return -1;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *t = (double)(days * 86400 + h * 3600 + mi * 60 + sec - off) + frac;
    return 0;
}

static int month_index(const char *p)
{
    for (int k = 0; k < 12; k++)
        if (nb_mem_ieq(p, 3, months[k], 3)) return k + 1;
    return 0;
}

/* [Wkd, ]DD Mon YYYY hh:mm:ss (GMT|UTC|Z|+0000) -- RFC 822/1123 as HTTP dates carry it. */
static int parse_rfc822(const char *s, size_t n, double *t)
{
    size_t i = 0;
    while (i < n && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
        i++;
    if (i > 0) {
        if (i >= n || s[i] != ',') return -1;
        i++;
    }
    while (i < n && s[i] == ' ')
        i++;
    int d, y, h, mi, sec, mo;
    size_t st = i;
    if (digits(s, n, &i, 1, &d)) return -1;
    if (i < n && s[i] >= '0' && s[i] <= '9') {
        i = st;
        if (digits(s, n, &i, 2, &d)) return -1;
    }
    if (i >= n || (s[i] != ' ' && s[i] != '-')) return -1;
    i++;
    if (i + 3 > n || !(mo = month_index(s + i))) return -1;
    i += 3;
    if (i >= n || (s[i] != ' ' && s[i] != '-')) return -1;
    i++;
    st = i;
    if (digits(s, n, &i, 4, &y)) {
        i = st;
        if (digits(s, n, &i, 2, &y)) return -1;
        y += y < 70 ? 2000 : 1900;
    }
    if (i >= n || s[i++] != ' ') return -1;
    if (digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || digits(s, n, &i, 2, &mi) || i >= n ||
        s[i++] != ':' || digits(s, n, &i, 2, &sec))
        return -1;
    double frac = 0;
    if (i < n && s[i] == '.') {
        i++;
        frac = fraction(s, n, &i);
    }
    while (i < n && s[i] == ' ')
        i++;
    int64_t off = 0;
    if (i < n) {
        size_t rest = n - i;
        if ((rest == 3 && (nb_mem_ieq(s + i, 3, "GMT", 3) || nb_mem_ieq(s + i, 3, "UTC", 3))) ||
            (rest == 2 && nb_mem_ieq(s + i, 2, "UT", 2)) ||
            (rest == 1 && (s[i] == 'Z' || s[i] == 'z')))
            i = n;
        else if (rest == 5 && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i] == '-' ? -1 : 1, oh, om;
            i++;
            if (digits(s, n, &i, 2, &oh) || digits(s, n, &i, 2, &om)) return -1;
            off = sign * (oh * 3600 + om * 60);
        } else
            return -1;
    }
    if (i != n || !valid_date(y, mo, d, h, mi, sec)) return -1;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *t = (double)(days * 86400 + h * 3600 + mi * 60 + sec - off) + frac;
    return 0;
}

static int parse_epoch(const char *s, size_t n, double *t)
{
    char tmp[48];
    if (n == 0 || n >= sizeof(tmp)) return -1;
    size_t i = 0;
    if (s[0] == '-' || s[0] == '+') i++;
    bool dot = false, any = false;
    for (; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            any = true;
        else if (s[i] == '.' && !dot)
            dot = true;
        else if ((s[i] == 'e' || s[i] == 'E') && any) {
            /* 1.4e9: JSON clients (and AWS's own Java services) write this */
            break;
        } else
            return -1;
    }
    if (!any) return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    double v = strtod(tmp, &end);
    if (*end != '\0' || !isfinite(v)) return -1;
    *t = v;
    return 0;
}

int nb_time_parse(const char *s, size_t n, double *t)
{
    if (!s || !t) return -1;
    while (n > 0 && (s[0] == ' ' || s[0] == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0) return -1;
    if (n >= 10 && s[4] == '-' && s[7] == '-') return parse_iso(s, n, t);
    if (parse_epoch(s, n, t) == 0) return 0;
    return parse_rfc822(s, n, t);
}
