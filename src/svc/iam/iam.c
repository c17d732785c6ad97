/* iam.c: the IAM service (query protocol, model "iam"): its operation table, start-up and
 * reset, and the helpers every IAM handler uses (transactions, errors, validation, paging,
 * entity shapes). The state lives in the identity database (src/iam/identity.h). */
#include "svc/iam/iam.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

/* ---------------------------------------------------------------------------------------------
 * Transactions
 * ------------------------------------------------------------------------------------------- */

struct tx {
    nb_call *c;
    iam_tx_fn fn;
};

#define TX_FAILED 1000 /* not an SQLite code: fn refused, c->err says why */

static int tx_trampoline(sqlite3 *h, void *arg)
{
    struct tx *t = arg;
    return t->fn(t->c, h) == 0 ? SQLITE_OK : TX_FAILED;
}

static int tx_run(nb_call *c, iam_tx_fn fn, bool write)
{
    nb_db *db = nb_identity_db();
    if (!db) return nb_call_error(c, 503, "ServiceFailure", "The IAM store is not available.");
    struct tx t = {c, fn};
    int rc = write ? nb_db_write(db, tx_trampoline, &t) : nb_db_read(db, tx_trampoline, &t);
    if (rc == SQLITE_OK) {
        if (write) nb_identity_changed();
        return 0;
    }
    if (!c->err.code[0]) {
        nb_warn("iam: %s failed in the database (%d)", c->op_name, rc);
        nb_call_error(c, 500, "ServiceFailure",
                      "Request processing has failed because of an unknown error, exception or failure.");
    }
    if (c->output) {
        json_decref(c->output);
        c->output = NULL;
    }
    return -1;
}

int iam_write(nb_call *c, iam_tx_fn fn) { return tx_run(c, fn, true); }
int iam_read(nb_call *c, iam_tx_fn fn) { return tx_run(c, fn, false); }

int iam_db_error(nb_call *c, sqlite3 *h)
{
    nb_warn("iam: %s: database error: %s", c->op_name, sqlite3_errmsg(h));
    return nb_call_error(c, 500, "ServiceFailure",
                         "Request processing has failed because of an unknown error, exception or failure.");
}

/* ---------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------- */

#define ERRFN(fname, status, code)                                                                 \
    int fname(nb_call *c, const char *fmt, ...)                                                    \
    {                                                                                              \
        char msg[1024];                                                                            \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vsnprintf(msg, sizeof(msg), fmt, ap);                                                      \
        va_end(ap);                                                                                \
        return nb_call_error(c, status, code, "%s", msg);                                          \
    }
ERRFN(iam_no_such, 404, "NoSuchEntity")
ERRFN(iam_exists, 409, "EntityAlreadyExists")
ERRFN(iam_limit, 409, "LimitExceeded")
ERRFN(iam_conflict, 409, "DeleteConflict")
ERRFN(iam_invalid, 400, "InvalidInput")
ERRFN(iam_validation, 400, "ValidationError")

/* ---------------------------------------------------------------------------------------------
 * Validation
 * ------------------------------------------------------------------------------------------- */

int iam_check_name(nb_call *c, const char *v, size_t max, const char *member)
{
    if (!v) return 0;
    size_t n = strlen(v);
    bool ok = n >= 1;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        ok = isalnum(ch) || strchr("_+=,.@-", ch);
    }
    if (!ok)
        return iam_validation(c,
                              "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                              "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
                              v, member);
    if (n > max)
        return iam_validation(c,
                              "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                              "constraint: Member must have length less than or equal to %zu",
                              v, member, max);
    return 0;
}

int iam_check_enum(nb_call *c, const char *v, const char *member, const char *values)
{
    if (!v) return 0;
    size_t n = strlen(v);
    for (const char *p = values; *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == n && !strncmp(p, v, n)) return 0;
        p += l + (bar ? 1 : 0);
    }
    char set[256];
    size_t k = 0;
    for (const char *q = values; *q && k + 3 < sizeof(set); q++) {
        if (*q == '|') {
            set[k++] = ',';
            set[k++] = ' ';
        } else {
            set[k++] = *q;
        }
    }
    set[k] = 0;
    return iam_validation(c,
                          "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member "
                          "must satisfy enum value set: [%s]",
                          v, member, set);
}

int iam_check_path(nb_call *c, const char *v, const char *member)
{
    if (!v) return 0;
    size_t n = strlen(v);
    bool ok = n >= 1 && n <= 512 && v[0] == '/' && v[n - 1] == '/';
    for (size_t i = 0; ok && i < n; i++) ok = v[i] >= 0x21 && v[i] <= 0x7e;
    if (!ok)
        return iam_validation(c,
                              "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                              "constraint: Member must satisfy regular expression pattern: "
                              "(\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)",
                              v, member);
    return 0;
}

int iam_check_policy(nb_call *c, const char *doc, enum nb_policy_kind kind,
                     enum nb_policy_quota quota, size_t already_used, const char *owner)
{
    nb_policy_error e;
    memset(&e, 0, sizeof(e));
    if (!doc) return nb_call_error(c, 400, "MalformedPolicyDocument", "Syntax errors in policy.");
    size_t n = strlen(doc);
    if (nb_policy_check_size(doc, n, already_used, quota, owner, &e) < 0)
        return nb_call_error(c, 409, e.code ? e.code : "LimitExceeded", "%s", e.message);
    nb_policy *p = nb_policy_parse(doc, n, kind, &e);
    if (!p) {
        const char *code = e.code ? e.code : "MalformedPolicyDocument";
        int status = !strcmp(code, "LimitExceeded") ? 409 : !strcmp(code, "ServiceFailure") ? 500 : 400;
        return nb_call_error(c, status, code, "%s", e.message[0] ? e.message : "Syntax errors in policy.");
    }
    nb_policy_free(p);
    return 0;
}

