/* http_internal.h: structures shared by the files of src/http (loops, timers, connections,
 * requests, the worker pool, TLS). Nothing outside src/http (and its tests/fuzzer) includes it. */
#ifndef NB_HTTP_INTERNAL_H
#define NB_HTTP_INTERNAL_H

#include "http/http.h"

#include <http_parser.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

/* Tunables. The high-water marks bound what one request may hold in memory. */
#define NB_IN_HWM (256u * 1024)    /* request body bytes buffered before we stop reading */
#define NB_OUT_HWM (1024u * 1024)  /* response bytes queued before nb_resp_write blocks */
/* File bytes queued before nb_resp_sendfile blocks. A worker that checks content before
 * queueing it stays this close to the socket, so what it read is still in the CPU's cache
 * when the kernel and the client copy it (running ahead made each byte come from memory
 * twice). */
#define NB_OUT_FILE_HWM (1024u * 1024)
#define NB_OUT_FILE_WAITERS 16 /* workers that may wait on it at once (out_file_wait_locked) */
#define NB_OUT_FILE_CHUNKS 8   /* file ranges (each an open fd) queued before a worker waits */
#define NB_CHECKS_PER_FLUSH 4  /* checked-file gates per flush: then other connections' turn */
#define NB_READ_CHUNK (64u * 1024) /* one read() into the loop's scratch buffer */
#define NB_DRAIN_MAX (256u * 1024) /* unread body we still drain to keep the connection */
#define NB_LINGER_MS 2000          /* how long a closing socket discards late input */

/* Every object registered in an epoll set starts with this, so events can be dispatched. */
enum nb_io_kind { NB_IO_LISTENER = 1, NB_IO_CONN, NB_IO_CLIENT, NB_IO_WAKE };
typedef struct nb_io {
    int kind;
} nb_io;

/* A timer in its loop's min-heap. idx is its heap slot, or NB_TIMER_OFF when not armed. */
#define NB_TIMER_OFF ((size_t)-1)
typedef struct nb_timer {
    int64_t at; /* monotonic ms */
    size_t idx;
    uint64_t id; /* public timers only */
    void (*fn)(void *arg);
    void *arg;
} nb_timer;

typedef struct nb_post {
    struct nb_post *next;
    void (*fn)(void *arg);
    void *arg;
} nb_post;

struct nb_conn;
struct nb_client;

typedef struct nb_loop {
    int idx;
    int epfd, evfd;
    nb_io wake_io;
    pthread_t thr;
    bool started;
    bool stopping;      /* shutdown began: no new requests on kept-alive connections */
    int64_t force_at;   /* shutdown deadline (monotonic ms), 0 = none */
    bool forced;        /* the deadline passed and connections were cut */
    int64_t now;        /* monotonic ms, refreshed after each epoll_wait */
    nb_timer **heap;
    size_t nheap, capheap;
    /* Guarded by mu: callbacks posted from other threads, connections a worker asked the
     * loop to look at, and whether the eventfd was already kicked. */
    pthread_mutex_t mu;
    nb_post *posts, *posts_tail;
    struct nb_conn *wakes;
    bool kicked;
    /* Loop-only lists. */
    struct nb_conn *dirty; /* connections to process/flush before sleeping */
    struct nb_conn *conns; /* every server connection of this loop */
    struct nb_conn *reap;  /* dead connections freed at the end of the iteration */
    size_t nconns;
    struct nb_client *clients; /* outgoing client exchanges */
    size_t nclients;
    char *scratch; /* NB_READ_CHUNK bytes, for reads */
} nb_loop;

/* One bound listener: its settings and one SO_REUSEPORT socket per loop. */
typedef struct nb_lsock {
    nb_io io;
    int fd;
    struct nb_lsn *lsn;
    nb_loop *loop;
    bool paused;
    nb_timer resume;
} nb_lsock;

typedef struct nb_lsn {
    struct nb_lsn *next;
    nb_req_fn on_request;
    void *ud;
    bool tls;
    SSL_CTX *ctx;
    int port;
    int nsocks;
    nb_lsock *socks;
} nb_lsn;

