/* rest.c: input of the rest-json and rest-xml protocols: members bound to URI labels
 * ({Bucket}, greedy {Key+}), query string parameters, headers (and maps of prefixed headers such
 * as x-amz-meta-*), and the body: a payload member (raw blob/string, or a structure as JSON or
 * XML) or the remaining members as one JSON object / XML element. */
#include <stdlib.h>

#include "proto/model_internal.h"

struct qpair {
    const char *k, *v;
    size_t kl, vl;
};

static int split_query(nb_arena *a, const char *q, size_t n, struct qpair **out, size_t *np)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (q[i] == '&') count++;
    struct qpair *ps = nb_arena_alloc(a, (count + 1) * sizeof(*ps));
    if (!ps) return -1;
    size_t i = 0, k = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(q + i, '=', j - i);
            size_t kl = eq ? (size_t)(eq - (q + i)) : j - i;
            size_t vl = eq ? (size_t)(q + j - eq - 1) : 0;
            char *kb = nb_arena_alloc(a, kl + 1), *vb = nb_arena_alloc(a, vl + 1);
            if (!kb || !vb) return -1;
            ssize_t dk = nb_url_decode(q + i, kl, kb, true);
            if (dk < 0) memcpy(kb, q + i, kl), dk = (ssize_t)kl;
            kb[dk] = '\0';
            ssize_t dv = eq ? nb_url_decode(eq + 1, vl, vb, true) : 0;
            if (dv < 0) memcpy(vb, eq + 1, vl), dv = (ssize_t)vl;
            vb[dv] = '\0';
            ps[k].k = kb;
            ps[k].kl = (size_t)dk;
            ps[k].v = vb;
            ps[k].vl = (size_t)dv;
            k++;
        }
        i = j + 1;
    }
    *out = ps;
    *np = k;
    return 0;
}

static bool is_literal_key(const char *tpl, const char *k, size_t kl)
{
    const char *q = strchr(tpl, '?');
    if (!q) return false;
    q++;
    while (*q) {
        size_t len = strcspn(q, "&=");
        if (len == kl && memcmp(q, k, kl) == 0) return true;
        q += strcspn(q, "&");
        if (*q) q++;
    }
    return false;
}

static bool claimed_by_member(const nb_model *m, const struct nb_shape *s, const char *k, size_t kl)
{
    for (uint32_t i = 0; i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        if (mb->location != NB_LOC_QUERYSTRING) continue;
        const char *wn = nb_member_wire(m, mb);
        if (strlen(wn) == kl && memcmp(wn, k, kl) == 0 &&
            nb_member_shape(m, mb)->type != NB_TYPE_MAP)
            return true;
    }
    return false;
}

static int set_member(struct nb_pin *p, json_t *input, const struct nb_member *mb, json_t *v)
{
    if (!v) return -1;
    if (json_object_set_new_nocheck(input, nb_mstr(p->m, mb->name), v))
        return nb_aws_error_set(p->e, 503, "ServiceUnavailable", "Out of memory");
    return 0;
}

static int bind_query(struct nb_pin *p, const struct nb_shape *s, const struct nb_member *mb,
                      struct qpair *ps, size_t np, const char *tpl, json_t *input)
{
    const nb_model *m = p->m;
    const struct nb_shape *ms = nb_member_shape(m, mb);
    const char *wn = nb_member_wire(m, mb);
    size_t wl = strlen(wn);
    if (ms->type == NB_TYPE_LIST) {
        const struct nb_member *lm = &m->members[ms->first];
        json_t *arr = NULL;
        for (size_t i = 0; i < np; i++) {
            if (ps[i].kl != wl || memcmp(ps[i].k, wn, wl) != 0) continue;
            if (!arr && !(arr = json_array())) return -1;
            json_t *v = nb_in_scalar(p, lm, ps[i].v, ps[i].vl, wn, false);
            if (!v) {
                json_decref(arr);
                return -1;
            }
            json_array_append_new(arr, v);
        }
        return arr ? set_member(p, input, mb, arr) : 0;
    }
    if (ms->type == NB_TYPE_MAP) {
        /* A map in the query string takes every parameter no other member names. */
        const struct nb_member *vm = &m->members[ms->first + 1];
        const struct nb_shape *vs = nb_member_shape(m, vm);
        json_t *obj = NULL;
        for (size_t i = 0; i < np; i++) {
            if (claimed_by_member(m, s, ps[i].k, ps[i].kl) ||
                is_literal_key(tpl, ps[i].k, ps[i].kl))
                continue;
            if (!obj && !(obj = json_object())) return -1;
            json_t *v;
            if (vs->type == NB_TYPE_LIST) {
                v = json_object_getn(obj, ps[i].k, ps[i].kl);
                if (!v) {
                    v = json_array();
                    json_object_setn_new(obj, ps[i].k, ps[i].kl, v);
                }
                json_t *x = nb_in_scalar(p, &m->members[vs->first], ps[i].v, ps[i].vl, wn, false);
                if (!x) {
                    json_decref(obj);
                    return -1;
                }
                json_array_append_new(v, x);
                continue;
            }
            v = nb_in_scalar(p, vm, ps[i].v, ps[i].vl, wn, false);
            if (!v) {
                json_decref(obj);
                return -1;
            }
            if (json_object_setn_new(obj, ps[i].k, ps[i].kl, v)) {
                /* key not UTF-8 */
                json_decref(obj);
                return nb_in_type_error(p, wn, ps[i].k, ps[i].kl, NB_TYPE_STRING, false);
            }
        }
        return obj ? set_member(p, input, mb, obj) : 0;
    }
    for (size_t i = 0; i < np; i++) {
        if (ps[i].kl != wl || memcmp(ps[i].k, wn, wl) != 0) continue;
        return set_member(p, input, mb, nb_in_scalar(p, mb, ps[i].v, ps[i].vl, wn, false));
    }
    return 0;
}

