/* roles.c: IAM roles (trust policy, max session duration, description, boundary, tags),
 * service-linked roles, and instance profiles (at most one role each). */
#include "svc/iam/iam.h"

#include <ctype.h>
#include <stdio.h>

#define MAX_ROLES 1000
#define MAX_PROFILES 1000

static bool row_name(sqlite3 *h, const char *table, const char *account, const char *name, char out[129])
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT name FROM %s WHERE account = ? AND name = ?", table);
    sqlite3_stmt *st = nb_iq(h, sql, "ss", account, name ? name : "");
    bool found = st && sqlite3_step(st) == SQLITE_ROW;
    if (found) snprintf(out, 129, "%s", nb_iq_text(st, 0));
    if (st) sqlite3_reset(st);
    return found;
}

static int need_role(nb_call *c, sqlite3 *h, char out[129])
{
    const char *name = nb_in_str(c, "RoleName");
    if (!row_name(h, "roles", IAM_ACCOUNT(c), name, out))
        return iam_no_such(c, "The role with name %s cannot be found.", name ? name : "");
    return 0;
}

static int need_profile(nb_call *c, sqlite3 *h, char out[129])
{
    const char *name = nb_in_str(c, "InstanceProfileName");
    if (!row_name(h, "instance_profiles", IAM_ACCOUNT(c), name, out))
        return iam_no_such(c, "Instance Profile %s cannot be found.", name ? name : "");
    return 0;
}

/* Trust policies may only name principals that exist (AWS: "Invalid principal in policy"):
 * users and roles of accounts served here are looked up; other accounts are taken on trust. */
static bool principal_exists(void *ctx, const char *arn)
{
    sqlite3 *h = ctx;
    if (strncmp(arn, "arn:aws:iam::", 13) != 0 || strlen(arn) < 26 || arn[25] != ':') return true;
    char account[13];
    memcpy(account, arn + 13, 12);
    account[12] = 0;
    if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM accounts WHERE id = ?", "s", account)) return true;
    const char *rest = arn + 26;
    const char *name = strrchr(rest, '/');
    if (!name) return true;
    name++;
    if (!strncmp(rest, "user/", 5))
        return nb_iq_int(h, 0, "SELECT COUNT(*) FROM users WHERE account = ? AND name = ?", "ss", account, name) > 0;
    if (!strncmp(rest, "role/", 5))
        return nb_iq_int(h, 0, "SELECT COUNT(*) FROM roles WHERE account = ? AND name = ?", "ss", account, name) > 0;
    return true;
}

static int check_trust(nb_call *c, sqlite3 *h, const char *doc)
{
    nb_policy_error e;
    memset(&e, 0, sizeof(e));
    if (!doc) return nb_call_error(c, 400, "MalformedPolicyDocument", "Syntax errors in policy.");
    size_t n = strlen(doc);
    if (nb_policy_check_size(doc, n, 0, NB_POLICY_QUOTA_TRUST, NULL, &e) < 0)
        return nb_call_error(c, 409, e.code ? e.code : "LimitExceeded", "%s", e.message);
    nb_policy_parse_opts o = {.kind = NB_POLICY_TRUST, .principal_exists = principal_exists, .ctx = h};
    nb_policy *p = nb_policy_parse_ex(doc, n, &o, &e);
    if (!p)
        return nb_call_error(c, 400, e.code ? e.code : "MalformedPolicyDocument", "%s",
                             e.message[0] ? e.message : "Syntax errors in policy.");
    nb_policy_free(p);
    return 0;
}

static int check_boundary(nb_call *c, sqlite3 *h, const char *arn)
{
    if (!arn) return 0;
    if (strncmp(arn, "arn:aws:iam::", 13) != 0 || !strstr(arn, ":policy/"))
        return iam_invalid(c, "ARN %s is not valid.", arn);
    if (!iam_policy_exists(h, IAM_ACCOUNT(c), arn))
        return iam_no_such(c, "Policy %s does not exist or is not attachable.", arn);
    return 0;
}

/* ---- generic tags of roles, instance profiles ---- */

