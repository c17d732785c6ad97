/* providers.c: IAM identity providers (OpenID Connect and SAML; stored and described, not yet
 * trusted by STS: AssumeRoleWithWebIdentity/SAML answer NotImplemented) and the deletion of
 * service-linked roles. Each lives in the objects table (src/iam/identity.c). */
#include "svc/iam/iam.h"

#include <stdio.h>
#include <stdlib.h>

/* The name part of arn:aws:iam::<our account>:<type>/<name>, or NULL (error set). */
static const char *arn_name(nb_call *c, const char *arn, const char *type)
{
    char prefix[96];
    snprintf(prefix, sizeof(prefix), "arn:aws:iam::%s:%s/", IAM_ACCOUNT(c), type);
    if (!arn || strncmp(arn, "arn:aws:iam::", 13) != 0 || !strstr(arn, type)) {
        iam_invalid(c, "ARN %s is not valid.", arn ? arn : "");
        return NULL;
    }
    if (strncmp(arn, prefix, strlen(prefix)) != 0 || !arn[strlen(prefix)]) return "";
    return arn + strlen(prefix);
}

static json_t *tags_or_null(sqlite3 *h, nb_call *c, const char *kind, const char *owner)
{
    json_t *t = iam_tags_out(h, IAM_ACCOUNT(c), kind, owner);
    if (json_array_size(t)) return t;
    json_decref(t);
    return NULL;
}

static int put_tags(nb_call *c, sqlite3 *h, const char *kind, const char *owner, json_t *tags)
{
    return tags && iam_tags_put(h, IAM_ACCOUNT(c), kind, owner, tags) ? iam_db_error(c, h) : 0;
}

/* ---- OpenID Connect providers ---- */

#define OIDC_TAGS "oidc-provider"

static int check_thumbprints(nb_call *c, json_t *list)
{
    if (json_array_size(list) > 5) return iam_invalid(c, "Thumbprint list must contain fewer than 5 entries.");
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        const char *s = json_string_value(t);
        if (!s || strlen(s) != 40)
            return iam_validation(c, "1 validation error detected: Value '[%s]' at 'thumbprintList' failed to "
                                     "satisfy constraint: Member must satisfy constraint: [Member must have length "
                                     "less than or equal to 40, Member must have length greater than or equal to 40]",
                                  s ? s : "");
    }
    return 0;
}

static int check_client_id(nb_call *c, const char *id)
{
    if (!id || !*id || strlen(id) > 255)
        return iam_validation(c, "1 validation error detected: Value '%s' at 'clientIDList' failed to satisfy "
                                 "constraint: Member must have length less than or equal to 255",
                              id ? id : "");
    return 0;
}

static int need_oidc(nb_call *c, sqlite3 *h, iam_obj *o)
{
    const char *arn = nb_in_str(c, "OpenIDConnectProviderArn");
    const char *name = arn_name(c, arn, "oidc-provider");
    if (!name) return -1;
    if (!*name || !iam_obj_get(h, IAM_ACCOUNT(c), "oidc", name, o))
        return iam_no_such(c, "OpenIDConnect Provider not found for arn %s", arn);
    return 0;
}

