/* match.c: nb_proto_match(): which operation of a model a request names.
 *   json       X-Amz-Target "<targetPrefix>.<Operation>"
 *   query, ec2 the Action parameter (query string or form body)
 *   rest-*     method + requestUri template ("/{Bucket}/{Key+}?uploads"), most specific wins:
 *              more literal query keys, then more literal path characters, then the operation
 *              whose required query/header members are present (S3 ListParts vs GetObject,
 *              UploadPartCopy vs UploadPart vs CopyObject vs PutObject), then not deprecated.
 * REST matching reads only the method, path, query string and headers, so streaming
 * operations are routed before their body is read. */
#include <stdio.h>

#include "proto/model_internal.h"

static int method_code(const char *m)
{
    if (!m) return 0;
    switch (m[0]) {
    case 'G':
        return strcmp(m, "GET") == 0 ? NB_HTTP_GET : 0;
    case 'P':
        if (strcmp(m, "POST") == 0) return NB_HTTP_POST;
        if (strcmp(m, "PUT") == 0) return NB_HTTP_PUT;
        if (strcmp(m, "PATCH") == 0) return NB_HTTP_PATCH;
        return 0;
    case 'D':
        return strcmp(m, "DELETE") == 0 ? NB_HTTP_DELETE : 0;
    case 'H':
        return strcmp(m, "HEAD") == 0 ? NB_HTTP_HEAD : 0;
    case 'O':
        return strcmp(m, "OPTIONS") == 0 ? NB_HTTP_OPTIONS : 0;
    default:
        return 0;
    }
}

int nb_uri_match(const char *tpl, const char *path, size_t pn, struct nb_labels *out)
{
    size_t i = 0, j = 0;
    int lit = 0;
    if (out) out->n = 0;
    while (tpl[i] && tpl[i] != '?') {
        char c = tpl[i];
        if (c == '{') {
            const char *close = strchr(tpl + i, '}');
            if (!close) return -1;
            const char *name = tpl + i + 1;
            size_t nl = (size_t)(close - name);
            bool greedy = nl > 0 && name[nl - 1] == '+';
            if (greedy) nl--;
            i = (size_t)(close - tpl) + 1;
            size_t k = j;
            if (greedy)
                k = pn;
            else
                while (k < pn && path[k] != '/')
                    k++;
            if (k == j) return -1; /* labels are never empty */
            if (out) {
                if (out->n >= NB_MAX_LABELS) return -1;
                out->l[out->n].name = name;
                out->l[out->n].name_len = nl;
                out->l[out->n].val = path + j;
                out->l[out->n].val_len = k - j;
                out->l[out->n].greedy = greedy;
                out->n++;
            }
            j = k;
            continue;
        }
        if (j >= pn || path[j] != c) {
            /* "/2015-03-31/functions/" also matches ".../functions" */
            if (c == '/' && j == pn && (tpl[i + 1] == '\0' || tpl[i + 1] == '?')) {
                i++;
                continue;
            }
            return -1;
        }
        i++;
        j++;
        lit++;
    }
    if (j == pn) return lit;
    if (j + 1 == pn && path[j] == '/' && j > 0) return lit; /* "/bucket/" is "/{Bucket}" */
    return -1;
}

/* Is key (and value, when given) among the raw query parameters? Literal keys in templates are
 * plain ASCII, which clients send unencoded. */
static bool query_has(const nb_wire_req *w, const char *key, size_t kn, const char *val, size_t vn,
                      bool check_val)
{
    const char *q = w->query;
    size_t n = q ? w->query_len : 0, i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        const char *eq = memchr(q + i, '=', j - i);
        size_t pk = eq ? (size_t)(eq - (q + i)) : j - i;
        if (pk == kn && memcmp(q + i, key, kn) == 0) {
            if (!check_val) return true;
            size_t pv = eq ? (size_t)(q + j - eq - 1) : 0;
            if (pv == vn && (vn == 0 || memcmp(eq + 1, val, vn) == 0)) return true;
        }
        i = j + 1;
    }
    return false;
}

/* Literal query keys of a template all present? Returns their count, or -1. */
static int literal_query(const nb_wire_req *w, const char *tpl)
{
    const char *q = strchr(tpl, '?');
    if (!q) return 0;
    q++;
    int count = 0;
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        bool ok = eq ? query_has(w, q, (size_t)(eq - q), eq + 1, (size_t)(q + len - eq - 1), true)
                     : query_has(w, q, len, NULL, 0, false);
        if (!ok) return -1;
        count++;
        q += len;
        if (*q == '&') q++;
    }
    return count;
}

/* +1 for each required query/header member present, -1 for each absent; *missing counts the
 * absent ones. */
static int required_balance(const nb_model *m, const nb_op *op, const nb_wire_req *w, int *missing)
{
    const struct nb_shape *s = nb_op_input(m, op);
    int bal = 0;
    *missing = 0;
    if (!s) return 0;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        if (!(mb->flags & NB_MF_REQUIRED)) continue;
        const char *wn = nb_member_wire(m, mb);
        bool have;
        if (mb->location == NB_LOC_QUERYSTRING)
            have = query_has(w, wn, strlen(wn), NULL, 0, false);
        else if (mb->location == NB_LOC_HEADER)
            have = nb_wire_header(w, wn, NULL) != NULL;
        else
            continue;
        bal += have ? 1 : -1;
        *missing += !have;
    }
    return bal;
}