/* Tag keys and values: letters, spaces and digits of any script, and _.:/=+-@ (AWS's
 * [\p{L}\p{Z}\p{N}_.:/=+\-@]); bytes of multi-byte UTF-8 characters are let through. */
static bool tag_chars_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!(ch >= 0x80 || isalnum(ch) || strchr(" _.:/=+-@", ch))) return false;
    }
    return true;
}

int iam_check_tags(nb_call *c, json_t *tags, size_t existing)
{
    if (!tags) return 0;
    if (json_array_size(tags) + existing > 50)
        return iam_limit(c, "The number of tags has reached the maximum limit.");
    size_t i, j;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k || !v)
            return iam_validation(c, "1 validation error detected: Value null at 'tags.%zu.member.%s' "
                                     "failed to satisfy constraint: Member must not be null",
                                  i + 1, k ? "value" : "key");
        const char *bad = !tag_chars_ok(k) ? k : !tag_chars_ok(v) ? v : NULL;
        if (bad)
            return iam_validation(c, "1 validation error detected: Value '%s' at 'tags.%zu.member.%s' failed to "
                                     "satisfy constraint: Member must satisfy regular expression pattern: "
                                     "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]%s",
                                  bad, i + 1, bad == k ? "key" : "value", bad == k ? "+" : "*");
        if (strncasecmp(k, "aws:", 4) == 0)
            return iam_invalid(c, "User tags cannot start with aws:");
        if (strlen(k) > 128 || strlen(v) > 256)
            return iam_validation(c, "1 validation error detected: Value '%s' at 'tags.%zu.member.%s' "
                                     "failed to satisfy constraint: Member must have length less than "
                                     "or equal to %d",
                                  strlen(k) > 128 ? k : v, i + 1, strlen(k) > 128 ? "key" : "value",
                                  strlen(k) > 128 ? 128 : 256);
        for (j = 0; j < i; j++) {
            const char *k2 = json_string_value(json_object_get(json_array_get(tags, j), "Key"));
            if (k2 && strcasecmp(k, k2) == 0)
                return iam_invalid(c, "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Pagination. The marker is the offset, wrapped so clients treat it as opaque.
 * ------------------------------------------------------------------------------------------- */

int iam_page_in(nb_call *c, iam_page *p)
{
    p->offset = 0;
    p->max = nb_in_int(c, "MaxItems", 100);
    if (p->max < 1 || p->max > 1000)
        return iam_validation(c, "1 validation error detected: Value '%lld' at 'maxItems' failed to "
                                 "satisfy constraint: Member must have value between 1 and 1000",
                              (long long)p->max);
    const char *m = nb_in_str(c, "Marker");
    if (m) {
        unsigned char raw[64];
        size_t n = strlen(m);
        ssize_t dl = n < 80 ? nb_base64_decode(m, n, raw) : -1;
        long long off = -1;
        if (dl > 7 && dl < 40 && memcmp(raw, "nimbus:", 7) == 0) {
            raw[dl] = 0;
            char *end;
            off = strtoll((char *)raw + 7, &end, 10);
            if (*end) off = -1;
        }
        if (off < 0) return iam_validation(c, "Invalid Marker.");
        p->offset = off;
    }
    /* Every List* with a PathPrefix takes it in the model's pattern \u002F[\u0021-\u007F]*. */
    const char *pp = nb_in_str(c, "PathPrefix");
    if (pp) {
        bool ok = pp[0] == '/';
        for (const char *q = pp; ok && *q; q++)
            ok = (unsigned char)*q >= 0x21 && (unsigned char)*q <= 0x7F;
        if (!ok)
            return iam_validation(c,
                                  "1 validation error detected: Value '%s' at 'pathPrefix' failed to "
                                  "satisfy constraint: Member must satisfy regular expression pattern: "
                                  "\\u002F[\\u0021-\\u007F]*",
                                  pp);
        if (strlen(pp) > 512)
            return iam_validation(c,
                                  "1 validation error detected: Value '%s' at 'pathPrefix' failed to "
                                  "satisfy constraint: Member must have length less than or equal to 512",
                                  pp);
    }
    return 0;
}

int iam_check_tag_keys(nb_call *c)
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(c->input, "TagKeys"), i, k)
    {
        const char *v = json_string_value(k);
        if (!v) continue;
        if (strlen(v) > 128)
            return iam_validation(c, "1 validation error detected: Value '%s' at 'tagKeys' failed to satisfy "
                                     "constraint: Member must have length less than or equal to 128",
                                  v);
        if (!*v || !tag_chars_ok(v))
            return iam_validation(c, "1 validation error detected: Value '%s' at 'tagKeys' failed to satisfy "
                                     "constraint: Member must satisfy regular expression pattern: "
                                     "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
                                  v);
    }
    return 0;
}

