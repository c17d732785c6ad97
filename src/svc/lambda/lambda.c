/* lambda.c: AWS Lambda (rest-json). So far: ListFunctions over the (still empty) set of
 * functions; function creation and invocation arrive with the Lambda issue. */
#include "svc/service.h"

static int list_functions(nb_call *c)
{
    json_int_t max = nb_in_int(c, "MaxItems", 50);
    if (max < 1 || max > 10000)
        return nb_call_error(c, 400, "InvalidParameterValueException",
                             "1 validation error detected: Value '%lld' at 'maxItems' failed to "
                             "satisfy constraint: Member must have value less than or equal to 10000",
                             (long long)max);
    c->output = json_pack("{s:[]}", "Functions");
    return c->output ? 0 : nb_call_error(c, 500, "ServiceException", "Out of memory.");
}

static const nb_op_def ops[] = {
    {"ListFunctions", list_functions, NB_OP_INLINE, NULL},
};

const nb_service nb_svc_lambda = {
    .name = "lambda",
    .model = "lambda",
    .ops = ops,
    .nops = NB_ARRAY_LEN(ops),
};
