/* logs.c: CloudWatch Logs (json protocol). So far: DescribeLogGroups over the (still empty)
 * set of log groups; creating groups and streams arrives with the CloudWatch issue, until
 * then those operations answer NotImplemented. */
#include "svc/service.h"

/* DescribeLogGroups: validates its paging input as AWS does and lists the account's groups. */
static int describe_log_groups(nb_call *c)
{
    json_int_t limit = nb_in_int(c, "limit", 50);
    if (limit < 1 || limit > 50)
        return nb_call_error(c, 400, "InvalidParameterException",
                             "1 validation error detected: Value '%lld' at 'limit' failed to "
                             "satisfy constraint: Member must have value less than or equal to 50",
                             (long long)limit);
    c->output = json_pack("{s:[]}", "logGroups");
    return c->output ? 0 : nb_call_error(c, 500, "ServiceUnavailableException", "Out of memory.");
}

static const nb_op_def ops[] = {
    {"DescribeLogGroups", describe_log_groups, NB_OP_INLINE, NULL},
};

const nb_service nb_svc_logs = {
    .name = "logs",
    .model = "logs",
    .ops = ops,
    .nops = NB_ARRAY_LEN(ops),
};
