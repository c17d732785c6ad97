/* util.c: small HTTP helpers: reason phrases and IMF-fixdate dates. */
#include "http/http_internal.h"

#include <time.h>

const char *nb_http_reason(int status)
{
    switch (status) {
#define XX(num, name, string)                                                                      \
    case num: return #string;
        HTTP_STATUS_MAP(XX)
#undef XX
    }
    if (status >= 100 && status < 200) return "Informational";
    if (status >= 200 && status < 300) return "Success";
    if (status >= 300 && status < 400) return "Redirection";
    if (status >= 400 && status < 500) return "Client Error";
    return "Server Error";
}

void nb_http_date(int64_t t, char out[30])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char mons[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    /* Fixed width by construction (years 0..9999); built by hand so the compiler can see
     * it fits in 30 bytes. */
    int y = tm.tm_year + 1900;
    if (y < 0) y = 0;
    if (y > 9999) y = 9999;
    char *o = out;
    memcpy(o, days[tm.tm_wday], 3), o += 3;
    *o++ = ',';
    *o++ = ' ';
    *o++ = (char)('0' + tm.tm_mday / 10), *o++ = (char)('0' + tm.tm_mday % 10);
    *o++ = ' ';
    memcpy(o, mons[tm.tm_mon], 3), o += 3;
    *o++ = ' ';
    *o++ = (char)('0' + y / 1000), *o++ = (char)('0' + y / 100 % 10);
    *o++ = (char)('0' + y / 10 % 10), *o++ = (char)('0' + y % 10);
    *o++ = ' ';
    *o++ = (char)('0' + tm.tm_hour / 10), *o++ = (char)('0' + tm.tm_hour % 10);
    *o++ = ':';
    *o++ = (char)('0' + tm.tm_min / 10), *o++ = (char)('0' + tm.tm_min % 10);
    *o++ = ':';
    *o++ = (char)('0' + tm.tm_sec / 10), *o++ = (char)('0' + tm.tm_sec % 10);
    memcpy(o, " GMT", 5);
}

int nb_req_loop(const nb_req *r) { return r->conn && r->conn->loop ? r->conn->loop->idx : -1; }

const char *nb_req_query_arg(nb_req *r, const char *key)
{
    size_t kl = strlen(key);
    const char *q = r->query, *end = r->query + r->query_len;
    while (q && q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        if (!amp) amp = end;
        if ((size_t)(amp - q) > kl && !memcmp(q, key, kl) && q[kl] == '=') {
            size_t vl = (size_t)(amp - q) - kl - 1;
            char *out = nb_arena_alloc(r->arena, vl + 1);
            ssize_t m = out ? nb_url_decode(q + kl + 1, vl, out, true) : -1;
            if (m < 0) return NULL;
            out[m] = 0;
            return out;
        }
        q = amp + 1;
    }
    return NULL;
}
