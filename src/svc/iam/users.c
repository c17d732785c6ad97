/* users.c: IAM users, their tags, access keys (at most 2, Active/Inactive, last used), login
 * profiles (hashed console passwords) and permissions boundaries. */
#include "svc/iam/iam.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_USERS 5000
#define MAX_KEYS 2

/* The user an operation is about: UserName, or the calling IAM user when it is omitted (AWS
 * does this for GetUser, access keys and the like). Fills out with the stored name. */
static int target_user(nb_call *c, sqlite3 *h, char out[129])
{
    const char *name = nb_in_str(c, "UserName");
    if (!name) {
        if (c->who.type != NB_PRINCIPAL_USER)
            return iam_validation(c, "Must specify userName when calling with non-User credentials");
        name = c->who.name;
    }
    if (!iam_user_name(h, IAM_ACCOUNT(c), name, out))
        return iam_no_such(c, "The user with name %s cannot be found.", name);
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

/* ---- users ---- */

static int create_user_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "UserName");
    const char *path = nb_in_str(c, "Path");
    const char *boundary = nb_in_str(c, "PermissionsBoundary");
    json_t *tags = json_object_get(c->input, "Tags");
    if (iam_check_name(c, name, 64, "userName") || iam_check_path(c, path, "path") ||
        iam_check_tags(c, tags, 0) || check_boundary(c, h, boundary))
        return -1;
    if (iam_user_exists(h, IAM_ACCOUNT(c), name)) return iam_exists(c, "User with name %s already exists.", name);
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM users WHERE account = ?", "s", IAM_ACCOUNT(c)) >= MAX_USERS)
        return iam_limit(c, "Cannot exceed quota for UsersPerAccount: %d", MAX_USERS);
    char id[22];
    nb_identity_new_id("AIDA", id);
    if (nb_iq_exec(h, "INSERT INTO users(account, name, id, path, created, boundary) VALUES(?, ?, ?, ?, ?, ?)",
                   "ssssds", IAM_ACCOUNT(c), name, id, path ? path : "/", nb_clock_now_f(), boundary) ||
        (tags && iam_tags_put(h, IAM_ACCOUNT(c), "user", name, tags)))
        return iam_db_error(c, h);
    c->output = json_pack("{s:o}", "User", iam_user_json(c, h, name, true));
    return 0;
}
int iam_create_user(nb_call *c) { return iam_write(c, create_user_tx); }

static int get_user_tx(nb_call *c, sqlite3 *h)
{
    if (!nb_in_str(c, "UserName") && c->who.type == NB_PRINCIPAL_ROOT) {
        /* The root user: AWS answers with the account's root identity. */
        double created = (double)nb_iq_int(h, 0, "SELECT CAST(created AS INTEGER) FROM accounts WHERE id = ?", "s",
                                           IAM_ACCOUNT(c));
        c->output = json_pack("{s:{s:s, s:s, s:f}}", "User", "UserId", IAM_ACCOUNT(c), "Arn",
                              c->who.arn, "CreateDate", created);
        return 0;
    }
    char name[129];
    if (target_user(c, h, name)) return -1;
    c->output = json_pack("{s:o}", "User", iam_user_json(c, h, name, true));
    return 0;
}
int iam_get_user(nb_call *c) { return iam_read(c, get_user_tx); }

static int list_users_tx(nb_call *c, sqlite3 *h)
{
    iam_page pg;
    if (iam_page_in(c, &pg)) return -1;
    const char *prefix = nb_in_str(c, "PathPrefix");
    if (!prefix) prefix = "/";
    json_t *list = json_array(), *names = json_array();
    sqlite3_stmt *st = nb_iq(h,
                             "SELECT name FROM users WHERE account = ? AND substr(path, 1, length(?)) = ? "
                             "ORDER BY name COLLATE NOCASE LIMIT ? OFFSET ?",
                             "sssii", IAM_ACCOUNT(c), prefix, prefix, pg.max + 1, pg.offset);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(names, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n) json_array_append_new(list, iam_user_json(c, h, json_string_value(n), false));
    c->output = json_pack("{s:o}", "Users", list);
    iam_page_out(c->output, &pg, json_array_size(names), list);
    json_decref(names);
    return 0;
}
int iam_list_users(nb_call *c) { return iam_read(c, list_users_tx); }

