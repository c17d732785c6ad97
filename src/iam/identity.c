/* identity.c: the identity database (schema, start-up restore into the credential store,
 * reset), the change generation, and AWS-shaped ids and keys. */
#include "iam/identity.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/clock.h"
#include "iam/creds.h"
#include "iam/lastaccess.h"
#include "iam/managed.h"

/* Names are compared case-insensitively, as IAM does ("Bob" and "bob" are the same user).
 * Times are region-clock epoch seconds (REAL). Documents are stored as sent (AWS returns
 * them verbatim, URL-encoded). kind columns: 'user', 'group', 'role', 'policy',
 * 'instance-profile'. */
static const char *const migrations[] = {
    "CREATE TABLE accounts(id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL DEFAULT '',"
    "  created REAL NOT NULL, root_key TEXT, root_secret TEXT, alias TEXT, password_policy TEXT);"
    "CREATE TABLE users(account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL,"
    "  path TEXT NOT NULL, created REAL NOT NULL, boundary TEXT, password_last_used REAL,"
    "  PRIMARY KEY(account, name));"
    "CREATE UNIQUE INDEX users_id ON users(id);"
    "CREATE TABLE groups(account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL,"
    "  path TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY(account, name));"
    "CREATE TABLE members(account TEXT NOT NULL, grp TEXT NOT NULL COLLATE NOCASE,"
    "  user TEXT NOT NULL COLLATE NOCASE, PRIMARY KEY(account, grp, user));"
    "CREATE INDEX members_user ON members(account, user);"
    "CREATE TABLE roles(account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL,"
    "  path TEXT NOT NULL, created REAL NOT NULL, trust TEXT NOT NULL, description TEXT,"
    "  max_session INTEGER NOT NULL DEFAULT 3600, boundary TEXT, last_used REAL, last_region TEXT,"
    "  PRIMARY KEY(account, name));"
    "CREATE TABLE policies(account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL,"
    "  path TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL, default_version TEXT NOT NULL,"
    "  description TEXT, next_version INTEGER NOT NULL, PRIMARY KEY(account, name));"
    "CREATE TABLE policy_versions(account TEXT NOT NULL, policy TEXT NOT NULL COLLATE NOCASE,"
    "  version TEXT NOT NULL, doc TEXT NOT NULL, created REAL NOT NULL,"
    "  PRIMARY KEY(account, policy, version));"
    "CREATE TABLE inline(account TEXT NOT NULL, kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE,"
    "  name TEXT NOT NULL COLLATE NOCASE, doc TEXT NOT NULL, PRIMARY KEY(account, kind, owner, name));"
    "CREATE TABLE attached(account TEXT NOT NULL, kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE,"
    "  arn TEXT NOT NULL, PRIMARY KEY(account, kind, owner, arn));"
    "CREATE INDEX attached_arn ON attached(arn);"
    "CREATE TABLE access_keys(id TEXT PRIMARY KEY, secret TEXT NOT NULL, account TEXT NOT NULL,"
    "  user TEXT NOT NULL COLLATE NOCASE, status TEXT NOT NULL, created REAL NOT NULL,"
    "  last_used REAL, last_service TEXT, last_region TEXT);"
    "CREATE INDEX access_keys_user ON access_keys(account, user);"
    "CREATE TABLE login_profiles(account TEXT NOT NULL, user TEXT NOT NULL COLLATE NOCASE,"
    "  hash TEXT NOT NULL, created REAL NOT NULL, reset_required INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(account, user));"
    "CREATE TABLE instance_profiles(account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE,"
    "  id TEXT NOT NULL, path TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY(account, name));"
    "CREATE TABLE profile_roles(account TEXT NOT NULL, profile TEXT NOT NULL COLLATE NOCASE,"
    "  role TEXT NOT NULL COLLATE NOCASE, PRIMARY KEY(account, profile, role));"
    "CREATE TABLE tags(account TEXT NOT NULL, kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE,"
    "  key TEXT NOT NULL COLLATE NOCASE, value TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(account, kind, owner, key));"
    /* STS sessions: kind 'role' (AssumeRole), 'user'/'root' (GetSessionToken), 'federated'. */
    "CREATE TABLE sessions(id TEXT PRIMARY KEY, secret TEXT NOT NULL, token TEXT NOT NULL,"
    "  account TEXT NOT NULL, kind TEXT NOT NULL, arn TEXT NOT NULL, user_id TEXT NOT NULL,"
    "  name TEXT NOT NULL, role_arn TEXT, role_name TEXT, source_user TEXT, policy TEXT,"
    "  policy_arns TEXT, tags TEXT, transitive TEXT, source_identity TEXT,"
    "  chained INTEGER NOT NULL DEFAULT 0, issued REAL NOT NULL, expires REAL NOT NULL);"
    "CREATE INDEX sessions_account ON sessions(account);"
    "CREATE TABLE reports(account TEXT PRIMARY KEY, generated REAL NOT NULL, content TEXT NOT NULL);",
    /* The smaller entities, each a JSON document of what AWS returns about it: kind 'oidc'
     * (name = URL without https://), 'saml', 'server-certificate', 'mfa' (name = serial number,
     * owner = the user it is enabled for), 'ssh' and 'signing-certificate' (name = id, owner =
     * user), 'slr-deletion' (service-linked role deletion tasks). */
    "CREATE TABLE objects(account TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE,"
    "  owner TEXT COLLATE NOCASE, path TEXT NOT NULL DEFAULT '/', id TEXT, created REAL NOT NULL,"
    "  doc TEXT NOT NULL, PRIMARY KEY(account, kind, name));"
    "CREATE INDEX objects_owner ON objects(account, kind, owner);",
    /* STS sessions obtained with an MFA code (aws:MultiFactorAuthPresent). */
    "ALTER TABLE sessions ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;",
    /* Condition keys a session carries into every request (AssumeRoleWithSAML's saml:*), as a
     * JSON object of key -> value. */
    "ALTER TABLE sessions ADD COLUMN context TEXT;",
};

