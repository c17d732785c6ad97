/* authz.c: authorization of every request by the policy evaluator (src/iam/policy.h).
 *
 * The root user of an account is allowed everything in its own account (as in AWS). IAM
 * users and STS sessions are evaluated against their compiled policy set: identity policies
 * (user inline + attached + groups', or the role's for a role session), permissions boundary
 * and session policies, plus the resource policy a service supplies through its
 * resource_policy hook. Anonymous callers get in only through a resource policy.
 *
 * Hot path: each principal's policy set is compiled once and cached, stamped with the
 * identity generation (identity.h); any IAM write bumps the generation, so the next request
 * of every principal rebuilds its set — revoking or detaching takes effect at once while an
 * unchanged principal costs one hash lookup plus the evaluation. Resource policies are cached
 * compiled by their text. */
#include "iam/authz.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "iam/creds.h"
#include "iam/iam_policy.h"
#include "iam/identity.h"
#include "iam/lastaccess.h"

/* ---------------------------------------------------------------------------------------------
 * Template expansion
 * ------------------------------------------------------------------------------------------- */

const char *nb_authz_expand(nb_call *c, const char *tmpl)
{
    nb_buf b;
    nb_buf_init(&b);
    for (const char *p = tmpl; *p;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (!end) break;
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
            /* "{Member|self}": the member, or the caller's own name when absent (IAM
             * operations on "the calling user" when UserName is omitted). */
            bool self = false;
            char *bar = strchr(name, '|');
            if (bar) {
                self = strcmp(bar + 1, "self") == 0;
                *bar = 0;
            }
            const char *v = NULL;
            char path[513];
            if (name[0] == '@' && strchr(name, ':')) {
                /* "{@kind:Member}": the path of the IAM entity that member names, as AWS puts
                 * it in the entity's ARN (user/division_abc/NAME); for one that does not exist
                 * yet (Create*), the request's Path; else "/". */
                char *colon = strchr(name, ':');
                *colon = 0;
                const char *ename = nb_in_str(c, colon + 1);
                if (!ename && self && c->who.type == NB_PRINCIPAL_USER) ename = c->who.name;
                v = "/";
                const char *req = nb_in_str(c, "Path");
                if (ename && nb_identity_entity_path(c->who.account, name + 1, ename, path))
                    v = path;
                else if (req && req[0] == '/' && req[strlen(req) - 1] == '/')
                    v = req;
                nb_buf_puts(&b, v);
                p = end + 1;
                continue;
            }
            if (!strcmp(name, "region"))
                v = c->region;
            else if (!strcmp(name, "account"))
                v = c->who.account;
            else
                v = nb_in_str(c, name);
            if (!v && self && c->who.type == NB_PRINCIPAL_USER) v = c->who.name;
            if (v) nb_buf_puts(&b, v);
            p = end + 1;
        } else {
            nb_buf_putc(&b, *p++);
        }
    }
    const char *out = b.oom ? NULL : nb_arena_strndup(c->arena, b.data ? b.data : "", b.len);
    nb_buf_free(&b);
    return out;
}

/* ---------------------------------------------------------------------------------------------
 * Compiled policy sets, per principal
 * ------------------------------------------------------------------------------------------- */

struct nb_authz_set {
    atomic_int refs;
    uint64_t gen;
    char *key;
    bool exists;        /* false: the user/role/session is gone: nothing is allowed */
    nb_policy **identity;
    size_t nidentity;
    nb_policy *boundary;
    nb_policy **session;
    size_t nsession;
    json_t *tags;       /* principal tags (object), for aws:PrincipalTag/ */
    json_t *context;    /* STS sessions: condition keys of their own (saml:sub ...), or NULL */
    char *role_arn;     /* role sessions: arn:aws:iam::ACCT:role/path/name */
    char *user_name;    /* IAM users: aws:username */
    struct nb_authz_set *next; /* hash chain */
};

#define SET_BUCKETS 1024
#define SET_MAX 20000 /* beyond, the cache is emptied: sets are cheap to rebuild */
static struct nb_authz_set *sets[SET_BUCKETS];
static size_t nsets;
static pthread_rwlock_t sets_mu = PTHREAD_RWLOCK_INITIALIZER;