/* Every row naming a user, for renames (UpdateUser NewUserName). */
static int rename_user_rows(sqlite3 *h, const char *acct, const char *from, const char *to)
{
    static const char *const sql[] = {
        "UPDATE members SET user = ?3 WHERE account = ?1 AND user = ?2",
        "UPDATE inline SET owner = ?3 WHERE account = ?1 AND kind = 'user' AND owner = ?2",
        "UPDATE attached SET owner = ?3 WHERE account = ?1 AND kind = 'user' AND owner = ?2",
        "UPDATE access_keys SET user = ?3 WHERE account = ?1 AND user = ?2",
        "UPDATE login_profiles SET user = ?3 WHERE account = ?1 AND user = ?2",
        "UPDATE tags SET owner = ?3 WHERE account = ?1 AND kind = 'user' AND owner = ?2",
        "UPDATE sessions SET source_user = ?3 WHERE account = ?1 AND source_user = ?2",
        "UPDATE users SET name = ?3 WHERE account = ?1 AND name = ?2",
    };
    for (size_t i = 0; i < NB_ARRAY_LEN(sql); i++) {
        int rc = nb_iq_exec(h, sql[i], "sss", acct, from, to);
        if (rc) return rc;
    }
    return 0;
}

/* Re-register a user's keys after its name or path changed (the principal ARN moves). */
static void refresh_user_keys(sqlite3 *h, const char *acct, const char *user)
{
    sqlite3_stmt *st = nb_iq(h,
                             "SELECT k.id, k.secret, k.status, u.name, u.path, u.id FROM access_keys k "
                             "JOIN users u ON u.account = k.account AND u.name = k.user "
                             "WHERE k.account = ? AND k.user = ?",
                             "ss", acct, user);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        nb_cred cr;
        memset(&cr, 0, sizeof(cr));
        snprintf(cr.access_key, sizeof(cr.access_key), "%s", nb_iq_text(st, 0));
        snprintf(cr.secret, sizeof(cr.secret), "%s", nb_iq_text(st, 1));
        cr.active = strcmp(nb_iq_text(st, 2), "Active") == 0;
        nb_identity_user_principal(&cr.who, acct, nb_iq_text(st, 4), nb_iq_text(st, 3), nb_iq_text(st, 5),
                                   cr.access_key);
        nb_creds_put(&cr);
    }
    if (st) sqlite3_reset(st);
}

static int update_user_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "UserName");
    const char *new_name = nb_in_str(c, "NewUserName");
    const char *new_path = nb_in_str(c, "NewPath");
    if (iam_check_name(c, new_name, 64, "newUserName") || iam_check_path(c, new_path, "newPath")) return -1;
    char cur[129];
    if (!iam_user_name(h, IAM_ACCOUNT(c), name, cur)) return iam_no_such(c, "The user with name %s cannot be found.", name);
    if (new_path &&
        nb_iq_exec(h, "UPDATE users SET path = ? WHERE account = ? AND name = ?", "sss", new_path, IAM_ACCOUNT(c), cur))
        return iam_db_error(c, h);
    const char *final = cur;
    if (new_name && strcmp(new_name, cur) != 0) {
        if (strcasecmp(new_name, cur) != 0 && iam_user_exists(h, IAM_ACCOUNT(c), new_name))
            return iam_exists(c, "User with name %s already exists.", new_name);
        if (rename_user_rows(h, IAM_ACCOUNT(c), cur, new_name)) return iam_db_error(c, h);
        final = new_name;
    }
    refresh_user_keys(h, IAM_ACCOUNT(c), final);
    return 0;
}
int iam_update_user(nb_call *c)
{
    if (iam_authorize_target(c, "user", "UserName", "NewUserName", "newUserName", 64)) return -1;
    return iam_write(c, update_user_tx);
}

