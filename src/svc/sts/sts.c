/* sts.c: AWS Security Token Service (query protocol): who is calling (GetCallerIdentity), and
 * temporary credentials: GetSessionToken, AssumeRole (trust policy evaluated with the policy
 * evaluator, external id, session policies, session tags, duration limits, role chaining) and
 * GetFederationToken. Sessions are stored in the identity database, registered in the
 * credential store, and expire on the region clock (the dispatcher checks the expiry and the
 * session token on every request). AssumeRoleWithSAML checks the IdP's signed assertion
 * (saml.c) and the role's trust policy; AssumeRoleWithWebIdentity answers NotImplemented after
 * the checks that need no IdP keys. */
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "iam/authz.h"
#include "iam/creds.h"
#include "iam/iam_policy.h"
#include "iam/identity.h"
#include "svc/service.h"
#include "svc/sts/saml.h"

#include <openssl/evp.h>

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

/* ---- sessions ---- */

typedef struct session {
    const char *kind; /* role, user, root, federated */
    char account[13];
    char arn[600];
    char user_id[200];
    char name[130];
    char role_arn[600];
    char role_name[130];
    char source_user[130];
    const char *policy;
    char *policy_arns; /* JSON array text, malloc'd or NULL */
    char *tags;        /* JSON object text, malloc'd or NULL */
    char *transitive;  /* JSON array text, malloc'd or NULL */
    char *context;     /* JSON object of condition keys the session carries, malloc'd or NULL */
    const char *source_identity;
    bool chained;
    bool mfa; /* obtained with a verified MFA code */
    int64_t duration;
    /* filled by store_session */
    char key[21];
    char secret[41];
    char token[400];
    double issued, expires;
} session;

static int store_fn(sqlite3 *h, void *arg)
{
    session *s = arg;
    int rc = nb_iq_exec(h,
                        "INSERT INTO sessions(id, secret, token, account, kind, arn, user_id, name, role_arn, "
                        "role_name, source_user, policy, policy_arns, tags, transitive, source_identity, chained, "
                        "issued, expires, mfa, context) "
                        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        "ssssssssssssssssiddis", s->key, s->secret, s->token, s->account, s->kind, s->arn,
                        s->user_id, s->name, s->role_arn[0] ? s->role_arn : NULL,
                        s->role_name[0] ? s->role_name : NULL, s->source_user[0] ? s->source_user : NULL,
                        s->policy, s->policy_arns, s->tags, s->transitive, s->source_identity,
                        (int64_t)s->chained, s->issued, s->expires, (int64_t)s->mfa, s->context);
    if (rc == SQLITE_OK && s->role_name[0])
        rc = nb_iq_exec(h, "UPDATE roles SET last_used = ?, last_region = 'us-east-1' WHERE account = ? AND name = ?",
                        "dss", s->issued, s->account, s->role_name);
    /* Expired sessions linger a day (so their callers get ExpiredToken), then go. */
    if (rc == SQLITE_OK) nb_iq_exec(h, "DELETE FROM sessions WHERE expires < ?", "d", s->issued - 86400);
    return rc;
}

/* Sessions expired for more than a day leave the credential store too (their rows go in
 * store_fn); checked every 64 sessions issued, so the scan stays off the common path. */
static bool long_expired(const nb_cred *c, void *arg)
{
    return c->session_token[0] && c->expires && c->expires < *(const int64_t *)arg;
}

static void sweep_expired(void)
{
    static _Atomic unsigned issued;
    if (++issued % 64) return;
    int64_t cutoff = nb_clock_now() - 86400;
    nb_creds_remove_where(long_expired, &cutoff);
}

/* Persist the session, register its key, and answer Credentials. */
static int issue(nb_call *c, session *s, json_t *out)
{
    nb_db *db = nb_identity_db();
    if (!db) return nb_call_error(c, 503, "ServiceUnavailable", "The identity store is not available.");
    nb_identity_new_key_id("ASIA", s->key);
    nb_identity_new_secret(s->secret);
    nb_identity_new_token(s->token, sizeof(s->token));
    s->issued = nb_clock_now_f();
    s->expires = (double)((int64_t)s->issued + s->duration);
    if (nb_db_write(db, store_fn, s) != SQLITE_OK)
        return nb_call_error(c, 500, "InternalFailure", "The session could not be stored.");
    nb_cred cr;
    memset(&cr, 0, sizeof(cr));
    snprintf(cr.access_key, sizeof(cr.access_key), "%s", s->key);
    snprintf(cr.secret, sizeof(cr.secret), "%s", s->secret);
    snprintf(cr.session_token, sizeof(cr.session_token), "%s", s->token);
    cr.expires = (int64_t)s->expires;
    cr.active = true;
    nb_identity_session_principal(&cr.who, s->kind, s->account, s->arn, s->user_id, s->name, s->key);
    cr.who.mfa = s->mfa;
    nb_creds_put(&cr);
    sweep_expired();
    json_object_set_new(out, "Credentials",
                        json_pack("{s:s, s:s, s:s, s:f}", "AccessKeyId", s->key, "SecretAccessKey", s->secret,
                                  "SessionToken", s->token, "Expiration", s->expires));
    c->output = out;
    return 0;
}

static void free_session(session *s)
{
    free(s->policy_arns);
    free(s->tags);
    free(s->transitive);
    free(s->context);
}

/* PackedPolicySize: AWS reports how much of the packed space the session policies and tags
 * use, in percent. Ours counts characters against the 2,048 session policy quota. */
