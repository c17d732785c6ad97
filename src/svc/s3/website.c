/* website.c: S3 static website hosting: Put/Get/DeleteBucketWebsite (index and error
 * documents, RedirectAllRequestsTo, routing rules), and the website endpoint itself: requests
 * whose Host is <bucket>.s3-website[.-]<region>.<domain> (or any Host on --website-port) are
 * answered here, anonymously, as AWS's website endpoint does: GET/HEAD only, allowed by the
 * bucket policy (public access), index documents for "folders", per-object
 * x-amz-website-redirect-location, routing rules, and HTML error pages (or the bucket's
 * ErrorDocument). Objects are served through GetObject's own handler, so ranges, conditions
 * and verified reads behave as on the REST endpoint. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "iam/authz.h"
#include "svc/s3/access.h"

static char web_domain[256] = "s3.localhost";

void nb_s3_website_set_domain(const char *domain)
{
    if (domain && *domain) snprintf(web_domain, sizeof web_domain, "%s", domain);
}

/* ---------------------------------------------------------------- configuration */

static int web_invalid(nb_call *c, const char *msg)
{
    return nb_s3_error(c, 400, "InvalidArgument", msg, NULL);
}

int nb_s3_op_put_bucket_website(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *w = json_object_get(c->input, "WebsiteConfiguration");
    if (!json_is_object(w)) return nb_s3_malformed_xml(c);
    json_t *all = json_object_get(w, "RedirectAllRequestsTo");
    json_t *idx = json_object_get(w, "IndexDocument");
    json_t *rules = json_object_get(w, "RoutingRules");
    if (all) {
        if (idx || json_object_get(w, "ErrorDocument") || rules)
            return web_invalid(c, "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.");
        const char *host = json_string_value(json_object_get(all, "HostName"));
        if (!host || !*host) return nb_s3_malformed_xml(c);
        const char *proto = json_string_value(json_object_get(all, "Protocol"));
        if (proto && strcmp(proto, "http") && strcmp(proto, "https"))
            return web_invalid(c, "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.");
    } else {
        const char *suffix = json_string_value(json_object_get(idx, "Suffix"));
        if (!idx)
            return web_invalid(c, "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty");
        if (!suffix || !*suffix || strchr(suffix, '/'))
            return web_invalid(c, "The IndexDocument Suffix is not well formed");
        json_t *err = json_object_get(w, "ErrorDocument");
        if (err) {
            const char *k = json_string_value(json_object_get(err, "Key"));
            if (!k || !*k) return web_invalid(c, "The ErrorDocument Key is not well formed");
        }
    }
    if (json_array_size(rules) > 50) return web_invalid(c, "The number of routing rules must not exceed the allowed limit of 50.");
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        json_t *red = json_object_get(r, "Redirect");
        if (!json_is_object(red) || !json_object_size(red)) return nb_s3_malformed_xml(c);
        if (json_object_get(red, "ReplaceKeyWith") && json_object_get(red, "ReplaceKeyPrefixWith"))
            return nb_s3_error(c, 400, "InvalidRequest",
                               "You can only define ReplaceKeyPrefix or ReplaceKey but not both.", NULL);
        const char *code = json_string_value(json_object_get(red, "HttpRedirectCode"));
        if (code && (strlen(code) != 3 || code[0] != '3'))
            return web_invalid(c, "The provided HTTP redirect code is not valid. It should be a string containing a number.");
        const char *proto = json_string_value(json_object_get(red, "Protocol"));
        if (proto && strcmp(proto, "http") && strcmp(proto, "https"))
            return web_invalid(c, "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.");
        json_t *cond = json_object_get(r, "Condition");
        if (cond) {
            const char *ec = json_string_value(json_object_get(cond, "HttpErrorCodeReturnedEquals"));
            if (ec && (strlen(ec) != 3 || (ec[0] != '4' && ec[0] != '5')))
                return web_invalid(c, "The provided HTTP error code is not valid. Valid codes are 4XX or 5XX.");
            if (!json_object_get(cond, "KeyPrefixEquals") && !ec)
                return web_invalid(c, "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.");
        }
    }
    return nb_s3_cfg_store(c, b.name, "website", w);
}

