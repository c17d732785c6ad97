/* iam.h: internals shared by the files of the IAM service: transactions, AWS's errors and
 * validation rules, pagination, and the JSON shapes of users, groups, roles and policies. */
#ifndef NB_SVC_IAM_IAM_H
#define NB_SVC_IAM_IAM_H

#include "core/clock.h"
#include "iam/authz.h"
#include "iam/creds.h"
#include "iam/iam_policy.h"
#include "iam/identity.h"
#include "iam/managed.h"
#include "svc/service.h"

/* ---- transactions ----
 * fn runs with the call and a connection; it returns 0, or -1 with c->err set (everything it
 * wrote is then rolled back). iam_write bumps the identity generation after the commit, so
 * authorization sees the change on the next request. */
typedef int (*iam_tx_fn)(nb_call *c, sqlite3 *h);
int iam_write(nb_call *c, iam_tx_fn fn);
int iam_read(nb_call *c, iam_tx_fn fn);
/* SQLite failure inside fn: ServiceFailure 500 (logged). */
int iam_db_error(nb_call *c, sqlite3 *h);

/* ---- AWS's errors ---- */
int iam_no_such(nb_call *c, const char *fmt, ...) NB_PRINTF(2, 3);   /* 404 NoSuchEntity */
int iam_exists(nb_call *c, const char *fmt, ...) NB_PRINTF(2, 3);    /* 409 EntityAlreadyExists */
int iam_limit(nb_call *c, const char *fmt, ...) NB_PRINTF(2, 3);     /* 409 LimitExceeded */
int iam_conflict(nb_call *c, const char *fmt, ...) NB_PRINTF(2, 3);  /* 409 DeleteConflict */
int iam_invalid(nb_call *c, const char *fmt, ...) NB_PRINTF(2, 3);   /* 400 InvalidInput */
int iam_validation(nb_call *c, const char *fmt, ...) NB_PRINTF(2, 3); /* 400 ValidationError */

/* ---- validation (the model's patterns, which the protocol layer does not check) ---- */
/* [\w+=,.@-]+ of at most max chars; member is the model's lowerCamel name for the message. */
int iam_check_name(nb_call *c, const char *v, size_t max, const char *member);
/* "/" or "/.../" of printable ASCII, at most 512. NULL is fine (defaults to "/"). */
int iam_check_path(nb_call *c, const char *v, const char *member);
/* v (NULL = absent, fine) must be one of values ("A|B|C"): else AWS's enum ValidationError. */
int iam_check_enum(nb_call *c, const char *v, const char *member, const char *values);
/* Validate a policy document of kind (MalformedPolicyDocument with the reason) and its size
 * against quota (already_used characters of the owner's other inline policies). */
int iam_check_policy(nb_call *c, const char *doc, enum nb_policy_kind kind,
                     enum nb_policy_quota quota, size_t already_used, const char *owner);
/* Tags input (list of {Key, Value}): at most 50 in all with existing, no aws: prefix, no
 * duplicate keys (case-insensitive). */
int iam_check_tags(nb_call *c, json_t *tags, size_t existing);
/* TagKeys of an Untag*: each 1..128 characters of the tag-key pattern (ValidationError). */
int iam_check_tag_keys(nb_call *c);

/* ---- the account the call acts in: the caller's ---- */
#define IAM_ACCOUNT(c) ((c)->who.account)

/* ---- pagination: Marker (opaque) + MaxItems (1..1000, default 100) ---- */
typedef struct iam_page {
    int64_t offset;
    int64_t max;
} iam_page;
int iam_page_in(nb_call *c, iam_page *p);
/* Append items (a list the query fetched with LIMIT max+1 OFFSET offset): drop the extra row,
 * set IsTruncated and Marker on out. */
void iam_page_out(json_t *out, const iam_page *p, size_t fetched, json_t *list);

/* One page of all (a whole list, borrowed) into out[key], with IsTruncated and Marker; -1 with
 * the error for a bad MaxItems/Marker. */
