/* cors.c: S3 CORS: Put/Get/DeleteBucketCors with AWS's validation, preflight OPTIONS answered
 * per rule (first rule whose origin, method and requested headers all match), and the CORS
 * headers of actual requests that carry an Origin. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "svc/s3/access.h"

static int invalid_request(nb_call *c, const char *msg)
{
    return nb_s3_error(c, 400, "InvalidRequest", msg, NULL);
}

static int count_char(const char *s, char ch)
{
    int n = 0;
    for (; *s; s++) n += *s == ch;
    return n;
}

int nb_s3_op_put_bucket_cors(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *rules = json_object_get(json_object_get(c->input, "CORSConfiguration"), "CORSRules");
    size_t n = json_array_size(rules);
    if (n == 0 || n > 100) return nb_s3_malformed_xml(c);
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        json_t *methods = json_object_get(r, "AllowedMethods");
        json_t *origins = json_object_get(r, "AllowedOrigins");
        if (!json_array_size(methods) || !json_array_size(origins)) return nb_s3_malformed_xml(c);
        const char *id = json_string_value(json_object_get(r, "ID"));
        if (id && strlen(id) > 255) return invalid_request(c, "ID length should not exceed allowed limit of 255");
        size_t j;
        json_t *x;
        json_array_foreach(methods, j, x)
        {
            const char *m = json_string_value(x);
            if (!m || (strcmp(m, "GET") && strcmp(m, "PUT") && strcmp(m, "HEAD") && strcmp(m, "POST") &&
                       strcmp(m, "DELETE")))
                return invalid_request(
                    c, nb_arena_printf(c->arena,
                                       "Found unsupported HTTP method in CORS config. Unsupported method is %s",
                                       m ? m : ""));
        }
        json_array_foreach(origins, j, x)
        {
            const char *o = json_string_value(x);
            if (!o) return nb_s3_malformed_xml(c);
            if (count_char(o, '*') > 1)
                return invalid_request(
                    c, nb_arena_printf(c->arena, "AllowedOrigin \"%s\" can not have more than one wildcard.", o));
        }
        json_array_foreach(json_object_get(r, "AllowedHeaders"), j, x)
        {
            const char *h = json_string_value(x);
            if (!h) return nb_s3_malformed_xml(c);
            if (count_char(h, '*') > 1)
                return invalid_request(
                    c, nb_arena_printf(c->arena, "AllowedHeader \"%s\" can not have more than one wildcard.", h));
        }
        json_array_foreach(json_object_get(r, "ExposeHeaders"), j, x)
        {
            const char *h = json_string_value(x);
            if (!h) return nb_s3_malformed_xml(c);
            if (strchr(h, '*'))
                return invalid_request(
                    c, nb_arena_printf(c->arena, "ExposeHeader \"%s\" contains wildcard. We currently do"
                                                 " not support wildcard for ExposeHeader.", h));
        }
        json_t *ma = json_object_get(r, "MaxAgeSeconds");
        if (ma && (!json_is_integer(ma) || json_integer_value(ma) < 0)) return nb_s3_malformed_xml(c);
    }
    if (nb_s3_cfg_store(c, b.name, "cors", rules)) return -1;
    return 0;
}

int nb_s3_op_get_bucket_cors(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *d = NULL;
    if (nb_s3_cfg_load(c, b.name, "cors", &d)) return -1;
    if (!d)
        return nb_s3_error(c, 404, "NoSuchCORSConfiguration", "The CORS configuration does not exist",
                           "BucketName", b.name, NULL);
    c->output = json_pack("{s:o}", "CORSRules", d);
    return 0;
}

int nb_s3_op_delete_bucket_cors(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    if (nb_s3_cfg_store(c, b.name, "cors", NULL)) return -1;
    c->out_status = 204;
    return 0;
}

/* ---------------------------------------------------------------- matching */

/* s[0..n) against a pattern whose only special character is one '*' (any run, empty
 * too), ignoring case: '?' and '[' are plain characters to S3, not fnmatch's. */
static bool wild_match(const char *p, const char *s, size_t n)
{
    const char *star = strchr(p, '*');
    if (!star) return strlen(p) == n && strncasecmp(p, s, n) == 0;
    size_t pre = (size_t)(star - p), suf = strlen(star + 1);
    return n >= pre + suf && strncasecmp(p, s, pre) == 0 &&
           strncasecmp(star + 1, s + n - suf, suf) == 0;
}

