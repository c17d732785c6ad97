/* parse.c: nb_proto_parse(): decode a request's input by the operation's model into a document,
 * then validate it (required members, min/max) with the error codes and wording AWS uses for
 * each protocol. The per-protocol decoders live in query.c, json_in.c, xml_in.c and rest.c. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "proto/model_internal.h"

static const char *type_word(int type)
{
    switch (type) {
    case NB_TYPE_INTEGER:
        return "Integer";
    case NB_TYPE_LONG:
        return "Long";
    case NB_TYPE_BOOLEAN:
        return "Boolean";
    case NB_TYPE_FLOAT:
        return "Float";
    case NB_TYPE_DOUBLE:
        return "Double";
    case NB_TYPE_TIMESTAMP:
        return "Date";
    case NB_TYPE_BLOB:
        return "ByteBuffer";
    case NB_TYPE_STRUCTURE:
        return "Structure";
    case NB_TYPE_LIST:
        return "List";
    case NB_TYPE_MAP:
        return "Map";
    default:
        return "String";
    }
}

/* Coral (json, rest-json, query) names members in messages with a lower-case first letter:
 * "Value null at 'roleArn'". */
static void put_member_path(nb_buf *b, const char *name)
{
    if (name[0] >= 'A' && name[0] <= 'Z') {
        nb_buf_putc(b, (char)(name[0] + 32));
        nb_buf_puts(b, name + 1);
    } else {
        nb_buf_puts(b, name);
    }
}

static bool model_has_shape(const nb_model *m, const char *name)
{
    const struct nb_shape *s = nb_model_shape_by_name(m, name);
    return s && (s->flags & NB_SF_EXCEPTION);
}

int nb_in_type_error(struct nb_pin *p, const char *where, const char *val, size_t vlen, int type,
                     bool in_body)
{
    int vl = vlen > 200 ? 200 : (int)vlen;
    const char *tw = type_word(type);
    switch (p->proto) {
    case NB_PROTO_EC2:
        return nb_aws_error_set(p->e, 400, "InvalidParameterValue",
                                "Value (%.*s) for parameter %s is invalid. Expected: '%s'.", vl,
                                val, where, tw);
    case NB_PROTO_QUERY: {
        nb_buf b;
        nb_buf_init(&b);
        put_member_path(&b, where);
        nb_aws_error_set(p->e, 400, "ValidationError",
                         "1 validation error detected: Value '%.*s' at '%s' failed to satisfy "
                         "constraint: Member must be a%s %s",
                         vl, val, b.data ? b.data : where, type == NB_TYPE_INTEGER ? "n" : "", tw);
        nb_buf_free(&b);
        return -1;
    }
    case NB_PROTO_JSON:
    case NB_PROTO_REST_JSON:
        if (in_body && p->proto == NB_PROTO_REST_JSON &&
            model_has_shape(p->m, "InvalidRequestContentException"))
            return nb_aws_error_set(p->e, 400, "InvalidRequestContentException",
                                    "Could not parse request body into json: Could not parse "
                                    "payload into json: %s can not be converted to a%s %s",
                                    where, type == NB_TYPE_INTEGER ? "n" : "", tw);
        return nb_aws_error_set(p->e, 400, "SerializationException",
                                "Value '%.*s' at '%s' can not be converted to a%s %s", vl, val,
                                where, type == NB_TYPE_INTEGER ? "n" : "", tw);
    case NB_PROTO_REST_XML:
    default:
        if (in_body) return nb_in_malformed(p, NULL);
        if (p->s3) {
            nb_aws_error_set(p->e, 400, "InvalidArgument",
                             type == NB_TYPE_INTEGER || type == NB_TYPE_LONG
                                 ? "Provided %s not an integer or within integer range"
                                 : "Provided %s is not valid",
                             where);
            p->e->extra =
                json_pack("{s:s,s:s%}", "ArgumentName", where, "ArgumentValue", val, (size_t)vl);
            return -1;
        }
        return nb_aws_error_set(
            p->e, 400,
            strcmp(nb_mstr(p->m, p->m->name), "route53") == 0 ? "InvalidInput" : "InvalidArgument",
            "Invalid value '%.*s' for %s: expected %s", vl, val, where, tw);
    }
}

