/* xml_in.c: rest-xml request bodies (S3 DeleteObjects, CompleteMultipartUpload, PutBucketTagging,
 * Route 53 change batches ...) decoded by the model with libxml2's DOM parser. Element names
 * are compared without namespace; unknown elements are ignored. DOCTYPE and entity
 * declarations are refused before libxml2 sees the text, and the parser runs without network
 * and without entity substitution: no XXE, no billion laughs. */
#include <limits.h>
#include <pthread.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "proto/xmllib.h"

#include "proto/model_internal.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static void xml_init(void)
{
    xmlInitParser();
}

static const char *local_part(const char *name)
{
    const char *c = strchr(name, ':');
    return c ? c + 1 : name;
}

static bool is_elem(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE;
}

static json_t *text_scalar(struct nb_pin *p, const struct nb_member *mb, xmlNode *node,
                           const char *where)
{
    xmlChar *t = xmlNodeGetContent(node);
    const char *s = t ? (const char *)t : "";
    json_t *v = nb_in_scalar(p, mb, s, strlen(s), where, true);
    if (t) xmlFree(t);
    return v;
}

static json_t *x_value(struct nb_pin *p, const struct nb_member *mb, xmlNode *node, int depth);

static json_t *x_map_entry(struct nb_pin *p, const struct nb_member *km, xmlNode *entry,
                           json_t *obj, int depth)
{
    const nb_model *m = p->m;
    const struct nb_member *vm = km + 1;
    const char *kn = km->wire ? nb_mstr(m, km->wire) : "key";
    const char *vn = vm->wire ? nb_mstr(m, vm->wire) : "value";
    xmlNode *kx = NULL, *vx = NULL;
    for (xmlNode *c = entry->children; c; c = c->next) {
        if (!is_elem(c)) continue;
        if (!kx && strcmp((const char *)c->name, kn) == 0)
            kx = c;
        else if (!vx && strcmp((const char *)c->name, vn) == 0)
            vx = c;
    }
    if (!kx) return obj;
    json_t *k = text_scalar(p, km, kx, kn);
    if (!k) return NULL;
    json_t *v = vx ? x_value(p, vm, vx, depth + 1) : NULL;
    if (vx && !v) {
        json_decref(k);
        return NULL;
    }
    if (v) json_object_setn_new_nocheck(obj, json_string_value(k), json_string_length(k), v);
    json_decref(k);
    return obj;
}

