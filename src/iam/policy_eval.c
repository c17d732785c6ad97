/* policy_eval.c: evaluation of requests against compiled policies, with AWS's logic
 * (reference_policies_evaluation-logic): explicit deny anywhere wins; within an account an
 * allow comes from identity policies (cut by the boundary and session policies) or from a
 * resource policy naming the principal; across accounts both sides must allow. */
#include "iam/policy_int.h"

#include <stdio.h>

static void rctx_init(struct pol_rctx *rc, const nb_authz_request *r)
{
    memset(rc, 0, sizeof(*rc));
    rc->r = r;
    const char *a = r->action ? r->action : "";
    const char *c = strchr(a, ':');
    if (c) {
        rc->svc = a;
        rc->svclen = (size_t)(c - a);
        rc->aname = c + 1;
        rc->anamelen = strlen(c + 1);
    } else {
        rc->svc = "";
        rc->aname = a;
        rc->anamelen = strlen(a);
    }
    rc->svchash = nb_pol_hash_lower(rc->svc, rc->svclen);
    rc->res = r->resource ? r->resource : "*";
    rc->reslen = strlen(rc->res);
}

/* pattern (already lowercase) == s, ASCII case-insensitively */
static bool eq_fold(const char *low, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)low[i] != nb_pol_lower[(unsigned char)s[i]]) return false;
    return true;
}

static bool action_matches(const struct pol_stmt *st, const struct pol_rctx *rc)
{
    bool m = false;
    for (uint32_t i = 0; i < st->nactions && !m; i++) {
        const struct pol_action *a = &st->actions[i];
        if (a->all) {
            m = true;
            break;
        }
        if (!a->anysvc && (a->svchash != rc->svchash || a->svclen != rc->svclen ||
                           !eq_fold(a->svc, rc->svc, rc->svclen)))
            continue;
        if (a->nameall)
            m = true;
        else if (a->namewild)
            m = nb_pol_glob(a->name, a->namelen, rc->aname, rc->anamelen, true);
        else
            m = a->namelen == rc->anamelen && eq_fold(a->name, rc->aname, rc->anamelen);
    }
    return st->not_action ? !m : m;
}

/* Resource entries are case-sensitive globs over the whole ARN. A pattern whose variable has
 * no value matches nothing (so under NotResource it does not exclude). */
static bool resource_matches(const struct pol_stmt *st, struct pol_rctx *rc)
{
    if (!st->has_resource) return true; /* trust policies name no resource */
    bool m = false;
    for (uint32_t i = 0; i < st->nresources && !m; i++) {
        const struct pol_pat *p = &st->resources[i];
        if (p->any) {
            m = true;
            break;
        }
        if (p->prefixlen && (rc->reslen < p->prefixlen || memcmp(p->raw, rc->res, p->prefixlen)))
            continue; /* its fixed start differs: no glob, no expansion */
        /* The literal prefix is known to match (it holds no '\\', so it is the same in the
         * escaped glob and in an expansion): glob only what follows it. */
        size_t k = p->prefixlen;
        if (p->nparts == 0) {
            if (!p->wild && p->glob == p->raw)
                m = p->rawlen == rc->reslen; /* all of it was the prefix */
            else
                m = nb_pol_glob(p->glob + k, p->globlen - k, rc->res + k, rc->reslen - k, false);
            continue;
        }
        struct pol_sbuf sb;
        nb_pol_sbuf_init(&sb);
        int e = nb_pol_expand(p, rc, true, &sb);
        if (e < 0) rc->oom = true;
        if (e > 0) m = nb_pol_glob(sb.p + k, sb.len - k, rc->res + k, rc->reslen - k, false);
        nb_pol_sbuf_free(&sb);
    }
    return st->not_resource ? !m : m;
}

static bool streq(const char *a, size_t an, const char *b)
{
    return b && strlen(b) == an && memcmp(a, b, an) == 0;
}

static bool in_account(const nb_authz_request *r)
{
    return r->principal_type == NB_POL_ROOT || r->principal_type == NB_POL_USER ||
           r->principal_type == NB_POL_ROLE_SESSION ||
           r->principal_type == NB_POL_FEDERATED_USER;
}

