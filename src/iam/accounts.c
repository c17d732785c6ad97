/* accounts.c: creating, listing and deleting accounts in the identity database, keeping the
 * credential store in step (root keys in, every key of a deleted account out). */
#include "iam/accounts.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "iam/creds.h"
#include "iam/identity.h"
#include "proto/proto.h"

static bool all_digits(const char *s, size_t n)
{
    if (!s || strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static bool valid_key(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n < 4 || n > 128) return false;
    for (; *k; k++)
        if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
            return false;
    return true;
}

static json_t *account_doc(sqlite3_stmt *st)
{
    /* columns: id, name, email, created, root_key, alias */
    const char *id = nb_iq_text(st, 0);
    char canon[65], arn[64], iso[32];
    nb_canonical_user_id(id, canon);
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:root", id);
    nb_time_iso8601(sqlite3_column_double(st, 3), iso);
    const char *key = nb_iq_text(st, 4);
    if (!*key && !strcmp(id, nb_creds_root()->who.account)) key = nb_creds_root()->access_key;
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "AccountId", id, "Name", nb_iq_text(st, 1), "Email",
                          nb_iq_text(st, 2), "Arn", arn, "CanonicalUserId", canon, "CreatedAt", iso, "AccessKeyId", key);
    if (sqlite3_column_type(st, 5) != SQLITE_NULL) json_object_set_new(d, "Alias", json_string(nb_iq_text(st, 5)));
    return d;
}

/* ---- create ---- */

struct create_ctx {
    const nb_account_spec *s;
    char id[13];
    char key[129];
    char secret[129];
    int status;
    char *err;
    json_t *doc;
};

static int create_fn(sqlite3 *h, void *arg)
{
    struct create_ctx *x = arg;
    if (x->s->id) {
        snprintf(x->id, sizeof(x->id), "%s", x->s->id);
        if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM accounts WHERE id = ?", "s", x->id)) {
            x->status = 409;
            snprintf(x->err, 256, "account %s already exists", x->id);
            return SQLITE_CONSTRAINT;
        }
    } else {
        for (int tries = 0;; tries++) {
            unsigned char r[12];
            nb_random(r, sizeof(r));
            for (int i = 0; i < 12; i++) x->id[i] = (char)('0' + r[i] % 10);
            x->id[12] = 0;
            if (x->id[0] == '0') x->id[0] = '1'; /* keep clear of the default 000000000000 */
            if (!nb_iq_int(h, 0, "SELECT COUNT(*) FROM accounts WHERE id = ?", "s", x->id)) break;
            if (tries > 20) return SQLITE_FULL;
        }
    }
    char name[160];
    snprintf(name, sizeof(name), "%s", x->s->name ? x->s->name : "");
    if (!name[0]) snprintf(name, sizeof(name), "account-%s", x->id);
    int rc = nb_iq_exec(h, "INSERT INTO accounts(id, name, email, created, root_key, root_secret) VALUES(?, ?, ?, ?, ?, ?)",
                        "sssdss", x->id, name, x->s->email ? x->s->email : "", nb_clock_now_f(), x->key, x->secret);
    if (rc) return rc;
    sqlite3_stmt *st = nb_iq(h, "SELECT id, name, email, created, root_key, alias FROM accounts WHERE id = ?", "s", x->id);
    if (st && sqlite3_step(st) == SQLITE_ROW) x->doc = account_doc(st);
    if (st) sqlite3_reset(st);
    return x->doc ? SQLITE_OK : SQLITE_NOMEM;
}

