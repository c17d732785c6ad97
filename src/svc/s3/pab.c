/* pab.c: S3 Block Public Access: Put/Get/DeletePublicAccessBlock at bucket level, the account
 * level (kept in account_config, reached through /_nimbus/s3/public-access-block/<account>
 * because s3control is a service of its own), and AWS's rule for when a bucket policy is
 * "public". New buckets get every block on (an AFTER INSERT trigger of migration 3), as AWS
 * does since April 2023. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "svc/s3/access.h"
#include "svc/s3/bucketcfg.h"

static const char *const pab_names[4] = {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                         "RestrictPublicBuckets"};

void nb_s3_pab_from_json(json_t *doc, nb_s3_pab *out)
{
    memset(out, 0, sizeof *out);
    if (!doc) return;
    out->block_acls = json_is_true(json_object_get(doc, pab_names[0]));
    out->ignore_acls = json_is_true(json_object_get(doc, pab_names[1]));
    out->block_policy = json_is_true(json_object_get(doc, pab_names[2]));
    out->restrict_buckets = json_is_true(json_object_get(doc, pab_names[3]));
}

nb_s3_pab nb_s3_pab_effective(const nb_s3_bcfg *cfg)
{
    nb_s3_pab p = cfg->pab, a = cfg->acct_pab;
    p.block_acls |= a.block_acls;
    p.ignore_acls |= a.ignore_acls;
    p.block_policy |= a.block_policy;
    p.restrict_buckets |= a.restrict_buckets;
    return p;
}

/* Condition keys whose fixed (wildcard-free) values make a statement non-public (S3 User
 * Guide, "The meaning of public"). */
static const char *const fixing_keys[] = {
    "aws:sourcearn",       "aws:sourcevpc",          "aws:sourcevpce",
    "aws:sourceowner",     "aws:sourceaccount",      "aws:principalorgid",
    "aws:principalaccount", "aws:userid",             "aws:principalarn",
    "s3:dataaccesspointarn", "s3:dataaccesspointaccount", "aws:sourceip",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
};

static bool value_fixed(const char *key, json_t *v)
{
    json_t *list = json_is_array(v) ? json_incref(v) : json_pack("[O]", v);
    bool fixed = json_array_size(list) > 0;
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *s = json_string_value(x);
        /* a policy variable is no fixed value either */
        if (!s || strstr(s, "${")) {
            fixed = false;
            continue;
        }
        /* aws:userid "AROLEID:*" (every session of one role) counts as fixed */
        bool role_sessions = !strcasecmp(key, "aws:userid") && !strncmp(s, "AROA", 4) &&
                             strlen(s) > 2 && !strcmp(s + strlen(s) - 2, ":*") &&
                             !strpbrk(s, "?") && strchr(s, '*') == s + strlen(s) - 1;
        if (!role_sessions && (strchr(s, '*') || strchr(s, '?'))) fixed = false;
        /* A source IP range broader than /8 (IPv4) or /32 (IPv6), e.g. 0.0.0.0/1, is public. */
        if (!strcasecmp(key, "aws:sourceip")) {
            const char *slash = strchr(s, '/');
            int widest = strchr(s, ':') ? 32 : 8;
            if (slash && atoi(slash + 1) < widest) fixed = false;
        }
    }
    json_decref(list);
    return fixed;
}

static bool statement_restricted(json_t *cond)
{
    const char *op;
    json_t *keys;
    json_object_foreach(cond, op, keys)
    {
        /* Negated operators (StringNotEquals ...) and IfExists do not pin a value. */
        if (strcasestr(op, "Not") || strcasestr(op, "IfExists") || !strcasecmp(op, "Null")) continue;
        const char *k;
        json_t *v;
        json_object_foreach(keys, k, v)
        {
            for (size_t i = 0; i < NB_ARRAY_LEN(fixing_keys); i++)
                if (!strcasecmp(k, fixing_keys[i]) && value_fixed(k, v)) return true;
        }
    }
    return false;
}

static bool principal_wild(json_t *p)
{
    if (json_is_string(p)) return strchr(json_string_value(p), '*') != NULL;
    if (json_is_array(p)) {
        size_t i;
        json_t *x;
        json_array_foreach(p, i, x) if (principal_wild(x)) return true;
        return false;
    }
    if (json_is_object(p)) {
        const char *k;
        json_t *v;
        json_object_foreach(p, k, v) if (principal_wild(v)) return true;
    }
    return false;
}

bool nb_s3_policy_is_public(json_t *policy)
{
    json_t *stmts = json_object_get(policy, "Statement");
    json_t *one = NULL;
    if (json_is_object(stmts)) {
        one = json_pack("[O]", stmts);
        stmts = one;
    }
    bool pub = false;
    size_t i;
    json_t *st;
    json_array_foreach(stmts, i, st)
    {
        const char *eff = json_string_value(json_object_get(st, "Effect"));
        if (!eff || strcmp(eff, "Allow") != 0) continue;
        bool wild = json_object_get(st, "NotPrincipal") != NULL ||
                    principal_wild(json_object_get(st, "Principal"));
        if (wild && !statement_restricted(json_object_get(st, "Condition"))) {
            pub = true;
            break;
        }
    }
    json_decref(one);
    return pub;
}

/* ---------------------------------------------------------------- handlers */

static json_t *pab_doc(json_t *in)
{
    json_t *d = json_object();
    for (size_t i = 0; i < 4; i++)
        json_object_set_new(d, pab_names[i], json_boolean(json_is_true(json_object_get(in, pab_names[i]))));
    return d;
}

int nb_s3_op_put_pab(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *in = c->input ? json_object_get(c->input, "PublicAccessBlockConfiguration") : NULL;
    if (!json_is_object(in)) return nb_s3_malformed_xml(c);
    json_t *d = pab_doc(in);
    int rc = nb_s3_cfg_store(c, b.name, "pab", d);
    json_decref(d);
    return rc;
}