int nb_s3_op_get_bucket_website(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *d = NULL;
    if (nb_s3_cfg_load(c, b.name, "website", &d)) return -1;
    if (!d)
        return nb_s3_error(c, 404, "NoSuchWebsiteConfiguration",
                           "The specified bucket does not have a website configuration", "BucketName",
                           b.name, NULL);
    c->output = d;
    return 0;
}

int nb_s3_op_delete_bucket_website(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    if (nb_s3_cfg_store(c, b.name, "website", NULL)) return -1;
    c->out_status = 204;
    return 0;
}

/* ---------------------------------------------------------------- the endpoint */

static bool domain_is(const char *s, size_t n, const char *d)
{
    size_t dn = strlen(d);
    return dn && n == dn && strncasecmp(s, d, n) == 0;
}

bool nb_s3_website_host(const char *host, size_t n, char bucket[64])
{
    const char *colon = memchr(host, ':', n);
    if (colon) n = (size_t)(colon - host);
    static const char mark[] = ".s3-website";
    size_t mn = sizeof mark - 1;
    for (size_t i = 1; i + mn < n; i++) {
        if (strncasecmp(host + i, mark, mn) != 0) continue;
        const char *rest = host + i + mn;
        size_t rn = n - i - mn;
        if (*rest == '-') { /* -<region>.<domain> */
            const char *dot = memchr(rest, '.', rn);
            if (!dot) continue;
            rn -= (size_t)(dot - rest);
            rest = dot;
        }
        if (*rest != '.') continue;
        rest++;
        rn--;
        /* ".<region>.<domain>" (AWS's dot-style endpoints) or ".<domain>" */
        bool ok = domain_is(rest, rn, web_domain) || domain_is(rest, rn, "localhost");
        if (!ok) {
            const char *dot = memchr(rest, '.', rn);
            if (dot) ok = domain_is(dot + 1, rn - (size_t)(dot + 1 - rest), web_domain) ||
                          domain_is(dot + 1, rn - (size_t)(dot + 1 - rest), "localhost");
        }
        if (!ok || i >= 64) continue;
        for (size_t j = 0; j < i; j++) bucket[j] = (char)tolower((unsigned char)host[j]);
        bucket[i] = 0;
        return true;
    }
    return false;
}

typedef struct web {
    nb_req *r;
    char bucket[64];
    const char *key;  /* decoded, without the leading '/' */
    size_t key_len;
    const nb_s3_bcfg *cfg;
    nb_buf extra;     /* the custom error document failure section */
} web;

static void page_item(nb_buf *b, const char *name, const char *v)
{
    if (!v) return;
    nb_buf_printf(b, "<li>%s: ", name);
    nb_xml_escape(b, v, strlen(v));
    nb_buf_puts(b, "</li>\n");
}

static const char *reason(int status)
{
    switch (status) {
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 412: return "Precondition Failed";
    case 416: return "Requested Range Not Satisfiable";
    case 500: return "Internal Server Error";
    default: return "Error";
    }
}

