/* serialize.c: nb_proto_serialize(): an output document written the way AWS writes it for the
 * operation's protocol: query (<OpResponse><OpResult>..<ResponseMetadata>), ec2
 * (<OpResponse><requestId>..), json, rest-json and rest-xml (status and headers from members,
 * payload or body element). Writes straight into one nb_buf: no intermediate trees, so a small
 * response costs a few microseconds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "proto/model_internal.h"

struct ser {
    const nb_model *m;
    int proto;
    nb_buf *b;
};

#define MAX_OUT_DEPTH 64

/* Text of a scalar for XML bodies and headers. Returns false when v has no text form. */
static bool scalar_text(const struct nb_shape *s, int tsfmt, json_t *v, char tmp[64],
                        const char **p, size_t *n)
{
    *p = tmp;
    switch (s->type) {
    case NB_TYPE_TIMESTAMP: {
        double t;
        if (json_is_number(v))
            t = json_number_value(v);
        else if (json_is_string(v)) {
            if (nb_time_parse(json_string_value(v), json_string_length(v), &t) != 0) {
                *p = json_string_value(v); /* not a date we know: pass it through */
                *n = json_string_length(v);
                return true;
            }
        } else
            return false;
        if (tsfmt == NB_TS_RFC822)
            nb_time_rfc822(t, tmp);
        else if (tsfmt == NB_TS_EPOCH)
            nb_time_epoch(t, tmp);
        else
            nb_time_iso8601(t, tmp);
        *n = strlen(tmp);
        return true;
    }
    case NB_TYPE_FLOAT:
    case NB_TYPE_DOUBLE:
        if (json_is_number(v)) {
            nb_fmt_double(json_number_value(v), tmp);
            *n = strlen(tmp);
            return true;
        }
        break;
    default:
        break;
    }
    if (json_is_string(v)) {
        *p = json_string_value(v);
        *n = json_string_length(v);
    } else if (json_is_integer(v)) {
        *n = (size_t)snprintf(tmp, 64, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        if (s->type == NB_TYPE_INTEGER || s->type == NB_TYPE_LONG)
            *n = (size_t)snprintf(tmp, 64, "%lld", (long long)json_real_value(v));
        else {
            nb_fmt_double(json_real_value(v), tmp);
            *n = strlen(tmp);
        }
    } else if (json_is_boolean(v)) {
        *p = json_is_true(v) ? "true" : "false";
        *n = strlen(*p);
    } else {
        return false;
    }
    return true;
}

/* ---- XML ---- */

static void x_value(struct ser *z, const struct nb_member *mb, json_t *v, const char *name,
                    int depth);

static void x_ns_attr(nb_buf *b, const char *prefix, const char *uri)
{
    nb_buf_puts(b, " xmlns");
    if (prefix && prefix[0]) {
        nb_buf_putc(b, ':');
        nb_buf_puts(b, prefix);
    }
    nb_buf_puts(b, "=\"");
    nb_xml_escape(b, uri, strlen(uri));
    nb_buf_putc(b, '"');
}

static void x_attrs(struct ser *z, const struct nb_shape *s, json_t *v)
{
    const nb_model *m = z->m;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        if (!(mb->flags & NB_MF_XMLATTR)) continue;
        json_t *x = json_object_get(v, nb_mstr(m, mb->name));
        char tmp[64];
        const char *t;
        size_t n;
        if (!x || !scalar_text(nb_member_shape(m, mb), mb->tsfmt, x, tmp, &t, &n)) continue;
        nb_buf_putc(z->b, ' ');
        nb_buf_puts(z->b, nb_member_wire(m, mb));
        nb_buf_puts(z->b, "=\"");
        nb_xml_escape(z->b, t, n);
        nb_buf_putc(z->b, '"');
    }
}

/* The child elements of structure s; top: skip members carried in headers / status. */
static void x_children(struct ser *z, const struct nb_shape *s, json_t *v, bool top, int depth)
{
    const nb_model *m = z->m;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        if ((mb->flags & NB_MF_XMLATTR) || (top && mb->location != NB_LOC_BODY)) continue;
        json_t *x = json_object_get(v, nb_mstr(m, mb->name));
        if (!x || json_is_null(x)) continue;
        x_value(z, mb, x, nb_member_wire(m, mb), depth + 1);
    }
}