static nb_db *db;
static _Atomic uint64_t generation = 1;

nb_db *nb_identity_db(void) { return db; }
uint64_t nb_identity_generation(void) { return atomic_load(&generation); }
void nb_identity_changed(void) { atomic_fetch_add(&generation, 1); }

/* ---- ids ---- */

static void random_chars(char *out, size_t n, const char *alphabet)
{
    size_t alen = strlen(alphabet);
    unsigned char r[128];
    while (n) {
        size_t take = n < sizeof(r) ? n : sizeof(r);
        nb_random(r, take);
        for (size_t i = 0; i < take; i++) *out++ = alphabet[r[i] % alen];
        n -= take;
    }
}

#define BASE32 "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" /* 32 divides 256: no modulo bias */

void nb_identity_new_id(const char *prefix, char out[22])
{
    size_t pl = strlen(prefix);
    memcpy(out, prefix, pl);
    random_chars(out + pl, 21 - pl, BASE32);
    out[21] = 0;
}

void nb_identity_new_key_id(const char *prefix, char out[21])
{
    size_t pl = strlen(prefix);
    memcpy(out, prefix, pl);
    random_chars(out + pl, 20 - pl, BASE32);
    out[20] = 0;
}

void nb_identity_new_secret(char out[41])
{
    random_chars(out, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    out[40] = 0;
}

int nb_identity_totp(const char *seed, int64_t step)
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    unsigned char key[64], msg[8], md[EVP_MAX_MD_SIZE];
    size_t klen = 0;
    unsigned acc = 0, bits = 0, mdlen = 0;
    for (; seed && *seed && *seed != '='; seed++) {
        const char *p = strchr(b32, *seed);
        if (!p || klen == sizeof(key)) return -1;
        acc = (acc << 5) | (unsigned)(p - b32);
        bits += 5;
        if (bits >= 8) {
            key[klen++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    if (!klen) return -1;
    for (int i = 7; i >= 0; i--, step >>= 8) msg[i] = (unsigned char)(step & 0xff);
    if (!HMAC(EVP_sha1(), key, (int)klen, msg, sizeof(msg), md, &mdlen) || mdlen < 20) return -1;
    unsigned off = md[19] & 0x0f;
    unsigned v = ((md[off] & 0x7fu) << 24) | ((unsigned)md[off + 1] << 16) | ((unsigned)md[off + 2] << 8) | md[off + 3];
    return (int)(v % 1000000);
}

bool nb_identity_mfa_code_ok(sqlite3 *h, const char *account, const char *user, const char *serial,
                             const char *code)
{
    if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6) return false;
    sqlite3_stmt *st = nb_iq(h, "SELECT json_extract(doc, '$.Seed') FROM objects WHERE account = ? AND kind = 'mfa' "
                                "AND name = ? AND owner = ?",
                             "sss", account, serial, user);
    char seed[80] = "";
    if (st && sqlite3_step(st) == SQLITE_ROW) snprintf(seed, sizeof(seed), "%s", nb_iq_text(st, 0));
    if (st) sqlite3_reset(st);
    if (!seed[0]) return false;
    int want = atoi(code);
    /* The authenticator reads the host clock; the region clock may have been moved. */
    int64_t nows[2] = {(int64_t)nb_clock_now_f() / 30, (int64_t)time(NULL) / 30};
    for (int k = 0; k < 2; k++)
        for (int64_t s = nows[k] - 1; s <= nows[k] + 1; s++)
            if (nb_identity_totp(seed, s) == want) return true;
    return false;
}

void nb_identity_new_token(char *out, size_t n)
{
    /* AWS tokens are long base64 blobs starting with a version marker; ours are random. */
    static const char head[] = "IQoJb3JpZ2luX2VjE";
    size_t len = 356;
    if (len + 1 > n) len = n - 1;
    size_t hl = sizeof(head) - 1 < len ? sizeof(head) - 1 : len;
    memcpy(out, head, hl);
    random_chars(out + hl, len - hl,
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    out[len] = 0;
}

/* ---- SQL helpers ---- */

static void bind_all(sqlite3_stmt *st, const char *fmt, va_list ap)
{
    for (int i = 1; fmt && *fmt; fmt++, i++) {
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s)
                sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, i);
            break;
        }
        case 'i':
            sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'd':
            sqlite3_bind_double(st, i, va_arg(ap, double));
            break;
        default:
            NB_ASSERT(!"bad bind format");
        }
    }
}