json_t *nb_accounts_create(const nb_account_spec *s, int *status, char err[256])
{
    nb_db *db = nb_identity_db();
    if (!db) {
        *status = 503;
        snprintf(err, 256, "the IAM service is not running");
        return NULL;
    }
    *status = 400;
    if (s->id && !all_digits(s->id, 12)) {
        snprintf(err, 256, "the account id must be 12 digits");
        return NULL;
    }
    if (!s->access_key != !s->secret_key) {
        snprintf(err, 256, "give both the access key and the secret key, or neither");
        return NULL;
    }
    if (s->access_key && (!valid_key(s->access_key) || strlen(s->secret_key) < 4 || strlen(s->secret_key) > 128)) {
        snprintf(err, 256, "the access key must be 4 to 128 letters, digits or '_', the secret 4 to 128 characters");
        return NULL;
    }
    if ((s->name && strlen(s->name) > 128) || (s->email && strlen(s->email) > 256)) {
        snprintf(err, 256, "the name is limited to 128 characters, the email to 256");
        return NULL;
    }
    struct create_ctx x = {.s = s, .status = 500, .err = err};
    nb_cred existing;
    if (s->access_key) {
        if (nb_creds_lookup(s->access_key, &existing) == 0) {
            *status = 409;
            snprintf(err, 256, "the access key %s is already in use", s->access_key);
            return NULL;
        }
        snprintf(x.key, sizeof(x.key), "%s", s->access_key);
        snprintf(x.secret, sizeof(x.secret), "%s", s->secret_key);
    } else {
        nb_identity_new_key_id("AKIA", x.key);
        nb_identity_new_secret(x.secret);
    }
    snprintf(err, 256, "cannot store the account");
    if (nb_db_write(db, create_fn, &x) != SQLITE_OK) {
        *status = x.status;
        json_decref(x.doc);
        return NULL;
    }
    nb_cred c;
    memset(&c, 0, sizeof(c));
    snprintf(c.access_key, sizeof(c.access_key), "%s", x.key);
    snprintf(c.secret, sizeof(c.secret), "%s", x.secret);
    c.active = true;
    nb_principal_root(&c.who, x.id, x.key);
    nb_creds_put(&c);
    json_object_set_new(x.doc, "SecretAccessKey", json_string(x.secret));
    nb_info("accounts: created %s", x.id);
    *status = 200;
    err[0] = 0;
    return x.doc;
}

/* ---- list / get ---- */

struct list_ctx {
    const char *id; /* NULL: all */
    json_t *out;
};

static int list_fn(sqlite3 *h, void *arg)
{
    struct list_ctx *l = arg;
    sqlite3_stmt *st = l->id ? nb_iq(h, "SELECT id, name, email, created, root_key, alias FROM accounts WHERE id = ?", "s", l->id)
                             : nb_iq(h, "SELECT id, name, email, created, root_key, alias FROM accounts ORDER BY id", "");
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(l->out, account_doc(st));
    if (st) sqlite3_reset(st);
    return SQLITE_OK;
}

json_t *nb_accounts_list(int *status, char err[256])
{
    nb_db *db = nb_identity_db();
    if (!db) {
        *status = 503;
        snprintf(err, 256, "the IAM service is not running");
        return NULL;
    }
    struct list_ctx l = {.out = json_array()};
    if (nb_db_read(db, list_fn, &l) != SQLITE_OK) {
        json_decref(l.out);
        *status = 500;
        snprintf(err, 256, "cannot read the accounts");
        return NULL;
    }
    *status = 200;
    return json_pack("{s:o}", "Accounts", l.out);
}

json_t *nb_accounts_get(const char *id, int *status, char err[256])
{
    nb_db *db = nb_identity_db();
    if (!db) {
        *status = 503;
        snprintf(err, 256, "the IAM service is not running");
        return NULL;
    }
    struct list_ctx l = {.id = id, .out = json_array()};
    nb_db_read(db, list_fn, &l);
    json_t *d = json_array_get(l.out, 0);
    if (!d) {
        json_decref(l.out);
        *status = 404;
        snprintf(err, 256, "no account %s", id);
        return NULL;
    }
    json_incref(d);
    json_decref(l.out);
    *status = 200;
    return d;
}

/* ---- delete ---- */

struct delete_ctx {
    const char *id;
    bool found;
};

static int delete_fn(sqlite3 *h, void *arg)
{
    struct delete_ctx *x = arg;
    x->found = nb_iq_int(h, 0, "SELECT COUNT(*) FROM accounts WHERE id = ?", "s", x->id) > 0;
    if (!x->found) return SQLITE_NOTFOUND;
    static const char *const tables[] = {"users", "groups", "members", "roles", "policies", "policy_versions",
                                         "inline", "attached", "access_keys", "login_profiles", "instance_profiles",
                                         "profile_roles", "tags", "sessions", "reports"};
    for (size_t i = 0; i < NB_ARRAY_LEN(tables); i++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE account = ?", tables[i]);
        int rc = nb_iq_exec(h, sql, "s", x->id);
        if (rc) return rc;
    }
    return nb_iq_exec(h, "DELETE FROM accounts WHERE id = ?", "s", x->id);
}