/* AWS's website error page. */
static void error_page(web *w, int status, const char *code, const char *msg, const char *kname,
                       const char *kval)
{
    nb_req *r = w->r;
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_printf(&b, "<html>\n<head><title>%d %s</title></head>\n<body>\n<h1>%d %s</h1>\n<ul>\n", status,
                  reason(status), status, reason(status));
    page_item(&b, "Code", code);
    page_item(&b, "Message", msg);
    page_item(&b, kname, kval);
    char host[80];
    nb_host_id(r->request_id, host);
    page_item(&b, "RequestId", r->request_id);
    page_item(&b, "HostId", host);
    nb_buf_puts(&b, "</ul>\n");
    if (w->extra.len) nb_buf_append(&b, w->extra.data, w->extra.len);
    nb_buf_puts(&b, "<hr/>\n</body>\n</html>\n");
    /* The page's items are headers too (x-amz-error-code, -message, -detail-<name>): a HEAD
     * answer carries no page, and AWS's website endpoint says the same in its headers. */
    nb_header h[6] = {{"Content-Type", 12, "text/html; charset=utf-8", 24},
                      {"x-amz-request-id", 16, r->request_id, strlen(r->request_id)},
                      {"x-amz-id-2", 10, host, strlen(host)},
                      {"x-amz-error-code", 16, code, strlen(code)},
                      {"x-amz-error-message", 19, msg ? msg : "", msg ? strlen(msg) : 0}};
    size_t nh = 5;
    if (kname && kval) {
        const char *dn = nb_arena_printf(r->arena, "x-amz-error-detail-%s", kname);
        if (dn) h[nh++] = (nb_header){dn, strlen(dn), kval, strlen(kval)};
    }
    nb_resp_simple(r, status, NULL, b.data ? b.data : "", b.len, h, nh);
    nb_buf_free(&b);
}

static void redirect(web *w, int status, const char *location)
{
    nb_req *r = w->r;
    char host[80];
    nb_host_id(r->request_id, host);
    nb_header h[3] = {{"x-amz-request-id", 16, r->request_id, strlen(r->request_id)},
                      {"x-amz-id-2", 10, host, strlen(host)},
                      {"Location", 8, location, strlen(location)}};
    nb_resp_simple(r, status, NULL, "", 0, h, 3);
}

static const char *req_host(nb_req *r)
{
    const char *h = nb_req_header(r, "host", NULL);
    return h ? h : "localhost";
}

/* A nb_call for one object read by an anonymous caller. */
static void call_init(web *w, nb_call *c, const char *key, size_t key_len, bool head)
{
    nb_req *r = w->r;
    memset(c, 0, sizeof *c);
    c->http = r;
    c->svc = nb_service_by_name("s3");
    c->model = nb_model_find("s3");
    c->op_name = head ? "HeadObject" : "GetObject";
    c->op = c->model ? nb_model_op(c->model, c->op_name) : NULL;
    c->region = nb_s3_region;
    c->request_id = r->request_id;
    c->arena = r->arena;
    c->out_fd = -1;
    c->who.type = NB_PRINCIPAL_ANONYMOUS;
    c->input = json_object();
    json_object_set_new(c->input, "Bucket", json_string(w->bucket));
    json_object_set_new(c->input, "Key", json_stringn(key, key_len));
    static const char *const hs[][2] = {{"range", "Range"}, {"if-match", "IfMatch"}, {"if-none-match", "IfNoneMatch"}};
    for (size_t i = 0; i < NB_ARRAY_LEN(hs); i++) {
        const char *v = nb_req_header(r, hs[i][0], NULL);
        if (v) json_object_set_new(c->input, hs[i][1], json_string(v));
    }
    static const char *const ts[][2] = {{"if-modified-since", "IfModifiedSince"},
                                        {"if-unmodified-since", "IfUnmodifiedSince"}};
    for (size_t i = 0; i < NB_ARRAY_LEN(ts); i++) {
        size_t n;
        const char *v = nb_req_header(r, ts[i][0], &n);
        double t;
        if (v && nb_time_parse(v, n, &t) == 0) json_object_set_new(c->input, ts[i][1], json_real(t));
    }
}

static void call_free(nb_call *c)
{
    json_decref(c->input);
    json_decref(c->output);
    if (c->out_fd >= 0) close(c->out_fd);
    c->input = c->output = NULL;
    c->out_fd = -1;
    nb_aws_error_clear(&c->err);
}

/* 0 allowed, -1 denied (AccessDenied). */
static int authorize(web *w, const char *key, size_t key_len)
{
    nb_call c;
    call_init(w, &c, key, key_len, false);
    int rc = nb_iam_authorize(&c, nb_service_op(c.svc, "GetObject"));
    call_free(&c);
    return rc;
}

