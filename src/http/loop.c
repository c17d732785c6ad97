/* loop.c: the event loops (one epoll thread per core), their timers and cross-thread posts,
 * the listeners (one SO_REUSEPORT socket per loop), the worker pool, start-up and shutdown. */
#include "http/http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

bool nb_http_access_log = true;
nb_http_limits nb_http_lim;
_Thread_local nb_loop *nb_loop_self;
atomic_size_t nb_http_nconns;
atomic_bool nb_http_stopping;
atomic_uint_fast64_t nb_http_nreqs;

static nb_loop **g_loops;
static int g_nloops;
static bool g_inited, g_started;
static atomic_uint g_rr; /* round robin for nb_loop_post(-1) from non-loop threads */
static pthread_mutex_t g_lsn_mu = PTHREAD_MUTEX_INITIALIZER;
static nb_lsn *g_listeners;

/* ---- timers: a binary min-heap of nb_timer pointers per loop ---- */

static void heap_swap(nb_loop *L, size_t a, size_t b)
{
    nb_timer *t = L->heap[a];
    L->heap[a] = L->heap[b];
    L->heap[b] = t;
    L->heap[a]->idx = a;
    L->heap[b]->idx = b;
}

static void heap_up(nb_loop *L, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (L->heap[p]->at <= L->heap[i]->at) break;
        heap_swap(L, p, i);
        i = p;
    }
}

static void heap_down(nb_loop *L, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < L->nheap && L->heap[l]->at < L->heap[m]->at) m = l;
        if (r < L->nheap && L->heap[r]->at < L->heap[m]->at) m = r;
        if (m == i) break;
        heap_swap(L, i, m);
        i = m;
    }
}

void nb_timer_disarm(nb_loop *L, nb_timer *t)
{
    if (t->idx == NB_TIMER_OFF) return;
    size_t i = t->idx;
    L->nheap--;
    if (i != L->nheap) {
        L->heap[i] = L->heap[L->nheap];
        L->heap[i]->idx = i;
        heap_down(L, i);
        heap_up(L, i);
    }
    t->idx = NB_TIMER_OFF;
}

/* Arm (or move) t to fire at `at`. The heap grows by doubling; it only holds armed timers,
 * so an idle server with few connections keeps it tiny. */
void nb_timer_arm(nb_loop *L, nb_timer *t, int64_t at)
{
    if (t->idx != NB_TIMER_OFF) {
        int64_t old = t->at;
        t->at = at;
        if (at < old)
            heap_up(L, t->idx);
        else
            heap_down(L, t->idx);
        return;
    }
    if (L->nheap == L->capheap) {
        size_t cap = L->capheap ? L->capheap * 2 : 16;
        nb_timer **h = realloc(L->heap, cap * sizeof(*h));
        NB_ASSERT(h); /* a few bytes per connection; nothing sensible to do without it */
        L->heap = h;
        L->capheap = cap;
    }
    t->at = at;
    t->idx = L->nheap;
    L->heap[L->nheap++] = t;
    heap_up(L, t->idx);
}

static void run_timers(nb_loop *L)
{
    while (L->nheap && L->heap[0]->at <= L->now) {
        nb_timer *t = L->heap[0];
        nb_timer_disarm(L, t);
        t->fn(t->arg);
    }
}

/* Public timers are malloc'd and freed when they fire or are cancelled. The id encodes the
 * loop index in its low byte so nb_loop_timer_cancel finds the right heap. */
static atomic_uint_fast64_t g_timer_seq;

typedef struct pub_timer {
    nb_timer t;
    void (*fn)(void *arg);
    void *arg;
} pub_timer;

static void pub_timer_fire(void *arg)
{
    pub_timer *p = arg;
    void (*fn)(void *) = p->fn;
    void *a = p->arg;
    free(p);
    fn(a);
}

uint64_t nb_loop_timer(int delay_ms, void (*fn)(void *arg), void *arg)
{
    nb_loop *L = nb_loop_self;
    NB_ASSERT(L); /* only on a loop thread */
    pub_timer *p = malloc(sizeof(*p));
    if (!p) return 0;
    p->fn = fn;
    p->arg = arg;
    p->t.idx = NB_TIMER_OFF;
    p->t.fn = pub_timer_fire;
    p->t.arg = p;
    p->t.id = (atomic_fetch_add(&g_timer_seq, 1) + 1) << 8 | (uint64_t)(L->idx & 0xff);
    nb_timer_arm(L, &p->t, L->now + (delay_ms < 0 ? 0 : delay_ms));
    return p->t.id;
}

