/* creds.c: the credential store: an in-memory hash of access keys, seeded with the root
 * credentials; root keys persist in <data_dir>/iam/root-credentials (mode 0600). */
#include "iam/creds.h"

#include "core/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct cred_node {
    struct cred_node *next;
    nb_cred c;
} cred_node;

#define NBUCKETS 256
static cred_node *buckets[NBUCKETS];
static pthread_rwlock_t mu = PTHREAD_RWLOCK_INITIALIZER;
static nb_cred root;

static unsigned hash_key(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h % NBUCKETS;
}

void nb_canonical_user_id(const char *account, char out[65])
{
    /* AWS canonical ids are opaque 64-hex strings; derive one stably from the account id. */
    char in[64];
    int n = snprintf(in, sizeof(in), "nimbus-canonical:%s", account);
    unsigned char md[32];
    nb_sha256(in, (size_t)n, md);
    nb_hex(md, 32, out);
}

void nb_principal_root(nb_principal *p, const char *account, const char *key)
{
    memset(p, 0, sizeof(*p));
    p->type = NB_PRINCIPAL_ROOT;
    snprintf(p->account, sizeof(p->account), "%s", account);
    snprintf(p->arn, sizeof(p->arn), "arn:aws:iam::%s:root", account);
    snprintf(p->user_id, sizeof(p->user_id), "%s", account);
    snprintf(p->name, sizeof(p->name), "root");
    snprintf(p->access_key, sizeof(p->access_key), "%s", key);
}

int nb_creds_put(const nb_cred *c)
{
    cred_node *n = calloc(1, sizeof(*n));
    if (!n) return NB_NOMEM;
    n->c = *c;
    unsigned h = hash_key(c->access_key);
    pthread_rwlock_wrlock(&mu);
    for (cred_node **pp = &buckets[h]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->c.access_key, c->access_key) == 0) {
            cred_node *old = *pp;
            n->next = old->next;
            *pp = n;
            pthread_rwlock_unlock(&mu);
            free(old);
            return NB_OK;
        }
    }
    n->next = buckets[h];
    buckets[h] = n;
    pthread_rwlock_unlock(&mu);
    return NB_OK;
}

int nb_creds_remove(const char *access_key)
{
    unsigned h = hash_key(access_key);
    pthread_rwlock_wrlock(&mu);
    for (cred_node **pp = &buckets[h]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->c.access_key, access_key) == 0) {
            cred_node *old = *pp;
            *pp = old->next;
            pthread_rwlock_unlock(&mu);
            free(old);
            return NB_OK;
        }
    }
    pthread_rwlock_unlock(&mu);
    return NB_ERR;
}

size_t nb_creds_remove_where(bool (*pred)(const nb_cred *c, void *arg), void *arg)
{
    size_t n = 0;
    pthread_rwlock_wrlock(&mu);
    for (size_t h = 0; h < NBUCKETS; h++) {
        for (cred_node **pp = &buckets[h]; *pp;) {
            if (pred(&(*pp)->c, arg)) {
                cred_node *old = *pp;
                *pp = old->next;
                free(old);
                n++;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
    pthread_rwlock_unlock(&mu);
    return n;
}

int nb_creds_lookup(const char *access_key, nb_cred *out)
{
    unsigned h = hash_key(access_key);
    int rc = NB_ERR;
    pthread_rwlock_rdlock(&mu);
    for (cred_node *n = buckets[h]; n; n = n->next) {
        if (strcmp(n->c.access_key, access_key) == 0) {
            *out = n->c;
            rc = NB_OK;
            break;
        }
    }
    pthread_rwlock_unlock(&mu);
    return rc;
}

const nb_cred *nb_creds_root(void) { return &root; }

static int mkdir_p(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0700) < 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST) return -1;
    return 0;
}

/* Generated root keys look like AWS's: AKIA + 16 uppercase alphanumerics, 40-char secret. */
static void gen_key(char *out, size_t n, const char *alphabet, const char *prefix)
{
    size_t plen = strlen(prefix), alen = strlen(alphabet);
    memcpy(out, prefix, plen);
    unsigned char r[64];
    nb_random(r, sizeof(r));
    for (size_t i = plen; i < n; i++) out[i] = alphabet[r[i % 64] % alen];
    out[n] = 0;
}

int nb_creds_init(const char *data_dir, bool loopback, bool *generated_out, char **err)
{
    *generated_out = false;
    memset(&root, 0, sizeof(root));
    root.active = true;
    if (loopback) {
        snprintf(root.access_key, sizeof(root.access_key), "test");
        snprintf(root.secret, sizeof(root.secret), "test");
        nb_principal_root(&root.who, NB_DEFAULT_ACCOUNT, "test");
        return nb_creds_put(&root);
    }
    char dir[1100], path[1200];
    snprintf(dir, sizeof(dir), "%s/iam", data_dir);
    snprintf(path, sizeof(path), "%s/root-credentials", dir);
    if (mkdir_p(dir) < 0) {
        *err = strdup("cannot create the iam directory in the data dir");
        return NB_ERR;
    }
    char account[13] = NB_DEFAULT_ACCOUNT;
    FILE *f = fopen(path, "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\r\n")] = 0;
            if (!strncmp(line, "account=", 8)) snprintf(account, sizeof(account), "%s", line + 8);
            if (!strncmp(line, "access_key=", 11))
                snprintf(root.access_key, sizeof(root.access_key), "%s", line + 11);
            if (!strncmp(line, "secret_key=", 11))
                snprintf(root.secret, sizeof(root.secret), "%s", line + 11);
        }
        fclose(f);
    }
    if (!root.access_key[0] || !root.secret[0]) {
        gen_key(root.access_key, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "AKIA");
        gen_key(root.secret, 40,
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", "");
        char tmp[1300];
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) {
            *err = strdup("cannot write the root credentials file");
            return NB_ERR;
        }
        char body[512];
        int n = snprintf(body, sizeof(body), "account=%s\naccess_key=%s\nsecret_key=%s\n", account,
                         root.access_key, root.secret);
        if (write(fd, body, (size_t)n) != n || fsync(fd) < 0) {
            close(fd);
            *err = strdup("cannot write the root credentials file");
            return NB_ERR;
        }
        close(fd);
        if (rename(tmp, path) < 0) {
            *err = strdup("cannot store the root credentials file");
            return NB_ERR;
        }
        *generated_out = true;
    }
    chmod(path, 0600);
    nb_principal_root(&root.who, account, root.access_key);
    return nb_creds_put(&root);
}