/* How one Principal entry names the requester. */
static enum nb_principal_match entry_match(const struct pol_principal *pp,
                                           const nb_authz_request *r)
{
    switch (pp->kind) {
    case PK_ANY:
        return NB_PRINCIPAL_MATCH_DIRECT;
    case PK_ACCOUNT:
        if (!in_account(r) || !streq(pp->text, pp->len, r->principal_account))
            return NB_PRINCIPAL_MATCH_NONE;
        /* arn:...:root is the root user's own ARN. */
        return r->principal_type == NB_POL_ROOT ? NB_PRINCIPAL_MATCH_DIRECT
                                                      : NB_PRINCIPAL_MATCH_ACCOUNT;
    case PK_ARN:
        if (!in_account(r)) return NB_PRINCIPAL_MATCH_NONE;
        if (streq(pp->text, pp->len, r->principal_arn)) return NB_PRINCIPAL_MATCH_DIRECT;
        if (r->principal_type == NB_POL_ROLE_SESSION && streq(pp->text, pp->len, r->role_arn))
            return NB_PRINCIPAL_MATCH_ROLE;
        return NB_PRINCIPAL_MATCH_NONE;
    case PK_SERVICE:
        return r->principal_type == NB_POL_SERVICE && r->principal_arn &&
                       nb_mem_ieq(pp->text, pp->len, r->principal_arn, strlen(r->principal_arn))
                   ? NB_PRINCIPAL_MATCH_DIRECT
                   : NB_PRINCIPAL_MATCH_NONE;
    case PK_FEDERATED:
        return r->principal_type == NB_POL_WEB_IDENTITY &&
                       streq(pp->text, pp->len, r->principal_arn)
                   ? NB_PRINCIPAL_MATCH_DIRECT
                   : NB_PRINCIPAL_MATCH_NONE;
    case PK_CANONICAL:
        /* An S3 canonical user id stands for an account (S3 User Guide, "Finding the canonical
         * user ID for your AWS account"): for its root it is the principal itself, for the
         * account's users and roles it is their account, which delegates to their own
         * identity policies as an account ARN does. */
        if (!streq(pp->text, pp->len, r->canonical_id)) return NB_PRINCIPAL_MATCH_NONE;
        if (r->principal_type == NB_POL_ROOT || !in_account(r))
            return NB_PRINCIPAL_MATCH_DIRECT;
        return NB_PRINCIPAL_MATCH_ACCOUNT;
    }
    return NB_PRINCIPAL_MATCH_NONE;
}

/* Is this facet of the requester listed in the statement's (Not)Principal? */
static bool facet_listed(const struct pol_stmt *st, int kind, const char *text)
{
    for (uint32_t i = 0; i < st->nprincipals; i++) {
        const struct pol_principal *pp = &st->principals[i];
        if (pp->kind == PK_ANY) return true;
        if (pp->kind == kind && text && streq(pp->text, pp->len, text)) return true;
    }
    return false;
}

/* NotPrincipal applies to a requester unless every facet of it is listed: AWS reads a request
 * as coming from the session, its role and its account at once, which is why its docs say to
 * list the account ARN (and both role and session ARNs) of principals not to deny. */
static bool not_principal_applies(const struct pol_stmt *st, const nb_authz_request *r)
{
    switch (r->principal_type) {
    case NB_POL_ANONYMOUS:
        return !facet_listed(st, -1, NULL);
    case NB_POL_SERVICE:
        return !facet_listed(st, PK_SERVICE, r->principal_arn);
    case NB_POL_WEB_IDENTITY:
        return !facet_listed(st, PK_FEDERATED, r->principal_arn);
    case NB_POL_ROOT:
        return !facet_listed(st, PK_ACCOUNT, r->principal_account);
    case NB_POL_ROLE_SESSION:
        if (!facet_listed(st, PK_ARN, r->role_arn)) return true;
        /* fall through */
    default:
        return !facet_listed(st, PK_ACCOUNT, r->principal_account) ||
               !facet_listed(st, PK_ARN, r->principal_arn);
    }
}

static enum nb_principal_match principal_match(const struct pol_stmt *st, const nb_authz_request *r)
{
    if (st->not_principal)
        return not_principal_applies(st, r) ? NB_PRINCIPAL_MATCH_DIRECT : NB_PRINCIPAL_MATCH_NONE;
    enum nb_principal_match best = NB_PRINCIPAL_MATCH_NONE;
    for (uint32_t i = 0; i < st->nprincipals && best != NB_PRINCIPAL_MATCH_DIRECT; i++) {
        enum nb_principal_match m = entry_match(&st->principals[i], r);
        if (m > best) best = m;
    }
    return best;
}