static bool of_account(const nb_cred *c, void *arg) { return strcmp(c->who.account, (const char *)arg) == 0; }

int nb_accounts_delete(const char *id, int *status, char err[256])
{
    nb_db *db = nb_identity_db();
    if (!db) {
        *status = 503;
        snprintf(err, 256, "the IAM service is not running");
        return -1;
    }
    if (!all_digits(id, 12)) {
        *status = 400;
        snprintf(err, 256, "the account id must be 12 digits");
        return -1;
    }
    if (!strcmp(id, NB_DEFAULT_ACCOUNT) || !strcmp(id, nb_creds_root()->who.account)) {
        *status = 400;
        snprintf(err, 256, "the default account %s cannot be deleted", id);
        return -1;
    }
    struct delete_ctx x = {.id = id};
    int rc = nb_db_write(db, delete_fn, &x);
    if (!x.found) {
        *status = 404;
        snprintf(err, 256, "no account %s", id);
        return -1;
    }
    if (rc != SQLITE_OK) {
        *status = 500;
        snprintf(err, 256, "cannot delete the account");
        return -1;
    }
    /* Every key of the account stops working at once; cached policy sets go stale. */
    nb_creds_remove_where(of_account, (void *)id);
    nb_identity_changed();
    nb_info("accounts: deleted %s", id);
    *status = 200;
    return 0;
}

/* ---- the command line ---- */

int nb_accounts_cli(int argc, char **argv, nb_admin_call_fn call)
{
    const char *sub = argc > 0 ? argv[0] : "list";
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0;
    if (!rest) return 1;
    json_t *body = json_object();
    const char *target = NULL;
    static const char *const flags[][2] = {{"--id", "AccountId"}, {"--name", "Name"}, {"--email", "Email"},
                                           {"--access-key", "AccessKeyId"}, {"--secret-key", "SecretAccessKey"}};
    for (int i = argc > 0 ? 1 : 0; i < argc; i++) {
        bool mine = false;
        for (size_t f = 0; f < NB_ARRAY_LEN(flags); f++) {
            size_t fl = strlen(flags[f][0]);
            if (!strcmp(argv[i], flags[f][0]) && i + 1 < argc) {
                json_object_set_new(body, flags[f][1], json_string(argv[++i]));
                mine = true;
            } else if (!strncmp(argv[i], flags[f][0], fl) && argv[i][fl] == '=') {
                json_object_set_new(body, flags[f][1], json_string(argv[i] + fl + 1));
                mine = true;
            }
        }
        if (mine) continue;
        if (argv[i][0] != '-' && !target && (!strcmp(sub, "delete") || !strcmp(sub, "show")))
            target = argv[i];
        else
            rest[nrest++] = argv[i];
    }
    int rc;
    char path[128];
    if (!strcmp(sub, "list")) {
        rc = call(nrest, rest, "GET", "/_nimbus/accounts", NULL);
    } else if (!strcmp(sub, "create")) {
        char *s = json_dumps(body, JSON_COMPACT);
        rc = call(nrest, rest, "POST", "/_nimbus/accounts", s);
        free(s);
    } else if ((!strcmp(sub, "delete") || !strcmp(sub, "show")) && target) {
        snprintf(path, sizeof(path), "/_nimbus/accounts/%s", target);
        rc = call(nrest, rest, !strcmp(sub, "delete") ? "DELETE" : "GET", path, NULL);
    } else {
        fprintf(stderr, "usage: nimbus accounts list\n"
                        "       nimbus accounts create [--id <12 digits>] [--name N] [--email E] "
                        "[--access-key K --secret-key S]\n"
                        "       nimbus accounts show <id>\n"
                        "       nimbus accounts delete <id>\n");
        rc = 2;
    }
    json_decref(body);
    free(rest);
    return rc;
}
