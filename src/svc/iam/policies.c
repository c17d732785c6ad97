/* policies.c: managed policies (the account's, with up to 5 versions and a default; and AWS's,
 * read-only), inline policies of users, groups and roles, attachments, and which entities use
 * a policy. Documents are validated by the policy evaluator's parser and stored verbatim. */
#include "svc/iam/iam.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_POLICIES 1500
#define MAX_VERSIONS 5
#define MAX_ATTACHED 10

/* The three kinds of entity policies attach to. */
typedef struct ent {
    const char *kind;   /* column value: user, group, role */
    const char *member; /* input member naming it */
    const char *table;
    const char *label;  /* "user": messages */
    const char *quota_name;
    enum nb_policy_quota quota;
} ent;
static const ent USER = {"user", "UserName", "users", "user", "PoliciesPerUser", NB_POLICY_QUOTA_USER_INLINE};
static const ent GROUP = {"group", "GroupName", "groups", "group", "PoliciesPerGroup", NB_POLICY_QUOTA_GROUP_INLINE};
static const ent ROLE = {"role", "RoleName", "roles", "role", "PoliciesPerRole", NB_POLICY_QUOTA_ROLE_INLINE};

static int need_entity(nb_call *c, sqlite3 *h, const ent *e, char out[129])
{
    const char *name = nb_in_str(c, e->member);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT name FROM %s WHERE account = ? AND name = ?", e->table);
    sqlite3_stmt *st = nb_iq(h, sql, "ss", IAM_ACCOUNT(c), name ? name : "");
    bool found = st && sqlite3_step(st) == SQLITE_ROW;
    if (found) snprintf(out, 129, "%s", nb_iq_text(st, 0));
    if (st) sqlite3_reset(st);
    if (!found) return iam_no_such(c, "The %s with name %s cannot be found.", e->label, name ? name : "");
    return 0;
}

/* ---- policy ARNs ---- */

typedef struct pol_ref {
    bool aws;                       /* AWS managed */
    const nb_managed_policy *m;
    char name[129];                 /* customer: stored name */
} pol_ref;

static bool arn_shape_ok(const char *arn)
{
    return arn && strncmp(arn, "arn:aws:iam::", 13) == 0 && strstr(arn, ":policy/") && arn[strlen(arn) - 1] != '/';
}

/* Resolve PolicyArn; NoSuchEntity with AWS's wording (get: "was not found", attach: "does not
 * exist or is not attachable"). */
static int resolve(nb_call *c, sqlite3 *h, const char *arn, pol_ref *r, bool attach)
{
    memset(r, 0, sizeof(*r));
    if (!arn_shape_ok(arn)) return iam_invalid(c, "ARN %s is not valid.", arn ? arn : "");
    if ((r->m = nb_managed_by_arn(arn))) {
        r->aws = true;
        return 0;
    }
    if (iam_policy_exists(h, IAM_ACCOUNT(c), arn)) {
        snprintf(r->name, sizeof(r->name), "%s", strrchr(arn, '/') + 1);
        sqlite3_stmt *st = nb_iq(h, "SELECT name FROM policies WHERE account = ? AND name = ?", "ss", IAM_ACCOUNT(c), r->name);
        if (st && sqlite3_step(st) == SQLITE_ROW) snprintf(r->name, sizeof(r->name), "%s", nb_iq_text(st, 0));
        if (st) sqlite3_reset(st);
        return 0;
    }
    if (attach) return iam_no_such(c, "Policy %s does not exist or is not attachable.", arn);
    return iam_no_such(c, "Policy %s was not found.", arn);
}

