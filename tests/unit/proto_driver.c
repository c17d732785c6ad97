/* proto_driver.c: a line-oriented front end to the protocol layer for tests/unit/proto_botocore.py,
 * which checks our wire formats against botocore's own serializers and parsers. One JSON object
 * per input line, one JSON answer per output line:
 *   {"cmd":"parse","service":"s3","method":"PUT","path":"/b/k","query":"a=1","headers":{..},"body_b64":".."}
 *     -> {"op":"PutObject","doc":{..}} or {"error":{"status":400,"code":"..","message":".."}}
 *   {"cmd":"serialize","service":"sts","op":"GetCallerIdentity","doc":{..}}
 *     -> {"status":200,"headers":{..},"body_b64":".."}
 *   {"cmd":"error","service":"logs","status":404,"code":"..","message":".."} -> same as serialize
 * Built by the checker against a models file generated with more services than services.def. */
#include <stdio.h>
#include <stdlib.h>

#include "proto/proto.h"

static char *b64(const char *p, size_t n)
{
    char *o = malloc(nb_base64_encoded_len(n) + 1);
    nb_base64_encode((const unsigned char *)p, n, o);
    return o;
}

static json_t *wire_resp_json(const nb_wire_resp *r)
{
    json_t *h = json_object();
    for (size_t i = 0; i < r->nheaders; i++) {
        char *k = strndup(r->headers[i].name, r->headers[i].name_len);
        json_object_set_new(h, k, json_stringn(r->headers[i].value, r->headers[i].value_len));
        free(k);
    }
    char *b = b64(r->body.data ? r->body.data : "", r->body.len);
    json_t *o = json_pack("{s:i,s:o,s:s}", "status", r->status, "headers", h, "body_b64", b);
    free(b);
    return o;
}

static json_t *error_json(const nb_aws_error *e)
{
    return json_pack("{s:{s:i,s:s,s:s}}", "error", "status", e->status, "code", e->code, "message",
                     e->message);
}

static json_t *do_parse(const nb_model *m, json_t *q)
{
    const char *method = json_string_value(json_object_get(q, "method"));
    const char *path = json_string_value(json_object_get(q, "path"));
    const char *query = json_string_value(json_object_get(q, "query"));
    const char *b = json_string_value(json_object_get(q, "body_b64"));
    json_t *hs = json_object_get(q, "headers");
    nb_header h[64];
    size_t nh = 0;
    const char *k;
    json_t *v;
    json_object_foreach(hs, k, v)
    {
        if (nh == 64) break;
        h[nh++] = (nb_header){k, strlen(k), json_string_value(v), json_string_length(v)};
    }
    size_t blen = b ? strlen(b) : 0;
    unsigned char *body = malloc(blen * 3 / 4 + 4);
    ssize_t bl = b ? nb_base64_decode(b, blen, body) : 0;
    if (bl < 0) bl = 0;
    nb_wire_req w = {
        method, path, strlen(path),       query ? query : "", query ? strlen(query) : 0,
        h,      nh,   (const char *)body, (size_t)bl};
    nb_aws_error e = {0};
    json_t *out;
    const nb_op *op = nb_proto_match(m, &w, &e);
    json_t *in = NULL;
    if (!op) {
        out = error_json(&e);
    } else if (nb_proto_parse(m, op, &w, &in, &e) != 0) {
        out = error_json(&e);
        json_object_set_new(out, "op", json_string(nb_op_name(op)));
    } else {
        out = json_pack("{s:s,s:o}", "op", nb_op_name(op), "doc", in);
    }
    nb_aws_error_clear(&e);
    free(body);
    return out;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        json_error_t err;
        json_t *q = json_loadb(line, (size_t)n, 0, &err);
        json_t *out = NULL;
        const nb_model *m =
            q ? nb_model_find(json_string_value(json_object_get(q, "service"))) : NULL;
        const char *cmd = q ? json_string_value(json_object_get(q, "cmd")) : NULL;
        nb_arena *a = nb_arena_new(4096);
        if (!m || !cmd) {
            out = json_pack("{s:s}", "fatal", q ? "unknown service" : err.text);
        } else if (strcmp(cmd, "parse") == 0) {
            out = do_parse(m, q);
        } else if (strcmp(cmd, "serialize") == 0) {
            const nb_op *op = nb_model_op(m, json_string_value(json_object_get(q, "op")));
            nb_wire_resp r;
            if (op && nb_proto_serialize(m, op, json_object_get(q, "doc"), "req-1", a, &r) == 0) {
                out = wire_resp_json(&r);
                nb_buf_free(&r.body);
            } else
                out = json_pack("{s:s}", "fatal", "serialize failed");
        } else if (strcmp(cmd, "error") == 0) {
            nb_aws_error e = {0};
            nb_aws_error_set(&e, (int)json_integer_value(json_object_get(q, "status")),
                             json_string_value(json_object_get(q, "code")), "%s",
                             json_string_value(json_object_get(q, "message")));
            nb_wire_resp r;
            nb_proto_serialize_error(m, NULL, &e, "req-1", "/res", a, &r);
            out = wire_resp_json(&r);
            nb_buf_free(&r.body);
            nb_aws_error_clear(&e);
        } else {
            out = json_pack("{s:s}", "fatal", "unknown cmd");
        }
        char *s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%s\n", s);
        fflush(stdout);
        free(s);
        json_decref(out);
        json_decref(q);
        nb_arena_free(a);
    }
    free(line);
    return 0;
}