int nb_in_malformed(struct nb_pin *p, const char *detail)
{
    switch (p->proto) {
    case NB_PROTO_REST_XML:
        if (p->s3) {
            /* S3 names an ACL body's failure after ACLs */
            const char *op = p->op ? nb_op_name(p->op) : "";
            bool acl = !strcmp(op, "PutBucketAcl") || !strcmp(op, "PutObjectAcl");
            return nb_aws_error_set(p->e, 400, acl ? "MalformedACLError" : "MalformedXML",
                                    "The XML you provided was not well-formed or did not "
                                    "validate against our published schema");
        }
        if (strcmp(nb_mstr(p->m, p->m->name), "route53") == 0)
            return nb_aws_error_set(p->e, 400, "InvalidInput", "Could not parse the XML: %s",
                                    detail ? detail : "malformed XML");
        return nb_aws_error_set(p->e, 400, "MalformedInput", "Could not parse the XML: %s",
                                detail ? detail : "malformed XML");
    case NB_PROTO_REST_JSON:
        if (model_has_shape(p->m, "InvalidRequestContentException"))
            return nb_aws_error_set(p->e, 400, "InvalidRequestContentException",
                                    "Could not parse request body into json: %s",
                                    detail ? detail : "malformed JSON");
        __attribute__((fallthrough));
    case NB_PROTO_JSON:
        return nb_aws_error_set(p->e, 400, "SerializationException", "%s",
                                detail ? detail
                                       : "Start of structure or map found where not expected.");
    default:
        return nb_aws_error_set(p->e, 400, "MalformedQueryString", "%s",
                                detail ? detail : "The query string is malformed");
    }
}

bool nb_base64_valid(const char *s, size_t n)
{
    size_t i = 0, pad = 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad) return false; /* data after padding */
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    if (pad > 2) return false;
    if (pad && n % 4) return false;
    return (n - pad) % 4 != 1;
}

