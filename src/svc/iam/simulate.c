/* simulate.c: SimulatePrincipalPolicy and SimulateCustomPolicy (the same evaluator that
 * authorizes requests, over the policies of a user, group or role or over given documents),
 * and the context keys those policies use. */
#include "svc/iam/iam.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct sim {
    json_t *docs;    /* identity documents */
    json_t *sources; /* {"id", "type"} per document */
    const char *boundary;
    nb_pt type;
    const char *principal_arn;
    const char *role_arn;
    const char *user_name;
    const char *user_id;
} sim;

static void free_list(nb_policy **l, size_t n)
{
    for (size_t i = 0; i < n; i++) nb_policy_free(l[i]);
    free(l);
}

/* Compile documents; an invalid one is refused as AWS does, with the reason. */
static nb_policy **compile_all(nb_call *c, json_t *docs, enum nb_policy_kind kind, size_t *n, bool *failed)
{
    size_t cnt = json_array_size(docs);
    nb_policy **out = calloc(cnt ? cnt : 1, sizeof(*out));
    *n = 0;
    *failed = false;
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d)
    {
        nb_policy_error e;
        memset(&e, 0, sizeof(e));
        const char *s = json_string_value(d);
        nb_policy *p = s ? nb_policy_parse(s, strlen(s), kind, &e) : NULL;
        if (!p) {
            *failed = true;
            free_list(out, *n);
            nb_call_error(c, 400, "MalformedPolicyDocument", "%s", e.message[0] ? e.message : "Syntax errors in policy.");
            return NULL;
        }
        out[(*n)++] = p;
    }
    return out;
}

static json_t *context_from_input(nb_call *c)
{
    json_t *ctx = json_object();
    size_t i, j;
    json_t *e, *v;
    json_array_foreach(json_object_get(c->input, "ContextEntries"), i, e)
    {
        const char *k = json_string_value(json_object_get(e, "ContextKeyName"));
        const char *type = json_string_value(json_object_get(e, "ContextKeyType"));
        json_t *vals = json_object_get(e, "ContextKeyValues");
        if (!k) continue;
        bool list = type && strstr(type, "List");
        json_array_foreach(vals, j, v)
        {
            if (!json_is_string(v)) continue;
            if (list)
                nb_authz_context_add(ctx, k, json_string_value(v));
            else
                nb_authz_context_set(ctx, k, json_string_value(v));
        }
    }
    return ctx;
}

static const char *decision_name(enum nb_decision d)
{
    return d == NB_DECISION_ALLOW ? "allowed" : d == NB_DECISION_EXPLICIT_DENY ? "explicitDeny" : "implicitDeny";
}