/* What one policy says about the request. */
struct pol_hit {
    bool deny;
    uint32_t deny_stmt;
    enum nb_principal_match allow; /* NONE: no allow; DIRECT for policies without principals */
    uint32_t allow_stmt;
};

/* Scan p; stops at the first applicable Deny. Once an allow as strong as can be is known
 * (here, or in an earlier policy of the same set: want_allow false), Allow statements are
 * skipped: only denies can still change the outcome. Statements and whole policies with no
 * action for the request's vendor are skipped on their vendor masks. */
static void eval_policy(const nb_policy *p, struct pol_rctx *rc, bool check_principal,
                        bool want_allow, struct pol_hit *h)
{
    memset(h, 0, sizeof(*h));
    uint64_t bit = POL_SVCBIT(rc->svchash);
    if (!((p->deny_mask | (want_allow ? p->allow_mask : 0)) & bit)) return;
    for (uint32_t i = 0; i < p->nstmts; i++) {
        const struct pol_stmt *st = &p->stmts[i];
        if (!(st->svcmask & bit)) continue;
        if (!st->deny && (!want_allow || h->allow == NB_PRINCIPAL_MATCH_DIRECT)) continue;
        if (!action_matches(st, rc)) continue;
        enum nb_principal_match pm = NB_PRINCIPAL_MATCH_DIRECT;
        if (check_principal && st->has_principal) {
            pm = principal_match(st, rc->r);
            if (pm == NB_PRINCIPAL_MATCH_NONE) continue;
        }
        if (!resource_matches(st, rc)) continue;
        if (!nb_pol_conds_hold(st, rc)) continue;
        if (st->deny) {
            h->deny = true;
            h->deny_stmt = i;
            return;
        }
        if (pm > h->allow) {
            h->allow = pm;
            h->allow_stmt = i;
        }
    }
}

static bool principal_checked(const nb_policy *p)
{
    return p->kind == NB_POLICY_TRUST || p->kind == NB_POLICY_RESOURCE;
}

static void set_explain(nb_authz_explain *ex, enum nb_authz_reason why, enum nb_authz_where where,
                        const nb_policy *p, size_t idx, uint32_t stmt)
{
    ex->reason = why;
    ex->where = where;
    ex->policy = idx;
    ex->statement = stmt;
    ex->sid = p ? p->stmts[stmt].sid : NULL;
}

