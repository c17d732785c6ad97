/* groups.c: IAM groups and their membership (a user is in at most 10 groups; a group's
 * policies apply to its members). */
#include "svc/iam/iam.h"

#include <stdio.h>

#define MAX_GROUPS 300
#define MAX_GROUPS_PER_USER 10

static bool group_name(sqlite3 *h, const char *account, const char *name, char out[129])
{
    sqlite3_stmt *st = nb_iq(h, "SELECT name FROM groups WHERE account = ? AND name = ?", "ss", account, name);
    bool found = st && sqlite3_step(st) == SQLITE_ROW;
    if (found) snprintf(out, 129, "%s", nb_iq_text(st, 0));
    if (st) sqlite3_reset(st);
    return found;
}

static int need_group(nb_call *c, sqlite3 *h, char out[129])
{
    const char *name = nb_in_str(c, "GroupName");
    if (!name || !group_name(h, IAM_ACCOUNT(c), name, out))
        return iam_no_such(c, "The group with name %s cannot be found.", name ? name : "");
    return 0;
}

static int create_group_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "GroupName"), *path = nb_in_str(c, "Path");
    char cur[129];
    if (iam_check_name(c, name, 128, "groupName") || iam_check_path(c, path, "path")) return -1;
    if (group_name(h, IAM_ACCOUNT(c), name, cur)) return iam_exists(c, "Group with name %s already exists.", name);
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM groups WHERE account = ?", "s", IAM_ACCOUNT(c)) >= MAX_GROUPS)
        return iam_limit(c, "Cannot exceed quota for GroupsPerAccount: %d", MAX_GROUPS);
    char id[22];
    nb_identity_new_id("AGPA", id);
    if (nb_iq_exec(h, "INSERT INTO groups(account, name, id, path, created) VALUES(?, ?, ?, ?, ?)", "ssssd",
                   IAM_ACCOUNT(c), name, id, path ? path : "/", nb_clock_now_f()))
        return iam_db_error(c, h);
    c->output = json_pack("{s:o}", "Group", iam_group_json(c, h, name));
    return 0;
}
int iam_create_group(nb_call *c) { return iam_write(c, create_group_tx); }

static int get_group_tx(nb_call *c, sqlite3 *h)
{
    char g[129];
    iam_page pg;
    if (iam_page_in(c, &pg) || need_group(c, h, g)) return -1;
    json_t *names = json_array(), *users = json_array();
    sqlite3_stmt *st = nb_iq(h, "SELECT user FROM members WHERE account = ? AND grp = ? ORDER BY user COLLATE NOCASE "
                                "LIMIT ? OFFSET ?",
                             "ssii", IAM_ACCOUNT(c), g, pg.max + 1, pg.offset);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(names, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        json_t *u = iam_user_json(c, h, json_string_value(n), false);
        if (u) json_array_append_new(users, u);
    }
    c->output = json_pack("{s:o, s:o}", "Group", iam_group_json(c, h, g), "Users", users);
    iam_page_out(c->output, &pg, json_array_size(names), users);
    json_decref(names);
    return 0;
}
int iam_get_group(nb_call *c) { return iam_read(c, get_group_tx); }

static int list_groups_tx(nb_call *c, sqlite3 *h)
{
    iam_page pg;
    if (iam_page_in(c, &pg)) return -1;
    const char *prefix = nb_in_str(c, "PathPrefix");
    if (!prefix) prefix = "/";
    json_t *names = json_array(), *list = json_array();
    sqlite3_stmt *st = nb_iq(h, "SELECT name FROM groups WHERE account = ? AND substr(path, 1, length(?)) = ? "
                                "ORDER BY name COLLATE NOCASE LIMIT ? OFFSET ?",
                             "sssii", IAM_ACCOUNT(c), prefix, prefix, pg.max + 1, pg.offset);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(names, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n) json_array_append_new(list, iam_group_json(c, h, json_string_value(n)));
    c->output = json_pack("{s:o}", "Groups", list);
    iam_page_out(c->output, &pg, json_array_size(names), list);
    json_decref(names);
    return 0;
}
int iam_list_groups(nb_call *c) { return iam_read(c, list_groups_tx); }

