/* model.c: finding models and operations in the generated tables (build/gen/models.c), and
 * the accessors proto.h promises. Lookups are binary searches over sorted const arrays, so
 * nothing is built at start-up and nothing is allocated. */
#include <stdlib.h>
#include <string.h>

#include "proto/model_internal.h"

static const struct nb_model_alias *alias_find(const struct nb_model_alias *t, size_t n,
                                               const char *name, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = t[mid].name;
        int c = strncmp(k, name, len);
        if (c == 0 && k[len] != '\0') c = 1; /* k is longer: it sorts after name */
        if (c == 0) return &t[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const nb_model *nb_model_find(const char *name)
{
    if (!name) return NULL;
    /* The alias table holds each model's folder name, endpoint prefix and signing name
     * (CloudWatch: "cloudwatch" and "monitoring"). */
    const struct nb_model_alias *a =
        alias_find(nb_gen_aliases, nb_gen_naliases, name, strlen(name));
    return a ? &nb_gen_models[a->model] : NULL;
}

const nb_model *nb_model_by_target_prefix(const char *prefix, size_t len)
{
    if (!prefix) return NULL;
    const struct nb_model_alias *a = alias_find(nb_gen_targets, nb_gen_ntargets, prefix, len);
    return a ? &nb_gen_models[a->model] : NULL;
}

const nb_model *nb_model_by_signing_name(const char *name)
{
    if (!name) return NULL;
    const struct nb_model_alias *a =
        alias_find(nb_gen_signing, nb_gen_nsigning, name, strlen(name));
    return a ? &nb_gen_models[a->model] : NULL;
}

static const char *opt(const nb_model *m, uint32_t off)
{
    return off ? m->strings + off : NULL;
}

const char *nb_model_name(const nb_model *m)
{
    return nb_mstr(m, m->name);
}
const char *nb_model_protocol(const nb_model *m)
{
    return nb_mstr(m, m->protocol_name);
}
const char *nb_model_api_version(const nb_model *m)
{
    return nb_mstr(m, m->api_version);
}
const char *nb_model_endpoint_prefix(const nb_model *m)
{
    return nb_mstr(m, m->endpoint_prefix);
}
const char *nb_model_signing_name(const nb_model *m)
{
    return nb_mstr(m, m->signing_name);
}
const char *nb_model_target_prefix(const nb_model *m)
{
    return opt(m, m->target_prefix);
}
size_t nb_model_nops(const nb_model *m)
{
    return m->nops;
}

const nb_op *nb_model_op_at(const nb_model *m, size_t i)
{
    return i < m->nops ? &m->ops[i] : NULL;
}

/* Binary search by name over the ops, which the generator sorted with strcmp order. */
const nb_op *nb_model_op_n(const nb_model *m, const char *name, size_t len)
{
    size_t lo = 0, hi = m->nops;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = m->strings + m->ops[mid].name;
        int c = strncmp(k, name, len);
        if (c == 0 && k[len] != '\0') c = 1;
        if (c == 0) return &m->ops[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const nb_op *nb_model_op(const nb_model *m, const char *name)
{
    return name ? nb_model_op_n(m, name, strlen(name)) : NULL;
}

const char *nb_op_name(const nb_op *op)
{
    return op->model < nb_gen_nmodels ? nb_mstr(&nb_gen_models[op->model], op->name) : "";
}

size_t nb_op_index(const nb_op *op)
{
    return op->index;
}
bool nb_op_auth_none(const nb_op *op)
{
    return op->flags & NB_OF_AUTH_NONE;
}
bool nb_op_streaming_input(const nb_op *op)
{
    return op->flags & NB_OF_STREAM_IN;
}
bool nb_op_streaming_output(const nb_op *op)
{
    return op->flags & NB_OF_STREAM_OUT;
}

int nb_model_protocol_kind(const char *protocol)
{
    if (!protocol) return 0;
    if (strcmp(protocol, "query") == 0) return NB_PROTO_QUERY;
    if (strcmp(protocol, "ec2") == 0) return NB_PROTO_EC2;
    if (strcmp(protocol, "json") == 0) return NB_PROTO_JSON;
    if (strcmp(protocol, "rest-json") == 0) return NB_PROTO_REST_JSON;
    if (strcmp(protocol, "rest-xml") == 0) return NB_PROTO_REST_XML;
    return 0;
}

const struct nb_shape *nb_model_shape_by_name(const nb_model *m, const char *name)
{
    /* Shapes are sorted by name (generator), so this is a binary search too. */
    size_t lo = 0, hi = m->nshapes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->strings + m->shapes[mid].name, name);
        if (c == 0) return &m->shapes[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool nb_model_query_compatible(const nb_model *m) { return m && m->query_compatible; }

void nb_model_query_error_code(const nb_model *m, const char *code, char *out, size_t n)
{
    /* What AWS's front end answers in a query-compatible service's JSON errors for the
     * failures common to every service. */
    static const struct {
        const char *json, *query;
    } common[] = {
        {"AccessDeniedException", "AccessDenied"},
        {"ExpiredTokenException", "ExpiredToken"},
        {"IncompleteSignatureException", "IncompleteSignature"},
        {"InvalidSignatureException", "SignatureDoesNotMatch"},
        {"MissingAuthenticationTokenException", "MissingAuthenticationToken"},
        {"UnknownOperationException", "InvalidAction"},
        {"UnrecognizedClientException", "InvalidClientTokenId"},
        {"ValidationException", "ValidationError"},
    };
    const char *hash = code ? strrchr(code, '#') : NULL;
    const char *name = hash ? hash + 1 : code ? code : "InternalError";
    for (size_t i = 0; i < NB_ARRAY_LEN(common); i++)
        if (!strcmp(name, common[i].json)) {
            snprintf(out, n, "%s", common[i].query);
            return;
        }
    const struct nb_shape *s = m ? nb_model_shape_by_name(m, name) : NULL;
    if (s && (s->flags & NB_SF_EXCEPTION) && s->error_code)
        snprintf(out, n, "%s", m->strings + s->error_code);
    else
        snprintf(out, n, "%s", name);
}

/* The error shape of a model whose code (error.code, else the shape name) is code. Error
 * shapes are few, so a scan over the ops' error lists is cheap and needs no index. */
const struct nb_shape *nb_model_error_shape(const nb_model *m, const char *code)
{
    if (!m || !code) return NULL;
    const struct nb_shape *s = nb_model_shape_by_name(m, code);
    if (s && (s->flags & NB_SF_EXCEPTION) && !s->error_code) return s;
    for (size_t i = 0; i < m->nshapes; i++) {
        const struct nb_shape *x = &m->shapes[i];
        if ((x->flags & NB_SF_EXCEPTION) && x->error_code &&
            strcmp(m->strings + x->error_code, code) == 0)
            return x;
    }
    return s && (s->flags & NB_SF_EXCEPTION) ? s : NULL;
}
