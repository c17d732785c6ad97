/* policy_parse.c: policy documents in, compiled nb_policy out. Validation follows the order
 * and wording of IAM's MalformedPolicyDocument errors (resource policies get S3's wording),
 * then the document is compiled once so evaluation does no parsing. Also AWS's size quotas. */
#include "iam/policy_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IAM_CODE "MalformedPolicyDocument"
#define RES_CODE "MalformedPolicy"

struct pstate {
    const nb_policy_parse_opts *o;
    enum nb_policy_kind kind;
    bool res; /* resource-policy wording */
    nb_policy_error *err;
    json_t *root;
    json_t **stmts;
    size_t nstmts;
    const char *version; /* NULL when absent */
    bool vars;           /* policy variables are read (Version 2012-10-17) */
    char deferred[320];  /* first resource format error: reported after other checks, as IAM */
    nb_arena *arena;
    nb_policy *pol;
};

static bool fail(struct pstate *ps, const char *fmt, ...) NB_PRINTF(2, 3);
static bool fail(struct pstate *ps, const char *fmt, ...)
{
    if (ps->err) {
        ps->err->code = ps->res ? RES_CODE : IAM_CODE;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err->message, sizeof(ps->err->message), fmt, ap);
        va_end(ap);
    }
    return false;
}
#define MSG(ps, iam_text, res_text) ((ps)->res ? (res_text) : (iam_text))
#define SYNTAX(ps)                                                                                 \
    fail(ps, "%s",                                                                                 \
         MSG(ps, "Syntax errors in policy.",                                                       \
             "Policies must be valid JSON and the first byte must be '{'"))
/* Quoted fragments of the document are cut so messages stay short. */
#define FRAG 120

static bool is_iam_kind(enum nb_policy_kind k)
{
    return k != NB_POLICY_RESOURCE;
}

/* ---- element helpers: a string, or an array of strings (nulls in arrays are skipped, as
 * IAM does) ---- */

static bool is_str_or_list(const json_t *v)
{
    if (json_is_string(v)) return true;
    if (!json_is_array(v)) return false;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) if (!json_is_string(e) && !json_is_null(e)) return false;
    return true;
}

static size_t elem_count(const json_t *v)
{
    return json_is_array(v) ? json_array_size(v) : 1;
}

static const char *elem_at(const json_t *v, size_t i, size_t *len)
{
    const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
    if (!json_is_string(e)) return NULL;
    *len = json_string_length(e);
    return json_string_value(e);
}

/* Non-empty: a string, or an array with at least one string. */
static bool elem_nonempty(const json_t *v)
{
    if (!v) return false;
    if (json_is_string(v)) return true;
    size_t n;
    for (size_t i = 0; i < elem_count(v); i++)
        if (elem_at(v, i, &n)) return true;
    return false;
}

/* ---- condition operators ---- */

struct opdef {
    const char *name;
    uint8_t op, cmp;
    bool negated;
};
static const struct opdef OPS[] = {
    {"StringEquals", OP_STR_EQ, 0, false},
    {"StringNotEquals", OP_STR_EQ, 0, true},
    {"StringEqualsIgnoreCase", OP_STR_EQ_IC, 0, false},
    {"StringNotEqualsIgnoreCase", OP_STR_EQ_IC, 0, true},
    {"StringLike", OP_STR_LIKE, 0, false},
    {"StringNotLike", OP_STR_LIKE, 0, true},
    {"NumericEquals", OP_NUM, CMP_EQ, false},
    {"NumericNotEquals", OP_NUM, CMP_EQ, true},
    {"NumericLessThan", OP_NUM, CMP_LT, false},
    {"NumericLessThanEquals", OP_NUM, CMP_LE, false},
    {"NumericGreaterThan", OP_NUM, CMP_GT, false},
    {"NumericGreaterThanEquals", OP_NUM, CMP_GE, false},
    {"DateEquals", OP_DATE, CMP_EQ, false},
    {"DateNotEquals", OP_DATE, CMP_EQ, true},
    {"DateLessThan", OP_DATE, CMP_LT, false},
    {"DateLessThanEquals", OP_DATE, CMP_LE, false},
    {"DateGreaterThan", OP_DATE, CMP_GT, false},
    {"DateGreaterThanEquals", OP_DATE, CMP_GE, false},
    {"Bool", OP_BOOL, 0, false},
    {"BinaryEquals", OP_BINARY, 0, false},
    {"IpAddress", OP_IP, 0, false},
    {"NotIpAddress", OP_IP, 0, true},
    {"ArnEquals", OP_ARN, 0, false},
    {"ArnLike", OP_ARN, 0, false},
    {"ArnNotEquals", OP_ARN, 0, true},
    {"ArnNotLike", OP_ARN, 0, true},
    {"Null", OP_NULL, 0, false},
};

/* "ForAnyValue:StringLikeIfExists" -> StringLike, qualifier ANY, ifexists. Names are
 * case-sensitive, as in IAM's grammar. NULL if unknown. */
static const struct opdef *op_lookup(const char *name, uint8_t *qual, bool *ifexists)
{
    size_t n = strlen(name);
    *qual = QUAL_NONE;
    *ifexists = false;
    if (n > 13 && memcmp(name, "ForAllValues:", 13) == 0) {
        *qual = QUAL_ALL;
        name += 13;
        n -= 13;
    } else if (n > 12 && memcmp(name, "ForAnyValue:", 12) == 0) {
        *qual = QUAL_ANY;
        name += 12;
        n -= 12;
    }
    if (n > 8 && memcmp(name + n - 8, "IfExists", 8) == 0) {
        *ifexists = true;
        n -= 8;
    }
    for (size_t i = 0; i < NB_ARRAY_LEN(OPS); i++)
        if (strlen(OPS[i].name) == n && memcmp(OPS[i].name, name, n) == 0) {
            if (OPS[i].op == OP_NULL && *ifexists) return NULL; /* "NullIfExists" is no op */
            return &OPS[i];
        }
    return NULL;
}

static bool cond_value_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/* ---- pass 1: syntax ---- */

static const char *const TOP_FIELDS[] = {"Version", "Id", "Statement"};
static const char *const STMT_FIELDS[] = {"Sid",       "Effect",       "Action",
                                          "NotAction", "Resource",     "NotResource",
                                          "Principal", "NotPrincipal", "Condition"};

static bool in_list(const char *k, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, list[i]) == 0) return true;
    return false;
}

static bool check_principal_shape(const json_t *p)
{
    if (json_is_string(p)) return true;
    if (!json_is_object(p)) return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p, k, v) if (!is_str_or_list(v)) return false;
    return true;
}

