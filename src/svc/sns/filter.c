/* filter.c: SNS filter policies (see filter.h): validation with AWS's messages, and matching.
 * The policy stays a jansson document; matching walks it against the message's values, so a
 * policy costs nothing to keep and a message is parsed once per subscription that needs it. */
#include "svc/sns/filter.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

struct nb_sns_filter {
    json_t *policy;
    bool body;
};

#define P "Invalid parameter: FilterPolicy: "

static int fail(char *err, size_t n, const char *fmt, ...) NB_PRINTF(3, 4);
static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

static bool parse_cidr(const char *s, uint32_t *net, uint32_t *mask)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t l = slash ? (size_t)(slash - s) : strlen(s);
    if (l >= sizeof(buf)) return false;
    memcpy(buf, s, l);
    buf[l] = 0;
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1) return false;
    int bits = 32;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || b < 0 || b > 32) return false;
        bits = (int)b;
    }
    *mask = bits ? 0xFFFFFFFFu << (32 - bits) : 0;
    *net = ntohl(a.s_addr) & *mask;
    return true;
}

static bool numeric_ok(json_t *v) { return json_is_number(v) && fabs(json_number_value(v)) <= 1e9; }

/* One rule of a key's array. */
static int check_rule(json_t *r, char *err, size_t n)
{
    if (json_is_string(r) || json_is_boolean(r) || json_is_null(r)) return 0;
    if (json_is_number(r)) {
        if (!numeric_ok(r)) return fail(err, n, P "Numeric value must be between -1.0E9 and 1.0E9 inclusive");
        return 0;
    }
    if (!json_is_object(r))
        return fail(err, n, P "Match value must be String, number, true, false, or null");
    if (json_object_size(r) != 1)
        return fail(err, n, P "Only one key allowed in match expression");
    const char *kw = json_object_iter_key(json_object_iter(r));
    json_t *a = json_object_iter_value(json_object_iter(r));
    if (!strcmp(kw, "exists")) {
        if (!json_is_boolean(a)) return fail(err, n, P "exists match pattern must be either true or false.");
        return 0;
    }
    if (!strcmp(kw, "prefix") || !strcmp(kw, "suffix") || !strcmp(kw, "equals-ignore-case")) {
        if (json_is_object(a) && !strcmp(kw, "prefix") && json_object_size(a) == 1 &&
            json_is_string(json_object_get(a, "equals-ignore-case")))
            return 0;
        if (!json_is_string(a)) return fail(err, n, P "%s match pattern must be a string", kw);
        return 0;
    }
    if (!strcmp(kw, "cidr")) {
        uint32_t net, mask;
        if (!json_is_string(a) || !parse_cidr(json_string_value(a), &net, &mask))
            return fail(err, n, P "Malformed CIDR, one '/' required");
        return 0;
    }
    if (!strcmp(kw, "anything-but")) {
        if (json_is_string(a) || json_is_number(a)) return 0;
        if (json_is_array(a)) {
            if (!json_array_size(a)) return fail(err, n, P "Empty arrays are not allowed");
            size_t i;
            json_t *x;
            bool str = false, num = false;
            json_array_foreach(a, i, x)
            {
                if (json_is_string(x))
                    str = true;
                else if (json_is_number(x))
                    num = true;
                else
                    return fail(err, n, P "Inside anything but list, start|null|boolean is not supported.");
            }
            if (str && num) return fail(err, n, P "Inside anything but list, mixed types are not supported");
            return 0;
        }
        if (json_is_object(a) && json_object_size(a) == 1) {
            const char *k = json_object_iter_key(json_object_iter(a));
            json_t *v = json_object_iter_value(json_object_iter(a));
            if (strcmp(k, "prefix") && strcmp(k, "suffix"))
                return fail(err, n, P "Unsupported anything-but pattern: %s", k);
            if (!json_is_string(v) || !json_string_length(v))
                return fail(err, n, P "%s match pattern must be a string", k);
            return 0;
        }
        return fail(err, n, P "Value of anything-but must be an array or single string/number value.");
    }
    if (!strcmp(kw, "numeric")) {
        if (!json_is_array(a) || !json_array_size(a))
            return fail(err, n, "Invalid parameter: Attributes Reason: FilterPolicy: Invalid member in numeric match: ]\n at ...");
        json_t *op = json_array_get(a, 0);
        if (!json_is_string(op)) {
            char *t = json_dumps(op, JSON_ENCODE_ANY);
            fail(err, n, "Invalid parameter: Attributes Reason: FilterPolicy: Invalid member in numeric match: %s\n at ...",
                 t ? t : "");
            free(t);
            return -1;
        }
        const char *o = json_string_value(op);
        if (strcmp(o, "<") && strcmp(o, "<=") && strcmp(o, "=") && strcmp(o, ">") && strcmp(o, ">="))
            return fail(err, n, "Invalid parameter: Attributes Reason: FilterPolicy: Unrecognized numeric range operator: %s\n at ...",
                        o);
        json_t *v = json_array_get(a, 1);
        if (!numeric_ok(v))
            return fail(err, n, "Invalid parameter: Attributes Reason: FilterPolicy: Value of %s must be numeric\n at ...", o);
        if (json_array_size(a) == 2) return 0;
        if (strcmp(o, ">") && strcmp(o, ">="))
            return fail(err, n, "Invalid parameter: Attributes Reason: FilterPolicy: Too many elements in numeric expression\n at ...");
        json_t *op2 = json_array_get(a, 2);
        const char *o2 = json_string_value(op2);
        if (!o2 || (strcmp(o2, "<") && strcmp(o2, "<=")))
            return fail(err, n, "Invalid parameter: Attributes Reason: FilterPolicy: Bad numeric range operator: %s\n at ...",
                        o2 ? o2 : "");
        json_t *v2 = json_array_get(a, 3);
        if (!numeric_ok(v2))
            return fail(err, n, "Invalid parameter: Attributes Reason: FilterPolicy: Value of %s must be numeric\n at ...", o2);
        if (json_array_size(a) > 4)
            return fail(err, n, "Invalid parameter: Attributes Reason: FilterPolicy: Too many elements in numeric expression\n at ...");
        if (json_number_value(v2) <= json_number_value(v))
            return fail(err, n, "Invalid parameter: Attributes Reason: FilterPolicy: Bottom must be less than top\n at ...");
        return 0;
    }
    return fail(err, n, P "Unrecognized match type %s", kw);
}

