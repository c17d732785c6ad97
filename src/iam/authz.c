/* authz.c: authorization of every request. The root user of an account is allowed
 * everything in its account (as in AWS). Anonymous requests are refused here; S3 resource
 * policies and ACLs that let anonymous callers in come with the S3 access-control work.
 * IAM users and role sessions are evaluated by the policy evaluator (src/iam/policy.h) once
 * identities exist. */
#include "iam/authz.h"

#include <stdio.h>

const char *nb_authz_expand(nb_call *c, const char *tmpl)
{
    nb_buf b;
    nb_buf_init(&b);
    for (const char *p = tmpl; *p;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (!end) break;
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
            const char *v = NULL;
            if (!strcmp(name, "region"))
                v = c->region;
            else if (!strcmp(name, "account"))
                v = c->who.account;
            else
                v = nb_in_str(c, name);
            if (v) nb_buf_puts(&b, v);
            p = end + 1;
        } else {
            nb_buf_putc(&b, *p++);
        }
    }
    const char *out = nb_arena_strndup(c->arena, b.data ? b.data : "", b.len);
    nb_buf_free(&b);
    return out;
}

int nb_iam_authorize(nb_call *c, const nb_op_def *def)
{
    switch (c->who.type) {
    case NB_PRINCIPAL_ROOT:
        return 0;
    case NB_PRINCIPAL_ANONYMOUS:
        return nb_call_error(c, 403, "AccessDenied", "Access Denied");
    default: {
        char action[160];
        snprintf(action, sizeof(action), "%s:%s", nb_model_signing_name(c->model),
                 c->op_name ? c->op_name : "");
        return nb_call_error(c, 403, "AccessDenied", "User: %s is not authorized to perform: %s",
                             c->who.arn, def && def->iam_action ? def->iam_action : action);
    }
    }
}
