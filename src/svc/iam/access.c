/* access.c: IAM's access reports: ListPoliciesGrantingServiceAccess (which of an identity's
 * policies allow actions of a service) and the service last-accessed reports
 * (GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails[WithEntities]), whose
 * times come from what authorization records (src/iam/lastaccess.c). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iam/lastaccess.h"
#include "svc/iam/iam.h"

/* The services reports name, by action namespace, with AWS's display names. Nimbus's own
 * services first; the others are AWS services a policy may name (their use is never recorded
 * here, so they are reported as never used, as AWS reports services not used). */
static const struct svc_name {
    const char *ns, *name;
    bool tracked; /* AWS tracks action-level data for these (ACTION_LEVEL reports) */
} SERVICES[] = {
    {"ec2", "Amazon EC2", true},
    {"iam", "AWS Identity and Access Management", true},
    {"lambda", "AWS Lambda", true},
    {"logs", "Amazon CloudWatch Logs", false},
    {"s3", "Amazon S3", true},
    {"sns", "Amazon SNS", false},
    {"sqs", "Amazon SQS", false},
    {"sts", "AWS Security Token Service", false},
    {"cloudformation", "AWS CloudFormation", false},
    {"cloudwatch", "Amazon CloudWatch", false},
    {"dynamodb", "Amazon DynamoDB", false},
    {"ecr", "Amazon Elastic Container Registry", false},
    {"ecs", "Amazon Elastic Container Service", false},
    {"events", "Amazon EventBridge", false},
    {"kinesis", "Amazon Kinesis", false},
    {"kms", "AWS Key Management Service", false},
    {"rds", "Amazon RDS", false},
    {"route53", "Amazon Route 53", false},
    {"secretsmanager", "AWS Secrets Manager", false},
    {"ssm", "AWS Systems Manager", false},
    {"states", "AWS Step Functions", false},
};

#define MAX_REPORTS 1000

/* ---- which services a policy allows ---- */

/* Case-insensitive glob of * and ?, iterative with one backtrack point (linear in practice,
 * never exponential whatever the policy writes). */
