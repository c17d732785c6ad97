/* creds.h: who owns an access key. The credential store every request's signature is checked
 * against: account root keys (the well-known test/test root of account 000000000000 when the
 * server is bound to loopback; generated root keys otherwise), and, as the IAM service grows,
 * IAM users' access keys and STS temporary credentials registered through nb_creds_put(). */
#ifndef NB_IAM_CREDS_H
#define NB_IAM_CREDS_H

#include "core/nb.h"
#include "svc/service.h"

#define NB_DEFAULT_ACCOUNT "000000000000"

typedef struct nb_cred {
    char access_key[129];
    char secret[129];
    char session_token[2048]; /* "" unless temporary */
    int64_t expires;          /* region-clock seconds; 0 = never */
    bool active;
    nb_principal who;
} nb_cred;

/* Load or create the root credentials under <data_dir>/iam. When loopback is true the
 * well-known test/test pair is the root of account 000000000000; otherwise root keys are
 * generated at first start, stored mode 0600 in <data_dir>/iam/root-credentials and
 * *generated_out is set so the caller prints them once. */
int nb_creds_init(const char *data_dir, bool loopback, bool *generated_out, char **err);
/* Look up a key. Returns 0 and fills *out, or -1 when unknown. Thread-safe. */
int nb_creds_lookup(const char *access_key, nb_cred *out);
/* Register or replace a credential (IAM access keys, STS sessions). Thread-safe. */
int nb_creds_put(const nb_cred *c);
int nb_creds_remove(const char *access_key);
/* Remove every credential for which pred is true (account deletion, reset). Returns the count. */
size_t nb_creds_remove_where(bool (*pred)(const nb_cred *c, void *arg), void *arg);
/* Fill p as the root user of account, signing with key. */
void nb_principal_root(nb_principal *p, const char *account, const char *key);
/* The root credential to show in the banner ("test"/"test" or the generated pair). */
const nb_cred *nb_creds_root(void);
/* The S3 canonical user id of an account (64 hex chars), stable for the account. */
void nb_canonical_user_id(const char *account, char out[65]);

#endif