/* Evaluate every action x resource; fills c->output. */
static int run(nb_call *c, sim *s)
{
    size_t nid = 0, nb = 0;
    bool failed;
    nb_policy **id = compile_all(c, s->docs, NB_POLICY_IDENTITY, &nid, &failed);
    if (failed) return -1;
    json_t *bdocs = json_object_get(c->input, "PermissionsBoundaryPolicyInputList");
    json_t *bl = json_array();
    if (json_array_size(bdocs))
        json_array_extend(bl, bdocs);
    else if (s->boundary)
        json_array_append_new(bl, json_string(s->boundary));
    nb_policy **bnd = compile_all(c, bl, NB_POLICY_BOUNDARY, &nb, &failed);
    json_decref(bl);
    if (failed) {
        free_list(id, nid);
        return -1;
    }
    nb_policy *rp = NULL;
    const char *rdoc = nb_in_str(c, "ResourcePolicy");
    if (rdoc) {
        nb_policy_error e;
        memset(&e, 0, sizeof(e));
        rp = nb_policy_parse(rdoc, strlen(rdoc), NB_POLICY_RESOURCE, &e);
        if (!rp) {
            free_list(id, nid);
            free_list(bnd, nb);
            return nb_call_error(c, 400, "MalformedPolicyDocument", "%s", e.message);
        }
    }
    /* ResourceOwner: an account ARN (arn:aws:iam::ACCT:root) or the account id. */
    char owner[13] = "";
    const char *ro = nb_in_str(c, "ResourceOwner");
    if (ro) snprintf(owner, sizeof(owner), "%s", !strncmp(ro, "arn:aws:iam::", 13) ? ro + 13 : ro);
    json_t *ctx = context_from_input(c);
    json_t *results = json_array();
    json_t *resources = json_object_get(c->input, "ResourceArns");
    json_t *star = json_pack("[s]", "*");
    if (!json_array_size(resources)) resources = star;
    size_t i, j;
    json_t *a, *r;
    json_array_foreach(json_object_get(c->input, "ActionNames"), i, a)
    {
        json_array_foreach(resources, j, r)
        {
            nb_authz_request req = {
                .action = json_string_value(a),
                .resource = strcmp(json_string_value(r), "*") ? json_string_value(r) : NULL,
                .principal_type = s->type,
                .principal_arn = s->principal_arn,
                .role_arn = s->role_arn,
                .principal_account = IAM_ACCOUNT(c),
                .resource_account = owner[0] ? owner : NULL,
                .user_name = s->user_name,
                .user_id = s->user_id,
                .context = ctx,
            };
            nb_authz_policies ps = {.identity = (const nb_policy *const *)id, .nidentity = nid,
                                    .boundary = nb ? bnd[0] : NULL, .resource = rp};
            nb_authz_explain ex;
            enum nb_decision d = nb_authz_evaluate(&req, &ps, &ex);
            json_t *matched = json_array();
            if ((ex.where == NB_AUTHZ_IN_IDENTITY) && ex.policy < json_array_size(s->sources) &&
                (d == NB_DECISION_ALLOW || d == NB_DECISION_EXPLICIT_DENY)) {
                json_t *src = json_array_get(s->sources, ex.policy);
                json_array_append_new(matched, json_pack("{s:O, s:O}", "SourcePolicyId", json_object_get(src, "id"),
                                                         "SourcePolicyType", json_object_get(src, "type")));
            }
            json_t *res = json_pack("{s:O, s:O, s:s, s:o, s:[]}", "EvalActionName", a, "EvalResourceName", r,
                                    "EvalDecision", decision_name(d), "MatchedStatements", matched,
                                    "MissingContextValues");
            if (nb) {
                bool ok = ex.reason != NB_AUTHZ_DENIED_NO_BOUNDARY &&
                          !(d == NB_DECISION_EXPLICIT_DENY && ex.where == NB_AUTHZ_IN_BOUNDARY);
                json_object_set_new(res, "PermissionsBoundaryDecisionDetail",
                                    json_pack("{s:b}", "AllowedByPermissionsBoundary", ok));
            }
            if (rp)
                json_object_set_new(res, "EvalDecisionDetails",
                                    json_pack("{s:s}", "IAM Policy", decision_name(d)));
            json_array_append_new(results, res);
        }
    }
    json_decref(star);
    json_decref(ctx);
    free_list(id, nid);
    free_list(bnd, nb);
    nb_policy_free(rp);
    /* MaxItems/Marker page the results (one per action and resource), as AWS does. */
    json_t *out = json_object();
    int rc = iam_page_list(c, out, "EvaluationResults", results);
    json_decref(results);
    if (rc) {
        json_decref(out);
        return -1;
    }
    c->output = out;
    return 0;
}

/* arn:aws:iam::ACCT:user/path/name -> kind and name (the caller's account only). */
static int parse_source(nb_call *c, const char *arn, const char **kind, char name[129])
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "arn:aws:iam::%s:", IAM_ACCOUNT(c));
    if (!arn || strncmp(arn, prefix, strlen(prefix)) != 0) return iam_invalid(c, "Invalid ARN: %s", arn ? arn : "");
    const char *rest = arn + strlen(prefix);
    if (!strncmp(rest, "user/", 5))
        *kind = "user";
    else if (!strncmp(rest, "group/", 6))
        *kind = "group";
    else if (!strncmp(rest, "role/", 5))
        *kind = "role";
    else
        return iam_invalid(c, "Invalid ARN: %s. The ARN must name a user, group or role.", arn);
    snprintf(name, 129, "%s", strrchr(rest, '/') + 1);
    return 0;
}