static bool in_list(json_t *list, const char *s, size_t n, bool glob)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *p = json_string_value(x);
        if (!p) continue;
        if (glob ? wild_match(p, s, n) : strlen(p) == n && strncmp(p, s, n) == 0) return true;
    }
    return false;
}

/* Every header of a comma-separated Access-Control-Request-Headers is allowed by the rule. */
static bool headers_allowed(json_t *rule, const char *req)
{
    if (!req) return true;
    json_t *allowed = json_object_get(rule, "AllowedHeaders");
    const char *p = req;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *end = e;
        while (end > p && end[-1] == ' ') end--;
        if (end > p && !in_list(allowed, p, (size_t)(end - p), true)) return false;
        p = e;
    }
    return true;
}

static json_t *find_rule(json_t *rules, const char *origin, const char *method, const char *req_headers)
{
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        if (!in_list(json_object_get(r, "AllowedOrigins"), origin, strlen(origin), true)) continue;
        if (!in_list(json_object_get(r, "AllowedMethods"), method, strlen(method), false)) continue;
        if (!headers_allowed(r, req_headers)) continue;
        return r;
    }
    return NULL;
}

static bool origin_is_star(json_t *rule)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(rule, "AllowedOrigins"), i, x)
        if (!strcmp(json_string_value(x) ? json_string_value(x) : "", "*")) return true;
    return false;
}

static const char *join(nb_arena *a, json_t *list)
{
    nb_buf b;
    nb_buf_init(&b);
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        if (i) nb_buf_puts(&b, ", ");
        nb_buf_puts(&b, json_string_value(x) ? json_string_value(x) : "");
    }
    const char *s = nb_arena_strndup(a, b.data ? b.data : "", b.len);
    nb_buf_free(&b);
    return s;
}

typedef struct hdrs {
    nb_header h[12];
    size_t n;
    nb_arena *a;
} hdrs;

static void hadd(hdrs *h, const char *name, const char *value)
{
    if (!value || h->n >= NB_ARRAY_LEN(h->h)) return;
    h->h[h->n].name = name;
    h->h[h->n].name_len = strlen(name);
    h->h[h->n].value = value;
    h->h[h->n].value_len = strlen(value);
    h->n++;
}