/* Validate an object level; *combos gets its number of value combinations (AWS caps the
 * product at 150). depth counts nesting for the body scope. */
static int check_level(json_t *o, bool body, int depth, double *combos, char *err, size_t n)
{
    *combos = 1;
    const char *k;
    json_t *v;
    if (depth > 0 && !json_object_size(o)) return fail(err, n, P "Empty objects are not allowed");
    json_object_foreach(o, k, v)
    {
        if (!strcmp(k, "$or")) {
            if (!json_is_array(v) || json_array_size(v) < 2)
                return fail(err, n, P "Or expression must have at least 2 elements");
            double sum = 0;
            size_t i;
            json_t *b;
            json_array_foreach(v, i, b)
            {
                if (!json_is_object(b)) return fail(err, n, P "Or expression elements must be objects");
                double c;
                if (check_level(b, body, depth + 1, &c, err, n) < 0) return -1;
                sum += c;
            }
            *combos *= sum;
            continue;
        }
        if (json_is_object(v)) {
            if (!body) return fail(err, n, "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy");
            double c;
            if (check_level(v, body, depth + 1, &c, err, n) < 0) return -1;
            *combos *= c;
            continue;
        }
        if (!json_is_array(v)) return fail(err, n, P "\"%s\" must be an object or an array", k);
        if (!json_array_size(v)) return fail(err, n, P "Empty arrays are not allowed");
        size_t i;
        json_t *r;
        json_array_foreach(v, i, r) if (check_rule(r, err, n) < 0) return -1;
        *combos *= (double)json_array_size(v);
    }
    return 0;
}

