/* iam_policy.h: the policy evaluator (iam/policy.h) plus short names for its principal kinds,
 * used by the IAM, STS and authorization code. The evaluator's kinds (enum nb_pol_principal,
 * NB_POL_*) are distinct from the request's principal types in svc/service.h
 * (enum nb_principal_type, NB_PRINCIPAL_*), so both headers can be included together. */
#ifndef NB_IAM_IAM_POLICY_H
#define NB_IAM_IAM_POLICY_H

#include "iam/policy.h"

#define NB_PT_ANONYMOUS NB_POL_ANONYMOUS
#define NB_PT_ROOT NB_POL_ROOT
#define NB_PT_USER NB_POL_USER
#define NB_PT_ROLE_SESSION NB_POL_ROLE_SESSION
#define NB_PT_FEDERATED_USER NB_POL_FEDERATED_USER
#define NB_PT_SERVICE NB_POL_SERVICE
typedef enum nb_pol_principal nb_pt;

#endif
