/* accounts.c (admin): the /_nimbus/accounts API, loopback peers only:
 *   GET    /_nimbus/accounts        {"Accounts": [...]}
 *   POST   /_nimbus/accounts        create; JSON body {"AccountId"?, "Name"?, "Email"?,
 *                                   "AccessKeyId"?, "SecretAccessKey"?} (lowercase id, name,
 *                                   email, access_key, secret_key accepted too); answers the
 *                                   account with its root secret, shown this once
 *   GET    /_nimbus/accounts/<id>   one account
 *   DELETE /_nimbus/accounts/<id>   delete it and everything in it
 * Work that touches the database runs on a worker thread. */
#include <stdio.h>
#include <stdlib.h>

#include "http/http.h"
#include "iam/accounts.h"

static void reply(nb_req *r, int status, json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!s) {
        nb_resp_simple(r, 503, "text/plain", "out of memory\n", 14, NULL, 0);
        return;
    }
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (t) {
        s = t;
        s[n++] = '\n';
    }
    nb_resp_simple(r, status, "application/json", s, n, NULL, 0);
    free(s);
}

static void reply_err(nb_req *r, int status, const char *msg)
{
    static const char *const codes[] = {[400] = "BadRequest", [403] = "AccessDenied", [404] = "NotFound",
                                        [405] = "MethodNotAllowed", [409] = "Conflict", [500] = "InternalError",
                                        [503] = "ServiceUnavailable"};
    const char *code = status >= 0 && status < (int)NB_ARRAY_LEN(codes) && codes[status] ? codes[status] : "Error";
    reply(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

static bool loopback(const nb_req *r)
{
    return strncmp(r->peer_ip, "127.", 4) == 0 || strcmp(r->peer_ip, "::1") == 0 ||
           strncmp(r->peer_ip, "::ffff:127.", 11) == 0;
}

/* The account id in /_nimbus/accounts/<id>, or NULL for the collection. */
static const char *path_id(nb_req *r)
{
    static const char base[] = "/_nimbus/accounts";
    if (r->path_len <= sizeof(base)) return NULL;
    const char *id = r->path + sizeof(base); /* after the '/' */
    size_t n = r->path_len - sizeof(base);
    if (n && id[n - 1] == '/') n--;
    return n ? nb_arena_strndup(r->arena, id, n) : NULL;
}

static void list_or_get(nb_req *r)
{
    int status = 500;
    char err[256] = "";
    const char *id = path_id(r);
    json_t *doc = id ? nb_accounts_get(id, &status, err) : nb_accounts_list(&status, err);
    if (doc)
        reply(r, 200, doc);
    else
        reply_err(r, status, err);
}

static void delete_worker(nb_req *r)
{
    int status = 500;
    char err[256] = "";
    const char *id = path_id(r);
    if (nb_accounts_delete(id, &status, err) == 0)
        reply(r, 200, json_pack("{s:s, s:b}", "AccountId", id, "Deleted", 1));
    else
        reply_err(r, status, err);
}

static const char *member(json_t *doc, const char *a, const char *b)
{
    const char *v = json_string_value(json_object_get(doc, a));
    return v ? v : json_string_value(json_object_get(doc, b));
}

static void create_worker(nb_req *r)
{
    json_t *doc = r->ud;
    nb_account_spec s = {
        .id = member(doc, "AccountId", "id"),
        .name = member(doc, "Name", "name"),
        .email = member(doc, "Email", "email"),
        .access_key = member(doc, "AccessKeyId", "access_key"),
        .secret_key = member(doc, "SecretAccessKey", "secret_key"),
    };
    int status = 500;
    char err[256] = "";
    json_t *out = nb_accounts_create(&s, &status, err);
    json_decref(doc);
    r->ud = NULL;
    if (out)
        reply(r, 200, out);
    else
        reply_err(r, status, err);
}

static void create_body(nb_req *r, int status, const char *body, size_t len)
{
    if (status != 0) {
        reply_err(r, status == 413 ? 413 : 400, "cannot read the request body");
        return;
    }
    json_error_t je;
    json_t *doc = len ? json_loadb(body, len, 0, &je) : json_object();
    if (!json_is_object(doc)) {
        json_decref(doc);
        reply_err(r, 400, "the body must be a JSON object");
        return;
    }
    r->ud = doc;
    nb_req_offload(r, create_worker);
}

void nb_admin_accounts(nb_req *r)
{
    r->log_operation = "Accounts";
    if (!loopback(r)) {
        reply_err(r, 403, "accounts can be managed from loopback only");
        return;
    }
    bool collection = path_id(r) == NULL;
    if (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"))
        nb_req_offload(r, list_or_get);
    else if (!strcmp(r->method, "POST") && collection)
        nb_req_read_all(r, 64 * 1024, create_body);
    else if (!strcmp(r->method, "DELETE") && !collection)
        nb_req_offload(r, delete_worker);
    else
        reply_err(r, 405, collection ? "use GET or POST" : "use GET or DELETE");
}
