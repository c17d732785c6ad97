/* test_policy.c: the IAM policy evaluator against a table of cases (policy set, request, expected
 * decision) built from AWS's documented examples (tests/unit/policy_cases.h), the parser against
 * AWS's MalformedPolicyDocument reasons, and the smaller entry points (single-policy evaluation,
 * trust-policy principal matching, sizes, context builders). Each failing case prints its name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/nb.h"
#include "iam/policy.h"
#include "unit.h"

struct principal {
    enum nb_pol_principal t;
    const char *arn, *role_arn, *account, *user_name, *user_id, *canonical;
};

#define CANON_A1 "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
#define CANON_A4 "be2fe74dc7e8125d8f8fae89d9e60dfdecab8f96e1a69d55e949b009fd95a97e"

struct eval_case {
    const char *name;
    const char *id[4];  /* identity policies (user's with its groups', or role's) */
    const char *bnd;    /* permissions boundary */
    const char *ses[2]; /* session policies */
    const char *rp;     /* resource policy, or the role's trust policy when trust */
    bool trust;
    int who; /* enum who_id */
    const char *action, *res, *racct;
    const char *ctx; /* JSON object (single-quoted) of condition keys */
    enum nb_decision want;
    int why; /* 0, or 1 + the expected nb_authz_reason */
};

struct parse_case {
    const char *name;
    enum nb_policy_kind kind;
    const char *doc;
    const char *code; /* NULL: the document is accepted */
    const char *msg;
};

#include "policy_cases.h"

static const struct principal WHO[] = {
    [ALICE] = {NB_POL_USER, "arn:aws:iam::" A1 ":user/alice", NULL, A1, "alice",
               "AIDAALICEEXAMPLE0001", CANON_A1},
    [BOB] = {NB_POL_USER, "arn:aws:iam::" A1 ":user/division_abc/subdivision_xyz/bob", NULL,
             A1, "bob", "AIDABOBEXAMPLE000001", CANON_A1},
    [ROOT] = {NB_POL_ROOT, "arn:aws:iam::" A1 ":root", NULL, A1, NULL, A1, CANON_A1},
    [CAROL] = {NB_POL_USER, "arn:aws:iam::" A4 ":user/carol", NULL, A4, "carol",
               "AIDACAROLEXAMPLE0001", CANON_A4},
    [XROOT] = {NB_POL_ROOT, "arn:aws:iam::" A4 ":root", NULL, A4, NULL, A4, CANON_A4},
    [DEV] = {NB_POL_ROLE_SESSION, "arn:aws:sts::" A1 ":assumed-role/Dev/alice-session",
             "arn:aws:iam::" A1 ":role/Dev", A1, NULL, "AROADEVEXAMPLE000001:alice-session",
             CANON_A1},
    [XAUD] = {NB_POL_ROLE_SESSION, "arn:aws:sts::" A4 ":assumed-role/Auditor/s1",
              "arn:aws:iam::" A4 ":role/Auditor", A4, NULL, "AROAAUDEXAMPLE000001:s1", CANON_A4},
    [FRED] = {NB_POL_FEDERATED_USER, "arn:aws:sts::" A1 ":federated-user/fred", NULL, A1,
              NULL, A1 ":fred", CANON_A1},
    [ANON] = {NB_POL_ANONYMOUS},
    [SNS] = {NB_POL_SERVICE, "sns.amazonaws.com"},
    [EC2SVC] = {NB_POL_SERVICE, "ec2.amazonaws.com"},
    [GOOGLE] = {NB_POL_WEB_IDENTITY, "accounts.google.com"},
    [S3LOG] = {NB_POL_SERVICE, "logging.s3.amazonaws.com"},
};

/* The table's JSON uses ' for " and ` for '. Returns a malloc'd copy. */
static char *dq(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; *p; p++) {
        if (*p == '\'')
            *p = '"';
        else if (*p == '`')
            *p = '\'';
    }
    return d;
}