/* AWS answers a missing key with 404 only when the (anonymous) reader may list the bucket;
 * a site whose policy grants s3:GetObject alone answers 403 AccessDenied instead, so that
 * readers can not tell which keys exist. 0 may list, -1 not. */
static int may_list(web *w)
{
    nb_call c;
    call_init(w, &c, "", 0, false);
    int rc = nb_s3_may_list(&c, w->bucket);
    call_free(&c);
    return rc;
}

/* Look up the current version: 1 = exists, 0 = missing (or a delete marker), -1 = failure. */
static int exists(web *w, const char *key, size_t key_len, nb_s3_object *o)
{
    int rc = nb_s3_object_get(nb_s3_g, w->bucket, key, key_len, NULL, false, w->r->arena, o);
    if (rc == NB_S3_OK) return o->delete_marker ? 0 : 1;
    if (rc == NB_S3_NO_KEY || rc == NB_S3_NO_BUCKET) return 0;
    return -1;
}

/* Send an object through GetObject's handler with the given status (200, or the error's status
 * for an error document). Returns 0 when answered, -1 when the handler failed before (c.err). */
static int serve(web *w, const char *key, size_t key_len, int status, nb_aws_error *err_out)
{
    nb_req *r = w->r;
    bool head = !strcmp(r->method, "HEAD");
    nb_call c;
    call_init(w, &c, key, key_len, head);
    if (status != 200) {
        /* an error document is the whole document: no ranges or conditions */
        json_object_del(c.input, "Range");
        json_object_del(c.input, "IfMatch");
        json_object_del(c.input, "IfNoneMatch");
        json_object_del(c.input, "IfModifiedSince");
        json_object_del(c.input, "IfUnmodifiedSince");
    }
    int rc = head ? nb_s3_op_head_object(&c) : nb_s3_op_get_object(&c);
    if (rc != 0) {
        *err_out = c.err;
        memset(&c.err, 0, sizeof c.err);
        call_free(&c);
        return -1;
    }
    nb_wire_resp wr;
    memset(&wr, 0, sizeof wr);
    if (nb_proto_serialize(c.model, c.op, c.output, r->request_id, r->arena, &wr) < 0) {
        nb_buf_free(&wr.body);
        call_free(&c);
        nb_aws_error_set(err_out, 500, "InternalError", "We encountered an internal error. Please try again.");
        return -1;
    }
    for (size_t i = 0; i < c.out_nheaders && wr.nheaders < NB_ARRAY_LEN(wr.headers); i++)
        wr.headers[wr.nheaders++] = c.out_headers[i];
    /* drop the serializer's Content-Length: the response carries its own */
    for (size_t i = 0; i < wr.nheaders; i++) {
        if (wr.headers[i].name_len == 14 && !strncasecmp(wr.headers[i].name, "Content-Length", 14)) {
            wr.headers[i] = wr.headers[--wr.nheaders];
            break;
        }
    }
    int st = status != 200 ? status : c.out_status ? c.out_status : wr.status ? wr.status : 200;
    nb_buf_free(&wr.body);
    if (c.out_stream && c.out_fd < 0 && !c.out_body) {
        nb_resp_start(r, st, wr.headers, wr.nheaders, c.out_len);
        if (!head && c.out_stream(&c) < 0) nb_resp_close_after(r);
    } else if (c.out_fd >= 0) {
        nb_resp_start(r, st, wr.headers, wr.nheaders, c.out_len);
        if (!head && c.out_len > 0)
            nb_resp_sendfile(r, c.out_fd, c.out_off, (size_t)c.out_len);
        else
            close(c.out_fd);
        c.out_fd = -1;
    } else if (c.out_body) {
        nb_resp_start(r, st, wr.headers, wr.nheaders, (int64_t)c.out_body_len);
        if (!head && c.out_body_len) nb_resp_write(r, c.out_body, c.out_body_len);
    } else {
        /* HEAD: the length the GET would have */
        json_t *cl = json_object_get(c.output, "ContentLength");
        nb_resp_start(r, st, wr.headers, wr.nheaders, head && json_is_integer(cl) ? json_integer_value(cl) : 0);
    }
    nb_resp_end(r);
    call_free(&c);
    return 0;
}