static int create_oidc_tx(nb_call *c, sqlite3 *h)
{
    const char *url = nb_in_str(c, "Url");
    json_t *clients = json_object_get(c->input, "ClientIDList");
    json_t *thumbs = json_object_get(c->input, "ThumbprintList");
    json_t *tags = json_object_get(c->input, "Tags");
    if (!url || strncmp(url, "https://", 8) != 0 || !url[8] || strchr(url + 8, '?') || strchr(url + 8, '#') ||
        url[8] == '/')
        return iam_validation(c, "Invalid Open ID Connect Provider URL");
    if (strlen(url) > 255)
        return iam_validation(c, "1 validation error detected: Value '%s' at 'url' failed to satisfy constraint: "
                                 "Member must have length less than or equal to 255",
                              url);
    if (check_thumbprints(c, thumbs) || iam_check_tags(c, tags, 0)) return -1;
    if (json_array_size(clients) > 100) return iam_limit(c, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100");
    size_t i;
    json_t *v;
    json_array_foreach(clients, i, v) if (check_client_id(c, json_string_value(v))) return -1;
    iam_obj o;
    memset(&o, 0, sizeof(o));
    /* The provider is named by its URL without the scheme (and without a trailing slash). */
    snprintf(o.name, sizeof(o.name), "%s", url + 8);
    size_t n = strlen(o.name);
    if (n > 1 && o.name[n - 1] == '/') o.name[n - 1] = 0;
    iam_obj old;
    if (iam_obj_get(h, IAM_ACCOUNT(c), "oidc", o.name, &old)) {
        json_decref(old.doc);
        return iam_exists(c, "Provider with url %s already exists.", url);
    }
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'oidc'", "s", IAM_ACCOUNT(c)) >= 100)
        return iam_limit(c, "Cannot exceed quota for OpenIdConnectProvidersPerAccount: 100");
    o.created = nb_clock_now_f();
    json_t *cl = json_array(), *th = json_array();
    json_array_foreach(clients, i, v)
    {
        bool dup = false;
        size_t j;
        json_t *w;
        json_array_foreach(cl, j, w) dup = dup || json_equal(v, w);
        if (!dup) json_array_append(cl, v);
    }
    json_array_foreach(thumbs, i, v) json_array_append(th, v);
    o.doc = json_pack("{s:o, s:o}", "ClientIDList", cl, "ThumbprintList", th);
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "oidc", &o);
    json_decref(o.doc);
    if (rc || put_tags(c, h, OIDC_TAGS, o.name, tags)) return iam_db_error(c, h);
    c->output = json_pack("{s:s+++}", "OpenIDConnectProviderArn", "arn:aws:iam::", IAM_ACCOUNT(c), ":oidc-provider/",
                          o.name);
    json_t *t = tags_or_null(h, c, OIDC_TAGS, o.name);
    if (t) json_object_set_new(c->output, "Tags", t);
    return 0;
}
int iam_create_oidc_provider(nb_call *c) { return iam_write(c, create_oidc_tx); }

static int get_oidc_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (need_oidc(c, h, &o)) return -1;
    c->output = json_pack("{s:s, s:O, s:O, s:f}", "Url", o.name, "ClientIDList",
                          json_object_get(o.doc, "ClientIDList"), "ThumbprintList",
                          json_object_get(o.doc, "ThumbprintList"), "CreateDate", o.created);
    json_decref(o.doc);
    json_t *t = tags_or_null(h, c, OIDC_TAGS, o.name);
    if (t) json_object_set_new(c->output, "Tags", t);
    return 0;
}
int iam_get_oidc_provider(nb_call *c) { return iam_read(c, get_oidc_tx); }

static int list_oidc_tx(nb_call *c, sqlite3 *h)
{
    json_t *names = iam_obj_names(h, IAM_ACCOUNT(c), "oidc", NULL), *list = json_array(), *n;
    size_t i;
    json_array_foreach(names, i, n)
    {
        json_array_append_new(list, json_pack("{s:s+++}", "Arn", "arn:aws:iam::", IAM_ACCOUNT(c), ":oidc-provider/",
                                               json_string_value(n)));
    }
    json_decref(names);
    c->output = json_pack("{s:o}", "OpenIDConnectProviderList", list);
    return 0;
}
int iam_list_oidc_providers(nb_call *c) { return iam_read(c, list_oidc_tx); }

static int delete_oidc_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (need_oidc(c, h, &o)) return -1;
    json_decref(o.doc);
    if (iam_obj_delete(h, IAM_ACCOUNT(c), "oidc", o.name) ||
        nb_iq_exec(h, "DELETE FROM tags WHERE account = ? AND kind = ? AND owner = ?", "sss", IAM_ACCOUNT(c),
                   OIDC_TAGS, o.name))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_oidc_provider(nb_call *c) { return iam_write(c, delete_oidc_tx); }

