/* xmllib.h: libxml2, loaded on first use instead of at start-up.
 *
 * Why: Debian's libxml2 pulls in ICU, libstdc++ and liblzma, whose loading and static
 * initializers cost about 2.6 MiB of resident memory in every process (measured: a program
 * linked with -lxml2 starts at 3.8 MiB vs 1.2 MiB) — nearly half of Nimbus's idle budget —
 * while only rest-xml request bodies (S3, Route 53, CloudFront) ever need it. So the library
 * is dlopen()ed the first time a body is parsed. Include this header after the libxml
 * headers: it maps the few libxml2 functions Nimbus calls onto lazy forwarders. */
#ifndef NB_PROTO_XMLLIB_H
#define NB_PROTO_XMLLIB_H

#include <libxml/parser.h>
#include <libxml/tree.h>

/* Load libxml2 now; false (and a log line) if it cannot be loaded. The forwarders below
 * fail soft when it is missing: parsing returns NULL (the caller answers MalformedXML). */
bool nb_xml_available(void);

xmlDocPtr nb_xml_read_memory(const char *buf, int size, const char *url, const char *enc,
                             int options);
void nb_xml_free_doc(xmlDocPtr doc);
xmlNodePtr nb_xml_doc_get_root_element(const xmlDoc *doc);
xmlChar *nb_xml_node_get_content(const xmlNode *cur);
xmlChar *nb_xml_node_list_get_string(xmlDocPtr doc, const xmlNode *list, int inLine);
void nb_xml_init_parser(void);
void nb_xml_free(void *p);
int nb_xml_strcmp(const xmlChar *a, const xmlChar *b);

/* Canonical XML (libxml/c14n.h) and the output buffer it writes to: XML signatures (STS's
 * AssumeRoleWithSAML). Include libxml/c14n.h before this header to use them. */
#ifdef __XML_C14N_H__
int nb_xml_c14n_execute(xmlDocPtr doc, xmlC14NIsVisibleCallback visible, void *ud, int mode,
                        xmlChar **inclusive_ns_prefixes, int with_comments, xmlOutputBufferPtr buf);
xmlOutputBufferPtr nb_xml_output_buffer_create_io(xmlOutputWriteCallback w, xmlOutputCloseCallback c,
                                                  void *ctx, xmlCharEncodingHandlerPtr enc);
int nb_xml_output_buffer_close(xmlOutputBufferPtr out);
#define xmlC14NExecute nb_xml_c14n_execute
#define xmlOutputBufferCreateIO nb_xml_output_buffer_create_io
#define xmlOutputBufferClose nb_xml_output_buffer_close
#endif

#undef xmlFree
#define xmlReadMemory nb_xml_read_memory
#define xmlFreeDoc nb_xml_free_doc
#define xmlDocGetRootElement nb_xml_doc_get_root_element
#define xmlNodeGetContent nb_xml_node_get_content
#define xmlNodeListGetString nb_xml_node_list_get_string
#define xmlInitParser nb_xml_init_parser
#define xmlFree nb_xml_free
#define xmlStrcmp nb_xml_strcmp

#endif