static bool check_condition_shape(struct pstate *ps, const json_t *c)
{
    if (!json_is_object(c)) return SYNTAX(ps);
    const char *opname;
    json_t *block;
    json_object_foreach((json_t *)c, opname, block)
    {
        if (!json_is_object(block)) return SYNTAX(ps);
        const char *key;
        json_t *val;
        json_object_foreach(block, key, val)
        {
            if (json_is_array(val)) {
                size_t i;
                json_t *e;
                json_array_foreach(val, i, e) if (!cond_value_scalar(e)) return SYNTAX(ps);
            } else if (!cond_value_scalar(val)) {
                return SYNTAX(ps);
            }
        }
        uint8_t q;
        bool ie;
        /* IAM ignores an unknown operator with an empty block and refuses any other. */
        if (!op_lookup(opname, &q, &ie) && json_object_size(block) > 0)
            return ps->res ? fail(ps, "Invalid Condition type : %.*s", FRAG, opname) : SYNTAX(ps);
    }
    return true;
}

static bool sid_alnum(const char *s)
{
    for (; *s; s++) {
        char c = *s;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

static bool check_statement_syntax(struct pstate *ps, const json_t *st)
{
    if (!json_is_object(st)) return SYNTAX(ps);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)st, k, v)
    {
        if (!in_list(k, STMT_FIELDS, NB_ARRAY_LEN(STMT_FIELDS)))
            return ps->res ? fail(ps, "Unknown field %.*s", FRAG, k) : SYNTAX(ps);
    }
    json_t *eff = json_object_get(st, "Effect");
    if (!eff) return ps->res ? fail(ps, "Missing required field Effect") : SYNTAX(ps);
    if (!json_is_string(eff)) return SYNTAX(ps);
    const char *e = json_string_value(eff);
    if (ps->res) {
        if (strcmp(e, "Allow") != 0 && strcmp(e, "Deny") != 0)
            return fail(ps, "Invalid effect: %.*s", FRAG, e);
    } else if (strcasecmp(e, "allow") != 0 && strcasecmp(e, "deny") != 0) {
        return SYNTAX(ps);
    }
    static const char *const pairs[3][2] = {
        {"Action", "NotAction"}, {"Resource", "NotResource"}, {"Principal", "NotPrincipal"}};
    for (int i = 0; i < 3; i++) {
        json_t *a = json_object_get(st, pairs[i][0]), *b = json_object_get(st, pairs[i][1]);
        if (a && b) return SYNTAX(ps);
        if (i < 2 && ((a && !is_str_or_list(a)) || (b && !is_str_or_list(b)))) return SYNTAX(ps);
        if (i == 2 && ((a && !check_principal_shape(a)) || (b && !check_principal_shape(b))))
            return SYNTAX(ps);
    }
    json_t *c = json_object_get(st, "Condition");
    if (c && !check_condition_shape(ps, c)) return false;
    json_t *sid = json_object_get(st, "Sid");
    if (sid && !json_is_string(sid)) return SYNTAX(ps);
    if (sid && !ps->res && !sid_alnum(json_string_value(sid)))
        return fail(ps, "Statement IDs (SID) must be alpha-numeric. Check that your input "
                        "satisfies the regular expression [0-9A-Za-z]*");
    return true;
}

static bool check_syntax(struct pstate *ps)
{
    json_t *root = ps->root;
    if (!json_is_object(root)) return SYNTAX(ps);
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        if (!in_list(k, TOP_FIELDS, NB_ARRAY_LEN(TOP_FIELDS)))
            return ps->res ? fail(ps, "Unknown field %.*s", FRAG, k) : SYNTAX(ps);
    }
    json_t *ver = json_object_get(root, "Version");
    if (ver) {
        if (!json_is_string(ver)) return SYNTAX(ps);
        const char *s = json_string_value(ver);
        if (strcmp(s, "2012-10-17") != 0 && strcmp(s, "2008-10-17") != 0)
            return ps->res ? fail(ps, "Invalid policy version: %.*s", FRAG, s) : SYNTAX(ps);
        ps->version = s;
    }
    json_t *id = json_object_get(root, "Id");
    if (id && !json_is_string(id)) return SYNTAX(ps);
    json_t *st = json_object_get(root, "Statement");
    if (!st) return ps->res ? fail(ps, "Missing required field Statement") : SYNTAX(ps);
    if (json_is_object(st)) {
        ps->nstmts = 1;
        ps->stmts = malloc(sizeof(json_t *));
        if (!ps->stmts) return false;
        ps->stmts[0] = st;
    } else if (json_is_array(st) && json_array_size(st) > 0) {
        ps->nstmts = json_array_size(st);
        ps->stmts = malloc(ps->nstmts * sizeof(json_t *));
        if (!ps->stmts) return false;
        for (size_t i = 0; i < ps->nstmts; i++)
            ps->stmts[i] = json_array_get(st, i);
    } else {
        return ps->res ? fail(ps, "Missing required field Statement") : SYNTAX(ps);
    }
    for (size_t i = 0; i < ps->nstmts; i++)
        if (!check_statement_syntax(ps, ps->stmts[i])) return false;
    return true;
}

/* ---- pass 3: "legacy parsing" (IAM's older parser, whose failures keep their own message)
 * and resource formats ---- */

static const char *const PARTITIONS[] = {"aws",       "aws-cn",    "aws-us-gov", "aws-iso",
                                         "aws-iso-b", "aws-iso-e", "aws-iso-f",  "aws-eusc"};
static const char *const IAM_PATHS[] = {"user/",
                                        "federated-user/",
                                        "role/",
                                        "group/",
                                        "instance-profile/",
                                        "mfa/",
                                        "server-certificate/",
                                        "policy/",
                                        "sms-mfa/",
                                        "saml-provider/",
                                        "oidc-provider/",
                                        "report/",
                                        "access-report/"};

static bool starts(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(s, lit, l) == 0;
}

/* Field i (colon-separated) of s, or NULL. */
static const char *field(const char *s, size_t n, int i, size_t *fl)
{
    size_t start = 0;
    int k = 0;
    *fl = 0;
    for (size_t j = 0; j <= n; j++) {
        if (j == n || s[j] == ':') {
            if (k == i) {
                *fl = j - start;
                return s + start;
            }
            k++;
            start = j + 1;
        }
    }
    return NULL;
}

/* IAM's checks of one Resource entry. Returns 0 fine, 1 with ps->deferred set (reported
 * later, as IAM orders its errors), 2 for a legacy-parsing failure. */