/* The headers a matching rule gives (preflight adds the requested headers). */
static void rule_headers(hdrs *h, json_t *rule, const char *origin, const char *req_headers, bool preflight)
{
    bool star = origin_is_star(rule);
    hadd(h, "Access-Control-Allow-Origin", star ? "*" : origin);
    hadd(h, "Access-Control-Allow-Methods", join(h->a, json_object_get(rule, "AllowedMethods")));
    if (!star) hadd(h, "Access-Control-Allow-Credentials", "true");
    if (preflight && req_headers) hadd(h, "Access-Control-Allow-Headers", nb_arena_strdup(h->a, req_headers));
    json_t *ex = json_object_get(rule, "ExposeHeaders");
    if (json_array_size(ex)) hadd(h, "Access-Control-Expose-Headers", join(h->a, ex));
    json_t *ma = json_object_get(rule, "MaxAgeSeconds");
    if (json_is_integer(ma))
        hadd(h, "Access-Control-Max-Age", nb_arena_printf(h->a, "%lld", (long long)json_integer_value(ma)));
    hadd(h, "Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}

void nb_s3_cors_actual(nb_call *c, const nb_s3_bcfg *cfg)
{
    const char *origin = nb_call_header(c, "Origin");
    if (!origin || !cfg->cors || !c->http) return;
    /* once per answer: a browser POST asks before its policy check and again when it is
     * authorized */
    for (size_t i = 0; i < c->out_nheaders; i++)
        if (!strcasecmp(c->out_headers[i].name, "Access-Control-Allow-Origin")) return;
    /* a request that names the method it stands for (Access-Control-Request-Method) is
     * matched by that method, as Ceph's s3-tests expect of S3 (test_cors_origin_response) */
    const char *method = nb_call_header(c, "Access-Control-Request-Method");
    if (!method || !*method) method = c->http->method;
    json_t *rule = find_rule(cfg->cors, origin, method, NULL);
    if (!rule) return;
    hdrs h = {.a = c->arena};
    rule_headers(&h, rule, origin, NULL, false);
    for (size_t i = 0; i < h.n; i++) nb_s3_add_header(c, h.h[i].name, h.h[i].value);
}

static void cors_error(nb_req *r, int status, const char *code, const char *msg, const char *method,
                       const char *rtype)
{
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
    nb_buf_puts(&b, code);
    nb_buf_puts(&b, "</Code><Message>");
    nb_xml_escape(&b, msg, strlen(msg));
    nb_buf_puts(&b, "</Message>");
    if (method) {
        nb_buf_puts(&b, "<Method>");
        nb_xml_escape(&b, method, strlen(method));
        nb_buf_puts(&b, "</Method>");
    }
    if (rtype) nb_buf_printf(&b, "<ResourceType>%s</ResourceType>", rtype);
    /* HostId and x-amz-id-2 as every other S3 answer derives them from the request id */
    char host[80];
    nb_host_id(r->request_id, host);
    nb_buf_printf(&b, "<RequestId>%s</RequestId><HostId>%s</HostId></Error>", r->request_id, host);
    nb_header h[2] = {{"x-amz-request-id", 16, r->request_id, strlen(r->request_id)},
                      {"x-amz-id-2", 10, host, strlen(host)}};
    nb_resp_simple(r, status, "application/xml", b.data ? b.data : "", b.len, h, 2);
    nb_buf_free(&b);
}

void nb_s3_cors_preflight(nb_req *r, const char *path, size_t path_len)
{
    /* "/<bucket>[/<key>]" */
    if (path_len < 2) {
        cors_error(r, 400, "BadRequest", "Insufficient information. Bucket name needed.", NULL, NULL);
        return;
    }
    const char *p = path + 1;
    const char *slash = memchr(p, '/', path_len - 1);
    size_t bn = slash ? (size_t)(slash - p) : path_len - 1;
    bool object = slash && slash + 1 < path + path_len;
    char bucket[64];
    if (bn == 0 || bn >= sizeof bucket) {
        cors_error(r, 400, "BadRequest", "Insufficient information. Bucket name needed.", NULL, NULL);
        return;
    }
    memcpy(bucket, p, bn);
    bucket[bn] = 0;
    const char *origin = nb_req_header(r, "origin", NULL);
    const char *method = nb_req_header(r, "access-control-request-method", NULL);
    const char *req_headers = nb_req_header(r, "access-control-request-headers", NULL);
    if (!origin) {
        cors_error(r, 400, "BadRequest", "Insufficient information. Origin request header needed.", NULL, NULL);
        return;
    }
    if (!method || (strcmp(method, "GET") && strcmp(method, "PUT") && strcmp(method, "HEAD") &&
                    strcmp(method, "POST") && strcmp(method, "DELETE"))) {
        cors_error(r, 400, "BadRequest",
                   nb_arena_printf(r->arena, "Invalid Access-Control-Request-Method: %s", method ? method : "null"),
                   NULL, NULL);
        return;
    }
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(bucket);
    const char *rtype = object ? "OBJECT" : "BUCKET";
    if (!cfg) {
        cors_error(r, 403, "AccessForbidden", "CORSResponse: Bucket not found", method, rtype);
        return;
    }
    if (!cfg->cors) {
        nb_s3_bcfg_put(cfg);
        cors_error(r, 403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.", method, rtype);
        return;
    }
    json_t *rule = find_rule(cfg->cors, origin, method, req_headers);
    if (!rule) {
        nb_s3_bcfg_put(cfg);
        cors_error(r, 403, "AccessForbidden",
                   "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
                   "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
                   "are not whitelisted by the resource's CORS spec.",
                   method, rtype);
        return;
    }
    hdrs h = {.a = r->arena};
    char host[80];
    nb_host_id(r->request_id, host);
    hadd(&h, "x-amz-request-id", r->request_id);
    hadd(&h, "x-amz-id-2", host);
    rule_headers(&h, rule, origin, req_headers, true);
    nb_s3_bcfg_put(cfg);
    nb_resp_simple(r, 200, NULL, "", 0, h.h, h.n);
}
