/* query.c: input of the query and ec2 protocols: form-encoded parameters (POST body, or the
 * query string of a GET) with dotted names, decoded into a document by the model:
 *   query  Name.member.N (list), Name.N (flattened), Name.entry.N.key / .value (map), A.B
 *   ec2    Name.N always, member names from queryName or the capitalized locationName
 * The parameters are sorted once, then folded into a tree whose children are sorted, so
 * decoding is O(n log n) whatever the client sends (no quadratic lookups on 10k-item lists). */
#include <stdlib.h>

#include "proto/model_internal.h"

struct qparam {
    const char *key, *val;
    size_t klen, vlen;
};

struct qnode {
    const char *seg;
    size_t seglen;
    const char *val; /* NULL if no parameter ends here */
    size_t vlen;
    struct qnode **kids; /* sorted by segment (bytes, shorter first) */
    size_t nkids, cap;
};

/* Decode one form component into the arena; on a bad escape keep the raw bytes (AWS does not
 * reject those either). */
static const char *form_decode(nb_arena *a, const char *s, size_t n, size_t *out_len)
{
    char *o = nb_arena_alloc(a, n + 1);
    if (!o) return NULL;
    ssize_t k = nb_url_decode(s, n, o, true);
    if (k < 0) {
        memcpy(o, s, n);
        k = (ssize_t)n;
    }
    o[k] = '\0';
    *out_len = (size_t)k;
    return o;
}

/* Split a=1&b=2 into params appended to *ps. Returns 0 or -1 (out of memory). */
static int form_split(nb_arena *a, const char *s, size_t n, struct qparam **ps, size_t *np,
                      size_t *cap)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(s + i, '=', j - i);
            size_t kl = eq ? (size_t)(eq - (s + i)) : j - i;
            if (*np == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                struct qparam *x = nb_arena_alloc(a, nc * sizeof(*x));
                if (!x) return -1;
                if (*np) memcpy(x, *ps, *np * sizeof(*x));
                *ps = x;
                *cap = nc;
            }
            struct qparam *q = &(*ps)[(*np)++];
            q->key = form_decode(a, s + i, kl, &q->klen);
            if (eq)
                q->val = form_decode(a, eq + 1, (size_t)(s + j - eq - 1), &q->vlen);
            else
                q->val = "", q->vlen = 0;
            if (!q->key || !q->val) return -1;
        }
        i = j + 1;
    }
    return 0;
}

/* Order in which every key's dotted segments form a tree walk: '.' sorts before any other
 * byte and the end of a key before '.'; so all keys under "A." are contiguous and right after
 * "A" itself. */
static int key_cmp(const void *pa, const void *pb)
{
    const struct qparam *a = pa, *b = pb;
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    for (size_t i = 0; i < n; i++) {
        unsigned ca = (unsigned char)a->key[i], cb = (unsigned char)b->key[i];
        if (ca == cb) continue;
        unsigned oa = ca == '.' ? 1 : ca + 2, ob = cb == '.' ? 1 : cb + 2;
        return oa < ob ? -1 : 1;
    }
    return a->klen < b->klen ? -1 : a->klen > b->klen ? 1 : 0;
}

static int seg_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = memcmp(a, b, n);
    if (c) return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static struct qnode *add_kid(nb_arena *a, struct qnode *parent, const char *seg, size_t n)
{
    if (parent->nkids == parent->cap) {
        size_t nc = parent->cap ? parent->cap * 2 : 4;
        struct qnode **x = nb_arena_alloc(a, nc * sizeof(*x));
        if (!x) return NULL;
        if (parent->nkids) memcpy(x, parent->kids, parent->nkids * sizeof(*x));
        parent->kids = x;
        parent->cap = nc;
    }
    struct qnode *k = nb_arena_calloc(a, sizeof(*k));
    if (!k) return NULL;
    k->seg = seg;
    k->seglen = n;
    parent->kids[parent->nkids++] = k;
    return k;
}

static struct qnode *build_tree(nb_arena *a, struct qparam *ps, size_t np)
{
    struct qnode *root = nb_arena_calloc(a, sizeof(*root));
    if (!root) return NULL;
    if (np > 1) qsort(ps, np, sizeof(*ps), key_cmp);
    for (size_t i = 0; i < np; i++) {
        struct qnode *cur = root;
        const char *k = ps[i].key;
        size_t kl = ps[i].klen, off = 0;
        for (;;) {
            const char *dot = memchr(k + off, '.', kl - off);
            size_t sl = dot ? (size_t)(dot - (k + off)) : kl - off;
            /* sorted input: an existing child for this segment is the last one */
            struct qnode *last = cur->nkids ? cur->kids[cur->nkids - 1] : NULL;
            if (last && seg_cmp(last->seg, last->seglen, k + off, sl) == 0)
                cur = last;
            else if (!(cur = add_kid(a, cur, k + off, sl)))
                return NULL;
            if (!dot) break;
            off += sl + 1;
        }
        if (!cur->val) { /* the first of duplicate parameters wins */
            cur->val = ps[i].val;
            cur->vlen = ps[i].vlen;
        }
    }
    return root;
}