static unsigned hash_str(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void set_free(struct nb_authz_set *s)
{
    for (size_t i = 0; i < s->nidentity; i++) nb_policy_free(s->identity[i]);
    for (size_t i = 0; i < s->nsession; i++) nb_policy_free(s->session[i]);
    nb_policy_free(s->boundary);
    free(s->identity);
    free(s->session);
    json_decref(s->tags);
    json_decref(s->context);
    free(s->role_arn);
    free(s->user_name);
    free(s->key);
    free(s);
}

void nb_authz_set_release(const nb_authz_set *cs)
{
    struct nb_authz_set *s = (struct nb_authz_set *)cs;
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) set_free(s);
}

static nb_policy *compile(const char *doc, enum nb_policy_kind kind, const char *what)
{
    nb_policy_error e;
    nb_policy *p = nb_policy_parse(doc, strlen(doc), kind, &e);
    if (!p) nb_warn("iam: stored policy of %s does not compile (%s): ignored", what, e.message);
    return p;
}

static nb_policy **compile_list(json_t *docs, enum nb_policy_kind kind, const char *what, size_t *n)
{
    size_t cnt = json_array_size(docs);
    *n = 0;
    nb_policy **out = calloc(cnt ? cnt : 1, sizeof(*out));
    if (!out) return NULL;
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d)
    {
        nb_policy *p = compile(json_string_value(d), kind, what);
        if (p) out[(*n)++] = p;
    }
    return out;
}

/* A session policy that allows nothing: GetFederationToken without a policy gives a session
 * with no permissions (AWS). */
static const char *const NOTHING_DOC =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"none:none\","
    "\"Resource\":\"*\"}]}";

struct load_ctx {
    const nb_principal *who;
    json_t *docs;      /* entity docs */
    json_t *session;   /* array of session documents */
    json_t *stags;     /* session tags, override the entity's */
    json_t *sctx;      /* session condition keys (sessions.context) */
    char *role_arn;
    bool found;
};

static void add_arn_docs(sqlite3 *h, json_t *out, const char *arns_json)
{
    json_t *arns = arns_json && *arns_json ? json_loads(arns_json, 0, NULL) : NULL;
    size_t i;
    json_t *a;
    json_array_foreach(arns, i, a)
    {
        char *doc = json_is_string(a) ? nb_identity_policy_doc(h, json_string_value(a)) : NULL;
        /* A managed session policy that no longer exists allows nothing. */
        json_array_append_new(out, json_string(doc ? doc : NOTHING_DOC));
        free(doc);
    }
    json_decref(arns);
}

static int load_fn(sqlite3 *h, void *arg)
{
    struct load_ctx *l = arg;
    const nb_principal *who = l->who;
    l->session = json_array();
    if (who->type == NB_PRINCIPAL_USER) {
        sqlite3_stmt *st = nb_iq(h, "SELECT account, name FROM users WHERE id = ?", "s", who->user_id);
        char account[13] = "", name[129] = "";
        if (st && sqlite3_step(st) == SQLITE_ROW) {
            snprintf(account, sizeof(account), "%s", nb_iq_text(st, 0));
            snprintf(name, sizeof(name), "%s", nb_iq_text(st, 1));
        }
        if (st) sqlite3_reset(st);
        if (!name[0]) return SQLITE_OK;
        l->docs = nb_identity_entity_docs(h, account, "user", name);
        l->found = l->docs != NULL;
        return SQLITE_OK;
    }
    /* STS sessions: the row names the role (or the federating user) and the session's own
     * policies and tags. */
    sqlite3_stmt *st = nb_iq(h,
                             "SELECT kind, account, role_name, role_arn, source_user, policy, "
                             "policy_arns, tags, context FROM sessions WHERE id = ?",
                             "s", who->access_key);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return SQLITE_OK;
    }
    char kind[16], account[13], role_name[129], source_user[129];
    snprintf(kind, sizeof(kind), "%s", nb_iq_text(st, 0));
    snprintf(account, sizeof(account), "%s", nb_iq_text(st, 1));
    snprintf(role_name, sizeof(role_name), "%s", nb_iq_text(st, 2));
    snprintf(source_user, sizeof(source_user), "%s", nb_iq_text(st, 4));
    l->role_arn = strdup(nb_iq_text(st, 3));
    char *policy = sqlite3_column_type(st, 5) != SQLITE_NULL ? strdup(nb_iq_text(st, 5)) : NULL;
    char *parns = strdup(nb_iq_text(st, 6));
    l->stags = json_loads(nb_iq_text(st, 7), 0, NULL);
    l->sctx = json_loads(nb_iq_text(st, 8), 0, NULL);
    sqlite3_reset(st);
    if (policy) json_array_append_new(l->session, json_string(policy));
    add_arn_docs(h, l->session, parns);
    free(policy);
    free(parns);
    if (!strcmp(kind, "role")) {
        l->docs = nb_identity_entity_docs(h, account, "role", role_name);
    } else if (!strcmp(kind, "federated")) {
        if (source_user[0]) {
            l->docs = nb_identity_entity_docs(h, account, "user", source_user);
        } else {
            /* Federated by the root user: the root's permissions, limited by the session. */
            l->docs = json_pack("{s:[s]}", "identity",
                                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                "\"Action\":\"*\",\"Resource\":\"*\"}]}");
        }
        if (json_array_size(l->session) == 0) json_array_append_new(l->session, json_string(NOTHING_DOC));
    }
    l->found = l->docs != NULL;
    return SQLITE_OK;
}

