/* iam_policy.h: include the policy evaluator (iam/policy.h) in files that also see
 * svc/service.h. Both headers declare an `enum nb_principal_type` with some of the same
 * enumerators (NB_PRINCIPAL_ANONYMOUS/ROOT/USER, same values); until one is renamed, the
 * evaluator's enum is seen here under other names, and NB_PT_* name its values for our code.
 * Only this header needs to change when the evaluator's names change. */
#ifndef NB_IAM_IAM_POLICY_H
#define NB_IAM_IAM_POLICY_H

#define nb_principal_type nb_pol_principal_type
#define NB_PRINCIPAL_ANONYMOUS NB_POL_PRINCIPAL_ANONYMOUS
#define NB_PRINCIPAL_ROOT NB_POL_PRINCIPAL_ROOT
#define NB_PRINCIPAL_USER NB_POL_PRINCIPAL_USER
#include "iam/policy.h"
#undef nb_principal_type
#undef NB_PRINCIPAL_ANONYMOUS
#undef NB_PRINCIPAL_ROOT
#undef NB_PRINCIPAL_USER

#define NB_PT_ANONYMOUS NB_POL_PRINCIPAL_ANONYMOUS
#define NB_PT_ROOT NB_POL_PRINCIPAL_ROOT
#define NB_PT_USER NB_POL_PRINCIPAL_USER
#define NB_PT_ROLE_SESSION NB_PRINCIPAL_ROLE_SESSION
#define NB_PT_FEDERATED_USER NB_PRINCIPAL_FEDERATED_USER
#define NB_PT_SERVICE NB_PRINCIPAL_SERVICE
typedef enum nb_pol_principal_type nb_pt;

#endif