void nb_loop_timer_cancel(uint64_t id)
{
    nb_loop *L = nb_loop_self;
    if (!L || !id) return;
    for (size_t i = 0; i < L->nheap; i++) {
        nb_timer *t = L->heap[i];
        if (t->id == id && t->fn == pub_timer_fire) {
            nb_timer_disarm(L, t);
            free(t->arg);
            return;
        }
    }
}

/* ---- posts and wakes ---- */

nb_loop *nb_loop_pick(int i)
{
    if (!g_nloops) return NULL;
    if (i >= 0) return g_loops[i % g_nloops];
    if (nb_loop_self && !nb_loop_self->stopping && g_loops) return nb_loop_self;
    return g_loops[atomic_fetch_add(&g_rr, 1) % (unsigned)g_nloops];
}

/* Wake-ups of a loop from other threads. L->wakes is a lock-free stack (workers finishing
 * together would otherwise queue on L->mu, and each wait on it is a context switch) and
 * L->kicked says the eventfd was written since the loop last drained: both through atomic
 * builtins (plain fields shared with http_internal.h). Posts, rarer, stay under L->mu. */
static void loop_kick(nb_loop *L)
{
    if (L->evfd < 0) return;
    if (__atomic_exchange_n(&L->kicked, true, __ATOMIC_SEQ_CST)) return;
    uint64_t one = 1;
    ssize_t w = write(L->evfd, &one, sizeof(one));
    NB_UNUSED(w); /* EAGAIN means the counter is already non-zero: the loop wakes anyway */
}

int nb_loop_post(int i, void (*fn)(void *arg), void *arg)
{
    nb_loop *L = nb_loop_pick(i);
    if (!L) return -1;
    nb_post *p = malloc(sizeof(*p));
    if (!p) return -1;
    p->next = NULL;
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_lock(&L->mu);
    if (L->posts_tail)
        L->posts_tail->next = p;
    else
        __atomic_store_n(&L->posts, p, __ATOMIC_SEQ_CST);
    L->posts_tail = p;
    pthread_mutex_unlock(&L->mu);
    loop_kick(L);
    return 0;
}

void nb_conn_wake_locked(nb_conn *c, unsigned bits)
{
    c->wake_bits |= bits;
    if (c->wake_queued) return;
    c->wake_queued = true;
    nb_loop *L = c->loop;
    nb_conn *head = __atomic_load_n(&L->wakes, __ATOMIC_RELAXED);
    do {
        c->wake_next = head;
    } while (!__atomic_compare_exchange_n(&L->wakes, &head, c, true, __ATOMIC_SEQ_CST,
                                          __ATOMIC_RELAXED));
    loop_kick(L);
}

static void loop_drain_posts(nb_loop *L)
{
    uint64_t v;
    ssize_t r = read(L->evfd, &v, sizeof(v));
    NB_UNUSED(r);
    /* Un-kick before taking the lists: whatever is queued after this point kicks again. */
    __atomic_store_n(&L->kicked, false, __ATOMIC_SEQ_CST);
    nb_conn *w = __atomic_exchange_n(&L->wakes, NULL, __ATOMIC_SEQ_CST);
    nb_post *p = NULL;
    if (__atomic_load_n(&L->posts, __ATOMIC_SEQ_CST)) {
        pthread_mutex_lock(&L->mu);
        p = L->posts;
        L->posts = L->posts_tail = NULL;
        pthread_mutex_unlock(&L->mu);
    }
    while (p) {
        nb_post *n = p->next;
        p->fn(p->arg);
        free(p);
        p = n;
    }
    while (w) {
        nb_conn *n = w->wake_next; /* read first: after the wake a worker may requeue w */
        nb_conn_wake(w);
        w = n;
    }
}

/* ---- listeners ---- */

static void lsock_resume(void *arg)
{
    nb_lsock *ls = arg;
    if (ls->fd < 0 || !ls->paused) return;
    ls->paused = false;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ls->io};
    epoll_ctl(ls->loop->epfd, EPOLL_CTL_MOD, ls->fd, &ev);
}