sqlite3_stmt *nb_iq(sqlite3 *h, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return NULL;
    va_list ap;
    va_start(ap, fmt);
    bind_all(st, fmt, ap);
    va_end(ap);
    return st;
}

int nb_iq_exec(sqlite3 *h, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return SQLITE_ERROR;
    va_list ap;
    va_start(ap, fmt);
    bind_all(st, fmt, ap);
    va_end(ap);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int64_t nb_iq_int(sqlite3 *h, int64_t def, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = nb_db_stmt(h, sql);
    if (!st) return def;
    va_list ap;
    va_start(ap, fmt);
    bind_all(st, fmt, ap);
    va_end(ap);
    int64_t v = def;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

const char *nb_iq_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* ---- start-up ---- */

static int seed_default(sqlite3 *h, void *arg)
{
    (void)arg;
    return nb_iq_exec(h,
                      "INSERT OR IGNORE INTO accounts(id, name, email, created) VALUES(?, ?, '', ?)",
                      "ssd", NB_DEFAULT_ACCOUNT, "default", (double)nb_clock_now_f());
}

static void fill_user_principal(nb_principal *p, const char *account, const char *path,
                                const char *name, const char *id, const char *key)
{
    memset(p, 0, sizeof(*p));
    p->type = NB_PRINCIPAL_USER;
    snprintf(p->account, sizeof(p->account), "%s", account);
    snprintf(p->arn, sizeof(p->arn), "arn:aws:iam::%s:user%s%s", account, path, name);
    snprintf(p->user_id, sizeof(p->user_id), "%s", id);
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->access_key, sizeof(p->access_key), "%s", key);
}

/* Register every stored key in the credential store. */
static int restore(sqlite3 *h, void *arg)
{
    (void)arg;
    size_t n = 0;
    sqlite3_stmt *st = nb_iq(h, "SELECT id, root_key, root_secret FROM accounts WHERE root_key IS NOT NULL", "");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        nb_cred c;
        memset(&c, 0, sizeof(c));
        snprintf(c.access_key, sizeof(c.access_key), "%s", nb_iq_text(st, 1));
        snprintf(c.secret, sizeof(c.secret), "%s", nb_iq_text(st, 2));
        c.active = true;
        nb_principal_root(&c.who, nb_iq_text(st, 0), c.access_key);
        nb_creds_put(&c);
        n++;
    }
    if (st) sqlite3_reset(st);
    st = nb_iq(h,
               "SELECT k.id, k.secret, k.account, k.status, u.name, u.path, u.id FROM access_keys k "
               "JOIN users u ON u.account = k.account AND u.name = k.user",
               "");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        nb_cred c;
        memset(&c, 0, sizeof(c));
        snprintf(c.access_key, sizeof(c.access_key), "%s", nb_iq_text(st, 0));
        snprintf(c.secret, sizeof(c.secret), "%s", nb_iq_text(st, 1));
        c.active = strcmp(nb_iq_text(st, 3), "Active") == 0;
        fill_user_principal(&c.who, nb_iq_text(st, 2), nb_iq_text(st, 5), nb_iq_text(st, 4),
                            nb_iq_text(st, 6), c.access_key);
        nb_creds_put(&c);
        n++;
    }
    if (st) sqlite3_reset(st);
    /* Sessions expired more than a day ago are dropped; younger ones stay so that their
     * callers get ExpiredToken rather than an unknown key. */
    double now = nb_clock_now_f();
    nb_iq_exec(h, "DELETE FROM sessions WHERE expires < ?", "d", now - 86400);
    st = nb_iq(h,
               "SELECT id, secret, token, account, kind, arn, user_id, name, expires, mfa FROM sessions",
               "");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        nb_cred c;
        memset(&c, 0, sizeof(c));
        snprintf(c.access_key, sizeof(c.access_key), "%s", nb_iq_text(st, 0));
        snprintf(c.secret, sizeof(c.secret), "%s", nb_iq_text(st, 1));
        snprintf(c.session_token, sizeof(c.session_token), "%s", nb_iq_text(st, 2));
        c.expires = sqlite3_column_int64(st, 8);
        c.active = true;
        nb_identity_session_principal(&c.who, nb_iq_text(st, 4), nb_iq_text(st, 3),
                                      nb_iq_text(st, 5), nb_iq_text(st, 6), nb_iq_text(st, 7),
                                      c.access_key);
        c.who.mfa = sqlite3_column_int(st, 9) != 0;
        nb_creds_put(&c);
        n++;
    }
    if (st) sqlite3_reset(st);
    nb_debug("iam: %zu stored credentials registered", n);
    return SQLITE_OK;
}