bool nb_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4, cp = c & 0x07;
        else
            return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; k++) {
            if ((u[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static bool parse_int64(const char *s, size_t n, long long *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof(tmp)) return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    size_t i = (tmp[0] == '-' || tmp[0] == '+') ? 1 : 0;
    if (i == n) return false;
    for (size_t k = i; k < n; k++)
        if (tmp[k] < '0' || tmp[k] > '9') return false;
    errno = 0;
    char *end;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

json_t *nb_in_scalar(struct nb_pin *p, const struct nb_member *mb, const char *s, size_t n,
                     const char *where, bool in_body)
{
    const struct nb_shape *sh = nb_member_shape(p->m, mb);
    json_t *v = NULL;
    switch (sh->type) {
    case NB_TYPE_STRING:
        if (nb_utf8_valid(s, n)) v = json_stringn_nocheck(s, n);
        break;
    case NB_TYPE_BLOB:
        if (nb_base64_valid(s, n)) v = json_stringn_nocheck(s, n);
        break;
    case NB_TYPE_INTEGER:
    case NB_TYPE_LONG: {
        long long x;
        if (parse_int64(s, n, &x) &&
            (sh->type == NB_TYPE_LONG || (x >= INT32_MIN && x <= INT32_MAX)))
            v = json_integer(x);
        break;
    }
    case NB_TYPE_BOOLEAN:
        if (nb_mem_ieq(s, n, "true", 4))
            v = json_true();
        else if (nb_mem_ieq(s, n, "false", 5))
            v = json_false();
        break;
    case NB_TYPE_FLOAT:
    case NB_TYPE_DOUBLE: {
        char tmp[64];
        if (n > 0 && n < sizeof(tmp)) {
            memcpy(tmp, s, n);
            tmp[n] = '\0';
            char *end;
            double d = strtod(tmp, &end);
            if (!*end && isfinite(d) && !(tmp[0] == ' ' || tmp[0] == '\t')) v = json_real(d);
        }
        break;
    }
    case NB_TYPE_TIMESTAMP: {
        double t;
        if (nb_time_parse(s, n, &t) == 0)
            v = (t == floor(t) && fabs(t) < 9e15) ? json_integer((json_int_t)t) : json_real(t);
        break;
    }
    default:
        break;
    }
    if (!v) nb_in_type_error(p, where, s, n, sh->type, in_body);
    return v;
}

/* ---- validation ---- */

#define MAX_REPORTED 10

struct vctx {
    struct nb_pin *p;
    nb_buf msgs;
    int count;
    bool missing_body;  /* S3: a required member of the XML body is missing */
    bool first_missing; /* ec2: first violation was a missing member */
    char first_name[128];
    char first_value[160];
    char first_constraint[160];
};

/* Budget for one quoted value: whole messages must fit nb_aws_error.message. */
#define VALUE_BUDGET 400

/* Java package of the service's model classes, as AWS names structures inside lists. */
static const char *java_package(const nb_model *m)
{
    const char *n = nb_mstr(m, m->name);
    if (!strcmp(n, "iam")) return "identitymanagement";
    if (!strcmp(n, "sts")) return "securitytoken";
    return n;
}

/* Java's Integer.toHexString of a hash of the structure's content: AWS prints an object
 * identity whose hash clients cannot predict; ours is at least stable for equal content. */
static uint32_t hash_value(json_t *v, uint32_t h, int depth)
{
    if (depth > 8) return h;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            for (const char *c = k; *c; c++)
                h = (h ^ (unsigned char)*c) * 16777619u;
            h = hash_value(x, h, depth + 1);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            h = hash_value(json_array_get(v, i), h * 31u, depth + 1);
    } else if (json_is_string(v)) {
        const char *c = json_string_value(v);
        for (size_t i = 0; i < json_string_length(v); i++)
            h = (h ^ (unsigned char)c[i]) * 16777619u;
    } else if (json_is_integer(v)) {
        h = (h ^ (uint32_t)json_integer_value(v)) * 16777619u;
    } else if (json_is_true(v)) {
        h = (h ^ 1u) * 16777619u;
    }
    return h;
}

/* The value as AWS (Java's toString) quotes it in messages: strings as they are, lists as
 * "[a, b]", maps as "{k=v}", structures as "com.amazonaws.services.<pkg>.model.<Shape>@<hash>".
 * A list or map that would pass the budget ends with "..." after the last whole element. */
static void render_value(nb_buf *b, const nb_model *m, const struct nb_shape *s, json_t *v,
                         int depth, size_t start)
{
    if (depth > 4) return;
    if (s && s->type == NB_TYPE_STRUCTURE && json_is_object(v)) {
        nb_buf_printf(b, "com.amazonaws.services.%s.model.%s@%x", java_package(m),
                      nb_mstr(m, s->name), hash_value(v, 2166136261u, 0));
    } else if (json_is_string(v)) {
        size_t n = json_string_length(v);
        nb_buf_append(b, json_string_value(v), n > 256 ? 256 : n);
    } else if (json_is_integer(v)) {
        nb_buf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        char t[32];
        nb_fmt_double(json_real_value(v), t);
        nb_buf_puts(b, t);
    } else if (json_is_boolean(v)) {
        nb_buf_puts(b, json_is_true(v) ? "true" : "false");
    } else if (json_is_array(v)) {
        const struct nb_shape *es =
            s && s->type == NB_TYPE_LIST ? nb_member_shape(m, &m->members[s->first]) : NULL;
        nb_buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) nb_buf_puts(b, ", ");
            if (b->len - start > VALUE_BUDGET) {
                nb_buf_puts(b, "...");
                break;
            }
            render_value(b, m, es, json_array_get(v, i), depth + 1, start);
        }
        nb_buf_putc(b, ']');
    } else if (json_is_object(v)) {
        const struct nb_shape *vs =
            s && s->type == NB_TYPE_MAP ? nb_member_shape(m, &m->members[s->first + 1]) : NULL;
        const char *k;
        json_t *x;
        bool first = true;
        nb_buf_putc(b, '{');
        json_object_foreach(v, k, x)
        {
            if (!first) nb_buf_puts(b, ", ");
            first = false;
            if (b->len - start > VALUE_BUDGET) {
                nb_buf_puts(b, "...");
                break;
            }
            nb_buf_printf(b, "%s=", k);
            render_value(b, m, vs, x, depth + 1, start);
        }
        nb_buf_putc(b, '}');
    }
}

static void fmt_limit(char *out, size_t cap, double x)
{
    if (x == floor(x) && fabs(x) < 1e18)
        snprintf(out, cap, "%lld", (long long)x);
    else
        snprintf(out, cap, "%g", x);
}

static void violation(struct vctx *vc, const char *path, const struct nb_shape *s, json_t *v,
                      const char *constraint, bool body_member)
{
    vc->count++;
    if (vc->count == 1) {
        snprintf(vc->first_name, sizeof(vc->first_name), "%s", path);
        snprintf(vc->first_constraint, sizeof(vc->first_constraint), "%s", constraint);
        vc->first_missing = v == NULL;
        nb_buf tmp;
        nb_buf_init(&tmp);
        if (v) render_value(&tmp, vc->p->m, s, v, 0, 0);
        snprintf(vc->first_value, sizeof(vc->first_value), "%s", tmp.data ? tmp.data : "");
        nb_buf_free(&tmp);
    }
    if (!v && body_member) vc->missing_body = true;
    if (vc->count > MAX_REPORTED) return;
    if (vc->count > 1) nb_buf_puts(&vc->msgs, "; ");
    if (v) {
        nb_buf_puts(&vc->msgs, "Value '");
        render_value(&vc->msgs, vc->p->m, s, v, 0, vc->msgs.len);
        nb_buf_puts(&vc->msgs, "'");
    } else {
        nb_buf_puts(&vc->msgs, "Value null");
    }
    nb_buf_printf(&vc->msgs, " at '%s' failed to satisfy constraint: %s", path, constraint);
}

/* Java's String.length(): UTF-16 code units, which is what AWS's limits count. */
static size_t utf16_len(const char *s, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80) len += c >= 0xF0 ? 2 : 1;
    }
    return len;
}