int iam_page_list(nb_call *c, json_t *out, const char *key, json_t *all);

/* Renames and moves (UpdateUser, UpdateGroup, UpdateServerCertificate): AWS requires the permission on the new ARN too
 * (NewPath and/or the new name member), besides the current one the dispatcher checked. 0, or
 * -1 with AccessDenied (or the new name/path's ValidationError). */
int iam_authorize_target(nb_call *c, const char *kind, const char *member, const char *new_member,
                         const char *new_model_name, size_t max);

/* ---- shapes ---- */
char *iam_arn(nb_call *c, const char *type, const char *path, const char *name); /* arena */
/* URL-encoded document, as IAM returns documents (botocore decodes them). New json string. */
json_t *iam_doc_out(const char *doc);
json_t *iam_tags_out(sqlite3 *h, const char *account, const char *kind, const char *owner);
/* Tag/Untag* of roles, instance profiles and policies: Tags / TagKeys of the input. */
int iam_tags_add_kind(nb_call *c, sqlite3 *h, const char *kind, const char *owner);
int iam_tags_remove_kind(nb_call *c, sqlite3 *h, const char *kind, const char *owner);
/* List*Tags output from all of an entity's tags (taken): MaxItems/Marker paging as IAM's. */
int iam_tags_page(nb_call *c, json_t *tags);
int iam_tags_put(sqlite3 *h, const char *account, const char *kind, const char *owner, json_t *tags);
/* The row of a user/role/group/instance profile: NULL when none. Shapes as GetUser etc. */
json_t *iam_user_json(nb_call *c, sqlite3 *h, const char *name, bool full);
json_t *iam_group_json(nb_call *c, sqlite3 *h, const char *name);
json_t *iam_role_json(nb_call *c, sqlite3 *h, const char *name, bool full);
json_t *iam_profile_json(nb_call *c, sqlite3 *h, const char *name);
/* A service-linked role (path /aws-service-role/...): -1 with AWS's UnmodifiableEntity for the
 * operations only AWS may do on it (delete, trust, permissions, boundary); 0 otherwise. */
int iam_role_protected(nb_call *c, sqlite3 *h, const char *role);
bool iam_user_exists(sqlite3 *h, const char *account, const char *name);
/* Canonical stored name (the case the entity was created with) into out. */
bool iam_user_name(sqlite3 *h, const char *account, const char *name, char out[129]);
/* Policy ARN -> whether it exists (AWS managed or the account's). */
bool iam_policy_exists(sqlite3 *h, const char *account, const char *arn);
/* Drop every key of a user from the credential store and the database. */
void iam_forget_user_keys(sqlite3 *h, const char *account, const char *user);

/* ---- handlers, by file ---- */
/* Rows of the objects table (see src/iam/identity.c): the smaller entities as JSON documents. */
typedef struct iam_obj {
    char name[1024];
    char owner[129]; /* "" when none */
    char path[513];
    char id[64];
    double created;
    json_t *doc; /* owned by the caller of iam_obj_get */
} iam_obj;
/* Read one object (name matched case-insensitively); false when there is none. */
bool iam_obj_get(sqlite3 *h, const char *account, const char *kind, const char *name, iam_obj *o);
/* Insert or replace; SQLite's code. */
int iam_obj_put(sqlite3 *h, const char *account, const char *kind, const iam_obj *o);
int iam_obj_delete(sqlite3 *h, const char *account, const char *kind, const char *name);
/* Names of the objects of a kind (owned by owner when not NULL), ordered, as a JSON array. */
json_t *iam_obj_names(sqlite3 *h, const char *account, const char *kind, const char *owner);