static void lsock_event(nb_lsock *ls)
{
    nb_loop *L = ls->loop;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(ls->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop polling this socket for a moment rather than spin
                 * on a level-triggered event we cannot satisfy. */
                nb_warn("http: accept: %s; pausing listener on port %d for 100 ms",
                        strerror(errno), ls->lsn->port);
                struct epoll_event ev = {.events = 0, .data.ptr = &ls->io};
                epoll_ctl(L->epfd, EPOLL_CTL_MOD, ls->fd, &ev);
                ls->paused = true;
                nb_timer_arm(L, &ls->resume, L->now + 100);
            }
            return;
        }
        if (atomic_load(&nb_http_nconns) >= nb_http_lim.max_conns || L->stopping) {
            close(fd); /* over the limit: accept and close, so the client is not left hanging */
            continue;
        }
        nb_conn_accept(ls, fd, (struct sockaddr *)&ss, sl);
    }
}

static int parse_host(const char *host, int port, struct sockaddr_storage *ss, socklen_t *sl)
{
    memset(ss, 0, sizeof(*ss));
    if (!host || !*host || strcmp(host, "localhost") == 0) host = "127.0.0.1";
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *sl = sizeof(*a4);
        return 0;
    }
    const char *h = host;
    char tmp[64];
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof(tmp)) {
        memcpy(tmp, host + 1, hl - 2);
        tmp[hl - 2] = 0;
        h = tmp;
    }
    if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sl = sizeof(*a6);
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, NULL, &hints, &res) != 0) return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sl = res->ai_addrlen;
    freeaddrinfo(res);
    if (ss->ss_family == AF_INET)
        a4->sin_port = htons((uint16_t)port);
    else
        a6->sin6_port = htons((uint16_t)port);
    return 0;
}

/* A malloc'd "http: cannot listen on host:port: reason" for nb_http_listen's *err. */
static char *listen_err(const char *host, int port, const char *why)
{
    char *m = NULL;
    if (asprintf(&m, "http: cannot listen on %s:%d: %s", host ? host : "", port, why) < 0)
        return nb_xstrdup("http: listen failed");
    return m;
}

int nb_http_listen(nb_http_listener *l, char **err)
{
    static char no_init[] = "http: nb_http_init was not called";
    if (err) *err = NULL;
    if (!g_inited) {
        if (err) *err = no_init;
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl;
    if (parse_host(l->host, l->port, &ss, &sl) < 0) {
        if (err) *err = listen_err(l->host, l->port, "cannot resolve the host");
        return -1;
    }
    nb_lsn *lsn = nb_xcalloc(1, sizeof(*lsn));
    lsn->on_request = l->on_request;
    lsn->ud = l->ud;
    lsn->tls = l->tls;
    if (l->tls) {
        lsn->ctx = nb_tls_server_ctx(l->tls_cert, l->tls_key, err);
        if (!lsn->ctx) {
            free(lsn);
            return -1;
        }
    }
    int port = l->port;
    if (port != 0) {
        /* SO_REUSEPORT would let us silently join a port another process listens on (a
         * second nimbus would split the traffic with the first). A probe without it fails
         * with EADDRINUSE in that case; SO_REUSEADDR keeps TIME_WAIT leftovers harmless. */
        int probe = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (probe >= 0) {
            setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(probe, (struct sockaddr *)&ss, sl) < 0 && errno == EADDRINUSE) {
                close(probe);
                if (lsn->ctx) SSL_CTX_free(lsn->ctx);
                free(lsn);
                if (err) *err = listen_err(l->host, port, strerror(EADDRINUSE));
                return -1;
            }
            close(probe);
        }
    }
    lsn->socks = nb_xcalloc((size_t)g_nloops, sizeof(nb_lsock));
    for (int i = 0; i < g_nloops; i++) {
        nb_lsock *ls = &lsn->socks[i];
        ls->io.kind = NB_IO_LISTENER;
        ls->lsn = lsn;
        ls->loop = g_loops[i];
        ls->resume.idx = NB_TIMER_OFF;
        ls->resume.fn = lsock_resume;
        ls->resume.arg = ls;
        ls->fd = -1;
    }
    for (int i = 0; i < g_nloops; i++) {
        nb_lsock *ls = &lsn->socks[i];
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd < 0) goto fail;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) goto fail_fd;
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        else
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        if (bind(fd, (struct sockaddr *)&ss, sl) < 0) goto fail_fd;
        if (listen(fd, 4096) < 0) goto fail_fd;
        if (port == 0) { /* ephemeral: the first socket picks, the others share it */
            struct sockaddr_storage b;
            socklen_t bl = sizeof(b);
            getsockname(fd, (struct sockaddr *)&b, &bl);
            port = ntohs(b.ss_family == AF_INET ? ((struct sockaddr_in *)&b)->sin_port
                                                : ((struct sockaddr_in6 *)&b)->sin6_port);
        }
        ls->fd = fd;
        lsn->nsocks++;
        continue;
    fail_fd:;
        int e = errno;
        close(fd);
        errno = e;
    fail:
        if (err) *err = listen_err(l->host, port, strerror(errno));
        for (int j = 0; j < i; j++) close(lsn->socks[j].fd);
        if (lsn->ctx) SSL_CTX_free(lsn->ctx);
        free(lsn->socks);
        free(lsn);
        return -1;
    }
    lsn->port = port;
    l->port = port;
    /* epoll_ctl is thread-safe, so registering works whether or not the loops run yet. */
    for (int i = 0; i < g_nloops; i++)
        nb_loop_add_fd(g_loops[i], lsn->socks[i].fd, &lsn->socks[i].io, EPOLLIN);
    pthread_mutex_lock(&g_lsn_mu);
    lsn->next = g_listeners;
    g_listeners = lsn;
    pthread_mutex_unlock(&g_lsn_mu);
    return 0;
}

