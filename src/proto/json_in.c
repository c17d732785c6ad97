/* json_in.c: input of the json and rest-json protocols: a JSON body (jansson) checked against
 * the model and rebuilt as a document keyed by member names. Keys are the members' wire names
 * (locationName, else the member name); unknown keys are ignored as AWS does; null is absent.
 * Timestamps arrive as epoch seconds (ISO 8601 text is accepted too), blobs as base64. */
#include <math.h>
#include <stdio.h>

#include "proto/model_internal.h"

static const char *token_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "START_OBJECT";
    case JSON_ARRAY:
        return "START_ARRAY";
    case JSON_STRING:
        return "VALUE_STRING";
    case JSON_INTEGER:
        return "VALUE_NUMBER_INT";
    case JSON_REAL:
        return "VALUE_NUMBER_FLOAT";
    case JSON_TRUE:
        return "VALUE_TRUE";
    case JSON_FALSE:
        return "VALUE_FALSE";
    default:
        return "VALUE_NULL";
    }
}

/* Coral's JSON reader (the json protocol: Logs, SQS-json) names neither the member nor the
 * value, only the token, and says "an" before every type word: "STRING_VALUE can not be
 * converted to an Integer", "class ...TruncatingBigNumber can not be converted to an String". */
static json_t *coral_type_error(struct nb_pin *p, const json_t *v, int type)
{
    if (json_is_object(v) && type != NB_TYPE_STRUCTURE && type != NB_TYPE_MAP)
        return nb_in_malformed(p, "Start of structure or map found where not expected."), NULL;
    if (json_is_array(v) && type != NB_TYPE_LIST)
        return nb_in_malformed(p, "Start of list found where not expected."), NULL;
    const char *tok = json_is_string(v)    ? "STRING_VALUE"
                      : json_is_number(v)  ? "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
                      : json_is_boolean(v) ? "BOOLEAN_VALUE"
                                           : token_name(v);
    const char *tw;
    switch (type) {
    case NB_TYPE_INTEGER:
        tw = "Integer";
        break;
    case NB_TYPE_LONG:
        tw = "Long";
        break;
    case NB_TYPE_BOOLEAN:
        tw = "Boolean";
        break;
    case NB_TYPE_FLOAT:
        tw = "Float";
        break;
    case NB_TYPE_DOUBLE:
        tw = "Double";
        break;
    case NB_TYPE_TIMESTAMP:
        tw = "Date";
        break;
    case NB_TYPE_BLOB:
        tw = "ByteBuffer";
        break;
    case NB_TYPE_STRUCTURE:
        tw = "Structure";
        break;
    case NB_TYPE_LIST:
        tw = "List";
        break;
    case NB_TYPE_MAP:
        tw = "Map";
        break;
    default:
        tw = "String";
    }
    nb_aws_error_set(p->e, 400, "SerializationException", "%s can not be converted to an %s", tok,
                     tw);
    return NULL;
}

static json_t *type_error(struct nb_pin *p, const char *where, const json_t *v, int type)
{
    if (p->proto == NB_PROTO_JSON) return coral_type_error(p, v, type);
    /* The value is a JSON token here, so name the token like AWS's Jackson-based services. */
    char val[64];
    if (json_is_string(v))
        snprintf(val, sizeof(val), "%.60s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(val, sizeof(val), "%lld", (long long)json_integer_value(v));
    else
        snprintf(val, sizeof(val), "%s", token_name(v));
    nb_in_type_error(p, where, val, strlen(val), type, true);
    return NULL;
}

json_t *nb_json_struct_in(struct nb_pin *p, const struct nb_shape *s, json_t *obj, int depth,
                          bool body_only)
{
    const nb_model *m = p->m;
    json_t *out = json_object();
    if (!out) return NULL;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        if (body_only && mb->location != NB_LOC_BODY) continue;
        json_t *v = json_object_get(obj, nb_member_wire(m, mb));
        if (!v || json_is_null(v)) continue;
        json_t *x = nb_json_in(p, mb, v, depth + 1);
        if (!x) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new_nocheck(out, nb_mstr(m, mb->name), x);
    }
    return out;
}

