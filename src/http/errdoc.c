/* errdoc.c: the error answers the HTTP core gives itself (unparsable request, header section too
 * large, header timeout, a Transfer-Encoding we do not speak), in the form AWS gives them.
 *
 * The core refuses these before any service is known. S3 is the service clients reach with
 * plain HTTP, so the form is S3's: an XML <Error> document with Code, Message, RequestId and
 * HostId, and the x-amz-request-id / x-amz-id-2 headers (what S3 itself answers to, for
 * example, a request line it cannot parse). */
#include "http/http_internal.h"

#include <stdio.h>

/* What S3 answers (codes and texts from its error list). */
static const struct core_err {
    int status;
    const char *code;
    const char *message;
    const char *header; /* <Header> element: the request header that caused it */
} core_errs[] = {
    [NB_CERR_BAD_REQUEST] = {400, "BadRequest", "An error occurred when parsing the HTTP request.",
                             NULL},
    /* S3 answers 400 here, not 431. */
    [NB_CERR_HEADER_TOO_LARGE] = {400, "RequestHeaderSectionTooLarge",
                                  "Your request header section exceeds the maximum allowed size.",
                                  NULL},
    [NB_CERR_TIMEOUT] = {400, "RequestTimeout",
                         "Your socket connection to the server was not read from or written to "
                         "within the timeout period. Idle connections will be closed.",
                         NULL},
    /* S3 speaks no Transfer-Encoding but its own; Nimbus takes chunked, nothing else. */
    [NB_CERR_TRANSFER_ENCODING] = {501, "NotImplemented",
                                   "A header you provided implies functionality that is not "
                                   "implemented",
                                   "Transfer-Encoding"},
};

static void xml_text(nb_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': nb_buf_puts(b, "&lt;"); break;
        case '>': nb_buf_puts(b, "&gt;"); break;
        case '&': nb_buf_puts(b, "&amp;"); break;
        case '"': nb_buf_puts(b, "&quot;"); break;
        case '\'': nb_buf_puts(b, "&apos;"); break;
        default: nb_buf_putc(b, *s);
        }
    }
}

/* The <Error> document, after the XML declaration as S3 sends it. */
static void error_doc(nb_buf *b, const char *code, const char *message, const char *header,
                      const char *rid)
{
    char host[80];
    nb_host_id(rid, host);
    nb_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
    xml_text(b, code);
    nb_buf_puts(b, "</Code><Message>");
    xml_text(b, message);
    nb_buf_puts(b, "</Message>");
    if (header) {
        nb_buf_puts(b, "<Header>");
        xml_text(b, header);
        nb_buf_puts(b, "</Header>");
    }
    nb_buf_puts(b, "<RequestId>");
    xml_text(b, rid);
    nb_buf_puts(b, "</RequestId><HostId>");
    nb_buf_puts(b, host);
    nb_buf_puts(b, "</HostId></Error>");
}

int nb_http_core_error(nb_buf *out, enum nb_core_err e, bool head, const char *rid)
{
    const struct core_err *ce = &core_errs[e];
    nb_buf doc;
    nb_buf_init(&doc);
    error_doc(&doc, ce->code, ce->message, ce->header, rid);
    char date[30], host[80];
    nb_http_date_cached(date);
    nb_host_id(rid, host);
    /* HEAD: the headers the GET would have, no body (what S3 does for every HEAD error). */
    nb_buf_printf(out,
                  "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: Nimbus\r\n"
                  "x-amz-request-id: %s\r\nx-amz-id-2: %s\r\nContent-Type: application/xml\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                  ce->status, nb_http_reason(ce->status), date, rid, host, doc.len);
    if (!head && doc.len) nb_buf_append(out, doc.data, doc.len);
    bool oom = doc.oom || out->oom;
    nb_buf_free(&doc);
    return oom ? -1 : ce->status;
}

void nb_resp_aws_error(nb_req *r, int status, const char *code, const char *message)
{
    if (!r->request_id[0]) nb_uuid4(r->request_id);
    nb_buf doc;
    nb_buf_init(&doc);
    error_doc(&doc, code, message, NULL, r->request_id);
    char host[80];
    nb_host_id(r->request_id, host);
    nb_header h[3] = {
        {"Content-Type", 12, "application/xml", 15},
        {"x-amz-request-id", 16, r->request_id, strlen(r->request_id)},
        {"x-amz-id-2", 10, host, strlen(host)},
    };
    if (doc.oom) { /* the headers alone still say what happened */
        nb_resp_simple(r, status, NULL, NULL, 0, h + 1, 2);
    } else {
        /* A HEAD answer carries no body; nb_resp_start takes care of that. */
        nb_resp_simple(r, status, NULL, doc.data, doc.len, h, 3);
    }
    nb_buf_free(&doc);
}