static json_t *policy_json(nb_call *c, sqlite3 *h, const char *arn, const pol_ref *r, bool tags)
{
    int64_t attached = nb_iq_int(h, 0, "SELECT COUNT(*) FROM attached WHERE account = ? AND arn = ?", "ss", IAM_ACCOUNT(c), arn);
    int64_t bounds = nb_iq_int(h, 0, "SELECT (SELECT COUNT(*) FROM users WHERE account = ?1 AND boundary = ?2) + "
                                     "(SELECT COUNT(*) FROM roles WHERE account = ?1 AND boundary = ?2)",
                               "ss", IAM_ACCOUNT(c), arn);
    if (r->aws) {
        const nb_managed_policy *m = r->m;
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:s, s:f, s:f}", "PolicyName", m->name,
                         "PolicyId", m->id, "Arn", m->arn, "Path", m->path, "DefaultVersionId", m->version,
                         "AttachmentCount", (json_int_t)attached, "PermissionsBoundaryUsageCount",
                         (json_int_t)bounds, "IsAttachable", 1, "Description", m->description, "CreateDate",
                         NB_MANAGED_CREATED, "UpdateDate", NB_MANAGED_UPDATED);
    }
    sqlite3_stmt *st = nb_iq(h, "SELECT name, id, path, created, updated, default_version, description FROM policies "
                                "WHERE account = ? AND name = ?",
                             "ss", IAM_ACCOUNT(c), r->name);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return NULL;
    }
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:f, s:f}", "PolicyName", nb_iq_text(st, 0),
                          "PolicyId", nb_iq_text(st, 1), "Arn", arn, "Path", nb_iq_text(st, 2), "DefaultVersionId",
                          nb_iq_text(st, 5), "AttachmentCount", (json_int_t)attached,
                          "PermissionsBoundaryUsageCount", (json_int_t)bounds, "IsAttachable", 1, "CreateDate",
                          sqlite3_column_double(st, 3), "UpdateDate", sqlite3_column_double(st, 4));
    if (sqlite3_column_type(st, 6) != SQLITE_NULL) json_object_set_new(p, "Description", json_string(nb_iq_text(st, 6)));
    sqlite3_reset(st);
    if (tags) {
        json_t *t = iam_tags_out(h, IAM_ACCOUNT(c), "policy", r->name);
        if (json_array_size(t))
            json_object_set_new(p, "Tags", t);
        else
            json_decref(t);
    }
    return p;
}

/* ---- managed policies ---- */

static int create_policy_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "PolicyName"), *path = nb_in_str(c, "Path");
    const char *doc = nb_in_str(c, "PolicyDocument"), *desc = nb_in_str(c, "Description");
    json_t *tags = json_object_get(c->input, "Tags");
    if (iam_check_name(c, name, 128, "policyName") || iam_check_path(c, path, "path") || iam_check_tags(c, tags, 0))
        return -1;
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM policies WHERE account = ? AND name = ?", "ss", IAM_ACCOUNT(c), name))
        return iam_exists(c, "A policy called %s already exists. Duplicate names are not allowed.", name);
    if (iam_check_policy(c, doc, NB_POLICY_IDENTITY, NB_POLICY_QUOTA_MANAGED, 0, NULL)) return -1;
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM policies WHERE account = ?", "s", IAM_ACCOUNT(c)) >= MAX_POLICIES)
        return iam_limit(c, "Cannot exceed quota for PoliciesPerAccount: %d", MAX_POLICIES);
    char id[22];
    nb_identity_new_id("ANPA", id);
    double now = nb_clock_now_f();
    if (nb_iq_exec(h, "INSERT INTO policies(account, name, id, path, created, updated, default_version, description, "
                      "next_version) VALUES(?, ?, ?, ?, ?, ?, 'v1', ?, 2)",
                   "ssssdds", IAM_ACCOUNT(c), name, id, path ? path : "/", now, now, desc) ||
        nb_iq_exec(h, "INSERT INTO policy_versions(account, policy, version, doc, created) VALUES(?, ?, 'v1', ?, ?)",
                   "sssd", IAM_ACCOUNT(c), name, doc, now) ||
        (tags && iam_tags_put(h, IAM_ACCOUNT(c), "policy", name, tags)))
        return iam_db_error(c, h);
    pol_ref r = {.aws = false};
    snprintf(r.name, sizeof(r.name), "%s", name);
    c->output = json_pack("{s:o}", "Policy", policy_json(c, h, iam_arn(c, "policy", path, name), &r, true));
    return 0;
}
int iam_create_policy(nb_call *c) { return iam_write(c, create_policy_tx); }

static int get_policy_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    const char *arn = nb_in_str(c, "PolicyArn");
    if (resolve(c, h, arn, &r, false)) return -1;
    c->output = json_pack("{s:o}", "Policy", policy_json(c, h, arn, &r, true));
    return 0;
}
int iam_get_policy(nb_call *c) { return iam_read(c, get_policy_tx); }

static int by_name(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "PolicyName"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "PolicyName"));
    return strcasecmp(x, y);
}

static bool keep_policy(json_t *p, const char *prefix, bool only_attached, const char *usage)
{
    if (prefix && strncmp(json_string_value(json_object_get(p, "Path")), prefix, strlen(prefix)) != 0) return false;
    json_int_t att = json_integer_value(json_object_get(p, "AttachmentCount"));
    json_int_t bnd = json_integer_value(json_object_get(p, "PermissionsBoundaryUsageCount"));
    if (only_attached) {
        if (usage && !strcmp(usage, "PermissionsBoundary")) return bnd > 0;
        if (usage && !strcmp(usage, "PermissionsPolicy")) return att > 0;
        return att > 0 || bnd > 0;
    }
    return true;
}