static int update_group_tx(nb_call *c, sqlite3 *h)
{
    char g[129], other[129];
    const char *new_name = nb_in_str(c, "NewGroupName"), *new_path = nb_in_str(c, "NewPath");
    if (need_group(c, h, g) || iam_check_name(c, new_name, 128, "newGroupName") || iam_check_path(c, new_path, "newPath"))
        return -1;
    const char *a = IAM_ACCOUNT(c);
    if (new_path && nb_iq_exec(h, "UPDATE groups SET path = ? WHERE account = ? AND name = ?", "sss", new_path, a, g))
        return iam_db_error(c, h);
    if (new_name && strcmp(new_name, g) != 0) {
        if (strcasecmp(new_name, g) != 0 && group_name(h, a, new_name, other))
            return iam_exists(c, "Group with name %s already exists.", new_name);
        static const char *const sql[] = {
            "UPDATE members SET grp = ?3 WHERE account = ?1 AND grp = ?2",
            "UPDATE inline SET owner = ?3 WHERE account = ?1 AND kind = 'group' AND owner = ?2",
            "UPDATE attached SET owner = ?3 WHERE account = ?1 AND kind = 'group' AND owner = ?2",
            "UPDATE groups SET name = ?3 WHERE account = ?1 AND name = ?2",
        };
        for (size_t i = 0; i < NB_ARRAY_LEN(sql); i++)
            if (nb_iq_exec(h, sql[i], "sss", a, g, new_name)) return iam_db_error(c, h);
    }
    return 0;
}
int iam_update_group(nb_call *c)
{
    if (iam_authorize_target(c, "group", "GroupName", "NewGroupName", "newGroupName", 128)) return -1;
    return iam_write(c, update_group_tx);
}

static int delete_group_tx(nb_call *c, sqlite3 *h)
{
    char g[129];
    if (need_group(c, h, g)) return -1;
    const char *a = IAM_ACCOUNT(c);
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM members WHERE account = ? AND grp = ?", "ss", a, g))
        return iam_conflict(c, "Cannot delete entity, must remove users from group first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM inline WHERE account = ? AND kind = 'group' AND owner = ?", "ss", a, g))
        return iam_conflict(c, "Cannot delete entity, must delete policies first.");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM attached WHERE account = ? AND kind = 'group' AND owner = ?", "ss", a, g))
        return iam_conflict(c, "Cannot delete entity, must detach all policies first.");
    if (nb_iq_exec(h, "DELETE FROM groups WHERE account = ? AND name = ?", "ss", a, g)) return iam_db_error(c, h);
    return 0;
}
int iam_delete_group(nb_call *c) { return iam_write(c, delete_group_tx); }

static int add_user_tx(nb_call *c, sqlite3 *h)
{
    char g[129], u[129];
    const char *user = nb_in_str(c, "UserName");
    if (need_group(c, h, g)) return -1;
    if (!iam_user_name(h, IAM_ACCOUNT(c), user, u)) return iam_no_such(c, "The user with name %s cannot be found.", user);
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM members WHERE account = ? AND grp = ? AND user = ?", "sss",
                  IAM_ACCOUNT(c), g, u))
        return 0; /* AWS: adding a member twice succeeds */
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM members WHERE account = ? AND user = ?", "ss", IAM_ACCOUNT(c), u) >=
        MAX_GROUPS_PER_USER)
        return iam_limit(c, "Cannot exceed quota for GroupsPerUser: %d", MAX_GROUPS_PER_USER);
    if (nb_iq_exec(h, "INSERT INTO members(account, grp, user) VALUES(?, ?, ?)", "sss", IAM_ACCOUNT(c), g, u))
        return iam_db_error(c, h);
    return 0;
}
int iam_add_user_to_group(nb_call *c) { return iam_write(c, add_user_tx); }

static int remove_user_tx(nb_call *c, sqlite3 *h)
{
    char g[129], u[129];
    const char *user = nb_in_str(c, "UserName");
    if (need_group(c, h, g)) return -1;
    if (!iam_user_name(h, IAM_ACCOUNT(c), user, u)) return iam_no_such(c, "The user with name %s cannot be found.", user);
    if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM members WHERE account = ? AND grp = ? AND user = ?", "sss",
                   IAM_ACCOUNT(c), g, u))
        return iam_no_such(c, "The user with name %s cannot be found in group %s.", u, g);
    if (nb_iq_exec(h, "DELETE FROM members WHERE account = ? AND grp = ? AND user = ?", "sss", IAM_ACCOUNT(c), g, u))
        return iam_db_error(c, h);
    return 0;
}
int iam_remove_user_from_group(nb_call *c) { return iam_write(c, remove_user_tx); }

static int groups_for_user_tx(nb_call *c, sqlite3 *h)
{
    char u[129];
    iam_page pg;
    const char *user = nb_in_str(c, "UserName");
    if (iam_page_in(c, &pg)) return -1;
    if (!iam_user_name(h, IAM_ACCOUNT(c), user, u)) return iam_no_such(c, "The user with name %s cannot be found.", user);
    json_t *names = json_array(), *list = json_array();
    sqlite3_stmt *st = nb_iq(h, "SELECT grp FROM members WHERE account = ? AND user = ? ORDER BY grp COLLATE NOCASE "
                                "LIMIT ? OFFSET ?",
                             "ssii", IAM_ACCOUNT(c), u, pg.max + 1, pg.offset);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(names, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        json_t *g = iam_group_json(c, h, json_string_value(n));
        if (g) json_array_append_new(list, g);
    }
    c->output = json_pack("{s:o}", "Groups", list);
    iam_page_out(c->output, &pg, json_array_size(names), list);
    json_decref(names);
    return 0;
}
int iam_list_groups_for_user(nb_call *c) { return iam_read(c, groups_for_user_tx); }