nb_sns_filter *nb_sns_filter_parse(const char *text, size_t len, bool body_scope, char *err, size_t errn)
{
    json_error_t je;
    json_t *p = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!p) {
        fail(err, errn, P "failed to parse JSON. %s", je.text);
        return NULL;
    }
    if (!json_is_object(p)) {
        json_decref(p);
        fail(err, errn, P "Filter policy must be a JSON object");
        return NULL;
    }
    if (json_object_size(p) > 5) {
        json_decref(p);
        fail(err, errn, P "Filter policy can not have more than 5 keys");
        return NULL;
    }
    double combos;
    if (check_level(p, body_scope, 0, &combos, err, errn) < 0) {
        json_decref(p);
        return NULL;
    }
    if (combos > 150) {
        json_decref(p);
        fail(err, errn, P "Filter policy is too complex");
        return NULL;
    }
    nb_sns_filter *f = calloc(1, sizeof(*f));
    if (!f) {
        json_decref(p);
        fail(err, errn, "Internal error");
        return NULL;
    }
    f->policy = p;
    f->body = body_scope;
    return f;
}

void nb_sns_filter_free(nb_sns_filter *f)
{
    if (!f) return;
    json_decref(f->policy);
    free(f);
}

bool nb_sns_filter_body_scope(const nb_sns_filter *f) { return f && f->body; }

/* ---------------------------------------------------------------- matching */

static bool ieq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

static bool starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static bool ends(const char *s, const char *p)
{
    size_t a = strlen(s), b = strlen(p);
    return a >= b && !memcmp(s + a - b, p, b);
}

static bool same_scalar(json_t *rule, json_t *v)
{
    if (json_is_string(rule)) return json_is_string(v) && !strcmp(json_string_value(rule), json_string_value(v));
    if (json_is_number(rule)) return json_is_number(v) && json_number_value(rule) == json_number_value(v);
    if (json_is_boolean(rule)) return json_is_boolean(v) && json_is_true(rule) == json_is_true(v);
    if (json_is_null(rule)) return json_is_null(v);
    return false;
}

static bool num_cmp(const char *op, double v, double x)
{
    if (!strcmp(op, "<")) return v < x;
    if (!strcmp(op, "<=")) return v <= x;
    if (!strcmp(op, "=")) return v == x;
    if (!strcmp(op, ">")) return v > x;
    return v >= x;
}

/* One (non-exists) rule against one value. */
static bool rule_value(json_t *r, json_t *v)
{
    if (!json_is_object(r)) return same_scalar(r, v);
    const char *kw = json_object_iter_key(json_object_iter(r));
    json_t *a = json_object_iter_value(json_object_iter(r));
    const char *s = json_string_value(v);
    if (!strcmp(kw, "prefix")) {
        if (!s) return false;
        if (json_is_object(a)) {
            const char *p = json_string_value(json_object_get(a, "equals-ignore-case"));
            return p && !strncasecmp(s, p, strlen(p));
        }
        return starts(s, json_string_value(a));
    }
    if (!strcmp(kw, "suffix")) return s && ends(s, json_string_value(a));
    if (!strcmp(kw, "equals-ignore-case")) return s && ieq(s, json_string_value(a));
    if (!strcmp(kw, "cidr")) {
        uint32_t net, mask, ip, m2;
        return s && parse_cidr(json_string_value(a), &net, &mask) && parse_cidr(s, &ip, &m2) && m2 == 0xFFFFFFFFu &&
               (ip & mask) == net;
    }
    if (!strcmp(kw, "numeric")) {
        if (!json_is_number(v)) return false;
        double x = json_number_value(v);
        if (!num_cmp(json_string_value(json_array_get(a, 0)), x, json_number_value(json_array_get(a, 1)))) return false;
        if (json_array_size(a) >= 4 &&
            !num_cmp(json_string_value(json_array_get(a, 2)), x, json_number_value(json_array_get(a, 3))))
            return false;
        return true;
    }
    if (!strcmp(kw, "anything-but")) {
        if (json_is_object(a)) {
            const char *k = json_object_iter_key(json_object_iter(a));
            const char *p = json_string_value(json_object_iter_value(json_object_iter(a)));
            if (!s) return false;
            return !strcmp(k, "prefix") ? !starts(s, p) : !ends(s, p);
        }
        if (json_is_array(a)) {
            size_t i;
            json_t *x;
            json_array_foreach(a, i, x) if (same_scalar(x, v)) return false;
            return true;
        }
        return !same_scalar(a, v);
    }
    return false;
}

