/* http.h: the HTTP/1.1 server and client on Nimbus's own epoll loops.
 *
 * Threading model. There is one event loop per core (threads "loop-N"), each with its own
 * SO_REUSEPORT listener, plus a pool of worker threads. When a request's headers are
 * complete, the server calls the listener's on_request() on the connection's loop thread.
 * The handler either answers at once on the loop (fast paths), or first collects the body
 * with nb_req_read_all() (callback on the loop), or moves the request to a worker with
 * nb_req_offload(), where it may block: nb_req_read() streams the body with back-pressure
 * and nb_resp_write() blocks while the client is slow. A connection handles one request at
 * a time; pipelined requests wait in the input buffer until nb_resp_end() of the current one.
 *
 * Every request gets exactly one nb_resp_end() (or nb_req_abort()). After it, the request and
 * its arena are freed by the server: the handler must not touch them again.
 */
#ifndef NB_HTTP_HTTP_H
#define NB_HTTP_HTTP_H

#include "core/nb.h"

typedef struct nb_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} nb_header;

typedef struct nb_req nb_req;
typedef void (*nb_req_fn)(nb_req *r);

/* What the server knows of a finished request, for nb_req.on_done. */
typedef struct nb_req_done {
    int status;
    uint64_t bytes_in, bytes_out; /* on the wire, headers and framing included */
    uint64_t body_out;            /* response body bytes sent (0 for HEAD) */
    int64_t total_us;             /* headers complete -> response finished */
    int64_t turnaround_us;        /* request body read -> first response byte queued */
} nb_req_done;

struct nb_req {
    /* Filled by the server before on_request(); read-only afterwards. All strings live in
     * r->arena and are NUL-terminated; lengths are carried for binary safety. */
    const char *method; /* "GET", "PUT", ... */
    const char *target; /* raw request-target as received */
    size_t target_len;
    const char *path; /* raw (still percent-encoded) path, before '?' */
    size_t path_len;
    const char *query; /* raw query string after '?', "" when absent */
    size_t query_len;
    nb_header *headers; /* in arrival order; names as sent (compare case-insensitively) */
    size_t nheaders;
    int64_t content_length; /* -1 when the body is chunked or absent-with-chunked */
    bool chunked;           /* Transfer-Encoding: chunked */
    bool expect_continue;   /* Expect: 100-continue; the server sends 100 on first body read */
    bool tls;               /* arrived on the TLS listener */
    bool keep_alive;        /* the server's current intention for the connection */
    int http_minor;         /* 0 or 1 */
    char peer_ip[48];       /* textual peer address */
    int peer_port;
    int local_port;
    nb_arena *arena; /* freed after nb_resp_end() */
    void *listener_ud; /* the listener's user data (nb_http_listener.ud) */
    void *ud;          /* free for the handler */

    /* Filled by the handler for the access log line, which the server writes at the end:
     * request id, account, principal, service, operation, status, bytes in/out, duration. */
    char request_id[40];
    const char *log_account;
    const char *log_principal;
    const char *log_service;
    const char *log_operation;
    /* Called once when the request is finished, on its loop thread, just before the access
     * log line and before the arena is freed (S3 server access logging). It must be cheap and
     * must not touch the response. NULL = none. */
    void (*on_done)(nb_req *r, const nb_req_done *d);

    struct nb_conn *conn; /* opaque to handlers */
};

/* First header named `name` (case-insensitive), or NULL. *len gets its length if len. */
const char *nb_req_header(const nb_req *r, const char *name, size_t *len);

/* ---- request bodies ---- */

/* Collect the whole body (after de-chunking) on the loop, then call done() on the loop with
 * status 0 and the bytes (owned by r->arena, NUL-terminated), or status 413 when it exceeds
 * limit, or -1 when the client went away / sent a bad body (the request is then already being
 * torn down; done() must still call nb_resp_end()). Must be called on the loop thread. */
typedef void (*nb_body_fn)(nb_req *r, int status, const char *body, size_t len);
void nb_req_read_all(nb_req *r, size_t limit, nb_body_fn done);

/* Run fn(r) on a worker thread. From then on the handler may block in nb_req_read() and
 * nb_resp_*(). Must be called on the loop thread. A request that a handler parked (returned
 * from its worker without answering, see nb_req_on_gone) may be offloaded again when it
 * resumes; never while a worker still runs it. */
void nb_req_offload(nb_req *r, nb_req_fn fn);

/* Parked requests: a handler that answers later (a long poll waiting for a message) holds no
 * thread meanwhile; it may want to know when waiting is pointless. fn(r, stopping) is called
 * once on r's loop thread when the client hung up (or half-closed: clients do that only when
 * they leave) or the connection died (stopping = false), or when the server begins to shut
 * down (stopping = true). The request still needs its nb_resp_end() (the answer to a dead
 * connection is dropped). If that already happened, fn is called from inside this call. Loop
 * thread only; fn NULL unregisters. */
