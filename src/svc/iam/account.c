/* account.c: account-wide IAM operations: the summary, the authorization details dump, the
 * credential report (CSV, as AWS writes it), account aliases and the password policy. */
#include "svc/iam/iam.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- summary ---- */

static int summary_tx(nb_call *c, sqlite3 *h)
{
    const char *a = IAM_ACCOUNT(c);
#define CNT(sql) (json_int_t) nb_iq_int(h, 0, sql, "s", a)
    json_t *m = json_object();
    json_object_set_new(m, "Users", json_integer(CNT("SELECT COUNT(*) FROM users WHERE account = ?")));
    json_object_set_new(m, "UsersQuota", json_integer(5000));
    json_object_set_new(m, "Groups", json_integer(CNT("SELECT COUNT(*) FROM groups WHERE account = ?")));
    json_object_set_new(m, "GroupsQuota", json_integer(300));
    json_object_set_new(m, "Roles", json_integer(CNT("SELECT COUNT(*) FROM roles WHERE account = ?")));
    json_object_set_new(m, "RolesQuota", json_integer(1000));
    json_object_set_new(m, "InstanceProfiles", json_integer(CNT("SELECT COUNT(*) FROM instance_profiles WHERE account = ?")));
    json_object_set_new(m, "InstanceProfilesQuota", json_integer(1000));
    json_object_set_new(m, "Policies", json_integer(CNT("SELECT COUNT(*) FROM policies WHERE account = ?")));
    json_object_set_new(m, "PoliciesQuota", json_integer(1500));
    json_object_set_new(m, "PolicyVersionsInUse", json_integer(CNT("SELECT COUNT(*) FROM attached WHERE account = ?")));
    json_object_set_new(m, "PolicyVersionsInUseQuota", json_integer(10000));
    json_object_set_new(m, "VersionsPerPolicyQuota", json_integer(5));
    json_object_set_new(m, "PolicySizeQuota", json_integer(6144));
    json_object_set_new(m, "UserPolicySizeQuota", json_integer(2048));
    json_object_set_new(m, "GroupPolicySizeQuota", json_integer(5120));
    json_object_set_new(m, "RolePolicySizeQuota", json_integer(10240));
    json_object_set_new(m, "AssumeRolePolicySizeQuota", json_integer(2048));
    json_object_set_new(m, "GroupsPerUserQuota", json_integer(10));
    json_object_set_new(m, "AccessKeysPerUserQuota", json_integer(2));
    json_object_set_new(m, "SigningCertificatesPerUserQuota", json_integer(2));
    json_object_set_new(m, "AttachedPoliciesPerUserQuota", json_integer(10));
    json_object_set_new(m, "AttachedPoliciesPerGroupQuota", json_integer(10));
    json_object_set_new(m, "AttachedPoliciesPerRoleQuota", json_integer(10));
    json_object_set_new(m, "ServerCertificates", json_integer(CNT("SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'server-certificate'")));
    json_object_set_new(m, "ServerCertificatesQuota", json_integer(20));
    json_object_set_new(m, "MFADevices", json_integer(CNT("SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'mfa'")));
    json_object_set_new(m, "MFADevicesInUse", json_integer(CNT("SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'mfa' AND owner IS NOT NULL")));
    json_object_set_new(m, "AccountMFAEnabled", json_integer(0));
    json_object_set_new(m, "AccountAccessKeysPresent", json_integer(1));
    json_object_set_new(m, "AccountSigningCertificatesPresent", json_integer(0));
    json_object_set_new(m, "GlobalEndpointTokenVersion",
                        json_integer(CNT("SELECT CASE WHEN json_extract(doc, '$.v') = 'v2Token' THEN 2 ELSE 1 END "
                                         "FROM objects WHERE account = ? AND kind = 'sts-preferences'") == 2 ? 2 : 1));
    json_object_set_new(m, "Providers", json_integer(CNT("SELECT COUNT(*) FROM objects WHERE account = ? AND kind IN ('oidc', 'saml')")));
#undef CNT
    c->output = json_pack("{s:o}", "SummaryMap", m);
    return 0;
}
int iam_get_account_summary(nb_call *c) { return iam_read(c, summary_tx); }

/* ---- STS preferences: which tokens the global STS endpoint issues (reported by the summary;
 * Nimbus has one endpoint, whose tokens are valid in every region either way). ---- */