static void x_open_struct(struct ser *z, const struct nb_member *mb, const struct nb_shape *s,
                          json_t *v, const char *name, const char *force_ns)
{
    nb_buf_putc(z->b, '<');
    nb_buf_puts(z->b, name);
    const struct nb_member_extra *x = mb ? nb_member_extra(z->m, mb) : NULL;
    if (x && x->xmlns_uri)
        x_ns_attr(z->b, nb_mstr(z->m, x->xmlns_prefix), nb_mstr(z->m, x->xmlns_uri));
    else if (force_ns)
        x_ns_attr(z->b, NULL, force_ns);
    if (s && json_is_object(v)) x_attrs(z, s, v);
}

static void x_close(nb_buf *b, const char *name)
{
    nb_buf_puts(b, "</");
    nb_buf_puts(b, name);
    nb_buf_putc(b, '>');
}

static void x_scalar(struct ser *z, const struct nb_member *mb, json_t *v, const char *name)
{
    char tmp[64];
    const char *t;
    size_t n;
    if (!scalar_text(nb_member_shape(z->m, mb), mb->tsfmt, v, tmp, &t, &n)) return;
    nb_buf_putc(z->b, '<');
    nb_buf_puts(z->b, name);
    nb_buf_putc(z->b, '>');
    nb_xml_escape(z->b, t, n);
    x_close(z->b, name);
}

static void x_value(struct ser *z, const struct nb_member *mb, json_t *v, const char *name,
                    int depth)
{
    const nb_model *m = z->m;
    const struct nb_shape *s = nb_member_shape(m, mb);
    if (depth > MAX_OUT_DEPTH) return;
    switch (s->type) {
    case NB_TYPE_STRUCTURE:
        if (!json_is_object(v)) return;
        x_open_struct(z, mb, s, v, name, NULL);
        nb_buf_putc(z->b, '>');
        x_children(z, s, v, false, depth);
        x_close(z->b, name);
        return;
    case NB_TYPE_LIST: {
        if (!json_is_array(v)) return;
        const struct nb_member *lm = &m->members[s->first];
        size_t i;
        json_t *x;
        if (mb->flags & NB_MF_FLATTENED) {
            /* repeated elements, named by the list member's locationName if it has one */
            const char *iname = lm->wire ? nb_mstr(m, lm->wire) : name;
            json_array_foreach(v, i, x)
            {
                const char *own = json_string_value(json_object_get(x, NB_XML_ELEMENT_KEY));
                x_value(z, lm, x, own ? own : iname, depth + 1);
            }
            return;
        }
        const char *iname = lm->wire ? nb_mstr(m, lm->wire) : "member";
        nb_buf_putc(z->b, '<');
        nb_buf_puts(z->b, name);
        if (json_array_size(v) == 0) {
            nb_buf_puts(z->b, "/>");
            return;
        }
        nb_buf_putc(z->b, '>');
        json_array_foreach(v, i, x) x_value(z, lm, x, iname, depth + 1);
        x_close(z->b, name);
        return;
    }
    case NB_TYPE_MAP: {
        if (!json_is_object(v)) return;
        const struct nb_member *km = &m->members[s->first], *vm = km + 1;
        const char *kn = km->wire ? nb_mstr(m, km->wire) : "key";
        const char *vn = vm->wire ? nb_mstr(m, vm->wire) : "value";
        bool flat = mb->flags & NB_MF_FLATTENED;
        const char *k;
        json_t *x;
        if (!flat) {
            nb_buf_putc(z->b, '<');
            nb_buf_puts(z->b, name);
            nb_buf_putc(z->b, '>');
        }
        json_object_foreach(v, k, x)
        {
            nb_buf_putc(z->b, '<');
            nb_buf_puts(z->b, flat ? name : "entry");
            nb_buf_puts(z->b, "><");
            nb_buf_puts(z->b, kn);
            nb_buf_putc(z->b, '>');
            nb_xml_escape(z->b, k, strlen(k));
            x_close(z->b, kn);
            x_value(z, vm, x, vn, depth + 1);
            x_close(z->b, flat ? name : "entry");
        }
        if (!flat) x_close(z->b, name);
        return;
    }
    default:
        x_scalar(z, mb, v, name);
    }
}