void iam_page_out(json_t *out, const iam_page *p, size_t fetched, json_t *list)
{
    bool truncated = (int64_t)fetched > p->max;
    if (truncated) json_array_remove(list, json_array_size(list) - 1);
    json_object_set_new(out, "IsTruncated", json_boolean(truncated));
    if (truncated) {
        char raw[40], enc[64];
        int n = snprintf(raw, sizeof(raw), "nimbus:%lld", (long long)(p->offset + p->max));
        nb_base64_encode((const unsigned char *)raw, (size_t)n, enc);
        json_object_set_new(out, "Marker", json_string(enc));
    }
}

/* ---------------------------------------------------------------------------------------------
 * Shapes
 * ------------------------------------------------------------------------------------------- */

char *iam_arn(nb_call *c, const char *type, const char *path, const char *name)
{
    return nb_arena_printf(c->arena, "arn:aws:iam::%s:%s%s%s", IAM_ACCOUNT(c), type,
                           path && *path ? path : "/", name);
}

json_t *iam_doc_out(const char *doc)
{
    nb_buf b;
    nb_buf_init(&b);
    nb_url_encode(&b, doc, strlen(doc), false);
    json_t *s = json_string(b.data ? b.data : "");
    nb_buf_free(&b);
    return s;
}

json_t *iam_tags_out(sqlite3 *h, const char *account, const char *kind, const char *owner)
{
    json_t *list = json_array();
    sqlite3_stmt *st = nb_iq(h, "SELECT key, value FROM tags WHERE account = ? AND kind = ? AND owner = ? ORDER BY seq, key",
                             "sss", account, kind, owner);
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(list, json_pack("{s:s, s:s}", "Key", nb_iq_text(st, 0), "Value", nb_iq_text(st, 1)));
    if (st) sqlite3_reset(st);
    return list;
}

int iam_role_protected(nb_call *c, sqlite3 *h, const char *role)
{
    if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM roles WHERE account = ? AND name = ? AND path LIKE '/aws-service-role/%'",
                   "ss", IAM_ACCOUNT(c), role))
        return 0;
    return nb_call_error(c, 400, "UnmodifiableEntity",
                         "Cannot perform the operation on the protected role '%s' - this role is only modifiable "
                         "by AWS",
                         role);
}

int iam_tags_page(nb_call *c, json_t *tags)
{
    iam_page p;
    if (iam_page_in(c, &p)) {
        json_decref(tags);
        return -1;
    }
    json_t *list = json_array();
    size_t n = json_array_size(tags);
    for (size_t i = (size_t)p.offset; i < n && (int64_t)(i - (size_t)p.offset) <= p.max; i++)
        json_array_append(list, json_array_get(tags, i));
    json_decref(tags);
    size_t fetched = json_array_size(list);
    c->output = json_pack("{s:o}", "Tags", list);
    iam_page_out(c->output, &p, fetched, list);
    return 0;
}

int iam_authorize_target(nb_call *c, const char *kind, const char *member, const char *new_member,
                         const char *new_model_name, size_t max)
{
    if (c->who.type == NB_PRINCIPAL_ROOT) return 0;
    const char *name = nb_in_str(c, member), *nn = nb_in_str(c, new_member), *np = nb_in_str(c, "NewPath");
    if (!nn && !np) return 0;
    /* the handler's own input errors first, as AWS validates before it authorizes */
    if (iam_check_name(c, nn, max, new_model_name) || iam_check_path(c, np, "newPath")) return -1;
    char path[513];
    if (!name || !nb_identity_entity_path(IAM_ACCOUNT(c), kind, name, path)) return 0; /* NoSuchEntity next */
    const char *arn = iam_arn(c, kind, np ? np : path, nn ? nn : name);
    char action[80];
    snprintf(action, sizeof(action), "iam:%s", c->op_name ? c->op_name : "");
    nb_authz_check_args a = {.action = action, .resource = arn};
    return nb_authz_check(c, &a);
}

int iam_page_list(nb_call *c, json_t *out, const char *key, json_t *all)
{
    iam_page p;
    if (iam_page_in(c, &p)) return -1;
    json_t *page = json_array();
    size_t n = json_array_size(all);
    for (size_t i = (size_t)p.offset; i < n && (int64_t)(i - (size_t)p.offset) <= p.max; i++)
        json_array_append(page, json_array_get(all, i));
    size_t fetched = json_array_size(page);
    json_object_set_new(out, key, page);
    iam_page_out(out, &p, fetched, page);
    return 0;
}

int iam_tags_put(sqlite3 *h, const char *account, const char *kind, const char *owner, json_t *tags)
{
    int64_t seq = nb_iq_int(h, 0, "SELECT MAX(seq) FROM tags WHERE account = ? AND kind = ? AND owner = ?",
                            "sss", account, kind, owner);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k) continue;
        /* Re-tagging an existing key replaces its value and keeps its place. */
        int rc = nb_iq_exec(h,
                            "INSERT INTO tags(account, kind, owner, key, value, seq) VALUES(?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT(account, kind, owner, key) DO UPDATE SET value = excluded.value",
                            "sssssi", account, kind, owner, k, v ? v : "", seq + (int64_t)i + 1);
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

static json_t *boundary_out(const char *arn)
{
    return json_pack("{s:s, s:s}", "PermissionsBoundaryType", "PermissionsBoundaryPolicy",
                     "PermissionsBoundaryArn", arn);
}