static int packed_size(nb_call *c, const char *policy, json_t *arns, json_t *tags, json_int_t *pct)
{
    size_t used = policy ? nb_policy_size(policy, strlen(policy)) : 0;
    used += json_array_size(arns) * 64;
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        used += (k ? strlen(k) : 0) + (v ? strlen(v) : 0) + 8;
    }
    *pct = (json_int_t)((used * 100 + 2047) / 2048);
    if (*pct > 100)
        return nb_call_error(c, 400, "PackedPolicyTooLarge",
                             "Packed policy consumes %lld%% of allotted space, please use smaller policy for this "
                             "call.",
                             (long long)*pct);
    return 0;
}

/* Session policies: inline document (validated as AWS does) and managed policy ARNs. */
static int session_policies(nb_call *c, session *s, json_t **arns_out)
{
    const char *policy = nb_in_str(c, "Policy");
    if (policy) {
        nb_policy_error e;
        memset(&e, 0, sizeof(e));
        nb_policy *p = nb_policy_parse(policy, strlen(policy), NB_POLICY_SESSION, &e);
        if (!p)
            return nb_call_error(c, 400, "MalformedPolicyDocument", "%s",
                                 e.message[0] ? e.message : "The policy is not in the valid JSON format.");
        nb_policy_free(p);
    }
    s->policy = policy;
    json_t *arns = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(c->input, "PolicyArns"), i, d)
    {
        const char *a = json_string_value(json_object_get(d, "arn"));
        if (!a || strncmp(a, "arn:aws:iam::", 13) != 0 || !strstr(a, ":policy/")) {
            json_decref(arns);
            return nb_call_error(c, 400, "InvalidParameterValue", "Invalid policy ARN: %s", a ? a : "");
        }
        json_array_append_new(arns, json_string(a));
    }
    if (json_array_size(arns) > 10) {
        json_decref(arns);
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
                             "Member must have length less than or equal to 10");
    }
    s->policy_arns = json_array_size(arns) ? json_dumps(arns, JSON_COMPACT) : NULL;
    *arns_out = arns;
    return 0;
}

/* Session tags: at most 50, unique keys (case-insensitively), no aws: prefix. */
static int session_tags(nb_call *c, json_t *inherited, json_t **out)
{
    json_t *tags = json_object_get(c->input, "Tags");
    json_t *obj = json_object();
    if (inherited) json_object_update(obj, inherited);
    if (json_array_size(tags) > 50) {
        json_decref(obj);
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member "
                             "must have length less than or equal to 50");
    }
    size_t i, j;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k || !v) continue;
        if (!strncasecmp(k, "aws:", 4)) {
            json_decref(obj);
            return nb_call_error(c, 400, "InvalidParameterValue", "Tag keys cannot start with aws:");
        }
        for (j = 0; j < i; j++) {
            const char *k2 = json_string_value(json_object_get(json_array_get(tags, j), "Key"));
            if (k2 && !strcasecmp(k, k2)) {
                json_decref(obj);
                return nb_call_error(c, 400, "InvalidParameterValue",
                                     "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
            }
        }
        const char *ik;
        json_t *iv;
        json_object_foreach(inherited, ik, iv)
        {
            if (!strcasecmp(ik, k)) {
                json_decref(obj);
                return nb_call_error(c, 400, "InvalidParameterValue",
                                     "One or more session tags conflict with transitive tags inherited from the "
                                     "calling session: %s",
                                     k);
            }
        }
        json_object_set_new(obj, k, json_string(v));
    }
    *out = obj;
    return 0;
}

/* ---- GetSessionToken ---- */

/* SerialNumber + TokenCode: the code must be the current one of the caller's virtual MFA device
 * (AWS refuses a wrong or missing code with AccessDenied). Devices live in IAM's objects table. */
struct mfa_check {
    const char *account, *user, *serial, *code;
    bool ok;
};

static int mfa_fn(sqlite3 *h, void *arg)
{
    struct mfa_check *m = arg;
    m->ok = nb_identity_mfa_code_ok(h, m->account, m->user, m->serial, m->code);
    return SQLITE_OK;
}

/* v (NULL: absent, fine) of min..max characters, each a word character or one of extra (extra
 * NULL: digits only): else the model's ValidationError for member with pattern. */
static int check_pattern(nb_call *c, const char *v, const char *member, const char *extra, const char *pattern,
                         size_t min, size_t max)
{
    if (!v) return 0;
    size_t n = strlen(v);
    bool ok = true;
    for (const char *p = v; *p && ok; p++)
        ok = (*p >= '0' && *p <= '9') ||
             (extra && (((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) || strchr(extra, *p)));
    if (!ok)
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member "
                             "must satisfy regular expression pattern: %s",
                             v, member, pattern);
    if (n < min || n > max)
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member "
                             "must have length %s %s %zu",
                             v, member, n < min ? "greater than or equal" : "less than or equal", "to",
                             n < min ? min : max);
    return 0;
}

/* 0 without MFA, 1 with a verified code, -1 refused. */
/* arn:aws:iam::<account>:role/<path...>/<name> into its parts; -1 (answered) if it is not one. */
static int split_role_arn(nb_call *c, const char *role_arn, char account[13], char path[520],
                          char name[130])
{
    if (!role_arn || strncmp(role_arn, "arn:aws:iam::", 13) != 0 || strlen(role_arn) <= 31 ||
        strncmp(role_arn + 25, ":role/", 6) != 0)
        return nb_call_error(c, 400, "ValidationError", "%s is invalid", role_arn ? role_arn : "RoleArn");
    memcpy(account, role_arn + 13, 12);
    account[12] = 0;
    const char *rest = role_arn + 30, *slash = strrchr(rest, '/');
    snprintf(name, 130, "%s", slash + 1);
    snprintf(path, 520, "%.*s", (int)(slash - rest + 1), rest);
    return 0;
}