/* Output queue element: memory bytes, or a file range sent with sendfile. */
typedef struct nb_chunk {
    struct nb_chunk *next;
    int fd;       /* -1: memory chunk */
    off_t off;    /* file: next offset to send */
    size_t len;   /* memory: bytes filled; file: bytes left to send */
    size_t pos;   /* memory: bytes already sent */
    size_t cap;   /* memory: capacity of data[]; file over TLS: staging capacity */
    size_t slen;  /* file over TLS: staged bytes in data[] not yet written (from spos) */
    size_t spos;
    /* Checked file (nb_resp_sendfile_checked): ok bytes from off may go out; past them, call
     * check first. */
    nb_file_check_fn check;
    void *check_arg;
    void (*check_free)(void *arg);
    size_t ok;
    char data[];
} nb_chunk;

enum nb_body_state { NB_BODY_READING = 0, NB_BODY_DONE, NB_BODY_ERR };

/* Server-side request. The public part comes first so nb_req* and nb_reqi* convert. */
typedef struct nb_reqi {
    nb_req pub;
    struct nb_conn *c;
    struct nb_reqi *next_task; /* worker queue link */
    /* Header parsing (loop only): text accumulates in hb, pieces are offsets into it. */
    char *hb;
    size_t hlen, hcap;
    struct nb_hoff {
        uint32_t no, nl, vo, vl;
    } *ho;
    size_t nho, capho;
    size_t url_len;
    int last_cb; /* 0 none/url, 1 field, 2 value */
    size_t header_bytes;
    int err_kind; /* enum nb_core_err: why parsing was refused (limits, Transfer-Encoding) */
    bool cl_seen, cl_differ; /* Content-Length repeated: its first value, and any other */
    uint64_t cl_first;
    size_t cl_cleared;       /* 1 + index of the field that looked like a repeat, 0 none */
    bool cl_undo_seen, cl_undo_differ; /* the state before it, if its name goes on */
    bool headers_done, dispatched, finished, draining;
    size_t drained;
    int64_t t_start_us;
    int64_t t_body_us, t_resp_us; /* body read, response started (nb_req_done) */
    /* Body, shared with the worker under c->mu. */
    char *bq;
    size_t boff, blen, bcap;
    int body_state;
    bool body_timed_out; /* body_state went to NB_BODY_ERR by the body timeout */
    bool body_wanted;
    bool sent_100;
    bool read_all;
    bool toobig; /* nb_req_read_all: over the limit, answer 413 and stop reading */
    bool body_known_empty; /* no Content-Length body and not chunked */
    size_t read_all_limit;
    nb_body_fn read_all_cb;
    uint64_t body_in;
    /* Offload. */
    bool offloaded;
    bool submit_deferred; /* offloaded with its whole body in the input buffer: submitted once
                           * the loop parsed it (conn_process), so the worker never waits */
    nb_req_fn offload_fn;
    bool on_worker;             /* a worker runs offload_fn now */
    /* Parked requests (nb_req_on_gone): loop only. */
    void (*gone_fn)(nb_req *r, bool stopping);
    /* Response (written by whichever thread owns the handler). */
    bool resp_started, ended, aborted, close_req, no_body, chunked_out;
    int status;
    int64_t resp_cl;
    uint64_t resp_body_written;
    uint64_t bytes_out;
    uint64_t bytes_in;
} nb_reqi;

enum nb_wake_bits { NB_WAKE_IO = 1, NB_WAKE_END = 2 };