typedef void (*nb_req_gone_fn)(nb_req *r, bool stopping);
void nb_req_on_gone(nb_req *r, nb_req_gone_fn fn);
/* True once nb_http_shutdown() began. */
bool nb_http_is_stopping(void);

/* Worker only: read up to n bytes of the body (de-chunked). Blocks until data arrives.
 * Returns bytes read, 0 at the end of the body, -1 if the client went away, the body timed
 * out, or the chunked framing was bad. */
ssize_t nb_req_read(nb_req *r, void *buf, size_t n);

/* After a failed body read: true if the client stopped sending for the body timeout (AWS's
 * RequestTimeout), false if it went away or broke the framing (IncompleteBody). */
bool nb_req_body_timed_out(nb_req *r);

/* ---- responses (callable on the loop thread, or on the worker after nb_req_offload) ---- */

/* Start the response. content_length < 0 means chunked transfer encoding (HTTP/1.1) or
 * close-delimited (HTTP/1.0). Date, Server, Content-Length/Transfer-Encoding and
 * Connection headers are added by the server; do not pass them. For HEAD requests pass the
 * length the GET would have; the server sends no body. */
void nb_resp_start(nb_req *r, int status, const nb_header *hdrs, size_t nhdrs,
                   int64_t content_length);
/* Append body bytes (copied). On a worker, blocks while more than the high-water mark is
 * queued (back-pressure). Returns 0, or -1 if the connection is gone (keep going to
 * nb_resp_end(); further writes are dropped). */
int nb_resp_write(nb_req *r, const void *data, size_t len);
/* Send len bytes of fd from off with sendfile (plain TCP) or read+write (TLS). The server
 * takes ownership of fd and closes it. Same blocking and return rules as nb_resp_write. */
int nb_resp_sendfile(nb_req *r, int fd, off_t off, size_t len);
/* Like nb_resp_sendfile, for content that must be checked before it goes out. The loop that
 * sends it calls check(arg, fd, off, left) right before sending bytes from off (left: what
 * remains of the range); check verifies some bytes from off and returns how many (1..left),
 * or -1 if they must not be sent (it logs why; the connection is closed, so the client sees
 * a short body, never wrong bytes). Checking on the loop, just before the send, means the
 * bytes are read while the kernel's copy to the client is about to read them again, and no
 * worker is held for the length of the transfer. check may block as a sendfile would (on a
 * page not in memory). free_arg(arg) runs when the range is done or dropped. The call
 * returns once the range is queued (a worker waits only while many file ranges are). */
typedef int64_t (*nb_file_check_fn)(void *arg, int fd, off_t off, size_t left);
int nb_resp_sendfile_checked(nb_req *r, int fd, off_t off, size_t len, nb_file_check_fn check,
                             void *arg, void (*free_arg)(void *arg));
/* Finish the response. Unread request body is drained (or the connection closed if it is
 * large). The request is freed afterwards. */
void nb_resp_end(nb_req *r);
/* One-shot: start + write + end. */
void nb_resp_simple(nb_req *r, int status, const char *content_type, const void *body,
                    size_t len, const nb_header *extra, size_t nextra);
/* One-shot error answer in S3's form: x-amz-request-id and x-amz-id-2 headers and an XML
 * <Error> document (Code, Message, RequestId, HostId), naming r->request_id (made when
 * empty). For answers given before any service's own error format is known: the core's
 * refusals and the protocol layer's last resorts (out of memory, shutting down). */
void nb_resp_aws_error(nb_req *r, int status, const char *code, const char *message);
/* Ask the server to close the connection after this response. */
void nb_resp_close_after(nb_req *r);
/* End the request without completing the response: whatever was queued is sent, then the
 * connection is closed (the client sees a truncated response if one was started). Use it
 * when a streamed response cannot be finished. Same thread rules as nb_resp_end. */
void nb_req_abort(nb_req *r);

/* Access log: when true (the default), one nb_info() line per finished request:
 * "access <request_id> <account> <principal> <service> <operation> <method> <path> <status>
 * <bytes in> <bytes out> <ms>ms", "-" for unset fields. */
extern bool nb_http_access_log;

/* ---- server ---- */

typedef struct nb_http_limits {
    size_t max_header_bytes;  /* request line + headers; beyond: S3's 400
                               * RequestHeaderSectionTooLarge (default 64 KiB) */
    size_t max_headers;       /* count; the same beyond (default 200) */
    int header_timeout_ms;    /* whole header must arrive within (default 30 s):
                               * 400 RequestTimeout, close */
    int idle_timeout_ms;      /* keep-alive idle (default 120 s) */
    int body_timeout_ms;      /* no body byte for this long: close (default 60 s) */
    size_t max_conns;         /* per process; beyond, new connections are closed (default 20000) */
} nb_http_limits;

