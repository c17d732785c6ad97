/* policy.h: IAM policy documents: validate (with AWS's MalformedPolicyDocument reasons),
 * compile once into an nb_policy, and evaluate requests against sets of policies the way AWS
 * does (explicit deny > allow > implicit deny, resource policies, boundaries, sessions).
 *
 * A pure library: no I/O, no global state; every function is thread-safe on distinct outputs,
 * and a compiled nb_policy is immutable, so many threads may evaluate it at once. */
#ifndef NB_IAM_POLICY_H
#define NB_IAM_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---------------------------------------------------------------------------------------------
 * Parsing and validation
 * ------------------------------------------------------------------------------------------- */

/* What a document is used as; it decides which elements are required or refused and which
 * family of error messages is used (IAM's for the first four, S3-style for resource). */
enum nb_policy_kind {
    NB_POLICY_IDENTITY, /* managed or inline policy of a user/group/role: no Principal */
    NB_POLICY_BOUNDARY, /* permissions boundary (a managed policy): no Principal */
    NB_POLICY_SESSION,  /* session policy given to AssumeRole/GetFederationToken: no Principal */
    NB_POLICY_TRUST,    /* role trust policy: Principal required, no Resource, sts: actions */
    NB_POLICY_RESOURCE, /* bucket/topic/queue/key policy: Principal required */
};

typedef struct nb_policy nb_policy;

/* Why a document was refused. code is the AWS error code to answer with ("MalformedPolicyDocument"
 * for IAM kinds, "MalformedPolicy" for resource policies, "LimitExceeded" for sizes); message is
 * AWS's text. Fixed size on purpose: AWS's reasons are short, and fragments quoted from the
 * document are truncated, so callers never free anything. */
typedef struct nb_policy_error {
    const char *code;
    char message[320];
} nb_policy_error;

typedef struct nb_policy_parse_opts {
    enum nb_policy_kind kind;
    /* Optional. Called for each principal ARN naming a user or role (trust and resource
     * policies); false refuses the document with "Invalid principal in policy". IAM does this
     * for principals that do not exist in the named account. */
    bool (*principal_exists)(void *ctx, const char *arn);
    /* Optional. Called for each Action/NotAction entry (already known to be vendor:name);
     * false refuses it with "Policy has invalid action" (S3 refuses actions of other services). */
    bool (*action_valid)(void *ctx, const char *action);
    void *ctx;
} nb_policy_parse_opts;

/* Validate and compile a policy document of len bytes (need not be NUL-terminated). Returns a
 * policy owned by the caller (nb_policy_free), or NULL with *err filled (err may be NULL).
 * Refuses every document AWS refuses that we know of; out of memory gives NULL with
 * err->code "ServiceFailure". */
nb_policy *nb_policy_parse(const char *doc, size_t len, enum nb_policy_kind kind,
                           nb_policy_error *err);
nb_policy *nb_policy_parse_ex(const char *doc, size_t len, const nb_policy_parse_opts *opts,
                              nb_policy_error *err);
void nb_policy_free(nb_policy *p); /* NULL-safe */

enum nb_policy_kind nb_policy_kind_of(const nb_policy *p);
/* "2012-10-17", "2008-10-17", or NULL when the document had no Version (AWS reads that as
 * 2008-10-17: policy variables are then plain text). */
const char *nb_policy_version(const nb_policy *p);
size_t nb_policy_statement_count(const nb_policy *p);
const char *nb_policy_statement_sid(const nb_policy *p, size_t i); /* NULL when none */

/* ---- sizes: AWS's quotas count characters, not counting white space ---- */
enum nb_policy_quota {
    NB_POLICY_QUOTA_MANAGED,      /* managed policy version: 6,144 */
    NB_POLICY_QUOTA_USER_INLINE,  /* all inline policies of a user together: 2,048 */
    NB_POLICY_QUOTA_ROLE_INLINE,  /* all inline policies of a role together: 10,240 */
    NB_POLICY_QUOTA_GROUP_INLINE, /* all inline policies of a group together: 5,120 */
    NB_POLICY_QUOTA_TRUST,        /* role trust policy (default quota): 2,048 */
    NB_POLICY_QUOTA_SESSION,      /* inline session policy: 2,048 */
    NB_POLICY_QUOTA_BUCKET,       /* S3 bucket policy: 20 KB */
};
size_t nb_policy_quota_limit(enum nb_policy_quota q);
/* Characters of a document as AWS counts them: UTF-8 characters, white space outside strings
 * not counted. */