static const char *set_key(const nb_principal *who, char *buf, size_t n)
{
    /* Users (with long-term or GetSessionToken keys) share one set per user; each STS role or
     * federated session has its own (its session policies differ). */
    if (who->type == NB_PRINCIPAL_USER)
        snprintf(buf, n, "u:%s", who->user_id);
    else
        snprintf(buf, n, "s:%s", who->access_key);
    return buf;
}

static struct nb_authz_set *build_set(const nb_principal *who, const char *key, uint64_t gen)
{
    struct nb_authz_set *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    atomic_init(&s->refs, 1);
    s->gen = gen;
    s->key = strdup(key);
    nb_db *db = nb_identity_db();
    struct load_ctx l = {.who = who};
    if (db && nb_db_read(db, load_fn, &l) != SQLITE_OK) {
        json_decref(l.docs);
        json_decref(l.session);
        json_decref(l.stags);
        json_decref(l.sctx);
        free(l.role_arn);
        set_free(s);
        return NULL;
    }
    s->exists = l.found;
    if (l.found) {
        s->identity = compile_list(json_object_get(l.docs, "identity"), NB_POLICY_IDENTITY, who->arn,
                                   &s->nidentity);
        const char *b = json_string_value(json_object_get(l.docs, "boundary"));
        if (b) {
            s->boundary = compile(b, NB_POLICY_BOUNDARY, who->arn);
            /* A boundary that does not compile must not widen access: allow nothing. */
            if (!s->boundary) s->boundary = compile(NOTHING_DOC, NB_POLICY_BOUNDARY, "nothing");
        }
        s->session = compile_list(l.session, NB_POLICY_SESSION, who->arn, &s->nsession);
        if (json_array_size(l.session) && s->nsession == 0) {
            free(s->session);
            s->session = calloc(1, sizeof(*s->session));
            if (s->session) {
                s->session[0] = compile(NOTHING_DOC, NB_POLICY_SESSION, "nothing");
                s->nsession = s->session[0] ? 1 : 0;
            }
        }
        s->tags = json_object();
        json_object_update(s->tags, json_object_get(l.docs, "tags"));
        if (json_is_object(l.stags)) json_object_update(s->tags, l.stags);
        if (json_is_object(l.sctx)) s->context = json_incref(l.sctx);
        if (who->type == NB_PRINCIPAL_USER) s->user_name = strdup(who->name);
        s->role_arn = l.role_arn;
        l.role_arn = NULL;
        if (!s->identity || !s->session || !s->tags) {
            set_free(s);
            s = NULL;
        }
    }
    json_decref(l.docs);
    json_decref(l.session);
    json_decref(l.stags);
    json_decref(l.sctx);
    free(l.role_arn);
    return s;
}