static int tags_add(nb_call *c, sqlite3 *h, const char *kind, const char *owner)
{
    json_t *tags = json_object_get(c->input, "Tags");
    if (iam_check_tags(c, tags, 0)) return -1;
    int64_t existing = nb_iq_int(h, 0, "SELECT COUNT(*) FROM tags WHERE account = ? AND kind = ? AND owner = ?",
                                 "sss", IAM_ACCOUNT(c), kind, owner);
    size_t fresh = 0, i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM tags WHERE account = ? AND kind = ? AND owner = ? AND key = ?",
                       "ssss", IAM_ACCOUNT(c), kind, owner, json_string_value(json_object_get(t, "Key"))))
            fresh++;
    }
    if ((size_t)existing + fresh > 50) return iam_limit(c, "The number of tags has reached the maximum limit.");
    return iam_tags_put(h, IAM_ACCOUNT(c), kind, owner, tags) ? iam_db_error(c, h) : 0;
}

static int tags_remove(nb_call *c, sqlite3 *h, const char *kind, const char *owner)
{
    if (iam_check_tag_keys(c)) return -1;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(c->input, "TagKeys"), i, k)
    {
        if (nb_iq_exec(h, "DELETE FROM tags WHERE account = ? AND kind = ? AND owner = ? AND key = ?", "ssss",
                       IAM_ACCOUNT(c), kind, owner, json_string_value(k)))
            return iam_db_error(c, h);
    }
    return 0;
}

/* ---- roles ---- */

/* Role descriptions: [\p{L}\p{M}\p{Z}\p{S}\p{N}\p{P}]*, i.e. no control characters (C0, DEL,
 * C1; tabs and newlines included), at most 1000 characters. */
static int check_role_desc(nb_call *c, const char *d)
{
    if (!d) return 0;
    bool bad = false;
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)d; *p; p++) {
        if (*p < 0x20 || *p == 0x7F || (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)) bad = true;
        if ((*p & 0xC0) != 0x80) chars++;
    }
    if (bad) {
        /* echo the value without the characters that XML cannot carry */
        char shown[1100];
        size_t k = 0;
        for (const unsigned char *p = (const unsigned char *)d; *p && k + 1 < sizeof(shown); p++)
            shown[k++] = *p < 0x20 || *p == 0x7F ? ' ' : (char)*p;
        shown[k] = 0;
        return iam_validation(c, "1 validation error detected: Value '%s' at 'description' failed to satisfy "
                                 "constraint: Member must satisfy regular expression pattern: "
                                 "[\\p{L}\\p{M}\\p{Z}\\p{S}\\p{N}\\p{P}]*",
                              shown);
    }
    if (chars > 1000)
        return iam_validation(c, "1 validation error detected: Value '%.200s...' at 'description' failed to "
                                 "satisfy constraint: Member must have length less than or equal to 1000",
                              d);
    return 0;
}

static int create_role_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "RoleName"), *path = nb_in_str(c, "Path");
    const char *trust = nb_in_str(c, "AssumeRolePolicyDocument"), *desc = nb_in_str(c, "Description");
    const char *boundary = nb_in_str(c, "PermissionsBoundary");
    json_int_t max = nb_in_int(c, "MaxSessionDuration", 3600);
    json_t *tags = json_object_get(c->input, "Tags");
    char cur[129];
    if (iam_check_name(c, name, 64, "roleName") || iam_check_path(c, path, "path") || iam_check_tags(c, tags, 0) ||
        check_role_desc(c, desc))
        return -1;
    if (max < 3600 || max > 43200)
        return iam_validation(c, "1 validation error detected: Value '%lld' at 'maxSessionDuration' failed to "
                                 "satisfy constraint: Member must have value less than or equal to 43200",
                              (long long)max);
    if (row_name(h, "roles", IAM_ACCOUNT(c), name, cur)) return iam_exists(c, "Role with name %s already exists.", name);
    if (check_trust(c, h, trust) || check_boundary(c, h, boundary)) return -1;
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM roles WHERE account = ?", "s", IAM_ACCOUNT(c)) >= MAX_ROLES)
        return iam_limit(c, "Cannot exceed quota for RolesPerAccount: %d", MAX_ROLES);
    char id[22];
    nb_identity_new_id("AROA", id);
    if (nb_iq_exec(h, "INSERT INTO roles(account, name, id, path, created, trust, description, max_session, boundary) "
                      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   "ssssdssis", IAM_ACCOUNT(c), name, id, path ? path : "/", nb_clock_now_f(), trust, desc,
                   (int64_t)max, boundary) ||
        (tags && iam_tags_put(h, IAM_ACCOUNT(c), "role", name, tags)))
        return iam_db_error(c, h);
    json_t *r = iam_role_json(c, h, name, true);
    json_object_del(r, "RoleLastUsed");
    c->output = json_pack("{s:o}", "Role", r);
    return 0;
}
int iam_create_role(nb_call *c) { return iam_write(c, create_role_tx); }