static int principal_tx(nb_call *c, sqlite3 *h)
{
    const char *arn = nb_in_str(c, "PolicySourceArn"), *kind;
    char name[129];
    if (parse_source(c, arn, &kind, name)) return -1;
    json_t *d = nb_identity_entity_docs(h, IAM_ACCOUNT(c), kind, name);
    if (!d) return iam_no_such(c, "The %s with name %s cannot be found.", kind, name);
    /* The result is computed inside the read: the documents are then a snapshot. */
    json_t *docs = json_copy(json_object_get(d, "identity"));
    json_t *sources = json_copy(json_object_get(d, "sources"));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(c->input, "PolicyInputList"), i, p)
    {
        json_array_append(docs, p);
        char id[40];
        snprintf(id, sizeof(id), "PolicyInputList.%zu", i + 1);
        json_array_append_new(sources, json_pack("{s:s, s:s}", "id", id, "type", "user"));
    }
    char parn[600], rarn[600];
    snprintf(rarn, sizeof(rarn), "%s", arn);
    sim s = {.docs = docs, .sources = sources,
             .boundary = json_string_value(json_object_get(d, "boundary")),
             .type = NB_PT_USER, .principal_arn = arn,
             .user_id = json_string_value(json_object_get(d, "id"))};
    if (!strcmp(kind, "user")) {
        s.user_name = json_string_value(json_object_get(d, "name"));
    } else if (!strcmp(kind, "role")) {
        /* A role is simulated as one of its sessions. */
        snprintf(parn, sizeof(parn), "arn:aws:sts::%s:assumed-role/%s/simulation", IAM_ACCOUNT(c),
                 json_string_value(json_object_get(d, "name")));
        s.type = NB_PT_ROLE_SESSION;
        s.principal_arn = parn;
        s.role_arn = rarn;
    }
    if (nb_in_str(c, "CallerArn")) s.principal_arn = nb_in_str(c, "CallerArn");
    int rc = run(c, &s);
    json_decref(docs);
    json_decref(sources);
    json_decref(d);
    return rc;
}
int iam_simulate_principal_policy(nb_call *c) { return iam_read(c, principal_tx); }

int iam_simulate_custom_policy(nb_call *c)
{
    json_t *docs = json_object_get(c->input, "PolicyInputList");
    json_t *sources = json_array();
    for (size_t i = 0; i < json_array_size(docs); i++) {
        char id[40];
        snprintf(id, sizeof(id), "PolicyInputList.%zu", i + 1);
        json_array_append_new(sources, json_pack("{s:s, s:s}", "id", id, "type", "user"));
    }
    char arn[300];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:user/simulated-user", IAM_ACCOUNT(c));
    const char *caller = nb_in_str(c, "CallerArn");
    sim s = {.docs = docs, .sources = sources, .type = NB_PT_USER, .principal_arn = caller ? caller : arn,
             .user_name = caller && strstr(caller, ":user/") ? strrchr(caller, '/') + 1 : NULL};
    int rc = run(c, &s);
    json_decref(sources);
    return rc;
}

/* ---- context keys named in Condition blocks ---- */

static void keys_of(const char *doc, json_t *seen)
{
    json_t *j = doc ? json_loads(doc, 0, NULL) : NULL;
    json_t *stmts = json_object_get(j, "Statement");
    if (json_is_object(stmts)) stmts = json_pack("[O]", stmts);
    else json_incref(stmts);
    size_t i;
    json_t *st;
    json_array_foreach(stmts, i, st)
    {
        const char *op, *key;
        json_t *body, *v;
        json_object_foreach(json_object_get(st, "Condition"), op, body)
        {
            json_object_foreach(body, key, v) json_object_set_new(seen, key, json_true());
        }
    }
    json_decref(stmts);
    json_decref(j);
}

static json_t *keys_list(json_t *seen)
{
    json_t *l = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(seen, k, v) json_array_append_new(l, json_string(k));
    return l;
}

int iam_get_context_keys_for_custom_policy(nb_call *c)
{
    json_t *seen = json_object();
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(c->input, "PolicyInputList"), i, d) keys_of(json_string_value(d), seen);
    c->output = json_pack("{s:o}", "ContextKeyNames", keys_list(seen));
    json_decref(seen);
    return 0;
}

static int principal_keys_tx(nb_call *c, sqlite3 *h)
{
    const char *kind;
    char name[129];
    if (parse_source(c, nb_in_str(c, "PolicySourceArn"), &kind, name)) return -1;
    json_t *d = nb_identity_entity_docs(h, IAM_ACCOUNT(c), kind, name);
    if (!d) return iam_no_such(c, "The %s with name %s cannot be found.", kind, name);
    json_t *seen = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(d, "identity"), i, p) keys_of(json_string_value(p), seen);
    json_array_foreach(json_object_get(c->input, "PolicyInputList"), i, p) keys_of(json_string_value(p), seen);
    c->output = json_pack("{s:o}", "ContextKeyNames", keys_list(seen));
    json_decref(seen);
    json_decref(d);
    return 0;
}
int iam_get_context_keys_for_principal_policy(nb_call *c) { return iam_read(c, principal_keys_tx); }