/* A routing rule's redirect. */
static void rule_redirect(web *w, json_t *rule, const char *key, size_t key_len)
{
    json_t *red = json_object_get(rule, "Redirect");
    const char *proto = json_string_value(json_object_get(red, "Protocol"));
    const char *host = json_string_value(json_object_get(red, "HostName"));
    const char *code = json_string_value(json_object_get(red, "HttpRedirectCode"));
    const char *rk = json_string_value(json_object_get(red, "ReplaceKeyWith"));
    const char *rp = json_string_value(json_object_get(red, "ReplaceKeyPrefixWith"));
    const char *pfx = json_string_value(json_object_get(json_object_get(rule, "Condition"), "KeyPrefixEquals"));
    nb_buf k;
    nb_buf_init(&k);
    if (rk) {
        nb_buf_puts(&k, rk);
    } else if (rp) {
        size_t pn = pfx ? strlen(pfx) : 0;
        nb_buf_puts(&k, rp);
        if (pn <= key_len) nb_buf_append(&k, key + pn, key_len - pn);
    } else {
        nb_buf_append(&k, key, key_len);
    }
    nb_buf enc;
    nb_buf_init(&enc);
    nb_url_encode(&enc, k.data ? k.data : "", k.len, true);
    const char *loc = nb_arena_printf(w->r->arena, "%s://%s/%.*s", proto ? proto : (w->r->tls ? "https" : "http"),
                                      host ? host : req_host(w->r), (int)enc.len, enc.data ? enc.data : "");
    nb_buf_free(&k);
    nb_buf_free(&enc);
    redirect(w, code ? atoi(code) : 301, loc);
}

/* The first routing rule whose condition holds (error code: 0 before the lookup). */
static json_t *match_rule(web *w, const char *key, size_t key_len, int error)
{
    json_t *rules = json_object_get(w->cfg->website, "RoutingRules");
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        json_t *cond = json_object_get(r, "Condition");
        const char *pfx = json_string_value(json_object_get(cond, "KeyPrefixEquals"));
        const char *ec = json_string_value(json_object_get(cond, "HttpErrorCodeReturnedEquals"));
        if (pfx && (strlen(pfx) > key_len || memcmp(pfx, key, strlen(pfx)) != 0)) continue;
        if (ec ? (error == 0 || atoi(ec) != error) : error != 0) continue;
        return r;
    }
    return NULL;
}

/* An error: a routing rule for it, the ErrorDocument, or AWS's page. */
static void fail(web *w, int status, const char *code, const char *msg, const char *key, size_t key_len)
{
    json_t *rule = match_rule(w, key, key_len, status);
    if (rule) {
        rule_redirect(w, rule, key, key_len);
        return;
    }
    const char *kv = nb_arena_strndup(w->r->arena, key, key_len);
    const char *ed = json_string_value(json_object_get(json_object_get(w->cfg->website, "ErrorDocument"), "Key"));
    if (ed && (status == 403 || status == 404)) {
        nb_aws_error e;
        memset(&e, 0, sizeof e);
        if (authorize(w, ed, strlen(ed)) == 0) {
            nb_s3_object o;
            int ex = exists(w, ed, strlen(ed), &o);
            if (ex == 1 && serve(w, ed, strlen(ed), status, &e) == 0) return;
            if (ex != 1 && may_list(w) < 0)
                nb_aws_error_set(&e, 403, "AccessDenied", "Access Denied");
            else if (ex != 1)
                nb_aws_error_set(&e, 404, "NoSuchKey", "The specified key does not exist.");
        } else {
            nb_aws_error_set(&e, 403, "AccessDenied", "Access Denied");
        }
        nb_buf_puts(&w->extra, "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n");
        page_item(&w->extra, "Code", e.code);
        page_item(&w->extra, "Message", e.message);
        page_item(&w->extra, "Key", ed);
        nb_buf_puts(&w->extra, "</ul>\n");
        nb_aws_error_clear(&e);
    }
    error_page(w, status, code, msg, code && !strcmp(code, "NoSuchKey") ? "Key" : NULL, kv);
}