/* A key's rules against its values (an empty list = the key is absent). */
static bool rules_match(json_t *rules, json_t *values, bool present)
{
    size_t i, j;
    json_t *r, *v;
    json_array_foreach(rules, i, r)
    {
        if (json_is_object(r) && json_object_get(r, "exists")) {
            if (json_is_true(json_object_get(r, "exists")) == present) return true;
            continue;
        }
        json_array_foreach(values, j, v) if (rule_value(r, v)) return true;
    }
    return false;
}

/* The values of one message attribute, as the filter sees them. */
static json_t *attr_values(json_t *attr, bool *present)
{
    json_t *vals = json_array();
    const char *type = json_string_value(json_object_get(attr, "DataType"));
    const char *sv = json_string_value(json_object_get(attr, "StringValue"));
    *present = attr != NULL && type && strncmp(type, "Binary", 6) != 0;
    if (!*present || !sv) return vals;
    if (!strncmp(type, "Number", 6)) {
        char *end;
        double d = strtod(sv, &end);
        if (end != sv && !*end) json_array_append_new(vals, json_real(d));
    } else if (!strcmp(type, "String.Array")) {
        json_t *arr = json_loads(sv, JSON_DECODE_ANY, NULL);
        if (json_is_array(arr)) {
            json_array_extend(vals, arr);
        } else {
            json_array_append_new(vals, json_string(sv));
        }
        json_decref(arr);
    } else {
        json_array_append_new(vals, json_string(sv));
    }
    return vals;
}

static bool level_attrs(json_t *pol, json_t *attrs);

static bool level_attrs(json_t *pol, json_t *attrs)
{
    const char *k;
    json_t *rules;
    json_object_foreach(pol, k, rules)
    {
        if (!strcmp(k, "$or")) {
            bool any = false;
            size_t i;
            json_t *b;
            json_array_foreach(rules, i, b) if (!any && level_attrs(b, attrs)) any = true;
            if (!any) return false;
            continue;
        }
        bool present;
        json_t *vals = attr_values(json_object_get(attrs, k), &present);
        bool ok = rules_match(rules, vals, present);
        json_decref(vals);
        if (!ok) return false;
    }
    return true;
}

/* Flatten a body value into the scalar list a leaf rule sees (arrays match by any element). */
static void flatten(json_t *v, json_t *out)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) flatten(x, out);
    } else if (!json_is_object(v)) {
        json_array_append(out, v);
    }
}

static bool level_body(json_t *pol, json_t *obj);

/* A nested policy against a body value that may be an object or an array of objects. */
static bool nested_body(json_t *pol, json_t *v)
{
    if (json_is_object(v)) return level_body(pol, v);
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (nested_body(pol, x)) return true;
        return false;
    }
    /* absent: only a policy of exists:false leaves matches */
    json_t *empty = json_object();
    bool r = level_body(pol, empty);
    json_decref(empty);
    return r;
}

static bool level_body(json_t *pol, json_t *obj)
{
    const char *k;
    json_t *rules;
    json_object_foreach(pol, k, rules)
    {
        if (!strcmp(k, "$or")) {
            bool any = false;
            size_t i;
            json_t *b;
            json_array_foreach(rules, i, b) if (!any && level_body(b, obj)) any = true;
            if (!any) return false;
            continue;
        }
        json_t *v = json_object_get(obj, k);
        if (json_is_object(rules)) {
            if (!nested_body(rules, v)) return false;
            continue;
        }
        json_t *vals = json_array();
        if (v) flatten(v, vals);
        bool ok = rules_match(rules, vals, v != NULL && !(json_is_array(v) && !json_array_size(vals)));
        json_decref(vals);
        if (!ok) return false;
    }
    return true;
}

bool nb_sns_filter_match(const nb_sns_filter *f, json_t *attrs, const char *body, size_t body_len)
{
    if (!f) return true;
    if (!f->body) return level_attrs(f->policy, attrs);
    json_t *doc = body ? json_loadb(body, body_len, 0, NULL) : NULL;
    bool ok = json_is_object(doc) && level_body(f->policy, doc);
    json_decref(doc);
    return ok;
}
