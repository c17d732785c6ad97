/* policy_cond.c: request context look-ups, policy variables (${aws:username} ...) and the
 * Condition operators with AWS's rules for missing keys, sets and negation. */
#include "iam/policy_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- scratch buffer ---- */

void nb_pol_sbuf_init(struct pol_sbuf *b)
{
    b->p = b->stack;
    b->len = 0;
    b->cap = sizeof(b->stack);
    b->heap = false;
}

void nb_pol_sbuf_free(struct pol_sbuf *b)
{
    if (b->heap) free(b->p);
    nb_pol_sbuf_init(b);
}

static int sbuf_put(struct pol_sbuf *b, const char *s, size_t n)
{
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap * 2;
        while (cap - b->len < n + 1)
            cap *= 2;
        char *np = b->heap ? realloc(b->p, cap) : malloc(cap);
        if (!np) return -1;
        if (!b->heap) memcpy(np, b->p, b->len);
        b->p = np;
        b->cap = cap;
        b->heap = true;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

/* Append s; in glob mode the characters the matcher reads as wildcards or escapes are quoted,
 * except wildcards of the policy's own literal text (keep_wild). */
static int sbuf_put_glob(struct pol_sbuf *b, const char *s, size_t n, bool keep_wild)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' || (!keep_wild && (c == '*' || c == '?'))) {
            if (sbuf_put(b, s + start, i - start) || sbuf_put(b, "\\", 1)) return -1;
            start = i;
        }
    }
    return sbuf_put(b, s + start, n - start);
}

/* ---- request context ---- */

/* The values of one condition key: absent (count 0), one value, or a JSON array. */
struct vset {
    const json_t *arr;
    const json_t *one;
    const char *s; /* a value derived from the request's fields */
    size_t n;
    size_t count;
};

static bool key_is(const char *key, size_t keylen, const char *lit, size_t litlen)
{
    return keylen == litlen && memcmp(key, lit, litlen) == 0;
}
#define KEY_IS(k, kl, lit) key_is((k), (kl), (lit), sizeof(lit) - 1)

static const char *principal_type_name(enum nb_pol_principal t)
{
    switch (t) {
    case NB_POL_ROOT:
        return "Account";
    case NB_POL_USER:
        return "User";
    case NB_POL_ROLE_SESSION:
        return "AssumedRole";
    case NB_POL_FEDERATED_USER:
        return "FederatedUser";
    case NB_POL_ANONYMOUS:
        return "Anonymous";
    default:
        return NULL;
    }
}

/* Keys that AWS always puts in the request context and that follow from who is asking; the
 * caller's context, when it has them, wins. */
static const char *derived_key(const nb_authz_request *r, const char *key, size_t keylen)
{
    if (keylen < 10 || memcmp(key, "aws:", 4) != 0) return NULL;
    bool authenticated = r->principal_type != NB_POL_ANONYMOUS &&
                         r->principal_type != NB_POL_SERVICE &&
                         r->principal_type != NB_POL_WEB_IDENTITY;
    if (KEY_IS(key, keylen, "aws:username"))
        return r->principal_type == NB_POL_USER ? r->user_name : NULL;
    if (KEY_IS(key, keylen, "aws:userid")) return authenticated ? r->user_id : NULL;
    /* AWS: for a role session aws:PrincipalArn is the role's ARN, not the session's. */
    if (KEY_IS(key, keylen, "aws:principalarn"))
        return !authenticated                                                  ? NULL
               : r->principal_type == NB_POL_ROLE_SESSION && r->role_arn ? r->role_arn
                                                                               : r->principal_arn;
    if (KEY_IS(key, keylen, "aws:principalaccount"))
        return authenticated ? r->principal_account : NULL;
    if (KEY_IS(key, keylen, "aws:principaltype")) return principal_type_name(r->principal_type);
    if (KEY_IS(key, keylen, "aws:principalservicename"))
        return r->principal_type == NB_POL_SERVICE ? r->principal_arn : NULL;
    /* AWS: present in every signed request; true only for an AWS service principal. */
    if (KEY_IS(key, keylen, "aws:principalisawsservice"))
        return r->principal_type == NB_POL_SERVICE     ? "true"
               : r->principal_type == NB_POL_ANONYMOUS ? NULL
                                                             : "false";
    return NULL;
}