static void website_work(nb_req *r)
{
    /* Work on a copy on this worker's stack: the answer frees the request and its arena
     * (where the original lives), and the cleanup after `out:` still needs w. */
    web local = *(web *)r->ud;
    web *w = &local;
    r->ud = w;
    nb_buf_init(&w->extra);
    w->cfg = nb_s3_bcfg_get(w->bucket);
    if (!w->cfg) {
        error_page(w, 404, "NoSuchBucket", "The specified bucket does not exist", "BucketName", w->bucket);
        goto out;
    }
    json_t *site = w->cfg->website;
    if (!site) {
        error_page(w, 404, "NoSuchWebsiteConfiguration",
                   "The specified bucket does not have a website configuration", "BucketName", w->bucket);
        goto out;
    }
    json_t *all = json_object_get(site, "RedirectAllRequestsTo");
    if (all) {
        const char *proto = json_string_value(json_object_get(all, "Protocol"));
        const char *host = json_string_value(json_object_get(all, "HostName"));
        const char *loc = nb_arena_printf(r->arena, "%s://%s%.*s", proto ? proto : (r->tls ? "https" : "http"),
                                          host ? host : "", (int)r->path_len, r->path);
        redirect(w, 301, loc);
        goto out;
    }
    const char *key = w->key;
    size_t kn = w->key_len;
    json_t *rule = match_rule(w, key, kn, 0);
    if (rule) {
        rule_redirect(w, rule, key, kn);
        goto out;
    }
    const char *suffix = json_string_value(json_object_get(json_object_get(site, "IndexDocument"), "Suffix"));
    if (!suffix) suffix = "index.html";
    const char *want = key;
    size_t wn = kn;
    if (kn == 0 || key[kn - 1] == '/') {
        char *k = nb_arena_printf(r->arena, "%.*s%s", (int)kn, key, suffix);
        want = k;
        wn = strlen(k);
    }
    if (authorize(w, want, wn) < 0) {
        fail(w, 403, "AccessDenied", "Access Denied", key, kn);
        goto out;
    }
    nb_s3_object o;
    int ex = exists(w, want, wn, &o);
    if (ex < 0) {
        error_page(w, 500, "InternalError", "We encountered an internal error. Please try again.", NULL, NULL);
        goto out;
    }
    if (ex == 0) {
        /* "/docs" with "docs/index.html" present: AWS redirects to the folder. */
        if (want == key) {
            char *ik = nb_arena_printf(r->arena, "%.*s/%s", (int)kn, key, suffix);
            nb_s3_object io;
            if (exists(w, ik, strlen(ik), &io) == 1 && authorize(w, ik, strlen(ik)) == 0) {
                redirect(w, 302, nb_arena_printf(r->arena, "%.*s/", (int)r->path_len, r->path));
                goto out;
            }
        }
        if (may_list(w) < 0)
            fail(w, 403, "AccessDenied", "Access Denied", key, kn);
        else
            fail(w, 404, "NoSuchKey", "The specified key does not exist.", want, wn);
        goto out;
    }
    json_t *attrs = o.attrs ? json_loads(o.attrs, 0, NULL) : NULL;
    const char *loc = json_string_value(json_object_get(attrs, "WebsiteRedirectLocation"));
    if (loc) {
        redirect(w, 301, nb_arena_strdup(r->arena, loc));
        json_decref(attrs);
        goto out;
    }
    json_decref(attrs);
    nb_aws_error e;
    memset(&e, 0, sizeof e);
    if (serve(w, want, wn, 200, &e) < 0) {
        if (e.status == 304) {
            nb_header h[1] = {{"x-amz-request-id", 16, r->request_id, strlen(r->request_id)}};
            nb_resp_simple(r, 304, NULL, "", 0, h, 1);
        } else if (e.status == 404) {
            fail(w, 404, e.code, e.message, want, wn);
        } else {
            error_page(w, e.status ? e.status : 500, e.code[0] ? e.code : "InternalError", e.message, NULL, NULL);
        }
        nb_aws_error_clear(&e);
    }
out:
    nb_buf_free(&w->extra);
    nb_s3_bcfg_put(w->cfg);
    w->cfg = NULL;
}

