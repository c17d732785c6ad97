/* formdata.c: the streaming multipart/form-data reader of S3 browser POST uploads (see
 * formdata.h). The window starts with a virtual CRLF so that the first "--boundary" matches
 * the same delimiter ("\r\n--boundary") as every later one. */
#include "svc/s3/formdata.h"

#include <stdlib.h>
#include <strings.h>

#define WINDOW (256u * 1024)      /* read window */
#define HEADERS_MAX (16u * 1024)  /* one part's header block */

int nb_form_init(nb_form_reader *r, const char *ct, nb_form_read_fn fn, void *ud)
{
    memset(r, 0, sizeof *r);
    r->read = fn;
    r->ud = ud;
    const char *b = ct ? strcasestr(ct, "boundary=") : NULL;
    if (!b) return NB_FORM_EMALFORMED;
    b += 9;
    size_t n;
    if (*b == '"') {
        b++;
        const char *q = strchr(b, '"');
        if (!q) return NB_FORM_EMALFORMED;
        n = (size_t)(q - b);
    } else {
        n = strcspn(b, "; \t");
    }
    if (n == 0 || n > 70) return NB_FORM_EMALFORMED;
    memcpy(r->delim, "\r\n--", 4);
    memcpy(r->delim + 4, b, n);
    r->dlen = n + 4;
    r->buf = malloc(WINDOW);
    if (!r->buf) return NB_FORM_ENOMEM;
    memcpy(r->buf, "\r\n", 2);
    r->len = 2;
    return 0;
}

void nb_form_free(nb_form_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Make room and read more: 1 = got some (or the window is full), 0 = end, < 0 error. */
static int fill(nb_form_reader *r)
{
    if (r->eof) return 0;
    if (r->off) {
        memmove(r->buf, r->buf + r->off, r->len - r->off);
        r->len -= r->off;
        r->off = 0;
    }
    if (r->len >= WINDOW) return 1; /* the caller consumes first */
    ssize_t k = r->read(r->ud, r->buf + r->len, WINDOW - r->len);
    if (k < 0) return NB_FORM_EREAD;
    if (k == 0) {
        r->eof = true;
        return 0;
    }
    r->len += (size_t)k;
    return 1;
}

/* At least n unread bytes buffered: 1, 0 when the body ends first, < 0 error. */
static int need(nb_form_reader *r, size_t n)
{
    while (r->len - r->off < n) {
        int rc = fill(r);
        if (rc <= 0) return rc;
    }
    return 1;
}

int nb_form_body(nb_form_reader *r, nb_form_sink_fn sink, void *ud)
{
    for (;;) {
        char *hit = memmem(r->buf + r->off, r->len - r->off, r->delim, r->dlen);
        if (hit) {
            size_t n = (size_t)(hit - (r->buf + r->off));
            if (n && sink && sink(ud, r->buf + r->off, n) < 0) return NB_FORM_ESINK;
            r->off += n + r->dlen;
            return 0;
        }
        /* everything but a possible delimiter prefix at the end is body */
        size_t avail = r->len - r->off;
        if (avail >= r->dlen) {
            size_t n = avail - (r->dlen - 1);
            if (sink && sink(ud, r->buf + r->off, n) < 0) return NB_FORM_ESINK;
            r->off += n;
        }
        int rc = fill(r);
        if (rc < 0) return rc;
        if (rc == 0) return NB_FORM_EMALFORMED; /* the body ended inside a part */
    }
}

int nb_form_start(nb_form_reader *r) { return nb_form_body(r, NULL, NULL); }

/* After a delimiter: "--" closes the form (0); otherwise transport padding and a CRLF (1). */
static int after_delim(nb_form_reader *r)
{
    int rc = need(r, 2);
    if (rc < 0) return rc;
    if (rc == 0) return NB_FORM_EMALFORMED;
    if (r->buf[r->off] == '-' && r->buf[r->off + 1] == '-') return 0;
    for (;;) {
        if ((rc = need(r, 2)) <= 0) return rc < 0 ? rc : NB_FORM_EMALFORMED;
        char ch = r->buf[r->off];
        if (ch == ' ' || ch == '\t') {
            r->off++;
            continue;
        }
        if (ch == '\r' && r->buf[r->off + 1] == '\n') {
            r->off += 2;
            return 1;
        }
        return NB_FORM_EMALFORMED;
    }
}

/* A Content-Disposition parameter ("name", "filename"), quoted (with backslash escapes) or a
 * token, into the arena; NULL when absent. */
static char *disp_param(nb_arena *a, const char *v, size_t n, const char *param, bool *oom)
{
    size_t pl = strlen(param);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ';' || v[i] == ' ' || v[i] == '\t')) i++;
        size_t ns = i;
        while (i < n && v[i] != '=' && v[i] != ';') i++;
        size_t ne = i;
        while (ne > ns && (v[ne - 1] == ' ' || v[ne - 1] == '\t')) ne--;
        if (i >= n || v[i] != '=') continue;
        i++;
        while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
        nb_buf b;
        nb_buf_init(&b);
        if (i < n && v[i] == '"') {
            i++;
            while (i < n && v[i] != '"') {
                if (v[i] == '\\' && i + 1 < n) i++;
                nb_buf_putc(&b, v[i++]);
            }
            if (i < n) i++;
        } else {
            while (i < n && v[i] != ';') nb_buf_putc(&b, v[i++]);
            while (b.len && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t')) b.len--;
        }
        char *out = NULL;
        if (ne - ns == pl && strncasecmp(v + ns, param, pl) == 0) {
            out = b.oom ? NULL : nb_arena_strndup(a, b.data ? b.data : "", b.len);
            if (!out) *oom = true;
        }
        nb_buf_free(&b);
        if (out || *oom) return out;
    }
    return NULL;
}