static int get_role_tx(nb_call *c, sqlite3 *h)
{
    char r[129];
    if (need_role(c, h, r)) return -1;
    c->output = json_pack("{s:o}", "Role", iam_role_json(c, h, r, true));
    return 0;
}
int iam_get_role(nb_call *c) { return iam_read(c, get_role_tx); }

static int list_roles_tx(nb_call *c, sqlite3 *h)
{
    iam_page pg;
    if (iam_page_in(c, &pg)) return -1;
    const char *prefix = nb_in_str(c, "PathPrefix");
    if (!prefix) prefix = "/";
    json_t *names = json_array(), *list = json_array();
    sqlite3_stmt *st = nb_iq(h, "SELECT name FROM roles WHERE account = ? AND substr(path, 1, length(?)) = ? "
                                "ORDER BY name COLLATE NOCASE LIMIT ? OFFSET ?",
                             "sssii", IAM_ACCOUNT(c), prefix, prefix, pg.max + 1, pg.offset);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(names, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n) json_array_append_new(list, iam_role_json(c, h, json_string_value(n), false));
    c->output = json_pack("{s:o}", "Roles", list);
    iam_page_out(c->output, &pg, json_array_size(names), list);
    json_decref(names);
    return 0;
}
int iam_list_roles(nb_call *c) { return iam_read(c, list_roles_tx); }

static int update_role_tx(nb_call *c, sqlite3 *h)
{
    char r[129];
    const char *desc = nb_in_str(c, "Description");
    if (need_role(c, h, r) || check_role_desc(c, desc)) return -1;
    json_t *max = json_object_get(c->input, "MaxSessionDuration");
    if (max) {
        json_int_t m = json_integer_value(max);
        if (m < 3600 || m > 43200)
            return iam_validation(c, "1 validation error detected: Value '%lld' at 'maxSessionDuration' failed "
                                     "to satisfy constraint: Member must have value between 3600 and 43200",
                                  (long long)m);
        if (nb_iq_exec(h, "UPDATE roles SET max_session = ? WHERE account = ? AND name = ?", "iss", (int64_t)m,
                       IAM_ACCOUNT(c), r))
            return iam_db_error(c, h);
    }
    if (desc && nb_iq_exec(h, "UPDATE roles SET description = ? WHERE account = ? AND name = ?", "sss", desc,
                           IAM_ACCOUNT(c), r))
        return iam_db_error(c, h);
    if (!strcmp(c->op_name, "UpdateRoleDescription"))
        c->output = json_pack("{s:o}", "Role", iam_role_json(c, h, r, true));
    return 0;
}
int iam_update_role(nb_call *c) { return iam_write(c, update_role_tx); }
int iam_update_role_description(nb_call *c) { return iam_write(c, update_role_tx); }