static json_t *x_struct(struct nb_pin *p, const struct nb_shape *s, xmlNode *node, int depth,
                        bool body_only)
{
    const nb_model *m = p->m;
    json_t *obj = json_object();
    if (!obj) return NULL;
    /* attributes (S3 Grantee xsi:type) */
    for (uint32_t i = 0; i < s->nmembers; i++) {
        const struct nb_member *mb = &m->members[s->first + i];
        if (!(mb->flags & NB_MF_XMLATTR)) continue;
        const char *ln = local_part(nb_member_wire(m, mb));
        for (xmlAttr *a = node->properties; a; a = a->next) {
            if (strcmp((const char *)a->name, ln) != 0) continue;
            xmlChar *t = xmlNodeListGetString(node->doc, a->children, 1);
            const char *txt = t ? (const char *)t : "";
            json_t *v = nb_in_scalar(p, mb, txt, strlen(txt), ln, true);
            if (t) xmlFree(t);
            if (!v) {
                json_decref(obj);
                return NULL;
            }
            json_object_set_new_nocheck(obj, nb_mstr(m, mb->name), v);
            break;
        }
    }
    for (xmlNode *c = node->children; c; c = c->next) {
        if (!is_elem(c)) continue;
        const char *cn = (const char *)c->name;
        const struct nb_member *mb = NULL, *lm = NULL;
        const struct nb_shape *ms = NULL;
        for (uint32_t i = 0; i < s->nmembers && !mb; i++) {
            const struct nb_member *x = &m->members[s->first + i];
            if ((x->flags & NB_MF_XMLATTR) || (body_only && x->location != NB_LOC_BODY)) continue;
            const struct nb_shape *xs = nb_member_shape(m, x);
            const struct nb_member *xl = (xs->type == NB_TYPE_LIST && (x->flags & NB_MF_FLATTENED))
                                             ? &m->members[xs->first]
                                             : NULL;
            /* A flattened list's items may be named by the list member's locationName (what
             * AWS sends back) or by the member's (what botocore's serializer writes). */
            if (strcmp(cn, nb_member_wire(m, x)) == 0 ||
                (xl && xl->wire && strcmp(cn, nb_mstr(m, xl->wire)) == 0)) {
                mb = x;
                ms = xs;
                lm = xl;
            }
        }
        if (!mb) continue;
        const char *key = nb_mstr(m, mb->name);
        if (lm) {
            json_t *arr = json_object_get(obj, key);
            if (!arr) {
                arr = json_array();
                if (!arr || json_object_set_new_nocheck(obj, key, arr)) {
                    json_decref(obj);
                    return NULL;
                }
            }
            json_t *v = x_value(p, lm, c, depth + 1);
            if (!v) {
                json_decref(obj);
                return NULL;
            }
            json_array_append_new(arr, v);
        } else if (ms->type == NB_TYPE_MAP && (mb->flags & NB_MF_FLATTENED)) {
            json_t *mo = json_object_get(obj, key);
            if (!mo) {
                mo = json_object();
                if (!mo || json_object_set_new_nocheck(obj, key, mo)) {
                    json_decref(obj);
                    return NULL;
                }
            }
            if (!x_map_entry(p, &m->members[ms->first], c, mo, depth)) {
                json_decref(obj);
                return NULL;
            }
        } else {
            json_t *v = x_value(p, mb, c, depth + 1);
            if (!v) {
                json_decref(obj);
                return NULL;
            }
            json_object_set_new_nocheck(obj, key, v);
        }
    }
    return obj;
}

static json_t *x_value(struct nb_pin *p, const struct nb_member *mb, xmlNode *node, int depth)
{
    const nb_model *m = p->m;
    const struct nb_shape *s = nb_member_shape(m, mb);
    if (depth > NB_PARSE_MAX_DEPTH) {
        nb_in_malformed(p, "XML nested too deeply");
        return NULL;
    }
    switch (s->type) {
    case NB_TYPE_STRUCTURE:
        return x_struct(p, s, node, depth, false);
    case NB_TYPE_LIST: {
        const struct nb_member *lm = &m->members[s->first];
        json_t *arr = json_array();
        if (!arr) return NULL;
        for (xmlNode *c = node->children; c; c = c->next) {
            if (!is_elem(c)) continue;
            json_t *v = x_value(p, lm, c, depth + 1);
            if (!v) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, v);
        }
        return arr;
    }
    case NB_TYPE_MAP: {
        json_t *obj = json_object();
        if (!obj) return NULL;
        for (xmlNode *c = node->children; c; c = c->next) {
            if (!is_elem(c)) continue;
            if (!x_map_entry(p, &m->members[s->first], c, obj, depth + 1)) {
                json_decref(obj);
                return NULL;
            }
        }
        return obj;
    }
    default:
        return text_scalar(p, mb, node,
                           mb->name ? nb_member_wire(m, mb) : (const char *)node->name);
    }
}

json_t *nb_xml_body_in(struct nb_pin *p, const struct nb_shape *s, const char *body, size_t len,
                       bool body_only)
{
    if (len > INT_MAX) return nb_in_malformed(p, "body too large"), NULL;
    if (memmem(body, len, "<!DOCTYPE", 9) || memmem(body, len, "<!ENTITY", 8))
        return nb_in_malformed(p, "DTDs are not allowed"), NULL;
    pthread_once(&xml_once, xml_init);
    xmlDocPtr doc = xmlReadMemory(body, (int)len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) return nb_in_malformed(p, "not well-formed"), NULL;
    xmlNode *root = xmlDocGetRootElement(doc);
    json_t *out = NULL;
    if (!root || doc->intSubset || doc->extSubset)
        nb_in_malformed(p, "no root element");
    else
        out = x_struct(p, s, root, 0, body_only);
    xmlFreeDoc(doc);
    return out;
}