static int list_policies_tx(nb_call *c, sqlite3 *h)
{
    iam_page pg;
    if (iam_page_in(c, &pg)) return -1;
    const char *scope = nb_in_str(c, "Scope"), *prefix = nb_in_str(c, "PathPrefix");
    const char *usage = nb_in_str(c, "PolicyUsageFilter");
    bool only = nb_in_bool(c, "OnlyAttached", false);
    if (!scope) scope = "All";
    if (iam_check_enum(c, scope, "scope", "All|AWS|Local") ||
        iam_check_enum(c, usage, "policyUsageFilter", "PermissionsPolicy|PermissionsBoundary"))
        return -1;
    json_t *all = json_array();
    if (strcmp(scope, "Local") != 0) {
        for (size_t i = 0; i < nb_managed_count(); i++) {
            pol_ref r = {.aws = true, .m = nb_managed_at(i)};
            json_t *p = policy_json(c, h, r.m->arn, &r, false);
            if (p && keep_policy(p, prefix, only, usage))
                json_array_append_new(all, p);
            else
                json_decref(p);
        }
    }
    if (strcmp(scope, "AWS") != 0) {
        json_t *names = json_array(), *paths = json_array();
        sqlite3_stmt *st = nb_iq(h, "SELECT name, path FROM policies WHERE account = ?", "s", IAM_ACCOUNT(c));
        while (st && sqlite3_step(st) == SQLITE_ROW) {
            json_array_append_new(names, json_string(nb_iq_text(st, 0)));
            json_array_append_new(paths, json_string(nb_iq_text(st, 1)));
        }
        if (st) sqlite3_reset(st);
        for (size_t i = 0; i < json_array_size(names); i++) {
            pol_ref r = {.aws = false};
            snprintf(r.name, sizeof(r.name), "%s", json_string_value(json_array_get(names, i)));
            json_t *p = policy_json(c, h, iam_arn(c, "policy", json_string_value(json_array_get(paths, i)), r.name), &r, false);
            if (p && keep_policy(p, prefix, only, usage))
                json_array_append_new(all, p);
            else
                json_decref(p);
        }
        json_decref(names);
        json_decref(paths);
    }
    size_t n = json_array_size(all);
    json_t **items = calloc(n ? n : 1, sizeof(*items));
    for (size_t i = 0; i < n; i++) items[i] = json_array_get(all, i);
    qsort(items, n, sizeof(*items), by_name);
    json_t *page = json_array();
    for (size_t i = (size_t)pg.offset; i < n && i < (size_t)(pg.offset + pg.max + 1); i++)
        json_array_append(page, items[i]);
    free(items);
    json_decref(all);
    c->output = json_pack("{s:o}", "Policies", page);
    iam_page_out(c->output, &pg, json_array_size(page), page);
    return 0;
}
int iam_list_policies(nb_call *c) { return iam_read(c, list_policies_tx); }

static int no_aws(nb_call *c, const pol_ref *r)
{
    if (r->aws)
        return iam_invalid(c, "Policy %s is an AWS managed policy and cannot be modified.", r->m->arn);
    return 0;
}

static int delete_policy_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    const char *arn = nb_in_str(c, "PolicyArn");
    if (resolve(c, h, arn, &r, false) || no_aws(c, &r)) return -1;
    const char *a = IAM_ACCOUNT(c);
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM attached WHERE account = ? AND arn = ?", "ss", a, arn) ||
        nb_iq_int(h, 0, "SELECT (SELECT COUNT(*) FROM users WHERE account = ?1 AND boundary = ?2) + "
                        "(SELECT COUNT(*) FROM roles WHERE account = ?1 AND boundary = ?2)",
                  "ss", a, arn))
        return iam_conflict(c, "Cannot delete a policy attached to entities.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM policy_versions WHERE account = ? AND policy = ?", "ss", a, r.name) > 1)
        return iam_conflict(c, "This policy has more than one version. Before you delete a policy, you must delete "
                               "the policy's versions. The default version is deleted with the policy.");
    if (nb_iq_exec(h, "DELETE FROM policy_versions WHERE account = ? AND policy = ?", "ss", a, r.name) ||
        nb_iq_exec(h, "DELETE FROM tags WHERE account = ? AND kind = 'policy' AND owner = ?", "ss", a, r.name) ||
        nb_iq_exec(h, "DELETE FROM policies WHERE account = ? AND name = ?", "ss", a, r.name))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_policy(nb_call *c) { return iam_write(c, delete_policy_tx); }