int nb_s3_op_get_pab(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    json_t *d = NULL;
    if (nb_s3_cfg_load(c, b.name, "pab", &d)) return -1;
    if (!d)
        return nb_s3_error(c, 404, "NoSuchPublicAccessBlockConfiguration",
                           "The public access block configuration was not found", "BucketName",
                           b.name, NULL);
    c->output = json_pack("{s:o}", "PublicAccessBlockConfiguration", d);
    return 0;
}

int nb_s3_op_delete_pab(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    if (nb_s3_cfg_store(c, b.name, "pab", NULL)) return -1;
    c->out_status = 204;
    return 0;
}

/* ---------------------------------------------------------------- account level (admin) */

static bool loopback(const nb_req *r)
{
    return strncmp(r->peer_ip, "127.", 4) == 0 || strcmp(r->peer_ip, "::1") == 0 ||
           strncmp(r->peer_ip, "::ffff:127.", 11) == 0;
}

static void admin_reply(nb_req *r, int status, const char *body)
{
    nb_resp_simple(r, status, "application/json", body, strlen(body), NULL, 0);
}

static void admin_body(nb_req *r, int status, const char *body, size_t len);

typedef struct admin_job {
    char account[16];
    const char *body;
    size_t len;
} admin_job;

static void admin_work(nb_req *r)
{
    admin_job *j = r->ud;
    if (!strcmp(r->method, "GET")) {
        const char *v = NULL;
        if (nb_s3_acct_cfg_get(j->account, "pab", r->arena, &v)) {
            admin_reply(r, 500, "{\"error\":\"InternalError\"}\n");
            return;
        }
        if (!v) {
            admin_reply(r, 404, "{\"error\":\"NoSuchPublicAccessBlockConfiguration\"}\n");
            return;
        }
        admin_reply(r, 200, nb_arena_printf(r->arena, "{\"PublicAccessBlockConfiguration\":%s}\n", v));
        return;
    }
    if (!strcmp(r->method, "DELETE")) {
        int rc = nb_s3_acct_cfg_set(j->account, "pab", NULL);
        admin_reply(r, rc ? 500 : 200, rc ? "{\"error\":\"InternalError\"}\n" : "{}\n");
        return;
    }
    json_t *in = json_loadb(j->body ? j->body : "", j->len, 0, NULL);
    json_t *cfg = json_object_get(in, "PublicAccessBlockConfiguration");
    if (!json_is_object(cfg)) cfg = in;
    if (!json_is_object(cfg)) {
        json_decref(in);
        admin_reply(r, 400, "{\"error\":\"BadRequest\",\"message\":\"JSON object expected\"}\n");
        return;
    }
    json_t *d = pab_doc(cfg);
    json_decref(in);
    char *s = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    int rc = s ? nb_s3_acct_cfg_set(j->account, "pab", s) : NB_S3_DBERR;
    const char *out = s && !rc ? nb_arena_printf(r->arena, "{\"PublicAccessBlockConfiguration\":%s}\n", s) : NULL;
    free(s);
    admin_reply(r, out ? 200 : 500, out ? out : "{\"error\":\"InternalError\"}\n");
}

static void admin_body(nb_req *r, int status, const char *body, size_t len)
{
    admin_job *j = r->ud;
    if (status) {
        admin_reply(r, 400, "{\"error\":\"BadRequest\"}\n");
        return;
    }
    j->body = body;
    j->len = len;
    nb_req_offload(r, admin_work);
}

/* /_nimbus/s3/public-access-block/<account>: GET, PUT {"BlockPublicAcls": true, ...}, DELETE.
 * The account-level block that s3control's Put/GetPublicAccessBlock set in AWS. */
static void pab_admin(nb_req *r)
{
    static const char base[] = "/_nimbus/s3/public-access-block/";
    size_t bn = sizeof base - 1;
    if (!loopback(r)) {
        admin_reply(r, 403, "{\"error\":\"AccessDenied\"}\n");
        return;
    }
    if (r->path_len <= bn || memcmp(r->path, base, bn) != 0 || r->path_len - bn != 12) {
        admin_reply(r, 404, "{\"error\":\"NotFound\"}\n");
        return;
    }
    admin_job *j = nb_arena_calloc(r->arena, sizeof *j);
    if (!j) {
        admin_reply(r, 503, "{\"error\":\"ServiceUnavailable\"}\n");
        return;
    }
    memcpy(j->account, r->path + bn, 12);
    r->ud = j;
    if (!strcmp(r->method, "PUT") || !strcmp(r->method, "POST"))
        nb_req_read_all(r, 65536, admin_body);
    else if (!strcmp(r->method, "GET") || !strcmp(r->method, "DELETE"))
        nb_req_offload(r, admin_work);
    else
        admin_reply(r, 405, "{\"error\":\"MethodNotAllowed\"}\n");
}

/* S3's other admin paths (storage report, lifecycle) live in another file written at the same
 * time as this one: a weak reference lets either be linked without the other. */
void nb_s3_admin(nb_req *r) __attribute__((weak));

void nb_s3_admin_route(nb_req *r)
{
    static const char base[] = "/_nimbus/s3/public-access-block/";
    if (r->path_len >= sizeof base - 1 && !memcmp(r->path, base, sizeof base - 1)) {
        r->log_service = "s3";
        pab_admin(r);
    } else if (nb_s3_cfg_admin(r)) { /* access log delivery (logging.c) */
    } else if (nb_s3_admin) {
        nb_s3_admin(r);
    } else {
        admin_reply(r, 404, "{\"error\":\"NotFound\"}\n");
    }
}
