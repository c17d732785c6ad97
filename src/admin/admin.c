/* admin.c: the admin surface under /_nimbus/ on the main port: health, the region clock, and
 * reset. Changing state (clock, reset) is allowed from loopback peers only. */
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/sched.h"
#include "iam/accounts.h"
#include "proto/dispatch.h"
#include "proto/proto.h"
#include "svc/service.h"

static int64_t started_us;

double nb_uptime(void) { return (double)(nb_mono_us() - started_us) / 1e6; }

__attribute__((constructor)) static void admin_start_time(void) { started_us = nb_mono_us(); }

static void reply_json(nb_req *r, int status, json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!s) {
        nb_resp_simple(r, 503, "text/plain", "out of memory\n", 14, NULL, 0);
        return;
    }
    size_t n = strlen(s);
    s = realloc(s, n + 2);
    if (s) {
        s[n++] = '\n';
        nb_resp_simple(r, status, "application/json", s, n, NULL, 0);
    } else {
        nb_resp_simple(r, 503, "text/plain", "out of memory\n", 14, NULL, 0);
    }
    free(s);
}

static void reply_msg(nb_req *r, int status, const char *code, const char *msg)
{
    reply_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

static json_t *clock_doc(void)
{
    char iso[32];
    double now = nb_clock_now_f();
    nb_time_iso8601(now, iso);
    return json_pack("{s:s, s:f, s:f, s:I}", "now", iso, "epoch", now, "rate", nb_clock_rate(),
                     "pending_timers", (json_int_t)nb_sched_pending());
}

static void health(nb_req *r)
{
    json_t *svcs = json_object();
    for (size_t i = 0; i < nb_services_count(); i++) {
        const nb_service *s = nb_service_at(i);
        json_object_set_new(svcs, s->name,
                            json_string(nb_dispatch_is_ready() ? "running" : "starting"));
    }
    reply_json(r, 200, json_pack("{s:s, s:s, s:f, s:o, s:o}", "status",
                                 nb_dispatch_is_ready() ? "ok" : "starting", "version",
                                 NB_VERSION, "uptime_seconds", nb_uptime(), "services", svcs,
                                 "clock", clock_doc()));
}

static bool loopback_peer(const nb_req *r)
{
    return strncmp(r->peer_ip, "127.", 4) == 0 || strcmp(r->peer_ip, "::1") == 0 ||
           strncmp(r->peer_ip, "::ffff:127.", 11) == 0;
}

/* Value of key in a query string, copied to out (decoded). */
static bool query_get(const nb_req *r, const char *key, char *out, size_t outn)
{
    size_t kl = strlen(key);
    const char *q = r->query, *end = r->query + r->query_len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        if (!amp) amp = end;
        if ((size_t)(amp - q) > kl && memcmp(q, key, kl) == 0 && q[kl] == '=') {
            size_t vl = (size_t)(amp - q) - kl - 1;
            if (vl >= outn) return false;
            ssize_t m = nb_url_decode(q + kl + 1, vl, out, true);
            if (m < 0) return false;
            out[m] = 0;
            return true;
        }
        q = amp + 1;
    }
    return false;
}

static void clock_body(nb_req *r, int status, const char *body, size_t len)
{
    if (status != 0) {
        reply_msg(r, 400, "BadRequest", "cannot read the request body");
        return;
    }
    char spec[64] = "";
    int64_t us = 0;
    if (!query_get(r, "advance", spec, sizeof(spec)) && len) {
        json_error_t je;
        json_t *doc = json_loadb(body, len, 0, &je);
        json_t *adv = doc ? json_object_get(doc, "advance") : NULL;
        json_t *secs = doc ? json_object_get(doc, "advance_seconds") : NULL;
        if (json_is_string(adv))
            snprintf(spec, sizeof(spec), "%s", json_string_value(adv));
        else if (json_is_number(secs))
            us = (int64_t)(json_number_value(secs) * 1e6);
        json_decref(doc);
    }
    if (spec[0] && nb_duration_parse(spec, &us) < 0) {
        reply_msg(r, 400, "InvalidDuration",
                  "advance must be a duration such as 30d, 12h, 90m, 45s or 1500ms");
        return;
    }
    if (us < 0) {
        reply_msg(r, 400, "InvalidDuration", "the region clock never runs backwards");
        return;
    }
    if (us > 0 && nb_clock_advance(us) < 0) {
        reply_msg(r, 500, "ClockError", "cannot persist the clock state");
        return;
    }
    reply_json(r, 200, clock_doc());
}

static void reset_worker(nb_req *r)
{
    json_t *done = json_array();
    int failed = 0;
    for (size_t i = 0; i < nb_services_count(); i++) {
        const nb_service *s = nb_service_at(i);
        if (!s->reset) continue;
        if (s->reset() == 0)
            json_array_append_new(done, json_string(s->name));
        else
            failed++;
    }
    if (failed) {
        json_decref(done);
        reply_msg(r, 500, "ResetFailed", "some services could not drop their state");
        return;
    }
    nb_info("admin: all service state dropped");
    reply_json(r, 200, json_pack("{s:b, s:o}", "reset", 1, "services", done));
}

void nb_admin_handle(nb_req *r)
{
    r->log_service = "admin";
    nb_str p = {r->path, r->path_len};
    bool get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    bool post = !strcmp(r->method, "POST");
    if (nb_str_eq(p, "/_nimbus/health")) {
        r->log_operation = "Health";
        if (get)
            health(r);
        else
            reply_msg(r, 405, "MethodNotAllowed", "use GET");
    } else if (nb_str_eq(p, "/_nimbus/clock")) {
        r->log_operation = "Clock";
        if (get)
            reply_json(r, 200, clock_doc());
        else if (!post)
            reply_msg(r, 405, "MethodNotAllowed", "use GET or POST");
        else if (!loopback_peer(r))
            reply_msg(r, 403, "AccessDenied", "the clock can be moved from loopback only");
        else
            nb_req_read_all(r, 4096, clock_body);
    } else if (nb_str_eq(p, "/_nimbus/reset")) {
        r->log_operation = "Reset";
        if (!post)
            reply_msg(r, 405, "MethodNotAllowed", "use POST");
        else if (!loopback_peer(r))
            reply_msg(r, 403, "AccessDenied", "reset is allowed from loopback only");
        else
            nb_req_offload(r, reset_worker);
    } else if (p.n >= 17 && memcmp(p.p, "/_nimbus/accounts", 17) == 0 && (p.n == 17 || p.p[17] == '/')) {
        nb_admin_accounts(r);
    } else {
        /* /_nimbus/<service>/...: paths a service serves itself (nb_service.admin). */
        for (size_t i = 0; i < nb_services_count(); i++) {
            const nb_service *s = nb_service_at(i);
            size_t n = strlen(s->name);
            if (s->admin && p.n > 10 + n && !memcmp(p.p + 9, s->name, n) && p.p[9 + n] == '/') {
                s->admin(r);
                return;
            }
        }
        reply_msg(r, 404, "NotFound", "no such admin resource");
    }
}