static int check_mfa(nb_call *c)
{
    const char *serial = nb_in_str(c, "SerialNumber"), *code = nb_in_str(c, "TokenCode");
    if (check_pattern(c, serial, "serialNumber", "_+=/:,.@-", "[\\w+=/:,.@-]*", 9, 256) ||
        check_pattern(c, code, "tokenCode", NULL, "[\\d]*", 6, 6))
        return -1;
    if (!serial && !code) return 0;
    if (!serial || !code)
        return nb_call_error(c, 403, "AccessDenied",
                             "MultiFactorAuthentication failed, must provide both MFA serial number and one time "
                             "pass code.");
    struct mfa_check m = {c->who.account, c->who.name, serial, code, false};
    nb_db *db = nb_identity_db();
    if (c->who.type != NB_PRINCIPAL_USER || !db ||
        nb_db_read(db, mfa_fn, &m) != SQLITE_OK || !m.ok)
        return nb_call_error(c, 403, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ");
    return 1;
}

static int get_session_token(nb_call *c)
{
    if (c->who.temporary)
        return nb_call_error(c, 403, "AccessDenied", "Cannot call GetSessionToken with session credentials");
    if (c->who.type != NB_PRINCIPAL_USER && c->who.type != NB_PRINCIPAL_ROOT)
        return nb_call_error(c, 403, "AccessDenied", "Cannot call GetSessionToken with session credentials");
    bool root = c->who.type == NB_PRINCIPAL_ROOT;
    json_int_t d = nb_in_int(c, "DurationSeconds", root ? 3600 : 43200);
    json_int_t max = root ? 3600 : 129600;
    if (d < 900 || d > max)
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value '%lld' at 'durationSeconds' failed to satisfy "
                             "constraint: Member must have value %s %lld",
                             (long long)d, d < 900 ? "greater than or equal to" : "less than or equal to",
                             (long long)(d < 900 ? 900 : max));
    int mfa = check_mfa(c);
    if (mfa < 0) return -1;
    session s;
    memset(&s, 0, sizeof(s));
    s.mfa = mfa > 0;
    s.kind = root ? "root" : "user";
    snprintf(s.account, sizeof(s.account), "%s", c->who.account);
    snprintf(s.arn, sizeof(s.arn), "%s", c->who.arn);
    snprintf(s.user_id, sizeof(s.user_id), "%s", c->who.user_id);
    snprintf(s.name, sizeof(s.name), "%s", c->who.name);
    if (!root) snprintf(s.source_user, sizeof(s.source_user), "%s", c->who.name);
    s.duration = d;
    return issue(c, &s, json_object());
}

/* ---- AssumeRole ---- */

struct role_row {
    const char *account;
    const char *name;
    bool found;
    char path[520];
    char id[32];
    char trust[8192];
    int64_t max_session;
};

static int role_fn(sqlite3 *h, void *arg)
{
    struct role_row *r = arg;
    sqlite3_stmt *st = nb_iq(h, "SELECT path, id, trust, max_session, name FROM roles WHERE account = ? AND name = ?",
                             "ss", r->account, r->name);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        r->found = true;
        snprintf(r->path, sizeof(r->path), "%s", nb_iq_text(st, 0));
        snprintf(r->id, sizeof(r->id), "%s", nb_iq_text(st, 1));
        snprintf(r->trust, sizeof(r->trust), "%s", nb_iq_text(st, 2));
        r->max_session = sqlite3_column_int64(st, 3);
    }
    if (st) sqlite3_reset(st);
    return SQLITE_OK;
}

struct caller_session {
    const char *key;
    json_t *tags;       /* the calling session's tags */
    json_t *transitive; /* and which of them pass on */
};

static int caller_session_fn(sqlite3 *h, void *arg)
{
    struct caller_session *cs = arg;
    sqlite3_stmt *st = nb_iq(h, "SELECT tags, transitive FROM sessions WHERE id = ?", "s", cs->key);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        cs->tags = json_loads(nb_iq_text(st, 0), 0, NULL);
        cs->transitive = json_loads(nb_iq_text(st, 1), 0, NULL);
    }
    if (st) sqlite3_reset(st);
    return SQLITE_OK;
}

static bool valid_session_name(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("_+=,.@-", *s)))
            return false;
    return true;
}