static void ctx_lookup(const struct pol_rctx *rc, const char *key, size_t keylen, struct vset *v)
{
    memset(v, 0, sizeof(*v));
    const json_t *ctx = rc->r->context;
    if (ctx && json_is_object(ctx)) {
        const json_t *j = json_object_getn(ctx, key, keylen);
        if (j && !json_is_null(j)) {
            if (json_is_array(j)) {
                v->arr = j;
                v->count = json_array_size(j);
            } else {
                v->one = j;
                v->count = 1;
            }
            return;
        }
    }
    const char *d = derived_key(rc->r, key, keylen);
    if (d) {
        v->s = d;
        v->n = strlen(d);
        v->count = 1;
    }
}

/* Text of a context value; numbers and booleans are read as JSON writes them. */
static bool json_text(const json_t *j, char buf[48], const char **s, size_t *n)
{
    if (json_is_string(j)) {
        *s = json_string_value(j);
        *n = json_string_length(j);
        return true;
    }
    int k;
    if (json_is_integer(j))
        k = snprintf(buf, 48, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    else if (json_is_real(j))
        k = snprintf(buf, 48, "%.17g", json_real_value(j));
    else if (json_is_boolean(j))
        k = snprintf(buf, 48, "%s", json_is_true(j) ? "true" : "false");
    else
        return false;
    *s = buf;
    *n = (size_t)k;
    return true;
}

static bool vset_get(const struct vset *v, size_t i, char buf[48], const char **s, size_t *n)
{
    if (v->arr) return json_text(json_array_get(v->arr, i), buf, s, n);
    if (v->one) return json_text(v->one, buf, s, n);
    *s = v->s;
    *n = v->n;
    return true;
}

/* ---- policy variables ---- */

int nb_pol_expand(const struct pol_pat *pat, const struct pol_rctx *rc, bool glob,
                  struct pol_sbuf *b)
{
    b->len = 0;
    b->p[0] = 0;
    for (uint16_t i = 0; i < pat->nparts; i++) {
        const struct pol_part *pt = &pat->parts[i];
        const char *s;
        size_t n;
        char buf[48];
        if (pt->text) {
            int rc2 = glob && !pt->plain ? sbuf_put_glob(b, pt->text, pt->len, true)
                                         : sbuf_put(b, pt->text, pt->len);
            if (rc2) return -1;
            continue;
        }
        if (pt->keylen == 1 && (pt->key[0] == '*' || pt->key[0] == '?' || pt->key[0] == '$')) {
            s = pt->key;
            n = 1;
        } else {
            struct vset v;
            ctx_lookup(rc, pt->key, pt->keylen, &v);
            /* A variable takes one value: a multivalued key has none to substitute. */
            if (v.count == 1 && vset_get(&v, 0, buf, &s, &n)) {
                /* found */
            } else if (pt->has_default) {
                s = pt->deflt;
                n = pt->deflen;
            } else {
                return 0;
            }
        }
        if (glob ? sbuf_put_glob(b, s, n, false) : sbuf_put(b, s, n)) return -1;
    }
    return 1;
}

/* ---- operators ---- */

/* The context value, parsed once for the operator's type. */
struct cval {
    const char *s;
    size_t n;
    double num;
    int64_t ms;
    bool b;
    struct pol_ipnet ip;
};

static bool parse_for_op(uint8_t op, const char *s, size_t n, struct cval *cv)
{
    cv->s = s;
    cv->n = n;
    switch (op) {
    case OP_NUM:
        return nb_pol_parse_number(s, n, &cv->num);
    case OP_DATE:
        return nb_pol_parse_date(s, n, &cv->ms);
    case OP_IP:
        return nb_pol_parse_ip(s, n, &cv->ip, false);
    case OP_BOOL:
        return nb_pol_parse_bool(s, n, &cv->b);
    default:
        return true;
    }
}

static bool cmp_num(uint8_t cmp, double have, double want)
{
    switch (cmp) {
    case CMP_EQ:
        return have == want;
    case CMP_LT:
        return have < want;
    case CMP_LE:
        return have <= want;
    case CMP_GT:
        return have > want;
    default:
        return have >= want;
    }
}

static bool cmp_i64(uint8_t cmp, int64_t have, int64_t want)
{
    switch (cmp) {
    case CMP_EQ:
        return have == want;
    case CMP_LT:
        return have < want;
    case CMP_LE:
        return have <= want;
    case CMP_GT:
        return have > want;
    default:
        return have >= want;
    }
}

/* Does one context value match one policy value, positively (before negation)? pv is the
 * policy value: its pre-parsed fields, or text p/pn expanded for this request (then parsed
 * here). */
static bool match_one(const struct pol_cond *c, const struct cval *cv, const struct pol_cvalue *pv,
                      const char *p, size_t pn, bool expanded)
{
    struct pol_cvalue tmp;
    if (expanded) {
        /* The value held variables: parse what they expanded to. */
        memset(&tmp, 0, sizeof(tmp));
        switch (c->op) {
        case OP_NUM:
            if (!nb_pol_parse_number(p, pn, &tmp.num)) return false;
            break;
        case OP_DATE:
            if (!nb_pol_parse_date(p, pn, &tmp.ms)) return false;
            break;
        case OP_IP:
            if (!nb_pol_parse_ip(p, pn, &tmp.ip, true)) return false;
            break;
        case OP_BOOL:
            if (!nb_pol_parse_bool(p, pn, &tmp.b)) return false;
            break;
        default:
            break;
        }
        pv = &tmp;
    } else if (!pv->ok) {
        return false;
    }
    switch (c->op) {
    case OP_STR_EQ:
    case OP_BINARY:
        return cv->n == pn && memcmp(cv->s, p, pn) == 0;
    case OP_STR_EQ_IC:
        return nb_mem_ieq(cv->s, cv->n, p, pn);
    case OP_STR_LIKE:
        return nb_pol_glob(p, pn, cv->s, cv->n, false);
    case OP_ARN:
        return nb_pol_arn_like(p, pn, cv->s, cv->n);
    case OP_NUM:
        return cmp_num(c->cmp, cv->num, pv->num);
    case OP_DATE:
        return cmp_i64(c->cmp, cv->ms, pv->ms);
    case OP_IP:
        return nb_pol_ip_in(&pv->ip, &cv->ip);
    case OP_BOOL:
        return cv->b == pv->b;
    default:
        return false;
    }
}

/* Multiple values of one key in the policy are ORed: does the context value match any? */
static bool match_any_value(const struct pol_cond *c, const char *s, size_t n, struct pol_rctx *rc)
{
    struct cval cv;
    if (!parse_for_op(c->op, s, n, &cv)) return false;
    bool glob = c->op == OP_STR_LIKE || c->op == OP_ARN;
    for (uint32_t i = 0; i < c->nvalues; i++) {
        const struct pol_cvalue *pv = &c->values[i];
        if (pv->pat.nparts == 0) {
            const char *p = glob ? pv->pat.glob : pv->pat.raw;
            size_t pn = glob ? pv->pat.globlen : pv->pat.rawlen;
            if (match_one(c, &cv, pv, p, pn, false)) return true;
            continue;
        }
        struct pol_sbuf sb;
        nb_pol_sbuf_init(&sb);
        int e = nb_pol_expand(&pv->pat, rc, glob, &sb);
        bool m = false;
        if (e < 0)
            rc->oom = true;
        else if (e > 0) /* a value whose variable has no value matches nothing */
            m = match_one(c, &cv, pv, sb.p, sb.len, true);
        nb_pol_sbuf_free(&sb);
        if (m) return true;
    }
    return false;
}

/* One condition operator block entry: operator + key + values.
 * AWS's rules: a key absent from the request makes a condition false, except that negated
 * operators (StringNotEquals, NotIpAddress, ...) are then true, ...IfExists is then true, and
 * ForAllValues is true on an absent key or empty set while ForAnyValue is false. */
static bool cond_holds(const struct pol_cond *c, struct pol_rctx *rc)
{
    struct vset v;
    ctx_lookup(rc, c->key, c->keylen, &v);
    if (c->op == OP_NULL) {
        bool present = v.count > 0;
        for (uint32_t i = 0; i < c->nvalues; i++) {
            const struct pol_cvalue *pv = &c->values[i];
            if (pv->ok && pv->b != present) return true;
        }
        return false;
    }
    char buf[48];
    const char *s;
    size_t n;
    /* AWS (condition operators, "set operators"): ForAllValues "also returns true if ... the
     * context key value resolves to a null dataset, such as an empty string", and ForAnyValue
     * then returns false. A lone "" is therefore read as the empty set by the set operators. */
    if (c->qual != QUAL_NONE && v.count == 1 && vset_get(&v, 0, buf, &s, &n) && n == 0) v.count = 0;
    if (v.count == 0) {
        if (c->ifexists || c->qual == QUAL_ALL) return true;
        if (c->qual == QUAL_ANY) return false;
        return c->negated;
    }
    switch (c->qual) {
    case QUAL_ALL:
        for (size_t i = 0; i < v.count; i++) {
            bool m = vset_get(&v, i, buf, &s, &n) && match_any_value(c, s, n, rc);
            if (m == c->negated) return false;
        }
        return true;
    case QUAL_ANY:
        for (size_t i = 0; i < v.count; i++) {
            bool m = vset_get(&v, i, buf, &s, &n) && match_any_value(c, s, n, rc);
            if (m != c->negated) return true;
        }
        return false;
    default: {
        /* A plain operator on a multivalued key: positive if any value matches; the negated
         * form holds when none does. */
        bool any = false;
        for (size_t i = 0; i < v.count && !any; i++)
            any = vset_get(&v, i, buf, &s, &n) && match_any_value(c, s, n, rc);
        return any != c->negated;
    }
    }
}

bool nb_pol_conds_hold(const struct pol_stmt *st, struct pol_rctx *rc)
{
    for (uint32_t i = 0; i < st->nconds; i++)
        if (!cond_holds(&st->conds[i], rc)) return false;
    return true;
}

/* ---- context builders ---- */

static char *lower_dup(const char *key)
{
    size_t n = strlen(key);
    char *k = malloc(n + 1);
    if (!k) return NULL;
    for (size_t i = 0; i <= n; i++)
        k[i] = (char)nb_pol_lower[(unsigned char)key[i]];
    return k;
}

int nb_authz_context_set(json_t *ctx, const char *key, const char *value)
{
    char *k = lower_dup(key);
    if (!k) return -1;
    int rc = json_object_set_new(ctx, k, json_string(value));
    free(k);
    return rc ? -1 : 0;
}

int nb_authz_context_add(json_t *ctx, const char *key, const char *value)
{
    char *k = lower_dup(key);
    if (!k) return -1;
    json_t *cur = json_object_get(ctx, k);
    int rc;
    if (json_is_array(cur)) {
        rc = json_array_append_new(cur, json_string(value));
    } else {
        json_t *arr = json_array();
        if (!arr) {
            free(k);
            return -1;
        }
        if (cur) json_array_append(arr, cur);
        rc = json_array_append_new(arr, json_string(value));
        if (rc == 0)
            rc = json_object_set_new(ctx, k, arr);
        else
            json_decref(arr);
    }
    free(k);
    return rc ? -1 : 0;
}