static int create_version_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    const char *arn = nb_in_str(c, "PolicyArn"), *doc = nb_in_str(c, "PolicyDocument");
    bool dflt = nb_in_bool(c, "SetAsDefault", false);
    if (resolve(c, h, arn, &r, false) || no_aws(c, &r)) return -1;
    const char *a = IAM_ACCOUNT(c);
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM policy_versions WHERE account = ? AND policy = ?", "ss", a, r.name) >=
        MAX_VERSIONS)
        return iam_limit(c, "A managed policy can have up to %d versions. Before you create a new version, you must "
                            "delete an existing version.",
                         MAX_VERSIONS);
    if (iam_check_policy(c, doc, NB_POLICY_IDENTITY, NB_POLICY_QUOTA_MANAGED, 0, NULL)) return -1;
    int64_t next = nb_iq_int(h, 2, "SELECT next_version FROM policies WHERE account = ? AND name = ?", "ss", a, r.name);
    char ver[24];
    snprintf(ver, sizeof(ver), "v%lld", (long long)next);
    double now = nb_clock_now_f();
    if (nb_iq_exec(h, "INSERT INTO policy_versions(account, policy, version, doc, created) VALUES(?, ?, ?, ?, ?)",
                   "ssssd", a, r.name, ver, doc, now) ||
        nb_iq_exec(h, "UPDATE policies SET next_version = next_version + 1, updated = ? WHERE account = ? AND name = ?",
                   "dss", now, a, r.name) ||
        (dflt && nb_iq_exec(h, "UPDATE policies SET default_version = ? WHERE account = ? AND name = ?", "sss", ver, a,
                            r.name)))
        return iam_db_error(c, h);
    c->output = json_pack("{s:{s:s, s:b, s:f}}", "PolicyVersion", "VersionId", ver, "IsDefaultVersion", dflt,
                          "CreateDate", now);
    return 0;
}
int iam_create_policy_version(nb_call *c) { return iam_write(c, create_version_tx); }

static int get_version_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    const char *arn = nb_in_str(c, "PolicyArn"), *ver = nb_in_str(c, "VersionId");
    if (resolve(c, h, arn, &r, false)) return -1;
    if (r.aws) {
        if (strcmp(ver, r.m->version) != 0)
            return iam_no_such(c, "Policy %s version %s does not exist or is not attachable.", arn, ver);
        c->output = json_pack("{s:{s:o, s:s, s:b, s:f}}", "PolicyVersion", "Document", iam_doc_out(r.m->document),
                              "VersionId", ver, "IsDefaultVersion", 1, "CreateDate", NB_MANAGED_UPDATED);
        return 0;
    }
    sqlite3_stmt *st = nb_iq(h, "SELECT v.doc, v.created, p.default_version = v.version FROM policy_versions v JOIN "
                                "policies p ON p.account = v.account AND p.name = v.policy WHERE v.account = ? AND "
                                "v.policy = ? AND v.version = ?",
                             "sss", IAM_ACCOUNT(c), r.name, ver);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return iam_no_such(c, "Policy %s version %s does not exist or is not attachable.", arn, ver);
    }
    c->output = json_pack("{s:{s:o, s:s, s:b, s:f}}", "PolicyVersion", "Document", iam_doc_out(nb_iq_text(st, 0)),
                          "VersionId", ver, "IsDefaultVersion", sqlite3_column_int(st, 2), "CreateDate",
                          sqlite3_column_double(st, 1));
    sqlite3_reset(st);
    return 0;
}
int iam_get_policy_version(nb_call *c) { return iam_read(c, get_version_tx); }

