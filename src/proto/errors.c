/* errors.c: AWS errors (nb_aws_error) and their wire forms, one per protocol, as AWS sends them:
 *   query     <ErrorResponse
 * xmlns=..><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/> ec2
 * <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response> json
 * {"__type":"Code","message":"..."} rest-json x-amzn-ErrorType: Code, body from the model's error
 * shape ({"Type":"User","Message"}) rest-xml  S3:
 * <Error><Code/><Message/>extra..<Resource/><RequestId/><HostId/></Error>; Route 53, CloudFront:
 * the query form with an XML prolog. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "proto/model_internal.h"

int nb_aws_error_set(nb_aws_error *e, int status, const char *code, const char *fmt, ...)
{
    if (!e) return -1;
    if (e->extra) json_decref(e->extra);
    e->extra = NULL;
    e->status = status;
    snprintf(e->code, sizeof(e->code), "%s", code ? code : "InternalError");
    e->message[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
    }
    e->sender_fault = status < 500;
    return -1;
}

void nb_aws_error_clear(nb_aws_error *e)
{
    if (!e) return;
    if (e->extra) json_decref(e->extra);
    memset(e, 0, sizeof(*e));
}

/* Headers live in the arena; names are usually string literals or model strings. */
int nb_resp_add_header(nb_wire_resp *out, nb_arena *a, const char *name, const char *val,
                       size_t vlen, bool copy)
{
    if (out->nheaders >= NB_ARRAY_LEN(out->headers)) {
        nb_warn("proto: response header %s dropped: more than %zu headers", name,
                NB_ARRAY_LEN(out->headers));
        return -1;
    }
    if (copy) {
        char *v = nb_arena_strndup(a, val, vlen);
        if (!v) return -1;
        /* A header value never carries CR/LF: a document value cannot split the response. */
        for (size_t i = 0; i < vlen; i++)
            if (v[i] == '\r' || v[i] == '\n') v[i] = ' ';
        val = v;
    }
    nb_header *h = &out->headers[out->nheaders++];
    h->name = name;
    h->name_len = strlen(name);
    h->value = val;
    h->value_len = vlen;
    return 0;
}

void nb_resp_request_id_headers(const nb_model *m, int proto, const char *rid, nb_arena *a,
                                nb_wire_resp *out)
{
    if (!rid) rid = "";
    bool s3 = proto == NB_PROTO_REST_XML && (!m || strcmp(nb_mstr(m, m->name), "s3") == 0);
    if (s3) {
        char host[80];
        nb_host_id(rid, host);
        nb_resp_add_header(out, a, "x-amz-request-id", rid, strlen(rid), true);
        nb_resp_add_header(out, a, "x-amz-id-2", host, strlen(host), true);
    } else if (proto != NB_PROTO_EC2) {
        nb_resp_add_header(out, a, "x-amzn-RequestId", rid, strlen(rid), true);
    }
}

static void xml_text_of(nb_buf *b, json_t *v)
{
    char tmp[40];
    const char *s = tmp;
    size_t n;
    if (json_is_string(v)) {
        s = json_string_value(v);
        n = json_string_length(v);
    } else if (json_is_integer(v)) {
        n = (size_t)snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        nb_fmt_double(json_real_value(v), tmp);
        n = strlen(tmp);
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
        n = strlen(s);
    } else {
        return;
    }
    nb_xml_escape(b, s, n);
}

static void xml_extras(nb_buf *b, json_t *extra, const char *skip)
{
    const char *k;
    json_t *v;
    if (!json_is_object(extra)) return;
    json_object_foreach(extra, k, v)
    {
        if ((skip && strcmp(k, skip) == 0) || json_is_null(v) || json_is_object(v) ||
            json_is_array(v))
            continue;
        nb_buf_printf(b, "<%s>", k);
        xml_text_of(b, v);
        nb_buf_printf(b, "</%s>", k);
    }
}

static void json_scalar_text(nb_buf *b, json_t *v)
{
    /* numbers and booleans stay JSON numbers/booleans */
    if (json_is_string(v)) {
        nb_json_escape(b, json_string_value(v), json_string_length(v));
        return;
    }
    char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    nb_buf_puts(b, d ? d : "null");
    free(d);
}

static void json_extras(nb_buf *b, json_t *extra, const char *skip1, const char *skip2)
{
    const char *k;
    json_t *v;
    if (!json_is_object(extra)) return;
    json_object_foreach(extra, k, v)
    {
        if (strcmp(k, skip1) == 0 || strcmp(k, skip2) == 0) continue;
        nb_buf_putc(b, ',');
        nb_json_escape(b, k, strlen(k));
        nb_buf_putc(b, ':');
        json_scalar_text(b, v);
    }
}