void nb_s3_website_request(nb_req *r, const char *bucket)
{
    web *w = nb_arena_calloc(r->arena, sizeof *w);
    if (!w) {
        nb_resp_simple(r, 503, "text/plain", "out of memory\n", 14, NULL, 0);
        return;
    }
    w->r = r;
    snprintf(w->bucket, sizeof w->bucket, "%s", bucket);
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
        error_page(w, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                   "Method", r->method);
        return;
    }
    const char *p = r->path;
    size_t pn = r->path_len;
    if (pn && *p == '/') {
        p++;
        pn--;
    }
    char *k = nb_arena_alloc(r->arena, pn + 1);
    ssize_t kn = k ? nb_url_decode(p, pn, k, false) : -1;
    if (kn < 0) {
        error_page(w, 400, "InvalidURI", "Couldn't parse the specified URI.", NULL, NULL);
        return;
    }
    k[kn] = 0;
    w->key = k;
    w->key_len = (size_t)kn;
    r->log_service = "s3";
    r->log_operation = "WebsiteGet";
    r->ud = w;
    nb_req_offload(r, website_work);
}

/* A path with a percent sign not followed by two hex digits ("%zz", a trailing "%4"): AWS
 * answers 400 InvalidURI naming the URI, before it looks at the signature (which could not
 * be checked against such a path anyway). */
static bool bad_escape(nb_req *r, const char *path, size_t path_len)
{
    for (size_t i = 0; i < path_len; i++)
        if (path[i] == '%' && (i + 2 >= path_len || !isxdigit((unsigned char)path[i + 1]) ||
                               !isxdigit((unsigned char)path[i + 2])))
            goto bad;
    return false;
bad:;
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidURI</Code>"
                    "<Message>Couldn't parse the specified URI.</Message><URI>");
    nb_xml_escape(&b, r->path, r->path_len);
    char host[80];
    nb_host_id(r->request_id, host);
    nb_buf_printf(&b, "</URI><RequestId>%s</RequestId><HostId>%s</HostId></Error>", r->request_id,
                  host);
    nb_header h[2] = {{"x-amz-request-id", 16, r->request_id, strlen(r->request_id)},
                      {"x-amz-id-2", 10, host, strlen(host)}};
    r->log_service = "s3";
    nb_resp_simple(r, 400, "application/xml", b.data ? b.data : "", b.len, h, 2);
    nb_buf_free(&b);
    return true;
}

/* The service's raw-request hook (dispatcher): CORS preflights and website endpoints. */
bool nb_s3_raw_request(nb_req *r, const char *path, size_t path_len, bool website_port)
{
    size_t hn = 0;
    const char *host = nb_req_header(r, "host", &hn);
    char bucket[64];
    if (host && nb_s3_website_host(host, hn, bucket)) {
        nb_s3_website_request(r, bucket);
        return true;
    }
    if (website_port) {
        /* the Host names the bucket (a CNAME to the website endpoint, as AWS) */
        if (!host) {
            nb_resp_simple(r, 400, "text/plain", "Host header required\n", 21, NULL, 0);
            return true;
        }
        const char *colon = memchr(host, ':', hn);
        size_t bn = colon ? (size_t)(colon - host) : hn;
        if (bn >= sizeof bucket) bn = sizeof bucket - 1;
        for (size_t i = 0; i < bn; i++) bucket[i] = (char)tolower((unsigned char)host[i]);
        bucket[bn] = 0;
        nb_s3_website_request(r, bucket);
        return true;
    }
    if (bad_escape(r, path, path_len)) return true;
    if (!strcmp(r->method, "OPTIONS")) {
        nb_s3_cors_preflight(r, path, path_len);
        return true;
    }
    return false;
}