static int sts_prefs_tx(nb_call *c, sqlite3 *h)
{
    const char *v = nb_in_str(c, "GlobalEndpointTokenVersion");
    if (!v || (strcmp(v, "v1Token") && strcmp(v, "v2Token")))
        return iam_validation(c, "1 validation error detected: Value '%s' at 'globalEndpointTokenVersion' failed to "
                                 "satisfy constraint: Member must satisfy enum value set: [v1Token, v2Token]",
                              v ? v : "");
    iam_obj o;
    memset(&o, 0, sizeof(o));
    snprintf(o.name, sizeof(o.name), "global");
    o.created = nb_clock_now_f();
    o.doc = json_pack("{s:s}", "v", v);
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "sts-preferences", &o);
    json_decref(o.doc);
    return rc ? iam_db_error(c, h) : 0;
}
int iam_set_security_token_service_preferences(nb_call *c) { return iam_write(c, sts_prefs_tx); }

/* ---- authorization details ---- */

static json_t *inline_list(sqlite3 *h, const char *a, const char *kind, const char *owner)
{
    json_t *l = json_array();
    sqlite3_stmt *st = nb_iq(h, "SELECT name, doc FROM inline WHERE account = ? AND kind = ? AND owner = ? ORDER BY name",
                             "sss", a, kind, owner);
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(l, json_pack("{s:s, s:o}", "PolicyName", nb_iq_text(st, 0), "PolicyDocument",
                                           iam_doc_out(nb_iq_text(st, 1))));
    if (st) sqlite3_reset(st);
    return l;
}

static json_t *attached_list(sqlite3 *h, const char *a, const char *kind, const char *owner)
{
    json_t *l = json_array();
    sqlite3_stmt *st = nb_iq(h, "SELECT arn FROM attached WHERE account = ? AND kind = ? AND owner = ? ORDER BY arn",
                             "sss", a, kind, owner);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *arn = nb_iq_text(st, 0);
        json_array_append_new(l, json_pack("{s:s, s:s}", "PolicyName", strrchr(arn, '/') + 1, "PolicyArn", arn));
    }
    if (st) sqlite3_reset(st);
    return l;
}