typedef struct nb_http_listener {
    const char *host; /* "127.0.0.1", "0.0.0.0", "::" */
    int port;         /* 0 = ephemeral; the bound port is written back by nb_http_listen */
    bool tls;
    const char *tls_cert; /* PEM files, for tls listeners */
    const char *tls_key;
    nb_req_fn on_request;
    void *ud;
} nb_http_listener;

/* Configure threads before nb_http_start(): nloops 0 = one per online core; nworkers 0 = 64
 * (started on demand). Zero fields of limits (or limits NULL) take the defaults above. The
 * environment overrides the timeouts (milliseconds): NIMBUS_HEADER_TIMEOUT_MS,
 * NIMBUS_IDLE_TIMEOUT_MS, NIMBUS_BODY_TIMEOUT_MS (used by tests to get short timeouts).
 * Also ignores SIGPIPE and raises RLIMIT_NOFILE to its hard limit. Order: nb_http_init, then
 * nb_http_listen and nb_http_start in either order. */
int nb_http_init(int nloops, int nworkers, const nb_http_limits *limits);
/* Bind a listener (one SO_REUSEPORT socket per loop). Returns 0 or -1 with *err set
 * (static or malloc'd message). May be called before or after nb_http_start(). */
int nb_http_listen(nb_http_listener *l, char **err);
/* Start the loop and worker threads; returns once they run. */
int nb_http_start(void);
/* Graceful stop: close listeners, let in-flight requests finish (up to timeout_ms), close
 * idle connections, join threads. */
void nb_http_shutdown(int timeout_ms);

/* Run fn(arg) on loop `i` (or any loop when i < 0) soon; thread-safe. Used by services that
 * must touch loop-owned state, and by the client below. */
int nb_loop_post(int i, void (*fn)(void *arg), void *arg);
/* Index of the loop that owns r's connection (for nb_loop_post: a handler that parked a
 * request without answering can resume it on its own loop later). */
int nb_req_loop(const nb_req *r);
/* The percent-decoded value of query parameter `key` (first occurrence), in the request's
 * arena; NULL when absent or undecodable. For raw (non-model) routes such as admin pages. */
const char *nb_req_query_arg(nb_req *r, const char *key);
/* Timer on the calling loop thread; returns an id for nb_loop_timer_cancel(). */
uint64_t nb_loop_timer(int delay_ms, void (*fn)(void *arg), void *arg);
void nb_loop_timer_cancel(uint64_t id);

/* ---- client ---- */

typedef struct nb_http_response {
    int status;
    nb_header *headers;
    size_t nheaders;
    char *body; /* NUL-terminated */
    size_t body_len;
    nb_arena *arena; /* owns everything above */
} nb_http_response;

typedef struct nb_http_request_spec {
    const char *method;
    const char *url; /* http://host:port/path?query or https://... */
    const nb_header *headers;
    size_t nheaders;
    const void *body;
    size_t body_len;
    int timeout_ms;       /* whole exchange; 0 = 30 s */
    size_t max_body;      /* response body cap; 0 = 16 MiB */
    const char *netns;    /* network namespace path to connect from, or NULL */
    bool tls_verify;      /* for https: verify the peer certificate */
} nb_http_request_spec;

/* Asynchronous: runs on a loop (the caller's own loop when called on a loop thread); cb is
 * called on that loop with err 0 and the response (the callee owns it: free with
 * nb_http_response_free), or err < 0 (-errno: -ETIMEDOUT, -ECONNREFUSED, -EMSGSIZE when the
 * body exceeds max_body, -EPROTO for a bad response) and resp NULL. Host names other than IP
 * literals and "localhost" are resolved with getaddrinfo in the calling thread. netns is
 * honoured (the socket is created by a short-lived thread that entered the namespace).
 * Returns 0, or -1 if the request could not be started (cb is then not called). */
int nb_http_fetch(const nb_http_request_spec *spec,
                  void (*cb)(void *ud, int err, nb_http_response *resp), void *ud);
/* Blocking variant for worker and background threads (never call it on a loop thread).
 * Returns 0 with *resp set, or a negative errno as above. Needs no running loop. */
int nb_http_fetch_sync(const nb_http_request_spec *spec, nb_http_response **resp);
void nb_http_response_free(nb_http_response *resp);
const char *nb_http_response_header(const nb_http_response *resp, const char *name);

/* Status reason phrase ("OK", "Not Found", ...). */
const char *nb_http_reason(int status);
/* RFC 7231 IMF-fixdate of t (seconds) into out[30]. */
void nb_http_date(int64_t t, char out[30]);

#endif
