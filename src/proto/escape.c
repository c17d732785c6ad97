/* escape.c: the text escaping of XML and JSON output, and header lookup on a wire request.
 * Both escapers copy runs of plain bytes in one append: they run for every string we send. */
#include <stdio.h>

#include "proto/model_internal.h"

/* XML 1.0 text and attribute values: & < > " escaped; CR kept as a reference so it survives
 * parsers' newline normalization; other control characters as numeric references (S3 does
 * this for keys; clients that cannot read them ask for EncodingType=url). UTF-8 passes. */
void nb_xml_escape(nb_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep;
        char tmp[8];
        if (c >= 0x20 && c != '&' && c != '<' && c != '>' && c != '"') continue;
        if (c == '\n' || c == '\t') continue;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        default:
            snprintf(tmp, sizeof(tmp), "&#x%X;", c);
            rep = tmp;
        }
        if (i > run) nb_buf_append(b, s + run, i - run);
        nb_buf_puts(b, rep);
        run = i + 1;
    }
    if (n > run) nb_buf_append(b, s + run, n - run);
}

void nb_json_escape(nb_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    nb_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (i > run) nb_buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            nb_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            nb_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            nb_buf_append(b, "\\n", 2);
            break;
        case '\r':
            nb_buf_append(b, "\\r", 2);
            break;
        case '\t':
            nb_buf_append(b, "\\t", 2);
            break;
        case '\b':
            nb_buf_append(b, "\\b", 2);
            break;
        case '\f':
            nb_buf_append(b, "\\f", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            nb_buf_append(b, u, 6);
        }
        }
    }
    if (n > run) nb_buf_append(b, s + run, n - run);
    nb_buf_putc(b, '"');
}

const char *nb_wire_header(const nb_wire_req *w, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < w->nheaders; i++) {
        const nb_header *h = &w->headers[i];
        if (nb_mem_ieq(h->name, h->name_len, name, nl)) {
            if (len) *len = h->value_len;
            return h->value;
        }
    }
    return NULL;
}