static json_t *names_of(sqlite3 *h, const char *sql, const char *a)
{
    json_t *l = json_array();
    sqlite3_stmt *st = nb_iq(h, sql, "s", a);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(l, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    return l;
}

static bool wanted(json_t *filter, const char *what)
{
    if (!json_array_size(filter)) return true;
    size_t i;
    json_t *f;
    json_array_foreach(filter, i, f) if (json_is_string(f) && !strcmp(json_string_value(f), what)) return true;
    return false;
}

static int details_tx(nb_call *c, sqlite3 *h)
{
    const char *a = IAM_ACCOUNT(c);
    iam_page pg;
    if (iam_page_in(c, &pg)) return -1;
    json_t *filter = json_object_get(c->input, "Filter");
    json_t *users = json_array(), *groups = json_array(), *roles = json_array(), *pols = json_array();
    size_t i;
    json_t *n;
    if (wanted(filter, "User")) {
        json_t *names = names_of(h, "SELECT name FROM users WHERE account = ? ORDER BY name", a);
        json_array_foreach(names, i, n)
        {
            const char *u = json_string_value(n);
            json_t *d = iam_user_json(c, h, u, true);
            json_object_del(d, "PasswordLastUsed");
            json_object_set_new(d, "UserPolicyList", inline_list(h, a, "user", u));
            json_object_set_new(d, "AttachedManagedPolicies", attached_list(h, a, "user", u));
            json_t *gl = json_array();
            sqlite3_stmt *st = nb_iq(h, "SELECT grp FROM members WHERE account = ? AND user = ? ORDER BY grp", "ss", a, u);
            while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(gl, json_string(nb_iq_text(st, 0)));
            if (st) sqlite3_reset(st);
            json_object_set_new(d, "GroupList", gl);
            if (!json_object_get(d, "Tags")) json_object_set_new(d, "Tags", json_array());
            json_array_append_new(users, d);
        }
        json_decref(names);
    }
    if (wanted(filter, "Group")) {
        json_t *names = names_of(h, "SELECT name FROM groups WHERE account = ? ORDER BY name", a);
        json_array_foreach(names, i, n)
        {
            const char *g = json_string_value(n);
            json_t *d = iam_group_json(c, h, g);
            json_object_set_new(d, "GroupPolicyList", inline_list(h, a, "group", g));
            json_object_set_new(d, "AttachedManagedPolicies", attached_list(h, a, "group", g));
            json_array_append_new(groups, d);
        }
        json_decref(names);
    }
    if (wanted(filter, "Role")) {
        json_t *names = names_of(h, "SELECT name FROM roles WHERE account = ? ORDER BY name", a);
        json_array_foreach(names, i, n)
        {
            const char *r = json_string_value(n);
            json_t *d = iam_role_json(c, h, r, true);
            json_object_del(d, "Description");
            json_object_del(d, "MaxSessionDuration");
            json_object_set_new(d, "RolePolicyList", inline_list(h, a, "role", r));
            json_object_set_new(d, "AttachedManagedPolicies", attached_list(h, a, "role", r));
            json_t *ipl = json_array();
            json_t *pnames = json_array();
            sqlite3_stmt *st = nb_iq(h, "SELECT profile FROM profile_roles WHERE account = ? AND role = ?", "ss", a, r);
            while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(pnames, json_string(nb_iq_text(st, 0)));
            if (st) sqlite3_reset(st);
            size_t j;
            json_t *p;
            json_array_foreach(pnames, j, p) json_array_append_new(ipl, iam_profile_json(c, h, json_string_value(p)));
            json_decref(pnames);
            json_object_set_new(d, "InstanceProfileList", ipl);
            if (!json_object_get(d, "Tags")) json_object_set_new(d, "Tags", json_array());
            json_array_append_new(roles, d);
        }
        json_decref(names);
    }
    bool local = wanted(filter, "LocalManagedPolicy"), aws = wanted(filter, "AWSManagedPolicy");
    if (local) {
        json_t *names = names_of(h, "SELECT name FROM policies WHERE account = ? ORDER BY name", a);
        json_array_foreach(names, i, n)
        {
            const char *pn = json_string_value(n);
            sqlite3_stmt *st = nb_iq(h, "SELECT id, path, created, updated, default_version, description FROM policies "
                                        "WHERE account = ? AND name = ?",
                                     "ss", a, pn);
            if (!st || sqlite3_step(st) != SQLITE_ROW) {
                if (st) sqlite3_reset(st);
                continue;
            }
            char *arn = iam_arn(c, "policy", nb_iq_text(st, 1), pn);
            json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:f, s:f}", "PolicyName", pn, "PolicyId",
                                  nb_iq_text(st, 0), "Arn", arn, "Path", nb_iq_text(st, 1), "DefaultVersionId",
                                  nb_iq_text(st, 4), "IsAttachable", 1, "CreateDate", sqlite3_column_double(st, 2),
                                  "UpdateDate", sqlite3_column_double(st, 3));
            if (sqlite3_column_type(st, 5) != SQLITE_NULL)
                json_object_set_new(d, "Description", json_string(nb_iq_text(st, 5)));
            sqlite3_reset(st);
            json_object_set_new(d, "AttachmentCount",
                                json_integer(nb_iq_int(h, 0, "SELECT COUNT(*) FROM attached WHERE account = ? AND arn = ?",
                                                       "ss", a, arn)));
            json_object_set_new(d, "PermissionsBoundaryUsageCount", json_integer(0));
            json_t *vl = json_array();
            st = nb_iq(h, "SELECT v.version, v.doc, v.created, p.default_version = v.version FROM policy_versions v "
                          "JOIN policies p ON p.account = v.account AND p.name = v.policy WHERE v.account = ? AND "
                          "v.policy = ? ORDER BY v.created DESC",
                       "ss", a, pn);
            while (st && sqlite3_step(st) == SQLITE_ROW)
                json_array_append_new(vl, json_pack("{s:o, s:s, s:b, s:f}", "Document", iam_doc_out(nb_iq_text(st, 1)),
                                                    "VersionId", nb_iq_text(st, 0), "IsDefaultVersion",
                                                    sqlite3_column_int(st, 3), "CreateDate",
                                                    sqlite3_column_double(st, 2)));
            if (st) sqlite3_reset(st);
            json_object_set_new(d, "PolicyVersionList", vl);
            json_array_append_new(pols, d);
        }
        json_decref(names);
    }
    if (aws) {
        /* AWS lists the AWS managed policies that are attached in the account. */
        for (size_t k = 0; k < nb_managed_count(); k++) {
            const nb_managed_policy *m = nb_managed_at(k);
            int64_t att = nb_iq_int(h, 0, "SELECT COUNT(*) FROM attached WHERE account = ? AND arn = ?", "ss", a, m->arn);
            if (!att) continue;
            json_array_append_new(
                pols, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:s, s:f, s:f, s:[{s:o, s:s, s:b, s:f}]}",
                                "PolicyName", m->name, "PolicyId", m->id, "Arn", m->arn, "Path", m->path,
                                "DefaultVersionId", m->version, "AttachmentCount", (json_int_t)att,
                                "PermissionsBoundaryUsageCount", (json_int_t)0, "IsAttachable", 1, "Description",
                                m->description, "CreateDate", NB_MANAGED_CREATED, "UpdateDate", NB_MANAGED_UPDATED,
                                "PolicyVersionList", "Document", iam_doc_out(m->document), "VersionId", m->version,
                                "IsDefaultVersion", 1, "CreateDate", NB_MANAGED_UPDATED));
        }
    }
    /* MaxItems counts the entries of the four lists together, in this order. */
    json_t *lists[4] = {users, groups, roles, pols};
    int64_t seen = 0, end = pg.offset + pg.max;
    for (int l = 0; l < 4; l++) {
        json_t *kept = json_array();
        size_t j;
        json_t *e;
        json_array_foreach(lists[l], j, e)
        {
            if (seen >= pg.offset && seen < end) json_array_append(kept, e);
            seen++;
        }
        json_array_clear(lists[l]);
        json_array_extend(lists[l], kept);
        json_decref(kept);
    }
    c->output = json_pack("{s:o, s:o, s:o, s:o}", "UserDetailList", users, "GroupDetailList", groups,
                          "RoleDetailList", roles, "Policies", pols);
    json_t *probe = json_array();
    for (int64_t k = pg.offset; k < seen && k <= end; k++) json_array_append_new(probe, json_null());
    iam_page_out(c->output, &pg, json_array_size(probe), probe);
    json_decref(probe);
    return 0;
}
int iam_get_account_authorization_details(nb_call *c) { return iam_read(c, details_tx); }

