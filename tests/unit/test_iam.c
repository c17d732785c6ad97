/* test_iam.c: identities and enforcement without a server: id and key shapes, every AWS managed
 * policy compiles, resource templates expand, accounts come and go with their keys, and
 * nb_authz_check decides from a principal's stored policies, following every IAM write (the
 * cache is invalidated by the identity generation). Also prints the cost of an authorized
 * check with 10 attached policies (information, not a pass/fail timing). */
#include <stdlib.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "iam/accounts.h"
#include "iam/authz.h"
#include "iam/creds.h"
#include "iam/iam_policy.h"
#include "iam/identity.h"
#include "iam/managed.h"
#include "unit.h"

static bool charset(const char *s, const char *set)
{
    for (; *s; s++)
        if (!strchr(set, *s)) return false;
    return true;
}

static void test_ids(void)
{
    char id[22], key[21], secret[41], token[400];
    nb_identity_new_id("AIDA", id);
    CHECK(strlen(id) == 21 && !strncmp(id, "AIDA", 4) && charset(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));
    nb_identity_new_key_id("AKIA", key);
    CHECK(strlen(key) == 20 && !strncmp(key, "AKIA", 4));
    nb_identity_new_key_id("ASIA", key);
    CHECK(!strncmp(key, "ASIA", 4));
    nb_identity_new_secret(secret);
    CHECK(strlen(secret) == 40);
    nb_identity_new_token(token, sizeof(token));
    CHECK(strlen(token) > 300 && strlen(token) < sizeof(token));
    char id2[22];
    nb_identity_new_id("AIDA", id2);
    CHECK(strcmp(id, id2) != 0);
}