const nb_authz_set *nb_authz_set_get(const nb_principal *who)
{
    char key[200];
    set_key(who, key, sizeof(key));
    unsigned b = hash_str(key) % SET_BUCKETS;
    uint64_t gen = nb_identity_generation();
    pthread_rwlock_rdlock(&sets_mu);
    for (struct nb_authz_set *s = sets[b]; s; s = s->next) {
        if (s->gen == gen && strcmp(s->key, key) == 0) {
            atomic_fetch_add(&s->refs, 1);
            pthread_rwlock_unlock(&sets_mu);
            return s;
        }
    }
    pthread_rwlock_unlock(&sets_mu);

    struct nb_authz_set *fresh = build_set(who, key, gen);
    if (!fresh) return NULL;
    atomic_fetch_add(&fresh->refs, 1); /* one for the cache, one for the caller */
    struct nb_authz_set *old = NULL;
    pthread_rwlock_wrlock(&sets_mu);
    if (nsets >= SET_MAX) {
        for (size_t i = 0; i < SET_BUCKETS; i++) {
            while (sets[i]) {
                struct nb_authz_set *s = sets[i];
                sets[i] = s->next;
                nb_authz_set_release(s);
            }
        }
        nsets = 0;
    }
    for (struct nb_authz_set **pp = &sets[b]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, key) == 0) {
            old = *pp;
            *pp = old->next;
            nsets--;
            break;
        }
    }
    fresh->next = sets[b];
    sets[b] = fresh;
    nsets++;
    pthread_rwlock_unlock(&sets_mu);
    nb_authz_set_release(old);
    return fresh;
}

/* ---------------------------------------------------------------------------------------------
 * Resource (and trust) policies, compiled once per distinct text
 * ------------------------------------------------------------------------------------------- */

struct rpol {
    char *text;
    int kind;
    nb_policy *p; /* NULL: the text does not compile (then it grants nothing) */
    struct rpol *next;
};
#define RPOL_BUCKETS 256
#define RPOL_MAX 4096
static struct rpol *rpols[RPOL_BUCKETS];
static size_t nrpols;
static pthread_mutex_t rpol_mu = PTHREAD_MUTEX_INITIALIZER;

/* Compiled policies are immutable and live until the cache is flushed; a flush happens only
 * when the cache is full, and entries in use at that moment are kept on a retired list so
 * no evaluation ever sees a freed policy. */
static struct rpol *retired;

static const nb_policy *resource_policy_compiled(const char *text, enum nb_policy_kind kind)
{
    unsigned b = (hash_str(text) ^ (unsigned)kind) % RPOL_BUCKETS;
    pthread_mutex_lock(&rpol_mu);
    for (struct rpol *r = rpols[b]; r; r = r->next) {
        if (r->kind == (int)kind && strcmp(r->text, text) == 0) {
            pthread_mutex_unlock(&rpol_mu);
            return r->p;
        }
    }
    pthread_mutex_unlock(&rpol_mu);
    struct rpol *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->text = strdup(text);
    r->kind = (int)kind;
    nb_policy_error e;
    r->p = r->text ? nb_policy_parse(text, strlen(text), kind, &e) : NULL;
    if (!r->p) nb_debug("iam: resource policy does not compile: %s", e.message);
    pthread_mutex_lock(&rpol_mu);
    if (nrpols >= RPOL_MAX) {
        for (size_t i = 0; i < RPOL_BUCKETS; i++) {
            while (rpols[i]) {
                struct rpol *x = rpols[i];
                rpols[i] = x->next;
                x->next = retired;
                retired = x;
            }
        }
        nrpols = 0;
    }
    r->next = rpols[b];
    rpols[b] = r;
    nrpols++;
    pthread_mutex_unlock(&rpol_mu);
    return r->p;
}

/* ---------------------------------------------------------------------------------------------
 * Request context (condition keys)
 * ------------------------------------------------------------------------------------------- */

static void ctx_set(json_t *ctx, const char *k, const char *v)
{
    if (v) nb_authz_context_set(ctx, k, v);
}

/* aws:RequestTag/<k> and aws:TagKeys from the input's tags: a list of {Key, Value} (query and
 * json services), or a map (Lambda, Logs). */