static nb_policy *parse_or_report(const char *name, const char *doc, enum nb_policy_kind kind)
{
    if (!doc) return NULL;
    char *d = dq(doc);
    nb_policy_error e;
    nb_policy *p = nb_policy_parse(d, strlen(d), kind, &e);
    if (!p) fprintf(stderr, "FAIL %s: policy refused: %s: %s\n  %s\n", name, e.code, e.message, d);
    free(d);
    return p;
}

/* The request context as the service layer builds it: keys lowercased through the helpers,
 * arrays as multivalued keys; other JSON values are kept as they are. */
static json_t *build_ctx(const char *text)
{
    json_t *ctx = json_object();
    if (!text) return ctx;
    char *d = dq(text);
    json_error_t je;
    json_t *in = json_loads(d, 0, &je);
    free(d);
    if (!in) {
        fprintf(stderr, "bad context in table: %s (%s)\n", text, je.text);
        return ctx;
    }
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v)
    {
        if (json_is_string(v)) {
            nb_authz_context_set(ctx, k, json_string_value(v));
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            char *low = strdup(k);
            for (char *p = low; *p; p++)
                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
            json_object_set_new(ctx, low, json_array()); /* [] stays an empty set */
            free(low);
            json_array_foreach(v, i, e) nb_authz_context_add(ctx, k, json_string_value(e));
        } else {
            char *low = strdup(k);
            for (char *p = low; *p; p++)
                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
            json_object_set(ctx, low, v);
            free(low);
        }
    }
    json_decref(in);
    return ctx;
}

static const char *dname(enum nb_decision d)
{
    return d == NB_DECISION_ALLOW           ? "Allow"
           : d == NB_DECISION_EXPLICIT_DENY ? "ExplicitDeny"
                                            : "ImplicitDeny";
}

static void fill_request(nb_authz_request *r, const struct eval_case *c, const json_t *ctx)
{
    const struct principal *w = &WHO[c->who];
    memset(r, 0, sizeof(*r));
    r->action = c->action;
    r->resource = c->res;
    r->principal_type = w->t;
    r->principal_arn = w->arn;
    r->role_arn = w->role_arn;
    r->principal_account = w->account;
    r->resource_account = c->racct;
    r->user_name = w->user_name;
    r->user_id = w->user_id;
    r->canonical_id = w->canonical;
    r->context = ctx;
}

static void test_eval_table(void)
{
    size_t n = NB_ARRAY_LEN(EVAL_CASES), failed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct eval_case *c = &EVAL_CASES[i];
        nb_policy *id[4] = {0}, *ses[2] = {0}, *bnd = NULL, *rp = NULL;
        size_t nid = 0, nses = 0;
        bool ok = true;
        for (size_t k = 0; k < 4 && c->id[k]; k++)
            ok &= (id[nid++] = parse_or_report(c->name, c->id[k], NB_POLICY_IDENTITY)) != NULL;
        for (size_t k = 0; k < 2 && c->ses[k]; k++)
            ok &= (ses[nses++] = parse_or_report(c->name, c->ses[k], NB_POLICY_SESSION)) != NULL;
        if (c->bnd) ok &= (bnd = parse_or_report(c->name, c->bnd, NB_POLICY_BOUNDARY)) != NULL;
        if (c->rp)
            ok &= (rp = parse_or_report(c->name, c->rp,
                                        c->trust ? NB_POLICY_TRUST : NB_POLICY_RESOURCE)) != NULL;
        json_t *ctx = build_ctx(c->ctx);
        nb_authz_request r;
        fill_request(&r, c, ctx);
        nb_authz_policies ps = {
            .identity = (const nb_policy *const *)id,
            .nidentity = nid,
            .boundary = bnd,
            .session = (const nb_policy *const *)ses,
            .nsession = nses,
            .resource = rp,
        };
        nb_authz_explain ex;
        enum nb_decision d = ok ? nb_authz_evaluate(&r, &ps, &ex) : NB_DECISION_IMPLICIT_DENY;
        unit_checks++;
        if (!ok || d != c->want || (c->why && (int)ex.reason != c->why - 1)) {
            unit_failures++;
            failed++;
            fprintf(stderr, "FAIL %s: got %s (reason %d), want %s", c->name, dname(d),
                    (int)ex.reason, dname(c->want));
            if (c->why) fprintf(stderr, " (reason %d)", c->why - 1);
            fprintf(stderr, "\n");
        }
        /* The same request again must give the same answer (compiled policies are immutable). */
        if (ok) CHECK(nb_authz_evaluate(&r, &ps, NULL) == d);
        json_decref(ctx);
        for (size_t k = 0; k < nid; k++)
            nb_policy_free(id[k]);
        for (size_t k = 0; k < nses; k++)
            nb_policy_free(ses[k]);
        nb_policy_free(bnd);
        nb_policy_free(rp);
    }
    fprintf(stderr, "evaluation table: %zu cases, %zu failed\n", n, failed);
}