static int delete_user_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "UserName");
    const char *a = IAM_ACCOUNT(c);
    char cur[129];
    if (!iam_user_name(h, a, name, cur)) return iam_no_such(c, "The user with name %s cannot be found.", name);
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM login_profiles WHERE account = ? AND user = ?", "ss", a, cur))
        return iam_conflict(c, "Cannot delete entity, must delete login profile first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM access_keys WHERE account = ? AND user = ?", "ss", a, cur))
        return iam_conflict(c, "Cannot delete entity, must delete access keys first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM inline WHERE account = ? AND kind = 'user' AND owner = ?", "ss", a, cur))
        return iam_conflict(c, "Cannot delete entity, must delete policies first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM attached WHERE account = ? AND kind = 'user' AND owner = ?", "ss", a, cur))
        return iam_conflict(c, "Cannot delete entity, must detach all policies first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM members WHERE account = ? AND user = ?", "ss", a, cur))
        return iam_conflict(c, "Cannot delete entity, must remove users from group first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'mfa' AND owner = ?", "ss", a, cur))
        return iam_conflict(c, "Cannot delete entity, must delete MFA device first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'signing-certificate' AND owner = ?",
                  "ss", a, cur))
        return iam_conflict(c, "Cannot delete entity, must delete signing certificates first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'ssh' AND owner = ?", "ss", a, cur))
        return iam_conflict(c, "Cannot delete entity, must delete SSH public keys first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'ssc' AND owner = ?", "ss", a, cur))
        return iam_conflict(c, "Cannot delete entity, must delete service-specific credentials first.");
    iam_forget_user_keys(h, a, cur);
    if (nb_iq_exec(h, "DELETE FROM tags WHERE account = ? AND kind = 'user' AND owner = ?", "ss", a, cur) ||
        nb_iq_exec(h, "DELETE FROM users WHERE account = ? AND name = ?", "ss", a, cur))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_user(nb_call *c) { return iam_write(c, delete_user_tx); }

/* ---- tags (shared by users, roles, policies, instance profiles through these helpers) ---- */

static int tag_tx(nb_call *c, sqlite3 *h)
{
    char cur[129];
    const char *name = nb_in_str(c, "UserName");
    if (!iam_user_name(h, IAM_ACCOUNT(c), name, cur)) return iam_no_such(c, "The user with name %s cannot be found.", name);
    json_t *tags = json_object_get(c->input, "Tags");
    int64_t existing = nb_iq_int(h, 0, "SELECT COUNT(*) FROM tags WHERE account = ? AND kind = 'user' AND owner = ?",
                                 "ss", IAM_ACCOUNT(c), cur);
    if (iam_check_tags(c, tags, 0)) return -1;
    /* Keys already present are replaced, so only new keys count against the 50. */
    size_t fresh = 0, i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM tags WHERE account = ? AND kind = 'user' AND owner = ? AND key = ?",
                       "sss", IAM_ACCOUNT(c), cur, k))
            fresh++;
    }
    if ((size_t)existing + fresh > 50) return iam_limit(c, "The number of tags has reached the maximum limit.");
    if (iam_tags_put(h, IAM_ACCOUNT(c), "user", cur, tags)) return iam_db_error(c, h);
    return 0;
}
int iam_tag_user(nb_call *c) { return iam_write(c, tag_tx); }

static int untag_tx(nb_call *c, sqlite3 *h)
{
    char cur[129];
    const char *name = nb_in_str(c, "UserName");
    if (!iam_user_name(h, IAM_ACCOUNT(c), name, cur)) return iam_no_such(c, "The user with name %s cannot be found.", name);
    if (iam_check_tag_keys(c)) return -1;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(c->input, "TagKeys"), i, k)
    {
        if (nb_iq_exec(h, "DELETE FROM tags WHERE account = ? AND kind = 'user' AND owner = ? AND key = ?", "sss",
                       IAM_ACCOUNT(c), cur, json_string_value(k)))
            return iam_db_error(c, h);
    }
    return 0;
}
int iam_untag_user(nb_call *c) { return iam_write(c, untag_tx); }

static int list_tags_tx(nb_call *c, sqlite3 *h)
{
    char cur[129];
    const char *name = nb_in_str(c, "UserName");
    if (!iam_user_name(h, IAM_ACCOUNT(c), name, cur)) return iam_no_such(c, "The user with name %s cannot be found.", name);
    return iam_tags_page(c, iam_tags_out(h, IAM_ACCOUNT(c), "user", cur));
}
int iam_list_user_tags(nb_call *c) { return iam_read(c, list_tags_tx); }

/* ---- access keys ---- */