static int assume_role(nb_call *c)
{
    const char *role_arn = nb_in_str(c, "RoleArn"), *sname = nb_in_str(c, "RoleSessionName");
    const char *ext = nb_in_str(c, "ExternalId"), *src_id = nb_in_str(c, "SourceIdentity");
    if (c->who.type == NB_PRINCIPAL_ANONYMOUS)
        return nb_call_error(c, 403, "MissingAuthenticationToken", "Request is missing Authentication Token");
    if (!valid_session_name(sname, 2, 64))
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy "
                             "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
                             sname ? sname : "");
    if (check_pattern(c, ext, "externalId", "_+=,.@:/-", "[\\w+=,.@:\\/-]*", 2, 1224)) return -1;
    if (src_id && !valid_session_name(src_id, 2, 64))
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value '%s' at 'sourceIdentity' failed to satisfy "
                             "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
                             src_id);
    char account[13] = "", path[520] = "/", name[130] = "";
    if (split_role_arn(c, role_arn, account, path, name)) return -1;
    int mfa = check_mfa(c);
    if (mfa < 0) return -1;
    nb_db *db = nb_identity_db();
    struct role_row r = {.account = account, .name = name};
    if (!db || nb_db_read(db, role_fn, &r) != SQLITE_OK)
        return nb_call_error(c, 503, "ServiceUnavailable", "The identity store is not available.");
    if (!r.found || strcmp(r.path, path) != 0)
        return nb_call_error(c, 403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s",
                             c->who.arn, role_arn);

    bool chained = c->who.type == NB_PRINCIPAL_ASSUMED_ROLE;
    json_int_t d = nb_in_int(c, "DurationSeconds", 3600);
    if (chained && d > 3600)
        return nb_call_error(c, 400, "ValidationError",
                             "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
                             "role chaining.");
    if (d > r.max_session)
        return nb_call_error(c, 400, "ValidationError",
                             "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    if (d < 900)
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value '%lld' at 'durationSeconds' failed to satisfy "
                             "constraint: Member must have value greater than or equal to 900",
                             (long long)d);

    session s;
    memset(&s, 0, sizeof(s));
    s.mfa = mfa > 0;
    json_t *arns = NULL, *tags = NULL, *inherited = NULL;
    struct caller_session cs = {.key = c->who.access_key};
    int rc = -1;
    if (session_policies(c, &s, &arns)) goto out;
    /* Transitive tags of a calling role session pass on to the chained session. */
    if (chained) nb_db_read(db, caller_session_fn, &cs);
    if (json_is_array(cs.transitive) && json_is_object(cs.tags)) {
        inherited = json_object();
        size_t i;
        json_t *k;
        json_array_foreach(cs.transitive, i, k)
        {
            json_t *v = json_object_get(cs.tags, json_string_value(k));
            if (v) json_object_set(inherited, json_string_value(k), v);
        }
    }
    if (session_tags(c, inherited, &tags)) goto out;
    json_t *transitive = json_array();
    {
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(c->input, "TransitiveTagKeys"), i, k)
        {
            bool present = false;
            const char *tk;
            json_t *tv;
            json_object_foreach(tags, tk, tv) if (!strcasecmp(tk, json_string_value(k))) present = true;
            if (!present) {
                json_decref(transitive);
                nb_call_error(c, 400, "InvalidParameterValue",
                              "The specified transitive tag key must be included in the requested tags.");
                goto out;
            }
            json_array_append(transitive, k);
        }
        json_array_foreach(cs.transitive, i, k) json_array_append(transitive, k);
    }
    json_int_t pct = 0;
    bool packed = s.policy || json_array_size(arns) || json_object_size(tags);
    if (packed && packed_size(c, s.policy, arns, json_object_get(c->input, "Tags"), &pct)) {
        json_decref(transitive);
        goto out;
    }

    /* The decision: the caller's policies and the role's trust policy (as the role's resource
     * policy), with the external id and the requested tags as condition keys. */
    json_t *ctx = json_object();
    if (ext) nb_authz_context_set(ctx, "sts:ExternalId", ext);
    if (mfa > 0) { /* the code was just checked: trust policies may require it */
        nb_authz_context_set(ctx, "aws:MultiFactorAuthPresent", "true");
        nb_authz_context_set(ctx, "aws:MultiFactorAuthAge", "0");
    }
    nb_authz_context_set(ctx, "sts:RoleSessionName", sname);
    if (src_id) nb_authz_context_set(ctx, "sts:SourceIdentity", src_id);
    {
        size_t i;
        json_t *k;
        json_array_foreach(transitive, i, k) nb_authz_context_add(ctx, "sts:TransitiveTagKeys", json_string_value(k));
    }
    nb_authz_check_args a = {.action = "sts:AssumeRole", .resource = role_arn, .resource_policy = r.trust,
                             .trust = true, .resource_account = account, .context = ctx};
    int denied = nb_authz_check(c, &a);
    if (!denied && json_array_size(json_object_get(c->input, "Tags"))) {
        a.action = "sts:TagSession";
        denied = nb_authz_check(c, &a);
    }
    if (!denied && src_id) {
        a.action = "sts:SetSourceIdentity";
        denied = nb_authz_check(c, &a);
    }
    json_decref(ctx);
    if (denied) {
        json_decref(transitive);
        goto out;
    }

    s.kind = "role";
    snprintf(s.account, sizeof(s.account), "%s", account);
    snprintf(s.arn, sizeof(s.arn), "arn:aws:sts::%s:assumed-role/%s/%s", account, name, sname);
    snprintf(s.user_id, sizeof(s.user_id), "%s:%s", r.id, sname);
    snprintf(s.name, sizeof(s.name), "%s", sname);
    snprintf(s.role_arn, sizeof(s.role_arn), "%s", role_arn);
    snprintf(s.role_name, sizeof(s.role_name), "%s", name);
    s.tags = json_object_size(tags) ? json_dumps(tags, JSON_COMPACT) : NULL;
    s.transitive = json_array_size(transitive) ? json_dumps(transitive, JSON_COMPACT) : NULL;
    json_decref(transitive);
    s.source_identity = src_id;
    s.chained = chained;
    s.duration = d;
    json_t *o = json_pack("{s:{s:s, s:s}}", "AssumedRoleUser", "AssumedRoleId", s.user_id, "Arn", s.arn);
    if (packed) json_object_set_new(o, "PackedPolicySize", json_integer(pct));
    if (src_id) json_object_set_new(o, "SourceIdentity", json_string(src_id));
    rc = issue(c, &s, o);
    if (rc) json_decref(o);
out:
    json_decref(arns);
    json_decref(tags);
    json_decref(inherited);
    json_decref(cs.tags);
    json_decref(cs.transitive);
    free_session(&s);
    return rc;
}

/* ---- GetFederationToken ---- */