static void test_parse_table(void)
{
    size_t n = NB_ARRAY_LEN(PARSE_CASES), failed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct parse_case *c = &PARSE_CASES[i];
        char *d = dq(c->doc);
        nb_policy_error e;
        memset(&e, 0, sizeof(e));
        nb_policy *p = nb_policy_parse(d, strlen(d), c->kind, &e);
        unit_checks++;
        bool good = c->code ? (!p && e.code && strcmp(e.code, c->code) == 0 &&
                               strcmp(e.message, c->msg) == 0)
                            : p != NULL;
        if (!good) {
            unit_failures++;
            failed++;
            if (p)
                fprintf(stderr, "FAIL %s: accepted, want %s: %s\n", c->name, c->code, c->msg);
            else
                fprintf(stderr, "FAIL %s: got %s: %s\n  want %s: %s\n", c->name,
                        e.code ? e.code : "(null)", e.message, c->code ? c->code : "accepted",
                        c->msg ? c->msg : "");
        }
        nb_policy_free(p);
        free(d);
    }
    fprintf(stderr, "parser table: %zu cases, %zu failed\n", n, failed);
}

/* ---- the smaller entry points ---- */

static bool refuse_user_x(void *ctx, const char *arn)
{
    (void)ctx;
    return strstr(arn, ":user/x") == NULL;
}

static bool s3_only(void *ctx, const char *action)
{
    (void)ctx;
    return strncasecmp(action, "s3:", 3) == 0;
}

static void test_parse_options(void)
{
    char *d = dq(DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A1 ":user/x'},"
                     "'Action':'sts:AssumeRole'}"));
    nb_policy_parse_opts o = {.kind = NB_POLICY_TRUST, .principal_exists = refuse_user_x};
    nb_policy_error e;
    CHECK(nb_policy_parse_ex(d, strlen(d), &o, &e) == NULL);
    CHECK_STR(e.message, "Invalid principal in policy: \"AWS\":\"arn:aws:iam::" A1 ":user/x\"");
    free(d);

    d = dq(DOC("{'Effect':'Allow','Principal':'*','Action':'sqs:SendMessage',"
               "'Resource':'arn:aws:s3:::b/*'}"));
    o = (nb_policy_parse_opts){.kind = NB_POLICY_RESOURCE, .action_valid = s3_only};
    CHECK(nb_policy_parse_ex(d, strlen(d), &o, &e) == NULL);
    CHECK_STR(e.code, "MalformedPolicy");
    CHECK_STR(e.message, "Policy has invalid action");
    free(d);

    /* Accessors */
    d = dq("{'Version':'2012-10-17','Statement':[{'Sid':'One','Effect':'Allow','Action':'*',"
           "'Resource':'*'},{'Effect':'Deny','Action':'s3:*','Resource':'*'}]}");
    nb_policy *p = nb_policy_parse(d, strlen(d), NB_POLICY_IDENTITY, NULL);
    CHECK(p != NULL);
    if (p) {
        CHECK(nb_policy_kind_of(p) == NB_POLICY_IDENTITY);
        CHECK_STR(nb_policy_version(p), "2012-10-17");
        CHECK(nb_policy_statement_count(p) == 2);
        CHECK_STR(nb_policy_statement_sid(p, 0), "One");
        CHECK(nb_policy_statement_sid(p, 1) == NULL);
        CHECK(nb_policy_statement_sid(p, 2) == NULL);
    }
    nb_policy_free(p);
    free(d);
    nb_policy_free(NULL);
    /* Documents need not be NUL-terminated: parse a prefix of a longer buffer. */
    const char *whole = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                        "\"Action\":\"*\",\"Resource\":\"*\"}}TRAILING";
    p = nb_policy_parse(whole, strlen(whole) - 8, NB_POLICY_IDENTITY, NULL);
    CHECK(p != NULL);
    nb_policy_free(p);
}