/* ---- JSON ---- */

static void j_value(struct ser *z, const struct nb_member *mb, json_t *v, int depth);

static void j_struct(struct ser *z, const struct nb_shape *s, json_t *v, bool top, int depth)
{
    const nb_model *m = z->m;
    bool first = true;
    nb_buf_putc(z->b, '{');
    for (uint32_t i = 0; json_is_object(v) && i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        if (top && mb->location != NB_LOC_BODY) continue;
        json_t *x = json_object_get(v, nb_mstr(m, mb->name));
        if (!x || json_is_null(x)) continue;
        if (!first) nb_buf_putc(z->b, ',');
        first = false;
        const char *w = nb_member_wire(m, mb);
        nb_json_escape(z->b, w, strlen(w));
        nb_buf_putc(z->b, ':');
        j_value(z, mb, x, depth + 1);
    }
    nb_buf_putc(z->b, '}');
}

static bool numeric_text(const char *s, size_t n)
{
    if (n == 0 || n > 30) return false;
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == n) return false;
    for (; i < n; i++)
        if ((s[i] < '0' || s[i] > '9') && s[i] != '.' && s[i] != 'e' && s[i] != 'E' &&
            s[i] != '+' && s[i] != '-')
            return false;
    return strtod(s, NULL) == strtod(s, NULL); /* parses as a number */
}

