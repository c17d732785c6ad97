/* policy_int.h: the compiled form of a policy, shared by the parser (policy_parse.c), the
 * matchers (policy_match.c), conditions (policy_cond.c) and the evaluator (policy_eval.c).
 * Not for use outside src/iam/policy*.c. */
#ifndef NB_IAM_POLICY_INT_H
#define NB_IAM_POLICY_INT_H

#include "core/nb.h"
#include "iam/policy.h"

#include <stdint.h>

/* ---- strings with wildcards and policy variables ----
 * A pattern keeps the policy's raw text. When it holds policy variables (Version 2012-10-17
 * only), parts[] splits it into literal text and variable references resolved per request. */
struct pol_part {
    const char *text; /* literal text (raw), or NULL for a variable */
    uint32_t len;
    const char *key; /* variable: lowercase key, or one of "*", "?", "$" for ${*} ${?} ${$} */
    uint32_t keylen;
    const char *deflt; /* ${key, 'default'}: text used when the key is absent */
    uint32_t deflen;
    bool has_default;
    bool plain; /* literal text without '\\': copied as it is into a glob */
};

struct pol_pat {
    const char *raw; /* the text as written (NUL-terminated) */
    uint32_t rawlen;
    const char *glob; /* raw with '\' escaped for the glob matcher; == raw when it had none */
    uint32_t globlen;
    bool wild; /* raw holds '*' or '?' */
    bool any;  /* raw is only stars: matches every string (no scan needed) */
    /* Length of the literal text the pattern starts with (before any wildcard, '\\' or
     * variable): a subject must start with it, a cheap test before globbing or expanding. */
    uint32_t prefixlen;
    uint16_t nparts; /* > 0: has policy variables */
    struct pol_part *parts;
};

/* ---- actions: "*" or vendor:name-pattern, kept lowercase (actions are case-insensitive) ---- */
struct pol_action {
    const char *svc; /* lowercase vendor; "*" matches every vendor */
    uint32_t svclen;
    uint32_t svchash;
    const char *name; /* lowercase pattern */
    uint32_t namelen;
    bool all;      /* "*" */
    bool anysvc;   /* vendor "*" */
    bool namewild; /* name holds '*' or '?' */
    bool nameall;  /* name is "*" */
};

/* ---- principals ---- */
enum pol_pkind {
    PK_ANY,       /* "*" or {"AWS": "*"} */
    PK_ACCOUNT,   /* {"AWS": "123456789012"} or arn:aws:iam::123456789012:root */
    PK_ARN,       /* {"AWS": user, role, assumed-role or federated-user ARN} */
    PK_SERVICE,   /* {"Service": "logs.amazonaws.com"} */
    PK_FEDERATED, /* {"Federated": provider} */
    PK_CANONICAL, /* {"CanonicalUser": id} */
};
struct pol_principal {
    uint8_t kind;
    const char *text; /* account id for PK_ACCOUNT */
    uint32_t len;
};

/* ---- conditions ---- */
enum pol_op {
    OP_STR_EQ,
    OP_STR_EQ_IC,
    OP_STR_LIKE,
    OP_NUM,
    OP_DATE,
    OP_BOOL,
    OP_BINARY,
    OP_IP,
    OP_ARN,
    OP_NULL,
};
enum pol_cmp { CMP_EQ, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
enum pol_qual { QUAL_NONE, QUAL_ANY, QUAL_ALL };

struct pol_ipnet {
    uint8_t family; /* 4 or 6; 0: not an address */
    uint8_t prefix;
    uint8_t addr[16];
};

struct pol_cvalue {
    struct pol_pat pat;
    /* Pre-parsed when the value has no variables; ok false means it can never match. */
    bool ok;
    bool b;     /* Bool, Null */
    double num; /* Numeric */
    int64_t ms; /* Date: milliseconds since the epoch */
    struct pol_ipnet ip;
};

struct pol_cond {
    uint8_t op;  /* enum pol_op */
    uint8_t cmp; /* enum pol_cmp for Numeric/Date */
    uint8_t qual;
    bool negated;
    bool ifexists;
    const char *key; /* lowercase condition key */
    uint32_t keylen;
    uint32_t nvalues;
    struct pol_cvalue *values;
};

/* Bit of a vendor in the 64-bit vendor masks below: a cheap pre-filter, exact matching follows. */
#define POL_SVCBIT(hash) (UINT64_C(1) << ((hash)&63))

struct pol_stmt {
    /* Vendors the statement's Action can match (all bits for "*", "*:..." and NotAction). */
    uint64_t svcmask;
    bool deny;
    bool not_action, not_resource, not_principal;
    bool has_principal; /* Principal or NotPrincipal given */
    bool has_resource;  /* Resource or NotResource given (trust policies have none) */
    const char *sid;
    uint32_t nactions, nresources, nprincipals, nconds;
    struct pol_action *actions;
    struct pol_pat *resources;
    struct pol_principal *principals;
    struct pol_cond *conds;
};

struct nb_policy {
    nb_arena *arena; /* owns everything below */
    enum nb_policy_kind kind;
    const char *version;
    uint32_t nstmts;
    struct pol_stmt *stmts;
    /* Unions of the statements' vendor masks, so a policy with nothing for the request's
     * vendor, or only Allows when an allow is already known, is skipped without a scan. */
    uint64_t allow_mask, deny_mask;
};

/* ---- helpers shared between files (policy_match.c) ---- */
extern const unsigned char nb_pol_lower[256];
uint32_t nb_pol_hash_lower(const char *s, size_t n); /* FNV-1a of the lowercased bytes */
/* Glob match of s against pattern p where '*' is any run, '?' one character and '\' quotes
 * the next byte. fold: compare ASCII case-insensitively (p must then be lowercase). */
bool nb_pol_glob(const char *p, size_t pn, const char *s, size_t sn, bool fold);
/* ARN match component by component (ArnLike/ArnEquals and the ARN operators' semantics). */
bool nb_pol_arn_like(const char *p, size_t pn, const char *s, size_t sn);
bool nb_pol_parse_number(const char *s, size_t n, double *out);
bool nb_pol_parse_date(const char *s, size_t n, int64_t *ms);
bool nb_pol_parse_ip(const char *s, size_t n, struct pol_ipnet *out, bool allow_prefix);
bool nb_pol_ip_in(const struct pol_ipnet *net, const struct pol_ipnet *addr);
bool nb_pol_parse_bool(const char *s, size_t n, bool *out);

/* ---- per-request evaluation state (policy_cond.c, policy_eval.c) ---- */
struct pol_rctx {
    const nb_authz_request *r;
    const char *svc; /* vendor part of the action */
    size_t svclen;
    uint32_t svchash;
    const char *aname; /* name part of the action */
    size_t anamelen;
    const char *res;
    size_t reslen;
    bool oom; /* an expansion failed for memory: the caller fails closed */
};

/* A growable scratch buffer that starts on the stack: most expansions fit in it. */
struct pol_sbuf {
    char *p;
    size_t len, cap;
    bool heap;
    char stack[512];
};
void nb_pol_sbuf_init(struct pol_sbuf *b);
void nb_pol_sbuf_free(struct pol_sbuf *b);

/* Expand pat's variables for this request into b. glob: escape substituted text so it matches
 * literally. Returns 1, 0 when a variable has no value (and no default), -1 out of memory. */
int nb_pol_expand(const struct pol_pat *pat, const struct pol_rctx *rc, bool glob,
                  struct pol_sbuf *b);
/* All conditions of a statement hold (AND of keys and operators). */
bool nb_pol_conds_hold(const struct pol_stmt *st, struct pol_rctx *rc);

#endif