static void request_tags(json_t *ctx, const json_t *input)
{
    static const char *const names[] = {"Tags", "tags", "TagList"};
    for (size_t n = 0; n < NB_ARRAY_LEN(names); n++) {
        json_t *tags = json_object_get(input, names[n]);
        if (!tags) continue;
        char k[300];
        if (json_is_array(tags)) {
            size_t i;
            json_t *t;
            json_array_foreach(tags, i, t)
            {
                const char *key = json_string_value(json_object_get(t, "Key"));
                const char *val = json_string_value(json_object_get(t, "Value"));
                if (!key) continue;
                snprintf(k, sizeof(k), "aws:RequestTag/%s", key);
                nb_authz_context_set(ctx, k, val ? val : "");
                nb_authz_context_add(ctx, "aws:TagKeys", key);
            }
        } else if (json_is_object(tags)) {
            const char *key;
            json_t *v;
            json_object_foreach(tags, key, v)
            {
                snprintf(k, sizeof(k), "aws:RequestTag/%s", key);
                nb_authz_context_set(ctx, k, json_is_string(v) ? json_string_value(v) : "");
                nb_authz_context_add(ctx, "aws:TagKeys", key);
            }
        }
        return;
    }
}

static json_t *build_context(nb_call *c, const struct nb_authz_set *s)
{
    json_t *ctx = json_object();
    if (!ctx) return NULL;
    nb_req *r = c->http;
    if (r) {
        const char *ip = r->peer_ip;
        if (!strncmp(ip, "::ffff:", 7) && strchr(ip, '.')) ip += 7; /* v4-mapped */
        ctx_set(ctx, "aws:SourceIp", ip);
        ctx_set(ctx, "aws:SecureTransport", r->tls ? "true" : "false");
        ctx_set(ctx, "aws:UserAgent", nb_req_header(r, "user-agent", NULL));
        ctx_set(ctx, "aws:Referer", nb_req_header(r, "referer", NULL));
    }
    double now = nb_clock_now_f();
    char iso[32], epoch[32];
    nb_time_iso8601(now, iso);
    /* AWS writes aws:CurrentTime without fractions: 2026-11-27T03:14:34Z. */
    if (strlen(iso) == 24) {
        iso[19] = 'Z';
        iso[20] = 0;
    }
    snprintf(epoch, sizeof(epoch), "%lld", (long long)now);
    ctx_set(ctx, "aws:CurrentTime", iso);
    ctx_set(ctx, "aws:EpochTime", epoch);
    ctx_set(ctx, "aws:RequestedRegion", c->region);
    ctx_set(ctx, "aws:ViaAWSService", "false");
    if (c->who.temporary) ctx_set(ctx, "aws:MultiFactorAuthPresent", c->who.mfa ? "true" : "false");
    if (s && s->tags) {
        const char *k;
        json_t *v;
        char key[300];
        json_object_foreach(s->tags, k, v)
        {
            snprintf(key, sizeof(key), "aws:PrincipalTag/%s", k);
            ctx_set(ctx, key, json_string_value(v));
        }
    }
    if (s && s->context) {
        const char *k;
        json_t *v;
        json_object_foreach(s->context, k, v) ctx_set(ctx, k, json_string_value(v));
    }
    if (c->input) request_tags(ctx, c->input);
    return ctx;
}

/* Per-thread reuse of the last context built (read-only once built: the evaluator only reads
 * it). The key is everything build_context reads apart from the input's tags. */
static __thread struct {
    json_t *ctx;
    const struct nb_authz_set *set; /* referenced while cached, so its address is not reused */
    uint64_t gen;
    int64_t sec;
    bool tls, temporary, mfa;
    char ip[48];
    char ua[128];
    const char *region;
} tl;

/* Threads that cached a context release it when they exit. */
static pthread_key_t tl_key;
static pthread_once_t tl_key_once = PTHREAD_ONCE_INIT;

static void tl_release(void *unused)
{
    (void)unused;
    json_decref(tl.ctx);
    tl.ctx = NULL;
    if (tl.set) nb_authz_set_release(tl.set);
    tl.set = NULL;
}

static void tl_key_init(void) { pthread_key_create(&tl_key, tl_release); }