static int check_resource_iam(struct pstate *ps, const char *r, size_t n)
{
    if (n == 1 && r[0] == '*') return 0;
    const char *c1 = memchr(r, ':', n);
    if (!c1) {
        snprintf(ps->deferred, sizeof(ps->deferred),
                 "Resource %.*s must be in ARN format or \"*\".", (int)(n > FRAG ? FRAG : n), r);
        return 1;
    }
    const char *pt = c1 + 1;
    size_t rest = n - (size_t)(pt - r);
    const char *c2 = memchr(pt, ':', rest);
    size_t ptlen = c2 ? (size_t)(c2 - pt) : rest;
    bool ptok = ptlen == 1 && pt[0] == '*';
    for (size_t i = 0; i < NB_ARRAY_LEN(PARTITIONS) && !ptok; i++)
        ptok = strlen(PARTITIONS[i]) == ptlen && memcmp(PARTITIONS[i], pt, ptlen) == 0;
    if (!ptok) {
        /* IAM echoes the resource as six fields, "*" standing for missing ones. */
        const char *after = c2 ? c2 + 1 : pt + ptlen;
        size_t an = n - (size_t)(after - r);
        const char *f[4];
        size_t fl[4];
        int nf = 0;
        for (int i = 0; i < 4; i++) {
            f[i] = "*";
            fl[i] = 1;
        }
        if (c2) {
            size_t start = 0;
            for (size_t j = 0; j <= an && nf < 4; j++) {
                if (j == an || (after[j] == ':' && nf < 3)) {
                    f[nf] = after + start;
                    fl[nf] = j - start;
                    nf++;
                    start = j + 1;
                }
            }
            if (nf == 1 && fl[0] == 0) {
                f[0] = "*";
                fl[0] = 1;
            }
        }
        for (int i = 0; i < 4; i++)
            if (fl[i] > 40) fl[i] = 40;
        snprintf(ps->deferred, sizeof(ps->deferred),
                 "Partition \"%.*s\" is not valid for resource \"arn:%.*s:%.*s:%.*s:%.*s:%.*s\".",
                 (int)(ptlen > 40 ? 40 : ptlen), pt, (int)(ptlen > 40 ? 40 : ptlen), pt, (int)fl[0],
                 f[0], (int)fl[1], f[1], (int)fl[2], f[2], (int)fl[3], f[3]);
        return 1;
    }
    if (!c2) {
        snprintf(ps->deferred, sizeof(ps->deferred),
                 "Resource vendor must be fully qualified and cannot contain regexes.");
        return 1;
    }
    size_t svl, rgl, ridl = 0;
    const char *svc = field(r, n, 2, &svl);
    const char *region = field(r, n, 3, &rgl);
    /* The resource id is everything after the fifth colon (it may hold more colons). */
    const char *rid = field(r, n, 5, &ridl);
    if (rid)
        ridl = n - (size_t)(rid - r);
    else
        rid = "";
    /* As IAM reads it, an ARN that stops after the service "has region information" too. */
    bool has_region = !region || rgl > 0;
    bool is_iam = svc && svl == 3 && memcmp(svc, "iam", 3) == 0;
    bool is_s3 = svc && svl == 2 && memcmp(svc, "s3", 2) == 0;
    if (has_region && (is_iam || (is_s3 && !starts(rid, ridl, "accesspoint/")))) {
        snprintf(ps->deferred, sizeof(ps->deferred),
                 is_iam ? "IAM resource %.*s cannot contain region information."
                        : "Resource %.*s can not contain region information.",
                 (int)(n > FRAG ? FRAG : n), r);
        return 1;
    }
    if (is_iam && !(ridl > 0 && (rid[0] == '*' || rid[0] == '?'))) {
        bool ok = false;
        for (size_t i = 0; i < NB_ARRAY_LEN(IAM_PATHS) && !ok; i++)
            ok = starts(rid, ridl, IAM_PATHS[i]);
        if (!ok) {
            snprintf(ps->deferred, sizeof(ps->deferred),
                     "IAM resource path must either be \"*\" or start with user/, federated-user/, "
                     "role/, group/, instance-profile/, mfa/, server-certificate/, policy/, "
                     "sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.");
            return 1;
        }
    }
    /* The legacy parser refuses "::" in an ARN of fewer than six fields, and an empty
     * service. */
    size_t colons = 0;
    for (size_t i = 0; i < n; i++)
        colons += r[i] == ':';
    bool dbl = false;
    for (size_t i = 0; i + 1 < n; i++)
        if (r[i] == ':' && r[i + 1] == ':') dbl = true;
    if (colons < 5 && dbl) return 2;
    if (!svc || svl == 0) return 2;
    return 0;
}

static bool check_date_value(const json_t *v)
{
    if (json_is_integer(v)) return json_integer_value(v) >= 0;
    if (!json_is_string(v)) return false;
    int64_t ms;
    return nb_pol_parse_date(json_string_value(v), json_string_length(v), &ms);
}

/* An integer as the legacy parser reads one: optional sign, then digits; false when there is
 * none or it passes +-2^63. */