static bool glob(const char *p, size_t pn, const char *s)
{
    size_t pi = 0, star = (size_t)-1, mark = 0;
    const char *s0 = s;
    size_t si = 0, sn = strlen(s0);
    while (si < sn) {
        if (pi < pn &&
            (p[pi] == '?' || tolower((unsigned char)p[pi]) == tolower((unsigned char)s0[si]))) {
            pi++;
            si++;
        } else if (pi < pn && p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

/* Does an action pattern ("s3:Get*", "*", "s*:*") reach some action of namespace ns? */
static bool pattern_reaches(const char *pat, const char *ns)
{
    if (!strcmp(pat, "*")) return true;
    const char *colon = strchr(pat, ':');
    if (!colon) return false;
    return glob(pat, (size_t)(colon - pat), ns);
}

/* Does a NotAction pattern exclude the whole of namespace ns ("s3:*", "*")? */
static bool pattern_excludes_all(const char *pat, const char *ns)
{
    if (!strcmp(pat, "*")) return true;
    const char *colon = strchr(pat, ':');
    return colon && !strcmp(colon + 1, "*") && glob(pat, (size_t)(colon - pat), ns);
}

static bool statement_allows(json_t *st, const char *ns)
{
    const char *effect = json_string_value(json_object_get(st, "Effect"));
    if (!effect || strcmp(effect, "Allow") != 0) return false;
    json_t *act = json_object_get(st, "Action"), *not = json_object_get(st, "NotAction");
    json_t *one = act ? act : not ;
    json_t *list =
        json_is_array(one) ? json_incref(one) : json_pack("[O]", one ? one : json_null());
    bool reach = false, excluded = false;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *p = json_string_value(v);
        if (!p) continue;
        if (act && pattern_reaches(p, ns)) reach = true;
        if (!act && pattern_excludes_all(p, ns)) excluded = true;
    }
    json_decref(list);
    return act ? reach : (not &&!excluded);
}

static bool doc_allows(const char *doc, const char *ns)
{
    json_t *d = json_loads(doc, 0, NULL);
    if (!d) return false;
    json_t *sts = json_object_get(d, "Statement");
    bool yes = false;
    if (json_is_array(sts)) {
        size_t i;
        json_t *st;
        json_array_foreach(sts, i, st) if (statement_allows(st, ns)) yes = true;
    } else if (json_is_object(sts)) {
        yes = statement_allows(sts, ns);
    }
    json_decref(d);
    return yes;
}

/* ---- the entity an ARN names ---- */

struct entity {
    const char *kind; /* user, group, role, policy */
    char name[129];
    char path[513];
    char id[32];
    char arn[2048];
};

/* Resolve arn in the caller's account: 0, or -1 with InvalidInput / NoSuchEntity set. */
static int resolve(nb_call *c, sqlite3 *h, const char *arn, bool policies, struct entity *e)
{
    memset(e, 0, sizeof(*e));
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "arn:aws:iam::%s:", IAM_ACCOUNT(c));
    size_t pl = strlen(prefix);
    bool aws_policy = policies && !strncmp(arn, "arn:aws:iam::aws:policy/", 24);
    if (!aws_policy && strncmp(arn, prefix, pl) != 0)
        return iam_invalid(c, "ARN %s is not valid.", arn);
    const char *rest = aws_policy ? arn + 17 : arn + pl;
    const char *slash = strchr(rest, '/'), *last = strrchr(rest, '/');
    if (!slash || !last[1]) return iam_invalid(c, "ARN %s is not valid.", arn);
    static const char *const kinds[] = {"user", "group", "role", "policy"};
    for (size_t i = 0; i < 4; i++)
        if ((size_t)(slash - rest) == strlen(kinds[i]) &&
            !strncmp(rest, kinds[i], strlen(kinds[i])))
            e->kind = kinds[i];
    if (!e->kind || (!policies && !strcmp(e->kind, "policy")))
        return iam_invalid(c, "ARN %s is not valid.", arn);
    snprintf(e->name, sizeof(e->name), "%s", last + 1);
    snprintf(e->path, sizeof(e->path), "%.*s", (int)(last - slash + 1), slash);
    if (!strcmp(e->kind, "policy")) {
        if (!iam_policy_exists(h, IAM_ACCOUNT(c), arn))
            return iam_no_such(c, "Policy %s does not exist or is not attachable.", arn);
        snprintf(e->arn, sizeof(e->arn), "%s", arn);
        return 0;
    }
    const char *sql = !strcmp(e->kind, "user")
                          ? "SELECT name, path, id FROM users WHERE account = ? AND name = ?"
                      : !strcmp(e->kind, "group")
                          ? "SELECT name, path, id FROM groups WHERE account = ? AND name = ?"
                          : "SELECT name, path, id FROM roles WHERE account = ? AND name = ?";
    sqlite3_stmt *st = nb_iq(h, sql, "ss", IAM_ACCOUNT(c), e->name);
    bool found = st && sqlite3_step(st) == SQLITE_ROW && !strcmp(nb_iq_text(st, 1), e->path);
    if (found) {
        snprintf(e->name, sizeof(e->name), "%s", nb_iq_text(st, 0));
        snprintf(e->id, sizeof(e->id), "%s", nb_iq_text(st, 2));
    }
    if (st) sqlite3_reset(st);
    if (!found) return iam_no_such(c, "The %s with name %s cannot be found.", e->kind, e->name);
    snprintf(e->arn, sizeof(e->arn), "%s", iam_arn(c, e->kind, e->path, e->name));
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * ListPoliciesGrantingServiceAccess
 * ------------------------------------------------------------------------------------------- */

/* Inline and attached policies of one owner that allow ns, appended to out. */
static void owner_policies(nb_call *c, sqlite3 *h, const char *kind, const char *owner,
                           const char *ns, json_t *out, json_t *seen_arns)
{
    sqlite3_stmt *st = nb_iq(
        h,
        "SELECT name, doc FROM inline WHERE account = ? AND kind = ? AND owner = ? ORDER BY name",
        "sss", IAM_ACCOUNT(c), kind, owner);
    char upper[8];
    snprintf(upper, sizeof(upper), "%s", kind);
    for (char *p = upper; *p; p++)
        *p = (char)(*p - 'a' + 'A');
    while (st && sqlite3_step(st) == SQLITE_ROW)
        if (doc_allows(nb_iq_text(st, 1), ns))
            json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "PolicyName",
                                                 nb_iq_text(st, 0), "PolicyType", "INLINE",
                                                 "EntityType", upper, "EntityName", owner));
    if (st) sqlite3_reset(st);
    json_t *arns = json_array();
    st = nb_iq(h,
               "SELECT arn FROM attached WHERE account = ? AND kind = ? AND owner = ? ORDER BY arn",
               "sss", IAM_ACCOUNT(c), kind, owner);
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arns, json_string(nb_iq_text(st, 0)));
    if (st) sqlite3_reset(st);
    size_t i;
    json_t *a;
    json_array_foreach(arns, i, a)
    {
        const char *arn = json_string_value(a);
        if (json_object_get(seen_arns, arn)) continue;
        char *doc = nb_identity_policy_doc(h, arn);
        if (doc && doc_allows(doc, ns)) {
            json_object_set_new(seen_arns, arn, json_true());
            json_array_append_new(out,
                                  json_pack("{s:s, s:s, s:s}", "PolicyName", strrchr(arn, '/') + 1,
                                            "PolicyType", "MANAGED", "PolicyArn", arn));
        }
        free(doc);
    }
    json_decref(arns);
}