static json_t *shared_context(nb_call *c, const struct nb_authz_set *s)
{
    int64_t sec = nb_clock_now();
    const char *ua = c->http ? nb_req_header(c->http, "user-agent", NULL) : NULL;
    bool tls = c->http && c->http->tls;
    const char *ip = c->http ? c->http->peer_ip : "";
    bool hit = tl.ctx && tl.set == s && tl.gen == nb_identity_generation() && tl.sec == sec && tl.tls == tls &&
               tl.temporary == c->who.temporary && tl.mfa == c->who.mfa && tl.region == c->region && strcmp(tl.ip, ip) == 0 &&
               strlen(ua ? ua : "") < sizeof(tl.ua) && strcmp(tl.ua, ua ? ua : "") == 0 &&
               !(c->http && nb_req_header(c->http, "referer", NULL));
    if (hit) return json_incref(tl.ctx);
    json_t *ctx = build_context(c, s);
    if (!ctx) return NULL;
    if (!tl.ctx) {
        pthread_once(&tl_key_once, tl_key_init);
        pthread_setspecific(tl_key, &tl);
    }
    json_decref(tl.ctx);
    if (tl.set) nb_authz_set_release(tl.set);
    tl.ctx = json_incref(ctx);
    tl.set = s;
    if (s) atomic_fetch_add(&((struct nb_authz_set *)s)->refs, 1);
    tl.gen = nb_identity_generation();
    tl.sec = sec;
    tl.tls = tls;
    tl.temporary = c->who.temporary;
    tl.mfa = c->who.mfa;
    tl.region = c->region;
    snprintf(tl.ip, sizeof(tl.ip), "%s", ip);
    snprintf(tl.ua, sizeof(tl.ua), "%s", ua ? ua : "");
    return ctx;
}

/* ---------------------------------------------------------------------------------------------
 * Decision
 * ------------------------------------------------------------------------------------------- */

static nb_pt principal_kind(const nb_principal *who)
{
    switch (who->type) {
    case NB_PRINCIPAL_ROOT: return NB_PT_ROOT;
    case NB_PRINCIPAL_USER: return NB_PT_USER;
    case NB_PRINCIPAL_ASSUMED_ROLE: return NB_PT_ROLE_SESSION;
    case NB_PRINCIPAL_FEDERATED: return NB_PT_FEDERATED_USER;
    default: return NB_PT_ANONYMOUS;
    }
}

/* The AccessDenied error each protocol family uses. */
static int deny(nb_call *c, const char *action, const char *resource, const char *why)
{
    const char *proto = c->model ? nb_model_protocol(c->model) : "query";
    const char *svc = c->model ? nb_model_name(c->model) : "";
    if (c->who.type == NB_PRINCIPAL_ANONYMOUS)
        return nb_call_error(c, 403, !strcmp(proto, "json") || !strcmp(proto, "rest-json") ? "AccessDeniedException" : "AccessDenied",
                             "Access Denied");
    char msg[900];
    if (resource && *resource)
        snprintf(msg, sizeof(msg), "User: %s is not authorized to perform: %s on resource: %s %s",
                 c->who.arn, action, resource, why);
    else
        snprintf(msg, sizeof(msg), "User: %s is not authorized to perform: %s %s", c->who.arn,
                 action, why);
    if (!strcmp(proto, "ec2"))
        return nb_call_error(c, 403, "UnauthorizedOperation",
                             "You are not authorized to perform this operation. %s", msg);
    if (!strcmp(proto, "json")) return nb_call_error(c, 400, "AccessDeniedException", "%s", msg);
    if (!strcmp(proto, "rest-json")) return nb_call_error(c, 403, "AccessDeniedException", "%s", msg);
    if (!strcmp(svc, "sns")) return nb_call_error(c, 403, "AuthorizationError", "%s", msg);
    return nb_call_error(c, 403, "AccessDenied", "%s", msg);
}

/* Service last-accessed data (IAM's GenerateServiceLastAccessedDetails): AWS counts every
 * authenticated attempt, allowed or not, of IAM users and of roles (through their sessions). */
static void record_attempt(const nb_call *c, const nb_authz_set *s, const char *action)
{
    char id[32];
    if (c->who.type == NB_PRINCIPAL_USER) {
        snprintf(id, sizeof(id), "%s", c->who.user_id);
    } else if (c->who.type == NB_PRINCIPAL_ASSUMED_ROLE && s->role_arn) {
        /* The session's user id is "AROA...:session-name": the role's id before the colon. */
        snprintf(id, sizeof(id), "%.*s", (int)strcspn(c->who.user_id, ":"), c->who.user_id);
    } else {
        return;
    }
    nb_last_access_record(id, action, c->region);
}