static int list_versions_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    iam_page pg;
    const char *arn = nb_in_str(c, "PolicyArn");
    if (iam_page_in(c, &pg) || resolve(c, h, arn, &r, false)) return -1;
    json_t *list = json_array();
    if (r.aws) {
        json_array_append_new(list, json_pack("{s:s, s:b, s:f}", "VersionId", r.m->version, "IsDefaultVersion", 1,
                                              "CreateDate", NB_MANAGED_UPDATED));
    } else {
        sqlite3_stmt *st = nb_iq(h, "SELECT v.version, v.created, p.default_version = v.version FROM policy_versions v "
                                    "JOIN policies p ON p.account = v.account AND p.name = v.policy WHERE v.account = ? "
                                    "AND v.policy = ? ORDER BY v.created DESC, v.version DESC LIMIT ? OFFSET ?",
                                 "ssii", IAM_ACCOUNT(c), r.name, pg.max + 1, pg.offset);
        while (st && sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(list, json_pack("{s:s, s:b, s:f}", "VersionId", nb_iq_text(st, 0), "IsDefaultVersion",
                                                  sqlite3_column_int(st, 2), "CreateDate", sqlite3_column_double(st, 1)));
        if (st) sqlite3_reset(st);
    }
    c->output = json_pack("{s:o}", "Versions", list);
    iam_page_out(c->output, &pg, json_array_size(list), list);
    return 0;
}
int iam_list_policy_versions(nb_call *c) { return iam_read(c, list_versions_tx); }

static int need_version(nb_call *c, sqlite3 *h, const pol_ref *r, const char *arn, const char *ver)
{
    if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM policy_versions WHERE account = ? AND policy = ? AND version = ?", "sss",
                   IAM_ACCOUNT(c), r->name, ver ? ver : ""))
        return iam_no_such(c, "Policy %s version %s does not exist or is not attachable.", arn, ver ? ver : "");
    return 0;
}

static int delete_version_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    const char *arn = nb_in_str(c, "PolicyArn"), *ver = nb_in_str(c, "VersionId");
    if (resolve(c, h, arn, &r, false) || no_aws(c, &r) || need_version(c, h, &r, arn, ver)) return -1;
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM policies WHERE account = ? AND name = ? AND default_version = ?", "sss",
                  IAM_ACCOUNT(c), r.name, ver))
        return iam_conflict(c, "Cannot delete the default version of this policy.");
    if (nb_iq_exec(h, "DELETE FROM policy_versions WHERE account = ? AND policy = ? AND version = ?", "sss",
                   IAM_ACCOUNT(c), r.name, ver))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_policy_version(nb_call *c) { return iam_write(c, delete_version_tx); }

static int set_default_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    const char *arn = nb_in_str(c, "PolicyArn"), *ver = nb_in_str(c, "VersionId");
    if (resolve(c, h, arn, &r, false) || no_aws(c, &r) || need_version(c, h, &r, arn, ver)) return -1;
    if (nb_iq_exec(h, "UPDATE policies SET default_version = ?, updated = ? WHERE account = ? AND name = ?", "sdss",
                   ver, nb_clock_now_f(), IAM_ACCOUNT(c), r.name))
        return iam_db_error(c, h);
    return 0;
}
int iam_set_default_policy_version(nb_call *c) { return iam_write(c, set_default_tx); }

static int tag_policy_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    if (resolve(c, h, nb_in_str(c, "PolicyArn"), &r, false) || no_aws(c, &r)) return -1;
    return iam_tags_add_kind(c, h, "policy", r.name);
}
int iam_tag_policy(nb_call *c) { return iam_write(c, tag_policy_tx); }

static int untag_policy_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    if (resolve(c, h, nb_in_str(c, "PolicyArn"), &r, false) || no_aws(c, &r)) return -1;
    return iam_tags_remove_kind(c, h, "policy", r.name);
}
int iam_untag_policy(nb_call *c) { return iam_write(c, untag_policy_tx); }

static int list_policy_tags_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    if (resolve(c, h, nb_in_str(c, "PolicyArn"), &r, false)) return -1;
    return iam_tags_page(c, r.aws ? json_array() : iam_tags_out(h, IAM_ACCOUNT(c), "policy", r.name));
}
int iam_list_policy_tags(nb_call *c) { return iam_read(c, list_policy_tags_tx); }

/* ---- inline policies ---- */

static const ent *cur_ent(nb_call *c)
{
    const char *op = c->op_name;
    if (strstr(op, "User")) return &USER;
    if (strstr(op, "Group")) return &GROUP;
    return &ROLE;
}