static void v_value(struct vctx *vc, const struct nb_member *mb, json_t *v, nb_buf *path, int depth,
                    bool body_member);

static void path_push_member(struct vctx *vc, nb_buf *path, const struct nb_member *mb)
{
    const nb_model *m = vc->p->m;
    if (path->len) nb_buf_putc(path, '.');
    if (vc->p->proto == NB_PROTO_EC2) {
        /* EC2 names the parameter as the client sent it */
        const struct nb_member_extra *x = nb_member_extra(m, mb);
        const char *w = x && x->query_name ? nb_mstr(m, x->query_name) : nb_member_wire(m, mb);
        nb_buf_putc(path, (char)(w[0] >= 'a' && w[0] <= 'z' ? w[0] - 32 : w[0]));
        if (w[0]) nb_buf_puts(path, w + 1);
    } else {
        put_member_path(path, nb_mstr(m, mb->name));
    }
}

static void v_struct(struct vctx *vc, const struct nb_shape *s, json_t *obj, nb_buf *path,
                     int depth, bool top)
{
    const nb_model *m = vc->p->m;
    if (depth > NB_PARSE_MAX_DEPTH) return;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        size_t mark = path->len;
        /* A streaming payload never enters the document: the handler reads it. */
        if (top && (mb->flags & NB_MF_STREAMING)) continue;
        json_t *v = json_is_object(obj) ? json_object_get(obj, nb_mstr(m, mb->name)) : NULL;
        bool body = !top || mb->location == NB_LOC_BODY;
        if (!v || json_is_null(v)) {
            if (mb->flags & NB_MF_REQUIRED) {
                path_push_member(vc, path, mb);
                violation(vc, path->data, NULL, NULL, "Member must not be null", body);
            }
        } else {
            path_push_member(vc, path, mb);
            v_value(vc, mb, v, path, depth + 1, body);
        }
        path->len = mark;
        if (path->data) path->data[mark] = '\0';
    }
}