static void j_value(struct ser *z, const struct nb_member *mb, json_t *v, int depth)
{
    const nb_model *m = z->m;
    const struct nb_shape *s = nb_member_shape(m, mb);
    nb_buf *b = z->b;
    char tmp[64];
    if (depth > MAX_OUT_DEPTH) {
        nb_buf_puts(b, "null");
        return;
    }
    switch (s->type) {
    case NB_TYPE_STRUCTURE:
        j_struct(z, s, v, false, depth);
        return;
    case NB_TYPE_LIST: {
        const struct nb_member *lm = &m->members[s->first];
        size_t i;
        json_t *x;
        bool first = true;
        nb_buf_putc(b, '[');
        if (json_is_array(v)) json_array_foreach(v, i, x)
            {
                if (json_is_null(x)) continue;
                if (!first) nb_buf_putc(b, ',');
                first = false;
                j_value(z, lm, x, depth + 1);
            }
        nb_buf_putc(b, ']');
        return;
    }
    case NB_TYPE_MAP: {
        const struct nb_member *vm = &m->members[s->first + 1];
        const char *k;
        json_t *x;
        bool first = true;
        nb_buf_putc(b, '{');
        if (json_is_object(v)) json_object_foreach(v, k, x)
            {
                if (json_is_null(x)) continue;
                if (!first) nb_buf_putc(b, ',');
                first = false;
                nb_json_escape(b, k, strlen(k));
                nb_buf_putc(b, ':');
                j_value(z, vm, x, depth + 1);
            }
        nb_buf_putc(b, '}');
        return;
    }
    case NB_TYPE_INTEGER:
    case NB_TYPE_LONG:
        if (json_is_integer(v))
            nb_buf_printf(b, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
            nb_buf_printf(b, "%lld", (long long)json_real_value(v));
        else if (json_is_string(v) && numeric_text(json_string_value(v), json_string_length(v)))
            nb_buf_printf(b, "%lld", strtoll(json_string_value(v), NULL, 10));
        else
            nb_buf_puts(b, "null");
        return;
    case NB_TYPE_FLOAT:
    case NB_TYPE_DOUBLE:
        if (json_is_number(v) && isfinite(json_number_value(v))) {
            nb_fmt_double(json_number_value(v), tmp);
            nb_buf_puts(b, tmp);
        } else if (json_is_string(v) && numeric_text(json_string_value(v), json_string_length(v))) {
            nb_fmt_double(strtod(json_string_value(v), NULL), tmp);
            nb_buf_puts(b, tmp);
        } else if (json_is_number(v) || json_is_string(v)) {
            /* NaN / Infinity: JSON has no such numbers; AWS writes them as strings */
            nb_fmt_double(json_is_number(v) ? json_number_value(v) : NAN, tmp);
            nb_json_escape(b, tmp, strlen(tmp));
        } else
            nb_buf_puts(b, "null");
        return;
    case NB_TYPE_BOOLEAN:
        if (json_is_boolean(v))
            nb_buf_puts(b, json_is_true(v) ? "true" : "false");
        else if (json_is_string(v))
            nb_buf_puts(b, strcmp(json_string_value(v), "true") == 0 ? "true" : "false");
        else
            nb_buf_puts(b, json_is_number(v) && json_number_value(v) != 0 ? "true" : "false");
        return;
    case NB_TYPE_TIMESTAMP: {
        const char *t;
        size_t n;
        int fmt = mb->tsfmt ? mb->tsfmt : NB_TS_EPOCH;
        if (!scalar_text(s, fmt, v, tmp, &t, &n)) {
            nb_buf_puts(b, "null");
            return;
        }
        if (fmt == NB_TS_EPOCH && t == tmp)
            nb_buf_append(b, t, n);
        else
            nb_json_escape(b, t, n);
        return;
    }
    default: { /* string, blob (already base64 text) */
        const char *t;
        size_t n;
        if (!scalar_text(s, mb->tsfmt, v, tmp, &t, &n)) {
            nb_buf_puts(b, "null");
            return;
        }
        nb_json_escape(b, t, n);
        return;
    }
    }
}

/* ---- headers and status (rest protocols) ---- */

static void put_headers(struct ser *z, const struct nb_shape *s, json_t *doc, nb_arena *a,
                        nb_wire_resp *out)
{
    const nb_model *m = z->m;
    for (uint32_t i = 0; json_is_object(doc) && i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        if (mb->location == NB_LOC_BODY || mb->location == NB_LOC_URI ||
            mb->location == NB_LOC_QUERYSTRING)
            continue;
        json_t *x = json_object_get(doc, nb_mstr(m, mb->name));
        if (!x || json_is_null(x)) continue;
        const struct nb_shape *ms = nb_member_shape(m, mb);
        char tmp[64];
        const char *t;
        size_t n;
        if (mb->location == NB_LOC_STATUS) {
            if (json_is_integer(x) && json_integer_value(x) >= 100 && json_integer_value(x) <= 599)
                out->status = (int)json_integer_value(x);
            continue;
        }
        if (mb->location == NB_LOC_HEADERS) {
            if (ms->type != NB_TYPE_MAP || !json_is_object(x)) continue;
            const struct nb_member *vm = &m->members[ms->first + 1];
            const char *k;
            json_t *y;
            json_object_foreach(x, k, y)
            {
                if (!scalar_text(nb_member_shape(m, vm), vm->tsfmt ? vm->tsfmt : NB_TS_RFC822, y,
                                 tmp, &t, &n))
                    continue;
                const char *name = nb_arena_printf(a, "%s%s", nb_member_wire(m, mb), k);
                if (name) nb_resp_add_header(out, a, name, t, n, true);
            }
            continue;
        }
        const char *name = nb_member_wire(m, mb);
        /* The HTTP server frames the body and writes Content-Length itself (for HEAD, the
         * dispatcher passes the document's ContentLength as the length). */
        if (strcasecmp(name, "Content-Length") == 0) continue;
        int fmt = mb->tsfmt ? mb->tsfmt : NB_TS_RFC822;
        if (ms->type == NB_TYPE_LIST && json_is_array(x)) {
            const struct nb_member *lm = &m->members[ms->first];
            nb_buf joined;
            nb_buf_init(&joined);
            size_t k;
            json_t *y;
            json_array_foreach(x, k, y)
            {
                if (!scalar_text(nb_member_shape(m, lm), fmt, y, tmp, &t, &n)) continue;
                if (joined.len) nb_buf_puts(&joined, ", ");
                nb_buf_append(&joined, t, n);
            }
            if (joined.len) nb_resp_add_header(out, a, name, joined.data, joined.len, true);
            nb_buf_free(&joined);
            continue;
        }
        if (mb->flags & NB_MF_JSONVALUE) {
            /* jsonvalue headers carry base64 of the JSON text */
            char *d = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!d) continue;
            size_t dl = strlen(d);
            char *enc = nb_arena_alloc(a, nb_base64_encoded_len(dl) + 1);
            if (enc) {
                size_t el = nb_base64_encode((unsigned char *)d, dl, enc);
                nb_resp_add_header(out, a, name, enc, el, false);
            }
            free(d);
            continue;
        }
        if (scalar_text(ms, fmt, x, tmp, &t, &n)) nb_resp_add_header(out, a, name, t, n, true);
    }
}