static int put_inline_tx(nb_call *c, sqlite3 *h)
{
    const ent *e = cur_ent(c);
    char owner[129];
    const char *name = nb_in_str(c, "PolicyName"), *doc = nb_in_str(c, "PolicyDocument");
    if (iam_check_name(c, name, 128, "policyName") || need_entity(c, h, e, owner) ||
        (e == &ROLE && iam_role_protected(c, h, owner)))
        return -1;
    /* The quota counts all inline policies of the owner together, minus the one replaced. */
    size_t used = 0;
    sqlite3_stmt *st = nb_iq(h, "SELECT doc FROM inline WHERE account = ? AND kind = ? AND owner = ? AND name <> ?",
                             "ssss", IAM_ACCOUNT(c), e->kind, owner, name);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *d = nb_iq_text(st, 0);
        used += nb_policy_size(d, strlen(d));
    }
    if (st) sqlite3_reset(st);
    if (iam_check_policy(c, doc, NB_POLICY_IDENTITY, e->quota, used, owner)) return -1;
    if (nb_iq_exec(h, "INSERT INTO inline(account, kind, owner, name, doc) VALUES(?, ?, ?, ?, ?) ON CONFLICT(account, "
                      "kind, owner, name) DO UPDATE SET doc = excluded.doc",
                   "sssss", IAM_ACCOUNT(c), e->kind, owner, name, doc))
        return iam_db_error(c, h);
    return 0;
}

static int get_inline_tx(nb_call *c, sqlite3 *h)
{
    const ent *e = cur_ent(c);
    char owner[129];
    const char *name = nb_in_str(c, "PolicyName");
    if (need_entity(c, h, e, owner)) return -1;
    sqlite3_stmt *st = nb_iq(h, "SELECT name, doc FROM inline WHERE account = ? AND kind = ? AND owner = ? AND name = ?",
                             "ssss", IAM_ACCOUNT(c), e->kind, owner, name);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return iam_no_such(c, "The %s policy with name %s cannot be found.", e->label, name);
    }
    c->output = json_pack("{s:s, s:s, s:o}", e->member, owner, "PolicyName", nb_iq_text(st, 0), "PolicyDocument",
                          iam_doc_out(nb_iq_text(st, 1)));
    sqlite3_reset(st);
    return 0;
}

static int delete_inline_tx(nb_call *c, sqlite3 *h)
{
    const ent *e = cur_ent(c);
    char owner[129];
    const char *name = nb_in_str(c, "PolicyName");
    if (need_entity(c, h, e, owner) || (e == &ROLE && iam_role_protected(c, h, owner))) return -1;
    if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM inline WHERE account = ? AND kind = ? AND owner = ? AND name = ?", "ssss",
                   IAM_ACCOUNT(c), e->kind, owner, name))
        return iam_no_such(c, "The %s policy with name %s cannot be found.", e->label, name);
    if (nb_iq_exec(h, "DELETE FROM inline WHERE account = ? AND kind = ? AND owner = ? AND name = ?", "ssss",
                   IAM_ACCOUNT(c), e->kind, owner, name))
        return iam_db_error(c, h);
    return 0;
}

static int list_inline_tx(nb_call *c, sqlite3 *h)
{
    const ent *e = cur_ent(c);
    char owner[129];
    iam_page pg;
    if (iam_page_in(c, &pg) || need_entity(c, h, e, owner)) return -1;
    json_t *list = json_array();
    sqlite3_stmt *st = nb_iq(h, "SELECT name FROM inline WHERE account = ? AND kind = ? AND owner = ? ORDER BY name "
                                "LIMIT ? OFFSET ?",
                             "sssii", IAM_ACCOUNT(c), e->kind, owner, pg.max + 1, pg.offset);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(list, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    c->output = json_pack("{s:o}", "PolicyNames", list);
    iam_page_out(c->output, &pg, json_array_size(list), list);
    return 0;
}

int iam_put_user_policy(nb_call *c) { return iam_write(c, put_inline_tx); }
int iam_get_user_policy(nb_call *c) { return iam_read(c, get_inline_tx); }
int iam_delete_user_policy(nb_call *c) { return iam_write(c, delete_inline_tx); }
int iam_list_user_policies(nb_call *c) { return iam_read(c, list_inline_tx); }
int iam_put_group_policy(nb_call *c) { return iam_write(c, put_inline_tx); }
int iam_get_group_policy(nb_call *c) { return iam_read(c, get_inline_tx); }
int iam_delete_group_policy(nb_call *c) { return iam_write(c, delete_inline_tx); }
int iam_list_group_policies(nb_call *c) { return iam_read(c, list_inline_tx); }
int iam_put_role_policy(nb_call *c) { return iam_write(c, put_inline_tx); }
int iam_get_role_policy(nb_call *c) { return iam_read(c, get_inline_tx); }
int iam_delete_role_policy(nb_call *c) { return iam_write(c, delete_inline_tx); }
int iam_list_role_policies(nb_call *c) { return iam_read(c, list_inline_tx); }

/* ---- attachments ---- */

static int attach_tx(nb_call *c, sqlite3 *h)
{
    const ent *e = cur_ent(c);
    char owner[129];
    pol_ref r;
    const char *arn = nb_in_str(c, "PolicyArn");
    if (need_entity(c, h, e, owner) || (e == &ROLE && iam_role_protected(c, h, owner)) ||
        resolve(c, h, arn, &r, true))
        return -1;
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM attached WHERE account = ? AND kind = ? AND owner = ? AND arn = ?", "ssss",
                  IAM_ACCOUNT(c), e->kind, owner, arn))
        return 0; /* attaching twice is not an error */
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM attached WHERE account = ? AND kind = ? AND owner = ?", "sss",
                  IAM_ACCOUNT(c), e->kind, owner) >= MAX_ATTACHED)
        return iam_limit(c, "Cannot exceed quota for %s: %d", e->quota_name, MAX_ATTACHED);
    if (nb_iq_exec(h, "INSERT INTO attached(account, kind, owner, arn) VALUES(?, ?, ?, ?)", "ssss", IAM_ACCOUNT(c),
                   e->kind, owner, arn))
        return iam_db_error(c, h);
    return 0;
}