static void test_sizes(void)
{
    const char *doc = "{ \"Version\" : \"2012-10-17\" ,\n  \"Statement\": [] }";
    /* White space outside strings is not counted; inside strings it is. */
    CHECK(nb_policy_size(doc, strlen(doc)) ==
          strlen("{\"Version\":\"2012-10-17\",\"Statement\":[]}"));
    const char *s = "{\"a b\": \"\xc3\xa9\"}"; /* é is one character */
    CHECK(nb_policy_size(s, strlen(s)) == 11);
    CHECK(nb_policy_quota_limit(NB_POLICY_QUOTA_MANAGED) == 6144);
    CHECK(nb_policy_quota_limit(NB_POLICY_QUOTA_USER_INLINE) == 2048);
    CHECK(nb_policy_quota_limit(NB_POLICY_QUOTA_ROLE_INLINE) == 10240);
    CHECK(nb_policy_quota_limit(NB_POLICY_QUOTA_GROUP_INLINE) == 5120);
    CHECK(nb_policy_quota_limit(NB_POLICY_QUOTA_BUCKET) == 20480);
    nb_policy_error e;
    CHECK(nb_policy_check_size(doc, strlen(doc), 0, NB_POLICY_QUOTA_USER_INLINE, "alice", &e) == 0);
    CHECK(nb_policy_check_size(doc, strlen(doc), 2040, NB_POLICY_QUOTA_USER_INLINE, "alice", &e) ==
          -1);
    CHECK_STR(e.code, "LimitExceeded");
    CHECK_STR(e.message, "Maximum policy size of 2048 bytes exceeded for user alice");
    size_t big = 7000;
    char *m = malloc(big + 1);
    memset(m, 'x', big);
    m[big] = 0;
    CHECK(nb_policy_check_size(m, big, 0, NB_POLICY_QUOTA_MANAGED, NULL, &e) == -1);
    CHECK_STR(e.message, "Cannot exceed quota for PolicySize: 6144");
    free(m);
}

static void test_single_policy(void)
{
    /* SimulateCustomPolicy-style evaluation of one document. */
    char *d = dq(DOC("{'Sid':'Read','Effect':'Allow','Action':'s3:Get*','Resource':'*'},"
                     "{'Sid':'NoSecrets','Effect':'Deny','Action':'s3:*',"
                     "'Resource':'arn:aws:s3:::secret/*'}"));
    nb_policy *p = nb_policy_parse(d, strlen(d), NB_POLICY_IDENTITY, NULL);
    free(d);
    CHECK(p != NULL);
    if (!p) return;
    nb_authz_request r = {.action = "s3:GetObject",
                          .resource = "arn:aws:s3:::b/k",
                          .principal_type = NB_POL_USER};
    nb_authz_explain ex;
    CHECK(nb_policy_evaluate(p, &r, &ex) == NB_DECISION_ALLOW);
    CHECK(ex.reason == NB_AUTHZ_ALLOWED_BY_IDENTITY);
    CHECK_STR(ex.sid, "Read");
    r.resource = "arn:aws:s3:::secret/k";
    CHECK(nb_policy_evaluate(p, &r, &ex) == NB_DECISION_EXPLICIT_DENY);
    CHECK(ex.statement == 1);
    CHECK_STR(ex.sid, "NoSecrets");
    char why[200];
    nb_authz_reason_text(&ex, r.action, why, sizeof(why));
    CHECK_STR(why, "with an explicit deny in an identity-based policy");
    r.action = "s3:PutObject";
    r.resource = "arn:aws:s3:::b/k";
    CHECK(nb_policy_evaluate(p, &r, &ex) == NB_DECISION_IMPLICIT_DENY);
    nb_authz_reason_text(&ex, r.action, why, sizeof(why));
    CHECK_STR(why, "because no identity-based policy allows the s3:PutObject action");
    nb_policy_free(p);

    nb_authz_explain e2 = {.reason = NB_AUTHZ_DENIED_NO_BOUNDARY};
    nb_authz_reason_text(&e2, "iam:CreateUser", why, sizeof(why));
    CHECK_STR(why, "because no permissions boundary allows the iam:CreateUser action");
    e2.reason = NB_AUTHZ_DENIED_NO_SESSION;
    nb_authz_reason_text(&e2, "s3:PutObject", why, sizeof(why));
    CHECK_STR(why, "because no session policy allows the s3:PutObject action");
    e2.reason = NB_AUTHZ_DENIED_EXPLICIT;
    e2.where = NB_AUTHZ_IN_RESOURCE;
    nb_authz_reason_text(&e2, "s3:PutObject", why, sizeof(why));
    CHECK_STR(why, "with an explicit deny in a resource-based policy");
}