/* ---- credential report ---- */

static void iso_or(nb_buf *b, bool has, double t, const char *none)
{
    if (!has) {
        nb_buf_puts(b, none);
        return;
    }
    char iso[32];
    nb_time_iso8601(t, iso);
    /* The report writes 2026-11-27T03:14:34+00:00. */
    if (strlen(iso) == 24) snprintf(iso + 19, sizeof(iso) - 19, "+00:00");
    nb_buf_puts(b, iso);
}

static int generate_report_tx(nb_call *c, sqlite3 *h)
{
    const char *a = IAM_ACCOUNT(c);
    /* AWS answers STARTED while no report younger than four hours exists (the report is ready
     * at once here), COMPLETE afterwards; clients poll until COMPLETE. */
    double prev = -1;
    sqlite3_stmt *ps = nb_iq(h, "SELECT generated FROM reports WHERE account = ?", "s", a);
    if (ps && sqlite3_step(ps) == SQLITE_ROW) prev = sqlite3_column_double(ps, 0);
    if (ps) sqlite3_reset(ps);
    bool fresh = prev >= 0 && nb_clock_now_f() - prev <= 4 * 3600;
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_puts(&b, "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
                    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
                    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
                    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
                    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
                    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n");
    double created = (double)nb_iq_int(h, 0, "SELECT CAST(created AS INTEGER) FROM accounts WHERE id = ?", "s", a);
    nb_buf_printf(&b, "<root_account>,arn:aws:iam::%s:root,", a);
    iso_or(&b, true, created, "");
    nb_buf_puts(&b, ",not_supported,no_information,not_supported,not_supported,false,true,N/A,N/A,N/A,N/A,false,"
                    "N/A,N/A,N/A,N/A,false,N/A,false,N/A\n");
    json_t *names = names_of(h, "SELECT name FROM users WHERE account = ? ORDER BY name", a);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        const char *u = json_string_value(n);
        sqlite3_stmt *st = nb_iq(h, "SELECT path, created, password_last_used FROM users WHERE account = ? AND name = ?",
                                 "ss", a, u);
        if (!st || sqlite3_step(st) != SQLITE_ROW) {
            if (st) sqlite3_reset(st);
            continue;
        }
        nb_buf_printf(&b, "%s,arn:aws:iam::%s:user%s%s,", u, a, nb_iq_text(st, 0), u);
        iso_or(&b, true, sqlite3_column_double(st, 1), "");
        bool pu = sqlite3_column_type(st, 2) != SQLITE_NULL;
        double pu_t = sqlite3_column_double(st, 2);
        sqlite3_reset(st);
        st = nb_iq(h, "SELECT created FROM login_profiles WHERE account = ? AND user = ?", "ss", a, u);
        bool pw = st && sqlite3_step(st) == SQLITE_ROW;
        double pw_t = pw ? sqlite3_column_double(st, 0) : 0;
        if (st) sqlite3_reset(st);
        nb_buf_printf(&b, ",%s,", pw ? "true" : "false");
        iso_or(&b, pu, pu_t, pw ? "no_information" : "N/A");
        nb_buf_putc(&b, ',');
        iso_or(&b, pw, pw_t, "N/A");
        nb_buf_puts(&b, ",N/A,false");
        int k = 0;
        st = nb_iq(h, "SELECT id, status, created FROM access_keys WHERE account = ? AND user = ? ORDER BY created", "ss",
                   a, u);
        char ids[2][24];
        bool act[2];
        double made[2];
        while (st && sqlite3_step(st) == SQLITE_ROW && k < 2) {
            snprintf(ids[k], sizeof(ids[k]), "%s", nb_iq_text(st, 0));
            act[k] = !strcmp(nb_iq_text(st, 1), "Active");
            made[k] = sqlite3_column_double(st, 2);
            k++;
        }
        if (st) sqlite3_reset(st);
        for (int j = 0; j < 2; j++) {
            if (j >= k) {
                nb_buf_puts(&b, ",false,N/A,N/A,N/A,N/A");
                continue;
            }
            nb_buf_printf(&b, ",%s,", act[j] ? "true" : "false");
            iso_or(&b, true, made[j], "");
            double when;
            char svc[64], region[64];
            if (nb_identity_key_last_used(ids[j], &when, svc, region) == 0) {
                nb_buf_putc(&b, ',');
                iso_or(&b, true, when, "");
                nb_buf_printf(&b, ",%s,%s", region, svc);
            } else {
                nb_buf_puts(&b, ",N/A,N/A,N/A");
            }
        }
        nb_buf_puts(&b, ",false,N/A,false,N/A\n");
    }
    json_decref(names);
    if (b.oom) {
        nb_buf_free(&b);
        return nb_call_error(c, 503, "ServiceFailure", "Out of memory.");
    }
    int rc = nb_iq_exec(h, "INSERT INTO reports(account, generated, content) VALUES(?, ?, ?) ON CONFLICT(account) DO "
                           "UPDATE SET generated = excluded.generated, content = excluded.content",
                        "sds", a, nb_clock_now_f(), b.data);
    nb_buf_free(&b);
    if (rc) return iam_db_error(c, h);
    if (fresh)
        c->output = json_pack("{s:s}", "State", "COMPLETE");
    else
        c->output = json_pack("{s:s, s:s}", "State", "STARTED", "Description",
                              "No report exists. Starting a new report generation task");
    return 0;
}
int iam_generate_credential_report(nb_call *c) { return iam_write(c, generate_report_tx); }