static int bind_header(struct nb_pin *p, const nb_wire_req *w, const struct nb_member *mb,
                       json_t *input)
{
    const nb_model *m = p->m;
    const struct nb_shape *ms = nb_member_shape(m, mb);
    const char *wn = nb_member_wire(m, mb);
    size_t vl;
    const char *v = nb_wire_header(w, wn, &vl);
    if (!v) return 0;
    /* headers arrive with optional surrounding whitespace */
    while (vl && (v[0] == ' ' || v[0] == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    if (ms->type == NB_TYPE_LIST) {
        const struct nb_member *lm = &m->members[ms->first];
        json_t *arr = json_array();
        if (!arr) return -1;
        size_t i = 0;
        while (i < vl) {
            size_t j = i;
            while (j < vl && v[j] != ',')
                j++;
            size_t a = i, b = j;
            while (a < b && v[a] == ' ')
                a++;
            while (b > a && v[b - 1] == ' ')
                b--;
            if (b > a) {
                json_t *x = nb_in_scalar(p, lm, v + a, b - a, wn, false);
                if (!x) {
                    json_decref(arr);
                    return -1;
                }
                json_array_append_new(arr, x);
            }
            i = j + 1;
        }
        return set_member(p, input, mb, arr);
    }
    if (ms->type == NB_TYPE_TIMESTAMP) {
        /* An unreadable date in a header is ignored, as HTTP says of If-Modified-Since. */
        double t;
        if (nb_time_parse(v, vl, &t) != 0) return 0;
    }
    return set_member(p, input, mb, nb_in_scalar(p, mb, v, vl, wn, false));
}

static int bind_prefixed_headers(struct nb_pin *p, const nb_wire_req *w, const struct nb_member *mb,
                                 json_t *input)
{
    const nb_model *m = p->m;
    const struct nb_shape *ms = nb_member_shape(m, mb);
    const char *prefix = nb_member_wire(m, mb);
    size_t pl = strlen(prefix);
    if (ms->type != NB_TYPE_MAP) return 0;
    const struct nb_member *vm = &m->members[ms->first + 1];
    json_t *obj = NULL;
    for (size_t i = 0; i < w->nheaders; i++) {
        const nb_header *h = &w->headers[i];
        if (h->name_len <= pl || !nb_mem_ieq(h->name, pl, prefix, pl)) continue;
        if (!obj && !(obj = json_object())) return -1;
        /* Header names are case-insensitive; keys are stored lower-case, as S3 does. */
        size_t kl = h->name_len - pl;
        char *key = nb_arena_alloc(p->a, kl + 1);
        if (!key) {
            json_decref(obj);
            return -1;
        }
        for (size_t k = 0; k < kl; k++) {
            char c = h->name[pl + k];
            key[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        key[kl] = '\0';
        const char *v = h->value;
        size_t vl = h->value_len;
        while (vl && (v[0] == ' ' || v[0] == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        json_t *x = nb_in_scalar(p, vm, v, vl, key, false);
        if (!x) {
            json_decref(obj);
            return -1;
        }
        if (json_object_setn_new(obj, key, kl, x)) {
            json_decref(obj);
            return nb_in_type_error(p, prefix, key, kl, NB_TYPE_STRING, false);
        }
    }
    return obj ? set_member(p, input, mb, obj) : 0;
}

static bool blank(const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t') return false;
    return true;
}

static int bind_body(struct nb_pin *p, const nb_wire_req *w, const struct nb_shape *s,
                     json_t *input)
{
    const nb_model *m = p->m;
    const struct nb_member *pm = nb_shape_payload(m, s);
    const char *body = w->body ? w->body : "";
    size_t len = w->body ? w->body_len : 0;
    bool xml = p->proto == NB_PROTO_REST_XML;
    if (pm) {
        const struct nb_shape *ps = nb_member_shape(m, pm);
        if ((pm->flags & NB_MF_STREAMING) || (p->op->flags & NB_OF_STREAM_IN)) return 0;
        if (ps->type == NB_TYPE_BLOB) {
            if (!len) return 0;
            char *enc = malloc(nb_base64_encoded_len(len) + 1);
            if (!enc) return nb_aws_error_set(p->e, 503, "ServiceUnavailable", "Out of memory");
            size_t el = nb_base64_encode((const unsigned char *)body, len, enc);
            json_t *v = json_stringn_nocheck(enc, el);
            free(enc);
            return set_member(p, input, pm, v);
        }
        if (ps->type == NB_TYPE_STRING) {
            if (!len) return 0;
            return set_member(p, input, pm,
                              nb_in_scalar(p, pm, body, len, nb_member_wire(m, pm), true));
        }
        if (blank(body, len)) return 0;
        json_t *v = xml ? nb_xml_body_in(p, ps, body, len, false)
                        : nb_json_body_in(p, ps, body, len, false);
        return set_member(p, input, pm, v);
    }
    bool any = false;
    for (uint32_t i = 0; i < s->nmembers && !any; i++)
        any = m->members[s->first + i].location == NB_LOC_BODY;
    if (!any || blank(body, len)) return 0;
    json_t *v =
        xml ? nb_xml_body_in(p, s, body, len, true) : nb_json_body_in(p, s, body, len, true);
    if (!v) return -1;
    json_object_update(input, v);
    json_decref(v);
    return 0;
}

int nb_rest_parse(struct nb_pin *p, const nb_wire_req *w, const struct nb_shape *s, json_t *input)
{
    const nb_model *m = p->m;
    const char *tpl = nb_mstr(m, p->op->uri);
    struct nb_labels labels;
    if (nb_uri_match(tpl, w->path, w->path_len, &labels) < 0) labels.n = 0;
    struct qpair *ps = NULL;
    size_t np = 0;
    if (w->query && w->query_len && split_query(p->a, w->query, w->query_len, &ps, &np) < 0)
        return nb_aws_error_set(p->e, 503, "ServiceUnavailable", "Out of memory");
    p->e->code[0] = '\0';
    for (uint32_t i = 0; i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        int rc = 0;
        switch (mb->location) {
        case NB_LOC_URI: {
            const char *wn = nb_member_wire(m, mb);
            size_t wl = strlen(wn);
            for (int k = 0; k < labels.n; k++) {
                if (labels.l[k].name_len != wl || memcmp(labels.l[k].name, wn, wl) != 0) continue;
                char *dec = nb_arena_alloc(p->a, labels.l[k].val_len + 1);
                if (!dec) return nb_aws_error_set(p->e, 503, "ServiceUnavailable", "Out of memory");
                ssize_t dl = nb_url_decode(labels.l[k].val, labels.l[k].val_len, dec, false);
                if (dl < 0) {
                    memcpy(dec, labels.l[k].val, labels.l[k].val_len);
                    dl = (ssize_t)labels.l[k].val_len;
                }
                /* S3 refuses a path whose bucket or key decodes to a NUL or to bytes that
                 * are not UTF-8 (400 InvalidURI), so no handler sees a key cut short at a
                 * NUL or one that could not be listed */
                if (p->s3 && (memchr(dec, 0, (size_t)dl) || !nb_utf8_valid(dec, (size_t)dl)))
                    return nb_aws_error_set(p->e, 400, "InvalidURI",
                                            "Couldn't parse the specified URI.");
                rc = set_member(p, input, mb, nb_in_scalar(p, mb, dec, (size_t)dl, wn, false));
                break;
            }
            break;
        }
        case NB_LOC_QUERYSTRING:
            rc = bind_query(p, s, mb, ps, np, tpl, input);
            break;
        case NB_LOC_HEADER:
            rc = bind_header(p, w, mb, input);
            break;
        case NB_LOC_HEADERS:
            rc = bind_prefixed_headers(p, w, mb, input);
            break;
        default:
            break;
        }
        if (rc)
            return p->e->code[0]
                       ? -1
                       : nb_aws_error_set(p->e, 503, "ServiceUnavailable", "Out of memory");
    }
    if (bind_body(p, w, s, input))
        return p->e->code[0] ? -1
                             : nb_aws_error_set(p->e, 503, "ServiceUnavailable", "Out of memory");
    return 0;
}