void nb_identity_session_principal(nb_principal *p, const char *kind, const char *account,
                                   const char *arn, const char *user_id, const char *name,
                                   const char *key)
{
    memset(p, 0, sizeof(*p));
    if (!strcmp(kind, "role"))
        p->type = NB_PRINCIPAL_ASSUMED_ROLE;
    else if (!strcmp(kind, "federated"))
        p->type = NB_PRINCIPAL_FEDERATED;
    else if (!strcmp(kind, "root"))
        p->type = NB_PRINCIPAL_ROOT;
    else
        p->type = NB_PRINCIPAL_USER;
    snprintf(p->account, sizeof(p->account), "%s", account);
    snprintf(p->arn, sizeof(p->arn), "%s", arn);
    snprintf(p->user_id, sizeof(p->user_id), "%s", user_id);
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->access_key, sizeof(p->access_key), "%s", key);
    p->temporary = true;
}

void nb_identity_user_principal(nb_principal *p, const char *account, const char *path,
                                const char *name, const char *id, const char *key)
{
    fill_user_principal(p, account, path, name, id, key);
}

int nb_identity_open(const char *dir, char **err)
{
    if (db) return 0;
    char path[1200];
    snprintf(path, sizeof(path), "%s/iam.db", dir);
    db = nb_db_open(path, migrations, NB_ARRAY_LEN(migrations), err);
    if (!db) return -1;
    if (nb_db_write(db, seed_default, NULL) != SQLITE_OK || nb_db_read(db, restore, NULL) != SQLITE_OK) {
        *err = strdup("cannot read the identity database");
        nb_db_close(db);
        db = NULL;
        return -1;
    }
    nb_identity_changed();
    return 0;
}

void nb_identity_close(void)
{
    if (db) nb_db_close(db);
    db = NULL;
}

/* Keys registered from the database: everything but the start-up root of creds.c. */
static bool stored_key(const nb_cred *c, void *arg)
{
    (void)arg;
    const nb_cred *root = nb_creds_root();
    return strcmp(c->access_key, root->access_key) != 0;
}

int nb_identity_reset(void)
{
    if (!db) return 0;
    nb_creds_remove_where(stored_key, NULL);
    nb_last_access_clear();
    int rc = nb_db_wipe(db);
    if (rc == SQLITE_OK) rc = nb_db_write(db, seed_default, NULL);
    nb_identity_changed();
    return rc == SQLITE_OK ? 0 : -1;
}