static int get_federation_token(nb_call *c)
{
    const char *name = nb_in_str(c, "Name");
    if (c->who.temporary || (c->who.type != NB_PRINCIPAL_USER && c->who.type != NB_PRINCIPAL_ROOT))
        return nb_call_error(c, 403, "AccessDenied", "Cannot call GetFederationToken with session credentials");
    if (!valid_session_name(name, 2, 32))
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: "
                             "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
                             name ? name : "");
    bool root = c->who.type == NB_PRINCIPAL_ROOT;
    json_int_t d = nb_in_int(c, "DurationSeconds", root ? 3600 : 43200);
    if (d < 900 || d > (root ? 3600 : 129600))
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value '%lld' at 'durationSeconds' failed to satisfy "
                             "constraint: Member must have value between 900 and %d",
                             (long long)d, root ? 3600 : 129600);
    session s;
    memset(&s, 0, sizeof(s));
    json_t *arns = NULL, *tags = NULL;
    int rc = -1;
    json_int_t pct = 0;
    if (session_policies(c, &s, &arns) || session_tags(c, NULL, &tags)) goto out;
    bool packed = s.policy || json_array_size(arns) || json_object_size(tags);
    if (packed && packed_size(c, s.policy, arns, json_object_get(c->input, "Tags"), &pct)) goto out;
    s.kind = "federated";
    snprintf(s.account, sizeof(s.account), "%s", c->who.account);
    snprintf(s.arn, sizeof(s.arn), "arn:aws:sts::%s:federated-user/%s", c->who.account, name);
    snprintf(s.user_id, sizeof(s.user_id), "%s:%s", c->who.account, name);
    snprintf(s.name, sizeof(s.name), "%s", name);
    if (!root) snprintf(s.source_user, sizeof(s.source_user), "%s", c->who.name);
    s.tags = json_object_size(tags) ? json_dumps(tags, JSON_COMPACT) : NULL;
    s.duration = d;
    json_t *o = json_pack("{s:{s:s, s:s}}", "FederatedUser", "FederatedUserId", s.user_id, "Arn", s.arn);
    if (packed) json_object_set_new(o, "PackedPolicySize", json_integer(pct));
    rc = issue(c, &s, o);
    if (rc) json_decref(o);
out:
    json_decref(arns);
    json_decref(tags);
    free_session(&s);
    return rc;
}

/* ---- GetAccessKeyInfo ---- */

/* AWS answers for any well-formed key, known or not: the account is encoded in the key id
 * (bits 7..46 of the base32-decoded characters after the 4-letter prefix). */
static bool key_account(const char *key, char out[13])
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t n = strlen(key);
    if (n < 16 || n > 128 || (strncmp(key, "AKIA", 4) && strncmp(key, "ASIA", 4))) return false;
    uint64_t v = 0;
    for (size_t i = 4; i < 4 + 10; i++) { /* 10 chars = 50 bits: the first 6 bytes and change */
        const char *p = strchr(b32, key[i]);
        if (!p || !key[i]) return false;
        v = (v << 5) | (uint64_t)(p - b32);
    }
    v >>= 2; /* the first 48 bits */
    snprintf(out, 13, "%012llu", (unsigned long long)((v & 0x7fffffffff80ULL) >> 7));
    return true;
}

static int get_access_key_info(nb_call *c)
{
    const char *key = nb_in_str(c, "AccessKeyId");
    nb_cred cr;
    char acct[13];
    if (key && nb_creds_lookup(key, &cr) == 0) {
        c->output = json_pack("{s:s}", "Account", cr.who.account);
        return 0;
    }
    if (!key || !key_account(key, acct))
        return nb_call_error(c, 400, "InvalidParameterValue", "The access key ID %s is not valid.", key ? key : "");
    c->output = json_pack("{s:s}", "Account", acct);
    return 0;
}

/* ---- DecodeAuthorizationMessage ---- */

/* Nimbus's refusals carry plain messages, never encoded ones, so no message given here can
 * be one of ours: AWS's answer for a message it did not issue. */
static int decode_authorization_message(nb_call *c)
{
    return nb_call_error(c, 400, "InvalidAuthorizationMessageException",
                         "The encoded authorization message is invalid or was not issued by this service.");
}

/* ---- AssumeRoleWithSAML / AssumeRoleWithWebIdentity ----
 * Unsigned, as in AWS. OIDC tokens cannot be verified yet (that needs the IdP's JWKS, fetched
 * over the network), and a session granted without that check would be a hole:
 * AssumeRoleWithWebIdentity answers NotImplemented. */
struct oidc_lookup {
    const char *account, *issuer;
    bool found;
};

static int oidc_fn(sqlite3 *h, void *arg)
{
    struct oidc_lookup *l = arg;
    l->found = nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'oidc' AND name = ?", "ss",
                         l->account, l->issuer) > 0;
    return SQLITE_OK;
}

/* The iss claim of a JWT (header.payload.signature, base64url), into out; false when the token
 * is no JWT. The signature is not checked here. */
static bool jwt_issuer(const char *tok, char *out, size_t outn)
{
    const char *d1 = tok ? strchr(tok, '.') : NULL, *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || d1 == tok || d2 == d1 + 1 || strchr(d2 + 1, '.')) return false;
    size_t n = (size_t)(d2 - d1 - 1);
    if (n > 16384) return false;
    char *b = malloc(n + 4);
    unsigned char *raw = malloc(n + 4);
    bool ok = false;
    if (b && raw) {
        size_t k = 0;
        for (const char *p = d1 + 1; p < d2; p++) b[k++] = *p == '-' ? '+' : *p == '_' ? '/' : *p;
        while (k % 4) b[k++] = '=';
        ssize_t rn = nb_base64_decode(b, k, raw);
        json_t *claims = rn > 0 ? json_loadb((const char *)raw, (size_t)rn, 0, NULL) : NULL;
        const char *iss = json_string_value(json_object_get(claims, "iss"));
        if (iss) {
            snprintf(out, outn, "%s", iss);
            ok = true;
        }
        json_decref(claims);
    }
    free(b);
    free(raw);
    return ok;
}