int nb_proto_serialize_error(const nb_model *m, const char *protocol, const nb_aws_error *e,
                             const char *request_id, const char *resource, nb_arena *a,
                             nb_wire_resp *out)
{
    memset(out, 0, sizeof(*out));
    nb_buf_init(&out->body);
    int proto = m ? m->protocol : nb_model_protocol_kind(protocol);
    const char *rid = request_id ? request_id : "";
    const char *code = e->code[0] ? e->code : "InternalError";
    const char *msg = e->message;
    nb_buf *b = &out->body;
    out->status = e->status > 0 ? e->status : 500;
    const char *ns = m && m->xml_namespace ? nb_mstr(m, m->xml_namespace) : NULL;
    const char *type = e->sender_fault ? "Sender" : "Receiver";

    switch (proto) {
    case NB_PROTO_EC2:
        nb_buf_puts(b,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>");
        nb_xml_escape(b, code, strlen(code));
        nb_buf_puts(b, "</Code><Message>");
        nb_xml_escape(b, msg, strlen(msg));
        nb_buf_puts(b, "</Message>");
        xml_extras(b, e->extra, NULL);
        nb_buf_puts(b, "</Error></Errors><RequestID>");
        nb_xml_escape(b, rid, strlen(rid));
        nb_buf_puts(b, "</RequestID></Response>");
        nb_resp_add_header(out, a, "Content-Type", "text/xml;charset=UTF-8", 22, false);
        break;
    case NB_PROTO_JSON: {
        nb_buf_puts(b, "{\"__type\":");
        nb_json_escape(b, code, strlen(code));
        nb_buf_puts(b, ",\"message\":");
        nb_json_escape(b, msg, strlen(msg));
        json_extras(b, e->extra, "__type", "message");
        nb_buf_putc(b, '}');
        const char *jv = m && m->json_version ? nb_mstr(m, m->json_version) : "1.1";
        const char *ct = nb_arena_printf(a, "application/x-amz-json-%s", jv);
        if (ct) nb_resp_add_header(out, a, "Content-Type", ct, strlen(ct), false);
        break;
    }
    case NB_PROTO_REST_JSON: {
        /* The body has the members of the model's error shape when there is one: Lambda's
         * {"Type":"User","Message":...}, EFS's {"ErrorCode":...,"Message":...}. */
        const struct nb_shape *es = nb_model_error_shape(m, code);
        const char *msg_key = "message";
        bool has_type = false, has_code = false;
        if (es) {
            for (uint32_t i = 0; i < es->nmembers; i++) {
                const char *n = nb_mstr(m, m->members[es->first + i].name);
                if (strcmp(n, "Message") == 0) msg_key = "Message";
                if (strcmp(n, "Type") == 0) has_type = true;
                if (strcmp(n, "ErrorCode") == 0) has_code = true;
            }
        }
        nb_buf_putc(b, '{');
        if (has_type) {
            nb_buf_puts(b, "\"Type\":");
            nb_json_escape(b, e->sender_fault ? "User" : "Service", e->sender_fault ? 4 : 7);
            nb_buf_putc(b, ',');
        }
        if (has_code) {
            nb_buf_puts(b, "\"ErrorCode\":");
            nb_json_escape(b, code, strlen(code));
            nb_buf_putc(b, ',');
        }
        nb_json_escape(b, msg_key, strlen(msg_key));
        nb_buf_putc(b, ':');
        nb_json_escape(b, msg, strlen(msg));
        if (json_is_object(e->extra)) {
            const char *k;
            json_t *v;
            json_object_foreach(e->extra, k, v)
            {
                if (strcmp(k, msg_key) == 0 || (has_type && strcmp(k, "Type") == 0)) continue;
                nb_buf_putc(b, ',');
                nb_json_escape(b, k, strlen(k));
                nb_buf_putc(b, ':');
                json_scalar_text(b, v);
            }
        }
        nb_buf_putc(b, '}');
        nb_resp_add_header(out, a, "x-amzn-ErrorType", code, strlen(code), true);
        nb_resp_add_header(out, a, "Content-Type", "application/json", 16, false);
        break;
    }
    case NB_PROTO_REST_XML:
        if (!m || strcmp(nb_mstr(m, m->name), "s3") == 0) {
            bool has_res = json_is_object(e->extra) && json_object_get(e->extra, "Resource");
            nb_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
            nb_xml_escape(b, code, strlen(code));
            nb_buf_puts(b, "</Code><Message>");
            nb_xml_escape(b, msg, strlen(msg));
            nb_buf_puts(b, "</Message>");
            xml_extras(b, e->extra, NULL);
            if (resource && resource[0] && !has_res) {
                nb_buf_puts(b, "<Resource>");
                nb_xml_escape(b, resource, strlen(resource));
                nb_buf_puts(b, "</Resource>");
            }
            char host[80];
            nb_host_id(rid, host);
            nb_buf_puts(b, "<RequestId>");
            nb_xml_escape(b, rid, strlen(rid));
            nb_buf_puts(b, "</RequestId><HostId>");
            nb_buf_puts(b, host);
            nb_buf_puts(b, "</HostId></Error>");
            nb_resp_add_header(out, a, "Content-Type", "application/xml", 15, false);
            break;
        }
        nb_buf_puts(b, "<?xml version=\"1.0\"?>\n");
        /* Route 53 and CloudFront use the query error form */
        __attribute__((fallthrough));
    case NB_PROTO_QUERY:
    default:
        nb_buf_puts(b, "<ErrorResponse");
        if (ns) {
            nb_buf_puts(b, " xmlns=\"");
            nb_xml_escape(b, ns, strlen(ns));
            nb_buf_putc(b, '"');
        }
        nb_buf_puts(b, "><Error><Type>");
        nb_buf_puts(b, type);
        nb_buf_puts(b, "</Type><Code>");
        nb_xml_escape(b, code, strlen(code));
        nb_buf_puts(b, "</Code><Message>");
        nb_xml_escape(b, msg, strlen(msg));
        nb_buf_puts(b, "</Message>");
        xml_extras(b, e->extra, NULL);
        nb_buf_puts(b, "</Error><RequestId>");
        nb_xml_escape(b, rid, strlen(rid));
        nb_buf_puts(b, "</RequestId></ErrorResponse>");
        nb_resp_add_header(out, a, "Content-Type", "text/xml", 8, false);
        break;
    }
    nb_resp_request_id_headers(m, proto, rid, a, out);
    if (b->oom) {
        nb_buf_free(b);
        return -1;
    }
    return 0;
}
