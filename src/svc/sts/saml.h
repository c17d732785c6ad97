/* saml.h: checking a SAML 2.0 authentication response for STS's AssumeRoleWithSAML: XML
 * signature (exclusive C14N, RSA-SHA256/SHA1) against the IdP certificates of the SAML
 * provider's metadata, audience, validity window, and the claims AWS reads. */
#ifndef NB_SVC_STS_SAML_H
#define NB_SVC_STS_SAML_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct nb_saml {
    char issuer[1024];
    char subject[1024];
    char subject_format[256];       /* NameID Format, "" when none */
    char recipient[1024];           /* SubjectConfirmationData Recipient (saml:aud, Audience) */
    char session_name[256];         /* https://aws.amazon.com/SAML/Attributes/RoleSessionName */
    char source_identity[256];      /* .../SourceIdentity, "" when none */
    double session_not_on_or_after; /* AuthnStatement SessionNotOnOrAfter, 0 when none */
    json_t *roles;      /* values of .../Attributes/Role: "role-arn,provider-arn" (either order) */
    json_t *tags;       /* .../PrincipalTag:KEY attributes: key -> value */
    json_t *transitive; /* .../TransitiveTagKeys values */
} nb_saml;

/* Check the base64 SAML response b64 against the provider's metadata document at time now
 * (the region clock). 0 and *out filled (release with nb_saml_free), or -1 with *code
 * (static: "InvalidIdentityToken", "ExpiredTokenException", "NotImplemented") and msg. */
int nb_saml_check(const char *b64, const char *metadata, double now, nb_saml *out,
                  const char **code, char *msg, size_t msgn);
void nb_saml_free(nb_saml *s);

#endif