size_t nb_policy_size(const char *doc, size_t len);
/* 0 if doc fits in quota q together with already_used characters of the owner's other inline
 * policies (0 for managed/trust/session/bucket); else -1 with err filled with AWS's
 * LimitExceeded message. owner names the user/role/group in that message (may be NULL). */
int nb_policy_check_size(const char *doc, size_t len, size_t already_used, enum nb_policy_quota q,
                         const char *owner, nb_policy_error *err);

/* ---------------------------------------------------------------------------------------------
 * Evaluation
 * ------------------------------------------------------------------------------------------- */

enum nb_pol_principal {
    NB_POL_ANONYMOUS,      /* unsigned request */
    NB_POL_ROOT,           /* an account's root user */
    NB_POL_USER,           /* IAM user */
    NB_POL_ROLE_SESSION,   /* assumed-role session (AssumeRole*) */
    NB_POL_FEDERATED_USER, /* GetFederationToken session */
    NB_POL_WEB_IDENTITY,   /* SAML/OIDC caller of AssumeRoleWith{SAML,WebIdentity} */
    NB_POL_SERVICE,        /* an AWS service acting on its own (e.g. logs.amazonaws.com) */
};

/* One request to authorize. Only action and principal_type are required; every string is
 * borrowed for the duration of the call. */
typedef struct nb_authz_request {
    const char *action;   /* "s3:GetObject" (matched case-insensitively) */
    const char *resource; /* ARN; NULL means the action has no resource ("*") */
    enum nb_pol_principal principal_type;
    /* USER/ROOT: the user's/root's ARN; ROLE_SESSION: arn:aws:sts::ACCT:assumed-role/R/S;
     * FEDERATED_USER: arn:aws:sts::ACCT:federated-user/N; SERVICE: the service principal
     * ("logs.amazonaws.com"); WEB_IDENTITY: the provider ("accounts.google.com" or the SAML
     * provider ARN). */
    const char *principal_arn;
    const char *role_arn;          /* ROLE_SESSION: arn:aws:iam::ACCT:role/path/R */
    const char *principal_account; /* 12 digits; NULL for anonymous and services */
    const char *resource_account;  /* owner of the resource; NULL = principal_account */
    const char *user_name;         /* ${aws:username} (IAM users only) */
    const char *user_id;           /* ${aws:userid}: AIDA..., or AROA...:session */
    const char *canonical_id;      /* S3 canonical user id, for Principal CanonicalUser */
    /* Condition keys: an object of lowercase key -> string, or array of strings for
     * multivalued keys (numbers and booleans are read as their text). aws:username,
     * aws:userid, aws:principalarn, aws:principalaccount, aws:principaltype and
     * aws:principalservicename are derived from the fields above when absent here. May be NULL. */
    const json_t *context;
} nb_authz_request;

typedef struct nb_authz_policies {
    const nb_policy *const *identity; /* user's (with its groups') or role's policies */
    size_t nidentity;
    const nb_policy *boundary;       /* permissions boundary, NULL if none */
    const nb_policy *const *session; /* session policies (inline + managed ARNs), if any */
    size_t nsession;
    const nb_policy *resource; /* resource policy (or a role's trust policy), NULL if none */
} nb_authz_policies;

enum nb_decision {
    NB_DECISION_IMPLICIT_DENY = 0,
    NB_DECISION_ALLOW,
    NB_DECISION_EXPLICIT_DENY,
};