json_t *iam_user_json(nb_call *c, sqlite3 *h, const char *name, bool full)
{
    sqlite3_stmt *st = nb_iq(h,
                             "SELECT name, path, id, created, boundary, password_last_used FROM users "
                             "WHERE account = ? AND name = ?",
                             "ss", IAM_ACCOUNT(c), name);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return NULL;
    }
    char uname[129];
    snprintf(uname, sizeof(uname), "%s", nb_iq_text(st, 0));
    json_t *u = json_pack("{s:s, s:s, s:s, s:s, s:f}", "Path", nb_iq_text(st, 1), "UserName", uname,
                          "UserId", nb_iq_text(st, 2), "Arn",
                          iam_arn(c, "user", nb_iq_text(st, 1), uname), "CreateDate",
                          sqlite3_column_double(st, 3));
    if (sqlite3_column_type(st, 5) != SQLITE_NULL)
        json_object_set_new(u, "PasswordLastUsed", json_real(sqlite3_column_double(st, 5)));
    if (full && sqlite3_column_type(st, 4) != SQLITE_NULL)
        json_object_set_new(u, "PermissionsBoundary", boundary_out(nb_iq_text(st, 4)));
    sqlite3_reset(st);
    if (full) {
        json_t *tags = iam_tags_out(h, IAM_ACCOUNT(c), "user", uname);
        if (json_array_size(tags))
            json_object_set_new(u, "Tags", tags);
        else
            json_decref(tags);
    }
    return u;
}

json_t *iam_group_json(nb_call *c, sqlite3 *h, const char *name)
{
    sqlite3_stmt *st = nb_iq(h, "SELECT name, path, id, created FROM groups WHERE account = ? AND name = ?",
                             "ss", IAM_ACCOUNT(c), name);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return NULL;
    }
    json_t *g = json_pack("{s:s, s:s, s:s, s:s, s:f}", "Path", nb_iq_text(st, 1), "GroupName",
                          nb_iq_text(st, 0), "GroupId", nb_iq_text(st, 2), "Arn",
                          iam_arn(c, "group", nb_iq_text(st, 1), nb_iq_text(st, 0)), "CreateDate",
                          sqlite3_column_double(st, 3));
    sqlite3_reset(st);
    return g;
}

json_t *iam_role_json(nb_call *c, sqlite3 *h, const char *name, bool full)
{
    sqlite3_stmt *st = nb_iq(h,
                             "SELECT name, path, id, created, trust, description, max_session, "
                             "boundary, last_used, last_region FROM roles WHERE account = ? AND name = ?",
                             "ss", IAM_ACCOUNT(c), name);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return NULL;
    }
    char rname[129];
    snprintf(rname, sizeof(rname), "%s", nb_iq_text(st, 0));
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:f, s:o, s:I}", "Path", nb_iq_text(st, 1),
                          "RoleName", rname, "RoleId", nb_iq_text(st, 2), "Arn",
                          iam_arn(c, "role", nb_iq_text(st, 1), rname), "CreateDate",
                          sqlite3_column_double(st, 3), "AssumeRolePolicyDocument",
                          iam_doc_out(nb_iq_text(st, 4)), "MaxSessionDuration",
                          (json_int_t)sqlite3_column_int64(st, 6));
    if (sqlite3_column_type(st, 5) != SQLITE_NULL)
        json_object_set_new(r, "Description", json_string(nb_iq_text(st, 5)));
    if (full) {
        if (sqlite3_column_type(st, 7) != SQLITE_NULL)
            json_object_set_new(r, "PermissionsBoundary", boundary_out(nb_iq_text(st, 7)));
        json_t *lu = json_object();
        if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
            json_object_set_new(lu, "LastUsedDate", json_real(sqlite3_column_double(st, 8)));
            json_object_set_new(lu, "Region", json_string(nb_iq_text(st, 9)));
        }
        json_object_set_new(r, "RoleLastUsed", lu);
    }
    sqlite3_reset(st);
    if (full) {
        json_t *tags = iam_tags_out(h, IAM_ACCOUNT(c), "role", rname);
        if (json_array_size(tags))
            json_object_set_new(r, "Tags", tags);
        else
            json_decref(tags);
    }
    return r;
}

json_t *iam_profile_json(nb_call *c, sqlite3 *h, const char *name)
{
    sqlite3_stmt *st = nb_iq(h, "SELECT name, path, id, created FROM instance_profiles WHERE account = ? AND name = ?",
                             "ss", IAM_ACCOUNT(c), name);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return NULL;
    }
    char pname[129];
    snprintf(pname, sizeof(pname), "%s", nb_iq_text(st, 0));
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:f}", "Path", nb_iq_text(st, 1),
                          "InstanceProfileName", pname, "InstanceProfileId", nb_iq_text(st, 2),
                          "Arn", iam_arn(c, "instance-profile", nb_iq_text(st, 1), pname),
                          "CreateDate", sqlite3_column_double(st, 3));
    sqlite3_reset(st);
    json_t *roles = json_array(), *names = json_array();
    st = nb_iq(h, "SELECT role FROM profile_roles WHERE account = ? AND profile = ? ORDER BY role", "ss",
               IAM_ACCOUNT(c), pname);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(names, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        json_t *r = iam_role_json(c, h, json_string_value(n), false);
        if (r) json_array_append_new(roles, r);
    }
    json_decref(names);
    json_object_set_new(p, "Roles", roles);
    json_t *tags = iam_tags_out(h, IAM_ACCOUNT(c), "instance-profile", pname);
    if (json_array_size(tags))
        json_object_set_new(p, "Tags", tags);
    else
        json_decref(tags);
    return p;
}