static int granting_tx(nb_call *c, sqlite3 *h)
{
    iam_page p;
    if (iam_page_in(c, &p)) return -1;
    const char *arn = nb_in_str(c, "Arn");
    json_t *nss = json_object_get(c->input, "ServiceNamespaces");
    struct entity e;
    if (resolve(c, h, arn ? arn : "", false, &e)) return -1;
    json_t *groups = json_array();
    if (!strcmp(e.kind, "user")) {
        sqlite3_stmt *st =
            nb_iq(h, "SELECT grp FROM members WHERE account = ? AND user = ? ORDER BY grp", "ss",
                  IAM_ACCOUNT(c), e.name);
        while (st && sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(groups, json_string(nb_iq_text(st, 0)));
        if (st) sqlite3_reset(st);
    }
    json_t *list = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(nss, i, v)
    {
        const char *ns = json_string_value(v);
        if (!ns) continue;
        for (const char *q = ns; *q; q++)
            if (!(*q == '-' || *q == '_' || (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
                  (*q >= 'A' && *q <= 'Z'))) {
                json_decref(groups);
                json_decref(list);
                return iam_invalid(c, "Service namespace %s is not valid.", ns);
            }
        json_t *pols = json_array(), *seen = json_object();
        owner_policies(c, h, e.kind, e.name, ns, pols, seen);
        size_t j;
        json_t *g;
        json_array_foreach(groups, j, g)
            owner_policies(c, h, "group", json_string_value(g), ns, pols, seen);
        json_decref(seen);
        json_array_append_new(list,
                              json_pack("{s:s, s:o}", "ServiceNamespace", ns, "Policies", pols));
    }
    json_decref(groups);
    /* One page always: at most 200 namespaces (the model's limit) of an entity's policies. */
    c->output = json_pack("{s:o, s:b}", "PoliciesGrantingServiceAccess", list, "IsTruncated", 0);
    return 0;
}
int iam_list_policies_granting_service_access(nb_call *c)
{
    return iam_read(c, granting_tx);
}

/* ---------------------------------------------------------------------------------------------
 * Service last-accessed reports
 *
 * Generate computes the report at once (the job is COMPLETED when Get first sees it) and keeps
 * it in the objects table (kind 'access-report', name = JobId): {"Arn", "Granularity",
 * "Created", "Services": [ServiceLastAccessed...], "Entities": {namespace: [EntityDetails]}}.
 * ------------------------------------------------------------------------------------------- */

struct principal {
    char kind[8]; /* USER or ROLE */
    char name[129], path[513], id[32], arn[2048];
};

/* What one principal did in a namespace: latest time, region, and per tracked action. */
struct scan {
    const char *ns;
    double when;
    char region[32];
    json_t *actions; /* action name -> {when, region} */
};

static void scan_fn(void *arg, const char *action, double when, const char *region)
{
    struct scan *s = arg;
    size_t nl = strlen(s->ns);
    if (strncasecmp(action, s->ns, nl) != 0 || action[nl] != ':') return;
    if (when > s->when) {
        s->when = when;
        snprintf(s->region, sizeof(s->region), "%s", region);
    }
    json_object_set_new(s->actions, action + nl + 1,
                        json_pack("{s:f, s:s}", "when", when, "region", region));
}

static void add_principals(nb_call *c, sqlite3 *h, const char *sql, const char *kind,
                           const char *a1, const char *a2, json_t *seen, struct principal **list,
                           size_t *n)
{
    sqlite3_stmt *st = a2 ? nb_iq(h, sql, "ss", a1, a2) : nb_iq(h, sql, "s", a1);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *id = nb_iq_text(st, 2);
        if (json_object_get(seen, id)) continue;
        struct principal *nl = realloc(*list, (*n + 1) * sizeof(**list));
        if (!nl) break;
        *list = nl;
        struct principal *p = &nl[(*n)++];
        snprintf(p->kind, sizeof(p->kind), "%s", kind);
        snprintf(p->name, sizeof(p->name), "%s", nb_iq_text(st, 0));
        snprintf(p->path, sizeof(p->path), "%s", nb_iq_text(st, 1));
        snprintf(p->id, sizeof(p->id), "%s", id);
        snprintf(p->arn, sizeof(p->arn), "%s",
                 iam_arn(c, !strcmp(kind, "USER") ? "user" : "role", p->path, p->name));
        json_object_set_new(seen, id, json_true());
    }
    if (st) sqlite3_reset(st);
}

/* The principals whose use a report of e counts: the user or role itself; a group's members;
 * the users and roles a policy is attached to, and the members of groups it is attached to. */
static struct principal *principals_of(nb_call *c, sqlite3 *h, const struct entity *e, size_t *n)
{
    struct principal *list = NULL;
    *n = 0;
    json_t *seen = json_object();
    const char *acct = IAM_ACCOUNT(c);
    if (!strcmp(e->kind, "user"))
        add_principals(c, h, "SELECT name, path, id FROM users WHERE account = ? AND name = ?",
                       "USER", acct, e->name, seen, &list, n);
    else if (!strcmp(e->kind, "role"))
        add_principals(c, h, "SELECT name, path, id FROM roles WHERE account = ? AND name = ?",
                       "ROLE", acct, e->name, seen, &list, n);
    else if (!strcmp(e->kind, "group"))
        add_principals(
            c, h,
            "SELECT u.name, u.path, u.id FROM members m JOIN users u ON u.account = m.account AND "
            "u.name = m.user WHERE m.account = ? AND m.grp = ? ORDER BY u.name",
            "USER", acct, e->name, seen, &list, n);
    else {
        char *scoped = nb_arena_printf(c->arena, "%s", e->arn);
        add_principals(
            c, h,
            "SELECT u.name, u.path, u.id FROM attached a JOIN users u ON u.account = a.account AND "
            "u.name = a.owner WHERE a.kind = 'user' AND a.account = ? AND a.arn = ? ORDER BY "
            "u.name",
            "USER", acct, scoped, seen, &list, n);
        add_principals(c, h,
                       "SELECT u.name, u.path, u.id FROM attached a JOIN members m ON m.account = "
                       "a.account AND "
                       "m.grp = a.owner JOIN users u ON u.account = m.account AND u.name = m.user "
                       "WHERE a.kind = 'group' AND a.account = ? AND a.arn = ? ORDER BY u.name",
                       "USER", acct, scoped, seen, &list, n);
        add_principals(
            c, h,
            "SELECT r.name, r.path, r.id FROM attached a JOIN roles r ON r.account = a.account AND "
            "r.name = a.owner WHERE a.kind = 'role' AND a.account = ? AND a.arn = ? ORDER BY "
            "r.name",
            "ROLE", acct, scoped, seen, &list, n);
    }
    json_decref(seen);
    return list;
}

/* The policy documents of e (the entity's, with its groups' for a user; the policy's default
 * version). New array of strings. */
static json_t *docs_of(nb_call *c, sqlite3 *h, const struct entity *e)
{
    if (!strcmp(e->kind, "policy")) {
        json_t *a = json_array();
        char *doc = nb_identity_policy_doc(h, e->arn);
        if (doc) json_array_append_new(a, json_string(doc));
        free(doc);
        return a;
    }
    json_t *d = nb_identity_entity_docs(h, IAM_ACCOUNT(c), e->kind, e->name);
    json_t *a = json_incref(json_object_get(d, "identity"));
    json_decref(d);
    return a ? a : json_array();
}

static int generate_tx(nb_call *c, sqlite3 *h)
{
    const char *arn = nb_in_str(c, "Arn");
    const char *gran = nb_in_str(c, "Granularity");
    if (iam_check_enum(c, gran, "granularity", "SERVICE_LEVEL|ACTION_LEVEL")) return -1;
    if (!gran) gran = "SERVICE_LEVEL";
    struct entity e;
    if (resolve(c, h, arn ? arn : "", true, &e)) return -1;
    json_t *docs = docs_of(c, h, &e);
    size_t np;
    struct principal *ps = principals_of(c, h, &e, &np);
    json_t *services = json_array(), *entities = json_object();
    for (size_t i = 0; i < NB_ARRAY_LEN(SERVICES); i++) {
        const struct svc_name *sv = &SERVICES[i];
        bool allowed = false;
        size_t k;
        json_t *d;
        json_array_foreach(docs, k, d) if (doc_allows(json_string_value(d), sv->ns)) allowed = true;
        if (!allowed) continue;
        json_t *item = json_pack("{s:s, s:s}", "ServiceName", sv->name, "ServiceNamespace", sv->ns);
        json_t *details = json_array(), *tracked = json_object();
        double best = 0;
        int used = 0;
        for (size_t j = 0; j < np; j++) {
            struct scan s = {.ns = sv->ns, .actions = json_object()};
            nb_last_access_each(ps[j].id, scan_fn, &s);
            json_t *info =
                json_pack("{s:s, s:s, s:s, s:s, s:s}", "Arn", ps[j].arn, "Name", ps[j].name, "Type",
                          ps[j].kind, "Id", ps[j].id, "Path", ps[j].path);
            json_t *det = json_pack("{s:o}", "EntityInfo", info);
            if (s.when > 0) {
                used++;
                json_object_set_new(det, "LastAuthenticated", json_real(s.when));
                if (s.when > best) {
                    best = s.when;
                    json_object_set_new(item, "LastAuthenticated", json_real(s.when));
                    json_object_set_new(item, "LastAuthenticatedEntity", json_string(ps[j].arn));
                    json_object_set_new(item, "LastAuthenticatedRegion", json_string(s.region));
                }
            }
            const char *act;
            json_t *u;
            json_object_foreach(s.actions, act, u)
            {
                double w = json_real_value(json_object_get(u, "when"));
                json_t *prev = json_object_get(tracked, act);
                if (prev && json_real_value(json_object_get(prev, "LastAccessedTime")) >= w)
                    continue;
                json_object_set_new(tracked, act,
                                    json_pack("{s:s, s:s, s:f, s:O}", "ActionName", act,
                                              "LastAccessedEntity", ps[j].arn, "LastAccessedTime",
                                              w, "LastAccessedRegion",
                                              json_object_get(u, "region")));
            }
            json_decref(s.actions);
            json_array_append_new(details, det);
        }
        if (used) json_object_set_new(item, "TotalAuthenticatedEntities", json_integer(used));
        if (!strcmp(gran, "ACTION_LEVEL") && sv->tracked) {
            json_t *ta = json_array();
            const char *act;
            json_t *u;
            json_object_foreach(tracked, act, u) json_array_append(ta, u);
            json_object_set_new(item, "TrackedActionsLastAccessed", ta);
        }
        json_decref(tracked);
        json_array_append_new(services, item);
        json_object_set_new(entities, sv->ns, details);
    }
    free(ps);
    json_decref(docs);
    char job[37];
    nb_uuid4(job);
    double now = nb_clock_now_f();
    iam_obj o;
    memset(&o, 0, sizeof(o));
    snprintf(o.name, sizeof(o.name), "%s", job);
    snprintf(o.path, sizeof(o.path), "/");
    snprintf(o.id, sizeof(o.id), "%s", job);
    o.created = now;
    o.doc = json_pack("{s:s, s:s, s:f, s:o, s:o}", "Arn", e.arn, "Granularity", gran, "Created",
                      now, "Services", services, "Entities", entities);
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "access-report", &o);
    json_decref(o.doc);
    /* Bounded: the newest MAX_REPORTS jobs of an account are kept (older ones answer
     * NoSuchEntity), so repeated Generate calls cannot grow the database without end. */
    if (!rc)
        rc = nb_iq_exec(h,
                        "DELETE FROM objects WHERE account = ?1 AND kind = 'access-report' AND name NOT IN "
                        "(SELECT name FROM objects WHERE account = ?1 AND kind = 'access-report' "
                        "ORDER BY created DESC LIMIT ?2)",
                        "si", IAM_ACCOUNT(c), (int64_t)MAX_REPORTS);
    if (rc) return iam_db_error(c, h);
    c->output = json_pack("{s:s}", "JobId", job);
    return 0;
}
int iam_generate_service_last_accessed_details(nb_call *c)
{
    return iam_write(c, generate_tx);
}