static int get_report_tx(nb_call *c, sqlite3 *h)
{
    sqlite3_stmt *st = nb_iq(h, "SELECT generated, content FROM reports WHERE account = ?", "s", IAM_ACCOUNT(c));
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return nb_call_error(c, 410, "ReportNotPresent",
                             "Credential report not present. Use GenerateCredentialReport to generate a report.");
    }
    double gen = sqlite3_column_double(st, 0);
    const char *content = nb_iq_text(st, 1);
    /* AWS: a report older than four hours must be regenerated. */
    if (nb_clock_now_f() - gen > 4 * 3600) {
        sqlite3_reset(st);
        return nb_call_error(c, 410, "ReportExpired",
                             "The request was rejected because the most recent credential report has expired. "
                             "To generate a new credential report, use GenerateCredentialReport.");
    }
    size_t n = strlen(content);
    char *enc = malloc(nb_base64_encoded_len(n) + 1);
    if (!enc) {
        sqlite3_reset(st);
        return nb_call_error(c, 503, "ServiceFailure", "Out of memory.");
    }
    nb_base64_encode((const unsigned char *)content, n, enc);
    sqlite3_reset(st);
    c->output = json_pack("{s:s, s:s, s:f}", "Content", enc, "ReportFormat", "text/csv", "GeneratedTime", gen);
    free(enc);
    return 0;
}
int iam_get_credential_report(nb_call *c) { return iam_read(c, get_report_tx); }