int nb_authz_check(nb_call *c, const nb_authz_check_args *a)
{
    const nb_principal *who = &c->who;
    const nb_policy *rp = a->resource_policy
                              ? resource_policy_compiled(a->resource_policy,
                                                         a->trust ? NB_POLICY_TRUST : NB_POLICY_RESOURCE)
                              : NULL;
    const char *owner = a->resource_account && *a->resource_account ? a->resource_account : NULL;
    bool same_account = !owner || strcmp(owner, who->account) == 0;

    /* Root in its own account, with no resource policy to consult: allowed, no evaluation. */
    if (who->type == NB_PRINCIPAL_ROOT && same_account && !rp) return 0;
    if (who->type == NB_PRINCIPAL_ANONYMOUS && !rp) return deny(c, a->action, a->resource, "");

    const nb_authz_set *s = NULL;
    if (who->type == NB_PRINCIPAL_USER || who->type == NB_PRINCIPAL_ASSUMED_ROLE ||
        who->type == NB_PRINCIPAL_FEDERATED) {
        s = nb_authz_set_get(who);
        if (!s) return nb_call_error(c, 503, "ServiceUnavailable", "Cannot read the caller's policies; retry.");
        if (!s->exists) {
            nb_authz_set_release(s);
            return deny(c, a->action, a->resource, "because no identity-based policy allows the action");
        }
        record_attempt(c, s, a->action);
    }
    /* Requests that add nothing of their own (no tags in the input, no extra keys, no service
     * keys) share this thread's context while the caller, peer and second are the same. */
    bool own = a->context || (c->svc && c->svc->authz_context && !a->skip_service_context) ||
               (c->input && (json_object_get(c->input, "Tags") || json_object_get(c->input, "tags") ||
                             json_object_get(c->input, "TagList")));
    json_t *ctx = own ? build_context(c, s) : shared_context(c, s);
    if (!ctx) {
        nb_authz_set_release(s);
        return nb_call_error(c, 503, "ServiceUnavailable", "Out of memory.");
    }
    if (a->context) json_object_update(ctx, a->context);
    if (own && c->svc && c->svc->authz_context && !a->skip_service_context && c->svc->authz_context(c, ctx) < 0) {
        json_decref(ctx);
        nb_authz_set_release(s);
        return -1;
    }
    /* The canonical id (a SHA-256) matters only to resource policies naming CanonicalUser. */
    char canon[65] = "";
    if (rp && who->account[0]) nb_canonical_user_id(who->account, canon);
    nb_authz_request req = {
        .action = a->action,
        .resource = a->resource && *a->resource ? a->resource : NULL,
        .principal_type = principal_kind(who),
        .principal_arn = who->arn[0] ? who->arn : NULL,
        .role_arn = s ? s->role_arn : NULL,
        .principal_account = who->account[0] ? who->account : NULL,
        .resource_account = owner,
        .user_name = s ? s->user_name : NULL,
        .user_id = who->user_id[0] ? who->user_id : NULL,
        .canonical_id = canon[0] ? canon : NULL,
        .context = ctx,
    };
    nb_authz_policies pols = {
        .identity = s ? (const nb_policy *const *)s->identity : NULL,
        .nidentity = s ? s->nidentity : 0,
        .boundary = s ? s->boundary : NULL,
        .session = s ? (const nb_policy *const *)s->session : NULL,
        .nsession = s ? s->nsession : 0,
        .resource = rp,
    };
    nb_authz_explain ex;
    enum nb_decision d = nb_authz_evaluate(&req, &pols, &ex);
    /* A role's trust policy is a required resource policy (AWS): even in the role's own account,
     * and even for the root user, it must name the caller (or its account, with the identity
     * policies then deciding), its conditions (sts:ExternalId ...) holding. */
    if (d == NB_DECISION_ALLOW && a->trust && rp && nb_policy_matches_principal(rp, &req) == NB_PRINCIPAL_MATCH_NONE) {
        d = NB_DECISION_IMPLICIT_DENY;
        ex.reason = NB_AUTHZ_DENIED_NO_RESOURCE;
        ex.where = NB_AUTHZ_IN_RESOURCE;
    }
    json_decref(ctx);
    nb_authz_set_release(s);
    if (d == NB_DECISION_ALLOW) return 0;
    /* S3 explains a refusal only to callers in the resource's own account; across accounts it
     * says "Access Denied" and no more (AWS, "Access denied error messages"). */
    bool s3 = (c->svc && !strcmp(c->svc->name, "s3")) ||
              (c->model && !strcmp(nb_model_name(c->model), "s3"));
    if (s3 && !same_account) return nb_call_error(c, 403, "AccessDenied", "Access Denied");
    char why[300];
    nb_authz_reason_text(&ex, a->action, why, sizeof(why));
    return deny(c, a->action, a->resource, why);
}

