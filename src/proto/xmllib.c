/* xmllib.c: lazy loading of libxml2 (see xmllib.h for why). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>

#include "core/nb.h"

static struct {
    xmlDocPtr (*read_memory)(const char *, int, const char *, const char *, int);
    void (*free_doc)(xmlDocPtr);
    xmlNodePtr (*root)(const xmlDoc *);
    xmlChar *(*get_content)(const xmlNode *);
    xmlChar *(*list_get_string)(xmlDocPtr, const xmlNode *, int);
    void (*init_parser)(void);
    /* optional: only XML signatures need them (NULL: their forwarders fail soft) */
    int (*c14n)(xmlDocPtr, xmlC14NIsVisibleCallback, void *, int, xmlChar **, int, xmlOutputBufferPtr);
    xmlOutputBufferPtr (*out_create_io)(xmlOutputWriteCallback, xmlOutputCloseCallback, void *,
                                        xmlCharEncodingHandlerPtr);
    int (*out_close)(xmlOutputBufferPtr);
    bool ok;
} api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *h = dlopen("libxml2.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        nb_error("xml: cannot load libxml2.so.2 (%s): XML request bodies will be refused",
                 dlerror());
        return;
    }
    *(void **)&api.read_memory = dlsym(h, "xmlReadMemory");
    *(void **)&api.free_doc = dlsym(h, "xmlFreeDoc");
    *(void **)&api.root = dlsym(h, "xmlDocGetRootElement");
    *(void **)&api.get_content = dlsym(h, "xmlNodeGetContent");
    *(void **)&api.list_get_string = dlsym(h, "xmlNodeListGetString");
    *(void **)&api.init_parser = dlsym(h, "xmlInitParser");
    *(void **)&api.c14n = dlsym(h, "xmlC14NExecute");
    *(void **)&api.out_create_io = dlsym(h, "xmlOutputBufferCreateIO");
    *(void **)&api.out_close = dlsym(h, "xmlOutputBufferClose");
    api.ok = api.read_memory && api.free_doc && api.root && api.get_content &&
             api.list_get_string && api.init_parser;
    if (!api.ok) {
        nb_error("xml: libxml2.so.2 lacks a function Nimbus needs");
        return;
    }
    api.init_parser();
}

bool nb_xml_available(void)
{
    pthread_once(&once, load);
    return api.ok;
}

xmlDocPtr nb_xml_read_memory(const char *buf, int size, const char *url, const char *enc,
                             int options)
{
    return nb_xml_available() ? api.read_memory(buf, size, url, enc, options) : NULL;
}

void nb_xml_free_doc(xmlDocPtr doc)
{
    if (doc && nb_xml_available()) api.free_doc(doc);
}

xmlNodePtr nb_xml_doc_get_root_element(const xmlDoc *doc)
{
    return doc && nb_xml_available() ? api.root(doc) : NULL;
}

xmlChar *nb_xml_node_get_content(const xmlNode *cur)
{
    return cur && nb_xml_available() ? api.get_content(cur) : NULL;
}

xmlChar *nb_xml_node_list_get_string(xmlDocPtr doc, const xmlNode *list, int inLine)
{
    return nb_xml_available() ? api.list_get_string(doc, list, inLine) : NULL;
}

int nb_xml_c14n_execute(xmlDocPtr doc, xmlC14NIsVisibleCallback visible, void *ud, int mode,
                        xmlChar **inclusive_ns_prefixes, int with_comments, xmlOutputBufferPtr buf)
{
    if (!nb_xml_available() || !api.c14n) return -1;
    return api.c14n(doc, visible, ud, mode, inclusive_ns_prefixes, with_comments, buf);
}

xmlOutputBufferPtr nb_xml_output_buffer_create_io(xmlOutputWriteCallback w, xmlOutputCloseCallback c,
                                                  void *ctx, xmlCharEncodingHandlerPtr enc)
{
    if (!nb_xml_available() || !api.out_create_io || !api.c14n || !api.out_close) return NULL;
    return api.out_create_io(w, c, ctx, enc);
}

int nb_xml_output_buffer_close(xmlOutputBufferPtr out)
{
    return out && nb_xml_available() && api.out_close ? api.out_close(out) : -1;
}

void nb_xml_init_parser(void) { (void)nb_xml_available(); }

/* libxml2's default allocator is malloc/free (Nimbus never installs another). */
void nb_xml_free(void *p) { free(p); }

int nb_xml_strcmp(const xmlChar *a, const xmlChar *b)
{
    if (a == b) return 0;
    if (!a) return -1;
    if (!b) return 1;
    return strcmp((const char *)a, (const char *)b);
}