/* ---- documents that apply to an entity ---- */

char *nb_identity_policy_doc(sqlite3 *h, const char *arn)
{
    const nb_managed_policy *m = nb_managed_by_arn(arn);
    if (m) return strdup(m->document);
    /* arn:aws:iam::<account>:policy/<path...>/<name> */
    if (strncmp(arn, "arn:aws:iam::", 13) != 0 || strlen(arn) < 13 + 12 + 8) return NULL;
    char account[13];
    memcpy(account, arn + 13, 12);
    account[12] = 0;
    if (strncmp(arn + 25, ":policy/", 8) != 0) return NULL;
    const char *name = strrchr(arn, '/') + 1;
    sqlite3_stmt *st = nb_iq(h,
                             "SELECT v.doc FROM policies p JOIN policy_versions v ON v.account = "
                             "p.account AND v.policy = p.name AND v.version = p.default_version "
                             "WHERE p.account = ? AND p.name = ?",
                             "ss", account, name);
    char *doc = NULL;
    if (st && sqlite3_step(st) == SQLITE_ROW) doc = strdup(nb_iq_text(st, 0));
    if (st) sqlite3_reset(st);
    return doc;
}

/* Appends documents to docs and, when sources is not NULL, {"id", "type"} describing each
 * (SimulatePrincipalPolicy's MatchedStatements: type user/group/role, aws-managed, user-managed). */
static void add_inline_and_attached(sqlite3 *h, json_t *docs, json_t *sources, const char *account,
                                    const char *kind, const char *owner)
{
    sqlite3_stmt *st = nb_iq(h, "SELECT doc, name FROM inline WHERE account = ? AND kind = ? AND owner = ? ORDER BY name",
                             "sss", account, kind, owner);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        json_array_append_new(docs, json_string(nb_iq_text(st, 0)));
        if (sources) json_array_append_new(sources, json_pack("{s:s, s:s}", "id", nb_iq_text(st, 1), "type", kind));
    }
    if (st) sqlite3_reset(st);
    json_t *arns = json_array();
    st = nb_iq(h, "SELECT arn FROM attached WHERE account = ? AND kind = ? AND owner = ? ORDER BY arn",
               "sss", account, kind, owner);
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(arns, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    size_t i;
    json_t *a;
    json_array_foreach(arns, i, a)
    {
        const char *arn = json_string_value(a);
        char *doc = nb_identity_policy_doc(h, arn);
        if (doc) {
            json_array_append_new(docs, json_string(doc));
            if (sources)
                json_array_append_new(sources, json_pack("{s:s, s:s}", "id", strrchr(arn, '/') + 1, "type",
                                                         nb_managed_by_arn(arn) ? "aws-managed" : "user-managed"));
        }
        free(doc);
    }
    json_decref(arns);
}

json_t *nb_identity_tags(sqlite3 *h, const char *account, const char *kind, const char *owner)
{
    json_t *tags = json_object();
    sqlite3_stmt *st = nb_iq(h, "SELECT key, value FROM tags WHERE account = ? AND kind = ? AND owner = ? ORDER BY seq, key",
                             "sss", account, kind, owner);
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_object_set_new(tags, nb_iq_text(st, 0), json_string(nb_iq_text(st, 1)));
    if (st) sqlite3_reset(st);
    return tags;
}