static void test_managed_policies_compile(void)
{
    CHECK(nb_managed_count() >= 30);
    for (size_t i = 0; i < nb_managed_count(); i++) {
        const nb_managed_policy *m = nb_managed_at(i);
        nb_policy_error e;
        memset(&e, 0, sizeof(e));
        nb_policy *p = nb_policy_parse(m->document, strlen(m->document), NB_POLICY_IDENTITY, &e);
        if (!p) fprintf(stderr, "managed policy %s: %s\n", m->name, e.message);
        CHECK(p != NULL);
        nb_policy_free(p);
        CHECK(nb_managed_by_arn(m->arn) == m);
        CHECK(!strncmp(m->id, "ANPA", 4) && strlen(m->id) == 21);
    }
    CHECK(nb_managed_by_arn("arn:aws:iam::aws:policy/AdministratorAccess") != NULL);
    CHECK(nb_managed_by_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole") != NULL);
    CHECK(nb_managed_by_arn("arn:aws:iam::aws:policy/Nope") == NULL);
    CHECK(nb_managed_by_arn("arn:aws:iam::123456789012:policy/AdministratorAccess") == NULL);
}

static nb_call *new_call(nb_arena *a, const nb_principal *who, json_t *input)
{
    nb_call *c = nb_arena_calloc(a, sizeof(*c));
    c->arena = a;
    c->who = *who;
    c->input = input;
    c->region = "us-east-1";
    c->out_fd = -1;
    return c;
}

static void test_expand(void)
{
    nb_arena *a = nb_arena_new(4096);
    nb_principal who;
    nb_identity_user_principal(&who, "123456789012", "/", "alice", "AIDAXXXXXXXXXXXXXXXXX", "AKIAX");
    json_t *in = json_pack("{s:s, s:s}", "Bucket", "b", "Key", "dir/k");
    nb_call *c = new_call(a, &who, in);
    CHECK_STR(nb_authz_expand(c, "arn:aws:s3:::{Bucket}/{Key}"), "arn:aws:s3:::b/dir/k");
    CHECK_STR(nb_authz_expand(c, "arn:aws:iam::{account}:user/{UserName}"), "arn:aws:iam::123456789012:user/");
    CHECK_STR(nb_authz_expand(c, "arn:aws:iam::{account}:user/{UserName|self}"),
              "arn:aws:iam::123456789012:user/alice");
    CHECK_STR(nb_authz_expand(c, "arn:aws:logs:{region}:{account}:log-group:x"),
              "arn:aws:logs:us-east-1:123456789012:log-group:x");
    json_decref(in);
    nb_arena_free(a);
}

struct seed {
    const char *sql;
};

static int exec_fn(sqlite3 *h, void *arg)
{
    struct seed *s = arg;
    return sqlite3_exec(h, s->sql, NULL, NULL, NULL);
}

static void sql(const char *text)
{
    struct seed s = {text};
    int rc = nb_db_write(nb_identity_db(), exec_fn, &s);
    if (rc) fprintf(stderr, "sql failed (%d): %s\n", rc, text);
    CHECK(rc == SQLITE_OK);
    nb_identity_changed();
}

static int check(const nb_principal *who, const char *action, const char *resource, char *msg, size_t n)
{
    nb_arena *a = nb_arena_new(4096);
    json_t *in = json_object();
    nb_call *c = new_call(a, who, in);
    nb_authz_check_args args = {.action = action, .resource = resource};
    int rc = nb_authz_check(c, &args);
    if (msg) snprintf(msg, n, "%s", c->err.message);
    json_decref(in);
    nb_arena_free(a);
    return rc;
}

static void test_enforcement(void)
{
    sql("INSERT INTO users(account, name, id, path, created) VALUES('000000000000', 'bob', "
        "'AIDABOBBOBBOBBOBBOBBO', '/', 0)");
    nb_principal bob;
    nb_identity_user_principal(&bob, "000000000000", "/", "bob", "AIDABOBBOBBOBBOBBOBBO", "AKIABOB");
    char msg[1024];
    CHECK(check(&bob, "iam:GetUser", "arn:aws:iam::000000000000:user/bob", msg, sizeof(msg)) < 0);
    CHECK_STR(msg, "User: arn:aws:iam::000000000000:user/bob is not authorized to perform: iam:GetUser on "
                   "resource: arn:aws:iam::000000000000:user/bob because no identity-based policy allows "
                   "the iam:GetUser action");
    sql("INSERT INTO inline(account, kind, owner, name, doc) VALUES('000000000000', 'user', 'bob', 'p', "
        "'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iam:Get*\","
        "\"Resource\":\"arn:aws:iam::*:user/${aws:username}\"}]}')");
    CHECK(check(&bob, "iam:GetUser", "arn:aws:iam::000000000000:user/bob", NULL, 0) == 0);
    CHECK(check(&bob, "iam:GetUser", "arn:aws:iam::000000000000:user/eve", NULL, 0) < 0);
    /* through a group, with a managed policy */
    sql("INSERT INTO groups(account, name, id, path, created) VALUES('000000000000', 'g', 'AGPAG', '/', 0);"
        "INSERT INTO members(account, grp, user) VALUES('000000000000', 'g', 'bob');"
        "INSERT INTO attached(account, kind, owner, arn) VALUES('000000000000', 'group', 'g', "
        "'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess')");
    CHECK(check(&bob, "s3:GetObject", "arn:aws:s3:::b/k", NULL, 0) == 0);
    CHECK(check(&bob, "s3:PutObject", "arn:aws:s3:::b/k", NULL, 0) < 0);
    /* an explicit deny wins */
    sql("INSERT INTO inline(account, kind, owner, name, doc) VALUES('000000000000', 'group', 'g', 'd', "
        "'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"s3:*\","
        "\"Resource\":\"arn:aws:s3:::b/secret*\"}]}')");
    CHECK(check(&bob, "s3:GetObject", "arn:aws:s3:::b/k", NULL, 0) == 0);
    CHECK(check(&bob, "s3:GetObject", "arn:aws:s3:::b/secret.txt", msg, sizeof(msg)) < 0);
    CHECK(strstr(msg, "with an explicit deny") != NULL);
    /* a boundary limits */
    sql("UPDATE users SET boundary = 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' WHERE name = 'bob'");
    CHECK(check(&bob, "s3:GetObject", "arn:aws:s3:::b/k", msg, sizeof(msg)) < 0);
    CHECK(strstr(msg, "permissions boundary") != NULL);
    CHECK(check(&bob, "iam:GetUser", "arn:aws:iam::000000000000:user/bob", NULL, 0) == 0);
    sql("UPDATE users SET boundary = NULL WHERE name = 'bob'");
    /* the root user of the account needs no policy; a deleted user gets nothing */
    nb_principal root;
    nb_principal_root(&root, "000000000000", "test");
    CHECK(check(&root, "iam:DeleteAccountPasswordPolicy", NULL, NULL, 0) == 0);
    sql("DELETE FROM users WHERE name = 'bob'");
    CHECK(check(&bob, "iam:GetUser", "arn:aws:iam::000000000000:user/bob", NULL, 0) < 0);
}

static void test_cost_with_ten_policies(void)
{
    /* 10 attached managed policies (the last one allows), measured on the cached path. */
    sql("INSERT INTO users(account, name, id, path, created) VALUES('000000000000', 'perf', "
        "'AIDAPERFPERFPERFPERFP', '/', 0)");
    static const char *const arns[] = {
        "AmazonEC2ReadOnlyAccess", "AmazonRDSReadOnlyAccess", "AmazonSNSReadOnlyAccess",
        "CloudWatchReadOnlyAccess", "AmazonRoute53ReadOnlyAccess", "AWSLambda_ReadOnlyAccess",
        "AmazonElastiCacheReadOnlyAccess", "CloudFrontReadOnlyAccess", "AWSWAFReadOnlyAccess",
        "AmazonS3ReadOnlyAccess"};
    for (size_t i = 0; i < NB_ARRAY_LEN(arns); i++) {
        char q[300];
        snprintf(q, sizeof(q), "INSERT INTO attached(account, kind, owner, arn) VALUES('000000000000', 'user', "
                               "'perf', 'arn:aws:iam::aws:policy/%s')", arns[i]);
        sql(q);
    }
    nb_principal p;
    nb_identity_user_principal(&p, "000000000000", "/", "perf", "AIDAPERFPERFPERFPERFP", "AKIAPERF");
    CHECK(check(&p, "s3:GetObject", "arn:aws:s3:::bucket/key", NULL, 0) == 0);
    nb_arena *a = nb_arena_new(1 << 16);
    json_t *in = json_object();
    nb_call *c = new_call(a, &p, in);
    nb_authz_check_args args = {.action = "s3:GetObject", .resource = "arn:aws:s3:::bucket/key"};
    int n = 20000, fails = 0;
    int64_t t0 = nb_mono_us();
    for (int i = 0; i < n; i++) fails += nb_authz_check(c, &args) != 0;
    int64_t t1 = nb_mono_us();
    CHECK(fails == 0);
    fprintf(stderr, "test_iam: authorized check with 10 attached policies: %.2f us (whole path: cache, "
                    "context, evaluation)\n", (double)(t1 - t0) / n);
    const nb_authz_set *s = nb_authz_set_get(&p);
    CHECK(s != NULL);
    nb_authz_set_release(s);
    json_decref(in);
    nb_arena_free(a);
}

static void test_accounts(void)
{
    int status;
    char err[256];
    nb_account_spec s = {.id = "444455556666", .name = "unit"};
    json_t *a = nb_accounts_create(&s, &status, err);
    CHECK(a != NULL && status == 200);
    const char *key = json_string_value(json_object_get(a, "AccessKeyId"));
    nb_cred cr;
    CHECK(key && nb_creds_lookup(key, &cr) == 0 && cr.who.type == NB_PRINCIPAL_ROOT);
    CHECK_STR(cr.who.account, "444455556666");
    CHECK(nb_accounts_create(&s, &status, err) == NULL && status == 409);
    nb_account_spec bad = {.id = "12"};
    CHECK(nb_accounts_create(&bad, &status, err) == NULL && status == 400);
    nb_account_spec half = {.access_key = "KEYONLY"};
    CHECK(nb_accounts_create(&half, &status, err) == NULL && status == 400);
    json_t *l = nb_accounts_list(&status, err);
    CHECK(json_array_size(json_object_get(l, "Accounts")) == 2);
    json_decref(l);
    CHECK(nb_accounts_delete("444455556666", &status, err) == 0);
    CHECK(nb_creds_lookup(key, &cr) < 0);
    CHECK(nb_accounts_delete("444455556666", &status, err) < 0 && status == 404);
    CHECK(nb_accounts_delete("000000000000", &status, err) < 0 && status == 400);
    json_decref(a);
}

int main(void)
{
    char dir[] = "/tmp/nb-test-iam-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    nb_clock_init(dir, 1.0);
    bool gen;
    char *err = NULL;
    CHECK(nb_creds_init(dir, true, &gen, &err) == 0);
    char iamdir[300];
    snprintf(iamdir, sizeof(iamdir), "%s/iam", dir);
    mkdir(iamdir, 0700);
    if (nb_identity_open(iamdir, &err) != 0) {
        fprintf(stderr, "cannot open the identity database: %s\n", err ? err : "?");
        return 1;
    }
    test_ids();
    test_managed_policies_compile();
    test_expand();
    test_enforcement();
    test_cost_with_ten_policies();
    test_accounts();
    nb_identity_close();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    UNIT_DONE();
}
