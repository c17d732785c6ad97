/* nb.h: what every Nimbus file needs: result codes, assertions, arena, byte buffers. */
#ifndef NB_NB_H
#define NB_NB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define NB_VERSION "0.1.0"

enum nb_result { NB_OK = 0, NB_ERR = -1, NB_AGAIN = -2, NB_NOMEM = -3 };

#define NB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NB_UNUSED(x) ((void)(x))
#define NB_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Invariants whose failure means a bug: always on, cheap. */
void nb_panic(const char *file, int line, const char *what) __attribute__((noreturn));
#define NB_ASSERT(c)                                                                               \
    do {                                                                                           \
        if (__builtin_expect(!(c), 0)) nb_panic(__FILE__, __LINE__, #c);                           \
    } while (0)

/* Start-up allocation: abort with a message on failure (never on the request path). */
void *nb_xmalloc(size_t n);
void *nb_xcalloc(size_t n, size_t m);
char *nb_xstrdup(const char *s);

/* Gives glibc's free pages back to the system. A no-op under AddressSanitizer, whose allocator
 * replaces glibc's: there, malloc_trim would walk glibc arenas that were never set up, and two
 * threads trimming at once race in glibc's lazy initialisation (a crash seen in CI). */
void nb_malloc_trim(void);

/* ---- arena: per-request memory, freed all at once by its owner ---- */
typedef struct nb_arena nb_arena;
nb_arena *nb_arena_new(size_t first_block);   /* NULL on allocation failure */
void nb_arena_free(nb_arena *a);              /* NULL-safe */
void *nb_arena_alloc(nb_arena *a, size_t n);  /* 16-byte aligned, NULL on failure */
void *nb_arena_calloc(nb_arena *a, size_t n);
char *nb_arena_strndup(nb_arena *a, const char *s, size_t n); /* NUL-terminated copy */
char *nb_arena_strdup(nb_arena *a, const char *s);
char *nb_arena_printf(nb_arena *a, const char *fmt, ...) NB_PRINTF(2, 3);

/* ---- growable byte buffer (heap); len bytes valid, always NUL-terminated after len ---- */
typedef struct nb_buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom; /* set once an append failed; later appends are no-ops */
} nb_buf;
void nb_buf_init(nb_buf *b);
void nb_buf_free(nb_buf *b);
void nb_buf_reset(nb_buf *b);
int nb_buf_reserve(nb_buf *b, size_t extra);
int nb_buf_append(nb_buf *b, const void *p, size_t n);
int nb_buf_puts(nb_buf *b, const char *s);
int nb_buf_putc(nb_buf *b, char c);
int nb_buf_printf(nb_buf *b, const char *fmt, ...) NB_PRINTF(2, 3);
int nb_buf_vprintf(nb_buf *b, const char *fmt, va_list ap);
/* Detach the storage: the caller owns the returned malloc'd pointer. */
char *nb_buf_steal(nb_buf *b, size_t *len);

/* ---- small string helpers ---- */
typedef struct nb_str {
    const char *p;
    size_t n;
} nb_str;
#define NB_STR(lit) ((nb_str){(lit), sizeof(lit) - 1})
bool nb_str_eq(nb_str a, const char *lit);
bool nb_str_ieq(nb_str a, const char *lit); /* ASCII case-insensitive */
bool nb_mem_ieq(const char *a, size_t an, const char *b, size_t bn);

/* Hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void nb_hex(const unsigned char *in, size_t n, char *out);
/* Random bytes from the kernel; aborts on failure (it cannot fail after boot). */
void nb_random(void *out, size_t n);
/* A fresh id of lowercase hex characters (len chars + NUL). */
void nb_random_hex(char *out, size_t len);
/* An AWS-style request id: uuid4 text, 36 chars + NUL. */
void nb_uuid4(char out[37]);

/* Base64 (standard alphabet with padding). Return output length, or -1 on bad input. */
size_t nb_base64_encoded_len(size_t n);
size_t nb_base64_encode(const unsigned char *in, size_t n, char *out); /* out NUL-terminated */
ssize_t nb_base64_decode(const char *in, size_t n, unsigned char *out); /* out >= n*3/4+3 */

/* Percent-decoding: '+' stays '+' unless plus_is_space. Returns decoded length or -1. */
ssize_t nb_url_decode(const char *in, size_t n, char *out, bool plus_is_space);
/* RFC 3986 unreserved set kept; everything else %XX (uppercase). '/' kept if keep_slash. */
int nb_url_encode(nb_buf *b, const char *in, size_t n, bool keep_slash);

/* S3's x-amz-id-2 / <HostId> for a request id: an opaque token derived from the id, so that
 * one answer's headers and body agree without state (used by the HTTP core and the protocol
 * layer alike, hence here). */
void nb_host_id(const char *request_id, char out[80]);

/* ---- logging: one line per event to stderr ---- */
enum nb_log_level { NB_LOG_DEBUG = 0, NB_LOG_INFO, NB_LOG_WARN, NB_LOG_ERROR };
extern int nb_log_level;
int nb_log_level_parse(const char *s); /* -1 if unknown */
void nb_log(int level, const char *fmt, ...) NB_PRINTF(2, 3);
/* A thread that calls nb_log_buffered(true) (an event loop: the access log writes a line per
 * request) keeps its debug and info lines in a 4 KiB buffer, written whole by nb_log_flush()
 * or when full; warnings and errors still go out at once, after what is buffered. */
void nb_log_buffered(bool on);
void nb_log_flush(void);
#define nb_debug(...)                                                                              \
    do {                                                                                           \
        if (nb_log_level <= NB_LOG_DEBUG) nb_log(NB_LOG_DEBUG, __VA_ARGS__);                       \
    } while (0)
#define nb_info(...) nb_log(NB_LOG_INFO, __VA_ARGS__)
#define nb_warn(...) nb_log(NB_LOG_WARN, __VA_ARGS__)
#define nb_error(...) nb_log(NB_LOG_ERROR, __VA_ARGS__)

/* Wall-clock and monotonic helpers (host time; services use nb_clock_now()). */
int64_t nb_mono_ms(void);
int64_t nb_mono_us(void);
int64_t nb_wall_us(void);

#endif
