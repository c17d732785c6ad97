/* formdata.h: a streaming multipart/form-data reader (RFC 7578) for S3 browser POST uploads:
 * part headers are parsed into an arena, part bodies are handed to a sink in pieces as they
 * arrive, so a file part of any size passes through a fixed 256 KiB window. The body comes
 * from a read callback (nb_call_read in the server, a buffer in the fuzz target). */
#ifndef NB_SVC_S3_FORMDATA_H
#define NB_SVC_S3_FORMDATA_H

#include "core/nb.h"

/* Results (negative = failure). */
enum {
    NB_FORM_EREAD = -1,      /* the read callback failed (its own error stands) */
    NB_FORM_EMALFORMED = -2, /* not well-formed multipart/form-data */
    NB_FORM_ESINK = -3,      /* the sink refused (its own error stands) */
    NB_FORM_ENOMEM = -4,
};

/* > 0 bytes read, 0 at the end of the body, < 0 error. */
typedef ssize_t (*nb_form_read_fn)(void *ud, void *buf, size_t n);
/* Body bytes of the current part; < 0 stops the reader (NB_FORM_ESINK). */
typedef int (*nb_form_sink_fn)(void *ud, const char *p, size_t n);

typedef struct nb_form_reader {
    nb_form_read_fn read;
    void *ud;
    char *buf;
    size_t off, len;
    bool eof;
    char delim[80]; /* "\r\n--" + boundary (at most 70 characters) */
    size_t dlen;
} nb_form_reader;

/* One part's headers (arena strings): the form field name, the file name (NULL when the part
 * is not a file) and its Content-Type (NULL when absent). */
typedef struct nb_form_part {
    char *name;
    char *filename;
    char *content_type;
} nb_form_part;

/* Take the boundary from a Content-Type value ("multipart/form-data; boundary=..."), allocate
 * the window. 0, NB_FORM_EMALFORMED (no usable boundary) or NB_FORM_ENOMEM. */
int nb_form_init(nb_form_reader *r, const char *content_type, nb_form_read_fn fn, void *ud);
void nb_form_free(nb_form_reader *r);
/* Skip the preamble up to the first boundary. 0 or < 0. */
int nb_form_start(nb_form_reader *r);
/* After a boundary: 1 with the next part's headers in *p (name always set), 0 at the closing
 * boundary, < 0 on error. */
int nb_form_next(nb_form_reader *r, nb_form_part *p, nb_arena *a);
/* The current part's body to sink (NULL: discard) up to and including the next boundary.
 * 0 or < 0. */
int nb_form_body(nb_form_reader *r, nb_form_sink_fn sink, void *ud);

#endif