/* ---- aliases (one per account, unique across accounts) ---- */

static int create_alias_tx(nb_call *c, sqlite3 *h)
{
    const char *alias = nb_in_str(c, "AccountAlias");
    bool ok = alias && strlen(alias) >= 3 && strlen(alias) <= 63 && alias[0] != '-' && alias[strlen(alias) - 1] != '-' &&
              !strstr(alias, "--");
    for (const char *p = alias; ok && *p; p++) ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
    if (!ok)
        return iam_validation(c, "1 validation error detected: Value '%s' at 'accountAlias' failed to satisfy "
                                 "constraint: Member must satisfy regular expression pattern: "
                                 "^[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?$",
                              alias ? alias : "");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM accounts WHERE alias = ? AND id <> ?", "ss", alias, IAM_ACCOUNT(c)))
        return iam_exists(c, "The account alias %s already exists.", alias);
    if (nb_iq_exec(h, "UPDATE accounts SET alias = ? WHERE id = ?", "ss", alias, IAM_ACCOUNT(c))) return iam_db_error(c, h);
    return 0;
}
int iam_create_account_alias(nb_call *c) { return iam_write(c, create_alias_tx); }

static int delete_alias_tx(nb_call *c, sqlite3 *h)
{
    const char *alias = nb_in_str(c, "AccountAlias");
    if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM accounts WHERE alias = ? AND id = ?", "ss", alias ? alias : "", IAM_ACCOUNT(c)))
        return iam_no_such(c, "The account alias %s cannot be found.", alias ? alias : "");
    if (nb_iq_exec(h, "UPDATE accounts SET alias = NULL WHERE id = ?", "s", IAM_ACCOUNT(c))) return iam_db_error(c, h);
    return 0;
}
int iam_delete_account_alias(nb_call *c) { return iam_write(c, delete_alias_tx); }

static int list_aliases_tx(nb_call *c, sqlite3 *h)
{
    json_t *all = names_of(h, "SELECT alias FROM accounts WHERE id = ? AND alias IS NOT NULL", IAM_ACCOUNT(c));
    json_t *out = json_object();
    int rc = iam_page_list(c, out, "AccountAliases", all);
    json_decref(all);
    if (rc) {
        json_decref(out);
        return -1;
    }
    c->output = out;
    return 0;
}
int iam_list_account_aliases(nb_call *c) { return iam_read(c, list_aliases_tx); }

/* ---- password policy (stored as the output document) ---- */

static json_t *load_password_policy(sqlite3 *h, const char *account)
{
    sqlite3_stmt *st = nb_iq(h, "SELECT password_policy FROM accounts WHERE id = ? AND password_policy IS NOT NULL",
                             "s", account);
    json_t *p = NULL;
    if (st && sqlite3_step(st) == SQLITE_ROW) p = json_loads(nb_iq_text(st, 0), 0, NULL);
    if (st) sqlite3_reset(st);
    return p;
}

static int get_pwpolicy_tx(nb_call *c, sqlite3 *h)
{
    json_t *p = load_password_policy(h, IAM_ACCOUNT(c));
    if (!p) return iam_no_such(c, "The Password Policy with domain name %s cannot be found.", IAM_ACCOUNT(c));
    c->output = json_pack("{s:o}", "PasswordPolicy", p);
    return 0;
}
int iam_get_password_policy(nb_call *c) { return iam_read(c, get_pwpolicy_tx); }