static void v_value(struct vctx *vc, const struct nb_member *mb, json_t *v, nb_buf *path, int depth,
                    bool body_member)
{
    const nb_model *m = vc->p->m;
    const struct nb_shape *s = nb_member_shape(m, mb);
    if (depth > NB_PARSE_MAX_DEPTH) return;
    if (s->limits) {
        const struct nb_limits *l = &m->limits[s->limits - 1];
        double x = 0;
        bool is_len = true, have = true;
        switch (s->type) {
        case NB_TYPE_STRING:
            x = json_is_string(v) ? (double)utf16_len(json_string_value(v), json_string_length(v))
                                  : 0;
            break;
        case NB_TYPE_BLOB:
            if (json_is_string(v)) {
                const char *b = json_string_value(v);
                size_t n = json_string_length(v), pad = 0;
                while (pad < n && b[n - 1 - pad] == '=')
                    pad++;
                x = (double)((n - pad) * 3 / 4);
            }
            break;
        case NB_TYPE_LIST:
            x = (double)json_array_size(v);
            break;
        case NB_TYPE_MAP:
            x = (double)json_object_size(v);
            break;
        case NB_TYPE_INTEGER:
        case NB_TYPE_LONG:
        case NB_TYPE_FLOAT:
        case NB_TYPE_DOUBLE:
            is_len = false;
            x = json_number_value(v);
            break;
        default:
            have = false;
        }
        char lim[40], c[120];
        if (have && (s->flags & NB_SF_HAS_MIN) && x < l->min) {
            fmt_limit(lim, sizeof(lim), l->min);
            snprintf(c, sizeof(c), "Member must have %s greater than or equal to %s",
                     is_len ? "length" : "value", lim);
            violation(vc, path->data, s, v, c, body_member);
        } else if (have && (s->flags & NB_SF_HAS_MAX) && x > l->max) {
            fmt_limit(lim, sizeof(lim), l->max);
            snprintf(c, sizeof(c), "Member must have %s less than or equal to %s",
                     is_len ? "length" : "value", lim);
            violation(vc, path->data, s, v, c, body_member);
        }
    }
    if (s->type == NB_TYPE_STRUCTURE) {
        v_struct(vc, s, v, path, depth, false);
    } else if (s->type == NB_TYPE_LIST && json_is_array(v)) {
        const struct nb_member *lm = &m->members[s->first];
        const struct nb_shape *ls = nb_member_shape(m, lm);
        if (ls->type != NB_TYPE_STRUCTURE && ls->type != NB_TYPE_LIST && ls->type != NB_TYPE_MAP &&
            !ls->limits)
            return; /* nothing to check inside: skip the walk over long lists */
        for (size_t i = 0; i < json_array_size(v); i++) {
            size_t mark = path->len;
            if (vc->p->proto == NB_PROTO_EC2)
                nb_buf_printf(path, ".%zu", i + 1);
            else
                nb_buf_printf(path, ".%zu.member", i + 1);
            v_value(vc, lm, json_array_get(v, i), path, depth + 1, body_member);
            path->len = mark;
            if (path->data) path->data[mark] = '\0';
        }
    } else if (s->type == NB_TYPE_MAP && json_is_object(v)) {
        const struct nb_member *km = &m->members[s->first];
        const struct nb_member *vm = &m->members[s->first + 1];
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            size_t mark = path->len;
            if (nb_member_shape(m, km)->limits) {
                json_t *ks = json_string(k);
                if (ks) {
                    nb_buf_puts(path, ".key");
                    v_value(vc, km, ks, path, depth + 1, body_member);
                    json_decref(ks);
                }
                path->len = mark;
                if (path->data) path->data[mark] = '\0';
            }
            nb_buf_printf(path, ".%s", k);
            v_value(vc, vm, x, path, depth + 1, body_member);
            path->len = mark;
            if (path->data) path->data[mark] = '\0';
        }
    }
}

