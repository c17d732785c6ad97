/* authz.h: the authorization step every request passes before its handler runs: the
 * operation's IAM action(s) and resource ARN(s) (from the service's op table), the caller's
 * identity policies, boundary and session policies, and the resource's policy go through
 * the policy evaluator. */
#ifndef NB_IAM_AUTHZ_H
#define NB_IAM_AUTHZ_H

#include "svc/service.h"

/* Expand an op table resource template: "{Member}" is replaced by that input member (string),
 * "{region}" and "{account}" by the call's region and caller account. A template whose member
 * is absent yields "*"-free ARNs with the member left empty. Result in the call's arena. */
const char *nb_authz_expand(nb_call *c, const char *tmpl);

/* 0 = allowed; -1 = denied with c->err set to AccessDenied in AWS's words. def may be NULL
 * (operation without a handler: it still needs authentication, and answers NotImplemented). */
int nb_iam_authorize(nb_call *c, const nb_op_def *def);

#endif