/* AddClientID, RemoveClientID and UpdateThumbprint edit the stored document. */
static int edit_oidc_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    const char *id = nb_in_str(c, "ClientID");
    json_t *thumbs = json_object_get(c->input, "ThumbprintList");
    if (thumbs && check_thumbprints(c, thumbs)) return -1;
    if (id && check_client_id(c, id)) return -1;
    if (need_oidc(c, h, &o)) return -1;
    json_t *cl = json_object_get(o.doc, "ClientIDList");
    if (!json_is_array(cl)) json_object_set_new(o.doc, "ClientIDList", cl = json_array());
    size_t i, found = (size_t)-1;
    json_t *v;
    json_array_foreach(cl, i, v) if (id && strcmp(json_string_value(v), id) == 0) found = i;
    int rc = 0;
    if (!strcmp(c->op_name, "AddClientIDToOpenIDConnectProvider")) {
        if (found == (size_t)-1) {
            if (json_array_size(cl) >= 100)
                rc = iam_limit(c, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100");
            else
                json_array_append_new(cl, json_string(id));
        }
    } else if (!strcmp(c->op_name, "RemoveClientIDFromOpenIDConnectProvider")) {
        if (found != (size_t)-1) json_array_remove(cl, found); /* AWS: removing an absent id succeeds */
    } else {
        json_object_set_new(o.doc, "ThumbprintList", thumbs ? json_deep_copy(thumbs) : json_array());
    }
    if (!rc && iam_obj_put(h, IAM_ACCOUNT(c), "oidc", &o)) rc = iam_db_error(c, h);
    json_decref(o.doc);
    return rc;
}
int iam_add_client_id_to_oidc_provider(nb_call *c) { return iam_write(c, edit_oidc_tx); }
int iam_remove_client_id_from_oidc_provider(nb_call *c) { return iam_write(c, edit_oidc_tx); }
int iam_update_oidc_provider_thumbprint(nb_call *c) { return iam_write(c, edit_oidc_tx); }

/* Tag / Untag / ListTags for both provider kinds. */
static int provider_tags_tx(nb_call *c, sqlite3 *h)
{
    bool oidc = strstr(c->op_name, "OpenIDConnect") != NULL;
    iam_obj o;
    if (oidc) {
        if (need_oidc(c, h, &o)) return -1;
    } else {
        const char *arn = nb_in_str(c, "SAMLProviderArn");
        const char *name = arn_name(c, arn, "saml-provider");
        if (!name) return -1;
        if (!*name || !iam_obj_get(h, IAM_ACCOUNT(c), "saml", name, &o))
            return iam_no_such(c, "SAMLProvider %s does not exist.", arn);
    }
    json_decref(o.doc);
    const char *kind = oidc ? OIDC_TAGS : "saml-provider";
    if (!strncmp(c->op_name, "Tag", 3)) return iam_tags_add_kind(c, h, kind, o.name);
    if (!strncmp(c->op_name, "Untag", 5)) return iam_tags_remove_kind(c, h, kind, o.name);
    return iam_tags_page(c, iam_tags_out(h, IAM_ACCOUNT(c), kind, o.name));
}
int iam_tag_oidc_provider(nb_call *c) { return iam_write(c, provider_tags_tx); }
int iam_untag_oidc_provider(nb_call *c) { return iam_write(c, provider_tags_tx); }
int iam_list_oidc_provider_tags(nb_call *c) { return iam_read(c, provider_tags_tx); }
int iam_tag_saml_provider(nb_call *c) { return iam_write(c, provider_tags_tx); }
int iam_untag_saml_provider(nb_call *c) { return iam_write(c, provider_tags_tx); }
int iam_list_saml_provider_tags(nb_call *c) { return iam_read(c, provider_tags_tx); }

/* ---- SAML providers ---- */

/* The metadata's validUntil attribute, when it has one (AWS reports it as ValidUntil). */
static void saml_valid_until(json_t *doc, const char *md)
{
    const char *p = strstr(md, "validUntil=\"");
    if (!p) return;
    p += 12;
    const char *e = strchr(p, '"');
    double t;
    if (e && nb_time_parse(p, (size_t)(e - p), &t) == 0) json_object_set_new(doc, "ValidUntil", json_real(t));
}