bool iam_user_name(sqlite3 *h, const char *account, const char *name, char out[129])
{
    sqlite3_stmt *st = nb_iq(h, "SELECT name FROM users WHERE account = ? AND name = ?", "ss", account, name);
    bool found = st && sqlite3_step(st) == SQLITE_ROW;
    if (found && out) snprintf(out, 129, "%s", nb_iq_text(st, 0));
    if (st) sqlite3_reset(st);
    return found;
}

bool iam_user_exists(sqlite3 *h, const char *account, const char *name)
{
    return iam_user_name(h, account, name, NULL);
}

bool iam_policy_exists(sqlite3 *h, const char *account, const char *arn)
{
    if (nb_managed_by_arn(arn)) return true;
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "arn:aws:iam::%s:policy/", account);
    if (strncmp(arn, prefix, strlen(prefix)) != 0) return false;
    const char *name = strrchr(arn, '/') + 1;
    size_t plen = (size_t)(name - (arn + strlen(prefix) - 1));
    sqlite3_stmt *st = nb_iq(h, "SELECT path FROM policies WHERE account = ? AND name = ?", "ss", account, name);
    bool ok = false;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *path = nb_iq_text(st, 0);
        /* The path in the ARN must be the policy's. */
        ok = strlen(path) == plen && strncmp(path, arn + strlen(prefix) - 1, plen) == 0;
    }
    if (st) sqlite3_reset(st);
    return ok;
}

bool iam_obj_get(sqlite3 *h, const char *account, const char *kind, const char *name, iam_obj *o)
{
    sqlite3_stmt *st = nb_iq(h, "SELECT name, owner, path, id, created, doc FROM objects "
                                "WHERE account = ? AND kind = ? AND name = ?",
                             "sss", account, kind, name);
    bool found = name && st && sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(o->name, sizeof(o->name), "%s", nb_iq_text(st, 0));
        snprintf(o->owner, sizeof(o->owner), "%s", nb_iq_text(st, 1));
        snprintf(o->path, sizeof(o->path), "%s", nb_iq_text(st, 2));
        snprintf(o->id, sizeof(o->id), "%s", nb_iq_text(st, 3));
        o->created = sqlite3_column_double(st, 4);
        o->doc = json_loads(nb_iq_text(st, 5), 0, NULL);
        if (!o->doc) o->doc = json_object();
    }
    if (st) sqlite3_reset(st);
    return found;
}

int iam_obj_put(sqlite3 *h, const char *account, const char *kind, const iam_obj *o)
{
    char *doc = json_dumps(o->doc, JSON_COMPACT);
    if (!doc) return SQLITE_NOMEM;
    int rc = nb_iq_exec(h, "INSERT OR REPLACE INTO objects(account, kind, name, owner, path, id, created, doc) "
                           "VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                        "ssssssds", account, kind, o->name, o->owner[0] ? o->owner : NULL,
                        o->path[0] ? o->path : "/", o->id[0] ? o->id : NULL, o->created, doc);
    free(doc);
    return rc;
}

int iam_obj_delete(sqlite3 *h, const char *account, const char *kind, const char *name)
{
    return nb_iq_exec(h, "DELETE FROM objects WHERE account = ? AND kind = ? AND name = ?", "sss", account, kind, name);
}

json_t *iam_obj_names(sqlite3 *h, const char *account, const char *kind, const char *owner)
{
    json_t *names = json_array();
    sqlite3_stmt *st =
        owner ? nb_iq(h, "SELECT name FROM objects WHERE account = ? AND kind = ? AND owner = ? ORDER BY created, name",
                      "sss", account, kind, owner)
              : nb_iq(h, "SELECT name FROM objects WHERE account = ? AND kind = ? ORDER BY name COLLATE NOCASE", "ss",
                      account, kind);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(names, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    return names;
}

void iam_forget_user_keys(sqlite3 *h, const char *account, const char *user)
{
    sqlite3_stmt *st = nb_iq(h, "SELECT id FROM access_keys WHERE account = ? AND user = ?", "ss", account, user);
    while (st && sqlite3_step(st) == SQLITE_ROW) nb_creds_remove(nb_iq_text(st, 0));
    if (st) sqlite3_reset(st);
    nb_iq_exec(h, "DELETE FROM access_keys WHERE account = ? AND user = ?", "ss", account, user);
    /* GetSessionToken / GetFederationToken sessions of the user end with it. */
    st = nb_iq(h, "SELECT id FROM sessions WHERE account = ? AND source_user = ?", "ss", account, user);
    while (st && sqlite3_step(st) == SQLITE_ROW) nb_creds_remove(nb_iq_text(st, 0));
    if (st) sqlite3_reset(st);
    nb_iq_exec(h, "DELETE FROM sessions WHERE account = ? AND source_user = ?", "ss", account, user);
}

/* ---------------------------------------------------------------------------------------------
 * Passwords
 * ------------------------------------------------------------------------------------------- */

void iam_password_hash(const char *password, char out[160])
{
    unsigned char salt[16], dk[32];
    char salt_hex[33], dk_hex[65];
    nb_random(salt, sizeof(salt));
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), 100000, EVP_sha256(),
                      sizeof(dk), dk);
    nb_hex(salt, sizeof(salt), salt_hex);
    nb_hex(dk, sizeof(dk), dk_hex);
    snprintf(out, 160, "pbkdf2-sha256$100000$%s$%s", salt_hex, dk_hex);
}