static int delete_role_tx(nb_call *c, sqlite3 *h)
{
    char r[129];
    if (need_role(c, h, r)) return -1;
    const char *a = IAM_ACCOUNT(c);
    /* Service-linked roles go only through DeleteServiceLinkedRole. */
    if (iam_role_protected(c, h, r)) return -1;
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM profile_roles WHERE account = ? AND role = ?", "ss", a, r))
        return iam_conflict(c, "Cannot delete entity, must remove roles from instance profile first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM inline WHERE account = ? AND kind = 'role' AND owner = ?", "ss", a, r))
        return iam_conflict(c, "Cannot delete entity, must delete policies first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM attached WHERE account = ? AND kind = 'role' AND owner = ?", "ss", a, r))
        return iam_conflict(c, "Cannot delete entity, must detach all policies first.");
    if (nb_iq_exec(h, "DELETE FROM tags WHERE account = ? AND kind = 'role' AND owner = ?", "ss", a, r) ||
        nb_iq_exec(h, "DELETE FROM roles WHERE account = ? AND name = ?", "ss", a, r))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_role(nb_call *c) { return iam_write(c, delete_role_tx); }

static int update_trust_tx(nb_call *c, sqlite3 *h)
{
    char r[129];
    const char *doc = nb_in_str(c, "PolicyDocument");
    if (need_role(c, h, r) || iam_role_protected(c, h, r) || check_trust(c, h, doc)) return -1;
    if (nb_iq_exec(h, "UPDATE roles SET trust = ? WHERE account = ? AND name = ?", "sss", doc, IAM_ACCOUNT(c), r))
        return iam_db_error(c, h);
    return 0;
}
int iam_update_assume_role_policy(nb_call *c) { return iam_write(c, update_trust_tx); }

static int tag_role_tx(nb_call *c, sqlite3 *h)
{
    char r[129];
    return need_role(c, h, r) ? -1 : tags_add(c, h, "role", r);
}
int iam_tag_role(nb_call *c) { return iam_write(c, tag_role_tx); }

static int untag_role_tx(nb_call *c, sqlite3 *h)
{
    char r[129];
    return need_role(c, h, r) ? -1 : tags_remove(c, h, "role", r);
}
int iam_untag_role(nb_call *c) { return iam_write(c, untag_role_tx); }

static int list_role_tags_tx(nb_call *c, sqlite3 *h)
{
    char r[129];
    if (need_role(c, h, r)) return -1;
    return iam_tags_page(c, iam_tags_out(h, IAM_ACCOUNT(c), "role", r));
}
int iam_list_role_tags(nb_call *c) { return iam_read(c, list_role_tags_tx); }

static int put_role_boundary_tx(nb_call *c, sqlite3 *h)
{
    char r[129];
    const char *arn = nb_in_str(c, "PermissionsBoundary");
    if (need_role(c, h, r) || iam_role_protected(c, h, r) || check_boundary(c, h, arn)) return -1;
    if (nb_iq_exec(h, "UPDATE roles SET boundary = ? WHERE account = ? AND name = ?", "sss", arn, IAM_ACCOUNT(c), r))
        return iam_db_error(c, h);
    return 0;
}
int iam_put_role_boundary(nb_call *c) { return iam_write(c, put_role_boundary_tx); }