static int saml_check(nb_call *c, const char *md)
{
    /* AWS parses the document as SAML metadata; we ask for an XML EntityDescriptor at least. */
    if (!md || strlen(md) < 1000)
        return iam_validation(c, "1 validation error detected: Value at 'sAMLMetadataDocument' failed to satisfy "
                                 "constraint: Member must have length greater than or equal to 1000");
    if (!strchr(md, '<') || !strstr(md, "EntityDescriptor")) return iam_invalid(c, "Could not parse metadata");
    return 0;
}

static int need_saml(nb_call *c, sqlite3 *h, iam_obj *o)
{
    const char *arn = nb_in_str(c, "SAMLProviderArn");
    const char *name = arn_name(c, arn, "saml-provider");
    if (!name) return -1;
    if (!*name || !iam_obj_get(h, IAM_ACCOUNT(c), "saml", name, o))
        return iam_no_such(c, "SAMLProvider %s does not exist.", arn);
    return 0;
}

static int create_saml_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "Name"), *md = nb_in_str(c, "SAMLMetadataDocument");
    json_t *tags = json_object_get(c->input, "Tags");
    if (!name || !*name || strlen(name) > 128 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                              "0123456789_.-") != strlen(name))
        return iam_validation(c, "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: "
                                 "Member must satisfy regular expression pattern: [\\w._-]+",
                              name ? name : "");
    if (saml_check(c, md) || iam_check_tags(c, tags, 0)) return -1;
    iam_obj o;
    if (iam_obj_get(h, IAM_ACCOUNT(c), "saml", name, &o)) {
        json_decref(o.doc);
        return iam_exists(c, "SAMLProvider %s already exists.", name);
    }
    memset(&o, 0, sizeof(o));
    snprintf(o.name, sizeof(o.name), "%s", name);
    o.created = nb_clock_now_f();
    o.doc = json_pack("{s:s}", "SAMLMetadataDocument", md);
    saml_valid_until(o.doc, md);
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "saml", &o);
    json_decref(o.doc);
    if (rc || put_tags(c, h, "saml-provider", name, tags)) return iam_db_error(c, h);
    c->output = json_pack("{s:s+++}", "SAMLProviderArn", "arn:aws:iam::", IAM_ACCOUNT(c), ":saml-provider/", name);
    json_t *t = tags_or_null(h, c, "saml-provider", name);
    if (t) json_object_set_new(c->output, "Tags", t);
    return 0;
}
int iam_create_saml_provider(nb_call *c) { return iam_write(c, create_saml_tx); }

static int get_saml_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (need_saml(c, h, &o)) return -1;
    c->output = json_pack("{s:O, s:f}", "SAMLMetadataDocument", json_object_get(o.doc, "SAMLMetadataDocument"),
                          "CreateDate", o.created);
    if (json_object_get(o.doc, "ValidUntil"))
        json_object_set(c->output, "ValidUntil", json_object_get(o.doc, "ValidUntil"));
    json_decref(o.doc);
    json_t *t = tags_or_null(h, c, "saml-provider", o.name);
    if (t) json_object_set_new(c->output, "Tags", t);
    return 0;
}
int iam_get_saml_provider(nb_call *c) { return iam_read(c, get_saml_tx); }

static int list_saml_tx(nb_call *c, sqlite3 *h)
{
    json_t *names = iam_obj_names(h, IAM_ACCOUNT(c), "saml", NULL), *list = json_array(), *n;
    size_t i;
    json_array_foreach(names, i, n)
    {
        iam_obj o;
        if (!iam_obj_get(h, IAM_ACCOUNT(c), "saml", json_string_value(n), &o)) continue;
        json_t *e = json_pack("{s:s+++, s:f}", "Arn", "arn:aws:iam::", IAM_ACCOUNT(c), ":saml-provider/", o.name,
                              "CreateDate", o.created);
        if (json_object_get(o.doc, "ValidUntil")) json_object_set(e, "ValidUntil", json_object_get(o.doc, "ValidUntil"));
        json_decref(o.doc);
        json_array_append_new(list, e);
    }
    json_decref(names);
    c->output = json_pack("{s:o}", "SAMLProviderList", list);
    return 0;
}
int iam_list_saml_providers(nb_call *c) { return iam_read(c, list_saml_tx); }

