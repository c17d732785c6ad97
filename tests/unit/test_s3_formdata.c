/* test_s3_formdata.c: the multipart/form-data reader of S3 browser POST uploads: every way
 * of cutting the body into reads gives the same parts; preamble, transport padding, quoted
 * parameters, a file that contains near-boundaries, bodies larger than the window, and the
 * malformed forms it must refuse. */
#include <stdlib.h>

#include "svc/s3/formdata.h"
#include "unit.h"

typedef struct src {
    const char *p;
    size_t n, off, step;
} src;

static ssize_t rd(void *ud, void *buf, size_t n)
{
    src *s = ud;
    size_t k = s->n - s->off;
    if (k > n) k = n;
    if (k > s->step) k = s->step;
    memcpy(buf, s->p + s->off, k);
    s->off += k;
    return (ssize_t)k;
}

static int collect(void *ud, const char *p, size_t n) { return nb_buf_append(ud, p, n); }

/* Parse body with reads of at most step bytes; "name=value|name[filename]=value|..." */
static int parse(const char *ct, const char *body, size_t n, size_t step, nb_buf *out)
{
    src s = {body, n, 0, step};
    nb_form_reader r;
    int rc = nb_form_init(&r, ct, rd, &s);
    if (rc < 0) return rc;
    nb_arena *a = nb_arena_new(1024);
    rc = nb_form_start(&r);
    while (rc >= 0) {
        nb_form_part p;
        rc = nb_form_next(&r, &p, a);
        if (rc <= 0) break;
        nb_buf_puts(out, p.name);
        if (p.filename) nb_buf_printf(out, "[%s]", p.filename);
        if (p.content_type) nb_buf_printf(out, "{%s}", p.content_type);
        nb_buf_putc(out, '=');
        rc = nb_form_body(&r, collect, out);
        nb_buf_putc(out, '|');
    }
    nb_arena_free(a);
    nb_form_free(&r);
    return rc;
}

static const char CT[] = "multipart/form-data; boundary=XyZ";

static void every_split(void)
{
    static const char body[] =
        "this is a preamble\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"key\"\r\n\r\n"
        "user/${filename}\r\n"
        "--XyZ \t\r\n" /* transport padding */
        "content-disposition: form-data; name=acl\r\n\r\n"
        "private\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"q\\\".txt\"\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "line\r\n--Xy\r\n--XyY is not it either\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"after\"\r\n\r\n"
        "x\r\n"
        "--XyZ--\r\nepilogue";
    const char *want = "key=user/${filename}|acl=private|"
                       "file[a \"q\".txt]{text/plain}=line\r\n--Xy\r\n--XyY is not it either|"
                       "after=x|";
    int bad = 0;
    for (size_t step = 1; step <= sizeof body; step++) {
        nb_buf out;
        nb_buf_init(&out);
        int rc = parse(CT, body, sizeof body - 1, step, &out);
        nb_buf_putc(&out, 0);
        if (rc != 0 || strcmp(out.data, want) != 0) {
            if (!bad++) fprintf(stderr, "step %zu: rc %d, got %s\n", step, rc, out.data);
        }
        nb_buf_free(&out);
    }
    CHECK(bad == 0);
}

static void large_file(void)
{
    /* 1 MiB + change through a 256 KiB window, with partial boundaries at window edges */
    size_t fn = (1u << 20) + 777;
    nb_buf b;
    nb_buf_init(&b);
    nb_buf_puts(&b, "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=f\r\n\r\n");
    size_t start = b.len;
    for (size_t i = 0; i < fn; i++) nb_buf_putc(&b, (i % 4096) < 3 ? "\r\n-"[i % 4096] : 'a');
    nb_buf_puts(&b, "\r\n--B--\r\n");
    nb_buf out;
    nb_buf_init(&out);
    int rc = parse("multipart/form-data; boundary=B", b.data, b.len, 100000, &out);
    CHECK(rc == 0);
    CHECK(out.len == strlen("file[f]=") + fn + 1);
    CHECK(out.len > 8 && memcmp(out.data + 8, b.data + start, fn) == 0);
    nb_buf_free(&out);
    nb_buf_free(&b);
}

static void refused(void)
{
    static const struct {
        const char *ct, *body;
    } cases[] = {
        {"multipart/form-data", "--XyZ--\r\n"},                              /* no boundary */
        {"multipart/form-data; boundary=\"open", "--open--"},                /* unclosed quote */
        {CT, "no boundary at all"},                                           /* no delimiter */
        {CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv"}, /* unterminated */
        {CT, "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--"},      /* no disposition */
        {CT, "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--XyZ--"},
        {CT, "--XyZ\r\nContent-Disposition: form-data; filename=f\r\n\r\nv\r\n--XyZ--"},
        {CT, "--XyZ\r\n\r\nv\r\n--XyZ--"},                                    /* no headers */
        {CT, "--XyZjunk\r\n"}, /* a delimiter must end in CRLF, padding or "--" */
        {CT, "--XyZ\r\nContent-Disposition: form-data; name=a"},             /* headers cut */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nb_buf out;
        nb_buf_init(&out);
        int rc = parse(cases[i].ct, cases[i].body, strlen(cases[i].body), 3, &out);
        if (rc != NB_FORM_EMALFORMED) fprintf(stderr, "case %zu: rc %d\n", i, rc);
        CHECK(rc == NB_FORM_EMALFORMED);
        nb_buf_free(&out);
    }
    /* an empty form is well formed: no parts */
    nb_buf out;
    nb_buf_init(&out);
    CHECK(parse(CT, "--XyZ--\r\n", 9, 1, &out) == 0 && out.len == 0);
    nb_buf_free(&out);
}

static int refuse_after(void *ud, const char *p, size_t n)
{
    (void)p;
    size_t *left = ud;
    if (n > *left) return -1;
    *left -= n;
    return 0;
}

static void sink_refusal(void)
{
    static const char body[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n0123456789\r\n--XyZ--";
    src s = {body, sizeof body - 1, 0, 4};
    nb_form_reader r;
    CHECK(nb_form_init(&r, CT, rd, &s) == 0);
    nb_arena *a = nb_arena_new(256);
    nb_form_part p;
    CHECK(nb_form_start(&r) == 0);
    CHECK(nb_form_next(&r, &p, a) == 1);
    size_t left = 5;
    CHECK(nb_form_body(&r, refuse_after, &left) == NB_FORM_ESINK);
    nb_arena_free(a);
    nb_form_free(&r);
}

int main(void)
{
    every_split();
    large_file();
    refused();
    sink_refusal();
    UNIT_DONE();
}