bool iam_password_check(const char *password, const char *stored)
{
    unsigned iter;
    char salt_hex[33], want[65];
    if (sscanf(stored, "pbkdf2-sha256$%u$%32[0-9a-f]$%64[0-9a-f]", &iter, salt_hex, want) != 3) return false;
    unsigned char salt[16], dk[32];
    for (int i = 0; i < 16; i++) {
        unsigned v;
        sscanf(salt_hex + 2 * i, "%2x", &v);
        salt[i] = (unsigned char)v;
    }
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), (int)iter, EVP_sha256(),
                      sizeof(dk), dk);
    char got[65];
    nb_hex(dk, sizeof(dk), got);
    return CRYPTO_memcmp(got, want, 64) == 0;
}

/* ---------------------------------------------------------------------------------------------
 * Authorization context: iam:ResourceTag/ of the user or role an operation names, and the
 * policy ARN keys of attach and boundary operations.
 * ------------------------------------------------------------------------------------------- */

struct tagctx {
    nb_call *c;
    json_t *ctx;
};

static int tag_ctx_fn(sqlite3 *h, void *arg)
{
    struct tagctx *t = arg;
    const char *kind = NULL, *name = NULL;
    if ((name = nb_in_str(t->c, "UserName")))
        kind = "user";
    else if ((name = nb_in_str(t->c, "RoleName")))
        kind = "role";
    if (!kind) return SQLITE_OK;
    json_t *tags = nb_identity_tags(h, IAM_ACCOUNT(t->c), kind, name);
    const char *k;
    json_t *v;
    char key[300];
    json_object_foreach(tags, k, v)
    {
        snprintf(key, sizeof(key), "iam:ResourceTag/%s", k);
        nb_authz_context_set(t->ctx, key, json_string_value(v));
        snprintf(key, sizeof(key), "aws:ResourceTag/%s", k);
        nb_authz_context_set(t->ctx, key, json_string_value(v));
    }
    json_decref(tags);
    return SQLITE_OK;
}