static int delete_role_boundary_tx(nb_call *c, sqlite3 *h)
{
    char r[129];
    if (need_role(c, h, r) || iam_role_protected(c, h, r)) return -1;
    if (nb_iq_exec(h, "UPDATE roles SET boundary = NULL WHERE account = ? AND name = ?", "ss", IAM_ACCOUNT(c), r))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_role_boundary(nb_call *c) { return iam_write(c, delete_role_boundary_tx); }

/* Service-linked roles: /aws-service-role/<service>/AWSServiceRoleFor<Name>, trusted by the
 * service. AWS names each one per service; the common ones are spelled out. */
static int create_slr_tx(nb_call *c, sqlite3 *h)
{
    static const struct {
        const char *svc, *name;
    } known[] = {
        {"elasticloadbalancing.amazonaws.com", "ElasticLoadBalancing"},
        {"autoscaling.amazonaws.com", "AutoScaling"},
        {"elasticbeanstalk.amazonaws.com", "ElasticBeanstalk"},
        {"rds.amazonaws.com", "RDS"},
        {"elasticache.amazonaws.com", "ElastiCache"},
        {"ecs.amazonaws.com", "ECS"},
        {"eks.amazonaws.com", "AmazonEKS"},
        {"spot.amazonaws.com", "EC2Spot"},
        {"spotfleet.amazonaws.com", "EC2SpotFleet"},
        {"events.amazonaws.com", "CloudWatchEvents"},
        {"acm.amazonaws.com", "CertificateManager"},
        {"elasticfilesystem.amazonaws.com", "AmazonElasticFileSystem"},
        {"inspector.amazonaws.com", "AmazonInspector"},
        {"organizations.amazonaws.com", "Organizations"},
        {"config.amazonaws.com", "Config"},
        {"cloudtrail.amazonaws.com", "CloudTrail"},
        {"support.amazonaws.com", "Support"},
        {"trustedadvisor.amazonaws.com", "TrustedAdvisor"},
        {"ssm.amazonaws.com", "AmazonSSM"},
        {"guardduty.amazonaws.com", "AmazonGuardDuty"},
        {"ecs.application-autoscaling.amazonaws.com", "ApplicationAutoScaling_ECSService"},
        {"dynamodb.application-autoscaling.amazonaws.com", "ApplicationAutoScaling_DynamoDBTable"},
        {"rds.application-autoscaling.amazonaws.com", "ApplicationAutoScaling_RDSCluster"},
        {"ec2.application-autoscaling.amazonaws.com", "ApplicationAutoScaling_EC2SpotFleetRequest"},
        {"lambda.application-autoscaling.amazonaws.com", "ApplicationAutoScaling_LambdaConcurrency"},
        {"sagemaker.application-autoscaling.amazonaws.com", "ApplicationAutoScaling_SageMakerEndpoint"},
    };
    const char *svc = nb_in_str(c, "AWSServiceName"), *suffix = nb_in_str(c, "CustomSuffix");
    if (check_role_desc(c, nb_in_str(c, "Description"))) return -1;
    if (!svc || !strstr(svc, ".amazonaws.com") || svc[0] == '.')
        return iam_invalid(c, "Invalid service name %s.", svc ? svc : "");
    char base[160] = "";
    for (size_t i = 0; i < NB_ARRAY_LEN(known); i++)
        if (!strcasecmp(known[i].svc, svc)) snprintf(base, sizeof(base), "%s", known[i].name);
    if (!base[0]) {
        /* service.amazonaws.com -> Service; sub-thing.service.amazonaws.com -> Service_SubThing */
        size_t n = (size_t)(strstr(svc, ".amazonaws.com") - svc);
        const char *dot = memchr(svc, '.', n);
        const char *s_name = dot ? dot + 1 : svc;
        size_t s_len = n - (size_t)(s_name - svc);
        size_t k = 0;
        const char *svc_conv = NULL;
        if (s_len == 23 && !strncmp(s_name, "application-autoscaling", s_len)) svc_conv = "ApplicationAutoScaling";
        if (s_len == 11 && !strncmp(s_name, "autoscaling", s_len)) svc_conv = "AutoScaling";
        if (s_len == 16 && !strncmp(s_name, "elasticbeanstalk", s_len)) svc_conv = "ElasticBeanstalk";
        if (svc_conv) {
            k = (size_t)snprintf(base, sizeof(base), "%s", svc_conv);
        } else {
            k = (size_t)snprintf(base, sizeof(base), "%.*s", (int)(s_len > 100 ? 100 : s_len), s_name);
            base[0] = (char)toupper((unsigned char)base[0]);
        }
        if (dot && k + 2 < sizeof(base)) {
            base[k++] = '_';
            bool up = true;
            for (const char *q = svc; q < dot && k + 1 < sizeof(base); q++) {
                if (*q == '-') {
                    up = true;
                    continue;
                }
                base[k++] = up ? (char)toupper((unsigned char)*q) : *q;
                up = false;
            }
            base[k] = 0;
        }
    }
    char name[160], path[200], trust[400], cur[129];
    snprintf(name, sizeof(name), "AWSServiceRoleFor%s%s%s", base, suffix ? "_" : "", suffix ? suffix : "");
    snprintf(path, sizeof(path), "/aws-service-role/%s/", svc);
    snprintf(trust, sizeof(trust),
             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
             "{\"Service\":\"%s\"},\"Action\":\"sts:AssumeRole\"}]}",
             svc);
    if (row_name(h, "roles", IAM_ACCOUNT(c), name, cur))
        return iam_invalid(c, "Service role name %s has been taken in this account, please try a different suffix.", name);
    char id[22];
    nb_identity_new_id("AROA", id);
    if (nb_iq_exec(h, "INSERT INTO roles(account, name, id, path, created, trust, description, max_session) "
                      "VALUES(?, ?, ?, ?, ?, ?, ?, 3600)",
                   "ssssdss", IAM_ACCOUNT(c), name, id, path, nb_clock_now_f(), trust, nb_in_str(c, "Description")))
        return iam_db_error(c, h);
    c->output = json_pack("{s:o}", "Role", iam_role_json(c, h, name, false));
    return 0;
}
int iam_create_service_linked_role(nb_call *c) { return iam_write(c, create_slr_tx); }

/* ---- instance profiles ---- */

static int create_profile_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "InstanceProfileName"), *path = nb_in_str(c, "Path");
    json_t *tags = json_object_get(c->input, "Tags");
    char cur[129];
    if (iam_check_name(c, name, 128, "instanceProfileName") || iam_check_path(c, path, "path") ||
        iam_check_tags(c, tags, 0))
        return -1;
    if (row_name(h, "instance_profiles", IAM_ACCOUNT(c), name, cur))
        return iam_exists(c, "Instance Profile %s already exists.", name);
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM instance_profiles WHERE account = ?", "s", IAM_ACCOUNT(c)) >= MAX_PROFILES)
        return iam_limit(c, "Cannot exceed quota for InstanceProfilesPerAccount: %d", MAX_PROFILES);
    char id[22];
    nb_identity_new_id("AIPA", id);
    if (nb_iq_exec(h, "INSERT INTO instance_profiles(account, name, id, path, created) VALUES(?, ?, ?, ?, ?)", "ssssd",
                   IAM_ACCOUNT(c), name, id, path ? path : "/", nb_clock_now_f()) ||
        (tags && iam_tags_put(h, IAM_ACCOUNT(c), "instance-profile", name, tags)))
        return iam_db_error(c, h);
    c->output = json_pack("{s:o}", "InstanceProfile", iam_profile_json(c, h, name));
    return 0;
}
int iam_create_instance_profile(nb_call *c) { return iam_write(c, create_profile_tx); }