static bool has_body_members(const nb_model *m, const struct nb_shape *s)
{
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (m->members[s->first + i].location == NB_LOC_BODY) return true;
    return false;
}

static const char *xml_ns(const nb_model *m)
{
    return m->xml_namespace ? nb_mstr(m, m->xml_namespace) : NULL;
}

static void rest_body(struct ser *z, const nb_op *op, const struct nb_shape *s, json_t *doc)
{
    const nb_model *m = z->m;
    nb_buf *b = z->b;
    bool xml = z->proto == NB_PROTO_REST_XML;
    const struct nb_member *pm = nb_shape_payload(m, s);
    if (pm) {
        if ((pm->flags & NB_MF_STREAMING) || (op->flags & NB_OF_STREAM_OUT)) return;
        json_t *x = json_object_get(doc, nb_mstr(m, pm->name));
        if (!x || json_is_null(x)) return;
        const struct nb_shape *ps = nb_member_shape(m, pm);
        if (ps->type == NB_TYPE_BLOB) {
            if (!json_is_string(x)) return;
            size_t n = json_string_length(x);
            if (nb_buf_reserve(b, n + 4) < 0) return;
            ssize_t k =
                nb_base64_decode(json_string_value(x), n, (unsigned char *)b->data + b->len);
            if (k > 0) {
                b->len += (size_t)k;
                b->data[b->len] = '\0';
            }
            return;
        }
        if (ps->type == NB_TYPE_STRING) {
            if (json_is_string(x)) nb_buf_append(b, json_string_value(x), json_string_length(x));
            return;
        }
        if (!xml) {
            j_value(z, pm, x, 0);
            return;
        }
        const char *root = nb_member_wire(m, pm);
        nb_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        if (ps->type == NB_TYPE_STRUCTURE) {
            x_open_struct(z, pm, ps, x, root, xml_ns(m));
            nb_buf_putc(b, '>');
            x_children(z, ps, x, false, 0);
            x_close(b, root);
        } else {
            x_value(z, pm, x, root, 0);
        }
        return;
    }
    if (!has_body_members(m, s)) return;
    if (!xml) {
        j_struct(z, s, doc, true, 0);
        return;
    }
    const char *root = op->output_wire ? nb_mstr(m, op->output_wire) : nb_mstr(m, s->name);
    nb_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x_open_struct(z, NULL, s, doc, root, xml_ns(m));
    if (op->flags & NB_OF_TEXT_ROOT) {
        /* <LocationConstraint xmlns="...">eu-west-1</LocationConstraint>; empty for us-east-1 */
        for (uint32_t i = 0; i < s->nmembers; i++) {
            const struct nb_member *mb = &m->members[s->first + i];
            if (mb->location != NB_LOC_BODY) continue;
            json_t *x = json_object_get(doc, nb_mstr(m, mb->name));
            char tmp[64];
            const char *t;
            size_t n;
            if (x && scalar_text(nb_member_shape(m, mb), mb->tsfmt, x, tmp, &t, &n) && n) {
                nb_buf_putc(b, '>');
                nb_xml_escape(b, t, n);
                x_close(b, root);
                return;
            }
        }
        nb_buf_puts(b, "/>");
        return;
    }
    nb_buf_putc(b, '>');
    x_children(z, s, doc, true, 0);
    x_close(b, root);
}