int nb_loop_add_fd(nb_loop *L, int fd, nb_io *io, uint32_t events)
{
    if (L->epfd < 0) return 0; /* fake loop */
    struct epoll_event ev = {.events = events, .data.ptr = io};
    return epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- the loop thread ---- */

static void loop_close_listeners(nb_loop *L)
{
    pthread_mutex_lock(&g_lsn_mu);
    for (nb_lsn *lsn = g_listeners; lsn; lsn = lsn->next) {
        nb_lsock *ls = &lsn->socks[L->idx];
        if (ls->fd >= 0) {
            nb_timer_disarm(L, &ls->resume);
            close(ls->fd); /* also removes it from the epoll set */
            ls->fd = -1;
        }
    }
    pthread_mutex_unlock(&g_lsn_mu);
}

static void loop_begin_stop(void *arg)
{
    nb_loop *L = arg;
    L->stopping = true;
    loop_close_listeners(L);
    nb_conn_shutdown_idle(L);
}

static void process_dirty(nb_loop *L)
{
    /* Processing a connection can dirty it (or others) again; bound the rounds so one
     * chatty connection cannot starve epoll. */
    for (int round = 0; L->dirty && round < 16; round++) {
        nb_conn *d = L->dirty;
        L->dirty = NULL;
        while (d) {
            nb_conn *n = d->dirty_next;
            d->in_dirty = false;
            d->dirty_next = NULL;
            nb_conn_process_and_flush(d);
            d = n;
        }
    }
}

/* Give memory back after a burst. Requests allocate and free small blocks on every thread;
 * glibc keeps freed memory in its free lists, so after 1,000 concurrent requests the RSS
 * would stay at the peak. Once the server has been quiet for a couple of seconds, loop 0
 * asks malloc to return free pages (malloc_trim also releases pages inside the heaps). */
static nb_timer g_trim_timer;
static uint64_t g_trim_seen;
static bool g_trim_due;

static void trim_tick(void *arg)
{
    nb_loop *L = arg;
    uint64_t n = atomic_load(&nb_http_nreqs);
    if (n != g_trim_seen) {
        g_trim_seen = n;
        g_trim_due = true;
    } else if (g_trim_due) {
        g_trim_due = false;
        nb_malloc_trim();
    }
    nb_timer_arm(L, &g_trim_timer, L->now + 2000);
}

static void *loop_main(void *arg)
{
    nb_loop *L = arg;
    nb_loop_self = L;
    char name[16];
    snprintf(name, sizeof(name), "loop-%d", L->idx);
    pthread_setname_np(pthread_self(), name);
    struct epoll_event evs[128];
    nb_log_buffered(true);
    L->now = nb_mono_ms();
    if (L->idx == 0) {
        g_trim_timer = (nb_timer){.idx = NB_TIMER_OFF, .fn = trim_tick, .arg = L};
        nb_timer_arm(L, &g_trim_timer, L->now + 2000);
    }
    for (;;) {
        int timeout = -1;
        if (L->dirty)
            timeout = 0;
        else if (L->nheap) {
            int64_t d = L->heap[0]->at - L->now;
            timeout = d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
        }
        if (L->stopping && (timeout < 0 || timeout > 100)) timeout = 100;
        if (timeout != 0) nb_log_flush(); /* before sleeping, the lines of this round */
        int n = epoll_wait(L->epfd, evs, (int)NB_ARRAY_LEN(evs), timeout);
        L->now = nb_mono_ms();
        for (int i = 0; i < n; i++) {
            nb_io *io = evs[i].data.ptr;
            switch (io->kind) {
            case NB_IO_LISTENER: lsock_event((nb_lsock *)io); break;
            case NB_IO_CONN: nb_conn_event((nb_conn *)io, evs[i].events); break;
            case NB_IO_CLIENT: nb_client_event((struct nb_client *)io, evs[i].events); break;
            case NB_IO_WAKE: loop_drain_posts(L); break;
            }
        }
        run_timers(L);
        process_dirty(L);
        nb_conn_reap(L);
        if (L->stopping) {
            if (L->force_at && L->now >= L->force_at && !L->forced) {
                L->forced = true;
                nb_conn_force_close_all(L);
                nb_client_fail_all(L);
                nb_conn_reap(L);
            }
            if (L->nconns == 0 && L->nclients == 0) break;
            /* A handler that never ends its request must not hold the process forever. */
            if (L->forced && L->now >= L->force_at + 5000) {
                nb_warn("http: loop-%d exits with %zu connection(s) still owned by handlers",
                        L->idx, L->nconns);
                break;
            }
        }
    }
    /* Run what was posted meanwhile (e.g. client callbacks) so nothing waits forever. */
    loop_drain_posts(L);
    nb_log_buffered(false);
    return NULL;
}

static nb_loop *loop_new(int idx)
{
    nb_loop *L = nb_xcalloc(1, sizeof(*L));
    L->idx = idx;
    L->wake_io.kind = NB_IO_WAKE;
    pthread_mutex_init(&L->mu, NULL);
    L->epfd = epoll_create1(EPOLL_CLOEXEC);
    L->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (L->epfd < 0 || L->evfd < 0) {
        nb_error("http: epoll/eventfd: %s", strerror(errno));
        abort();
    }
    nb_loop_add_fd(L, L->evfd, &L->wake_io, EPOLLIN);
    L->scratch = nb_xmalloc(NB_READ_CHUNK);
    L->now = nb_mono_ms();
    return L;
}

static void loop_free(nb_loop *L)
{
    if (L->epfd >= 0) close(L->epfd);
    if (L->evfd >= 0) close(L->evfd);
    free(L->heap);
    free(L->scratch);
    pthread_mutex_destroy(&L->mu);
    free(L);
}

nb_loop *nb_loop_init_fake(void)
{
    static nb_loop *fake;
    if (!fake) {
        fake = nb_xcalloc(1, sizeof(*fake));
        fake->epfd = fake->evfd = -1;
        pthread_mutex_init(&fake->mu, NULL);
        fake->scratch = nb_xmalloc(NB_READ_CHUNK);
        if (!nb_http_lim.max_header_bytes) nb_http_init(1, 1, NULL);
    }
    fake->now = nb_mono_ms();
    nb_loop_self = fake;
    return fake;
}

/* ---- worker pool: threads are started on demand up to nworkers, so an idle server pays
 * for none of them ---- */

/* An idle worker waits on its own word and is handed its task directly: a worker woken
 * through a shared condition variable had to take wp.mu again first, and workers released
 * together by one group commit all queued on it. */
struct idle_worker {
    _Atomic uint32_t word; /* futex word: 1 = woken (with a task, or to look again) */
    nb_reqi *task;         /* NULL: look at the queue (and at wp.stop) */
    struct idle_worker *next;
};

static struct {
    pthread_mutex_t mu;
    nb_reqi *head, *tail;
    struct idle_worker *idle; /* stack of sleeping workers */
    int nthreads, max;
    bool stop;
    pthread_t *thr;
} wp = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void idle_wake(struct idle_worker *w, nb_reqi *task)
{
    w->task = task;
    atomic_store_explicit(&w->word, 1, memory_order_release);
    /* w lives on the worker's stack and stays valid: the worker sleeps until woken, and a
     * wake-up that finds it already awake (spurious) only costs it a look. */
    syscall(SYS_futex, &w->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *worker_main(void *arg)
{
    char name[16];
    snprintf(name, sizeof(name), "worker-%d", (int)(intptr_t)arg);
    pthread_setname_np(pthread_self(), name);
    struct idle_worker me;
    for (;;) {
        pthread_mutex_lock(&wp.mu);
        nb_reqi *ri = wp.head;
        if (ri) {
            wp.head = ri->next_task;
            if (!wp.head) wp.tail = NULL;
        } else if (wp.stop) {
            pthread_mutex_unlock(&wp.mu);
            break;
        } else {
            atomic_store_explicit(&me.word, 0, memory_order_relaxed);
            me.task = NULL;
            me.next = wp.idle;
            wp.idle = &me;
        }
        pthread_mutex_unlock(&wp.mu);
        if (!ri) {
            while (!atomic_load_explicit(&me.word, memory_order_acquire))
                syscall(SYS_futex, &me.word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
            ri = me.task; /* off the idle stack now: whoever woke us popped us */
            if (!ri) continue;
        }
        /* Cleared before the call: after it, ri may be freed (answered) or parked and
         * offloaded again by another thread (nb_req_offload asserts no double hand-off). */
        ri->on_worker = false;
        ri->offload_fn(&ri->pub);
    }
    return NULL;
}

void nb_worker_submit(nb_reqi *ri)
{
    ri->next_task = NULL;
    pthread_mutex_lock(&wp.mu);
    struct idle_worker *w = wp.idle;
    if (w) {
        wp.idle = w->next;
        pthread_mutex_unlock(&wp.mu);
        idle_wake(w, ri);
        return;
    }
    if (wp.tail)
        wp.tail->next_task = ri;
    else
        wp.head = ri;
    wp.tail = ri;
    if (wp.nthreads < wp.max) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 2u << 20);
        if (pthread_create(&wp.thr[wp.nthreads], &a, worker_main,
                           (void *)(intptr_t)wp.nthreads) == 0)
            wp.nthreads++;
        else
            nb_warn("http: cannot start a worker thread: %s", strerror(errno));
        pthread_attr_destroy(&a);
        NB_ASSERT(wp.nthreads > 0); /* without any worker the request would hang */
    }
    /* else every worker is busy: the first one done takes it from the queue */
    pthread_mutex_unlock(&wp.mu);
}

/* ---- init, start, shutdown ---- */

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x <= 0 || x > 1000000000) {
        nb_warn("http: ignoring %s=%s (want a positive number of milliseconds)", name, v);
        return def;
    }
    return (int)x;
}