static int iam_authz_context(nb_call *c, json_t *ctx)
{
    const char *arn = nb_in_str(c, "PolicyArn");
    if (arn) nb_authz_context_set(ctx, "iam:PolicyARN", arn);
    const char *pb = nb_in_str(c, "PermissionsBoundary");
    if (pb) nb_authz_context_set(ctx, "iam:PermissionsBoundary", pb);
    if (c->op_name && strstr(c->op_name, "PermissionsBoundary") && arn)
        nb_authz_context_set(ctx, "iam:PermissionsBoundary", arn);
    nb_db *db = nb_identity_db();
    if (db && c->who.type != NB_PRINCIPAL_ROOT) {
        struct tagctx t = {c, ctx};
        nb_db_read(db, tag_ctx_fn, &t);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The operation table
 * ------------------------------------------------------------------------------------------- */

#define A "arn:aws:iam::{account}:"
/* "{@kind:Member}" is the entity's path ("/" or "/a/b/"): ARNs carry it, as AWS's do, so that
 * policies on arn:aws:iam::*:user/division_abc/(anything) match. */
#define USER A "user{@user:UserName}{UserName}"
#define USER_SELF A "user{@user:UserName|self}{UserName|self}"
#define GROUP A "group{@group:GroupName}{GroupName}"
#define ROLE A "role{@role:RoleName}{RoleName}"
#define PROFILE A "instance-profile{@instance-profile:InstanceProfileName}{InstanceProfileName}"
#define POLICY "{PolicyArn}"
#define OIDC "{OpenIDConnectProviderArn}"
#define SAML "{SAMLProviderArn}"
#define CERT A "server-certificate{@server-certificate:ServerCertificateName}{ServerCertificateName}"
#define OP(name, fn, res) {name, iam_##fn, 0, NULL, res}

static const nb_op_def ops[] = {
    OP("CreateUser", create_user, USER),
    OP("GetUser", get_user, USER_SELF),
    OP("ListUsers", list_users, A "user/"),
    OP("UpdateUser", update_user, USER),
    OP("DeleteUser", delete_user, USER),
    OP("TagUser", tag_user, USER),
    OP("UntagUser", untag_user, USER),
    OP("ListUserTags", list_user_tags, USER),
    OP("CreateAccessKey", create_access_key, USER_SELF),
    OP("ListAccessKeys", list_access_keys, USER_SELF),
    OP("UpdateAccessKey", update_access_key, USER_SELF),
    OP("DeleteAccessKey", delete_access_key, USER_SELF),
    OP("GetAccessKeyLastUsed", get_access_key_last_used, A "user/"),
    OP("CreateLoginProfile", create_login_profile, USER),
    OP("GetLoginProfile", get_login_profile, USER),
    OP("UpdateLoginProfile", update_login_profile, USER),
    OP("DeleteLoginProfile", delete_login_profile, USER),
    OP("ChangePassword", change_password, USER_SELF),
    OP("PutUserPermissionsBoundary", put_user_boundary, USER),
    OP("DeleteUserPermissionsBoundary", delete_user_boundary, USER),
    OP("CreateServiceSpecificCredential", create_service_specific_credential, USER),
    OP("ListServiceSpecificCredentials", list_service_specific_credentials, USER_SELF),
    OP("ResetServiceSpecificCredential", reset_service_specific_credential, USER_SELF),
    OP("UpdateServiceSpecificCredential", update_service_specific_credential, USER_SELF),
    OP("DeleteServiceSpecificCredential", delete_service_specific_credential, USER_SELF),
    OP("CreateVirtualMFADevice", create_virtual_mfa_device, A "mfa/{VirtualMFADeviceName}"),
    OP("DeleteVirtualMFADevice", delete_virtual_mfa_device, "{SerialNumber}"),
    OP("ListVirtualMFADevices", list_virtual_mfa_devices, A "mfa/"),
    OP("EnableMFADevice", enable_mfa_device, USER),
    OP("DeactivateMFADevice", deactivate_mfa_device, USER),
    OP("ResyncMFADevice", resync_mfa_device, USER),
    OP("ListMFADevices", list_mfa_devices, USER_SELF),
    OP("TagMFADevice", tag_mfa_device, "{SerialNumber}"),
    OP("UntagMFADevice", untag_mfa_device, "{SerialNumber}"),
    OP("ListMFADeviceTags", list_mfa_device_tags, "{SerialNumber}"),
    OP("UploadSSHPublicKey", upload_ssh_public_key, USER),
    OP("GetSSHPublicKey", get_ssh_public_key, USER),
    OP("ListSSHPublicKeys", list_ssh_public_keys, USER_SELF),
    OP("UpdateSSHPublicKey", update_ssh_public_key, USER),
    OP("DeleteSSHPublicKey", delete_ssh_public_key, USER),
    OP("UploadSigningCertificate", upload_signing_certificate, USER_SELF),
    OP("ListSigningCertificates", list_signing_certificates, USER_SELF),
    OP("UpdateSigningCertificate", update_signing_certificate, USER_SELF),
    OP("DeleteSigningCertificate", delete_signing_certificate, USER_SELF),

    OP("CreateGroup", create_group, GROUP),
    OP("GetGroup", get_group, GROUP),
    OP("ListGroups", list_groups, A "group/"),
    OP("UpdateGroup", update_group, GROUP),
    OP("DeleteGroup", delete_group, GROUP),
    OP("AddUserToGroup", add_user_to_group, GROUP),
    OP("RemoveUserFromGroup", remove_user_from_group, GROUP),
    OP("ListGroupsForUser", list_groups_for_user, USER),

    OP("CreateRole", create_role, ROLE),
    OP("GetRole", get_role, ROLE),
    OP("ListRoles", list_roles, A "role/"),
    OP("UpdateRole", update_role, ROLE),
    OP("UpdateRoleDescription", update_role_description, ROLE),
    OP("DeleteRole", delete_role, ROLE),
    OP("UpdateAssumeRolePolicy", update_assume_role_policy, ROLE),
    OP("TagRole", tag_role, ROLE),
    OP("UntagRole", untag_role, ROLE),
    OP("ListRoleTags", list_role_tags, ROLE),
    OP("PutRolePermissionsBoundary", put_role_boundary, ROLE),
    OP("DeleteRolePermissionsBoundary", delete_role_boundary, ROLE),
    OP("CreateServiceLinkedRole", create_service_linked_role, A "role/aws-service-role/{AWSServiceName}/"),
    OP("DeleteServiceLinkedRole", delete_service_linked_role, ROLE),
    OP("GetServiceLinkedRoleDeletionStatus", get_service_linked_role_deletion_status, A "role/"),
    OP("CreateInstanceProfile", create_instance_profile, PROFILE),
    OP("GetInstanceProfile", get_instance_profile, PROFILE),
    OP("ListInstanceProfiles", list_instance_profiles, A "instance-profile/"),
    OP("DeleteInstanceProfile", delete_instance_profile, PROFILE),
    OP("AddRoleToInstanceProfile", add_role_to_instance_profile, PROFILE),
    OP("RemoveRoleFromInstanceProfile", remove_role_from_instance_profile, PROFILE),
    OP("ListInstanceProfilesForRole", list_instance_profiles_for_role, ROLE),
    OP("TagInstanceProfile", tag_instance_profile, PROFILE),
    OP("UntagInstanceProfile", untag_instance_profile, PROFILE),
    OP("ListInstanceProfileTags", list_instance_profile_tags, PROFILE),

    OP("CreatePolicy", create_policy, A "policy/{PolicyName}"),
    OP("GetPolicy", get_policy, POLICY),
    OP("ListPolicies", list_policies, A "policy/"),
    OP("DeletePolicy", delete_policy, POLICY),
    OP("CreatePolicyVersion", create_policy_version, POLICY),
    OP("GetPolicyVersion", get_policy_version, POLICY),
    OP("ListPolicyVersions", list_policy_versions, POLICY),
    OP("DeletePolicyVersion", delete_policy_version, POLICY),
    OP("SetDefaultPolicyVersion", set_default_policy_version, POLICY),
    OP("TagPolicy", tag_policy, POLICY),
    OP("UntagPolicy", untag_policy, POLICY),
    OP("ListPolicyTags", list_policy_tags, POLICY),
    OP("PutUserPolicy", put_user_policy, USER),
    OP("GetUserPolicy", get_user_policy, USER),
    OP("DeleteUserPolicy", delete_user_policy, USER),
    OP("ListUserPolicies", list_user_policies, USER),
    OP("PutGroupPolicy", put_group_policy, GROUP),
    OP("GetGroupPolicy", get_group_policy, GROUP),
    OP("DeleteGroupPolicy", delete_group_policy, GROUP),
    OP("ListGroupPolicies", list_group_policies, GROUP),
    OP("PutRolePolicy", put_role_policy, ROLE),
    OP("GetRolePolicy", get_role_policy, ROLE),
    OP("DeleteRolePolicy", delete_role_policy, ROLE),
    OP("ListRolePolicies", list_role_policies, ROLE),
    OP("AttachUserPolicy", attach_user_policy, USER),
    OP("DetachUserPolicy", detach_user_policy, USER),
    OP("ListAttachedUserPolicies", list_attached_user_policies, USER),
    OP("AttachGroupPolicy", attach_group_policy, GROUP),
    OP("DetachGroupPolicy", detach_group_policy, GROUP),
    OP("ListAttachedGroupPolicies", list_attached_group_policies, GROUP),
    OP("AttachRolePolicy", attach_role_policy, ROLE),
    OP("DetachRolePolicy", detach_role_policy, ROLE),
    OP("ListAttachedRolePolicies", list_attached_role_policies, ROLE),
    OP("ListEntitiesForPolicy", list_entities_for_policy, POLICY),

    OP("CreateOpenIDConnectProvider", create_oidc_provider, A "oidc-provider/{Url}"),
    OP("GetOpenIDConnectProvider", get_oidc_provider, OIDC),
    OP("ListOpenIDConnectProviders", list_oidc_providers, A "oidc-provider/"),
    OP("DeleteOpenIDConnectProvider", delete_oidc_provider, OIDC),
    OP("AddClientIDToOpenIDConnectProvider", add_client_id_to_oidc_provider, OIDC),
    OP("RemoveClientIDFromOpenIDConnectProvider", remove_client_id_from_oidc_provider, OIDC),
    OP("UpdateOpenIDConnectProviderThumbprint", update_oidc_provider_thumbprint, OIDC),
    OP("TagOpenIDConnectProvider", tag_oidc_provider, OIDC),
    OP("UntagOpenIDConnectProvider", untag_oidc_provider, OIDC),
    OP("ListOpenIDConnectProviderTags", list_oidc_provider_tags, OIDC),
    OP("CreateSAMLProvider", create_saml_provider, A "saml-provider/{Name}"),
    OP("GetSAMLProvider", get_saml_provider, SAML),
    OP("ListSAMLProviders", list_saml_providers, A "saml-provider/"),
    OP("UpdateSAMLProvider", update_saml_provider, SAML),
    OP("DeleteSAMLProvider", delete_saml_provider, SAML),
    OP("TagSAMLProvider", tag_saml_provider, SAML),
    OP("UntagSAMLProvider", untag_saml_provider, SAML),
    OP("ListSAMLProviderTags", list_saml_provider_tags, SAML),
    OP("UploadServerCertificate", upload_server_certificate, CERT),
    OP("GetServerCertificate", get_server_certificate, CERT),
    OP("ListServerCertificates", list_server_certificates, A "server-certificate/"),
    OP("UpdateServerCertificate", update_server_certificate, CERT),
    OP("DeleteServerCertificate", delete_server_certificate, CERT),
    OP("TagServerCertificate", tag_server_certificate, CERT),
    OP("UntagServerCertificate", untag_server_certificate, CERT),
    OP("ListServerCertificateTags", list_server_certificate_tags, CERT),

    OP("GetAccountSummary", get_account_summary, NULL),
    OP("SetSecurityTokenServicePreferences", set_security_token_service_preferences, NULL),
    OP("GetAccountAuthorizationDetails", get_account_authorization_details, NULL),
    OP("GenerateCredentialReport", generate_credential_report, NULL),
    OP("GetCredentialReport", get_credential_report, NULL),
    OP("CreateAccountAlias", create_account_alias, NULL),
    OP("DeleteAccountAlias", delete_account_alias, NULL),
    OP("ListAccountAliases", list_account_aliases, NULL),
    OP("GetAccountPasswordPolicy", get_password_policy, NULL),
    OP("UpdateAccountPasswordPolicy", update_password_policy, NULL),
    OP("DeleteAccountPasswordPolicy", delete_password_policy, NULL),

    OP("ListPoliciesGrantingServiceAccess", list_policies_granting_service_access, NULL),
    OP("GenerateServiceLastAccessedDetails", generate_service_last_accessed_details, "{Arn}"),
    OP("GetServiceLastAccessedDetails", get_service_last_accessed_details, NULL),
    OP("GetServiceLastAccessedDetailsWithEntities", get_service_last_accessed_details_with_entities, NULL),

    OP("SimulatePrincipalPolicy", simulate_principal_policy, "{PolicySourceArn}"),
    OP("SimulateCustomPolicy", simulate_custom_policy, NULL),
    OP("GetContextKeysForCustomPolicy", get_context_keys_for_custom_policy, NULL),
    OP("GetContextKeysForPrincipalPolicy", get_context_keys_for_principal_policy, "{PolicySourceArn}"),
};

static int iam_init(const nb_svc_env *env, char **err) { return nb_identity_open(env->data_dir, err); }
static void iam_shutdown(void) { nb_identity_close(); }
static int iam_reset(void) { return nb_identity_reset(); }

const nb_service nb_svc_iam = {
    .name = "iam",
    .model = "iam",
    .ops = ops,
    .nops = NB_ARRAY_LEN(ops),
    .init = iam_init,
    .shutdown = iam_shutdown,
    .reset = iam_reset,
    .authz_context = iam_authz_context,
};
