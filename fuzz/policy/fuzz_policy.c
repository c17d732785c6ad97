/* fuzz_policy.c: libFuzzer target for the IAM policy parser and evaluator: arbitrary bytes are
 * parsed as a policy document (the first byte picks the kind: identity, boundary, session, trust,
 * resource), and whatever compiles is evaluated against fixed requests (an IAM user, a role
 * session, an anonymous caller) whose context has every kind of condition key, so matchers,
 * variables and operators all run on hostile patterns. Also sizes the document as AWS counts it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "iam/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *ctx;

static void build_context(void)
{
    ctx = json_object();
    nb_authz_context_set(ctx, "aws:SourceIp", "192.0.2.10");
    nb_authz_context_set(ctx, "aws:SecureTransport", "true");
    nb_authz_context_set(ctx, "aws:CurrentTime", "2024-05-01T12:00:00Z");
    nb_authz_context_set(ctx, "aws:EpochTime", "1714564800");
    nb_authz_context_set(ctx, "aws:MultiFactorAuthPresent", "true");
    nb_authz_context_set(ctx, "aws:MultiFactorAuthAge", "120");
    nb_authz_context_set(ctx, "aws:RequestedRegion", "us-east-1");
    nb_authz_context_set(ctx, "aws:PrincipalTag/team", "blue");
    nb_authz_context_set(ctx, "aws:ResourceTag/Project", "Blue*?\\${x}");
    nb_authz_context_set(ctx, "aws:RequestTag/CostCenter", "A-123");
    nb_authz_context_add(ctx, "aws:TagKeys", "CostCenter");
    nb_authz_context_add(ctx, "aws:TagKeys", "Owner");
    nb_authz_context_set(ctx, "aws:SourceArn", "arn:aws:sns:us-east-2:111122223333:MyTopic");
    nb_authz_context_set(ctx, "s3:prefix", "home/alice/");
    nb_authz_context_set(ctx, "s3:max-keys", "10");
    nb_authz_context_set(ctx, "sts:ExternalId", "Unique ID");
    nb_authz_context_set(ctx, "dynamodb:Attributes", "QmluYXJ5");
    json_object_set_new(ctx, "ec2:volumesize", json_integer(100));
    json_object_set_new(ctx, "aws:viaawsservice", json_false());
    json_object_set_new(ctx, "aws:emptyset", json_array());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!ctx) build_context();
    static const enum nb_policy_kind kinds[] = {NB_POLICY_IDENTITY, NB_POLICY_BOUNDARY,
                                                NB_POLICY_SESSION, NB_POLICY_TRUST,
                                                NB_POLICY_RESOURCE};
    enum nb_policy_kind kind = kinds[data[0] % 5];
    const char *doc = (const char *)data + 1;
    size_t len = size - 1;
    (void)nb_policy_size(doc, len);
    nb_policy_error err;
    nb_policy *p = nb_policy_parse(doc, len, kind, &err);
    if (!p) {
        /* The refusal must say something, within its buffer. */
        if (!err.code || strlen(err.message) >= sizeof(err.message)) abort();
        return 0;
    }
    const nb_authz_request reqs[] = {
        {.action = "s3:GetObject",
         .resource = "arn:aws:s3:::my-company/home/alice/a*b",
         .principal_type = NB_POL_USER,
         .principal_arn = "arn:aws:iam::111122223333:user/alice",
         .principal_account = "111122223333",
         .resource_account = "444455556666",
         .user_name = "alice",
         .user_id = "AIDAEXAMPLE",
         .canonical_id = "79a59df9",
         .context = ctx},
        {.action = "sts:AssumeRole",
         .resource = "arn:aws:iam::111122223333:role/Partner",
         .principal_type = NB_POL_ROLE_SESSION,
         .principal_arn = "arn:aws:sts::111122223333:assumed-role/Dev/s",
         .role_arn = "arn:aws:iam::111122223333:role/Dev",
         .principal_account = "111122223333",
         .user_id = "AROAEXAMPLE:s",
         .context = ctx},
        {.action = "IAM:CreateUser", .principal_type = NB_POL_ANONYMOUS, .context = ctx},
    };
    const nb_policy *one[1] = {p};
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        nb_authz_policies ps = {0};
        switch (kind) {
        case NB_POLICY_IDENTITY:
            ps.identity = one, ps.nidentity = 1;
            break;
        case NB_POLICY_BOUNDARY:
            ps.boundary = p;
            break;
        case NB_POLICY_SESSION:
            ps.session = one, ps.nsession = 1;
            break;
        default:
            ps.resource = p;
            break;
        }
        nb_authz_explain ex;
        enum nb_decision d = nb_authz_evaluate(&reqs[i], &ps, &ex);
        char why[128];
        nb_authz_reason_text(&ex, reqs[i].action, why, sizeof(why));
        if (ex.sid && strlen(ex.sid) > len) abort(); /* a Sid comes from the document */
        /* Evaluation is a pure function of its inputs. */
        if (nb_authz_evaluate(&reqs[i], &ps, NULL) != d) abort();
        (void)nb_policy_evaluate(p, &reqs[i], NULL);
        (void)nb_policy_matches_principal(p, &reqs[i]);
    }
    for (size_t i = 0; i < nb_policy_statement_count(p); i++)
        (void)nb_policy_statement_sid(p, i);
    nb_policy_free(p);
    return 0;
}
