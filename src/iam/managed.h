/* managed.h: the AWS managed policies (arn:aws:iam::aws:policy/...): the common ones and the
 * full-access / read-only pair of every service Nimbus serves, with their documents. They are
 * global (every account sees the same ones) and read-only. */
#ifndef NB_IAM_MANAGED_H
#define NB_IAM_MANAGED_H

#include <stddef.h>

typedef struct nb_managed_policy {
    const char *name;        /* "AdministratorAccess" */
    const char *path;        /* "/" or "/service-role/", "/job-function/" */
    const char *description;
    const char *version;     /* default version id, "v1" ... */
    const char *document;    /* JSON text */
    char id[22];             /* ANPA..., stable (derived from the name) */
    char arn[160];           /* arn:aws:iam::aws:policy<path><name> */
} nb_managed_policy;

size_t nb_managed_count(void);
const nb_managed_policy *nb_managed_at(size_t i);
/* By ARN (exact, case-sensitive as AWS), or NULL. */
const nb_managed_policy *nb_managed_by_arn(const char *arn);
/* Creation date shown for every AWS managed policy (they predate any account). */
#define NB_MANAGED_CREATED 1423000000.0 /* 2015-02-03 */
#define NB_MANAGED_UPDATED 1700000000.0 /* 2023-11-14 */

#endif