enum nb_decision nb_authz_evaluate(const nb_authz_request *r, const nb_authz_policies *ps,
                                   nb_authz_explain *explain)
{
    nb_authz_explain dummy;
    nb_authz_explain *ex = explain ? explain : &dummy;
    memset(ex, 0, sizeof(*ex));
    struct pol_rctx rc;
    rctx_init(&rc, r);
    enum nb_pol_principal t = r->principal_type;
    /* Identity policies, boundaries and sessions belong to users and roles; the root user
     * and callers from outside IAM have none. */
    bool identity_side = t == NB_POL_USER || t == NB_POL_ROLE_SESSION ||
                         t == NB_POL_FEDERATED_USER;

    struct pol_hit h;
    bool id_allow = false, bnd_allow = false, ses_allow = false;
    size_t id_idx = 0;
    uint32_t id_stmt = 0;
    if (identity_side) {
        for (size_t i = 0; i < ps->nidentity; i++) {
            const nb_policy *p = ps->identity[i];
            if (!p) continue;
            eval_policy(p, &rc, false, !id_allow, &h);
            if (h.deny) {
                set_explain(ex, NB_AUTHZ_DENIED_EXPLICIT, NB_AUTHZ_IN_IDENTITY, p, i, h.deny_stmt);
                return NB_DECISION_EXPLICIT_DENY;
            }
            if (h.allow && !id_allow) {
                id_allow = true;
                id_idx = i;
                id_stmt = h.allow_stmt;
            }
        }
        if (ps->boundary) {
            eval_policy(ps->boundary, &rc, false, true, &h);
            if (h.deny) {
                set_explain(ex, NB_AUTHZ_DENIED_EXPLICIT, NB_AUTHZ_IN_BOUNDARY, ps->boundary, 0,
                            h.deny_stmt);
                return NB_DECISION_EXPLICIT_DENY;
            }
            bnd_allow = h.allow != NB_PRINCIPAL_MATCH_NONE;
        }
        for (size_t i = 0; i < ps->nsession; i++) {
            const nb_policy *p = ps->session[i];
            if (!p) continue;
            eval_policy(p, &rc, false, !ses_allow, &h);
            if (h.deny) {
                set_explain(ex, NB_AUTHZ_DENIED_EXPLICIT, NB_AUTHZ_IN_SESSION, p, i, h.deny_stmt);
                return NB_DECISION_EXPLICIT_DENY;
            }
            /* Several session policies (inline + managed ARNs) together form one set. */
            if (h.allow) ses_allow = true;
        }
    }
    enum nb_principal_match res = NB_PRINCIPAL_MATCH_NONE;
    uint32_t res_stmt = 0;
    if (ps->resource) {
        eval_policy(ps->resource, &rc, principal_checked(ps->resource), true, &h);
        if (h.deny) {
            set_explain(ex, NB_AUTHZ_DENIED_EXPLICIT, NB_AUTHZ_IN_RESOURCE, ps->resource, 0,
                        h.deny_stmt);
            return NB_DECISION_EXPLICIT_DENY;
        }
        res = h.allow;
        res_stmt = h.allow_stmt;
    }
    /* A pattern we could not expand for lack of memory may have hidden a deny: fail closed. */
    if (rc.oom) {
        ex->reason = NB_AUTHZ_DENIED_ERROR;
        return NB_DECISION_IMPLICIT_DENY;
    }

    bool same_account =
        !r->resource_account ||
        (r->principal_account && strcmp(r->principal_account, r->resource_account) == 0);
    /* A role trust policy is the one resource policy that must always name the caller, even in
     * the role's own account: identity policies allowing sts:AssumeRole are not enough unless
     * the trust policy trusts the caller or its account (IAM User Guide, "Granting a user
     * permissions to switch roles": "the role's trust policy must ... specify the account as
     * a Principal"). So for trust policies "same account" never short-cuts the resource side. */
    bool trust = ps->resource && ps->resource->kind == NB_POLICY_TRUST;
    if (trust && res == NB_PRINCIPAL_MATCH_NONE) {
        ex->reason = NB_AUTHZ_DENIED_NO_RESOURCE;
        return NB_DECISION_IMPLICIT_DENY;
    }
#define ALLOW_RES()                                                                                \
    do {                                                                                           \
        set_explain(ex, NB_AUTHZ_ALLOWED_BY_RESOURCE, NB_AUTHZ_IN_RESOURCE, ps->resource, 0,       \
                    res_stmt);                                                                     \
        return NB_DECISION_ALLOW;                                                                  \
    } while (0)

    if (t == NB_POL_ROOT) {
        /* Root cannot be limited by IAM policies in its own account (only by an explicit deny
         * in a resource policy, handled above); elsewhere it needs the resource policy. */
        if (same_account) {
            ex->reason = NB_AUTHZ_ALLOWED_AS_ROOT;
            return NB_DECISION_ALLOW;
        }
        if (res != NB_PRINCIPAL_MATCH_NONE) ALLOW_RES();
        ex->reason = NB_AUTHZ_DENIED_NO_RESOURCE;
        return NB_DECISION_IMPLICIT_DENY;
    }
    if (!identity_side) {
        /* Anonymous callers, services and federated identities have only resource policies. */
        if (res == NB_PRINCIPAL_MATCH_DIRECT) ALLOW_RES();
        ex->reason = NB_AUTHZ_DENIED_NO_RESOURCE;
        return NB_DECISION_IMPLICIT_DENY;
    }

    bool bnd_ok = !ps->boundary || bnd_allow;
    bool ses_ok = ps->nsession == 0 || ses_allow;
    if (same_account) {
        /* A resource policy naming the user or the session itself is enough on its own; naming
         * the role is limited by the boundary and session policies; naming the account only
         * delegates to the identity policies. */
        if (res == NB_PRINCIPAL_MATCH_DIRECT) ALLOW_RES();
        if (res == NB_PRINCIPAL_MATCH_ROLE && bnd_ok && ses_ok) ALLOW_RES();
    }
    bool id_ok = id_allow && bnd_ok && ses_ok;
    if (id_ok && (same_account || res != NB_PRINCIPAL_MATCH_NONE)) {
        set_explain(ex, NB_AUTHZ_ALLOWED_BY_IDENTITY, NB_AUTHZ_IN_IDENTITY, ps->identity[id_idx],
                    id_idx, id_stmt);
        return NB_DECISION_ALLOW;
    }
#undef ALLOW_RES
    if (!id_allow && !(same_account && res == NB_PRINCIPAL_MATCH_ROLE))
        ex->reason = NB_AUTHZ_DENIED_NO_IDENTITY;
    else if (!bnd_ok)
        ex->reason = NB_AUTHZ_DENIED_NO_BOUNDARY;
    else if (!ses_ok)
        ex->reason = NB_AUTHZ_DENIED_NO_SESSION;
    else
        ex->reason = NB_AUTHZ_DENIED_NO_RESOURCE;
    return NB_DECISION_IMPLICIT_DENY;
}

