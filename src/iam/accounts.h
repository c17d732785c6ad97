/* accounts.h: accounts of the region: each has a 12-digit id, a root user
 * (arn:aws:iam::<id>:root) with its own access key, and an S3 canonical user id. Accounts are
 * isolated: IAM entities, keys and sessions belong to one account. Used by the admin API
 * (/_nimbus/accounts) and the `nimbus accounts` command. The default account 000000000000
 * always exists (its root key is the one of creds.c) and cannot be deleted. */
#ifndef NB_IAM_ACCOUNTS_H
#define NB_IAM_ACCOUNTS_H

#include <jansson.h>

typedef struct nb_account_spec {
    const char *id;         /* 12 digits, or NULL to generate */
    const char *name;       /* NULL = "account-<id>" */
    const char *email;      /* may be NULL */
    const char *access_key; /* root key pair, both or neither; NULL = generate */
    const char *secret_key;
} nb_account_spec;

/* Errors: *status gets the HTTP status (400 bad input, 404 no such account, 409 exists,
 * 503 IAM not started) and err a message. */

/* Create an account. Returns its document (new reference) including the root secret, or NULL. */
json_t *nb_accounts_create(const nb_account_spec *s, int *status, char err[256]);
/* {"Accounts": [...]} without secrets, or NULL. */
json_t *nb_accounts_list(int *status, char err[256]);
json_t *nb_accounts_get(const char *id, int *status, char err[256]);
/* Delete an account and everything in it (users, roles, keys, sessions ...). 0 or -1. */
int nb_accounts_delete(const char *id, int *status, char err[256]);

/* `nimbus accounts create|list|delete ...`: parses its own flags and talks to a running server
 * through call (main.c's admin client, which reads --host/--port from the remaining args). */
typedef int (*nb_admin_call_fn)(int argc, char **argv, const char *method, const char *path,
                                const char *body);
int nb_accounts_cli(int argc, char **argv, nb_admin_call_fn call);

/* The /_nimbus/accounts admin API (src/admin/accounts.c), routed by admin.c. */
struct nb_req;
void nb_admin_accounts(struct nb_req *r);

#endif
