/* sts.c: AWS Security Token Service (query protocol). GetCallerIdentity answers who signed
 * the request; the temporary-credential operations arrive with the IAM work (issue 4). */
#include "svc/service.h"

/* GetCallerIdentity: always allowed, even with an explicit deny (as in AWS). */
static int get_caller_identity(nb_call *c)
{
    if (c->who.type == NB_PRINCIPAL_ANONYMOUS)
        return nb_call_error(c, 403, "MissingAuthenticationToken",
                             "Request is missing Authentication Token");
    c->output = json_pack("{s:s, s:s, s:s}", "UserId", c->who.user_id, "Account", c->who.account,
                          "Arn", c->who.arn);
    return c->output ? 0 : nb_call_error(c, 500, "InternalFailure", "Out of memory.");
}

static const nb_op_def ops[] = {
    {"GetCallerIdentity", get_caller_identity, NB_OP_INLINE, NULL},
};

const nb_service nb_svc_sts = {
    .name = "sts",
    .model = "sts",
    .ops = ops,
    .nops = NB_ARRAY_LEN(ops),
};