static struct qnode *kid(const struct qnode *n, const char *seg, size_t sl)
{
    size_t lo = 0, hi = n->nkids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = seg_cmp(n->kids[mid]->seg, n->kids[mid]->seglen, seg, sl);
        if (c == 0) return n->kids[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Children named 1, 2, 3 ... in numeric order (lists and maps). */
struct idx_kid {
    unsigned long idx;
    struct qnode *n;
};

static int idx_cmp(const void *pa, const void *pb)
{
    const struct idx_kid *a = pa, *b = pb;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static struct idx_kid *numbered(nb_arena *a, const struct qnode *n, size_t *count)
{
    *count = 0;
    if (!n->nkids) return NULL;
    struct idx_kid *v = nb_arena_alloc(a, n->nkids * sizeof(*v));
    if (!v) return NULL;
    for (size_t i = 0; i < n->nkids; i++) {
        const struct qnode *k = n->kids[i];
        if (k->seglen == 0 || k->seglen > 9 || k->seg[0] == '0') continue;
        unsigned long x = 0;
        size_t j = 0;
        for (; j < k->seglen && k->seg[j] >= '0' && k->seg[j] <= '9'; j++)
            x = x * 10 + (unsigned long)(k->seg[j] - '0');
        if (j != k->seglen) continue;
        v[*count].idx = x;
        v[*count].n = n->kids[i];
        (*count)++;
    }
    qsort(v, *count, sizeof(*v), idx_cmp);
    return v;
}

struct qctx {
    struct nb_pin *p;
    bool ec2;
};

/* The parameter name of a member: query uses locationName; ec2 queryName, else the
 * locationName with its first letter upper-cased (botocore's EC2Serializer). */
static const char *param_name(struct qctx *q, const struct nb_member *mb, char *buf, size_t cap)
{
    const nb_model *m = q->p->m;
    if (q->ec2) {
        const struct nb_member_extra *x = nb_member_extra(m, mb);
        if (x && x->query_name) return nb_mstr(m, x->query_name);
        if (mb->wire) {
            const char *w = nb_mstr(m, mb->wire);
            snprintf(buf, cap, "%s", w);
            if (buf[0] >= 'a' && buf[0] <= 'z') buf[0] = (char)(buf[0] - 32);
            return buf;
        }
        return nb_mstr(m, mb->name);
    }
    /* A flattened list whose member has a locationName is named by that instead. */
    const struct nb_shape *s = nb_member_shape(m, mb);
    if (s->type == NB_TYPE_LIST && (mb->flags & NB_MF_FLATTENED)) {
        const struct nb_member *lm = &m->members[s->first];
        if (lm->wire) return nb_mstr(m, lm->wire);
    }
    return nb_member_wire(m, mb);
}

static json_t *q_value(struct qctx *q, const struct nb_member *mb, const struct qnode *n,
                       const char *where, int depth);

static json_t *q_struct(struct qctx *q, const struct nb_shape *s, const struct qnode *n, int depth)
{
    const nb_model *m = q->p->m;
    json_t *obj = json_object();
    if (!obj) return NULL;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        char buf[128];
        const char *pn = param_name(q, mb, buf, sizeof(buf));
        const struct qnode *k = kid(n, pn, strlen(pn));
        if (!k) {
            /* botocore sends an empty flattened list under the member's own name ("Entries="),
             * not its items' name: that is the empty list, not a missing parameter. */
            const char *own = nb_mstr(m, mb->name);
            const struct qnode *e = nb_member_shape(m, mb)->type == NB_TYPE_LIST &&
                                            strcmp(own, pn) != 0
                                        ? kid(n, own, strlen(own))
                                        : NULL;
            json_t *arr = e && e->val && e->vlen == 0 && e->nkids == 0 ? json_array() : NULL;
            if (arr) json_object_set_new_nocheck(obj, own, arr);
            continue;
        }
        json_t *v = q_value(q, mb, k, pn, depth + 1);
        if (!v) {
            if (q->p->e->code[0]) {
                json_decref(obj);
                return NULL;
            }
            continue; /* nothing there (e.g. a struct with no known fields) */
        }
        json_object_set_new_nocheck(obj, nb_mstr(m, mb->name), v);
    }
    return obj;
}

static json_t *q_value(struct qctx *q, const struct nb_member *mb, const struct qnode *n,
                       const char *where, int depth)
{
    const nb_model *m = q->p->m;
    const struct nb_shape *s = nb_member_shape(m, mb);
    if (depth > NB_PARSE_MAX_DEPTH) {
        nb_in_malformed(q->p, "Parameters nested too deeply");
        return NULL;
    }
    switch (s->type) {
    case NB_TYPE_STRUCTURE:
        return q_struct(q, s, n, depth);
    case NB_TYPE_LIST: {
        const struct nb_member *lm = &m->members[s->first];
        const struct qnode *items = n;
        if (!q->ec2 && !(mb->flags & NB_MF_FLATTENED)) {
            const char *iname = lm->wire ? nb_mstr(m, lm->wire) : "member";
            items = kid(n, iname, strlen(iname));
        }
        json_t *arr = json_array();
        if (!arr) return NULL;
        if (!items) return arr; /* "Name=" : the empty list botocore sends */
        size_t cnt;
        struct idx_kid *ks = numbered(q->p->a, items, &cnt);
        for (size_t i = 0; i < cnt; i++) {
            json_t *v = q_value(q, lm, ks[i].n, where, depth + 1);
            if (!v) {
                if (q->p->e->code[0]) {
                    json_decref(arr);
                    return NULL;
                }
                continue;
            }
            json_array_append_new(arr, v);
        }
        return arr;
    }
    case NB_TYPE_MAP: {
        const struct nb_member *km = &m->members[s->first], *vm = km + 1;
        const char *kn = km->wire ? nb_mstr(m, km->wire) : "key";
        const char *vn = vm->wire ? nb_mstr(m, vm->wire) : "value";
        const struct qnode *entries = (mb->flags & NB_MF_FLATTENED) ? n : kid(n, "entry", 5);
        json_t *obj = json_object();
        if (!obj) return NULL;
        if (!entries) return obj;
        size_t cnt;
        struct idx_kid *ks = numbered(q->p->a, entries, &cnt);
        for (size_t i = 0; i < cnt; i++) {
            const struct qnode *kk = kid(ks[i].n, kn, strlen(kn));
            const struct qnode *vv = kid(ks[i].n, vn, strlen(vn));
            if (!kk || !kk->val) continue;
            json_t *key = nb_in_scalar(q->p, km, kk->val, kk->vlen, where, false);
            if (!key) {
                json_decref(obj);
                return NULL;
            }
            json_t *v = vv ? q_value(q, vm, vv, where, depth + 1) : NULL;
            if (!v && q->p->e->code[0]) {
                json_decref(key);
                json_decref(obj);
                return NULL;
            }
            if (v)
                json_object_setn_new_nocheck(obj, json_string_value(key), json_string_length(key),
                                             v);
            json_decref(key);
        }
        return obj;
    }
    default:
        if (!n->val) return NULL;
        return nb_in_scalar(q->p, mb, n->val, n->vlen, where, false);
    }
}

int nb_query_parse(struct nb_pin *p, const nb_wire_req *w, const struct nb_shape *s, json_t *input)
{
    struct qparam *ps = NULL;
    size_t np = 0, cap = 0;
    if (w->query && w->query_len && form_split(p->a, w->query, w->query_len, &ps, &np, &cap) < 0)
        return nb_aws_error_set(p->e, 503, "ServiceUnavailable", "Out of memory");
    if (w->body && w->body_len && form_split(p->a, w->body, w->body_len, &ps, &np, &cap) < 0)
        return nb_aws_error_set(p->e, 503, "ServiceUnavailable", "Out of memory");
    struct qnode *root = build_tree(p->a, ps, np);
    if (!root) return nb_aws_error_set(p->e, 503, "ServiceUnavailable", "Out of memory");
    struct qctx q = {.p = p, .ec2 = p->proto == NB_PROTO_EC2};
    p->e->code[0] = '\0';
    json_t *obj = q_struct(&q, s, root, 0);
    if (!obj)
        return p->e->code[0] ? -1
                             : nb_aws_error_set(p->e, 503, "ServiceUnavailable", "Out of memory");
    json_object_update(input, obj);
    json_decref(obj);
    return 0;
}

/* Action may be in the query string (GET, or POST with parameters in the URL) or the body. */
static const char *find_action(const char *s, size_t n, char *buf, size_t cap, size_t *len)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        if (j - i >= 7 && memcmp(s + i, "Action=", 7) == 0) {
            size_t vl = j - i - 7;
            if (vl >= cap) return NULL;
            ssize_t k = nb_url_decode(s + i + 7, vl, buf, true);
            if (k < 0) return NULL;
            buf[k] = '\0';
            *len = (size_t)k;
            return buf;
        }
        i = j + 1;
    }
    return NULL;
}

const char *nb_query_action(const nb_wire_req *w, char *buf, size_t cap, size_t *len)
{
    const char *a = NULL;
    if (w->query && w->query_len) a = find_action(w->query, w->query_len, buf, cap, len);
    if (!a && w->body && w->body_len) a = find_action(w->body, w->body_len, buf, cap, len);
    return a;
}