/* The IAM action vendor of a service: its endpoint prefix ("iam", "s3", "elasticloadbalancing"),
 * except where AWS names actions differently from the endpoint (CloudWatch's endpoint is
 * "monitoring", its actions "cloudwatch:"). */
static const char *action_vendor(const nb_model *m)
{
    if (!m) return "";
    const char *p = nb_model_endpoint_prefix(m);
    if (!p || !*p) p = nb_model_signing_name(m);
    if (!p) return "";
    if (!strcmp(p, "monitoring")) return "cloudwatch";
    if (!strcmp(p, "email")) return "ses";
    return p;
}

/* The dispatcher may not have filled c->model and c->svc: find them from the operation (one
 * pointer compare per service, against a table built once). */
static const nb_model *svc_models[64];
static pthread_once_t svc_models_once = PTHREAD_ONCE_INIT;

static void svc_models_init(void)
{
    for (size_t i = 0; i < nb_services_count() && i < NB_ARRAY_LEN(svc_models); i++)
        svc_models[i] = nb_model_find(nb_service_at(i)->model);
}

static void fill_model(nb_call *c)
{
    if ((c->model && c->svc) || !c->op) return;
    pthread_once(&svc_models_once, svc_models_init);
    size_t idx = nb_op_index(c->op);
    for (size_t i = 0; i < nb_services_count() && i < NB_ARRAY_LEN(svc_models); i++) {
        const nb_model *m = svc_models[i];
        if (m && idx < nb_model_nops(m) && nb_model_op_at(m, idx) == c->op) {
            if (!c->model) c->model = m;
            if (!c->svc) c->svc = nb_service_at(i);
            return;
        }
    }
}

int nb_iam_authorize(nb_call *c, const nb_op_def *def)
{
    fill_model(c);
    /* Credentials from GetSessionToken (without MFA) and GetFederationToken cannot call IAM:
     * AWS answers that the token is invalid. */
    if (c->who.temporary && c->who.type != NB_PRINCIPAL_ASSUMED_ROLE && c->svc && !strcmp(c->svc->name, "iam") &&
        !(c->who.mfa && c->who.type != NB_PRINCIPAL_FEDERATED))
        return nb_call_error(c, 403, "InvalidClientTokenId", "The security token included in the request is invalid");
    if (c->who.type == NB_PRINCIPAL_USER && !c->who.temporary)
        nb_identity_key_used(c->who.access_key, c->model ? nb_model_endpoint_prefix(c->model) : NULL, c->region);
    if (def && (def->flags & NB_OP_NO_AUTHZ)) return 0;
    /* Root in its own account, with no resource-policy hook: the common case, decided here. */
    if (c->who.type == NB_PRINCIPAL_ROOT && (!c->svc || !c->svc->resource_policy)) return 0;

    char actbuf[200];
    const char *action = def && def->iam_action ? def->iam_action : NULL;
    if (!action) {
        snprintf(actbuf, sizeof(actbuf), "%s:%s", action_vendor(c->model),
                 c->op_name ? c->op_name : "");
        action = actbuf;
    }
    if (c->svc && c->svc->authz_action) {
        const char *v = c->svc->authz_action(c, action);
        if (v) action = v;
    }
    const char *resource = def && def->resource ? nb_authz_expand(c, def->resource) : "*";
    if (!resource) return nb_call_error(c, 503, "ServiceUnavailable", "Out of memory.");
    nb_authz_check_args a = {.action = action, .resource = resource};
    if (c->svc && c->svc->resource_policy) {
        const char *owner = NULL;
        a.resource_policy = c->svc->resource_policy(c, &owner);
        if (c->err.code[0]) return -1; /* the hook failed the call (e.g. NoSuchBucket) */
        a.resource_account = owner;
    }
    return nb_authz_check(c, &a);
}

json_t *nb_policy_one_or_list(json_t *arr)
{
    if (json_array_size(arr) != 1) return arr;
    json_t *one = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return one;
}