int nb_form_next(nb_form_reader *r, nb_form_part *p, nb_arena *a)
{
    memset(p, 0, sizeof *p);
    int rc = after_delim(r);
    if (rc <= 0) return rc;
    char *end;
    for (;;) {
        /* an empty header block: no Content-Disposition */
        if (r->len - r->off >= 2 && r->buf[r->off] == '\r' && r->buf[r->off + 1] == '\n')
            return NB_FORM_EMALFORMED;
        end = memmem(r->buf + r->off, r->len - r->off, "\r\n\r\n", 4);
        if (end) break;
        if (r->len - r->off > HEADERS_MAX) return NB_FORM_EMALFORMED;
        rc = fill(r);
        if (rc < 0) return rc;
        if (rc == 0) return NB_FORM_EMALFORMED;
    }
    const char *h = r->buf + r->off, *e = end + 2; /* through the last header's CRLF */
    bool disposition = false, oom = false;
    while (h < e) {
        const char *eol = memmem(h, (size_t)(e - h), "\r\n", 2);
        if (!eol) break;
        const char *colon = memchr(h, ':', (size_t)(eol - h));
        if (colon) {
            size_t nn = (size_t)(colon - h);
            const char *v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            size_t vn = (size_t)(eol - v);
            if (nb_mem_ieq(h, nn, "content-disposition", 19)) {
                if (vn < 9 || strncasecmp(v, "form-data", 9) != 0) return NB_FORM_EMALFORMED;
                disposition = true;
                p->name = disp_param(a, v + 9, vn - 9, "name", &oom);
                p->filename = disp_param(a, v + 9, vn - 9, "filename", &oom);
            } else if (nb_mem_ieq(h, nn, "content-type", 12)) {
                p->content_type = nb_arena_strndup(a, v, vn);
                if (!p->content_type) oom = true;
            }
        }
        h = eol + 2;
    }
    r->off = (size_t)(end + 4 - r->buf);
    if (oom) return NB_FORM_ENOMEM;
    if (!disposition || !p->name) return NB_FORM_EMALFORMED;
    return 1;
}