static int create_key_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    if (target_user(c, h, user)) return -1;
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM access_keys WHERE account = ? AND user = ?", "ss", IAM_ACCOUNT(c), user) >=
        MAX_KEYS)
        return iam_limit(c, "Cannot exceed quota for AccessKeysPerUser: %d", MAX_KEYS);
    char id[21], secret[41];
    nb_identity_new_key_id("AKIA", id);
    nb_identity_new_secret(secret);
    double now = nb_clock_now_f();
    if (nb_iq_exec(h, "INSERT INTO access_keys(id, secret, account, user, status, created) VALUES(?, ?, ?, ?, 'Active', ?)",
                   "ssssd", id, secret, IAM_ACCOUNT(c), user, now))
        return iam_db_error(c, h);
    c->output = json_pack("{s:{s:s, s:s, s:s, s:s, s:f}}", "AccessKey", "UserName", user, "AccessKeyId", id,
                          "Status", "Active", "SecretAccessKey", secret, "CreateDate", now);
    /* Registered after the commit (below); the principal needs the user's id and path. */
    sqlite3_stmt *st = nb_iq(h, "SELECT path, id FROM users WHERE account = ? AND name = ?", "ss", IAM_ACCOUNT(c), user);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        json_object_set_new(c->output, "_path", json_string(nb_iq_text(st, 0)));
        json_object_set_new(c->output, "_id", json_string(nb_iq_text(st, 1)));
    }
    if (st) sqlite3_reset(st);
    return 0;
}

int iam_create_access_key(nb_call *c)
{
    if (iam_write(c, create_key_tx)) return -1;
    json_t *k = json_object_get(c->output, "AccessKey");
    nb_cred cr;
    memset(&cr, 0, sizeof(cr));
    snprintf(cr.access_key, sizeof(cr.access_key), "%s", json_string_value(json_object_get(k, "AccessKeyId")));
    snprintf(cr.secret, sizeof(cr.secret), "%s", json_string_value(json_object_get(k, "SecretAccessKey")));
    cr.active = true;
    nb_identity_user_principal(&cr.who, IAM_ACCOUNT(c), json_string_value(json_object_get(c->output, "_path")),
                               json_string_value(json_object_get(k, "UserName")),
                               json_string_value(json_object_get(c->output, "_id")), cr.access_key);
    nb_creds_put(&cr);
    json_object_del(c->output, "_path");
    json_object_del(c->output, "_id");
    return 0;
}

static int list_keys_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    iam_page pg;
    if (iam_page_in(c, &pg)) return -1;
    if (!nb_in_str(c, "UserName") && c->who.type == NB_PRINCIPAL_ROOT) {
        /* AWS lists the root user's own keys (no UserName): the key it signed with. */
        double created = (double)nb_iq_int(h, 0, "SELECT CAST(created AS INTEGER) FROM accounts WHERE id = ?", "s",
                                           IAM_ACCOUNT(c));
        c->output = json_pack("{s:[{s:s, s:s, s:f}], s:b}", "AccessKeyMetadata", "AccessKeyId", c->who.access_key,
                              "Status", "Active", "CreateDate", created, "IsTruncated", 0);
        return 0;
    }
    if (target_user(c, h, user)) return -1;
    json_t *list = json_array();
    sqlite3_stmt *st = nb_iq(h, "SELECT id, status, created FROM access_keys WHERE account = ? AND user = ? "
                                "ORDER BY created, id LIMIT ? OFFSET ?",
                             "ssii", IAM_ACCOUNT(c), user, pg.max + 1, pg.offset);
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:f}", "UserName", user, "AccessKeyId",
                                              nb_iq_text(st, 0), "Status", nb_iq_text(st, 1), "CreateDate",
                                              sqlite3_column_double(st, 2)));
    if (st) sqlite3_reset(st);
    c->output = json_pack("{s:o}", "AccessKeyMetadata", list);
    iam_page_out(c->output, &pg, json_array_size(list), list);
    return 0;
}
int iam_list_access_keys(nb_call *c) { return iam_read(c, list_keys_tx); }

/* The key named by AccessKeyId must belong to the target user. */
static int find_key(nb_call *c, sqlite3 *h, char user[129])
{
    const char *id = nb_in_str(c, "AccessKeyId");
    if (target_user(c, h, user)) return -1;
    if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM access_keys WHERE id = ? AND account = ? AND user = ?", "sss", id,
                   IAM_ACCOUNT(c), user))
        return iam_no_such(c, "The Access Key with id %s cannot be found.", id);
    return 0;
}

static int update_key_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    const char *status = nb_in_str(c, "Status");
    if (!status || (strcmp(status, "Active") != 0 && strcmp(status, "Inactive") != 0))
        return iam_validation(c, "1 validation error detected: Value '%s' at 'status' failed to satisfy "
                                 "constraint: Member must satisfy enum value set: [Active, Inactive]",
                              status ? status : "");
    if (find_key(c, h, user)) return -1;
    if (nb_iq_exec(h, "UPDATE access_keys SET status = ? WHERE id = ?", "ss", status, nb_in_str(c, "AccessKeyId")))
        return iam_db_error(c, h);
    return 0;
}