static int update_pwpolicy_tx(nb_call *c, sqlite3 *h)
{
    /* Omitted members take AWS's defaults (UpdateAccountPasswordPolicy replaces the policy). */
    json_int_t len = nb_in_int(c, "MinimumPasswordLength", 6);
    if (len < 6 || len > 128)
        return iam_validation(c, "1 validation error detected: Value '%lld' at 'minimumPasswordLength' failed to "
                                 "satisfy constraint: Member must have value between 6 and 128",
                              (long long)len);
    json_t *p = json_pack("{s:I, s:b, s:b, s:b, s:b, s:b, s:b}", "MinimumPasswordLength", len, "RequireSymbols",
                          nb_in_bool(c, "RequireSymbols", false), "RequireNumbers", nb_in_bool(c, "RequireNumbers", false),
                          "RequireUppercaseCharacters", nb_in_bool(c, "RequireUppercaseCharacters", false),
                          "RequireLowercaseCharacters", nb_in_bool(c, "RequireLowercaseCharacters", false),
                          "AllowUsersToChangePassword", nb_in_bool(c, "AllowUsersToChangePassword", false),
                          "ExpirePasswords", json_object_get(c->input, "MaxPasswordAge") != NULL);
    if (json_object_get(c->input, "MaxPasswordAge"))
        json_object_set_new(p, "MaxPasswordAge", json_integer(nb_in_int(c, "MaxPasswordAge", 0)));
    if (json_object_get(c->input, "PasswordReusePrevention"))
        json_object_set_new(p, "PasswordReusePrevention", json_integer(nb_in_int(c, "PasswordReusePrevention", 0)));
    if (json_object_get(c->input, "HardExpiry"))
        json_object_set_new(p, "HardExpiry", json_boolean(nb_in_bool(c, "HardExpiry", false)));
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    int rc = nb_iq_exec(h, "UPDATE accounts SET password_policy = ? WHERE id = ?", "ss", s, IAM_ACCOUNT(c));
    free(s);
    return rc ? iam_db_error(c, h) : 0;
}
int iam_update_password_policy(nb_call *c) { return iam_write(c, update_pwpolicy_tx); }

static int delete_pwpolicy_tx(nb_call *c, sqlite3 *h)
{
    json_t *p = load_password_policy(h, IAM_ACCOUNT(c));
    if (!p) return iam_no_such(c, "The account policy with name PasswordPolicy cannot be found.");
    json_decref(p);
    if (nb_iq_exec(h, "UPDATE accounts SET password_policy = NULL WHERE id = ?", "s", IAM_ACCOUNT(c)))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_password_policy(nb_call *c) { return iam_write(c, delete_pwpolicy_tx); }

int iam_password_policy_check(nb_call *c, sqlite3 *h, const char *pw)
{
    json_t *p = load_password_policy(h, IAM_ACCOUNT(c));
    size_t min = p ? (size_t)json_integer_value(json_object_get(p, "MinimumPasswordLength")) : 8;
    bool sym = false, num = false, up = false, low = false;
    for (const char *s = pw ? pw : ""; *s; s++) {
        if (*s >= '0' && *s <= '9')
            num = true;
        else if (*s >= 'A' && *s <= 'Z')
            up = true;
        else if (*s >= 'a' && *s <= 'z')
            low = true;
        else
            sym = true;
    }
    char why[300] = "";
    if (!pw || strlen(pw) < min) snprintf(why, sizeof(why), "Password should have at least %zu characters", min);
    else if (p && json_is_true(json_object_get(p, "RequireSymbols")) && !sym)
        snprintf(why, sizeof(why), "Password should have at least one symbol");
    else if (p && json_is_true(json_object_get(p, "RequireNumbers")) && !num)
        snprintf(why, sizeof(why), "Password should have at least one number");
    else if (p && json_is_true(json_object_get(p, "RequireUppercaseCharacters")) && !up)
        snprintf(why, sizeof(why), "Password should have at least one uppercase letter");
    else if (p && json_is_true(json_object_get(p, "RequireLowercaseCharacters")) && !low)
        snprintf(why, sizeof(why), "Password should have at least one lowercase letter");
    json_decref(p);
    if (why[0]) return nb_call_error(c, 400, "PasswordPolicyViolation", "%s", why);
    return 0;
}