static int load_job(nb_call *c, sqlite3 *h, iam_obj *o)
{
    const char *job = nb_in_str(c, "JobId");
    if (!job || !iam_obj_get(h, IAM_ACCOUNT(c), "access-report", job, o))
        return iam_no_such(c, "No such job: %s.", job ? job : "");
    return 0;
}

static json_t *job_head(const iam_obj *o)
{
    double created = json_real_value(json_object_get(o->doc, "Created"));
    return json_pack("{s:s, s:f, s:f}", "JobStatus", "COMPLETED", "JobCreationDate", created,
                     "JobCompletionDate", created);
}

/* Answer out with a page of list under key, and drop the job's document. */
static int answer_page(nb_call *c, iam_obj *o, json_t *out, const char *key, json_t *list)
{
    int rc = iam_page_list(c, out, key, list);
    json_decref(o->doc);
    if (rc) {
        json_decref(out);
        return -1;
    }
    c->output = out;
    return 0;
}

static int get_details_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (load_job(c, h, &o)) return -1;
    json_t *out = job_head(&o);
    json_object_set(out, "JobType", json_object_get(o.doc, "Granularity"));
    return answer_page(c, &o, out, "ServicesLastAccessed", json_object_get(o.doc, "Services"));
}
int iam_get_service_last_accessed_details(nb_call *c)
{
    return iam_read(c, get_details_tx);
}

static int get_entities_tx(nb_call *c, sqlite3 *h)
{
    const char *ns = nb_in_str(c, "ServiceNamespace");
    iam_obj o;
    if (load_job(c, h, &o)) return -1;
    json_t *list = json_object_get(json_object_get(o.doc, "Entities"), ns ? ns : "");
    json_t *out = job_head(&o);
    json_t *empty = json_array();
    int rc = answer_page(c, &o, out, "EntityDetailsList", list ? list : empty);
    json_decref(empty);
    return rc;
}
int iam_get_service_last_accessed_details_with_entities(nb_call *c)
{
    return iam_read(c, get_entities_tx);
}