typedef struct nb_conn {
    nb_io io;
    int fd;
    nb_loop *loop;
    nb_lsn *lsn;
    SSL *ssl;
    struct nb_conn *prev, *next; /* loop->conns */
    struct nb_conn *dirty_next, *wake_next, *reap_next;
    bool in_dirty, wake_queued, in_reap;
    nb_timer tm;
    http_parser parser;
    bool readable, writable, rdhup, peer_eof, dead, closing, lingering, fake, wanted_input;
    bool corked; /* TCP_CORK set while a response streams from files (see write_sendq) */
    bool ev_headers; /* set by the parser callbacks, consumed by conn_process */
    bool tls_handshake_done;
    bool busy; /* inside an entry point that processes and flushes before returning */
    unsigned nreqs;
    char *ibuf; /* unparsed input that arrived ahead of the parser (pipelining, pauses) */
    size_t ioff, ilen, icap;
    int64_t t_accept, last_rx, last_tx, last_active;
    nb_reqi *req;
    char peer_ip[48];
    int peer_port, local_port;
    /* Shared with a worker thread, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    nb_chunk *pending, *pending_tail; /* appended by nb_resp_* */
    size_t out_mem;                   /* memory bytes in pending + sendq */
    size_t out_file;                  /* unchecked file bytes in pending + sendq */
    size_t out_files;                 /* file chunks in pending + sendq */
    int waiters;
    unsigned wake_bits;
    /* Loop only. */
    nb_chunk *sendq, *sendq_tail;
    uint64_t fake_out; /* fuzzing: bytes "sent" */
    const uint8_t *fake_in;
    size_t fake_in_len, fake_in_pos;
} nb_conn;

/* ---- loop.c ---- */
extern nb_http_limits nb_http_lim;
extern _Thread_local nb_loop *nb_loop_self; /* the loop running on this thread, or NULL */
extern atomic_size_t nb_http_nconns;
extern atomic_bool nb_http_stopping;
extern atomic_uint_fast64_t nb_http_nreqs; /* requests dispatched, for the idle trim */
nb_loop *nb_loop_pick(int i);
void nb_timer_arm(nb_loop *L, nb_timer *t, int64_t at);
void nb_timer_disarm(nb_loop *L, nb_timer *t);
int nb_loop_add_fd(nb_loop *L, int fd, nb_io *io, uint32_t events);
/* Ask the loop of c to look at it (from a worker): bits are NB_WAKE_*. Call with c->mu held. */
void nb_conn_wake_locked(nb_conn *c, unsigned bits);
void nb_worker_submit(nb_reqi *ri);
nb_loop *nb_loop_init_fake(void); /* a loop without threads or epoll, for the fuzzer */

/* ---- server.c ---- */
void nb_conn_accept(nb_lsock *ls, int fd, const struct sockaddr *sa, socklen_t salen);
void nb_conn_event(nb_conn *c, uint32_t ev);
void nb_conn_process_and_flush(nb_conn *c);
void nb_conn_wake(nb_conn *c); /* loop: handle what a worker asked for */
void nb_conn_reap(nb_loop *L);
void nb_conn_shutdown_idle(nb_loop *L);
void nb_conn_force_close_all(nb_loop *L);
void nb_conn_mark_dirty(nb_conn *c);
void nb_http_date_cached(char out[30]);

/* ---- errdoc.c ---- */
/* The core's own refusals, answered as S3 answers them (see errdoc.c). */
enum nb_core_err {
    NB_CERR_BAD_REQUEST = 0,   /* unparsable request line, headers or framing: 400 BadRequest */
    NB_CERR_HEADER_TOO_LARGE,  /* header bytes or count over the limits */
    NB_CERR_TIMEOUT,           /* the header section did not arrive in time */
    NB_CERR_TRANSFER_ENCODING, /* a Transfer-Encoding other than chunked: 501 */
};
/* Append the whole response (status line, headers with Connection: close, the XML error
 * document unless head) to out. rid is the request id it names. Returns the HTTP status, or
 * -1 if out ran out of memory. */
int nb_http_core_error(nb_buf *out, enum nb_core_err e, bool head, const char *rid);

/* ---- tls.c ---- */
SSL_CTX *nb_tls_server_ctx(const char *cert, const char *key, char **err);
SSL_CTX *nb_tls_client_ctx(bool verify);
/* A human-readable message for the last OpenSSL error (static storage of the caller). */
void nb_tls_err(char *out, size_t n);

/* ---- client.c ---- */
void nb_client_event(struct nb_client *cl, uint32_t ev);
void nb_client_fail_all(nb_loop *L);

/* ---- fuzzing ---- */
/* Feed data through the request parsing path of a fake connection (no socket, writes are
 * discarded) with a trivial handler that reads the whole body and answers. Returns bytes the
 * fake connection would have sent. Single-threaded; for fuzz/http only. */
size_t nb_http_fuzz_feed(const uint8_t *data, size_t n);

#endif