int iam_update_access_key(nb_call *c)
{
    if (iam_write(c, update_key_tx)) return -1;
    /* Takes effect on the very next request: the signature check reads this flag. */
    nb_cred cr;
    if (nb_creds_lookup(nb_in_str(c, "AccessKeyId"), &cr) == 0) {
        cr.active = strcmp(nb_in_str(c, "Status"), "Active") == 0;
        nb_creds_put(&cr);
    }
    return 0;
}

static int delete_key_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    if (find_key(c, h, user)) return -1;
    if (nb_iq_exec(h, "DELETE FROM access_keys WHERE id = ?", "s", nb_in_str(c, "AccessKeyId"))) return iam_db_error(c, h);
    return 0;
}

int iam_delete_access_key(nb_call *c)
{
    if (iam_write(c, delete_key_tx)) return -1;
    nb_creds_remove(nb_in_str(c, "AccessKeyId"));
    return 0;
}

static int key_last_used_tx(nb_call *c, sqlite3 *h)
{
    const char *id = nb_in_str(c, "AccessKeyId");
    sqlite3_stmt *st = nb_iq(h, "SELECT user, last_used, last_service, last_region FROM access_keys WHERE id = ? AND account = ?",
                             "ss", id, IAM_ACCOUNT(c));
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return iam_no_such(c, "The Access Key with id %s cannot be found.", id);
    }
    json_t *lu = json_pack("{s:s, s:s}", "ServiceName", "N/A", "Region", "N/A");
    double when = 0;
    char svc[64] = "", region[64] = "";
    if (nb_identity_key_last_used(id, &when, svc, region) == 0) {
        json_object_set_new(lu, "LastUsedDate", json_real(when));
        json_object_set_new(lu, "ServiceName", json_string(svc));
        json_object_set_new(lu, "Region", json_string(region));
    }
    c->output = json_pack("{s:s, s:o}", "UserName", nb_iq_text(st, 0), "AccessKeyLastUsed", lu);
    sqlite3_reset(st);
    return 0;
}
int iam_get_access_key_last_used(nb_call *c) { return iam_read(c, key_last_used_tx); }

/* ---- login profiles ---- */

static int login_target(nb_call *c, sqlite3 *h, char user[129], bool must_exist)
{
    const char *name = nb_in_str(c, "UserName");
    if (!name) {
        if (c->who.type != NB_PRINCIPAL_USER)
            return iam_validation(c, "Must specify userName when calling with non-User credentials");
        name = c->who.name;
    }
    if (!iam_user_name(h, IAM_ACCOUNT(c), name, user))
        return iam_no_such(c, "The user with name %s cannot be found.", name);
    bool has = nb_iq_int(h, 0, "SELECT COUNT(*) FROM login_profiles WHERE account = ? AND user = ?", "ss",
                         IAM_ACCOUNT(c), user) > 0;
    if (must_exist && !has) return iam_no_such(c, "Login Profile for User %s cannot be found.", user);
    if (!must_exist && has) return iam_exists(c, "Login Profile for user %s already exists.", user);
    return 0;
}

static int create_login_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    const char *pw = nb_in_str(c, "Password");
    if (login_target(c, h, user, false)) return -1;
    if (!pw) return iam_validation(c, "Password is required.");
    if (iam_password_policy_check(c, h, pw)) return -1;
    char hash[160];
    iam_password_hash(pw, hash);
    bool reset = nb_in_bool(c, "PasswordResetRequired", false);
    double now = nb_clock_now_f();
    if (nb_iq_exec(h, "INSERT INTO login_profiles(account, user, hash, created, reset_required) VALUES(?, ?, ?, ?, ?)",
                   "sssdi", IAM_ACCOUNT(c), user, hash, now, (int64_t)reset))
        return iam_db_error(c, h);
    c->output = json_pack("{s:{s:s, s:f, s:b}}", "LoginProfile", "UserName", user, "CreateDate", now,
                          "PasswordResetRequired", reset);
    return 0;
}
int iam_create_login_profile(nb_call *c) { return iam_write(c, create_login_tx); }