int nb_http_init(int nloops, int nworkers, const nb_http_limits *limits)
{
    if (g_inited) return 0;
    nb_http_limits d = {
        .max_header_bytes = 64 * 1024,
        .max_headers = 200,
        .header_timeout_ms = 30000,
        .idle_timeout_ms = 120000,
        .body_timeout_ms = 20000, /* S3 answers RequestTimeout after ~20 s of silence */
        .max_conns = 20000,
    };
    if (limits) {
        if (limits->max_header_bytes) d.max_header_bytes = limits->max_header_bytes;
        if (limits->max_headers) d.max_headers = limits->max_headers;
        if (limits->header_timeout_ms > 0) d.header_timeout_ms = limits->header_timeout_ms;
        if (limits->idle_timeout_ms > 0) d.idle_timeout_ms = limits->idle_timeout_ms;
        if (limits->body_timeout_ms > 0) d.body_timeout_ms = limits->body_timeout_ms;
        if (limits->max_conns) d.max_conns = limits->max_conns;
    }
    d.header_timeout_ms = env_int("NIMBUS_HEADER_TIMEOUT_MS", d.header_timeout_ms);
    d.idle_timeout_ms = env_int("NIMBUS_IDLE_TIMEOUT_MS", d.idle_timeout_ms);
    d.body_timeout_ms = env_int("NIMBUS_BODY_TIMEOUT_MS", d.body_timeout_ms);
    nb_http_lim = d;
    /* http_parser has its own compile-time cap (80 KiB); keep it above ours so our 431
     * decides, and raise it when a bigger limit is configured. */
    if (d.max_header_bytes + 4096 > 80 * 1024)
        http_parser_set_max_header_size((uint32_t)(d.max_header_bytes + 4096));

    /* Writes to a socket the peer closed must fail with EPIPE, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    /* Thousands of keep-alive connections need descriptors: take the hard limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    if (nloops <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nloops = n > 0 ? (int)n : 1;
    }
    if (nloops > 256) nloops = 256;
    if (nworkers <= 0) nworkers = 64;
    g_nloops = nloops;
    g_loops = nb_xcalloc((size_t)nloops, sizeof(*g_loops));
    for (int i = 0; i < nloops; i++) g_loops[i] = loop_new(i);
    wp.max = nworkers;
    wp.stop = false;
    wp.thr = nb_xcalloc((size_t)nworkers, sizeof(pthread_t));
    atomic_store(&nb_http_stopping, false);
    g_inited = true;
    return 0;
}

int nb_http_start(void)
{
    if (!g_inited) nb_http_init(0, 0, NULL);
    if (g_started) return 0;
    for (int i = 0; i < g_nloops; i++) {
        if (pthread_create(&g_loops[i]->thr, NULL, loop_main, g_loops[i]) != 0) {
            nb_error("http: cannot start loop thread: %s", strerror(errno));
            return -1;
        }
        g_loops[i]->started = true;
    }
    g_started = true;
    return 0;
}

bool nb_http_is_stopping(void) { return atomic_load(&nb_http_stopping); }

void nb_http_shutdown(int timeout_ms)
{
    if (!g_inited) return;
    atomic_store(&nb_http_stopping, true);
    int64_t deadline = nb_mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
    if (g_started) {
        for (int i = 0; i < g_nloops; i++) {
            g_loops[i]->force_at = deadline;
            nb_loop_post(i, loop_begin_stop, g_loops[i]);
        }
        for (int i = 0; i < g_nloops; i++) pthread_join(g_loops[i]->thr, NULL);
    }
    /* Workers: let queued tasks run, then join; a handler stuck elsewhere is left behind. */
    pthread_mutex_lock(&wp.mu);
    wp.stop = true;
    struct idle_worker *idle = wp.idle;
    wp.idle = NULL;
    int nthr = wp.nthreads;
    pthread_mutex_unlock(&wp.mu);
    while (idle) {
        struct idle_worker *n = idle->next; /* read first: woken, it may leave */
        idle_wake(idle, NULL);
        idle = n;
    }
    bool clean = true;
    for (int i = 0; i < nthr; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 5;
        if (pthread_timedjoin_np(wp.thr[i], NULL, &ts) != 0) {
            nb_warn("http: worker-%d did not finish; leaving it", i);
            clean = false;
        }
    }
    pthread_mutex_lock(&g_lsn_mu);
    nb_lsn *lsn = g_listeners;
    g_listeners = NULL;
    pthread_mutex_unlock(&g_lsn_mu);
    while (lsn) {
        nb_lsn *n = lsn->next;
        for (int i = 0; i < lsn->nsocks; i++)
            if (lsn->socks[i].fd >= 0) close(lsn->socks[i].fd);
        if (lsn->ctx) SSL_CTX_free(lsn->ctx);
        free(lsn->socks);
        free(lsn);
        lsn = n;
    }
    bool loops_empty = true;
    for (int i = 0; i < g_nloops; i++)
        if (g_loops[i]->nconns || g_loops[i]->nclients) loops_empty = false;
    if (clean && loops_empty) {
        for (int i = 0; i < g_nloops; i++) loop_free(g_loops[i]);
        free(g_loops);
        free(wp.thr);
        g_loops = NULL;
        g_nloops = 0;
        wp.thr = NULL;
        wp.nthreads = 0;
        g_inited = false;
        g_started = false;
    }
}