json_t *nb_identity_entity_docs(sqlite3 *h, const char *account, const char *kind, const char *name)
{
    const char *sql = !strcmp(kind, "user")   ? "SELECT name, path, id, boundary FROM users WHERE account = ? AND name = ?"
                      : !strcmp(kind, "role") ? "SELECT name, path, id, boundary FROM roles WHERE account = ? AND name = ?"
                                              : "SELECT name, path, id, NULL FROM groups WHERE account = ? AND name = ?";
    sqlite3_stmt *st = nb_iq(h, sql, "ss", account, name);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return NULL;
    }
    json_t *out = json_pack("{s:s, s:s, s:s, s:s}", "name", nb_iq_text(st, 0), "path",
                            nb_iq_text(st, 1), "id", nb_iq_text(st, 2), "account", account);
    char *boundary = sqlite3_column_type(st, 3) != SQLITE_NULL ? strdup(nb_iq_text(st, 3)) : NULL;
    char canon[128];
    snprintf(canon, sizeof(canon), "%s", nb_iq_text(st, 0));
    sqlite3_reset(st);
    json_t *docs = json_array(), *sources = json_array();
    add_inline_and_attached(h, docs, sources, account, kind, canon);
    if (!strcmp(kind, "user")) {
        json_t *groups = json_array();
        st = nb_iq(h, "SELECT grp FROM members WHERE account = ? AND user = ? ORDER BY grp", "ss", account, canon);
        while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(groups, json_string(nb_iq_text(st, 0)));
        if (st) sqlite3_reset(st);
        size_t i;
        json_t *g;
        json_array_foreach(groups, i, g) add_inline_and_attached(h, docs, sources, account, "group", json_string_value(g));
        json_object_set_new(out, "groups", groups);
    }
    json_object_set_new(out, "identity", docs);
    json_object_set_new(out, "sources", sources);
    if (boundary) {
        char *doc = nb_identity_policy_doc(h, boundary);
        json_object_set_new(out, "boundary_arn", json_string(boundary));
        /* A boundary whose policy vanished allows nothing (AWS refuses to delete a policy used
         * as a boundary; this only guards against inconsistency). */
        json_object_set_new(out, "boundary", json_string(doc ? doc : "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]}"));
        free(doc);
        free(boundary);
    }
    if (strcmp(kind, "group") != 0) json_object_set_new(out, "tags", nb_identity_tags(h, account, kind, canon));
    return out;
}

struct path_q {
    const char *account, *kind, *name;
    char *out;
    bool found;
};

static int path_fn(sqlite3 *h, void *arg)
{
    struct path_q *q = arg;
    const char *sql = NULL;
    if (!strcmp(q->kind, "user"))
        sql = "SELECT path FROM users WHERE account = ? AND name = ?";
    else if (!strcmp(q->kind, "group"))
        sql = "SELECT path FROM groups WHERE account = ? AND name = ?";
    else if (!strcmp(q->kind, "role"))
        sql = "SELECT path FROM roles WHERE account = ? AND name = ?";
    else if (!strcmp(q->kind, "instance-profile"))
        sql = "SELECT path FROM instance_profiles WHERE account = ? AND name = ?";
    else if (!strcmp(q->kind, "server-certificate"))
        sql = "SELECT path FROM objects WHERE account = ? AND kind = 'server-certificate' AND name = ?";
    if (!sql) return SQLITE_OK;
    sqlite3_stmt *st = nb_iq(h, sql, "ss", q->account, q->name);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(q->out, 513, "%s", nb_iq_text(st, 0));
        q->found = q->out[0] == '/';
    }
    if (st) sqlite3_reset(st);
    return SQLITE_OK;
}

bool nb_identity_entity_path(const char *account, const char *kind, const char *name, char out[513])
{
    struct path_q q = {account, kind, name, out, false};
    if (!db || !account || !name || !*name) return false;
    nb_db_read(db, path_fn, &q);
    return q.found;
}

/* ---- access key last use ---- */

struct key_use {
    char key[24];
    char svc[32];
    char region[32];
    double when;
};
#define USE_SLOTS 4096 /* direct-mapped: a collision forgets an older key's last use */
static struct key_use uses[USE_SLOTS];
static pthread_mutex_t uses_mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned key_slot(const char *key)
{
    unsigned h = 2166136261u;
    for (; *key; key++) h = (h ^ (unsigned char)*key) * 16777619u;
    return h % USE_SLOTS;
}

void nb_identity_key_used(const char *key, const char *service, const char *region)
{
    if (strlen(key) >= sizeof(uses[0].key)) return;
    struct key_use *u = &uses[key_slot(key)];
    pthread_mutex_lock(&uses_mu);
    snprintf(u->key, sizeof(u->key), "%s", key);
    snprintf(u->svc, sizeof(u->svc), "%s", service ? service : "N/A");
    snprintf(u->region, sizeof(u->region), "%s", region ? region : "N/A");
    u->when = nb_clock_now_f();
    pthread_mutex_unlock(&uses_mu);
}

int nb_identity_key_last_used(const char *key, double *when, char *svc, char *region)
{
    int rc = -1;
    struct key_use *u = &uses[key_slot(key)];
    pthread_mutex_lock(&uses_mu);
    if (strcmp(u->key, key) == 0) {
        *when = u->when;
        snprintf(svc, 64, "%s", u->svc);
        snprintf(region, 64, "%s", u->region);
        rc = 0;
    }
    pthread_mutex_unlock(&uses_mu);
    return rc;
}