json_t *nb_json_in(struct nb_pin *p, const struct nb_member *mb, json_t *v, int depth)
{
    const nb_model *m = p->m;
    const struct nb_shape *s = nb_member_shape(m, mb);
    const char *where = mb->name ? nb_member_wire(m, mb) : "member";
    if (depth > NB_PARSE_MAX_DEPTH) {
        nb_in_malformed(p, "JSON nested too deeply");
        return NULL;
    }
    switch (s->type) {
    case NB_TYPE_STRUCTURE:
        if (!json_is_object(v)) return type_error(p, where, v, s->type);
        return nb_json_struct_in(p, s, v, depth, false);
    case NB_TYPE_LIST: {
        if (!json_is_array(v)) return type_error(p, where, v, s->type);
        const struct nb_member *lm = &m->members[s->first];
        json_t *arr = json_array();
        if (!arr) return NULL;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (json_is_null(x)) continue; /* sparse lists: AWS drops nulls */
            json_t *y = nb_json_in(p, lm, x, depth + 1);
            if (!y) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, y);
        }
        return arr;
    }
    case NB_TYPE_MAP: {
        if (!json_is_object(v)) return type_error(p, where, v, s->type);
        const struct nb_member *vm = &m->members[s->first + 1];
        json_t *obj = json_object();
        if (!obj) return NULL;
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (json_is_null(x)) continue;
            json_t *y = nb_json_in(p, vm, x, depth + 1);
            if (!y) {
                json_decref(obj);
                return NULL;
            }
            json_object_set_new_nocheck(obj, k, y);
        }
        return obj;
    }
    case NB_TYPE_STRING:
        if (!json_is_string(v)) return type_error(p, where, v, s->type);
        return json_incref(v);
    case NB_TYPE_BLOB:
        if (!json_is_string(v)) return type_error(p, where, v, s->type);
        if (!nb_base64_valid(json_string_value(v), json_string_length(v)))
            return type_error(p, where, v, s->type);
        return json_incref(v);
    case NB_TYPE_BOOLEAN:
        if (!json_is_boolean(v)) return type_error(p, where, v, s->type);
        return json_incref(v);
    case NB_TYPE_INTEGER:
    case NB_TYPE_LONG: {
        json_int_t x;
        if (json_is_integer(v))
            x = json_integer_value(v);
        else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
                 fabs(json_real_value(v)) < 9.2e18)
            x = (json_int_t)json_real_value(v); /* 5.0 is an integer to Jackson too */
        else
            return type_error(p, where, v, s->type);
        if (s->type == NB_TYPE_INTEGER && (x < INT32_MIN || x > INT32_MAX))
            return type_error(p, where, v, s->type);
        return json_integer(x);
    }
    case NB_TYPE_FLOAT:
    case NB_TYPE_DOUBLE:
        if (!json_is_number(v)) return type_error(p, where, v, s->type);
        return json_real(json_number_value(v));
    case NB_TYPE_TIMESTAMP: {
        if (json_is_number(v)) return json_incref(v);
        double t;
        if (json_is_string(v) &&
            nb_time_parse(json_string_value(v), json_string_length(v), &t) == 0)
            return (t == floor(t) && fabs(t) < 9e15) ? json_integer((json_int_t)t) : json_real(t);
        return type_error(p, where, v, s->type);
    }
    default:
        return type_error(p, where, v, s->type);
    }
}

json_t *nb_json_body_in(struct nb_pin *p, const struct nb_shape *s, const char *body, size_t len,
                        bool body_only)
{
    /* An empty body is an empty structure: some SDKs send nothing for operations without
     * members; botocore sends "{}". */
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i == len) return json_object();
    json_error_t err;
    /* \u0000 is valid JSON: strings keep it, and the dispatcher refuses it unless the
     * service reads those members with their length (SQS message bodies). */
    json_t *doc = json_loadb(body, len, JSON_ALLOW_NUL, &err);
    if (!doc) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", err.text);
        nb_in_malformed(p, p->proto == NB_PROTO_JSON ? NULL : msg);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        nb_in_malformed(p, p->proto == NB_PROTO_JSON ? "Unexpected value type in payload"
                                                     : "Request body must be a JSON object");
        return NULL;
    }
    json_t *out = nb_json_struct_in(p, s, doc, 0, body_only);
    json_decref(doc);
    return out;
}