int nb_proto_serialize(const nb_model *m, const nb_op *op, json_t *output, const char *request_id,
                       nb_arena *a, nb_wire_resp *out)
{
    memset(out, 0, sizeof(*out));
    nb_buf_init(&out->body);
    nb_buf *b = &out->body;
    const struct nb_shape *s = nb_op_output(m, op);
    const char *rid = request_id ? request_id : "";
    const char *opname = nb_mstr(m, op->name);
    struct ser z = {.m = m, .proto = m->protocol, .b = b};
    json_t *doc = json_is_object(output) ? output : NULL;
    out->status = op->response_code ? op->response_code : 200;
    if (nb_buf_reserve(b, 512) == 0) b->data[0] = '\0';

    switch (m->protocol) {
    case NB_PROTO_QUERY:
    case NB_PROTO_EC2: {
        bool ec2 = m->protocol == NB_PROTO_EC2;
        const char *ns = xml_ns(m);
        if (ec2) nb_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        nb_buf_putc(b, '<');
        nb_buf_puts(b, opname);
        nb_buf_puts(b, "Response");
        if (ns)
            x_ns_attr(b, NULL, ns);
        else
            nb_buf_printf(b, " xmlns=\"https://%s.amazonaws.com/doc/%s/\"",
                          nb_mstr(m, m->endpoint_prefix), nb_mstr(m, m->api_version));
        nb_buf_putc(b, '>');
        if (ec2) {
            nb_buf_puts(b, "<requestId>");
            nb_xml_escape(b, rid, strlen(rid));
            nb_buf_puts(b, "</requestId>");
            if (s && doc) x_children(&z, s, doc, false, 0);
        } else if (s) {
            const char *rw = op->result_wrapper ? nb_mstr(m, op->result_wrapper) : NULL;
            if (rw) {
                nb_buf_putc(b, '<');
                nb_buf_puts(b, rw);
                nb_buf_putc(b, '>');
            }
            if (doc) x_children(&z, s, doc, false, 0);
            if (rw) x_close(b, rw);
        }
        if (!ec2) {
            nb_buf_puts(b, "<ResponseMetadata><RequestId>");
            nb_xml_escape(b, rid, strlen(rid));
            nb_buf_puts(b, "</RequestId></ResponseMetadata>");
        }
        nb_buf_puts(b, "</");
        nb_buf_puts(b, opname);
        nb_buf_puts(b, "Response>");
        if (ec2)
            nb_resp_add_header(out, a, "Content-Type", "text/xml;charset=UTF-8", 22, false);
        else
            nb_resp_add_header(out, a, "Content-Type", "text/xml", 8, false);
        break;
    }
    case NB_PROTO_JSON: {
        if (s)
            j_struct(&z, s, doc, false, 0);
        else
            nb_buf_puts(b, "{}");
        const char *ct = nb_arena_printf(a, "application/x-amz-json-%s",
                                         m->json_version ? nb_mstr(m, m->json_version) : "1.0");
        if (ct) nb_resp_add_header(out, a, "Content-Type", ct, strlen(ct), false);
        break;
    }
    default: /* rest-json, rest-xml */
        if (s) {
            put_headers(&z, s, doc, a, out);
            rest_body(&z, op, s, doc);
        }
        if (b->len) {
            const char *ct = m->protocol == NB_PROTO_REST_JSON        ? "application/json"
                             : strcmp(nb_mstr(m, m->name), "s3") == 0 ? "application/xml"
                                                                      : "text/xml";
            /* a raw payload keeps whatever Content-Type member the handler set */
            bool have = false;
            for (size_t i = 0; i < out->nheaders; i++)
                if (nb_mem_ieq(out->headers[i].name, out->headers[i].name_len, "Content-Type", 12))
                    have = true;
            if (!have) nb_resp_add_header(out, a, "Content-Type", ct, strlen(ct), false);
        }
        break;
    }
    nb_resp_request_id_headers(m, m->protocol, rid, a, out);
    if (b->oom) {
        nb_buf_free(b);
        return -1;
    }
    return 0;
}