static int get_login_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    if (login_target(c, h, user, true)) return -1;
    sqlite3_stmt *st = nb_iq(h, "SELECT created, reset_required FROM login_profiles WHERE account = ? AND user = ?",
                             "ss", IAM_ACCOUNT(c), user);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return iam_db_error(c, h);
    }
    c->output = json_pack("{s:{s:s, s:f, s:b}}", "LoginProfile", "UserName", user, "CreateDate",
                          sqlite3_column_double(st, 0), "PasswordResetRequired", sqlite3_column_int(st, 1));
    sqlite3_reset(st);
    return 0;
}
int iam_get_login_profile(nb_call *c) { return iam_read(c, get_login_tx); }

static int update_login_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    if (login_target(c, h, user, true)) return -1;
    const char *pw = nb_in_str(c, "Password");
    if (pw) {
        if (iam_password_policy_check(c, h, pw)) return -1;
        char hash[160];
        iam_password_hash(pw, hash);
        if (nb_iq_exec(h, "UPDATE login_profiles SET hash = ? WHERE account = ? AND user = ?", "sss", hash,
                       IAM_ACCOUNT(c), user))
            return iam_db_error(c, h);
    }
    json_t *r = json_object_get(c->input, "PasswordResetRequired");
    if (json_is_boolean(r) &&
        nb_iq_exec(h, "UPDATE login_profiles SET reset_required = ? WHERE account = ? AND user = ?", "iss",
                   (int64_t)json_is_true(r), IAM_ACCOUNT(c), user))
        return iam_db_error(c, h);
    return 0;
}
int iam_update_login_profile(nb_call *c) { return iam_write(c, update_login_tx); }

static int delete_login_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    if (login_target(c, h, user, true)) return -1;
    if (nb_iq_exec(h, "DELETE FROM login_profiles WHERE account = ? AND user = ?", "ss", IAM_ACCOUNT(c), user))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_login_profile(nb_call *c) { return iam_write(c, delete_login_tx); }

static int change_password_tx(nb_call *c, sqlite3 *h)
{
    if (c->who.type != NB_PRINCIPAL_USER)
        return nb_call_error(c, 400, "InvalidUserType", "Only IAM Users can change their own password.");
    char user[129];
    if (login_target(c, h, user, true)) return -1;
    sqlite3_stmt *st = nb_iq(h, "SELECT hash FROM login_profiles WHERE account = ? AND user = ?", "ss",
                             IAM_ACCOUNT(c), user);
    bool ok = st && sqlite3_step(st) == SQLITE_ROW && iam_password_check(nb_in_str(c, "OldPassword"), nb_iq_text(st, 0));
    if (st) sqlite3_reset(st);
    if (!ok) return nb_call_error(c, 403, "AccessDenied", "The old password is incorrect.");
    const char *pw = nb_in_str(c, "NewPassword");
    if (iam_password_policy_check(c, h, pw)) return -1;
    char hash[160];
    iam_password_hash(pw, hash);
    if (nb_iq_exec(h, "UPDATE login_profiles SET hash = ?, reset_required = 0 WHERE account = ? AND user = ?", "sss",
                   hash, IAM_ACCOUNT(c), user))
        return iam_db_error(c, h);
    return 0;
}
int iam_change_password(nb_call *c) { return iam_write(c, change_password_tx); }

/* ---- permissions boundary ---- */

static int put_boundary_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    const char *name = nb_in_str(c, "UserName"), *arn = nb_in_str(c, "PermissionsBoundary");
    if (!iam_user_name(h, IAM_ACCOUNT(c), name, user)) return iam_no_such(c, "The user with name %s cannot be found.", name);
    if (check_boundary(c, h, arn)) return -1;
    if (nb_iq_exec(h, "UPDATE users SET boundary = ? WHERE account = ? AND name = ?", "sss", arn, IAM_ACCOUNT(c), user))
        return iam_db_error(c, h);
    return 0;
}
int iam_put_user_boundary(nb_call *c) { return iam_write(c, put_boundary_tx); }

static int delete_boundary_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    const char *name = nb_in_str(c, "UserName");
    if (!iam_user_name(h, IAM_ACCOUNT(c), name, user)) return iam_no_such(c, "The user with name %s cannot be found.", name);
    if (nb_iq_exec(h, "UPDATE users SET boundary = NULL WHERE account = ? AND name = ?", "ss", IAM_ACCOUNT(c), user))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_user_boundary(nb_call *c) { return iam_write(c, delete_boundary_tx); }