static int get_profile_tx(nb_call *c, sqlite3 *h)
{
    char p[129];
    if (need_profile(c, h, p)) return -1;
    c->output = json_pack("{s:o}", "InstanceProfile", iam_profile_json(c, h, p));
    return 0;
}
int iam_get_instance_profile(nb_call *c) { return iam_read(c, get_profile_tx); }

static int list_profiles_common(nb_call *c, sqlite3 *h, const char *role)
{
    iam_page pg;
    if (iam_page_in(c, &pg)) return -1;
    const char *prefix = nb_in_str(c, "PathPrefix");
    if (!prefix) prefix = "/";
    json_t *names = json_array(), *list = json_array();
    sqlite3_stmt *st =
        role ? nb_iq(h, "SELECT profile FROM profile_roles WHERE account = ? AND role = ? ORDER BY profile "
                        "COLLATE NOCASE LIMIT ? OFFSET ?",
                     "ssii", IAM_ACCOUNT(c), role, pg.max + 1, pg.offset)
             : nb_iq(h, "SELECT name FROM instance_profiles WHERE account = ? AND substr(path, 1, length(?)) = ? "
                        "ORDER BY name COLLATE NOCASE LIMIT ? OFFSET ?",
                     "sssii", IAM_ACCOUNT(c), prefix, prefix, pg.max + 1, pg.offset);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(names, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        json_t *p = iam_profile_json(c, h, json_string_value(n));
        if (p) json_array_append_new(list, p);
    }
    c->output = json_pack("{s:o}", "InstanceProfiles", list);
    iam_page_out(c->output, &pg, json_array_size(names), list);
    json_decref(names);
    return 0;
}