enum nb_decision nb_policy_evaluate(const nb_policy *p, const nb_authz_request *r,
                                    nb_authz_explain *explain)
{
    nb_authz_explain dummy;
    nb_authz_explain *ex = explain ? explain : &dummy;
    memset(ex, 0, sizeof(*ex));
    struct pol_rctx rc;
    rctx_init(&rc, r);
    struct pol_hit h;
    eval_policy(p, &rc, principal_checked(p), true, &h);
    if (h.deny) {
        set_explain(ex, NB_AUTHZ_DENIED_EXPLICIT, NB_AUTHZ_IN_IDENTITY, p, 0, h.deny_stmt);
        return NB_DECISION_EXPLICIT_DENY;
    }
    if (rc.oom) {
        ex->reason = NB_AUTHZ_DENIED_ERROR;
        return NB_DECISION_IMPLICIT_DENY;
    }
    if (h.allow) {
        set_explain(ex, NB_AUTHZ_ALLOWED_BY_IDENTITY, NB_AUTHZ_IN_IDENTITY, p, 0, h.allow_stmt);
        return NB_DECISION_ALLOW;
    }
    ex->reason = NB_AUTHZ_DENIED_NO_IDENTITY;
    return NB_DECISION_IMPLICIT_DENY;
}

enum nb_principal_match nb_policy_matches_principal(const nb_policy *p, const nb_authz_request *r)
{
    struct pol_rctx rc;
    rctx_init(&rc, r);
    struct pol_hit h;
    eval_policy(p, &rc, principal_checked(p), true, &h);
    if (h.deny || rc.oom) return NB_PRINCIPAL_MATCH_NONE;
    return h.allow;
}

void nb_authz_reason_text(const nb_authz_explain *e, const char *action, char *out, size_t n)
{
    static const char *const where[] = {
        [NB_AUTHZ_IN_NONE] = "a policy",
        [NB_AUTHZ_IN_IDENTITY] = "an identity-based policy",
        [NB_AUTHZ_IN_BOUNDARY] = "a permissions boundary",
        [NB_AUTHZ_IN_SESSION] = "a session policy",
        [NB_AUTHZ_IN_RESOURCE] = "a resource-based policy",
    };
    const char *a = action ? action : "";
    if (n == 0) return;
    switch (e->reason) {
    case NB_AUTHZ_DENIED_EXPLICIT:
        snprintf(out, n, "with an explicit deny in %s",
                 (size_t)e->where < NB_ARRAY_LEN(where) ? where[e->where] : where[0]);
        break;
    case NB_AUTHZ_DENIED_NO_IDENTITY:
        snprintf(out, n, "because no identity-based policy allows the %s action", a);
        break;
    case NB_AUTHZ_DENIED_NO_BOUNDARY:
        snprintf(out, n, "because no permissions boundary allows the %s action", a);
        break;
    case NB_AUTHZ_DENIED_NO_SESSION:
        snprintf(out, n, "because no session policy allows the %s action", a);
        break;
    case NB_AUTHZ_DENIED_NO_RESOURCE:
        snprintf(out, n, "because no resource-based policy allows the %s action", a);
        break;
    case NB_AUTHZ_DENIED_ERROR:
        snprintf(out, n, "because the request could not be evaluated");
        break;
    default:
        out[0] = 0;
        break;
    }
}