static const nb_op *rest_match(const nb_model *m, const nb_wire_req *w, nb_aws_error *e)
{
    int method = method_code(w->method);
    bool s3 = strcmp(nb_mstr(m, m->name), "s3") == 0;
    const nb_op *best = NULL;
    int64_t best_score = -1;
    for (uint32_t i = 0; method && i < m->nops; i++) {
        const nb_op *op = &m->ops[i];
        if (op->method != method) continue;
        const char *tpl = nb_mstr(m, op->uri);
        /* A template with literal query keys ("?acl") needs a query string: without one, skip
         * it before matching its path (most of S3's GET templates; literal_query says the same). */
        if (!w->query_len) {
            const char *q = strchr(tpl, '?');
            if (q && q[1]) continue;
        }
        int lit = nb_uri_match(tpl, w->path, w->path_len, NULL);
        if (lit < 0) continue;
        int nq = literal_query(w, tpl);
        if (nq < 0) continue;
        int missing;
        int bal = required_balance(m, op, w, &missing);
        /* S3 routes by its required parameters (uploadId, partNumber, x-amz-copy-source):
         * POST /bucket/key without uploadId is no CompleteMultipartUpload. Elsewhere they only
         * break ties, so a missing one is reported by validation rather than misrouted. */
        if (missing && s3) continue;
        if (bal < -500) bal = -500;
        if (bal > 500) bal = 500;
        int64_t score = ((int64_t)nq << 40) | ((int64_t)lit << 12) | ((int64_t)(bal + 512) << 1) |
                        !(op->flags & NB_OF_DEPRECATED);
        if (score > best_score) {
            best_score = score;
            best = op;
        }
    }
    if (best) return best;
    if (s3) {
        /* S3 answers a method it has no operation for with 405 and names the resource kind. */
        const char *p = w->path;
        size_t n = w->path_len;
        const char *kind = "SERVICE";
        if (n > 1) {
            const char *slash = memchr(p + 1, '/', n - 1);
            kind = (slash && (size_t)(slash - p) + 1 < n) ? "OBJECT" : "BUCKET";
        }
        nb_aws_error_set(e, 405, "MethodNotAllowed",
                         "The specified method is not allowed against this resource.");
        e->extra =
            json_pack("{s:s,s:s}", "Method", w->method ? w->method : "", "ResourceType", kind);
        return NULL;
    }
    /* Coral-based REST services answer an unknown route with UnknownOperationException. */
    nb_aws_error_set(e, 404, "UnknownOperationException", "Unknown operation %s %.*s",
                     w->method ? w->method : "", (int)(w->path_len > 200 ? 200 : w->path_len),
                     w->path);
    return NULL;
}

const nb_op *nb_proto_match(const nb_model *m, const nb_wire_req *w, nb_aws_error *e)
{
    switch (m->protocol) {
    case NB_PROTO_JSON: {
        size_t tl = 0;
        const char *t = nb_wire_header(w, "X-Amz-Target", &tl);
        const char *dot = t ? memchr(t, '.', tl) : NULL;
        const char *tp = nb_mstr(m, m->target_prefix);
        const nb_op *op = NULL;
        if (dot && (size_t)(dot - t) == strlen(tp) && memcmp(t, tp, strlen(tp)) == 0)
            op = nb_model_op_n(m, dot + 1, tl - (size_t)(dot - t) - 1);
        if (!op)
            nb_aws_error_set(e, 400, "UnknownOperationException", "%s%.*s",
                             t ? "Unknown operation " : "Missing X-Amz-Target header",
                             t ? (int)(tl > 200 ? 200 : tl) : 0, t ? t : "");
        return op;
    }
    case NB_PROTO_QUERY:
    case NB_PROTO_EC2: {
        char buf[128];
        size_t n = 0;
        const char *a = nb_query_action(w, buf, sizeof(buf), &n);
        bool ec2 = m->protocol == NB_PROTO_EC2;
        if (!a) {
            /* No Action at all: what AWS's query endpoints say to a bare POST. */
            if (ec2)
                nb_aws_error_set(e, 400, "MissingAction",
                                 "The request must contain the parameter Action");
            else
                nb_aws_error_set(e, 400, "MissingAction", "Missing Action");
            return NULL;
        }
        const nb_op *op = nb_model_op_n(m, a, n);
        if (op) return op;
        if (ec2)
            nb_aws_error_set(e, 400, "InvalidAction",
                             "The action %s is not valid for this web service.", a);
        else
            nb_aws_error_set(e, 400, "InvalidAction", "Could not find operation %s for version %s",
                             a, nb_mstr(m, m->api_version));
        return NULL;
    }
    default:
        return rest_match(m, w, e);
    }
}