static int detach_tx(nb_call *c, sqlite3 *h)
{
    const ent *e = cur_ent(c);
    char owner[129];
    const char *arn = nb_in_str(c, "PolicyArn");
    if (need_entity(c, h, e, owner) || (e == &ROLE && iam_role_protected(c, h, owner))) return -1;
    if (!arn_shape_ok(arn)) return iam_invalid(c, "ARN %s is not valid.", arn ? arn : "");
    if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM attached WHERE account = ? AND kind = ? AND owner = ? AND arn = ?",
                   "ssss", IAM_ACCOUNT(c), e->kind, owner, arn))
        return iam_no_such(c, "Policy %s was not found.", arn);
    if (nb_iq_exec(h, "DELETE FROM attached WHERE account = ? AND kind = ? AND owner = ? AND arn = ?", "ssss",
                   IAM_ACCOUNT(c), e->kind, owner, arn))
        return iam_db_error(c, h);
    return 0;
}

static int list_attached_tx(nb_call *c, sqlite3 *h)
{
    const ent *e = cur_ent(c);
    char owner[129];
    iam_page pg;
    if (iam_page_in(c, &pg) || need_entity(c, h, e, owner)) return -1;
    const char *prefix = nb_in_str(c, "PathPrefix");
    json_t *all = json_array(), *list = json_array();
    sqlite3_stmt *st = nb_iq(h, "SELECT arn FROM attached WHERE account = ? AND kind = ? AND owner = ? ORDER BY arn",
                             "sss", IAM_ACCOUNT(c), e->kind, owner);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(all, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    size_t i, kept = 0;
    json_t *a;
    json_array_foreach(all, i, a)
    {
        const char *arn = json_string_value(a);
        const char *after = strstr(arn, ":policy") + 7; /* "/path/name" */
        if (prefix && strncmp(after, prefix, strlen(prefix)) != 0) continue;
        if ((int64_t)kept++ < pg.offset || json_array_size(list) > (size_t)pg.max) continue;
        json_array_append_new(list, json_pack("{s:s, s:s}", "PolicyName", strrchr(arn, '/') + 1, "PolicyArn", arn));
    }
    json_decref(all);
    c->output = json_pack("{s:o}", "AttachedPolicies", list);
    iam_page_out(c->output, &pg, json_array_size(list), list);
    return 0;
}

int iam_attach_user_policy(nb_call *c) { return iam_write(c, attach_tx); }
int iam_detach_user_policy(nb_call *c) { return iam_write(c, detach_tx); }
int iam_list_attached_user_policies(nb_call *c) { return iam_read(c, list_attached_tx); }
int iam_attach_group_policy(nb_call *c) { return iam_write(c, attach_tx); }
int iam_detach_group_policy(nb_call *c) { return iam_write(c, detach_tx); }
int iam_list_attached_group_policies(nb_call *c) { return iam_read(c, list_attached_tx); }
int iam_attach_role_policy(nb_call *c) { return iam_write(c, attach_tx); }
int iam_detach_role_policy(nb_call *c) { return iam_write(c, detach_tx); }
int iam_list_attached_role_policies(nb_call *c) { return iam_read(c, list_attached_tx); }

static int entities_tx(nb_call *c, sqlite3 *h)
{
    pol_ref r;
    const char *arn = nb_in_str(c, "PolicyArn"), *filter = nb_in_str(c, "EntityFilter");
    const char *usage = nb_in_str(c, "PolicyUsageFilter");
    if (iam_check_enum(c, filter, "entityFilter", "User|Role|Group|LocalManagedPolicy|AWSManagedPolicy") ||
        iam_check_enum(c, usage, "policyUsageFilter", "PermissionsPolicy|PermissionsBoundary"))
        return -1;
    if (resolve(c, h, arn, &r, false)) return -1;
    bool bound = usage && !strcmp(usage, "PermissionsBoundary");
    bool perm = !usage || !strcmp(usage, "PermissionsPolicy");
    json_t *users = json_array(), *groups = json_array(), *roles = json_array();
    static const struct {
        const char *kind, *table, *filter, *name_m, *id_m;
    } k[] = {{"user", "users", "User", "UserName", "UserId"},
             {"group", "groups", "Group", "GroupName", "GroupId"},
             {"role", "roles", "Role", "RoleName", "RoleId"}};
    json_t *out[3] = {users, groups, roles};
    for (size_t i = 0; i < 3; i++) {
        if (filter && strcmp(filter, k[i].filter) != 0) continue;
        char sql[400];
        if (perm) {
            snprintf(sql, sizeof(sql), "SELECT t.name, t.id FROM attached a JOIN %s t ON t.account = a.account AND "
                                       "t.name = a.owner WHERE a.account = ? AND a.kind = ? AND a.arn = ? ORDER BY t.name",
                     k[i].table);
            sqlite3_stmt *st = nb_iq(h, sql, "sss", IAM_ACCOUNT(c), k[i].kind, arn);
            while (st && sqlite3_step(st) == SQLITE_ROW)
                json_array_append_new(out[i], json_pack("{s:s, s:s}", k[i].name_m, nb_iq_text(st, 0), k[i].id_m,
                                                        nb_iq_text(st, 1)));
            if (st) sqlite3_reset(st);
        }
        /* Without PolicyUsageFilter both uses are listed (AWS: "If it is not included, all
         * policies are returned"), an entity using the policy both ways once. */
        if ((bound || !usage) && i != 1) {
            snprintf(sql, sizeof(sql), "SELECT name, id FROM %s WHERE account = ? AND boundary = ? ORDER BY name",
                     k[i].table);
            sqlite3_stmt *st = nb_iq(h, sql, "ss", IAM_ACCOUNT(c), arn);
            while (st && sqlite3_step(st) == SQLITE_ROW) {
                bool dup = false;
                size_t j;
                json_t *e;
                json_array_foreach(out[i], j, e) if (!strcmp(json_string_value(json_object_get(e, k[i].id_m)),
                                                             nb_iq_text(st, 1))) dup = true;
                if (!dup)
                    json_array_append_new(out[i], json_pack("{s:s, s:s}", k[i].name_m, nb_iq_text(st, 0), k[i].id_m,
                                                            nb_iq_text(st, 1)));
            }
            if (st) sqlite3_reset(st);
        }
    }
    /* MaxItems counts the three lists together (users, then groups, then roles), as AWS pages. */
    iam_page pg;
    if (iam_page_in(c, &pg)) {
        json_decref(users);
        json_decref(groups);
        json_decref(roles);
        return -1;
    }
    json_t *pages[3] = {json_array(), json_array(), json_array()};
    size_t seen = 0, taken = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t j;
        json_t *e;
        json_array_foreach(out[i], j, e)
        {
            if ((int64_t)seen++ < pg.offset) continue;
            if ((int64_t)taken++ < pg.max) json_array_append(pages[i], e);
        }
    }
    json_decref(users);
    json_decref(groups);
    json_decref(roles);
    c->output = json_pack("{s:o, s:o, s:o}", "PolicyUsers", pages[0], "PolicyGroups", pages[1], "PolicyRoles",
                          pages[2]);
    /* taken counts every entity from the marker on: a scratch list of at most max+1 of them tells
     * iam_page_out whether there is more (nothing past the page was added to the lists). */
    json_t *scratch = json_array();
    for (size_t i = 0; i < taken && i <= (size_t)pg.max; i++) json_array_append_new(scratch, json_null());
    iam_page_out(c->output, &pg, json_array_size(scratch), scratch);
    json_decref(scratch);
    return 0;
}
int iam_list_entities_for_policy(nb_call *c) { return iam_read(c, entities_tx); }