static int list_profiles_tx(nb_call *c, sqlite3 *h) { return list_profiles_common(c, h, NULL); }
int iam_list_instance_profiles(nb_call *c) { return iam_read(c, list_profiles_tx); }

static int list_profiles_for_role_tx(nb_call *c, sqlite3 *h)
{
    char r[129];
    return need_role(c, h, r) ? -1 : list_profiles_common(c, h, r);
}
int iam_list_instance_profiles_for_role(nb_call *c) { return iam_read(c, list_profiles_for_role_tx); }

static int delete_profile_tx(nb_call *c, sqlite3 *h)
{
    char p[129];
    if (need_profile(c, h, p)) return -1;
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM profile_roles WHERE account = ? AND profile = ?", "ss", IAM_ACCOUNT(c), p))
        return iam_conflict(c, "Cannot delete entity, must remove roles from instance profile first.");
    if (nb_iq_exec(h, "DELETE FROM tags WHERE account = ? AND kind = 'instance-profile' AND owner = ?", "ss",
                   IAM_ACCOUNT(c), p) ||
        nb_iq_exec(h, "DELETE FROM instance_profiles WHERE account = ? AND name = ?", "ss", IAM_ACCOUNT(c), p))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_instance_profile(nb_call *c) { return iam_write(c, delete_profile_tx); }

static int add_role_tx(nb_call *c, sqlite3 *h)
{
    char p[129], r[129];
    if (need_profile(c, h, p) || need_role(c, h, r)) return -1;
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM profile_roles WHERE account = ? AND profile = ?", "ss", IAM_ACCOUNT(c), p))
        return iam_limit(c, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1");
    if (nb_iq_exec(h, "INSERT INTO profile_roles(account, profile, role) VALUES(?, ?, ?)", "sss", IAM_ACCOUNT(c), p, r))
        return iam_db_error(c, h);
    return 0;
}
int iam_add_role_to_instance_profile(nb_call *c) { return iam_write(c, add_role_tx); }

static int remove_role_tx(nb_call *c, sqlite3 *h)
{
    char p[129], r[129];
    if (need_profile(c, h, p) || need_role(c, h, r)) return -1;
    if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM profile_roles WHERE account = ? AND profile = ? AND role = ?", "sss",
                   IAM_ACCOUNT(c), p, r))
        return iam_no_such(c, "The role with name %s cannot be found in instance profile %s.", r, p);
    if (nb_iq_exec(h, "DELETE FROM profile_roles WHERE account = ? AND profile = ? AND role = ?", "sss", IAM_ACCOUNT(c),
                   p, r))
        return iam_db_error(c, h);
    return 0;
}
int iam_remove_role_from_instance_profile(nb_call *c) { return iam_write(c, remove_role_tx); }

static int tag_profile_tx(nb_call *c, sqlite3 *h)
{
    char p[129];
    return need_profile(c, h, p) ? -1 : tags_add(c, h, "instance-profile", p);
}
int iam_tag_instance_profile(nb_call *c) { return iam_write(c, tag_profile_tx); }

static int untag_profile_tx(nb_call *c, sqlite3 *h)
{
    char p[129];
    return need_profile(c, h, p) ? -1 : tags_remove(c, h, "instance-profile", p);
}
int iam_untag_instance_profile(nb_call *c) { return iam_write(c, untag_profile_tx); }

static int list_profile_tags_tx(nb_call *c, sqlite3 *h)
{
    char p[129];
    if (need_profile(c, h, p)) return -1;
    return iam_tags_page(c, iam_tags_out(h, IAM_ACCOUNT(c), "instance-profile", p));
}
int iam_list_instance_profile_tags(nb_call *c) { return iam_read(c, list_profile_tags_tx); }

/* Shared with policies.c for policy tags. */
int iam_tags_add_kind(nb_call *c, sqlite3 *h, const char *kind, const char *owner) { return tags_add(c, h, kind, owner); }
int iam_tags_remove_kind(nb_call *c, sqlite3 *h, const char *kind, const char *owner)
{
    return tags_remove(c, h, kind, owner);
}
