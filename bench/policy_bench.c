/* policy_bench.c: micro-benchmark of the IAM policy evaluator: nanoseconds per evaluation of an
 * authorized request against 10 attached policies of realistic size (AWS managed and User Guide
 * example policies: 25 statements, ~90 action patterns) and optionally a permissions boundary.
 * Not a test: it prints figures (target: < 2 us per authorized evaluation), the best of 5 rounds
 * and their median; bench/run.sh compares servers, this compares commits.
 *
 * Build and run (from the repository root; needs only core/nb.c and the evaluator):
 *   cc -std=c17 -O2 -D_GNU_SOURCE -Isrc -pthread bench/policy_bench.c src/core/nb.c
 * src/iam/policy*.c -ljansson -lssl -lcrypto -lm -o build/policy_bench && ./build/policy_bench
 * Optional argument: iterations (default 2,000,000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "iam/policy.h"

/* Single quotes stand for double quotes, to keep the documents readable. */
static const char *const POLICIES[] = {
    /* 1. IAMUserChangePassword-like self service */
    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['iam:ChangePassword'],"
    "'Resource':['arn:aws:iam::*:user/${aws:username}']},{'Effect':'Allow',"
    "'Action':['iam:GetAccountPasswordPolicy'],'Resource':'*'}]}",
    /* 2. MFA self-management (IAM User Guide) */
    "{'Version':'2012-10-17','Statement':[{'Sid':'AllowViewAccountInfo','Effect':'Allow',"
    "'Action':['iam:GetAccountPasswordPolicy','iam:ListVirtualMFADevices'],'Resource':'*'},"
    "{'Sid':'AllowManageOwnPasswords','Effect':'Allow','Action':['iam:ChangePassword','iam:GetUser'"
    "],"
    "'Resource':'arn:aws:iam::*:user/${aws:username}'},{'Sid':'AllowManageOwnAccessKeys',"
    "'Effect':'Allow','Action':['iam:CreateAccessKey','iam:DeleteAccessKey','iam:ListAccessKeys',"
    "'iam:UpdateAccessKey','iam:GetAccessKeyLastUsed'],'Resource':'arn:aws:iam::*:user/"
    "${aws:username}'},"
    "{'Sid':'AllowManageOwnVirtualMFADevice','Effect':'Allow','Action':['iam:"
    "CreateVirtualMFADevice'],"
    "'Resource':'arn:aws:iam::*:mfa/*'},{'Sid':'AllowManageOwnUserMFA','Effect':'Allow',"
    "'Action':['iam:DeactivateMFADevice','iam:EnableMFADevice','iam:ListMFADevices',"
    "'iam:ResyncMFADevice'],'Resource':'arn:aws:iam::*:user/${aws:username}'},"
    "{'Sid':'DenyAllExceptListedIfNoMFA','Effect':'Deny','NotAction':['iam:CreateVirtualMFADevice',"
    "'iam:EnableMFADevice','iam:GetUser','iam:GetMFADevice','iam:ListMFADevices',"
    "'iam:ListVirtualMFADevices','iam:ResyncMFADevice','sts:GetSessionToken'],'Resource':'*',"
    "'Condition':{'BoolIfExists':{'aws:MultiFactorAuthPresent':'false'}}}]}",
    /* 3. home folders */
    "{'Version':'2012-10-17','Statement':[{'Sid':'AllowListingOfUserFolder','Action':['s3:"
    "ListBucket'],"
    "'Effect':'Allow','Resource':['arn:aws:s3:::my-company'],'Condition':{'StringLike':{"
    "'s3:prefix':['','home/','home/${aws:username}/*']}}},{'Sid':'AllowAllS3ActionsInUserFolder',"
    "'Effect':'Allow','Action':['s3:*'],'Resource':['arn:aws:s3:::my-company/home/${aws:username}/"
    "*']}]}",
    /* 4. deny outside corporate IP ranges */
    "{'Version':'2012-10-17','Statement':{'Effect':'Deny','Action':'*','Resource':'*','Condition':{"
    "'NotIpAddress':{'aws:SourceIp':['192.0.2.0/24','203.0.113.0/24','2001:DB8:1234:5678::/64']},"
    "'Bool':{'aws:ViaAWSService':'false'}}}}",
    /* 5. Region restriction */
    "{'Version':'2012-10-17','Statement':[{'Sid':'DenyAllOutsideRequestedRegions','Effect':'Deny',"
    "'NotAction':['cloudfront:*','iam:*','route53:*','support:*','sts:*'],'Resource':'*',"
    "'Condition':{'StringNotEquals':{'aws:RequestedRegion':['eu-central-1','eu-west-1','us-east-1']"
    "}}}]}",
    /* 6. EC2 with tags (ABAC) */
    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['ec2:StartInstances',"
    "'ec2:StopInstances','ec2:RebootInstances'],'Resource':'arn:aws:ec2:*:*:instance/*',"
    "'Condition':{'StringEquals':{'aws:ResourceTag/Project':'${aws:PrincipalTag/Project}'}}},"
    "{'Effect':'Allow','Action':['ec2:Describe*'],'Resource':'*'},{'Effect':'Allow',"
    "'Action':['ec2:CreateTags'],'Resource':'*','Condition':{'ForAllValues:StringEquals':{"
    "'aws:TagKeys':['Project','Name','Owner']},'StringEquals':{'aws:RequestTag/Project':"
    "'${aws:PrincipalTag/"
    "Project}'}}},{'Effect':'Deny','Action':['ec2:DeleteTags'],'Resource':'*'}]}",
    /* 7. CloudWatch Logs + Lambda read */
    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['logs:CreateLogGroup',"
    "'logs:CreateLogStream','logs:PutLogEvents','logs:DescribeLogStreams','logs:GetLogEvents',"
    "'logs:FilterLogEvents'],'Resource':'arn:aws:logs:*:*:log-group:/app/*'},{'Effect':'Allow',"
    "'Action':['lambda:Get*','lambda:List*','lambda:InvokeFunction'],'Resource':"
    "'arn:aws:lambda:us-east-1:111122223333:function:app-*'},{'Effect':'Allow','Action':"
    "['cloudwatch:PutMetricData','cloudwatch:GetMetricStatistics','cloudwatch:ListMetrics'],"
    "'Resource':'*'}]}",
    /* 8. SNS/SQS app access */
    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['sqs:SendMessage',"
    "'sqs:ReceiveMessage','sqs:DeleteMessage','sqs:GetQueueAttributes','sqs:"
    "ChangeMessageVisibility'],"
    "'Resource':['arn:aws:sqs:us-east-1:111122223333:app-*','arn:aws:sqs:us-east-1:111122223333:"
    "jobs']},"
    "{'Effect':'Allow','Action':['sns:Publish','sns:Subscribe','sns:ListSubscriptionsByTopic'],"
    "'Resource':'arn:aws:sns:us-east-1:111122223333:app-*','Condition':{'Bool':{"
    "'aws:SecureTransport':'true'}}}]}",
    /* 9. deny deletes of the data buckets, and unencrypted uploads */
    "{'Version':'2012-10-17','Statement':[{'Effect':'Deny','Action':['s3:DeleteBucket',"
    "'s3:DeleteBucketPolicy','s3:PutBucketPolicy'],'Resource':['arn:aws:s3:::data-*',"
    "'arn:aws:s3:::my-company']},{'Effect':'Deny','Action':'s3:PutObject','Resource':"
    "'arn:aws:s3:::data-*/*','Condition':{'StringNotEquals':{'s3:x-amz-server-side-encryption':"
    "'aws:kms'}}},{'Effect':'Allow','Action':['s3:GetObject','s3:ListBucket'],'Resource':"
    "['arn:aws:s3:::data-*','arn:aws:s3:::data-*/*'],'Condition':{'DateLessThan':{"
    "'aws:CurrentTime':'2030-01-01T00:00:00Z'},'NumericLessThanEquals':{'s3:max-keys':'1000'}}}]}",
    /* 10. ReadOnly-style wide grant with NotResource carve-out */
    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['acm:Describe*','acm:Get*',"
    "'acm:List*','cloudformation:Describe*','cloudformation:Get*','cloudformation:List*',"
    "'dynamodb:BatchGet*','dynamodb:Describe*','dynamodb:Get*','dynamodb:List*','dynamodb:Query',"
    "'dynamodb:Scan','ec2:Describe*','ec2:Get*','iam:Get*','iam:List*','kms:Describe*','kms:List*',"
    "'logs:Describe*','logs:Get*','s3:Get*','s3:List*','sns:Get*','sns:List*','sqs:Get*',"
    "'sqs:List*','sts:GetCallerIdentity'],'NotResource':['arn:aws:s3:::secret-*',"
    "'arn:aws:s3:::secret-*/*']}]}",
};

static const char *const BOUNDARY =
    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['s3:*','ec2:*','logs:*',"
    "'lambda:*','sqs:*','sns:*','cloudwatch:*','dynamodb:*','iam:Get*','iam:List*',"
    "'iam:ChangePassword','sts:*'],'Resource':'*'},{'Effect':'Deny','Action':['iam:CreateUser',"
    "'iam:DeleteUserPermissionsBoundary','iam:PutUserPermissionsBoundary'],'Resource':'*'}]}";

static char *dq(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; *p; p++)
        if (*p == '\'') *p = '"';
    return d;
}

static nb_policy *compile(const char *text, enum nb_policy_kind kind)
{
    char *d = dq(text);
    nb_policy_error e;
    nb_policy *p = nb_policy_parse(d, strlen(d), kind, &e);
    if (!p) {
        fprintf(stderr, "policy refused: %s: %s\n%s\n", e.code, e.message, d);
        exit(1);
    }
    free(d);
    return p;
}

static double now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void sort5(double *v)
{
    for (int i = 1; i < 5; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

/* Time n evaluations in 5 rounds. The machine may be shared, so both the thread's CPU time
 * (not inflated by waiting for a core) and wall time are shown: best round, and the median. */
static void run(const char *label, const nb_authz_request *r, const nb_authz_policies *ps, long n,
                enum nb_decision want)
{
    enum nb_decision d = nb_authz_evaluate(r, ps, NULL);
    if (d != want) {
        fprintf(stderr, "unexpected decision %d (want %d) for %s on %s\n", d, want, r->action,
                r->resource ? r->resource : "*");
        exit(1);
    }
    double cpu[5], wall[5];
    long per = n / 5 > 0 ? n / 5 : 1, agree = 0;
    for (int k = 0; k < 5; k++) {
        double c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), w0 = now_ns(CLOCK_MONOTONIC);
        for (long i = 0; i < per; i++)
            agree += nb_authz_evaluate(r, ps, NULL) == want;
        cpu[k] = (now_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)per;
        wall[k] = (now_ns(CLOCK_MONOTONIC) - w0) / (double)per;
    }
    if (agree != per * 5) exit(1);
    sort5(cpu);
    sort5(wall);
    printf("  %-50s %6.0f %6.0f   %6.0f %6.0f\n", label, cpu[0], cpu[2], wall[0], wall[2]);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    nb_policy *pol[10];
    size_t nstmts = 0;
    for (int i = 0; i < 10; i++) {
        pol[i] = compile(POLICIES[i], NB_POLICY_IDENTITY);
        nstmts += nb_policy_statement_count(pol[i]);
    }
    nb_policy *bnd = compile(BOUNDARY, NB_POLICY_BOUNDARY);

    /* The context a signed S3 request carries (as src/iam/authz.c builds it). */
    json_t *ctx = json_object();
    nb_authz_context_set(ctx, "aws:SourceIp", "192.0.2.44");
    nb_authz_context_set(ctx, "aws:SecureTransport", "true");
    nb_authz_context_set(ctx, "aws:UserAgent",
                         "Boto3/1.26.27 Python/3.11.2 Linux/6.1 Botocore/1.29.27");
    nb_authz_context_set(ctx, "aws:CurrentTime", "2025-11-27T03:14:34Z");
    nb_authz_context_set(ctx, "aws:EpochTime", "1764213274");
    nb_authz_context_set(ctx, "aws:RequestedRegion", "us-east-1");
    nb_authz_context_set(ctx, "aws:ViaAWSService", "false");
    nb_authz_context_set(ctx, "aws:MultiFactorAuthPresent", "true");
    nb_authz_context_set(ctx, "aws:PrincipalTag/Project", "Blue");
    nb_authz_context_set(ctx, "s3:x-amz-server-side-encryption", "aws:kms");

    nb_authz_request r = {
        .action = "s3:GetObject",
        .resource = "arn:aws:s3:::my-company/home/alice/reports/2025/q3.csv",
        .principal_type = NB_POL_USER,
        .principal_arn = "arn:aws:iam::111122223333:user/alice",
        .principal_account = "111122223333",
        .user_name = "alice",
        .user_id = "AIDAALICEEXAMPLE0001",
        .context = ctx,
    };
    const nb_policy *const *ids = (const nb_policy *const *)pol;
    nb_authz_policies ps = {.identity = ids, .nidentity = 10};
    nb_authz_policies psb = {.identity = ids, .nidentity = 10, .boundary = bnd};

    printf("policy evaluator: 10 identity policies, %zu statements; %ld iterations each\n", nstmts,
           n);
    printf("  %-50s %13s   %13s\n", "ns per evaluation", "cpu best/med", "wall best/med");
    run("s3:GetObject, home folder (allowed)", &r, &ps, n, NB_DECISION_ALLOW);
    run("same, with a permissions boundary (allowed)", &r, &psb, n, NB_DECISION_ALLOW);
    nb_authz_request r2 = r;
    r2.action = "ec2:StartInstances";
    r2.resource = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc";
    json_t *ctx2 = json_deep_copy(ctx);
    nb_authz_context_set(ctx2, "aws:ResourceTag/Project", "Blue");
    r2.context = ctx2;
    run("ec2:StartInstances, ABAC tags match (allowed)", &r2, &psb, n, NB_DECISION_ALLOW);
    nb_authz_request r5 = r;
    r5.action = "dynamodb:GetItem";
    r5.resource = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
    run("dynamodb:GetItem, allowed only by the 10th policy", &r5, &psb, n, NB_DECISION_ALLOW);
    nb_authz_request r3 = r;
    r3.action = "iam:CreateUser";
    r3.resource = "arn:aws:iam::111122223333:user/eve";
    run("iam:CreateUser (implicitly denied)", &r3, &ps, n, NB_DECISION_IMPLICIT_DENY);
    nb_authz_request r4 = r;
    r4.action = "s3:DeleteBucket";
    r4.resource = "arn:aws:s3:::data-lake";
    run("s3:DeleteBucket on data-* (explicitly denied)", &r4, &ps, n, NB_DECISION_EXPLICIT_DENY);

    json_decref(ctx2);
    json_decref(ctx);
    for (int i = 0; i < 10; i++)
        nb_policy_free(pol[i]);
    nb_policy_free(bnd);
    return 0;
}