static bool legacy_int(const char *s, size_t n, int64_t *out)
{
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    if (n == 0) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        if (v > (UINT64_C(9223372036854775807) - (uint64_t)(s[i] - '0')) / 10) return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static bool legacy_int_in(const char *s, size_t n, int64_t lo, int64_t hi)
{
    int64_t v;
    return legacy_int(s, n, &v) && v >= lo && v <= hi;
}

/* A Date* condition value of an IAM policy as IAM's legacy parser takes it (wider than the
 * dates the evaluator compares: a year alone, "01T", Java's year range -292275054..292278993,
 * epoch seconds up to 2^63-1); a value it takes but the evaluator cannot read never matches. */
static bool legacy_date_ok(const char *s0, size_t n)
{
    char s[128];
    if (n >= sizeof(s)) return false;
    bool iso = false;
    for (size_t i = 0; i < n; i++) {
        s[i] = (char)tolower((unsigned char)s0[i]);
        if (s[i] == 't' || s[i] == '-') iso = true;
    }
    s[n] = 0;
    if (!iso) return legacy_int_in(s, n, 0, INT64_MAX);
    char *t = strchr(s, 't');
    size_t dn = t ? (size_t)(t - s) : n;
    const char *d = s;
    bool neg = dn > 0 && d[0] == '-';
    if (neg) {
        d++;
        dn--;
    }
    /* date: year[-month[-day]] */
    const char *part[4];
    size_t pl[4];
    int np = 0;
    size_t start = 0;
    for (size_t i = 0; i <= dn; i++) {
        if (i == dn || d[i] == '-') {
            if (np == 4) return false;
            part[np] = d + start;
            pl[np++] = i - start;
            start = i + 1;
        }
    }
    if (np > 3) return false;
    int64_t year;
    if (!legacy_int(part[0], pl[0], &year)) return false;
    if (neg) year = -year;
    if (year < -292275054 || year > 292278993) return false;
    if (np > 1 && !legacy_int_in(part[1], pl[1], 1, 12)) return false;
    if (np > 2 && !legacy_int_in(part[2], pl[2], 1, 31)) return false;
    if (!t) return true;
    /* time: [hh[:mm[:ss[.fraction][z|+hh|-hh]]]] (fields after the seconds, such as an
     * offset's minutes, are not looked at, as IAM) */
    const char *tp = t + 1;
    const char *tf[3];
    size_t tl[3];
    int nt = 0;
    start = 0;
    size_t tn = strlen(tp);
    for (size_t i = 0; i <= tn && nt < 3; i++) {
        if (i == tn || tp[i] == ':') {
            tf[nt] = tp + start;
            tl[nt++] = i - start;
            start = i + 1;
        }
    }
    if (tl[0] > 0 && !legacy_int_in(tf[0], tl[0], 0, 23)) return false;
    if (nt > 1 && !legacy_int_in(tf[1], tl[1], 0, 59)) return false;
    if (nt > 2) {
        /* the seconds field runs to the next ':' or the end */
        const char *sec = tf[2];
        size_t sl = tl[2];
        const char *z = memchr(sec, 'z', sl);
        const char *tz = NULL;
        for (size_t i = 0; i < sl && !tz; i++)
            if (sec[i] == '+' || sec[i] == '-') tz = sec + i;
        if (z) {
            if ((size_t)(z - sec) != sl - 1) return false;
            sl = (size_t)(z - sec);
        } else if (tz) {
            const char *h = tz + 1;
            size_t hl = sl - (size_t)(h - sec);
            if (hl != 2 || !legacy_int_in(h, hl, 0, 23)) return false;
            sl = (size_t)(tz - sec);
        }
        const char *dot = memchr(sec, '.', sl);
        size_t wl = dot ? (size_t)(dot - sec) : sl;
        if (!legacy_int_in(sec, wl, 0, 59)) return false;
        if (dot && !legacy_int_in(dot + 1, sl - wl - 1, 0, 999999999)) return false;
    }
    return true;
}

/* A Date* condition value: IAM's legacy rules for identity policies, the evaluator's reading
 * for resource policies. */
static bool check_date_value_kind(const struct pstate *ps, const json_t *v)
{
    if (ps->res || !json_is_string(v)) return check_date_value(v);
    return legacy_date_ok(json_string_value(v), json_string_length(v));
}

static bool has_var(struct pstate *ps, const json_t *v)
{
    return ps->vars && json_is_string(v) && strstr(json_string_value(v), "${") != NULL;
}

static bool check_legacy(struct pstate *ps)
{
    for (size_t i = 0; i < ps->nstmts; i++) {
        json_t *st = ps->stmts[i];
        const char *e = json_string_value(json_object_get(st, "Effect"));
        if (strcmp(e, "Allow") != 0 && strcmp(e, "Deny") != 0)
            return fail(ps, "The policy failed legacy parsing");
        json_t *c = json_object_get(st, "Condition");
        const char *opname;
        json_t *block;
        if (c) json_object_foreach(c, opname, block)
            {
                uint8_t q;
                bool ie;
                const struct opdef *od = op_lookup(opname, &q, &ie);
                if (!od || od->op != OP_DATE) continue;
                const char *key;
                json_t *val;
                json_object_foreach(block, key, val)
                {
                    for (size_t j = 0; j < elem_count(val); j++) {
                        json_t *e1 = json_is_array(val) ? json_array_get(val, j) : val;
                        if (!has_var(ps, e1) && !check_date_value_kind(ps, e1))
                            return ps->res
                                       ? fail(ps, "Invalid Condition value for %.*s", FRAG, opname)
                                       : fail(ps, "The policy failed legacy parsing");
                    }
                }
            }
        if (ps->res) continue;
        static const char *const rk[2] = {"Resource", "NotResource"};
        for (int w = 0; w < 2; w++) {
            json_t *rv = json_object_get(st, rk[w]);
            if (!rv) continue;
            for (size_t j = 0; j < elem_count(rv); j++) {
                size_t n;
                const char *r = elem_at(rv, j, &n);
                if (!r || n == 0) continue;
                char saved = ps->deferred[0];
                int rc = check_resource_iam(ps, r, n);
                if (rc == 2 && !saved) return fail(ps, "The policy failed legacy parsing");
                if (rc == 1 && saved) ps->deferred[0] = saved; /* keep the first error */
            }
        }
    }
    return true;
}

/* ---- principals ---- */

static bool all_digits(const char *s, size_t n, size_t want)
{
    if (n != want) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* The account of arn:PARTITION:iam::ACCOUNT:root, or NULL. */
static const char *root_arn_account(const char *s, size_t n)
{
    size_t fl;
    const char *a = field(s, n, 4, &fl);
    if (!starts(s, n, "arn:") || !a || !all_digits(a, fl, 12)) return NULL;
    size_t sl;
    const char *svc = field(s, n, 2, &sl);
    if (!(sl == 3 && memcmp(svc, "iam", 3) == 0)) return NULL;
    const char *rest = a + fl + 1;
    if (rest > s + n || (size_t)(s + n - rest) != 4 || memcmp(rest, "root", 4) != 0) return NULL;
    return a;
}

enum { ARN_BAD, ARN_ROOT, ARN_USER, ARN_ROLE, ARN_SESSION, ARN_FEDERATED };

/* An {"AWS": ...} principal ARN: which kind, or ARN_BAD. Wildcards are not allowed in
 * principals (only "*" alone). */
static int aws_principal_arn_kind(const char *s, size_t n)
{
    if (memchr(s, '*', n) || memchr(s, '?', n) || !starts(s, n, "arn:")) return ARN_BAD;
    size_t sl, al, rl;
    const char *svc = field(s, n, 2, &sl);
    const char *reg = field(s, n, 3, &rl);
    const char *acct = field(s, n, 4, &al);
    if (!svc || !reg || !acct || rl != 0 || !all_digits(acct, al, 12)) return ARN_BAD;
    const char *rest = acct + al + 1;
    if (rest > s + n) return ARN_BAD;
    size_t restn = (size_t)(s + n - rest);
    if (sl == 3 && memcmp(svc, "iam", 3) == 0) {
        if (restn == 4 && memcmp(rest, "root", 4) == 0) return ARN_ROOT;
        if (starts(rest, restn, "user/") && restn > 5 && rest[restn - 1] != '/') return ARN_USER;
        if (starts(rest, restn, "role/") && restn > 5 && rest[restn - 1] != '/') return ARN_ROLE;
        return ARN_BAD;
    }
    if (sl == 3 && memcmp(svc, "sts", 3) == 0) {
        if (starts(rest, restn, "assumed-role/")) {
            const char *sl2 = memchr(rest + 13, '/', restn - 13);
            if (sl2 && sl2 > rest + 13 && sl2 + 1 < rest + restn) return ARN_SESSION;
            return ARN_BAD;
        }
        if (starts(rest, restn, "federated-user/") && restn > 15) return ARN_FEDERATED;
    }
    return ARN_BAD;
}

/* IAM stores principals that were deleted as their unique ids (AIDA..., AROA...). */
static bool unique_id(const char *s, size_t n)
{
    if (n < 16 || n > 128 || !(starts(s, n, "AIDA") || starts(s, n, "AROA"))) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'))) return false;
    return true;
}

static bool service_name_ok(const char *s, size_t n)
{
    if (n == 0 || !memchr(s, '.', n)) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static bool bad_principal(struct pstate *ps, const char *k, const char *v)
{
    if (ps->res) return fail(ps, "Invalid principal in policy");
    char up[32];
    size_t i = 0;
    for (; k[i] && i < sizeof(up) - 1; i++)
        up[i] = (char)(k[i] >= 'a' && k[i] <= 'z' ? k[i] - 32 : k[i]);
    up[i] = 0;
    return fail(ps, "Invalid principal in policy: \"%s\":\"%.*s\"", up, FRAG, v);
}

static bool check_principal(struct pstate *ps, const json_t *p)
{
    if (json_is_string(p)) {
        if (strcmp(json_string_value(p), "*") == 0) return true;
        return ps->res ? fail(ps, "Invalid principal in policy") : SYNTAX(ps);
    }
    if (json_object_size(p) == 0)
        return ps->res ? fail(ps, "Invalid principal in policy") : SYNTAX(ps);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p, k, v)
    {
        bool aws = strcmp(k, "AWS") == 0, svc = strcmp(k, "Service") == 0,
             fed = strcmp(k, "Federated") == 0, can = strcmp(k, "CanonicalUser") == 0;
        if (!aws && !svc && !fed && !can) return bad_principal(ps, k, "");
        if (!elem_nonempty(v)) return bad_principal(ps, k, "");
        for (size_t i = 0; i < elem_count(v); i++) {
            size_t n;
            const char *s = elem_at(v, i, &n);
            if (!s) continue;
            if (n == 0 || strlen(s) != n) return bad_principal(ps, k, s);
            if (aws) {
                if ((n == 1 && s[0] == '*') || all_digits(s, n, 12) || unique_id(s, n)) continue;
                int kind = aws_principal_arn_kind(s, n);
                if (kind == ARN_BAD) return bad_principal(ps, k, s);
                if ((kind == ARN_USER || kind == ARN_ROLE) && ps->o->principal_exists &&
                    !ps->o->principal_exists(ps->o->ctx, s))
                    return bad_principal(ps, k, s);
            } else if (svc) {
                if (!service_name_ok(s, n)) return bad_principal(ps, k, s);
            } else if (memchr(s, '*', n) && !(fed && n == 1)) {
                return bad_principal(ps, k, s);
            }
        }
    }
    return true;
}

/* ---- actions ---- */

static bool vendor_ok(const char *s, size_t n)
{
    if (n == 1 && s[0] == '*') return true;
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

static bool check_action(struct pstate *ps, const char *a, size_t n)
{
    if (n == 1 && a[0] == '*') return true;
    const char *c = memchr(a, ':', n);
    if (!c)
        return fail(ps, "%s",
                    MSG(ps,
                        "Actions/Conditions must be prefaced by a vendor, e.g., iam, "
                        "sdb, ec2, etc.",
                        "Policy has invalid action"));
    if (memchr(c + 1, ':', n - (size_t)(c + 1 - a)))
        return fail(
            ps, "%s",
            MSG(ps, "Actions/Condition can contain only one colon.", "Policy has invalid action"));
    if (!vendor_ok(a, (size_t)(c - a)))
        return ps->res ? fail(ps, "Policy has invalid action")
                       : fail(ps, "Vendor %.*s is not valid",
                              (int)((size_t)(c - a) > FRAG ? FRAG : (size_t)(c - a)), a);
    if (ps->o->action_valid && !ps->o->action_valid(ps->o->ctx, a))
        return fail(ps, "Policy has invalid action");
    return true;
}

/* AWS: trust policies may only hold these actions. */
static const char *const TRUST_ACTIONS[] = {"sts:AssumeRole",
                                            "sts:AssumeRoleWithSAML",
                                            "sts:AssumeRoleWithWebIdentity",
                                            "sts:TagSession",
                                            "sts:SetSourceIdentity",
                                            "sts:SetContext",
                                            "sts:DecodeAuthorizationMessage",
                                            "sts:GetAccessKeyInfo",
                                            "sts:GetCallerIdentity",
                                            "sts:GetFederationToken",
                                            "sts:GetServiceBearerToken",
                                            "sts:GetSessionToken"};

static bool trust_action_ok(const char *a, size_t n)
{
    for (size_t i = 0; i < NB_ARRAY_LEN(TRUST_ACTIONS); i++)
        if (nb_mem_ieq(a, n, TRUST_ACTIONS[i], strlen(TRUST_ACTIONS[i]))) return true;
    return false;
}

/* ---- the checks after syntax, in IAM's order ---- */

static bool check_semantics(struct pstate *ps)
{
    /* Identity policies must be written for the 2012-10-17 language. */
    if ((ps->kind == NB_POLICY_IDENTITY || ps->kind == NB_POLICY_BOUNDARY) &&
        (!ps->version || strcmp(ps->version, "2012-10-17") != 0))
        return fail(ps, "Policy document must be version 2012-10-17 or greater.");
    if (!check_legacy(ps)) return false;

    /* Sids unique (empty ones aside). */
    for (size_t i = 0; i < ps->nstmts; i++) {
        const char *a = json_string_value(json_object_get(ps->stmts[i], "Sid"));
        if (!a || !*a) continue;
        for (size_t j = 0; j < i; j++) {
            const char *b = json_string_value(json_object_get(ps->stmts[j], "Sid"));
            if (b && strcmp(a, b) == 0)
                return fail(ps, "Statement IDs (SID) in a single policy must be unique.");
        }
    }

    bool wants_principal = ps->kind == NB_POLICY_TRUST || ps->kind == NB_POLICY_RESOURCE;
    for (size_t i = 0; i < ps->nstmts; i++) {
        json_t *st = ps->stmts[i];
        bool has = json_object_get(st, "Principal") || json_object_get(st, "NotPrincipal");
        if (!wants_principal && has)
            return fail(ps, "Policy document should not specify a principal.");
        if (wants_principal && !has) return fail(ps, "Missing required field Principal");
    }

    for (size_t i = 0; i < ps->nstmts; i++) {
        json_t *st = ps->stmts[i];
        json_t *a = json_object_get(st, "Action"), *na = json_object_get(st, "NotAction");
        if (!elem_nonempty(a) && !elem_nonempty(na))
            return fail(
                ps, "%s",
                MSG(ps, "Policy statement must contain actions.", "Missing required field Action"));
    }

    if (ps->deferred[0]) return fail(ps, "%s", ps->deferred);

    for (size_t i = 0; i < ps->nstmts; i++) {
        json_t *st = ps->stmts[i];
        json_t *a = json_object_get(st, "Action");
        if (!a) a = json_object_get(st, "NotAction");
        for (size_t j = 0; j < elem_count(a); j++) {
            size_t n;
            const char *s = elem_at(a, j, &n);
            if (s && !check_action(ps, s, n)) return false;
        }
        json_t *c = json_object_get(st, "Condition");
        const char *opname;
        json_t *block;
        if (c) json_object_foreach(c, opname, block)
            {
                const char *key;
                json_t *val;
                json_object_foreach(block, key, val)
                {
                    /* IAM takes any condition key in an identity policy ("a" included);
                     * resource policies want service:key. */
                    const char *colon = strchr(key, ':');
                    if (ps->res && (!colon || colon == key || !colon[1]))
                        return fail(ps, "%s",
                                    MSG(ps,
                                        "Actions/Conditions must be prefaced by a "
                                        "vendor, e.g., iam, sdb, ec2, etc.",
                                        "Policy has an invalid condition key"));
                }
            }
    }

    for (size_t i = 0; i < ps->nstmts; i++) {
        json_t *st = ps->stmts[i];
        json_t *r = json_object_get(st, "Resource"), *nr = json_object_get(st, "NotResource");
        if (ps->kind == NB_POLICY_TRUST) {
            if (r || nr) return fail(ps, "Has prohibited field Resource.");
            continue;
        }
        if (!elem_nonempty(r) && !elem_nonempty(nr))
            return fail(ps, "%s",
                        MSG(ps, "Policy statement must contain resources.",
                            "Missing required field Resource"));
        if (ps->res) {
            json_t *rv = r ? r : nr;
            for (size_t j = 0; j < elem_count(rv); j++) {
                size_t n;
                const char *s = elem_at(rv, j, &n);
                if (s && !(n == 1 && s[0] == '*') && !starts(s, n, "arn:"))
                    return fail(ps, "Policy has invalid resource");
            }
        }
    }

    if (ps->kind == NB_POLICY_TRUST) {
        for (size_t i = 0; i < ps->nstmts; i++) {
            json_t *a = json_object_get(ps->stmts[i], "Action");
            bool ok = a != NULL;
            for (size_t j = 0; a && j < elem_count(a); j++) {
                size_t n;
                const char *s = elem_at(a, j, &n);
                if (s && !trust_action_ok(s, n)) ok = false;
            }
            if (!ok)
                return fail(ps, "Trust Policy statement actions can only be sts:AssumeRole, "
                                "sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity");
        }
    }

    if (wants_principal) {
        for (size_t i = 0; i < ps->nstmts; i++) {
            json_t *st = ps->stmts[i];
            json_t *p = json_object_get(st, "Principal");
            if (!p) p = json_object_get(st, "NotPrincipal");
            if (!check_principal(ps, p)) return false;
        }
    }
    return true;
}

/* ---- compile ---- */

static char *lowdup(nb_arena *a, const char *s, size_t n)
{
    char *d = nb_arena_alloc(a, n + 1);
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = (char)nb_pol_lower[(unsigned char)s[i]];
    d[n] = 0;
    return d;
}

/* raw with every '\' doubled, for the glob matcher. */
static char *glob_escape(nb_arena *a, const char *s, size_t n, size_t *outn)
{
    size_t extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += s[i] == '\\';
    char *d = nb_arena_alloc(a, n + extra + 1);
    if (!d) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\') d[k++] = '\\';
        d[k++] = s[i];
    }
    d[k] = 0;
    *outn = k;
    return d;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse the inside of ${...}: "key" or "key, 'default'". false: not a variable (kept as text). */
static bool parse_var(nb_arena *a, const char *s, size_t n, struct pol_part *pt)
{
    while (n && is_space(*s))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    if (n == 0) return false;
    const char *comma = memchr(s, ',', n);
    size_t kl = comma ? (size_t)(comma - s) : n;
    while (kl && is_space(s[kl - 1]))
        kl--;
    if (kl == 0) return false;
    memset(pt, 0, sizeof(*pt));
    if (comma) {
        const char *d = comma + 1;
        size_t dn = n - (size_t)(d - s);
        while (dn && is_space(*d))
            d++, dn--;
        if (dn < 2 || d[0] != '\'' || d[dn - 1] != '\'') return false;
        pt->deflt = nb_arena_strndup(a, d + 1, dn - 2);
        if (!pt->deflt) return false;
        pt->deflen = (uint32_t)(dn - 2);
        pt->has_default = true;
    }
    pt->key = lowdup(a, s, kl);
    pt->keylen = (uint32_t)kl;
    return pt->key != NULL;
}

static bool compile_pat(struct pstate *ps, const char *s, size_t n, struct pol_pat *out)
{
    nb_arena *a = ps->arena;
    memset(out, 0, sizeof(*out));
    out->raw = nb_arena_strndup(a, s, n);
    if (!out->raw) return false;
    out->rawlen = (uint32_t)n;
    out->wild = memchr(s, '*', n) || memchr(s, '?', n);
    out->any = n > 0;
    for (size_t i = 0; i < n && out->any; i++)
        out->any = s[i] == '*';
    while (out->prefixlen < n && s[out->prefixlen] != '*' && s[out->prefixlen] != '?' &&
           s[out->prefixlen] != '\\')
        out->prefixlen++;
    if (memchr(s, '\\', n)) {
        size_t gl;
        out->glob = glob_escape(a, s, n, &gl);
        if (!out->glob) return false;
        out->globlen = (uint32_t)gl;
    } else {
        out->glob = out->raw;
        out->globlen = out->rawlen;
    }
    if (!ps->vars || n < 3) return true;
    /* Policy variables: split into literal and variable parts. */
    size_t cap = 0;
    for (size_t i = 0; i + 1 < n; i++)
        cap += s[i] == '$' && s[i + 1] == '{';
    if (cap == 0) return true;
    struct pol_part *parts = nb_arena_calloc(a, (2 * cap + 1) * sizeof(*parts));
    if (!parts) return false;
    size_t np = 0, lit = 0, i = 0;
    bool any = false;
    while (i < n) {
        if (i + 1 < n && s[i] == '$' && s[i + 1] == '{') {
            const char *close = memchr(s + i + 2, '}', n - i - 2);
            struct pol_part v;
            if (close && parse_var(a, s + i + 2, (size_t)(close - (s + i + 2)), &v)) {
                if (i > lit) {
                    parts[np].text = out->raw + lit;
                    parts[np].len = (uint32_t)(i - lit);
                    parts[np].plain = !memchr(parts[np].text, '\\', parts[np].len);
                    np++;
                }
                parts[np++] = v;
                any = true;
                i = (size_t)(close - s) + 1;
                lit = i;
                continue;
            }
        }
        i++;
    }
    if (!any) return true;
    if (n > lit) {
        parts[np].text = out->raw + lit;
        parts[np].len = (uint32_t)(n - lit);
        parts[np].plain = !memchr(parts[np].text, '\\', parts[np].len);
        np++;
    }
    if (np > UINT16_MAX) return true; /* absurd; keep it literal rather than truncate */
    out->parts = parts;
    out->nparts = (uint16_t)np;
    /* The fixed start ends at the first variable too. */
    uint32_t first = parts[0].text ? parts[0].len : 0;
    if (out->prefixlen > first) out->prefixlen = first;
    return true;
}

static bool compile_action(struct pstate *ps, const char *s, size_t n, struct pol_action *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 1 && s[0] == '*') {
        out->all = true;
        return true;
    }
    char *low = lowdup(ps->arena, s, n);
    if (!low) return false;
    char *c = memchr(low, ':', n);
    NB_ASSERT(c); /* validated */
    out->svc = low;
    out->svclen = (uint32_t)(c - low);
    out->svchash = nb_pol_hash_lower(low, out->svclen);
    out->anysvc = out->svclen == 1 && low[0] == '*';
    out->name = c + 1;
    out->namelen = (uint32_t)(n - out->svclen - 1);
    out->namewild = memchr(out->name, '*', out->namelen) || memchr(out->name, '?', out->namelen);
    out->nameall = out->namelen == 1 && out->name[0] == '*';
    if (out->anysvc && out->nameall) out->all = true;
    return true;
}

static bool compile_principals(struct pstate *ps, const json_t *p, struct pol_stmt *st)
{
    if (json_is_string(p)) {
        st->principals = nb_arena_calloc(ps->arena, sizeof(*st->principals));
        if (!st->principals) return false;
        st->principals[0].kind = PK_ANY;
        st->nprincipals = 1;
        return true;
    }
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p, k, v) total += elem_count(v);
    st->principals = nb_arena_calloc(ps->arena, (total ? total : 1) * sizeof(*st->principals));
    if (!st->principals) return false;
    json_object_foreach((json_t *)p, k, v)
    {
        for (size_t i = 0; i < elem_count(v); i++) {
            size_t n;
            const char *s = elem_at(v, i, &n);
            if (!s) continue;
            struct pol_principal *pp = &st->principals[st->nprincipals];
            if (strcmp(k, "AWS") == 0) {
                const char *acct;
                if (n == 1 && s[0] == '*') {
                    pp->kind = PK_ANY;
                } else if (all_digits(s, n, 12)) {
                    pp->kind = PK_ACCOUNT;
                } else if ((acct = root_arn_account(s, n))) {
                    pp->kind = PK_ACCOUNT;
                    s = acct;
                    n = 12;
                } else {
                    pp->kind = PK_ARN;
                }
            } else if (strcmp(k, "Service") == 0) {
                pp->kind = PK_SERVICE;
            } else if (strcmp(k, "Federated") == 0) {
                pp->kind = PK_FEDERATED;
            } else if (strcmp(k, "CanonicalUser") == 0) {
                pp->kind = PK_CANONICAL;
            } else {
                continue; /* refused by validation */
            }
            pp->text = nb_arena_strndup(ps->arena, s, n);
            if (!pp->text) return false;
            pp->len = (uint32_t)n;
            st->nprincipals++;
        }
    }
    return true;
}

static bool compile_cvalue(struct pstate *ps, const struct pol_cond *c, const json_t *j,
                           struct pol_cvalue *out)
{
    char buf[48];
    const char *s;
    size_t n;
    if (json_is_string(j)) {
        s = json_string_value(j);
        n = json_string_length(j);
    } else if (json_is_integer(j)) {
        n = (size_t)snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        s = buf;
    } else if (json_is_real(j)) {
        n = (size_t)snprintf(buf, sizeof(buf), "%.17g", json_real_value(j));
        s = buf;
    } else {
        s = json_is_true(j) ? "true" : "false";
        n = strlen(s);
    }
    if (!compile_pat(ps, s, n, &out->pat)) return false;
    if (out->pat.nparts) return true; /* parsed per request, after expansion */
    switch (c->op) {
    case OP_NUM:
        out->ok = nb_pol_parse_number(s, n, &out->num);
        break;
    case OP_DATE:
        out->ok = nb_pol_parse_date(s, n, &out->ms);
        break;
    case OP_IP:
        out->ok = nb_pol_parse_ip(s, n, &out->ip, true);
        break;
    case OP_BOOL:
    case OP_NULL:
        out->ok = nb_pol_parse_bool(s, n, &out->b);
        break;
    default:
        out->ok = true;
        break;
    }
    return true;
}

static bool compile_conditions(struct pstate *ps, const json_t *cj, struct pol_stmt *st)
{
    size_t total = 0;
    const char *opname;
    json_t *block;
    json_object_foreach((json_t *)cj, opname, block) total += json_object_size(block);
    if (total == 0) return true;
    st->conds = nb_arena_calloc(ps->arena, total * sizeof(*st->conds));
    if (!st->conds) return false;
    json_object_foreach((json_t *)cj, opname, block)
    {
        uint8_t qual;
        bool ifexists;
        const struct opdef *od = op_lookup(opname, &qual, &ifexists);
        if (!od) continue; /* an unknown operator with an empty block */
        const char *key;
        json_t *val;
        json_object_foreach(block, key, val)
        {
            struct pol_cond *c = &st->conds[st->nconds++];
            c->op = od->op;
            c->cmp = od->cmp;
            c->negated = od->negated;
            c->qual = qual;
            c->ifexists = ifexists;
            c->keylen = (uint32_t)strlen(key);
            c->key = lowdup(ps->arena, key, c->keylen);
            if (!c->key) return false;
            size_t nv = elem_count(val);
            if (json_is_array(val) && nv == 0) continue; /* [] matches nothing */
            c->values = nb_arena_calloc(ps->arena, nv * sizeof(*c->values));
            if (!c->values) return false;
            for (size_t i = 0; i < nv; i++) {
                const json_t *e = json_is_array(val) ? json_array_get(val, i) : val;
                if (!compile_cvalue(ps, c, e, &c->values[c->nvalues])) return false;
                c->nvalues++;
            }
        }
    }
    return true;
}

static bool compile(struct pstate *ps)
{
    nb_policy *p = nb_arena_calloc(ps->arena, sizeof(*p));
    if (!p) return false;
    p->arena = ps->arena;
    p->kind = ps->kind;
    if (ps->version && !(p->version = nb_arena_strdup(ps->arena, ps->version))) return false;
    p->stmts = nb_arena_calloc(ps->arena, ps->nstmts * sizeof(*p->stmts));
    if (!p->stmts) return false;
    p->nstmts = (uint32_t)ps->nstmts;
    for (size_t i = 0; i < ps->nstmts; i++) {
        json_t *sj = ps->stmts[i];
        struct pol_stmt *st = &p->stmts[i];
        st->deny = strcmp(json_string_value(json_object_get(sj, "Effect")), "Deny") == 0;
        json_t *sid = json_object_get(sj, "Sid");
        if (sid && !(st->sid = nb_arena_strdup(ps->arena, json_string_value(sid)))) return false;

        json_t *a = json_object_get(sj, "Action");
        if (!a) {
            a = json_object_get(sj, "NotAction");
            st->not_action = true;
        }
        st->actions = nb_arena_calloc(ps->arena, elem_count(a) * sizeof(*st->actions));
        if (!st->actions) return false;
        for (size_t j = 0; j < elem_count(a); j++) {
            size_t n;
            const char *s = elem_at(a, j, &n);
            if (s && !compile_action(ps, s, n, &st->actions[st->nactions++])) return false;
        }
        for (uint32_t j = 0; j < st->nactions; j++) {
            const struct pol_action *pa = &st->actions[j];
            st->svcmask |= pa->all || pa->anysvc ? ~UINT64_C(0) : POL_SVCBIT(pa->svchash);
        }
        if (st->not_action) st->svcmask = ~UINT64_C(0);
        if (st->deny)
            p->deny_mask |= st->svcmask;
        else
            p->allow_mask |= st->svcmask;

        json_t *r = json_object_get(sj, "Resource");
        if (!r && (r = json_object_get(sj, "NotResource"))) st->not_resource = true;
        if (r) {
            st->has_resource = true;
            st->resources = nb_arena_calloc(ps->arena, elem_count(r) * sizeof(*st->resources));
            if (!st->resources) return false;
            for (size_t j = 0; j < elem_count(r); j++) {
                size_t n;
                const char *s = elem_at(r, j, &n);
                if (s && !compile_pat(ps, s, n, &st->resources[st->nresources++])) return false;
            }
        }

        json_t *pr = json_object_get(sj, "Principal");
        if (!pr && (pr = json_object_get(sj, "NotPrincipal"))) st->not_principal = true;
        if (pr && (ps->kind == NB_POLICY_TRUST || ps->kind == NB_POLICY_RESOURCE)) {
            st->has_principal = true;
            if (!compile_principals(ps, pr, st)) return false;
        }

        json_t *c = json_object_get(sj, "Condition");
        if (c && !compile_conditions(ps, c, st)) return false;
    }
    ps->pol = p;
    return true;
}

static void oom(nb_policy_error *err)
{
    if (!err) return;
    err->code = "ServiceFailure";
    snprintf(err->message, sizeof(err->message), "Out of memory while reading the policy.");
}

nb_policy *nb_policy_parse_ex(const char *doc, size_t len, const nb_policy_parse_opts *opts,
                              nb_policy_error *err)
{
    struct pstate ps;
    memset(&ps, 0, sizeof(ps));
    ps.o = opts;
    ps.kind = opts->kind;
    ps.res = !is_iam_kind(opts->kind);
    ps.err = err;
    if (err) {
        err->code = NULL;
        err->message[0] = 0;
    }
    json_error_t jerr;
    ps.root = json_loadb(doc ? doc : "", doc ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
    if (!ps.root) {
        SYNTAX(&ps);
        return NULL;
    }
    nb_policy *result = NULL;
    bool ok = check_syntax(&ps);
    if (ok && !ps.stmts) {
        ok = false;
        oom(err);
    }
    if (ok) {
        ps.vars = ps.version && strcmp(ps.version, "2012-10-17") == 0;
        ok = check_semantics(&ps);
    }
    if (ok) {
        ps.arena = nb_arena_new(4096);
        if (ps.arena && compile(&ps)) {
            result = ps.pol;
        } else {
            nb_arena_free(ps.arena);
            oom(err);
        }
    }
    free(ps.stmts);
    json_decref(ps.root);
    return result;
}

nb_policy *nb_policy_parse(const char *doc, size_t len, enum nb_policy_kind kind,
                           nb_policy_error *err)
{
    nb_policy_parse_opts o = {.kind = kind};
    return nb_policy_parse_ex(doc, len, &o, err);
}

void nb_policy_free(nb_policy *p)
{
    if (p) nb_arena_free(p->arena);
}

enum nb_policy_kind nb_policy_kind_of(const nb_policy *p)
{
    return p->kind;
}
const char *nb_policy_version(const nb_policy *p)
{
    return p->version;
}
size_t nb_policy_statement_count(const nb_policy *p)
{
    return p->nstmts;
}
const char *nb_policy_statement_sid(const nb_policy *p, size_t i)
{
    return i < p->nstmts ? p->stmts[i].sid : NULL;
}

/* ---- sizes ---- */

static const struct {
    size_t limit;
    const char *code;
    const char *fmt; /* %zu limit, %s owner */
} QUOTAS[] = {
    [NB_POLICY_QUOTA_MANAGED] = {6144, "LimitExceeded",
                                 "Cannot exceed quota for PolicySize: %zu%.0s"},
    [NB_POLICY_QUOTA_USER_INLINE] = {2048, "LimitExceeded",
                                     "Maximum policy size of %zu bytes exceeded for user %s"},
    [NB_POLICY_QUOTA_ROLE_INLINE] = {10240, "LimitExceeded",
                                     "Maximum policy size of %zu bytes exceeded for role %s"},
    [NB_POLICY_QUOTA_GROUP_INLINE] = {5120, "LimitExceeded",
                                      "Maximum policy size of %zu bytes exceeded for group %s"},
    [NB_POLICY_QUOTA_TRUST] = {2048, "LimitExceeded",
                               "Cannot exceed quota for ACLSizePerRole: %zu%.0s"},
    [NB_POLICY_QUOTA_SESSION] =
        {2048, "ValidationError",
         "1 validation error detected: Value at 'policy' failed to satisfy "
         "constraint: Member must have length less than or equal to %zu%.0s"},
    [NB_POLICY_QUOTA_BUCKET] = {20480, "PolicyTooLarge",
                                "Policies must be less than %zu bytes%.0s"},
};

size_t nb_policy_quota_limit(enum nb_policy_quota q)
{
    return (size_t)q < NB_ARRAY_LEN(QUOTAS) ? QUOTAS[q].limit : 0;
}

size_t nb_policy_size(const char *doc, size_t len)
{
    size_t n = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)doc[i];
        if ((c & 0xC0) == 0x80) continue; /* UTF-8 continuation: same character */
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (is_space((char)c)) {
            continue;
        }
        n++;
    }
    return n;
}

int nb_policy_check_size(const char *doc, size_t len, size_t already_used, enum nb_policy_quota q,
                         const char *owner, nb_policy_error *err)
{
    if ((size_t)q >= NB_ARRAY_LEN(QUOTAS)) return -1;
    size_t limit = QUOTAS[q].limit;
    if (nb_policy_size(doc, len) + already_used <= limit) return 0;
    if (err) {
        err->code = QUOTAS[q].code;
        snprintf(err->message, sizeof(err->message), QUOTAS[q].fmt, limit, owner ? owner : "");
    }
    return -1;
}