/* AssumeRoleWithWebIdentity's checks before the token's signature (which needs the IdP's keys):
 * the parameters, the token's shape and an OpenID Connect provider for its issuer in the role's
 * account, with AWS's errors; 0 when all hold. */
static int web_identity_precheck(nb_call *c)
{
    const char *role_arn = nb_in_str(c, "RoleArn"), *sname = nb_in_str(c, "RoleSessionName");
    const char *tok = nb_in_str(c, "WebIdentityToken");
    if (!valid_session_name(sname, 2, 64))
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy "
                             "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
                             sname ? sname : "");
    char account[13] = "";
    if (role_arn && !strncmp(role_arn, "arn:aws:iam::", 13) && strlen(role_arn) > 31 &&
        !strncmp(role_arn + 25, ":role/", 6))
        memcpy(account, role_arn + 13, 12);
    else
        return nb_call_error(c, 400, "ValidationError", "%s is invalid", role_arn ? role_arn : "RoleArn");
    char iss[1024];
    if (!jwt_issuer(tok, iss, sizeof(iss)))
        return nb_call_error(c, 400, "InvalidIdentityToken",
                             "The ID Token provided is not a valid JWT. (You may see this error if you sent an "
                             "Access Token)");
    /* providers are kept by URL without the scheme or a trailing slash */
    char key[1024];
    snprintf(key, sizeof(key), "%s", strncmp(iss, "https://", 8) ? iss : iss + 8);
    size_t kl = strlen(key);
    if (kl > 1 && key[kl - 1] == '/') key[kl - 1] = 0;
    struct oidc_lookup l = {account, key, false};
    nb_db *db = nb_identity_db();
    if (!db || nb_db_read(db, oidc_fn, &l) != SQLITE_OK)
        return nb_call_error(c, 503, "ServiceUnavailable", "The identity store is not available.");
    if (!l.found)
        return nb_call_error(c, 400, "InvalidIdentityToken", "No OpenIDConnect provider found in your account for %s",
                             iss);
    return 0;
}

/* ---- AssumeRoleWithSAML ----
 * The response is checked against the SAML provider's metadata (saml.c): signature by one of
 * its signing certificates, audience https://signin.aws.amazon.com/saml, validity window on the
 * region clock. Then, as AWS: the assertion's Role attribute must pair RoleArn with
 * PrincipalArn, and the role's trust policy must allow sts:AssumeRoleWithSAML to that provider
 * (Federated principal) with the saml:* condition keys of the assertion. */
struct saml_provider_row {
    const char *account, *name;
    char *metadata; /* malloc'd, NULL when there is no such provider */
};

static int saml_provider_fn(sqlite3 *h, void *arg)
{
    struct saml_provider_row *r = arg;
    sqlite3_stmt *st = nb_iq(h,
                             "SELECT json_extract(doc, '$.SAMLMetadataDocument') FROM objects WHERE account = ? AND "
                             "kind = 'saml' AND name = ?",
                             "ss", r->account, r->name);
    if (st && sqlite3_step(st) == SQLITE_ROW) r->metadata = strdup(nb_iq_text(st, 0));
    if (st) sqlite3_reset(st);
    return SQLITE_OK;
}

/* Does one Role attribute value ("role-arn,provider-arn", either order) pair role and provider? */
static bool role_pair(const char *v, const char *role, const char *provider)
{
    const char *comma = v ? strchr(v, ',') : NULL;
    if (!comma) return false;
    char a[1024], b[1024];
    const char *p = v;
    while (*p == ' ') p++;
    size_t al = (size_t)(comma - p);
    while (al && p[al - 1] == ' ') al--;
    snprintf(a, sizeof(a), "%.*s", (int)al, p);
    p = comma + 1;
    while (*p == ' ') p++;
    snprintf(b, sizeof(b), "%s", p);
    size_t bl = strlen(b);
    while (bl && b[bl - 1] == ' ') b[--bl] = 0;
    return (!strcmp(a, role) && !strcmp(b, provider)) || (!strcmp(a, provider) && !strcmp(b, role));
}

