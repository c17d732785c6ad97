/* services.c: the registry of services, built from services.def, and the small helpers
 * handlers use on a call. */
#include "svc/service.h"

#include <stdio.h>
#include <stdlib.h>

#define NB_SERVICE(name, model) extern const nb_service nb_svc_##name;
#include "svc/services.def"
#undef NB_SERVICE

static const nb_service *const registry[] = {
#define NB_SERVICE(name, model) &nb_svc_##name,
#include "svc/services.def"
#undef NB_SERVICE
};

size_t nb_services_count(void) { return NB_ARRAY_LEN(registry); }
const nb_service *nb_service_at(size_t i) { return i < NB_ARRAY_LEN(registry) ? registry[i] : NULL; }

const nb_service *nb_service_by_name(const char *name)
{
    for (size_t i = 0; i < NB_ARRAY_LEN(registry); i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

const nb_service *nb_service_by_model(const nb_model *m)
{
    if (!m) return NULL;
    const char *name = nb_model_name(m);
    for (size_t i = 0; i < NB_ARRAY_LEN(registry); i++)
        if (strcmp(registry[i]->model, name) == 0) return registry[i];
    return NULL;
}

const nb_op_def *nb_service_op(const nb_service *s, const char *op_name)
{
    if (!s || !op_name) return NULL;
    for (size_t i = 0; i < s->nops; i++)
        if (strcmp(s->ops[i].name, op_name) == 0) return &s->ops[i];
    return NULL;
}

int nb_call_error(nb_call *c, int status, const char *code, const char *fmt, ...)
{
    if (c->err.extra) json_decref(c->err.extra);
    memset(&c->err, 0, sizeof(c->err));
    c->err.status = status;
    c->err.sender_fault = status < 500;
    snprintf(c->err.code, sizeof(c->err.code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err.message, sizeof(c->err.message), fmt, ap);
    va_end(ap);
    return -1;
}

const char *nb_in_str(const nb_call *c, const char *member)
{
    json_t *v = c->input ? json_object_get(c->input, member) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

json_int_t nb_in_int(const nb_call *c, const char *member, json_int_t def)
{
    json_t *v = c->input ? json_object_get(c->input, member) : NULL;
    return json_is_integer(v) ? json_integer_value(v) : def;
}

bool nb_in_bool(const nb_call *c, const char *member, bool def)
{
    json_t *v = c->input ? json_object_get(c->input, member) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : def;
}

const char *nb_call_header(const nb_call *c, const char *name)
{
    return c->http ? nb_req_header(c->http, name, NULL) : NULL;
}
