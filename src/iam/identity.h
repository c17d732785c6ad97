/* identity.h: the identity state shared by the IAM and STS services, the accounts admin API
 * and authorization: one SQLite database (<data-dir>/iam/iam.db) holding accounts, users,
 * groups, roles, policies, access keys and STS sessions; AWS-shaped id and key generation;
 * and a generation counter that every committed IAM write bumps, so caches of compiled
 * policies (authz.c) notice changes on the next request.
 *
 * The database is the truth; the credential store (creds.h) is an index of it for the
 * signature check, refilled from it at start-up (nb_identity_open). */
#ifndef NB_IAM_IDENTITY_H
#define NB_IAM_IDENTITY_H

#include <jansson.h>
#include <sqlite3.h>

#include "core/nb.h"
#include "store/db.h"
#include "svc/service.h"

/* Open (creating) <dir>/iam.db, apply the schema, make sure the default account exists and
 * register every stored key (account roots, IAM users' access keys, unexpired STS sessions)
 * in the credential store. Called by the IAM service's init; idempotent. */
int nb_identity_open(const char *dir, char **err);
void nb_identity_close(void);
/* The database, or NULL when the IAM service has not started (then IAM, STS sessions and
 * accounts are unavailable and only the roots of creds.c exist). */
nb_db *nb_identity_db(void);
/* Drop every identity except the default account (POST /_nimbus/reset): rows are wiped and
 * the keys they registered are removed from the credential store. */
int nb_identity_reset(void);

/* ---- change tracking ---- */
uint64_t nb_identity_generation(void);
void nb_identity_changed(void); /* call after a committed write that changes permissions */

/* ---- ids and keys, shaped like AWS's ---- */
/* Unique ids: prefix ("AIDA" user, "AGPA" group, "AROA" role, "ANPA" policy, "AIPA" instance
 * profile) + 17 characters of [A-Z2-7]: 21 chars + NUL. */
void nb_identity_new_id(const char *prefix, char out[22]);
/* Access key ids: "AKIA" (long-term) or "ASIA" (STS) + 16 chars: 20 chars + NUL. */
void nb_identity_new_key_id(const char *prefix, char out[21]);
void nb_identity_new_secret(char out[41]); /* 40 chars of base64 alphabet + NUL */
/* RFC 6238 TOTP of a base32 seed (HMAC-SHA1, 30 s steps, 6 digits) for step; -1 on a bad seed. */
int nb_identity_totp(const char *seed_b32, int64_t step);
/* Is code the current one-time code (give or take one step) of the virtual MFA device serial
 * enabled for user? */
bool nb_identity_mfa_code_ok(sqlite3 *h, const char *account, const char *user, const char *serial,
                             const char *code);
/* An opaque session token of about 360 characters (fits nb_cred.session_token). */
void nb_identity_new_token(char *out, size_t n);

/* ---- small SQLite helpers shared by the IAM, STS and accounts code ----
 * fmt gives the types of the varargs to bind, one char each: 's' const char * (NULL binds
 * NULL), 'i' int64_t, 'd' double. The statement comes from nb_db_stmt's cache. */
sqlite3_stmt *nb_iq(sqlite3 *h, const char *sql, const char *fmt, ...);
/* Run to completion; SQLITE_OK or the error. */
int nb_iq_exec(sqlite3 *h, const char *sql, const char *fmt, ...);
/* First column of the first row as an integer, def when no row. */
int64_t nb_iq_int(sqlite3 *h, int64_t def, const char *sql, const char *fmt, ...);
/* Column i of the current row as text, "" for NULL (valid until the next step). */
const char *nb_iq_text(sqlite3_stmt *st, int i);

/* ---- documents ---- */
/* Default-version document of a managed policy (AWS's or the account's), malloc'd; NULL if
 * no such policy. */
char *nb_identity_policy_doc(sqlite3 *h, const char *arn);
/* Tags of an entity as an object key -> value (new reference). */
json_t *nb_identity_tags(sqlite3 *h, const char *account, const char *kind, const char *owner);
/* What applies to a user, role or group (kind "user", "role", "group") of account, by name:
 * {"name", "path", "id", "account", "identity": [documents: inline, attached, and for users
 * their groups' inline and attached], "boundary": document (if set), "boundary_arn",
 * "sources": [{"id": policy name, "type": user|group|role|aws-managed|user-managed}, one per
 * identity document], "tags": {k: v} (users, roles), "groups": [names] (users)}. New reference; NULL when the
 * entity does not exist. */
json_t *nb_identity_entity_docs(sqlite3 *h, const char *account, const char *kind, const char *name);

/* The path ("/" or "/a/b/") of an IAM entity by name (kind "user", "group", "role",
 * "instance-profile", "server-certificate"), for the resource ARNs of authorization: false
 * when there is no such entity (or no database). */
bool nb_identity_entity_path(const char *account, const char *kind, const char *name, char out[513]);

/* ---- access key last use (kept in memory: one hash update per request, no write) ---- */
void nb_identity_key_used(const char *key, const char *service, const char *region);
/* 0 and the last use of key, or -1 if never used since start. svc/region hold 64 bytes. */
int nb_identity_key_last_used(const char *key, double *when, char *svc, char *region);

/* ---- principals as the dispatcher sees them ---- */
/* An IAM user signing with a long-term key. path is "/" or "/a/b/". */
void nb_identity_user_principal(nb_principal *p, const char *account, const char *path,
                                const char *name, const char *id, const char *key);
/* An STS session of kind "role", "user", "root" or "federated" (sessions.kind). */
void nb_identity_session_principal(nb_principal *p, const char *kind, const char *account,
                                   const char *arn, const char *user_id, const char *name,
                                   const char *key);

#endif
