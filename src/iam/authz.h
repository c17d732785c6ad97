/* authz.h: the authorization step every request passes before its handler runs: the
 * operation's IAM action(s) and resource ARN(s) (from the service's op table), the caller's
 * identity policies, boundary and session policies, and the resource's policy go through
 * the policy evaluator. */
#ifndef NB_IAM_AUTHZ_H
#define NB_IAM_AUTHZ_H

#include "svc/service.h"

/* Expand an op table resource template: "{Member}" is replaced by that input member (string),
 * "{region}" and "{account}" by the call's region and caller account, "{Member|self}" by the
 * member or, when absent, the calling IAM user's name (IAM operations that default to the
 * caller), "{@kind:Member}" (also "|self") by the path of the IAM entity of that kind ("user",
 * "group", "role", "instance-profile", "server-certificate") the member names, or the request's
 * Path when it does not exist yet, or "/". An absent member leaves its place empty ("arn:aws:iam::1:user/" for ListUsers).
 * Result in the call's arena (NULL when out of memory). */
const char *nb_authz_expand(nb_call *c, const char *tmpl);

/* 0 = allowed; -1 = denied with c->err set to AccessDenied in AWS's words (per protocol:
 * AccessDenied for query and rest-xml, AccessDeniedException for json and rest-json,
 * UnauthorizedOperation for ec2, AuthorizationError for SNS). def may be NULL (operation
 * without a handler: it still needs authorization, and answers NotImplemented). Operations
 * flagged NB_OP_NO_AUTHZ pass. */
int nb_iam_authorize(nb_call *c, const nb_op_def *def);

/* One explicit check, for handlers that authorize themselves (AssumeRole evaluates the role's
 * trust policy as the resource policy, S3 CopyObject checks the source ...). */
typedef struct nb_authz_check_args {
    const char *action;            /* "sts:AssumeRole" */
    const char *resource;          /* ARN, or NULL/"" = "*" */
    const char *resource_policy;   /* document text, or NULL */
    bool trust;                    /* resource_policy is a role trust policy */
    const char *resource_account;  /* owner of the resource; NULL = the caller's */
    json_t *context;               /* extra condition keys (lowercase), merged; may be NULL */
    bool skip_service_context;     /* do not call the service's authz_context hook */
} nb_authz_check_args;
int nb_authz_check(nb_call *c, const nb_authz_check_args *a);
/* A policy element (Principal, Action ...) as AWS writes it: a lone value as itself, several
 * as a list. Takes the reference to arr and returns one. */
json_t *nb_policy_one_or_list(json_t *arr);

/* The compiled policy set of a principal (users, role and federated sessions), cached until
 * the next IAM write. Reference counted: release what nb_authz_set_get returned. NULL when it
 * cannot be read. */
typedef struct nb_authz_set nb_authz_set;
const nb_authz_set *nb_authz_set_get(const nb_principal *who);
void nb_authz_set_release(const nb_authz_set *s);

#endif