static int saml_denied(nb_call *c)
{
    return nb_call_error(c, 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML");
}

static int assume_role_with_saml(nb_call *c)
{
    const char *role_arn = nb_in_str(c, "RoleArn"), *provider = nb_in_str(c, "PrincipalArn");
    const char *assertion = nb_in_str(c, "SAMLAssertion");
    char account[13] = "", path[520] = "/", name[130] = "", pname[130] = "";
    if (split_role_arn(c, role_arn, account, path, name)) return -1;
    if (!provider || strncmp(provider, "arn:aws:iam::", 13) != 0 || strlen(provider) < 41 ||
        strncmp(provider + 25, ":saml-provider/", 15) != 0 || strchr(provider + 40, '/'))
        return nb_call_error(c, 400, "ValidationError", "%s is invalid", provider ? provider : "PrincipalArn");
    snprintf(pname, sizeof(pname), "%s", provider + 40);
    json_int_t d = nb_in_int(c, "DurationSeconds", 3600);
    if (d < 900)
        return nb_call_error(c, 400, "ValidationError",
                             "1 validation error detected: Value '%lld' at 'durationSeconds' failed to satisfy "
                             "constraint: Member must have value greater than or equal to 900",
                             (long long)d);
    nb_db *db = nb_identity_db();
    if (!db) return nb_call_error(c, 503, "ServiceUnavailable", "The identity store is not available.");
    /* The provider must be in the role's account (a role trusts its own account's providers). */
    struct saml_provider_row pr = {.name = pname};
    char paccount[13];
    memcpy(paccount, provider + 13, 12);
    paccount[12] = 0;
    pr.account = paccount;
    if (nb_db_read(db, saml_provider_fn, &pr) != SQLITE_OK)
        return nb_call_error(c, 503, "ServiceUnavailable", "The identity store is not available.");
    if (!pr.metadata || strcmp(paccount, account) != 0) {
        free(pr.metadata);
        return nb_call_error(c, 400, "InvalidIdentityToken", "Specified provider doesn't exist");
    }
    nb_saml sa;
    const char *code = NULL;
    char msg[300];
    double now = nb_clock_now_f();
    int vr = nb_saml_check(assertion, pr.metadata, now, &sa, &code, msg, sizeof(msg));
    free(pr.metadata);
    if (vr) {
        nb_saml_free(&sa);
        return nb_call_error(c, !strcmp(code, "NotImplemented") ? 501 : 400, code, "%s", msg);
    }
    int rc = -1;
    json_t *arns = NULL, *ctx = NULL;
    nb_policy *trust = NULL;
    session s;
    memset(&s, 0, sizeof(s));
    bool paired = false;
    {
        size_t i;
        json_t *v;
        json_array_foreach(sa.roles, i, v) if (role_pair(json_string_value(v), role_arn, provider)) paired = true;
    }
    if (!paired) {
        saml_denied(c);
        goto out;
    }
    /* AWS's messages (IAM User Guide, "Troubleshooting SAML 2.0 federation") */
    if (!sa.session_name[0]) {
        nb_call_error(c, 400, "InvalidIdentityToken", "RoleSessionName is required in AuthnResponse");
        goto out;
    }
    if (!valid_session_name(sa.session_name, 2, 64)) {
        nb_call_error(c, 400, "InvalidIdentityToken",
                      "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}");
        goto out;
    }
    if (sa.source_identity[0] &&
        (!valid_session_name(sa.source_identity, 2, 64) || !strncasecmp(sa.source_identity, "aws:", 4))) {
        nb_call_error(c, 400, "InvalidIdentityToken",
                      "Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with \"aws:\"");
        goto out;
    }
    struct role_row r = {.account = account, .name = name};
    if (nb_db_read(db, role_fn, &r) != SQLITE_OK) {
        nb_call_error(c, 503, "ServiceUnavailable", "The identity store is not available.");
        goto out;
    }
    if (!r.found || strcmp(r.path, path) != 0) {
        saml_denied(c);
        goto out;
    }
    if (d > r.max_session) {
        nb_call_error(c, 400, "ValidationError",
                      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
        goto out;
    }
    /* The session ends at DurationSeconds or the assertion's SessionNotOnOrAfter, the sooner. */
    if (sa.session_not_on_or_after > 0) {
        double left = sa.session_not_on_or_after - now;
        if (left < 1) {
            nb_call_error(c, 400, "ExpiredTokenException", "The SAML assertion's SessionNotOnOrAfter has passed.");
            goto out;
        }
        if (left < (double)d) d = (json_int_t)left;
    }
    if (session_policies(c, &s, &arns)) goto out;
    if (json_object_size(sa.tags) > 50) {
        nb_call_error(c, 400, "InvalidIdentityToken", "The SAML assertion carries more than 50 session tags.");
        goto out;
    }
    json_int_t pct = 0;
    json_t *taglist = json_array();
    {
        const char *k;
        json_t *v;
        json_object_foreach(sa.tags, k, v) json_array_append_new(taglist, json_pack("{s:s, s:O}", "Key", k, "Value", v));
    }
    bool packed = s.policy || json_array_size(arns) || json_object_size(sa.tags);
    int pk = packed ? packed_size(c, s.policy, arns, taglist, &pct) : 0;
    json_decref(taglist);
    if (pk) goto out;

    /* NameQualifier: BASE64(SHA1(issuer + account + "/" + provider name)), as AWS documents. */
    char nq[64] = "";
    {
        nb_buf b;
        nb_buf_init(&b);
        nb_buf_printf(&b, "%s%s/%s", sa.issuer, account, pname);
        unsigned char md[20];
        unsigned int ml = 0;
        if (b.data && EVP_Digest(b.data, b.len, md, &ml, EVP_sha1(), NULL)) nb_base64_encode(md, ml, nq);
        nb_buf_free(&b);
    }
    const char *fmt = sa.subject_format;
    const char *sub_type = !fmt[0] ? "unspecified"
                           : !strcmp(fmt, "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent") ? "persistent"
                           : !strcmp(fmt, "urn:oasis:names:tc:SAML:2.0:nameid-format:transient")  ? "transient"
                           : !strcmp(fmt, "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified") ? "unspecified"
                                                                                                   : fmt;
    char docv[200];
    snprintf(docv, sizeof(docv), "%s/%s", account, pname);
    ctx = json_object();
    nb_authz_context_set(ctx, "saml:aud", sa.recipient);
    nb_authz_context_set(ctx, "saml:iss", sa.issuer);
    nb_authz_context_set(ctx, "saml:sub", sa.subject);
    nb_authz_context_set(ctx, "saml:sub_type", sub_type);
    nb_authz_context_set(ctx, "saml:namequalifier", nq);
    nb_authz_context_set(ctx, "saml:doc", docv);
    nb_authz_context_set(ctx, "sts:RoleSessionName", sa.session_name);
    if (sa.source_identity[0]) nb_authz_context_set(ctx, "sts:SourceIdentity", sa.source_identity);
    {
        const char *k;
        json_t *v;
        json_object_foreach(sa.tags, k, v)
        {
            char key[300];
            snprintf(key, sizeof(key), "aws:RequestTag/%s", k);
            nb_authz_context_set(ctx, key, json_string_value(v));
            nb_authz_context_add(ctx, "aws:TagKeys", k);
        }
        size_t i;
        json_t *t;
        json_array_foreach(sa.transitive, i, t) nb_authz_context_add(ctx, "sts:TransitiveTagKeys", json_string_value(t));
    }
    nb_policy_error pe;
    memset(&pe, 0, sizeof(pe));
    trust = nb_policy_parse(r.trust, strlen(r.trust), NB_POLICY_TRUST, &pe);
    nb_authz_request req = {.action = "sts:AssumeRoleWithSAML",
                            .resource = role_arn,
                            .principal_type = NB_POL_WEB_IDENTITY,
                            .principal_arn = provider,
                            .resource_account = account,
                            .context = ctx};
    bool allowed = trust && nb_policy_evaluate(trust, &req, NULL) == NB_DECISION_ALLOW;
    if (allowed && json_object_size(sa.tags)) {
        req.action = "sts:TagSession";
        allowed = nb_policy_evaluate(trust, &req, NULL) == NB_DECISION_ALLOW;
    }
    if (allowed && sa.source_identity[0]) {
        req.action = "sts:SetSourceIdentity";
        allowed = nb_policy_evaluate(trust, &req, NULL) == NB_DECISION_ALLOW;
    }
    if (!allowed) {
        saml_denied(c);
        goto out;
    }

    s.kind = "role";
    snprintf(s.account, sizeof(s.account), "%s", account);
    snprintf(s.arn, sizeof(s.arn), "arn:aws:sts::%s:assumed-role/%s/%s", account, name, sa.session_name);
    snprintf(s.user_id, sizeof(s.user_id), "%s:%s", r.id, sa.session_name);
    snprintf(s.name, sizeof(s.name), "%s", sa.session_name);
    snprintf(s.role_arn, sizeof(s.role_arn), "%s", role_arn);
    snprintf(s.role_name, sizeof(s.role_name), "%s", name);
    s.tags = json_object_size(sa.tags) ? json_dumps(sa.tags, JSON_COMPACT) : NULL;
    s.transitive = json_array_size(sa.transitive) ? json_dumps(sa.transitive, JSON_COMPACT) : NULL;
    s.source_identity = sa.source_identity[0] ? sa.source_identity : NULL;
    s.duration = d;
    /* The saml:* keys stay with the session: permissions policies may use them too (AWS:
     * "arn:aws:s3:::bucket/${saml:namequalifier}/${saml:sub}"). */
    {
        json_t *keep = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(ctx, k, v) if (!strncmp(k, "saml:", 5)) json_object_set(keep, k, v);
        s.context = json_dumps(keep, JSON_COMPACT);
        json_decref(keep);
    }
    json_t *o = json_pack("{s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s}", "AssumedRoleUser", "AssumedRoleId", s.user_id,
                          "Arn", s.arn, "Subject", sa.subject, "SubjectType", sub_type, "Issuer", sa.issuer,
                          "Audience", sa.recipient[0] ? sa.recipient : "https://signin.aws.amazon.com/saml",
                          "NameQualifier", nq);
    if (packed) json_object_set_new(o, "PackedPolicySize", json_integer(pct));
    if (s.source_identity) json_object_set_new(o, "SourceIdentity", json_string(s.source_identity));
    rc = issue(c, &s, o);
    if (rc) json_decref(o);
out:
    nb_policy_free(trust);
    json_decref(ctx);
    json_decref(arns);
    free_session(&s);
    nb_saml_free(&sa);
    return rc;
}

static int assume_role_with_web_identity(nb_call *c)
{
    if (web_identity_precheck(c)) return -1;
    return nb_call_error(c, 501, "NotImplemented",
                         "The operation %s of service sts is not implemented by Nimbus yet: web identity tokens "
                         "cannot be verified.",
                         c->op_name);
}

static const nb_op_def ops[] = {
    {"GetCallerIdentity", get_caller_identity, NB_OP_INLINE | NB_OP_NO_AUTHZ, NULL, NULL},
    {"GetSessionToken", get_session_token, NB_OP_NO_AUTHZ, NULL, NULL},
    /* AssumeRole authorizes itself: the trust policy is the role's resource policy. */
    {"AssumeRole", assume_role, NB_OP_NO_AUTHZ, NULL, NULL},
    {"GetFederationToken", get_federation_token, 0, NULL, "arn:aws:sts::{account}:federated-user/{Name}"},
    {"GetAccessKeyInfo", get_access_key_info, NB_OP_INLINE, NULL, NULL},
    {"DecodeAuthorizationMessage", decode_authorization_message, NB_OP_INLINE, NULL, NULL},
    /* Unsigned, as in AWS: the assertion is the credential. Not inline: RSA and C14N work. */
    {"AssumeRoleWithSAML", assume_role_with_saml, NB_OP_NO_AUTHZ | NB_OP_ANONYMOUS, NULL, NULL},
    {"AssumeRoleWithWebIdentity", assume_role_with_web_identity, NB_OP_INLINE | NB_OP_NO_AUTHZ | NB_OP_ANONYMOUS, NULL, NULL},
};

const nb_service nb_svc_sts = {
    .name = "sts",
    .model = "sts",
    .ops = ops,
    .nops = NB_ARRAY_LEN(ops),
};