int nb_validate_input(struct nb_pin *p, const struct nb_shape *s, json_t *doc)
{
    struct vctx vc;
    memset(&vc, 0, sizeof(vc));
    vc.p = p;
    nb_buf_init(&vc.msgs);
    nb_buf path;
    nb_buf_init(&path);
    if (nb_buf_reserve(&path, 64) == 0) path.data[0] = '\0';
    v_struct(&vc, s, doc, &path, 0, true);
    nb_buf_free(&path);
    if (vc.count == 0) {
        nb_buf_free(&vc.msgs);
        return 0;
    }
    const char *msgs = vc.msgs.data ? vc.msgs.data : "";
    switch (p->proto) {
    case NB_PROTO_EC2:
        /* EC2 reports the first problem only, in its own words. */
        if (vc.first_missing)
            nb_aws_error_set(p->e, 400, "MissingParameter",
                             "The request must contain the parameter %s", vc.first_name);
        else
            nb_aws_error_set(p->e, 400, "InvalidParameterValue",
                             "Value (%s) for parameter %s is invalid. %s", vc.first_value,
                             vc.first_name, vc.first_constraint);
        break;
    case NB_PROTO_REST_XML:
        if (p->s3) {
            if (vc.missing_body)
                nb_in_malformed(p, NULL);
            else
                nb_aws_error_set(p->e, 400, "InvalidArgument", "%s", msgs);
            break;
        }
        nb_aws_error_set(
            p->e, 400,
            strcmp(nb_mstr(p->m, p->m->name), "route53") == 0 ? "InvalidInput" : "InvalidArgument",
            "%d validation error%s detected: %s", vc.count, vc.count > 1 ? "s" : "", msgs);
        break;
    case NB_PROTO_QUERY:
        /* SQS's query API names a missing parameter as sent: "QueueName". */
        if (vc.first_missing && !strcmp(nb_mstr(p->m, p->m->name), "sqs")) {
            vc.first_name[0] = (char)toupper((unsigned char)vc.first_name[0]);
            nb_aws_error_set(p->e, 400, "MissingParameter",
                             "The request must contain the parameter %s.", vc.first_name);
            break;
        }
        nb_aws_error_set(p->e, 400, "ValidationError", "%d validation error%s detected: %s",
                         vc.count, vc.count > 1 ? "s" : "", msgs);
        break;
    default:
        nb_aws_error_set(p->e, 400, "ValidationException", "%d validation error%s detected: %s",
                         vc.count, vc.count > 1 ? "s" : "", msgs);
        break;
    }
    nb_buf_free(&vc.msgs);
    return -1;
}

/* ---- the entry point ---- */

int nb_proto_parse(const nb_model *m, const nb_op *op, const nb_wire_req *w, json_t **input,
                   nb_aws_error *e)
{
    *input = NULL;
    const struct nb_shape *s = nb_op_input(m, op);
    struct nb_pin p = {.m = m, .op = op, .proto = m->protocol, .e = e};
    p.s3 = strcmp(nb_mstr(m, m->name), "s3") == 0;
    if (!s) {
        *input = json_object();
        return *input ? 0 : nb_aws_error_set(e, 503, "ServiceUnavailable", "Out of memory");
    }
    json_t *doc = NULL;
    int rc = -1;
    if (p.proto == NB_PROTO_JSON) {
        doc = nb_json_body_in(&p, s, w->body, w->body ? w->body_len : 0, false);
        rc = doc ? 0 : -1;
    } else {
        p.a = nb_arena_new(4096);
        doc = json_object();
        if (!p.a || !doc) {
            nb_arena_free(p.a);
            json_decref(doc);
            return nb_aws_error_set(e, 503, "ServiceUnavailable", "Out of memory");
        }
        if (p.proto == NB_PROTO_QUERY || p.proto == NB_PROTO_EC2)
            rc = nb_query_parse(&p, w, s, doc);
        else
            rc = nb_rest_parse(&p, w, s, doc);
        nb_arena_free(p.a);
    }
    if (rc == 0) rc = nb_validate_input(&p, s, doc);
    if (rc != 0) {
        json_decref(doc);
        return -1;
    }
    *input = doc;
    return 0;
}