#define IAM_HANDLER(n) int iam_##n(nb_call *c)
/* users.c */
IAM_HANDLER(create_user); IAM_HANDLER(get_user); IAM_HANDLER(list_users); IAM_HANDLER(update_user);
IAM_HANDLER(delete_user); IAM_HANDLER(tag_user); IAM_HANDLER(untag_user); IAM_HANDLER(list_user_tags);
IAM_HANDLER(create_access_key); IAM_HANDLER(list_access_keys); IAM_HANDLER(update_access_key);
IAM_HANDLER(delete_access_key); IAM_HANDLER(get_access_key_last_used);
IAM_HANDLER(create_login_profile); IAM_HANDLER(get_login_profile); IAM_HANDLER(update_login_profile);
IAM_HANDLER(delete_login_profile); IAM_HANDLER(change_password);
IAM_HANDLER(put_user_boundary); IAM_HANDLER(delete_user_boundary);
/* groups.c */
IAM_HANDLER(create_group); IAM_HANDLER(get_group); IAM_HANDLER(list_groups); IAM_HANDLER(update_group);
IAM_HANDLER(delete_group); IAM_HANDLER(add_user_to_group); IAM_HANDLER(remove_user_from_group);
IAM_HANDLER(list_groups_for_user);
/* roles.c */
IAM_HANDLER(create_role); IAM_HANDLER(get_role); IAM_HANDLER(list_roles); IAM_HANDLER(update_role);
IAM_HANDLER(update_role_description); IAM_HANDLER(delete_role); IAM_HANDLER(update_assume_role_policy);
IAM_HANDLER(tag_role); IAM_HANDLER(untag_role); IAM_HANDLER(list_role_tags);
IAM_HANDLER(put_role_boundary); IAM_HANDLER(delete_role_boundary);
IAM_HANDLER(create_service_linked_role);
IAM_HANDLER(create_instance_profile); IAM_HANDLER(get_instance_profile);
IAM_HANDLER(list_instance_profiles); IAM_HANDLER(delete_instance_profile);
IAM_HANDLER(add_role_to_instance_profile); IAM_HANDLER(remove_role_from_instance_profile);
IAM_HANDLER(list_instance_profiles_for_role); IAM_HANDLER(tag_instance_profile);
IAM_HANDLER(untag_instance_profile); IAM_HANDLER(list_instance_profile_tags);
/* policies.c */
IAM_HANDLER(create_policy); IAM_HANDLER(get_policy); IAM_HANDLER(list_policies); IAM_HANDLER(delete_policy);
IAM_HANDLER(create_policy_version); IAM_HANDLER(get_policy_version); IAM_HANDLER(list_policy_versions);
IAM_HANDLER(delete_policy_version); IAM_HANDLER(set_default_policy_version);
IAM_HANDLER(tag_policy); IAM_HANDLER(untag_policy); IAM_HANDLER(list_policy_tags);
IAM_HANDLER(put_user_policy); IAM_HANDLER(get_user_policy); IAM_HANDLER(delete_user_policy); IAM_HANDLER(list_user_policies);
IAM_HANDLER(put_group_policy); IAM_HANDLER(get_group_policy); IAM_HANDLER(delete_group_policy); IAM_HANDLER(list_group_policies);
IAM_HANDLER(put_role_policy); IAM_HANDLER(get_role_policy); IAM_HANDLER(delete_role_policy); IAM_HANDLER(list_role_policies);
IAM_HANDLER(attach_user_policy); IAM_HANDLER(detach_user_policy); IAM_HANDLER(list_attached_user_policies);
IAM_HANDLER(attach_group_policy); IAM_HANDLER(detach_group_policy); IAM_HANDLER(list_attached_group_policies);
IAM_HANDLER(attach_role_policy); IAM_HANDLER(detach_role_policy); IAM_HANDLER(list_attached_role_policies);
IAM_HANDLER(list_entities_for_policy);
/* account.c */
IAM_HANDLER(get_account_summary); IAM_HANDLER(get_account_authorization_details);
IAM_HANDLER(generate_credential_report); IAM_HANDLER(get_credential_report);
IAM_HANDLER(create_account_alias); IAM_HANDLER(delete_account_alias); IAM_HANDLER(list_account_aliases);
IAM_HANDLER(set_security_token_service_preferences); IAM_HANDLER(get_password_policy); IAM_HANDLER(update_password_policy); IAM_HANDLER(delete_password_policy);
/* providers.c */
IAM_HANDLER(create_oidc_provider); IAM_HANDLER(get_oidc_provider); IAM_HANDLER(list_oidc_providers);
IAM_HANDLER(delete_oidc_provider); IAM_HANDLER(add_client_id_to_oidc_provider);
IAM_HANDLER(remove_client_id_from_oidc_provider); IAM_HANDLER(update_oidc_provider_thumbprint);
IAM_HANDLER(tag_oidc_provider); IAM_HANDLER(untag_oidc_provider); IAM_HANDLER(list_oidc_provider_tags);
IAM_HANDLER(create_saml_provider); IAM_HANDLER(get_saml_provider); IAM_HANDLER(list_saml_providers);
IAM_HANDLER(update_saml_provider); IAM_HANDLER(delete_saml_provider);
IAM_HANDLER(tag_saml_provider); IAM_HANDLER(untag_saml_provider); IAM_HANDLER(list_saml_provider_tags);
IAM_HANDLER(delete_service_linked_role); IAM_HANDLER(get_service_linked_role_deletion_status);
/* credentials.c */
IAM_HANDLER(upload_server_certificate); IAM_HANDLER(get_server_certificate);
IAM_HANDLER(list_server_certificates); IAM_HANDLER(update_server_certificate);
IAM_HANDLER(delete_server_certificate); IAM_HANDLER(tag_server_certificate);
IAM_HANDLER(untag_server_certificate); IAM_HANDLER(list_server_certificate_tags);
IAM_HANDLER(create_virtual_mfa_device); IAM_HANDLER(delete_virtual_mfa_device);
IAM_HANDLER(list_virtual_mfa_devices); IAM_HANDLER(enable_mfa_device); IAM_HANDLER(deactivate_mfa_device);
IAM_HANDLER(resync_mfa_device); IAM_HANDLER(list_mfa_devices);
IAM_HANDLER(tag_mfa_device); IAM_HANDLER(untag_mfa_device); IAM_HANDLER(list_mfa_device_tags);
IAM_HANDLER(upload_ssh_public_key); IAM_HANDLER(get_ssh_public_key); IAM_HANDLER(list_ssh_public_keys);
IAM_HANDLER(update_ssh_public_key); IAM_HANDLER(delete_ssh_public_key);
IAM_HANDLER(upload_signing_certificate); IAM_HANDLER(list_signing_certificates);
IAM_HANDLER(update_signing_certificate); IAM_HANDLER(delete_signing_certificate);
IAM_HANDLER(create_service_specific_credential); IAM_HANDLER(list_service_specific_credentials);
IAM_HANDLER(reset_service_specific_credential); IAM_HANDLER(update_service_specific_credential);
IAM_HANDLER(delete_service_specific_credential);
/* access.c */
IAM_HANDLER(list_policies_granting_service_access); IAM_HANDLER(generate_service_last_accessed_details);
IAM_HANDLER(get_service_last_accessed_details); IAM_HANDLER(get_service_last_accessed_details_with_entities);
/* simulate.c */
IAM_HANDLER(simulate_principal_policy); IAM_HANDLER(simulate_custom_policy);
IAM_HANDLER(get_context_keys_for_custom_policy); IAM_HANDLER(get_context_keys_for_principal_policy);

/* Password hashing for login profiles (PBKDF2-SHA256, salted): "pbkdf2$iter$salt$hash". */
void iam_password_hash(const char *password, char out[160]);
bool iam_password_check(const char *password, const char *stored);
/* Account password policy check: 0 or -1 with PasswordPolicyViolation. */
int iam_password_policy_check(nb_call *c, sqlite3 *h, const char *password);

#endif