static int update_saml_tx(nb_call *c, sqlite3 *h)
{
    const char *md = nb_in_str(c, "SAMLMetadataDocument");
    iam_obj o;
    if (saml_check(c, md) || need_saml(c, h, &o)) return -1;
    json_object_set_new(o.doc, "SAMLMetadataDocument", json_string(md));
    json_object_del(o.doc, "ValidUntil");
    saml_valid_until(o.doc, md);
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "saml", &o);
    json_decref(o.doc);
    if (rc) return iam_db_error(c, h);
    c->output = json_pack("{s:s}", "SAMLProviderArn", nb_in_str(c, "SAMLProviderArn"));
    return 0;
}
int iam_update_saml_provider(nb_call *c) { return iam_write(c, update_saml_tx); }

static int delete_saml_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (need_saml(c, h, &o)) return -1;
    json_decref(o.doc);
    if (iam_obj_delete(h, IAM_ACCOUNT(c), "saml", o.name) ||
        nb_iq_exec(h, "DELETE FROM tags WHERE account = ? AND kind = 'saml-provider' AND owner = ?", "ss",
                   IAM_ACCOUNT(c), o.name))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_saml_provider(nb_call *c) { return iam_write(c, delete_saml_tx); }

/* ---- service-linked role deletion ---- */

/* AWS deletes the role asynchronously and reports the task; ours completes at once (the role
 * is used by no resource Nimbus knows of), so the status is SUCCEEDED from the start. */
static int delete_slr_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "RoleName");
    const char *a = IAM_ACCOUNT(c);
    sqlite3_stmt *st = nb_iq(h, "SELECT name, path FROM roles WHERE account = ? AND name = ?", "ss", a, name);
    char role[129] = "", path[513] = "";
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(role, sizeof(role), "%s", nb_iq_text(st, 0));
        snprintf(path, sizeof(path), "%s", nb_iq_text(st, 1));
    }
    if (st) sqlite3_reset(st);
    if (!role[0]) return iam_no_such(c, "The role with name %s cannot be found.", name ? name : "");
    if (strncmp(path, "/aws-service-role/", 18) != 0)
        return iam_invalid(c, "Role %s is not a service-linked role.", role);
    static const char *const sql[] = {
        "DELETE FROM inline WHERE account = ?1 AND kind = 'role' AND owner = ?2",
        "DELETE FROM attached WHERE account = ?1 AND kind = 'role' AND owner = ?2",
        "DELETE FROM profile_roles WHERE account = ?1 AND role = ?2",
        "DELETE FROM tags WHERE account = ?1 AND kind = 'role' AND owner = ?2",
        "DELETE FROM roles WHERE account = ?1 AND name = ?2",
    };
    for (size_t i = 0; i < NB_ARRAY_LEN(sql); i++)
        if (nb_iq_exec(h, sql[i], "ss", a, role)) return iam_db_error(c, h);
    char uuid[37];
    nb_uuid4(uuid);
    iam_obj o;
    memset(&o, 0, sizeof(o));
    /* task/aws-service-role/<service>/<role>/<uuid>, as AWS words it */
    snprintf(o.name, sizeof(o.name), "task%s%s/%s", path, role, uuid);
    o.created = nb_clock_now_f();
    o.doc = json_pack("{s:s}", "Status", "SUCCEEDED");
    int rc = iam_obj_put(h, a, "slr-deletion", &o);
    json_decref(o.doc);
    if (rc) return iam_db_error(c, h);
    c->output = json_pack("{s:s}", "DeletionTaskId", o.name);
    return 0;
}
int iam_delete_service_linked_role(nb_call *c) { return iam_write(c, delete_slr_tx); }

static int slr_status_tx(nb_call *c, sqlite3 *h)
{
    const char *id = nb_in_str(c, "DeletionTaskId");
    iam_obj o;
    if (!id || !iam_obj_get(h, IAM_ACCOUNT(c), "slr-deletion", id, &o))
        return iam_no_such(c, "Deletion task %s cannot be found.", id ? id : "");
    c->output = json_pack("{s:O}", "Status", json_object_get(o.doc, "Status"));
    json_decref(o.doc);
    return 0;
}
int iam_get_service_linked_role_deletion_status(nb_call *c) { return iam_read(c, slr_status_tx); }