static void test_principal_match(void)
{
    char *d = dq(DOC("{'Effect':'Allow','Principal':{'AWS':['" A4 "','arn:aws:iam::" A1
                     ":role/Dev','arn:aws:iam::" A1 ":user/alice']},'Action':'sts:AssumeRole'}"));
    nb_policy *p = nb_policy_parse(d, strlen(d), NB_POLICY_TRUST, NULL);
    free(d);
    CHECK(p != NULL);
    if (!p) return;
    json_t *ctx = json_object();
    struct eval_case c = {.action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1};
    nb_authz_request r;
    c.who = CAROL;
    fill_request(&r, &c, ctx);
    CHECK(nb_policy_matches_principal(p, &r) == NB_PRINCIPAL_MATCH_ACCOUNT);
    c.who = DEV;
    fill_request(&r, &c, ctx);
    CHECK(nb_policy_matches_principal(p, &r) == NB_PRINCIPAL_MATCH_ROLE);
    c.who = ALICE;
    fill_request(&r, &c, ctx);
    CHECK(nb_policy_matches_principal(p, &r) == NB_PRINCIPAL_MATCH_DIRECT);
    c.who = BOB;
    fill_request(&r, &c, ctx);
    CHECK(nb_policy_matches_principal(p, &r) == NB_PRINCIPAL_MATCH_NONE);
    c.who = ANON;
    fill_request(&r, &c, ctx);
    CHECK(nb_policy_matches_principal(p, &r) == NB_PRINCIPAL_MATCH_NONE);
    json_decref(ctx);
    nb_policy_free(p);
}

static void test_context_helpers(void)
{
    json_t *ctx = json_object();
    CHECK(nb_authz_context_set(ctx, "aws:SourceIp", "192.0.2.1") == 0);
    CHECK_STR(json_string_value(json_object_get(ctx, "aws:sourceip")), "192.0.2.1");
    CHECK(nb_authz_context_add(ctx, "aws:TagKeys", "A") == 0);
    CHECK(nb_authz_context_add(ctx, "AWS:TAGKEYS", "B") == 0);
    json_t *keys = json_object_get(ctx, "aws:tagkeys");
    CHECK(json_is_array(keys) && json_array_size(keys) == 2);
    /* add onto a single value turns it into a set */
    CHECK(nb_authz_context_add(ctx, "aws:SourceIp", "192.0.2.2") == 0);
    CHECK(json_array_size(json_object_get(ctx, "aws:sourceip")) == 2);
    json_decref(ctx);
}

int main(void)
{
    test_eval_table();
    test_parse_table();
    test_parse_options();
    test_sizes();
    test_single_policy();
    test_principal_match();
    test_context_helpers();
    UNIT_DONE();
}