/* Why the decision came out as it did; the deny reasons are AWS's AccessDenied phrases. */
enum nb_authz_reason {
    NB_AUTHZ_ALLOWED_BY_IDENTITY, /* identity (and boundary, session) policies allow */
    NB_AUTHZ_ALLOWED_BY_RESOURCE, /* the resource policy allows this principal itself */
    NB_AUTHZ_ALLOWED_AS_ROOT,     /* root user of the resource's account */
    NB_AUTHZ_DENIED_EXPLICIT,     /* a Deny statement matched (where/statement say which) */
    NB_AUTHZ_DENIED_NO_IDENTITY,  /* no identity-based policy allows */
    NB_AUTHZ_DENIED_NO_BOUNDARY,  /* the permissions boundary does not allow */
    NB_AUTHZ_DENIED_NO_SESSION,   /* no session policy allows */
    NB_AUTHZ_DENIED_NO_RESOURCE,  /* cross-account/anonymous/service: no resource policy allows */
    NB_AUTHZ_DENIED_ERROR,        /* out of memory while evaluating: fail closed */
};

enum nb_authz_where {
    NB_AUTHZ_IN_NONE,
    NB_AUTHZ_IN_IDENTITY,
    NB_AUTHZ_IN_BOUNDARY,
    NB_AUTHZ_IN_SESSION,
    NB_AUTHZ_IN_RESOURCE,
};

typedef struct nb_authz_explain {
    enum nb_authz_reason reason;
    enum nb_authz_where where; /* policy set holding the deciding statement, if any */
    size_t policy;             /* index in identity[] or session[] */
    size_t statement;          /* statement index in that policy */
    const char *sid;           /* its Sid, or NULL; points into the policy */
} nb_authz_explain;

/* Evaluate a request against everything that applies to it. explain may be NULL.
 * When p->resource is a role's trust policy (NB_POLICY_TRUST), it must name the caller, its
 * role or its account even inside the role's own account, as IAM requires for AssumeRole;
 * other resource policies are optional within an account. */
enum nb_decision nb_authz_evaluate(const nb_authz_request *r, const nb_authz_policies *p,
                                   nb_authz_explain *explain);

/* AWS's words for a reason, to finish "User: ARN is not authorized to perform: ACTION on
 * resource: RES because ..." e.g. "no identity-based policy allows the s3:GetObject action".
 * Writes into out (NUL-terminated, truncated to n). */
void nb_authz_reason_text(const nb_authz_explain *e, const char *action, char *out, size_t n);

/* One policy alone (SimulateCustomPolicy, or a service checking one document): ALLOW if an
 * Allow statement applies and no Deny does. Principal/NotPrincipal are checked for trust and
 * resource policies and ignored for the others. explain may be NULL; its reason is
 * ALLOWED_BY_IDENTITY, DENIED_EXPLICIT or DENIED_NO_IDENTITY. */
enum nb_decision nb_policy_evaluate(const nb_policy *p, const nb_authz_request *r,
                                    nb_authz_explain *explain);

/* How an allowing statement named the principal: the strongest match wins. */
enum nb_principal_match {
    NB_PRINCIPAL_MATCH_NONE,    /* no Allow applies, or a Deny does */
    NB_PRINCIPAL_MATCH_ACCOUNT, /* the principal's account ("123456789012" or ...:root) */
    NB_PRINCIPAL_MATCH_ROLE,    /* the role ARN of a role session */
    NB_PRINCIPAL_MATCH_DIRECT,  /* the principal itself, a service/provider, or "*" */
};

/* For trust policies (AssumeRole*): whether the policy lets this principal do r->action
 * (conditions such as sts:ExternalId included) and how it names it. MATCH_ACCOUNT means the
 * caller's own identity policies must also allow the action: use nb_authz_evaluate with the
 * trust policy as the resource policy to get the whole answer. */
enum nb_principal_match nb_policy_matches_principal(const nb_policy *p, const nb_authz_request *r);

/* Helpers for building a request context: set key (lowercased) to a string, or append it to
 * the key's array. 0 on success, -1 on allocation failure. */
int nb_authz_context_set(json_t *ctx, const char *key, const char *value);
int nb_authz_context_add(json_t *ctx, const char *key, const char *value);

#endif
